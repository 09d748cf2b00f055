/* Pre-signed events: chain rules, fork evidence, commitments; chain and store checks. */
#include "ledger_fixture.h"

struct fx {
    char *dir;
    struct vt_key key;    /* the service */
    struct vt_key author; /* a foreign signer */
    struct ledger *l;
};

static int setup(void **state)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    struct fx *f = calloc(1, sizeof(*f));
    f->dir = fixture_tmpdir();
    fixture_key(&f->key, 8);
    fixture_key(&f->author, 9);
    f->l = fixture_open(f->dir, &f->key, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ledger_close(f->l);
    fixture_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static const uint8_t salt[LEDGER_SALT_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};

/* A foreign event for learner at seq after prev, committing to payload. */
static void foreign(struct fx *f, const uint8_t *learner, uint64_t seq, const uint8_t *prev,
                    const char *payload, struct vt_buf *leaf, uint8_t hash[LEDGER_HASH_LEN])
{
    struct ledger_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.version = LEDGER_VERSION;
    memcpy(ev.learner, learner, LEDGER_LEARNER_LEN);
    ev.seq = seq;
    ev.has_prev = seq > 0;
    if (prev)
        memcpy(ev.prev, prev, LEDGER_HASH_LEN);
    ev.time_ms = 1700000000000ULL + seq;
    strcpy(ev.type, "credential.issued");
    memcpy(ev.author, f->author.pk, 32);
    vt_sha256("foreign ciphertext", 18, ev.payload_hash);
    struct vt_buf m;
    vt_buf_init(&m, 4096);
    assert_int_equal(vt_buf_append(&m, salt, sizeof(salt), NULL), VT_OK);
    assert_int_equal(vt_buf_append_str(&m, payload, NULL), VT_OK);
    vt_sha256(m.data, m.len, ev.commitment);
    vt_buf_release(&m);
    strcpy(ev.origin, "other.example/ledger");
    struct vt_buf env;
    vt_buf_init(&env, 4096);
    assert_int_equal(ledger_event_encode(&ev, &env, NULL), VT_OK);
    uint8_t sig[64];
    ledger_event_sign(env.data, env.len, &f->author, sig);
    vt_buf_reset(leaf);
    assert_int_equal(ledger_leaf_encode(env.data, env.len, sig, leaf, NULL), VT_OK);
    ledger_leaf_hash(leaf->data, leaf->len, hash);
    vt_buf_release(&env);
}

static enum vt_status import(struct fx *f, const struct vt_buf *leaf, const char *payload,
                             struct ledger_append_result *res, struct vt_error *err)
{
    struct ledger_append_req req;
    memset(&req, 0, sizeof(req));
    req.signed_event = leaf->data;
    req.signed_event_len = leaf->len;
    if (payload) {
        req.payload = (const uint8_t *)payload;
        req.payload_len = strlen(payload);
        req.salt = salt;
    }
    return ledger_append(f->l, &req, res, err);
}

static void test_presigned_chain(void **state)
{
    struct fx *f = *state;
    uint8_t a[LEDGER_LEARNER_LEN];
    fixture_learner(a, 1);
    struct vt_buf l0, l1, l2, x;
    vt_buf_init(&l0, 4096);
    vt_buf_init(&l1, 4096);
    vt_buf_init(&l2, 4096);
    vt_buf_init(&x, 4096);
    uint8_t h0[32], h1[32], h2[32], hx[32];
    foreign(f, a, 0, NULL, "badge-0", &l0, h0);
    foreign(f, a, 1, h0, "badge-1", &l1, h1);
    foreign(f, a, 2, h1, "badge-2", &l2, h2);
    struct ledger_append_result r;
    struct vt_error err;

    /* Out of order: seq 1 before seq 0 is a gap. */
    assert_int_equal(import(f, &l1, "badge-1", &r, &err), VT_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "gap"));
    /* Wrong payload for the commitment. */
    assert_int_equal(import(f, &l0, "badge-X", &r, &err), VT_ERR_VERIFY);
    assert_int_equal(import(f, &l0, "badge-0", &r, &err), VT_OK);
    assert_int_equal(r.index, 0);
    assert_memory_equal(r.leaf_hash, h0, 32);
    /* The same event again is a retry. */
    assert_int_equal(import(f, &l0, "badge-0", &r, &err), VT_OK);
    assert_true(r.duplicate);
    /* A tampered event fails its signature. */
    vt_buf_reset(&x);
    assert_int_equal(vt_buf_append(&x, l1.data, l1.len, NULL), VT_OK);
    x.data[x.len - 1] ^= 1;
    assert_int_equal(import(f, &x, "badge-1", &r, &err), VT_ERR_VERIFY);
    /* prev not linking to the head. */
    foreign(f, a, 1, h1, "badge-1", &x, hx);
    assert_int_equal(import(f, &x, "badge-1", &r, &err), VT_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "prev"));
    /* Mixing pre-signed with ordinary requests in one batch is refused. */
    struct ledger_append_req mixed[2];
    memset(mixed, 0, sizeof(mixed));
    mixed[0].signed_event = l1.data;
    mixed[0].signed_event_len = l1.len;
    mixed[1] = fixture_req(a, "attempt", "x");
    struct ledger_append_result mr[2];
    assert_int_equal(ledger_append_batch(f->l, mixed, 2, mr, &err), VT_ERR_INVALID);

    /* Seq 1 and 2 together in one batch, one of them without payload. */
    struct ledger_append_req reqs[2];
    memset(reqs, 0, sizeof(reqs));
    reqs[0].signed_event = l1.data;
    reqs[0].signed_event_len = l1.len;
    reqs[0].payload = (const uint8_t *)"badge-1";
    reqs[0].payload_len = 7;
    reqs[0].salt = salt;
    reqs[1].signed_event = l2.data;
    reqs[1].signed_event_len = l2.len;
    struct ledger_append_result rr[2];
    assert_int_equal(ledger_append_batch(f->l, reqs, 2, rr, &err), VT_OK);

    /* Fork: another validly signed event at seq 1 is kept as evidence and refused. */
    foreign(f, a, 1, h0, "a different badge", &x, hx);
    assert_int_equal(import(f, &x, "a different badge", &r, &err), VT_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "fork"));
    struct vt_buf ev;
    vt_buf_init(&ev, 4096);
    assert_int_equal(ledger_fork_read(f->l, a, 1, &ev, &err), VT_OK);
    assert_int_equal(ev.len, x.len);
    assert_memory_equal(ev.data, x.data, x.len);
    assert_int_equal(ledger_fork_read(f->l, a, 2, &ev, &err), VT_ERR_NOT_FOUND);

    /* Payloads: imported plaintext reads back; the one imported without it is absent. */
    struct vt_buf pt;
    vt_buf_init(&pt, 1 << 20);
    assert_int_equal(ledger_payload_read(f->l, 1, &pt, &err), VT_OK);
    assert_memory_equal(pt.data, "badge-1", 7);
    assert_int_equal(ledger_payload_read(f->l, 2, &pt, &err), VT_ERR_NOT_FOUND);

    struct ledger_chain_report cr;
    enum vt_status st = ledger_verify_learner(f->l, a, &cr, &err);
    if (st != VT_OK)
        fail_msg("verify: %s", err.msg);
    assert_int_equal(cr.events, 3);
    assert_int_equal(cr.payloads_checked, 2);
    assert_int_equal(cr.checkpoint_size, 3);
    struct ledger_check_report rep;
    st = ledger_check(f->l, &rep, &err);
    if (st != VT_OK)
        fail_msg("check: %s", err.msg);
    assert_int_equal(rep.forks, 1);
    assert_int_equal(rep.events, 3);

    /* Service events continue the imported chain. */
    struct ledger_append_req next = fixture_req(a, "endorsement", "nice");
    assert_int_equal(ledger_append(f->l, &next, &r, &err), VT_OK);
    assert_int_equal(r.seq, 3);
    assert_int_equal(ledger_verify_learner(f->l, a, &cr, &err), VT_OK);
    uint8_t unknown[LEDGER_LEARNER_LEN];
    fixture_learner(unknown, 99);
    assert_int_equal(ledger_verify_learner(f->l, unknown, &cr, &err), VT_ERR_NOT_FOUND);
    vt_buf_release(&pt);
    vt_buf_release(&ev);
    vt_buf_release(&l0);
    vt_buf_release(&l1);
    vt_buf_release(&l2);
    vt_buf_release(&x);
}

static void test_long_chain(void **state)
{
    struct fx *f = *state;
    uint8_t a[LEDGER_LEARNER_LEN];
    fixture_learner(a, 4);
    enum { N = 600 };
    struct ledger_append_req *reqs = calloc(N, sizeof(*reqs));
    struct ledger_append_result *res = calloc(N, sizeof(*res));
    for (int i = 0; i < N; i++)
        reqs[i] = fixture_req(a, "progress", "step");
    assert_int_equal(ledger_append_batch(f->l, reqs, N, res, NULL), VT_OK);
    for (int i = 0; i < N; i++)
        assert_int_equal(res[i].seq, (uint64_t)i);
    struct ledger_chain_report cr;
    struct vt_error err;
    assert_int_equal(ledger_verify_learner(f->l, a, &cr, &err), VT_OK);
    assert_int_equal(cr.events, N);
    assert_int_equal(ledger_check(f->l, NULL, &err), VT_OK);
    free(reqs);
    free(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_presigned_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_chain, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
