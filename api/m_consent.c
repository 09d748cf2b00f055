/*
 * consent.*: grants are checked against the learner's registered wallet key, appended to
 * the learner's chain, and only then (durable) indexed, so the index never holds a grant
 * the ledger could lose.
 */
#include <string.h>

#include "api/api_int.h"

static enum vt_status append_json(struct api_server *s, const uint8_t learner[16], const char *type,
                                  const json_t *payload, struct ledger_append_result *res,
                                  struct vt_error *err, struct vt_buf *canon)
{
    enum vt_status rc = vt_jcs_write(payload, canon, err);
    if (rc != VT_OK)
        return rc;
    struct ledger_append_req req;
    memset(&req, 0, sizeof(req));
    memcpy(req.learner, learner, 16);
    req.type = type;
    req.payload = canon->data;
    req.payload_len = canon->len;
    return ledger_append(s->ledger, &req, res, err);
}

API_METHOD(api_m_consent_grant)
{
    struct api_server *s = call->srv;
    struct api_consent_grant g;
    enum vt_status rc = api_consent_parse(params, &g, err);
    if (rc != VT_OK)
        return rc;
    struct api_principal learner;
    if (api_store_find_learner(s->store, g.learner, &learner) != VT_OK)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "no learner principal owns grant.learner");
    rc = api_consent_verify_sig(params, learner.pk, err);
    if (rc != VT_OK)
        return rc;
    if (g.expires_ms <= vt_time_now_ms())
        return vt_error_set(err, VT_ERR_INVALID, "the grant has expired already");
    struct api_consent_grant old;
    bool revoked;
    if (api_consents_get(s->consents, g.id, &old, &revoked) == VT_OK)
        return vt_error_set(err, VT_ERR_EXISTS, "this grant is recorded already");
    json_t *payload = json_object();
    json_object_set(payload, "grant", json_object_get(params, "grant"));
    json_object_set(payload, "signature", json_object_get(params, "signature"));
    struct vt_buf canon;
    vt_buf_init(&canon, 64 * 1024);
    struct ledger_append_result res;
    rc = append_json(s, g.learner, "consent.granted", payload, &res, err, &canon);
    if (rc == VT_OK)
        api_consents_apply(s->consents, "consent.granted", canon.data, canon.len, vt_time_now_ms());
    vt_buf_release(&canon);
    json_decref(payload);
    if (rc != VT_OK)
        return rc;
    API_LOG(API_LOG_INFO, "consent.granted", "req=%llu id=%s audience=%s",
            (unsigned long long)call->job->id, g.id, g.audience);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(g.id));
    json_object_set_new(o, "index", json_integer((json_int_t)res.index));
    *result = o;
    return VT_OK;
}

API_METHOD(api_m_consent_revoke)
{
    struct api_server *s = call->srv;
    uint8_t learner[16];
    const char *id;
    enum vt_status rc = api_param_learner(params, learner, err);
    if (rc == VT_OK)
        rc = api_param_str(params, "id", true, &id, err);
    if (rc != VT_OK)
        return rc;
    struct api_consent_grant g;
    bool revoked;
    if (api_consents_get(s->consents, id, &g, &revoked) != VT_OK || memcmp(g.learner, learner, 16))
        return vt_error_set(err, VT_ERR_NOT_FOUND, "no grant '%s' for this learner", id);
    if (revoked)
        return vt_error_set(err, VT_ERR_CONFLICT, "grant '%s' is revoked already", id);
    json_t *payload = json_object();
    json_object_set_new(payload, "id", json_string(id));
    json_object_set_new(payload, "by", json_string(call->sess->who.did));
    struct vt_buf canon;
    vt_buf_init(&canon, 4096);
    struct ledger_append_result res;
    rc = append_json(s, learner, "consent.revoked", payload, &res, err, &canon);
    if (rc == VT_OK)
        api_consents_apply(s->consents, "consent.revoked", canon.data, canon.len, vt_time_now_ms());
    vt_buf_release(&canon);
    json_decref(payload);
    if (rc != VT_OK)
        return rc;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "index", json_integer((json_int_t)res.index));
    *result = o;
    return VT_OK;
}

API_METHOD(api_m_consent_list)
{
    uint8_t learner[16];
    enum vt_status rc = api_param_learner(params, learner, err);
    if (rc != VT_OK)
        return rc;
    json_t *o = json_object();
    json_object_set_new(o, "grants",
                        api_consents_list(call->srv->consents, learner, vt_time_now_ms()));
    *result = o;
    return VT_OK;
}
