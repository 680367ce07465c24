/* vkgrm-bench — benchmarks. `--ops`: every op's bench cases with time,
 * GB/s, GFLOP/s and the ratio to the device's own copy bandwidth measured in
 * the same run. Markdown table by default, --json for machines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
/* Under callgrind (tools/bench/jit_ir.sh) each case's second run is instrumented alone and dumped under
 * the case's name: instruction counts, which this VM's timing noise does not touch. Outside valgrind the
 * requests are a few no-op instructions. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define VKG_BENCH_CALLGRIND 1
#endif
#endif

#include "bench.h"
#include "options.h"
#include "progress.h"
#include "staging.h"
#include "weights.h"

typedef const struct vkg_bench_case *(*family_fn)(size_t *);
static const family_fn g_families[] = { vkg_bench_convert,   vkg_bench_norm, vkg_bench_rope,  vkg_bench_matmul,
                                        vkg_bench_attention, vkg_bench_moe,  vkg_bench_sample };

enum vkg_status vkg_bench_buffer(struct vkg_device *dev, uint64_t bytes, const char *name, struct vkg_buffer **out)
{
    VKG_TRY(vkg_buffer_create(dev, bytes, VKG_MEM_DEVICE, name, out));
    struct vkg_cmd *c;
    VKG_TRY(vkg_cmd_create(dev, &c));
    enum vkg_status s = vkg_cmd_begin(c);
    if (s == VKG_OK) s = vkg_op_fill(c, vkg_buffer_view(*out), 0x3c003c00u); /* 1.0 as f16 pairs */
    if (s == VKG_OK) s = vkg_cmd_submit_wait(c);
    vkg_cmd_free(c);
    return s;
}

enum vkg_status vkg_bench_random_f32(struct vkg_device *dev, uint64_t n, float lo, float hi, const char *name,
                                     struct vkg_buffer **out)
{
    float *x = malloc(n * 4);
    if (!x) return vkg_error(VKG_ERR_NOMEM, "bench data %s", name);
    uint64_t s = 88172645463325252ull;
    for (uint64_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = lo + (hi - lo) * (float)((s >> 40) * (1.0 / 16777216.0));
    }
    enum vkg_status st = vkg_buffer_create(dev, n * 4, VKG_MEM_DEVICE, name, out);
    if (st == VKG_OK) st = vkg_buffer_upload(dev, vkg_buffer_view(*out), x, n * 4);
    free(x);
    return st;
}

/* Seconds for `reps` back-to-back runs recorded by rec (timestamps when the queue has them). */
static enum vkg_status time_runs(struct vkg_cmd *c, enum vkg_status (*rec)(struct vkg_cmd *, void *), void *ctx,
                                 int reps, double *sec)
{
    VKG_TRY(vkg_cmd_begin(c));
    vkg_cmd_timestamp(c, "start");
    for (int i = 0; i < reps; i++) {
        VKG_TRY(rec(c, ctx));
        vkg_cmd_barrier(c);
    }
    vkg_cmd_timestamp(c, "end");
    double t0 = vkg_now();
    VKG_TRY(vkg_cmd_submit_wait(c));
    double wall = vkg_now() - t0;
    double ns = vkg_cmd_elapsed_ns(c, 0);
    *sec = ns > 0 ? ns * 1e-9 : wall;
    return VKG_OK;
}

struct copy_ctx {
    struct vkg_buffer *a, *b;
};
static enum vkg_status rec_copy(struct vkg_cmd *c, void *ctx)
{
    struct copy_ctx *x = ctx;
    vkg_cmd_copy(c, vkg_buffer_view(x->a), vkg_buffer_view(x->b), x->a->size);
    return VKG_OK;
}

/* The device's copy bandwidth: vkCmdCopyBuffer of 256 MiB, read + write bytes counted. */
enum vkg_status vkg_bench_copy_bandwidth(struct vkg_device *dev, double *gbs)
{
    struct copy_ctx x = { 0 };
    struct vkg_cmd *c = NULL;
    uint64_t bytes = 256ull << 20;
    enum vkg_status s = vkg_bench_buffer(dev, bytes, "bw src", &x.a);
    if (s == VKG_OK) s = vkg_bench_buffer(dev, bytes, "bw dst", &x.b);
    if (s == VKG_OK) s = vkg_cmd_create(dev, &c);
    double t = 0;
    if (s == VKG_OK) s = time_runs(c, rec_copy, &x, 1, &t); /* warm-up */
    if (s == VKG_OK) s = time_runs(c, rec_copy, &x, 4, &t);
    if (s == VKG_OK) *gbs = 2.0 * (double)bytes * 4 / t / 1e9;
    vkg_cmd_free(c);
    vkg_buffer_free(x.a);
    vkg_buffer_free(x.b);
    return s;
}

struct result {
    const struct vkg_bench_case *bc;
    double sec;
    uint64_t bytes, flops;
    int reps;
};

static enum vkg_status run_case(struct vkg_device *dev, const struct vkg_bench_case *bc, double min_time,
                                struct result *r)
{
    void *ctx = NULL;
    struct vkg_cmd *c = NULL;
    r->bc = bc;
    enum vkg_status s = bc->setup(dev, &ctx, &r->bytes, &r->flops);
    if (s == VKG_OK) s = vkg_cmd_create(dev, &c);
    double t = 0;
    if (s == VKG_OK) s = time_runs(c, bc->record, ctx, 1, &t); /* warm-up: pipelines, caches */
#ifdef VKG_BENCH_CALLGRIND
    CALLGRIND_START_INSTRUMENTATION;
#endif
    if (s == VKG_OK) s = time_runs(c, bc->record, ctx, 1, &t);
#ifdef VKG_BENCH_CALLGRIND
    CALLGRIND_STOP_INSTRUMENTATION;
    CALLGRIND_DUMP_STATS_AT(bc->op);
#endif
    r->reps = t > 0 ? (int)(min_time / t) : 1;
    if (r->reps < 1) r->reps = 1;
    if (r->reps > 200) r->reps = 200;
    if (s == VKG_OK && r->reps > 1) s = time_runs(c, bc->record, ctx, r->reps, &t);
    r->sec = t / r->reps;
    vkg_cmd_free(c);
    if (bc->teardown) bc->teardown(ctx);
    return s;
}

static void print_markdown(const struct vkg_device *dev, double bw, const struct result *r, size_t n)
{
    printf("device: %s (%s)  copy bandwidth (vkCmdCopyBuffer, 256 MiB): %.2f GB/s\n\n", dev->info.name,
           dev->info.driver_info, bw);
    printf("| op | shape | time (us) | GB/s | GFLOP/s | of copy BW |\n|---|---|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < n; i++) {
        double gbs = (double)r[i].bytes / r[i].sec / 1e9, gf = (double)r[i].flops / r[i].sec / 1e9;
        printf("| %s | %s | %.1f | %.2f | %.2f | %.0f%% |\n", r[i].bc->op, r[i].bc->shape, r[i].sec * 1e6, gbs, gf,
               100.0 * gbs / bw);
    }
}

static void print_json(const struct vkg_device *dev, double bw, const struct result *r, size_t n)
{
    cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "device", dev->info.name);
    cJSON_AddStringToObject(o, "driver", dev->info.driver_info);
    cJSON_AddNumberToObject(o, "copy_bandwidth_gbs", bw);
    for (size_t i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        double gbs = (double)r[i].bytes / r[i].sec / 1e9;
        cJSON_AddStringToObject(e, "op", r[i].bc->op);
        cJSON_AddStringToObject(e, "shape", r[i].bc->shape);
        cJSON_AddNumberToObject(e, "time_us", r[i].sec * 1e6);
        cJSON_AddNumberToObject(e, "bytes", (double)r[i].bytes);
        cJSON_AddNumberToObject(e, "flops", (double)r[i].flops);
        cJSON_AddNumberToObject(e, "gbs", gbs);
        cJSON_AddNumberToObject(e, "gflops", (double)r[i].flops / r[i].sec / 1e9);
        cJSON_AddNumberToObject(e, "fraction_of_copy_bw", gbs / bw);
        cJSON_AddNumberToObject(e, "reps", r[i].reps);
        cJSON_AddItemToArray(a, e);
    }
    cJSON_AddItemToObject(o, "ops", a);
    char *txt = cJSON_Print(o);
    printf("%s\n", txt);
    free(txt);
    cJSON_Delete(o);
}

/* Every op in the op table must have at least one bench case (DESIGN: adding an op, step 5). */
static int check_coverage(void)
{
    int missing = 0;
    for (int op = 0; op < VKG_OP_COUNT; op++) {
        const char *name = vkg_op_kernel((enum vkg_op)op)->name;
        int found = 0;
        for (size_t f = 0; f < sizeof g_families / sizeof g_families[0]; f++) {
            size_t n;
            const struct vkg_bench_case *bc = g_families[f](&n);
            for (size_t i = 0; i < n; i++) found |= bc[i].op && strcmp(bc[i].op, name) == 0;
        }
        if (!found) {
            fprintf(stderr, "vkgrm-bench: op '%s' has no bench case\n", name);
            missing++;
        }
    }
    printf("bench coverage: %d of %d ops have a case\n", VKG_OP_COUNT - missing, VKG_OP_COUNT);
    return missing ? 1 : 0;
}

/* True when some bench case's op name contains filter. */
static int filter_matches(const char *filter)
{
    for (size_t f = 0; f < sizeof g_families / sizeof g_families[0]; f++) {
        size_t n;
        const struct vkg_bench_case *bc = g_families[f](&n);
        for (size_t i = 0; i < n; i++)
            if (bc[i].op && strstr(bc[i].op, filter)) return 1;
    }
    return 0;
}

static int run_ops(const struct vkg_device_opts *dopts, const char *filter, double min_time, int json)
{
    struct vkg_device *dev = NULL;
    enum vkg_status s = vkg_device_open(dopts, &dev);
    if (s == VKG_ERR_NOT_FOUND) { /* --device names no device: a usage error */
        fprintf(stderr, "vkgrm-bench: %s\n", vkg_error_detail());
        return 2;
    }
    double bw = 0;
    if (s == VKG_OK) s = vkg_bench_copy_bandwidth(dev, &bw);
    size_t ncase = 0;
    for (size_t f = 0; f < sizeof g_families / sizeof g_families[0]; f++) {
        size_t n;
        g_families[f](&n);
        ncase += n;
    }
    struct result *res = calloc(ncase ? ncase : 1, sizeof *res);
    if (!res && s == VKG_OK) s = vkg_error(VKG_ERR_NOMEM, "bench results");
    size_t nres = 0;
    struct vkg_progress prog;
    vkg_progress_init(&prog, "bench", 0, 0);
    for (size_t f = 0; s == VKG_OK && f < sizeof g_families / sizeof g_families[0]; f++) {
        size_t n;
        const struct vkg_bench_case *bc = g_families[f](&n);
        for (size_t i = 0; s == VKG_OK && i < n; i++) {
            if (!bc[i].op || (filter && !strstr(bc[i].op, filter))) continue;
            s = run_case(dev, &bc[i], min_time, &res[nres]);
            if (s == VKG_OK) nres++;
            else fprintf(stderr, "vkgrm-bench: case %s (%s) failed\n", bc[i].op, bc[i].shape);
            if (prog.enabled) fprintf(stderr, "\rbench: %zu cases done", nres);
        }
    }
    if (prog.enabled) fputc('\n', stderr);
    if (s == VKG_OK) (json ? print_json : print_markdown)(dev, bw, res, nres);
    free(res);
    enum vkg_status cs = vkg_device_close(dev);
    if (s == VKG_OK) s = cs;
    if (s != VKG_OK) {
        fprintf(stderr, "vkgrm-bench: %s: %s\n", vkg_status_message(s), vkg_error_detail());
        return 1;
    }
    return 0;
}

static void on_progress(void *user, uint64_t done, uint64_t total)
{
    struct vkg_progress *p = user;
    p->total = total;
    vkg_progress_update(p, done);
}

/* Load throughput of a model directory: file bytes / wall time, and peak host memory. */
static int run_load(const struct vkg_device_opts *dopts, const char *dir, const char *weights, int json)
{
    struct vkg_device *dev = NULL;
    struct vkg_safetensors *st = NULL;
    struct vkg_weights *w = NULL;
    struct vkg_progress prog;
    vkg_progress_init(&prog, "load", 0, 1);
    struct vkg_weights_opts o = { .progress = on_progress, .user = &prog, .track_rss = 1 };
    enum vkg_status s = vkg_weights_parse_dtype(weights, &o.matrix_dtype);
    if (s == VKG_OK && (s = vkg_device_open(dopts, &dev)) == VKG_ERR_NOT_FOUND) { /* --device: a usage error */
        fprintf(stderr, "vkgrm-bench: %s\n", vkg_error_detail());
        return 2;
    }
    if (s == VKG_OK) s = vkg_safetensors_open(dir, &st);
    if (s == VKG_OK) s = vkg_weights_load(dev, st, &o, &w);
    vkg_progress_finish(&prog);
    if (s == VKG_OK && json)
        printf(
            "{\"op\": \"load\", \"model\": \"%s\", \"weights\": \"%s\", \"file_bytes\": %llu, \"device_bytes\": %llu, "
            "\"seconds\": %.4f, \"gbs\": %.3f, \"peak_host_mib\": %.1f, \"staging_mib\": %.0f}\n",
            dir, weights ? weights : "stored", (unsigned long long)w->file_bytes, (unsigned long long)w->device_bytes,
            w->seconds, w->file_bytes / w->seconds / 1e9, w->peak_host_bytes / 1048576.0,
            dev->stage->n_slots * dev->stage->slot_size / 1048576.0);
    else if (s == VKG_OK)
        printf("| load | %s (%.0f MiB, --weights %s) | %.3f s | %.2f GB/s | peak host memory %.1f MiB "
               "(staging ring %u x %.0f MiB) |\n",
               dir, w->file_bytes / 1048576.0, weights ? weights : "stored", w->seconds,
               w->file_bytes / w->seconds / 1e9, w->peak_host_bytes / 1048576.0, dev->stage->n_slots,
               dev->stage->slot_size / 1048576.0);
    vkg_weights_free(w);
    vkg_safetensors_close(st);
    enum vkg_status cs = vkg_device_close(dev);
    if (s == VKG_OK) s = cs;
    if (s != VKG_OK) {
        fprintf(stderr, "vkgrm-bench: %s: %s\n", vkg_status_message(s), vkg_error_detail());
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int ops = 0, json = 0, coverage = 0, profile = 0;
    const char *device = NULL, *filter = NULL, *load = NULL, *weights = NULL, *model = NULL;
    int64_t prefill = 512, steps = 8;
    double min_time = 0.25;
    const struct vkg_option opts[] = {
        { NULL, "--ops", VKG_OPT_FLAG, &ops, NULL, "benchmark every op (kernel) at its bench shapes" },
        { "-d", "--device", VKG_OPT_STRING, &device, "N|NAME", "device index or name substring" },
        { NULL, "--filter", VKG_OPT_STRING, &filter, "TEXT", "only ops whose name contains TEXT" },
        { NULL, "--min-time", VKG_OPT_FLOAT, &min_time, "SEC", "time each case for about SEC seconds (0.25)",
          VKG_RANGE_OC(0, 3600) },
        { NULL, "--load", VKG_OPT_STRING, &load, "DIR",
          "load throughput of a model (safetensors dir or file, or GGUF file)" },
        { NULL, "--weights", VKG_OPT_STRING, &weights, "TYPE",
          "device dtype of matrices: f32|f16|bf16|q8_0|q4 (stored)" },
        { "-m", "--model", VKG_OPT_STRING, &model, "DIR", "model speed: prefill and decode at batch 1, 8, 32" },
        { NULL, "--prefill", VKG_OPT_INT, &prefill, "N", "prefill length for --model (512; 0 = skip)",
          VKG_RANGE_CC(0, 1 << 20) },
        { NULL, "--steps", VKG_OPT_INT, &steps, "N", "timed decode steps per batch size (8)",
          VKG_RANGE_CC(1, 1 << 20) },
        { NULL, "--profile", VKG_OPT_FLAG, &profile, NULL,
          "with --model: time per kernel of the prefill and of a decode step at each batch (timestamps)" },
        { NULL, "--json", VKG_OPT_FLAG, &json, NULL, "print JSON instead of a Markdown table" },
        { NULL, "--check-coverage", VKG_OPT_FLAG, &coverage, NULL, "exit 1 if an op has no bench case" },
    };
    int rc = vkg_options_parse(opts, VKG_COUNT(opts), argc, argv, NULL, "vkgrm-bench",
                               "Benchmarks vkgrm's kernels (--ops) on a Vulkan device.");
    if (rc) return rc == 1 ? 0 : 2;
    if (coverage) return check_coverage();
    if (!ops && !load && !model) {
        fprintf(stderr, "vkgrm-bench: say what to run: --ops, --load DIR or --model DIR (see --help)\n");
        return 2;
    }
    enum vkg_dtype wd;
    if (vkg_weights_parse_dtype(weights, &wd) != VKG_OK) {
        fprintf(stderr, "vkgrm-bench: %s\n", vkg_error_detail());
        return 2;
    }
    if (profile && !model) {
        fprintf(stderr, "vkgrm-bench: --profile times the kernels of a model: use it with --model DIR\n");
        return 2;
    }
    if (filter && !ops) {
        fprintf(stderr, "vkgrm-bench: --filter selects ops: use it with --ops\n");
        return 2;
    }
    if (ops && filter && !filter_matches(filter)) {
        fprintf(stderr,
                "vkgrm-bench: --filter '%s' matches no op name (e.g. matvec, attn, moe_gate; "
                "--ops alone lists them all)\n",
                filter);
        return 2;
    }
    struct vkg_device_opts d = { .index = -1, .validate = -1 };
    vkg_options_device(device, &d.index, &d.name);
    if (load) return run_load(&d, load, weights, json);
    if (model) return vkg_bench_model(&d, model, weights, (uint32_t)prefill, (uint32_t)steps, json, profile);
    return run_ops(&d, filter, min_time, json);
}
