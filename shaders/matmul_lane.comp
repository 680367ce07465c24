#version 450
// matmul_lane.comp — y[t][o] = sum_i W[o][i] * x[t][i] (+ bias[o]) for float
// weights on CPU drivers (lavapipe), any number of tokens: the mat-vec of
// decode batches and the GEMM of prefill alike.
//
// Each invocation owns LR weight rows (rows row0 + r * WG; push_matmul.h says
// how many for each variant) and the 8 tokens of block gl_WorkGroupID.x, and
// walks the rows in chunks of 8 columns keeping its 8 x LR sums: no shared
// memory, no barrier, no cross-lane step but quad broadcasts of x (LOAD_X). W
// and x are read through uniform texel buffers (16-byte texels): on llvmpipe a
// texel fetch is one gather, where each lane of a storage-buffer load is a
// scalar loop iteration with a branch. Every lane needs the same x texels (the
// tokens are the workgroup's), each its own W rows: per chunk LR + 4 fetches
// (16 before the quad broadcasts) feed 64 LR multiply-adds.
// The host guarantees: n_in % 8 == 0, W rows and x rows start on a texel
// (w_off % 8 == 0 for 16-bit types, % 4 for F32; x_off, x_stride % 4 == 0).
// (Block types: below.)
//
// Q8_0 / Q4 (ggml Q4_0) weights: blocks of 32 values, 34 / 18 bytes, not
// texel-aligned one by one, but 8 blocks (256 values) are 17 / 9 texels
// exactly. When n_in % 256 == 0 and w_off % 16 == 0 (bytes), every row and
// every group of 8 blocks starts on a texel; block j of a group starts at byte
// 34j / 18j of it, a constant once the loop over j is unrolled, and its words
// are taken out of the 3 / 2 texels it spans with constant shifts (a texel
// that blocks j and j + 1 share is fetched once). Each
// block's f16 scale multiplies its 4-value dequantized pieces. Otherwise the
// host sets VKG_MATMUL_ROWS_ANY: a row starts at an even byte sr of a texel
// (its own in each lane), each texel of the walk is realign()ed from the two
// it straddles, so the offsets inside a group stay the same constants, and
// the row's last group of 8 blocks may be partial.
// ggml's Q4_1 / Q5_0 / Q5_1 (20 / 22 / 24 bytes: 8 blocks are 10 / 11 / 12
// texels) take the same walk: d (and m) and Q5's 32 fifth bits from the
// block's header, values as ggml dequantizes them (q * d + m, (q - 16) * d).
// One token (matvec1_lane_tx_*, every block type): the dequantization is
// factored out of the sum, d (q . x) + m (sum x) per block (per sub-block or
// quarter for the K-quants), as llama.cpp's dot products do: two float
// operations per weight fewer where nothing else amortizes them (1.1-1.3x).
//
// ggml's K-quants (256-value super-blocks; scales and mins as ggml_quants.glsl /
// llama.cpp's reference take them, but applied to each sub-block's sums, d (q . x) - m (sum x)
// per token, as the one-token kernels do: the several-token walk first takes a chunk's x for
// its 8 tokens, then each row's sums over the chunk as values of the loop body, so that the
// accumulators, which llvmpipe stores under the execution mask, are updated once per
// sub-block or quarter instead of once per 4-8 values):
//   Q4_K: 144 bytes = 9 texels (d, dmin, 12 scale bytes | 128 nibble bytes);
//   Q5_K: 176 bytes = 11 texels (the same header | 32 bytes of 5th bits | 128
//         nibble bytes); for both the host guarantees w_off % 16 == 0, so
//         every block is on a texel.
//   Q6_K: 210 bytes, so a block starts at any even byte of a texel, a
//         different one per row: each lane takes its block's 14 texels and
//         shifts pairs of them by its own byte offset (realign(), selects, no
//         dynamic indexing). Any even w_off.
//! variant matmul_lane_f32 W_F32
//! variant matmul_lane_f16 W_F16
//! variant matmul_lane_bf16 W_BF16
//! variant matmul_lane_q8_0 W_Q8_0
//! variant matmul_lane_q4 W_Q4
//! variant matmul_lane_q4_1 W_Q4_1
//! variant matmul_lane_q5_0 W_Q5_0
//! variant matmul_lane_q5_1 W_Q5_1
//! variant matmul_lane_q4_k W_Q4_K
//! variant matmul_lane_q5_k W_Q5_K
//! variant matmul_lane_q6_k W_Q6_K
//! variant matvec1_lane_tx_f32 W_F32 NT1
//! variant matvec1_lane_tx_f16 W_F16 NT1
//! variant matvec1_lane_tx_bf16 W_BF16 NT1
//! variant matvec1_lane_tx_q8_0 W_Q8_0 NT1
//! variant matvec1_lane_tx_q4 W_Q4 NT1
//! variant matvec1_lane_tx_q4_1 W_Q4_1 NT1
//! variant matvec1_lane_tx_q5_0 W_Q5_0 NT1
//! variant matvec1_lane_tx_q5_1 W_Q5_1 NT1
//! variant matvec1_lane_tx_q4_k W_Q4_K NT1
//! variant matvec1_lane_tx_q5_k W_Q5_K NT1
//! variant matvec1_lane_tx_q6_k W_Q6_K NT1
//! variant matmul_lane_q4_k_xq8 W_Q4_K XQ8
//! variant matvec1_lane_tx_q4_k_xq8 W_Q4_K NT1 XQ8
//! variant matmul_lane_q5_k_xq8 W_Q5_K XQ8
//! variant matvec1_lane_tx_q5_k_xq8 W_Q5_K NT1 XQ8
//! variant matmul_lane_q6_k_xq8 W_Q6_K XQ8
//! variant matvec1_lane_tx_q6_k_xq8 W_Q6_K NT1 XQ8
//! variant matmul_lane_q4_xq8 W_Q4 XQ8
//! variant matmul_lane_q4_1_xq8 W_Q4_1 XQ8
//! variant matmul_lane_q5_0_xq8 W_Q5_0 XQ8
//! variant matmul_lane_q5_1_xq8 W_Q5_1 XQ8
//! variant matvec1_lane_tx_q4_xq8 W_Q4 NT1 XQ8
//! variant matvec1_lane_tx_q4_1_xq8 W_Q4_1 NT1 XQ8
//! variant matvec1_lane_tx_q5_0_xq8 W_Q5_0 NT1 XQ8
//! variant matvec1_lane_tx_q5_1_xq8 W_Q5_1 NT1 XQ8
//! variant matvec1_lane_cs_f32 W_F32 NT1 CS
//! variant matvec1_lane_cs_f16 W_F16 NT1 CS
//! variant matvec1_lane_cs_bf16 W_BF16 NT1 CS
// *_xq8 (Q4_K, Q5_K, Q6_K): x is not F32 but 8-bit integers per 256-value block (quantize_x.comp, the layout in
// push_matmul.h: d, the sub-block sums of q, then q paired as q[v + 2] + q[v] 2^16 in 32-bit words;
// x_off / x_stride count those words). A Q4_K word holds 8 nibbles; w & 0x000f000f puts two of them
// in the two 16-bit halves of a word, and one 32-bit integer multiply by a pair word leaves
// w0 q0 + w1 q2 in the product's upper half (the lower half, w0 q2, stays under 2^15 in magnitude):
// two multiply-adds per multiply, with no conversion of the weights to float, where the float walk
// spends a mask, a conversion, a multiply and an add per weight and token. The sums of 4 weight words
// (16 products: |upper| <= 16 * 15 * 127 < 2^15, |lower| <= 8 * 15 * 127) are read out with one add
// and one arithmetic shift; llama.cpp's CPU backend multiplies Q4_K by the same 8-bit activations
// (Q8_K), d_x d (sum sc q . x) - d_x dmin (sum m sum x), in integers the same way. Q5_K's 5-bit
// values (8 products: <= 8 * 31 * 127) and Q6_K's values minus 32 in the halves (signed, <= 8 * 32 *
// 127; no sum of x needed) are read out every 2 weight words. moe_lane.comp's *_xq8 experts do the same.
// matvec1_lane_tx_*: exactly one token (decode of one sequence), the same
// walk without the other 7 token slots; x's texels come 4 at a time, one
// fetch per lane of a quad shared by quad broadcasts (X_ROW4 / X_ROW8; float
// rows step 16 columns for it), so the host runs it only with use.quad.
//
// The column loops are do-whiles (n_in > 0): llvmpipe (Mesa 22.3) tests a for loop's condition
// at the top and, once every lane has left, still runs the body one more time under an all-off
// mask before its end-of-loop test exits; for rows of 2 blocks (n_in 512) that was half as much
// work again. A do-while leaves at its bottom test (common.glsl, "Loops on llvmpipe").
//
// Fused launches (p.mode, push_matmul.h), one dispatch where a layer had 2-3:
//   PARTS: W is q|k|v stacked at load; rows past seg1 / seg2 are stored into
//          the bindings Y1 / Y2 with their own offsets and strides.
//   SWIGLU / GEGLU / GEGLU_F16: W is gate|up stacked (2 n_out rows); the invocation's
//          first LR/2 rows are gate rows o, the last LR/2 the up rows n_out + o,
//          and it stores act(gate) * up (act.glsl, as act.comp computes it).
//   RESNORM: a layer's output projection and the next RMSNorm: Y is the
//          residual stream and takes += (W x + bias); the workgroup that ends
//          last for its token block normalises the block's rows into Y1
//          (norm_tail), where a separate rmsnorm_add launch did it.
//   PARTS_QKNORM: PARTS, then the last workgroup per token block applies
//          Qwen3's per-head RMSNorm to q and k in place (norm_tail), where
//          two rmsnorm launches did it.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_quad : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_ballot : require
#include "common.glsl"
#include "dtype.glsl"
#include "push_matmul.h"
#include "act.glsl"
#include "quad_x.glsl"
#include "f16.glsl"
#include "realign.glsl"
VKG_PUSH_CONSTANTS(vkg_push_matmul);

layout(constant_id = 0) const uint WG = 32; // == local_size_x
// The launch's mode + 1 (push_matmul.h), or 0: p.mode at run time. llvmpipe runs every branch
// of a kernel under a mask, uniform ones too, so a pipeline for all modes pays every mode's stores
// (a scalar loop over the lanes each), activations and norm tail in every launch: the host
// specializes the float matmul_lane launches by mode (ops_matmul.c, mode_spec).
layout(constant_id = 1) const uint MODE_SPEC = 0u;
#define MODE (MODE_SPEC != 0u ? MODE_SPEC - 1u : p.mode)
// The 32-value block types' weight walk (below): 1 rows on whole texel-aligned groups of 8 blocks,
// 2 VKG_MATMUL_ROWS_ANY, 0 p.vec at run time (both walks in the pipeline, both run under masks on
// llvmpipe: the host specializes every block-type launch, ops_matmul.c rows_spec).
// Q6_K: 3 the tiles' split fields (push_matmul.h, VKG_Q6K_SPLIT_*: every field on a texel, no
// realigning), 0 a block at any even byte (row-major).
layout(constant_id = 2) const uint ROWS_SPEC = 0u;

layout(binding = 0) uniform usamplerBuffer W;             // weights, 16-byte texels
layout(binding = 1) uniform usamplerBuffer X;             // x [n_tok][x_stride] f32, 16-byte texels
layout(binding = 2) coherent buffer Ybuf { float Y[]; };  // [n_tok][y_stride] (RESNORM: read and written)
layout(binding = 3) readonly buffer Bbuf { float B[]; };  // [n_out] (when has_bias)
layout(binding = 4) coherent buffer Y1buf { float Y1[]; };  // PARTS: rows [seg1, seg2); RESNORM: the normed rows
layout(binding = 5) writeonly buffer Y2buf { float Y2[]; }; // PARTS: rows [seg2, n_out); else unused
layout(binding = 6) readonly buffer Gbuf { float G[]; };    // RESNORM: the norm's weight [n_out]; PARTS_QKNORM: q's [norm_n]
layout(binding = 7) coherent buffer Cbuf { uint CNT[]; };   // RESNORM, PARTS_QKNORM: arrivals per token block
layout(binding = 8) readonly buffer G1buf { float G1[]; };  // PARTS_QKNORM: k's norm weight [norm_n]; else unused

#if defined(NT1) && defined(CS)
#define NT 1u
#define LR VKG_MATVEC1_CS_ROWS
#elif defined(NT1)
#define NT 1u
#define LR VKG_MATVEC1_TX_ROWS
#elif defined(W_Q4_K) || defined(W_Q5_K) || defined(W_Q6_K)
#define NT 8u
#define LR VKG_MATMUL_LANE_ROWS_K
#else
#define NT 8u
#define LR VKG_MATMUL_LANE_ROWS
#endif

// LOAD_X(o, xv): texel o (counted from each token's row start) of x for the NT tokens. A texel
// fetch is a call on llvmpipe (README, "Rows per invocation"), and all lanes want the same x texel:
// with 8 tokens, lane q of each quad fetches tokens q and q + 4 and subgroupQuadBroadcast (one
// in-register permute on llvmpipe) hands each to the whole quad (quad_x.glsl): 2 fetches instead of 8.
#ifdef NT1
#define LOAD_X(o, xv) xv[0] = uintBitsToFloat(texelFetch(X, int(xt[0] + (o))))
// One token: the x texels [o, o + 4) / [o, o + 8) into xv. Lane q of each quad fetches texel o + q
// (and o + 4 + q) and subgroupQuadBroadcast hands each to the quad: a quarter of the fetch calls
// of one per texel (all lanes want the same texel). xq: this lane's place in its quad.
#define X_ROW4(o, xv)                                                                 \
    {                                                                                 \
        vec4 l_ = uintBitsToFloat(texelFetch(X, int(xt[0] + (o) + xq)));              \
        xv[0] = subgroupQuadBroadcast(l_, 0u);                                        \
        xv[1] = subgroupQuadBroadcast(l_, 1u);                                        \
        xv[2] = subgroupQuadBroadcast(l_, 2u);                                        \
        xv[3] = subgroupQuadBroadcast(l_, 3u);                                        \
    }
#define X_ROW8(o, xv)                                                                                     \
    {                                                                                                     \
        vec4 l_ = uintBitsToFloat(texelFetch(X, int(xt[0] + (o) + xq))),                                  \
             h_ = uintBitsToFloat(texelFetch(X, int(xt[0] + (o) + 4u + xq)));                             \
        QUAD_X8(l_, h_, xv);                                                                              \
    }
#else
#define LOAD_X(o, xv)                                                                                     \
    {                                                                                                     \
        vec4 l_ = uintBitsToFloat(texelFetch(X, int(xq0 + (o)))), h_ = uintBitsToFloat(texelFetch(X, int(xq1 + (o)))); \
        QUAD_X8(l_, h_, xv);                                                                              \
    }
#endif

#ifdef XQ8
// XQ8_HEADER(b, hx): the header texels [b, b + 3) of each token's x block (d, the 8 sub-block sums of
// q; push_matmul.h), shared through the quad as LOAD_X shares x
#ifdef NT1
#define XQ8_HEADER(b, hx)                                                     \
    {                                                                         \
        uvec4 l_ = texelFetch(X, int(xt[0] + (b) + min(xq, 2u)));             \
        hx[0][0] = subgroupQuadBroadcast(l_, 0u);                             \
        hx[1][0] = subgroupQuadBroadcast(l_, 1u);                             \
        hx[2][0] = subgroupQuadBroadcast(l_, 2u);                             \
    }
#else
#define XQ8_HEADER(b, hx)                                                                                 \
    [[unroll]] for (uint i_ = 0u; i_ < 3u; i_++) {                                                        \
        uvec4 l_ = texelFetch(X, int(xq0 + (b) + i_)), h_ = texelFetch(X, int(xq1 + (b) + i_));           \
        QUAD_X8(l_, h_, hx[i_]);                                                                          \
    }
#endif
#endif

// Byte-mask dot products (one token; the K-quant GEMMs' q . x sums): the 4 bytes of a word v that hold values below 128, each
// left in its place (v & 0xff << 8b is q_b 2^8b: one and instead of a shift and an and) and
// converted as it stands; x_b is scaled by 2^-8b (BYTE_SCALE, once per x texel for all the rows),
// so every product is q_b x_b exactly as before (power-of-two scalings are exact) and so is each sum.
const vec4 BYTE_SCALE = vec4(1.0, 1.0 / 256.0, 1.0 / 65536.0, 1.0 / 16777216.0);
vec4 q_bytes(uint v) { return vec4(ivec4(uvec4(v) & uvec4(0xffu, 0xff00u, 0xff0000u, 0xff000000u))); }
float dot_bytes(uint v, vec4 xs) { return dot(q_bytes(v), xs); }

#if defined(W_Q8_0) || defined(W_Q4) || defined(W_Q4_1) || defined(W_Q5_0) || defined(W_Q5_1)
#define QUANT
#ifdef XQ8 // *_xq8 of the 32-value types: weight words summed per read-out, less one (a mask of i)
#if defined(W_Q5_0) || defined(W_Q5_1)
#define RDM 1u
#else
#define RDM 3u
#endif
#endif
#ifdef W_Q8_0
#define QB 34u // bytes per block
#define QT 3u  // texels a block spans (from an even byte < 16 of the first)
#define QW 8u  // 32-bit words of values per block
#define QS 2u  // byte of the values in the block
#else
#define NIB   // values in nibbles: 4i + b low, 16 + 4i + b high of byte 4i + b
#define QW 4u
#if defined(W_Q4)
#define QB 18u
#define QT 2u
#define QS 2u
#elif defined(W_Q4_1)
#define QB 20u // d, m, qs[16]
#define QT 3u
#define QS 4u
#elif defined(W_Q5_0)
#define QB 22u // d, qh (32 bits at byte 2), qs[16]
#define QT 3u
#define QS 6u
#define QH 2u
#else
#define QB 24u // d, m, qh (at byte 4), qs[16]
#define QT 3u
#define QS 8u
#define QH 4u
#endif
#endif
// the 32-bit word at byte o (even; a constant after unrolling) of the texels a|b|c
uint word_at(uvec4 a, uvec4 b, uvec4 c, uint o)
{
    uint u[12] = uint[12](a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w, c.x, c.y, c.z, c.w);
    uint q = o >> 2u;
    return (o & 2u) == 0u ? u[q] : (u[q] >> 16) | (u[min(q + 1u, 11u)] << 16);
}
#elif defined(W_Q4_K) || defined(W_Q5_K)
#include "k4_scales.glsl"
#elif defined(W_Q6_K)
// signed byte n (0..15) of s as a float
float sc_i8(uvec4 s, uint n) { return float(int(s[n >> 2] << (24u - 8u * (n & 3u))) >> 24); }
#else
// the 8 values [k, k + 8) of a row whose texel kt is at texel tb + kt * ts (w_texel)
void load_w8(uint tb, uint ts, uint k, out vec4 a, out vec4 b)
{
#ifdef W_F32
    uint t = tb + (k >> 2) * ts;
    a = uintBitsToFloat(texelFetch(W, int(t)));
    b = uintBitsToFloat(texelFetch(W, int(t + ts)));
#else
    uvec4 h = texelFetch(W, int(tb + (k >> 3) * ts));
#ifdef W_F16
    f16x8(h, a, b);
#else
    a = uintBitsToFloat(uvec4(h.x << 16, h.x & 0xffff0000u, h.y << 16, h.y & 0xffff0000u));
    b = uintBitsToFloat(uvec4(h.z << 16, h.z & 0xffff0000u, h.w << 16, h.w & 0xffff0000u));
#endif
#endif
}

// Where row `row` of a float W starts (tb) and how far apart its texels are (ts): row-major,
// texel kt at w_off / VT + row * n_in / VT + kt; VKG_MATMUL_W_TILED (push_matmul.h), in a tile
// of VKG_MATMUL_TILE_ROWS rows of the n_rows-row matrix, at the tile's start + kt * (its rows)
// + the row's place in it. w_off, n_in are multiples of VT (the host's texel rule).
void w_texel(uint row, uint n_rows, out uint tb, out uint ts)
{
#ifdef W_F32
    const uint VT = 4u;
#else
    const uint VT = 8u;
#endif
    uint tpr = p.n_in / VT;
    if ((p.vec & VKG_MATMUL_W_TILED) != 0u) {
        uint t0 = row - row % VKG_MATMUL_TILE_ROWS;
        ts = min(VKG_MATMUL_TILE_ROWS, n_rows - t0);
        tb = p.w_off / VT + t0 * tpr + (row - t0);
    } else {
        ts = 1u;
        tb = p.w_off / VT + row * tpr;
    }
}
#endif

#if defined(W_Q4_K) || defined(W_Q5_K) || defined(W_Q6_K) || defined(QUANT)
// Where row `row` of a block-type W (the n_rows-row matrix, rows of rb bytes in units of bb bytes: a
// K-quant block, or a group of 8 32-value blocks) starts, in bytes from w_off (o), and the bytes from one
// of its units to the next (step): row-major, rows one after the other; VKG_MATMUL_W_TILED (push_matmul.h),
// tiles of VKG_MATMUL_TILE_ROWS rows (the last may hold fewer), unit kb of the tile's row j at the tile's
// start + (kb * rows in the tile + j) bb, so that the row-per-lane walk's 8 lanes read 8 neighbouring units
// of one tile at each step.
void k_tile(uint row, uint n_rows, uint rb, uint bb, out uint o, out uint step)
{
    if ((p.vec & VKG_MATMUL_W_TILED) != 0u) {
        uint t0 = row - row % VKG_MATMUL_TILE_ROWS, ts = min(VKG_MATMUL_TILE_ROWS, n_rows - t0);
        o = t0 * rb + (row - t0) * bb;
        step = ts * bb;
    } else {
        o = row * rb;
        step = bb;
    }
}
#endif

// VKG_MATMUL_MODE_RESNORM / PARTS_QKNORM, after the workgroup's stores: it counts itself in for
// its token block, and the block's last workgroup (of `total`) applies the norms to the block's nt
// tokens, then re-arms the counter for the next launch. WG is one subgroup (the host runs these
// modes only with subgroups of at least WG lanes), so the election needs no barrier(). Each row
// is normalised as rmsnorm_lane does it (lane j sums the groups of 4 elements j, j + WG, ...; one
// subgroupAdd):
//   RESNORM: the n_out-value rows of the residual stream Y into Y1, weight G (+ w_add);
//   PARTS_QKNORM: each norm_n-value head of q (Y, rows [0, seg1)) with G and of k (Y1, rows
//   [seg1, seg2)) with G1, in place.
// lane's sum of squares of BUF[b .. b + n), in rmsnorm.comp's lane-tier order: the groups of 4
// elements lane, lane + WG, ..., each in element order (rmsnorm.comp adds 0 for the elements of a
// last partial group that lie past the row, which leaves a sum of squares unchanged)
#define LANE_SUMSQ(BUF, b, n, ss)                                  \
    for (uint i = 0u;; i++) { /* one load site: code size is compile time on llvmpipe */ \
        uint j = 4u * (lane + WG * (i >> 2u)) + (i & 3u);          \
        if (j >= (n)) break; /* the rest of the row's groups lie beyond too */ \
        float v = BUF[(b) + j];                                    \
        ss += v * v;                                               \
    }
void norm_tail(uint tb, uint t0, uint nt, uint total)
{
    memoryBarrierBuffer();
    subgroupBarrier();
    uint prev = 0u;
    if (subgroupElect()) prev = atomicAdd(CNT[p.c_off + tb], 1u);
    if (subgroupBroadcastFirst(prev) != total - 1u) return;
    memoryBarrierBuffer(); // every other workgroup's rows of these tokens are in Y (and Y1)
    uint lane = gl_LocalInvocationID.x;
    for (uint t = 0u; t < nt; t++) {
        uint yb = p.y_off + (t0 + t) * p.y_stride, hb = p.y1_off + (t0 + t) * p.y1_stride;
        if (MODE == VKG_MATMUL_MODE_RESNORM) {
            float ss = 0.0;
            LANE_SUMSQ(Y, yb, p.n_out, ss)
            float inv = 1.0 / sqrt(subgroupAdd(ss) / float(p.n_out) + p.eps);
            for (uint j = lane; j < p.n_out; j += WG) Y1[hb + j] = (Y[yb + j] * inv) * (G[p.g_off + j] + p.w_add);
            continue;
        }
        for (uint h = 0u; h < p.seg1 / p.norm_n; h++) {
            uint b = yb + h * p.norm_n;
            float ss = 0.0;
            LANE_SUMSQ(Y, b, p.norm_n, ss)
            float inv = 1.0 / sqrt(subgroupAdd(ss) / float(p.norm_n) + p.eps);
            for (uint j = lane; j < p.norm_n; j += WG) Y[b + j] = (Y[b + j] * inv) * (G[p.g_off + j] + p.w_add);
        }
        for (uint h = 0u; h < (p.seg2 - p.seg1) / p.norm_n; h++) {
            uint b = hb + h * p.norm_n;
            float ss = 0.0;
            LANE_SUMSQ(Y1, b, p.norm_n, ss)
            float inv = 1.0 / sqrt(subgroupAdd(ss) / float(p.norm_n) + p.eps);
            for (uint j = lane; j < p.norm_n; j += WG) Y1[b + j] = (Y1[b + j] * inv) * (G1[p.g1_off + j] + p.w_add);
        }
    }
    if (subgroupElect()) CNT[p.c_off + tb] = 0u;
}

void main()
{
#ifdef NT1
    uint g = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x, tb = 0u;
#else
    // token blocks in x (a row group's blocks run back to back, its rows in cache), row groups in y, z
    uint g = gl_WorkGroupID.z * gl_NumWorkGroups.y + gl_WorkGroupID.y, tb = gl_WorkGroupID.x;
#endif
    bool glu = MODE == VKG_MATMUL_MODE_SWIGLU || MODE == VKG_MATMUL_MODE_GEGLU || MODE == VKG_MATMUL_MODE_GEGLU_F16;
    uint orows = glu ? LR / 2u : LR; // output rows per invocation
#ifdef CS
    // matvec1_lane_cs_*: the workgroup's lanes share its LR rows and split their columns, texel by
    // texel (lane l reads texels l, l + WG, ... of each row: one contiguous run of WG texels per row
    // and step for the workgroup, LR streams instead of WG x LR); subgroupAdd sums the lanes
#define RS 1u
    uint row0 = g * orows; // output rows row0 + r
#else
#define RS WG
    uint row0 = g * WG * orows + gl_LocalInvocationID.x; // output rows row0 + r * WG
#endif
    uint t0 = tb * NT, nt = min(NT, p.n_tok - t0);
    // rows past n_out and tokens past n_tok read row / token 0 (valid) and store nothing
    uint rows[LR], xt[NT];
    [[unroll]] for (uint r = 0u; r < LR; r++) {
        uint o = row0 + (glu ? r % (LR / 2u) : r) * RS;
        rows[r] = (o < p.n_out ? o : 0u) + (glu && r >= LR / 2u ? p.n_out : 0u);
    }
    [[unroll]] for (uint t = 0u; t < NT; t++) xt[t] = (p.x_off + (t < nt ? t0 + t : t0) * p.x_stride) >> 2;
#ifdef NT1
    uint xq = gl_SubgroupInvocationID & 3u; // this lane's place in its quad (X_ROW4 / X_ROW8)
#else
    uint tq0 = gl_SubgroupInvocationID & 3u, tq1 = tq0 + 4u; // the tokens this lane fetches for its quad
    uint xq0 = (p.x_off + (tq0 < nt ? t0 + tq0 : t0) * p.x_stride) >> 2;
    uint xq1 = (p.x_off + (tq1 < nt ? t0 + tq1 : t0) * p.x_stride) >> 2;
#endif
    float acc[LR * NT];
    [[unroll]] for (uint i = 0u; i < LR * NT; i++) acc[i] = 0.0;
#ifdef QUANT
    // ROWS_ANY (rows of n_in % 256 != 0, or a window that does not start on a texel): a row starts at
    // byte sr of texel tr and every texel of it is realigned from two; the last group is partial
    bool any = ROWS_SPEC != 0u ? ROWS_SPEC == 2u : (p.vec & VKG_MATMUL_ROWS_ANY) != 0u;
    // each row's first texel (tr, its first byte there sr) and the texels from one of its groups of 8
    // blocks to the next (gs): row-major, or in 8-row tiles of groups (k_tile; n_in % 256 == 0 and
    // aligned rows, never ROWS_ANY)
    uint tr[LR], sr[LR], gs[LR], last = uint(textureSize(W)) - 1u;
    [[unroll]] for (uint r = 0u; r < LR; r++) {
        uint o, step;
        k_tile(rows[r], glu ? 2u * p.n_out : p.n_out, p.n_in / 32u * QB, 8u * QB, o, step);
        o += p.w_off;
        tr[r] = o >> 4;
        sr[r] = o & 15u;
        gs[r] = step >> 4;
    }
    uint k = 0u;
    do {
        uint tg[LR]; // each row's texel of this group of 8 blocks
        [[unroll]] for (uint r = 0u; r < LR; r++) tg[r] = tr[r] + (k >> 8) * gs[r];
        uvec4 pv[LR * 3u], praw[LR]; // the previous block's texels (realigned), the last raw one
        [[unroll]] for (uint j = 0u; j < 8u; j++) {
            if (k + 32u * j >= p.n_in) break;
            uint s = (j * QB) & 15u, tj = (j * QB) >> 4;
            uvec4 ta[LR], tb[LR], tc[LR];
            vec2 d[LR]; // d, and m for Q4_1 / Q5_1
#ifdef QH
            uint qh[LR];
#endif
            [[unroll]] for (uint r = 0u; r < LR; r++) {
                // block j starts c0 = j QB / 16 texels into the group, block j - 1 dp texels before
                // it (constants once unrolled): a texel both span is the previous block's (pv). The
                // aligned walk fetches the others; ROWS_ANY realigns each from raw texels c0 + m and
                // c0 + m + 1, the first of which is the one fetched last (praw) but in block 0.
                // Raw texels past the last one only carry bytes past the row's end: clamped.
                uint c0 = (j * QB) >> 4, dp = j > 0u ? c0 - (((j - 1u) * QB) >> 4) : 9u;
                uvec4 tm[3];
                [[unroll]] for (uint m = 0u; m < 3u; m++) {
                    if (m >= QT) {
                        tm[m] = uvec4(0u);
                    } else if (dp + m < QT) {
                        tm[m] = pv[3u * r + dp + m];
                    } else if (!any) {
                        tm[m] = texelFetch(W, int(tg[r] + tj + m));
                    } else {
                        uint t = tg[r] + tj + m;
                        uvec4 lo = m > 0u || dp == QT ? praw[r] : texelFetch(W, int(t));
                        praw[r] = texelFetch(W, int(min(t + 1u, last)));
                        tm[m] = realign(lo, praw[r], sr[r]);
                    }
                    pv[3u * r + m] = tm[m];
                }
                ta[r] = tm[0];
                tb[r] = tm[1];
                tc[r] = tm[2];
                d[r] = unpackHalf2x16(word_at(ta[r], tb[r], tc[r], s));
#ifdef QH
                qh[r] = word_at(ta[r], tb[r], tc[r], s + QH);
#endif
            }
#ifdef XQ8
            // *_q4_xq8, *_q4_1_xq8, *_q5_0_xq8, *_q5_1_xq8: the block's x in 8 bits (quantize_x_q8_0,
            // push_matmul.h: VKG_XQ8_0_BLOCK_TEXELS texels per 32 values), per token its header (d_x, sum
            // q, s) and 4 texels of pair words, lane q fetching tokens q and q + 4 for its quad (one
            // token: lane q the pair texel q); each weight word's nibbles two to a word (w & 0x00ff00ff after the nibbles
            // are bytes) against them, as the K-quants above: Q4 / Q4_1 read out once per block (16
            // products: |upper| <= 16 * 15 * 127 < 2^15), Q5 every 2 words (8 * 31 * 127). llama.cpp's
            // CPU backend multiplies these types by the same 8-bit x (Q8_0 / Q8_1): d d_x (q . q_x),
            // less 8 (16) d d_x sum q_x for Q4_0 (Q5_0), plus m s for Q4_1 / Q5_1.
            uint xo = ((k >> 5) + j) * VKG_XQ8_0_BLOCK_TEXELS;
            uvec4 hx[NT], xw[4][NT];
#ifdef NT1
            hx[0] = texelFetch(X, int(xt[0] + xo));
            {
                uvec4 l_ = texelFetch(X, int(xt[0] + xo + 1u + xq));
                [[unroll]] for (uint c = 0u; c < 4u; c++) xw[c][0] = subgroupQuadBroadcast(l_, c);
            }
#else
            {
                uvec4 l_ = texelFetch(X, int(xq0 + xo)), h_ = texelFetch(X, int(xq1 + xo));
                QUAD_X8(l_, h_, hx);
            }
            [[unroll]] for (uint c = 0u; c < 4u; c++) {
                uvec4 l_ = texelFetch(X, int(xq0 + xo + 1u + c)), h_ = texelFetch(X, int(xq1 + xo + 1u + c));
                QUAD_X8(l_, h_, xw[c]);
            }
#endif
            [[unroll]] for (uint r = 0u; r < LR; r++) {
                int qs[NT];
                uint va[NT], vb[NT];
                [[unroll]] for (uint i = 0u; i < 4u; i++) {
                    uint w = word_at(ta[r], tb[r], tc[r], s + QS + 4u * i);
                    // byte b: value 4i + b in its low nibble, 16 + 4i + b in its high (and their fifth bits,
                    // bits 4i + b and 16 + 4i + b of qh, spread to bit 4 of each byte by one multiply)
                    uint la = w & 0x0f0f0f0fu, lb = (w >> 4) & 0x0f0f0f0fu;
#ifdef QH
                    la |= ((((qh[r] >> (4u * i)) & 15u) * 0x00204081u) & 0x01010101u) << 4;
                    lb |= ((((qh[r] >> (16u + 4u * i)) & 15u) * 0x00204081u) & 0x01010101u) << 4;
#endif
                    // values 4i, 4i + 2 | 4i + 1, 4i + 3 against pair words 2i | 2i + 1 (texel i / 2), the
                    // high nibbles' against 8 + 2i | 9 + 2i (texel 2 + i / 2)
                    uint wa0 = la & 0x00ff00ffu, wa1 = (la >> 8) & 0x00ff00ffu;
                    uint wb0 = lb & 0x00ff00ffu, wb1 = (lb >> 8) & 0x00ff00ffu;
                    uint e = 2u * (i & 1u);
                    [[unroll]] for (uint t = 0u; t < NT; t++) {
                        uint v = wa0 * xw[i >> 1][t][e] + wa1 * xw[i >> 1][t][e + 1u];
                        uint u = wb0 * xw[2u + (i >> 1)][t][e] + wb1 * xw[2u + (i >> 1)][t][e + 1u];
                        va[t] = (i & RDM) == 0u ? v : va[t] + v;
                        vb[t] = (i & RDM) == 0u ? u : vb[t] + u;
                        if ((i & RDM) == RDM) {
                            int q = ((int(va[t]) + 0x8000) >> 16) + ((int(vb[t]) + 0x8000) >> 16);
                            qs[t] = i == RDM ? q : qs[t] + q;
                        }
                    }
                }
                [[unroll]] for (uint t = 0u; t < NT; t++) {
                    float dd = d[r].x * uintBitsToFloat(hx[t].x);
#if defined(W_Q4)
                    acc[r * NT + t] += dd * float(qs[t] - 8 * int(hx[t].y));
#elif defined(W_Q5_0)
                    acc[r * NT + t] += dd * float(qs[t] - 16 * int(hx[t].y));
#else // Q4_1, Q5_1: + m s
                    acc[r * NT + t] += dd * float(qs[t]) + d[r].y * uintBitsToFloat(hx[t].z);
#endif
                }
            }
#else
            uint xk = (k + 32u * j) >> 2; // x texel of the block's first value
#ifdef NT1
            // one token: d and m multiply each block's sums q . x and sum x once (as the K-quants below)
            float sq[LR];
            [[unroll]] for (uint r = 0u; r < LR; r++) sq[r] = 0.0;
            vec4 xs = vec4(0.0), x8[8]; // the block's 32 x values
            X_ROW8(xk, x8);
#endif
            [[unroll]] for (uint i = 0u; i < QW; i++) {
                vec4 xa[NT], xb[NT];
#ifdef NT1
                xa[0] = x8[i];
#else
                LOAD_X(xk + i, xa);
#endif
#ifdef NIB
#ifdef NT1
                xb[0] = x8[4u + i];
                xs += xa[0] + xb[0];
#ifdef QH
                vec4 ya = xa[0] * BYTE_SCALE, yb = xb[0] * BYTE_SCALE; // dot_bytes' x
#endif
#else
                LOAD_X(xk + 4u + i, xb);
#endif
#endif
                [[unroll]] for (uint r = 0u; r < LR; r++) {
                    uint w = word_at(ta[r], tb[r], tc[r], s + QS + 4u * i);
#ifdef W_Q8_0
#ifdef NT1
                    // each signed byte moved to the top of its word (q 2^24, two operations each but
                    // the first and last: one), the 2^-24 folded into d below: the same products
                    sq[r] += dot(vec4(ivec4(w << 24, (w << 16) & 0xff000000u, (w << 8) & 0xff000000u, w & 0xff000000u)), xa[0]);
#else
                    vec4 wa = d[r].x * vec4(ivec4(w << 24, w << 16, w << 8, w) >> 24);
                    [[unroll]] for (uint t = 0u; t < NT; t++) acc[r * NT + t] += dot(wa, xa[t]);
#endif
#elif defined(NT1) && defined(QH)
                    // byte b of the word: value 4i + b in its low nibble, 16 + 4i + b in its high; the
                    // fifth bits 4i .. 4i + 3 (16 + 4i ..) of qh spread to bit 4 of bytes 0 .. 3 by one
                    // multiply (n * 0x00204081 = n | n << 7 | n << 14 | n << 21: bit j lands on bit 8j).
                    // (Q4 / Q4_1 keep the shifts below: this form ran 1-2.5 % more instructions there.)
                    uint la = (w & 0x0f0f0f0fu) | (((((qh[r] >> (4u * i)) & 15u) * 0x00204081u) & 0x01010101u) << 4);
                    uint lb = ((w >> 4) & 0x0f0f0f0fu) | (((((qh[r] >> (16u + 4u * i)) & 15u) * 0x00204081u) & 0x01010101u) << 4);
                    sq[r] += dot_bytes(la, ya) + dot_bytes(lb, yb);
#else
                    // byte b of the word: value 4i + b in its low nibble, 16 + 4i + b in its high
                    uvec4 qa = uvec4(w, w >> 8, w >> 16, w >> 24) & 15u, qb = uvec4(w >> 4, w >> 12, w >> 20, w >> 28) & 15u;
#ifdef QH // fifth bit of value v: bit v of qh
                    qa |= ((uvec4(qh[r]) >> uvec4(4u * i, 4u * i + 1u, 4u * i + 2u, 4u * i + 3u)) & 1u) << 4;
                    qb |= ((uvec4(qh[r]) >> uvec4(16u + 4u * i, 17u + 4u * i, 18u + 4u * i, 19u + 4u * i)) & 1u) << 4;
#endif
#ifdef NT1
                    sq[r] += dot(vec4(qa), xa[0]) + dot(vec4(qb), xb[0]);
#elif defined(W_Q4)
                    vec4 wa = d[r].x * (vec4(qa) - 8.0), wb = d[r].x * (vec4(qb) - 8.0);
#elif defined(W_Q5_0)
                    vec4 wa = d[r].x * (vec4(qa) - 16.0), wb = d[r].x * (vec4(qb) - 16.0);
#else
                    precise vec4 wa = vec4(qa) * d[r].x + d[r].y; // no fused multiply-add: rounds like ggml
                    precise vec4 wb = vec4(qb) * d[r].x + d[r].y;
#endif
#ifndef NT1
                    [[unroll]] for (uint t = 0u; t < NT; t++) acc[r * NT + t] += dot(wa, xa[t]) + dot(wb, xb[t]);
#endif
#endif
                }
            }
#ifdef NT1
            float sx = (xs.x + xs.y) + (xs.z + xs.w);
            [[unroll]] for (uint r = 0u; r < LR; r++) {
#if defined(W_Q8_0)
                acc[r] += (d[r].x * (1.0 / 16777216.0)) * sq[r];
#elif defined(W_Q4)
                acc[r] += d[r].x * (sq[r] - 8.0 * sx);
#elif defined(W_Q5_0)
                acc[r] += d[r].x * (sq[r] - 16.0 * sx);
#else // Q4_1, Q5_1: q d + m
                acc[r] += d[r].x * sq[r] + d[r].y * sx;
#endif
            }
#endif
#endif // XQ8
        }
        k += 256u;
    } while (k < p.n_in);
#elif defined(W_Q4_K) || defined(W_Q5_K)
#ifdef W_Q5_K
#define KB 11u // texels per block
#define KQ 3u  // first texel of the nibbles (qh: texels 1, 2)
#else
#define KB 9u
#define KQ 1u
#endif
    // each row's first block (texel tr) and the texels from one of its blocks to the next (ks): n_in / 256
    // blocks of KB texels, row-major or in 8-row tiles (k_tile)
    uint tr[LR], ks[LR];
    [[unroll]] for (uint r = 0u; r < LR; r++) {
        k_tile(rows[r], glu ? 2u * p.n_out : p.n_out, (p.n_in >> 8) * KB * 16u, KB * 16u, tr[r], ks[r]);
        tr[r] = (p.w_off + tr[r]) >> 4;
        ks[r] >>= 4;
    }
    uint k = 0u;
    do {
        uint kb[LR]; // each row's block k / 256
        [[unroll]] for (uint r = 0u; r < LR; r++) kb[r] = tr[r] + (k >> 8) * ks[r];
        uvec4 h[LR];
        [[unroll]] for (uint r = 0u; r < LR; r++) h[r] = texelFetch(W, int(kb[r]));
#ifdef XQ8
        uint xb8 = (k >> 8) * VKG_XQ8_BLOCK_TEXELS;
        uvec4 hx[3][NT];
        XQ8_HEADER(xb8, hx);
#endif
        // 4 chunks of 64 values: 32 bytes of nibbles, low = sub-block 2c, high = 2c + 1
        [[unroll]] for (uint c = 0u; c < 4u; c++) {
            uvec4 q0[LR], q1[LR];
#ifdef W_Q5_K
            uvec4 b0[LR], b1[LR]; // qh[32]: bit 2c (low) and 2c + 1 (high) of byte l for value l of the chunk
#endif
            vec4 dm[LR]; // d * scale, dmin * min of sub-blocks 2c and 2c + 1
            [[unroll]] for (uint r = 0u; r < LR; r++) {
                q0[r] = texelFetch(W, int(kb[r] + KQ + 2u * c));
                q1[r] = texelFetch(W, int(kb[r] + KQ + 1u + 2u * c));
#ifdef W_Q5_K
                b0[r] = texelFetch(W, int(kb[r] + 1u));
                b1[r] = texelFetch(W, int(kb[r] + 2u));
#endif
                vec2 dd = unpackHalf2x16(h[r].x);
#if defined(XQ8) && defined(NT1)
                dd *= uintBitsToFloat(hx[0][0].x); // d_x d, d_x dmin (as llama.cpp's dot product)
#endif
                uvec2 s1 = k4_scale_min(h[r], 2u * c), s2 = k4_scale_min(h[r], 2u * c + 1u);
                dm[r] = vec4(dd.x * float(s1.x), dd.y * float(s1.y), dd.x * float(s2.x), dd.y * float(s2.y));
            }
            uint xk = (k + 64u * c) >> 2;
#ifdef XQ8
            // sub-blocks 2c (low nibbles) and 2c + 1 (high): 4 texels of pair words each
            uint xd = xb8 + 3u + 8u * c;
            uvec4 xA[4][NT], xB[4][NT];
            int sxa[NT], sxb[NT]; // sum of q over each sub-block (header words 1 + s)
#ifdef NT1
            {
                uvec4 l_ = texelFetch(X, int(xt[0] + xd + xq)), h_ = texelFetch(X, int(xt[0] + xd + 4u + xq));
                [[unroll]] for (uint j = 0u; j < 4u; j++) {
                    xA[j][0] = subgroupQuadBroadcast(l_, j);
                    xB[j][0] = subgroupQuadBroadcast(h_, j);
                }
            }
#else
            [[unroll]] for (uint j = 0u; j < 4u; j++) {
                uvec4 l_ = texelFetch(X, int(xq0 + xd + j)), h_ = texelFetch(X, int(xq1 + xd + j));
                QUAD_X8(l_, h_, xA[j]);
                l_ = texelFetch(X, int(xq0 + xd + 4u + j));
                h_ = texelFetch(X, int(xq1 + xd + 4u + j));
                QUAD_X8(l_, h_, xB[j]);
            }
#endif
            [[unroll]] for (uint t = 0u; t < NT; t++) {
                sxa[t] = int(hx[(1u + 2u * c) >> 2][t][(1u + 2u * c) & 3u]);
                sxb[t] = int(hx[(2u + 2u * c) >> 2][t][(2u + 2u * c) & 3u]);
            }
            [[unroll]] for (uint r = 0u; r < LR; r++) {
#ifdef W_Q5_K
                // per token, the products summed in 32-bit words and read out every 2 weight words, while
                // the upper halves stay under 2^15 (8 products of 5-bit values)
                int qa[NT], qb[NT];
                uint va[NT], vb[NT];
                [[unroll]] for (uint i = 0u; i < 8u; i++) {
                    uint w = i < 4u ? q0[r][i] : q1[r][i - 4u];
                    // the 5-bit values as bytes (fifth bits as below), then two to a word: values 4i, 4i + 2 |
                    // 4i + 1, 4i + 3 of sub-block 2c (low nibbles), then of 2c + 1
                    uint hb = i < 4u ? b0[r][i] : b1[r][i - 4u];
                    uint la = (w & 0x0f0f0f0fu) | (((hb >> (2u * c)) & 0x01010101u) << 4);
                    uint lb = ((w >> 4) & 0x0f0f0f0fu) | (((hb >> (2u * c + 1u)) & 0x01010101u) << 4);
                    uint wa0 = la & 0x00ff00ffu, wa1 = (la >> 8) & 0x00ff00ffu;
                    uint wb0 = lb & 0x00ff00ffu, wb1 = (lb >> 8) & 0x00ff00ffu;
                    uint e = 2u * (i & 1u);
                    [[unroll]] for (uint t = 0u; t < NT; t++) {
                        uint v = wa0 * xA[i >> 1][t][e] + wa1 * xA[i >> 1][t][e + 1u];
                        uint u = wb0 * xB[i >> 1][t][e] + wb1 * xB[i >> 1][t][e + 1u];
                        if ((i & 1u) == 0u) {
                            va[t] = v;
                            vb[t] = u;
                        } else {
                            int ra = (int(va[t] + v) + 0x8000) >> 16, rb = (int(vb[t] + u) + 0x8000) >> 16;
                            qa[t] = i == 1u ? ra : qa[t] + ra;
                            qb[t] = i == 1u ? rb : qb[t] + rb;
                        }
                    }
                }
#else
                // per token, the products of weight words 0-3 and 4-7 apart (|upper half| < 2^15 each: 16
                // products of 4-bit values), read out once each
                uint a0[NT], a1[NT], c0[NT], c1[NT];
                [[unroll]] for (uint i = 0u; i < 8u; i++) {
                    uint w = i < 4u ? q0[r][i] : q1[r][i - 4u];
                    // values 4i, 4i + 2 | 4i + 1, 4i + 3 of sub-block 2c (low nibbles), then of 2c + 1
                    uint wa0 = w & 0x000f000fu, wa1 = (w >> 8) & 0x000f000fu;
                    uint wb0 = (w >> 4) & 0x000f000fu, wb1 = (w >> 12) & 0x000f000fu;
                    uint e = 2u * (i & 1u);
                    [[unroll]] for (uint t = 0u; t < NT; t++) {
                        uint v = wa0 * xA[i >> 1][t][e] + wa1 * xA[i >> 1][t][e + 1u];
                        uint u = wb0 * xB[i >> 1][t][e] + wb1 * xB[i >> 1][t][e + 1u];
                        if (i == 0u) { a0[t] = v; c0[t] = u; }
                        else if (i < 4u) { a0[t] += v; c0[t] += u; }
                        else if (i == 4u) { a1[t] = v; c1[t] = u; }
                        else { a1[t] += v; c1[t] += u; }
                    }
                }
                int qa[NT], qb[NT];
                [[unroll]] for (uint t = 0u; t < NT; t++) {
                    qa[t] = ((int(a0[t]) + 0x8000) >> 16) + ((int(a1[t]) + 0x8000) >> 16);
                    qb[t] = ((int(c0[t]) + 0x8000) >> 16) + ((int(c1[t]) + 0x8000) >> 16);
                }
#endif
                [[unroll]] for (uint t = 0u; t < NT; t++) {
                    float s = (dm[r].x * float(qa[t]) - dm[r].y * float(sxa[t])) + (dm[r].z * float(qb[t]) - dm[r].w * float(sxb[t]));
#ifdef NT1
                    acc[r] += s; // d_x is in dm
#else
                    acc[r * NT + t] += uintBitsToFloat(hx[0][t].x) * s;
#endif
                }
            }
#elif !defined(NT1)
            // several tokens: the chunk's x first (8 texels of each half for the 8 tokens, scaled for
            // dot_bytes, and each half's sum per token), then row by row the sub-block sums
            // q . x per token as values of the loop body, folded into acc once per chunk:
            // sum over a sub-block of (d q - m) x = d (q . x) - m (sum x), as the one-token path
            // below. llvmpipe stores every loop-carried variable under the execution mask (a load,
            // a blend and a store): acc is taken once per 64 values instead of once per 8, and the
            // scales once per sub-block instead of per value (2-3 % fewer instructions, 4-20 %
            // faster; one sub-block at a time, half the x held, counted fewer but timed slower).
            vec4 ya[8][NT], yb[8][NT];
            float sxa[NT], sxb[NT];
            [[unroll]] for (uint i = 0u; i < 8u; i++) {
                vec4 xa[NT], xb[NT];
                LOAD_X(xk + i, xa);
                LOAD_X(xk + 8u + i, xb);
                [[unroll]] for (uint t = 0u; t < NT; t++) {
                    float ha = (xa[t].x + xa[t].y) + (xa[t].z + xa[t].w);
                    float hb = (xb[t].x + xb[t].y) + (xb[t].z + xb[t].w);
                    sxa[t] = i == 0u ? ha : sxa[t] + ha;
                    sxb[t] = i == 0u ? hb : sxb[t] + hb;
                    ya[i][t] = xa[t] * BYTE_SCALE;
                    yb[i][t] = xb[t] * BYTE_SCALE;
                }
            }
            [[unroll]] for (uint r = 0u; r < LR; r++) {
                float sa[NT], sb[NT];
                [[unroll]] for (uint i = 0u; i < 8u; i++) {
                    uint w = i < 4u ? q0[r][i] : q1[r][i - 4u];
                    uint la = w & 0x0f0f0f0fu, lb = (w >> 4) & 0x0f0f0f0fu;
#ifdef W_Q5_K
                    uint hb = i < 4u ? b0[r][i] : b1[r][i - 4u];
                    la |= ((hb >> (2u * c)) & 0x01010101u) << 4;
                    lb |= ((hb >> (2u * c + 1u)) & 0x01010101u) << 4;
#endif
                    vec4 qa = q_bytes(la), qb = q_bytes(lb);
                    [[unroll]] for (uint t = 0u; t < NT; t++) {
                        sa[t] = i == 0u ? dot(qa, ya[i][t]) : sa[t] + dot(qa, ya[i][t]);
                        sb[t] = i == 0u ? dot(qb, yb[i][t]) : sb[t] + dot(qb, yb[i][t]);
                    }
                }
                [[unroll]] for (uint t = 0u; t < NT; t++)
                    acc[r * NT + t] += (dm[r].x * sa[t] - dm[r].y * sxa[t]) + (dm[r].z * sb[t] - dm[r].w * sxb[t]);
            }
#else
            // one token: sum over a sub-block of (d q - m) x = d (q . x) - m (sum x), so the 8 rows'
            // q . x and the token's sum x are accumulated, and the scales applied once per sub-block
            // (two multiply-adds per value fewer; the order of the sums differs from ggml's dequantize)
            float sa[LR], sb[LR];
            [[unroll]] for (uint r = 0u; r < LR; r++) sa[r] = sb[r] = 0.0;
            vec4 xsa = vec4(0.0), xsb = vec4(0.0), x4a[4], x4b[4]; // x texels xk + i and xk + 8 + i
            [[unroll]] for (uint i = 0u; i < 8u; i++) {
                vec4 xa[NT], xb[NT];
                if ((i & 3u) == 0u) { // the quad fetches the next 4 texels of both halves (X_ROW4)
                    X_ROW4(xk + i, x4a);
                    X_ROW4(xk + 8u + i, x4b);
                }
                xa[0] = x4a[i & 3u];
                xb[0] = x4b[i & 3u];
                xsa += xa[0];
                xsb += xb[0];
                vec4 ya = xa[0] * BYTE_SCALE, yb = xb[0] * BYTE_SCALE; // dot_bytes' x
                [[unroll]] for (uint r = 0u; r < LR; r++) {
                    uint w = i < 4u ? q0[r][i] : q1[r][i - 4u];
                    // the word's low nibbles (values 4i + b of sub-block 2c) and high nibbles (of 2c + 1)
                    // as bytes, Q5_K's fifth bits (bits 2c, 2c + 1 of each qh byte) put in as bit 4
                    uint la = w & 0x0f0f0f0fu, lb = (w >> 4) & 0x0f0f0f0fu;
#ifdef W_Q5_K
                    uint hb = i < 4u ? b0[r][i] : b1[r][i - 4u];
                    la |= ((hb >> (2u * c)) & 0x01010101u) << 4;
                    lb |= ((hb >> (2u * c + 1u)) & 0x01010101u) << 4;
#endif
                    sa[r] += dot_bytes(la, ya);
                    sb[r] += dot_bytes(lb, yb);
                }
            }
            float sxa = xsa.x + xsa.y + xsa.z + xsa.w, sxb = xsb.x + xsb.y + xsb.z + xsb.w;
            [[unroll]] for (uint r = 0u; r < LR; r++)
                acc[r] += (dm[r].x * sa[r] - dm[r].y * sxa) + (dm[r].z * sb[r] - dm[r].w * sxb);
#endif
        }
        k += 256u;
    } while (k < p.n_in);
#elif defined(W_Q6_K)
    // byte of each row's first block and the bytes from one of its blocks to the next: n_in / 256 blocks of
    // 210 bytes, row-major or in 8-row tiles (k_tile)
    // (split tiles, ROWS_SPEC 3: ob is the tile column's first byte and rs the row in the tile)
    const bool split = ROWS_SPEC == 3u;
    uint ob[LR], obs[LR], rs[LR];
    [[unroll]] for (uint r = 0u; r < LR; r++) {
        k_tile(rows[r], glu ? 2u * p.n_out : p.n_out, (p.n_in >> 8) * 210u, 210u, ob[r], obs[r]);
        rs[r] = rows[r] % VKG_MATMUL_TILE_ROWS;
        if (split) ob[r] -= rs[r] * 210u;
        ob[r] += p.w_off;
    }
    uint k = 0u;
    do {
        uint kq = k >> 8; // the rows' block
#ifdef XQ8
        uint xb8 = (k >> 8) * VKG_XQ8_BLOCK_TEXELS;
        uvec4 hx[3][NT];
        XQ8_HEADER(xb8, hx);
#endif
        uvec4 sc[LR]; // int8 scales[16]
        float d[LR];
        [[unroll]] for (uint r = 0u; r < LR; r++) {
            uint o = ob[r] + kq * obs[r], t = o >> 4, s = o & 15u;
            if (split) {
                sc[r] = texelFetch(W, int(t + VKG_Q6K_SPLIT_SC(rs[r]) / 16u));
                uvec4 dt = texelFetch(W, int(t + VKG_Q6K_SPLIT_D(0u) / 16u)); // the 8 rows' d
                uint dw = (rs[r] & 4u) != 0u ? ((rs[r] & 2u) != 0u ? dt.w : dt.z) : ((rs[r] & 2u) != 0u ? dt.y : dt.x);
                d[r] = unpackHalf2x16(dw >> (16u * (rs[r] & 1u))).x;
            } else {
                uvec4 t12 = texelFetch(W, int(t + 12u)), t13 = texelFetch(W, int(t + 13u));
                sc[r] = realign(t12, t13, s);
                d[r] = unpackHalf2x16(realign(t13, uvec4(0u), s).x).x;
            }
#if defined(XQ8) && defined(NT1)
            d[r] *= uintBitsToFloat(hx[0][0].x); // d_x d (as llama.cpp's dot product)
#endif
        }
        // half hf: ql[64hf .. 64hf + 64), qh[32hf .. 32hf + 32); quarter g of value 128hf + 32g + l:
        // nibble (g >> 1) of ql[64hf + 32(g & 1) + l], bits 2g of qh[32hf + l]; scale 8hf + l / 16 + 2g
        [[unroll]] for (uint hf = 0u; hf < 2u; hf++)
            [[unroll]] for (uint q = 0u; q < 2u; q++) { // l in [16q, 16q + 16)
                uvec4 A[LR], B[LR], H[LR];
                vec4 ds[LR];
                [[unroll]] for (uint r = 0u; r < LR; r++) {
                    uint o = ob[r] + kq * obs[r], t = o >> 4, s = o & 15u;
                    if (split) {
                        uint ta = t + VKG_Q6K_SPLIT_QL(rs[r]) / 16u + 4u * hf + q;
                        A[r] = texelFetch(W, int(ta));
                        B[r] = texelFetch(W, int(ta + 2u));
                        H[r] = texelFetch(W, int(t + VKG_Q6K_SPLIT_QH(rs[r]) / 16u + 2u * hf + q));
                    } else {
                        uint ta = t + 4u * hf + q, th = t + 8u + 2u * hf + q;
                        A[r] = realign(texelFetch(W, int(ta)), texelFetch(W, int(ta + 1u)), s);
                        B[r] = realign(texelFetch(W, int(ta + 2u)), texelFetch(W, int(ta + 3u)), s);
                        H[r] = realign(texelFetch(W, int(th)), texelFetch(W, int(th + 1u)), s);
                    }
                    uint n = 8u * hf + q; // scales n, n + 2, n + 4, n + 6 (quarters g = 0..3)
                    vec4 sv = vec4(sc_i8(sc[r], n), sc_i8(sc[r], n + 2u), sc_i8(sc[r], n + 4u), sc_i8(sc[r], n + 6u));
                    ds[r] = d[r] * sv;
                }
#ifdef XQ8
                // quarter g of (hf, q) = words 4q .. 4q + 3 of x's sub-block 4 hf + g: its texels 2q, 2q + 1
                uvec4 xg[4][2][NT];
#ifdef NT1
                {
                    uint tg = xt[0] + xb8 + 3u + 16u * hf + 4u * xq + 2u * q; // lane xq fetches quarter xq's
                    uvec4 l_ = texelFetch(X, int(tg)), h_ = texelFetch(X, int(tg + 1u));
                    [[unroll]] for (uint g = 0u; g < 4u; g++) {
                        xg[g][0][0] = subgroupQuadBroadcast(l_, g);
                        xg[g][1][0] = subgroupQuadBroadcast(h_, g);
                    }
                }
#else
                [[unroll]] for (uint g = 0u; g < 4u; g++)
                    [[unroll]] for (uint m = 0u; m < 2u; m++) {
                        uint tg = xb8 + 3u + 4u * (4u * hf + g) + 2u * q + m;
                        uvec4 l_ = texelFetch(X, int(xq0 + tg)), h_ = texelFetch(X, int(xq1 + tg));
                        QUAD_X8(l_, h_, xg[g][m]);
                    }
#endif
                [[unroll]] for (uint r = 0u; r < LR; r++)
                    [[unroll]] for (uint g = 0u; g < 4u; g++) {
                        // the 6-bit values as bytes (as below), two to a word in 16-bit halves, minus 32
                        // each (signed halves: |upper| <= 4 * 32 * 127 per word, read out every 2 words)
                        uint v[NT], u[NT];
                        [[unroll]] for (uint i = 0u; i < 4u; i++) {
                            uint lo = (g & 1u) == 0u ? A[r][i] : B[r][i];
                            uint qv = ((lo >> (4u * (g >> 1))) & 0x0f0f0f0fu) | (((H[r][i] >> (2u * g)) & 0x03030303u) << 4);
                            uint f0 = (qv & 0x00ff00ffu) - 0x00200020u, f1 = ((qv >> 8) & 0x00ff00ffu) - 0x00200020u;
                            uint e = 2u * (i & 1u);
                            [[unroll]] for (uint t = 0u; t < NT; t++) {
                                uint pr = f0 * xg[g][i >> 1][t][e] + f1 * xg[g][i >> 1][t][e + 1u];
                                if (i == 0u) v[t] = pr;
                                else if (i == 1u) v[t] += pr;
                                else if (i == 2u) u[t] = pr;
                                else u[t] += pr;
                            }
                        }
                        [[unroll]] for (uint t = 0u; t < NT; t++) {
                            int sq = ((int(v[t]) + 0x8000) >> 16) + ((int(u[t]) + 0x8000) >> 16);
#ifdef NT1
                            acc[r] += ds[r][g] * float(sq); // d_x is in d
#else
                            acc[r * NT + t] += (uintBitsToFloat(hx[0][t].x) * ds[r][g]) * float(sq);
#endif
                        }
                    }
#elif !defined(NT1)
                // several tokens, quarter by quarter: the quarter's 4 x texels for the 8 tokens first
                // (scaled for dot_bytes, and their sum per token), then row by row the q . x sums per
                // token as values of the loop body, folded into acc once per quarter:
                // sum over a quarter of d s (q - 32) x = d s (q . x - 32 sum x), as the one-token path.
                // llvmpipe stores each loop-carried variable under the execution mask (as the Q4_K
                // GEMM above): acc once per 16 values instead of per 4, 6-8 % faster (all 16 x texels
                // of (hf, q) held at once and acc once per 64 values: slower)
                [[unroll]] for (uint g = 0u; g < 4u; g++) {
                    vec4 y[4][NT];
                    float sx[NT];
                    [[unroll]] for (uint i = 0u; i < 4u; i++) {
                        vec4 xv[NT];
                        LOAD_X(((k + 128u * hf + 32u * g) >> 2) + 4u * q + i, xv);
                        [[unroll]] for (uint t = 0u; t < NT; t++) {
                            float h = (xv[t].x + xv[t].y) + (xv[t].z + xv[t].w);
                            sx[t] = i == 0u ? h : sx[t] + h;
                            y[i][t] = xv[t] * BYTE_SCALE;
                        }
                    }
                    [[unroll]] for (uint r = 0u; r < LR; r++) {
                        float sg[NT];
                        [[unroll]] for (uint i = 0u; i < 4u; i++) {
                            uint lo = (g & 1u) == 0u ? A[r][i] : B[r][i];
                            uint qv = ((lo >> (4u * (g >> 1))) & 0x0f0f0f0fu) | (((H[r][i] >> (2u * g)) & 0x03030303u) << 4);
                            vec4 qf = q_bytes(qv);
                            [[unroll]] for (uint t = 0u; t < NT; t++)
                                sg[t] = i == 0u ? dot(qf, y[i][t]) : sg[t] + dot(qf, y[i][t]);
                        }
                        [[unroll]] for (uint t = 0u; t < NT; t++) acc[r * NT + t] += ds[r][g] * (sg[t] - 32.0 * sx[t]);
                    }
                }
#else
                // one token: sum over a quarter of d s (q - 32) x = d s (q . x - 32 sum x), the scales
                // applied once per quarter (as the K-quants above); quarter by quarter, the quad
                // fetching a quarter's 4 x texels at once (X_ROW4)
                vec4 sq[LR], xs = vec4(0.0);
                [[unroll]] for (uint r = 0u; r < LR; r++) sq[r] = vec4(0.0);
                [[unroll]] for (uint g = 0u; g < 4u; g++) {
                    vec4 xg[4];
                    X_ROW4(((k + 128u * hf + 32u * g) >> 2) + 4u * q, xg);
                    [[unroll]] for (uint i = 0u; i < 4u; i++) {
                        xs[g] += (xg[i].x + xg[i].y) + (xg[i].z + xg[i].w);
                        vec4 ys = xg[i] * BYTE_SCALE; // dot_bytes' x
                        [[unroll]] for (uint r = 0u; r < LR; r++) {
                            uint lo = (g & 1u) == 0u ? A[r][i] : B[r][i];
                            uint qv = ((lo >> (4u * (g >> 1))) & 0x0f0f0f0fu) | (((H[r][i] >> (2u * g)) & 0x03030303u) << 4);
                            sq[r][g] += dot_bytes(qv, ys);
                        }
                    }
                }
                [[unroll]] for (uint r = 0u; r < LR; r++) acc[r] += dot(ds[r], sq[r] - 32.0 * xs);
#endif
            }
        k += 256u;
    } while (k < p.n_in);
#else
    uint wtb[LR], wts[LR]; // each row's first texel and texel step (w_texel)
    [[unroll]] for (uint r = 0u; r < LR; r++) w_texel(rows[r], glu ? 2u * p.n_out : p.n_out, wtb[r], wts[r]);
#if defined(NT1) && !defined(CS)
    // one token: lane q of each quad fetches x texel 4j + q of the row's 16-column block j and the
    // quad shares the four (one call per lane instead of 4 per 16 columns); n_in % 8 == 0, so the
    // last block may be half: its second half's weights are skipped, its x texel clamped
    uint xlast = xt[0] + p.n_in / 4u - 1u;
    uint k = 0u;
    do {
        vec4 xl = uintBitsToFloat(texelFetch(X, int(min(xt[0] + (k >> 2) + xq, xlast))));
        vec4 x0 = subgroupQuadBroadcast(xl, 0u), x1 = subgroupQuadBroadcast(xl, 1u);
        vec4 wa[LR], wb[LR];
        [[unroll]] for (uint r = 0u; r < LR; r++) load_w8(wtb[r], wts[r], k, wa[r], wb[r]);
        [[unroll]] for (uint r = 0u; r < LR; r++) acc[r] += dot(wa[r], x0) + dot(wb[r], x1);
        if (k + 8u < p.n_in) {
            vec4 x2 = subgroupQuadBroadcast(xl, 2u), x3 = subgroupQuadBroadcast(xl, 3u);
            [[unroll]] for (uint r = 0u; r < LR; r++) load_w8(wtb[r], wts[r], k + 8u, wa[r], wb[r]);
            [[unroll]] for (uint r = 0u; r < LR; r++) acc[r] += dot(wa[r], x2) + dot(wb[r], x3);
        }
        k += 16u;
    } while (k < p.n_in);
#else
#ifdef CS
    const uint KS = 8u * WG;
    uint k = 8u * gl_LocalInvocationID.x;
#else
    const uint KS = 8u;
    uint k = 0u;
#endif
    if (k < p.n_in) do {
        vec4 wa[LR], wb[LR];
        [[unroll]] for (uint r = 0u; r < LR; r++) load_w8(wtb[r], wts[r], k, wa[r], wb[r]);
        vec4 xa[NT], xb[NT];
        LOAD_X(k >> 2, xa);
        LOAD_X((k >> 2) + 1u, xb);
        [[unroll]] for (uint t = 0u; t < NT; t++)
            [[unroll]] for (uint r = 0u; r < LR; r++) acc[r * NT + t] += dot(wa[r], xa[t]) + dot(wb[r], xb[t]);
        k += KS;
    } while (k < p.n_in);
#endif
#endif
#ifdef CS
    [[unroll]] for (uint i = 0u; i < LR; i++) acc[i] = subgroupAdd(acc[i]);
    bool tail = MODE == VKG_MATMUL_MODE_RESNORM || MODE == VKG_MATMUL_MODE_PARTS_QKNORM;
    if (gl_LocalInvocationID.x != 0u && !tail) return;
    bool store = gl_LocalInvocationID.x == 0u; // RESNORM, PARTS_QKNORM: every lane goes on to the tail
#else
    bool store = true, tail = MODE == VKG_MATMUL_MODE_RESNORM || MODE == VKG_MATMUL_MODE_PARTS_QKNORM;
#endif
    if (glu) {
        [[unroll]] for (uint r = 0u; r < LR / 2u; r++) {
            uint o = row0 + r * RS;
            if (o >= p.n_out) break;
            float bg = p.has_bias != 0u ? B[p.b_off + o] : 0.0, bu = p.has_bias != 0u ? B[p.b_off + p.n_out + o] : 0.0;
            [[unroll]] for (uint t = 0u; t < NT; t++) {
                float gv = acc[r * NT + t] + bg, u = acc[(r + LR / 2u) * NT + t] + bu;
                float a = MODE == VKG_MATMUL_MODE_SWIGLU     ? act_silu(gv)
                          : MODE == VKG_MATMUL_MODE_GEGLU_F16 ? act_gelu_f16(gv)
                                                              : act_gelu_tanh(gv);
                if (t < nt) Y[p.y_off + (t0 + t) * p.y_stride + o] = a * u;
            }
        }
        return;
    }
    bool rn = MODE == VKG_MATMUL_MODE_RESNORM;
    bool parts = MODE == VKG_MATMUL_MODE_PARTS || MODE == VKG_MATMUL_MODE_PARTS_QKNORM;
    [[unroll]] for (uint r = 0u; r < LR; r++) {
        uint row = row0 + r * RS;
        if (row >= p.n_out || !store) break;
        float b = p.has_bias != 0u ? B[p.b_off + row] : 0.0;
        [[unroll]] for (uint t = 0u; t < NT; t++) {
            if (t >= nt) break;
            float v = acc[r * NT + t] + b;
            uint yi = p.y_off + (t0 + t) * p.y_stride + row;
            if (rn) Y[yi] = Y[yi] + v; // residual + block output, as rmsnorm_add adds them
            else if (!parts || row < p.seg1) Y[yi] = v;
            else if (row < p.seg2) Y1[p.y1_off + (t0 + t) * p.y1_stride + row - p.seg1] = v;
            else Y2[p.y2_off + (t0 + t) * p.y2_stride + row - p.seg2] = v;
        }
    }
#ifdef NT1
    if (tail) norm_tail(0u, 0u, 1u, gl_NumWorkGroups.x * gl_NumWorkGroups.y * gl_NumWorkGroups.z);
#else
    if (tail) norm_tail(tb, t0, nt, gl_NumWorkGroups.y * gl_NumWorkGroups.z);
#endif
}
