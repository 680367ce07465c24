/* ref_moe.h — plain-C references of the MoE block, written from Hugging Face
 * transformers' modeling code (Qwen3MoeSparseMoeBlock, MixtralSparseMoeBlock,
 * DeepseekV2TopkRouter / DeepseekV2Moe), not from the shaders. Doubles
 * inside; weights are given as floats (16-bit weights decoded by the caller). */
#ifndef VKG_REF_MOE_H
#define VKG_REF_MOE_H

#include <stdint.h>

struct ref_moe_router {
    uint32_t n_exp, k;
    int sigmoid;                  /* scores: 0 softmax over all experts, 1 sigmoid */
    int norm;                     /* w /= sum(w) + 1e-20 */
    double scale;                 /* routed_scaling_factor */
    uint32_t n_group, topk_group; /* group-limited greedy when n_group > 1 */
    const float *bias;            /* DeepSeek-V3 e_score_correction_bias [n_exp] or NULL */
    int v3_groups;                /* DeepSeek-V3 groups: top-2 sum, others -inf (else V2: max, others 0) */
};

/* logits [n_tok][n_exp] -> ids [n_tok][k] (best first; equal choices: lower
 * index first; NaN above every number, as torch.topk ranks it), weights [n_tok][k].
 * DeepseekV2TopkRouter with bias NULL and
 * v3_groups 0 (scores masked to 0, weight = masked score); DeepseekV3TopkRouter
 * with them (choice = score + bias masked to -inf, weight = score). */
void ref_moe_gate(const struct ref_moe_router *r, uint32_t n_tok, const float *logits, int32_t *ids, float *weights);

/* counts[e] = pairs p (p = t*k + j) with ids[p] == e; offsets = exclusive prefix sum. */
void ref_moe_count(const int32_t *ids, uint32_t n_pairs, uint32_t n_exp, uint32_t *counts, uint32_t *offsets);

/* out[t] = sum_j w[t][j] * down_e(silu(gate_e x_t) * up_e x_t), e = ids[t][j].
 * gate, up [n_exp][n_ff][n_in]; down [n_exp][n_in][n_ff]; x, out [n_tok][n_in].
 * ids == NULL: one expert (index 0) with weight 1 for every token (a dense MLP). */
void ref_moe_ffn(uint32_t n_tok, uint32_t k, uint32_t n_in, uint32_t n_ff, const float *x, const int32_t *ids,
                 const float *w, const float *gate, const float *up, const float *down, float *out);

/* Decodes n values (n % 32 == 0) of blocks of 32 with an f16 scale d first:
 * Q8_0 (34 bytes: d, 32 int8 q; value d*q) or, when q4, Q4 (18 bytes: d, 16
 * bytes; byte i holds value i in its low nibble and value i+16 in its high
 * nibble; value d*(nibble-8)). */
void ref_moe_dequant(const uint8_t *blocks, uint64_t n, int q4, float *out);

#endif
