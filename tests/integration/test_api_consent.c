/* Consent: a learner's signed grant lets one audience read one scope until it expires or is
 * revoked; grants survive a restart because they live in the ledger. */
#include "itest.h"

#include <string.h>
#include <time.h>

#include "test_support.h"

static void in_future(int seconds, char out[VT_TIME_MAX])
{
    vt_time_format((vt_time_now_ms() / 1000 + seconds) * 1000, out);
}

static int code_of(int fd, const char *method, json_t *params)
{
    json_t *r = itest_rpc(fd, method, params);
    int c = itest_rpc_code(r);
    json_decref(r);
    return c;
}

static void test_consent(void **state)
{
    (void)state;
    assert_int_equal(vt_core_init(NULL), VT_OK);
    struct itest_server srv;
    itest_tempdir(srv.dir);
    itest_start(&srv, srv.dir, NULL);
    int admin = itest_ws_connect(srv.port, "/v1", "vitae.v1", srv.token, NULL);
    struct vt_key lk, vk, hk;
    vt_key_generate(&lk);
    vt_key_generate(&vk);
    vt_key_generate(&hk);
    char learner[33], other[33];
    itest_principal(admin, &lk, "learner", learner);
    itest_principal(admin, &vk, "verifier", NULL);
    itest_principal(admin, &hk, "hr", NULL);
    struct vt_key ok;
    vt_key_generate(&ok);
    itest_principal(admin, &ok, "learner", other);
    char vdid[VT_DIDKEY_MAX], hdid[VT_DIDKEY_MAX];
    vt_didkey_from_public(vk.pk, vdid);
    vt_didkey_from_public(hk.pk, hdid);
    assert_int_equal(code_of(admin, "ledger.append",
                             json_pack("{s:s,s:s,s:{s:i}}", "learner", learner, "type",
                                       "assessment", "payload", "grade", 90)),
                     0);
    int lfd = itest_connect_as(&srv, &lk);
    int vfd = itest_connect_as(&srv, &vk);
    int hfd = itest_connect_as(&srv, &hk);
    json_t *read = json_pack("{s:s}", "learner", learner);

    /* Own record yes, someone else's no; the verifier needs consent. */
    assert_int_equal(code_of(lfd, "ledger.read", json_deep_copy(read)), 0);
    assert_int_equal(code_of(lfd, "ledger.head", json_pack("{s:s}", "learner", other)), -32002);
    assert_int_equal(code_of(vfd, "ledger.read", json_deep_copy(read)), -32002);

    char exp[VT_TIME_MAX];
    in_future(3600, exp);
    json_t *g = itest_consent(&lk, learner, vdid, "[\"ledger.read\"]", exp);
    /* Signed by the wrong key: refused. */
    json_t *forged = itest_consent(&vk, learner, vdid, "[\"ledger.read\"]", exp);
    assert_int_equal(code_of(vfd, "consent.grant", forged), -32008);
    json_t *r = itest_rpc(vfd, "consent.grant", json_deep_copy(g));
    assert_int_equal(itest_rpc_code(r), 0);
    char id[80];
    snprintf(id, sizeof(id), "%s", vt_json_get_str(itest_result(r), "id"));
    json_decref(r);
    assert_int_equal(code_of(vfd, "consent.grant", json_deep_copy(g)), -32011);
    assert_int_equal(code_of(vfd, "ledger.read", json_deep_copy(read)), 0);
    assert_int_equal(code_of(vfd, "ledger.verify", json_deep_copy(read)), 0);
    /* The grant names its audience and scope. */
    assert_int_equal(code_of(hfd, "ledger.read", json_deep_copy(read)), -32002);
    json_t *gh = itest_consent(&lk, learner, hdid, "[\"twin.read\"]", exp);
    assert_int_equal(code_of(lfd, "consent.grant", gh), 0);
    assert_int_equal(code_of(hfd, "ledger.read", json_deep_copy(read)), -32002);
    json_t *gh2 = itest_consent(&lk, learner, hdid, "[\"ledger.read\",\"twin.read\"]", exp);
    assert_int_equal(code_of(lfd, "consent.grant", gh2), 0);
    assert_int_equal(code_of(hfd, "ledger.read", json_deep_copy(read)), 0);

    /* Expired at grant time, and expiring later. */
    char past[VT_TIME_MAX];
    in_future(-60, past);
    assert_int_equal(
        code_of(lfd, "consent.grant", itest_consent(&lk, learner, vdid, "[\"twin.read\"]", past)),
        -32602);
    char soon[VT_TIME_MAX];
    in_future(2, soon);
    struct vt_key xk;
    vt_key_generate(&xk);
    itest_principal(admin, &xk, "reviewer", NULL);
    char xdid[VT_DIDKEY_MAX];
    vt_didkey_from_public(xk.pk, xdid);
    int xfd = itest_connect_as(&srv, &xk);
    assert_int_equal(
        code_of(lfd, "consent.grant", itest_consent(&lk, learner, xdid, "[\"ledger.read\"]", soon)),
        0);
    assert_int_equal(code_of(xfd, "ledger.head", json_deep_copy(read)), 0);
    struct timespec ts = {3, 0};
    nanosleep(&ts, NULL);
    assert_int_equal(code_of(xfd, "ledger.head", json_deep_copy(read)), -32002);

    /* The list shows every state; only the learner (or an admin) may see it. */
    r = itest_rpc(lfd, "consent.list", json_deep_copy(read));
    assert_int_equal(json_array_size(json_object_get(itest_result(r), "grants")), 4);
    json_decref(r);
    assert_int_equal(code_of(vfd, "consent.list", json_deep_copy(read)), -32002);

    /* Revocation. */
    assert_int_equal(
        code_of(vfd, "consent.revoke", json_pack("{s:s,s:s}", "learner", learner, "id", id)),
        -32002);
    assert_int_equal(
        code_of(lfd, "consent.revoke", json_pack("{s:s,s:s}", "learner", learner, "id", id)), 0);
    assert_int_equal(
        code_of(lfd, "consent.revoke", json_pack("{s:s,s:s}", "learner", learner, "id", id)),
        -32004);
    assert_int_equal(code_of(vfd, "ledger.read", json_deep_copy(read)), -32002);
    itest_ws_close(xfd);
    itest_ws_close(lfd);
    itest_ws_close(vfd);
    itest_ws_close(hfd);
    itest_ws_close(admin);
    json_decref(g);

    /* After a restart the index is rebuilt from the ledger. */
    assert_int_equal(itest_stop(&srv, 15), 0);
    itest_start(&srv, srv.dir, NULL);
    vfd = itest_connect_as(&srv, &vk);
    hfd = itest_connect_as(&srv, &hk);
    assert_int_equal(code_of(vfd, "ledger.read", json_deep_copy(read)), -32002);
    assert_int_equal(code_of(hfd, "ledger.read", json_deep_copy(read)), 0);
    itest_ws_close(vfd);
    itest_ws_close(hfd);
    json_decref(read);
    assert_int_equal(itest_stop(&srv, 2), 0);
    assert_int_equal(itest_check(srv.dir), 0);
    itest_rmrf(srv.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_consent)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
