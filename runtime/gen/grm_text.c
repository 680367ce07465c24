/* grm_text.c — growable string (see grm_text.h). */
#include "grm_text.h"

#include "grm_record.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct vkg_grm_text *b, size_t extra)
{
    if (b->oom) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > ((size_t)-1) / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void vkg_grm_text_add(struct vkg_grm_text *b, const char *s, size_t n)
{
    if (!reserve(b, n)) return;
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void vkg_grm_text_adds(struct vkg_grm_text *b, const char *s) { vkg_grm_text_add(b, s, strlen(s)); }

void vkg_grm_text_addf(struct vkg_grm_text *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

enum vkg_status vkg_grm_text_take(struct vkg_grm_text *b, char **out, size_t *len)
{
    if (!b->oom && !b->p) reserve(b, 0);
    if (b->oom) {
        vkg_grm_text_free(b);
        *out = NULL;
        return vkg_error(VKG_ERR_NOMEM, "GRM text: out of memory");
    }
    b->p[b->len] = '\0';
    *out = b->p;
    if (len) *len = b->len;
    memset(b, 0, sizeof *b);
    return VKG_OK;
}

void vkg_grm_text_free(struct vkg_grm_text *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Length of the valid UTF-8 sequence at s[0..n), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80             ? 1
                 : (s[0] & 0xe0) == 0xc0 ? 2
                 : (s[0] & 0xf0) == 0xe0 ? 3
                 : (s[0] & 0xf8) == 0xf0 ? 4
                                         : 0;
    return len && len <= n && vkg_grm_utf8_valid((const char *)s, len) ? len : 0;
}

void vkg_grm_text_add_utf8(struct vkg_grm_text *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0; /* run: valid bytes not yet copied, starting at i - run */
    while (i < n) {
        size_t len = u[i] ? utf8_len(u + i, n - i) : 0;
        if (len) {
            i += len;
            run += len;
            continue;
        }
        vkg_grm_text_add(b, s + i - run, run);
        vkg_grm_text_add(b, "\xef\xbf\xbd", 3);
        run = 0;
        i++;
    }
    vkg_grm_text_add(b, s + i - run, run);
}
