/* base64 (RFC 4648 §4, padded) and base64url (§5, unpadded): vectors, canonical-input
 * rejections and random round trips. */
#include "core/core.h"
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum vt_status (*encode_fn)(const uint8_t *, size_t, struct vt_buf *, struct vt_error *);
typedef enum vt_status (*decode_fn)(const char *, size_t, struct vt_buf *, struct vt_error *);

struct vector {
    const char *hex;
    const char *std; /* base64 */
    const char *url; /* base64url */
};

static const struct vector vectors[] = {
    /* RFC 4648 §10. */
    {"", "", ""},
    {"66", "Zg==", "Zg"},
    {"666f", "Zm8=", "Zm8"},
    {"666f6f", "Zm9v", "Zm9v"},
    {"666f6f62", "Zm9vYg==", "Zm9vYg"},
    {"666f6f6261", "Zm9vYmE=", "Zm9vYmE"},
    {"666f6f626172", "Zm9vYmFy", "Zm9vYmFy"},
    /* The two characters where the alphabets differ. */
    {"fbffbf", "+/+/", "-_-_"},
    {"fbff", "+/8=", "-_8"},
    {"00", "AA==", "AA"},
    {"ffffffff", "/////w==", "_____w"},
    /* JWK members of the 5th did:key vector (Ed25519 "x" and "d"). */
    {"fde4fba030ad002f7c2f7d4c331f49d13fb0ec747eceebec634f1ff4cbca9def",
     "/eT7oDCtAC98L31MMx9J0T+w7HR+zuvsY08f9MvKne8=", "_eT7oDCtAC98L31MMx9J0T-w7HR-zuvsY08f9MvKne8"},
    {"0000000000000000000000000000000000000000000000000000000000000005",
     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAU=", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAU"},
};

static void check_vector(encode_fn enc, decode_fn dec, const uint8_t *bytes, size_t n,
                         const char *text)
{
    struct vt_buf b;
    vt_buf_init(&b, VT_BUF_DEFAULT_MAX);
    struct vt_error err;
    assert_int_equal(enc(bytes, n, &b, &err), VT_OK);
    assert_string_equal((const char *)b.data, text);
    assert_int_equal(b.len, strlen(text));
    vt_buf_reset(&b);
    assert_int_equal(dec(text, strlen(text), &b, &err), VT_OK);
    assert_int_equal(b.len, n);
    if (n > 0)
        assert_memory_equal(b.data, bytes, n);
    vt_buf_release(&b);
}

static void test_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        size_t n;
        uint8_t *bytes = vt_test_unhex(vectors[i].hex, &n);
        check_vector(vt_base64_encode, vt_base64_decode, bytes, n, vectors[i].std);
        check_vector(vt_base64url_encode, vt_base64url_decode, bytes, n, vectors[i].url);
        free(bytes);
    }
}

static void test_appends(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 64);
    assert_int_equal(vt_buf_append_str(&b, "x:", NULL), VT_OK);
    assert_int_equal(vt_base64_encode((const uint8_t *)"f", 1, &b, NULL), VT_OK);
    assert_int_equal(vt_base64url_encode((const uint8_t *)"f", 1, &b, NULL), VT_OK);
    assert_string_equal((const char *)b.data, "x:Zg==Zg");
    assert_int_equal(vt_base64_decode("Zm8=", 4, &b, NULL), VT_OK);
    assert_int_equal(vt_base64url_decode("Zm8", 3, &b, NULL), VT_OK);
    assert_int_equal(b.len, 12);
    assert_memory_equal(b.data, "x:Zg==Zgfofo", 12);
    vt_buf_release(&b);
}

static void expect_reject(decode_fn dec, const char *s, enum vt_status want, const char *msg_part)
{
    struct vt_buf b;
    vt_buf_init(&b, 4096);
    assert_int_equal(vt_buf_append_str(&b, "keep", NULL), VT_OK);
    struct vt_error err;
    vt_error_clear(&err);
    enum vt_status got = dec(s, strlen(s), &b, &err);
    if (got != want)
        fail_msg("'%s': got %s (%s), want %s", s, vt_status_name(got), err.msg,
                 vt_status_name(want));
    assert_int_equal(err.status, want);
    if (strstr(err.msg, msg_part) == NULL)
        fail_msg("'%s': message '%s' does not contain '%s'", s, err.msg, msg_part);
    assert_int_equal(b.len, 4);
    assert_string_equal((const char *)b.data, "keep");
    assert_int_equal(dec(s, strlen(s), &b, NULL), want);
    vt_buf_release(&b);
}

static void test_base64_rejections(void **state)
{
    (void)state;
    decode_fn d = vt_base64_decode;
    expect_reject(d, "Zg", VT_ERR_INVALID, "length 2 is not a multiple of 4");
    expect_reject(d, "Zg=", VT_ERR_INVALID, "length 3");
    expect_reject(d, "Zm9vY", VT_ERR_INVALID, "length 5");
    expect_reject(d, "Z===", VT_ERR_INVALID, "'=' at offset 1");
    expect_reject(d, "====", VT_ERR_INVALID, "'=' at offset 0");
    expect_reject(d, "Zg=a", VT_ERR_INVALID, "'=' at offset 2");
    expect_reject(d, "Zg==Zg==", VT_ERR_INVALID, "'=' at offset 2");
    expect_reject(d, "Zm9v Zg=", VT_ERR_INVALID, "0x20 at offset 4");
    expect_reject(d, "Zm9v-_8=", VT_ERR_INVALID, "'-' at offset 4");
    expect_reject(d, "Zm9vYg\n=", VT_ERR_INVALID, "0x0a at offset 6");
    /* 'h' is 100001: its last four bits would be past the end of the single byte. */
    expect_reject(d, "Zh==", VT_ERR_NONCANONICAL, "offset 1");
    expect_reject(d, "Zm9=", VT_ERR_NONCANONICAL, "offset 2");
    expect_reject(d, "Zm9vYmF=", VT_ERR_NONCANONICAL, "offset 6");
}

static void test_base64url_rejections(void **state)
{
    (void)state;
    decode_fn d = vt_base64url_decode;
    expect_reject(d, "Zg==", VT_ERR_INVALID, "padding '=' at offset 2");
    expect_reject(d, "Zm8=", VT_ERR_INVALID, "'=' at offset 3");
    expect_reject(d, "Z", VT_ERR_INVALID, "lone character at offset 0");
    expect_reject(d, "Zm9vY", VT_ERR_INVALID, "lone character at offset 4");
    expect_reject(d, "+/8", VT_ERR_INVALID, "'+' at offset 0");
    expect_reject(d, "-_8/", VT_ERR_INVALID, "'/' at offset 3");
    expect_reject(d, "Zm 9", VT_ERR_INVALID, "0x20 at offset 2");
    expect_reject(d, "Zh", VT_ERR_NONCANONICAL, "offset 1");
    expect_reject(d, "Zm9", VT_ERR_NONCANONICAL, "offset 2");
    expect_reject(d, "_____x", VT_ERR_NONCANONICAL, "offset 5");
}

/* Of the 64 possible last characters of a partial group, exactly those with zero unused
 * bits decode; re-encoding each gives the same text back. */
static void test_trailing_bits_exhaustive(void **state)
{
    (void)state;
    static const char url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    struct vt_buf b, t;
    vt_buf_init(&b, 64);
    vt_buf_init(&t, 64);
    for (size_t tail = 2; tail <= 3; tail++) {
        int accepted = 0;
        for (int c = 0; c < 64; c++) {
            char s[4] = {'Q', 'Q', 'Q', '\0'};
            s[tail - 1] = url[c];
            vt_buf_reset(&b);
            enum vt_status st = vt_base64url_decode(s, tail, &b, NULL);
            bool zero_bits = (c & (tail == 2 ? 0x0f : 0x03)) == 0;
            assert_int_equal(st, zero_bits ? VT_OK : VT_ERR_NONCANONICAL);
            if (st != VT_OK)
                continue;
            accepted++;
            assert_int_equal(b.len, tail - 1);
            vt_buf_reset(&t);
            assert_int_equal(vt_base64url_encode(b.data, b.len, &t, NULL), VT_OK);
            assert_int_equal(t.len, tail);
            assert_memory_equal(t.data, s, tail);

            /* The same group padded, in the standard alphabet. */
            char p[5] = {'Q', 'Q', '=', '=', '\0'};
            p[tail - 1] = url[c] == '-' ? '+' : url[c] == '_' ? '/' : url[c];
            vt_buf_reset(&t);
            assert_int_equal(vt_base64_decode(p, 4, &t, NULL), VT_OK);
            assert_int_equal(t.len, b.len);
            assert_memory_equal(t.data, b.data, b.len);
        }
        assert_int_equal(accepted, tail == 2 ? 4 : 16);
    }
    vt_buf_release(&b);
    vt_buf_release(&t);
}

static void test_output_cap(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 8);
    assert_int_equal(vt_buf_append_str(&b, "keep", NULL), VT_OK);
    assert_int_equal(vt_base64_encode((const uint8_t *)"foob", 4, &b, NULL), VT_ERR_TOO_LARGE);
    assert_int_equal(vt_base64url_encode((const uint8_t *)"foobar", 6, &b, NULL), VT_ERR_TOO_LARGE);
    assert_int_equal(vt_base64_decode("Zm9vYmFy", 8, &b, NULL), VT_ERR_TOO_LARGE);
    assert_int_equal(vt_base64url_decode("Zm9vYmFy", 8, &b, NULL), VT_ERR_TOO_LARGE);
    assert_int_equal(b.len, 4);
    assert_string_equal((const char *)b.data, "keep");
    /* Exactly filling the cap is fine. */
    assert_int_equal(vt_base64url_encode((const uint8_t *)"foo", 3, &b, NULL), VT_OK);
    assert_string_equal((const char *)b.data, "keepZm9v");
    vt_buf_release(&b);
}

static uint64_t rng_state = 0x2545f4914f6cdd1du;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void round_trips(encode_fn enc, decode_fn dec, bool padded)
{
    uint8_t data[200];
    struct vt_buf text, back;
    vt_buf_init(&text, VT_BUF_DEFAULT_MAX);
    vt_buf_init(&back, VT_BUF_DEFAULT_MAX);
    for (int round = 0; round < 3000; round++) {
        size_t n = (size_t)(rng() % sizeof(data));
        for (size_t i = 0; i < n; i++)
            data[i] = (uint8_t)rng();
        vt_buf_reset(&text);
        vt_buf_reset(&back);
        assert_int_equal(enc(data, n, &text, NULL), VT_OK);
        size_t want_len = padded ? (n + 2) / 3 * 4 : (n * 8 + 5) / 6;
        assert_int_equal(text.len, want_len);
        assert_int_equal(dec((const char *)text.data, text.len, &back, NULL), VT_OK);
        assert_int_equal(back.len, n);
        if (n > 0)
            assert_memory_equal(back.data, data, n);
    }
    vt_buf_release(&text);
    vt_buf_release(&back);
}

static void test_random_round_trips(void **state)
{
    (void)state;
    round_trips(vt_base64_encode, vt_base64_decode, true);
    round_trips(vt_base64url_encode, vt_base64url_decode, false);
}

int main(void)
{
    if (vt_core_init(NULL) != VT_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_base64_rejections),
        cmocka_unit_test(test_base64url_rejections),
        cmocka_unit_test(test_trailing_bits_exhaustive),
        cmocka_unit_test(test_output_cap),
        cmocka_unit_test(test_random_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
