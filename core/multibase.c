/* Multibase prefixes and multicodec varint headers (specs/encoding.md §3 and §4). */
#include "core/core.h"
#include "core/core_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The multiformats unsigned-varint spec caps a varint at 9 bytes (63 bits). */
#define VARINT_MAX 9

enum vt_status vt_multibase_encode(enum vt_multibase base, const uint8_t *p, size_t n,
                                   struct vt_buf *out, struct vt_error *err)
{
    if (base != VT_MULTIBASE_BASE58BTC && base != VT_MULTIBASE_BASE64URL)
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "unsupported multibase %d", (int)base);
    size_t start = out->len;
    enum vt_status st = vt_buf_append_byte(out, (uint8_t)base, err);
    if (st != VT_OK)
        return st;
    if (base == VT_MULTIBASE_BASE58BTC)
        st = vt_base58_encode(p, n, out, err);
    else
        st = vt_base64url_encode(p, n, out, err);
    if (st != VT_OK) {
        out->len = start;
        out->data[start] = '\0';
    }
    return st;
}

enum vt_status vt_multibase_decode(const char *s, size_t n, enum vt_multibase *base_out,
                                   struct vt_buf *out, struct vt_error *err)
{
    if (n == 0)
        return vt_error_set(err, VT_ERR_INVALID, "invalid multibase value: empty string");
    enum vt_status st;
    unsigned char prefix = (unsigned char)s[0];
    if (prefix == VT_MULTIBASE_BASE58BTC)
        st = vt_base58_decode_at(s + 1, n - 1, 1, out, err);
    else if (prefix == VT_MULTIBASE_BASE64URL)
        st = vt_base64url_decode_at(s + 1, n - 1, 1, out, err);
    else if (prefix >= 0x21 && prefix < 0x7f)
        return vt_error_set(err, VT_ERR_UNSUPPORTED,
                            "unsupported multibase prefix '%c' (only 'z' and 'u' are accepted)",
                            prefix);
    else
        return vt_error_set(err, VT_ERR_UNSUPPORTED,
                            "unsupported multibase prefix 0x%02x (only 'z' and 'u' are accepted)",
                            prefix);
    if (st == VT_OK && base_out != NULL)
        *base_out = (enum vt_multibase)prefix;
    return st;
}

static size_t varint_put(uint64_t v, uint8_t out[VARINT_MAX + 1])
{
    size_t len = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        out[len++] = v != 0 ? (uint8_t)(b | 0x80) : b;
    } while (v != 0);
    return len;
}

size_t vt_multicodec_read(const uint8_t *p, size_t n, uint64_t *code)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n && i < VARINT_MAX; i++) {
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if ((p[i] & 0x80) != 0)
            continue;
        /* A final 0x00 after other bytes adds nothing: the same value has a shorter form. */
        if (i > 0 && p[i] == 0)
            return 0;
        *code = v;
        return i + 1;
    }
    return 0;
}

const char *vt_multicodec_name(uint64_t code)
{
    switch (code) {
    case VT_MULTICODEC_ED25519_PUB:
        return "ed25519-pub";
    case VT_MULTICODEC_X25519_PUB:
        return "x25519-pub";
    case VT_MULTICODEC_ED25519_PRIV:
        return "ed25519-priv";
    case 0xe7:
        return "secp256k1-pub";
    case 0x1200:
        return "p256-pub";
    case 0x1201:
        return "p384-pub";
    default:
        return "unknown";
    }
}

enum vt_status vt_multicodec_unwrap(const uint8_t *p, size_t n, enum vt_multicodec codec,
                                    size_t payload_len, const uint8_t **payload,
                                    struct vt_error *err)
{
    uint8_t want[VARINT_MAX + 1];
    size_t want_len = varint_put((uint64_t)codec, want);
    const char *want_name = vt_multicodec_name((uint64_t)codec);

    if (n < want_len || memcmp(p, want, want_len) != 0) {
        uint64_t found;
        if (vt_multicodec_read(p, n, &found) == 0)
            return vt_error_set(err, VT_ERR_INVALID,
                                "expected multicodec 0x%x (%s), found no valid multicodec prefix",
                                (unsigned)codec, want_name);
        return vt_error_set(err, VT_ERR_INVALID,
                            "expected multicodec 0x%x (%s), found 0x%" PRIx64 " (%s)",
                            (unsigned)codec, want_name, found, vt_multicodec_name(found));
    }
    if (n - want_len != payload_len)
        return vt_error_set(err, VT_ERR_INVALID,
                            "expected %zu bytes of %s after the multicodec prefix, found %zu",
                            payload_len, want_name, n - want_len);
    *payload = p + want_len;
    return VT_OK;
}

enum vt_status vt_multicodec_wrap(enum vt_multicodec codec, const uint8_t *payload, size_t n,
                                  struct vt_buf *out, struct vt_error *err)
{
    uint8_t prefix[VARINT_MAX + 1];
    size_t prefix_len = varint_put((uint64_t)codec, prefix);
    size_t need;
    if (!vt_size_add(prefix_len, n, &need))
        return vt_error_set(err, VT_ERR_TOO_LARGE, "multicodec value of %zu bytes is too large", n);
    /* Reserving everything first makes both appends infallible, so a failure never leaves
     * a lone prefix behind. */
    enum vt_status st = vt_buf_grow(out, need, err);
    if (st != VT_OK)
        return st;
    st = vt_buf_append(out, prefix, prefix_len, err);
    VT_ASSERT(st == VT_OK);
    st = vt_buf_append(out, payload, n, err);
    VT_ASSERT(st == VT_OK);
    return VT_OK;
}
