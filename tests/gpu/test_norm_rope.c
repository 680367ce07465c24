/* test_norm_rope — RoPE. (1) runtime/rope.c's inverse-frequency tables and
 * attention factors against transformers' ROPE_INIT_FUNCTIONS, whose output
 * tests/reference/rope_reference.py committed as rope_reference.json
 * (default, linear, dynamic NTK, llama3, yarn incl. DeepSeek mscale / mscale_all_dim):
 * float32 steps as in torch, so within 2 ulp (rtol 2.5e-7). (2) the GPU
 * kernel against ref_rope (rotate_half NeoX pairs, GPT-J interleaved pairs,
 * partial rotary, a rope slice at a dim offset, token strides of a fused qkv
 * buffer, positions up to 163,839, a q tensor beyond one binding): |got - want| <= 1e-6 + 1e-5 |want|. */
#include "common_gpu.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_rope.h"
#include "ref_norm.h"
#include "rope.h"

#define ATOL 1e-6f
#define RTOL 1e-5f

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) fail_msg("cannot read %s", path);
    s[n] = 0;
    fclose(f);
    return s;
}

static double num(const cJSON *o, const char *k) { return cJSON_GetObjectItem(o, k)->valuedouble; }

static void check_table(const cJSON *c)
{
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring, *type = cJSON_GetObjectItem(c, "type")->valuestring;
    enum vkg_rope_type t = !strcmp(type, "linear")    ? VKG_ROPE_LINEAR
                           : !strcmp(type, "llama3")  ? VKG_ROPE_LLAMA3
                           : !strcmp(type, "dynamic") ? VKG_ROPE_DYNAMIC
                           : !strcmp(type, "yarn")    ? VKG_ROPE_YARN
                                                      : VKG_ROPE_DEFAULT;
    struct vkg_rope_scaling s = {
        .factor = num(c, "factor"),
        .max_position_embeddings = num(c, "max_position_embeddings"),
        .seq_len = num(c, "seq_len"),
        .low_freq_factor = num(c, "low_freq_factor"),
        .high_freq_factor = num(c, "high_freq_factor"),
        .original_max_position_embeddings = num(c, "original_max_position_embeddings"),
        .beta_fast = num(c, "beta_fast"),
        .beta_slow = num(c, "beta_slow"),
        .mscale = num(c, "mscale"),
        .mscale_all_dim = num(c, "mscale_all_dim"),
        .attention_factor = num(c, "attention_factor_in"),
        .no_truncate = !cJSON_IsTrue(cJSON_GetObjectItem(c, "truncate")),
    };
    uint32_t dim = (uint32_t)num(c, "dim");
    const cJSON *want = cJSON_GetObjectItem(c, "inv_freq");
    assert_int_equal(cJSON_GetArraySize(want), dim / 2);
    float *got = malloc(dim / 2 * 4), *w = malloc(dim / 2 * 4), af = 0;
    GPU_OK(vkg_rope_inv_freq(t, dim, num(c, "theta"), &s, got, &af));
    for (uint32_t k = 0; k < dim / 2; k++) w[k] = (float)cJSON_GetArrayItem(want, (int)k)->valuedouble;
    char what[96];
    snprintf(what, sizeof what, "rope table %s (%s, dim %u)", name, type, dim);
    assert_close_f32(what, got, w, dim / 2, 0, 2.5e-7f);
    float waf = (float)num(c, "attention_factor");
    assert_close_f32("attention_factor", &af, &waf, 1, 0, 1e-7f);
    free(got);
    free(w);
}

static void test_rope_tables(void **state)
{
    char *txt = read_file(VKG_SOURCE_DIR "/tests/reference/rope_reference.json");
    cJSON *root = cJSON_Parse(txt);
    assert_non_null(root);
    const cJSON *cases = cJSON_GetObjectItem(root, "cases"), *c;
    assert_true(cJSON_GetArraySize(cases) >= 10);
    cJSON_ArrayForEach(c, cases) check_table(c);
    cJSON_Delete(root);
    free(txt);
    float f[4], af;
    assert_int_equal(vkg_rope_inv_freq(VKG_ROPE_DEFAULT, 7, 10000, NULL, f, &af), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_rope_inv_freq(VKG_ROPE_YARN, 8, 10000, NULL, f, &af), VKG_ERR_INVALID_ARG);
}

/* hf_config's struct vkg_rope -> scaling: a DeepSeek-V3-like yarn config (attention factor derived by
 * hf_config, passed through) and a llama3 one give the tables computed from the scaling directly. */
static void test_rope_from_config(void **state)
{
    struct vkg_rope r = { .type = VKG_ROPE_YARN,
                          .theta = 10000,
                          .partial_rotary_factor = 1,
                          .dim = 64,
                          .factor = 40,
                          .original_max_position_embeddings = 4096,
                          .low_freq_factor = 1,
                          .high_freq_factor = 4,
                          .beta_fast = 32,
                          .beta_slow = 1,
                          .mscale = 0.707,
                          .mscale_all_dim = 1,
                          .attention_factor = 0.9210423553163399,
                          .truncate = true };
    struct vkg_rope_scaling sc,
        direct = { .factor = 40, .original_max_position_embeddings = 4096, .mscale = 0.707, .mscale_all_dim = 1 };
    float a[32], b[32], af_a, af_b;
    vkg_rope_scaling_from_config(&r, 163840, &sc);
    assert_int_equal(sc.type, VKG_ROPE_YARN);
    GPU_OK(vkg_rope_inv_freq(sc.type, 64, r.theta, &sc, a, &af_a));
    GPU_OK(vkg_rope_inv_freq(VKG_ROPE_YARN, 64, 10000, &direct, b, &af_b));
    assert_memory_equal(a, b, sizeof a);
    assert_close_f32("yarn attention factor", &af_a, &af_b, 1, 0, 1e-7f);
    r.type = VKG_ROPE_LLAMA3;
    r.factor = 8;
    r.original_max_position_embeddings = 0; /* falls back to max_pos */
    vkg_rope_scaling_from_config(&r, 8192, &sc);
    struct vkg_rope_scaling l3 = {
        .factor = 8, .low_freq_factor = 1, .high_freq_factor = 4, .original_max_position_embeddings = 8192
    };
    GPU_OK(vkg_rope_inv_freq(sc.type, 64, 500000, &sc, a, &af_a));
    GPU_OK(vkg_rope_inv_freq(VKG_ROPE_LLAMA3, 64, 500000, &l3, b, &af_b));
    assert_memory_equal(a, b, sizeof a);
    assert_true(af_a == 1.0f);
}

/* One GPU case on x[tokens][tok_stride]: heads start at head0 (elements) in a token. */
struct rope_case {
    const char *what;
    uint64_t tokens;
    uint32_t n_heads, head_dim, tok_stride, head0, rot_dim, dim_off;
    int interleaved;
    enum vkg_rope_type type;
    struct vkg_rope_scaling s;
    double theta;
    int32_t max_pos;
};

static void rope_case(const struct rope_case *rc, uint64_t *seed)
{
    uint64_t m = rc->tokens * rc->tok_stride;
    float *x = malloc(m * 4), *want = malloc(m * 4), *got = malloc(m * 4), *inv = malloc(rc->rot_dim / 2 * 4), af;
    int32_t *pos = malloc(rc->tokens * 4);
    rng_fill_f32(seed, x, m, -2, 2);
    for (uint64_t t = 0; t < rc->tokens; t++) pos[t] = (int32_t)(rng_next(seed) % (uint64_t)rc->max_pos);
    pos[0] = 0;
    pos[rc->tokens - 1] = rc->max_pos - 1;
    GPU_OK(vkg_rope_inv_freq(rc->type, rc->rot_dim, rc->theta, &rc->s, inv, &af));
    memcpy(want, x, m * 4);
    for (uint64_t t = 0; t < rc->tokens; t++)
        ref_rope(want + t * rc->tok_stride + rc->head0, pos + t, inv, 1, rc->n_heads, rc->head_dim, rc->rot_dim,
                 rc->dim_off, rc->interleaved, af);
    struct vkg_buffer *bx = gpu_buffer_from(x, m * 4, "qkv"), *bp = gpu_buffer_from(pos, rc->tokens * 4, "positions");
    struct vkg_buffer *bf = gpu_buffer_from(inv, rc->rot_dim / 2 * 4, "inv_freq");
    struct vkg_rope_args a = { .x = vkg_view_sub(vkg_buffer_view(bx), rc->head0 * 4ull, (m - rc->head0) * 4),
                               .pos = vkg_buffer_view(bp),
                               .inv_freq = vkg_buffer_view(bf),
                               .tokens = rc->tokens,
                               .n_heads = rc->n_heads,
                               .head_stride = rc->head_dim,
                               .tok_stride = rc->tok_stride,
                               .rot_dim = rc->rot_dim,
                               .dim_off = rc->dim_off,
                               .interleaved = rc->interleaved,
                               .attn_factor = af };
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_rope(c, &a));
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    gpu_assert_no_validation();
    gpu_read(bx, got, m * 4);
    assert_close_f32(rc->what, got, want, m, ATOL, RTOL);
    vkg_buffer_free(bx);
    vkg_buffer_free(bp);
    vkg_buffer_free(bf);
    free(x);
    free(want);
    free(got);
    free(inv);
    free(pos);
}

static void test_rope_kernel(void **state)
{
    const struct vkg_rope_scaling llama31 = {
        .factor = 8, .low_freq_factor = 1, .high_freq_factor = 4, .original_max_position_embeddings = 8192
    };
    const struct vkg_rope_scaling ds = {
        .factor = 40, .mscale = 0.707, .mscale_all_dim = 1, .original_max_position_embeddings = 4096
    };
    const struct vkg_rope_scaling yarn = { .factor = 4, .original_max_position_embeddings = 32768 };
    const struct rope_case cases[] = {
        { "neox 7 tokens x 3 heads x 80", 7, 3, 80, 240, 0, 80, 0, 0, VKG_ROPE_DEFAULT, { 0 }, 10000, 4096 },
        { "neox 1 token", 1, 1, 64, 64, 0, 64, 0, 0, VKG_ROPE_DEFAULT, { 0 }, 10000, 1 },
        { "llama3.1 512 x 32 x 128, pos < 131072", 512, 32, 128, 4096, 0, 128, 0, 0, VKG_ROPE_LLAMA3, llama31, 500000,
          131072 },
        { "partial rotary 32 of 128", 9, 4, 128, 512, 0, 32, 0, 0, VKG_ROPE_DEFAULT, { 0 }, 1000000, 40000 },
        { "k heads of a fused qkv (tok stride, offset)", 6, 2, 64, (4 + 2 * 2) * 64, 4 * 64, 64, 0, 0, VKG_ROPE_YARN,
          yarn, 1000000, 100000 },
        { "GPT-J interleaved", 5, 3, 64, 192, 0, 64, 0, 1, VKG_ROPE_DEFAULT, { 0 }, 10000, 2048 },
        { "DeepSeek q: rope slice at 128 of 192, interleaved, yarn mscale", 11, 4, 192, 768, 0, 64, 128, 1,
          VKG_ROPE_YARN, ds, 10000, 163840 },
        { "beyond one binding: 8200 x 32 x 128 (128.1 MiB)",
          8200,
          32,
          128,
          4096,
          0,
          128,
          0,
          0,
          VKG_ROPE_DEFAULT,
          { 0 },
          1000000,
          32768 },
        { "DeepSeek k_pe: one shared head of 64", 11, 1, 64, 576, 512, 64, 0, 1, VKG_ROPE_YARN, ds, 10000, 163840 },
    };
    uint64_t seed = 0x40e;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) rope_case(&cases[k], &seed);
}

static void test_rope_errors(void **state)
{
    struct vkg_buffer *b = gpu_buffer_from(NULL, 4096, "q");
    struct vkg_view v = vkg_buffer_view(b);
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    struct vkg_rope_args a = { .x = v,
                               .pos = v,
                               .inv_freq = v,
                               .tokens = 4,
                               .n_heads = 2,
                               .head_stride = 64,
                               .tok_stride = 128,
                               .rot_dim = 63,
                               .attn_factor = 1 };
    assert_int_equal(vkg_op_rope(c, &a), VKG_ERR_INVALID_ARG); /* odd rot_dim */
    a.rot_dim = 64;
    a.dim_off = 8;
    assert_int_equal(vkg_op_rope(c, &a), VKG_ERR_INVALID_ARG); /* slice leaves the head */
    a.dim_off = 0;
    a.tokens = 100;
    assert_int_equal(vkg_op_rope(c, &a), VKG_ERR_INVALID_ARG); /* view too small */
    assert_non_null(strstr(vkg_error_detail(), "'q'"));
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    vkg_buffer_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rope_tables),
        cmocka_unit_test(test_rope_from_config),
        cmocka_unit_test(test_rope_kernel),
        cmocka_unit_test(test_rope_errors),
    };
    return cmocka_run_group_tests(tests, gpu_setup, gpu_teardown);
}
