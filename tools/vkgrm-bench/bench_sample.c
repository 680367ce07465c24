/* bench_sample.c — bench cases of the sample family. */
#include "bench.h"

static const struct vkg_bench_case g_cases[] = {
    { 0 }, /* placeholder so the array is not empty; rows with op == NULL are skipped */
};

const struct vkg_bench_case *vkg_bench_sample(size_t *n)
{
    *n = sizeof g_cases / sizeof g_cases[0];
    return g_cases;
}
