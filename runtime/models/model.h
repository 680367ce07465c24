/* model.h — a Hugging Face model directory on the device: config, weights
 * resolved into per-layer structs, and one forward function per architecture
 * (runtime/models/).
 *
 *   vkg_model_load(dev, "dir", &opts, &m);     // checks the whole model first (check.h)
 *   vkg_kv_create(...) from vkg_model_kv_config(m, ...);
 *   vkg_model_forward(m, kv, &batch, logits);   // one step: prefill or decode
 *
 * Loading runs vkg_model_check (config, generation config, tokenizer, every
 * tensor against the shapes the config implies) and vkg_model_plan (the device
 * memory for the weights, the KV cache and the scratch of the requested
 * context) before it allocates anything; then it streams the weights in and
 * fills m->layers once, so a forward pass reads L->wq like llama2.c reads
 * w->wq: no lookup by name while recording a step. */
#ifndef VKG_MODEL_H
#define VKG_MODEL_H

#include <stdint.h>

#include "hf_config.h"
#include "kv_cache.h"
#include "ops_moe.h"
#include "safetensors.h"
#include "weights.h"

struct vkg_tokenizer;

/* One forward step over n tokens of any sequences (host arrays). */
struct vkg_batch {
    uint32_t n;          /* tokens in this step */
    const int32_t *ids;  /* [n] token ids */
    const int32_t *seq;  /* [n] KV-cache sequence of each token */
    const int32_t *pos;  /* [n] absolute position of each token */
    const uint8_t *want; /* [n] 1 = return this token's logits; NULL = all */
};

/* Activations of one step, grown on demand ([n_tok][...] f32 each). */
struct vkg_acts {
    uint32_t cap;                          /* tokens they hold */
    uint32_t out_cap;                      /* rows of logits they hold */
    struct vkg_buffer *res;                /* [cap][hidden] residual stream */
    struct vkg_buffer *h;                  /* [cap][hidden] normed input of a block */
    struct vkg_buffer *delta;              /* [cap][hidden] block output before the residual add */
    struct vkg_buffer *q, *k, *v;          /* [cap][heads*dk], [cap][kv_heads*dk], [cap][kv_heads*dv] */
    struct vkg_buffer *attn;               /* [cap][heads*dv] */
    struct vkg_buffer *gate, *up, *ff;     /* [cap][ffn width] */
    struct vkg_buffer *lat;                /* MLA latents / scratch [cap][lat] */
    struct vkg_buffer *attn_scratch;       /* split-K partials */
    struct vkg_buffer *moe;                /* MoE workspace (moe.h vkg_moe_ws_layout) */
    struct vkg_buffer *rows;               /* [cap][hidden] rows whose logits are wanted */
    struct vkg_buffer *logits;             /* [cap][vocab or num_labels] */
    struct vkg_buffer *ids, *tokens, *pos; /* host-visible inputs: [cap] int32, [cap]{seq,pos}, [cap] */
    struct vkg_buffer *counters;           /* arrival counters of vkg_op_matmul_add_norm, zeros between launches */
    struct vkg_buffer *xq;                 /* XQ8 (use.xq8): x of a Q4_K matmul in 8 bits (vkg_matmul_args.xq) */
};

/* Projections of one input stacked in one buffer at load (q|k|v, gate|up),
 * so that a CPU driver's texel tier computes them in one launch
 * (vkg_op_matmul_fused); the parts' own vkg_weight views are slices of it.
 * w.buf NULL: not stacked (other tiers, mixed dtypes, too large). */
struct vkg_fused {
    struct vkg_buffer *w_buf, *b_buf; /* owned; b_buf NULL without biases */
    struct vkg_view w, b;             /* [sum of rows][n_in], [sum of rows] f32 */
    enum vkg_dtype dtype;
    uint32_t n_in, n_parts, rows[3];
    int tiled; /* its parts stored in 8-row tiles by the loader (vkg_matmul_fused_args.w_tiled) */
};

/* A gated MLP (SwiGLU / GeGLU): down(act(gate(h)) * up(h)). Biases NULL unless the config says. */
struct vkg_mlp_weights {
    const struct vkg_weight *gate, *up;     /* [ffn][hidden] */
    const struct vkg_weight *down;          /* [hidden][ffn] */
    const struct vkg_weight *gate_b, *up_b; /* [ffn] */
    const struct vkg_weight *down_b;        /* [hidden] */
    struct vkg_fused gate_up;               /* gate|up stacked (CPU drivers) */
};

/* The routed experts of one MoE layer, stacked on the device at load:
 * the checkpoint's per-expert tensors are streamed straight into slices. */
struct vkg_moe_stack {
    struct vkg_buffer *gate, *up; /* [n_exp][n_ff][hidden] */
    struct vkg_buffer *down;      /* [n_exp][hidden][n_ff] */
    struct vkg_moe_weights w;     /* views of the three, dtype and shape (ops_moe.h) */
    uint64_t slice_bytes[3];      /* one expert's gate, up, down (device bytes) */
};

/* Every weight of one decoder layer, resolved once at load (NULL: not in this
 * architecture or config). Shapes were checked against the config (check.h);
 * H heads, KV kv heads, hd head_dim, d hidden_size. */
struct vkg_layer {
    /* norms [d], F32 */
    const struct vkg_weight *attn_norm;      /* input_layernorm: before attention */
    const struct vkg_weight *ffn_norm;       /* before the MLP: post_attention_layernorm
                                                (Gemma-2: pre_feedforward_layernorm) */
    const struct vkg_weight *attn_post_norm; /* Gemma-2 post_attention_layernorm (on the attention output) */
    const struct vkg_weight *ffn_post_norm;  /* Gemma-2 post_feedforward_layernorm (on the MLP output) */
    /* attention: q [H*hd][d] (DeepSeek-V2 without q_lora: [H*(nope+rope)][d]), k/v [KV*hd][d], o [d][H*hd] */
    const struct vkg_weight *wq, *wk, *wv, *wo;
    const struct vkg_weight *bq, *bk, *bv, *bo; /* biases (Qwen2 q/k/v; attention_bias) */
    const struct vkg_weight *q_norm, *k_norm;   /* Qwen3 per-head RMSNorm [hd] */
    struct vkg_fused qkv;                       /* q|k|v stacked (CPU drivers) */
    /* DeepSeek-V2 multi-head latent attention (wq: q_proj, or q_b_proj [H*(nope+rope)][q_lora]) */
    const struct vkg_weight *wq_a, *bq_a;   /* q_a_proj [q_lora][d] */
    const struct vkg_weight *q_a_norm;      /* q_a_layernorm [q_lora] */
    const struct vkg_weight *wkv_a, *bkv_a; /* kv_a_proj_with_mqa [kv_lora + rope][d] */
    const struct vkg_weight *kv_a_norm;     /* kv_a_layernorm [kv_lora] */
    const struct vkg_weight *wkv_b;         /* kv_b_proj [H*(nope + v)][kv_lora] */
    struct vkg_buffer *kbt;                 /* MLA latent (cfg.mla_latent_kv): [H][kv_lora][nope] F32, each head's
                                               k_nope rows of kv_b_proj transposed (q absorbs them) */
    /* feed-forward: the dense MLP, or (moe) the router and the stacked experts */
    int moe;                         /* 1: routed experts (cfg.layer_moe) */
    struct vkg_mlp_weights mlp;      /* dense layers */
    const struct vkg_weight *router; /* [n_exp][d] */
    struct vkg_moe_stack experts;    /* [n_exp] gate, up, down */
    struct vkg_mlp_weights shared;   /* DeepSeek-V2 shared experts */
};

struct vkg_model {
    struct vkg_device *dev;
    struct vkg_hf_config cfg;
    struct vkg_weights *w;          /* every tensor of the checkpoint on the device */
    const struct vkg_weight *embed; /* model.embed_tokens.weight [vocab][d] */
    const struct vkg_weight *norm;  /* model.norm.weight [d] */
    const struct vkg_weight *head;  /* lm_head [vocab][d], score [num_labels][d], or embed (tied) */
    struct vkg_layer *layers;       /* [cfg.n_layers] */
    struct vkg_buffer *inv_freq;    /* [rope dim / 2] f32 */
    float rope_attn_factor;         /* YaRN attention factor on cos/sin (1 otherwise) */
    uint32_t out_dim;               /* vocab_size, or num_labels for a classifier */
    struct vkg_acts a;
    struct vkg_cmd *cmd;
    uint64_t step_kv_len;     /* longest sequence attended in the current step */
    int step_token_runs;      /* the step's tokens come in runs of one sequence (vkg_attn_params.token_runs) */
    uint32_t step_prefix_len; /* > 0: the step's sequences share this many leading tokens' pages: cascade
                                 attention reads them once (vkg_arch_attend) */
    uint64_t cascade_steps;   /* steps recorded with step_prefix_len > 0 (tests, --profile) */
};

/* What a caller will run, so that the memory plan (plan.h) covers it before
 * anything is allocated: 0 fields take the defaults. */
struct vkg_model_opts {
    enum vkg_dtype weights; /* VKG_DTYPE_UNKNOWN: as stored (--weights) */
    uint32_t ctx;           /* tokens per sequence (-c); 0: no KV cache planned */
    uint32_t n_seqs;        /* sequences at once (--n-samples); 0: 1 */
    uint32_t batch;         /* tokens per step (prefill chunk); 0: 512 */
    void (*progress)(void *user, uint64_t done, uint64_t total);
    const struct vkg_tokenizer *tokenizer;     /* the caller's tokenizer of dir, if loaded (its ids are checked
                                              against vocab_size); NULL: dir/tokenizer.json is loaded to check */
    void (*note)(void *user, const char *msg); /* load notes (kept dtypes, ignored tensors); NULL: stderr */
    void *user;
};

enum vkg_status vkg_model_load(struct vkg_device *dev, const char *dir, const struct vkg_model_opts *opts,
                               struct vkg_model **out);
void vkg_model_free(struct vkg_model *m);

/* Whether DeepSeek-V2 can cache the MLA latent on this device ([kv_lora | k_pe] per token, one KV head,
 * V its first kv_lora: 8.9x less than every head's k and v for V2-Lite) with kv_b_proj absorbed into q
 * and o: attn_lane (dev->use.mla_latent) and sizes it takes. 0: no, 1: the memory plan decides (plan.h:
 * where it saves at least 3x of the KV, or where every head's k and v would not fit), 2: always
 * (VKGRM_MLA_LATENT=1).
 * vkg_model_load sets cfg.mla_latent_kv from the plan. */
int vkg_mla_latent(const struct vkg_hf_config *c, const struct vkg_device *dev);
/* Device bytes of the per-layer transposed k_nope rows of kv_b_proj (0 unless cfg.mla_latent_kv). */
uint64_t vkg_mla_kbt_bytes(const struct vkg_hf_config *c);
struct vkg_matmul_args;
/* Rows [row0, row0 + rows) of w as the weight of a matmul (w, wt, n_out, n_in, w_tiled of *a). */
enum vkg_status vkg_mla_rows(const struct vkg_weight *w, uint64_t row0, uint64_t rows, struct vkg_matmul_args *a);

/* KV cache shape of a config (heads and head sizes it caches), and of a model. */
struct vkg_kv_config vkg_kv_config_of(const struct vkg_hf_config *c, uint32_t max_seqs, uint32_t max_seq_len);
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

/* One forward function per architecture (runtime/models/): records the whole
 * step into m->cmd, leaving the final-normed hidden states in m->a.h. */
enum vkg_status vkg_arch_llama_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n);
enum vkg_status vkg_arch_moe_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n);
enum vkg_status vkg_arch_deepseek2_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n);
enum vkg_status vkg_arch_gemma2_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n);

#endif
