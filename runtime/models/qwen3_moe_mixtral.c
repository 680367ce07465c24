/* qwen3_moe_mixtral.c — the sparse Mixture-of-Experts decoders, as in transformers'
 * modeling_qwen3_moe.py and modeling_mixtral.py. One step, read top to bottom.
 *
 *   Qwen3-MoE  Qwen3 attention (RMSNorm over each q and k head); layers that
 *              cfg.layer_moe marks (decoder_sparse_step, minus mlp_only_layers)
 *              route through mlp.gate to mlp.experts.E.{gate,up,down}_proj, the
 *              others run the dense mlp.{gate,up,down}_proj.
 *   Mixtral    Llama attention; every layer routes through block_sparse_moe.gate
 *              to block_sparse_moe.experts.E.{w1 (gate), w3 (up), w2 (down)}.
 *
 * Routing: softmax over all experts, top-k, renormalised to sum 1 when
 * norm_topk_prob (always for Mixtral: the same as a softmax over the top-k
 * logits). It stays on the GPU: the router, top-k, grouping by expert, the
 * expert FFN and the weighted sum are recorded with barriers and the expert
 * kernels read the ids themselves (ops_moe.h); nothing is read back.
 *
 * The checkpoint holds one tensor per expert; the load streams them straight
 * into one stacked buffer per layer and matrix (L->experts, model.c). The
 * workspace layout and the routed block are moe.c's, shared with
 * DeepSeek-V2 (deepseek2.c). */
#include "blocks.h"
#include "moe.h"
#include "vk_check.h"

/* delta[t] = sum_j weight[t][j] * expert_{id[t][j]}(h[t]): softmax over all
 * experts -> top-k ids and weights (renormalised when norm_topk_prob). */
static enum vkg_status sparse_moe(struct vkg_model *m, const struct vkg_layer *L, uint32_t n,
                                  const struct vkg_weight *norm)
{
    const struct vkg_hf_config *c = &m->cfg;
    const struct vkg_moe_router r = {
        .n_exp = c->n_experts, .k = c->n_experts_per_tok, .sigmoid = 0, .norm = c->norm_topk_prob, .scale = 1.0f
    };
    return vkg_moe_routed(m, L->router, &r, &L->experts.w, n, 0, norm);
}

enum vkg_status vkg_arch_moe_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n)
{
    const enum vkg_rmsnorm_kind plain = VKG_RMSNORM_PLAIN;
    /* token embeddings into the residual stream: res = embed_tokens[ids] */
    VKG_TRY(vkg_arch_embed(m, n, 1.0f));
    /* h = input_layernorm(res) of layer 0 */
    VKG_TRY(vkg_arch_norm(m, m->layers[0].attn_norm, n, plain));
    for (uint32_t l = 0; l < m->cfg.n_layers; l++) {
        const struct vkg_layer *L = &m->layers[l];
        const struct vkg_weight *next = l + 1 < m->cfg.n_layers ? m->layers[l + 1].attn_norm : m->norm;
        /* self-attention(h): q/k/v, Qwen3 q/k norm, RoPE, KV cache, o_proj;
         * res += o_proj's output; h = post_attention_layernorm(res) */
        VKG_TRY(vkg_arch_attention(m, kv, L, l, n, L->ffn_norm));
        /* the routed experts on sparse layers, the dense MLP on mlp_only_layers; res += their
         * output, h = the next input_layernorm(res) or the final norm */
        if (L->moe) {
            VKG_TRY(sparse_moe(m, L, n, next));
        } else {
            VKG_TRY(vkg_arch_mlp(m, &L->mlp, n, next));
        }
    }
    return VKG_OK;
}
