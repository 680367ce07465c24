/* test_big_buffer — a 300 MiB buffer (beyond lavapipe's 128 MiB
 * maxStorageBufferRange) is uploaded, bound by a shader in windows, copied,
 * converted and read back correctly; fill and copy at awkward sizes. */
#include "common_gpu.h"

#include <stdlib.h>
#include <string.h>

#include "ref_dtype.h"

#define BIG (300ull << 20)

static void test_300mib_round_trip(void **state)
{
    const uint64_t words = BIG / 4;
    uint32_t *host = malloc(BIG), *back = malloc(BIG);
    assert_non_null(host);
    assert_non_null(back);
    uint64_t seed = 42;
    for (uint64_t i = 0; i < words; i++) host[i] = (uint32_t)rng_next(&seed);
    assert_true(BIG > g_dev->info.max_storage_buffer_range || g_dev->info.max_storage_buffer_range > BIG);
    struct vkg_buffer *a = gpu_buffer_from(host, BIG, "big a");
    struct vkg_buffer *b = gpu_buffer_from(NULL, BIG, "big b");
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    /* shader copy across the whole buffer: split into binding windows */
    GPU_OK(vkg_op_copy(c, vkg_buffer_view(a), vkg_buffer_view(b), BIG));
    GPU_OK(vkg_cmd_submit_wait(c));
    memset(back, 0, BIG);
    gpu_read(b, back, BIG);
    for (uint64_t i = 0; i < words; i++)
        if (back[i] != host[i])
            fail_msg("300 MiB copy: word %llu got 0x%08x want 0x%08x", (unsigned long long)i, back[i], host[i]);
    /* the tail beyond the first 256 MiB converted as f16 pairs: windows start mid-buffer */
    const uint64_t n = 20u << 20, first = (BIG - n * 2) / 2 - 1; /* odd element offset */
    struct vkg_buffer *f = gpu_buffer_from(NULL, n * 4, "big f32");
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_convert(c, vkg_view_sub(vkg_buffer_view(a), first * 2, n * 2), VKG_DTYPE_F16, vkg_buffer_view(f),
                          VKG_DTYPE_F32, n));
    GPU_OK(vkg_cmd_submit_wait(c));
    float *got = malloc(n * 4), *want = malloc(n * 4);
    gpu_read(f, got, n * 4);
    const uint16_t *h = (const uint16_t *)host;
    for (uint64_t i = 0; i < n; i++) want[i] = ref_f16_to_f32(h[first + i]);
    assert_close_f32("f16 tail of the 300 MiB buffer", got, want, n, 0, 0);
    free(got);
    free(want);
    free(host);
    free(back);
    vkg_cmd_free(c);
    vkg_buffer_free(a);
    vkg_buffer_free(b);
    vkg_buffer_free(f);
    gpu_assert_no_validation();
}

static void test_fill_and_copy_sizes(void **state)
{
    static const uint64_t words[] = { 1, 7, 255, 256, 257, 4097, 100003 };
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++) {
        uint64_t n = words[k], total = n + 8;
        uint32_t *ref = malloc(total * 4), *got = malloc(total * 4);
        for (uint64_t i = 0; i < total; i++) ref[i] = 0x11110000u + (uint32_t)i;
        struct vkg_buffer *b = gpu_buffer_from(ref, total * 4, "fill dst");
        struct vkg_buffer *d = gpu_buffer_from(NULL, total * 4, "copy dst");
        struct vkg_cmd *c;
        GPU_OK(vkg_cmd_create(g_dev, &c));
        GPU_OK(vkg_cmd_begin(c));
        GPU_OK(vkg_op_fill(c, vkg_view_sub(vkg_buffer_view(d), 0, total * 4), 0xdeadbeefu));
        GPU_OK(vkg_op_fill(c, vkg_view_sub(vkg_buffer_view(b), 12, n * 4), 0x5a5a5a5au)); /* words 3..3+n */
        vkg_cmd_barrier(c);
        GPU_OK(vkg_op_copy(c, vkg_view_sub(vkg_buffer_view(b), 4, n * 4), vkg_view_sub(vkg_buffer_view(d), 8, n * 4),
                           n * 4));
        GPU_OK(vkg_cmd_submit_wait(c));
        for (uint64_t i = 3; i < 3 + n; i++) ref[i] = 0x5a5a5a5au;
        gpu_read(b, got, total * 4);
        for (uint64_t i = 0; i < total; i++)
            if (got[i] != ref[i])
                fail_msg("fill n=%llu: word %llu got 0x%08x want 0x%08x", (unsigned long long)n, (unsigned long long)i,
                         got[i], ref[i]);
        gpu_read(d, got, total * 4);
        for (uint64_t i = 0; i < total; i++) {
            uint32_t want = (i >= 2 && i < 2 + n) ? ref[i - 1] : 0xdeadbeefu;
            if (got[i] != want)
                fail_msg("copy n=%llu: word %llu got 0x%08x want 0x%08x", (unsigned long long)n, (unsigned long long)i,
                         got[i], want);
        }
        vkg_cmd_free(c);
        vkg_buffer_free(b);
        vkg_buffer_free(d);
        free(ref);
        free(got);
    }
    gpu_assert_no_validation();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_and_copy_sizes),
        cmocka_unit_test(test_300mib_round_trip),
    };
    return cmocka_run_group_tests(tests, gpu_setup, gpu_teardown);
}
