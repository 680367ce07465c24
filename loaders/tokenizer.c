/* tokenizer.c — loading tokenizer.json / tokenizer_config.json, and the
 * encode/decode pipelines (see tokenizer.h). The components live in
 * tokenizer_added.c, tokenizer_norm.c, tokenizer_pre.c, tokenizer_bpe.c and
 * tokenizer_decode.c. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "gguf_model.h"
#include "json.h"
#include "tokenizer_internal.h"

/* ---- loading ------------------------------------------------------------ */

static enum vkg_status read_json(const char *path, cJSON **out)
{
    return vkg_json_load(path, VKG_JSON_MAX_TOKENIZER, 0, out); /* Python json semantics (json.h) */
}

/* id -> token string and id -> special, over model vocab and added tokens. */
static enum vkg_status build_id_table(struct vkg_tokenizer *tok)
{
    size_t n = 0;
    for (ptrdiff_t i = 0; i < shlen(tok->bpe.vocab); i++)
        if ((size_t)tok->bpe.vocab[i].value + 1 > n) n = (size_t)tok->bpe.vocab[i].value + 1;
    for (ptrdiff_t i = 0; i < arrlen(tok->added); i++)
        if ((size_t)tok->added[i].id + 1 > n) n = (size_t)tok->added[i].id + 1;
    tok->pieces = calloc(n ? n : 1, sizeof *tok->pieces);
    tok->special = calloc(n ? n : 1, 1);
    if (!tok->pieces || !tok->special) return vkg_error(VKG_ERR_NOMEM, "tokenizer: id table of %zu entries", n);
    tok->n_ids = n;
    for (ptrdiff_t i = 0; i < shlen(tok->bpe.vocab); i++) tok->pieces[tok->bpe.vocab[i].value] = tok->bpe.vocab[i].key;
    for (ptrdiff_t i = 0; i < arrlen(tok->added); i++) { /* added tokens win, as in HF */
        tok->pieces[tok->added[i].id] = tok->added[i].content;
        tok->special[tok->added[i].id] = tok->added[i].special;
    }
    return VKG_OK;
}

static enum vkg_status load_pipeline(struct vkg_tokenizer *tok, const cJSON *j)
{
    enum vkg_status st;
    if ((st = tk_bpe_load(vkg_json_get(j, "model"), &tok->bpe)) ||
        (st = tk_norm_parse(vkg_json_get(j, "normalizer"), &tok->norms)) ||
        (st = tk_pre_parse(vkg_json_get(j, "pre_tokenizer"), &tok->pres)) ||
        (st = tk_post_parse(tok, vkg_json_get(j, "post_processor"))) ||
        (st = tk_dec_parse(vkg_json_get(j, "decoder"), &tok->decs)))
        return st;
    return tk_added_load(tok, vkg_json_get(j, "added_tokens"));
}

static const char *token_content(const cJSON *t)
{
    if (cJSON_IsObject(t)) t = vkg_json_get(t, "content");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

/* transformers marks every token the config names (bos_token, ...,
 * additional_special_tokens, extra_special_tokens) special, plus the
 * defaults of some tokenizer classes: GemmaTokenizer's mask_token "<mask>"
 * makes id 4 special for Gemma-3 although tokenizer.json says it is not. */
static enum vkg_status config_specials(struct vkg_tokenizer *tok, const cJSON *cfg)
{
    static const char *names[] = { "bos_token", "eos_token", "unk_token", "sep_token",
                                   "pad_token", "cls_token", "mask_token" };
    const cJSON *it, *cls = vkg_json_get(cfg, "tokenizer_class");
    enum vkg_status st = VKG_OK;
    for (int i = 0; !st && i < 7; i++) st = tk_added_mark_special(tok, token_content(vkg_json_get(cfg, names[i])));
    cJSON_ArrayForEach(it, vkg_json_get(cfg, "additional_special_tokens")) if (!st) st =
        tk_added_mark_special(tok, token_content(it));
    cJSON_ArrayForEach(it, vkg_json_get(cfg, "extra_special_tokens")) if (!st) st =
        tk_added_mark_special(tok, token_content(it));
    if (!st && cJSON_IsString(cls) && !strcmp(cls->valuestring, "GemmaTokenizer") && !vkg_json_get(cfg, "mask_token"))
        st = tk_added_mark_special(tok, "<mask>");
    return st;
}

enum vkg_status tk_tokenizer_from_json(const cJSON *j, const cJSON *cfg, const char *name, struct vkg_tokenizer **out)
{
    struct vkg_tokenizer *tok = calloc(1, sizeof *tok);
    enum vkg_status st = tok ? VKG_OK : VKG_ERR_NOMEM;
    *out = NULL;
    if (!st && (st = load_pipeline(tok, j))) {
        char detail[1024]; /* prefix the file name; the detail buffer is rewritten */
        snprintf(detail, sizeof detail, "%s", vkg_error_detail());
        vkg_error(st, "%s: %s", name, detail);
    }
    if (!st && !(st = config_specials(tok, cfg)) && !(st = build_id_table(tok))) {
        tok->bos_id = vkg_tokenizer_find(tok, token_content(vkg_json_get(cfg, "bos_token")));
        tok->eos_id = vkg_tokenizer_find(tok, token_content(vkg_json_get(cfg, "eos_token")));
        tok->add_bos = cJSON_IsTrue(vkg_json_get(cfg, "add_bos_token"));
    }
    if (st) {
        vkg_tokenizer_free(tok);
        return st;
    }
    *out = tok;
    return VKG_OK;
}

enum vkg_status vkg_tokenizer_load_files(const char *json_path, const char *config_path, struct vkg_tokenizer **out)
{
    cJSON *j = NULL, *cfg = NULL;
    enum vkg_status st = read_json(json_path, &j);
    *out = NULL;
    if (!st && config_path && (st = read_json(config_path, &cfg)) == VKG_ERR_NOT_FOUND)
        st = VKG_OK; /* tokenizer_config.json is optional */
    if (!st) st = tk_tokenizer_from_json(j, cfg, json_path, out);
    cJSON_Delete(j);
    cJSON_Delete(cfg);
    return st;
}

enum vkg_status vkg_tokenizer_load(const char *dir, struct vkg_tokenizer **out)
{
    if (!dir || !out) return vkg_error(VKG_ERR_INVALID_ARG, "vkg_tokenizer_load: NULL argument");
    if (vkg_gguf_is_path(dir)) return vkg_gguf_tokenizer_load(dir, out); /* tokenizer.ggml.* (gguf_tokenizer.c) */
    size_t n = strlen(dir) + 32;
    char *a = malloc(n), *b = malloc(n);
    enum vkg_status st = vkg_file_check_dir(dir); /* "a FIFO, not a model directory" */
    if (st == VKG_OK && (!a || !b)) st = vkg_error(VKG_ERR_NOMEM, "%s: path", dir);
    if (st == VKG_OK) {
        snprintf(a, n, "%s/tokenizer.json", dir);
        snprintf(b, n, "%s/tokenizer_config.json", dir);
        st = vkg_tokenizer_load_files(a, b, out);
    }
    free(a);
    free(b);
    return st;
}

void vkg_tokenizer_free(struct vkg_tokenizer *tok)
{
    if (!tok) return;
    tk_bpe_free(&tok->bpe);
    tk_norms_free(tok->norms);
    tk_pres_free(tok->pres);
    tk_decs_free(tok->decs);
    tk_post_free(tok);
    tk_added_free(tok);
    free(tok->pieces);
    free(tok->special);
    free(tok);
}

/* ---- encode ------------------------------------------------------------- */

/* Text between normalized added tokens: pre-tokenize, then BPE each piece. */
static enum vkg_status encode_normalized(struct vkg_tokenizer *tok, const char *s, size_t n, int32_t **ids, int flags)
{
    struct tk_pieces pieces = { 0 }, scratch = { 0 };
    int at_start = tok->enc_norm_at_start && s == tok->enc_norm;
    enum vkg_status st = tk_pretokenize(tok->pres, s, n, at_start, &pieces, &scratch);
    for (ptrdiff_t i = 0; !st && i < arrlen(pieces.spans); i++)
        st = tk_bpe_encode(&tok->bpe, pieces.buf.p + pieces.spans[i].off, pieces.spans[i].len, ids);
    tk_pieces_free(&pieces);
    tk_pieces_free(&scratch);
    return st;
}

/* Text between raw added tokens: normalize, then look for normalized ones. */
static enum vkg_status encode_raw(struct vkg_tokenizer *tok, const char *s, size_t n, int32_t **ids, int flags)
{
    struct tk_str norm = { 0 };
    enum vkg_status st = tk_normalize(tok->norms, s, n, &norm);
    tok->enc_norm = norm.p;
    tok->enc_norm_at_start = s == tok->enc_text;
    if (!st && norm.n) st = tk_added_split(tok, &tok->trie_norm, norm.p, norm.n, flags, encode_normalized, ids);
    tk_str_free(&norm);
    tok->enc_norm = NULL;
    return st;
}

/* TemplateProcessing "single" around the ids (e.g. Gemma's <bos> $A). */
static int32_t *post_process(const struct vkg_tokenizer *tok, int32_t *ids)
{
    int32_t *res = NULL;
    for (ptrdiff_t i = 0; i < arrlen(tok->post); i++) {
        const struct tk_post_item *it = &tok->post[i];
        if (it->is_sequence)
            for (ptrdiff_t k = 0; k < arrlen(ids); k++) arrput(res, ids[k]);
        else
            for (ptrdiff_t k = 0; k < arrlen(it->ids); k++) arrput(res, it->ids[k]);
    }
    arrfree(ids);
    return res;
}

enum vkg_status vkg_tokenizer_encode(struct vkg_tokenizer *tok, const char *text, size_t len, int flags, int32_t **ids,
                                     size_t *n)
{
    if (!tok || (!text && len) || !ids || !n)
        return vkg_error(VKG_ERR_INVALID_ARG, "vkg_tokenizer_encode: NULL argument");
    *ids = NULL;
    *n = 0;
    struct tk_str clean = { 0 };
    int32_t *out = NULL;
    enum vkg_status st = VKG_OK;
    if (tk_utf8_valid_prefix(text, len) != len) { /* Python would hold U+FFFD there */
        st = tk_utf8_sanitize(text, len, &clean);
        text = clean.p;
        len = clean.n;
    }
    tok->enc_text = text;
    if (!st && len) st = tk_added_split(tok, &tok->trie_raw, text, len, flags, encode_raw, &out);
    if (!st && (flags & VKG_TOK_ADD_SPECIAL) && tok->has_post_template) out = post_process(tok, out);
    tk_str_free(&clean);
    if (!st) {
        size_t count = arrlen(out);
        *ids = malloc((count ? count : 1) * sizeof **ids);
        if (!*ids) st = vkg_error(VKG_ERR_NOMEM, "vkg_tokenizer_encode: %zu ids", count);
        else if (count) memcpy(*ids, out, count * sizeof **ids);
        *n = *ids ? count : 0;
    }
    arrfree(out);
    return st;
}

/* ---- decode and lookups ------------------------------------------------- */

enum vkg_status vkg_tokenizer_decode(const struct vkg_tokenizer *tok, const int32_t *ids, size_t n, int flags,
                                     char **text)
{
    if (!tok || (!ids && n) || !text) return vkg_error(VKG_ERR_INVALID_ARG, "vkg_tokenizer_decode: NULL argument");
    *text = NULL;
    struct tk_str *pieces = NULL, out = { 0 };
    enum vkg_status st = VKG_OK;
    for (size_t i = 0; !st && i < n; i++) {
        const char *p = vkg_tokenizer_token_to_piece(tok, ids[i]);
        if (!p) {
            st = vkg_error(VKG_ERR_INVALID_ARG,
                           "vkg_tokenizer_decode: id %d at position %zu is "
                           "not a token (vocab size %zu)",
                           (int)ids[i], i, tok->n_ids);
            break;
        }
        if ((flags & VKG_TOK_SKIP_SPECIAL) && tok->special[ids[i]]) continue;
        struct tk_str s = { (char *)p, strlen(p), 0 }; /* borrowed: never freed here */
        arrput(pieces, s);
    }
    if (!st) st = tk_decode_pieces(tok, pieces, arrlen(pieces), 0, &out);
    arrfree(pieces);
    if (!st) st = tk_str_cstr(&out);
    if (st) tk_str_free(&out);
    else *text = out.p;
    return st;
}

enum vkg_status vkg_tokenizer_token_bytes(const struct vkg_tokenizer *tok, int32_t id, char **bytes, size_t *len)
{
    const char *p = vkg_tokenizer_token_to_piece(tok, id);
    if (!p || !bytes || !len)
        return vkg_error(VKG_ERR_INVALID_ARG, "vkg_tokenizer_token_bytes: id %d is not a token", (int)id);
    struct tk_str piece = { (char *)p, strlen(p), 0 }, out = { 0 }; /* piece is borrowed */
    enum vkg_status st = tk_decode_pieces(tok, &piece, 1, 1, &out);
    if (!st) st = tk_str_cstr(&out);
    if (st) {
        tk_str_free(&out);
        return st;
    }
    *bytes = out.p;
    *len = out.n;
    return VKG_OK;
}

const char *vkg_tokenizer_token_to_piece(const struct vkg_tokenizer *tok, int32_t id)
{
    return tok && id >= 0 && (size_t)id < tok->n_ids ? tok->pieces[id] : NULL;
}

int32_t vkg_tokenizer_find(const struct vkg_tokenizer *tok, const char *token)
{
    if (!tok || !token) return -1;
    for (ptrdiff_t i = 0; i < arrlen(tok->added); i++)
        if (!strcmp(tok->added[i].content, token)) return tok->added[i].id;
    ptrdiff_t i = shgeti(((struct vkg_tokenizer *)tok)->bpe.vocab, token);
    return i < 0 ? -1 : tok->bpe.vocab[i].value;
}

size_t vkg_tokenizer_vocab_size(const struct vkg_tokenizer *tok) { return tok ? tok->n_ids : 0; }
int32_t vkg_tokenizer_bos(const struct vkg_tokenizer *tok) { return tok ? tok->bos_id : -1; }
int32_t vkg_tokenizer_eos(const struct vkg_tokenizer *tok) { return tok ? tok->eos_id : -1; }
int vkg_tokenizer_add_bos(const struct vkg_tokenizer *tok) { return tok ? tok->add_bos : 0; }

int vkg_tokenizer_is_special(const struct vkg_tokenizer *tok, int32_t id)
{
    return tok && id >= 0 && (size_t)id < tok->n_ids && tok->special[id];
}
