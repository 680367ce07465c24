/* test_status — the status X-macro table and the per-thread error detail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "status.h"
#include "vk_check.h"

static void test_messages_and_names(void **state)
{
    assert_string_equal(vkg_status_message(VKG_OK), "ok");
    assert_string_equal(vkg_status_name(VKG_ERR_FORMAT), "VKG_ERR_FORMAT");
    assert_string_equal(vkg_status_message((enum vkg_status) - 999), "unknown status");
    /* every code has a distinct name and a non-empty message */
#define CHECK(name, value, msg)                        \
    assert_true(strlen(vkg_status_message(name)) > 0); \
    assert_string_equal(vkg_status_name(name), #name); \
    assert_true(value <= 0);
    VKG_STATUS_LIST(CHECK)
#undef CHECK
}

static void test_detail(void **state)
{
    vkg_error_clear();
    assert_string_equal(vkg_error_detail(), "");
    enum vkg_status s = vkg_error(VKG_ERR_FORMAT, "%s: tensor '%s': %d", "a.safetensors", "w", 7);
    assert_int_equal(s, VKG_ERR_FORMAT);
    assert_string_equal(vkg_error_detail(), "a.safetensors: tensor 'w': 7");
}

static enum vkg_status fails_vk(void)
{
    VKG_VK(VK_ERROR_OUT_OF_DEVICE_MEMORY, "buffer '%s' (%d bytes)", "kv", 4096);
    return VKG_OK;
}

static void test_vk_failure_names_call_result_object(void **state)
{
    assert_int_equal(fails_vk(), VKG_ERR_DEVICE_OOM);
    const char *d = vkg_error_detail();
    assert_non_null(strstr(d, "VK_ERROR_OUT_OF_DEVICE_MEMORY"));
    assert_non_null(strstr(d, "buffer 'kv' (4096 bytes)"));
    assert_string_equal(vkg_vk_result_name(VK_ERROR_DEVICE_LOST), "VK_ERROR_DEVICE_LOST");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages_and_names),
        cmocka_unit_test(test_detail),
        cmocka_unit_test(test_vk_failure_names_call_result_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
