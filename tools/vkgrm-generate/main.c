/* vkgrm-generate — text generation with llama.cpp-style flags: one prompt,
 * one or K parallel samples (JSONL), greedy or sampled; --dump-logits for
 * testing against a reference.
 *
 * Order of work: flags (exit 2 at once, before any file is read), then the
 * small files (tokenizer, config.json, generation_config.json) and the
 * prompt, then the device, then the weights, then generation. Output streams:
 * one sample's text as it is generated, or one JSON line per finished sample.
 * SIGINT/SIGTERM stop at the next step, print what each live sample has
 * ("finish_reason": "interrupted") and exit 130; a second one exits at once.
 * Exit codes: 0 ok, 1 runtime error, 2 usage error, 130 interrupted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat_template.h"
#include "generate_tool.h"
#include "interrupt.h"
#include "memstat.h"
#include "options.h"
#include "output.h"
#include "pipeline.h"
#include "progress.h"

static int fail(enum vkg_status s, const char *what)
{
    fprintf(stderr, "vkgrm-generate: %s: %s: %s\n", what, vkg_status_message(s), vkg_error_detail());
    return 1;
}

static void on_progress(void *user, uint64_t done, uint64_t total)
{
    struct vkg_progress *p = user;
    p->total = total;
    vkg_progress_update(p, done);
}

/* Raw little-endian float32 [n_prompt][out_dim], written whole or not at all
 * (output.h: a regular file is replaced atomically, /dev/null or a pipe
 * written through). */
static enum vkg_status write_logits(const char *path, const float *x, uint64_t n)
{
    struct vkg_out o;
    enum vkg_status s = vkg_out_open(path, &o);
    if (s == VKG_OK) s = vkg_out_write(&o, x, n * 4);
    if (s == VKG_OK) return vkg_out_commit(&o);
    vkg_out_abort(&o);
    return s;
}

/* Sampling settings: the flags, else generation_config.json's (do_sample),
 * else greedy. */
static struct vkg_sampler sampler_settings(const struct args *a, const struct vkg_generation_config *gc)
{
    struct vkg_sampler s = vkg_sampler_greedy();
    int cfg = gc->present && gc->do_sample;
    if (a->temp >= 0) s.temperature = (float)a->temp;
    else if (cfg) s.temperature = (float)gc->temperature;
    s.top_k = a->top_k >= 0 ? (uint32_t)a->top_k : cfg ? gc->top_k : 0;
    s.top_p = a->top_p >= 0 ? (float)a->top_p : cfg ? (float)gc->top_p : 1.0f;
    s.min_p = a->min_p > 0 ? (float)a->min_p : 0.0f;
    s.seed = (uint64_t)a->seed;
    return s;
}

/* Tokens per sample: -n, or with -n -1 what is left of the context (-c,
 * else max_position_embeddings). Prints the usage error and returns 0 when
 * they do not fit. */
static int plan_tokens(const struct args *a, const struct vkg_hf_config *cfg, uint32_t n_prompt, uint32_t *max_tokens)
{
    uint64_t limit = a->ctx > 0 ? (uint64_t)a->ctx : cfg->max_position_embeddings;
    const char *lim = a->ctx > 0 ? "-c" : "max_position_embeddings";
    if (a->ctx > 0 && cfg->max_position_embeddings && (uint64_t)a->ctx > cfg->max_position_embeddings) {
        fprintf(stderr, "vkgrm-generate: -c %lld exceeds the model's max_position_embeddings %llu\n", (long long)a->ctx,
                (unsigned long long)cfg->max_position_embeddings);
        return 0;
    }
    if (a->n_predict < 0 && !limit) {
        fprintf(stderr,
                "vkgrm-generate: -n -1 needs a context limit: config.json has no max_position_embeddings; give -c\n");
        return 0;
    }
    if (limit && (uint64_t)n_prompt + (a->n_predict < 0 ? 1 : (uint64_t)a->n_predict) > limit) {
        fprintf(stderr, "vkgrm-generate: prompt (%u tokens) + -n %lld exceeds %s %llu\n", n_prompt,
                (long long)(a->n_predict < 0 ? 1 : a->n_predict), lim, (unsigned long long)limit);
        return 0;
    }
    *max_tokens = a->n_predict < 0 ? (uint32_t)(limit - n_prompt) : (uint32_t)a->n_predict;
    return 1;
}

/* The small files: tokenizer, config.json, generation_config.json. */
static int load_files(const struct args *a, struct vkg_tokenizer **tok, struct vkg_hf_config *cfg,
                      struct vkg_generation_config *gc)
{
    enum vkg_status s = vkg_tokenizer_load(a->model, tok);
    if (s != VKG_OK && (!a->prompt_ids || s != VKG_ERR_NOT_FOUND)) return fail(s, "tokenizer");
    if ((s = vkg_hf_config_load(a->model, cfg)) != VKG_OK) return fail(s, "config");
    if ((s = vkg_generation_config_load(a->model, gc)) != VKG_OK) return fail(s, "generation config");
    return 0;
}

struct run_state {
    struct vkg_tokenizer *tok;
    struct vkg_hf_config cfg;
    struct vkg_generation_config gc;
    struct prompt *prompts;
    size_t n_prompts;
    struct vkg_device *dev;
    struct vkg_model *m;
    float *logits;
    struct vkg_gen_sample *out;
};

/* --mem-stats: host RSS, malloc heap, device memory, the resident part of
 * large anonymous mappings (memstat.h) and pipelines, after each prompt (tools/soak.sh). */
static void mem_stats(const struct run_state *r, size_t i)
{
    struct vkg_memstat ms;
    vkg_memstat_sample(&ms);
    fprintf(stderr,
            "mem: prompt %zu rss_kib %llu device_bytes %llu host_visible_bytes %llu heap_bytes %llu "
            "big_anon_kib %llu pipelines %u\n",
            i, ms.rss_kib, (unsigned long long)vkg_blocks_allocated(r->dev, VKG_MEM_DEVICE),
            (unsigned long long)vkg_blocks_allocated(r->dev, VKG_MEM_HOST), ms.heap_bytes, ms.big_anon_kib,
            vkg_pipeline_count(r->dev));
}

/* Generates the samples of prompt `pi`; 0, 1 (error) or 130 (interrupted). */
static int generate(const struct args *a, struct run_state *r, size_t pi)
{
    const struct prompt *p = &r->prompts[pi];
    uint32_t max_tokens;
    if (!plan_tokens(a, &r->cfg, p->n, &max_tokens)) return 2;
    struct vkg_gen_request req = { .prompt = p->ids,
                                   .n_prompt = p->n,
                                   .n_samples = (uint32_t)a->n_samples,
                                   .max_tokens = max_tokens,
                                   .sampler = sampler_settings(a, &r->gc) };
    int32_t eos[VKG_GEN_MAX_EOS];
    const char *stops[1] = { a->stop };
    struct stream st = { .tok = r->tok,
                         .jsonl = a->n_samples > 1 || a->json || a->prompts,
                         .prompt = a->prompts ? (int64_t)pi : -1 };
    struct vkg_progress gp;
    struct vkg_gen_opts go = { .eos = eos,
                               .n_eos = vkg_gen_eos_ids(&r->cfg, &r->gc, r->tok, eos),
                               .stop = stops,
                               .n_stop = a->stop ? 1 : 0,
                               .tok = r->tok,
                               .progress = on_progress,
                               .user = &gp,
                               .on_token = stream_on_token,
                               .on_finish = stream_on_finish,
                               .stream_user = &st,
                               .interrupt = &vkg_interrupted };
    vkg_progress_init(&gp, "generate", (uint64_t)a->n_samples * max_tokens, 0);
    if (!st.jsonl && isatty(STDOUT_FILENO)) gp.enabled = 0; /* the text itself shows the progress */
    if (a->dump && !(go.prompt_logits = r->logits = malloc((uint64_t)p->n * r->m->out_dim * 4)))
        return fail(vkg_error(VKG_ERR_NOMEM, "--dump-logits: %u x %u floats", p->n, r->m->out_dim), "dump");
    vkg_interrupt_arm(1);
    enum vkg_status s = vkg_generate(r->m, &req, 1, &go, r->out);
    vkg_interrupt_arm(0);
    vkg_progress_finish(&gp);
    if (s != VKG_OK) return fail(s, "generate");
    vkg_gen_results_free(r->out, (uint32_t)a->n_samples);
    if (a->dump && (s = write_logits(a->dump, r->logits, (uint64_t)p->n * r->m->out_dim)) != VKG_OK)
        return fail(s, "dump");
    if (a->mem_stats) mem_stats(r, pi);
    if (vkg_interrupted) {
        fprintf(stderr, "vkgrm-generate: interrupted; each sample's output so far was written\n");
        return VKG_EXIT_INTERRUPTED;
    }
    return 0;
}

static int run(const struct args *a)
{
    struct run_state r = { 0 };
    struct vkg_device_opts d = { .index = -1, .validate = -1 };
    struct vkg_model_opts mo = { 0 };
    struct vkg_progress lp;
    enum vkg_status s;
    uint32_t unused;
    int rc = 1;
    vkg_options_device(a->device, &d.index, &d.name);
    if ((rc = load_files(a, &r.tok, &r.cfg, &r.gc)) != 0) goto done;
    rc = 2;
    if ((s = prompts_load(a, &r.cfg, r.tok, &r.prompts, &r.n_prompts)) != VKG_OK) {
        fail(s, "prompt");
        goto done;
    }
    for (size_t i = 0; i < r.n_prompts; i++) /* every prompt fits before anything is loaded */
        if (!plan_tokens(a, &r.cfg, r.prompts[i].n, &unused)) goto done;
    if ((s = vkg_device_open(&d, &r.dev)) != VKG_OK) { /* a --device that does not exist is a usage error */
        rc = fail(s, "device") + (s == VKG_ERR_NOT_FOUND && a->device);
        goto done;
    }
    rc = 1;
    vkg_weights_parse_dtype(a->weights, &mo.weights); /* checked in main */
    vkg_progress_init(&lp, "load", 0, 1);
    mo.progress = on_progress;
    mo.user = &lp;
    if ((s = vkg_model_load(r.dev, a->model, &mo, &r.m)) != VKG_OK) {
        fail(s, a->model);
        goto done;
    }
    vkg_progress_finish(&lp);
    if (!(r.out = calloc((size_t)a->n_samples, sizeof *r.out))) {
        fail(VKG_ERR_NOMEM, "samples");
        goto done;
    }
    rc = 0;
    for (size_t i = 0; i < r.n_prompts && rc == 0; i++) {
        rc = generate(a, &r, i);
        free(r.logits);
        r.logits = NULL;
    }
done:
    if (r.out) vkg_gen_results_free(r.out, (uint32_t)a->n_samples);
    free(r.out);
    free(r.logits);
    prompts_free(r.prompts, r.n_prompts);
    vkg_model_free(r.m);
    if (vkg_device_close(r.dev) != VKG_OK && rc == 0) rc = fail(VKG_ERR_VALIDATION, "device");
    vkg_hf_config_free(&r.cfg);
    vkg_tokenizer_free(r.tok);
    return rc;
}

/* Checks between flags that the option table cannot express. */
static int check_flags(struct args *a)
{
    enum vkg_dtype wd;
    if (!a->model || (!a->prompt && !a->file && !a->prompt_ids && !a->prompts)) {
        fprintf(stderr, "vkgrm-generate: need -m DIR and one of -p TEXT, -f FILE, --prompts FILE, --prompt-ids IDS "
                        "(see --help)\n");
        return 2;
    }
    if (!!a->prompt + !!a->file + !!a->prompt_ids + !!a->prompts > 1) {
        fprintf(stderr, "vkgrm-generate: give the prompt once: -p TEXT, -f FILE, --prompts FILE or --prompt-ids IDS\n");
        return 2;
    }
    if (a->prompts && a->dump) {
        fprintf(stderr, "vkgrm-generate: --dump-logits takes one prompt, not --prompts\n");
        return 2;
    }
    if (vkg_weights_parse_dtype(a->weights, &wd) != VKG_OK) {
        fprintf(stderr, "vkgrm-generate: %s\n", vkg_error_detail());
        return 2;
    }
    if (a->tmpl && vkg_chat_family_from_name(a->tmpl) == VKG_CHAT_UNKNOWN) {
        fprintf(stderr,
                "vkgrm-generate: --chat-template '%s': expected chatml, qwen3, deepseek2, deepseek3, gemma or "
                "llama3\n",
                a->tmpl);
        return 2;
    }
    if (a->tmpl || a->tmpl_file) a->chat = 1;
    if (a->prompt_ids && a->chat) {
        fprintf(stderr, "vkgrm-generate: --chat needs a text prompt (-p or -f), not --prompt-ids\n");
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct args a = { .n_predict = 128, .ctx = 0, .top_k = -1, .seed = 0, .n_samples = 1, .temp = -1, .top_p = -1 };
    const struct vkg_option opts[] = {
        { "-m", "--model", VKG_OPT_STRING, &a.model, "DIR", "Hugging Face model directory or GGUF file (required)" },
        { "-p", "--prompt", VKG_OPT_STRING, &a.prompt, "TEXT", "prompt text" },
        { "-f", "--file", VKG_OPT_STRING, &a.file, "FILE", "read the prompt from FILE (- for stdin)" },
        { NULL, "--prompts", VKG_OPT_STRING, &a.prompts, "FILE",
          "one prompt per line, a JSON string or {\"prompt\": ...} (JSONL out with \"prompt_index\")" },
        { "-n", "--n-predict", VKG_OPT_INT, &a.n_predict, "N",
          "tokens to generate per sample (128; 0 = prompt only; -1 = until eos or the context is full)",
          VKG_RANGE_CC(-1, INT32_MAX) },
        { "-c", "--ctx-size", VKG_OPT_INT, &a.ctx, "N",
          "context limit: prompt + N must fit (0 = the model's max_position_embeddings)", VKG_RANGE_CC(0, INT32_MAX) },
        { NULL, "--temp", VKG_OPT_FLOAT, &a.temp, "T", "temperature (0 = greedy; default: generation_config or greedy)",
          VKG_RANGE_MIN(0) },
        { NULL, "--top-k", VKG_OPT_INT, &a.top_k, "K", "top-k filter (0 = off)", VKG_RANGE_CC(0, INT32_MAX) },
        { NULL, "--top-p", VKG_OPT_FLOAT, &a.top_p, "P", "top-p (nucleus) filter (1 = off)", VKG_RANGE_OC(0, 1) },
        { NULL, "--min-p", VKG_OPT_FLOAT, &a.min_p, "P", "min-p filter (0 = off)", VKG_RANGE_CC(0, 1) },
        { "-s", "--seed", VKG_OPT_INT, &a.seed, "SEED", "sampling seed (0)", VKG_RANGE_MIN(0) },
        { "-d", "--device", VKG_OPT_STRING, &a.device, "N|NAME", "Vulkan device index or name substring" },
        { NULL, "--weights", VKG_OPT_STRING, &a.weights, "TYPE",
          "device dtype of matrices: f32|f16|bf16|q8_0|q4 (as stored)" },
        { NULL, "--chat", VKG_OPT_FLAG, &a.chat, NULL, "wrap the prompt in the model's chat template" },
        { NULL, "--system", VKG_OPT_STRING, &a.system, "TEXT", "system message (with --chat)" },
        { NULL, "--chat-template", VKG_OPT_STRING, &a.tmpl, "NAME",
          "chatml|qwen3|deepseek2|deepseek3|gemma|llama3 (implies --chat)" },
        { NULL, "--chat-template-file", VKG_OPT_STRING, &a.tmpl_file, "FILE",
          "your own template file (implies --chat; README)" },
        { NULL, "--no-think", VKG_OPT_FLAG, &a.no_think, NULL, "Qwen3 chat: enable_thinking = false" },
        { NULL, "--n-samples", VKG_OPT_INT, &a.n_samples, "K", "K parallel samples of the prompt (JSONL out)",
          VKG_RANGE_CC(1, 4096) },
        { NULL, "--stop", VKG_OPT_STRING, &a.stop, "TEXT", "stop a sample when its text contains TEXT" },
        { NULL, "--json", VKG_OPT_FLAG, &a.json, NULL, "JSONL output even for one sample" },
        { NULL, "--prompt-ids", VKG_OPT_STRING, &a.prompt_ids, "IDS", "prompt as token ids: 1,2,3 (testing)" },
        { NULL, "--dump-logits", VKG_OPT_STRING, &a.dump, "FILE",
          "write prompt logits, f32 [n_prompt x vocab|labels]" },
        { NULL, "--mem-stats", VKG_OPT_FLAG, &a.mem_stats, NULL,
          "after each prompt: host RSS and device memory (stderr)" },
    };
    vkg_interrupt_install(); /* before the work: a signal exits 130 at once */
    int rc = vkg_options_parse(opts, VKG_COUNT(opts), argc, argv, NULL, "vkgrm-generate",
                               "Generates text with a Hugging Face model on a Vulkan device.");
    if (rc) return rc == 1 ? 0 : 2;
    if ((rc = check_flags(&a)) != 0) return rc;
    return run(&a);
}
