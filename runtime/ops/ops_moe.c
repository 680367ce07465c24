/* ops_moe.c — MoE launchers: router top-k, grouping by expert, expert FFN
 * over stacked weights split into binding windows of whole experts, combine. */
#include "ops_moe.h"
#include "ops_matmul.h" /* XQ8: vkg_op_quantize_x */

#include "ops_norm.h"
#include "push_moe.h"
#include "push_norm.h"
#include "vk_check.h"

#include <string.h>

#define GATE_UP_NR 2u /* output rows per step of a workgroup (moe_ffn.comp NR) */
#define DOWN_NR 4u
#define CPU_ROWS 32u /* rows per workgroup on a CPU device, where each workgroup costs microseconds */

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

static uint64_t max_tiles(uint32_t n_exp, uint64_t n_pairs)
{
    return ceil_div(n_pairs, VKG_MOE_TILE) + (n_exp < n_pairs ? n_exp : n_pairs);
}

uint64_t vkg_moe_route_bytes(uint32_t n_exp, uint64_t n_pairs)
{
    return 4 * (3ull * n_exp + 1 + max_tiles(n_exp, n_pairs));
}

/* Binds the first `bytes` of v as one window; *off = elements of size `elem`
 * between the window start and v. Activations, routing and scratch must fit
 * one binding: the caller splits a larger token batch. */
static enum vkg_status bind_all(struct vkg_cmd *c, const char *op, const char *what, struct vkg_view v, uint64_t bytes,
                                uint32_t elem, struct vkg_view *win, uint32_t *off)
{
    uint64_t skip;
    if (!v.buf || bytes > v.size || v.offset % elem)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op '%s': %s '%s': view of %llu bytes at offset %llu, needs %llu "
                         "bytes aligned to %u",
                         op, what, v.buf ? v.buf->name : "(null)", (unsigned long long)v.size,
                         (unsigned long long)v.offset, (unsigned long long)bytes, elem);
    enum vkg_status s = vkg_view_window(c->dev, v, 0, bytes ? bytes : 4, win, &skip);
    if (s == VKG_ERR_LIMIT)
        return vkg_error(s,
                         "op '%s': %s '%s' of %llu bytes exceeds one binding (maxStorageBufferRange %llu): "
                         "split the token batch",
                         op, what, v.buf->name, (unsigned long long)bytes,
                         (unsigned long long)c->dev->info.max_storage_buffer_range);
    VKG_TRY(s);
    *off = (uint32_t)(skip / elem);
    return VKG_OK;
}

static enum vkg_status check_router(const struct vkg_moe_router *r)
{
    if (!r->n_exp || r->n_exp > VKG_MOE_MAX_EXPERTS || !r->k || r->k > VKG_MOE_MAX_K || r->k > r->n_exp)
        return vkg_error(VKG_ERR_UNSUPPORTED,
                         "op 'moe_gate': %u experts top-%u (supported: n_exp <= %u, "
                         "1 <= k <= min(%u, n_exp))",
                         r->n_exp, r->k, VKG_MOE_MAX_EXPERTS, VKG_MOE_MAX_K);
    if (r->n_group > 1 &&
        (r->n_group > VKG_MOE_MAX_GROUPS || r->n_exp % r->n_group || !r->topk_group || r->topk_group > r->n_group))
        return vkg_error(VKG_ERR_UNSUPPORTED,
                         "op 'moe_gate': n_group %u topk_group %u for %u experts (need "
                         "n_group <= %u dividing n_exp, 1 <= topk_group <= n_group)",
                         r->n_group, r->topk_group, r->n_exp, VKG_MOE_MAX_GROUPS);
    return VKG_OK;
}

/* The router's push constants and its four bindings (logits, ids, weights, bias). */
static enum vkg_status gate_args(struct vkg_cmd *c, const struct vkg_moe_router *r, uint32_t n_tok,
                                 struct vkg_view logits, struct vkg_view ids, struct vkg_view weights,
                                 struct vkg_view v[4], struct vkg_push_moe_gate *p)
{
    *p = (struct vkg_push_moe_gate){ .n_tok = n_tok,
                                     .n_exp = r->n_exp,
                                     .k = r->k,
                                     .n_group = r->n_group,
                                     .topk_group = r->topk_group,
                                     .scale = r->scale };
    p->flags = (r->sigmoid ? VKG_MOE_GATE_SIGMOID : 0) | (r->norm ? VKG_MOE_GATE_NORM : 0) |
               (r->bias.buf ? VKG_MOE_GATE_BIAS : 0) | (r->v3_groups ? VKG_MOE_GATE_V3_GROUPS : 0);
    VKG_TRY(bind_all(c, "moe_gate", "logits", logits, (uint64_t)n_tok * r->n_exp * 4, 4, &v[0], &p->logit_off));
    VKG_TRY(bind_all(c, "moe_gate", "ids", ids, (uint64_t)n_tok * r->k * 4, 4, &v[1], &p->ids_off));
    VKG_TRY(bind_all(c, "moe_gate", "weights", weights, (uint64_t)n_tok * r->k * 4, 4, &v[2], &p->w_off));
    if (r->bias.buf) VKG_TRY(bind_all(c, "moe_gate", "bias", r->bias, (uint64_t)r->n_exp * 4, 4, &v[3], &p->bias_off));
    else v[3] = v[0]; /* not read */
    return VKG_OK;
}

/* The SG tier: subgroup arithmetic and subgroups of 8 .. 64 lanes (one token per subgroup). */
static int gate_sg_ok(const struct vkg_device *dev)
{
    const struct vkg_device_info *di = &dev->info;
    uint32_t ls = vkg_op_kernel(VKG_OP_MOE_GATE_SG)->local_size;
    return dev->use.subgroup_arith && di->subgroup_max_size >= 8 && di->subgroup_max_size <= ls;
}

enum vkg_status vkg_op_moe_gate(struct vkg_cmd *c, const struct vkg_moe_router *r, uint32_t n_tok,
                                struct vkg_view logits, struct vkg_view ids, struct vkg_view weights)
{
    VKG_TRY(check_router(r));
    if (!n_tok) return VKG_OK;
    struct vkg_view v[4];
    struct vkg_push_moe_gate p;
    VKG_TRY(gate_args(c, r, n_tok, logits, ids, weights, v, &p));
    /* SG tier: one subgroup per token; a workgroup has at least 64 / max subgroup size of them */
    const struct vkg_device_info *di = &c->dev->info;
    uint32_t ls = vkg_op_kernel(VKG_OP_MOE_GATE_SG)->local_size;
    if (gate_sg_ok(c->dev)) {
        p.tok_per_wg = ls / di->subgroup_max_size;
        VKG_TRY(vkg_cmd_dispatch_op_1d(c, VKG_OP_MOE_GATE_SG, v, 4, &p, ceil_div(n_tok, p.tok_per_wg)));
    } else {
        VKG_TRY(vkg_cmd_dispatch_op_1d(c, VKG_OP_MOE_GATE, v, 4, &p, n_tok)); /* one workgroup per token */
    }
    return VKG_OK;
}

enum vkg_status vkg_op_moe_group(struct vkg_cmd *c, uint32_t n_pairs, uint32_t n_exp, struct vkg_view ids,
                                 struct vkg_view route, struct vkg_view list)
{
    if (!n_exp || n_exp > VKG_MOE_MAX_EXPERTS)
        return vkg_error(VKG_ERR_UNSUPPORTED, "op 'moe_group': %u experts (at most %u)", n_exp, VKG_MOE_MAX_EXPERTS);
    struct vkg_view vi, vr, vl;
    struct vkg_push_moe_route p = { .n_pairs = n_pairs, .n_exp = n_exp };
    VKG_TRY(bind_all(c, "moe_group", "ids", ids, (uint64_t)n_pairs * 4, 4, &vi, &p.ids_off));
    VKG_TRY(bind_all(c, "moe_group", "route", route, vkg_moe_route_bytes(n_exp, n_pairs), 4, &vr, &p.route_off));
    VKG_TRY(bind_all(c, "moe_group", "list", list, (uint64_t)n_pairs * 4, 4, &vl, &p.list_off));
    struct vkg_view count_v[2] = { vi, vr }, scatter_v[3] = { vi, vr, vl };
    if (n_pairs <= VKG_MOE_GROUP1_MAX_PAIRS) /* decode-sized: count, scan and scatter in one workgroup */
        return vkg_cmd_dispatch_op(c, VKG_OP_MOE_GROUP1, scatter_v, 3, &p, 1, 1, 1);
    VKG_TRY(vkg_cmd_dispatch_op(c, VKG_OP_MOE_COUNT, count_v, 2, &p, 1, 1, 1));
    vkg_cmd_barrier(c);
    VKG_TRY(vkg_cmd_dispatch_op(c, VKG_OP_MOE_SCAN, &vr, 1, &p, 1, 1, 1));
    vkg_cmd_barrier(c);
    uint32_t ls = vkg_op_kernel(VKG_OP_MOE_SCATTER)->local_size;
    if (n_pairs) VKG_TRY(vkg_cmd_dispatch_op_1d(c, VKG_OP_MOE_SCATTER, scatter_v, 3, &p, ceil_div(n_pairs, ls)));
    return VKG_OK;
}

enum vkg_status vkg_op_moe_gate_group(struct vkg_cmd *c, const struct vkg_moe_router *r, uint32_t n_tok,
                                      struct vkg_view logits, struct vkg_view ids, struct vkg_view weights,
                                      struct vkg_view route, struct vkg_view list)
{
    VKG_TRY(check_router(r));
    if (!n_tok) return VKG_OK;
    if (!gate_sg_ok(c->dev) || !c->dev->use.gate_group || n_tok > VKG_MOE_GATE_GROUP_MAX_TOK) {
        VKG_TRY(vkg_op_moe_gate(c, r, n_tok, logits, ids, weights));
        vkg_cmd_barrier(c);
        return vkg_op_moe_group(c, n_tok * r->k, r->n_exp, ids, route, list);
    }
    struct vkg_view v[6];
    struct vkg_push_moe_gate p;
    VKG_TRY(gate_args(c, r, n_tok, logits, ids, weights, v, &p));
    uint32_t n_pairs = n_tok * r->k;
    VKG_TRY(
        bind_all(c, "moe_gate_group", "route", route, vkg_moe_route_bytes(r->n_exp, n_pairs), 4, &v[4], &p.route_off));
    VKG_TRY(bind_all(c, "moe_gate_group", "list", list, (uint64_t)n_pairs * 4, 4, &v[5], &p.list_off));
    return vkg_cmd_dispatch_op(c, VKG_OP_MOE_GATE_GROUP_SG, v, 6, &p, 1, 1, 1);
}

/* Bound windows shared by the gate_up and down passes. */
struct ffn_job {
    const struct vkg_moe_weights *w;
    const char *op;                       /* for messages */
    uint32_t k;                           /* slots per token (1 when dense) */
    uint32_t rows;                        /* dense: rows (tokens) */
    uint64_t tiles;                       /* workgroups in y: tile-list bound, or dense row tiles */
    int dense;                            /* every row to expert 0 (shared expert) */
    uint64_t pairs;                       /* (token, expert) pairs of the step */
    struct vkg_view x, route, list, h, y; /* windows */
    uint32_t x_off, route_off, list_off, h_off, y_off;
    struct vkg_view xq; /* XQ8 scratch (vkg_op_moe_xq_bytes), or empty */
};

/* The expert weight types, in the order of the op tables below. */
static const enum vkg_dtype g_ffn_types[11] = { VKG_DTYPE_F32,  VKG_DTYPE_F16,  VKG_DTYPE_BF16, VKG_DTYPE_Q8_0,
                                                VKG_DTYPE_Q4,   VKG_DTYPE_Q4_1, VKG_DTYPE_Q5_0, VKG_DTYPE_Q5_1,
                                                VKG_DTYPE_Q4_K, VKG_DTYPE_Q5_K, VKG_DTYPE_Q6_K };

/* one pass's ops (suffix sfx: tier) in g_ffn_types' order */
#define FFN_OPS(pass, sfx)                                                                               \
    {                                                                                                    \
        VKG_OP_MOE_##pass##_F32##sfx, VKG_OP_MOE_##pass##_F16##sfx, VKG_OP_MOE_##pass##_BF16##sfx,       \
            VKG_OP_MOE_##pass##_Q8_0##sfx, VKG_OP_MOE_##pass##_Q4##sfx, VKG_OP_MOE_##pass##_Q4_1##sfx,   \
            VKG_OP_MOE_##pass##_Q5_0##sfx, VKG_OP_MOE_##pass##_Q5_1##sfx, VKG_OP_MOE_##pass##_Q4_K##sfx, \
            VKG_OP_MOE_##pass##_Q5_K##sfx, VKG_OP_MOE_##pass##_Q6_K##sfx                                 \
    }

/* The expert FFN pipeline: dtype x pass x tier (subgroup tier when the
 * device has subgroup arithmetic and VKGRM_DISABLE_SUBGROUP is not set). */
static enum vkg_status ffn_op(const struct vkg_device *dev, enum vkg_dtype dt, int gate_up, enum vkg_op *op)
{
    /* [sg][gate_up][dtype] */
    static const enum vkg_op table[2][2][11] = { { FFN_OPS(DOWN, ), FFN_OPS(GATE_UP, ) },
                                                 { FFN_OPS(DOWN, _SG), FFN_OPS(GATE_UP, _SG) } };
    int d = -1;
    for (int i = 0; i < 11; i++)
        if (g_ffn_types[i] == dt) d = i;
    if (d < 0)
        return vkg_error(VKG_ERR_UNSUPPORTED,
                         "op 'moe experts': %s expert weights (F32, F16, BF16, Q8_0, Q4, Q4_1, Q5_0, Q5_1, Q4_K, "
                         "Q5_K, Q6_K here)",
                         vkg_dtype_name(dt));
    *op = table[dev->use.subgroup_arith ? 1 : 0][gate_up ? 1 : 0][d];
    return VKG_OK;
}

/* moe_lane's op for float or block-type weights where the device reads texels (use.texel, lane_ok,
 * quad), else VKG_OP_COUNT; one: the *_lane1 kernel (each pair of a tile in turn, for few pairs per
 * expert). */
static enum vkg_op lane_op(const struct vkg_device *dev, enum vkg_dtype dt, int gate_up, int one)
{
    if (!dev->use.texel || !dev->use.lane_ok || !dev->use.quad) return VKG_OP_COUNT;
    /* [one][gate_up][dtype], dtypes as g_ffn_types */
    static const enum vkg_op ops[2][2][11] = { { FFN_OPS(DOWN, _LANE), FFN_OPS(GATE_UP, _LANE) },
                                               { FFN_OPS(DOWN, _LANE1), FFN_OPS(GATE_UP, _LANE1) } };
    for (int i = 0; i < 11; i++)
        if (g_ffn_types[i] == dt) return ops[one ? 1 : 0][gate_up ? 1 : 0][i];
    return VKG_OP_COUNT;
}

/* The x format of dt's experts in moe_lane's *_xq8 kernels: Q8_K for the K-quants, Q8_0 / Q8_1 (one
 * layout) for Q4, Q4_1, Q5_0 and Q5_1 (as llama.cpp's CPU backend multiplies them); Q8_0F for Q8_0
 * experts, whose float-x kernels read llama.cpp's Q8_0 rounding of x as floats (as the dense matrices:
 * ops_matmul.c); none for float experts */
static enum vkg_xq8_fmt xq8_fmt(enum vkg_dtype dt)
{
    switch (dt) {
    case VKG_DTYPE_Q4_K:
    case VKG_DTYPE_Q5_K:
    case VKG_DTYPE_Q6_K: return VKG_XQ8_Q8K;
    case VKG_DTYPE_Q4:
    case VKG_DTYPE_Q4_1:
    case VKG_DTYPE_Q5_0:
    case VKG_DTYPE_Q5_1: return VKG_XQ8_Q8_0;
    case VKG_DTYPE_Q8_0: return VKG_XQ8_Q8_0F;
    default: return VKG_XQ8_NONE;
    }
}

/* moe_lane's *_xq8 kernels (one: *_lane1_xq8) for dt's experts where the device takes x in 8 bits
 * (use.xq8) and dt has an 8-bit x format (xq8_fmt), else VKG_OP_COUNT */
static enum vkg_op xq8_op(const struct vkg_device *dev, enum vkg_dtype dt, int gate_up, int one)
{
    static const enum vkg_dtype types[7] = { VKG_DTYPE_Q4_K, VKG_DTYPE_Q5_K, VKG_DTYPE_Q6_K, VKG_DTYPE_Q4,
                                             VKG_DTYPE_Q4_1, VKG_DTYPE_Q5_0, VKG_DTYPE_Q5_1 };
    static const enum vkg_op ops[2][2][7] = {
        { { VKG_OP_MOE_DOWN_Q4_K_LANE_XQ8, VKG_OP_MOE_DOWN_Q5_K_LANE_XQ8, VKG_OP_MOE_DOWN_Q6_K_LANE_XQ8,
            VKG_OP_MOE_DOWN_Q4_LANE_XQ8, VKG_OP_MOE_DOWN_Q4_1_LANE_XQ8, VKG_OP_MOE_DOWN_Q5_0_LANE_XQ8,
            VKG_OP_MOE_DOWN_Q5_1_LANE_XQ8 },
          { VKG_OP_MOE_GATE_UP_Q4_K_LANE_XQ8, VKG_OP_MOE_GATE_UP_Q5_K_LANE_XQ8, VKG_OP_MOE_GATE_UP_Q6_K_LANE_XQ8,
            VKG_OP_MOE_GATE_UP_Q4_LANE_XQ8, VKG_OP_MOE_GATE_UP_Q4_1_LANE_XQ8, VKG_OP_MOE_GATE_UP_Q5_0_LANE_XQ8,
            VKG_OP_MOE_GATE_UP_Q5_1_LANE_XQ8 } },
        { { VKG_OP_MOE_DOWN_Q4_K_LANE1_XQ8, VKG_OP_MOE_DOWN_Q5_K_LANE1_XQ8, VKG_OP_MOE_DOWN_Q6_K_LANE1_XQ8,
            VKG_OP_MOE_DOWN_Q4_LANE1_XQ8, VKG_OP_MOE_DOWN_Q4_1_LANE1_XQ8, VKG_OP_MOE_DOWN_Q5_0_LANE1_XQ8,
            VKG_OP_MOE_DOWN_Q5_1_LANE1_XQ8 },
          { VKG_OP_MOE_GATE_UP_Q4_K_LANE1_XQ8, VKG_OP_MOE_GATE_UP_Q5_K_LANE1_XQ8, VKG_OP_MOE_GATE_UP_Q6_K_LANE1_XQ8,
            VKG_OP_MOE_GATE_UP_Q4_LANE1_XQ8, VKG_OP_MOE_GATE_UP_Q4_1_LANE1_XQ8, VKG_OP_MOE_GATE_UP_Q5_0_LANE1_XQ8,
            VKG_OP_MOE_GATE_UP_Q5_1_LANE1_XQ8 } }
    };
    if (!dev->use.xq8) return VKG_OP_COUNT;
    if (dt == VKG_DTYPE_Q8_0) return lane_op(dev, dt, gate_up, one); /* Q8_0F: the float kernels, x rounded */
    for (int t = 0; t < 7; t++)
        if (types[t] == dt) return ops[one ? 1 : 0][gate_up ? 1 : 0][t];
    return VKG_OP_COUNT;
}

int vkg_op_moe_tileable(const struct vkg_device *dev, enum vkg_dtype dt, uint64_t rows, uint64_t K)
{
    if (vkg_dtype_block_size(dt) == 1) return vkg_op_matmul_tileable(dev, dt, K);
    /* not Q8_0: moe_lane reads its tiles too, but the moe-100m preset at --weights q8_0 ran 0.97-1.0x
     * with them (pair.py, 6 rounds), as the dense Q8_0 projections gained nothing from tiles */
    return dev->use.tiled && dev->use.tiled_blocks && K > 0 && K % 256 == 0 && dt != VKG_DTYPE_Q8_0 &&
           (dt != VKG_DTYPE_Q6_K || rows % VKG_MATMUL_TILE_ROWS == 0);
}

uint64_t vkg_op_moe_xq_bytes(const struct vkg_moe_weights *w, uint64_t n_tok, uint32_t k)
{
    /* the 8-bit rows of moe_lane's *_xq8 kernels: gate_up's x and down's h, each in its experts'
     * format (xq8_fmt; float experts, which take float x, as if Q8_K) */
    uint64_t a = vkg_op_quantize_x_bytes(xq8_fmt(w->dtype), n_tok, w->n_in);
    uint64_t b = vkg_op_quantize_x_bytes(xq8_fmt(w->dtype_down), n_tok * k, w->n_ff);
    return a > b ? a : b;
}

/* XQ8 for a routed pass that runs moe_lane (lop: a lane op): its input rows (gate_up: the n_tok
 * rows of x; down: the pairs' rows of h) quantized into j->xq (quantize_x_*, a barrier before
 * and after), *xv the window the kernel reads and *in_off its first word there. Returns the xq8
 * op (Q8_0 experts: lop itself, reading the rounded x as floats), or VKG_OP_COUNT (float x) where the
 * type, the scratch or the windows do not allow it. */
static enum vkg_op xq8_input(struct vkg_cmd *c, const struct ffn_job *j, int gate_up, int few, enum vkg_dtype dt,
                             uint32_t K, enum vkg_op lop, struct vkg_view *xv, uint32_t *in_off, enum vkg_status *st)
{
    *st = VKG_OK;
    enum vkg_op op = xq8_op(c->dev, dt, gate_up, few);
    enum vkg_xq8_fmt fmt = xq8_fmt(dt);
    if (op == VKG_OP_COUNT || lop == VKG_OP_COUNT || j->dense || !j->xq.buf || K % (fmt == VKG_XQ8_Q8K ? 256 : 32))
        return VKG_OP_COUNT;
    uint64_t rows = gate_up ? j->rows : (uint64_t)j->rows * j->k, qbytes = vkg_op_quantize_x_bytes(fmt, rows, K);
    uint64_t in = gate_up ? j->x_off : j->h_off, max = vkg_max_window_bytes(c->dev);
    if (rows > UINT32_MAX || j->xq.size < qbytes || qbytes > max || in % 4) return VKG_OP_COUNT;
    struct vkg_view src = gate_up ? j->x : j->h;
    vkg_cmd_barrier(c);
    if ((*st = vkg_op_quantize_x_fmt(c, fmt, vkg_view_sub(src, in * 4, rows * K * 4), K, K, (uint32_t)rows, j->xq)) !=
        VKG_OK)
        return VKG_OP_COUNT;
    vkg_cmd_barrier(c);
    uint64_t skip;
    if ((*st = vkg_view_window(c->dev, j->xq, 0, qbytes, xv, &skip)) != VKG_OK) return VKG_OP_COUNT;
    if (skip % 16) { /* the kernel counts texels from in_off / 4: windows start on texels */
        *st = vkg_error(VKG_ERR_INVALID_ARG, "op '%s': the XQ8 scratch is not 16-byte aligned", j->op);
        return VKG_OP_COUNT;
    }
    *in_off = (uint32_t)(skip / 4);
    return op;
}

/* Bytes of one expert's M x K matrix; *unit: bytes per offset unit the
 * shader counts (the element size, or 1 for Q8_0/Q4 and ggml blocks). */
static uint64_t matrix_bytes(enum vkg_dtype dt, uint64_t M, uint64_t K, uint32_t *unit)
{
    uint32_t bs = vkg_dtype_block_size(dt), bb = vkg_dtype_block_bytes(dt);
    *unit = bs == 1 ? bb : 1;
    return M * (K / bs) * bb;
}

/* Output rows per workgroup: NR per subgroup (SG tier) or per workgroup; at
 * least CPU_ROWS on a CPU device, where each workgroup costs microseconds. */
static uint32_t rows_per_wg(const struct vkg_device *dev, enum vkg_op op, uint32_t nr)
{
    uint32_t ls = vkg_op_kernel(op)->local_size, sg = dev->info.subgroup_size ? dev->info.subgroup_size : ls;
    uint32_t m = dev->use.subgroup_arith ? nr * (ls / sg > 0 ? ls / sg : 1) : nr;
    if (strcmp(dev->info.type, "cpu") == 0 && m < CPU_ROWS) m = CPU_ROWS;
    return m;
}

/* The weight window of experts [e0, e0+ne) of one stack; *off in elements. */
static enum vkg_status weight_window(struct vkg_cmd *c, struct vkg_view stack, uint64_t per_exp, uint32_t e0,
                                     uint32_t ne, uint32_t es, struct vkg_view *win, uint32_t *off)
{
    uint64_t skip;
    VKG_TRY(vkg_view_window(c->dev, stack, e0 * per_exp, ne * per_exp, win, &skip));
    *off = (uint32_t)(skip / es);
    return VKG_OK;
}

/* The float kernels may read 8 values per load: K % 8 == 0 and the input
 * and weight windows start 16-byte aligned (weight offsets count elements). */
static uint32_t vec_ok(enum vkg_dtype dt, uint32_t K, const struct vkg_push_moe_ffn *p, int gate_up)
{
    uint32_t per16 = dt == VKG_DTYPE_F32 ? 4 : dt == VKG_DTYPE_F16 || dt == VKG_DTYPE_BF16 ? 8 : 0;
    if (!per16 || K % 8 || p->in_off % 4 || p->w0_off % per16 || (gate_up && p->w1_off % per16)) return 0;
    return 1;
}

/* Whether a pass over dt experts takes the *_lane1 kernels: routed, and at most VKG_MOE_LANE1_PAIRS
 * pairs per expert on average (VKG_MOE_LANE1_PAIRS_XQ8 for K-quant experts that take x in 8 bits; the
 * 32-value types' *_xq8 keep VKG_MOE_LANE1_PAIRS: llama.cpp's Q4_0 of the moe-100m preset prefilled
 * 64 tokens, 8 pairs per expert, 1.11x faster in 8-pair tiles than through *_lane1_xq8, pair.py) */
static int few_pairs(const struct vkg_device *dev, const struct ffn_job *j, enum vkg_dtype dt)
{
    int kq = dev->use.xq8 && xq8_fmt(dt) == VKG_XQ8_Q8K;
    return !j->dense && j->pairs <= (uint64_t)(kq ? VKG_MOE_LANE1_PAIRS_XQ8 : VKG_MOE_LANE1_PAIRS) * j->w->n_exp;
}

/* One matrix pass over every expert (gate_up: x -> h, down: h -> y), one
 * dispatch per window of whole experts that fits one binding. */
static enum vkg_status ffn_pass(struct vkg_cmd *c, const struct ffn_job *j, int gate_up)
{
    const struct vkg_moe_weights *w = j->w;
    const enum vkg_dtype dt = gate_up ? w->dtype : w->dtype_down;
    uint32_t es, nr = gate_up ? GATE_UP_NR : DOWN_NR;
    uint32_t K = gate_up ? w->n_in : w->n_ff, M = gate_up ? w->n_ff : w->n_in;
    uint64_t per_exp = matrix_bytes(dt, M, K, &es);
    uint64_t per_win = vkg_max_window_bytes(c->dev) / per_exp;
    enum vkg_op op = VKG_OP_MOE_DOWN_F32;
    VKG_TRY(ffn_op(c->dev, dt, gate_up, &op));
    const int few = few_pairs(c->dev, j, dt);
    enum vkg_op lop = lane_op(c->dev, dt, gate_up, few);
    if (!per_win)
        return vkg_error(VKG_ERR_LIMIT,
                         "op '%s': one expert's %s matrix (%ux%u %s, %llu bytes) exceeds one "
                         "binding",
                         j->op, gate_up ? "gate/up" : "down", M, K, vkg_dtype_name(dt), (unsigned long long)per_exp);
    struct vkg_view xqv = { 0 };
    uint32_t xq_off = 0;
    enum vkg_status st;
    enum vkg_op qop = xq8_input(c, j, gate_up, few, dt, K, lop, &xqv, &xq_off, &st);
    VKG_TRY(st);
    uint32_t m_per_wg = rows_per_wg(c->dev, op, nr);
    uint64_t gx = ceil_div(M, m_per_wg);
    if (gx > c->dev->info.max_workgroup_count[0] || j->tiles > c->dev->info.max_workgroup_count[1])
        return vkg_error(VKG_ERR_LIMIT,
                         "op '%s': grid %llu x %llu workgroups exceeds the device: split the token "
                         "batch",
                         j->op, (unsigned long long)gx, (unsigned long long)j->tiles);
    struct vkg_push_moe_ffn p = { .n_exp = w->n_exp,
                                  .K = K,
                                  .M = M,
                                  .in_div = gate_up ? j->k : 1,
                                  .m_per_wg = m_per_wg,
                                  .dense = (uint32_t)j->dense,
                                  .n_rows = j->rows,
                                  .in_off = gate_up ? j->x_off : j->h_off,
                                  .route_off = j->route_off,
                                  .list_off = j->list_off,
                                  .out_off = gate_up ? j->h_off : j->y_off };
    for (uint32_t e0 = 0; e0 < w->n_exp; e0 += (uint32_t)per_win) {
        uint32_t ne = w->n_exp - e0 < per_win ? w->n_exp - e0 : (uint32_t)per_win;
        struct vkg_view v[6];
        uint32_t n = 0;
        v[n++] = gate_up ? j->x : j->h;
        VKG_TRY(weight_window(c, gate_up ? w->gate : w->down, per_exp, e0, ne, es, &v[n++], &p.w0_off));
        if (gate_up) VKG_TRY(weight_window(c, w->up, per_exp, e0, ne, es, &v[n++], &p.w1_off));
        v[n++] = j->dense ? v[0] : j->route; /* dense: not read; the pass's read-only input */
        v[n++] = j->dense ? v[0] : j->list;
        v[n++] = gate_up ? j->h : j->y;
        p.e_base = e0;
        p.n_win = ne;
        p.vec = vec_ok(dt, K, &p, gate_up);
        /* moe_lane where its texel reads line up: K % 8, inputs and weights on 16-byte texels (block
         * types: inputs on texels, weights at even bytes of texel-aligned windows; Q4_K / Q5_K, whose
         * blocks are whole texels, on texels) */
        enum vkg_op wop = op;
        uint64_t wgx = gx;
        uint32_t split = 0, pair2 = 0; /* moe_lane's W_SPLIT (Q6_K in split tiles) and PAIR2 */
        p.m_per_wg = m_per_wg;
        uint64_t ta = vkg_texel_align(c->dev);
        int aligned = v[0].offset % ta == 0 && v[1].offset % ta == 0 && (!gate_up || v[2].offset % ta == 0);
        uint32_t wa = dt == VKG_DTYPE_Q4_K || dt == VKG_DTYPE_Q5_K ? 16 : 2; /* block types: offsets in bytes */
        int lane_in =
            vkg_dtype_block_size(dt) > 1 ? p.in_off % 4 == 0 && p.w0_off % wa == 0 && p.w1_off % wa == 0 : p.vec;
        if (lop != VKG_OP_COUNT && lane_in && aligned) {
            wop = lop;
            if (qop != VKG_OP_COUNT && xqv.offset % ta == 0) { /* the pass's input in 8 bits (xq8_input) */
                wop = qop;
                v[0] = xqv;
                p.in_off = xq_off;
                pair2 = few && qop != lop && j->pairs >= (uint64_t)VKG_MOE_LANE2_PAIRS_XQ8 * w->n_exp; /* *_lane1_xq8 */
            }
            p.m_per_wg = VKG_MOE_LANE_LOCAL * (gate_up ? VKG_MOE_LANE_ROWS_GATE_UP : VKG_MOE_LANE_ROWS_DOWN);
            wgx = ceil_div(M, p.m_per_wg);
            if (gate_up ? w->tiled : w->tiled_down) {
                p.vec |= VKG_MOE_W_TILED;
                split = dt == VKG_DTYPE_Q6_K; /* the split tiles' fields are read as whole texels */
                if (split && (p.w0_off % 16 || p.w1_off % 16))
                    return vkg_error(VKG_ERR_INVALID_ARG,
                                     "op '%s': tiled Q6_K %s experts must start on a 16-byte texel (offset %u)", j->op,
                                     gate_up ? "gate/up" : "down", p.w0_off % 16 ? p.w0_off : p.w1_off);
            }
        } else if (gate_up ? w->tiled : w->tiled_down) {
            return vkg_error(VKG_ERR_UNSUPPORTED,
                             "op '%s': %s experts in 8-row tiles are read only by the moe_lane kernels (a CPU "
                             "driver's texel tier, K %% 8 == 0, 16-byte aligned windows)",
                             j->op, gate_up ? "gate/up" : "down");
        }
        VKG_TRY(vkg_cmd_dispatch_op_spec(c, wop, split, pair2, 0, v, n, &p, (uint32_t)wgx, (uint32_t)j->tiles, 1));
    }
    return VKG_OK;
}

static enum vkg_status check_weights(const struct vkg_device *dev, const char *op, const struct vkg_moe_weights *w)
{
    const struct vkg_view *m[3] = { &w->gate, &w->up, &w->down };
    const char *names[3] = { "gate", "up", "down" };
    for (int i = 0; i < 3; i += 2) { /* gate/up: rows of n_in; down: rows of n_ff */
        enum vkg_dtype dt = i ? w->dtype_down : w->dtype;
        enum vkg_op dummy;
        VKG_TRY(ffn_op(dev, dt, i == 0, &dummy));
        uint32_t bs = vkg_dtype_block_size(dt), K = i ? w->n_ff : w->n_in;
        if (!w->n_exp || !w->n_in || !w->n_ff || K % bs)
            return vkg_error(
                VKG_ERR_INVALID_ARG, "op '%s': expert shape %ux%ux%u, %s %s (%s must be a non-zero multiple of %u)", op,
                w->n_exp, w->n_ff, w->n_in, i ? "down" : "gate/up", vkg_dtype_name(dt), i ? "n_ff" : "n_in", bs);
    }
    for (int i = 0; i < 3; i += 2) { /* tiles of block types: 256-value units (moe_lane's w_row), Q6_K's split */
        enum vkg_dtype dt = i ? w->dtype_down : w->dtype;
        uint32_t K = i ? w->n_ff : w->n_in, rows = i ? w->n_in : w->n_ff;
        if ((i ? w->tiled_down : w->tiled) && vkg_dtype_block_size(dt) > 1 &&
            (K % 256 || (dt == VKG_DTYPE_Q6_K && rows % VKG_MATMUL_TILE_ROWS)))
            return vkg_error(VKG_ERR_UNSUPPORTED,
                             "op '%s': %s experts %s of %u rows of %u values stored in 8-row tiles (block types: "
                             "rows of 256k values; Q6_K: whole tiles)",
                             op, names[i], vkg_dtype_name(dt), rows, K);
    }
    for (int i = 0; i < 3; i++) {
        enum vkg_dtype dt = i == 2 ? w->dtype_down : w->dtype;
        uint32_t unit;
        uint64_t stack = w->n_exp * matrix_bytes(dt, i == 2 ? w->n_in : w->n_ff, i == 2 ? w->n_ff : w->n_in, &unit);
        if (!m[i]->buf || m[i]->size < stack || m[i]->offset % unit)
            return vkg_error(VKG_ERR_INVALID_ARG,
                             "op '%s': %s stack '%s' has %llu bytes at offset %llu, needs "
                             "%llu (%u experts x %u x %u %s)",
                             op, names[i], m[i]->buf ? m[i]->buf->name : "(null)", (unsigned long long)m[i]->size,
                             (unsigned long long)m[i]->offset, (unsigned long long)stack, w->n_exp,
                             i == 2 ? w->n_in : w->n_ff, i == 2 ? w->n_ff : w->n_in, vkg_dtype_name(dt));
    }
    return VKG_OK;
}

/* Binds what the passes read and write, then runs them (1: gate_up, 2: down). */
static enum vkg_status run_ffn(struct vkg_cmd *c, struct ffn_job *j, uint64_t n_pairs, uint64_t n_tok, int passes)
{
    const struct vkg_moe_weights *w = j->w;
    VKG_TRY(check_weights(c->dev, j->op, w));
    if (!j->k || w->n_exp > VKG_MOE_MAX_EXPERTS)
        return vkg_error(VKG_ERR_UNSUPPORTED, "op '%s': k %u, %u experts (1 <= k, n_exp <= %u)", j->op, j->k, w->n_exp,
                         VKG_MOE_MAX_EXPERTS);
    if (passes & 1) VKG_TRY(bind_all(c, j->op, "x", j->x, n_tok * w->n_in * 4, 4, &j->x, &j->x_off));
    VKG_TRY(bind_all(c, j->op, "h", j->h, n_pairs * w->n_ff * 4, 4, &j->h, &j->h_off));
    if (passes & 2) VKG_TRY(bind_all(c, j->op, "y", j->y, n_pairs * w->n_in * 4, 4, &j->y, &j->y_off));
    if (!j->dense) {
        VKG_TRY(
            bind_all(c, j->op, "route", j->route, vkg_moe_route_bytes(w->n_exp, n_pairs), 4, &j->route, &j->route_off));
        VKG_TRY(bind_all(c, j->op, "list", j->list, n_pairs * 4, 4, &j->list, &j->list_off));
    }
    if (!n_pairs) return VKG_OK;
    j->tiles = j->dense ? ceil_div(n_tok, VKG_MOE_TILE) : max_tiles(w->n_exp, n_pairs);
    j->pairs = n_pairs;
    if (passes & 1) VKG_TRY(ffn_pass(c, j, 1));
    if (passes == 3) vkg_cmd_barrier(c); /* down reads the h that gate_up wrote */
    if (passes & 2) VKG_TRY(ffn_pass(c, j, 0));
    return VKG_OK;
}

enum vkg_status vkg_op_moe_gate_up(struct vkg_cmd *c, const struct vkg_moe_weights *w, uint32_t n_tok, uint32_t k,
                                   struct vkg_view x, struct vkg_view route, struct vkg_view list, struct vkg_view h,
                                   struct vkg_view xq)
{
    struct ffn_job j = {
        .w = w, .op = "moe_gate_up", .k = k, .rows = n_tok, .x = x, .route = route, .list = list, .h = h, .xq = xq
    };
    return run_ffn(c, &j, (uint64_t)n_tok * k, n_tok, 1);
}

enum vkg_status vkg_op_moe_down(struct vkg_cmd *c, const struct vkg_moe_weights *w, uint32_t n_tok, uint32_t k,
                                struct vkg_view h, struct vkg_view route, struct vkg_view list, struct vkg_view y,
                                struct vkg_view xq)
{
    struct ffn_job j = {
        .w = w, .op = "moe_down", .k = k, .rows = n_tok, .route = route, .list = list, .h = h, .y = y, .xq = xq
    };
    return run_ffn(c, &j, (uint64_t)n_tok * k, n_tok, 2);
}

enum vkg_status vkg_op_moe_experts(struct vkg_cmd *c, const struct vkg_moe_weights *w, uint32_t n_tok, uint32_t k,
                                   struct vkg_view x, struct vkg_view route, struct vkg_view list, struct vkg_view h,
                                   struct vkg_view y, struct vkg_view xq)
{
    struct ffn_job j = { .w = w,
                         .op = "moe experts",
                         .k = k,
                         .rows = n_tok,
                         .x = x,
                         .route = route,
                         .list = list,
                         .h = h,
                         .y = y,
                         .xq = xq };
    return run_ffn(c, &j, (uint64_t)n_tok * k, n_tok, 3);
}

enum vkg_status vkg_op_moe_combine(struct vkg_cmd *c, uint32_t n_tok, uint32_t k, uint32_t n_in, struct vkg_view y,
                                   struct vkg_view weights, struct vkg_view out, int accumulate)
{
    struct vkg_view v[3];
    struct vkg_push_moe_combine p = {
        .n_tok = n_tok, .k = k, .n_in = n_in, .flags = accumulate ? VKG_MOE_COMBINE_ACCUMULATE : 0
    };
    uint64_t n = (uint64_t)n_tok * n_in;
    if (!weights.buf) p.flags |= VKG_MOE_COMBINE_UNIT; /* no weights: every weight is 1 */
    VKG_TRY(bind_all(c, "moe_combine", "y", y, n * k * 4, 4, &v[0], &p.y_off));
    if (weights.buf)
        VKG_TRY(bind_all(c, "moe_combine", "weights", weights, (uint64_t)n_tok * k * 4, 4, &v[1], &p.w_off));
    else v[1] = v[0];
    VKG_TRY(bind_all(c, "moe_combine", "out", out, n * 4, 4, &v[2], &p.out_off));
    if (!n) return VKG_OK;
    uint32_t ls = vkg_op_kernel(VKG_OP_MOE_COMBINE)->local_size;
    return vkg_cmd_dispatch_op_1d(c, VKG_OP_MOE_COMBINE, v, 3, &p, ceil_div(n, ls));
}

enum vkg_status vkg_op_moe_combine_add_norm(struct vkg_cmd *c, uint32_t n_tok, uint32_t k, uint32_t n_in,
                                            struct vkg_view y, struct vkg_view weights, struct vkg_view delta,
                                            int accumulate, struct vkg_view res, struct vkg_view norm_w,
                                            struct vkg_view h, float eps, enum vkg_rmsnorm_kind kind)
{
    struct vkg_device *dev = c->dev;
    uint64_t n = (uint64_t)n_tok * n_in, max = vkg_max_window_bytes(dev);
    int one = dev->use.resnorm && dev->use.lane_tier && dev->use.subgroup_arith && n_tok && k && n * k * 4 <= max &&
              n * 4 <= max && (kind == VKG_RMSNORM_PLAIN || kind == VKG_RMSNORM_GEMMA);
    struct vkg_view v[6];
    uint64_t wskip = 0;
    /* the kernel reads the norm weight from the start of its window (as rmsnorm does) */
    if (one)
        one = norm_w.buf && norm_w.size >= (uint64_t)n_in * 4 && norm_w.offset % 4 == 0 &&
              vkg_view_window(dev, norm_w, 0, (uint64_t)n_in * 4, &v[1], &wskip) == VKG_OK && wskip == 0;
    if (!one) {
        VKG_TRY(vkg_op_moe_combine(c, n_tok, k, n_in, y, weights, delta, accumulate));
        vkg_cmd_barrier(c);
        return vkg_op_rmsnorm_add(c, delta, res, norm_w, h, n_tok, n_in, eps, kind);
    }
    const char *op = "moe_combine_add_norm";
    struct vkg_push_rmsnorm p = { .n = n_in,
                                  .rows = n_tok,
                                  .group = 1,
                                  .x_stride = n_in,
                                  .y_stride = n_in,
                                  .eps = eps,
                                  .w_add = kind == VKG_RMSNORM_GEMMA ? 1.0f : 0.0f,
                                  .k = k,
                                  .flags = (accumulate ? VKG_MOE_COMBINE_ACCUMULATE : 0) |
                                           (weights.buf ? 0 : VKG_MOE_COMBINE_UNIT) };
    VKG_TRY(bind_all(c, op, "y", y, n * k * 4, 4, &v[0], &p.x_off));
    VKG_TRY(bind_all(c, op, "h", h, n * 4, 4, &v[2], &p.y_off));
    VKG_TRY(bind_all(c, op, "residual", res, n * 4, 4, &v[3], &p.r_off));
    if (weights.buf) VKG_TRY(bind_all(c, op, "weights", weights, (uint64_t)n_tok * k * 4, 4, &v[4], &p.w_off));
    else v[4] = v[0];
    if (accumulate) VKG_TRY(bind_all(c, op, "delta", delta, n * 4, 4, &v[5], &p.d_off));
    else v[5] = v[0];
    /* the *_tx twin where the rows lie on whole texels: x (the expert outputs), the weight, the
       residual (read through a second binding of its memory), routing weights and d as texels */
    int tx = dev->use.texel && n_in % 4 == 0 && p.x_off % 4 == 0 && p.r_off % 4 == 0 && p.d_off % 4 == 0;
    for (int i = 0; i < 6; i++)
        if (i != 2 && !vkg_view_texel_ok(dev, v[i])) tx = 0;
    uint64_t groups = (n_tok + VKG_RMSNORM_LANE_LOCAL / 8 - 1) / (VKG_RMSNORM_LANE_LOCAL / 8);
    if (!tx) return vkg_cmd_dispatch_op_1d(c, VKG_OP_RMSNORM_COMBINE_LANE, v, 6, &p, groups);
    struct vkg_view vt[7] = { v[0], v[1], v[2], v[3], v[3], v[4], v[5] };
    return vkg_cmd_dispatch_op_1d(c, VKG_OP_RMSNORM_COMBINE_LANE_TX, vt, 7, &p, groups);
}

enum vkg_status vkg_op_moe_shared(struct vkg_cmd *c, const struct vkg_moe_weights *w, uint32_t n_tok, struct vkg_view x,
                                  struct vkg_view h, struct vkg_view y, struct vkg_view out)
{
    struct ffn_job j = { .w = w, .op = "moe shared expert", .k = 1, .rows = n_tok, .dense = 1, .x = x, .h = h, .y = y };
    if (w->n_exp != 1)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "op 'moe shared expert': %u experts given; pack the shared experts "
                         "as one MLP (n_exp 1, n_ff = n_shared * moe_intermediate_size)",
                         w->n_exp);
    VKG_TRY(run_ffn(c, &j, n_tok, n_tok, 3));
    vkg_cmd_barrier(c); /* combine reads the y that down wrote */
    return vkg_op_moe_combine(c, n_tok, 1, w->n_in, y, (struct vkg_view){ 0 }, out, 1);
}
