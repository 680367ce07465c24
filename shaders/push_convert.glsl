// push_convert.glsl — twin of runtime/push_convert.h (checked there by _Static_assert).
layout(push_constant) uniform PushConvert {
    uint n;       // elements (convert) or 32-bit words (copy, fill)
    uint src_off; // first element inside the bound source window
    uint dst_off; // first element inside the bound destination window
    uint value;   // fill pattern
} p;
