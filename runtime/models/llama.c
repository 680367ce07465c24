/* llama.c — the dense decoder of Llama, Qwen2 (q/k/v bias) and Qwen3
 * (RMSNorm over each q and k head), as in transformers' modeling_llama.py,
 * modeling_qwen2.py and modeling_qwen3.py: the pre-norm trunk of
 * blocks.c (embeddings -> per layer: input norm, self-attention,
 * residual, post-attention norm, SwiGLU MLP, residual -> final norm) with the
 * standard attention block and a dense MLP on every layer. */
#include "blocks.h"

static const struct vkg_decoder LLAMA_DECODER = {
    .prepare = NULL,                 /* nothing to make on the device */
    .attention = vkg_arch_attention, /* GQA, Qwen2 bias, Qwen3 q/k norm, RoPE */
    .moe = NULL,                     /* dense: every layer runs the MLP */
    .mlp = vkg_arch_mlp,             /* down(silu(gate(h)) * up(h)) */
};

enum vkg_status vkg_arch_llama_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n, uint32_t n_out)
{
    return vkg_arch_trunk(m, kv, n, &LLAMA_DECODER);
}
