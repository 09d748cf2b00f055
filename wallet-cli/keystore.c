/* Sealed wallet files: the keystore and backups (specs/wallet.md §2). */
#include "wallet-cli/wallet.h"

#include <sodium.h>
#include <string.h>

#define KS_VERSION 1
#define KS_KDF_ARGON2ID13 1
/* Caps on the limits a file may ask for: a tampered header must not make us allocate
 * gigabytes or spin for minutes before the tag check can reject it. */
#define KS_OPSLIMIT_CAP 16
#define KS_MEMLIMIT_CAP ((uint64_t)1 << 30)
#define KS_PLAIN_LEN (VT_ED25519_SEED_LEN + VT_X25519_LEN)
#define KS_CLEAR_LEN (KS_HEADER_LEN + VT_ED25519_PK_LEN + 8)
#define KS_BLOB_MAX ((uint64_t)64 << 20)

static const char keystore_magic[KS_MAGIC_LEN] = {'v', 'i', 't', 'a', 'e', '-', 'k', 's'};

enum vt_status ks_params_named(const char *name, struct ks_params *p, struct vt_error *err)
{
    if (strcmp(name, "interactive") == 0) {
        p->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        p->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    } else if (strcmp(name, "moderate") == 0) {
        p->opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
        p->memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
    } else if (strcmp(name, "sensitive") == 0) {
        p->opslimit = crypto_pwhash_OPSLIMIT_SENSITIVE;
        p->memlimit = crypto_pwhash_MEMLIMIT_SENSITIVE;
    } else {
        return vt_error_set(err, VT_ERR_INVALID,
                            "unknown KDF limits '%s' (interactive, moderate, sensitive)", name);
    }
    return VT_OK;
}

static void header_put(uint8_t h[KS_HEADER_LEN], const char magic[KS_MAGIC_LEN],
                       const struct ks_params *p)
{
    memcpy(h, magic, KS_MAGIC_LEN);
    vt_be16_put(h + 8, KS_VERSION);
    vt_be16_put(h + 10, KS_KDF_ARGON2ID13);
    vt_be32_put(h + 12, p->opslimit);
    vt_be64_put(h + 16, p->memlimit);
    vt_random_bytes(h + 24, KS_SALT_LEN);
    vt_random_bytes(h + 40, KS_NONCE_LEN);
}

static enum vt_status header_get(const uint8_t *h, size_t n, const char magic[KS_MAGIC_LEN],
                                 struct ks_params *p, struct vt_error *err)
{
    if (n < KS_HEADER_LEN || memcmp(h, magic, KS_MAGIC_LEN) != 0)
        return vt_error_set(err, VT_ERR_INVALID, "not a vitae %s file",
                            magic[6] == 'k' ? "keystore" : "backup");
    if (vt_be16_get(h + 8) != KS_VERSION || vt_be16_get(h + 10) != KS_KDF_ARGON2ID13)
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "unsupported file version %u (KDF %u)",
                            vt_be16_get(h + 8), vt_be16_get(h + 10));
    p->opslimit = vt_be32_get(h + 12);
    p->memlimit = vt_be64_get(h + 16);
    if (p->opslimit < crypto_pwhash_OPSLIMIT_MIN || p->opslimit > KS_OPSLIMIT_CAP ||
        p->memlimit < crypto_pwhash_MEMLIMIT_MIN || p->memlimit > KS_MEMLIMIT_CAP)
        return vt_error_set(err, VT_ERR_INVALID, "KDF limits out of range (ops %u, memory %llu)",
                            (unsigned)p->opslimit, (unsigned long long)p->memlimit);
    return VT_OK;
}

static enum vt_status derive(const uint8_t *header, const char *pass, size_t pass_len,
                             const struct ks_params *p,
                             uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES],
                             struct vt_error *err)
{
    if (crypto_pwhash(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, pass, pass_len, header + 24,
                      p->opslimit, (size_t)p->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return vt_error_set(err, VT_ERR_CRYPTO,
                            "cannot derive the key: Argon2id needs %llu MiB of memory",
                            (unsigned long long)(p->memlimit >> 20));
    return VT_OK;
}

enum vt_status ks_keystore_seal(const struct vt_key *key, int64_t created_ms, const char *pass,
                                size_t pass_len, const struct ks_params *p,
                                uint8_t out[KS_KEYSTORE_LEN], struct vt_error *err)
{
    VT_ASSERT(key->has_secret);
    uint8_t plain[KS_PLAIN_LEN], k[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    uint8_t xpk[VT_X25519_LEN];
    vt_key_seed(key, plain);
    enum vt_status st = vt_key_x25519(key, xpk, plain + VT_ED25519_SEED_LEN, err);
    header_put(out, keystore_magic, p);
    memcpy(out + KS_HEADER_LEN, key->pk, VT_ED25519_PK_LEN);
    vt_be64_put(out + KS_HEADER_LEN + VT_ED25519_PK_LEN, (uint64_t)created_ms);
    if (st == VT_OK)
        st = derive(out, pass, pass_len, p, k, err);
    if (st == VT_OK)
        crypto_aead_xchacha20poly1305_ietf_encrypt(out + KS_CLEAR_LEN, NULL, plain, sizeof(plain),
                                                   out, KS_CLEAR_LEN, NULL, out + 40, k);
    sodium_memzero(plain, sizeof(plain));
    sodium_memzero(k, sizeof(k));
    return st;
}

enum vt_status ks_keystore_info(const uint8_t *p, size_t n, struct ks_info *info,
                                struct vt_error *err)
{
    enum vt_status st = header_get(p, n, keystore_magic, &info->params, err);
    if (st != VT_OK)
        return st;
    if (n != KS_KEYSTORE_LEN)
        return vt_error_set(err, VT_ERR_INVALID, "keystore has %zu bytes, expected %d", n,
                            KS_KEYSTORE_LEN);
    memcpy(info->pk, p + KS_HEADER_LEN, VT_ED25519_PK_LEN);
    info->created_ms = (int64_t)vt_be64_get(p + KS_HEADER_LEN + VT_ED25519_PK_LEN);
    return VT_OK;
}

enum vt_status ks_keystore_open(const uint8_t *p, size_t n, const char *pass, size_t pass_len,
                                struct vt_key *key, uint8_t x25519_sk[VT_X25519_LEN],
                                struct vt_error *err)
{
    struct ks_info info;
    enum vt_status st = ks_keystore_info(p, n, &info, err);
    if (st != VT_OK)
        return st;
    uint8_t plain[KS_PLAIN_LEN], k[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    st = derive(p, pass, pass_len, &info.params, k, err);
    if (st == VT_OK &&
        crypto_aead_xchacha20poly1305_ietf_decrypt(
            plain, NULL, NULL, p + KS_CLEAR_LEN, n - KS_CLEAR_LEN, p, KS_CLEAR_LEN, p + 40, k) != 0)
        st = vt_error_set(err, VT_ERR_PERMISSION, "wrong passphrase");
    sodium_memzero(k, sizeof(k));
    if (st == VT_OK) {
        vt_key_from_seed(key, plain);
        memcpy(x25519_sk, plain + VT_ED25519_SEED_LEN, VT_X25519_LEN);
        /* The public key in the clear part is authenticated, but it must also be the one
         * the secret produces, or whoami would name a key we cannot sign for. */
        if (sodium_memcmp(key->pk, info.pk, VT_ED25519_PK_LEN) != 0) {
            vt_key_release(key);
            sodium_memzero(x25519_sk, VT_X25519_LEN);
            st = vt_error_set(err, VT_ERR_INVALID, "keystore public key does not match its secret");
        }
    }
    sodium_memzero(plain, sizeof(plain));
    return st;
}

enum vt_status ks_blob_seal(const char magic[KS_MAGIC_LEN], const uint8_t *plain, size_t n,
                            const char *pass, size_t pass_len, const struct ks_params *p,
                            struct vt_buf *out, struct vt_error *err)
{
    if ((uint64_t)n > KS_BLOB_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "backup of %zu bytes is over the %llu MiB cap",
                            n, (unsigned long long)(KS_BLOB_MAX >> 20));
    size_t start = out->len;
    enum vt_status st = vt_buf_grow(out, KS_HEADER_LEN + 8 + n + 16, err);
    if (st != VT_OK)
        return st;
    uint8_t *h = out->data + start;
    header_put(h, magic, p);
    vt_be64_put(h + KS_HEADER_LEN, (uint64_t)n);
    uint8_t k[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    st = derive(h, pass, pass_len, p, k, err);
    if (st == VT_OK) {
        crypto_aead_xchacha20poly1305_ietf_encrypt(h + KS_HEADER_LEN + 8, NULL, plain, n, h,
                                                   KS_HEADER_LEN + 8, NULL, h + 40, k);
        out->len = start + KS_HEADER_LEN + 8 + n + 16;
        out->data[out->len] = 0;
    }
    sodium_memzero(k, sizeof(k));
    return st;
}

enum vt_status ks_blob_open(const char magic[KS_MAGIC_LEN], const uint8_t *in, size_t n,
                            const char *pass, size_t pass_len, struct vt_buf *out,
                            struct vt_error *err)
{
    struct ks_params p;
    enum vt_status st = header_get(in, n, magic, &p, err);
    if (st != VT_OK)
        return st;
    if (n < KS_HEADER_LEN + 8 + 16)
        return vt_error_set(err, VT_ERR_TRUNCATED, "sealed file is truncated");
    uint64_t len = vt_be64_get(in + KS_HEADER_LEN);
    if (len > KS_BLOB_MAX || len != n - (KS_HEADER_LEN + 8 + 16))
        return vt_error_set(err, VT_ERR_INVALID, "sealed file length %llu does not match its size",
                            (unsigned long long)len);
    size_t start = out->len;
    st = vt_buf_grow(out, (size_t)len, err);
    if (st != VT_OK)
        return st;
    uint8_t k[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    st = derive(in, pass, pass_len, &p, k, err);
    if (st == VT_OK && crypto_aead_xchacha20poly1305_ietf_decrypt(
                           out->data + start, NULL, NULL, in + KS_HEADER_LEN + 8, (size_t)len + 16,
                           in, KS_HEADER_LEN + 8, in + 40, k) != 0)
        st = vt_error_set(err, VT_ERR_PERMISSION, "wrong passphrase");
    sodium_memzero(k, sizeof(k));
    if (st == VT_OK) {
        out->len = start + (size_t)len;
        out->data[out->len] = 0;
    }
    return st;
}
