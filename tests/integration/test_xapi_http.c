/*
 * The xAPI LRS over HTTP (specs/xapi.md §8): header rules, authentication, statements
 * (PUT, POST, GET by id and by query, paging through more, voiding, attachments over
 * multipart/mixed), the document resources with their concurrency rules, Activities,
 * Agents and About.
 */
#include "itest.h"
#include "xapi_client.h"

#include "test_support.h"

static struct itest_server srv;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(vt_core_init(NULL), VT_OK);
    itest_tempdir(srv.dir);
    static const char *const extra[] = {XC_BASIC_ARG, NULL};
    itest_start(&srv, srv.dir, extra);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(itest_stop(&srv, 15), 0);
    assert_int_equal(itest_check(srv.dir), 0);
    itest_rmrf(srv.dir);
    return 0;
}

#define H (XC_V2 XC_AUTH)
#define HJ (XC_V2 XC_AUTH XC_JSON)

static int req(const char *method, const char *path, const char *headers, const char *body,
               struct xc_resp *r)
{
    return xc_request(srv.port, method, path, headers, body, body ? strlen(body) : 0, r);
}

/* Status of a request whose answer is not needed beyond its rule. */
static int status_rule(const char *method, const char *path, const char *headers, const char *body,
                       char rule[64])
{
    struct xc_resp r;
    int st = req(method, path, headers, body, &r);
    xc_rule(&r, rule);
    char v[32];
    assert_true(xc_header(&r, "x-experience-api-version", v, sizeof(v)));
    xc_release(&r);
    return st;
}

static char *stmt_text(const char *id, const char *who, const char *verb, const char *obj)
{
    char *s = malloc(1024);
    snprintf(s, 1024,
             "{%s%s%s\"actor\":{\"mbox\":\"mailto:%s@example.org\"},\"verb\":{\"id\":\"%s\"},"
             "\"object\":{\"id\":\"%s\"}}",
             id ? "\"id\":\"" : "", id ? id : "", id ? "\"," : "", who, verb, obj);
    return s;
}

#define ANSWERED "http://adlnet.gov/expapi/verbs/answered"
#define AGENT_Q "agent=%7B%22mbox%22%3A%22mailto%3Apat%40example.org%22%7D"

static void test_headers(void **state)
{
    (void)state;
    char rule[64], v[32];
    struct xc_resp r;
    /* About needs neither version nor credentials and names both versions. */
    assert_int_equal(req("GET", "/xapi/about", NULL, NULL, &r), 200);
    assert_true(xc_header(&r, "x-experience-api-version", v, sizeof(v)));
    json_t *about = xc_json(&r);
    assert_int_equal(json_array_size(json_object_get(about, "version")), 2);
    json_decref(about);
    xc_release(&r);
    assert_int_equal(req("HEAD", "/xapi/about", NULL, NULL, &r), 200);
    assert_int_equal((int)r.body.len, 0);
    xc_release(&r);

    assert_int_equal(status_rule("GET", "/xapi/statements", XC_AUTH, NULL, rule), 400);
    assert_string_equal(rule, "xapi.version-header");
    assert_int_equal(status_rule("GET", "/xapi/statements",
                                 "X-Experience-API-Version: 0.95\r\n" XC_AUTH, NULL, rule),
                     400);
    assert_string_equal(rule, "xapi.version-header");
    assert_int_equal(status_rule("GET", "/xapi/statements", XC_V2, NULL, rule), 401);
    assert_string_equal(rule, "xapi.authentication");
    assert_int_equal(status_rule("GET", "/xapi/statements",
                                 XC_V2 "Authorization: Basic bHJzOndyb25n\r\n", NULL, rule),
                     401);
    /* An administrator's bearer token is a data source too. */
    char bearer[256];
    snprintf(bearer, sizeof(bearer), XC_V2 "Authorization: Bearer %s\r\n", srv.token);
    assert_int_equal(status_rule("GET", "/xapi/statements", bearer, NULL, rule), 200);

    /* 1.0.3 answers as 1.0.3; statement GETs carry Consistent-Through. */
    assert_int_equal(
        req("GET", "/xapi/statements", "X-Experience-API-Version: 1.0.3\r\n" XC_AUTH, NULL, &r),
        200);
    assert_true(xc_header(&r, "x-experience-api-version", v, sizeof(v)));
    assert_string_equal(v, "1.0.3");
    assert_true(xc_header(&r, "x-experience-api-consistent-through", v, sizeof(v)));
    xc_release(&r);

    /* Parameters: unknown, wrong case, repeated. */
    assert_int_equal(status_rule("GET", "/xapi/statements?Limit=1", H, NULL, rule), 400);
    assert_string_equal(rule, "xapi.parameter-case");
    assert_int_equal(status_rule("GET", "/xapi/statements?method=PUT", H, NULL, rule), 400);
    assert_string_equal(rule, "xapi.parameter-unknown");
    assert_int_equal(status_rule("GET", "/xapi/statements?limit=1&limit=2", H, NULL, rule), 400);
    assert_string_equal(rule, "xapi.parameter-repeated");
    assert_int_equal(status_rule("GET", "/xapi/statements?limit=-1", H, NULL, rule), 400);
    assert_int_equal(status_rule("GET", "/xapi/statements?since=yesterday", H, NULL, rule), 400);
    assert_int_equal(status_rule("GET", "/xapi/statements?verb=answered", H, NULL, rule), 400);
    assert_string_equal(rule, "xapi.parameter-iri");
    assert_int_equal(status_rule("GET", "/xapi/statements?agent=%7B%7D", H, NULL, rule), 400);
    assert_int_equal(status_rule("GET", "/xapi/statements?format=Exact", H, NULL, rule), 400);

    /* Content-Length, Content-Type, methods, resources. */
    assert_int_equal(status_rule("POST", "/xapi/statements", HJ, NULL, rule), 411);
    assert_string_equal(rule, "xapi.content-length");
    assert_int_equal(status_rule("POST", "/xapi/statements",
                                 XC_V2 XC_AUTH "Content-Type: multipart/form-data; boundary=x\r\n",
                                 "--x\r\n\r\n{}\r\n--x--", rule),
                     400);
    assert_string_equal(rule, "xapi.content-type");
    assert_int_equal(status_rule("DELETE", "/xapi/statements", H, NULL, rule), 405);
    assert_int_equal(status_rule("PATCH", "/xapi/statements", H, NULL, rule), 405);
    assert_int_equal(status_rule("GET", "/xapi/nothing", H, NULL, rule), 404);
    assert_string_equal(rule, "xapi.resource");
}

static void test_statements(void **state)
{
    (void)state;
    char rule[64];
    struct xc_resp r;
    const char *id = "a2b7c1e0-3f4d-4b6a-9c8d-0e1f2a3b4c5d";
    char *s = stmt_text(NULL, "pat", ANSWERED, "http://example.org/q/1");
    char path[256];
    snprintf(path, sizeof(path), "/xapi/statements?statementId=%s", id);

    /* PUT: stored, the same again is fine, a different one conflicts. */
    assert_int_equal(status_rule("PUT", path, HJ, s, rule), 204);
    assert_int_equal(status_rule("PUT", path, HJ, s, rule), 204);
    char *other = stmt_text(NULL, "pat", ANSWERED, "http://example.org/q/2");
    assert_int_equal(status_rule("PUT", path, HJ, other, rule), 409);
    assert_string_equal(rule, "statement.id-conflict");
    assert_int_equal(status_rule("PUT", "/xapi/statements", HJ, s, rule), 400);
    assert_string_equal(rule, "xapi.parameter-required");
    char *mismatch = stmt_text("00000000-0000-4000-8000-000000000001", "pat", ANSWERED,
                               "http://example.org/q/1");
    assert_int_equal(status_rule("PUT", path, HJ, mismatch, rule), 400);
    assert_string_equal(rule, "statement.id-mismatch");

    /* GET by id, with the stored properties the LRS sets. */
    assert_int_equal(req("GET", path, H, NULL, &r), 200);
    json_t *got = xc_json(&r);
    assert_string_equal(vt_json_get_str(got, "id"), id);
    assert_non_null(vt_json_get_str(got, "stored"));
    assert_non_null(json_object_get(got, "authority"));
    json_decref(got);
    xc_release(&r);
    assert_int_equal(req("HEAD", path, H, NULL, &r), 200);
    assert_int_equal((int)r.body.len, 0);
    xc_release(&r);
    assert_int_equal(
        status_rule("GET", "/xapi/statements?statementId=00000000-0000-4000-8000-0000000000ff", H,
                    NULL, rule),
        404);
    snprintf(path, sizeof(path), "/xapi/statements?statementId=%s&verb=" ANSWERED, id);
    assert_int_equal(status_rule("GET", path, H, NULL, rule), 400);
    assert_string_equal(rule, "xapi.parameter-combination");

    /* Validation names its rule; a batch is all-or-nothing. */
    assert_int_equal(status_rule("POST", "/xapi/statements", HJ,
                                 "{\"actor\":{\"mbox\":\"mailto:a@example.org\"},\"verb\":{\"id\":"
                                 "\"answered\"},\"object\":{\"id\":\"http://example.org/x\"}}",
                                 rule),
                     400);
    assert_string_equal(rule, "verb.id-iri");
    char batch[4096];
    snprintf(batch, sizeof(batch), "[%s,%s]", other, other);
    struct xc_resp b;
    assert_int_equal(req("POST", "/xapi/statements", HJ, batch, &b), 200);
    json_t *ids = xc_json(&b);
    assert_int_equal(json_array_size(ids), 2);
    json_decref(ids);
    xc_release(&b);
    char *conflicting = stmt_text(id, "pat", ANSWERED, "http://example.org/q/3");
    char *fresh = stmt_text("00000000-0000-4000-8000-0000000000aa", "pat", ANSWERED,
                            "http://example.org/q/4");
    snprintf(batch, sizeof(batch), "[%s,%s]", fresh, conflicting);
    assert_int_equal(status_rule("POST", "/xapi/statements", HJ, batch, rule), 409);
    assert_int_equal(
        status_rule("GET", "/xapi/statements?statementId=00000000-0000-4000-8000-0000000000aa", H,
                    NULL, rule),
        404);
    snprintf(batch, sizeof(batch), "[%s,%s]", fresh, fresh);
    assert_int_equal(status_rule("POST", "/xapi/statements", HJ, batch, rule), 400);
    assert_string_equal(rule, "batch.duplicate-id");

    /* Voiding through HTTP. */
    char voiding[1024];
    snprintf(voiding, sizeof(voiding),
             "{\"actor\":{\"mbox\":\"mailto:pat@example.org\"},\"verb\":{\"id\":"
             "\"http://adlnet.gov/expapi/verbs/voided\"},\"object\":{\"objectType\":"
             "\"StatementRef\",\"id\":\"%s\"}}",
             id);
    assert_int_equal(status_rule("POST", "/xapi/statements", HJ, voiding, rule), 200);
    snprintf(path, sizeof(path), "/xapi/statements?statementId=%s", id);
    assert_int_equal(status_rule("GET", path, H, NULL, rule), 404);
    snprintf(path, sizeof(path), "/xapi/statements?voidedStatementId=%s", id);
    assert_int_equal(status_rule("GET", path, H, NULL, rule), 200);

    free(s);
    free(other);
    free(mismatch);
    free(conflicting);
    free(fresh);
}

static void test_paging(void **state)
{
    (void)state;
    /* 25 statements of one verb, read 10 at a time through more. */
    struct vt_buf batch;
    vt_buf_init(&batch, 1 << 20);
    (void)vt_buf_append_str(&batch, "[", NULL);
    for (int i = 0; i < 25; i++) {
        char obj[64];
        snprintf(obj, sizeof(obj), "http://example.org/page/%d", i);
        char *s = stmt_text(NULL, "pager", "http://example.org/verbs/paged", obj);
        (void)vt_buf_printf(&batch, NULL, "%s%s", i ? "," : "", s);
        free(s);
    }
    (void)vt_buf_append_str(&batch, "]", NULL);
    struct xc_resp r;
    assert_int_equal(
        xc_request(srv.port, "POST", "/xapi/statements", HJ, batch.data, batch.len, &r), 200);
    xc_release(&r);
    vt_buf_release(&batch);

    char path[1024];
    snprintf(path, sizeof(path),
             "/xapi/statements?verb=http://example.org/verbs/paged&limit=10&ascending=true");
    int total = 0, pages = 0;
    json_t *seen = json_object();
    for (;;) {
        assert_int_equal(req("GET", path, H, NULL, &r), 200);
        json_t *res = xc_json(&r);
        xc_release(&r);
        json_t *list = json_object_get(res, "statements");
        size_t i;
        json_t *st;
        json_array_foreach(list, i, st) json_object_set(seen, vt_json_get_str(st, "id"), st);
        total += (int)json_array_size(list);
        pages++;
        const char *more = vt_json_get_str(res, "more");
        assert_non_null(more);
        if (!*more) {
            json_decref(res);
            break;
        }
        assert_int_equal(strncmp(more, "/xapi/statements?more=", 22), 0);
        snprintf(path, sizeof(path), "%s", more);
        json_decref(res);
        assert_true(pages < 10);
    }
    assert_int_equal(total, 25);
    assert_int_equal((int)json_object_size(seen), 25);
    assert_int_equal(pages, 3);
    json_decref(seen);

    /* Agent and since filters, and the ids format. */
    assert_int_equal(
        req("GET",
            "/xapi/statements?agent=%7B%22mbox%22%3A%22mailto%3Apager%40example.org%22%7D"
            "&since=2000-01-01T00:00:00Z&format=ids&limit=5",
            H, NULL, &r),
        200);
    json_t *res = xc_json(&r);
    xc_release(&r);
    assert_int_equal(json_array_size(json_object_get(res, "statements")), 5);
    json_decref(res);
}

static void test_attachments(void **state)
{
    (void)state;
    const char *payload = "here is a simple attachment";
    uint8_t d[32];
    vt_sha256(payload, strlen(payload), d);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    char stmt[2048];
    snprintf(stmt, sizeof(stmt),
             "{\"id\":\"00000000-0000-4000-8000-00000000a77a\",\"actor\":{\"mbox\":"
             "\"mailto:att@example.org\"},\"verb\":{\"id\":\"" ANSWERED "\"},\"object\":{\"id\":"
             "\"http://example.org/att\"},\"attachments\":[{\"usageType\":\"http://example.org/"
             "usage\",\"display\":{\"en-US\":\"A\"},\"contentType\":\"text/plain\",\"length\":%zu,"
             "\"sha2\":\"%s\"}]}",
             strlen(payload), hex);
    char body[4096];
    snprintf(body, sizeof(body),
             "--abc\r\nContent-Type:application/json\r\n\r\n%s\r\n--abc\r\nContent-Type:text/"
             "plain\r\nContent-Transfer-Encoding:binary\r\nX-Experience-API-Hash:%s\r\n\r\n%s\r\n"
             "--abc--",
             stmt, hex, payload);
    char rule[64];
    /* JSON alone is refused when the attachment has no fileUrl. */
    assert_int_equal(status_rule("POST", "/xapi/statements", HJ, stmt, rule), 400);
    assert_string_equal(rule, "attachment.part-missing");
    const char *mh = XC_V2 XC_AUTH "Content-Type: multipart/mixed; boundary=abc\r\n";
    assert_int_equal(status_rule("POST", "/xapi/statements", mh, body, rule), 200);

    /* A wrong hash is refused. */
    char bad[4096];
    snprintf(bad, sizeof(bad), "%s", body);
    char *h = strstr(bad, "X-Experience-API-Hash:");
    h[22] = h[22] == 'a' ? 'b' : 'a';
    assert_int_equal(status_rule("POST", "/xapi/statements", mh, bad, rule), 400);

    /* attachments=true answers multipart/mixed with the payload. */
    struct xc_resp r;
    assert_int_equal(req("GET",
                         "/xapi/statements?statementId=00000000-0000-4000-8000-00000000a77a"
                         "&attachments=true",
                         H, NULL, &r),
                     200);
    char ct[128];
    assert_true(xc_header(&r, "content-type", ct, sizeof(ct)));
    assert_int_equal(strncmp(ct, "multipart/mixed; boundary=", 26), 0);
    assert_non_null(xc_find(r.body.data, r.body.len, payload, strlen(payload)));
    assert_non_null(xc_find(r.body.data, r.body.len, hex, strlen(hex)));
    xc_release(&r);
}

static void test_documents(void **state)
{
    (void)state;
    char rule[64], etag[64], etag2[64];
    struct xc_resp r;
    const char *state_path =
        "/xapi/activities/state?activityId=http://example.org/a&" AGENT_Q "&stateId=bookmark";
    assert_int_equal(status_rule("PUT", state_path, HJ, "{\"page\":1}", rule), 204);
    assert_int_equal(status_rule("POST", state_path, HJ, "{\"line\":7}", rule), 204);
    assert_int_equal(req("GET", state_path, H, NULL, &r), 200);
    json_t *doc = xc_json(&r);
    assert_int_equal((int)json_number_value(json_object_get(doc, "page")), 1);
    assert_int_equal((int)json_number_value(json_object_get(doc, "line")), 7);
    json_decref(doc);
    assert_true(xc_header(&r, "etag", etag, sizeof(etag)));
    assert_true(etag[0] == '"');
    assert_true(xc_header(&r, "last-modified", etag2, sizeof(etag2)));
    xc_release(&r);
    assert_int_equal(status_rule("POST", state_path, XC_V2 XC_AUTH "Content-Type: text/plain\r\n",
                                 "plain", rule),
                     400);
    /* Empty PUT bodies are documents too. */
    assert_int_equal(status_rule("PUT",
                                 "/xapi/activities/state?activityId=http://example.org/a&" AGENT_Q
                                 "&stateId=empty",
                                 XC_V2 XC_AUTH "Content-Type: text/plain\r\nContent-Length: 0\r\n",
                                 NULL, rule),
                     204);
    /* The id list, and the set delete. */
    assert_int_equal(
        req("GET", "/xapi/activities/state?activityId=http://example.org/a&" AGENT_Q, H, NULL, &r),
        200);
    json_t *list = xc_json(&r);
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);
    xc_release(&r);
    assert_int_equal(
        status_rule("GET", "/xapi/activities/state?activityId=http://example.org/a", H, NULL, rule),
        400);
    assert_string_equal(rule, "xapi.parameter-required");
    assert_int_equal(status_rule("GET",
                                 "/xapi/activities/state?activityId=http://example.org/a&" AGENT_Q
                                 "&registration=nope",
                                 H, NULL, rule),
                     400);
    assert_int_equal(status_rule("DELETE",
                                 "/xapi/activities/state?activityId=http://example.org/a&" AGENT_Q,
                                 H, NULL, rule),
                     204);
    assert_int_equal(status_rule("GET", state_path, H, NULL, rule), 404);

    /* Profiles: concurrency with If-Match / If-None-Match. */
    const char *prof = "/xapi/activities/profile?activityId=http://example.org/a&profileId=p1";
    assert_int_equal(
        status_rule("PUT", prof, XC_V2 XC_AUTH XC_JSON "If-None-Match: *\r\n", "{\"v\":1}", rule),
        204);
    assert_int_equal(status_rule("PUT", prof, HJ, "{\"v\":2}", rule), 409);
    assert_string_equal(rule, "document.concurrency");
    assert_int_equal(
        status_rule("PUT", prof, XC_V2 XC_AUTH XC_JSON "If-None-Match: *\r\n", "{\"v\":2}", rule),
        412);
    assert_int_equal(req("GET", prof, H, NULL, &r), 200);
    assert_true(xc_header(&r, "etag", etag, sizeof(etag)));
    xc_release(&r);
    char hdr[256];
    snprintf(hdr, sizeof(hdr), XC_V2 XC_AUTH XC_JSON "If-Match: %s\r\n", etag);
    assert_int_equal(status_rule("PUT", prof, hdr, "{\"v\":3}", rule), 204);
    /* The old ETag no longer matches. */
    assert_int_equal(status_rule("PUT", prof, hdr, "{\"v\":4}", rule), 412);
    assert_string_equal(rule, "document.precondition");
    snprintf(hdr, sizeof(hdr), XC_V2 XC_AUTH "If-Match: %s\r\n", etag);
    assert_int_equal(status_rule("DELETE", prof, hdr, NULL, rule), 412);
    assert_int_equal(status_rule("DELETE", prof, H, NULL, rule), 204);
    assert_int_equal(status_rule("GET",
                                 "/xapi/activities/profile?activityId="
                                 "urn:vitae:xapi:attachments&profileId=x",
                                 H, NULL, rule),
                     400);

    /* Agent profile, Agents and Activities. */
    const char *ap = "/xapi/agents/profile?" AGENT_Q "&profileId=prefs";
    assert_int_equal(status_rule("PUT", ap, XC_V2 XC_AUTH XC_JSON "If-None-Match: *\r\n",
                                 "{\"lang\":\"en\"}", rule),
                     204);
    assert_int_equal(req("GET", ap, H, NULL, &r), 200);
    xc_release(&r);
    assert_int_equal(req("GET", "/xapi/agents?" AGENT_Q, H, NULL, &r), 200);
    json_t *person = xc_json(&r);
    assert_string_equal(vt_json_get_str(person, "objectType"), "Person");
    json_decref(person);
    xc_release(&r);
    assert_int_equal(status_rule("GET", "/xapi/agents", H, NULL, rule), 400);
    assert_int_equal(req("GET", "/xapi/activities?activityId=http://example.org/q/1", H, NULL, &r),
                     200);
    json_t *act = xc_json(&r);
    assert_string_equal(vt_json_get_str(act, "objectType"), "Activity");
    json_decref(act);
    xc_release(&r);
    assert_int_equal(
        status_rule("POST", "/xapi/activities?activityId=http://example.org/q/1", HJ, "{}", rule),
        405);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers),   cmocka_unit_test(test_statements),
        cmocka_unit_test(test_paging),    cmocka_unit_test(test_attachments),
        cmocka_unit_test(test_documents),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
