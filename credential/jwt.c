/* Compact JWS credentials: application/vc+jwt (VC-JOSE-COSE) and the Open Badges 3.0
 * VC-JWT shape with a "vc" claim (specs/credential.md §4). */
#include "credential/credential_int.h"

#include <math.h>
#include <string.h>

#define JWT_HEADER_MAX 4096

static enum vt_status append_b64_json(const json_t *v, struct vt_buf *out, struct vt_error *err)
{
    struct vt_buf text;
    vt_buf_init(&text, CRED_DOC_MAX * 2);
    enum vt_status st = cred_json_write(v, 0, &text, err);
    if (st == VT_OK)
        st = vt_base64url_encode(text.data, text.len, out, err);
    vt_buf_release(&text);
    return st;
}

/* The claims around a credential in the VC-JWT shape (VC Data Model 1.1 §6.3.1, as used by
 * Open Badges 3.0). */
static json_t *vc_claims(const json_t *doc)
{
    json_t *c = json_object();
    json_object_set(c, "vc", (json_t *)doc);
    const char *iss = cred_json_id_of(json_object_get(doc, "issuer"));
    if (iss != NULL)
        json_object_set_new(c, "iss", json_string(iss));
    int64_t ms;
    struct vt_error e;
    const char *from = vt_json_get_str(doc, "validFrom");
    if (from != NULL && vt_time_parse(from, strlen(from), &ms, &e) == VT_OK)
        json_object_set_new(c, "nbf", json_integer(ms / 1000));
    const char *until = vt_json_get_str(doc, "validUntil");
    if (until != NULL && vt_time_parse(until, strlen(until), &ms, &e) == VT_OK)
        json_object_set_new(c, "exp", json_integer(ms / 1000));
    const char *id = vt_json_get_str(doc, "id");
    if (id != NULL)
        json_object_set_new(c, "jti", json_string(id));
    const char *sub = vt_json_get_str(json_object_get(doc, "credentialSubject"), "id");
    if (sub != NULL)
        json_object_set_new(c, "sub", json_string(sub));
    return c;
}

enum vt_status cred_sign_jwt(const json_t *doc, const struct cred_key *key,
                             enum cred_jwt_shape shape, const char *kid, char **jwt_out,
                             struct vt_error *err)
{
    *jwt_out = NULL;
    if (!json_is_object(doc))
        return vt_error_set(err, VT_ERR_INVALID, "cannot sign: the document is not an object");
    if (!key->has_secret)
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "cannot sign: the key has no secret part");
    if (kid == NULL)
        kid = cred_key_default_vm(key);
    bool vp = cred_json_has_type(json_object_get(doc, "type"), "VerifiablePresentation");
    json_t *header = json_object();
    json_object_set_new(header, "alg", json_string(cred_alg_name(cred_key_alg(key))));
    json_object_set_new(
        header, "typ", json_string(shape == CRED_JWT_VC_JOSE ? (vp ? "vp+jwt" : "vc+jwt") : "JWT"));
    if (kid != NULL)
        json_object_set_new(header, "kid", json_string(kid));
    json_t *payload = shape == CRED_JWT_VC_JOSE ? json_incref((json_t *)doc) : vc_claims(doc);

    struct vt_buf out;
    vt_buf_init(&out, CRED_DOC_MAX * 2);
    enum vt_status st = append_b64_json(header, &out, err);
    if (st == VT_OK)
        st = vt_buf_append_byte(&out, '.', err);
    if (st == VT_OK)
        st = append_b64_json(payload, &out, err);
    json_decref(header);
    json_decref(payload);
    uint8_t sig[CRED_SIG_MAX];
    size_t sig_len = 0;
    if (st == VT_OK)
        st = cred_key_sign_raw(key, out.data, out.len, sig, &sig_len, err);
    if (st == VT_OK)
        st = vt_buf_append_byte(&out, '.', err);
    if (st == VT_OK)
        st = vt_base64url_encode(sig, sig_len, &out, err);
    if (st != VT_OK) {
        vt_buf_release(&out);
        return st;
    }
    *jwt_out = (char *)vt_buf_detach(&out, NULL);
    return VT_OK;
}

/* ---------------------------------------------------------------------------------------
 * Verification
 */

static bool decode_part(struct cred_verifier *v, const char *s, size_t n, struct vt_buf *out,
                        const char *what)
{
    struct vt_error e;
    /* Room for the decoded part at once; an oversized part fails in the decoder below. */
    (void)vt_buf_grow(out, n / 4 * 3 + 3, NULL);
    if (vt_base64url_decode(s, n, out, &e) != VT_OK) {
        cred_result_error(v->result, CRED_P_PARSING, "malformed JWT", "JWT %s is not base64url: %s",
                          what, e.msg);
        return false;
    }
    return true;
}

static json_t *parse_part(struct cred_verifier *v, const struct vt_buf *b, size_t max,
                          const char *what)
{
    json_t *j = NULL;
    struct vt_error e;
    if (vt_json_parse((const char *)b->data, b->len, max, VT_JSON_MAX_DEPTH, &j, &e) != VT_OK) {
        cred_result_error(v->result, CRED_P_PARSING, "malformed JWT", "JWT %s: %s", what, e.msg);
        return NULL;
    }
    if (!json_is_object(j)) {
        cred_result_error(v->result, CRED_P_PARSING, "malformed JWT", "JWT %s is not a JSON object",
                          what);
        json_decref(j);
        return NULL;
    }
    return j;
}

static bool claim_matches(struct cred_verifier *v, const json_t *claims, const char *claim,
                          const char *expected, const char *what)
{
    const char *got = vt_json_get_str(claims, claim);
    if (got == NULL || expected == NULL || strcmp(got, expected) == 0)
        return true;
    cred_result_error(v->result, CRED_P_PROOF_VERIFICATION, "JWT claim mismatch",
                      "JWT claim '%s' is '%s' but the credential's %s is '%s'", claim, got, what,
                      expected);
    return false;
}

/* Reads a NumericDate claim; false (with an error) when present but not a number. */
static bool numeric_date(struct cred_verifier *v, const json_t *claims, const char *name,
                         int64_t *ms)
{
    const json_t *c = json_object_get(claims, name);
    *ms = -1;
    if (c == NULL)
        return true;
    double d = json_number_value(c);
    if (!json_is_number(c) || !isfinite(d) || d < 0 || d > 1e12) {
        cred_result_error(v->result, CRED_P_MALFORMED, "malformed JWT claim",
                          "JWT claim '%s' is not a NumericDate", name);
        return false;
    }
    *ms = (int64_t)d * 1000;
    return true;
}

void cred_jwt_verify(struct cred_verifier *v, const char *jwt, size_t n, json_t **doc_out)
{
    struct cred_result *r = v->result;
    *doc_out = NULL;
    cred_result_check(r, "proof");
    const char *dot1 = memchr(jwt, '.', n);
    const char *dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', n - (size_t)(dot1 + 1 - jwt)) : NULL;
    if (dot1 == NULL || dot2 == NULL || memchr(dot2 + 1, '.', n - (size_t)(dot2 + 1 - jwt))) {
        cred_result_error(r, CRED_P_PARSING, "malformed JWT",
                          "a compact JWS has exactly three dot-separated parts");
        return;
    }
    struct vt_buf hb, pb, sb;
    json_t *header = NULL, *payload = NULL;
    vt_buf_init(&hb, JWT_HEADER_MAX);
    vt_buf_init(&pb, CRED_DOC_MAX);
    vt_buf_init(&sb, CRED_SIG_MAX);
    bool ok = decode_part(v, jwt, (size_t)(dot1 - jwt), &hb, "header") &&
              decode_part(v, dot1 + 1, (size_t)(dot2 - dot1 - 1), &pb, "payload") &&
              decode_part(v, dot2 + 1, n - (size_t)(dot2 + 1 - jwt), &sb, "signature");
    if (ok)
        ok = (header = parse_part(v, &hb, JWT_HEADER_MAX, "header")) != NULL &&
             (payload = parse_part(v, &pb, CRED_DOC_MAX, "payload")) != NULL;
    enum cred_alg alg = CRED_ALG_EDDSA;
    const char *alg_name = ok ? vt_json_get_str(header, "alg") : NULL;
    struct vt_error e;
    if (ok && alg_name == NULL) {
        cred_result_error(r, CRED_P_MALFORMED, "malformed JWT", "JWT header has no string 'alg'");
        ok = false;
    } else if (ok && strcmp(alg_name, "none") == 0) {
        cred_result_error(r, CRED_P_PROOF_VERIFICATION, "unsecured JWT refused",
                          "JWT 'alg' is 'none': an unsigned token secures nothing");
        ok = false;
    } else if (ok && cred_alg_parse(alg_name, &alg, &e) != VT_OK) {
        cred_result_error(r, CRED_P_UNSUPPORTED_SUITE, "unsupported algorithm",
                          "JWT 'alg' '%.40s' is not supported (EdDSA, ES256, RS256)", alg_name);
        ok = false;
    }
    if (ok && json_object_get(header, "crit") != NULL) {
        cred_result_error(r, CRED_P_UNSUPPORTED_SUITE, "unsupported JWT extension",
                          "JWT header lists 'crit' extensions, none of which are understood");
        ok = false;
    }

    /* Which shape: a "vc" (or "vp") claim, or the credential itself. */
    json_t *doc = NULL;
    const json_t *vc = ok ? json_object_get(payload, "vc") : NULL;
    const json_t *vp = ok ? json_object_get(payload, "vp") : NULL;
    if (ok && (vc != NULL || vp != NULL)) {
        const json_t *inner = vc != NULL ? vc : vp;
        if (!json_is_object(inner)) {
            cred_result_error(r, CRED_P_MALFORMED, "malformed JWT",
                              "JWT claim '%s' is not an object", vc != NULL ? "vc" : "vp");
            ok = false;
        } else {
            doc = json_incref((json_t *)inner);
        }
    } else if (ok) {
        doc = json_incref(payload);
    }
    int64_t nbf = -1, exp = -1, iat = -1;
    if (ok && doc != NULL) {
        ok = numeric_date(v, payload, "nbf", &nbf) && numeric_date(v, payload, "exp", &exp) &&
             numeric_date(v, payload, "iat", &iat);
        if (vc != NULL) {
            ok = claim_matches(v, payload, "iss", cred_json_id_of(json_object_get(doc, "issuer")),
                               "issuer") &&
                 ok;
            ok = claim_matches(v, payload, "jti", vt_json_get_str(doc, "id"), "id") && ok;
            ok = claim_matches(v, payload, "sub",
                               vt_json_get_str(json_object_get(doc, "credentialSubject"), "id"),
                               "subject id") &&
                 ok;
        }
        if (exp >= 0 && exp < v->now_ms) {
            cred_result_error(r, CRED_P_EXPIRED, "expired", "JWT 'exp' has passed");
            ok = false;
        }
        if (nbf >= 0 && nbf > v->now_ms + v->opt->clock_skew_ms) {
            cred_result_error(r, CRED_P_NOT_YET_VALID, "not yet valid",
                              "JWT 'nbf' is in the future");
            ok = false;
        }
    }

    if (ok && doc != NULL) {
        const char *kid = vt_json_get_str(header, "kid");
        const char *issuer = cred_json_id_of(json_object_get(doc, "issuer"));
        if (issuer == NULL)
            issuer = cred_json_id_of(json_object_get(doc, "holder"));
        const char *vm = kid != NULL ? kid : issuer;
        int64_t at = iat >= 0 ? iat : nbf;
        cred_result_check(r, "issuer-key");
        struct cred_key *key = NULL;
        if (vm != NULL && cred_is_uri(vm)) {
            if (cred_vm_syntax_ok(v, vm, "JWT"))
                key = cred_resolve_vm(v, vm, at, true, "JWT");
        } else if (vm != NULL && kid != NULL) {
            /* A bare kid (not a URL) can only name a key given to us directly. */
            key = cred_key_ref(cred_trust_any(v->opt->trust));
            if (key == NULL)
                cred_result_error(r, CRED_P_KEY_RESOLUTION, "issuer key not resolvable",
                                  "JWT kid '%.60s' is not a URL and no trusted key is given", kid);
        } else {
            key = cred_key_ref(cred_trust_any(v->opt->trust));
            if (key == NULL)
                cred_result_error(r, CRED_P_KEY_RESOLUTION, "issuer key not resolvable",
                                  "JWT names no kid and no resolvable issuer");
        }
        if (key != NULL && kid != NULL && issuer != NULL && strncmp(issuer, "did:", 4) == 0 &&
            (strncmp(kid, issuer, strlen(issuer)) != 0 ||
             (kid[strlen(issuer)] != '#' && kid[strlen(issuer)] != '\0'))) {
            cred_result_error(r, CRED_P_KEY_RESOLUTION, "proof signer is not the issuer",
                              "JWT kid '%s' is not controlled by '%s'", kid, issuer);
            ok = false;
        }
        if (key == NULL) {
            ok = false;
        } else {
            vt_error_clear(&e);
            if (cred_key_verify_raw(key, alg, (const uint8_t *)jwt, (size_t)(dot2 - jwt), sb.data,
                                    sb.len, &e) != VT_OK) {
                cred_result_error(r, CRED_P_PROOF_VERIFICATION, "invalid signature",
                                  "JWT %s signature: %s", cred_alg_name(alg), e.msg);
                ok = false;
            }
            cred_key_free(key);
        }
    }
    if (ok && doc != NULL)
        *doc_out = json_incref(doc);
    else if (doc != NULL && !cred_result_has_error(r, CRED_P_PARSING))
        *doc_out = json_incref(doc); /* still checked for its own problems */
    json_decref(doc);
    json_decref(header);
    json_decref(payload);
    vt_buf_release(&hb);
    vt_buf_release(&pb);
    vt_buf_release(&sb);
}
