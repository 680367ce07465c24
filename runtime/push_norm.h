/* push_norm.h — push constants and op rows of the norm family.
 * GLSL twins: shaders/push_norm.glsl. */
#ifndef VKG_PUSH_NORM_H
#define VKG_PUSH_NORM_H

#include <stddef.h>
#include <stdint.h>

/* X(ID, spirv variant, bindings, push struct, local_size_x) */
#define VKG_OPS_NORM(X)

#endif
