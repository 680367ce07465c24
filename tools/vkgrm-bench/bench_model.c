/* bench_model.c — `vkgrm-bench --model DIR`: prefill tokens/s at N tokens and
 * decode tokens/s at batch 1, 8 and 32, with the bytes a decode step reads
 * (weights it touches + KV) and the ratio to the device's copy bandwidth
 * measured in the same run (the roofline of a memory-bound decode). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "command.h"
#include "model.h"
#include "progress.h"

struct row {
    const char *what;
    uint32_t batch, tokens;
    double sec;
    double bytes;
    uint32_t steps; /* forward passes timed (the profile's divisor) */
    char *profile;  /* --profile: the row's per-kernel table (Markdown or JSON), else NULL */
};

/* The device's profile table as text: Markdown (kernel, calls and ms per forward
 * pass, share) or a JSON array; the top rows, the rest summed. */
static char *profile_text(struct vkg_device *dev, uint32_t passes, int json)
{
    const struct vkg_profile_row *r;
    uint64_t dropped;
    uint32_t n = vkg_profile_rows(dev, &r, &dropped);
    double total = 0;
    for (uint32_t i = 0; i < n; i++) total += r[i].ns;
    size_t cap = 256 + (size_t)n * 160, len = 0;
    char *t = malloc(cap);
    if (!t) return NULL;
    t[0] = 0;
#define ADD(...) len += (size_t)snprintf(t + len, cap - len, __VA_ARGS__)
    if (json) ADD("[");
    else ADD("| kernel | calls per pass | ms per pass | share |\n|---|---:|---:|---:|\n");
    for (uint32_t i = 0; i < n; i++) {
        const char *name = r[i].name ? r[i].name : "(start)";
        if (json)
            ADD("%s{\"kernel\": \"%s\", \"calls\": %.2f, \"ms\": %.4f, \"share\": %.4f}", i ? ", " : "", name,
                (double)r[i].calls / passes, r[i].ns / 1e6 / passes, total > 0 ? r[i].ns / total : 0);
        else
            ADD("| %s | %.1f | %.3f | %.1f%% |\n", name, (double)r[i].calls / passes, r[i].ns / 1e6 / passes,
                total > 0 ? 100 * r[i].ns / total : 0);
    }
    if (json) ADD("]");
    else ADD("| total timed | | %.3f | %s |\n", total / 1e6 / passes, dropped ? "(some dispatches untimed)" : "");
#undef ADD
    return t;
}

/* Bytes of weights one decode step of `batch` sequences reads: every matrix
 * but the embedding table (only `batch` rows), routed experts scaled by the
 * share of experts that batch*k picks can touch at most. */
static double step_weight_bytes(const struct vkg_model *m, uint32_t batch)
{
    const struct vkg_hf_config *c = &m->cfg;
    double dense = 0, experts = 0;
    int tied = !vkg_weights_find(m->w, "lm_head.weight");
    for (size_t i = 0; i < m->w->n; i++) {
        const struct vkg_weight *w = &m->w->w[i];
        if (strcmp(w->name, "model.embed_tokens.weight") == 0) {
            dense += tied ? (double)w->n_bytes : (double)w->n_bytes / w->shape[0] * batch;
        } else if (strstr(w->name, ".experts.")) {
            experts += (double)w->n_bytes;
        } else {
            dense += (double)w->n_bytes;
        }
    }
    double share = 1;
    if (c->n_experts) {
        share = (double)batch * c->n_experts_per_tok / c->n_experts;
        if (share > 1) share = 1;
    }
    return dense + experts * share;
}

static enum vkg_status prefill(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t seq, uint32_t n, int32_t *buf,
                               double *sec)
{
    int32_t *ids = buf, *sq = buf + n, *pos = buf + 2 * n;
    uint8_t *want = calloc(n, 1);
    uint64_t p0;
    VKG_TRY(vkg_kv_reserve(kv, seq, n, &p0));
    for (uint32_t i = 0; i < n; i++) {
        ids[i] = (int32_t)((i * 7919u + seq * 104729u) % m->cfg.vocab_size);
        sq[i] = (int32_t)seq;
        pos[i] = (int32_t)(p0 + i);
    }
    want[n - 1] = 1;
    struct vkg_batch b = { .n = n, .ids = ids, .seq = sq, .pos = pos, .want = want };
    VKG_TRY(vkg_kv_upload(kv));
    double t0 = vkg_now();
    enum vkg_status s = vkg_model_forward(m, kv, &b, NULL);
    *sec = vkg_now() - t0;
    free(want);
    return s;
}

/* `steps` decode steps of `batch` sequences that each hold a `ctx`-token prompt. */
static enum vkg_status decode(struct vkg_model *m, uint32_t batch, uint32_t ctx, uint32_t steps, double *sec,
                              char **profile, int json)
{
    struct vkg_kv_config kc = vkg_model_kv_config(m, batch, ctx + steps + 1);
    struct vkg_kv_cache *kv;
    VKG_TRY(vkg_kv_create(m->dev, &kc, &kv));
    int32_t *buf = calloc(3 * (size_t)(ctx > batch ? ctx : batch), 4);
    uint32_t *seqs = calloc(batch, 4);
    enum vkg_status s = buf && seqs ? VKG_OK : vkg_error(VKG_ERR_NOMEM, "bench buffers");
    double t = 0;
    /* one prefill, forked into the other sequences (pages shared, as vkgrm-score's
       k samples of a prompt share them) when ctx fills whole pages, so nothing is
       copied; decode then reads each sequence's ctx positions as before */
    int fork = kc.page_size && ctx % kc.page_size == 0;
    for (uint32_t i = 0; s == VKG_OK && i < batch; i++) {
        if (i > 0 && fork) {
            s = vkg_kv_seq_fork(kv, NULL, seqs[0], &seqs[i]);
            continue;
        }
        s = vkg_kv_seq_add(kv, &seqs[i]);
        if (s == VKG_OK) s = prefill(m, kv, seqs[i], ctx, buf, &t);
    }
    *sec = 0;
    for (uint32_t step = 0; s == VKG_OK && step <= steps; step++) {
        for (uint32_t i = 0; s == VKG_OK && i < batch; i++) {
            uint64_t p;
            s = vkg_kv_reserve(kv, seqs[i], 1, &p);
            buf[i] = (int32_t)((step * 31 + i) % m->cfg.vocab_size);
            buf[batch + i] = (int32_t)seqs[i];
            buf[2 * batch + i] = (int32_t)p;
        }
        struct vkg_batch b = { .n = batch, .ids = buf, .seq = buf + batch, .pos = buf + 2 * batch, .want = NULL };
        if (s == VKG_OK) s = vkg_kv_upload(kv);
        if (s == VKG_OK && profile && step == 1) s = vkg_profile_start(m->dev);
        double t0 = vkg_now();
        if (s == VKG_OK) s = vkg_model_forward(m, kv, &b, NULL);
        if (step > 0) *sec += vkg_now() - t0; /* step 0 warms up */
    }
    if (profile) {
        vkg_profile_stop(m->dev);
        if (s == VKG_OK) *profile = profile_text(m->dev, steps, json);
    }
    free(buf);
    free(seqs);
    vkg_kv_free(kv);
    return s;
}

static enum vkg_status run_prefill(struct vkg_model *m, uint32_t n, double *sec, char **profile, int json)
{
    struct vkg_kv_config kc = vkg_model_kv_config(m, 2, n + 1);
    struct vkg_kv_cache *kv;
    VKG_TRY(vkg_kv_create(m->dev, &kc, &kv));
    int32_t *buf = calloc(3 * (size_t)n, 4);
    uint32_t warm, seq;
    double t;
    enum vkg_status s = buf ? VKG_OK : vkg_error(VKG_ERR_NOMEM, "bench buffers");
    if (s == VKG_OK) s = vkg_kv_seq_add(kv, &warm);
    /* pipelines built here (llvmpipe compiles a kernel at its first dispatch): 32 tokens take the
     * kernels of any longer prefill of a dense model, but a MoE step picks its expert kernels by
     * pairs per expert (ops_moe.c, VKG_MOE_LANE1_PAIRS), so a MoE model warms up at the full length */
    uint32_t nw = m->cfg.n_experts || n < 32 ? n : 32;
    if (s == VKG_OK) s = prefill(m, kv, warm, nw, buf, &t);
    if (s == VKG_OK) s = vkg_kv_seq_add(kv, &seq);
    if (s == VKG_OK && profile) s = vkg_profile_start(m->dev);
    if (s == VKG_OK) s = prefill(m, kv, seq, n, buf, sec);
    if (profile) {
        vkg_profile_stop(m->dev);
        if (s == VKG_OK) *profile = profile_text(m->dev, 1, json);
    }
    free(buf);
    vkg_kv_free(kv);
    return s;
}

static void print_rows(const struct vkg_model *m, const char *dir, double bw, const struct row *r, int n, int json)
{
    if (json) {
        printf("{\"model\": \"%s\", \"architecture\": \"%s\", \"copy_bandwidth_gbs\": %.3f, \"rows\": [", dir,
               m->cfg.architecture, bw);
        for (int i = 0; i < n; i++)
            printf(
                "%s{\"mode\": \"%s\", \"batch\": %u, \"tokens\": %u, \"tokens_per_s\": %.3f, \"bytes_per_token\": %.0f, "
                "\"fraction_of_copy_bw\": %.4f}",
                i ? ", " : "", r[i].what, r[i].batch, r[i].tokens, r[i].tokens / r[i].sec, r[i].bytes / r[i].tokens,
                r[i].bytes / r[i].sec / 1e9 / bw);
        printf("]");
        if (r[0].profile) {
            printf(", \"profile\": [");
            for (int i = 0; i < n; i++)
                printf("%s{\"mode\": \"%s\", \"batch\": %u, \"kernels\": %s}", i ? ", " : "", r[i].what, r[i].batch,
                       r[i].profile ? r[i].profile : "[]");
            printf("]");
        }
        printf("}\n");
        return;
    }
    printf("model: %s (%s, %.1f MiB on the device)  copy bandwidth: %.2f GB/s\n\n", dir, m->cfg.architecture,
           m->w->device_bytes / 1048576.0, bw);
    printf("| mode | batch | tokens | tokens/s | MB read per token | of copy BW |\n|---|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < n; i++)
        printf("| %s | %u | %u | %.2f | %.2f | %.1f%% |\n", r[i].what, r[i].batch, r[i].tokens, r[i].tokens / r[i].sec,
               r[i].bytes / r[i].tokens / 1e6, 100.0 * r[i].bytes / r[i].sec / 1e9 / bw);
    for (int i = 0; i < n; i++)
        if (r[i].profile)
            printf("\n### %s, batch %u: time per kernel (one %s, %s)\n\n%s", r[i].what, r[i].batch,
                   strcmp(r[i].what, "prefill") ? "decode step" : "prefill pass",
                   strcmp(r[i].what, "prefill") ? "mean of the timed steps" : "the timed pass", r[i].profile);
}

int vkg_bench_model(const struct vkg_device_opts *d, const char *dir, const char *weights, uint32_t n_prefill,
                    uint32_t steps, int json, int profile)
{
    struct vkg_device *dev = NULL;
    struct vkg_model *m = NULL;
    struct vkg_model_opts mo = { 0 };
    struct row r[4] = { 0 };
    int nr = 0;
    double bw = 0;
    const uint32_t ctx = 128, batches[] = { 1, 8, 32 };
    enum vkg_status s = vkg_weights_parse_dtype(weights, &mo.weights);
    if (s == VKG_OK && (s = vkg_device_open(d, &dev)) == VKG_ERR_NOT_FOUND) { /* --device: a usage error */
        fprintf(stderr, "vkgrm-bench: %s\n", vkg_error_detail());
        return 2;
    }
    if (s == VKG_OK) s = vkg_model_load(dev, dir, &mo, &m);
    if (s == VKG_OK) s = vkg_bench_copy_bandwidth(dev, &bw);
    if (s == VKG_OK && n_prefill) {
        r[nr] = (struct row){ "prefill", 1, n_prefill, 0, step_weight_bytes(m, n_prefill), 1, NULL };
        s = run_prefill(m, n_prefill, &r[nr].sec, profile ? &r[nr].profile : NULL, json);
        nr += s == VKG_OK;
    }
    for (int i = 0; s == VKG_OK && i < 3; i++) {
        const struct vkg_kv_config kc = vkg_model_kv_config(m, 1, 1);
        double kv = (double)batches[i] * (ctx + steps / 2.0) * m->cfg.n_layers * vkg_kv_token_elems(&kc) * 4;
        r[nr] =
            (struct row){ "decode", batches[i], batches[i] * steps, 0, (step_weight_bytes(m, batches[i]) + kv) * steps,
                          steps,    NULL };
        s = decode(m, batches[i], ctx, steps, &r[nr].sec, profile ? &r[nr].profile : NULL, json);
        nr += s == VKG_OK;
    }
    if (s == VKG_OK) print_rows(m, dir, bw, r, nr, json);
    for (int i = 0; i < 4; i++) free(r[i].profile);
    vkg_model_free(m);
    enum vkg_status cs = vkg_device_close(dev);
    if (s == VKG_OK) s = cs;
    if (s != VKG_OK) {
        fprintf(stderr, "vkgrm-bench: %s: %s: %s\n", dir, vkg_status_message(s), vkg_error_detail());
        return 1;
    }
    return 0;
}
