/* ref_moe.c — see ref_moe.h. */
#include "ref_moe.h"

#include "ref_dtype.h"

#include <math.h>
#include <stdlib.h>

/* scores of one token: softmax(logits) or sigmoid(logits), in double. */
static void scores_of(const struct ref_moe_router *r, const float *l, double *s)
{
    double mx = -INFINITY, sum = 0;
    for (uint32_t e = 0; e < r->n_exp; e++) mx = l[e] > mx ? l[e] : mx;
    for (uint32_t e = 0; e < r->n_exp; e++) {
        s[e] = r->sigmoid ? 1.0 / (1.0 + exp(-(double)l[e])) : exp((double)l[e] - mx);
        sum += s[e];
    }
    if (!r->sigmoid)
        for (uint32_t e = 0; e < r->n_exp; e++) s[e] /= sum;
}

/* a ranks above b as torch.topk / torch.max rank them: NaN above every number. */
static int above(double a, double b) { return isnan(a) ? !isnan(b) : a > b; }

/* Index of the largest of v[0..n) not yet taken; the lowest index among equals (NaNs equal). */
static uint32_t argmax_free(const double *v, const char *taken, uint32_t n)
{
    uint32_t best = n;
    for (uint32_t i = 0; i < n; i++)
        if (!taken[i] && (best == n || above(v[i], v[best]))) best = i;
    return best;
}

/* Group-limited selection on the choices ch: group score = max (V2) or the
 * sum of the top 2 (V3); the choices outside the topk_group best groups
 * become 0 (V2's masked_fill 0.0) or -inf (V3). */
static void mask_groups(const struct ref_moe_router *r, double *ch)
{
    uint32_t gs = r->n_exp / r->n_group;
    double g[64];
    char taken[64] = { 0 };
    for (uint32_t i = 0; i < r->n_group; i++) {
        double b1 = -INFINITY, b2 = -INFINITY;
        for (uint32_t e = i * gs; e < (i + 1) * gs; e++) {
            if (above(ch[e], b1)) {
                b2 = b1;
                b1 = ch[e];
            } else if (above(ch[e], b2)) b2 = ch[e];
        }
        g[i] = r->v3_groups ? b1 + (gs > 1 ? b2 : 0) : b1;
    }
    for (uint32_t j = 0; j < r->topk_group; j++) taken[argmax_free(g, taken, r->n_group)] = 1;
    for (uint32_t e = 0; e < r->n_exp; e++)
        if (!taken[e / gs]) ch[e] = r->v3_groups ? -INFINITY : 0.0;
}

void ref_moe_gate(const struct ref_moe_router *r, uint32_t n_tok, const float *logits, int32_t *ids, float *weights)
{
    double *s = malloc(r->n_exp * sizeof *s), *ch = malloc(r->n_exp * sizeof *ch), w[64];
    char *taken = malloc(r->n_exp);
    for (uint32_t t = 0; t < n_tok; t++) {
        scores_of(r, logits + (uint64_t)t * r->n_exp, s);
        for (uint32_t e = 0; e < r->n_exp; e++) {
            ch[e] = s[e] + (r->bias ? r->bias[e] : 0.0);
            taken[e] = 0;
        }
        if (r->n_group > 1) mask_groups(r, ch);
        double sum = 0;
        for (uint32_t j = 0; j < r->k; j++) {
            uint32_t e = argmax_free(ch, taken, r->n_exp);
            taken[e] = 1;
            ids[t * r->k + j] = (int32_t)e;
            w[j] = (r->bias || r->v3_groups) ? s[e] : ch[e]; /* V3 gathers the unbiased score */
            sum += w[j];
        }
        for (uint32_t j = 0; j < r->k; j++)
            weights[t * r->k + j] = (float)((r->norm ? w[j] / (sum + 1e-20) : w[j]) * r->scale);
    }
    free(s);
    free(ch);
    free(taken);
}

void ref_moe_count(const int32_t *ids, uint32_t n_pairs, uint32_t n_exp, uint32_t *counts, uint32_t *offsets)
{
    for (uint32_t e = 0; e < n_exp; e++) counts[e] = 0;
    for (uint32_t p = 0; p < n_pairs; p++) counts[ids[p]]++;
    uint32_t run = 0;
    for (uint32_t e = 0; e < n_exp; e++) {
        offsets[e] = run;
        run += counts[e];
    }
}

/* One expert MLP on one row: down(silu(gate x) * up x), in double. */
static void expert_mlp(uint32_t n_in, uint32_t n_ff, const float *x, const float *gate, const float *up,
                       const float *down, double *hbuf, double *y)
{
    for (uint32_t f = 0; f < n_ff; f++) {
        double g = 0, u = 0;
        for (uint32_t i = 0; i < n_in; i++) {
            g += (double)gate[(uint64_t)f * n_in + i] * x[i];
            u += (double)up[(uint64_t)f * n_in + i] * x[i];
        }
        hbuf[f] = g / (1.0 + exp(-g)) * u;
    }
    for (uint32_t i = 0; i < n_in; i++) {
        double s = 0;
        for (uint32_t f = 0; f < n_ff; f++) s += (double)down[(uint64_t)i * n_ff + f] * hbuf[f];
        y[i] = s;
    }
}

void ref_moe_ffn(uint32_t n_tok, uint32_t k, uint32_t n_in, uint32_t n_ff, const float *x, const int32_t *ids,
                 const float *w, const float *gate, const float *up, const float *down, float *out)
{
    double *h = malloc(n_ff * sizeof *h), *y = malloc(n_in * sizeof *y), *acc = malloc(n_in * sizeof *acc);
    uint64_t mat = (uint64_t)n_ff * n_in;
    if (!ids) k = 1;
    for (uint32_t t = 0; t < n_tok; t++) {
        for (uint32_t i = 0; i < n_in; i++) acc[i] = 0;
        for (uint32_t j = 0; j < k; j++) {
            uint64_t e = ids ? (uint64_t)ids[t * k + j] : 0;
            double wt = ids ? w[t * k + j] : 1.0;
            expert_mlp(n_in, n_ff, x + (uint64_t)t * n_in, gate + e * mat, up + e * mat, down + e * mat, h, y);
            for (uint32_t i = 0; i < n_in; i++) acc[i] += wt * y[i];
        }
        for (uint32_t i = 0; i < n_in; i++) out[(uint64_t)t * n_in + i] = (float)acc[i];
    }
    free(h);
    free(y);
    free(acc);
}

void ref_moe_dequant(const uint8_t *blocks, uint64_t n, int q4, float *out)
{
    uint64_t bb = q4 ? 18 : 34;
    for (uint64_t b = 0; b < n / 32; b++) {
        const uint8_t *blk = blocks + b * bb;
        double d = ref_f16_to_f32((uint16_t)(blk[0] | blk[1] << 8));
        for (int j = 0; j < 32; j++) {
            int q = q4 ? ((j < 16 ? blk[2 + j] & 15 : blk[2 + j - 16] >> 4) - 8) : (int)(int8_t)blk[2 + j];
            out[b * 32 + j] = (float)(d * q);
        }
    }
}
