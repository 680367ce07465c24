// push_norm.glsl — twins of runtime/push_norm.h (checked there by
// _Static_assert). A shader defines one of PUSH_EMBED, PUSH_RMSNORM,
// PUSH_ROPE, PUSH_GLU, PUSH_ELTWISE before including this file.
#if defined(PUSH_EMBED)
layout(push_constant) uniform PushEmbed {
    uint n_tokens;   // tokens in this dispatch
    uint dim;        // row length (elements)
    uint ids_off;    // first id inside the ids window
    uint out_off;    // first output float inside the out window
    uint table_skip; // byte of row row_lo inside the table window
    uint row_lo;     // first table row in the window
    uint row_hi;     // one past the last table row in the window
    uint vocab;      // rows of the whole table
    uint write_oob;  // this dispatch writes zeros for out-of-range ids
    float scale;
    uint pad0, pad1;
} p;
#elif defined(PUSH_RMSNORM)
layout(push_constant) uniform PushRmsnorm {
    uint n;        // row length
    uint rows;     // rows in this dispatch (tokens * group)
    uint group;    // rows per token (heads of a per-head norm, else 1)
    uint x_stride; // elements between tokens in x and the residual
    uint y_stride; // elements between tokens in y
    uint x_off, r_off, y_off;
    float eps;
    float w_add;   // 0: * w; 1: * (1 + w) (Gemma)
    uint pad0, pad1;
} p;
#elif defined(PUSH_ROPE)
layout(push_constant) uniform PushRope {
    uint n_tokens, n_heads;
    uint head_stride; // elements between heads
    uint tok_stride;  // elements between tokens
    uint x_off, pos_off;
    uint rot_dim;     // rotated dims (even)
    uint dim_off;     // first rotated dim inside a head
    uint interleaved; // 0: (k, k + rot_dim/2); 1: (2k, 2k+1)
    float attn_factor;
    uint pad0, pad1;
} p;
#elif defined(PUSH_GLU)
layout(push_constant) uniform PushGlu {
    uint n, rows;
    uint gate_off, gate_stride;
    uint up_off, up_stride;
    uint out_off, out_stride;
} p;
#elif defined(PUSH_ELTWISE)
layout(push_constant) uniform PushEltwise {
    uint n, a_off, b_off, out_off;
    float f;
    uint pad0, pad1, pad2;
} p;
#else
#error "define PUSH_EMBED, PUSH_RMSNORM, PUSH_ROPE, PUSH_GLU or PUSH_ELTWISE"
#endif
