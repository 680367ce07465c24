/* fuzz_hf_config — libFuzzer target: any bytes as config.json and
 * generation_config.json (the input split at its first NUL byte) parse
 * cleanly or fail with a status, never crash or leak. Exercises the strict
 * JSON reader (loaders/json.c) and every field check of hf_config.c.
 * Run: tools/fuzz.sh fuzz_hf_config SECONDS (seeds: tests/fuzz/corpus/fuzz_hf_config). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hf_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t n1 = nul ? (size_t)(nul - data) : size;
    char *config = malloc(n1 + 1);
    if (!config) return 0;
    memcpy(config, data, n1);
    config[n1] = '\0';
    struct vkg_hf_config cfg;
    if (vkg_hf_config_parse(config, "config.json", &cfg) == VKG_OK) vkg_hf_config_free(&cfg);
    free(config);
    if (nul) {
        struct vkg_generation_config g;
        vkg_generation_config_parse((const char *)nul + 1, size - n1 - 1, "generation_config.json", &g);
    }
    return 0;
}
