/* push_attention.h — push constants and op rows of the attention family.
 * GLSL twins: shaders/push_attention.glsl. */
#ifndef VKG_PUSH_ATTENTION_H
#define VKG_PUSH_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

/* X(ID, spirv variant, bindings, push struct, local_size_x) */
#define VKG_OPS_ATTENTION(X)

#endif
