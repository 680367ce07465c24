/* memory.c — blocks, suballocated buffers and binding windows. */
#include "memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_check.h"

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

static uint64_t block_size(struct vkg_device *dev)
{
    if (!dev->block_size) {
        uint64_t mib = 256;
        const char *e = getenv("VKGRM_BLOCK_MIB");
        if (e && atoi(e) > 0) mib = (uint64_t)atoi(e);
        dev->block_size = mib << 20;
        if (dev->block_size > dev->info.max_memory_allocation_size)
            dev->block_size = dev->info.max_memory_allocation_size;
    }
    return dev->block_size;
}

static enum vkg_status new_block(struct vkg_device *dev, uint64_t size, uint32_t type, int dedicated,
                                 enum vkg_mem_kind kind, struct vkg_block **out)
{
    struct vkg_block *b = calloc(1, sizeof *b);
    if (!b) return vkg_error(VKG_ERR_NOMEM, "memory block");
    VkMemoryAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                .allocationSize = size,
                                .memoryTypeIndex = type };
    VkResult r = vkAllocateMemory(dev->vk, &ai, NULL, &b->mem);
    if (r != VK_SUCCESS) {
        free(b);
        return vkg_vk_fail(r, "vkAllocateMemory", "block of %llu bytes (memory type %u)", (unsigned long long)size,
                           type);
    }
    if (dev->mem_props.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
        r = vkMapMemory(dev->vk, b->mem, 0, VK_WHOLE_SIZE, 0, &b->mapped);
        if (r != VK_SUCCESS) {
            vkFreeMemory(dev->vk, b->mem, NULL);
            free(b);
            return vkg_vk_fail(r, "vkMapMemory", "block of %llu bytes", (unsigned long long)size);
        }
    }
    b->free = malloc(4 * sizeof *b->free);
    if (!b->free) {
        if (b->mapped) vkUnmapMemory(dev->vk, b->mem);
        vkFreeMemory(dev->vk, b->mem, NULL);
        free(b);
        return vkg_error(VKG_ERR_NOMEM, "memory block");
    }
    b->cap_free = 4;
    b->n_free = 1;
    b->free[0] = (struct vkg_mem_range){ 0, size };
    b->size = size;
    b->type = type;
    b->dedicated = dedicated;
    b->kind = kind;
    b->next = dev->blocks;
    dev->blocks = b;
    *out = b;
    return VKG_OK;
}

/* Takes [off, off + len) out of free range i of the block (first fit chose it);
 * the front padding stays free. Needs room for one more range (checked by the caller). */
static void take_range(struct vkg_block *b, uint32_t i, uint64_t off, uint64_t len)
{
    struct vkg_mem_range r = b->free[i];
    uint64_t end = off + len, r_end = r.off + r.len;
    if (off > r.off && end < r_end) { /* split in two */
        memmove(&b->free[i + 2], &b->free[i + 1], (b->n_free - i - 1) * sizeof *b->free);
        b->free[i] = (struct vkg_mem_range){ r.off, off - r.off };
        b->free[i + 1] = (struct vkg_mem_range){ end, r_end - end };
        b->n_free++;
    } else if (off > r.off) {
        b->free[i].len = off - r.off;
    } else if (end < r_end) {
        b->free[i] = (struct vkg_mem_range){ end, r_end - end };
    } else {
        memmove(&b->free[i], &b->free[i + 1], (b->n_free - i - 1) * sizeof *b->free);
        b->n_free--;
    }
}

/* First fit in the block's free ranges; returns 1 and the offset when the request fits. */
static int fit(struct vkg_block *b, const VkMemoryRequirements *req, uint32_t *idx, uint64_t *off)
{
    for (uint32_t i = 0; i < b->n_free; i++) {
        uint64_t o = align_up(b->free[i].off, req->alignment);
        if (o + req->size <= b->free[i].off + b->free[i].len) {
            *idx = i;
            *off = o;
            return 1;
        }
    }
    return 0;
}

/* Finds room in an existing block of the type (freed ranges are reused), or makes a new one. */
static enum vkg_status place(struct vkg_device *dev, const VkMemoryRequirements *req, uint32_t type,
                             enum vkg_mem_kind kind, struct vkg_block **blk, uint64_t *off)
{
    uint64_t bs = block_size(dev);
    struct vkg_block *b = NULL;
    uint32_t idx = 0;
    if (req->size > bs / 2) { /* big tensors get an allocation of their own */
        VKG_TRY(new_block(dev, req->size, type, 1, kind, &b));
        fit(b, req, &idx, off);
    } else {
        for (b = dev->blocks; b; b = b->next) {
            if (b->dedicated || b->type != type || b->kind != kind) continue;
            if (fit(b, req, &idx, off)) break;
        }
        if (!b) {
            VKG_TRY(new_block(dev, bs, type, 0, kind, &b));
            if (!fit(b, req, &idx, off))
                return vkg_error(VKG_ERR_LIMIT, "memory block: request does not fit a new block");
        }
    }
    /* free ranges are separated by live buffers, so n_free <= live + 1 at all times:
       room for live + 2 ranges once this buffer is placed means neither take_range
       nor any later give_range can overflow the list */
    if (b->cap_free < b->live + 2) {
        uint32_t cap = 2 * b->cap_free > b->live + 2 ? 2 * b->cap_free : b->live + 2;
        struct vkg_mem_range *r = realloc(b->free, cap * sizeof *r);
        if (!r) return vkg_error(VKG_ERR_NOMEM, "memory block free list");
        b->free = r;
        b->cap_free = cap;
    }
    take_range(b, idx, *off, req->size);
    *blk = b;
    return VKG_OK;
}

/* Gives [off, off + len) back to the block's free list, merged with its neighbours. */
static void give_range(struct vkg_block *b, uint64_t off, uint64_t len)
{
    uint32_t i = 0;
    while (i < b->n_free && b->free[i].off < off) i++;
    int left = i > 0 && b->free[i - 1].off + b->free[i - 1].len == off;
    int right = i < b->n_free && off + len == b->free[i].off;
    if (left && right) {
        b->free[i - 1].len += len + b->free[i].len;
        memmove(&b->free[i], &b->free[i + 1], (b->n_free - i - 1) * sizeof *b->free);
        b->n_free--;
    } else if (left) {
        b->free[i - 1].len += len;
    } else if (right) {
        b->free[i].off = off;
        b->free[i].len += len;
    } else { /* n_free < cap_free (see place) */
        memmove(&b->free[i + 1], &b->free[i], (b->n_free - i) * sizeof *b->free);
        b->free[i] = (struct vkg_mem_range){ off, len };
        b->n_free++;
    }
}

static int pick_type(struct vkg_device *dev, uint32_t bits, enum vkg_mem_kind kind)
{
    if (kind == VKG_MEM_HOST) {
        int t = vkg_device_memory_type(dev, bits,
                                       VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                                           VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
        return t >= 0 ? t
                      : vkg_device_memory_type(
                            dev, bits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    }
    int t = vkg_device_memory_type(dev, bits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    return t >= 0 ? t : vkg_device_memory_type(dev, bits, 0);
}

enum vkg_status vkg_buffer_create(struct vkg_device *dev, uint64_t size, enum vkg_mem_kind kind, const char *name,
                                  struct vkg_buffer **out)
{
    *out = NULL;
    size = align_up(size ? size : 4, 16);
    if (size > dev->info.max_buffer_size || size > dev->info.max_memory_allocation_size)
        return vkg_error(VKG_ERR_LIMIT,
                         "buffer '%s': %llu bytes > device limit (maxBufferSize %llu, "
                         "maxMemoryAllocationSize %llu)",
                         name, (unsigned long long)size, (unsigned long long)dev->info.max_buffer_size,
                         (unsigned long long)dev->info.max_memory_allocation_size);
    struct vkg_buffer *b = calloc(1, sizeof *b);
    if (!b) return vkg_error(VKG_ERR_NOMEM, "buffer '%s'", name);
    b->dev = dev;
    b->size = size;
    b->kind = kind;
    snprintf(b->name, sizeof b->name, "%s", name);
    VkBufferCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                              .size = size,
                              .usage = VKG_BUFFER_USAGE,
                              .sharingMode = VK_SHARING_MODE_EXCLUSIVE };
    VkResult r = vkCreateBuffer(dev->vk, &ci, NULL, &b->vk);
    if (r != VK_SUCCESS) {
        free(b);
        return vkg_vk_fail(r, "vkCreateBuffer", "buffer '%s' (%llu bytes)", name, (unsigned long long)size);
    }
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev->vk, b->vk, &req);
    int type = pick_type(dev, req.memoryTypeBits, kind);
    enum vkg_status s = type < 0 ? vkg_error(VKG_ERR_UNSUPPORTED, "buffer '%s': no suitable memory type", name)
                                 : place(dev, &req, (uint32_t)type, kind, &b->block, &b->offset);
    if (s == VKG_OK) {
        r = vkBindBufferMemory(dev->vk, b->vk, b->block->mem, b->offset);
        if (r != VK_SUCCESS) s = vkg_vk_fail(r, "vkBindBufferMemory", "buffer '%s'", name);
    }
    if (s != VKG_OK) {
        vkDestroyBuffer(dev->vk, b->vk, NULL);
        free(b);
        return s;
    }
    b->take_len = req.size;
    b->block->used += req.size;
    b->block->live++;
    if (b->block->mapped) b->mapped = (char *)b->block->mapped + b->offset;
    *out = b;
    return VKG_OK;
}

static void unlink_block(struct vkg_device *dev, struct vkg_block *blk)
{
    for (struct vkg_block **p = &dev->blocks; *p; p = &(*p)->next)
        if (*p == blk) {
            *p = blk->next;
            break;
        }
    if (blk->mapped) vkUnmapMemory(dev->vk, blk->mem);
    vkFreeMemory(dev->vk, blk->mem, NULL);
    free(blk->free);
    free(blk);
}

void vkg_buffer_free(struct vkg_buffer *buf)
{
    if (!buf) return;
    struct vkg_device *dev = buf->dev;
    vkDestroyBuffer(dev->vk, buf->vk, NULL);
    struct vkg_block *blk = buf->block;
    give_range(blk, buf->offset, buf->take_len);
    blk->used -= buf->take_len;
    if (--blk->live == 0) unlink_block(dev, blk); /* empty blocks go back to the driver */
    free(buf);
}

void vkg_blocks_free(struct vkg_device *dev)
{
    while (dev->blocks) unlink_block(dev, dev->blocks);
}

uint64_t vkg_blocks_allocated(const struct vkg_device *dev, enum vkg_mem_kind kind)
{
    uint64_t t = 0;
    for (const struct vkg_block *b = dev->blocks; b; b = b->next)
        if (b->kind == kind) t += b->size;
    return t;
}

struct vkg_view vkg_buffer_view(const struct vkg_buffer *buf) { return (struct vkg_view){ buf, 0, buf->size }; }

struct vkg_view vkg_view_sub(struct vkg_view v, uint64_t offset, uint64_t size)
{
    return (struct vkg_view){ v.buf, v.offset + offset, size };
}

uint64_t vkg_texel_align(const struct vkg_device *dev)
{
    return dev->info.min_texel_offset_alignment > 16 ? dev->info.min_texel_offset_alignment : 16;
}

int vkg_view_texel_ok(const struct vkg_device *dev, struct vkg_view v)
{
    return v.offset % vkg_texel_align(dev) == 0 && (v.size + 15) / 16 <= dev->info.max_texel_elements;
}

uint64_t vkg_max_window_bytes(const struct vkg_device *dev)
{
    uint64_t a = dev->info.min_storage_offset_alignment ? dev->info.min_storage_offset_alignment : 1;
    uint64_t r = dev->info.max_storage_buffer_range;
    return (r - a - 4) & ~(uint64_t)15;
}

enum vkg_status vkg_view_window(const struct vkg_device *dev, struct vkg_view v, uint64_t start, uint64_t len,
                                struct vkg_view *win, uint64_t *skip)
{
    uint64_t a = dev->info.min_storage_offset_alignment ? dev->info.min_storage_offset_alignment : 1;
    uint64_t abs = v.offset + start;
    uint64_t base = abs / a * a;
    uint64_t end = align_up(abs + len, 4);
    if (end > v.buf->size) end = v.buf->size;
    if (abs + len > v.buf->size)
        return vkg_error(VKG_ERR_INVALID_ARG, "buffer '%s': window [%llu, +%llu) past its %llu bytes", v.buf->name,
                         (unsigned long long)abs, (unsigned long long)len, (unsigned long long)v.buf->size);
    if (end - base > dev->info.max_storage_buffer_range)
        return vkg_error(VKG_ERR_LIMIT, "buffer '%s': binding of %llu bytes > maxStorageBufferRange %llu", v.buf->name,
                         (unsigned long long)(end - base), (unsigned long long)dev->info.max_storage_buffer_range);
    *win = (struct vkg_view){ v.buf, base, end - base };
    *skip = abs - base;
    return VKG_OK;
}
