// quant.glsl — reading block-quantized weights stored in uint[] buffers.
// Layouts (loaders/dtype.h; same as ggml Q8_0 / Q4_0), blocks of 32 values:
//   Q8_0: 34 bytes = f16 scale d, then 32 int8 q;      value j = d * q[j]
//   Q4  : 18 bytes = f16 scale d, then 16 bytes of nibbles; byte i holds
//         value i in its low nibble and value i+16 in its high nibble;
//         value = d * (nibble - 8)
// Blocks are not 4-byte aligned, so bytes are extracted from words. Include
// dtype.glsl first. BUF is the name of a uint[] buffer; b is a byte offset
// inside the bound window.
#define VKG_BYTE(BUF, b) ((BUF[(b) >> 2] >> (((b) & 3u) * 8u)) & 0xffu)
#define VKG_U16(BUF, b) (VKG_BYTE(BUF, (b)) | (VKG_BYTE(BUF, (b) + 1u) << 8))
#define VKG_Q8_0_BYTES 34u
#define VKG_Q4_BYTES 18u
#define VKG_QBLOCK 32u

// scale of the block starting at byte o
#define VKG_QSCALE(BUF, o) vkg_f16_to_f32(VKG_U16(BUF, (o)))
// int8 value j (0..31) of a Q8_0 block at byte o, as float (not scaled)
#define VKG_Q8_0_Q(BUF, o, j) float((int(VKG_BYTE(BUF, (o) + 2u + (j))) ^ 0x80) - 0x80)
// 4-bit value j (0..31) of a Q4 block at byte o, minus 8, as float (not scaled)
#define VKG_Q4_Q(BUF, o, j) \
    float(int((VKG_BYTE(BUF, (o) + 2u + ((j) & 15u)) >> (((j) >> 4) * 4u)) & 15u) - 8)
