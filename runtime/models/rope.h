/* rope.h — host tables of RoPE inverse frequencies, computed like
 * transformers' modeling_rope_utils.py (_compute_default_rope_parameters in
 * each model, _compute_linear_scaling_rope_parameters,
 * _compute_llama3_parameters, _compute_yarn_parameters): the same float32
 * steps in the same order, so the table matches HF to an ulp or two. The
 * table feeds vkg_op_rope (one float per rotated pair). The rope types are
 * loaders/hf_config.h's enum vkg_rope_type (default, linear, dynamic,
 * llama3, yarn). */
#ifndef VKG_ROPE_H
#define VKG_ROPE_H

#include <stdint.h>

#include "hf_config.h" /* enum vkg_rope_type, struct vkg_rope (plain host structs) */
#include "status.h"

/* rope_parameters of a config (HF names). Unused fields are ignored. */
struct vkg_rope_scaling {
    enum vkg_rope_type type;        /* for callers; vkg_rope_inv_freq takes the type as an argument */
    double max_position_embeddings; /* dynamic */
    double seq_len;                 /* dynamic: current length; <= max_position_embeddings gives the default table */
    double factor;                  /* linear, llama3, yarn */
    double low_freq_factor;         /* llama3 */
    double high_freq_factor;        /* llama3 */
    double original_max_position_embeddings; /* llama3, yarn */
    double beta_fast, beta_slow;             /* yarn; 0 means HF's default 32 / 1 */
    double mscale, mscale_all_dim;           /* yarn (DeepSeek); 0 means absent */
    double attention_factor;                 /* yarn; 0 means derive it like HF */
    int no_truncate;                         /* yarn: 1 when config says truncate: false */
};

/* The scaling parameters of a parsed config (max_pos: its
 * max_position_embeddings). The YaRN attention factor hf_config derived is
 * passed through unchanged. */
void vkg_rope_scaling_from_config(const struct vkg_rope *r, uint64_t max_pos, struct vkg_rope_scaling *out);

/* dim: rotated dims (int(head_dim * partial_rotary_factor), even). Writes
 * dim/2 floats to inv_freq and the cos/sin multiplier to *attention_factor
 * (1 except YaRN). scaling may be NULL for VKG_ROPE_DEFAULT. */
enum vkg_status vkg_rope_inv_freq(enum vkg_rope_type type, uint32_t dim, double theta,
                                  const struct vkg_rope_scaling *scaling, float *inv_freq, float *attention_factor);

#endif
