/* Base16. */
#include "core/core.h"
#include "test_support.h"

#include <string.h>

static void test_round_trip(void **state)
{
    (void)state;
    struct vt_buf hex, raw;
    vt_buf_init(&hex, 1024);
    vt_buf_init(&raw, 1024);
    const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    assert_int_equal(vt_hex_encode(bytes, sizeof(bytes), &hex, NULL), VT_OK);
    assert_string_equal((char *)hex.data, "00017f80abff");
    assert_int_equal(vt_hex_decode("00017F80ABff", 12, &raw, NULL), VT_OK);
    assert_int_equal(raw.len, sizeof(bytes));
    assert_memory_equal(raw.data, bytes, sizeof(bytes));
    vt_buf_release(&hex);
    vt_buf_release(&raw);
}

static void test_rejections_name_offset_and_leave_output(void **state)
{
    (void)state;
    struct vt_buf raw;
    struct vt_error err;
    vt_buf_init(&raw, 1024);
    assert_int_equal(vt_buf_append_str(&raw, "keep", NULL), VT_OK);
    assert_int_equal(vt_hex_decode("abc", 3, &raw, &err), VT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "odd length"));
    assert_int_equal(vt_hex_decode("abzz", 4, &raw, &err), VT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "offset 2"));
    assert_string_equal((char *)raw.data, "keep");
    vt_buf_release(&raw);
}

static void test_output_cap(void **state)
{
    (void)state;
    struct vt_buf hex;
    vt_buf_init(&hex, 5);
    const uint8_t bytes[3] = {1, 2, 3};
    assert_int_equal(vt_hex_encode(bytes, 3, &hex, NULL), VT_ERR_TOO_LARGE);
    assert_int_equal(hex.len, 0);
    vt_buf_release(&hex);
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_rejections_name_offset_and_leave_output),
        cmocka_unit_test(test_output_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
