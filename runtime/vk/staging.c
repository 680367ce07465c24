/* staging.c — the staging ring and the blocking upload/download built on it. */
#include "staging.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_check.h"

void vkg_barrier_full(VkCommandBuffer cb)
{
    VkMemoryBarrier mb = { .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                           .srcAccessMask =
                               VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_HOST_WRITE_BIT,
                           .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                            VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT |
                                            VK_ACCESS_HOST_READ_BIT };
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                         VK_PIPELINE_STAGE_ALL_COMMANDS_BIT | VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
}

static enum vkg_status slot_init(struct vkg_device *dev, struct vkg_stage_slot *s, uint64_t size, uint32_t i)
{
    char name[48];
    snprintf(name, sizeof name, "staging[%u]", i);
    VKG_TRY(vkg_buffer_create(dev, size, VKG_MEM_HOST, name, &s->buf));
    return vkg_cmd_create(dev, &s->cmd);
}

enum vkg_status vkg_stage_init(struct vkg_device *dev, uint32_t n_slots, uint64_t slot_size)
{
    const char *e;
    if (!n_slots) n_slots = (e = getenv("VKGRM_STAGING_SLOTS")) && atoi(e) > 0 ? (uint32_t)atoi(e) : 4;
    if (!slot_size) slot_size = ((e = getenv("VKGRM_STAGING_MIB")) && atoi(e) > 0 ? (uint64_t)atoi(e) : 16) << 20;
    if (slot_size > vkg_max_window_bytes(dev)) slot_size = vkg_max_window_bytes(dev);
    struct vkg_stage *st = calloc(1, sizeof *st);
    if (!st) return vkg_error(VKG_ERR_NOMEM, "staging ring");
    st->slots = calloc(n_slots, sizeof *st->slots);
    if (!st->slots) {
        free(st);
        return vkg_error(VKG_ERR_NOMEM, "staging ring");
    }
    st->n_slots = n_slots;
    st->slot_size = slot_size;
    dev->stage = st;
    for (uint32_t i = 0; i < n_slots; i++) VKG_TRY(slot_init(dev, &st->slots[i], slot_size, i));
    return VKG_OK;
}

static enum vkg_status slot_wait(struct vkg_device *dev, struct vkg_stage_slot *s)
{
    VKG_TRY(vkg_cmd_wait(s->cmd));
    if (s->read_dst) memcpy(s->read_dst, s->buf->mapped, s->read_size);
    s->read_dst = NULL;
    return VKG_OK;
}

void vkg_stage_free(struct vkg_device *dev)
{
    struct vkg_stage *st = dev->stage;
    if (!st) return;
    for (uint32_t i = 0; i < st->n_slots; i++) {
        struct vkg_stage_slot *s = &st->slots[i];
        vkg_cmd_free(s->cmd); /* waits when pending */
        vkg_buffer_free(s->buf);
    }
    free(st->slots);
    free(st);
    dev->stage = NULL;
}

enum vkg_status vkg_stage_begin(struct vkg_device *dev, struct vkg_stage_slot **slot)
{
    struct vkg_stage *st = dev->stage;
    struct vkg_stage_slot *s = &st->slots[st->next];
    st->next = (st->next + 1) % st->n_slots;
    VKG_TRY(slot_wait(dev, s));
    VKG_TRY(vkg_cmd_begin(s->cmd));
    vkg_barrier_full(s->cmd->cb);
    *slot = s;
    return VKG_OK;
}

enum vkg_status vkg_stage_submit(struct vkg_device *dev, struct vkg_stage_slot *s)
{
    vkg_barrier_full(s->cmd->cb);
    return vkg_cmd_submit(s->cmd);
}

enum vkg_status vkg_stage_wait_all(struct vkg_device *dev)
{
    for (uint32_t i = 0; i < dev->stage->n_slots; i++) VKG_TRY(slot_wait(dev, &dev->stage->slots[i]));
    return VKG_OK;
}

enum vkg_status vkg_buffer_upload(struct vkg_device *dev, struct vkg_view dst, const void *src, uint64_t size)
{
    if (size > dst.size || dst.offset + size > dst.buf->size)
        return vkg_error(VKG_ERR_INVALID_ARG, "upload of %llu bytes into buffer '%s' view of %llu bytes",
                         (unsigned long long)size, dst.buf->name, (unsigned long long)dst.size);
    for (uint64_t done = 0; done < size;) {
        uint64_t n = size - done < dev->stage->slot_size ? size - done : dev->stage->slot_size;
        struct vkg_stage_slot *s;
        VKG_TRY(vkg_stage_begin(dev, &s));
        memcpy(s->buf->mapped, (const char *)src + done, n);
        VkBufferCopy c = { .srcOffset = 0, .dstOffset = dst.offset + done, .size = n };
        vkCmdCopyBuffer(s->cmd->cb, s->buf->vk, dst.buf->vk, 1, &c);
        VKG_TRY(vkg_stage_submit(dev, s));
        done += n;
    }
    return vkg_stage_wait_all(dev);
}

enum vkg_status vkg_buffer_download(struct vkg_device *dev, struct vkg_view src, void *dst, uint64_t size)
{
    if (size > src.size || src.offset + size > src.buf->size)
        return vkg_error(VKG_ERR_INVALID_ARG, "download of %llu bytes from buffer '%s' view of %llu bytes",
                         (unsigned long long)size, src.buf->name, (unsigned long long)src.size);
    for (uint64_t done = 0; done < size;) {
        uint64_t n = size - done < dev->stage->slot_size ? size - done : dev->stage->slot_size;
        struct vkg_stage_slot *s;
        VKG_TRY(vkg_stage_begin(dev, &s));
        VkBufferCopy c = { .srcOffset = src.offset + done, .dstOffset = 0, .size = n };
        vkCmdCopyBuffer(s->cmd->cb, src.buf->vk, s->buf->vk, 1, &c);
        s->read_dst = (char *)dst + done;
        s->read_size = n;
        VKG_TRY(vkg_stage_submit(dev, s));
        done += n;
    }
    return vkg_stage_wait_all(dev);
}
