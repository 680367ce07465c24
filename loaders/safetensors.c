/* safetensors.c — mmap'ed safetensors files and sharded HF directories.
 *
 * File layout: u64 little-endian N | N bytes of JSON header | byte buffer.
 * Every check of the reference reader (huggingface/safetensors) is mirrored,
 * each with its own message naming the file and, where there is one, the
 * tensor and the field:
 *   - file shorter than 8 bytes; N > 100,000,000; 8 + N past the end of file;
 *   - header not UTF-8, not JSON (json.h's strict grammar), extra bytes
 *     after the JSON value (JSON whitespace padding is fine), not an object,
 *     duplicate keys;
 *   - "__metadata__" not an object of string values (null is accepted);
 *   - entry not an object, "dtype"/"shape"/"data_offsets" missing or repeated;
 *   - dtype not a string, unknown dtype (VKG_ERR_UNSUPPORTED);
 *   - shape not a list of non-negative integers, rank > 8 (our cap),
 *     element count or byte size overflowing uint64_t, a sub-byte dtype whose
 *     elements do not fill whole bytes, byte size != end - begin;
 *   - data_offsets not 2 non-negative integers, begin > end;
 *   - sorted by offset, tensors must tile the buffer exactly: first begins
 *     at 0, each begins where the previous ended (no hole, no overlap), none
 *     ends past the buffer, and the last ends at the end of the file.
 * For an index (model.safetensors.index.json), read as Python's json reads
 * it (a repeated key: the last one wins): not JSON or not an object,
 * no "weight_map" object, non-string entries, a shard name that
 * is not a relative path inside the directory, a missing shard, a listed
 * tensor absent from its shard, a shard tensor missing from weight_map
 * (rejected: the index would be stale, and which copy is meant unclear), and
 * a tensor name present in two shards.
 *
 * JSON numbers go through cJSON's double, which is exact up to 2^53: offsets
 * and dimensions above 2^53 (9 PB) are rejected instead of being rounded. */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

#include "file.h"
#include "gguf_model.h"
#include "json.h"

#define MAX_HEADER_BYTES 100000000ull   /* the reference reader's MAX_HEADER_SIZE */
#define MAX_JSON_INT 9007199254740992.0 /* 2^53: largest range where double is exact */
#define INDEX_NAME "model.safetensors.index.json"
#define SINGLE_NAME "model.safetensors"

typedef unsigned long long ull; /* for printf */

/* ---- a string -> size_t hash table (keys are borrowed, never copied) ---- */

struct name_table {
    const char **keys;
    size_t *vals;
    size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t nt_slot(const struct name_table *t, const char *key)
{
    size_t mask = t->cap - 1, i = (size_t)hash_str(key) & mask;
    while (t->keys[i] && strcmp(t->keys[i], key) != 0) i = (i + 1) & mask;
    return i;
}

static bool nt_find(const struct name_table *t, const char *key, size_t *val)
{
    if (t->cap == 0) return false;
    size_t i = nt_slot(t, key);
    if (!t->keys[i]) return false;
    if (val) *val = t->vals[i];
    return true;
}

static enum vkg_status nt_rehash(struct name_table *t)
{
    struct name_table g = { NULL, NULL, t->cap ? t->cap * 2 : 64, t->n };
    g.keys = calloc(g.cap, sizeof *g.keys);
    g.vals = calloc(g.cap, sizeof *g.vals);
    if (!g.keys || !g.vals) {
        free(g.keys);
        free(g.vals);
        return vkg_error(VKG_ERR_NOMEM, "safetensors: name table of %zu entries", g.cap);
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i]) continue;
        size_t j = nt_slot(&g, t->keys[i]);
        g.keys[j] = t->keys[i];
        g.vals[j] = t->vals[i];
    }
    free(t->keys);
    free(t->vals);
    *t = g;
    return VKG_OK;
}

/* Adds key -> val. *dup is true (and the table unchanged, *prev = its value)
 * when the key is already present. */
static enum vkg_status nt_insert(struct name_table *t, const char *key, size_t val, bool *dup, size_t *prev)
{
    enum vkg_status s;
    if ((t->n + 1) * 2 > t->cap && (s = nt_rehash(t)) != VKG_OK) return s;
    size_t i = nt_slot(t, key);
    *dup = t->keys[i] != NULL;
    if (*dup) {
        if (prev) *prev = t->vals[i];
        return VKG_OK;
    }
    t->keys[i] = key;
    t->vals[i] = val;
    t->n++;
    return VKG_OK;
}

static void nt_free(struct name_table *t)
{
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof *t);
}

/* ---- the loader ---- */

struct st_file {
    char *path;         /* as opened (owned) */
    const char *base;   /* basename, for messages */
    const uint8_t *map; /* whole file, read-only */
    uint64_t size;
    uint64_t data_start; /* 8 + N: offsets are relative to this */
    cJSON *header;       /* owns the tensor names the views point to */
    const cJSON *metadata;
};

struct vkg_safetensors {
    struct st_file *files;
    size_t n_files, cap_files;
    struct vkg_tensor_view *tensors;
    size_t n_tensors, cap_tensors;
    struct name_table by_name; /* name -> index in tensors */
    uint64_t total_bytes;
    bool has_total_size;
    uint64_t total_size;
    void *owner; /* vkg_safetensors_adopt: what the views point into */
    void (*release)(void *owner);
};

/* A parsed header entry before it is placed in order. */
struct pending {
    struct vkg_tensor_view v;
    uint64_t begin, end;
};

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static char *join_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static enum vkg_status grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return VKG_OK;
    size_t n = *cap ? *cap : 8;
    while (n < need) n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p) return vkg_error(VKG_ERR_NOMEM, "safetensors: array of %zu x %zu bytes", n, elem);
    *arr = p;
    *cap = n;
    return VKG_OK;
}

static enum vkg_status map_file(struct st_file *f)
{
    int fd;
    uint64_t size;
    enum vkg_status s = vkg_file_open(f->path, &fd, &size); /* regular files only, never blocks */
    if (s != VKG_OK) return s;
    if (size < 8) {
        s = vkg_error(VKG_ERR_FORMAT, "%s: file is %llu bytes, shorter than the 8-byte header length", f->base,
                      (ull)size);
    } else if (size > SIZE_MAX) {
        s = vkg_error(VKG_ERR_LIMIT, "%s: %llu bytes do not fit the address space", f->base, (ull)size);
    } else {
        f->size = size;
        void *m = mmap(NULL, (size_t)f->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED)
            s = vkg_error(VKG_ERR_IO, "%s: mmap of %llu bytes: %s", f->base, (ull)f->size, strerror(errno));
        else f->map = m;
    }
    close(fd);
    return s;
}

/* Offset of the first invalid UTF-8 byte, or len when all is valid. */
static size_t utf8_invalid_at(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (k <= 0) return i;
        i += (size_t)k;
    }
    return len;
}

/* JSON allows no raw control character inside strings and only space, tab,
 * CR and LF between tokens; cJSON is laxer (it skips any byte <= 32). */
static enum vkg_status check_control_chars(const struct st_file *f, const uint8_t *h, size_t n)
{
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = h[i];
        if (in_str) {
            if (c == '\\') i++; /* the escape itself is checked by the JSON parser */
            else if (c == '"') in_str = false;
            else if (c < 0x20)
                return vkg_error(VKG_ERR_FORMAT, "%s: header has control character 0x%02x inside a string at byte %zu",
                                 f->base, c, i);
        } else if (c == '"') {
            in_str = true;
        } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            return vkg_error(VKG_ERR_FORMAT, "%s: header has control character 0x%02x at byte %zu", f->base, c, i);
        }
    }
    return VKG_OK;
}

/* Parses exactly text[0..len) as one JSON object (json.h: Python's grammar,
 * whitespace around the value is fine, trailing data is not). The header
 * keeps repeated keys so that check_unique_keys can reject them as the
 * reference reader does; the index (read by transformers with json.load)
 * keeps the last one, as Python does. */
static enum vkg_status parse_json(const char *file, const char *what, const char *text, size_t len, int flags,
                                  cJSON **out)
{
    char name[512];
    snprintf(name, sizeof name, "%s: %s", file, what);
    enum vkg_status s = vkg_json_parse(text, len, name, flags, out);
    if (s == VKG_OK && !cJSON_IsObject(*out)) s = vkg_error(VKG_ERR_FORMAT, "%s: %s is not a JSON object", file, what);
    return s;
}

static enum vkg_status parse_header(struct st_file *f)
{
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | f->map[i];
    if (n > MAX_HEADER_BYTES)
        return vkg_error(VKG_ERR_FORMAT, "%s: header length %llu > maximum %llu", f->base, (ull)n,
                         (ull)MAX_HEADER_BYTES);
    if (n > f->size - 8)
        return vkg_error(VKG_ERR_FORMAT, "%s: header length %llu runs past the end of the file (%llu bytes)", f->base,
                         (ull)n, (ull)f->size);
    const uint8_t *h = f->map + 8;
    size_t bad = utf8_invalid_at(h, (size_t)n);
    if (bad != n)
        return vkg_error(VKG_ERR_FORMAT, "%s: header is not valid UTF-8 (byte %zu of %llu)", f->base, bad, (ull)n);
    enum vkg_status s = check_control_chars(f, h, (size_t)n);
    if (s != VKG_OK) return s;
    f->data_start = 8 + n;
    return parse_json(f->base, "header", (const char *)h, (size_t)n, VKG_JSON_KEEP_DUPLICATES, &f->header);
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Every number in a header is a size (shape, data_offsets; metadata values are
 * strings), and the reference reads them as unsigned integers, rejecting
 * "8.0", "1e3", "-0" and "08". cJSON accepts these with their exact values, so
 * this runs after the per-tensor checks, which name the tensor when a value is
 * wrong rather than only spelled wrong. (A float in an unknown extra field,
 * which the reference would ignore, is rejected too.) */
static enum vkg_status check_number_syntax(const struct st_file *f)
{
    const char *h = (const char *)f->map + 8;
    size_t n = (size_t)(f->data_start - 8);
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = false;
            continue;
        }
        if (c == '"') in_str = true;
        if (c != '-' && !is_digit(c)) continue;
        size_t j = i;
        while (j < n && (is_digit(h[j]) || (h[j] && strchr("+-.eE", h[j])))) j++;
        bool plain = c != '-' && (c != '0' || j - i == 1);
        for (size_t k = i; k < j && plain; k++) plain = is_digit(h[k]);
        if (!plain)
            return vkg_error(VKG_ERR_FORMAT, "%s: header: number '%.*s' at byte %zu is not a plain unsigned integer",
                             f->base, (int)(j - i < 32 ? j - i : 32), h + i, i);
        i = j - 1;
    }
    return VKG_OK;
}

/* The header is parsed keeping repeated keys: reject them, as the reference
 * reader does. what names the object: "header" (keys are tensor names) or
 * "__metadata__". */
static enum vkg_status check_unique_keys(const char *file, const char *what, const cJSON *obj)
{
    struct name_table t = { 0 };
    enum vkg_status s = VKG_OK;
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        bool dup = false;
        if ((s = nt_insert(&t, it->string, 0, &dup, NULL)) != VKG_OK) break;
        if (dup) {
            if (strcmp(what, "header") == 0)
                s = vkg_error(VKG_ERR_FORMAT, "%s: duplicate tensor name '%.256s'", file, it->string);
            else s = vkg_error(VKG_ERR_FORMAT, "%s: %s: duplicate key '%.256s'", file, what, it->string);
            break;
        }
    }
    nt_free(&t);
    return s;
}

static enum vkg_status check_metadata(struct st_file *f)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(f->header, "__metadata__");
    if (!m || cJSON_IsNull(m)) return VKG_OK;
    if (!cJSON_IsObject(m)) return vkg_error(VKG_ERR_FORMAT, "%s: __metadata__ is not an object of strings", f->base);
    const cJSON *it;
    cJSON_ArrayForEach(it, m)
    {
        if (!cJSON_IsString(it))
            return vkg_error(VKG_ERR_FORMAT, "%s: __metadata__ value of '%.256s' is not a string", f->base, it->string);
    }
    f->metadata = m;
    return check_unique_keys(f->base, "__metadata__", m);
}

static bool json_u64(const cJSON *n, uint64_t *out)
{
    if (!cJSON_IsNumber(n)) return false;
    double d = n->valuedouble;
    if (!(d >= 0.0) || d > MAX_JSON_INT || d != floor(d)) return false;
    *out = (uint64_t)d;
    return true;
}

/* Finds the three fields of an entry; unknown fields are ignored like the reference does. */
static enum vkg_status entry_fields(const struct st_file *f, const cJSON *entry, const cJSON *out[3])
{
    static const char *const names[3] = { "dtype", "shape", "data_offsets" };
    const char *tn = entry->string;
    if (!cJSON_IsObject(entry))
        return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%.256s': entry is not an object", f->base, tn);
    out[0] = out[1] = out[2] = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, entry)
    {
        for (int k = 0; k < 3; k++) {
            if (strcmp(it->string, names[k]) != 0) continue;
            if (out[k])
                return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%.256s': duplicate field \"%s\"", f->base, tn, names[k]);
            out[k] = it;
        }
    }
    for (int k = 0; k < 3; k++)
        if (!out[k])
            return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%.256s': missing field \"%s\"", f->base, tn, names[k]);
    return VKG_OK;
}

static void format_shape(char *buf, size_t cap, const struct vkg_tensor_view *t)
{
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < t->n_dims && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%llu", i ? ", " : "", (ull)t->shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

static enum vkg_status parse_dtype(const struct st_file *f, const cJSON *j, struct vkg_tensor_view *t)
{
    if (!cJSON_IsString(j))
        return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%.256s': dtype is not a string", f->base, t->name);
    t->dtype = vkg_dtype_from_safetensors(j->valuestring);
    if (t->dtype == VKG_DTYPE_UNKNOWN)
        return vkg_error(VKG_ERR_UNSUPPORTED, "%s: tensor '%.256s': unknown dtype '%.64s'", f->base, t->name,
                         j->valuestring);
    return VKG_OK;
}

static enum vkg_status parse_shape(const struct st_file *f, const cJSON *j, struct vkg_tensor_view *t)
{
    if (!cJSON_IsArray(j))
        return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%.256s': shape is not a list", f->base, t->name);
    int rank = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, j)
    {
        if (rank == VKG_MAX_DIMS)
            return vkg_error(VKG_ERR_UNSUPPORTED, "%s: tensor '%.256s': rank %d > maximum %d", f->base, t->name,
                             cJSON_GetArraySize(j), VKG_MAX_DIMS);
        if (!json_u64(it, &t->shape[rank]))
            return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%.256s': shape[%d] is not a non-negative integer", f->base,
                             t->name, rank);
        rank++;
    }
    t->n_dims = rank;
    /* Multiply in order like the reference: a huge prefix overflows even if a later dim is 0. */
    uint64_t numel = 1;
    for (int i = 0; i < rank; i++) {
        if (t->shape[i] && numel > UINT64_MAX / t->shape[i])
            return vkg_error(VKG_ERR_OVERFLOW, "%s: tensor '%.256s': element count of shape overflows 64 bits", f->base,
                             t->name);
        numel *= t->shape[i];
    }
    return VKG_OK;
}

static enum vkg_status parse_offsets(const struct st_file *f, const cJSON *j, struct pending *p)
{
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) != 2 || !json_u64(cJSON_GetArrayItem(j, 0), &p->begin) ||
        !json_u64(cJSON_GetArrayItem(j, 1), &p->end))
        return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%.256s': data_offsets is not a list of 2 non-negative integers",
                         f->base, p->v.name);
    if (p->begin > p->end)
        return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%.256s': data_offsets begin %llu > end %llu", f->base, p->v.name,
                         (ull)p->begin, (ull)p->end);
    return VKG_OK;
}

static enum vkg_status check_size(const struct st_file *f, struct pending *p)
{
    char shape[160];
    format_shape(shape, sizeof shape, &p->v);
    uint64_t numel = vkg_tensor_view_numel(&p->v), bytes = 0;
    enum vkg_status s = vkg_dtype_bytes(p->v.dtype, numel, &bytes);
    const char *dt = vkg_dtype_name(p->v.dtype);
    if (s == VKG_ERR_FORMAT)
        return vkg_error(s, "%s: tensor '%.256s': %llu elements of %s do not fill whole bytes", f->base, p->v.name,
                         (ull)numel, dt);
    if (s != VKG_OK)
        return vkg_error(VKG_ERR_OVERFLOW, "%s: tensor '%.256s': byte size of shape %s x %s overflows 64 bits", f->base,
                         p->v.name, shape, dt);
    if (bytes != p->end - p->begin)
        return vkg_error(
            VKG_ERR_FORMAT, "%s: tensor '%.256s': shape %s x %s = %llu bytes but data_offsets [%llu, %llu] span %llu",
            f->base, p->v.name, shape, dt, (ull)bytes, (ull)p->begin, (ull)p->end, (ull)(p->end - p->begin));
    p->v.n_bytes = bytes;
    return VKG_OK;
}

static enum vkg_status parse_entry(const struct st_file *f, const cJSON *entry, struct pending *p)
{
    const cJSON *fld[3];
    enum vkg_status s;
    memset(p, 0, sizeof *p);
    p->v.name = entry->string;
    p->v.file = f->path;
    if ((s = entry_fields(f, entry, fld)) != VKG_OK) return s;
    if ((s = parse_dtype(f, fld[0], &p->v)) != VKG_OK) return s;
    if ((s = parse_shape(f, fld[1], &p->v)) != VKG_OK) return s;
    if ((s = parse_offsets(f, fld[2], p)) != VKG_OK) return s;
    return check_size(f, p);
}

static int cmp_pending(const void *a, const void *b)
{
    const struct pending *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* Sorted by offset, the tensors must tile [0, buffer size) exactly: a hole or
 * an overlap would let a file hide other data (polyglot files). */
static enum vkg_status check_layout(const struct st_file *f, const struct pending *p, size_t n)
{
    uint64_t buf = f->size - f->data_start, pos = 0;
    const char *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *tn = p[i].v.name;
        if (p[i].begin > pos)
            return vkg_error(VKG_ERR_FORMAT,
                             "%s: tensor '%.256s': data_offsets begin %llu leaves a hole after byte %llu (%s%.256s%s)",
                             f->base, tn, (ull)p[i].begin, (ull)pos, prev ? "end of '" : "start of buffer",
                             prev ? prev : "", prev ? "'" : "");
        if (p[i].begin < pos)
            return vkg_error(VKG_ERR_FORMAT,
                             "%s: tensor '%.256s': data_offsets begin %llu overlaps tensor '%.256s' (ends at %llu)",
                             f->base, tn, (ull)p[i].begin, prev, (ull)pos);
        if (p[i].end > buf)
            return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%.256s': data_offsets end %llu > buffer size %llu", f->base,
                             tn, (ull)p[i].end, (ull)buf);
        pos = p[i].end;
        prev = tn;
    }
    if (pos != buf)
        return vkg_error(
            VKG_ERR_FORMAT,
            "%s: byte buffer is %llu bytes but tensors cover only %llu (trailing bytes after the last tensor)", f->base,
            (ull)buf, (ull)pos);
    return VKG_OK;
}

/* Appends the validated entries in offset order and indexes their names. */
static enum vkg_status append_tensors(struct vkg_safetensors *st, const struct st_file *f, const struct pending *p,
                                      size_t n)
{
    enum vkg_status s = grow((void **)&st->tensors, &st->cap_tensors, st->n_tensors + n, sizeof *st->tensors);
    for (size_t i = 0; i < n && s == VKG_OK; i++) {
        bool dup = false;
        size_t prev = 0;
        struct vkg_tensor_view *t = &st->tensors[st->n_tensors];
        *t = p[i].v;
        t->data = f->map + f->data_start + p[i].begin;
        if ((s = nt_insert(&st->by_name, t->name, st->n_tensors, &dup, &prev)) != VKG_OK) break;
        if (dup)
            return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%.256s' is also in shard %s", f->base, t->name,
                             base_name(st->tensors[prev].file));
        st->n_tensors++;
        st->total_bytes += t->n_bytes; /* <= sum of file sizes: cannot overflow */
    }
    return s;
}

static enum vkg_status load_tensors(struct vkg_safetensors *st, const struct st_file *f)
{
    size_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, f->header) n += strcmp(it->string, "__metadata__") != 0;
    struct pending *p = calloc(n ? n : 1, sizeof *p);
    if (!p) return vkg_error(VKG_ERR_NOMEM, "%s: %zu tensor entries", f->base, n);
    enum vkg_status s = VKG_OK;
    size_t k = 0;
    cJSON_ArrayForEach(it, f->header)
    {
        if (strcmp(it->string, "__metadata__") == 0) continue;
        if ((s = parse_entry(f, it, &p[k++])) != VKG_OK) break;
    }
    if (s == VKG_OK) {
        qsort(p, n, sizeof *p, cmp_pending);
        s = check_layout(f, p, n);
    }
    if (s == VKG_OK) s = append_tensors(st, f, p, n);
    free(p);
    return s;
}

static enum vkg_status open_file(struct vkg_safetensors *st, const char *path)
{
    enum vkg_status s = grow((void **)&st->files, &st->cap_files, st->n_files + 1, sizeof *st->files);
    if (s != VKG_OK) return s;
    struct st_file *f = &st->files[st->n_files];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path))) return vkg_error(VKG_ERR_NOMEM, "%s: path", path);
    f->base = base_name(f->path);
    st->n_files++; /* from here close() releases it */
    if ((s = map_file(f)) != VKG_OK) return s;
    if ((s = parse_header(f)) != VKG_OK) return s;
    if ((s = check_unique_keys(f->base, "header", f->header)) != VKG_OK) return s;
    if ((s = check_metadata(f)) != VKG_OK) return s;
    if ((s = load_tensors(st, f)) != VKG_OK) return s;
    return check_number_syntax(f);
}

/* ---- sharded directories ---- */

/* A shard name must stay inside the model directory. */
static bool safe_rel_path(const char *p)
{
    if (!*p || *p == '/') return false;
    for (const char *c = p; *c;) {
        size_t n = strcspn(c, "/");
        if (n == 2 && c[0] == '.' && c[1] == '.') return false;
        c += n;
        if (*c) c++;
    }
    return true;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

struct index_state {
    const char *file; /* index basename */
    const cJSON *weight_map;
    struct name_table listed; /* tensor name -> unused */
    struct name_table seen;   /* shard name -> unused */
    const char **shards;      /* distinct shard names, sorted */
    size_t n_shards;
};

/* Collects the weight_map's tensor names and its distinct shard names. */
static enum vkg_status index_collect(struct index_state *ix)
{
    size_t n = (size_t)cJSON_GetArraySize(ix->weight_map);
    if (!(ix->shards = calloc(n ? n : 1, sizeof *ix->shards)))
        return vkg_error(VKG_ERR_NOMEM, "%s: %zu entries", ix->file, n);
    enum vkg_status s;
    const cJSON *it;
    cJSON_ArrayForEach(it, ix->weight_map)
    {
        bool dup = false;
        if (!cJSON_IsString(it))
            return vkg_error(VKG_ERR_FORMAT, "%s: weight_map entry of tensor '%.256s' is not a string", ix->file,
                             it->string);
        if ((s = nt_insert(&ix->listed, it->string, 0, &dup, NULL)) != VKG_OK) return s;
        if (dup) return vkg_error(VKG_ERR_FORMAT, "%s: weight_map lists tensor '%.256s' twice", ix->file, it->string);
        if (!safe_rel_path(it->valuestring))
            return vkg_error(
                VKG_ERR_FORMAT,
                "%s: weight_map shard '%.256s' (tensor '%.256s') is not a relative path inside the model directory",
                ix->file, it->valuestring, it->string);
        if ((s = nt_insert(&ix->seen, it->valuestring, 0, &dup, NULL)) != VKG_OK) return s;
        if (!dup) ix->shards[ix->n_shards++] = it->valuestring;
    }
    qsort(ix->shards, ix->n_shards, sizeof *ix->shards, cmp_str);
    return VKG_OK;
}

static enum vkg_status index_open_shards(struct vkg_safetensors *st, struct index_state *ix, const char *dir)
{
    for (size_t i = 0; i < ix->n_shards; i++) {
        char *path = join_path(dir, ix->shards[i]);
        if (!path) return vkg_error(VKG_ERR_NOMEM, "%s: path", ix->file);
        struct stat sb;
        enum vkg_status s = VKG_OK;
        if (stat(path, &sb) != 0 && errno == ENOENT)
            s = vkg_error(VKG_ERR_NOT_FOUND, "%s: weight_map names shard '%.256s', which does not exist", ix->file,
                          ix->shards[i]);
        else s = open_file(st, path); /* files[i] is shard i */
        free(path);
        if (s != VKG_OK) return s;
    }
    return VKG_OK;
}

/* Every listed tensor is in the shard the index names, and every shard tensor is listed. */
static enum vkg_status index_cross_check(const struct vkg_safetensors *st, const struct index_state *ix)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, ix->weight_map)
    {
        const struct vkg_tensor_view *t = vkg_safetensors_find(st, it->string);
        const char **sh = bsearch(&it->valuestring, ix->shards, ix->n_shards, sizeof *sh, cmp_str);
        const char *want = st->files[sh - ix->shards].path;
        if (!t)
            return vkg_error(VKG_ERR_FORMAT,
                             "%s: tensor '%.256s' is mapped to shard '%.256s', which has no such tensor", ix->file,
                             it->string, it->valuestring);
        if (t->file != want)
            return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%.256s' is mapped to shard '%.256s' but stored in '%s'",
                             ix->file, it->string, it->valuestring, base_name(t->file));
    }
    for (size_t i = 0; i < st->n_tensors; i++)
        if (!nt_find(&ix->listed, st->tensors[i].name, NULL))
            return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%.256s' is not listed in %s weight_map",
                             base_name(st->tensors[i].file), st->tensors[i].name, ix->file);
    return VKG_OK;
}

static enum vkg_status index_total_size(struct vkg_safetensors *st, const struct index_state *ix, const cJSON *root)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    const cJSON *ts = cJSON_IsObject(meta) ? cJSON_GetObjectItemCaseSensitive(meta, "total_size") : NULL;
    if (!ts) return VKG_OK;
    if (!json_u64(ts, &st->total_size))
        return vkg_error(VKG_ERR_FORMAT, "%s: metadata.total_size is not a non-negative integer", ix->file);
    st->has_total_size = true;
    return VKG_OK;
}

static enum vkg_status open_index(struct vkg_safetensors *st, const char *dir, const char *path)
{
    struct index_state ix = { .file = base_name(path) };
    char *text = NULL;
    size_t len = 0;
    cJSON *root = NULL;
    enum vkg_status s = vkg_file_read(path, MAX_HEADER_BYTES, &text, &len);
    if (s == VKG_OK) s = parse_json(ix.file, "index", text, len, 0, &root);
    if (s == VKG_OK) {
        ix.weight_map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
        if (!cJSON_IsObject(ix.weight_map)) s = vkg_error(VKG_ERR_FORMAT, "%s: no \"weight_map\" object", ix.file);
    }
    if (s == VKG_OK) s = index_total_size(st, &ix, root);
    if (s == VKG_OK) s = index_collect(&ix);
    if (s == VKG_OK) s = index_open_shards(st, &ix, dir);
    if (s == VKG_OK) s = index_cross_check(st, &ix);
    nt_free(&ix.listed);
    nt_free(&ix.seen);
    free(ix.shards);
    cJSON_Delete(root);
    free(text);
    return s;
}

static enum vkg_status open_dir(struct vkg_safetensors *st, const char *dir)
{
    char *single = join_path(dir, SINGLE_NAME), *index = join_path(dir, INDEX_NAME);
    enum vkg_status s;
    struct stat sb;
    /* Same preference as transformers: the single file wins over an index. */
    if (!single || !index) s = vkg_error(VKG_ERR_NOMEM, "%s: path", dir);
    else if (stat(single, &sb) == 0) s = open_file(st, single);
    else if (stat(index, &sb) == 0) s = open_index(st, dir, index);
    else
        s = vkg_error(VKG_ERR_NOT_FOUND, "%s: directory has neither %s nor %s", base_name(dir), SINGLE_NAME,
                      INDEX_NAME);
    free(single);
    free(index);
    return s;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* An index path given directly: its shards live next to it. */
static enum vkg_status open_index_path(struct vkg_safetensors *st, const char *path)
{
    char *dir = strdup(path);
    if (!dir) return vkg_error(VKG_ERR_NOMEM, "%s: path", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    enum vkg_status s = open_index(st, slash ? (*dir ? dir : "/") : ".", path);
    free(dir);
    return s;
}

enum vkg_status vkg_safetensors_open(const char *path, struct vkg_safetensors **out)
{
    if (!out) return vkg_error(VKG_ERR_INVALID_ARG, "vkg_safetensors_open: out is NULL");
    *out = NULL;
    if (!path) return vkg_error(VKG_ERR_INVALID_ARG, "vkg_safetensors_open: path is NULL");
    struct vkg_safetensors *st = calloc(1, sizeof *st);
    if (!st) return vkg_error(VKG_ERR_NOMEM, "%s: loader state", path);
    struct stat sb;
    enum vkg_status s;
    if (stat(path, &sb) != 0)
        s = vkg_error(errno == ENOENT ? VKG_ERR_NOT_FOUND : VKG_ERR_IO, "%s: %s", path, strerror(errno));
    else if (S_ISDIR(sb.st_mode)) s = open_dir(st, path);
    else if (vkg_gguf_is_path(path)) {
        free(st);
        return vkg_gguf_tensors_open(path, out); /* gguf_model.h: HF-named views of a GGUF */
    } else if (ends_with(path, ".index.json")) s = open_index_path(st, path);
    else s = open_file(st, path);
    if (s != VKG_OK) {
        vkg_safetensors_close(st);
        return s;
    }
    *out = st;
    return VKG_OK;
}

enum vkg_status vkg_safetensors_adopt(const struct vkg_tensor_view *views, size_t n, const char *const *paths,
                                      size_t n_paths, void *owner, void (*release)(void *owner),
                                      struct vkg_safetensors **out)
{
    *out = NULL;
    const char *path = n_paths ? paths[0] : "(views)";
    struct vkg_safetensors *st = calloc(1, sizeof *st);
    enum vkg_status s = st ? VKG_OK : vkg_error(VKG_ERR_NOMEM, "%s: loader state", path);
    if (s == VKG_OK) {
        st->owner = owner;
        st->release = release;
        s = grow((void **)&st->files, &st->cap_files, n_paths ? n_paths : 1, sizeof *st->files);
    }
    for (size_t i = 0; s == VKG_OK && i < n_paths; i++) {
        memset(&st->files[i], 0, sizeof st->files[i]);
        if (!(st->files[i].path = strdup(paths[i]))) s = vkg_error(VKG_ERR_NOMEM, "%s: path", paths[i]);
        else st->n_files = i + 1;
    }
    if (s == VKG_OK) s = grow((void **)&st->tensors, &st->cap_tensors, n ? n : 1, sizeof *st->tensors);
    for (size_t i = 0; i < n && s == VKG_OK; i++) {
        bool dup = false;
        st->tensors[i] = views[i];
        if ((s = nt_insert(&st->by_name, views[i].name, i, &dup, NULL)) != VKG_OK) break;
        if (dup) s = vkg_error(VKG_ERR_FORMAT, "%s: tensor '%.256s' appears twice", base_name(path), views[i].name);
        st->n_tensors = i + 1;
        st->total_bytes += views[i].n_bytes;
    }
    if (s != VKG_OK) {
        if (st) vkg_safetensors_close(st);
        else if (release) release(owner);
        return s;
    }
    *out = st;
    return VKG_OK;
}

void vkg_safetensors_close(struct vkg_safetensors *st)
{
    if (!st) return;
    for (size_t i = 0; i < st->n_files; i++) {
        struct st_file *f = &st->files[i];
        if (f->map) munmap((void *)f->map, (size_t)f->size);
        cJSON_Delete(f->header);
        free(f->path);
    }
    free(st->files);
    free(st->tensors);
    nt_free(&st->by_name);
    if (st->release) st->release(st->owner);
    free(st);
}

size_t vkg_safetensors_count(const struct vkg_safetensors *st) { return st ? st->n_tensors : 0; }

const struct vkg_tensor_view *vkg_safetensors_get(const struct vkg_safetensors *st, size_t i)
{
    return st && i < st->n_tensors ? &st->tensors[i] : NULL;
}

const struct vkg_tensor_view *vkg_safetensors_find(const struct vkg_safetensors *st, const char *name)
{
    size_t i;
    if (!st || !name || !nt_find(&st->by_name, name, &i)) return NULL;
    return &st->tensors[i];
}

const char *vkg_safetensors_metadata(const struct vkg_safetensors *st, const char *key)
{
    if (!st || !key) return NULL;
    for (size_t i = 0; i < st->n_files; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(st->files[i].metadata, key);
        if (cJSON_IsString(v)) return v->valuestring;
    }
    return NULL;
}

size_t vkg_safetensors_file_count(const struct vkg_safetensors *st) { return st ? st->n_files : 0; }

const char *vkg_safetensors_file_path(const struct vkg_safetensors *st, size_t i)
{
    return st && i < st->n_files ? st->files[i].path : NULL;
}

uint64_t vkg_safetensors_total_bytes(const struct vkg_safetensors *st) { return st ? st->total_bytes : 0; }

bool vkg_safetensors_index_total_size(const struct vkg_safetensors *st, uint64_t *out)
{
    if (!st || !st->has_total_size) return false;
    if (out) *out = st->total_size;
    return true;
}

uint64_t vkg_tensor_view_numel(const struct vkg_tensor_view *t)
{
    uint64_t n = 1;
    for (int i = 0; i < t->n_dims; i++) n *= t->shape[i];
    return n;
}

enum vkg_status vkg_tensor_view_check(const struct vkg_tensor_view *t)
{
    if (!t) return vkg_error(VKG_ERR_INVALID_ARG, "vkg_tensor_view_check: NULL view");
    if (vkg_dtype_is_loadable(t->dtype)) return VKG_OK;
    return vkg_error(VKG_ERR_UNSUPPORTED,
                     "%s: tensor '%.256s': dtype %s is unsupported for weights (supported: F32, F16, BF16, Q8_0)",
                     base_name(t->file), t->name, vkg_dtype_name(t->dtype));
}

enum vkg_status vkg_safetensors_check(const struct vkg_safetensors *st)
{
    if (!st) return vkg_error(VKG_ERR_INVALID_ARG, "vkg_safetensors_check: NULL");
    for (size_t i = 0; i < st->n_tensors; i++) {
        enum vkg_status s = vkg_tensor_view_check(&st->tensors[i]);
        if (s != VKG_OK) return s;
    }
    return VKG_OK;
}
