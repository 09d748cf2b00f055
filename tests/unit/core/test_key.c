/* Ed25519 keys: RFC 8032 vectors, sign/verify strictness, X25519 derivation, Multikey. */
#include "core/core.h"
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rfc8032 {
    const char *seed, *pk, *msg, *sig;
};

/* RFC 8032 §7.1, tests 1 to 3. */
static const struct rfc8032 rfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf"
     "9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f"
     "11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984"
     "dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

static uint8_t *unhex_len(const char *hex, size_t want)
{
    size_t n;
    uint8_t *p = vt_test_unhex(hex, &n);
    assert_int_equal(n, want);
    return p;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

static void test_rfc8032(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc8032) / sizeof(rfc8032[0]); i++) {
        const struct rfc8032 *t = &rfc8032[i];
        uint8_t *seed = unhex_len(t->seed, 32);
        uint8_t *pk = unhex_len(t->pk, 32);
        uint8_t *want_sig = unhex_len(t->sig, 64);
        size_t msg_len;
        uint8_t *msg = vt_test_unhex(t->msg, &msg_len);

        struct vt_key key;
        vt_key_from_seed(&key, seed);
        assert_true(key.has_secret);
        assert_memory_equal(key.pk, pk, 32);
        /* libsodium's secret key is seed ‖ pk. */
        assert_memory_equal(key.sk, seed, 32);
        assert_memory_equal(key.sk + 32, pk, 32);
        uint8_t back[32];
        vt_key_seed(&key, back);
        assert_memory_equal(back, seed, 32);

        uint8_t sig[64];
        vt_key_sign(&key, msg, msg_len, sig);
        assert_memory_equal(sig, want_sig, 64);
        assert_true(vt_ed25519_verify(pk, msg, msg_len, sig));
        if (msg_len == 0) {
            vt_key_sign(&key, NULL, 0, sig);
            assert_memory_equal(sig, want_sig, 64);
            assert_true(vt_ed25519_verify(pk, NULL, 0, sig));
        }
        vt_key_release(&key);
        assert_false(key.has_secret);
        assert_true(all_zero(key.sk, sizeof(key.sk)));
        /* The public part survives the wipe. */
        assert_memory_equal(key.pk, pk, 32);
        free(seed);
        free(pk);
        free(want_sig);
        free(msg);
    }
    vt_key_release(NULL);
}

static void test_bit_flips(void **state)
{
    (void)state;
    struct vt_key key;
    vt_key_generate(&key);
    assert_true(key.has_secret);
    const char msg[] = "vitae: every single-bit change must fail";
    size_t n = sizeof(msg) - 1;
    uint8_t sig[64];
    vt_key_sign(&key, msg, n, sig);
    assert_true(vt_ed25519_verify(key.pk, msg, n, sig));

    int accepted = 0;
    for (size_t bit = 0; bit < 64 * 8; bit++) {
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        accepted += vt_ed25519_verify(key.pk, msg, n, sig);
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    char m[sizeof(msg)];
    memcpy(m, msg, sizeof(msg));
    for (size_t bit = 0; bit < n * 8; bit++) {
        m[bit / 8] ^= (char)(1u << (bit % 8));
        accepted += vt_ed25519_verify(key.pk, m, n, sig);
        m[bit / 8] ^= (char)(1u << (bit % 8));
    }
    uint8_t pk[32];
    memcpy(pk, key.pk, 32);
    for (size_t bit = 0; bit < 32 * 8; bit++) {
        pk[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        accepted += vt_ed25519_verify(pk, msg, n, sig);
        pk[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(accepted, 0);
    /* A shorter or longer message is another message. */
    assert_false(vt_ed25519_verify(key.pk, msg, n - 1, sig));
    assert_false(vt_ed25519_verify(key.pk, msg, n + 1, sig));
    /* The unchanged inputs still verify, so the loops above tested something. */
    assert_true(vt_ed25519_verify(key.pk, m, n, sig));
    assert_true(vt_ed25519_verify(pk, msg, n, sig));

    struct vt_key other;
    vt_key_generate(&other);
    assert_memory_not_equal(other.pk, key.pk, 32);
    assert_false(vt_ed25519_verify(other.pk, msg, n, sig));
    vt_key_release(&key);
    vt_key_release(&other);
}

/* S + L encodes the same scalar as S; strict verifiers (and libsodium) refuse it. */
static void test_non_canonical_s(void **state)
{
    (void)state;
    uint8_t *pk = unhex_len(rfc8032[0].pk, 32);
    uint8_t *sig = unhex_len(rfc8032[0].sig, 64);
    static const uint8_t order[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                      0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                      0,    0,    0,    0,    0,    0,    0,    0,
                                      0,    0,    0,    0,    0,    0,    0,    0x10};
    unsigned carry = 0;
    for (size_t i = 0; i < 32; i++) {
        carry += (unsigned)sig[32 + i] + order[i];
        sig[32 + i] = (uint8_t)carry;
        carry >>= 8;
    }
    assert_int_equal(carry, 0);
    assert_false(vt_ed25519_verify(pk, "", 0, sig));
    free(pk);
    free(sig);

    /* The identity as public key and as R, with S = 0, satisfies the verification equation
     * for every message; a small-order key must be refused outright. */
    uint8_t identity_pk[32] = {1};
    uint8_t forged[64] = {1};
    assert_false(vt_ed25519_verify(identity_pk, "anything", 8, forged));
}

static void test_from_public(void **state)
{
    (void)state;
    uint8_t *pk = unhex_len(rfc8032[1].pk, 32);
    struct vt_key key;
    memset(&key, 0xaa, sizeof(key));
    vt_key_from_public(&key, pk);
    assert_false(key.has_secret);
    assert_memory_equal(key.pk, pk, 32);
    assert_true(all_zero(key.sk, sizeof(key.sk)));
    free(pk);
}

static void test_x25519(void **state)
{
    (void)state;
    /* RFC 8032 test 1 key; the expected values were computed independently, as
     * clamp(SHA-512(seed)[0..32]) and u = (1 + y) / (1 - y) mod 2^255 - 19. */
    uint8_t *seed = unhex_len(rfc8032[0].seed, 32);
    uint8_t *want_pk =
        unhex_len("d85e07ec22b0ad881537c2f44d662d1a143cf830c57aca4305d85c7a90f6b62e", 32);
    uint8_t *want_sk =
        unhex_len("307c83864f2833cb427a2ef1c00a013cfdff2768d980c0a3a520f006904de94f", 32);
    struct vt_key key;
    vt_key_from_seed(&key, seed);
    uint8_t xpk[32], xsk[32];
    struct vt_error err;
    assert_int_equal(vt_key_x25519(&key, xpk, xsk, &err), VT_OK);
    assert_memory_equal(xpk, want_pk, 32);
    assert_memory_equal(xsk, want_sk, 32);

    memset(xpk, 0, 32);
    assert_int_equal(vt_key_x25519(&key, xpk, NULL, &err), VT_OK);
    assert_memory_equal(xpk, want_pk, 32);

    /* A public-only key gives the public half and leaves sk_out alone. */
    struct vt_key pub;
    vt_key_from_public(&pub, key.pk);
    memset(xpk, 0, 32);
    memset(xsk, 0xaa, 32);
    assert_int_equal(vt_key_x25519(&pub, xpk, xsk, &err), VT_OK);
    assert_memory_equal(xpk, want_pk, 32);
    for (size_t i = 0; i < 32; i++)
        assert_int_equal(xsk[i], 0xaa);
    vt_key_release(&key);

    /* y = 2 is not on the curve; y = 1 is the identity, of small order. */
    uint8_t bad[2][32] = {{2}, {1}};
    for (size_t i = 0; i < 2; i++) {
        vt_key_from_public(&pub, bad[i]);
        memset(xpk, 0xaa, 32);
        vt_error_clear(&err);
        assert_int_equal(vt_key_x25519(&pub, xpk, xsk, &err), VT_ERR_INVALID);
        assert_non_null(strstr(err.msg, "X25519"));
        for (size_t j = 0; j < 32; j++)
            assert_int_equal(xpk[j], 0xaa);
        assert_int_equal(vt_key_x25519(&pub, xpk, NULL, NULL), VT_ERR_INVALID);
    }
    free(seed);
    free(want_pk);
    free(want_sk);
}

/* The W3C vc-di-eddsa key pair. */
static const char vector_seed[] =
    "c96ef9ea10c5e414c471723aff9de72c35fa5b70fae97e8832ecac7d2e2b8ed6";
static const char vector_pk[] = "b00d8d938e7f773d51565aad36a623f5344f7f5d1960f9cf3e8e12620ea2810f";
static const char vector_public_mb[] = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
static const char vector_secret_mb[] = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq";

static void test_multikey_vectors(void **state)
{
    (void)state;
    uint8_t *seed = unhex_len(vector_seed, 32);
    uint8_t *pk = unhex_len(vector_pk, 32);
    struct vt_key key;
    vt_key_from_seed(&key, seed);
    assert_memory_equal(key.pk, pk, 32);

    char text[VT_MULTIKEY_MAX];
    vt_multikey_encode_public(key.pk, text);
    assert_string_equal(text, vector_public_mb);
    vt_multikey_encode_secret(&key, text);
    assert_string_equal(text, vector_secret_mb);

    uint8_t out[32];
    struct vt_error err;
    assert_int_equal(vt_multikey_decode_public(vector_public_mb, out, &err), VT_OK);
    assert_memory_equal(out, pk, 32);
    assert_int_equal(vt_multikey_decode_secret(vector_secret_mb, out, &err), VT_OK);
    assert_memory_equal(out, seed, 32);
    vt_key_release(&key);
    free(seed);
    free(pk);
}

static void test_multikey_random(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++) {
        struct vt_key key;
        vt_key_generate(&key);
        char pub[VT_MULTIKEY_MAX], sec[VT_MULTIKEY_MAX];
        vt_multikey_encode_public(key.pk, pub);
        vt_multikey_encode_secret(&key, sec);
        assert_memory_equal(pub, "z6Mk", 4);
        assert_memory_equal(sec, "z3u2", 4);
        uint8_t pk[32], seed[32], want_seed[32];
        assert_int_equal(vt_multikey_decode_public(pub, pk, NULL), VT_OK);
        assert_int_equal(vt_multikey_decode_secret(sec, seed, NULL), VT_OK);
        vt_key_seed(&key, want_seed);
        assert_memory_equal(pk, key.pk, 32);
        assert_memory_equal(seed, want_seed, 32);
        vt_key_release(&key);
    }
}

enum which { PUBLIC, SECRET };

static void expect_multikey_reject(enum which which, const char *s, const char *msg_part)
{
    uint8_t out[32];
    memset(out, 0xaa, sizeof(out));
    struct vt_error err;
    vt_error_clear(&err);
    enum vt_status st = which == PUBLIC ? vt_multikey_decode_public(s, out, &err)
                                        : vt_multikey_decode_secret(s, out, &err);
    if (st != VT_ERR_INVALID)
        fail_msg("'%s': got %s (%s)", s, vt_status_name(st), err.msg);
    if (strstr(err.msg, msg_part) == NULL)
        fail_msg("'%s': message '%s' does not contain '%s'", s, err.msg, msg_part);
    for (size_t i = 0; i < sizeof(out); i++)
        assert_int_equal(out[i], 0xaa);
}

static void test_multikey_rejections(void **state)
{
    (void)state;
    expect_multikey_reject(PUBLIC, "", "invalid publicKeyMultibase: empty");
    expect_multikey_reject(SECRET, "", "invalid secretKeyMultibase: empty");
    expect_multikey_reject(PUBLIC, "u7QGwDY2Tjn93PVFWWq02piP1NE9_XRlg-c8-jhJiDqKBDw",
                           "expected multibase prefix 'z' (base58btc), found 'u'");
    expect_multikey_reject(PUBLIC, "Z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "found 'Z'");
    /* Each kind of key in the other's place. */
    expect_multikey_reject(PUBLIC, vector_secret_mb,
                           "expected multicodec 0xed (ed25519-pub), found 0x1300 (ed25519-priv)");
    expect_multikey_reject(SECRET, vector_public_mb,
                           "expected multicodec 0x1300 (ed25519-priv), found 0xed (ed25519-pub)");
    /* The X25519 keyAgreement key of a did:key is not an Ed25519 key. */
    expect_multikey_reject(PUBLIC, "z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p",
                           "found 0xec (x25519-pub)");
    expect_multikey_reject(PUBLIC, "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ0",
                           "'0' at offset 47");
    /* A bad character in a secret is not quoted back. */
    expect_multikey_reject(SECRET, "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxl",
                           "invalid secretKeyMultibase: not base58btc text");
    uint8_t out[32];
    struct vt_error err;
    assert_int_equal(
        vt_multikey_decode_secret("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxl", out, &err),
        VT_ERR_INVALID);
    assert_null(strstr(err.msg, "'l'"));

    /* Wrong lengths, built from the right prefix: 31 and 33 key bytes. */
    struct vt_buf raw, text;
    vt_buf_init(&raw, 128);
    vt_buf_init(&text, 128);
    uint8_t key33[33];
    memset(key33, 0x42, sizeof(key33));
    for (size_t len = 31; len <= 33; len += 2) {
        vt_buf_reset(&raw);
        vt_buf_reset(&text);
        assert_int_equal(vt_multicodec_wrap(VT_MULTICODEC_ED25519_PUB, key33, len, &raw, NULL),
                         VT_OK);
        assert_int_equal(
            vt_multibase_encode(VT_MULTIBASE_BASE58BTC, raw.data, raw.len, &text, NULL), VT_OK);
        char want[96];
        snprintf(want, sizeof(want),
                 "expected 32 bytes of ed25519-pub after the multicodec "
                 "prefix, found %zu",
                 len);
        expect_multikey_reject(PUBLIC, (const char *)text.data, want);
    }
    vt_buf_release(&raw);
    vt_buf_release(&text);

    char longer[200];
    memset(longer, 'z', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    expect_multikey_reject(PUBLIC, longer, "longer than 63 characters");
    expect_multikey_reject(SECRET, longer, "longer than 63 characters");
    assert_int_equal(vt_multikey_decode_public(longer, out, NULL), VT_ERR_INVALID);
}

int main(void)
{
    if (vt_core_init(NULL) != VT_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8032),         cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_non_canonical_s), cmocka_unit_test(test_from_public),
        cmocka_unit_test(test_x25519),          cmocka_unit_test(test_multikey_vectors),
        cmocka_unit_test(test_multikey_random), cmocka_unit_test(test_multikey_rejections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
