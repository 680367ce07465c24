/* fuzz_safetensors — libFuzzer target: any bytes as a .safetensors file must
 * open cleanly or fail with a status, never crash (build with -DVKGRM_FUZZ=ON
 * and clang; run ./fuzz_safetensors tests/data/malformed). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_file.h"
#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/vkgrm-fuzz-XXXXXX";
    if (fuzz_write_temp(data, size, path, 0) != 0) return 0;
    struct vkg_safetensors *st = NULL;
    if (vkg_safetensors_open(path, &st) == VKG_OK) {
        for (size_t i = 0; i < vkg_safetensors_count(st); i++) vkg_tensor_view_check(vkg_safetensors_get(st, i));
        vkg_safetensors_close(st);
    }
    unlink(path);
    return 0;
}
