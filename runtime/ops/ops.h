/* ops.h — every launcher of runtime/ops in one include. A launcher records
 * one op into a command buffer, splitting the work into binding windows
 * when a tensor is larger than maxStorageBufferRange.
 *
 * Families (one ops_<family>.h each, push constants in push_<family>.h):
 *   convert    dtype conversion, word copy, fill          ops_convert.h
 *   norm       embedding, RMSNorm, GLU, softcap, add ...  ops_norm.h
 *   rope       rotary position embedding                  ops_rope.h
 *   matmul     mat-vec, GEMM, quantize                    ops_matmul.h
 *   attention  KV append, paged attention                 ops_attention.h (+ kv_cache.h)
 *   moe        router, grouping, expert FFN, combine      ops_moe.h
 *   sample     argmax, sampling                           ops_sample.h */
#ifndef VKG_OPS_H
#define VKG_OPS_H

#include "command.h"
#include "op_table.h"
#include "ops_attention.h"
#include "ops_convert.h"
#include "ops_matmul.h"
#include "ops_moe.h"
#include "ops_norm.h"
#include "ops_rope.h"
#include "ops_sample.h"

#endif
