/* Ed25519 keys over libsodium, and their Multikey text forms (specs/encoding.md §4). */
#include "core/core.h"
#include "core/core_int.h"

#include <string.h>

#include <sodium.h>

void vt_key_generate(struct vt_key *key)
{
    crypto_sign_keypair(key->pk, key->sk);
    key->has_secret = true;
}

void vt_key_from_seed(struct vt_key *key, const uint8_t seed[VT_ED25519_SEED_LEN])
{
    crypto_sign_seed_keypair(key->pk, key->sk, seed);
    key->has_secret = true;
}

void vt_key_from_public(struct vt_key *key, const uint8_t pk[VT_ED25519_PK_LEN])
{
    memmove(key->pk, pk, VT_ED25519_PK_LEN);
    sodium_memzero(key->sk, sizeof(key->sk));
    key->has_secret = false;
}

void vt_key_release(struct vt_key *key)
{
    if (key == NULL)
        return;
    sodium_memzero(key->sk, sizeof(key->sk));
    key->has_secret = false;
}

void vt_key_seed(const struct vt_key *key, uint8_t seed[VT_ED25519_SEED_LEN])
{
    VT_ASSERT(key->has_secret);
    crypto_sign_ed25519_sk_to_seed(seed, key->sk);
}

/* libsodium hashes the message even when it is empty; give it a real address then. */
static const uint8_t no_message[1];

void vt_key_sign(const struct vt_key *key, const void *msg, size_t n,
                 uint8_t sig[VT_ED25519_SIG_LEN])
{
    VT_ASSERT(key->has_secret);
    crypto_sign_detached(sig, NULL, msg != NULL ? msg : no_message, n, key->sk);
}

bool vt_ed25519_verify(const uint8_t pk[VT_ED25519_PK_LEN], const void *msg, size_t n,
                       const uint8_t sig[VT_ED25519_SIG_LEN])
{
    return crypto_sign_verify_detached(sig, msg != NULL ? msg : no_message, n, pk) == 0;
}

enum vt_status vt_key_x25519(const struct vt_key *key, uint8_t pk_out[VT_X25519_LEN],
                             uint8_t sk_out[VT_X25519_LEN], struct vt_error *err)
{
    uint8_t pk[VT_X25519_LEN];
    if (crypto_sign_ed25519_pk_to_curve25519(pk, key->pk) != 0)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot derive an X25519 key: the Ed25519 public key is not a "
                            "valid point of the prime-order subgroup");
    if (sk_out != NULL && key->has_secret) {
        uint8_t sk[VT_X25519_LEN];
        if (crypto_sign_ed25519_sk_to_curve25519(sk, key->sk) != 0) {
            sodium_memzero(sk, sizeof(sk));
            return vt_error_set(err, VT_ERR_CRYPTO, "cannot derive the X25519 secret key");
        }
        memcpy(sk_out, sk, sizeof(sk));
        sodium_memzero(sk, sizeof(sk));
    }
    memcpy(pk_out, pk, sizeof(pk));
    return VT_OK;
}

void vt_multikey_encode(enum vt_multicodec codec, const uint8_t *p, size_t n,
                        char out[VT_MULTIKEY_MAX])
{
    VT_ASSERT(n <= 40);
    struct vt_buf raw, text;
    vt_buf_init(&raw, VT_MULTIKEY_MAX);
    vt_buf_init(&text, VT_MULTIKEY_MAX - 1);
    enum vt_status st = vt_multicodec_wrap(codec, p, n, &raw, NULL);
    VT_ASSERT(st == VT_OK);
    st = vt_multibase_encode(VT_MULTIBASE_BASE58BTC, raw.data, raw.len, &text, NULL);
    VT_ASSERT(st == VT_OK);
    memcpy(out, text.data, text.len + 1);
    vt_buf_release_secret(&raw);
    vt_buf_release_secret(&text);
}

void vt_multikey_encode_public(const uint8_t pk[VT_ED25519_PK_LEN], char out[VT_MULTIKEY_MAX])
{
    vt_multikey_encode(VT_MULTICODEC_ED25519_PUB, pk, VT_ED25519_PK_LEN, out);
}

void vt_multikey_encode_secret(const struct vt_key *key, char out[VT_MULTIKEY_MAX])
{
    uint8_t seed[VT_ED25519_SEED_LEN];
    vt_key_seed(key, seed);
    vt_multikey_encode(VT_MULTICODEC_ED25519_PRIV, seed, sizeof(seed), out);
    sodium_memzero(seed, sizeof(seed));
}

/* what names the value in messages; the caller's out is written only on success. */
static enum vt_status multikey_decode(const char *s, enum vt_multicodec codec, uint8_t *out,
                                      size_t out_len, const char *what, struct vt_error *err)
{
    size_t n = strnlen(s, VT_MULTIKEY_MAX);
    if (n == VT_MULTIKEY_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "invalid %s: longer than %d characters", what,
                            VT_MULTIKEY_MAX - 1);
    if (n == 0)
        return vt_error_set(err, VT_ERR_INVALID, "invalid %s: empty string", what);
    unsigned char prefix = (unsigned char)s[0];
    if (prefix != VT_MULTIBASE_BASE58BTC && prefix >= 0x21 && prefix < 0x7f)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid %s: expected multibase prefix 'z' (base58btc), found '%c'",
                            what, prefix);
    if (prefix != VT_MULTIBASE_BASE58BTC)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid %s: expected multibase prefix 'z' (base58btc), found 0x%02x",
                            what, prefix);

    struct vt_buf raw;
    vt_buf_init(&raw, VT_MULTIKEY_MAX);
    const uint8_t *payload = NULL;
    enum vt_status st = vt_base58_decode_at(s + 1, n - 1, 1, &raw, err);
    if (st != VT_OK && codec == VT_MULTICODEC_ED25519_PRIV) {
        /* The base58 message quotes the offending character, part of a secret here. */
        vt_error_set(err, st, "invalid %s: not base58btc text", what);
    } else {
        if (st == VT_OK)
            st = vt_multicodec_unwrap(raw.data, raw.len, codec, out_len, &payload, err);
        if (st == VT_OK)
            memcpy(out, payload, out_len);
        else if (err != NULL)
            vt_error_prefix(err, st, "invalid %s", what);
    }
    vt_buf_release_secret(&raw);
    return st;
}

enum vt_status vt_multikey_decode_public(const char *s, uint8_t pk[VT_ED25519_PK_LEN],
                                         struct vt_error *err)
{
    return multikey_decode(s, VT_MULTICODEC_ED25519_PUB, pk, VT_ED25519_PK_LEN,
                           "publicKeyMultibase", err);
}

enum vt_status vt_multikey_decode_secret(const char *s, uint8_t seed[VT_ED25519_SEED_LEN],
                                         struct vt_error *err)
{
    return multikey_decode(s, VT_MULTICODEC_ED25519_PRIV, seed, VT_ED25519_SEED_LEN,
                           "secretKeyMultibase", err);
}
