/* gguf_model.h — a GGUF file read as the Hugging Face model directory it
 * was converted from, so that everything downstream of the loaders is shared.
 *
 * The loaders' entry points take FILE.gguf wherever they take a model
 * directory (vkg_gguf_is_path decides): vkg_hf_config_load,
 * vkg_generation_config_load, vkg_safetensors_open, vkg_tokenizer_load and
 * vkg_chat_template_load call the functions below, which
 *   - write the config.json that the metadata ({arch}.block_count, ...)
 *     stands for (architectures llama, qwen2, qwen3, qwen3moe, gemma2,
 *     deepseek2) and parse it with vkg_hf_config_parse;
 *   - expose the tensors under their HF names (blk.3.attn_q.weight ->
 *     model.layers.3.self_attn.q_proj.weight; stacked experts
 *     blk.N.ffn_gate_exps.weight -> one zero-copy view per expert
 *     model.layers.N.mlp.experts.E.gate_proj.weight), undoing what llama.cpp's
 *     convert_hf_to_gguf.py changed: the llama q/k row permutation (copied
 *     back into HF order), Gemma-2's "+1" on every norm weight (an F32
 *     copy minus 1) and DeepSeek-V2's kv_b_proj split into attn_k_b
 *     (transposed) + attn_v_b (rebuilt as one F32/F16/BF16 matrix);
 *   - build the tokenizer.json / tokenizer_config.json that tokenizer.ggml.*
 *     stands for (gguf_tokenizer.c: "gpt2" byte-level BPE with the
 *     pre-tokenizer regexes llama.cpp keeps per tokenizer.ggml.pre, "llama"
 *     SentencePiece scores as BPE merges) and the chat template from
 *     tokenizer.chat_template.
 * Tensor types: F32, F16, BF16 and Q8_0 views; any other ggml type is
 * VKG_ERR_UNSUPPORTED at open, naming the tensor and the type. */
#ifndef VKG_GGUF_MODEL_H
#define VKG_GGUF_MODEL_H

#include "gguf.h"
#include "hf_config.h"
#include "safetensors.h"

struct vkg_tokenizer;
struct vkg_chat_template;

/* config.json text (malloc'ed) that the metadata of g stands for. */
enum vkg_status vkg_gguf_config_text(const struct vkg_gguf *g, char **json);
/* generation_config.json text: bos, eos (+ eot) and pad ids of the metadata. */
enum vkg_status vkg_gguf_generation_text(const struct vkg_gguf *g, char **json);

/* The entry points behind the loaders' dispatch (path: the .gguf file). */
enum vkg_status vkg_gguf_hf_config_load(const char *path, struct vkg_hf_config *out);
enum vkg_status vkg_gguf_generation_config_load(const char *path, struct vkg_generation_config *out);
enum vkg_status vkg_gguf_tensors_open(const char *path, struct vkg_safetensors **out);
enum vkg_status vkg_gguf_tokenizer_load(const char *path, struct vkg_tokenizer **out);
enum vkg_status vkg_gguf_chat_template_load(const char *path, const char *model_type, struct vkg_chat_template *out);

#endif
