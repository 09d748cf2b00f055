/* Event envelopes and leaves: specs/ledger.md §2 and §3. */
#include "ledger/ledger_int.h"

#include <string.h>

/* Keep in step with the registry table in specs/ledger.md §3. */
static const char *const event_types[] = {
    "attempt",
    "progress",
    "assessment",
    "enrollment",
    "credential.issued",
    "credential.revoked",
    "endorsement",
    "consent.granted",
    "consent.revoked",
    "import",
    "erasure",
    "framework",
    "role",
    "role.profile",
    "xapi.statement",
    "amendment",
    "statement",
    "disclosure",
    "key.rotated",
    "credential.suspended",
    "credential.unsuspended",
    "status.reserved",
};

bool ledger_type_known(const char *type)
{
    if (!type)
        return false;
    for (size_t i = 0; i < sizeof(event_types) / sizeof(event_types[0]); i++) {
        if (strcmp(type, event_types[i]) == 0)
            return true;
    }
    return false;
}

/* Origins become checkpoint note lines: printable ASCII, no spaces or '+'. */
static bool origin_valid(const char *s, size_t n)
{
    if (n == 0 || n >= LEDGER_NOTE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '+')
            return false;
    }
    return true;
}

static enum vt_status event_validate(const struct ledger_event *ev, struct vt_error *err)
{
    if (ev->version != LEDGER_VERSION)
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "unsupported event version %llu",
                            (unsigned long long)ev->version);
    if (ev->has_prev != (ev->seq != 0))
        return vt_error_set(err, VT_ERR_INVALID, "event seq %llu %s a prev hash",
                            (unsigned long long)ev->seq, ev->has_prev ? "must not have" : "needs");
    size_t tl = strnlen(ev->type, LEDGER_TYPE_MAX);
    if (tl == LEDGER_TYPE_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "event type too long");
    if (!ledger_type_known(ev->type))
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "unknown event type '%s'", ev->type);
    if (!origin_valid(ev->origin, strnlen(ev->origin, LEDGER_NOTE_NAME_MAX)))
        return vt_error_set(err, VT_ERR_INVALID, "invalid log origin in event");
    if (ev->event_id_len > LEDGER_EVENT_ID_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "event id longer than %d bytes",
                            LEDGER_EVENT_ID_MAX);
    return VT_OK;
}

static void put_bytes(cbor_item_t *map, uint8_t key, const uint8_t *p, size_t n)
{
    vt_cbor_map_put(map, cbor_build_uint8(key), cbor_build_bytestring(p, n));
}

enum vt_status ledger_event_encode(const struct ledger_event *ev, struct vt_buf *out,
                                   struct vt_error *err)
{
    enum vt_status st = event_validate(ev, err);
    if (st != VT_OK)
        return st;
    size_t count = 9 + (ev->has_prev ? 1 : 0) + (ev->event_id_len ? 1 : 0);
    cbor_item_t *map = cbor_new_definite_map(count);
    VT_ASSERT(map != NULL);
    vt_cbor_map_put(map, cbor_build_uint8(LEDGER_K_VERSION), cbor_build_uint64(ev->version));
    put_bytes(map, LEDGER_K_LEARNER, ev->learner, LEDGER_LEARNER_LEN);
    vt_cbor_map_put(map, cbor_build_uint8(LEDGER_K_SEQ), cbor_build_uint64(ev->seq));
    if (ev->has_prev)
        put_bytes(map, LEDGER_K_PREV, ev->prev, LEDGER_HASH_LEN);
    vt_cbor_map_put(map, cbor_build_uint8(LEDGER_K_TIME), cbor_build_uint64(ev->time_ms));
    vt_cbor_map_put(map, cbor_build_uint8(LEDGER_K_TYPE), cbor_build_string(ev->type));
    put_bytes(map, LEDGER_K_AUTHOR, ev->author, VT_ED25519_PK_LEN);
    put_bytes(map, LEDGER_K_PAYLOAD_HASH, ev->payload_hash, VT_SHA256_LEN);
    put_bytes(map, LEDGER_K_COMMITMENT, ev->commitment, VT_SHA256_LEN);
    vt_cbor_map_put(map, cbor_build_uint8(LEDGER_K_ORIGIN), cbor_build_string(ev->origin));
    if (ev->event_id_len)
        put_bytes(map, LEDGER_K_EVENT_ID, ev->event_id, ev->event_id_len);
    st = vt_cbor_encode(map, out, err);
    cbor_decref(&map);
    return st;
}

static enum vt_status get_bytes(const cbor_item_t *v, const char *name, size_t min, size_t max,
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

static enum vt_status get_text(const cbor_item_t *v, const char *name, char *dst, size_t cap,
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

static enum vt_status decode_field(uint64_t key, const cbor_item_t *v, struct ledger_event *ev,
                                   struct vt_error *err)
{
    switch (key) {
    case LEDGER_K_VERSION:
        return vt_cbor_get_uint(v, &ev->version, err);
    case LEDGER_K_LEARNER:
        return get_bytes(v, "learner", LEDGER_LEARNER_LEN, LEDGER_LEARNER_LEN, ev->learner, NULL,
                         err);
    case LEDGER_K_SEQ:
        return vt_cbor_get_uint(v, &ev->seq, err);
    case LEDGER_K_PREV:
        ev->has_prev = true;
        return get_bytes(v, "prev", LEDGER_HASH_LEN, LEDGER_HASH_LEN, ev->prev, NULL, err);
    case LEDGER_K_TIME:
        return vt_cbor_get_uint(v, &ev->time_ms, err);
    case LEDGER_K_TYPE:
        return get_text(v, "type", ev->type, sizeof(ev->type), err);
    case LEDGER_K_AUTHOR:
        return get_bytes(v, "author", VT_ED25519_PK_LEN, VT_ED25519_PK_LEN, ev->author, NULL, err);
    case LEDGER_K_PAYLOAD_HASH:
        return get_bytes(v, "payload hash", VT_SHA256_LEN, VT_SHA256_LEN, ev->payload_hash, NULL,
                         err);
    case LEDGER_K_COMMITMENT:
        return get_bytes(v, "commitment", VT_SHA256_LEN, VT_SHA256_LEN, ev->commitment, NULL, err);
    case LEDGER_K_ORIGIN:
        return get_text(v, "origin", ev->origin, sizeof(ev->origin), err);
    case LEDGER_K_EVENT_ID:
        return get_bytes(v, "event id", 1, LEDGER_EVENT_ID_MAX, ev->event_id, &ev->event_id_len,
                         err);
    default:
        return vt_error_set(err, VT_ERR_INVALID, "unknown event field %llu",
                            (unsigned long long)key);
    }
}

/* Fields 1..10 are required except prev, which validation ties to seq. */
#define REQUIRED_FIELDS                                                                            \
    ((1u << LEDGER_K_VERSION) | (1u << LEDGER_K_LEARNER) | (1u << LEDGER_K_SEQ) |                  \
     (1u << LEDGER_K_TIME) | (1u << LEDGER_K_TYPE) | (1u << LEDGER_K_AUTHOR) |                     \
     (1u << LEDGER_K_PAYLOAD_HASH) | (1u << LEDGER_K_COMMITMENT) | (1u << LEDGER_K_ORIGIN))

enum vt_status ledger_event_decode(const uint8_t *env, size_t n, struct ledger_event *ev,
                                   struct vt_error *err)
{
    if (n > LEDGER_LEAF_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "event envelope of %zu bytes over the cap", n);
    cbor_item_t *map = NULL;
    enum vt_status st = vt_cbor_decode(env, n, 2, &map, err);
    if (st != VT_OK)
        return vt_error_prefix(err, "bad event envelope");
    memset(ev, 0, sizeof(*ev));
    if (!cbor_isa_map(map) || !cbor_map_is_definite(map)) {
        st = vt_error_set(err, VT_ERR_INVALID, "event envelope is not a map");
        goto out;
    }
    size_t count = cbor_map_size(map);
    struct cbor_pair *pairs = cbor_map_handle(map);
    uint32_t seen = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t key;
        if (!cbor_isa_uint(pairs[i].key) || vt_cbor_get_uint(pairs[i].key, &key, NULL) != VT_OK ||
            key > 31) {
            st = vt_error_set(err, VT_ERR_INVALID,
                              "event envelope has a key that is not a "
                              "known small integer");
            goto out;
        }
        seen |= 1u << key;
        st = decode_field(key, pairs[i].value, ev, err);
        if (st != VT_OK)
            goto out;
    }
    if ((seen & REQUIRED_FIELDS) != REQUIRED_FIELDS) {
        st = vt_error_set(err, VT_ERR_INVALID, "event envelope lacks required fields");
        goto out;
    }
    st = event_validate(ev, err);
out:
    cbor_decref(&map);
    return st;
}

void ledger_event_sign(const uint8_t *env, size_t n, const struct vt_key *key,
                       uint8_t sig[VT_ED25519_SIG_LEN])
{
    uint8_t msg[sizeof(LEDGER_DOMAIN) - 1 + LEDGER_LEAF_MAX];
    VT_ASSERT(n <= LEDGER_LEAF_MAX);
    memcpy(msg, LEDGER_DOMAIN, sizeof(LEDGER_DOMAIN) - 1);
    memcpy(msg + sizeof(LEDGER_DOMAIN) - 1, env, n);
    vt_key_sign(key, msg, sizeof(LEDGER_DOMAIN) - 1 + n, sig);
}

bool ledger_event_signature_ok(const uint8_t *env, size_t n, const uint8_t pk[VT_ED25519_PK_LEN],
                               const uint8_t sig[VT_ED25519_SIG_LEN])
{
    uint8_t msg[sizeof(LEDGER_DOMAIN) - 1 + LEDGER_LEAF_MAX];
    if (n > LEDGER_LEAF_MAX)
        return false;
    memcpy(msg, LEDGER_DOMAIN, sizeof(LEDGER_DOMAIN) - 1);
    memcpy(msg + sizeof(LEDGER_DOMAIN) - 1, env, n);
    return vt_ed25519_verify(pk, msg, sizeof(LEDGER_DOMAIN) - 1 + n, sig);
}

/* A CBOR head with major type mt and argument v, in its shortest form. */
static enum vt_status put_head(struct vt_buf *out, uint8_t mt, uint64_t v, struct vt_error *err)
{
    uint8_t h[9];
    size_t n;
    if (v < 24) {
        h[0] = (uint8_t)(mt << 5 | v);
        n = 1;
    } else if (v <= 0xff) {
        h[0] = (uint8_t)(mt << 5 | 24);
        h[1] = (uint8_t)v;
        n = 2;
    } else if (v <= 0xffff) {
        h[0] = (uint8_t)(mt << 5 | 25);
        vt_be16_put(h + 1, (uint16_t)v);
        n = 3;
    } else {
        /* Leaves are capped far below 4 GiB. */
        h[0] = (uint8_t)(mt << 5 | 26);
        vt_be32_put(h + 1, (uint32_t)v);
        n = 5;
    }
    return vt_buf_append(out, h, n, err);
}

/*
 * The leaf is a fixed two-element array, so it is written directly: 0x82, the envelope as
 * a byte string, the signature as a 64-byte byte string (0x58 0x40). This is exactly what
 * vt_cbor_encode would produce for it, and ledger_leaf_open checks the result canonically.
 */
enum vt_status ledger_leaf_encode(const uint8_t *env, size_t n,
                                  const uint8_t sig[VT_ED25519_SIG_LEN], struct vt_buf *out,
                                  struct vt_error *err)
{
    size_t start = out->len;
    enum vt_status st = vt_buf_append_byte(out, 0x82, err);
    if (st == VT_OK)
        st = put_head(out, 2, n, err);
    if (st == VT_OK)
        st = vt_buf_append(out, env, n, err);
    if (st == VT_OK)
        st = put_head(out, 2, VT_ED25519_SIG_LEN, err);
    if (st == VT_OK)
        st = vt_buf_append(out, sig, VT_ED25519_SIG_LEN, err);
    if (st != VT_OK)
        out->len = start;
    return st;
}

enum vt_status ledger_leaf_split(const uint8_t *leaf, size_t n, size_t *env_off, size_t *env_len,
                                 const uint8_t **sig, struct vt_error *err)
{
    if (n > LEDGER_LEAF_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "event of %zu bytes over the %d-byte cap", n,
                            LEDGER_LEAF_MAX);
    enum vt_status st = vt_cbor_check(leaf, n, 2, err);
    if (st != VT_OK)
        return vt_error_prefix(err, "bad event");
    /* Canonical form is checked, so each head below is already in its shortest form. */
    if (n < 2 || leaf[0] != 0x82 || (leaf[1] >> 5) != 2)
        return vt_error_set(err, VT_ERR_INVALID, "event is not [envelope, signature]");
    size_t off = 2, len;
    uint8_t ai = leaf[1] & 0x1f;
    if (ai < 24) {
        len = ai;
    } else if (ai == 24) {
        len = leaf[2];
        off = 3;
    } else if (ai == 25) {
        len = vt_be16_get(leaf + 2);
        off = 4;
    } else {
        return vt_error_set(err, VT_ERR_INVALID, "event envelope too long");
    }
    if (off + len + 2 + VT_ED25519_SIG_LEN != n || leaf[off + len] != 0x58 ||
        leaf[off + len + 1] != VT_ED25519_SIG_LEN)
        return vt_error_set(err, VT_ERR_INVALID, "event signature is not 64 bytes");
    *env_off = off;
    *env_len = len;
    *sig = leaf + off + len + 2;
    return VT_OK;
}

enum vt_status ledger_leaf_open(const uint8_t *leaf, size_t n, struct ledger_event *ev,
                                uint8_t sig[VT_ED25519_SIG_LEN], size_t *env_off, size_t *env_len,
                                struct vt_error *err)
{
    size_t off, len;
    const uint8_t *s;
    enum vt_status st = ledger_leaf_split(leaf, n, &off, &len, &s, err);
    if (st != VT_OK)
        return st;
    st = ledger_event_decode(leaf + off, len, ev, err);
    if (st != VT_OK)
        return st;
    if (!ledger_event_signature_ok(leaf + off, len, ev->author, s))
        return vt_error_set(err, VT_ERR_VERIFY, "event signature does not verify");
    if (sig)
        memcpy(sig, s, VT_ED25519_SIG_LEN);
    if (env_off)
        *env_off = off;
    if (env_len)
        *env_len = len;
    return VT_OK;
}
