/* staging.h — a small ring of host-visible staging buffers (default 4 x 16
 * MiB, VKGRM_STAGING_MIB / VKGRM_STAGING_SLOTS) through which every upload
 * and readback streams, so host memory stays bounded whatever the size.
 *
 * A caller that converts on the GPU takes a slot, fills slot->buf->mapped,
 * records its own dispatches into slot->cmd (the staging buffer is a storage
 * buffer too) and submits; the slot is reused once its fence signals. */
#ifndef VKG_STAGING_H
#define VKG_STAGING_H

#include "command.h"
#include "memory.h"

struct vkg_stage_slot {
    struct vkg_buffer *buf; /* host-visible, mapped */
    struct vkg_cmd *cmd;    /* record into cmd (ops take it); cmd->cb is the raw buffer */
    void *read_dst;         /* readback: copy buf -> read_dst when done */
    uint64_t read_size;
};

struct vkg_stage {
    struct vkg_stage_slot *slots;
    uint32_t n_slots;
    uint32_t next;
    uint64_t slot_size;
};

enum vkg_status vkg_stage_init(struct vkg_device *dev, uint32_t n_slots, uint64_t slot_size);
void vkg_stage_free(struct vkg_device *dev);

/* Waits for the next slot and begins recording into its command buffer
 * (a full barrier is recorded first, so earlier work is visible). */
enum vkg_status vkg_stage_begin(struct vkg_device *dev, struct vkg_stage_slot **slot);
/* Ends the slot's command buffer (with a closing barrier) and submits it. */
enum vkg_status vkg_stage_submit(struct vkg_device *dev, struct vkg_stage_slot *slot);
/* Waits for every pending slot (finishing readbacks). */
enum vkg_status vkg_stage_wait_all(struct vkg_device *dev);

/* A full memory barrier between everything before and after it. */
void vkg_barrier_full(VkCommandBuffer cb);

#endif
