/* Signing and verification keys: Ed25519 over libsodium, P-256 and RSA over OpenSSL. */
#include "credential/credential_int.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <sodium.h>

const char *cred_alg_name(enum cred_alg alg)
{
    switch (alg) {
    case CRED_ALG_EDDSA:
        return "EdDSA";
    case CRED_ALG_ES256:
        return "ES256";
    case CRED_ALG_RS256:
        return "RS256";
    }
    return "?";
}

enum vt_status cred_alg_parse(const char *name, enum cred_alg *out, struct vt_error *err)
{
    if (strcmp(name, "EdDSA") == 0 || strcmp(name, "Ed25519") == 0)
        *out = CRED_ALG_EDDSA;
    else if (strcmp(name, "ES256") == 0)
        *out = CRED_ALG_ES256;
    else if (strcmp(name, "RS256") == 0)
        *out = CRED_ALG_RS256;
    else
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "unsupported algorithm '%s'", name);
    return VT_OK;
}

enum cred_alg cred_key_alg(const struct cred_key *key)
{
    switch (key->type) {
    case CRED_KEY_ED25519:
        return CRED_ALG_EDDSA;
    case CRED_KEY_P256:
        return CRED_ALG_ES256;
    case CRED_KEY_RSA:
        return CRED_ALG_RS256;
    }
    return CRED_ALG_EDDSA;
}

struct cred_key *cred_key_alloc(enum cred_key_type type)
{
    struct cred_key *key = vt_calloc(1, sizeof(*key));
    key->refs = 1;
    key->type = type;
    return key;
}

void cred_key_finish(struct cred_key *key)
{
    if (key->id != NULL) {
        key->default_vm = vt_strdup(key->id);
    } else if (key->type == CRED_KEY_ED25519) {
        char vm[VT_DIDKEY_MAX];
        vt_didkey_vm_from_public(key->ed.pk, vm);
        key->default_vm = vt_strdup(vm);
    }
}

struct cred_key *cred_key_from_vt(const struct vt_key *vk)
{
    struct cred_key *key = cred_key_alloc(CRED_KEY_ED25519);
    key->ed = *vk;
    key->has_secret = vk->has_secret;
    cred_key_finish(key);
    return key;
}

struct cred_key *cred_key_ref(struct cred_key *key)
{
    /* Atomic: trust stores are shared read-only among verifying threads, which take
     * references on the keys they resolve. */
    if (key != NULL)
        __atomic_add_fetch(&key->refs, 1, __ATOMIC_RELAXED);
    return key;
}

void cred_key_free(struct cred_key *key)
{
    if (key == NULL || __atomic_sub_fetch(&key->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    vt_key_release(&key->ed);
    EVP_PKEY_free(key->pkey);
    free(key->id);
    free(key->default_vm);
    sodium_memzero(key, sizeof(*key));
    free(key);
}

enum cred_key_type cred_key_type(const struct cred_key *key)
{
    return key->type;
}

bool cred_key_has_secret(const struct cred_key *key)
{
    return key->has_secret;
}

const char *cred_key_id(const struct cred_key *key)
{
    return key->id;
}

const char *cred_key_default_vm(const struct cred_key *key)
{
    return key->default_vm;
}

static enum vt_status openssl_error(struct vt_error *err, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[160] = "unknown error";
    if (e != 0)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    return vt_error_set(err, VT_ERR_CRYPTO, "%s failed: %s", what, buf);
}

enum vt_status cred_key_generate(enum cred_key_type type, struct cred_key **out,
                                 struct vt_error *err)
{
    struct cred_key *key = cred_key_alloc(type);
    if (type == CRED_KEY_ED25519) {
        vt_key_generate(&key->ed);
    } else {
        key->pkey = type == CRED_KEY_P256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
                                          : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        if (key->pkey == NULL) {
            cred_key_free(key);
            return openssl_error(err, "key generation");
        }
    }
    key->has_secret = true;
    cred_key_finish(key);
    *out = key;
    return VT_OK;
}

/* Multikey key files: the Ed25519 Multikey forms of specs/encoding.md §4. */
static enum vt_status key_from_multikey(const json_t *doc, struct cred_key **out,
                                        struct vt_error *err)
{
    struct vt_key vk;
    enum vt_status st = vt_keyfile_parse(doc, &vk, err);
    if (st != VT_OK)
        return st;
    struct cred_key *key = cred_key_alloc(CRED_KEY_ED25519);
    key->ed = vk;
    key->has_secret = vk.has_secret;
    vt_key_release(&vk);
    const char *id = vt_json_get_str(doc, "id");
    if (id != NULL && strchr(id, '#') != NULL)
        key->id = vt_strdup(id);
    cred_key_finish(key);
    *out = key;
    return VT_OK;
}

enum vt_status cred_key_parse(const json_t *doc, struct cred_key **out, struct vt_error *err)
{
    *out = NULL;
    if (!json_is_object(doc))
        return vt_error_set(err, VT_ERR_INVALID, "invalid key file: not a JSON object");
    if (json_object_get(doc, "kty") != NULL)
        return cred_key_from_jwk(doc, out, err);
    /* A DID document verification method or key pair that wraps its JWK. */
    const json_t *jwk = vt_json_get_obj(doc, "publicKeyJwk");
    const json_t *sjwk = vt_json_get_obj(doc, "privateKeyJwk");
    if (sjwk != NULL || jwk != NULL) {
        enum vt_status st = cred_key_from_jwk(sjwk != NULL ? sjwk : jwk, out, err);
        const char *id = vt_json_get_str(doc, "id");
        if (st == VT_OK && id != NULL && (*out)->id == NULL) {
            (*out)->id = vt_strdup(id);
            free((*out)->default_vm);
            (*out)->default_vm = vt_strdup(id);
        }
        return st;
    }
    return key_from_multikey(doc, out, err);
}

enum vt_status cred_key_read(const char *path, struct cred_key **out, struct vt_error *err)
{
    json_t *doc = NULL;
    *out = NULL;
    enum vt_status st = vt_json_read_file(path, 1 << 16, 16, &doc, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "cannot read key '%s'", path);
    st = cred_key_parse(doc, out, err);
    json_decref(doc);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "cannot read key '%s'", path);
    return VT_OK;
}

bool cred_key_equal(const struct cred_key *a, const struct cred_key *b)
{
    if (a->type != b->type)
        return false;
    if (a->type == CRED_KEY_ED25519)
        return sodium_memcmp(a->ed.pk, b->ed.pk, VT_ED25519_PK_LEN) == 0;
    return EVP_PKEY_eq(a->pkey, b->pkey) == 1;
}

/* ---------------------------------------------------------------------------------------
 * Raw signatures
 */

static enum vt_status ecdsa_der_to_raw(const uint8_t *der, size_t der_len, uint8_t *sig,
                                       struct vt_error *err)
{
    const uint8_t *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (es == NULL)
        return openssl_error(err, "ECDSA signature decoding");
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(es, &r, &s);
    /* The order n of P-256. Signatures are written with s ≤ n/2 ("low S"): (r, n − s) is
     * the same signature, and strict verifiers (e.g. @noble/curves by default) refuse the
     * high form. */
    static const uint8_t order[32] = {
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
        0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
    };
    BIGNUM *n = BN_bin2bn(order, sizeof(order), NULL);
    BIGNUM *half = BN_new();
    BIGNUM *low = BN_new();
    int ok = n != NULL && half != NULL && low != NULL && BN_rshift1(half, n) == 1;
    if (ok && BN_cmp(s, half) > 0)
        ok = BN_sub(low, n, s) == 1;
    else if (ok)
        ok = BN_copy(low, s) != NULL;
    ok = ok && BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(low, sig + 32, 32) == 32;
    BN_free(n);
    BN_free(half);
    BN_free(low);
    ECDSA_SIG_free(es);
    if (!ok)
        return vt_error_set(err, VT_ERR_CRYPTO, "ECDSA signature too long");
    return VT_OK;
}

/* The DER form OpenSSL verifies, from JOSE's r ‖ s. */
static enum vt_status ecdsa_raw_to_der(const uint8_t *sig, uint8_t **der, size_t *der_len,
                                       struct vt_error *err)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL);
    BIGNUM *s = BN_bin2bn(sig + 32, 32, NULL);
    if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return openssl_error(err, "ECDSA signature encoding");
    }
    *der = NULL;
    int len = i2d_ECDSA_SIG(es, der);
    ECDSA_SIG_free(es);
    if (len <= 0)
        return openssl_error(err, "ECDSA signature encoding");
    *der_len = (size_t)len;
    return VT_OK;
}

enum vt_status cred_key_sign_raw(const struct cred_key *key, const uint8_t *msg, size_t n,
                                 uint8_t *sig, size_t *sig_len, struct vt_error *err)
{
    if (!key->has_secret)
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "cannot sign: the key has no secret part");
    if (key->type == CRED_KEY_ED25519) {
        vt_key_sign(&key->ed, msg, n, sig);
        *sig_len = VT_ED25519_SIG_LEN;
        return VT_OK;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t der[CRED_SIG_MAX];
    size_t len = sizeof(der);
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) != 1 ||
        EVP_DigestSign(ctx, der, &len, msg, n) != 1) {
        EVP_MD_CTX_free(ctx);
        return openssl_error(err, "signing");
    }
    EVP_MD_CTX_free(ctx);
    if (key->type == CRED_KEY_P256) {
        *sig_len = 64;
        return ecdsa_der_to_raw(der, len, sig, err);
    }
    memcpy(sig, der, len);
    *sig_len = len;
    return VT_OK;
}

enum vt_status cred_key_verify_raw(const struct cred_key *key, enum cred_alg alg,
                                   const uint8_t *msg, size_t n, const uint8_t *sig, size_t sig_len,
                                   struct vt_error *err)
{
    if (alg != cred_key_alg(key))
        return vt_error_set(err, VT_ERR_VERIFY, "algorithm %s does not match the %s key",
                            cred_alg_name(alg), cred_alg_name(cred_key_alg(key)));
    if (key->type == CRED_KEY_ED25519) {
        if (sig_len != VT_ED25519_SIG_LEN)
            return vt_error_set(err, VT_ERR_VERIFY, "Ed25519 signature is %zu bytes, not 64",
                                sig_len);
        if (!vt_ed25519_verify(key->ed.pk, msg, n, sig))
            return vt_error_set(err, VT_ERR_VERIFY, "Ed25519 signature does not verify");
        return VT_OK;
    }
    uint8_t *der = NULL;
    size_t der_len = sig_len;
    if (key->type == CRED_KEY_P256) {
        if (sig_len != 64)
            return vt_error_set(err, VT_ERR_VERIFY, "ES256 signature is %zu bytes, not 64",
                                sig_len);
        enum vt_status st = ecdsa_raw_to_der(sig, &der, &der_len, err);
        if (st != VT_OK)
            return st;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = -1;
    if (ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) == 1)
        rc = EVP_DigestVerify(ctx, der != NULL ? der : sig, der_len, msg, n);
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ERR_clear_error();
    if (rc != 1)
        return vt_error_set(err, VT_ERR_VERIFY, "%s signature does not verify", cred_alg_name(alg));
    return VT_OK;
}
