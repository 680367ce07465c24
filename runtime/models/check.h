/* check.h — a model directory checked whole, on the host, before anything is
 * allocated. vkg_model_load runs it first; vkgrm-inspect runs exactly the
 * same function without a GPU and prints every problem.
 *
 *   struct vkg_model_report r;
 *   if (vkg_model_check("dir", NULL, &r) != VKG_OK)
 *       for (size_t i = 0; i < r.n_problems; i++) puts(r.problems[i].msg);
 *   vkg_model_report_free(&r);
 *
 * What it checks, one problem per finding, each naming the file:
 *   config.json            parsed (hf_config.h); values bounded and
 *                          cross-checked: num_hidden_layers against the layers
 *                          the checkpoint holds, head sizes the attention
 *                          kernel takes, rms_norm_eps > 0, RoPE parameters,
 *                          expert counts and top-k the MoE kernels take, ...
 *   generation_config.json parsed when present; its bos/eos ids < vocab_size
 *   tokenizer.json         (+ tokenizer_config.json) loads when present, and
 *                          every id it can produce is < vocab_size
 *   *.safetensors          open and valid (safetensors.h); every tensor the
 *                          architecture reads (spec.h) present, with the shape
 *                          the config implies and a dtype the upload reads
 *                          (F32, F16, BF16); no unexpected tensor.
 * Unexpected: a tensor the architecture does not read is a problem, except
 * what transformers itself drops on load: "*.rotary_emb.inv_freq" (buffers
 * older exporters saved) and lm_head.weight of a tied model (the embedding is
 * the head); those are not loaded, with a note.
 *
 * It also decides each tensor's device dtype for the requested --weights:
 * norms and biases F32; matrices converted or quantized, except that Q8_0/Q4
 * need rows that are whole 32-value blocks: a dense matrix whose row length
 * is not a multiple of 32 stays in its stored dtype, and so does the whole
 * expert set of a MoE layer when any of its matrices has such rows (the
 * expert kernels take one dtype per layer); one note says which. */
#ifndef VKG_CHECK_H
#define VKG_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "hf_config.h"
#include "safetensors.h"
#include "spec.h"

struct vkg_model_problem {
    enum vkg_status status; /* VKG_ERR_CONFIG, VKG_ERR_NOT_FOUND, VKG_ERR_FORMAT, VKG_ERR_UNSUPPORTED, ... */
    char *msg;              /* one line, naming the file */
};

struct vkg_model_report {
    char *dir;
    int config_ok; /* cfg parsed (tensor checks need it) */
    struct vkg_hf_config cfg;
    struct vkg_generation_config gen;
    struct vkg_safetensors *st;   /* NULL when the weights did not open */
    size_t tokenizer_ids;         /* ids the tokenizer can produce; 0 without tokenizer.json */
    uint32_t layers_in_files;     /* 1 + the largest N of model.layers.N.* tensors */
    struct vkg_tensor_spec *spec; /* [n_spec] what the architecture reads, matched (spec.h) */
    size_t n_spec;
    enum vkg_dtype weights;        /* the matrix dtype asked for (VKG_DTYPE_UNKNOWN: as stored) */
    enum vkg_dtype *dtype;         /* [tensor count] device dtype of each checkpoint tensor;
                                        VKG_DTYPE_UNKNOWN: not loaded (ignored) */
    uint64_t weight_bytes;         /* device bytes of every loaded tensor */
    uint64_t largest_tensor_bytes; /* the largest device buffer among them (stacked experts count whole) */
    char largest_tensor[128];      /* its name */
    struct vkg_model_problem *problems;
    size_t n_problems;
    char **notes; /* [n_notes] facts worth a line on stderr, not problems */
    size_t n_notes;
};

struct vkg_tokenizer;

struct vkg_check_opts {
    enum vkg_dtype weights;                /* matrix dtype (--weights); VKG_DTYPE_UNKNOWN: as stored */
    const struct vkg_tokenizer *tokenizer; /* the caller's, already loaded from dir; NULL: the check
                                               loads dir/tokenizer.json itself (when present) */
};

/* Checks the model directory `dir` (opts may be NULL: as stored, tokenizer
 * loaded here). Fills *r either way (free it with vkg_model_report_free).
 * VKG_OK when there is no problem; otherwise the first problem's status,
 * with a detail naming it and the count. */
enum vkg_status vkg_model_check(const char *dir, const struct vkg_check_opts *opts, struct vkg_model_report *r);
void vkg_model_report_free(struct vkg_model_report *r);

/* The device dtype of one tensor of `src` dtype and n_dims dims whose rows
 * hold `inner` values, for matrix dtype `want`: 1-D -> F32; as stored when
 * want is VKG_DTYPE_UNKNOWN, or Q8_0/Q4 without whole 32-value blocks. */
enum vkg_dtype vkg_dtype_on_device(enum vkg_dtype want, enum vkg_dtype src, int n_dims, uint64_t inner);

#endif
