/* grm_score.c — GRM scoring on one device (grm_score.h). */
#include "grm_score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vk_check.h"

/* One record in flight. */
struct entry {
    struct vkg_grm_record rec; /* owned: the meta prompts need it after judging */
    struct vkg_grm_result res;
    char **texts;      /* [n_texts] judgments (for the meta prompts), NULL without MetaRM */
    uint32_t n_texts;  /* k (res is moved out before the entry is freed) */
    uint32_t *meta_of; /* [n_meta] sample index of meta prompt i */
    uint32_t n_meta;
    struct entry *prev, *next; /* the scorer's list of records in flight */
};

struct vkg_grm_scorer {
    struct vkg_grm_model judge, meta;
    bool has_meta;
    struct vkg_grm_scorer_opts o;
    struct vkg_grm_template def_tmpl; /* when o.tmpl is NULL */
    uint32_t ctx;                     /* judge context: prompt + judgment */
    struct vkg_sched *js, *ms;
    bool js_began, ms_began;
    struct vkg_grm_result *done; /* finished results, FIFO */
    uint32_t n_done, cap_done, head_done;
    uint32_t in_flight;
    uint64_t records, samples;
    struct entry *live; /* records queued in a scheduler */
};

static void entry_free(struct vkg_grm_scorer *sc, struct entry *e)
{
    if (!e) return;
    if (e->prev) e->prev->next = e->next;
    else if (sc->live == e) sc->live = e->next;
    if (e->next) e->next->prev = e->prev;
    vkg_grm_record_free(&e->rec);
    vkg_grm_result_free(&e->res);
    if (e->texts)
        for (uint32_t j = 0; j < e->n_texts; j++) free(e->texts[j]);
    free(e->texts);
    free(e->meta_of);
    free(e);
}

void vkg_grm_scorer_free(struct vkg_grm_scorer *sc)
{
    if (!sc) return;
    vkg_sched_free(sc->js);
    vkg_sched_free(sc->ms);
    while (sc->live) entry_free(sc, sc->live);
    for (uint32_t i = sc->head_done; i < sc->n_done; i++) vkg_grm_result_free(&sc->done[i]);
    free(sc->done);
    vkg_grm_template_free(&sc->def_tmpl);
    free(sc);
}

enum vkg_status vkg_grm_scorer_create(const struct vkg_grm_model *judge, const struct vkg_grm_model *meta,
                                      const struct vkg_grm_scorer_opts *opts, struct vkg_grm_scorer **out)
{
    *out = NULL;
    if (!opts->k) return vkg_error(VKG_ERR_INVALID_ARG, "GRM scorer: k = 0 samples");
    if (meta && meta->m->out_dim < 1) return vkg_error(VKG_ERR_INVALID_ARG, "GRM scorer: MetaRM has no output");
    struct vkg_grm_scorer *sc = calloc(1, sizeof *sc);
    if (!sc) return vkg_error(VKG_ERR_NOMEM, "GRM scorer");
    sc->judge = *judge;
    sc->o = *opts;
    enum vkg_status st = VKG_OK;
    if (!sc->o.tmpl) {
        st = vkg_grm_template_default(&sc->def_tmpl);
        sc->o.tmpl = &sc->def_tmpl;
    }
    struct vkg_sched_opts so = opts->sched;
    so.eos = judge->eos;
    so.n_eos = judge->n_eos;
    so.score_only = 0;
    if (so.max_running < opts->k) so.max_running = opts->k < 64 ? 64 : opts->k;
    if (!so.ctx) {
        uint64_t c = judge->m->cfg.max_position_embeddings;
        so.ctx = c && c < 32768 ? (uint32_t)c : 32768;
    }
    sc->ctx = so.ctx;
    if (st == VKG_OK) st = vkg_sched_create(judge->m, &so, &sc->js);
    if (st == VKG_OK && meta) {
        sc->meta = *meta;
        sc->has_meta = true;
        struct vkg_sched_opts mo = opts->meta_sched;
        mo.score_only = 1;
        mo.eos = NULL;
        mo.n_eos = 0;
        if (mo.max_running < opts->k) mo.max_running = opts->k < 64 ? 64 : opts->k;
        st = vkg_sched_create(meta->m, &mo, &sc->ms);
    }
    if (st != VKG_OK) {
        vkg_grm_scorer_free(sc);
        return st;
    }
    *out = sc;
    return VKG_OK;
}

static enum vkg_status push_done(struct vkg_grm_scorer *sc, struct vkg_grm_result *r)
{
    if (sc->head_done && sc->head_done == sc->n_done) {
        sc->head_done = 0;
        sc->n_done = 0;
    }
    if (sc->n_done == sc->cap_done) {
        uint32_t cap = sc->cap_done ? 2 * sc->cap_done : 16;
        struct vkg_grm_result *d = realloc(sc->done, cap * sizeof *d);
        if (!d) return vkg_error(VKG_ERR_NOMEM, "GRM scorer results");
        sc->done = d;
        sc->cap_done = cap;
    }
    sc->done[sc->n_done++] = *r;
    memset(r, 0, sizeof *r);
    return VKG_OK;
}

/* The record could not be judged (message): it becomes an error result. */
static enum vkg_status finish_error(struct vkg_grm_scorer *sc, struct entry *e, const char *message)
{
    struct vkg_grm_record er = {
        .index = e->rec.index, .line = e->rec.line, .id = e->rec.id, .label = -1, .error = (char *)message
    };
    struct vkg_grm_result r;
    enum vkg_status st = vkg_grm_result_init(&r, &er, 1, sc->o.seed);
    if (st == VKG_OK) st = push_done(sc, &r);
    entry_free(sc, e);
    return st;
}

static enum vkg_status finish(struct vkg_grm_scorer *sc, struct entry *e)
{
    enum vkg_status st = vkg_grm_result_vote(&e->res, sc->has_meta, sc->o.meta_k);
    if (st == VKG_OK) st = push_done(sc, &e->res);
    entry_free(sc, e);
    return st;
}

enum vkg_status vkg_grm_sample_prompt(const struct vkg_chat_template *ct, bool enable_thinking,
                                      const struct vkg_grm_template *tmpl, const struct vkg_grm_record *rec,
                                      const struct vkg_grm_result *res, uint32_t j, char **out)
{
    return vkg_grm_judge_prompt(ct, enable_thinking, tmpl, rec, res->samples[j].perm, out, NULL);
}

static void free_prompts(int32_t **ids, uint32_t n)
{
    if (!ids) return;
    for (uint32_t j = 0; j < n; j++) free(ids[j]);
    free(ids);
}

enum vkg_status vkg_grm_scorer_add(struct vkg_grm_scorer *sc, struct vkg_grm_record *rec)
{
    struct entry *e = calloc(1, sizeof *e);
    if (!e) return vkg_error(VKG_ERR_NOMEM, "GRM scorer record");
    e->rec = *rec;
    memset(rec, 0, sizeof *rec);
    e->next = sc->live;
    if (sc->live) sc->live->prev = e;
    sc->live = e;
    sc->in_flight++;
    enum vkg_status st = vkg_grm_result_init(&e->res, &e->rec, sc->o.k, sc->o.seed);
    if (st != VKG_OK || e->rec.error) {
        if (st == VKG_OK) st = push_done(sc, &e->res);
        entry_free(sc, e);
        return st;
    }
    uint32_t k = sc->o.k;
    int32_t **ids = calloc(k, sizeof *ids);
    uint32_t *n = calloc(k, sizeof *n);
    if (!ids || !n) st = vkg_error(VKG_ERR_NOMEM, "GRM scorer prompts");
    uint32_t longest = 0;
    for (uint32_t j = 0; j < k && st == VKG_OK; j++) {
        char *text = NULL;
        size_t len = 0;
        st = vkg_grm_sample_prompt(sc->judge.ct, sc->o.enable_thinking, sc->o.tmpl, &e->rec, &e->res, j, &text);
        if (st == VKG_OK)
            st = vkg_tokenizer_encode(sc->judge.tok, text, strlen(text), VKG_TOK_PARSE_SPECIAL, &ids[j], &len);
        free(text);
        if (st == VKG_OK && (len == 0 || len > UINT32_MAX)) st = vkg_error(VKG_ERR_INVALID_ARG, "empty judge prompt");
        if (st == VKG_OK) n[j] = (uint32_t)len;
        if (st == VKG_OK && n[j] > longest) longest = n[j];
    }
    if (st != VKG_OK) {
        free_prompts(ids, k);
        free(n);
        if (st == VKG_ERR_NOMEM) {
            entry_free(sc, e);
            return st;
        }
        char msg[512];
        snprintf(msg, sizeof msg, "judge prompt: %s: %s", vkg_status_message(st), vkg_error_detail());
        return finish_error(sc, e, msg);
    }
    if (longest >= sc->ctx) {
        free_prompts(ids, k);
        free(n);
        char msg[256];
        snprintf(msg, sizeof msg, "judge prompt of %u tokens leaves no room in the context of %u tokens (-c)", longest,
                 sc->ctx);
        return finish_error(sc, e, msg);
    }
    uint32_t room = sc->ctx - longest;
    struct vkg_sched_group g = {
        .user = (uint64_t)(uintptr_t)e,
        .k = k,
        .prompts = (const int32_t *const *)ids,
        .n_prompt = n,
        .sampler = { .temperature = sc->o.temperature,
                     .top_p = sc->o.top_p,
                     .seed = vkg_grm_result_sample_seed(&e->res) },
        .max_tokens = sc->o.max_new_tokens < room ? sc->o.max_new_tokens : room,
    };
    if (!g.max_tokens) g.max_tokens = 1;
    st = vkg_sched_add(sc->js, &g);
    free_prompts(ids, k);
    free(n);
    if (st != VKG_OK) entry_free(sc, e);
    return st;
}

uint32_t vkg_grm_scorer_in_flight(const struct vkg_grm_scorer *sc) { return sc->in_flight; }

bool vkg_grm_scorer_idle(const struct vkg_grm_scorer *sc)
{
    return vkg_sched_idle(sc->js) && (!sc->ms || vkg_sched_idle(sc->ms));
}

enum vkg_status vkg_grm_scorer_step_begin(struct vkg_grm_scorer *sc)
{
    sc->js_began = !vkg_sched_idle(sc->js);
    sc->ms_began = sc->ms && !vkg_sched_idle(sc->ms);
    if (sc->js_began) VKG_TRY(vkg_sched_step_begin(sc->js));
    if (sc->ms_began) VKG_TRY(vkg_sched_step_begin(sc->ms));
    return VKG_OK;
}

/* The k judgments of a record are back: parse them, then MetaRM or vote. */
static enum vkg_status judged(struct vkg_grm_scorer *sc, struct vkg_sched_done *d)
{
    struct entry *e = (struct entry *)(uintptr_t)d->user;
    if (d->status != VKG_OK) return finish_error(sc, e, d->error ? d->error : vkg_status_message(d->status));
    uint32_t k = e->res.k;
    if (sc->has_meta && !(e->texts = calloc(k, sizeof *e->texts))) return vkg_error(VKG_ERR_NOMEM, "GRM judgments");
    if (sc->has_meta) e->n_texts = k;
    for (uint32_t j = 0; j < k; j++) {
        const struct vkg_gen_sample *smp = &d->samples[j];
        char *text = NULL;
        VKG_TRY(vkg_tokenizer_decode(sc->judge.tok, smp->tokens, smp->n, 0, &text));
        enum vkg_status st = vkg_grm_result_set_judgment(&e->res, j, text, strlen(text), smp->n,
                                                         smp->finish == VKG_FINISH_LENGTH, sc->o.keep_text);
        if (sc->has_meta && st == VKG_OK) e->texts[j] = text;
        else free(text);
        VKG_TRY(st);
        sc->samples++;
    }
    if (!sc->has_meta) return finish(sc, e);
    if (!(e->meta_of = calloc(k, sizeof *e->meta_of))) return vkg_error(VKG_ERR_NOMEM, "GRM meta prompts");
    for (uint32_t j = 0; j < k; j++)
        if (e->res.samples[j].reason == VKG_GRM_VALID) e->meta_of[e->n_meta++] = j;
    if (!e->n_meta) return finish(sc, e);
    int32_t **ids = calloc(e->n_meta, sizeof *ids);
    uint32_t *n = calloc(e->n_meta, sizeof *n);
    enum vkg_status st = ids && n ? VKG_OK : vkg_error(VKG_ERR_NOMEM, "GRM meta prompts");
    for (uint32_t i = 0; i < e->n_meta && st == VKG_OK; i++) {
        uint32_t j = e->meta_of[i];
        char *text = NULL;
        size_t len = 0;
        st = vkg_grm_meta_prompt(sc->meta.ct, &e->rec, e->res.samples[j].perm, e->texts[j], &text);
        if (st == VKG_OK)
            st = vkg_tokenizer_encode(sc->meta.tok, text, strlen(text), VKG_TOK_PARSE_SPECIAL, &ids[i], &len);
        free(text);
        if (st == VKG_OK && (len == 0 || len > UINT32_MAX)) st = vkg_error(VKG_ERR_INVALID_ARG, "empty MetaRM prompt");
        if (st == VKG_OK) n[i] = (uint32_t)len;
    }
    if (st == VKG_OK) {
        struct vkg_sched_group g = { .user = (uint64_t)(uintptr_t)e,
                                     .k = e->n_meta,
                                     .prompts = (const int32_t *const *)ids,
                                     .n_prompt = n,
                                     .sampler = vkg_sampler_greedy(),
                                     .max_tokens = 1 };
        st = vkg_sched_add(sc->ms, &g);
    }
    free_prompts(ids, e->n_meta);
    free(n);
    if (st == VKG_ERR_NOMEM) return st;
    if (st != VKG_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "MetaRM prompt: %s: %s", vkg_status_message(st), vkg_error_detail());
        return finish_error(sc, e, msg);
    }
    return VKG_OK;
}

/* The MetaRM scores of a record's valid samples are back: vote. */
static enum vkg_status meta_scored(struct vkg_grm_scorer *sc, struct vkg_sched_done *d)
{
    struct entry *e = (struct entry *)(uintptr_t)d->user;
    if (d->status != VKG_OK) return finish_error(sc, e, d->error ? d->error : vkg_status_message(d->status));
    uint32_t od = sc->meta.m->out_dim;
    for (uint32_t i = 0; i < e->n_meta; i++)
        vkg_grm_result_set_meta(&e->res, e->meta_of[i], d->logits[(uint64_t)i * od]);
    return finish(sc, e);
}

enum vkg_status vkg_grm_scorer_step_end(struct vkg_grm_scorer *sc)
{
    enum vkg_status st = VKG_OK;
    if (sc->js_began) st = vkg_sched_step_end(sc->js);
    if (sc->ms_began) {
        enum vkg_status s2 = vkg_sched_step_end(sc->ms);
        if (st == VKG_OK) st = s2;
    }
    sc->js_began = false;
    sc->ms_began = false;
    VKG_TRY(st);
    struct vkg_sched_done d;
    while (st == VKG_OK && vkg_sched_poll(sc->js, &d)) {
        st = judged(sc, &d);
        vkg_sched_done_free(&d);
    }
    while (st == VKG_OK && sc->ms && vkg_sched_poll(sc->ms, &d)) {
        st = meta_scored(sc, &d);
        vkg_sched_done_free(&d);
    }
    return st;
}

enum vkg_status vkg_grm_scorer_step(struct vkg_grm_scorer *sc)
{
    VKG_TRY(vkg_grm_scorer_step_begin(sc));
    return vkg_grm_scorer_step_end(sc);
}

bool vkg_grm_scorer_poll(struct vkg_grm_scorer *sc, struct vkg_grm_result *out)
{
    if (sc->head_done == sc->n_done) return false;
    *out = sc->done[sc->head_done++];
    sc->in_flight--;
    sc->records++;
    return true;
}

void vkg_grm_scorer_stats(const struct vkg_grm_scorer *sc, struct vkg_grm_scorer_stats *out)
{
    memset(out, 0, sizeof *out);
    out->records = sc->records;
    out->samples = sc->samples;
    out->judge = *vkg_sched_stats(sc->js);
    if (sc->ms) out->meta = *vkg_sched_stats(sc->ms);
}
