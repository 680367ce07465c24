/* grm_vote.c — summation voting, MetaRM filtering and Voting@j curves (see grm_vote.h). */
#include "grm_vote.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grm_rng.h"

void vkg_grm_sample_set_scores(struct vkg_grm_sample *s, const struct vkg_grm_scores *parsed, uint32_t n)
{
    s->reason = parsed->reason;
    memset(s->scores, 0, sizeof s->scores);
    if (parsed->reason != VKG_GRM_VALID) return;
    for (uint32_t p = 0; p < n; p++) s->scores[s->perm[p]] = parsed->scores[p];
}

void vkg_grm_vote(const struct vkg_grm_sample *samples, const uint32_t *which, uint32_t m, uint32_t n,
                  uint64_t sample_seed, struct vkg_grm_vote *out)
{
    memset(out, 0, sizeof *out);
    out->best = -1;
    uint64_t h = 0;
    for (uint32_t i = 0; i < m; i++) {
        uint32_t s = which ? which[i] : i;
        h = vkg_grm_mix64(h ^ ((uint64_t)s + 1)); /* == vkg_grm_set_hash(which, m) */
        if (samples[s].reason != VKG_GRM_VALID) continue;
        out->used++;
        for (uint32_t r = 0; r < n; r++) out->rewards[r] += samples[s].scores[r];
    }
    if (out->used == 0) return;
    int64_t top = out->rewards[0];
    uint32_t tied[VKG_GRM_MAX_RESPONSES], t = 0;
    for (uint32_t r = 1; r < n; r++)
        if (out->rewards[r] > top) top = out->rewards[r];
    for (uint32_t r = 0; r < n; r++)
        if (out->rewards[r] == top) tied[t++] = r;
    out->tie = t > 1;
    if (t == 1) {
        out->best = (int32_t)tied[0];
        return;
    }
    uint64_t st = vkg_grm_stream(sample_seed, VKG_GRM_DOMAIN_TIE, h);
    out->best = (int32_t)tied[vkg_grm_below(&st, t)];
}

uint32_t vkg_grm_meta_k_default(uint32_t k) { return k <= 1 ? 1 : (k + 1) / 2; }

static double meta_key(const struct vkg_grm_sample *s)
{
    if (s->reason != VKG_GRM_VALID || !s->has_meta || isnan(s->meta)) return -INFINITY;
    return s->meta;
}

/* Does sample a rank before sample b? */
static bool ranks_before(const struct vkg_grm_sample *samples, uint32_t a, uint32_t b)
{
    double ka = meta_key(&samples[a]), kb = meta_key(&samples[b]);
    return ka > kb || (ka == kb && a < b);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

uint32_t vkg_grm_meta_select(const struct vkg_grm_sample *samples, const uint32_t *which, uint32_t m, uint32_t keep,
                             uint32_t *kept)
{
    if (keep > m) keep = m;
    /* selection by insertion into kept[0..c), best first (m is small: k samples) */
    uint32_t c = 0;
    for (uint32_t i = 0; i < m; i++) {
        uint32_t s = which ? which[i] : i, pos = c;
        while (pos > 0 && ranks_before(samples, s, kept[pos - 1])) pos--;
        if (pos >= keep) continue;
        uint32_t end = c < keep ? c : keep - 1;
        memmove(kept + pos + 1, kept + pos, (end - pos) * sizeof *kept);
        kept[pos] = s;
        if (c < keep) c++;
    }
    qsort(kept, c, sizeof *kept, cmp_u32);
    return c;
}

enum vkg_status vkg_grm_meta_vote(const struct vkg_grm_sample *samples, const uint32_t *which, uint32_t m,
                                  uint32_t keep, uint32_t n, uint64_t sample_seed, struct vkg_grm_vote *out)
{
    uint32_t *kept = malloc((m ? m : 1) * sizeof *kept);
    if (!kept) return vkg_error(VKG_ERR_NOMEM, "MetaRM vote: out of memory");
    uint32_t c = vkg_grm_meta_select(samples, which, m, keep, kept);
    vkg_grm_vote(samples, kept, c, n, sample_seed, out);
    free(kept);
    return VKG_OK;
}

/* ---- curves ---------------------------------------------------------------------------- */

uint32_t vkg_grm_curve_js(uint32_t k, uint32_t js[VKG_GRM_CURVE_MAX_POINTS])
{
    uint32_t c = 0;
    for (uint64_t j = 1; j < k; j *= 2) js[c++] = (uint32_t)j;
    if (k >= 1) js[c++] = k;
    return c;
}

uint32_t vkg_grm_curve_meta_keep(uint32_t j, uint32_t k, uint32_t meta_k)
{
    if (k == 0) return 1;
    if (meta_k > k) meta_k = k;
    uint64_t keep = meta_k == vkg_grm_meta_k_default(k) ? ((uint64_t)j + 1) / 2 : ((uint64_t)j * meta_k + k - 1) / k;
    return keep ? (uint32_t)keep : 1;
}

/* C(k, j), or cap + 1 when larger. */
static uint64_t binomial_capped(uint32_t k, uint32_t j, uint64_t cap)
{
    uint64_t c = 1;
    for (uint32_t i = 1; i <= j; i++) {
        c = c * (k - j + i) / i; /* exact: C(k-j+i, i) */
        if (c > cap) return cap + 1;
    }
    return c;
}

/* Next combination of j out of k in lexicographic order; false after the last. */
static bool next_combination(uint32_t *c, uint32_t j, uint32_t k)
{
    uint32_t i = j;
    while (i > 0 && c[i - 1] == k - j + i - 1) i--;
    if (i == 0) return false;
    c[i - 1]++;
    for (uint32_t t = i; t < j; t++) c[t] = c[t - 1] + 1;
    return true;
}

/* Scratch of one curve point: k-sized arrays. */
struct curve_work {
    uint32_t *sub, *idx, *kept, *order; /* [k] each */
    uint8_t *mark;                      /* [k] */
};

/* Random subset d of size j (grm_rng.h), ascending, into w->sub[0..j). */
static void random_subset(uint64_t sample_seed, uint32_t k, uint32_t j, uint32_t d, struct curve_work *w)
{
    uint64_t s = vkg_grm_stream(sample_seed, VKG_GRM_DOMAIN_SUBSET, ((uint64_t)j << 32) | d);
    for (uint32_t i = 0; i < k; i++) w->idx[i] = i;
    for (uint32_t i = 0; i < j; i++) {
        uint32_t t = i + vkg_grm_below(&s, k - i), tmp = w->idx[i];
        w->idx[i] = w->idx[t];
        w->idx[t] = tmp;
    }
    memset(w->mark, 0, k);
    for (uint32_t i = 0; i < j; i++) w->mark[w->idx[i]] = 1;
    for (uint32_t i = 0, c = 0; i < k; i++) /* sort by marking: O(k) */
        if (w->mark[i]) w->sub[c++] = i;
}

/* The meta selection of sub[0..j) (same rule as vkg_grm_meta_select): walk
 * the samples in rank order and keep the first `keep` that are in the subset;
 * written ascending into w->kept. Returns their number. */
static uint32_t select_ranked(uint32_t k, const uint32_t *sub, uint32_t j, uint32_t keep, struct curve_work *w)
{
    memset(w->mark, 0, k);
    for (uint32_t i = 0; i < j; i++) w->mark[sub[i]] = 1;
    uint32_t c = 0;
    for (uint32_t r = 0; r < k && c < keep; r++)
        if (w->mark[w->order[r]]) {
            w->mark[w->order[r]] = 2;
            c++;
        }
    for (uint32_t i = 0, o = 0; i < j; i++)
        if (w->mark[sub[i]] == 2) w->kept[o++] = sub[i];
    return c;
}

struct curve_acc {
    uint64_t subsets, right, meta_right;
};

static void score_subset(const struct vkg_grm_sample *samples, uint32_t k, uint32_t j, uint32_t n, uint64_t seed,
                         int32_t label, uint32_t keep, bool meta, struct curve_work *w, struct curve_acc *a)
{
    struct vkg_grm_vote v;
    vkg_grm_vote(samples, w->sub, j, n, seed, &v);
    a->subsets++;
    a->right += v.best >= 0 && v.best == label;
    if (meta) {
        uint32_t c = select_ranked(k, w->sub, j, keep, w);
        vkg_grm_vote(samples, w->kept, c, n, seed, &v);
        a->meta_right += v.best >= 0 && v.best == label;
    }
}

/* All k samples in MetaRM rank order (best first). */
static void rank_samples(const struct vkg_grm_sample *samples, uint32_t k, uint32_t *order)
{
    for (uint32_t i = 0; i < k; i++) order[i] = i;
    /* insertion sort: stable, no global state, k is small */
    for (uint32_t i = 1; i < k; i++) {
        uint32_t x = order[i], p = i;
        while (p > 0 && ranks_before(samples, x, order[p - 1])) {
            order[p] = order[p - 1];
            p--;
        }
        order[p] = x;
    }
}

enum vkg_status vkg_grm_curve_point(const struct vkg_grm_sample *samples, uint32_t k, uint32_t n, uint64_t sample_seed,
                                    int32_t label, uint32_t j, uint32_t meta_k, double *voting, double *meta)
{
    if (j == 0 || j > k) return vkg_error(VKG_ERR_INVALID_ARG, "Voting@%u: needs 1 <= j <= k = %u", j, k);
    uint32_t *buf = malloc(4 * (size_t)k * sizeof *buf + k);
    if (!buf) return vkg_error(VKG_ERR_NOMEM, "Voting@%u: out of memory", j);
    struct curve_work w = { buf, buf + k, buf + 2 * (size_t)k, buf + 3 * (size_t)k, (uint8_t *)(buf + 4 * (size_t)k) };
    if (meta) rank_samples(samples, k, w.order);
    uint32_t keep = vkg_grm_curve_meta_keep(j, k, meta_k);
    struct curve_acc a = { 0, 0, 0 };
    if (binomial_capped(k, j, VKG_GRM_CURVE_SUBSETS) <= VKG_GRM_CURVE_SUBSETS) {
        for (uint32_t i = 0; i < j; i++) w.sub[i] = i;
        do score_subset(samples, k, j, n, sample_seed, label, keep, meta != NULL, &w, &a);
        while (next_combination(w.sub, j, k));
    } else {
        for (uint32_t d = 0; d < VKG_GRM_CURVE_SUBSETS; d++) {
            random_subset(sample_seed, k, j, d, &w);
            score_subset(samples, k, j, n, sample_seed, label, keep, meta != NULL, &w, &a);
        }
    }
    *voting = (double)a.right / (double)a.subsets;
    if (meta) *meta = (double)a.meta_right / (double)a.subsets;
    free(buf);
    return VKG_OK;
}
