/* pipeline.h — compute pipelines created lazily from the embedded SPIR-V,
 * one descriptor set layout + push range per kernel, and the on-disk
 * pipeline cache ($VKGRM_CACHE_DIR, else $XDG_CACHE_HOME/vkgrm, else
 * ~/.cache/vkgrm; VKGRM_PIPELINE_CACHE=0 turns it off).
 *
 * This layer knows no op: a kernel is described by the layer above (the op
 * table in runtime/ops) and the device keeps one pipeline per kernel,
 * keyed by the descriptor's address. */
#ifndef VKG_PIPELINE_H
#define VKG_PIPELINE_H

#include "device.h"

/* What a pipeline is built from. Descriptors live as long as the device
 * (a static table): the pipeline set keys on their address. */
struct vkg_kernel {
    const char *name;    /* SPIR-V variant name (vkg_spirv_find) */
    uint32_t n_bindings; /* storage buffers at bindings 0..n-1 */
    uint32_t push_size;  /* bytes of push constants */
    uint32_t local_size; /* local_size_x (specialization constant 0); 0: the device's use.lane_width */
};

struct vkg_pipeline {
    const struct vkg_kernel *kernel; /* key with spec; NULL: empty slot */
    uint32_t spec[3];                /* specialization constants 1, 2, 3 (0 0 0: the shader's defaults) */
    VkShaderModule module;
    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    VkPipeline pipeline;
    uint32_t texel_mask; /* bit i: binding i is a uniform texel buffer (R32G32B32A32_UINT view), from the SPIR-V */
};

struct vkg_pipeline_set {
    struct vkg_pipeline *slots; /* open addressing on the kernel address; cap a power of two */
    uint32_t cap, n;
    VkPipelineCache cache;
    char cache_path[512]; /* "" when the disk cache is off */
    int created;          /* pipelines built this run (cache is saved when > 0) */
};

enum vkg_status vkg_pipelines_init(struct vkg_device *dev);
void vkg_pipelines_free(struct vkg_device *dev);
/* Pipelines created so far on dev (--mem-stats: a new one is JIT code on a CPU driver). */
uint32_t vkg_pipeline_count(const struct vkg_device *dev);
/* The kernel's pipeline, created on first use. *out stays valid until the
 * next vkg_pipeline_get (a new kernel may grow the set). */
enum vkg_status vkg_pipeline_get(struct vkg_device *dev, const struct vkg_kernel *k, const struct vkg_pipeline **out);
/* The same for the kernel specialized with constants 1 = s1, 2 = s2 and 3 = s3
 * (for shapes a CPU driver wants compiled in, e.g. attn_lane's head sizes and
 * heads per workgroup); one pipeline per distinct triple. s1 = s2 = s3 = 0 is
 * vkg_pipeline_get. */
enum vkg_status vkg_pipeline_get_spec(struct vkg_device *dev, const struct vkg_kernel *k, uint32_t s1, uint32_t s2,
                                      uint32_t s3, const struct vkg_pipeline **out);

/* The embedded SPIR-V (generated index, cmake/shaders.cmake). */
struct vkg_spirv {
    const char *name;
    const uint32_t *code;
    size_t size;
};
const struct vkg_spirv *vkg_spirv_find(const char *name);
const struct vkg_spirv *vkg_spirv_all(void);
/* Bit i set when descriptor set 0 binding i (< 32) of the module is a uniform texel
 * buffer (a sampled image of dimension Buffer); every other binding is a storage buffer. */
uint32_t vkg_spirv_texel_bindings(const uint32_t *code, size_t size);

#endif
