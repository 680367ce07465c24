/* vkgrm-inspect — validate a safetensors file or HF model directory without a GPU.
 *
 *   vkgrm-inspect DIR|FILE [--json] [--tensors]
 *
 * Prints the architecture (config.json), tensor count, dtype histogram and
 * total bytes, and every reason the weights would not load, one line each on
 * stderr ("vkgrm-inspect: error: <file>: tensor '<name>': ..."). Exit status:
 * 0 when the model would load, 1 when it would not, 2 on a usage error. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "options.h"
#include "safetensors.h"

#define PROG "vkgrm-inspect"

struct report {
    const char *path;
    char *arch;        /* config.json architectures[0], or NULL */
    char *model_type;  /* config.json model_type, or NULL */
    struct vkg_safetensors *st;
    uint64_t count[VKG_DTYPE_COUNT];
    uint64_t bytes[VKG_DTYPE_COUNT];
    cJSON *errors;     /* array of strings: why it would not load */
    int n_errors;      /* counted apart, so a failed allocation cannot hide one */
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

static char *dup_string(const cJSON *j)
{
    return cJSON_IsString(j) ? strdup(j->valuestring) : NULL;
}

/* Reads architectures[0] and model_type. Only a config.json that cannot be
 * parsed is a problem here; its full validation is hf_config's job. */
static void read_config(struct report *r)
{
    struct stat sb;
    if (stat(r->path, &sb) != 0 || !S_ISDIR(sb.st_mode)) return;
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
        add_error(r, "config.json: not a valid JSON object");
    } else {
        r->arch = dup_string(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cfg, "architectures"), 0));
        r->model_type = dup_string(cJSON_GetObjectItemCaseSensitive(cfg, "model_type"));
    }
    cJSON_Delete(cfg);
}

/* Histogram by dtype and one error per tensor the weight upload cannot read. */
static void scan_tensors(struct report *r)
{
    for (size_t i = 0; i < vkg_safetensors_count(r->st); i++) {
        const struct vkg_tensor_view *t = vkg_safetensors_get(r->st, i);
        r->count[t->dtype]++;
        r->bytes[t->dtype] += t->n_bytes;
        if (vkg_tensor_view_check(t) != VKG_OK) add_error(r, vkg_error_detail());
    }
}

static const char *human(uint64_t b, char *buf, size_t cap)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 4) { v /= 1024; u++; }
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
        printf("] %llu bytes  %s\n", (unsigned long long)t->n_bytes, slash ? slash + 1 : t->file);
    }
}

static void print_text(const struct report *r, int list)
{
    char h[32];
    printf("model:        %s\n", r->path);
    printf("architecture: %s", r->arch ? r->arch : "unknown (no config.json architectures)");
    if (r->model_type) printf(" (model_type %s)", r->model_type);
    printf("\n");
    if (!r->st) return;
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
    if (list) print_tensors(r);
    int n = r->n_errors;
    printf(n ? "status:       would NOT load (%d problem%s)\n" : "status:       would load\n", n,
           n == 1 ? "" : "s");
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

int main(int argc, char **argv)
{
    int json = 0, list = 0;
    const struct vkg_option opts[] = {
        { NULL, "--json", VKG_OPT_FLAG, &json, NULL, "print the report as JSON" },
        { NULL, "--tensors", VKG_OPT_FLAG, &list, NULL, "list every tensor (name, dtype, shape, bytes, file)" },
    };
    struct vkg_args pos;
    int rc = vkg_options_parse(opts, VKG_COUNT(opts), argc, argv, &pos, PROG,
                               PROG " DIR|FILE: validates safetensors weights (a file or an HF "
                               "model directory) without a GPU.\nExit status: 0 would load, 1 "
                               "would not, 2 usage error.");
    if (rc) return rc == 1 ? 0 : 2;
    if (pos.count != 1) {
        fprintf(stderr, "%s: expected one model directory or .safetensors file (see --help)\n", PROG);
        return 2;
    }
    struct report r = { .path = pos.items[0], .errors = cJSON_CreateArray() };
    read_config(&r);
    if (vkg_safetensors_open(r.path, &r.st) == VKG_OK) scan_tensors(&r);
    else add_error(&r, vkg_error_detail());
    const cJSON *e;
    cJSON_ArrayForEach(e, r.errors) fprintf(stderr, "%s: error: %s\n", PROG, e->valuestring);
    if (json) print_json(&r, list);
    else print_text(&r, list);
    int ok = r.n_errors == 0;
    vkg_safetensors_close(r.st);
    cJSON_Delete(r.errors);
    free(r.arch);
    free(r.model_type);
    return ok ? 0 : 1;
}
