/* RFC 8785 canonical JSON writer. */
#include "core/core.h"
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const vector_names[] = {"arrays",  "french", "structures",
                                           "unicode", "values", "weird"};

/* Canonicalizes v into a fresh buffer and compares it with want (a C string). */
static void check_jcs(const json_t *v, const char *want)
{
    struct vt_buf out;
    struct vt_error err;
    vt_buf_init(&out, VT_BUF_DEFAULT_MAX);
    enum vt_status st = vt_jcs_write(v, &out, &err);
    if (st != VT_OK)
        fail_msg("vt_jcs_write failed: %s", err.msg);
    assert_string_equal((char *)out.data, want);
    assert_int_equal(out.len, strlen(want));
    vt_buf_release(&out);
}

static void check_text(const char *text, const char *want)
{
    json_t *v;
    struct vt_error err;
    if (vt_json_parse(text, strlen(text), 1 << 20, VT_JSON_MAX_DEPTH, &v, &err) != VT_OK)
        fail_msg("cannot parse '%s': %s", text, err.msg);
    check_jcs(v, want);
    json_decref(v);
}

static void test_rfc8785_vectors(void **state)
{
    (void)state;
    char *dir = vt_test_shared_path("vectors/jcs");
    if (dir == NULL) {
        printf("skipped: the RFC 8785 vectors need shared material 'vectors/jcs' "
               "(set VITAE_SHARED)\n");
        skip();
    }
    for (size_t i = 0; i < sizeof(vector_names) / sizeof(vector_names[0]); i++) {
        char path[4096];
        struct vt_error err;
        json_t *v;
        snprintf(path, sizeof(path), "%s/input/%s.json", dir, vector_names[i]);
        if (vt_json_read_file(path, VT_BUF_DEFAULT_MAX, VT_JSON_MAX_DEPTH, &v, &err) != VT_OK)
            fail_msg("%s", err.msg);

        struct vt_buf out;
        vt_buf_init(&out, VT_BUF_DEFAULT_MAX);
        assert_int_equal(vt_jcs_write(v, &out, &err), VT_OK);

        size_t want_len;
        snprintf(path, sizeof(path), "%s/output/%s.json", dir, vector_names[i]);
        char *want = vt_test_read_file(path, &want_len);
        assert_non_null(want);
        if (out.len != want_len || memcmp(out.data, want, want_len) != 0)
            fail_msg("%s: got '%s', want '%s'", vector_names[i], (char *)out.data, want);

        size_t hex_len;
        snprintf(path, sizeof(path), "%s/outhex/%s.txt", dir, vector_names[i]);
        char *hex = vt_test_read_file(path, NULL);
        assert_non_null(hex);
        uint8_t *bytes = vt_test_unhex(hex, &hex_len);
        assert_int_equal(out.len, hex_len);
        assert_memory_equal(out.data, bytes, hex_len);

        free(bytes);
        free(hex);
        free(want);
        vt_buf_release(&out);
        json_decref(v);
    }
    free(dir);
}

static void test_every_c0_control_and_specials(void **state)
{
    (void)state;
    char raw[40];
    size_t n = 0;
    for (int c = 0; c < 0x20; c++)
        raw[n++] = (char)c;
    raw[n++] = '"';
    raw[n++] = '\\';
    raw[n++] = '/';
    raw[n++] = 0x7f;
    json_t *v = json_stringn(raw, n);
    assert_non_null(v);
    check_jcs(v, "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
                 "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
                 "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
                 "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"
                 "\\\"\\\\/\x7f\"");
    json_decref(v);

    check_text("\"\\u00e9\\u20ac\\ud83d\\ude02 A\\u030a\"",
               "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x82 A\xcc\x8a\"");
    check_text("\"\\u001F\\u000B\"", "\"\\u001f\\u000b\"");
}

static void test_member_order_is_utf16(void **state)
{
    (void)state;
    /* French words: code unit order, not locale order. */
    check_text("{\"sin\":4,\"p\\u00eache\":3,\"p\\u00e9ch\\u00e9\":2,\"peach\":1}",
               "{\"peach\":1,\"p\xc3\xa9\x63h\xc3\xa9\":2,\"p\xc3\xaa\x63he\":3,\"sin\":4}");
    /* U+1F602 is D83D DE02 in UTF-16, so it sorts before U+FB33 (but after U+D7FF). */
    check_text("{\"\\ufb33\":1,\"\\ud83d\\ude02\":2,\"\\ud7ff\":3,\"\\ue000\":4}",
               "{\"\xed\x9f\xbf\":3,\"\xf0\x9f\x98\x82\":2,\"\xee\x80\x80\":4,"
               "\"\xef\xac\xb3\":1}");
    /* Supplementary characters keep code point order among themselves. */
    check_text("{\"\\udbff\\udfff\":1,\"\\ud800\\udc00\":2,\"\\ud83d\\ude02\":3}",
               "{\"\xf0\x90\x80\x80\":2,\"\xf0\x9f\x98\x82\":3,\"\xf4\x8f\xbf\xbf\":1}");
    /* A prefix sorts first; the empty name sorts before everything. */
    check_text("{\"ab\":1,\"a\":2,\"\":3,\"b\":4,\"B\":5,\"\\n\":6}",
               "{\"\":3,\"\\n\":6,\"B\":5,\"a\":2,\"ab\":1,\"b\":4}");
    /* Sorting uses the unescaped names. */
    check_text("{\"\\u0062\":1,\"a\":2}", "{\"a\":2,\"b\":1}");
}

static void test_numbers_and_integers(void **state)
{
    (void)state;
    check_text("[56.0,1E30,4.50,2e-3,0.000000000000000000000000001,-0,-0.0,1e-400]",
               "[56,1e+30,4.5,0.002,1e-27,0,0,0]");
    /* 99999999999999999999 reads as 1e20, which ES writes out in full (21 digits). */
    check_text("[9007199254740993,99999999999999999999,333333333.33333329]",
               "[9007199254740992,100000000000000000000,333333333.3333333]");

    json_t *a = json_array();
    json_array_append_new(a, json_integer(0));
    json_array_append_new(a, json_integer(-5));
    json_array_append_new(a, json_integer(9007199254740993));
    json_array_append_new(a, json_integer(INT64_MAX));
    json_array_append_new(a, json_integer(INT64_MIN));
    json_array_append_new(a, json_real(0.1));
    check_jcs(a, "[0,-5,9007199254740992,9223372036854776000,-9223372036854776000,0.1]");
    json_decref(a);
}

static void test_nested_structures_and_literals(void **state)
{
    (void)state;
    check_text(" { \"b\" : [ ] , \"a\" : { } , \"c\" : [ [ [ { \"z\" : null , \"y\" : [ true ,"
               " false ] } ] ] ] } ",
               "{\"a\":{},\"b\":[],\"c\":[[[{\"y\":[true,false],\"z\":null}]]]}");
    check_text("\"top\"", "\"top\"");
    check_text("null", "null");
    check_text("12.5", "12.5");
    check_text("[]", "[]");
    check_text("{}", "{}");
}

static void test_non_finite_cannot_be_written(void **state)
{
    (void)state;
    /* jansson refuses to hold NaN or infinities, so they cannot reach the writer, and the
     * number formatter has no form for them either. */
    assert_null(json_real(NAN));
    assert_null(json_real(INFINITY));
    json_t *r = json_real(1.0);
    assert_int_equal(json_real_set(r, -INFINITY), -1);
    check_jcs(r, "1");
    json_decref(r);
    char num[VT_JSON_NUMBER_MAX];
    assert_int_equal(vt_json_number(NAN, num), 0);
}

static void test_invalid_utf8_is_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"\xff", 1},
        {"a\x80", 2},
        {"\xc0\x80", 2},
        {"\xc3", 1},
        {"\xed\xa0\x80", 3},
        {"\xed\xbf\xbf", 3},
        {"\xf4\x90\x80\x80", 4},
        {"\xe0\x80\xaf", 3},
        {"\xf0\x8f\xbf\xbf", 4},
    };
    struct vt_buf out;
    struct vt_error err;
    vt_buf_init(&out, 1024);
    assert_int_equal(vt_buf_append_str(&out, "keep", NULL), VT_OK);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *s = json_stringn_nocheck(bad[i].bytes, bad[i].len);
        json_t *a = json_pack("[i,o]", 1, s);
        assert_int_equal(vt_jcs_write(a, &out, &err), VT_ERR_INVALID);
        assert_non_null(strstr(err.msg, "invalid UTF-8"));
        assert_string_equal((char *)out.data, "keep");
        json_decref(a);

        json_t *o = json_object();
        assert_int_equal(json_object_setn_new_nocheck(o, bad[i].bytes, bad[i].len, json_null()), 0);
        assert_int_equal(vt_jcs_write(o, &out, &err), VT_ERR_INVALID);
        assert_non_null(strstr(err.msg, "member name"));
        assert_string_equal((char *)out.data, "keep");
        json_decref(o);
    }
    vt_buf_release(&out);
}

static void test_nul_in_programmatic_strings(void **state)
{
    (void)state;
    json_t *o = json_object();
    assert_int_equal(json_object_setn_new(o, "a\0b", 3, json_stringn("x\0y", 3)), 0);
    assert_int_equal(json_object_set_new(o, "a", json_true()), 0);
    check_jcs(o, "{\"a\":true,\"a\\u0000b\":\"x\\u0000y\"}");
    json_decref(o);
}

static json_t *nest_arrays(size_t depth)
{
    json_t *v = json_array();
    for (size_t i = 1; i < depth; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, v);
        v = outer;
    }
    return v;
}

static void test_depth_cap_and_cycles(void **state)
{
    (void)state;
    struct vt_buf out;
    struct vt_error err;
    vt_buf_init(&out, VT_BUF_DEFAULT_MAX);

    json_t *ok = nest_arrays(1000);
    assert_int_equal(vt_jcs_write(ok, &out, &err), VT_OK);
    assert_int_equal(out.len, 2000);
    json_decref(ok);
    vt_buf_reset(&out);

    json_t *deep = nest_arrays(1001);
    assert_int_equal(vt_jcs_write(deep, &out, &err), VT_ERR_TOO_DEEP);
    assert_int_equal(out.len, 0);
    json_decref(deep);

    /* jansson only refuses direct self-insertion; a longer cycle hits the depth cap. */
    json_t *a = json_array();
    json_t *b = json_array();
    assert_int_equal(json_array_append(a, b), 0);
    assert_int_equal(json_array_append(b, a), 0);
    assert_int_equal(vt_jcs_write(a, &out, &err), VT_ERR_TOO_DEEP);
    json_array_clear(b);
    json_decref(b);
    json_decref(a);
    vt_buf_release(&out);
}

static void test_output_cap_leaves_buffer(void **state)
{
    (void)state;
    struct vt_buf out;
    struct vt_error err;
    vt_buf_init(&out, 10);
    assert_int_equal(vt_buf_append_str(&out, "ab", NULL), VT_OK);
    json_t *v = json_pack("{s:s}", "key", "a long value");
    assert_int_equal(vt_jcs_write(v, &out, &err), VT_ERR_TOO_LARGE);
    assert_string_equal((char *)out.data, "ab");
    json_decref(v);
    vt_buf_release(&out);
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8785_vectors),
        cmocka_unit_test(test_every_c0_control_and_specials),
        cmocka_unit_test(test_member_order_is_utf16),
        cmocka_unit_test(test_numbers_and_integers),
        cmocka_unit_test(test_nested_structures_and_literals),
        cmocka_unit_test(test_non_finite_cannot_be_written),
        cmocka_unit_test(test_invalid_utf8_is_rejected),
        cmocka_unit_test(test_nul_in_programmatic_strings),
        cmocka_unit_test(test_depth_cap_and_cycles),
        cmocka_unit_test(test_output_cap_leaves_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
