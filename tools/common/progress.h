/* progress.h — a one-line progress bar on stderr (bytes, GB/s, ETA), drawn only
 * when stderr is a terminal; silent otherwise. */
#ifndef VKG_PROGRESS_H
#define VKG_PROGRESS_H

#include <stdint.h>

struct vkg_progress {
    const char *label;
    uint64_t total; /* units of work (bytes, tokens, items) */
    uint64_t done;
    double t_start; /* seconds */
    double t_last_draw;
    int is_bytes; /* show GB/s instead of items/s */
    int enabled;  /* stderr is a TTY and VKGRM_NO_PROGRESS unset */
};

void vkg_progress_init(struct vkg_progress *p, const char *label, uint64_t total, int is_bytes);
void vkg_progress_update(struct vkg_progress *p, uint64_t done);
void vkg_progress_finish(struct vkg_progress *p);
/* Monotonic clock in seconds. */
double vkg_now(void);

#endif
