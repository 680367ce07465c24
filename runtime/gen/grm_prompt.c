/* grm_prompt.c — DeepSeek-GRM judge and MetaRM prompts (see grm_prompt.h). */
#include "grm_prompt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grm_text.h"

/* notes/grm.md §a.2, text and whitespace of the community copy; one C line per text line. */
const char vkg_grm_default_template[] =
    "You are a skilled little expert at scoring responses. You should evaluate given responses based on the given judging criteria.\n"
    "Given the context of the conversation (the last round is the User's query) and multiple responses from the Assistant, you need to refer to the [General Evaluation Criteria] to score the responses. Based on the general evaluation criteria, state potential other specific criteria to the query, the weights of different criteria, and then provide an overall comprehensive score upon them.\n"
    "Each score is an integer between 1 and 10, with a higher score indicating that the response meets the relevant criteria more closely. For example, a score of 1 means the response does not meet the criteria at all, a score of 6 means the response meets only some parts, and a score of 10 means the response perfectly meets the evaluation criteria.\n"
    "Before scoring, please analyze step by step. Your scoring needs to be as strict as possible.\n"
    "\n"
    "#### Evaluation Criteria ####\n"
    "1. Instruction Adherence:\n"
    "   - Fully Adhered (9-10 points): The response fully complies with all instructions and requirements of the question.\n"
    "   - Partially Adhered (6-8 points): The response meets most of the instructions but has some omissions or misunderstandings.\n"
    "   - Basically Adhered (3-5 points): The response meets some instructions, but the main requirements are not fulfilled.\n"
    "   - Not Adhered (1-2 points): The response does not meet any instructions.\n"
    "   Example: If the question requires three examples and the response provides only one, it falls under \"Partially Adhered.\"\n"
    "2. Usefulness:\n"
    "   - Highly Useful (9-10 points): The response provides comprehensive and accurate information, fully addressing the issue.\n"
    "   - Useful but Incomplete (6-8 points): The response provides some useful information, but lacks details or accuracy.\n"
    "   - Limited Usefulness (3-5 points): The response offers little useful information, with most content being irrelevant or incorrect.\n"
    "   - Useless or Incorrect (1-2 points): The response is completely irrelevant or incorrect.\n"
    "   Example: If there are factual errors in the response but the overall direction is correct, it falls under \"Useful but Incomplete.\"\n"
    "3. Level of Detail:\n"
    "   - Very Detailed (9-10 points): The response includes ample details covering all aspects of the issue.\n"
    "   - Detailed but Slightly Lacking (6-8 points): The response is fairly detailed but misses some important details.\n"
    "   - Basically Detailed (3-5 points): The response provides some details but is not thorough enough overall.\n"
    "   - Not Detailed (1-2 points): The response is very brief and lacks necessary details.\n"
    "   Example: If the response provides only a simple conclusion without an explanation, it falls under \"Not Detailed.\"\n"
    "4. Relevance:\n"
    "   - Highly Relevant (9-10 points): The response is highly relevant to the question, with information closely aligned with the topic.\n"
    "   - Generally Relevant (6-8 points): The response is generally relevant but includes some unnecessary information.\n"
    "   - Partially Relevant (3-5 points): The response has a lot of content that deviates from the topic.\n"
    "   - Not Relevant (1-2 points): The response is completely irrelevant.\n"
    "   Example: If the response strays from the topic but still provides some relevant information, it falls under \"Partially Relevant.\"\n"
    "\n"
    "#### Conversation Context ####\n"
    "{context}\n"
    "#### Responses to be Scored ####\n"
    "{responses}\n"
    "\n"
    "#### Output Format Requirements ####\n"
    "\n"
    "Output with three lines\n"
    "Specific Criteria: <Other potential criteria specific to the query and the context, and the weights of each criteria>.\n"
    "Analysis: <Compare different responses based on given Criteria>.\n"
    "Scores: <the overall comprehensive score of all responses in order, separate by comma in the boxed, e.g., \\boxed{{x, x}} if there exists 2 responses>.";

static const char g_meta_head[] = "Please score the responses.\n#### Conversation Context ####\n";
static const char g_meta_mid[] = "\n#### Responses to be Scored ####\n";

/* ---- template parsing ---------------------------------------------------------- */

void vkg_grm_template_free(struct vkg_grm_template *t)
{
    for (size_t i = 0; i < t->n_pieces; i++) free(t->pieces[i].text);
    free(t->pieces);
    t->pieces = NULL;
    t->n_pieces = 0;
}

static enum vkg_status add_piece(struct vkg_grm_template *t, enum vkg_grm_piece_kind kind, struct vkg_grm_text *lit)
{
    struct vkg_grm_piece p = { kind, NULL, 0 };
    if (kind == VKG_GRM_PIECE_TEXT) {
        if (lit->len == 0 && !lit->oom) return VKG_OK;
        enum vkg_status st = vkg_grm_text_take(lit, &p.text, &p.len);
        if (st != VKG_OK) return st;
    }
    struct vkg_grm_piece *np = realloc(t->pieces, (t->n_pieces + 1) * sizeof *np);
    if (!np) {
        free(p.text);
        return vkg_error(VKG_ERR_NOMEM, "GRM template: out of memory");
    }
    t->pieces = np;
    t->pieces[t->n_pieces++] = p;
    return VKG_OK;
}

static size_t line_of(const char *s, size_t at)
{
    size_t line = 1;
    for (size_t i = 0; i < at; i++) line += s[i] == '\n';
    return line;
}

/* The template text after file normalisation (BOM, CRLF, one final newline). */
static enum vkg_status normalise(const char *text, size_t len, const char *name, char **out, size_t *out_len)
{
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
        text += 3;
        len -= 3;
    }
    if (memchr(text, '\0', len)) return vkg_error(VKG_ERR_TEMPLATE, "%s: NUL byte in the template", name);
    if (!vkg_grm_utf8_valid(text, len)) return vkg_error(VKG_ERR_TEMPLATE, "%s: the template is not valid UTF-8", name);
    struct vkg_grm_text b = { 0 };
    for (size_t i = 0; i < len; i++)
        if (!(text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')) vkg_grm_text_add(&b, text + i, 1);
    enum vkg_status st = vkg_grm_text_take(&b, out, out_len);
    if (st == VKG_OK && *out_len > 0 && (*out)[*out_len - 1] == '\n') (*out)[--*out_len] = '\0';
    return st;
}

/* One "{...}" at s[i] (s[i] == '{', not "{{"): the placeholder kind, *end after '}'. */
static enum vkg_status placeholder(const char *s, size_t len, size_t i, const char *name, enum vkg_grm_piece_kind *kind,
                                   size_t *end)
{
    size_t j = i + 1;
    while (j < len && s[j] != '}' && s[j] != '{' && s[j] != '\n') j++;
    if (j >= len || s[j] != '}')
        return vkg_error(VKG_ERR_TEMPLATE, "%s: line %zu: unmatched \"{\" (write \"{{\" for a literal brace)", name,
                         line_of(s, i));
    size_t n = j - i - 1;
    if (n == 7 && !memcmp(s + i + 1, "context", 7)) *kind = VKG_GRM_PIECE_CONTEXT;
    else if (n == 9 && !memcmp(s + i + 1, "responses", 9)) *kind = VKG_GRM_PIECE_RESPONSES;
    else
        return vkg_error(VKG_ERR_TEMPLATE,
                         "%s: line %zu: unknown placeholder \"{%.*s}\" (known: {context}, {responses}; "
                         "write \"{{\" and \"}}\" for literal braces)",
                         name, line_of(s, i), (int)(n > 40 ? 40 : n), s + i + 1);
    *end = j + 1;
    return VKG_OK;
}

static enum vkg_status parse_pieces(const char *s, size_t len, const char *name, struct vkg_grm_template *t)
{
    struct vkg_grm_text lit = { 0 };
    bool seen[3] = { false, false, false };
    enum vkg_status st = VKG_OK;
    for (size_t i = 0; i < len && st == VKG_OK;) {
        if ((s[i] == '{' || s[i] == '}') && i + 1 < len && s[i + 1] == s[i]) {
            vkg_grm_text_add(&lit, s + i, 1);
            i += 2;
        } else if (s[i] == '}') {
            st = vkg_error(VKG_ERR_TEMPLATE, "%s: line %zu: single \"}\" (write \"}}\" for a literal brace)", name,
                           line_of(s, i));
        } else if (s[i] == '{') {
            enum vkg_grm_piece_kind kind = VKG_GRM_PIECE_TEXT;
            if ((st = placeholder(s, len, i, name, &kind, &i)) == VKG_OK &&
                (st = add_piece(t, VKG_GRM_PIECE_TEXT, &lit)) == VKG_OK)
                st = add_piece(t, kind, NULL);
            seen[kind] = st == VKG_OK;
        } else {
            size_t j = i;
            while (j < len && s[j] != '{' && s[j] != '}') j++;
            vkg_grm_text_add(&lit, s + i, j - i);
            i = j;
        }
    }
    if (st == VKG_OK) st = add_piece(t, VKG_GRM_PIECE_TEXT, &lit);
    vkg_grm_text_free(&lit);
    if (st == VKG_OK && (!seen[VKG_GRM_PIECE_CONTEXT] || !seen[VKG_GRM_PIECE_RESPONSES]))
        st = vkg_error(VKG_ERR_TEMPLATE, "%s: the template has no {%s} placeholder", name,
                       seen[VKG_GRM_PIECE_CONTEXT] ? "responses" : "context");
    return st;
}

enum vkg_status vkg_grm_template_parse(const char *text, size_t len, const char *name, struct vkg_grm_template *t)
{
    memset(t, 0, sizeof *t);
    char *s;
    size_t n;
    enum vkg_status st = normalise(text, len, name, &s, &n);
    if (st != VKG_OK) return st;
    st = parse_pieces(s, n, name, t);
    free(s);
    if (st != VKG_OK) vkg_grm_template_free(t);
    return st;
}

enum vkg_status vkg_grm_template_load(const char *path, struct vkg_grm_template *t)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f) return vkg_error(errno == ENOENT ? VKG_ERR_NOT_FOUND : VKG_ERR_IO, "%s: %s", path, strerror(errno));
    struct vkg_grm_text b = { 0 };
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) vkg_grm_text_add(&b, chunk, got);
    bool err = ferror(f);
    fclose(f);
    if (err) {
        vkg_grm_text_free(&b);
        return vkg_error(VKG_ERR_IO, "%s: read error", path);
    }
    char *text;
    size_t len;
    enum vkg_status st = vkg_grm_text_take(&b, &text, &len);
    if (st != VKG_OK) return st;
    st = vkg_grm_template_parse(text, len, path, t);
    free(text);
    return st;
}

enum vkg_status vkg_grm_template_default(struct vkg_grm_template *t)
{
    return vkg_grm_template_parse(vkg_grm_default_template, strlen(vkg_grm_default_template), "default template", t);
}

/* ---- filling ------------------------------------------------------------------------ */

static void add_context(struct vkg_grm_text *b, const struct vkg_chat_message *m, size_t n)
{
    if (n == 1 && !strcmp(m[0].role, "user")) {
        vkg_grm_text_adds(b, m[0].content);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *who = !strcmp(m[i].role, "user")        ? "User"
                          : !strcmp(m[i].role, "assistant") ? "Assistant"
                          : !strcmp(m[i].role, "system")    ? "System"
                                                            : m[i].role;
        vkg_grm_text_addf(b, "%s%s: ", i ? "\n" : "", who);
        vkg_grm_text_adds(b, m[i].content);
    }
}

static void add_blocks(struct vkg_grm_text *b, char *const *responses, size_t n, const uint32_t *perm)
{
    for (size_t p = 0; p < n; p++) {
        vkg_grm_text_addf(b, "[The Begin of Response %zu]\n", p + 1);
        vkg_grm_text_adds(b, responses[perm ? perm[p] : p]);
        vkg_grm_text_addf(b, "\n[The End of Response %zu]\n", p + 1);
    }
}

enum vkg_status vkg_grm_context(const struct vkg_chat_message *msgs, size_t n, char **out)
{
    struct vkg_grm_text b = { 0 };
    add_context(&b, msgs, n);
    return vkg_grm_text_take(&b, out, NULL);
}

enum vkg_status vkg_grm_response_blocks(char *const *responses, size_t n, const uint32_t *perm, char **out)
{
    struct vkg_grm_text b = { 0 };
    add_blocks(&b, responses, n, perm);
    return vkg_grm_text_take(&b, out, NULL);
}

static enum vkg_status check_record(const struct vkg_grm_record *rec)
{
    if (rec->error || rec->n_messages == 0 || rec->n_responses == 0)
        return vkg_error(VKG_ERR_INVALID_ARG, "GRM prompt: record %llu (line %llu) is not a valid record",
                         (unsigned long long)rec->index, (unsigned long long)rec->line);
    return VKG_OK;
}

enum vkg_status vkg_grm_render(const struct vkg_grm_template *t, const struct vkg_grm_record *rec, const uint32_t *perm,
                               char **out, size_t *shared_len)
{
    enum vkg_status st = check_record(rec);
    if (st != VKG_OK) return st;
    struct vkg_grm_text b = { 0 };
    bool shared_set = false;
    for (size_t i = 0; i < t->n_pieces; i++) {
        const struct vkg_grm_piece *p = &t->pieces[i];
        if (p->kind == VKG_GRM_PIECE_TEXT) {
            vkg_grm_text_add(&b, p->text, p->len);
        } else if (p->kind == VKG_GRM_PIECE_CONTEXT) {
            add_context(&b, rec->messages, rec->n_messages);
        } else {
            if (!shared_set && shared_len) *shared_len = b.len;
            shared_set = true;
            add_blocks(&b, rec->responses, rec->n_responses, perm);
        }
    }
    if (!shared_set && shared_len) *shared_len = b.len;
    return vkg_grm_text_take(&b, out, NULL);
}

enum vkg_status vkg_grm_meta_render(const struct vkg_grm_record *rec, const uint32_t *perm, char **out)
{
    enum vkg_status st = check_record(rec);
    if (st != VKG_OK) return st;
    struct vkg_grm_text b = { 0 };
    vkg_grm_text_adds(&b, g_meta_head);
    add_context(&b, rec->messages, rec->n_messages);
    vkg_grm_text_adds(&b, g_meta_mid);
    add_blocks(&b, rec->responses, rec->n_responses, perm);
    return vkg_grm_text_take(&b, out, NULL);
}

/* ---- chat wrapping ------------------------------------------------------------------ */

/* Where the first `n` bytes of content (the shared part) end in the wrapped
 * text, or 0 when the template changed them (e.g. a stripped leading space). */
static size_t locate_shared(const char *wrapped, const char *content, size_t n)
{
    if (n == 0) return 0;
    char *prefix = strndup(content, n);
    if (!prefix) return 0;
    const char *at = strstr(wrapped, prefix);
    free(prefix);
    return at ? (size_t)(at - wrapped) + n : 0;
}

enum vkg_status vkg_grm_judge_prompt(const struct vkg_chat_template *ct, bool enable_thinking,
                                     const struct vkg_grm_template *t, const struct vkg_grm_record *rec,
                                     const uint32_t *perm, char **out, size_t *shared_len)
{
    char *content;
    size_t shared = 0;
    *out = NULL;
    enum vkg_status st = vkg_grm_render(t, rec, perm, &content, &shared);
    if (st != VKG_OK) return st;
    struct vkg_chat_message m = { "user", content, NULL };
    st = vkg_chat_template_render(ct, &m, 1, true, enable_thinking, out);
    if (st == VKG_OK && shared_len) *shared_len = locate_shared(*out, content, shared);
    free(content);
    return st;
}

enum vkg_status vkg_grm_meta_prompt(const struct vkg_chat_template *ct, const struct vkg_grm_record *rec,
                                    const uint32_t *perm, const char *judgment, char **out)
{
    char *content;
    *out = NULL;
    enum vkg_status st = vkg_grm_meta_render(rec, perm, &content);
    if (st != VKG_OK) return st;
    struct vkg_chat_message m[2] = { { "user", content, NULL }, { "assistant", judgment, NULL } };
    st = vkg_chat_template_render(ct, m, 2, false, true, out);
    free(content);
    return st;
}
