/*
 * Robustness of the WebSocket front: the per-address connection cap, the per-principal
 * token bucket, a client that never reads, and malformed frames. Each case checks that
 * the offender is contained and that everyone else is still served.
 */
#include "itest.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

static const char *L1 = "00000000000000000000000000000a11";

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Closing is asynchronous on the server side: retry an upgrade while an earlier close of
 * ours is still being counted. A readiness wait, bounded, not a timing check. */
static int connect_retry(const struct itest_server *s, const char *bearer)
{
    for (int i = 0; i < 2000; i++) {
        int fd = itest_ws_connect(s->port, "/v1", "vitae.v1", bearer, NULL);
        if (fd >= 0)
            return fd;
        nap_ms(10);
    }
    fail_msg("cannot connect");
    return -1;
}

static int rpc_code(int fd, const char *method, json_t *params)
{
    json_t *r = itest_rpc(fd, method, params);
    int code = itest_rpc_code(r);
    json_decref(r);
    return code;
}

/* ---------------------------------------------------------------------------------------
 * Limits: connections per address and requests per principal
 */

static void test_conn_cap(void **state)
{
    (void)state;
    struct itest_server s;
    itest_tempdir(s.dir);
    const char *extra[] = {"max_conns_per_addr=3", NULL};
    itest_start(&s, s.dir, extra);
    int fds[3];
    for (int i = 0; i < 3; i++)
        fds[i] = connect_retry(&s, NULL);
    int st = 0;
    assert_int_equal(itest_ws_connect(s.port, "/v1", "vitae.v1", NULL, &st), -1);
    assert_int_not_equal(st, 101);
    /* The capped clients keep working, and plain HTTP is not counted against the cap. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(rpc_code(fds[i], "auth.whoami", NULL), 0);
    struct vt_buf body;
    vt_buf_init(&body, 1 << 20);
    assert_int_equal(itest_http(s.port, "GET", "/healthz", NULL, NULL, 0, &body), 200);
    vt_buf_reset(&body);
    assert_int_equal(itest_http(s.port, "GET", "/metrics", NULL, NULL, 0, &body), 200);
    assert_non_null(strstr((const char *)body.data, "reason=\"conns_per_addr\""));
    vt_buf_release(&body);
    /* A slot freed by a close is given to the next client. */
    itest_ws_close(fds[0]);
    fds[0] = connect_retry(&s, NULL);
    assert_int_equal(rpc_code(fds[0], "auth.whoami", NULL), 0);
    for (int i = 0; i < 3; i++)
        itest_ws_close(fds[i]);
    assert_int_equal(itest_stop(&s, 15), 0);
    assert_int_equal(itest_check(s.dir), 0);
    itest_rmrf(s.dir);
}

static void test_rate(void **state)
{
    (void)state;
    struct itest_server s;
    itest_tempdir(s.dir);
    /* Practically no refill: a bucket holds exactly `burst` requests. */
    const char *extra[] = {"rate=0.0001", "burst=12", NULL};
    itest_start(&s, s.dir, extra);

    int admin = connect_retry(&s, s.token);
    struct vt_key other;
    vt_key_generate(&other);
    itest_principal(admin, &other, "verifier", NULL); /* the admin's first request */
    int spent = 1;
    while (spent < 12) {
        assert_int_equal(rpc_code(admin, "auth.whoami", NULL), 0);
        spent++;
    }
    json_t *r = itest_rpc(admin, "auth.whoami", NULL);
    assert_int_equal(itest_rpc_code(r), -32005);
    json_decref(r);
    /* The bucket belongs to the principal, not to the connection. */
    int admin2 = connect_retry(&s, s.token);
    assert_int_equal(rpc_code(admin2, "auth.whoami", NULL), -32005);
    /* Others have their own buckets: another principal, and an anonymous connection. */
    int anon = connect_retry(&s, NULL);
    assert_int_equal(rpc_code(anon, "auth.whoami", NULL), 0);
    int v = itest_connect_as(&s, &other); /* challenge + login: the anonymous bucket */
    assert_int_equal(
        rpc_code(v, "credential.verify", json_pack("{s:s}", "verifiableCredential", "e30")), 0);
    /* A limited request is answered, and the connection stays usable for its id. */
    r = itest_rpc(admin, "ledger.head", json_pack("{s:s}", "learner", L1));
    assert_int_equal(itest_rpc_code(r), -32005);
    json_decref(r);
    struct vt_buf body;
    vt_buf_init(&body, 1 << 20);
    assert_int_equal(itest_http(s.port, "GET", "/metrics", NULL, NULL, 0, &body), 200);
    assert_non_null(strstr((const char *)body.data, "reason=\"rate\""));
    vt_buf_release(&body);
    itest_ws_close(v);
    itest_ws_close(anon);
    itest_ws_close(admin2);
    itest_ws_close(admin);
    vt_key_release(&other);
    assert_int_equal(itest_stop(&s, 15), 0);
    assert_int_equal(itest_check(s.dir), 0);
    itest_rmrf(s.dir);
}

/* ---------------------------------------------------------------------------------------
 * A client that never reads, and malformed input, on one server with a small output cap
 */

static struct itest_server srv;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(vt_core_init(NULL), VT_OK);
    return 0;
}

static bool log_has(const char *dir, const char *needle)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/vitaed.log", dir);
    size_t n = 0;
    char *text = vt_test_read_file(path, &n);
    bool found = text && strstr(text, needle);
    free(text);
    return found;
}

static void test_never_reads(void **state)
{
    (void)state;
    int admin = connect_retry(&srv, srv.token);
    /* 200 events of ~1 KiB: each ledger.read answer below is a few hundred KiB. */
    json_t *evs = json_array();
    char big[1025];
    memset(big, 'x', 1024);
    big[1024] = '\0';
    for (int i = 0; i < 200; i++)
        json_array_append_new(evs, json_pack("{s:s,s:s,s:{s:s,s:i}}", "learner", L1, "type",
                                             "attempt", "payload", "pad", big, "n", i));
    json_t *r = itest_rpc(admin, "ledger.append_batch", json_pack("{s:o}", "events", evs));
    assert_int_equal(itest_rpc_code(r), 0);
    json_decref(r);

    int slow = itest_ws_connect_rcvbuf(srv.port, srv.token, 4096, NULL);
    assert_true(slow >= 0);
    char req[256];
    int n = snprintf(req, sizeof(req),
                     "{\"jsonrpc\":\"2.0\",\"method\":\"ledger.read\",\"params\":"
                     "{\"learner\":\"%s\",\"limit\":200},\"id\":1}",
                     L1);
    for (int i = 0; i < 100; i++)
        assert_int_equal(itest_ws_send(slow, 1, req, (size_t)n, 0), 0);
    /* The server stops reading the client once its queue is over max_pending_out. */
    for (int i = 0; i < 6000 && !log_has(srv.dir, "event=ws.paused"); i++)
        nap_ms(10);
    assert_true(log_has(srv.dir, "event=ws.paused"));
    /* Everyone else is served meanwhile, including big answers. */
    for (int i = 0; i < 20; i++)
        assert_int_equal(
            rpc_code(admin, "ledger.read", json_pack("{s:s,s:i}", "learner", L1, "limit", 200)), 0);
    int other = connect_retry(&srv, NULL);
    assert_int_equal(rpc_code(other, "auth.whoami", NULL), 0);
    itest_ws_close(other);
    /* Dropping the stalled client frees its queue; the server goes on. */
    close(slow);
    assert_int_equal(rpc_code(admin, "ledger.head", json_pack("{s:s}", "learner", L1)), 0);
    itest_ws_close(admin);
}

static json_t *answer(int fd, int want_opcode)
{
    struct vt_buf b;
    vt_buf_init(&b, 1 << 22);
    int op = itest_ws_recv(fd, &b);
    assert_int_equal(op, want_opcode);
    json_t *doc = NULL;
    if (op == 1) {
        assert_int_equal(vt_json_parse((const char *)b.data, b.len, b.len, 64, &doc, NULL), VT_OK);
    } else {
        cbor_item_t *it = NULL;
        assert_int_equal(vt_cbor_decode(b.data, b.len, 16, &it, NULL), VT_OK);
        cbor_item_t *e = vt_cbor_map_get_str(it, "error");
        doc = json_object();
        if (e) {
            /* CBOR negative integers carry -1 - n. */
            json_object_set_new(
                doc, "error",
                json_pack("{s:i}", "code", -1 - (int)cbor_get_int(vt_cbor_map_get_str(e, "code"))));
        }
        cbor_decref(&it);
    }
    vt_buf_release(&b);
    return doc;
}

static int text_code(int fd, const char *text)
{
    assert_int_equal(itest_ws_send(fd, 1, text, strlen(text), 0), 0);
    json_t *r = answer(fd, 1);
    int code = itest_rpc_code(r);
    json_decref(r);
    return code;
}

static int binary_code(int fd, const uint8_t *p, size_t n)
{
    assert_int_equal(itest_ws_send(fd, 2, p, n, 0), 0);
    json_t *r = answer(fd, 2);
    int code = itest_rpc_code(r);
    json_decref(r);
    return code;
}

/* True when the server closed the connection (close frame or EOF). */
static bool closed_by_server(int fd)
{
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    int op = itest_ws_recv(fd, &b);
    vt_buf_release(&b);
    return op == -1;
}

static void test_malformed(void **state)
{
    (void)state;
    int fd = connect_retry(&srv, srv.token);
    /* Errors that leave the stream in sync keep the connection. */
    assert_int_equal(
        text_code(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"method\":\"b\",\"id\":1}"), -32700);
    assert_int_equal(text_code(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"auth.whoami\",\"id\":{}}"),
                     -32600);
    assert_int_equal(text_code(fd, "{\"jsonrpc\":\"2.0\",\"method\":7,\"id\":1}"), -32600);
    assert_int_equal(text_code(fd, "{\"jsonrpc\":\"1.0\",\"method\":\"auth.whoami\",\"id\":1}"),
                     -32600);
    assert_int_equal(
        text_code(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"auth.whoami\",\"id\":1,\"extra\":1}"),
        -32600);
    assert_int_equal(text_code(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"ledger.nothing\",\"id\":1}"),
                     -32601);
    assert_int_equal(text_code(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"ledger.read\",\"params\":"
                                   "{\"learner\":\"xyz\"},\"id\":1}"),
                     -32602);
    assert_int_equal(text_code(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"ledger.append\",\"params\":"
                                   "{\"learner\":\"00000000000000000000000000000a11\"},\"id\":1}"),
                     -32602);
    assert_int_equal(text_code(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"ledger.read\",\"params\":"
                                   "{\"learner\":\"00000000000000000000000000000a11\","
                                   "\"limit\":-4},\"id\":1}"),
                     -32602);
    assert_int_equal(text_code(fd, "\"just a string\""), -32600);
    assert_int_equal(text_code(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"auth.whoami\"} trailing"),
                     -32700);
    /* Binary frames: not a map, invalid UTF-8 in a text string, truncated, non-canonical. */
    static const uint8_t not_map[] = {0x01};
    assert_int_equal(binary_code(fd, not_map, sizeof(not_map)), -32600);
    static const uint8_t bad_utf8[] = {0xa1, 0x66, 'm', 'e', 't', 'h', 'o', 'd', 0x62, 0xff, 0xfe};
    assert_int_equal(binary_code(fd, bad_utf8, sizeof(bad_utf8)), -32700);
    static const uint8_t truncated[] = {0xa2, 0x62, 'i', 'd'};
    assert_int_equal(binary_code(fd, truncated, sizeof(truncated)), -32700);
    static const uint8_t unsorted[] = {0xa2, 0x62, 'i', 'd', 0x01, 0x61, 'a', 0x01};
    assert_int_equal(binary_code(fd, unsorted, sizeof(unsorted)), -32700);
    /* An empty text message and a fragmented request with pings in between. */
    assert_int_equal(itest_ws_send(fd, 1, "", 0, 0), 0);
    json_t *r = answer(fd, 1);
    assert_int_equal(itest_rpc_code(r), -32700);
    json_decref(r);
    const char *whoami = "{\"jsonrpc\":\"2.0\",\"method\":\"auth.whoami\",\"id\":5}";
    assert_int_equal(itest_ws_send(fd, 1, whoami, strlen(whoami), 3), 0);
    r = answer(fd, 1);
    assert_int_equal(itest_rpc_code(r), 0);
    json_decref(r);
    assert_int_equal(rpc_code(fd, "auth.whoami", NULL), 0);
    itest_ws_close(fd);

    /* Protocol violations close that connection only. */
    fd = connect_retry(&srv, NULL);
    /* libwebsockets 4.1 accepts an unmasked client frame (RFC 6455 says to close); it is
     * then an ordinary message, answered, and harms no one. */
    static const uint8_t unmasked[] = {0x81, 0x02, '{', '}'};
    assert_int_equal(itest_write_raw(fd, unmasked, sizeof(unmasked)), 0);
    r = answer(fd, 1);
    assert_int_equal(itest_rpc_code(r), -32600);
    json_decref(r);
    close(fd);
    fd = connect_retry(&srv, NULL);
    assert_int_equal(itest_ws_send(fd, 3, "x", 1, 0), 0); /* reserved opcode */
    assert_true(closed_by_server(fd));
    close(fd);
    fd = connect_retry(&srv, NULL);
    assert_int_equal(itest_ws_send(fd, 0, "x", 1, 0), 0); /* continuation without a start */
    assert_true(closed_by_server(fd));
    close(fd);
    fd = connect_retry(&srv, NULL);
    /* A text frame interrupted by a new data frame. */
    static const uint8_t interrupted[] = {0x01, 0x81, 0, 0, 0, 0, '{', 0x81, 0x81, 0, 0, 0, 0, '}'};
    assert_int_equal(itest_write_raw(fd, interrupted, sizeof(interrupted)), 0);
    assert_true(closed_by_server(fd));
    close(fd);

    fd = connect_retry(&srv, NULL);
    assert_int_equal(rpc_code(fd, "auth.whoami", NULL), 0);
    itest_ws_close(fd);
}

static int group_setup(void **state)
{
    assert_int_equal(setup(state), 0);
    itest_tempdir(srv.dir);
    const char *extra[] = {"max_pending_out=64K", "max_inflight=8", NULL};
    itest_start(&srv, srv.dir, extra);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    assert_int_equal(itest_stop(&srv, 15), 0);
    assert_int_equal(itest_check(srv.dir), 0);
    itest_rmrf(srv.dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest limits[] = {
        cmocka_unit_test_setup(test_conn_cap, setup),
        cmocka_unit_test_setup(test_rate, setup),
    };
    const struct CMUnitTest front[] = {
        cmocka_unit_test_setup(test_never_reads, setup),
        cmocka_unit_test_setup(test_malformed, setup),
    };
    int rc = cmocka_run_group_tests(limits, NULL, NULL);
    return rc | cmocka_run_group_tests(front, group_setup, group_teardown);
}
