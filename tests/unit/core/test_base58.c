/* base58btc: known vectors, canonical-input rejections, caps and random round trips. */
#include "core/core.h"
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vector {
    const char *hex;
    const char *text;
};

static const struct vector vectors[] = {
    {"", ""},
    {"00", "1"},
    {"0000", "11"},
    {"61", "2g"},
    {"48656c6c6f20576f726c6421", "2NEpo7TZRRrLZSi2U"},
    {"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
    {"0000287fb4cd", "11233QC4"},
    {"54686520717569636b2062726f776e20666f78206a756d7073206f76657220746865206c617a7920646f67",
     "7DdiPPYtxLjCD3wA1po2rvZHTDYjkZYiEtazrfiwJcwnKCizhGFhBGHeRdx"},
    /* Multikey values from the W3C vc-di-eddsa vectors, without their 'z' prefix. */
    {"ed01b00d8d938e7f773d51565aad36a623f5344f7f5d1960f9cf3e8e12620ea2810f",
     "6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"},
    {"8026c96ef9ea10c5e414c471723aff9de72c35fa5b70fae97e8832ecac7d2e2b8ed6",
     "3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"},
    /* The eddsa-jcs-2022 proofValue of the same vectors. */
    {"407cd12654b33d718ecbb99179a1506daaa849450bf3fc523cce3e1c96f8b80351da3f253d725c6f00b07c9e"
     "5448d50b3ef78012b9ab54255116d069c6dd2808",
     "2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"},
};

static void test_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        size_t n;
        uint8_t *bytes = vt_test_unhex(vectors[i].hex, &n);
        struct vt_buf b;
        vt_buf_init(&b, VT_BUF_DEFAULT_MAX);
        struct vt_error err;

        assert_int_equal(vt_base58_encode(bytes, n, &b, &err), VT_OK);
        assert_string_equal((const char *)b.data, vectors[i].text);
        assert_int_equal(b.len, strlen(vectors[i].text));

        vt_buf_reset(&b);
        assert_int_equal(vt_base58_decode(vectors[i].text, strlen(vectors[i].text), &b, &err),
                         VT_OK);
        assert_int_equal(b.len, n);
        if (n > 0)
            assert_memory_equal(b.data, bytes, n);
        vt_buf_release(&b);
        free(bytes);
    }
}

static void test_appends(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 64);
    assert_int_equal(vt_buf_append_str(&b, "x:", NULL), VT_OK);
    assert_int_equal(vt_base58_encode((const uint8_t *)"a", 1, &b, NULL), VT_OK);
    assert_string_equal((const char *)b.data, "x:2g");
    assert_int_equal(vt_base58_decode("2g", 2, &b, NULL), VT_OK);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "x:2ga", 5);
    vt_buf_release(&b);
}

/* Decodes s and checks the failure: status, a message naming the offset, out unchanged. */
static void expect_reject(const char *s, size_t n, enum vt_status want, const char *msg_part)
{
    struct vt_buf b;
    vt_buf_init(&b, 4096);
    assert_int_equal(vt_buf_append_str(&b, "keep", NULL), VT_OK);
    struct vt_error err;
    vt_error_clear(&err);
    assert_int_equal(vt_base58_decode(s, n, &b, &err), want);
    assert_int_equal(err.status, want);
    if (strstr(err.msg, msg_part) == NULL)
        fail_msg("message '%s' does not contain '%s'", err.msg, msg_part);
    assert_int_equal(b.len, 4);
    assert_string_equal((const char *)b.data, "keep");
    /* err may be NULL. */
    assert_int_equal(vt_base58_decode(s, n, &b, NULL), want);
    vt_buf_release(&b);
}

static void test_rejections(void **state)
{
    (void)state;
    /* The four characters the alphabet leaves out because they look alike. */
    expect_reject("0", 1, VT_ERR_INVALID, "'0' at offset 0");
    expect_reject("2gO", 3, VT_ERR_INVALID, "'O' at offset 2");
    expect_reject("11I", 3, VT_ERR_INVALID, "'I' at offset 2");
    expect_reject("abcl", 4, VT_ERR_INVALID, "'l' at offset 3");
    expect_reject("2g+", 3, VT_ERR_INVALID, "'+' at offset 2");
    expect_reject("2g 2", 4, VT_ERR_INVALID, "0x20 at offset 2");
    expect_reject("2g\0002", 4, VT_ERR_INVALID, "0x00 at offset 2");
    expect_reject("2g\xc3\xa9", 4, VT_ERR_INVALID, "0xc3 at offset 2");
    expect_reject("2g\n", 3, VT_ERR_INVALID, "0x0a at offset 2");
}

static void test_caps(void **state)
{
    (void)state;
    char *ones = malloc(VT_BASE58_MAX + 2);
    assert_non_null(ones);
    memset(ones, '1', VT_BASE58_MAX + 1);
    ones[VT_BASE58_MAX + 1] = '\0';
    expect_reject(ones, VT_BASE58_MAX + 1, VT_ERR_TOO_LARGE, "4097");

    struct vt_buf b;
    vt_buf_init(&b, VT_BUF_DEFAULT_MAX);
    assert_int_equal(vt_base58_decode(ones, VT_BASE58_MAX, &b, NULL), VT_OK);
    assert_int_equal(b.len, VT_BASE58_MAX);
    for (size_t i = 0; i < b.len; i++)
        assert_int_equal(b.data[i], 0);
    free(ones);

    /* 2999 bytes of ff encode to exactly 4096 characters; 3000 would need 4097. */
    uint8_t *ff = malloc(3000);
    assert_non_null(ff);
    memset(ff, 0xff, 3000);
    vt_buf_reset(&b);
    assert_int_equal(vt_base58_encode(ff, 2999, &b, NULL), VT_OK);
    assert_int_equal(b.len, VT_BASE58_MAX);
    char *text = strdup((const char *)b.data);
    vt_buf_reset(&b);
    assert_int_equal(vt_base58_decode(text, strlen(text), &b, NULL), VT_OK);
    assert_int_equal(b.len, 2999);
    assert_memory_equal(b.data, ff, 2999);
    free(text);

    vt_buf_reset(&b);
    assert_int_equal(vt_buf_append_str(&b, "keep", NULL), VT_OK);
    struct vt_error err;
    assert_int_equal(vt_base58_encode(ff, 3000, &b, &err), VT_ERR_TOO_LARGE);
    assert_non_null(strstr(err.msg, "4097 characters"));
    assert_string_equal((const char *)b.data, "keep");
    free(ff);

    uint8_t *zeros = calloc(VT_BASE58_MAX + 1, 1);
    assert_non_null(zeros);
    assert_int_equal(vt_base58_encode(zeros, VT_BASE58_MAX + 1, &b, &err), VT_ERR_TOO_LARGE);
    assert_string_equal((const char *)b.data, "keep");
    free(zeros);
    vt_buf_release(&b);

    /* The output buffer's own cap holds too, leaving it unchanged. */
    vt_buf_init(&b, 8);
    assert_int_equal(vt_buf_append_str(&b, "keep", NULL), VT_OK);
    assert_int_equal(vt_base58_encode((const uint8_t *)"Hello", 5, &b, NULL), VT_ERR_TOO_LARGE);
    assert_string_equal((const char *)b.data, "keep");
    assert_int_equal(vt_base58_decode("2NEpo7TZRRrLZSi2U", 17, &b, NULL), VT_ERR_TOO_LARGE);
    assert_string_equal((const char *)b.data, "keep");
    vt_buf_release(&b);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_random_round_trips(void **state)
{
    (void)state;
    uint8_t data[300];
    struct vt_buf text, back, again;
    vt_buf_init(&text, VT_BUF_DEFAULT_MAX);
    vt_buf_init(&back, VT_BUF_DEFAULT_MAX);
    vt_buf_init(&again, VT_BUF_DEFAULT_MAX);
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(rng() % sizeof(data));
        size_t zeros = n > 0 ? (size_t)(rng() % 4) : 0;
        for (size_t i = 0; i < n; i++)
            data[i] = i < zeros ? 0 : (uint8_t)rng();
        vt_buf_reset(&text);
        vt_buf_reset(&back);
        vt_buf_reset(&again);
        assert_int_equal(vt_base58_encode(data, n, &text, NULL), VT_OK);
        assert_int_equal(vt_base58_decode((const char *)text.data, text.len, &back, NULL), VT_OK);
        assert_int_equal(back.len, n);
        if (n > 0)
            assert_memory_equal(back.data, data, n);
        /* Leading zero bytes and leading '1's correspond one to one. */
        size_t ones = 0;
        while (ones < text.len && text.data[ones] == '1')
            ones++;
        size_t lead = 0;
        while (lead < n && data[lead] == 0)
            lead++;
        assert_int_equal(ones, lead);

        /* Any string over the alphabet decodes and re-encodes to itself: no second
         * spelling of the same bytes exists. */
        static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
        char s[120];
        size_t len = (size_t)(rng() % sizeof(s));
        for (size_t i = 0; i < len; i++)
            s[i] = alphabet[rng() % 58];
        vt_buf_reset(&back);
        assert_int_equal(vt_base58_decode(s, len, &back, NULL), VT_OK);
        assert_int_equal(vt_base58_encode(back.data, back.len, &again, NULL), VT_OK);
        assert_int_equal(again.len, len);
        if (len > 0)
            assert_memory_equal(again.data, s, len);
    }
    vt_buf_release(&text);
    vt_buf_release(&back);
    vt_buf_release(&again);
}

int main(void)
{
    if (vt_core_init(NULL) != VT_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_random_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
