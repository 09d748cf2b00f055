/* Open Badges 3.0 and CLR 2.0 shape: required fields and enumerations
 * (specs/credential.md §4). */
#include "credential/credential_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define OB_CONTEXT_PREFIX "https://purl.imsglobal.org/spec/ob/v3p0/context"

static const char *const target_types[] = {
    "ceasn:Competency",  "ceterms:Credential",     "CFItem", "CFRubric",
    "CFRubricCriterion", "CFRubricCriterionLevel", "CTDL",   NULL,
};
static const char *const result_types[] = {
    "GradePointAverage",
    "LetterGrade",
    "Percent",
    "PerformanceLevel",
    "PredictedScore",
    "RawScore",
    "Result",
    "RubricCriterion",
    "RubricCriterionLevel",
    "RubricScore",
    "ScaledScore",
    "Status",
    NULL,
};
static const char *const result_statuses[] = {
    "Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew", NULL,
};
static const char *const identity_types[] = {
    "name",          "sourcedId",    "systemId",        "productId",
    "userName",      "accountId",    "emailAddress",    "nationalIdentityNumber",
    "isbn",          "issn",         "lisSourcedId",    "oneRosterSourcedId",
    "sisSourcedId",  "ltiContextId", "ltiDeploymentId", "ltiToolId",
    "ltiPlatformId", "ltiUserId",    "identifier",      NULL,
};

struct ob {
    struct cred_verifier *v;
    unsigned errors;
};

static void ob_error(struct ob *ob, const char *path, const char *fmt, ...) VT_PRINTF(3, 4);
static void ob_error(struct ob *ob, const char *path, const char *fmt, ...)
{
    char detail[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    cred_result_error(ob->v->result, CRED_P_OPENBADGES, "Open Badges shape", "%s: %s", path,
                      detail);
    ob->errors++;
}

/* An enumerated value: one of list, or an "ext:" extension term. */
static bool enum_ok(const char *s, const char *const *list)
{
    if (s == NULL)
        return false;
    if (strncmp(s, "ext:", 4) == 0 && s[4] != '\0')
        return true;
    for (; *list; list++) {
        if (strcmp(s, *list) == 0)
            return true;
    }
    return false;
}

/* type must include expected; the validator accepts a single string as well as an array. */
static bool need_type(struct ob *ob, const json_t *o, const char *expected, const char *path)
{
    const json_t *t = json_object_get(o, "type");
    if (t == NULL) {
        ob_error(ob, path, "'type' is required and must include '%s'", expected);
        return false;
    }
    if (!cred_json_has_type(t, expected)) {
        const char *got = json_is_string(t) ? json_string_value(t)
                          : json_is_string(json_array_get(t, 0))
                              ? json_string_value(json_array_get(t, 0))
                              : "?";
        ob_error(ob, path, "'type' must include '%s' (found '%s')", expected, got);
        return false;
    }
    return true;
}

static void need_string(struct ob *ob, const json_t *o, const char *name, const char *path)
{
    const json_t *m = json_object_get(o, name);
    if (m == NULL)
        ob_error(ob, path, "'%s' is required", name);
    else if (!json_is_string(m) && !json_is_object(m))
        ob_error(ob, path, "'%s' must be a string", name);
}

static void need_uri(struct ob *ob, const json_t *o, const char *name, const char *path)
{
    const char *s = vt_json_get_str(o, name);
    if (s == NULL)
        ob_error(ob, path, "'%s' is required and must be a URI", name);
    else if (!cred_is_uri(s))
        ob_error(ob, path, "'%s' must be a URI, not '%.60s'", name, s);
}

/* Calls fn on member name, which may be one object or an array of objects. */
static void each(struct ob *ob, const json_t *o, const char *name, const char *path,
                 void (*fn)(struct ob *, const json_t *, const char *))
{
    const json_t *m = json_object_get(o, name);
    char sub[160];
    if (m == NULL)
        return;
    if (json_is_array(m)) {
        size_t i;
        const json_t *e;
        json_array_foreach(m, i, e)
        {
            snprintf(sub, sizeof(sub), "%s.%s[%zu]", path, name, i);
            if (!json_is_object(e))
                ob_error(ob, sub, "must be an object");
            else
                fn(ob, e, sub);
        }
    } else if (json_is_object(m)) {
        snprintf(sub, sizeof(sub), "%s.%s", path, name);
        fn(ob, m, sub);
    } else {
        snprintf(sub, sizeof(sub), "%s.%s", path, name);
        ob_error(ob, sub, "must be an object or an array of objects");
    }
}

static void check_identifier_entry(struct ob *ob, const json_t *o, const char *path)
{
    need_type(ob, o, "IdentifierEntry", path);
    need_string(ob, o, "identifier", path);
    need_string(ob, o, "identifierType", path);
}

static void check_profile(struct ob *ob, const json_t *o, const char *path)
{
    need_type(ob, o, "Profile", path);
    need_uri(ob, o, "id", path);
    each(ob, o, "otherIdentifier", path, check_identifier_entry);
    each(ob, o, "parentOrg", path, check_profile);
}

/* issuer, creator, source: a Profile object or a URI. */
static void check_profile_ref(struct ob *ob, const json_t *parent, const char *name,
                              const char *path, bool required)
{
    const json_t *m = json_object_get(parent, name);
    char sub[160];
    snprintf(sub, sizeof(sub), "%s.%s", path, name);
    if (m == NULL) {
        if (required)
            ob_error(ob, path, "'%s' is required", name);
    } else if (json_is_string(m)) {
        if (!cred_is_uri(json_string_value(m)))
            ob_error(ob, sub, "must be a URI or a Profile");
    } else if (json_is_object(m)) {
        check_profile(ob, m, sub);
    } else {
        ob_error(ob, sub, "must be a URI or a Profile");
    }
}

static void check_alignment(struct ob *ob, const json_t *o, const char *path)
{
    need_type(ob, o, "Alignment", path);
    need_string(ob, o, "targetName", path);
    need_uri(ob, o, "targetUrl", path);
    const json_t *tt = json_object_get(o, "targetType");
    if (tt != NULL && !enum_ok(json_string_value(tt), target_types))
        ob_error(ob, path, "'targetType' '%s' is not an AlignmentTargetType",
                 json_is_string(tt) ? json_string_value(tt) : "?");
}

static void check_rubric_level(struct ob *ob, const json_t *o, const char *path)
{
    need_type(ob, o, "RubricCriterionLevel", path);
    need_string(ob, o, "id", path);
    need_string(ob, o, "name", path);
    each(ob, o, "alignment", path, check_alignment);
}

static void check_result_description(struct ob *ob, const json_t *o, const char *path)
{
    need_type(ob, o, "ResultDescription", path);
    need_string(ob, o, "id", path);
    need_string(ob, o, "name", path);
    const json_t *rt = json_object_get(o, "resultType");
    if (rt == NULL)
        ob_error(ob, path, "'resultType' is required");
    else if (!enum_ok(json_string_value(rt), result_types))
        ob_error(ob, path, "'resultType' '%s' is not a ResultType",
                 json_is_string(rt) ? json_string_value(rt) : "?");
    each(ob, o, "alignment", path, check_alignment);
    each(ob, o, "rubricCriterionLevel", path, check_rubric_level);
}

static void check_criteria(struct ob *ob, const json_t *o, const char *path)
{
    if (json_object_get(o, "id") == NULL && json_object_get(o, "narrative") == NULL)
        ob_error(ob, path, "Criteria needs an 'id' or a 'narrative'");
}

static void check_achievement(struct ob *ob, const json_t *o, const char *path)
{
    need_type(ob, o, "Achievement", path);
    need_uri(ob, o, "id", path);
    need_string(ob, o, "name", path);
    need_string(ob, o, "description", path);
    const json_t *c = json_object_get(o, "criteria");
    char sub[160];
    snprintf(sub, sizeof(sub), "%s.criteria", path);
    if (c == NULL)
        ob_error(ob, path, "'criteria' is required");
    else if (!json_is_object(c))
        ob_error(ob, sub, "must be an object");
    else
        check_criteria(ob, c, sub);
    each(ob, o, "alignment", path, check_alignment);
    each(ob, o, "resultDescription", path, check_result_description);
    check_profile_ref(ob, o, "creator", path, false);
}

static void check_identity(struct ob *ob, const json_t *o, const char *path)
{
    const char *t = vt_json_get_str(o, "type");
    if (t == NULL || strcmp(t, "IdentityObject") != 0)
        ob_error(ob, path, "'type' must be 'IdentityObject' (found '%s')", t ? t : "?");
    if (!json_is_boolean(json_object_get(o, "hashed")))
        ob_error(ob, path, "'hashed' is required and must be a boolean");
    const char *h = vt_json_get_str(o, "identityHash");
    if (h == NULL)
        ob_error(ob, path, "'identityHash' is required");
    else if (json_is_true(json_object_get(o, "hashed")) && strncmp(h, "sha256$", 7) != 0 &&
             strncmp(h, "md5$", 4) != 0)
        ob_error(ob, path, "hashed 'identityHash' must start with 'sha256$' or 'md5$'");
    if (!enum_ok(vt_json_get_str(o, "identityType"), identity_types))
        ob_error(ob, path, "'identityType' is required and must be an IdentifierTypeEnum value");
}

static void check_result(struct ob *ob, const json_t *o, const char *path)
{
    need_type(ob, o, "Result", path);
    const json_t *st = json_object_get(o, "status");
    if (st != NULL && !enum_ok(json_string_value(st), result_statuses))
        ob_error(ob, path, "'status' '%s' is not a ResultStatusType",
                 json_is_string(st) ? json_string_value(st) : "?");
    each(ob, o, "alignment", path, check_alignment);
}

static void check_achievement_subject(struct ob *ob, const json_t *s, const char *path)
{
    need_type(ob, s, "AchievementSubject", path);
    const json_t *a = json_object_get(s, "achievement");
    char sub[160];
    snprintf(sub, sizeof(sub), "%s.achievement", path);
    if (a == NULL)
        ob_error(ob, path, "'achievement' is required");
    else if (!json_is_object(a))
        ob_error(ob, sub, "must be an object");
    else
        check_achievement(ob, a, sub);
    const json_t *ids = json_object_get(s, "identifier");
    if (json_object_get(s, "id") == NULL && (!json_is_array(ids) || json_array_size(ids) == 0))
        ob_error(ob, path, "needs an 'id' or at least one 'identifier'");
    each(ob, s, "identifier", path, check_identity);
    each(ob, s, "result", path, check_result);
    check_profile_ref(ob, s, "source", path, false);
}

static void check_evidence(struct ob *ob, const json_t *o, const char *path)
{
    need_type(ob, o, "Evidence", path);
}

/*
 * Matches ^<prefix>context(-<major>\.[0-9]\.[0-9])*\.json$ by hand: compiling the
 * equivalent POSIX regex on every verification cost more than the rest of the shape checks.
 */
static bool context_url_matches(const char *s, const char *prefix, char major)
{
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n) != 0)
        return false;
    s += n;
    while (s[0] == '-') {
        if (s[1] != major || s[2] != '.' || !isdigit((unsigned char)s[3]) || s[4] != '.' ||
            !isdigit((unsigned char)s[5]))
            return false;
        s += 6;
    }
    return strcmp(s, ".json") == 0;
}

/* The second @context item is the Open Badges context (for a CLR: the CLR context). */
static void check_ob_context(struct ob *ob, const json_t *doc, bool clr)
{
    const json_t *ctx = json_object_get(doc, "@context");
    const json_t *second = json_is_array(ctx) ? json_array_get(ctx, 1) : NULL;
    if (!json_is_array(ctx) || json_array_size(ctx) < 2 || !json_is_string(second)) {
        ob_error(ob, "@context", "must be an array whose second item is the %s context",
                 clr ? "CLR 2.0" : "Open Badges 3.0");
        return;
    }
    bool ok = clr ? context_url_matches(json_string_value(second),
                                        "https://purl.imsglobal.org/spec/clr/v2p0/context", '2')
                  : context_url_matches(json_string_value(second),
                                        "https://purl.imsglobal.org/spec/ob/v3p0/context", '3');
    if (!ok)
        ob_error(ob, "@context[1]", "'%.80s' is not %s context", json_string_value(second),
                 clr ? "a CLR 2.0" : "an Open Badges 3.0");
}

static bool has_ob_context(const json_t *doc)
{
    const json_t *ctx = json_object_get(doc, "@context");
    size_t i;
    const json_t *c;
    json_array_foreach(ctx, i, c)
    {
        if (json_is_string(c) &&
            strncmp(json_string_value(c), OB_CONTEXT_PREFIX, sizeof(OB_CONTEXT_PREFIX) - 1) == 0)
            return true;
    }
    return false;
}

static void check_common(struct ob *ob, const json_t *doc)
{
    if (!json_is_array(json_object_get(doc, "type")))
        ob_error(ob, "type", "must be an array");
    need_uri(ob, doc, "id", "credential");
    if (json_object_get(doc, "validFrom") == NULL)
        ob_error(ob, "credential", "'validFrom' is required");
    check_profile_ref(ob, doc, "issuer", "credential", true);
    each(ob, doc, "evidence", "credential", check_evidence);
}

static void check_endorsement_shape(struct ob *ob, const json_t *doc)
{
    check_common(ob, doc);
    need_string(ob, doc, "name", "credential");
    const json_t *s = json_object_get(doc, "credentialSubject");
    if (!json_is_object(s)) {
        ob_error(ob, "credential", "'credentialSubject' must be one EndorsementSubject");
        return;
    }
    need_type(ob, s, "EndorsementSubject", "credentialSubject");
    need_uri(ob, s, "id", "credentialSubject");
}

static void check_clr_shape(struct ob *ob, const json_t *doc)
{
    check_common(ob, doc);
    const json_t *s = json_object_get(doc, "credentialSubject");
    if (!json_is_object(s)) {
        ob_error(ob, "credential", "'credentialSubject' must be one ClrSubject");
        return;
    }
    need_type(ob, s, "ClrSubject", "credentialSubject");
    const json_t *vcs = json_object_get(s, "verifiableCredential");
    if (!json_is_array(vcs) || json_array_size(vcs) == 0)
        ob_error(ob, "credentialSubject", "'verifiableCredential' must be a non-empty array");
    each(ob, s, "achievement", "credentialSubject", check_achievement);
}

void cred_check_openbadges(struct cred_verifier *v, const json_t *doc)
{
    const json_t *type = json_object_get(doc, "type");
    struct ob ob = {.v = v};
    bool is_ob = cred_json_has_type(type, "OpenBadgeCredential") ||
                 cred_json_has_type(type, "AchievementCredential");
    bool is_endorsement = cred_json_has_type(type, "EndorsementCredential");
    bool is_clr = cred_json_has_type(type, "ClrCredential");
    if (!is_ob && !is_endorsement && !is_clr && !has_ob_context(doc))
        return;
    cred_result_check(v->result, "openbadges");
    check_ob_context(&ob, doc, is_clr);
    if (is_endorsement) {
        check_endorsement_shape(&ob, doc);
        return;
    }
    if (is_clr) {
        check_clr_shape(&ob, doc);
        return;
    }
    if (!is_ob) {
        ob_error(&ob, "type",
                 "must include 'OpenBadgeCredential' or 'AchievementCredential' in an Open "
                 "Badges credential");
        return;
    }
    check_common(&ob, doc);
    const json_t *s = json_object_get(doc, "credentialSubject");
    if (s == NULL)
        return; /* the data model check reports it */
    if (!json_is_object(s)) {
        ob_error(&ob, "credentialSubject", "must be one AchievementSubject object");
        return;
    }
    check_achievement_subject(&ob, s, "credentialSubject");
}
