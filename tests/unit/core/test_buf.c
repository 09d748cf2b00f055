/* Bounded buffer: growth, caps, NUL termination, detach, file reading. */
#include "core/core.h"
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_empty_buffer_is_a_c_string(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 10);
    assert_int_equal(b.len, 0);
    assert_string_equal((char *)b.data, "");
    vt_buf_release(&b);
    vt_buf_release(NULL);
}

static void test_append_keeps_nul(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 1000);
    assert_int_equal(vt_buf_append_str(&b, "hello", NULL), VT_OK);
    assert_int_equal(vt_buf_append_byte(&b, ' ', NULL), VT_OK);
    assert_int_equal(vt_buf_printf(&b, NULL, "%s %d", "world", 42), VT_OK);
    assert_string_equal((char *)b.data, "hello world 42");
    assert_int_equal(b.len, 14);
    vt_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal((char *)b.data, "");
    vt_buf_release(&b);
}

static void test_cap_is_enforced_and_buffer_unchanged(void **state)
{
    (void)state;
    struct vt_buf b;
    struct vt_error err;
    vt_buf_init(&b, 8);
    assert_int_equal(vt_buf_append(&b, "12345678", 8, &err), VT_OK);
    assert_int_equal(vt_buf_append(&b, "9", 1, &err), VT_ERR_TOO_LARGE);
    assert_non_null(strstr(err.msg, "cap of 8"));
    assert_int_equal(b.len, 8);
    assert_string_equal((char *)b.data, "12345678");
    assert_int_equal(vt_buf_printf(&b, &err, "%d", 1), VT_ERR_TOO_LARGE);
    assert_int_equal(vt_buf_grow(&b, SIZE_MAX, &err), VT_ERR_TOO_LARGE);
    vt_buf_release(&b);
}

static void test_growth_to_large_sizes(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(vt_buf_append_byte(&b, (uint8_t)i, NULL), VT_OK);
    assert_int_equal(b.len, 100000);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(b.data[i], (uint8_t)i);
    assert_int_equal(b.data[b.len], 0);
    vt_buf_release_secret(&b);
}

static void test_detach_hands_over_storage(void **state)
{
    (void)state;
    struct vt_buf b;
    size_t len;
    vt_buf_init(&b, 100);
    uint8_t *empty = vt_buf_detach(&b, &len);
    assert_int_equal(len, 0);
    assert_int_equal(empty[0], 0);
    free(empty);

    assert_int_equal(vt_buf_append_str(&b, "abc", NULL), VT_OK);
    uint8_t *p = vt_buf_detach(&b, &len);
    assert_int_equal(len, 3);
    assert_string_equal((char *)p, "abc");
    assert_int_equal(b.len, 0);
    free(p);
    vt_buf_release(&b);
}

static void test_read_file(void **state)
{
    (void)state;
    char path[] = "/tmp/vitae-test-buf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    close(fd);

    struct vt_buf b;
    struct vt_error err;
    vt_buf_init(&b, 100);
    assert_int_equal(vt_buf_read_file(&b, path, &err), VT_OK);
    assert_string_equal((char *)b.data, "0123456789");
    vt_buf_release(&b);

    /* Over the cap: an error naming the file, and nothing appended. */
    vt_buf_init(&b, 5);
    assert_int_equal(vt_buf_read_file(&b, path, &err), VT_ERR_TOO_LARGE);
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(b.len, 0);
    vt_buf_release(&b);

    unlink(path);
    vt_buf_init(&b, 100);
    assert_int_equal(vt_buf_read_file(&b, path, &err), VT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "cannot open"));
    vt_buf_release(&b);
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_buffer_is_a_c_string),
        cmocka_unit_test(test_append_keeps_nul),
        cmocka_unit_test(test_cap_is_enforced_and_buffer_unchanged),
        cmocka_unit_test(test_growth_to_large_sizes),
        cmocka_unit_test(test_detach_hands_over_storage),
        cmocka_unit_test(test_read_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
