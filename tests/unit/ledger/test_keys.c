/* Privacy: payload encryption, erasure by destroying the data key, KEK rotation. */
#include "ledger_fixture.h"

#include <lmdb.h>
#include <sys/stat.h>

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
    fixture_key(&f->key, 6);
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

static bool file_contains(const char *path, const char *needle)
{
    size_t n;
    char *data = vt_test_read_file(path, &n);
    if (!data)
        return false;
    bool found = memmem(data, n, needle, strlen(needle)) != NULL;
    free(data);
    return found;
}

static void test_payload_is_encrypted(void **state)
{
    struct fx *f = *state;
    uint8_t a[LEDGER_LEARNER_LEN];
    fixture_learner(a, 1);
    const char *secret = "grade=A-minus-very-distinctive-marker";
    struct ledger_append_req req = fixture_req(a, "assessment", secret);
    assert_int_equal(ledger_append(f->l, &req, NULL, NULL), VT_OK);
    char path[512];
    snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
    assert_false(file_contains(path, "very-distinctive-marker"));
    snprintf(path, sizeof(path), "%s/kek", f->dir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, 32);
}

static void test_erasure(void **state)
{
    struct fx *f = *state;
    uint8_t a[LEDGER_LEARNER_LEN], b[LEDGER_LEARNER_LEN];
    fixture_learner(a, 1);
    fixture_learner(b, 2);
    struct ledger_append_req reqs[4] = {
        fixture_req(a, "attempt", "a0"),
        fixture_req(b, "attempt", "b0"),
        fixture_req(a, "attempt", "a1"),
        fixture_req(b, "attempt", "b1"),
    };
    struct ledger_append_result res[4];
    assert_int_equal(ledger_append_batch(f->l, reqs, 4, res, NULL), VT_OK);
    struct ledger_append_result er;
    struct vt_error err;
    assert_int_equal(ledger_erase(f->l, a, &er, &err), VT_OK);
    assert_int_equal(er.seq, 2);
    assert_int_equal(er.index, 4);

    struct vt_buf pt;
    vt_buf_init(&pt, 1 << 20);
    assert_int_equal(ledger_payload_read(f->l, res[0].index, &pt, &err), VT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "erased"));
    assert_int_equal(ledger_payload_read(f->l, res[1].index, &pt, &err), VT_OK);
    assert_memory_equal(pt.data, "b0", 2);

    /* The chain and the proofs still verify; the erasure event is the head. */
    struct ledger_chain_report cr;
    assert_int_equal(ledger_verify_learner(f->l, a, &cr, &err), VT_OK);
    assert_int_equal(cr.events, 3);
    assert_int_equal(cr.payloads_checked, 0);
    assert_int_equal(cr.payloads_erased, 3);
    struct vt_buf leaf;
    vt_buf_init(&leaf, 4096);
    assert_int_equal(ledger_event_read(f->l, er.index, &leaf, NULL), VT_OK);
    struct ledger_event ev;
    assert_int_equal(ledger_leaf_open(leaf.data, leaf.len, &ev, NULL, NULL, NULL, &err), VT_OK);
    assert_string_equal(ev.type, "erasure");

    /* No more events for an erased learner; erasing twice is refused. */
    struct ledger_append_req more = fixture_req(a, "attempt", "again");
    assert_int_equal(ledger_append(f->l, &more, NULL, &err), VT_ERR_CONFLICT);
    assert_int_equal(ledger_erase(f->l, a, NULL, &err), VT_ERR_CONFLICT);
    uint8_t nobody[LEDGER_LEARNER_LEN];
    fixture_learner(nobody, 77);
    assert_int_equal(ledger_erase(f->l, nobody, NULL, &err), VT_ERR_NOT_FOUND);

    /* After a restart the erasure holds. */
    ledger_close(f->l);
    f->l = fixture_open(f->dir, &f->key, 0);
    assert_int_equal(ledger_payload_read(f->l, res[2].index, &pt, &err), VT_ERR_NOT_FOUND);
    assert_int_equal(ledger_append(f->l, &more, NULL, &err), VT_ERR_CONFLICT);
    assert_int_equal(ledger_check(f->l, NULL, &err), VT_OK);
    vt_buf_release(&leaf);
    vt_buf_release(&pt);
}

static void test_kek_rotation(void **state)
{
    struct fx *f = *state;
    uint8_t a[LEDGER_LEARNER_LEN];
    for (uint32_t i = 0; i < 20; i++) {
        fixture_learner(a, i);
        struct ledger_append_req req = fixture_req(a, "attempt", "payload");
        assert_int_equal(ledger_append(f->l, &req, NULL, NULL), VT_OK);
    }
    fixture_learner(a, 3);
    assert_int_equal(ledger_erase(f->l, a, NULL, NULL), VT_OK);
    char path[512];
    snprintf(path, sizeof(path), "%s/kek", f->dir);
    size_t n;
    char *old = vt_test_read_file(path, &n);
    struct vt_error err;
    assert_int_equal(ledger_kek_rotate(f->l, NULL, &err), VT_OK);
    char *now = vt_test_read_file(path, &n);
    assert_int_equal(n, 32);
    assert_memory_not_equal(old, now, 32);
    struct vt_buf pt;
    vt_buf_init(&pt, 1 << 20);
    assert_int_equal(ledger_payload_read(f->l, 0, &pt, &err), VT_OK);

    /* A restart reads the new key file and every live key still unwraps. */
    ledger_close(f->l);
    f->l = fixture_open(f->dir, &f->key, 0);
    for (uint64_t i = 0; i < 20; i++) {
        vt_buf_reset(&pt);
        enum vt_status st = ledger_payload_read(f->l, i, &pt, &err);
        assert_int_equal(st, i == 3 ? VT_ERR_NOT_FOUND : VT_OK);
    }
    ledger_close(f->l);

    /* The old KEK no longer opens the ledger. */
    struct ledger_options o;
    ledger_options_init(&o);
    o.key = &f->key;
    o.origin = "test.example/ledger";
    o.kek = (const uint8_t *)old;
    assert_int_equal(ledger_open(f->dir, &o, &f->l, &err), VT_ERR_VERIFY);
    /* An explicit KEK works and rotates to an explicit new one. */
    o.kek = (const uint8_t *)now;
    assert_int_equal(ledger_open(f->dir, &o, &f->l, &err), VT_OK);
    uint8_t next[32];
    memset(next, 0x42, sizeof(next));
    assert_int_equal(ledger_kek_rotate(f->l, NULL, &err), VT_ERR_INVALID);
    assert_int_equal(ledger_kek_rotate(f->l, next, &err), VT_OK);
    vt_buf_reset(&pt);
    assert_int_equal(ledger_payload_read(f->l, 5, &pt, &err), VT_OK);
    ledger_close(f->l);
    o.kek = next;
    assert_int_equal(ledger_open(f->dir, &o, &f->l, &err), VT_OK);
    vt_buf_reset(&pt);
    assert_int_equal(ledger_payload_read(f->l, 5, &pt, &err), VT_OK);
    assert_memory_equal(pt.data, "payload", 7);
    vt_buf_release(&pt);
    free(old);
    free(now);
}

static void test_interrupted_rotation(void **state)
{
    struct fx *f = *state;
    uint8_t a[LEDGER_LEARNER_LEN];
    fixture_learner(a, 1);
    struct ledger_append_req req = fixture_req(a, "attempt", "payload");
    assert_int_equal(ledger_append(f->l, &req, NULL, NULL), VT_OK);
    ledger_close(f->l);
    /* A rotation that wrote kek.new but never committed: the old key stays in force. */
    char path[512];
    snprintf(path, sizeof(path), "%s/kek.new", f->dir);
    FILE *fp = fopen(path, "wb");
    uint8_t junk[32];
    memset(junk, 9, sizeof(junk));
    fwrite(junk, 1, sizeof(junk), fp);
    fclose(fp);
    f->l = fixture_open(f->dir, &f->key, 0);
    struct vt_buf pt;
    vt_buf_init(&pt, 1 << 20);
    assert_int_equal(ledger_payload_read(f->l, 0, &pt, NULL), VT_OK);
    struct stat sb;
    assert_int_not_equal(stat(path, &sb), 0);
    vt_buf_release(&pt);
}

/* The wrapped data key of learner, read straight from the keys environment. */
static size_t wrapped_key(const char *dir, const uint8_t *learner, uint8_t *out, size_t cap)
{
    char kdir[512];
    snprintf(kdir, sizeof(kdir), "%s/keys", dir);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 4);
    assert_int_equal(mdb_env_open(env, kdir, MDB_RDONLY, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "deks", 0, &dbi), 0);
    MDB_val key = {LEDGER_LEARNER_LEN, (void *)learner}, val;
    assert_int_equal(mdb_get(txn, dbi, &key, &val), 0);
    assert_true(val.mv_size <= cap);
    memcpy(out, val.mv_data, val.mv_size);
    size_t n = val.mv_size;
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return n;
}

static bool file_has_bytes(const char *path, const uint8_t *p, size_t n)
{
    size_t len;
    char *data = vt_test_read_file(path, &len);
    assert_non_null(data);
    bool found = memmem(data, len, p, n) != NULL;
    free(data);
    return found;
}

/* After an erasure, closing compacts the keys environment, so that the destroyed data key
 * does not linger in a free page of keys/data.mdb. */
static void test_erasure_compacts_keys(void **state)
{
    struct fx *f = *state;
    uint8_t a[LEDGER_LEARNER_LEN], b[LEDGER_LEARNER_LEN];
    fixture_learner(a, 1);
    fixture_learner(b, 2);
    for (int i = 0; i < 3; i++) {
        struct ledger_append_req r[2] = {fixture_req(a, "attempt", "x"),
                                         fixture_req(b, "attempt", "y")};
        struct ledger_append_result res[2];
        assert_int_equal(ledger_append_batch(f->l, r, 2, res, NULL), VT_OK);
    }
    ledger_close(f->l);
    f->l = NULL;
    uint8_t rec[128];
    size_t n = wrapped_key(f->dir, a, rec, sizeof(rec));
    assert_true(n > 1);
    char path[512];
    snprintf(path, sizeof(path), "%s/keys/data.mdb", f->dir);
    assert_true(file_has_bytes(path, rec, n));
    f->l = fixture_open(f->dir, &f->key, 0);
    assert_int_equal(ledger_erase(f->l, a, NULL, NULL), VT_OK);
    ledger_close(f->l);
    f->l = NULL;
    assert_false(file_has_bytes(path, rec, n));
    snprintf(path, sizeof(path), "%s/keys/data.mdb.compact", f->dir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), -1);
    /* The compacted environment still holds the other learner's key and the tombstone. */
    f->l = fixture_open(f->dir, &f->key, 0);
    struct vt_buf pt;
    vt_buf_init(&pt, 1024);
    assert_int_equal(ledger_payload_read(f->l, 1, &pt, NULL), VT_OK);
    assert_int_equal(ledger_payload_read(f->l, 0, &pt, NULL), VT_ERR_NOT_FOUND);
    assert_int_equal(ledger_verify_learner(f->l, a, NULL, NULL), VT_OK);
    assert_int_equal(ledger_check(f->l, NULL, NULL), VT_OK);
    vt_buf_release(&pt);
}

/* The trusted read gives what the checked read gives, for every kind of payload. */
static void test_trusted_read_agrees(void **state)
{
    struct fx *f = *state;
    uint8_t a[LEDGER_LEARNER_LEN], b[LEDGER_LEARNER_LEN];
    fixture_learner(a, 1);
    fixture_learner(b, 2);
    struct ledger_append_req reqs[5] = {
        fixture_req(a, "attempt", "a0"),
        fixture_req(b, "attempt", NULL),
        fixture_req(a, "attempt", "a1"),
        fixture_req(b, "progress", "b1 with a longer payload than the others"),
        fixture_req(b, "attempt", ""),
    };
    struct ledger_append_result res[5];
    assert_int_equal(ledger_append_batch(f->l, reqs, 5, res, NULL), VT_OK);
    assert_int_equal(ledger_erase(f->l, a, NULL, NULL), VT_OK);
    /* Events 0..5 (5: the erasure) and one past the end. */
    for (uint64_t i = 0; i <= 6; i++) {
        struct vt_buf p1, p2;
        vt_buf_init(&p1, 1 << 20);
        vt_buf_init(&p2, 1 << 20);
        struct vt_error e1, e2;
        vt_error_clear(&e1);
        vt_error_clear(&e2);
        enum vt_status s1 = ledger_payload_read(f->l, i, &p1, &e1);
        enum vt_status s2 = ledger_payload_read_trusted(f->l, i, &p2, &e2);
        assert_int_equal(s1, s2);
        assert_string_equal(e1.msg, e2.msg);
        assert_int_equal(p1.len, p2.len);
        assert_memory_equal(p1.data, p2.data, p1.len);
        vt_buf_release(&p1);
        vt_buf_release(&p2);
    }
    struct vt_buf pt;
    vt_buf_init(&pt, 1 << 20);
    assert_int_equal(ledger_payload_read_trusted(f->l, res[3].index, &pt, NULL), VT_OK);
    assert_int_equal(pt.len, strlen("b1 with a longer payload than the others"));
    assert_int_equal(ledger_payload_read_trusted(f->l, res[0].index, &pt, NULL), VT_ERR_NOT_FOUND);
    vt_buf_release(&pt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_payload_is_encrypted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erasure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trusted_read_agrees, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kek_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupted_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erasure_compacts_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
