/* test_device — device choice, reported limits, the validation messenger,
 * error messages that name the object, the pipeline cache and timestamps. */
#include "common_gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline.h"

static void test_info_is_sane(void **state)
{
    const struct vkg_device_info *i = &g_dev->info;
    assert_true(strlen(i->name) > 0);
    assert_true(i->max_storage_buffer_range >= (1u << 27) || i->max_storage_buffer_range >= 65536);
    assert_true(i->max_memory_allocation_size >= i->max_storage_buffer_range);
    assert_true(i->max_buffer_size >= i->max_memory_allocation_size || i->max_buffer_size > 0);
    assert_true(i->subgroup_size >= 1 && i->subgroup_min_size <= i->subgroup_size &&
                i->subgroup_size <= i->subgroup_max_size);
    assert_true(i->n_heaps >= 1 && i->heap_size[0] > 0);
    assert_true(i->compute_family >= 0);
    assert_true(i->max_push_constants >= 128); /* Vulkan minimum */
    /* The listing agrees with the opened device. */
    struct vkg_device_info *all;
    uint32_t n;
    GPU_OK(vkg_device_list(&all, &n));
    assert_true(n >= 1 && i->index < n);
    assert_string_equal(all[i->index].name, i->name);
    assert_int_equal(all[i->index].max_storage_buffer_range, i->max_storage_buffer_range);
    free(all);
    /* lavapipe (its device name says llvmpipe) reports Mesa's llvmpipe driver id, and so takes the
       lane kernels' integer F16 widening (shaders/f16.glsl) unless switched off */
    int llvmpipe = strstr(i->name, "llvmpipe") != NULL;
    assert_int_equal(i->driver_id == VK_DRIVER_ID_MESA_LLVMPIPE, llvmpipe);
    if (llvmpipe && g_dev->use.lane_tier && !vkg_env_flag("VKGRM_DISABLE_F16_BITS")) assert_true(g_dev->use.f16_bits);
    if (!llvmpipe) assert_false(g_dev->use.f16_bits);
    /* XQ8 (Q4_K / Q6_K times 8-bit x) rides on the texel lane tier with quad operations, nowhere else */
    assert_int_equal(g_dev->use.xq8,
                     g_dev->use.texel && g_dev->use.lane_tier && g_dev->use.quad && !vkg_env_flag("VKGRM_DISABLE_XQ8"));
    if (llvmpipe && !getenv("VKGRM_DISABLE_XQ8") && !getenv("VKGRM_DISABLE_TEXEL") &&
        !getenv("VKGRM_DISABLE_LANE_TIER") && !getenv("VKGRM_DISABLE_SUBGROUP"))
        assert_true(g_dev->use.xq8);
}

static void test_bad_index_names_devices(void **state)
{
    struct vkg_device *d = NULL;
    struct vkg_device_opts o = { .index = 7, .validate = 0 };
    assert_int_equal(vkg_device_open(&o, &d), VKG_ERR_NOT_FOUND);
    assert_null(d);
    assert_non_null(strstr(vkg_error_detail(), "index 7"));
    assert_non_null(strstr(vkg_error_detail(), g_dev->info.name)); /* lists what exists */
    struct vkg_device_opts byname = { .index = -1, .name = "no-such-gpu-xyz", .validate = 0 };
    assert_int_equal(vkg_device_open(&byname, &d), VKG_ERR_NOT_FOUND);
    assert_non_null(strstr(vkg_error_detail(), "no-such-gpu-xyz"));
}

/* VKGRM_LANE_WIDTH takes 8 only: another value fails the open with its name, never ignored. */
static void test_bad_lane_width(void **state)
{
    const char *saved = getenv("VKGRM_LANE_WIDTH");
    char keep[16] = "";
    if (saved) snprintf(keep, sizeof keep, "%s", saved);
    struct vkg_device *d = NULL;
    struct vkg_device_opts o = { .index = -1, .validate = 0 };
    static const char *bad[] = { "16", "4", "eight" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("VKGRM_LANE_WIDTH", bad[i], 1);
        assert_int_equal(vkg_device_open(&o, &d), VKG_ERR_INVALID_ARG);
        assert_null(d);
        assert_non_null(strstr(vkg_error_detail(), "VKGRM_LANE_WIDTH"));
        assert_non_null(strstr(vkg_error_detail(), bad[i]));
    }
    setenv("VKGRM_LANE_WIDTH", "8", 1);
    assert_int_equal(vkg_device_open(&o, &d), VKG_OK);
    assert_int_equal(d->use.lane_width, 8);
    vkg_device_close(d);
    if (saved) setenv("VKGRM_LANE_WIDTH", keep, 1);
    else unsetenv("VKGRM_LANE_WIDTH");
}

/* VKGRM_MLA_LATENT: 1 or 0, anything else refused at the open; unset: the plan decides (1) on attn_lane,
 * and GPUs (attn_wide alone) take the latent only when forced. */
static void test_mla_latent_env(void **state)
{
    const char *saved = getenv("VKGRM_MLA_LATENT");
    char keep[16] = "";
    if (saved) snprintf(keep, sizeof keep, "%s", saved);
    struct vkg_device *d = NULL;
    struct vkg_device_opts o = { .index = -1, .validate = 0 };
    setenv("VKGRM_MLA_LATENT", "yes", 1);
    assert_int_equal(vkg_device_open(&o, &d), VKG_ERR_INVALID_ARG);
    assert_null(d);
    assert_non_null(strstr(vkg_error_detail(), "VKGRM_MLA_LATENT=yes"));
    static const char *vals[] = { "1", "0", NULL };
    for (int i = 0; i < 3; i++) {
        if (vals[i]) setenv("VKGRM_MLA_LATENT", vals[i], 1);
        else unsetenv("VKGRM_MLA_LATENT");
        assert_int_equal(vkg_device_open(&o, &d), VKG_OK);
        /* attn_lane: 2 forced, 1 the plan's choice; attn_wide alone (GPUs): 2 forced, else 0; 0 never */
        int want = i == 1 ? 0 : d->use.attn_lane ? (i == 0 ? 2 : 1) : d->use.attn_wide && i == 0 ? 2 : 0;
        assert_int_equal(d->use.mla_latent, want);
        vkg_device_close(d);
    }
    if (saved) setenv("VKGRM_MLA_LATENT", keep, 1);
    else unsetenv("VKGRM_MLA_LATENT");
}

/* VKGRM_GELU_F16: 1 or 0 (or unset), anything else refused at the open with its name and value. */
static void test_gelu_f16_env(void **state)
{
    const char *saved = getenv("VKGRM_GELU_F16");
    char keep[16] = "";
    if (saved) snprintf(keep, sizeof keep, "%s", saved);
    struct vkg_device *d = NULL;
    struct vkg_device_opts o = { .index = -1, .validate = 0 };
    setenv("VKGRM_GELU_F16", "yes", 1);
    assert_int_equal(vkg_device_open(&o, &d), VKG_ERR_INVALID_ARG);
    assert_null(d);
    assert_non_null(strstr(vkg_error_detail(), "VKGRM_GELU_F16=yes"));
    static const char *vals[] = { "1", "0", NULL };
    for (int i = 0; i < 3; i++) {
        if (vals[i]) setenv("VKGRM_GELU_F16", vals[i], 1);
        else unsetenv("VKGRM_GELU_F16");
        assert_int_equal(vkg_device_open(&o, &d), VKG_OK);
        assert_int_equal(d->use.gelu_f16, i == 0);
        vkg_device_close(d);
    }
    if (saved) setenv("VKGRM_GELU_F16", keep, 1);
    else unsetenv("VKGRM_GELU_F16");
}

static void test_open_by_name_substring(void **state)
{
    char part[8];
    snprintf(part, sizeof part, "%.4s", g_dev->info.name);
    struct vkg_device *d = NULL;
    struct vkg_device_opts o = { .index = -1, .name = part, .validate = 0 };
    GPU_OK(vkg_device_open(&o, &d));
    assert_string_equal(d->info.name, g_dev->info.name);
    GPU_OK(vkg_device_close(d));
}

/* The messenger really counts: an invalid call makes close() report it. */
static void test_validation_is_counted(void **state)
{
    struct vkg_device *d = NULL;
    struct vkg_device_opts o = { .index = -1, .validate = 1 };
    GPU_OK(vkg_device_open(&o, &d));
    VkBufferCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                              .size = 0, /* invalid: size must be > 0 */
                              .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT };
    VkBuffer b = VK_NULL_HANDLE;
    fprintf(stderr, "(the next validation error is provoked on purpose)\n");
    vkCreateBuffer(d->vk, &ci, NULL, &b);
    if (b) vkDestroyBuffer(d->vk, b, NULL);
    assert_true(vkg_device_validation_count(d) >= 1);
    vkg_error_clear();
    assert_int_equal(vkg_device_close(d), VKG_ERR_VALIDATION);
    assert_non_null(strstr(vkg_error_detail(), "validation layer reported"));
}

/* Closing after a failure keeps the failure's detail in front of the
 * validation count (a tool prints the detail after closing the device). */
static void test_close_keeps_earlier_error(void **state)
{
    struct vkg_device *d = NULL;
    struct vkg_device_opts o = { .index = -1, .validate = 1 };
    GPU_OK(vkg_device_open(&o, &d));
    VkBufferCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                              .size = 0, /* invalid: size must be > 0 */
                              .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT };
    VkBuffer b = VK_NULL_HANDLE;
    fprintf(stderr, "(the next validation error is provoked on purpose)\n");
    vkCreateBuffer(d->vk, &ci, NULL, &b);
    if (b) vkDestroyBuffer(d->vk, b, NULL);
    struct vkg_buffer *small;
    struct vkg_cmd *c;
    GPU_OK(vkg_buffer_create(d, 64, VKG_MEM_DEVICE, "earlier failure", &small));
    GPU_OK(vkg_cmd_create(d, &c));
    GPU_OK(vkg_cmd_begin(c));
    assert_int_equal(vkg_op_fill(c, vkg_view_sub(vkg_buffer_view(small), 2, 8), 0), VKG_ERR_INVALID_ARG);
    vkg_cmd_free(c);
    vkg_buffer_free(small);
    assert_int_equal(vkg_device_close(d), VKG_ERR_VALIDATION);
    const char *detail = vkg_error_detail();
    assert_non_null(strstr(detail, "earlier failure"));
    assert_non_null(strstr(detail, "validation layer reported"));
    assert_true(strstr(detail, "earlier failure") < strstr(detail, "validation layer reported"));
    vkg_error_clear();
}

/* Synchronization validation (VKGRM_VALIDATE_SYNC=1) catches a missing barrier:
 * a shader reads what the previous dispatch wrote with nothing between them. */
static void test_sync_validation_catches_missing_barrier(void **state)
{
    setenv("VKGRM_VALIDATE_SYNC", "1", 1);
    struct vkg_device *d = NULL;
    struct vkg_device_opts o = { .index = -1, .validate = 1 };
    GPU_OK(vkg_device_open(&o, &d));
    unsetenv("VKGRM_VALIDATE_SYNC");
    struct vkg_buffer *a, *b;
    struct vkg_cmd *c;
    GPU_OK(vkg_buffer_create(d, 1 << 16, VKG_MEM_DEVICE, "a", &a));
    GPU_OK(vkg_buffer_create(d, 1 << 16, VKG_MEM_DEVICE, "b", &b));
    GPU_OK(vkg_cmd_create(d, &c));
    GPU_OK(vkg_cmd_begin(c));
    GPU_OK(vkg_op_fill(c, vkg_buffer_view(a), 1));
    fprintf(stderr, "(the next synchronization hazard is provoked on purpose)\n");
    GPU_OK(vkg_op_copy(c, vkg_buffer_view(a), vkg_buffer_view(b), 1 << 16)); /* no barrier: read-after-write */
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    vkg_buffer_free(a);
    vkg_buffer_free(b);
    assert_true(vkg_device_validation_count(d) >= 1);
    assert_int_equal(vkg_device_close(d), VKG_ERR_VALIDATION);
}

static void test_binding_over_range_is_refused(void **state)
{
    uint64_t big = g_dev->info.max_storage_buffer_range + 4096;
    if (big > g_dev->info.max_buffer_size || big > g_dev->info.max_memory_allocation_size)
        fail_msg("device can't hold a buffer larger than its binding range");
    struct vkg_buffer *b = gpu_buffer_from(NULL, big, "too-wide");
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    struct vkg_push_convert p = { 0 };
    struct vkg_view v = vkg_buffer_view(b);
    assert_int_equal(vkg_cmd_dispatch_op(c, VKG_OP_FILL_U32, &v, 1, &p, 1, 1, 1), VKG_ERR_LIMIT);
    assert_non_null(strstr(vkg_error_detail(), "too-wide"));
    assert_non_null(strstr(vkg_error_detail(), "maxStorageBufferRange"));
    /* the launcher splits instead: fill works over the whole buffer */
    GPU_OK(vkg_op_fill(c, v, 0x01020304u));
    GPU_OK(vkg_cmd_submit_wait(c));
    uint32_t tail[4];
    GPU_OK(vkg_buffer_download(g_dev, vkg_view_sub(v, big - 16, 16), tail, 16));
    for (int i = 0; i < 4; i++) assert_int_equal(tail[i], 0x01020304u);
    vkg_cmd_free(c);
    vkg_buffer_free(b);
    gpu_assert_no_validation();
}

static void test_timestamps_and_cache(void **state)
{
    struct vkg_buffer *b = gpu_buffer_from(NULL, 64 << 20, "timed");
    struct vkg_cmd *c;
    GPU_OK(vkg_cmd_create(g_dev, &c));
    GPU_OK(vkg_cmd_begin(c));
    vkg_cmd_timestamp(c, "start");
    GPU_OK(vkg_op_fill(c, vkg_buffer_view(b), 7));
    vkg_cmd_timestamp(c, "end");
    GPU_OK(vkg_cmd_submit_wait(c));
    if (g_dev->info.timestamps) assert_true(vkg_cmd_elapsed_ns(c, 0) > 0);
    /* resubmitting the same recording works (command buffer reuse) */
    GPU_OK(vkg_cmd_submit_wait(c));
    vkg_cmd_free(c);
    vkg_buffer_free(b);
    const char *path = g_dev->pipelines->cache_path;
    if (path[0]) {
        /* a second device context writes/reads the same cache file */
        struct vkg_device *d;
        struct vkg_device_opts o = { .index = (int)g_dev->info.index, .validate = 0 };
        GPU_OK(vkg_device_open(&o, &d));
        struct vkg_cmd *c2;
        struct vkg_buffer *x;
        GPU_OK(vkg_buffer_create(d, 1024, VKG_MEM_DEVICE, "x", &x));
        GPU_OK(vkg_cmd_create(d, &c2));
        GPU_OK(vkg_cmd_begin(c2));
        GPU_OK(vkg_op_fill(c2, vkg_buffer_view(x), 1));
        GPU_OK(vkg_cmd_submit_wait(c2));
        vkg_cmd_free(c2);
        vkg_buffer_free(x);
        GPU_OK(vkg_device_close(d));
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size >= 32); /* at least the Vulkan cache header */
    }
    gpu_assert_no_validation();
}

/* The suballocator reuses freed ranges inside a live block (a long run that
 * frees and makes buffers while others stay alive must not grow), merges
 * neighbouring free ranges, and never overlaps two live buffers. A device of
 * its own with 1 MiB blocks (VKGRM_BLOCK_MIB) makes the block layout known. */
static void test_freed_ranges_are_reused(void **state)
{
    setenv("VKGRM_BLOCK_MIB", "1", 1);
    struct vkg_device *d;
    struct vkg_device_opts o = { .index = (int)g_dev->info.index, .validate = 1 };
    GPU_OK(vkg_device_open(&o, &d));
    unsetenv("VKGRM_BLOCK_MIB");
    const uint64_t K = 1024;
    struct vkg_buffer *pin, *x, *b[4];
    GPU_OK(vkg_buffer_create(d, 64 * K, VKG_MEM_DEVICE, "pin", &pin));
    /* 1. churn next to a live buffer: the same range every time, one block */
    uint64_t first = 0;
    for (int i = 0; i < 100; i++) {
        GPU_OK(vkg_buffer_create(d, 64 * K, VKG_MEM_DEVICE, "churn", &x));
        assert_ptr_equal(x->block, pin->block);
        if (i == 0) first = x->offset;
        assert_int_equal(x->offset, first);
        vkg_buffer_free(x);
    }
    assert_int_equal(vkg_blocks_allocated(d, VKG_MEM_DEVICE), 1 << 20);
    /* 2. two freed neighbours merge: a buffer of both their sizes takes their place */
    for (int i = 0; i < 4; i++) GPU_OK(vkg_buffer_create(d, 128 * K, VKG_MEM_DEVICE, "b", &b[i]));
    uint64_t off1 = b[1]->offset;
    assert_int_equal(b[2]->offset, off1 + 128 * K); /* this device's alignment divides 128 KiB */
    vkg_buffer_free(b[1]);
    vkg_buffer_free(b[2]);
    GPU_OK(vkg_buffer_create(d, 256 * K, VKG_MEM_DEVICE, "merged", &x));
    assert_ptr_equal(x->block, pin->block);
    assert_int_equal(x->offset, off1);
    vkg_buffer_free(x);
    vkg_buffer_free(b[0]);
    vkg_buffer_free(b[3]);
    /* 3. random sizes and frees: live buffers never overlap (checked pairwise
       here, not by the allocator's own lists), and the blocks held stay within
       twice the most bytes ever live plus one block */
    enum { N = 24 };
    struct vkg_buffer *live[N] = { 0 };
    uint32_t rng = 12345;
    uint64_t max_held = 0, max_live = 0;
    for (int it = 0; it < 3000; it++) {
        rng = rng * 1664525u + 1013904223u;
        int i = (int)((rng >> 8) % N);
        if (live[i]) {
            vkg_buffer_free(live[i]);
            live[i] = NULL;
        } else {
            uint64_t size = 16 + (rng >> 12) % (96 * K);
            GPU_OK(vkg_buffer_create(d, size, VKG_MEM_DEVICE, "r", &live[i]));
        }
        uint64_t live_bytes = 64 * K;
        for (int a = 0; a < N; a++) {
            if (!live[a]) continue;
            live_bytes += live[a]->size;
            for (int c = a + 1; c < N; c++) {
                if (!live[c] || live[c]->block != live[a]->block) continue;
                int apart = live[a]->offset + live[a]->size <= live[c]->offset ||
                            live[c]->offset + live[c]->size <= live[a]->offset;
                assert_true(apart);
            }
        }
        uint64_t held = vkg_blocks_allocated(d, VKG_MEM_DEVICE);
        if (held > max_held) max_held = held;
        if (live_bytes > max_live) max_live = live_bytes;
    }
    fprintf(stderr, "random churn: at most %llu KiB live, %llu KiB of blocks held\n",
            (unsigned long long)(max_live / K), (unsigned long long)(max_held / K));
    assert_true(max_held <= 2 * max_live + (1 << 20)); /* 2 MiB here; a bump allocator holds several times more */
    for (int i = 0; i < N; i++) vkg_buffer_free(live[i]);
    assert_int_equal(vkg_blocks_allocated(d, VKG_MEM_DEVICE), 1 << 20); /* pin's block */
    vkg_buffer_free(pin);
    assert_int_equal(vkg_blocks_allocated(d, VKG_MEM_DEVICE), 0);
    GPU_OK(vkg_device_close(d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_is_sane),
        cmocka_unit_test(test_bad_index_names_devices),
        cmocka_unit_test(test_bad_lane_width),
        cmocka_unit_test(test_mla_latent_env),
        cmocka_unit_test(test_gelu_f16_env),
        cmocka_unit_test(test_open_by_name_substring),
        cmocka_unit_test(test_validation_is_counted),
        cmocka_unit_test(test_close_keeps_earlier_error),
        cmocka_unit_test(test_sync_validation_catches_missing_barrier),
        cmocka_unit_test(test_binding_over_range_is_refused),
        cmocka_unit_test(test_timestamps_and_cache),
        cmocka_unit_test(test_freed_ranges_are_reused),
    };
    return cmocka_run_group_tests(tests, gpu_setup, gpu_teardown);
}
