/* weights.c — streaming safetensors -> device through the staging ring,
 * converting on the GPU. */
#include "weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "ops.h"
#include "ops_matmul.h"
#include "staging.h"
#include "vk_check.h"

uint64_t vkg_rss_anon_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    uint64_t total = 0, kb;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %lu kB", &kb) == 1 || sscanf(line, "RssShmem: %lu kB", &kb) == 1) total += kb * 1024;
    fclose(f);
    return total;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

enum vkg_dtype vkg_weights_target(const struct vkg_weights_opts *o, enum vkg_dtype src, int n_dims, uint64_t inner)
{
    return vkg_dtype_on_device(o ? o->matrix_dtype : VKG_DTYPE_UNKNOWN, src, n_dims, inner);
}

/* Per-load state: the scratch buffer for two-step conversions and RSS tracking. */
struct loader {
    struct vkg_device *dev;
    const struct vkg_weights_opts *opts;
    struct vkg_weights *w;
    struct vkg_buffer *scratch; /* F32 chunk for F16 <-> BF16 */
    uint64_t done, total, rss_base;
    uint64_t dev_written; /* device bytes written so far */
};

static void track(struct loader *L)
{
    if (L->opts && L->opts->progress) L->opts->progress(L->opts->user, L->done, L->total);
    if (!L->opts || !L->opts->track_rss) return;
    /* On a CPU driver (lavapipe) device memory is anonymous host memory, resident as it is
     * written; the bytes written to device buffers are not the loader's overhead. */
    uint64_t rss = vkg_rss_anon_bytes(), dev_mem = L->dev_written;
    uint64_t used = rss > L->rss_base + dev_mem ? rss - L->rss_base - dev_mem : 0;
    if (used > L->w->peak_host_bytes) L->w->peak_host_bytes = used;
}

/* Drops the file pages of a consumed range so resident memory stays bounded too. */
static void release_pages(const void *p, uint64_t n)
{
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)p + (uintptr_t)pg - 1) & ~(uintptr_t)(pg - 1);
    uintptr_t b = ((uintptr_t)p + n) & ~(uintptr_t)(pg - 1);
    if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);
}

static uint32_t esize(enum vkg_dtype t) { return t == VKG_DTYPE_F32 ? 4 : 2; }

void vkg_weights_tile_rows(void *dst, const void *src, uint64_t rows, uint64_t n_in, uint32_t es, uint32_t g)
{
    uint64_t tpr = n_in / g, gb = (uint64_t)g * es, row_bytes = n_in * es;
    for (uint64_t t0 = 0; t0 < rows; t0 += VKG_MATMUL_TILE_ROWS) {
        uint64_t rt = rows - t0 < VKG_MATMUL_TILE_ROWS ? rows - t0 : VKG_MATMUL_TILE_ROWS;
        const uint8_t *s = (const uint8_t *)src + t0 * row_bytes;
        uint8_t *d = (uint8_t *)dst + t0 * row_bytes;
        for (uint64_t r = 0; r < rt; r++) { /* the source row in order; group kt of it to kt * rt + r */
            const uint8_t *sr = s + r * row_bytes;
            if (gb == 16)
                for (uint64_t kt = 0; kt < tpr; kt++) memcpy(d + (kt * rt + r) * 16, sr + kt * 16, 16);
            else
                for (uint64_t kt = 0; kt < tpr; kt++) memcpy(d + (kt * rt + r) * gb, sr + kt * gb, gb);
        }
    }
}

void vkg_weights_tile_q6k(void *dst, const void *src, uint64_t rows, uint64_t row_bytes)
{
    static const uint32_t fb[4] = { 0, 128, 192, 208 }, fn[4] = { 128, 64, 16, 2 }; /* ql, qh, scales, d */
    uint64_t nb = row_bytes / 210;
    for (uint64_t t0 = 0; t0 < rows; t0 += VKG_MATMUL_TILE_ROWS) {
        uint64_t rt = rows - t0 < VKG_MATMUL_TILE_ROWS ? rows - t0 : VKG_MATMUL_TILE_ROWS;
        for (uint64_t r = 0; r < rt; r++)
            for (uint64_t kb = 0; kb < nb; kb++) {
                const uint8_t *b = (const uint8_t *)src + (t0 + r) * row_bytes + kb * 210;
                uint8_t *g = (uint8_t *)dst + t0 * row_bytes + kb * rt * 210; /* the tile column */
                for (int f = 0; f < 4; f++) memcpy(g + rt * fb[f] + r * fn[f], b + fb[f], fn[f]);
            }
    }
}

/* One chunk of n elements starting at element e0: file -> slot -> (convert) -> tensor. */
static enum vkg_status upload_chunk(struct loader *L, const struct vkg_weight *wt, const uint8_t *src, uint64_t e0,
                                    uint64_t n)
{
    struct vkg_stage_slot *s;
    uint32_t ss = esize(wt->src_dtype);
    VKG_TRY(vkg_stage_begin(L->dev, &s));
    /* whole tiles per chunk: tiled into the slot, then copied, converted or quantized as they come. A
     * block type quantized here takes its tiles' 256-value units from the source in the tiles' order:
     * quantizing them in that order writes the blocks in it (upload_blocks' layout for the same type) */
    if (wt->tiled)
        vkg_weights_tile_rows(s->buf->mapped, src + e0 * ss, n / wt->shape[1], wt->shape[1], ss,
                              vkg_dtype_is_block(wt->dtype) ? 256 : 16 / esize(wt->dtype));
    else memcpy(s->buf->mapped, src + e0 * ss, n * ss);
    struct vkg_view in = vkg_view_sub(vkg_buffer_view(s->buf), 0, n * ss);
    enum vkg_dtype st = wt->src_dtype, dt = wt->dtype;
    enum vkg_status r = VKG_OK;
    if (st == dt) {
        vkg_cmd_copy(s->cmd, in, vkg_view_sub(wt->view, e0 * ss, n * ss), n * ss);
    } else if (dt == VKG_DTYPE_Q8_0 || dt == VKG_DTYPE_Q4) {
        uint64_t bb = dt == VKG_DTYPE_Q8_0 ? 34 : 18;
        struct vkg_view out = vkg_view_sub(wt->view, e0 / 32 * bb, n / 32 * bb);
        r = vkg_weights_quantize(s->cmd, in, st, out, dt, n);
    } else if (st == VKG_DTYPE_F32 || dt == VKG_DTYPE_F32) {
        r = vkg_op_convert(s->cmd, in, st, vkg_view_sub(wt->view, e0 * esize(dt), n * esize(dt)), dt, n);
    } else { /* F16 <-> BF16 through an F32 scratch chunk */
        struct vkg_view mid = vkg_view_sub(vkg_buffer_view(L->scratch), 0, n * 4);
        r = vkg_op_convert(s->cmd, in, st, mid, VKG_DTYPE_F32, n);
        vkg_cmd_barrier(s->cmd);
        if (r == VKG_OK) r = vkg_op_convert(s->cmd, mid, VKG_DTYPE_F32, vkg_view_sub(wt->view, e0 * 2, n * 2), dt, n);
    }
    enum vkg_status sr = vkg_stage_submit(L->dev, s); /* submit even on error: the slot must not stay open */
    return r != VKG_OK ? r : sr;
}

/* The tensor's own buffer, or the caller's slice (opts.dest[i]). */
static enum vkg_status place(struct loader *L, size_t i, const struct vkg_tensor_view *t, struct vkg_weight *wt)
{
    const struct vkg_view *d = L->opts && L->opts->dest ? &L->opts->dest[i] : NULL;
    if (!d || !d->buf) {
        VKG_TRY(vkg_buffer_create(L->dev, wt->n_bytes, VKG_MEM_DEVICE, t->name, &wt->buf));
        wt->view = vkg_buffer_view(wt->buf);
        return VKG_OK;
    }
    if (d->size != wt->n_bytes)
        return vkg_error(VKG_ERR_INVALID_ARG, "%s: tensor '%s': %llu device bytes, but its slice of '%s' has %llu",
                         t->file, t->name, (unsigned long long)wt->n_bytes, d->buf->name, (unsigned long long)d->size);
    wt->view = *d;
    return VKG_OK;
}

/* Quantized blocks from a GGUF (the device layouts are ggml's blocks): copied as stored, whole blocks
 * per staging slot; or tiled (a 2-D matrix of rows of 256k values with opts.tile): whole tiles per
 * chunk, each tile's units of 256 values (a K-quant block, 8 blocks of the others) put in the kernels'
 * order on the host as vkg_weights_tile_rows does for floats (the unit as the group of 1-byte elements:
 * unit kb of the tile's row r at (kb * rows in the tile + r)). */
static enum vkg_status upload_blocks(struct loader *L, size_t i, const struct vkg_tensor_view *t, struct vkg_weight *wt)
{
    if (wt->dtype != t->dtype)
        return vkg_error(VKG_ERR_UNSUPPORTED, "%s: tensor '%s': %s blocks cannot be converted to %s on upload", t->file,
                         t->name, vkg_dtype_name(t->dtype), vkg_dtype_name(wt->dtype));
    uint64_t bb = vkg_dtype_block_bytes(t->dtype);
    uint64_t chunk = L->dev->stage->slot_size / bb * bb;
    uint64_t row_bytes = t->n_dims == 2 ? t->n_bytes / t->shape[0] : 0, tile_bytes = VKG_MATMUL_TILE_ROWS * row_bytes;
    /* the unit of a tile: 256 values, one K-quant block or 8 of the 32-value types' */
    uint64_t unit = bb * (256 / vkg_dtype_block_size(t->dtype));
    /* Q6_K: the split fields (vkg_weights_tile_q6k) need whole tiles */
    int q6 = t->dtype == VKG_DTYPE_Q6_K;
    if (L->opts && L->opts->tile && L->opts->tile[i] && t->n_dims == 2 && t->shape[1] % 256 == 0 &&
        row_bytes % unit == 0 && tile_bytes <= chunk && (!q6 || t->shape[0] % VKG_MATMUL_TILE_ROWS == 0)) {
        wt->tiled = 1;
        chunk = chunk / tile_bytes * tile_bytes; /* whole tiles */
    }
    const uint8_t *src = t->data;
    for (uint64_t b0 = 0; b0 < t->n_bytes; b0 += chunk) {
        uint64_t n = t->n_bytes - b0 < chunk ? t->n_bytes - b0 : chunk;
        struct vkg_stage_slot *s;
        VKG_TRY(vkg_stage_begin(L->dev, &s));
        if (wt->tiled && q6) vkg_weights_tile_q6k(s->buf->mapped, src + b0, n / row_bytes, row_bytes);
        else if (wt->tiled)
            vkg_weights_tile_rows(s->buf->mapped, src + b0, n / row_bytes, row_bytes, 1, (uint32_t)unit);
        else memcpy(s->buf->mapped, src + b0, n);
        vkg_cmd_copy(s->cmd, vkg_view_sub(vkg_buffer_view(s->buf), 0, n), vkg_view_sub(wt->view, b0, n), n);
        VKG_TRY(vkg_stage_submit(L->dev, s));
        release_pages(src + b0, n);
        L->done += n;
        L->dev_written = L->w->device_bytes + b0 + n;
        track(L);
    }
    L->w->file_bytes += t->n_bytes;
    L->w->device_bytes += wt->n_bytes;
    return VKG_OK;
}

static enum vkg_status load_tensor(struct loader *L, size_t i, const struct vkg_tensor_view *t, struct vkg_weight *wt)
{
    uint64_t numel = vkg_tensor_view_numel(t), inner = t->n_dims ? t->shape[t->n_dims - 1] : 1;
    wt->name = strdup(t->name); /* owned: the weights outlive the mmap'ed files */
    if (!wt->name) return vkg_error(VKG_ERR_NOMEM, "tensor name");
    wt->src_dtype = t->dtype;
    wt->dtype =
        L->opts && L->opts->dtypes ? L->opts->dtypes[i] : vkg_weights_target(L->opts, t->dtype, t->n_dims, inner);
    wt->n_dims = t->n_dims;
    memcpy(wt->shape, t->shape, sizeof wt->shape);
    if (wt->dtype == VKG_DTYPE_UNKNOWN) { /* not loaded: the caller ignores it */
        L->done += t->n_bytes;
        return VKG_OK;
    }
    VKG_TRY(vkg_tensor_view_check(t));
    VKG_TRY(vkg_dtype_bytes(wt->dtype, numel, &wt->n_bytes));
    VKG_TRY(place(L, i, t, wt));
    if (vkg_dtype_is_block(t->dtype)) return upload_blocks(L, i, t, wt);
    uint64_t chunk = L->dev->stage->slot_size / esize(t->dtype) / 32 * 32; /* whole quant blocks, even */
    int fl = wt->dtype == VKG_DTYPE_F32 || wt->dtype == VKG_DTYPE_F16 || wt->dtype == VKG_DTYPE_BF16;
    int quant = wt->dtype == VKG_DTYPE_Q8_0 || wt->dtype == VKG_DTYPE_Q4; /* quantized on upload (upload_chunk) */
    uint64_t tile_elems = VKG_MATMUL_TILE_ROWS * inner;
    if (L->opts && L->opts->tile && L->opts->tile[i] && (fl ? inner % 8 == 0 : quant && inner % 256 == 0) &&
        t->n_dims == 2 && tile_elems <= chunk) {
        wt->tiled = 1;
        chunk = chunk / tile_elems * tile_elems; /* whole tiles */
    }
    const uint8_t *src = t->data;
    for (uint64_t e0 = 0; e0 < numel; e0 += chunk) {
        uint64_t n = numel - e0 < chunk ? numel - e0 : chunk;
        enum vkg_status s = upload_chunk(L, wt, src, e0, n);
        if (s != VKG_OK) {
            char why[768]; /* the detail buffer cannot be both source and destination */
            snprintf(why, sizeof why, "%s", vkg_error_detail());
            return vkg_error(s, "%s: tensor '%s': upload: %s", t->file, t->name, why);
        }
        release_pages(src + e0 * esize(t->dtype), n * esize(t->dtype));
        L->done += n * esize(t->dtype);
        L->dev_written = L->w->device_bytes + (e0 + n) * wt->n_bytes / numel;
        track(L);
    }
    L->w->file_bytes += t->n_bytes;
    L->w->device_bytes += wt->n_bytes;
    return VKG_OK;
}

enum vkg_status vkg_weights_load(struct vkg_device *dev, const struct vkg_safetensors *st,
                                 const struct vkg_weights_opts *opts, struct vkg_weights **out)
{
    *out = NULL;
    struct vkg_weights *w = calloc(1, sizeof *w);
    size_t n = vkg_safetensors_count(st);
    if (!w || !(w->w = calloc(n ? n : 1, sizeof *w->w))) {
        free(w);
        return vkg_error(VKG_ERR_NOMEM, "weights table (%zu tensors)", n);
    }
    struct loader L = { .dev = dev,
                        .opts = opts,
                        .w = w,
                        .total = vkg_safetensors_total_bytes(st),
                        .rss_base = opts && opts->track_rss ? vkg_rss_anon_bytes() : 0 };
    double t0 = now_s();
    enum vkg_status s =
        vkg_buffer_create(dev, dev->stage->slot_size * 2, VKG_MEM_DEVICE, "weights scratch", &L.scratch);
    for (size_t i = 0; s == VKG_OK && i < n; i++) {
        s = load_tensor(&L, i, vkg_safetensors_get(st, i), &w->w[i]);
        w->n = i + 1;
    }
    if (s == VKG_OK) s = vkg_stage_wait_all(dev);
    track(&L);
    vkg_buffer_free(L.scratch);
    w->seconds = now_s() - t0;
    if (s != VKG_OK) {
        vkg_weights_free(w);
        return s;
    }
    *out = w;
    return VKG_OK;
}

void vkg_weights_free(struct vkg_weights *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->n; i++) /* no upload may still read them */
        if (w->w[i].view.buf) {
            vkg_stage_wait_all(w->w[i].view.buf->dev);
            break;
        }
    for (size_t i = 0; i < w->n; i++) {
        vkg_buffer_free(w->w[i].buf);
        free((char *)w->w[i].name);
    }
    free(w->w);
    free(w);
}

const struct vkg_weight *vkg_weights_find(const struct vkg_weights *w, const char *name)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->w[i].view.buf && strcmp(w->w[i].name, name) == 0) return &w->w[i];
    return NULL;
}

/* On-load quantization runs the matmul family's quantize kernels. */
enum vkg_status vkg_weights_quantize(struct vkg_cmd *c, struct vkg_view src, enum vkg_dtype src_type,
                                     struct vkg_view dst, enum vkg_dtype dst_type, uint64_t n)
{
    return vkg_op_quantize(c, src, src_type, dst, dst_type, n);
}
