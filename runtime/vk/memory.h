/* memory.h — device buffers suballocated from blocks, views (buffer windows)
 * and host <-> device transfers through the staging ring.
 *
 * Three separate limits are honoured: a buffer is at most maxBufferSize, a
 * block (one vkAllocateMemory) at most maxMemoryAllocationSize, and one
 * descriptor binding at most maxStorageBufferRange (128 MiB on lavapipe). A
 * buffer may be larger than the binding range: ops bind windows of it
 * (vkg_view_window) and split their work, never truncate. */
#ifndef VKG_MEMORY_H
#define VKG_MEMORY_H

#include <stdint.h>

#include "device.h"

#define VKG_BUFFER_USAGE                                                             \
    (VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT | \
     VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT)

enum vkg_mem_kind {
    VKG_MEM_DEVICE = 0, /* device-local, suballocated */
    VKG_MEM_HOST = 1,   /* host-visible + coherent, persistently mapped (staging, readback) */
};

/* A free byte range of a block. */
struct vkg_mem_range {
    uint64_t off, len;
};

struct vkg_block {
    VkDeviceMemory mem;
    uint64_t size, used;        /* bytes taken by live buffers */
    struct vkg_mem_range *free; /* free ranges, sorted by offset, never adjacent (merged on free); */
                                /* n_free <= live + 1 <= cap_free (grown when a buffer is placed) */
    uint32_t n_free, cap_free;
    uint32_t live;          /* buffers alive in this block */
    uint32_t type;          /* memory type index */
    void *mapped;           /* host kind only */
    int dedicated;          /* one buffer owns the whole allocation */
    enum vkg_mem_kind kind; /* blocks never mix kinds (host memory is accounted apart) */
    struct vkg_block *next;
};

struct vkg_buffer {
    struct vkg_device *dev;
    VkBuffer vk;
    uint64_t size; /* bytes requested (rounded up to 16) */
    struct vkg_block *block;
    uint64_t offset;   /* inside block */
    uint64_t take_len; /* bytes taken from the block at offset (the memory requirement; returned on free) */
    void *mapped;      /* host kind: CPU pointer to byte 0 */
    enum vkg_mem_kind kind;
    char name[96];
};

/* A byte range of a buffer. */
struct vkg_view {
    const struct vkg_buffer *buf;
    uint64_t offset;
    uint64_t size;
};

enum vkg_status vkg_buffer_create(struct vkg_device *dev, uint64_t size, enum vkg_mem_kind kind, const char *name,
                                  struct vkg_buffer **out);
void vkg_buffer_free(struct vkg_buffer *buf);
struct vkg_view vkg_buffer_view(const struct vkg_buffer *buf);
struct vkg_view vkg_view_sub(struct vkg_view v, uint64_t offset, uint64_t size);

/* Blocking host -> device / device -> host copies through the staging ring. */
enum vkg_status vkg_buffer_upload(struct vkg_device *dev, struct vkg_view dst, const void *src, uint64_t size);
enum vkg_status vkg_buffer_download(struct vkg_device *dev, struct vkg_view src, void *dst, uint64_t size);

/* The bindable window for bytes [start, start+len) of v: offset aligned down
 * to minStorageBufferOffsetAlignment, range rounded up to 4 bytes and clamped
 * to the buffer. *skip = start - window start (bytes). Fails with
 * VKG_ERR_LIMIT when the window exceeds maxStorageBufferRange. */
enum vkg_status vkg_view_window(const struct vkg_device *dev, struct vkg_view v, uint64_t start, uint64_t len,
                                struct vkg_view *win, uint64_t *skip);
/* Largest len such that any window of len bytes fits one binding. */
uint64_t vkg_max_window_bytes(const struct vkg_device *dev);
/* Where a 16-byte texel view may start: minTexelBufferOffsetAlignment, at least 16, so that texel
 * indices computed from element offsets land on the view's texels. */
uint64_t vkg_texel_align(const struct vkg_device *dev);
/* Whether v can also be bound as a 16-byte texel view: it starts on vkg_texel_align and its texels
 * fit maxTexelBufferElements (the *_tx twins' launchers fall back to storage reads otherwise). */
int vkg_view_texel_ok(const struct vkg_device *dev, struct vkg_view v);

void vkg_blocks_free(struct vkg_device *dev);
/* Total bytes allocated in blocks of one kind (for reports). */
uint64_t vkg_blocks_allocated(const struct vkg_device *dev, enum vkg_mem_kind kind);

#endif
