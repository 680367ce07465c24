/* sampler.h — host side of sampling: the settings of one sequence (HF
 * generation_config names), their checks, and the per-row device parameters
 * (struct vkg_sample_params) that vkg_op_sample reads.
 *
 *   struct vkg_sampler s = vkg_sampler_greedy();       // or fill the fields
 *   s.temperature = 0.7f; s.top_p = 0.9f; s.seed = 42;
 *   VKG_TRY(vkg_sampler_check(&s));
 *   rows[i] = vkg_sampler_row(&s, seq_id, step);       // one per sequence in the batch
 *   VKG_TRY(vkg_buffer_upload(dev, params_view, rows, n * sizeof rows[0]));
 */
#ifndef VKG_SAMPLER_H
#define VKG_SAMPLER_H

#include <stdint.h>

#include "push_sample.h"
#include "status.h"

struct vkg_sampler {
    float temperature; /* 0: greedy */
    uint32_t top_k;    /* 0: off */
    float top_p;       /* 1: off */
    float min_p;       /* 0: off */
    uint64_t seed;     /* run seed; each sequence gets its own stream (vkg_sampler_row) */
};

/* temperature 0, filters off, seed 0. */
struct vkg_sampler vkg_sampler_greedy(void);
/* VKG_ERR_INVALID_ARG naming the field when a value is out of range
 * (temperature < 0 or not finite, top_p outside [0, 1], min_p outside [0, 1]). */
enum vkg_status vkg_sampler_check(const struct vkg_sampler *s);
/* The seed of sequence seq_id: a 64-bit mix of (run seed, seq_id), so the
 * sequences of one run draw independent streams and a sequence draws the
 * same tokens whatever batch it is in. */
uint64_t vkg_sampler_seq_seed(uint64_t seed, uint64_t seq_id);
/* Device parameters of one row: sequence seq_id at decode step `step`. */
struct vkg_sample_params vkg_sampler_row(const struct vkg_sampler *s, uint64_t seq_id, uint32_t step);
/* VKG_SAMPLE_NO_TOP_K / _NO_TOP_P when no row of the batch needs that filter
 * (vkg_op_sample then records fewer passes; the tokens are the same). */
uint32_t vkg_sampler_flags(const struct vkg_sample_params *rows /* [n] */, uint32_t n);

#endif
