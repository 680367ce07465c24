/* device.h — one Vulkan device context: instance (+ validation messenger),
 * physical device choice, logical device, queues, features and limits. */
#ifndef VKG_DEVICE_H
#define VKG_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include <volk.h>

#include "status.h"

#define VKG_MAX_HEAPS 16

/* Everything vkgrm-info reports about one physical device. */
struct vkg_device_info {
    uint32_t index; /* position in vkEnumeratePhysicalDevices */
    char name[256];
    uint32_t vendor_id, device_id;
    const char *type; /* "discrete", "integrated", "virtual", "cpu", "other" */
    char driver_name[256];
    char driver_info[256];
    uint32_t driver_id;          /* VkDriverId (VK_DRIVER_ID_MESA_LLVMPIPE: lavapipe) */
    uint32_t driver_version;     /* raw, vendor encoded */
    char driver_version_str[64]; /* decoded per vendor */
    uint32_t api_version;
    uint8_t uuid[16];

    /* features */
    int fp16_arith;           /* shaderFloat16 */
    int int8_arith;           /* shaderInt8 */
    int int16_arith;          /* shaderInt16 */
    int storage_16bit;        /* storageBuffer16BitAccess */
    int storage_8bit;         /* storageBuffer8BitAccess */
    int int8_dot;             /* VK_KHR_shader_integer_dot_product feature */
    int int8_dot_accelerated; /* integerDotProduct4x8BitPackedSignedAccelerated */
    int bf16;                 /* VK_KHR_shader_bfloat16 exposed */
    int coopmat_khr;          /* VK_KHR_cooperative_matrix exposed */
    int coopmat_nv;           /* VK_NV_cooperative_matrix exposed */
    int external_host_memory; /* VK_EXT_external_memory_host */
    uint64_t host_pointer_alignment;
    int subgroup_size_control; /* subgroupSizeControl feature */
    int compute_full_subgroups;
    uint32_t subgroup_size, subgroup_min_size, subgroup_max_size;
    uint32_t subgroup_ops; /* VkSubgroupFeatureFlags for compute */
    int timestamps;        /* timestamp queries on the compute queue */
    float timestamp_period_ns;

    /* limits */
    uint64_t max_storage_buffer_range;
    uint64_t max_memory_allocation_size;
    uint64_t max_buffer_size;
    uint64_t max_compute_shared_memory;
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_count[3];
    uint32_t max_workgroup_size[3];
    uint32_t max_push_constants;
    uint64_t min_storage_offset_alignment;
    uint64_t min_texel_offset_alignment; /* minTexelBufferOffsetAlignment */
    uint64_t max_texel_elements;         /* maxTexelBufferElements */

    /* memory */
    uint32_t n_heaps;
    uint64_t heap_size[VKG_MAX_HEAPS];
    int heap_device_local[VKG_MAX_HEAPS];

    /* queues */
    int32_t compute_family;  /* -1 when none */
    int32_t transfer_family; /* a transfer-only family, -1 when none */
};

struct vkg_device_opts {
    int index;        /* -1: first suitable device */
    const char *name; /* name substring, NULL for any */
    int validate;     /* 1: Khronos validation + messenger; -1: from VKGRM_VALIDATE */
};

struct vkg_pipeline_set;
struct vkg_stage;
struct vkg_block;
struct vkg_profile;

struct vkg_device {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice phys;
    VkDevice vk;
    VkQueue compute_queue;
    VkQueue transfer_queue; /* == compute_queue when there is no transfer family */
    uint32_t compute_family;
    struct vkg_device_info info;
    VkPhysicalDeviceMemoryProperties mem_props;
    uint32_t storage_memory_types; /* memoryTypeBits of a storage buffer */
    int validation;
    /* enabled tiers: feature present and not switched off by VKGRM_DISABLE_* */
    struct {
        int fp16;            /* VKGRM_DISABLE_F16 */
        int storage16;       /* needed by 16-bit loads; VKGRM_DISABLE_F16 too */
        int storage8;        /* VKGRM_DISABLE_INT8 */
        int int8;            /* VKGRM_DISABLE_INT8 */
        int int8_dot;        /* VKGRM_DISABLE_INT8_DOT */
        int subgroup_arith;  /* VKGRM_DISABLE_SUBGROUP */
        int size_control;    /* VKGRM_DISABLE_SUBGROUP */
        int lane_ok;         /* the lane mat-vec can run: subgroup ballot, subgroups of >= 8; VKGRM_DISABLE_SUBGROUP */
        int lane_tier;       /* lane_ok on a CPU driver (lavapipe): picked by AUTO; VKGRM_DISABLE_LANE_TIER */
        int quad;            /* lane_ok and subgroup quad operations: matmul_lane (8 tokens) shares x through
                               subgroupQuadBroadcast; without them more than one token takes the lane mat-vec */
        int attn_rows;       /* attn_rows and the one-row *_g1 attention kernels; VKGRM_DISABLE_ATTN_ROWS */
        int cascade;         /* models attend a prefix shared by a step's sequences once; VKGRM_DISABLE_CASCADE */
        int texel;           /* CPU driver: kernels read K/V and weights through uniform texel buffers
                               (real gathers there; storage-buffer loads are per-lane loops); VKGRM_DISABLE_TEXEL */
        int attn_lane;       /* texel and lane_ok: attention by attn_lane (a subgroup per row, online softmax per
                               lane, no barriers) instead of the tiled kernels; VKGRM_DISABLE_ATTN_LANE */
        int fused;           /* texel and lane_tier: models stack q|k|v and gate|up at load and run each group as
                               one matmul_lane launch (vkg_op_matmul_fused); VKGRM_DISABLE_FUSED */
        int matvec_cs;       /* float mat-vecs of one token in the texel tier: lanes split the columns
                               (matvec1_lane_cs_*): 1 for rows of VKG_MATVEC1_CS_MIN_IN+ columns, 2 always
                               (tests, bench), 0 never (VKGRM_DISABLE_MATVEC_CS, or no subgroup_arith:
                               the kernel sums its lanes with subgroupAdd) */
        int resnorm;         /* fused and subgroup_arith: a layer's output projection adds into the residual
                               stream and its last workgroup per 8 tokens applies the next RMSNorm
                               (vkg_op_matmul_add_norm, one launch where there were two), and the
                               stacked q|k|v launch applies Qwen3's q/k head norms the same way
                               (vkg_op_matmul_fused), and a MoE layer's combine comes with the
                               residual add and norm (vkg_op_moe_combine_add_norm); VKGRM_DISABLE_RESNORM */
        int rope_append;     /* models rotate q and k in the KV append's launch (vkg_op_kv_append_rope) instead
                               of two rope launches before it; VKGRM_DISABLE_ROPE_APPEND */
        int mla_append;      /* DeepSeek-V2 layers gather K and V in the KV append's launch
                               (vkg_op_kv_append_mla) instead of three copies before it; VKGRM_DISABLE_MLA_APPEND */
        int attn_wide;       /* attn.comp's *_wide variants for rows past VKG_ATTN_DMAX, where the device has their
                               shared memory (vkg_attn_wide_ok); VKGRM_DISABLE_ATTN_WIDE */
        int mla_latent;      /* DeepSeek-V2 may cache the latent [kv_lora | k_pe] per token (one KV head, kv_b_proj
                               absorbed into q and o; vkg_mla_latent) instead of every head's k and v: with
                               attn_lane 1 as the memory plan picks (plan.h), 2 always (VKGRM_MLA_LATENT=1), 0
                               never (VKGRM_MLA_LATENT=0); with attn_wide only (GPUs: not measured on one yet)
                               2 with VKGRM_MLA_LATENT=1, else 0 */
        int tiled;           /* texel, lane_tier and quad: models store their float projections in 8-row tiles
                               (vkg_weights_tile_rows) that the texel lane kernels read as one sequential
                               stream per 8-lane SIMD chunk (push_matmul.h); VKGRM_DISABLE_TILED */
        int tiled_blocks;    /* tiled: a file's block-type projections in 8-row tiles too, of 256-value units
                               (a K-quant block, 8 blocks of Q4_0 / Q4_1 / Q5_0 / Q5_1; not Q8_0: push_matmul.h);
                               VKGRM_DISABLE_TILED_BLOCKS */
        int gate_group;      /* subgroup_arith: a decode step's MoE router top-k and grouping by expert in one
                               launch (vkg_op_moe_gate_group, moe_gate_group_sg); VKGRM_DISABLE_GATE_GROUP */
        int attn_group;      /* attn_lane takes the query heads of one KV head up to VKG_ATTN_LANE_GH at a time,
                               each K/V texel fetched once for them all (vkg_attn_lane_heads); 0: one head per
                               workgroup; VKGRM_DISABLE_ATTN_GROUP */
        uint32_t lane_width; /* local size of matmul_lane / matvec1_lane_* (kernel table local size 0): 16 on a
                               CPU driver whose subgroups are 16 lanes (llvmpipe with LP_NATIVE_VECTOR_WIDTH=512
                               on AVX-512), so that a workgroup fills one SIMD vector; else 8;
                               VKGRM_LANE_WIDTH=8 keeps 8 */
        int f16_bits;        /* lane_tier on lavapipe: the lane kernels widen F16 weights by integer operations
                               and one multiply by 2^112 (shaders/f16.glsl), exact for every finite half where
                               float denormals are kept, as llvmpipe keeps them; every pipeline's
                               specialization constant 8; fixed at device open; VKGRM_DISABLE_F16_BITS */
        int xq8;             /* texel, lane_tier and quad: Q4_K, Q5_K and Q6_K matrices and
                               experts multiply 8-bit activations (quantize_x_q8k, then matmul_lane /
                               matvec1_lane_tx / moe_lane *_xq8: integer products, as
                               llama.cpp's CPU backend takes them), and so do Q4_0, Q4_1, Q5_0 and
                               Q5_1 matrices (quantize_x_q8_0, matmul_lane / matvec1_lane_tx *_xq8),
                               and Q8_0 ones on that x as floats (quantize_x_q8_0f, their float-x
                               kernels), where the caller hands vkg_op_matmul* a scratch for them
                               (vkg_matmul_args.xq); VKGRM_DISABLE_XQ8 */
        int gelu_f16;        /* VKGRM_GELU_F16=1, any device: the models' GeGLU (Gemma-2) takes ggml's
                               table GELU (shaders/act.glsl act_gelu_f16), llama.cpp's CPU numbers,
                               instead of HF's gelu_pytorch_tanh in F32; off by default */
    } use;
    uint32_t validation_warnings, validation_errors;
    struct vkg_pipeline_set *pipelines; /* lazily created pipelines (pipeline.c) */
    struct vkg_stage *stage;            /* staging ring (staging.c) */
    struct vkg_block *blocks;           /* suballocation blocks (memory.c) */
    uint64_t block_size;                /* bytes per block (VKGRM_BLOCK_MIB) */
    VkCommandPool pool;                 /* for internal one-shot commands */
    struct vkg_profile *profile;        /* per-kernel times while profiling (command.c), else NULL */
};

/* Lists every physical device (its own short-lived instance). *infos is
 * malloc'ed; free() it. */
enum vkg_status vkg_device_list(struct vkg_device_info **infos, uint32_t *count);

/* Opens the device chosen by opts (index or name substring). On a bad
 * index/name the error detail names the devices that exist. */
enum vkg_status vkg_device_open(const struct vkg_device_opts *opts, struct vkg_device **out);
/* Returns VKG_ERR_VALIDATION when the validation layer reported a warning or
 * an error. An earlier error's detail (vkg_error_detail) is kept in front of
 * the validation count, so closing after a failure does not hide it. */
enum vkg_status vkg_device_close(struct vkg_device *dev);

/* Index of a memory type allowed by type_bits with all of `want` flags, or -1. */
int vkg_device_memory_type(const struct vkg_device *dev, uint32_t type_bits, VkMemoryPropertyFlags want);

/* Number of validation warnings + errors so far. */
uint32_t vkg_device_validation_count(const struct vkg_device *dev);

/* Is an env switch like VKGRM_DISABLE_F16 set to a true value? */
int vkg_env_flag(const char *name);

#endif
