/* status.h — the one status enum of vkgrm and its messages (X-macro list).
 *
 * Every fallible function in loaders/ and runtime/ returns enum vkg_status:
 * 0 is success, negative values are errors. The detail of the last error
 * (which file, tensor, Vulkan call, size) is kept per thread and read with
 * vkg_error_detail(). */
#ifndef VKG_STATUS_H
#define VKG_STATUS_H

#include <stdarg.h>

/* X(name, value, message) */
#define VKG_STATUS_LIST(X)                                            \
    X(VKG_OK, 0, "ok")                                                \
    X(VKG_ERR_INVALID_ARG, -1, "invalid argument")                    \
    X(VKG_ERR_NOMEM, -2, "out of host memory")                        \
    X(VKG_ERR_IO, -3, "I/O error")                                    \
    X(VKG_ERR_FORMAT, -4, "malformed input")                          \
    X(VKG_ERR_UNSUPPORTED, -5, "unsupported")                         \
    X(VKG_ERR_NOT_FOUND, -6, "not found")                             \
    X(VKG_ERR_OVERFLOW, -7, "size overflow")                          \
    X(VKG_ERR_LIMIT, -8, "device limit exceeded")                     \
    X(VKG_ERR_VULKAN, -9, "Vulkan call failed")                       \
    X(VKG_ERR_NO_DEVICE, -10, "no Vulkan device")                     \
    X(VKG_ERR_DEVICE_OOM, -11, "out of device memory")                \
    X(VKG_ERR_VALIDATION, -12, "Vulkan validation reported problems") \
    X(VKG_ERR_SHADER, -13, "shader or pipeline error")                \
    X(VKG_ERR_TOKENIZER, -14, "tokenizer error")                      \
    X(VKG_ERR_CONFIG, -15, "model config error")                      \
    X(VKG_ERR_TEMPLATE, -16, "chat template error")                   \
    X(VKG_ERR_STATE, -17, "object in wrong state")

enum vkg_status {
#define VKG_X_ENUM(name, value, msg) name = value,
    VKG_STATUS_LIST(VKG_X_ENUM)
#undef VKG_X_ENUM
};

/* Short fixed message of a status ("malformed input"). */
const char *vkg_status_message(enum vkg_status s);
/* Name of the enum value ("VKG_ERR_FORMAT"). */
const char *vkg_status_name(enum vkg_status s);

/* Record the detail of an error and return s, so that a failure site reads
 *   return vkg_error(VKG_ERR_FORMAT, "%s: tensor '%s': ...", file, name); */
enum vkg_status vkg_error(enum vkg_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum vkg_status vkg_verror(enum vkg_status s, const char *fmt, va_list ap);
/* Detail of the last error on this thread ("" when none). */
const char *vkg_error_detail(void);
/* Forget the detail (tests that expect a fresh message call this). */
void vkg_error_clear(void);

#endif
