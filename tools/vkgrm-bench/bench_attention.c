/* bench_attention.c — bench cases of the attention family, Llama-3-8B-like
 * heads (32 query heads, 8 KV heads, 128): decode at batch 1 and 8 over a KV
 * of 2,048 tokens (GB/s = KV bytes read), prefill of 512 tokens (GFLOP/s),
 * the KV append of those 512 tokens, cascade decode of 8 sequences sharing a
 * 2,048-token prompt, the split-K combine alone, and the bundled judge's
 * decode step (attn_lane at the demo's shape). */
#include <stdlib.h>

#include "bench.h"
#include "ops_attention.h"
#include "push_attention.h"

#define B_HEADS 32u
#define B_KV 8u
#define B_D 128u

struct attn_ctx {
    struct vkg_kv_cache *kv;
    struct vkg_buffer *q, *tok, *out, *scratch, *k, *v, *freq;
    uint64_t n_tok;
    struct vkg_attn_params ap;
    int f16;    /* F16 pages */
    int v_in_k; /* no V pool: V is the start of each K row (kv_cache.h v_in_k, as the models cache the latent) */
    int tier;   /* TIER_*: the kernels the case times, whatever the device would pick */
};

/* The attention tiers of the launchers (device use.texel / use.attn_lane); TIER_LANE1: attn_lane
 * one query head per workgroup (use.attn_group off), as before the head groups. */
enum { TIER_STORAGE = 0, TIER_TEXEL = 1, TIER_LANE = 2, TIER_LANE1 = 3 };

/* Records rec under the case's tier, then restores the device's own choice. */
static enum vkg_status with_tier(struct vkg_cmd *c, const struct attn_ctx *x,
                                 enum vkg_status (*rec)(struct vkg_cmd *, const struct attn_ctx *))
{
    struct vkg_device *d = c->dev;
    int texel = d->use.texel, lane = d->use.attn_lane, group = d->use.attn_group;
    d->use.texel = x->tier != TIER_STORAGE;
    d->use.attn_lane = (x->tier == TIER_LANE || x->tier == TIER_LANE1) && d->use.lane_ok;
    d->use.attn_group = x->tier != TIER_LANE1;
    enum vkg_status s = rec(c, x);
    d->use.texel = texel;
    d->use.attn_lane = lane;
    d->use.attn_group = group;
    return s;
}

/* Tokens: decode = 1 query per sequence at position len-1; prefill = positions 0..len-1 of sequence 0. */
static enum vkg_status make_tokens(struct vkg_device *dev, struct attn_ctx *x, uint32_t n_seqs, uint32_t len,
                                   int prefill)
{
    x->n_tok = prefill ? len : n_seqs;
    int32_t *t = malloc(x->n_tok * 8);
    if (!t) return vkg_error(VKG_ERR_NOMEM, "bench tokens");
    for (uint64_t i = 0; i < x->n_tok; i++) {
        t[2 * i] = prefill ? 0 : (int32_t)i;
        t[2 * i + 1] = prefill ? (int32_t)i : (int32_t)len - 1;
    }
    enum vkg_status s = vkg_buffer_create(dev, x->n_tok * 8, VKG_MEM_DEVICE, "bench attn tokens", &x->tok);
    if (s == VKG_OK) s = vkg_buffer_upload(dev, vkg_buffer_view(x->tok), t, x->n_tok * 8);
    free(t);
    return s;
}

/* A cache of n_seqs sequences of len tokens (K/V = pattern), each group of fork sequences sharing its
 * first shared tokens (page-aligned; fork 1: nothing shared), heads / n_kv heads of dk / dv, Q random,
 * output, scratch. */
static enum vkg_status setup_cache_shape(struct vkg_device *dev, struct attn_ctx *x, uint32_t n_seqs, uint32_t len,
                                         int prefill, uint32_t fork, uint32_t shared, uint32_t heads, uint32_t n_kv,
                                         uint32_t dk, uint32_t dv)
{
    struct vkg_kv_config cf = { 1, n_kv, dk, dv, 16, n_seqs * (len / 16 + 1), n_seqs, len, x->f16, x->v_in_k };
    VKG_TRY(vkg_kv_create(dev, &cf, &x->kv));
    for (uint32_t i = 0; i < n_seqs; i += fork) {
        uint32_t id, child;
        uint64_t pos0;
        VKG_TRY(vkg_kv_seq_add(x->kv, &id));
        VKG_TRY(vkg_kv_reserve(x->kv, id, fork > 1 ? shared : len, &pos0));
        for (uint32_t f = 1; f < fork; f++) { /* page-aligned: no copy */
            VKG_TRY(vkg_kv_seq_fork(x->kv, NULL, id, &child));
            VKG_TRY(vkg_kv_reserve(x->kv, child, len - shared, &pos0));
        }
        if (fork > 1) VKG_TRY(vkg_kv_reserve(x->kv, id, len - shared, &pos0));
    }
    VKG_TRY(vkg_kv_upload(x->kv));
    VKG_TRY(make_tokens(dev, x, n_seqs, len, prefill));
    VKG_TRY(vkg_bench_random_f32(dev, x->n_tok * heads * dk, -1, 1, "bench attn q", &x->q));
    VKG_TRY(vkg_bench_buffer(dev, x->n_tok * heads * dv * 4, "bench attn out", &x->out));
    /* partial slots: decode up to 64 splits; prefill (cascade path) 1 prefix + 1 own */
    VKG_TRY(vkg_bench_buffer(dev, vkg_attn_scratch_bytes(x->n_tok, heads, dv, prefill ? 2 : 64), "bench attn scratch",
                             &x->scratch));
    x->ap = (struct vkg_attn_params){ .n_heads = heads, .scale = 0.0883883f, .max_kv_len = len };
    return VKG_OK;
}

static enum vkg_status setup_cache(struct vkg_device *dev, struct attn_ctx *x, uint32_t n_seqs, uint32_t len,
                                   int prefill)
{
    return setup_cache_shape(dev, x, n_seqs, len, prefill, 1, 0, B_HEADS, B_KV, B_D, B_D);
}

static enum vkg_status new_ctx(void **ctx, struct attn_ctx **x)
{
    *ctx = *x = calloc(1, sizeof **x);
    return *x ? VKG_OK : vkg_error(VKG_ERR_NOMEM, "bench ctx");
}

/* Decode: flops 2 * heads * len * (dk + dv) per sequence; bytes = the KV read. */
static enum vkg_status setup_decode(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops,
                                    uint32_t n_seqs, uint32_t n_split, int f16)
{
    struct attn_ctx *x;
    VKG_TRY(new_ctx(ctx, &x));
    x->f16 = f16;
    VKG_TRY(setup_cache(dev, x, n_seqs, 2048, 0));
    x->ap.n_split = n_split;
    *bytes = (uint64_t)n_seqs * 2048 * B_KV * 2 * B_D * (f16 ? 2 : 4);
    *flops = (uint64_t)n_seqs * 2 * B_HEADS * 2048 * 2 * B_D;
    return VKG_OK;
}

#define DECODE(name, n, split, f16)                                                       \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) \
    {                                                                                     \
        return setup_decode(d, x, b, f, n, split, f16);                                   \
    }
DECODE(s_dec1, 1, 0, 0)
DECODE(s_dec8, 8, 0, 0)
DECODE(s_dec8_nosplit, 8, 1, 0)
DECODE(s_dec1_f16, 1, 0, 1)
DECODE(s_dec8_f16, 8, 0, 1)
DECODE(s_dec8_nosplit_f16, 8, 1, 1)

/* DeepSeek-V2's MLA latent: 16 query heads on one KV head of dk 576 / dv 512 (the *_wide kernels off the
 * lane tier, attn_lane on it), 8 sequences of 2048; flops 2 * 16 * len * (dk + dv) per sequence; bytes
 * the pools' (with V in K, as the models cache it, the K pool alone). */
static enum vkg_status setup_latent(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops,
                                    uint32_t n_split, int f16, int v_in_k)
{
    struct attn_ctx *x;
    VKG_TRY(new_ctx(ctx, &x));
    x->f16 = f16;
    x->v_in_k = v_in_k;
    VKG_TRY(setup_cache_shape(dev, x, 8, 2048, 0, 1, 0, 16, 1, 576, 512));
    x->ap.n_split = n_split;
    x->ap.scale = 0.0722f;
    *bytes = 8ull * 2048 * (576 + (v_in_k ? 0 : 512)) * (f16 ? 2 : 4);
    *flops = 8ull * 2 * 16 * 2048 * (576 + 512);
    return VKG_OK;
}
#define LATENT(name, split, f16, v_in_k)                                                  \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) \
    {                                                                                     \
        return setup_latent(d, x, b, f, split, f16, v_in_k);                              \
    }
LATENT(s_latent, 1, 0, 0)
LATENT(s_latent_split, 0, 0, 0)
LATENT(s_latent_f16, 1, 1, 0)
LATENT(s_latent_split_f16, 0, 1, 0)
LATENT(s_latent_vk, 1, 0, 1)
LATENT(s_latent_f16_vk, 1, 1, 1)
LATENT(s_latent_split_vk, 0, 0, 1)
LATENT(s_latent_split_f16_vk, 0, 1, 1)

/* The same decode with one query head per KV head (8/8 heads: the *_g1 kernels). */
#define DECODE_G1(name, n, split, f16)                                                    \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) \
    {                                                                                     \
        VKG_TRY(setup_decode(d, x, b, f, n, split, f16));                                 \
        ((struct attn_ctx *)*x)->ap.n_heads = B_KV;                                       \
        *f = *f / (B_HEADS / B_KV);                                                       \
        return VKG_OK;                                                                    \
    }
DECODE_G1(s_dec8_g1, 8, 0, 0)
DECODE_G1(s_dec8_nosplit_g1, 8, 1, 0)
DECODE_G1(s_dec8_g1_f16, 8, 0, 1)
DECODE_G1(s_dec8_nosplit_g1_f16, 8, 1, 1)

/* The bundled judge's decode steps (models/grm-judge-tiny, the demo at -np 288): 256 sequences of
 * 460 tokens, 8 samples of each prompt sharing its first 416, MLA as 4 / 4 heads of dk 64 (32 nope +
 * 32 rope), dv 32, one query each; bytes = the KV rows read (shared pages counted per sequence). */
enum { J_SEQS = 256, J_FORK = 8, J_SHARED = 416, J_LEN = 460, J_HEADS = 4, J_DK = 64, J_DV = 32 };
static enum vkg_status s_judge_f(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops, int f16)
{
    struct attn_ctx *x;
    VKG_TRY(new_ctx(ctx, &x));
    x->f16 = f16;
    VKG_TRY(setup_cache_shape(dev, x, J_SEQS, J_LEN, 0, J_FORK, J_SHARED, J_HEADS, J_HEADS, J_DK, J_DV));
    x->ap.n_split = 1;
    x->ap.scale = 0.125f;
    *bytes = (uint64_t)J_SEQS * J_LEN * J_HEADS * (J_DK + J_DV) * 4;
    *flops = (uint64_t)J_SEQS * 2 * J_HEADS * J_LEN * (J_DK + J_DV);
    return VKG_OK;
}
static enum vkg_status s_judge(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return s_judge_f(d, x, b, f, 0);
}
static enum vkg_status s_judge_f16(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return s_judge_f(d, x, b, f, 1);
}

/* Prefill 512 tokens of one sequence, causal: sum over queries of (pos + 1) kv rows. */
static enum vkg_status s_prefill(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops)
{
    struct attn_ctx *x;
    VKG_TRY(new_ctx(ctx, &x));
    VKG_TRY(setup_cache(dev, x, 1, 512, 1));
    x->ap.n_split = 1;
    *bytes = 512ull * B_KV * 2 * B_D * 4 + 2 * 512ull * B_HEADS * B_D * 4;
    *flops = 2ull * B_HEADS * (512ull * 513 / 2) * 2 * B_D;
    return VKG_OK;
}

/* The same prefill through attn_rows (token_runs): 8 (token, head) rows per workgroup. */
static enum vkg_status s_prefill_rows(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops)
{
    VKG_TRY(s_prefill(dev, ctx, bytes, flops));
    ((struct attn_ctx *)*ctx)->ap.token_runs = 1;
    return VKG_OK;
}

static enum vkg_status s_prefill_rows_f16(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops)
{
    struct attn_ctx *x;
    VKG_TRY(new_ctx(ctx, &x));
    x->f16 = 1;
    VKG_TRY(setup_cache(dev, x, 1, 512, 1));
    x->ap.n_split = 1;
    x->ap.token_runs = 1;
    *bytes = 512ull * B_KV * 2 * B_D * 2 + 2 * 512ull * B_HEADS * B_D * 4;
    *flops = 2ull * B_HEADS * (512ull * 513 / 2) * 2 * B_D;
    return VKG_OK;
}

/* The same prefill through attn_prefix: 16 (token, head) rows per workgroup. */
static enum vkg_status do_prefill_block(struct vkg_cmd *c, const struct attn_ctx *x)
{
    return vkg_op_attention_shared(c, x->kv, 0, vkg_buffer_view(x->q), vkg_buffer_view(x->tok), vkg_buffer_view(x->out),
                                   vkg_buffer_view(x->scratch), x->n_tok, 512, &x->ap);
}

static enum vkg_status rec_prefill_block(struct vkg_cmd *c, void *ctx) { return with_tier(c, ctx, do_prefill_block); }

static enum vkg_status do_attn(struct vkg_cmd *c, const struct attn_ctx *x)
{
    return vkg_op_attention(c, x->kv, 0, vkg_buffer_view(x->q), vkg_buffer_view(x->tok), vkg_buffer_view(x->out),
                            vkg_buffer_view(x->scratch), x->n_tok, &x->ap);
}

static enum vkg_status rec_attn(struct vkg_cmd *c, void *ctx) { return with_tier(c, ctx, do_attn); }

/* Append of 512 new tokens (the prefill's K/V): bytes read + written. */
static enum vkg_status setup_append(struct vkg_device *dev, void **ctx, uint64_t *bytes, int f16)
{
    struct attn_ctx *x;
    VKG_TRY(new_ctx(ctx, &x));
    x->f16 = f16;
    VKG_TRY(setup_cache(dev, x, 1, 512, 1));
    VKG_TRY(vkg_bench_random_f32(dev, 512ull * B_KV * B_D, -1, 1, "bench new k", &x->k));
    VKG_TRY(vkg_bench_random_f32(dev, 512ull * B_KV * B_D, -1, 1, "bench new v", &x->v));
    *bytes = 2 * 512ull * B_KV * B_D * (4 + (f16 ? 2 : 4));
    return VKG_OK;
}

static enum vkg_status s_append(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    *f = 0;
    return setup_append(d, x, b, 0);
}

static enum vkg_status s_append_f16(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    *f = 0;
    return setup_append(d, x, b, 1);
}

/* kv_append_rope: the append above plus RoPE of 32 query heads and the 8 K heads (128 dims, NeoX):
 * what rope(q), rope(k), kv_append do in three launches. bytes: q read and written, K and V read,
 * the pages written. */
static enum vkg_status setup_append_rope(struct vkg_device *dev, void **ctx, uint64_t *bytes, int f16)
{
    VKG_TRY(setup_append(dev, ctx, bytes, f16));
    struct attn_ctx *x = *ctx;
    vkg_buffer_free(x->q); /* setup_cache's decode-sized q: this case's q has all 512 tokens */
    x->q = NULL;
    VKG_TRY(vkg_bench_random_f32(dev, 512ull * B_HEADS * B_D, -1, 1, "bench rope q", &x->q));
    VKG_TRY(vkg_bench_random_f32(dev, B_D / 2, 0, 1, "bench rope inv_freq", &x->freq));
    *bytes += 2 * 512ull * B_HEADS * B_D * 4;
    return VKG_OK;
}

static enum vkg_status s_append_rope(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    *f = 0;
    return setup_append_rope(d, x, b, 0);
}

static enum vkg_status s_append_rope_f16(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    *f = 0;
    return setup_append_rope(d, x, b, 1);
}

static enum vkg_status do_append_rope(struct vkg_cmd *c, const struct attn_ctx *x)
{
    struct vkg_kv_rope r = { .q = vkg_buffer_view(x->q),
                             .inv_freq = vkg_buffer_view(x->freq),
                             .n_heads = B_HEADS,
                             .rot_dim = B_D,
                             .attn_factor = 1 };
    return vkg_op_kv_append_rope(c, x->kv, 0, vkg_buffer_view(x->k), vkg_buffer_view(x->v), vkg_buffer_view(x->tok),
                                 x->n_tok, &r);
}

/* kv_append_mla: DeepSeek-V2-Lite-like 16 heads, nope 128 + rope 64, dv 128, latent 512: K and V
 * gathered from kv_b_proj's output ([tok][16][256], in k) and the k_pe slice of the latent rows
 * ([tok][576], in v) */
#define M_H 16u
#define M_ROW 256u
#define M_RA 576u
static enum vkg_status setup_append_mla(struct vkg_device *dev, void **ctx, uint64_t *bytes, int f16)
{
    struct attn_ctx *x;
    VKG_TRY(new_ctx(ctx, &x));
    x->f16 = f16;
    struct vkg_kv_config cf = { 1, M_H, 192, 128, 16, 512 / 16 + 1, 1, 512, f16 };
    VKG_TRY(vkg_kv_create(dev, &cf, &x->kv));
    uint32_t s;
    uint64_t pos0;
    VKG_TRY(vkg_kv_seq_add(x->kv, &s));
    VKG_TRY(vkg_kv_reserve(x->kv, s, 512, &pos0));
    VKG_TRY(vkg_kv_upload(x->kv));
    int32_t *t = malloc(512 * 8);
    if (!t) return vkg_error(VKG_ERR_NOMEM, "bench tokens");
    for (int i = 0; i < 512; i++) t[2 * i] = (int32_t)s, t[2 * i + 1] = i;
    enum vkg_status st = vkg_buffer_create(dev, 512 * 8, VKG_MEM_DEVICE, "bench mla tokens", &x->tok);
    if (st == VKG_OK) st = vkg_buffer_upload(dev, vkg_buffer_view(x->tok), t, 512 * 8);
    free(t);
    VKG_TRY(st);
    x->n_tok = 512;
    VKG_TRY(vkg_bench_random_f32(dev, 512ull * M_H * M_ROW, -1, 1, "bench mla B", &x->k));
    VKG_TRY(vkg_bench_random_f32(dev, 512ull * M_RA, -1, 1, "bench mla A", &x->v));
    *bytes = 512ull * M_H * (M_ROW + 64) * 4 + 512ull * M_H * (192 + 128) * (f16 ? 2 : 4);
    return VKG_OK;
}

static enum vkg_status s_append_mla(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    *f = 0;
    return setup_append_mla(d, x, b, 0);
}

static enum vkg_status s_append_mla_f16(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    *f = 0;
    return setup_append_mla(d, x, b, 1);
}

/* the same with RoPE of q's rope slices (16 heads x 192) and k_pe in the launch */
static enum vkg_status setup_append_mla_rope(struct vkg_device *d, void **ctx, uint64_t *b, int f16)
{
    VKG_TRY(setup_append_mla(d, ctx, b, f16));
    struct attn_ctx *x = *ctx;
    VKG_TRY(vkg_bench_random_f32(d, 512ull * M_H * 192, -1, 1, "bench mla q", &x->q));
    VKG_TRY(vkg_bench_random_f32(d, 32, 0, 1, "bench mla inv_freq", &x->freq));
    *b += 2 * 512ull * M_H * 64 * 4;
    return VKG_OK;
}

static enum vkg_status s_append_mla_rope(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    *f = 0;
    return setup_append_mla_rope(d, x, b, 0);
}

static enum vkg_status s_append_mla_rope_f16(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    *f = 0;
    return setup_append_mla_rope(d, x, b, 1);
}

static enum vkg_status do_append_mla(struct vkg_cmd *c, const struct attn_ctx *x)
{
    struct vkg_view B = vkg_buffer_view(x->k), A = vkg_buffer_view(x->v);
    struct vkg_kv_mla g = { .k = B,
                            .k_ts = M_H * M_ROW,
                            .k_hs = M_ROW,
                            .k_split = 128,
                            .v = vkg_view_sub(B, 128 * 4, B.size - 128 * 4),
                            .v_ts = M_H * M_ROW,
                            .v_hs = M_ROW,
                            .k2 = vkg_view_sub(A, 512 * 4, A.size - 512 * 4),
                            .k2_ts = M_RA };
    /* the plain append has no q (x->q NULL): no rope argument, and no view of a NULL buffer */
    if (!x->q) return vkg_op_kv_append_mla(c, x->kv, 0, &g, vkg_buffer_view(x->tok), x->n_tok, NULL);
    struct vkg_kv_rope r = { .q = vkg_buffer_view(x->q),
                             .inv_freq = vkg_buffer_view(x->freq),
                             .n_heads = M_H,
                             .rot_dim = 64,
                             .dim_off = 128,
                             .interleaved = 1,
                             .attn_factor = 1 };
    return vkg_op_kv_append_mla(c, x->kv, 0, &g, vkg_buffer_view(x->tok), x->n_tok, &r);
}

static enum vkg_status do_append(struct vkg_cmd *c, const struct attn_ctx *x)
{
    return vkg_op_kv_append(c, x->kv, 0, vkg_buffer_view(x->k), vkg_buffer_view(x->v), vkg_buffer_view(x->tok),
                            x->n_tok);
}

/* The appends under the case's tier: storage-buffer inputs, or texel inputs (*_tx, TIER_TEXEL). */
static enum vkg_status rec_append(struct vkg_cmd *c, void *ctx) { return with_tier(c, ctx, do_append); }
static enum vkg_status rec_append_rope(struct vkg_cmd *c, void *ctx) { return with_tier(c, ctx, do_append_rope); }
static enum vkg_status rec_append_mla(struct vkg_cmd *c, void *ctx) { return with_tier(c, ctx, do_append_mla); }

/* Cascade decode: 8 sequences forked from one 2,048-token prompt, 1 own token
 * each. bytes = the KV that must be read at least once (prefix once + own rows);
 * compare with "decode b8 KV 2048", which reads the prefix 8 times. */
static enum vkg_status setup_cascade(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops, int f16)
{
    struct attn_ctx *x;
    VKG_TRY(new_ctx(ctx, &x));
    struct vkg_kv_config cf = { 1, B_KV, B_D, B_D, 16, 2048 / 16 + 8, 8, 2049, f16 };
    VKG_TRY(vkg_kv_create(dev, &cf, &x->kv));
    uint32_t id, child;
    uint64_t pos0;
    VKG_TRY(vkg_kv_seq_add(x->kv, &id));
    VKG_TRY(vkg_kv_reserve(x->kv, id, 2048, &pos0));
    for (int i = 1; i < 8; i++) VKG_TRY(vkg_kv_seq_fork(x->kv, NULL, id, &child)); /* page-aligned: no copy */
    for (uint32_t s = 0; s < 8; s++) VKG_TRY(vkg_kv_reserve(x->kv, s, 1, &pos0));
    VKG_TRY(vkg_kv_upload(x->kv));
    VKG_TRY(make_tokens(dev, x, 8, 2049, 0));
    VKG_TRY(vkg_bench_random_f32(dev, 8ull * B_HEADS * B_D, -1, 1, "bench attn q", &x->q));
    VKG_TRY(vkg_bench_buffer(dev, 8ull * B_HEADS * B_D * 4, "bench attn out", &x->out));
    VKG_TRY(vkg_bench_buffer(dev, vkg_attn_scratch_bytes(8, B_HEADS, B_D, 64), "bench attn scratch", &x->scratch));
    x->ap = (struct vkg_attn_params){ .n_heads = B_HEADS, .scale = 0.0883883f, .max_kv_len = 2049 };
    *bytes = (2048ull + 8) * B_KV * 2 * B_D * (f16 ? 2 : 4);
    *flops = 8ull * 2 * B_HEADS * 2049 * 2 * B_D;
    return VKG_OK;
}

static enum vkg_status s_cascade(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return setup_cascade(d, x, b, f, 0);
}

static enum vkg_status s_cascade_f16(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f)
{
    return setup_cascade(d, x, b, f, 1);
}

static enum vkg_status do_cascade(struct vkg_cmd *c, const struct attn_ctx *x)
{
    return vkg_op_attention_shared(c, x->kv, 0, vkg_buffer_view(x->q), vkg_buffer_view(x->tok), vkg_buffer_view(x->out),
                                   vkg_buffer_view(x->scratch), 8, 2048, &x->ap);
}

static enum vkg_status rec_cascade(struct vkg_cmd *c, void *ctx) { return with_tier(c, ctx, do_cascade); }

/* A setup of the tiled kernels over texel K/V (*_tx), or of attn_lane. */
#define TIERED(name, base, t)                                                             \
    static enum vkg_status name(struct vkg_device *d, void **x, uint64_t *b, uint64_t *f) \
    {                                                                                     \
        VKG_TRY(base(d, x, b, f));                                                        \
        ((struct attn_ctx *)*x)->tier = t;                                                \
        return VKG_OK;                                                                    \
    }
TIERED(t_prefill, s_prefill, TIER_TEXEL)
TIERED(t_prefill_rows, s_prefill_rows, TIER_TEXEL)
TIERED(t_prefill_rows_f16, s_prefill_rows_f16, TIER_TEXEL)
TIERED(t_dec1, s_dec1, TIER_TEXEL)
TIERED(t_dec8_nosplit, s_dec8_nosplit, TIER_TEXEL)
TIERED(t_dec1_f16, s_dec1_f16, TIER_TEXEL)
TIERED(t_dec8_nosplit_f16, s_dec8_nosplit_f16, TIER_TEXEL)
TIERED(t_cascade, s_cascade, TIER_TEXEL)
TIERED(t_cascade_f16, s_cascade_f16, TIER_TEXEL)
TIERED(t_dec8_nosplit_g1, s_dec8_nosplit_g1, TIER_TEXEL)
TIERED(t_dec8_g1, s_dec8_g1, TIER_TEXEL)
TIERED(t_dec8_nosplit_g1_f16, s_dec8_nosplit_g1_f16, TIER_TEXEL)
TIERED(t_dec8_g1_f16, s_dec8_g1_f16, TIER_TEXEL)
TIERED(t_append, s_append, TIER_TEXEL)
TIERED(t_append_f16, s_append_f16, TIER_TEXEL)
TIERED(t_append_rope, s_append_rope, TIER_TEXEL)
TIERED(t_append_rope_f16, s_append_rope_f16, TIER_TEXEL)
TIERED(t_append_mla, s_append_mla, TIER_TEXEL)
TIERED(t_append_mla_f16, s_append_mla_f16, TIER_TEXEL)
TIERED(t_append_mla_rope, s_append_mla_rope, TIER_TEXEL)
TIERED(t_append_mla_rope_f16, s_append_mla_rope_f16, TIER_TEXEL)
TIERED(l_prefill, s_prefill, TIER_LANE)
TIERED(l_dec8_nosplit, s_dec8_nosplit, TIER_LANE)
TIERED(l_dec1, s_dec1, TIER_LANE)
TIERED(l_dec8_nosplit_g1, s_dec8_nosplit_g1, TIER_LANE)
TIERED(l_dec8_nosplit_f16, s_dec8_nosplit_f16, TIER_LANE)
TIERED(l_dec1_f16, s_dec1_f16, TIER_LANE)
TIERED(l_judge, s_judge, TIER_LANE)
TIERED(l_latent, s_latent, TIER_LANE)
TIERED(l_latent_vk, s_latent_vk, TIER_LANE)
TIERED(l_latent_f16_vk, s_latent_f16_vk, TIER_LANE)
TIERED(l_latent_split_vk, s_latent_split_vk, TIER_LANE)
TIERED(l_latent_split_f16_vk, s_latent_split_f16_vk, TIER_LANE)
TIERED(l_judge_f16, s_judge_f16, TIER_LANE)
TIERED(l1_prefill, s_prefill, TIER_LANE1)
TIERED(l1_dec8_nosplit, s_dec8_nosplit, TIER_LANE1)
TIERED(l1_dec8_nosplit_f16, s_dec8_nosplit_f16, TIER_LANE1)

/* The split-K combine alone: batch 8, 32 heads, 16 splits of (m, l, acc[128]). */
static enum vkg_status s_combine(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops)
{
    struct attn_ctx *x;
    VKG_TRY(new_ctx(ctx, &x));
    x->n_tok = 8;
    VKG_TRY(vkg_bench_random_f32(dev, vkg_attn_scratch_bytes(8, B_HEADS, B_D, 16) / 4, -1, 1, "bench partials",
                                 &x->scratch));
    VKG_TRY(vkg_bench_buffer(dev, 8ull * B_HEADS * B_D * 4, "bench attn out", &x->out));
    *bytes = vkg_attn_scratch_bytes(8, B_HEADS, B_D, 16) + 8ull * B_HEADS * B_D * 4;
    *flops = 8ull * B_HEADS * 16 * B_D * 2;
    return VKG_OK;
}

static enum vkg_status rec_combine(struct vkg_cmd *c, void *ctx)
{
    struct attn_ctx *x = ctx;
    struct vkg_push_attn p = { .n_tokens = 8, .n_heads = B_HEADS, .dv = B_D, .n_split = 16 };
    struct vkg_view v[2] = { vkg_buffer_view(x->scratch), vkg_buffer_view(x->out) };
    return vkg_cmd_dispatch_op(c, VKG_OP_ATTN_COMBINE, v, 2, &p, 8, B_HEADS, 1);
}

static void down(void *ctx)
{
    struct attn_ctx *x = ctx;
    if (!x) return;
    vkg_kv_free(x->kv);
    vkg_buffer_free(x->q);
    vkg_buffer_free(x->tok);
    vkg_buffer_free(x->out);
    vkg_buffer_free(x->scratch);
    vkg_buffer_free(x->k);
    vkg_buffer_free(x->v);
    vkg_buffer_free(x->freq);
    free(x);
}

static const struct vkg_bench_case g_cases[] = {
    { "kv_append", "512 tok x 8 kv heads x 128", s_append, rec_append, down },
    { "attn", "prefill 512 tok, 32/8 heads x 128", s_prefill, rec_attn, down },
    { "attn_rows", "prefill 512 tok, 8 (token, head) rows per workgroup", s_prefill_rows, rec_attn, down },
    { "attn_rows_f16", "prefill 512 tok F16 pages, 8 rows per workgroup", s_prefill_rows_f16, rec_attn, down },
    { "attn_prefix", "prefill 512 tok, 16-row blocks (cascade path)", s_prefill, rec_prefill_block, down },
    { "attn", "decode b8 KV 2048, no split", s_dec8_nosplit, rec_attn, down },
    { "attn_split", "decode b1 KV 2048 (+combine)", s_dec1, rec_attn, down },
    { "attn_split", "decode b8 KV 2048 (+combine)", s_dec8, rec_attn, down },
    { "attn_prefix", "decode b8, shared 2048-token prefix (cascade)", s_cascade, rec_cascade, down },
    { "attn_combine", "b8 x 32 heads x 16 splits x 128", s_combine, rec_combine, down },
    { "kv_append_f16", "512 tok x 8 kv heads x 128, F16 pages", s_append_f16, rec_append, down },
    { "kv_append_rope", "512 tok, RoPE of 32 q + 8 k heads x 128 in the append", s_append_rope, rec_append_rope, down },
    { "kv_append_rope_f16", "512 tok, RoPE in the append, F16 pages", s_append_rope_f16, rec_append_rope, down },
    { "kv_append_mla", "512 tok, 16 heads, K 128+64 / V 128 gathered (DeepSeek-V2)", s_append_mla, rec_append_mla,
      down },
    { "kv_append_mla_f16", "512 tok, MLA gather, F16 pages", s_append_mla_f16, rec_append_mla, down },
    { "kv_append_mla_rope", "512 tok, MLA gather + RoPE of q and k_pe", s_append_mla_rope, rec_append_mla, down },
    { "kv_append_mla_rope_f16", "512 tok, MLA gather + RoPE, F16 pages", s_append_mla_rope_f16, rec_append_mla, down },
    { "attn_f16", "decode b8 KV 2048 F16, no split", s_dec8_nosplit_f16, rec_attn, down },
    { "attn_split_f16", "decode b1 KV 2048 F16 (+combine)", s_dec1_f16, rec_attn, down },
    { "attn_split_f16", "decode b8 KV 2048 F16 (+combine)", s_dec8_f16, rec_attn, down },
    { "attn_prefix_f16", "decode b8, shared 2048 prefix F16 (cascade)", s_cascade_f16, rec_cascade, down },
    { "attn_g1", "decode b8 KV 2048, 8/8 heads, no split", s_dec8_nosplit_g1, rec_attn, down },
    { "attn_split_g1", "decode b8 KV 2048, 8/8 heads (+combine)", s_dec8_g1, rec_attn, down },
    { "attn_g1_f16", "decode b8 KV 2048 F16, 8/8 heads, no split", s_dec8_nosplit_g1_f16, rec_attn, down },
    { "attn_split_g1_f16", "decode b8 KV 2048 F16, 8/8 heads (+combine)", s_dec8_g1_f16, rec_attn, down },
    { "attn_wide", "decode b8 KV 2048, MLA latent 16/1 heads 576/512, no split", s_latent, rec_attn, down },
    { "attn_split_wide", "decode b8 KV 2048, MLA latent 16/1 heads 576/512 (+combine)", s_latent_split, rec_attn,
      down },
    { "attn_wide_f16", "decode b8 KV 2048 F16, MLA latent 16/1 heads, no split", s_latent_f16, rec_attn, down },
    { "attn_split_wide_f16", "decode b8 KV 2048 F16, MLA latent 16/1 heads (+combine)", s_latent_split_f16, rec_attn,
      down },
    { "attn_wide", "decode b8 KV 2048, MLA latent 16/1 heads 576/512, V in K, no split", s_latent_vk, rec_attn, down },
    { "attn_wide_f16", "decode b8 KV 2048 F16, MLA latent 16/1 heads, V in K, no split", s_latent_f16_vk, rec_attn,
      down },
    /* the same kernels over texel-buffer K/V (CPU drivers: use.texel) */
    { "attn_tx", "prefill 512 tok, 32/8 heads x 128", t_prefill, rec_attn, down },
    { "attn_rows_tx", "prefill 512 tok, 8 rows per workgroup", t_prefill_rows, rec_attn, down },
    { "attn_rows_f16_tx", "prefill 512 tok F16 pages, 8 rows per workgroup", t_prefill_rows_f16, rec_attn, down },
    { "attn_prefix_tx", "prefill 512 tok, 16-row blocks (cascade path)", t_prefill, rec_prefill_block, down },
    { "attn_tx", "decode b8 KV 2048, no split", t_dec8_nosplit, rec_attn, down },
    { "attn_split_tx", "decode b1 KV 2048 (+combine)", t_dec1, rec_attn, down },
    { "attn_prefix_tx", "decode b8, shared 2048-token prefix (cascade)", t_cascade, rec_cascade, down },
    { "attn_f16_tx", "decode b8 KV 2048 F16, no split", t_dec8_nosplit_f16, rec_attn, down },
    { "attn_split_f16_tx", "decode b1 KV 2048 F16 (+combine)", t_dec1_f16, rec_attn, down },
    { "attn_prefix_f16_tx", "decode b8, shared 2048 prefix F16 (cascade)", t_cascade_f16, rec_cascade, down },
    { "attn_g1_tx", "decode b8 KV 2048, 8/8 heads, no split", t_dec8_nosplit_g1, rec_attn, down },
    { "attn_split_g1_tx", "decode b8 KV 2048, 8/8 heads (+combine)", t_dec8_g1, rec_attn, down },
    { "attn_g1_f16_tx", "decode b8 KV 2048 F16, 8/8 heads, no split", t_dec8_nosplit_g1_f16, rec_attn, down },
    { "attn_split_g1_f16_tx", "decode b8 KV 2048 F16, 8/8 heads (+combine)", t_dec8_g1_f16, rec_attn, down },
    /* the appends with texel inputs (CPU drivers) */
    { "kv_append_tx", "512 tok x 8 kv heads x 128", t_append, rec_append, down },
    { "kv_append_f16_tx", "512 tok x 8 kv heads x 128, F16 pages", t_append_f16, rec_append, down },
    { "kv_append_rope_tx", "512 tok, RoPE of 32 q + 8 k heads x 128 in the append", t_append_rope, rec_append_rope,
      down },
    { "kv_append_rope_f16_tx", "512 tok, RoPE in the append, F16 pages", t_append_rope_f16, rec_append_rope, down },
    { "kv_append_mla_tx", "512 tok, 16 heads, K 128+64 / V 128 gathered (DeepSeek-V2)", t_append_mla, rec_append_mla,
      down },
    { "kv_append_mla_f16_tx", "512 tok, MLA gather, F16 pages", t_append_mla_f16, rec_append_mla, down },
    { "kv_append_mla_rope_tx", "512 tok, MLA gather + RoPE of q and k_pe", t_append_mla_rope, rec_append_mla, down },
    { "kv_append_mla_rope_f16_tx", "512 tok, MLA gather + RoPE, F16 pages", t_append_mla_rope_f16, rec_append_mla,
      down },
    /* attn_lane: a subgroup per (token, 4 heads of a KV head here), online softmax per lane (CPU drivers:
       use.attn_lane); "1 head per workgroup": use.attn_group off */
    { "attn_lane", "prefill 512 tok, 32/8 heads x 128", l_prefill, rec_attn, down },
    { "attn_lane", "prefill 512 tok, 32/8 heads x 128, 1 head per workgroup", l1_prefill, rec_attn, down },
    { "attn_lane", "decode b8 KV 2048, 32/8 heads, no split", l_dec8_nosplit, rec_attn, down },
    { "attn_lane", "decode b8 KV 2048, MLA latent 16/1 heads 576/512, no split", l_latent, rec_attn, down },
    { "attn_lane_vk", "decode b8 KV 2048, MLA latent 16/1 heads 576/512, V in K, no split", l_latent_vk, rec_attn,
      down },
    { "attn_lane_f16_vk", "decode b8 KV 2048 F16, MLA latent 16/1 heads, V in K, no split", l_latent_f16_vk, rec_attn,
      down },
    { "attn_lane_split_vk", "decode b8 KV 2048, MLA latent 16/1 heads, V in K (+combine)", l_latent_split_vk, rec_attn,
      down },
    { "attn_lane_split_f16_vk", "decode b8 KV 2048 F16, MLA latent 16/1 heads, V in K (+combine)",
      l_latent_split_f16_vk, rec_attn, down },
    { "attn_lane", "decode b8 KV 2048, 32/8 heads, no split, 1 head per workgroup", l1_dec8_nosplit, rec_attn, down },
    { "attn_lane", "decode b8 KV 2048, 8/8 heads, no split", l_dec8_nosplit_g1, rec_attn, down },
    { "attn_lane_split", "decode b1 KV 2048 (+combine)", l_dec1, rec_attn, down },
    { "attn_lane_f16", "decode b8 KV 2048 F16, no split", l_dec8_nosplit_f16, rec_attn, down },
    { "attn_lane_f16", "decode b8 KV 2048 F16, no split, 1 head per workgroup", l1_dec8_nosplit_f16, rec_attn, down },
    { "attn_lane_split_f16", "decode b1 KV 2048 F16 (+combine)", l_dec1_f16, rec_attn, down },
    { "attn_lane", "judge decode b256 KV 460 (8 share 416), 4/4 heads, dk 64 dv 32", l_judge, rec_attn, down },
    { "attn_lane_f16", "judge decode b256 KV 460 (8 share 416), 4/4 heads, dk 64 dv 32", l_judge_f16, rec_attn, down },
};

const struct vkg_bench_case *vkg_bench_attention(size_t *n)
{
    *n = sizeof g_cases / sizeof g_cases[0];
    return g_cases;
}
