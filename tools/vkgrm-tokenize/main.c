/* vkgrm-tokenize — encode text with a model's tokenizer.json, or decode ids.
 *
 *   vkgrm-tokenize -m DIR "Hello world"          id<TAB>piece per line
 *   vkgrm-tokenize -m DIR --json -f prompt.txt   [9707, 1879]
 *   echo '[9707, 1879]' | vkgrm-tokenize -m DIR --decode
 *
 * Exit codes: 0 ok, 1 runtime error (model, I/O, bad id), 2 usage error. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "tokenizer.h"

struct args {
    const char *model, *file;
    int json, decode, no_special, no_bos, skip_special;
};

#define MAX_INPUT_BYTES (1u << 30)

/* Reads a whole file ("-" or NULL: stdin) as bytes, NULs included, up to
 * 1 GiB (so /dev/zero or an endless pipe is an error, not all of memory). */
static int read_all(const char *path, char **out, size_t *len)
{
    const char *name = !path || !strcmp(path, "-") ? "stdin" : path;
    FILE *f = !path || !strcmp(path, "-") ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "vkgrm-tokenize: %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap + 1);
    int too_big = 0;
    while (buf && !too_big && (k = fread(buf + n, 1, cap - n, f)) > 0)
        if ((n += k) == cap) {
            char *p = cap < MAX_INPUT_BYTES ? realloc(buf, 2 * cap + 1) : NULL;
            too_big = cap >= MAX_INPUT_BYTES;
            if (!p) {
                free(buf);
                buf = NULL;
            }
            buf = p;
            cap *= 2;
        }
    int bad = !buf || ferror(f);
    if (f != stdin) fclose(f);
    if (bad) {
        fprintf(stderr, "vkgrm-tokenize: %s: %s\n", name, too_big ? "more than 1 GiB" : "read error");
        free(buf);
        return 1;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
}

/* Ids as "[1, 2, 3]", "1,2,3" or "1 2 3"; returns 2 on malformed input. */
static int parse_ids(const char *s, int32_t **ids, size_t *n)
{
    size_t cap = 16;
    *n = 0;
    *ids = malloc(cap * sizeof **ids);
    for (const char *p = s; *ids && *p;) {
        if (strchr("[], \t\r\n", *p)) {
            p++;
            continue;
        }
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < INT32_MIN || v > INT32_MAX) {
            fprintf(stderr, "vkgrm-tokenize: --decode: not an id list near '%.*s'\n", (int)strcspn(p, "\r\n"), p);
            return 2;
        }
        if (*n == cap) *ids = realloc(*ids, (cap *= 2) * sizeof **ids);
        if (*ids) (*ids)[(*n)++] = (int32_t)v;
        p = end;
    }
    return *ids ? 0 : 1;
}

/* Prints n bytes with control chars and bytes that are not (complete)
 * UTF-8 escaped, so every token stays on one line and shows what it holds:
 * "\xf0\x9f" for the first half of an emoji. */
static void print_readable(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        int whole = k > 1 && i + k <= n;
        for (size_t j = 1; whole && j < k; j++) whole = ((unsigned char)s[i + j] & 0xC0) == 0x80;
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c == '\\') fputs("\\\\", stdout);
        else if (c >= 0x20 && c < 0x7f) putchar(c);
        else if (whole) {
            fwrite(s + i, 1, k, stdout);
            i += k;
            continue;
        } else printf("\\x%02x", c);
        i++;
    }
}

/* One token per line: id, TAB, the bytes it stands for. */
static int print_pieces(const struct vkg_tokenizer *tok, const int32_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *bytes;
        size_t len;
        if (vkg_tokenizer_token_bytes(tok, ids[i], &bytes, &len)) {
            fprintf(stderr, "vkgrm-tokenize: %s\n", vkg_error_detail());
            return 1;
        }
        printf("%d\t", (int)ids[i]);
        print_readable(bytes, len);
        putchar('\n');
        free(bytes);
    }
    return 0;
}

static int run_encode(struct vkg_tokenizer *tok, const struct args *a, const char *text, size_t len)
{
    int32_t *ids;
    size_t n;
    int flags = (a->no_special ? 0 : VKG_TOK_PARSE_SPECIAL) | (a->no_bos ? 0 : VKG_TOK_ADD_SPECIAL);
    enum vkg_status st = vkg_tokenizer_encode(tok, text, len, flags, &ids, &n);
    if (st) {
        fprintf(stderr, "vkgrm-tokenize: encode: %s\n", vkg_error_detail());
        return 1;
    }
    int rc = 0;
    if (a->json) {
        putchar('[');
        for (size_t i = 0; i < n; i++) printf(i ? ", %d" : "%d", (int)ids[i]);
        puts("]");
    } else {
        rc = print_pieces(tok, ids, n);
    }
    free(ids);
    return rc;
}

static int run_decode(struct vkg_tokenizer *tok, const struct args *a, const char *input)
{
    int32_t *ids = NULL;
    size_t n;
    char *text = NULL;
    int rc = parse_ids(input, &ids, &n);
    if (!rc && vkg_tokenizer_decode(tok, ids, n, a->skip_special ? VKG_TOK_SKIP_SPECIAL : 0, &text)) {
        fprintf(stderr, "vkgrm-tokenize: decode: %s\n", vkg_error_detail());
        rc = 1;
    }
    if (!rc && a->json) { /* a JSON string keeps every byte visible and unambiguous */
        cJSON *s = cJSON_CreateString(text);
        char *out = s ? cJSON_PrintUnformatted(s) : NULL;
        rc = out ? 0 : 1;
        if (out) puts(out);
        free(out);
        cJSON_Delete(s);
    } else if (!rc) {
        fputs(text, stdout);
        putchar('\n');
    }
    free(text);
    free(ids);
    return rc;
}

int main(int argc, char **argv)
{
    struct args a = { 0 };
    struct vkg_option opts[] = {
        { "-m", "--model", VKG_OPT_STRING, &a.model, "DIR",
          "model directory (tokenizer.json, tokenizer_config.json) or GGUF file" },
        { "-f", "--file", VKG_OPT_STRING, &a.file, "FILE", "read the input from FILE (- = stdin)" },
        { NULL, "--json", VKG_OPT_FLAG, &a.json, NULL, "print ids as a JSON array (decode: a JSON string)" },
        { NULL, "--decode", VKG_OPT_FLAG, &a.decode, NULL, "input is ids ([1, 2], 1,2 or 1 2); print the text" },
        { NULL, "--no-special", VKG_OPT_FLAG, &a.no_special, NULL,
          "don't parse special-token strings like <|im_end|>" },
        { NULL, "--no-bos", VKG_OPT_FLAG, &a.no_bos, NULL, "don't add special tokens (BOS from the post-processor)" },
        { NULL, "--skip-special", VKG_OPT_FLAG, &a.skip_special, NULL, "decode: drop special tokens" },
    };
    struct vkg_args pos;
    int rc = vkg_options_parse(opts, VKG_COUNT(opts), argc, argv, &pos, "vkgrm-tokenize",
                               "Encode TEXT (one argument, -f FILE or stdin) with a model's tokenizer.json,\n"
                               "or decode ids (--decode). Prints id<TAB>token lines, or JSON with --json.");
    if (rc) return rc == 1 ? 0 : 2;
    if (!a.model || pos.count > 1 || (pos.count == 1 && a.file)) {
        fprintf(stderr, "vkgrm-tokenize: %s (see --help)\n",
                !a.model ? "-m DIR is required" : "give the input once: one TEXT argument, -f FILE or stdin");
        return 2;
    }
    char *input = NULL;
    size_t len = 0;
    if (pos.count == 1) {
        input = strdup(pos.items[0]);
        len = strlen(pos.items[0]);
    } else if (read_all(a.file, &input, &len)) {
        return 1;
    }
    struct vkg_tokenizer *tok = NULL;
    if (!input || vkg_tokenizer_load(a.model, &tok)) {
        fprintf(stderr, "vkgrm-tokenize: %s\n", input ? vkg_error_detail() : "out of memory");
        free(input);
        return 1;
    }
    rc = a.decode ? run_decode(tok, &a, input) : run_encode(tok, &a, input, len);
    vkg_tokenizer_free(tok);
    free(input);
    return rc;
}
