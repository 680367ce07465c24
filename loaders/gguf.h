/* gguf.h — read-only, zero-copy access to llama.cpp GGUF files (v2, v3).
 *
 *   struct vkg_gguf *g;
 *   if (vkg_gguf_open("model.gguf", &g)) { puts(vkg_error_detail()); ... }
 *   uint32_t n_layer;
 *   vkg_gguf_get_u32(g, "llama.block_count", &n_layer);   // VKG_ERR_NOT_FOUND when absent
 *   const struct vkg_gguf_tensor *t = vkg_gguf_find_tensor(g, "token_embd.weight");
 *   ... t->data points into the mmap of t->file ...
 *   vkg_gguf_close(g);
 *
 * File layout (little-endian): "GGUF" | u32 version | u64 n_tensors | u64 n_kv
 * | n_kv × (string key, u32 type, value) | n_tensors × (string name, u32
 * n_dims, n_dims × u64 ne, u32 ggml type, u64 offset) | padding to
 * general.alignment (default 32) | tensor data. A string is u64 length + bytes
 * (no NUL). Array values are u32 element type, u64 count, elements.
 *
 * A file named PREFIX-NNNNN-of-MMMMM.gguf with split.count > 1 (llama.cpp's
 * gguf-split) opens as one model: every part PREFIX-00001..MMMMM is opened
 * (whichever part was named), each must say split.no = its index and the same
 * split.count, the tensors of all parts are merged (a name in two parts is an
 * error) and their number must equal split.tensors.count. Metadata is the
 * first part's.
 *
 * Validation (gguf.c lists every check) rejects a file before anything reads
 * its data; each failure names the file, and the key or tensor. Tensor types
 * are every ggml type with its block size and bytes; which types the runtime
 * can read is the caller's business (vkg_gguf_type_dtype). */
#ifndef VKG_GGUF_H
#define VKG_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "status.h"

#define VKG_GGUF_MAX_DIMS 4       /* GGML_MAX_DIMS */
#define VKG_GGUF_MAX_NAME 64      /* GGML_MAX_NAME: tensor names are shorter */
#define VKG_GGUF_DEFAULT_ALIGN 32 /* GGUF_DEFAULT_ALIGNMENT */

/* Metadata value types, numbered as in the file. */
enum vkg_gguf_type {
    VKG_GGUF_UINT8 = 0,
    VKG_GGUF_INT8 = 1,
    VKG_GGUF_UINT16 = 2,
    VKG_GGUF_INT16 = 3,
    VKG_GGUF_UINT32 = 4,
    VKG_GGUF_INT32 = 5,
    VKG_GGUF_FLOAT32 = 6,
    VKG_GGUF_BOOL = 7,
    VKG_GGUF_STRING = 8,
    VKG_GGUF_ARRAY = 9,
    VKG_GGUF_UINT64 = 10,
    VKG_GGUF_INT64 = 11,
    VKG_GGUF_FLOAT64 = 12,
    VKG_GGUF_TYPE_COUNT
};

/* One metadata entry. Scalars are decoded into the union; a string is a
 * NUL-terminated copy (str, str_len; the value may itself hold NULs). An
 * array keeps its element type and count; numeric elements are read with
 * vkg_gguf_arr_* below, string elements are NUL-terminated copies in strs. */
struct vkg_gguf_kv {
    const char *key;
    enum vkg_gguf_type type;
    union {
        uint64_t u; /* UINT8..UINT64, BOOL (0/1) */
        int64_t i;  /* INT8..INT64 */
        double f;   /* FLOAT32, FLOAT64 */
    } v;
    const char *str; /* STRING */
    size_t str_len;
    enum vkg_gguf_type arr_type; /* ARRAY: element type (never ARRAY) */
    uint64_t arr_n;              /* ARRAY: element count */
    const uint8_t *arr_data;     /* ARRAY of numbers: the elements in the mmap (unaligned) */
    char **strs;                 /* ARRAY of STRING: [arr_n] copies */
    size_t *str_lens;            /* ARRAY of STRING: [arr_n] */
};

struct vkg_gguf_tensor {
    const char *name;
    uint32_t type;                  /* ggml type id (0 F32, 1 F16, 8 Q8_0, 30 BF16, ...) */
    int n_dims;                     /* 1..4 */
    uint64_t ne[VKG_GGUF_MAX_DIMS]; /* ggml order: ne[0] varies fastest; unused dims 1 */
    uint64_t offset;                /* from the start of the file's data section */
    uint64_t n_bytes;               /* ne[0]/block_size*block_bytes*ne[1]*... */
    const void *data;               /* into the mmap */
    const char *file;               /* path of the part that holds it */
};

struct vkg_gguf;

/* Opens a .gguf file (and the other parts of a split model); on failure *out
 * is NULL and vkg_error_detail() names the file and what is wrong. */
enum vkg_status vkg_gguf_open(const char *path, struct vkg_gguf **out);
void vkg_gguf_close(struct vkg_gguf *g); /* accepts NULL */

uint32_t vkg_gguf_version(const struct vkg_gguf *g);
const char *vkg_gguf_path(const struct vkg_gguf *g); /* the first part's path */
size_t vkg_gguf_file_count(const struct vkg_gguf *g);
const char *vkg_gguf_file_path(const struct vkg_gguf *g, size_t i); /* part i (0-based), NULL past the end */

size_t vkg_gguf_kv_count(const struct vkg_gguf *g);
const struct vkg_gguf_kv *vkg_gguf_kv_get(const struct vkg_gguf *g, size_t i);
const struct vkg_gguf_kv *vkg_gguf_find_kv(const struct vkg_gguf *g, const char *key); /* NULL when absent */

/* Typed getters: VKG_ERR_NOT_FOUND (no detail) when the key is absent,
 * VKG_ERR_FORMAT naming the file and key when the value has another type or
 * does not fit. Integers of any width convert when the value fits; floats
 * accept FLOAT32/FLOAT64 (and integers). */
enum vkg_status vkg_gguf_get_u32(const struct vkg_gguf *g, const char *key, uint32_t *out);
enum vkg_status vkg_gguf_get_i64(const struct vkg_gguf *g, const char *key, int64_t *out);
enum vkg_status vkg_gguf_get_f64(const struct vkg_gguf *g, const char *key, double *out);
enum vkg_status vkg_gguf_get_bool(const struct vkg_gguf *g, const char *key, bool *out);
enum vkg_status vkg_gguf_get_str(const struct vkg_gguf *g, const char *key, const char **out);
/* Element i of a numeric array as int64 / double (the caller checks i < arr_n
 * and that arr_type is numeric). */
int64_t vkg_gguf_arr_i64(const struct vkg_gguf_kv *kv, uint64_t i);
double vkg_gguf_arr_f64(const struct vkg_gguf_kv *kv, uint64_t i);

size_t vkg_gguf_tensor_count(const struct vkg_gguf *g);
const struct vkg_gguf_tensor *vkg_gguf_tensor_get(const struct vkg_gguf *g, size_t i);
const struct vkg_gguf_tensor *vkg_gguf_find_tensor(const struct vkg_gguf *g, const char *name);

/* ggml type name ("Q4_K"), "?" when unknown; block size and bytes (0 when unknown). */
const char *vkg_gguf_type_name(uint32_t type);
uint32_t vkg_gguf_type_block_size(uint32_t type);
uint32_t vkg_gguf_type_block_bytes(uint32_t type);
/* The vkgrm dtype a ggml type is read as: F32, F16, BF16, Q8_0 (byte-identical
 * blocks: f16 d, 32 × int8); VKG_DTYPE_UNKNOWN for every other type. */
enum vkg_dtype vkg_gguf_type_dtype(uint32_t type);
/* Name of a metadata value type ("uint32"). */
const char *vkg_gguf_value_type_name(enum vkg_gguf_type t);

/* True when path names a file ending in ".gguf" (the loaders' dispatch rule). */
bool vkg_gguf_is_path(const char *path);

#endif
