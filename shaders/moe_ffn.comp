#version 450
// moe_ffn.comp — expert FFN over stacked weights, one dispatch for all the
// experts of a weight window: workgroup (x: NR output rows, y: a tile of TR
// pairs of the expert's list, z: expert - e_base). Tiles past the expert's
// count exit at once, so the host never reads the routing back.
//   gate_up: h[pair][m] = silu(Wg[e][m] . x[pair / k]) * (Wu[e][m] . x[pair / k])
//   down:    y[pair][m] = Wd[e][m] . h[pair]
// Weights are F32, F16 or BF16 read through uint words; the input rows are
// F32. Each invocation strides the inner dim K, then the NR x TR (x2) partial
// sums are reduced through shared memory in a fixed order (deterministic).
//! variant moe_gate_up_f32 GATE_UP W_F32
//! variant moe_gate_up_f16 GATE_UP W_F16
//! variant moe_gate_up_bf16 GATE_UP W_BF16
//! variant moe_down_f32 W_F32
//! variant moe_down_f16 W_F16
//! variant moe_down_bf16 W_BF16
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "dtype.glsl"
#define MOE_PUSH_FFN
#include "push_moe.glsl"

#define TR VKG_MOE_TILE // pairs per tile: each weight load is used TR times
#ifdef GATE_UP
#define NR 2u
#define NMAT 2u
#define B_ROUTE 3
#define B_LIST 4
#define B_OUT 5
#else
#define NR 4u
#define NMAT 1u
#define B_ROUTE 2
#define B_LIST 3
#define B_OUT 4
#endif
#define NV (NMAT * NR * TR) // partial sums per invocation (<= workgroup size)

layout(binding = 0) readonly buffer In { float xin[]; };  // x [n_tok][K] or h [pairs][K]
layout(binding = 1) readonly buffer W0 { uint w0[]; };    // gate or down [experts][M][K]
#ifdef GATE_UP
layout(binding = 2) readonly buffer W1 { uint w1[]; };    // up [experts][M][K]
#endif
layout(binding = B_ROUTE) readonly buffer Route { uint route[]; }; // counts | offsets | cursors
layout(binding = B_LIST) readonly buffer List { uint list[]; };    // pairs grouped by expert
layout(binding = B_OUT) writeonly buffer Out { float yout[]; };    // [pairs][M]

#if defined(W_F32)
#define WLOAD(BUF, i) uintBitsToFloat(BUF[i])
#elif defined(W_F16)
#define WLOAD(BUF, i) vkg_f16_to_f32((BUF[(i) >> 1] >> (((i) & 1u) * 16u)) & 0xffffu)
#else
#define WLOAD(BUF, i) vkg_bf16_to_f32((BUF[(i) >> 1] >> (((i) & 1u) * 16u)) & 0xffffu)
#endif

shared uint s_pair[TR];
shared uint s_row[TR];
shared float s_red[NV * gl_WorkGroupSize.x];

// Sums over K for the valid pairs of the tile; acc[(mat*NR + r)*TR + i].
void accumulate(uint m0, uint wrow0, uint nvalid, inout float acc[NV])
{
    for (uint kk = gl_LocalInvocationID.x; kk < p.K; kk += gl_WorkGroupSize.x) {
        float wv[NMAT * NR];
        for (uint r = 0u; r < NR; r++) {
            bool ok = m0 + r < p.M;
            uint wi = wrow0 + r * p.K + kk;
            wv[r] = ok ? WLOAD(w0, p.w0_off + wi) : 0.0;
#ifdef GATE_UP
            wv[NR + r] = ok ? WLOAD(w1, p.w1_off + wi) : 0.0;
#endif
        }
        for (uint i = 0u; i < TR; i++) {
            if (i >= nvalid) break;
            float xv = xin[p.in_off + s_row[i] * p.K + kk];
            for (uint v = 0u; v < NMAT * NR; v++) acc[v * TR + i] += wv[v] * xv;
        }
    }
}

// Rows m0 .. m0+NR-1 of expert e_local for the tile's pairs.
void rows(uint e_local, uint m0, uint nvalid)
{
    uint t = gl_LocalInvocationID.x;
    float acc[NV];
    for (uint v = 0u; v < NV; v++) acc[v] = 0.0;
    accumulate(m0, (e_local * p.M + m0) * p.K, nvalid, acc);
    for (uint v = 0u; v < NV; v++) s_red[v * gl_WorkGroupSize.x + t] = acc[v];
    barrier();
    if (t < NV) {
        float s = 0.0;
        for (uint i = 0u; i < gl_WorkGroupSize.x; i++) s += s_red[t * gl_WorkGroupSize.x + i];
        s_red[t * gl_WorkGroupSize.x] = s;
    }
    barrier();
    uint r = t / TR, i = t % TR;
    if (t < NR * TR && i < nvalid && m0 + r < p.M) {
        float g = s_red[(r * TR + i) * gl_WorkGroupSize.x];
#ifdef GATE_UP
        float u = s_red[((NR + r) * TR + i) * gl_WorkGroupSize.x];
        g = g / (1.0 + exp(-g)) * u; // silu(gate) * up
#endif
        yout[p.out_off + s_pair[i] * p.M + m0 + r] = g;
    }
    barrier(); // s_red is rewritten by the next rows
}

void main()
{
    uint e = 0u, tile = gl_WorkGroupID.y, count = p.n_rows, first = 0u;
    if (p.dense == 0u) { // the tile list written by moe_scan
        if (gl_WorkGroupID.y >= route[p.route_off + 3u * p.n_exp]) return;
        uint te = route[p.route_off + 3u * p.n_exp + 1u + gl_WorkGroupID.y];
        e = te & 1023u;
        tile = te >> 10;
        count = route[p.route_off + e];
        first = route[p.route_off + p.n_exp + e];
    }
    uint tile0 = tile * TR;
    // uniform for the workgroup: expert outside the bound window, or an empty tile
    if (e < p.e_base || e >= p.e_base + p.n_win || tile0 >= count) return;
    uint t = gl_LocalInvocationID.x;
    uint nvalid = min(TR, count - tile0);
    if (t < nvalid) {
        uint pair = p.dense != 0u ? tile0 + t : list[p.list_off + first + tile0 + t];
        s_pair[t] = pair;
        s_row[t] = pair / p.in_div;
    }
    barrier();
    uint m_end = min(p.M, (gl_WorkGroupID.x + 1u) * p.m_per_wg);
    for (uint m0 = gl_WorkGroupID.x * p.m_per_wg; m0 < m_end; m0 += NR) rows(e - p.e_base, m0, nvalid);
}
