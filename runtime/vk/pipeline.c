/* pipeline.c — lazy pipeline creation and the on-disk pipeline cache. */
#include "pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vk_check.h"

static void cache_path(const struct vkg_device *dev, char *out, size_t n)
{
    out[0] = 0;
    const char *e = getenv("VKGRM_PIPELINE_CACHE");
    if (e && strcmp(e, "0") == 0) return;
    char dir[400];
    const char *base = getenv("VKGRM_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (base && *base) snprintf(dir, sizeof dir, "%s", base);
    else if (xdg && *xdg) snprintf(dir, sizeof dir, "%s/vkgrm", xdg);
    else if (home && *home) snprintf(dir, sizeof dir, "%s/.cache/vkgrm", home);
    else return;
    char hex[33];
    for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", dev->info.uuid[i]);
    snprintf(out, n, "%s/pipelines-%04x-%04x-%s.bin", dir, dev->info.vendor_id, dev->info.device_id, hex);
}

/* Reads the cache file if its Vulkan header matches this device; NULL otherwise. */
static void *read_cache(const struct vkg_device *dev, const char *path, size_t *size)
{
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = n >= 32 && n < (1L << 30) ? malloc((size_t)n) : NULL;
    if (data && fread(data, 1, (size_t)n, f) == (size_t)n) {
        uint32_t h[4];
        memcpy(h, data, sizeof h);
        if (h[0] >= 32 && h[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && h[2] == dev->info.vendor_id &&
            h[3] == dev->info.device_id && memcmp(data + 16, dev->info.uuid, 16) == 0) {
            fclose(f);
            *size = (size_t)n;
            return data;
        }
    }
    free(data);
    fclose(f);
    return NULL;
}

enum vkg_status vkg_pipelines_init(struct vkg_device *dev)
{
    struct vkg_pipeline_set *ps = calloc(1, sizeof *ps);
    if (!ps) return vkg_error(VKG_ERR_NOMEM, "pipeline set");
    dev->pipelines = ps;
    cache_path(dev, ps->cache_path, sizeof ps->cache_path);
    size_t size = 0;
    void *data = ps->cache_path[0] ? read_cache(dev, ps->cache_path, &size) : NULL;
    VkPipelineCacheCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
                                     .initialDataSize = size,
                                     .pInitialData = data };
    VkResult r = vkCreatePipelineCache(dev->vk, &ci, NULL, &ps->cache);
    free(data);
    if (r != VK_SUCCESS) return vkg_vk_fail(r, "vkCreatePipelineCache", "%s", ps->cache_path);
    return VKG_OK;
}

static void mkdirs(const char *path)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
}

/* Written to a temporary file and renamed, so a crash never leaves half a cache. */
static void save_cache(struct vkg_device *dev)
{
    struct vkg_pipeline_set *ps = dev->pipelines;
    size_t n = 0;
    if (!ps->cache_path[0] || !ps->created || vkGetPipelineCacheData(dev->vk, ps->cache, &n, NULL) != VK_SUCCESS)
        return;
    void *data = malloc(n);
    if (!data || vkGetPipelineCacheData(dev->vk, ps->cache, &n, data) != VK_SUCCESS) {
        free(data);
        return;
    }
    mkdirs(ps->cache_path);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", ps->cache_path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f) {
        int ok = fwrite(data, 1, n, f) == n;
        ok &= fclose(f) == 0;
        if (!ok || rename(tmp, ps->cache_path) != 0) unlink(tmp);
    }
    free(data);
}

static void destroy(struct vkg_device *dev, struct vkg_pipeline *p)
{
    if (p->pipeline) vkDestroyPipeline(dev->vk, p->pipeline, NULL);
    if (p->layout) vkDestroyPipelineLayout(dev->vk, p->layout, NULL);
    if (p->dsl) vkDestroyDescriptorSetLayout(dev->vk, p->dsl, NULL);
    if (p->module) vkDestroyShaderModule(dev->vk, p->module, NULL);
}

void vkg_pipelines_free(struct vkg_device *dev)
{
    struct vkg_pipeline_set *ps = dev->pipelines;
    if (!ps) return;
    save_cache(dev);
    for (uint32_t i = 0; i < ps->cap; i++)
        if (ps->slots[i].kernel) destroy(dev, &ps->slots[i]);
    free(ps->slots);
    if (ps->cache) vkDestroyPipelineCache(dev->vk, ps->cache, NULL);
    free(ps);
    dev->pipelines = NULL;
}

uint32_t vkg_spirv_texel_bindings(const uint32_t *code, size_t size)
{
    /* SPIR-V opcodes and operands used (SPIR-V 1.x spec, section 3) */
    enum { OP_TYPE_IMAGE = 25, OP_TYPE_SAMPLED_IMAGE = 27, OP_TYPE_POINTER = 32, OP_VARIABLE = 59, OP_DECORATE = 71 };
    enum { DEC_BINDING = 33, DIM_BUFFER = 5 };
    size_t n = size / 4;
    if (n < 5) return 0;
    uint32_t bound = code[3];
    if (bound == 0 || bound > (1u << 22)) return 0;
    /* per id: its binding (+1), and whether it names a texel-buffer type / pointer / variable */
    uint8_t *kind = calloc(bound, 1);
    uint8_t *binding = calloc(bound, 1);
    uint32_t mask = 0;
    if (!kind || !binding) goto out;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 5; i < n;) {
            uint32_t op = code[i] & 0xffffu, wc = code[i] >> 16;
            if (wc == 0 || i + wc > n) break;
            const uint32_t *w = code + i;
            if (pass == 0 && op == OP_DECORATE && wc >= 4 && w[2] == DEC_BINDING && w[1] < bound && w[3] < 32)
                binding[w[1]] = (uint8_t)(w[3] + 1);
            if (pass == 0 && op == OP_TYPE_IMAGE && wc >= 8 && w[1] < bound && w[3] == DIM_BUFFER && w[7] == 1)
                kind[w[1]] = 1; /* sampled buffer image */
            if (pass == 0 && op == OP_TYPE_SAMPLED_IMAGE && wc >= 3 && w[1] < bound && w[2] < bound && kind[w[2]] == 1)
                kind[w[1]] = 2;
            if (pass == 0 && op == OP_TYPE_POINTER && wc >= 4 && w[1] < bound && w[3] < bound && kind[w[3]] == 2)
                kind[w[1]] = 3;
            if (pass == 1 && op == OP_VARIABLE && wc >= 4 && w[1] < bound && w[2] < bound && kind[w[1]] == 3 &&
                binding[w[2]])
                mask |= 1u << (binding[w[2]] - 1);
            i += wc;
        }
out:
    free(kind);
    free(binding);
    return mask;
}

static enum vkg_status create_layouts(struct vkg_device *dev, const struct vkg_kernel *k, struct vkg_pipeline *p)
{
    VkDescriptorSetLayoutBinding b[16];
    if (k->n_bindings > 16)
        return vkg_error(VKG_ERR_INVALID_ARG, "kernel '%s': %u bindings (at most 16)", k->name, k->n_bindings);
    for (uint32_t i = 0; i < k->n_bindings; i++)
        b[i] = (VkDescriptorSetLayoutBinding){ .binding = i,
                                               .descriptorType = (p->texel_mask >> i) & 1u
                                                                     ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                                                     : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                               .descriptorCount = 1,
                                               .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT };
    VkDescriptorSetLayoutCreateInfo dci = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                            .bindingCount = k->n_bindings,
                                            .pBindings = b };
    VKG_VK(vkCreateDescriptorSetLayout(dev->vk, &dci, NULL, &p->dsl), "kernel '%s' descriptor set layout", k->name);
    VkPushConstantRange pr = { .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = k->push_size };
    VkPipelineLayoutCreateInfo lci = { .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                       .setLayoutCount = 1,
                                       .pSetLayouts = &p->dsl,
                                       .pushConstantRangeCount = k->push_size ? 1 : 0,
                                       .pPushConstantRanges = &pr };
    VKG_VK(vkCreatePipelineLayout(dev->vk, &lci, NULL, &p->layout), "kernel '%s' pipeline layout", k->name);
    return VKG_OK;
}

/* Builds into p; on failure the caller destroys what p holds. */
static enum vkg_status create_pipeline(struct vkg_device *dev, const struct vkg_kernel *k, struct vkg_pipeline *p)
{
    const struct vkg_spirv *spv = vkg_spirv_find(k->name);
    if (!spv) return vkg_error(VKG_ERR_SHADER, "kernel '%s': no embedded SPIR-V of that name", k->name);
    if (k->push_size > dev->info.max_push_constants)
        return vkg_error(VKG_ERR_LIMIT, "kernel '%s': %u bytes of push constants > device max %u", k->name,
                         k->push_size, dev->info.max_push_constants);
    VkShaderModuleCreateInfo mci = { .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                     .codeSize = spv->size,
                                     .pCode = spv->code };
    VKG_VK(vkCreateShaderModule(dev->vk, &mci, NULL, &p->module), "kernel '%s' shader module", k->name);
    p->texel_mask = vkg_spirv_texel_bindings(spv->code, spv->size);
    if (p->texel_mask >> k->n_bindings)
        return vkg_error(VKG_ERR_SHADER, "kernel '%s': texel buffer binding beyond its %u bindings", k->name,
                         k->n_bindings);
    VKG_TRY(create_layouts(dev, k, p));
    /* constants 0 (local size) and 1-3 (the launch's, 0: the shader's default), then the device's
       own: 8 = use.f16_bits (shaders/f16.glsl; an entry for a constant a shader lacks is ignored) */
    uint32_t ls = k->local_size ? k->local_size : dev->use.lane_width; /* 0: the device's lane width */
    uint32_t spec_data[5] = { ls, p->spec[0], p->spec[1], p->spec[2], (uint32_t)dev->use.f16_bits };
    VkSpecializationMapEntry me[5] = { { .constantID = 0, .offset = 0, .size = 4 },
                                       { .constantID = 1, .offset = 4, .size = 4 },
                                       { .constantID = 2, .offset = 8, .size = 4 },
                                       { .constantID = 3, .offset = 12, .size = 4 } };
    uint32_t n_spec = p->spec[2] ? 4 : p->spec[0] || p->spec[1] ? 3 : 1;
    me[n_spec++] = (VkSpecializationMapEntry){ .constantID = 8, .offset = 16, .size = 4 };
    VkSpecializationInfo si = { .mapEntryCount = n_spec, .pMapEntries = me, .dataSize = 20, .pData = spec_data };
    VkComputePipelineCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
                                       .stage = { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                                                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                                                  .module = p->module,
                                                  .pName = "main",
                                                  .pSpecializationInfo = &si },
                                       .layout = p->layout };
    VKG_VK(vkCreateComputePipelines(dev->vk, dev->pipelines->cache, 1, &ci, NULL, &p->pipeline),
           "kernel '%s' compute pipeline", k->name);
    dev->pipelines->created++;
    return VKG_OK;
}

/* The slot of (k, s1, s2, s3): its own, or the empty one where it belongs. */
static struct vkg_pipeline *find_slot(struct vkg_pipeline *slots, uint32_t cap, const struct vkg_kernel *k, uint32_t s1,
                                      uint32_t s2, uint32_t s3)
{
    uint32_t i =
        (uint32_t)((((uintptr_t)k >> 3) ^ (s1 * 40503u) ^ (s2 * 9973u) ^ (s3 * 7919u)) * 2654435761u) & (cap - 1);
    while (slots[i].kernel &&
           (slots[i].kernel != k || slots[i].spec[0] != s1 || slots[i].spec[1] != s2 || slots[i].spec[2] != s3))
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

/* Doubles the table (64 slots at first) so it stays at most half full. */
static enum vkg_status grow(struct vkg_pipeline_set *ps)
{
    uint32_t cap = ps->cap ? 2 * ps->cap : 64;
    struct vkg_pipeline *slots = calloc(cap, sizeof *slots);
    if (!slots) return vkg_error(VKG_ERR_NOMEM, "pipeline table of %u slots", cap);
    for (uint32_t i = 0; i < ps->cap; i++)
        if (ps->slots[i].kernel)
            *find_slot(slots, cap, ps->slots[i].kernel, ps->slots[i].spec[0], ps->slots[i].spec[1],
                       ps->slots[i].spec[2]) = ps->slots[i];
    free(ps->slots);
    ps->slots = slots;
    ps->cap = cap;
    return VKG_OK;
}

enum vkg_status vkg_pipeline_get(struct vkg_device *dev, const struct vkg_kernel *k, const struct vkg_pipeline **out)
{
    return vkg_pipeline_get_spec(dev, k, 0, 0, 0, out);
}

enum vkg_status vkg_pipeline_get_spec(struct vkg_device *dev, const struct vkg_kernel *k, uint32_t s1, uint32_t s2,
                                      uint32_t s3, const struct vkg_pipeline **out)
{
    struct vkg_pipeline_set *ps = dev->pipelines;
    if (!k || !k->name) return vkg_error(VKG_ERR_INVALID_ARG, "pipeline of a null kernel");
    struct vkg_pipeline *slot = ps->cap ? find_slot(ps->slots, ps->cap, k, s1, s2, s3) : NULL;
    if (slot && slot->kernel) {
        *out = slot;
        return VKG_OK;
    }
    if (2 * (ps->n + 1) > ps->cap) VKG_TRY(grow(ps));
    struct vkg_pipeline p = { .kernel = k, .spec = { s1, s2, s3 } };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum vkg_status s = create_pipeline(dev, k, &p);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (s == VKG_OK && getenv("VKGRM_TRACE_PIPELINES")) /* start-up studies: what each creation costs */
        fprintf(stderr, "vkgrm: pipeline %s (spec %u %u %u) created in %.1f ms\n", k->name, s1, s2, s3,
                ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e6);
    if (s != VKG_OK) {
        destroy(dev, &p);
        return s;
    }
    slot = find_slot(ps->slots, ps->cap, k, s1, s2, s3);
    *slot = p;
    ps->n++;
    *out = slot;
    return VKG_OK;
}

uint32_t vkg_pipeline_count(const struct vkg_device *dev) { return dev->pipelines ? dev->pipelines->n : 0; }
