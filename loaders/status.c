/* status.c — messages for enum vkg_status and the per-thread error detail. */
#include "status.h"

#include <stdio.h>

static _Thread_local char g_detail[1024];

const char *vkg_status_message(enum vkg_status s)
{
    switch (s) {
#define VKG_X_MSG(name, value, msg) \
    case name: return msg;
        VKG_STATUS_LIST(VKG_X_MSG)
#undef VKG_X_MSG
    }
    return "unknown status";
}

const char *vkg_status_name(enum vkg_status s)
{
    switch (s) {
#define VKG_X_NAME(name, value, msg) \
    case name: return #name;
        VKG_STATUS_LIST(VKG_X_NAME)
#undef VKG_X_NAME
    }
    return "VKG_UNKNOWN";
}

enum vkg_status vkg_verror(enum vkg_status s, const char *fmt, va_list ap)
{
    vsnprintf(g_detail, sizeof g_detail, fmt, ap);
    return s;
}

enum vkg_status vkg_error(enum vkg_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vkg_verror(s, fmt, ap);
    va_end(ap);
    return s;
}

const char *vkg_error_detail(void) { return g_detail; }

void vkg_error_clear(void) { g_detail[0] = '\0'; }
