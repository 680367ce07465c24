/* device_internal.h — helpers shared by device.c and device_info.c. */
#ifndef VKG_DEVICE_INTERNAL_H
#define VKG_DEVICE_INTERNAL_H

#include "device.h"

void vkg_device_info_read(VkPhysicalDevice phys, uint32_t index, struct vkg_device_info *info);
int vkg_phys_has_extension(VkPhysicalDevice phys, const char *name);

#endif
