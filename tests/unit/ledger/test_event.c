/* Event envelopes and leaves: encoding, canonical decoding, signatures, tampering. */
#include "ledger/ledger.h"
#include "test_support.h"

#include <string.h>

static struct vt_key key;

static void sample(struct ledger_event *ev, uint64_t seq)
{
    memset(ev, 0, sizeof(*ev));
    ev->version = LEDGER_VERSION;
    for (int i = 0; i < LEDGER_LEARNER_LEN; i++)
        ev->learner[i] = (uint8_t)(i + 1);
    ev->seq = seq;
    ev->has_prev = seq != 0;
    memset(ev->prev, seq ? 0xab : 0, sizeof(ev->prev));
    ev->time_ms = 1700000000123ULL;
    strcpy(ev->type, "attempt");
    memcpy(ev->author, key.pk, sizeof(ev->author));
    memset(ev->payload_hash, 0x11, sizeof(ev->payload_hash));
    memset(ev->commitment, 0x22, sizeof(ev->commitment));
    strcpy(ev->origin, "example.org/ledger");
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(vt_core_init(NULL), VT_OK);
    uint8_t seed[VT_ED25519_SEED_LEN];
    memset(seed, 7, sizeof(seed));
    vt_key_from_seed(&key, seed);
    return 0;
}

static void test_roundtrip(void **state)
{
    (void)state;
    for (uint64_t seq = 0; seq < 3; seq++) {
        struct ledger_event ev, back;
        sample(&ev, seq * 1000);
        if (seq == 2) {
            ev.event_id_len = 5;
            memcpy(ev.event_id, "abcde", 5);
        }
        struct vt_buf b;
        vt_buf_init(&b, 4096);
        assert_int_equal(ledger_event_encode(&ev, &b, NULL), VT_OK);
        assert_int_equal(b.data[0] >> 5, 5); /* a map */
        assert_int_equal(ledger_event_decode(b.data, b.len, &back, NULL), VT_OK);
        assert_memory_equal(&ev, &back, sizeof(ev));
        /* Encoding is deterministic. */
        struct vt_buf again;
        vt_buf_init(&again, 4096);
        assert_int_equal(ledger_event_encode(&back, &again, NULL), VT_OK);
        assert_int_equal(again.len, b.len);
        assert_memory_equal(again.data, b.data, b.len);
        vt_buf_release(&again);
        vt_buf_release(&b);
    }
}

static void test_first_bytes(void **state)
{
    (void)state;
    struct ledger_event ev;
    sample(&ev, 0);
    struct vt_buf b;
    vt_buf_init(&b, 4096);
    assert_int_equal(ledger_event_encode(&ev, &b, NULL), VT_OK);
    /* a9 (map of 9), 01 01 (version 1), 02 50 <16 bytes> (learner), 03 00 (seq 0). */
    assert_int_equal(b.data[0], 0xa9);
    assert_int_equal(b.data[1], 0x01);
    assert_int_equal(b.data[2], 0x01);
    assert_int_equal(b.data[3], 0x02);
    assert_int_equal(b.data[4], 0x50);
    assert_int_equal(b.data[21], 0x03);
    assert_int_equal(b.data[22], 0x00);
    vt_buf_release(&b);
}

static void test_invalid_fields(void **state)
{
    (void)state;
    struct ledger_event ev;
    struct vt_buf b;
    vt_buf_init(&b, 4096);
    sample(&ev, 0);
    strcpy(ev.type, "telepathy");
    assert_int_equal(ledger_event_encode(&ev, &b, NULL), VT_ERR_UNSUPPORTED);
    sample(&ev, 0);
    ev.has_prev = true;
    assert_int_equal(ledger_event_encode(&ev, &b, NULL), VT_ERR_INVALID);
    sample(&ev, 4);
    ev.has_prev = false;
    assert_int_equal(ledger_event_encode(&ev, &b, NULL), VT_ERR_INVALID);
    sample(&ev, 0);
    ev.version = 2;
    assert_int_equal(ledger_event_encode(&ev, &b, NULL), VT_ERR_UNSUPPORTED);
    sample(&ev, 0);
    strcpy(ev.origin, "has space");
    assert_int_equal(ledger_event_encode(&ev, &b, NULL), VT_ERR_INVALID);
    assert_int_equal(b.len, 0);
    assert_false(ledger_type_known("unknown"));
    assert_true(ledger_type_known("credential.issued"));
    assert_true(ledger_type_known("xapi.statement"));
    vt_buf_release(&b);
}

static void test_decode_rejects(void **state)
{
    (void)state;
    struct ledger_event ev;
    struct vt_error err;
    /* Non-canonical: seq 0 written as a one-byte argument (18 00). */
    sample(&ev, 0);
    struct vt_buf b;
    vt_buf_init(&b, 4096);
    assert_int_equal(ledger_event_encode(&ev, &b, NULL), VT_OK);
    uint8_t bad[1024];
    memcpy(bad, b.data, 22);
    bad[22] = 0x18;
    bad[23] = 0x00;
    memcpy(bad + 24, b.data + 23, b.len - 23);
    assert_int_equal(ledger_event_decode(bad, b.len + 1, &ev, &err), VT_ERR_NONCANONICAL);
    /* Truncated. */
    assert_int_not_equal(ledger_event_decode(b.data, b.len - 1, &ev, &err), VT_OK);
    /* Trailing bytes. */
    memcpy(bad, b.data, b.len);
    bad[b.len] = 0;
    assert_int_not_equal(ledger_event_decode(bad, b.len + 1, &ev, &err), VT_OK);
    /* Not a map. */
    static const uint8_t arr[] = {0x81, 0x01};
    assert_int_equal(ledger_event_decode(arr, sizeof(arr), &ev, &err), VT_ERR_INVALID);
    /* Unknown key 12 appended (keys stay sorted, count bumped). */
    memcpy(bad, b.data, b.len);
    bad[0] = 0xaa;
    bad[b.len] = 0x0c;
    bad[b.len + 1] = 0x00;
    assert_int_equal(ledger_event_decode(bad, b.len + 2, &ev, &err), VT_ERR_INVALID);
    /* Missing required key: a map with only the version. */
    static const uint8_t tiny[] = {0xa1, 0x01, 0x01};
    assert_int_equal(ledger_event_decode(tiny, sizeof(tiny), &ev, &err), VT_ERR_INVALID);
    vt_buf_release(&b);
}

static void make_leaf(uint64_t seq, struct vt_buf *leaf)
{
    struct ledger_event ev;
    sample(&ev, seq);
    struct vt_buf env;
    vt_buf_init(&env, 4096);
    assert_int_equal(ledger_event_encode(&ev, &env, NULL), VT_OK);
    uint8_t sig[VT_ED25519_SIG_LEN];
    ledger_event_sign(env.data, env.len, &key, sig);
    assert_int_equal(ledger_leaf_encode(env.data, env.len, sig, leaf, NULL), VT_OK);
    vt_buf_release(&env);
}

static void test_leaf_sign_verify(void **state)
{
    (void)state;
    struct vt_buf leaf;
    vt_buf_init(&leaf, 4096);
    make_leaf(5, &leaf);
    struct ledger_event ev;
    uint8_t sig[VT_ED25519_SIG_LEN];
    size_t off, len;
    assert_int_equal(ledger_leaf_open(leaf.data, leaf.len, &ev, sig, &off, &len, NULL), VT_OK);
    assert_int_equal(ev.seq, 5);
    assert_int_equal(leaf.data[0], 0x82);
    assert_int_equal(off + len + 2 + 64, leaf.len);

    /* Flipping any byte of the leaf must fail (signature, structure or canonical form). */
    for (size_t i = 0; i < leaf.len; i++) {
        leaf.data[i] ^= 0x01;
        struct vt_error err;
        assert_int_not_equal(ledger_leaf_open(leaf.data, leaf.len, &ev, NULL, NULL, NULL, &err),
                             VT_OK);
        leaf.data[i] ^= 0x01;
    }
    /* A signature made without the domain prefix does not verify. */
    uint8_t raw[VT_ED25519_SIG_LEN];
    vt_key_sign(&key, leaf.data + off, len, raw);
    memcpy(leaf.data + leaf.len - 64, raw, 64);
    struct vt_error err;
    assert_int_equal(ledger_leaf_open(leaf.data, leaf.len, &ev, NULL, NULL, NULL, &err),
                     VT_ERR_VERIFY);
    vt_buf_release(&leaf);
}

static void test_leaf_truncated(void **state)
{
    (void)state;
    struct vt_buf leaf;
    vt_buf_init(&leaf, 4096);
    make_leaf(0, &leaf);
    struct ledger_event ev;
    for (size_t n = 0; n < leaf.len; n++) {
        struct vt_error err;
        assert_int_not_equal(ledger_leaf_open(leaf.data, n, &ev, NULL, NULL, NULL, &err), VT_OK);
    }
    vt_buf_release(&leaf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),        cmocka_unit_test(test_first_bytes),
        cmocka_unit_test(test_invalid_fields),   cmocka_unit_test(test_decode_rejects),
        cmocka_unit_test(test_leaf_sign_verify), cmocka_unit_test(test_leaf_truncated),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
