/* HTTP on the vitaed port: health, metrics, DID document, log, VC-API, errors. */
#include "itest.h"

#include <string.h>

#include "test_support.h"

static struct itest_server srv;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(vt_core_init(NULL), VT_OK);
    itest_tempdir(srv.dir);
    itest_start(&srv, srv.dir, NULL);
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

static json_t *get_json(const char *method, const char *path, const char *headers, const char *body,
                        int *status)
{
    struct vt_buf b;
    vt_buf_init(&b, 1 << 24);
    *status = itest_http(srv.port, method, path, headers, body, body ? strlen(body) : 0, &b);
    json_t *doc = NULL;
    (void)vt_json_parse((const char *)b.data, b.len, b.len, 64, &doc, NULL);
    vt_buf_release(&b);
    return doc;
}

static void test_healthz(void **state)
{
    (void)state;
    int st;
    json_t *d = get_json("GET", "/healthz", NULL, NULL, &st);
    assert_int_equal(st, 200);
    assert_string_equal(vt_json_get_str(d, "status"), "ok");
    json_decref(d);
    struct vt_buf b;
    vt_buf_init(&b, 1024);
    assert_int_equal(itest_http(srv.port, "HEAD", "/healthz", NULL, NULL, 0, NULL), 200);
    assert_int_equal(itest_http(srv.port, "POST", "/healthz", "Content-Type: application/json\r\n",
                                "{}", 2, NULL),
                     405);
    assert_int_equal(itest_http(srv.port, "GET", "/nowhere", NULL, NULL, 0, NULL), 404);
    assert_int_equal(itest_http(srv.port, "DELETE", "/healthz", NULL, NULL, 0, NULL), 405);
    vt_buf_release(&b);
}

static void test_did_document(void **state)
{
    (void)state;
    int st;
    json_t *d = get_json("GET", "/.well-known/did.json", NULL, NULL, &st);
    assert_int_equal(st, 200);
    const char *id = vt_json_get_str(d, "id");
    assert_non_null(id);
    assert_int_equal(strncmp(id, "did:web:127.0.0.1%3A", 20), 0);
    assert_non_null(vt_json_get_arr(d, "assertionMethod"));
    json_decref(d);
}

static void test_log(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    assert_int_equal(itest_http(srv.port, "GET", "/log/checkpoint", NULL, NULL, 0, &b), 404);
    /* One event makes a checkpoint and a partial tile. */
    int fd = itest_ws_connect(srv.port, "/v1", "vitae.v1", srv.token, NULL);
    assert_true(fd >= 0);
    json_t *r =
        itest_rpc(fd, "ledger.append",
                  json_pack("{s:s,s:s,s:{s:i}}", "learner", "0123456789abcdef0123456789abcdef",
                            "type", "attempt", "payload", "score", 1));
    assert_int_equal(itest_rpc_code(r), 0);
    json_decref(r);
    itest_ws_close(fd);
    vt_buf_reset(&b);
    assert_int_equal(itest_http(srv.port, "GET", "/log/checkpoint", NULL, NULL, 0, &b), 200);
    assert_non_null(strstr((const char *)b.data, "vitae.local/ledger\n1\n"));
    vt_buf_reset(&b);
    assert_int_equal(itest_http(srv.port, "GET", "/log/tile/0/000.p/1", NULL, NULL, 0, &b), 200);
    assert_int_equal(b.len, 32);
    assert_int_equal(itest_http(srv.port, "GET", "/log/tile/0/000", NULL, NULL, 0, NULL), 404);
    assert_int_equal(itest_http(srv.port, "GET", "/log/tile/0/0", NULL, NULL, 0, NULL), 404);
    vt_buf_release(&b);
}

static void test_metrics(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 1 << 22);
    assert_int_equal(itest_http(srv.port, "GET", "/healthz", NULL, NULL, 0, NULL), 200);
    assert_int_equal(itest_http(srv.port, "GET", "/metrics", NULL, NULL, 0, &b), 200);
    const char *t = (const char *)b.data;
    assert_non_null(strstr(t, "# TYPE vitae_rpc_requests_total counter"));
    assert_non_null(strstr(t, "vitae_http_requests_total{route=\"/healthz\",code=\"2xx\"}"));
    assert_non_null(
        strstr(t, "vitae_http_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"}"));
    assert_non_null(strstr(t, "vitae_ledger_events "));
    assert_non_null(strstr(t, "vitae_connections{kind=\"websocket\"}"));
    assert_non_null(strstr(t, "vitae_append_batch_events_count "));
    vt_buf_release(&b);
}

static void test_vc_api(void **state)
{
    (void)state;
    int st;
    const char *json = "Content-Type: application/json\r\n";
    json_t *badge = json_pack("{s:o,s:{s:s}}", "credential",
                              itest_badge("did:example:learner", "urn:example:achievement:1"),
                              "options", "learner", "0123456789abcdef0123456789abcdef");
    char *cred = json_dumps(badge, JSON_COMPACT);
    json_decref(badge);
    json_t *d = get_json("POST", "/credentials/issue", json, cred, &st);
    assert_int_equal(st, 401);
    json_decref(d);
    char auth[256];
    snprintf(auth, sizeof(auth), "%sAuthorization: Bearer %s\r\n", json, srv.token);
    d = get_json("POST", "/credentials/issue", auth, cred, &st);
    assert_int_equal(st, 201);
    json_t *vc = json_object_get(d, "verifiableCredential");
    assert_non_null(json_object_get(vc, "proof"));

    json_t *req = json_pack("{s:O}", "verifiableCredential", vc);
    char *body = json_dumps(req, JSON_COMPACT);
    json_t *v = get_json("POST", "/credentials/verify", json, body, &st);
    assert_int_equal(st, 200);
    assert_true(json_is_true(json_object_get(v, "verified")));
    json_decref(v);
    free(body);
    /* Tampering is a 400 with reasons. */
    json_object_set_new(json_object_get(vc, "credentialSubject"), "id",
                        json_string("did:example:y"));
    body = json_dumps(req, JSON_COMPACT);
    v = get_json("POST", "/credentials/verify", json, body, &st);
    assert_int_equal(st, 400);
    assert_true(json_is_false(json_object_get(v, "verified")));
    assert_true(json_array_size(json_object_get(v, "errors")) > 0);
    json_decref(v);
    free(body);
    json_decref(req);
    json_decref(d);
    free(cred);

    d = get_json("POST", "/challenges", json, "{}", &st);
    assert_int_equal(st, 200);
    assert_non_null(vt_json_get_str(d, "challenge"));
    json_decref(d);
    d = get_json("POST", "/presentations/verify", json, "{\"options\":{}}", &st);
    assert_int_equal(st, 400);
    json_decref(d);
}

static void test_http_errors(void **state)
{
    (void)state;
    int st;
    json_t *d = get_json("POST", "/credentials/verify", "Content-Type: text/plain\r\n", "{}", &st);
    assert_int_equal(st, 415);
    json_decref(d);
    d = get_json("POST", "/credentials/verify", "Content-Type: application/json\r\n", "{bad", &st);
    assert_int_equal(st, 400);
    json_decref(d);
    /* Bodies over max_message are refused from the declared length, before any is read. */
    assert_int_equal(itest_http(srv.port, "POST", "/credentials/verify",
                                "Content-Type: application/json\r\nContent-Length: 1048577\r\n",
                                NULL, 0, NULL),
                     413);
    /* POST without Content-Length. */
    assert_int_equal(itest_http(srv.port, "POST", "/credentials/verify",
                                "Content-Type: application/json\r\n", NULL, 0, NULL),
                     411);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthz), cmocka_unit_test(test_did_document),
        cmocka_unit_test(test_log),     cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_vc_api),  cmocka_unit_test(test_http_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
