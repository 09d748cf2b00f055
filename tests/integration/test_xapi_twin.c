/*
 * End to end: an xAPI client with Basic credentials posts attempt statements (verb
 * answered, result.success, skills in the urn:vitae:xapi:skills extension) and the
 * learner's twin, read over the WebSocket API, counts them. The learner id is the one the store
 * derives from the actor (specs/xapi.md §6).
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

static void learner_of(const char *key, char hex[33])
{
    static const char domain[] = "vitae/xapi/learner/v1\n";
    size_t n = strlen(domain) + strlen(key);
    char *m = malloc(n);
    memcpy(m, domain, strlen(domain));
    memcpy(m + strlen(domain), key, strlen(key));
    uint8_t d[32];
    vt_sha256(m, n, d);
    free(m);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static int twin_attempts(int fd, const char *learner)
{
    json_t *r = itest_rpc(fd, "twin.get", json_pack("{s:s}", "learner", learner));
    int attempts = -1;
    if (itest_rpc_code(r) == 0)
        attempts = (int)json_number_value(json_object_get(itest_result(r), "attempts"));
    json_decref(r);
    return attempts;
}

static void test_statements_reach_the_twin(void **state)
{
    (void)state;
    char learner[33];
    learner_of("mbox:mailto:ada@example.org", learner);
    int fd = itest_ws_connect(srv.port, "/v1", "vitae.v1", srv.token, NULL);
    assert_true(fd >= 0);
    assert_true(twin_attempts(fd, learner) <= 0);
    /* Attempts count against the skills of a framework. */
    json_t *fw = itest_rpc(fd, "framework.import",
                           json_pack("{s:s,s:s,s:s,s:s}", "format", "csv", "id", "math", "name",
                                     "Mathematics", "data",
                                     "id,name,prerequisites\nfractions,Fractions,\n"));
    assert_int_equal(itest_rpc_code(fw), 0);
    json_decref(fw);

    char body[4096];
    int o = snprintf(body, sizeof(body), "[");
    for (int i = 0; i < 4; i++) {
        o += snprintf(body + o, sizeof(body) - (size_t)o,
                      "%s{\"actor\":{\"mbox\":\"mailto:ada@example.org\"},\"verb\":{\"id\":"
                      "\"http://adlnet.gov/expapi/verbs/answered\"},\"object\":{\"id\":"
                      "\"http://example.org/items/frac-%d\"},\"result\":{\"success\":%s,"
                      "\"duration\":\"PT30S\"},\"context\":{\"extensions\":{\"urn:vitae:xapi:"
                      "skills\":[\"fractions\"]}},\"timestamp\":\"2024-05-0%dT10:00:00Z\"}",
                      i ? "," : "", i, i % 2 ? "false" : "true", i + 1);
    }
    snprintf(body + o, sizeof(body) - (size_t)o, "]");
    struct xc_resp r;
    assert_int_equal(xc_request(srv.port, "POST", "/xapi/statements", XC_V2 XC_AUTH XC_JSON, body,
                                strlen(body), &r),
                     200);
    xc_release(&r);
    /* twin.get catches the twin up with the ledger before it answers. */
    assert_int_equal(twin_attempts(fd, learner), 4);
    json_t *sk = itest_rpc(fd, "twin.skills", json_pack("{s:s}", "learner", learner));
    assert_int_equal(itest_rpc_code(sk), 0);
    assert_int_equal((int)json_number_value(json_object_get(itest_result(sk), "total")), 1);
    json_decref(sk);

    /* A verb the twin does not read leaves it as it was. */
    const char *other = "{\"actor\":{\"mbox\":\"mailto:ada@example.org\"},\"verb\":{\"id\":"
                        "\"http://adlnet.gov/expapi/verbs/experienced\"},\"object\":{\"id\":"
                        "\"http://example.org/items/video\"}}";
    assert_int_equal(xc_request(srv.port, "POST", "/xapi/statements", XC_V2 XC_AUTH XC_JSON, other,
                                strlen(other), &r),
                     200);
    xc_release(&r);
    assert_int_equal(twin_attempts(fd, learner), 4);
    itest_ws_close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statements_reach_the_twin),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
