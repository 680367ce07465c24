/* ref_sample.h — plain-C references of argmax and sampling, written from the
 * math and from Hugging Face transformers' warpers (TemperatureLogitsWarper,
 * TopKLogitsWarper, TopPLogitsWarper, MinPLogitsWarper; in that order), in
 * double precision, with a full sort. Not derived from the shaders. */
#ifndef VKG_REF_SAMPLE_H
#define VKG_REF_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

/* Philox4x32-10 (Salmon, Moraes, Dror, Shaw, SC'11; Random123). */
void ref_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* Index of the largest x (first one on ties); *prob = softmax(x)[index].
 * Non-finite rows (the contract of runtime/ops/ops_sample.h, restated): a
 * NaN anywhere or nothing but -inf gives -1 and prob 0; when the largest is
 * +inf, every +inf logit weighs 1 and every other 0, so prob = 1 / (number
 * of +inf logits). */
int32_t ref_argmax(const float *x /* [n] */, size_t n, double *prob);

struct ref_sample_args {
    float temperature; /* <= 0: greedy */
    uint32_t top_k;    /* 0: off */
    float top_p;       /* >= 1: off */
    float min_p;       /* <= 0: off */
    uint64_t seed;
    uint32_t step;
};

struct ref_sample_result {
    int32_t token;
    double prob;   /* of the token in the filtered, renormalized distribution */
    size_t n_kept; /* tokens left after the filters */
    int fragile;   /* a decision was within 1e-5 of a float boundary (top-p cut,
                        min-p cut or the CDF step u fell on): float32 on the
                        device may legitimately decide the other way */
};

/* Indices of x sorted by value descending, ties by index ascending. */
void ref_sort_desc(const float *x /* [n] */, size_t n, uint32_t *order /* [n] out */);

/* One draw: scores = x / T -> top-k (remove scores < k-th largest) -> top-p
 * (ascending cumulative probability <= 1 - top_p removed, the top token kept)
 * -> min-p (prob < min_p * max prob removed) -> softmax -> the first token in
 * index order whose cumulative probability exceeds u = Philox(key = seed,
 * counter = {step, 0, 0, 0})[0] / 2^32. order: ref_sort_desc(x) or NULL.
 * A row ref_argmax gives -1 gives token -1, prob 0; a row whose largest
 * logit is +inf draws from the uniform distribution over its +inf logits
 * (the filters apply to that distribution). */
struct ref_sample_result ref_sample(const float *x /* [vocab] */, size_t vocab, const uint32_t *order,
                                    const struct ref_sample_args *a);

#endif
