// push_attention.glsl — twin of runtime/push_attention.h (checked there by _Static_assert).
// Include with PUSH_KV_APPEND defined for kv_append, else the attention block.
#ifdef PUSH_KV_APPEND
layout(push_constant) uniform PushKvAppend {
    uint n_tokens;   // tokens in this dispatch
    uint n_kv_heads;
    uint dk;
    uint dv;
    uint page_size;
    uint tok_off;    // first token record inside the bound tokens window
    uint k_off;      // first float inside the bound new-K window
    uint v_off;      // first float inside the bound new-V window
} p;
#else
layout(push_constant) uniform PushAttn {
    uint n_tokens;    // query tokens in this dispatch
    uint n_heads;     // query heads
    uint n_kv_heads;
    uint dk;
    uint dv;
    uint page_size;
    uint tok_off;     // first token record inside the bound tokens window
    uint q_off;       // first float inside the bound Q window
    uint o_off;       // first float inside the bound output window
    uint window;      // 0: none; else kv positions > pos - window
    float scale;      // multiplies q.k
    float softcap;    // 0: none
    uint n_split;     // KV splits
    uint split_len;   // kv positions per split
    uint head_chunks; // workgroups per KV head (attn, attn_split)
    uint kv_start;    // attn, attn_split: first kv position attended
    uint part_base;   // partials: first record slot of this dispatch
    uint part_stride; // partials: record slots per row (combine merges them all)
    uint prefix_len;  // attn_prefix: shared prefix tokens
} p;
#endif

#define VKG_ATTN_GMAX 8
#define VKG_ATTN_DMAX 256
#define VKG_ATTN_TILE 64
#define VKG_ATTN_PREFIX_ROWS 16
