/* Presentations (challenge, domain, freshness, holder binding, enveloped credentials) and
 * endorsement nesting (depth cap, cycles). */
#include "credential/credential.h"
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

struct party {
    struct vt_key vk;
    struct cred_key *key;
    char did[VT_DIDKEY_MAX];
};

static void party_init(struct party *p)
{
    vt_key_generate(&p->vk);
    p->key = cred_key_from_vt(&p->vk);
    vt_didkey_from_public(p->vk.pk, p->did);
}

static void party_release(struct party *p)
{
    cred_key_free(p->key);
    vt_key_release(&p->vk);
}

static json_t *credential_for(const struct party *issuer, const char *subject, const char *id)
{
    json_t *d = json_pack("{s:[s],s:s,s:[s],s:s,s:s,s:{s:s}}", "@context", CRED_CONTEXT_V2, "id",
                          id, "type", "VerifiableCredential", "issuer", issuer->did, "validFrom",
                          "2024-01-01T00:00:00Z", "credentialSubject", "id", subject);
    json_t *s = NULL;
    assert_int_equal(cred_sign_di(d, issuer->key, NULL, &s, NULL), VT_OK);
    json_decref(d);
    return s;
}

static json_t *presentation(const struct party *holder, const json_t *const *vcs, size_t n,
                            const char *challenge, const char *domain, const char *created)
{
    json_t *vp = NULL, *svp = NULL;
    assert_int_equal(cred_presentation_new(holder->did, vcs, n, &vp, NULL), VT_OK);
    struct cred_di_options o = {.proof_purpose = "authentication",
                                .challenge = challenge,
                                .domain = domain,
                                .created = created};
    assert_int_equal(cred_sign_di(vp, holder->key, &o, &svp, NULL), VT_OK);
    json_decref(vp);
    return svp;
}

static struct cred_result *verify(const json_t *doc, const char *challenge, const char *domain)
{
    struct cred_verify_options opt;
    cred_verify_options_init(&opt);
    opt.challenge = challenge;
    opt.domain = domain;
    struct cred_result *r = NULL;
    assert_int_equal(cred_verify_json(doc, &opt, &r, NULL), VT_OK);
    return r;
}

static void expect(struct cred_result *r, bool ok, int problem)
{
    if (cred_result_verified(r) != ok || (problem >= 0 && !cred_result_has_error(r, problem)))
        fail_msg("unexpected: %s", json_dumps(cred_result_to_json(r), 0));
    cred_result_free(r);
}

static void test_presentation(void **state)
{
    (void)state;
    struct party issuer, holder, other;
    party_init(&issuer);
    party_init(&holder);
    party_init(&other);
    json_t *vc = credential_for(&issuer, holder.did, "urn:uuid:vc1");
    const json_t *vcs[] = {vc};
    json_t *vp = presentation(&holder, vcs, 1, "c-123", "verifier.example", NULL);
    expect(verify(vp, "c-123", "verifier.example"), true, -1);
    expect(verify(vp, "c-999", "verifier.example"), false, CRED_P_CHALLENGE);
    expect(verify(vp, "c-123", "evil.example"), false, CRED_P_DOMAIN);
    json_decref(vp);

    /* Stale: created long ago. */
    vp = presentation(&holder, vcs, 1, "c-123", "verifier.example", "2020-01-01T00:00:00Z");
    expect(verify(vp, "c-123", "verifier.example"), false, CRED_P_FRESHNESS);
    json_decref(vp);

    /* Signed by someone who is not the holder. */
    json_t *raw = NULL, *forged = NULL;
    assert_int_equal(cred_presentation_new(holder.did, vcs, 1, &raw, NULL), VT_OK);
    struct cred_di_options o = {.proof_purpose = "authentication", .challenge = "c-123"};
    assert_int_equal(cred_sign_di(raw, other.key, &o, &forged, NULL), VT_OK);
    expect(verify(forged, "c-123", NULL), false, CRED_P_KEY_RESOLUTION);
    json_decref(raw);
    json_decref(forged);

    /* The holder presents someone else's credential. */
    json_t *vc2 = credential_for(&issuer, other.did, "urn:uuid:vc2");
    const json_t *vcs2[] = {vc2};
    vp = presentation(&holder, vcs2, 1, "c-123", NULL, NULL);
    expect(verify(vp, "c-123", NULL), false, CRED_P_HOLDER);
    json_decref(vp);

    /* Wrong purpose: assertionMethod is not authentication. */
    assert_int_equal(cred_presentation_new(holder.did, vcs, 1, &raw, NULL), VT_OK);
    struct cred_di_options a = {.challenge = "c-123"};
    assert_int_equal(cred_sign_di(raw, holder.key, &a, &forged, NULL), VT_OK);
    expect(verify(forged, "c-123", NULL), false, CRED_P_PURPOSE);
    json_decref(raw);
    json_decref(forged);

    /* A tampered credential inside a valid presentation. */
    json_t *bad = json_deep_copy(vc);
    json_object_set_new(bad, "validFrom", json_string("2024-01-02T00:00:00Z"));
    const json_t *vcs3[] = {bad};
    vp = presentation(&holder, vcs3, 1, "c-123", NULL, NULL);
    expect(verify(vp, "c-123", NULL), false, CRED_P_PROOF_VERIFICATION);
    json_decref(vp);
    json_decref(bad);

    /* Enveloped JWT and COSE credentials. */
    json_t *unsigned_vc = json_deep_copy(vc);
    json_object_del(unsigned_vc, "proof");
    char *jwt = NULL;
    assert_int_equal(cred_sign_jwt(unsigned_vc, issuer.key, CRED_JWT_VC_JOSE, NULL, &jwt, NULL),
                     VT_OK);
    struct vt_buf cose, text;
    vt_buf_init(&cose, 1 << 20);
    vt_buf_init(&text, 1 << 21);
    assert_int_equal(cred_sign_cose(unsigned_vc, issuer.key, NULL, &cose, NULL), VT_OK);
    assert_int_equal(vt_base64url_encode(cose.data, cose.len, &text, NULL), VT_OK);
    json_t *env[] = {json_string(jwt), json_string((const char *)text.data)};
    vp = presentation(&holder, (const json_t *const *)env, 2, "c-1", NULL, NULL);
    expect(verify(vp, "c-1", NULL), true, -1);
    json_decref(vp);
    json_decref(env[0]);
    json_decref(env[1]);
    free(jwt);
    vt_buf_release(&cose);
    vt_buf_release(&text);
    json_decref(unsigned_vc);

    json_decref(vc);
    json_decref(vc2);
    party_release(&issuer);
    party_release(&holder);
    party_release(&other);
}

/* An endorsement of `id`, signed by p, optionally carrying an inner endorsement. */
static json_t *endorsement(const struct party *p, const char *eid, const char *id, json_t *inner)
{
    json_t *e = NULL, *s = NULL;
    assert_int_equal(cred_endorsement_new(eid, p->did, "Peer", id, "ok", &e, NULL), VT_OK);
    if (inner != NULL) {
        json_t *list = json_array();
        json_array_append_new(list, inner);
        json_object_set_new(e, "endorsement", list);
    }
    assert_int_equal(cred_sign_di(e, p->key, NULL, &s, NULL), VT_OK);
    json_decref(e);
    return s;
}

static void test_endorsement_depth_and_cycle(void **state)
{
    (void)state;
    struct party p;
    party_init(&p);
    /* Depth 3 (the default limit) verifies; depth 4 does not. */
    json_t *chain = NULL;
    char id[32];
    for (int i = 4; i >= 1; i--) {
        snprintf(id, sizeof(id), "urn:uuid:e%d", i);
        chain = endorsement(&p, id, i == 1 ? "urn:uuid:root" : "urn:uuid:e0", chain);
        if (i == 2) {
            json_t *top = endorsement(&p, "urn:uuid:top", "urn:uuid:root", json_incref(chain));
            expect(verify(top, NULL, NULL), true, -1);
            json_decref(top);
        }
    }
    json_t *deep = endorsement(&p, "urn:uuid:top", "urn:uuid:root", chain);
    expect(verify(deep, NULL, NULL), false, CRED_P_ENDORSEMENT);
    json_decref(deep);

    /* An endorsement that embeds a document with its own id again. */
    json_t *inner = endorsement(&p, "urn:uuid:loop", "urn:uuid:x", NULL);
    json_t *outer = endorsement(&p, "urn:uuid:loop", "urn:uuid:x", inner);
    struct cred_result *r = verify(outer, NULL, NULL);
    json_t *j = cred_result_to_json(r);
    char *s = json_dumps(j, 0);
    assert_non_null(strstr(s, "cycle"));
    free(s);
    json_decref(j);
    expect(r, false, CRED_P_ENDORSEMENT);
    json_decref(outer);
    party_release(&p);
}

int main(void)
{
    if (vt_core_init(NULL) != VT_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presentation),
        cmocka_unit_test(test_endorsement_depth_and_cycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
