/* Status names, error records, checked arithmetic and allocation wrappers. */
#include "core/core.h"
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

static void test_status_names_are_distinct(void **state)
{
    (void)state;
    assert_string_equal(vt_status_name(VT_OK), "ok");
    assert_string_equal(vt_status_name(VT_ERR_TOO_LARGE), "too_large");
    for (int a = VT_OK; a <= VT_ERR_INTERNAL; a++) {
        assert_string_not_equal(vt_status_name(a), "unknown");
        for (int b = a + 1; b <= VT_ERR_INTERNAL; b++)
            assert_string_not_equal(vt_status_name(a), vt_status_name(b));
    }
    assert_string_equal(vt_status_name((enum vt_status)999), "unknown");
}

static void test_error_set_and_prefix(void **state)
{
    (void)state;
    struct vt_error err;
    vt_error_clear(&err);
    assert_int_equal(err.status, VT_OK);
    assert_string_equal(err.msg, "");

    assert_int_equal(vt_error_set(&err, VT_ERR_INVALID, "bad '%s' at offset %d", "x", 3),
                     VT_ERR_INVALID);
    assert_int_equal(err.status, VT_ERR_INVALID);
    assert_string_equal(err.msg, "bad 'x' at offset 3");

    assert_int_equal(vt_error_prefix(&err, VT_ERR_INVALID, "cannot read '%s'", "f.json"),
                     VT_ERR_INVALID);
    assert_string_equal(err.msg, "cannot read 'f.json': bad 'x' at offset 3");

    /* A NULL error record still returns the status, set or passed up. */
    assert_int_equal(vt_error_set(NULL, VT_ERR_IO, "x"), VT_ERR_IO);
    assert_int_equal(vt_error_prefix(NULL, VT_ERR_VERIFY, "y"), VT_ERR_VERIFY);
}

static void test_error_truncates_long_messages(void **state)
{
    (void)state;
    struct vt_error err;
    char long_text[1000];
    memset(long_text, 'a', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    vt_error_set(&err, VT_ERR_INVALID, "%s", long_text);
    assert_int_equal(strlen(err.msg), VT_ERROR_MSG_MAX - 1);

    vt_error_prefix(&err, VT_ERR_INVALID, "%s", long_text);
    assert_int_equal(strlen(err.msg), VT_ERROR_MSG_MAX - 1);
    assert_memory_equal(err.msg + VT_ERROR_MSG_MAX / 2 - 1, ": a", 3);
}

static void test_size_arithmetic(void **state)
{
    (void)state;
    size_t out;
    assert_true(vt_size_add(1, 2, &out));
    assert_int_equal(out, 3);
    assert_false(vt_size_add(SIZE_MAX, 1, &out));
    assert_true(vt_size_mul(1 << 20, 1 << 10, &out));
    assert_int_equal(out, (size_t)1 << 30);
    assert_false(vt_size_mul(SIZE_MAX / 2 + 1, 2, &out));
}

static void test_alloc_wrappers(void **state)
{
    (void)state;
    char *s = vt_strdup("vitae");
    assert_string_equal(s, "vitae");
    s = vt_realloc(s, 100);
    assert_string_equal(s, "vitae");
    free(s);

    uint8_t *z = vt_calloc(16, 4);
    for (int i = 0; i < 64; i++)
        assert_int_equal(z[i], 0);
    free(z);

    void *empty = vt_malloc(0);
    assert_non_null(empty);
    free(empty);
}

static void test_big_endian_helpers(void **state)
{
    (void)state;
    uint8_t b[8];
    vt_be64_put(b, 0x0102030405060708ULL);
    assert_memory_equal(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_true(vt_be64_get(b) == 0x0102030405060708ULL);
    vt_be32_put(b, 0xdeadbeef);
    assert_int_equal(vt_be32_get(b), 0xdeadbeef);
    vt_be16_put(b, 0xabcd);
    assert_int_equal(vt_be16_get(b), 0xabcd);
}

static void test_random_bytes_differ(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    vt_random_bytes(a, sizeof(a));
    vt_random_bytes(b, sizeof(b));
    assert_memory_not_equal(a, b, sizeof(a));
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names_are_distinct),
        cmocka_unit_test(test_error_set_and_prefix),
        cmocka_unit_test(test_error_truncates_long_messages),
        cmocka_unit_test(test_size_arithmetic),
        cmocka_unit_test(test_alloc_wrappers),
        cmocka_unit_test(test_big_endian_helpers),
        cmocka_unit_test(test_random_bytes_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
