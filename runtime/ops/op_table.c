/* op_table.c — the op table rows, generated from VKG_OP_LIST. */
#include "op_table.h"

static const struct vkg_op_info g_ops[] = {
#define VKG_X_OP_ROW(id, spv, nb, push, ls) { #spv, nb, (uint32_t)sizeof(struct push), ls },
    VKG_OP_LIST(VKG_X_OP_ROW)
#undef VKG_X_OP_ROW
};
_Static_assert(sizeof g_ops / sizeof g_ops[0] == VKG_OP_COUNT, "op table rows");
/* Parallel tables (bench cases, tests) check their length against VKG_OP_COUNT. */

const struct vkg_op_info *vkg_op_info(enum vkg_op op)
{
    return op < VKG_OP_COUNT ? &g_ops[op] : 0;
}
