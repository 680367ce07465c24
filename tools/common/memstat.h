/* memstat.h — the process memory figures behind --mem-stats (tools/soak.sh).
 *
 * On a CPU driver (lavapipe) device memory is host memory that the driver
 * allocates at vkAllocateMemory and the kernel makes resident page by page as
 * the shaders first touch it, so RSS rises whenever the KV pool or a scratch
 * buffer reaches further into a block than ever before, although nothing new
 * was allocated. big_anon_kib separates that: the resident part of the large
 * anonymous mappings (each at least VKG_MEMSTAT_BIG_BYTES, larger than any
 * glibc arena), which on such a driver are the device memory blocks. */
#ifndef VKG_MEMSTAT_H
#define VKG_MEMSTAT_H

#define VKG_MEMSTAT_BIG_BYTES (128ull << 20)

struct vkg_memstat {
    unsigned long long rss_kib;      /* VmRSS */
    unsigned long long big_anon_kib; /* resident KiB of anonymous mappings >= VKG_MEMSTAT_BIG_BYTES */
    unsigned long long heap_bytes;   /* malloc'ed and not freed, mmap'ed chunks included (glibc; else 0) */
};

/* Fills *m from /proc/self (zeros where it cannot be read). */
void vkg_memstat_sample(struct vkg_memstat *m);

#endif
