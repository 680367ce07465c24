/* ops_convert.c — convert / copy / fill launchers over binding windows. */
#include "ops_convert.h"

#include "vk_check.h"

/* Element-wise work over [0, n): each chunk binds one window of src and one of
 * dst; elements per chunk are limited so both windows fit one binding. */
struct ew_job {
    enum vkg_op op;
    struct vkg_view src, dst;
    uint32_t src_size, dst_size; /* bytes per element (0: no source binding) */
    uint32_t value;
    int per_word_dst; /* to-16-bit: one invocation per output word */
};

static enum vkg_status run_chunk(struct vkg_cmd *c, const struct ew_job *j, uint64_t e0, uint64_t n)
{
    struct vkg_view v[2], w;
    uint64_t skip;
    uint32_t nv = 0;
    struct vkg_push_convert p = { .n = (uint32_t)n, .value = j->value };
    if (j->src_size) {
        VKG_TRY(vkg_view_window(c->dev, j->src, e0 * j->src_size, n * j->src_size, &w, &skip));
        v[nv++] = w;
        p.src_off = (uint32_t)(skip / j->src_size);
    }
    VKG_TRY(vkg_view_window(c->dev, j->dst, e0 * j->dst_size, n * j->dst_size, &w, &skip));
    v[nv++] = w;
    p.dst_off = (uint32_t)(skip / j->dst_size);
    uint64_t threads = n;
    if (j->per_word_dst) threads = ((p.dst_off + n - 1) >> 1) - (p.dst_off >> 1) + 1;
    uint32_t ls = vkg_op_kernel(j->op)->local_size;
    return vkg_cmd_dispatch_op_1d(c, j->op, v, nv, &p, (threads + ls - 1) / ls);
}

static enum vkg_status run_elementwise(struct vkg_cmd *c, const struct ew_job *j, uint64_t n)
{
    uint32_t widest = j->src_size > j->dst_size ? j->src_size : j->dst_size;
    uint64_t chunk = vkg_max_window_bytes(c->dev) / widest & ~(uint64_t)1; /* even: 16-bit pairs stay whole */
    for (uint64_t e0 = 0; e0 < n; e0 += chunk) {
        if (e0) vkg_cmd_barrier(c); /* chunks may share a boundary word */
        VKG_TRY(run_chunk(c, j, e0, n - e0 < chunk ? n - e0 : chunk));
    }
    return VKG_OK;
}

static uint32_t elem_bytes(enum vkg_dtype t)
{
    return t == VKG_DTYPE_F32 ? 4 : (t == VKG_DTYPE_F16 || t == VKG_DTYPE_BF16) ? 2 : 0;
}

enum vkg_status vkg_op_convert(struct vkg_cmd *c, struct vkg_view src, enum vkg_dtype st, struct vkg_view dst,
                               enum vkg_dtype dt, uint64_t n)
{
    struct ew_job j = { .src = src, .dst = dst, .src_size = elem_bytes(st), .dst_size = elem_bytes(dt) };
    if (!j.src_size || !j.dst_size)
        return vkg_error(VKG_ERR_UNSUPPORTED, "convert %s -> %s: only F32/F16/BF16 here", vkg_dtype_name(st),
                         vkg_dtype_name(dt));
    if (n * j.src_size > src.size || n * j.dst_size > dst.size)
        return vkg_error(VKG_ERR_INVALID_ARG, "convert %llu elements: view of '%s' or '%s' too small",
                         (unsigned long long)n, src.buf->name, dst.buf->name);
    if (st == dt) return vkg_op_copy(c, src, dst, n * j.src_size); /* F16/BF16 copies must be 4-byte sized */
    if (st == VKG_DTYPE_F32 && dt == VKG_DTYPE_F16) j.op = VKG_OP_CONVERT_F32_F16;
    else if (st == VKG_DTYPE_F32 && dt == VKG_DTYPE_BF16) j.op = VKG_OP_CONVERT_F32_BF16;
    else if (st == VKG_DTYPE_F16 && dt == VKG_DTYPE_F32) j.op = VKG_OP_CONVERT_F16_F32;
    else if (st == VKG_DTYPE_BF16 && dt == VKG_DTYPE_F32) j.op = VKG_OP_CONVERT_BF16_F32;
    else
        return vkg_error(VKG_ERR_UNSUPPORTED, "convert %s -> %s: convert through F32", vkg_dtype_name(st),
                         vkg_dtype_name(dt));
    j.per_word_dst = dt != VKG_DTYPE_F32; /* to 16-bit: one invocation per output word */
    return run_elementwise(c, &j, n);
}

static enum vkg_status check_words(const char *what, struct vkg_view v, uint64_t bytes)
{
    if (bytes % 4 || v.offset % 4 || bytes > v.size)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "%s of %llu bytes at offset %llu of '%s': needs 4-byte multiples "
                         "within the view",
                         what, (unsigned long long)bytes, (unsigned long long)v.offset, v.buf->name);
    return VKG_OK;
}

enum vkg_status vkg_op_copy(struct vkg_cmd *c, struct vkg_view src, struct vkg_view dst, uint64_t bytes)
{
    VKG_TRY(check_words("copy source", src, bytes));
    VKG_TRY(check_words("copy destination", dst, bytes));
    struct ew_job j = { .op = VKG_OP_COPY_U32, .src = src, .dst = dst, .src_size = 4, .dst_size = 4 };
    return run_elementwise(c, &j, bytes / 4);
}

enum vkg_status vkg_op_fill(struct vkg_cmd *c, struct vkg_view dst, uint32_t value)
{
    VKG_TRY(check_words("fill", dst, dst.size));
    struct ew_job j = { .op = VKG_OP_FILL_U32, .dst = dst, .dst_size = 4, .value = value };
    return run_elementwise(c, &j, dst.size / 4);
}

/* ---- strided block copy -------------------------------------------------- */

#define CS_MAX_THREADS (1ull << 30) /* invocations per dispatch: the shader's index math stays in 32 bits */

/* Elements spanned by nb blocks of nr rows of cols (strides sb, sr), or
 * UINT64_MAX when that is more than limit (<= 2^62; no overflow on any stride). */
static uint64_t cs_span(uint64_t nb, uint64_t sb, uint64_t nr, uint64_t sr, uint64_t cols, uint64_t limit)
{
    uint64_t s = cols;
    if (nr > 1) {
        if (sr > limit / (nr - 1)) return UINT64_MAX;
        s += (nr - 1) * sr;
    }
    if (nb > 1) {
        if (sb > limit / (nb - 1)) return UINT64_MAX;
        s += (nb - 1) * sb;
    }
    return s > limit ? UINT64_MAX : s;
}

/* Largest k with (k-1)*stride + first <= w (0 when first > w; unbounded for stride 0). */
static uint64_t cs_fit(uint64_t first, uint64_t stride, uint64_t w)
{
    if (first > w) return 0;
    return stride ? (w - first) / stride + 1 : UINT64_MAX;
}

static uint64_t min3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Blocks [a0, a0+nb) x rows [b0, b0+nr): one dispatch over one window of src and one of dst. */
static enum vkg_status cs_dispatch(struct vkg_cmd *c, const struct vkg_copy_strided_args *a, uint64_t a0, uint64_t nb,
                                   uint64_t b0, uint64_t nr)
{
    struct vkg_push_copy_strided p = { .cols = a->cols, .rows = (uint32_t)nr, .blocks = (uint32_t)nb };
    p.src_row = nr > 1 ? (uint32_t)a->src_row : 0; /* a stride of one row or block is never used */
    p.dst_row = nr > 1 ? (uint32_t)a->dst_row : 0;
    p.src_block = nb > 1 ? (uint32_t)a->src_block : 0;
    p.dst_block = nb > 1 ? (uint32_t)a->dst_block : 0;
    struct vkg_view v[2];
    uint64_t skip, lim = UINT64_MAX >> 2;
    uint64_t s0 = a0 * a->src_block + b0 * a->src_row, d0 = a0 * a->dst_block + b0 * a->dst_row;
    VKG_TRY(vkg_view_window(c->dev, a->src, s0 * 4, cs_span(nb, p.src_block, nr, p.src_row, a->cols, lim) * 4, &v[0],
                            &skip));
    p.src_off = (uint32_t)(skip / 4);
    VKG_TRY(vkg_view_window(c->dev, a->dst, d0 * 4, cs_span(nb, p.dst_block, nr, p.dst_row, a->cols, lim) * 4, &v[1],
                            &skip));
    p.dst_off = (uint32_t)(skip / 4);
    uint64_t ls = vkg_op_kernel(VKG_OP_COPY_STRIDED)->local_size;
    return vkg_cmd_dispatch_op_1d(c, VKG_OP_COPY_STRIDED, v, 2, &p, (nb * nr * a->cols + ls - 1) / ls);
}

static enum vkg_status cs_check(const struct vkg_copy_strided_args *a, const char *what, struct vkg_view v,
                                uint64_t row, uint64_t block)
{
    if (!v.buf) return vkg_error(VKG_ERR_INVALID_ARG, "op 'copy_strided': no %s buffer", what);
    if (v.offset % 4 || cs_span(a->blocks, block, a->rows, row, a->cols, v.size / 4) == UINT64_MAX)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op 'copy_strided': %s '%s' (%llu bytes at offset %llu) does not hold "
                         "%u blocks x %u rows x %u cols with strides %llu / %llu elements (4-byte aligned)",
                         what, v.buf->name, (unsigned long long)v.size, (unsigned long long)v.offset, a->blocks,
                         a->rows, a->cols, (unsigned long long)block, (unsigned long long)row);
    return VKG_OK;
}

enum vkg_status vkg_op_copy_strided(struct vkg_cmd *c, const struct vkg_copy_strided_args *a)
{
    if (!a->cols || !a->rows || !a->blocks) return VKG_OK;
    VKG_TRY(cs_check(a, "source", a->src, a->src_row, a->src_block));
    VKG_TRY(cs_check(a, "destination", a->dst, a->dst_row, a->dst_block));
    uint64_t w = vkg_max_window_bytes(c->dev) / 4, lim = UINT64_MAX >> 2, per_block = (uint64_t)a->rows * a->cols;
    uint64_t es = cs_span(1, 0, a->rows, a->src_row, a->cols, lim),
             ed = cs_span(1, 0, a->rows, a->dst_row, a->cols, lim);
    if (es <= w && ed <= w && per_block <= CS_MAX_THREADS) { /* whole blocks per window */
        uint64_t nb = min3(cs_fit(es, a->src_block, w), cs_fit(ed, a->dst_block, w), CS_MAX_THREADS / per_block);
        for (uint64_t a0 = 0; a0 < a->blocks; a0 += nb)
            VKG_TRY(cs_dispatch(c, a, a0, a->blocks - a0 < nb ? a->blocks - a0 : nb, 0, a->rows));
        return VKG_OK;
    }
    uint64_t nr = min3(cs_fit(a->cols, a->src_row, w), cs_fit(a->cols, a->dst_row, w), CS_MAX_THREADS / a->cols);
    if (!nr)
        return vkg_error(VKG_ERR_LIMIT, "op 'copy_strided': one row of %u elements ('%s' -> '%s') exceeds a binding",
                         a->cols, a->src.buf->name, a->dst.buf->name);
    for (uint64_t a0 = 0; a0 < a->blocks; a0++) /* rows of one block per window */
        for (uint64_t b0 = 0; b0 < a->rows; b0 += nr)
            VKG_TRY(cs_dispatch(c, a, a0, 1, b0, a->rows - b0 < nr ? a->rows - b0 : nr));
    return VKG_OK;
}
