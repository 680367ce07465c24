/* device_info.c — what a physical device can do: features, limits, heaps,
 * queues. Filled from one chained vkGetPhysicalDeviceProperties2 /
 * vkGetPhysicalDeviceFeatures2 call each. */
#include "device_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int has_ext(const VkExtensionProperties *exts, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(exts[i].extensionName, name) == 0) return 1;
    return 0;
}

int vkg_phys_has_extension(VkPhysicalDevice phys, const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(phys, NULL, &n, NULL) != VK_SUCCESS) return 0;
    VkExtensionProperties *e = calloc(n ? n : 1, sizeof *e);
    if (!e) return 0;
    vkEnumerateDeviceExtensionProperties(phys, NULL, &n, e);
    int r = has_ext(e, n, name);
    free(e);
    return r;
}

static const char *type_name(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
    }
}

/* Driver versions are vendor encoded (NVIDIA 10.8.8.6 bits, Intel on Windows 18.14, others VK_MAKE_VERSION). */
static void driver_version_string(uint32_t vendor, uint32_t v, char *out, size_t n)
{
    if (vendor == 0x10de) snprintf(out, n, "%u.%u.%u.%u", v >> 22, (v >> 14) & 0xff, (v >> 6) & 0xff, v & 0x3f);
    else snprintf(out, n, "%u.%u.%u", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v));
}

static void queue_families(VkPhysicalDevice phys, struct vkg_device_info *info)
{
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, NULL);
    VkQueueFamilyProperties *q = calloc(n ? n : 1, sizeof *q);
    if (!q) return;
    vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, q);
    info->compute_family = info->transfer_family = -1;
    /* compute: prefer a family without graphics (async compute), else any compute family */
    for (uint32_t i = 0; i < n; i++)
        if ((q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) {
            info->compute_family = (int32_t)i;
            break;
        }
    for (uint32_t i = 0; i < n && info->compute_family < 0; i++)
        if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) info->compute_family = (int32_t)i;
    for (uint32_t i = 0; i < n; i++)
        if ((q[i].queueFlags & VK_QUEUE_TRANSFER_BIT) &&
            !(q[i].queueFlags & (VK_QUEUE_COMPUTE_BIT | VK_QUEUE_GRAPHICS_BIT))) {
            info->transfer_family = (int32_t)i;
            break;
        }
    if (info->compute_family >= 0) info->timestamps = q[info->compute_family].timestampValidBits > 0;
    free(q);
}

static void read_features(VkPhysicalDevice phys, struct vkg_device_info *info)
{
    VkPhysicalDeviceShaderIntegerDotProductFeatures dot = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES
    };
    VkPhysicalDeviceVulkan13Features f13 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES };
    VkPhysicalDeviceVulkan12Features f12 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES };
    VkPhysicalDeviceVulkan11Features f11 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES };
    VkPhysicalDeviceFeatures2 f = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2 };
    f.pNext = &f11;
    f11.pNext = &f12;
    if (info->api_version >= VK_API_VERSION_1_3) f12.pNext = &f13;
    int dot_ext = info->api_version >= VK_API_VERSION_1_3 ||
                  vkg_phys_has_extension(phys, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
    if (dot_ext) {
        dot.pNext = f.pNext;
        f.pNext = &dot;
    }
    vkGetPhysicalDeviceFeatures2(phys, &f);
    info->fp16_arith = f12.shaderFloat16;
    info->int8_arith = f12.shaderInt8;
    info->int16_arith = f.features.shaderInt16;
    info->storage_16bit = f11.storageBuffer16BitAccess;
    info->storage_8bit = f12.storageBuffer8BitAccess;
    info->int8_dot = dot_ext && dot.shaderIntegerDotProduct;
    info->subgroup_size_control = info->api_version >= VK_API_VERSION_1_3 && f13.subgroupSizeControl;
    info->compute_full_subgroups = info->api_version >= VK_API_VERSION_1_3 && f13.computeFullSubgroups;
}

static void read_properties(VkPhysicalDevice phys, struct vkg_device_info *info)
{
    VkPhysicalDeviceExternalMemoryHostPropertiesEXT host = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT
    };
    VkPhysicalDeviceShaderIntegerDotProductProperties dotp = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES
    };
    VkPhysicalDeviceMaintenance4Properties m4 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES };
    VkPhysicalDeviceVulkan13Properties p13 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_PROPERTIES };
    VkPhysicalDeviceVulkan12Properties p12 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES };
    VkPhysicalDeviceVulkan11Properties p11 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES };
    VkPhysicalDeviceProperties2 p = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2 };
    p.pNext = &p11;
    p11.pNext = &p12;
    void **tail = &p12.pNext;
    if (info->api_version >= VK_API_VERSION_1_3) {
        *tail = &p13;
        tail = &p13.pNext;
        *tail = &m4;
        tail = &m4.pNext;
    }
    if (info->int8_dot) {
        *tail = &dotp;
        tail = &dotp.pNext;
    }
    if (info->external_host_memory) {
        *tail = &host;
        tail = &host.pNext;
    }
    vkGetPhysicalDeviceProperties2(phys, &p);
    const VkPhysicalDeviceLimits *l = &p.properties.limits;
    info->max_storage_buffer_range = l->maxStorageBufferRange;
    info->max_memory_allocation_size = p11.maxMemoryAllocationSize;
    info->max_buffer_size = info->api_version >= VK_API_VERSION_1_3 ? m4.maxBufferSize : p11.maxMemoryAllocationSize;
    info->max_compute_shared_memory = l->maxComputeSharedMemorySize;
    info->max_workgroup_invocations = l->maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) {
        info->max_workgroup_count[i] = l->maxComputeWorkGroupCount[i];
        info->max_workgroup_size[i] = l->maxComputeWorkGroupSize[i];
    }
    info->max_push_constants = l->maxPushConstantsSize;
    info->min_storage_offset_alignment = l->minStorageBufferOffsetAlignment;
    info->min_texel_offset_alignment = l->minTexelBufferOffsetAlignment;
    info->max_texel_elements = l->maxTexelBufferElements;
    info->timestamp_period_ns = l->timestampPeriod;
    info->subgroup_size = p11.subgroupSize;
    info->subgroup_ops =
        (p11.subgroupSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT) ? p11.subgroupSupportedOperations : 0;
    info->subgroup_min_size = info->subgroup_max_size = p11.subgroupSize;
    if (info->api_version >= VK_API_VERSION_1_3) {
        info->subgroup_min_size = p13.minSubgroupSize;
        info->subgroup_max_size = p13.maxSubgroupSize;
    }
    info->int8_dot_accelerated = info->int8_dot && dotp.integerDotProduct4x8BitPackedSignedAccelerated;
    info->host_pointer_alignment = info->external_host_memory ? host.minImportedHostPointerAlignment : 0;
    info->driver_id = (uint32_t)p12.driverID;
    snprintf(info->driver_name, sizeof info->driver_name, "%s", p12.driverName);
    snprintf(info->driver_info, sizeof info->driver_info, "%s", p12.driverInfo);
    memcpy(info->uuid, p11.deviceUUID, 16);
}

void vkg_device_info_read(VkPhysicalDevice phys, uint32_t index, struct vkg_device_info *info)
{
    memset(info, 0, sizeof *info);
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(phys, &p);
    info->index = index;
    snprintf(info->name, sizeof info->name, "%s", p.deviceName);
    info->vendor_id = p.vendorID;
    info->device_id = p.deviceID;
    info->type = type_name(p.deviceType);
    info->api_version = p.apiVersion;
    info->driver_version = p.driverVersion;
    driver_version_string(p.vendorID, p.driverVersion, info->driver_version_str, sizeof info->driver_version_str);
    info->bf16 = vkg_phys_has_extension(phys, "VK_KHR_shader_bfloat16");
    info->coopmat_khr = vkg_phys_has_extension(phys, "VK_KHR_cooperative_matrix");
    info->coopmat_nv = vkg_phys_has_extension(phys, "VK_NV_cooperative_matrix");
    info->external_host_memory = vkg_phys_has_extension(phys, VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME);
    read_features(phys, info);
    read_properties(phys, info);
    queue_families(phys, info);
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(phys, &mp);
    info->n_heaps = mp.memoryHeapCount < VKG_MAX_HEAPS ? mp.memoryHeapCount : VKG_MAX_HEAPS;
    for (uint32_t i = 0; i < info->n_heaps; i++) {
        info->heap_size[i] = mp.memoryHeaps[i].size;
        info->heap_device_local[i] = !!(mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT);
    }
}
