/* schedule.c — continuous batching over a paged KV cache (see schedule.h).
 *
 * State of one group (g):
 *   prompt[d], plen[d]     its distinct prompts (samples with equal prompts share one)
 *   root                   KV sequence of the prefix all prompts share, positions [0, P)
 *                          (forked from the prefix cache where they agree); freed once
 *                          the nodes are forked
 *   node[d]                fork of root; prefills [P, plen[d] - 1) of prompt d; freed once
 *                          its samples are forked
 *   smp[j]                 fork of node[d(j)]; gen[0] is prompt d's last token, gen[1..] the
 *                          sampled ones; a running sample feeds gen[n_gen] at position
 *                          plen[d] - 1 + n_gen. A paused sample restarts alone: a fork of the
 *                          prefix cache (or a new sequence) that prefills the rest of its
 *                          prompt and its sampled tokens again.
 * Every prefill (root, node, a paused sample catching up) is a `struct pf`: positions
 * [from, to) of a token array into a KV sequence. A step = the next token of every
 * running sample + prefill chunks, oldest group first, within max_step_tokens. */
#include "schedule.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_sample.h"
#include "vk_check.h"

enum smp_state { S_WAIT, S_PREFILL, S_RUN, S_PAUSED, S_DONE };

struct pf {
    int32_t seq;        /* KV sequence, -1 when none */
    const int32_t *tok; /* ids: position p is tok[p - base] */
    uint32_t base;
    uint32_t from, to;   /* positions to prefill */
    uint32_t sent, done; /* positions handed to the current step / completed */
    int catchup;         /* a paused sample's tokens, prefilled again */
};

struct smp {
    uint32_t d; /* its distinct prompt */
    enum smp_state state;
    int32_t *gen; /* [0] last prompt token, [1..n_gen] sampled tokens */
    uint32_t n_gen, cap, limit;
    struct pf own; /* its KV sequence; a restart's catch-up prefill */
    int32_t *full; /* a restart's tokens: prompt then sampled */
    enum vkg_finish finish;
    float *logits; /* score_only: [out_dim] of the last prompt token */
};

struct grp {
    struct grp *next;
    uint64_t user, order;
    uint32_t k, n_dist, P, max_tokens;
    struct vkg_sampler sampler;
    int32_t **prompt; /* [n_dist] */
    uint32_t *plen;   /* [n_dist] */
    struct pf root;
    struct pf *node;      /* [n_dist] */
    uint8_t *node_forked; /* [n_dist]: its samples were forked (and the node freed) */
    int root_forked;      /* the nodes were forked (and the root freed) */
    struct smp *smp;      /* [k] */
    uint32_t n_done;
    enum vkg_status status;
    char *error;
};

struct step_pf {
    struct pf *pf;
    uint32_t n;
};

struct vkg_sched {
    struct vkg_model *m;
    struct vkg_sched_opts o;
    int32_t *eos;
    struct vkg_kv_cache *kv;
    uint32_t ps, max_seqs;
    struct vkg_cmd *fork_cmd;
    int fork_open;
    struct vkg_buffer *params, *work, *tokens, *probs;
    /* the step being built / in flight */
    int32_t *ids, *seqv, *pos;
    uint8_t *want;
    struct smp **rows;
    struct grp **row_grp;
    struct step_pf *spf;
    uint32_t n_tok, n_rows, n_spf, in_flight;
    /* groups: waiting for admission (FIFO) and admitted (admission order) */
    struct grp *pending, *pending_tail, *active;
    struct vkg_sched_done *done;
    uint32_t n_done, cap_done, head_done;
    /* cross-group prefix cache */
    int32_t cache_seq;
    int32_t *cache_tok;
    uint32_t cache_len;
    uint64_t order;
    uint32_t n_pending;
    struct vkg_sched_stats st;
};

static uint32_t pages(const struct vkg_sched *s, uint64_t n) { return (uint32_t)((n + s->ps - 1) / s->ps); }
static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* ---- set-up ---------------------------------------------------------------- */

static uint32_t default_kv_tokens(const struct vkg_sched *s, const struct vkg_kv_config *kc)
{
    const struct vkg_device_info *di = &s->m->dev->info;
    uint64_t dmax = kc->dk > kc->dv ? kc->dk : kc->dv;
    uint64_t bind = di->max_storage_buffer_range / ((uint64_t)kc->n_kv_heads * dmax * 4);
    uint64_t heap = 0;
    for (uint32_t i = 0; i < di->n_heaps; i++)
        if (di->heap_device_local[i] && di->heap_size[i] > heap) heap = di->heap_size[i];
    uint64_t per_tok = (uint64_t)kc->n_layers * vkg_kv_token_elems(kc) * 4;
    uint64_t mem = heap / 4 / per_tok;
    uint64_t want = (uint64_t)s->o.max_running * s->o.ctx;
    uint64_t t = bind < mem ? bind : mem;
    if (want < t) t = want;
    t -= t % s->ps;
    return (uint32_t)(t > UINT32_MAX ? UINT32_MAX - s->ps : t);
}

static enum vkg_status sched_alloc(struct vkg_sched *s)
{
    struct vkg_device *dev = s->m->dev;
    uint32_t V = s->m->out_dim, R = s->o.max_running, T = s->o.max_step_tokens;
    VKG_TRY(vkg_cmd_create(dev, &s->fork_cmd));
    VKG_TRY(vkg_buffer_create(dev, (uint64_t)R * sizeof(struct vkg_sample_params), VKG_MEM_HOST, "sched params",
                              &s->params));
    VKG_TRY(
        vkg_buffer_create(dev, vkg_sample_workspace_bytes(R, V), VKG_MEM_DEVICE, "sched sample workspace", &s->work));
    VKG_TRY(vkg_buffer_create(dev, (uint64_t)R * 4, VKG_MEM_HOST, "sched tokens", &s->tokens));
    VKG_TRY(vkg_buffer_create(dev, (uint64_t)R * 4, VKG_MEM_HOST, "sched probs", &s->probs));
    s->ids = malloc((size_t)T * 4);
    s->seqv = malloc((size_t)T * 4);
    s->pos = malloc((size_t)T * 4);
    s->want = malloc(T);
    s->rows = malloc((size_t)R * sizeof *s->rows);
    s->row_grp = malloc((size_t)R * sizeof *s->row_grp);
    s->spf = malloc((size_t)T * sizeof *s->spf);
    if (!s->ids || !s->seqv || !s->pos || !s->want || !s->rows || !s->row_grp || !s->spf)
        return vkg_error(VKG_ERR_NOMEM, "scheduler step arrays");
    return VKG_OK;
}

enum vkg_status vkg_sched_create(struct vkg_model *m, const struct vkg_sched_opts *opts, struct vkg_sched **out)
{
    *out = NULL;
    struct vkg_sched *s = calloc(1, sizeof *s);
    if (!s) return vkg_error(VKG_ERR_NOMEM, "scheduler");
    s->m = m;
    s->o = *opts;
    s->cache_seq = -1;
    if (!s->o.max_running) s->o.max_running = 64;
    if (!s->o.max_step_tokens) s->o.max_step_tokens = 512;
    if (s->o.max_step_tokens < s->o.max_running + 16) s->o.max_step_tokens = s->o.max_running + 16;
    if (!s->o.ctx) {
        uint64_t c = m->cfg.max_position_embeddings;
        s->o.ctx = c && c < 32768 ? (uint32_t)c : 32768;
    }
    s->eos = malloc((s->o.n_eos + 1) * sizeof *s->eos);
    enum vkg_status st = s->eos ? VKG_OK : vkg_error(VKG_ERR_NOMEM, "scheduler");
    if (st == VKG_OK && s->o.n_eos) memcpy(s->eos, opts->eos, s->o.n_eos * sizeof *s->eos);
    s->o.eos = s->eos;
    s->max_seqs = 4 * s->o.max_running + 16;
    struct vkg_kv_config kc = vkg_model_kv_config(m, s->max_seqs, s->o.ctx);
    s->ps = kc.page_size;
    if (!s->o.kv_tokens) s->o.kv_tokens = default_kv_tokens(s, &kc);
    kc.max_pages = pages(s, s->o.kv_tokens);
    s->st.kv_tokens = kc.max_pages * s->ps;
    if (st == VKG_OK && kc.max_pages < 4)
        st = vkg_error(VKG_ERR_LIMIT, "scheduler: a KV pool of %u tokens is too small", s->o.kv_tokens);
    if (st == VKG_OK) st = vkg_kv_create(m->dev, &kc, &s->kv);
    if (st == VKG_OK) st = sched_alloc(s);
    if (st != VKG_OK) {
        vkg_sched_free(s);
        return st;
    }
    *out = s;
    return VKG_OK;
}

static void grp_free(struct grp *g)
{
    if (!g) return;
    for (uint32_t d = 0; d < g->n_dist; d++) free(g->prompt[d]);
    for (uint32_t j = 0; j < g->k && g->smp; j++) free(g->smp[j].gen), free(g->smp[j].full), free(g->smp[j].logits);
    free(g->prompt);
    free(g->plen);
    free(g->node);
    free(g->node_forked);
    free(g->smp);
    free(g->error);
    free(g);
}

void vkg_sched_free(struct vkg_sched *s)
{
    if (!s) return;
    if (s->fork_cmd) vkg_cmd_wait(s->fork_cmd);
    if (s->m && s->m->cmd) vkg_cmd_wait(s->m->cmd);
    for (struct grp *g = s->pending, *n; g; g = n) n = g->next, grp_free(g);
    for (struct grp *g = s->active, *n; g; g = n) n = g->next, grp_free(g);
    for (uint32_t i = s->head_done; i < s->n_done; i++) vkg_sched_done_free(&s->done[i]);
    free(s->done);
    vkg_cmd_free(s->fork_cmd);
    vkg_buffer_free(s->params);
    vkg_buffer_free(s->work);
    vkg_buffer_free(s->tokens);
    vkg_buffer_free(s->probs);
    vkg_kv_free(s->kv);
    free(s->ids);
    free(s->seqv);
    free(s->pos);
    free(s->want);
    free(s->rows);
    free(s->row_grp);
    free(s->spf);
    free(s->eos);
    free(s->cache_tok);
    free(s);
}

/* ---- groups in and out ------------------------------------------------------ */

static enum vkg_status push_done(struct vkg_sched *s, struct grp *g)
{
    if (s->n_done == s->cap_done) {
        if (s->head_done) { /* compact */
            memmove(s->done, s->done + s->head_done, (s->n_done - s->head_done) * sizeof *s->done);
            s->n_done -= s->head_done;
            s->head_done = 0;
        }
        if (s->n_done == s->cap_done) {
            uint32_t cap = s->cap_done ? 2 * s->cap_done : 16;
            struct vkg_sched_done *nd = realloc(s->done, cap * sizeof *nd);
            if (!nd) return vkg_error(VKG_ERR_NOMEM, "scheduler results");
            s->done = nd;
            s->cap_done = cap;
        }
    }
    struct vkg_sched_done *d = &s->done[s->n_done];
    *d = (struct vkg_sched_done){ .user = g->user, .k = g->k, .status = g->status, .error = g->error };
    g->error = NULL;
    d->samples = calloc(g->k, sizeof *d->samples);
    if (!d->samples) return vkg_error(VKG_ERR_NOMEM, "scheduler results");
    for (uint32_t j = 0; g->status == VKG_OK && j < g->k; j++) {
        struct smp *p = &g->smp[j];
        d->samples[j].finish = p->finish;
        d->samples[j].n = p->n_gen;
        d->samples[j].tokens = malloc((p->n_gen + 1) * sizeof(int32_t));
        if (!d->samples[j].tokens) return vkg_error(VKG_ERR_NOMEM, "scheduler results");
        if (p->n_gen) memcpy(d->samples[j].tokens, p->gen + 1, p->n_gen * sizeof(int32_t));
    }
    if (s->o.score_only && g->status == VKG_OK) {
        uint64_t row = s->m->out_dim;
        if (!(d->logits = malloc(g->k * row * sizeof(float)))) return vkg_error(VKG_ERR_NOMEM, "scheduler results");
        for (uint32_t j = 0; j < g->k; j++) memcpy(d->logits + j * row, g->smp[j].logits, row * sizeof(float));
    }
    s->n_done++;
    return VKG_OK;
}

/* The group cannot run: it comes back from vkg_sched_poll with VKG_ERR_LIMIT. */
static enum vkg_status fail_group(struct vkg_sched *s, struct grp *g, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum vkg_status fail_group(struct vkg_sched *s, struct grp *g, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    g->status = VKG_ERR_LIMIT;
    g->error = strdup(msg);
    enum vkg_status st = push_done(s, g);
    grp_free(g);
    return st;
}

/* Distinct prompts, their shared prefix P and the samples' token buffers. */
static enum vkg_status grp_build(struct vkg_sched *s, struct grp *g, const struct vkg_sched_group *in)
{
    g->prompt = calloc(in->k, sizeof *g->prompt);
    g->plen = calloc(in->k, sizeof *g->plen);
    g->smp = calloc(in->k, sizeof *g->smp);
    if (!g->prompt || !g->plen || !g->smp) return vkg_error(VKG_ERR_NOMEM, "scheduler group");
    uint32_t min_len = UINT32_MAX;
    for (uint32_t j = 0; j < in->k; j++) {
        const int32_t *p = in->prompts[j];
        uint32_t n = in->n_prompt[j], d = 0;
        while (d < g->n_dist && !(g->plen[d] == n && memcmp(g->prompt[d], p, n * 4) == 0)) d++;
        if (d == g->n_dist) {
            if (!(g->prompt[d] = malloc((size_t)n * 4))) return vkg_error(VKG_ERR_NOMEM, "scheduler prompt");
            memcpy(g->prompt[d], p, (size_t)n * 4);
            g->plen[d] = n;
            g->n_dist++;
        }
        g->smp[j].d = d;
        if (n < min_len) min_len = n;
    }
    /* the longest common prefix, leaving every prompt at least its last token */
    uint32_t P = min_len - 1;
    for (uint32_t d = 1; d < g->n_dist; d++) {
        uint32_t i = 0;
        while (i < P && g->prompt[d][i] == g->prompt[0][i]) i++;
        P = i;
    }
    g->P = P;
    g->node = calloc(g->n_dist, sizeof *g->node);
    g->node_forked = calloc(g->n_dist, 1);
    if (!g->node || !g->node_forked) return vkg_error(VKG_ERR_NOMEM, "scheduler group");
    for (uint32_t j = 0; j < in->k; j++) {
        struct smp *p = &g->smp[j];
        uint32_t n = g->plen[p->d];
        p->limit = min_u32(in->max_tokens, s->o.ctx > n ? s->o.ctx - n : 0);
        p->cap = 16;
        if (!(p->gen = malloc(p->cap * 4))) return vkg_error(VKG_ERR_NOMEM, "scheduler sample");
        p->gen[0] = g->prompt[p->d][n - 1];
        s->st.prompt_tokens += n;
    }
    return VKG_OK;
}

enum vkg_status vkg_sched_add(struct vkg_sched *s, const struct vkg_sched_group *in)
{
    if (!in->k || (!in->max_tokens && !s->o.score_only))
        return vkg_error(VKG_ERR_INVALID_ARG, "scheduler: a group needs k >= 1 samples and max_tokens >= 1");
    if (in->k > s->o.max_running)
        return vkg_error(VKG_ERR_INVALID_ARG, "scheduler: a group of %u samples exceeds %u running samples", in->k,
                         s->o.max_running);
    for (uint32_t j = 0; j < in->k; j++)
        if (!in->n_prompt[j]) return vkg_error(VKG_ERR_INVALID_ARG, "scheduler: sample %u has an empty prompt", j);
    VKG_TRY(vkg_sampler_check(&in->sampler));
    struct grp *g = calloc(1, sizeof *g);
    if (!g) return vkg_error(VKG_ERR_NOMEM, "scheduler group");
    g->user = in->user;
    g->k = in->k;
    g->sampler = in->sampler;
    g->max_tokens = s->o.score_only ? 1 : in->max_tokens;
    enum vkg_status st = grp_build(s, g, in);
    if (st != VKG_OK) {
        grp_free(g);
        return st;
    }
    uint32_t longest = 0;
    for (uint32_t d = 0; d < g->n_dist; d++)
        if (g->plen[d] > longest) longest = g->plen[d];
    if (longest >= s->o.ctx)
        return fail_group(s, g, "a prompt of %u tokens does not fit the context of %u tokens (-c)", longest, s->o.ctx);
    /* one sample alone must fit the pool: its prompt, its tokens, a partial page copy */
    uint64_t need = pages(s, (uint64_t)longest + min_u32(g->max_tokens, s->o.ctx - longest)) + 2;
    if (need > s->kv->cfg.max_pages)
        return fail_group(s, g,
                          "one sample needs %llu KV pages of %u tokens, the pool has %u (raise the KV pool or "
                          "lower -c / --max-new-tokens)",
                          (unsigned long long)need, s->ps, s->kv->cfg.max_pages);
    if (s->pending_tail) s->pending_tail->next = g;
    else s->pending = g;
    s->pending_tail = g;
    s->n_pending++;
    return VKG_OK;
}

uint32_t vkg_sched_pending(const struct vkg_sched *s) { return s->n_pending; }
int vkg_sched_idle(const struct vkg_sched *s) { return s->n_pending == 0 && !s->in_flight; }
const struct vkg_sched_stats *vkg_sched_stats(const struct vkg_sched *s) { return &s->st; }

uint32_t vkg_sched_running(const struct vkg_sched *s)
{
    uint32_t n = 0;
    for (const struct grp *g = s->active; g; g = g->next)
        for (uint32_t j = 0; j < g->k; j++) n += g->smp[j].state == S_RUN;
    return n;
}

int vkg_sched_poll(struct vkg_sched *s, struct vkg_sched_done *out)
{
    if (s->head_done == s->n_done) return 0;
    *out = s->done[s->head_done++];
    if (s->head_done == s->n_done) s->head_done = s->n_done = 0;
    return 1;
}

void vkg_sched_done_free(struct vkg_sched_done *d)
{
    if (d->samples) vkg_gen_results_free(d->samples, d->k);
    free(d->samples);
    free(d->error);
    free(d->logits);
    d->samples = NULL;
    d->error = NULL;
    d->logits = NULL;
}

/* ---- KV bookkeeping --------------------------------------------------------- */

static uint32_t free_slots(const struct vkg_sched *s)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->kv->cfg.max_seqs; i++) n += !s->kv->seqs[i].live;
    return n;
}

static void seq_drop(struct vkg_sched *s, struct pf *p)
{
    if (p->seq >= 0) vkg_kv_seq_free(s->kv, (uint32_t)p->seq);
    p->seq = -1;
}

/* A fork recorded into the step's fork command buffer (opened on first use). */
static enum vkg_status fork_into(struct vkg_sched *s, int32_t parent, uint64_t len, int32_t *child)
{
    if (!s->fork_open) {
        VKG_TRY(vkg_cmd_begin(s->fork_cmd));
        s->fork_open = 1;
    }
    uint32_t c;
    VKG_TRY(vkg_kv_seq_fork_len(s->kv, s->fork_cmd, (uint32_t)parent, len, &c));
    /* barrier rule (ops.h): the fork's page copy is ordered before whatever comes next
     * in this buffer (a later fork may reuse a page this one read) */
    vkg_cmd_barrier(s->fork_cmd);
    *child = (int32_t)c;
    return VKG_OK;
}

static void pf_set(struct pf *p, int32_t seq, const int32_t *tok, uint32_t base, uint32_t from, uint32_t to)
{
    *p = (struct pf){ .seq = seq, .tok = tok, .base = base, .from = from, .to = to, .sent = from, .done = from };
}

/* Longest prefix of prompt d (its last token excluded) that the cache holds. */
static uint32_t cached_prefix(const struct vkg_sched *s, const struct grp *g, uint32_t d, uint32_t upto)
{
    if (s->cache_seq < 0) return 0;
    const int32_t *a = s->cache_tok, *b = g->prompt[d];
    uint32_t n = s->cache_len < upto ? s->cache_len : upto, i = 0;
    while (i < n && a[i] == b[i]) i++;
    return i;
}

/* Pages a paused sample needs to restart and take one more token. */
static uint32_t restart_pages(const struct vkg_sched *s, const struct grp *g, const struct smp *p)
{
    uint32_t at = g->plen[p->d] - 1, C = cached_prefix(s, g, p->d, at);
    return pages(s, (uint64_t)at + p->n_gen + 1) - C / s->ps + 1;
}

/* A new sample forks its node (the node ends at the prompt's last token). */
static enum vkg_status start_sample(struct vkg_sched *s, struct grp *g, struct smp *p)
{
    uint32_t at = g->plen[p->d] - 1;
    int32_t seq;
    VKG_TRY(fork_into(s, g->node[p->d].seq, at, &seq));
    pf_set(&p->own, seq, p->gen, at, at, at);
    p->state = S_RUN;
    return VKG_OK;
}

/* A paused sample starts over: the cached prefix forked, the rest of its prompt
 * and its sampled tokens prefilled again (the same positions, the same tokens). */
static enum vkg_status restart_sample(struct vkg_sched *s, struct grp *g, struct smp *p)
{
    uint32_t at = g->plen[p->d] - 1, C = cached_prefix(s, g, p->d, at), n = at + p->n_gen;
    free(p->full);
    if (!(p->full = malloc(((size_t)n + 1) * 4))) return vkg_error(VKG_ERR_NOMEM, "scheduler restart");
    memcpy(p->full, g->prompt[p->d], (size_t)at * 4);
    memcpy(p->full + at, p->gen, ((size_t)p->n_gen + 1) * 4);
    int32_t seq;
    if (C > 0) {
        VKG_TRY(fork_into(s, s->cache_seq, C, &seq));
        s->st.cached_tokens += C;
    } else {
        uint32_t q;
        VKG_TRY(vkg_kv_seq_add(s->kv, &q));
        seq = (int32_t)q;
    }
    pf_set(&p->own, seq, p->full, 0, C, n);
    p->own.catchup = 1;
    p->state = C == n ? S_RUN : S_PREFILL;
    return VKG_OK;
}

static void pause_sample(struct vkg_sched *s, struct smp *p)
{
    seq_drop(s, &p->own);
    p->state = S_PAUSED;
    s->st.pauses++;
}

static void remove_active(struct vkg_sched *s, struct grp *g)
{
    for (struct grp **pp = &s->active; *pp; pp = &(*pp)->next)
        if (*pp == g) {
            *pp = g->next;
            g->next = NULL;
            return;
        }
}

/* Frees every KV sequence of the group: its samples pause (waiting ones too: they
 * restart alone from the prefix cache, like paused ones) and its tree goes. */
static void evict_group(struct vkg_sched *s, struct grp *g)
{
    for (uint32_t j = 0; j < g->k; j++) {
        struct smp *p = &g->smp[j];
        if (p->state == S_RUN || p->state == S_PREFILL || p->state == S_WAIT) pause_sample(s, p);
    }
    for (uint32_t d = 0; d < g->n_dist; d++) {
        seq_drop(s, &g->node[d]);
        g->node_forked[d] = 1;
    }
    seq_drop(s, &g->root);
    g->root_forked = 1;
}

static struct grp *newest_active(struct vkg_sched *s)
{
    struct grp *last = s->active;
    while (last && last->next) last = last->next;
    return last;
}

/* The group admitted just before v (NULL for the oldest). */
static struct grp *older(struct vkg_sched *s, struct grp *v)
{
    struct grp *p = s->active;
    if (p == v) return NULL;
    while (p && p->next != v) p = p->next;
    return p;
}

/* Frees pages for sample (g, j) by pausing lower-priority samples: newer groups
 * first (then the groups themselves), then g's samples after j. 1 if `need`
 * pages are free now. */
static int make_room(struct vkg_sched *s, struct grp *g, uint32_t j, uint32_t need)
{
    for (struct grp *v = newest_active(s); s->kv->n_free < need && v && v != g; v = older(s, v)) {
        for (uint32_t i = v->k; i-- > 0 && s->kv->n_free < need;)
            if (v->smp[i].state == S_RUN || v->smp[i].state == S_PREFILL) pause_sample(s, &v->smp[i]);
        if (s->kv->n_free < need) evict_group(s, v);
    }
    for (uint32_t i = g->k; i-- > j + 1 && s->kv->n_free < need;)
        if (g->smp[i].state == S_RUN || g->smp[i].state == S_PREFILL) pause_sample(s, &g->smp[i]);
    return s->kv->n_free >= need;
}

/* ---- admission and forks ----------------------------------------------------- */

static uint32_t lcp(const int32_t *a, const int32_t *b, uint32_t n)
{
    uint32_t i = 0;
    while (i < n && a[i] == b[i]) i++;
    return i;
}

static uint32_t live_samples(const struct vkg_sched *s, enum smp_state only, int any)
{
    uint32_t n = 0;
    for (const struct grp *g = s->active; g; g = g->next)
        for (uint32_t j = 0; j < g->k; j++) n += any ? g->smp[j].state != S_DONE : g->smp[j].state == only;
    return n;
}

/* Pages a group's prompt tree and first tokens take at most. */
static uint32_t group_pages(const struct vkg_sched *s, const struct grp *g)
{
    uint32_t n = pages(s, g->P) + 1;
    for (uint32_t d = 0; d < g->n_dist; d++) n += pages(s, g->plen[d]) - g->P / s->ps + 1;
    return n + 2 * g->k;
}

static void insert_active(struct vkg_sched *s, struct grp *g)
{
    struct grp **pp = &s->active;
    while (*pp && (*pp)->order < g->order) pp = &(*pp)->next;
    g->next = *pp;
    *pp = g;
}

static void drop_cache(struct vkg_sched *s)
{
    if (s->cache_seq >= 0) vkg_kv_seq_free(s->kv, (uint32_t)s->cache_seq);
    s->cache_seq = -1;
    s->cache_len = 0;
}

static enum vkg_status admit(struct vkg_sched *s, struct grp *g)
{
    uint32_t C = 0;
    if (s->cache_seq >= 0) C = lcp(s->cache_tok, g->prompt[0], min_u32(s->cache_len, g->P));
    int32_t root;
    if (C > 0) {
        VKG_TRY(fork_into(s, s->cache_seq, C, &root));
        s->st.cached_tokens += C;
    } else {
        uint32_t r;
        VKG_TRY(vkg_kv_seq_add(s->kv, &r));
        root = (int32_t)r;
    }
    pf_set(&g->root, root, g->prompt[0], 0, C, g->P);
    for (uint32_t d = 0; d < g->n_dist; d++) {
        pf_set(&g->node[d], -1, g->prompt[d], 0, g->P, g->plen[d] - 1);
        g->node_forked[d] = 0;
    }
    g->root_forked = 0;
    g->order = ++s->order;
    insert_active(s, g);
    return VKG_OK;
}

/* The first group's prompt prefix stays in the cache for the groups after it. */
static enum vkg_status keep_cache(struct vkg_sched *s, struct grp *g)
{
    if (s->o.no_prefix_cache || s->cache_seq >= 0 || g->P < s->ps || s->cache_tok) return VKG_OK;
    /* (advance_group checked room for one fork more than the nodes need) */
    if (!(s->cache_tok = malloc((size_t)g->P * 4))) return vkg_error(VKG_ERR_NOMEM, "prefix cache");
    memcpy(s->cache_tok, g->prompt[0], (size_t)g->P * 4);
    s->cache_len = g->P;
    return fork_into(s, g->root.seq, g->P, &s->cache_seq);
}

/* Room for n forks at length len: a sequence slot each, a page each for a partial last page. */
static int can_fork(const struct vkg_sched *s, uint64_t len, uint32_t n)
{
    return free_slots(s) >= n && (len % s->ps == 0 || s->kv->n_free >= n);
}

/* Forks whatever finished prefilling: root -> nodes, node -> samples; catch-ups -> running.
 * A fork without room waits for a later step. */
static enum vkg_status advance_group(struct vkg_sched *s, struct grp *g)
{
    if (!g->root_forked && g->root.done == g->root.to && can_fork(s, g->P, g->n_dist + 1)) {
        VKG_TRY(keep_cache(s, g));
        for (uint32_t d = 0; d < g->n_dist; d++) VKG_TRY(fork_into(s, g->root.seq, g->P, &g->node[d].seq));
        g->root_forked = 1;
        seq_drop(s, &g->root); /* its pages live on in the nodes */
    }
    for (uint32_t d = 0; g->root_forked && d < g->n_dist; d++) {
        if (g->node_forked[d] || g->node[d].done != g->node[d].to) continue;
        uint32_t n = 0;
        for (uint32_t j = 0; j < g->k; j++) n += g->smp[j].d == d && g->smp[j].state == S_WAIT;
        if (!can_fork(s, g->plen[d] - 1, n)) continue;
        for (uint32_t j = 0; j < g->k; j++)
            if (g->smp[j].d == d && g->smp[j].state == S_WAIT) VKG_TRY(start_sample(s, g, &g->smp[j]));
        g->node_forked[d] = 1;
        seq_drop(s, &g->node[d]); /* its pages live on in the samples */
    }
    for (uint32_t j = 0; j < g->k; j++) {
        struct smp *p = &g->smp[j];
        if (p->state == S_PREFILL && p->own.done == p->own.to) p->state = S_RUN;
        if (p->state == S_PAUSED && free_slots(s) > 0 &&
            s->kv->n_free >= restart_pages(s, g, p) + live_samples(s, S_RUN, 0) / 8)
            VKG_TRY(restart_sample(s, g, p));
    }
    return VKG_OK;
}

static enum vkg_status admit_pending(struct vkg_sched *s)
{
    while (s->pending) {
        struct grp *g = s->pending;
        /* while the first root is prefilled (it becomes the prefix cache), wait for it */
        if (!s->o.no_prefix_cache && !s->cache_tok)
            for (const struct grp *a = s->active; a; a = a->next)
                if (!a->root_forked) return VKG_OK;
        if (s->active) {
            if (live_samples(s, S_PAUSED, 0)) return VKG_OK; /* paused samples resume first */
            uint32_t live = live_samples(s, 0, 1), running = live_samples(s, S_RUN, 0);
            if (live + g->k > s->o.max_running || free_slots(s) < 2 + g->n_dist + g->k ||
                s->kv->n_free < group_pages(s, g) + running)
                return VKG_OK;
        } else if (s->kv->n_free < group_pages(s, g) || free_slots(s) < 2 + g->n_dist + g->k) {
            drop_cache(s); /* alone it must fit: the cache gives way */
        }
        s->pending = g->next;
        if (!s->pending) s->pending_tail = NULL;
        g->next = NULL;
        VKG_TRY(admit(s, g));
        VKG_TRY(advance_group(s, g));
    }
    return VKG_OK;
}

/* ---- one step ------------------------------------------------------------------ */

static void add_token(struct vkg_sched *s, int32_t id, int32_t seq, uint64_t pos, uint8_t want)
{
    s->ids[s->n_tok] = id;
    s->seqv[s->n_tok] = seq;
    s->pos[s->n_tok] = (int32_t)pos;
    s->want[s->n_tok] = want;
    s->n_tok++;
}

/* Phase 1: the next token of every running sample, oldest group first; a sample
 * that needs a page takes it from lower-priority samples, or pauses itself. */
static enum vkg_status plan_decode(struct vkg_sched *s)
{
    for (struct grp *g = s->active; g; g = g->next)
        for (uint32_t j = 0; j < g->k; j++) {
            struct smp *p = &g->smp[j];
            if (p->state != S_RUN) continue;
            uint64_t len = s->kv->seqs[p->own.seq].len;
            if (len % s->ps == 0 && !make_room(s, g, j, 1)) {
                pause_sample(s, p);
                continue;
            }
            uint64_t at;
            VKG_TRY(vkg_kv_reserve(s->kv, (uint32_t)p->own.seq, 1, &at));
            s->rows[s->n_rows] = p;
            s->row_grp[s->n_rows] = g;
            s->n_rows++;
            add_token(s, p->gen[p->n_gen], p->own.seq, at, 1);
        }
    return VKG_OK;
}

/* Phase 2: prompt chunks in the room left, as far as free pages go (prefill never preempts). */
static enum vkg_status prefill_job(struct vkg_sched *s, struct pf *p)
{
    uint32_t room = s->o.max_step_tokens - s->n_tok, n = min_u32(room, p->to - p->sent);
    uint64_t have = (uint64_t)pages(s, p->sent) * s->ps + (uint64_t)s->kv->n_free * s->ps;
    if (p->sent + (uint64_t)n > have) n = (uint32_t)(have - p->sent);
    if (!n) return VKG_OK;
    uint64_t at;
    VKG_TRY(vkg_kv_reserve(s->kv, (uint32_t)p->seq, n, &at));
    for (uint32_t i = 0; i < n; i++) add_token(s, p->tok[p->sent + i - p->base], p->seq, at + i, 0);
    s->spf[s->n_spf++] = (struct step_pf){ p, n };
    p->sent += n;
    return VKG_OK;
}

static enum vkg_status plan_prefill(struct vkg_sched *s)
{
    for (struct grp *g = s->active; g && s->n_tok < s->o.max_step_tokens; g = g->next) {
        if (!g->root_forked && g->root.sent < g->root.to) VKG_TRY(prefill_job(s, &g->root));
        for (uint32_t d = 0; g->root_forked && d < g->n_dist; d++)
            if (!g->node_forked[d] && g->node[d].sent < g->node[d].to) VKG_TRY(prefill_job(s, &g->node[d]));
        for (uint32_t j = 0; j < g->k; j++)
            if (g->smp[j].state == S_PREFILL && g->smp[j].own.sent < g->smp[j].own.to)
                VKG_TRY(prefill_job(s, &g->smp[j].own));
    }
    return VKG_OK;
}

static int holds_kv(const struct grp *v)
{
    int held = v->root.seq >= 0;
    for (uint32_t d = 0; d < v->n_dist; d++) held |= v->node[d].seq >= 0;
    for (uint32_t j = 0; j < v->k; j++) held |= v->smp[j].own.seq >= 0;
    return held;
}

/* Nothing could be scheduled although groups wait: free the prefix cache, then
 * the newest group's sequences (its samples restart alone); a group that cannot
 * start in an empty pool fails. */
static enum vkg_status unstick(struct vkg_sched *s)
{
    if (s->cache_seq >= 0) {
        drop_cache(s);
        return VKG_OK;
    }
    for (struct grp *v = newest_active(s); v; v = older(s, v))
        if (holds_kv(v)) {
            evict_group(s, v);
            return VKG_OK;
        }
    struct grp *v = s->active;
    if (v) {
        remove_active(s, v);
    } else if ((v = s->pending)) {
        s->pending = v->next;
        if (!s->pending) s->pending_tail = NULL;
    } else {
        return vkg_error(VKG_ERR_STATE, "scheduler: stuck with no group");
    }
    s->n_pending--;
    return fail_group(s, v,
                      "the KV pool (%u pages of %u tokens) cannot hold this group's prompts and samples; raise "
                      "the KV pool or lower -k, -c or --max-new-tokens",
                      s->kv->cfg.max_pages, s->ps);
}

static enum vkg_status plan_step(struct vkg_sched *s)
{
    for (int attempt = 0; attempt < 64; attempt++) {
        for (struct grp *g = s->active; g; g = g->next) VKG_TRY(advance_group(s, g));
        VKG_TRY(admit_pending(s));
        s->n_tok = s->n_rows = s->n_spf = 0;
        VKG_TRY(plan_decode(s));
        VKG_TRY(plan_prefill(s));
        if (s->n_tok || !s->n_pending) return VKG_OK;
        VKG_TRY(unstick(s)); /* every running sample would have a token: nothing can move */
    }
    return vkg_error(VKG_ERR_STATE, "scheduler: no progress after 64 attempts");
}

static enum vkg_status record_draws(struct vkg_sched *s)
{
    struct vkg_sample_params *p = s->params->mapped;
    for (uint32_t i = 0; i < s->n_rows; i++)
        p[i] = vkg_sampler_row(&s->row_grp[i]->sampler, (uint64_t)(s->rows[i] - s->row_grp[i]->smp), s->rows[i]->n_gen);
    vkg_cmd_barrier(s->m->cmd);
    VKG_TRY(vkg_op_sample(s->m->cmd, vkg_buffer_view(s->m->a.logits), vkg_buffer_view(s->params),
                          vkg_buffer_view(s->work), vkg_buffer_view(s->tokens), vkg_buffer_view(s->probs), s->n_rows,
                          s->m->out_dim, vkg_sampler_flags(p, s->n_rows)));
    vkg_cmd_barrier_host(s->m->cmd);
    return VKG_OK;
}

enum vkg_status vkg_sched_step_begin(struct vkg_sched *s)
{
    if (s->in_flight) return vkg_error(VKG_ERR_STATE, "scheduler: a step is already in flight");
    VKG_TRY(plan_step(s));
    if (s->fork_open) { /* the forks' page copies run before the step (same queue, ordered by its barrier) */
        s->fork_open = 0;
        VKG_TRY(vkg_cmd_submit(s->fork_cmd));
    }
    if (!s->n_tok) return VKG_OK;
    VKG_TRY(vkg_kv_upload(s->kv));
    struct vkg_batch b = { .n = s->n_tok, .ids = s->ids, .seq = s->seqv, .pos = s->pos, .want = s->want };
    uint32_t n_out;
    VKG_TRY(vkg_model_record(s->m, s->kv, &b, &n_out));
    if (s->n_rows && !s->o.score_only) VKG_TRY(record_draws(s));
    VKG_TRY(vkg_cmd_submit(s->m->cmd));
    s->in_flight = 1;
    return VKG_OK;
}

static enum vkg_status sample_done(struct vkg_sched *s, struct grp *g, struct smp *p, enum vkg_finish f)
{
    p->finish = f;
    p->state = S_DONE;
    seq_drop(s, &p->own);
    g->n_done++;
    return VKG_OK;
}

/* One sampled token: EOS ends the sample, else it is kept; the limit ends it too. */
static enum vkg_status take_token(struct vkg_sched *s, struct grp *g, struct smp *p, int32_t t)
{
    if (t < 0 || (uint32_t)t >= s->m->out_dim)
        return vkg_error(VKG_ERR_STATE,
                         "step %llu: sample %u of group %llu drew token %d at position %u: the logits "
                         "are not finite (NaN or inf) — the model's weights or config produce non-finite numbers",
                         (unsigned long long)s->st.steps, (unsigned)(p - g->smp), (unsigned long long)g->user, t,
                         g->plen[p->d] - 1 + p->n_gen);
    for (uint32_t i = 0; i < s->o.n_eos; i++)
        if (t == s->o.eos[i]) return sample_done(s, g, p, VKG_FINISH_EOS);
    if (p->n_gen + 2 > p->cap) {
        uint32_t cap = 2 * p->cap;
        int32_t *ng = realloc(p->gen, (size_t)cap * 4);
        if (!ng) return vkg_error(VKG_ERR_NOMEM, "generated tokens");
        p->gen = ng;
        p->cap = cap;
    }
    p->gen[++p->n_gen] = t;
    s->st.decode_tokens++;
    if (p->n_gen >= p->limit) return sample_done(s, g, p, VKG_FINISH_LENGTH);
    return VKG_OK;
}

static enum vkg_status retire(struct vkg_sched *s)
{
    for (struct grp *g = s->active, *next; g; g = next) {
        next = g->next;
        if (g->n_done < g->k) continue;
        remove_active(s, g);
        s->n_pending--;
        VKG_TRY(push_done(s, g));
        grp_free(g);
    }
    return VKG_OK;
}

/* score_only: each row is a sample's last prompt token; its logits end the sample. */
static enum vkg_status take_scores(struct vkg_sched *s)
{
    uint64_t row = (uint64_t)s->m->out_dim * sizeof(float), bytes = row * s->n_rows;
    if (!s->n_rows) return VKG_OK;
    float *all = malloc(bytes);
    if (!all) return vkg_error(VKG_ERR_NOMEM, "scores");
    enum vkg_status st =
        vkg_buffer_download(s->m->dev, vkg_view_sub(vkg_buffer_view(s->m->a.logits), 0, bytes), all, bytes);
    for (uint32_t i = 0; st == VKG_OK && i < s->n_rows; i++) {
        struct smp *p = s->rows[i];
        if (!(p->logits = malloc(row))) {
            st = vkg_error(VKG_ERR_NOMEM, "scores");
            break;
        }
        memcpy(p->logits, (const char *)all + i * row, row);
        for (uint32_t v = 0; v < s->m->out_dim; v++)
            if (!(p->logits[v] == p->logits[v]) || p->logits[v] - p->logits[v] != 0) {
                st = vkg_error(VKG_ERR_STATE,
                               "step %llu: sample %u of group %llu: the model's output is not finite "
                               "(NaN or inf)",
                               (unsigned long long)s->st.steps, (unsigned)(p - s->row_grp[i]->smp),
                               (unsigned long long)s->row_grp[i]->user);
                break;
            }
        if (st == VKG_OK) st = sample_done(s, s->row_grp[i], p, VKG_FINISH_LENGTH);
    }
    free(all);
    return st;
}

enum vkg_status vkg_sched_step_end(struct vkg_sched *s)
{
    if (!s->in_flight) return VKG_OK;
    s->in_flight = 0;
    VKG_TRY(vkg_cmd_wait(s->m->cmd));
    s->st.steps++;
    if (s->n_rows > s->st.peak_running) s->st.peak_running = s->n_rows;
    for (uint32_t i = 0; i < s->n_spf; i++) {
        struct step_pf *e = &s->spf[i];
        e->pf->done += e->n;
        if (e->pf->catchup) s->st.recomputed_tokens += e->n;
        else s->st.prefill_tokens += e->n;
    }
    if (s->o.score_only) {
        VKG_TRY(take_scores(s));
        return retire(s);
    }
    const int32_t *tok = s->tokens->mapped;
    for (uint32_t i = 0; i < s->n_rows; i++) VKG_TRY(take_token(s, s->row_grp[i], s->rows[i], tok[i]));
    return retire(s);
}

enum vkg_status vkg_sched_step(struct vkg_sched *s)
{
    VKG_TRY(vkg_sched_step_begin(s));
    VKG_TRY(vkg_sched_step_end(s));
    /* groups that failed or finished without a step (forks only) */
    return s->in_flight ? VKG_OK : retire(s);
}
