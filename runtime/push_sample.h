/* push_sample.h — push constants and op rows of the sample family.
 * GLSL twins: shaders/push_sample.glsl. */
#ifndef VKG_PUSH_SAMPLE_H
#define VKG_PUSH_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

/* X(ID, spirv variant, bindings, push struct, local_size_x) */
#define VKG_OPS_SAMPLE(X)

#endif
