/* grm_record.h — the JSONL input of GRM scoring: one judged record per line.
 *
 * Two forms, freely mixed in one file:
 *
 *   native       {"id": ..., "query": TEXT  | "messages": [{"role", "content"}, ...],
 *                 "responses": [TEXT, ...], "label": INDEX (optional), "subset": TEXT (optional)}
 *   RewardBench  {"id": ..., "prompt": TEXT, "chosen": TEXT, "rejected": TEXT, "subset": TEXT}
 *                → responses [chosen, rejected], label 0
 *
 * The conversation is given by exactly one of "query", "prompt" or "messages"
 * (in either form): a string becomes one user message, an array is a list of
 * {"role": "system"|"user"|"assistant", "content": STRING} messages, not
 * empty, whose last message is from the user. A record has "responses" (1 to
 * VKG_GRM_MAX_RESPONSES strings) or both "chosen" and "rejected", not both
 * forms. Other keys are ignored. Duplicate keys: the last one wins (Python's
 * json semantics). null counts as absent for "id", "label" and "subset".
 *
 *   id      a JSON string is taken as is; a JSON number is written the way
 *           Python's json.dumps(json.loads(x)) writes it ("12", "1.5", "1e+16",
 *           "-0.0"); absent → the record index in decimal ("0", "1", ...).
 *           Any other type is an error.
 *   label   an integer literal (no fraction or exponent) in [0, n_responses);
 *           ignored in the RewardBench form (always 0 there).
 *
 * Lines: split on "\n"; a trailing "\r" (CRLF files) and a UTF-8 byte order
 * mark at the very start of the stream are dropped. Lines holding only
 * spaces, tabs and "\r" are skipped and not counted as records. Lines may be
 * any length (getline). A line that is not one valid record (not JSON, data
 * after the object, not an object, invalid UTF-8, NUL bytes or "\u0000", raw
 * control characters in strings, a missing field, a field of the wrong type,
 * ...) yields a record with `error` set to a one-line reason; the reader goes
 * on with the next line. Only an I/O error or an allocation failure stops it.
 *
 *   struct vkg_grm_reader *rd;
 *   VKG_TRY(vkg_grm_reader_open(path, &rd));            // "-" = stdin
 *   struct vkg_grm_record rec;
 *   bool eof;
 *   while (vkg_grm_reader_next(rd, &rec, &eof) == VKG_OK && !eof) {
 *       if (rec.error) report(rec.line, rec.id, rec.error); else judge(&rec);
 *       vkg_grm_record_free(&rec);
 *   }
 *   vkg_grm_reader_close(rd);
 */
#ifndef VKG_GRM_RECORD_H
#define VKG_GRM_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "chat_template.h"
#include "status.h"

/* Most responses one record may hold (more is a bad line). */
#define VKG_GRM_MAX_RESPONSES 64

struct vkg_grm_record {
    uint64_t index;                    /* 0-based record number (skipped blank lines not counted) */
    uint64_t line;                     /* 1-based line number in the file */
    char *id;                          /* see above; NULL only for a bad line whose id could not be read */
    struct vkg_chat_message *messages; /* [n_messages]: the conversation; roles point to static
                                         strings "system"/"user"/"assistant", contents are owned */
    size_t n_messages;
    char **responses; /* [n_responses], owned */
    size_t n_responses;
    int32_t label; /* index of the best response, -1 when absent */
    char *subset;  /* NULL when absent */
    char *error;   /* NULL, or why this line is not a record (one line) */
};

/* Parse one line (without its "\n"; len bytes, may contain NULs) into *out.
 * A bad line is not a failure: it returns VKG_OK with out->error set. Only
 * VKG_ERR_NOMEM is returned as an error. */
enum vkg_status vkg_grm_record_parse(const char *line, size_t len, uint64_t index, uint64_t line_no,
                                     struct vkg_grm_record *out);
/* Free what a record owns and zero it (safe on a zeroed record). */
void vkg_grm_record_free(struct vkg_grm_record *r);

/* ---- line reader (also used for the scorer's output files) ---------------- */

struct vkg_grm_lines {
    FILE *f;
    bool owned; /* close f at the end (opened by path) */
    char *name; /* path or "<stdin>", for messages */
    char *buf;  /* getline buffer */
    size_t cap;
    uint64_t line_no; /* 1-based number of the last line returned */
    bool complete;    /* the last line returned ended with "\n" (false: end of file cut it) */
};

/* Open path for reading ("-" = stdin, not closed at the end). */
enum vkg_status vkg_grm_lines_open(const char *path, struct vkg_grm_lines *l);
/* Read from an open stream (not closed at the end); name is for messages. */
enum vkg_status vkg_grm_lines_open_file(FILE *f, const char *name, struct vkg_grm_lines *l);
/* Next line without "\n" and a trailing "\r" (and without the BOM on line 1):
 * *line points into the reader's buffer until the next call. *eof = true and
 * nothing else set at the end. VKG_ERR_IO on a read error. */
enum vkg_status vkg_grm_lines_next(struct vkg_grm_lines *l, const char **line, size_t *len, bool *eof);
void vkg_grm_lines_close(struct vkg_grm_lines *l);

/* True when the line holds only spaces, tabs and "\r". */
bool vkg_grm_line_blank(const char *line, size_t len);

/* ---- record reader ---------------------------------------------------------- */

struct vkg_grm_reader;

/* "-" = stdin. VKG_ERR_NOT_FOUND / VKG_ERR_IO when the file cannot be opened. */
enum vkg_status vkg_grm_reader_open(const char *path, struct vkg_grm_reader **out);
/* Read from an open stream (not closed by vkg_grm_reader_close). */
enum vkg_status vkg_grm_reader_open_file(FILE *f, const char *name, struct vkg_grm_reader **out);
/* Next record (blank lines skipped), *eof = true at the end (rec zeroed).
 * Bad lines come back as records with rec->error set. */
enum vkg_status vkg_grm_reader_next(struct vkg_grm_reader *r, struct vkg_grm_record *rec, bool *eof);
void vkg_grm_reader_close(struct vkg_grm_reader *r);

/* ---- JSON helpers shared with the result reader (runtime/gen/grm_result.c) --- */

struct cJSON;

/* Member `key` of a JSON object; the LAST one when the key repeats (Python's
 * json.loads keeps the last; cJSON_GetObjectItem returns the first). NULL if
 * absent or obj is not an object. Case-sensitive. */
const struct cJSON *vkg_grm_json_get(const struct cJSON *obj, const char *key);
/* Raw text of the value of the last member `key` of the top-level object in
 * text[0..len) (which must be valid JSON, e.g. already parsed by cJSON):
 * *val points into text, *val_len its length. False when absent. Used to read
 * numbers exactly (integers beyond 2^53, "1" vs "1.0"). */
bool vkg_grm_json_raw_member(const char *text, size_t len, const char *key, const char **val, size_t *val_len);
/* A JSON number literal written as Python's json.dumps(json.loads(raw))
 * writes it: integers digit for digit ("-0" → "0"), floats with repr()'s
 * shortest round-trip digits ("1.0", "1e-05", "1.2345678901234568e+17"),
 * "Infinity"/"-Infinity" on overflow. Returns a malloc'd string, NULL on
 * allocation failure. raw must be a valid JSON number. */
char *vkg_grm_json_number_repr(const char *raw, size_t len);
/* Python's repr() of a double ("0.1", "1e-05", "2.0"); "Infinity",
 * "-Infinity", "NaN" for the non-finite values. malloc'd, NULL on failure. */
char *vkg_grm_float_repr(double x);
/* True when text[0..len) is valid UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF). */
bool vkg_grm_utf8_valid(const char *text, size_t len);

#endif
