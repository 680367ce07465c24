/* ops.h — every launcher of runtime/ops in one include. A launcher records
 * one op into a command buffer, splitting the work into binding windows
 * when a tensor is larger than maxStorageBufferRange.
 *
 * Barrier rule: a launcher records no barrier before its first dispatch and
 * none after its last; it adds one only between its own internal passes
 * (argmax's partial and final pass, attention's split and combine, a chunk
 * that rewrites what the previous chunk read). The caller orders ops: it
 * puts vkg_cmd_barrier (or vkg_cmd_barrier_host before reading on the host)
 * between an op and the next one that reads or overwrites what it wrote.
 * Independent ops recorded back to back may overlap on the device.
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
