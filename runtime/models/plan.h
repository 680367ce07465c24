/* plan.h — the device memory a model run needs, compared with the device
 * before the first allocation.
 *
 *   struct vkg_model_report r;   vkg_model_check(dir, &(struct vkg_check_opts){ .weights = w }, &r);
 *   struct vkg_model_plan p;
 *   if (vkg_model_plan(&r, dev, &(struct vkg_plan_request){ .ctx = 8192, .n_seqs = 8 }, &p) != VKG_OK)
 *       puts(vkg_error_detail());  // names the sizes and the flag to lower
 *
 * The plan counts the weights as they will be on the device (after
 * --weights, check.h), the KV cache for n_seqs sequences of ctx tokens
 * (vkg_kv_config_of: F32 pages of 16 tokens) and the scratch: the activations
 * of `batch` tokens, the logits of n_seqs rows, the MoE workspace and the
 * sampling buffers. It refuses when one buffer exceeds maxBufferSize or
 * maxMemoryAllocationSize, one layer's KV pool (one binding) exceeds
 * maxStorageBufferRange, or the total exceeds the largest device-local heap.
 * vkg_model_load runs it with its opts (ctx, n_seqs, batch). */
#ifndef VKG_PLAN_H
#define VKG_PLAN_H

#include <stdint.h>

#include "check.h"
#include "device.h"

struct vkg_plan_request {
    uint32_t ctx;    /* tokens per sequence (-c): prompt + generated; 0: no KV cache planned */
    uint32_t n_seqs; /* sequences decoded together (--n-samples); 0: 1 */
    uint32_t batch;  /* tokens per forward step (the prefill chunk); 0: 512 */
};

struct vkg_model_plan {
    uint32_t ctx, n_seqs, batch; /* what was planned (defaults applied) */
    uint64_t weights;            /* device bytes of the weights */
    uint64_t largest;            /* the largest single weight buffer (stacked experts count whole) */
    uint64_t kv;                 /* KV cache, every layer's K and V pools */
    uint64_t kv_layer_pool;      /* one layer's larger pool: bound as one binding by attention */
    uint64_t scratch;            /* activations, logits, MoE workspace, sampling buffers */
    uint64_t largest_scratch;    /* the largest scratch buffer */
    uint64_t total;              /* weights + kv + scratch */
    uint64_t heap;               /* the largest device-local memory heap */
    int mla_latent;              /* DeepSeek-V2: the KV cache holds the MLA latent (vkg_mla_latent): always
                                    with VKGRM_MLA_LATENT=1 where the device can; by default where the
                                    latent stores at most a third of the KV per token (VKG_MLA_LATENT_MIN_SAVING),
                                    or where every head's k and v would not fit the limits above and the
                                    latent does */
};

/* The KV saving (every head's k and v over the latent, per token) from which the latent is the default:
 * every published DeepSeek-V2 shape saves 8.9x (16 heads x (192 + 128) over 576) and the tiny test models
 * 4x; the bundled toy judge saves 2.4x (4 x 96 over 160) and keeps every head's k and v, which run its
 * demo 1.3x faster on lavapipe (the latent's absorbed products cost more than its small KV saves). */
#define VKG_MLA_LATENT_MIN_SAVING 3.0

/* Plans r's model (checked, no problems) on dev for q (and picks the MLA form). VKG_ERR_LIMIT or
 * VKG_ERR_DEVICE_OOM with a message naming the sizes and the flag to lower
 * (-c, --n-samples, --weights); *out is filled either way. */
enum vkg_status vkg_model_plan(const struct vkg_model_report *r, const struct vkg_device *dev,
                               const struct vkg_plan_request *q, struct vkg_model_plan *out);

/* Device bytes of the step scratch for cap tokens (model.c's activations and
 * MoE workspace; the largest one buffer in *largest). */
uint64_t vkg_model_scratch_bytes(const struct vkg_hf_config *c, const struct vkg_device *dev, uint32_t cap,
                                 uint64_t *largest);

#endif
