/* common_gpu.h — shared by the GPU tests: a device opened with validation on
 * (a missing device or validation layer FAILS, never skips), seeded random
 * inputs, and comparisons that print max-abs / relative error and the first
 * bad index. */
#ifndef VKG_COMMON_GPU_H
#define VKG_COMMON_GPU_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "command.h"
#include "device.h"
#include "memory.h"
#include "ops.h"

/* The device of this test process (opened once by gpu_setup). */
extern struct vkg_device *g_dev;

/* cmocka group setup/teardown: open with validation; teardown fails on any validation message. */
int gpu_setup(void **state);
int gpu_teardown(void **state);
/* Runs the group (gpu_setup / gpu_teardown), or with a part argument (argv[1]) only some of it:
 * "GLOB,GLOB,..." the tests whose names match one of the globs, "!GLOB,..." those that match none
 * (so a part list of the first kind plus one "!" part covers every test, new ones included). A part
 * that selects no test fails: a mistyped glob never passes silently. */
int gpu_run_tests(const char *group, const struct CMUnitTest *tests, size_t n, int argc, char **argv);
/* Fails the current test when the validation layer said anything since the last call. */
void gpu_assert_no_validation(void);

/* xorshift64* with a fixed seed. */
uint64_t rng_next(uint64_t *s);
float rng_uniform(uint64_t *s, float lo, float hi);
void rng_fill_f32(uint64_t *s, float *x, size_t n, float lo, float hi);
/* Random blocks of one of ggml's types Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K
 * (bytes a multiple of the block): random bytes, so every quant value, high
 * bit and packed 6-bit scale/min occurs, with the f16 fields (d, m / dmin)
 * set to random finite values of magnitude 2^-8 .. 2 and either sign. */
void rng_fill_ggml_blocks(uint64_t *seed, enum vkg_dtype wt, uint8_t *w, size_t bytes);
/* A random weight [n_out][n_in] stored as wt (malloc'ed, *bytes long): values in [-1, 1) as
 * F32/F16/BF16, or quantized to Q8_0/Q4 by the reference quantizer (ref_matmul.h); random blocks
 * (rng_fill_ggml_blocks) for ggml's Q4_1 ... Q6_K. */
uint8_t *rng_weight(uint64_t *seed, enum vkg_dtype wt, uint32_t n_out, uint32_t n_in, size_t *bytes);

/* Compares got vs want: passes when |got-want| <= atol + rtol*|want| for all i.
 * On failure prints max-abs error, max relative error and the first bad index. */
void assert_close_f32(const char *what, const float *got, const float *want, size_t n, float atol, float rtol);
/* Bit-exact comparison of 16-bit words; NaN patterns compare as "both NaN" when is_nan given. */
void assert_equal_u16(const char *what, const uint16_t *got, const uint16_t *want, size_t n, int (*is_nan)(uint16_t));

/* Helpers: device buffer from host data / back. */
struct vkg_buffer *gpu_buffer_from(const void *data, uint64_t size, const char *name);
void gpu_read(struct vkg_buffer *b, void *out, uint64_t size);

#define GPU_OK(expr)                                                                              \
    do {                                                                                          \
        enum vkg_status s_ = (expr);                                                              \
        if (s_ != VKG_OK) fail_msg("%s: %s: %s", #expr, vkg_status_name(s_), vkg_error_detail()); \
    } while (0)

#endif
