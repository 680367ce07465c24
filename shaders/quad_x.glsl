// quad_x.glsl — the lane kernels' shared x: 8 token (or pair) rows that every
// lane of a workgroup multiplies by its own weight rows. A texel fetch is a
// call on llvmpipe that spills every vector register (README, "Rows per
// invocation"), and subgroupQuadBroadcast with a constant lane is one
// in-register permute there, so lane q of each quad fetches rows q and q + 4
// and the quad shares them: 2 fetches per texel instead of 8. Needs
// GL_KHR_shader_subgroup_quad (the host's use.quad).
#ifndef VKG_QUAD_X_GLSL
#define VKG_QUAD_X_GLSL

// xv[0..8): the texels lo (row q of this lane's quad) and hi (row q + 4) of all 8 rows
#define QUAD_X8(lo, hi, xv)                                                                               \
    {                                                                                                     \
        xv[0] = subgroupQuadBroadcast(lo, 0u);                                                            \
        xv[1] = subgroupQuadBroadcast(lo, 1u);                                                            \
        xv[2] = subgroupQuadBroadcast(lo, 2u);                                                            \
        xv[3] = subgroupQuadBroadcast(lo, 3u);                                                            \
        xv[4] = subgroupQuadBroadcast(hi, 0u);                                                            \
        xv[5] = subgroupQuadBroadcast(hi, 1u);                                                            \
        xv[6] = subgroupQuadBroadcast(hi, 2u);                                                            \
        xv[7] = subgroupQuadBroadcast(hi, 3u);                                                            \
    }

#endif
