/* ref_attention.c — see ref_attention.h. For each (token, head) the full row
 * of scores over every kv position of its sequence is materialised in
 * double, masked, soft-maxed, then multiplied by V. */
#include "ref_attention.h"

#include <math.h>
#include <stdlib.h>

/* HF masks: causal (kv <= q) and, with a window, kv > q - window. */
static int visible(int64_t kv, int64_t pos, uint32_t window)
{
    return kv <= pos && (window == 0 || kv > pos - (int64_t)window);
}

static void ref_row(const struct ref_attn_shape *s, const struct ref_kv_seq *sq, int64_t pos, uint32_t h,
                    const float *qh /* [dk] */, double *w /* [len] */, float *oh /* [dv] */)
{
    uint32_t kvh = h / (s->n_heads / s->n_kv_heads);
    double mx = -INFINITY;
    for (uint64_t t = 0; t < sq->len; t++) {
        const float *kt = sq->k + (t * s->n_kv_heads + kvh) * s->dk;
        double dot = 0;
        for (uint32_t d = 0; d < s->dk; d++) dot += (double)qh[d] * kt[d];
        dot *= s->scale;
        if (s->softcap > 0) dot = s->softcap * tanh(dot / s->softcap);
        w[t] = visible((int64_t)t, pos, s->window) ? dot : -INFINITY;
        if (w[t] > mx) mx = w[t];
    }
    double sum = 0;
    for (uint64_t t = 0; t < sq->len; t++) sum += w[t] = w[t] == -INFINITY ? 0 : exp(w[t] - mx);
    for (uint32_t d = 0; d < s->dv; d++) {
        double acc = 0;
        for (uint64_t t = 0; t < sq->len; t++) acc += w[t] * sq->v[(t * s->n_kv_heads + kvh) * s->dv + d];
        oh[d] = sum > 0 ? (float)(acc / sum) : 0.0f; /* nothing visible: 0, as the kernel */
    }
}

void ref_attention(const struct ref_attn_shape *s, const struct ref_kv_seq *seqs, const int32_t *tokens, const float *q,
                   uint64_t n_tokens, float *out)
{
    for (uint64_t i = 0; i < n_tokens; i++) {
        const struct ref_kv_seq *sq = &seqs[tokens[2 * i]];
        double *w = malloc((sq->len ? sq->len : 1) * sizeof *w);
        for (uint32_t h = 0; h < s->n_heads; h++)
            ref_row(s, sq, tokens[2 * i + 1], h, q + (i * s->n_heads + h) * s->dk, w,
                    out + (i * s->n_heads + h) * s->dv);
        free(w);
    }
}
