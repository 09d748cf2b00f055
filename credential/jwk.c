/* JSON Web Keys (RFC 7517/7518, RFC 8037): OKP Ed25519, EC P-256 and RSA. */
#include "credential/credential_int.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <sodium.h>

/* Decodes member name as base64url into out; exact_len 0 accepts any length up to 1024. */
static enum vt_status jwk_bytes(const json_t *jwk, const char *name, size_t exact_len,
                                struct vt_buf *out, struct vt_error *err)
{
    const char *s = vt_json_get_str(jwk, name);
    if (s == NULL)
        return vt_error_set(err, VT_ERR_INVALID, "invalid JWK: member '%s' missing", name);
    vt_buf_reset(out);
    enum vt_status st = vt_base64url_decode(s, strlen(s), out, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "invalid JWK member '%s'", name);
    if ((exact_len != 0 && out->len != exact_len) || out->len == 0 || out->len > 1024)
        return vt_error_set(err, VT_ERR_INVALID, "invalid JWK: '%s' is %zu bytes", name, out->len);
    return VT_OK;
}

static enum vt_status jwk_okp(const json_t *jwk, struct cred_key **out, struct vt_error *err)
{
    const char *crv = vt_json_get_str(jwk, "crv");
    if (crv == NULL || strcmp(crv, "Ed25519") != 0)
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "unsupported OKP curve '%s'",
                            crv != NULL ? crv : "(none)");
    struct vt_buf x, d;
    vt_buf_init(&x, 64);
    vt_buf_init(&d, 64);
    enum vt_status st = jwk_bytes(jwk, "x", 32, &x, err);
    struct cred_key *key = NULL;
    if (st == VT_OK) {
        key = cred_key_alloc(CRED_KEY_ED25519);
        if (json_object_get(jwk, "d") != NULL) {
            st = jwk_bytes(jwk, "d", 32, &d, err);
            if (st == VT_OK) {
                vt_key_from_seed(&key->ed, d.data);
                key->has_secret = true;
                if (sodium_memcmp(key->ed.pk, x.data, 32) != 0)
                    st = vt_error_set(err, VT_ERR_INVALID,
                                      "invalid JWK: 'd' does not match the public key 'x'");
            }
        } else {
            vt_key_from_public(&key->ed, x.data);
        }
    }
    vt_buf_release(&x);
    vt_buf_release_secret(&d);
    if (st != VT_OK) {
        cred_key_free(key);
        return st;
    }
    *out = key;
    return VT_OK;
}

static enum vt_status jwk_build(struct cred_key *key, const char *type, OSSL_PARAM_BLD *bld,
                                bool secret, struct vt_error *err)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    int ok = params != NULL && ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, &key->pkey, secret ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                               params) == 1;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    if (!ok) {
        ERR_clear_error();
        return vt_error_set(err, VT_ERR_INVALID, "invalid JWK: %s key rejected by OpenSSL", type);
    }
    /* fromdata does not check that the point is on the curve; RSA keys were checked by the
     * caller (rsa_consistent). */
    if (strcmp(type, "RSA") == 0) {
        key->has_secret = secret;
        return VT_OK;
    }
    EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    ok = chk != NULL && (secret ? EVP_PKEY_pairwise_check(chk) : EVP_PKEY_public_check(chk)) == 1;
    EVP_PKEY_CTX_free(chk);
    ERR_clear_error();
    if (!ok)
        return vt_error_set(err, VT_ERR_INVALID, "invalid JWK: %s key fails its consistency check",
                            type);
    key->has_secret = secret;
    return VT_OK;
}

static enum vt_status jwk_ec(const json_t *jwk, struct cred_key **out, struct vt_error *err)
{
    const char *crv = vt_json_get_str(jwk, "crv");
    if (crv == NULL || strcmp(crv, "P-256") != 0)
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "unsupported EC curve '%s'",
                            crv != NULL ? crv : "(none)");
    struct vt_buf x, y, d;
    vt_buf_init(&x, 64);
    vt_buf_init(&y, 64);
    vt_buf_init(&d, 64);
    enum vt_status st = jwk_bytes(jwk, "x", 32, &x, err);
    if (st == VT_OK)
        st = jwk_bytes(jwk, "y", 32, &y, err);
    bool secret = json_object_get(jwk, "d") != NULL;
    if (st == VT_OK && secret)
        st = jwk_bytes(jwk, "d", 32, &d, err);
    struct cred_key *key = NULL;
    if (st == VT_OK) {
        uint8_t point[65];
        point[0] = 0x04;
        memcpy(point + 1, x.data, 32);
        memcpy(point + 33, y.data, 32);
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        BIGNUM *priv = secret ? BN_bin2bn(d.data, 32, NULL) : NULL;
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
        if (priv != NULL)
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv);
        key = cred_key_alloc(CRED_KEY_P256);
        st = jwk_build(key, "EC", bld, secret, err);
        OSSL_PARAM_BLD_free(bld);
        BN_clear_free(priv);
    }
    vt_buf_release(&x);
    vt_buf_release(&y);
    vt_buf_release_secret(&d);
    if (st != VT_OK) {
        cred_key_free(key);
        return st;
    }
    *out = key;
    return VT_OK;
}

/*
 * The consistency checks of an RSA key, all deterministic: OpenSSL's own public check tests
 * that n is not prime with random bases, so a crafted modulus could be accepted or refused
 * by chance, and whether a credential verifies must not depend on chance.
 *   public: n odd, 2048..8192 bits (jwk_bytes reads at most 1,024 bytes); e odd, 3 <= e < n.
 *   secret: n = p q; d e = 1 mod (p-1) and mod (q-1); dp = d mod (p-1); dq = d mod (q-1);
 *           qi q = 1 mod p.
 * bn: n, e, then (secret) d, p, q, dp, dq, qi.
 */
static bool rsa_consistent(BIGNUM *const bn[8], bool secret)
{
    const BIGNUM *n = bn[0], *e = bn[1];
    int bits = BN_num_bits(n);
    if (!BN_is_odd(n) || bits < 2048 || bits > 8192 || !BN_is_odd(e) || BN_is_one(e) ||
        BN_cmp(e, n) >= 0)
        return false;
    if (!secret)
        return true;
    const BIGNUM *d = bn[2], *p = bn[3], *q = bn[4], *dp = bn[5], *dq = bn[6], *qi = bn[7];
    BN_CTX *ctx = BN_CTX_new();
    if (ctx == NULL)
        return false;
    BN_CTX_start(ctx);
    BIGNUM *t = BN_CTX_get(ctx), *pm1 = BN_CTX_get(ctx), *qm1 = BN_CTX_get(ctx);
    bool ok = qm1 != NULL && !BN_is_zero(p) && !BN_is_zero(q) && BN_mul(t, p, q, ctx) == 1 &&
              BN_cmp(t, n) == 0 && BN_copy(pm1, p) != NULL && BN_sub_word(pm1, 1) == 1 &&
              BN_copy(qm1, q) != NULL && BN_sub_word(qm1, 1) == 1 && !BN_is_zero(pm1) &&
              !BN_is_zero(qm1);
    /* d mod (p-1) and mod (q-1) are the CRT exponents, and each inverts e. */
    ok = ok && BN_nnmod(t, d, pm1, ctx) == 1 && BN_cmp(t, dp) == 0 &&
         BN_mod_mul(t, dp, e, pm1, ctx) == 1 && BN_is_one(t);
    ok = ok && BN_nnmod(t, d, qm1, ctx) == 1 && BN_cmp(t, dq) == 0 &&
         BN_mod_mul(t, dq, e, qm1, ctx) == 1 && BN_is_one(t);
    ok = ok && BN_mod_mul(t, qi, q, p, ctx) == 1 && BN_is_one(t);
    BN_CTX_end(ctx);
    BN_CTX_free(ctx);
    return ok;
}

static enum vt_status jwk_rsa(const json_t *jwk, struct cred_key **out, struct vt_error *err)
{
    static const char *const pub[] = {"n", "e"};
    static const char *const pub_params[] = {OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E};
    static const char *const sec[] = {"d", "p", "q", "dp", "dq", "qi"};
    static const char *const sec_params[] = {
        OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
        OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
        OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    bool secret = json_object_get(jwk, "d") != NULL;
    BIGNUM *bn[8] = {0};
    struct vt_buf b;
    vt_buf_init(&b, 2048);
    enum vt_status st = VT_OK;
    for (size_t i = 0; i < 2 && st == VT_OK; i++) {
        st = jwk_bytes(jwk, pub[i], 0, &b, err);
        if (st == VT_OK)
            bn[i] = BN_bin2bn(b.data, (int)b.len, NULL);
    }
    if (st == VT_OK && bn[0] != NULL && BN_num_bits(bn[0]) < 2048)
        st = vt_error_set(err, VT_ERR_UNSUPPORTED, "RSA key of %d bits is too short (2048 minimum)",
                          BN_num_bits(bn[0]));
    for (size_t i = 0; secret && i < 6 && st == VT_OK; i++) {
        st = jwk_bytes(jwk, sec[i], 0, &b, err);
        if (st == VT_OK)
            bn[2 + i] = BN_bin2bn(b.data, (int)b.len, NULL);
    }
    vt_buf_release_secret(&b);
    for (size_t i = 0; i < (secret ? 8u : 2u) && st == VT_OK; i++)
        if (bn[i] == NULL)
            st = vt_error_set(err, VT_ERR_CRYPTO, "cannot read an RSA JWK: out of memory");
    if (st == VT_OK && !rsa_consistent(bn, secret))
        st = vt_error_set(err, VT_ERR_INVALID, "invalid JWK: RSA key fails its consistency check");
    struct cred_key *key = NULL;
    if (st == VT_OK) {
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        for (size_t i = 0; i < 2; i++)
            OSSL_PARAM_BLD_push_BN(bld, pub_params[i], bn[i]);
        for (size_t i = 0; secret && i < 6; i++)
            OSSL_PARAM_BLD_push_BN(bld, sec_params[i], bn[2 + i]);
        key = cred_key_alloc(CRED_KEY_RSA);
        st = jwk_build(key, "RSA", bld, secret, err);
        OSSL_PARAM_BLD_free(bld);
    }
    for (size_t i = 0; i < 8; i++)
        BN_clear_free(bn[i]);
    if (st != VT_OK) {
        cred_key_free(key);
        return st;
    }
    *out = key;
    return VT_OK;
}

enum vt_status cred_key_from_jwk(const json_t *jwk, struct cred_key **out, struct vt_error *err)
{
    const char *kty = vt_json_get_str(jwk, "kty");
    enum vt_status st;
    *out = NULL;
    if (kty == NULL)
        return vt_error_set(err, VT_ERR_INVALID, "invalid JWK: member 'kty' missing");
    if (strcmp(kty, "OKP") == 0)
        st = jwk_okp(jwk, out, err);
    else if (strcmp(kty, "EC") == 0)
        st = jwk_ec(jwk, out, err);
    else if (strcmp(kty, "RSA") == 0)
        st = jwk_rsa(jwk, out, err);
    else
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "unsupported JWK key type '%s'", kty);
    if (st != VT_OK)
        return st;
    const char *kid = vt_json_get_str(jwk, "kid");
    if (kid != NULL && cred_is_uri(kid))
        (*out)->id = vt_strdup(kid);
    cred_key_finish(*out);
    return VT_OK;
}

static void put_b64(json_t *o, const char *name, const uint8_t *p, size_t n)
{
    struct vt_buf b;
    vt_buf_init(&b, 4096);
    if (vt_base64url_encode(p, n, &b, NULL) == VT_OK)
        json_object_set_new(o, name, json_stringn((const char *)b.data, b.len));
    vt_buf_release(&b);
}

static void put_bn_param(json_t *o, const char *name, const EVP_PKEY *pkey, const char *param,
                         int pad)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) {
        ERR_clear_error();
        return;
    }
    uint8_t buf[1024];
    int len = pad > 0 ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
    if (len > 0)
        put_b64(o, name, buf, (size_t)len);
    BN_free(bn);
}

json_t *cred_key_public_jwk(const struct cred_key *key)
{
    json_t *o = json_object();
    switch (key->type) {
    case CRED_KEY_ED25519:
        json_object_set_new(o, "kty", json_string("OKP"));
        json_object_set_new(o, "crv", json_string("Ed25519"));
        put_b64(o, "x", key->ed.pk, VT_ED25519_PK_LEN);
        break;
    case CRED_KEY_P256:
        json_object_set_new(o, "kty", json_string("EC"));
        json_object_set_new(o, "crv", json_string("P-256"));
        put_bn_param(o, "x", key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32);
        put_bn_param(o, "y", key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
        break;
    case CRED_KEY_RSA:
        json_object_set_new(o, "kty", json_string("RSA"));
        put_bn_param(o, "n", key->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
        put_bn_param(o, "e", key->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
        break;
    }
    return o;
}

void cred_key_thumbprint(const struct cred_key *key, char out[CRED_THUMBPRINT_MAX])
{
    /* The public JWK holds exactly the members RFC 7638 requires, and JCS gives the
     * sorted, whitespace-free form it hashes. */
    json_t *jwk = cred_key_public_jwk(key);
    struct vt_buf b;
    vt_buf_init(&b, 4096);
    uint8_t d[VT_SHA256_LEN];
    VT_ASSERT(vt_jcs_write(jwk, &b, NULL) == VT_OK);
    vt_sha256(b.data, b.len, d);
    vt_buf_reset(&b);
    VT_ASSERT(vt_base64url_encode(d, sizeof(d), &b, NULL) == VT_OK);
    memcpy(out, b.data, b.len + 1);
    vt_buf_release(&b);
    json_decref(jwk);
}
