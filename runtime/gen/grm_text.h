/* grm_text.h — a growable string for the GRM modules (prompts, JSON lines,
 * reports). An allocation failure is sticky: later appends do nothing and
 * vkg_grm_text_take reports it once at the end.
 *
 *   struct vkg_grm_text b = {0};
 *   vkg_grm_text_add(&b, "abc", 3);
 *   vkg_grm_text_addf(&b, "%d", 7);
 *   char *s; size_t n;
 *   VKG_TRY(vkg_grm_text_take(&b, &s, &n));   // s owned by the caller
 */
#ifndef VKG_GRM_TEXT_H
#define VKG_GRM_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

struct vkg_grm_text {
    char *p; /* NUL-terminated when not NULL */
    size_t len;
    size_t cap;
    bool oom;
};

void vkg_grm_text_add(struct vkg_grm_text *b, const char *s, size_t n);
void vkg_grm_text_adds(struct vkg_grm_text *b, const char *s);
void vkg_grm_text_addf(struct vkg_grm_text *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the string over (an empty string when nothing was added) and reset b;
 * VKG_ERR_NOMEM (b freed) when an append failed. */
enum vkg_status vkg_grm_text_take(struct vkg_grm_text *b, char **out, size_t *len);
void vkg_grm_text_free(struct vkg_grm_text *b);
/* Append s[0..n) as valid UTF-8: every byte that does not belong to a valid
 * sequence, and every NUL, becomes U+FFFD (model text cut inside a character
 * at the token limit must still make a valid JSON line). */
void vkg_grm_text_add_utf8(struct vkg_grm_text *b, const char *s, size_t n);

#endif
