/* push_attention.h — push constants and op rows of the attention family
 * (paged KV append, attention, split-K combine); C and GLSL (push_types.h).
 *
 * Shared data layouts (runtime/kv_cache.h):
 *   K pool  [n_pages][n_kv_heads][page_size][dk] f32, V pool [..][dv]
 *           (or V = the first dv elements of each K row: kv_cache.h v_in_k)
 *   seq table [max_seqs] { page_off, len } uint32: the sequence's page ids
 *             are page_table[page_off ..], len = tokens reserved so far
 *   tokens    [n_tokens] { seq, pos } int32: each query / new token */
#ifndef VKG_PUSH_ATTENTION_H
#define VKG_PUSH_ATTENTION_H

#include "push_types.h"

/* kv_append: writes K/V rows of n_tokens new tokens into their pages. */
struct vkg_push_kv_append {
    uint32_t n_tokens; /* tokens in this dispatch */
    uint32_t n_kv_heads;
    uint32_t dk, dv;
    uint32_t page_size;
    uint32_t tok_off; /* first token record inside the bound tokens window */
    uint32_t k_off;   /* first float inside the bound new-K window */
    uint32_t v_off;   /* first float inside the bound new-V window */
    /* kv_append_rope*: RoPE (rope.comp's semantics) on q in place and on K on its way into the
     * pages, at each token record's position; q is [n_tokens][n_heads][dk] */
    uint32_t n_heads;     /* query heads */
    uint32_t q_off;       /* first float inside the bound q window */
    uint32_t rot_dim;     /* rotated dims of a head (even) */
    uint32_t dim_off;     /* first rotated dim */
    uint32_t interleaved; /* 0: pairs (k, k + rot_dim/2); 1: (2k, 2k+1) */
    float attn_factor;    /* scales cos and sin */
    /* kv_append_mla*: K element e < k_split of (token t, head h) at new_k[k_off + t k_ts + h k_hs + e],
     * the rest at new_k2[k2_off + t k2_ts + e - k_split]; V at new_v[v_off + t v_ts + h v_hs + e] */
    uint32_t k_ts, k_hs, v_ts, v_hs, k2_off, k2_ts, k_split;
    uint32_t n_seqs; /* *_tx: records in the seq table (the storage variants take its binding's length) */
};

/* attn / attn_split / attn_combine. One workgroup per (query token, group of
 * up to VKG_ATTN_GMAX query heads sharing one KV head, KV split). */
struct vkg_push_attn {
    uint32_t n_tokens; /* query tokens in this dispatch */
    uint32_t n_heads;  /* query heads */
    uint32_t n_kv_heads;
    uint32_t dk, dv;
    uint32_t page_size;
    uint32_t tok_off;     /* first token record inside the bound tokens window */
    uint32_t q_off;       /* first float inside the bound Q window */
    uint32_t o_off;       /* first float inside the bound output window */
    uint32_t window;      /* 0: none; else only kv positions > pos - window */
    float scale;          /* multiplies q.k */
    float softcap;        /* 0: none; else s = softcap * tanh(s / softcap) */
    uint32_t n_split;     /* KV splits (1: attn writes the output directly) */
    uint32_t split_len;   /* kv positions per split (multiple of the tile) */
    uint32_t head_chunks; /* attn, attn_split: workgroups per KV head: ceil(group / VKG_ATTN_GMAX) */
    uint32_t kv_start;    /* attn, attn_split: first kv position attended (cascade suffix) */
    uint32_t part_base;   /* partials: first record slot written by this dispatch */
    uint32_t part_stride; /* partials: record slots per (token, head); combine merges them all */
    uint32_t prefix_len;  /* attn_prefix: tokens of the shared prefix */
    uint32_t v_row4;      /* vec4s from one V row of the pool to the next: dv / 4, or dk / 4 where V is
                             the start of each K row (vkg_kv_config.v_in_k: the pool bound as V is K's) */
};

/* Limits compiled into attn.comp (shared-memory sizes). */
#define VKG_ATTN_GMAX 8         /* query heads per workgroup */
#define VKG_ATTN_DMAX 256       /* largest dk and dv */
#define VKG_ATTN_LANE_DMAX 1024 /* attn_lane: largest dk and dv (register rows, specialization constants) */
#define VKG_ATTN_WIDE_DK 576    /* attn_wide*: largest dk (q rows in shared memory: 18 KiB for 8 rows) */
#define VKG_ATTN_WIDE_DV 512    /* attn_wide*: largest dv (2 output vec4s per thread of 64) */
/* attn_wide*: shared memory, q_sh + s_sh + slot_sh + the row scalars (the device must have it) */
#define VKG_ATTN_WIDE_SHARED \
    (VKG_ATTN_GMAX * VKG_ATTN_WIDE_DK * 4 + VKG_ATTN_GMAX * 256 * 4 + 256 * 4 + 6 * VKG_ATTN_GMAX * 4)
#define VKG_ATTN_TILE 64        /* kv positions per tile == workgroup size */
#define VKG_ATTN_PREFIX_ROWS 16 /* (token, head) rows per attn_prefix workgroup */
#define VKG_ATTN_TOKEN_ROWS 8   /* (token, head) rows per attn_rows workgroup */
#define VKG_ATTN_LANE_WG 8      /* attn_lane: invocations per (token, head) row (one subgroup of >= 8) */
#define VKG_ATTN_LANE_GH 8      /* attn_lane: most query heads per workgroup (specialization constant 3) */
#define VKG_ATTN_LANE_STATE 256 /* attn_lane: most vec4s of q rows and accumulators per lane, GH * (dk + dv) / 4 */
/* attn_lane: query heads per workgroup when one head's rows alone pass VKG_ATTN_LANE_STATE (they live in
 * memory either way; DeepSeek's MLA latent, 16 heads on one KV head of dk 576 / dv 512): each K/V fetch
 * then serves 4 heads. Measured on the mla-lite bench model, one thread: attn_lane in a 256-token
 * prefill 655 -> 242 ms against one head at a time; 8 heads took LLVM minutes to compile. */
#define VKG_ATTN_LANE_GH_WIDE 4

/* X(ID, spirv variant, bindings, push struct, local_size_x)
 * attn bindings: Q, tokens, seq table, page table, K pool, V pool, out
 * attn_split:    same, out = partials [tok][head][part_stride] {m, l, acc[dv]}
 * attn_prefix:   same as attn_split (shared-prefix part of a cascade)
 * attn_rows:     same as attn (rows of consecutive tokens: prefill)
 * *_g1:          attn / attn_split with one query head per KV head (one row per workgroup)
 * attn_combine:  partials, out (merges part_stride partial records per row)
 * *_f16:         the same over F16 KV pages (vkg_kv_config.f16)
 * *_tx:          the same with the K and V pools bound as uniform texel buffers
 *                (picked on CPU drivers: device use.texel); kv_append*_tx: the
 *                append's inputs (new K/V, tokens, seq and page tables, k2,
 *                inv_freq) as texel buffers, the pools and q as storage buffers
 * attn_wide*:    attn / attn_split for rows past VKG_ATTN_DMAX (up to VKG_ATTN_WIDE_DK /
 *                VKG_ATTN_WIDE_DV: DeepSeek-V2's MLA latent), storage-buffer K/V (device use.attn_wide)
 * attn_lane:     attn / attn_split semantics, one VKG_ATTN_LANE_WG workgroup per
 *                (token, GH query heads of one KV head, split); page table, K and V as
 *                texel buffers (device use.attn_lane: CPU drivers); GH from
 *                vkg_attn_lane_heads
 * attn_lane*_vk: the same where V is the start of each K row (kv_cache.h v_in_k) */
/* clang-format off */
#define VKG_OPS_ATTENTION(X)                                                 \
    X(KV_APPEND,    kv_append,    7, vkg_push_kv_append, 256)                \
    X(ATTN,         attn,         7, vkg_push_attn, VKG_ATTN_TILE)           \
    X(ATTN_SPLIT,   attn_split,   7, vkg_push_attn, VKG_ATTN_TILE)           \
    X(ATTN_PREFIX,  attn_prefix,  7, vkg_push_attn, VKG_ATTN_TILE)           \
    X(ATTN_COMBINE, attn_combine, 2, vkg_push_attn, 64)                      \
    X(ATTN_ROWS,    attn_rows,    7, vkg_push_attn, VKG_ATTN_TILE)           \
    X(ATTN_WIDE,           attn_wide,           7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_SPLIT_WIDE,     attn_split_wide,     7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_WIDE_F16,       attn_wide_f16,       7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_SPLIT_WIDE_F16, attn_split_wide_f16, 7, vkg_push_attn, VKG_ATTN_TILE) \
    X(KV_APPEND_F16,   kv_append_f16,   7, vkg_push_kv_append, 256)          \
    X(KV_APPEND_ROPE,     kv_append_rope,     9, vkg_push_kv_append, 256)    \
    X(KV_APPEND_ROPE_F16, kv_append_rope_f16, 9, vkg_push_kv_append, 256)    \
    X(KV_APPEND_MLA,      kv_append_mla,      8, vkg_push_kv_append, 256)    \
    X(KV_APPEND_MLA_F16,  kv_append_mla_f16,  8, vkg_push_kv_append, 256)    \
    X(KV_APPEND_MLA_ROPE,     kv_append_mla_rope,     10, vkg_push_kv_append, 256) \
    X(KV_APPEND_MLA_ROPE_F16, kv_append_mla_rope_f16, 10, vkg_push_kv_append, 256) \
    X(KV_APPEND_TX,            kv_append_tx,            7, vkg_push_kv_append, 256) \
    X(KV_APPEND_F16_TX,        kv_append_f16_tx,        7, vkg_push_kv_append, 256) \
    X(KV_APPEND_ROPE_TX,       kv_append_rope_tx,       10, vkg_push_kv_append, 256) \
    X(KV_APPEND_ROPE_F16_TX,   kv_append_rope_f16_tx,   10, vkg_push_kv_append, 256) \
    X(KV_APPEND_MLA_TX,        kv_append_mla_tx,        8, vkg_push_kv_append, 256) \
    X(KV_APPEND_MLA_F16_TX,    kv_append_mla_f16_tx,    8, vkg_push_kv_append, 256) \
    X(KV_APPEND_MLA_ROPE_TX,   kv_append_mla_rope_tx,   11, vkg_push_kv_append, 256) \
    X(KV_APPEND_MLA_ROPE_F16_TX, kv_append_mla_rope_f16_tx, 11, vkg_push_kv_append, 256) \
    X(ATTN_F16,        attn_f16,        7, vkg_push_attn, VKG_ATTN_TILE)     \
    X(ATTN_SPLIT_F16,  attn_split_f16,  7, vkg_push_attn, VKG_ATTN_TILE)     \
    X(ATTN_PREFIX_F16, attn_prefix_f16, 7, vkg_push_attn, VKG_ATTN_TILE)     \
    X(ATTN_ROWS_F16,   attn_rows_f16,   7, vkg_push_attn, VKG_ATTN_TILE)     \
    X(ATTN_G1,           attn_g1,           7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_SPLIT_G1,     attn_split_g1,     7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_G1_F16,       attn_g1_f16,       7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_SPLIT_G1_F16, attn_split_g1_f16, 7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_TX,              attn_tx,              7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_SPLIT_TX,        attn_split_tx,        7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_PREFIX_TX,       attn_prefix_tx,       7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_ROWS_TX,         attn_rows_tx,         7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_G1_TX,           attn_g1_tx,           7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_SPLIT_G1_TX,     attn_split_g1_tx,     7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_F16_TX,          attn_f16_tx,          7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_SPLIT_F16_TX,    attn_split_f16_tx,    7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_PREFIX_F16_TX,   attn_prefix_f16_tx,   7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_ROWS_F16_TX,     attn_rows_f16_tx,     7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_G1_F16_TX,       attn_g1_f16_tx,       7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_SPLIT_G1_F16_TX, attn_split_g1_f16_tx, 7, vkg_push_attn, VKG_ATTN_TILE) \
    X(ATTN_LANE,            attn_lane,            7, vkg_push_attn, VKG_ATTN_LANE_WG) \
    X(ATTN_LANE_SPLIT,      attn_lane_split,      7, vkg_push_attn, VKG_ATTN_LANE_WG) \
    X(ATTN_LANE_F16,        attn_lane_f16,        7, vkg_push_attn, VKG_ATTN_LANE_WG) \
    X(ATTN_LANE_SPLIT_F16,  attn_lane_split_f16,  7, vkg_push_attn, VKG_ATTN_LANE_WG) \
    X(ATTN_LANE_VK,           attn_lane_vk,           7, vkg_push_attn, VKG_ATTN_LANE_WG) \
    X(ATTN_LANE_SPLIT_VK,     attn_lane_split_vk,     7, vkg_push_attn, VKG_ATTN_LANE_WG) \
    X(ATTN_LANE_F16_VK,       attn_lane_f16_vk,       7, vkg_push_attn, VKG_ATTN_LANE_WG) \
    X(ATTN_LANE_SPLIT_F16_VK, attn_lane_split_f16_vk, 7, vkg_push_attn, VKG_ATTN_LANE_WG)
/* clang-format on */

#endif
