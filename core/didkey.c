/* did:key for Ed25519 and its resolved DID document (specs/encoding.md §4). */
#include "core/core.h"
#include "core/core_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char did_prefix[] = "did:key:";
#define DID_PREFIX_LEN (sizeof(did_prefix) - 1)

/* Every value formatted here is a fixed-size multibase key, so overflow is a bug. */
static void join(char out[VT_DIDKEY_MAX], const char *a, const char *sep, const char *b)
{
    int len = snprintf(out, VT_DIDKEY_MAX, "%s%s%s", a, sep, b);
    VT_ASSERT(len > 0 && len < VT_DIDKEY_MAX);
}

void vt_didkey_from_public(const uint8_t pk[VT_ED25519_PK_LEN], char out[VT_DIDKEY_MAX])
{
    char mb[VT_MULTIKEY_MAX];
    vt_multikey_encode_public(pk, mb);
    join(out, did_prefix, "", mb);
}

void vt_didkey_vm_from_public(const uint8_t pk[VT_ED25519_PK_LEN], char out[VT_DIDKEY_MAX])
{
    char mb[VT_MULTIKEY_MAX];
    vt_multikey_encode_public(pk, mb);
    char did[VT_DIDKEY_MAX];
    join(did, did_prefix, "", mb);
    join(out, did, "#", mb);
}

/* Checks the multicodec header and length of the decoded method-specific value. */
static enum vt_status check_key_bytes(const struct vt_buf *raw, uint8_t pk[VT_ED25519_PK_LEN],
                                      struct vt_error *err)
{
    uint64_t code;
    if (vt_multicodec_read(raw->data, raw->len, &code) == 0)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid did:key: the value has no multicodec prefix");
    if (code != VT_MULTICODEC_ED25519_PUB)
        return vt_error_set(err, VT_ERR_UNSUPPORTED,
                            "unsupported did:key key type: multicodec 0x%" PRIx64
                            " (%s); only 0xed (ed25519-pub) is supported",
                            code, vt_multicodec_name(code));
    const uint8_t *payload;
    enum vt_status st = vt_multicodec_unwrap(raw->data, raw->len, VT_MULTICODEC_ED25519_PUB,
                                             VT_ED25519_PK_LEN, &payload, err);
    if (st != VT_OK) {
        if (err != NULL)
            vt_error_prefix(err, st, "invalid did:key");
        return st;
    }
    memcpy(pk, payload, VT_ED25519_PK_LEN);
    return VT_OK;
}

enum vt_status vt_didkey_parse(const char *did, size_t n, uint8_t pk[VT_ED25519_PK_LEN],
                               struct vt_error *err)
{
    if (n >= VT_DIDKEY_MAX)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid did:key: %zu characters is longer than any Ed25519 did:key "
                            "URL",
                            n);
    if (n < DID_PREFIX_LEN || memcmp(did, did_prefix, DID_PREFIX_LEN) != 0)
        return vt_error_set(err, VT_ERR_INVALID, "invalid did:key: does not start with '%s'",
                            did_prefix);

    const char *value = did + DID_PREFIX_LEN;
    const char *hash = memchr(value, '#', n - DID_PREFIX_LEN);
    size_t value_len = hash != NULL ? (size_t)(hash - value) : n - DID_PREFIX_LEN;
    if (value_len == 0)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid did:key: empty method-specific identifier");
    /* The ABNF also allows 'u', but resolution requires base58btc and every Ed25519
     * did:key in use is "z6Mk..."; accepting two spellings of one key would give it two
     * DIDs. */
    if (value[0] != VT_MULTIBASE_BASE58BTC)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid did:key: expected multibase prefix 'z' at offset %zu",
                            DID_PREFIX_LEN);

    struct vt_buf raw;
    vt_buf_init(&raw, VT_DIDKEY_MAX);
    uint8_t key[VT_ED25519_PK_LEN];
    enum vt_status st =
        vt_base58_decode_at(value + 1, value_len - 1, DID_PREFIX_LEN + 1, &raw, err);
    if (st != VT_OK && err != NULL)
        vt_error_prefix(err, st, "invalid did:key");
    if (st == VT_OK)
        st = check_key_bytes(&raw, key, err);
    vt_buf_release(&raw);
    if (st != VT_OK)
        return st;

    if (hash != NULL) {
        size_t frag_len = n - DID_PREFIX_LEN - value_len - 1;
        if (frag_len != value_len || memcmp(hash + 1, value, value_len) != 0)
            return vt_error_set(err, VT_ERR_INVALID,
                                "invalid did:key URL: the fragment at offset %zu is not the "
                                "key's own multibase value",
                                DID_PREFIX_LEN + value_len + 1);
    }
    memcpy(pk, key, VT_ED25519_PK_LEN);
    return VT_OK;
}

enum vt_status vt_didkey_document(const char *did, json_t **doc_out, struct vt_error *err)
{
    uint8_t pk[VT_ED25519_PK_LEN];
    enum vt_status st = vt_didkey_parse(did, strlen(did), pk, err);
    if (st != VT_OK)
        return st;

    struct vt_key key;
    vt_key_from_public(&key, pk);
    uint8_t xpk[VT_X25519_LEN];
    st = vt_key_x25519(&key, xpk, NULL, err);
    if (st != VT_OK) {
        if (err != NULL)
            vt_error_prefix(err, st, "cannot resolve did:key");
        return st;
    }

    char mb[VT_MULTIKEY_MAX], xmb[VT_MULTIKEY_MAX];
    char id[VT_DIDKEY_MAX], vm[VT_DIDKEY_MAX], ka[VT_DIDKEY_MAX];
    vt_multikey_encode_public(pk, mb);
    vt_multikey_encode(VT_MULTICODEC_X25519_PUB, xpk, sizeof(xpk), xmb);
    /* A DID URL resolves to the document of its DID, so the id drops any fragment. */
    vt_didkey_from_public(pk, id);
    vt_didkey_vm_from_public(pk, vm);
    join(ka, id, "#", xmb);

    json_t *doc = json_pack("{s:[s,s], s:s, s:[{s:s, s:s, s:s, s:s}], s:[s], s:[s], s:[s], "
                            "s:[s], s:[{s:s, s:s, s:s, s:s}]}",
                            "@context", "https://www.w3.org/ns/did/v1",
                            "https://w3id.org/security/multikey/v1", "id", id, "verificationMethod",
                            "id", vm, "type", "Multikey", "controller", id, "publicKeyMultibase",
                            mb, "authentication", vm, "assertionMethod", vm, "capabilityInvocation",
                            vm, "capabilityDelegation", vm, "keyAgreement", "id", ka, "type",
                            "Multikey", "controller", id, "publicKeyMultibase", xmb);
    /* json_pack fails only on a bad format string or out of memory. */
    VT_ASSERT(doc != NULL);
    *doc_out = doc;
    return VT_OK;
}
