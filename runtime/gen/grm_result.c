/* grm_result.c — a judged record, its JSON line and reading it back (see grm_result.h). */
#include "grm_result.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grm_rng.h"
#include "grm_text.h"

/* ---- building a result -------------------------------------------------------------- */

void vkg_grm_result_free(struct vkg_grm_result *r)
{
    for (uint32_t j = 0; r->samples && j < r->k; j++) free(r->samples[j].text);
    free(r->samples);
    free(r->id);
    free(r->error);
    free(r->subset);
    memset(r, 0, sizeof *r);
    r->label = -1;
}

static enum vkg_status dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (s && !(*out = strdup(s))) return vkg_error(VKG_ERR_NOMEM, "GRM result: out of memory");
    return VKG_OK;
}

uint64_t vkg_grm_result_sample_seed(const struct vkg_grm_result *r)
{
    return vkg_grm_sample_seed(r->seed, vkg_grm_record_key(r->id ? r->id : ""));
}

static void init_samples(struct vkg_grm_result *r)
{
    uint64_t ss = vkg_grm_result_sample_seed(r);
    for (uint32_t j = 0; j < r->k; j++) {
        struct vkg_grm_sample *s = &r->samples[j];
        vkg_grm_permutation(ss, j, r->k, r->n, s->perm);
        s->reason = VKG_GRM_NO_BOX; /* until a judgment arrives */
        s->meta = -INFINITY;
    }
}

enum vkg_status vkg_grm_result_init(struct vkg_grm_result *r, const struct vkg_grm_record *rec, uint32_t k,
                                    uint64_t seed)
{
    memset(r, 0, sizeof *r);
    r->label = -1;
    r->index = rec->index;
    r->line = rec->line;
    r->seed = seed;
    enum vkg_status st = dup_opt(rec->id, &r->id);
    if (st == VKG_OK && rec->error) st = dup_opt(rec->error, &r->error);
    if (st != VKG_OK || rec->error) return st;
    if (k == 0 || rec->n_responses == 0 || rec->n_responses > VKG_GRM_MAX_RESPONSES) {
        vkg_grm_result_free(r);
        return vkg_error(VKG_ERR_INVALID_ARG, "GRM result: k = %u samples of %zu responses", k, rec->n_responses);
    }
    r->k = k;
    r->n = (uint32_t)rec->n_responses;
    r->label = rec->label;
    if ((st = dup_opt(rec->subset, &r->subset)) != VKG_OK || !(r->samples = calloc(k, sizeof *r->samples))) {
        vkg_grm_result_free(r);
        return st != VKG_OK ? st : vkg_error(VKG_ERR_NOMEM, "GRM result: %u samples", k);
    }
    init_samples(r);
    return VKG_OK;
}

enum vkg_status vkg_grm_result_set_judgment(struct vkg_grm_result *r, uint32_t j, const char *text, size_t len,
                                            uint32_t tokens, bool truncated, bool keep_text)
{
    if (j >= r->k) return vkg_error(VKG_ERR_INVALID_ARG, "GRM result: sample %u of %u", j, r->k);
    struct vkg_grm_sample *s = &r->samples[j];
    struct vkg_grm_scores parsed;
    vkg_grm_parse_scores(text, len, r->n, truncated, &parsed);
    vkg_grm_sample_set_scores(s, &parsed, r->n);
    s->tokens = tokens;
    s->truncated = truncated;
    free(s->text);
    s->text = NULL;
    if (!keep_text) return VKG_OK;
    struct vkg_grm_text b = { 0 };
    vkg_grm_text_add_utf8(&b, text, len);
    return vkg_grm_text_take(&b, &s->text, NULL);
}

void vkg_grm_result_set_meta(struct vkg_grm_result *r, uint32_t j, double score)
{
    if (j < r->k) {
        r->samples[j].has_meta = true;
        r->samples[j].meta = score;
    }
}

enum vkg_status vkg_grm_result_vote(struct vkg_grm_result *r, bool with_meta, uint32_t meta_k)
{
    if (r->error) return VKG_OK;
    uint64_t ss = vkg_grm_result_sample_seed(r);
    vkg_grm_vote(r->samples, NULL, r->k, r->n, ss, &r->vote);
    r->has_meta = with_meta;
    memset(&r->meta_vote, 0, sizeof r->meta_vote);
    r->meta_vote.best = -1;
    if (!with_meta) return VKG_OK;
    r->meta_k = meta_k == 0 ? vkg_grm_meta_k_default(r->k) : meta_k > r->k ? r->k : meta_k;
    return vkg_grm_meta_vote(r->samples, NULL, r->k, r->meta_k, r->n, ss, &r->meta_vote);
}

const char *vkg_grm_result_status(const struct vkg_grm_result *r)
{
    return r->error ? "error" : r->vote.best < 0 ? "no_judgement" : "ok";
}

/* ---- writing -------------------------------------------------------------------------- */

/* Add item under key; a NULL item (failed allocation) marks the build failed. */
static void put(cJSON *o, const char *key, cJSON *item, bool *ok)
{
    if (!item || !cJSON_AddItemToObject(o, key, item)) {
        cJSON_Delete(item);
        *ok = false;
    }
}

static cJSON *raw_u64(uint64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(b);
}

static cJSON *int_array(const int64_t *v64, const int32_t *v32, const uint32_t *u32, uint32_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (uint32_t i = 0; a && i < n; i++) {
        double x = v64 ? (double)v64[i] : v32 ? (double)v32[i] : (double)u32[i];
        cJSON *e = cJSON_CreateNumber(x);
        if (!e || !cJSON_AddItemToArray(a, e)) {
            cJSON_Delete(e);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static cJSON *opt_index(int32_t best) { return best < 0 ? cJSON_CreateNull() : cJSON_CreateNumber(best); }

static cJSON *sample_json(const struct vkg_grm_result *r, const struct vkg_grm_sample *s, bool keep_text)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL, valid = s->reason == VKG_GRM_VALID;
    if (!ok) return NULL;
    put(o, "perm", int_array(NULL, NULL, s->perm, r->n), &ok);
    put(o, "scores", valid ? int_array(NULL, s->scores, NULL, r->n) : cJSON_CreateNull(), &ok);
    put(o, "reason", valid ? cJSON_CreateNull() : cJSON_CreateString(vkg_grm_reason_name(s->reason)), &ok);
    put(o, "tokens", cJSON_CreateNumber(s->tokens), &ok);
    put(o, "truncated", cJSON_CreateBool(s->truncated), &ok);
    if (r->has_meta)
        put(o, "meta", valid && s->has_meta && isfinite(s->meta) ? cJSON_CreateNumber(s->meta) : cJSON_CreateNull(),
            &ok);
    if (keep_text && s->text) put(o, "text", cJSON_CreateString(s->text), &ok);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static void put_vote(cJSON *o, const struct vkg_grm_result *r, const struct vkg_grm_vote *v, const char *prefix,
                     bool *ok)
{
    char key[32];
    snprintf(key, sizeof key, "%srewards", prefix);
    put(o, key, v->used ? int_array(v->rewards, NULL, NULL, r->n) : cJSON_CreateNull(), ok);
    snprintf(key, sizeof key, "%sbest", prefix);
    put(o, key, opt_index(v->best), ok);
    snprintf(key, sizeof key, "%stie", prefix);
    put(o, key, cJSON_CreateBool(v->tie), ok);
}

static void put_judged(cJSON *o, const struct vkg_grm_result *r, bool keep_text, bool *ok)
{
    put(o, "n", cJSON_CreateNumber(r->n), ok);
    put(o, "k", cJSON_CreateNumber(r->k), ok);
    put(o, "seed", raw_u64(r->seed), ok);
    put(o, "valid", cJSON_CreateNumber(r->vote.used), ok);
    put_vote(o, r, &r->vote, "", ok);
    put(o, "status", cJSON_CreateString(vkg_grm_result_status(r)), ok);
    if (r->label >= 0) {
        put(o, "label", cJSON_CreateNumber(r->label), ok);
        put(o, "correct", cJSON_CreateBool(r->vote.best == r->label), ok);
    }
    if (r->has_meta) {
        put(o, "meta_k", cJSON_CreateNumber(r->meta_k), ok);
        put_vote(o, r, &r->meta_vote, "meta_", ok);
        if (r->label >= 0) put(o, "meta_correct", cJSON_CreateBool(r->meta_vote.best == r->label), ok);
    }
    if (r->subset) put(o, "subset", cJSON_CreateString(r->subset), ok);
    cJSON *arr = cJSON_CreateArray();
    for (uint32_t j = 0; arr && j < r->k; j++) {
        cJSON *s = sample_json(r, &r->samples[j], keep_text);
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            *ok = false;
        }
    }
    put(o, "samples", arr, ok);
}

enum vkg_status vkg_grm_result_json(const struct vkg_grm_result *r, bool keep_text, char **line)
{
    *line = NULL;
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL;
    if (ok) {
        put(o, "index", raw_u64(r->index), &ok);
        put(o, "id", r->id ? cJSON_CreateString(r->id) : cJSON_CreateNull(), &ok);
        if (r->error) {
            put(o, "line", raw_u64(r->line), &ok);
            put(o, "status", cJSON_CreateString("error"), &ok);
            put(o, "error", cJSON_CreateString(r->error), &ok);
        } else {
            put_judged(o, r, keep_text, &ok);
        }
    }
    if (ok) *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return *line ? VKG_OK : vkg_error(VKG_ERR_NOMEM, "GRM result: JSON of record %llu", (unsigned long long)r->index);
}

/* ---- reading back --------------------------------------------------------------------- */

struct rctx {
    const char *line;
    size_t len;
    const cJSON *root;
};

static enum vkg_status bad(const char *what, const char *key)
{
    return vkg_error(VKG_ERR_FORMAT, "result line: \"%s\" %s", key, what);
}

/* A non-negative integer member of the top level, read exactly from the text. */
static enum vkg_status get_u64(const struct rctx *c, const char *key, bool required, uint64_t *out, bool *present)
{
    const cJSON *v = vkg_grm_json_get(c->root, key);
    const char *raw;
    size_t rl;
    if (present) *present = v && !cJSON_IsNull(v);
    if (!v || cJSON_IsNull(v)) return required ? bad("is missing", key) : VKG_OK;
    if (!cJSON_IsNumber(v) || !vkg_grm_json_raw_member(c->line, c->len, key, &raw, &rl) || rl == 0 || rl > 20)
        return bad("must be a non-negative integer", key);
    uint64_t x = 0;
    for (size_t i = 0; i < rl; i++) {
        uint64_t d = (uint64_t)(raw[i] - '0');
        if (raw[i] < '0' || raw[i] > '9' || x > UINT64_MAX / 10 || (x == UINT64_MAX / 10 && d > UINT64_MAX % 10))
            return bad("must be a non-negative integer", key);
        x = x * 10 + d;
    }
    *out = x;
    return VKG_OK;
}

/* An integral cJSON number in [lo, hi]. */
static bool int_in(const cJSON *v, double lo, double hi, int64_t *out)
{
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

static enum vkg_status get_string(const cJSON *obj, const char *key, bool nullable, char **out)
{
    const cJSON *v = vkg_grm_json_get(obj, key);
    *out = NULL;
    if (!v || (nullable && cJSON_IsNull(v))) return nullable ? VKG_OK : bad("is missing", key);
    if (!cJSON_IsString(v)) return bad("must be a string", key);
    return dup_opt(v->valuestring, out);
}

static enum vkg_status read_int_array(const cJSON *a, uint32_t n, double lo, double hi, int64_t *out, const char *key)
{
    if (!cJSON_IsArray(a) || (uint32_t)cJSON_GetArraySize(a) != n) return bad("must be a list of n integers", key);
    const cJSON *e;
    uint32_t i = 0;
    cJSON_ArrayForEach(e, a)
    {
        if (!int_in(e, lo, hi, &out[i++])) return bad("holds a value out of range", key);
    }
    return VKG_OK;
}

static enum vkg_status read_perm(const cJSON *a, uint32_t n, uint32_t *perm)
{
    int64_t v[VKG_GRM_MAX_RESPONSES];
    bool seen[VKG_GRM_MAX_RESPONSES] = { false };
    enum vkg_status st = read_int_array(a, n, 0, n - 1, v, "perm");
    for (uint32_t i = 0; st == VKG_OK && i < n; i++) {
        if (seen[v[i]]) return bad("is not a permutation of 0..n-1", "perm");
        seen[v[i]] = true;
        perm[i] = (uint32_t)v[i];
    }
    return st;
}

static enum vkg_status read_sample(const cJSON *o, const struct vkg_grm_result *r, struct vkg_grm_sample *s)
{
    int64_t v[VKG_GRM_MAX_RESPONSES], tokens;
    if (!cJSON_IsObject(o)) return bad("must hold objects", "samples");
    enum vkg_status st = read_perm(vkg_grm_json_get(o, "perm"), r->n, s->perm);
    if (st != VKG_OK) return st;
    const cJSON *reason = vkg_grm_json_get(o, "reason"), *scores = vkg_grm_json_get(o, "scores");
    if (cJSON_IsNull(reason)) {
        s->reason = VKG_GRM_VALID;
        if ((st = read_int_array(scores, r->n, 1, 10, v, "scores")) != VKG_OK) return st;
        for (uint32_t i = 0; i < r->n; i++) s->scores[i] = (int32_t)v[i];
    } else {
        s->reason = cJSON_IsString(reason) ? vkg_grm_reason_from_name(reason->valuestring) : VKG_GRM_REASON_COUNT;
        if (s->reason == VKG_GRM_REASON_COUNT || s->reason == VKG_GRM_VALID)
            return bad("must be null or an invalid-sample reason", "reason");
        if (!cJSON_IsNull(scores)) return bad("must be null for an invalid sample", "scores");
    }
    if (!int_in(vkg_grm_json_get(o, "tokens"), 0, UINT32_MAX, &tokens))
        return bad("must be a non-negative integer", "tokens");
    s->tokens = (uint32_t)tokens;
    const cJSON *tr = vkg_grm_json_get(o, "truncated"), *meta = vkg_grm_json_get(o, "meta");
    if (!cJSON_IsBool(tr)) return bad("must be true or false", "truncated");
    s->truncated = cJSON_IsTrue(tr);
    s->meta = -INFINITY;
    if (r->has_meta && cJSON_IsNumber(meta)) {
        s->has_meta = true;
        s->meta = meta->valuedouble;
    } else if (r->has_meta && !cJSON_IsNull(meta)) {
        return bad("must be a number or null", "meta");
    }
    return get_string(o, "text", true, &s->text);
}

static enum vkg_status read_samples(const cJSON *arr, struct vkg_grm_result *r)
{
    if (!cJSON_IsArray(arr) || (uint32_t)cJSON_GetArraySize(arr) != r->k)
        return bad("must be a list of k samples", "samples");
    if (!(r->samples = calloc(r->k, sizeof *r->samples)))
        return vkg_error(VKG_ERR_NOMEM, "result line: %u samples", r->k);
    const cJSON *o;
    uint32_t j = 0;
    cJSON_ArrayForEach(o, arr)
    {
        enum vkg_status st = read_sample(o, r, &r->samples[j++]);
        if (st != VKG_OK) return st;
    }
    return VKG_OK;
}

/* The stored vote fields agree with the vote recomputed from the samples. */
static enum vkg_status check_vote(const cJSON *root, const struct vkg_grm_result *r, const struct vkg_grm_vote *v,
                                  const char *prefix)
{
    char kr[32], kb[32];
    snprintf(kr, sizeof kr, "%srewards", prefix);
    snprintf(kb, sizeof kb, "%sbest", prefix);
    const cJSON *rewards = vkg_grm_json_get(root, kr), *best = vkg_grm_json_get(root, kb);
    int64_t x[VKG_GRM_MAX_RESPONSES], b = -1;
    if (v->used == 0)
        return cJSON_IsNull(rewards) && cJSON_IsNull(best) ? VKG_OK
                                                           : bad("disagrees with the samples (none valid)", kb);
    if (read_int_array(rewards, r->n, 0, 1e15, x, kr) != VKG_OK || memcmp(x, v->rewards, r->n * sizeof *x))
        return bad("disagrees with the sum of the samples' scores", kr);
    if (!int_in(best, 0, r->n - 1, &b) || b != v->best) return bad("disagrees with the vote of the samples", kb);
    return VKG_OK;
}

static enum vkg_status read_judged(const struct rctx *c, struct vkg_grm_result *r)
{
    uint64_t n, k, label, meta_k, valid;
    bool has_label;
    enum vkg_status st;
    if ((st = get_u64(c, "n", true, &n, NULL)) || (st = get_u64(c, "k", true, &k, NULL)) ||
        (st = get_u64(c, "seed", true, &r->seed, NULL)) || (st = get_u64(c, "valid", true, &valid, NULL)) ||
        (st = get_u64(c, "label", false, &label, &has_label)) ||
        (st = get_u64(c, "meta_k", false, &meta_k, &r->has_meta)))
        return st;
    if (n < 1 || n > VKG_GRM_MAX_RESPONSES || k < 1 || k > 1u << 20)
        return bad("out of range", n < 1 || n > VKG_GRM_MAX_RESPONSES ? "n" : "k");
    r->n = (uint32_t)n;
    r->k = (uint32_t)k;
    if (has_label && label >= n) return bad("out of range", "label");
    r->label = has_label ? (int32_t)label : -1;
    if (!r->id) return bad("must be a string", "id");
    if ((st = get_string(c->root, "subset", true, &r->subset)) ||
        (st = read_samples(vkg_grm_json_get(c->root, "samples"), r)))
        return st;
    if (r->has_meta && (meta_k < 1 || meta_k > k)) return bad("out of range", "meta_k");
    if ((st = vkg_grm_result_vote(r, r->has_meta, (uint32_t)meta_k)) != VKG_OK) return st;
    if (valid != r->vote.used) return bad("disagrees with the samples", "valid");
    if ((st = check_vote(c->root, r, &r->vote, "")) == VKG_OK && r->has_meta)
        st = check_vote(c->root, r, &r->meta_vote, "meta_");
    return st;
}

enum vkg_status vkg_grm_result_parse(const char *line, size_t len, struct vkg_grm_result *r)
{
    memset(r, 0, sizeof *r);
    r->label = -1;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(line, len, &end, false);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return vkg_error(VKG_ERR_FORMAT, "result line: not a JSON object");
    }
    struct rctx c = { line, len, root };
    const cJSON *status = vkg_grm_json_get(root, "status");
    enum vkg_status st = get_u64(&c, "index", true, &r->index, NULL);
    if (st == VKG_OK) st = get_string(root, "id", true, &r->id);
    if (st == VKG_OK && !cJSON_IsString(status)) st = bad("must be a string", "status");
    if (st == VKG_OK && !strcmp(status->valuestring, "error")) {
        if ((st = get_u64(&c, "line", true, &r->line, NULL)) == VKG_OK &&
            (st = get_string(root, "error", false, &r->error)) == VKG_OK && !r->error)
            st = bad("is missing", "error");
    } else if (st == VKG_OK) {
        if ((st = read_judged(&c, r)) == VKG_OK && strcmp(status->valuestring, vkg_grm_result_status(r)))
            st = bad("disagrees with the samples", "status");
    }
    cJSON_Delete(root);
    if (st != VKG_OK) vkg_grm_result_free(r);
    return st;
}

enum vkg_status vkg_grm_result_revote(struct vkg_grm_result *r, uint32_t k_new, bool with_meta, uint32_t meta_k)
{
    if (r->error) return VKG_OK;
    if (k_new < 1 || k_new > r->k)
        return vkg_error(VKG_ERR_INVALID_ARG, "re-vote of record %s: k = %u, the record has %u samples", r->id, k_new,
                         r->k);
    if (with_meta && !r->has_meta)
        return vkg_error(VKG_ERR_INVALID_ARG, "re-vote of record %s: no MetaRM scores in the input", r->id);
    for (uint32_t j = k_new; j < r->k; j++) {
        free(r->samples[j].text);
        r->samples[j].text = NULL;
    }
    r->k = k_new;
    for (uint32_t j = 0; j < k_new; j++) {
        struct vkg_grm_sample *s = &r->samples[j];
        if (!s->text) continue;
        struct vkg_grm_scores parsed;
        vkg_grm_parse_scores(s->text, strlen(s->text), r->n, s->truncated, &parsed);
        vkg_grm_sample_set_scores(s, &parsed, r->n);
    }
    return vkg_grm_result_vote(r, with_meta, meta_k);
}
