/* Data Integrity eddsa-jcs-2022: the W3C vc-di-eddsa vector byte for byte, round trips,
 * proof sets, and rejection of every single-byte change. */
#include "credential/credential.h"
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

#define VEC "vectors/vc-di-eddsa/"
#define VM                                                                                         \
    "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#"                                    \
    "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"

static char *vec_text(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/" VEC "%s", vt_test_shared_dir(), rel);
    char *t = vt_test_read_file(path, len);
    if (t == NULL)
        fail_msg("cannot read %s", path);
    return t;
}

static json_t *vec_json(const char *rel)
{
    size_t len;
    char *t = vec_text(rel, &len);
    json_t *j = NULL;
    struct vt_error err;
    if (vt_json_parse(t, len, CRED_DOC_MAX, VT_JSON_MAX_DEPTH, &j, &err) != VT_OK)
        fail_msg("%s: %s", rel, err.msg);
    free(t);
    return j;
}

static struct cred_key *vec_key(void)
{
    char path[512];
    struct cred_key *key = NULL;
    struct vt_error err;
    snprintf(path, sizeof(path), "%s/" VEC "keyPair.json", vt_test_shared_dir());
    if (cred_key_read(path, &key, &err) != VT_OK)
        fail_msg("%s", err.msg);
    return key;
}

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void test_vector_intermediates(void **state)
{
    (void)state;
    json_t *doc = vec_json("unsigned.json");
    json_t *config = vec_json("eddsa-jcs-2022/proofConfigJCS.json");
    uint8_t hash[64];
    struct vt_buf cd, cp;
    struct vt_error err;
    vt_buf_init(&cd, CRED_DOC_MAX);
    vt_buf_init(&cp, CRED_DOC_MAX);
    assert_int_equal(cred_di_hash_data(doc, config, hash, &cd, &cp, &err), VT_OK);
    size_t len;
    char *want = vec_text("eddsa-jcs-2022/canonDocJCS.txt", &len);
    assert_int_equal(cd.len, len);
    assert_memory_equal(cd.data, want, len);
    free(want);
    want = vec_text("eddsa-jcs-2022/proofCanonJCS.txt", &len);
    assert_int_equal(cp.len, len);
    assert_memory_equal(cp.data, want, len);
    free(want);
    char hex[129];
    hex_of(hash, 64, hex);
    want = vec_text("eddsa-jcs-2022/combinedHashJCS.txt", &len);
    assert_string_equal(hex, want);
    free(want);
    want = vec_text("eddsa-jcs-2022/docHashJCS.txt", &len);
    assert_memory_equal(hex + 64, want, 64);
    free(want);
    want = vec_text("eddsa-jcs-2022/proofHashJCS.txt", &len);
    assert_memory_equal(hex, want, 64);
    free(want);
    vt_buf_release(&cd);
    vt_buf_release(&cp);
    json_decref(doc);
    json_decref(config);
}

static void test_vector_sign(void **state)
{
    (void)state;
    json_t *doc = vec_json("unsigned.json");
    struct cred_key *key = vec_key();
    struct cred_di_options opt = {.created = "2023-02-24T23:36:38Z", .verification_method = VM};
    json_t *signed_doc = NULL;
    struct vt_error err;
    assert_int_equal(cred_sign_di(doc, key, &opt, &signed_doc, &err), VT_OK);
    size_t len;
    char *want = vec_text("eddsa-jcs-2022/sigBTC58JCS.txt", &len);
    assert_string_equal(vt_json_get_str(vt_json_get_obj(signed_doc, "proof"), "proofValue"), want);
    free(want);
    /* The default verification method of a Multikey pair is its did:key method. */
    assert_string_equal(cred_key_default_vm(key), VM);

    json_t *expect = vec_json("eddsa-jcs-2022/signedJCS.json");
    assert_true(json_equal(signed_doc, expect));
    struct vt_buf out;
    vt_buf_init(&out, CRED_DOC_MAX);
    assert_int_equal(cred_json_write(signed_doc, 2, &out, &err), VT_OK);
    want = vec_text("eddsa-jcs-2022/signedJCS.json", &len);
    while (len > 0 && want[len - 1] == '\n')
        len--;
    assert_int_equal(out.len, len);
    assert_memory_equal(out.data, want, len);
    free(want);
    vt_buf_release(&out);
    json_decref(expect);
    json_decref(signed_doc);
    json_decref(doc);
    cred_key_free(key);
}

static struct cred_result *verify_text(const char *text, size_t n)
{
    struct cred_result *r = NULL;
    struct vt_error err;
    enum vt_status st = cred_verify((const uint8_t *)text, n, NULL, &r, &err);
    (void)st;
    assert_non_null(r);
    return r;
}

static void test_vector_verify(void **state)
{
    (void)state;
    size_t len;
    char *text = vec_text("eddsa-jcs-2022/signedJCS.json", &len);
    struct cred_result *r = verify_text(text, len);
    if (!cred_result_verified(r)) {
        json_t *j = cred_result_to_json(r);
        char *s = json_dumps(j, 0);
        fail_msg("not verified: %s", s);
    }
    assert_true(cred_result_has_check(r, "proof"));
    assert_true(cred_result_has_check(r, "data-model"));
    assert_true(cred_result_has_check(r, "validFrom"));
    /* A URL issuer cannot be tied to a did:key offline: a warning, not an error. */
    assert_true(cred_result_has_warning(r, CRED_P_KEY_RESOLUTION));
    cred_result_free(r);
    free(text);
}

static void test_every_byte_change_fails(void **state)
{
    (void)state;
    json_t *doc = vec_json("eddsa-jcs-2022/signedJCS.json");
    struct vt_buf b;
    struct vt_error err;
    vt_buf_init(&b, CRED_DOC_MAX);
    assert_int_equal(cred_json_write(doc, 0, &b, &err), VT_OK);
    struct cred_result *r = verify_text((const char *)b.data, b.len);
    assert_true(cred_result_verified(r));
    cred_result_free(r);
    for (size_t i = 0; i < b.len; i++) {
        uint8_t saved = b.data[i];
        static const uint8_t flips[] = {0x01, 0x20, 0x80};
        for (size_t f = 0; f < sizeof(flips); f++) {
            b.data[i] = saved ^ flips[f];
            r = verify_text((const char *)b.data, b.len);
            if (cred_result_verified(r))
                fail_msg("changing byte %zu ('%c' ^ 0x%02x) still verifies", i, saved, flips[f]);
            cred_result_free(r);
        }
        b.data[i] = saved;
    }
    vt_buf_release(&b);
    json_decref(doc);
}

static void test_round_trip_and_proof_set(void **state)
{
    (void)state;
    json_t *doc = vec_json("unsigned.json");
    struct vt_key vk1, vk2;
    vt_key_generate(&vk1);
    vt_key_generate(&vk2);
    struct cred_key *k1 = cred_key_from_vt(&vk1);
    struct cred_key *k2 = cred_key_from_vt(&vk2);
    char did[VT_DIDKEY_MAX];
    vt_didkey_from_public(vk1.pk, did);
    json_object_set_new(doc, "issuer", json_string(did));
    json_t *s1 = NULL, *s2 = NULL;
    struct vt_error err;
    assert_int_equal(cred_sign_di(doc, k1, NULL, &s1, &err), VT_OK);
    struct cred_result *r = NULL;
    assert_int_equal(cred_verify_json(s1, NULL, &r, &err), VT_OK);
    assert_true(cred_result_verified(r));
    assert_int_equal(cred_result_warning_count(r), 0);
    cred_result_free(r);

    /* A second proof by another key that is not the issuer's: the set fails. */
    assert_int_equal(cred_sign_di(s1, k2, NULL, &s2, &err), VT_OK);
    assert_true(json_is_array(json_object_get(s2, "proof")));
    assert_int_equal(json_array_size(json_object_get(s2, "proof")), 2);
    assert_int_equal(cred_verify_json(s2, NULL, &r, &err), VT_OK);
    assert_false(cred_result_verified(r));
    assert_true(cred_result_has_error(r, CRED_P_KEY_RESOLUTION));
    cred_result_free(r);
    json_decref(s2);

    /* Two proofs by the issuer's key verify as a set. */
    assert_int_equal(cred_sign_di(s1, k1, NULL, &s2, &err), VT_OK);
    assert_int_equal(cred_verify_json(s2, NULL, &r, &err), VT_OK);
    assert_true(cred_result_verified(r));
    cred_result_free(r);

    json_decref(s1);
    json_decref(s2);
    json_decref(doc);
    cred_key_free(k1);
    cred_key_free(k2);
    vt_key_release(&vk1);
    vt_key_release(&vk2);
}

static json_t *signed_vector(void)
{
    return vec_json("eddsa-jcs-2022/signedJCS.json");
}

static struct cred_result *verify_doc(const json_t *doc)
{
    struct cred_result *r = NULL;
    struct vt_error err;
    assert_int_equal(cred_verify_json(doc, NULL, &r, &err), VT_OK);
    return r;
}

static void expect_error(json_t *doc, enum cred_problem p)
{
    struct cred_result *r = verify_doc(doc);
    if (cred_result_verified(r) || !cred_result_has_error(r, p)) {
        char *s = json_dumps(cred_result_to_json(r), 0);
        fail_msg("expected problem %s: %s", cred_problem_type(p), s);
    }
    cred_result_free(r);
    json_decref(doc);
}

static void test_bad_proofs(void **state)
{
    (void)state;
    json_t *d;
    /* Unknown and mixed-up cryptosuites. */
    d = signed_vector();
    json_object_set_new(json_object_get(d, "proof"), "cryptosuite", json_string("eddsa-foo"));
    expect_error(d, CRED_P_PROOF_VERIFICATION);
    d = signed_vector();
    json_object_set_new(json_object_get(d, "proof"), "cryptosuite", json_string("eddsa-rdfc-2022"));
    expect_error(d, CRED_P_UNSUPPORTED_SUITE);
    d = signed_vector();
    json_object_set_new(json_object_get(d, "proof"), "type", json_string("Ed25519Signature2020"));
    expect_error(d, CRED_P_PROOF_VERIFICATION);
    /* Non-canonical base58 (a leading '1' adds a zero byte) and wrong lengths. */
    d = signed_vector();
    json_object_set_new(json_object_get(d, "proof"), "proofValue",
                        json_string("z12HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJp"
                                    "wTWd3GAVFuUfjoJdcnTMuVor51aX"));
    expect_error(d, CRED_P_PROOF_VERIFICATION);
    d = signed_vector();
    json_object_set_new(json_object_get(d, "proof"), "proofValue", json_string("u2HnFSSPP"));
    expect_error(d, CRED_P_PROOF_VERIFICATION);
    /* Wrong multicodec prefix in the did:key (x25519 z6LS...). */
    d = signed_vector();
    json_object_set_new(json_object_get(d, "proof"), "verificationMethod",
                        json_string("did:key:z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p#"
                                    "z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p"));
    expect_error(d, CRED_P_KEY_RESOLUTION);
    /* Wrong purpose, missing members, wrong types. */
    d = signed_vector();
    json_object_set_new(json_object_get(d, "proof"), "proofPurpose", json_string("authentication"));
    expect_error(d, CRED_P_PURPOSE);
    d = signed_vector();
    json_object_del(json_object_get(d, "proof"), "verificationMethod");
    expect_error(d, CRED_P_PROOF_VERIFICATION);
    d = signed_vector();
    json_object_set_new(json_object_get(d, "proof"), "created", json_integer(5));
    expect_error(d, CRED_P_MALFORMED);
    d = signed_vector();
    json_object_set_new(d, "proof", json_string("x"));
    expect_error(d, CRED_P_MALFORMED);
    d = signed_vector();
    json_object_del(d, "proof");
    expect_error(d, CRED_P_PROOF_MISSING);
    /* A proof @context that the document does not start with. */
    d = signed_vector();
    json_array_remove(json_object_get(d, "@context"), 1);
    expect_error(d, CRED_P_PROOF_VERIFICATION);
}

static void test_malformed_input(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{", "{\"a\":1,\"a\":2}", "[1,2", "nonsense", "\xff\xfe", "{\"@context\":7}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cred_result *r = verify_text(bad[i], strlen(bad[i]));
        assert_false(cred_result_verified(r));
        assert_true(cred_result_error_count(r) > 0);
        cred_result_free(r);
    }
    /* Oversized: rejected before parsing. */
    size_t n = CRED_DOC_MAX + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    big[0] = '{';
    struct cred_result *r = NULL;
    struct vt_error err;
    assert_int_equal(cred_verify((const uint8_t *)big, n, NULL, &r, &err), VT_ERR_TOO_LARGE);
    assert_true(cred_result_has_error(r, CRED_P_PARSING));
    cred_result_free(r);
    free(big);
    /* Deep nesting is capped. */
    char deep[400];
    memset(deep, '[', sizeof(deep));
    r = verify_text(deep, sizeof(deep));
    assert_false(cred_result_verified(r));
    cred_result_free(r);
}

int main(void)
{
    vt_test_require_shared("vectors/vc-di-eddsa/keyPair.json");
    if (vt_core_init(NULL) != VT_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_intermediates),
        cmocka_unit_test(test_vector_sign),
        cmocka_unit_test(test_vector_verify),
        cmocka_unit_test(test_every_byte_change_fails),
        cmocka_unit_test(test_round_trip_and_proof_set),
        cmocka_unit_test(test_bad_proofs),
        cmocka_unit_test(test_malformed_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
