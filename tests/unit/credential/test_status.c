/* Bitstring Status List: the spec example, 1EdTech's testlist (index 23), encode/decode
 * round trips, random allocation, and revocation and suspension through the lookup seam. */
#include "credential/credential.h"
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

#define SPEC_EXAMPLE "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"

static void test_spec_example(void **state)
{
    (void)state;
    struct cred_status_list *l = NULL;
    struct vt_error err;
    assert_int_equal(cred_status_list_decode(SPEC_EXAMPLE, &l, &err), VT_OK);
    assert_int_equal(cred_status_list_size(l), 131072);
    for (size_t i = 0; i < 131072; i += 977)
        assert_false(cred_status_list_get(l, i));
    /* zlib at level 6 with an empty GZIP header gives the spec's bytes exactly. */
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    assert_int_equal(cred_status_list_encode(l, &b, &err), VT_OK);
    assert_string_equal((const char *)b.data, SPEC_EXAMPLE);
    vt_buf_release(&b);
    cred_status_list_free(l);
}

static void test_testlist_index_23(void **state)
{
    (void)state;
    char *path = vt_test_shared_path("vectors/bitstring-status-list/testlist");
    if (path == NULL)
        skip();
    json_t *doc = NULL;
    struct vt_error err;
    assert_int_equal(vt_json_read_file(path, CRED_DOC_MAX, 64, &doc, &err), VT_OK);
    const char *enc = vt_json_get_str(json_object_get(doc, "credentialSubject"), "encodedList");
    struct cred_status_list *l = NULL;
    assert_int_equal(cred_status_list_decode(enc, &l, &err), VT_OK);
    assert_int_equal(cred_status_list_size(l), 131072);
    for (size_t i = 0; i < 131072; i++)
        assert_int_equal(cred_status_list_get(l, i), i == 23);
    cred_status_list_free(l);
    json_decref(doc);
    free(path);
}

static void test_decode_rejects(void **state)
{
    (void)state;
    struct cred_status_list *l = NULL;
    struct vt_error err;
    assert_int_not_equal(cred_status_list_decode("zabc", &l, &err), VT_OK);
    assert_int_not_equal(cred_status_list_decode("uAAAA", &l, &err), VT_OK);
    assert_int_not_equal(cred_status_list_decode("", &l, &err), VT_OK);
    /* A valid GZIP of a list that is too short. */
    assert_int_not_equal(cred_status_list_decode("uH4sIAAAAAAAAA2NgAAAAWOoA8gEAAAA", &l, &err),
                         VT_OK);
    assert_null(l);
    /* Truncated GZIP. */
    assert_int_not_equal(
        cred_status_list_decode("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAA", &l, &err), VT_OK);
}

static void test_round_trip_and_allocate(void **state)
{
    (void)state;
    struct cred_status_list *l = NULL, *back = NULL;
    struct vt_error err;
    assert_int_equal(cred_status_list_new(131072, &l, &err), VT_OK);
    assert_int_not_equal(cred_status_list_new(1000, &back, &err), VT_OK);
    size_t seen[64];
    for (size_t i = 0; i < 64; i++) {
        assert_int_equal(cred_status_list_allocate(l, &seen[i], &err), VT_OK);
        for (size_t k = 0; k < i; k++)
            assert_true(seen[k] != seen[i]);
    }
    assert_int_equal(cred_status_list_set(l, seen[3], true, &err), VT_OK);
    assert_int_equal(cred_status_list_set(l, 0, true, &err), VT_OK);
    assert_int_equal(cred_status_list_set(l, 131071, true, &err), VT_OK);
    assert_int_not_equal(cred_status_list_set(l, 131072, true, &err), VT_OK);
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    assert_int_equal(cred_status_list_encode(l, &b, &err), VT_OK);
    assert_int_equal(cred_status_list_decode((const char *)b.data, &back, &err), VT_OK);
    for (size_t i = 0; i < 131072; i++)
        assert_int_equal(cred_status_list_get(back, i), cred_status_list_get(l, i));
    vt_buf_release(&b);
    cred_status_list_free(l);
    cred_status_list_free(back);
}

struct lists {
    json_t *list;
    const char *url;
};

static enum vt_status lookup(void *ctx, const char *url, json_t **out, struct vt_error *err)
{
    struct lists *l = ctx;
    if (strcmp(url, l->url) != 0)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "no list '%s'", url);
    *out = json_incref(l->list);
    return VT_OK;
}

/* Issues a credential with a status entry, signs the list, and flips the bit. */
static void check_purpose(const char *purpose, enum cred_problem problem)
{
    struct vt_key vk;
    vt_key_generate(&vk);
    struct cred_key *key = cred_key_from_vt(&vk);
    char did[VT_DIDKEY_MAX];
    vt_didkey_from_public(vk.pk, did);
    const char *url = "https://issuer.example/status/1";
    struct cred_status_list *l = NULL;
    struct vt_error err;
    assert_int_equal(cred_status_list_new(131072, &l, &err), VT_OK);
    size_t index;
    assert_int_equal(cred_status_list_allocate(l, &index, &err), VT_OK);
    json_t *doc = json_pack("{s:[s],s:s,s:[s],s:s,s:{s:s},s:o}", "@context", CRED_CONTEXT_V2, "id",
                            "urn:uuid:1", "type", "VerifiableCredential", "issuer", did,
                            "credentialSubject", "id", "did:example:l", "credentialStatus",
                            cred_status_entry(url, index, purpose));
    json_t *sdoc = NULL;
    assert_int_equal(cred_sign_di(doc, key, NULL, &sdoc, &err), VT_OK);

    struct lists ctx = {NULL, url};
    struct cred_verify_options opt;
    cred_verify_options_init(&opt);
    opt.status_lookup = lookup;
    opt.status_lookup_ctx = &ctx;
    for (int flip = 0; flip < 3; flip++) {
        /* 0: clear, 1: set, 2: cleared again (only suspension may be). */
        assert_int_equal(cred_status_list_set(l, index, flip == 1, &err), VT_OK);
        json_t *lc = NULL;
        assert_int_equal(cred_status_list_credential(l, url, did, purpose, &lc, &err), VT_OK);
        json_decref(ctx.list);
        assert_int_equal(cred_sign_di(lc, key, NULL, &ctx.list, &err), VT_OK);
        json_decref(lc);
        struct cred_result *r = NULL;
        assert_int_equal(cred_verify_json(sdoc, &opt, &r, &err), VT_OK);
        assert_true(cred_result_has_check(r, "status"));
        if (flip == 1) {
            assert_false(cred_result_verified(r));
            assert_true(cred_result_has_error(r, problem));
        } else if (!cred_result_verified(r)) {
            fail_msg("%s", json_dumps(cred_result_to_json(r), 0));
        }
        cred_result_free(r);
    }
    /* A list whose signature fails cannot clear a credential. */
    json_object_set_new(json_object_get(ctx.list, "credentialSubject"), "id",
                        json_string("https://x.example/other"));
    struct cred_result *r = NULL;
    assert_int_equal(cred_verify_json(sdoc, &opt, &r, &err), VT_OK);
    assert_false(cred_result_verified(r));
    assert_true(cred_result_has_error(r, CRED_P_STATUS));
    cred_result_free(r);
    /* No list at that URL. */
    ctx.url = "https://elsewhere.example/";
    assert_int_equal(cred_verify_json(sdoc, &opt, &r, &err), VT_OK);
    assert_true(cred_result_has_error(r, CRED_P_STATUS));
    cred_result_free(r);

    json_decref(ctx.list);
    json_decref(doc);
    json_decref(sdoc);
    cred_status_list_free(l);
    cred_key_free(key);
    vt_key_release(&vk);
}

static void test_revocation(void **state)
{
    (void)state;
    check_purpose("revocation", CRED_P_STATUS_REVOKED);
}

static void test_suspension(void **state)
{
    (void)state;
    check_purpose("suspension", CRED_P_STATUS_SUSPENDED);
}

int main(void)
{
    if (vt_core_init(NULL) != VT_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_example),   cmocka_unit_test(test_testlist_index_23),
        cmocka_unit_test(test_decode_rejects), cmocka_unit_test(test_round_trip_and_allocate),
        cmocka_unit_test(test_revocation),     cmocka_unit_test(test_suspension),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
