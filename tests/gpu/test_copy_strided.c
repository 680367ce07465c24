/* test_copy_strided — vkg_op_copy_strided against ref_copy_strided (plain
 * loops) on random 32-bit words, NaN bit patterns included: the copy must
 * be bit-exact and leave every other destination word as it was. Shapes:
 * 2-D and 3-D blocks, broadcast (source stride 0), counts that are not
 * multiples of the workgroup (256), views at offsets that are not binding
 * aligned, the three DeepSeek-V2 MLA copies, and sources / destinations
 * beyond one 128 MiB binding (windows by rows and by blocks). */
#include "common_gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_convert.h"
#include "ref_copy.h"

struct cs_case {
    uint32_t cols, rows, blocks;
    uint64_t src_row, src_block, dst_row, dst_block;
    uint64_t src_at, dst_at; /* element offset of each view inside its buffer */
};

/* Elements a view must hold for the case (the reference's largest index + 1). */
static uint64_t span(uint32_t blocks, uint64_t sb, uint32_t rows, uint64_t sr, uint32_t cols)
{
    return (uint64_t)(blocks - 1) * sb + (uint64_t)(rows - 1) * sr + cols;
}

static void run_case(const char *what, const struct cs_case *k)
{
    uint64_t ns = k->src_at + span(k->blocks, k->src_block, k->rows, k->src_row, k->cols);
    uint64_t nd = k->dst_at + span(k->blocks, k->dst_block, k->rows, k->dst_row, k->cols) + 5; /* + a guard tail */
    uint32_t *src = malloc(ns * 4), *want = malloc(nd * 4), *got = malloc(nd * 4);
    assert_true(src && want && got);
    uint64_t seed = 0x5eed0000u + k->cols * 31u + k->rows;
    for (uint64_t i = 0; i < ns; i++) src[i] = (uint32_t)rng_next(&seed);
    for (uint64_t i = 0; i < ns; i += 97) src[i] = 0x7fc00001u + (uint32_t)(i & 0xff); /* NaN payloads */
    for (uint64_t i = 0; i < nd; i++) want[i] = 0xdead0000u ^ (uint32_t)i;
    struct vkg_buffer *sb = gpu_buffer_from(src, ns * 4, "copy src"), *db = gpu_buffer_from(want, nd * 4, "copy dst");
    ref_copy_strided(src + k->src_at, k->src_row, k->src_block, want + k->dst_at, k->dst_row, k->dst_block, k->cols,
                     k->rows, k->blocks);
    struct vkg_copy_strided_args a = { .src = vkg_view_sub(vkg_buffer_view(sb), k->src_at * 4, (ns - k->src_at) * 4),
                                       .dst = vkg_view_sub(vkg_buffer_view(db), k->dst_at * 4, (nd - k->dst_at) * 4),
                                       .cols = k->cols,
                                       .rows = k->rows,
                                       .blocks = k->blocks,
                                       .src_row = k->src_row,
                                       .src_block = k->src_block,
                                       .dst_row = k->dst_row,
                                       .dst_block = k->dst_block };
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_copy_strided(c, &a));
    GPU_OK(vkg_cmd_submit_wait(c));
    gpu_read(db, got, nd * 4);
    for (uint64_t i = 0; i < nd; i++)
        if (got[i] != want[i])
            fail_msg("%s: word %llu of the destination is 0x%08x, reference 0x%08x", what, (unsigned long long)i,
                     got[i], want[i]);
    vkg_cmd_free(c);
    vkg_buffer_free(sb);
    vkg_buffer_free(db);
    free(src);
    free(want);
    free(got);
    gpu_assert_no_validation();
}

static void test_shapes(void **state)
{
    static const struct cs_case k[] = {
        { 1, 1, 1, 0, 0, 0, 0, 0, 0 },             /* one word */
        { 7, 5, 3, 9, 50, 7, 35, 3, 1 },           /* 3-D, packed destination, odd offsets */
        { 300, 257, 1, 301, 0, 300, 0, 11, 0 },    /* 2-D: 77,100 words, not a multiple of 256 */
        { 33, 4, 17, 0, 40, 33, 140, 0, 5 },       /* broadcast: every block's rows repeat one row */
        { 5, 9, 6, 0, 0, 5, 45, 2, 3 },            /* one source row copied everywhere */
        { 255, 3, 4, 1000, 3100, 256, 800, 1, 2 }, /* gaps between rows in both */
        { 64, 10, 10, 64, 640, 640, 64, 0, 0 },    /* a transpose of blocks and rows */
    };
    char what[64];
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        snprintf(what, sizeof what, "case %zu (%ux%ux%u)", i, k[i].blocks, k[i].rows, k[i].cols);
        run_case(what, &k[i]);
    }
}

/* DeepSeek-V2 MLA with H heads, nope / rope / dv head dims and n tokens
 * (deepseek2.c): kv_b_proj out [n][H][nope + dv] -> k_nope into k
 * [n][H][nope + rope] and v [n][H][dv]; kv_a out [n][lora + rope] -> its
 * rotated k_pe broadcast into the rope slice of every head of k. The three
 * copies together must give the whole k and v. */
static void test_deepseek_mla(void **state)
{
    const uint32_t H = 3, nope = 5, rope = 3, dv = 7, n = 11, lora = 4;
    const uint32_t dk = nope + rope;
    const struct cs_case k_nope = { nope, n * H, 1, nope + dv, 0, dk, 0, 0, 0 };
    const struct cs_case v = { dv, n * H, 1, nope + dv, 0, dv, 0, nope, 0 };
    const struct cs_case k_pe = { rope, H, n, 0, lora + rope, dk, (uint64_t)H * dk, lora, nope };
    run_case("MLA k_nope", &k_nope);
    run_case("MLA v", &v);
    run_case("MLA k_pe broadcast", &k_pe);
    /* and the same three into one k buffer on the device, against the definition of k */
    uint32_t kvb[11 * 3 * 12], kva[11 * 7], kk[11 * 3 * 8], want[11 * 3 * 8];
    uint64_t seed = 77;
    for (size_t i = 0; i < sizeof kvb / 4; i++) kvb[i] = (uint32_t)rng_next(&seed);
    for (size_t i = 0; i < sizeof kva / 4; i++) kva[i] = (uint32_t)rng_next(&seed);
    for (uint32_t t = 0; t < n; t++)
        for (uint32_t h = 0; h < H; h++)
            for (uint32_t i = 0; i < dk; i++)
                want[(t * H + h) * dk + i] =
                    i < nope ? kvb[(t * H + h) * (nope + dv) + i] : kva[t * (lora + rope) + lora + i - nope];
    struct vkg_buffer *bb = gpu_buffer_from(kvb, sizeof kvb, "kv_b out"),
                      *ab = gpu_buffer_from(kva, sizeof kva, "kv_a out");
    struct vkg_buffer *kb = gpu_buffer_from(NULL, sizeof kk, "k");
    struct vkg_copy_strided_args c1 = { .src = vkg_buffer_view(bb),
                                        .dst = vkg_buffer_view(kb),
                                        .cols = nope,
                                        .rows = n * H,
                                        .blocks = 1,
                                        .src_row = nope + dv,
                                        .dst_row = dk };
    struct vkg_copy_strided_args c2 = { .src = vkg_view_sub(vkg_buffer_view(ab), lora * 4, sizeof kva - lora * 4),
                                        .dst = vkg_view_sub(vkg_buffer_view(kb), nope * 4, sizeof kk - nope * 4),
                                        .cols = rope,
                                        .rows = H,
                                        .blocks = n,
                                        .src_row = 0,
                                        .src_block = lora + rope,
                                        .dst_row = dk,
                                        .dst_block = H * dk };
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_copy_strided(c, &c1));
    GPU_OK(vkg_op_copy_strided(c, &c2)); /* disjoint elements of k: no barrier between */
    GPU_OK(vkg_cmd_submit_wait(c));
    gpu_read(kb, kk, sizeof kk);
    assert_memory_equal(kk, want, sizeof kk);
    vkg_cmd_free(c);
    vkg_buffer_free(bb);
    vkg_buffer_free(ab);
    vkg_buffer_free(kb);
    gpu_assert_no_validation();
}

/* Beyond one 128 MiB binding: 36,000 rows of 1,000 from rows of 1,003
 * (144 MB each side: one block, windows of rows), and a 16-row block
 * broadcast 2,200 times into a 141 MB destination (windows of blocks). */
static void test_beyond_binding(void **state)
{
    const struct cs_case rows = { 1000, 36000, 1, 1003, 0, 1000, 0, 1, 3 };
    const struct cs_case blocks = { 1000, 16, 2200, 1000, 0, 1000, 16000, 0, 0 };
    uint64_t r = g_dev->info.max_storage_buffer_range;
    assert_true(span(rows.blocks, rows.src_block, rows.rows, rows.src_row, rows.cols) * 4 > r ||
                r > (1ull << 31)); /* lavapipe: 128 MiB */
    run_case("36000x1000 beyond one binding", &rows);
    run_case("2200 blocks of 16x1000 beyond one binding", &blocks);
}

/* Bad views fail with VKG_ERR_INVALID_ARG naming the buffer; empty shapes record nothing. */
static void test_errors(void **state)
{
    struct vkg_buffer *sb = gpu_buffer_from(NULL, 4096, "small src"), *db = gpu_buffer_from(NULL, 4096, "small dst");
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    struct vkg_copy_strided_args a = { .src = vkg_buffer_view(sb),
                                       .dst = vkg_buffer_view(db),
                                       .cols = 16,
                                       .rows = 16,
                                       .blocks = 4,
                                       .src_row = 16,
                                       .src_block = 300,
                                       .dst_row = 16,
                                       .dst_block = 0 };
    assert_int_equal(vkg_op_copy_strided(c, &a), VKG_ERR_INVALID_ARG); /* (3*300 + 15*16 + 16) * 4 bytes > 4096 */
    assert_non_null(strstr(vkg_error_detail(), "small src"));
    a.src_block = 0;
    a.dst_block = 1024;
    assert_int_equal(vkg_op_copy_strided(c, &a), VKG_ERR_INVALID_ARG);
    assert_non_null(strstr(vkg_error_detail(), "small dst"));
    a.dst_block = 0;
    a.src = vkg_view_sub(vkg_buffer_view(sb), 2, 2048);
    assert_int_equal(vkg_op_copy_strided(c, &a), VKG_ERR_INVALID_ARG); /* not 4-byte aligned */
    a.src = vkg_buffer_view(sb);
    a.src_row = ~0ull;
    assert_int_equal(vkg_op_copy_strided(c, &a), VKG_ERR_INVALID_ARG); /* absurd stride: no overflow */
    a.rows = 0;
    GPU_OK(vkg_op_copy_strided(c, &a)); /* nothing to copy */
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    vkg_buffer_free(sb);
    vkg_buffer_free(db);
    gpu_assert_no_validation();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_deepseek_mla),
        cmocka_unit_test(test_beyond_binding),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, gpu_setup, gpu_teardown);
}
