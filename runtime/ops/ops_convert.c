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
    int per_word_dst;            /* to-16-bit: one invocation per output word */
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

enum vkg_status vkg_op_convert(struct vkg_cmd *c, struct vkg_view src, enum vkg_dtype st,
                               struct vkg_view dst, enum vkg_dtype dt, uint64_t n)
{
    struct ew_job j = { .src = src, .dst = dst, .src_size = elem_bytes(st), .dst_size = elem_bytes(dt) };
    if (!j.src_size || !j.dst_size)
        return vkg_error(VKG_ERR_UNSUPPORTED, "convert %s -> %s: only F32/F16/BF16 here", vkg_dtype_name(st),
                         vkg_dtype_name(dt));
    if (n * j.src_size > src.size || n * j.dst_size > dst.size)
        return vkg_error(VKG_ERR_INVALID_ARG, "convert %llu elements: view of '%s' or '%s' too small",
                         (unsigned long long)n, src.buf->name, dst.buf->name);
    if (st == dt) return vkg_op_copy(c, src, dst, n * j.src_size); /* F16/BF16 copies must be 4-byte sized */
    if (st == VKG_DTYPE_F32 && dt == VKG_DTYPE_F16) j.op = VKG_OP_CONVERT_F32_F16, j.per_word_dst = 1;
    else if (st == VKG_DTYPE_F32 && dt == VKG_DTYPE_BF16) j.op = VKG_OP_CONVERT_F32_BF16, j.per_word_dst = 1;
    else if (st == VKG_DTYPE_F16 && dt == VKG_DTYPE_F32) j.op = VKG_OP_CONVERT_F16_F32;
    else if (st == VKG_DTYPE_BF16 && dt == VKG_DTYPE_F32) j.op = VKG_OP_CONVERT_BF16_F32;
    else
        return vkg_error(VKG_ERR_UNSUPPORTED, "convert %s -> %s: convert through F32", vkg_dtype_name(st),
                         vkg_dtype_name(dt));
    return run_elementwise(c, &j, n);
}

static enum vkg_status check_words(const char *what, struct vkg_view v, uint64_t bytes)
{
    if (bytes % 4 || v.offset % 4 || bytes > v.size)
        return vkg_error(VKG_ERR_INVALID_ARG, "%s of %llu bytes at offset %llu of '%s': needs 4-byte multiples "
                         "within the view", what, (unsigned long long)bytes, (unsigned long long)v.offset, v.buf->name);
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
