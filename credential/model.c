/* VC Data Model 2.0 rules for credentials and the validity period (specs/credential.md §2). */
#include "credential/credential_int.h"

#include <string.h>

bool cred_json_has_type(const json_t *v, const char *s)
{
    if (json_is_string(v))
        return strcmp(json_string_value(v), s) == 0;
    size_t i;
    const json_t *t;
    json_array_foreach(v, i, t)
    {
        if (json_is_string(t) && strcmp(json_string_value(t), s) == 0)
            return true;
    }
    return false;
}

const char *cred_json_id_of(const json_t *v)
{
    if (json_is_string(v))
        return json_string_value(v);
    return vt_json_get_str(v, "id");
}

/* A type value: a string or a non-empty array of strings. */
static bool type_well_formed(const json_t *t)
{
    if (json_is_string(t))
        return true;
    if (!json_is_array(t) || json_array_size(t) == 0)
        return false;
    size_t i;
    const json_t *s;
    json_array_foreach(t, i, s)
    {
        if (!json_is_string(s))
            return false;
    }
    return true;
}

static void check_context(struct cred_verifier *v, const json_t *doc)
{
    struct cred_result *r = v->result;
    const json_t *ctx = json_object_get(doc, "@context");
    if (ctx == NULL) {
        cred_result_error(r, CRED_P_CONTEXT, "missing @context", "@context is required");
        return;
    }
    const json_t *first = json_is_array(ctx) ? json_array_get(ctx, 0) : ctx;
    if (!json_is_string(first) || strcmp(json_string_value(first), CRED_CONTEXT_V2) != 0) {
        const char *got = json_is_string(first) ? json_string_value(first) : "(not a string)";
        cred_result_error(r, CRED_P_CONTEXT, "wrong base context",
                          "the first @context item is '%s', must be '" CRED_CONTEXT_V2 "'%s", got,
                          strcmp(got, "https://www.w3.org/2018/credentials/v1") == 0
                              ? " (VC 1.1 documents are not supported)"
                              : "");
        return;
    }
    if (!json_is_array(ctx))
        return;
    size_t i;
    const json_t *c;
    json_array_foreach(ctx, i, c)
    {
        if (!(json_is_string(c) && cred_is_uri(json_string_value(c))) && !json_is_object(c)) {
            cred_result_error(r, CRED_P_CONTEXT, "malformed @context",
                              "@context[%zu] is neither a URL nor an object", i);
        }
    }
}

static void check_typed_objects(struct cred_verifier *v, const json_t *doc, const char *name,
                                bool need_id)
{
    const json_t *m = json_object_get(doc, name);
    if (m == NULL)
        return;
    size_t n = json_is_array(m) ? json_array_size(m) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_is_array(m) ? json_array_get(m, i) : m;
        if (!json_is_object(o) || !type_well_formed(json_object_get(o, "type")) ||
            (need_id && !cred_is_uri(vt_json_get_str(o, "id")))) {
            cred_result_error(v->result, CRED_P_MALFORMED, "malformed member",
                              "%s[%zu] must be an object with a 'type'%s", name, i,
                              need_id ? " and a URL 'id'" : "");
        }
    }
}

static bool check_time(struct cred_verifier *v, const json_t *doc, const char *name, int64_t *ms)
{
    const json_t *t = json_object_get(doc, name);
    struct vt_error e;
    if (t == NULL)
        return false;
    if (!json_is_string(t) ||
        vt_time_parse(json_string_value(t), json_string_length(t), ms, &e) != VT_OK) {
        cred_result_error(v->result, CRED_P_MALFORMED, "malformed date",
                          "'%s' is not an XML Schema dateTimeStamp", name);
        return false;
    }
    return true;
}

void cred_check_data_model(struct cred_verifier *v, const json_t *doc)
{
    struct cred_result *r = v->result;
    cred_result_check(r, "data-model");
    check_context(v, doc);

    const json_t *type = json_object_get(doc, "type");
    if (!type_well_formed(type))
        cred_result_error(r, CRED_P_MALFORMED, "malformed type",
                          "'type' must be a string or an array of strings");
    else if (!cred_json_has_type(type, "VerifiableCredential"))
        cred_result_error(r, CRED_P_MALFORMED, "not a credential",
                          "'type' does not include 'VerifiableCredential'");

    const json_t *id = json_object_get(doc, "id");
    if (id != NULL && !cred_is_uri(json_string_value(id)))
        cred_result_error(r, CRED_P_MALFORMED, "malformed id", "'id' must be a URL");

    const json_t *issuer = json_object_get(doc, "issuer");
    if (issuer == NULL)
        cred_result_error(r, CRED_P_MALFORMED, "missing issuer", "'issuer' is required");
    else if (!cred_is_uri(cred_json_id_of(issuer)))
        cred_result_error(r, CRED_P_MALFORMED, "malformed issuer",
                          "'issuer' must be a URL or an object whose 'id' is a URL");

    const json_t *subject = json_object_get(doc, "credentialSubject");
    if (subject == NULL) {
        cred_result_error(r, CRED_P_MALFORMED, "missing credentialSubject",
                          "'credentialSubject' is required");
    } else if (json_is_array(subject)) {
        size_t i;
        const json_t *s;
        if (json_array_size(subject) == 0)
            cred_result_error(r, CRED_P_MALFORMED, "malformed credentialSubject",
                              "'credentialSubject' is an empty array");
        json_array_foreach(subject, i, s)
        {
            if (!json_is_object(s))
                cred_result_error(r, CRED_P_MALFORMED, "malformed credentialSubject",
                                  "credentialSubject[%zu] is not an object", i);
        }
    } else if (!json_is_object(subject)) {
        cred_result_error(r, CRED_P_MALFORMED, "malformed credentialSubject",
                          "'credentialSubject' must be an object or an array of objects");
    }

    int64_t from = 0, until = 0;
    bool has_from = check_time(v, doc, "validFrom", &from);
    bool has_until = check_time(v, doc, "validUntil", &until);
    if (has_from && has_until && until < from)
        cred_result_error(r, CRED_P_MALFORMED, "validity period reversed",
                          "'validUntil' is before 'validFrom'");
    check_typed_objects(v, doc, "credentialStatus", false);
    check_typed_objects(v, doc, "credentialSchema", true);
    check_typed_objects(v, doc, "evidence", false);
    check_typed_objects(v, doc, "termsOfUse", false);
    check_typed_objects(v, doc, "refreshService", false);
}

void cred_check_validity(struct cred_verifier *v, const json_t *doc)
{
    struct cred_result *r = v->result;
    int64_t ms;
    struct vt_error e;
    const char *from = vt_json_get_str(doc, "validFrom");
    const char *until = vt_json_get_str(doc, "validUntil");
    if (from != NULL && vt_time_parse(from, strlen(from), &ms, &e) == VT_OK) {
        cred_result_check(r, "validFrom");
        if (ms > v->now_ms)
            cred_result_error(r, CRED_P_NOT_YET_VALID, "not yet valid",
                              "validFrom '%s' is in the future", from);
    }
    if (until != NULL && vt_time_parse(until, strlen(until), &ms, &e) == VT_OK) {
        cred_result_check(r, "validUntil");
        if (ms < v->now_ms)
            cred_result_error(r, CRED_P_EXPIRED, "expired", "validUntil '%s' has passed", until);
    }
}
