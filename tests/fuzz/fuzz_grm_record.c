/* fuzz_grm_record — libFuzzer target: any bytes as GRM JSONL input never
 * crash the record reader. The bytes go through the stream reader (many
 * lines); every good record is rendered as a judge prompt (default template,
 * a permutation, chat wrapping by a template file) and a MetaRM prompt, and
 * every record (good or bad) becomes a result line that must read back.
 * Run: ./fuzz_grm_record tests/fuzz/corpus/fuzz_grm_record */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grm_prompt.h"
#include "grm_record.h"
#include "grm_result.h"

static struct vkg_grm_template g_tmpl;
static struct vkg_chat_template g_chat;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char chat[] = "[prefix]\n{bos}\n[system]\nS:{content}\n[user]\n<u>{content}</u>\n"
                               "[assistant]\n<a>{content}</a>{eos}\n[generation]\n<a>\n";
    if (vkg_grm_template_default(&g_tmpl) != VKG_OK || vkg_chat_template_parse_file(chat, "fuzz", &g_chat) != VKG_OK) {
        fprintf(stderr, "fuzz_grm_record: setup failed: %s\n", vkg_error_detail());
        exit(2);
    }
    g_chat.bos = strdup("<s>");
    g_chat.eos = strdup("</s>");
    return 0;
}

static void use_record(const struct vkg_grm_record *rec)
{
    struct vkg_grm_result res;
    if (vkg_grm_result_init(&res, rec, 2, 7) != VKG_OK) abort();
    if (!rec->error) {
        char *text = NULL;
        size_t shared = 0;
        if (vkg_grm_judge_prompt(&g_chat, true, &g_tmpl, rec, res.samples[1].perm, &text, &shared) != VKG_OK ||
            shared > strlen(text))
            abort();
        free(text);
        if (vkg_grm_meta_prompt(&g_chat, rec, res.samples[0].perm, "\\boxed{1, 2}", &text) != VKG_OK) abort();
        free(text);
        for (uint32_t j = 0; j < 2; j++)
            if (vkg_grm_result_set_judgment(&res, j, rec->messages[0].content, strlen(rec->messages[0].content), 1,
                                            j == 1, true) != VKG_OK)
                abort();
        vkg_grm_result_vote(&res, false, 0);
    }
    char *line = NULL;
    struct vkg_grm_result back;
    if (vkg_grm_result_json(&res, true, &line) != VKG_OK || vkg_grm_result_parse(line, strlen(line), &back) != VKG_OK)
        abort(); /* every line we write must read back */
    vkg_grm_result_free(&back);
    free(line);
    vkg_grm_result_free(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = size ? fmemopen((void *)data, size, "rb") : NULL;
    if (!f) return 0;
    struct vkg_grm_reader *rd;
    if (vkg_grm_reader_open_file(f, "fuzz", &rd) == VKG_OK) {
        struct vkg_grm_record rec;
        bool eof = false;
        while (vkg_grm_reader_next(rd, &rec, &eof) == VKG_OK && !eof) {
            use_record(&rec);
            vkg_grm_record_free(&rec);
        }
        vkg_grm_reader_close(rd);
    }
    fclose(f);
    return 0;
}
