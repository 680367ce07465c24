/* check_config.c — config.json values bounded and cross-checked before any
 * allocation (check.h). hf_config.c parses and applies the transformers
 * defaults; this file decides whether the result is something the kernels
 * can run and the checkpoint agrees with. */
#include <math.h>
#include <stdint.h>

#include "check_internal.h"
#include "push_attention.h"
#include "push_moe.h"

#define P(cond, ...) ((cond) ? 1 : (vkg_check_problem(r, VKG_ERR_CONFIG, __VA_ARGS__), 0))

static int finite_pos(double x) { return isfinite(x) && x > 0.0; }

/* The attention kernel's head sizes: multiples of 4, at most VKG_ATTN_DMAX. */
static int head_size_ok(uint32_t d) { return d && d % 4 == 0 && d <= VKG_ATTN_DMAX; }

/* Heads, head sizes and the attention scale of the forward passes. */
static void check_attention(struct vkg_model_report *r, const char *f)
{
    const struct vkg_hf_config *c = &r->cfg;
    P(c->n_kv_heads && c->n_heads % c->n_kv_heads == 0,
      "%s: num_attention_heads %u is not a multiple of num_key_value_heads %u", f, c->n_heads, c->n_kv_heads);
    if (c->arch == VKG_ARCH_DEEPSEEK_V2) {
        uint32_t dk = c->qk_nope_head_dim + c->qk_rope_head_dim;
        P(head_size_ok(dk) && head_size_ok(c->v_head_dim),
          "%s: qk_nope_head_dim + qk_rope_head_dim = %u and v_head_dim %u: the attention kernel needs multiples of "
          "4, at most %u",
          f, dk, c->v_head_dim, VKG_ATTN_DMAX);
        P(c->kv_lora_rank > 0, "%s: kv_lora_rank must be > 0", f);
    } else {
        P(head_size_ok(c->head_dim), "%s: head_dim %u: the attention kernel needs a multiple of 4, at most %u", f,
          c->head_dim, VKG_ATTN_DMAX);
    }
    P(finite_pos(c->attn_scale), "%s: the attention scale %g (head_dim / query_pre_attn_scalar) must be > 0", f,
      c->attn_scale);
    P(isfinite(c->attn_logit_softcapping) && c->attn_logit_softcapping >= 0.0 && isfinite(c->final_logit_softcapping) &&
          c->final_logit_softcapping >= 0.0,
      "%s: attn_logit_softcapping %g and final_logit_softcapping %g must be >= 0 (0: off)", f,
      c->attn_logit_softcapping, c->final_logit_softcapping);
    int any_sliding = 0;
    for (uint32_t l = 0; c->layer_sliding && l < c->n_layers; l++) any_sliding |= c->layer_sliding[l];
    P(!any_sliding || c->sliding_window > 0, "%s: sliding-window layers with sliding_window 0", f);
}

/* RoPE: the rotated dims, theta and the scaling of the type. */
static void check_rope(struct vkg_model_report *r, const char *f)
{
    const struct vkg_hf_config *c = &r->cfg;
    const struct vkg_rope *p = &c->rope;
    uint32_t head = c->arch == VKG_ARCH_DEEPSEEK_V2 ? c->qk_rope_head_dim : c->head_dim;
    const char *what = c->arch == VKG_ARCH_DEEPSEEK_V2 ? "qk_rope_head_dim" : "head_dim * partial_rotary_factor";
    P(p->dim > 0 && p->dim % 2 == 0 && p->dim <= head, "%s: %s = %u rotated dims: must be even, > 0 and <= %u", f, what,
      p->dim, head);
    P(finite_pos(p->theta), "%s: rope_theta %g must be > 0", f, p->theta);
    P(c->max_position_embeddings > 0, "%s: max_position_embeddings must be > 0", f);
    if (p->type == VKG_ROPE_DEFAULT) return;
    P(finite_pos(p->factor), "%s: rope_scaling factor %g must be > 0", f, p->factor);
    if (p->type == VKG_ROPE_LLAMA3 || p->type == VKG_ROPE_YARN)
        P(p->original_max_position_embeddings > 0, "%s: rope_scaling original_max_position_embeddings must be > 0", f);
    if (p->type == VKG_ROPE_LLAMA3)
        P(finite_pos(p->low_freq_factor) && isfinite(p->high_freq_factor) && p->low_freq_factor < p->high_freq_factor,
          "%s: rope_scaling llama3: low_freq_factor %g must be > 0 and < high_freq_factor %g", f, p->low_freq_factor,
          p->high_freq_factor);
    if (p->type == VKG_ROPE_YARN)
        P(isfinite(p->beta_fast) && isfinite(p->beta_slow) && finite_pos(p->attention_factor),
          "%s: rope_scaling yarn: beta_fast %g, beta_slow %g and attention_factor %g must be finite (the factor > 0)",
          f, p->beta_fast, p->beta_slow, p->attention_factor);
}

/* Experts and routing within what the MoE kernels take. Returns 0 when the
 * expert count is out of range (it bounds the tensor list). */
static int check_moe(struct vkg_model_report *r, const char *f)
{
    const struct vkg_hf_config *c = &r->cfg;
    int any_moe = 0, any_dense = 0;
    for (uint32_t l = 0; c->layer_moe && l < c->n_layers; l++)
        any_moe |= c->layer_moe[l], any_dense |= !c->layer_moe[l];
    if (!c->layer_moe) any_dense = 1;
    P(!any_dense || c->intermediate_size > 0, "%s: intermediate_size must be > 0", f);
    if (!any_moe) return 1;
    int ok = P(c->n_experts <= VKG_MOE_MAX_EXPERTS, "%s: %u experts: the MoE kernels take at most %u", f, c->n_experts,
               VKG_MOE_MAX_EXPERTS);
    P(c->n_experts_per_tok >= 1 && c->n_experts_per_tok <= VKG_MOE_MAX_K && c->n_experts_per_tok <= c->n_experts,
      "%s: num_experts_per_tok %u must be in 1..min(%u, %u experts)", f, c->n_experts_per_tok, VKG_MOE_MAX_K,
      c->n_experts);
    P(c->moe_intermediate_size > 0, "%s: the expert width (moe_intermediate_size) must be > 0", f);
    if (c->arch != VKG_ARCH_DEEPSEEK_V2) return ok;
    if (c->topk_method == VKG_MOE_TOPK_NOAUX_TC)
        vkg_check_problem(r, VKG_ERR_UNSUPPORTED, "%s: topk_method noaux_tc is DeepSeek-V3 routing, not DeepSeek-V2",
                          f);
    if (c->topk_method == VKG_MOE_TOPK_GROUP_LIMITED && c->n_group > 1)
        P(c->n_group <= VKG_MOE_MAX_GROUPS && c->n_experts % c->n_group == 0 && c->topk_group >= 1 &&
              c->topk_group <= c->n_group,
          "%s: n_group %u / topk_group %u for %u experts: need n_group <= %u dividing the experts, 1 <= topk_group "
          "<= n_group",
          f, c->n_group, c->topk_group, c->n_experts, VKG_MOE_MAX_GROUPS);
    P(finite_pos(c->routed_scaling_factor), "%s: routed_scaling_factor %g must be > 0", f, c->routed_scaling_factor);
    return ok;
}

/* vocab_size against the tokenizer and the special ids of both configs. */
static void check_vocab(struct vkg_model_report *r, const char *f)
{
    const struct vkg_hf_config *c = &r->cfg;
    P(c->vocab_size <= INT32_MAX, "%s: vocab_size %u is larger than a token id can be", f, c->vocab_size);
    if (r->tokenizer_ids > c->vocab_size)
        vkg_check_problem(r, VKG_ERR_CONFIG,
                          "%s: vocab_size %u, but tokenizer.json produces ids up to %zu (%zu "
                          "tokens): those would have no embedding row",
                          f, c->vocab_size, r->tokenizer_ids - 1, r->tokenizer_ids);
    P(c->bos_token_id < (int64_t)c->vocab_size, "%s: bos_token_id %d >= vocab_size %u", f, c->bos_token_id,
      c->vocab_size);
    for (uint32_t i = 0; i < c->n_eos; i++)
        P(c->eos_token_ids[i] < (int64_t)c->vocab_size, "%s: eos_token_id %d >= vocab_size %u", f, c->eos_token_ids[i],
          c->vocab_size);
    const struct vkg_generation_config *g = &r->gen;
    if (!g->present) return;
    P(g->bos_token_id < (int64_t)c->vocab_size, "%s/generation_config.json: bos_token_id %d >= vocab_size %u", r->dir,
      g->bos_token_id, c->vocab_size);
    for (uint32_t i = 0; i < g->n_eos; i++)
        P(g->eos_token_ids[i] < (int64_t)c->vocab_size, "%s/generation_config.json: eos_token_id %d >= vocab_size %u",
          r->dir, g->eos_token_ids[i], c->vocab_size);
}

int vkg_check_config(struct vkg_model_report *r, const char *f)
{
    const struct vkg_hf_config *c = &r->cfg;
    int ok = 1;
    if (r->st && r->layers_in_files != c->n_layers) {
        if (r->layers_in_files)
            vkg_check_problem(r, VKG_ERR_CONFIG,
                              "%s: num_hidden_layers %u, but the checkpoint holds layers 0..%u "
                              "(%u)",
                              f, c->n_layers, r->layers_in_files - 1, r->layers_in_files);
        else
            vkg_check_problem(r, VKG_ERR_CONFIG,
                              "%s: num_hidden_layers %u, but the checkpoint holds no "
                              "model.layers.N tensors",
                              f, c->n_layers);
    }
    P(finite_pos(c->rms_norm_eps), "%s: rms_norm_eps %g must be > 0", f, c->rms_norm_eps);
    if (c->act == VKG_ACT_GELU)
        vkg_check_problem(r, VKG_ERR_UNSUPPORTED,
                          "%s: hidden_act 'gelu' (erf) MLPs are not implemented "
                          "(silu, gelu_pytorch_tanh are)",
                          f);
    P(!c->seq_cls || c->num_labels >= 1, "%s: num_labels must be >= 1", f);
    check_attention(r, f);
    check_rope(r, f);
    ok &= check_moe(r, f);
    check_vocab(r, f);
    return ok;
}
