/* vkgrm-inspect — check a Hugging Face model directory (or one safetensors
 * file) without a GPU.
 *
 *   vkgrm-inspect DIR [--weights TYPE] [--json] [--tensors]
 *   vkgrm-inspect FILE.safetensors | DIR --files-only
 *
 * A directory gets exactly the checks vkgrm-generate runs before it allocates
 * anything (vkg_model_check, runtime/models/check.h): config.json,
 * generation_config.json, tokenizer.json + tokenizer_config.json, and every
 * tensor against the shapes the architecture and config imply. A file (or
 * --files-only) gets the safetensors checks alone. Every problem is one line
 * on stderr ("vkgrm-inspect: error: <file>: ..."), notes go to stderr too
 * ("vkgrm-inspect: note: ..."); the report goes to stdout. Exit status: 0
 * when it would load, 1 when vkgrm-generate would refuse it, 2 on a usage
 * error. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "options.h"
#include "gguf.h"
#include "safetensors.h"
#include "weights.h"

#define PROG "vkgrm-inspect"

struct report {
    const char *path;
    int whole; /* a model directory checked whole (m is filled) */
    struct vkg_model_report m;
    char *arch;                 /* config.json architectures[0], or NULL */
    char *model_type;           /* config.json model_type, or NULL */
    struct vkg_safetensors *st; /* files-only mode; else m.st */
    uint64_t count[VKG_DTYPE_COUNT];
    uint64_t bytes[VKG_DTYPE_COUNT];
    cJSON *errors; /* array of strings: why it would not load */
    int n_errors;  /* counted apart, so a failed allocation cannot hide one */
};

/* Messages quote names from the file, which may hold escaped newlines: keep
 * each problem on one line. */
static void add_error(struct report *r, const char *msg)
{
    r->n_errors++;
    cJSON *s = cJSON_CreateString(msg);
    if (!s) return;
    for (char *c = s->valuestring; *c; c++)
        if ((unsigned char)*c < 0x20) *c = ' ';
    cJSON_AddItemToArray(r->errors, s);
}

static char *dup_string(const cJSON *j) { return cJSON_IsString(j) ? strdup(j->valuestring) : NULL; }

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Reads architectures[0] and model_type leniently, for the report header
 * (the validation is vkg_model_check's). files_only: an unparsable
 * config.json is this mode's one config problem. */
static void read_config(struct report *r, int files_only)
{
    if (!is_dir(r->path)) return;
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", r->path);
    FILE *f = fopen(path, "rb");
    if (!f) return;
    char *text = NULL;
    size_t cap = 0, n = 0, k;
    do {
        char *t = realloc(text, cap = cap * 2 + 4096);
        if (!t) break;
        text = t;
        n += k = fread(text + n, 1, cap - n - 1, f);
    } while (k > 0 && n == cap - 1);
    fclose(f);
    cJSON *cfg = text ? cJSON_ParseWithLength(text, n) : NULL;
    free(text);
    if (!cJSON_IsObject(cfg)) {
        if (files_only) add_error(r, "config.json: not a valid JSON object");
    } else {
        r->arch = dup_string(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cfg, "architectures"), 0));
        r->model_type = dup_string(cJSON_GetObjectItemCaseSensitive(cfg, "model_type"));
    }
    cJSON_Delete(cfg);
}

/* Histogram by dtype; in files-only mode also one error per tensor the weight upload cannot read. */
static void scan_tensors(struct report *r, int files_only)
{
    for (size_t i = 0; i < vkg_safetensors_count(r->st); i++) {
        const struct vkg_tensor_view *t = vkg_safetensors_get(r->st, i);
        r->count[t->dtype]++;
        r->bytes[t->dtype] += t->n_bytes;
        if (files_only && vkg_tensor_view_check(t) != VKG_OK) add_error(r, vkg_error_detail());
    }
}

static const char *human(uint64_t b, char *buf, size_t cap)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

static void print_tensors(const struct report *r)
{
    for (size_t i = 0; i < vkg_safetensors_count(r->st); i++) {
        const struct vkg_tensor_view *t = vkg_safetensors_get(r->st, i);
        printf("  %-48s %-8s [", t->name, vkg_dtype_name(t->dtype));
        for (int d = 0; d < t->n_dims; d++) printf("%s%llu", d ? ", " : "", (unsigned long long)t->shape[d]);
        const char *slash = strrchr(t->file, '/');
        printf("] %llu bytes  %s", (unsigned long long)t->n_bytes, slash ? slash + 1 : t->file);
        if (r->whole && r->m.dtype)
            printf("  -> %s", r->m.dtype[i] == VKG_DTYPE_UNKNOWN ? "not loaded" : vkg_dtype_name(r->m.dtype[i]));
        printf("\n");
    }
}

/* What a whole-model check adds: layers, the device dtype and bytes. */
static void print_model(const struct report *r)
{
    const struct vkg_model_report *m = &r->m;
    char h[32];
    if (m->config_ok)
        printf("layers:       %u (config), %u in the checkpoint; %zu tensors read\n", m->cfg.n_layers,
               m->layers_in_files, m->n_spec);
    if (m->weight_bytes)
        printf("on device:    %llu (%s) with --weights %s\n", (unsigned long long)m->weight_bytes,
               human(m->weight_bytes, h, sizeof h),
               m->weights == VKG_DTYPE_UNKNOWN ? "stored" : vkg_dtype_name(m->weights));
    if (m->tokenizer_ids) printf("tokenizer:    %zu ids\n", m->tokenizer_ids);
}

static void print_text(const struct report *r, int list)
{
    char h[32];
    printf("model:        %s\n", r->path);
    printf("architecture: %s", r->arch ? r->arch : "unknown (no config.json architectures)");
    if (r->model_type) printf(" (model_type %s)", r->model_type);
    printf("\n");
    if (r->st) {
        uint64_t total = vkg_safetensors_total_bytes(r->st), ts;
        printf("files:        %zu\n", vkg_safetensors_file_count(r->st));
        printf("tensors:      %zu\n", vkg_safetensors_count(r->st));
        printf("bytes:        %llu (%s)\n", (unsigned long long)total, human(total, h, sizeof h));
        printf("dtypes:      ");
        for (int d = 0; d < VKG_DTYPE_COUNT; d++)
            if (r->count[d])
                printf(" %s %llu (%s)", vkg_dtype_name(d), (unsigned long long)r->count[d],
                       human(r->bytes[d], h, sizeof h));
        printf("\n");
        if (vkg_safetensors_index_total_size(r->st, &ts) && ts != total)
            printf("note:         index total_size %llu differs from the tensors' %llu bytes (not an error)\n",
                   (unsigned long long)ts, (unsigned long long)total);
    }
    if (r->whole) print_model(r);
    if (r->st && list) print_tensors(r);
    int n = r->n_errors;
    printf(n ? "status:       would NOT load (%d problem%s)\n" : "status:       would load\n", n, n == 1 ? "" : "s");
}

static void print_json(const struct report *r, int list)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", r->path);
    cJSON_AddBoolToObject(o, "loadable", r->n_errors == 0);
    cJSON_AddItemToObject(o, "architecture", r->arch ? cJSON_CreateString(r->arch) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "model_type", r->model_type ? cJSON_CreateString(r->model_type) : cJSON_CreateNull());
    if (r->st) {
        cJSON_AddNumberToObject(o, "files", (double)vkg_safetensors_file_count(r->st));
        cJSON_AddNumberToObject(o, "tensors", (double)vkg_safetensors_count(r->st));
        cJSON_AddNumberToObject(o, "bytes", (double)vkg_safetensors_total_bytes(r->st));
        cJSON *h = cJSON_AddObjectToObject(o, "dtypes");
        for (int d = 0; d < VKG_DTYPE_COUNT; d++)
            if (r->count[d]) cJSON_AddNumberToObject(h, vkg_dtype_name(d), (double)r->count[d]);
    }
    if (r->whole) {
        cJSON_AddNumberToObject(o, "layers", r->m.config_ok ? r->m.cfg.n_layers : 0);
        cJSON_AddNumberToObject(o, "device_bytes", (double)r->m.weight_bytes);
        cJSON *notes = cJSON_AddArrayToObject(o, "notes");
        for (size_t i = 0; i < r->m.n_notes; i++) cJSON_AddItemToArray(notes, cJSON_CreateString(r->m.notes[i]));
    }
    if (r->st && list) {
        cJSON *arr = cJSON_AddArrayToObject(o, "tensor_list");
        for (size_t i = 0; i < vkg_safetensors_count(r->st); i++) {
            const struct vkg_tensor_view *t = vkg_safetensors_get(r->st, i);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", t->name);
            cJSON_AddStringToObject(e, "dtype", vkg_dtype_name(t->dtype));
            cJSON *s = cJSON_AddArrayToObject(e, "shape");
            for (int d = 0; d < t->n_dims; d++) cJSON_AddItemToArray(s, cJSON_CreateNumber((double)t->shape[d]));
            cJSON_AddNumberToObject(e, "bytes", (double)t->n_bytes);
            cJSON_AddStringToObject(e, "file", t->file);
            cJSON_AddItemToArray(arr, e);
        }
    }
    cJSON_AddItemReferenceToObject(o, "errors", r->errors);
    char *s = cJSON_Print(o);
    if (s) puts(s);
    free(s);
    cJSON_Delete(o);
}

/* A model directory: vkg_model_check, every problem an error. */
static void check_whole(struct report *r, enum vkg_dtype weights)
{
    r->whole = 1;
    struct vkg_check_opts co = { .weights = weights };
    vkg_model_check(r->path, &co, &r->m);
    for (size_t i = 0; i < r->m.n_problems; i++) add_error(r, r->m.problems[i].msg);
    r->st = r->m.st;
    if (r->st) scan_tensors(r, 0);
    if (r->m.config_ok && !r->arch) r->arch = strdup(r->m.cfg.architecture);
}

/* One file, or a directory's safetensors alone. */
static void check_files(struct report *r)
{
    if (vkg_safetensors_open(r->path, &r->st) == VKG_OK) scan_tensors(r, 1);
    else add_error(r, vkg_error_detail());
}

int main(int argc, char **argv)
{
    int json = 0, list = 0, files_only = 0;
    const char *weights_arg = NULL;
    const struct vkg_option opts[] = {
        { NULL, "--weights", VKG_OPT_STRING, &weights_arg, "TYPE",
          "check for this device dtype of matrices: f32|f16|bf16|q8_0|q4 (as stored)" },
        { NULL, "--files-only", VKG_OPT_FLAG, &files_only, NULL,
          "check the safetensors files alone, not the model (config, tokenizer, tensors vs architecture)" },
        { NULL, "--json", VKG_OPT_FLAG, &json, NULL, "print the report as JSON" },
        { NULL, "--tensors", VKG_OPT_FLAG, &list, NULL, "list every tensor (name, dtype, shape, bytes, file)" },
    };
    struct vkg_args pos;
    int rc = vkg_options_parse(opts, VKG_COUNT(opts), argc, argv, &pos, PROG,
                               PROG " DIR|FILE: checks a Hugging Face model directory or a GGUF file (config, "
                                    "generation config, tokenizer, tensors against the architecture) or a "
                                    "safetensors file "
                                    "without a GPU.\nExit status: 0 would load, 1 would not, 2 usage error.");
    if (rc) return rc == 1 ? 0 : 2;
    enum vkg_dtype weights;
    if (vkg_weights_parse_dtype(weights_arg, &weights) != VKG_OK) {
        fprintf(stderr, "%s: %s\n", PROG, vkg_error_detail());
        return 2;
    }
    if (pos.count != 1) {
        fprintf(stderr, "%s: expected one model directory or .safetensors file (see --help)\n", PROG);
        return 2;
    }
    struct report r = { .path = pos.items[0], .errors = cJSON_CreateArray() };
    int whole = (is_dir(r.path) || vkg_gguf_is_path(r.path)) && !files_only; /* FILE.gguf: a whole model */
    read_config(&r, !whole);
    if (whole) check_whole(&r, weights);
    else check_files(&r);
    const cJSON *e;
    cJSON_ArrayForEach(e, r.errors) fprintf(stderr, "%s: error: %s\n", PROG, e->valuestring);
    for (size_t i = 0; whole && i < r.m.n_notes; i++) fprintf(stderr, "%s: note: %s\n", PROG, r.m.notes[i]);
    if (json) print_json(&r, list);
    else print_text(&r, list);
    int ok = r.n_errors == 0;
    if (whole) vkg_model_report_free(&r.m);
    else vkg_safetensors_close(r.st);
    cJSON_Delete(r.errors);
    free(r.arch);
    free(r.model_type);
    return ok ? 0 : 1;
}
