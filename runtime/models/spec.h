/* spec.h — the tensors each architecture reads, with the shapes its config
 * implies (host only: no Vulkan call, so vkgrm-inspect runs it without a GPU).
 *
 * One function per architecture family in spec.c declares, for a parsed
 * config, every tensor its forward pass reads: the embedding [vocab_size,
 * hidden_size], the norms, q/k/v/o with heads x head_dim, the MLP and expert
 * widths, the MLA ranks, biases where the config says, the lm_head unless the
 * embeddings are tied, the classifier's score head. Each entry also says where
 * the loaded weight goes: a field of struct vkg_model or struct vkg_layer, or
 * a slice of a layer's stacked experts. check.c matches the entries against
 * the safetensors headers; model.c fills the structs from them. */
#ifndef VKG_SPEC_H
#define VKG_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "hf_config.h"

struct vkg_tensor_spec {
    char name[128];     /* exactly as in the checkpoint */
    int n_dims;         /* 1 or 2 */
    uint64_t shape[2];  /* what the config implies */
    const char *why[2]; /* the config fields behind each dim: "num_attention_heads*head_dim" */
    int32_t layer;      /* decoder layer, or -1 for a model-level tensor */
    size_t slot;        /* offsetof(struct vkg_layer, field), or of struct vkg_model when layer < 0 */
    int32_t expert;     /* routed expert index (stacked, no slot), or -1 */
    uint8_t matrix;     /* experts: 0 gate, 1 up, 2 down */
    int64_t index;      /* the checkpoint tensor it matched (safetensors index), -1 when missing */
};

/* The names of a Mixture-of-Experts block's tensors: <block>.gate.weight and
 * <block>.experts.E.<gate|up|down>.weight under model.layers.N. */
struct vkg_moe_names {
    const char *block;  /* "mlp" (Qwen3-MoE, DeepSeek-V2), "block_sparse_moe" (Mixtral) */
    const char *mat[3]; /* gate, up, down: gate_proj/up_proj/down_proj or w1/w3/w2 */
};
const struct vkg_moe_names *vkg_moe_names_of(enum vkg_arch arch);

/* Every tensor cfg's architecture reads for layers 0..n_layers-1 (at most
 * cfg->n_layers), model-level ones first, then layer by layer in the order the
 * forward pass reads them. *out is malloc'ed; free() it. */
enum vkg_status vkg_model_spec(const struct vkg_hf_config *cfg, uint32_t n_layers, struct vkg_tensor_spec **out,
                               size_t *n);

#endif
