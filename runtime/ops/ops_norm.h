/* ops_norm.h — launchers of the norm family: embedding lookup, RMSNorm
 * (plain, fused residual add, per head), SwiGLU / GeGLU, soft-capping, add
 * and scale (RoPE has its own family: ops_rope.h). All activations are F32;
 * every launcher records into c and splits its work into binding windows
 * when a tensor is larger than maxStorageBufferRange. Launchers add no
 * barriers before or after: the caller orders dependent ops (ops.h). */
#ifndef VKG_OPS_NORM_H
#define VKG_OPS_NORM_H

#include "command.h"
#include "op_table.h" /* op ids, push structs, family limits (VKG_ATTN_*, VKG_MATVEC_*, ...) */
#include "dtype.h"
#include "ops_rope.h" /* vkg_op_rope was declared here before it had its own family */

/* out[t][:] = table[ids[t]][:] * scale.
 * table: [vocab][dim] of F32/F16/BF16/Q8_0/Q4 (quantized: dim % 32 == 0);
 * ids: [n_tokens] int32; out: [n_tokens][dim] F32. An id outside
 * [0, vocab) gives a row of zeros and never reads the table. A table larger
 * than one binding is bound one window of rows at a time. Gemma passes
 * scale = sqrt(hidden_size) rounded to the activation dtype as HF does
 * (normalizer cast to the hidden dtype: for F32, sqrtf(hidden)); others 1. */
enum vkg_status vkg_op_embed(struct vkg_cmd *c, struct vkg_view table, enum vkg_dtype table_type, uint64_t vocab,
                             uint32_t dim, struct vkg_view ids, uint64_t n_tokens, float scale, struct vkg_view out);
/* The same with tiled = 1: an F32/F16/BF16 table (dim % 8 == 0) stored in 8-row tiles, the layout
 * of a tied head that the texel matmul reads (vkg_matmul_args.w_tiled); windows cut at whole tiles. */
enum vkg_status vkg_op_embed_ex(struct vkg_cmd *c, struct vkg_view table, enum vkg_dtype table_type, uint64_t vocab,
                                uint32_t dim, struct vkg_view ids, uint64_t n_tokens, float scale, struct vkg_view out,
                                int tiled);

enum vkg_rmsnorm_kind {
    VKG_RMSNORM_PLAIN = 0, /* y = x / rms(x) * w (Llama, Qwen, DeepSeek) */
    VKG_RMSNORM_GEMMA = 1, /* y = x / rms(x) * (1 + w) (Gemma) */
};

/* General RMSNorm: rows of n elements, `group` rows per token, eps inside
 * the sqrt. x: [tokens][x_stride] with the rows of a token at 0, n, 2n, ...
 * (group*n <= x_stride); y: [tokens][y_stride] (may be x: in place);
 * w: [n] F32; residual: [tokens][x_stride] or a view with buf == NULL. With
 * a residual, h = x + residual is written back to residual and y = norm(h). */
struct vkg_rmsnorm_args {
    struct vkg_view x, residual, w, y;
    uint64_t tokens;
    uint32_t group;              /* heads for a per-head norm (Qwen3 q_norm/k_norm), else 1 */
    uint32_t n;                  /* row length: hidden size or head_dim */
    uint64_t x_stride, y_stride; /* elements between tokens */
    float eps;
    enum vkg_rmsnorm_kind kind;
};
enum vkg_status vkg_op_rmsnorm_ex(struct vkg_cmd *c, const struct vkg_rmsnorm_args *a);
/* x, y: [rows][n]; w: [n]. */
enum vkg_status vkg_op_rmsnorm(struct vkg_cmd *c, struct vkg_view x, struct vkg_view w, struct vkg_view y,
                               uint64_t rows, uint32_t n, float eps, enum vkg_rmsnorm_kind kind);
/* residual += x (x, residual: [rows][n]), then y = norm(residual). */
enum vkg_status vkg_op_rmsnorm_add(struct vkg_cmd *c, struct vkg_view x, struct vkg_view residual, struct vkg_view w,
                                   struct vkg_view y, uint64_t rows, uint32_t n, float eps, enum vkg_rmsnorm_kind kind);

enum vkg_glu_kind {
    VKG_GLU_SWIGLU = 0,    /* silu(gate) * up */
    VKG_GLU_GEGLU = 1,     /* gelu_pytorch_tanh(gate) * up */
    VKG_GLU_GEGLU_F16 = 2, /* the same with ggml's table GELU (llama.cpp's numbers; VKGRM_GELU_F16) */
};
/* out = act(gate) * up. gate, up, out: [rows][n]. */
enum vkg_status vkg_op_glu(struct vkg_cmd *c, enum vkg_glu_kind kind, struct vkg_view gate, struct vkg_view up,
                           struct vkg_view out, uint64_t rows, uint32_t n);
/* Fused input x: [rows][2n], gate = x[r][0..n), up = x[r][n..2n) (gate
 * first, like a merged gate_up_proj); out: [rows][n]. */
enum vkg_status vkg_op_glu_fused(struct vkg_cmd *c, enum vkg_glu_kind kind, struct vkg_view x, struct vkg_view out,
                                 uint64_t rows, uint32_t n);

/* out = cap * tanh(a / cap); a, out: [n] (out may be a). */
enum vkg_status vkg_op_softcap(struct vkg_cmd *c, struct vkg_view a, struct vkg_view out, uint64_t n, float cap);
/* out = a + b; a, b, out: [n] (out may be a or b). */
enum vkg_status vkg_op_add(struct vkg_cmd *c, struct vkg_view a, struct vkg_view b, struct vkg_view out, uint64_t n);
/* out = a * s; a, out: [n] (out may be a). */
enum vkg_status vkg_op_scale(struct vkg_cmd *c, struct vkg_view a, struct vkg_view out, uint64_t n, float s);

#endif
