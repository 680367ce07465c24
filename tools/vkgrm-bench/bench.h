/* bench.h — one benchmark case of `vkgrm-bench --ops`. Each op family lists
 * its cases in tools/vkgrm-bench/bench_<family>.c; main.c runs them all and
 * reports time, GB/s, GFLOP/s and the ratio to the device's measured copy
 * bandwidth (vkCmdCopyBuffer of a large buffer, same run). */
#ifndef VKG_BENCH_H
#define VKG_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "command.h"
#include "ops.h"
#include "vk_check.h"

struct vkg_bench_case {
    const char *op;    /* op name as in the op table (e.g. "convert_f16_f32") */
    const char *shape; /* human-readable shape, e.g. "4096x4096 F16" */
    /* Makes buffers and fills *bytes (read + written per run) and *flops. */
    enum vkg_status (*setup)(struct vkg_device *dev, void **ctx, uint64_t *bytes, uint64_t *flops);
    /* Records one run of the op into c. */
    enum vkg_status (*record)(struct vkg_cmd *c, void *ctx);
    void (*teardown)(void *ctx);
};

/* Each family returns its cases (static array) and their count. */
const struct vkg_bench_case *vkg_bench_convert(size_t *n);
const struct vkg_bench_case *vkg_bench_norm(size_t *n);
const struct vkg_bench_case *vkg_bench_rope(size_t *n);
const struct vkg_bench_case *vkg_bench_matmul(size_t *n);
const struct vkg_bench_case *vkg_bench_attention(size_t *n);
const struct vkg_bench_case *vkg_bench_moe(size_t *n);
const struct vkg_bench_case *vkg_bench_sample(size_t *n);

/* Helper for cases: a device buffer filled with a pattern (no host copy of the size). */
enum vkg_status vkg_bench_buffer(struct vkg_device *dev, uint64_t bytes, const char *name, struct vkg_buffer **out);
/* Helper: a device buffer with uniform random floats in [lo, hi) (F32). */
enum vkg_status vkg_bench_random_f32(struct vkg_device *dev, uint64_t n, float lo, float hi, const char *name,
                                     struct vkg_buffer **out);

/* The device's copy bandwidth (vkCmdCopyBuffer of 256 MiB, read + write bytes), GB/s. */
enum vkg_status vkg_bench_copy_bandwidth(struct vkg_device *dev, double *gbs);
/* `vkgrm-bench --model DIR`: prefill and decode speed (bench_model.c), with
 * profile a per-kernel time table of each row; returns an exit code. */
int vkg_bench_model(const struct vkg_device_opts *d, const char *dir, const char *weights, uint32_t prefill,
                    uint32_t steps, int json, int profile);

#endif
