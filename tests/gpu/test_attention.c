/* test_attention — paged KV append + attention vs the plain-C reference
 * (ref_attention.c). Sequences of lengths 1, 5, 17, 100, 300 in one dispatch,
 * pages handed out round-robin (so page ids are not in order), GQA ratios 1, 2,
 * 4 and MQA (12 heads on 1 KV head: two head chunks), dk 192 / dv 128 (MLA),
 * Gemma-2 soft-capping + a window shorter than the sequences, prefill (every
 * token of every sequence queries, causal inside the block) and decode (one
 * query per sequence; split-K over 2,000+ positions), shared-prefix forks ==
 * private copies, cascade decode over a shared 2,000-token prefix, F16 pages,
 * Q/output beyond one 128 MiB binding; kv_append_rope (RoPE fused into the
 * append) against ref_rope (double) and the plain append of the rotated K;
 * kv_append_mla (DeepSeek-V2's gathered K/V) against the plain append.
 * Tolerance: 1e-4 absolute on outputs of magnitude <= 1 (V in [-1, 1]); f32
 * kernel vs double reference. */
#include "common_gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_attention.h"
#include "ref_attention.h"
#include "ref_dtype.h"
#include "ref_norm.h"

#define ATOL 1e-4f

struct acase {
    uint32_t n_heads, n_kv_heads, dk, dv, page_size;
    double scale, softcap;
    uint32_t window;
    const uint32_t *lens;
    uint32_t n_seqs;
    int decode;       /* 1: one query per sequence at its last position; 0: every position queries */
    uint32_t n_split; /* 0 auto (with scratch), 1 none */
    uint64_t max_kv_len_hint;
    float q_range; /* q in [-q_range, q_range] */
    int f16;       /* F16 pages: host K/V are rounded to f16 first, so the reference sees the same values */
    int v_in_k;    /* the cache keeps no V (kv_cache.h v_in_k): the host V rows are the first dv of the K rows,
                      and the V rows handed to the append are their negation, which the cache must ignore */
};

/* Host copy of the sequences' K/V, and the device cache they are written into. */
struct world {
    const struct acase *ac;
    float **k, **v; /* [seq] -> [len][n_kv_heads][d] */
    struct vkg_kv_cache *kv;
    uint32_t *ids; /* cache seq id of host seq i */
};

static struct vkg_buffer *buf_or_dummy(const void *data, uint64_t bytes, const char *name)
{
    return gpu_buffer_from(data, bytes ? bytes : 4, name);
}

/* Appends tokens [pos0, pos0 + n) of host seq s (cache id seq_id) to the token / K / V lists at *cnt. */
static void add_tokens(const struct world *w, uint32_t s, uint32_t seq_id, uint64_t pos0, uint64_t n, int32_t *tok,
                       float *k, float *v, uint64_t *cnt)
{
    const struct acase *a = w->ac;
    uint64_t kr = (uint64_t)a->n_kv_heads * a->dk, vr = (uint64_t)a->n_kv_heads * a->dv;
    for (uint64_t p = pos0; p < pos0 + n; p++, (*cnt)++) {
        tok[2 * *cnt] = (int32_t)seq_id;
        tok[2 * *cnt + 1] = (int32_t)p;
        memcpy(k + *cnt * kr, w->k[s] + p * kr, kr * 4);
        for (uint64_t i = 0; i < vr; i++) v[*cnt * vr + i] = a->v_in_k ? -w->v[s][p * vr + i] : w->v[s][p * vr + i];
    }
}

/* Records the append of n token rows (tok/k/v host arrays) into layer 0 and submits. */
static void gpu_append(struct vkg_kv_cache *kv, const int32_t *tok, const float *k, const float *v, uint64_t n)
{
    const struct vkg_kv_config *cf = &kv->cfg;
    struct vkg_buffer *bt = buf_or_dummy(tok, n * 8, "append tokens");
    struct vkg_buffer *bk = buf_or_dummy(k, n * cf->n_kv_heads * cf->dk * 4, "append K");
    struct vkg_buffer *bv = buf_or_dummy(v, n * cf->n_kv_heads * cf->dv * 4, "append V");
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_kv_append(c, kv, 0, vkg_buffer_view(bk), vkg_buffer_view(bv), vkg_buffer_view(bt), n));
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    vkg_buffer_free(bt);
    vkg_buffer_free(bk);
    vkg_buffer_free(bv);
}

/* Fills the cache with every host sequence: pages reserved 7 tokens at a time
 * round-robin so neighbouring pages belong to different sequences. */
static void world_fill(struct world *w, uint64_t *seed)
{
    const struct acase *a = w->ac;
    uint64_t total = 0, max_len = 0;
    for (uint32_t s = 0; s < a->n_seqs; s++) {
        total += a->lens[s];
        max_len = a->lens[s] > max_len ? a->lens[s] : max_len;
    }
    int32_t *tok = malloc(total * 8 + 8);
    float *k = malloc(total * a->n_kv_heads * a->dk * 4 + 4), *v = malloc(total * a->n_kv_heads * a->dv * 4 + 4);
    uint64_t cnt = 0;
    for (uint64_t p0 = 0; p0 < max_len; p0 += 7)
        for (uint32_t s = 0; s < a->n_seqs; s++) {
            if (p0 >= a->lens[s]) continue;
            uint64_t n = a->lens[s] - p0 < 7 ? a->lens[s] - p0 : 7, pos0;
            GPU_OK(vkg_kv_reserve(w->kv, w->ids[s], (uint32_t)n, &pos0));
            assert_int_equal(pos0, p0);
            add_tokens(w, s, w->ids[s], p0, n, tok, k, v, &cnt);
        }
    GPU_OK(vkg_kv_upload(w->kv));
    gpu_append(w->kv, tok, k, v, cnt);
    free(tok);
    free(k);
    free(v);
    (void)seed;
}

static void round_f16(float *x, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) x[i] = ref_f16_to_f32(ref_f32_to_f16(x[i]));
}

static void world_init(struct world *w, const struct acase *a, uint64_t *seed, uint32_t extra_pages)
{
    memset(w, 0, sizeof *w);
    w->ac = a;
    w->k = calloc(a->n_seqs, sizeof *w->k);
    w->v = calloc(a->n_seqs, sizeof *w->v);
    w->ids = calloc(a->n_seqs, sizeof *w->ids);
    uint32_t pages = extra_pages, max_len = 1;
    for (uint32_t s = 0; s < a->n_seqs; s++) {
        uint64_t l = a->lens[s];
        w->k[s] = malloc(l * a->n_kv_heads * a->dk * 4 + 4);
        w->v[s] = malloc(l * a->n_kv_heads * a->dv * 4 + 4);
        rng_fill_f32(seed, w->k[s], l * a->n_kv_heads * a->dk, -1, 1);
        rng_fill_f32(seed, w->v[s], l * a->n_kv_heads * a->dv, -1, 1);
        if (a->f16) {
            round_f16(w->k[s], l * a->n_kv_heads * a->dk);
            round_f16(w->v[s], l * a->n_kv_heads * a->dv);
        }
        for (uint64_t r = 0; a->v_in_k && r < l * a->n_kv_heads; r++) /* V = the start of each K row */
            memcpy(w->v[s] + r * a->dv, w->k[s] + r * a->dk, a->dv * 4);
        pages += (uint32_t)((l + a->page_size - 1) / a->page_size);
        if (l > max_len) max_len = (uint32_t)l;
    }
    struct vkg_kv_config cf = { .n_layers = 1,
                                .n_kv_heads = a->n_kv_heads,
                                .dk = a->dk,
                                .dv = a->dv,
                                .page_size = a->page_size,
                                .max_pages = pages,
                                .max_seqs = a->n_seqs + 4,
                                .max_seq_len = max_len + 64,
                                .f16 = a->f16,
                                .v_in_k = a->v_in_k };
    GPU_OK(vkg_kv_create(g_dev, &cf, &w->kv));
    for (uint32_t s = 0; s < a->n_seqs; s++) GPU_OK(vkg_kv_seq_add(w->kv, &w->ids[s]));
}

static void world_free(struct world *w)
{
    for (uint32_t s = 0; s < w->ac->n_seqs; s++) {
        free(w->k[s]);
        free(w->v[s]);
    }
    free(w->k);
    free(w->v);
    free(w->ids);
    vkg_kv_free(w->kv);
}

static struct vkg_attn_params params_of(const struct acase *a)
{
    struct vkg_attn_params p = { .n_heads = a->n_heads,
                                 .scale = (float)a->scale,
                                 .softcap = (float)a->softcap,
                                 .window = a->window,
                                 .n_split = a->n_split,
                                 .max_kv_len = a->max_kv_len_hint };
    return p;
}

/* g_q_shift: bytes before q in its buffer (4: q's rows off the 16-byte texels attn_lane reads);
 * g_last_kernel: the last kernel gpu_attention_p recorded. */
static uint64_t g_q_shift;
static const char *g_last_kernel;

/* Runs attention for n query tokens (tok: cache seq id, pos) on layer 0;
 * prefix_len > 0: the cascade (vkg_op_attention_shared) over that shared prefix. */
static void gpu_attention_p(struct vkg_kv_cache *kv, const struct vkg_attn_params *ap, const int32_t *tok,
                            const float *q, uint64_t n, float *out, uint32_t prefix_len)
{
    const struct vkg_kv_config *cf = &kv->cfg;
    uint64_t ob = n * ap->n_heads * cf->dv * 4;
    uint32_t splits = ap->n_split ? ap->n_split : 64;
    struct vkg_buffer *bt = gpu_buffer_from(tok, n * 8, "attn tokens");
    uint64_t qb = n * ap->n_heads * cf->dk * 4;
    float *qs = calloc(1, qb + g_q_shift + 16);
    assert_non_null(qs);
    memcpy((char *)qs + g_q_shift, q, qb);
    struct vkg_buffer *bq = gpu_buffer_from(qs, qb + g_q_shift, "attn Q");
    free(qs);
    struct vkg_view vq = vkg_view_sub(vkg_buffer_view(bq), g_q_shift, qb);
    struct vkg_buffer *bo, *bs = NULL;
    GPU_OK(vkg_buffer_create(g_dev, ob, VKG_MEM_DEVICE, "attn out", &bo));
    struct vkg_view scratch = { 0 };
    if (prefix_len) splits = 64;
    if (splits > 1 && n < 4096) {
        GPU_OK(vkg_buffer_create(g_dev, vkg_attn_scratch_bytes(n, ap->n_heads, cf->dv, splits), VKG_MEM_DEVICE,
                                 "attn scratch", &bs));
        scratch = vkg_buffer_view(bs);
    }
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    if (prefix_len)
        GPU_OK(vkg_op_attention_shared(c, kv, 0, vq, vkg_buffer_view(bt), vkg_buffer_view(bo), scratch, n, prefix_len,
                                       ap));
    else GPU_OK(vkg_op_attention(c, kv, 0, vq, vkg_buffer_view(bt), vkg_buffer_view(bo), scratch, n, ap));
    g_last_kernel = c->last_kernel;
    GPU_OK(vkg_cmd_submit_wait(c));
    gpu_read(bo, out, ob);
    vkg_cmd_free(c);
    vkg_buffer_free(bt);
    vkg_buffer_free(bq);
    vkg_buffer_free(bo);
    vkg_buffer_free(bs);
    gpu_assert_no_validation();
}

static void gpu_attention(struct vkg_kv_cache *kv, const struct vkg_attn_params *ap, const int32_t *tok, const float *q,
                          uint64_t n, float *out)
{
    gpu_attention_p(kv, ap, tok, q, n, out, 0);
}

/* Query tokens of a case: decode = last position of each sequence, else all. */
static uint64_t make_queries(const struct world *w, int32_t *gpu_tok, int32_t *ref_tok)
{
    const struct acase *a = w->ac;
    uint64_t n = 0;
    for (uint32_t s = 0; s < a->n_seqs; s++)
        for (uint32_t p = a->decode ? a->lens[s] - 1 : 0; p < a->lens[s]; p++, n++) {
            gpu_tok[2 * n] = (int32_t)w->ids[s];
            gpu_tok[2 * n + 1] = (int32_t)p;
            ref_tok[2 * n] = (int32_t)s;
            ref_tok[2 * n + 1] = (int32_t)p;
        }
    return n;
}

static void check_vs_ref(const struct world *w, const int32_t *gpu_tok, const int32_t *ref_tok, uint64_t n,
                         uint64_t *seed, const char *what)
{
    const struct acase *a = w->ac;
    float *q = malloc(n * a->n_heads * a->dk * 4);
    float *got = malloc(n * a->n_heads * a->dv * 4), *want = malloc(n * a->n_heads * a->dv * 4);
    rng_fill_f32(seed, q, n * a->n_heads * a->dk, -a->q_range, a->q_range);
    struct ref_kv_seq *rs = calloc(a->n_seqs, sizeof *rs);
    for (uint32_t s = 0; s < a->n_seqs; s++) rs[s] = (struct ref_kv_seq){ w->k[s], w->v[s], a->lens[s] };
    struct ref_attn_shape sh = { a->n_heads, a->n_kv_heads, a->dk, a->dv, a->scale, a->softcap, a->window };
    struct vkg_attn_params ap = params_of(a);
    gpu_attention(w->kv, &ap, gpu_tok, q, n, got);
    ref_attention(&sh, rs, ref_tok, q, n, want);
    char msg[160];
    snprintf(msg, sizeof msg, "%s: heads %u/%u dk %u dv %u page %u split %u f16 %d, %llu queries", what, a->n_heads,
             a->n_kv_heads, a->dk, a->dv, a->page_size, a->n_split, a->f16, (unsigned long long)n);
    assert_close_f32(msg, got, want, n * a->n_heads * a->dv, ATOL, 0);
    /* the same queries through attn_rows (token_runs): prefill cases have runs of
       one sequence that end inside a workgroup; decode cases put a different
       sequence in every row */
    ap.token_runs = 1;
    memset(got, 0, n * a->n_heads * a->dv * 4);
    gpu_attention(w->kv, &ap, gpu_tok, q, n, got);
    snprintf(msg, sizeof msg, "%s (attn_rows): heads %u/%u dk %u dv %u page %u f16 %d, %llu queries", what, a->n_heads,
             a->n_kv_heads, a->dk, a->dv, a->page_size, a->f16, (unsigned long long)n);
    assert_close_f32(msg, got, want, n * a->n_heads * a->dv, ATOL, 0);
    if (a->n_heads == a->n_kv_heads) { /* the general kernel too, which the *_g1 ones replace */
        ap.token_runs = 0;
        g_dev->use.attn_rows = 0;
        memset(got, 0, n * a->n_heads * a->dv * 4);
        gpu_attention(w->kv, &ap, gpu_tok, q, n, got);
        g_dev->use.attn_rows = 1;
        snprintf(msg, sizeof msg, "%s (VKGRM_DISABLE_ATTN_ROWS): heads %u/%u dk %u dv %u f16 %d, %llu queries", what,
                 a->n_heads, a->n_kv_heads, a->dk, a->dv, a->f16, (unsigned long long)n);
        assert_close_f32(msg, got, want, n * a->n_heads * a->dv, ATOL, 0);
    }
    free(q);
    free(got);
    free(want);
    free(rs);
}

static void run_case(const struct acase *a, const char *what)
{
    uint64_t seed = 0x5eed0 + a->n_heads * 131 + a->dk * 7 + a->decode;
    struct world w;
    world_init(&w, a, &seed, 0);
    world_fill(&w, &seed);
    uint64_t total = 0;
    for (uint32_t s = 0; s < a->n_seqs; s++) total += a->lens[s];
    int32_t *gt = malloc(total * 8), *rt = malloc(total * 8);
    uint64_t n = make_queries(&w, gt, rt);
    check_vs_ref(&w, gt, rt, n, &seed, what);
    free(gt);
    free(rt);
    world_free(&w);
}

static const uint32_t g_lens[] = { 1, 5, 17, 100, 300 };
#define N_LENS 5u

/* Prefill over lengths 1..300 in one dispatch: GQA ratios 1, 2, 4 and MQA. */
static void test_prefill_gqa(void **state)
{
    const uint32_t heads[][2] = { { 2, 2 }, { 4, 2 }, { 8, 2 }, { 12, 1 } };
    for (int i = 0; i < 4; i++) {
        struct acase a = { heads[i][0], heads[i][1], 64, 64, 16, 0.125, 0, 0, g_lens, N_LENS, 0, 1, 0, 1 };
        run_case(&a, "prefill gqa");
    }
}

/* Decode (one query per sequence, no split) for the same ratios, page size 32. */
static void test_decode_gqa(void **state)
{
    const uint32_t heads[][2] = { { 4, 4 }, { 8, 4 }, { 16, 4 }, { 8, 1 } };
    for (int i = 0; i < 4; i++) {
        struct acase a = { heads[i][0], heads[i][1], 128, 128, 32, 1 / sqrt(128.0), 0, 0, g_lens, N_LENS, 1, 1, 0, 1 };
        run_case(&a, "decode gqa");
    }
}

/* DeepSeek-V2 MLA shapes: dk 192, dv 128, scale mscale^2 / sqrt(192) (mscale 1.2). */
static void test_mla_dk_ne_dv(void **state)
{
    double sc = 1.2 * 1.2 / sqrt(192.0);
    struct acase a = { 4, 4, 192, 128, 16, sc, 0, 0, g_lens, N_LENS, 0, 1, 0, 1 };
    run_case(&a, "mla prefill");
    a.decode = 1;
    run_case(&a, "mla decode");
}

/* DeepSeek-V2's MLA latent cache (deepseek2.c, attention_latent): 16 query heads on one KV head of dk 576
 * (kv_lora 512 + rope 64) and dv 512, past attn.comp's VKG_ATTN_DMAX: attn_lane (CPU drivers) or
 * attn.comp's *_wide variants, prefill, decode, F16 pages and automatic split-K, against the reference;
 * a device with neither refuses it. */
static void test_mla_latent(void **state)
{
    (void)state;
    double sc = 1.2 * 1.2 / sqrt(192.0);
    if (!g_dev->use.attn_lane && !vkg_attn_wide_ok(g_dev)) {
        struct vkg_kv_config cf = { 1, 1, 576, 512, 16, 4, 2, 64 };
        struct vkg_kv_cache *kv;
        GPU_OK(vkg_kv_create(g_dev, &cf, &kv));
        struct vkg_attn_params ap = { .n_heads = 16, .scale = (float)sc };
        struct vkg_cmd *c;
        GPU_OK(vkg_cmd_create(g_dev, &c));
        GPU_OK(vkg_cmd_begin(c));
        struct vkg_view none = { 0 };
        assert_int_equal(vkg_op_attention(c, kv, 0, none, none, none, none, 1, &ap), VKG_ERR_UNSUPPORTED);
        vkg_cmd_free(c);
        vkg_kv_free(kv);
        return;
    }
    const char *kernel = g_dev->use.attn_lane ? "attn_lane" : "_wide";
    static const uint32_t lens[] = { 1, 7, 70 }, long_lens[] = { 1100, 3 };
    for (int f16 = 0; f16 < 2; f16++) {
        struct acase a = { 16, 1, 576, 512, 16, sc, 0, 0, lens, 3, 0, 1, 0, 1, f16 };
        run_case(&a, f16 ? "mla latent f16 prefill" : "mla latent prefill");
        assert_non_null(strstr(g_last_kernel, kernel));
        a.decode = 1;
        run_case(&a, f16 ? "mla latent f16 decode" : "mla latent decode");
        struct acase d = { 16, 1, 576, 512, 16, sc, 0, 0, long_lens, 2, 1, 0, 1100, 1, f16 };
        run_case(&d, f16 ? "mla latent f16 split-K auto" : "mla latent split-K auto");
        /* dk past dv, and dv past one vec4 per thread (attn_wide: the second vec4 of each thread) */
        struct acase w = { 4, 1, 576, 320, 16, sc, 0, 0, lens, 3, 0, 1, 0, 1, f16 };
        run_case(&w, f16 ? "f16 prefill dk 576 dv 320" : "prefill dk 576 dv 320");
        assert_non_null(strstr(g_last_kernel, kernel));
        /* as the models cache it: V is the latent, the first 512 of each K row (no V pool) */
        a.v_in_k = d.v_in_k = w.v_in_k = 1;
        a.decode = 0;
        run_case(&a, f16 ? "mla latent f16 prefill, V in K" : "mla latent prefill, V in K");
        assert_non_null(strstr(g_last_kernel, kernel));
        if (g_dev->use.attn_lane) assert_non_null(strstr(g_last_kernel, "_vk"));
        a.decode = 1;
        run_case(&a, f16 ? "mla latent f16 decode, V in K" : "mla latent decode, V in K");
        run_case(&d, f16 ? "mla latent f16 split-K auto, V in K" : "mla latent split-K auto, V in K");
        run_case(&w, f16 ? "f16 prefill dk 576 dv 320, V in K" : "prefill dk 576 dv 320, V in K");
    }
}

/* Gemma-2: scale 1/sqrt(query_pre_attn_scalar = 144), soft-cap, window 32 < 100, 300.
 * Large q so that the cap bites (|scale q.k| reaches several times the cap). */
static void test_softcap_window(void **state)
{
    struct acase a = { 8, 4, 128, 128, 16, 1 / 12.0, 5.0, 32, g_lens, N_LENS, 0, 1, 0, 4 };
    run_case(&a, "softcap+window prefill");
    a.decode = 1;
    run_case(&a, "softcap+window decode");
    a.decode = 0;
    a.window = 1; /* each token sees only itself */
    run_case(&a, "window 1");
}

/* Split-K decode over KV of 2,000+ positions: fixed splits, auto splits, and a
 * length hint far too small (the last split runs to the end). */
static void test_decode_split_k(void **state)
{
    static const uint32_t lens[] = { 2100, 2085, 3 };
    struct acase a = { 8, 2, 128, 128, 16, 1 / sqrt(128.0), 0, 0, lens, 3, 1, 9, 2100, 1 };
    run_case(&a, "split-K 9");
    a.n_split = 0;
    run_case(&a, "split-K auto");
    a.n_split = 4;
    a.max_kv_len_hint = 500;
    run_case(&a, "split-K short hint");
    a.n_split = 5;
    a.max_kv_len_hint = 2100;
    a.softcap = 5;
    a.window = 700;
    a.q_range = 4;
    run_case(&a, "split-K window");
    /* one query head per KV head (attn_split_g1) */
    struct acase g = { 4, 4, 64, 32, 16, 0.125, 0, 0, lens, 3, 1, 0, 2100, 1 };
    run_case(&g, "split-K auto, group 1");
    g.n_split = 3;
    g.window = 900;
    run_case(&g, "split-K 3 window, group 1");
}

/* Shared prefix: A gets a 40-token prompt (page 16: 2 full pages + 8 tokens),
 * B and C fork from A, then A, B, C each append 30 tokens of their own. The
 * outputs must equal those of a cache where each sequence holds a private copy
 * of the prompt (bit for bit: same arithmetic), and the reference. */
#define SP_PROMPT 40u
#define SP_OWN 30u
#define SP_LEN (SP_PROMPT + SP_OWN)

static void append_range(struct vkg_kv_cache *kv, const struct world *w, uint32_t s, uint32_t seq_id, uint64_t p0,
                         uint64_t n)
{
    const struct acase *a = w->ac;
    int32_t *tok = malloc(n * 8);
    float *k = malloc(n * a->n_kv_heads * a->dk * 4), *v = malloc(n * a->n_kv_heads * a->dv * 4);
    uint64_t cnt = 0, pos0;
    GPU_OK(vkg_kv_reserve(kv, seq_id, (uint32_t)n, &pos0));
    assert_int_equal(pos0, p0);
    GPU_OK(vkg_kv_upload(kv));
    add_tokens(w, s, seq_id, p0, n, tok, k, v, &cnt);
    gpu_append(kv, tok, k, v, n);
    free(tok);
    free(k);
    free(v);
}

static void shared_queries(const uint32_t *ids, int32_t *gt, int32_t *rt, uint64_t *n)
{
    *n = 0;
    for (uint32_t s = 0; s < 3; s++)
        for (uint32_t p = SP_PROMPT; p < SP_LEN; p++, (*n)++) {
            gt[2 * *n] = (int32_t)ids[s];
            gt[2 * *n + 1] = (int32_t)p;
            rt[2 * *n] = (int32_t)s;
            rt[2 * *n + 1] = (int32_t)p;
        }
}

static void test_shared_prefix(void **state)
{
    static const uint32_t lens[] = { SP_LEN, SP_LEN, SP_LEN };
    struct acase a = { 8, 2, 64, 64, 16, 0.125, 0, 0, lens, 3, 0, 1, 0, 1 };
    uint64_t seed = 0xf0f0;
    struct world w;
    world_init(&w, &a, &seed, 8);      /* the private cache: 3 x 5 pages */
    for (uint32_t s = 1; s < 3; s++) { /* one prompt: the branches' first 40 rows are A's */
        memcpy(w.k[s], w.k[0], SP_PROMPT * 2 * 64 * 4);
        memcpy(w.v[s], w.v[0], SP_PROMPT * 2 * 64 * 4);
    }
    for (uint32_t s = 0; s < 3; s++) append_range(w.kv, &w, s, w.ids[s], 0, SP_LEN);
    assert_int_equal(vkg_kv_pages_used(w.kv), 15);

    struct vkg_kv_cache *sh;
    GPU_OK(vkg_kv_create(g_dev, &w.kv->cfg, &sh));
    uint32_t ids[3];
    GPU_OK(vkg_kv_seq_add(sh, &ids[0]));
    append_range(sh, &w, 0, ids[0], 0, SP_PROMPT);
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_kv_seq_fork(sh, c, ids[0], &ids[1]));
    GPU_OK(vkg_kv_seq_fork(sh, c, ids[0], &ids[2]));
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    assert_int_equal(vkg_kv_pages_used(sh), 3 + 2); /* 2 full pages shared, partial page copied twice */
    for (uint32_t s = 0; s < 3; s++) append_range(sh, &w, s, ids[s], SP_PROMPT, SP_OWN);
    assert_int_equal(vkg_kv_pages_used(sh), 2 + 3 * 3);

    int32_t gt[2 * 3 * SP_OWN], rt[2 * 3 * SP_OWN], gp[2 * 3 * SP_OWN];
    uint64_t n;
    shared_queries(w.ids, gp, rt, &n);
    shared_queries(ids, gt, rt, &n);
    uint64_t no = n * a.n_heads * a.dv;
    float *q = malloc(n * a.n_heads * a.dk * 4), *o_sh = malloc(no * 4), *o_pr = malloc(no * 4);
    float *want = malloc(no * 4);
    rng_fill_f32(&seed, q, n * a.n_heads * a.dk, -1, 1);
    struct vkg_attn_params ap = params_of(&a);
    gpu_attention(sh, &ap, gt, q, n, o_sh);
    gpu_attention(w.kv, &ap, gp, q, n, o_pr);
    struct ref_kv_seq rs[3];
    for (uint32_t s = 0; s < 3; s++) rs[s] = (struct ref_kv_seq){ w.k[s], w.v[s], SP_LEN };
    struct ref_attn_shape rsh = { a.n_heads, a.n_kv_heads, a.dk, a.dv, a.scale, 0, 0 };
    ref_attention(&rsh, rs, rt, q, n, want);
    assert_close_f32("shared prefix == private copies", o_sh, o_pr, no, 0, 0);
    assert_close_f32("shared prefix vs reference", o_sh, want, no, ATOL, 0);
    for (uint32_t split = 0; split <= 2; split++) { /* cascade: prefix read once for 16 rows */
        ap.n_split = split;
        ap.max_kv_len = SP_LEN;
        gpu_attention_p(sh, &ap, gt, q, n, o_pr, SP_PROMPT);
        assert_close_f32("cascade vs reference", o_pr, want, no, ATOL, 0);
    }

    GPU_OK(vkg_kv_seq_free(sh, ids[1]));
    GPU_OK(vkg_kv_seq_free(sh, ids[2]));
    assert_int_equal(vkg_kv_pages_used(sh), 5); /* A's pages only: shared ones survive */
    free(q);
    free(o_sh);
    free(o_pr);
    free(want);
    vkg_kv_free(sh);
    world_free(&w);
}

/* Cascade decode over a 2,000-token prompt shared by 7 sequences (A and 6
 * forks), each with 1..7 tokens of its own: GQA 32/8 (28 rows: 2 row chunks),
 * MQA 12/1 (tokens straddle row chunks), window 100 + softcap (per-row masks
 * inside the prefix pass). Compared with the reference and the plain kernel. */
static void cascade_case(uint32_t n_heads, uint32_t n_kv, double softcap, uint32_t window, float q_range, int f16,
                         int v_in_k)
{
    enum { NS = 7, PRE = 2000 };
    static uint32_t lens[NS];
    for (uint32_t s = 0; s < NS; s++) lens[s] = PRE + 1 + s;
    uint32_t dv = v_in_k ? 48 : 64; /* V in K: the first 48 of each 64-element K row (the fork copies K alone) */
    struct acase a = {
        n_heads, n_kv, 64, dv, 16, 0.125, softcap, window, lens, NS, 1, 0, PRE + NS, q_range, f16, v_in_k
    };
    uint64_t seed = 0xcafe + n_heads;
    struct world w;
    world_init(&w, &a, &seed, 0);
    uint64_t rowk = (uint64_t)n_kv * 64;
    for (uint32_t s = 1; s < NS; s++) {
        memcpy(w.k[s], w.k[0], PRE * rowk * 4);
        memcpy(w.v[s], w.v[0], PRE * n_kv * dv * 4);
    }
    vkg_kv_seq_free(w.kv, w.ids[1]); /* world_init added NS sequences: keep only A, fork the rest */
    for (uint32_t s = 2; s < NS; s++) vkg_kv_seq_free(w.kv, w.ids[s]);
    append_range(w.kv, &w, 0, w.ids[0], 0, PRE);
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    for (uint32_t s = 1; s < NS; s++) GPU_OK(vkg_kv_seq_fork(w.kv, c, w.ids[0], &w.ids[s]));
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    for (uint32_t s = 0; s < NS; s++) append_range(w.kv, &w, s, w.ids[s], PRE, lens[s] - PRE);
    /* what the models pass as prefix_len: the pages every fork shares (whole pages of A) */
    int32_t ids[NS + 1];
    for (uint32_t s = 0; s < NS; s++) ids[s] = (int32_t)w.ids[s];
    ids[NS] = ids[2]; /* a sequence listed twice counts once */
    assert_int_equal(vkg_kv_common_prefix(w.kv, ids, NS + 1), PRE / 16 * 16);
    assert_int_equal(vkg_kv_common_prefix(w.kv, ids, 1), lens[0] / 16 * 16);
    assert_int_equal(vkg_kv_common_prefix(w.kv, ids, 0), 0);
    int32_t gone[2] = { ids[0], 9999 };
    assert_int_equal(vkg_kv_common_prefix(w.kv, gone, 2), 0); /* not a live sequence */
    int32_t gt[2 * NS + 2], rt[2 * NS + 2];
    uint64_t n = make_queries(&w, gt, rt);
    gt[2 * n] = (int32_t)w.ids[0];
    rt[2 * n] = 0;
    gt[2 * n + 1] = rt[2 * n + 1] = 1500; /* inside the prefix: */
    n++;                                  /* the causal mask cuts the prefix pass per row */
    uint64_t no = n * n_heads * dv;
    float *q = malloc(n * n_heads * 64 * 4), *got = malloc(no * 4), *plain = malloc(no * 4), *want = malloc(no * 4);
    rng_fill_f32(&seed, q, n * n_heads * 64, -q_range, q_range);
    struct ref_kv_seq rs[NS];
    for (uint32_t s = 0; s < NS; s++) rs[s] = (struct ref_kv_seq){ w.k[s], w.v[s], lens[s] };
    struct ref_attn_shape sh = { n_heads, n_kv, 64, dv, a.scale, softcap, window };
    ref_attention(&sh, rs, rt, q, n, want);
    struct vkg_attn_params ap = params_of(&a);
    gpu_attention_p(w.kv, &ap, gt, q, n, got, PRE);
    gpu_attention(w.kv, &ap, gt, q, n, plain);
    char msg[96];
    snprintf(msg, sizeof msg, "cascade heads %u/%u softcap %g window %u f16 %d v_in_k %d", n_heads, n_kv, softcap,
             window, f16, v_in_k);
    assert_close_f32(msg, got, want, no, ATOL, 0);
    assert_close_f32("plain split-K, same cache", plain, want, no, ATOL, 0);
    free(q);
    free(got);
    free(plain);
    free(want);
    world_free(&w);
}

static void test_cascade_long_prefix(void **state)
{
    cascade_case(32, 8, 0, 0, 1, 0, 0);
    cascade_case(12, 1, 0, 0, 1, 0, 0);
    cascade_case(8, 2, 5.0, 100, 4, 0, 0);
    cascade_case(32, 8, 0, 0, 1, 1, 0);
    cascade_case(4, 4, 0, 0, 1, 0, 0); /* MHA (MLA): the suffix through the one-row kernel */
}

/* A cache without V pools (kv_cache.h v_in_k: V = the first dv of each K row, as DeepSeek-V2's latent
 * is cached) at shapes every tier's kernels take: prefill (and attn_rows on the tiled tiers), decode,
 * forced and automatic split-K, F16 pages, against the reference; the cascade over forks (the fork
 * copies K alone); dv > dk refused. */
static void test_v_in_k(void **state)
{
    (void)state;
    for (int f16 = 0; f16 < 2; f16++) {
        struct acase a = { 8, 2, 64, 40, 16, 0.125, 0, 0, g_lens, N_LENS, 0, 1, 0, 1, f16, 1 };
        run_case(&a, f16 ? "v in k f16 prefill" : "v in k prefill");
        if (g_dev->use.attn_lane) assert_true(strstr(g_last_kernel, "attn_lane") && strstr(g_last_kernel, "_vk"));
        a.decode = 1;
        run_case(&a, f16 ? "v in k f16 decode" : "v in k decode");
        a.n_split = 3;
        a.max_kv_len_hint = 300;
        run_case(&a, f16 ? "v in k f16 split 3" : "v in k split 3");
        struct acase m = { 12, 1, 128, 96, 32, 0.09, 0, 0, g_lens, N_LENS, 1, 0, 300, 1, f16, 1 };
        run_case(&m, f16 ? "v in k f16 mqa split-K auto" : "v in k mqa split-K auto");
        cascade_case(8, 2, 0, 0, 1, f16, 1);
    }
    struct vkg_kv_config bad = { 1, 1, 32, 64, 16, 4, 2, 64, 0, 1 };
    struct vkg_kv_cache *kv = NULL;
    assert_int_equal(vkg_kv_create(g_dev, &bad, &kv), VKG_ERR_INVALID_ARG);
    assert_null(kv);
}

/* Prefill of whole sequences through attn_prefix (prefix_len = the sequence
 * length, every token queries): 16 (token, head) rows of one sequence per
 * workgroup, per-row causal masks, window and softcap; lengths 300 and 77. */
static void test_prefix_block_prefill(void **state)
{
    static const uint32_t lens[] = { 300, 77 };
    for (int k = 0; k < 4; k++) {
        struct acase a = { 8,
                           2,
                           64,
                           64,
                           16,
                           0.125,
                           k & 1 ? 5.0 : 0,
                           k & 1 ? 32 : 0,
                           lens + (k >> 1),
                           1,
                           0,
                           k & 1 ? 3 : 1,
                           lens[k >> 1],
                           k & 1 ? 4.0f : 1.0f,
                           k == 3 };
        uint64_t seed = 0xb10c + (uint64_t)k;
        struct world w;
        world_init(&w, &a, &seed, 0);
        world_fill(&w, &seed);
        int32_t gt[2 * 300], rt[2 * 300];
        uint64_t n = make_queries(&w, gt, rt), no = n * a.n_heads * a.dv;
        float *q = malloc(n * a.n_heads * a.dk * 4), *got = malloc(no * 4), *want = malloc(no * 4);
        rng_fill_f32(&seed, q, n * a.n_heads * a.dk, -a.q_range, a.q_range);
        struct ref_kv_seq rs = { w.k[0], w.v[0], a.lens[0] };
        struct ref_attn_shape sh = { a.n_heads, a.n_kv_heads, a.dk, a.dv, a.scale, a.softcap, a.window };
        ref_attention(&sh, &rs, rt, q, n, want);
        struct vkg_attn_params ap = params_of(&a);
        gpu_attention_p(w.kv, &ap, gt, q, n, got, a.lens[0]);
        assert_close_f32("prefill through attn_prefix", got, want, no, ATOL, 0);
        free(q);
        free(got);
        free(want);
        world_free(&w);
    }
}

/* F16 pages: prefill (lengths 1..300, GQA 4, MLA 192/128), split-K decode over 2,100. */
static void test_f16_pages(void **state)
{
    struct acase a = { 8, 2, 64, 64, 16, 0.125, 0, 0, g_lens, N_LENS, 0, 1, 0, 1, 1 };
    run_case(&a, "f16 prefill");
    struct acase m = { 4, 4, 192, 128, 32, 1 / sqrt(192.0), 0, 0, g_lens, N_LENS, 0, 1, 0, 1, 1 };
    run_case(&m, "f16 mla prefill");
    static const uint32_t lens[] = { 2100, 2085, 3 };
    struct acase d = { 8, 2, 128, 128, 16, 1 / sqrt(128.0), 0, 0, lens, 3, 1, 0, 2100, 1, 1 };
    run_case(&d, "f16 split-K auto");
    d.n_heads = d.n_kv_heads = 4;
    run_case(&d, "f16 split-K auto, group 1");
    d.decode = 0;
    d.n_split = 1;
    d.lens = g_lens;
    d.n_seqs = N_LENS;
    run_case(&d, "f16 prefill, group 1");
}

/* attn_lane's head groups (vkg_attn_lane_heads): the choice itself, worked out by hand from its
 * rule (the largest divisor of the group <= VKG_ATTN_LANE_GH with GH (dk + dv) / 4 <= the state
 * budget), then groups of 3 with rows of an odd number of vec4s (F16: half texels), and a group of 4
 * taken one head at a time (use.attn_group off); rows wider than the budget take up to 4 heads
 * (test_mla_latent runs them). The other tests cover GH 2, 4 (one and two per KV
 * head) and 6 (two per KV head, test_prefill_gqa's 12 / 1). */
static void test_lane_head_groups(void **state)
{
    (void)state;
    int was = g_dev->use.attn_group;
    g_dev->use.attn_group = 1;
    assert_int_equal(vkg_attn_lane_heads(g_dev, 32, 8, 128, 128), 4);
    assert_int_equal(vkg_attn_lane_heads(g_dev, 16, 1, 128, 128), 4); /* 8 x 64 vec4s > 256 */
    assert_int_equal(vkg_attn_lane_heads(g_dev, 12, 1, 64, 64), 6);   /* 12 has no divisor 7 or 8 */
    assert_int_equal(vkg_attn_lane_heads(g_dev, 16, 2, 64, 64), 8);
    assert_int_equal(vkg_attn_lane_heads(g_dev, 9, 3, 64, 64), 3);
    assert_int_equal(vkg_attn_lane_heads(g_dev, 14, 2, 256, 256), 1); /* 7 and 2 x 128 vec4s exceed it */
    assert_int_equal(vkg_attn_lane_heads(g_dev, 4, 4, 192, 128), 1);
    /* one head's rows past the budget (MLA latent): up to VKG_ATTN_LANE_GH_WIDE (4) heads */
    assert_int_equal(vkg_attn_lane_heads(g_dev, 16, 1, 576, 512), 4);
    assert_int_equal(vkg_attn_lane_heads(g_dev, 6, 1, 576, 512), 3);
    assert_int_equal(vkg_attn_lane_heads(g_dev, 5, 1, 576, 512), 1);
    g_dev->use.attn_group = 0;
    assert_int_equal(vkg_attn_lane_heads(g_dev, 32, 8, 128, 128), 1);
    g_dev->use.attn_group = 1;
    static const uint32_t lens[] = { 2100, 2085, 3 };
    for (int f16 = 0; f16 < 2; f16++) {
        struct acase a = { 6, 2, 36, 20, 16, 1 / 6.0, 0, 0, g_lens, N_LENS, 0, 1, 0, 1, f16 };
        run_case(&a, f16 ? "f16 prefill, group 3, dk 36 dv 20" : "prefill, group 3, dk 36 dv 20");
        struct acase d = { 6, 2, 36, 20, 16, 1 / 6.0, 0, 0, lens, 3, 1, 0, 2100, 1, f16 };
        run_case(&d, f16 ? "f16 split-K auto, group 3, dk 36 dv 20" : "split-K auto, group 3, dk 36 dv 20");
    }
    g_dev->use.attn_group = 0;
    struct acase o = { 8, 2, 64, 64, 16, 0.125, 0, 0, g_lens, N_LENS, 0, 1, 0, 1, 1 };
    run_case(&o, "f16 prefill, group 4 one head at a time");
    g_dev->use.attn_group = was;
    /* q read as texels: rows off a texel take the tiled kernels (on every tier), with the same result */
    g_q_shift = 4;
    struct acase u = { 8, 2, 64, 64, 16, 0.125, 0, 0, g_lens, N_LENS, 0, 1, 0, 1, 0 };
    run_case(&u, "prefill, q 4 bytes off a texel");
    assert_null(strstr(g_last_kernel, "attn_lane"));
    g_q_shift = 0;
    run_case(&u, "prefill, q on texels");
    if (g_dev->use.attn_lane) assert_non_null(strstr(g_last_kernel, "attn_lane"));
}

/* 20,000 queries x 16 heads x 128: Q and output are 164 MB, beyond one 128 MiB
 * binding, so the launcher splits them into token chunks. */
static void test_beyond_binding(void **state)
{
    static const uint32_t lens[] = { 8 };
    struct acase a = { 16, 2, 128, 128, 16, 1 / sqrt(128.0), 0, 0, lens, 1, 0, 1, 0, 1 };
    uint64_t seed = 0xb16, n = 20000;
    struct world w;
    world_init(&w, &a, &seed, 0);
    world_fill(&w, &seed);
    int32_t *gt = malloc(n * 8), *rt = malloc(n * 8);
    for (uint64_t i = 0; i < n; i++) {
        gt[2 * i] = (int32_t)w.ids[0];
        rt[2 * i] = 0;
        gt[2 * i + 1] = rt[2 * i + 1] = (int32_t)(i % 8);
    }
    assert_true(n * a.n_heads * a.dk * 4 > g_dev->info.max_storage_buffer_range ||
                g_dev->info.max_storage_buffer_range > (1ull << 30));
    check_vs_ref(&w, gt, rt, n, &seed, "beyond one binding");
    free(gt);
    free(rt);
    world_free(&w);
}

/* The 15 token records of the fused-append cases in a fresh cache (page size 4, 16 pages):
 * sequence s0 at 0..7 and s1 at 0..5, alternating, their pages interleaved; record 14 is bad
 * (sequence 3, not live, at bad_pos). pos[i] = tok[2i + 1]. */
#define APPEND_N 15u
static struct vkg_kv_cache *append_cache(int f16, uint32_t heads, uint32_t dk, uint32_t dv, int32_t bad_pos,
                                         int32_t *tok, int32_t *pos)
{
    struct vkg_kv_config cf = { .n_layers = 1,
                                .n_kv_heads = heads,
                                .dk = dk,
                                .dv = dv,
                                .page_size = 4,
                                .max_pages = 16,
                                .max_seqs = 4,
                                .max_seq_len = 64,
                                .f16 = f16 };
    struct vkg_kv_cache *kv;
    GPU_OK(vkg_kv_create(g_dev, &cf, &kv));
    uint32_t s0, s1;
    uint64_t pos0;
    GPU_OK(vkg_kv_seq_add(kv, &s0));
    GPU_OK(vkg_kv_seq_add(kv, &s1));
    GPU_OK(vkg_kv_reserve(kv, s0, 3, &pos0)); /* pages of s0 and s1 interleave */
    GPU_OK(vkg_kv_reserve(kv, s1, 6, &pos0));
    GPU_OK(vkg_kv_reserve(kv, s0, 5, &pos0));
    GPU_OK(vkg_kv_upload(kv));
    uint32_t i = 0;
    for (uint32_t j = 0; j < 8; j++) {
        tok[2 * i] = (int32_t)s0, tok[2 * i + 1] = (int32_t)j, i++;
        if (j < 6) tok[2 * i] = (int32_t)s1, tok[2 * i + 1] = (int32_t)j, i++;
    }
    tok[2 * i] = 3, tok[2 * i + 1] = bad_pos, i++;
    assert_int_equal(i, APPEND_N);
    for (i = 0; i < APPEND_N; i++) pos[i] = tok[2 * i + 1];
    return kv;
}

/* The append just recorded ran the *_tx kernel (want 1) or another one (want 0). */
static void assert_ran_tx(const struct vkg_cmd *c, const char *what, int want)
{
    const char *k = c->last_kernel;
    size_t n = k ? strlen(k) : 0;
    int tx = n > 3 && strcmp(k + n - 3, "_tx") == 0;
    if (tx != want) fail_msg("%s: ran %s, want %s kernel", what, k ? k : "(none)", want ? "a *_tx" : "a storage");
}

/* kv_append_rope on tokens of two sequences and one bad record (unknown sequence): q must equal
 * ref_rope of q (double precision, HF semantics), and the K/V pages must equal what the plain
 * kv_append writes from K rotated by ref_rope. Every slot the tokens own is first overwritten
 * with a sentinel (7.0) through the plain append, so a slot the fused kernel misses fails; the
 * bad record writes nothing (its q still rotates, at its record's position). */
static void append_rope_case(int f16, int interleaved, uint32_t rot_dim, uint32_t dim_off, float af, const char *what)
{
    const uint32_t nkv = 2, nh = 6, dk = 16, dv = 12, n = APPEND_N, half = rot_dim / 2;
    uint64_t seed = 0xa9e + (uint64_t)f16 * 131 + (uint64_t)interleaved * 17 + rot_dim + dim_off;
    int32_t tok[2 * APPEND_N], pos[APPEND_N];
    struct vkg_kv_cache *kv = append_cache(f16, nkv, dk, dv, 2, tok, pos);
    float *q = malloc((size_t)n * nh * dk * 4), *k = malloc((size_t)n * nkv * dk * 4),
          *v = malloc((size_t)n * nkv * dv * 4), *kr = malloc((size_t)n * nkv * dk * 4),
          *sent = malloc((size_t)n * nkv * dk * 4), freq[8], *qgot = malloc((size_t)n * nh * dk * 4);
    rng_fill_f32(&seed, q, (size_t)n * nh * dk, -1.5f, 1.5f);
    rng_fill_f32(&seed, k, (size_t)n * nkv * dk, -1.5f, 1.5f);
    rng_fill_f32(&seed, v, (size_t)n * nkv * dv, -1.5f, 1.5f);
    for (uint32_t j = 0; j < half; j++) freq[j] = 1.7f / (float)(1u << j) + 0.01f * (float)j; /* angles up to ~12 rad */
    for (uint32_t i = 0; i < n * nkv * dk; i++) sent[i] = 7.0f;
    memcpy(kr, k, (size_t)n * nkv * dk * 4);
    ref_rope(kr, pos, freq, n, nkv, dk, rot_dim, dim_off, interleaved, af);
    /* the reference pages: the plain append of the rotated K */
    uint64_t kb = kv->k[0]->size, vb = kv->v[0]->size;
    uint8_t *want_k = malloc(kb), *want_v = malloc(vb), *got_k = malloc(kb), *got_v = malloc(vb);
    gpu_append(kv, tok, kr, v, n);
    gpu_read(kv->k[0], want_k, kb);
    gpu_read(kv->v[0], want_v, vb);
    gpu_append(kv, tok, sent, sent, n);
    struct vkg_buffer *bq = gpu_buffer_from(q, (uint64_t)n * nh * dk * 4, "rope q"),
                      *bk = gpu_buffer_from(k, (uint64_t)n * nkv * dk * 4, "rope k"),
                      *bv = gpu_buffer_from(v, (uint64_t)n * nkv * dv * 4, "rope v"),
                      *bt = gpu_buffer_from(tok, (uint64_t)n * 8, "rope tokens"),
                      *bf = gpu_buffer_from(freq, half * 4, "rope inv_freq");
    struct vkg_kv_rope r = { .q = vkg_buffer_view(bq),
                             .inv_freq = vkg_buffer_view(bf),
                             .n_heads = nh,
                             .rot_dim = rot_dim,
                             .dim_off = dim_off,
                             .interleaved = interleaved,
                             .attn_factor = af };
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_kv_append_rope(c, kv, 0, vkg_buffer_view(bk), vkg_buffer_view(bv), vkg_buffer_view(bt), n, &r));
    /* texel tiers: the texel-wise *_tx kernel where the rotated range lies on whole texels (NeoX: its
       halves too), the element-wise storage kernel elsewhere */
    int texel_ok = dim_off % 4 == 0 && rot_dim % (interleaved ? 4 : 8) == 0;
    assert_ran_tx(c, what, g_dev->use.texel && texel_ok);
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    gpu_read(kv->k[0], got_k, kb);
    gpu_read(kv->v[0], got_v, vb);
    gpu_read(bq, qgot, (uint64_t)n * nh * dk * 4);
    ref_rope(q, pos, freq, n, nh, dk, rot_dim, dim_off, interleaved, af);
    char msg[128];
    snprintf(msg, sizeof msg, "%s: q", what);
    assert_close_f32(msg, qgot, q, (size_t)n * nh * dk, 1e-6f, 1e-5f);
    snprintf(msg, sizeof msg, "%s: V pages", what);
    assert_memory_equal(got_v, want_v, vb);
    snprintf(msg, sizeof msg, "%s: K pages", what);
    if (f16) { /* f16 of the f32 rotation vs f16 of the double one: one f16 step apart at most */
        uint64_t nv = kb / 2;
        float *a = malloc(nv * 4), *b = malloc(nv * 4);
        for (uint64_t i = 0; i < nv; i++) {
            a[i] = ref_f16_to_f32(((uint16_t *)got_k)[i]);
            b[i] = ref_f16_to_f32(((uint16_t *)want_k)[i]);
        }
        assert_close_f32(msg, a, b, nv, 0, 1.0f / 1024);
        free(a);
        free(b);
    } else {
        assert_close_f32(msg, (float *)got_k, (float *)want_k, kb / 4, 1e-6f, 1e-5f);
    }
    free(q), free(k), free(v), free(kr), free(sent), free(qgot);
    free(want_k), free(want_v), free(got_k), free(got_v);
    vkg_buffer_free(bq), vkg_buffer_free(bk), vkg_buffer_free(bv), vkg_buffer_free(bt), vkg_buffer_free(bf);
    vkg_kv_free(kv);
}

static void test_append_rope(void **state)
{
    append_rope_case(0, 0, 16, 0, 1.0f, "neox, whole head");
    append_rope_case(0, 1, 16, 0, 1.0f, "interleaved, whole head");
    append_rope_case(0, 0, 8, 4, 1.2f, "neox, 8 dims at 4, attention factor 1.2");
    append_rope_case(0, 1, 6, 10, 0.9f, "interleaved, 6 dims at 10");
    append_rope_case(0, 0, 12, 4, 1.0f, "neox, 12 dims at 4 (its halves off a texel)");
    append_rope_case(1, 0, 16, 0, 1.0f, "f16 pages, neox");
    append_rope_case(1, 1, 8, 2, 1.1f, "f16 pages, interleaved, 8 dims at 2");
    /* a bad rotation fails with a message, recording nothing */
    struct vkg_kv_config cf = { 1, 2, 16, 12, 4, 4, 2, 16 };
    struct vkg_kv_cache *kv;
    GPU_OK(vkg_kv_create(g_dev, &cf, &kv));
    struct vkg_buffer *b = gpu_buffer_from(NULL, 4096, "rope bad");
    struct vkg_kv_rope r = { .q = vkg_buffer_view(b), .inv_freq = vkg_buffer_view(b), .n_heads = 2, .rot_dim = 7 };
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    struct vkg_view w = vkg_buffer_view(b);
    assert_int_equal(vkg_op_kv_append_rope(c, kv, 0, w, w, w, 1, &r), VKG_ERR_INVALID_ARG);
    assert_non_null(strstr(vkg_error_detail(), "rot_dim 7"));
    r.rot_dim = 8;
    r.dim_off = 12; /* 12 + 8 > dk 16 */
    assert_int_equal(vkg_op_kv_append_rope(c, kv, 0, w, w, w, 1, &r), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_op_kv_append_rope(c, kv, 0, w, w, w, 1, NULL), VKG_ERR_INVALID_ARG);
    vkg_cmd_free(c);
    vkg_buffer_free(b);
    vkg_kv_free(kv);
    gpu_assert_no_validation();
}

/* kv_append_mla: DeepSeek-V2's K = [k_nope of B | k_pe of A] and V of B, gathered by the append,
 * must give the pages that the plain append of the host-assembled K and V rows gives, bit for
 * bit (both copy the same floats; F16 pages round them alike). A sentinel pass first, so a missed
 * slot fails; a bad record writes nothing. 3 heads, nope 12 + rope 4, dv 8, latent 20. */
static void append_mla_case(int f16, int rope_on, const char *what)
{
    const uint32_t H = 3, nope = 12, rope = 4, dk = nope + rope, dv = 8, lat = 20, ra = lat + rope, row = nope + dv;
    const uint32_t n = APPEND_N;
    uint64_t seed = 0x31a + (uint64_t)f16;
    int32_t tok[2 * APPEND_N], pos[APPEND_N];
    struct vkg_kv_cache *kv = append_cache(f16, H, dk, dv, 1, tok, pos);
    float *A = malloc((size_t)n * ra * 4), *B = malloc((size_t)n * H * row * 4);
    float *k = malloc((size_t)n * H * dk * 4), *v = malloc((size_t)n * H * dv * 4),
          *sent = malloc((size_t)n * H * dk * 4);
    rng_fill_f32(&seed, A, (size_t)n * ra, -2, 2);
    rng_fill_f32(&seed, B, (size_t)n * H * row, -2, 2);
    for (uint32_t t = 0; t < n; t++)
        for (uint32_t h = 0; h < H; h++) {
            for (uint32_t e = 0; e < dk; e++)
                k[((size_t)t * H + h) * dk + e] =
                    e < nope ? B[((size_t)t * H + h) * row + e] : A[(size_t)t * ra + lat + e - nope];
            for (uint32_t e = 0; e < dv; e++) v[((size_t)t * H + h) * dv + e] = B[((size_t)t * H + h) * row + nope + e];
        }
    for (size_t e = 0; e < (size_t)n * H * dk; e++) sent[e] = 7.0f;
    /* with RoPE: q's rope slices and K's k_pe turn by ref_rope (interleaved pairs, double) */
    float freq[2] = { 0.9f, 0.07f }, *q = malloc((size_t)n * H * dk * 4), *qgot = malloc((size_t)n * H * dk * 4);
    rng_fill_f32(&seed, q, (size_t)n * H * dk, -2, 2);
    if (rope_on) ref_rope(k, pos, freq, n, H, dk, rope, nope, 1, 1.1f);
    uint64_t kb = kv->k[0]->size, vb = kv->v[0]->size;
    uint8_t *want_k = malloc(kb), *want_v = malloc(vb), *got_k = malloc(kb), *got_v = malloc(vb);
    gpu_append(kv, tok, k, v, n);
    gpu_read(kv->k[0], want_k, kb);
    gpu_read(kv->v[0], want_v, vb);
    gpu_append(kv, tok, sent, sent, n);
    struct vkg_buffer *ba = gpu_buffer_from(A, (uint64_t)n * ra * 4, "mla A"),
                      *bb = gpu_buffer_from(B, (uint64_t)n * H * row * 4, "mla B"),
                      *bt = gpu_buffer_from(tok, (uint64_t)n * 8, "mla tokens");
    struct vkg_view vbv = vkg_buffer_view(bb), vav = vkg_buffer_view(ba);
    struct vkg_kv_mla g = { .k = vbv,
                            .k_ts = H * row,
                            .k_hs = row,
                            .k_split = nope,
                            .v = vkg_view_sub(vbv, nope * 4, vbv.size - nope * 4),
                            .v_ts = H * row,
                            .v_hs = row,
                            .k2 = vkg_view_sub(vav, lat * 4, vav.size - lat * 4),
                            .k2_ts = ra };
    struct vkg_buffer *bq = gpu_buffer_from(q, (uint64_t)n * H * dk * 4, "mla q"),
                      *bf = gpu_buffer_from(freq, 8, "mla freq");
    struct vkg_kv_rope rp = { .q = vkg_buffer_view(bq),
                              .inv_freq = vkg_buffer_view(bf),
                              .n_heads = H,
                              .rot_dim = rope,
                              .dim_off = nope,
                              .interleaved = 1,
                              .attn_factor = 1.1f };
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_kv_append_mla(c, kv, 0, &g, vkg_buffer_view(bt), n, rope_on ? &rp : NULL));
    assert_ran_tx(c, what, g_dev->use.texel); /* every row, stride and offset here is on whole texels */
    GPU_OK(vkg_cmd_submit_wait(c));
    g.k_hs = nope - 1; /* rows overlapping their neighbours */
    GPU_OK(vkg_cmd_begin(c));
    assert_int_equal(vkg_op_kv_append_mla(c, kv, 0, &g, vkg_buffer_view(bt), n, NULL), VKG_ERR_INVALID_ARG);
    vkg_cmd_free(c);
    gpu_read(kv->k[0], got_k, kb);
    gpu_read(kv->v[0], got_v, vb);
    gpu_read(bq, qgot, (uint64_t)n * H * dk * 4);
    if (memcmp(got_v, want_v, vb)) fail_msg("%s: V pages differ from the plain append", what);
    if (!rope_on) {
        if (memcmp(got_k, want_k, kb)) fail_msg("%s: K pages differ from the plain append", what);
        assert_memory_equal(qgot, q, (size_t)n * H * dk * 4); /* q untouched */
    } else {
        char msg[96];
        snprintf(msg, sizeof msg, "%s: K pages", what);
        if (f16) { /* one f16 step apart at most (f32 rotation against double) */
            uint64_t nv = kb / 2;
            float *x = malloc(nv * 4), *y = malloc(nv * 4);
            for (uint64_t e = 0; e < nv; e++) {
                x[e] = ref_f16_to_f32(((uint16_t *)got_k)[e]);
                y[e] = ref_f16_to_f32(((uint16_t *)want_k)[e]);
            }
            assert_close_f32(msg, x, y, nv, 0, 1.0f / 1024);
            free(x), free(y);
        } else assert_close_f32(msg, (float *)got_k, (float *)want_k, kb / 4, 1e-6f, 1e-5f);
        ref_rope(q, pos, freq, n, H, dk, rope, nope, 1, 1.1f);
        snprintf(msg, sizeof msg, "%s: q", what);
        assert_close_f32(msg, qgot, q, (size_t)n * H * dk, 1e-6f, 1e-5f);
    }
    vkg_buffer_free(bq), vkg_buffer_free(bf);
    free(q), free(qgot);
    free(A), free(B), free(k), free(v), free(sent);
    free(want_k), free(want_v), free(got_k), free(got_v);
    vkg_buffer_free(ba), vkg_buffer_free(bb), vkg_buffer_free(bt);
    vkg_kv_free(kv);
    gpu_assert_no_validation();
}

static void test_append_mla(void **state)
{
    append_mla_case(0, 0, "mla, f32 pages");
    append_mla_case(1, 0, "mla, f16 pages");
    append_mla_case(0, 1, "mla + rope, f32 pages");
    append_mla_case(1, 1, "mla + rope, f16 pages");
}

/* Bad shapes fail with a message naming the problem, never crash. */
static void test_errors(void **state)
{
    struct vkg_kv_config cf = { 1, 2, 64, 64, 16, 4, 2, 64 };
    struct vkg_kv_cache *kv;
    GPU_OK(vkg_kv_create(g_dev, &cf, &kv));
    uint32_t s;
    uint64_t pos0;
    GPU_OK(vkg_kv_seq_add(kv, &s));
    assert_int_equal(vkg_kv_reserve(kv, s, 65, &pos0), VKG_ERR_LIMIT); /* > max_seq_len */
    GPU_OK(vkg_kv_reserve(kv, s, 64, &pos0));                          /* all 4 pages */
    uint32_t s2;
    GPU_OK(vkg_kv_seq_add(kv, &s2));
    assert_int_equal(vkg_kv_reserve(kv, s2, 1, &pos0), VKG_ERR_LIMIT); /* out of pages */
    assert_int_equal(vkg_kv_seq_free(kv, 7), VKG_ERR_INVALID_ARG);
    struct vkg_attn_params ap = { .n_heads = 3, .scale = 1 };
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    struct vkg_view none = { 0 };
    assert_int_equal(vkg_op_attention(c, kv, 0, none, none, none, none, 1, &ap), VKG_ERR_INVALID_ARG);
    assert_non_null(strstr(vkg_error_detail(), "3 query heads"));
    vkg_cmd_free(c);
    /* bad token records on the device: unknown sequence / unreserved position */
    int32_t bad[4] = { 7, 3, (int32_t)s2, 0 };
    float ones[2 * 2 * 64], got[2 * 2 * 64];
    for (int i = 0; i < 2 * 2 * 64; i++) ones[i] = 1;
    uint64_t pool = kv->k[0]->size;
    uint8_t *before = malloc(pool), *after = malloc(pool);
    gpu_read(kv->k[0], before, pool);
    gpu_append(kv, bad, ones, ones, 2); /* must drop both (s2 has no reserved position) */
    gpu_read(kv->k[0], after, pool);
    assert_memory_equal(before, after, pool); /* no page (s's page 0 above all) was written */
    free(before);
    free(after);
    ap.n_heads = 2;
    gpu_attention(kv, &ap, bad, ones, 2, got);
    for (int i = 0; i < 2 * 2 * 64; i++) assert_true(got[i] == 0); /* nothing visible */
    vkg_kv_free(kv);
    struct vkg_kv_config big = { 1, 8, 128, 128, 32, 1u << 16, 2, 64 };
    assert_int_equal(vkg_kv_create(g_dev, &big, &kv), VKG_ERR_LIMIT); /* pool > one binding */
    assert_non_null(strstr(vkg_error_detail(), "maxStorageBufferRange"));
    gpu_assert_no_validation();
}

static int setup_tier(void **state, int texel, int lane)
{
    int r = gpu_setup(state);
    if (r) return r;
    g_dev->use.texel = texel;
    g_dev->use.attn_lane = lane && g_dev->use.lane_ok;
    if (lane && !g_dev->use.lane_ok) printf("attn_lane: the device lacks subgroups of >= 8 with ballot; tiled run\n");
    return 0;
}
static int setup_lane(void **state) { return setup_tier(state, 1, 1); }
static int setup_texel(void **state) { return setup_tier(state, 1, 0); }
static int setup_storage(void **state) { return setup_tier(state, 0, 0); }

int main(int argc, char **argv)
{
    if (argc > 1) cmocka_set_test_filter(argv[1]); /* one test (a glob) under every tier, for work on it */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefill_gqa),
        cmocka_unit_test(test_decode_gqa),
        cmocka_unit_test(test_mla_dk_ne_dv),
        cmocka_unit_test(test_mla_latent),
        cmocka_unit_test(test_v_in_k),
        cmocka_unit_test(test_softcap_window),
        cmocka_unit_test(test_decode_split_k),
        cmocka_unit_test(test_shared_prefix),
        cmocka_unit_test(test_cascade_long_prefix),
        cmocka_unit_test(test_prefix_block_prefill),
        cmocka_unit_test(test_f16_pages),
        cmocka_unit_test(test_lane_head_groups),
        cmocka_unit_test(test_beyond_binding),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_append_rope),
        cmocka_unit_test(test_append_mla),
    };
    /* every case under each attention tier the launchers pick from: attn_lane
       (texel K/V, CPU drivers' default), the tiled kernels over texel K/V (*_tx),
       and the tiled kernels over storage buffers (GPUs' default) */
    int fails = cmocka_run_group_tests_name("attn_lane", tests, setup_lane, gpu_teardown);
    fails += cmocka_run_group_tests_name("tiled, texel K/V", tests, setup_texel, gpu_teardown);
    fails += cmocka_run_group_tests_name("tiled, storage buffers", tests, setup_storage, gpu_teardown);
    return fails;
}
