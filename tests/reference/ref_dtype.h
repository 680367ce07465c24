/* ref_dtype.h — plain-C references for 16-bit float conversions, written
 * from IEEE 754 with doubles and obvious steps (not from the shaders). */
#ifndef VKG_REF_DTYPE_H
#define VKG_REF_DTYPE_H

#include <stdint.h>

float ref_f16_to_f32(uint16_t h);
float ref_bf16_to_f32(uint16_t b);
uint16_t ref_f32_to_f16(float f);  /* round to nearest even, overflow -> inf */
uint16_t ref_f32_to_bf16(float f); /* round to nearest even */
int ref_f16_is_nan(uint16_t h);
int ref_bf16_is_nan(uint16_t b);

#endif
