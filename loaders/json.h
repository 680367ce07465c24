/* json.h — JSON read as Python's json module reads it, into a cJSON tree.
 *
 * Every JSON file of a model directory (config.json, generation_config.json,
 * tokenizer.json, tokenizer_config.json, model.safetensors.index.json, the
 * safetensors header) goes through here, so that a file means to us what it
 * means to transformers (json.load on the UTF-8 text):
 *   - the text is UTF-8 (no byte-order mark) and exactly one JSON value with
 *     optional space/tab/CR/LF around it: trailing data is an error;
 *   - the strict grammar: no comments, no trailing commas, no single quotes,
 *     numbers -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, no raw control
 *     character inside a string, only the escapes \" \\ \/ \b \f \n \r \t \uXXXX;
 *   - an object that repeats a key keeps the LAST value, at the position of
 *     the first (a Python dict), unless VKG_JSON_KEEP_DUPLICATES is given (the
 *     safetensors header, whose reader rejects repeats, checks them itself).
 * Refused although Python accepts them (each with its own message): the
 * literals NaN, Infinity and -Infinity, "\u0000" inside a string (cJSON
 * strings end at NUL), a lone UTF-16 surrogate escape, and nesting deeper
 * than 1000. Numbers are doubles: integers beyond 2^53 are rounded (a value
 * check that needs an exact integer must bound it).
 *
 *   cJSON *root;
 *   VKG_TRY(vkg_json_load("dir/config.json", VKG_JSON_MAX_CONFIG, 0, &root));
 *   const cJSON *v = vkg_json_get(root, "hidden_size");
 *   cJSON_Delete(root); */
#ifndef VKG_JSON_H
#define VKG_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "status.h"

enum {
    VKG_JSON_KEEP_DUPLICATES = 1 << 0, /* keep every member of a repeated key */
};

#define VKG_JSON_MAX_DEPTH 1000
#define VKG_JSON_MAX_CONFIG (64ull << 20)   /* config/generation/tokenizer_config files */
#define VKG_JSON_MAX_TOKENIZER (1ull << 30) /* tokenizer.json */

/* Parses text[0..len) (need not be NUL-terminated; NUL bytes in it are
 * errors). On error *out is NULL and the message starts with `name`, e.g.
 * "config.json is not valid JSON: expected ',' or '}' after an object member
 * at line 3 column 5 (byte 41)". */
enum vkg_status vkg_json_parse(const char *text, size_t len, const char *name, int flags, cJSON **out);

/* Reads a regular file of at most max_bytes (vkg_file_read) and parses it;
 * messages name the path. VKG_ERR_NOT_FOUND when the file does not exist. */
enum vkg_status vkg_json_load(const char *path, uint64_t max_bytes, int flags, cJSON **out);

/* The member `key` of obj (case-sensitive; the last one when the key is
 * repeated), NULL when obj is not an object or has no such member. */
const cJSON *vkg_json_get(const cJSON *obj, const char *key);

#endif
