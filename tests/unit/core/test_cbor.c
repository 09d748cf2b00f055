/* Deterministic CBOR: RFC 8949 Appendix A, §4.2.1 ordering, every rejection class,
 * caps, truncation, mutation and a randomized encode/check/decode property. */
#include "core/core.h"
#include "test_support.h"

#include <ctype.h>
#include <inttypes.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
 * Helpers
 */

static char *to_hex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    s[2 * n] = '\0';
    return s;
}

/* The canonical spelling of a hex literal: no spaces, lower case. */
static char *norm_hex(const char *hex)
{
    size_t n;
    uint8_t *raw = vt_test_unhex(hex, &n);
    char *s = to_hex(raw, n);
    free(raw);
    return s;
}

static uint64_t bits_of(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof(b));
    return b;
}

static double from_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof(d));
    return d;
}

/* Encodes item, releases it, and compares the bytes with want_hex; the output must also
 * pass the reader. */
static void check_encodes(cbor_item_t *item, const char *want_hex)
{
    assert_non_null(item);
    struct vt_buf out;
    struct vt_error err;
    vt_buf_init(&out, VT_BUF_DEFAULT_MAX);
    enum vt_status st = vt_cbor_encode(item, &out, &err);
    if (st != VT_OK)
        fail_msg("encoding %s failed: %s", want_hex, err.msg);
    char *got = to_hex(out.data, out.len);
    char *want = norm_hex(want_hex);
    assert_string_equal(got, want);
    st = vt_cbor_check(out.data, out.len, VT_CBOR_MAX_DEPTH, &err);
    if (st != VT_OK)
        fail_msg("reader rejects our own %s: %s", got, err.msg);
    free(got);
    free(want);
    vt_buf_release(&out);
    cbor_decref(&item);
}

/* Checks and decodes hex, re-encodes the item, and returns it (caller releases). */
static cbor_item_t *round_trip(const char *hex)
{
    size_t n;
    uint8_t *bytes = vt_test_unhex(hex, &n);
    struct vt_error err;
    enum vt_status st = vt_cbor_check(bytes, n, VT_CBOR_MAX_DEPTH, &err);
    if (st != VT_OK)
        fail_msg("check rejects %s: %s", hex, err.msg);
    cbor_item_t *item = NULL;
    st = vt_cbor_decode(bytes, n, VT_CBOR_MAX_DEPTH, &item, &err);
    if (st != VT_OK)
        fail_msg("decode rejects %s: %s", hex, err.msg);
    assert_non_null(item);

    struct vt_buf out;
    vt_buf_init(&out, VT_BUF_DEFAULT_MAX);
    assert_int_equal(vt_cbor_encode(item, &out, &err), VT_OK);
    char *got = to_hex(out.data, out.len);
    char *want = norm_hex(hex);
    assert_string_equal(got, want);
    free(got);
    free(want);
    vt_buf_release(&out);
    free(bytes);
    return item;
}

static void check_round_trip_releases(const char *hex)
{
    cbor_item_t *item = round_trip(hex);
    cbor_decref(&item);
}

/* Both the checker and the decoder reject hex with want, naming "offset <offset>". */
static void check_rejects_depth(const char *hex, size_t max_depth, enum vt_status want,
                                size_t offset)
{
    size_t n;
    uint8_t *bytes = vt_test_unhex(hex, &n);
    struct vt_error err;
    vt_error_clear(&err);
    enum vt_status st = vt_cbor_check(bytes, n, max_depth, &err);
    if (st != want)
        fail_msg("check %s: got %s (%s), want %s", hex, vt_status_name(st), err.msg,
                 vt_status_name(want));
    char needle[48];
    snprintf(needle, sizeof(needle), "offset %zu", offset);
    const char *at = strstr(err.msg, needle);
    if (at == NULL || isdigit((unsigned char)at[strlen(needle)]))
        fail_msg("check %s: message '%s' does not name '%s'", hex, err.msg, needle);

    cbor_item_t *item = cbor_build_bool(true); /* must be replaced by NULL */
    cbor_item_t *sentinel = item;
    st = vt_cbor_decode(bytes, n, max_depth, &item, &err);
    if (st != want)
        fail_msg("decode %s: got %s (%s), want %s", hex, vt_status_name(st), err.msg,
                 vt_status_name(want));
    assert_null(item);
    cbor_decref(&sentinel);
    free(bytes);
}

static void check_rejects(const char *hex, enum vt_status want, size_t offset)
{
    check_rejects_depth(hex, VT_CBOR_MAX_DEPTH, want, offset);
}

static void check_accepts_depth(const char *hex, size_t max_depth)
{
    size_t n;
    uint8_t *bytes = vt_test_unhex(hex, &n);
    struct vt_error err;
    enum vt_status st = vt_cbor_check(bytes, n, max_depth, &err);
    if (st != VT_OK)
        fail_msg("check rejects %.40s...: %s", hex, err.msg);
    cbor_item_t *item = NULL;
    st = vt_cbor_decode(bytes, n, max_depth, &item, &err);
    if (st != VT_OK)
        fail_msg("decode rejects %.40s...: %s", hex, err.msg);
    cbor_decref(&item);
    free(bytes);
}

/* A hex string of count copies of unit followed by tail. */
static char *repeat_hex(const char *unit, size_t count, const char *tail)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * count + strlen(tail) + 1);
    assert_non_null(s);
    for (size_t i = 0; i < count; i++)
        memcpy(s + i * ul, unit, ul);
    strcpy(s + ul * count, tail);
    return s;
}

/* ---------------------------------------------------------------------------------------
 * RFC 8949 Appendix A
 */

struct appendix_valid {
    const char *hex;
    cbor_type type;
};

/* Every Appendix A example that is already in deterministic form. */
static const struct appendix_valid appendix_valid[] = {
    {"00", CBOR_TYPE_UINT},
    {"01", CBOR_TYPE_UINT},
    {"0a", CBOR_TYPE_UINT},
    {"17", CBOR_TYPE_UINT},
    {"1818", CBOR_TYPE_UINT},
    {"1819", CBOR_TYPE_UINT},
    {"1864", CBOR_TYPE_UINT},
    {"1903e8", CBOR_TYPE_UINT},
    {"1a000f4240", CBOR_TYPE_UINT},
    {"1b000000e8d4a51000", CBOR_TYPE_UINT},
    {"1bffffffffffffffff", CBOR_TYPE_UINT},
    {"c249010000000000000000", CBOR_TYPE_TAG},
    {"3bffffffffffffffff", CBOR_TYPE_NEGINT},
    {"c349010000000000000000", CBOR_TYPE_TAG},
    {"20", CBOR_TYPE_NEGINT},
    {"29", CBOR_TYPE_NEGINT},
    {"3863", CBOR_TYPE_NEGINT},
    {"3903e7", CBOR_TYPE_NEGINT},
    {"f90000", CBOR_TYPE_FLOAT_CTRL},
    {"f98000", CBOR_TYPE_FLOAT_CTRL},
    {"f93c00", CBOR_TYPE_FLOAT_CTRL},
    {"fb3ff199999999999a", CBOR_TYPE_FLOAT_CTRL},
    {"f93e00", CBOR_TYPE_FLOAT_CTRL},
    {"f97bff", CBOR_TYPE_FLOAT_CTRL},
    {"fa47c35000", CBOR_TYPE_FLOAT_CTRL},
    {"fa7f7fffff", CBOR_TYPE_FLOAT_CTRL},
    {"fb7e37e43c8800759c", CBOR_TYPE_FLOAT_CTRL},
    {"f90001", CBOR_TYPE_FLOAT_CTRL},
    {"f90400", CBOR_TYPE_FLOAT_CTRL},
    {"f9c400", CBOR_TYPE_FLOAT_CTRL},
    {"fbc010666666666666", CBOR_TYPE_FLOAT_CTRL},
    {"f97c00", CBOR_TYPE_FLOAT_CTRL},
    {"f97e00", CBOR_TYPE_FLOAT_CTRL},
    {"f9fc00", CBOR_TYPE_FLOAT_CTRL},
    {"f4", CBOR_TYPE_FLOAT_CTRL},
    {"f5", CBOR_TYPE_FLOAT_CTRL},
    {"f6", CBOR_TYPE_FLOAT_CTRL},
    {"f7", CBOR_TYPE_FLOAT_CTRL},
    {"f0", CBOR_TYPE_FLOAT_CTRL},
    {"f8ff", CBOR_TYPE_FLOAT_CTRL},
    {"c074323031332d30332d32315432303a30343a30305a", CBOR_TYPE_TAG},
    {"c11a514b67b0", CBOR_TYPE_TAG},
    {"c1fb41d452d9ec200000", CBOR_TYPE_TAG},
    {"d74401020304", CBOR_TYPE_TAG},
    {"d818456449455446", CBOR_TYPE_TAG},
    {"d82076687474703a2f2f7777772e6578616d706c652e636f6d", CBOR_TYPE_TAG},
    {"40", CBOR_TYPE_BYTESTRING},
    {"4401020304", CBOR_TYPE_BYTESTRING},
    {"60", CBOR_TYPE_STRING},
    {"6161", CBOR_TYPE_STRING},
    {"6449455446", CBOR_TYPE_STRING},
    {"62225c", CBOR_TYPE_STRING},
    {"62c3bc", CBOR_TYPE_STRING},
    {"63e6b0b4", CBOR_TYPE_STRING},
    {"64f0908591", CBOR_TYPE_STRING},
    {"80", CBOR_TYPE_ARRAY},
    {"83010203", CBOR_TYPE_ARRAY},
    {"8301820203820405", CBOR_TYPE_ARRAY},
    {"98190102030405060708090a0b0c0d0e0f101112131415161718181819", CBOR_TYPE_ARRAY},
    {"a0", CBOR_TYPE_MAP},
    {"a201020304", CBOR_TYPE_MAP},
    {"a26161016162820203", CBOR_TYPE_MAP},
    {"826161a161626163", CBOR_TYPE_ARRAY},
    {"a56161614161626142616361436164614461656145", CBOR_TYPE_MAP},
};

static void test_appendix_a_round_trips(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(appendix_valid) / sizeof(appendix_valid[0]); i++) {
        cbor_item_t *item = round_trip(appendix_valid[i].hex);
        if (cbor_typeof(item) != appendix_valid[i].type)
            fail_msg("%s decoded to type %d", appendix_valid[i].hex, (int)cbor_typeof(item));
        cbor_decref(&item);
    }
}

/* The decoded values, not just the bytes, are what Appendix A says. */
static void test_appendix_a_values(void **state)
{
    (void)state;
    static const struct {
        const char *hex;
        bool negative;
        uint64_t raw; /* a negative integer n is stored as -1 - n */
    } ints[] = {
        {"00", false, 0},
        {"17", false, 23},
        {"1818", false, 24},
        {"1903e8", false, 1000},
        {"1a000f4240", false, 1000000},
        {"1b000000e8d4a51000", false, 1000000000000},
        {"1bffffffffffffffff", false, UINT64_MAX},
        {"20", true, 0},
        {"3863", true, 99},
        {"3903e7", true, 999},
        {"3bffffffffffffffff", true, UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        cbor_item_t *item = round_trip(ints[i].hex);
        assert_int_equal(cbor_isa_negint(item), ints[i].negative);
        assert_true(cbor_get_int(item) == ints[i].raw);
        cbor_decref(&item);
    }

    static const struct {
        const char *hex;
        double value;
    } floats[] = {
        {"f90000", 0.0},
        {"f98000", -0.0},
        {"f93c00", 1.0},
        {"fb3ff199999999999a", 1.1},
        {"f93e00", 1.5},
        {"f97bff", 65504.0},
        {"fa47c35000", 100000.0},
        {"fa7f7fffff", 3.4028234663852886e+38},
        {"fb7e37e43c8800759c", 1.0e+300},
        {"f90001", 5.960464477539063e-8},
        {"f90400", 0.00006103515625},
        {"f9c400", -4.0},
        {"fbc010666666666666", -4.1},
        {"f97c00", INFINITY},
        {"f9fc00", -INFINITY},
    };
    for (size_t i = 0; i < sizeof(floats) / sizeof(floats[0]); i++) {
        cbor_item_t *item = round_trip(floats[i].hex);
        assert_true(cbor_is_float(item));
        if (bits_of(cbor_float_get_float(item)) != bits_of(floats[i].value))
            fail_msg("%s decoded to %.17g", floats[i].hex, cbor_float_get_float(item));
        cbor_decref(&item);
    }
    cbor_item_t *nan = round_trip("f97e00");
    assert_true(isnan(cbor_float_get_float(nan)));
    cbor_decref(&nan);

    cbor_item_t *s = round_trip("64f0908591");
    assert_int_equal(cbor_string_length(s), 4);
    assert_memory_equal(cbor_string_handle(s), "\xf0\x90\x85\x91", 4);
    cbor_decref(&s);

    cbor_item_t *m = round_trip("a26161016162820203");
    cbor_item_t *b = vt_cbor_map_get_str(m, "b");
    assert_non_null(b);
    assert_int_equal(cbor_array_size(b), 2);
    cbor_decref(&m);
}

/* Appendix A examples that are valid CBOR but not deterministic. */
static void test_appendix_a_rejected(void **state)
{
    (void)state;
    /* Indefinite lengths. */
    check_rejects("5f42010243030405ff", VT_ERR_NONCANONICAL, 0);
    check_rejects("7f657374726561646d696e67ff", VT_ERR_NONCANONICAL, 0);
    check_rejects("9fff", VT_ERR_NONCANONICAL, 0);
    check_rejects("9f018202039f0405ffff", VT_ERR_NONCANONICAL, 0);
    check_rejects("9f01820203820405ff", VT_ERR_NONCANONICAL, 0);
    check_rejects("83018202039f0405ff", VT_ERR_NONCANONICAL, 5);
    check_rejects("83019f0203ff820405", VT_ERR_NONCANONICAL, 2);
    check_rejects("9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff", VT_ERR_NONCANONICAL,
                  0);
    check_rejects("bf61610161629f0203ffff", VT_ERR_NONCANONICAL, 0);
    check_rejects("826161bf61626163ff", VT_ERR_NONCANONICAL, 3);
    check_rejects("bf6346756ef563416d7421ff", VT_ERR_NONCANONICAL, 0);
    check_rejects("5fff", VT_ERR_NONCANONICAL, 0);
    check_rejects("7fff", VT_ERR_NONCANONICAL, 0);
    check_rejects("bfff", VT_ERR_NONCANONICAL, 0);
    check_rejects("82 01 5f4101ff", VT_ERR_NONCANONICAL, 2);
    /* Infinities and NaN in longer forms than f97c00 / f97e00 / f9fc00. */
    check_rejects("fa7f800000", VT_ERR_NONCANONICAL, 0);
    check_rejects("fa7fc00000", VT_ERR_NONCANONICAL, 0);
    check_rejects("faff800000", VT_ERR_NONCANONICAL, 0);
    check_rejects("fb7ff0000000000000", VT_ERR_NONCANONICAL, 0);
    check_rejects("fb7ff8000000000000", VT_ERR_NONCANONICAL, 0);
    check_rejects("fbfff0000000000000", VT_ERR_NONCANONICAL, 0);
}

/* ---------------------------------------------------------------------------------------
 * Writer
 */

static cbor_item_t *build_array(size_t n, ...)
{
    cbor_item_t *a = cbor_new_definite_array(n);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        assert_true(cbor_array_push(a, cbor_move(va_arg(ap, cbor_item_t *))));
    va_end(ap);
    return a;
}

static cbor_item_t *build_bytes(const char *hex)
{
    size_t n;
    uint8_t *raw = vt_test_unhex(hex, &n);
    cbor_item_t *b = cbor_build_bytestring(raw, n);
    free(raw);
    return b;
}

static void test_encode_appendix_a_from_items(void **state)
{
    (void)state;
    check_encodes(cbor_build_uint64(0), "00");
    check_encodes(cbor_build_uint64(1), "01");
    check_encodes(cbor_build_uint32(10), "0a");
    check_encodes(cbor_build_uint64(23), "17");
    check_encodes(cbor_build_uint64(24), "1818");
    check_encodes(cbor_build_uint16(25), "1819");
    check_encodes(cbor_build_uint64(100), "1864");
    check_encodes(cbor_build_uint64(1000), "1903e8");
    check_encodes(cbor_build_uint64(1000000), "1a000f4240");
    check_encodes(cbor_build_uint64(1000000000000), "1b000000e8d4a51000");
    check_encodes(cbor_build_uint64(UINT64_MAX), "1bffffffffffffffff");
    check_encodes(cbor_build_negint64(0), "20");
    check_encodes(cbor_build_negint32(9), "29");
    check_encodes(cbor_build_negint64(99), "3863");
    check_encodes(cbor_build_negint64(999), "3903e7");
    check_encodes(cbor_build_negint64(UINT64_MAX), "3bffffffffffffffff");

    check_encodes(cbor_build_float8(0.0), "f90000");
    check_encodes(cbor_build_float8(-0.0), "f98000");
    check_encodes(cbor_build_float8(1.0), "f93c00");
    check_encodes(cbor_build_float8(1.1), "fb3ff199999999999a");
    check_encodes(cbor_build_float4(1.5f), "f93e00");
    check_encodes(cbor_build_float8(65504.0), "f97bff");
    check_encodes(cbor_build_float8(100000.0), "fa47c35000");
    check_encodes(cbor_build_float8(3.4028234663852886e+38), "fa7f7fffff");
    check_encodes(cbor_build_float8(1.0e+300), "fb7e37e43c8800759c");
    check_encodes(cbor_build_float8(5.960464477539063e-8), "f90001");
    check_encodes(cbor_build_float8(0.00006103515625), "f90400");
    check_encodes(cbor_build_float8(-4.0), "f9c400");
    check_encodes(cbor_build_float8(-4.1), "fbc010666666666666");
    check_encodes(cbor_build_float8(INFINITY), "f97c00");
    check_encodes(cbor_build_float8(NAN), "f97e00");
    check_encodes(cbor_build_float8(-INFINITY), "f9fc00");
    check_encodes(cbor_build_float4(INFINITY), "f97c00");
    check_encodes(cbor_build_float2(NAN), "f97e00");

    check_encodes(cbor_build_bool(false), "f4");
    check_encodes(cbor_build_bool(true), "f5");
    check_encodes(cbor_new_null(), "f6");
    check_encodes(cbor_new_undef(), "f7");
    check_encodes(cbor_build_ctrl(16), "f0");
    check_encodes(cbor_build_ctrl(255), "f8ff");

    check_encodes(cbor_build_tag(0, cbor_move(cbor_build_string("2013-03-21T20:04:00Z"))),
                  "c074323031332d30332d32315432303a30343a30305a");
    check_encodes(cbor_build_tag(1, cbor_move(cbor_build_uint64(1363896240))), "c11a514b67b0");
    check_encodes(cbor_build_tag(1, cbor_move(cbor_build_float8(1363896240.5))),
                  "c1fb41d452d9ec200000");
    check_encodes(cbor_build_tag(23, cbor_move(build_bytes("01020304"))), "d74401020304");
    check_encodes(cbor_build_tag(24, cbor_move(build_bytes("6449455446"))), "d818456449455446");
    check_encodes(cbor_build_tag(32, cbor_move(cbor_build_string("http://www.example.com"))),
                  "d82076687474703a2f2f7777772e6578616d706c652e636f6d");
    check_encodes(cbor_build_tag(2, cbor_move(build_bytes("010000000000000000"))),
                  "c249010000000000000000");

    check_encodes(build_bytes(""), "40");
    check_encodes(build_bytes("01020304"), "4401020304");
    check_encodes(cbor_build_string(""), "60");
    check_encodes(cbor_build_string("a"), "6161");
    check_encodes(cbor_build_string("IETF"), "6449455446");
    check_encodes(cbor_build_string("\"\\"), "62225c");
    check_encodes(cbor_build_string("\xc3\xbc"), "62c3bc");
    check_encodes(cbor_build_string("\xe6\xb0\xb4"), "63e6b0b4");
    check_encodes(cbor_build_string("\xf0\x90\x85\x91"), "64f0908591");

    check_encodes(cbor_new_definite_array(0), "80");
    check_encodes(build_array(3, cbor_build_uint64(1), cbor_build_uint64(2), cbor_build_uint64(3)),
                  "83010203");
    check_encodes(build_array(3, cbor_build_uint8(1),
                              build_array(2, cbor_build_uint8(2), cbor_build_uint8(3)),
                              build_array(2, cbor_build_uint8(4), cbor_build_uint8(5))),
                  "8301820203820405");
    cbor_item_t *a25 = cbor_new_definite_array(25);
    for (uint64_t i = 1; i <= 25; i++)
        assert_true(cbor_array_push(a25, cbor_move(cbor_build_uint64(i))));
    check_encodes(a25, "98190102030405060708090a0b0c0d0e0f101112131415161718181819");

    check_encodes(cbor_new_definite_map(0), "a0");
    cbor_item_t *m = cbor_new_definite_map(2);
    vt_cbor_map_put(m, cbor_build_uint32(3), cbor_build_uint64(4));
    vt_cbor_map_put(m, cbor_build_uint16(1), cbor_build_uint64(2));
    check_encodes(m, "a201020304");
    m = cbor_new_definite_map(2);
    vt_cbor_map_put(m, cbor_build_string("b"),
                    build_array(2, cbor_build_uint8(2), cbor_build_uint8(3)));
    vt_cbor_map_put(m, cbor_build_string("a"), cbor_build_uint8(1));
    check_encodes(m, "a26161016162820203");
    m = cbor_new_definite_map(1);
    vt_cbor_map_put(m, cbor_build_string("b"), cbor_build_string("c"));
    check_encodes(build_array(2, cbor_build_string("a"), m), "826161a161626163");
    m = cbor_new_definite_map(5);
    static const char *const letters[] = {"e", "d", "c", "b", "a"};
    static const char *const upper[] = {"E", "D", "C", "B", "A"};
    for (size_t i = 0; i < 5; i++)
        vt_cbor_map_put(m, cbor_build_string(letters[i]), cbor_build_string(upper[i]));
    check_encodes(m, "a56161614161626142616361436164614461656145");
}

/* libcbor remembers the width an integer was built with; the encoding must not. */
static void test_encode_ignores_declared_widths(void **state)
{
    (void)state;
    check_encodes(cbor_build_uint64(5), "05");
    check_encodes(cbor_build_uint32(5), "05");
    check_encodes(cbor_build_uint16(5), "05");
    check_encodes(cbor_build_uint64(255), "18ff");
    check_encodes(cbor_build_uint64(256), "190100");
    check_encodes(cbor_build_uint64(65535), "19ffff");
    check_encodes(cbor_build_uint64(65536), "1a00010000");
    check_encodes(cbor_build_uint64(UINT32_MAX), "1affffffff");
    check_encodes(cbor_build_uint64((uint64_t)UINT32_MAX + 1), "1b0000000100000000");
    check_encodes(cbor_build_negint64(23), "37");
    check_encodes(cbor_build_negint64(24), "3818");
    check_encodes(cbor_build_negint16(255), "38ff");
    check_encodes(cbor_build_tag(UINT64_C(5), cbor_move(cbor_build_uint64(0))), "c500");
    check_encodes(cbor_build_tag(UINT64_C(1) << 32, cbor_move(cbor_new_null())),
                  "db0000000100000000f6");

    /* Floats: the shortest of half/single/double that keeps the value. */
    check_encodes(cbor_build_float8(1.5), "f93e00");
    check_encodes(cbor_build_float4(1.1f), "fa3f8ccccd");
    check_encodes(cbor_build_float2(1.1f), "fa3f8ccccd");
    check_encodes(cbor_build_float8(65520.0), "fa477ff000");
    check_encodes(cbor_build_float8(65536.0), "fa47800000");
    check_encodes(cbor_build_float8(ldexp(3, -24)), "f90003");
    check_encodes(cbor_build_float8(ldexp(1, -14) - ldexp(1, -24)), "f903ff");
    check_encodes(cbor_build_float8(ldexp(1, -25)), "fa33000000");
    check_encodes(cbor_build_float8(ldexp(1, -149)), "fa00000001");
    check_encodes(cbor_build_float8(ldexp(1, -150)), "fb3690000000000000");
    check_encodes(cbor_build_float8(FLT_MAX), "fa7f7fffff");
    check_encodes(cbor_build_float8(DBL_MAX), "fb7fefffffffffffff");
    check_encodes(cbor_build_float8(DBL_MIN), "fb0010000000000000");
    check_encodes(cbor_build_float8(from_bits(1)), "fb0000000000000001");
    check_encodes(cbor_build_float8(-ldexp(1, -24)), "f98001");
    /* Every NaN, whatever its sign and payload, is f97e00. */
    check_encodes(cbor_build_float8(from_bits(UINT64_C(0xfff8000000000001))), "f97e00");
    check_encodes(cbor_build_float8(from_bits(UINT64_C(0x7ff0000000000001))), "f97e00");
    check_encodes(cbor_build_float4(-NAN), "f97e00");
}

/* Indefinite-length items built in libcbor are written with definite lengths. */
static void test_encode_indefinite_items_as_definite(void **state)
{
    (void)state;
    cbor_item_t *bs = cbor_new_indefinite_bytestring();
    assert_true(cbor_bytestring_add_chunk(bs, cbor_move(build_bytes("0102"))));
    assert_true(cbor_bytestring_add_chunk(bs, cbor_move(build_bytes("030405"))));
    check_encodes(bs, "450102030405");

    cbor_item_t *ts = cbor_new_indefinite_string();
    assert_true(cbor_string_add_chunk(ts, cbor_move(cbor_build_string("strea"))));
    assert_true(cbor_string_add_chunk(ts, cbor_move(cbor_build_string("ming"))));
    check_encodes(ts, "6973747265616d696e67");

    /* A chunk boundary inside a character: only the joined text has to be UTF-8. */
    ts = cbor_new_indefinite_string();
    assert_true(cbor_string_add_chunk(ts, cbor_move(cbor_build_stringn("\xc3", 1))));
    assert_true(cbor_string_add_chunk(ts, cbor_move(cbor_build_stringn("\xbc", 1))));
    check_encodes(ts, "62c3bc");

    check_encodes(cbor_new_indefinite_string(), "60");
    check_encodes(cbor_new_indefinite_array(), "80");
    check_encodes(cbor_new_indefinite_map(), "a0");

    cbor_item_t *a = cbor_new_indefinite_array();
    assert_true(cbor_array_push(a, cbor_move(cbor_build_uint8(1))));
    cbor_item_t *inner = cbor_new_indefinite_array();
    assert_true(cbor_array_push(inner, cbor_move(cbor_build_uint8(4))));
    assert_true(cbor_array_push(inner, cbor_move(cbor_build_uint8(5))));
    assert_true(
        cbor_array_push(a, cbor_move(build_array(2, cbor_build_uint8(2), cbor_build_uint8(3)))));
    assert_true(cbor_array_push(a, cbor_move(inner)));
    check_encodes(a, "8301820203820405");

    cbor_item_t *m = cbor_new_indefinite_map();
    vt_cbor_map_put(m, cbor_build_string("Fun"), cbor_build_bool(true));
    vt_cbor_map_put(m, cbor_build_string("Amt"), cbor_build_negint8(1));
    check_encodes(m, "a263416d74216346756ef5");
}

/* RFC 8949 §4.2.1: keys sort by the bytes of their deterministic encodings. */
static void test_map_key_order(void **state)
{
    (void)state;
    const char *want = "a8 0a00 186401 2002 617a03 62616104 81186405 812006 f407";
    for (size_t rot = 0; rot < 8; rot++) {
        cbor_item_t *keys[8] = {
            cbor_build_uint64(10),
            cbor_build_uint32(100),
            cbor_build_negint64(0),
            cbor_build_string("z"),
            cbor_build_string("aa"),
            build_array(1, cbor_build_uint64(100)),
            build_array(1, cbor_build_negint8(0)),
            cbor_build_bool(false),
        };
        cbor_item_t *m = cbor_new_definite_map(8);
        /* Insert in reverse order, starting at a different key each time. */
        for (size_t i = 0; i < 8; i++) {
            size_t k = (rot + 8 - i) % 8;
            vt_cbor_map_put(m, keys[k], cbor_build_uint8((uint8_t)k));
        }
        check_encodes(m, want);
    }
    cbor_item_t *decoded = round_trip(want);
    assert_int_equal(cbor_map_size(decoded), 8);
    cbor_decref(&decoded);

    /* The same keys with two neighbours swapped. */
    check_rejects("a8 0a00 2002 186401 617a03 62616104 81186405 812006 f407", VT_ERR_NONCANONICAL,
                  5);
    check_rejects("a8 0a00 186401 2002 617a03 62616104 812006 81186405 f407", VT_ERR_NONCANONICAL,
                  18);
    /* Length-first order (RFC 7049 canonical) is not bytewise order: 24 < -1 here. */
    check_round_trip_releases("a2 1818 00 20 00");
    check_rejects("a2 20 00 1818 00", VT_ERR_NONCANONICAL, 3);
    check_rejects("a2 616201 616102", VT_ERR_NONCANONICAL, 4);
    check_rejects("a2 03 04 01 02", VT_ERR_NONCANONICAL, 3);
    check_rejects("a2 812000 81186400", VT_ERR_NONCANONICAL, 4);
}

static void check_encode_fails(cbor_item_t *item, enum vt_status want)
{
    struct vt_buf out;
    struct vt_error err;
    vt_error_clear(&err);
    vt_buf_init(&out, 1024);
    assert_int_equal(vt_buf_append_str(&out, "keep", NULL), VT_OK);
    enum vt_status st = vt_cbor_encode(item, &out, &err);
    if (st != want)
        fail_msg("encode: got %s (%s), want %s", vt_status_name(st), st == VT_OK ? "" : err.msg,
                 vt_status_name(want));
    assert_true(err.msg[0] != '\0');
    /* A failed encoding leaves the buffer as it was. */
    assert_int_equal(out.len, 4);
    assert_string_equal((char *)out.data, "keep");
    vt_buf_release(&out);
    cbor_decref(&item);
}

static void test_encode_errors(void **state)
{
    (void)state;
    cbor_item_t *m = cbor_new_definite_map(2);
    vt_cbor_map_put(m, cbor_build_uint8(1), cbor_build_uint8(0));
    vt_cbor_map_put(m, cbor_build_uint8(1), cbor_build_uint8(1));
    struct vt_buf out;
    struct vt_error err;
    vt_buf_init(&out, 64);
    assert_int_equal(vt_cbor_encode(m, &out, &err), VT_ERR_DUPLICATE);
    assert_string_equal(err.msg, "cannot encode map: duplicate key 01");
    vt_buf_release(&out);
    check_encode_fails(m, VT_ERR_DUPLICATE);

    /* Keys that differ only in libcbor's width are the same key. */
    m = cbor_new_definite_map(3);
    vt_cbor_map_put(m, cbor_build_uint64(7), cbor_build_uint8(0));
    vt_cbor_map_put(m, cbor_build_string("x"), cbor_build_uint8(0));
    vt_cbor_map_put(m, cbor_build_uint8(7), cbor_build_uint8(1));
    check_encode_fails(m, VT_ERR_DUPLICATE);

    /* A chunked key equals its definite spelling. */
    cbor_item_t *chunked = cbor_new_indefinite_string();
    assert_true(cbor_string_add_chunk(chunked, cbor_move(cbor_build_string("a"))));
    assert_true(cbor_string_add_chunk(chunked, cbor_move(cbor_build_string("b"))));
    m = cbor_new_definite_map(2);
    vt_cbor_map_put(m, chunked, cbor_new_null());
    vt_cbor_map_put(m, cbor_build_string("ab"), cbor_new_null());
    check_encode_fails(m, VT_ERR_DUPLICATE);

    /* A duplicate deep inside is found too. */
    m = cbor_new_definite_map(2);
    vt_cbor_map_put(m, build_array(1, cbor_build_uint8(1)), cbor_build_uint8(0));
    vt_cbor_map_put(m, build_array(1, cbor_build_uint64(1)), cbor_build_uint8(1));
    check_encode_fails(build_array(2, cbor_build_uint8(0), cbor_build_tag(9, cbor_move(m))),
                       VT_ERR_DUPLICATE);

    check_encode_fails(cbor_build_stringn("a\xff", 2), VT_ERR_INVALID);
    check_encode_fails(cbor_build_stringn("\xed\xa0\x80", 3), VT_ERR_INVALID);
    check_encode_fails(build_array(2, cbor_build_uint8(1), cbor_build_stringn("\xc0\xaf", 2)),
                       VT_ERR_INVALID);
    check_encode_fails(cbor_new_tag(5), VT_ERR_INVALID);
    check_encode_fails(cbor_build_ctrl(24), VT_ERR_INVALID);
    check_encode_fails(cbor_build_ctrl(31), VT_ERR_INVALID);

    /* The output cap. */
    struct vt_buf small;
    vt_buf_init(&small, 5);
    cbor_item_t *a = build_array(5, cbor_build_uint8(1), cbor_build_uint8(2), cbor_build_uint8(3),
                                 cbor_build_uint8(4), cbor_build_uint8(5));
    assert_int_equal(vt_cbor_encode(a, &small, NULL), VT_ERR_TOO_LARGE);
    assert_int_equal(small.len, 0);
    cbor_decref(&a);
    vt_buf_release(&small);
}

static cbor_item_t *nested_arrays(size_t depth)
{
    cbor_item_t *item = cbor_new_definite_array(0);
    for (size_t i = 1; i < depth; i++) {
        cbor_item_t *outer = cbor_new_definite_array(1);
        assert_true(cbor_array_push(outer, cbor_move(item)));
        item = outer;
    }
    return item;
}

static void test_encode_depth_ceiling(void **state)
{
    (void)state;
    cbor_item_t *ok = nested_arrays(256);
    struct vt_buf out;
    vt_buf_init(&out, 4096);
    assert_int_equal(vt_cbor_encode(ok, &out, NULL), VT_OK);
    assert_int_equal(out.len, 256);
    assert_int_equal(vt_cbor_check(out.data, out.len, SIZE_MAX, NULL), VT_OK);
    vt_buf_release(&out);
    cbor_decref(&ok);
    check_encode_fails(nested_arrays(257), VT_ERR_TOO_DEEP);
}

/* ---------------------------------------------------------------------------------------
 * Reader rejections, one class at a time
 */

static void test_reject_non_shortest_heads(void **state)
{
    (void)state;
    check_rejects("1817", VT_ERR_NONCANONICAL, 0);
    check_rejects("190017", VT_ERR_NONCANONICAL, 0);
    check_rejects("1900ff", VT_ERR_NONCANONICAL, 0);
    check_rejects("1a0000ffff", VT_ERR_NONCANONICAL, 0);
    check_rejects("1b00000000ffffffff", VT_ERR_NONCANONICAL, 0);
    check_rejects("3817", VT_ERR_NONCANONICAL, 0);
    check_rejects("3b00000000ffffffff", VT_ERR_NONCANONICAL, 0);
    check_rejects("580161", VT_ERR_NONCANONICAL, 0);
    check_rejects("780161", VT_ERR_NONCANONICAL, 0);
    check_rejects("790001"
                  "61",
                  VT_ERR_NONCANONICAL, 0);
    check_rejects("9800", VT_ERR_NONCANONICAL, 0);
    check_rejects("b800", VT_ERR_NONCANONICAL, 0);
    check_rejects("d81700", VT_ERR_NONCANONICAL, 0);
    check_rejects("db00000000ffffffff00", VT_ERR_NONCANONICAL, 0);
    check_rejects("83 01 02 1817", VT_ERR_NONCANONICAL, 3);
    check_rejects("a1 6161 1900ff", VT_ERR_NONCANONICAL, 3);

    size_t n;
    uint8_t *bytes = vt_test_unhex("83 01 02 1817", &n);
    struct vt_error err;
    assert_int_equal(vt_cbor_check(bytes, n, VT_CBOR_MAX_DEPTH, &err), VT_ERR_NONCANONICAL);
    assert_string_equal(err.msg, "non-shortest integer head at offset 3");
    free(bytes);

    /* The shortest forms right at each boundary are accepted. */
    check_round_trip_releases("17");
    check_round_trip_releases("1818");
    check_round_trip_releases("18ff");
    check_round_trip_releases("190100");
    check_round_trip_releases("19ffff");
    check_round_trip_releases("1a00010000");
    check_round_trip_releases("1affffffff");
    check_round_trip_releases("1b0000000100000000");
}

static void test_reject_reserved_and_break(void **state)
{
    (void)state;
    static const char *const reserved[] = {"1c", "1d", "1e", "3c", "5d", "7e",
                                           "9c", "bd", "de", "fc", "fd", "fe"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        check_rejects(reserved[i], VT_ERR_INVALID, 0);
    check_rejects("82 01 1c", VT_ERR_INVALID, 2);
    /* Additional information 31 where no indefinite form exists. */
    check_rejects("1f", VT_ERR_INVALID, 0);
    check_rejects("3f", VT_ERR_INVALID, 0);
    check_rejects("df", VT_ERR_INVALID, 0);
    check_rejects("ff", VT_ERR_INVALID, 0);
    check_rejects("82 01 ff", VT_ERR_INVALID, 2);
}

static void test_reject_floats_not_shortest(void **state)
{
    (void)state;
    check_rejects("fa3f800000", VT_ERR_NONCANONICAL, 0);         /* 1.0 */
    check_rejects("fb3ff0000000000000", VT_ERR_NONCANONICAL, 0); /* 1.0 */
    check_rejects("fb3ff8000000000000", VT_ERR_NONCANONICAL, 0); /* 1.5 */
    check_rejects("fb0000000000000000", VT_ERR_NONCANONICAL, 0); /* 0.0 */
    check_rejects("fb8000000000000000", VT_ERR_NONCANONICAL, 0); /* -0.0 */
    check_rejects("fa80000000", VT_ERR_NONCANONICAL, 0);         /* -0.0 */
    check_rejects("fa33800000", VT_ERR_NONCANONICAL, 0);         /* 2^-24, a half subnormal */
    check_rejects("fb3e70000000000000", VT_ERR_NONCANONICAL, 0); /* 2^-24 */
    check_rejects("fb36a0000000000000", VT_ERR_NONCANONICAL, 0); /* 2^-149, a single */
    check_rejects("fb47efffffe0000000", VT_ERR_NONCANONICAL, 0); /* FLT_MAX */
    check_rejects("fb40f86a0000000000", VT_ERR_NONCANONICAL, 0); /* 100000.0 */
    check_rejects("f97e01", VT_ERR_NONCANONICAL, 0);
    check_rejects("f97c01", VT_ERR_NONCANONICAL, 0);
    check_rejects("f9fe00", VT_ERR_NONCANONICAL, 0);
    check_rejects("f97fff", VT_ERR_NONCANONICAL, 0);
    check_rejects("fa7f800001", VT_ERR_NONCANONICAL, 0);
    check_rejects("fbfff8000000000000", VT_ERR_NONCANONICAL, 0);
    check_rejects("82 f93c00 fa3fc00000", VT_ERR_NONCANONICAL, 4);

    /* Right past each boundary the longer form is the shortest. */
    check_round_trip_releases("fa33000000");         /* 2^-25 */
    check_round_trip_releases("fa00000001");         /* 2^-149 */
    check_round_trip_releases("fb3690000000000000"); /* 2^-150 */
    check_round_trip_releases("fa477ff000");         /* 65520.0 */
    check_round_trip_releases("fa47800000");         /* 65536.0 */
    check_round_trip_releases("fb0000000000000001"); /* smallest subnormal double */
    check_round_trip_releases("f903ff");
    check_round_trip_releases("f98001");
}

/* Simple values 0-23 take one byte, 32-255 two; a two-byte form below 32 is not
 * well-formed (RFC 8949 §3.3). */
static void test_simple_values(void **state)
{
    (void)state;
    check_rejects("f800", VT_ERR_INVALID, 0);
    check_rejects("f814", VT_ERR_INVALID, 0); /* false, in a two-byte form */
    check_rejects("f818", VT_ERR_INVALID, 0);
    check_rejects("f81f", VT_ERR_INVALID, 0);
    check_rejects("82 f5 f817", VT_ERR_INVALID, 2);
    static const struct {
        const char *hex;
        uint8_t value;
    } ok[] = {{"e0", 0}, {"f3", 19}, {"f4", 20}, {"f7", 23}, {"f820", 32}, {"f8ff", 255}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        cbor_item_t *item = round_trip(ok[i].hex);
        assert_true(cbor_isa_float_ctrl(item) && cbor_float_ctrl_is_ctrl(item));
        assert_int_equal(cbor_ctrl_value(item), ok[i].value);
        cbor_decref(&item);
        check_encodes(cbor_build_ctrl(ok[i].value), ok[i].hex);
    }
    cbor_item_t *t = round_trip("f5");
    assert_true(cbor_is_bool(t) && cbor_get_bool(t));
    cbor_decref(&t);
    t = round_trip("f6");
    assert_true(cbor_is_null(t));
    cbor_decref(&t);
}

/* Every tag number in every head width, including the one-byte heads 6-20 (COSE uses
 * 16-18) that libcbor 0.8.0's own loader refuses. */
static void test_tags(void **state)
{
    (void)state;
    for (unsigned v = 0; v < 24; v++) {
        char hex[8];
        snprintf(hex, sizeof(hex), "%02x00", 0xc0 + v);
        cbor_item_t *item = round_trip(hex);
        assert_true(cbor_isa_tag(item));
        assert_int_equal(cbor_tag_value(item), v);
        cbor_decref(&item);
    }
    /* A COSE_Sign1 shape: 18([h'', {}, null, h'']). */
    cbor_item_t *cose = round_trip("d2 84 40 a0 f6 40");
    assert_int_equal(cbor_tag_value(cose), 18);
    cbor_decref(&cose);
    check_round_trip_releases("d818 00");
    check_round_trip_releases("d8ff 00");
    check_round_trip_releases("d90100 00");
    check_round_trip_releases("daffffffff 00");
    check_round_trip_releases("db0000000100000000 00");
    check_round_trip_releases("dbffffffffffffffff 00");
    check_round_trip_releases("c1 c2 c3 40");
}

static void test_reject_map_keys(void **state)
{
    (void)state;
    check_rejects("a2 0101 0102", VT_ERR_DUPLICATE, 3);
    check_rejects("a2 6161f6 6161f5", VT_ERR_DUPLICATE, 4);
    check_rejects("a2 810100 810100", VT_ERR_DUPLICATE, 4);
    check_rejects("81 a2 0101 0102", VT_ERR_DUPLICATE, 4);
    /* Order is checked per map: an inner map starts afresh. */
    check_round_trip_releases("a2 01 a1 0000 02 a1 0000");
    check_rejects("a2 01 a2 0100 0000 02 00", VT_ERR_NONCANONICAL, 5);
    /* A key that is itself a map: the whole encoded key is compared. */
    check_round_trip_releases("a2 a10100 00 a10101 00");
    check_rejects("a2 a10101 00 a10100 00", VT_ERR_NONCANONICAL, 5);
    check_rejects("a2 a10101 00 a10101 00", VT_ERR_DUPLICATE, 5);
}

static void test_reject_truncated(void **state)
{
    (void)state;
    check_rejects("", VT_ERR_TRUNCATED, 0);
    check_rejects("18", VT_ERR_TRUNCATED, 0);
    check_rejects("1901", VT_ERR_TRUNCATED, 0);
    check_rejects("1a000102", VT_ERR_TRUNCATED, 0);
    check_rejects("1b00", VT_ERR_TRUNCATED, 0);
    check_rejects("6261", VT_ERR_TRUNCATED, 0);
    check_rejects("4401", VT_ERR_TRUNCATED, 0);
    check_rejects("8201", VT_ERR_TRUNCATED, 0);
    check_rejects("a101", VT_ERR_TRUNCATED, 0);
    check_rejects("c1", VT_ERR_TRUNCATED, 1);
    check_rejects("f9", VT_ERR_TRUNCATED, 0);
    check_rejects("fa0000", VT_ERR_TRUNCATED, 0);
    check_rejects("fb00", VT_ERR_TRUNCATED, 0);
    check_rejects("f8", VT_ERR_TRUNCATED, 0);
    check_rejects("82 01 81", VT_ERR_TRUNCATED, 2);
    check_rejects("82 8101", VT_ERR_TRUNCATED, 3);
    check_rejects("a1 01 62 61", VT_ERR_TRUNCATED, 2);
}

/* Declared lengths and counts are bounded by the input before anything allocates: a count
 * that reached the item builder would ask libcbor for a huge allocation and abort. */
static void test_reject_huge_declared_lengths(void **state)
{
    (void)state;
    check_rejects("9bffffffffffffffff", VT_ERR_TRUNCATED, 0);
    check_rejects("bbffffffffffffffff", VT_ERR_TRUNCATED, 0);
    check_rejects("5bffffffffffffffff", VT_ERR_TRUNCATED, 0);
    check_rejects("7bffffffffffffffff", VT_ERR_TRUNCATED, 0);
    check_rejects("9b1000000000000000 00", VT_ERR_TRUNCATED, 0);
    check_rejects("9affffffff 00", VT_ERR_TRUNCATED, 0);
    check_rejects("81 9a00010000 00", VT_ERR_TRUNCATED, 1);
    /* N items need N bytes, N map entries 2N bytes: one short is rejected. */
    check_rejects("83 0000", VT_ERR_TRUNCATED, 0);
    check_rejects("a2 000000", VT_ERR_TRUNCATED, 0);
    check_round_trip_releases("83 000000");
    check_round_trip_releases("a2 0000 0100");
}

static void test_reject_invalid_utf8(void **state)
{
    (void)state;
    check_rejects("61 ff", VT_ERR_INVALID, 1);
    check_rejects("61 80", VT_ERR_INVALID, 1);
    check_rejects("62 c0af", VT_ERR_INVALID, 1);       /* overlong '/' */
    check_rejects("62 c1bf", VT_ERR_INVALID, 1);       /* overlong */
    check_rejects("63 e08080", VT_ERR_INVALID, 1);     /* overlong NUL */
    check_rejects("64 f0808080", VT_ERR_INVALID, 1);   /* overlong NUL */
    check_rejects("63 eda080", VT_ERR_INVALID, 1);     /* surrogate U+D800 */
    check_rejects("63 edbfbf", VT_ERR_INVALID, 1);     /* surrogate U+DFFF */
    check_rejects("64 f4900000", VT_ERR_INVALID, 1);   /* above U+10FFFF */
    check_rejects("65 f888808080", VT_ERR_INVALID, 1); /* five-byte form */
    check_rejects("62 c328", VT_ERR_INVALID, 1);       /* missing continuation */
    check_rejects("63 61 62 c3", VT_ERR_INVALID, 3);   /* cut at the end */
    check_rejects("a1 62c328 00", VT_ERR_INVALID, 2);  /* in a key */
    check_rejects("82 6161 6380e6b0", VT_ERR_INVALID, 4);
    /* The edges of the valid ranges. */
    check_round_trip_releases("62 c280");
    check_round_trip_releases("62 dfbf");
    check_round_trip_releases("63 e0a080");
    check_round_trip_releases("63 ed9fbf");
    check_round_trip_releases("63 ee8080");
    check_round_trip_releases("63 efbfbf");
    check_round_trip_releases("64 f0908080");
    check_round_trip_releases("64 f48fbfbf");
    check_round_trip_releases("61 00");
    /* Byte strings are not text. */
    check_round_trip_releases("42 c0af");
}

static void test_reject_trailing_bytes(void **state)
{
    (void)state;
    check_rejects("00 00", VT_ERR_INVALID, 1);
    check_rejects("80 01", VT_ERR_INVALID, 1);
    check_rejects("f6 f6", VT_ERR_INVALID, 1);
    check_rejects("a0 ff", VT_ERR_INVALID, 1);
    check_rejects("82 0102 03", VT_ERR_INVALID, 3);
}

static void test_depth_cap(void **state)
{
    (void)state;
    /* 32 nested arrays pass a cap of 32, 33 do not. */
    char *ok = repeat_hex("81", 31, "80");
    check_accepts_depth(ok, 32);
    free(ok);
    char *deep = repeat_hex("81", 32, "80");
    check_rejects_depth(deep, 32, VT_ERR_TOO_DEEP, 32);
    free(deep);
    deep = repeat_hex("81", 40, "00");
    check_rejects_depth(deep, 32, VT_ERR_TOO_DEEP, 32);
    free(deep);

    /* Tags and maps nest too. */
    char *tags = repeat_hex("c1", 32, "00");
    check_accepts_depth(tags, 32);
    free(tags);
    tags = repeat_hex("c1", 33, "00");
    check_rejects_depth(tags, 32, VT_ERR_TOO_DEEP, 32);
    free(tags);
    char *maps = repeat_hex("a100", 33, "00");
    check_rejects_depth(maps, 32, VT_ERR_TOO_DEEP, 64);
    free(maps);

    check_accepts_depth("00", 0);
    check_rejects_depth("80", 0, VT_ERR_TOO_DEEP, 0);
    check_rejects_depth("c100", 0, VT_ERR_TOO_DEEP, 0);
    check_accepts_depth("8180", 2);
    check_rejects_depth("8180", 1, VT_ERR_TOO_DEEP, 1);

    /* Whatever max_depth says, nesting stops at 256. */
    char *ceiling = repeat_hex("81", 255, "80");
    check_accepts_depth(ceiling, SIZE_MAX);
    free(ceiling);
    ceiling = repeat_hex("81", 256, "80");
    check_rejects_depth(ceiling, SIZE_MAX, VT_ERR_TOO_DEEP, 256);
    free(ceiling);
}

/* A document with every major type, nested, used by the prefix and mutation tests. */
static void build_document(struct vt_buf *out)
{
    cbor_item_t *doc = cbor_new_definite_map(5);
    vt_cbor_map_put(doc, cbor_build_string("a"),
                    build_array(5, cbor_build_uint64(1), cbor_build_negint16(999),
                                cbor_build_float8(1.1), build_bytes("01020304"),
                                cbor_build_string("\xc3\xbc\xe6\xb0\xb4")));
    cbor_item_t *inner = cbor_new_definite_map(2);
    vt_cbor_map_put(inner, cbor_build_uint8(1), cbor_build_bool(true));
    vt_cbor_map_put(inner, cbor_build_string("c"), cbor_new_null());
    vt_cbor_map_put(doc, cbor_build_string("b"), inner);
    vt_cbor_map_put(doc, cbor_build_string("d"),
                    cbor_build_tag(1, cbor_move(cbor_build_uint64(1363896240))));
    vt_cbor_map_put(doc, cbor_build_string("e"),
                    build_array(3, cbor_build_float8(65504.0), cbor_build_float8(100000.0),
                                cbor_build_float8(-INFINITY)));
    vt_cbor_map_put(doc, cbor_build_uint64(1000000),
                    cbor_build_string("a longer text value, over twenty-three bytes"));
    vt_buf_init(out, 4096);
    assert_int_equal(vt_cbor_encode(doc, out, NULL), VT_OK);
    cbor_decref(&doc);
}

static void test_every_prefix_is_truncated(void **state)
{
    (void)state;
    struct vt_buf doc;
    build_document(&doc);
    assert_true(doc.len > 80);
    assert_int_equal(vt_cbor_check(doc.data, doc.len, VT_CBOR_MAX_DEPTH, NULL), VT_OK);
    for (size_t len = 0; len < doc.len; len++) {
        /* A copy of exactly len bytes, so that the sanitizer sees any read past the end. */
        uint8_t *prefix = vt_memdup(doc.data, len);
        struct vt_error err;
        enum vt_status st = vt_cbor_check(prefix, len, VT_CBOR_MAX_DEPTH, &err);
        if (st != VT_ERR_TRUNCATED)
            fail_msg("prefix of %zu bytes: got %s", len, vt_status_name(st));
        assert_non_null(strstr(err.msg, "offset"));
        cbor_item_t *item = NULL;
        assert_int_equal(vt_cbor_decode(prefix, len, VT_CBOR_MAX_DEPTH, &item, NULL),
                         VT_ERR_TRUNCATED);
        assert_null(item);
        free(prefix);
    }
    vt_buf_release(&doc);
}

/* Every single-byte change of a valid document: the checker and the decoder agree, never
 * crash, and whatever they accept re-encodes to itself. */
static void test_mutations_agree(void **state)
{
    (void)state;
    struct vt_buf doc;
    build_document(&doc);
    uint8_t *copy = vt_malloc(doc.len);
    size_t accepted = 0, rejected = 0;
    for (size_t i = 0; i < doc.len; i++) {
        for (unsigned v = 0; v < 256; v++) {
            memcpy(copy, doc.data, doc.len);
            copy[i] = (uint8_t)v;
            struct vt_error err;
            enum vt_status st = vt_cbor_check(copy, doc.len, VT_CBOR_MAX_DEPTH, &err);
            if (st != VT_OK)
                assert_non_null(strstr(err.msg, "offset"));
            cbor_item_t *item = NULL;
            enum vt_status st2 = vt_cbor_decode(copy, doc.len, VT_CBOR_MAX_DEPTH, &item, &err);
            if (st2 != st)
                fail_msg("byte %zu = %02x: check says %s, decode says %s (%s)", i, v,
                         vt_status_name(st), vt_status_name(st2), err.msg);
            if (st == VT_OK) {
                accepted++;
                assert_non_null(item);
                cbor_decref(&item);
            } else {
                rejected++;
                assert_null(item);
            }
        }
    }
    assert_true(accepted > doc.len);
    assert_true(rejected > doc.len);
    free(copy);
    vt_buf_release(&doc);
}

/* ---------------------------------------------------------------------------------------
 * Randomized property: trees built twice, with different libcbor widths, definite or
 * indefinite containers and map insertion orders, encode identically; the encoding
 * passes the checker, decodes, and re-encodes to the same bytes.
 */

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * UINT64_C(0x2545f4914f6cdd1d);
}

static uint64_t rng_below(struct rng *r, uint64_t n)
{
    return rng_next(r) % n;
}

struct gen_stats {
    size_t maps;
    size_t indefinite;
    size_t widened;
    size_t floats[3]; /* by encoded width: half, single, double */
    size_t nans;
};

static struct gen_stats stats;

/* Exact representability, decided with frexp/ldexp so that it shares nothing with the
 * bit manipulation in the implementation. prec counts the implicit bit. */
static bool oracle_fits(double d, int prec, int emin, int emax)
{
    if (d == 0 || isinf(d))
        return true;
    int e;
    frexp(d, &e); /* d = m * 2^e, 0.5 <= |m| < 1 */
    if (e - 1 > emax)
        return false;
    int scale = e - 1 >= emin ? prec - e : prec - 1 - emin;
    double x = ldexp(d, scale);
    return x == (double)(int64_t)x; /* |x| < 2^prec here */
}

static bool fits_half(double d)
{
    return oracle_fits(d, 11, -14, 15);
}

static bool fits_single(double d)
{
    return oracle_fits(d, 24, -126, 127);
}

static cbor_item_t *gen_int(uint64_t v, bool negative, struct rng *var)
{
    int min = v <= UINT8_MAX ? 0 : v <= UINT16_MAX ? 1 : v <= UINT32_MAX ? 2 : 3;
    int w = min + (int)rng_below(var, (uint64_t)(4 - min));
    if (w != min)
        stats.widened++;
    switch (w) {
    case 0:
        return negative ? cbor_build_negint8((uint8_t)v) : cbor_build_uint8((uint8_t)v);
    case 1:
        return negative ? cbor_build_negint16((uint16_t)v) : cbor_build_uint16((uint16_t)v);
    case 2:
        return negative ? cbor_build_negint32((uint32_t)v) : cbor_build_uint32((uint32_t)v);
    default:
        return negative ? cbor_build_negint64(v) : cbor_build_uint64(v);
    }
}

static uint64_t gen_magnitude(struct rng *val)
{
    return rng_next(val) >> rng_below(val, 64);
}

static double gen_double(struct rng *val)
{
    static const double specials[] = {0.0,     -0.0,    1.1,     65504.0, 65520.0,
                                      FLT_MAX, DBL_MAX, DBL_MIN, 1e300,   -4.1};
    switch (rng_below(val, 7)) {
    case 0:
        return from_bits(rng_next(val));
    case 1: {
        uint32_t b = (uint32_t)rng_next(val);
        float f;
        memcpy(&f, &b, sizeof(f));
        return f;
    }
    case 2: {
        /* Any binary16 value, built arithmetically. */
        unsigned h = (unsigned)rng_below(val, 65536);
        int exp = (int)(h >> 10 & 31);
        double m = h & 1023;
        double d = exp == 0   ? ldexp(m, -24)
                   : exp < 31 ? ldexp(m + 1024, exp - 25)
                   : m == 0   ? INFINITY
                              : NAN;
        return h & 0x8000 ? -d : d;
    }
    case 3:
        return specials[rng_below(val, sizeof(specials) / sizeof(specials[0]))];
    case 4:
        return (double)(int64_t)rng_next(val) / (double)(1 << rng_below(val, 20));
    case 5: {
        /* Doubles with few significant bits: near the single/half boundaries. */
        uint64_t b = rng_next(val) & ~((UINT64_C(1) << (40 + rng_below(val, 13))) - 1);
        return from_bits(b);
    }
    default:
        return rng_below(val, 2) ? NAN : -INFINITY;
    }
}

static cbor_item_t *gen_float(struct rng *val, struct rng *var)
{
    double d = gen_double(val);
    if (isnan(d)) {
        stats.nans++;
        switch (rng_below(var, 3)) {
        case 0:
            return cbor_build_float2(NAN);
        case 1:
            return cbor_build_float4(NAN);
        default:
            return cbor_build_float8(d);
        }
    }
    stats.floats[fits_half(d) ? 0 : fits_single(d) ? 1 : 2]++;
    uint64_t choice = rng_below(var, 3);
    if (choice == 0 && fits_half(d))
        return cbor_build_float2((float)d);
    if (choice <= 1 && fits_single(d))
        return cbor_build_float4((float)d);
    return cbor_build_float8(d);
}

/* Up to max_len bytes of text in every UTF-8 length class. */
static size_t gen_text(struct rng *val, uint8_t *p, size_t max_len)
{
    size_t n = 0;
    size_t chars = rng_below(val, 12);
    for (size_t i = 0; i < chars && n + 4 <= max_len; i++) {
        uint32_t cp;
        switch (rng_below(val, 4)) {
        case 0:
            cp = 0x20 + (uint32_t)rng_below(val, 0x5f);
            break;
        case 1:
            cp = 0x80 + (uint32_t)rng_below(val, 0x780);
            break;
        case 2:
            cp = 0x800 + (uint32_t)rng_below(val, 0xf800 - 0x800);
            if (cp >= 0xd800)
                cp += 0x800; /* skip the surrogates */
            break;
        default:
            cp = 0x10000 + (uint32_t)rng_below(val, 0x100000);
            break;
        }
        if (cp < 0x80) {
            p[n++] = (uint8_t)cp;
        } else if (cp < 0x800) {
            p[n++] = (uint8_t)(0xc0 | cp >> 6);
            p[n++] = (uint8_t)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            p[n++] = (uint8_t)(0xe0 | cp >> 12);
            p[n++] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
            p[n++] = (uint8_t)(0x80 | (cp & 0x3f));
        } else {
            p[n++] = (uint8_t)(0xf0 | cp >> 18);
            p[n++] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
            p[n++] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
            p[n++] = (uint8_t)(0x80 | (cp & 0x3f));
        }
    }
    return n;
}

/* A byte or text string, definite or split into chunks at arbitrary byte offsets. */
static cbor_item_t *gen_string(struct rng *val, struct rng *var, bool text)
{
    uint8_t buf[64];
    size_t n;
    if (text) {
        n = gen_text(val, buf, sizeof(buf));
    } else {
        n = rng_below(val, 40);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)rng_next(val);
    }
    if (rng_below(var, 2) == 0)
        return text ? cbor_build_stringn((const char *)buf, n) : cbor_build_bytestring(buf, n);

    stats.indefinite++;
    cbor_item_t *s = text ? cbor_new_indefinite_string() : cbor_new_indefinite_bytestring();
    size_t at = 0;
    while (at < n) {
        size_t k = 1 + rng_below(var, n - at);
        cbor_item_t *chunk = text ? cbor_build_stringn((const char *)buf + at, k)
                                  : cbor_build_bytestring(buf + at, k);
        bool ok = text ? cbor_string_add_chunk(s, cbor_move(chunk))
                       : cbor_bytestring_add_chunk(s, cbor_move(chunk));
        assert_true(ok);
        at += k;
    }
    return s;
}

static cbor_item_t *gen_item(struct rng *val, struct rng *var, int depth);

/* Keys of distinct shapes per position j, so a map never holds a duplicate. */
static cbor_item_t *gen_key(struct rng *val, struct rng *var, size_t j)
{
    char text[32];
    uint64_t r = rng_below(val, 16);
    switch (rng_below(val, 4)) {
    case 0:
        return gen_int(j * 16 + r, false, var);
    case 1:
        return gen_int(j * 16 + r, true, var);
    case 2:
        snprintf(text, sizeof(text), "k%zu-%u", j, (unsigned)r);
        return cbor_build_string(text);
    default: {
        cbor_item_t *a = cbor_new_definite_array(2);
        assert_true(cbor_array_push(a, cbor_move(gen_int(j, false, var))));
        assert_true(cbor_array_push(a, cbor_move(gen_int(r, true, var))));
        return a;
    }
    }
}

static cbor_item_t *gen_map(struct rng *val, struct rng *var, int depth)
{
    cbor_item_t *keys[6], *values[6];
    size_t order[6];
    size_t n = rng_below(val, 7);
    for (size_t j = 0; j < n; j++) {
        keys[j] = gen_key(val, var, j);
        values[j] = gen_item(val, var, depth + 1);
        order[j] = j;
    }
    for (size_t j = n; j > 1; j--) {
        size_t k = rng_below(var, j);
        size_t t = order[j - 1];
        order[j - 1] = order[k];
        order[k] = t;
    }
    bool definite = rng_below(var, 2) == 0;
    if (!definite)
        stats.indefinite++;
    stats.maps += n >= 2;
    cbor_item_t *m = definite ? cbor_new_definite_map(n) : cbor_new_indefinite_map();
    for (size_t j = 0; j < n; j++)
        vt_cbor_map_put(m, keys[order[j]], values[order[j]]);
    return m;
}

static cbor_item_t *gen_item(struct rng *val, struct rng *var, int depth)
{
    uint64_t kinds = depth < 4 ? 9 : 6;
    switch (rng_below(val, kinds)) {
    case 0:
        return gen_int(gen_magnitude(val), false, var);
    case 1:
        return gen_int(gen_magnitude(val), true, var);
    case 2:
        return gen_string(val, var, rng_below(val, 2) == 0);
    case 3:
        return gen_float(val, var);
    case 4: {
        static const uint8_t simple[] = {20, 21, 22, 23};
        return cbor_build_ctrl(simple[rng_below(val, 4)]);
    }
    case 5:
        return gen_string(val, var, true);
    case 6: {
        size_t n = rng_below(val, 6);
        bool definite = rng_below(var, 2) == 0;
        if (!definite)
            stats.indefinite++;
        cbor_item_t *a = definite ? cbor_new_definite_array(n) : cbor_new_indefinite_array();
        for (size_t i = 0; i < n; i++)
            assert_true(cbor_array_push(a, cbor_move(gen_item(val, var, depth + 1))));
        return a;
    }
    case 7:
        return gen_map(val, var, depth);
    default: {
        uint64_t tag = gen_magnitude(val);
        return cbor_build_tag(tag, cbor_move(gen_item(val, var, depth + 1)));
    }
    }
}

static void encode_ok(const cbor_item_t *item, struct vt_buf *out)
{
    struct vt_error err;
    vt_buf_init(out, VT_BUF_DEFAULT_MAX);
    if (vt_cbor_encode(item, out, &err) != VT_OK)
        fail_msg("encode failed: %s", err.msg);
}

static void test_random_trees(void **state)
{
    (void)state;
    memset(&stats, 0, sizeof(stats));
    const uint64_t base = UINT64_C(0x9e3779b97f4a7c15);
    for (uint64_t i = 1; i <= 4000; i++) {
        struct rng val1 = {base * i}, val2 = {base * i};
        struct rng var1 = {i * 7919 + 1}, var2 = {i * 104729 + 3};
        cbor_item_t *a = gen_item(&val1, &var1, 0);
        cbor_item_t *b = gen_item(&val2, &var2, 0);
        struct vt_buf ea, eb, again;
        encode_ok(a, &ea);
        encode_ok(b, &eb);
        if (ea.len != eb.len || memcmp(ea.data, eb.data, ea.len) != 0) {
            char *ha = to_hex(ea.data, ea.len), *hb = to_hex(eb.data, eb.len);
            fail_msg("tree %" PRIu64 " encodes two ways:\n%s\n%s", i, ha, hb);
        }

        struct vt_error err;
        if (vt_cbor_check(ea.data, ea.len, VT_CBOR_MAX_DEPTH, &err) != VT_OK)
            fail_msg("tree %" PRIu64 ": check rejects our encoding: %s", i, err.msg);
        cbor_item_t *decoded = NULL;
        if (vt_cbor_decode(ea.data, ea.len, VT_CBOR_MAX_DEPTH, &decoded, &err) != VT_OK)
            fail_msg("tree %" PRIu64 ": decode rejects our encoding: %s", i, err.msg);
        encode_ok(decoded, &again);
        assert_int_equal(again.len, ea.len);
        assert_memory_equal(again.data, ea.data, ea.len);

        cbor_decref(&a);
        cbor_decref(&b);
        cbor_decref(&decoded);
        vt_buf_release(&ea);
        vt_buf_release(&eb);
        vt_buf_release(&again);
    }
    /* The generator really produced what the property is about. */
    assert_true(stats.maps > 200);
    assert_true(stats.indefinite > 500);
    assert_true(stats.widened > 500);
    assert_true(stats.floats[0] > 100 && stats.floats[1] > 100 && stats.floats[2] > 100);
    assert_true(stats.nans > 20);
}

/* Floats keep their exact value and take the width the independent oracle predicts. */
static void test_random_floats(void **state)
{
    (void)state;
    struct rng val = {UINT64_C(0x0123456789abcdef)};
    size_t widths[3] = {0, 0, 0};
    for (int i = 0; i < 20000; i++) {
        double d = gen_double(&val);
        cbor_item_t *item = cbor_build_float8(d);
        struct vt_buf out;
        encode_ok(item, &out);
        size_t want = isnan(d) || fits_half(d) ? 3 : fits_single(d) ? 5 : 9;
        if (out.len != want)
            fail_msg("%a encoded in %zu bytes, want %zu", d, out.len, want);
        widths[want == 3 ? 0 : want == 5 ? 1 : 2]++;
        cbor_item_t *back = NULL;
        struct vt_error err;
        if (vt_cbor_decode(out.data, out.len, 0, &back, &err) != VT_OK)
            fail_msg("%a: %s", d, err.msg);
        double got = cbor_float_get_float(back);
        if (isnan(d))
            assert_true(isnan(got));
        else if (bits_of(got) != bits_of(d))
            fail_msg("%a came back as %a", d, got);
        cbor_decref(&back);
        cbor_decref(&item);
        vt_buf_release(&out);
    }
    assert_true(widths[0] > 1000 && widths[1] > 1000 && widths[2] > 1000);
}

/* ---------------------------------------------------------------------------------------
 * Helpers
 */

static void test_map_get_and_get_uint(void **state)
{
    (void)state;
    cbor_item_t *m = round_trip("a3 01 6178 20 03 646e616d65 07");
    cbor_item_t *v = vt_cbor_map_get_uint(m, 1);
    assert_non_null(v);
    assert_true(cbor_isa_string(v));
    /* -1 is stored by libcbor as a negative integer with raw value 0: not key 0. */
    assert_null(vt_cbor_map_get_uint(m, 0));
    assert_null(vt_cbor_map_get_uint(m, 2));
    v = vt_cbor_map_get_str(m, "name");
    assert_non_null(v);
    uint64_t u = 0;
    assert_int_equal(vt_cbor_get_uint(v, &u, NULL), VT_OK);
    assert_int_equal(u, 7);
    assert_null(vt_cbor_map_get_str(m, "nam"));
    assert_null(vt_cbor_map_get_str(m, "names"));
    assert_null(vt_cbor_map_get_str(m, ""));
    assert_null(vt_cbor_map_get_str(v, "name")); /* not a map */
    assert_null(vt_cbor_map_get_uint(v, 1));
    cbor_decref(&m);

    m = round_trip("a1 60 01");
    assert_non_null(vt_cbor_map_get_str(m, ""));
    cbor_decref(&m);

    cbor_item_t *ints[] = {cbor_build_uint8(200), cbor_build_uint16(200), cbor_build_uint32(200),
                           cbor_build_uint64(200)};
    for (size_t i = 0; i < 4; i++) {
        u = 0;
        assert_int_equal(vt_cbor_get_uint(ints[i], &u, NULL), VT_OK);
        assert_int_equal(u, 200);
        cbor_decref(&ints[i]);
    }
    cbor_item_t *big = cbor_build_uint64(UINT64_MAX);
    assert_int_equal(vt_cbor_get_uint(big, &u, NULL), VT_OK);
    assert_true(u == UINT64_MAX);
    cbor_decref(&big);

    struct vt_error err;
    cbor_item_t *neg = cbor_build_negint8(0);
    assert_int_equal(vt_cbor_get_uint(neg, &u, &err), VT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "negative integer"));
    cbor_decref(&neg);
    cbor_item_t *f = cbor_build_float8(1.0);
    assert_int_equal(vt_cbor_get_uint(f, &u, &err), VT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "float"));
    cbor_decref(&f);
    assert_int_equal(vt_cbor_get_uint(NULL, &u, &err), VT_ERR_INVALID);
}

static void test_map_put_takes_references(void **state)
{
    (void)state;
    cbor_item_t *m = cbor_new_definite_map(1);
    cbor_item_t *key = cbor_build_string("k");
    cbor_item_t *value = cbor_build_uint8(1);
    cbor_incref(key);
    cbor_incref(value);
    vt_cbor_map_put(m, key, value);
    /* Ours plus the map's: the caller's reference passed to the map. */
    assert_int_equal(cbor_refcount(key), 2);
    assert_int_equal(cbor_refcount(value), 2);
    assert_ptr_equal(vt_cbor_map_get_str(m, "k"), value);
    cbor_decref(&m);
    assert_int_equal(cbor_refcount(key), 1);
    assert_int_equal(cbor_refcount(value), 1);
    cbor_decref(&key);
    cbor_decref(&value);
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appendix_a_round_trips),
        cmocka_unit_test(test_appendix_a_values),
        cmocka_unit_test(test_appendix_a_rejected),
        cmocka_unit_test(test_encode_appendix_a_from_items),
        cmocka_unit_test(test_encode_ignores_declared_widths),
        cmocka_unit_test(test_encode_indefinite_items_as_definite),
        cmocka_unit_test(test_map_key_order),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_encode_depth_ceiling),
        cmocka_unit_test(test_reject_non_shortest_heads),
        cmocka_unit_test(test_reject_reserved_and_break),
        cmocka_unit_test(test_reject_floats_not_shortest),
        cmocka_unit_test(test_simple_values),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_reject_map_keys),
        cmocka_unit_test(test_reject_truncated),
        cmocka_unit_test(test_reject_huge_declared_lengths),
        cmocka_unit_test(test_reject_invalid_utf8),
        cmocka_unit_test(test_reject_trailing_bytes),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_every_prefix_is_truncated),
        cmocka_unit_test(test_mutations_agree),
        cmocka_unit_test(test_random_trees),
        cmocka_unit_test(test_random_floats),
        cmocka_unit_test(test_map_get_and_get_uint),
        cmocka_unit_test(test_map_put_takes_references),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
