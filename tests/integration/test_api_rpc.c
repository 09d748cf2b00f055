/* WebSocket JSON-RPC at /v1: framing, errors, CBOR, login, and every method's happy and
 * error paths. */
#include "itest.h"

#include <string.h>

#include "credential/credential.h"
#include "ledger/ledger.h"
#include "test_support.h"

static struct itest_server srv;
static const char *L1 = "0123456789abcdef0123456789abcdef";

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

static int admin_conn(void)
{
    int fd = itest_ws_connect(srv.port, "/v1", "vitae.v1", srv.token, NULL);
    assert_true(fd >= 0);
    return fd;
}

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

static json_t *raw(int fd, const char *text)
{
    struct vt_buf b;
    vt_buf_init(&b, 1 << 22);
    assert_int_equal(itest_ws_send(fd, 1, text, strlen(text), 0), 0);
    assert_int_equal(itest_ws_recv(fd, &b), 1);
    json_t *doc = NULL;
    assert_int_equal(vt_json_parse((const char *)b.data, b.len, b.len, 64, &doc, NULL), VT_OK);
    vt_buf_release(&b);
    return doc;
}

static void test_handshake(void **state)
{
    (void)state;
    int st;
    assert_int_equal(itest_ws_connect(srv.port, "/v1", NULL, NULL, &st), -1);
    assert_int_not_equal(st, 101);
    assert_int_equal(itest_ws_connect(srv.port, "/other", "vitae.v1", NULL, &st), -1);
    assert_int_equal(itest_ws_connect(srv.port, "/v1", "vitae.v1", "vt_wrong", &st), -1);
    int fd = itest_ws_connect(srv.port, "/v1", "vitae.v1", NULL, &st);
    assert_int_equal(st, 101);
    itest_ws_close(fd);
}

static void test_framing_errors(void **state)
{
    (void)state;
    int fd = itest_ws_connect(srv.port, "/v1", "vitae.v1", NULL, NULL);
    json_t *r = raw(fd, "{bad");
    assert_int_equal(itest_rpc_code(r), -32700);
    assert_true(json_is_null(json_object_get(r, "id")));
    json_decref(r);
    r = raw(fd, "{\"method\":\"auth.whoami\",\"id\":1}");
    assert_int_equal(itest_rpc_code(r), -32600);
    json_decref(r);
    r = raw(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"no.such\",\"id\":\"x\"}");
    assert_int_equal(itest_rpc_code(r), -32601);
    assert_string_equal(json_string_value(json_object_get(r, "id")), "x");
    json_decref(r);
    r = raw(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"auth.whoami\",\"params\":[1],\"id\":2}");
    assert_int_equal(itest_rpc_code(r), -32602);
    json_decref(r);
    r = raw(fd, "[]");
    assert_int_equal(itest_rpc_code(r), -32600);
    json_decref(r);
    /* A batch: answers for requests, none for the notification. */
    r = raw(fd, "[{\"jsonrpc\":\"2.0\",\"method\":\"auth.whoami\",\"id\":1},"
                "{\"jsonrpc\":\"2.0\",\"method\":\"auth.whoami\"},"
                "{\"jsonrpc\":\"2.0\",\"method\":\"ledger.head\",\"id\":3},5]");
    assert_true(json_is_array(r));
    assert_int_equal(json_array_size(r), 3);
    assert_int_equal(itest_rpc_code(json_array_get(r, 0)), 0);
    assert_int_equal(itest_rpc_code(json_array_get(r, 1)), -32001);
    assert_int_equal(itest_rpc_code(json_array_get(r, 2)), -32600);
    json_decref(r);
    /* A notification alone gets no answer: the next answer is for the next request. */
    const char *note = "{\"jsonrpc\":\"2.0\",\"method\":\"auth.whoami\"}";
    assert_int_equal(itest_ws_send(fd, 1, note, strlen(note), 0), 0);
    r = raw(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"auth.whoami\",\"id\":9}");
    assert_int_equal((int)json_number_value(json_object_get(r, "id")), 9);
    json_decref(r);
    /* Invalid UTF-8 in a text frame: a parse error, and the connection stays. */
    const char bad[] = "{\"jsonrpc\":\"2.0\",\"method\":\"\xff\xfe\",\"id\":1}";
    struct vt_buf b;
    vt_buf_init(&b, 1 << 22);
    assert_int_equal(itest_ws_send(fd, 1, bad, sizeof(bad) - 1, 0), 0);
    assert_int_equal(itest_ws_recv(fd, &b), 1);
    assert_non_null(strstr((const char *)b.data, "-32700"));
    /* Over max_message (sent in fragments): -32006, and the connection stays. */
    size_t big = (1 << 20) + 10;
    char *m = malloc(big);
    memset(m, ' ', big);
    assert_int_equal(itest_ws_send(fd, 1, m, big, 65536), 0);
    free(m);
    assert_int_equal(itest_ws_recv(fd, &b), 1);
    assert_non_null(strstr((const char *)b.data, "-32006"));
    vt_buf_release(&b);
    /* Deep nesting is refused. */
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    assert_int_equal(itest_ws_send(fd, 1, deep, sizeof(deep), 0), 0);
    vt_buf_init(&b, 1 << 22);
    assert_int_equal(itest_ws_recv(fd, &b), 1);
    assert_non_null(strstr((const char *)b.data, "-32700"));
    vt_buf_release(&b);
    assert_int_equal(expect(fd, "auth.whoami", NULL, 0), 0);
    itest_ws_close(fd);
}

static void test_cbor(void **state)
{
    (void)state;
    int fd = itest_ws_connect(srv.port, "/v1", "vitae.v1", srv.token, NULL);
    cbor_item_t *m = cbor_new_definite_map(3);
    vt_cbor_map_put(m, cbor_build_string("jsonrpc"), cbor_build_string("2.0"));
    vt_cbor_map_put(m, cbor_build_string("method"), cbor_build_string("auth.whoami"));
    vt_cbor_map_put(m, cbor_build_string("id"), cbor_build_uint8(7));
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    assert_int_equal(vt_cbor_encode(m, &b, NULL), VT_OK);
    cbor_decref(&m);
    assert_int_equal(itest_ws_send(fd, 2, b.data, b.len, 0), 0);
    assert_int_equal(itest_ws_recv(fd, &b), 2);
    cbor_item_t *r = NULL;
    assert_int_equal(vt_cbor_decode(b.data, b.len, 16, &r, NULL), VT_OK);
    uint64_t id;
    assert_int_equal(vt_cbor_get_uint(vt_cbor_map_get_str(r, "id"), &id, NULL), VT_OK);
    assert_int_equal(id, 7);
    cbor_item_t *res = vt_cbor_map_get_str(r, "result");
    assert_non_null(res);
    assert_true(cbor_get_bool(vt_cbor_map_get_str(res, "authenticated")));
    cbor_decref(&r);
    /* Non-canonical CBOR (a long-form integer) is a parse error. */
    static const uint8_t noncanon[] = {0xa1, 0x62, 'i', 'd', 0x18, 0x01};
    assert_int_equal(itest_ws_send(fd, 2, noncanon, sizeof(noncanon), 0), 0);
    assert_int_equal(itest_ws_recv(fd, &b), 2);
    assert_int_equal(vt_cbor_decode(b.data, b.len, 16, &r, NULL), VT_OK);
    cbor_item_t *err = vt_cbor_map_get_str(r, "error");
    assert_non_null(err);
    assert_int_equal(cbor_get_int(vt_cbor_map_get_str(err, "code")), 32699); /* -32700 */
    cbor_decref(&r);
    vt_buf_release(&b);
    itest_ws_close(fd);
}

/* Sends a CBOR message in a binary frame and returns the decoded answer. */
static cbor_item_t *cbor_call(int fd, cbor_item_t *msg)
{
    struct vt_buf b;
    vt_buf_init(&b, 1 << 22);
    assert_int_equal(vt_cbor_encode(msg, &b, NULL), VT_OK);
    cbor_decref(&msg);
    assert_int_equal(itest_ws_send(fd, 2, b.data, b.len, 0), 0);
    assert_int_equal(itest_ws_recv(fd, &b), 2);
    cbor_item_t *r = NULL;
    assert_int_equal(vt_cbor_decode(b.data, b.len, 16, &r, NULL), VT_OK);
    vt_buf_release(&b);
    return r;
}

static cbor_item_t *cbor_request(const char *method, cbor_item_t *params, unsigned id)
{
    cbor_item_t *m = cbor_new_definite_map(4);
    vt_cbor_map_put(m, cbor_build_string("jsonrpc"), cbor_build_string("2.0"));
    vt_cbor_map_put(m, cbor_build_string("method"), cbor_build_string(method));
    vt_cbor_map_put(m, cbor_build_string("params"), params);
    vt_cbor_map_put(m, cbor_build_string("id"), cbor_build_uint32(id));
    return m;
}

static cbor_item_t *cbor_event(const char *learner, const char *type, const char *member,
                               cbor_item_t *payload)
{
    cbor_item_t *e = cbor_new_definite_map(4);
    vt_cbor_map_put(e, cbor_build_string("learner"), cbor_build_string(learner));
    vt_cbor_map_put(e, cbor_build_string("type"), cbor_build_string(type));
    if (member != NULL)
        vt_cbor_map_put(e, cbor_build_string(member), payload);
    return e;
}

static cbor_item_t *cbor_events(cbor_item_t **evs, size_t n)
{
    cbor_item_t *a = cbor_new_definite_array(n);
    for (size_t i = 0; i < n; i++) {
        assert_true(cbor_array_push(a, evs[i]));
        cbor_decref(&evs[i]);
    }
    cbor_item_t *p = cbor_new_definite_map(1);
    vt_cbor_map_put(p, cbor_build_string("events"), a);
    return p;
}

static int64_t rpc_error_code(const cbor_item_t *resp)
{
    const cbor_item_t *e = vt_cbor_map_get_str(resp, "error");
    if (e == NULL)
        return 0;
    const cbor_item_t *c = vt_cbor_map_get_str(e, "code");
    return -1 - (int64_t)cbor_get_int(c);
}

/* Appends in binary frames read their params as CBOR: every payload form is stored as the
 * JSON form would store it, and malformed requests get the same answers. */
static void test_cbor_append(void **state)
{
    (void)state;
    static const char *L2 = "00112233445566778899aabbccddeeff";
    int fd = admin_conn();
    static const uint8_t bytes[] = {0x00, 0x01, 0x02, 0xff};
    cbor_item_t *structured = cbor_new_definite_map(1);
    vt_cbor_map_put(structured, cbor_build_string("score"), cbor_build_uint8(3));
    cbor_item_t *evs[5] = {
        cbor_event(L2, "attempt", "payload_b64u", cbor_build_bytestring(bytes, sizeof(bytes))),
        cbor_event(L2, "attempt", "payload_b64u", cbor_build_string("AAEC")),
        cbor_event(L2, "attempt", "payload", structured),
        cbor_event(L2, "bogus", NULL, NULL),
        cbor_event(L2, "progress", "event_id", cbor_build_string("cbor-ev-1")),
    };
    cbor_item_t *r = cbor_call(fd, cbor_request("ledger.append_batch", cbor_events(evs, 5), 11));
    assert_int_equal(rpc_error_code(r), 0);
    const cbor_item_t *res = vt_cbor_map_get_str(r, "result");
    uint64_t committed = 0;
    assert_int_equal(vt_cbor_get_uint(vt_cbor_map_get_str(res, "committed"), &committed, NULL),
                     VT_OK);
    assert_int_equal(committed, 4);
    const cbor_item_t *results = vt_cbor_map_get_str(res, "results");
    assert_int_equal(cbor_array_size(results), 5);
    assert_non_null(vt_cbor_map_get_str(cbor_array_handle(results)[3], "error"));
    cbor_decref(&r);

    /* The event id makes a retry a duplicate, as in text frames. */
    cbor_item_t *again[1] = {
        cbor_event(L2, "progress", "event_id", cbor_build_string("cbor-ev-1"))};
    r = cbor_call(fd, cbor_request("ledger.append", cbor_events(again, 1), 12));
    assert_int_equal(rpc_error_code(r), -32602); /* ledger.append takes one event, not events */
    cbor_decref(&r);
    r = cbor_call(
        fd,
        cbor_request("ledger.append",
                     cbor_event(L2, "progress", "event_id", cbor_build_string("cbor-ev-1")), 13));
    assert_int_equal(rpc_error_code(r), 0);
    assert_true(cbor_get_bool(vt_cbor_map_get_str(vt_cbor_map_get_str(r, "result"), "duplicate")));
    cbor_decref(&r);

    /* Stored payloads, read back in JSON. */
    json_t *rd = itest_rpc(fd, "ledger.read", json_pack("{s:s}", "learner", L2));
    assert_int_equal(itest_rpc_code(rd), 0);
    json_t *events = json_object_get(itest_result(rd), "events");
    assert_int_equal(json_array_size(events), 4);
    assert_string_equal(vt_json_get_str(json_array_get(events, 0), "payload_b64u"), "AAEC_w");
    assert_string_equal(vt_json_get_str(json_array_get(events, 1), "payload_b64u"), "AAEC");
    json_t *p2 = json_object_get(json_array_get(events, 2), "payload");
    assert_int_equal((int)json_number_value(json_object_get(p2, "score")), 3);
    assert_string_equal(vt_json_get_str(json_array_get(events, 3), "event_id"), "cbor-ev-1");
    json_decref(rd);

    /* A batch of requests mixes CBOR params with converted ones. */
    cbor_item_t *batch = cbor_new_definite_array(2);
    cbor_item_t *one[1] = {
        cbor_event(L2, "attempt", "payload_b64u", cbor_build_bytestring(bytes, 1))};
    cbor_item_t *q = cbor_request("ledger.append_batch", cbor_events(one, 1), 21);
    assert_true(cbor_array_push(batch, q));
    cbor_decref(&q);
    q = cbor_request("auth.whoami", cbor_new_definite_map(0), 22);
    assert_true(cbor_array_push(batch, q));
    cbor_decref(&q);
    r = cbor_call(fd, batch);
    assert_true(cbor_isa_array(r));
    assert_int_equal(cbor_array_size(r), 2);
    assert_int_equal(rpc_error_code(cbor_array_handle(r)[0]), 0);
    assert_int_equal(rpc_error_code(cbor_array_handle(r)[1]), 0);
    cbor_decref(&r);

    /* Refusals: a malformed event fails the call, as do missing events. */
    cbor_item_t *bad[2] = {cbor_event(L2, "attempt", NULL, NULL),
                           cbor_event("xyz", "attempt", NULL, NULL)};
    r = cbor_call(fd, cbor_request("ledger.append_batch", cbor_events(bad, 2), 31));
    assert_int_equal(rpc_error_code(r), -32602);
    cbor_decref(&r);
    cbor_item_t *both = cbor_event(L2, "attempt", "payload", cbor_build_uint8(1));
    vt_cbor_map_put(both, cbor_build_string("payload_b64u"), cbor_build_string("AA"));
    r = cbor_call(fd, cbor_request("ledger.append", both, 32));
    assert_int_equal(rpc_error_code(r), -32602);
    cbor_decref(&r);
    r = cbor_call(fd, cbor_request("ledger.append_batch", cbor_new_definite_map(0), 33));
    assert_int_equal(rpc_error_code(r), -32602);
    cbor_decref(&r);
    /* A text string with U+0000 has no JSON form: a parse error in either case. */
    cbor_item_t *nul[1] = {cbor_event(L2, "attempt", "event_id", cbor_build_stringn("a\0b", 3))};
    r = cbor_call(fd, cbor_request("ledger.append_batch", cbor_events(nul, 1), 34));
    assert_int_equal(rpc_error_code(r), -32700);
    cbor_decref(&r);
    itest_ws_close(fd);
}

static void test_login(void **state)
{
    (void)state;
    int fd = itest_ws_connect(srv.port, "/v1", "vitae.v1", NULL, NULL);
    assert_int_equal(expect(fd, "admin.stats", NULL, -32001), -32001);
    char did[VT_DIDKEY_MAX];
    vt_didkey_from_public(srv.admin.pk, did);
    /* No challenge yet. */
    assert_int_equal(expect(fd, "auth.login",
                            json_pack("{s:s,s:s}", "did", did, "signature",
                                      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                                      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                            -32001),
                     -32001);
    /* A wrong key's signature. */
    struct vt_key other;
    vt_key_generate(&other);
    json_t *ch = itest_rpc(fd, "auth.challenge", NULL);
    const char *nonce = vt_json_get_str(itest_result(ch), "nonce");
    assert_non_null(nonce);
    struct vt_buf msg, sig;
    vt_buf_init(&msg, 1024);
    vt_buf_init(&sig, 256);
    (void)vt_buf_printf(&msg, NULL, "vitae/auth/v1\n%s\n%s\n", nonce,
                        vt_json_get_str(itest_result(ch), "server"));
    uint8_t s[64];
    vt_key_sign(&other, msg.data, msg.len, s);
    (void)vt_base64url_encode(s, 64, &sig, NULL);
    assert_int_equal(expect(fd, "auth.login",
                            json_pack("{s:s,s:s}", "did", did, "signature", (char *)sig.data),
                            -32001),
                     -32001);
    json_decref(ch);
    vt_buf_release(&msg);
    vt_buf_release(&sig);
    assert_int_equal(expect(fd, "auth.login", json_pack("{s:s}", "token", "vt_nope"), -32001),
                     -32001);
    assert_int_equal(expect(fd, "auth.login", json_pack("{s:i}", "token", 5), -32602), -32602);
    json_t *r = itest_login_key(fd, &srv.admin);
    assert_int_equal(itest_rpc_code(r), 0);
    assert_string_equal(vt_json_get_str(itest_result(r), "principal"), did);
    json_decref(r);
    assert_int_equal(expect(fd, "admin.stats", NULL, 0), 0);
    itest_ws_close(fd);
}

static void test_ledger(void **state)
{
    (void)state;
    int fd = admin_conn();
    json_t *r = itest_rpc(fd, "ledger.append",
                          json_pack("{s:s,s:s,s:{s:s,s:f},s:s}", "learner", L1, "type", "attempt",
                                    "payload", "item", "q1", "score", 0.5, "event_id", "ev-1"));
    assert_int_equal(itest_rpc_code(r), 0);
    assert_false(json_is_true(json_object_get(itest_result(r), "duplicate")));
    json_decref(r);
    r = itest_rpc(fd, "ledger.append",
                  json_pack("{s:s,s:s,s:{s:s,s:f},s:s}", "learner", L1, "type", "attempt",
                            "payload", "item", "q1", "score", 0.5, "event_id", "ev-1"));
    assert_true(json_is_true(json_object_get(itest_result(r), "duplicate")));
    json_decref(r);
    assert_int_equal(expect(fd, "ledger.append",
                            json_pack("{s:s,s:s}", "learner", "xyz", "type", "attempt"), -32602),
                     -32602);
    assert_int_equal(expect(fd, "ledger.append",
                            json_pack("{s:s,s:s}", "learner", L1, "type", "no.such.type"), -32009),
                     -32009);
    /* A batch with one bad event: the others commit. */
    json_t *evs = json_array();
    for (int i = 0; i < 10; i++)
        json_array_append_new(evs,
                              json_pack("{s:s,s:s,s:s}", "learner", L1, "type",
                                        i == 4 ? "bogus" : "progress", "payload_b64u", "AAEC"));
    r = itest_rpc(fd, "ledger.append_batch", json_pack("{s:o}", "events", evs));
    assert_int_equal(itest_rpc_code(r), 0);
    assert_int_equal((int)json_number_value(json_object_get(itest_result(r), "committed")), 9);
    json_t *results = json_object_get(itest_result(r), "results");
    assert_non_null(json_object_get(json_array_get(results, 4), "error"));
    json_decref(r);
    assert_int_equal(expect(fd, "ledger.append_batch", json_pack("{s:[]}", "events"), -32602),
                     -32602);

    r = itest_rpc(fd, "ledger.read", json_pack("{s:s,s:i}", "learner", L1, "limit", 5));
    assert_int_equal(itest_rpc_code(r), 0);
    json_t *events = json_object_get(itest_result(r), "events");
    assert_int_equal(json_array_size(events), 5);
    json_t *e0 = json_array_get(events, 0);
    assert_string_equal(vt_json_get_str(e0, "type"), "attempt");
    assert_string_equal(vt_json_get_str(json_object_get(e0, "payload"), "item"), "q1");
    assert_string_equal(vt_json_get_str(json_array_get(events, 1), "payload_b64u"), "AAEC");
    assert_int_equal((int)json_number_value(json_object_get(itest_result(r), "head_seq")), 9);
    json_decref(r);
    assert_int_equal(
        expect(fd, "ledger.read", json_pack("{s:s,s:i}", "learner", L1, "limit", 100000), -32602),
        -32602);
    assert_int_equal(expect(fd, "ledger.head",
                            json_pack("{s:s}", "learner", "ffffffffffffffffffffffffffffffff"),
                            -32003),
                     -32003);
    r = itest_rpc(fd, "ledger.head", json_pack("{s:s}", "learner", L1));
    assert_int_equal((int)json_number_value(json_object_get(itest_result(r), "seq")), 9);
    json_decref(r);
    r = itest_rpc(fd, "ledger.verify", json_pack("{s:s}", "learner", L1));
    assert_true(json_is_true(json_object_get(itest_result(r), "verified")));
    assert_int_equal((int)json_number_value(json_object_get(itest_result(r), "events")), 10);
    json_decref(r);

    /* The inclusion proof checks out against the checkpoint root. */
    json_t *cp = itest_rpc(fd, "ledger.checkpoint", NULL);
    const char *root_hex = vt_json_get_str(itest_result(cp), "root");
    uint64_t size = (uint64_t)json_number_value(json_object_get(itest_result(cp), "size"));
    assert_int_equal(size, 10);
    r = itest_rpc(fd, "ledger.proof", json_pack("{s:i,s:i}", "index", 3, "size", 10));
    assert_int_equal(itest_rpc_code(r), 0);
    json_t *proof = json_object_get(itest_result(r), "proof");
    uint8_t hashes[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
    struct vt_buf hb;
    vt_buf_init(&hb, 64);
    for (size_t i = 0; i < json_array_size(proof); i++) {
        vt_buf_reset(&hb);
        const char *h = json_string_value(json_array_get(proof, i));
        assert_int_equal(vt_hex_decode(h, strlen(h), &hb, NULL), VT_OK);
        memcpy(hashes[i], hb.data, 32);
    }
    uint8_t leaf[32], root[32];
    vt_buf_reset(&hb);
    const char *lh = vt_json_get_str(itest_result(r), "leaf_hash");
    assert_int_equal(vt_hex_decode(lh, 64, &hb, NULL), VT_OK);
    memcpy(leaf, hb.data, 32);
    vt_buf_reset(&hb);
    assert_int_equal(vt_hex_decode(root_hex, 64, &hb, NULL), VT_OK);
    memcpy(root, hb.data, 32);
    assert_int_equal(ledger_verify_inclusion(leaf, 3, 10, (const uint8_t(*)[32])hashes,
                                             json_array_size(proof), root, NULL),
                     VT_OK);
    vt_buf_release(&hb);
    json_decref(r);
    json_decref(cp);
    assert_int_equal(
        expect(fd, "ledger.proof", json_pack("{s:i,s:i}", "old_size", 4, "new_size", 10), 0), 0);
    assert_int_equal(expect(fd, "ledger.proof", json_pack("{s:i}", "index", 99), -32003), -32003);
    assert_int_equal(expect(fd, "ledger.proof", json_pack("{}"), -32602), -32602);
    itest_ws_close(fd);
}

static void test_credentials(void **state)
{
    (void)state;
    int fd = admin_conn();
    struct vt_key hk;
    vt_key_generate(&hk);
    char hdid[VT_DIDKEY_MAX];
    vt_didkey_from_public(hk.pk, hdid);
    json_t *cred = itest_badge(hdid, "urn:example:achievement:fractions");
    json_t *r = itest_rpc(fd, "credential.issue",
                          json_pack("{s:O,s:s}", "credential", cred, "learner", L1));
    assert_int_equal(itest_rpc_code(r), 0);
    json_t *vc = json_incref(json_object_get(itest_result(r), "verifiableCredential"));
    assert_non_null(json_object_get(itest_result(r), "ledger_index"));
    assert_non_null(json_object_get(itest_result(r), "status"));
    assert_true(json_array_size(json_object_get(vc, "credentialStatus")) == 2);
    json_decref(r);
    /* Not an Open Badges credential, no learner to record it for, someone else's issuer. */
    assert_int_equal(expect(fd, "credential.issue",
                            json_pack("{s:{s:{s:s}},s:s}", "credential", "credentialSubject", "id",
                                      hdid, "learner", L1),
                            -32602),
                     -32602);
    assert_int_equal(expect(fd, "credential.issue", json_pack("{s:O}", "credential", cred), -32602),
                     -32602);
    json_object_set_new(cred, "issuer", json_string("did:example:someone-else"));
    assert_int_equal(expect(fd, "credential.issue",
                            json_pack("{s:O,s:s}", "credential", cred, "learner", L1), -32002),
                     -32002);
    json_decref(cred);

    int anon = itest_ws_connect(srv.port, "/v1", "vitae.v1", NULL, NULL);
    r = itest_rpc(anon, "credential.verify", json_pack("{s:O}", "verifiableCredential", vc));
    assert_true(json_is_true(json_object_get(itest_result(r), "verified")));
    json_decref(r);
    r = itest_rpc(anon, "credential.verify", json_pack("{s:s}", "verifiableCredential", "e30"));
    assert_int_equal(itest_rpc_code(r), 0);
    assert_false(json_is_true(json_object_get(itest_result(r), "verified")));
    json_decref(r);
    assert_int_equal(expect(anon, "credential.verify", json_pack("{}"), -32602), -32602);

    /* A presentation signed by a holder key, bound to a server challenge. */
    json_t *ch = itest_rpc(anon, "presentation.challenge", NULL);
    const char *challenge = vt_json_get_str(itest_result(ch), "challenge");
    const char *domain = vt_json_get_str(itest_result(ch), "domain");
    struct cred_key *holder = cred_key_from_vt(&hk);
    const json_t *creds[1] = {vc};
    json_t *vp = NULL, *svp = NULL;
    assert_int_equal(cred_presentation_new(hdid, creds, 1, &vp, NULL), VT_OK);
    struct cred_di_options o;
    memset(&o, 0, sizeof(o));
    o.proof_purpose = "authentication";
    o.challenge = challenge;
    o.domain = domain;
    assert_int_equal(cred_sign_di(vp, holder, &o, &svp, NULL), VT_OK);
    json_t *params = json_pack("{s:O,s:{s:s,s:s}}", "verifiablePresentation", svp, "options",
                               "challenge", challenge, "domain", domain);
    r = itest_rpc(anon, "presentation.verify", json_deep_copy(params));
    assert_int_equal(itest_rpc_code(r), 0);
    if (!json_is_true(json_object_get(itest_result(r), "verified")))
        fprintf(stderr, "%s\n", json_dumps(r, 0));
    assert_true(json_is_true(json_object_get(itest_result(r), "verified")));
    json_decref(r);
    /* The challenge is single use. */
    r = itest_rpc(anon, "presentation.verify", params);
    assert_false(json_is_true(json_object_get(itest_result(r), "verified")));
    json_decref(r);
    json_decref(ch);
    json_decref(vp);
    json_decref(svp);
    cred_key_free(holder);

    /* Endorsement by a reviewer. */
    struct vt_key rk;
    vt_key_generate(&rk);
    itest_principal(fd, &rk, "reviewer", NULL);
    int rfd = itest_connect_as(&srv, &rk);
    char rdid[VT_DIDKEY_MAX];
    vt_didkey_from_public(rk.pk, rdid);
    json_t *en = NULL, *sen = NULL;
    assert_int_equal(cred_endorsement_new("urn:uuid:7d5a0c2e-0000-4000-8000-000000000001", rdid,
                                          "Reviewer", "urn:example:achievement", "well done", &en,
                                          NULL),
                     VT_OK);
    struct cred_key *rck = cred_key_from_vt(&rk);
    memset(&o, 0, sizeof(o));
    assert_int_equal(cred_sign_di(en, rck, &o, &sen, NULL), VT_OK);
    r = itest_rpc(rfd, "endorsement.create",
                  json_pack("{s:s,s:O}", "learner", L1, "endorsement", sen));
    assert_int_equal(itest_rpc_code(r), 0);
    json_decref(r);
    assert_int_equal(expect(rfd, "endorsement.create",
                            json_pack("{s:s,s:O}", "learner", L1, "endorsement", en), -32008),
                     -32008);
    json_decref(en);
    json_decref(sen);
    cred_key_free(rck);
    itest_ws_close(rfd);
    itest_ws_close(anon);
    json_decref(vc);
    itest_ws_close(fd);
}

static void test_admin(void **state)
{
    (void)state;
    int fd = admin_conn();
    struct vt_key k;
    vt_key_generate(&k);
    char did[VT_DIDKEY_MAX];
    vt_didkey_from_public(k.pk, did);
    json_t *r = itest_rpc(fd, "admin.principal_create",
                          json_pack("{s:s,s:[s]}", "did", did, "roles", "learner"));
    assert_int_equal(itest_rpc_code(r), 0);
    char learner[33];
    snprintf(learner, sizeof(learner), "%s", vt_json_get_str(itest_result(r), "learner"));
    json_decref(r);
    assert_int_equal(expect(fd, "admin.principal_create",
                            json_pack("{s:s,s:[s]}", "did", did, "roles", "learner"), -32011),
                     -32011);
    assert_int_equal(expect(fd, "admin.principal_create",
                            json_pack("{s:s,s:[s]}", "did", "did:web:x", "roles", "learner"),
                            -32602),
                     -32602);
    assert_int_equal(expect(fd, "admin.principal_create",
                            json_pack("{s:s,s:[s]}", "did", did, "roles", "wizard"), -32602),
                     -32602);
    r = itest_rpc(fd, "admin.token_create", json_pack("{s:s}", "principal", did));
    assert_int_equal(itest_rpc_code(r), 0);
    const char *tok = vt_json_get_str(itest_result(r), "token");
    int lfd = itest_ws_connect(srv.port, "/v1", "vitae.v1", tok, NULL);
    assert_true(lfd >= 0);
    assert_int_equal(expect(lfd, "admin.stats", NULL, -32002), -32002);
    itest_ws_close(lfd);
    json_decref(r);
    assert_int_equal(
        expect(fd, "admin.token_create", json_pack("{s:s}", "principal", "did:key:z"), -32003),
        -32003);
    assert_int_equal(
        expect(fd, "admin.token_create",
               json_pack("{s:s,s:s}", "principal", did, "expires", "2000-01-01T00:00:00Z"), -32602),
        -32602);
    assert_int_equal(expect(fd, "admin.key_rotate", NULL, 0), 0);
    assert_int_equal(expect(fd, "ledger.append",
                            json_pack("{s:s,s:s,s:{s:i}}", "learner", learner, "type", "enrollment",
                                      "payload", "course", 1),
                            0),
                     0);
    assert_int_equal(expect(fd, "admin.erase_learner", json_pack("{s:s}", "learner", learner), 0),
                     0);
    assert_int_equal(
        expect(fd, "admin.erase_learner", json_pack("{s:s}", "learner", learner), -32004), -32004);
    r = itest_rpc(fd, "ledger.read", json_pack("{s:s}", "learner", learner));
    assert_true(json_is_true(
        json_object_get(json_array_get(json_object_get(itest_result(r), "events"), 0), "erased")));
    json_decref(r);
    assert_int_equal(expect(fd, "ledger.append",
                            json_pack("{s:s,s:s}", "learner", learner, "type", "enrollment"),
                            -32004),
                     -32004);
    itest_ws_close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake), cmocka_unit_test(test_framing_errors),
        cmocka_unit_test(test_cbor),      cmocka_unit_test(test_login),
        cmocka_unit_test(test_ledger),    cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_admin),     cmocka_unit_test(test_cbor_append),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
