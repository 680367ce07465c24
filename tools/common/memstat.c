/* memstat.c — see memstat.h. */
#include "memstat.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>

/* Sums Rss of the anonymous mappings of at least VKG_MEMSTAT_BIG_BYTES. A
 * mapping's header line has 5 fields when it names no file. */
static unsigned long long big_anon_kib(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return 0;
    char line[512];
    unsigned long long total = 0, lo, hi, kib;
    int anon_big = 0;
    while (fgets(line, sizeof line, f)) {
        char perms[8], path[8];
        unsigned long long off;
        int n_path = 0;
        if (sscanf(line, "%llx-%llx %7s %llx %*s %*s%n", &lo, &hi, perms, &off, &n_path) == 4 && n_path > 0) {
            anon_big = hi - lo >= VKG_MEMSTAT_BIG_BYTES && sscanf(line + n_path, "%7s", path) != 1;
            continue;
        }
        if (anon_big && sscanf(line, "Rss: %llu", &kib) == 1) total += kib;
    }
    fclose(f);
    return total;
}

void vkg_memstat_sample(struct vkg_memstat *m)
{
    memset(m, 0, sizeof *m);
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %llu", &m->rss_kib) == 1) break;
    if (f) fclose(f);
    m->big_anon_kib = big_anon_kib();
#ifdef __GLIBC__
    struct mallinfo2 mi = mallinfo2();
    m->heap_bytes = (unsigned long long)(mi.uordblks + mi.hblkhd);
#endif
}
