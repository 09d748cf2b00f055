/*
 * auth.*: challenge–response login with a did:key (specs/api.md §7.1) and bearer tokens.
 * The signed message binds the nonce to this server's identity, so a signature made for
 * one vitaed cannot be replayed to another.
 */
#include <string.h>

#include "api/api_int.h"

#define AUTH_DOMAIN "vitae/auth/v1\n"
#define NONCE_TTL_MS (5 * 60 * 1000)

static json_t *whoami_json(const struct api_session *sess)
{
    json_t *o = json_object();
    json_object_set_new(o, "authenticated", json_boolean(sess->authed));
    if (sess->authed) {
        json_t *roles = json_array();
        for (unsigned i = 0; i < API_ROLE_COUNT; i++) {
            if (sess->who.roles & (1u << i))
                json_array_append_new(roles, json_string(api_role_name(1u << i)));
        }
        json_object_set_new(o, "principal", json_string(sess->who.did));
        json_object_set_new(o, "roles", roles);
        if (sess->who.has_learner) {
            char hex[33];
            api_learner_hex(sess->who.learner, hex);
            json_object_set_new(o, "learner", json_string(hex));
        }
    }
    return o;
}

API_METHOD(api_m_auth_challenge)
{
    (void)params;
    (void)err;
    struct api_session *sess = call->sess;
    vt_random_bytes(sess->nonce, sizeof(sess->nonce));
    sess->has_nonce = true;
    int64_t now = vt_time_now_ms();
    sess->nonce_expires_ms = now + NONCE_TTL_MS;
    call->job->sess_changed = true;
    char ts[VT_TIME_MAX];
    vt_time_format(sess->nonce_expires_ms, ts);
    json_t *o = json_object();
    json_object_set_new(o, "nonce", api_json_b64u(sess->nonce, sizeof(sess->nonce)));
    json_object_set_new(o, "server", json_string(call->srv->did_key));
    json_object_set_new(o, "expires", json_string(ts));
    *result = o;
    return VT_OK;
}

API_METHOD(api_m_auth_login)
{
    struct api_server *s = call->srv;
    struct api_session *sess = call->sess;
    const char *token, *did, *sig;
    enum vt_status rc = api_param_str(params, "token", false, &token, err);
    if (rc == VT_OK)
        rc = api_param_str(params, "did", false, &did, err);
    if (rc == VT_OK)
        rc = api_param_str(params, "signature", false, &sig, err);
    if (rc != VT_OK)
        return rc;
    struct api_principal who;
    if (token) {
        if (!api_store_token_check(s->store, token, &who)) {
            call->rpc_code = API_RPC_UNAUTHENTICATED;
            return vt_error_set(err, VT_ERR_PERMISSION, "unknown or expired token");
        }
    } else {
        if (!did || !sig)
            return vt_error_set(err, VT_ERR_INVALID,
                                "auth.login needs token, or did and signature");
        if (!sess->has_nonce || sess->nonce_expires_ms <= vt_time_now_ms()) {
            call->rpc_code = API_RPC_UNAUTHENTICATED;
            return vt_error_set(err, VT_ERR_PERMISSION, "no live challenge: call auth.challenge");
        }
        struct vt_buf sb;
        vt_buf_init(&sb, 128);
        rc = vt_base64url_decode(sig, strlen(sig), &sb, err);
        if (rc == VT_OK && sb.len != VT_ED25519_SIG_LEN)
            rc = vt_error_set(err, VT_ERR_INVALID, "signature must be 64 bytes");
        if (rc != VT_OK) {
            vt_buf_release(&sb);
            return rc;
        }
        /* The nonce is single use whatever the outcome. */
        sess->has_nonce = false;
        call->job->sess_changed = true;
        if (api_store_find(s->store, did, &who) != VT_OK) {
            vt_buf_release(&sb);
            call->rpc_code = API_RPC_UNAUTHENTICATED;
            return vt_error_set(err, VT_ERR_PERMISSION, "unknown principal");
        }
        struct vt_buf msg;
        vt_buf_init(&msg, 512);
        (void)vt_buf_append_str(&msg, AUTH_DOMAIN, NULL);
        (void)vt_base64url_encode(sess->nonce, sizeof(sess->nonce), &msg, NULL);
        (void)vt_buf_printf(&msg, NULL, "\n%s\n", s->did_key);
        bool ok = vt_ed25519_verify(who.pk, msg.data, msg.len, sb.data);
        vt_buf_release(&msg);
        vt_buf_release(&sb);
        if (!ok) {
            call->rpc_code = API_RPC_UNAUTHENTICATED;
            return vt_error_set(err, VT_ERR_VERIFY, "challenge signature does not verify");
        }
    }
    sess->authed = true;
    sess->who = who;
    call->job->sess_changed = true;
    API_LOG(API_LOG_INFO, "auth.login", "conn=%llu req=%llu principal=%s method=%s",
            (unsigned long long)call->job->conn_id, (unsigned long long)call->job->id, who.did,
            token ? "token" : "challenge");
    *result = whoami_json(sess);
    return VT_OK;
}

API_METHOD(api_m_auth_whoami)
{
    (void)params;
    (void)err;
    *result = whoami_json(call->sess);
    return VT_OK;
}
