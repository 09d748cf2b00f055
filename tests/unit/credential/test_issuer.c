/* The issuer over a real ledger: issuance in every form with evidence, status changes,
 * replay after a restart, key rotation judged by the log, did:web documents, bulk
 * issuance, refusals, and its status list cache. */
#include "../ledger/ledger_fixture.h"

#include "credential/credential.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BASE "https://issuer.example/status"
#define DID_WEB "did:web:issuer.example"

struct fx {
    char *dir;
    struct vt_key service;
    struct ledger *ledger;
    struct cred_key *key;
    struct cred_issuer *iss;
};

static struct cred_key *ed_key(uint8_t fill)
{
    struct vt_key vk;
    fixture_key(&vk, fill);
    struct cred_key *k = cred_key_from_vt(&vk);
    vt_key_release(&vk);
    return k;
}

static enum vt_status open_issuer(struct fx *f, const char *did, struct cred_key *key,
                                  struct cred_key *extra, struct vt_error *err)
{
    struct cred_issuer_options o;
    cred_issuer_options_init(&o);
    o.ledger = f->ledger;
    o.did = did;
    o.name = "Example University";
    o.key = key;
    o.extra_keys = extra != NULL ? &extra : NULL;
    o.extra_key_count = extra != NULL ? 1 : 0;
    o.status_base_url = BASE;
    return cred_issuer_open(&o, &f->iss, err);
}

static void fx_open(struct fx *f, const char *did)
{
    memset(f, 0, sizeof(*f));
    f->dir = fixture_tmpdir();
    fixture_key(&f->service, 0x11);
    f->ledger = fixture_open(f->dir, &f->service, 0);
    f->key = ed_key(0x22);
    struct vt_error err;
    if (open_issuer(f, did, f->key, NULL, &err) != VT_OK)
        fail_msg("cred_issuer_open: %s", err.msg);
}

static void fx_reopen(struct fx *f, struct cred_key *key)
{
    cred_issuer_close(f->iss);
    ledger_close(f->ledger);
    f->ledger = fixture_open(f->dir, &f->service, 0);
    struct vt_error err;
    if (open_issuer(f, DID_WEB, key, NULL, &err) != VT_OK)
        fail_msg("cred_issuer_open again: %s", err.msg);
}

static void fx_close(struct fx *f)
{
    cred_issuer_close(f->iss);
    ledger_close(f->ledger);
    cred_key_free(f->key);
    fixture_rmtree(f->dir);
    free(f->dir);
}

static uint64_t append_event(struct fx *f, const uint8_t *learner)
{
    struct ledger_append_req r = fixture_req(learner, "assessment", "{\"score\":0.9}");
    struct ledger_append_result res;
    struct vt_error err;
    if (ledger_append(f->ledger, &r, &res, &err) != VT_OK)
        fail_msg("ledger_append: %s", err.msg);
    return res.index;
}

static const struct cred_alignment alignment = {
    .target_name = "Statics: equilibrium",
    .target_url = "https://example.org/frameworks/statics/equilibrium",
    .target_type = "ceasn:Competency",
};

static struct cred_award award_for(const char *learner_did)
{
    struct cred_award a;
    memset(&a, 0, sizeof(a));
    a.subject_id = learner_did;
    a.achievement_id = "https://issuer.example/achievements/statics-1";
    a.achievement_name = "Statics I";
    a.achievement_description = "Solves equilibrium problems for rigid bodies.";
    a.achievement_type = "Competency";
    a.criteria_narrative = "Mastery estimate at least 0.95 on every equilibrium skill.";
    a.alignments = &alignment;
    a.alignment_count = 1;
    a.result_type = "Percent";
    a.result_value = "92";
    return a;
}

static struct cred_result *verify_bytes(struct fx *f, const void *p, size_t n)
{
    struct cred_verify_options opt;
    cred_verify_options_init(&opt);
    opt.key_lookup = cred_issuer_key_lookup;
    opt.key_lookup_ctx = f->iss;
    opt.status_lookup = cred_issuer_status_lookup;
    opt.status_lookup_ctx = f->iss;
    struct cred_result *r = NULL;
    struct vt_error err;
    enum vt_status st = cred_verify(p, n, &opt, &r, &err);
    (void)st;
    return r;
}

static struct cred_result *verify_json(struct fx *f, const json_t *doc)
{
    char *s = json_dumps(doc, JSON_COMPACT);
    struct cred_result *r = verify_bytes(f, s, strlen(s));
    free(s);
    return r;
}

static struct cred_result *verify_di(struct fx *f, const struct cred_issued *o)
{
    return verify_bytes(f, o->di, o->di_len);
}

/* The issued Data Integrity credential, parsed; a new reference. */
static json_t *di_doc(const struct cred_issued *o)
{
    json_t *doc = NULL;
    struct vt_error err;
    if (vt_json_parse(o->di, o->di_len, CRED_DOC_MAX, 64, &doc, &err) != VT_OK)
        fail_msg("issued credential does not parse: %s", err.msg);
    return doc;
}

static void expect(struct cred_result *r, bool verified, int problem)
{
    if (cred_result_verified(r) != verified ||
        (problem >= 0 && !cred_result_has_error(r, (enum cred_problem)problem))) {
        char *s = json_dumps(cred_result_to_json(r), 0);
        fail_msg("expected verified=%d (problem %d): %s", verified, problem, s);
    }
    cred_result_free(r);
}

static void test_issue_all_forms(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, DID_WEB);
    uint8_t learner[LEDGER_LEARNER_LEN];
    fixture_learner(learner, 1);
    uint64_t ev[2] = {append_event(&f, learner), append_event(&f, learner)};
    struct cred_award a = award_for("did:example:learner-1");
    struct cred_issue_request req;
    memset(&req, 0, sizeof(req));
    memcpy(req.learner, learner, sizeof(learner));
    req.award = &a;
    req.evidence = ev;
    req.evidence_count = 2;
    req.formats = CRED_FORMAT_DI | CRED_FORMAT_JWT | CRED_FORMAT_COSE;
    struct cred_issued out;
    struct vt_error err;
    if (cred_issue_achievement(f.iss, &req, &out, &err) != VT_OK)
        fail_msg("issue: %s", err.msg);
    assert_non_null(out.di);
    assert_non_null(out.jwt);
    assert_non_null(out.cose);
    assert_int_equal(strncmp(out.id, "urn:uuid:", 9), 0);

    /* Every form verifies, with the key history and the status lists in the loop. */
    struct cred_result *r = verify_di(&f, &out);
    assert_true(cred_result_has_check(r, "key-validity"));
    assert_true(cred_result_has_check(r, "status"));
    expect(r, true, -1);
    expect(verify_bytes(&f, out.jwt, strlen(out.jwt)), true, -1);
    expect(verify_bytes(&f, out.cose, out.cose_len), true, -1);

    /* Evidence cites the leaf hashes and indexes under a checkpoint. */
    json_t *out_doc = di_doc(&out);
    const json_t *e = json_array_get(json_object_get(out_doc, "evidence"), 0);
    const json_t *hashes = json_object_get(e, "vitae:eventHashes");
    assert_int_equal(json_array_size(hashes), 2);
    struct vt_buf leaf;
    vt_buf_init(&leaf, LEDGER_LEAF_MAX);
    assert_int_equal(ledger_event_read(f.ledger, ev[1], &leaf, &err), VT_OK);
    uint8_t lh[LEDGER_HASH_LEN];
    ledger_leaf_hash(leaf.data, leaf.len, lh);
    vt_buf_release(&leaf);
    struct vt_buf hex;
    vt_buf_init(&hex, 128);
    assert_int_equal(vt_hex_encode(lh, sizeof(lh), &hex, &err), VT_OK);
    assert_string_equal(json_string_value(json_array_get(hashes, 1)), (const char *)hex.data);
    vt_buf_release(&hex);
    assert_non_null(vt_json_get_str(e, "vitae:checkpoint"));
    assert_int_equal(json_number_value(json_array_get(json_object_get(e, "vitae:eventIndexes"), 0)),
                     (double)ev[0]);
    json_decref(out_doc);

    /* The learner's chain records the issuance with the credential hash and slot. */
    uint64_t seq, index;
    assert_int_equal(ledger_head(f.ledger, learner, &seq, &index, NULL, &err), VT_OK);
    assert_int_equal(index, out.event_index);
    struct vt_buf payload;
    vt_buf_init(&payload, 1 << 16);
    assert_int_equal(ledger_payload_read(f.ledger, index, &payload, &err), VT_OK);
    assert_non_null(strstr((const char *)payload.data, out.id));
    vt_buf_release(&payload);
    struct ledger_append_result dup;
    assert_int_equal(
        ledger_id_lookup(f.ledger, (const uint8_t *)out.id, strlen(out.id), &dup, &err), VT_OK);
    assert_int_equal(dup.index, out.event_index);

    /* The same id again is refused rather than recorded twice. */
    a.id = out.id;
    struct cred_issued again;
    assert_int_equal(cred_issue_achievement(f.iss, &req, &again, &err), VT_ERR_EXISTS);
    assert_null(again.di);
    cred_issued_release(&again);
    cred_issued_release(&out);
    fx_close(&f);
}

static void test_status_changes_survive_restart(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, DID_WEB);
    uint8_t learner[LEDGER_LEARNER_LEN];
    fixture_learner(learner, 2);
    struct cred_award a = award_for("did:example:learner-2");
    struct cred_issue_request req[3];
    memset(req, 0, sizeof(req));
    for (int i = 0; i < 3; i++) {
        memcpy(req[i].learner, learner, sizeof(learner));
        req[i].award = &a;
    }
    struct cred_issued out[3];
    struct vt_error err;
    if (cred_issue_achievements(f.iss, req, 3, out, &err) != VT_OK)
        fail_msg("issue: %s", err.msg);
    struct cred_status_ref refs[3];
    for (int i = 0; i < 3; i++) {
        json_t *d = di_doc(&out[i]);
        assert_int_equal(cred_issuer_status_ref(f.iss, d, &refs[i], &err), VT_OK);
        json_decref(d);
        assert_int_equal(refs[i].index, out[i].status_index);
    }
    assert_int_equal(cred_issuer_revoke(f.iss, &refs[0], out[0].id, &err), VT_OK);
    assert_int_equal(cred_issuer_suspend(f.iss, &refs[1], out[1].id, &err), VT_OK);
    assert_int_equal(cred_issuer_suspend(f.iss, &refs[2], NULL, &err), VT_OK);
    assert_int_equal(cred_issuer_unsuspend(f.iss, &refs[2], NULL, &err), VT_OK);
    /* Repeats change nothing and append nothing. */
    uint64_t size = ledger_size(f.ledger);
    assert_int_equal(cred_issuer_revoke(f.iss, &refs[0], NULL, &err), VT_OK);
    assert_int_equal(ledger_size(f.ledger), size);

    expect(verify_di(&f, &out[0]), false, CRED_P_STATUS_REVOKED);
    expect(verify_di(&f, &out[1]), false, CRED_P_STATUS_SUSPENDED);
    expect(verify_di(&f, &out[2]), true, -1);

    /* A slot never handed out is not a credential. */
    struct cred_status_ref bogus = {refs[0].list, (refs[0].index + 1) % CRED_STATUS_MIN_ENTRIES};
    if (bogus.index != refs[1].index && bogus.index != refs[2].index)
        assert_int_equal(cred_issuer_revoke(f.iss, &bogus, NULL, &err), VT_ERR_NOT_FOUND);
    struct cred_status_ref far = {7, 0};
    assert_int_equal(cred_issuer_suspend(f.iss, &far, NULL, &err), VT_ERR_NOT_FOUND);

    /* After a restart the lists come back from the issuer chain alone. */
    fx_reopen(&f, f.key);
    bool revoked, suspended;
    assert_int_equal(cred_issuer_status_get(f.iss, &refs[0], &revoked, &suspended, &err), VT_OK);
    assert_true(revoked);
    assert_int_equal(cred_issuer_status_get(f.iss, &refs[1], &revoked, &suspended, &err), VT_OK);
    assert_true(suspended && !revoked);
    assert_int_equal(cred_issuer_status_get(f.iss, &refs[2], &revoked, &suspended, &err), VT_OK);
    assert_false(suspended || revoked);
    expect(verify_di(&f, &out[0]), false, CRED_P_STATUS_REVOKED);
    expect(verify_di(&f, &out[2]), true, -1);

    /* The served list is a signed BitstringStatusListCredential with the bit set. */
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(cred_issuer_status_list(f.iss, "revocation-0", &text, &len, &err), VT_OK);
    struct cred_result *lr = verify_bytes(&f, text, len);
    expect(lr, true, -1);
    json_t *list = NULL;
    assert_int_equal(vt_json_parse(text, len, CRED_DOC_MAX, 64, &list, &err), VT_OK);
    struct cred_status_list *bits = NULL;
    assert_int_equal(cred_status_list_decode(
                         vt_json_get_str(json_object_get(list, "credentialSubject"), "encodedList"),
                         &bits, &err),
                     VT_OK);
    assert_true(cred_status_list_get(bits, refs[0].index));
    assert_false(cred_status_list_get(bits, refs[2].index));
    cred_status_list_free(bits);
    json_decref(list);
    free(text);
    assert_int_equal(cred_issuer_status_list(f.iss, "revocation-9", &text, &len, &err),
                     VT_ERR_NOT_FOUND);
    assert_int_equal(cred_issuer_status_list(f.iss, "../etc", &text, &len, &err), VT_ERR_NOT_FOUND);

    /* New slots after the restart never repeat old ones. */
    struct cred_issued more[3];
    if (cred_issue_achievements(f.iss, req, 3, more, &err) != VT_OK)
        fail_msg("issue after restart: %s", err.msg);
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++)
            assert_false(more[i].status_list == out[j].status_list &&
                         more[i].status_index == out[j].status_index);
        cred_issued_release(&more[i]);
    }
    for (int i = 0; i < 3; i++)
        cred_issued_release(&out[i]);
    fx_close(&f);
}

static void test_key_rotation(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, DID_WEB);
    uint8_t learner[LEDGER_LEARNER_LEN];
    fixture_learner(learner, 3);
    struct cred_award a = award_for("did:example:learner-3");
    struct cred_issue_request req;
    memset(&req, 0, sizeof(req));
    memcpy(req.learner, learner, sizeof(learner));
    req.award = &a;
    req.formats = CRED_FORMAT_DI | CRED_FORMAT_COSE;
    struct cred_issued before;
    struct vt_error err;
    assert_int_equal(cred_issue_achievement(f.iss, &req, &before, &err), VT_OK);
    json_t *before_doc = di_doc(&before);
    const char *old_vm =
        vt_json_get_str(json_object_get(before_doc, "proof"), "verificationMethod");
    char *old_vm_copy = strdup(old_vm);

    struct cred_key *k2 = ed_key(0x33);
    assert_int_equal(cred_issuer_rotate_key(f.iss, k2, false, &err), VT_OK);
    assert_int_equal(cred_issuer_rotate_key(f.iss, f.key, false, &err), VT_ERR_INVALID);

    /* Signed before the rotation: still valid. */
    expect(verify_di(&f, &before), true, -1);
    expect(verify_bytes(&f, before.cose, before.cose_len), true, -1);

    /* The retired key signing now, or claiming a time after its retirement, fails; the
     * retirement time comes from the log, not from the signer. */
    json_t *unsigned_doc = json_deep_copy(before_doc);
    json_object_del(unsigned_doc, "proof");
    struct cred_key *lookup_key = NULL;
    int64_t now = vt_time_now_ms();
    char later[VT_TIME_MAX];
    vt_time_format((now / 1000 + 2) * 1000, later);
    struct cred_di_options o = {.verification_method = old_vm_copy, .created = later};
    json_t *forged = NULL;
    assert_int_equal(cred_sign_di(unsigned_doc, f.key, &o, &forged, &err), VT_OK);
    expect(verify_json(&f, forged), false, CRED_P_KEY_VALIDITY);
    json_decref(forged);
    assert_int_equal(cred_issuer_key_lookup(f.iss, old_vm_copy, now + 2000, &lookup_key, &err),
                     VT_ERR_PERMISSION);
    assert_int_equal(cred_issuer_key_lookup(f.iss, old_vm_copy, -1, &lookup_key, &err),
                     VT_ERR_PERMISSION);
    assert_int_equal(cred_issuer_key_lookup(f.iss, "did:web:other.example#k", 0, &lookup_key, &err),
                     VT_ERR_NOT_FOUND);

    /* New issuance uses the new key, and verifies. */
    struct cred_issued after;
    assert_int_equal(cred_issue_achievement(f.iss, &req, &after, &err), VT_OK);
    json_t *after_doc = di_doc(&after);
    assert_string_not_equal(
        vt_json_get_str(json_object_get(after_doc, "proof"), "verificationMethod"), old_vm_copy);
    expect(verify_di(&f, &after), true, -1);
    /* The status lists were re-signed with the new key and still verify. */
    expect(verify_di(&f, &before), true, -1);

    /* The DID document names both keys; only the current one authenticates. */
    json_t *dd = NULL;
    assert_int_equal(cred_issuer_did_document(f.iss, &dd, &err), VT_OK);
    assert_string_equal(vt_json_get_str(dd, "id"), DID_WEB);
    assert_int_equal(json_array_size(json_object_get(dd, "verificationMethod")), 2);
    assert_int_equal(json_array_size(json_object_get(dd, "authentication")), 1);
    struct cred_trust *trust = cred_trust_new();
    assert_int_equal(cred_trust_add_did_document(trust, dd, &err), VT_OK);
    struct cred_verify_options vo;
    cred_verify_options_init(&vo);
    vo.trust = trust;
    char *s = json_dumps(after_doc, JSON_COMPACT);
    struct cred_result *r = NULL;
    assert_int_equal(cred_verify((const uint8_t *)s, strlen(s), &vo, &r, &err), VT_OK);
    assert_true(cred_result_verified(r) || cred_result_has_warning(r, CRED_P_STATUS));
    assert_false(cred_result_has_error(r, CRED_P_PROOF_VERIFICATION));
    cred_result_free(r);
    free(s);
    cred_trust_free(trust);
    json_decref(dd);

    /* After a restart with the new key the history is the same; the old key cannot come
     * back. */
    fx_reopen(&f, k2);
    expect(verify_di(&f, &before), true, -1);
    assert_int_equal(cred_issuer_key_lookup(f.iss, old_vm_copy, now + 2000, &lookup_key, &err),
                     VT_ERR_PERMISSION);
    cred_issuer_close(f.iss);
    f.iss = NULL;
    assert_int_not_equal(open_issuer(&f, DID_WEB, f.key, NULL, &err), VT_OK);
    assert_int_equal(open_issuer(&f, DID_WEB, k2, NULL, &err), VT_OK);

    /* A compromised key leaves the DID document. */
    struct cred_key *k3 = ed_key(0x44);
    assert_int_equal(cred_issuer_rotate_key(f.iss, k3, true, &err), VT_OK);
    assert_int_equal(cred_issuer_did_document(f.iss, &dd, &err), VT_OK);
    assert_int_equal(json_array_size(json_object_get(dd, "verificationMethod")), 2);
    json_decref(dd);

    json_decref(unsigned_doc);
    json_decref(before_doc);
    json_decref(after_doc);
    free(old_vm_copy);
    cred_issued_release(&before);
    cred_issued_release(&after);
    cred_key_free(k3);
    cred_key_free(k2);
    fx_close(&f);
}

static void test_extra_keys_and_didkey(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, NULL);
    assert_int_equal(strncmp(cred_issuer_did(f.iss), "did:key:z6Mk", 12), 0);
    struct vt_error err;
    struct cred_key *k2 = ed_key(0x55);
    assert_int_equal(cred_issuer_rotate_key(f.iss, k2, false, &err), VT_ERR_UNSUPPORTED);
    cred_key_free(k2);
    json_t *dd = NULL;
    assert_int_equal(cred_issuer_did_document(f.iss, &dd, &err), VT_OK);
    assert_string_equal(vt_json_get_str(dd, "id"), cred_issuer_did(f.iss));
    json_decref(dd);
    cred_issuer_close(f.iss);

    /* A did:web issuer with an ES256 key for JWT and COSE. */
    struct cred_key *es = NULL;
    assert_int_equal(cred_key_generate(CRED_KEY_P256, &es, &err), VT_OK);
    f.iss = NULL;
    if (open_issuer(&f, "did:web:es.example", f.key, es, &err) != VT_OK)
        fail_msg("open with ES256: %s", err.msg);
    uint8_t learner[LEDGER_LEARNER_LEN];
    fixture_learner(learner, 4);
    struct cred_award a = award_for("did:example:learner-4");
    struct cred_issue_request req;
    memset(&req, 0, sizeof(req));
    memcpy(req.learner, learner, sizeof(learner));
    req.award = &a;
    req.formats = CRED_FORMAT_JWT | CRED_FORMAT_COSE;
    req.jwt_alg = CRED_ALG_ES256;
    req.cose_alg = CRED_ALG_ES256;
    struct cred_issued out;
    if (cred_issue_achievement(f.iss, &req, &out, &err) != VT_OK)
        fail_msg("issue ES256: %s", err.msg);
    assert_null(out.di);
    expect(verify_bytes(&f, out.jwt, strlen(out.jwt)), true, -1);
    expect(verify_bytes(&f, out.cose, out.cose_len), true, -1);
    cred_issued_release(&out);
    req.jwt_alg = CRED_ALG_RS256;
    assert_int_equal(cred_issue_achievement(f.iss, &req, &out, &err), VT_ERR_UNSUPPORTED);
    cred_issued_release(&out);
    assert_int_equal(cred_issuer_did_document(f.iss, &dd, &err), VT_OK);
    assert_int_equal(json_array_size(json_object_get(dd, "verificationMethod")), 2);
    json_decref(dd);
    cred_key_free(es);
    fx_close(&f);
}

static void test_refusals(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, DID_WEB);
    uint8_t learner[LEDGER_LEARNER_LEN], other[LEDGER_LEARNER_LEN];
    fixture_learner(learner, 5);
    fixture_learner(other, 6);
    uint64_t theirs = append_event(&f, other);
    struct cred_award a = award_for("did:example:learner-5");
    struct cred_issue_request req;
    memset(&req, 0, sizeof(req));
    memcpy(req.learner, learner, sizeof(learner));
    req.award = &a;
    req.evidence = &theirs;
    req.evidence_count = 1;
    struct cred_issued out;
    struct vt_error err;
    assert_int_equal(cred_issue_achievement(f.iss, &req, &out, &err), VT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "another learner"));
    uint64_t beyond = 1000000;
    req.evidence = &beyond;
    assert_int_equal(cred_issue_achievement(f.iss, &req, &out, &err), VT_ERR_INVALID);
    req.evidence_count = 0;
    a.achievement_name = NULL;
    assert_int_equal(cred_issue_achievement(f.iss, &req, &out, &err), VT_ERR_INVALID);
    assert_int_equal(cred_issue_achievements(f.iss, &req, 0, &out, &err), VT_ERR_INVALID);

    struct cred_issuer *iss2 = NULL;
    struct cred_issuer_options o;
    cred_issuer_options_init(&o);
    o.ledger = f.ledger;
    o.key = f.key;
    o.status_base_url = "ftp://x/status";
    assert_int_equal(cred_issuer_open(&o, &iss2, &err), VT_ERR_INVALID);
    o.status_base_url = BASE;
    o.did = "did:example:123";
    assert_int_equal(cred_issuer_open(&o, &iss2, &err), VT_ERR_INVALID);
    o.did = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
    assert_int_equal(cred_issuer_open(&o, &iss2, &err), VT_ERR_INVALID);
    assert_null(iss2);
    fx_close(&f);
}

static void test_bulk(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, DID_WEB);
    enum { N = 3000 };
    struct cred_issue_request *req = calloc(N, sizeof(*req));
    struct cred_issued *out = calloc(N, sizeof(*out));
    struct cred_award a = award_for("did:example:bulk");
    uint8_t learner[LEDGER_LEARNER_LEN];
    fixture_learner(learner, 7);
    uint64_t ev = append_event(&f, learner);
    for (size_t i = 0; i < N; i++) {
        fixture_learner(req[i].learner, 100 + (uint32_t)(i % 50));
        req[i].award = &a;
        if (i % 50 == 7) {
            memcpy(req[i].learner, learner, sizeof(learner));
            req[i].evidence = &ev;
            req[i].evidence_count = 1;
        }
    }
    struct vt_error err;
    uint64_t before = ledger_size(f.ledger);
    if (cred_issue_achievements(f.iss, req, N, out, &err) != VT_OK)
        fail_msg("bulk: %s", err.msg);
    /* One reservation event, then one credential.issued per credential. */
    assert_int_equal(ledger_size(f.ledger), before + N + 1);
    /* Distinct slots. */
    uint8_t *seen = calloc(CRED_STATUS_MIN_ENTRIES / 8, 1);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(out[i].status, VT_OK);
        assert_int_equal(out[i].status_list, 0);
        uint32_t x = out[i].status_index;
        assert_true(x < CRED_STATUS_MIN_ENTRIES);
        assert_false(seen[x / 8] & (1u << (x % 8)));
        seen[x / 8] |= (uint8_t)(1u << (x % 8));
    }
    /* Indexes do not follow issue order. */
    assert_true(out[1].status_index != out[0].status_index + 1 ||
                out[2].status_index != out[1].status_index + 1);
    for (size_t i = 0; i < N; i += 397)
        expect(verify_di(&f, &out[i]), true, -1);
    for (size_t i = 0; i < N; i++)
        cred_issued_release(&out[i]);
    free(seen);
    free(req);
    free(out);
    fx_close(&f);
}

struct conc {
    struct fx *f;
    int id;
    int failures;
    struct cred_issued out[50];
};

/* cmocka's assertions are not for other threads: failures are counted and checked by the
 * test's own thread. */
static void *conc_issue(void *arg)
{
    struct conc *c = arg;
    struct cred_award a = award_for("did:example:concurrent");
    struct cred_issue_request req;
    memset(&req, 0, sizeof(req));
    fixture_learner(req.learner, 200 + (uint32_t)c->id);
    req.award = &a;
    for (int i = 0; i < 50; i++) {
        struct vt_error err;
        if (cred_issue_achievement(c->f->iss, &req, &c->out[i], &err) != VT_OK)
            c->failures++;
        char *text = NULL;
        size_t len;
        if (cred_issuer_status_list(c->f->iss, "suspension-0", &text, &len, &err) != VT_OK)
            c->failures++;
        free(text);
    }
    return NULL;
}

/* Issuers are shared by the server's workers: slots stay distinct and durable under
 * concurrent issuance, list reads and a restart. */
static void test_concurrent(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, DID_WEB);
    enum { T = 4 };
    struct conc c[T];
    pthread_t tid[T];
    for (int t = 0; t < T; t++) {
        c[t].f = &f;
        c[t].id = t;
        c[t].failures = 0;
        assert_int_equal(pthread_create(&tid[t], NULL, conc_issue, &c[t]), 0);
    }
    for (int t = 0; t < T; t++) {
        pthread_join(tid[t], NULL);
        assert_int_equal(c[t].failures, 0);
    }
    uint8_t *seen = calloc(CRED_STATUS_MIN_ENTRIES / 8, 1);
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < 50; i++) {
            uint32_t x = c[t].out[i].status_index;
            assert_false(seen[x / 8] & (1u << (x % 8)));
            seen[x / 8] |= (uint8_t)(1u << (x % 8));
        }
    }
    /* After a restart, new slots avoid every slot handed out before. */
    fx_reopen(&f, f.key);
    struct cred_award a = award_for("did:example:concurrent");
    struct cred_issue_request req;
    memset(&req, 0, sizeof(req));
    fixture_learner(req.learner, 300);
    req.award = &a;
    struct cred_issued more;
    struct vt_error err;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(cred_issue_achievement(f.iss, &req, &more, &err), VT_OK);
        uint32_t x = more.status_index;
        assert_false(seen[x / 8] & (1u << (x % 8)));
        seen[x / 8] |= (uint8_t)(1u << (x % 8));
        cred_issued_release(&more);
    }
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < 50; i++)
            cred_issued_release(&c[t].out[i]);
    }
    free(seen);
    fx_close(&f);
}

/* A verification as vitaed makes it: key history, published lists and the issuer's cache. */
static struct cred_result *verify_cached(struct cred_issuer *iss, const struct cred_issued *o)
{
    struct cred_verify_options opt;
    cred_verify_options_init(&opt);
    opt.key_lookup = cred_issuer_key_lookup;
    opt.key_lookup_ctx = iss;
    opt.status_fetch = cred_issuer_status_fetch;
    opt.status_fetch_ctx = iss;
    opt.status_cache = cred_issuer_status_cache(iss);
    struct cred_result *r = NULL;
    struct vt_error err;
    enum vt_status st = cred_verify((const uint8_t *)o->di, o->di_len, &opt, &r, &err);
    (void)st;
    return r;
}

/* 1 verified, 0 suspended only, 2 revoked only, -1 anything else. */
static int cached_state(struct cred_issuer *iss, const struct cred_issued *o)
{
    struct cred_result *r = verify_cached(iss, o);
    int state = -1;
    if (cred_result_verified(r) && cred_result_has_check(r, "status"))
        state = 1;
    else if (cred_result_error_count(r) == 1 && cred_result_has_error(r, CRED_P_STATUS_SUSPENDED))
        state = 0;
    else if (cred_result_error_count(r) == 1 && cred_result_has_error(r, CRED_P_STATUS_REVOKED))
        state = 2;
    cred_result_free(r);
    return state;
}

struct verifier_thread {
    struct cred_issuer *iss;
    const struct cred_issued *o;
    int stop; /* __atomic */
    unsigned runs;
    unsigned failures;
};

static void *verify_loop(void *arg)
{
    struct verifier_thread *t = arg;
    while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE) || t->runs < 20) {
        int st = cached_state(t->iss, t->o);
        if (st != 0 && st != 1)
            t->failures++;
        t->runs++;
    }
    return NULL;
}

/* The issuer's status list cache: repeated checks are answered from it, and a status change
 * is seen by every check that starts after the change returns, while other threads keep
 * verifying. */
static void test_status_cache(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, DID_WEB);
    uint8_t learner[LEDGER_LEARNER_LEN];
    fixture_learner(learner, 3);
    struct cred_award a = award_for("did:example:learner-3");
    struct cred_issue_request req[2];
    memset(req, 0, sizeof(req));
    for (int i = 0; i < 2; i++) {
        memcpy(req[i].learner, learner, sizeof(learner));
        req[i].award = &a;
    }
    struct cred_issued out[2];
    struct vt_error err;
    if (cred_issue_achievements(f.iss, req, 2, out, &err) != VT_OK)
        fail_msg("issue: %s", err.msg);
    struct cred_status_ref refs[2];
    for (int i = 0; i < 2; i++) {
        refs[i].list = out[i].status_list;
        refs[i].index = out[i].status_index;
    }
    struct cred_status_cache *cache = cred_issuer_status_cache(f.iss);
    assert_non_null(cache);
    struct cred_status_cache_stats st0, st;
    cred_status_cache_stats(cache, &st0);
    assert_int_equal(cached_state(f.iss, &out[0]), 1);
    assert_int_equal(cached_state(f.iss, &out[0]), 1);
    assert_int_equal(cached_state(f.iss, &out[1]), 1);
    cred_status_cache_stats(cache, &st);
    /* Two lists (revocation, suspension) decoded once, then four answers from the cache. */
    assert_int_equal(st.misses - st0.misses, 2);
    assert_int_equal(st.hits - st0.hits, 4);
    assert_int_equal(st.entries, 2);

    /* Each change is visible to the next check, and drops the entry of the list it re-signs. */
    assert_int_equal(cred_issuer_suspend(f.iss, &refs[0], NULL, &err), VT_OK);
    assert_int_equal(cached_state(f.iss, &out[0]), 0);
    assert_int_equal(cached_state(f.iss, &out[1]), 1);
    assert_int_equal(cred_issuer_unsuspend(f.iss, &refs[0], NULL, &err), VT_OK);
    assert_int_equal(cached_state(f.iss, &out[0]), 1);
    assert_int_equal(cred_issuer_revoke(f.iss, &refs[0], NULL, &err), VT_OK);
    assert_int_equal(cached_state(f.iss, &out[0]), 2);
    assert_int_equal(cached_state(f.iss, &out[1]), 1);
    cred_status_cache_stats(cache, &st);
    assert_int_equal(st.invalidations - st0.invalidations, 3);

    /* Concurrent checks of the second credential while its suspension toggles. */
    enum { T = 3 };
    struct verifier_thread vt[T];
    pthread_t tid[T];
    for (int t = 0; t < T; t++) {
        memset(&vt[t], 0, sizeof(vt[t]));
        vt[t].iss = f.iss;
        vt[t].o = &out[1];
        assert_int_equal(pthread_create(&tid[t], NULL, verify_loop, &vt[t]), 0);
    }
    for (int round = 0; round < 10; round++) {
        bool suspend = round % 2 == 0;
        assert_int_equal(suspend ? cred_issuer_suspend(f.iss, &refs[1], NULL, &err)
                                 : cred_issuer_unsuspend(f.iss, &refs[1], NULL, &err),
                         VT_OK);
        assert_int_equal(cached_state(f.iss, &out[1]), suspend ? 0 : 1);
    }
    for (int t = 0; t < T; t++) {
        __atomic_store_n(&vt[t].stop, 1, __ATOMIC_RELEASE);
        pthread_join(tid[t], NULL);
        assert_int_equal(vt[t].failures, 0);
    }

    /* A rotation re-signs every list with the new key: the cached ones are dropped, and the
     * credentials signed before keep their status. */
    struct cred_key *next = ed_key(0x33);
    assert_int_equal(cred_issuer_rotate_key(f.iss, next, false, &err), VT_OK);
    cred_status_cache_stats(cache, &st);
    assert_int_equal(st.entries, 0);
    assert_int_equal(cached_state(f.iss, &out[0]), 2);
    assert_int_equal(cached_state(f.iss, &out[1]), 1);
    cred_key_free(next);

    for (int i = 0; i < 2; i++)
        cred_issued_release(&out[i]);
    fx_close(&f);
}

int main(void)
{
    if (vt_core_init(NULL) != VT_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_all_forms),
        cmocka_unit_test(test_status_changes_survive_restart),
        cmocka_unit_test(test_key_rotation),
        cmocka_unit_test(test_extra_keys_and_didkey),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_bulk),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_status_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
