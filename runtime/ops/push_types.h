/* push_types.h — makes a push_<family>.h header valid C and valid GLSL, so
 * each push-constant struct is written once and the host and the shaders
 * read the same declaration.
 *
 * glslang predefines GL_core_profile for "#version 450"; a C compiler does
 * not. Rules for a push header:
 *   - struct members are uint32_t, int32_t, float or fixed arrays of them
 *     (4-byte scalars: C's natural layout equals GLSL std430, which push
 *     constants and storage buffers use), declared `struct name { ... };`;
 *   - constants are plain #defines (with a u suffix where GLSL wants uint);
 *   - anything C-only (includes, _Static_assert, prototypes) sits under
 *     #ifndef GL_core_profile.
 * A shader includes its family header and names its struct once:
 *     #include "push_norm.h"
 *     VKG_PUSH_CONSTANTS(vkg_push_rmsnorm);   // fields read as p.n, p.eps, ...
 */
#ifndef VKG_PUSH_TYPES_H
#define VKG_PUSH_TYPES_H

#ifdef GL_core_profile
#define uint32_t uint
#define int32_t int
#define VKG_PUSH_CONSTANTS(T) \
    layout(push_constant) uniform T##_block { T p; }
#else
#include <stdint.h>
#endif

#endif
