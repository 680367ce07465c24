/* arch_llama.c — the dense decoder of Llama, Qwen2 (q/k/v bias) and Qwen3
 * (RMSNorm over each q and k head), as in transformers' modeling_llama.py,
 * modeling_qwen2.py and modeling_qwen3.py. One step, read top to bottom;
 * the attention block and the SwiGLU MLP are in arch_common.c. */
#include "arch_common.h"
#include "ops_norm.h"
#include "vk_check.h"

#define V VKG_V

/* The whole trunk: embeddings -> layers -> final norm, into m->a.h. */
enum vkg_status vkg_arch_llama_forward(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n, uint32_t n_out)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_acts *a = &m->a;
    const float eps = (float)c->rms_norm_eps;
    const uint32_t d = c->hidden_size;
    const enum vkg_rmsnorm_kind plain = VKG_RMSNORM_PLAIN;
    const struct vkg_weight *emb, *norm, *ln1, *ln2;
    VKG_TRY(vkg_model_weight_req(m, &emb, "model.embed_tokens.weight"));
    VKG_TRY(vkg_model_weight_req(m, &norm, "model.norm.weight"));
    /* token embeddings into the residual stream */
    VKG_TRY(vkg_op_embed(m->cmd, V(emb->buf), emb->dtype, emb->shape[0], d, V(a->ids), n, 1.0f, V(a->res)));
    vkg_cmd_barrier(m->cmd);
    for (uint32_t l = 0; l < c->n_layers; l++) {
        VKG_TRY(vkg_model_weight_req(m, &ln1, "model.layers.%u.input_layernorm.weight", l));
        VKG_TRY(vkg_model_weight_req(m, &ln2, "model.layers.%u.post_attention_layernorm.weight", l));
        /* h = input norm(res), after adding the previous block's output to res */
        if (l == 0) VKG_TRY(vkg_op_rmsnorm(m->cmd, V(a->res), V(ln1->buf), V(a->h), n, d, eps, plain));
        else VKG_TRY(vkg_op_rmsnorm_add(m->cmd, V(a->delta), V(a->res), V(ln1->buf), V(a->h), n, d, eps, plain));
        vkg_cmd_barrier(m->cmd);
        /* self-attention: h -> delta */
        VKG_TRY(vkg_arch_attention(m, kv, l, n));
        /* res += attention output; h = post-attention norm(res) */
        VKG_TRY(vkg_op_rmsnorm_add(m->cmd, V(a->delta), V(a->res), V(ln2->buf), V(a->h), n, d, eps, plain));
        vkg_cmd_barrier(m->cmd);
        /* SwiGLU MLP: h -> delta */
        VKG_TRY(vkg_arch_mlp(m, l, "mlp", n));
    }
    /* res += last MLP output; h = final norm(res) */
    VKG_TRY(vkg_op_rmsnorm_add(m->cmd, V(a->delta), V(a->res), V(norm->buf), V(a->h), n, d, eps, plain));
    vkg_cmd_barrier(m->cmd);
    return VKG_OK;
}
