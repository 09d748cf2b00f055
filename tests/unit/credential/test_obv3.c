/* Open Badges 3.0 shape: each 1EdTech simple-err-* sample is rejected for its own reason,
 * the valid samples pass every shape check (their rdfc proofs are reported as an
 * unsupported cryptosuite, nothing else), and documents built here validate. */
#include "credential/credential.h"
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

#define DIR "vectors/obv3/1edtech-validator-ob30/"

static struct cred_result *verify_sample(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof(rel), DIR "%s", name);
    char *path = vt_test_shared_path(rel);
    assert_non_null(path);
    size_t n;
    char *text = vt_test_read_file(path, &n);
    assert_non_null(text);
    struct cred_verify_options opt;
    cred_verify_options_init(&opt);
    struct cred_result *r = NULL;
    struct vt_error err;
    enum vt_status st = cred_verify((const uint8_t *)text, n, &opt, &r, &err);
    assert_int_equal(st, VT_OK);
    free(text);
    free(path);
    return r;
}

/* True if some error of problem p has detail containing frag. */
static bool has(const struct cred_result *r, enum cred_problem p, const char *frag)
{
    json_t *j = cred_result_to_json(r);
    size_t i;
    json_t *e;
    bool found = false;
    json_array_foreach(json_object_get(j, "errors"), i, e)
    {
        if (strcmp(vt_json_get_str(e, "type"), cred_problem_type(p)) == 0 &&
            strstr(vt_json_get_str(e, "detail"), frag) != NULL)
            found = true;
    }
    json_decref(j);
    return found;
}

static void dump_fail(const struct cred_result *r, const char *name, const char *why)
{
    char *s = json_dumps(cred_result_to_json(r), JSON_INDENT(1));
    fail_msg("%s: %s\n%s", name, why, s);
}

struct err_case {
    const char *file;
    enum cred_problem problem;
    const char *detail;
};

static const struct err_case err_cases[] = {
    {"simple-err-context.json", CRED_P_CONTEXT, "first @context item"},
    {"simple-err-credential-subject-achievement-result-description-type.json", CRED_P_OPENBADGES,
     "resultDescription[2]: 'type' must include 'ResultDescription'"},
    {"simple-err-credential-subject-identifier-type.json", CRED_P_OPENBADGES,
     "identifier[0]: 'type' must be 'IdentityObject'"},
    {"simple-err-credential-subject-profile-type.json", CRED_P_OPENBADGES,
     "credentialSubject.source: 'type' must include 'Profile'"},
    {"simple-err-credential-subject-result-type.json", CRED_P_OPENBADGES,
     "result[1]: 'type' must include 'Result'"},
    {"simple-err-credential-subject-type.json", CRED_P_OPENBADGES,
     "credentialSubject: 'type' must include 'AchievementSubject'"},
    {"simple-err-evidence-type.json", CRED_P_OPENBADGES,
     "evidence[1]: 'type' must include 'Evidence'"},
    {"simple-err-expired.json", CRED_P_EXPIRED, "validUntil"},
    {"simple-err-issued.json", CRED_P_NOT_YET_VALID, "validFrom"},
    {"simple-err-issuer-otheridentifier-type.json", CRED_P_OPENBADGES,
     "otherIdentifier[1]: 'type' must include 'IdentifierEntry'"},
    {"simple-err-issuer-parentorg-type.json", CRED_P_OPENBADGES,
     "issuer.parentOrg: 'type' must include 'Profile'"},
    {"simple-err-issuer-type.json", CRED_P_OPENBADGES,
     "credential.issuer: 'type' must include 'Profile'"},
    {"simple-err-issuer.json", CRED_P_MALFORMED, "'issuer' is required"},
    {"simple-err-proof-method-no-scheme.json", CRED_P_KEY_RESOLUTION, "has no URL scheme"},
    {"simple-err-proof-method-unknown-did-method.json", CRED_P_KEY_RESOLUTION,
     "DID method 'example'"},
    {"simple-err-proof-method-unknown-scheme.json", CRED_P_KEY_RESOLUTION,
     "unsupported scheme 'xxx'"},
    {"simple-err-proof-method.json", CRED_P_KEY_RESOLUTION, "is not an Ed25519 Multikey"},
    {"simple-err-type.json", CRED_P_OPENBADGES, "must include 'OpenBadgeCredential'"},
};

static void test_err_samples(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        struct cred_result *r = verify_sample(err_cases[i].file);
        if (cred_result_verified(r))
            dump_fail(r, err_cases[i].file, "verified");
        if (!has(r, err_cases[i].problem, err_cases[i].detail))
            dump_fail(r, err_cases[i].file, err_cases[i].detail);
        cred_result_free(r);
    }
}

/*
 * simple-err-proof-value differs from a valid document only in its rdfc signature, which
 * needs RDF canonicalization to check: it is rejected, but only as unchecked.
 */
static void test_err_proof_value_unchecked(void **state)
{
    (void)state;
    struct cred_result *r = verify_sample("simple-err-proof-value.json");
    assert_false(cred_result_verified(r));
    assert_true(cred_result_has_error(r, CRED_P_UNSUPPORTED_SUITE));
    cred_result_free(r);
}

static const char *const valid_samples[] = {
    "simple.json",
    "complete.json",
    "simple-did-key-method.json",
    "simple-did-web-method.json",
    "simple-multiple-proofs.json",
    "endorsement-valid.json",
    "simple-context-alias.json",
    "simple-context-version.json",
};

static void test_valid_samples_shape(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(valid_samples) / sizeof(valid_samples[0]); i++) {
        struct cred_result *r = verify_sample(valid_samples[i]);
        static const enum cred_problem shape[] = {CRED_P_OPENBADGES, CRED_P_MALFORMED,
                                                  CRED_P_CONTEXT,    CRED_P_KEY_RESOLUTION,
                                                  CRED_P_EXPIRED,    CRED_P_NOT_YET_VALID};
        for (size_t k = 0; k < sizeof(shape) / sizeof(shape[0]); k++) {
            if (cred_result_has_error(r, shape[k]))
                dump_fail(r, valid_samples[i], cred_problem_type(shape[k]));
        }
        if (!cred_result_has_error(r, CRED_P_UNSUPPORTED_SUITE))
            dump_fail(r, valid_samples[i], "rdfc proof not reported as unsupported");
        assert_true(cred_result_has_check(r, "openbadges"));
        cred_result_free(r);
    }
}

static void test_noproof_and_v1(void **state)
{
    (void)state;
    struct cred_result *r = verify_sample("simple-noproof.json");
    assert_true(cred_result_has_error(r, CRED_P_PROOF_MISSING));
    cred_result_free(r);
    static const char *const v1[] = {"simple_v1.json", "complete_v1.json", "simple-eddsa-2022.json",
                                     "credential-status-revoked.json"};
    for (size_t i = 0; i < sizeof(v1) / sizeof(v1[0]); i++) {
        r = verify_sample(v1[i]);
        if (!has(r, CRED_P_CONTEXT, "VC 1.1"))
            dump_fail(r, v1[i], "VC 1.1 not reported");
        cred_result_free(r);
    }
}

static void test_identity_hash(void **state)
{
    (void)state;
    char h[CRED_IDENTITY_HASH_MAX];
    cred_identity_hash("a@example.com", "Kosher", h);
    assert_string_equal(h,
                        "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399");
}

static void test_built_badge_verifies(void **state)
{
    (void)state;
    struct vt_key vk;
    vt_key_generate(&vk);
    struct cred_key *key = cred_key_from_vt(&vk);
    char did[VT_DIDKEY_MAX];
    vt_didkey_from_public(vk.pk, did);
    static const struct cred_alignment al[] = {
        {"Teamwork", "https://case.example/CFItem/1", "T1", "Skills", "CFItem"},
        {"Collaboration", "https://ctdl.example/c/2", NULL, NULL, "ceasn:Competency"},
    };
    static const char *const hashes[] = {
        "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"};
    struct cred_ledger_evidence ev = {hashes, 1, "vitae.example/log\n42\nabc=\n", "vitae.example",
                                      NULL};
    struct cred_award a = {
        .id = "urn:uuid:5b8f1c34-9a6e-4c1d-8d4e-2f6a7b8c9d0e",
        .issuer_id = did,
        .issuer_name = "Example School",
        .valid_from = "2024-01-01T00:00:00Z",
        .subject_identifier = "learner@example.org",
        .subject_identity_type = "emailAddress",
        .subject_salt = "s4lt",
        .achievement_id = "https://school.example/achievements/teamwork",
        .achievement_name = "Teamwork",
        .achievement_description = "Works well in a team.",
        .criteria_narrative = "Completed three group projects.",
        .alignments = al,
        .alignment_count = 2,
        .result_type = "Percent",
        .result_value = "92",
        .evidence = &ev,
    };
    json_t *doc = NULL, *signed_doc = NULL;
    struct vt_error err;
    assert_int_equal(cred_openbadge_new(&a, &doc, &err), VT_OK);
    assert_int_equal(cred_sign_di(doc, key, NULL, &signed_doc, &err), VT_OK);
    struct cred_result *r = NULL;
    assert_int_equal(cred_verify_json(signed_doc, NULL, &r, &err), VT_OK);
    if (!cred_result_verified(r))
        dump_fail(r, "built badge", "not verified");
    assert_true(cred_result_has_check(r, "openbadges"));
    cred_result_free(r);

    /* Endorsed by a peer, embedded in the achievement. */
    struct vt_key pk;
    vt_key_generate(&pk);
    struct cred_key *peer = cred_key_from_vt(&pk);
    char peer_did[VT_DIDKEY_MAX];
    vt_didkey_from_public(pk.pk, peer_did);
    json_t *e = NULL, *se = NULL;
    assert_int_equal(cred_endorsement_new("urn:uuid:e1", peer_did, "Peer",
                                          "https://school.example/achievements/teamwork",
                                          "Well deserved.", &e, &err),
                     VT_OK);
    assert_int_equal(cred_sign_di(e, peer, NULL, &se, &err), VT_OK);
    json_t *ach = json_object_get(json_object_get(doc, "credentialSubject"), "achievement");
    json_t *list = json_array();
    json_array_append(list, se);
    json_object_set_new(ach, "endorsement", list);
    json_decref(signed_doc);
    assert_int_equal(cred_sign_di(doc, key, NULL, &signed_doc, &err), VT_OK);
    assert_int_equal(cred_verify_json(signed_doc, NULL, &r, &err), VT_OK);
    if (!cred_result_verified(r))
        dump_fail(r, "endorsed badge", "not verified");
    assert_true(cred_result_has_check(r, "endorsements"));
    cred_result_free(r);

    /* A tampered endorsement fails the outer credential. */
    json_object_set_new(json_object_get(se, "credentialSubject"), "endorsementComment",
                        json_string("Forged."));
    json_decref(signed_doc);
    assert_int_equal(cred_sign_di(doc, key, NULL, &signed_doc, &err), VT_OK);
    assert_int_equal(cred_verify_json(signed_doc, NULL, &r, &err), VT_OK);
    assert_false(cred_result_verified(r));
    assert_true(cred_result_has_error(r, CRED_P_ENDORSEMENT));
    cred_result_free(r);

    /* A CLR bundling the badge verifies, and fails when the badge inside is tampered. */
    json_t *clr = NULL, *sclr = NULL;
    json_t *badge = NULL;
    json_object_del(ach, "endorsement");
    assert_int_equal(cred_sign_di(doc, key, NULL, &badge, &err), VT_OK);
    const json_t *items[] = {badge};
    assert_int_equal(cred_clr_new("urn:uuid:c1", did, "Example School", "did:example:learner",
                                  items, 1, &clr, &err),
                     VT_OK);
    assert_int_equal(cred_sign_di(clr, key, NULL, &sclr, &err), VT_OK);
    assert_int_equal(cred_verify_json(sclr, NULL, &r, &err), VT_OK);
    if (!cred_result_verified(r))
        dump_fail(r, "clr", "not verified");
    cred_result_free(r);
    json_t *inner = json_array_get(
        json_object_get(json_object_get(clr, "credentialSubject"), "verifiableCredential"), 0);
    json_object_set_new(inner, "name", json_string("Forged"));
    json_decref(sclr);
    assert_int_equal(cred_sign_di(clr, key, NULL, &sclr, &err), VT_OK);
    assert_int_equal(cred_verify_json(sclr, NULL, &r, &err), VT_OK);
    assert_false(cred_result_verified(r));
    cred_result_free(r);

    json_decref(clr);
    json_decref(sclr);
    json_decref(badge);
    json_decref(e);
    json_decref(se);
    json_decref(doc);
    json_decref(signed_doc);
    cred_key_free(key);
    cred_key_free(peer);
    vt_key_release(&vk);
    vt_key_release(&pk);
}

int main(void)
{
    vt_test_require_shared(DIR "simple.json");
    if (vt_core_init(NULL) != VT_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_samples),
        cmocka_unit_test(test_err_proof_value_unchecked),
        cmocka_unit_test(test_valid_samples_shape),
        cmocka_unit_test(test_noproof_and_v1),
        cmocka_unit_test(test_identity_hash),
        cmocka_unit_test(test_built_badge_verifies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
