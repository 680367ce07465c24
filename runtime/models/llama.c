/* llama.c — the dense decoder of Llama, Qwen2 (q/k/v bias) and Qwen3
 * (RMSNorm over each q and k head), as transformers' modeling_llama.py,
 * modeling_qwen2.py and modeling_qwen3.py compute it. One step, read top to
 * bottom; the blocks are blocks.c's, the weights m->layers (spec.c lists them). */
#include "blocks.h"
#include "vk_check.h"

enum vkg_status vkg_arch_llama_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n)
{
    const enum vkg_rmsnorm_kind plain = VKG_RMSNORM_PLAIN;
    /* token embeddings into the residual stream: res = embed_tokens[ids] */
    VKG_TRY(vkg_arch_embed(m, n, 1.0f));
    /* h = input_layernorm(res) of layer 0 */
    VKG_TRY(vkg_arch_norm(m, m->layers[0].attn_norm, n, plain));
    for (uint32_t l = 0; l < m->cfg.n_layers; l++) {
        const struct vkg_layer *L = &m->layers[l];
        /* self-attention(h): q/k/v (+ bias), q/k norm, RoPE, KV cache, o_proj;
         * res += o_proj's output; h = post_attention_layernorm(res) */
        VKG_TRY(vkg_arch_attention(m, kv, L, l, n, L->ffn_norm));
        /* res += down(silu(gate(h)) * up(h)); h = the next input_layernorm(res), or the final norm */
        VKG_TRY(vkg_arch_mlp(m, &L->mlp, n, l + 1 < m->cfg.n_layers ? m->layers[l + 1].attn_norm : m->norm));
    }
    return VKG_OK;
}
