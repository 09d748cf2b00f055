/* base58btc: the Bitcoin alphabet, as multibase 'z' and Multikey use it (specs/encoding.md §3). */
#include "core/core.h"
#include "core/core_int.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static int digit_value(char c)
{
    const char *hit = memchr(alphabet, c, 58);
    return hit != NULL ? (int)(hit - alphabet) : -1;
}

enum vt_status vt_base58_encode(const uint8_t *p, size_t n, struct vt_buf *out,
                                struct vt_error *err)
{
    /* Every input byte yields at least one character, so this bounds the quadratic loop
     * before it starts; the exact output length is checked once it is known. */
    if (n > VT_BASE58_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE,
                            "cannot encode %zu bytes as base58btc: the cap is %d characters", n,
                            VT_BASE58_MAX);
    size_t zeros = 0;
    while (zeros < n && p[zeros] == 0)
        zeros++;

    /* Little-endian base-58 digits; log(256)/log(58) < 1.38 bounds their count. The input
     * may be a secret seed, so the scratch space is wiped. */
    size_t cap = (n - zeros) * 138 / 100 + 1;
    uint8_t *digits = vt_malloc(cap);
    size_t len = 0;
    for (size_t i = zeros; i < n; i++) {
        unsigned carry = p[i];
        for (size_t j = 0; j < len; j++) {
            carry += (unsigned)digits[j] << 8;
            digits[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        while (carry > 0) {
            VT_ASSERT(len < cap);
            digits[len++] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }

    enum vt_status st = VT_OK;
    size_t total = zeros + len;
    if (total > VT_BASE58_MAX)
        st = vt_error_set(err, VT_ERR_TOO_LARGE,
                          "cannot encode %zu bytes as base58btc: %zu characters exceed the cap "
                          "of %d",
                          n, total, VT_BASE58_MAX);
    else
        st = vt_buf_grow(out, total, err);
    if (st == VT_OK) {
        memset(out->data + out->len, '1', zeros);
        out->len += zeros;
        for (size_t j = len; j > 0; j--)
            out->data[out->len++] = (uint8_t)alphabet[digits[j - 1]];
        out->data[out->len] = '\0';
    }
    sodium_memzero(digits, cap);
    free(digits);
    return st;
}

enum vt_status vt_base58_decode_at(const char *s, size_t n, size_t at, struct vt_buf *out,
                                   struct vt_error *err)
{
    if (n > VT_BASE58_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE,
                            "base58btc text of %zu characters exceeds the cap of %d", n,
                            VT_BASE58_MAX);
    for (size_t i = 0; i < n; i++) {
        if (digit_value(s[i]) >= 0)
            continue;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x21 && c < 0x7f)
            return vt_error_set(err, VT_ERR_INVALID,
                                "invalid base58btc character '%c' at offset %zu", c, at + i);
        return vt_error_set(err, VT_ERR_INVALID, "invalid base58btc character 0x%02x at offset %zu",
                            c, at + i);
    }
    size_t zeros = 0;
    while (zeros < n && s[zeros] == '1')
        zeros++;

    /* Little-endian bytes of the number; log(58)/log(256) < 0.733 bounds their count.
     * The first digit after the '1's is nonzero, so the number has no high zero bytes and
     * every string decodes to exactly one byte string: base58btc has no non-canonical
     * forms to reject. */
    size_t cap = (n - zeros) * 733 / 1000 + 1;
    uint8_t *bytes = vt_malloc(cap);
    size_t len = 0;
    for (size_t i = zeros; i < n; i++) {
        unsigned carry = (unsigned)digit_value(s[i]);
        for (size_t j = 0; j < len; j++) {
            carry += (unsigned)bytes[j] * 58;
            bytes[j] = (uint8_t)carry;
            carry >>= 8;
        }
        while (carry > 0) {
            VT_ASSERT(len < cap);
            bytes[len++] = (uint8_t)carry;
            carry >>= 8;
        }
    }

    enum vt_status st = vt_buf_grow(out, zeros + len, err);
    if (st == VT_OK) {
        memset(out->data + out->len, 0, zeros);
        out->len += zeros;
        for (size_t j = len; j > 0; j--)
            out->data[out->len++] = bytes[j - 1];
        out->data[out->len] = '\0';
    }
    sodium_memzero(bytes, cap);
    free(bytes);
    return st;
}

enum vt_status vt_base58_decode(const char *s, size_t n, struct vt_buf *out, struct vt_error *err)
{
    return vt_base58_decode_at(s, n, 0, out, err);
}
