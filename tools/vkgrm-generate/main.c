/* vkgrm-generate — text generation with llama.cpp-style flags: one prompt,
 * one or K parallel samples (JSONL), greedy or sampled; --dump-logits for
 * testing against a reference. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "chat_template.h"
#include "generate.h"
#include "options.h"
#include "progress.h"

struct args {
    const char *model, *prompt, *file, *device, *weights, *prompt_ids, *dump, *system, *stop, *tmpl, *tmpl_file;
    int64_t n_predict, ctx, top_k, seed, n_samples;
    double temp, top_p, min_p;
    int chat, json, no_think;
};

static int fail(enum vkg_status s, const char *what)
{
    fprintf(stderr, "vkgrm-generate: %s: %s: %s\n", what, vkg_status_message(s), vkg_error_detail());
    return 1;
}

static char *read_file(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (size_t r; buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += r;
        if (n + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    if (f != stdin) fclose(f);
    if (buf) buf[n] = 0;
    return buf;
}

/* "1,2,3" -> ids */
static int parse_ids(const char *s, int32_t **ids, uint32_t *n)
{
    *n = 0;
    *ids = malloc((strlen(s) / 2 + 2) * sizeof **ids);
    for (const char *p = s; *p;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX) return -1;
        (*ids)[(*n)++] = (int32_t)v;
        p = end;
        while (*p == ',' || *p == ' ') p++;
    }
    return *n ? 0 : -1;
}

/* The model's chat template, or the one named by --chat-template / --chat-template-file. */
static enum vkg_status load_template(const struct args *a, const struct vkg_model *m, const struct vkg_tokenizer *tok,
                                     struct vkg_chat_template *t)
{
    enum vkg_status s = vkg_chat_template_load(a->model, vkg_arch_name(m->cfg.arch), t);
    if (s == VKG_OK && a->tmpl_file) return vkg_chat_template_load_file(a->tmpl_file, t);
    if (s == VKG_OK && a->tmpl) {
        t->family = vkg_chat_family_from_name(a->tmpl);
        return t->family == VKG_CHAT_UNKNOWN
                   ? vkg_error(VKG_ERR_INVALID_ARG, "--chat-template '%s': expected chatml, qwen3, deepseek2, deepseek3, "
                               "gemma or llama3", a->tmpl) : VKG_OK;
    }
    if (s == VKG_OK || (!a->tmpl && !a->tmpl_file)) return s;
    if (s != VKG_ERR_TEMPLATE) return s;
    /* the model has no usable template: start from its bos/eos tokens */
    memset(t, 0, sizeof *t);
    const char *bos = vkg_tokenizer_token_to_piece(tok, vkg_tokenizer_bos(tok));
    const char *eos = vkg_tokenizer_token_to_piece(tok, vkg_tokenizer_eos(tok));
    t->bos = strdup(bos ? bos : "");
    t->eos = strdup(eos ? eos : "");
    if (!t->bos || !t->eos) return vkg_error(VKG_ERR_NOMEM, "chat template");
    if (a->tmpl_file) return vkg_chat_template_load_file(a->tmpl_file, t);
    t->family = vkg_chat_family_from_name(a->tmpl);
    if (t->family == VKG_CHAT_UNKNOWN)
        return vkg_error(VKG_ERR_INVALID_ARG, "--chat-template '%s': expected chatml, qwen3, deepseek2, deepseek3, gemma "
                         "or llama3", a->tmpl);
    return VKG_OK;
}

/* The prompt's ids: --prompt-ids, or the text (chat template applied with --chat). */
static enum vkg_status prompt_tokens(const struct args *a, const struct vkg_model *m, struct vkg_tokenizer *tok,
                                     int32_t **ids, uint32_t *n)
{
    if (a->prompt_ids) {
        if (parse_ids(a->prompt_ids, ids, n))
            return vkg_error(VKG_ERR_INVALID_ARG, "--prompt-ids '%s': expected comma-separated token ids", a->prompt_ids);
        for (uint32_t i = 0; i < *n; i++)
            if ((uint32_t)(*ids)[i] >= m->cfg.vocab_size)
                return vkg_error(VKG_ERR_INVALID_ARG, "--prompt-ids: id %d >= vocab_size %u", (*ids)[i], m->cfg.vocab_size);
        return VKG_OK;
    }
    char *text = a->file ? read_file(a->file) : strdup(a->prompt);
    if (!text) return vkg_error(VKG_ERR_IO, "%s: %s", a->file, strerror(errno));
    int flags = VKG_TOK_ADD_SPECIAL | VKG_TOK_PARSE_SPECIAL;
    enum vkg_status s = VKG_OK;
    if (a->chat) { /* the template writes bos itself, like apply_chat_template(tokenize=True) */
        struct vkg_chat_template t;
        struct vkg_chat_message msg[2] = { { "system", a->system, NULL }, { "user", text, NULL } };
        s = load_template(a, m, tok, &t);
        char *rendered = NULL;
        if (s == VKG_OK) {
            s = vkg_chat_template_render(&t, a->system ? msg : msg + 1, a->system ? 2 : 1, true, !a->no_think, &rendered);
            vkg_chat_template_free(&t);
        }
        free(text);
        text = rendered;
        flags = VKG_TOK_PARSE_SPECIAL;
    }
    size_t nn = 0;
    if (s == VKG_OK) s = vkg_tokenizer_encode(tok, text, strlen(text), flags, ids, &nn);
    free(text);
    *n = (uint32_t)nn;
    if (s == VKG_OK && nn == 0) s = vkg_error(VKG_ERR_INVALID_ARG, "the prompt encodes to no tokens");
    return s;
}

/* eos ids: config.json, generation_config.json and the tokenizer's eos, merged. */
static uint32_t eos_ids(const struct vkg_model *m, const struct vkg_generation_config *gc,
                        const struct vkg_tokenizer *tok, int32_t *out)
{
    uint32_t n = 0;
    int32_t cand[20];
    uint32_t nc = 0;
    for (uint32_t i = 0; i < m->cfg.n_eos && nc < 20; i++) cand[nc++] = m->cfg.eos_token_ids[i];
    for (uint32_t i = 0; gc->present && i < gc->n_eos && nc < 20; i++) cand[nc++] = gc->eos_token_ids[i];
    if (tok && vkg_tokenizer_eos(tok) >= 0) cand[nc++] = vkg_tokenizer_eos(tok);
    for (uint32_t i = 0; i < nc; i++) {
        int dup = cand[i] < 0;
        for (uint32_t j = 0; j < n; j++) dup |= out[j] == cand[i];
        if (!dup) out[n++] = cand[i];
    }
    return n;
}

static void on_load(void *user, uint64_t done, uint64_t total)
{
    struct vkg_progress *p = user;
    p->total = total;
    vkg_progress_update(p, done);
}

static void on_gen(void *user, uint64_t done, uint64_t total)
{
    struct vkg_progress *p = user;
    p->total = total;
    vkg_progress_update(p, done);
}

/* Raw little-endian float32 [n_prompt][out_dim], written whole or not at all. */
static enum vkg_status write_logits(const char *path, const float *x, uint64_t n)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return vkg_error(VKG_ERR_IO, "%s: %s", tmp, strerror(errno));
    int ok = fwrite(x, 4, n, f) == n;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return vkg_error(VKG_ERR_IO, "%s: write failed", path);
    }
    return VKG_OK;
}

static const char *finish_name(enum vkg_finish f)
{
    return f == VKG_FINISH_EOS ? "eos" : f == VKG_FINISH_STOP ? "stop" : "length";
}

static void print_samples(const struct args *a, const struct vkg_tokenizer *tok, const struct vkg_gen_sample *s,
                          uint32_t n)
{
    for (uint32_t j = 0; j < n; j++) {
        char *text = NULL;
        if (tok && vkg_tokenizer_decode(tok, s[j].tokens, s[j].n, VKG_TOK_SKIP_SPECIAL, &text) != VKG_OK) text = NULL;
        if (n == 1 && !a->json && text) {
            printf("%s\n", text);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "index", j);
            if (text) cJSON_AddStringToObject(o, "text", text);
            cJSON_AddItemToObject(o, "tokens", cJSON_CreateIntArray((const int *)s[j].tokens, (int)s[j].n));
            cJSON_AddStringToObject(o, "finish_reason", finish_name(s[j].finish));
            char *line = cJSON_PrintUnformatted(o);
            printf("%s\n", line);
            free(line);
            cJSON_Delete(o);
        }
        free(text);
    }
}

static int run(struct args *a)
{
    struct vkg_device_opts d = { .index = -1, .validate = -1 };
    char *end;
    if (a->device) {
        long v = strtol(a->device, &end, 10);
        if (*a->device && !*end) d.index = (int)v;
        else d.name = a->device;
    }
    struct vkg_model_opts mo = { 0 };
    enum vkg_status s = vkg_weights_parse_dtype(a->weights, &mo.weights);
    if (s != VKG_OK) return fprintf(stderr, "vkgrm-generate: %s\n", vkg_error_detail()), 2;
    struct vkg_tokenizer *tok = NULL;
    s = vkg_tokenizer_load(a->model, &tok);
    if (s != VKG_OK && !a->prompt_ids) return fail(s, "tokenizer");
    struct vkg_device *dev = NULL;
    struct vkg_model *m = NULL;
    struct vkg_progress lp, gp;
    vkg_progress_init(&lp, "load", 0, 1);
    mo.progress = on_load, mo.user = &lp;
    int rc = 1;
    int32_t *ids = NULL;
    uint32_t n_ids = 0;
    float *logits = NULL;
    struct vkg_gen_sample *out = NULL;
    struct vkg_generation_config gc = { 0 };
    if ((s = vkg_device_open(&d, &dev)) != VKG_OK) { fail(s, "device"); goto done; }
    if ((s = vkg_model_load(dev, a->model, &mo, &m)) != VKG_OK) { fail(s, a->model); goto done; }
    vkg_progress_finish(&lp);
    if ((s = prompt_tokens(a, m, tok, &ids, &n_ids)) != VKG_OK) { rc = fail(s, "prompt") + 1; goto done; }
    if (a->ctx > 0 && (int64_t)n_ids + a->n_predict > a->ctx) {
        fprintf(stderr, "vkgrm-generate: prompt (%u tokens) + -n %lld exceeds -c %lld\n", n_ids, (long long)a->n_predict,
                (long long)a->ctx);
        rc = 2;
        goto done;
    }
    vkg_generation_config_load(a->model, &gc); /* absent file: defaults */
    struct vkg_gen_request req = { .prompt = ids, .n_prompt = n_ids, .n_samples = (uint32_t)a->n_samples,
                                   .max_tokens = (uint32_t)a->n_predict };
    req.sampler = vkg_sampler_greedy();
    if (a->temp >= 0) req.sampler.temperature = (float)a->temp;
    else if (gc.present && gc.do_sample) req.sampler.temperature = (float)gc.temperature;
    req.sampler.top_k = a->top_k >= 0 ? (uint32_t)a->top_k : (gc.present && gc.do_sample) ? gc.top_k : 0;
    req.sampler.top_p = a->top_p >= 0 ? (float)a->top_p : (gc.present && gc.do_sample) ? (float)gc.top_p : 1.0f;
    req.sampler.min_p = a->min_p > 0 ? (float)a->min_p : 0.0f;
    req.sampler.seed = (uint64_t)a->seed;
    int32_t eos[24];
    const char *stops[1] = { a->stop };
    struct vkg_gen_opts go = { .eos = eos, .n_eos = eos_ids(m, &gc, tok, eos), .stop = stops, .n_stop = a->stop ? 1 : 0,
                               .tok = tok, .progress = on_gen, .user = &gp };
    vkg_progress_init(&gp, "generate", (uint64_t)a->n_samples * a->n_predict, 0);
    if (a->dump && !(go.prompt_logits = logits = malloc((uint64_t)n_ids * m->out_dim * 4))) goto done;
    out = calloc((size_t)a->n_samples, sizeof *out);
    if ((s = vkg_generate(m, &req, 1, &go, out)) != VKG_OK) { fail(s, "generate"); goto done; }
    vkg_progress_finish(&gp);
    if (a->dump && (s = write_logits(a->dump, logits, (uint64_t)n_ids * m->out_dim)) != VKG_OK) { fail(s, "dump"); goto done; }
    if (a->n_predict > 0) print_samples(a, tok, out, (uint32_t)a->n_samples);
    rc = 0;
done:
    if (out) vkg_gen_results_free(out, (uint32_t)a->n_samples);
    free(out), free(ids), free(logits);
    vkg_model_free(m);
    if (vkg_device_close(dev) != VKG_OK && rc == 0) rc = fail(VKG_ERR_VALIDATION, "device");
    vkg_tokenizer_free(tok);
    return rc;
}

int main(int argc, char **argv)
{
    struct args a = { .n_predict = 128, .ctx = 0, .top_k = -1, .seed = 0, .n_samples = 1, .temp = -1, .top_p = -1 };
    const struct vkg_option opts[] = {
        { "-m", "--model", VKG_OPT_STRING, &a.model, "DIR", "Hugging Face model directory (required)" },
        { "-p", "--prompt", VKG_OPT_STRING, &a.prompt, "TEXT", "prompt text" },
        { "-f", "--file", VKG_OPT_STRING, &a.file, "FILE", "read the prompt from FILE (- for stdin)" },
        { "-n", "--n-predict", VKG_OPT_INT, &a.n_predict, "N", "tokens to generate per sample (128; 0 = prompt only)" },
        { "-c", "--ctx-size", VKG_OPT_INT, &a.ctx, "N", "context limit: prompt + N must fit (0 = no limit)" },
        { NULL, "--temp", VKG_OPT_FLOAT, &a.temp, "T", "temperature (0 = greedy; default: generation_config or greedy)" },
        { NULL, "--top-k", VKG_OPT_INT, &a.top_k, "K", "top-k filter (0 = off)" },
        { NULL, "--top-p", VKG_OPT_FLOAT, &a.top_p, "P", "top-p (nucleus) filter (1 = off)" },
        { NULL, "--min-p", VKG_OPT_FLOAT, &a.min_p, "P", "min-p filter (0 = off)" },
        { "-s", "--seed", VKG_OPT_INT, &a.seed, "SEED", "sampling seed (0)" },
        { "-d", "--device", VKG_OPT_STRING, &a.device, "N|NAME", "Vulkan device index or name substring" },
        { NULL, "--weights", VKG_OPT_STRING, &a.weights, "TYPE", "device dtype of matrices: f32|f16|bf16|q8_0|q4 (as stored)" },
        { NULL, "--chat", VKG_OPT_FLAG, &a.chat, NULL, "wrap the prompt in the model's chat template" },
        { NULL, "--system", VKG_OPT_STRING, &a.system, "TEXT", "system message (with --chat)" },
        { NULL, "--chat-template", VKG_OPT_STRING, &a.tmpl, "NAME", "chatml|qwen3|deepseek2|deepseek3|gemma|llama3 (implies --chat)" },
        { NULL, "--chat-template-file", VKG_OPT_STRING, &a.tmpl_file, "FILE", "your own template file (implies --chat; README)" },
        { NULL, "--no-think", VKG_OPT_FLAG, &a.no_think, NULL, "Qwen3 chat: enable_thinking = false" },
        { NULL, "--n-samples", VKG_OPT_INT, &a.n_samples, "K", "K parallel samples of the prompt (JSONL out)" },
        { NULL, "--stop", VKG_OPT_STRING, &a.stop, "TEXT", "stop a sample when its text contains TEXT" },
        { NULL, "--json", VKG_OPT_FLAG, &a.json, NULL, "JSONL output even for one sample" },
        { NULL, "--prompt-ids", VKG_OPT_STRING, &a.prompt_ids, "IDS", "prompt as token ids: 1,2,3 (testing)" },
        { NULL, "--dump-logits", VKG_OPT_STRING, &a.dump, "FILE", "write prompt logits, f32 [n_prompt x vocab|labels]" },
    };
    int rc = vkg_options_parse(opts, VKG_COUNT(opts), argc, argv, NULL, "vkgrm-generate",
                               "Generates text with a Hugging Face model on a Vulkan device.");
    if (rc) return rc == 1 ? 0 : 2;
    if (!a.model || (!a.prompt && !a.file && !a.prompt_ids)) {
        fprintf(stderr, "vkgrm-generate: need -m DIR and one of -p TEXT, -f FILE, --prompt-ids IDS (see --help)\n");
        return 2;
    }
    if (a.tmpl || a.tmpl_file) a.chat = 1;
    if (a.n_predict < 0 || a.n_samples < 1 || a.n_samples > 4096) {
        fprintf(stderr, "vkgrm-generate: -n must be >= 0 and --n-samples in 1..4096\n");
        return 2;
    }
    return run(&a);
}
