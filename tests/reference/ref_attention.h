/* ref_attention.h — plain-C attention reference, written from the Hugging
 * Face eager attention (Gemma-2 / Llama / DeepSeek-V2 modeling code):
 *   w = q k^T * scaling; if softcap: w = softcap * tanh(w / softcap);
 *   w += mask (causal; sliding: kv_idx > q_idx - window); softmax in f32
 *   (here double); out = w v. GQA: query head h uses KV head h / (n_heads / n_kv_heads). */
#ifndef VKG_REF_ATTENTION_H
#define VKG_REF_ATTENTION_H

#include <stdint.h>

/* One sequence's logical KV, positions 0..len-1 in order (no pages). */
struct ref_kv_seq {
    const float *k; /* [len][n_kv_heads][dk] */
    const float *v; /* [len][n_kv_heads][dv] */
    uint64_t len;
};

struct ref_attn_shape {
    uint32_t n_heads, n_kv_heads, dk, dv;
    double scale;
    double softcap;  /* 0: none */
    uint32_t window; /* 0: none */
};

/* out [n_tokens][n_heads][dv] from q [n_tokens][n_heads][dk]; token i is
 * tokens[2i] (sequence index into seqs) at position tokens[2i+1]. */
void ref_attention(const struct ref_attn_shape *s, const struct ref_kv_seq *seqs, const int32_t *tokens, const float *q,
                   uint64_t n_tokens, float *out);

#endif
