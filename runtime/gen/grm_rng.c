/* grm_rng.c — seeds, permutations and streams of GRM scoring (see grm_rng.h). */
#include "grm_rng.h"

uint64_t vkg_grm_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t vkg_grm_next(uint64_t *state)
{
    *state += VKG_GRM_RNG_G;
    return vkg_grm_mix64(*state);
}

uint32_t vkg_grm_below(uint64_t *state, uint32_t m)
{
    return (uint32_t)(((vkg_grm_next(state) >> 32) * (uint64_t)m) >> 32);
}

uint64_t vkg_grm_record_key(const char *id)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t vkg_grm_sample_seed(uint64_t run_seed, uint64_t record_key)
{
    return vkg_grm_mix64(run_seed ^ vkg_grm_mix64(record_key + VKG_GRM_RNG_G));
}

uint64_t vkg_grm_stream(uint64_t sample_seed, uint64_t domain, uint64_t index)
{
    return vkg_grm_mix64(vkg_grm_mix64(sample_seed ^ domain) ^ index);
}

void vkg_grm_permutation(uint64_t sample_seed, uint32_t j, uint32_t k, uint32_t n, uint32_t *perm)
{
    for (uint32_t i = 0; i < n; i++) perm[i] = i;
    if (k <= 1) return;
    uint64_t s = vkg_grm_stream(sample_seed, VKG_GRM_DOMAIN_PERM, j);
    for (uint32_t i = n; i-- > 1;) {
        uint32_t t = vkg_grm_below(&s, i + 1), tmp = perm[i];
        perm[i] = perm[t];
        perm[t] = tmp;
    }
}

uint64_t vkg_grm_set_hash(const uint32_t *samples, uint32_t m)
{
    uint64_t h = 0;
    for (uint32_t i = 0; i < m; i++) h = vkg_grm_mix64(h ^ ((uint64_t)samples[i] + 1));
    return h;
}
