/* The writer: group commit under concurrent producers, idempotency, bad input in a batch. */
#include "ledger_fixture.h"

#include <pthread.h>

struct fx {
    char *dir;
    struct vt_key key;
    struct ledger *l;
};

static int setup(void **state)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    struct fx *f = calloc(1, sizeof(*f));
    f->dir = fixture_tmpdir();
    fixture_key(&f->key, 5);
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

#define PRODUCERS 8
#define PER_PRODUCER 150

struct producer {
    struct ledger *l;
    int id;
    int failures;
    struct ledger_append_result res[PER_PRODUCER];
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < PER_PRODUCER; i++) {
        uint8_t learner[LEDGER_LEARNER_LEN];
        /* Producers share learners so that chains interleave across batches. */
        fixture_learner(learner, (uint32_t)((p->id + i) % 5));
        char payload[32], id[32];
        snprintf(payload, sizeof(payload), "p%d-%d", p->id, i);
        snprintf(id, sizeof(id), "id-%d-%d", p->id, i);
        struct ledger_append_req req = fixture_req(learner, "attempt", payload);
        req.event_id = (const uint8_t *)id;
        req.event_id_len = strlen(id);
        if (ledger_append(p->l, &req, &p->res[i], NULL) != VT_OK)
            p->failures++;
    }
    return NULL;
}

static void test_concurrent_producers(void **state)
{
    struct fx *f = *state;
    struct producer *ps = calloc(PRODUCERS, sizeof(*ps));
    pthread_t t[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        ps[i].l = f->l;
        ps[i].id = i;
        pthread_create(&t[i], NULL, produce, &ps[i]);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    uint64_t total = PRODUCERS * PER_PRODUCER;
    assert_int_equal(ledger_size(f->l), total);
    /* Every index is handed out exactly once. */
    uint8_t *seen = calloc(total, 1);
    for (int i = 0; i < PRODUCERS; i++) {
        assert_int_equal(ps[i].failures, 0);
        for (int j = 0; j < PER_PRODUCER; j++) {
            assert_true(ps[i].res[j].index < total);
            assert_int_equal(seen[ps[i].res[j].index], 0);
            seen[ps[i].res[j].index] = 1;
            /* A producer's own appends to one learner are ordered. */
            if (j >= 5)
                assert_true(ps[i].res[j].seq > ps[i].res[j - 5].seq);
        }
    }
    free(seen);
    struct vt_error err;
    struct ledger_check_report rep;
    enum vt_status st = ledger_check(f->l, &rep, &err);
    if (st != VT_OK)
        fail_msg("check: %s", err.msg);
    assert_int_equal(rep.learners, 5);
    for (uint32_t i = 0; i < 5; i++) {
        uint8_t learner[LEDGER_LEARNER_LEN];
        fixture_learner(learner, i);
        struct ledger_chain_report cr;
        st = ledger_verify_learner(f->l, learner, &cr, &err);
        if (st != VT_OK)
            fail_msg("verify: %s", err.msg);
        assert_int_equal(cr.payloads_checked, cr.events);
    }
    /* Retrying every append returns the original results and writes nothing. */
    ps[0].failures = 0;
    struct ledger_append_result first[PER_PRODUCER];
    memcpy(first, ps[0].res, sizeof(first));
    produce(&ps[0]);
    assert_int_equal(ps[0].failures, 0);
    for (int j = 0; j < PER_PRODUCER; j++) {
        assert_true(ps[0].res[j].duplicate);
        assert_int_equal(ps[0].res[j].index, first[j].index);
        assert_int_equal(ps[0].res[j].seq, first[j].seq);
        assert_memory_equal(ps[0].res[j].leaf_hash, first[j].leaf_hash, LEDGER_HASH_LEN);
    }
    assert_int_equal(ledger_size(f->l), total);
    struct ledger_append_result r;
    assert_int_equal(ledger_id_lookup(f->l, (const uint8_t *)"id-3-7", 6, &r, NULL), VT_OK);
    assert_int_equal(r.index, ps[3].res[7].index);
    assert_int_equal(ledger_id_lookup(f->l, (const uint8_t *)"nope", 4, &r, NULL),
                     VT_ERR_NOT_FOUND);
    free(ps);
}

static void test_bad_input_in_batch(void **state)
{
    struct fx *f = *state;
    uint8_t a[LEDGER_LEARNER_LEN];
    fixture_learner(a, 1);
    static uint8_t big[(64 << 10) + 1];
    struct ledger_append_req reqs[8];
    reqs[0] = fixture_req(a, "attempt", "ok0");
    reqs[1] = fixture_req(a, "telepathy", "x");
    reqs[2] = fixture_req(a, "attempt", NULL);
    reqs[2].payload = big;
    reqs[2].payload_len = sizeof(big);
    reqs[3] = fixture_req(a, "erasure", NULL);
    reqs[4] = fixture_req(a, NULL, "x");
    reqs[5] = fixture_req(a, "progress", "ok5");
    reqs[5].event_id = (const uint8_t *)"dup";
    reqs[5].event_id_len = 3;
    reqs[6] = fixture_req(a, "progress", "ok6 (same id: a retry inside one batch)");
    reqs[6].event_id = (const uint8_t *)"dup";
    reqs[6].event_id_len = 3;
    reqs[7] = fixture_req(a, "attempt", "id reused with another type");
    reqs[7].event_id = (const uint8_t *)"dup";
    reqs[7].event_id_len = 3;
    struct ledger_append_result res[8];
    struct vt_error err;
    assert_int_equal(ledger_append_batch(f->l, reqs, 8, res, &err), VT_ERR_UNSUPPORTED);
    assert_int_equal(res[0].status, VT_OK);
    assert_int_equal(res[1].status, VT_ERR_UNSUPPORTED);
    assert_non_null(strstr(res[1].error.msg, "telepathy"));
    assert_int_equal(res[2].status, VT_ERR_TOO_LARGE);
    assert_int_equal(res[3].status, VT_ERR_INVALID);
    assert_int_equal(res[4].status, VT_ERR_INVALID);
    assert_int_equal(res[5].status, VT_OK);
    assert_int_equal(res[6].status, VT_OK);
    assert_true(res[6].duplicate);
    assert_int_equal(res[6].index, res[5].index);
    assert_int_equal(res[7].status, VT_ERR_CONFLICT);
    /* Only the two good events were written, without gaps in seq. */
    assert_int_equal(ledger_size(f->l), 2);
    assert_int_equal(res[0].seq, 0);
    assert_int_equal(res[5].seq, 1);
    /* The writer keeps serving. */
    struct ledger_append_req ok = fixture_req(a, "attempt", "after");
    struct ledger_append_result r;
    assert_int_equal(ledger_append(f->l, &ok, &r, NULL), VT_OK);
    assert_int_equal(r.seq, 2);
    /* Batch-level misuse. */
    assert_int_equal(ledger_append_batch(f->l, reqs, 0, res, &err), VT_ERR_INVALID);
    struct ledger_append_req bad_id = fixture_req(a, "attempt", "x");
    bad_id.event_id_len = 3;
    assert_int_equal(ledger_append(f->l, &bad_id, &r, &err), VT_ERR_INVALID);
    assert_int_equal(ledger_check(f->l, NULL, &err), VT_OK);
}

static void test_small_batches(void **state)
{
    struct fx *f = *state;
    ledger_close(f->l);
    struct ledger_options o;
    ledger_options_init(&o);
    o.key = &f->key;
    o.origin = "test.example/ledger";
    o.batch_max = 3;
    o.batch_ms = 0;
    o.sign_threads = 1;
    o.payload_max = 10;
    struct vt_error err;
    assert_int_equal(ledger_open(f->dir, &o, &f->l, &err), VT_OK);
    struct ledger_append_req reqs[10];
    struct ledger_append_result res[10];
    uint8_t a[LEDGER_LEARNER_LEN];
    for (int i = 0; i < 10; i++) {
        fixture_learner(a, (uint32_t)i % 2);
        reqs[i] = fixture_req(a, "attempt", i == 9 ? "eleven byte" : "small");
    }
    assert_int_equal(ledger_append_batch(f->l, reqs, 10, res, &err), VT_ERR_TOO_LARGE);
    assert_int_equal(ledger_size(f->l), 9);
    assert_int_equal(ledger_check(f->l, NULL, &err), VT_OK);
}

/* A sequencer that replicates every batch to a follower ledger, as a cluster would, and
 * can be told to fail. */
struct replica {
    struct ledger *follower;
    uint64_t batches, leaves;
    bool fail;
    bool out_of_order;
};

static enum vt_status replicate(void *ctx, uint64_t batch, const uint8_t *const *leaves,
                                const size_t *lens, size_t n, struct vt_error *err)
{
    struct replica *r = ctx;
    if (batch != r->batches)
        r->out_of_order = true;
    r->batches++;
    if (r->fail)
        return vt_error_set(err, VT_ERR_BUSY, "replication quorum lost");
    struct ledger_append_req *reqs = calloc(n, sizeof(*reqs));
    struct ledger_append_result *res = calloc(n, sizeof(*res));
    for (size_t i = 0; i < n; i++) {
        reqs[i].signed_event = leaves[i];
        reqs[i].signed_event_len = lens[i];
    }
    enum vt_status st = ledger_append_batch(r->follower, reqs, n, res, err);
    r->leaves += n;
    free(reqs);
    free(res);
    return st;
}

static void test_custom_sequencer(void **state)
{
    struct fx *f = *state;
    ledger_close(f->l);
    char *fdir = fixture_tmpdir();
    struct replica rep = {fixture_open(fdir, &f->key, 0), 0, 0, false, false};
    struct ledger_sequencer seq = {replicate, &rep};
    struct ledger_options o;
    ledger_options_init(&o);
    o.key = &f->key;
    o.origin = "test.example/ledger";
    o.sequencer = &seq;
    struct vt_error err;
    assert_int_equal(ledger_open(f->dir, &o, &f->l, &err), VT_OK);

    struct producer *ps = calloc(4, sizeof(*ps));
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        ps[i].l = f->l;
        ps[i].id = i;
        pthread_create(&t[i], NULL, produce, &ps[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(ps[i].failures, 0);
    }
    uint64_t n = ledger_size(f->l);
    assert_int_equal(n, 4 * PER_PRODUCER);
    assert_false(rep.out_of_order);
    assert_int_equal(rep.leaves, n);
    /* The follower holds the same log, leaf for leaf, and it verifies. */
    assert_int_equal(ledger_size(rep.follower), n);
    struct vt_buf a, b;
    vt_buf_init(&a, 4096);
    vt_buf_init(&b, 4096);
    for (uint64_t i = 0; i < n; i += 37) {
        vt_buf_reset(&a);
        vt_buf_reset(&b);
        assert_int_equal(ledger_event_read(f->l, i, &a, NULL), VT_OK);
        assert_int_equal(ledger_event_read(rep.follower, i, &b, NULL), VT_OK);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
    }
    struct ledger_checkpoint ca, cb;
    assert_int_equal(ledger_checkpoint_latest(f->l, NULL, &ca, NULL), VT_OK);
    assert_int_equal(ledger_checkpoint_latest(rep.follower, NULL, &cb, NULL), VT_OK);
    assert_memory_equal(ca.root, cb.root, LEDGER_HASH_LEN);
    assert_int_equal(ledger_check(rep.follower, NULL, &err), VT_OK);

    /* A batch the sequencer refuses is not written and takes no seq. */
    uint8_t learner[LEDGER_LEARNER_LEN];
    fixture_learner(learner, 0);
    uint64_t head;
    assert_int_equal(ledger_head(f->l, learner, &head, NULL, NULL, NULL), VT_OK);
    rep.fail = true;
    struct ledger_append_req r = fixture_req(learner, "attempt", "lost");
    struct ledger_append_result res;
    assert_int_equal(ledger_append(f->l, &r, &res, &err), VT_ERR_BUSY);
    assert_non_null(strstr(err.msg, "quorum"));
    assert_int_equal(ledger_size(f->l), n);
    rep.fail = false;
    r = fixture_req(learner, "attempt", "kept");
    assert_int_equal(ledger_append(f->l, &r, &res, &err), VT_OK);
    assert_int_equal(res.seq, head + 1);
    assert_int_equal(ledger_size(rep.follower), n + 1);
    assert_int_equal(ledger_check(f->l, NULL, &err), VT_OK);
    assert_int_equal(ledger_verify_learner(rep.follower, learner, NULL, &err), VT_OK);

    vt_buf_release(&a);
    vt_buf_release(&b);
    free(ps);
    ledger_close(rep.follower);
    fixture_rmtree(fdir);
    free(fdir);
}

/*
 * First events of many learners while batches overlap in the pipeline and the sequencer
 * refuses some of them: the data key a batch creates is stored only by its own commit, and
 * a later batch that borrowed it must be prepared again when that commit fails. Every
 * payload must read back, before and after a reopen.
 */
/* Refuses every other batch that holds a learner's first event: the batches that create
 * data keys. */
struct flaky {
    uint64_t first_event_batches;
    uint64_t refused;
};

static enum vt_status flaky_submit(void *ctx, uint64_t batch, const uint8_t *const *leaves,
                                   const size_t *lens, size_t n, struct vt_error *err)
{
    struct flaky *fl = ctx;
    bool first = false;
    for (size_t i = 0; i < n && !first; i++) {
        struct ledger_event ev;
        assert_int_equal(ledger_leaf_open(leaves[i], lens[i], &ev, NULL, NULL, NULL, NULL), VT_OK);
        first = ev.seq == 0;
    }
    if (first && fl->first_event_batches++ % 2 == 0) {
        fl->refused++;
        return vt_error_set(err, VT_ERR_BUSY, "sequencer refused batch %llu",
                            (unsigned long long)batch);
    }
    return VT_OK;
}

#define KEY_PRODUCERS 8
#define KEY_APPENDS 600

/* Producers append in calls of `per_call` requests; learners are shared and new ones keep
 * coming, so most calls carry first events. Below KEYS_INLINE_MAX live requests a batch
 * stores its keys before signing, above it the committer does. */
struct key_producer {
    struct ledger *l;
    int id;
    size_t per_call;
    int retries;
    uint64_t index[KEY_APPENDS];
};

static void key_payload(char out[32], int producer, int i)
{
    snprintf(out, 32, "k%d-%d", producer, i);
}

static void *produce_first_events(void *arg)
{
    struct key_producer *p = arg;
    struct ledger_append_req reqs[KEY_APPENDS];
    struct ledger_append_result res[KEY_APPENDS];
    char payloads[KEY_APPENDS][32];
    for (size_t i = 0; i < KEY_APPENDS; i += p->per_call) {
        size_t n = p->per_call < KEY_APPENDS - i ? p->per_call : KEY_APPENDS - i;
        for (size_t j = 0; j < n; j++) {
            uint8_t learner[LEDGER_LEARNER_LEN];
            /* All producers reach each new learner at about the same time. */
            fixture_learner(learner, (uint32_t)(1000 + (i + j) / 3));
            key_payload(payloads[i + j], p->id, (int)(i + j));
            reqs[i + j] = fixture_req(learner, "attempt", payloads[i + j]);
        }
        enum vt_status st;
        while ((st = ledger_append_batch(p->l, reqs + i, n, res + i, NULL)) == VT_ERR_BUSY)
            p->retries++;
        assert_int_equal(st, VT_OK);
        for (size_t j = 0; j < n; j++)
            p->index[i + j] = res[i + j].index;
    }
    return NULL;
}

static void check_payloads(struct ledger *l, const struct key_producer *ps)
{
    struct vt_buf pt;
    vt_buf_init(&pt, 4096);
    for (int p = 0; p < KEY_PRODUCERS; p++) {
        for (int i = 0; i < KEY_APPENDS; i++) {
            char want[32];
            key_payload(want, p, i);
            struct vt_error err;
            for (int trusted = 0; trusted < 2; trusted++) {
                vt_buf_reset(&pt);
                enum vt_status st = trusted
                                        ? ledger_payload_read_trusted(l, ps[p].index[i], &pt, &err)
                                        : ledger_payload_read(l, ps[p].index[i], &pt, &err);
                if (st != VT_OK)
                    fail_msg("event %llu: %s", (unsigned long long)ps[p].index[i], err.msg);
                assert_int_equal(pt.len, strlen(want));
                assert_memory_equal(pt.data, want, pt.len);
            }
        }
    }
    vt_buf_release(&pt);
}

static void test_new_keys_across_failed_batches(void **state)
{
    struct fx *f = *state;
    ledger_close(f->l);
    struct flaky fl = {0, 0};
    struct ledger_sequencer seq = {flaky_submit, &fl};
    struct ledger_options o;
    ledger_options_init(&o);
    o.key = &f->key;
    o.origin = "test.example/ledger";
    o.sequencer = &seq;
    struct vt_error err;
    assert_int_equal(ledger_open(f->dir, &o, &f->l, &err), VT_OK);

    struct key_producer *ps = calloc(KEY_PRODUCERS, sizeof(*ps));
    pthread_t t[KEY_PRODUCERS];
    for (int i = 0; i < KEY_PRODUCERS; i++) {
        ps[i].l = f->l;
        ps[i].id = i;
        ps[i].per_call = i % 2 ? 1 : 150;
        pthread_create(&t[i], NULL, produce_first_events, &ps[i]);
    }
    int retries = 0;
    for (int i = 0; i < KEY_PRODUCERS; i++) {
        pthread_join(t[i], NULL);
        retries += ps[i].retries;
    }
    assert_true(retries > 0 && fl.refused > 0);
    assert_int_equal(ledger_size(f->l), KEY_PRODUCERS * KEY_APPENDS);
    check_payloads(f->l, ps);
    assert_int_equal(ledger_check(f->l, NULL, &err), VT_OK);
    for (uint32_t n = 0; n < KEY_APPENDS / 3; n += 7) {
        uint8_t learner[LEDGER_LEARNER_LEN];
        fixture_learner(learner, 1000 + n);
        struct ledger_chain_report rep;
        assert_int_equal(ledger_verify_learner(f->l, learner, &rep, &err), VT_OK);
        assert_int_equal(rep.payloads_checked, rep.events);
    }

    /* The keys are on disk, not only in the writer's cache. */
    ledger_close(f->l);
    f->l = fixture_open(f->dir, &f->key, 0);
    check_payloads(f->l, ps);
    free(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_concurrent_producers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_in_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_custom_sequencer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_keys_across_failed_batches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
