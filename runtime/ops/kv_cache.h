/* kv_cache.h — the paged KV cache: per layer a K and a V pool of pages on the
 * device, host bookkeeping of which pages each sequence uses, and the device
 * page table the attention kernels read.
 *
 *   K pool of a layer [max_pages][n_kv_heads][page_size][dk] f32 (or f16)
 *   V pool of a layer [max_pages][n_kv_heads][page_size][dv] f32 (or f16),
 *                     or none (v_in_k: V is the first dv elements of each K row)
 *   page table        [max_seqs][pages_per_seq] int32 page ids
 *   seq table         [max_seqs] { page_off, len } uint32
 *
 * Sequences that fork share pages (refcount per page): a fork shares every
 * full page of the parent and copies only its partially filled last page, so
 * no page is ever written while shared (appends only touch the last page or
 * fresh ones). One step of batched generation:
 *
 *   vkg_kv_reserve(kv, seq, n_new, &pos0)   for each sequence (host only)
 *   vkg_kv_upload(kv)                       page table + lengths to the device
 *   vkg_op_kv_append(...), vkg_op_attention(...)   per layer (ops_attention.h)
 */
#ifndef VKG_KV_CACHE_H
#define VKG_KV_CACHE_H

#include <stdint.h>

#include "command.h"
#include "op_table.h" /* op ids, push structs, family limits (VKG_ATTN_*, VKG_MATVEC_*, ...) */

struct vkg_kv_config {
    uint32_t n_layers;
    uint32_t n_kv_heads;
    uint32_t dk, dv;      /* K and V head sizes (MLA: 192 / 128) */
    uint32_t page_size;   /* tokens per page, e.g. 16 or 32 */
    uint32_t max_pages;   /* pages per layer pool */
    uint32_t max_seqs;    /* live sequences at once */
    uint32_t max_seq_len; /* tokens per sequence */
    int f16;              /* 1: F16 pages (half the memory and reads; dk, dv multiples of 4) */
    int v_in_k;           /* 1: no V pool; V of a token is the first dv elements of its K row (dv <= dk):
                             DeepSeek-V2's MLA latent, K = [latent | k_pe], V = latent. Appends write K
                             only; vkg_kv_v gives the K pool and the kernels step V rows by dk */
};

struct vkg_kv_seq {
    int live;
    uint64_t len;   /* tokens reserved (written or about to be) */
    int32_t *pages; /* [pages_per_seq], first ceil(len / page_size) used */
};

struct vkg_kv_cache {
    struct vkg_device *dev;
    struct vkg_kv_config cfg;
    uint32_t pages_per_seq;     /* ceil(max_seq_len / page_size) */
    struct vkg_buffer **k, **v; /* [n_layers] pools */
    struct vkg_buffer *seq_table, *page_table;
    uint32_t *refcount;   /* [max_pages] sequences using each page */
    uint32_t *free_pages; /* stack of free page ids */
    uint32_t n_free;
    struct vkg_kv_seq *seqs; /* [max_seqs] */
};

/* Elements a token stores per layer: n_kv_heads * (dk + dv), or n_kv_heads * dk with v_in_k. */
static inline uint64_t vkg_kv_token_elems(const struct vkg_kv_config *c)
{
    return (uint64_t)c->n_kv_heads * (c->dk + (c->v_in_k ? 0 : c->dv));
}

/* Creates the pools (each ≤ maxStorageBufferRange: attention binds a whole
 * layer pool) and the tables. */
enum vkg_status vkg_kv_create(struct vkg_device *dev, const struct vkg_kv_config *cfg, struct vkg_kv_cache **out);
void vkg_kv_free(struct vkg_kv_cache *kv);

/* A new empty sequence; *seq is its id (index into the seq table). */
enum vkg_status vkg_kv_seq_add(struct vkg_kv_cache *kv, uint32_t *seq);
/* *child = a new sequence equal to parent: full pages shared, the partial last
 * page copied on the device (recorded in c; c may be NULL when the parent's
 * length is a multiple of page_size: nothing to copy). Like a launcher it
 * records no barrier (ops.h): the caller orders the copy after the parent's
 * appends and before the child's appends and reads. */
enum vkg_status vkg_kv_seq_fork(struct vkg_kv_cache *kv, struct vkg_cmd *c, uint32_t parent, uint32_t *child);
/* The same for the parent's first len tokens only (len <= its length): a prefix
 * kept as a cache is forked at the point where a new prompt leaves it. */
enum vkg_status vkg_kv_seq_fork_len(struct vkg_kv_cache *kv, struct vkg_cmd *c, uint32_t parent, uint64_t len,
                                    uint32_t *child);
/* Releases the sequence's pages (a page returns to the pool at refcount 0). */
enum vkg_status vkg_kv_seq_free(struct vkg_kv_cache *kv, uint32_t seq);
/* Makes room for n_new more tokens; *pos0 = position of the first of them. */
enum vkg_status vkg_kv_reserve(struct vkg_kv_cache *kv, uint32_t seq, uint32_t n_new, uint64_t *pos0);
/* Writes the seq table and page table (host-visible buffers, written in place;
 * call between steps, never while a submission that reads them runs). */
enum vkg_status vkg_kv_upload(struct vkg_kv_cache *kv);

/* Views of one layer's pools and of the tables (for launchers); with v_in_k, vkg_kv_v is the K pool. */
struct vkg_view vkg_kv_k(const struct vkg_kv_cache *kv, uint32_t layer);
struct vkg_view vkg_kv_v(const struct vkg_kv_cache *kv, uint32_t layer);
/* Tokens at the start of every listed sequence that they hold in the very
 * same pages (leading full pages with equal ids, so positions written before
 * and never again while shared): what cascade attention reads once for all
 * of them (vkg_op_attention_shared). Repeated ids count once; 0 when a
 * sequence is not live. */
uint64_t vkg_kv_common_prefix(const struct vkg_kv_cache *kv, const int32_t *seqs, uint32_t n);
/* Pages in use by at least one sequence. */
uint32_t vkg_kv_pages_used(const struct vkg_kv_cache *kv);

#endif
