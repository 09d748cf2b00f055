/* Base16 (hex). */
#include "core/core.h"

static const char hex_digits[] = "0123456789abcdef";

enum vt_status vt_hex_encode(const uint8_t *p, size_t n, struct vt_buf *out, struct vt_error *err)
{
    size_t need;
    if (!vt_size_mul(n, 2, &need))
        return vt_error_set(err, VT_ERR_TOO_LARGE, "hex input too large");
    enum vt_status st = vt_buf_grow(out, need, err);
    if (st != VT_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        out->data[out->len++] = (uint8_t)hex_digits[p[i] >> 4];
        out->data[out->len++] = (uint8_t)hex_digits[p[i] & 15];
    }
    out->data[out->len] = '\0';
    return VT_OK;
}

/* The value of each ASCII hex digit; X marks the other characters. X and every byte above
 * 0x7f have the high bit set, which no digit value has. */
#define X 0xff
/* clang-format off */
static const uint8_t hex_values[128] = {
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  X,  X,  X,  X,  X,  X,
     X, 10, 11, 12, 13, 14, 15,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X, 10, 11, 12, 13, 14, 15,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
};
/* clang-format on */
#undef X

enum vt_status vt_hex_decode(const char *s, size_t n, struct vt_buf *out, struct vt_error *err)
{
    if (n % 2 != 0)
        return vt_error_set(err, VT_ERR_INVALID, "hex string has odd length %zu", n);
    const uint8_t *u = (const uint8_t *)s;
    uint8_t any = 0;
    for (size_t i = 0; i < n; i++)
        any |= u[i] | hex_values[u[i] & 0x7f];
    if (any & 0x80) {
        for (size_t i = 0;; i++)
            if ((u[i] | hex_values[u[i] & 0x7f]) & 0x80)
                return vt_error_set(err, VT_ERR_INVALID, "invalid hex character at offset %zu", i);
    }
    enum vt_status st = vt_buf_grow(out, n / 2, err);
    if (st != VT_OK)
        return st;
    uint8_t *w = out->data + out->len;
    for (size_t i = 0; i < n; i += 2)
        *w++ = (uint8_t)(hex_values[u[i] & 0x7f] << 4 | hex_values[u[i + 1] & 0x7f]);
    out->len += n / 2;
    out->data[out->len] = '\0';
    return VT_OK;
}
