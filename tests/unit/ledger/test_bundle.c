/* Twin bundles: round trips between ledgers, and refusal of every kind of damaged bundle. */
#include "ledger_fixture.h"

struct fx {
    char *dir_a, *dir_b;
    struct vt_key key_a, key_b;
    struct ledger *a, *b;
    uint8_t learner[LEDGER_LEARNER_LEN];
    struct vt_buf bundle;
};

#define EVENTS 12

static struct ledger *open_named(const char *dir, const struct vt_key *key, const char *origin,
                                 size_t bundle_max)
{
    struct ledger_options o;
    ledger_options_init(&o);
    o.key = key;
    o.origin = origin;
    if (bundle_max)
        o.bundle_max = bundle_max;
    struct ledger *l = NULL;
    struct vt_error err;
    if (ledger_open(dir, &o, &l, &err) != VT_OK)
        fail_msg("ledger_open: %s", err.msg);
    return l;
}

/* EVENTS events for the learner, interleaved with another learner's, some without payload. */
static void fill(struct ledger *l, const uint8_t *learner, int from, int to)
{
    uint8_t other[LEDGER_LEARNER_LEN];
    fixture_learner(other, 77);
    for (int i = from; i < to; i++) {
        char payload[64], id[32];
        snprintf(payload, sizeof(payload), "score %d of the learner", i);
        snprintf(id, sizeof(id), "ev-%d", i);
        struct ledger_append_req r[2];
        r[0] =
            fixture_req(learner, i % 4 == 3 ? "progress" : "attempt", i % 4 == 3 ? NULL : payload);
        r[0].event_id = (const uint8_t *)id;
        r[0].event_id_len = strlen(id);
        r[1] = fixture_req(other, "attempt", "noise");
        struct ledger_append_result res[2];
        struct vt_error err;
        if (ledger_append_batch(l, r, 2, res, &err) != VT_OK)
            fail_msg("append: %s", err.msg);
    }
}

static int setup(void **state)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    struct fx *f = calloc(1, sizeof(*f));
    f->dir_a = fixture_tmpdir();
    f->dir_b = fixture_tmpdir();
    fixture_key(&f->key_a, 21);
    fixture_key(&f->key_b, 22);
    f->a = open_named(f->dir_a, &f->key_a, "a.example/ledger", 0);
    f->b = open_named(f->dir_b, &f->key_b, "b.example/ledger", 0);
    fixture_learner(f->learner, 1);
    fill(f->a, f->learner, 0, EVENTS);
    vt_buf_init(&f->bundle, VT_BUF_DEFAULT_MAX);
    struct vt_error err;
    if (ledger_bundle_export(f->a, f->learner, NULL, &f->bundle, &err) != VT_OK)
        fail_msg("export: %s", err.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ledger_close(f->a);
    ledger_close(f->b);
    fixture_rmtree(f->dir_a);
    fixture_rmtree(f->dir_b);
    free(f->dir_a);
    free(f->dir_b);
    vt_buf_release(&f->bundle);
    free(f);
    return 0;
}

static void expect_verified(struct ledger *l, const uint8_t *learner, uint64_t events)
{
    struct vt_error err;
    struct ledger_chain_report cr;
    if (ledger_verify_learner(l, learner, &cr, &err) != VT_OK)
        fail_msg("verify: %s", err.msg);
    assert_int_equal(cr.events, events);
    if (ledger_check(l, NULL, &err) != VT_OK)
        fail_msg("check: %s", err.msg);
}

/* Every payload of the learner reads back the same on both ledgers. */
static void expect_same_payloads(struct ledger *a, struct ledger *b, const uint8_t *learner,
                                 uint64_t events)
{
    struct vt_buf pa, pb;
    vt_buf_init(&pa, 1 << 20);
    vt_buf_init(&pb, 1 << 20);
    for (uint64_t seq = 0; seq < events; seq++) {
        uint64_t ia, ib;
        assert_int_equal(ledger_event_index(a, learner, seq, &ia, NULL), VT_OK);
        assert_int_equal(ledger_event_index(b, learner, seq, &ib, NULL), VT_OK);
        vt_buf_reset(&pa);
        vt_buf_reset(&pb);
        struct vt_error err;
        if (ledger_payload_read(a, ia, &pa, &err) != VT_OK)
            fail_msg("read a: %s", err.msg);
        if (ledger_payload_read(b, ib, &pb, &err) != VT_OK)
            fail_msg("read b at seq %llu: %s", (unsigned long long)seq, err.msg);
        assert_int_equal(pa.len, pb.len);
        assert_memory_equal(pa.data, pb.data, pa.len);
    }
    vt_buf_release(&pa);
    vt_buf_release(&pb);
}

static void test_round_trip(void **state)
{
    struct fx *f = *state;
    struct vt_error err;
    struct ledger_bundle_result res;
    /* The bundle is canonical CBOR and carries the payloads in the clear. */
    assert_int_equal(vt_cbor_check(f->bundle.data, f->bundle.len, 4, NULL), VT_OK);
    assert_non_null(memmem(f->bundle.data, f->bundle.len, "score 5 of", 10));
    if (ledger_bundle_import(f->b, f->bundle.data, f->bundle.len, NULL, &res, &err) != VT_OK)
        fail_msg("import: %s", err.msg);
    assert_int_equal(res.events, EVENTS);
    assert_int_equal(res.imported, EVENTS);
    assert_int_equal(res.present, 0);
    assert_int_equal(res.payloads, EVENTS - EVENTS / 4);
    assert_string_equal(res.origin, "a.example/ledger");
    assert_memory_equal(res.service_key, f->key_a.pk, 32);
    assert_int_equal(res.checkpoint_size, 2 * EVENTS);
    expect_verified(f->b, f->learner, EVENTS);
    expect_same_payloads(f->a, f->b, f->learner, EVENTS);
    uint8_t head[LEDGER_HASH_LEN];
    assert_int_equal(ledger_head(f->a, f->learner, NULL, NULL, head, NULL), VT_OK);
    assert_memory_equal(res.head_leaf, head, LEDGER_HASH_LEN);

    /* Provenance: the exporting log, its key and its signed checkpoint. */
    struct ledger_provenance prov;
    struct vt_buf note, cp;
    vt_buf_init(&note, 8192);
    vt_buf_init(&cp, 8192);
    if (ledger_provenance_read(f->b, f->learner, 3, &prov, &note, &err) != VT_OK)
        fail_msg("provenance: %s", err.msg);
    assert_string_equal(prov.origin, "a.example/ledger");
    assert_memory_equal(prov.service_key, f->key_a.pk, 32);
    assert_true(prov.has_checkpoint);
    assert_int_equal(prov.checkpoint_size, 2 * EVENTS);
    assert_int_equal(ledger_checkpoint_latest(f->a, &cp, NULL, NULL), VT_OK);
    assert_int_equal(note.len, cp.len);
    assert_memory_equal(note.data, cp.data, cp.len);
    assert_int_equal(ledger_provenance_read(f->a, f->learner, 3, &prov, NULL, &err),
                     VT_ERR_NOT_FOUND);

    /* Importing the same bundle again is idempotent. */
    uint64_t size = ledger_size(f->b);
    assert_int_equal(ledger_bundle_import(f->b, f->bundle.data, f->bundle.len, NULL, &res, &err),
                     VT_OK);
    assert_int_equal(res.imported, 0);
    assert_int_equal(res.present, EVENTS);
    assert_int_equal(ledger_size(f->b), size);

    /* A newer bundle adds only the new events. */
    fill(f->a, f->learner, EVENTS, EVENTS + 3);
    vt_buf_reset(&f->bundle);
    assert_int_equal(ledger_bundle_export(f->a, f->learner, NULL, &f->bundle, &err), VT_OK);
    assert_int_equal(ledger_bundle_import(f->b, f->bundle.data, f->bundle.len, NULL, &res, &err),
                     VT_OK);
    assert_int_equal(res.imported, 3);
    assert_int_equal(res.present, EVENTS);

    /* B continues the chain with its own key, and the learner moves back to A. */
    struct ledger_append_req r = fixture_req(f->learner, "endorsement", "well done");
    assert_int_equal(ledger_append(f->b, &r, NULL, &err), VT_OK);
    expect_verified(f->b, f->learner, EVENTS + 4);
    vt_buf_reset(&f->bundle);
    assert_int_equal(ledger_bundle_export(f->b, f->learner, NULL, &f->bundle, &err), VT_OK);
    if (ledger_bundle_import(f->a, f->bundle.data, f->bundle.len, NULL, &res, &err) != VT_OK)
        fail_msg("import back: %s", err.msg);
    assert_int_equal(res.imported, 1);
    assert_int_equal(res.present, EVENTS + 3);
    expect_verified(f->a, f->learner, EVENTS + 4);
    expect_same_payloads(f->a, f->b, f->learner, EVENTS + 4);
    assert_int_equal(ledger_provenance_read(f->a, f->learner, EVENTS + 3, &prov, NULL, &err),
                     VT_OK);
    assert_string_equal(prov.origin, "b.example/ledger");
    vt_buf_release(&note);
    vt_buf_release(&cp);
}

static void test_sealed(void **state)
{
    struct fx *f = *state;
    struct vt_key rk, wrong;
    fixture_key(&rk, 40);
    fixture_key(&wrong, 41);
    uint8_t rpk[VT_X25519_LEN], rsk[VT_X25519_LEN], wpk[VT_X25519_LEN], wsk[VT_X25519_LEN];
    assert_int_equal(vt_key_x25519(&rk, rpk, rsk, NULL), VT_OK);
    assert_int_equal(vt_key_x25519(&wrong, wpk, wsk, NULL), VT_OK);
    struct vt_buf sealed;
    vt_buf_init(&sealed, VT_BUF_DEFAULT_MAX);
    struct vt_error err;
    assert_int_equal(ledger_bundle_export(f->a, f->learner, rpk, &sealed, &err), VT_OK);
    assert_int_equal(vt_cbor_check(sealed.data, sealed.len, 4, NULL), VT_OK);
    assert_null(memmem(sealed.data, sealed.len, "of the learner", 14));
    struct ledger_bundle_result res;
    assert_int_equal(ledger_bundle_import(f->b, sealed.data, sealed.len, NULL, &res, &err),
                     VT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "recipient key is needed"));
    assert_int_equal(ledger_bundle_import(f->b, sealed.data, sealed.len, wsk, &res, &err),
                     VT_ERR_VERIFY);
    assert_non_null(strstr(err.msg, "another recipient"));
    assert_int_equal(ledger_size(f->b), 0);
    if (ledger_bundle_import(f->b, sealed.data, sealed.len, rsk, &res, &err) != VT_OK)
        fail_msg("sealed import: %s", err.msg);
    assert_int_equal(res.imported, EVENTS);
    expect_verified(f->b, f->learner, EVENTS);
    expect_same_payloads(f->a, f->b, f->learner, EVENTS);
    /* Two exports to the same recipient differ (fresh ephemeral key). */
    struct vt_buf again;
    vt_buf_init(&again, VT_BUF_DEFAULT_MAX);
    assert_int_equal(ledger_bundle_export(f->a, f->learner, rpk, &again, &err), VT_OK);
    assert_false(again.len == sealed.len && memcmp(again.data, sealed.data, sealed.len) == 0);
    vt_buf_release(&again);
    vt_buf_release(&sealed);
    vt_key_release(&rk);
    vt_key_release(&wrong);
}

/* Every import of a damaged bundle fails and leaves B untouched. */
static void expect_refused(struct fx *f, const uint8_t *data, size_t n, const uint8_t *sk,
                           const char *what, size_t at)
{
    struct vt_error err;
    vt_error_clear(&err);
    enum vt_status st = ledger_bundle_import(f->b, data, n, sk, NULL, &err);
    if (st == VT_OK)
        fail_msg("%s at %zu was accepted", what, at);
    assert_true(err.msg[0] != 0);
    assert_int_equal(err.status, st);
}

static void sweep_damage(struct fx *f, const struct vt_buf *bundle, const uint8_t *sk)
{
    uint8_t *copy = malloc(bundle->len);
    /* Every position in the first 256 bytes (the header fields), then a stride. */
    for (size_t i = 0; i < bundle->len; i += i < 256 ? 1 : 13) {
        memcpy(copy, bundle->data, bundle->len);
        copy[i] ^= (uint8_t)(1u << (i % 8));
        expect_refused(f, copy, bundle->len, sk, "flipped byte", i);
    }
    for (size_t len = 0; len < bundle->len; len += len < 64 ? 1 : 11)
        expect_refused(f, bundle->data, len, sk, "truncation", len);
    /* The last bytes too: the end of the last payload and of the sealing keys. */
    for (size_t len = bundle->len > 40 ? bundle->len - 40 : 0; len < bundle->len; len++)
        expect_refused(f, bundle->data, len, sk, "truncation", len);
    free(copy);
    assert_int_equal(ledger_size(f->b), 0);
    assert_int_equal(ledger_check(f->b, NULL, NULL), VT_OK);
}

static void test_damage(void **state)
{
    struct fx *f = *state;
    sweep_damage(f, &f->bundle, NULL);
    struct vt_key rk;
    fixture_key(&rk, 40);
    uint8_t rpk[VT_X25519_LEN], rsk[VT_X25519_LEN];
    assert_int_equal(vt_key_x25519(&rk, rpk, rsk, NULL), VT_OK);
    struct vt_buf sealed;
    vt_buf_init(&sealed, VT_BUF_DEFAULT_MAX);
    assert_int_equal(ledger_bundle_export(f->a, f->learner, rpk, &sealed, NULL), VT_OK);
    sweep_damage(f, &sealed, rsk);
    vt_buf_release(&sealed);
    vt_key_release(&rk);
}

/* Decodes the bundle, lets edit change it, and encodes it again canonically. */
static void rewrite(const struct vt_buf *in, struct vt_buf *out,
                    void (*edit)(cbor_item_t *map, void *arg), void *arg)
{
    cbor_item_t *map = NULL;
    assert_int_equal(vt_cbor_decode(in->data, in->len, 8, &map, NULL), VT_OK);
    edit(map, arg);
    vt_buf_reset(out);
    assert_int_equal(vt_cbor_encode(map, out, NULL), VT_OK);
    cbor_decref(&map);
}

static void swap_events(cbor_item_t *map, void *arg)
{
    (void)arg;
    cbor_item_t **ev = cbor_array_handle(vt_cbor_map_get_uint(map, 8));
    cbor_item_t *t = ev[1];
    ev[1] = ev[2];
    ev[2] = t;
}

struct fork_arg {
    const uint8_t *leaf;
    size_t len;
};

static void replace_head(cbor_item_t *map, void *arg)
{
    const struct fork_arg *fa = arg;
    cbor_item_t *events = vt_cbor_map_get_uint(map, 8);
    cbor_item_t *head = cbor_array_handle(events)[cbor_array_size(events) - 1];
    cbor_item_t *leaf = cbor_build_bytestring(fa->leaf, fa->len);
    cbor_item_t *none = cbor_new_null();
    assert_true(cbor_array_replace(head, 0, leaf));
    assert_true(cbor_array_replace(head, 1, none));
    cbor_decref(&leaf);
    cbor_decref(&none);
}

static void many_events(cbor_item_t *map, void *arg)
{
    (void)arg;
    cbor_item_t *events = cbor_new_definite_array(LEDGER_BUNDLE_EVENTS_MAX + 1);
    for (size_t i = 0; i <= LEDGER_BUNDLE_EVENTS_MAX; i++) {
        cbor_item_t *none = cbor_new_null();
        assert_true(cbor_array_push(events, none));
        cbor_decref(&none);
    }
    struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++) {
        if (cbor_get_uint8(pairs[i].key) == 8) {
            cbor_decref(&pairs[i].value);
            pairs[i].value = events;
        }
    }
}

static void test_refusals(void **state)
{
    struct fx *f = *state;
    struct vt_error err;
    struct vt_buf x;
    vt_buf_init(&x, VT_BUF_DEFAULT_MAX);

    /* Reordered events. */
    rewrite(&f->bundle, &x, swap_events, NULL);
    assert_int_equal(ledger_bundle_import(f->b, x.data, x.len, NULL, NULL, &err), VT_ERR_VERIFY);
    assert_non_null(strstr(err.msg, "in order"));

    /* A forked head: validly signed by A's key, linked to the event before, but not the
     * event A's checkpoint covers. */
    struct vt_buf leaf, prev_leaf;
    vt_buf_init(&leaf, 4096);
    vt_buf_init(&prev_leaf, 4096);
    uint64_t head_seq, prev_index;
    assert_int_equal(ledger_head(f->a, f->learner, &head_seq, NULL, NULL, NULL), VT_OK);
    assert_int_equal(ledger_event_index(f->a, f->learner, head_seq - 1, &prev_index, NULL), VT_OK);
    assert_int_equal(ledger_event_read(f->a, prev_index, &prev_leaf, NULL), VT_OK);
    struct ledger_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.version = LEDGER_VERSION;
    memcpy(ev.learner, f->learner, LEDGER_LEARNER_LEN);
    ev.seq = head_seq;
    ev.has_prev = true;
    ledger_leaf_hash(prev_leaf.data, prev_leaf.len, ev.prev);
    ev.time_ms = 1700000000000ULL;
    strcpy(ev.type, "attempt");
    memcpy(ev.author, f->key_a.pk, 32);
    static const uint8_t zero_salt[LEDGER_SALT_LEN];
    vt_sha256("", 0, ev.payload_hash);
    vt_sha256(zero_salt, sizeof(zero_salt), ev.commitment);
    strcpy(ev.origin, "a.example/ledger");
    struct vt_buf env;
    vt_buf_init(&env, 4096);
    assert_int_equal(ledger_event_encode(&ev, &env, NULL), VT_OK);
    uint8_t sig[64];
    ledger_event_sign(env.data, env.len, &f->key_a, sig);
    assert_int_equal(ledger_leaf_encode(env.data, env.len, sig, &leaf, NULL), VT_OK);
    struct fork_arg fa = {leaf.data, leaf.len};
    rewrite(&f->bundle, &x, replace_head, &fa);
    assert_int_equal(ledger_bundle_import(f->b, x.data, x.len, NULL, NULL, &err), VT_ERR_VERIFY);
    assert_non_null(strstr(err.msg, "not proven under its checkpoint"));

    /* A checkpoint signed by another key under the same origin. */
    struct vt_buf note;
    vt_buf_init(&note, 8192);
    assert_int_equal(ledger_checkpoint_latest(f->a, &note, NULL, NULL), VT_OK);
    const char *blank = strstr((const char *)note.data, "\n\n");
    assert_non_null(blank);
    struct vt_buf forged;
    vt_buf_init(&forged, 8192);
    size_t text_len = (size_t)(blank - (const char *)note.data) + 1;
    assert_int_equal(vt_buf_append(&forged, note.data, text_len, NULL), VT_OK);
    assert_int_equal(ledger_note_sign((const char *)forged.data, forged.len, "a.example/ledger",
                                      &f->key_b, &forged, NULL),
                     VT_OK);
    assert_int_equal(forged.len, note.len);
    vt_buf_reset(&x);
    assert_int_equal(vt_buf_append(&x, f->bundle.data, f->bundle.len, NULL), VT_OK);
    uint8_t *at = memmem(x.data, x.len, note.data, note.len);
    assert_non_null(at);
    memcpy(at, forged.data, forged.len);
    assert_int_equal(ledger_bundle_import(f->b, x.data, x.len, NULL, NULL, &err), VT_ERR_VERIFY);
    assert_non_null(strstr(err.msg, "checkpoint does not verify"));

    /* A chain that forks from the one B holds. */
    assert_int_equal(ledger_bundle_import(f->b, f->bundle.data, f->bundle.len, NULL, NULL, &err),
                     VT_OK);
    uint64_t size = ledger_size(f->b);
    char *dir_c = fixture_tmpdir();
    struct vt_key key_c;
    fixture_key(&key_c, 23);
    struct ledger *c = open_named(dir_c, &key_c, "c.example/ledger", 0);
    fill(c, f->learner, 0, 3);
    vt_buf_reset(&x);
    assert_int_equal(ledger_bundle_export(c, f->learner, NULL, &x, NULL), VT_OK);
    assert_int_equal(ledger_bundle_import(f->b, x.data, x.len, NULL, NULL, &err), VT_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "fork"));
    assert_non_null(strstr(err.msg, "seq 0"));
    assert_int_equal(ledger_size(f->b), size);
    ledger_close(c);
    fixture_rmtree(dir_c);
    free(dir_c);

    /* Caps: bundle size and event count. */
    char *dir_d = fixture_tmpdir();
    struct ledger *d = open_named(dir_d, &key_c, "d.example/ledger", 1024);
    assert_int_equal(ledger_bundle_import(d, f->bundle.data, f->bundle.len, NULL, NULL, &err),
                     VT_ERR_TOO_LARGE);
    assert_non_null(strstr(err.msg, "cap"));
    rewrite(&f->bundle, &x, many_events, NULL);
    assert_int_equal(ledger_bundle_import(f->b, x.data, x.len, NULL, NULL, &err), VT_ERR_TOO_LARGE);
    assert_non_null(strstr(err.msg, "65537 events"));
    vt_buf_reset(&x);
    assert_int_equal(ledger_bundle_export(f->a, f->learner, NULL, &x, NULL), VT_OK);
    struct vt_buf small;
    vt_buf_init(&small, 512);
    assert_int_equal(ledger_bundle_export(f->a, f->learner, NULL, &small, &err), VT_ERR_TOO_LARGE);
    assert_int_equal(small.len, 0);
    ledger_close(d);
    fixture_rmtree(dir_d);
    free(dir_d);

    /* Erased learners are not exported; unknown ones do not exist. */
    assert_int_equal(ledger_erase(f->a, f->learner, NULL, NULL), VT_OK);
    assert_int_equal(ledger_bundle_export(f->a, f->learner, NULL, &x, &err), VT_ERR_CONFLICT);
    uint8_t unknown[LEDGER_LEARNER_LEN];
    fixture_learner(unknown, 999);
    assert_int_equal(ledger_bundle_export(f->a, unknown, NULL, &x, &err), VT_ERR_NOT_FOUND);

    vt_key_release(&key_c);
    vt_buf_release(&small);
    vt_buf_release(&forged);
    vt_buf_release(&note);
    vt_buf_release(&env);
    vt_buf_release(&leaf);
    vt_buf_release(&prev_leaf);
    vt_buf_release(&x);
}

/* The importing ledger's checks accept foreign authors only with provenance. */
static void test_foreign_authors(void **state)
{
    struct fx *f = *state;
    struct vt_error err;
    assert_int_equal(ledger_bundle_import(f->b, f->bundle.data, f->bundle.len, NULL, NULL, &err),
                     VT_OK);
    expect_verified(f->b, f->learner, EVENTS);
    struct ledger_provenance prov;
    for (uint64_t seq = 0; seq < EVENTS; seq++) {
        assert_int_equal(ledger_provenance_read(f->b, f->learner, seq, &prov, NULL, &err), VT_OK);
        assert_true(prov.has_checkpoint);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_authors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
