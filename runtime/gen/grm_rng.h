/* grm_rng.h — the seeded, counter-based randomness of GRM scoring: record
 * keys, per-record seeds, response permutations, tie-breaks and the random
 * sample subsets of the Voting@j curves.
 *
 * Everything is a pure function of (run seed, record id, sample index, ...),
 * so a record's samples and votes do not depend on which other records run,
 * in which order, or on which device. The exact definitions (a reference in
 * another language must reproduce them bit for bit; tests/reference/grm_reference.py does):
 *
 *   G         = 0x9e3779b97f4a7c15
 *   mix64(x)  : x ^= x >> 30; x *= 0xbf58476d1ce4e5b9; x ^= x >> 27;
 *               x *= 0x94d049bb133111eb; x ^= x >> 31       (splitmix64 finalizer)
 *   next(&s)  : s += G; return mix64(s)                      (splitmix64 stream)
 *   below(&s, m) = (uint32_t)(((next(&s) >> 32) * m) >> 32)  (uniform in [0, m))
 *   record_key(id)        = FNV-1a 64 of the id's bytes (offset 0xcbf29ce484222325,
 *                           prime 0x100000001b3)
 *   sample_seed(seed, key) = mix64(seed ^ mix64(key + G))
 *   stream(ss, domain, i) = mix64(mix64(ss ^ domain) ^ i), the start state of a
 *                           stream; domains PERM = 0x7065726d, TIE = 0x746965,
 *                           SUBSET = 0x73756273
 *
 *   permutation of sample j (n responses, k samples):
 *       k == 1: identity. Otherwise s = stream(ss, PERM, j), perm = [0..n), and
 *       for i = n-1 down to 1: t = below(&s, i+1); swap(perm[i], perm[t]).
 *   perm[p] is the ORIGINAL index of the response shown at position p
 *   (shown as "Response p+1"); a box's value p belongs to response perm[p].
 *
 *   tie-break of a vote over the samples S = {s_1 < s_2 < ... < s_m}:
 *       h = 0; for each s in S: h = mix64(h ^ (s + 1));
 *       st = stream(ss, TIE, h); the winner is tied[below(&st, t)] where
 *       tied lists the t tied responses in ascending original index.
 *
 *   random subset d of size j out of k samples (Voting@j when C(k, j) is large):
 *       s = stream(ss, SUBSET, (j << 32) | d); idx = [0..k); for i in [0, j):
 *       t = i + below(&s, k - i); swap(idx[i], idx[t]); subset = sorted idx[0..j).
 *
 * The GPU sampler of sample j of a record uses vkg_sampler_seq_seed(
 * vkg_grm_sample_seed(run_seed, key), j) as its seed (the scheduler's job). */
#ifndef VKG_GRM_RNG_H
#define VKG_GRM_RNG_H

#include <stdint.h>

#define VKG_GRM_RNG_G 0x9e3779b97f4a7c15ull
#define VKG_GRM_DOMAIN_PERM 0x7065726dull
#define VKG_GRM_DOMAIN_TIE 0x746965ull
#define VKG_GRM_DOMAIN_SUBSET 0x73756273ull

uint64_t vkg_grm_mix64(uint64_t x);
/* Advance a splitmix64 stream and return its next value. */
uint64_t vkg_grm_next(uint64_t *state);
/* Uniform integer in [0, m), m >= 1 (multiply-shift on the high 32 bits). */
uint32_t vkg_grm_below(uint64_t *state, uint32_t m);
/* FNV-1a 64 of the NUL-terminated id. */
uint64_t vkg_grm_record_key(const char *id);
/* The per-record seed: every random choice about the record derives from it. */
uint64_t vkg_grm_sample_seed(uint64_t run_seed, uint64_t record_key);
/* Start state of the stream (domain, index) of a record. */
uint64_t vkg_grm_stream(uint64_t sample_seed, uint64_t domain, uint64_t index);
/* perm[0..n) of sample j of a record with k samples (see above). */
void vkg_grm_permutation(uint64_t sample_seed, uint32_t j, uint32_t k, uint32_t n, uint32_t *perm);
/* Hash of an ascending sample set, as used by the tie-break. */
uint64_t vkg_grm_set_hash(const uint32_t *samples, uint32_t m);

#endif
