/* common_gpu.c — see common_gpu.h. */
#include "common_gpu.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_dtype.h"
#include "ref_matmul.h"

struct vkg_device *g_dev;
static uint32_t g_seen_validation;

int gpu_setup(void **state)
{
    struct vkg_device_opts o = { .index = -1, .name = getenv("VKGRM_TEST_DEVICE"), .validate = 1 };
    if (getenv("VKGRM_VALIDATE") && strcmp(getenv("VKGRM_VALIDATE"), "0") == 0) o.validate = 0;
    enum vkg_status s = vkg_device_open(&o, &g_dev);
    if (s != VKG_OK) {
        fprintf(stderr, "GPU tests need a Vulkan device (lavapipe in CI): %s: %s\n", vkg_status_name(s),
                vkg_error_detail());
        return -1; /* cmocka reports the group as failed */
    }
    g_seen_validation = 0;
    return 0;
}

int gpu_teardown(void **state)
{
    enum vkg_status s = vkg_device_close(g_dev);
    g_dev = NULL;
    if (s != VKG_OK) {
        fprintf(stderr, "device close: %s\n", vkg_error_detail());
        return -1;
    }
    return 0;
}

/* Whether name matches one of the comma-separated globs of list. */
static int matches_any(const char *list, const char *name)
{
    char glob[256];
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len >= sizeof glob) len = sizeof glob - 1;
        memcpy(glob, p, len);
        glob[len] = 0;
        if (fnmatch(glob, name, 0) == 0) return 1;
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}

int gpu_run_tests(const char *group, const struct CMUnitTest *tests, size_t n, int argc, char **argv)
{
    if (argc < 2) return _cmocka_run_group_tests(group, tests, n, gpu_setup, gpu_teardown);
    const char *part = argv[1];
    int invert = part[0] == '!';
    struct CMUnitTest *sel = calloc(n ? n : 1, sizeof *sel);
    size_t k = 0;
    if (!sel) return 1;
    for (size_t i = 0; i < n; i++)
        if (matches_any(part + invert, tests[i].name) != invert) sel[k++] = tests[i];
    if (k == 0) {
        fprintf(stderr, "%s: the part '%s' selects none of the %zu tests\n", group, part, n);
        free(sel);
        return 1;
    }
    int rc = _cmocka_run_group_tests(group, sel, k, gpu_setup, gpu_teardown);
    free(sel);
    return rc;
}

void gpu_assert_no_validation(void)
{
    uint32_t n = vkg_device_validation_count(g_dev);
    if (n != g_seen_validation) {
        uint32_t d = n - g_seen_validation;
        g_seen_validation = n;
        fail_msg("%u validation message(s) during this test (printed above)", d);
    }
}

uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

float rng_uniform(uint64_t *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)((rng_next(s) >> 40) * (1.0 / 16777216.0));
}

void rng_fill_f32(uint64_t *s, float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) x[i] = rng_uniform(s, lo, hi);
}

void rng_fill_ggml_blocks(uint64_t *seed, enum vkg_dtype wt, uint8_t *w, size_t bytes)
{
    uint32_t bb = vkg_dtype_block_bytes(wt);
    uint32_t f16_at[2] = { wt == VKG_DTYPE_Q6_K ? 208 : 0, 2 }; /* Q5_0 / Q6_K: one field */
    uint32_t n16 = (wt == VKG_DTYPE_Q5_0 || wt == VKG_DTYPE_Q6_K) ? 1 : 2;
    for (size_t i = 0; i < bytes; i++) w[i] = (uint8_t)(rng_next(seed) >> 32);
    for (size_t b = 0; b < bytes / bb; b++)
        for (uint32_t f = 0; f < n16; f++) {
            float v = exp2f(rng_uniform(seed, -8, 1)) * ((rng_next(seed) >> 40) & 1 ? -1.0f : 1.0f);
            uint16_t h = vkg_f32_to_f16(v);
            w[b * bb + f16_at[f]] = (uint8_t)h;
            w[b * bb + f16_at[f] + 1] = (uint8_t)(h >> 8);
        }
}

void assert_close_f32(const char *what, const float *got, const float *want, size_t n, float atol, float rtol)
{
    double max_abs = 0, max_rel = 0;
    size_t first_bad = (size_t)-1, n_bad = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        int both_nan = isnan(got[i]) && isnan(want[i]);
        int same_inf = isinf(got[i]) && got[i] == want[i];
        if (both_nan || same_inf) continue;
        if (!(d <= atol + rtol * fabs((double)want[i]))) { /* NaN fails too */
            if (first_bad == (size_t)-1) first_bad = i;
            n_bad++;
        }
        if (d > max_abs || isnan(d)) max_abs = d;
        double r = d / (fabs((double)want[i]) + 1e-30);
        if (r > max_rel) max_rel = r;
    }
    if (n_bad)
        fail_msg(
            "%s: %zu of %zu values off (atol %g rtol %g): max-abs %g, max-rel %g; first bad index %zu: got %.9g want %.9g",
            what, n_bad, n, atol, rtol, max_abs, max_rel, first_bad, got[first_bad], want[first_bad]);
}

void assert_equal_u16(const char *what, const uint16_t *got, const uint16_t *want, size_t n, int (*is_nan)(uint16_t))
{
    for (size_t i = 0; i < n; i++) {
        if (got[i] == want[i]) continue;
        if (is_nan && is_nan(got[i]) && is_nan(want[i])) continue;
        fail_msg("%s: first mismatch at index %zu of %zu: got 0x%04x want 0x%04x", what, i, n, got[i], want[i]);
    }
}

struct vkg_buffer *gpu_buffer_from(const void *data, uint64_t size, const char *name)
{
    struct vkg_buffer *b = NULL;
    GPU_OK(vkg_buffer_create(g_dev, size, VKG_MEM_DEVICE, name, &b));
    if (data) GPU_OK(vkg_buffer_upload(g_dev, vkg_buffer_view(b), data, size));
    return b;
}

void gpu_read(struct vkg_buffer *b, void *out, uint64_t size)
{
    GPU_OK(vkg_buffer_download(g_dev, vkg_buffer_view(b), out, size));
}

uint8_t *rng_weight(uint64_t *seed, enum vkg_dtype wt, uint32_t n_out, uint32_t n_in, size_t *bytes)
{
    size_t n = (size_t)n_out * n_in;
    float *f = malloc(n * 4);
    rng_fill_f32(seed, f, n, -1, 1);
    *bytes = n / vkg_dtype_block_size(wt) * vkg_dtype_block_bytes(wt);
    uint8_t *w = malloc(*bytes);
    if (wt == VKG_DTYPE_F32) memcpy(w, f, n * 4);
    for (size_t i = 0; wt == VKG_DTYPE_F16 && i < n; i++) ((uint16_t *)w)[i] = vkg_f32_to_f16(f[i]);
    for (size_t i = 0; wt == VKG_DTYPE_BF16 && i < n; i++) ((uint16_t *)w)[i] = vkg_f32_to_bf16(f[i]);
    if (wt == VKG_DTYPE_Q8_0 || wt == VKG_DTYPE_Q4) ref_quantize(f, n, wt, w, NULL);
    if (wt == VKG_DTYPE_Q4_1 || wt == VKG_DTYPE_Q5_0 || wt == VKG_DTYPE_Q5_1 || wt == VKG_DTYPE_Q4_K ||
        wt == VKG_DTYPE_Q5_K || wt == VKG_DTYPE_Q6_K)
        rng_fill_ggml_blocks(seed, wt, w, *bytes);
    free(f);
    return w;
}
