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

/* ---- encoding ------------------------------------------------------------------------- */

/*
 * The envelope is written directly, without building libcbor items: its keys are the
 * integers 1..11, whose one-byte encodings already sort in deterministic order, and every
 * head is written in its shortest form, so the bytes are exactly what vt_cbor_encode
 * writes for the same map (test_event.c compares the two on random events).
 */
static uint8_t *head_put(uint8_t *p, uint8_t major, uint64_t v)
{
    uint8_t mt = (uint8_t)(major << 5);
    if (v < 24) {
        *p++ = (uint8_t)(mt | v);
    } else if (v <= 0xff) {
        *p++ = mt | 24;
        *p++ = (uint8_t)v;
    } else if (v <= 0xffff) {
        *p++ = mt | 25;
        vt_be16_put(p, (uint16_t)v);
        p += 2;
    } else if (v <= 0xffffffff) {
        *p++ = mt | 26;
        vt_be32_put(p, (uint32_t)v);
        p += 4;
    } else {
        *p++ = mt | 27;
        vt_be64_put(p, v);
        p += 8;
    }
    return p;
}

static uint8_t *uint_put(uint8_t *p, uint8_t key, uint64_t v)
{
    *p++ = key;
    return head_put(p, 0, v);
}

static uint8_t *string_put(uint8_t *p, uint8_t key, uint8_t major, const void *s, size_t n)
{
    *p++ = key;
    p = head_put(p, major, n);
    memcpy(p, s, n);
    return p + n;
}

enum vt_status ledger_envelope_put(const struct ledger_event *ev, uint8_t out[LEDGER_ENVELOPE_MAX],
                                   size_t *len, struct vt_error *err)
{
    enum vt_status st = event_validate(ev, err);
    if (st != VT_OK)
        return st;
    size_t count = 9 + (ev->has_prev ? 1 : 0) + (ev->event_id_len ? 1 : 0);
    uint8_t *p = head_put(out, 5, count);
    p = uint_put(p, LEDGER_K_VERSION, ev->version);
    p = string_put(p, LEDGER_K_LEARNER, 2, ev->learner, LEDGER_LEARNER_LEN);
    p = uint_put(p, LEDGER_K_SEQ, ev->seq);
    if (ev->has_prev)
        p = string_put(p, LEDGER_K_PREV, 2, ev->prev, LEDGER_HASH_LEN);
    p = uint_put(p, LEDGER_K_TIME, ev->time_ms);
    p = string_put(p, LEDGER_K_TYPE, 3, ev->type, strlen(ev->type));
    p = string_put(p, LEDGER_K_AUTHOR, 2, ev->author, VT_ED25519_PK_LEN);
    p = string_put(p, LEDGER_K_PAYLOAD_HASH, 2, ev->payload_hash, VT_SHA256_LEN);
    p = string_put(p, LEDGER_K_COMMITMENT, 2, ev->commitment, VT_SHA256_LEN);
    p = string_put(p, LEDGER_K_ORIGIN, 3, ev->origin, strlen(ev->origin));
    if (ev->event_id_len)
        p = string_put(p, LEDGER_K_EVENT_ID, 2, ev->event_id, ev->event_id_len);
    *len = (size_t)(p - out);
    VT_ASSERT(*len <= LEDGER_ENVELOPE_MAX);
    return VT_OK;
}

enum vt_status ledger_event_encode(const struct ledger_event *ev, struct vt_buf *out,
                                   struct vt_error *err)
{
    uint8_t env[LEDGER_ENVELOPE_MAX];
    size_t n;
    enum vt_status st = ledger_envelope_put(ev, env, &n, err);
    if (st != VT_OK)
        return st;
    return vt_buf_append(out, env, n, err);
}

/* ---- decoding ------------------------------------------------------------------------- */

/*
 * The envelope is read straight from its bytes once vt_cbor_check has accepted them as
 * one deterministic item at most two levels deep: every head is then well formed, in its
 * shortest form and within the input, so only types and values are left to check. The
 * messages are those of the libcbor-based reader this replaced.
 */
struct head {
    uint8_t major;
    uint8_t ai;
    uint64_t arg;
    size_t len; /* bytes of the head */
};

static struct head head_get(const uint8_t *p)
{
    struct head h = {(uint8_t)(p[0] >> 5), (uint8_t)(p[0] & 0x1f), p[0] & 0x1f, 1};
    if (h.ai == 24) {
        h.arg = p[1];
        h.len = 2;
    } else if (h.ai == 25) {
        h.arg = vt_be16_get(p + 1);
        h.len = 3;
    } else if (h.ai == 26) {
        h.arg = vt_be32_get(p + 1);
        h.len = 5;
    } else if (h.ai == 27) {
        h.arg = vt_be64_get(p + 1);
        h.len = 9;
    }
    return h;
}

/* The name vt_cbor_get_uint gives an item's type in its message. */
static const char *kind_name(const struct head *h)
{
    static const char *const names[] = {
        "integer", "negative integer", "byte string", "text string", "array", "map", "tag"};
    if (h->major < 7)
        return names[h->major];
    return h->ai >= 25 && h->ai <= 27 ? "float" : "simple value";
}

static enum vt_status get_uint(const struct head *h, uint64_t *out, struct vt_error *err)
{
    if (h->major != 0)
        return vt_error_set(err, VT_ERR_INVALID, "expected an unsigned integer, found a %s",
                            kind_name(h));
    *out = h->arg;
    return VT_OK;
}

static enum vt_status get_bytes(const struct head *h, const uint8_t *v, const char *name,
                                size_t min, size_t max, uint8_t *dst, size_t *len,
                                struct vt_error *err)
{
    if (h->major != 2)
        return vt_error_set(err, VT_ERR_INVALID, "event field '%s' is not a byte string", name);
    size_t n = (size_t)h->arg;
    if (n < min || n > max)
        return vt_error_set(err, VT_ERR_INVALID, "event field '%s' has %zu bytes, want %zu%s", name,
                            n, min, min == max ? "" : " or more");
    memcpy(dst, v + h->len, n);
    if (len)
        *len = n;
    return VT_OK;
}

static enum vt_status get_text(const struct head *h, const uint8_t *v, const char *name, char *dst,
                               size_t cap, struct vt_error *err)
{
    if (h->major != 3)
        return vt_error_set(err, VT_ERR_INVALID, "event field '%s' is not a text string", name);
    size_t n = (size_t)h->arg;
    if (n >= cap)
        return vt_error_set(err, VT_ERR_INVALID, "event field '%s' is too long", name);
    const uint8_t *p = v + h->len;
    if (n && memchr(p, 0, n))
        return vt_error_set(err, VT_ERR_INVALID, "event field '%s' contains NUL", name);
    memcpy(dst, p, n);
    dst[n] = 0;
    return VT_OK;
}

static enum vt_status decode_field(uint64_t key, const struct head h, const uint8_t *v,
                                   struct ledger_event *ev, struct vt_error *err)
{
    switch (key) {
    case LEDGER_K_VERSION:
        return get_uint(&h, &ev->version, err);
    case LEDGER_K_LEARNER:
        return get_bytes(&h, v, "learner", LEDGER_LEARNER_LEN, LEDGER_LEARNER_LEN, ev->learner,
                         NULL, err);
    case LEDGER_K_SEQ:
        return get_uint(&h, &ev->seq, err);
    case LEDGER_K_PREV:
        ev->has_prev = true;
        return get_bytes(&h, v, "prev", LEDGER_HASH_LEN, LEDGER_HASH_LEN, ev->prev, NULL, err);
    case LEDGER_K_TIME:
        return get_uint(&h, &ev->time_ms, err);
    case LEDGER_K_TYPE:
        return get_text(&h, v, "type", ev->type, sizeof(ev->type), err);
    case LEDGER_K_AUTHOR:
        return get_bytes(&h, v, "author", VT_ED25519_PK_LEN, VT_ED25519_PK_LEN, ev->author, NULL,
                         err);
    case LEDGER_K_PAYLOAD_HASH:
        return get_bytes(&h, v, "payload hash", VT_SHA256_LEN, VT_SHA256_LEN, ev->payload_hash,
                         NULL, err);
    case LEDGER_K_COMMITMENT:
        return get_bytes(&h, v, "commitment", VT_SHA256_LEN, VT_SHA256_LEN, ev->commitment, NULL,
                         err);
    case LEDGER_K_ORIGIN:
        return get_text(&h, v, "origin", ev->origin, sizeof(ev->origin), err);
    case LEDGER_K_EVENT_ID:
        return get_bytes(&h, v, "event id", 1, LEDGER_EVENT_ID_MAX, ev->event_id, &ev->event_id_len,
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
    enum vt_status st = vt_cbor_check(env, n, 2, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "bad event envelope");
    memset(ev, 0, sizeof(*ev));
    struct head map = head_get(env);
    if (map.major != 5)
        return vt_error_set(err, VT_ERR_INVALID, "event envelope is not a map");
    size_t off = map.len;
    uint32_t seen = 0;
    for (uint64_t i = 0; i < map.arg; i++) {
        struct head k = head_get(env + off);
        if (k.major != 0 || k.arg > 31)
            return vt_error_set(err, VT_ERR_INVALID,
                                "event envelope has a key that is not a "
                                "known small integer");
        off += k.len;
        seen |= 1u << k.arg;
        struct head v = head_get(env + off);
        st = decode_field(k.arg, v, env + off, ev, err);
        if (st != VT_OK)
            return st;
        /* A value that decoded is an unsigned integer or a byte or text string. */
        off += v.len + (v.major == 0 ? 0 : (size_t)v.arg);
    }
    if ((seen & REQUIRED_FIELDS) != REQUIRED_FIELDS)
        return vt_error_set(err, VT_ERR_INVALID, "event envelope lacks required fields");
    return event_validate(ev, err);
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
        return vt_error_prefix(err, st, "bad event");
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
