/*
 * Key material from outside: Multikey key files (vt_keyfile_parse), Multikey and JWK keys
 * (cred_key_parse: OKP, EC P-256, RSA) and DID documents added to a trust store
 * (cred_trust_add_did_document), as `vitae verify --key` and did:web resolution take them.
 *
 * Invariants: the verdict on an RSA key is the same every time (it decides whether a
 * credential verifies); the status does not depend on passing an error report (core.h:
 * err may be NULL); a parsed key's public JWK parses back to an equal key.
 */
#include <string.h>

#include "fuzz_cred.h"

#define RSA_REPEATS 8

static void check_repeatable(const json_t *doc, enum vt_status first)
{
    const char *kty = vt_json_get_str(doc, "kty");
    if (!kty || strcmp(kty, "RSA") != 0)
        return;
    for (int i = 0; i < RSA_REPEATS; i++) {
        struct cred_key *k = NULL;
        struct vt_error err;
        enum vt_status st = cred_key_parse(doc, &k, &err);
        cred_key_free(k);
        if (st != first)
            fuzz_fail("an RSA JWK parsed with status %s, then with %s", vt_status_name(first),
                      vt_status_name(st));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    json_t *doc = NULL;
    struct vt_error err;
    if (vt_json_parse((const char *)data, size, 1 << 20, VT_JSON_MAX_DEPTH, &doc, &err) != VT_OK)
        return 0;
    struct vt_key vk;
    if (vt_keyfile_parse(doc, &vk, &err) == VT_OK)
        vt_key_release(&vk);
    struct cred_key *key = NULL;
    enum vt_status st = cred_key_parse(doc, &key, &err);
    check_repeatable(doc, st);
    struct cred_key *quiet = NULL;
    enum vt_status st_quiet = cred_key_parse(doc, &quiet, NULL);
    cred_key_free(quiet);
    if (st_quiet != st)
        fuzz_fail("cred_key_parse says %s with an error report and %s without", vt_status_name(st),
                  vt_status_name(st_quiet));
    if (st == VT_OK) {
        (void)cred_key_default_vm(key);
        json_t *jwk = cred_key_public_jwk(key);
        struct cred_key *back = NULL;
        if (!jwk || cred_key_parse(jwk, &back, &err) != VT_OK)
            fuzz_fail("the public JWK of a parsed key does not parse: %s", err.msg);
        if (!cred_key_equal(key, back) || cred_key_type(key) != cred_key_type(back))
            fuzz_fail("the public JWK of a parsed key is another key");
        cred_key_free(back);
        json_decref(jwk);
        cred_key_free(key);
    }
    struct cred_trust *t = cred_trust_new();
    (void)cred_trust_add_did_document(t, doc, &err);
    cred_trust_free(t);
    json_decref(doc);
    return 0;
}
