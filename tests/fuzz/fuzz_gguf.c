/* fuzz_gguf — libFuzzer target: any bytes as a .gguf file must open cleanly
 * or fail with a status, never crash; an opened file also goes through the
 * model layer (config, HF-named tensor views, tokenizer, chat template). Build
 * with -DVKGRM_FUZZ=ON and clang; seeds: tests/fuzz/corpus/fuzz_gguf. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_file.h"
#include "chat_template.h"
#include "gguf.h"
#include "gguf_model.h"
#include "tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/vkgrm-fuzz-XXXXXX.gguf";
    if (fuzz_write_temp(data, size, path, 5) != 0) return 0;
    struct vkg_gguf *g = NULL;
    if (vkg_gguf_open(path, &g) == VKG_OK) {
        char *text = NULL;
        if (vkg_gguf_config_text(g, &text) == VKG_OK) free(text);
        vkg_gguf_close(g);
        struct vkg_hf_config cfg;
        if (vkg_hf_config_load(path, &cfg) == VKG_OK) vkg_hf_config_free(&cfg);
        struct vkg_safetensors *st = NULL;
        if (vkg_safetensors_open(path, &st) == VKG_OK) vkg_safetensors_close(st);
        struct vkg_tokenizer *tok = NULL;
        if (vkg_tokenizer_load(path, &tok) == VKG_OK) vkg_tokenizer_free(tok);
        struct vkg_chat_template ct;
        if (vkg_chat_template_load(path, "llama", &ct) == VKG_OK) vkg_chat_template_free(&ct);
    }
    unlink(path);
    return 0;
}
