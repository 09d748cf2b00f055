/*
 * multipart/mixed statement requests and signed statements (xAPI Communication §1.5.2,
 * Data §2.6): the parser's tolerance and every refusal the LRS must make.
 */
#include "api/xapi.h"
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

static const char *hello_sha =
    "185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969"; /* "Hello" */

static char *stmt_with(const char *usage, const char *ct, const char *sha2, bool file_url)
{
    char *s = malloc(2048);
    snprintf(s, 2048,
             "{\"actor\":{\"mbox\":\"mailto:a@x.org\"},\"verb\":{\"id\":\"http://x.org/v\"},"
             "\"object\":{\"id\":\"http://x.org/a\"},\"attachments\":[{\"usageType\":\"%s\","
             "\"display\":{\"en\":\"a\"},\"contentType\":\"%s\",\"length\":5,\"sha2\":\"%s\"%s}]}",
             usage, ct, sha2, file_url ? ",\"fileUrl\":\"http://x.org/f\"" : "");
    return s;
}

/* Builds a body: the JSON part, then parts given as (headers, content) pairs. */
static size_t body_of(char *out, size_t cap, const char *json, const char *const *parts, size_t n,
                      bool leading_crlf, bool closing_crlf)
{
    size_t o = 0;
    o += (size_t)snprintf(out + o, cap - o,
                          "%s--B0undary\r\nContent-Type:application/json\r\n\r\n%s",
                          leading_crlf ? "\r\n" : "", json);
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, cap - o, "\r\n--B0undary\r\n%s\r\n\r\n%s", parts[2 * i],
                              parts[2 * i + 1]);
    o += (size_t)snprintf(out + o, cap - o, "\r\n--B0undary--%s", closing_crlf ? "\r\n" : "");
    return o;
}

static enum vt_status run(const char *body, size_t n, struct xapi_problem *p, json_t **stmts)
{
    struct xapi_multipart mp;
    struct vt_error err;
    enum vt_status st = xapi_multipart_parse((const uint8_t *)body, n, "B0undary", &mp, &err);
    if (st != VT_OK) {
        snprintf(p->rule, sizeof(p->rule), "parse");
        snprintf(p->msg, sizeof(p->msg), "%s", err.msg);
        return st;
    }
    return xapi_multipart_statements(&mp, 32, stmts, p);
}

static void test_boundary(void **state)
{
    (void)state;
    char b[XAPI_BOUNDARY_MAX + 1];
    struct vt_error err;
    assert_int_equal(xapi_multipart_boundary("multipart/mixed; boundary=abc", b, &err), VT_OK);
    assert_string_equal(b, "abc");
    assert_int_equal(xapi_multipart_boundary("Multipart/Mixed;BOUNDARY=\"a b;c\"", b, &err), VT_OK);
    assert_string_equal(b, "a b;c");
    assert_int_equal(xapi_multipart_boundary("multipart/mixed", b, &err), VT_ERR_INVALID);
    assert_int_equal(xapi_multipart_boundary("multipart/form-data; boundary=x", b, &err),
                     VT_ERR_INVALID);
    assert_int_equal(xapi_multipart_boundary("multipart/mixed; boundary=", b, &err),
                     VT_ERR_INVALID);
}

static void test_attachment_ok(void **state)
{
    (void)state;
    char *json = stmt_with("http://x.org/u", "text/plain", hello_sha, false);
    char hdr[256];
    snprintf(hdr, sizeof(hdr),
             "Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n"
             "X-Experience-API-Hash: %s",
             hello_sha);
    const char *parts[] = {hdr, "Hello"};
    char body[8192];
    struct xapi_problem p;
    json_t *stmts;
    /* with and without a CRLF before the first boundary and after the last */
    for (int v = 0; v < 4; v++) {
        size_t n = body_of(body, sizeof(body), json, parts, 1, v & 1, v & 2);
        assert_int_equal(run(body, n, &p, &stmts), VT_OK);
        assert_true(json_is_object(stmts));
        json_decref(stmts);
    }
    /* headers without a space after the colon, and in any case */
    snprintf(hdr, sizeof(hdr),
             "content-type:text/plain\r\ncontent-transfer-encoding:BINARY\r\n"
             "x-experience-api-hash:%s",
             hello_sha);
    size_t n = body_of(body, sizeof(body), json, parts, 1, false, false);
    assert_int_equal(run(body, n, &p, &stmts), VT_OK);
    json_decref(stmts);
    free(json);
}

static void expect(const char *json, const char *const *parts, size_t np, const char *rule)
{
    char body[16384];
    size_t n = body_of(body, sizeof(body), json, parts, np, false, true);
    struct xapi_problem p;
    json_t *stmts = NULL;
    enum vt_status st = run(body, n, &p, &stmts);
    if (st == VT_OK)
        fail_msg("expected %s, got success", rule);
    if (strcmp(p.rule, rule) != 0)
        fail_msg("expected %s, got %s (%s)", rule, p.rule, p.msg);
}

static void test_refusals(void **state)
{
    (void)state;
    char *json = stmt_with("http://x.org/u", "text/plain", hello_sha, false);
    char ok_hdr[256], no_hash[128], no_cte[256], bad_hash[256];
    snprintf(ok_hdr, sizeof(ok_hdr),
             "Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n"
             "X-Experience-API-Hash: %s",
             hello_sha);
    snprintf(no_hash, sizeof(no_hash),
             "Content-Type: text/plain\r\nContent-Transfer-Encoding: binary");
    snprintf(no_cte, sizeof(no_cte), "Content-Type: text/plain\r\nX-Experience-API-Hash: %s",
             hello_sha);
    snprintf(bad_hash, sizeof(bad_hash),
             "Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n"
             "X-Experience-API-Hash: %s",
             "285f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969");
    const char *missing_hash[] = {no_hash, "Hello"};
    expect(json, missing_hash, 1, "multipart.hash-header");
    const char *missing_cte[] = {no_cte, "Hello"};
    expect(json, missing_cte, 1, "multipart.binary");
    const char *mismatch[] = {ok_hdr, "Hellp"};
    expect(json, mismatch, 1, "multipart.hash-mismatch");
    const char *unknown_hash[] = {bad_hash, "Hello"};
    expect(json, unknown_hash, 1, "multipart.hash-mismatch");
    const char *none[] = {NULL};
    expect(json, none, 0, "attachment.part-missing");
    const char *excess[] = {ok_hdr, "Hello", ok_hdr, "Hello"};
    char *other =
        stmt_with("http://x.org/u", "text/plain",
                  "0000000000000000000000000000000000000000000000000000000000000000", true);
    const char *one[] = {ok_hdr, "Hello"};
    expect(other, one, 1, "multipart.excess-part");
    (void)excess;
    /* fileUrl attachments need no part */
    char body[4096];
    size_t n = body_of(body, sizeof(body), other, none, 0, false, false);
    struct xapi_problem p;
    json_t *stmts;
    assert_int_equal(run(body, n, &p, &stmts), VT_OK);
    json_decref(stmts);
    free(other);
    /* first part not JSON */
    n = (size_t)snprintf(body, sizeof(body),
                         "--B0undary\r\nContent-Type: text/plain\r\n\r\n{}\r\n--B0undary--");
    assert_int_equal(run(body, n, &p, &stmts), VT_ERR_INVALID);
    assert_string_equal(p.rule, "multipart.first-json");
    /* structural failures */
    struct xapi_multipart mp;
    struct vt_error err;
    const char *noclose = "--B0undary\r\nContent-Type: application/json\r\n\r\n{}";
    assert_int_equal(
        xapi_multipart_parse((const uint8_t *)noclose, strlen(noclose), "B0undary", &mp, &err),
        VT_ERR_INVALID);
    const char *noopen = "Content-Type: application/json\r\n\r\n{}";
    assert_int_equal(
        xapi_multipart_parse((const uint8_t *)noopen, strlen(noopen), "B0undary", &mp, &err),
        VT_ERR_INVALID);
    const char *wrong = "--Other\r\nContent-Type: application/json\r\n\r\n{}\r\n--Other--";
    assert_int_equal(
        xapi_multipart_parse((const uint8_t *)wrong, strlen(wrong), "B0undary", &mp, &err),
        VT_ERR_INVALID);
    const char *nocolon = "--B0undary\r\nContent-Type application/json\r\n\r\n{}\r\n--B0undary--";
    assert_int_equal(
        xapi_multipart_parse((const uint8_t *)nocolon, strlen(nocolon), "B0undary", &mp, &err),
        VT_ERR_INVALID);
    free(json);
}

static void test_part_cap(void **state)
{
    (void)state;
    size_t cap = (XAPI_PARTS_MAX + 2) * 64;
    char *body = malloc(cap);
    size_t o = 0;
    for (int i = 0; i < XAPI_PARTS_MAX + 1; i++)
        o += (size_t)snprintf(body + o, cap - o, "--B0undary\r\nX-A: b\r\n\r\nx\r\n");
    o += (size_t)snprintf(body + o, cap - o, "--B0undary--");
    struct xapi_multipart mp;
    struct vt_error err;
    assert_int_equal(xapi_multipart_parse((const uint8_t *)body, o, "B0undary", &mp, &err),
                     VT_ERR_TOO_LARGE);
    free(body);
}

/* ---------------------------------------------------------------------------------------
 * Signed statements
 */

static char *b64u(const void *p, size_t n)
{
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    assert_int_equal(vt_base64url_encode(p, n, &b, NULL), VT_OK);
    return (char *)vt_buf_detach(&b, NULL);
}

static char *b64(const void *p, size_t n)
{
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    assert_int_equal(vt_base64_encode(p, n, &b, NULL), VT_OK);
    return (char *)vt_buf_detach(&b, NULL);
}

static EVP_PKEY *rsa_key(void)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    assert_non_null(k);
    return k;
}

static char *x5c_of(EVP_PKEY *k)
{
    X509 *c = X509_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), 1);
    X509_gmtime_adj(X509_getm_notBefore(c), 0);
    X509_gmtime_adj(X509_getm_notAfter(c), 3600);
    X509_set_pubkey(c, k);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
                               (const unsigned char *)"test", -1, -1, 0);
    X509_set_issuer_name(c, X509_get_subject_name(c));
    assert_true(X509_sign(c, k, EVP_sha256()) > 0);
    unsigned char *der = NULL;
    int n = i2d_X509(c, &der);
    char *s = b64(der, (size_t)n);
    OPENSSL_free(der);
    X509_free(c);
    return s;
}

static char *jws(EVP_PKEY *k, const char *header, const char *payload)
{
    char *h = b64u(header, strlen(header)), *p = b64u(payload, strlen(payload));
    size_t in_len = strlen(h) + 1 + strlen(p);
    char *in = malloc(in_len + 1);
    snprintf(in, in_len + 1, "%s.%s", h, p);
    unsigned char sig[512];
    size_t sl = sizeof(sig);
    if (k != NULL) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k), 1);
        assert_int_equal(EVP_DigestSign(ctx, sig, &sl, (unsigned char *)in, in_len), 1);
        EVP_MD_CTX_free(ctx);
    } else {
        memset(sig, 7, 256);
        sl = 256;
    }
    char *s = b64u(sig, sl);
    char *out = malloc(in_len + strlen(s) + 2);
    sprintf(out, "%s.%s", in, s);
    free(h);
    free(p);
    free(in);
    free(s);
    return out;
}

#define SIGNED_STMT                                                                                \
    "{\"actor\":{\"mbox\":\"mailto:a@x.org\"},\"verb\":{\"id\":\"http://x.org/v\"},"               \
    "\"object\":{\"id\":\"http://x.org/a\"},\"timestamp\":\"2013-04-01T12:00:00Z\"}"

static json_t *with_sig_attachment(const char *stmt)
{
    json_t *s = json_loads(stmt, 0, NULL);
    json_t *att =
        json_pack("[{s:s,s:{s:s},s:s,s:i,s:s}]", "usageType", XAPI_SIGNATURE_USAGE, "display", "en",
                  "signature", "contentType", "application/octet-stream", "length", 10, "sha2",
                  "0000000000000000000000000000000000000000000000000000000000000000");
    json_object_set_new(s, "attachments", att);
    return s;
}

static void sig_expect(const json_t *stmt, const char *token, const char *rule)
{
    struct xapi_problem p;
    enum vt_status st = xapi_signature_check(stmt, (const uint8_t *)token, strlen(token), &p);
    if (rule == NULL) {
        if (st != VT_OK)
            fail_msg("expected a valid signature: %s", p.msg);
    } else if (st == VT_OK || strcmp(p.rule, rule) != 0) {
        fail_msg("expected %s, got %s", rule, st == VT_OK ? "ok" : p.rule);
    }
}

static void test_signatures(void **state)
{
    (void)state;
    EVP_PKEY *k = rsa_key();
    char *cert = x5c_of(k);
    json_t *stmt = with_sig_attachment(SIGNED_STMT);
    char hdr[4096];
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"x5c\":[\"%s\"]}", cert);
    char *t = jws(k, hdr, SIGNED_STMT);
    sig_expect(stmt, t, NULL);
    /* tampered signature with x5c present: the certificate check fails */
    char *dot = strrchr(t, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    sig_expect(stmt, t, "signature.x5c");
    free(t);
    /* no x5c: structurally valid is enough */
    t = jws(NULL, "{\"alg\":\"RS256\"}", SIGNED_STMT);
    sig_expect(stmt, t, NULL);
    free(t);
    /* payload key order and whitespace do not matter; content does */
    t = jws(NULL, "{\"alg\":\"RS384\"}",
            "{ \"verb\":{\"id\":\"http://x.org/v\"},\"actor\":{\"mbox\":\"mailto:a@x.org\"},"
            "\"object\":{\"id\":\"http://x.org/a\"},\"timestamp\":\"2013-04-01T12:00:00.000Z\"}");
    sig_expect(stmt, t, NULL);
    free(t);
    t = jws(NULL, "{\"alg\":\"RS256\"}",
            "{\"actor\":{\"mbox\":\"mailto:b@x.org\"},\"verb\":{\"id\":\"http://x.org/v\"},"
            "\"object\":{\"id\":\"http://x.org/a\"},\"timestamp\":\"2013-04-01T12:00:00Z\"}");
    sig_expect(stmt, t, "signature.payload-match");
    free(t);
    t = jws(NULL, "{\"alg\":\"HS256\"}", SIGNED_STMT);
    sig_expect(stmt, t, "signature.alg");
    free(t);
    t = jws(NULL, "{\"typ\":\"JWT\"}", SIGNED_STMT);
    sig_expect(stmt, t, "signature.alg");
    free(t);
    t = jws(NULL, "{\"alg\":\"RS256\"}", "not json");
    sig_expect(stmt, t, "signature.payload-json");
    free(t);
    t = jws(NULL, "[1]", SIGNED_STMT);
    sig_expect(stmt, t, "signature.header");
    free(t);
    sig_expect(stmt, "abc.def", "signature.compact");
    sig_expect(stmt, "a.b.c.d", "signature.compact");
    sig_expect(stmt, "a*.b.c", "signature.compact");
    json_decref(stmt);
    free(cert);
    EVP_PKEY_free(k);
}

static void test_signed_multipart(void **state)
{
    (void)state;
    char *t = jws(NULL, "{\"alg\":\"RS256\"}", SIGNED_STMT);
    uint8_t d[32];
    vt_sha256(t, strlen(t), d);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    json_t *s = json_loads(SIGNED_STMT, 0, NULL);
    json_object_set_new(s, "attachments",
                        json_pack("[{s:s,s:{s:s},s:s,s:i,s:s}]", "usageType", XAPI_SIGNATURE_USAGE,
                                  "display", "en", "signature", "contentType",
                                  "application/octet-stream", "length", (int)strlen(t), "sha2",
                                  hex));
    char *json = json_dumps(s, JSON_COMPACT);
    char hdr[256];
    snprintf(hdr, sizeof(hdr),
             "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
             "X-Experience-API-Hash: %s",
             hex);
    const char *parts[] = {hdr, t};
    char body[8192];
    size_t n = body_of(body, sizeof(body), json, parts, 1, false, false);
    struct xapi_problem p;
    json_t *stmts;
    assert_int_equal(run(body, n, &p, &stmts), VT_OK);
    json_decref(stmts);
    /* the signature part must be application/octet-stream */
    snprintf(hdr, sizeof(hdr),
             "Content-Type: application/jose\r\nContent-Transfer-Encoding: binary\r\n"
             "X-Experience-API-Hash: %s",
             hex);
    expect(json, parts, 1, "signature.content-type");
    free(json);
    json_decref(s);
    free(t);
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundary),   cmocka_unit_test(test_attachment_ok),
        cmocka_unit_test(test_refusals),   cmocka_unit_test(test_part_cap),
        cmocka_unit_test(test_signatures), cmocka_unit_test(test_signed_multipart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
