/* ref_sample.c — see ref_sample.h. Obvious loops, doubles, a full sort. */
#include "ref_sample.h"

#include <math.h>
#include <stdlib.h>

#define FRAGILE_EPS 1e-5

void ref_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c[4] = { ctr[0], ctr[1], ctr[2], ctr[3] }, k[2] = { key[0], key[1] };
    for (int round = 0; round < 10; round++) {
        if (round) { /* Weyl key schedule */
            k[0] += 0x9E3779B9u;
            k[1] += 0xBB67AE85u;
        }
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k[0], n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k[1], n3 = (uint32_t)p0;
        c[0] = n0;
        c[1] = n1;
        c[2] = n2;
        c[3] = n3;
    }
    for (int i = 0; i < 4; i++) out[i] = c[i];
}

int32_t ref_argmax(const float *x, size_t n, double *prob)
{
    if (prob) *prob = 0;
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i])) return -1; /* a NaN anywhere: nothing can be drawn */
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    if (x[best] == -INFINITY) return -1; /* only -inf: nothing can be drawn */
    double z = 0; /* max +inf: each +inf weighs 1 and every finite logit 0 (the limit of softmax) */
    for (size_t i = 0; i < n; i++) z += x[best] == INFINITY ? (x[i] == INFINITY) : exp((double)x[i] - (double)x[best]);
    if (prob) *prob = 1.0 / z;
    return (int32_t)best;
}

static const float *g_sort_x;
static int cmp_desc(const void *a, const void *b)
{
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    float xi = g_sort_x[i], xj = g_sort_x[j];
    if (xi != xj) return xi > xj ? -1 : 1;
    return i < j ? -1 : (i > j);
}

void ref_sort_desc(const float *x, size_t n, uint32_t *order)
{
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    g_sort_x = x;
    qsort(order, n, sizeof *order, cmp_desc);
}

/* Softmax of the kept scores into q (0 for removed); returns the largest q. */
static double softmax_kept(const double *s, const char *keep, size_t n, double *q)
{
    double m = -INFINITY, z = 0, qmax = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i] && s[i] > m) m = s[i];
    for (size_t i = 0; i < n; i++) z += keep[i] ? exp(s[i] - m) : 0;
    for (size_t i = 0; i < n; i++) {
        q[i] = keep[i] ? exp(s[i] - m) / z : 0;
        if (q[i] > qmax) qmax = q[i];
    }
    return qmax;
}

/* HF TopPLogitsWarper: walk ascending (reverse of order), remove while the cumulative prob <= 1 - top_p. */
static void top_p_filter(const uint32_t *order, size_t n, const double *q, char *keep, float top_p, int *fragile)
{
    double cum = 0, cut = 1.0 - (double)top_p;
    for (size_t r = n; r-- > 1;) { /* r == 0, the top token, always stays */
        uint32_t i = order[r];
        cum += q[i];
        if (fabs(cum - cut) < FRAGILE_EPS && keep[i]) *fragile = 1;
        if (cum <= cut) keep[i] = 0;
    }
}

/* Inverse CDF over the kept tokens in index order. */
static int32_t draw(const double *q, size_t n, double u, int *fragile)
{
    double cum = 0;
    int32_t last = -1;
    for (size_t i = 0; i < n; i++) {
        if (q[i] <= 0) continue;
        double before = cum;
        cum += q[i];
        last = (int32_t)i;
        if (cum > u) {
            if (u - before < FRAGILE_EPS || cum - u < FRAGILE_EPS) *fragile = 1;
            return (int32_t)i;
        }
    }
    *fragile = 1; /* u beyond the rounded total */
    return last;
}

static double uniform(uint64_t seed, uint32_t step)
{
    uint32_t ctr[4] = { step, 0, 0, 0 }, key[2] = { (uint32_t)seed, (uint32_t)(seed >> 32) }, out[4];
    ref_philox4x32_10(ctr, key, out);
    return out[0] / 4294967296.0;
}

struct ref_sample_result ref_sample(const float *x, size_t n, const uint32_t *order, const struct ref_sample_args *a)
{
    struct ref_sample_result res = { 0 };
    int32_t am = ref_argmax(x, n, &res.prob);
    if (am < 0 || !(a->temperature > 0)) { /* nothing to draw (-1, prob 0), or greedy */
        res.token = am;
        res.n_kept = am >= 0;
        return res;
    }
    const int inf = x[am] == INFINITY; /* then only the +inf logits weigh, equally */
    uint32_t *own = NULL;              /* the sorted order is needed by top-k and top-p only */
    if (!order && (a->top_k > 0 || a->top_p < 1)) {
        own = malloc(n * sizeof *own);
        ref_sort_desc(x, n, own);
        order = own;
    }
    uint32_t top = order ? order[0] : (uint32_t)am;
    double *s = malloc(n * sizeof *s), *q = malloc(n * sizeof *q);
    char *keep = malloc(n);
    for (size_t i = 0; i < n; i++) { /* -inf stays -inf even at T = inf (the limit of every finite T) */
        if (inf) s[i] = x[i] == INFINITY ? 0 : -INFINITY; /* uniform over the +inf logits */
        else s[i] = x[i] == -INFINITY ? -INFINITY : (double)x[i] / a->temperature;
        keep[i] = 1;
    }
    if (a->top_k > 0) {
        double kth = s[order[(a->top_k < n ? a->top_k : n) - 1]];
        for (size_t i = 0; i < n; i++) keep[i] = s[i] >= kth;
    }
    if (a->top_p < 1) {
        softmax_kept(s, keep, n, q);
        top_p_filter(order, n, q, keep, a->top_p, &res.fragile);
    }
    if (a->min_p > 0) {
        double qmax = softmax_kept(s, keep, n, q);
        for (size_t i = 0; i < n; i++) {
            if (!keep[i] || i == top) continue;
            if (fabs(q[i] / qmax - a->min_p) < FRAGILE_EPS) res.fragile = 1;
            if (q[i] < a->min_p * qmax) keep[i] = 0;
        }
    }
    softmax_kept(s, keep, n, q);
    for (size_t i = 0; i < n; i++) res.n_kept += keep[i];
    res.token = draw(q, n, uniform(a->seed, a->step), &res.fragile);
    res.prob = q[res.token];
    free(own);
    free(s);
    free(q);
    free(keep);
    return res;
}
