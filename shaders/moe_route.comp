#version 450
// moe_route.comp — grouping the (token, slot) pairs by expert on the GPU, in
// three dispatches with a barrier between them (no host round trip):
//   moe_count:   counts[e]  = pairs routed to e        (one workgroup)
//   moe_scan:    offsets[e] = exclusive prefix sum of counts; cursors = offsets
//                                                       (one workgroup)
//   moe_scatter: list[offsets[e] ..] = pairs p = t*k + j with ids[p] == e
//                (one invocation per pair; order inside a list is arbitrary)
//                and the tile list of the expert FFN (VKG_MOE_TILE pairs a tile)
//   moe_group1:  all three in one workgroup, counts and cursors in shared
//                memory (the host's choice up to VKG_MOE_GROUP1_MAX_PAIRS pairs:
//                decode steps and short prefills; one launch instead of three)
// route buffer: counts | offsets | cursors (n_exp words each) | n_tiles |
// tiles (expert | tile << 10). Ids outside [0, n_exp) are not counted and not listed.
//! variant moe_count MOE_COUNT
//! variant moe_scan MOE_SCAN
//! variant moe_scatter MOE_SCATTER
//! variant moe_group1 MOE_GROUP1
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "push_moe.h"
VKG_PUSH_CONSTANTS(vkg_push_moe_route);

#if defined(MOE_COUNT)
layout(binding = 0) readonly buffer Ids { int ids[]; };
layout(binding = 1) writeonly buffer Route { uint route[]; };
shared uint s_cnt[VKG_MOE_MAX_EXPERTS];

void main()
{
    uint t = gl_LocalInvocationID.x;
    for (uint e = t; e < p.n_exp; e += gl_WorkGroupSize.x) s_cnt[e] = 0u;
    barrier();
    for (uint i = t; i < p.n_pairs; i += gl_WorkGroupSize.x) {
        uint e = uint(ids[p.ids_off + i]);
        if (e < p.n_exp) atomicAdd(s_cnt[e], 1u);
    }
    barrier();
    for (uint e = t; e < p.n_exp; e += gl_WorkGroupSize.x) route[p.route_off + e] = s_cnt[e];
}
#elif defined(MOE_SCAN) || defined(MOE_GROUP1)
#ifdef MOE_GROUP1
layout(binding = 0) readonly buffer Ids { int ids[]; };
layout(binding = 1) buffer Route { uint route[]; };
layout(binding = 2) writeonly buffer List { uint list[]; };
shared uint s_cnt[VKG_MOE_MAX_EXPERTS]; // counts, then the cursors of the scatter
#else
layout(binding = 0) buffer Route { uint route[]; };
#endif
// Hillis-Steele scan over the 2-element sums of each invocation (n_exp <= 2 x workgroup).
shared uint s_sum[2u * gl_WorkGroupSize.x];

// Exclusive prefix of a0 (a1 follows at + a0) over all invocations; *total = the sum of all.
uint scan_pairs(uint a0, uint a1, out uint total)
{
    uint t = gl_LocalInvocationID.x, pp = 0u; // pp: ping-pong half of s_sum
    s_sum[t] = a0 + a1;
    barrier();
    for (uint s = 1u; s < gl_WorkGroupSize.x; s <<= 1) {
        uint v = s_sum[pp * gl_WorkGroupSize.x + t];
        if (t >= s) v += s_sum[pp * gl_WorkGroupSize.x + t - s];
        pp ^= 1u;
        s_sum[pp * gl_WorkGroupSize.x + t] = v;
        barrier();
    }
    uint incl = s_sum[pp * gl_WorkGroupSize.x + t];
    total = s_sum[pp * gl_WorkGroupSize.x + gl_WorkGroupSize.x - 1u];
    barrier(); // s_sum is reused by the next scan
    return incl - a0 - a1;
}

void write_tiles(uint e, uint n, uint first, uint tile_base)
{
    for (uint q = 0u; q < n; q++) route[tile_base + first + q] = e | (q << 10);
}

void main()
{
    uint t = gl_LocalInvocationID.x, n = p.n_exp, base = p.route_off;
    uint e0 = 2u * t, e1 = e0 + 1u, total;
#ifdef MOE_GROUP1
    for (uint e = t; e < n; e += gl_WorkGroupSize.x) s_cnt[e] = 0u;
    barrier();
    for (uint i = t; i < p.n_pairs; i += gl_WorkGroupSize.x) {
        uint e = uint(ids[p.ids_off + i]);
        if (e < n) atomicAdd(s_cnt[e], 1u);
    }
    barrier();
    uint c0 = e0 < n ? s_cnt[e0] : 0u;
    uint c1 = e1 < n ? s_cnt[e1] : 0u;
    uint excl = scan_pairs(c0, c1, total);
    // counts, offsets, and the cursors as the scatter leaves them (offset + count)
    if (e0 < n) route[base + e0] = c0, route[base + n + e0] = excl, route[base + 2u * n + e0] = excl + c0;
    if (e1 < n) route[base + e1] = c1, route[base + n + e1] = excl + c0, route[base + 2u * n + e1] = excl + c0 + c1;
    if (e0 < n) s_cnt[e0] = excl; // every count was read above (scan_pairs ends in a barrier)
    if (e1 < n) s_cnt[e1] = excl + c0;
    barrier();
    for (uint i = t; i < p.n_pairs; i += gl_WorkGroupSize.x) {
        uint e = uint(ids[p.ids_off + i]);
        if (e < n) list[p.list_off + atomicAdd(s_cnt[e], 1u)] = i;
    }
#else
    uint c0 = e0 < n ? route[base + e0] : 0u;
    uint c1 = e1 < n ? route[base + e1] : 0u;
    uint excl = scan_pairs(c0, c1, total);
    if (e0 < n) route[base + n + e0] = route[base + 2u * n + e0] = excl;
    if (e1 < n) route[base + n + e1] = route[base + 2u * n + e1] = excl + c0;
#endif
    // tile list: ceil(count / TILE) tiles per expert, in expert order
    uint n0 = (c0 + VKG_MOE_TILE - 1u) / VKG_MOE_TILE, n1 = (c1 + VKG_MOE_TILE - 1u) / VKG_MOE_TILE;
    uint tiles = scan_pairs(n0, n1, total);
    if (t == 0u) route[base + 3u * n] = total;
    write_tiles(e0, n0, tiles, base + 3u * n + 1u);
    write_tiles(e1, n1, tiles + n0, base + 3u * n + 1u);
}
#elif defined(MOE_SCATTER)
layout(binding = 0) readonly buffer Ids { int ids[]; };
layout(binding = 1) buffer Route { uint route[]; };
layout(binding = 2) writeonly buffer List { uint list[]; };

void main()
{
    uint i = vkg_linear_id();
    if (i >= p.n_pairs) return;
    uint e = uint(ids[p.ids_off + i]);
    if (e >= p.n_exp) return;
    uint pos = atomicAdd(route[p.route_off + 2u * p.n_exp + e], 1u);
    list[p.list_off + pos] = i;
}
#endif
