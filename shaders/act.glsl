// act.glsl — the activations shared by act.comp and the fused gate|up of
// matmul_lane.comp, so that both compute exactly the same floats:
//   silu(g) = g / (1 + exp(-g)), gelu_tanh(g) = 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3))).
// tanh is computed here (not the builtin) so that it is accurate near 0 and
// never overflows: drivers may lower tanh to (e^2x - 1) / (e^2x + 1).
#ifndef VKG_ACT_GLSL
#define VKG_ACT_GLSL
#include "f16_rne.glsl"
// tanh with ~1e-7 relative error: an odd polynomial below 0.625 (Cephes
// tanhf coefficients), 1 - 2 / (e^2|x| + 1) above (e^2|x| -> inf gives 1).
float tanh_acc(float x)
{
    float a = abs(x);
    if (a < 0.625) {
        float z = x * x;
        float q = ((((-5.70498872745e-3 * z + 2.06390887954e-2) * z - 5.37397155531e-2) * z +
                    1.33314422036e-1) * z - 3.33332819422e-1);
        return x + x * z * q;
    }
    float r = 1.0 - 2.0 / (exp(2.0 * a) + 1.0);
    return x < 0.0 ? -r : r;
}

float act_silu(float g) { return g / (1.0 + exp(-g)); }
float act_gelu_tanh(float g) { return 0.5 * g * (1.0 + tanh_acc(0.7978845608028654 * (g + 0.044715 * g * g * g))); }
// ggml's GELU (VKGRM_GELU_F16, the GEGLU_F16 modes): llama.cpp's CPU backend looks gelu up in a
// table of halves indexed by the half of x (ggml_table_gelu_f16[i] = f16(gelu_f32(f16 i)), its
// gelu_f32 0.5 x (1 + tanh(sqrt(2/pi) x (1 + 0.044715 x^2)))), 0 at x <= -10 and x itself at x >= 10
float act_gelu_f16(float g)
{
    if (g <= -10.0) return 0.0;
    if (g >= 10.0) return g;
    float h = f16_rne(g);
    return f16_rne(0.5 * h * (1.0 + tanh_acc(0.7978845608028654 * h * (1.0 + 0.044715 * h * h))));
}
#endif
