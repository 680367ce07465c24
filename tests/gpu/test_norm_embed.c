/* test_norm_embed — embedding lookup on the GPU vs the plain-C reference for
 * F32 / F16 / BF16 / Q8_0 / Q4 tables and ggml's Q4_1 ... Q6_K: odd row lengths, out-of-range ids
 * (-1, vocab, INT32_MAX, INT32_MIN give zero rows), and tables larger than
 * one binding (maxStorageBufferRange, 128 MiB on lavapipe): 150,000 x 512
 * F32 (293 MiB) and 151,936 x 512 F16 (148 MiB). Tolerance: exact — the
 * shader decodes exactly and applies one f32 multiply, as the reference.
 * Tied heads on CPU drivers: F32 / F16 / BF16 tables stored in 8-row tiles, and every block type's in
 * tiles of 256-value units (a GGUF file's tied head, use.tiled_blocks; ref_tile_rows, the layout's
 * definition; Q6_K's split tile columns, ref_tile_q6k), give the same rows, with a partial last tile and in windows of whole tiles under a
 * small binding range. */
#include "common_gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_norm.h"
#include "ref_dtype.h"
#include "ref_ggml_quants.h"
#include "ref_matmul.h"
#include "ref_norm.h"

/* A random table in dtype t plus its exact F32 decoding. */
struct table {
    void *data; /* [vocab] rows in the dtype */
    float *f32; /* [vocab][dim] decoded */
    uint64_t bytes, row_bytes;
};

static void make_table(struct table *tb, enum vkg_dtype t, uint64_t vocab, uint32_t dim, uint64_t *seed)
{
    GPU_OK(vkg_dtype_bytes(t, dim, &tb->row_bytes));
    tb->bytes = vocab * tb->row_bytes;
    tb->data = malloc(tb->bytes);
    tb->f32 = malloc(vocab * dim * 4);
    float *row = malloc(dim * 4);
    for (uint64_t r = 0; r < vocab; r++) {
        if (t != VKG_DTYPE_F16 && t != VKG_DTYPE_BF16) rng_fill_f32(seed, row, dim, -1, 1);
        uint8_t *dst = (uint8_t *)tb->data + r * tb->row_bytes;
        float *f = tb->f32 + r * dim;
        for (uint32_t j = 0; j < dim; j++) {
            if (t == VKG_DTYPE_F32) {
                memcpy(dst + 4 * j, &row[j], 4);
                f[j] = row[j];
            }
            if (t == VKG_DTYPE_F16 || t == VKG_DTYPE_BF16) { /* random finite patterns (no slow encode) */
                uint16_t h = (uint16_t)rng_next(seed);
                if (t == VKG_DTYPE_F16 && ((h >> 10) & 31) == 31) h ^= 0x4000; /* inf/NaN -> finite */
                if (t == VKG_DTYPE_BF16 && ((h >> 7) & 255) == 255) h ^= 0x4000;
                memcpy(dst + 2 * j, &h, 2);
                f[j] = t == VKG_DTYPE_F16 ? ref_f16_to_f32(h) : ref_bf16_to_f32(h);
            }
        }
        if (t == VKG_DTYPE_Q8_0) {
            ref_quant_q8_0(row, dst, dim);
            ref_dequant_q8_0(dst, f, dim);
        }
        if (t == VKG_DTYPE_Q4) {
            ref_quant_q4(row, dst, dim);
            ref_dequant_q4(dst, f, dim);
        }
        if (vkg_dtype_block_size(t) > 1 && t != VKG_DTYPE_Q8_0 && t != VKG_DTYPE_Q4) { /* ggml's types */
            rng_fill_ggml_blocks(seed, t, dst, tb->row_bytes);
            ref_ggml_dequantize(t, dst, dim, f);
        }
    }
    free(row);
}

/* Looks up ids in a table at a byte offset inside its buffer; out starts pre-filled with NaN. */
static void embed_case_ex(enum vkg_dtype t, uint64_t vocab, uint32_t dim, const int32_t *ids, uint64_t n, float scale,
                          uint64_t table_off, uint64_t *seed, int tiled)
{
    struct table tb;
    make_table(&tb, t, vocab, dim, seed);
    if (tiled) { /* the same table in 8-row tiles: floats in 16-byte groups, blocks in 256-value units */
        uint32_t es = t == VKG_DTYPE_F32 ? 4 : 2;
        void *tl = malloc(tb.bytes);
        if (t == VKG_DTYPE_Q6_K) /* split tile columns */
            ref_tile_q6k(tl, tb.data, (uint32_t)vocab, dim / 256);
        else if (vkg_dtype_is_block(t))
            ref_tile_rows(tl, tb.data, (uint32_t)vocab, tb.row_bytes, 1, (uint32_t)(tb.row_bytes / (dim / 256)));
        else ref_tile_rows(tl, tb.data, (uint32_t)vocab, dim, es, 16 / es);
        free(tb.data);
        tb.data = tl;
    }
    float *got = malloc(n * dim * 4), *want = malloc(n * dim * 4);
    for (uint64_t i = 0; i < n * dim; i++) got[i] = NAN; /* rows of bad ids must be written (zeros) */
    struct vkg_buffer *bt = gpu_buffer_from(NULL, tb.bytes + table_off, "embed_tokens.weight");
    GPU_OK(vkg_buffer_upload(g_dev, vkg_view_sub(vkg_buffer_view(bt), table_off, tb.bytes), tb.data, tb.bytes));
    struct vkg_buffer *bi = gpu_buffer_from(ids, n * 4, "ids"), *bo = gpu_buffer_from(got, n * dim * 4, "hidden");
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_embed_ex(c, vkg_view_sub(vkg_buffer_view(bt), table_off, tb.bytes), t, vocab, dim,
                           vkg_buffer_view(bi), n, scale, vkg_buffer_view(bo), tiled));
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    gpu_assert_no_validation();
    gpu_read(bo, got, n * dim * 4);
    ref_embed(tb.f32, vocab, dim, ids, n, scale, want);
    char what[96];
    snprintf(what, sizeof what, "embed %s vocab=%llu dim=%u tokens=%llu scale=%g%s", vkg_dtype_name(t),
             (unsigned long long)vocab, dim, (unsigned long long)n, scale, tiled ? " tiled" : "");
    assert_close_f32(what, got, want, n * dim, 0, 0);
    vkg_buffer_free(bt);
    vkg_buffer_free(bi);
    vkg_buffer_free(bo);
    free(tb.data);
    free(tb.f32);
    free(got);
    free(want);
}

static void embed_case(enum vkg_dtype t, uint64_t vocab, uint32_t dim, const int32_t *ids, uint64_t n, float scale,
                       uint64_t table_off, uint64_t *seed)
{
    embed_case_ex(t, vocab, dim, ids, n, scale, table_off, seed, 0);
}

/* n ids: random rows, the first and last row, and out-of-range ids. */
static int32_t *make_ids(uint64_t n, uint64_t vocab, uint64_t *seed)
{
    int32_t *ids = malloc(n * 4);
    for (uint64_t i = 0; i < n; i++) ids[i] = (int32_t)(rng_next(seed) % vocab);
    static const int32_t bad[] = { -1, INT32_MIN, INT32_MAX };
    if (n > 0) ids[0] = (int32_t)vocab - 1;
    if (n > 1) ids[1] = 0;
    if (n > 2) ids[2] = (int32_t)vocab; /* one past the end */
    for (uint64_t i = 3; i < n && i < 6; i++) ids[i] = bad[i - 3];
    return ids;
}

static void test_embed_small(void **state)
{
    static const enum vkg_dtype types[] = { VKG_DTYPE_F32, VKG_DTYPE_F16, VKG_DTYPE_BF16, VKG_DTYPE_Q8_0,
                                            VKG_DTYPE_Q4 };
    static const struct {
        uint64_t vocab;
        uint32_t dim;
        uint64_t n;
    } shapes[] = {
        { 1, 32, 1 }, { 1000, 64, 7 }, { 333, 96, 300 }, { 50, 2048, 9 }, { 4099, 160, 257 },
    };
    uint64_t seed = 0xe3b;
    for (size_t t = 0; t < 5; t++)
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
            int32_t *ids = make_ids(shapes[k].n, shapes[k].vocab, &seed);
            float scale = k % 2 ? sqrtf((float)shapes[k].dim) : 1.0f; /* Gemma: * sqrt(hidden) */
            embed_case(types[t], shapes[k].vocab, shapes[k].dim, ids, shapes[k].n, scale, 4 * (k % 3), &seed);
            free(ids);
        }
    /* 16-bit and F32 rows of odd length (not a multiple of 32 or of the workgroup) */
    for (size_t t = 0; t < 3; t++) {
        int32_t *ids = make_ids(11, 77, &seed);
        embed_case(types[t], 77, 77, ids, 11, 1.0f, t == 0 ? 4 : 2, &seed);
        free(ids);
    }
    /* quantized tables at an odd byte offset (blocks are not word-aligned) */
    int32_t *ids = make_ids(5, 40, &seed);
    embed_case(VKG_DTYPE_Q8_0, 40, 64, ids, 5, 1.0f, 3, &seed);
    embed_case(VKG_DTYPE_Q4, 40, 64, ids, 5, 1.0f, 1, &seed);
    free(ids);
}

/* ggml's block types (random blocks, random f16 scales of both signs): the
 * kernel's values are bit-identical to ggml's dequantization, so exact. Row
 * lengths of 1, 3 and 9 blocks, tables 2 bytes into a word, Gemma scale. */
static void test_embed_ggml(void **state)
{
    static const enum vkg_dtype types[] = { VKG_DTYPE_Q4_1, VKG_DTYPE_Q5_0, VKG_DTYPE_Q5_1,
                                            VKG_DTYPE_Q4_K, VKG_DTYPE_Q5_K, VKG_DTYPE_Q6_K };
    uint64_t seed = 0x991;
    for (size_t t = 0; t < 6; t++)
        for (uint32_t nb = 1; nb <= 9; nb *= 3) {
            uint32_t dim = nb * vkg_dtype_block_size(types[t]);
            int32_t *ids = make_ids(40, 300, &seed);
            embed_case(types[t], 300, dim, ids, 40, nb == 3 ? sqrtf((float)dim) : 1.0f, nb == 9 ? 2 : 0, &seed);
            free(ids);
        }
}

/* Tables beyond one binding: the launcher binds windows of rows. */
static void test_embed_big(void **state)
{
    uint64_t seed = 0xb16;
    uint64_t n = 300;
    int32_t *ids = make_ids(n, 150000, &seed);
    ids[6] = 65535; /* ids 6..10: near window edges */
    ids[7] = 65536;
    ids[8] = 65537;
    ids[9] = 131071;
    ids[10] = 131072;
    embed_case(VKG_DTYPE_F32, 150000, 512, ids, n, 1.0f, 0, &seed);
    free(ids);
    ids = make_ids(n, 151936, &seed);
    ids[6] = 131071;
    ids[7] = 131072;
    ids[8] = 151935;
    embed_case(VKG_DTYPE_F16, 151936, 512, ids, n, 22.627417f, 2, &seed);
    free(ids);
}

/* Tiled tables (a tied head on CPU drivers): 203 rows (25 tiles and one of 3), 1000 x 136, the
 * last row and ids around tile edges; then a 40 KiB binding range, so the 203 x 136 tables bind in
 * windows of whole tiles. */
static uint64_t g_saved_range;

static void test_embed_tiled(void **state)
{
    (void)state;
    static const enum vkg_dtype types[] = { VKG_DTYPE_F32, VKG_DTYPE_F16, VKG_DTYPE_BF16 };
    uint64_t seed = 0x71e;
    for (size_t t = 0; t < 3; t++) {
        int32_t *ids = make_ids(40, 203, &seed);
        ids[6] = 7, ids[7] = 8, ids[8] = 199, ids[9] = 200, ids[10] = 202;
        embed_case_ex(types[t], 203, 136, ids, 40, t == 1 ? 3.0f : 1.0f, 4 * t, &seed, 1);
        free(ids);
        ids = make_ids(9, 1000, &seed);
        embed_case_ex(types[t], 1000, 136, ids, 9, 1.0f, 0, &seed, 1);
        free(ids);
    }
    /* a GGUF file's block-type table tied to the head (use.tiled_blocks): units of one K-quant block or 8
     * blocks of 32 values, rows of 2 and 3 units */
    static const enum vkg_dtype blocks[] = { VKG_DTYPE_Q8_0, VKG_DTYPE_Q4,   VKG_DTYPE_Q4_1, VKG_DTYPE_Q5_0,
                                             VKG_DTYPE_Q5_1, VKG_DTYPE_Q4_K, VKG_DTYPE_Q5_K, VKG_DTYPE_Q6_K };
    for (size_t t = 0; t < sizeof blocks / sizeof blocks[0]; t++) {
        uint32_t vocab = blocks[t] == VKG_DTYPE_Q6_K ? 200 : 203; /* a tiled Q6_K holds whole tiles */
        int32_t *ids = make_ids(40, vocab, &seed);
        ids[6] = 7, ids[7] = 8, ids[8] = 199, ids[9] = (int32_t)vocab - 3, ids[10] = (int32_t)vocab - 1;
        embed_case_ex(blocks[t], vocab, t % 2 ? 768 : 512, ids, 40, t == 5 ? 3.0f : 1.0f, 2, &seed, 1);
        free(ids);
    }
    g_saved_range = g_dev->info.max_storage_buffer_range;
    g_dev->info.max_storage_buffer_range = 40 << 10;
    for (size_t t = 1; t < 3; t++) { /* 272-byte rows: 150 per window, cut to 144 */
        int32_t *ids = make_ids(40, 203, &seed);
        ids[6] = 143, ids[7] = 144, ids[8] = 202;
        embed_case_ex(types[t], 203, 136, ids, 40, 1.0f, 0, &seed, 1);
        free(ids);
    }
    /* Q6_K rows of 3 blocks (630 bytes): 65 per window, cut to 64; Q4 rows of 2 units (288 bytes): 142, cut
     * to 136 */
    int32_t *ids = make_ids(40, 200, &seed);
    ids[6] = 63, ids[7] = 64, ids[8] = 135, ids[9] = 136, ids[10] = 199;
    embed_case_ex(VKG_DTYPE_Q6_K, 200, 768, ids, 40, 1.0f, 0, &seed, 1);
    embed_case_ex(VKG_DTYPE_Q4, 200, 512, ids, 40, 1.0f, 0, &seed, 1);
    free(ids);
}

static int restore_range(void **state)
{
    (void)state;
    if (g_saved_range) g_dev->info.max_storage_buffer_range = g_saved_range;
    return 0;
}

static void test_embed_errors(void **state)
{
    struct vkg_buffer *b = gpu_buffer_from(NULL, 4096, "tiny table");
    struct vkg_view v = vkg_buffer_view(b);
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    assert_int_equal(vkg_op_embed(c, v, VKG_DTYPE_I8, 10, 16, v, 1, 1, v), VKG_ERR_UNSUPPORTED);
    assert_int_equal(vkg_op_embed(c, v, VKG_DTYPE_Q8_0, 10, 48, v, 1, 1, v), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_op_embed(c, v, VKG_DTYPE_F32, 100, 16, v, 1, 1, v), VKG_ERR_INVALID_ARG);
    assert_non_null(strstr(vkg_error_detail(), "tiny table"));
    assert_int_equal(vkg_op_embed_ex(c, v, VKG_DTYPE_Q8_0, 10, 64, v, 1, 1, v, 1), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_op_embed_ex(c, v, VKG_DTYPE_F32, 10, 12, v, 1, 1, v, 1), VKG_ERR_INVALID_ARG);
    assert_int_equal(vkg_op_embed_ex(c, v, VKG_DTYPE_Q6_K, 10, 256, v, 1, 1, v, 1), VKG_ERR_INVALID_ARG); /* 10 rows */
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    vkg_buffer_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embed_small),  cmocka_unit_test(test_embed_ggml),
        cmocka_unit_test(test_embed_big),    cmocka_unit_test_teardown(test_embed_tiled, restore_range),
        cmocka_unit_test(test_embed_errors),
    };
    return cmocka_run_group_tests(tests, gpu_setup, gpu_teardown);
}
