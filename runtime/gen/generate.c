/* generate.c — prefill once per prompt, fork its KV for the k samples, decode
 * all live samples together, sample on the GPU, stop per sample. */
#include "generate.h"

#include <stdlib.h>
#include <string.h>

#include "ops_sample.h"
#include "vk_check.h"

struct gen_seq {
    uint32_t req, stream; /* request, sampler stream */
    uint32_t kv;          /* KV-cache sequence */
    int live;
    struct vkg_gen_sample *out;
    uint32_t cap;
};

struct gen {
    struct vkg_model *m;
    const struct vkg_gen_request *req;
    const struct vkg_gen_opts *o;
    struct vkg_kv_cache *kv;
    struct gen_seq *s; /* [total] */
    uint32_t total;
    struct vkg_cmd *cmd;
    struct vkg_buffer *params, *work, *tokens, *probs, *slog; /* sampling */
    uint64_t done, planned;
};

static enum vkg_status gen_alloc(struct gen *g)
{
    struct vkg_device *dev = g->m->dev;
    uint32_t V = g->m->out_dim, n = g->total;
    VKG_TRY(vkg_cmd_create(dev, &g->cmd));
    VKG_TRY(vkg_buffer_create(dev, (uint64_t)n * sizeof(struct vkg_sample_params), VKG_MEM_HOST, "sample params",
                              &g->params));
    VKG_TRY(vkg_buffer_create(dev, vkg_sample_workspace_bytes(n, V), VKG_MEM_DEVICE, "sample workspace", &g->work));
    VKG_TRY(vkg_buffer_create(dev, (uint64_t)n * 4, VKG_MEM_HOST, "sampled tokens", &g->tokens));
    VKG_TRY(vkg_buffer_create(dev, (uint64_t)n * 4, VKG_MEM_HOST, "sampled probs", &g->probs));
    VKG_TRY(vkg_buffer_create(dev, (uint64_t)n * V * 4, VKG_MEM_DEVICE, "first-token logits", &g->slog));
    return VKG_OK;
}

static void gen_free(struct gen *g)
{
    if (g->cmd) vkg_cmd_wait(g->cmd);
    vkg_cmd_free(g->cmd);
    vkg_buffer_free(g->params);
    vkg_buffer_free(g->work);
    vkg_buffer_free(g->tokens);
    vkg_buffer_free(g->probs);
    vkg_buffer_free(g->slog);
    vkg_kv_free(g->kv);
    free(g->s);
}

/* Sample s stops for `why`; the caller's on_finish sees its final result. */
static enum vkg_status finish(struct gen *g, struct gen_seq *s, enum vkg_finish why)
{
    s->out->finish = why;
    s->live = 0;
    return g->o->on_finish ? g->o->on_finish(g->o->stream_user, (uint32_t)(s - g->s), s->out) : VKG_OK;
}

/* Sampling gives -1 (or any id outside the vocabulary) only for logits that
 * are not numbers: an error that names the sample and the step. */
static enum vkg_status check_token(const struct gen *g, const struct gen_seq *s, int32_t t)
{
    if (t >= 0 && (uint32_t)t < g->m->out_dim) return VKG_OK;
    return vkg_error(VKG_ERR_FORMAT,
                     "sample %u, generation step %u: drew token id %d, outside [0, %u): the logits are not "
                     "finite (NaN or infinity; look for NaN weights or a bad config value such as rms_norm_eps)",
                     (unsigned)(s - g->s), s->out->n, (int)t, g->m->out_dim);
}

/* Appends t to sample s and decides whether it stops. */
static enum vkg_status accept(struct gen *g, struct gen_seq *s, int32_t t)
{
    const struct vkg_gen_opts *o = g->o;
    VKG_TRY(check_token(g, s, t));
    for (uint32_t i = 0; i < o->n_eos; i++)
        if (t == o->eos[i]) return finish(g, s, VKG_FINISH_EOS);
    if (s->out->n == s->cap) {
        uint32_t cap = s->cap ? 2 * s->cap : 64;
        int32_t *nt = realloc(s->out->tokens, cap * sizeof *nt);
        if (!nt) return vkg_error(VKG_ERR_NOMEM, "generated tokens");
        s->out->tokens = nt;
        s->cap = cap;
    }
    s->out->tokens[s->out->n++] = t;
    g->done++;
    if (o->on_token) VKG_TRY(o->on_token(o->stream_user, (uint32_t)(s - g->s), s->out));
    if (o->n_stop && o->tok) {
        char *text = NULL;
        int stop = 0;
        VKG_TRY(vkg_tokenizer_decode(o->tok, s->out->tokens, s->out->n, 0, &text));
        for (uint32_t i = 0; i < o->n_stop && !stop; i++) stop = o->stop[i][0] && strstr(text, o->stop[i]);
        free(text);
        if (stop) return finish(g, s, VKG_FINISH_STOP);
    }
    if (s->out->n >= g->req[s->req].max_tokens) return finish(g, s, VKG_FINISH_LENGTH);
    return VKG_OK;
}

/* Stops every live sample as interrupted when the caller asked for it. */
static enum vkg_status check_interrupt(struct gen *g, int *stopped)
{
    *stopped = g->o->interrupt && *g->o->interrupt;
    for (uint32_t i = 0; *stopped && i < g->total; i++)
        if (g->s[i].live) VKG_TRY(finish(g, &g->s[i], VKG_FINISH_INTERRUPTED));
    return VKG_OK;
}

/* Records the draw of one token for each of the n rows of `logits` (row i
 * belongs to rows[i]) into c, which is then submitted by sample_rows. */
static enum vkg_status record_sample(struct gen *g, struct vkg_cmd *c, struct vkg_view logits, struct gen_seq **rows,
                                     uint32_t n)
{
    struct vkg_sample_params *p = g->params->mapped;
    for (uint32_t i = 0; i < n; i++)
        p[i] = vkg_sampler_row(&g->req[rows[i]->req].sampler, rows[i]->stream, rows[i]->out->n);
    VKG_TRY(vkg_op_sample(c, logits, vkg_buffer_view(g->params), vkg_buffer_view(g->work), vkg_buffer_view(g->tokens),
                          vkg_buffer_view(g->probs), n, g->m->out_dim,
                          vkg_sampler_flags(p, n))); /* skip the filter passes no row uses */
    vkg_cmd_barrier_host(c);
    return VKG_OK;
}

/* Submits c (holding record_sample's draws) and takes the tokens. */
static enum vkg_status sample_rows(struct gen *g, struct vkg_cmd *c, struct gen_seq **rows, uint32_t n)
{
    VKG_TRY(vkg_cmd_submit_wait(c));
    const int32_t *tok = g->tokens->mapped;
    for (uint32_t i = 0; i < n; i++) VKG_TRY(accept(g, rows[i], tok[i]));
    if (g->o->progress) g->o->progress(g->o->user, g->done, g->planned);
    return VKG_OK;
}

/* Prefill of request r: its prompt in chunks into a fresh sequence; then the
 * last position's logits are copied to the k sample rows from `row` on, and
 * the k-1 extra samples fork the prompt's pages. */
static enum vkg_status prefill(struct gen *g, uint32_t r, uint32_t row)
{
    const struct vkg_gen_request *q = &g->req[r];
    struct vkg_model *m = g->m;
    uint32_t base, chunk = g->o->max_batch_tokens ? g->o->max_batch_tokens : 512;
    int all = r == 0 && g->o->prompt_logits;
    VKG_TRY(vkg_kv_seq_add(g->kv, &base));
    int32_t *seq = malloc(chunk * 4), *pos = malloc(chunk * 4);
    uint8_t *want = calloc(chunk, 1);
    enum vkg_status s = seq && pos && want ? VKG_OK : vkg_error(VKG_ERR_NOMEM, "prefill batch");
    uint32_t last_row = 0;
    for (uint32_t t0 = 0; s == VKG_OK && t0 < q->n_prompt; t0 += chunk) {
        uint32_t n = q->n_prompt - t0 < chunk ? q->n_prompt - t0 : chunk, n_want = 0;
        uint64_t pos0;
        s = vkg_kv_reserve(g->kv, base, n, &pos0);
        for (uint32_t i = 0; i < n; i++) {
            seq[i] = (int32_t)base;
            pos[i] = (int32_t)(pos0 + i);
            want[i] = all || t0 + i == q->n_prompt - 1;
            n_want += want[i];
        }
        last_row = n_want - 1;
        struct vkg_batch b = { .n = n, .ids = q->prompt + t0, .seq = seq, .pos = pos, .want = want };
        if (s == VKG_OK) s = vkg_kv_upload(g->kv);
        if (s == VKG_OK)
            s = vkg_model_forward(m, g->kv, &b, all ? g->o->prompt_logits + (uint64_t)t0 * m->out_dim : NULL);
    }
    free(seq);
    free(pos);
    free(want);
    VKG_TRY(s);
    g->s[row].kv = base;
    if (q->max_tokens == 0) return VKG_OK;
    uint64_t rb = (uint64_t)m->out_dim * 4;
    VKG_TRY(vkg_cmd_begin(g->cmd));
    for (uint32_t j = 0; j < q->n_samples; j++)
        vkg_cmd_copy(g->cmd, vkg_view_sub(vkg_buffer_view(m->a.logits), last_row * rb, rb),
                     vkg_view_sub(vkg_buffer_view(g->slog), (uint64_t)(row + j) * rb, rb), rb);
    for (uint32_t j = 1; j < q->n_samples; j++) VKG_TRY(vkg_kv_seq_fork(g->kv, g->cmd, base, &g->s[row + j].kv));
    return vkg_cmd_submit_wait(g->cmd);
}

/* One decode step over every live sample. */
static enum vkg_status decode_step(struct gen *g, struct gen_seq **rows, int32_t *ids, int32_t *seq, int32_t *pos)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->total; i++) {
        struct gen_seq *s = &g->s[i];
        if (!s->live) continue;
        uint64_t p;
        VKG_TRY(vkg_kv_reserve(g->kv, s->kv, 1, &p));
        rows[n] = s;
        ids[n] = s->out->tokens[s->out->n - 1];
        seq[n] = (int32_t)s->kv;
        pos[n] = (int32_t)p;
        n++;
    }
    if (!n) return VKG_OK;
    struct vkg_batch b = { .n = n, .ids = ids, .seq = seq, .pos = pos, .want = NULL };
    VKG_TRY(vkg_kv_upload(g->kv));
    /* the forward step and the draws in one submission: one host round trip per token */
    uint32_t n_out;
    VKG_TRY(vkg_model_record(g->m, g->kv, &b, &n_out));
    vkg_cmd_barrier(g->m->cmd);
    VKG_TRY(record_sample(g, g->m->cmd, vkg_buffer_view(g->m->a.logits), rows, n));
    return sample_rows(g, g->m->cmd, rows, n);
}

static enum vkg_status run(struct gen *g)
{
    uint32_t max_len = 1;
    for (uint32_t i = 0; i < g->total; i++) {
        const struct vkg_gen_request *q = &g->req[g->s[i].req];
        if (q->n_prompt + q->max_tokens + 1 > max_len) max_len = q->n_prompt + q->max_tokens + 1;
        g->planned += q->max_tokens;
    }
    struct vkg_kv_config kc = vkg_model_kv_config(g->m, g->total, max_len);
    VKG_TRY(vkg_kv_create(g->m->dev, &kc, &g->kv));
    VKG_TRY(gen_alloc(g));
    struct gen_seq **rows = calloc(g->total, sizeof *rows);
    int32_t *buf = calloc(3 * (size_t)g->total, 4);
    enum vkg_status s = rows && buf ? VKG_OK : vkg_error(VKG_ERR_NOMEM, "decode batch");
    uint32_t n_first = 0;
    for (uint32_t i = 0; s == VKG_OK && i < g->total; i++) {
        if (g->s[i].stream != g->req[g->s[i].req].first_sample) continue; /* sample 0 of its request */
        s = prefill(g, g->s[i].req, i);
    }
    for (uint32_t i = 0; i < g->total; i++)
        if (g->req[g->s[i].req].max_tokens > 0) {
            rows[n_first++] = &g->s[i];
            g->s[i].live = 1;
        }
    int stopped = 0;
    if (s == VKG_OK) s = check_interrupt(g, &stopped);
    if (s == VKG_OK && n_first && !stopped) s = vkg_cmd_begin(g->cmd);
    if (s == VKG_OK && n_first && !stopped) s = record_sample(g, g->cmd, vkg_buffer_view(g->slog), rows, n_first);
    if (s == VKG_OK && n_first && !stopped) s = sample_rows(g, g->cmd, rows, n_first);
    while (s == VKG_OK) {
        int any = 0;
        for (uint32_t i = 0; i < g->total; i++) any |= g->s[i].live;
        if (!any || (s = check_interrupt(g, &stopped)) != VKG_OK || stopped) break;
        s = decode_step(g, rows, buf, buf + g->total, buf + 2 * g->total);
    }
    free(rows);
    free(buf);
    return s;
}

enum vkg_status vkg_generate(struct vkg_model *m, const struct vkg_gen_request *req, uint32_t n_req,
                             const struct vkg_gen_opts *opts, struct vkg_gen_sample *out)
{
    struct gen g = { .m = m, .req = req, .o = opts };
    for (uint32_t r = 0; r < n_req; r++) {
        if (req[r].n_samples == 0 || req[r].n_prompt == 0)
            return vkg_error(VKG_ERR_INVALID_ARG, "request %u: needs a prompt and at least one sample", r);
        VKG_TRY(vkg_sampler_check(&req[r].sampler));
        g.total += req[r].n_samples;
    }
    memset(out, 0, g.total * sizeof *out);
    g.s = calloc(g.total, sizeof *g.s);
    if (!g.s) return vkg_error(VKG_ERR_NOMEM, "generation state");
    for (uint32_t r = 0, i = 0; r < n_req; r++)
        for (uint32_t j = 0; j < req[r].n_samples; j++, i++)
            g.s[i] = (struct gen_seq){ .req = r, .stream = req[r].first_sample + j, .out = &out[i] };
    enum vkg_status s = run(&g);
    gen_free(&g);
    if (s != VKG_OK) vkg_gen_results_free(out, g.total);
    return s;
}

void vkg_gen_results_free(struct vkg_gen_sample *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        free(s[i].tokens);
        s[i].tokens = NULL;
        s[i].n = 0;
    }
}

uint32_t vkg_gen_eos_ids(const struct vkg_hf_config *cfg, const struct vkg_generation_config *gc,
                         const struct vkg_tokenizer *tok, int32_t *out)
{
    int32_t cand[VKG_GEN_MAX_EOS];
    uint32_t nc = 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < cfg->n_eos && nc < VKG_GEN_MAX_EOS - 1; i++) cand[nc++] = cfg->eos_token_ids[i];
    for (uint32_t i = 0; gc && gc->present && i < gc->n_eos && nc < VKG_GEN_MAX_EOS - 1; i++)
        cand[nc++] = gc->eos_token_ids[i];
    if (tok && vkg_tokenizer_eos(tok) >= 0) cand[nc++] = vkg_tokenizer_eos(tok);
    for (uint32_t i = 0; i < nc; i++) {
        int dup = cand[i] < 0;
        for (uint32_t j = 0; j < n; j++) dup |= out[j] == cand[i];
        if (!dup) out[n++] = cand[i];
    }
    return n;
}
