/* tokenizer.h — Hugging Face tokenizer.json (BPE) encode/decode.
 *
 * Loads tokenizer.json + tokenizer_config.json from a model directory and
 * reproduces what Python transformers.AutoTokenizer does with them:
 * added/special tokens split first, then normalizer, pre-tokenizer, BPE
 * model (byte-level like Qwen3/Llama-3/DeepSeek-V3, or SentencePiece-style
 * with ▁ and <0xNN> byte fallback like Gemma), post-processor; decode runs
 * the decoder chain. Unsupported pipeline components fail at load time with
 * VKG_ERR_UNSUPPORTED naming the component type.
 *
 *   struct vkg_tokenizer *tok;
 *   if (vkg_tokenizer_load("models/Qwen3-0.6B", &tok)) { puts(vkg_error_detail()); ... }
 *   int32_t *ids; size_t n;
 *   vkg_tokenizer_encode(tok, text, strlen(text), VKG_TOK_ADD_SPECIAL | VKG_TOK_PARSE_SPECIAL, &ids, &n);
 *   char *back; vkg_tokenizer_decode(tok, ids, n, 0, &back);
 *   free(ids); free(back); vkg_tokenizer_free(tok);
 *
 * Threads: encode and find use per-tokenizer scratch space and a piece
 * cache, so give each thread its own tokenizer (or a lock); decode,
 * token_to_piece and the other getters only read. */
#ifndef VKG_TOKENIZER_H
#define VKG_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct vkg_tokenizer;

/* vkg_tokenizer_encode flags. */
enum {
    VKG_TOK_ADD_SPECIAL = 1 << 0,   /* run the post-processor (e.g. Gemma's <bos>) */
    VKG_TOK_PARSE_SPECIAL = 1 << 1, /* "<|im_end|>" in the text becomes the special id;
                                       without it only non-special added tokens match */
};
/* vkg_tokenizer_decode flags. */
enum {
    VKG_TOK_SKIP_SPECIAL = 1 << 0, /* drop special added tokens (like skip_special_tokens) */
};

/* Loads DIR/tokenizer.json and (optional) DIR/tokenizer_config.json. */
enum vkg_status vkg_tokenizer_load(const char *dir, struct vkg_tokenizer **out);
/* Loads from explicit files; config_path may be NULL. */
enum vkg_status vkg_tokenizer_load_files(const char *json_path, const char *config_path, struct vkg_tokenizer **out);
void vkg_tokenizer_free(struct vkg_tokenizer *tok);

/* Encodes len bytes of text (need not be NUL-terminated). Invalid UTF-8 is
 * read as Python's bytes.decode("utf-8", errors="replace") would: each
 * maximal invalid subsequence becomes U+FFFD. *ids is malloc'ed (free it);
 * it is non-NULL even when *n == 0. */
enum vkg_status vkg_tokenizer_encode(struct vkg_tokenizer *tok, const char *text, size_t len, int flags, int32_t **ids,
                                     size_t *n);
/* Decodes ids into a malloc'ed NUL-terminated string. An id outside
 * [0, vocab size) or without a token is VKG_ERR_INVALID_ARG. */
enum vkg_status vkg_tokenizer_decode(const struct vkg_tokenizer *tok, const int32_t *ids, size_t n, int flags,
                                     char **text);

/* The token string as stored in the vocabulary ("Ġthe", "▁the", "<0x0A>",
 * "<|im_end|>"), NULL for an unknown id. Owned by the tokenizer. */
const char *vkg_tokenizer_token_to_piece(const struct vkg_tokenizer *tok, int32_t id);
/* The bytes one token stands for, through the decoder chain but without
 * U+FFFD replacement: a byte-level or <0xNN> token may hold part of a UTF-8
 * character ("\xF0\x9F"). For streaming output, append these bytes and
 * print only complete characters. *bytes is malloc'ed (NUL-terminated too). */
enum vkg_status vkg_tokenizer_token_bytes(const struct vkg_tokenizer *tok, int32_t id, char **bytes, size_t *len);
/* Id of a token string (added tokens first, then the model vocabulary), -1 if absent. */
int32_t vkg_tokenizer_find(const struct vkg_tokenizer *tok, const char *token);
/* Largest id + 1, added tokens included (len(tokenizer) in Python). */
size_t vkg_tokenizer_vocab_size(const struct vkg_tokenizer *tok);
/* bos/eos ids from tokenizer_config.json (string or AddedToken object), -1 if none. */
int32_t vkg_tokenizer_bos(const struct vkg_tokenizer *tok);
int32_t vkg_tokenizer_eos(const struct vkg_tokenizer *tok);
/* tokenizer_config.json add_bos_token (0 when absent). Informational only:
 * VKG_TOK_ADD_SPECIAL runs the tokenizer.json post-processor, which is what
 * transformers 5.x does for all four reference families. DeepSeek-V3 says
 * LlamaTokenizerFast + add_bos_token: true, but transformers 5 loads its
 * byte-level tokenizer.json as TokenizersBackend and adds no BOS (older
 * transformers rebuilt the post-processor from the flag and added id 0);
 * callers that want a BOS there (its chat template writes it as text)
 * prepend vkg_tokenizer_bos() themselves. */
int vkg_tokenizer_add_bos(const struct vkg_tokenizer *tok);
/* 1 if id is an added token marked "special". */
int vkg_tokenizer_is_special(const struct vkg_tokenizer *tok, int32_t id);

#endif
