/* ref_dequant — the C references' dequantization on stdin bytes, for
 * tests/reference/ggml_quants_reference.py (which compares it with the gguf
 * package's numpy dequantizers): ref_dequant DTYPE N < blocks > float32s.
 * DTYPE is a vkgrm dtype name (Q8_0, Q4, Q4_1, ..., Q6_K); the bytes go
 * through ref_weight_row, the reader the GPU tests check the kernels against. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_matmul.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: ref_dequant DTYPE N < blocks > float32s\n");
        return 2;
    }
    enum vkg_dtype dt = VKG_DTYPE_UNKNOWN;
    for (int i = 0; i < VKG_DTYPE_COUNT; i++)
        if (strcmp(vkg_dtype_name((enum vkg_dtype)i), argv[1]) == 0) dt = (enum vkg_dtype)i;
    unsigned long n = strtoul(argv[2], NULL, 10);
    uint32_t bs = vkg_dtype_block_size(dt);
    if (dt == VKG_DTYPE_UNKNOWN || bs < 32 || n == 0 || n % bs) {
        fprintf(stderr, "ref_dequant: bad dtype '%s' or count %lu\n", argv[1], n);
        return 2;
    }
    size_t bytes = n / bs * vkg_dtype_block_bytes(dt);
    uint8_t *in = malloc(bytes);
    float *out = malloc(n * sizeof *out);
    if (!in || !out || fread(in, 1, bytes, stdin) != bytes) {
        fprintf(stderr, "ref_dequant: could not read %zu bytes\n", bytes);
        return 1;
    }
    ref_weight_row(in, dt, (uint32_t)n, out);
    fwrite(out, sizeof *out, n, stdout);
    free(in);
    free(out);
    return 0;
}
