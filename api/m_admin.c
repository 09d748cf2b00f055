/*
 * admin.*: principals, bearer tokens, key-encryption-key rotation, erasure, statistics.
 */
#include <string.h>

#include "api/api_int.h"

API_METHOD(api_m_admin_principal_create)
{
    struct api_server *s = call->srv;
    const char *did, *name, *lhex;
    enum vt_status rc = api_param_str(params, "did", true, &did, err);
    if (rc == VT_OK)
        rc = api_param_str(params, "name", false, &name, err);
    if (rc == VT_OK)
        rc = api_param_str(params, "learner", false, &lhex, err);
    if (rc != VT_OK)
        return rc;
    struct api_principal p;
    memset(&p, 0, sizeof(p));
    if (strlen(did) >= sizeof(p.did) || vt_didkey_parse(did, strlen(did), p.pk, err) != VT_OK)
        return vt_error_set(err, VT_ERR_INVALID, "did must be an Ed25519 did:key");
    /* Store the DID without a fragment so lookups by the bare DID match. */
    vt_didkey_from_public(p.pk, p.did);
    const json_t *roles = vt_json_get_arr(params, "roles");
    if (!roles || json_array_size(roles) == 0)
        return vt_error_set(err, VT_ERR_INVALID, "roles must list at least one role");
    size_t i;
    json_t *v;
    json_array_foreach(roles, i, v)
    {
        unsigned r = json_is_string(v) ? api_role_parse(json_string_value(v)) : 0;
        if (!r)
            return vt_error_set(err, VT_ERR_INVALID, "roles[%zu] is not a role", i);
        p.roles |= r;
    }
    if (name && strlen(name) >= sizeof(p.name))
        return vt_error_set(err, VT_ERR_INVALID, "name is longer than %d bytes", API_NAME_MAX - 1);
    snprintf(p.name, sizeof(p.name), "%s", name ? name : "");
    if (lhex && !(p.roles & API_ROLE_LEARNER))
        return vt_error_set(err, VT_ERR_INVALID, "only learner principals own a learner id");
    if (p.roles & API_ROLE_LEARNER) {
        p.has_learner = true;
        if (lhex)
            rc = api_hex_learner(lhex, p.learner, err);
        else
            vt_random_bytes(p.learner, sizeof(p.learner));
        if (rc != VT_OK)
            return rc;
    }
    p.created_ms = vt_time_now_ms();
    rc = api_store_add(s->store, &p, err);
    if (rc != VT_OK)
        return rc;
    API_LOG(API_LOG_INFO, "admin.principal_created", "req=%llu principal=%s roles=%u",
            (unsigned long long)call->job->id, p.did, p.roles);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(p.did));
    json_object_set(o, "roles", (json_t *)roles);
    if (p.has_learner) {
        char hex[33];
        api_learner_hex(p.learner, hex);
        json_object_set_new(o, "learner", json_string(hex));
    }
    *result = o;
    return VT_OK;
}

API_METHOD(api_m_admin_token_create)
{
    const char *did, *exp;
    enum vt_status rc = api_param_str(params, "principal", true, &did, err);
    if (rc == VT_OK)
        rc = api_param_str(params, "expires", false, &exp, err);
    if (rc != VT_OK)
        return rc;
    int64_t expires_ms = 0;
    if (exp && (rc = vt_time_parse(exp, strlen(exp), &expires_ms, err)) != VT_OK)
        return vt_error_prefix(err, rc, "expires");
    if (exp && expires_ms <= vt_time_now_ms())
        return vt_error_set(err, VT_ERR_INVALID, "expires is in the past");
    char token[API_TOKEN_MAX];
    rc = api_store_token_new(call->srv->store, did, expires_ms, token, err);
    if (rc != VT_OK)
        return rc;
    json_t *o = json_object();
    json_object_set_new(o, "token", json_string(token));
    json_object_set_new(o, "principal", json_string(did));
    if (exp)
        json_object_set_new(o, "expires", json_string(exp));
    memset(token, 0, sizeof(token));
    *result = o;
    return VT_OK;
}

API_METHOD(api_m_admin_key_rotate)
{
    (void)params;
    enum vt_status rc = ledger_kek_rotate(call->srv->ledger, NULL, err);
    if (rc != VT_OK)
        return rc;
    API_LOG(API_LOG_INFO, "admin.kek_rotated", "req=%llu", (unsigned long long)call->job->id);
    json_t *o = json_object();
    json_object_set_new(o, "rotated", json_string("kek"));
    *result = o;
    return VT_OK;
}

API_METHOD(api_m_admin_erase_learner)
{
    uint8_t learner[16];
    enum vt_status rc = api_param_learner(params, learner, err);
    if (rc != VT_OK)
        return rc;
    struct ledger_append_result res;
    rc = ledger_erase(call->srv->ledger, learner, &res, err);
    if (rc != VT_OK)
        return rc;
    char hex[33];
    api_learner_hex(learner, hex);
    API_LOG(API_LOG_INFO, "admin.learner_erased", "req=%llu learner=%s index=%llu",
            (unsigned long long)call->job->id, hex, (unsigned long long)res.index);
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer((json_int_t)res.index));
    json_object_set_new(o, "seq", json_integer((json_int_t)res.seq));
    *result = o;
    return VT_OK;
}

API_METHOD(api_m_admin_stats)
{
    (void)params;
    (void)err;
    struct api_server *s = call->srv;
    json_t *o = json_object();
    json_object_set_new(o, "ledger_events", json_integer((json_int_t)ledger_size(s->ledger)));
    json_object_set_new(o, "principals", json_integer((json_int_t)api_store_count(s->store)));
    json_object_set_new(o, "principal_list", api_store_list_json(s->store));
    json_object_set_new(o, "workers_pending",
                        json_integer((json_int_t)api_workers_pending(s->workers)));
    json_object_set_new(o, "uptime_s",
                        json_integer((json_int_t)((vt_time_now_ms() - s->started_ms) / 1000)));
    json_object_set_new(o, "version", json_string(API_VERSION_STRING));
    *result = o;
    return VT_OK;
}
