/* push_moe.h — push constants and op rows of the moe family.
 * GLSL twins: shaders/push_moe.glsl. */
#ifndef VKG_PUSH_MOE_H
#define VKG_PUSH_MOE_H

#include <stddef.h>
#include <stdint.h>

/* X(ID, spirv variant, bindings, push struct, local_size_x) */
#define VKG_OPS_MOE(X)

#endif
