/* Pre-signed events: chain rules, fork evidence, commitments; chain and store checks. */
#include "ledger_fixture.h"

#include <lmdb.h>

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

/* ---- tampering with the store on disk ------------------------------------------------- */

/* How to damage one record: flip one bit at offset (negative: from the end), or delete. */
struct damage {
    const char *db;
    const uint8_t *key;
    size_t key_len;
    long offset;
    bool erase;
};

static void tamper(const char *dir, const struct damage *d)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    mdb_env_set_mapsize(env, (size_t)256 << 20);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, d->db, 0, &dbi), 0);
    MDB_val key = {d->key_len, (void *)d->key}, val;
    assert_int_equal(mdb_get(txn, dbi, &key, &val), 0);
    if (d->erase) {
        assert_int_equal(mdb_del(txn, dbi, &key, NULL), 0);
    } else {
        uint8_t *copy = malloc(val.mv_size);
        memcpy(copy, val.mv_data, val.mv_size);
        size_t at = d->offset < 0 ? val.mv_size - (size_t)(-d->offset) : (size_t)d->offset;
        assert_true(at < val.mv_size);
        copy[at] ^= 0x10;
        MDB_val nv = {val.mv_size, copy};
        assert_int_equal(mdb_put(txn, dbi, &key, &nv, 0), 0);
        free(copy);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* A store with learners 1 (events 0, 2, 4, 6, 8) and 2 (1, 3, 5, 7), closed. */
static void build(struct fx *f)
{
    for (int i = 0; i < 9; i++) {
        uint8_t learner[LEDGER_LEARNER_LEN];
        fixture_learner(learner, i % 2 ? 2 : 1);
        struct ledger_append_req r = fixture_req(learner, "attempt", "a payload of some length");
        assert_int_equal(ledger_append(f->l, &r, NULL, NULL), VT_OK);
    }
    ledger_close(f->l);
    f->l = NULL;
}

/* Reopens after damage and expects both checks to name the problem. */
static void expect_damage(struct fx *f, const char *check_msg, const char *verify_msg)
{
    f->l = fixture_open(f->dir, &f->key, 0);
    struct vt_error err;
    vt_error_clear(&err);
    enum vt_status st = ledger_check(f->l, NULL, &err);
    if (st == VT_OK || !strstr(err.msg, check_msg))
        fail_msg("check said '%s' (%s), want '%s'", err.msg, vt_status_name(st), check_msg);
    if (verify_msg) {
        uint8_t learner[LEDGER_LEARNER_LEN];
        fixture_learner(learner, 1);
        vt_error_clear(&err);
        st = ledger_verify_learner(f->l, learner, NULL, &err);
        if (st == VT_OK || !strstr(err.msg, verify_msg))
            fail_msg("verify said '%s' (%s), want '%s'", err.msg, vt_status_name(st), verify_msg);
    }
}

static void test_tamper_event(void **state)
{
    struct fx *f = *state;
    build(f);
    uint8_t k[8];
    vt_be64_put(k, 4);
    /* The last byte of the signature of event 4 (learner 1, seq 2). */
    struct damage d = {"events", k, 8, -1, false};
    tamper(f->dir, &d);
    expect_damage(f, "event 4: event signature does not verify",
                  "event 4: event signature does not verify");
    /* The checked read refuses it; the trusted read skips exactly that check. */
    struct vt_buf pt;
    vt_buf_init(&pt, 4096);
    struct vt_error err;
    assert_int_equal(ledger_payload_read(f->l, 4, &pt, &err), VT_ERR_VERIFY);
    assert_int_equal(ledger_payload_read_trusted(f->l, 4, &pt, &err), VT_OK);
    assert_memory_equal(pt.data, "a payload of some length", pt.len);
    vt_buf_release(&pt);
}

static void test_tamper_envelope(void **state)
{
    struct fx *f = *state;
    build(f);
    uint8_t k[8];
    vt_be64_put(k, 6);
    /* A byte inside the learner id of event 6: canonical CBOR, but another learner. */
    struct damage d = {"events", k, 8, 8, false};
    tamper(f->dir, &d);
    expect_damage(f, "event 6", "event 6");
}

static void test_tamper_stored_hash(void **state)
{
    struct fx *f = *state;
    build(f);
    uint8_t k[8];
    vt_be64_put(k, 5); /* the node over leaves 2..3 */
    struct damage d = {"hashes", k, 8, 0, false};
    tamper(f->dir, &d);
    expect_damage(f, "stored tree hash 5 does not match the leaves", NULL);
}

static void test_tamper_head(void **state)
{
    struct fx *f = *state;
    build(f);
    uint8_t learner[LEDGER_LEARNER_LEN];
    fixture_learner(learner, 1);
    struct damage d = {"heads", learner, LEDGER_LEARNER_LEN, -1, false};
    tamper(f->dir, &d);
    expect_damage(f, "learner head disagrees with its chain",
                  "learner head does not match the newest event");
}

static void test_tamper_payload(void **state)
{
    struct fx *f = *state;
    build(f);
    uint8_t k[8];
    vt_be64_put(k, 2);
    struct damage d = {"payloads", k, 8, 30, false};
    tamper(f->dir, &d);
    expect_damage(f, "event 2: payload ciphertext does not match its hash",
                  "event 2: payload ciphertext does not match its hash");
    /* Both reads still authenticate the payload itself. */
    struct vt_buf pt;
    vt_buf_init(&pt, 4096);
    struct vt_error err;
    assert_int_equal(ledger_payload_read(f->l, 2, &pt, &err), VT_ERR_VERIFY);
    assert_int_equal(ledger_payload_read_trusted(f->l, 2, &pt, &err), VT_ERR_VERIFY);
    assert_int_equal(pt.len, 0);
    vt_buf_release(&pt);
}

static void test_tamper_checkpoint(void **state)
{
    struct fx *f = *state;
    build(f);
    uint8_t k[8];
    vt_be64_put(k, 9);
    struct damage d = {"checkpoints", k, 8, 2, false};
    tamper(f->dir, &d);
    expect_damage(f, "newest checkpoint", "newest checkpoint");
    /* The read paths refuse it too: nothing verified it before. */
    struct vt_error err;
    assert_int_equal(ledger_checkpoint_latest(f->l, NULL, NULL, &err), VT_ERR_VERIFY);
    uint8_t proof[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
    size_t n;
    assert_int_not_equal(ledger_inclusion_proof(f->l, 0, 0, proof, &n, &err), VT_OK);
    assert_non_null(strstr(err.msg, "newest checkpoint"));
}

static void test_tamper_index(void **state)
{
    struct fx *f = *state;
    build(f);
    uint8_t k[LEDGER_LEARNER_LEN + 8];
    fixture_learner(k, 1);
    vt_be64_put(k + LEDGER_LEARNER_LEN, 3);
    struct damage d = {"lseq", k, sizeof(k), 0, true};
    tamper(f->dir, &d);
    expect_damage(f, "event 6: learner index entry is missing",
                  "seq 3: learner index entry is missing");
}

static void test_tamper_provenance(void **state)
{
    struct fx *f = *state;
    uint8_t a[LEDGER_LEARNER_LEN];
    fixture_learner(a, 1);
    struct vt_buf l0;
    vt_buf_init(&l0, 4096);
    uint8_t h0[32];
    foreign(f, a, 0, NULL, "badge-0", &l0, h0);
    assert_int_equal(import(f, &l0, "badge-0", NULL, NULL), VT_OK);
    struct ledger_provenance prov;
    assert_int_equal(ledger_provenance_read(f->l, a, 0, &prov, NULL, NULL), VT_OK);
    assert_false(prov.has_checkpoint);
    assert_memory_equal(prov.service_key, f->author.pk, 32);
    assert_string_equal(prov.origin, "other.example/ledger");
    ledger_close(f->l);
    f->l = NULL;
    uint8_t k[LEDGER_LEARNER_LEN + 8];
    memcpy(k, a, LEDGER_LEARNER_LEN);
    vt_be64_put(k + LEDGER_LEARNER_LEN, 0);
    struct damage d = {"provenance", k, sizeof(k), 0, true};
    tamper(f->dir, &d);
    expect_damage(f, "event 0: its author is not the service key and it has no provenance",
                  "event 0: its author is not the service key and it has no provenance");
    vt_buf_release(&l0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_presigned_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_envelope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_stored_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_payload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_provenance, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
