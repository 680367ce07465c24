/* vk_check.c — VkResult names and the failure message of VKG_VK. */
#include "vk_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *vkg_vk_result_name(VkResult r)
{
    /* clang-format off */
    switch (r) {
#define R(x) case x: return #x;
        R(VK_SUCCESS) R(VK_NOT_READY) R(VK_TIMEOUT) R(VK_EVENT_SET) R(VK_EVENT_RESET)
        R(VK_INCOMPLETE) R(VK_ERROR_OUT_OF_HOST_MEMORY) R(VK_ERROR_OUT_OF_DEVICE_MEMORY)
        R(VK_ERROR_INITIALIZATION_FAILED) R(VK_ERROR_DEVICE_LOST) R(VK_ERROR_MEMORY_MAP_FAILED)
        R(VK_ERROR_LAYER_NOT_PRESENT) R(VK_ERROR_EXTENSION_NOT_PRESENT)
        R(VK_ERROR_FEATURE_NOT_PRESENT) R(VK_ERROR_INCOMPATIBLE_DRIVER)
        R(VK_ERROR_TOO_MANY_OBJECTS) R(VK_ERROR_FORMAT_NOT_SUPPORTED) R(VK_ERROR_FRAGMENTED_POOL)
        R(VK_ERROR_UNKNOWN) R(VK_ERROR_OUT_OF_POOL_MEMORY) R(VK_ERROR_INVALID_EXTERNAL_HANDLE)
        R(VK_ERROR_FRAGMENTATION) R(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
        R(VK_PIPELINE_COMPILE_REQUIRED) R(VK_ERROR_VALIDATION_FAILED_EXT)
        R(VK_ERROR_INVALID_SHADER_NV)
#undef R
    default: return "VK_RESULT_UNKNOWN";
    }
    /* clang-format on */
}

enum vkg_status vkg_vk_fail(VkResult r, const char *call, const char *fmt, ...)
{
    char obj[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(obj, sizeof obj, fmt, ap);
    va_end(ap);
    /* keep only the function name of the call expression */
    char fn[96];
    size_t n = strcspn(call, "(");
    if (n >= sizeof fn) n = sizeof fn - 1;
    memcpy(fn, call, n);
    fn[n] = 0;
    enum vkg_status s = VKG_ERR_VULKAN;
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY) s = VKG_ERR_DEVICE_OOM;
    if (r == VK_ERROR_OUT_OF_HOST_MEMORY) s = VKG_ERR_NOMEM;
    return vkg_error(s, "%s failed: %s (%d): %s", fn, vkg_vk_result_name(r), (int)r, obj);
}
