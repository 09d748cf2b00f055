/* Multibase ('z' and 'u') and multicodec varint prefixes. */
#include "core/core.h"
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ed_pk_hex[] = "b00d8d938e7f773d51565aad36a623f5344f7f5d1960f9cf3e8e12620ea2810f";

static void test_encode_decode(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 256);
    assert_int_equal(
        vt_multibase_encode(VT_MULTIBASE_BASE64URL, (const uint8_t *)"foobar", 6, &b, NULL), VT_OK);
    assert_string_equal((const char *)b.data, "uZm9vYmFy");
    vt_buf_reset(&b);
    assert_int_equal(
        vt_multibase_encode(VT_MULTIBASE_BASE58BTC, (const uint8_t *)"Hello World!", 12, &b, NULL),
        VT_OK);
    assert_string_equal((const char *)b.data, "z2NEpo7TZRRrLZSi2U");
    vt_buf_reset(&b);
    assert_int_equal(vt_multibase_encode(VT_MULTIBASE_BASE58BTC, NULL, 0, &b, NULL), VT_OK);
    assert_string_equal((const char *)b.data, "z");

    enum vt_multibase base = VT_MULTIBASE_BASE64URL;
    vt_buf_reset(&b);
    assert_int_equal(vt_multibase_decode("z2NEpo7TZRRrLZSi2U", 18, &base, &b, NULL), VT_OK);
    assert_int_equal(base, VT_MULTIBASE_BASE58BTC);
    assert_int_equal(b.len, 12);
    assert_memory_equal(b.data, "Hello World!", 12);
    vt_buf_reset(&b);
    assert_int_equal(vt_multibase_decode("uZm9vYmFy", 9, &base, &b, NULL), VT_OK);
    assert_int_equal(base, VT_MULTIBASE_BASE64URL);
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.data, "foobar", 6);
    vt_buf_reset(&b);
    assert_int_equal(vt_multibase_decode("u", 1, NULL, &b, NULL), VT_OK);
    assert_int_equal(b.len, 0);
    vt_buf_release(&b);
}

static void test_multikey_value(void **state)
{
    (void)state;
    size_t n;
    uint8_t *pk = vt_test_unhex(ed_pk_hex, &n);
    assert_int_equal(n, 32);
    struct vt_buf raw, text;
    vt_buf_init(&raw, 256);
    vt_buf_init(&text, 256);
    assert_int_equal(vt_multicodec_wrap(VT_MULTICODEC_ED25519_PUB, pk, n, &raw, NULL), VT_OK);
    assert_int_equal(vt_multibase_encode(VT_MULTIBASE_BASE58BTC, raw.data, raw.len, &text, NULL),
                     VT_OK);
    assert_string_equal((const char *)text.data,
                        "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2");
    vt_buf_reset(&raw);
    assert_int_equal(vt_multibase_decode((const char *)text.data, text.len, NULL, &raw, NULL),
                     VT_OK);
    const uint8_t *payload = NULL;
    assert_int_equal(
        vt_multicodec_unwrap(raw.data, raw.len, VT_MULTICODEC_ED25519_PUB, 32, &payload, NULL),
        VT_OK);
    assert_ptr_equal(payload, raw.data + 2);
    assert_memory_equal(payload, pk, 32);
    vt_buf_release(&raw);
    vt_buf_release(&text);
    free(pk);
}

static void expect_decode_reject(const char *s, size_t n, enum vt_status want, const char *msg_part)
{
    struct vt_buf b;
    vt_buf_init(&b, 256);
    assert_int_equal(vt_buf_append_str(&b, "keep", NULL), VT_OK);
    enum vt_multibase base = (enum vt_multibase)'?';
    struct vt_error err;
    vt_error_clear(&err);
    enum vt_status got = vt_multibase_decode(s, n, &base, &b, &err);
    if (got != want)
        fail_msg("'%s': got %s (%s)", s, vt_status_name(got), err.msg);
    if (strstr(err.msg, msg_part) == NULL)
        fail_msg("'%s': message '%s' does not contain '%s'", s, err.msg, msg_part);
    assert_int_equal(base, (enum vt_multibase)'?');
    assert_string_equal((const char *)b.data, "keep");
    assert_int_equal(vt_multibase_decode(s, n, NULL, &b, NULL), want);
    vt_buf_release(&b);
}

static void test_decode_rejections(void **state)
{
    (void)state;
    expect_decode_reject("", 0, VT_ERR_INVALID, "empty");
    /* Valid multibase prefixes we do not accept: base16, base64 padded, base32. */
    expect_decode_reject("f666f6f", 7, VT_ERR_UNSUPPORTED, "prefix 'f'");
    expect_decode_reject("mZm9v", 5, VT_ERR_UNSUPPORTED, "prefix 'm'");
    expect_decode_reject("bmzxw6", 6, VT_ERR_UNSUPPORTED, "prefix 'b'");
    expect_decode_reject("Z2g", 3, VT_ERR_UNSUPPORTED, "prefix 'Z'");
    expect_decode_reject("\x01"
                         "2g",
                         3, VT_ERR_UNSUPPORTED, "prefix 0x01");
    /* Offsets count from the start of the whole string, prefix included. */
    expect_decode_reject("z2g0", 4, VT_ERR_INVALID, "'0' at offset 3");
    expect_decode_reject("zl", 2, VT_ERR_INVALID, "'l' at offset 1");
    expect_decode_reject("uZg==", 5, VT_ERR_INVALID, "'=' at offset 3");
    expect_decode_reject("uZm+v", 5, VT_ERR_INVALID, "'+' at offset 3");
    expect_decode_reject("uZh", 3, VT_ERR_NONCANONICAL, "offset 2");
}

static void test_encode_failures(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 8);
    assert_int_equal(vt_buf_append_str(&b, "keep", NULL), VT_OK);
    struct vt_error err;
    assert_int_equal(vt_multibase_encode((enum vt_multibase)'f', (const uint8_t *)"a", 1, &b, &err),
                     VT_ERR_UNSUPPORTED);
    assert_string_equal((const char *)b.data, "keep");
    /* The prefix fits the cap but the encoding does not: nothing is left behind. */
    assert_int_equal(
        vt_multibase_encode(VT_MULTIBASE_BASE58BTC, (const uint8_t *)"Hello", 5, &b, &err),
        VT_ERR_TOO_LARGE);
    assert_int_equal(b.len, 4);
    assert_string_equal((const char *)b.data, "keep");
    assert_int_equal(
        vt_multibase_encode(VT_MULTIBASE_BASE64URL, (const uint8_t *)"foo", 3, &b, &err),
        VT_ERR_TOO_LARGE);
    assert_string_equal((const char *)b.data, "keep");
    vt_buf_release(&b);
}

static void test_multicodec_wrap(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 64);
    const uint8_t payload[3] = {1, 2, 3};
    assert_int_equal(vt_multicodec_wrap(VT_MULTICODEC_ED25519_PUB, payload, 3, &b, NULL), VT_OK);
    assert_int_equal(vt_multicodec_wrap(VT_MULTICODEC_X25519_PUB, payload, 3, &b, NULL), VT_OK);
    assert_int_equal(vt_multicodec_wrap(VT_MULTICODEC_ED25519_PRIV, payload, 3, &b, NULL), VT_OK);
    static const uint8_t want[] = {0xed, 0x01, 1, 2, 3, 0xec, 0x01, 1, 2, 3, 0x80, 0x26, 1, 2, 3};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    vt_buf_release(&b);

    /* Too little room for prefix + payload: nothing is appended, not even the prefix. */
    vt_buf_init(&b, 4);
    assert_int_equal(vt_multicodec_wrap(VT_MULTICODEC_ED25519_PUB, payload, 3, &b, NULL),
                     VT_ERR_TOO_LARGE);
    assert_int_equal(b.len, 0);
    vt_buf_release(&b);
}

static void expect_unwrap_reject(const uint8_t *p, size_t n, enum vt_multicodec codec, size_t len,
                                 const char *msg_part)
{
    const uint8_t sentinel = 0;
    const uint8_t *payload = &sentinel;
    struct vt_error err;
    vt_error_clear(&err);
    assert_int_equal(vt_multicodec_unwrap(p, n, codec, len, &payload, &err), VT_ERR_INVALID);
    assert_int_equal(err.status, VT_ERR_INVALID);
    if (strstr(err.msg, msg_part) == NULL)
        fail_msg("message '%s' does not contain '%s'", err.msg, msg_part);
    assert_ptr_equal(payload, &sentinel);
    assert_int_equal(vt_multicodec_unwrap(p, n, codec, len, &payload, NULL), VT_ERR_INVALID);
}

static void test_multicodec_unwrap(void **state)
{
    (void)state;
    uint8_t v[40];
    memset(v, 0x55, sizeof(v));
    const uint8_t *payload = NULL;

    v[0] = 0xed;
    v[1] = 0x01;
    assert_int_equal(vt_multicodec_unwrap(v, 34, VT_MULTICODEC_ED25519_PUB, 32, &payload, NULL),
                     VT_OK);
    assert_ptr_equal(payload, v + 2);
    expect_unwrap_reject(v, 34, VT_MULTICODEC_X25519_PUB, 32,
                         "expected multicodec 0xec (x25519-pub), found 0xed (ed25519-pub)");
    expect_unwrap_reject(v, 34, VT_MULTICODEC_ED25519_PRIV, 32,
                         "expected multicodec 0x1300 (ed25519-priv), found 0xed (ed25519-pub)");
    expect_unwrap_reject(v, 35, VT_MULTICODEC_ED25519_PUB, 32,
                         "expected 32 bytes of ed25519-pub after the multicodec prefix, found 33");
    expect_unwrap_reject(v, 33, VT_MULTICODEC_ED25519_PUB, 32, "found 31");
    expect_unwrap_reject(v, 2, VT_MULTICODEC_ED25519_PUB, 32, "found 0");

    v[0] = 0x80;
    v[1] = 0x26;
    assert_int_equal(vt_multicodec_unwrap(v, 34, VT_MULTICODEC_ED25519_PRIV, 32, &payload, NULL),
                     VT_OK);
    assert_ptr_equal(payload, v + 2);
    expect_unwrap_reject(v, 34, VT_MULTICODEC_ED25519_PUB, 32,
                         "expected multicodec 0xed (ed25519-pub), found 0x1300 (ed25519-priv)");

    v[0] = 0xec;
    v[1] = 0x01;
    expect_unwrap_reject(v, 34, VT_MULTICODEC_ED25519_PUB, 32, "found 0xec (x25519-pub)");
    v[0] = 0xe7;
    expect_unwrap_reject(v, 35, VT_MULTICODEC_ED25519_PUB, 32, "found 0xe7 (secp256k1-pub)");
    v[0] = 0x12;
    expect_unwrap_reject(v, 34, VT_MULTICODEC_ED25519_PUB, 32, "found 0x12 (unknown)");

    /* Nothing, a varint cut short, and a non-minimal varint are not prefixes at all. */
    expect_unwrap_reject(v, 0, VT_MULTICODEC_ED25519_PUB, 32, "found no valid multicodec");
    v[0] = 0xed;
    expect_unwrap_reject(v, 1, VT_MULTICODEC_ED25519_PUB, 32, "found no valid multicodec");
    v[1] = 0x81;
    v[2] = 0x00;
    expect_unwrap_reject(v, 34, VT_MULTICODEC_ED25519_PUB, 32, "found no valid multicodec");
    memset(v, 0xff, 12);
    expect_unwrap_reject(v, 34, VT_MULTICODEC_ED25519_PUB, 32, "found no valid multicodec");
}

int main(void)
{
    if (vt_core_init(NULL) != VT_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_decode),     cmocka_unit_test(test_multikey_value),
        cmocka_unit_test(test_decode_rejections), cmocka_unit_test(test_encode_failures),
        cmocka_unit_test(test_multicodec_wrap),   cmocka_unit_test(test_multicodec_unwrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
