/* check_internal.h — what check.c and check_config.c share (not public). */
#ifndef VKG_CHECK_INTERNAL_H
#define VKG_CHECK_INTERNAL_H

#include "check.h"

/* Records one problem (one line; control characters become spaces). */
void vkg_check_problem(struct vkg_model_report *r, enum vkg_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records one note. */
void vkg_check_note(struct vkg_model_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* config.json values bounded and cross-checked (check_config.c): layer count
 * against r->layers_in_files, head sizes, eps, RoPE, experts, vocabulary
 * against r->tokenizer_ids and the special ids. Returns 0 when a size that
 * bounds the tensor list (experts, layers) is out of range, so that the
 * tensor checks are skipped. */
int vkg_check_config(struct vkg_model_report *r, const char *config_path);

#endif
