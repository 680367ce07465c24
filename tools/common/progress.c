/* progress.c — TTY progress bar; every call is a no-op when not on a terminal. */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

double vkg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void vkg_progress_init(struct vkg_progress *p, const char *label, uint64_t total, int is_bytes)
{
    p->label = label;
    p->total = total;
    p->done = 0;
    p->is_bytes = is_bytes;
    p->t_start = vkg_now();
    p->t_last_draw = 0;
    p->enabled = isatty(STDERR_FILENO) && !getenv("VKGRM_NO_PROGRESS");
}

static void draw(struct vkg_progress *p, double now)
{
    const int width = 30;
    double frac = p->total ? (double)p->done / (double)p->total : 1.0;
    if (frac > 1) frac = 1;
    int fill = (int)(frac * width);
    double dt = now - p->t_start;
    double rate = dt > 0 ? (double)p->done / dt : 0;
    double eta = rate > 0 ? (double)(p->total - (p->done < p->total ? p->done : p->total)) / rate : 0;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    if (p->is_bytes)
        fprintf(stderr, "\r%s [%s] %5.1f%% %8.1f/%.1f MiB %6.2f GB/s ETA %4.0fs", p->label, bar, frac * 100,
                p->done / 1048576.0, p->total / 1048576.0, rate / 1e9, eta);
    else
        fprintf(stderr, "\r%s [%s] %5.1f%% %llu/%llu %8.1f/s ETA %4.0fs", p->label, bar, frac * 100,
                (unsigned long long)p->done, (unsigned long long)p->total, rate, eta);
    fflush(stderr);
}

void vkg_progress_update(struct vkg_progress *p, uint64_t done)
{
    p->done = done;
    if (!p->enabled) return;
    double now = vkg_now();
    if (now - p->t_last_draw < 0.1 && done < p->total) return;
    p->t_last_draw = now;
    draw(p, now);
}

void vkg_progress_finish(struct vkg_progress *p)
{
    if (!p->enabled) return;
    p->done = p->total;
    draw(p, vkg_now());
    fputc('\n', stderr);
}
