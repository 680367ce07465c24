/* device.c — instance, validation messenger, device choice and creation. */
#include "device_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "memory.h"
#include "staging.h"
#include "pipeline.h"
#include "vk_check.h"

#define VKG_VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

#ifdef VKGRM_KEEP_LIBS
/* Sanitizer builds only (CMakeLists.txt, VKGRM_SANITIZE): dlopen()ed libraries are never unloaded.
 * The Vulkan loader dlclose()s the driver at vkDestroyInstance; an allocation the driver keeps in a
 * static (lavapipe on an AVX-512 host keeps a 128-byte realloc()ed block: `vulkaninfo` under
 * LeakSanitizer reports it too) then loses its only reference, and LeakSanitizer reports it from an
 * "<unknown module>" that no suppression can name. Kept mapped, such a block stays reachable
 * through the driver's globals; leaks of this program's own code are reported as before. The
 * executable exports this definition (-Wl,--export-dynamic-symbol=dlclose) so that the loader's
 * calls resolve to it. */
int dlclose(void *handle)
{
    (void)handle;
    return 0;
}
#endif

int vkg_env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0 && strcmp(v, "false") != 0;
}

/* Counts validation warnings and errors; every one is printed. Tests fail on any. */
static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
                                                    VkDebugUtilsMessageTypeFlagsEXT type,
                                                    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
    struct vkg_device *dev = user;
    const char *what = "warning";
    if (sev & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
        dev->validation_errors++;
        what = "error";
    } else if (sev & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
        dev->validation_warnings++;
    } else {
        return VK_FALSE;
    }
    fprintf(stderr, "vkgrm: validation %s: %s\n", what, data->pMessage ? data->pMessage : "(no message)");
    return VK_FALSE;
}

static int layer_present(const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS) return 0;
    VkLayerProperties *l = calloc(n ? n : 1, sizeof *l);
    if (!l) return 0;
    vkEnumerateInstanceLayerProperties(&n, l);
    int found = 0;
    for (uint32_t i = 0; i < n; i++) found |= strcmp(l[i].layerName, name) == 0;
    free(l);
    return found;
}

static enum vkg_status create_instance(struct vkg_device *dev, int validate)
{
    VKG_VK(volkInitialize(), "Vulkan loader (libvulkan.so.1): is a Vulkan driver installed?");
    if (volkGetInstanceVersion() < VK_API_VERSION_1_2)
        return vkg_error(VKG_ERR_UNSUPPORTED, "Vulkan instance version %u.%u < 1.2",
                         VK_API_VERSION_MAJOR(volkGetInstanceVersion()),
                         VK_API_VERSION_MINOR(volkGetInstanceVersion()));
    if (validate && !layer_present(VKG_VALIDATION_LAYER))
        return vkg_error(VKG_ERR_NOT_FOUND,
                         "validation requested but %s is not installed "
                         "(Debian: vulkan-validationlayers)",
                         VKG_VALIDATION_LAYER);
    VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                              .pApplicationName = "vkgrm",
                              .apiVersion = VK_API_VERSION_1_3 };
    const char *layers[] = { VKG_VALIDATION_LAYER };
    const char *exts[] = { VK_EXT_DEBUG_UTILS_EXTENSION_NAME };
    VkDebugUtilsMessengerCreateInfoEXT mci = { .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
                                               .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                                                                  VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
                                               .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                                                              VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                                              VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
                                               .pfnUserCallback = on_validation,
                                               .pUserData = dev };
    VkInstanceCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
    /* VKGRM_VALIDATE_SYNC=1 adds synchronization validation (missing barriers) */
    VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
    VkValidationFeaturesEXT vf = { .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
                                   .pNext = &mci,
                                   .enabledValidationFeatureCount = 1,
                                   .pEnabledValidationFeatures = &sync };
    if (validate) {
        ci.enabledLayerCount = 1;
        ci.ppEnabledLayerNames = layers;
        ci.enabledExtensionCount = 1;
        ci.ppEnabledExtensionNames = exts;
        ci.pNext = vkg_env_flag("VKGRM_VALIDATE_SYNC") ? (const void *)&vf : (const void *)&mci; /* mci also catches
                                                  messages from vkCreate/DestroyInstance */
    }
    VKG_VK(vkCreateInstance(&ci, NULL, &dev->instance), "instance (validation %s)", validate ? "on" : "off");
    /* Device functions go through the loader's trampolines (not volkLoadDevice):
     * volk's globals are shared, and several devices may be open at once. */
    volkLoadInstance(dev->instance);
    if (validate) {
        /* looked up per instance: volk's global pointer belongs to the last instance loaded */
        PFN_vkCreateDebugUtilsMessengerEXT create =
            (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(dev->instance, "vkCreateDebugUtilsMessengerEXT");
        if (!create)
            return vkg_error(VKG_ERR_UNSUPPORTED, "VK_EXT_debug_utils: vkCreateDebugUtilsMessengerEXT missing");
        VKG_VK(create(dev->instance, &mci, NULL, &dev->messenger), "debug-utils messenger");
    }
    dev->validation = validate;
    return VKG_OK;
}

static enum vkg_status enumerate(VkInstance inst, VkPhysicalDevice **phys, uint32_t *n)
{
    *n = 0;
    VKG_VK(vkEnumeratePhysicalDevices(inst, n, NULL), "physical device count");
    if (*n == 0)
        return vkg_error(VKG_ERR_NO_DEVICE,
                         "no Vulkan device found (install a driver; for CPU testing: mesa-vulkan-drivers / lavapipe)");
    *phys = calloc(*n, sizeof **phys);
    if (!*phys) return vkg_error(VKG_ERR_NOMEM, "physical device list");
    VKG_VK(vkEnumeratePhysicalDevices(inst, n, *phys), "physical device list");
    return VKG_OK;
}

enum vkg_status vkg_device_list(struct vkg_device_info **infos, uint32_t *count)
{
    struct vkg_device tmp = { 0 };
    *infos = NULL;
    *count = 0;
    enum vkg_status s = create_instance(&tmp, 0);
    VkPhysicalDevice *phys = NULL;
    uint32_t n = 0;
    if (s == VKG_OK) s = enumerate(tmp.instance, &phys, &n);
    if (s == VKG_OK) {
        *infos = calloc(n, sizeof **infos);
        if (!*infos) s = vkg_error(VKG_ERR_NOMEM, "device info list");
    }
    for (uint32_t i = 0; s == VKG_OK && i < n; i++) vkg_device_info_read(phys[i], i, &(*infos)[i]);
    if (s == VKG_OK) *count = n;
    free(phys);
    if (tmp.instance) vkDestroyInstance(tmp.instance, NULL);
    return s;
}

/* Picks a device by index or name substring; the error lists what exists. */
static enum vkg_status choose(const struct vkg_device_opts *o, VkPhysicalDevice *phys, uint32_t n, uint32_t *pick)
{
    struct vkg_device_info info;
    char list[1024] = "";
    for (uint32_t i = 0; i < n; i++) {
        vkg_device_info_read(phys[i], i, &info);
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%u: %s", i ? ", " : "", i, info.name);
        int ok = o->index >= 0 ? (uint32_t)o->index == i : o->name ? strstr(info.name, o->name) != NULL : 1;
        if (ok && info.compute_family >= 0 && info.api_version >= VK_API_VERSION_1_2) {
            *pick = i;
            return VKG_OK;
        }
    }
    if (o->index >= 0)
        return vkg_error(VKG_ERR_NOT_FOUND, "no usable device with index %d; devices: %s", o->index, list);
    if (o->name)
        return vkg_error(VKG_ERR_NOT_FOUND, "no usable device whose name contains '%s'; devices: %s", o->name, list);
    return vkg_error(VKG_ERR_NO_DEVICE, "no device with a compute queue and Vulkan 1.2; devices: %s", list);
}

/* VKGRM_LANE_WIDTH takes one value, 8 (matmul_lane in 8-invocation workgroups even where subgroups
 * have 16 lanes); anything else fails the device open instead of being ignored. */
static enum vkg_status lane_width_env(void)
{
    const char *lw = getenv("VKGRM_LANE_WIDTH");
    if (lw && *lw && strcmp(lw, "8") != 0)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "VKGRM_LANE_WIDTH=%s: the one value is 8 (keep 8-invocation lane workgroups); the width "
                         "is 16 by itself where the device's subgroups have 16 lanes",
                         lw);
    return VKG_OK;
}

/* VKGRM_MLA_LATENT: 1 (DeepSeek-V2 caches the MLA latent wherever attn_lane runs) or 0 (never); unset:
 * the memory plan picks (plan.h). Anything else fails the open. */
static enum vkg_status mla_latent_env(void)
{
    const char *ml = getenv("VKGRM_MLA_LATENT");
    if (ml && *ml && strcmp(ml, "0") != 0 && strcmp(ml, "1") != 0)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "VKGRM_MLA_LATENT=%s: 1 caches DeepSeek-V2's MLA latent always, 0 never; unset, where "
                         "it saves at least 3x of the KV or every head's k and v would not fit the device",
                         ml);
    return VKG_OK;
}

/* VKGRM_GELU_F16: 1 (GeGLU takes ggml's table GELU) or 0 / unset (HF's gelu_pytorch_tanh); anything else
 * fails the open, since a switch that changes the numbers must not turn on by a typo. */
static enum vkg_status gelu_f16_env(void)
{
    const char *g = getenv("VKGRM_GELU_F16");
    if (g && *g && strcmp(g, "0") != 0 && strcmp(g, "1") != 0)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "VKGRM_GELU_F16=%s: 1 computes GeGLU's GELU as ggml's f16 table (llama.cpp's numbers), 0 or "
                         "unset as transformers' gelu_pytorch_tanh",
                         g);
    return VKG_OK;
}

/* Enables what is present and not switched off by an environment variable. */
static void pick_tiers(struct vkg_device *dev)
{
    const struct vkg_device_info *i = &dev->info;
    int no_f16 = vkg_env_flag("VKGRM_DISABLE_F16"), no_i8 = vkg_env_flag("VKGRM_DISABLE_INT8");
    int no_sg = vkg_env_flag("VKGRM_DISABLE_SUBGROUP");
    dev->use.fp16 = i->fp16_arith && !no_f16;
    dev->use.storage16 = i->storage_16bit && !no_f16;
    dev->use.storage8 = i->storage_8bit && !no_i8;
    dev->use.int8 = i->int8_arith && !no_i8;
    dev->use.int8_dot = i->api_version >= VK_API_VERSION_1_3 && i->int8_dot && i->int8_dot_accelerated && !no_i8 &&
                        !vkg_env_flag("VKGRM_DISABLE_INT8_DOT");
    const uint32_t need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
    dev->use.subgroup_arith = (i->subgroup_ops & need) == need && !no_sg;
    dev->use.size_control = i->subgroup_size_control && !no_sg;
    dev->use.attn_rows = !vkg_env_flag("VKGRM_DISABLE_ATTN_ROWS");
    dev->use.cascade = !vkg_env_flag("VKGRM_DISABLE_CASCADE");
    /* a CPU driver runs a workgroup as a SIMD loop: barriers and per-group launches cost most there */
    const uint32_t lane_need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_BALLOT_BIT;
    dev->use.lane_ok = (i->subgroup_ops & lane_need) == lane_need && i->subgroup_min_size >= 8 && !no_sg;
    dev->use.lane_tier = dev->use.lane_ok && strcmp(i->type, "cpu") == 0 && !vkg_env_flag("VKGRM_DISABLE_LANE_TIER");
    dev->use.quad = dev->use.lane_ok && (i->subgroup_ops & VK_SUBGROUP_FEATURE_QUAD_BIT) != 0;
    /* llvmpipe's SIMD width is its subgroup size (8 lanes at its default 256 bits, 16 at 512): a
       matmul_lane workgroup of 8 would leave half of a 16-lane vector idle */
    const char *lw = getenv("VKGRM_LANE_WIDTH"); /* "8" or unset (checked by lane_width_env) */
    dev->use.lane_width =
        dev->use.lane_tier && i->subgroup_min_size == 16 && i->subgroup_max_size == 16 && !(lw && *lw) ? 16u : 8u;
    /* Mesa's llvmpipe loads each lane of a storage-buffer (and shared-memory) access in a
     * branchy scalar loop, while a texel fetch is one gather: 2.6x the bytes per second in
     * a streaming test (notes in the README) */
    dev->use.texel =
        strcmp(i->type, "cpu") == 0 && i->max_texel_elements >= (1u << 20) && !vkg_env_flag("VKGRM_DISABLE_TEXEL");
    dev->use.attn_lane = dev->use.texel && dev->use.lane_ok && !vkg_env_flag("VKGRM_DISABLE_ATTN_LANE");
    dev->use.fused = dev->use.texel && dev->use.lane_tier && !vkg_env_flag("VKGRM_DISABLE_FUSED");
    dev->use.resnorm = dev->use.fused && dev->use.subgroup_arith && !vkg_env_flag("VKGRM_DISABLE_RESNORM");
    dev->use.rope_append = !vkg_env_flag("VKGRM_DISABLE_ROPE_APPEND");
    dev->use.matvec_cs = dev->use.subgroup_arith && !vkg_env_flag("VKGRM_DISABLE_MATVEC_CS") ? 1 : 0;
    dev->use.mla_append = !vkg_env_flag("VKGRM_DISABLE_MLA_APPEND");
    {
        const char *ml = getenv("VKGRM_MLA_LATENT"); /* checked by mla_latent_env */
        int force = ml && strcmp(ml, "1") == 0, never = ml && strcmp(ml, "0") == 0;
        dev->use.attn_wide = !vkg_env_flag("VKGRM_DISABLE_ATTN_WIDE"); /* and its shared memory: vkg_attn_wide_ok */
        dev->use.mla_latent = never ? 0 : dev->use.attn_lane ? (force ? 2 : 1) : dev->use.attn_wide && force ? 2 : 0;
    }
    dev->use.tiled = dev->use.texel && dev->use.lane_tier && dev->use.quad && !vkg_env_flag("VKGRM_DISABLE_TILED");
    dev->use.tiled_blocks = dev->use.tiled && !vkg_env_flag("VKGRM_DISABLE_TILED_BLOCKS");
    dev->use.xq8 = dev->use.texel && dev->use.lane_tier && dev->use.quad && !vkg_env_flag("VKGRM_DISABLE_XQ8");
    dev->use.gelu_f16 = vkg_env_flag("VKGRM_GELU_F16"); /* "0", "1" or unset: gelu_f16_env */
    dev->use.gate_group = dev->use.subgroup_arith && !vkg_env_flag("VKGRM_DISABLE_GATE_GROUP");
    /* llvmpipe keeps float denormals (the half subnormals pass through one), checked on every half by
       gpu_test_matmul; other drivers may flush them, so they keep unpackHalf2x16 */
    dev->use.f16_bits =
        dev->use.lane_tier && i->driver_id == VK_DRIVER_ID_MESA_LLVMPIPE && !vkg_env_flag("VKGRM_DISABLE_F16_BITS");
    dev->use.attn_group = !vkg_env_flag("VKGRM_DISABLE_ATTN_GROUP");
}

static enum vkg_status create_device(struct vkg_device *dev)
{
    const struct vkg_device_info *info = &dev->info;
    float prio = 1.0f;
    VkDeviceQueueCreateInfo q[2] = {
        { .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
          .queueFamilyIndex = (uint32_t)info->compute_family,
          .queueCount = 1,
          .pQueuePriorities = &prio },
        { .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
          .queueFamilyIndex = (uint32_t)info->transfer_family,
          .queueCount = 1,
          .pQueuePriorities = &prio },
    };
    VkPhysicalDeviceVulkan13Features f13 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
                                             .subgroupSizeControl = (VkBool32)dev->use.size_control,
                                             .computeFullSubgroups =
                                                 (VkBool32)(dev->use.size_control && info->compute_full_subgroups),
                                             .maintenance4 = VK_TRUE,
                                             .shaderIntegerDotProduct = (VkBool32)dev->use.int8_dot };
    VkPhysicalDeviceVulkan12Features f12 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                             .shaderFloat16 = (VkBool32)dev->use.fp16,
                                             .shaderInt8 = (VkBool32)dev->use.int8,
                                             .storageBuffer8BitAccess = (VkBool32)dev->use.storage8 };
    VkPhysicalDeviceVulkan11Features f11 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
                                             .storageBuffer16BitAccess = (VkBool32)dev->use.storage16 };
    VkPhysicalDeviceFeatures2 f = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f11 };
    f.features.shaderInt16 = (VkBool32)info->int16_arith;
    f11.pNext = &f12;
    if (info->api_version >= VK_API_VERSION_1_3) f12.pNext = &f13;
    VkDeviceCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .pNext = &f,
                              .queueCreateInfoCount = info->transfer_family >= 0 ? 2 : 1,
                              .pQueueCreateInfos = q };
    VKG_VK(vkCreateDevice(dev->phys, &ci, NULL, &dev->vk), "device '%s'", info->name);
    dev->compute_family = (uint32_t)info->compute_family;
    vkGetDeviceQueue(dev->vk, dev->compute_family, 0, &dev->compute_queue);
    dev->transfer_queue = dev->compute_queue;
    if (info->transfer_family >= 0) vkGetDeviceQueue(dev->vk, (uint32_t)info->transfer_family, 0, &dev->transfer_queue);
    VkCommandPoolCreateInfo pci = { .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                    .queueFamilyIndex = dev->compute_family };
    VKG_VK(vkCreateCommandPool(dev->vk, &pci, NULL, &dev->pool), "command pool");
    return VKG_OK;
}

/* The memoryTypeBits of a storage buffer: identical for every buffer of the same usage (spec). */
static enum vkg_status probe_memory(struct vkg_device *dev)
{
    vkGetPhysicalDeviceMemoryProperties(dev->phys, &dev->mem_props);
    VkBufferCreateInfo bci = { .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                               .size = 256,
                               .usage = VKG_BUFFER_USAGE,
                               .sharingMode = VK_SHARING_MODE_EXCLUSIVE };
    VkBuffer b;
    VKG_VK(vkCreateBuffer(dev->vk, &bci, NULL, &b), "probe buffer (256 bytes)");
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev->vk, b, &req);
    vkDestroyBuffer(dev->vk, b, NULL);
    dev->storage_memory_types = req.memoryTypeBits;
    return VKG_OK;
}

static enum vkg_status open_into(struct vkg_device *dev, const struct vkg_device_opts *o)
{
    int validate = o->validate >= 0 ? o->validate : vkg_env_flag("VKGRM_VALIDATE");
    VKG_TRY(create_instance(dev, validate));
    VkPhysicalDevice *phys = NULL;
    uint32_t n = 0, pick = 0;
    enum vkg_status s = lane_width_env();
    if (s == VKG_OK) s = mla_latent_env();
    if (s == VKG_OK) s = gelu_f16_env();
    if (s == VKG_OK) s = enumerate(dev->instance, &phys, &n);
    if (s == VKG_OK) s = choose(o, phys, n, &pick);
    if (s == VKG_OK) {
        dev->phys = phys[pick];
        vkg_device_info_read(dev->phys, pick, &dev->info);
        pick_tiers(dev);
        s = create_device(dev);
    }
    free(phys);
    if (s == VKG_OK) s = probe_memory(dev);
    if (s == VKG_OK) s = vkg_pipelines_init(dev);
    if (s == VKG_OK) s = vkg_stage_init(dev, 0, 0);
    return s;
}

enum vkg_status vkg_device_open(const struct vkg_device_opts *opts, struct vkg_device **out)
{
    struct vkg_device_opts def = { .index = -1, .name = NULL, .validate = -1 };
    *out = NULL;
    struct vkg_device *dev = calloc(1, sizeof *dev);
    if (!dev) return vkg_error(VKG_ERR_NOMEM, "device context");
    enum vkg_status s = open_into(dev, opts ? opts : &def);
    if (s != VKG_OK) {
        char keep[1024];
        snprintf(keep, sizeof keep, "%s", vkg_error_detail());
        vkg_device_close(dev);
        vkg_error(s, "%s", keep); /* the close must not hide why the open failed */
        return s;
    }
    *out = dev;
    return VKG_OK;
}

enum vkg_status vkg_device_close(struct vkg_device *dev)
{
    if (!dev) return VKG_OK;
    if (dev->vk) {
        vkDeviceWaitIdle(dev->vk);
        vkg_stage_free(dev);
        vkg_pipelines_free(dev);
        vkg_blocks_free(dev);
        vkg_profile_free(dev);
        if (dev->pool) vkDestroyCommandPool(dev->vk, dev->pool, NULL);
        vkDestroyDevice(dev->vk, NULL);
    }
    if (dev->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy = (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
            dev->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy) destroy(dev->instance, dev->messenger, NULL);
    }
    if (dev->instance) vkDestroyInstance(dev->instance, NULL);
    uint32_t w = dev->validation_warnings, e = dev->validation_errors;
    free(dev);
    if (w + e == 0) return VKG_OK;
    if (!vkg_error_detail()[0])
        return vkg_error(VKG_ERR_VALIDATION, "validation layer reported %u error(s) and %u warning(s)", e, w);
    /* an earlier failure's detail is what the caller will print: keep it first */
    char keep[512];
    snprintf(keep, sizeof keep, "%s", vkg_error_detail());
    return vkg_error(VKG_ERR_VALIDATION,
                     "%s (then at device close: validation layer reported %u error(s) and %u "
                     "warning(s))",
                     keep, e, w);
}

int vkg_device_memory_type(const struct vkg_device *dev, uint32_t type_bits, VkMemoryPropertyFlags want)
{
    for (uint32_t i = 0; i < dev->mem_props.memoryTypeCount; i++)
        if ((type_bits & (1u << i)) && (dev->mem_props.memoryTypes[i].propertyFlags & want) == want) return (int)i;
    return -1;
}

uint32_t vkg_device_validation_count(const struct vkg_device *dev)
{
    return dev->validation_warnings + dev->validation_errors;
}
