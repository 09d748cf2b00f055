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

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

enum vt_status vt_hex_decode(const char *s, size_t n, struct vt_buf *out, struct vt_error *err)
{
    if (n % 2 != 0)
        return vt_error_set(err, VT_ERR_INVALID, "hex string has odd length %zu", n);
    for (size_t i = 0; i < n; i++)
        if (hex_value(s[i]) < 0)
            return vt_error_set(err, VT_ERR_INVALID, "invalid hex character at offset %zu", i);
    enum vt_status st = vt_buf_grow(out, n / 2, err);
    if (st != VT_OK)
        return st;
    for (size_t i = 0; i < n; i += 2)
        out->data[out->len++] = (uint8_t)(hex_value(s[i]) << 4 | hex_value(s[i + 1]));
    out->data[out->len] = '\0';
    return VT_OK;
}
