/*
 * credential.verify, presentation.*, endorsement.create, and the shared verification used by
 * the VC-API HTTP routes. Verification needs no account. Issuance and status: m_status.c.
 */
#include <string.h>

#include "api/api_int.h"

static const char *issuer_id(const json_t *doc)
{
    json_t *iss = json_object_get(doc, "issuer");
    if (json_is_string(iss))
        return json_string_value(iss);
    return vt_json_get_str(iss, "id");
}

enum vt_status api_verify_document(struct api_server *s, const json_t *doc, const char *challenge,
                                   const char *domain, json_t **result, struct vt_error *err)
{
    struct cred_verify_options opt;
    cred_verify_options_init(&opt);
    opt.trust = s->trust;
    /* The service's own credentials: its key history and its live status lists, whose
     * verified bitstrings the issuer keeps decoded until it re-signs them. */
    struct cred_issuer *iss = atomic_load(&s->issuer);
    if (iss) {
        opt.key_lookup = cred_issuer_key_lookup;
        opt.key_lookup_ctx = iss;
        opt.status_fetch = cred_issuer_status_fetch;
        opt.status_fetch_ctx = iss;
        opt.status_cache = cred_issuer_status_cache(iss);
    }
    opt.challenge = challenge;
    opt.domain = domain;
    struct cred_result *r = NULL;
    enum vt_status rc;
    if (json_is_object(doc)) {
        rc = cred_verify_json(doc, &opt, &r, err);
    } else if (json_is_string(doc)) {
        rc = cred_verify((const uint8_t *)json_string_value(doc), json_string_length(doc), &opt, &r,
                         err);
    } else {
        return vt_error_set(err, VT_ERR_INVALID,
                            "a credential is a JSON object, a JWT or base64url COSE");
    }
    (void)rc; /* a malformed document is still a result with reasons */
    *result = cred_result_to_json(r);
    cred_result_free(r);
    return VT_OK;
}

static const json_t *doc_param(const json_t *params, const char *a, const char *b)
{
    const json_t *v = json_object_get(params, a);
    return v ? v : json_object_get(params, b);
}

static enum vt_status record_event(struct api_server *s, const uint8_t learner[16],
                                   const char *type, const json_t *payload,
                                   struct ledger_append_result *res, struct vt_error *err)
{
    struct vt_buf pl;
    vt_buf_init(&pl, CRED_DOC_MAX * 2);
    enum vt_status rc = vt_jcs_write(payload, &pl, err);
    if (rc == VT_OK) {
        struct ledger_append_req req;
        memset(&req, 0, sizeof(req));
        memcpy(req.learner, learner, 16);
        req.type = type;
        req.payload = pl.data;
        req.payload_len = pl.len;
        rc = ledger_append(s->ledger, &req, res, err);
    }
    vt_buf_release(&pl);
    return rc;
}

API_METHOD(api_m_credential_verify)
{
    const json_t *doc = doc_param(params, "verifiableCredential", "credential");
    if (!doc)
        return vt_error_set(err, VT_ERR_INVALID, "missing param 'verifiableCredential'");
    return api_verify_document(call->srv, doc, NULL, NULL, result, err);
}

API_METHOD(api_m_presentation_challenge)
{
    (void)params;
    char ch[40];
    int64_t now = vt_time_now_ms();
    enum vt_status rc = api_challenge_new(call->srv->challenges, ch, now, err);
    if (rc != VT_OK)
        return rc;
    char ts[VT_TIME_MAX];
    vt_time_format(now + API_CHALLENGE_TTL_MS, ts);
    json_t *o = json_object();
    json_object_set_new(o, "challenge", json_string(ch));
    json_object_set_new(o, "domain", json_string(call->srv->did_web));
    json_object_set_new(o, "expires", json_string(ts));
    *result = o;
    return VT_OK;
}

/* Adds an error to a VC-API result and marks it not verified. */
static void result_fail(json_t *r, const char *title, const char *detail)
{
    json_t *errors = json_object_get(r, "errors");
    json_t *e = json_object();
    json_object_set_new(e, "type", json_string(cred_problem_type(CRED_P_CHALLENGE)));
    json_object_set_new(e, "title", json_string(title));
    json_object_set_new(e, "detail", json_string(detail));
    if (json_is_array(errors))
        json_array_append_new(errors, e);
    else
        json_decref(e);
    json_object_set_new(r, "verified", json_false());
}

API_METHOD(api_m_presentation_verify)
{
    const json_t *doc = doc_param(params, "verifiablePresentation", "presentation");
    if (!doc)
        return vt_error_set(err, VT_ERR_INVALID, "missing param 'verifiablePresentation'");
    const char *challenge, *domain;
    const json_t *opts = json_object_get(params, "options");
    const json_t *src = json_is_object(opts) ? opts : params;
    enum vt_status rc = api_param_str(src, "challenge", false, &challenge, err);
    if (rc == VT_OK)
        rc = api_param_str(src, "domain", false, &domain, err);
    if (rc != VT_OK)
        return rc;
    rc = api_verify_document(call->srv, doc, challenge, domain, result, err);
    if (rc == VT_OK && challenge &&
        !api_challenge_take(call->srv->challenges, challenge, vt_time_now_ms()))
        result_fail(*result, "unknown challenge",
                    "the challenge was not issued here, was used already, or expired");
    return rc;
}

API_METHOD(api_m_endorsement_create)
{
    uint8_t learner[16];
    enum vt_status rc = api_param_learner(params, learner, err);
    if (rc != VT_OK)
        return rc;
    const json_t *doc = json_object_get(params, "endorsement");
    if (!json_is_object(doc))
        return vt_error_set(err, VT_ERR_INVALID, "param 'endorsement' must be a signed credential");
    const char *iss = issuer_id(doc);
    if (!iss || (strcmp(iss, call->sess->who.did) && !(call->sess->who.roles & API_ROLE_ADMIN)))
        return vt_error_set(err, VT_ERR_PERMISSION, "the endorsement's issuer must be you");
    json_t *vr = NULL;
    rc = api_verify_document(call->srv, doc, NULL, NULL, &vr, err);
    if (rc != VT_OK)
        return rc;
    if (!json_is_true(json_object_get(vr, "verified"))) {
        call->error_data = vr;
        return vt_error_set(err, VT_ERR_VERIFY, "the endorsement does not verify");
    }
    struct ledger_append_result res;
    rc = record_event(call->srv, learner, "endorsement", doc, &res, err);
    if (rc != VT_OK) {
        json_decref(vr);
        return rc;
    }
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer((json_int_t)res.index));
    json_object_set_new(o, "seq", json_integer((json_int_t)res.seq));
    json_object_set_new(o, "verification", vr);
    *result = o;
    return VT_OK;
}
