/* vk_check.h — every Vulkan call is checked; a failure names the call, the
 * VkResult and the object it was working on.
 *
 *   VKG_VK(vkCreateBuffer(dev->vk, &ci, NULL, &b), "buffer '%s' (%llu bytes)", name, size);
 *
 * returns VKG_ERR_VULKAN (or VKG_ERR_DEVICE_OOM) from the enclosing function. */
#ifndef VKG_VK_CHECK_H
#define VKG_VK_CHECK_H

#include <volk.h>

#include "status.h"

const char *vkg_vk_result_name(VkResult r);
/* Records "call failed: VK_ERROR_...: <object>" and maps r to a status. */
enum vkg_status vkg_vk_fail(VkResult r, const char *call, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define VKG_VK(call, ...)                                                         \
    do {                                                                          \
        VkResult vkg_r_ = (call);                                                 \
        if (vkg_r_ != VK_SUCCESS) return vkg_vk_fail(vkg_r_, #call, __VA_ARGS__); \
    } while (0)

/* Propagate a vkg_status. */
#define VKG_TRY(expr)                        \
    do {                                     \
        enum vkg_status vkg_s_ = (expr);     \
        if (vkg_s_ != VKG_OK) return vkg_s_; \
    } while (0)

#endif
