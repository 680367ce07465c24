/* push_matmul.h — push constants and op rows of the matmul family.
 * GLSL twins: shaders/push_matmul.glsl. */
#ifndef VKG_PUSH_MATMUL_H
#define VKG_PUSH_MATMUL_H

#include <stddef.h>
#include <stdint.h>

/* X(ID, spirv variant, bindings, push struct, local_size_x) */
#define VKG_OPS_MATMUL(X)

#endif
