/* The store: appends, reads, heads, checkpoints, proofs, tiles, reopening, map growth. */
#include "ledger_fixture.h"

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
    fixture_key(&f->key, 3);
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

static void test_append_and_read(void **state)
{
    struct fx *f = *state;
    uint8_t a[LEDGER_LEARNER_LEN], b[LEDGER_LEARNER_LEN];
    fixture_learner(a, 1);
    fixture_learner(b, 2);
    struct ledger_append_result r0, r1, r2;
    struct ledger_append_req req = fixture_req(a, "enrollment", "{\"course\":\"c1\"}");
    struct vt_error err;
    assert_int_equal(ledger_append(f->l, &req, &r0, &err), VT_OK);
    req = fixture_req(b, "attempt", "x");
    assert_int_equal(ledger_append(f->l, &req, &r1, &err), VT_OK);
    req = fixture_req(a, "progress", "");
    assert_int_equal(ledger_append(f->l, &req, &r2, &err), VT_OK);
    assert_int_equal(r0.index, 0);
    assert_int_equal(r0.seq, 0);
    assert_int_equal(r1.index, 1);
    assert_int_equal(r1.seq, 0);
    assert_int_equal(r2.index, 2);
    assert_int_equal(r2.seq, 1);
    assert_int_equal(ledger_size(f->l), 3);

    /* The event links to the learner's previous leaf hash. */
    struct vt_buf leaf;
    vt_buf_init(&leaf, 4096);
    assert_int_equal(ledger_event_read(f->l, 2, &leaf, NULL), VT_OK);
    struct ledger_event ev;
    assert_int_equal(ledger_leaf_open(leaf.data, leaf.len, &ev, NULL, NULL, NULL, &err), VT_OK);
    assert_true(ev.has_prev);
    assert_memory_equal(ev.prev, r0.leaf_hash, LEDGER_HASH_LEN);
    assert_string_equal(ev.type, "progress");
    assert_string_equal(ev.origin, "test.example/ledger");
    assert_memory_equal(ev.author, f->key.pk, 32);
    uint8_t h[LEDGER_HASH_LEN];
    ledger_leaf_hash(leaf.data, leaf.len, h);
    assert_memory_equal(h, r2.leaf_hash, LEDGER_HASH_LEN);

    uint64_t seq, index;
    assert_int_equal(ledger_head(f->l, a, &seq, &index, h, NULL), VT_OK);
    assert_int_equal(seq, 1);
    assert_int_equal(index, 2);
    assert_memory_equal(h, r2.leaf_hash, LEDGER_HASH_LEN);
    assert_int_equal(ledger_event_index(f->l, a, 0, &index, NULL), VT_OK);
    assert_int_equal(index, 0);
    assert_int_equal(ledger_event_index(f->l, a, 2, &index, NULL), VT_ERR_NOT_FOUND);
    assert_int_equal(ledger_event_read(f->l, 3, &leaf, NULL), VT_ERR_NOT_FOUND);

    struct vt_buf pt;
    vt_buf_init(&pt, 1 << 20);
    assert_int_equal(ledger_payload_read(f->l, 0, &pt, &err), VT_OK);
    assert_int_equal(pt.len, strlen("{\"course\":\"c1\"}"));
    assert_memory_equal(pt.data, "{\"course\":\"c1\"}", pt.len);
    vt_buf_reset(&pt);
    assert_int_equal(ledger_payload_read(f->l, 2, &pt, &err), VT_OK);
    assert_int_equal(pt.len, 0);
    vt_buf_release(&pt);
    vt_buf_release(&leaf);
}

static void test_checkpoint_and_proofs(void **state)
{
    struct fx *f = *state;
    uint8_t a[LEDGER_LEARNER_LEN];
    struct ledger_append_result res[40];
    struct ledger_append_req reqs[40];
    char payload[40][16];
    for (int i = 0; i < 40; i++) {
        fixture_learner(a, (uint32_t)(i % 7));
        snprintf(payload[i], sizeof(payload[i]), "p%d", i);
        reqs[i] = fixture_req(a, "attempt", payload[i]);
    }
    struct vt_error err;
    /* Several batches so that the log has several checkpoints. */
    for (int i = 0; i < 40; i += 10)
        assert_int_equal(ledger_append_batch(f->l, reqs + i, 10, res + i, &err), VT_OK);
    struct ledger_checkpoint cp;
    struct vt_buf note;
    vt_buf_init(&note, 8192);
    assert_int_equal(ledger_checkpoint_latest(f->l, &note, &cp, &err), VT_OK);
    assert_int_equal(cp.size, 40);
    assert_string_equal(cp.origin, "test.example/ledger");
    size_t text_len;
    assert_int_equal(ledger_note_verify((const char *)note.data, note.len, "test.example/ledger",
                                        f->key.pk, &text_len, &err),
                     VT_OK);
    for (uint64_t i = 0; i < 40; i++) {
        uint8_t proof[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
        size_t n;
        assert_int_equal(ledger_inclusion_proof(f->l, i, 0, proof, &n, &err), VT_OK);
        assert_int_equal(ledger_verify_inclusion(res[i].leaf_hash, i, 40,
                                                 (const uint8_t(*)[LEDGER_HASH_LEN])proof, n,
                                                 cp.root, &err),
                         VT_OK);
        /* A flipped bit in the proof fails. */
        if (n) {
            proof[0][0] ^= 1;
            assert_int_not_equal(ledger_verify_inclusion(res[i].leaf_hash, i, 40,
                                                         (const uint8_t(*)[LEDGER_HASH_LEN])proof,
                                                         n, cp.root, &err),
                                 VT_OK);
        }
    }
    /* Consistency from an older size to the newest checkpoint. */
    uint8_t proof[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
    size_t n;
    assert_int_equal(ledger_consistency_proof(f->l, 20, 0, proof, &n, &err), VT_OK);
    assert_true(n > 0);
    uint8_t proof2[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
    assert_int_equal(ledger_inclusion_proof(f->l, 0, 41, proof2, &n, &err), VT_ERR_NOT_FOUND);
    assert_int_equal(ledger_inclusion_proof(f->l, 40, 0, proof2, &n, &err), VT_ERR_NOT_FOUND);

    /* The partial level-0 tile holds the 40 leaf hashes. */
    struct vt_buf tile;
    vt_buf_init(&tile, 1 << 16);
    assert_int_equal(ledger_tile(f->l, 0, 0, 40, &tile, &err), VT_OK);
    assert_int_equal(tile.len, 40 * LEDGER_HASH_LEN);
    for (int i = 0; i < 40; i++)
        assert_memory_equal(tile.data + i * LEDGER_HASH_LEN, res[i].leaf_hash, LEDGER_HASH_LEN);
    vt_buf_release(&tile);
    vt_buf_release(&note);
}

/* Proofs follow the newest checkpoint as it moves (readers keep the last verified one). */
static void test_proofs_follow_new_checkpoints(void **state)
{
    struct fx *f = *state;
    uint8_t a[LEDGER_LEARNER_LEN];
    fixture_learner(a, 3);
    uint8_t leaves[25][LEDGER_HASH_LEN];
    struct vt_error err;
    for (uint64_t size = 1; size <= 25; size++) {
        struct ledger_append_req req = fixture_req(a, "progress", "step");
        struct ledger_append_result r;
        assert_int_equal(ledger_append(f->l, &req, &r, &err), VT_OK);
        memcpy(leaves[r.index], r.leaf_hash, LEDGER_HASH_LEN);
        for (int again = 0; again < 2; again++) {
            struct ledger_checkpoint cp;
            assert_int_equal(ledger_checkpoint_latest(f->l, NULL, &cp, &err), VT_OK);
            assert_int_equal(cp.size, size);
            for (uint64_t i = 0; i < size; i++) {
                uint8_t proof[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
                size_t n;
                assert_int_equal(ledger_inclusion_proof(f->l, i, 0, proof, &n, &err), VT_OK);
                assert_int_equal(ledger_verify_inclusion(leaves[i], i, size,
                                                         (const uint8_t(*)[LEDGER_HASH_LEN])proof,
                                                         n, cp.root, &err),
                                 VT_OK);
            }
        }
    }
    /* A second handle verifies the same checkpoint for itself. */
    ledger_close(f->l);
    f->l = fixture_open(f->dir, &f->key, 0);
    struct ledger_checkpoint cp;
    assert_int_equal(ledger_checkpoint_latest(f->l, NULL, &cp, &err), VT_OK);
    assert_int_equal(cp.size, 25);
}

static void test_reopen_and_conflicts(void **state)
{
    struct fx *f = *state;
    uint8_t a[LEDGER_LEARNER_LEN];
    fixture_learner(a, 9);
    struct ledger_append_req req = fixture_req(a, "attempt", "one");
    struct ledger_append_result r;
    assert_int_equal(ledger_append(f->l, &req, &r, NULL), VT_OK);
    ledger_close(f->l);

    /* Another key or origin is refused. */
    struct vt_key other;
    fixture_key(&other, 4);
    struct ledger_options o;
    ledger_options_init(&o);
    o.key = &other;
    o.origin = "test.example/ledger";
    struct vt_error err;
    assert_int_equal(ledger_open(f->dir, &o, &f->l, &err), VT_ERR_CONFLICT);
    o.key = &f->key;
    o.origin = "elsewhere.example/log";
    assert_int_equal(ledger_open(f->dir, &o, &f->l, &err), VT_ERR_CONFLICT);
    o.key = NULL;
    assert_int_equal(ledger_open(f->dir, &o, &f->l, &err), VT_ERR_INVALID);

    f->l = fixture_open(f->dir, &f->key, 0);
    assert_int_equal(ledger_size(f->l), 1);
    req = fixture_req(a, "attempt", "two");
    assert_int_equal(ledger_append(f->l, &req, &r, NULL), VT_OK);
    assert_int_equal(r.seq, 1);
    assert_int_equal(r.index, 1);
    struct vt_buf pt;
    vt_buf_init(&pt, 1 << 20);
    assert_int_equal(ledger_payload_read(f->l, 0, &pt, &err), VT_OK);
    assert_memory_equal(pt.data, "one", 3);
    vt_buf_release(&pt);
    struct ledger_check_report rep;
    assert_int_equal(ledger_check(f->l, &rep, &err), VT_OK);
    assert_int_equal(rep.events, 2);
}

static void test_map_grows(void **state)
{
    struct fx *f = *state;
    ledger_close(f->l);
    fixture_rmtree(f->dir);
    f->l = fixture_open(f->dir, &f->key, 1 << 20);
    /* Enough data to need several doublings of a 1 MiB map. */
    static char big[8000];
    memset(big, 'z', sizeof(big) - 1);
    struct ledger_append_req reqs[50];
    struct ledger_append_result res[50];
    uint8_t a[LEDGER_LEARNER_LEN];
    struct vt_error err;
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 50; i++) {
            fixture_learner(a, (uint32_t)i);
            reqs[i] = fixture_req(a, "attempt", big);
        }
        enum vt_status st = ledger_append_batch(f->l, reqs, 50, res, &err);
        if (st != VT_OK)
            fail_msg("append: %s", err.msg);
    }
    assert_int_equal(ledger_size(f->l), 1000);
    struct ledger_check_report rep;
    enum vt_status st = ledger_check(f->l, &rep, &err);
    if (st != VT_OK)
        fail_msg("check: %s", err.msg);
    assert_int_equal(rep.learners, 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_and_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_and_proofs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proofs_follow_new_checkpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_and_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_grows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
