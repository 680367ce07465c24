// push_moe.glsl — twin of runtime/push_moe.h (checked there by _Static_assert).
// A shader defines one of MOE_PUSH_GATE / MOE_PUSH_ROUTE / MOE_PUSH_FFN /
// MOE_PUSH_COMBINE before including this file.
#define VKG_MOE_MAX_EXPERTS 512u
#define VKG_MOE_MAX_K 16u
#define VKG_MOE_MAX_GROUPS 64u
#define VKG_MOE_TILE 8u
#define VKG_MOE_GATE_SIGMOID 1u
#define VKG_MOE_GATE_NORM 2u
#define VKG_MOE_GATE_BIAS 4u
#define VKG_MOE_GATE_V3_GROUPS 8u
#define VKG_MOE_COMBINE_ACCUMULATE 1u
#define VKG_MOE_COMBINE_UNIT 2u

#if defined(MOE_PUSH_GATE)
layout(push_constant) uniform PushMoeGate {
    uint n_tok, n_exp, k;
    uint flags;
    uint n_group, topk_group;
    float scale;
    uint logit_off, ids_off, w_off;
    uint tok_per_wg;
    uint bias_off;
    uint pad0;
} p;
#elif defined(MOE_PUSH_ROUTE)
layout(push_constant) uniform PushMoeRoute {
    uint n_pairs, n_exp;
    uint ids_off, route_off, list_off;
    uint pad0, pad1, pad2;
} p;
#elif defined(MOE_PUSH_FFN)
layout(push_constant) uniform PushMoeFfn {
    uint n_exp, e_base, K, M, in_div, dense, n_rows;
    uint in_off, w0_off, w1_off, route_off, list_off, out_off;
    uint n_win, m_per_wg, pad0;
} p;
#elif defined(MOE_PUSH_COMBINE)
layout(push_constant) uniform PushMoeCombine {
    uint n_tok, k, n_in, flags;
    uint y_off, w_off, out_off, pad0;
} p;
#endif
