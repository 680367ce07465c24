/* command.c — command buffers, descriptor sets per dispatch, fences, timestamps. */
#include "command.h"

#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "staging.h"
#include "vk_check.h"

#define SETS_PER_POOL 256
#define PROF_QUERIES 8192 /* timestamps per command buffer while profiling */

struct vkg_profile {
    int on;
    struct vkg_profile_row *rows;
    uint32_t n, cap;
    uint64_t dropped;
};

enum vkg_status vkg_cmd_create(struct vkg_device *dev, struct vkg_cmd **out)
{
    struct vkg_cmd *c = calloc(1, sizeof *c);
    if (!c) return vkg_error(VKG_ERR_NOMEM, "command buffer");
    c->dev = dev;
    *out = c;
    VkCommandBufferAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = dev->pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 1 };
    VKG_VK(vkAllocateCommandBuffers(dev->vk, &ai, &c->cb), "command buffer");
    VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
    VKG_VK(vkCreateFence(dev->vk, &fci, NULL, &c->fence), "command fence");
    if (dev->info.timestamps) {
        VkQueryPoolCreateInfo qci = { .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                      .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                      .queryCount = VKG_MAX_TIMESTAMPS };
        VKG_VK(vkCreateQueryPool(dev->vk, &qci, NULL, &c->queries), "timestamp query pool");
    }
    return VKG_OK;
}

void vkg_cmd_free(struct vkg_cmd *c)
{
    if (!c) return;
    VkDevice d = c->dev->vk;
    if (c->pending) vkWaitForFences(d, 1, &c->fence, VK_TRUE, UINT64_MAX);
    if (c->recording) vkEndCommandBuffer(c->cb);
    for (uint32_t i = 0; i < c->n_pools; i++) vkDestroyDescriptorPool(d, c->pools[i], NULL);
    free(c->pools);
    for (uint32_t i = 0; i < c->n_texel_views; i++) vkDestroyBufferView(d, c->texel_views[i], NULL);
    free(c->texel_views);
    if (c->queries) vkDestroyQueryPool(d, c->queries, NULL);
    if (c->prof_q) vkDestroyQueryPool(d, c->prof_q, NULL);
    free(c->prof_label);
    if (c->fence) vkDestroyFence(d, c->fence, NULL);
    if (c->cb) vkFreeCommandBuffers(d, c->dev->pool, 1, &c->cb);
    free(c);
}

enum vkg_status vkg_cmd_begin(struct vkg_cmd *c)
{
    VKG_TRY(vkg_cmd_wait(c));
    for (uint32_t i = 0; i < c->n_pools; i++)
        VKG_VK(vkResetDescriptorPool(c->dev->vk, c->pools[i], 0), "descriptor pool reset");
    c->cur_pool = 0;
    for (uint32_t i = 0; i < c->n_texel_views; i++) vkDestroyBufferView(c->dev->vk, c->texel_views[i], NULL);
    c->n_texel_views = 0;
    c->n_ts = 0;
    VKG_VK(vkResetCommandBuffer(c->cb, 0), "command buffer reset");
    VkCommandBufferBeginInfo bi = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
    VKG_VK(vkBeginCommandBuffer(c->cb, &bi), "command buffer begin");
    if (c->queries) vkCmdResetQueryPool(c->cb, c->queries, 0, VKG_MAX_TIMESTAMPS);
    c->n_prof = 0;
    c->prof_dropped = 0;
    if (c->dev->profile && c->dev->profile->on) {
        if (!c->prof_q) {
            VkQueryPoolCreateInfo qci = { .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                          .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                          .queryCount = PROF_QUERIES };
            c->prof_label = calloc(PROF_QUERIES, sizeof *c->prof_label);
            if (!c->prof_label) return vkg_error(VKG_ERR_NOMEM, "profile labels");
            VKG_VK(vkCreateQueryPool(c->dev->vk, &qci, NULL, &c->prof_q), "profile query pool");
            c->prof_cap = PROF_QUERIES;
        }
        vkCmdResetQueryPool(c->cb, c->prof_q, 0, c->prof_cap);
    }
    /* Work of earlier submissions (a previous step's KV appends, logits, copies) must be
     * visible to this one: a fence wait orders the host, not device memory. */
    vkg_cmd_barrier(c);
    c->recording = 1;
    if (c->dev->profile && c->dev->profile->on && c->prof_q) {
        c->prof_label[0] = NULL; /* the start: charged to nobody */
        vkCmdWriteTimestamp(c->cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->prof_q, 0);
        c->n_prof = 1;
    }
    return VKG_OK;
}

/* A timestamp after the command just recorded, charged to label. */
static void prof_mark(struct vkg_cmd *c, const char *label)
{
    if (!c->n_prof) return;
    if (c->n_prof == c->prof_cap) {
        c->prof_dropped++;
        return;
    }
    c->prof_label[c->n_prof] = label;
    vkCmdWriteTimestamp(c->cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->prof_q, c->n_prof++);
}

/* After the fence: the intervals into the device's table. */
static void prof_collect(struct vkg_cmd *c)
{
    struct vkg_profile *p = c->dev->profile;
    if (!p || !p->on || c->n_prof < 2) return;
    uint64_t *t = malloc(c->n_prof * sizeof *t);
    if (!t) return;
    if (vkGetQueryPoolResults(c->dev->vk, c->prof_q, 0, c->n_prof, c->n_prof * sizeof *t, t, sizeof *t,
                              VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) == VK_SUCCESS) {
        for (uint32_t i = 1; i < c->n_prof; i++) {
            uint32_t r = 0;
            while (r < p->n && p->rows[r].name != c->prof_label[i]) r++;
            if (r == p->n) {
                if (p->n == p->cap) {
                    uint32_t cap = p->cap ? 2 * p->cap : 64;
                    struct vkg_profile_row *nr = realloc(p->rows, cap * sizeof *nr);
                    if (!nr) break;
                    p->rows = nr;
                    p->cap = cap;
                }
                p->rows[p->n++] = (struct vkg_profile_row){ c->prof_label[i], 0, 0 };
            }
            p->rows[r].calls++;
            p->rows[r].ns += (double)(t[i] - t[i - 1]) * c->dev->info.timestamp_period_ns;
        }
    }
    p->dropped += c->prof_dropped;
    free(t);
}

static enum vkg_status add_pool(struct vkg_cmd *c)
{
    VkDescriptorPool *np = realloc(c->pools, (c->n_pools + 1) * sizeof *np);
    if (!np) return vkg_error(VKG_ERR_NOMEM, "descriptor pools");
    c->pools = np;
    VkDescriptorPoolSize sz[2] = { { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, SETS_PER_POOL * 8 },
                                   { VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, SETS_PER_POOL * 4 } };
    VkDescriptorPoolCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                      .maxSets = SETS_PER_POOL,
                                      .poolSizeCount = 2,
                                      .pPoolSizes = sz };
    VKG_VK(vkCreateDescriptorPool(c->dev->vk, &ci, NULL, &c->pools[c->n_pools]), "descriptor pool");
    c->n_pools++;
    return VKG_OK;
}

/* One set per dispatch; a full pool moves on to the next (created on demand). */
static enum vkg_status alloc_set(struct vkg_cmd *c, VkDescriptorSetLayout dsl, VkDescriptorSet *set)
{
    for (;;) {
        if (c->cur_pool == c->n_pools) VKG_TRY(add_pool(c));
        VkDescriptorSetAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                           .descriptorPool = c->pools[c->cur_pool],
                                           .descriptorSetCount = 1,
                                           .pSetLayouts = &dsl };
        VkResult r = vkAllocateDescriptorSets(c->dev->vk, &ai, set);
        if (r == VK_SUCCESS) return VKG_OK;
        if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL)
            return vkg_vk_fail(r, "vkAllocateDescriptorSets", "pool %u", c->cur_pool);
        c->cur_pool++;
    }
}

/* A texel binding sees its view as 16-byte texels: offset aligned, range rounded up to 16
 * (buffers are sized in multiples of 16, so the rounded range stays inside). */
static enum vkg_status check_texel_view(struct vkg_cmd *c, const struct vkg_kernel *k, uint32_t i,
                                        const struct vkg_view *v)
{
    const struct vkg_device_info *di = &c->dev->info;
    uint64_t align = vkg_texel_align(c->dev);
    uint64_t range = (v->size + 15) & ~(uint64_t)15;
    if (v->size == 0 || range / 16 > di->max_texel_elements || v->offset + range > v->buf->size)
        return vkg_error(VKG_ERR_LIMIT,
                         "kernel '%s': texel binding %u of buffer '%s' is %llu bytes at %llu "
                         "(maxTexelBufferElements %llu x 16 bytes)",
                         k->name, i, v->buf->name, (unsigned long long)v->size, (unsigned long long)v->offset,
                         (unsigned long long)di->max_texel_elements);
    if (v->offset % align)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "kernel '%s': texel binding %u of buffer '%s' at offset %llu not aligned to %llu", k->name, i,
                         v->buf->name, (unsigned long long)v->offset, (unsigned long long)align);
    return VKG_OK;
}

static enum vkg_status check_views(struct vkg_cmd *c, const struct vkg_kernel *k, uint32_t texel_mask,
                                   const struct vkg_view *v, uint32_t n)
{
    const struct vkg_device_info *di = &c->dev->info;
    if (n != k->n_bindings || n > 16) /* 16: the descriptor arrays of vkg_cmd_dispatch */
        return vkg_error(VKG_ERR_INVALID_ARG, "kernel '%s': %u views given, %u bindings", k->name, n, k->n_bindings);
    for (uint32_t i = 0; i < n; i++) {
        if ((texel_mask >> i) & 1u) {
            VKG_TRY(check_texel_view(c, k, i, &v[i]));
            continue;
        }
        if (v[i].size > di->max_storage_buffer_range || v[i].size == 0)
            return vkg_error(VKG_ERR_LIMIT,
                             "kernel '%s': binding %u of buffer '%s' is %llu bytes "
                             "(maxStorageBufferRange %llu)",
                             k->name, i, v[i].buf->name, (unsigned long long)v[i].size,
                             (unsigned long long)di->max_storage_buffer_range);
        if (di->min_storage_offset_alignment && v[i].offset % di->min_storage_offset_alignment)
            return vkg_error(VKG_ERR_INVALID_ARG,
                             "kernel '%s': binding %u of buffer '%s' at offset %llu not "
                             "aligned to %llu",
                             k->name, i, v[i].buf->name, (unsigned long long)v[i].offset,
                             (unsigned long long)di->min_storage_offset_alignment);
    }
    return VKG_OK;
}

/* A 16-byte-texel view of v, owned by c until its next begin. */
static enum vkg_status texel_view(struct vkg_cmd *c, const struct vkg_view *v, VkBufferView *out)
{
    if (c->n_texel_views == c->cap_texel_views) {
        uint32_t cap = c->cap_texel_views ? 2 * c->cap_texel_views : 64;
        VkBufferView *nv = realloc(c->texel_views, cap * sizeof *nv);
        if (!nv) return vkg_error(VKG_ERR_NOMEM, "texel buffer views");
        c->texel_views = nv;
        c->cap_texel_views = cap;
    }
    VkBufferViewCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
                                  .buffer = v->buf->vk,
                                  .format = VK_FORMAT_R32G32B32A32_UINT,
                                  .offset = v->offset,
                                  .range = (v->size + 15) & ~(uint64_t)15 };
    VKG_VK(vkCreateBufferView(c->dev->vk, &ci, NULL, out), "texel view of buffer '%s'", v->buf->name);
    c->texel_views[c->n_texel_views++] = *out;
    return VKG_OK;
}

enum vkg_status vkg_cmd_dispatch(struct vkg_cmd *c, const struct vkg_kernel *k, const struct vkg_view *views,
                                 uint32_t n_views, const void *push, uint32_t gx, uint32_t gy, uint32_t gz)
{
    return vkg_cmd_dispatch_spec(c, k, 0, 0, 0, views, n_views, push, gx, gy, gz);
}

enum vkg_status vkg_cmd_dispatch_spec(struct vkg_cmd *c, const struct vkg_kernel *k, uint32_t s1, uint32_t s2,
                                      uint32_t s3, const struct vkg_view *views, uint32_t n_views, const void *push,
                                      uint32_t gx, uint32_t gy, uint32_t gz)
{
    const struct vkg_device_info *di = &c->dev->info;
    if (!k) return vkg_error(VKG_ERR_INVALID_ARG, "dispatch of a null kernel");
    if (gx > di->max_workgroup_count[0] || gy > di->max_workgroup_count[1] || gz > di->max_workgroup_count[2])
        return vkg_error(VKG_ERR_LIMIT, "kernel '%s': grid %ux%ux%u > maxComputeWorkGroupCount", k->name, gx, gy, gz);
    const struct vkg_pipeline *p;
    VKG_TRY(vkg_pipeline_get_spec(c->dev, k, s1, s2, s3, &p));
    VKG_TRY(check_views(c, k, p->texel_mask, views, n_views));
    c->last_kernel = k->name;
    VkDescriptorSet set;
    VKG_TRY(alloc_set(c, p->dsl, &set));
    VkDescriptorBufferInfo bi[16];
    VkBufferView tv[16];
    VkWriteDescriptorSet w[16];
    for (uint32_t i = 0; i < n_views; i++) {
        int texel = (p->texel_mask >> i) & 1u;
        bi[i] = (VkDescriptorBufferInfo){ views[i].buf->vk, views[i].offset, views[i].size };
        if (texel) VKG_TRY(texel_view(c, &views[i], &tv[i]));
        w[i] = (VkWriteDescriptorSet){ .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                       .dstSet = set,
                                       .dstBinding = i,
                                       .descriptorCount = 1,
                                       .descriptorType = texel ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                                               : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                       .pBufferInfo = texel ? NULL : &bi[i],
                                       .pTexelBufferView = texel ? &tv[i] : NULL };
    }
    vkUpdateDescriptorSets(c->dev->vk, n_views, w, 0, NULL);
    vkCmdBindPipeline(c->cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    vkCmdBindDescriptorSets(c->cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0, NULL);
    if (k->push_size) vkCmdPushConstants(c->cb, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, k->push_size, push);
    if (gx && gy && gz) vkCmdDispatch(c->cb, gx, gy, gz);
    prof_mark(c, k->name);
    return VKG_OK;
}

enum vkg_status vkg_cmd_dispatch_1d(struct vkg_cmd *c, const struct vkg_kernel *k, const struct vkg_view *views,
                                    uint32_t n_views, const void *push, uint64_t n_groups)
{
    return vkg_cmd_dispatch_1d_z(c, k, views, n_views, push, n_groups, 1);
}

enum vkg_status vkg_cmd_dispatch_1d_z(struct vkg_cmd *c, const struct vkg_kernel *k, const struct vkg_view *views,
                                      uint32_t n_views, const void *push, uint64_t n_groups, uint32_t gz)
{
    return vkg_cmd_dispatch_1d_z_spec(c, k, 0, 0, 0, views, n_views, push, n_groups, gz);
}

enum vkg_status vkg_cmd_dispatch_1d_z_spec(struct vkg_cmd *c, const struct vkg_kernel *k, uint32_t s1, uint32_t s2,
                                           uint32_t s3, const struct vkg_view *views, uint32_t n_views,
                                           const void *push, uint64_t n_groups, uint32_t gz)
{
    uint64_t maxx = c->dev->info.max_workgroup_count[0];
    uint64_t gx = n_groups < maxx ? n_groups : maxx;
    uint64_t gy = gx ? (n_groups + gx - 1) / gx : 0;
    if (gy > c->dev->info.max_workgroup_count[1])
        return vkg_error(VKG_ERR_LIMIT, "kernel '%s': %llu workgroups do not fit a 2-D grid", k ? k->name : "(null)",
                         (unsigned long long)n_groups);
    return vkg_cmd_dispatch_spec(c, k, s1, s2, s3, views, n_views, push, (uint32_t)gx, (uint32_t)gy, gz);
}

void vkg_cmd_barrier(struct vkg_cmd *c)
{
    VkMemoryBarrier mb = { .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                           .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                           .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                            VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT };
    VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(c->cb, st, st, 0, 1, &mb, 0, NULL, 0, NULL);
}

void vkg_cmd_barrier_host(struct vkg_cmd *c)
{
    VkMemoryBarrier mb = { .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                           .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                           .dstAccessMask = VK_ACCESS_HOST_READ_BIT };
    vkCmdPipelineBarrier(c->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
}

void vkg_cmd_copy(struct vkg_cmd *c, struct vkg_view src, struct vkg_view dst, uint64_t size)
{
    VkBufferCopy r = { src.offset, dst.offset, size };
    vkCmdCopyBuffer(c->cb, src.buf->vk, dst.buf->vk, 1, &r);
    prof_mark(c, "copy");
}

void vkg_cmd_fill(struct vkg_cmd *c, struct vkg_view v, uint32_t value)
{
    vkCmdFillBuffer(c->cb, v.buf->vk, v.offset, v.size, value);
    prof_mark(c, "fill");
}

void vkg_cmd_timestamp(struct vkg_cmd *c, const char *label)
{
    if (!c->queries || c->n_ts >= VKG_MAX_TIMESTAMPS) return;
    c->ts_label[c->n_ts] = label;
    vkCmdWriteTimestamp(c->cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->queries, c->n_ts++);
}

enum vkg_status vkg_cmd_end(struct vkg_cmd *c)
{
    if (!c->recording) return VKG_OK;
    c->recording = 0;
    VKG_VK(vkEndCommandBuffer(c->cb), "command buffer end");
    return VKG_OK;
}

enum vkg_status vkg_cmd_submit(struct vkg_cmd *c)
{
    VKG_TRY(vkg_cmd_wait(c)); /* a command buffer may not be pending twice */
    VKG_TRY(vkg_cmd_end(c));
    VkSubmitInfo si = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &c->cb };
    VKG_VK(vkQueueSubmit(c->dev->compute_queue, 1, &si, c->fence), "queue submit");
    c->pending = 1;
    return VKG_OK;
}

enum vkg_status vkg_cmd_wait(struct vkg_cmd *c)
{
    if (!c->pending) return VKG_OK;
    c->pending = 0;
    VKG_VK(vkWaitForFences(c->dev->vk, 1, &c->fence, VK_TRUE, UINT64_MAX), "fence wait");
    VKG_VK(vkResetFences(c->dev->vk, 1, &c->fence), "fence reset");
    prof_collect(c);
    return VKG_OK;
}

enum vkg_status vkg_cmd_submit_wait(struct vkg_cmd *c)
{
    VKG_TRY(vkg_cmd_submit(c));
    return vkg_cmd_wait(c);
}

double vkg_cmd_elapsed_ns(struct vkg_cmd *c, uint32_t i)
{
    if (!c->queries || i + 1 >= c->n_ts) return -1;
    uint64_t t[2];
    if (vkGetQueryPoolResults(c->dev->vk, c->queries, i, 2, sizeof t, t, sizeof t[0],
                              VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) != VK_SUCCESS)
        return -1;
    return (double)(t[1] - t[0]) * c->dev->info.timestamp_period_ns;
}

enum vkg_status vkg_profile_start(struct vkg_device *dev)
{
    if (!dev->info.timestamps) return vkg_error(VKG_ERR_UNSUPPORTED, "profile: the compute queue has no timestamps");
    if (!dev->profile && !(dev->profile = calloc(1, sizeof *dev->profile))) return vkg_error(VKG_ERR_NOMEM, "profile");
    dev->profile->n = 0;
    dev->profile->dropped = 0;
    dev->profile->on = 1;
    return VKG_OK;
}

void vkg_profile_stop(struct vkg_device *dev)
{
    if (dev->profile) dev->profile->on = 0;
}

static int by_time(const void *a, const void *b)
{
    double x = ((const struct vkg_profile_row *)a)->ns, y = ((const struct vkg_profile_row *)b)->ns;
    return x < y ? 1 : x > y ? -1 : 0;
}

uint32_t vkg_profile_rows(struct vkg_device *dev, const struct vkg_profile_row **rows, uint64_t *dropped)
{
    struct vkg_profile *p = dev->profile;
    *rows = p ? p->rows : NULL;
    if (dropped) *dropped = p ? p->dropped : 0;
    if (!p) return 0;
    qsort(p->rows, p->n, sizeof *p->rows, by_time);
    return p->n;
}

void vkg_profile_free(struct vkg_device *dev)
{
    if (!dev->profile) return;
    free(dev->profile->rows);
    free(dev->profile);
    dev->profile = NULL;
}
