/* test_memstat — tools/common/memstat.c against what the test itself maps and
 * touches: a 192 MiB anonymous mapping counts in big_anon_kib exactly as far
 * as its pages were written (the kernel's page count, no driver involved), a
 * 16 MiB one does not count (below VKG_MEMSTAT_BIG_BYTES), nor does a large
 * file mapping; RSS grows with both. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memstat.h"

#define MIB (1ull << 20)
#define SLACK_KIB 2048ull /* other allocations of the process between two samples */

static void touch(unsigned char *p, size_t bytes)
{
    long page = sysconf(_SC_PAGESIZE);
    for (size_t i = 0; i < bytes; i += (size_t)page) p[i] = 1;
}

static void assert_grew(const char *what, unsigned long long before, unsigned long long after,
                        unsigned long long want_kib)
{
    long long d = (long long)after - (long long)before;
    if (d < (long long)want_kib - (long long)SLACK_KIB || d > (long long)(want_kib + SLACK_KIB))
        fail_msg("%s grew by %lld KiB, want %llu +- %llu", what, d, want_kib, SLACK_KIB);
}

static void test_big_anonymous_counts_touched_pages(void **state)
{
    (void)state;
    struct vkg_memstat a, b, c;
    unsigned char *big = mmap(NULL, 192 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(big != MAP_FAILED);
    vkg_memstat_sample(&a);
    touch(big, 24 * MIB); /* the first 24 MiB: resident now, the rest never */
    vkg_memstat_sample(&b);
    assert_grew("big_anon_kib after touching 24 MiB of 192", a.big_anon_kib, b.big_anon_kib, 24 * 1024);
    assert_grew("rss_kib after touching 24 MiB of 192", a.rss_kib, b.rss_kib, 24 * 1024);
    touch(big + 100 * MIB, 8 * MIB);
    vkg_memstat_sample(&c);
    assert_grew("big_anon_kib after 8 MiB more", b.big_anon_kib, c.big_anon_kib, 8 * 1024);
    munmap(big, 192 * MIB);
}

static void test_small_and_file_mappings_do_not_count(void **state)
{
    (void)state;
    struct vkg_memstat a, b;
    /* PROT_NONE guard pages on both sides, so the kernel cannot merge it with a neighbouring anonymous mapping */
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *guarded = mmap(NULL, 16 * MIB + 2 * (size_t)page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(guarded != MAP_FAILED);
    unsigned char *small = guarded + page;
    assert_int_equal(mprotect(small, 16 * MIB, PROT_READ | PROT_WRITE), 0);
    char path[] = "/tmp/vkgrm-memstat-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(ftruncate(fd, (off_t)(160 * MIB)), 0);
    unsigned char *file = mmap(NULL, 160 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(file != MAP_FAILED);
    vkg_memstat_sample(&a);
    touch(small, 16 * MIB);
    touch(file, 16 * MIB);
    vkg_memstat_sample(&b);
    assert_grew("big_anon_kib (a 16 MiB anonymous and a 160 MiB file mapping touched)", a.big_anon_kib, b.big_anon_kib,
                0);
    assert_grew("rss_kib (both touched)", a.rss_kib, b.rss_kib, 32 * 1024);
    munmap(file, 160 * MIB);
    munmap(guarded, 16 * MIB + 2 * (size_t)page);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_big_anonymous_counts_touched_pages),
        cmocka_unit_test(test_small_and_file_mappings_do_not_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
