/* ops_matmul.h — linear layers and load-time weight quantization.
 *
 *   y[t][o] = sum_i W[o][i] * x[t][i] (+ bias[o])
 *
 * W is row-major [n_out][n_in], exactly as a Hugging Face nn.Linear weight is
 * stored, in F32, F16, BF16, Q8_0 or Q4 (blocks of 32 along n_in, so n_in % 32
 * == 0 for those), or one of ggml's block types as a GGUF file stores them:
 * Q4_1, Q5_0, Q5_1 (blocks of 32) and Q4_K, Q5_K, Q6_K (super-blocks of 256,
 * n_in % 256 == 0), dequantized in registers by the kernels; x and y are F32
 * and the sums are accumulated in f32.
 *
 * Paths (threshold VKG_MATVEC_MAX_TOK = 8): n_tok <= 8 runs the decode mat-vec,
 * bound by the weight read, which one launch does once for all vectors (a
 * single vector takes the matvec1_* variants; one row per invocation on a
 * CPU driver (dev->use.lane_tier), else subgroup reduction when
 * dev->use.subgroup_arith, else shared memory). More tokens run the tiled GEMM
 * (64 x 64 tiles through shared memory, W dequantized on load), which reads W
 * once per 64 tokens, so from 9 tokens on it wins over a second mat-vec
 * launch — except on a CPU driver (dev->use.lane_tier), where the lane tier
 * runs up to VKG_MATVEC_LANE_MAX_TOK = 64 tokens in blocks of 8 (W re-read per
 * block, from cache at these sizes): there the GEMM's barriers and shared
 * memory cost more than the re-reads. Weights, activations and outputs
 * larger than one binding (maxStorageBufferRange) are split into windows by
 * weight rows and by tokens, never truncated. */
#ifndef VKG_OPS_MATMUL_H
#define VKG_OPS_MATMUL_H

#include "command.h"
#include "op_table.h" /* op ids, push structs, family limits (VKG_ATTN_*, VKG_MATVEC_*, ...) */
#include "dtype.h"
#include "ops_norm.h" /* enum vkg_rmsnorm_kind */

enum vkg_matmul_path {
    VKG_MATMUL_AUTO = 0,        /* decode for n_tok <= 8 (lane tier: <= 64, texel lane tier: all), else GEMM */
    VKG_MATMUL_DECODE_SUBGROUP, /* forced (tests, bench): needs subgroup arithmetic; > 8 tokens: launches of 8 */
    VKG_MATMUL_DECODE_SHARED,   /* forced shared-memory reduction tier */
    VKG_MATMUL_GEMM,            /* forced tiled GEMM, any n_tok */
    VKG_MATMUL_DECODE_LANE,     /* forced row-per-invocation tier (CPU drivers; any device), any n_tok */
    VKG_MATMUL_LANE_TEXEL,      /* forced matmul_lane: F32/F16/BF16, n_in % 8 == 0, W and x read as texels;
                                   AUTO's choice on CPU drivers (use.texel) for 2+ tokens; windows whose rows
                                   do not start on a 16-byte texel run the lane mat-vec instead */
};

struct vkg_matmul_args {
    struct vkg_view w; /* [n_out][n_in] of wt */
    enum vkg_dtype wt; /* F32, F16, BF16, Q8_0, Q4, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K */
    uint32_t n_out, n_in;
    struct vkg_view x; /* [n_tok][x_stride] f32, the first n_in of each row read */
    uint64_t x_stride; /* floats between tokens; 0 means n_in */
    struct vkg_view y; /* [n_tok][y_stride] f32, the first n_out of each row written */
    uint64_t y_stride; /* floats between tokens; 0 means n_out */
    uint32_t n_tok;
    const struct vkg_view *bias; /* NULL or [n_out] f32 */
    enum vkg_matmul_path path;
    /* 1: w (F32/F16/BF16, or a block type of n_in % 256 == 0) is in VKG_MATMUL_TILE_ROWS-row tiles (push_matmul.h), the CPU
     * drivers' layout: only the texel lane kernels read it (dev->use.tiled); anything else is an
     * error, never a silent misread */
    int w_tiled;
    /* XQ8 (dev->use.xq8, push_matmul.h): a scratch of at least vkg_op_matmul_xq_bytes(n_tok, n_in)
     * bytes on 16 bytes, where a launch of the texel lane tier quantizes x to 8 bits first and multiplies
     * it in integers (as llama.cpp's CPU backend does; vkg_op_matmul_xq_fmt says which launches and
     * how); buf NULL: float x everywhere.
     * The op puts a barrier before and after the quantization. */
    struct vkg_view xq;
    /* 1: xq already holds x's 8-bit rows (vkg_op_quantize_x_fmt of this x, n_in and n_tok, x_stride 0, in
     * the format vkg_op_matmul_xq_fmt names for wt,
     * and a barrier after it: several projections of one x quantize it once); the op then skips its
     * own quantization where it takes all n_tok tokens in one launch, and multiplies float x where
     * it splits them (the scratch stays as the caller left it). 0: the op quantizes x itself. -1: the
     * scratch holds another launch's x (of another format): float x, the scratch left as it is. */
    int xq_ready;
};

/* Contiguous x [n_tok][n_in] and y [n_tok][n_out]. */
enum vkg_status vkg_op_matmul(struct vkg_cmd *c, struct vkg_view w /* [n_out][n_in] of wt */, enum vkg_dtype wt,
                              uint32_t n_out, uint32_t n_in, struct vkg_view x /* [n_tok][n_in] f32 */,
                              struct vkg_view y /* [n_tok][n_out] f32 */, uint32_t n_tok,
                              const struct vkg_view *bias /* NULL or [n_out] f32 */);
/* Strided rows (e.g. reading a slice of a fused QKV activation) and a path choice. */
enum vkg_status vkg_op_matmul_ex(struct vkg_cmd *c, const struct vkg_matmul_args *a);

/* Projections of one input whose weights were stacked at load (q|k|v, or
 * gate|up of a gated MLP): on the texel lane tier (CPU drivers) one launch of
 * matmul_lane / matvec1_lane_tx computes every part, elsewhere (or when a
 * tensor would not fit one binding window) the separate launches do, with the
 * same result. No barrier after. */
enum vkg_matmul_fuse {
    VKG_MATMUL_FUSE_PARTS = 0, /* part i -> y[i] */
    VKG_MATMUL_FUSE_SWIGLU,    /* y[0] = silu(gate) * up (2 parts of equal rows) */
    VKG_MATMUL_FUSE_GEGLU,     /* y[0] = gelu_tanh(gate) * up */
    VKG_MATMUL_FUSE_GEGLU_F16, /* the same with ggml's table GELU (llama.cpp's numbers; VKGRM_GELU_F16) */
};
struct vkg_matmul_fused_args {
    struct vkg_view w;      /* [rows[0] + rows[1] (+ rows[2])][n_in] of wt, the parts back to back */
    enum vkg_dtype wt;      /* any matmul type; one launch where vkg_op_matmul_fusable says so */
    uint32_t n_in;          /* columns of every part */
    uint32_t n_parts;       /* 2 or 3 (PARTS), 2 (GLU) */
    uint32_t rows[3];       /* rows of each part */
    struct vkg_view x;      /* [n_tok][x_stride] f32 */
    uint64_t x_stride;      /* floats between tokens; 0 means n_in */
    struct vkg_view y[3];   /* PARTS: y[i] [n_tok][rows[i]] contiguous; GLU: y[0] [n_tok][rows[0]] */
    struct vkg_view tmp[2]; /* GLU only: [n_tok][rows[0]] scratch for gate and up when launched apart */
    uint32_t n_tok;
    const struct vkg_view *bias; /* NULL or [sum of rows] f32, the parts' biases back to back */
    enum vkg_matmul_fuse kind;
    int w_tiled; /* w (all parts) tiled as vkg_matmul_args.w_tiled says; every part's rows a multiple
                    of VKG_MATMUL_TILE_ROWS, so a part launched apart is tiled on its own too */
    /* PARTS of 3 (q|k|v) only, NULL for none: Qwen3's RMSNorm of every head_dim-value head of q
     * (y[0], weight *q_norm) and k (y[1], *k_norm) in place, eps inside the square root, after
     * the projections and their biases. Where the one launch runs and dev->use.resnorm, its last
     * workgroup per 8 tokens does it (VKG_MATMUL_MODE_PARTS_QKNORM; `counters` as in
     * vkg_matmul_norm_args), else two rmsnorm launches after a barrier: the same bits. */
    const struct vkg_view *q_norm, *k_norm; /* [head_dim] f32 each */
    uint32_t head_dim;
    float eps;
    struct vkg_view counters; /* [(n_tok + 7) / 8] uint32, zeros; or buf NULL: the two launches */
    struct vkg_view xq;       /* as vkg_matmul_args.xq */
};
enum vkg_status vkg_op_matmul_fused(struct vkg_cmd *c, const struct vkg_matmul_fused_args *f);
/* Whether stacked weights of this type and width can run as one launch of vkg_op_matmul_fused on a
 * device that fuses (use.fused): F32/F16/BF16 with n_in % 8 == 0 and every block type (the texel
 * lane tier's types). Models stack only such projections at load. */
int vkg_op_matmul_fusable(enum vkg_dtype wt, uint64_t n_in);

/* A layer's output projection, its residual add and the next RMSNorm:
 *
 *   res[t][:] += W x[t] (+ bias);  h[t][:] = res[t] / rms(res[t]) * w   (GEMMA: * (1 + w))
 *
 * (res = mm.y, [n_tok][n_out] contiguous; eps inside the square root, as vkg_op_rmsnorm_add). Where
 * dev->use.resnorm (the texel lane tier, subgroups of 8+ lanes), at most VKG_MATMUL_RESNORM_MAX_TOK
 * tokens and every tensor fits one binding window on texels: one launch of matmul_lane /
 * matvec1_lane_tx / matvec1_lane_cs in VKG_MATMUL_MODE_RESNORM, whose last workgroup per block of
 * 8 tokens normalises those rows (one arrival counter per block in `counters`, which must hold
 * zeros and is left so). Elsewhere the matmul into tmp, a barrier and vkg_op_rmsnorm_add: the
 * same sums in the same order, so on lavapipe both routes give the same bits. h must not overlap
 * res or x. No barrier after. */
struct vkg_matmul_norm_args {
    struct vkg_matmul_args mm; /* y: the residual stream (y_stride 0 or n_out); path AUTO */
    struct vkg_view norm_w;    /* [n_out] f32 */
    struct vkg_view h;         /* [n_tok][n_out] f32 */
    struct vkg_view tmp;       /* [n_tok][n_out] f32: the two-launch route's matmul output */
    struct vkg_view counters;  /* [(n_tok + 7) / 8] uint32, zeros */
    float eps;
    enum vkg_rmsnorm_kind kind;
};
enum vkg_status vkg_op_matmul_add_norm(struct vkg_cmd *c, const struct vkg_matmul_norm_args *r);
/* Bytes of vkg_matmul_norm_args.counters for n_tok tokens. */
uint64_t vkg_op_matmul_norm_counter_bytes(uint64_t n_tok);

/* Whether a matrix of this type and width should be stored in VKG_MATMUL_TILE_ROWS-row tiles (F32, F16,
 * BF16 with n_in % 8 == 0; the block types but Q8_0 with n_in % 256 == 0 and dev->use.tiled_blocks) and
 * dev->use.tiled is on; the layout is vkg_weights_tile_rows's (for block types with 1-byte elements and
 * 256 values, one K-quant block or 8 others, as the group; Q6_K's is vkg_weights_tile_q6k's, whole
 * tiles only: the loader leaves a Q6_K of n_out % 8 != 0 in the file's order). Q8_0 is read as fast or
 * faster in the file's row order (README, "Block-type tiles"); the kernels read a tiled one all the same. */
int vkg_op_matmul_tileable(const struct vkg_device *dev, enum vkg_dtype wt, uint64_t n_in);

/* Bytes of the XQ8 scratch (vkg_matmul_args.xq) for n_tok rows of n_in values, in either format. */
uint64_t vkg_op_matmul_xq_bytes(uint64_t n_tok, uint64_t n_in);
/* The 8-bit x formats of the XQ8 kernels (push_matmul.h): Q8_K (256-value blocks, the K-quants'),
 * Q8_0 / Q8_1 (32-value blocks: Q4_0, Q4_1, Q5_0 and Q5_1), and Q8_0 written back as floats (Q8_0
 * weights, whose float-x kernels read it as x: quantize_x_q8_0f). */
enum vkg_xq8_fmt { VKG_XQ8_NONE, VKG_XQ8_Q8K, VKG_XQ8_Q8_0, VKG_XQ8_Q8_0F, VKG_XQ8_FMTS };
/* The format a texel launch of wt over n_tok rows of n_in values quantizes x to on dev (dev->use.xq8),
 * or VKG_XQ8_NONE where it multiplies float x. */
enum vkg_xq8_fmt vkg_op_matmul_xq_fmt(const struct vkg_device *dev, enum vkg_dtype wt, uint64_t n_tok, uint64_t n_in);
/* Bytes of n_tok rows of n_in values in format fmt (Q8_K: n_in / 256 blocks; Q8_0: n_in / 32; Q8_0F:
 * n_in floats). */
uint64_t vkg_op_quantize_x_bytes(enum vkg_xq8_fmt fmt, uint64_t n_tok, uint64_t n_in);
/* quantize_x_q8k / quantize_x_q8_0 / quantize_x_q8_0f: n_tok rows of n_in (a multiple of 256 / 32 / 32)
 * F32 values, x_stride floats apart (0: n_in; a multiple of 4, x on 16 bytes) -> the 8-bit rows of the
 * XQ8 kernels at xq (layouts in push_matmul.h), quantized as llama.cpp's quantize_row_q8_K_ref / x86
 * quantize_row_q8_0 and _q8_1 (Q8_0F: those values, f16(d) q, as F32 rows of n_in). No barrier.
 * vkg_op_quantize_x: Q8_K. */
enum vkg_status vkg_op_quantize_x_fmt(struct vkg_cmd *c, enum vkg_xq8_fmt fmt, struct vkg_view x, uint64_t x_stride,
                                      uint32_t n_in, uint32_t n_tok, struct vkg_view xq);
enum vkg_status vkg_op_quantize_x(struct vkg_cmd *c, struct vkg_view x, uint64_t x_stride, uint32_t n_in,
                                  uint32_t n_tok, struct vkg_view xq);

/* n values (a multiple of 32) of src (F32/F16/BF16) -> n/32 blocks of dst_type
 * (Q8_0 or Q4) at dst (an even byte offset). The rule is in shaders/quantize.comp. */
enum vkg_status vkg_op_quantize(struct vkg_cmd *c, struct vkg_view src /* [n] */, enum vkg_dtype src_type,
                                struct vkg_view dst /* [n/32] blocks */, enum vkg_dtype dst_type, uint64_t n);

#endif
