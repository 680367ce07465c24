// common.glsl — included first by every shader: workgroup size as
// specialization constant 0 and the linear invocation id of a 2-D grid
// (vkg_cmd_dispatch_1d folds long 1-D work into x*y workgroups).
layout(local_size_x_id = 0) in;

uint vkg_linear_id()
{
    return (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
           gl_LocalInvocationID.x;
}
