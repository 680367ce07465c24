/* chat_template.h — conversation → prompt text, without a Jinja engine.
 *
 * Each family below is a C rendering of one published Jinja chat template,
 * byte for byte (tests/unit/test_chat_template.c compares with transformers'
 * apply_chat_template on the real tokenizer_config.json files):
 *
 *   chatml      <|im_start|>{role}\n{content}<|im_end|>\n ... generation prompt
 *               <|im_start|>assistant\n. Optional default system turn when the
 *               conversation has none (Qwen2-Instruct "You are a helpful
 *               assistant.", SmolLM2 "You are a helpful AI assistant named
 *               SmolLM, ..."), read from the template text.
 *   qwen3       chatml plus Qwen3's thinking rules: assistant turns after the
 *               last user query carry <think>\n{reasoning}\n</think>\n\n,
 *               earlier ones lose their <think> part; enable_thinking=false
 *               appends an empty think block to the generation prompt; tool
 *               results become <tool_response> blocks in a user turn.
 *   deepseek2   DeepSeek-V2(-Lite)-Chat: {bos}, system text + "\n\n",
 *               "User: {content}\n\n", "Assistant: {content}{eos}", generation
 *               prompt "Assistant:" (no trailing space).
 *   deepseek3   DeepSeek-V2.5/V3/R1: {bos}{all system texts joined by \n\n},
 *               <｜User｜>{content}, <｜Assistant｜>{content}<｜end▁of▁sentence｜>,
 *               tool outputs, generation prompt <｜Assistant｜>.
 *   gemma       Gemma-2/3: {bos}<start_of_turn>user\n{content|trim}<end_of_turn>\n,
 *               assistant role written "model", strict user/model alternation,
 *               a leading system message is prepended to the first user turn
 *               (Gemma-3; the Gemma-2 template refuses system messages, which
 *               opts.no_system reproduces), generation prompt <start_of_turn>model\n.
 *   llama3      Llama-3.0-Instruct: {bos} before the first turn,
 *               <|start_header_id|>{role}<|end_header_id|>\n\n{content|trim}<|eot_id|>;
 *               the 3.0 template appends the assistant header unconditionally
 *               (opts.gen_prompt_always, set by the loader from the text).
 *   file        a user template file (--chat-template-file), see below.
 *
 * "trim" is Python's str.strip(): all Unicode whitespace, not only ASCII.
 *
 * Template file format (--chat-template-file PATH): plain UTF-8 text cut into
 * sections by header lines of the form "[name]" alone on a line. Text before
 * the first header is a comment. Sections:
 *   [prefix]      written once at the start (typically "{bos}")
 *   [<role>]      written for each message of that role: [system], [user],
 *                 [assistant], or any other role name; a message whose role
 *                 has no section is an error
 *   [generation]  written at the end when a generation prompt is asked for
 * A section body is the text between its header line and the next header;
 * its last newline is dropped, so "[user]\nUser: {content}\n\n[assistant]"
 * yields "User: {content}\n". Placeholders: {content}, {role}, {bos}, {eos};
 * "{{" is a literal "{". Any other "{name}" is an error (catches typos). */
#ifndef VKG_CHAT_TEMPLATE_H
#define VKG_CHAT_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

enum vkg_chat_family {
    VKG_CHAT_UNKNOWN = 0,
    VKG_CHAT_CHATML,
    VKG_CHAT_QWEN3,
    VKG_CHAT_DEEPSEEK2,
    VKG_CHAT_DEEPSEEK3,
    VKG_CHAT_GEMMA,
    VKG_CHAT_LLAMA3,
    VKG_CHAT_FILE,
    VKG_CHAT_FAMILY_COUNT
};

struct vkg_chat_message {
    const char *role;      /* "system", "user", "assistant", "tool" */
    const char *content;   /* UTF-8, not NULL */
    const char *reasoning; /* qwen3: reasoning_content of an assistant turn, NULL = absent */
};

struct vkg_chat_file_section;

struct vkg_chat_opts {
    bool add_generation_prompt; /* end with the opening of an assistant turn */
    bool enable_thinking;       /* qwen3: false appends "<think>\n\n</think>\n\n" */
    const char *bos;            /* bos_token string ("" or NULL when the tokenizer has none) */
    const char *eos;            /* eos_token string */
    const char *default_system; /* chatml: system turn when messages[0] is not system */
    bool no_system;             /* gemma: a system message is an error (Gemma-2 template) */
    bool gen_prompt_always;     /* llama3: generation prompt regardless of the flag (3.0) */
    /* VKG_CHAT_FILE only: the parsed file (from vkg_chat_template_load_file) */
    const struct vkg_chat_file_section *file_sections;
    size_t n_file_sections;
};

/* Render msgs[0..n) into a fresh NUL-terminated *out (free() it). n >= 1.
 * VKG_ERR_TEMPLATE when the conversation breaks a rule of the template
 * (alternation, unsupported role, system message where none is allowed). */
enum vkg_status vkg_chat_render(enum vkg_chat_family family, const struct vkg_chat_message *msgs, size_t n,
                                const struct vkg_chat_opts *opts, char **out);

/* Family of a config.json model_type when that alone decides it (qwen2 →
 * chatml, qwen3/qwen3_moe → qwen3, deepseek_v3 → deepseek3, gemma* → gemma);
 * VKG_CHAT_UNKNOWN for model types whose chat format depends on the
 * checkpoint (llama, deepseek_v2, mixtral, ...). */
enum vkg_chat_family vkg_chat_family_for_model_type(const char *model_type);
/* Family named by the user (--chat-template NAME): "chatml", "qwen3",
 * "deepseek2", "deepseek3", "gemma", "llama3"; VKG_CHAT_UNKNOWN otherwise. */
enum vkg_chat_family vkg_chat_family_from_name(const char *name);
const char *vkg_chat_family_name(enum vkg_chat_family family);
/* Recognise a Jinja chat template by its markers; VKG_CHAT_UNKNOWN if none. */
enum vkg_chat_family vkg_chat_family_detect(const char *jinja);

/* What a model directory says about chatting with it. */
struct vkg_chat_template {
    enum vkg_chat_family family;
    char *bos;            /* bos_token content, "" when null */
    char *eos;            /* eos_token content, "" when null */
    char *jinja;          /* the chat_template text (NULL if the model has none) */
    char *default_system; /* chatml default system text found in the template, or NULL */
    bool no_system;
    bool gen_prompt_always;
    struct vkg_chat_file_section *sections; /* VKG_CHAT_FILE */
    size_t n_sections;
};

/* Read <dir>/tokenizer_config.json (bos_token, eos_token, chat_template as a
 * string or a list of {name, template}; <dir>/chat_template.jinja overrides
 * it when present, as in transformers) and
 * choose the family: a recognised template text wins, because fine-tunes
 * ship their own template while model_type only names the trunk; then
 * model_type (may be NULL); else VKG_ERR_TEMPLATE naming the ways out
 * (--chat-template NAME, --chat-template-file PATH). */
enum vkg_status vkg_chat_template_load(const char *dir, const char *model_type, struct vkg_chat_template *out);
/* The same from memory: config = tokenizer_config.json's text (config_len
 * bytes; NULL: no such file), jinja = chat_template.jinja's text or NULL;
 * `name` is used in messages. */
enum vkg_status vkg_chat_template_parse(const char *config, size_t config_len, const char *jinja,
                                        const char *model_type, const char *name, struct vkg_chat_template *out);
/* Replace the family of a loaded template by a user template file; bos/eos
 * stay those of the tokenizer. */
enum vkg_status vkg_chat_template_load_file(const char *path, struct vkg_chat_template *t);
/* Parse a template file's text (see the format above); `name` for messages. */
enum vkg_status vkg_chat_template_parse_file(const char *text, const char *name, struct vkg_chat_template *t);
/* Render with the loaded template's family and options. */
enum vkg_status vkg_chat_template_render(const struct vkg_chat_template *t, const struct vkg_chat_message *msgs,
                                         size_t n, bool add_generation_prompt, bool enable_thinking, char **out);
void vkg_chat_template_free(struct vkg_chat_template *t);

#endif
