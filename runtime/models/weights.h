/* weights.h — streaming a model's safetensors into device buffers.
 *
 * Tensors are read from the mmap'ed shards chunk by chunk into the staging
 * ring (bounded host memory: no full-file or full-tensor copy) and converted
 * on the GPU into the device dtype: as stored, or F32/F16/BF16 (and Q8_0/Q4
 * when the quantize kernels are present) for 2-D matrices. 1-D tensors (norm
 * weights, biases) always become F32, which is what the kernels read. A model
 * load passes each tensor's dtype (check.h decides) and puts the routed
 * experts straight into slices of their stacked buffers (opts.dest). */
#ifndef VKG_WEIGHTS_H
#define VKG_WEIGHTS_H

#include <stdint.h>

#include "command.h"
#include "memory.h"
#include "safetensors.h"

struct vkg_weight {
    const char *name;         /* exactly as in the safetensors file (owned copy) */
    enum vkg_dtype dtype;     /* on the device */
    enum vkg_dtype src_dtype; /* in the file */
    int n_dims;
    uint64_t shape[8];      /* as in the file */
    struct vkg_buffer *buf; /* its own suballocated buffer, or NULL: placed in a caller's buffer
                                (opts.dest) or not loaded (opts.dtypes) */
    struct vkg_view view;   /* its device bytes: all of buf, or the slice opts.dest gave; .buf NULL
                                when not loaded */
    uint64_t n_bytes;       /* device bytes */
    int tiled;              /* stored in 8-row tiles by the loader (opts.tile; vkg_matmul_args.w_tiled) */
};

struct vkg_weights {
    struct vkg_weight *w; /* [n] */
    size_t n;
    uint64_t file_bytes;      /* bytes read from the files */
    uint64_t device_bytes;    /* bytes written on the device */
    double seconds;           /* wall time of the load */
    uint64_t peak_host_bytes; /* peak anonymous RSS growth over the load, device memory excluded */
};

struct vkg_weights_opts {
    /* VKG_DTYPE_UNKNOWN: as stored; else the device dtype of 2-D matrices */
    enum vkg_dtype matrix_dtype;
    /* NULL, or [tensor count] (safetensors order): each tensor's device dtype,
     * decided by the caller (check.h); VKG_DTYPE_UNKNOWN: not loaded */
    const enum vkg_dtype *dtypes;
    /* NULL, or [tensor count]: where each tensor goes, a slice of the caller's
     * buffer of exactly its device bytes (stacked experts); .buf NULL: a buffer of its own */
    const struct vkg_view *dest;
    /* NULL, or [tensor count]: 1 = store this 2-D matrix in VKG_MATMUL_TILE_ROWS-row tiles
     * (vkg_weights_tile_rows, on the host while staging) when its device type is F32/F16/BF16
     * with rows of a multiple of 8 values, or a file's blocks or Q8_0/Q4 quantized on upload with
     * rows of a multiple of 256 values (units of 256 values), and a tile fits a staging slot;
     * vkg_weight.tiled says whether it was */
    const uint8_t *tile;
    /* called after every chunk (bytes done, total); NULL for none */
    void (*progress)(void *user, uint64_t done, uint64_t total);
    void *user;
    int track_rss; /* sample /proc/self/status to fill peak_host_bytes */
};

enum vkg_status vkg_weights_load(struct vkg_device *dev, const struct vkg_safetensors *st,
                                 const struct vkg_weights_opts *opts, struct vkg_weights **out);
void vkg_weights_free(struct vkg_weights *w);
/* A loaded tensor by name (linear search: for tools and tests, not per step). */
const struct vkg_weight *vkg_weights_find(const struct vkg_weights *w, const char *name);
/* The device dtype a tensor of `src` dtype and n_dims dims gets under opts. */
enum vkg_dtype vkg_weights_target(const struct vkg_weights_opts *opts, enum vkg_dtype src, int n_dims,
                                  uint64_t inner_dim);
/* Parses "f32|f16|bf16|q8_0|q4|stored" (NULL = stored). */
enum vkg_status vkg_weights_parse_dtype(const char *s, enum vkg_dtype *out);
/* Quantizes n elements (a multiple of 32) of src (F32/F16/BF16) into Q8_0/Q4
 * blocks at dst; provided by the matmul family's quantize kernels. */
enum vkg_status vkg_weights_quantize(struct vkg_cmd *c, struct vkg_view src, enum vkg_dtype src_type,
                                     struct vkg_view dst, enum vkg_dtype dst_type, uint64_t n);
/* rows x n_in elements of es bytes (row-major, n_in % g == 0) at src -> dst in the tiled layout
 * of push_matmul.h (VKG_MATMUL_W_TILED): tiles of VKG_MATMUL_TILE_ROWS rows (the last may hold fewer), each
 * column-major in groups of g elements (g values make one 16-byte texel of the device type: 4 for
 * F32, 8 for F16/BF16; for the block types es 1, n_in the row's bytes and g the bytes of 256 values: a
 * K-quant block, 144 / 176 / 210, or 8 blocks of the others, 272 (Q8_0) / 144 / 160 / 176 / 192).
 * Groups move whole, so converting the elements after tiling gives the tiled converted matrix. dst and
 * src must not overlap. */
void vkg_weights_tile_rows(void *dst, const void *src, uint64_t rows, uint64_t n_in, uint32_t es, uint32_t g);
/* Q6_K rows (row_bytes = 210 per block) into 8-row tiles whose tile columns (the tile's rows' block kb, at
 * tile start + kb * rows in the tile * 210) hold the rows' ql[128], then their qh[64], scales[16] and d
 * (push_matmul.h VKG_Q6K_SPLIT_*; rt rows' fields at rt * 0, 128, 192, 208 + r * the field's size). */
void vkg_weights_tile_q6k(void *dst, const void *src, uint64_t rows, uint64_t row_bytes);
/* Anonymous + shmem resident bytes of this process (Linux /proc), 0 when unknown. */
uint64_t vkg_rss_anon_bytes(void);

#endif
