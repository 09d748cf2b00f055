/*
 * Issuance through the credential module's issuer (status slot, credential.issued event in
 * the learner's chain) and status changes: credential.issue, credential.revoke,
 * credential.suspend, credential.unsuspend, credential.status, and the shared code behind
 * VC-API POST /credentials/issue and GET /status/<id>.
 *
 * The issuer is the service's did:key, whose one key cannot rotate; its status lists live
 * at <base>/status/revocation-<n> and <base>/status/suspension-<n>.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"

#define ISSUE_EVIDENCE_MAX CRED_EVIDENCE_MAX

void api_status_base_url(const struct api_server *s, char *out, size_t n)
{
    if (s->cfg.did_web_host[0]) {
        snprintf(out, n, "https://%s/status", s->cfg.did_web_host);
        return;
    }
    const char *scheme = s->cfg.tls_cert[0] ? "https" : "http";
    bool v6 = strchr(s->cfg.listen_host, ':') != NULL;
    snprintf(out, n, v6 ? "%s://[%s]:%d/status" : "%s://%s:%d/status", scheme, s->cfg.listen_host,
             s->port);
}

static enum vt_status issuer_open_locked(struct api_server *s, struct vt_error *err)
{
    char base[API_HOST_MAX + 64];
    api_status_base_url(s, base, sizeof(base));
    struct cred_issuer_options o;
    cred_issuer_options_init(&o);
    o.ledger = s->ledger;
    o.did = s->did_key;
    o.name = "vitaed";
    o.key = s->cred_key;
    o.status_base_url = base;
    struct cred_issuer *iss = NULL;
    enum vt_status rc = cred_issuer_open(&o, &iss, err);
    if (rc != VT_OK)
        return vt_error_prefix(err, rc, "cannot open the credential issuer");
    atomic_store(&s->issuer, iss);
    return VT_OK;
}

/* Opening the issuer writes its first events; a service that never issued keeps an empty
 * log, so the issuer opens at start only when its chain exists, else on first use. */
enum vt_status api_issuer_open(struct api_server *s, struct vt_error *err)
{
    uint8_t chain[CRED_LEARNER_LEN];
    cred_issuer_chain_id(s->did_key, chain);
    if (ledger_head(s->ledger, chain, NULL, NULL, NULL, NULL) != VT_OK)
        return VT_OK;
    return issuer_open_locked(s, err);
}

struct cred_issuer *api_issuer(struct api_server *s, bool create, struct vt_error *err)
{
    struct cred_issuer *iss = atomic_load(&s->issuer);
    if (iss || !create) {
        if (!iss)
            vt_error_set(err, VT_ERR_NOT_FOUND, "this service has issued no credentials");
        return iss;
    }
    pthread_mutex_lock(&s->issuer_mu);
    enum vt_status rc = VT_OK;
    if (!atomic_load(&s->issuer))
        rc = issuer_open_locked(s, err);
    pthread_mutex_unlock(&s->issuer_mu);
    return rc == VT_OK ? atomic_load(&s->issuer) : NULL;
}

/* ---------------------------------------------------------------------------------------
 * Issuance
 */

static const char *issuer_of(const json_t *doc)
{
    json_t *iss = json_object_get(doc, "issuer");
    if (json_is_string(iss))
        return json_string_value(iss);
    return vt_json_get_str(iss, "id");
}

static enum vt_status opt_str(const json_t *o, const char *key, const char **out,
                              struct vt_error *err)
{
    *out = NULL;
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return VT_OK;
    if (!json_is_string(v))
        return vt_error_set(err, VT_ERR_INVALID, "'%s' must be a string", key);
    *out = json_string_value(v);
    return VT_OK;
}

/* The award named by a VC-API style unsigned credential. Strings borrow from cred. */
static enum vt_status award_from_credential(struct api_server *s, const json_t *cred,
                                            struct cred_award *a, struct vt_error *err)
{
    memset(a, 0, sizeof(*a));
    if (!json_is_object(cred))
        return vt_error_set(err, VT_ERR_INVALID, "credential must be a JSON object");
    if (json_object_get(cred, "proof"))
        return vt_error_set(err, VT_ERR_INVALID, "credential is already secured (has a proof)");
    const char *iss = issuer_of(cred);
    if (json_object_get(cred, "issuer") &&
        (!iss || (strcmp(iss, s->did_key) && strcmp(iss, s->did_web))))
        return vt_error_set(err, VT_ERR_PERMISSION, "issuer must be this service (%s)", s->did_key);
    const json_t *subj = json_object_get(cred, "credentialSubject");
    const json_t *ach = json_object_get(subj, "achievement");
    if (!json_is_object(subj) || !json_is_object(ach))
        return vt_error_set(err, VT_ERR_INVALID,
                            "credential needs credentialSubject.achievement (Open Badges 3.0)");
    const char *crit = NULL;
    const json_t *criteria = json_object_get(ach, "criteria");
    enum vt_status rc = opt_str(cred, "id", &a->id, err);
    if (rc == VT_OK)
        rc = opt_str(cred, "validUntil", &a->valid_until, err);
    if (rc == VT_OK)
        rc = opt_str(subj, "id", &a->subject_id, err);
    if (rc == VT_OK)
        rc = opt_str(ach, "id", &a->achievement_id, err);
    if (rc == VT_OK)
        rc = opt_str(ach, "name", &a->achievement_name, err);
    if (rc == VT_OK)
        rc = opt_str(ach, "description", &a->achievement_description, err);
    if (rc == VT_OK)
        rc = opt_str(ach, "achievementType", &a->achievement_type, err);
    if (rc == VT_OK && json_is_object(criteria))
        rc = opt_str(criteria, "narrative", &crit, err);
    if (rc != VT_OK)
        return vt_error_prefix(err, rc, "credential");
    a->criteria_narrative = crit;
    if (!a->subject_id)
        return vt_error_set(err, VT_ERR_INVALID,
                            "credentialSubject.id (the learner's DID) is "
                            "required");
    if (!a->achievement_id || !a->achievement_name || !a->achievement_description ||
        !a->criteria_narrative)
        return vt_error_set(err, VT_ERR_INVALID,
                            "credentialSubject.achievement needs id, name, "
                            "description and criteria.narrative");
    return VT_OK;
}

static enum vt_status parse_formats(const json_t *o, unsigned *formats, struct vt_error *err)
{
    const json_t *f = json_object_get(o, "formats");
    *formats = CRED_FORMAT_DI;
    if (!f)
        return VT_OK;
    if (!json_is_array(f) || json_array_size(f) == 0 || json_array_size(f) > 3)
        return vt_error_set(err, VT_ERR_INVALID,
                            "formats must be 1..3 of \"di\", \"jwt\", \"cose\"");
    *formats = 0;
    size_t i;
    json_t *v;
    json_array_foreach(f, i, v)
    {
        const char *name = json_string_value(v);
        if (name && !strcmp(name, "di"))
            *formats |= CRED_FORMAT_DI;
        else if (name && !strcmp(name, "jwt"))
            *formats |= CRED_FORMAT_JWT;
        else if (name && !strcmp(name, "cose"))
            *formats |= CRED_FORMAT_COSE;
        else
            return vt_error_set(err, VT_ERR_INVALID, "unknown format (use di, jwt, cose)");
    }
    return VT_OK;
}

static enum vt_status parse_evidence(const json_t *o, uint64_t *ev, size_t *n, struct vt_error *err)
{
    const json_t *a = json_object_get(o, "evidence");
    *n = 0;
    if (!a)
        return VT_OK;
    if (!json_is_array(a) || json_array_size(a) > ISSUE_EVIDENCE_MAX)
        return vt_error_set(err, VT_ERR_INVALID,
                            "evidence must be an array of at most %d ledger "
                            "indexes",
                            ISSUE_EVIDENCE_MAX);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        /* Numbers arrive as doubles (I-JSON): the wrapper reuses the param check. */
        json_t *wrap = json_pack("{s:O}", "i", v);
        uint64_t x = 0;
        enum vt_status rc = api_param_uint(wrap, "i", true, &x, err);
        json_decref(wrap);
        if (rc != VT_OK)
            return vt_error_set(err, VT_ERR_INVALID, "evidence[%zu] must be a ledger index", i);
        ev[(*n)++] = x;
    }
    return VT_OK;
}

/* The learner whose chain records the issuance: options.learner, else the learner
 * principal whose DID is the credential's subject. */
static enum vt_status issue_learner(struct api_server *s, const json_t *opts,
                                    const char *subject_id, uint8_t learner[16],
                                    struct vt_error *err)
{
    const char *hex = vt_json_get_str(opts, "learner");
    if (hex)
        return api_hex_learner(hex, learner, err);
    struct api_principal p;
    if (api_store_find(s->store, subject_id, &p) == VT_OK && p.has_learner) {
        memcpy(learner, p.learner, 16);
        return VT_OK;
    }
    return vt_error_set(err, VT_ERR_INVALID,
                        "give options.learner, or a credentialSubject.id of a learner principal");
}

static json_t *status_json(struct api_server *s, uint32_t list, uint32_t index)
{
    char base[API_HOST_MAX + 64], rev[API_HOST_MAX + 96], sus[API_HOST_MAX + 96];
    api_status_base_url(s, base, sizeof(base));
    snprintf(rev, sizeof(rev), "%s/revocation-%u", base, list);
    snprintf(sus, sizeof(sus), "%s/suspension-%u", base, list);
    return json_pack("{s:i,s:i,s:s,s:s}", "list", (json_int_t)list, "index", (json_int_t)index,
                     "revocation", rev, "suspension", sus);
}

enum vt_status api_issue_credential(struct api_server *s, const json_t *cred, const json_t *opts,
                                    json_t **result, struct vt_error *err)
{
    struct cred_award award;
    struct cred_issue_request req;
    uint64_t evidence[ISSUE_EVIDENCE_MAX];
    memset(&req, 0, sizeof(req));
    enum vt_status rc = award_from_credential(s, cred, &award, err);
    if (rc == VT_OK)
        rc = issue_learner(s, opts, award.subject_id, req.learner, err);
    if (rc == VT_OK)
        rc = parse_formats(opts, &req.formats, err);
    if (rc == VT_OK)
        rc = parse_evidence(opts, evidence, &req.evidence_count, err);
    if (rc != VT_OK)
        return rc;
    req.award = &award;
    req.evidence = evidence;
    struct cred_issuer *iss = api_issuer(s, true, err);
    if (!iss)
        return err ? err->status : VT_ERR_INTERNAL;
    struct cred_issued out;
    memset(&out, 0, sizeof(out));
    rc = cred_issue_achievement(iss, &req, &out, err);
    if (rc != VT_OK) {
        cred_issued_release(&out);
        return rc;
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(out.id));
    if (out.di) {
        json_t *vc = NULL;
        rc = vt_json_parse(out.di, out.di_len, out.di_len + 1, VT_JSON_MAX_DEPTH, &vc, err);
        if (rc == VT_OK)
            json_object_set_new(o, "verifiableCredential", vc);
    }
    if (out.jwt)
        json_object_set_new(o, "jwt", json_string(out.jwt));
    if (out.cose)
        json_object_set_new(o, "cose_b64u", api_json_b64u(out.cose, out.cose_len));
    json_object_set_new(o, "hash", api_json_hex(out.hash, sizeof(out.hash)));
    json_object_set_new(o, "status", status_json(s, out.status_list, out.status_index));
    json_object_set_new(o, "ledger_index", json_integer((json_int_t)out.event_index));
    cred_issued_release(&out);
    if (rc != VT_OK) {
        json_decref(o);
        return rc;
    }
    *result = o;
    return VT_OK;
}

API_METHOD(api_m_credential_issue)
{
    const json_t *cred = json_object_get(params, "credential");
    if (!cred)
        return vt_error_set(err, VT_ERR_INVALID, "missing param 'credential'");
    /* Options may sit in "options" (the VC-API shape) or beside the credential. */
    const json_t *opts = json_object_get(params, "options");
    if (opts && !json_is_object(opts))
        return vt_error_set(err, VT_ERR_INVALID, "param 'options' must be an object");
    return api_issue_credential(call->srv, cred, opts ? opts : params, result, err);
}

/* ---------------------------------------------------------------------------------------
 * Status
 */

/* The slot from {credential} (its credentialStatus entries) or {list, index}. */
static enum vt_status status_ref(struct api_server *s, const json_t *params,
                                 struct cred_status_ref *ref, const char **cred_id,
                                 struct vt_error *err)
{
    struct cred_issuer *iss = api_issuer(s, false, err);
    if (!iss)
        return VT_ERR_NOT_FOUND;
    const json_t *cred = json_object_get(params, "credential");
    *cred_id = NULL;
    if (cred) {
        if (!json_is_object(cred))
            return vt_error_set(err, VT_ERR_INVALID, "param 'credential' must be an object");
        *cred_id = vt_json_get_str(cred, "id");
        return cred_issuer_status_ref(iss, cred, ref, err);
    }
    uint64_t list, index;
    enum vt_status rc = api_param_uint(params, "list", true, &list, err);
    if (rc == VT_OK)
        rc = api_param_uint(params, "index", true, &index, err);
    if (rc != VT_OK)
        return vt_error_prefix(err, rc, "give credential, or list and index");
    if (list > UINT32_MAX || index > UINT32_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "list and index must fit 32 bits");
    ref->list = (uint32_t)list;
    ref->index = (uint32_t)index;
    return api_param_str(params, "id", false, cred_id, err);
}

static enum vt_status status_result(struct api_server *s, const struct cred_status_ref *ref,
                                    json_t **result, struct vt_error *err)
{
    bool revoked = false, suspended = false;
    enum vt_status rc =
        cred_issuer_status_get(atomic_load(&s->issuer), ref, &revoked, &suspended, err);
    if (rc != VT_OK)
        return rc;
    json_t *o = status_json(s, ref->list, ref->index);
    json_object_set_new(o, "revoked", json_boolean(revoked));
    json_object_set_new(o, "suspended", json_boolean(suspended));
    *result = o;
    return VT_OK;
}

enum status_change {
    CHANGE_REVOKE,
    CHANGE_SUSPEND,
    CHANGE_UNSUSPEND,
};

static enum vt_status change(struct api_call *call, const json_t *params, enum status_change what,
                             json_t **result, struct vt_error *err)
{
    struct api_server *s = call->srv;
    struct cred_status_ref ref;
    const char *id;
    enum vt_status rc = status_ref(s, params, &ref, &id, err);
    if (rc != VT_OK)
        return rc;
    if (id && strlen(id) >= CRED_ID_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "credential id over %d bytes", CRED_ID_MAX - 1);
    struct cred_issuer *iss = atomic_load(&s->issuer);
    bool revoked = false, suspended = false;
    rc = cred_issuer_status_get(iss, &ref, &revoked, &suspended, err);
    if (rc == VT_OK && revoked && what != CHANGE_REVOKE)
        return vt_error_set(err, VT_ERR_CONFLICT, "the credential is revoked; revocation is final");
    if (rc == VT_OK && what == CHANGE_REVOKE)
        rc = cred_issuer_revoke(iss, &ref, id, err);
    else if (rc == VT_OK && what == CHANGE_SUSPEND)
        rc = cred_issuer_suspend(iss, &ref, id, err);
    else if (rc == VT_OK)
        rc = cred_issuer_unsuspend(iss, &ref, id, err);
    if (rc != VT_OK)
        return rc;
    API_LOG(API_LOG_INFO, "credential.status", "req=%llu list=%u index=%u change=%s",
            (unsigned long long)call->job->id, ref.list, ref.index,
            what == CHANGE_REVOKE    ? "revoke"
            : what == CHANGE_SUSPEND ? "suspend"
                                     : "unsuspend");
    return status_result(s, &ref, result, err);
}

API_METHOD(api_m_credential_revoke)
{
    return change(call, params, CHANGE_REVOKE, result, err);
}

API_METHOD(api_m_credential_suspend)
{
    return change(call, params, CHANGE_SUSPEND, result, err);
}

API_METHOD(api_m_credential_unsuspend)
{
    return change(call, params, CHANGE_UNSUSPEND, result, err);
}

API_METHOD(api_m_credential_status)
{
    struct cred_status_ref ref;
    const char *id;
    enum vt_status rc = status_ref(call->srv, params, &ref, &id, err);
    if (rc != VT_OK)
        return rc;
    return status_result(call->srv, &ref, result, err);
}

enum vt_status api_status_list_text(struct api_server *s, const char *id, struct vt_buf *out,
                                    struct vt_error *err)
{
    if (strlen(id) >= CRED_STATUS_LIST_ID_MAX)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "no such status list");
    struct cred_issuer *iss = api_issuer(s, false, err);
    if (!iss)
        return VT_ERR_NOT_FOUND;
    char *text = NULL;
    size_t len = 0;
    enum vt_status rc = cred_issuer_status_list(iss, id, &text, &len, err);
    if (rc == VT_OK)
        rc = vt_buf_append(out, text, len, err);
    free(text);
    return rc;
}
