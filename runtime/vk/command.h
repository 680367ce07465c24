/* command.h — recording a command buffer of dispatches, copies and barriers;
 * submit + fence; timestamp queries for profiling.
 *
 *   struct vkg_cmd *c; vkg_cmd_create(dev, &c);
 *   vkg_cmd_begin(c);
 *   vkg_cmd_dispatch(c, &kernel, views, 1, &push, gx, 1, 1);   // struct vkg_kernel: pipeline.h
 *   vkg_cmd_barrier(c);
 *   vkg_cmd_submit_wait(c);     // may be submitted again without re-recording
 *
 * Profiling (vkg_profile_start): every command buffer of the device then writes
 * a timestamp after each dispatch and copy, and each fence wait adds the
 * intervals to a per-kernel table. A kernel is charged the time from the end of
 * the command before it to its own end: exact on an in-order device such as
 * lavapipe; on a GPU, dispatches between two barriers overlap, and the
 * interval then mixes them (read the table per barrier group there).
 */
#ifndef VKG_COMMAND_H
#define VKG_COMMAND_H

#include "memory.h"
#include "pipeline.h"

#define VKG_MAX_TIMESTAMPS 256

struct vkg_cmd {
    struct vkg_device *dev;
    VkCommandBuffer cb;
    VkFence fence;
    VkDescriptorPool *pools; /* grown on demand, reset at begin */
    uint32_t n_pools, cur_pool;
    VkBufferView *texel_views; /* made per dispatch for texel bindings, destroyed at begin and free */
    uint32_t n_texel_views, cap_texel_views;
    VkQueryPool queries; /* NULL when the queue has no timestamps */
    uint32_t n_ts;
    const char *ts_label[VKG_MAX_TIMESTAMPS];
    int recording;
    int pending; /* submitted, fence not yet waited */
    /* profiling: one timestamp per dispatch / copy; labels point at kernel names */
    VkQueryPool prof_q;
    uint32_t prof_cap, n_prof, prof_dropped;
    const char **prof_label;
    const char *last_kernel; /* the kernel (SPIR-V variant) of the latest dispatch: tests see which tier ran */
};

struct vkg_profile_row {
    const char *name; /* kernel (SPIR-V variant) name, or "copy" */
    uint64_t calls;
    double ns;
};

enum vkg_status vkg_cmd_create(struct vkg_device *dev, struct vkg_cmd **out);
void vkg_cmd_free(struct vkg_cmd *c);
enum vkg_status vkg_cmd_begin(struct vkg_cmd *c);
/* Binds each view as storage buffer i (its offset must be aligned and its
 * size within maxStorageBufferRange: use vkg_view_window), pushes
 * k->push_size bytes of constants and dispatches gx*gy*gz workgroups of
 * kernel k (its pipeline is made on first use). */
enum vkg_status vkg_cmd_dispatch(struct vkg_cmd *c, const struct vkg_kernel *k, const struct vkg_view *views,
                                 uint32_t n_views, const void *push, uint32_t gx, uint32_t gy, uint32_t gz);
/* The same with the kernel specialized: constants 1 = s1, 2 = s2, 3 = s3 (vkg_pipeline_get_spec). */
enum vkg_status vkg_cmd_dispatch_spec(struct vkg_cmd *c, const struct vkg_kernel *k, uint32_t s1, uint32_t s2,
                                      uint32_t s3, const struct vkg_view *views, uint32_t n_views, const void *push,
                                      uint32_t gx, uint32_t gy, uint32_t gz);
/* 1-D work of n_groups workgroups folded into a 2-D grid within maxComputeWorkGroupCount. */
enum vkg_status vkg_cmd_dispatch_1d(struct vkg_cmd *c, const struct vkg_kernel *k, const struct vkg_view *views,
                                    uint32_t n_views, const void *push, uint64_t n_groups);
/* The same, gz times along z (e.g. blocks of tokens). */
enum vkg_status vkg_cmd_dispatch_1d_z(struct vkg_cmd *c, const struct vkg_kernel *k, const struct vkg_view *views,
                                      uint32_t n_views, const void *push, uint64_t n_groups, uint32_t gz);
/* vkg_cmd_dispatch_1d_z with the kernel specialized as vkg_cmd_dispatch_spec does it. */
enum vkg_status vkg_cmd_dispatch_1d_z_spec(struct vkg_cmd *c, const struct vkg_kernel *k, uint32_t s1, uint32_t s2,
                                           uint32_t s3, const struct vkg_view *views, uint32_t n_views,
                                           const void *push, uint64_t n_groups, uint32_t gz);
/* Compute/transfer writes before become visible to reads/writes after. */
void vkg_cmd_barrier(struct vkg_cmd *c);
/* Shader/transfer writes before become visible to host reads after the fence wait. */
void vkg_cmd_barrier_host(struct vkg_cmd *c);
void vkg_cmd_copy(struct vkg_cmd *c, struct vkg_view src, struct vkg_view dst, uint64_t size);
/* Fills v (offset and size multiples of 4) with a 32-bit value: a transfer command, no dispatch. */
void vkg_cmd_fill(struct vkg_cmd *c, struct vkg_view v, uint32_t value);
/* Writes a timestamp after all previous work; label must outlive the cmd. */
void vkg_cmd_timestamp(struct vkg_cmd *c, const char *label);
enum vkg_status vkg_cmd_end(struct vkg_cmd *c);
/* Ends recording if needed, submits and waits for the fence. */
enum vkg_status vkg_cmd_submit_wait(struct vkg_cmd *c);
/* Asynchronous halves: submit (fence signalled when done), then wait. */
enum vkg_status vkg_cmd_submit(struct vkg_cmd *c);
enum vkg_status vkg_cmd_wait(struct vkg_cmd *c);
/* Nanoseconds between timestamp i and i+1 (after submit_wait); -1 when unavailable. */
double vkg_cmd_elapsed_ns(struct vkg_cmd *c, uint32_t i);

/* Starts (or restarts, from zero) the per-kernel profile of the device; fails
 * when its queue has no timestamps. Command buffers begun from now on are timed. */
enum vkg_status vkg_profile_start(struct vkg_device *dev);
/* Stops timing; the table stays readable until the next start or device close. */
void vkg_profile_stop(struct vkg_device *dev);
/* The table, most time first; *dropped counts dispatches not timed (a command
 * buffer past its query capacity). Returns the number of rows. */
uint32_t vkg_profile_rows(struct vkg_device *dev, const struct vkg_profile_row **rows, uint64_t *dropped);
/* Frees the table (vkg_device_close calls it). */
void vkg_profile_free(struct vkg_device *dev);

#endif
