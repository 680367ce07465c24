/* vkgrm-score — GRM scoring: a generative judge writes k sampled judgments
 * per record (query + candidate responses), each parsed for its per-response
 * scores; the scores are summed (voting), optionally over the judgments a
 * MetaRM ranks best (MetaRM-guided voting). One output line per record, in
 * input order, flushed as each record completes; a summary (stderr,
 * --summary JSON, --report Markdown with an SVG plot).
 *
 * Modes:
 *   vkgrm-score -m JUDGE -i IN.jsonl [-o OUT.jsonl] ...   score
 *   vkgrm-score -m JUDGE -i IN.jsonl --print-prompts     the exact prompts, no weights
 *   vkgrm-score --revote SAMPLES.jsonl [-k K'] ...        re-parse and re-vote, no model
 *   vkgrm-score --merge OUT1.jsonl OUT2.jsonl ... [-o ALL.jsonl] --summary S.json
 *
 * Order of work: flags (exit 2), the judge's small files and the template,
 * --resume's existing output, the devices, the weights, then scoring. Exit
 * codes: 0 ok (bad input lines are reported, written as error lines, and do
 * not fail the run), 1 runtime error, 2 usage error, 130 interrupted (the
 * output holds only complete lines). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "chat_template.h"
#include "device.h"
#include "generate.h"
#include "grm_prompt.h"
#include "grm_record.h"
#include "grm_report.h"
#include "grm_result.h"
#include "grm_score.h"
#include "grm_summary.h"
#include "hf_config.h"
#include "interrupt.h"
#include "memstat.h"
#include "model.h"
#include "options.h"
#include "pipeline.h"
#include "output.h"
#include "progress.h"
#include "tokenizer.h"
#include "vk_check.h"
#include "weights.h"

#define PROG "vkgrm-score"
#define MAX_DEVICES 16
#ifndef VKG_DEFAULT_JUDGE
#define VKG_DEFAULT_JUDGE "models/grm-judge-tiny"
#endif

struct args {
    const char *model, *input, *output, *meta, *tmpl, *shard, *device, *summary, *report, *revote, *weights;
    int64_t k, seed, max_new, meta_k, ctx, parallel, batch;
    double temp, top_p;
    int resume, keep_text, print_prompts, json_errors, merge, no_think, mem_stats, profile;
    uint32_t shard_i, shard_n;
    struct vkg_args files; /* --merge inputs */
};

static int g_json_errors;

/* A runtime error: one line on stderr (a JSON object with --json-errors). */
static int fail(enum vkg_status s, const char *what)
{
    const char *detail = vkg_error_detail();
    if (g_json_errors) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "error", what);
        cJSON_AddStringToObject(o, "status", vkg_status_message(s));
        cJSON_AddStringToObject(o, "message", detail ? detail : "");
        char *t = cJSON_PrintUnformatted(o);
        fprintf(stderr, "%s\n", t ? t : "{\"error\":\"out of memory\"}");
        free(t);
        cJSON_Delete(o);
    } else {
        fprintf(stderr, PROG ": %s: %s: %s\n", what, vkg_status_message(s), detail ? detail : "");
    }
    return 1;
}

static int usage(const char *fmt, const char *arg)
{
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see --help)\n");
    return 2;
}

/* ---- summary outputs ---------------------------------------------------- */

static enum vkg_status write_file(const char *path, const char *text)
{
    struct vkg_out o;
    enum vkg_status s = vkg_out_open(path, &o);
    if (s == VKG_OK) s = vkg_out_write(&o, text, strlen(text));
    if (s == VKG_OK) return vkg_out_commit(&o);
    vkg_out_abort(&o);
    return s;
}

/* stderr paragraph, --summary, --report. */
static int summary_outputs(const struct args *a, const struct vkg_grm_summary *sum)
{
    char *text = NULL;
    enum vkg_status s = vkg_grm_report_text(sum, &text);
    if (s == VKG_OK) fputs(text, stderr);
    free(text);
    text = NULL;
    if (s == VKG_OK && a->summary && (s = vkg_grm_summary_json(sum, &text)) == VKG_OK) s = write_file(a->summary, text);
    free(text);
    text = NULL;
    if (s == VKG_OK && a->report && (s = vkg_grm_report_markdown(sum, &text)) == VKG_OK)
        s = write_file(a->report, text);
    free(text);
    return s == VKG_OK ? 0 : fail(s, "summary");
}

/* ---- output lines --------------------------------------------------------- */

struct sink {
    FILE *f; /* stdout or OUT.jsonl (written as records finish, flushed per line) */
    const char *name;
    bool keep_text;
    struct vkg_grm_summary *sum;
    uint64_t written;
};

static enum vkg_status emit(struct sink *o, const struct vkg_grm_result *r)
{
    char *line = NULL;
    VKG_TRY(vkg_grm_result_json(r, o->keep_text, &line));
    size_t n = strlen(line);
    line[n] = '\n';
    int ok = fwrite(line, 1, n + 1, o->f) == n + 1 && fflush(o->f) == 0;
    free(line);
    if (!ok) return vkg_error(VKG_ERR_IO, "%s: write error: %s", o->name, strerror(errno));
    o->written++;
    return vkg_grm_summary_add(o->sum, r);
}

/* ---- --merge and --revote: output lines read back ------------------------ */

struct lines_in {
    struct vkg_grm_result *r;
    size_t n, cap;
};

static enum vkg_status read_results(const char *path, struct lines_in *in)
{
    struct vkg_grm_lines l;
    VKG_TRY(vkg_grm_lines_open(path, &l));
    enum vkg_status s = VKG_OK;
    for (;;) {
        const char *line;
        size_t len;
        bool eof;
        if ((s = vkg_grm_lines_next(&l, &line, &len, &eof)) != VKG_OK || eof) break;
        if (vkg_grm_line_blank(line, len)) continue;
        if (in->n == in->cap) {
            size_t cap = in->cap ? 2 * in->cap : 256;
            struct vkg_grm_result *r = realloc(in->r, cap * sizeof *r);
            if (!r) {
                s = vkg_error(VKG_ERR_NOMEM, "%s", path);
                break;
            }
            in->r = r;
            in->cap = cap;
        }
        if ((s = vkg_grm_result_parse(line, len, &in->r[in->n])) != VKG_OK) {
            s = vkg_error(s, "%s line %llu: %s", path, (unsigned long long)l.line_no, vkg_error_detail());
            break;
        }
        in->n++;
    }
    vkg_grm_lines_close(&l);
    return s;
}

static int cmp_index(const void *x, const void *y)
{
    const struct vkg_grm_result *a = x, *b = y;
    return a->index < b->index ? -1 : a->index > b->index;
}

static int open_sink(const struct args *a, struct sink *o, struct vkg_out *file)
{
    o->f = stdout;
    o->name = "<stdout>";
    if (!a->output) return 0;
    enum vkg_status s = vkg_out_open(a->output, file);
    if (s != VKG_OK) return fail(s, "output");
    o->f = file->f;
    o->name = a->output;
    return 0;
}

static int close_sink(const struct args *a, struct vkg_out *file, int rc)
{
    if (!a->output)
        return fflush(stdout) == 0 || rc ? rc : fail(vkg_error(VKG_ERR_IO, "stdout: %s", strerror(errno)), "output");
    if (rc) {
        vkg_out_abort(file);
        return rc;
    }
    enum vkg_status s = vkg_out_commit(file);
    return s == VKG_OK ? 0 : fail(s, "output");
}

/* --merge F1 F2 ...: all lines sorted by record index (to -o when given), one summary.
 * --revote F: each line re-parsed and re-voted with its first -k samples. */
static int run_offline(const struct args *a)
{
    struct lines_in in = { 0 };
    enum vkg_status s = VKG_OK;
    if (a->merge)
        for (int i = 0; i < a->files.count && s == VKG_OK; i++) s = read_results(a->files.items[i], &in);
    else s = read_results(a->revote, &in);
    int rc = s == VKG_OK ? 0 : fail(s, a->merge ? "merge" : "revote");
    if (!rc && a->merge) {
        qsort(in.r, in.n, sizeof *in.r, cmp_index);
        for (size_t i = 1; i < in.n && !rc; i++)
            if (in.r[i].index == in.r[i - 1].index)
                rc = fail(vkg_error(VKG_ERR_FORMAT, "record %llu (id %s) appears twice in the merged files",
                                    (unsigned long long)in.r[i].index, in.r[i].id ? in.r[i].id : "null"),
                          "merge");
    }
    for (size_t i = 0; i < in.n && !rc && a->revote; i++) {
        struct vkg_grm_result *r = &in.r[i];
        if (r->error) continue;
        if (a->k > (int64_t)r->k) {
            rc = fail(vkg_error(VKG_ERR_INVALID_ARG, "-k %lld: record %s has only %u samples", (long long)a->k,
                                r->id ? r->id : "?", r->k),
                      "revote");
            break;
        }
        uint32_t k_new = a->k > 0 ? (uint32_t)a->k : r->k;
        if ((s = vkg_grm_result_revote(r, k_new, r->has_meta, (uint32_t)a->meta_k)) != VKG_OK) rc = fail(s, "revote");
    }
    struct vkg_grm_summary sum;
    vkg_grm_summary_init(&sum);
    struct vkg_out file;
    struct sink o = { .keep_text = true, .sum = &sum };
    bool write = a->output || a->revote;
    if (!rc && write) rc = open_sink(a, &o, &file);
    for (size_t i = 0; i < in.n && !rc; i++) {
        if (write) s = emit(&o, &in.r[i]);
        else s = vkg_grm_summary_add(&sum, &in.r[i]);
        if (s != VKG_OK) rc = fail(s, "output");
    }
    if (write) rc = close_sink(a, &file, rc);
    if (!rc) rc = summary_outputs(a, &sum);
    vkg_grm_summary_free(&sum);
    for (size_t i = 0; i < in.n; i++) vkg_grm_result_free(&in.r[i]);
    free(in.r);
    return rc;
}

/* ---- scoring --------------------------------------------------------------- */

struct judge_files {
    const char *dir;
    struct vkg_tokenizer *tok;
    struct vkg_hf_config cfg;
    struct vkg_generation_config gc;
    struct vkg_chat_template ct;
    bool has_ct;
    int32_t eos[VKG_GEN_MAX_EOS];
    uint32_t n_eos;
};

static int load_judge_files(const char *dir, bool need_tok, struct judge_files *f)
{
    f->dir = dir;
    enum vkg_status s = vkg_hf_config_load(dir, &f->cfg);
    if (s != VKG_OK) return fail(s, dir);
    if (need_tok && (s = vkg_tokenizer_load(dir, &f->tok)) != VKG_OK) return fail(s, "tokenizer");
    if ((s = vkg_generation_config_load(dir, &f->gc)) != VKG_OK) return fail(s, "generation config");
    if ((s = vkg_chat_template_load(dir, vkg_arch_name(f->cfg.arch), &f->ct)) != VKG_OK)
        return fail(s, "chat template (the judge prompt is the user turn of the model's chat template)");
    f->has_ct = true;
    f->n_eos = vkg_gen_eos_ids(&f->cfg, &f->gc, f->tok, f->eos);
    return 0;
}

static void judge_files_free(struct judge_files *f)
{
    if (f->has_ct) vkg_chat_template_free(&f->ct);
    vkg_hf_config_free(&f->cfg);
    vkg_tokenizer_free(f->tok);
    memset(f, 0, sizeof *f);
}

/* Records of this shard whose result is already in OUT.jsonl (--resume). */
struct resume_set {
    uint64_t *index;
    char **id;
    size_t n, cap;
};

static bool resume_find(const struct resume_set *rs, uint64_t index, size_t *at)
{
    size_t lo = 0, hi = rs->n; /* index ascending: the file holds a prefix in input order */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (rs->index[mid] < index) lo = mid + 1;
        else hi = mid;
    }
    *at = lo;
    return lo < rs->n && rs->index[lo] == index;
}

/* Reads OUT.jsonl's complete lines into the summary and the resume set, and
 * cuts a last line that a kill left incomplete. */
static int resume_load(const struct args *a, struct resume_set *rs, struct vkg_grm_summary *sum)
{
    struct stat st;
    if (stat(a->output, &st) != 0) return 0; /* nothing written yet */
    if (!S_ISREG(st.st_mode)) return usage("--resume: %s is not a regular file", a->output);
    struct vkg_grm_lines l;
    enum vkg_status s = vkg_grm_lines_open(a->output, &l);
    if (s != VKG_OK) return fail(s, "--resume");
    off_t good = 0;
    int rc = 0;
    for (;;) {
        const char *line;
        size_t len;
        bool eof;
        if ((s = vkg_grm_lines_next(&l, &line, &len, &eof)) != VKG_OK) {
            rc = fail(s, "--resume");
            break;
        }
        if (eof || !l.complete) break;
        struct vkg_grm_result r;
        if ((s = vkg_grm_result_parse(line, len, &r)) != VKG_OK) {
            rc = fail(vkg_error(s, "%s line %llu is not a vkgrm-score line: %s", a->output,
                                (unsigned long long)l.line_no, vkg_error_detail()),
                      "--resume");
            break;
        }
        if (!r.error && (r.k != (uint32_t)a->k || r.seed != (uint64_t)a->seed))
            rc = fail(vkg_error(VKG_ERR_INVALID_ARG,
                                "%s line %llu was scored with -k %u -s %llu, this run has -k %lld -s %lld", a->output,
                                (unsigned long long)l.line_no, r.k, (unsigned long long)r.seed, (long long)a->k,
                                (long long)a->seed),
                      "--resume");
        if (!rc && rs->n && r.index <= rs->index[rs->n - 1])
            rc = fail(vkg_error(VKG_ERR_FORMAT, "%s line %llu: record %llu is out of input order", a->output,
                                (unsigned long long)l.line_no, (unsigned long long)r.index),
                      "--resume");
        if (!rc && rs->n == rs->cap) {
            size_t cap = rs->cap ? 2 * rs->cap : 256;
            uint64_t *ix = realloc(rs->index, cap * sizeof *ix);
            if (ix) rs->index = ix;
            char **id = ix ? realloc(rs->id, cap * sizeof *id) : NULL;
            if (id) rs->id = id;
            if (!ix || !id) rc = fail(VKG_ERR_NOMEM, "--resume");
            else rs->cap = cap;
        }
        if (!rc) {
            rs->index[rs->n] = r.index;
            rs->id[rs->n] = r.id ? strdup(r.id) : NULL;
            rs->n++;
            s = vkg_grm_summary_add(sum, &r);
            if (s != VKG_OK) rc = fail(s, "--resume");
        }
        vkg_grm_result_free(&r);
        if (rc) break;
        good += (off_t)len + 1;
        /* a CRLF line: the reader dropped the "\r" */
        if (len == 0 || line[len] == '\r') good++;
    }
    vkg_grm_lines_close(&l);
    if (!rc && good != st.st_size) {
        if (truncate(a->output, good) != 0)
            rc = fail(vkg_error(VKG_ERR_IO, "%s: cutting its incomplete last line: %s", a->output, strerror(errno)),
                      "--resume");
        else fprintf(stderr, PROG ": --resume: dropped an incomplete last line of %s\n", a->output);
    }
    return rc;
}

static void resume_free(struct resume_set *rs)
{
    for (size_t i = 0; i < rs->n; i++) free(rs->id[i]);
    free(rs->index);
    free(rs->id);
}

/* One judge (and MetaRM) per device. */
struct worker {
    struct vkg_device *dev;
    struct vkg_model *judge, *meta;
    struct vkg_grm_scorer *sc;
};

/* Results waiting for the records before them (output in input order). */
struct reorder {
    uint64_t *order; /* indexes admitted, FIFO */
    size_t head, n, cap;
    struct vkg_grm_result *ready;
    size_t n_ready, cap_ready;
};

static enum vkg_status reorder_admit(struct reorder *q, uint64_t index)
{
    if (q->head && q->head == q->n) {
        q->head = 0;
        q->n = 0;
    }
    if (q->n == q->cap) {
        if (q->head) { /* compact */
            memmove(q->order, q->order + q->head, (q->n - q->head) * sizeof *q->order);
            q->n -= q->head;
            q->head = 0;
        }
        if (q->n == q->cap) {
            size_t cap = q->cap ? 2 * q->cap : 256;
            uint64_t *o = realloc(q->order, cap * sizeof *o);
            if (!o) return vkg_error(VKG_ERR_NOMEM, "record queue");
            q->order = o;
            q->cap = cap;
        }
    }
    q->order[q->n++] = index;
    return VKG_OK;
}

static enum vkg_status reorder_put(struct reorder *q, struct vkg_grm_result *r)
{
    if (q->n_ready == q->cap_ready) {
        size_t cap = q->cap_ready ? 2 * q->cap_ready : 64;
        struct vkg_grm_result *n = realloc(q->ready, cap * sizeof *n);
        if (!n) return vkg_error(VKG_ERR_NOMEM, "result queue");
        q->ready = n;
        q->cap_ready = cap;
    }
    q->ready[q->n_ready++] = *r;
    return VKG_OK;
}

/* Writes every result whose predecessors are written. */
static enum vkg_status reorder_flush(struct reorder *q, struct sink *o)
{
    while (q->head < q->n) {
        size_t i = 0;
        while (i < q->n_ready && q->ready[i].index != q->order[q->head]) i++;
        if (i == q->n_ready) break;
        enum vkg_status s = emit(o, &q->ready[i]);
        vkg_grm_result_free(&q->ready[i]);
        q->ready[i] = q->ready[--q->n_ready];
        VKG_TRY(s);
        q->head++;
    }
    return VKG_OK;
}

static void on_load(void *user, uint64_t done, uint64_t total)
{
    struct vkg_progress *p = user;
    p->total = total;
    vkg_progress_update(p, done);
}

/* --mem-stats: host RSS, malloc heap, device memory (all devices), the
 * resident part of large anonymous mappings (device memory on a CPU driver,
 * memstat.h) and pipelines created, after each output line, as
 * vkgrm-generate's (tools/soak.sh SOAK_TOOL=score). */
static void mem_stats(const struct worker *w, uint32_t n_dev, uint64_t line_no)
{
    unsigned long long dev_b = 0, host_b = 0, pipes = 0;
    struct vkg_memstat ms;
    vkg_memstat_sample(&ms);
    for (uint32_t d = 0; d < n_dev; d++) {
        dev_b += vkg_blocks_allocated(w[d].dev, VKG_MEM_DEVICE);
        host_b += vkg_blocks_allocated(w[d].dev, VKG_MEM_HOST);
        pipes += vkg_pipeline_count(w[d].dev);
    }
    fprintf(stderr,
            "mem: record %llu rss_kib %llu device_bytes %llu host_visible_bytes %llu heap_bytes %llu "
            "big_anon_kib %llu pipelines %llu\n",
            (unsigned long long)line_no, ms.rss_kib, dev_b, host_b, ms.heap_bytes, ms.big_anon_kib, pipes);
}

/* --profile: each device's time per kernel over the whole run, most first (stderr). */
static void print_profile(struct vkg_device *dev, uint32_t d)
{
    const struct vkg_profile_row *r;
    uint64_t dropped;
    uint32_t n = vkg_profile_rows(dev, &r, &dropped);
    double total = 0;
    for (uint32_t i = 0; i < n; i++) total += r[i].ns;
    fprintf(stderr, "profile, device %u (%s): %.3f s of kernels and copies%s\n", d, dev->info.name, total / 1e9,
            dropped ? " (some untimed)" : "");
    for (uint32_t i = 0; i < n; i++)
        fprintf(stderr, "  %-28s %10llu calls %10.3f s %5.1f%%\n", r[i].name ? r[i].name : "(start)",
                (unsigned long long)r[i].calls, r[i].ns / 1e9, total > 0 ? 100 * r[i].ns / total : 0);
}

static int open_devices(const struct args *a, struct worker *w, uint32_t *n_dev)
{
    char list[512];
    snprintf(list, sizeof list, "%s", a->device ? a->device : "");
    *n_dev = 0;
    char *save = NULL;
    char *item = strtok_r(list, ",", &save);
    do {
        if (*n_dev == MAX_DEVICES) return usage("--device: at most 16 devices%s", "");
        struct vkg_device_opts d = { .index = -1, .validate = -1 };
        vkg_options_device(item, &d.index, &d.name);
        enum vkg_status s = vkg_device_open(&d, &w[*n_dev].dev);
        if (s != VKG_OK) return fail(s, "device") + (s == VKG_ERR_NOT_FOUND && a->device);
        (*n_dev)++;
    } while ((item = strtok_r(NULL, ",", &save)) != NULL);
    return 0;
}

static int load_models(const struct args *a, struct worker *w, uint32_t n_dev, const struct judge_files *jf,
                       const struct judge_files *mf, double *load_s)
{
    double t0 = vkg_now();
    /* the memory plan: weights, one judgment's KV at the context used, the step's scratch
     * (the scheduler's pool itself is sized to what the device has left, schedule.h) */
    uint64_t mp = jf->cfg.max_position_embeddings;
    uint32_t ctx = a->ctx ? (uint32_t)a->ctx : mp && mp < 32768 ? (uint32_t)mp : 32768;
    struct vkg_model_opts mo = { .ctx = ctx, .n_seqs = 1, .batch = (uint32_t)a->batch, .tokenizer = jf->tok };
    vkg_weights_parse_dtype(a->weights, &mo.weights); /* checked in check_flags */
    for (uint32_t d = 0; d < n_dev; d++) {
        struct vkg_progress lp;
        vkg_progress_init(&lp, n_dev > 1 ? "load judge (device)" : "load judge", 0, 1);
        mo.progress = on_load;
        mo.user = &lp;
        mo.tokenizer = jf->tok;
        enum vkg_status s = vkg_model_load(w[d].dev, a->model, &mo, &w[d].judge);
        vkg_progress_finish(&lp);
        if (s != VKG_OK) return fail(s, a->model);
        if (!a->meta) continue;
        vkg_progress_init(&lp, "load MetaRM", 0, 1);
        mo.tokenizer = mf->tok;
        s = vkg_model_load(w[d].dev, a->meta, &mo, &w[d].meta);
        vkg_progress_finish(&lp);
        if (s != VKG_OK) return fail(s, a->meta);
        if (!w[d].meta->cfg.seq_cls)
            return fail(vkg_error(VKG_ERR_INVALID_ARG, "%s is not a *ForSequenceClassification model", a->meta),
                        "--meta-rm");
    }
    *load_s = vkg_now() - t0;
    return 0;
}

/* Number of non-blank lines of a regular file (for the progress bar's ETA); 0 if unknown. */
static uint64_t count_records(const char *path)
{
    if (!strcmp(path, "-")) return 0;
    struct vkg_grm_lines l;
    if (vkg_grm_lines_open(path, &l) != VKG_OK) return 0;
    uint64_t n = 0;
    const char *line;
    size_t len;
    bool eof;
    while (vkg_grm_lines_next(&l, &line, &len, &eof) == VKG_OK && !eof)
        if (!vkg_grm_line_blank(line, len)) n++;
    vkg_grm_lines_close(&l);
    return n;
}

static void progress_draw(struct vkg_progress *p, char *label, size_t cap, struct worker *w, uint32_t n_dev,
                          uint64_t done, double t0)
{
    if (!p->enabled) return;
    uint64_t toks = 0, samples = 0;
    for (uint32_t d = 0; d < n_dev; d++) {
        struct vkg_grm_scorer_stats st;
        vkg_grm_scorer_stats(w[d].sc, &st);
        toks += st.judge.decode_tokens;
        samples += st.samples;
    }
    double dt = vkg_now() - t0;
    snprintf(label, cap, "score %llu samples %.0f tok/s", (unsigned long long)samples, dt > 0 ? toks / dt : 0.0);
    vkg_progress_update(p, done);
}

struct input {
    struct vkg_grm_reader *rd;
    bool eof;
    uint64_t taken; /* records of this shard admitted (for dealing to devices) */
};

/* Reads the next record of this shard not already in the output (--resume). */
static enum vkg_status next_record(const struct args *a, struct input *in, const struct resume_set *rs,
                                   struct vkg_grm_record *rec, bool *got)
{
    *got = false;
    while (!in->eof) {
        VKG_TRY(vkg_grm_reader_next(in->rd, rec, &in->eof));
        if (in->eof) break;
        size_t at;
        if (rec->index % a->shard_n != a->shard_i) {
            vkg_grm_record_free(rec);
            continue;
        }
        if (resume_find(rs, rec->index, &at)) {
            const char *was = rs->id[at];
            bool same = (!was && !rec->id) || (was && rec->id && !strcmp(was, rec->id));
            vkg_grm_record_free(rec);
            if (!same)
                return vkg_error(VKG_ERR_INVALID_ARG,
                                 "--resume: record %llu of the input has id %s, the output's line for it "
                                 "has id %s: the output comes from another input",
                                 (unsigned long long)rec->index, rec->id ? rec->id : "null", was ? was : "null");
            continue;
        }
        *got = true;
        return VKG_OK;
    }
    return VKG_OK;
}

static int run_score(const struct args *a)
{
    struct judge_files jf = { 0 }, mf = { 0 };
    struct vkg_grm_template tmpl = { 0 };
    struct resume_set rs = { 0 };
    struct vkg_grm_summary sum;
    struct worker w[MAX_DEVICES] = { 0 };
    uint32_t n_dev = 0;
    struct reorder q = { 0 };
    struct input in = { 0 };
    struct vkg_out file = { 0 };
    FILE *out_f = NULL;
    double load_s = 0;
    enum vkg_status s;
    vkg_grm_summary_init(&sum);
    int rc = load_judge_files(a->model, !a->print_prompts, &jf);
    if (!rc && a->meta) rc = load_judge_files(a->meta, true, &mf);
    if (!rc) {
        s = a->tmpl ? vkg_grm_template_load(a->tmpl, &tmpl) : vkg_grm_template_default(&tmpl);
        if (s != VKG_OK) rc = fail(s, "--template");
    }
    if (!rc && (s = vkg_grm_reader_open(a->input, &in.rd)) != VKG_OK) rc = fail(s, "input");
    bool think = !a->no_think;

    if (!rc && a->print_prompts) { /* the prompts, no weights */
        struct sink o;
        rc = open_sink(a, &o, &file);
        while (!rc) {
            struct vkg_grm_record rec;
            bool got;
            if ((s = next_record(a, &in, &rs, &rec, &got)) != VKG_OK) rc = fail(s, "input");
            if (rc || !got) break;
            struct vkg_grm_result res;
            s = vkg_grm_result_init(&res, &rec, (uint32_t)a->k, (uint64_t)a->seed);
            if (s == VKG_OK && rec.error)
                fprintf(stderr, PROG ": line %llu (id %s): %s\n", (unsigned long long)rec.line,
                        rec.id ? rec.id : "null", rec.error);
            for (uint32_t j = 0; s == VKG_OK && !rec.error && j < res.k; j++) {
                char *text = NULL;
                s = vkg_grm_sample_prompt(&jf.ct, think, &tmpl, &rec, &res, j, &text);
                cJSON *obj = s == VKG_OK ? cJSON_CreateObject() : NULL;
                if (obj) {
                    cJSON_AddStringToObject(obj, "id", rec.id);
                    cJSON_AddNumberToObject(obj, "sample", j);
                    cJSON *perm = cJSON_AddArrayToObject(obj, "perm");
                    for (uint32_t p = 0; p < res.n; p++)
                        cJSON_AddItemToArray(perm, cJSON_CreateNumber(res.samples[j].perm[p]));
                    cJSON_AddStringToObject(obj, "prompt", text);
                    char *line = cJSON_PrintUnformatted(obj);
                    if (!line || fprintf(o.f, "%s\n", line) < 0) s = vkg_error(VKG_ERR_IO, "%s: write error", o.name);
                    free(line);
                    cJSON_Delete(obj);
                }
                free(text);
            }
            vkg_grm_result_free(&res);
            vkg_grm_record_free(&rec);
            if (s != VKG_OK) rc = fail(s, "--print-prompts");
        }
        rc = close_sink(a, &file, rc);
        goto done;
    }

    /* the output: --resume appends to what is there, else it is written anew */
    if (!rc && a->resume) rc = resume_load(a, &rs, &sum);
    if (!rc && a->output) {
        out_f = fopen(a->output, a->resume ? "a" : "w");
        if (!out_f) rc = fail(vkg_error(VKG_ERR_IO, "%s: %s", a->output, strerror(errno)), "output");
    }
    if (!rc) rc = open_devices(a, w, &n_dev);
    if (!rc) rc = load_models(a, w, n_dev, &jf, &mf, &load_s);
    for (uint32_t d = 0; !rc && a->profile && d < n_dev; d++) {
        enum vkg_status ps = vkg_profile_start(w[d].dev);
        if (ps != VKG_OK) rc = fail(ps, "--profile");
    }
    struct vkg_grm_scorer_opts so = {
        .k = (uint32_t)a->k,
        .seed = (uint64_t)a->seed,
        .temperature = a->temp >= 0 ? (float)a->temp
                       : a->k > 1   ? 0.5f
                                    : 0.0f,
        .top_p = (float)a->top_p,
        .max_new_tokens = (uint32_t)a->max_new,
        .keep_text = a->keep_text,
        .enable_thinking = think,
        .tmpl = &tmpl,
        .meta_k = (uint32_t)a->meta_k,
        .sched = { .max_running = (uint32_t)a->parallel,
                   .max_step_tokens = (uint32_t)a->batch,
                   .ctx = (uint32_t)a->ctx },
        .meta_sched = { .max_running = (uint32_t)a->parallel, .max_step_tokens = (uint32_t)a->batch },
    };
    for (uint32_t d = 0; d < n_dev && !rc; d++) {
        struct vkg_grm_model jm = { .m = w[d].judge, .tok = jf.tok, .ct = &jf.ct, .eos = jf.eos, .n_eos = jf.n_eos };
        struct vkg_grm_model mm = { .m = w[d].meta, .tok = mf.tok, .ct = &mf.ct };
        if ((s = vkg_grm_scorer_create(&jm, a->meta ? &mm : NULL, &so, &w[d].sc)) != VKG_OK) rc = fail(s, "scorer");
    }
    if (rc) goto done;

    struct sink o = {
        .f = out_f ? out_f : stdout, .name = a->output ? a->output : "<stdout>", .keep_text = a->keep_text, .sum = &sum
    };
    /* records in flight per device: enough to keep the scheduler's slots full */
    uint32_t per_dev = 2 * (((uint32_t)a->parallel + (uint32_t)a->k - 1) / (uint32_t)a->k) + 4;
    uint64_t total = count_records(a->input);
    total = total ? (total + a->shard_n - 1 - a->shard_i) / a->shard_n : 0;
    total = total > rs.n ? total - rs.n : 0;
    struct vkg_progress bar;
    char label[128] = "score";
    vkg_progress_init(&bar, label, total, 0);
    bar.label = label;
    double t0 = vkg_now();
    uint64_t done_n = 0, mem_line = o.written;
    vkg_interrupt_arm(1);
    while (!rc && !vkg_interrupted) {
        /* admit records while the devices have room */
        for (;;) {
            uint32_t d = (uint32_t)(in.taken % n_dev);
            if (in.eof || vkg_grm_scorer_in_flight(w[d].sc) >= per_dev) break;
            struct vkg_grm_record rec;
            bool got;
            if ((s = next_record(a, &in, &rs, &rec, &got)) != VKG_OK || !got) {
                if (s != VKG_OK) rc = fail(s, "input");
                break;
            }
            if (rec.error)
                fprintf(stderr, PROG ": line %llu (id %s): %s\n", (unsigned long long)rec.line,
                        rec.id ? rec.id : "null", rec.error);
            s = reorder_admit(&q, rec.index);
            if (s == VKG_OK) s = vkg_grm_scorer_add(w[d].sc, &rec);
            vkg_grm_record_free(&rec);
            if (s != VKG_OK) {
                rc = fail(s, "score");
                break;
            }
            in.taken++;
        }
        if (rc) break;
        bool busy = false;
        for (uint32_t d = 0; d < n_dev && !rc; d++)
            if (!vkg_grm_scorer_idle(w[d].sc) && (s = vkg_grm_scorer_step_begin(w[d].sc)) != VKG_OK)
                rc = fail(s, "score");
        for (uint32_t d = 0; d < n_dev && !rc; d++) {
            if ((s = vkg_grm_scorer_step_end(w[d].sc)) != VKG_OK) rc = fail(s, "score");
            struct vkg_grm_result r;
            while (!rc && vkg_grm_scorer_poll(w[d].sc, &r)) {
                if ((s = reorder_put(&q, &r)) != VKG_OK) {
                    vkg_grm_result_free(&r);
                    rc = fail(s, "score");
                }
                done_n++;
            }
            busy |= vkg_grm_scorer_in_flight(w[d].sc) > 0;
        }
        if (!rc && (s = reorder_flush(&q, &o)) != VKG_OK) rc = fail(s, "output");
        while (a->mem_stats && mem_line < o.written) mem_stats(w, n_dev, mem_line++);
        progress_draw(&bar, label, sizeof label, w, n_dev, done_n, t0);
        if (!busy && in.eof && q.head == q.n) break;
    }
    vkg_interrupt_arm(0);
    vkg_progress_finish(&bar);
    double wall = vkg_now() - t0;
    if (!rc && vkg_interrupted) {
        fprintf(stderr, PROG ": interrupted; %s holds the %llu records completed in input order\n", o.name,
                (unsigned long long)o.written);
        rc = VKG_EXIT_INTERRUPTED;
    }
    if (rc == 0 || rc == VKG_EXIT_INTERRUPTED) {
        struct vkg_grm_scorer_stats tot = { 0 };
        for (uint32_t d = 0; d < n_dev; d++) {
            struct vkg_grm_scorer_stats st;
            vkg_grm_scorer_stats(w[d].sc, &st);
            tot.records += st.records;
            tot.judge.decode_tokens += st.judge.decode_tokens;
            tot.judge.prefill_tokens += st.judge.prefill_tokens;
            tot.judge.prompt_tokens += st.judge.prompt_tokens;
            tot.judge.cached_tokens += st.judge.cached_tokens;
            tot.judge.recomputed_tokens += st.judge.recomputed_tokens;
            tot.meta.prefill_tokens += st.meta.prefill_tokens;
        }
        sum.throughput = (struct vkg_grm_throughput){
            .set = true,
            .judgments_per_s = wall > 0 ? tot.records / wall : 0,
            .gen_tokens_per_s = wall > 0 ? tot.judge.decode_tokens / wall : 0,
            .prefill_tokens_per_s = wall > 0 ? (tot.judge.prefill_tokens + tot.meta.prefill_tokens) / wall : 0,
            .load_s = load_s,
            .wall_s = wall,
        };
        if (tot.judge.prompt_tokens)
            fprintf(stderr,
                    PROG ": prompts %llu tokens, prefilled %llu (%.1f%% saved by shared prefixes, %llu from the "
                         "prefix cache), %llu recomputed after pauses; generated %llu tokens in %.1f s\n",
                    (unsigned long long)tot.judge.prompt_tokens, (unsigned long long)tot.judge.prefill_tokens,
                    100.0 * (1.0 - (double)tot.judge.prefill_tokens / (double)tot.judge.prompt_tokens),
                    (unsigned long long)tot.judge.cached_tokens, (unsigned long long)tot.judge.recomputed_tokens,
                    (unsigned long long)tot.judge.decode_tokens, wall);
        int rc2 = summary_outputs(a, &sum);
        if (!rc) rc = rc2;
    }
done:
    for (uint32_t d = 0; a->profile && d < n_dev; d++) print_profile(w[d].dev, d);
    for (size_t i = 0; i < q.n_ready; i++) vkg_grm_result_free(&q.ready[i]);
    free(q.ready);
    free(q.order);
    for (uint32_t d = 0; d < MAX_DEVICES; d++) {
        vkg_grm_scorer_free(w[d].sc);
        vkg_model_free(w[d].meta);
        vkg_model_free(w[d].judge);
        if (w[d].dev && vkg_device_close(w[d].dev) != VKG_OK && rc == 0) rc = fail(VKG_ERR_VALIDATION, "device");
    }
    if (out_f && fclose(out_f) != 0 && rc == 0)
        rc = fail(vkg_error(VKG_ERR_IO, "%s: %s", a->output, strerror(errno)), "output");
    if (in.rd) vkg_grm_reader_close(in.rd);
    resume_free(&rs);
    vkg_grm_summary_free(&sum);
    vkg_grm_template_free(&tmpl);
    judge_files_free(&jf);
    judge_files_free(&mf);
    return rc;
}

/* Checks between flags that the option table cannot express. */
static int check_flags(struct args *a)
{
    int modes = !!a->merge + !!a->revote;
    if (modes > 1) return usage("give one of --merge and --revote%s", "");
    if (a->merge) {
        if (!a->files.count) return usage("--merge needs output files to merge%s", "");
        if (!a->summary && !a->report && !a->output) return usage("--merge: give --summary, --report or -o%s", "");
        return 0;
    }
    if (a->files.count) return usage("unexpected argument '%s'", a->files.items[0]);
    if (a->revote) return 0; /* -k 0 (not given): every sample */
    if (!a->k) a->k = 1;
    if (!a->input) return usage("need -i IN.jsonl%s", "");
    if (!a->model) { /* the bundled toy judge (models/README.md) */
        a->model = VKG_DEFAULT_JUDGE;
        fprintf(stderr,
                PROG ": no -m: the bundled toy judge %s (a demonstration on a synthetic task, not a general "
                     "reward model)\n",
                a->model);
    }
    if (a->meta_k && !a->meta) return usage("--meta-k needs --meta-rm%s", "");
    if (a->meta_k > a->k) return usage("--meta-k must be at most -k%s", "");
    if (a->resume && !a->output) return usage("--resume needs -o OUT.jsonl%s", "");
    if (a->resume && a->print_prompts) return usage("--resume does not go with --print-prompts%s", "");
    enum vkg_dtype wd;
    if (vkg_weights_parse_dtype(a->weights, &wd) != VKG_OK) return usage("%s", vkg_error_detail());
    if (a->shard) {
        unsigned i, n;
        char tail;
        if (sscanf(a->shard, "%u/%u%c", &i, &n, &tail) != 2 || n == 0 || i >= n)
            return usage("--shard '%s': expected I/N with 0 <= I < N", a->shard);
        a->shard_i = i;
        a->shard_n = n;
    }
    if (a->k > a->parallel) a->parallel = a->k;
    return 0;
}

int main(int argc, char **argv)
{
    struct args a = {
        .k = 0, .seed = 0, .max_new = 1024, .temp = -1, .top_p = 1.0, .parallel = 64, .batch = 512, .shard_n = 1
    };
    const struct vkg_option opts[] = {
        { "-m", "--model", VKG_OPT_STRING, &a.model, "DIR",
          "the judge: a Hugging Face model directory or GGUF file (default: the bundled toy judge, models/)" },
        { "-i", "--input", VKG_OPT_STRING, &a.input, "FILE",
          "records, JSONL (native {id, query|messages, responses, label?, subset?} or RewardBench {id, prompt, chosen, "
          "rejected, subset}); - = stdin" },
        { "-o", "--output", VKG_OPT_STRING, &a.output, "FILE", "results, JSONL in input order (default stdout)" },
        { "-k", "--samples", VKG_OPT_INT, &a.k, "K",
          "judgments per record (1, greedy, identity order; with --revote: the first K, default all)",
          VKG_RANGE_CC(1, 1024) },
        { NULL, "--temp", VKG_OPT_FLOAT, &a.temp, "T", "sampling temperature (default 0.5 when k > 1)",
          VKG_RANGE_MIN(0) },
        { NULL, "--top-p", VKG_OPT_FLOAT, &a.top_p, "P", "nucleus filter (1 = off)", VKG_RANGE_OC(0, 1) },
        { "-s", "--seed", VKG_OPT_INT, &a.seed, "SEED", "run seed: permutations and sampling (0)", VKG_RANGE_MIN(0) },
        { "-n", "--max-new-tokens", VKG_OPT_INT, &a.max_new, "N", "tokens per judgment (1024)",
          VKG_RANGE_CC(1, 1 << 20) },
        { NULL, "--meta-rm", VKG_OPT_STRING, &a.meta, "DIR", "MetaRM (*ForSequenceClassification) for guided voting" },
        { NULL, "--meta-k", VKG_OPT_INT, &a.meta_k, "M", "judgments the MetaRM keeps (default ceil(k/2))",
          VKG_RANGE_CC(0, 1024) },
        { NULL, "--template", VKG_OPT_STRING, &a.tmpl, "FILE",
          "judge template with {context} and {responses} (README)" },
        { NULL, "--shard", VKG_OPT_STRING, &a.shard, "I/N", "score records whose index is I mod N" },
        { "-d", "--device", VKG_OPT_STRING, &a.device, "N|NAME[,..]", "Vulkan devices, one judge each" },
        { NULL, "--resume", VKG_OPT_FLAG, &a.resume, NULL,
          "skip records already complete in -o FILE, append the rest" },
        { NULL, "--summary", VKG_OPT_STRING, &a.summary, "FILE", "summary as JSON" },
        { NULL, "--report", VKG_OPT_STRING, &a.report, "FILE", "summary as Markdown with an accuracy-vs-k plot" },
        { NULL, "--keep-text", VKG_OPT_FLAG, &a.keep_text, NULL, "keep each judgment's text in the output" },
        { NULL, "--print-prompts", VKG_OPT_FLAG, &a.print_prompts, NULL,
          "write every sample's prompt as JSONL {id, sample, perm, prompt} and stop (no weights)" },
        { NULL, "--revote", VKG_OPT_STRING, &a.revote, "FILE",
          "re-parse and re-vote an output written with --keep-text (-k K' <= k, --meta-k), no model" },
        { NULL, "--merge", VKG_OPT_FLAG, &a.merge, NULL, "merge output files (arguments) into one summary (and -o)" },
        { NULL, "--weights", VKG_OPT_STRING, &a.weights, "TYPE", "device dtype of matrices: f32|f16|bf16|q8_0|q4" },
        { "-c", "--ctx-size", VKG_OPT_INT, &a.ctx, "N",
          "tokens per judgment, prompt + output (0 = the model's max_position_embeddings, at most 32768)",
          VKG_RANGE_CC(0, INT32_MAX) },
        { "-np", "--parallel", VKG_OPT_INT, &a.parallel, "N", "judgments decoding at once per device (64)",
          VKG_RANGE_CC(1, 4096) },
        { "-b", "--batch-size", VKG_OPT_INT, &a.batch, "N", "tokens per forward step, decode + prefill (512)",
          VKG_RANGE_CC(32, 65536) },
        { NULL, "--no-think", VKG_OPT_FLAG, &a.no_think, NULL, "Qwen3 chat templates: enable_thinking = false" },
        { NULL, "--json-errors", VKG_OPT_FLAG, &a.json_errors, NULL, "fatal errors as one JSON object on stderr" },
        { NULL, "--profile", VKG_OPT_FLAG, &a.profile, NULL,
          "time per kernel over the run (device timestamps), on stderr at the end" },
        { NULL, "--mem-stats", VKG_OPT_FLAG, &a.mem_stats, NULL,
          "after each output line: host RSS, heap and device memory (stderr; tools/soak.sh)" },
    };
    vkg_interrupt_install();
    int rc = vkg_options_parse(opts, VKG_COUNT(opts), argc, argv, &a.files, PROG,
                               "Scores responses with a generative reward model (DeepSeek-GRM voting).");
    if (rc) return rc == 1 ? 0 : 2;
    g_json_errors = a.json_errors;
    if ((rc = check_flags(&a)) != 0) return rc;
    if (a.merge || a.revote) return run_offline(&a);
    return run_score(&a);
}
