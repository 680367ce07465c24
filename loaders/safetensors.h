/* safetensors.h — read-only, zero-copy access to safetensors weights.
 *
 *   struct vkg_safetensors *st;
 *   if (vkg_safetensors_open("models/qwen3-tiny", &st)) {
 *       fprintf(stderr, "%s\n", vkg_error_detail());   // names file, tensor, field
 *       return 1;
 *   }
 *   const struct vkg_tensor_view *w = vkg_safetensors_find(st, "lm_head.weight");
 *   ... w->data points into the mmap of w->file ...
 *   vkg_safetensors_close(st);
 *
 * open() accepts one .safetensors file or a Hugging Face model directory:
 * "model.safetensors" if present, else "model.safetensors.index.json" and the
 * shards its weight_map names. Each file is mmap'ed read-only (MAP_PRIVATE);
 * views point into the maps and stay valid until close(). Tensor data is never
 * copied. Data is little-endian, row-major, as stored. Views may be unaligned
 * (writers only promise 8-byte alignment of the data section): read them with
 * memcpy or copy them into staging buffers. A file truncated by another
 * process while mapped raises SIGBUS on access, as with any mmap reader.
 *
 * open() validates everything the reference reader (huggingface/safetensors)
 * validates, plus the index: see safetensors.c for the list. A tensor of a
 * known dtype that the weight upload cannot read (I8, F8_E4M3, ...) does NOT
 * make open() fail, so tools can list such checkpoints; vkg_tensor_view_check()
 * and vkg_safetensors_check() report it as VKG_ERR_UNSUPPORTED.
 *
 * Tensor order: files in name order (shards sorted by file name), within a
 * file by data offset, i.e. in the order the bytes lie on disk. */
#ifndef VKG_SAFETENSORS_H
#define VKG_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "status.h"

#define VKG_MAX_DIMS 8

struct vkg_tensor_view {
    const char *name; /* exactly as in the file */
    enum vkg_dtype dtype;
    int n_dims;                   /* 0 for a scalar */
    uint64_t shape[VKG_MAX_DIMS]; /* row-major (C order), shape[n_dims-1] varies fastest */
    const void *data;             /* into the mmap; n_bytes may be 0 */
    uint64_t n_bytes;
    const char *file; /* path of the file holding it (as opened) */
};

struct vkg_safetensors;

/* A path ending in .gguf opens through gguf_model.h: the GGUF's tensors under
 * their Hugging Face names (vkg_gguf_tensors_open). */

/* Opens a file or model directory; on failure *out is NULL and the status's
 * detail (vkg_error_detail) names the file, the tensor and the field. */
enum vkg_status vkg_safetensors_open(const char *path, struct vkg_safetensors **out);
void vkg_safetensors_close(struct vkg_safetensors *st); /* accepts NULL */
/* A tensor set over views that live elsewhere (another format's mmap): the
 * views are copied, their names indexed (a repeated name is VKG_ERR_FORMAT),
 * paths[0..n_paths) are reported as the files, and close() calls
 * release(owner). On failure release(owner) has been called. */
enum vkg_status vkg_safetensors_adopt(const struct vkg_tensor_view *views, size_t n, const char *const *paths,
                                      size_t n_paths, void *owner, void (*release)(void *owner),
                                      struct vkg_safetensors **out);

size_t vkg_safetensors_count(const struct vkg_safetensors *st);
/* NULL when i >= count. */
const struct vkg_tensor_view *vkg_safetensors_get(const struct vkg_safetensors *st, size_t i);
/* NULL when absent. O(1). */
const struct vkg_tensor_view *vkg_safetensors_find(const struct vkg_safetensors *st, const char *name);
/* Value of key in a file's "__metadata__" (first file that has it), or NULL. */
const char *vkg_safetensors_metadata(const struct vkg_safetensors *st, const char *key);

/* Files opened (1 for a single file, the distinct shards otherwise). */
size_t vkg_safetensors_file_count(const struct vkg_safetensors *st);
const char *vkg_safetensors_file_path(const struct vkg_safetensors *st, size_t i);
/* Sum of n_bytes over all tensors. */
uint64_t vkg_safetensors_total_bytes(const struct vkg_safetensors *st);
/* The index's metadata.total_size, when a sharded directory gave one. It is
 * not checked against total_bytes: older writers counted it differently. */
bool vkg_safetensors_index_total_size(const struct vkg_safetensors *st, uint64_t *out);

/* Number of elements (1 for a scalar). Shapes were overflow-checked by open(). */
uint64_t vkg_tensor_view_numel(const struct vkg_tensor_view *t);
/* VKG_ERR_UNSUPPORTED (with detail) when the weight upload cannot read t's dtype. */
enum vkg_status vkg_tensor_view_check(const struct vkg_tensor_view *t);
/* First tensor that vkg_tensor_view_check rejects, or VKG_OK. */
enum vkg_status vkg_safetensors_check(const struct vkg_safetensors *st);

#endif
