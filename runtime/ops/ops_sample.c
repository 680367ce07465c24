/* ops_sample.c — argmax / sampling launchers: validate the views, bind
 * windows, record the passes of shaders/argmax.comp and shaders/sample.comp
 * for each batch of rows whose logits fit one binding, barriers between
 * passes only (ops.h). */
#include "ops_sample.h"

#include "vk_check.h"

#define MAX_VOCAB (1u << 23) /* masses: vocab * 2^40 must stay below 2^64 */
#define RADIX_PASSES 8u      /* 4 digits of top-k, then 4 of top-p */

struct sample_job {
    struct vkg_view logits;      /* [n_rows][vocab] f32, as given */
    struct vkg_view work;        /* [n_rows][row_words] u32, as given */
    uint64_t row_work_bytes;     /* workspace of one row */
    struct vkg_view bound[5];    /* windows: [1] params, [3] tokens, [4] probs ([0], [2] per batch) */
    struct vkg_push_sample push; /* common fields; row0 / n_rows / logits_off / pass per dispatch */
    uint32_t n_rows, rows_per_batch;
    uint32_t passes; /* passes recorded so far */
    int lane;        /* the lane tier's variants, for each batch whose logits window is texel-aligned */
};

static uint32_t n_chunks_of(uint32_t vocab) { return (vocab + VKG_SAMPLE_CHUNK - 1) / VKG_SAMPLE_CHUNK; }

static uint64_t row_work_bytes(uint32_t vocab) { return (uint64_t)VKG_SAMPLE_ROW_WORDS(n_chunks_of(vocab), vocab) * 4; }

uint64_t vkg_sample_workspace_bytes(uint32_t n_rows, uint32_t vocab) { return n_rows * row_work_bytes(vocab); }

static enum vkg_status check_view(const char *op, const char *what, struct vkg_view v, uint64_t bytes)
{
    if (!v.buf || v.size < bytes || v.offset % 4)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op '%s': %s view of '%s' is %llu bytes at offset %llu, needs "
                         "%llu bytes at a 4-byte aligned offset",
                         op, what, v.buf ? v.buf->name : "(none)", (unsigned long long)v.size,
                         (unsigned long long)v.offset, (unsigned long long)bytes);
    return VKG_OK;
}

/* Binds the first `bytes` of a small view (params, outputs) of `elem`-byte
 * elements as one window; *off = first element inside it. */
static enum vkg_status bind_small(struct vkg_cmd *c, const char *op, const char *what, struct vkg_view v,
                                  uint64_t bytes, uint32_t elem, struct vkg_view *win, uint32_t *off)
{
    VKG_TRY(check_view(op, what, v, bytes));
    if (v.offset % elem) /* the window starts elem-aligned too (alignments are powers of two) */
        return vkg_error(VKG_ERR_INVALID_ARG, "op '%s': %s view of '%s' at offset %llu, needs a multiple of %u", op,
                         what, v.buf->name, (unsigned long long)v.offset, elem);
    uint64_t skip;
    VKG_TRY(vkg_view_window(c->dev, v, 0, bytes, win, &skip));
    *off = (uint32_t)(skip / elem);
    return VKG_OK;
}

static enum vkg_status check_logits(struct vkg_cmd *c, const char *op, struct vkg_view logits, uint32_t n_rows,
                                    uint32_t vocab)
{
    const char *name = logits.buf ? logits.buf->name : "(none)";
    if (!n_rows || !vocab)
        return vkg_error(VKG_ERR_INVALID_ARG, "op '%s': logits '%s' shape [%u][%u] is empty", op, name, n_rows, vocab);
    if (vocab > MAX_VOCAB)
        return vkg_error(VKG_ERR_UNSUPPORTED, "op '%s': logits '%s' vocab %u > %u", op, name, vocab, MAX_VOCAB);
    uint64_t need = (uint64_t)n_rows * vocab * 4;
    if (!logits.buf || logits.size < need || logits.offset % 4)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op '%s': logits view of '%s' is %llu bytes at offset %llu, "
                         "shape [%u][%u] f32 needs %llu at a 4-byte aligned offset",
                         op, name, (unsigned long long)logits.size, (unsigned long long)logits.offset, n_rows, vocab,
                         (unsigned long long)need);
    if ((uint64_t)vocab * 4 > vkg_max_window_bytes(c->dev))
        return vkg_error(VKG_ERR_LIMIT,
                         "op '%s': one row of logits '%s' (%u f32) exceeds a storage binding "
                         "(%llu bytes)",
                         op, name, vocab, (unsigned long long)vkg_max_window_bytes(c->dev));
    return VKG_OK;
}

/* Validates and binds everything but the logits and the workspace (bound per batch). */
static enum vkg_status job_init(struct vkg_cmd *c, struct sample_job *j, struct vkg_view logits,
                                const struct vkg_view *params, struct vkg_view work, struct vkg_view tokens,
                                struct vkg_view probs, uint32_t n_rows, uint32_t vocab)
{
    const char *op = params ? "sample" : "argmax";
    VKG_TRY(check_logits(c, op, logits, n_rows, vocab));
    *j = (struct sample_job){
        .logits = logits, .work = work, .n_rows = n_rows, .row_work_bytes = row_work_bytes(vocab)
    };
    struct vkg_push_sample *p = &j->push;
    p->vocab = vocab;
    p->n_chunks = n_chunks_of(vocab);
    p->chunk = VKG_SAMPLE_CHUNK;
    uint32_t prm = (uint32_t)sizeof(struct vkg_sample_params);
    if (params)
        VKG_TRY(bind_small(c, op, "params", *params, (uint64_t)n_rows * prm, prm, &j->bound[1], &p->params_off));
    VKG_TRY(check_view(op, "workspace", work, vkg_sample_workspace_bytes(n_rows, vocab)));
    VKG_TRY(bind_small(c, op, "tokens", tokens, (uint64_t)n_rows * 4, 4, &j->bound[3], &p->tokens_off));
    VKG_TRY(bind_small(c, op, "probs", probs, (uint64_t)n_rows * 4, 4, &j->bound[4], &p->probs_off));
    /* a batch of rows: its logits and its workspace each fit one binding */
    uint64_t win = vkg_max_window_bytes(c->dev), rpb = win / ((uint64_t)vocab * 4);
    if (win / j->row_work_bytes < rpb) rpb = win / j->row_work_bytes;
    uint64_t max_gy = c->dev->info.max_workgroup_count[1];
    j->rows_per_batch = (uint32_t)(rpb < max_gy ? rpb : max_gy);
    j->lane = c->dev->use.lane_tier && c->dev->use.texel && c->dev->use.subgroup_arith;
    return VKG_OK;
}

/* One dispatch of `op` per row batch: grid (n_chunks or 1, rows of the batch),
 * after a barrier when an earlier pass was recorded (none after the last).
 * Lane-tier jobs take `lane_op` where the batch's logits window starts on a
 * texel and fits maxTexelBufferElements. */
static enum vkg_status run_pass(struct vkg_cmd *c, struct sample_job *j, enum vkg_op op, enum vkg_op lane_op,
                                int per_chunk, uint32_t pass)
{
    uint64_t row_bytes = (uint64_t)j->push.vocab * 4;
    if (j->passes++) vkg_cmd_barrier(c);
    for (uint32_t r0 = 0; r0 < j->n_rows; r0 += j->rows_per_batch) {
        uint32_t nb = j->n_rows - r0 < j->rows_per_batch ? j->n_rows - r0 : j->rows_per_batch;
        struct vkg_view v[5];
        uint64_t skip, wskip;
        VKG_TRY(vkg_view_window(c->dev, j->logits, r0 * row_bytes, nb * row_bytes, &v[0], &skip));
        VKG_TRY(vkg_view_window(c->dev, j->work, r0 * j->row_work_bytes, nb * j->row_work_bytes, &j->bound[2], &wskip));
        struct vkg_push_sample p = j->push;
        p.row0 = r0;
        p.n_rows = nb;
        p.logits_off = (uint32_t)(skip / 4);
        p.pass = pass;
        p.work_off = (uint32_t)(wskip / 4);
        enum vkg_op bop = op;
        if (j->lane && vkg_view_texel_ok(c->dev, v[0])) bop = lane_op;
        uint32_t n = vkg_op_kernel(bop)->n_bindings;
        for (uint32_t i = 1; i < n; i++) v[i] = j->bound[n == 4 ? i + 1 : i]; /* argmax ops: no params binding */
        VKG_TRY(vkg_cmd_dispatch_op(c, bop, v, n, &p, per_chunk ? p.n_chunks : 1, nb, 1));
    }
    return VKG_OK;
}

/* The reduction tier: subgroup variants when the device has subgroup arithmetic (VKGRM_DISABLE_SUBGROUP). */
static enum vkg_op tier(struct vkg_cmd *c, enum vkg_op scalar, enum vkg_op subgroup)
{
    return c->dev->use.subgroup_arith ? subgroup : scalar;
}

enum vkg_status vkg_op_argmax(struct vkg_cmd *c, struct vkg_view logits, struct vkg_view work, struct vkg_view tokens,
                              struct vkg_view probs, uint32_t n_rows, uint32_t vocab)
{
    struct sample_job j;
    VKG_TRY(job_init(c, &j, logits, NULL, work, tokens, probs, n_rows, vocab));
    VKG_TRY(
        run_pass(c, &j, tier(c, VKG_OP_ARGMAX_PARTIAL, VKG_OP_ARGMAX_PARTIAL_SG), VKG_OP_ARGMAX_PARTIAL_LANE, 1, 0));
    return run_pass(c, &j, tier(c, VKG_OP_ARGMAX_FINAL, VKG_OP_ARGMAX_FINAL_SG), VKG_OP_ARGMAX_FINAL_LANE, 0, 0);
}

enum vkg_status vkg_op_sample(struct vkg_cmd *c, struct vkg_view logits, struct vkg_view params, struct vkg_view work,
                              struct vkg_view tokens, struct vkg_view probs, uint32_t n_rows, uint32_t vocab,
                              uint32_t flags)
{
    struct sample_job j;
    VKG_TRY(job_init(c, &j, logits, &params, work, tokens, probs, n_rows, vocab));
    j.push.flags = flags;
    VKG_TRY(run_pass(c, &j, tier(c, VKG_OP_ARGMAX_PARTIAL, VKG_OP_ARGMAX_PARTIAL_SG), VKG_OP_ARGMAX_PARTIAL_LANE, 1,
                     0)); /* row max, argmax */
    VKG_TRY(run_pass(c, &j, tier(c, VKG_OP_SAMPLE_INIT, VKG_OP_SAMPLE_INIT_SG), VKG_OP_SAMPLE_INIT_LANE, 0,
                     0));                                  /* greedy rows done */
    for (uint32_t pass = 0; pass < RADIX_PASSES; pass++) { /* top-k cut, then top-p cut */
        if ((flags & VKG_SAMPLE_NO_TOP_K) && pass < 4) continue;
        if ((flags & VKG_SAMPLE_NO_TOP_P) && pass >= 4) continue;
        VKG_TRY(run_pass(c, &j, VKG_OP_SAMPLE_HIST, VKG_OP_SAMPLE_HIST_LANE, 1, pass));
        VKG_TRY(run_pass(c, &j, VKG_OP_SAMPLE_SELECT, VKG_OP_SAMPLE_SELECT_LANE, 0, pass));
        if (pass == 0 || pass == 4) /* later passes read candidates (pass 4: rows without a top-k list) */
            VKG_TRY(run_pass(c, &j, VKG_OP_SAMPLE_COMPACT, VKG_OP_SAMPLE_COMPACT_LANE, 1, pass));
    }
    VKG_TRY(run_pass(c, &j, VKG_OP_SAMPLE_MASS, VKG_OP_SAMPLE_MASS_LANE, 1, 0));
    return run_pass(c, &j, VKG_OP_SAMPLE_DRAW, VKG_OP_SAMPLE_DRAW_LANE, 0, 0);
}
