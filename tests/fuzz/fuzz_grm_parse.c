/* fuzz_grm_parse — libFuzzer target for the GRM output side: any bytes as a
 * judgment (byte 0 picks n = 1..64, byte 1 the truncation flag), as a
 * scorer output line (read back, written again, re-voted) and as a --template
 * file never crash, and what is accepted obeys the parser's contract.
 * Run: ./fuzz_grm_parse tests/fuzz/corpus/fuzz_grm_parse */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grm_parse.h"
#include "grm_prompt.h"
#include "grm_result.h"

static void judgment(const uint8_t *data, size_t size)
{
    if (size < 2) return;
    uint32_t n = 1 + data[0] % VKG_GRM_MAX_RESPONSES;
    bool truncated = data[1] & 1;
    struct vkg_grm_scores s;
    enum vkg_grm_reason r = vkg_grm_parse_scores((const char *)data + 2, size - 2, n, truncated, &s);
    if (r != s.reason || r >= VKG_GRM_REASON_COUNT || (truncated && r != VKG_GRM_VALID && r != VKG_GRM_TRUNCATED))
        abort();
    for (uint32_t i = 0; r == VKG_GRM_VALID && i < n; i++)
        if (s.scores[i] < 1 || s.scores[i] > 10) abort();
}

static void result_line(const uint8_t *data, size_t size)
{
    struct vkg_grm_result r;
    if (vkg_grm_result_parse((const char *)data, size, &r) != VKG_OK) return;
    char *line = NULL;
    struct vkg_grm_result back;
    if (vkg_grm_result_json(&r, true, &line) != VKG_OK || vkg_grm_result_parse(line, strlen(line), &back) != VKG_OK)
        abort(); /* what was accepted writes back to an acceptable line */
    vkg_grm_result_free(&back);
    free(line);
    if (!r.error && vkg_grm_result_revote(&r, 1 + r.k / 2, r.has_meta, 0) != VKG_OK) abort();
    vkg_grm_result_free(&r);
}

static void template_file(const uint8_t *data, size_t size)
{
    struct vkg_grm_template t;
    if (vkg_grm_template_parse((const char *)data, size, "fuzz", &t) != VKG_OK) return;
    static const char rec_line[] = "{\"query\": \"q\", \"responses\": [\"a\", \"b\"]}";
    struct vkg_grm_record rec;
    char *text = NULL;
    if (vkg_grm_record_parse(rec_line, sizeof rec_line - 1, 0, 1, &rec) != VKG_OK ||
        vkg_grm_render(&t, &rec, NULL, &text, NULL) != VKG_OK)
        abort();
    free(text);
    vkg_grm_record_free(&rec);
    vkg_grm_template_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    judgment(data, size);
    result_line(data, size);
    template_file(data, size);
    return 0;
}
