// rope.glsl — the rotary angle's sine and cosine, shared by rope.comp and
// kv_append.comp's fused RoPE (kv_append_rope*): both rotate exactly alike.
#ifndef VKG_ROPE_GLSL
#define VKG_ROPE_GLSL

// sin and cos of an f32 angle to ~1e-7 absolute on any driver. HF takes cos
// of the f32 angle exactly, while Vulkan only asks 2^-11 of the builtins
// inside [-pi, pi] and drivers reduce large angles poorly; fma cannot be
// relied on either (llvmpipe splits it). So: Cody-Waite reduction by pi/2
// without fma — k = kh + kl (kh a multiple of 4096, kl < 4096) and pi/2 in
// four 12-bit parts, so every product k*part is exact and the first four
// subtractions are too (for |angle| < 2^18) — then Cephes sinf/cosf
// polynomials on [-pi/4, pi/4]. `precise` keeps the order.
void sincos_acc(float a, out float s, out float c)
{
    const float C1 = 1.57080078125, C2 = -4.45358455181121826171875e-06;
    const float C3 = -8.706138032721355557441711e-10, C4 = 6.222800053024002409074455e-14;
    precise float k = round(a * 0.636619772367581343);
    precise float kh = floor(k * (1.0 / 4096.0)) * 4096.0;
    precise float kl = k - kh;
    precise float r = a - kh * C1;
    r = r - kl * C1;
    r = r - kh * C2;
    r = r - kl * C2;
    r = r - kh * C3;
    r = r - kl * C3;
    r = r - k * C4;
    float z = r * r;
    float sn = r + r * z * ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1);
    float cs = 1.0 - 0.5 * z + z * z * ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2);
    int q = int(k - 4.0 * floor(k * 0.25)); // quadrant 0..3, also for negative k
    s = q == 0 ? sn : q == 1 ? cs : q == 2 ? -sn : -cs;
    c = q == 0 ? cs : q == 1 ? -sn : q == 2 ? -cs : sn;
}

#endif
