/* Embedded credentials: endorsements (recursive, depth-capped, cycle-checked) and the
 * achievement credentials a CLR bundles (specs/credential.md §8). */
#include "credential/credential_int.h"

#include <stdio.h>
#include <string.h>

/* Copies the first error of a nested result into the parent as one entry. */
static void merge(struct cred_verifier *v, struct cred_result *sub, enum cred_problem p,
                  const char *what)
{
    if (cred_result_verified(sub))
        return;
    json_t *j = cred_result_to_json(sub);
    const json_t *errs = json_object_get(j, "errors");
    size_t i;
    const json_t *e;
    json_array_foreach(errs, i, e)
    {
        if (i >= 4)
            break;
        cred_result_error(
            v->result, p,
            p == CRED_P_ENDORSEMENT ? "endorsement not valid" : "embedded credential not valid",
            "%s: %s: %s", what, vt_json_get_str(e, "title"), vt_json_get_str(e, "detail"));
    }
    if (json_array_size(errs) == 0)
        cred_result_error(v->result, p, "nested credential not verified", "%s: no check ran", what);
    json_decref(j);
}

void cred_verify_nested(struct cred_verifier *v, const json_t *item, unsigned depth,
                        enum cred_problem p, const char *endorsed_id, const char *what)
{
    struct cred_result *sub = cred_result_new();
    struct cred_verifier nv = *v;
    nv.result = sub;
    json_t *doc = NULL;
    if (json_is_string(item)) {
        cred_jwt_verify(&nv, json_string_value(item), json_string_length(item), &doc);
    } else if (json_is_object(item) &&
               cred_json_has_type(json_object_get(item, "type"), "EnvelopedVerifiableCredential")) {
        doc = cred_unwrap_envelope(&nv, item);
    } else if (json_is_object(item)) {
        doc = json_incref((json_t *)item);
        cred_di_verify_proofs(&nv, doc, "assertionMethod", false);
    } else {
        cred_result_error(sub, CRED_P_MALFORMED, "malformed", "not an object or a JWT");
    }
    if (doc != NULL) {
        const char *id = vt_json_get_str(doc, "id");
        bool cycle = false;
        for (unsigned i = 0; id != NULL && i < v->path_len; i++)
            cycle = cycle || strcmp(v->path_ids[i], id) == 0;
        if (cycle) {
            cred_result_error(sub, CRED_P_ENDORSEMENT, "endorsement cycle",
                              "'%s' endorses a document that contains it", id);
        } else {
            if (id != NULL && nv.path_len < sizeof(nv.path_ids) / sizeof(nv.path_ids[0]))
                nv.path_ids[nv.path_len++] = id;
            if (p == CRED_P_ENDORSEMENT) {
                if (!cred_json_has_type(json_object_get(doc, "type"), "EndorsementCredential"))
                    cred_result_error(sub, CRED_P_ENDORSEMENT, "not an endorsement",
                                      "type lacks 'EndorsementCredential'");
                const char *subject =
                    vt_json_get_str(json_object_get(doc, "credentialSubject"), "id");
                if (endorsed_id != NULL && subject != NULL && strcmp(subject, endorsed_id) != 0)
                    cred_result_warning(v->result, CRED_P_ENDORSEMENT, "endorses another subject",
                                        "%s endorses '%s', embedded in '%s'", what, subject,
                                        endorsed_id);
            }
            cred_check_credential(&nv, doc, depth);
        }
        json_decref(doc);
    }
    merge(v, sub, p, what);
    v->endorsements_seen = nv.endorsements_seen;
    cred_result_free(sub);
}

static void walk(struct cred_verifier *v, const json_t *node, unsigned depth, unsigned level,
                 const char *owner_id)
{
    if (level > VT_JSON_MAX_DEPTH)
        return;
    if (json_is_array(node)) {
        size_t i;
        const json_t *e;
        json_array_foreach(node, i, e)
        {
            if (json_is_object(e) || json_is_array(e))
                walk(v, e, depth, level + 1, owner_id);
        }
        return;
    }
    if (!json_is_object(node))
        return;
    const char *id = vt_json_get_str(node, "id");
    if (id != NULL)
        owner_id = id;
    const char *k;
    const json_t *m;
    json_object_foreach((json_t *)node, k, m)
    {
        /* Every member of every verified document passes here: only containers are
         * descended into, and most names are told apart by their first letter. */
        bool is_doc = k[0] == 'e' && strcmp(k, "endorsement") == 0;
        bool is_jwt = k[0] == 'e' && strcmp(k, "endorsementJwt") == 0;
        if (!is_doc && !is_jwt) {
            if ((json_is_object(m) || json_is_array(m)) && strcmp(k, "proof") != 0 &&
                strcmp(k, "verifiableCredential") != 0)
                walk(v, m, depth, level + 1, owner_id);
            continue;
        }
        cred_result_check(v->result, "endorsements");
        size_t n = json_is_array(m) ? json_array_size(m) : 1;
        for (size_t i = 0; i < n; i++) {
            const json_t *item = json_is_array(m) ? json_array_get(m, i) : m;
            char what[64];
            snprintf(what, sizeof(what), "%s[%zu] at depth %u", k, i, depth + 1);
            if (depth + 1 > v->opt->endorsement_depth || depth + 1 > CRED_ENDORSEMENT_DEPTH_MAX) {
                cred_result_error(v->result, CRED_P_ENDORSEMENT, "endorsements nested too deep",
                                  "%s exceeds the depth limit of %u", what,
                                  v->opt->endorsement_depth);
                return;
            }
            if (++v->endorsements_seen > CRED_ENDORSEMENTS_MAX) {
                cred_result_error(v->result, CRED_P_ENDORSEMENT, "too many endorsements",
                                  "more than %d endorsements in one document",
                                  CRED_ENDORSEMENTS_MAX);
                return;
            }
            if ((is_jwt && !json_is_string(item)) || (is_doc && !json_is_object(item))) {
                cred_result_error(v->result, CRED_P_MALFORMED, "malformed endorsement",
                                  "%s must be %s", what, is_jwt ? "a compact JWS" : "an object");
                continue;
            }
            cred_verify_nested(v, item, depth + 1, CRED_P_ENDORSEMENT, owner_id, what);
        }
    }
}

void cred_check_endorsements(struct cred_verifier *v, const json_t *doc, unsigned depth)
{
    const char *id = vt_json_get_str(doc, "id");
    struct cred_verifier nv = *v;
    if (id != NULL && nv.path_len < sizeof(nv.path_ids) / sizeof(nv.path_ids[0]) &&
        (nv.path_len == 0 || strcmp(nv.path_ids[nv.path_len - 1], id) != 0))
        nv.path_ids[nv.path_len++] = id;
    walk(&nv, doc, depth, 0, id);
    v->endorsements_seen = nv.endorsements_seen;

    /* A CLR bundles signed achievement credentials: each must verify on its own. */
    if (!cred_json_has_type(json_object_get(doc, "type"), "ClrCredential"))
        return;
    const json_t *vcs =
        vt_json_get_arr(json_object_get(doc, "credentialSubject"), "verifiableCredential");
    if (vcs == NULL)
        return;
    cred_result_check(v->result, "clr-credentials");
    if (json_array_size(vcs) > CRED_VP_CREDENTIALS_MAX) {
        cred_result_error(v->result, CRED_P_OPENBADGES, "too many credentials",
                          "CLR bundles %zu credentials (at most %d)", json_array_size(vcs),
                          CRED_VP_CREDENTIALS_MAX);
        return;
    }
    size_t i;
    const json_t *vc;
    json_array_foreach(vcs, i, vc)
    {
        char what[64];
        snprintf(what, sizeof(what), "verifiableCredential[%zu]", i);
        cred_verify_nested(&nv, vc, depth, CRED_P_OPENBADGES, NULL, what);
    }
}
