/* ops_attention.c — kv_append, attention and split-K launchers. Q, output
 * and token records are split into token chunks whose windows fit one
 * binding; the KV pools and tables are bound whole (kv_cache.c keeps them
 * within maxStorageBufferRange). */
#include "ops_attention.h"

#include "push_attention.h"
#include "vk_check.h"

/* The four cache bindings shared by append and attention: tokens window + tables + pools. */
static void cache_views(const struct vkg_kv_cache *kv, uint32_t layer, struct vkg_view *v)
{
    v[0] = vkg_buffer_view(kv->seq_table);
    v[1] = vkg_buffer_view(kv->page_table);
    v[2] = vkg_kv_k(kv, layer);
    v[3] = vkg_kv_v(kv, layer);
}

/* Largest token count per dispatch: each per-token tensor window fits one binding. */
static uint64_t token_chunk(const struct vkg_device *dev, uint64_t bytes_per_token)
{
    uint64_t n = vkg_max_window_bytes(dev) / bytes_per_token;
    uint64_t maxg = dev->info.max_workgroup_count[0];
    return n < maxg ? n : maxg;
}

static enum vkg_status check_view(const char *op, const char *what, struct vkg_view v, uint64_t need)
{
    if (v.size < need || !v.buf)
        return vkg_error(VKG_ERR_INVALID_ARG, "op '%s': %s view of '%s' is %llu bytes, shape needs %llu", op, what,
                         v.buf ? v.buf->name : "(no buffer)", (unsigned long long)v.size, (unsigned long long)need);
    return VKG_OK;
}

/* The q window of tokens [t0, t0 + n) and inv_freq (v[0], v[1]) and the RoPE push fields. */
static enum vkg_status rope_views(struct vkg_cmd *c, const struct vkg_kv_rope *r, uint32_t dk, uint64_t t0, uint64_t n,
                                  struct vkg_view *v, struct vkg_push_kv_append *p)
{
    uint64_t qr = (uint64_t)r->n_heads * dk * 4, skip;
    VKG_TRY(vkg_view_window(c->dev, r->q, t0 * qr, n * qr, &v[0], &skip));
    p->q_off = (uint32_t)(skip / 4);
    VKG_TRY(vkg_view_window(c->dev, r->inv_freq, 0, (uint64_t)r->rot_dim / 2 * 4, &v[1], &skip));
    if (skip) /* the shader reads inv_freq from the start of its binding */
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'kv_append_rope': inv_freq view at an unaligned offset (%llu)",
                         (unsigned long long)r->inv_freq.offset);
    p->n_heads = r->n_heads;
    p->rot_dim = r->rot_dim;
    p->dim_off = r->dim_off;
    p->interleaved = r->interleaved != 0;
    p->attn_factor = r->attn_factor;
    return VKG_OK;
}

/* The RoPE arguments' checks (op: the op's name for messages). */
static enum vkg_status rope_check(const char *op, const struct vkg_kv_rope *r, uint32_t dk, uint64_t n_tokens)
{
    if (r->n_heads == 0 || r->rot_dim == 0 || r->rot_dim % 2 || (uint64_t)r->dim_off + r->rot_dim > dk)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op '%s': %u query heads, rot_dim %u at dim %u of dk %u: rot_dim must be even and "
                         "inside the head",
                         op, r->n_heads, r->rot_dim, r->dim_off, dk);
    VKG_TRY(check_view(op, "q", r->q, n_tokens * r->n_heads * dk * 4));
    return check_view(op, "inv_freq", r->inv_freq, (uint64_t)r->rot_dim / 2 * 4);
}

/* The append's twin that reads its inputs as texels (CPU drivers). */
static enum vkg_op append_tx(enum vkg_op op)
{
    switch (op) {
    case VKG_OP_KV_APPEND: return VKG_OP_KV_APPEND_TX;
    case VKG_OP_KV_APPEND_F16: return VKG_OP_KV_APPEND_F16_TX;
    case VKG_OP_KV_APPEND_ROPE: return VKG_OP_KV_APPEND_ROPE_TX;
    case VKG_OP_KV_APPEND_ROPE_F16: return VKG_OP_KV_APPEND_ROPE_F16_TX;
    case VKG_OP_KV_APPEND_MLA: return VKG_OP_KV_APPEND_MLA_TX;
    case VKG_OP_KV_APPEND_MLA_F16: return VKG_OP_KV_APPEND_MLA_F16_TX;
    case VKG_OP_KV_APPEND_MLA_ROPE: return VKG_OP_KV_APPEND_MLA_ROPE_TX;
    case VKG_OP_KV_APPEND_MLA_ROPE_F16: return VKG_OP_KV_APPEND_MLA_ROPE_F16_TX;
    default: return op;
    }
}

/* Whether the *_tx append (a texel of 4 elements per invocation) can take this launch: every K and V
 * row, the MLA strides and offsets and the rotated range on whole texels (and in a NeoX rotation the
 * pair partners too); p holds the launch's offsets. */
static int append_texel_ok(const struct vkg_kv_config *cf, const struct vkg_kv_rope *r, int mla,
                           const struct vkg_push_kv_append *p)
{
    if (cf->dk % 4 || cf->dv % 4 || p->k_off % 4 || p->v_off % 4) return 0;
    if (mla && (p->k_ts % 4 || p->k_hs % 4 || p->v_ts % 4 || p->v_hs % 4 || p->k2_ts % 4 || p->k2_off % 4 ||
                p->k_split % 4 || p->k_split >= cf->dk))
        return 0;
    if (r && (r->dim_off % 4 || r->rot_dim % (r->interleaved ? 4 : 8) || p->q_off % 4)) return 0;
    return 1;
}

/* The launch every KV append shares: ops = { plain, F16 cache, +RoPE, +RoPE F16 cache }; views[0..nv)
 * are the op's own bindings, q and inv_freq follow when r rotates q and k in the same launch. One
 * invocation per (token, kv element), or per (token, q pair) where there are more of those. */
static enum vkg_status append_launch(struct vkg_cmd *c, const struct vkg_kv_config *cf, const struct vkg_kv_rope *r,
                                     const enum vkg_op ops[4], uint64_t t0, uint64_t n, struct vkg_view *views,
                                     uint32_t nv, struct vkg_push_kv_append *p)
{
    if (r) VKG_TRY(rope_views(c, r, cf->dk, t0, n, views + nv, p));
    enum vkg_op op = ops[(r ? 2 : 0) + (cf->f16 ? 1 : 0)];
    /* CPU drivers: the *_tx twin (append_tx) where every texel input's window starts on a texel and
       fits maxTexelBufferElements: views 0-4 (new K, new V, tokens, seqs, pages), k2 (MLA's view 7), q
       (read as texels too, then written through its storage view) and inv_freq */
    int tex = c->dev->use.texel;
    for (uint32_t i = 0; i < (r ? nv + 2 : nv); i++)
        if ((i < 5 || (nv == 8 && i == 7) || (r && i >= nv)) && !vkg_view_texel_ok(c->dev, views[i])) tex = 0;
    if (tex && !append_texel_ok(cf, r, nv == 8, p)) tex = 0; /* the storage variant takes any shape */
    uint32_t nb = r ? nv + 2 : nv;
    if (tex) {
        op = append_tx(op);
        p->n_seqs = (uint32_t)(views[3].size / 8);
        if (r) views[nb++] = views[nv]; /* q's texel binding */
    }
    /* per token: kv invocations (elements, F16 pairs, or texels on the *_tx path) or, where there are
       more, q rotations (pairs, or groups of 4 elements) */
    uint64_t per = tex ? 4 : cf->f16 ? 2 : 1;
    uint64_t threads = n * cf->n_kv_heads * ((cf->dk > cf->dv ? cf->dk : cf->dv) / per);
    if (r) {
        uint64_t nq =
            (uint64_t)r->n_heads * (tex ? (r->interleaved ? r->rot_dim / 4 : r->rot_dim / 8) : r->rot_dim / 2);
        if (nq * n > threads) threads = nq * n;
    }
    uint32_t ls = vkg_op_kernel(op)->local_size;
    return vkg_cmd_dispatch_op_1d(c, op, views, nb, p, (threads + ls - 1) / ls);
}

static enum vkg_status append_chunk(struct vkg_cmd *c, const struct vkg_kv_cache *kv, uint32_t layer, struct vkg_view k,
                                    struct vkg_view v, struct vkg_view tokens, const struct vkg_kv_rope *r, uint64_t t0,
                                    uint64_t n)
{
    const struct vkg_kv_config *cf = &kv->cfg;
    uint64_t kr = (uint64_t)cf->n_kv_heads * cf->dk * 4, vr = (uint64_t)cf->n_kv_heads * cf->dv * 4, skip;
    struct vkg_view views[10];
    struct vkg_push_kv_append p = { .n_tokens = (uint32_t)n,
                                    .n_kv_heads = cf->n_kv_heads,
                                    .dk = cf->dk,
                                    .dv = cf->v_in_k ? 0 : cf->dv, /* v_in_k: K alone (V is its start) */
                                    .page_size = cf->page_size };
    VKG_TRY(vkg_view_window(c->dev, k, t0 * kr, n * kr, &views[0], &skip));
    p.k_off = (uint32_t)(skip / 4);
    VKG_TRY(vkg_view_window(c->dev, v, t0 * vr, n * vr, &views[1], &skip));
    p.v_off = (uint32_t)(skip / 4);
    VKG_TRY(vkg_view_window(c->dev, tokens, t0 * 8, n * 8, &views[2], &skip));
    p.tok_off = (uint32_t)(skip / 8);
    cache_views(kv, layer, views + 3);
    const enum vkg_op ops[4] = { VKG_OP_KV_APPEND, VKG_OP_KV_APPEND_F16, VKG_OP_KV_APPEND_ROPE,
                                 VKG_OP_KV_APPEND_ROPE_F16 };
    return append_launch(c, cf, r, ops, t0, n, views, 7, &p);
}

static enum vkg_status append(struct vkg_cmd *c, const struct vkg_kv_cache *kv, uint32_t layer, struct vkg_view k,
                              struct vkg_view v, struct vkg_view tokens, uint64_t n_tokens, const struct vkg_kv_rope *r)
{
    const struct vkg_kv_config *cf = &kv->cfg;
    const char *op = r ? "kv_append_rope" : "kv_append";
    if (layer >= cf->n_layers)
        return vkg_error(VKG_ERR_INVALID_ARG, "op '%s': layer %u of %u", op, layer, cf->n_layers);
    uint64_t kr = (uint64_t)cf->n_kv_heads * cf->dk * 4, vr = (uint64_t)cf->n_kv_heads * cf->dv * 4;
    uint64_t qr = r ? (uint64_t)r->n_heads * cf->dk * 4 : 0;
    VKG_TRY(check_view(op, "K", k, n_tokens * kr));
    VKG_TRY(check_view(op, "V", v, n_tokens * vr));
    VKG_TRY(check_view(op, "tokens", tokens, n_tokens * 8));
    if (r) VKG_TRY(rope_check(op, r, cf->dk, n_tokens));
    uint64_t widest = kr > vr ? kr : vr;
    uint64_t chunk = token_chunk(c->dev, widest > qr ? widest : qr);
    uint64_t max_threads = (uint64_t)UINT32_MAX / 2; /* the shader's flat index is a uint */
    uint64_t per_tok = (uint64_t)cf->n_kv_heads * (cf->dk > cf->dv ? cf->dk : cf->dv);
    if (r && (uint64_t)r->n_heads * (r->rot_dim / 2) > per_tok) per_tok = (uint64_t)r->n_heads * (r->rot_dim / 2);
    if (chunk > max_threads / per_tok) chunk = max_threads / per_tok;
    for (uint64_t t0 = 0; t0 < n_tokens; t0 += chunk)
        VKG_TRY(append_chunk(c, kv, layer, k, v, tokens, r, t0, n_tokens - t0 < chunk ? n_tokens - t0 : chunk));
    return VKG_OK;
}

enum vkg_status vkg_op_kv_append(struct vkg_cmd *c, const struct vkg_kv_cache *kv, uint32_t layer, struct vkg_view k,
                                 struct vkg_view v, struct vkg_view tokens, uint64_t n_tokens)
{
    return append(c, kv, layer, k, v, tokens, n_tokens, NULL);
}

enum vkg_status vkg_op_kv_append_rope(struct vkg_cmd *c, const struct vkg_kv_cache *kv, uint32_t layer,
                                      struct vkg_view k, struct vkg_view v, struct vkg_view tokens, uint64_t n_tokens,
                                      const struct vkg_kv_rope *r)
{
    if (!r) return vkg_error(VKG_ERR_INVALID_ARG, "op 'kv_append_rope': no RoPE arguments");
    return append(c, kv, layer, k, v, tokens, n_tokens, r);
}

/* One token chunk of kv_append_mla: windows of k, k2, v from token t0 on. */
static enum vkg_status mla_chunk(struct vkg_cmd *c, const struct vkg_kv_cache *kv, uint32_t layer,
                                 const struct vkg_kv_mla *g, struct vkg_view tokens, const struct vkg_kv_rope *r,
                                 uint64_t t0, uint64_t n)
{
    const struct vkg_kv_config *cf = &kv->cfg;
    uint64_t skip, kh = (uint64_t)(cf->n_kv_heads - 1) * g->k_hs, vh = (uint64_t)(cf->n_kv_heads - 1) * g->v_hs;
    struct vkg_view views[11];
    struct vkg_push_kv_append p = { .n_tokens = (uint32_t)n,
                                    .n_kv_heads = cf->n_kv_heads,
                                    .dk = cf->dk,
                                    .dv = cf->v_in_k ? 0 : cf->dv, /* v_in_k: K alone (V is its start) */
                                    .page_size = cf->page_size,
                                    .k_ts = g->k_ts,
                                    .k_hs = g->k_hs,
                                    .v_ts = g->v_ts,
                                    .v_hs = g->v_hs,
                                    .k2_ts = g->k2_ts,
                                    .k_split = g->k_split };
    /* each window: the chunk's first row to the end of its last token's last head */
    VKG_TRY(
        vkg_view_window(c->dev, g->k, t0 * g->k_ts * 4, ((n - 1) * g->k_ts + kh + g->k_split) * 4, &views[0], &skip));
    p.k_off = (uint32_t)(skip / 4);
    VKG_TRY(vkg_view_window(c->dev, g->v, t0 * g->v_ts * 4, ((n - 1) * g->v_ts + vh + cf->dv) * 4, &views[1], &skip));
    p.v_off = (uint32_t)(skip / 4);
    VKG_TRY(vkg_view_window(c->dev, tokens, t0 * 8, n * 8, &views[2], &skip));
    p.tok_off = (uint32_t)(skip / 8);
    cache_views(kv, layer, views + 3);
    VKG_TRY(vkg_view_window(c->dev, g->k2, t0 * g->k2_ts * 4, ((n - 1) * g->k2_ts + cf->dk - g->k_split) * 4, &views[7],
                            &skip));
    p.k2_off = (uint32_t)(skip / 4);
    const enum vkg_op ops[4] = { VKG_OP_KV_APPEND_MLA, VKG_OP_KV_APPEND_MLA_F16, VKG_OP_KV_APPEND_MLA_ROPE,
                                 VKG_OP_KV_APPEND_MLA_ROPE_F16 };
    return append_launch(c, cf, r, ops, t0, n, views, 8, &p);
}

enum vkg_status vkg_op_kv_append_mla(struct vkg_cmd *c, const struct vkg_kv_cache *kv, uint32_t layer,
                                     const struct vkg_kv_mla *g, struct vkg_view tokens, uint64_t n_tokens,
                                     const struct vkg_kv_rope *r)
{
    const struct vkg_kv_config *cf = &kv->cfg;
    if (layer >= cf->n_layers)
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'kv_append_mla': layer %u of %u", layer, cf->n_layers);
    uint64_t H = cf->n_kv_heads;
    if (!g || g->k_split == 0 || g->k_split > cf->dk || g->k_hs < g->k_split || g->v_hs < cf->dv ||
        g->k_ts < H * g->k_hs || g->v_ts < H * g->v_hs || g->k2_ts < cf->dk - g->k_split)
        return vkg_error(
            VKG_ERR_INVALID_ARG,
            "op 'kv_append_mla': k_split %u of dk %u, strides k %u/%u v %u/%u k2 %u: rows must not overlap",
            g ? g->k_split : 0, cf->dk, g ? g->k_ts : 0, g ? g->k_hs : 0, g ? g->v_ts : 0, g ? g->v_hs : 0,
            g ? g->k2_ts : 0);
    if (n_tokens == 0) return VKG_OK;
    VKG_TRY(check_view("kv_append_mla", "K", g->k, ((n_tokens - 1) * g->k_ts + (H - 1) * g->k_hs + g->k_split) * 4));
    VKG_TRY(check_view("kv_append_mla", "V", g->v, ((n_tokens - 1) * g->v_ts + (H - 1) * g->v_hs + cf->dv) * 4));
    VKG_TRY(check_view("kv_append_mla", "K2", g->k2, ((n_tokens - 1) * g->k2_ts + cf->dk - g->k_split) * 4));
    VKG_TRY(check_view("kv_append_mla", "tokens", tokens, n_tokens * 8));
    if (r) VKG_TRY(rope_check("kv_append_mla", r, cf->dk, n_tokens));
    uint64_t widest = g->k_ts > g->v_ts ? g->k_ts : g->v_ts;
    if (g->k2_ts > widest) widest = g->k2_ts;
    if (r && (uint64_t)r->n_heads * cf->dk > widest) widest = (uint64_t)r->n_heads * cf->dk;
    uint64_t chunk = token_chunk(c->dev, widest * 4);
    uint64_t per_tok = H * (cf->dk > cf->dv ? cf->dk : cf->dv);
    if (r && (uint64_t)r->n_heads * (r->rot_dim / 2) > per_tok) per_tok = (uint64_t)r->n_heads * (r->rot_dim / 2);
    if (chunk > (uint64_t)UINT32_MAX / 2 / per_tok) chunk = (uint64_t)UINT32_MAX / 2 / per_tok;
    for (uint64_t t0 = 0; t0 < n_tokens; t0 += chunk)
        VKG_TRY(mla_chunk(c, kv, layer, g, tokens, r, t0, n_tokens - t0 < chunk ? n_tokens - t0 : chunk));
    return VKG_OK;
}

uint64_t vkg_attn_scratch_bytes(uint64_t n_tokens, uint32_t n_heads, uint32_t dv, uint32_t n_split)
{
    return n_tokens * n_heads * n_split * (2ull + dv) * 4;
}

struct attn_job {
    const struct vkg_kv_cache *kv;
    uint32_t layer;
    struct vkg_view q, tokens, out, scratch;
    struct vkg_push_attn p; /* everything but the per-chunk counts and offsets */
    int rows;               /* attn_rows (vkg_attn_params.token_runs) */
};

/* Merges the part_stride partials of each of n tokens x n_heads rows into out. */
static enum vkg_status combine_chunk(struct vkg_cmd *c, struct vkg_push_attn p, struct vkg_view part,
                                     struct vkg_view out, uint32_t n)
{
    struct vkg_view views[2] = { part, out };
    vkg_cmd_barrier(c); /* partials written by attn_split / attn_prefix */
    return vkg_cmd_dispatch_op(c, VKG_OP_ATTN_COMBINE, views, 2, &p, n, p.n_heads, 1);
}

/* The texel-buffer twin of an attention kernel where the device prefers texel
 * fetches (use.texel: CPU drivers), else op itself. */
static enum vkg_op tx(const struct vkg_device *dev, enum vkg_op op)
{
    if (!dev->use.texel) return op;
    switch (op) {
    case VKG_OP_ATTN: return VKG_OP_ATTN_TX;
    case VKG_OP_ATTN_SPLIT: return VKG_OP_ATTN_SPLIT_TX;
    case VKG_OP_ATTN_PREFIX: return VKG_OP_ATTN_PREFIX_TX;
    case VKG_OP_ATTN_ROWS: return VKG_OP_ATTN_ROWS_TX;
    case VKG_OP_ATTN_G1: return VKG_OP_ATTN_G1_TX;
    case VKG_OP_ATTN_SPLIT_G1: return VKG_OP_ATTN_SPLIT_G1_TX;
    case VKG_OP_ATTN_F16: return VKG_OP_ATTN_F16_TX;
    case VKG_OP_ATTN_SPLIT_F16: return VKG_OP_ATTN_SPLIT_F16_TX;
    case VKG_OP_ATTN_PREFIX_F16: return VKG_OP_ATTN_PREFIX_F16_TX;
    case VKG_OP_ATTN_ROWS_F16: return VKG_OP_ATTN_ROWS_F16_TX;
    case VKG_OP_ATTN_G1_F16: return VKG_OP_ATTN_G1_F16_TX;
    case VKG_OP_ATTN_SPLIT_G1_F16: return VKG_OP_ATTN_SPLIT_G1_F16_TX;
    default: return op;
    }
}

/* attn or attn_split (partials), over F32 or F16 pages; the one-row *_g1
 * kernels when each KV head has one query head (MHA, MLA). */
static enum vkg_op attn_op(const struct vkg_device *dev, const struct vkg_push_attn *p, int f16, int split)
{
    int g1 = p->n_heads == p->n_kv_heads && dev->use.attn_rows;
    if (split)
        return g1 ? (f16 ? VKG_OP_ATTN_SPLIT_G1_F16 : VKG_OP_ATTN_SPLIT_G1)
                  : (f16 ? VKG_OP_ATTN_SPLIT_F16 : VKG_OP_ATTN_SPLIT);
    return g1 ? (f16 ? VKG_OP_ATTN_G1_F16 : VKG_OP_ATTN_G1) : (f16 ? VKG_OP_ATTN_F16 : VKG_OP_ATTN);
}

int vkg_attn_wide_ok(const struct vkg_device *dev)
{
    return dev->use.attn_wide && dev->info.max_compute_shared_memory >= VKG_ATTN_WIDE_SHARED;
}

uint32_t vkg_attn_lane_heads(const struct vkg_device *dev, uint32_t n_heads, uint32_t n_kv_heads, uint32_t dk,
                             uint32_t dv)
{
    uint32_t group = n_kv_heads && n_heads % n_kv_heads == 0 ? n_heads / n_kv_heads : 1, best = 1;
    if (!dev->use.attn_group) return 1;
    if ((dk + dv) / 4 > VKG_ATTN_LANE_STATE) { /* wide rows: a few heads per fetch */
        for (uint32_t gh = 2; gh <= group && gh <= VKG_ATTN_LANE_GH_WIDE; gh++)
            if (group % gh == 0) best = gh;
        return best;
    }
    for (uint32_t gh = 2; gh <= group && gh <= VKG_ATTN_LANE_GH; gh++)
        if (group % gh == 0 && gh * (dk + dv) / 4 <= VKG_ATTN_LANE_STATE) best = gh;
    return best;
}

static enum vkg_status attn_chunk(struct vkg_cmd *c, const struct attn_job *j, uint64_t t0, uint64_t n)
{
    struct vkg_push_attn p = j->p;
    uint64_t qr = (uint64_t)p.n_heads * p.dk * 4, orow = (uint64_t)p.n_heads * p.dv * 4, skip;
    int split = p.n_split > 1;
    struct vkg_view views[7], out_win, part_win;
    p.n_tokens = (uint32_t)n;
    VKG_TRY(vkg_view_window(c->dev, j->q, t0 * qr, n * qr, &views[0], &skip));
    p.q_off = (uint32_t)(skip / 4);
    VKG_TRY(vkg_view_window(c->dev, j->tokens, t0 * 8, n * 8, &views[1], &skip));
    p.tok_off = (uint32_t)(skip / 8);
    cache_views(j->kv, j->layer, views + 2);
    VKG_TRY(vkg_view_window(c->dev, j->out, t0 * orow, n * orow, &out_win, &skip));
    uint32_t out_off = (uint32_t)(skip / 4);
    if (split) {
        uint64_t pb = vkg_attn_scratch_bytes(n, p.n_heads, p.dv, p.n_split);
        VKG_TRY(vkg_view_window(c->dev, j->scratch, 0, pb, &part_win, &skip));
        if (t0) vkg_cmd_barrier(c); /* the previous chunk's combine read the scratch */
    }
    p.o_off = split ? (uint32_t)(skip / 4) : out_off;
    p.part_stride = p.n_split;
    views[6] = split ? part_win : out_win;
    uint32_t gx = (uint32_t)n, gy = p.n_kv_heads * p.head_chunks;
    enum vkg_op op = attn_op(c->dev, &p, j->kv->cfg.f16, split);
    /* attn_lane reads q as 16-byte texels: its window on a texel (always so for the models' activations;
       otherwise the tiled kernels below) */
    uint64_t ta = vkg_texel_align(c->dev);
    int q_texels = views[0].offset % ta == 0 && p.q_off % 4 == 0;
    if (c->dev->use.attn_lane && q_texels) { /* one subgroup per (token, GH query heads of a KV head) */
        static const enum vkg_op lane[2][2][2] = {
            /* [v_in_k][f16][split] */
            { { VKG_OP_ATTN_LANE, VKG_OP_ATTN_LANE_SPLIT }, { VKG_OP_ATTN_LANE_F16, VKG_OP_ATTN_LANE_SPLIT_F16 } },
            { { VKG_OP_ATTN_LANE_VK, VKG_OP_ATTN_LANE_SPLIT_VK },
              { VKG_OP_ATTN_LANE_F16_VK, VKG_OP_ATTN_LANE_SPLIT_F16_VK } }
        };
        op = lane[j->kv->cfg.v_in_k != 0][j->kv->cfg.f16 != 0][split];
        uint32_t gh = vkg_attn_lane_heads(c->dev, p.n_heads, p.n_kv_heads, p.dk, p.dv);
        VKG_TRY(vkg_cmd_dispatch_op_spec(c, op, p.dk / 4, p.dv / 4, gh, views, 7, &p, gx, p.n_heads / gh, p.n_split));
    } else if (p.dk > VKG_ATTN_DMAX || p.dv > VKG_ATTN_DMAX) { /* rows past attn's shared memory: attn_wide */
        if (!vkg_attn_wide_ok(c->dev) || p.dk > VKG_ATTN_WIDE_DK || p.dv > VKG_ATTN_WIDE_DV)
            return vkg_error(VKG_ERR_UNSUPPORTED, "op 'attn': dk %u / dv %u need attn_wide (<= %u / %u) or attn_lane",
                             p.dk, p.dv, VKG_ATTN_WIDE_DK, VKG_ATTN_WIDE_DV);
        int f16 = j->kv->cfg.f16;
        op = split ? (f16 ? VKG_OP_ATTN_SPLIT_WIDE_F16 : VKG_OP_ATTN_SPLIT_WIDE)
                   : (f16 ? VKG_OP_ATTN_WIDE_F16 : VKG_OP_ATTN_WIDE);
        VKG_TRY(vkg_cmd_dispatch_op(c, op, views, 7, &p, gx, gy, p.n_split));
    } else if (j->rows) { /* attn_rows: (token, head) rows of a KV head, 8 per workgroup */
        uint64_t rows = n * (p.n_heads / p.n_kv_heads);
        gx = (uint32_t)((rows + VKG_ATTN_TOKEN_ROWS - 1) / VKG_ATTN_TOKEN_ROWS);
        gy = p.n_kv_heads;
        op = j->kv->cfg.f16 ? VKG_OP_ATTN_ROWS_F16 : VKG_OP_ATTN_ROWS;
        VKG_TRY(vkg_cmd_dispatch_op(c, tx(c->dev, op), views, 7, &p, gx, gy, p.n_split));
    } else VKG_TRY(vkg_cmd_dispatch_op(c, tx(c->dev, op), views, 7, &p, gx, gy, p.n_split));
    if (!split) return VKG_OK;
    struct vkg_push_attn pc = p;
    pc.q_off = p.o_off; /* combine reads partials at q_off, writes out at o_off */
    pc.o_off = out_off;
    return combine_chunk(c, pc, part_win, out_win, (uint32_t)n);
}

/* Splits of a KV range of len positions when wgs workgroups would run without
 * splitting: enough to give a GPU ~256 workgroups, >= 256 positions each, <= 32. */
static uint64_t auto_split(uint64_t len, uint64_t wgs)
{
    if (wgs >= 128 || len < 512) return 1;
    uint64_t by_len = (len + 255) / 256, by_wgs = (256 + wgs - 1) / wgs;
    uint64_t n = by_len < by_wgs ? by_len : by_wgs;
    return n > 32 ? 32 : n;
}

/* KV splits: as asked, else automatic within the scratch given (none: 1). */
static uint32_t pick_split(const struct vkg_attn_params *ap, uint64_t wgs, uint64_t split_bytes, uint64_t scratch)
{
    uint64_t n = ap->n_split;
    if (n == 0) {
        n = auto_split(ap->max_kv_len, wgs);
        if (n > scratch / split_bytes) n = scratch / split_bytes;
    }
    return n < 1 ? 1 : (uint32_t)n;
}

static uint32_t split_len(uint64_t len, uint32_t n_split)
{
    uint64_t sl = ((len ? len : 1) + n_split - 1) / n_split;
    return (uint32_t)((sl + VKG_ATTN_TILE - 1) / VKG_ATTN_TILE * VKG_ATTN_TILE);
}

static enum vkg_status check_attn(const struct vkg_device *dev, const struct vkg_kv_cache *kv, uint32_t layer,
                                  const struct vkg_attn_params *ap)
{
    const struct vkg_kv_config *cf = &kv->cfg;
    if (layer >= cf->n_layers) return vkg_error(VKG_ERR_INVALID_ARG, "op 'attn': layer %u of %u", layer, cf->n_layers);
    if (!ap->n_heads || ap->n_heads % cf->n_kv_heads)
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'attn': %u query heads is not a multiple of %u KV heads", ap->n_heads,
                         cf->n_kv_heads);
    /* attn.comp keeps <= VKG_ATTN_DMAX elements per row in shared memory; attn_lane keeps the rows in
     * registers, sized by specialization constants (DeepSeek's latent rows: dk 576, dv 512) */
    uint32_t dk_max = dev->use.attn_lane      ? VKG_ATTN_LANE_DMAX
                      : vkg_attn_wide_ok(dev) ? VKG_ATTN_WIDE_DK
                                              : VKG_ATTN_DMAX;
    uint32_t dv_max = dev->use.attn_lane      ? VKG_ATTN_LANE_DMAX
                      : vkg_attn_wide_ok(dev) ? VKG_ATTN_WIDE_DV
                                              : VKG_ATTN_DMAX;
    if (cf->dk > dk_max || cf->dv > dv_max || cf->dk % 4 || cf->dv % 4)
        return vkg_error(VKG_ERR_UNSUPPORTED,
                         "op 'attn': head sizes dk %u / dv %u: need multiples of 4, dk <= %u, dv <= %u", cf->dk, cf->dv,
                         dk_max, dv_max);
    return VKG_OK;
}

static struct vkg_push_attn base_push(const struct vkg_kv_config *cf, const struct vkg_attn_params *ap)
{
    uint32_t group = ap->n_heads / cf->n_kv_heads;
    return (struct vkg_push_attn){ .n_heads = ap->n_heads,
                                   .n_kv_heads = cf->n_kv_heads,
                                   .dk = cf->dk,
                                   .dv = cf->dv,
                                   .page_size = cf->page_size,
                                   .window = ap->window,
                                   .scale = ap->scale,
                                   .softcap = ap->softcap,
                                   .head_chunks = (group + VKG_ATTN_GMAX - 1) / VKG_ATTN_GMAX,
                                   .v_row4 = (cf->v_in_k ? cf->dk : cf->dv) / 4 };
}

enum vkg_status vkg_op_attention(struct vkg_cmd *c, const struct vkg_kv_cache *kv, uint32_t layer, struct vkg_view q,
                                 struct vkg_view tokens, struct vkg_view out, struct vkg_view scratch,
                                 uint64_t n_tokens, const struct vkg_attn_params *ap)
{
    VKG_TRY(check_attn(c->dev, kv, layer, ap));
    const struct vkg_kv_config *cf = &kv->cfg;
    struct attn_job j = { kv, layer, q, tokens, out, scratch, base_push(cf, ap) };
    uint64_t qr = (uint64_t)ap->n_heads * cf->dk * 4, orow = (uint64_t)ap->n_heads * cf->dv * 4;
    VKG_TRY(check_view("attn", "Q", q, n_tokens * qr));
    VKG_TRY(check_view("attn", "output", out, n_tokens * orow));
    VKG_TRY(check_view("attn", "tokens", tokens, n_tokens * 8));
    uint64_t wgs = n_tokens * cf->n_kv_heads * j.p.head_chunks;
    uint64_t split_bytes = vkg_attn_scratch_bytes(n_tokens, ap->n_heads, cf->dv, 1);
    int wide = cf->dk > VKG_ATTN_DMAX || cf->dv > VKG_ATTN_DMAX; /* attn_lane or attn_wide */
    j.rows = ap->token_runs && c->dev->use.attn_rows && !wide;
    j.p.n_split = j.rows ? 1 : pick_split(ap, wgs, split_bytes, scratch.buf ? scratch.size : 0);
    uint64_t per_tok = qr > orow ? qr : orow, pb = 0;
    if (j.p.n_split > 1) {
        j.p.split_len = split_len(ap->max_kv_len, j.p.n_split);
        pb = vkg_attn_scratch_bytes(1, ap->n_heads, cf->dv, j.p.n_split);
        if (pb > per_tok) per_tok = pb;
    }
    uint64_t chunk = token_chunk(c->dev, per_tok);
    if (pb) {
        if (!scratch.buf)
            return vkg_error(VKG_ERR_INVALID_ARG, "op 'attn': %u KV splits need a scratch view", j.p.n_split);
        VKG_TRY(check_view("attn", "split-K scratch", scratch, pb * (n_tokens < chunk ? n_tokens : chunk)));
    }
    for (uint64_t t0 = 0; t0 < n_tokens; t0 += chunk)
        VKG_TRY(attn_chunk(c, &j, t0, n_tokens - t0 < chunk ? n_tokens - t0 : chunk));
    return VKG_OK;
}

/* The cascade's windows: Q, tokens, partials (views[6]) and output, all tokens at once. */
static enum vkg_status cascade_windows(struct vkg_cmd *c, const struct attn_job *j, uint64_t n, uint64_t part_bytes,
                                       struct vkg_view *views, struct vkg_view *out_win, struct vkg_push_attn *p,
                                       uint32_t *out_off)
{
    uint64_t skip;
    VKG_TRY(vkg_view_window(c->dev, j->q, 0, n * p->n_heads * p->dk * 4, &views[0], &skip));
    p->q_off = (uint32_t)(skip / 4);
    VKG_TRY(vkg_view_window(c->dev, j->tokens, 0, n * 8, &views[1], &skip));
    p->tok_off = (uint32_t)(skip / 8);
    cache_views(j->kv, j->layer, views + 2);
    VKG_TRY(vkg_view_window(c->dev, j->scratch, 0, part_bytes, &views[6], &skip));
    p->o_off = (uint32_t)(skip / 4);
    VKG_TRY(vkg_view_window(c->dev, j->out, 0, n * p->n_heads * p->dv * 4, out_win, &skip));
    *out_off = (uint32_t)(skip / 4);
    return VKG_OK;
}

enum vkg_status vkg_op_attention_shared(struct vkg_cmd *c, const struct vkg_kv_cache *kv, uint32_t layer,
                                        struct vkg_view q, struct vkg_view tokens, struct vkg_view out,
                                        struct vkg_view scratch, uint64_t n_tokens, uint32_t prefix_len,
                                        const struct vkg_attn_params *ap)
{
    VKG_TRY(check_attn(c->dev, kv, layer, ap));
    if (!n_tokens) return VKG_OK;
    /* attn_lane reads each row's K/V in registers-only lanes, with nothing to share
       between rows: the prefix is just the first pages of every sequence */
    if (c->dev->use.attn_lane || kv->cfg.dk > VKG_ATTN_DMAX ||
        kv->cfg.dv > VKG_ATTN_DMAX) /* no attn_prefix for wide rows */
        return vkg_op_attention(c, kv, layer, q, tokens, out, scratch, n_tokens, ap);
    const struct vkg_kv_config *cf = &kv->cfg;
    struct attn_job j = { kv, layer, q, tokens, out, scratch, base_push(cf, ap) };
    struct vkg_push_attn p = j.p;
    VKG_TRY(check_view("attn_prefix", "Q", q, n_tokens * p.n_heads * p.dk * 4));
    VKG_TRY(check_view("attn_prefix", "output", out, n_tokens * p.n_heads * p.dv * 4));
    VKG_TRY(check_view("attn_prefix", "tokens", tokens, n_tokens * 8));
    uint64_t rows = n_tokens * (ap->n_heads / cf->n_kv_heads);
    uint32_t row_chunks = (uint32_t)((rows + VKG_ATTN_PREFIX_ROWS - 1) / VKG_ATTN_PREFIX_ROWS);
    uint64_t suffix = ap->max_kv_len > prefix_len ? ap->max_kv_len - prefix_len : 1;
    uint32_t sp = (uint32_t)(ap->n_split ? ap->n_split : auto_split(prefix_len, (uint64_t)row_chunks * p.n_kv_heads));
    uint32_t ss = (uint32_t)(ap->n_split ? ap->n_split : auto_split(suffix, n_tokens * p.n_kv_heads * p.head_chunks));
    /* automatic splits shrink to the scratch given (asked ones must fit) */
    uint64_t per_split = vkg_attn_scratch_bytes(n_tokens, ap->n_heads, cf->dv, 1);
    while (!ap->n_split && (uint64_t)(sp + ss) * per_split > scratch.size && sp + ss > 2) {
        if (sp >= ss) sp--;
        else ss--;
    }
    uint64_t pb = vkg_attn_scratch_bytes(n_tokens, ap->n_heads, cf->dv, sp + ss);
    if (!scratch.buf)
        return vkg_error(VKG_ERR_INVALID_ARG, "op 'attn_prefix': needs a scratch view of %llu bytes",
                         (unsigned long long)pb);
    VKG_TRY(check_view("attn_prefix", "scratch", scratch, pb));
    struct vkg_view views[7], out_win;
    uint32_t out_off;
    VKG_TRY(cascade_windows(c, &j, n_tokens, pb, views, &out_win, &p, &out_off));
    p.n_tokens = (uint32_t)n_tokens;
    p.part_stride = sp + ss;
    /* the shared prefix [0, prefix_len): partial slots 0 .. sp-1 */
    struct vkg_push_attn pp = p;
    pp.n_split = sp;
    pp.split_len = split_len(prefix_len, sp);
    pp.prefix_len = prefix_len;
    VKG_TRY(vkg_cmd_dispatch_op(c, tx(c->dev, cf->f16 ? VKG_OP_ATTN_PREFIX_F16 : VKG_OP_ATTN_PREFIX), views, 7, &pp,
                                row_chunks, p.n_kv_heads, sp));
    /* each token's own positions [prefix_len, pos]: slots sp .. sp+ss-1 */
    struct vkg_push_attn ps = p;
    ps.n_split = ss;
    ps.split_len = split_len(suffix, ss);
    ps.kv_start = prefix_len;
    ps.part_base = sp;
    VKG_TRY(vkg_cmd_dispatch_op(c, tx(c->dev, attn_op(c->dev, &p, cf->f16, 1)), views, 7, &ps, (uint32_t)n_tokens,
                                p.n_kv_heads * p.head_chunks, ss));
    struct vkg_push_attn pc = p;
    pc.q_off = p.o_off;
    pc.o_off = out_off;
    return combine_chunk(c, pc, views[6], out_win, (uint32_t)n_tokens);
}
