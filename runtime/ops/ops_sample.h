/* ops_sample.h — argmax and sampling launchers over logits [n_rows][vocab] F32
 * (row-major, contiguous). Outputs stay on the device: tokens [n_rows] int32
 * and probs [n_rows] f32. Both need a scratch workspace of
 * vkg_sample_workspace_bytes() (device memory, contents don't matter between
 * calls). Logits larger than one binding range are processed in row batches;
 * one row must fit a binding (vocab <= 8 Mi: fixed-point mass sums).
 *
 * Non-finite logits, the same for argmax and sampling and for every tier:
 *   - a row with a NaN anywhere, or with nothing but -inf (nothing can be
 *     drawn), gets tokens[r] = -1 and probs[r] = 0: never an index out of
 *     range, never a valid-looking id. Callers must check for -1. Other
 *     rows of the batch are not affected;
 *   - -inf logits are never drawn (probability 0);
 *   - +inf is the largest logit: argmax is the lowest index holding +inf,
 *     and the row's distribution is uniform over its +inf logits (the limit
 *     of softmax as they grow; the temperature does not matter then), so
 *     greedy probs[r] = 1 / (number of +inf logits) and sampling draws among
 *     them with top-k / top-p / min-p applied to that distribution. */
#ifndef VKG_OPS_SAMPLE_H
#define VKG_OPS_SAMPLE_H

#include "command.h"
#include "op_table.h" /* op ids, push structs, family limits (VKG_ATTN_*, VKG_MATVEC_*, ...) */
#include "push_sample.h"

/* Bytes of workspace for n_rows x vocab. */
uint64_t vkg_sample_workspace_bytes(uint32_t n_rows, uint32_t vocab);

/* Greedy: tokens[r] = argmax_v logits[r][v], ties to the lowest index;
 * probs[r] = softmax(logits[r])[tokens[r]] (temperature 1); -1 and 0 for a
 * row with a NaN or of only -inf (above). */
enum vkg_status vkg_op_argmax(struct vkg_cmd *c, struct vkg_view logits, /* [n_rows][vocab] f32 */
                              struct vkg_view work,                      /* vkg_sample_workspace_bytes(n_rows, vocab) */
                              struct vkg_view tokens,                    /* [n_rows] int32 out */
                              struct vkg_view probs,                     /* [n_rows] f32 out */
                              uint32_t n_rows, uint32_t vocab);

/* One token per row drawn with the row's parameters (HF order: temperature,
 * top-k, top-p, min-p; T <= 0 is greedy and gives vkg_op_argmax's result).
 * u = Philox4x32-10(key = seed, counter = {step, 0, 0, 0}) / 2^32 is mapped
 * through the CDF of the kept tokens in index order. A row's token depends
 * only on its logits and its params, never on the other rows of the batch.
 * probs[r] = the token's probability in the filtered, renormalized
 * distribution. flags: VKG_SAMPLE_ADVANCE increments params[r].step on the
 * device after the draw (a re-submitted command buffer draws the next step);
 * VKG_SAMPLE_NO_TOP_K / VKG_SAMPLE_NO_TOP_P switch a filter off for every row
 * and leave its 4 radix passes out (vkg_sampler_flags says which are safe). */
enum vkg_status vkg_op_sample(struct vkg_cmd *c, struct vkg_view logits, /* [n_rows][vocab] f32 */
                              struct vkg_view params, /* [n_rows] struct vkg_sample_params, offset % 32 == 0 */
                              struct vkg_view work,   /* vkg_sample_workspace_bytes(n_rows, vocab) */
                              struct vkg_view tokens, /* [n_rows] int32 out */
                              struct vkg_view probs,  /* [n_rows] f32 out */
                              uint32_t n_rows, uint32_t vocab, uint32_t flags);

#endif
