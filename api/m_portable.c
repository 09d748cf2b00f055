/*
 * portable.*: a learner's portable twin bundle (specs/ledger.md §10) out of this service
 * and into it. An export may be sealed to a recipient's did:key (its X25519 form), so
 * that only the receiving institution reads the payloads; an import opens bundles sealed
 * to this service's key. The bundle travels as base64url text (a byte string in CBOR
 * frames), within max_message.
 */
#include <string.h>

#include <sodium.h>

#include "api/api_int.h"

API_METHOD(api_m_portable_export)
{
    uint8_t learner[LEDGER_LEARNER_LEN];
    const char *recipient;
    enum vt_status rc = api_param_learner(params, learner, err);
    if (rc == VT_OK)
        rc = api_param_str(params, "recipient", false, &recipient, err);
    if (rc != VT_OK)
        return rc;
    uint8_t x_pk[VT_X25519_LEN];
    if (recipient) {
        uint8_t pk[VT_ED25519_PK_LEN];
        struct vt_key k;
        rc = vt_didkey_parse(recipient, strlen(recipient), pk, err);
        if (rc == VT_OK) {
            vt_key_from_public(&k, pk);
            rc = vt_key_x25519(&k, x_pk, NULL, err);
        }
        if (rc != VT_OK)
            return vt_error_prefix(err, rc, "recipient");
    }
    struct vt_buf b;
    /* The answer carries the bundle as base64url: keep it within the output cap. */
    vt_buf_init(&b, call->srv->cfg.max_message * 3);
    rc = ledger_bundle_export(call->srv->ledger, learner, recipient ? x_pk : NULL, &b, err);
    if (rc == VT_OK) {
        uint8_t h[VT_SHA256_LEN];
        vt_sha256(b.data, b.len, h);
        *result = json_pack("{s:o,s:I,s:o,s:b}", "bundle", api_json_b64u(b.data, b.len), "bytes",
                            (json_int_t)b.len, "sha256", api_json_hex(h, sizeof(h)), "sealed",
                            recipient != NULL);
        API_LOG(API_LOG_INFO, "portable.export", "req=%llu bytes=%zu sealed=%d",
                (unsigned long long)call->job->id, b.len, recipient != NULL);
    }
    vt_buf_release(&b);
    return rc;
}

API_METHOD(api_m_portable_import)
{
    const char *text;
    enum vt_status rc = api_param_str(params, "bundle", true, &text, err);
    if (rc != VT_OK)
        return rc;
    struct vt_buf b;
    vt_buf_init(&b, call->srv->cfg.max_message);
    rc = vt_base64url_decode(text, strlen(text), &b, err);
    if (rc != VT_OK) {
        vt_buf_release(&b);
        return vt_error_prefix(err, rc, "bundle");
    }
    uint8_t x_sk[VT_X25519_LEN], x_pk[VT_X25519_LEN];
    rc = vt_key_x25519(&call->srv->key, x_pk, x_sk, err);
    struct ledger_bundle_result res;
    memset(&res, 0, sizeof(res));
    if (rc == VT_OK)
        rc = ledger_bundle_import(call->srv->ledger, b.data, b.len, x_sk, &res, err);
    sodium_memzero(x_sk, sizeof(x_sk));
    vt_buf_release(&b);
    if (rc != VT_OK)
        return rc;
    char did[VT_DIDKEY_MAX], lhex[33];
    vt_didkey_from_public(res.service_key, did);
    api_learner_hex(res.learner, lhex);
    /* Whether the exporting service deserves trust is the caller's call: it is named. */
    *result = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "learner", lhex, "origin",
                        res.origin, "service_key", did, "checkpoint_size",
                        (json_int_t)res.checkpoint_size, "events", (json_int_t)res.events,
                        "imported", (json_int_t)res.imported, "present", (json_int_t)res.present,
                        "payloads", (json_int_t)res.payloads, "head_seq", (json_int_t)res.head_seq,
                        "head_leaf_hash", api_json_hex(res.head_leaf, sizeof(res.head_leaf)));
    API_LOG(API_LOG_INFO, "portable.import", "req=%llu learner=%s origin=%s imported=%llu",
            (unsigned long long)call->job->id, lhex, res.origin, (unsigned long long)res.imported);
    api_twin_kick(call->srv);
    return VT_OK;
}
