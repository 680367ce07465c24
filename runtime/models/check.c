/* check.c — the whole-model check (check.h): the files, then the tensors
 * against the architecture's list (spec.h), then each tensor's device dtype.
 * Host only. */
#include "check_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gguf.h"
#include "tokenizer.h"
#include "weights.h"

/* ---- the report ------------------------------------------------------------ */

static char *vformat(const char *fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    for (char *c = buf; *c; c++)
        if ((unsigned char)*c < 0x20) *c = ' '; /* names from files may hold escaped newlines */
    return strdup(buf);
}

void vkg_check_problem(struct vkg_model_report *r, enum vkg_status s, const char *fmt, ...)
{
    struct vkg_model_problem *p = realloc(r->problems, (r->n_problems + 1) * sizeof *p);
    if (!p) return; /* out of memory: the count below still shows a problem */
    r->problems = p;
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    p[r->n_problems++] = (struct vkg_model_problem){ .status = s, .msg = msg ? msg : strdup("(out of memory)") };
}

void vkg_check_note(struct vkg_model_report *r, const char *fmt, ...)
{
    char **n = realloc(r->notes, (r->n_notes + 1) * sizeof *n);
    if (!n) return;
    r->notes = n;
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    if (msg) n[r->n_notes++] = msg;
}

void vkg_model_report_free(struct vkg_model_report *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n_problems; i++) free(r->problems[i].msg);
    for (size_t i = 0; i < r->n_notes; i++) free(r->notes[i]);
    free(r->problems);
    free(r->notes);
    free(r->spec);
    free(r->dtype);
    free(r->dir);
    vkg_safetensors_close(r->st);
    if (r->config_ok) vkg_hf_config_free(&r->cfg);
    memset(r, 0, sizeof *r);
}

/* ---- the files ------------------------------------------------------------- */

/* generation_config.json (optional) and tokenizer.json (optional, with its
 * tokenizer_config.json): parsed, and the ids the tokenizer produces. */
static void check_side_files(struct vkg_model_report *r, const struct vkg_tokenizer *given)
{
    if (vkg_generation_config_load(r->dir, &r->gen) != VKG_OK)
        vkg_check_problem(r, VKG_ERR_CONFIG, "%s", vkg_error_detail());
    if (given) {
        r->tokenizer_ids = vkg_tokenizer_vocab_size(given);
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer.json", r->dir);
    if (vkg_gguf_is_path(r->dir)) { /* FILE.gguf: the tokenizer is in the metadata */
        struct vkg_gguf *g = NULL;
        const char *model = NULL;
        int has = vkg_gguf_open(r->dir, &g) == VKG_OK && vkg_gguf_find_kv(g, "tokenizer.ggml.model");
        /* "none" / "no_vocab": llama.cpp's vocabulary-less files (LLAMA_VOCAB_TYPE_NONE) */
        int none = has && vkg_gguf_get_str(g, "tokenizer.ggml.model", &model) == VKG_OK &&
                   (strcmp(model, "none") == 0 || strcmp(model, "no_vocab") == 0);
        vkg_gguf_close(g);
        if (!has || none) {
            vkg_check_note(r, "%s: %s: prompts must be given as token ids", r->dir,
                           none ? "tokenizer.ggml.model 'none' (no vocabulary)" : "no tokenizer.ggml.model");
            return;
        }
    } else if (access(path, F_OK) != 0) {
        vkg_check_note(r, "%s: no tokenizer.json: prompts must be given as token ids", r->dir);
        return;
    }
    struct vkg_tokenizer *tok = NULL;
    enum vkg_status s = vkg_tokenizer_load(r->dir, &tok);
    if (s != VKG_OK) vkg_check_problem(r, s, "%s", vkg_error_detail());
    else r->tokenizer_ids = vkg_tokenizer_vocab_size(tok);
    vkg_tokenizer_free(tok);
}

/* The layer index of a "model.layers.N." name, or -1. */
static int64_t layer_of(const char *name)
{
    if (strncmp(name, "model.layers.", 13) != 0 || name[13] < '0' || name[13] > '9') return -1;
    char *end;
    unsigned long long v = strtoull(name + 13, &end, 10);
    return *end == '.' && v < UINT32_MAX ? (int64_t)v : -1;
}

/* 1 + the largest N of the "model.layers.N." tensors (0 when none). */
static uint32_t layers_in_files(const struct vkg_safetensors *st)
{
    int64_t n = 0;
    for (size_t i = 0; i < vkg_safetensors_count(st); i++) {
        int64_t l = layer_of(vkg_safetensors_get(st, i)->name);
        if (l + 1 > n) n = l + 1;
    }
    return (uint32_t)n;
}

/* ---- the tensors ----------------------------------------------------------- */

static void shape_text(char *buf, size_t cap, int n_dims, const uint64_t *shape)
{
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < n_dims && k < cap; d++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%llu", d ? ", " : "", (unsigned long long)shape[d]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

static void spec_text(char *buf, size_t cap, const struct vkg_tensor_spec *e)
{
    char sh[64];
    shape_text(sh, sizeof sh, e->n_dims, e->shape);
    if (e->n_dims == 1) snprintf(buf, cap, "%s (%s)", sh, e->why[0]);
    else snprintf(buf, cap, "%s (%s, %s)", sh, e->why[0], e->why[1]);
}

/* One spec entry against the checkpoint: present, shaped as implied, a readable dtype. */
static void check_entry(struct vkg_model_report *r, struct vkg_tensor_spec *e, uint8_t *used)
{
    char want[256], got[64];
    spec_text(want, sizeof want, e);
    const struct vkg_tensor_view *t = vkg_safetensors_find(r->st, e->name);
    if (!t) {
        const char *hint = strcmp(e->name, "lm_head.weight") == 0 ? " (tie_word_embeddings is false)" : "";
        vkg_check_problem(r, VKG_ERR_NOT_FOUND, "%s: tensor '%s' is missing; the config implies %s%s", r->dir, e->name,
                          want, hint);
        return;
    }
    size_t i = (size_t)(t - vkg_safetensors_get(r->st, 0)), n = vkg_safetensors_count(r->st);
    if (i >= n || vkg_safetensors_get(r->st, i) != t) /* views are not promised to be one array: search */
        for (i = 0; i + 1 < n && vkg_safetensors_get(r->st, i) != t; i++) {}
    used[i] = 1;
    e->index = (int64_t)i;
    if (t->n_dims != e->n_dims || t->shape[0] != e->shape[0] || (e->n_dims == 2 && t->shape[1] != e->shape[1])) {
        shape_text(got, sizeof got, t->n_dims, t->shape);
        vkg_check_problem(r, VKG_ERR_FORMAT, "%s: tensor '%s': shape %s, the config implies %s", t->file, t->name, got,
                          want);
        e->index = -1;
        return;
    }
    if (!vkg_dtype_is_loadable(t->dtype)) {
        vkg_check_problem(r, VKG_ERR_UNSUPPORTED,
                          "%s: tensor '%s': dtype %s is unsupported for weights (supported: "
                          "F32, F16, BF16; Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K matrices from GGUF)",
                          t->file, t->name, vkg_dtype_name(t->dtype));
        e->index = -1;
    } else if (vkg_dtype_is_block(t->dtype) && t->n_dims < 2) {
        vkg_check_problem(r, VKG_ERR_UNSUPPORTED, "%s: tensor '%s': a %s vector (norm or bias) is unsupported", t->file,
                          t->name, vkg_dtype_name(t->dtype));
        e->index = -1;
    }
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Every checkpoint tensor that no spec entry matched: ignored (transformers
 * drops it too) or a problem. Layers past the spec'd ones were reported as a
 * layer-count problem already. */
static void check_unexpected(struct vkg_model_report *r, const uint8_t *used, uint32_t spec_layers)
{
    size_t n_ignored = 0;
    const char *first_ignored = NULL;
    int head_ignored = 0;
    for (size_t i = 0; i < vkg_safetensors_count(r->st); i++) {
        const struct vkg_tensor_view *t = vkg_safetensors_get(r->st, i);
        if (used[i]) continue;
        int tied_head = strcmp(t->name, "lm_head.weight") == 0 && r->cfg.tie_word_embeddings && !r->cfg.seq_cls;
        if (tied_head || ends_with(t->name, ".rotary_emb.inv_freq")) {
            if (!first_ignored) first_ignored = t->name;
            head_ignored |= tied_head;
            n_ignored++;
            continue;
        }
        int64_t l = layer_of(t->name);
        if (l >= (int64_t)spec_layers && r->layers_in_files != r->cfg.n_layers) continue;
        char sh[64];
        shape_text(sh, sizeof sh, t->n_dims, t->shape);
        vkg_check_problem(r, VKG_ERR_FORMAT,
                          "%s: tensor '%s' %s is not read by %s with this config.json "
                          "(unexpected: a config that disagrees with the checkpoint?)",
                          t->file, t->name, sh, r->cfg.architecture);
    }
    if (n_ignored)
        vkg_check_note(r, "%s: %zu tensor%s not loaded, as transformers ignores them too (%s%s)", r->dir, n_ignored,
                       n_ignored == 1 ? "" : "s", first_ignored,
                       head_ignored ? "; tie_word_embeddings: the embedding is the head" : "");
}

static void check_tensors(struct vkg_model_report *r)
{
    uint32_t n_layers = r->layers_in_files < r->cfg.n_layers ? r->layers_in_files : r->cfg.n_layers;
    enum vkg_status s = vkg_model_spec(&r->cfg, n_layers, &r->spec, &r->n_spec);
    if (s != VKG_OK) {
        vkg_check_problem(r, s, "%s", vkg_error_detail());
        return;
    }
    uint8_t *used = calloc(vkg_safetensors_count(r->st) + 1, 1);
    if (!used) {
        vkg_check_problem(r, VKG_ERR_NOMEM, "%s: tensor table", r->dir);
        return;
    }
    for (size_t i = 0; i < r->n_spec; i++) check_entry(r, &r->spec[i], used);
    check_unexpected(r, used, n_layers);
    free(used);
}

/* ---- device dtypes --------------------------------------------------------- */

static int quantized(enum vkg_dtype t) { return t == VKG_DTYPE_Q8_0 || t == VKG_DTYPE_Q4; }

/* The dtype of every spec'd tensor under r->weights (check.h's rule), and the bytes. */
static void assign_dtypes(struct vkg_model_report *r);

enum vkg_status vkg_model_check(const char *dir, const struct vkg_check_opts *opts, struct vkg_model_report *r)
{
    memset(r, 0, sizeof *r);
    r->weights = opts ? opts->weights : VKG_DTYPE_UNKNOWN;
    r->dir = strdup(dir);
    if (!r->dir) return vkg_error(VKG_ERR_NOMEM, "model check");
    char cfg_path[4096];
    if (vkg_gguf_is_path(dir)) { /* one file: when it does not open, that is the one problem */
        struct vkg_gguf *g = NULL;
        enum vkg_status gs = vkg_gguf_open(dir, &g);
        vkg_gguf_close(g);
        if (gs != VKG_OK) {
            vkg_check_problem(r, gs, "%s", vkg_error_detail());
            return gs; /* the detail is still the reader's */
        }
        snprintf(cfg_path, sizeof cfg_path, "%s (metadata)", dir);
    } else snprintf(cfg_path, sizeof cfg_path, "%s/config.json", dir);
    if (vkg_hf_config_load(dir, &r->cfg) == VKG_OK) r->config_ok = 1;
    else vkg_check_problem(r, VKG_ERR_CONFIG, "%s", vkg_error_detail());
    if (vkg_safetensors_open(dir, &r->st) != VKG_OK) vkg_check_problem(r, VKG_ERR_FORMAT, "%s", vkg_error_detail());
    else r->layers_in_files = layers_in_files(r->st);
    check_side_files(r, opts ? opts->tokenizer : NULL);
    if (r->config_ok) {
        int bounded = vkg_check_config(r, cfg_path);
        if (bounded && r->st) check_tensors(r);
        if (bounded && r->st && !r->n_problems) assign_dtypes(r);
    }
    if (!r->n_problems) return VKG_OK;
    const struct vkg_model_problem *p = &r->problems[0];
    if (r->n_problems == 1) return vkg_error(p->status, "%s", p->msg);
    return vkg_error(p->status, "%s (and %zu more problem%s: vkgrm-inspect %s lists them)", p->msg, r->n_problems - 1,
                     r->n_problems == 2 ? "" : "s", dir);
}

/* ---- device dtypes (continued) ----------------------------------------------- */

enum vkg_dtype vkg_dtype_on_device(enum vkg_dtype want, enum vkg_dtype src, int n_dims, uint64_t inner)
{
    if (n_dims < 2) return VKG_DTYPE_F32;    /* norms, biases: the kernels read F32 */
    if (vkg_dtype_is_block(src)) return src; /* GGUF blocks are read as stored: no dequantizing upload */
    if (want == VKG_DTYPE_UNKNOWN) return src;
    if (quantized(want) && inner % 32 != 0) return src; /* no whole blocks */
    return want;
}

/* weights.h; here because it is host code (vkgrm-inspect). */
enum vkg_status vkg_weights_parse_dtype(const char *s, enum vkg_dtype *out)
{
    static const struct {
        const char *name;
        enum vkg_dtype dt;
    } names[] = { { "stored", VKG_DTYPE_UNKNOWN }, { "f32", VKG_DTYPE_F32 },   { "f16", VKG_DTYPE_F16 },
                  { "bf16", VKG_DTYPE_BF16 },      { "q8_0", VKG_DTYPE_Q8_0 }, { "q4", VKG_DTYPE_Q4 } };
    *out = VKG_DTYPE_UNKNOWN;
    if (!s) return VKG_OK;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].dt;
            return VKG_OK;
        }
    return vkg_error(VKG_ERR_INVALID_ARG, "--weights '%s': expected f32, f16, bf16, q8_0, q4 or stored", s);
}

/* Stored, converted or quantized, before the expert-set rule below. */
static enum vkg_dtype target(enum vkg_dtype want, const struct vkg_tensor_view *t)
{
    return vkg_dtype_on_device(want, t->dtype, t->n_dims, t->n_dims ? t->shape[t->n_dims - 1] : 1);
}

/* The experts of layer l (entries [first, end) of the spec) keep their
 * stored dtype when any of them cannot be quantized; their gate and up
 * matrices must end as one dtype, and their down matrices as one (which may
 * be another: llama.cpp's Q4_K_M stores some down stacks as Q6_K). */
static void expert_set(struct vkg_model_report *r, size_t first, size_t end, char *kept, size_t kept_cap,
                       enum vkg_dtype *kept_dtype)
{
    const struct vkg_tensor_spec *e0 = &r->spec[first];
    int keep = 0;
    for (size_t i = first; i < end; i++) keep |= quantized(r->weights) && r->spec[i].shape[1] % 32 != 0;
    enum vkg_dtype one[2] = { VKG_DTYPE_UNKNOWN, VKG_DTYPE_UNKNOWN }; /* gate/up, down */
    for (size_t i = first; i < end; i++) {
        const struct vkg_tensor_view *t = vkg_safetensors_get(r->st, (size_t)r->spec[i].index);
        enum vkg_dtype dt = keep ? t->dtype : target(r->weights, t);
        int d = r->spec[i].matrix == 2;
        r->dtype[r->spec[i].index] = dt;
        if (one[d] == VKG_DTYPE_UNKNOWN) one[d] = dt;
        if (dt != one[d]) {
            vkg_check_problem(r, VKG_ERR_UNSUPPORTED,
                              "%s: tensor '%s' is %s, but the other experts' %s matrices of layer %d are "
                              "%s: the expert kernels take one dtype for gate and up, one for down",
                              t->file, t->name, vkg_dtype_name(dt), d ? "down" : "gate/up", e0->layer,
                              vkg_dtype_name(one[d]));
            return;
        }
    }
    if (keep) {
        *kept_dtype = one[0];
        size_t k = strlen(kept);
        snprintf(kept + k, kept_cap - k, "%s%d", k ? ", " : "", e0->layer);
    }
}

/* Bytes of the device buffers: one per tensor, one per stacked expert matrix
 * of a layer; the largest of them is what maxBufferSize must hold. */
static void count_bytes(struct vkg_model_report *r)
{
    uint64_t stack[3] = { 0 };
    int32_t stack_layer = -1;
    for (size_t i = 0; i < vkg_safetensors_count(r->st); i++) {
        const struct vkg_tensor_view *t = vkg_safetensors_get(r->st, i);
        uint64_t b = 0;
        if (r->dtype[i] == VKG_DTYPE_UNKNOWN || vkg_dtype_bytes(r->dtype[i], vkg_tensor_view_numel(t), &b) != VKG_OK)
            continue;
        r->weight_bytes += b;
        if (b > r->largest_tensor_bytes) {
            r->largest_tensor_bytes = b;
            snprintf(r->largest_tensor, sizeof r->largest_tensor, "%s", t->name);
        }
    }
    for (size_t i = 0; i < r->n_spec; i++) {
        const struct vkg_tensor_spec *e = &r->spec[i];
        if (e->expert < 0) continue;
        if (e->layer != stack_layer) {
            memset(stack, 0, sizeof stack);
            stack_layer = e->layer;
        }
        uint64_t b = 0;
        vkg_dtype_bytes(r->dtype[e->index], e->shape[0] * e->shape[1], &b);
        stack[e->matrix] += b;
        if (stack[e->matrix] > r->largest_tensor_bytes) {
            r->largest_tensor_bytes = stack[e->matrix];
            snprintf(r->largest_tensor, sizeof r->largest_tensor, "model.layers.%d experts (stacked)", e->layer);
        }
    }
}

/* A 16-bit expert slice must start on a 4-byte boundary (the conversion
 * kernels write whole words): rows*cols even. */
static void check_expert_alignment(struct vkg_model_report *r)
{
    for (size_t i = 0; i < r->n_spec; i++) {
        const struct vkg_tensor_spec *e = &r->spec[i];
        uint64_t b = 0;
        if (e->expert < 0 || vkg_dtype_bytes(r->dtype[e->index], e->shape[0] * e->shape[1], &b) != VKG_OK || b % 4 == 0)
            continue;
        vkg_check_problem(r, VKG_ERR_UNSUPPORTED,
                          "%s: tensor '%s' [%llu, %llu] %s: an expert of an odd number of "
                          "16-bit values cannot be stacked (try --weights f32)",
                          r->dir, e->name, (unsigned long long)e->shape[0], (unsigned long long)e->shape[1],
                          vkg_dtype_name(r->dtype[e->index]));
        return;
    }
}

static void assign_dtypes(struct vkg_model_report *r)
{
    size_t n = vkg_safetensors_count(r->st);
    if (!(r->dtype = malloc((n ? n : 1) * sizeof *r->dtype))) {
        vkg_check_problem(r, VKG_ERR_NOMEM, "%s: dtype table", r->dir);
        return;
    }
    for (size_t i = 0; i < n; i++) r->dtype[i] = VKG_DTYPE_UNKNOWN; /* not loaded unless spec'd */
    char kept_layers[256] = "", first_dense[160] = "";
    enum vkg_dtype kept_dtype = VKG_DTYPE_UNKNOWN;
    size_t n_dense = 0;
    for (size_t i = 0; i < r->n_spec;) {
        const struct vkg_tensor_spec *e = &r->spec[i];
        if (e->expert >= 0) { /* the whole expert set of this layer at once */
            size_t end = i;
            while (end < r->n_spec && r->spec[end].expert >= 0 && r->spec[end].layer == e->layer) end++;
            expert_set(r, i, end, kept_layers, sizeof kept_layers, &kept_dtype);
            i = end;
            continue;
        }
        const struct vkg_tensor_view *t = vkg_safetensors_get(r->st, (size_t)e->index);
        r->dtype[e->index] = target(r->weights, t);
        if (quantized(r->weights) && t->n_dims == 2 && r->dtype[e->index] != r->weights && !n_dense++)
            snprintf(first_dense, sizeof first_dense, "%s", t->name);
        i++;
    }
    if (kept_layers[0])
        vkg_check_note(r,
                       "--weights %s: the experts of layer%s %s stay %s: the expert width %u or hidden_size %u "
                       "is not a multiple of 32 (whole quantization blocks)",
                       vkg_dtype_name(r->weights), strchr(kept_layers, ',') ? "s" : "", kept_layers,
                       vkg_dtype_name(kept_dtype), r->cfg.moe_intermediate_size, r->cfg.hidden_size);
    if (n_dense)
        vkg_check_note(r, "--weights %s: %zu matri%s whose row length is not a multiple of 32 stay%s as stored (%s%s)",
                       vkg_dtype_name(r->weights), n_dense, n_dense == 1 ? "x" : "ces", n_dense == 1 ? "s" : "",
                       first_dense, n_dense > 1 ? ", ..." : "");
    check_expert_alignment(r);
    count_bytes(r);
}
