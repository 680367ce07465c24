/* test_weights — streaming safetensors into device buffers: every tensor of a
 * small F32/F16/BF16 model read back equal to the file converted by the C
 * reference, for each --weights choice; a sharded 1 GiB model (one 300 MiB
 * tensor) loads with peak host memory < 300 MiB and reads back byte-exact.
 * Models come from tests/fixtures/make_weights_model.py (ctest fixture).
 *
 * A model load (runtime/models/model.c): the routed experts land straight in
 * their stacked buffers, byte-exact with the file and without a per-expert
 * buffer; a model whose config disagrees with its tensors, or whose KV cache
 * for -c would not fit one binding, is refused before any device memory is
 * allocated; --weights q8_0 on a MoE model whose expert width is not a
 * multiple of 32 keeps the layer's whole expert set (and such dense
 * matrices) as stored, with one note. Tiny models: make_tiny_models.py. */
#include "common_gpu.h"
#include "ref_matmul.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "ref_dtype.h"
#include "safetensors.h"
#include "weights.h"

static const char *models_dir(void)
{
    const char *d = getenv("VKGRM_TEST_MODELS");
    if (!d) fail_msg("VKGRM_TEST_MODELS is not set (ctest sets it; the fixture writes the models)");
    return d;
}

static float file_value(const struct vkg_tensor_view *t, uint64_t i)
{
    uint16_t h;
    float f;
    if (t->dtype == VKG_DTYPE_F32) {
        memcpy(&f, (const char *)t->data + 4 * i, 4);
        return f;
    }
    memcpy(&h, (const char *)t->data + 2 * i, 2);
    return t->dtype == VKG_DTYPE_F16 ? ref_f16_to_f32(h) : ref_bf16_to_f32(h);
}

/* Reads a device tensor back and compares it with the file, through the reference conversion. */
static void check_tensor(const struct vkg_tensor_view *t, const struct vkg_weight *w)
{
    uint64_t n = vkg_tensor_view_numel(t);
    uint8_t *dev = malloc(w->n_bytes + 1);
    gpu_read(w->buf, dev, w->n_bytes);
    for (uint64_t i = 0; i < n; i++) {
        float want = file_value(t, i);
        uint16_t h;
        if (w->dtype == VKG_DTYPE_F32) {
            float got;
            memcpy(&got, dev + 4 * i, 4);
            if (got != want)
                fail_msg("%s as F32: element %llu got %.9g want %.9g", t->name, (unsigned long long)i, got, want);
            continue;
        }
        memcpy(&h, dev + 2 * i, 2);
        uint16_t ref = w->dtype == VKG_DTYPE_F16 ? ref_f32_to_f16(want) : ref_f32_to_bf16(want);
        if (h != ref)
            fail_msg("%s as %s: element %llu got 0x%04x want 0x%04x", t->name, vkg_dtype_name(w->dtype),
                     (unsigned long long)i, h, ref);
    }
    free(dev);
}

static void load_small_as(enum vkg_dtype target)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/weights_small", models_dir());
    struct vkg_safetensors *st;
    GPU_OK(vkg_safetensors_open(path, &st));
    struct vkg_weights_opts o = { .matrix_dtype = target };
    struct vkg_weights *w;
    GPU_OK(vkg_weights_load(g_dev, st, &o, &w));
    assert_int_equal(w->n, vkg_safetensors_count(st));
    for (size_t i = 0; i < w->n; i++) {
        const struct vkg_tensor_view *t = vkg_safetensors_get(st, i);
        const struct vkg_weight *wt = vkg_weights_find(w, t->name);
        assert_non_null(wt);
        enum vkg_dtype want = t->n_dims < 2 ? VKG_DTYPE_F32 : target == VKG_DTYPE_UNKNOWN ? t->dtype : target;
        assert_int_equal(wt->dtype, want);
        check_tensor(t, wt);
    }
    vkg_weights_free(w);
    vkg_safetensors_close(st);
    gpu_assert_no_validation();
}

static void test_small_as_stored(void **s) { load_small_as(VKG_DTYPE_UNKNOWN); }
static void test_small_to_f32(void **s) { load_small_as(VKG_DTYPE_F32); }
static void test_small_to_f16(void **s) { load_small_as(VKG_DTYPE_F16); }
static void test_small_to_bf16(void **s) { load_small_as(VKG_DTYPE_BF16); }

static void test_1gib_bounded_host_memory(void **s)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/weights_1gib", models_dir());
    struct vkg_safetensors *st;
    GPU_OK(vkg_safetensors_open(path, &st));
    assert_true(vkg_safetensors_total_bytes(st) == (1ull << 30));
    struct vkg_weights_opts o = { .matrix_dtype = VKG_DTYPE_UNKNOWN, .track_rss = 1 };
    struct vkg_weights *w;
    GPU_OK(vkg_weights_load(g_dev, st, &o, &w));
    printf("1 GiB model: %.2f GB/s, peak host memory over the load %.1f MiB (device memory excluded)\n",
           w->file_bytes / w->seconds / 1e9, w->peak_host_bytes / 1048576.0);
    assert_true(w->peak_host_bytes < (300ull << 20));
    /* every byte back, 16 MiB at a time, against the file */
    const uint64_t piece = 16 << 20;
    uint8_t *buf = malloc(piece);
    for (size_t i = 0; i < w->n; i++) {
        const struct vkg_tensor_view *t = vkg_safetensors_get(st, i);
        const struct vkg_weight *wt = vkg_weights_find(w, t->name);
        for (uint64_t off = 0; off < t->n_bytes; off += piece) {
            uint64_t n = t->n_bytes - off < piece ? t->n_bytes - off : piece;
            GPU_OK(vkg_buffer_download(g_dev, vkg_view_sub(vkg_buffer_view(wt->buf), off, n), buf, n));
            if (memcmp(buf, (const uint8_t *)t->data + off, n) != 0)
                fail_msg("%s: bytes differ in [%llu, +%llu)", t->name, (unsigned long long)off, (unsigned long long)n);
        }
    }
    free(buf);
    vkg_weights_free(w);
    vkg_safetensors_close(st);
    gpu_assert_no_validation();
}

static void test_bad_weights_flag(void **s)
{
    enum vkg_dtype d;
    assert_int_equal(vkg_weights_parse_dtype("q8_0", &d), VKG_OK);
    assert_int_equal(d, VKG_DTYPE_Q8_0);
    assert_int_equal(vkg_weights_parse_dtype("int3", &d), VKG_ERR_INVALID_ARG);
    assert_non_null(strstr(vkg_error_detail(), "int3"));
}

/* ---- model loads ------------------------------------------------------------ */

static void tiny_path(char *path, size_t cap, const char *name)
{
    const char *d = getenv("VKGRM_TINY_MODELS");
    if (!d) fail_msg("VKGRM_TINY_MODELS is not set (ctest sets it; make_tiny_models writes the models)");
    snprintf(path, cap, "%s/%s", d, name);
}

/* Every routed expert is in its layer's stack, byte-exact (in 8-row tiles on CPU drivers), with no
 * buffer of its own. */
static void test_model_experts_stacked_at_load(void **s)
{
    char path[1024];
    tiny_path(path, sizeof path, "qwen3_moe");
    struct vkg_safetensors *st;
    GPU_OK(vkg_safetensors_open(path, &st));
    struct vkg_model *m;
    GPU_OK(vkg_model_load(g_dev, path, NULL, &m));
    const char *mats[3] = { "gate_proj", "up_proj", "down_proj" };
    uint32_t stacked_layers = 0;
    for (uint32_t l = 0; l < m->cfg.n_layers; l++) {
        const struct vkg_layer *L = &m->layers[l];
        assert_int_equal(L->moe, m->cfg.layer_moe[l]);
        if (!L->moe) continue;
        stacked_layers++;
        const struct vkg_buffer *stack[3] = { L->experts.gate, L->experts.up, L->experts.down };
        for (uint32_t e = 0; e < m->cfg.n_experts; e++)
            for (int i = 0; i < 3; i++) {
                char name[128];
                snprintf(name, sizeof name, "model.layers.%u.mlp.experts.%u.%s.weight", l, e, mats[i]);
                const struct vkg_tensor_view *t = vkg_safetensors_find(st, name);
                const struct vkg_weight *w = vkg_weights_find(m->w, name);
                assert_non_null(t);
                assert_non_null(w);
                assert_null(w->buf);
                assert_ptr_equal(w->view.buf, stack[i]);
                assert_true(w->view.offset == e * t->n_bytes);
                /* on CPU drivers (use.tiled) each expert's float matrix is stored in 8-row tiles (moe_lane
                 * reads them): the file's bytes laid out by the reference tiler */
                uint32_t es = t->dtype == VKG_DTYPE_F32 ? 4 : 2;
                int tileable = g_dev->use.tiled && w->dtype == t->dtype && t->n_dims == 2 && t->shape[1] % 8 == 0;
                assert_int_equal(w->tiled, tileable);
                assert_int_equal(i == 2 ? L->experts.w.tiled_down : L->experts.w.tiled, tileable);
                uint8_t *got = malloc(t->n_bytes), *want = malloc(t->n_bytes);
                if (w->tiled) ref_tile_rows(want, t->data, (uint32_t)t->shape[0], (uint32_t)t->shape[1], es, 16 / es);
                else memcpy(want, t->data, t->n_bytes);
                GPU_OK(vkg_buffer_download(g_dev, w->view, got, t->n_bytes));
                if (memcmp(got, want, t->n_bytes) != 0)
                    fail_msg("%s: stacked bytes differ from the file%s", name, w->tiled ? " (tiled)" : "");
                free(got);
                free(want);
            }
    }
    assert_int_equal(stacked_layers, 2); /* mlp_only_layers [1] of 3 */
    vkg_model_free(m);
    vkg_safetensors_close(st);
    gpu_assert_no_validation();
}

/* A copy of tiny model `name` in a temp dir (symlinks) whose config.json has `from` replaced by `to`. */
static void broken_copy(const char *name, const char *from, const char *to, char *out, size_t cap)
{
    char rel[1024], src[PATH_MAX], cmd[4 * PATH_MAX];
    tiny_path(rel, sizeof rel, name);
    assert_non_null(realpath(rel, src)); /* the symlinks must not depend on the working directory */
    snprintf(out, cap, "/tmp/vkgrm-test-weights-%d-%s", (int)getpid(), name);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && ln -s '%s'/* '%s'/ && rm '%s/config.json'", out, out,
             src, out, out);
    assert_int_equal(system(cmd), 0);
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/config.json", src);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    char text[16384];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    char *at = strstr(text, from);
    assert_non_null(at);
    snprintf(p, sizeof p, "%s/config.json", out);
    f = fopen(p, "wb");
    assert_non_null(f);
    fprintf(f, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    fclose(f);
}

static void remove_copy(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void want_detail(const char *want)
{
    if (!strstr(vkg_error_detail(), want)) fail_msg("no '%s' in: %s", want, vkg_error_detail());
}

/* Refusals come before the first device allocation. */
static void test_model_refused_before_alloc(void **s)
{
    char path[1024], dir[1024];
    uint64_t before = vkg_blocks_allocated(g_dev, VKG_MEM_DEVICE);
    struct vkg_model *m = NULL;
    /* head_dim 16 -> 8: q_proj is [64, 64] in the file, the config implies [32, 64] */
    broken_copy("llama", "\"head_dim\": 16", "\"head_dim\": 8", dir, sizeof dir);
    assert_int_equal(vkg_model_load(g_dev, dir, NULL, &m), VKG_ERR_FORMAT);
    assert_null(m);
    want_detail("tensor 'model.layers.0.self_attn.q_proj.weight': shape [64, 64], the config implies [32, 64]");
    remove_copy(dir);
    /* -c 1e9: one layer's KV pool (2 KV heads x 16 dims x 4 bytes x 1e9 tokens) beyond maxStorageBufferRange */
    tiny_path(path, sizeof path, "llama");
    struct vkg_model_opts o = { .ctx = 1000000000, .n_seqs = 1 };
    assert_int_equal(vkg_model_load(g_dev, path, &o, &m), VKG_ERR_LIMIT);
    assert_null(m);
    want_detail("-c 1000000000 x --n-samples 1: one layer's KV cache pool is 122070.3 MiB");
    want_detail("lower -c or --n-samples");
    assert_true(vkg_blocks_allocated(g_dev, VKG_MEM_DEVICE) == before);
    gpu_assert_no_validation();
}

struct notes {
    int n;
    char text[4][512];
};

static void on_note(void *user, const char *msg)
{
    struct notes *n = user;
    if (n->n < 4) snprintf(n->text[n->n], sizeof n->text[0], "%s", msg);
    n->n++;
}

/* qwen3_moe_w40: expert width 40, dense width 80 (layer 1): under q8_0 the
 * experts of layers 0 and 2 and the dense down_proj stay F32, the rest is Q8_0. */
static void test_model_q8_odd_expert_width(void **s)
{
    char path[1024];
    tiny_path(path, sizeof path, "qwen3_moe_w40");
    struct notes notes = { 0 };
    struct vkg_model_opts o = { .weights = VKG_DTYPE_Q8_0, .note = on_note, .user = &notes };
    struct vkg_model *m;
    GPU_OK(vkg_model_load(g_dev, path, &o, &m));
    for (uint32_t l = 0; l < 3; l++) {
        const struct vkg_layer *L = &m->layers[l];
        assert_int_equal(L->wq->dtype, VKG_DTYPE_Q8_0);
        assert_int_equal(L->attn_norm->dtype, VKG_DTYPE_F32);
        if (l == 1) {
            assert_int_equal(L->moe, 0);
            assert_int_equal(L->mlp.gate->dtype, VKG_DTYPE_Q8_0);
            assert_int_equal(L->mlp.down->dtype, VKG_DTYPE_F32);
        } else {
            assert_int_equal(L->moe, 1);
            assert_int_equal(L->experts.w.dtype, VKG_DTYPE_F32);
            assert_int_equal(L->router->dtype, VKG_DTYPE_Q8_0);
        }
    }
    assert_int_equal(notes.n, 2);
    if (!strstr(notes.text[0], "the experts of layers 0, 2 stay F32") ||
        !strstr(notes.text[1], "1 matrix whose row length is not a multiple of 32 stays as stored "
                               "(model.layers.1.mlp.down_proj.weight)"))
        fail_msg("notes: '%s' / '%s'", notes.text[0], notes.text[1]);
    vkg_model_free(m);
    gpu_assert_no_validation();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_weights_flag),
        cmocka_unit_test(test_small_as_stored),
        cmocka_unit_test(test_small_to_f32),
        cmocka_unit_test(test_small_to_f16),
        cmocka_unit_test(test_small_to_bf16),
        cmocka_unit_test(test_1gib_bounded_host_memory),
        cmocka_unit_test(test_model_experts_stacked_at_load),
        cmocka_unit_test(test_model_refused_before_alloc),
        cmocka_unit_test(test_model_q8_odd_expert_width),
    };
    return cmocka_run_group_tests(tests, gpu_setup, gpu_teardown);
}
