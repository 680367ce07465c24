/* rope.c — RoPE inverse-frequency tables, step by step like transformers'
 * modeling_rope_utils.py. torch does these steps on float32 tensors, with
 * Python scalars rounded to float32 where they meet a tensor; the (float)
 * casts below mark those places. Python-only scalar math stays double. */
#include "rope.h"

#include <math.h>

#define TWO_PI 6.283185307179586 /* math.pi * 2, as Python computes it */

/* 1 / theta^(2k/dim) in float32, HF's
 * 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)). */
static void default_freqs(uint32_t dim, double theta, float *f)
{
    for (uint32_t k = 0; k < dim / 2; k++) {
        float e = (float)(2 * k) / (float)dim;
        f[k] = 1.0f / powf((float)theta, e);
    }
}

/* HF _compute_dynamic_ntk_parameters: past max_position_embeddings the base
 * grows (Python double math), then the default table. */
static void dynamic(uint32_t dim, double theta, const struct vkg_rope_scaling *s, float *f)
{
    double max_pos = s->max_position_embeddings, len = s->seq_len > max_pos ? s->seq_len : max_pos;
    if (max_pos > 0) theta *= pow((s->factor * len / max_pos) - (s->factor - 1), (double)dim / (dim - 2));
    default_freqs(dim, theta, f);
}

static void llama3(uint32_t dim, const struct vkg_rope_scaling *s, float *f)
{
    const float factor = (float)s->factor, lo_f = (float)s->low_freq_factor;
    const double old_ctx = s->original_max_position_embeddings;
    const float low_wl = (float)(old_ctx / s->low_freq_factor), high_wl = (float)(old_ctx / s->high_freq_factor);
    for (uint32_t k = 0; k < dim / 2; k++) {
        float wavelen = (float)TWO_PI / f[k];
        float scaled = wavelen > low_wl ? f[k] / factor : f[k]; /* low frequencies: / factor */
        float smooth = ((float)old_ctx / wavelen - lo_f) / (float)(s->high_freq_factor - s->low_freq_factor);
        float smoothed = (1.0f - smooth) * scaled / factor + smooth * scaled;
        int medium = !(wavelen < high_wl) && !(wavelen > low_wl);
        f[k] = medium ? smoothed : scaled;
    }
}

static double yarn_mscale(double scale, double mscale) { return scale <= 1 ? 1.0 : 0.1 * mscale * log(scale) + 1.0; }

/* HF find_correction_dim: the dim whose wavelength turns n_rot times over the original context. */
static double correction_dim(double n_rot, uint32_t dim, double base, double max_pos)
{
    return (dim * log(max_pos / (n_rot * TWO_PI))) / (2 * log(base));
}

static void yarn(uint32_t dim, double theta, const struct vkg_rope_scaling *s, float *f, float *attn)
{
    double af = s->attention_factor;
    if (af == 0)
        af = (s->mscale != 0 && s->mscale_all_dim != 0)
                 ? yarn_mscale(s->factor, s->mscale) / yarn_mscale(s->factor, s->mscale_all_dim)
                 : yarn_mscale(s->factor, 1);
    *attn = (float)af;
    double beta_fast = s->beta_fast != 0 ? s->beta_fast : 32, beta_slow = s->beta_slow != 0 ? s->beta_slow : 1;
    double low = correction_dim(beta_fast, dim, theta, s->original_max_position_embeddings);
    double high = correction_dim(beta_slow, dim, theta, s->original_max_position_embeddings);
    if (!s->no_truncate) {
        low = floor(low);
        high = ceil(high);
    }
    if (low < 0) low = 0;
    if (high > dim - 1) high = dim - 1;
    if (low == high) high += 0.001; /* HF: prevent singularity */
    const float factor = (float)s->factor;
    for (uint32_t k = 0; k < dim / 2; k++) {
        float pos_freq = powf((float)theta, (float)(2 * k) / (float)dim);
        float extrap = 1.0f / pos_freq, interp = 1.0f / (factor * pos_freq);
        float ramp = ((float)k - (float)low) / (float)(high - low);
        ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
        float ef = 1.0f - ramp; /* inv_freq_extrapolation_factor */
        f[k] = interp * (1.0f - ef) + extrap * ef;
    }
}

enum vkg_status vkg_rope_inv_freq(enum vkg_rope_type type, uint32_t dim, double theta, const struct vkg_rope_scaling *s,
                                  float *inv_freq, float *attention_factor)
{
    if (dim == 0 || dim % 2 || !(theta > 1))
        return vkg_error(VKG_ERR_INVALID_ARG, "rope: rotary dim %u (must be even, > 0) / theta %g (must be > 1)", dim,
                         theta);
    if (type != VKG_ROPE_DEFAULT && (!s || !(s->factor > 0)))
        return vkg_error(VKG_ERR_INVALID_ARG, "rope: scaling type %d needs rope_parameters with factor > 0", (int)type);
    if ((type == VKG_ROPE_LLAMA3 || type == VKG_ROPE_YARN) && !(s->original_max_position_embeddings > 0))
        return vkg_error(VKG_ERR_INVALID_ARG, "rope: original_max_position_embeddings missing");
    if (type == VKG_ROPE_LLAMA3 && !(s->high_freq_factor > s->low_freq_factor && s->low_freq_factor > 0))
        return vkg_error(VKG_ERR_INVALID_ARG, "rope llama3: needs high_freq_factor %g > low_freq_factor %g > 0",
                         s->high_freq_factor, s->low_freq_factor);
    *attention_factor = 1.0f;
    switch (type) {
    case VKG_ROPE_DEFAULT: default_freqs(dim, theta, inv_freq); break;
    case VKG_ROPE_LINEAR:
        default_freqs(dim, theta, inv_freq);
        for (uint32_t k = 0; k < dim / 2; k++) inv_freq[k] /= (float)s->factor;
        break;
    case VKG_ROPE_DYNAMIC:
        if (dim < 4) return vkg_error(VKG_ERR_INVALID_ARG, "rope dynamic: rotary dim %u must be >= 4", dim);
        dynamic(dim, theta, s, inv_freq);
        break;
    case VKG_ROPE_LLAMA3:
        default_freqs(dim, theta, inv_freq);
        llama3(dim, s, inv_freq);
        break;
    case VKG_ROPE_YARN: yarn(dim, theta, s, inv_freq, attention_factor); break;
    default: return vkg_error(VKG_ERR_UNSUPPORTED, "rope: type %d unknown", (int)type);
    }
    return VKG_OK;
}

void vkg_rope_scaling_from_config(const struct vkg_rope *r, uint64_t max_pos, struct vkg_rope_scaling *out)
{
    *out = (struct vkg_rope_scaling){
        .type = r->type,
        .max_position_embeddings = (double)max_pos,
        .factor = r->factor,
        .low_freq_factor = r->low_freq_factor,
        .high_freq_factor = r->high_freq_factor,
        .original_max_position_embeddings =
            (double)(r->original_max_position_embeddings ? r->original_max_position_embeddings : max_pos),
        .beta_fast = r->beta_fast,
        .beta_slow = r->beta_slow,
        .mscale = r->mscale,
        .mscale_all_dim = r->mscale_all_dim,
        .attention_factor = r->type == VKG_ROPE_YARN ? r->attention_factor : 0,
        .no_truncate = !r->truncate,
    };
}
