/* ops_rows.c — token-row tensors chunked into binding windows (ops_rows.h). */
#include "ops_rows.h"

#include "vk_check.h"

uint64_t vkg_rows_bytes(const struct vkg_rows *r, uint64_t tokens)
{
    return r->stride ? ((tokens - 1) * r->stride + r->extent) * 4 : r->extent * 4;
}

enum vkg_status vkg_rows_check(const char *op, const struct vkg_rows *r, uint32_t n, uint64_t tokens)
{
    for (uint32_t i = 0; i < n; i++) {
        if (!r[i].v.buf) return vkg_error(VKG_ERR_INVALID_ARG, "op '%s': tensor %s has no buffer", op, r[i].what);
        if (r[i].v.offset % 4 || vkg_rows_bytes(&r[i], tokens) > r[i].v.size)
            return vkg_error(VKG_ERR_INVALID_ARG,
                             "op '%s': %s needs %llu bytes (4-byte aligned) but view of '%s' "
                             "has %llu at offset %llu",
                             op, r[i].what, (unsigned long long)vkg_rows_bytes(&r[i], tokens), r[i].v.buf->name,
                             (unsigned long long)r[i].v.size, (unsigned long long)r[i].v.offset);
    }
    return VKG_OK;
}

enum vkg_status vkg_rows_chunk(const struct vkg_device *dev, const char *op, const struct vkg_rows *r, uint32_t n,
                               uint64_t *out)
{
    uint64_t lim = vkg_max_window_bytes(dev) / 4, best = UINT32_MAX; /* shaders index with uint */
    for (uint32_t i = 0; i < n; i++) {
        if (r[i].extent > lim)
            return vkg_error(VKG_ERR_LIMIT, "op '%s': one row of %s (%llu bytes in '%s') exceeds the binding range", op,
                             r[i].what, (unsigned long long)r[i].extent * 4, r[i].v.buf->name);
        if (r[i].stride && (lim - r[i].extent) / r[i].stride + 1 < best) best = (lim - r[i].extent) / r[i].stride + 1;
    }
    *out = best;
    return VKG_OK;
}

enum vkg_status vkg_rows_bind(const struct vkg_device *dev, const struct vkg_rows *r, uint32_t n, uint64_t t0,
                              uint64_t nt, struct vkg_view *win, uint32_t *off)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t skip;
        VKG_TRY(vkg_view_window(dev, r[i].v, t0 * r[i].stride * 4, vkg_rows_bytes(&r[i], nt), &win[i], &skip));
        off[i] = (uint32_t)(skip / 4);
    }
    return VKG_OK;
}

enum vkg_status vkg_rows_run_pick(struct vkg_cmd *c, enum vkg_op op, const struct vkg_rows *r, uint32_t n,
                                  uint64_t tokens, void *push, const void *args, vkg_rows_push_fn fill,
                                  vkg_rows_pick_fn pick)
{
    const char *name = vkg_op_kernel(op)->name;
    uint64_t per = 0;
    struct vkg_view win[VKG_ROWS_MAX_VIEWS];
    uint32_t off[4];
    if (n > 4) return vkg_error(VKG_ERR_INVALID_ARG, "op '%s': %u row tensors (at most 4)", name, n);
    VKG_TRY(vkg_rows_check(name, r, n, tokens));
    VKG_TRY(vkg_rows_chunk(c->dev, name, r, n, &per));
    for (uint64_t t0 = 0; t0 < tokens; t0 += per) {
        uint64_t nt = tokens - t0 < per ? tokens - t0 : per;
        VKG_TRY(vkg_rows_bind(c->dev, r, n, t0, nt, win, off));
        uint64_t groups = fill(push, args, nt, off, vkg_op_kernel(op)->local_size);
        uint32_t nb = n;
        enum vkg_op run = pick ? pick(c, op, args, win, off, &nb) : op;
        if (groups) VKG_TRY(vkg_cmd_dispatch_op_1d(c, run, win, nb, push, groups));
    }
    return VKG_OK;
}

enum vkg_status vkg_rows_run(struct vkg_cmd *c, enum vkg_op op, const struct vkg_rows *r, uint32_t n, uint64_t tokens,
                             void *push, const void *args, vkg_rows_push_fn fill)
{
    return vkg_rows_run_pick(c, op, r, n, tokens, push, args, fill, NULL);
}
