/* pipeline.h — compute pipelines created lazily from the embedded SPIR-V,
 * one descriptor set layout + push range per op, and the on-disk pipeline
 * cache ($VKGRM_CACHE_DIR, else $XDG_CACHE_HOME/vkgrm, else ~/.cache/vkgrm;
 * VKGRM_PIPELINE_CACHE=0 turns it off). */
#ifndef VKG_PIPELINE_H
#define VKG_PIPELINE_H

#include "device.h"
#include "op_table.h"

struct vkg_pipeline {
    VkShaderModule module;
    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    VkPipeline pipeline;
};

struct vkg_pipeline_set {
    struct vkg_pipeline p[VKG_OP_COUNT];
    VkPipelineCache cache;
    char cache_path[512];   /* "" when the disk cache is off */
    int created;            /* pipelines built this run (cache is saved when > 0) */
};

enum vkg_status vkg_pipelines_init(struct vkg_device *dev);
void vkg_pipelines_free(struct vkg_device *dev);
/* The op's pipeline, created on first use. */
enum vkg_status vkg_pipeline_get(struct vkg_device *dev, enum vkg_op op, const struct vkg_pipeline **out);

/* The embedded SPIR-V (generated index, cmake/shaders.cmake). */
struct vkg_spirv { const char *name; const uint32_t *code; size_t size; };
const struct vkg_spirv *vkg_spirv_find(const char *name);
const struct vkg_spirv *vkg_spirv_all(void);

#endif
