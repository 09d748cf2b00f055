/*
 * Key material from outside: Multikey key files (vt_keyfile_parse), Multikey and JWK keys
 * (cred_key_parse: OKP, EC P-256, RSA) and DID documents added to a trust store
 * (cred_trust_add_did_document), as `vitae verify --key` and did:web resolution take them.
 *
 * Invariant: a parsed key's public JWK parses back to an equal key.
 */
#include "fuzz_cred.h"

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
    if (cred_key_parse(doc, &key, &err) == VT_OK) {
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
