/* model.h — a Hugging Face model directory on the device: config, weights,
 * and one forward pass per architecture (runtime/models/).
 *
 *   vkg_model_load(dev, "dir", &opts, &m);
 *   vkg_kv_create(...) from vkg_model_kv_config(m, ...);
 *   vkg_model_forward(m, kv, &batch, logits);   // one step: prefill or decode
 */
#ifndef VKG_MODEL_H
#define VKG_MODEL_H

#include <stdint.h>

#include "hf_config.h"
#include "kv_cache.h"
#include "safetensors.h"
#include "weights.h"

/* One forward step over n tokens of any sequences (host arrays). */
struct vkg_batch {
    uint32_t n;               /* tokens in this step */
    const int32_t *ids;       /* [n] token ids */
    const int32_t *seq;       /* [n] KV-cache sequence of each token */
    const int32_t *pos;       /* [n] absolute position of each token */
    const uint8_t *want;      /* [n] 1 = return this token's logits; NULL = all */
};

/* Activations of one step, grown on demand ([n_tok][...] f32 each). */
struct vkg_acts {
    uint32_t cap;                     /* tokens they hold */
    uint32_t out_cap;                 /* rows of logits they hold */
    struct vkg_buffer *res;           /* [cap][hidden] residual stream */
    struct vkg_buffer *h;             /* [cap][hidden] normed input of a block */
    struct vkg_buffer *delta;         /* [cap][hidden] block output before the residual add */
    struct vkg_buffer *q, *k, *v;     /* [cap][heads*dk], [cap][kv_heads*dk], [cap][kv_heads*dv] */
    struct vkg_buffer *attn;          /* [cap][heads*dv] */
    struct vkg_buffer *gate, *up, *ff;/* [cap][ffn width] */
    struct vkg_buffer *lat;           /* MLA latents / scratch [cap][lat] */
    struct vkg_buffer *attn_scratch;  /* split-K partials */
    struct vkg_buffer *moe;           /* MoE workspace */
    struct vkg_buffer *rows;          /* [cap][hidden] rows whose logits are wanted */
    struct vkg_buffer *logits;        /* [cap][vocab or num_labels] */
    struct vkg_buffer *ids, *tokens, *pos; /* host-visible inputs: [cap] int32, [cap]{seq,pos}, [cap] */
};

struct vkg_model {
    struct vkg_device *dev;
    struct vkg_hf_config cfg;
    struct vkg_safetensors *st;
    struct vkg_weights *w;
    struct vkg_buffer *inv_freq;      /* [rope dim / 2] f32 */
    float rope_attn_factor;           /* YaRN attention factor on cos/sin (1 otherwise) */
    uint32_t out_dim;                 /* vocab_size, or num_labels for a classifier */
    struct vkg_acts a;
    struct vkg_cmd *cmd;
    uint64_t step_kv_len;             /* longest sequence attended in the current step */
    void *arch_state;                 /* an architecture's own device state (qwen3_moe_mixtral.c: stacked experts) */
    void (*arch_free)(struct vkg_model *m); /* frees arch_state; called by vkg_model_free */
};

struct vkg_model_opts {
    enum vkg_dtype weights;           /* VKG_DTYPE_UNKNOWN: as stored */
    void (*progress)(void *user, uint64_t done, uint64_t total);
    void *user;
};

enum vkg_status vkg_model_load(struct vkg_device *dev, const char *dir, const struct vkg_model_opts *opts,
                               struct vkg_model **out);
void vkg_model_free(struct vkg_model *m);

/* KV cache shape for this model (heads and head sizes it caches). */
struct vkg_kv_config vkg_model_kv_config(const struct vkg_model *m, uint32_t max_seqs, uint32_t max_seq_len);

/* Runs one step; KV pages for every token must be reserved (vkg_kv_reserve).
 * logits: host [n_wanted][out_dim] in token order, or NULL. */
enum vkg_status vkg_model_forward(struct vkg_model *m, struct vkg_kv_cache *kv, const struct vkg_batch *b,
                                  float *logits);

/* The same step recorded into m->cmd but not submitted, so a caller can add
 * its own work on m->a.logits ([n_out][out_dim]) to the same submission
 * (generation samples there) and then vkg_cmd_submit_wait(m->cmd). */
enum vkg_status vkg_model_record(struct vkg_model *m, struct vkg_kv_cache *kv, const struct vkg_batch *b,
                                 uint32_t *n_out);

/* A weight by name (NULL when absent); *_req fails with a message naming it. */
const struct vkg_weight *vkg_model_weight(const struct vkg_model *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum vkg_status vkg_model_weight_req(const struct vkg_model *m, const struct vkg_weight **out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Per-architecture step recorders (runtime/models/): record the whole step into m->cmd,
 * leaving the selected rows' outputs in m->a.logits. */
enum vkg_status vkg_arch_llama_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n, uint32_t n_out);
enum vkg_status vkg_arch_moe_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n, uint32_t n_out);
enum vkg_status vkg_arch_deepseek2_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n, uint32_t n_out);
enum vkg_status vkg_arch_gemma2_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n, uint32_t n_out);

/* qwen3_moe_mixtral.c: stacks the per-expert weights of Qwen3-MoE / Mixtral into one
 * device buffer per layer and matrix (done by the first forward; idempotent),
 * and the bytes of the MoE workspace m->a.moe for cap tokens (16 otherwise). */
enum vkg_status vkg_model_prepare_moe(struct vkg_model *m);
uint64_t vkg_model_moe_workspace_bytes(const struct vkg_model *m, uint32_t cap);

#endif
