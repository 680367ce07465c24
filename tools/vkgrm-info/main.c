/* vkgrm-info — lists Vulkan devices with the features and limits vkgrm uses;
 * --json for machines; --self-check runs a conversion round trip on the GPU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "command.h"
#include "device.h"
#include "ops.h"
#include "options.h"

static const char *subgroup_ops_str(uint32_t ops, char *buf, size_t n)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = { { VK_SUBGROUP_FEATURE_BASIC_BIT, "basic" },
                  { VK_SUBGROUP_FEATURE_VOTE_BIT, "vote" },
                  { VK_SUBGROUP_FEATURE_ARITHMETIC_BIT, "arithmetic" },
                  { VK_SUBGROUP_FEATURE_BALLOT_BIT, "ballot" },
                  { VK_SUBGROUP_FEATURE_SHUFFLE_BIT, "shuffle" },
                  { VK_SUBGROUP_FEATURE_SHUFFLE_RELATIVE_BIT, "shuffle_relative" },
                  { VK_SUBGROUP_FEATURE_CLUSTERED_BIT, "clustered" },
                  { VK_SUBGROUP_FEATURE_QUAD_BIT, "quad" } };
    buf[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (ops & names[i].bit) snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", buf[0] ? "," : "", names[i].name);
    return buf;
}

static cJSON *device_json(const struct vkg_device_info *d)
{
    cJSON *o = cJSON_CreateObject(), *f = cJSON_CreateObject(), *l = cJSON_CreateObject(), *h = cJSON_CreateArray();
    char buf[256];
    cJSON_AddNumberToObject(o, "index", d->index);
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "type", d->type);
    snprintf(buf, sizeof buf, "0x%04x", d->vendor_id);
    cJSON_AddStringToObject(o, "vendor_id", buf);
    snprintf(buf, sizeof buf, "0x%04x", d->device_id);
    cJSON_AddStringToObject(o, "device_id", buf);
    cJSON_AddStringToObject(o, "driver_name", d->driver_name);
    cJSON_AddStringToObject(o, "driver_info", d->driver_info);
    cJSON_AddStringToObject(o, "driver_version", d->driver_version_str);
    cJSON_AddNumberToObject(o, "driver_version_raw", d->driver_version);
    snprintf(buf, sizeof buf, "%u.%u.%u", VK_API_VERSION_MAJOR(d->api_version), VK_API_VERSION_MINOR(d->api_version),
             VK_API_VERSION_PATCH(d->api_version));
    cJSON_AddStringToObject(o, "api_version", buf);
    cJSON_AddBoolToObject(f, "fp16_arithmetic", d->fp16_arith);
    cJSON_AddBoolToObject(f, "int8_arithmetic", d->int8_arith);
    cJSON_AddBoolToObject(f, "storage_16bit", d->storage_16bit);
    cJSON_AddBoolToObject(f, "storage_8bit", d->storage_8bit);
    cJSON_AddBoolToObject(f, "int8_dot_product", d->int8_dot);
    cJSON_AddBoolToObject(f, "int8_dot_product_accelerated", d->int8_dot_accelerated);
    cJSON_AddBoolToObject(f, "bf16", d->bf16);
    cJSON_AddBoolToObject(f, "cooperative_matrix_khr", d->coopmat_khr);
    cJSON_AddBoolToObject(f, "cooperative_matrix_nv", d->coopmat_nv);
    cJSON_AddBoolToObject(f, "external_host_memory", d->external_host_memory);
    cJSON_AddNumberToObject(f, "host_pointer_alignment", (double)d->host_pointer_alignment);
    cJSON_AddNumberToObject(f, "subgroup_size", d->subgroup_size);
    cJSON_AddNumberToObject(f, "subgroup_min_size", d->subgroup_min_size);
    cJSON_AddNumberToObject(f, "subgroup_max_size", d->subgroup_max_size);
    cJSON_AddBoolToObject(f, "subgroup_size_control", d->subgroup_size_control);
    cJSON_AddBoolToObject(f, "compute_full_subgroups", d->compute_full_subgroups);
    cJSON_AddStringToObject(f, "subgroup_operations", subgroup_ops_str(d->subgroup_ops, buf, sizeof buf));
    cJSON_AddBoolToObject(f, "timestamps", d->timestamps);
    cJSON_AddNumberToObject(f, "timestamp_period_ns", d->timestamp_period_ns);
    cJSON_AddItemToObject(o, "features", f);
    cJSON_AddNumberToObject(l, "max_storage_buffer_range", (double)d->max_storage_buffer_range);
    cJSON_AddNumberToObject(l, "max_memory_allocation_size", (double)d->max_memory_allocation_size);
    cJSON_AddNumberToObject(l, "max_buffer_size", (double)d->max_buffer_size);
    cJSON_AddNumberToObject(l, "max_compute_shared_memory_size", (double)d->max_compute_shared_memory);
    cJSON_AddNumberToObject(l, "max_compute_workgroup_invocations", d->max_workgroup_invocations);
    cJSON_AddItemToObject(l, "max_compute_workgroup_count",
                          cJSON_CreateIntArray((const int[]){ (int)(d->max_workgroup_count[0] & 0x7fffffff),
                                                              (int)(d->max_workgroup_count[1] & 0x7fffffff),
                                                              (int)(d->max_workgroup_count[2] & 0x7fffffff) },
                                               3));
    cJSON_AddNumberToObject(l, "max_push_constants_size", d->max_push_constants);
    cJSON_AddNumberToObject(l, "min_storage_buffer_offset_alignment", (double)d->min_storage_offset_alignment);
    cJSON_AddItemToObject(o, "limits", l);
    for (uint32_t i = 0; i < d->n_heaps; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "size", (double)d->heap_size[i]);
        cJSON_AddBoolToObject(e, "device_local", d->heap_device_local[i]);
        cJSON_AddItemToArray(h, e);
    }
    cJSON_AddItemToObject(o, "memory_heaps", h);
    cJSON_AddNumberToObject(o, "compute_queue_family", d->compute_family);
    cJSON_AddNumberToObject(o, "transfer_queue_family", d->transfer_family);
    return o;
}

static void print_table(const struct vkg_device_info *d)
{
    char ops[256];
    const double mib = 1024.0 * 1024.0;
    printf("device %u: %s (%s, vendor 0x%04x, device 0x%04x)\n", d->index, d->name, d->type, d->vendor_id,
           d->device_id);
    printf("  driver            %s %s (%s), Vulkan %u.%u.%u\n", d->driver_name, d->driver_info, d->driver_version_str,
           VK_API_VERSION_MAJOR(d->api_version), VK_API_VERSION_MINOR(d->api_version),
           VK_API_VERSION_PATCH(d->api_version));
    printf("  fp16 / int8 math  %s / %s    16/8-bit storage %s / %s\n", d->fp16_arith ? "yes" : "no",
           d->int8_arith ? "yes" : "no", d->storage_16bit ? "yes" : "no", d->storage_8bit ? "yes" : "no");
    printf("  int8 dot product  %s%s    bf16 %s    coopmat khr/nv %s/%s    host memory import %s\n",
           d->int8_dot ? "yes" : "no", d->int8_dot_accelerated ? " (accelerated)" : "", d->bf16 ? "yes" : "no",
           d->coopmat_khr ? "yes" : "no", d->coopmat_nv ? "yes" : "no", d->external_host_memory ? "yes" : "no");
    printf("  subgroup          %u (min %u, max %u, size control %s): %s\n", d->subgroup_size, d->subgroup_min_size,
           d->subgroup_max_size, d->subgroup_size_control ? "yes" : "no",
           subgroup_ops_str(d->subgroup_ops, ops, sizeof ops));
    printf("  storage range     %.0f MiB    max allocation %.0f MiB    max buffer %.0f MiB\n",
           d->max_storage_buffer_range / mib, d->max_memory_allocation_size / mib, d->max_buffer_size / mib);
    printf("  shared memory     %llu KiB    workgroup %u invocations    push constants %u B\n",
           (unsigned long long)d->max_compute_shared_memory / 1024, d->max_workgroup_invocations,
           d->max_push_constants);
    for (uint32_t i = 0; i < d->n_heaps; i++)
        printf("  heap %u            %.0f MiB%s\n", i, d->heap_size[i] / mib,
               d->heap_device_local[i] ? " device-local" : "");
    printf("  queues            compute family %d, transfer family %d, timestamps %s\n", d->compute_family,
           d->transfer_family, d->timestamps ? "yes" : "no");
}

/* Round trip f32 -> f16 -> f32 of 1 Mi values on the device; one line out. */
static int self_check(const struct vkg_device_opts *o)
{
    const uint64_t n = 1 << 20;
    struct vkg_device *dev = NULL;
    struct vkg_buffer *a = NULL, *h = NULL, *b = NULL;
    struct vkg_cmd *c = NULL;
    float *x = malloc(n * 4), *y = malloc(n * 4);
    enum vkg_status s = x && y ? vkg_device_open(o, &dev) : VKG_ERR_NOMEM;
    for (uint64_t i = 0; i < n && x; i++) x[i] = sinf((float)i * 0.001f) * 1000.0f;
    if (s == VKG_OK) s = vkg_buffer_create(dev, n * 4, VKG_MEM_DEVICE, "self-check f32", &a);
    if (s == VKG_OK) s = vkg_buffer_create(dev, n * 2, VKG_MEM_DEVICE, "self-check f16", &h);
    if (s == VKG_OK) s = vkg_buffer_create(dev, n * 4, VKG_MEM_DEVICE, "self-check back", &b);
    if (s == VKG_OK) s = vkg_buffer_upload(dev, vkg_buffer_view(a), x, n * 4);
    if (s == VKG_OK) s = vkg_cmd_create(dev, &c);
    if (s == VKG_OK) s = vkg_cmd_begin(c);
    if (s == VKG_OK) s = vkg_op_convert(c, vkg_buffer_view(a), VKG_DTYPE_F32, vkg_buffer_view(h), VKG_DTYPE_F16, n);
    if (s == VKG_OK) vkg_cmd_barrier(c);
    if (s == VKG_OK) s = vkg_op_convert(c, vkg_buffer_view(h), VKG_DTYPE_F16, vkg_buffer_view(b), VKG_DTYPE_F32, n);
    if (s == VKG_OK) s = vkg_cmd_submit_wait(c);
    if (s == VKG_OK) s = vkg_buffer_download(dev, vkg_buffer_view(b), y, n * 4);
    double worst = 0;
    for (uint64_t i = 0; s == VKG_OK && i < n; i++) {
        double r = fabs((double)y[i] - x[i]) / fmax(fabs((double)x[i]), 6.2e-5);
        if (r > worst) worst = r;
    }
    char name[256] = "";
    if (dev) snprintf(name, sizeof name, "%s", dev->info.name);
    vkg_cmd_free(c);
    vkg_buffer_free(a);
    vkg_buffer_free(h);
    vkg_buffer_free(b);
    free(x);
    free(y);
    enum vkg_status cs = vkg_device_close(dev);
    if (s == VKG_OK) s = cs;
    if (s != VKG_OK) {
        fprintf(stderr, "self-check: FAILED: %s: %s\n", vkg_status_message(s), vkg_error_detail());
        return 1;
    }
    int ok = worst <= 1.0 / 2048.0;
    printf("self-check: %s: %s: %llu values f32->f16->f32 on the GPU, max relative error %.2e (limit 2^-11)\n",
           ok ? "OK" : "FAILED", name, (unsigned long long)n, worst);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *device = NULL;
    int json = 0, check = 0;
    const struct vkg_option opts[] = {
        { "-d", "--device", VKG_OPT_STRING, &device, "N|NAME", "only this device: index or name substring" },
        { NULL, "--json", VKG_OPT_FLAG, &json, NULL, "print a JSON array, one object per device" },
        { NULL, "--self-check", VKG_OPT_FLAG, &check, NULL, "run an f32->f16->f32 round trip on the device" },
    };
    int rc = vkg_options_parse(opts, VKG_COUNT(opts), argc, argv, NULL, "vkgrm-info",
                               "Lists Vulkan devices with the features and limits vkgrm uses.");
    if (rc) return rc == 1 ? 0 : 2;
    struct vkg_device_opts dopts = { .index = -1, .validate = -1 };
    char *end = NULL;
    if (device) {
        long v = strtol(device, &end, 10);
        if (*device && !*end) dopts.index = (int)v;
        else dopts.name = device;
    }
    struct vkg_device_info *infos = NULL;
    uint32_t n = 0;
    enum vkg_status s = vkg_device_list(&infos, &n);
    if (s != VKG_OK) {
        fprintf(stderr, "vkgrm-info: %s: %s\n", vkg_status_message(s), vkg_error_detail());
        return 1;
    }
    int any = 0;
    char names[1024] = "";
    cJSON *arr = cJSON_CreateArray();
    for (uint32_t i = 0; i < n; i++) {
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%u: %s", i ? ", " : "", i, infos[i].name);
        if (dopts.index >= 0 && (uint32_t)dopts.index != i) continue;
        if (dopts.name && !strstr(infos[i].name, dopts.name)) continue;
        any = 1;
        if (json) cJSON_AddItemToArray(arr, device_json(&infos[i]));
        else if (!check) print_table(&infos[i]);
    }
    free(infos);
    if (!any) {
        cJSON_Delete(arr);
        fprintf(stderr, "vkgrm-info: no device matches --device %s; devices: %s\n", device, names);
        return 2;
    }
    if (json) {
        char *txt = cJSON_Print(arr);
        printf("%s\n", txt);
        free(txt);
    }
    cJSON_Delete(arr);
    return check ? self_check(&dopts) : 0;
}
