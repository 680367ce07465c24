/* tokenizer_internal.h — structs shared by the tokenizer_*.c files.
 *
 * The pipeline mirrors Hugging Face tokenizers: added tokens -> normalizer ->
 * pre-tokenizer -> model (BPE) -> post-processor, and decoder for the way
 * back. Sequences of components are flattened into arrays at load time. */
#ifndef VKG_TOKENIZER_INTERNAL_H
#define VKG_TOKENIZER_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "tokenizer.h"

/* stb_ds's hm* macros take rvalue keys through gcc's `typeof`, which is not
 * a keyword under -std=c11; give it its reserved spelling. */
#if defined(__GNUC__) && !defined(__clang__) && !defined(typeof)
#define typeof __typeof__
#endif
#include <stb/stb_ds.h>

struct cJSON;

/* Growable byte string (not NUL-terminated unless tk_str_cstr is called). */
struct tk_str {
    char *p;
    size_t n, cap;
};
enum vkg_status tk_str_append(struct tk_str *s, const void *data, size_t n);
enum vkg_status tk_str_putc(struct tk_str *s, char c);
/* Makes s->p NUL-terminated (not counted in n). */
enum vkg_status tk_str_cstr(struct tk_str *s);
void tk_str_free(struct tk_str *s);

/* Pieces of text: spans into one buffer. */
struct tk_span {
    size_t off, len;
};
struct tk_pieces {
    struct tk_str buf;
    struct tk_span *spans; /* stb_ds array */
};
void tk_pieces_free(struct tk_pieces *p);
void tk_pieces_reset(struct tk_pieces *p);
enum vkg_status tk_pieces_add(struct tk_pieces *p, const char *s, size_t n);

/* A literal string or a PCRE2 regex (Split, Replace). */
struct tk_pattern {
    char *lit; /* literal when re == NULL */
    size_t lit_len;
    pcre2_code *re;
    pcre2_match_data *md;
    pcre2_match_context *mc;
};
/* Finds the next match at or after start; returns 1 and [*ms,*me), 0 if
 * none, negative status on a regex engine error (e.g. match limit). */
int tk_pattern_find(struct tk_pattern *pat, const char *s, size_t n, size_t start, size_t *ms, size_t *me);
void tk_pattern_free(struct tk_pattern *pat);
/* Parses {"String": "..."} or {"Regex": "..."}. what names the owner for errors. */
enum vkg_status tk_pattern_parse(const struct cJSON *j, struct tk_pattern *pat, const char *what);

/* ---- normalizers ------------------------------------------------------- */
enum tk_norm_type {
    TK_NORM_NFC,
    TK_NORM_NFD,
    TK_NORM_NFKC,
    TK_NORM_NFKD,
    TK_NORM_LOWERCASE,
    TK_NORM_REPLACE,
    TK_NORM_PREPEND,
    TK_NORM_STRIP
};
struct tk_norm {
    enum tk_norm_type type;
    struct tk_pattern pat; /* Replace */
    char *content;         /* Replace, Prepend */
    int strip_left, strip_right;
};

/* ---- pre-tokenizers ---------------------------------------------------- */
enum tk_pre_type { TK_PRE_SPLIT, TK_PRE_BYTELEVEL, TK_PRE_METASPACE };
enum tk_behavior { TK_B_REMOVED, TK_B_ISOLATED, TK_B_MERGED_PREV, TK_B_MERGED_NEXT, TK_B_CONTIGUOUS };
struct tk_pre {
    enum tk_pre_type type;
    struct tk_pattern pat;     /* Split; ByteLevel with use_regex (GPT-2 pattern) */
    enum tk_behavior behavior; /* Split */
    int invert;                /* Split */
    int add_prefix_space;      /* ByteLevel */
    int use_regex;             /* ByteLevel */
    int meta_prepend;          /* Metaspace: TK_PREPEND_* */
    int meta_split;            /* Metaspace: split before each replacement char */
    char *meta_char;           /* Metaspace replacement (UTF-8), also in pat.lit */
};

/* ---- decoders ---------------------------------------------------------- */
enum tk_dec_type { TK_DEC_BYTELEVEL, TK_DEC_REPLACE, TK_DEC_BYTEFALLBACK, TK_DEC_FUSE, TK_DEC_STRIP, TK_DEC_METASPACE };
struct tk_dec {
    enum tk_dec_type type;
    struct tk_pattern pat; /* Replace */
    char *content;         /* Replace: with; Strip: the char */
    int start, stop;       /* Strip */
    int meta_prepend;      /* Metaspace: TK_PREPEND_* */
    char *meta_char;       /* Metaspace replacement (UTF-8) */
};
enum { TK_PREPEND_NEVER, TK_PREPEND_ALWAYS, TK_PREPEND_FIRST };
/* Metaspace "prepend_scheme" (or legacy "add_prefix_space") of j. */
int tk_prepend_scheme(const struct cJSON *j);

/* ---- post-processor (TemplateProcessing "single", flattened) ------------ */
struct tk_post_item {
    int is_sequence; /* 1: the encoded text ($A) */
    int32_t *ids;    /* stb_ds array: ids of a SpecialToken */
};

/* ---- added tokens -------------------------------------------------------- */
struct tk_added {
    char *content; /* as in tokenizer.json */
    size_t len;
    char *match; /* what is searched: content, normalized when "normalized" */
    size_t match_len;
    int32_t id;
    uint8_t special, lstrip, rstrip, single_word, normalized;
};
/* Byte trie over added-token strings; leftmost-longest search. */
struct tk_trie {
    struct {
        uint64_t key;
        int32_t value;
    } * edges;          /* (node << 8 | byte) -> child */
    int32_t *token;     /* node -> tk_added index or -1 */
    uint8_t first[256]; /* bytes that start some token */
};

/* ---- BPE model ----------------------------------------------------------- */
struct tk_merge {
    int32_t rank, id;
};
struct tk_bpe {
    struct {
        char *key;
        int32_t value;
    } * vocab; /* stb_ds string map */
    struct {
        uint64_t key;
        struct tk_merge value;
    } * merges;     /* (a << 32 | b) */
    int32_t unk_id; /* -1 none */
    int byte_fallback, fuse_unk, ignore_merges;
    int32_t byte_ids[256]; /* "<0xNN>" ids for byte_fallback, -1 absent */
    /* piece -> ids cache (like HF's word cache): value = offset in cache_ids
     * where the count then the ids are stored. */
    struct {
        char *key;
        size_t value;
    } * cache;
    int32_t *cache_ids;
    /* scratch for the merge loop */
    struct tk_sym *syms;
    struct tk_heap_item *heap;
    struct tk_str key;
};

struct vkg_tokenizer {
    struct tk_bpe bpe;
    struct tk_norm *norms;     /* stb_ds array, applied in order */
    struct tk_pre *pres;       /* stb_ds array, applied in order */
    struct tk_dec *decs;       /* stb_ds array, applied in order */
    struct tk_post_item *post; /* stb_ds array; NULL: no template */
    int has_post_template;
    struct tk_added *added; /* stb_ds array */
    struct tk_trie trie_raw, trie_norm;
    char **pieces;    /* id -> token string (borrowed), n_ids entries */
    uint8_t *special; /* id -> 1 when a special added token */
    size_t n_ids;
    int32_t bos_id, eos_id;
    int add_bos;
    /* during encode: where the input and the current normalized stretch
     * begin, to tell Metaspace which piece starts the text */
    const char *enc_text, *enc_norm;
    int enc_norm_at_start;
};

/* tokenizer.c: a tokenizer from parsed tokenizer.json and tokenizer_config.json
 * trees (cfg may be NULL); name prefixes load errors. */
enum vkg_status tk_tokenizer_from_json(const struct cJSON *j, const struct cJSON *cfg, const char *name,
                                       struct vkg_tokenizer **out);

/* tokenizer_utf8.c */
/* Number of bytes of the valid UTF-8 prefix of s. */
size_t tk_utf8_valid_prefix(const char *s, size_t n);
/* Appends s to out with every maximal invalid subsequence replaced by
 * U+FFFD (Python errors="replace", Rust from_utf8_lossy). */
enum vkg_status tk_utf8_sanitize(const char *s, size_t n, struct tk_str *out);
/* Decodes one code point of valid UTF-8; returns its length. */
size_t tk_utf8_next(const char *s, size_t n, int32_t *cp);
size_t tk_utf8_encode(int32_t cp, char out[4]);
int tk_is_whitespace(int32_t cp); /* Unicode White_Space (Rust char::is_whitespace) */
int tk_is_alnum(int32_t cp);      /* Rust char::is_alphanumeric */

/* tokenizer_norm.c */
enum vkg_status tk_norm_parse(const struct cJSON *j, struct tk_norm **out);
enum vkg_status tk_normalize(const struct tk_norm *norms, const char *s, size_t n, struct tk_str *out);
void tk_norms_free(struct tk_norm *norms);
/* Appends s with every match of pat replaced by content. */
enum vkg_status tk_pattern_replace(struct tk_pattern *pat, const char *content, const char *s, size_t n,
                                   struct tk_str *out);

/* tokenizer_pre.c */
enum vkg_status tk_pre_parse(const struct cJSON *j, struct tk_pre **out);
/* Splits s into pieces (appended to out; scratch is reused between calls).
 * at_start: s begins the whole input (Metaspace prepend_scheme "first"). */
enum vkg_status tk_pretokenize(struct tk_pre *pres, const char *s, size_t n, int at_start, struct tk_pieces *out,
                               struct tk_pieces *scratch);
void tk_pres_free(struct tk_pre *pres);
/* GPT-2 byte <-> unicode map of the ByteLevel components. */
const char *tk_byte_to_utf8(uint8_t b, size_t *len);
int tk_utf8_to_byte(int32_t cp); /* -1 when cp is not in the map */

/* tokenizer_bpe.c */
enum vkg_status tk_bpe_load(const struct cJSON *model, struct tk_bpe *bpe);
void tk_bpe_free(struct tk_bpe *bpe);
/* Appends the ids of one pre-token to *ids (stb_ds array). */
enum vkg_status tk_bpe_encode(struct tk_bpe *bpe, const char *s, size_t n, int32_t **ids);
int32_t tk_bpe_lookup(struct tk_bpe *bpe, const char *s, size_t n);

/* tokenizer_added.c */
enum vkg_status tk_added_load(struct vkg_tokenizer *tok, const struct cJSON *arr);
/* Splits s by the tokens of trie: appends text spans and token ids through
 * the callbacks in order. Special tokens are ignored unless parse_special. */
typedef enum vkg_status (*tk_text_fn)(struct vkg_tokenizer *tok, const char *s, size_t n, int32_t **ids, int flags);
enum vkg_status tk_added_split(struct vkg_tokenizer *tok, const struct tk_trie *trie, const char *s, size_t n,
                               int flags, tk_text_fn on_text, int32_t **ids);
void tk_added_free(struct vkg_tokenizer *tok);
/* Marks the token with this content special (adding it from the vocab if
 * it is not an added token yet); unknown strings are ignored. */
enum vkg_status tk_added_mark_special(struct vkg_tokenizer *tok, const char *content);

/* tokenizer_decode.c */
enum vkg_status tk_dec_parse(const struct cJSON *j, struct tk_dec **out);
void tk_decs_free(struct tk_dec *decs);
enum vkg_status tk_post_parse(struct vkg_tokenizer *tok, const struct cJSON *j);
void tk_post_free(struct vkg_tokenizer *tok);
/* Runs the decoder chain over token strings; the result is appended to out.
 * raw: keep bytes that are not valid UTF-8 instead of writing U+FFFD. */
enum vkg_status tk_decode_pieces(const struct vkg_tokenizer *tok, struct tk_str *pieces, ptrdiff_t n, int raw,
                                 struct tk_str *out);

#endif
