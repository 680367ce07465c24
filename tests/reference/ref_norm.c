/* ref_norm.c — plain-C references of the norm family (ref_norm.h). */
#include "ref_norm.h"

#include <math.h>
#include <string.h>

#include "ref_dtype.h"

void ref_dequant_q8_0(const uint8_t *row, float *out, size_t n)
{
    for (size_t b = 0; b < n / 32; b++) {
        const uint8_t *blk = row + b * 34;
        float d = ref_f16_to_f32((uint16_t)(blk[0] | blk[1] << 8));
        for (int j = 0; j < 32; j++) out[b * 32 + j] = d * (float)(int8_t)blk[2 + j];
    }
}

void ref_dequant_q4(const uint8_t *row, float *out, size_t n)
{
    for (size_t b = 0; b < n / 32; b++) {
        const uint8_t *blk = row + b * 18;
        float d = ref_f16_to_f32((uint16_t)(blk[0] | blk[1] << 8));
        for (int j = 0; j < 16; j++) {
            out[b * 32 + j] = d * (float)((blk[2 + j] & 15) - 8);
            out[b * 32 + 16 + j] = d * (float)((blk[2 + j] >> 4) - 8);
        }
    }
}

void ref_quant_q8_0(const float *x, uint8_t *out, size_t n)
{
    for (size_t b = 0; b < n / 32; b++) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[b * 32 + j]));
        float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
        uint16_t h = ref_f32_to_f16(d);
        uint8_t *blk = out + b * 34;
        blk[0] = (uint8_t)h;
        blk[1] = (uint8_t)(h >> 8);
        for (int j = 0; j < 32; j++) blk[2 + j] = (uint8_t)(int8_t)lrintf(x[b * 32 + j] * id);
    }
}

void ref_quant_q4(const float *x, uint8_t *out, size_t n)
{
    for (size_t b = 0; b < n / 32; b++) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++)
            if (fabsf(x[b * 32 + j]) > amax) {
                amax = fabsf(x[b * 32 + j]);
                max = x[b * 32 + j];
            }
        float d = max / -8.0f, id = d ? 1.0f / d : 0.0f;
        uint16_t h = ref_f32_to_f16(d);
        uint8_t *blk = out + b * 18;
        blk[0] = (uint8_t)h;
        blk[1] = (uint8_t)(h >> 8);
        for (int j = 0; j < 16; j++) {
            int lo = (int)fminf(15.0f, x[b * 32 + j] * id + 8.5f);
            int hi = (int)fminf(15.0f, x[b * 32 + 16 + j] * id + 8.5f);
            blk[2 + j] = (uint8_t)(lo | hi << 4);
        }
    }
}

void ref_embed(const float *table, uint64_t vocab, uint32_t dim, const int32_t *ids, uint64_t n_tokens, float scale,
               float *out)
{
    for (uint64_t t = 0; t < n_tokens; t++) {
        int ok = ids[t] >= 0 && (uint64_t)ids[t] < vocab;
        for (uint32_t j = 0; j < dim; j++) out[t * dim + j] = ok ? table[(uint64_t)ids[t] * dim + j] * scale : 0.0f;
    }
}

void ref_rmsnorm(const float *x, float *residual, const float *w, float *y, uint64_t rows, uint32_t n, float eps,
                 float w_add)
{
    for (uint64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        if (residual) {
            for (uint32_t j = 0; j < n; j++) residual[r * n + j] += xr[j]; /* f32 add, like HF's residual + h */
            xr = residual + r * n;
        }
        double ss = 0;
        for (uint32_t j = 0; j < n; j++) ss += (double)xr[j] * xr[j];
        double inv = 1.0 / sqrt(ss / n + eps);
        for (uint32_t j = 0; j < n; j++) y[r * n + j] = (float)(xr[j] * inv * ((double)w[j] + w_add));
    }
}

void ref_rope(float *x, const int32_t *pos, const float *inv_freq, uint64_t tokens, uint32_t n_heads, uint32_t head_dim,
              uint32_t rot_dim, uint32_t dim_off, int interleaved, float attn_factor)
{
    uint32_t half = rot_dim / 2;
    for (uint64_t t = 0; t < tokens; t++)
        for (uint32_t h = 0; h < n_heads; h++) {
            float *v = x + (t * n_heads + h) * head_dim + dim_off;
            for (uint32_t k = 0; k < half; k++) {
                /* HF: freqs = inv_freq @ position_ids in f32; cos/sin of that angle, times attention_scaling */
                float ang = (float)pos[t] * inv_freq[k];
                double c = cos((double)ang) * attn_factor, s = sin((double)ang) * attn_factor;
                uint32_t ia = interleaved ? 2 * k : k, ib = interleaved ? 2 * k + 1 : k + half;
                double a = v[ia], b = v[ib]; /* rotate_half: (a, b) -> (a c - b s, b c + a s) */
                v[ia] = (float)(a * c - b * s);
                v[ib] = (float)(b * c + a * s);
            }
        }
}

float ref_silu(float g) { return (float)(g / (1.0 + exp(-(double)g))); }

float ref_gelu_tanh(float g)
{
    double x = g;
    return (float)(0.5 * x * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x))));
}

float ref_gelu_f16(float g)
{
    if (g <= -10.0f) return 0.0f;
    if (g >= 10.0f) return g;
    float x = ref_f16_to_f32(ref_f32_to_f16(g));
    const float c = 0.79788456080286535587989211986876f, a = 0.044715f;
    float t = tanhf(c * x * (1.0f + a * x * x));
    return ref_f16_to_f32(ref_f32_to_f16(0.5f * x * (1.0f + t)));
}

void ref_glu(int gelu, const float *gate, const float *up, float *out, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        float a = gelu == 2 ? ref_gelu_f16(gate[i]) : gelu ? ref_gelu_tanh(gate[i]) : ref_silu(gate[i]);
        out[i] = (float)((double)a * up[i]);
    }
}

void ref_softcap(const float *a, float *out, uint64_t n, float cap)
{
    for (uint64_t i = 0; i < n; i++) out[i] = (float)(cap * tanh((double)a[i] / cap));
}
