/* grm_prompt.h — the text a GRM judge reads: the DeepSeek-GRM template filled
 * with a record's conversation and responses (in one sample's order), the
 * MetaRM prompt, and both wrapped in a model's chat template.
 *
 * Default template (notes/grm.md §a.2): the paper's Appendix-G "DeepSeek-GRM
 * (Default)" prompt with the exact text and whitespace of the community copy
 * (GENRM_PAIRWISE_PROMPT_TEMPLATE of a Bytedance verl reward function): real
 * newlines, bullets and "Example:" lines indented three spaces, a blank line
 * before "#### Evaluation Criteria ####", one newline between the context and
 * "#### Responses to be Scored ####", a blank line before and after
 * "#### Output Format Requirements ####", "responses" (not the paper's
 * "responeses"), ASCII quotes as in that copy ("User's", "Partially
 * Adhered."; the PDF typesets them curly), no trailing newline, and the
 * example box written "\boxed{x, x}" whatever n is. vkg_grm_default_template
 * holds it in the template-file format below (so "{{x, x}}").
 *
 * Filling it:
 *   {context}    a conversation that is a single user message: its raw text.
 *                Otherwise one line per message, "User: …", "Assistant: …",
 *                "System: …", joined by "\n" (paper Table 18 prints multi-turn
 *                context as User:/Assistant: turns; a system message is kept,
 *                as a "System:" line in its place, because the responses
 *                should be judged against it).
 *   {responses}  for shown position p = 1..n:
 *                "[The Begin of Response p]\n{response perm[p-1]}\n[The End of Response p]\n",
 *                concatenated (so the last block ends with one "\n").
 *
 * Template files (--template FILE): UTF-8 text; "{context}" and "{responses}"
 * are replaced as above and must both appear (each may appear more than
 * once); "{{" and "}}" are literal braces; any other "{name}", an unmatched
 * "{" or a single "}" is an error naming it and its line. A UTF-8 BOM is
 * dropped, CRLF line ends become LF, and ONE final newline is dropped (editors
 * add it; end the file with two newlines to keep one). The response block
 * format is fixed.
 *
 * MetaRM prompt (notes/grm.md §a.4): user turn
 *   "Please score the responses.\n#### Conversation Context ####\n{context}\n"
 *   "#### Responses to be Scored ####\n{responses}"
 * with the same {context} and {responses} as the judge prompt of that sample
 * (its permutation). The paper prints "…{conversation context & query}\n" and
 * the Responses header on the next line; the default template's community
 * copy renders that same layout as ONE newline between the context and the
 * header, so the meta prompt does too. The judge's output is the assistant turn.
 *
 * Chat wrapping (loaders/chat_template.h): the judge prompt is
 * [{user: rendered}] with the generation prompt; the meta prompt is
 * [{user: meta text}, {assistant: judgment}] without it. The chat template
 * writes BOS itself: encode the result with VKG_TOK_PARSE_SPECIAL only. */
#ifndef VKG_GRM_PROMPT_H
#define VKG_GRM_PROMPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chat_template.h"
#include "grm_record.h"
#include "status.h"

/* The default template in the template-file format. */
extern const char vkg_grm_default_template[];

enum vkg_grm_piece_kind { VKG_GRM_PIECE_TEXT, VKG_GRM_PIECE_CONTEXT, VKG_GRM_PIECE_RESPONSES };

struct vkg_grm_piece {
    enum vkg_grm_piece_kind kind;
    char *text; /* VKG_GRM_PIECE_TEXT: literal text (braces already unescaped) */
    size_t len;
};

/* A parsed template: literal text and placeholders in order. */
struct vkg_grm_template {
    struct vkg_grm_piece *pieces;
    size_t n_pieces;
};

/* Parse template-file text; `name` (a path) is used in messages.
 * VKG_ERR_TEMPLATE for a bad placeholder, brace or missing placeholder. */
enum vkg_status vkg_grm_template_parse(const char *text, size_t len, const char *name, struct vkg_grm_template *t);
/* Read and parse a template file (VKG_ERR_NOT_FOUND / VKG_ERR_IO / VKG_ERR_TEMPLATE). */
enum vkg_status vkg_grm_template_load(const char *path, struct vkg_grm_template *t);
/* The default template, parsed. */
enum vkg_status vkg_grm_template_default(struct vkg_grm_template *t);
void vkg_grm_template_free(struct vkg_grm_template *t);

/* {context} of a conversation (see above). */
enum vkg_status vkg_grm_context(const struct vkg_chat_message *msgs, size_t n, char **out);
/* {responses}: n blocks in shown order, block p holding responses[perm[p]]
 * (perm NULL = identity). */
enum vkg_status vkg_grm_response_blocks(char *const *responses, size_t n, const uint32_t *perm, char **out);

/* The judge text of one sample (before chat wrapping). *shared_len (may be
 * NULL) receives the length of the part that does not depend on perm (up to
 * the first {responses}). */
enum vkg_status vkg_grm_render(const struct vkg_grm_template *t, const struct vkg_grm_record *rec, const uint32_t *perm,
                               char **out, size_t *shared_len);
/* The MetaRM user text of one sample. */
enum vkg_status vkg_grm_meta_render(const struct vkg_grm_record *rec, const uint32_t *perm, char **out);

/* The final judge prompt to tokenize: vkg_grm_render wrapped as the user turn
 * of chat template ct with the generation prompt (enable_thinking: Qwen3's
 * switch, pass true for other families). *shared_len (may be NULL): bytes of
 * the final text that are the same for every permutation (0 when the chat
 * template rewrote the shared part so it cannot be located). */
enum vkg_status vkg_grm_judge_prompt(const struct vkg_chat_template *ct, bool enable_thinking,
                                     const struct vkg_grm_template *t, const struct vkg_grm_record *rec,
                                     const uint32_t *perm, char **out, size_t *shared_len);
/* The final MetaRM input: [{user: vkg_grm_meta_render}, {assistant: judgment}]
 * in chat template ct, no generation prompt. */
enum vkg_status vkg_grm_meta_prompt(const struct vkg_chat_template *ct, const struct vkg_grm_record *rec,
                                    const uint32_t *perm, const char *judgment, char **out);

#endif
