/* model.c — loading a model directory (check, plan, weights, the per-layer
 * structs), activations, the output head and the step driver shared by
 * every architecture. */
#include "model.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "moe.h"
#include "ops_moe.h"
#include "ops_attention.h"
#include "ops_matmul.h"
#include "ops_norm.h"
#include "plan.h"
#include "rope.h"
#include "vk_check.h"

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

/* The stacked expert buffers of every MoE layer, and where each expert's
 * tensor goes in them (dest[safetensors index]). */
static enum vkg_status make_stacks(struct vkg_model *m, const struct vkg_model_report *r, struct vkg_view *dest)
{
    const struct vkg_hf_config *c = &m->cfg;
    for (size_t i = 0; i < r->n_spec; i++) {
        const struct vkg_tensor_spec *e = &r->spec[i];
        if (e->expert < 0) continue;
        struct vkg_moe_stack *s = &m->layers[e->layer].experts;
        if (!s->gate) { /* the first expert tensor of the layer: gate/up share a dtype, down
                           shares one, all share shapes (check.c) */
            enum vkg_dtype dt[2] = { VKG_DTYPE_UNKNOWN, VKG_DTYPE_UNKNOWN };
            for (size_t j = i; j < r->n_spec && r->spec[j].layer == e->layer; j++)
                if (r->spec[j].expert >= 0) dt[r->spec[j].matrix == 2] = r->dtype[r->spec[j].index];
            uint64_t gu, down, n = (uint64_t)c->moe_intermediate_size * c->hidden_size;
            VKG_TRY(vkg_dtype_bytes(dt[0], n, &gu));
            VKG_TRY(vkg_dtype_bytes(dt[1], n, &down));
            VKG_TRY(vkg_moe_stack_create(m->dev, (uint32_t)e->layer, dt[0], dt[1], c->n_experts, c->hidden_size,
                                         c->moe_intermediate_size, gu, down, s));
        }
        dest[e->index] = vkg_moe_stack_slice(s, (uint32_t)e->expert, e->matrix);
    }
    return VKG_OK;
}

/* The spec entry of layer l's field at slot, or NULL when the architecture has none or it is missing. */
static const struct vkg_tensor_spec *spec_at(const struct vkg_model_report *r, uint32_t l, size_t slot)
{
    for (size_t i = 0; i < r->n_spec; i++)
        if (r->spec[i].layer == (int32_t)l && r->spec[i].expert < 0 && r->spec[i].slot == slot)
            return r->spec[i].index >= 0 ? &r->spec[i] : NULL;
    return NULL;
}

/* Stacks n projections of layer l (weight slots w[], bias slots b[]) into one buffer when the
 * texel lane tier can run them as one launch: same device dtype and n_in, a texel-tier type, all
 * biased or none, inside one binding window. Otherwise f stays empty and each loads on its own. */
static enum vkg_status fuse(struct vkg_model *m, const struct vkg_model_report *r, struct vkg_view *dest, uint32_t l,
                            uint32_t n, const size_t *w, const size_t *b, const char *what, struct vkg_fused *f)
{
    struct vkg_device *dev = m->dev;
    if (!dev->use.fused) return VKG_OK;
    const struct vkg_tensor_spec *ws[3], *bs[3];
    uint64_t wbytes[3], total = 0, btotal = 0;
    int n_bias = 0;
    for (uint32_t i = 0; i < n; i++) {
        ws[i] = spec_at(r, l, w[i]);
        bs[i] = spec_at(r, l, b[i]);
        n_bias += bs[i] != NULL;
        if (!ws[i] || ws[i]->n_dims != 2) return VKG_OK;
    }
    enum vkg_dtype dt = r->dtype[ws[0]->index];
    uint64_t n_in = ws[0]->shape[1];
    if (!vkg_op_matmul_fusable(dt, n_in) || n_in > UINT32_MAX) return VKG_OK;
    if (n_bias != 0 && n_bias != (int)n) return VKG_OK;
    for (uint32_t i = 0; i < n; i++) {
        if (r->dtype[ws[i]->index] != dt || ws[i]->shape[1] != n_in) return VKG_OK;
        if (bs[i] && (bs[i]->n_dims != 1 || r->dtype[bs[i]->index] != VKG_DTYPE_F32)) return VKG_OK;
        VKG_TRY(vkg_dtype_bytes(dt, ws[i]->shape[0] * n_in, &wbytes[i]));
        total += wbytes[i];
        btotal += ws[i]->shape[0] * 4;
    }
    if (total > vkg_max_window_bytes(dev)) return VKG_OK;
    char name[64];
    snprintf(name, sizeof name, "layer %u %s", l, what);
    VKG_TRY(vkg_buffer_create(dev, total, VKG_MEM_DEVICE, name, &f->w_buf));
    if (n_bias) {
        snprintf(name, sizeof name, "layer %u %s bias", l, what);
        VKG_TRY(vkg_buffer_create(dev, btotal, VKG_MEM_DEVICE, name, &f->b_buf));
    }
    f->w = vkg_view_sub(vkg_buffer_view(f->w_buf), 0, total);
    f->b = n_bias ? vkg_view_sub(vkg_buffer_view(f->b_buf), 0, btotal) : (struct vkg_view){ 0 };
    f->dtype = dt;
    f->n_in = (uint32_t)n_in;
    f->n_parts = n;
    for (uint32_t i = 0, wo = 0, bo = 0; i < n; wo += (uint32_t)wbytes[i], bo += (uint32_t)ws[i]->shape[0] * 4, i++) {
        f->rows[i] = (uint32_t)ws[i]->shape[0];
        dest[ws[i]->index] = vkg_view_sub(f->w, wo, wbytes[i]);
        if (n_bias) dest[bs[i]->index] = vkg_view_sub(f->b, bo, ws[i]->shape[0] * 4);
    }
    return VKG_OK;
}

#define LAYER(field) offsetof(struct vkg_layer, field)

/* q|k|v and gate|up (dense MLP, DeepSeek-V2 shared experts) of every layer, where they can be stacked. */
static enum vkg_status make_fused(struct vkg_model *m, const struct vkg_model_report *r, struct vkg_view *dest)
{
    static const size_t qkv_w[3] = { LAYER(wq), LAYER(wk), LAYER(wv) }, qkv_b[3] = { LAYER(bq), LAYER(bk), LAYER(bv) };
    static const size_t mlp_w[2] = { LAYER(mlp.gate), LAYER(mlp.up) },
                        mlp_b[2] = { LAYER(mlp.gate_b), LAYER(mlp.up_b) };
    static const size_t sh_w[2] = { LAYER(shared.gate), LAYER(shared.up) },
                        sh_b[2] = { LAYER(shared.gate_b), LAYER(shared.up_b) };
    for (uint32_t l = 0; l < m->cfg.n_layers; l++) {
        struct vkg_layer *L = &m->layers[l];
        VKG_TRY(fuse(m, r, dest, l, 3, qkv_w, qkv_b, "q|k|v", &L->qkv)); /* not MLA: no k_proj/v_proj */
        VKG_TRY(fuse(m, r, dest, l, 2, mlp_w, mlp_b, "gate|up", &L->mlp.gate_up));
        VKG_TRY(fuse(m, r, dest, l, 2, sh_w, sh_b, "shared gate|up", &L->shared.gate_up));
    }
    return VKG_OK;
}

static void fused_free(struct vkg_fused *f)
{
    vkg_buffer_free(f->w_buf);
    vkg_buffer_free(f->b_buf);
    *f = (struct vkg_fused){ 0 };
}

/* m->embed, m->norm, m->head and every layer's fields from the matched spec. */
static void resolve(struct vkg_model *m, const struct vkg_model_report *r)
{
    for (size_t i = 0; i < r->n_spec; i++) {
        const struct vkg_tensor_spec *e = &r->spec[i];
        if (e->expert >= 0) continue;
        char *base = e->layer < 0 ? (char *)m : (char *)&m->layers[e->layer];
        *(const struct vkg_weight **)(base + e->slot) = &m->w->w[e->index];
    }
    if (!m->head) m->head = m->embed; /* tied */
    for (uint32_t l = 0; l < m->cfg.n_layers; l++) m->layers[l].moe = m->layers[l].router != NULL;
}

/* ---- 8-row tiles (CPU drivers) ------------------------------------------------ */

/* Which tensors the loader stores in 8-row tiles (dev->use.tiled; vkg_weights_opts.tile): the
 * float projections that only blocks.c's launches read (q/k/v, o_proj, gate/up/down of the dense
 * MLP and of DeepSeek-V2's shared experts; the head, and the embedding when it is the head, whose
 * lookup reads either layout), which the texel row-per-lane kernels
 * then read as one sequential stream per 8-lane SIMD chunk instead of a stream per row (README,
 * "Tiled weights"). A q|k|v or gate|up stack only when every part's rows are whole tiles (a part
 * may be launched on its own). The block-type projections too, a GGUF file's or Q4 quantized on load
 * (use.tiled_blocks: tiles of 256-value units, push_matmul.h; not Q8_0, vkg_op_matmul_tileable), and a
 * tied one's embedding (embed.comp reads those tiles too). The MoE experts' matrices too, each expert's
 * on its own (moe_lane.comp, vkg_op_moe_tileable: float types, block types but Q8_0 in 256-value
 * units, Q6_K in split tiles). The router, DeepSeek-V2's latent projections and an untied embedding
 * keep the file's row order. */
static void plan_tiles(struct vkg_model *m, const struct vkg_model_report *r, uint8_t *tile)
{
    static const size_t slots[] = { LAYER(wq),        LAYER(wk),         LAYER(wv),       LAYER(wo),
                                    LAYER(mlp.gate),  LAYER(mlp.up),     LAYER(mlp.down), LAYER(shared.gate),
                                    LAYER(shared.up), LAYER(shared.down) };
    if (!m->dev->use.tiled) return;
    int tied = 1; /* no lm_head (or score): the embedding is the head, which the matmul reads */
    for (size_t i = 0; i < r->n_spec; i++)
        if (r->spec[i].layer < 0 && r->spec[i].slot == offsetof(struct vkg_model, head)) tied = 0;
    for (size_t i = 0; i < r->n_spec; i++) {
        const struct vkg_tensor_spec *e = &r->spec[i];
        if (e->index < 0 || e->n_dims != 2) continue;
        /* block types: the matmul kernels and the embedding lookup read their tiles, moe_lane an expert's */
        enum vkg_dtype dt = r->dtype[e->index];
        if (e->expert >= 0) { /* each expert's matrix tiled on its own (moe_lane reads them, VKG_MOE_W_TILED) */
            if (vkg_op_moe_tileable(m->dev, dt, e->shape[0], e->shape[1])) tile[e->index] = 1;
            continue;
        }
        int want = e->layer < 0 && (e->slot == offsetof(struct vkg_model, head) ||
                                    (tied && e->slot == offsetof(struct vkg_model, embed)));
        for (size_t k = 0; e->layer >= 0 && k < sizeof slots / sizeof slots[0]; k++) want |= e->slot == slots[k];
        if (!want || !vkg_op_matmul_tileable(m->dev, r->dtype[e->index], e->shape[1])) continue;
        if (e->layer >= 0) {
            const struct vkg_layer *L = &m->layers[e->layer];
            int qkv = e->slot == LAYER(wq) || e->slot == LAYER(wk) || e->slot == LAYER(wv);
            if (qkv && spec_at(r, (uint32_t)e->layer, LAYER(wkv_b))) continue; /* MLA */
            const struct vkg_fused *f = qkv                                                      ? &L->qkv
                                        : e->slot == LAYER(mlp.gate) || e->slot == LAYER(mlp.up) ? &L->mlp.gate_up
                                        : e->slot == LAYER(shared.gate) || e->slot == LAYER(shared.up)
                                            ? &L->shared.gate_up
                                            : NULL;
            int whole = 1;
            for (uint32_t k = 0; f && f->w_buf && k < f->n_parts; k++) whole &= f->rows[k] % VKG_MATMUL_TILE_ROWS == 0;
            if (!whole) continue;
        }
        tile[e->index] = 1;
    }
}

/* A stack is tiled when its parts were; they share dtype and n_in, so the loader tiles all or none
 * (a stack read as one matrix with some parts tiled would be misread: refused). */
static enum vkg_status fused_tiled(struct vkg_fused *f, const struct vkg_weight *p0, const struct vkg_weight *p1,
                                   const struct vkg_weight *p2)
{
    if (!f->w_buf) return VKG_OK;
    const struct vkg_weight *p[3] = { p0, p1, p2 };
    uint32_t n = 0;
    for (uint32_t i = 0; i < f->n_parts; i++) n += p[i] && p[i]->tiled;
    if (n && n != f->n_parts)
        return vkg_error(VKG_ERR_STATE, "'%s': %u of its %u parts stored in 8-row tiles", f->w_buf->name, n,
                         f->n_parts);
    f->tiled = n != 0;
    return VKG_OK;
}

/* A layer's expert stack is tiled (gate and up, and down, apart) when all its experts' matrices
 * were; a stack with some tiled would be misread: refused. */
static enum vkg_status experts_tiled(struct vkg_model *m, const struct vkg_model_report *r)
{
    for (uint32_t l = 0; l < m->cfg.n_layers; l++) {
        struct vkg_moe_stack *s = &m->layers[l].experts;
        if (!s->gate) continue;
        uint32_t n[2] = { 0, 0 }, tiled[2] = { 0, 0 };
        for (size_t i = 0; i < r->n_spec; i++) {
            const struct vkg_tensor_spec *e = &r->spec[i];
            if (e->layer != (int32_t)l || e->expert < 0 || e->index < 0) continue;
            n[e->matrix == 2]++;
            tiled[e->matrix == 2] += m->w->w[e->index].tiled != 0;
        }
        for (int d = 0; d < 2; d++)
            if (tiled[d] && tiled[d] != n[d])
                return vkg_error(VKG_ERR_STATE, "layer %u: %u of its %u expert %s matrices stored in 8-row tiles", l,
                                 tiled[d], n[d], d ? "down" : "gate/up");
        s->w.tiled = tiled[0] != 0;
        s->w.tiled_down = tiled[1] != 0;
    }
    return VKG_OK;
}

/* Streams the checked weights in: experts into their stacks, the rest each into its own buffer. */
static enum vkg_status load_weights(struct vkg_model *m, const struct vkg_model_report *r,
                                    const struct vkg_model_opts *o)
{
    size_t n = vkg_safetensors_count(r->st);
    struct vkg_view *dest = calloc(n ? n : 1, sizeof *dest);
    if (!dest) return vkg_error(VKG_ERR_NOMEM, "%s: weight placement", r->dir);
    uint8_t *tile = calloc(n ? n : 1, 1);
    enum vkg_status s = tile ? make_stacks(m, r, dest) : vkg_error(VKG_ERR_NOMEM, "%s: weight placement", r->dir);
    if (s == VKG_OK) s = make_fused(m, r, dest);
    if (s == VKG_OK) plan_tiles(m, r, tile);
    struct vkg_weights_opts wo = { .matrix_dtype = r->weights,
                                   .dtypes = r->dtype,
                                   .dest = dest,
                                   .tile = tile,
                                   .progress = o ? o->progress : NULL,
                                   .user = o ? o->user : NULL };
    if (s == VKG_OK) s = vkg_weights_load(m->dev, r->st, &wo, &m->w);
    free(dest);
    free(tile);
    if (s != VKG_OK) return s;
    resolve(m, r);
    for (uint32_t l = 0; l < m->cfg.n_layers; l++) {
        struct vkg_layer *L = &m->layers[l];
        VKG_TRY(fused_tiled(&L->qkv, L->wq, L->wk, L->wv));
        VKG_TRY(fused_tiled(&L->mlp.gate_up, L->mlp.gate, L->mlp.up, NULL));
        VKG_TRY(fused_tiled(&L->shared.gate_up, L->shared.gate, L->shared.up, NULL));
    }
    return experts_tiled(m, r);
}

int vkg_mla_latent(const struct vkg_hf_config *c, const struct vkg_device *dev)
{
    const uint32_t r = c->kv_lora_rank, rope = c->qk_rope_head_dim;
    /* attn_lane's register rows or attn_wide's shared ones; the per-head products take row slices of kv_b_proj
     * on whole 8-row tiles and rows of whole texels */
    uint32_t dk_max = dev->use.attn_lane ? VKG_ATTN_LANE_DMAX : VKG_ATTN_WIDE_DK;
    uint32_t dv_max = dev->use.attn_lane ? VKG_ATTN_LANE_DMAX : VKG_ATTN_WIDE_DV;
    int ok = c->arch == VKG_ARCH_DEEPSEEK_V2 && dev->use.mla_latent && (dev->use.attn_lane || vkg_attn_wide_ok(dev)) &&
             r % 8 == 0 && rope % 4 == 0 && r + rope <= dk_max && r <= dv_max && c->qk_nope_head_dim % 8 == 0 &&
             c->v_head_dim % 8 == 0;
    return ok ? dev->use.mla_latent : 0;
}

uint64_t vkg_mla_kbt_bytes(const struct vkg_hf_config *c)
{
    return c->mla_latent_kv ? (uint64_t)c->n_heads * c->kv_lora_rank * c->qk_nope_head_dim * 4 : 0;
}

/* Head h's rows [row0, row0 + rows) of layer weight w (kv_b_proj [H*(nope + dv)][kv_lora]) as a matmul
 * weight of its own: row slices on 8-row tiles and whole blocks (vkg_mla_latent checked the sizes). */
enum vkg_status vkg_mla_rows(const struct vkg_weight *w, uint64_t row0, uint64_t rows, struct vkg_matmul_args *a)
{
    uint64_t off, bytes;
    VKG_TRY(vkg_dtype_bytes(w->dtype, row0 * w->shape[1], &off));
    VKG_TRY(vkg_dtype_bytes(w->dtype, rows * w->shape[1], &bytes));
    a->w = vkg_view_sub(w->view, off, bytes);
    a->wt = w->dtype;
    a->n_out = (uint32_t)rows;
    a->n_in = (uint32_t)w->shape[1];
    a->w_tiled = w->tiled;
    return VKG_OK;
}

/* MLA latent: W_UK^T of every head, kbt [H][kv_lora][nope] F32, from kv_b_proj's k_nope rows in whatever
 * type they are stored: each head's rows times the identity ([kv_lora] one-hot tokens), exact for
 * float weights (x * 1 + 0s) and the stored dequantization for blocks. */
static enum vkg_status make_kbt(struct vkg_model *m)
{
    const struct vkg_hf_config *c = &m->cfg;
    if (!c->mla_latent_kv) return VKG_OK;
    const uint32_t H = c->n_heads, r = c->kv_lora_rank, nope = c->qk_nope_head_dim, row = nope + c->v_head_dim;
    float *eye = calloc((size_t)r * r, sizeof *eye);
    if (!eye) return vkg_error(VKG_ERR_NOMEM, "MLA identity");
    for (uint32_t i = 0; i < r; i++) eye[(size_t)i * r + i] = 1.0f;
    struct vkg_buffer *id = NULL;
    enum vkg_status s = vkg_buffer_create(m->dev, (uint64_t)r * r * 4, VKG_MEM_DEVICE, "MLA identity", &id);
    if (s == VKG_OK) s = vkg_buffer_upload(m->dev, vkg_buffer_view(id), eye, (uint64_t)r * r * 4);
    free(eye);
    for (uint32_t l = 0; s == VKG_OK && l < c->n_layers; l++) {
        struct vkg_layer *L = &m->layers[l];
        char name[64];
        snprintf(name, sizeof name, "layer %u kv_b^T (MLA)", l);
        s = vkg_buffer_create(m->dev, vkg_mla_kbt_bytes(c), VKG_MEM_DEVICE, name, &L->kbt);
        if (s == VKG_OK) s = vkg_cmd_begin(m->cmd);
        for (uint32_t h = 0; s == VKG_OK && h < H; h++) {
            struct vkg_matmul_args a = { .x = vkg_buffer_view(id),
                                         .y = vkg_view_sub(vkg_buffer_view(L->kbt), (uint64_t)h * r * nope * 4,
                                                           (uint64_t)r * nope * 4),
                                         .n_tok = r };
            s = vkg_mla_rows(L->wkv_b, (uint64_t)h * row, nope, &a);
            if (s == VKG_OK) s = vkg_op_matmul_ex(m->cmd, &a);
        }
        if (s == VKG_OK) s = vkg_cmd_submit_wait(m->cmd);
    }
    vkg_buffer_free(id);
    return s;
}

static void print_notes(const struct vkg_model_report *r, const struct vkg_model_opts *o)
{
    for (size_t i = 0; i < r->n_notes; i++)
        if (o && o->note) o->note(o->user, r->notes[i]);
        else fprintf(stderr, "vkgrm: note: %s\n", r->notes[i]);
}

/* Check the whole directory, plan the memory, and only then allocate. */
enum vkg_status vkg_model_load(struct vkg_device *dev, const char *dir, const struct vkg_model_opts *opts,
                               struct vkg_model **out)
{
    *out = NULL;
    struct vkg_model_report r;
    struct vkg_check_opts co = { .weights = opts ? opts->weights : VKG_DTYPE_UNKNOWN,
                                 .tokenizer = opts ? opts->tokenizer : NULL };
    enum vkg_status s = vkg_model_check(dir, &co, &r);
    struct vkg_model_plan plan;
    struct vkg_plan_request q = { .ctx = opts ? opts->ctx : 0,
                                  .n_seqs = opts ? opts->n_seqs : 0,
                                  .batch = opts ? opts->batch : 0 };
    if (s == VKG_OK) s = vkg_model_plan(&r, dev, &q, &plan);
    if (s == VKG_OK) r.cfg.mla_latent_kv = (uint8_t)plan.mla_latent;
    struct vkg_model *m = s == VKG_OK ? calloc(1, sizeof *m) : NULL;
    if (s == VKG_OK && !m) s = vkg_error(VKG_ERR_NOMEM, "model");
    if (s != VKG_OK) {
        vkg_model_report_free(&r);
        return s;
    }
    print_notes(&r, opts);
    if (plan.mla_latent && dev->use.mla_latent == 1) { /* the plan's own choice: say it */
        const struct vkg_hf_config *c = &r.cfg;
        char msg[512];
        snprintf(msg, sizeof msg,
                 "%s: the KV cache holds the MLA latent, one KV head (%u floats per token and layer, V its first "
                 "%u, against %u for every head's k and v; VKGRM_MLA_LATENT=0 keeps those)",
                 dir, c->kv_lora_rank + c->qk_rope_head_dim, c->kv_lora_rank,
                 c->n_heads * (c->qk_nope_head_dim + c->qk_rope_head_dim + c->v_head_dim));
        if (opts && opts->note) opts->note(opts->user, msg);
        else fprintf(stderr, "vkgrm: note: %s\n", msg);
    }
    m->dev = dev;
    m->cfg = r.cfg; /* the model owns the parsed config from here on */
    r.config_ok = 0;
    m->out_dim = m->cfg.seq_cls ? m->cfg.num_labels : m->cfg.vocab_size;
    if (!(m->layers = calloc(m->cfg.n_layers, sizeof *m->layers))) s = vkg_error(VKG_ERR_NOMEM, "%s: layers", dir);
    if (s == VKG_OK) s = load_weights(m, &r, opts);
    if (s == VKG_OK) s = load_rope(m);
    if (s == VKG_OK) s = vkg_cmd_create(dev, &m->cmd);
    if (s == VKG_OK) s = make_kbt(m);
    vkg_model_report_free(&r); /* the file pages are not needed once on the device */
    if (s != VKG_OK) {
        vkg_model_free(m);
        return s;
    }
    *out = m;
    return VKG_OK;
}

static void acts_free(struct vkg_acts *a)
{
    struct vkg_buffer **all[] = { &a->res,  &a->h,    &a->delta,  &a->q,   &a->k,        &a->v,
                                  &a->attn, &a->gate, &a->up,     &a->ff,  &a->lat,      &a->attn_scratch,
                                  &a->moe,  &a->ids,  &a->tokens, &a->pos, &a->counters, &a->xq };
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
    acts_free(&m->a);
    outs_free(&m->a);
    vkg_cmd_free(m->cmd);
    vkg_buffer_free(m->inv_freq);
    vkg_weights_free(m->w); /* waits for uploads into the stacks too */
    for (uint32_t l = 0; m->layers && l < m->cfg.n_layers; l++) {
        vkg_moe_stack_free(&m->layers[l].experts);
        fused_free(&m->layers[l].qkv);
        fused_free(&m->layers[l].mlp.gate_up);
        fused_free(&m->layers[l].shared.gate_up);
        vkg_buffer_free(m->layers[l].kbt);
    }
    free(m->layers);
    vkg_hf_config_free(&m->cfg);
    free(m);
}

struct vkg_kv_config vkg_kv_config_of(const struct vkg_hf_config *c, uint32_t max_seqs, uint32_t max_seq_len)
{
    struct vkg_kv_config k = { .n_layers = c->n_layers,
                               .n_kv_heads = c->n_kv_heads,
                               .dk = c->head_dim,
                               .dv = c->head_dim,
                               .page_size = 16,
                               .max_seqs = max_seqs,
                               .max_seq_len = max_seq_len };
    if (c->arch == VKG_ARCH_DEEPSEEK_V2 && c->mla_latent_kv) { /* MLA latent: [kv_lora | k_pe], one KV head */
        k.n_kv_heads = 1;
        k.dk = c->kv_lora_rank + c->qk_rope_head_dim;
        k.dv = c->kv_lora_rank;
        k.v_in_k = 1; /* V = the latent, the first kv_lora elements of each K row: stored once */
    } else if (c->arch == VKG_ARCH_DEEPSEEK_V2) { /* MLA cached decompressed: every head has its own k and v */
        k.n_kv_heads = c->n_heads;
        k.dk = c->qk_nope_head_dim + c->qk_rope_head_dim;
        k.dv = c->v_head_dim;
    }
    uint32_t pages_per_seq = (max_seq_len + k.page_size - 1) / k.page_size;
    k.max_pages = pages_per_seq * max_seqs;
    return k;
}

struct vkg_kv_config vkg_model_kv_config(const struct vkg_model *m, uint32_t max_seqs, uint32_t max_seq_len)
{
    return vkg_kv_config_of(&m->cfg, max_seqs, max_seq_len);
}

static uint64_t max3(uint64_t a, uint64_t b, uint64_t c) { return a > b ? (a > c ? a : c) : (b > c ? b : c); }

enum { N_ACTS = 18 };

/* Bytes of the activation buffers for cap tokens, in the order of acts_ensure's
 * table; one function sizes both the buffers and the memory plan (plan.c). */
static void acts_sizes(const struct vkg_hf_config *c, const struct vkg_device *dev, uint32_t cap, uint64_t t[N_ACTS])
{
    struct vkg_kv_config kc = vkg_kv_config_of(c, 1, 1);
    uint64_t d = c->hidden_size, dq = (uint64_t)c->n_heads * kc.dk, dk = (uint64_t)kc.n_kv_heads * kc.dk;
    uint64_t dv = (uint64_t)kc.n_kv_heads * kc.dv, da = (uint64_t)c->n_heads * kc.dv;
    /* MLA latent (deepseek2.c): attn also holds q as q_proj writes it, [H][nope | rope], before the absorption */
    if (c->mla_latent_kv && (uint64_t)c->n_heads * (c->qk_nope_head_dim + c->qk_rope_head_dim) > da)
        da = (uint64_t)c->n_heads * (c->qk_nope_head_dim + c->qk_rope_head_dim);
    uint64_t ff = max3(c->intermediate_size, c->shared_expert_intermediate_size,
                       (uint64_t)c->moe_intermediate_size * (c->n_experts_per_tok ? c->n_experts_per_tok : 1));
    /* MLA (deepseek2.c): [kv_lora | rope] compressed kv, then q's latent or kv_b's per-head [nope | v] */
    uint64_t lat = (uint64_t)c->kv_lora_rank + c->qk_rope_head_dim +
                   max3(c->q_lora_rank, 0, (uint64_t)c->n_heads * (c->qk_nope_head_dim + c->v_head_dim));
    uint32_t split_tok = cap < 64 ? cap : 64;
    uint64_t moe_pairs = cap * (uint64_t)(c->n_experts_per_tok ? c->n_experts_per_tok : 1);
    /* the expert down pass's h rows in 8 bits, in either format (Q8_K for K-quant experts, Q8_0 for Q4 ...
     * Q5_1: ops_moe.c's xq8_fmt) */
    uint64_t moe_xq = c->n_experts ? vkg_op_matmul_xq_bytes(moe_pairs, c->moe_intermediate_size) : 0;
    uint64_t sizes[N_ACTS] = {
        cap * d * 4,
        cap * d * 4,
        cap * d * 4,
        cap * dq * 4,
        cap * dk * 4,
        cap * dv * 4,
        cap * da * 4,
        cap * ff * 4,
        cap * ff * 4,
        cap * ff * 4,
        cap * (lat ? lat : 1) * 4,
        vkg_attn_scratch_bytes(split_tok, c->n_heads, kc.dv, 16),
        c->n_experts ? vkg_moe_ws_layout(c, dev, cap).bytes : 16, /* MoE workspace (moe.c) */
        cap * 4,
        cap * 8,
        cap * 4,
        vkg_op_matmul_norm_counter_bytes(cap), /* vkg_op_matmul_add_norm's arrival counters */
        /* XQ8: the widest matmul input (hidden, attention output, FFN, MLA latents) in 8 bits, and
         * the expert down pass's h rows (one per token and slot; ops_moe.h) */
        dev && dev->use.xq8 ? max3(vkg_op_matmul_xq_bytes(cap, max3(max3(d, da, ff), lat, 0)), moe_xq, 0) + 16 : 16,
    };
    memcpy(t, sizes, sizeof sizes);
}

uint64_t vkg_model_scratch_bytes(const struct vkg_hf_config *c, const struct vkg_device *dev, uint32_t cap,
                                 uint64_t *largest)
{
    uint64_t t[N_ACTS], sum = 0;
    acts_sizes(c, dev, cap < 16 ? 16 : cap, t);
    *largest = 0;
    for (int i = 0; i < N_ACTS; i++) {
        sum += t[i];
        if (t[i] > *largest) *largest = t[i];
    }
    return sum;
}

/* Activation buffers for n tokens of this model (re-made when n grows). */
static enum vkg_status acts_ensure(struct vkg_model *m, uint32_t n)
{
    struct vkg_acts *a = &m->a;
    if (a->cap >= n) return VKG_OK;
    VKG_TRY(vkg_cmd_wait(m->cmd));
    acts_free(a);
    uint32_t cap = n < 16 ? 16 : n;
    uint64_t bytes[N_ACTS];
    acts_sizes(&m->cfg, m->dev, cap, bytes);
    const enum vkg_mem_kind D = VKG_MEM_DEVICE, H = VKG_MEM_HOST;
    struct {
        struct vkg_buffer **b;
        enum vkg_mem_kind kind;
        const char *name;
    } t[N_ACTS] = {
        { &a->res, D, "act res" },
        { &a->h, D, "act h" },
        { &a->delta, D, "act delta" },
        { &a->q, D, "act q" },
        { &a->k, D, "act k" },
        { &a->v, D, "act v" },
        { &a->attn, D, "act attn" },
        { &a->gate, D, "act gate" },
        { &a->up, D, "act up" },
        { &a->ff, D, "act ff" },
        { &a->lat, D, "act latent" },
        { &a->attn_scratch, D, "attn split-K" },
        { &a->moe, D, "moe workspace" },
        { &a->ids, H, "input ids" },
        { &a->tokens, H, "input tokens" },
        { &a->pos, H, "input positions" },
        { &a->counters, D, "act counters" },
        { &a->xq, D, "act x in 8 bits" },
    };
    for (size_t i = 0; i < N_ACTS; i++) VKG_TRY(vkg_buffer_create(m->dev, bytes[i], t[i].kind, t[i].name, t[i].b));
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

/* One forward function per architecture. */
static enum vkg_status record_trunk(struct vkg_model *m, struct vkg_kv_cache *kv, uint32_t n)
{
    switch (m->cfg.arch) {
    case VKG_ARCH_LLAMA:
    case VKG_ARCH_QWEN2:
    case VKG_ARCH_QWEN3: return vkg_arch_llama_forward(m, kv, n);
    case VKG_ARCH_QWEN3_MOE:
    case VKG_ARCH_MIXTRAL: return vkg_arch_moe_forward(m, kv, n);
    case VKG_ARCH_DEEPSEEK_V2: return vkg_arch_deepseek2_forward(m, kv, n);
    case VKG_ARCH_GEMMA2: return vkg_arch_gemma2_forward(m, kv, n);
    default: break;
    }
    return vkg_error(VKG_ERR_UNSUPPORTED, "%s: the %s forward pass is not implemented", m->cfg.architecture,
                     vkg_arch_name(m->cfg.arch));
}

/* Gathers the wanted rows of the final hidden state and applies the head
 * (m->head: lm_head, the tied embeddings, or the classifier's score);
 * Gemma-2 soft-caps the final logits. Every row wanted (decode steps): the
 * head reads the hidden state in place; else one copy per run of wanted rows
 * (a copy per row was ~200 launches per step of vkgrm-score's decode). */
static enum vkg_status record_head(struct vkg_model *m, const struct vkg_batch *b, uint32_t n_out)
{
    const struct vkg_hf_config *c = &m->cfg;
    struct vkg_acts *a = &m->a;
    uint64_t row = (uint64_t)c->hidden_size * 4;
    struct vkg_view x = vkg_buffer_view(a->h);
    if (n_out < b->n) {
        for (uint32_t i = 0, j = 0; i < b->n;) {
            if (b->want && !b->want[i]) {
                i++;
                continue;
            }
            uint32_t r = 1;
            while (i + r < b->n && (!b->want || b->want[i + r])) r++;
            vkg_cmd_copy(m->cmd, vkg_view_sub(vkg_buffer_view(a->h), i * row, r * row),
                         vkg_view_sub(vkg_buffer_view(a->rows), (uint64_t)j * row, r * row), r * row);
            i += r;
            j += r;
        }
        vkg_cmd_barrier(m->cmd);
        x = vkg_buffer_view(a->rows);
    }
    const struct vkg_weight *head = m->head;
    struct vkg_matmul_args ha = { .w = head->view,
                                  .wt = head->dtype,
                                  .n_out = m->out_dim,
                                  .n_in = c->hidden_size,
                                  .x = x,
                                  .y = vkg_buffer_view(a->logits),
                                  .n_tok = n_out,
                                  .w_tiled = head->tiled,
                                  .xq = vkg_buffer_view(a->xq) };
    VKG_TRY(vkg_op_matmul_ex(m->cmd, &ha));
    if (c->final_logit_softcapping > 0 && !c->seq_cls) {
        vkg_cmd_barrier(m->cmd);
        VKG_TRY(vkg_op_softcap(m->cmd, vkg_buffer_view(a->logits), vkg_buffer_view(a->logits),
                               (uint64_t)n_out * m->out_dim, (float)c->final_logit_softcapping));
    }
    return VKG_OK;
}

/* Decode-like steps of many sequences forked from one prompt (k samples; the
 * prefix cache shares a template head across records): the prefix whose
 * pages they all hold is attended once for all (cascade), when it is long
 * enough to pay for the two extra dispatches, the partials fit the scratch
 * and every per-token tensor fits one binding. VKGRM_DISABLE_CASCADE=1, or the
 * attn_lane tier: never. */
enum { CASCADE_MIN_PREFIX = 2 * VKG_ATTN_TILE, CASCADE_MIN_SEQS = 4 };

static uint32_t cascade_prefix(const struct vkg_model *m, const struct vkg_kv_cache *kv, const struct vkg_batch *b,
                               uint32_t runs)
{
    /* attn_lane (CPU drivers) reads K/V per token and beats the cascade there: vkg_op_attention_shared
       would hand the step to it anyway, so the prefix is not worked out and no cascade step counted */
    if (!kv || runs < CASCADE_MIN_SEQS || !m->dev->use.cascade || m->dev->use.attn_lane) return 0;
    uint64_t len = vkg_kv_common_prefix(kv, b->seq, b->n);
    for (uint32_t i = 0; i < b->n; i++) /* only positions written before this step */
        if ((uint64_t)b->pos[i] < len) len = (uint64_t)b->pos[i];
    if (len < CASCADE_MIN_PREFIX || len > UINT32_MAX) return 0;
    const struct vkg_kv_config *kc = &kv->cfg;
    uint64_t rows = (uint64_t)b->n * m->cfg.n_heads, win = vkg_max_window_bytes(m->dev);
    if (vkg_attn_scratch_bytes(b->n, m->cfg.n_heads, kc->dv, 2) > m->a.attn_scratch->size) return 0;
    if (rows * kc->dk * 4 > win || rows * kc->dv * 4 > win) return 0;
    return (uint32_t)len;
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
    uint32_t runs = 0; /* maximal runs of consecutive tokens of one sequence */
    for (uint32_t i = 0; i < b->n; i++) {
        if ((uint64_t)b->pos[i] + 1 > m->step_kv_len) m->step_kv_len = (uint64_t)b->pos[i] + 1;
        runs += i == 0 || b->seq[i] != b->seq[i - 1];
    }
    /* runs of 4+ tokens on average (prefill): attention rows of several tokens per workgroup */
    m->step_token_runs = b->n >= 4 * runs;
    m->step_prefix_len = m->step_token_runs ? 0 : cascade_prefix(m, kv, b, runs);
    m->cascade_steps += m->step_prefix_len > 0;
    VKG_TRY(vkg_cmd_begin(m->cmd));
    if (m->dev->use.resnorm) { /* zeros for vkg_op_matmul_add_norm (each launch leaves them so) */
        vkg_cmd_fill(m->cmd, vkg_buffer_view(m->a.counters), 0);
        vkg_cmd_barrier(m->cmd);
    }
    VKG_TRY(record_trunk(m, kv, b->n));
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
        VKG_TRY(vkg_buffer_download(m->dev,
                                    vkg_view_sub(vkg_buffer_view(m->a.logits), 0, (uint64_t)n_out * m->out_dim * 4),
                                    logits, (uint64_t)n_out * m->out_dim * 4));
    return VKG_OK;
}
