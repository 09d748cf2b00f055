/* RFC 4648 base64 (§4, padded) and base64url (§5, unpadded); rules in specs/encoding.md §3. */
#include "core/core.h"
#include "core/core_int.h"

#include <string.h>

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct variant {
    const char *name;
    const char *alphabet;
    bool padded;
};

static const struct variant base64 = {"base64", std_alphabet, true};
static const struct variant base64url = {"base64url", url_alphabet, false};

static int char_value(const struct variant *v, char c)
{
    const char *hit = memchr(v->alphabet, c, 64);
    return hit != NULL ? (int)(hit - v->alphabet) : -1;
}

static enum vt_status encode(const struct variant *v, const uint8_t *p, size_t n,
                             struct vt_buf *out, struct vt_error *err)
{
    size_t full = n / 3, rem = n % 3;
    size_t tail = rem == 0 ? 0 : v->padded ? 4 : rem + 1;
    size_t need;
    if (!vt_size_mul(full, 4, &need) || !vt_size_add(need, tail, &need))
        return vt_error_set(err, VT_ERR_TOO_LARGE, "cannot encode %zu bytes as %s", n, v->name);
    enum vt_status st = vt_buf_grow(out, need, err);
    if (st != VT_OK)
        return st;

    uint8_t *w = out->data + out->len;
    const char *a = v->alphabet;
    for (size_t i = 0; i < full * 3; i += 3) {
        uint32_t x = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *w++ = (uint8_t)a[x >> 18];
        *w++ = (uint8_t)a[x >> 12 & 63];
        *w++ = (uint8_t)a[x >> 6 & 63];
        *w++ = (uint8_t)a[x & 63];
    }
    if (rem > 0) {
        uint32_t x = (uint32_t)p[full * 3] << 16;
        if (rem == 2)
            x |= (uint32_t)p[full * 3 + 1] << 8;
        *w++ = (uint8_t)a[x >> 18];
        *w++ = (uint8_t)a[x >> 12 & 63];
        if (rem == 2)
            *w++ = (uint8_t)a[x >> 6 & 63];
        if (v->padded) {
            if (rem == 1)
                *w++ = '=';
            *w++ = '=';
        }
    }
    out->len += need;
    out->data[out->len] = '\0';
    return VT_OK;
}

static enum vt_status bad_char(const struct variant *v, char ch, size_t offset,
                               struct vt_error *err)
{
    unsigned char c = (unsigned char)ch;
    if (c == '=')
        return vt_error_set(err, VT_ERR_INVALID, "unexpected %s padding '=' at offset %zu", v->name,
                            offset);
    if (c >= 0x21 && c < 0x7f)
        return vt_error_set(err, VT_ERR_INVALID, "invalid %s character '%c' at offset %zu", v->name,
                            c, offset);
    return vt_error_set(err, VT_ERR_INVALID, "invalid %s character 0x%02x at offset %zu", v->name,
                        c, offset);
}

static enum vt_status decode(const struct variant *v, const char *s, size_t n, size_t at,
                             struct vt_buf *out, struct vt_error *err)
{
    size_t data_len = n;
    if (v->padded) {
        if (n % 4 != 0)
            return vt_error_set(err, VT_ERR_INVALID,
                                "invalid %s: length %zu is not a multiple of 4", v->name, n);
        /* At most two '=' and only at the very end; a third one, or one further in, is
         * reported below as a misplaced padding character. */
        if (n > 0 && s[n - 1] == '=') {
            data_len--;
            if (s[n - 2] == '=')
                data_len--;
        }
    } else if (n % 4 == 1) {
        /* One character carries 6 bits, less than a byte: no encoder produces this. */
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid %s: length %zu leaves a lone character at offset %zu", v->name,
                            n, at + n - 1);
    }
    for (size_t i = 0; i < data_len; i++)
        if (char_value(v, s[i]) < 0)
            return bad_char(v, s[i], at + i, err);

    /* The last character of a partial group holds bits past the end of the data; they
     * must be zero, or two different strings would decode to the same bytes. */
    size_t tail = data_len % 4;
    if (tail > 0) {
        int last = char_value(v, s[data_len - 1]);
        int unused_mask = tail == 2 ? 0x0f : 0x03;
        if ((last & unused_mask) != 0)
            return vt_error_set(err, VT_ERR_NONCANONICAL,
                                "non-canonical %s: unused low bits of the character at offset "
                                "%zu are not zero",
                                v->name, at + data_len - 1);
    }

    size_t need = data_len / 4 * 3 + (tail > 0 ? tail - 1 : 0);
    enum vt_status st = vt_buf_grow(out, need, err);
    if (st != VT_OK)
        return st;

    uint8_t *w = out->data + out->len;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < data_len; i++) {
        acc = (acc << 6 | (uint32_t)char_value(v, s[i])) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *w++ = (uint8_t)(acc >> bits);
        }
    }
    out->len += need;
    out->data[out->len] = '\0';
    return VT_OK;
}

enum vt_status vt_base64_encode(const uint8_t *p, size_t n, struct vt_buf *out,
                                struct vt_error *err)
{
    return encode(&base64, p, n, out, err);
}

enum vt_status vt_base64_decode(const char *s, size_t n, struct vt_buf *out, struct vt_error *err)
{
    return decode(&base64, s, n, 0, out, err);
}

enum vt_status vt_base64url_encode(const uint8_t *p, size_t n, struct vt_buf *out,
                                   struct vt_error *err)
{
    return encode(&base64url, p, n, out, err);
}

enum vt_status vt_base64url_decode_at(const char *s, size_t n, size_t at, struct vt_buf *out,
                                      struct vt_error *err)
{
    return decode(&base64url, s, n, at, out, err);
}

enum vt_status vt_base64url_decode(const char *s, size_t n, struct vt_buf *out,
                                   struct vt_error *err)
{
    return vt_base64url_decode_at(s, n, 0, out, err);
}
