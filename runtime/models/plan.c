/* plan.c — the memory plan of a model run (plan.h). */
#include "plan.h"

#include <stdio.h>

#include "model.h"
#include "ops_sample.h"

static double mib(uint64_t b) { return (double)b / 1048576.0; }

/* The largest device-local heap (any heap when none says device-local). */
static uint64_t device_heap(const struct vkg_device_info *i)
{
    uint64_t best = 0, any = 0;
    for (uint32_t h = 0; h < i->n_heaps && h < VKG_MAX_HEAPS; h++) {
        if (i->heap_device_local[h] && i->heap_size[h] > best) best = i->heap_size[h];
        if (i->heap_size[h] > any) any = i->heap_size[h];
    }
    return best ? best : any;
}

/* The KV cache of vkg_kv_create for n_seqs x ctx: all pools, and one layer's larger pool. */
static void plan_kv(const struct vkg_hf_config *c, struct vkg_model_plan *p)
{
    if (!p->ctx) return;
    struct vkg_kv_config k = vkg_kv_config_of(c, 1, 1); /* heads and head sizes; pages counted in 64 bits here */
    uint64_t pages = ((uint64_t)p->ctx + k.page_size - 1) / k.page_size * p->n_seqs;
    uint64_t per_page = (uint64_t)k.n_kv_heads * k.page_size * 4, dmax = k.dk > k.dv ? k.dk : k.dv;
    p->kv_layer_pool = pages * per_page * dmax;
    p->kv = (uint64_t)k.n_layers * pages * k.page_size * vkg_kv_token_elems(&k) * 4;
}

/* Activations of `batch` tokens, logits of n_seqs rows, sampling of n_seqs rows. */
static void plan_scratch(const struct vkg_hf_config *c, const struct vkg_device *dev, struct vkg_model_plan *p)
{
    uint64_t out_dim = c->seq_cls ? c->num_labels : c->vocab_size, rows = p->n_seqs < 8 ? 8 : p->n_seqs;
    uint64_t logits = rows * out_dim * 4, sample = vkg_sample_workspace_bytes(p->n_seqs, (uint32_t)out_dim);
    p->scratch = vkg_model_scratch_bytes(c, dev, p->batch, &p->largest_scratch);
    p->scratch += rows * c->hidden_size * 4 + logits + (uint64_t)p->n_seqs * out_dim * 4 + sample;
    if (logits > p->largest_scratch) p->largest_scratch = logits;
}

static enum vkg_status plan_form(const struct vkg_model_report *r, const struct vkg_device *dev,
                                 const struct vkg_plan_request *q, struct vkg_model_plan *p, int latent)
{
    const struct vkg_device_info *i = &dev->info;
    const struct vkg_hf_config *c = &r->cfg;
    *p = (struct vkg_model_plan){ .ctx = q ? q->ctx : 0,
                                  .n_seqs = q && q->n_seqs ? q->n_seqs : 1,
                                  .batch = q && q->batch ? q->batch : 512,
                                  .weights = r->weight_bytes,
                                  .largest = r->largest_tensor_bytes,
                                  .heap = device_heap(i) };
    struct vkg_hf_config cl = *c; /* the KV form planned (a shallow copy, read only) */
    cl.mla_latent_kv = (uint8_t)latent;
    p->mla_latent = latent;
    p->weights += (uint64_t)cl.n_layers * vkg_mla_kbt_bytes(&cl);
    plan_kv(&cl, p);
    plan_scratch(&cl, dev, p);
    p->total = p->weights + p->kv + p->scratch;
    uint64_t one =
        i->max_buffer_size < i->max_memory_allocation_size ? i->max_buffer_size : i->max_memory_allocation_size;
    if (p->largest > one)
        return vkg_error(
            VKG_ERR_LIMIT,
            "%s: '%s' needs %.1f MiB in one buffer, more than the device allows "
            "(maxBufferSize %.0f MiB, maxMemoryAllocationSize %.0f MiB): use a smaller --weights (q8_0, q4)",
            r->dir, r->largest_tensor, mib(p->largest), mib(i->max_buffer_size), mib(i->max_memory_allocation_size));
    if (p->kv_layer_pool > i->max_storage_buffer_range)
        return vkg_error(VKG_ERR_LIMIT,
                         "%s: -c %u x --n-samples %u: one layer's KV cache pool is %.1f MiB, more "
                         "than maxStorageBufferRange %.0f MiB (one binding): lower -c or --n-samples",
                         r->dir, p->ctx, p->n_seqs, mib(p->kv_layer_pool), mib(i->max_storage_buffer_range));
    if (p->largest_scratch > one)
        return vkg_error(VKG_ERR_LIMIT,
                         "%s: a scratch buffer of %.1f MiB (%u tokens per step, %u sequences) is more "
                         "than maxBufferSize %.0f MiB: lower --n-samples",
                         r->dir, mib(p->largest_scratch), p->batch, p->n_seqs, mib(one));
    if (p->total > p->heap)
        return vkg_error(VKG_ERR_DEVICE_OOM,
                         "%s: needs %.1f MiB of device memory (weights %.1f MiB, KV cache %.1f MiB "
                         "for -c %u x --n-samples %u, scratch %.1f MiB), the device's largest heap holds %.1f MiB: "
                         "lower -c, --n-samples or --weights",
                         r->dir, mib(p->total), mib(p->weights), mib(p->kv), p->ctx, p->n_seqs, mib(p->scratch),
                         mib(p->heap));
    return VKG_OK;
}

/* KV floats per token and layer: every head's k and v over the latent's [kv_lora | k_pe] (V is its
 * first kv_lora: kv_cache.h v_in_k). */
static double mla_saving(const struct vkg_hf_config *c)
{
    double heads = (double)c->n_heads * (c->qk_nope_head_dim + c->qk_rope_head_dim + c->v_head_dim);
    double latent = (double)c->kv_lora_rank + c->qk_rope_head_dim;
    return latent > 0 ? heads / latent : 0;
}

enum vkg_status vkg_model_plan(const struct vkg_model_report *r, const struct vkg_device *dev,
                               const struct vkg_plan_request *q, struct vkg_model_plan *p)
{
    int can = vkg_mla_latent(&r->cfg, dev);
    /* the latent first where forced, or where it saves at least VKG_MLA_LATENT_MIN_SAVING of the KV
     * (every published DeepSeek-V2 shape: 8.9x); else every head's k and v first. Either way the other
     * form when the first does not
     * fit and it does. */
    int first = can == 2 || (can == 1 && mla_saving(&r->cfg) >= VKG_MLA_LATENT_MIN_SAVING);
    enum vkg_status s = plan_form(r, dev, q, p, first);
    if (s == VKG_OK || !can || can == 2 || (s != VKG_ERR_LIMIT && s != VKG_ERR_DEVICE_OOM)) return s;
    char why[512];
    snprintf(why, sizeof why, "%s", vkg_error_detail());
    struct vkg_model_plan kept = *p;
    if (plan_form(r, dev, q, p, !first) == VKG_OK) return VKG_OK;
    *p = kept;
    return vkg_error(s, "%s", why);
}
