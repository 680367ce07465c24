/* hf_config.h — Hugging Face config.json / generation_config.json → host structs.
 *
 * vkg_hf_config_load() reads <model_dir>/config.json for the architectures we
 * serve and fills every field that changes the math. A field that is absent
 * (or null) takes the default of the transformers configuration class of that
 * model (transformers 5.x, models/<family>/configuration_<family>.py), so a
 * config written by an older or newer exporter means the same thing here as in
 * Python. Derived per-layer facts (which layers use a sliding window, which
 * layers are MoE) and the attention softmax scale are computed once here so
 * that every forward pass reads them instead of re-deriving family rules.
 *
 * Required keys (error VKG_ERR_CONFIG naming the key and the file when absent):
 * architectures, vocab_size, hidden_size, num_hidden_layers,
 * num_attention_heads, intermediate_size; Qwen3-MoE also num_experts (or
 * num_local_experts) and moe_intermediate_size; DeepSeek-V2 also
 * n_routed_experts, num_experts_per_tok and moe_intermediate_size.
 * transformers would silently use a 7B-model default for these; a wrong shape
 * is better refused here than discovered as a tensor size mismatch later.
 * Unknown keys are ignored. Where this file follows the DeepSeek reference
 * code rather than transformers 5 (moe_layer_freq, scoring_func, which
 * transformers 5 drops), the field comment says so. */
#ifndef VKG_HF_CONFIG_H
#define VKG_HF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Architecture family: one forward pass each. The class name suffix
 * (ForCausalLM / ForSequenceClassification) is the `seq_cls` flag. */
#define VKG_ARCH_LIST(X)                                 \
    X(VKG_ARCH_LLAMA, "llama", "Llama")                  \
    X(VKG_ARCH_QWEN2, "qwen2", "Qwen2")                  \
    X(VKG_ARCH_QWEN3, "qwen3", "Qwen3")                  \
    X(VKG_ARCH_QWEN3_MOE, "qwen3_moe", "Qwen3Moe")       \
    X(VKG_ARCH_MIXTRAL, "mixtral", "Mixtral")            \
    X(VKG_ARCH_DEEPSEEK_V2, "deepseek_v2", "DeepseekV2") \
    X(VKG_ARCH_GEMMA2, "gemma2", "Gemma2")

enum vkg_arch {
#define VKG_X_ARCH(e, mt, cls) e,
    VKG_ARCH_LIST(VKG_X_ARCH)
#undef VKG_X_ARCH
        VKG_ARCH_COUNT
};

/* RoPE variants of transformers' ROPE_INIT_FUNCTIONS we implement. */
enum vkg_rope_type {
    VKG_ROPE_DEFAULT, /* inv_freq = theta^(-2i/dim) */
    VKG_ROPE_LINEAR,  /* positions divided by factor */
    VKG_ROPE_DYNAMIC, /* NTK: theta grows once seq_len > max_position_embeddings */
    VKG_ROPE_LLAMA3,  /* wavelength-banded scaling (Llama-3.1) */
    VKG_ROPE_YARN,    /* YaRN ramp between interpolation and extrapolation */
};

enum vkg_act {
    VKG_ACT_SILU,      /* "silu" / "swish" */
    VKG_ACT_GELU_TANH, /* "gelu_pytorch_tanh", "gelu_new", "gelu_fast" */
    VKG_ACT_GELU,      /* "gelu" (erf) */
};

enum vkg_moe_scoring { VKG_MOE_SOFTMAX, VKG_MOE_SIGMOID };

enum vkg_moe_topk {
    VKG_MOE_TOPK_GREEDY,        /* plain top-k of the scores */
    VKG_MOE_TOPK_GROUP_LIMITED, /* keep topk_group groups by group max, then top-k */
    VKG_MOE_TOPK_NOAUX_TC,      /* DeepSeek-V3 biased group top-2-sum selection */
};

struct vkg_rope {
    enum vkg_rope_type type;
    double theta;                              /* rope_theta (family default: 10000, Mixtral 1e6) */
    double partial_rotary_factor;              /* fraction of head dims rotated, 1.0 = all */
    uint32_t dim;                              /* rotated dims per head: int(rope_head_dim * partial_rotary_factor);
                                      DeepSeek-V2: qk_rope_head_dim */
    double factor;                             /* linear/dynamic/llama3/yarn scale factor (1.0 for default) */
    uint64_t original_max_position_embeddings; /* llama3/yarn pretraining length
                                      (default: max_position_embeddings) */
    double low_freq_factor;                    /* llama3 (1.0 when unused) */
    double high_freq_factor;                   /* llama3 (4.0 when unused) */
    double beta_fast, beta_slow;               /* yarn ramp bounds (32, 1) */
    double mscale, mscale_all_dim;             /* yarn, 0 = not given */
    double attention_factor;                   /* yarn: multiplier applied to cos/sin, computed from
                                      factor/mscale when not given; 1.0 otherwise */
    bool truncate;                             /* yarn: floor/ceil the correction range (default true) */
};

struct vkg_hf_config {
    /* identity */
    enum vkg_arch arch;
    bool seq_cls;          /* *ForSequenceClassification: score head [num_labels, hidden] */
    char architecture[64]; /* architectures[0], e.g. "Qwen3ForCausalLM" */
    char dtype[16];        /* "dtype" or legacy "torch_dtype" ("" if absent) */

    /* trunk shapes */
    uint32_t vocab_size;        /* rows of embed_tokens / lm_head */
    uint32_t hidden_size;       /* d_model */
    uint32_t intermediate_size; /* dense MLP width (DeepSeek-V2: the first_k_dense layers) */
    uint32_t n_layers;          /* num_hidden_layers */
    uint32_t n_heads;           /* num_attention_heads */
    uint32_t n_kv_heads;        /* num_key_value_heads (default n_heads; GQA when smaller) */
    uint32_t head_dim;          /* per-head q/k/v width: explicit or hidden/heads
                                   (DeepSeek-V2: qk_nope_head_dim + qk_rope_head_dim) */
    uint64_t max_position_embeddings;
    double rms_norm_eps;
    enum vkg_act act;         /* hidden_act (Gemma-2: hidden_activation) */
    bool tie_word_embeddings; /* lm_head shares embed_tokens */
    bool qkv_bias;            /* bias on q/k/v projections (Qwen2: always; DeepSeek-V2:
                                   on q_a_proj and kv_a_proj_with_mqa) */
    bool o_bias;              /* bias on o_proj (attention_bias; Qwen2/Mixtral: never) */
    bool mlp_bias;            /* bias on gate/up/down (Llama mlp_bias) */
    bool qk_norm;             /* RMSNorm over each q and k head before RoPE (Qwen3, Qwen3-MoE) */
    struct vkg_rope rope;

    /* attention */
    double attn_scale;              /* softmax scale: head_dim^-0.5; Gemma-2 query_pre_attn_scalar^-0.5;
                                   DeepSeek-V2 (qk_nope+qk_rope)^-0.5 * yarn mscale(all_dim)^2 */
    uint32_t sliding_window;        /* window length for layers flagged in layer_sliding, 0 = none */
    uint8_t *layer_sliding;         /* [n_layers] 1 = local (sliding-window) attention layer */
    double query_pre_attn_scalar;   /* Gemma-2 (256), 0 for others */
    double attn_logit_softcapping;  /* Gemma-2: tanh(x/c)*c on attention scores, 0 = off */
    double final_logit_softcapping; /* Gemma-2: tanh(x/c)*c on logits, 0 = off */

    /* mixture of experts (0 experts = dense model) */
    uint32_t n_experts;                       /* num_experts / num_local_experts / n_routed_experts */
    uint32_t n_experts_per_tok;               /* top-k */
    uint32_t moe_intermediate_size;           /* width of one routed expert (Mixtral: intermediate_size) */
    uint32_t n_shared_experts;                /* DeepSeek-V2 always-on experts */
    uint32_t shared_expert_intermediate_size; /* total width of the shared MLP
                                      (DeepSeek-V2: n_shared_experts * moe_intermediate_size) */
    bool norm_topk_prob;                      /* renormalize the top-k weights to sum 1 */
    uint32_t decoder_sparse_step;             /* Qwen3-MoE: every Nth layer is MoE */
    uint32_t moe_layer_freq;                  /* DeepSeek-V2: every Nth layer after first_k_dense_replace
                                       (DeepSeek reference code; transformers 5 assumes 1) */
    uint32_t first_k_dense_replace;           /* DeepSeek-V2: first k layers use the dense MLP */
    uint8_t *layer_moe;                       /* [n_layers] 1 = MoE block, 0 = dense MLP */
    enum vkg_moe_scoring scoring;             /* router score function: DeepSeek scoring_func (reference
                                       code key), softmax for every other family */
    enum vkg_moe_topk topk_method;
    uint32_t n_group, topk_group; /* group-limited routing, 0 = not set */
    double routed_scaling_factor; /* multiplies routed expert weights (1.0) */

    /* DeepSeek-V2 multi-head latent attention (all 0 for other families) */
    uint32_t q_lora_rank;      /* 0 = q_proj directly (V2-Lite), else q_a/q_b low rank */
    uint32_t kv_lora_rank;     /* latent KV width cached per token */
    uint32_t qk_nope_head_dim; /* per-head q/k part without RoPE */
    uint32_t qk_rope_head_dim; /* per-head q/k RoPE part (k part shared by all heads) */
    uint32_t v_head_dim;       /* per-head v width */
    /* not from config.json: set by the runtime (vkg_mla_latent) when the KV cache holds the latent
     * form, [kv_lora | k_pe] per token and one KV head, with q and o absorbing kv_b_proj */
    uint8_t mla_latent_kv;

    /* heads and special tokens (-1 = none) */
    uint32_t num_labels; /* num_labels or len(id2label), default 2 */
    int32_t pad_token_id;
    int32_t bos_token_id;
    uint32_t n_eos;
    int32_t eos_token_ids[8]; /* eos_token_id: int or list */
};

/* Parse <model_dir>/config.json into *out (zeroed first). On error *out holds
 * nothing to free and vkg_error_detail() names the file and the key. */
enum vkg_status vkg_hf_config_load(const char *model_dir, struct vkg_hf_config *out);
/* Same, from a JSON text; `name` is used in messages. */
enum vkg_status vkg_hf_config_parse(const char *json, const char *name, struct vkg_hf_config *out);
void vkg_hf_config_free(struct vkg_hf_config *cfg);

/* "qwen3_moe" for VKG_ARCH_QWEN3_MOE. */
const char *vkg_arch_name(enum vkg_arch arch);

/* generation_config.json: sampling defaults that the CLI may override. */
struct vkg_generation_config {
    bool present;         /* the file existed */
    int32_t bos_token_id; /* -1 = not given */
    uint32_t n_eos;
    int32_t eos_token_ids[8];
    int32_t pad_token_id; /* -1 = not given */
    bool do_sample;       /* default false (greedy) */
    double temperature;   /* default 1.0 */
    uint32_t top_k;       /* default 50 (transformers GenerationConfig) */
    double top_p;         /* default 1.0 */
};

/* Read <model_dir>/generation_config.json. A missing file is not an error:
 * *out gets the transformers GenerationConfig defaults with present=false. */
enum vkg_status vkg_generation_config_load(const char *model_dir, struct vkg_generation_config *out);
/* Same, from len bytes of JSON text; `name` is used in messages. A file that
 * is not valid JSON or has a bad value is VKG_ERR_CONFIG naming it. */
enum vkg_status vkg_generation_config_parse(const char *text, size_t len, const char *name,
                                            struct vkg_generation_config *out);

#endif
