/* ref_norm.h — plain-C references of the norm family, written from the math
 * and from Hugging Face transformers' modeling code (LlamaRMSNorm,
 * Gemma2RMSNorm, apply_rotary_pos_emb / rotate_half, ACT2FN["silu"] and
 * ["gelu_pytorch_tanh"], Gemma-2 soft-capping), in double where it helps. */
#ifndef VKG_REF_NORM_H
#define VKG_REF_NORM_H

#include <stddef.h>
#include <stdint.h>

/* Dequantize one row of n values (n % 32 == 0) of Q8_0 / Q4 blocks (layouts in loaders/dtype.h). */
void ref_dequant_q8_0(const uint8_t *row, float *out, size_t n);
void ref_dequant_q4(const uint8_t *row, float *out, size_t n);
/* Quantize n values (n % 32 == 0) like ggml: d = absmax / 127 (Q8_0) or max-magnitude / -8 (Q4). */
void ref_quant_q8_0(const float *x, uint8_t *out, size_t n);
void ref_quant_q4(const float *x, uint8_t *out, size_t n);

/* out[t][j] = table_row(ids[t])[j] * scale, zeros for ids outside [0, vocab).
 * table_f32: the table already decoded to F32, [vocab][dim]. */
void ref_embed(const float *table_f32, uint64_t vocab, uint32_t dim, const int32_t *ids, uint64_t n_tokens, float scale,
               float *out);

/* y = x / sqrt(mean(x^2) + eps) * (w + w_add) per row of n, row r at x + r*n.
 * residual != NULL: residual += x first (written back) and norm(residual). */
void ref_rmsnorm(const float *x, float *residual, const float *w, float *y, uint64_t rows, uint32_t n, float eps,
                 float w_add);

/* RoPE in place on x[tokens][n_heads][head_dim], HF semantics (see rope.comp
 * for the parameters). */
void ref_rope(float *x, const int32_t *pos, const float *inv_freq, uint64_t tokens, uint32_t n_heads, uint32_t head_dim,
              uint32_t rot_dim, uint32_t dim_off, int interleaved, float attn_factor);

float ref_silu(float g);
float ref_gelu_tanh(float g);
/* ggml's CPU GELU (GGML_GELU_FP16): its table of halves, table[h] = f16(gelu_f32(h)) with gelu_f32(x) =
 * 0.5f x (1 + tanhf(sqrt(2/pi) x (1 + 0.044715 x^2))) in float, looked up at h = f16(g); 0 for g <= -10
 * and g itself for g >= 10 (ggml_vec_gelu_f32 / ggml_vec_geglu_f32 of ggml-cpu/vec.h) */
float ref_gelu_f16(float g);
/* out = act(gate) * up */
/* gelu: 0 silu, 1 gelu_tanh, 2 ggml's table GELU (ref_gelu_f16) */
void ref_glu(int gelu, const float *gate, const float *up, float *out, uint64_t n);
void ref_softcap(const float *a, float *out, uint64_t n, float cap);

#endif
