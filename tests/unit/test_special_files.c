/* test_special_files — a FIFO, a device or a directory where a model file is
 * expected is refused at once with a message naming it (never a hang: an
 * alarm fails the test if an open blocks), and a model directory's index is
 * read as Python's json reads it (a repeated key: the last one wins). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chat_template.h"
#include "file.h"
#include "hf_config.h"
#include "json.h"
#include "safetensors.h"
#include "tokenizer.h"

#define SHARDED VKG_SOURCE_DIR "/tests/data/malformed/valid/sharded"

static char g_dir[64];

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "test_special_files: an open blocked for 20 s (FIFO opened without O_NONBLOCK?)\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(1);
}

static void path_in(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", g_dir, name); }

static void make_fifo(const char *name)
{
    char p[256];
    path_in(p, sizeof p, name);
    assert_int_equal(mkfifo(p, 0600), 0);
}

static void expect(enum vkg_status got, enum vkg_status want, const char *needle)
{
    if (got != want || !strstr(vkg_error_detail(), needle))
        fail_msg("got %s '%s', want %s with '%s'", vkg_status_name(got), vkg_error_detail(), vkg_status_name(want),
                 needle);
}

static int setup(void **state)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/vkgrm-special-XXXXXX");
    if (!mkdtemp(g_dir)) return -1;
    signal(SIGALRM, on_alarm);
    alarm(20);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    alarm(0);
    return system(cmd);
}

static void test_file_helpers(void **state)
{
    char *text;
    size_t len;
    int fd;
    uint64_t size;
    make_fifo("pipe");
    char p[256];
    path_in(p, sizeof p, "pipe");
    expect(vkg_file_read(p, 1024, &text, &len), VKG_ERR_IO, "pipe: is a FIFO (named pipe), not a regular file");
    expect(vkg_file_open("/dev/null", &fd, &size), VKG_ERR_IO, "/dev/null: is a character device, not a regular file");
    expect(vkg_file_open("/dev/zero", &fd, &size), VKG_ERR_IO, "/dev/zero: is a character device");
    expect(vkg_file_read(g_dir, 1024, &text, &len), VKG_ERR_IO, "is a directory, not a regular file");
    expect(vkg_file_read("/no/such/file", 1024, &text, &len), VKG_ERR_NOT_FOUND, "/no/such/file: cannot open");
    expect(vkg_file_check_dir(p), VKG_ERR_IO, "pipe: is a FIFO (named pipe), not a model directory");
    cJSON *j;
    expect(vkg_json_load(p, 1024, 0, &j), VKG_ERR_IO, "pipe: is a FIFO");
    /* a symlink to a regular file is fine */
    char link[256];
    path_in(link, sizeof link, "link.json");
    assert_int_equal(symlink(SHARDED "/model.safetensors.index.json", link), 0);
    assert_int_equal(vkg_json_load(link, 1 << 20, 0, &j), VKG_OK);
    cJSON_Delete(j);
}

/* Each loader, with its file replaced by a FIFO. */
static void test_loaders_refuse_fifos(void **state)
{
    char p[256];
    struct vkg_safetensors *st = NULL;
    make_fifo("weights.safetensors");
    path_in(p, sizeof p, "weights.safetensors");
    expect(vkg_safetensors_open(p, &st), VKG_ERR_IO, "weights.safetensors: is a FIFO");
    expect(vkg_safetensors_open("/dev/zero", &st), VKG_ERR_IO, "/dev/zero: is a character device");
    make_fifo("model.safetensors"); /* a directory whose weights file is a FIFO */
    expect(vkg_safetensors_open(g_dir, &st), VKG_ERR_IO, "model.safetensors: is a FIFO");
    make_fifo("config.json");
    struct vkg_hf_config cfg;
    expect(vkg_hf_config_load(g_dir, &cfg), VKG_ERR_CONFIG, "config.json: is a FIFO");
    make_fifo("generation_config.json");
    struct vkg_generation_config gc;
    expect(vkg_generation_config_load(g_dir, &gc), VKG_ERR_CONFIG, "generation_config.json: is a FIFO");
    make_fifo("tokenizer.json");
    struct vkg_tokenizer *tok = NULL;
    expect(vkg_tokenizer_load(g_dir, &tok), VKG_ERR_IO, "tokenizer.json: is a FIFO");
    make_fifo("tokenizer_config.json");
    struct vkg_chat_template t;
    expect(vkg_chat_template_load(g_dir, "llama", &t), VKG_ERR_IO, "tokenizer_config.json: is a FIFO");
    make_fifo("template.txt");
    path_in(p, sizeof p, "template.txt");
    memset(&t, 0, sizeof t);
    expect(vkg_chat_template_load_file(p, &t), VKG_ERR_IO, "template.txt: is a FIFO");
    /* the model directory itself a FIFO */
    path_in(p, sizeof p, "pipe-dir");
    assert_int_equal(mkfifo(p, 0600), 0);
    expect(vkg_hf_config_load(p, &cfg), VKG_ERR_CONFIG, "pipe-dir: is a FIFO (named pipe), not a model directory");
    expect(vkg_tokenizer_load(p, &tok), VKG_ERR_IO, "pipe-dir: is a FIFO (named pipe), not a model directory");
    expect(vkg_safetensors_open(p, &st), VKG_ERR_IO, "pipe-dir: is a FIFO");
}

/* model.safetensors.index.json with a repeated tensor: the last entry wins
 * (transformers reads the index with json.load). */
static void test_index_last_wins(void **state)
{
    char p[256];
    const char *shards[2] = { "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors" };
    for (int i = 0; i < 2; i++) {
        char src[512];
        snprintf(src, sizeof src, SHARDED "/%s", shards[i]);
        path_in(p, sizeof p, shards[i]);
        assert_int_equal(symlink(src, p), 0);
    }
    path_in(p, sizeof p, "model.safetensors.index.json");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"weight_map\": {\"lm_head.weight\": \"%s\", \"model.embed_tokens.weight\": \"%s\", "
            "\"model.layers.0.mlp.down_proj.weight\": \"%s\", \"model.layers.0.mlp.up_proj.weight\": \"%s\", "
            "\"lm_head.weight\": \"%s\"}}",
            shards[0], shards[0], shards[1], shards[0], shards[1]);
    fclose(f);
    struct vkg_safetensors *st = NULL;
    assert_int_equal(vkg_safetensors_open(g_dir, &st), VKG_OK);
    assert_int_equal(vkg_safetensors_count(st), 4);
    const struct vkg_tensor_view *t = vkg_safetensors_find(st, "lm_head.weight");
    assert_non_null(t);
    assert_non_null(strstr(t->file, shards[1]));
    vkg_safetensors_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_helpers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loaders_refuse_fifos, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_last_wins, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
