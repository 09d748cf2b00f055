/* Event envelopes and leaves: encoding, canonical decoding, signatures, tampering; the
 * direct encoder and decoder against the libcbor-based ones they replaced. */
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

/* ---- the libcbor-based encoder and decoder the direct ones replaced ------------------- */

static void ref_put_bytes(cbor_item_t *map, uint8_t k, const uint8_t *p, size_t n)
{
    vt_cbor_map_put(map, cbor_build_uint8(k), cbor_build_bytestring(p, n));
}

static enum vt_status ref_encode(const struct ledger_event *ev, struct vt_buf *out)
{
    size_t count = 9 + (ev->has_prev ? 1 : 0) + (ev->event_id_len ? 1 : 0);
    cbor_item_t *map = cbor_new_definite_map(count);
    vt_cbor_map_put(map, cbor_build_uint8(1), cbor_build_uint64(ev->version));
    ref_put_bytes(map, 2, ev->learner, LEDGER_LEARNER_LEN);
    vt_cbor_map_put(map, cbor_build_uint8(3), cbor_build_uint64(ev->seq));
    if (ev->has_prev)
        ref_put_bytes(map, 4, ev->prev, LEDGER_HASH_LEN);
    vt_cbor_map_put(map, cbor_build_uint8(5), cbor_build_uint64(ev->time_ms));
    vt_cbor_map_put(map, cbor_build_uint8(6), cbor_build_string(ev->type));
    ref_put_bytes(map, 7, ev->author, VT_ED25519_PK_LEN);
    ref_put_bytes(map, 8, ev->payload_hash, VT_SHA256_LEN);
    ref_put_bytes(map, 9, ev->commitment, VT_SHA256_LEN);
    vt_cbor_map_put(map, cbor_build_uint8(10), cbor_build_string(ev->origin));
    if (ev->event_id_len)
        ref_put_bytes(map, 11, ev->event_id, ev->event_id_len);
    enum vt_status st = vt_cbor_encode(map, out, NULL);
    cbor_decref(&map);
    return st;
}

static enum vt_status ref_bytes(const cbor_item_t *v, const char *name, size_t min, size_t max,
                                uint8_t *dst, size_t *len, struct vt_error *err)
{
    if (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v))
        return vt_error_set(err, VT_ERR_INVALID, "event field '%s' is not a byte string", name);
    size_t n = cbor_bytestring_length(v);
    if (n < min || n > max)
        return vt_error_set(err, VT_ERR_INVALID, "event field '%s' has %zu bytes, want %zu%s", name,
                            n, min, min == max ? "" : " or more");
    memcpy(dst, cbor_bytestring_handle(v), n);
    if (len)
        *len = n;
    return VT_OK;
}

static enum vt_status ref_text(const cbor_item_t *v, const char *name, char *dst, size_t cap,
                               struct vt_error *err)
{
    if (!cbor_isa_string(v) || !cbor_string_is_definite(v))
        return vt_error_set(err, VT_ERR_INVALID, "event field '%s' is not a text string", name);
    size_t n = cbor_string_length(v);
    if (n >= cap)
        return vt_error_set(err, VT_ERR_INVALID, "event field '%s' is too long", name);
    const unsigned char *p = cbor_string_handle(v);
    if (n && memchr(p, 0, n))
        return vt_error_set(err, VT_ERR_INVALID, "event field '%s' contains NUL", name);
    memcpy(dst, p, n);
    dst[n] = 0;
    return VT_OK;
}

static enum vt_status ref_field(uint64_t k, const cbor_item_t *v, struct ledger_event *ev,
                                struct vt_error *err)
{
    switch (k) {
    case 1:
        return vt_cbor_get_uint(v, &ev->version, err);
    case 2:
        return ref_bytes(v, "learner", 16, 16, ev->learner, NULL, err);
    case 3:
        return vt_cbor_get_uint(v, &ev->seq, err);
    case 4:
        ev->has_prev = true;
        return ref_bytes(v, "prev", 32, 32, ev->prev, NULL, err);
    case 5:
        return vt_cbor_get_uint(v, &ev->time_ms, err);
    case 6:
        return ref_text(v, "type", ev->type, sizeof(ev->type), err);
    case 7:
        return ref_bytes(v, "author", 32, 32, ev->author, NULL, err);
    case 8:
        return ref_bytes(v, "payload hash", 32, 32, ev->payload_hash, NULL, err);
    case 9:
        return ref_bytes(v, "commitment", 32, 32, ev->commitment, NULL, err);
    case 10:
        return ref_text(v, "origin", ev->origin, sizeof(ev->origin), err);
    case 11:
        return ref_bytes(v, "event id", 1, LEDGER_EVENT_ID_MAX, ev->event_id, &ev->event_id_len,
                         err);
    default:
        return vt_error_set(err, VT_ERR_INVALID, "unknown event field %llu", (unsigned long long)k);
    }
}

/* Decodes like the old reader up to the field checks; the final validation is the shared
 * one, reached through ledger_event_encode on the result. */
static enum vt_status ref_decode(const uint8_t *env, size_t n, struct ledger_event *ev,
                                 struct vt_error *err)
{
    if (n > LEDGER_LEAF_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "event envelope of %zu bytes over the cap", n);
    cbor_item_t *map = NULL;
    enum vt_status st = vt_cbor_decode(env, n, 2, &map, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "bad event envelope");
    memset(ev, 0, sizeof(*ev));
    uint32_t seen = 0;
    if (!cbor_isa_map(map)) {
        st = vt_error_set(err, VT_ERR_INVALID, "event envelope is not a map");
        goto out;
    }
    struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++) {
        uint64_t k;
        if (!cbor_isa_uint(pairs[i].key) || vt_cbor_get_uint(pairs[i].key, &k, NULL) != VT_OK ||
            k > 31) {
            st = vt_error_set(err, VT_ERR_INVALID,
                              "event envelope has a key that is not a known small integer");
            goto out;
        }
        seen |= 1u << k;
        if ((st = ref_field(k, pairs[i].value, ev, err)) != VT_OK)
            goto out;
    }
    const uint32_t required = 0x7ee;
    if ((seen & required) != required) {
        st = vt_error_set(err, VT_ERR_INVALID, "event envelope lacks required fields");
        goto out;
    }
    struct vt_buf tmp;
    vt_buf_init(&tmp, 4096);
    st = ledger_event_encode(ev, &tmp, err);
    vt_buf_release(&tmp);
out:
    cbor_decref(&map);
    return st;
}

static uint64_t rs = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

/* Integers around every boundary of the CBOR head widths. */
static uint64_t rnd_uint(void)
{
    static const uint64_t edges[] = {0,     1,     23,         24,          255,       256,
                                     65535, 65536, 0xffffffff, 0x100000000, UINT64_MAX};
    if (rnd() % 3 == 0)
        return edges[rnd() % (sizeof(edges) / sizeof(edges[0]))];
    return rnd() >> (rnd() % 64);
}

static void rnd_event(struct ledger_event *ev)
{
    static const char *const types[] = {"attempt",        "progress",
                                        "assessment",     "credential.issued",
                                        "xapi.statement", "credential.unsuspended",
                                        "erasure"};
    memset(ev, 0, sizeof(*ev));
    ev->version = LEDGER_VERSION;
    for (size_t i = 0; i < LEDGER_LEARNER_LEN; i++)
        ev->learner[i] = (uint8_t)rnd();
    ev->seq = rnd_uint();
    ev->has_prev = ev->seq != 0;
    if (ev->has_prev)
        for (size_t i = 0; i < LEDGER_HASH_LEN; i++)
            ev->prev[i] = (uint8_t)rnd();
    ev->time_ms = rnd_uint();
    strcpy(ev->type, types[rnd() % (sizeof(types) / sizeof(types[0]))]);
    for (size_t i = 0; i < 32; i++) {
        ev->author[i] = (uint8_t)rnd();
        ev->payload_hash[i] = (uint8_t)rnd();
        ev->commitment[i] = (uint8_t)rnd();
    }
    size_t on = 1 + rnd() % (LEDGER_NOTE_NAME_MAX - 1);
    for (size_t i = 0; i < on; i++) {
        char c = (char)('!' + rnd() % 94);
        ev->origin[i] = c == '+' ? 'p' : c;
    }
    ev->event_id_len = rnd() % 3 == 0 ? 0 : 1 + rnd() % LEDGER_EVENT_ID_MAX;
    for (size_t i = 0; i < ev->event_id_len; i++)
        ev->event_id[i] = (uint8_t)rnd();
}

static void test_encode_matches_libcbor(void **state)
{
    (void)state;
    struct vt_buf a, b;
    vt_buf_init(&a, 4096);
    vt_buf_init(&b, 4096);
    for (int i = 0; i < 20000; i++) {
        struct ledger_event ev;
        rnd_event(&ev);
        vt_buf_reset(&a);
        vt_buf_reset(&b);
        assert_int_equal(ledger_event_encode(&ev, &a, NULL), VT_OK);
        assert_int_equal(ref_encode(&ev, &b), VT_OK);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
    }
    /* The longest envelope there can be. */
    struct ledger_event ev;
    rnd_event(&ev);
    ev.seq = ev.time_ms = UINT64_MAX;
    ev.has_prev = true;
    strcpy(ev.type, "credential.unsuspended");
    memset(ev.origin, 'o', LEDGER_NOTE_NAME_MAX - 1);
    ev.origin[LEDGER_NOTE_NAME_MAX - 1] = '\0';
    ev.event_id_len = LEDGER_EVENT_ID_MAX;
    vt_buf_reset(&a);
    vt_buf_reset(&b);
    assert_int_equal(ledger_event_encode(&ev, &a, NULL), VT_OK);
    assert_int_equal(ref_encode(&ev, &b), VT_OK);
    assert_memory_equal(a.data, b.data, a.len);
    /* A full output buffer: the status, and nothing written. */
    struct vt_buf small;
    vt_buf_init(&small, 100);
    assert_int_equal(ledger_event_encode(&ev, &small, NULL), VT_ERR_TOO_LARGE);
    assert_int_equal(small.len, 0);
    vt_buf_release(&a);
    vt_buf_release(&b);
}

/* Appends a random item of any type, mostly small. */
static void rnd_item_into(cbor_item_t **out)
{
    switch (rnd() % 12) {
    case 0:
        *out = cbor_build_uint64(rnd_uint());
        break;
    case 1:
        *out = cbor_build_negint64(rnd_uint());
        break;
    case 2: {
        uint8_t b[70];
        size_t n = rnd() % 3 == 0 ? rnd() % 70 : (rnd() % 2 ? 16 : 32);
        for (size_t i = 0; i < n; i++)
            b[i] = (uint8_t)rnd();
        *out = cbor_build_bytestring(b, n);
        break;
    }
    case 3: {
        char t[140];
        size_t n = rnd() % 3 == 0 ? rnd() % 140 : 1 + rnd() % 20;
        for (size_t i = 0; i < n; i++)
            t[i] = (char)('a' + rnd() % 26);
        if (n > 0 && rnd() % 10 == 0)
            t[rnd() % n] = '\0';
        *out = cbor_build_stringn(t, n);
        break;
    }
    case 4: {
        static const char *const types[] = {"attempt", "progress", "nope", "erasure"};
        *out = cbor_build_string(types[rnd() % 4]);
        break;
    }
    case 5:
        *out = cbor_new_definite_array(1);
        cbor_array_push(*out, cbor_move(cbor_build_uint8(1)));
        break;
    case 6:
        *out = cbor_new_definite_map(1);
        vt_cbor_map_put(*out, cbor_build_uint8(1), cbor_build_uint8(2));
        break;
    case 7:
        *out = cbor_build_tag(1, cbor_move(cbor_build_uint8(5)));
        break;
    case 8:
        *out = cbor_build_float8(1.1);
        break;
    case 9:
        *out = cbor_build_bool(rnd() % 2);
        break;
    case 10:
        *out = cbor_new_null();
        break;
    default:
        *out = cbor_build_uint8(1);
        break;
    }
}

static unsigned decoded_ok, decoded_bad;

static void compare_decoders(const uint8_t *p, size_t n)
{
    struct ledger_event a, b;
    struct vt_error ea, eb;
    vt_error_clear(&ea);
    vt_error_clear(&eb);
    enum vt_status sa = ledger_event_decode(p, n, &a, &ea);
    enum vt_status sb = ref_decode(p, n, &b, &eb);
    if (sa != sb || strcmp(ea.msg, eb.msg) != 0)
        fail_msg("decoders differ on %zu bytes: '%s' (%s) vs '%s' (%s)", n, ea.msg,
                 vt_status_name(sa), eb.msg, vt_status_name(sb));
    if (sa == VT_OK)
        assert_memory_equal(&a, &b, sizeof(a));
    if (sa == VT_OK)
        decoded_ok++;
    else
        decoded_bad++;
}

static void test_decode_matches_libcbor(void **state)
{
    (void)state;
    struct vt_buf b;
    vt_buf_init(&b, 8192);
    for (int i = 0; i < 20000; i++) {
        vt_buf_reset(&b);
        if (i % 2 == 0) {
            /* A valid envelope, then perhaps one byte changed, added or cut. */
            struct ledger_event ev;
            rnd_event(&ev);
            assert_int_equal(ledger_event_encode(&ev, &b, NULL), VT_OK);
            size_t at = rnd() % b.len;
            switch (rnd() % 4) {
            case 0:
                b.data[at] ^= (uint8_t)(1u << (rnd() % 8));
                break;
            case 1:
                b.data[at] = (uint8_t)rnd();
                break;
            case 2:
                b.len = at;
                break;
            default:
                break;
            }
        } else {
            /* A map of random keys and values of every type. */
            size_t count = rnd() % 13;
            cbor_item_t *map = cbor_new_definite_map(count);
            static const int64_t keys[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 31, 32, -1};
            for (size_t k = 0; k < count; k++) {
                cbor_item_t *v;
                rnd_item_into(&v);
                int64_t kv = rnd() % 4 ? (int64_t)(1 + k) : keys[rnd() % 16];
                cbor_item_t *ki =
                    kv >= 0 ? cbor_build_uint64((uint64_t)kv)
                            : (rnd() % 2 ? cbor_build_negint8(0) : cbor_build_string("a"));
                vt_cbor_map_put(map, ki, v);
            }
            struct vt_error err;
            enum vt_status st = vt_cbor_encode(map, &b, &err);
            cbor_decref(&map);
            if (st != VT_OK)
                continue; /* duplicate keys */
        }
        compare_decoders(b.data, b.len);
    }
    /* Both outcomes were exercised in earnest. */
    assert_true(decoded_ok > 2000 && decoded_bad > 2000);
    vt_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_first_bytes),
        cmocka_unit_test(test_invalid_fields),
        cmocka_unit_test(test_decode_rejects),
        cmocka_unit_test(test_leaf_sign_verify),
        cmocka_unit_test(test_leaf_truncated),
        cmocka_unit_test(test_encode_matches_libcbor),
        cmocka_unit_test(test_decode_matches_libcbor),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
