/* Issuance through the issuer (status slot, credential.issued event, evidence, formats),
 * revocation and suspension, GET /status/<id>, and the state surviving a restart. */
#include "itest.h"

#include <string.h>

#include "test_support.h"

static struct itest_server srv;

static int expect(int fd, const char *method, json_t *params, int code)
{
    json_t *r = itest_rpc(fd, method, params);
    int got = itest_rpc_code(r);
    if (got != code)
        fprintf(stderr, "%s: expected %d, got %d: %s\n", method, code, got,
                json_dumps(r, JSON_COMPACT));
    json_decref(r);
    return got;
}

static json_t *call_ok(int fd, const char *method, json_t *params)
{
    json_t *r = itest_rpc(fd, method, params);
    if (itest_rpc_code(r) != 0)
        fprintf(stderr, "%s: %s\n", method, json_dumps(r, JSON_COMPACT));
    assert_int_equal(itest_rpc_code(r), 0);
    json_t *res = json_incref(itest_result(r));
    json_decref(r);
    return res;
}

static bool verified(int fd, json_t *vc)
{
    json_t *r = call_ok(fd, "credential.verify", json_pack("{s:O}", "verifiableCredential", vc));
    bool ok = json_is_true(json_object_get(r, "verified"));
    json_decref(r);
    return ok;
}

static json_t *status_of(int fd, json_t *vc)
{
    return call_ok(fd, "credential.status", json_pack("{s:O}", "credential", vc));
}

static json_t *http_json(const char *path, int *status)
{
    struct vt_buf b;
    vt_buf_init(&b, 1 << 24);
    *status = itest_http(srv.port, "GET", path, NULL, NULL, 0, &b);
    json_t *doc = NULL;
    (void)vt_json_parse((const char *)b.data, b.len, b.len, 64, &doc, NULL);
    vt_buf_release(&b);
    return doc;
}

static void test_status(void **state)
{
    (void)state;
    assert_int_equal(vt_core_init(NULL), VT_OK);
    itest_tempdir(srv.dir);
    itest_start(&srv, srv.dir, NULL);
    int admin = itest_ws_connect(srv.port, "/v1", "vitae.v1", srv.token, NULL);
    struct vt_key lk;
    vt_key_generate(&lk);
    char learner[33], ldid[VT_DIDKEY_MAX];
    vt_didkey_from_public(lk.pk, ldid);
    itest_principal(admin, &lk, "learner", learner);

    /* Evidence: one of the learner's events; the subject DID names the learner. */
    json_t *ev = call_ok(admin, "ledger.append",
                         json_pack("{s:s,s:s,s:{s:i}}", "learner", learner, "type", "attempt",
                                   "payload", "score", 1));
    json_int_t evidence = (json_int_t)json_number_value(json_object_get(ev, "index"));
    json_decref(ev);
    json_t *badge = itest_badge(ldid, "urn:example:achievement:fractions");
    json_t *iss = call_ok(admin, "credential.issue",
                          json_pack("{s:O,s:[I],s:[s,s,s]}", "credential", badge, "evidence",
                                    evidence, "formats", "di", "jwt", "cose"));
    json_t *vc = json_incref(json_object_get(iss, "verifiableCredential"));
    assert_non_null(vc);
    assert_non_null(vt_json_get_str(iss, "jwt"));
    assert_non_null(vt_json_get_str(iss, "cose_b64u"));
    assert_non_null(json_object_get(vc, "evidence"));
    json_int_t list =
        (json_int_t)json_number_value(json_object_get(json_object_get(iss, "status"), "list"));
    json_int_t index =
        (json_int_t)json_number_value(json_object_get(json_object_get(iss, "status"), "index"));
    json_int_t issued_at = (json_int_t)json_number_value(json_object_get(iss, "ledger_index"));

    /* The learner's chain holds the credential.issued event. */
    json_t *rd = call_ok(admin, "ledger.read", json_pack("{s:s}", "learner", learner));
    json_t *events = json_object_get(rd, "events");
    json_t *last = json_array_get(events, json_array_size(events) - 1);
    assert_string_equal(vt_json_get_str(last, "type"), "credential.issued");
    assert_int_equal((json_int_t)json_number_value(json_object_get(last, "index")), issued_at);
    json_decref(rd);

    int anon = itest_ws_connect(srv.port, "/v1", "vitae.v1", NULL, NULL);
    assert_true(verified(anon, vc));
    json_t *jwt = json_incref(json_object_get(iss, "jwt"));
    assert_true(verified(anon, jwt));
    json_t *st = status_of(anon, vc);
    assert_true(json_is_false(json_object_get(st, "revoked")));
    assert_true(json_is_false(json_object_get(st, "suspended")));
    json_decref(st);

    /* The status list credential is served, signed, and verifies. */
    char path[64];
    snprintf(path, sizeof(path), "/status/revocation-%lld", (long long)list);
    int code;
    json_t *sl = http_json(path, &code);
    assert_int_equal(code, 200);
    assert_non_null(json_object_get(sl, "proof"));
    assert_true(verified(anon, sl));
    json_decref(sl);
    json_decref(http_json("/status/revocation-999", &code));
    assert_int_equal(code, 404);
    json_decref(http_json("/status/nonsense", &code));
    assert_int_equal(code, 404);

    /* Suspend, lift, revoke. */
    st = call_ok(admin, "credential.suspend", json_pack("{s:O}", "credential", vc));
    assert_true(json_is_true(json_object_get(st, "suspended")));
    json_decref(st);
    assert_false(verified(anon, vc));
    st = call_ok(admin, "credential.unsuspend",
                 json_pack("{s:I,s:I}", "list", list, "index", index));
    assert_true(json_is_false(json_object_get(st, "suspended")));
    json_decref(st);
    assert_true(verified(anon, vc));
    st = call_ok(admin, "credential.revoke", json_pack("{s:O}", "credential", vc));
    assert_true(json_is_true(json_object_get(st, "revoked")));
    json_decref(st);
    assert_false(verified(anon, vc));
    assert_false(verified(anon, jwt));
    st = call_ok(admin, "credential.revoke", json_pack("{s:O}", "credential", vc)); /* again */
    json_decref(st);
    assert_int_equal(
        expect(admin, "credential.unsuspend", json_pack("{s:O}", "credential", vc), -32004),
        -32004);
    assert_int_equal(
        expect(admin, "credential.suspend", json_pack("{s:O}", "credential", vc), -32004), -32004);

    /* Errors: unknown slot, no status entry, no slot named, roles. */
    assert_int_equal(
        expect(anon, "credential.status", json_pack("{s:i,s:i}", "list", 77, "index", 1), -32003),
        -32003);
    json_t *plain = json_pack("{s:[s],s:[s]}", "@context", "https://www.w3.org/ns/credentials/v2",
                              "type", "VerifiableCredential");
    assert_int_equal(
        expect(anon, "credential.status", json_pack("{s:O}", "credential", plain), -32003), -32003);
    json_decref(plain);
    assert_int_equal(expect(anon, "credential.status", json_pack("{s:i}", "list", 0), -32602),
                     -32602);
    assert_int_equal(
        expect(anon, "credential.revoke", json_pack("{s:O}", "credential", vc), -32001), -32001);
    int lfd = itest_connect_as(&srv, &lk);
    assert_int_equal(
        expect(lfd, "credential.suspend", json_pack("{s:O}", "credential", vc), -32002), -32002);
    assert_int_equal(
        expect(lfd, "credential.issue", json_pack("{s:O}", "credential", badge), -32002), -32002);
    itest_ws_close(lfd);
    /* Evidence that is not the learner's. */
    assert_int_equal(
        expect(admin, "credential.issue",
               json_pack("{s:O,s:s,s:[i]}", "credential", badge, "learner",
                         "0000000000000000000000000000beef", "evidence", (int)evidence),
               -32602),
        -32602);

    /* The issuer replays its chain: the revocation survives a restart. */
    itest_ws_close(anon);
    itest_ws_close(admin);
    assert_int_equal(itest_stop(&srv, 15), 0);
    assert_int_equal(itest_check(srv.dir), 0);
    itest_start(&srv, srv.dir, NULL);
    anon = itest_ws_connect(srv.port, "/v1", "vitae.v1", NULL, NULL);
    st = call_ok(anon, "credential.status", json_pack("{s:I,s:I}", "list", list, "index", index));
    assert_true(json_is_true(json_object_get(st, "revoked")));
    json_decref(st);
    json_decref(http_json(path, &code));
    assert_int_equal(code, 200);
    itest_ws_close(anon);

    json_decref(jwt);
    json_decref(vc);
    json_decref(iss);
    json_decref(badge);
    vt_key_release(&lk);
    assert_int_equal(itest_stop(&srv, 15), 0);
    assert_int_equal(itest_check(srv.dir), 0);
    itest_rmrf(srv.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_status)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
