/*
 * The twin over the API (frameworks, views, flags, readiness, twin.changed notifications,
 * authorization by consent) and portable twins between two vitaed instances: a learner
 * consents, institution A exports the learner's portable twin, institution B imports it
 * over the WebSocket API, verifies chains, checkpoint and credentials, and B's twin then
 * includes A's evidence with its provenance.
 */
#include "itest.h"

#include <string.h>

#include "test_support.h"
#include "twin/twin.h"

static struct itest_server a, b;

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

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

/* An attempt on skill, as the canonical twin payload. */
static void append_attempt(int fd, const char *learner, const char *skill, bool correct)
{
    struct twin_event ev;
    twin_event_init(&ev, TWIN_EVENT_ATTEMPT);
    snprintf(ev.skills[0], sizeof(ev.skills[0]), "%s", skill);
    ev.n_skills = 1;
    ev.score = correct ? 1.0 : 0.0;
    ev.score_is_binary = true;
    ev.duration_ms = 20000;
    snprintf(ev.course, sizeof(ev.course), "math-101");
    struct vt_buf p, t;
    vt_buf_init(&p, 1 << 16);
    vt_buf_init(&t, 1 << 17);
    assert_int_equal(twin_event_encode(&ev, &p, NULL), VT_OK);
    assert_int_equal(vt_base64url_encode(p.data, p.len, &t, NULL), VT_OK);
    json_t *r = call_ok(fd, "ledger.append",
                        json_pack("{s:s,s:s,s:s%}", "learner", learner, "type", "attempt",
                                  "payload_b64u", (const char *)t.data, t.len));
    json_decref(r);
    vt_buf_release(&p);
    vt_buf_release(&t);
}

static void server_did(int fd, char out[VT_DIDKEY_MAX])
{
    json_t *r = call_ok(fd, "auth.challenge", NULL);
    snprintf(out, VT_DIDKEY_MAX, "%s", vt_json_get_str(r, "server"));
    json_decref(r);
}

static void test_twin_and_portable(void **state)
{
    (void)state;
    assert_int_equal(vt_core_init(NULL), VT_OK);
    itest_tempdir(a.dir);
    itest_tempdir(b.dir);
    itest_start(&a, a.dir, NULL);
    itest_start(&b, b.dir, NULL);
    int aa = itest_ws_connect(a.port, "/v1", "vitae.v1", a.token, NULL);
    int ba = itest_ws_connect(b.port, "/v1", "vitae.v1", b.token, NULL);
    assert_true(aa >= 0 && ba >= 0);
    char b_did[VT_DIDKEY_MAX], b_admin_did[VT_DIDKEY_MAX];
    server_did(ba, b_did);
    vt_didkey_from_public(b.admin.pk, b_admin_did);

    /* People on A: a learner, another learner, and institution B as a verifier. */
    struct vt_key lk, ok;
    vt_key_generate(&lk);
    vt_key_generate(&ok);
    char learner[33], other[33], ldid[VT_DIDKEY_MAX];
    vt_didkey_from_public(lk.pk, ldid);
    itest_principal(aa, &lk, "learner", learner);
    itest_principal(aa, &ok, "learner", other);
    itest_principal(aa, &b.admin, "verifier", NULL);

    /* A framework, then evidence. */
    const char *csv = "id,name,prerequisites\nadd,Addition,\nfrac,Fractions,add\n";
    json_t *fw = call_ok(aa, "framework.import",
                         json_pack("{s:s,s:s,s:s,s:s}", "format", "csv", "id", "math", "name",
                                   "Mathematics", "data", csv));
    assert_int_equal((int)num(fw, "skills"), 2);
    json_decref(fw);
    assert_int_equal(expect(aa, "framework.import",
                            json_pack("{s:s,s:s,s:s}", "format", "csv", "id", "bad", "data",
                                      "id,prerequisites\nx,y\n"),
                            -32003),
                     -32003);
    assert_int_equal(expect(aa, "framework.import",
                            json_pack("{s:s,s:s}", "format", "yaml", "data", "x"), -32009),
                     -32009);
    json_t *g = call_ok(aa, "framework.get", NULL);
    assert_int_equal((int)num(g, "total"), 2);
    json_decref(g);
    g = call_ok(aa, "framework.get", json_pack("{s:s}", "skill", "frac"));
    json_t *frac = json_array_get(json_object_get(g, "skills"), 0);
    json_t *pre = json_object_get(frac, "prerequisites");
    assert_int_equal(json_array_size(pre), 1);
    assert_string_equal(json_string_value(json_array_get(pre, 0)), "add");
    json_decref(g);
    assert_int_equal(expect(aa, "framework.get", json_pack("{s:s}", "skill", "nope"), -32003),
                     -32003);

    /* The learner follows their own twin and hears about new evidence. */
    int lfd = itest_connect_as(&a, &lk);
    int sfd = itest_connect_as(&a, &lk); /* notifications only */
    json_t *sub = call_ok(sfd, "twin.subscribe", json_pack("{s:s}", "learner", learner));
    json_decref(sub);
    assert_int_equal(expect(sfd, "twin.subscribe", json_pack("{s:s}", "learner", other), -32002),
                     -32002);
    for (int i = 0; i < 4; i++)
        append_attempt(aa, learner, "frac", i != 1);
    append_attempt(aa, learner, "add", true);
    struct vt_buf m;
    vt_buf_init(&m, 1 << 20);
    bool heard = false;
    for (int i = 0; i < 100 && !heard; i++) {
        assert_int_equal(itest_ws_recv(sfd, &m), 1);
        json_t *n = NULL;
        assert_int_equal(vt_json_parse((const char *)m.data, m.len, m.len, 32, &n, NULL), VT_OK);
        heard = !strcmp(vt_json_get_str(n, "method"), "twin.changed") &&
                !strcmp(vt_json_get_str(json_object_get(n, "params"), "learner"), learner);
        json_decref(n);
    }
    assert_true(heard);
    vt_buf_release(&m);
    itest_ws_close(sfd);

    json_t *tw = call_ok(lfd, "twin.get", json_pack("{s:s}", "learner", learner));
    assert_int_equal((int)num(tw, "attempts"), 5);
    assert_int_equal((int)num(tw, "skills"), 2);
    json_decref(tw);
    json_t *sk = call_ok(lfd, "twin.skills", json_pack("{s:s}", "learner", learner));
    assert_int_equal((int)num(sk, "total"), 2);
    json_decref(sk);
    json_t *pr = call_ok(lfd, "twin.predictions",
                         json_pack("{s:s,s:[s]}", "learner", learner, "skills", "frac"));
    assert_true(num(pr, "p_correct") > 0 && num(pr, "p_correct") < 1);
    assert_int_equal(json_array_size(json_object_get(pr, "courses")), 1);
    json_decref(pr);
    json_decref(call_ok(lfd, "twin.flags", json_pack("{s:s}", "learner", learner)));
    json_decref(call_ok(lfd, "twin.recommendations", json_pack("{s:s}", "learner", learner)));
    assert_int_equal(expect(lfd, "twin.get", json_pack("{s:s}", "learner", other), -32002), -32002);
    assert_int_equal(expect(lfd, "twin.predictions",
                            json_pack("{s:s,s:[s]}", "learner", learner, "skills", "nope"), -32003),
                     -32003);
    assert_int_equal(
        expect(lfd, "twin.skills", json_pack("{s:s,s:i}", "learner", learner, "limit", 0), -32602),
        -32602);
    assert_int_equal(expect(aa, "twin.get", json_pack("{s:s}", "learner", other), -32003), -32003);

    /* Readiness. */
    json_t *role = call_ok(aa, "readiness.role_define",
                           json_pack("{s:s,s:s,s:[{s:s,s:i}]}", "role", "analyst", "name",
                                     "Data analyst", "requires", "skill", "frac", "level", 1));
    json_decref(role);
    json_t *rr = call_ok(lfd, "readiness.report",
                         json_pack("{s:s,s:s}", "learner", learner, "role", "analyst"));
    assert_true(num(rr, "score") >= 0 && num(rr, "score") <= 1);
    json_decref(rr);
    json_decref(call_ok(aa, "readiness.team", json_pack("{s:s}", "role", "analyst")));
    assert_int_equal(expect(aa, "readiness.report",
                            json_pack("{s:s,s:s}", "learner", learner, "role", "nope"), -32003),
                     -32003);
    assert_int_equal(expect(aa, "readiness.role_define", json_pack("{s:s}", "role", "x"), -32602),
                     -32602);
    assert_int_equal(expect(lfd, "readiness.team", json_pack("{s:s}", "role", "analyst"), -32002),
                     -32002);

    /* A credential with ledger evidence, issued by A. */
    json_t *rd = call_ok(aa, "ledger.read", json_pack("{s:s,s:i}", "learner", learner, "limit", 1));
    json_int_t ev0 = (json_int_t)num(json_array_get(json_object_get(rd, "events"), 0), "index");
    json_decref(rd);
    json_t *iss = call_ok(aa, "credential.issue",
                          json_pack("{s:o,s:s,s:[I]}", "credential",
                                    itest_badge(ldid, "urn:example:achievement:fractions"),
                                    "learner", learner, "evidence", ev0));
    json_t *vc = json_incref(json_object_get(iss, "verifiableCredential"));
    json_decref(iss);

    /* Institution B asks A for the portable twin: refused until the learner consents. */
    int bfd = itest_connect_as(&a, &b.admin);
    assert_int_equal(expect(bfd, "portable.export",
                            json_pack("{s:s,s:s}", "learner", learner, "recipient", b_did), -32002),
                     -32002);
    assert_int_equal(expect(bfd, "twin.get", json_pack("{s:s}", "learner", learner), -32002),
                     -32002);
    json_t *grant = itest_consent(&lk, learner, b_admin_did, "[\"portable.export\",\"twin.read\"]",
                                  "2099-01-01T00:00:00Z");
    json_decref(call_ok(lfd, "consent.grant", grant));
    json_decref(call_ok(bfd, "twin.get", json_pack("{s:s}", "learner", learner)));
    assert_int_equal(expect(bfd, "portable.export",
                            json_pack("{s:s,s:s}", "learner", learner, "recipient", "not-a-did"),
                            -32602),
                     -32602);
    json_t *ex = call_ok(bfd, "portable.export",
                         json_pack("{s:s,s:s}", "learner", learner, "recipient", b_did));
    assert_true(json_is_true(json_object_get(ex, "sealed")));
    char *bundle = strdup(vt_json_get_str(ex, "bundle"));
    json_decref(ex);
    json_t *cp_a = call_ok(aa, "ledger.checkpoint", NULL);
    itest_ws_close(bfd);

    /* B imports over its WebSocket API (with the framework both institutions use, which
     * the events refer to); a tampered bundle is refused; importing again is a no-op. */
    json_decref(call_ok(ba, "framework.import",
                        json_pack("{s:s,s:s,s:s,s:s}", "format", "csv", "id", "math", "name",
                                  "Mathematics", "data", csv)));
    char *bad = strdup(bundle);
    bad[strlen(bad) / 2] = bad[strlen(bad) / 2] == 'A' ? 'B' : 'A';
    json_t *tr = itest_rpc(ba, "portable.import", json_pack("{s:s}", "bundle", bad));
    int code = itest_rpc_code(tr);
    json_decref(tr);
    assert_true(code == -32008 || code == -32602);
    free(bad);
    assert_int_equal(expect(ba, "portable.import", json_pack("{s:s}", "bundle", "!!"), -32602),
                     -32602);
    json_t *im = call_ok(ba, "portable.import", json_pack("{s:s}", "bundle", bundle));
    assert_string_equal(vt_json_get_str(im, "learner"), learner);
    assert_string_equal(vt_json_get_str(im, "origin"), vt_json_get_str(cp_a, "origin"));
    assert_true(num(im, "imported") > 0);
    assert_true(num(im, "checkpoint_size") <= num(cp_a, "size"));
    double events = num(im, "events");
    json_decref(im);
    im = call_ok(ba, "portable.import", json_pack("{s:s}", "bundle", bundle));
    assert_true(num(im, "imported") == 0 && num(im, "present") == events);
    json_decref(im);
    free(bundle);

    /* B verifies the chain (signatures, links, provenance, its own checkpoint), sees A's
     * provenance on the imported events, verifies A's credential, and its twin has A's
     * evidence. */
    json_t *v = call_ok(ba, "ledger.verify", json_pack("{s:s}", "learner", learner));
    assert_true(json_is_true(json_object_get(v, "verified")));
    json_decref(v);
    rd = call_ok(ba, "ledger.read", json_pack("{s:s}", "learner", learner));
    json_t *first = json_array_get(json_object_get(rd, "events"), 0);
    json_t *prov = json_object_get(first, "provenance");
    assert_non_null(prov);
    assert_string_equal(vt_json_get_str(prov, "origin"), vt_json_get_str(cp_a, "origin"));
    assert_non_null(json_object_get(first, "payload_b64u"));
    json_decref(rd);
    json_t *vr = call_ok(ba, "credential.verify", json_pack("{s:O}", "verifiableCredential", vc));
    if (!json_is_true(json_object_get(vr, "verified")))
        fprintf(stderr, "credential on B: %s\n", json_dumps(vr, JSON_COMPACT));
    assert_true(json_is_true(json_object_get(vr, "verified")));
    json_decref(vr);
    tw = call_ok(ba, "twin.get", json_pack("{s:s}", "learner", learner));
    assert_int_equal((int)num(tw, "attempts"), 5);
    json_decref(tw);
    json_decref(cp_a);
    json_decref(vc);

    itest_ws_close(lfd);
    itest_ws_close(aa);
    itest_ws_close(ba);
    vt_key_release(&lk);
    vt_key_release(&ok);
    assert_int_equal(itest_stop(&a, 15), 0);
    assert_int_equal(itest_stop(&b, 15), 0);
    assert_int_equal(itest_check(a.dir), 0);
    assert_int_equal(itest_check(b.dir), 0);
    itest_rmrf(a.dir);
    itest_rmrf(b.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_twin_and_portable)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
