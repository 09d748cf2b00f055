/* Verification entry points: format detection and the order of checks
 * (specs/credential.md §6). */
#include "credential/credential_int.h"

#include <string.h>

void cred_verify_options_init(struct cred_verify_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->max_age_ms = 10 * 60 * 1000;
    opt->clock_skew_ms = 5 * 60 * 1000;
    opt->endorsement_depth = 3;
}

/* Bytes of a compact JWS: 1 for the base64url alphabet, 2 for the dot. A table, because
 * every byte of a JWT passes through here before anything else looks at it. */
static const uint8_t jws_class[256] = {
    ['-'] = 1, ['_'] = 1, ['.'] = 2, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
    ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1,
    ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1,
    ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1,
    ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1,
    ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1,
    ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1,
    ['z'] = 1,
};

enum input_form { FORM_JSON, FORM_JWT, FORM_COSE, FORM_COSE_TEXT, FORM_UNKNOWN };

static enum input_form detect(const uint8_t *p, size_t n)
{
    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' '))
        n--;
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    if (i < n && (p[i] == '{' || p[i] == '['))
        return FORM_JSON;
    if (n >= 1 && (p[0] == 0xd2 || p[0] == 0x84))
        return FORM_COSE;
    size_t dots = 0;
    for (i = 0; i < n; i++) {
        uint8_t c = jws_class[p[i]];
        if (c == 0)
            return FORM_UNKNOWN;
        dots += c >> 1;
    }
    if (dots == 2)
        return FORM_JWT;
    return dots == 0 && n > 0 ? FORM_COSE_TEXT : FORM_UNKNOWN;
}

static void verify_document(struct cred_verifier *v, const json_t *doc);

/* An EnvelopedVerifiableCredential: {"id":"data:application/vc+jwt,<jwt>"} or
 * "data:application/vc+cose;base64,<b64>". Returns the decoded credential or NULL. */
json_t *cred_unwrap_envelope(struct cred_verifier *v, const json_t *env)
{
    const char *id = vt_json_get_str(env, "id");
    json_t *doc = NULL;
    static const char jwt_prefix[] = "data:application/vc+jwt,";
    static const char cose_prefix[] = "data:application/vc+cose;base64,";
    if (id != NULL && strncmp(id, jwt_prefix, sizeof(jwt_prefix) - 1) == 0) {
        const char *jwt = id + sizeof(jwt_prefix) - 1;
        cred_jwt_verify(v, jwt, strlen(jwt), &doc);
        return doc;
    }
    if (id != NULL && strncmp(id, cose_prefix, sizeof(cose_prefix) - 1) == 0) {
        const char *b64 = id + sizeof(cose_prefix) - 1;
        struct vt_buf raw;
        struct vt_error e;
        vt_buf_init(&raw, CRED_DOC_MAX);
        if (vt_base64_decode(b64, strlen(b64), &raw, &e) != VT_OK) {
            cred_result_error(v->result, CRED_P_PARSING, "malformed envelope",
                              "enveloped COSE credential is not base64: %s", e.msg);
        } else {
            cred_cose_verify(v, raw.data, raw.len, &doc);
        }
        vt_buf_release(&raw);
        return doc;
    }
    cred_result_error(v->result, CRED_P_MALFORMED, "malformed envelope",
                      "EnvelopedVerifiableCredential 'id' is not a vc+jwt or vc+cose data URL");
    return NULL;
}

void cred_check_credential(struct cred_verifier *v, const json_t *doc, unsigned depth)
{
    cred_check_data_model(v, doc);
    cred_check_validity(v, doc);
    cred_check_openbadges(v, doc);
    cred_check_status(v, doc);
    cred_check_endorsements(v, doc, depth);
}

static void verify_document(struct cred_verifier *v, const json_t *doc)
{
    if (!json_is_object(doc)) {
        cred_result_error(v->result, CRED_P_PARSING, "not a document",
                          "a credential or presentation must be a JSON object");
        return;
    }
    const json_t *type = json_object_get(doc, "type");
    if (cred_json_has_type(type, "VerifiablePresentation")) {
        cred_check_presentation(v, doc, false);
        return;
    }
    if (cred_json_has_type(type, "EnvelopedVerifiableCredential")) {
        json_t *inner = cred_unwrap_envelope(v, doc);
        if (inner != NULL) {
            cred_check_credential(v, inner, 0);
            cred_result_set_document(v->result, inner);
        }
        return;
    }
    cred_di_verify_proofs(v, doc, "assertionMethod", false);
    cred_check_credential(v, doc, 0);
}

static void verifier_init(struct cred_verifier *v, const struct cred_verify_options *opt,
                          struct cred_verify_options *defaults, struct cred_result *r)
{
    memset(v, 0, sizeof(*v));
    if (opt == NULL) {
        cred_verify_options_init(defaults);
        opt = defaults;
    }
    v->opt = opt;
    v->now_ms = opt->now_ms != 0 ? opt->now_ms : vt_time_now_ms();
    v->result = r;
}

enum vt_status cred_verify_json(const json_t *doc, const struct cred_verify_options *opt,
                                struct cred_result **result_out, struct vt_error *err)
{
    struct cred_verify_options defaults;
    struct cred_verifier v;
    struct cred_result *r = cred_result_new();
    (void)err;
    verifier_init(&v, opt, &defaults, r);
    verify_document(&v, doc);
    if (cred_result_document(r) == NULL)
        cred_result_set_document(r, json_incref((json_t *)doc));
    *result_out = r;
    return VT_OK;
}

enum vt_status cred_verify(const uint8_t *input, size_t n, const struct cred_verify_options *opt,
                           struct cred_result **result_out, struct vt_error *err)
{
    struct cred_verify_options defaults;
    struct cred_verifier v;
    struct cred_result *r = cred_result_new();
    *result_out = r;
    verifier_init(&v, opt, &defaults, r);
    if (n > CRED_DOC_MAX) {
        cred_result_check(r, "parse");
        cred_result_error(r, CRED_P_PARSING, "document too large",
                          "%zu bytes exceed the %zu-byte cap", n, CRED_DOC_MAX);
        return vt_error_set(err, VT_ERR_TOO_LARGE, "document of %zu bytes exceeds the cap of %zu",
                            n, CRED_DOC_MAX);
    }
    json_t *doc = NULL;
    struct vt_error e;
    vt_error_clear(&e);
    enum vt_status st;
    switch (detect(input, n)) {
    case FORM_JSON:
        st = vt_json_parse((const char *)input, n, CRED_DOC_MAX, VT_JSON_MAX_DEPTH, &doc, &e);
        if (st != VT_OK) {
            cred_result_check(r, "parse");
            cred_result_error(r, CRED_P_PARSING, "malformed JSON", "%s", e.msg);
            return vt_error_set(err, st, "%s", e.msg);
        }
        verify_document(&v, doc);
        cred_result_set_document(r, doc);
        return VT_OK;
    case FORM_JWT: {
        size_t len = n;
        while (len > 0 &&
               (input[len - 1] == '\n' || input[len - 1] == '\r' || input[len - 1] == ' '))
            len--;
        cred_jwt_verify(&v, (const char *)input, len, &doc);
        break;
    }
    case FORM_COSE:
        cred_cose_verify(&v, input, n, &doc);
        break;
    case FORM_COSE_TEXT: {
        struct vt_buf raw;
        size_t len = n;
        while (len > 0 && (input[len - 1] == '\n' || input[len - 1] == '\r'))
            len--;
        vt_buf_init(&raw, CRED_DOC_MAX);
        st = vt_base64url_decode((const char *)input, len, &raw, &e);
        if (st == VT_OK)
            cred_cose_verify(&v, raw.data, raw.len, &doc);
        vt_buf_release(&raw);
        if (st != VT_OK) {
            cred_result_check(r, "parse");
            cred_result_error(r, CRED_P_PARSING, "unrecognized input", "%s", e.msg);
            return vt_error_set(err, VT_ERR_INVALID, "input is not JSON, JWT or COSE");
        }
        break;
    }
    case FORM_UNKNOWN:
    default:
        cred_result_check(r, "parse");
        cred_result_error(r, CRED_P_PARSING, "unrecognized input",
                          "input is neither JSON, a compact JWS nor COSE_Sign1");
        return vt_error_set(err, VT_ERR_INVALID, "input is not JSON, JWT or COSE");
    }
    if (doc != NULL) {
        if (cred_json_has_type(json_object_get(doc, "type"), "VerifiablePresentation"))
            cred_check_presentation(&v, doc, true);
        else
            cred_check_credential(&v, doc, 0);
        cred_result_set_document(r, doc);
    } else if (cred_result_has_error(r, CRED_P_PARSING)) {
        return vt_error_set(err, VT_ERR_INVALID, "input is not a well-formed JWT or COSE message");
    }
    return VT_OK;
}
