/* JSON parsing with I-JSON semantics and caps, and typed member access. */
#include "core/core.h"
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LEN ((size_t)1 << 20)

static enum vt_status parse(const char *text, json_t **v, struct vt_error *err)
{
    return vt_json_parse(text, strlen(text), MAX_LEN, VT_JSON_MAX_DEPTH, v, err);
}

static void check_rejected(const char *text, enum vt_status want, const char *msg_part)
{
    json_t *v = (json_t *)1;
    struct vt_error err;
    enum vt_status st = parse(text, &v, &err);
    if (st != want)
        fail_msg("'%s': got %s (%s), want %s", text, vt_status_name(st), err.msg,
                 vt_status_name(want));
    assert_null(v);
    if (strstr(err.msg, msg_part) == NULL)
        fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, msg_part);
}

static void check_canonical(const char *text, const char *want)
{
    json_t *v;
    struct vt_error err;
    if (parse(text, &v, &err) != VT_OK)
        fail_msg("'%s': %s", text, err.msg);
    struct vt_buf out;
    vt_buf_init(&out, 1024);
    assert_int_equal(vt_jcs_write(v, &out, NULL), VT_OK);
    assert_string_equal((char *)out.data, want);
    vt_buf_release(&out);
    json_decref(v);
}

/* depth nested arrays around a number: "[[...[1]...]]". Free with free(). */
static char *nested(size_t depth, char open, char close)
{
    char *s = malloc(2 * depth * 8 + 2);
    assert_non_null(s);
    size_t n = 0;
    for (size_t i = 0; i < depth; i++) {
        if (open == '{') {
            memcpy(s + n, "{\"k\":", 5);
            n += 5;
        } else {
            s[n++] = open;
        }
    }
    s[n++] = '1';
    for (size_t i = 0; i < depth; i++)
        s[n++] = close;
    s[n] = '\0';
    return s;
}

static void test_size_cap(void **state)
{
    (void)state;
    json_t *v;
    struct vt_error err;
    const char *text = "[1,2,3]";
    assert_int_equal(vt_json_parse(text, 7, 7, 8, &v, &err), VT_OK);
    json_decref(v);
    assert_int_equal(vt_json_parse(text, 7, 6, 8, &v, &err), VT_ERR_TOO_LARGE);
    assert_null(v);
    assert_non_null(strstr(err.msg, "7 bytes"));
    assert_non_null(strstr(err.msg, "cap 6"));
}

static void test_depth_cap_at_and_past(void **state)
{
    (void)state;
    json_t *v;
    struct vt_error err;
    for (int kind = 0; kind < 2; kind++) {
        char open = kind == 0 ? '[' : '{';
        char close = kind == 0 ? ']' : '}';
        char *at = nested(VT_JSON_MAX_DEPTH, open, close);
        assert_int_equal(parse(at, &v, &err), VT_OK);
        json_decref(v);
        free(at);

        char *past = nested(VT_JSON_MAX_DEPTH + 1, open, close);
        assert_int_equal(parse(past, &v, &err), VT_ERR_TOO_DEEP);
        assert_null(v);
        size_t where = kind == 0 ? VT_JSON_MAX_DEPTH : 5 * VT_JSON_MAX_DEPTH;
        char want[64];
        snprintf(want, sizeof(want), "(byte %zu)", where);
        if (strstr(err.msg, want) == NULL || strstr(err.msg, "line 1, column") == NULL)
            fail_msg("message '%s' lacks '%s'", err.msg, want);
        free(past);
    }

    /* A scalar has depth 0. */
    assert_int_equal(vt_json_parse("1", 1, 10, 0, &v, &err), VT_OK);
    json_decref(v);
    assert_int_equal(vt_json_parse("[]", 2, 10, 0, &v, &err), VT_ERR_TOO_DEEP);
    assert_int_equal(vt_json_parse("[[]]", 4, 10, 1, &v, &err), VT_ERR_TOO_DEEP);
    assert_int_equal(vt_json_parse("[[],[],{}]", 10, 20, 2, &v, &err), VT_OK);
    json_decref(v);

    /* The reported line and column are those of the offending bracket. */
    const char *multi = "{\n  \"a\": [\n    [1]]}";
    assert_int_equal(vt_json_parse(multi, strlen(multi), 100, 2, &v, &err), VT_ERR_TOO_DEEP);
    assert_non_null(strstr(err.msg, "line 3, column 5 (byte 15)"));
}

static void test_depth_ignores_brackets_in_strings(void **state)
{
    (void)state;
    json_t *v;
    struct vt_error err;
    const char *text = "[\"[[[[{{{{\",\"\\\"[[[[\",\"\\\\\",[\"]]]]\"]]";
    assert_int_equal(vt_json_parse(text, strlen(text), 100, 2, &v, &err), VT_OK);
    assert_int_equal(json_array_size(v), 4);
    json_decref(v);
    /* After an escaped backslash the quote ends the string, so the next '[' counts. */
    const char *deep = "[\"\\\\\",[[]]]";
    assert_int_equal(vt_json_parse(deep, strlen(deep), 100, 2, &v, &err), VT_ERR_TOO_DEEP);
}

static void test_depth_beyond_jansson_limit(void **state)
{
    (void)state;
    json_t *v;
    struct vt_error err;
    char *text = nested(3000, '[', ']');
    assert_int_equal(vt_json_parse(text, strlen(text), MAX_LEN, 5000, &v, &err), VT_ERR_TOO_DEEP);
    assert_null(v);
    free(text);
}

static void test_duplicates(void **state)
{
    (void)state;
    check_rejected("{\"a\":1,\"a\":2}", VT_ERR_DUPLICATE, "duplicate member name");
    check_rejected("{\"a\":1,\"b\":{\"c\":1,\"c\":1}}", VT_ERR_DUPLICATE, "line 1, column");
    /* Same name written with an escape is still the same name. */
    check_rejected("{\"a\":1,\"\\u0061\":2}", VT_ERR_DUPLICATE, "duplicate");
    check_canonical("[{\"a\":1},{\"a\":2}]", "[{\"a\":1},{\"a\":2}]");
}

static void test_numbers_are_doubles(void **state)
{
    (void)state;
    json_t *v;
    struct vt_error err;
    check_canonical("9007199254740993", "9007199254740992");
    check_canonical("[-9007199254740993, 1.0, 1e-400]", "[-9007199254740992,1,0]");
    assert_int_equal(parse("99999999999999999999", &v, &err), VT_OK);
    assert_true(json_is_real(v));
    assert_true(json_real_value(v) == 1e20);
    json_decref(v);
    check_canonical("99999999999999999999", "100000000000000000000");
    assert_int_equal(parse("7", &v, &err), VT_OK);
    assert_true(json_is_real(v));
    assert_true(json_number_value(v) == 7.0);
    json_decref(v);

    check_rejected("1e400", VT_ERR_INVALID, "out of range");
    check_rejected("[-1e400]", VT_ERR_INVALID, "out of range");
    check_rejected("[1.7976931348623159e308]", VT_ERR_INVALID, "out of range");
    check_rejected("[NaN]", VT_ERR_INVALID, "invalid JSON");
    check_rejected("[Infinity]", VT_ERR_INVALID, "invalid JSON");
    check_rejected("[01]", VT_ERR_INVALID, "invalid JSON");
    check_rejected("[+1]", VT_ERR_INVALID, "invalid JSON");
}

static void test_strings(void **state)
{
    (void)state;
    check_rejected("[\"\\ud800\"]", VT_ERR_INVALID, "lone surrogate in JSON string");
    check_rejected("[\"\\udc00\"]", VT_ERR_INVALID, "invalid Unicode");
    check_rejected("[\"\\ud800x\"]", VT_ERR_INVALID, "line 1");
    check_rejected("[\"\\ud800\\u0041\"]", VT_ERR_INVALID, "invalid Unicode");
    check_rejected("[\"\\ude02\\ud83d\"]", VT_ERR_INVALID, "invalid Unicode");
    check_rejected("{\"\\ud800\":1}", VT_ERR_INVALID, "invalid Unicode");
    check_canonical("\"\\ud83d\\ude02\"", "\"\xf0\x9f\x98\x82\"");

    check_rejected("\"\xed\xa0\x80\"", VT_ERR_INVALID, "invalid UTF-8");
    check_rejected("\"\xc0\xaf\"", VT_ERR_INVALID, "invalid UTF-8");
    check_rejected("\"\xff\"", VT_ERR_INVALID, "invalid UTF-8");
    check_rejected("\"a\\u0000b\"", VT_ERR_INVALID, "U+0000");
    check_rejected("{\"a\\u0000\":1}", VT_ERR_INVALID, "U+0000");
    check_rejected("\"tab\there\"", VT_ERR_INVALID, "control character");

    json_t *v;
    struct vt_error err;
    const char nul_byte[] = "[1,\0 2]";
    assert_int_equal(vt_json_parse(nul_byte, sizeof(nul_byte) - 1, 100, 4, &v, &err),
                     VT_ERR_INVALID);
}

static void test_messages_name_line_and_column(void **state)
{
    (void)state;
    check_rejected("{\n  \"a\": 1,\n  \"b\": ]\n}", VT_ERR_INVALID, "line 3, column 8 (byte 20)");
    check_rejected("{\n\"x\": 1,\n\"x\": 2}", VT_ERR_DUPLICATE, "line 3");
    check_rejected("[1, 2", VT_ERR_INVALID, "truncated JSON");
    check_rejected("1 2", VT_ERR_INVALID, "end of file expected");
    check_rejected("", VT_ERR_INVALID, "line 1");
    check_rejected("   ", VT_ERR_INVALID, "line 1");

    json_t *v;
    struct vt_error err;
    assert_int_equal(vt_json_parse(NULL, 0, 10, 4, &v, &err), VT_ERR_INVALID);
    assert_null(v);
}

static void test_top_level_scalars_and_exact_length(void **state)
{
    (void)state;
    check_canonical("1", "1");
    check_canonical(" \"s\" ", "\"s\"");
    check_canonical("true", "true");
    check_canonical("false", "false");
    check_canonical("null", "null");
    check_canonical("-0.5", "-0.5");

    json_t *v;
    struct vt_error err;
    /* Only the first n bytes are the text. */
    assert_int_equal(vt_json_parse("[1]garbage", 3, 100, 4, &v, &err), VT_OK);
    assert_int_equal(json_array_size(v), 1);
    json_decref(v);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void test_read_file(void **state)
{
    (void)state;
    char path[] = "/tmp/vitae-test-json-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    json_t *v;
    struct vt_error err;

    write_file(path, "{\"b\": [1, 2], \"a\": \"x\"}\n");
    assert_int_equal(vt_json_read_file(path, 100, 4, &v, &err), VT_OK);
    assert_string_equal(vt_json_get_str(v, "a"), "x");
    json_decref(v);

    assert_int_equal(vt_json_read_file(path, 10, 4, &v, &err), VT_ERR_TOO_LARGE);
    assert_null(v);
    assert_int_equal(vt_json_read_file(path, 100, 1, &v, &err), VT_ERR_TOO_DEEP);
    assert_non_null(strstr(err.msg, path));

    write_file(path, "{\n\"a\": 1,\n\"a\": 2}");
    assert_int_equal(vt_json_read_file(path, 100, 4, &v, &err), VT_ERR_DUPLICATE);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "line 3"));

    unlink(path);
    assert_int_equal(vt_json_read_file(path, 100, 4, &v, &err), VT_ERR_NOT_FOUND);
    assert_null(v);
    assert_non_null(strstr(err.msg, path));
}

static void test_typed_getters(void **state)
{
    (void)state;
    json_t *v;
    struct vt_error err;
    assert_int_equal(
        parse("{\"s\":\"text\",\"o\":{\"x\":1},\"a\":[1],\"n\":null,\"i\":3}", &v, &err), VT_OK);
    assert_string_equal(vt_json_get_str(v, "s"), "text");
    assert_null(vt_json_get_str(v, "o"));
    assert_null(vt_json_get_str(v, "n"));
    assert_null(vt_json_get_str(v, "missing"));

    const json_t *o = vt_json_get_obj(v, "o");
    assert_non_null(o);
    assert_non_null(json_object_get(o, "x"));
    assert_null(vt_json_get_obj(v, "a"));
    assert_null(vt_json_get_obj(v, "s"));
    assert_null(vt_json_get_obj(v, "missing"));

    const json_t *a = vt_json_get_arr(v, "a");
    assert_non_null(a);
    assert_int_equal(json_array_size(a), 1);
    assert_null(vt_json_get_arr(v, "o"));
    assert_null(vt_json_get_arr(v, "i"));

    /* Not an object, or no object at all. */
    assert_null(vt_json_get_str(a, "s"));
    assert_null(vt_json_get_obj(NULL, "o"));
    assert_null(vt_json_get_arr(NULL, "a"));
    assert_null(vt_json_get_str(NULL, "s"));
    json_decref(v);
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_depth_cap_at_and_past),
        cmocka_unit_test(test_depth_ignores_brackets_in_strings),
        cmocka_unit_test(test_depth_beyond_jansson_limit),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_numbers_are_doubles),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_messages_name_line_and_column),
        cmocka_unit_test(test_top_level_scalars_and_exact_length),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_typed_getters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
