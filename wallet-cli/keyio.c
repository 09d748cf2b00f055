/* Key interop for the wallet key: Multikey JSON and OKP JWK. */
#include "wallet-cli/keyio.h"

#include <sodium.h>
#include <string.h>

#define KEYFILE_MAX ((size_t)64 << 10)

static enum vt_status import_jwk(const json_t *doc, struct vt_key *key, struct vt_error *err)
{
    const char *kty = vt_json_get_str(doc, "kty");
    const char *crv = vt_json_get_str(doc, "crv");
    const char *d = vt_json_get_str(doc, "d");
    if (kty == NULL || strcmp(kty, "OKP") != 0 || crv == NULL || strcmp(crv, "Ed25519") != 0)
        return vt_error_set(err, VT_ERR_UNSUPPORTED,
                            "the wallet key must be Ed25519 (a did:key), not %s%s%s; 'vitae sign' "
                            "and 'vitae verify' take ES256 and RS256 keys directly",
                            kty ? kty : "an unknown key type", crv ? " " : "", crv ? crv : "");
    if (d == NULL)
        return vt_error_set(err, VT_ERR_INVALID, "the JWK has no secret part (\"d\")");
    struct vt_buf seed;
    vt_buf_init(&seed, 64);
    enum vt_status st = vt_base64url_decode(d, strlen(d), &seed, err);
    if (st == VT_OK && seed.len != VT_ED25519_SEED_LEN)
        st = vt_error_set(err, VT_ERR_INVALID, "JWK \"d\" has %zu bytes, expected 32", seed.len);
    if (st == VT_OK)
        vt_key_from_seed(key, seed.data);
    vt_buf_release_secret(&seed);
    const char *x = vt_json_get_str(doc, "x");
    if (st == VT_OK && x != NULL) {
        struct vt_buf pk;
        vt_buf_init(&pk, 64);
        if (vt_base64url_decode(x, strlen(x), &pk, err) != VT_OK || pk.len != VT_ED25519_PK_LEN ||
            memcmp(pk.data, key->pk, VT_ED25519_PK_LEN) != 0)
            st = vt_error_set(err, VT_ERR_INVALID, "JWK \"x\" does not match its \"d\"");
        vt_buf_release(&pk);
        if (st != VT_OK)
            vt_key_release(key);
    }
    return st;
}

enum vt_status keyio_import(const char *path, struct vt_key *key, struct vt_error *err)
{
    json_t *doc = NULL;
    enum vt_status st = vt_json_read_file(path, KEYFILE_MAX, 16, &doc, err);
    if (st == VT_OK && !json_is_object(doc))
        st = vt_error_set(err, VT_ERR_INVALID, "'%s' is not a key file", path);
    if (st == VT_OK) {
        if (json_object_get(doc, "kty") != NULL)
            st = import_jwk(doc, key, err);
        else
            st = vt_keyfile_parse(doc, key, err);
        if (st == VT_OK && !key->has_secret) {
            vt_key_release(key);
            st = vt_error_set(err, VT_ERR_INVALID, "key file has no secret part");
        }
        if (st != VT_OK)
            vt_error_prefix(err, st, "cannot import '%s'", path);
    }
    /* The parsed document held the secret as text. */
    if (doc != NULL) {
        const char *names[] = {"d", "secretKeyMultibase", "privateKeyMultibase"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            json_t *v = json_object_get(doc, names[i]);
            if (json_is_string(v))
                sodium_memzero((void *)json_string_value(v), json_string_length(v));
        }
    }
    json_decref(doc);
    return st;
}

json_t *keyio_export(const struct vt_key *key, bool jwk, bool with_secret)
{
    char did[VT_DIDKEY_MAX], vm[VT_DIDKEY_MAX];
    vt_didkey_from_public(key->pk, did);
    vt_didkey_vm_from_public(key->pk, vm);
    if (jwk) {
        struct cred_key *ck = cred_key_from_vt(key);
        json_t *j = cred_key_public_jwk(ck);
        cred_key_free(ck);
        json_object_set_new(j, "kid", json_string(vm));
        if (with_secret) {
            uint8_t seed[VT_ED25519_SEED_LEN];
            struct vt_buf d;
            vt_buf_init(&d, 64);
            vt_key_seed(key, seed);
            (void)vt_base64url_encode(seed, sizeof(seed), &d, NULL);
            json_object_set_new(j, "d", json_string((const char *)d.data));
            sodium_memzero(seed, sizeof(seed));
            vt_buf_release_secret(&d);
        }
        return j;
    }
    char pub[VT_MULTIKEY_MAX];
    vt_multikey_encode_public(key->pk, pub);
    json_t *m =
        json_pack("{s:s,s:s,s:s,s:s,s:s}", "@context", "https://w3id.org/security/multikey/v1",
                  "type", "Multikey", "id", vm, "controller", did, "publicKeyMultibase", pub);
    if (with_secret) {
        char sec[VT_MULTIKEY_MAX];
        vt_multikey_encode_secret(key, sec);
        json_object_set_new(m, "secretKeyMultibase", json_string(sec));
        sodium_memzero(sec, sizeof(sec));
    }
    return m;
}
