/* ops_norm.c — launchers of the norm family (ops_norm.h). Work is split by
 * tokens: each chunk of tokens binds one window per tensor, sized so every
 * window fits maxStorageBufferRange; the embedding table is in addition
 * bound one window of rows at a time. */
#include "ops_norm.h"

#include "push_norm.h"
#include "vk_check.h"

/* A tensor as token rows: token t occupies elements [t*stride, t*stride +
 * extent). stride == 0: one block of `extent` elements shared by all tokens
 * (a weight vector, a frequency table). */
struct rows {
    struct vkg_view v;
    uint64_t stride, extent; /* elements */
    const char *what;        /* for messages: "x", "weight", ... */
};

static uint64_t rows_bytes(const struct rows *r, uint64_t tokens)
{
    return r->stride ? ((tokens - 1) * r->stride + r->extent) * 4 : r->extent * 4;
}

/* All tensors are 4-byte elements (f32 / int32); the view must hold every row. */
static enum vkg_status check_rows(const char *op, const struct rows *r, uint32_t n, uint64_t tokens)
{
    for (uint32_t i = 0; i < n; i++) {
        if (!r[i].v.buf)
            return vkg_error(VKG_ERR_INVALID_ARG, "op '%s': tensor %s has no buffer", op, r[i].what);
        if (r[i].v.offset % 4 || rows_bytes(&r[i], tokens) > r[i].v.size)
            return vkg_error(VKG_ERR_INVALID_ARG, "op '%s': %s needs %llu bytes (4-byte aligned) but view of '%s' "
                             "has %llu at offset %llu", op, r[i].what, (unsigned long long)rows_bytes(&r[i], tokens),
                             r[i].v.buf->name, (unsigned long long)r[i].v.size, (unsigned long long)r[i].v.offset);
    }
    return VKG_OK;
}

/* Tokens per chunk so that each tensor's window fits one binding. */
static enum vkg_status chunk_tokens(const struct vkg_device *dev, const char *op, const struct rows *r, uint32_t n,
                                    uint64_t *out)
{
    uint64_t lim = vkg_max_window_bytes(dev) / 4, best = UINT32_MAX; /* shaders index with uint */
    for (uint32_t i = 0; i < n; i++) {
        if (r[i].extent > lim)
            return vkg_error(VKG_ERR_LIMIT, "op '%s': one row of %s (%llu bytes in '%s') exceeds the binding range",
                             op, r[i].what, (unsigned long long)r[i].extent * 4, r[i].v.buf->name);
        if (r[i].stride && (lim - r[i].extent) / r[i].stride + 1 < best) best = (lim - r[i].extent) / r[i].stride + 1;
    }
    *out = best;
    return VKG_OK;
}

/* Binds tokens [t0, t0+nt) of each tensor; off[i] = first element inside window i. */
static enum vkg_status bind_rows(const struct vkg_device *dev, const struct rows *r, uint32_t n, uint64_t t0,
                                 uint64_t nt, struct vkg_view *win, uint32_t *off)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t skip;
        VKG_TRY(vkg_view_window(dev, r[i].v, t0 * r[i].stride * 4, rows_bytes(&r[i], nt), &win[i], &skip));
        off[i] = (uint32_t)(skip / 4);
    }
    return VKG_OK;
}

/* Fills the push constants of one chunk from its token range and window offsets;
 * returns the number of workgroups to dispatch. */
typedef uint64_t (*chunk_push_fn)(void *push, const void *args, uint64_t nt, const uint32_t *off, uint32_t ls);

static enum vkg_status run_rows(struct vkg_cmd *c, enum vkg_op op, const struct rows *r, uint32_t n, uint64_t tokens,
                                void *push, const void *args, chunk_push_fn fill)
{
    const char *name = vkg_op_kernel(op)->name;
    uint64_t per = 0;
    struct vkg_view win[4];
    uint32_t off[4];
    VKG_TRY(check_rows(name, r, n, tokens));
    VKG_TRY(chunk_tokens(c->dev, name, r, n, &per));
    for (uint64_t t0 = 0; t0 < tokens; t0 += per) {
        uint64_t nt = tokens - t0 < per ? tokens - t0 : per;
        VKG_TRY(bind_rows(c->dev, r, n, t0, nt, win, off));
        uint64_t groups = fill(push, args, nt, off, vkg_op_kernel(op)->local_size);
        if (groups) VKG_TRY(vkg_cmd_dispatch_op_1d(c, op, win, n, push, groups));
    }
    return VKG_OK;
}

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/* ---- embedding ---------------------------------------------------------- */

static enum vkg_op embed_op(enum vkg_dtype t)
{
    switch (t) {
    case VKG_DTYPE_F32: return VKG_OP_EMBED_F32;
    case VKG_DTYPE_F16: return VKG_OP_EMBED_F16;
    case VKG_DTYPE_BF16: return VKG_OP_EMBED_BF16;
    case VKG_DTYPE_Q8_0: return VKG_OP_EMBED_Q8_0;
    case VKG_DTYPE_Q4: return VKG_OP_EMBED_Q4;
    default: return VKG_OP_COUNT;
    }
}

/* One token chunk (ids + out already windowed): one dispatch per window of table rows. */
static enum vkg_status embed_chunk(struct vkg_cmd *c, enum vkg_op op, struct vkg_view table, uint64_t row_bytes,
                                   uint64_t vocab, struct vkg_view *v, struct vkg_push_embed *p)
{
    uint64_t rows_per_win = vkg_max_window_bytes(c->dev) / row_bytes;
    uint64_t groups = p->n_tokens; /* one workgroup per token */
    for (uint64_t r0 = 0; r0 < vocab; r0 += rows_per_win) {
        uint64_t nr = vocab - r0 < rows_per_win ? vocab - r0 : rows_per_win, skip;
        VKG_TRY(vkg_view_window(c->dev, table, r0 * row_bytes, nr * row_bytes, &v[1], &skip));
        p->table_skip = (uint32_t)skip;
        p->row_lo = (uint32_t)r0;
        p->row_hi = (uint32_t)(r0 + nr);
        p->write_oob = r0 == 0; /* exactly one dispatch per token writes the zero rows */
        VKG_TRY(vkg_cmd_dispatch_op_1d(c, op, v, 3, p, groups));
    }
    return VKG_OK;
}

static enum vkg_status embed_check(struct vkg_view table, enum vkg_dtype tt, uint64_t vocab, uint32_t dim,
                                   uint64_t *row_bytes)
{
    if (embed_op(tt) == VKG_OP_COUNT)
        return vkg_error(VKG_ERR_UNSUPPORTED, "op 'embed': table '%s' of %s: only F32/F16/BF16/Q8_0/Q4",
                         table.buf->name, vkg_dtype_name(tt));
    if (dim == 0 || vocab == 0 || vocab > UINT32_MAX || vkg_dtype_bytes(tt, dim, row_bytes) != VKG_OK)
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'embed': table '%s' [%llu][%u] %s: bad shape (quantized rows "
                         "need dim %% 32 == 0)", table.buf->name, (unsigned long long)vocab, dim, vkg_dtype_name(tt));
    uint32_t elem = tt == VKG_DTYPE_F32 ? 4 : (tt == VKG_DTYPE_F16 || tt == VKG_DTYPE_BF16) ? 2 : 1;
    if (table.offset % elem || vocab * *row_bytes > table.size)
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'embed': table [%llu][%u] %s needs %llu bytes; view of '%s' has "
                         "%llu at offset %llu", (unsigned long long)vocab, dim, vkg_dtype_name(tt),
                         (unsigned long long)(vocab * *row_bytes), table.buf->name, (unsigned long long)table.size,
                         (unsigned long long)table.offset);
    if (*row_bytes > vkg_max_window_bytes(table.buf->dev))
        return vkg_error(VKG_ERR_LIMIT, "op 'embed': one row of '%s' exceeds the binding range", table.buf->name);
    return VKG_OK;
}

enum vkg_status vkg_op_embed(struct vkg_cmd *c, struct vkg_view table, enum vkg_dtype tt, uint64_t vocab,
                             uint32_t dim, struct vkg_view ids, uint64_t n_tokens, float scale, struct vkg_view out)
{
    uint64_t row_bytes = 0, per = 0;
    VKG_TRY(embed_check(table, tt, vocab, dim, &row_bytes));
    if (n_tokens == 0) return VKG_OK;
    struct rows r[2] = { { ids, 1, 1, "ids" }, { out, dim, dim, "out" } };
    VKG_TRY(check_rows("embed", r, 2, n_tokens));
    VKG_TRY(chunk_tokens(c->dev, "embed", r, 2, &per));
    struct vkg_view v[3];
    uint32_t off[2];
    struct vkg_push_embed p = { .dim = dim, .vocab = (uint32_t)vocab, .scale = scale };
    for (uint64_t t0 = 0; t0 < n_tokens; t0 += per) {
        uint64_t nt = n_tokens - t0 < per ? n_tokens - t0 : per;
        struct vkg_view w[2];
        VKG_TRY(bind_rows(c->dev, r, 2, t0, nt, w, off));
        v[0] = w[0], v[2] = w[1];
        p.n_tokens = (uint32_t)nt, p.ids_off = off[0], p.out_off = off[1];
        VKG_TRY(embed_chunk(c, embed_op(tt), table, row_bytes, vocab, v, &p));
    }
    return VKG_OK;
}

/* ---- RMSNorm ------------------------------------------------------------ */

static uint64_t rmsnorm_push(void *push, const void *args, uint64_t nt, const uint32_t *off, uint32_t ls)
{
    const struct vkg_rmsnorm_args *a = args;
    struct vkg_push_rmsnorm *p = push;
    p->rows = (uint32_t)(nt * a->group);
    p->x_off = off[0], p->y_off = off[2];
    p->r_off = a->residual.buf ? off[3] : 0;
    return p->rows; /* one workgroup per row */
}

enum vkg_status vkg_op_rmsnorm_ex(struct vkg_cmd *c, const struct vkg_rmsnorm_args *a)
{
    uint64_t extent = (uint64_t)a->group * a->n;
    if (a->n == 0 || a->group == 0 || extent > a->x_stride || extent > a->y_stride || a->x_stride > UINT32_MAX ||
        a->y_stride > UINT32_MAX || (a->kind != VKG_RMSNORM_PLAIN && a->kind != VKG_RMSNORM_GEMMA))
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'rmsnorm': %u rows of %u per token do not fit strides x %llu / "
                         "y %llu (or bad kind %d)", a->group, a->n, (unsigned long long)a->x_stride,
                         (unsigned long long)a->y_stride, (int)a->kind);
    if (a->tokens == 0) return VKG_OK;
    int add = a->residual.buf != NULL, sg = c->dev->use.subgroup_arith;
    enum vkg_op op = add ? (sg ? VKG_OP_RMSNORM_ADD_SG : VKG_OP_RMSNORM_ADD) : (sg ? VKG_OP_RMSNORM_SG : VKG_OP_RMSNORM);
    struct rows r[4] = { { a->x, a->x_stride, extent, "x" }, { a->w, 0, a->n, "weight" },
                         { a->y, a->y_stride, extent, "y" }, { a->residual, a->x_stride, extent, "residual" } };
    struct vkg_push_rmsnorm p = { .n = a->n, .group = a->group, .x_stride = (uint32_t)a->x_stride,
                                  .y_stride = (uint32_t)a->y_stride, .eps = a->eps,
                                  .w_add = a->kind == VKG_RMSNORM_GEMMA ? 1.0f : 0.0f };
    return run_rows(c, op, r, add ? 4 : 3, a->tokens, &p, a, rmsnorm_push);
}

enum vkg_status vkg_op_rmsnorm(struct vkg_cmd *c, struct vkg_view x, struct vkg_view w, struct vkg_view y,
                               uint64_t rows, uint32_t n, float eps, enum vkg_rmsnorm_kind kind)
{
    struct vkg_rmsnorm_args a = { .x = x, .w = w, .y = y, .tokens = rows, .group = 1, .n = n, .x_stride = n,
                                  .y_stride = n, .eps = eps, .kind = kind };
    return vkg_op_rmsnorm_ex(c, &a);
}

enum vkg_status vkg_op_rmsnorm_add(struct vkg_cmd *c, struct vkg_view x, struct vkg_view residual, struct vkg_view w,
                                   struct vkg_view y, uint64_t rows, uint32_t n, float eps,
                                   enum vkg_rmsnorm_kind kind)
{
    if (!residual.buf) return vkg_error(VKG_ERR_INVALID_ARG, "op 'rmsnorm_add': no residual buffer");
    struct vkg_rmsnorm_args a = { .x = x, .residual = residual, .w = w, .y = y, .tokens = rows, .group = 1, .n = n,
                                  .x_stride = n, .y_stride = n, .eps = eps, .kind = kind };
    return vkg_op_rmsnorm_ex(c, &a);
}

/* ---- RoPE --------------------------------------------------------------- */

static uint64_t rope_push(void *push, const void *args, uint64_t nt, const uint32_t *off, uint32_t ls)
{
    struct vkg_push_rope *p = push;
    p->n_tokens = (uint32_t)nt, p->x_off = off[0], p->pos_off = off[1];
    return ceil_div(nt * p->n_heads * (p->rot_dim / 2), ls);
}

enum vkg_status vkg_op_rope(struct vkg_cmd *c, const struct vkg_rope_args *a)
{
    uint64_t extent = (uint64_t)(a->n_heads ? a->n_heads - 1 : 0) * a->head_stride + a->dim_off + a->rot_dim;
    if (a->rot_dim == 0 || a->rot_dim % 2 || a->n_heads == 0 || (uint64_t)a->dim_off + a->rot_dim > a->head_stride ||
        extent > a->tok_stride || a->tok_stride > UINT32_MAX)
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'rope': rot_dim %u at dim %u of heads %u x stride %u in tokens of "
                         "%llu elements: rot_dim must be even and every head inside its token", a->rot_dim,
                         a->dim_off, a->n_heads, a->head_stride, (unsigned long long)a->tok_stride);
    if (a->tokens == 0) return VKG_OK;
    struct rows r[3] = { { a->x, a->tok_stride, extent, "x" }, { a->pos, 1, 1, "positions" },
                         { a->inv_freq, 0, a->rot_dim / 2, "inv_freq" } };
    struct vkg_push_rope p = { .n_heads = a->n_heads, .head_stride = a->head_stride,
                               .tok_stride = (uint32_t)a->tok_stride, .rot_dim = a->rot_dim, .dim_off = a->dim_off,
                               .interleaved = a->interleaved != 0, .attn_factor = a->attn_factor };
    return run_rows(c, VKG_OP_ROPE, r, 3, a->tokens, &p, a, rope_push);
}

/* ---- gated activations -------------------------------------------------- */

static uint64_t glu_push(void *push, const void *args, uint64_t nt, const uint32_t *off, uint32_t ls)
{
    struct vkg_push_glu *p = push;
    p->rows = (uint32_t)nt, p->gate_off = off[0], p->up_off = off[1], p->out_off = off[2];
    return ceil_div(nt * p->n, ls);
}

/* gate/up/out row strides in elements */
static enum vkg_status glu_run(struct vkg_cmd *c, enum vkg_glu_kind kind, struct vkg_view gate, uint64_t gs,
                               struct vkg_view up, uint64_t us, struct vkg_view out, uint64_t rows, uint32_t n)
{
    if (kind != VKG_GLU_SWIGLU && kind != VKG_GLU_GEGLU)
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'glu': kind %d unknown", (int)kind);
    if (n == 0 || gs > UINT32_MAX) return vkg_error(VKG_ERR_INVALID_ARG, "op 'glu': row length %u", n);
    if (rows == 0) return VKG_OK;
    struct rows r[3] = { { gate, gs, n, "gate" }, { up, us, n, "up" }, { out, n, n, "out" } };
    struct vkg_push_glu p = { .n = n, .gate_stride = (uint32_t)gs, .up_stride = (uint32_t)us, .out_stride = n };
    return run_rows(c, kind == VKG_GLU_SWIGLU ? VKG_OP_SWIGLU : VKG_OP_GEGLU, r, 3, rows, &p, NULL, glu_push);
}

enum vkg_status vkg_op_glu(struct vkg_cmd *c, enum vkg_glu_kind kind, struct vkg_view gate, struct vkg_view up,
                           struct vkg_view out, uint64_t rows, uint32_t n)
{
    return glu_run(c, kind, gate, n, up, n, out, rows, n);
}

enum vkg_status vkg_op_glu_fused(struct vkg_cmd *c, enum vkg_glu_kind kind, struct vkg_view x, struct vkg_view out,
                                 uint64_t rows, uint32_t n)
{
    if ((uint64_t)n * 4 > x.size)
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'glu': fused input '%s' smaller than one row", x.buf->name);
    /* up is the same buffer shifted by n: both bindings alias one tensor */
    return glu_run(c, kind, x, 2 * (uint64_t)n, vkg_view_sub(x, (uint64_t)n * 4, x.size - (uint64_t)n * 4), 2 * (uint64_t)n,
                   out, rows, n);
}

/* ---- element-wise ------------------------------------------------------- */

static uint64_t eltwise_push(void *push, const void *args, uint64_t nt, const uint32_t *off, uint32_t ls)
{
    struct vkg_push_eltwise *p = push;
    int has_b = *(const int *)args;
    p->n = (uint32_t)nt, p->a_off = off[0];
    p->b_off = has_b ? off[1] : 0;
    p->out_off = off[has_b ? 2 : 1];
    return ceil_div(nt, ls);
}

/* Elements are "tokens" of one element each, so chunks are ranges of elements. */
static enum vkg_status eltwise_run(struct vkg_cmd *c, enum vkg_op op, struct vkg_view a, const struct vkg_view *b,
                                   struct vkg_view out, uint64_t n, float f)
{
    int has_b = b != NULL;
    struct rows r[3] = { { a, 1, 1, "a" }, { has_b ? *b : out, 1, 1, has_b ? "b" : "out" }, { out, 1, 1, "out" } };
    struct vkg_push_eltwise p = { .f = f };
    if (n == 0) return VKG_OK;
    return run_rows(c, op, r, has_b ? 3 : 2, n, &p, &has_b, eltwise_push);
}

enum vkg_status vkg_op_softcap(struct vkg_cmd *c, struct vkg_view a, struct vkg_view out, uint64_t n, float cap)
{
    if (!(cap > 0)) return vkg_error(VKG_ERR_INVALID_ARG, "op 'softcap': cap %g must be > 0", cap);
    return eltwise_run(c, VKG_OP_SOFTCAP, a, NULL, out, n, cap);
}

enum vkg_status vkg_op_add(struct vkg_cmd *c, struct vkg_view a, struct vkg_view b, struct vkg_view out, uint64_t n)
{
    return eltwise_run(c, VKG_OP_ADD, a, &b, out, n, 0.0f);
}

enum vkg_status vkg_op_scale(struct vkg_cmd *c, struct vkg_view a, struct vkg_view out, uint64_t n, float s)
{
    return eltwise_run(c, VKG_OP_SCALE, a, NULL, out, n, s);
}
