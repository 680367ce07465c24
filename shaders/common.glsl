// common.glsl — included first by every shader: workgroup size as
// specialization constant 0 and the linear invocation id of a 2-D grid
// (vkg_cmd_dispatch_1d folds long 1-D work into x*y workgroups).
layout(local_size_x_id = 0) in;

uint vkg_linear_id()
{
    return (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
           gl_LocalInvocationID.x;
}

// Loops on llvmpipe (lavapipe, Mesa 22.3): a workgroup runs as SIMD lanes under an execution
// mask, and a for / while loop tests its condition at the top: when the last lane leaves, the
// body still runs once more under an all-off mask (every instruction, every texel-fetch call)
// before the end-of-loop test sees no lane left. A loop of n passes costs n + 1 bodies; the
// lane kernels' hot loops are written as do-whiles (guarded by an if where they may run zero
// times), which leave at their bottom test: n bodies. For the one-token mat-vec over rows of 2
// K-quant blocks (n_in 512) that was a third of its work.
