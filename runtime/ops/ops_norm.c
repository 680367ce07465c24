/* ops_norm.c — launchers of the norm family (ops_norm.h). Work is split by
 * tokens (ops_rows.h): each chunk of tokens binds one window per tensor,
 * sized so every window fits maxStorageBufferRange; the embedding table is
 * in addition bound one window of rows at a time. */
#include "ops_norm.h"

#include "ops_rows.h"
#include "push_matmul.h"
#include "vk_check.h"

/* ---- embedding ---------------------------------------------------------- */

static enum vkg_op embed_op(enum vkg_dtype t)
{
    switch (t) {
    case VKG_DTYPE_F32: return VKG_OP_EMBED_F32;
    case VKG_DTYPE_F16: return VKG_OP_EMBED_F16;
    case VKG_DTYPE_BF16: return VKG_OP_EMBED_BF16;
    case VKG_DTYPE_Q8_0: return VKG_OP_EMBED_Q8_0;
    case VKG_DTYPE_Q4: return VKG_OP_EMBED_Q4;
    case VKG_DTYPE_Q4_1: return VKG_OP_EMBED_Q4_1;
    case VKG_DTYPE_Q5_0: return VKG_OP_EMBED_Q5_0;
    case VKG_DTYPE_Q5_1: return VKG_OP_EMBED_Q5_1;
    case VKG_DTYPE_Q4_K: return VKG_OP_EMBED_Q4_K;
    case VKG_DTYPE_Q5_K: return VKG_OP_EMBED_Q5_K;
    case VKG_DTYPE_Q6_K: return VKG_OP_EMBED_Q6_K;
    default: return VKG_OP_COUNT;
    }
}

/* One token chunk (ids + out already windowed): one dispatch per window of table rows. */
static enum vkg_status embed_chunk(struct vkg_cmd *c, enum vkg_op op, struct vkg_view table, uint64_t row_bytes,
                                   uint64_t vocab, struct vkg_view *v, struct vkg_push_embed *p)
{
    uint64_t rows_per_win = vkg_max_window_bytes(c->dev) / row_bytes;
    if (p->tiled) rows_per_win -= rows_per_win % VKG_MATMUL_TILE_ROWS; /* windows of whole tiles */
    if (rows_per_win == 0)
        return vkg_error(VKG_ERR_LIMIT, "op 'embed': %u tiled rows exceed the binding range", VKG_MATMUL_TILE_ROWS);
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
        return vkg_error(VKG_ERR_UNSUPPORTED,
                         "op 'embed': table '%s' of %s: only F32/F16/BF16/Q8_0/Q4/Q4_1/Q5_0/Q5_1/Q4_K/Q5_K/Q6_K",
                         table.buf->name, vkg_dtype_name(tt));
    if (dim == 0 || vocab == 0 || vocab > UINT32_MAX || vkg_dtype_bytes(tt, dim, row_bytes) != VKG_OK)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op 'embed': table '%s' [%llu][%u] %s: bad shape (quantized rows "
                         "need dim %% 32 == 0, K-quants dim %% 256 == 0)",
                         table.buf->name, (unsigned long long)vocab, dim, vkg_dtype_name(tt));
    /* alignment: the element; Q8_0/Q4 any byte; F16/BF16 and ggml's blocks (all of even size) even bytes */
    uint32_t elem = tt == VKG_DTYPE_F32 ? 4 : (tt == VKG_DTYPE_Q8_0 || tt == VKG_DTYPE_Q4) ? 1 : 2;
    if (table.offset % elem || vocab * *row_bytes > table.size)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op 'embed': table [%llu][%u] %s needs %llu bytes; view of '%s' has "
                         "%llu at offset %llu",
                         (unsigned long long)vocab, dim, vkg_dtype_name(tt), (unsigned long long)(vocab * *row_bytes),
                         table.buf->name, (unsigned long long)table.size, (unsigned long long)table.offset);
    if (*row_bytes > vkg_max_window_bytes(table.buf->dev))
        return vkg_error(VKG_ERR_LIMIT, "op 'embed': one row of '%s' exceeds the binding range", table.buf->name);
    return VKG_OK;
}

enum vkg_status vkg_op_embed(struct vkg_cmd *c, struct vkg_view table, enum vkg_dtype tt, uint64_t vocab, uint32_t dim,
                             struct vkg_view ids, uint64_t n_tokens, float scale, struct vkg_view out)
{
    return vkg_op_embed_ex(c, table, tt, vocab, dim, ids, n_tokens, scale, out, 0);
}

enum vkg_status vkg_op_embed_ex(struct vkg_cmd *c, struct vkg_view table, enum vkg_dtype tt, uint64_t vocab,
                                uint32_t dim, struct vkg_view ids, uint64_t n_tokens, float scale, struct vkg_view out,
                                int tiled)
{
    uint64_t row_bytes = 0, per = 0;
    VKG_TRY(embed_check(table, tt, vocab, dim, &row_bytes));
    if (tiled && (vkg_dtype_is_block(tt) ? dim % 256 : dim % 8))
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op 'embed': table '%s' tiled but %s with dim %u (F32/F16/BF16: dim %% 8 == 0, block "
                         "types: dim %% 256 == 0)",
                         table.buf->name, vkg_dtype_name(tt), dim);
    if (tiled && tt == VKG_DTYPE_Q6_K && vocab % VKG_MATMUL_TILE_ROWS)
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'embed': table '%s' is a tiled Q6_K of %llu rows (whole tiles of %u)",
                         table.buf->name, (unsigned long long)vocab, VKG_MATMUL_TILE_ROWS);
    if (n_tokens == 0) return VKG_OK;
    struct vkg_rows r[2] = { { ids, 1, 1, "ids" }, { out, dim, dim, "out" } };
    VKG_TRY(vkg_rows_check("embed", r, 2, n_tokens));
    VKG_TRY(vkg_rows_chunk(c->dev, "embed", r, 2, &per));
    struct vkg_view v[3];
    uint32_t off[2];
    struct vkg_push_embed p = { .dim = dim, .vocab = (uint32_t)vocab, .scale = scale, .tiled = tiled != 0 };
    for (uint64_t t0 = 0; t0 < n_tokens; t0 += per) {
        uint64_t nt = n_tokens - t0 < per ? n_tokens - t0 : per;
        struct vkg_view w[2];
        VKG_TRY(vkg_rows_bind(c->dev, r, 2, t0, nt, w, off));
        v[0] = w[0];
        v[2] = w[1];
        p.n_tokens = (uint32_t)nt;
        p.ids_off = off[0];
        p.out_off = off[1];
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
    p->x_off = off[0];
    p->y_off = off[2];
    p->r_off = a->residual.buf ? off[3] : 0;
    /* one workgroup per row; the lane tier: one subgroup (8 lanes) per row */
    return ls == VKG_RMSNORM_LANE_LOCAL ? vkg_ceil_div(p->rows, ls / 8) : p->rows;
}

/* The lane tier's kernel for one chunk (vkg_rows_run_pick): a chunk whose rows all start on a texel
 * (windows on the device's texel alignment, offsets, strides and n multiples of 4 elements, the
 * weight at its window's start) takes the *_tx twin, which reads x, the weight and the residual as
 * texels (the residual through a fifth binding of its memory); any other takes the storage kernel.
 * Both sum in the same order (rmsnorm.comp), so the choice never changes a bit. */
static enum vkg_op rmsnorm_lane_pick(const struct vkg_cmd *c, enum vkg_op op, const void *args, struct vkg_view *win,
                                     const uint32_t *off, uint32_t *nb)
{
    const struct vkg_rmsnorm_args *a = args;
    if (!c->dev->use.texel || a->n % 4 || a->x_stride % 4 || off[1]) return op;
    for (uint32_t i = 0; i < *nb; i++)
        if (i != 2 && (off[i] % 4 || !vkg_view_texel_ok(c->dev, win[i]))) return op;
    if (*nb == 4) win[(*nb)++] = win[3]; /* the residual's texel binding */
    return op == VKG_OP_RMSNORM_ADD_LANE ? VKG_OP_RMSNORM_ADD_LANE_TX : VKG_OP_RMSNORM_LANE_TX;
}

enum vkg_status vkg_op_rmsnorm_ex(struct vkg_cmd *c, const struct vkg_rmsnorm_args *a)
{
    uint64_t extent = (uint64_t)a->group * a->n;
    if (a->n == 0 || a->group == 0 || extent > a->x_stride || extent > a->y_stride || a->x_stride > UINT32_MAX ||
        a->y_stride > UINT32_MAX || (a->kind != VKG_RMSNORM_PLAIN && a->kind != VKG_RMSNORM_GEMMA))
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op 'rmsnorm': %u rows of %u per token do not fit strides x %llu / "
                         "y %llu (or bad kind %d)",
                         a->group, a->n, (unsigned long long)a->x_stride, (unsigned long long)a->y_stride,
                         (int)a->kind);
    if (a->tokens == 0) return VKG_OK;
    int add = a->residual.buf != NULL, sg = c->dev->use.subgroup_arith;
    enum vkg_op op =
        add ? (sg ? VKG_OP_RMSNORM_ADD_SG : VKG_OP_RMSNORM_ADD) : (sg ? VKG_OP_RMSNORM_SG : VKG_OP_RMSNORM);
    if (sg && c->dev->use.lane_tier) op = add ? VKG_OP_RMSNORM_ADD_LANE : VKG_OP_RMSNORM_LANE;
    struct vkg_rows r[4] = { { a->x, a->x_stride, extent, "x" },
                             { a->w, 0, a->n, "weight" },
                             { a->y, a->y_stride, extent, "y" },
                             { a->residual, a->x_stride, extent, "residual" } };
    struct vkg_push_rmsnorm p = { .n = a->n,
                                  .group = a->group,
                                  .x_stride = (uint32_t)a->x_stride,
                                  .y_stride = (uint32_t)a->y_stride,
                                  .eps = a->eps,
                                  .w_add = a->kind == VKG_RMSNORM_GEMMA ? 1.0f : 0.0f };
    int lane = op == VKG_OP_RMSNORM_LANE || op == VKG_OP_RMSNORM_ADD_LANE;
    return vkg_rows_run_pick(c, op, r, add ? 4 : 3, a->tokens, &p, a, rmsnorm_push, lane ? rmsnorm_lane_pick : NULL);
}

/* Contiguous rows of n; residual.buf NULL: plain RMSNorm. */
static enum vkg_status rmsnorm_contig(struct vkg_cmd *c, struct vkg_view x, struct vkg_view residual, struct vkg_view w,
                                      struct vkg_view y, uint64_t rows, uint32_t n, float eps,
                                      enum vkg_rmsnorm_kind kind)
{
    struct vkg_rmsnorm_args a = { .x = x,
                                  .residual = residual,
                                  .w = w,
                                  .y = y,
                                  .tokens = rows,
                                  .group = 1,
                                  .n = n,
                                  .x_stride = n,
                                  .y_stride = n,
                                  .eps = eps,
                                  .kind = kind };
    return vkg_op_rmsnorm_ex(c, &a);
}

enum vkg_status vkg_op_rmsnorm(struct vkg_cmd *c, struct vkg_view x, struct vkg_view w, struct vkg_view y,
                               uint64_t rows, uint32_t n, float eps, enum vkg_rmsnorm_kind kind)
{
    struct vkg_view none = { 0 };
    return rmsnorm_contig(c, x, none, w, y, rows, n, eps, kind);
}

enum vkg_status vkg_op_rmsnorm_add(struct vkg_cmd *c, struct vkg_view x, struct vkg_view residual, struct vkg_view w,
                                   struct vkg_view y, uint64_t rows, uint32_t n, float eps, enum vkg_rmsnorm_kind kind)
{
    if (!residual.buf) return vkg_error(VKG_ERR_INVALID_ARG, "op 'rmsnorm_add': no residual buffer");
    return rmsnorm_contig(c, x, residual, w, y, rows, n, eps, kind);
}

/* ---- gated activations -------------------------------------------------- */

static uint64_t glu_push(void *push, const void *args, uint64_t nt, const uint32_t *off, uint32_t ls)
{
    struct vkg_push_glu *p = push;
    p->rows = (uint32_t)nt;
    p->gate_off = off[0];
    p->up_off = off[1];
    p->out_off = off[2];
    return vkg_ceil_div(nt * p->n, ls);
}

/* gate/up/out row strides in elements */
static enum vkg_status glu_run(struct vkg_cmd *c, enum vkg_glu_kind kind, struct vkg_view gate, uint64_t gs,
                               struct vkg_view up, uint64_t us, struct vkg_view out, uint64_t rows, uint32_t n)
{
    if (kind != VKG_GLU_SWIGLU && kind != VKG_GLU_GEGLU && kind != VKG_GLU_GEGLU_F16)
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'glu': kind %d unknown", (int)kind);
    if (n == 0 || gs > UINT32_MAX) return vkg_error(VKG_ERR_INVALID_ARG, "op 'glu': row length %u", n);
    if (rows == 0) return VKG_OK;
    struct vkg_rows r[3] = { { gate, gs, n, "gate" }, { up, us, n, "up" }, { out, n, n, "out" } };
    struct vkg_push_glu p = { .n = n, .gate_stride = (uint32_t)gs, .up_stride = (uint32_t)us, .out_stride = n };
    enum vkg_op op = kind == VKG_GLU_SWIGLU ? VKG_OP_SWIGLU : kind == VKG_GLU_GEGLU ? VKG_OP_GEGLU : VKG_OP_GEGLU_F16;
    return vkg_rows_run(c, op, r, 3, rows, &p, NULL, glu_push);
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
    return glu_run(c, kind, x, 2 * (uint64_t)n, vkg_view_sub(x, (uint64_t)n * 4, x.size - (uint64_t)n * 4),
                   2 * (uint64_t)n, out, rows, n);
}

/* ---- element-wise ------------------------------------------------------- */

static uint64_t eltwise_push(void *push, const void *args, uint64_t nt, const uint32_t *off, uint32_t ls)
{
    struct vkg_push_eltwise *p = push;
    int has_b = *(const int *)args;
    p->n = (uint32_t)nt;
    p->a_off = off[0];
    p->b_off = has_b ? off[1] : 0;
    p->out_off = off[has_b ? 2 : 1];
    return vkg_ceil_div(nt, ls);
}

/* Elements are "tokens" of one element each, so chunks are ranges of elements. */
static enum vkg_status eltwise_run(struct vkg_cmd *c, enum vkg_op op, struct vkg_view a, const struct vkg_view *b,
                                   struct vkg_view out, uint64_t n, float f)
{
    int has_b = b != NULL;
    struct vkg_rows r[3] = { { a, 1, 1, "a" }, { has_b ? *b : out, 1, 1, has_b ? "b" : "out" }, { out, 1, 1, "out" } };
    struct vkg_push_eltwise p = { .f = f };
    if (n == 0) return VKG_OK;
    return vkg_rows_run(c, op, r, has_b ? 3 : 2, n, &p, &has_b, eltwise_push);
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
