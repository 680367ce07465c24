/* ops_rows.h — the launchers' view of a tensor as token rows, and the loop
 * that splits a launch into chunks of tokens whose windows each fit one
 * binding (maxStorageBufferRange). Internal to runtime/ops (norm, rope). */
#ifndef VKG_OPS_ROWS_H
#define VKG_OPS_ROWS_H

#include "op_table.h"

/* Token t occupies elements [t*stride, t*stride + extent) of v (4-byte
 * elements: f32 / int32). stride == 0: one block of `extent` elements shared
 * by all tokens (a weight vector, a frequency table). */
struct vkg_rows {
    struct vkg_view v;
    uint64_t stride, extent; /* elements */
    const char *what;        /* for messages: "x", "weight", ... */
};

/* Bytes that `tokens` rows of r span. */
uint64_t vkg_rows_bytes(const struct vkg_rows *r, uint64_t tokens);
/* Each of the n tensors has a buffer and a 4-byte aligned view holding every row. */
enum vkg_status vkg_rows_check(const char *op, const struct vkg_rows *r, uint32_t n, uint64_t tokens);
/* Tokens per chunk so that each tensor's window fits one binding. */
enum vkg_status vkg_rows_chunk(const struct vkg_device *dev, const char *op, const struct vkg_rows *r, uint32_t n,
                               uint64_t *out);
/* Binds tokens [t0, t0+nt) of each tensor; off[i] = first element inside window i. */
enum vkg_status vkg_rows_bind(const struct vkg_device *dev, const struct vkg_rows *r, uint32_t n, uint64_t t0,
                              uint64_t nt, struct vkg_view *win, uint32_t *off);

/* Fills the push constants of one chunk from its token count and window
 * offsets; returns the number of workgroups to dispatch. */
typedef uint64_t (*vkg_rows_push_fn)(void *push, const void *args, uint64_t nt, const uint32_t *off, uint32_t ls);
/* Picks the op of one chunk from its n windows (win has room for VKG_ROWS_MAX_VIEWS) and offsets:
 * returns op or a twin, and may append views for the twin's extra bindings (updating *nb). */
#define VKG_ROWS_MAX_VIEWS 8
typedef enum vkg_op (*vkg_rows_pick_fn)(const struct vkg_cmd *c, enum vkg_op op, const void *args, struct vkg_view *win,
                                        const uint32_t *off, uint32_t *nb);
/* Checks the n (<= 4) tensors, then dispatches op once per token chunk. */
enum vkg_status vkg_rows_run(struct vkg_cmd *c, enum vkg_op op, const struct vkg_rows *r, uint32_t n, uint64_t tokens,
                             void *push, const void *args, vkg_rows_push_fn fill);
/* The same with the op of each chunk chosen by pick (NULL: op). */
enum vkg_status vkg_rows_run_pick(struct vkg_cmd *c, enum vkg_op op, const struct vkg_rows *r, uint32_t n,
                                  uint64_t tokens, void *push, const void *args, vkg_rows_push_fn fill,
                                  vkg_rows_pick_fn pick);

static inline uint64_t vkg_ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

#endif
