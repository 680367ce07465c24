/* gguf.c — mmap'ed GGUF files (v2, v3) and llama.cpp gguf-split models.
 *
 * Every check mirrors llama.cpp's gguf reader (ggml/src/gguf.cpp) or makes it
 * stricter, each with its own message naming the file and, where there is
 * one, the key or the tensor:
 *   - file shorter than the 24-byte header; magic not "GGUF"; version not 2/3;
 *   - n_tensors / n_kv larger than the file could hold (each entry takes at
 *     least 24 / 12 bytes), so no count drives an allocation beyond the file;
 *   - a string (key, value, array element, tensor name) whose length runs past
 *     the end of the file; a key or tensor name holding a NUL byte;
 *   - a duplicate key; an unknown value type; an array of arrays; an array
 *     whose elements run past the end of the file; a bool other than 0/1;
 *   - general.alignment not a uint32, or not a power of two;
 *   - a tensor name longer than 63 bytes (GGML_MAX_NAME), a duplicate name;
 *   - n_dims outside 1..4; a dimension above INT64_MAX; an element count or
 *     byte size overflowing 64 bits; an unknown ggml type; ne[0] not a
 *     multiple of the type's block size;
 *   - an offset not a multiple of the alignment, or not where the previous
 *     tensor ends (padded to the alignment): llama.cpp requires tensors in
 *     info order, packed; data running past the end of the file.
 * Split models (gguf.h): a part missing, split.no / split.count disagreeing
 * with the part's place, split.tensors.count disagreeing with the parts, a
 * tensor in two parts, split.count > 1 on a name without -NNNNN-of-MMMMM. */
#include "gguf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "file.h"

typedef unsigned long long ull; /* for printf */

#define TRY(expr)                            \
    do {                                     \
        enum vkg_status try_s_ = (expr);     \
        if (try_s_ != VKG_OK) return try_s_; \
    } while (0)

#define HEADER_BYTES 24u /* magic, version, n_tensors, n_kv */

/* ---- ggml types ------------------------------------------------------------ */

/* X(id, name, block_size, block_bytes), as ggml's type_traits. */
#define GGML_TYPE_LIST(X)     \
    X(0, "F32", 1, 4)         \
    X(1, "F16", 1, 2)         \
    X(2, "Q4_0", 32, 18)      \
    X(3, "Q4_1", 32, 20)      \
    X(6, "Q5_0", 32, 22)      \
    X(7, "Q5_1", 32, 24)      \
    X(8, "Q8_0", 32, 34)      \
    X(9, "Q8_1", 32, 40)      \
    X(10, "Q2_K", 256, 84)    \
    X(11, "Q3_K", 256, 110)   \
    X(12, "Q4_K", 256, 144)   \
    X(13, "Q5_K", 256, 176)   \
    X(14, "Q6_K", 256, 210)   \
    X(15, "Q8_K", 256, 292)   \
    X(16, "IQ2_XXS", 256, 66) \
    X(17, "IQ2_XS", 256, 74)  \
    X(18, "IQ3_XXS", 256, 98) \
    X(19, "IQ1_S", 256, 50)   \
    X(20, "IQ4_NL", 32, 18)   \
    X(21, "IQ3_S", 256, 110)  \
    X(22, "IQ2_S", 256, 82)   \
    X(23, "IQ4_XS", 256, 136) \
    X(24, "I8", 1, 1)         \
    X(25, "I16", 1, 2)        \
    X(26, "I32", 1, 4)        \
    X(27, "I64", 1, 8)        \
    X(28, "F64", 1, 8)        \
    X(29, "IQ1_M", 256, 56)   \
    X(30, "BF16", 1, 2)       \
    X(34, "TQ1_0", 256, 54)   \
    X(35, "TQ2_0", 256, 66)   \
    X(39, "MXFP4", 32, 17)

struct ggml_type_info {
    uint32_t id;
    const char *name;
    uint32_t block_size, block_bytes;
};

static const struct ggml_type_info TYPES[] = {
#define X(id, n, bs, bb) { id, n, bs, bb },
    GGML_TYPE_LIST(X)
#undef X
};

static const struct ggml_type_info *type_info(uint32_t t)
{
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (TYPES[i].id == t) return &TYPES[i];
    return NULL;
}

const char *vkg_gguf_type_name(uint32_t t)
{
    const struct ggml_type_info *i = type_info(t);
    return i ? i->name : "?";
}
uint32_t vkg_gguf_type_block_size(uint32_t t)
{
    const struct ggml_type_info *i = type_info(t);
    return i ? i->block_size : 0;
}
uint32_t vkg_gguf_type_block_bytes(uint32_t t)
{
    const struct ggml_type_info *i = type_info(t);
    return i ? i->block_bytes : 0;
}

enum vkg_dtype vkg_gguf_type_dtype(uint32_t t)
{
    switch (t) {
    case 0: return VKG_DTYPE_F32;
    case 1: return VKG_DTYPE_F16;
    case 2: return VKG_DTYPE_Q4;   /* block_q4_0 {ggml_half d; uint8_t qs[16]} = our Q4 */
    case 3: return VKG_DTYPE_Q4_1; /* the ggml block layouts (shaders/ggml_quants.glsl) */
    case 6: return VKG_DTYPE_Q5_0;
    case 7: return VKG_DTYPE_Q5_1;
    case 8: return VKG_DTYPE_Q8_0; /* block_q8_0 {ggml_half d; int8_t qs[32]} = our Q8_0 */
    case 12: return VKG_DTYPE_Q4_K;
    case 13: return VKG_DTYPE_Q5_K;
    case 14: return VKG_DTYPE_Q6_K;
    case 30: return VKG_DTYPE_BF16;
    default: return VKG_DTYPE_UNKNOWN;
    }
}

static const char *const VALUE_TYPE_NAMES[VKG_GGUF_TYPE_COUNT] = { "uint8",  "int8",    "uint16", "int16",  "uint32",
                                                                   "int32",  "float32", "bool",   "string", "array",
                                                                   "uint64", "int64",   "float64" };
static const uint8_t VALUE_SIZE[VKG_GGUF_TYPE_COUNT] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };

const char *vkg_gguf_value_type_name(enum vkg_gguf_type t)
{
    return (unsigned)t < VKG_GGUF_TYPE_COUNT ? VALUE_TYPE_NAMES[t] : "unknown";
}

/* ---- the reader ------------------------------------------------------------ */

struct gg_file {
    char *path;
    const char *base; /* for messages */
    const uint8_t *map;
    uint64_t size;
    uint32_t version;
    struct vkg_gguf_kv *kv;
    size_t n_kv;
    struct vkg_gguf_tensor *t;
    size_t n_t;
    uint64_t align, data_start;
};

struct vkg_gguf {
    struct gg_file *files;
    size_t n_files;
    struct vkg_gguf_tensor *tensors; /* all parts, in order */
    size_t n_tensors;
    size_t *by_name; /* open-addressed hash: index + 1, 0 empty */
    size_t cap;
};

/* A cursor over one mapped file. */
struct rd {
    const struct gg_file *f;
    uint64_t pos;
};

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

static bool rd_has(const struct rd *r, uint64_t n) { return n <= r->f->size - r->pos; }

static uint64_t rd_u(struct rd *r, unsigned n) /* caller checked rd_has */
{
    uint64_t v = le(r->f->map + r->pos, n);
    r->pos += n;
    return v;
}

/* A length-prefixed string as a NUL-terminated copy; what names it for messages. */
static enum vkg_status rd_str(struct rd *r, const char *what, char **out, size_t *len, bool no_nul)
{
    const char *b = r->f->base;
    if (!rd_has(r, 8))
        return vkg_error(VKG_ERR_FORMAT, "%s: %s: string length runs past the end of the file (offset %llu)", b, what,
                         (ull)r->pos);
    uint64_t n = rd_u(r, 8);
    if (!rd_has(r, n))
        return vkg_error(VKG_ERR_FORMAT,
                         "%s: %s: string of %llu bytes at offset %llu runs past the end of the file (%llu bytes)", b,
                         what, (ull)n, (ull)r->pos, (ull)r->f->size);
    const char *s = (const char *)r->f->map + r->pos;
    if (no_nul && memchr(s, '\0', (size_t)n))
        return vkg_error(VKG_ERR_FORMAT, "%s: %s: name holds a NUL byte", b, what);
    char *c = malloc((size_t)n + 1);
    if (!c) return vkg_error(VKG_ERR_NOMEM, "%s: %s: string of %llu bytes", b, what, (ull)n);
    memcpy(c, s, (size_t)n);
    c[n] = '\0';
    r->pos += n;
    *out = c;
    if (len) *len = (size_t)n;
    return VKG_OK;
}

static enum vkg_status rd_scalar(struct rd *r, struct vkg_gguf_kv *kv, enum vkg_gguf_type t)
{
    unsigned n = VALUE_SIZE[t];
    if (!rd_has(r, n))
        return vkg_error(VKG_ERR_FORMAT, "%s: metadata '%.256s': %s value runs past the end of the file", r->f->base,
                         kv->key, VALUE_TYPE_NAMES[t]);
    uint64_t u = rd_u(r, n);
    switch (t) {
    case VKG_GGUF_INT8: kv->v.i = (int8_t)u; break;
    case VKG_GGUF_INT16: kv->v.i = (int16_t)u; break;
    case VKG_GGUF_INT32: kv->v.i = (int32_t)u; break;
    case VKG_GGUF_INT64: kv->v.i = (int64_t)u; break;
    case VKG_GGUF_FLOAT32: {
        uint32_t w = (uint32_t)u;
        float f;
        memcpy(&f, &w, 4);
        kv->v.f = f;
        break;
    }
    case VKG_GGUF_FLOAT64: memcpy(&kv->v.f, &u, 8); break;
    case VKG_GGUF_BOOL:
        if (u > 1)
            return vkg_error(VKG_ERR_FORMAT, "%s: metadata '%.256s': bool value %llu is neither 0 nor 1", r->f->base,
                             kv->key, (ull)u);
        /* fallthrough */
    default: kv->v.u = u; break;
    }
    return VKG_OK;
}

static enum vkg_status rd_array(struct rd *r, struct vkg_gguf_kv *kv)
{
    const char *b = r->f->base;
    if (!rd_has(r, 12))
        return vkg_error(VKG_ERR_FORMAT, "%s: metadata '%.256s': array header runs past the end of the file", b,
                         kv->key);
    uint32_t et = (uint32_t)rd_u(r, 4);
    uint64_t n = rd_u(r, 8);
    if (et == VKG_GGUF_ARRAY)
        return vkg_error(VKG_ERR_UNSUPPORTED, "%s: metadata '%.256s': arrays of arrays are not supported", b, kv->key);
    if (et >= VKG_GGUF_TYPE_COUNT)
        return vkg_error(VKG_ERR_FORMAT, "%s: metadata '%.256s': unknown array element type %u", b, kv->key, et);
    kv->arr_type = (enum vkg_gguf_type)et;
    kv->arr_n = n;
    uint64_t rest = r->f->size - r->pos, min = et == VKG_GGUF_STRING ? 8 : VALUE_SIZE[et];
    if (n > rest / min)
        return vkg_error(VKG_ERR_FORMAT,
                         "%s: metadata '%.256s': array of %llu %s elements runs past the end of the file", b, kv->key,
                         (ull)n, VALUE_TYPE_NAMES[et]);
    if (et != VKG_GGUF_STRING) {
        kv->arr_data = r->f->map + r->pos;
        if (et == VKG_GGUF_BOOL)
            for (uint64_t i = 0; i < n; i++)
                if (kv->arr_data[i] > 1)
                    return vkg_error(VKG_ERR_FORMAT, "%s: metadata '%.256s': bool element %llu is %u, neither 0 nor 1",
                                     b, kv->key, (ull)i, kv->arr_data[i]);
        r->pos += n * min;
        return VKG_OK;
    }
    kv->strs = calloc(n ? (size_t)n : 1, sizeof *kv->strs);
    kv->str_lens = calloc(n ? (size_t)n : 1, sizeof *kv->str_lens);
    if (!kv->strs || !kv->str_lens) return vkg_error(VKG_ERR_NOMEM, "%s: metadata '%.256s'", b, kv->key);
    char what[320];
    for (uint64_t i = 0; i < n; i++) {
        snprintf(what, sizeof what, "metadata '%.256s' element %llu", kv->key, (ull)i);
        TRY(rd_str(r, what, &kv->strs[i], &kv->str_lens[i], false));
    }
    return VKG_OK;
}

static enum vkg_status rd_kv(struct rd *r, size_t idx, struct vkg_gguf_kv *kv)
{
    char what[64];
    snprintf(what, sizeof what, "key of metadata entry %zu", idx);
    TRY(rd_str(r, what, (char **)&kv->key, NULL, true));
    if (!rd_has(r, 4))
        return vkg_error(VKG_ERR_FORMAT, "%s: metadata '%.256s': value type runs past the end of the file", r->f->base,
                         kv->key);
    uint32_t t = (uint32_t)rd_u(r, 4);
    if (t >= VKG_GGUF_TYPE_COUNT)
        return vkg_error(VKG_ERR_FORMAT, "%s: metadata '%.256s': unknown value type %u", r->f->base, kv->key, t);
    kv->type = (enum vkg_gguf_type)t;
    if (t == VKG_GGUF_ARRAY) return rd_array(r, kv);
    if (t == VKG_GGUF_STRING) {
        char w2[300];
        snprintf(w2, sizeof w2, "metadata '%.256s'", kv->key);
        return rd_str(r, w2, (char **)&kv->str, &kv->str_len, false);
    }
    return rd_scalar(r, kv, kv->type);
}

/* ---- name tables ----------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Slot of name in a table of cap (power of two) entries holding index+1 into names. */
static size_t slot_of(const size_t *tab, size_t cap, const char *const *names, size_t stride, const char *name)
{
    size_t i = (size_t)hash_str(name) & (cap - 1);
    while (tab[i] && strcmp(*(const char *const *)((const char *)names + (tab[i] - 1) * stride), name) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static size_t table_cap(size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 1) cap *= 2;
    return cap;
}

static enum vkg_status check_unique_keys(const struct gg_file *f)
{
    size_t cap = table_cap(f->n_kv), *tab = calloc(cap, sizeof *tab);
    if (!tab) return vkg_error(VKG_ERR_NOMEM, "%s: key table", f->base);
    enum vkg_status s = VKG_OK;
    for (size_t i = 0; i < f->n_kv && s == VKG_OK; i++) {
        size_t k = slot_of(tab, cap, &f->kv[0].key, sizeof *f->kv, f->kv[i].key);
        if (tab[k]) s = vkg_error(VKG_ERR_FORMAT, "%s: duplicate metadata key '%.256s'", f->base, f->kv[i].key);
        tab[k] = i + 1;
    }
    free(tab);
    return s;
}

/* ---- one file -------------------------------------------------------------- */

static enum vkg_status map_file(struct gg_file *f)
{
    int fd;
    uint64_t size;
    TRY(vkg_file_open(f->path, &fd, &size)); /* regular files only, never blocks */
    enum vkg_status s = VKG_OK;
    if (size < HEADER_BYTES)
        s = vkg_error(VKG_ERR_FORMAT, "%s: file is %llu bytes, shorter than the %u-byte GGUF header", f->base,
                      (ull)size, HEADER_BYTES);
    else if (size > SIZE_MAX)
        s = vkg_error(VKG_ERR_LIMIT, "%s: %llu bytes do not fit the address space", f->base, (ull)size);
    else {
        void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED)
            s = vkg_error(VKG_ERR_IO, "%s: mmap of %llu bytes: %s", f->base, (ull)size, strerror(errno));
        else {
            f->map = m;
            f->size = size;
        }
    }
    close(fd);
    return s;
}

static enum vkg_status read_header(struct gg_file *f, struct rd *r, uint64_t *n_t, uint64_t *n_kv)
{
    if (memcmp(f->map, "GGUF", 4) != 0) {
        char m[5];
        for (int i = 0; i < 4; i++) m[i] = f->map[i] >= 0x20 && f->map[i] < 0x7f ? (char)f->map[i] : '?';
        m[4] = '\0';
        return vkg_error(VKG_ERR_FORMAT, "%s: not a GGUF file (magic '%s', want 'GGUF')", f->base, m);
    }
    r->pos = 4;
    f->version = (uint32_t)rd_u(r, 4);
    if (f->version != 2 && f->version != 3)
        return vkg_error(VKG_ERR_UNSUPPORTED, "%s: GGUF version %u is not supported (versions 2 and 3 are)", f->base,
                         f->version);
    *n_t = rd_u(r, 8);
    *n_kv = rd_u(r, 8);
    uint64_t rest = f->size - r->pos;
    if (*n_kv > rest / 12)
        return vkg_error(VKG_ERR_FORMAT, "%s: header says %llu metadata entries, more than the file can hold", f->base,
                         (ull)*n_kv);
    if (*n_t > rest / 24)
        return vkg_error(VKG_ERR_FORMAT, "%s: header says %llu tensors, more than the file can hold", f->base,
                         (ull)*n_t);
    return VKG_OK;
}

static enum vkg_status read_alignment(struct gg_file *f)
{
    f->align = VKG_GGUF_DEFAULT_ALIGN;
    for (size_t i = 0; i < f->n_kv; i++) {
        const struct vkg_gguf_kv *kv = &f->kv[i];
        if (strcmp(kv->key, "general.alignment") != 0) continue;
        if (kv->type != VKG_GGUF_UINT32)
            return vkg_error(VKG_ERR_FORMAT, "%s: general.alignment has type %s, want uint32", f->base,
                             vkg_gguf_value_type_name(kv->type));
        if (kv->v.u == 0 || (kv->v.u & (kv->v.u - 1)) != 0)
            return vkg_error(VKG_ERR_FORMAT, "%s: general.alignment %llu is not a power of two", f->base, (ull)kv->v.u);
        f->align = kv->v.u;
    }
    return VKG_OK;
}

static enum vkg_status tensor_shape(const struct gg_file *f, struct rd *r, struct vkg_gguf_tensor *t)
{
    const char *b = f->base, *n = t->name;
    if (!rd_has(r, 4)) return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%s': info runs past the end of the file", b, n);
    uint32_t nd = (uint32_t)rd_u(r, 4);
    if (nd < 1 || nd > VKG_GGUF_MAX_DIMS)
        return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%s': n_dims %u outside 1..%d", b, n, nd, VKG_GGUF_MAX_DIMS);
    t->n_dims = (int)nd;
    if (!rd_has(r, 8ull * nd + 12))
        return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%s': info runs past the end of the file", b, n);
    uint64_t numel = 1;
    for (int d = 0; d < VKG_GGUF_MAX_DIMS; d++) {
        t->ne[d] = d < (int)nd ? rd_u(r, 8) : 1;
        if (t->ne[d] > (uint64_t)INT64_MAX)
            return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%s': dimension %d is %llu, above INT64_MAX", b, n, d,
                             (ull)t->ne[d]);
        if (t->ne[d] && numel > (uint64_t)INT64_MAX / t->ne[d])
            return vkg_error(VKG_ERR_OVERFLOW, "%s: tensor '%s': element count overflows", b, n);
        numel *= t->ne[d];
    }
    t->type = (uint32_t)rd_u(r, 4);
    t->offset = rd_u(r, 8);
    const struct ggml_type_info *ti = type_info(t->type);
    if (!ti) return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%s': unknown ggml type %u", b, n, t->type);
    if (t->ne[0] % ti->block_size != 0)
        return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%s': ne[0] = %llu is not a multiple of the %s block size %u", b,
                         n, (ull)t->ne[0], ti->name, ti->block_size);
    uint64_t blocks = numel / ti->block_size;
    if (blocks > UINT64_MAX / ti->block_bytes)
        return vkg_error(VKG_ERR_OVERFLOW, "%s: tensor '%s': byte size overflows", b, n);
    t->n_bytes = blocks * ti->block_bytes;
    return VKG_OK;
}

static enum vkg_status read_tensor_infos(struct gg_file *f, struct rd *r)
{
    for (size_t i = 0; i < f->n_t; i++) {
        struct vkg_gguf_tensor *t = &f->t[i];
        char what[64];
        snprintf(what, sizeof what, "name of tensor %zu", i);
        size_t len;
        TRY(rd_str(r, what, (char **)&t->name, &len, true));
        t->file = f->path;
        if (len >= VKG_GGUF_MAX_NAME)
            return vkg_error(VKG_ERR_FORMAT,
                             "%s: tensor %zu: name of %zu bytes ('%.80s...'), longer than the %d ggml allows", f->base,
                             i, len, t->name, VKG_GGUF_MAX_NAME - 1);
        TRY(tensor_shape(f, r, t));
    }
    return VKG_OK;
}

static uint64_t pad_to(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* Offsets: aligned, packed in info order (llama.cpp's rule), inside the file. */
static enum vkg_status place_tensors(struct gg_file *f, uint64_t infos_end)
{
    if (infos_end > UINT64_MAX - f->align) return vkg_error(VKG_ERR_OVERFLOW, "%s: data section start", f->base);
    f->data_start = pad_to(infos_end, f->align);
    uint64_t expect = 0, avail = f->size > f->data_start ? f->size - f->data_start : 0;
    for (size_t i = 0; i < f->n_t; i++) {
        struct vkg_gguf_tensor *t = &f->t[i];
        if (t->offset % f->align != 0)
            return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%s': offset %llu is not a multiple of the alignment %llu",
                             f->base, t->name, (ull)t->offset, (ull)f->align);
        if (t->offset != expect)
            return vkg_error(VKG_ERR_FORMAT,
                             "%s: tensor '%s': offset %llu, expected %llu (tensors are stored in order, each padded "
                             "to the alignment)",
                             f->base, t->name, (ull)t->offset, (ull)expect);
        if (t->n_bytes > avail || t->offset > avail - t->n_bytes)
            return vkg_error(VKG_ERR_FORMAT,
                             "%s: tensor '%s': data [%llu, +%llu bytes) runs past the end of the file (data section "
                             "of %llu bytes)",
                             f->base, t->name, (ull)t->offset, (ull)t->n_bytes, (ull)avail);
        t->data = f->map + f->data_start + t->offset;
        expect = pad_to(t->offset + t->n_bytes, f->align); /* < size: no overflow */
    }
    return VKG_OK;
}

static enum vkg_status open_file(struct gg_file *f)
{
    struct rd r = { f, 0 };
    uint64_t n_t = 0, n_kv = 0;
    TRY(map_file(f));
    TRY(read_header(f, &r, &n_t, &n_kv));
    f->kv = calloc(n_kv ? (size_t)n_kv : 1, sizeof *f->kv);
    f->t = calloc(n_t ? (size_t)n_t : 1, sizeof *f->t);
    if (!f->kv || !f->t) return vkg_error(VKG_ERR_NOMEM, "%s: %llu entries", f->base, (ull)(n_kv + n_t));
    for (size_t i = 0; i < n_kv; i++) {
        f->n_kv = i + 1; /* so close() frees a partial entry */
        TRY(rd_kv(&r, i, &f->kv[i]));
    }
    TRY(check_unique_keys(f));
    TRY(read_alignment(f));
    f->n_t = (size_t)n_t;
    TRY(read_tensor_infos(f, &r));
    return place_tensors(f, r.pos);
}

static void free_file(struct gg_file *f)
{
    if (f->map) munmap((void *)f->map, (size_t)f->size);
    for (size_t i = 0; i < f->n_kv; i++) {
        struct vkg_gguf_kv *kv = &f->kv[i];
        free((char *)kv->key);
        free((char *)kv->str);
        if (kv->strs)
            for (uint64_t k = 0; k < kv->arr_n; k++) free(kv->strs[k]);
        free(kv->strs);
        free(kv->str_lens);
    }
    free(f->kv);
    if (f->t)
        for (size_t i = 0; i < f->n_t; i++) free((char *)f->t[i].name);
    free(f->t);
    free(f->path);
}

/* ---- the model: parts, merged tensors -------------------------------------- */

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

bool vkg_gguf_is_path(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return n > 5 && strcmp(path + n - 5, ".gguf") == 0;
}

/* "PREFIX-NNNNN-of-MMMMM.gguf": *prefix_len and the count M; false otherwise. */
static bool split_name(const char *path, size_t *prefix_len, unsigned *count)
{
    size_t n = strlen(path);
    static const char pat[] = "-00000-of-00000.gguf"; /* digits where pat has 0 */
    size_t k = sizeof pat - 1;
    if (n < k) return false;
    const char *s = path + n - k;
    unsigned m = 0;
    for (size_t i = 0; i < k; i++) {
        if (pat[i] == '0') {
            if (s[i] < '0' || s[i] > '9') return false;
            if (i >= 10) m = m * 10 + (unsigned)(s[i] - '0');
        } else if (s[i] != pat[i]) return false;
    }
    *prefix_len = n - k;
    *count = m;
    return true;
}

static const struct vkg_gguf_kv *file_kv(const struct gg_file *f, const char *key)
{
    for (size_t i = 0; i < f->n_kv; i++)
        if (strcmp(f->kv[i].key, key) == 0) return &f->kv[i];
    return NULL;
}

/* An unsigned integer value of any width, or -1 when absent or not one. */
static int64_t file_uint(const struct gg_file *f, const char *key)
{
    const struct vkg_gguf_kv *kv = file_kv(f, key);
    if (!kv) return -1;
    switch (kv->type) {
    case VKG_GGUF_UINT8:
    case VKG_GGUF_UINT16:
    case VKG_GGUF_UINT32:
    case VKG_GGUF_UINT64: return kv->v.u > INT64_MAX ? -1 : (int64_t)kv->v.u;
    case VKG_GGUF_INT8:
    case VKG_GGUF_INT16:
    case VKG_GGUF_INT32:
    case VKG_GGUF_INT64: return kv->v.i < 0 ? -1 : kv->v.i;
    default: return -1;
    }
}

static enum vkg_status add_file(struct vkg_gguf *g, const char *path)
{
    struct gg_file *f = &g->files[g->n_files];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path))) return vkg_error(VKG_ERR_NOMEM, "%s: path", path);
    f->base = base_name(f->path);
    g->n_files++;
    return open_file(f);
}

/* split.count of the first file; the other parts opened and checked. */
static enum vkg_status open_parts(struct vkg_gguf *g, const char *path)
{
    size_t plen = 0;
    unsigned name_count = 0;
    bool is_split_name = split_name(path, &plen, &name_count);
    unsigned count = is_split_name && name_count > 1 ? name_count : 1;
    g->files = calloc(count, sizeof *g->files);
    if (!g->files) return vkg_error(VKG_ERR_NOMEM, "%s: %u parts", path, count);
    char *p = malloc(strlen(path) + 1);
    if (!p) return vkg_error(VKG_ERR_NOMEM, "%s: path", path);
    enum vkg_status s = VKG_OK;
    for (unsigned i = 0; i < count && s == VKG_OK; i++) {
        if (count > 1) {
            memcpy(p, path, plen);
            snprintf(p + plen, strlen(path) + 1 - plen, "-%05u-of-%05u.gguf", i + 1, count);
        } else strcpy(p, path);
        if ((s = add_file(g, p)) != VKG_OK) break;
        const struct gg_file *f = &g->files[i];
        int64_t no = file_uint(f, "split.no"), cnt = file_uint(f, "split.count");
        if (count == 1 && cnt > 1)
            s = vkg_error(VKG_ERR_FORMAT,
                          "%s: split.count is %lld but the file name is not PREFIX-NNNNN-of-%05lld.gguf: cannot find "
                          "the other parts",
                          f->base, (long long)cnt, (long long)cnt);
        else if (count > 1 && cnt != (int64_t)count)
            s = vkg_error(VKG_ERR_FORMAT, "%s: split.count is %lld, the file name says %u parts", f->base,
                          (long long)cnt, count);
        else if (count > 1 && no != (int64_t)i)
            s = vkg_error(VKG_ERR_FORMAT, "%s: split.no is %lld, want %u for part %u of %u", f->base, (long long)no, i,
                          i + 1, count);
    }
    free(p);
    return s;
}

static enum vkg_status merge_tensors(struct vkg_gguf *g)
{
    size_t n = 0;
    for (size_t i = 0; i < g->n_files; i++) n += g->files[i].n_t;
    g->tensors = calloc(n ? n : 1, sizeof *g->tensors);
    g->cap = table_cap(n);
    g->by_name = calloc(g->cap, sizeof *g->by_name);
    if (!g->tensors || !g->by_name) return vkg_error(VKG_ERR_NOMEM, "%s: %zu tensors", g->files[0].base, n);
    for (size_t i = 0; i < g->n_files; i++)
        for (size_t k = 0; k < g->files[i].n_t; k++) {
            const struct vkg_gguf_tensor *t = &g->files[i].t[k];
            size_t slot = slot_of(g->by_name, g->cap, &g->tensors[0].name, sizeof *g->tensors, t->name);
            if (g->by_name[slot]) {
                const struct vkg_gguf_tensor *o = &g->tensors[g->by_name[slot] - 1];
                if (o->file == t->file)
                    return vkg_error(VKG_ERR_FORMAT, "%s: duplicate tensor name '%s'", g->files[i].base, t->name);
                return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%s' is also in part %s", g->files[i].base, t->name,
                                 base_name(o->file));
            }
            g->tensors[g->n_tensors] = *t;
            g->by_name[slot] = ++g->n_tensors;
        }
    int64_t want = file_uint(&g->files[0], "split.tensors.count");
    if (g->n_files > 1 && want != (int64_t)g->n_tensors)
        return vkg_error(VKG_ERR_FORMAT, "%s: split.tensors.count says %lld tensors, the %zu parts hold %zu",
                         g->files[0].base, (long long)want, g->n_files, g->n_tensors);
    return VKG_OK;
}

enum vkg_status vkg_gguf_open(const char *path, struct vkg_gguf **out)
{
    if (!out) return vkg_error(VKG_ERR_INVALID_ARG, "vkg_gguf_open: out is NULL");
    *out = NULL;
    if (!path) return vkg_error(VKG_ERR_INVALID_ARG, "vkg_gguf_open: path is NULL");
    struct vkg_gguf *g = calloc(1, sizeof *g);
    if (!g) return vkg_error(VKG_ERR_NOMEM, "%s: loader state", path);
    enum vkg_status s = open_parts(g, path);
    if (s == VKG_OK) s = merge_tensors(g);
    if (s != VKG_OK) {
        vkg_gguf_close(g);
        return s;
    }
    *out = g;
    return VKG_OK;
}

void vkg_gguf_close(struct vkg_gguf *g)
{
    if (!g) return;
    for (size_t i = 0; i < g->n_files; i++) free_file(&g->files[i]);
    free(g->files);
    free(g->tensors);
    free(g->by_name);
    free(g);
}

/* ---- accessors ------------------------------------------------------------- */

uint32_t vkg_gguf_version(const struct vkg_gguf *g) { return g->files[0].version; }
const char *vkg_gguf_path(const struct vkg_gguf *g) { return g->files[0].path; }
size_t vkg_gguf_file_count(const struct vkg_gguf *g) { return g->n_files; }
const char *vkg_gguf_file_path(const struct vkg_gguf *g, size_t i) { return i < g->n_files ? g->files[i].path : NULL; }
size_t vkg_gguf_kv_count(const struct vkg_gguf *g) { return g->files[0].n_kv; }

const struct vkg_gguf_kv *vkg_gguf_kv_get(const struct vkg_gguf *g, size_t i)
{
    return i < g->files[0].n_kv ? &g->files[0].kv[i] : NULL;
}

const struct vkg_gguf_kv *vkg_gguf_find_kv(const struct vkg_gguf *g, const char *key)
{
    return g && key ? file_kv(&g->files[0], key) : NULL;
}

size_t vkg_gguf_tensor_count(const struct vkg_gguf *g) { return g ? g->n_tensors : 0; }

const struct vkg_gguf_tensor *vkg_gguf_tensor_get(const struct vkg_gguf *g, size_t i)
{
    return g && i < g->n_tensors ? &g->tensors[i] : NULL;
}

const struct vkg_gguf_tensor *vkg_gguf_find_tensor(const struct vkg_gguf *g, const char *name)
{
    if (!g || !name) return NULL;
    size_t slot = slot_of(g->by_name, g->cap, &g->tensors[0].name, sizeof *g->tensors, name);
    return g->by_name[slot] ? &g->tensors[g->by_name[slot] - 1] : NULL;
}

static enum vkg_status wrong_type(const struct vkg_gguf *g, const struct vkg_gguf_kv *kv, const char *want)
{
    return vkg_error(VKG_ERR_FORMAT, "%s: metadata '%.256s' has type %s, want %s", g->files[0].base, kv->key,
                     vkg_gguf_value_type_name(kv->type), want);
}

static bool is_uint(enum vkg_gguf_type t)
{
    return t == VKG_GGUF_UINT8 || t == VKG_GGUF_UINT16 || t == VKG_GGUF_UINT32 || t == VKG_GGUF_UINT64;
}
static bool is_int(enum vkg_gguf_type t)
{
    return t == VKG_GGUF_INT8 || t == VKG_GGUF_INT16 || t == VKG_GGUF_INT32 || t == VKG_GGUF_INT64;
}

enum vkg_status vkg_gguf_get_i64(const struct vkg_gguf *g, const char *key, int64_t *out)
{
    const struct vkg_gguf_kv *kv = vkg_gguf_find_kv(g, key);
    if (!kv) return VKG_ERR_NOT_FOUND;
    if (is_int(kv->type)) *out = kv->v.i;
    else if (is_uint(kv->type) && kv->v.u <= INT64_MAX) *out = (int64_t)kv->v.u;
    else return wrong_type(g, kv, "an integer");
    return VKG_OK;
}

enum vkg_status vkg_gguf_get_u32(const struct vkg_gguf *g, const char *key, uint32_t *out)
{
    int64_t v;
    enum vkg_status s = vkg_gguf_get_i64(g, key, &v);
    if (s != VKG_OK) return s;
    if (v < 0 || v > UINT32_MAX)
        return vkg_error(VKG_ERR_FORMAT, "%s: metadata '%.256s' is %lld, outside 0..%u", g->files[0].base, key,
                         (long long)v, UINT32_MAX);
    *out = (uint32_t)v;
    return VKG_OK;
}

enum vkg_status vkg_gguf_get_f64(const struct vkg_gguf *g, const char *key, double *out)
{
    const struct vkg_gguf_kv *kv = vkg_gguf_find_kv(g, key);
    if (!kv) return VKG_ERR_NOT_FOUND;
    if (kv->type == VKG_GGUF_FLOAT32 || kv->type == VKG_GGUF_FLOAT64) *out = kv->v.f;
    else if (is_int(kv->type)) *out = (double)kv->v.i;
    else if (is_uint(kv->type)) *out = (double)kv->v.u;
    else return wrong_type(g, kv, "a number");
    return VKG_OK;
}

enum vkg_status vkg_gguf_get_bool(const struct vkg_gguf *g, const char *key, bool *out)
{
    const struct vkg_gguf_kv *kv = vkg_gguf_find_kv(g, key);
    if (!kv) return VKG_ERR_NOT_FOUND;
    if (kv->type != VKG_GGUF_BOOL) return wrong_type(g, kv, "bool");
    *out = kv->v.u != 0;
    return VKG_OK;
}

enum vkg_status vkg_gguf_get_str(const struct vkg_gguf *g, const char *key, const char **out)
{
    const struct vkg_gguf_kv *kv = vkg_gguf_find_kv(g, key);
    if (!kv) return VKG_ERR_NOT_FOUND;
    if (kv->type != VKG_GGUF_STRING) return wrong_type(g, kv, "string");
    *out = kv->str;
    return VKG_OK;
}

int64_t vkg_gguf_arr_i64(const struct vkg_gguf_kv *kv, uint64_t i)
{
    unsigned n = VALUE_SIZE[kv->arr_type];
    uint64_t u = le(kv->arr_data + i * n, n);
    switch (kv->arr_type) {
    case VKG_GGUF_INT8: return (int8_t)u;
    case VKG_GGUF_INT16: return (int16_t)u;
    case VKG_GGUF_INT32: return (int32_t)u;
    case VKG_GGUF_FLOAT32:
    case VKG_GGUF_FLOAT64: return (int64_t)vkg_gguf_arr_f64(kv, i);
    default: return (int64_t)u;
    }
}

double vkg_gguf_arr_f64(const struct vkg_gguf_kv *kv, uint64_t i)
{
    unsigned n = VALUE_SIZE[kv->arr_type];
    uint64_t u = le(kv->arr_data + i * n, n);
    if (kv->arr_type == VKG_GGUF_FLOAT32) {
        uint32_t w = (uint32_t)u;
        float f;
        memcpy(&f, &w, 4);
        return f;
    }
    if (kv->arr_type == VKG_GGUF_FLOAT64) {
        double d;
        memcpy(&d, &u, 8);
        return d;
    }
    return is_int(kv->arr_type) ? (double)vkg_gguf_arr_i64(kv, i) : (double)u;
}
