/*
 * multipart/mixed statement requests (RFC 2046 §5.1, xAPI Communication §1.5.2) and
 * signed statements (xAPI Data §2.6). lws_spa cannot read these: it knows only form-data
 * and a fixed header spelling (specs/xapi.md §5).
 */
#include "api/xapi.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define HEADER_BLOCK_MAX 8192

static bool ieq_prefix(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && strncasecmp(s, lit, l) == 0;
}

enum vt_status xapi_multipart_boundary(const char *ct, char out[XAPI_BOUNDARY_MAX + 1],
                                       struct vt_error *err)
{
    if (ct == NULL || !ieq_prefix(ct, strlen(ct), "multipart/mixed"))
        return vt_error_set(err, VT_ERR_INVALID, "content type is not multipart/mixed");
    const char *p = ct + strlen("multipart/mixed");
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        if (strncasecmp(p, "boundary=", 9) == 0) {
            p += 9;
            size_t n = 0;
            if (*p == '"') {
                p++;
                while (p[n] && p[n] != '"')
                    n++;
                if (p[n] != '"')
                    return vt_error_set(err, VT_ERR_INVALID, "unterminated boundary parameter");
            } else {
                while (p[n] && p[n] != ';' && p[n] != ' ' && p[n] != '\t')
                    n++;
            }
            if (n == 0 || n > XAPI_BOUNDARY_MAX)
                return vt_error_set(err, VT_ERR_INVALID, "boundary must be 1 to 70 characters");
            memcpy(out, p, n);
            out[n] = '\0';
            return VT_OK;
        }
        while (*p && *p != ';')
            p++;
    }
    return vt_error_set(err, VT_ERR_INVALID, "multipart/mixed without a boundary parameter");
}

static const uint8_t *find(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    if (m == 0 || n < m)
        return NULL;
    for (const uint8_t *p = hay; p + m <= hay + n;) {
        const uint8_t *q = memchr(p, needle[0], (size_t)(hay + n - p) - m + 1);
        if (q == NULL)
            return NULL;
        if (memcmp(q, needle, m) == 0)
            return q;
        p = q + 1;
    }
    return NULL;
}

static void header_value(const char *v, size_t n, char *out, size_t cap)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

static enum vt_status part_headers(const char *h, size_t n, struct xapi_part *part,
                                   struct vt_error *err)
{
    size_t i = 0;
    while (i < n) {
        const char *line = h + i;
        const char *eol = memchr(line, '\r', n - i);
        size_t len = eol ? (size_t)(eol - line) : n - i;
        const char *colon = memchr(line, ':', len);
        if (colon == NULL)
            return vt_error_set(err, VT_ERR_INVALID, "multipart header line without a colon");
        size_t nl = (size_t)(colon - line), vl = len - nl - 1;
        char val[160];
        header_value(colon + 1, vl, val, sizeof(val));
        if (nl == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
            xapi_strlcpy(part->content_type, sizeof(part->content_type), val);
        } else if (nl == 25 && strncasecmp(line, "Content-Transfer-Encoding", 25) == 0) {
            part->has_cte = true;
            part->binary_cte = strcasecmp(val, "binary") == 0;
        } else if (nl == 21 && strncasecmp(line, "X-Experience-API-Hash", 21) == 0) {
            xapi_strlcpy(part->hash, sizeof(part->hash), val);
            for (char *q = part->hash; *q; q++)
                *q = (char)tolower((unsigned char)*q);
        }
        i += len + 2;
    }
    return VT_OK;
}

enum vt_status xapi_multipart_parse(const uint8_t *body, size_t n, const char *boundary,
                                    struct xapi_multipart *mp, struct vt_error *err)
{
    mp->n = 0;
    uint8_t delim[XAPI_BOUNDARY_MAX + 4];
    size_t bl = strlen(boundary);
    if (bl == 0 || bl > XAPI_BOUNDARY_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "bad multipart boundary");
    /* "\r\n--boundary": the CRLF before a delimiter belongs to the delimiter (§5.1.1). */
    delim[0] = '\r';
    delim[1] = '\n';
    delim[2] = '-';
    delim[3] = '-';
    memcpy(delim + 4, boundary, bl);
    size_t dl = bl + 4;
    const uint8_t *p;
    if (n >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0)
        p = body + dl - 2;
    else if ((p = find(body, n, delim, dl)) != NULL)
        p += dl;
    else
        return vt_error_set(err, VT_ERR_INVALID, "multipart body has no opening boundary");
    const uint8_t *end = body + n;
    for (;;) {
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
            if (mp->n == 0)
                return vt_error_set(err, VT_ERR_INVALID, "multipart body has no parts");
            return VT_OK; /* the epilogue after the close delimiter is ignored */
        }
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return vt_error_set(err, VT_ERR_INVALID, "multipart boundary line not ended by CRLF");
        p += 2;
        if (mp->n == XAPI_PARTS_MAX)
            return vt_error_set(err, VT_ERR_TOO_LARGE, "more than %d multipart parts",
                                XAPI_PARTS_MAX);
        struct xapi_part *part = &mp->parts[mp->n];
        memset(part, 0, sizeof(*part));
        const uint8_t *hend;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            hend = p; /* no headers */
        } else {
            hend = find(p, (size_t)(end - p), (const uint8_t *)"\r\n\r\n", 4);
            if (hend == NULL)
                return vt_error_set(err, VT_ERR_INVALID, "multipart part headers not ended");
            if (hend - p > HEADER_BLOCK_MAX)
                return vt_error_set(err, VT_ERR_TOO_LARGE, "multipart part headers too long");
            enum vt_status st = part_headers((const char *)p, (size_t)(hend - p), part, err);
            if (st != VT_OK)
                return st;
            hend += 2;
        }
        const uint8_t *data = hend + 2;
        const uint8_t *next = find(data, (size_t)(end - data), delim, dl);
        if (next == NULL)
            return vt_error_set(err, VT_ERR_INVALID, "multipart body has no closing boundary");
        part->body = data;
        part->len = (size_t)(next - data);
        vt_sha256(data, part->len, part->sha256);
        mp->n++;
        p = next + dl;
    }
}

static bool media_is(const char *ct, const char *type)
{
    size_t l = strlen(type);
    if (strncasecmp(ct, type, l) != 0)
        return false;
    return ct[l] == '\0' || ct[l] == ';' || ct[l] == ' ' || ct[l] == '\t';
}

static bool problem(struct xapi_problem *p, const char *rule, const char *path, const char *msg)
{
    if (p != NULL) {
        xapi_strlcpy(p->rule, sizeof(p->rule), rule);
        xapi_strlcpy(p->path, sizeof(p->path), path);
        xapi_strlcpy(p->msg, sizeof(p->msg), "invalid request: ");
        xapi_strlcat(p->msg, sizeof(p->msg), msg);
        xapi_strlcat(p->msg, sizeof(p->msg), " (");
        xapi_strlcat(p->msg, sizeof(p->msg), rule);
        xapi_strlcat(p->msg, sizeof(p->msg), ")");
    }
    return false;
}

/* The digest of data named by the hex length of an attachment's sha2. */
static bool digest_hex(const uint8_t *data, size_t n, size_t hexlen, char *out)
{
    const EVP_MD *md = hexlen == 56    ? EVP_sha224()
                       : hexlen == 64  ? EVP_sha256()
                       : hexlen == 96  ? EVP_sha384()
                       : hexlen == 128 ? EVP_sha512()
                                       : NULL;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    if (md == NULL || EVP_Digest(data, n, d, &dl, md, NULL) != 1)
        return false;
    for (unsigned i = 0; i < dl; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    return true;
}

static bool hex_equal_ci(const char *a, const char *b)
{
    return strlen(a) == strlen(b) && strcasecmp(a, b) == 0;
}

/* Finds the part whose hash header names sha2. */
static const struct xapi_part *part_for(const struct xapi_multipart *mp, const char *sha2)
{
    for (size_t i = 1; i < mp->n; i++)
        if (hex_equal_ci(mp->parts[i].hash, sha2))
            return &mp->parts[i];
    return NULL;
}

static bool statement_attachments(const struct xapi_multipart *mp, const json_t *stmt, bool *used,
                                  struct xapi_problem *p)
{
    const json_t *att = json_object_get(stmt, "attachments");
    for (size_t i = 0; i < json_array_size(att); i++) {
        const json_t *a = json_array_get(att, i);
        const char *sha2 = vt_json_get_str(a, "sha2");
        if (sha2 == NULL)
            continue; /* the statement validator names this */
        const struct xapi_part *part = part_for(mp, sha2);
        if (part == NULL) {
            if (vt_json_get_str(a, "fileUrl") != NULL)
                continue;
            return problem(p, "attachment.part-missing", "attachments",
                           "an attachment without fileUrl has no multipart part");
        }
        used[part - mp->parts] = true;
        const char *usage = vt_json_get_str(a, "usageType");
        if (usage != NULL && strcmp(usage, XAPI_SIGNATURE_USAGE) == 0) {
            const char *ct = vt_json_get_str(a, "contentType");
            if (ct == NULL || !media_is(ct, "application/octet-stream") ||
                !media_is(part->content_type, "application/octet-stream"))
                return problem(p, "signature.content-type", "attachments",
                               "a signature attachment must be application/octet-stream");
            if (xapi_signature_check(stmt, part->body, part->len, p) != VT_OK)
                return false;
        }
    }
    return true;
}

enum vt_status xapi_multipart_statements(const struct xapi_multipart *mp, size_t max_depth,
                                         json_t **stmts, struct xapi_problem *p)
{
    *stmts = NULL;
    if (mp->n == 0) {
        problem(p, "multipart.empty", "body", "empty multipart body");
        return VT_ERR_INVALID;
    }
    if (!media_is(mp->parts[0].content_type, "application/json")) {
        problem(p, "multipart.first-json", "part[0]",
                "the first part must be the statements as application/json");
        return VT_ERR_INVALID;
    }
    for (size_t i = 1; i < mp->n; i++) {
        const struct xapi_part *part = &mp->parts[i];
        if (part->hash[0] == '\0') {
            problem(p, "multipart.hash-header", "part", "a part has no X-Experience-API-Hash");
            return VT_ERR_INVALID;
        }
        if (!part->binary_cte) {
            problem(p, "multipart.binary", "part",
                    "a part needs Content-Transfer-Encoding: binary");
            return VT_ERR_INVALID;
        }
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        if (!xapi_is_sha2_hex(part->hash) ||
            !digest_hex(part->body, part->len, strlen(part->hash), hex) ||
            strcmp(hex, part->hash) != 0) {
            problem(p, "multipart.hash-mismatch", "part",
                    "X-Experience-API-Hash does not match the part's content");
            return VT_ERR_INVALID;
        }
    }
    struct vt_error err;
    json_t *doc;
    if (vt_json_parse((const char *)mp->parts[0].body, mp->parts[0].len, mp->parts[0].len,
                      max_depth, &doc, &err) != VT_OK) {
        problem(p, "request.json", "part[0]", err.msg);
        return VT_ERR_INVALID;
    }
    bool used[XAPI_PARTS_MAX] = {true};
    bool ok = true;
    if (json_is_array(doc)) {
        for (size_t i = 0; ok && i < json_array_size(doc); i++)
            ok = statement_attachments(mp, json_array_get(doc, i), used, p);
    } else {
        ok = statement_attachments(mp, doc, used, p);
    }
    for (size_t i = 1; ok && i < mp->n; i++)
        if (!used[i])
            ok = problem(p, "multipart.excess-part", "part",
                         "a part matches no attachment of the statements");
    if (!ok) {
        json_decref(doc);
        return VT_ERR_INVALID;
    }
    *stmts = doc;
    return VT_OK;
}

/* ---------------------------------------------------------------------------------------
 * Signed statements
 */

static bool b64u_segment(const char *s, size_t n, struct vt_buf *out)
{
    return vt_base64url_decode(s, n, out, NULL) == VT_OK;
}

static bool verify_x5c(const json_t *x5c, const EVP_MD *md, const char *signing_input, size_t sin,
                       const struct vt_buf *sig)
{
    const char *cert_b64 = json_is_array(x5c) ? json_string_value(json_array_get(x5c, 0)) : NULL;
    if (cert_b64 == NULL)
        return false;
    struct vt_buf der;
    vt_buf_init(&der, 64 << 10);
    bool ok = false;
    if (vt_base64_decode(cert_b64, strlen(cert_b64), &der, NULL) == VT_OK) {
        const unsigned char *q = der.data;
        X509 *cert = d2i_X509(NULL, &q, (long)der.len);
        EVP_PKEY *key = cert ? X509_get_pubkey(cert) : NULL;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        ok = key != NULL && EVP_PKEY_base_id(key) == EVP_PKEY_RSA && ctx != NULL &&
             EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
             EVP_DigestVerify(ctx, sig->data, sig->len, (const unsigned char *)signing_input,
                              sin) == 1;
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(key);
        X509_free(cert);
    }
    vt_buf_release(&der);
    return ok;
}

enum vt_status xapi_signature_check(const json_t *stmt, const uint8_t *jws, size_t n,
                                    struct xapi_problem *p)
{
    const char *s = (const char *)jws;
    const char *d1 = memchr(s, '.', n);
    const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - s)) : NULL;
    if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - s)) != NULL) {
        problem(p, "signature.compact", "attachments",
                "the signature is not a JWS in compact serialisation");
        return VT_ERR_INVALID;
    }
    struct vt_buf hdr, payload, sig;
    vt_buf_init(&hdr, 64 << 10);
    vt_buf_init(&payload, 1 << 20);
    vt_buf_init(&sig, 4096);
    json_t *h = NULL, *body = NULL;
    enum vt_status st = VT_ERR_INVALID;
    if (!b64u_segment(s, (size_t)(d1 - s), &hdr) ||
        !b64u_segment(d1 + 1, (size_t)(d2 - d1 - 1), &payload) ||
        !b64u_segment(d2 + 1, n - (size_t)(d2 + 1 - s), &sig)) {
        problem(p, "signature.compact", "attachments", "a JWS segment is not base64url");
        goto out;
    }
    if (vt_json_parse((const char *)hdr.data, hdr.len, hdr.len, 8, &h, NULL) != VT_OK ||
        !json_is_object(h)) {
        problem(p, "signature.header", "attachments", "the JWS header is not a JSON object");
        goto out;
    }
    const char *alg = vt_json_get_str(h, "alg");
    const EVP_MD *md = alg == NULL                 ? NULL
                       : strcmp(alg, "RS256") == 0 ? EVP_sha256()
                       : strcmp(alg, "RS384") == 0 ? EVP_sha384()
                       : strcmp(alg, "RS512") == 0 ? EVP_sha512()
                                                   : NULL;
    if (md == NULL) {
        problem(p, "signature.alg", "attachments", "the JWS alg must be RS256, RS384 or RS512");
        goto out;
    }
    if (vt_json_parse((const char *)payload.data, payload.len, payload.len, 64, &body, NULL) !=
            VT_OK ||
        !json_is_object(body)) {
        problem(p, "signature.payload-json", "attachments", "the JWS payload is not a statement");
        goto out;
    }
    if (!xapi_statement_equivalent(body, stmt)) {
        problem(p, "signature.payload-match", "attachments",
                "the JWS payload differs from the statement");
        goto out;
    }
    const json_t *x5c = json_object_get(h, "x5c");
    if (x5c != NULL && !verify_x5c(x5c, md, s, (size_t)(d2 - s), &sig)) {
        problem(p, "signature.x5c", "attachments",
                "the JWS signature does not verify with its x5c certificate");
        goto out;
    }
    st = VT_OK;
out:
    json_decref(h);
    json_decref(body);
    vt_buf_release(&hdr);
    vt_buf_release(&payload);
    vt_buf_release(&sig);
    return st;
}
