/* kv_cache.c — paged KV cache: page pools, refcounts, fork with copy of the
 * partial page only, page table upload. */
#include "kv_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_check.h"

static uint64_t elem_bytes(const struct vkg_kv_config *c) { return c->f16 ? 2 : 4; }

static uint64_t k_page_bytes(const struct vkg_kv_cache *kv)
{
    return (uint64_t)kv->cfg.n_kv_heads * kv->cfg.page_size * kv->cfg.dk * elem_bytes(&kv->cfg);
}

static uint64_t v_page_bytes(const struct vkg_kv_cache *kv)
{
    if (kv->cfg.v_in_k) return 0;
    return (uint64_t)kv->cfg.n_kv_heads * kv->cfg.page_size * kv->cfg.dv * elem_bytes(&kv->cfg);
}

static enum vkg_status check_config(const struct vkg_device *dev, const struct vkg_kv_config *c)
{
    if (!c->n_layers || !c->n_kv_heads || !c->dk || !c->dv || !c->page_size || !c->max_pages || !c->max_seqs ||
        !c->max_seq_len)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "kv cache: every size must be > 0 (layers %u, kv heads %u, dk %u, "
                         "dv %u, page %u, pages %u, seqs %u, seq len %u)",
                         c->n_layers, c->n_kv_heads, c->dk, c->dv, c->page_size, c->max_pages, c->max_seqs,
                         c->max_seq_len);
    if (c->v_in_k && c->dv > c->dk)
        return vkg_error(VKG_ERR_INVALID_ARG, "kv cache: V inside the K rows needs dv <= dk (dk %u, dv %u)", c->dk,
                         c->dv);
    if (c->f16 && (c->dk % 4 || c->dv % 4))
        return vkg_error(VKG_ERR_UNSUPPORTED, "kv cache: F16 pages need dk, dv multiples of 4 (dk %u, dv %u)", c->dk,
                         c->dv);
    uint64_t dmax = c->dk > c->dv ? c->dk : c->dv;
    uint64_t pool = (uint64_t)c->max_pages * c->n_kv_heads * c->page_size * dmax * elem_bytes(c);
    uint64_t pps = (c->max_seq_len + c->page_size - 1) / c->page_size;
    if ((uint64_t)c->max_seqs * pps * 4 > dev->info.max_storage_buffer_range)
        return vkg_error(VKG_ERR_LIMIT, "kv cache: page table of %u sequences x %llu pages > maxStorageBufferRange",
                         c->max_seqs, (unsigned long long)pps);
    /* attention reads any page of a layer: the whole pool is one binding */
    if (pool > dev->info.max_storage_buffer_range)
        return vkg_error(VKG_ERR_LIMIT,
                         "kv cache: a layer pool of %u pages is %llu bytes > maxStorageBufferRange "
                         "%llu; use fewer pages per layer",
                         c->max_pages, (unsigned long long)pool,
                         (unsigned long long)dev->info.max_storage_buffer_range);
    return VKG_OK;
}

static enum vkg_status create_buffers(struct vkg_kv_cache *kv)
{
    const struct vkg_kv_config *c = &kv->cfg;
    char name[96];
    for (uint32_t l = 0; l < c->n_layers; l++) {
        snprintf(name, sizeof name, "kv cache layer %u K", l);
        VKG_TRY(vkg_buffer_create(kv->dev, k_page_bytes(kv) * c->max_pages, VKG_MEM_DEVICE, name, &kv->k[l]));
        if (c->v_in_k) continue; /* V is read from the K rows */
        snprintf(name, sizeof name, "kv cache layer %u V", l);
        VKG_TRY(vkg_buffer_create(kv->dev, v_page_bytes(kv) * c->max_pages, VKG_MEM_DEVICE, name, &kv->v[l]));
    }
    /* the tables are small and change every step: host-visible, written in place (no staging round trip) */
    VKG_TRY(vkg_buffer_create(kv->dev, (uint64_t)c->max_seqs * 8, VKG_MEM_HOST, "kv seq table", &kv->seq_table));
    return vkg_buffer_create(kv->dev, (uint64_t)c->max_seqs * kv->pages_per_seq * 4, VKG_MEM_HOST, "kv page table",
                             &kv->page_table);
}

enum vkg_status vkg_kv_create(struct vkg_device *dev, const struct vkg_kv_config *cfg, struct vkg_kv_cache **out)
{
    *out = NULL;
    VKG_TRY(check_config(dev, cfg));
    struct vkg_kv_cache *kv = calloc(1, sizeof *kv);
    if (!kv) return vkg_error(VKG_ERR_NOMEM, "kv cache");
    kv->dev = dev;
    kv->cfg = *cfg;
    kv->pages_per_seq = (cfg->max_seq_len + cfg->page_size - 1) / cfg->page_size;
    kv->k = calloc(cfg->n_layers, sizeof *kv->k);
    kv->v = calloc(cfg->n_layers, sizeof *kv->v);
    kv->refcount = calloc(cfg->max_pages, sizeof *kv->refcount);
    kv->free_pages = malloc((size_t)cfg->max_pages * sizeof *kv->free_pages);
    kv->seqs = calloc(cfg->max_seqs, sizeof *kv->seqs);
    int32_t *pages = calloc((size_t)cfg->max_seqs * kv->pages_per_seq, sizeof *pages);
    if (!kv->k || !kv->v || !kv->refcount || !kv->free_pages || !kv->seqs || !pages) {
        free(pages);
        vkg_kv_free(kv);
        return vkg_error(VKG_ERR_NOMEM, "kv cache bookkeeping (%u pages, %u seqs)", cfg->max_pages, cfg->max_seqs);
    }
    for (uint32_t s = 0; s < cfg->max_seqs; s++) kv->seqs[s].pages = pages + (size_t)s * kv->pages_per_seq;
    for (uint32_t i = 0; i < cfg->max_pages; i++) kv->free_pages[i] = cfg->max_pages - 1 - i; /* pop 0 first */
    kv->n_free = cfg->max_pages;
    enum vkg_status s = create_buffers(kv);
    if (s == VKG_OK) s = vkg_kv_upload(kv); /* defined (zero) tables from the start */
    if (s != VKG_OK) {
        vkg_kv_free(kv);
        return s;
    }
    *out = kv;
    return VKG_OK;
}

void vkg_kv_free(struct vkg_kv_cache *kv)
{
    if (!kv) return;
    for (uint32_t l = 0; l < kv->cfg.n_layers; l++) {
        if (kv->k) vkg_buffer_free(kv->k[l]);
        if (kv->v) vkg_buffer_free(kv->v[l]);
    }
    vkg_buffer_free(kv->seq_table);
    vkg_buffer_free(kv->page_table);
    if (kv->seqs) free(kv->seqs[0].pages);
    free(kv->seqs);
    free(kv->k);
    free(kv->v);
    free(kv->refcount);
    free(kv->free_pages);
    free(kv);
}

static enum vkg_status check_seq(const struct vkg_kv_cache *kv, uint32_t seq, const char *what)
{
    if (seq >= kv->cfg.max_seqs || !kv->seqs[seq].live)
        return vkg_error(VKG_ERR_INVALID_ARG, "kv cache %s: sequence %u is not live", what, seq);
    return VKG_OK;
}

enum vkg_status vkg_kv_seq_add(struct vkg_kv_cache *kv, uint32_t *seq)
{
    for (uint32_t s = 0; s < kv->cfg.max_seqs; s++) {
        if (kv->seqs[s].live) continue;
        kv->seqs[s].live = 1;
        kv->seqs[s].len = 0;
        *seq = s;
        return VKG_OK;
    }
    return vkg_error(VKG_ERR_LIMIT, "kv cache: all %u sequence slots are live", kv->cfg.max_seqs);
}

static enum vkg_status alloc_page(struct vkg_kv_cache *kv, int32_t *page)
{
    if (!kv->n_free)
        return vkg_error(VKG_ERR_LIMIT, "kv cache: out of pages (%u pages of %u tokens in use)", kv->cfg.max_pages,
                         kv->cfg.page_size);
    *page = (int32_t)kv->free_pages[--kv->n_free];
    kv->refcount[*page] = 1;
    return VKG_OK;
}

static void release_page(struct vkg_kv_cache *kv, int32_t page)
{
    if (--kv->refcount[page] == 0) kv->free_pages[kv->n_free++] = (uint32_t)page;
}

/* Device copy of one page (every layer, K and V). */
static void copy_page(struct vkg_kv_cache *kv, struct vkg_cmd *c, int32_t from, int32_t to)
{
    uint64_t kb = k_page_bytes(kv), vb = v_page_bytes(kv);
    for (uint32_t l = 0; l < kv->cfg.n_layers; l++) {
        vkg_cmd_copy(c, vkg_view_sub(vkg_buffer_view(kv->k[l]), (uint64_t)from * kb, kb),
                     vkg_view_sub(vkg_buffer_view(kv->k[l]), (uint64_t)to * kb, kb), kb);
        if (!vb) continue; /* v_in_k: the K copy carried V */
        vkg_cmd_copy(c, vkg_view_sub(vkg_buffer_view(kv->v[l]), (uint64_t)from * vb, vb),
                     vkg_view_sub(vkg_buffer_view(kv->v[l]), (uint64_t)to * vb, vb), vb);
    }
}

enum vkg_status vkg_kv_seq_fork_len(struct vkg_kv_cache *kv, struct vkg_cmd *c, uint32_t parent, uint64_t len,
                                    uint32_t *child)
{
    VKG_TRY(check_seq(kv, parent, "fork"));
    const struct vkg_kv_seq *ps = &kv->seqs[parent];
    if (len > ps->len)
        return vkg_error(VKG_ERR_INVALID_ARG, "kv cache fork of sequence %u: %llu tokens asked, it holds %llu", parent,
                         (unsigned long long)len, (unsigned long long)ps->len);
    uint32_t n_pages = (uint32_t)((len + kv->cfg.page_size - 1) / kv->cfg.page_size);
    int partial = len % kv->cfg.page_size != 0;
    if (partial && !c)
        return vkg_error(VKG_ERR_INVALID_ARG,
                         "kv cache fork of sequence %u: its last page is partial (%llu tokens), "
                         "the copy needs a command buffer",
                         parent, (unsigned long long)len);
    if (partial && !kv->n_free)
        return vkg_error(VKG_ERR_LIMIT, "kv cache fork of sequence %u: no free page for its partial last page", parent);
    VKG_TRY(vkg_kv_seq_add(kv, child));
    struct vkg_kv_seq *cs = &kv->seqs[*child];
    cs->len = len;
    for (uint32_t i = 0; i < n_pages; i++) {
        cs->pages[i] = ps->pages[i];
        kv->refcount[ps->pages[i]]++;
    }
    if (!partial) return VKG_OK;
    /* copy-on-write, done now: the child's own copy of the partial page (positions of the
     * parent beyond len come along but lie beyond the child's length: never read) */
    int32_t shared = cs->pages[n_pages - 1];
    release_page(kv, shared);
    VKG_TRY(alloc_page(kv, &cs->pages[n_pages - 1]));
    copy_page(kv, c, shared, cs->pages[n_pages - 1]); /* the caller orders it (ops.h) */
    return VKG_OK;
}

enum vkg_status vkg_kv_seq_fork(struct vkg_kv_cache *kv, struct vkg_cmd *c, uint32_t parent, uint32_t *child)
{
    VKG_TRY(check_seq(kv, parent, "fork"));
    return vkg_kv_seq_fork_len(kv, c, parent, kv->seqs[parent].len, child);
}

enum vkg_status vkg_kv_seq_free(struct vkg_kv_cache *kv, uint32_t seq)
{
    VKG_TRY(check_seq(kv, seq, "free"));
    struct vkg_kv_seq *s = &kv->seqs[seq];
    uint32_t n_pages = (uint32_t)((s->len + kv->cfg.page_size - 1) / kv->cfg.page_size);
    for (uint32_t i = 0; i < n_pages; i++) release_page(kv, s->pages[i]);
    s->live = 0;
    s->len = 0;
    return VKG_OK;
}

enum vkg_status vkg_kv_reserve(struct vkg_kv_cache *kv, uint32_t seq, uint32_t n_new, uint64_t *pos0)
{
    VKG_TRY(check_seq(kv, seq, "reserve"));
    struct vkg_kv_seq *s = &kv->seqs[seq];
    uint64_t len = s->len + n_new, ps = kv->cfg.page_size;
    if (len > kv->cfg.max_seq_len)
        return vkg_error(VKG_ERR_LIMIT, "kv cache: sequence %u would hold %llu tokens > max_seq_len %u", seq,
                         (unsigned long long)len, kv->cfg.max_seq_len);
    uint32_t have = (uint32_t)((s->len + ps - 1) / ps), need = (uint32_t)((len + ps - 1) / ps);
    if (need - have > kv->n_free)
        return vkg_error(VKG_ERR_LIMIT, "kv cache: sequence %u needs %u more pages, %u free", seq, need - have,
                         kv->n_free);
    for (uint32_t i = have; i < need; i++) VKG_TRY(alloc_page(kv, &s->pages[i]));
    *pos0 = s->len;
    s->len = len;
    return VKG_OK;
}

enum vkg_status vkg_kv_upload(struct vkg_kv_cache *kv)
{
    /* Written in place: no submission that reads the tables may be in flight (every
     * step waits for its fence); the next submission sees host writes made before it. */
    uint32_t n = kv->cfg.max_seqs;
    uint32_t *tab = kv->seq_table->mapped;
    for (uint32_t s = 0; s < n; s++) {
        tab[2 * s] = s * kv->pages_per_seq;
        tab[2 * s + 1] = kv->seqs[s].live ? (uint32_t)kv->seqs[s].len : 0;
    }
    /* the page lists are one contiguous host array in the device layout */
    memcpy(kv->page_table->mapped, kv->seqs[0].pages, (size_t)n * kv->pages_per_seq * 4);
    return VKG_OK;
}

struct vkg_view vkg_kv_k(const struct vkg_kv_cache *kv, uint32_t layer) { return vkg_buffer_view(kv->k[layer]); }
struct vkg_view vkg_kv_v(const struct vkg_kv_cache *kv, uint32_t layer)
{
    return vkg_buffer_view(kv->cfg.v_in_k ? kv->k[layer] : kv->v[layer]);
}

uint64_t vkg_kv_common_prefix(const struct vkg_kv_cache *kv, const int32_t *seqs, uint32_t n)
{
    if (!n) return 0;
    uint64_t ps = kv->cfg.page_size, full = UINT64_MAX;
    const struct vkg_kv_seq *s0 = NULL;
    for (uint32_t i = 0; i < n; i++) {
        if ((uint32_t)seqs[i] >= kv->cfg.max_seqs || !kv->seqs[seqs[i]].live) return 0;
        const struct vkg_kv_seq *s = &kv->seqs[seqs[i]];
        uint64_t f = s->len / ps;
        if (f < full) full = f;
        if (!s0) {
            s0 = s;
            continue;
        }
        if (s == s0) continue;
        uint64_t j = 0;
        while (j < full && s->pages[j] == s0->pages[j]) j++;
        full = j;
    }
    return full * ps;
}

uint32_t vkg_kv_pages_used(const struct vkg_kv_cache *kv) { return kv->cfg.max_pages - kv->n_free; }
