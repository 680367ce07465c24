/* sampler.c — sampling settings -> per-row device parameters. */
#include "sampler.h"

#include <math.h>

struct vkg_sampler vkg_sampler_greedy(void)
{
    return (struct vkg_sampler){ .temperature = 0.0f, .top_k = 0, .top_p = 1.0f, .min_p = 0.0f, .seed = 0 };
}

enum vkg_status vkg_sampler_check(const struct vkg_sampler *s)
{
    if (!(s->temperature >= 0.0f) || isinf(s->temperature))
        return vkg_error(VKG_ERR_INVALID_ARG, "sampler: temperature %g must be finite and >= 0", s->temperature);
    if (!(s->top_p >= 0.0f && s->top_p <= 1.0f))
        return vkg_error(VKG_ERR_INVALID_ARG, "sampler: top_p %g must be in [0, 1]", s->top_p);
    if (!(s->min_p >= 0.0f && s->min_p <= 1.0f))
        return vkg_error(VKG_ERR_INVALID_ARG, "sampler: min_p %g must be in [0, 1]", s->min_p);
    return VKG_OK;
}

/* splitmix64 finalizer: a bijective 64-bit mix. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t vkg_sampler_seq_seed(uint64_t seed, uint64_t seq_id)
{
    return mix64(seed ^ mix64(seq_id + 0x9e3779b97f4a7c15ull));
}

struct vkg_sample_params vkg_sampler_row(const struct vkg_sampler *s, uint64_t seq_id, uint32_t step)
{
    uint64_t seed = vkg_sampler_seq_seed(s->seed, seq_id);
    return (struct vkg_sample_params){ .temperature = s->temperature,
                                       .top_k = s->top_k,
                                       .top_p = s->top_p,
                                       .min_p = s->min_p,
                                       .seed_lo = (uint32_t)seed,
                                       .seed_hi = (uint32_t)(seed >> 32),
                                       .step = step };
}

uint32_t vkg_sampler_flags(const struct vkg_sample_params *rows, uint32_t n)
{
    uint32_t flags = VKG_SAMPLE_NO_TOP_K | VKG_SAMPLE_NO_TOP_P;
    for (uint32_t i = 0; i < n; i++) {
        if (!(rows[i].temperature > 0)) continue; /* greedy rows use no filter */
        if (rows[i].top_k > 0) flags &= ~VKG_SAMPLE_NO_TOP_K;
        if (rows[i].top_p < 1) flags &= ~VKG_SAMPLE_NO_TOP_P;
    }
    return flags;
}
