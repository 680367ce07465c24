/* model.c — loading a model directory, activations, the output head and the
 * step driver shared by every architecture. */
#include "model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_attention.h"
#include "ops_matmul.h"
#include "ops_norm.h"
#include "rope.h"
#include "vk_check.h"

const struct vkg_weight *vkg_model_weight(const struct vkg_model *m, const char *fmt, ...)
{
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return vkg_weights_find(m->w, name);
}

enum vkg_status vkg_model_weight_req(const struct vkg_model *m, const struct vkg_weight **out, const char *fmt, ...)
{
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    *out = vkg_weights_find(m->w, name);
    if (!*out) return vkg_error(VKG_ERR_NOT_FOUND, "model weights: tensor '%s' is missing (%s)", name, m->cfg.architecture);
    return VKG_OK;
}

/* The rope frequency table of the config (rope.c implements the HF scalings). */
static enum vkg_status load_rope(struct vkg_model *m)
{
    const struct vkg_rope *r = &m->cfg.rope;
    uint32_t dim = r->dim ? r->dim : m->cfg.head_dim;
    float *inv = calloc(dim / 2 + 1, sizeof *inv);
    if (!inv) return vkg_error(VKG_ERR_NOMEM, "rope table");
    struct vkg_rope_scaling sc;
    vkg_rope_scaling_from_config(r, m->cfg.max_position_embeddings, &sc);
    enum vkg_status s = vkg_rope_inv_freq(sc.type, dim, r->theta, &sc, inv, &m->rope_attn_factor);
    if (s == VKG_OK) s = vkg_buffer_create(m->dev, (dim / 2) * 4, VKG_MEM_DEVICE, "rope inv_freq", &m->inv_freq);
    if (s == VKG_OK) s = vkg_buffer_upload(m->dev, vkg_buffer_view(m->inv_freq), inv, (dim / 2) * 4);
    free(inv);
    return s;
}

enum vkg_status vkg_model_load(struct vkg_device *dev, const char *dir, const struct vkg_model_opts *opts,
                               struct vkg_model **out)
{
    *out = NULL;
    struct vkg_model *m = calloc(1, sizeof *m);
    if (!m) return vkg_error(VKG_ERR_NOMEM, "model");
    m->dev = dev;
    enum vkg_status s = vkg_hf_config_load(dir, &m->cfg);
    if (s == VKG_OK) s = vkg_safetensors_open(dir, &m->st);
    if (s == VKG_OK) {
        struct vkg_weights_opts wo = { .matrix_dtype = opts ? opts->weights : VKG_DTYPE_UNKNOWN,
                                       .progress = opts ? opts->progress : NULL, .user = opts ? opts->user : NULL };
        s = vkg_weights_load(dev, m->st, &wo, &m->w);
    }
    if (s == VKG_OK) s = load_rope(m);
    if (s == VKG_OK) s = vkg_cmd_create(dev, &m->cmd);
    m->out_dim = m->cfg.seq_cls ? m->cfg.num_labels : m->cfg.vocab_size;
    if (s != VKG_OK) {
        vkg_model_free(m);
        return s;
    }
    /* the file pages are not needed once on the device */
    vkg_safetensors_close(m->st);
    m->st = NULL;
    *out = m;
    return VKG_OK;
}

static void acts_free(struct vkg_acts *a)
{
    struct vkg_buffer **all[] = { &a->res, &a->h, &a->delta, &a->q, &a->k, &a->v, &a->attn, &a->gate, &a->up,
                                  &a->ff, &a->lat, &a->attn_scratch, &a->moe, &a->ids, &a->tokens, &a->pos };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        vkg_buffer_free(*all[i]);
        *all[i] = NULL;
    }
    a->cap = 0;
}

static void outs_free(struct vkg_acts *a)
{
    vkg_buffer_free(a->rows);
    vkg_buffer_free(a->logits);
    a->rows = a->logits = NULL;
    a->out_cap = 0;
}

void vkg_model_free(struct vkg_model *m)
{
    if (!m) return;
    if (m->cmd) vkg_cmd_wait(m->cmd);
    if (m->arch_free) m->arch_free(m);
    acts_free(&m->a);
    outs_free(&m->a);
    vkg_cmd_free(m->cmd);
    vkg_buffer_free(m->inv_freq);
    vkg_weights_free(m->w);
    vkg_safetensors_close(m->st);
    vkg_hf_config_free(&m->cfg);
    free(m);
}

struct vkg_kv_config vkg_model_kv_config(const struct vkg_model *m, uint32_t max_seqs, uint32_t max_seq_len)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_kv_config k = { .n_layers = c->n_layers, .n_kv_heads = c->n_kv_heads, .dk = c->head_dim,
                               .dv = c->head_dim, .page_size = 16, .max_seqs = max_seqs,
                               .max_seq_len = max_seq_len };
    if (c->arch == VKG_ARCH_DEEPSEEK_V2) { /* MLA cached decompressed: every head has its own k and v */
        k.n_kv_heads = c->n_heads;
        k.dk = c->qk_nope_head_dim + c->qk_rope_head_dim;
        k.dv = c->v_head_dim;
    }
    uint32_t pages_per_seq = (max_seq_len + k.page_size - 1) / k.page_size;
    k.max_pages = pages_per_seq * max_seqs;
    return k;
}

static uint64_t max3(uint64_t a, uint64_t b, uint64_t c) { return a > b ? (a > c ? a : c) : (b > c ? b : c); }

/* Activation buffers for n tokens of this model (re-made when n grows). */
static enum vkg_status acts_ensure(struct vkg_model *m, uint32_t n)
{
    struct vkg_acts *a = &m->a;
    if (a->cap >= n) return VKG_OK;
    VKG_TRY(vkg_cmd_wait(m->cmd));
    acts_free(a);
    const struct vkg_hf_config *c = &m->cfg;
    uint32_t cap = n < 16 ? 16 : n;
    struct vkg_kv_config kc = vkg_model_kv_config(m, 1, 1);
    uint64_t d = c->hidden_size, dq = (uint64_t)c->n_heads * kc.dk, dk = (uint64_t)kc.n_kv_heads * kc.dk;
    uint64_t dv = (uint64_t)kc.n_kv_heads * kc.dv, da = (uint64_t)c->n_heads * kc.dv;
    uint64_t ff = max3(c->intermediate_size, c->shared_expert_intermediate_size,
                       (uint64_t)c->moe_intermediate_size * (c->n_experts_per_tok ? c->n_experts_per_tok : 1));
    /* MLA (deepseek2.c): [kv_lora | rope] compressed kv, then q's latent or kv_b's per-head [nope | v] */
    uint64_t lat = (uint64_t)c->kv_lora_rank + c->qk_rope_head_dim +
                   max3(c->q_lora_rank, 0, (uint64_t)c->n_heads * (c->qk_nope_head_dim + c->v_head_dim));
    uint32_t split_tok = cap < 64 ? cap : 64;
    struct { struct vkg_buffer **b; uint64_t bytes; enum vkg_mem_kind kind; const char *name; } t[] = {
        { &a->res, cap * d * 4, VKG_MEM_DEVICE, "act res" }, { &a->h, cap * d * 4, VKG_MEM_DEVICE, "act h" },
        { &a->delta, cap * d * 4, VKG_MEM_DEVICE, "act delta" }, { &a->q, cap * dq * 4, VKG_MEM_DEVICE, "act q" },
        { &a->k, cap * dk * 4, VKG_MEM_DEVICE, "act k" }, { &a->v, cap * dv * 4, VKG_MEM_DEVICE, "act v" },
        { &a->attn, cap * da * 4, VKG_MEM_DEVICE, "act attn" }, { &a->gate, cap * ff * 4, VKG_MEM_DEVICE, "act gate" },
        { &a->up, cap * ff * 4, VKG_MEM_DEVICE, "act up" }, { &a->ff, cap * ff * 4, VKG_MEM_DEVICE, "act ff" },
        { &a->lat, cap * (lat ? lat : 1) * 4, VKG_MEM_DEVICE, "act latent" },
        { &a->attn_scratch, vkg_attn_scratch_bytes(split_tok, c->n_heads, kc.dv, 16), VKG_MEM_DEVICE, "attn split-K" },
        { &a->moe, vkg_model_moe_workspace_bytes(m, cap), VKG_MEM_DEVICE, "moe workspace" },
        { &a->ids, cap * 4, VKG_MEM_HOST, "input ids" }, { &a->tokens, cap * 8, VKG_MEM_HOST, "input tokens" },
        { &a->pos, cap * 4, VKG_MEM_HOST, "input positions" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        VKG_TRY(vkg_buffer_create(m->dev, t[i].bytes, t[i].kind, t[i].name, t[i].b));
    a->cap = cap;
    return VKG_OK;
}

/* Output rows: the final hidden rows whose logits are wanted, and the logits. */
static enum vkg_status outs_ensure(struct vkg_model *m, uint32_t n_out)
{
    struct vkg_acts *a = &m->a;
    if (a->out_cap >= n_out) return VKG_OK;
    VKG_TRY(vkg_cmd_wait(m->cmd));
    outs_free(a);
    uint32_t cap = n_out < 8 ? 8 : n_out;
    VKG_TRY(vkg_buffer_create(m->dev, (uint64_t)cap * m->cfg.hidden_size * 4, VKG_MEM_DEVICE, "act rows", &a->rows));
    VKG_TRY(vkg_buffer_create(m->dev, (uint64_t)cap * m->out_dim * 4, VKG_MEM_DEVICE, "logits", &a->logits));
    a->out_cap = cap;
    return VKG_OK;
}


static enum vkg_status record_trunk(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n, uint32_t n_out)
{
    enum vkg_status (*fwd)(struct vkg_model *, struct vkg_kv_cache *, uint32_t, uint32_t) = NULL;
    switch (m->cfg.arch) {
    case VKG_ARCH_LLAMA:
    case VKG_ARCH_QWEN2:
    case VKG_ARCH_QWEN3: fwd = vkg_arch_llama_forward; break;
    case VKG_ARCH_QWEN3_MOE:
    case VKG_ARCH_MIXTRAL: fwd = vkg_arch_moe_forward; break;
    case VKG_ARCH_DEEPSEEK_V2: fwd = vkg_arch_deepseek2_forward; break;
    case VKG_ARCH_GEMMA2: fwd = vkg_arch_gemma2_forward; break;
    default: break;
    }
    if (!fwd)
        return vkg_error(VKG_ERR_UNSUPPORTED, "%s: the %s forward pass is not implemented", m->cfg.architecture,
                         vkg_arch_name(m->cfg.arch));
    return fwd(m, kv, n, n_out);
}

/* Gathers the wanted rows of the final hidden state and applies the head:
 * lm_head (or the tied embeddings), or the classifier's score head; Gemma-2
 * soft-caps the final logits. */
static enum vkg_status record_head(struct vkg_model *m, const struct vkg_batch *b, uint32_t n_out)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_acts *a = &m->a;
    uint64_t row = (uint64_t)c->hidden_size * 4;
    for (uint32_t i = 0, j = 0; i < b->n; i++)
        if (!b->want || b->want[i]) {
            vkg_cmd_copy(m->cmd, vkg_view_sub(vkg_buffer_view(a->h), i * row, row),
                         vkg_view_sub(vkg_buffer_view(a->rows), (uint64_t)j * row, row), row);
            j++;
        }
    vkg_cmd_barrier(m->cmd);
    const struct vkg_weight *head = NULL;
    if (c->seq_cls) VKG_TRY(vkg_model_weight_req(m, &head, "score.weight"));
    else if (!(head = vkg_model_weight(m, "lm_head.weight")))
        VKG_TRY(vkg_model_weight_req(m, &head, "model.embed_tokens.weight")); /* tied */
    VKG_TRY(vkg_op_matmul(m->cmd, vkg_buffer_view(head->buf), head->dtype, m->out_dim, c->hidden_size,
                          vkg_buffer_view(a->rows), vkg_buffer_view(a->logits), n_out, NULL));
    if (c->final_logit_softcapping > 0 && !c->seq_cls) {
        vkg_cmd_barrier(m->cmd);
        VKG_TRY(vkg_op_softcap(m->cmd, vkg_buffer_view(a->logits), vkg_buffer_view(a->logits),
                               (uint64_t)n_out * m->out_dim, (float)c->final_logit_softcapping));
    }
    return VKG_OK;
}

static void write_inputs(struct vkg_model *m, const struct vkg_batch *b)
{
    int32_t *ids = m->a.ids->mapped, *tok = m->a.tokens->mapped, *pos = m->a.pos->mapped;
    for (uint32_t i = 0; i < b->n; i++) {
        ids[i] = b->ids[i];
        tok[2 * i] = b->seq[i];
        tok[2 * i + 1] = b->pos[i];
        pos[i] = b->pos[i];
    }
}

enum vkg_status vkg_model_record(struct vkg_model *m, struct vkg_kv_cache *kv, const struct vkg_batch *b,
                                 uint32_t *n_out_ret)
{
    uint32_t n_out = 0;
    for (uint32_t i = 0; i < b->n; i++) n_out += !b->want || b->want[i];
    *n_out_ret = n_out;
    if (b->n == 0) return vkg_error(VKG_ERR_INVALID_ARG, "%s: a step needs at least one token", m->cfg.architecture);
    VKG_TRY(acts_ensure(m, b->n));
    VKG_TRY(outs_ensure(m, n_out ? n_out : 1));
    VKG_TRY(vkg_cmd_wait(m->cmd));
    write_inputs(m, b);
    m->step_kv_len = 1;
    for (uint32_t i = 0; i < b->n; i++)
        if ((uint64_t)b->pos[i] + 1 > m->step_kv_len) m->step_kv_len = (uint64_t)b->pos[i] + 1;
    VKG_TRY(vkg_cmd_begin(m->cmd));
    VKG_TRY(record_trunk(m, kv, b->n, n_out));
    if (n_out) VKG_TRY(record_head(m, b, n_out));
    return VKG_OK;
}

enum vkg_status vkg_model_forward(struct vkg_model *m, struct vkg_kv_cache *kv, const struct vkg_batch *b,
                                  float *logits)
{
    uint32_t n_out;
    if (b->n == 0) return VKG_OK;
    VKG_TRY(vkg_model_record(m, kv, b, &n_out));
    VKG_TRY(vkg_cmd_submit_wait(m->cmd));
    if (logits && n_out)
        VKG_TRY(vkg_buffer_download(m->dev, vkg_view_sub(vkg_buffer_view(m->a.logits), 0, (uint64_t)n_out * m->out_dim * 4),
                                    logits, (uint64_t)n_out * m->out_dim * 4));
    return VKG_OK;
}
