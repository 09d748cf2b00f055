/* Unsigned documents: OpenBadgeCredential, EndorsementCredential, ClrCredential and
 * VerifiablePresentation (specs/credential.md §4, §9). */
#include "credential/credential_int.h"

#include <stdio.h>
#include <string.h>

void cred_identity_hash(const char *identifier, const char *salt, char out[CRED_IDENTITY_HASH_MAX])
{
    struct vt_sha256 *h = vt_sha256_new();
    uint8_t d[VT_SHA256_LEN];
    vt_sha256_update(h, identifier, strlen(identifier));
    if (salt != NULL)
        vt_sha256_update(h, salt, strlen(salt));
    vt_sha256_final(h, d);
    vt_sha256_free(h);
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "sha256$", 7);
    for (size_t i = 0; i < VT_SHA256_LEN; i++) {
        out[7 + 2 * i] = hex[d[i] >> 4];
        out[8 + 2 * i] = hex[d[i] & 15];
    }
    out[7 + 2 * VT_SHA256_LEN] = '\0';
}

static json_t *types(const char *a, const char *b)
{
    json_t *t = json_array();
    json_array_append_new(t, json_string(a));
    if (b != NULL)
        json_array_append_new(t, json_string(b));
    return t;
}

static json_t *contexts(bool clr)
{
    json_t *c = json_array();
    json_array_append_new(c, json_string(CRED_CONTEXT_V2));
    if (clr)
        json_array_append_new(c, json_string(CRED_CONTEXT_CLR));
    json_array_append_new(c, json_string(CRED_CONTEXT_OB));
    return c;
}

static json_t *profile(const char *id, const char *name, const char *url)
{
    json_t *p = json_object();
    json_object_set_new(p, "id", json_string(id));
    json_object_set_new(p, "type", types("Profile", NULL));
    if (name != NULL)
        json_object_set_new(p, "name", json_string(name));
    if (url != NULL)
        json_object_set_new(p, "url", json_string(url));
    return p;
}

static void set_opt(json_t *o, const char *k, const char *v)
{
    if (v != NULL)
        json_object_set_new(o, k, json_string(v));
}

static const char *now_or(const char *t, char buf[VT_TIME_MAX])
{
    if (t != NULL)
        return t;
    vt_time_format(vt_time_now_ms() / 1000 * 1000, buf);
    return buf;
}

static json_t *evidence(const struct cred_ledger_evidence *ev)
{
    json_t *list = json_array();
    json_t *e = json_object();
    json_object_set_new(e, "type", types("Evidence", NULL));
    json_object_set_new(e, "name", json_string("Learning record events"));
    char narrative[512];
    snprintf(narrative, sizeof(narrative),
             "%zu ledger events (SHA-256 hashes listed) included in the transparency log "
             "checkpoint below.",
             ev->event_count);
    json_object_set_new(e, "narrative", json_string(narrative));
    /* Extension members, namespaced so that JSON-LD processors keep them apart. */
    json_t *hashes = json_array();
    for (size_t i = 0; i < ev->event_count; i++)
        json_array_append_new(hashes, json_string(ev->event_hashes[i]));
    json_object_set_new(e, "vitae:eventHashes", hashes);
    if (ev->event_indexes != NULL) {
        json_t *idx = json_array();
        for (size_t i = 0; i < ev->event_count; i++)
            json_array_append_new(idx, json_integer((json_int_t)ev->event_indexes[i]));
        json_object_set_new(e, "vitae:eventIndexes", idx);
    }
    if (ev->checkpoint != NULL)
        json_object_set_new(e, "vitae:checkpoint", json_string(ev->checkpoint));
    if (ev->log_origin != NULL)
        json_object_set_new(e, "vitae:logOrigin", json_string(ev->log_origin));
    json_array_append_new(list, e);
    return list;
}

enum vt_status cred_openbadge_new(const struct cred_award *a, json_t **out, struct vt_error *err)
{
    *out = NULL;
    if (a->id == NULL || a->issuer_id == NULL || a->achievement_id == NULL ||
        a->achievement_name == NULL || a->achievement_description == NULL ||
        a->criteria_narrative == NULL)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot build badge: id, issuer, achievement "
                            "id, name, description and criteria are "
                            "required");
    if (a->subject_id == NULL && a->subject_identifier == NULL)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot build badge: the learner needs a DID or an identifier");
    for (size_t i = 0; i < a->alignment_count; i++) {
        if (a->alignments[i].target_name == NULL || a->alignments[i].target_url == NULL)
            return vt_error_set(err, VT_ERR_INVALID,
                                "cannot build badge: alignment %zu needs targetName and "
                                "targetUrl",
                                i);
    }
    char tbuf[VT_TIME_MAX];
    json_t *doc = json_object();
    json_object_set_new(doc, "@context", contexts(false));
    json_object_set_new(doc, "id", json_string(a->id));
    json_object_set_new(doc, "type", types("VerifiableCredential", "OpenBadgeCredential"));
    json_object_set_new(doc, "issuer", profile(a->issuer_id, a->issuer_name, a->issuer_url));
    json_object_set_new(doc, "validFrom", json_string(now_or(a->valid_from, tbuf)));
    set_opt(doc, "validUntil", a->valid_until);
    json_object_set_new(doc, "name", json_string(a->achievement_name));

    json_t *ach = json_object();
    json_object_set_new(ach, "id", json_string(a->achievement_id));
    json_object_set_new(ach, "type", types("Achievement", NULL));
    set_opt(ach, "achievementType", a->achievement_type);
    json_object_set_new(ach, "name", json_string(a->achievement_name));
    json_object_set_new(ach, "description", json_string(a->achievement_description));
    json_t *crit = json_object();
    json_object_set_new(crit, "narrative", json_string(a->criteria_narrative));
    json_object_set_new(ach, "criteria", crit);
    if (a->alignment_count > 0) {
        json_t *al = json_array();
        for (size_t i = 0; i < a->alignment_count; i++) {
            const struct cred_alignment *x = &a->alignments[i];
            json_t *o = json_object();
            json_object_set_new(o, "type", types("Alignment", NULL));
            json_object_set_new(o, "targetName", json_string(x->target_name));
            json_object_set_new(o, "targetUrl", json_string(x->target_url));
            set_opt(o, "targetCode", x->target_code);
            set_opt(o, "targetFramework", x->target_framework);
            set_opt(o, "targetType", x->target_type);
            json_array_append_new(al, o);
        }
        json_object_set_new(ach, "alignment", al);
    }
    char rd_id[600];
    if (a->result_type != NULL) {
        snprintf(rd_id, sizeof(rd_id), "%s#result", a->achievement_id);
        json_t *rd = json_object();
        json_object_set_new(rd, "id", json_string(rd_id));
        json_object_set_new(rd, "type", types("ResultDescription", NULL));
        json_object_set_new(rd, "name", json_string(a->achievement_name));
        json_object_set_new(rd, "resultType", json_string(a->result_type));
        json_t *rds = json_array();
        json_array_append_new(rds, rd);
        json_object_set_new(ach, "resultDescription", rds);
    }

    json_t *subj = json_object();
    set_opt(subj, "id", a->subject_id);
    json_object_set_new(subj, "type", types("AchievementSubject", NULL));
    if (a->subject_identifier != NULL) {
        char hash[CRED_IDENTITY_HASH_MAX];
        cred_identity_hash(a->subject_identifier, a->subject_salt, hash);
        json_t *io = json_object();
        json_object_set_new(io, "type", json_string("IdentityObject"));
        json_object_set_new(io, "hashed", json_true());
        json_object_set_new(io, "identityHash", json_string(hash));
        json_object_set_new(io, "identityType",
                            json_string(a->subject_identity_type != NULL ? a->subject_identity_type
                                                                         : "emailAddress"));
        set_opt(io, "salt", a->subject_salt);
        json_t *ids = json_array();
        json_array_append_new(ids, io);
        json_object_set_new(subj, "identifier", ids);
    }
    json_object_set_new(subj, "achievement", ach);
    if (a->result_type != NULL && a->result_value != NULL) {
        json_t *res = json_object();
        json_object_set_new(res, "type", types("Result", NULL));
        json_object_set_new(res, "resultDescription", json_string(rd_id));
        json_object_set_new(res, "value", json_string(a->result_value));
        json_t *rs = json_array();
        json_array_append_new(rs, res);
        json_object_set_new(subj, "result", rs);
    }
    json_object_set_new(doc, "credentialSubject", subj);
    if (a->evidence != NULL)
        json_object_set_new(doc, "evidence", evidence(a->evidence));
    if (a->credential_status != NULL)
        json_object_set_new(doc, "credentialStatus", json_deep_copy(a->credential_status));
    *out = doc;
    return VT_OK;
}

enum vt_status cred_endorsement_new(const char *id, const char *issuer_id, const char *issuer_name,
                                    const char *subject_id, const char *comment, json_t **out,
                                    struct vt_error *err)
{
    *out = NULL;
    if (id == NULL || issuer_id == NULL || subject_id == NULL)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot build endorsement: id, issuer and subject are required");
    char tbuf[VT_TIME_MAX];
    json_t *doc = json_object();
    json_object_set_new(doc, "@context", contexts(false));
    json_object_set_new(doc, "id", json_string(id));
    json_object_set_new(doc, "type", types("VerifiableCredential", "EndorsementCredential"));
    json_object_set_new(doc, "name", json_string("Endorsement"));
    json_object_set_new(doc, "issuer", profile(issuer_id, issuer_name, NULL));
    json_object_set_new(doc, "validFrom", json_string(now_or(NULL, tbuf)));
    json_t *s = json_object();
    json_object_set_new(s, "id", json_string(subject_id));
    json_object_set_new(s, "type", types("EndorsementSubject", NULL));
    set_opt(s, "endorsementComment", comment);
    json_object_set_new(doc, "credentialSubject", s);
    *out = doc;
    return VT_OK;
}

enum vt_status cred_clr_new(const char *id, const char *issuer_id, const char *issuer_name,
                            const char *learner_id, const json_t *const *credentials, size_t count,
                            json_t **out, struct vt_error *err)
{
    *out = NULL;
    if (id == NULL || issuer_id == NULL || learner_id == NULL || count == 0 ||
        count > CRED_VP_CREDENTIALS_MAX)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot build CLR: id, issuer, learner and 1 "
                            "to %d credentials are required",
                            CRED_VP_CREDENTIALS_MAX);
    char tbuf[VT_TIME_MAX];
    json_t *doc = json_object();
    json_object_set_new(doc, "@context", contexts(true));
    json_object_set_new(doc, "id", json_string(id));
    json_object_set_new(doc, "type", types("VerifiableCredential", "ClrCredential"));
    json_object_set_new(doc, "issuer", profile(issuer_id, issuer_name, NULL));
    json_object_set_new(doc, "validFrom", json_string(now_or(NULL, tbuf)));
    json_object_set_new(doc, "name", json_string("Comprehensive Learner Record"));
    json_t *s = json_object();
    json_object_set_new(s, "id", json_string(learner_id));
    json_object_set_new(s, "type", types("ClrSubject", NULL));
    json_t *vcs = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(vcs, json_deep_copy(credentials[i]));
    json_object_set_new(s, "verifiableCredential", vcs);
    json_object_set_new(doc, "credentialSubject", s);
    *out = doc;
    return VT_OK;
}

enum vt_status cred_presentation_new(const char *holder, const json_t *const *credentials,
                                     size_t count, json_t **out, struct vt_error *err)
{
    *out = NULL;
    if (holder == NULL || !cred_is_uri(holder) || count > CRED_VP_CREDENTIALS_MAX)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot build presentation: a holder URL and at most %d credentials "
                            "are required",
                            CRED_VP_CREDENTIALS_MAX);
    json_t *doc = json_object();
    json_t *ctx = json_array();
    json_array_append_new(ctx, json_string(CRED_CONTEXT_V2));
    json_object_set_new(doc, "@context", ctx);
    json_object_set_new(doc, "type", types("VerifiablePresentation", NULL));
    json_object_set_new(doc, "holder", json_string(holder));
    json_t *vcs = json_array();
    for (size_t i = 0; i < count; i++) {
        const json_t *c = credentials[i];
        if (json_is_object(c)) {
            json_array_append_new(vcs, json_deep_copy(c));
            continue;
        }
        if (!json_is_string(c)) {
            json_decref(vcs);
            json_decref(doc);
            return vt_error_set(err, VT_ERR_INVALID, "credential %zu is not JSON, JWT or COSE", i);
        }
        const char *s = json_string_value(c);
        bool jwt = strchr(s, '.') != NULL;
        struct vt_buf url;
        vt_buf_init(&url, CRED_DOC_MAX * 2);
        enum vt_status st = vt_buf_append_str(
            &url, jwt ? "data:application/vc+jwt," : "data:application/vc+cose;base64,", err);
        if (st == VT_OK && jwt) {
            st = vt_buf_append_str(&url, s, err);
        } else if (st == VT_OK) {
            /* COSE arrives as base64url text; data: URLs use standard base64. */
            struct vt_buf raw;
            vt_buf_init(&raw, CRED_DOC_MAX);
            st = vt_base64url_decode(s, strlen(s), &raw, err);
            if (st == VT_OK)
                st = vt_base64_encode(raw.data, raw.len, &url, err);
            vt_buf_release(&raw);
        }
        if (st != VT_OK) {
            vt_buf_release(&url);
            json_decref(vcs);
            json_decref(doc);
            return st;
        }
        json_t *env = json_object();
        json_object_set_new(env, "@context", json_string(CRED_CONTEXT_V2));
        json_object_set_new(env, "id", json_stringn((const char *)url.data, url.len));
        json_object_set_new(env, "type", json_string("EnvelopedVerifiableCredential"));
        json_array_append_new(vcs, env);
        vt_buf_release(&url);
    }
    json_object_set_new(doc, "verifiableCredential", vcs);
    *out = doc;
    return VT_OK;
}
