/* RFC 4648 base64 (§4, padded) and base64url (§5, unpadded); rules in specs/encoding.md §3. */
#include "core/core.h"
#include "core/core_int.h"

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The value of each ASCII character in the alphabet; X marks those outside it. X and every
 * byte above 0x7f have the high bit set, which no value has. */
#define X 0xff
/* clang-format off */
static const uint8_t std_values[128] = {
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X, 62,  X,  X,  X, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61,  X,  X,  X,  X,  X,  X,
     X,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,  X,  X,  X,  X,  X,
     X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,  X,  X,  X,  X,  X,
};
static const uint8_t url_values[128] = {
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X, 62,  X,  X,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61,  X,  X,  X,  X,  X,  X,
     X,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,  X,  X,  X,  X, 63,
     X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,  X,  X,  X,  X,  X,
};
/* clang-format on */
#undef X

struct variant {
    const char *name;
    const char *alphabet;
    const uint8_t *values;
    bool padded;
};

static const struct variant base64 = {"base64", std_alphabet, std_values, true};
static const struct variant base64url = {"base64url", url_alphabet, url_values, false};

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

/* Decoding may have written past the end of out's text before it failed: end it again. */
static void restore(struct vt_buf *out, bool written)
{
    if (written && out->cap > 0)
        out->data[out->len] = '\0';
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
    const uint8_t *u = (const uint8_t *)s;
    const uint8_t *t = v->values;
    size_t full = data_len / 4;
    size_t tail = data_len % 4;
    size_t need = full * 3 + (tail > 0 ? tail - 1 : 0);
    /* Decoding goes straight into the buffer and is committed only at the end. A text that
     * cannot fit is first checked for bad characters, which are reported in preference. */
    bool fits = out->len <= out->max && need <= out->max - out->len;
    if (fits) {
        enum vt_status st = vt_buf_grow(out, need, err);
        if (st != VT_OK)
            return st;
    }

    /* Any value with its high bit set (X, or a byte above 0x7f) marks a bad character; the
     * slower search for the culprit runs only then. */
    uint8_t any = 0;
    if (fits) {
        uint8_t *w = out->data + out->len;
        for (size_t i = 0; i < full * 4; i += 4) {
            uint8_t a = t[u[i] & 0x7f], b = t[u[i + 1] & 0x7f];
            uint8_t c = t[u[i + 2] & 0x7f], d = t[u[i + 3] & 0x7f];
            any |= a | b | c | d | u[i] | u[i + 1] | u[i + 2] | u[i + 3];
            uint32_t x = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
            w[0] = (uint8_t)(x >> 16);
            w[1] = (uint8_t)(x >> 8);
            w[2] = (uint8_t)x;
            w += 3;
        }
        for (size_t i = full * 4; i < data_len; i++)
            any |= u[i] | t[u[i] & 0x7f];
    } else {
        for (size_t i = 0; i < data_len; i++)
            any |= u[i] | t[u[i] & 0x7f];
    }
    if (any & 0x80) {
        restore(out, fits);
        for (size_t i = 0;; i++)
            if ((u[i] | t[u[i] & 0x7f]) & 0x80)
                return bad_char(v, s[i], at + i, err);
    }

    /* The last character of a partial group holds bits past the end of the data; they
     * must be zero, or two different strings would decode to the same bytes. */
    if (tail > 0) {
        uint8_t last = t[u[data_len - 1] & 0x7f];
        uint8_t unused_mask = tail == 2 ? 0x0f : 0x03;
        if ((last & unused_mask) != 0) {
            restore(out, fits);
            return vt_error_set(err, VT_ERR_NONCANONICAL,
                                "non-canonical %s: unused low bits of the character at offset "
                                "%zu are not zero",
                                v->name, at + data_len - 1);
        }
    }
    if (!fits)
        return vt_buf_grow(out, need, err);

    if (tail > 0) {
        uint8_t *w = out->data + out->len + full * 3;
        const uint8_t *g = u + full * 4;
        uint32_t x = (uint32_t)t[g[0] & 0x7f] << 18 | (uint32_t)t[g[1] & 0x7f] << 12;
        if (tail == 3)
            x |= (uint32_t)t[g[2] & 0x7f] << 6;
        w[0] = (uint8_t)(x >> 16);
        if (tail == 3)
            w[1] = (uint8_t)(x >> 8);
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
