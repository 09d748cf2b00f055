/* COSE_Sign1 (RFC 9052 §4.2, §4.4) and application/vc+cose (specs/credential.md §4).
 *
 * The reader below only walks the four-element COSE_Sign1 array and the header maps; it
 * keeps the protected header as the exact bytes received, because the signature covers
 * those bytes and a re-encoding need not reproduce them. */
#include "credential/credential_int.h"

#include <string.h>

#define COSE_ALG_EDDSA (-8)
#define COSE_ALG_ED25519 (-19)
#define COSE_ALG_ES256 (-7)
#define COSE_ALG_RS256 (-257)
#define COSE_HEADER_MAX 4096
#define COSE_DEPTH_MAX 8

/* ---------------------------------------------------------------------------------------
 * Minimal CBOR: heads, and skipping one item
 */

static enum vt_status put_head(struct vt_buf *b, unsigned major, uint64_t v, struct vt_error *err)
{
    uint8_t h[9];
    size_t n;
    uint8_t m = (uint8_t)(major << 5);
    if (v < 24) {
        h[0] = m | (uint8_t)v;
        n = 1;
    } else if (v <= 0xff) {
        h[0] = m | 24;
        h[1] = (uint8_t)v;
        n = 2;
    } else if (v <= 0xffff) {
        h[0] = m | 25;
        vt_be16_put(h + 1, (uint16_t)v);
        n = 3;
    } else if (v <= 0xffffffffu) {
        h[0] = m | 26;
        vt_be32_put(h + 1, (uint32_t)v);
        n = 5;
    } else {
        h[0] = m | 27;
        vt_be64_put(h + 1, v);
        n = 9;
    }
    return vt_buf_append(b, h, n, err);
}

static enum vt_status put_bytes(struct vt_buf *b, unsigned major, const void *p, size_t n,
                                struct vt_error *err)
{
    enum vt_status st = put_head(b, major, n, err);
    return st == VT_OK ? vt_buf_append(b, p, n, err) : st;
}

static enum vt_status put_int(struct vt_buf *b, int64_t v, struct vt_error *err)
{
    return v >= 0 ? put_head(b, 0, (uint64_t)v, err) : put_head(b, 1, (uint64_t)(-1 - v), err);
}

struct reader {
    const uint8_t *p;
    size_t n;
    size_t off;
};

/* Reads one head; definite lengths only. */
static bool get_head(struct reader *r, unsigned *major, uint64_t *val)
{
    if (r->off >= r->n)
        return false;
    uint8_t b = r->p[r->off++];
    unsigned ai = b & 0x1f;
    *major = b >> 5;
    if (ai < 24) {
        *val = ai;
        return true;
    }
    if (ai > 27)
        return false;
    size_t len = (size_t)1 << (ai - 24);
    if (r->n - r->off < len)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++)
        v = v << 8 | r->p[r->off + i];
    r->off += len;
    *val = v;
    return true;
}

static bool get_bstr(struct reader *r, unsigned want_major, const uint8_t **p, size_t *len)
{
    unsigned major;
    uint64_t v;
    if (!get_head(r, &major, &v) || major != want_major || v > r->n - r->off)
        return false;
    *p = r->p + r->off;
    *len = (size_t)v;
    r->off += (size_t)v;
    return true;
}

static bool skip_item(struct reader *r, unsigned depth)
{
    unsigned major;
    uint64_t v;
    if (depth > COSE_DEPTH_MAX || !get_head(r, &major, &v))
        return false;
    switch (major) {
    case 0:
    case 1:
    case 7:
        return true;
    case 2:
    case 3:
        if (v > r->n - r->off)
            return false;
        r->off += (size_t)v;
        return true;
    case 4:
    case 5:
        if (v > r->n - r->off)
            return false; /* every item takes at least one byte */
        for (uint64_t i = 0; i < (major == 5 ? 2 * v : v); i++) {
            if (!skip_item(r, depth + 1))
                return false;
        }
        return true;
    case 6:
        return skip_item(r, depth + 1);
    }
    return false;
}

/* Reads an integer item; false if it is not one. */
static bool get_int(struct reader *r, int64_t *out)
{
    unsigned major;
    uint64_t v;
    if (!get_head(r, &major, &v) || major > 1 || v > INT64_MAX)
        return false;
    *out = major == 0 ? (int64_t)v : -1 - (int64_t)v;
    return true;
}

struct headers {
    bool has_alg;
    int64_t alg;
    bool has_crit;
    const uint8_t *kid;
    size_t kid_len;
};

/* Reads the integer-keyed members we use from a header map; others are skipped. */
static bool read_headers(const uint8_t *p, size_t n, struct headers *h)
{
    struct reader r = {p, n, 0};
    unsigned major;
    uint64_t count;
    if (n == 0)
        return true; /* an empty protected header is the zero-length bstr */
    if (!get_head(&r, &major, &count) || major != 5 || count > n)
        return false;
    for (uint64_t i = 0; i < count; i++) {
        size_t at = r.off;
        int64_t label;
        if (!get_int(&r, &label)) {
            r.off = at;
            if (!skip_item(&r, 1) || !skip_item(&r, 1))
                return false;
            continue;
        }
        if (label == 1) {
            if (!get_int(&r, &h->alg))
                return false;
            h->has_alg = true;
        } else if (label == 4) {
            if (!get_bstr(&r, 2, &h->kid, &h->kid_len))
                return false;
        } else {
            h->has_crit = h->has_crit || label == 2;
            if (!skip_item(&r, 1))
                return false;
        }
    }
    return r.off == n;
}

struct sign1 {
    const uint8_t *protected_p;
    size_t protected_len;
    struct headers hdr;
    const uint8_t *payload;
    size_t payload_len;
    const uint8_t *sig;
    size_t sig_len;
};

static enum vt_status parse_sign1(const uint8_t *msg, size_t n, struct sign1 *s,
                                  struct vt_error *err)
{
    struct reader r = {msg, n, 0};
    unsigned major;
    uint64_t v;
    memset(s, 0, sizeof(*s));
    if (n > 0 && msg[0] == 0xd2)
        r.off = 1; /* tag 18 */
    if (!get_head(&r, &major, &v) || major != 4 || v != 4)
        return vt_error_set(err, VT_ERR_INVALID, "not a COSE_Sign1: expected an array of 4");
    if (!get_bstr(&r, 2, &s->protected_p, &s->protected_len) || s->protected_len > COSE_HEADER_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "COSE_Sign1 protected header is not a bstr");
    size_t unprot_at = r.off;
    if (r.off >= n || (msg[r.off] >> 5) != 5 || !skip_item(&r, 0))
        return vt_error_set(err, VT_ERR_INVALID, "COSE_Sign1 unprotected header is not a map");
    size_t unprot_len = r.off - unprot_at;
    if (r.off < n && msg[r.off] == 0xf6)
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "detached COSE payloads are not supported");
    if (!get_bstr(&r, 2, &s->payload, &s->payload_len) || !get_bstr(&r, 2, &s->sig, &s->sig_len))
        return vt_error_set(err, VT_ERR_INVALID, "COSE_Sign1 payload or signature is not a bstr");
    if (r.off != n)
        return vt_error_set(err, VT_ERR_INVALID, "%zu bytes after the COSE_Sign1 message",
                            n - r.off);
    if (!read_headers(s->protected_p, s->protected_len, &s->hdr))
        return vt_error_set(err, VT_ERR_INVALID, "COSE protected header is not a valid map");
    struct headers un = {0};
    if (!read_headers(msg + unprot_at, unprot_len, &un))
        return vt_error_set(err, VT_ERR_INVALID, "COSE unprotected header is not a valid map");
    if (un.has_alg)
        return vt_error_set(err, VT_ERR_INVALID, "COSE 'alg' must be a protected header");
    if (s->hdr.kid == NULL) {
        s->hdr.kid = un.kid;
        s->hdr.kid_len = un.kid_len;
    }
    if (!s->hdr.has_alg)
        return vt_error_set(err, VT_ERR_INVALID, "COSE protected header has no 'alg'");
    if (s->hdr.has_crit)
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "COSE 'crit' headers are not understood");
    return VT_OK;
}

/* Sig_structure = ["Signature1", body_protected, external_aad (empty), payload]. */
static enum vt_status to_be_signed(const uint8_t *prot, size_t prot_len, const uint8_t *payload,
                                   size_t payload_len, struct vt_buf *out, struct vt_error *err)
{
    /* One allocation for the whole structure: 32 bytes cover its four heads and the label. */
    enum vt_status st = vt_buf_grow(out, prot_len + payload_len + 32, err);
    if (st == VT_OK)
        st = put_head(out, 4, 4, err);
    if (st == VT_OK)
        st = put_bytes(out, 3, "Signature1", 10, err);
    if (st == VT_OK)
        st = put_bytes(out, 2, prot, prot_len, err);
    if (st == VT_OK)
        st = put_bytes(out, 2, "", 0, err);
    if (st == VT_OK)
        st = put_bytes(out, 2, payload, payload_len, err);
    return st;
}

static bool alg_from_cose(int64_t a, enum cred_alg *out)
{
    if (a == COSE_ALG_EDDSA || a == COSE_ALG_ED25519)
        *out = CRED_ALG_EDDSA;
    else if (a == COSE_ALG_ES256)
        *out = CRED_ALG_ES256;
    else if (a == COSE_ALG_RS256)
        *out = CRED_ALG_RS256;
    else
        return false;
    return true;
}

static int64_t alg_to_cose(enum cred_alg a)
{
    switch (a) {
    case CRED_ALG_EDDSA:
        return COSE_ALG_EDDSA;
    case CRED_ALG_ES256:
        return COSE_ALG_ES256;
    case CRED_ALG_RS256:
        return COSE_ALG_RS256;
    }
    return COSE_ALG_EDDSA;
}

enum vt_status cred_cose_sign1(const struct cred_key *key, const uint8_t *protected_map,
                               size_t protected_len, const uint8_t *unprotected_map,
                               size_t unprotected_len, const uint8_t *payload, size_t payload_len,
                               struct vt_buf *out, struct vt_error *err)
{
    struct vt_buf tbs;
    vt_buf_init(&tbs, CRED_DOC_MAX * 2);
    uint8_t sig[CRED_SIG_MAX];
    size_t sig_len = 0;
    enum vt_status st = to_be_signed(protected_map, protected_len, payload, payload_len, &tbs, err);
    if (st == VT_OK)
        st = cred_key_sign_raw(key, tbs.data, tbs.len, sig, &sig_len, err);
    vt_buf_release(&tbs);
    if (st == VT_OK)
        st = put_head(out, 6, 18, err);
    if (st == VT_OK)
        st = put_head(out, 4, 4, err);
    if (st == VT_OK)
        st = put_bytes(out, 2, protected_map, protected_len, err);
    if (st == VT_OK)
        st = unprotected_map != NULL ? vt_buf_append(out, unprotected_map, unprotected_len, err)
                                     : put_head(out, 5, 0, err);
    if (st == VT_OK)
        st = put_bytes(out, 2, payload, payload_len, err);
    if (st == VT_OK)
        st = put_bytes(out, 2, sig, sig_len, err);
    return st;
}

enum vt_status cred_cose_verify1(const struct cred_key *key, const uint8_t *msg, size_t n,
                                 const uint8_t **payload, size_t *payload_len, struct vt_error *err)
{
    struct sign1 s;
    enum vt_status st = parse_sign1(msg, n, &s, err);
    if (st != VT_OK)
        return st;
    enum cred_alg alg;
    if (!alg_from_cose(s.hdr.alg, &alg))
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "unsupported COSE alg %lld",
                            (long long)s.hdr.alg);
    struct vt_buf tbs;
    vt_buf_init(&tbs, CRED_DOC_MAX * 2);
    st = to_be_signed(s.protected_p, s.protected_len, s.payload, s.payload_len, &tbs, err);
    if (st == VT_OK)
        st = cred_key_verify_raw(key, alg, tbs.data, tbs.len, s.sig, s.sig_len, err);
    vt_buf_release(&tbs);
    if (st != VT_OK)
        return st;
    *payload = s.payload;
    *payload_len = s.payload_len;
    return VT_OK;
}

enum vt_status cred_sign_cose(const json_t *doc, const struct cred_key *key, const char *kid,
                              struct vt_buf *out, struct vt_error *err)
{
    if (!json_is_object(doc))
        return vt_error_set(err, VT_ERR_INVALID, "cannot sign: the document is not an object");
    if (kid == NULL)
        kid = cred_key_default_vm(key);
    bool vp = cred_json_has_type(json_object_get(doc, "type"), "VerifiablePresentation");
    struct vt_buf prot, unprot, payload;
    vt_buf_init(&prot, COSE_HEADER_MAX);
    vt_buf_init(&unprot, COSE_HEADER_MAX);
    vt_buf_init(&payload, CRED_DOC_MAX * 2);
    /* Labels 1, 3, 4, 16 in ascending order: the deterministic encoding of the map. The
     * kid is protected too, so that no byte of the message escapes the signature. */
    const char *cty = vp ? "application/vp" : "application/vc";
    const char *typ = vp ? "application/vp+cose" : "application/vc+cose";
    enum vt_status st = put_head(&prot, 5, kid != NULL ? 4 : 3, err);
    if (st == VT_OK)
        st = put_int(&prot, 1, err);
    if (st == VT_OK)
        st = put_int(&prot, alg_to_cose(cred_key_alg(key)), err);
    if (st == VT_OK)
        st = put_int(&prot, 3, err);
    if (st == VT_OK)
        st = put_bytes(&prot, 3, cty, strlen(cty), err);
    if (st == VT_OK && kid != NULL) {
        st = put_int(&prot, 4, err);
        if (st == VT_OK)
            st = put_bytes(&prot, 2, kid, strlen(kid), err);
    }
    if (st == VT_OK)
        st = put_int(&prot, 16, err);
    if (st == VT_OK)
        st = put_bytes(&prot, 3, typ, strlen(typ), err);
    if (st == VT_OK)
        st = put_head(&unprot, 5, 0, err);
    if (st == VT_OK)
        st = cred_json_write(doc, 0, &payload, err);
    if (st == VT_OK)
        st = cred_cose_sign1(key, prot.data, prot.len, unprot.data, unprot.len, payload.data,
                             payload.len, out, err);
    vt_buf_release(&prot);
    vt_buf_release(&unprot);
    vt_buf_release(&payload);
    return st;
}

void cred_cose_verify(struct cred_verifier *v, const uint8_t *msg, size_t n, json_t **doc_out)
{
    struct cred_result *r = v->result;
    struct sign1 s;
    struct vt_error e;
    *doc_out = NULL;
    cred_result_check(r, "proof");
    enum vt_status st = parse_sign1(msg, n, &s, &e);
    if (st != VT_OK) {
        cred_result_error(r, st == VT_ERR_UNSUPPORTED ? CRED_P_UNSUPPORTED_SUITE : CRED_P_PARSING,
                          "malformed COSE", "%s", e.msg);
        return;
    }
    json_t *doc = NULL;
    if (vt_json_parse((const char *)s.payload, s.payload_len, CRED_DOC_MAX, VT_JSON_MAX_DEPTH, &doc,
                      &e) != VT_OK) {
        cred_result_error(r, CRED_P_PARSING, "malformed COSE payload",
                          "the payload is not a JSON credential: %s", e.msg);
        return;
    }
    if (!json_is_object(doc)) {
        cred_result_error(r, CRED_P_PARSING, "malformed COSE payload",
                          "the payload is not a JSON object");
        json_decref(doc);
        return;
    }
    enum cred_alg alg;
    if (!alg_from_cose(s.hdr.alg, &alg)) {
        cred_result_error(r, CRED_P_UNSUPPORTED_SUITE, "unsupported algorithm",
                          "COSE alg %lld is not supported (-8, -7, -257)", (long long)s.hdr.alg);
        *doc_out = doc;
        return;
    }
    char kid[512];
    const char *vm = NULL;
    if (s.hdr.kid != NULL && s.hdr.kid_len < sizeof(kid) &&
        memchr(s.hdr.kid, 0, s.hdr.kid_len) == NULL) {
        memcpy(kid, s.hdr.kid, s.hdr.kid_len);
        kid[s.hdr.kid_len] = '\0';
        vm = kid;
    }
    const char *issuer = cred_json_id_of(json_object_get(doc, "issuer"));
    if (issuer == NULL)
        issuer = cred_json_id_of(json_object_get(doc, "holder"));
    if (vm == NULL || !cred_is_uri(vm))
        vm = issuer;
    /* vc+cose carries no signing time of its own; the credential's validFrom is the time
     * its issuer vouches for, so key history is checked at that time. */
    int64_t at = -1;
    const char *from = vt_json_get_str(doc, "validFrom");
    if (from == NULL || vt_time_parse(from, strlen(from), &at, &e) != VT_OK)
        at = -1;
    cred_result_check(r, "issuer-key");
    struct cred_key *key = NULL;
    if (vm != NULL && cred_is_uri(vm)) {
        if (cred_vm_syntax_ok(v, vm, "COSE"))
            key = cred_resolve_vm(v, vm, at, true, "COSE");
    } else if ((key = cred_key_ref(cred_trust_any(v->opt->trust))) == NULL) {
        cred_result_error(r, CRED_P_KEY_RESOLUTION, "issuer key not resolvable",
                          "COSE message names no kid and no resolvable issuer");
    }
    if (key != NULL) {
        struct vt_buf tbs;
        vt_buf_init(&tbs, CRED_DOC_MAX * 2);
        vt_error_clear(&e);
        if (to_be_signed(s.protected_p, s.protected_len, s.payload, s.payload_len, &tbs, &e) !=
                VT_OK ||
            cred_key_verify_raw(key, alg, tbs.data, tbs.len, s.sig, s.sig_len, &e) != VT_OK)
            cred_result_error(r, CRED_P_PROOF_VERIFICATION, "invalid signature",
                              "COSE_Sign1 signature: %s", e.msg);
        vt_buf_release(&tbs);
        cred_key_free(key);
    }
    *doc_out = doc;
}
