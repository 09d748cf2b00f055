/* Verifiable presentations: holder proof over a verifier's challenge and domain, freshness,
 * and holder binding to the credentials' subjects (specs/credential.md §9). */
#include "credential/credential_int.h"

#include <stdio.h>
#include <string.h>

/* True when some credentialSubject of cred has id holder. */
static bool subject_is(const json_t *cred, const char *holder)
{
    const json_t *s = json_object_get(cred, "credentialSubject");
    size_t n = json_is_array(s) ? json_array_size(s) : 1;
    for (size_t i = 0; i < n; i++) {
        const char *id = vt_json_get_str(json_is_array(s) ? json_array_get(s, i) : s, "id");
        if (id != NULL && strcmp(id, holder) == 0)
            return true;
    }
    return false;
}

void cred_check_presentation(struct cred_verifier *v, const json_t *doc, bool secured)
{
    struct cred_result *r = v->result;
    cred_result_check(r, "data-model");
    const json_t *ctx = json_object_get(doc, "@context");
    const json_t *first = json_is_array(ctx) ? json_array_get(ctx, 0) : ctx;
    if (!json_is_string(first) || strcmp(json_string_value(first), CRED_CONTEXT_V2) != 0)
        cred_result_error(r, CRED_P_CONTEXT, "wrong base context",
                          "the first @context item must be '" CRED_CONTEXT_V2 "'");
    const json_t *holder_v = json_object_get(doc, "holder");
    const char *holder = cred_json_id_of(holder_v);
    if (holder_v != NULL && !cred_is_uri(holder))
        cred_result_error(r, CRED_P_MALFORMED, "malformed holder",
                          "'holder' must be a URL or an object whose 'id' is a URL");
    if (!secured)
        cred_di_verify_proofs(v, doc, "authentication", true);

    const json_t *vcs = json_object_get(doc, "verifiableCredential");
    if (vcs == NULL)
        return;
    size_t n = json_is_array(vcs) ? json_array_size(vcs) : 1;
    if (n > CRED_VP_CREDENTIALS_MAX) {
        cred_result_error(r, CRED_P_MALFORMED, "too many credentials",
                          "%zu credentials in one presentation (at most %d)", n,
                          CRED_VP_CREDENTIALS_MAX);
        return;
    }
    cred_result_check(r, "credentials");
    for (size_t i = 0; i < n; i++) {
        const json_t *vc = json_is_array(vcs) ? json_array_get(vcs, i) : vcs;
        char what[48];
        snprintf(what, sizeof(what), "verifiableCredential[%zu]", i);
        if (!json_is_object(vc)) {
            cred_result_error(r, CRED_P_MALFORMED, "malformed presentation",
                              "%s must be an object (strings and URLs are not allowed)", what);
            continue;
        }
        /* The credential's own checks run without the presentation's challenge. */
        struct cred_verify_options o = *v->opt;
        o.challenge = NULL;
        o.domain = NULL;
        struct cred_verifier nv = *v;
        nv.opt = &o;
        cred_verify_nested(&nv, vc, 0, CRED_P_PROOF_VERIFICATION, NULL, what);

        const json_t *inner = vc;
        json_t *unwrapped = NULL;
        if (cred_json_has_type(json_object_get(vc, "type"), "EnvelopedVerifiableCredential")) {
            struct cred_result *scratch = cred_result_new();
            struct cred_verifier sv = nv;
            sv.result = scratch;
            unwrapped = cred_unwrap_envelope(&sv, vc);
            cred_result_free(scratch);
            inner = unwrapped;
        }
        cred_result_check(r, "holder-binding");
        if (holder == NULL) {
            cred_result_error(r, CRED_P_HOLDER, "no holder",
                              "the presentation names no holder to bind %s to", what);
        } else if (inner != NULL && !subject_is(inner, holder)) {
            cred_result_error(r, CRED_P_HOLDER, "holder is not the subject",
                              "holder '%s' is not a subject of %s", holder, what);
        }
        json_decref(unwrapped);
    }
}
