/* Verification results in the VC-API shape (specs/credential.md §6). */
#include "credential/credential_int.h"

#include <stdio.h>
#include <string.h>

/* Bounds the result of a hostile document with thousands of failing parts. */
#define RESULT_PROBLEMS_MAX 64
#define RESULT_CHECKS_MAX 64

struct problem {
    enum cred_problem p;
    char title[96];
    char detail[VT_ERROR_MSG_MAX];
};

struct cred_result {
    const char *checks[RESULT_CHECKS_MAX];
    size_t check_count;
    /* Problems are allocated on first use: most results have none, and a verifier making
     * thousands of results a second should not zero two full tables for each. */
    struct problem *errors;
    size_t error_count;
    size_t errors_dropped;
    struct problem *warnings;
    size_t warning_count;
    json_t *document;
};

static const char *const problem_types[] = {
    [CRED_P_PARSING] = "https://www.w3.org/TR/vc-data-model#PARSING_ERROR",
    [CRED_P_MALFORMED] = "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR",
    [CRED_P_CONTEXT] = "https://vitae.dev/problems#CONTEXT_ERROR",
    [CRED_P_PROOF_VERIFICATION] = "https://w3id.org/security#PROOF_VERIFICATION_ERROR",
    [CRED_P_PROOF_MISSING] = "https://vitae.dev/problems#PROOF_MISSING_ERROR",
    [CRED_P_UNSUPPORTED_SUITE] = "https://vitae.dev/problems#UNSUPPORTED_CRYPTOSUITE_ERROR",
    [CRED_P_KEY_RESOLUTION] = "https://w3id.org/security#INVALID_VERIFICATION_METHOD",
    [CRED_P_KEY_VALIDITY] = "https://vitae.dev/problems#KEY_NOT_VALID_AT_SIGNING_ERROR",
    [CRED_P_PURPOSE] = "https://w3id.org/security#PROOF_VERIFICATION_ERROR",
    [CRED_P_CHALLENGE] = "https://w3id.org/security#INVALID_CHALLENGE_ERROR",
    [CRED_P_DOMAIN] = "https://w3id.org/security#INVALID_DOMAIN_ERROR",
    [CRED_P_NOT_YET_VALID] = "https://www.w3.org/TR/vc-data-model#RANGE_ERROR",
    [CRED_P_EXPIRED] = "https://vitae.dev/problems#EXPIRED_ERROR",
    [CRED_P_STATUS_REVOKED] = "https://vitae.dev/problems#REVOKED_ERROR",
    [CRED_P_STATUS_SUSPENDED] = "https://vitae.dev/problems#SUSPENDED_ERROR",
    [CRED_P_STATUS] = "https://www.w3.org/ns/credentials/status-list#STATUS_VERIFICATION_ERROR",
    [CRED_P_OPENBADGES] = "https://vitae.dev/problems#OPEN_BADGES_SHAPE_ERROR",
    [CRED_P_ENDORSEMENT] = "https://vitae.dev/problems#ENDORSEMENT_ERROR",
    [CRED_P_HOLDER] = "https://vitae.dev/problems#HOLDER_BINDING_ERROR",
    [CRED_P_FRESHNESS] = "https://vitae.dev/problems#PRESENTATION_FRESHNESS_ERROR",
};

const char *cred_problem_type(enum cred_problem p)
{
    if ((size_t)p < sizeof(problem_types) / sizeof(problem_types[0]) && problem_types[p])
        return problem_types[p];
    return "https://vitae.dev/problems#UNKNOWN_ERROR";
}

struct cred_result *cred_result_new(void)
{
    return vt_calloc(1, sizeof(struct cred_result));
}

void cred_result_free(struct cred_result *r)
{
    if (r == NULL)
        return;
    json_decref(r->document);
    free(r->errors);
    free(r->warnings);
    free(r);
}

bool cred_result_verified(const struct cred_result *r)
{
    return r->check_count > 0 && r->error_count == 0;
}

void cred_result_check(struct cred_result *r, const char *name)
{
    for (size_t i = 0; i < r->check_count; i++) {
        if (strcmp(r->checks[i], name) == 0)
            return;
    }
    if (r->check_count < RESULT_CHECKS_MAX)
        r->checks[r->check_count++] = name;
}

static void add_problem(struct problem **list, size_t *count, enum cred_problem p,
                        const char *title, const char *fmt, va_list ap)
{
    if (*count >= RESULT_PROBLEMS_MAX)
        return;
    /* Growth by doubling from 4 to the cap. */
    if (*count == 0 || (*count >= 4 && (*count & (*count - 1)) == 0)) {
        size_t cap = *count == 0 ? 4 : *count * 2;
        *list = vt_realloc(*list, cap * sizeof(**list));
    }
    struct problem *e = &(*list)[(*count)++];
    e->p = p;
    snprintf(e->title, sizeof(e->title), "%s", title);
    vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
}

void cred_result_error(struct cred_result *r, enum cred_problem p, const char *title,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (r->error_count >= RESULT_PROBLEMS_MAX)
        r->errors_dropped++;
    add_problem(&r->errors, &r->error_count, p, title, fmt, ap);
    va_end(ap);
}

void cred_result_warning(struct cred_result *r, enum cred_problem p, const char *title,
                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_problem(&r->warnings, &r->warning_count, p, title, fmt, ap);
    va_end(ap);
}

size_t cred_result_error_count(const struct cred_result *r)
{
    return r->error_count;
}

size_t cred_result_warning_count(const struct cred_result *r)
{
    return r->warning_count;
}

bool cred_result_has_error(const struct cred_result *r, enum cred_problem p)
{
    for (size_t i = 0; i < r->error_count; i++) {
        if (r->errors[i].p == p)
            return true;
    }
    return false;
}

bool cred_result_has_warning(const struct cred_result *r, enum cred_problem p)
{
    for (size_t i = 0; i < r->warning_count; i++) {
        if (r->warnings[i].p == p)
            return true;
    }
    return false;
}

bool cred_result_has_check(const struct cred_result *r, const char *name)
{
    for (size_t i = 0; i < r->check_count; i++) {
        if (strcmp(r->checks[i], name) == 0)
            return true;
    }
    return false;
}

static json_t *problems_json(const struct problem *list, size_t count)
{
    json_t *a = json_array();
    for (size_t i = 0; i < count; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string(cred_problem_type(list[i].p)));
        json_object_set_new(o, "title", json_string(list[i].title));
        json_object_set_new(o, "detail", json_string(list[i].detail));
        json_array_append_new(a, o);
    }
    return a;
}

json_t *cred_result_to_json(const struct cred_result *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "verified", json_boolean(cred_result_verified(r)));
    json_t *checks = json_array();
    for (size_t i = 0; i < r->check_count; i++)
        json_array_append_new(checks, json_string(r->checks[i]));
    json_object_set_new(o, "checks", checks);
    json_object_set_new(o, "warnings", problems_json(r->warnings, r->warning_count));
    json_t *errors = problems_json(r->errors, r->error_count);
    if (r->errors_dropped > 0) {
        json_t *e = json_object();
        char detail[64];
        snprintf(detail, sizeof(detail), "%zu more errors not listed", r->errors_dropped);
        json_object_set_new(e, "type", json_string(cred_problem_type(CRED_P_MALFORMED)));
        json_object_set_new(e, "title", json_string("too many errors"));
        json_object_set_new(e, "detail", json_string(detail));
        json_array_append_new(errors, e);
    }
    json_object_set_new(o, "errors", errors);
    return o;
}

const char *cred_result_error_detail(const struct cred_result *r, size_t i)
{
    return i < r->error_count ? r->errors[i].detail : NULL;
}

const json_t *cred_result_document(const struct cred_result *r)
{
    return r->document;
}

void cred_result_set_document(struct cred_result *r, json_t *doc)
{
    json_decref(r->document);
    r->document = doc;
}
