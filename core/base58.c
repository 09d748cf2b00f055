/* base58btc: the Bitcoin alphabet, as multibase 'z' and Multikey use it (specs/encoding.md §3). */
#include "core/core.h"
#include "core/core_int.h"

#include <string.h>

#include <sodium.h>

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* The value of each ASCII character in the alphabet; X marks those outside it. X and every
 * byte above 0x7f have the high bit set, which no value has. */
#define X 0xff
/* clang-format off */
static const uint8_t digit_values[128] = {
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
     X,  0,  1,  2,  3,  4,  5,  6,  7,  8,  X,  X,  X,  X,  X,  X,
     X,  9, 10, 11, 12, 13, 14, 15, 16,  X, 17, 18, 19, 20, 21,  X,
    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,  X,  X,  X,  X,  X,
     X, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,  X, 44, 45, 46,
    47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57,  X,  X,  X,  X,  X,
};
/* clang-format on */
#undef X

/*
 * Both directions work on 32-bit limbs holding five base-58 digits at a time (58^5 < 2^32):
 * a fifth of the passes of digit-by-digit conversion, each over a quarter of the limbs of
 * byte-by-byte conversion. Still quadratic, hence the cap.
 */
#define GROUP 656356768u /* 58^5 */
/* Limbs for VT_BASE58_MAX characters or bytes: 4096 bytes are 32768 bits, 4096 base-58
 * digits are below 24000 bits, and a limb holds at least 29 bits of either. */
#define LIMBS_MAX (32768 / 29 + 2)

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

    /* Little-endian limbs of the value in base 58^5. The input may be a secret seed, so
     * they are wiped. */
    uint32_t limbs[LIMBS_MAX];
    size_t len = 0;
    for (size_t i = zeros; i < n;) {
        size_t k = (n - i) % 4 != 0 && i == zeros ? (n - i) % 4 : 4;
        uint64_t carry = 0;
        for (size_t j = 0; j < k; j++)
            carry = carry << 8 | p[i + j];
        i += k;
        for (size_t j = 0; j < len; j++) {
            uint64_t x = (uint64_t)limbs[j] << (8 * k) | carry;
            limbs[j] = (uint32_t)(x % GROUP);
            carry = x / GROUP;
        }
        while (carry > 0) {
            VT_ASSERT(len < LIMBS_MAX);
            limbs[len++] = (uint32_t)(carry % GROUP);
            carry /= GROUP;
        }
    }

    size_t top = 0;
    for (uint32_t v = len > 0 ? limbs[len - 1] : 0; v > 0; v /= 58)
        top++;
    size_t total = zeros + (len > 0 ? 5 * (len - 1) + top : 0);
    enum vt_status st = VT_OK;
    if (total > VT_BASE58_MAX)
        st = vt_error_set(err, VT_ERR_TOO_LARGE,
                          "cannot encode %zu bytes as base58btc: %zu characters exceed the cap "
                          "of %d",
                          n, total, VT_BASE58_MAX);
    else
        st = vt_buf_grow(out, total, err);
    if (st == VT_OK) {
        uint8_t *w = out->data + out->len;
        memset(w, '1', zeros);
        uint8_t *end = w + total;
        for (size_t j = 0; j < len; j++) {
            uint32_t v = limbs[j];
            size_t digits = j + 1 < len ? 5 : top;
            for (size_t d = 0; d < digits; d++) {
                *--end = (uint8_t)alphabet[v % 58];
                v /= 58;
            }
        }
        out->len += total;
        out->data[out->len] = '\0';
    }
    sodium_memzero(limbs, len * sizeof(limbs[0]));
    return st;
}

enum vt_status vt_base58_decode_at(const char *s, size_t n, size_t at, struct vt_buf *out,
                                   struct vt_error *err)
{
    if (n > VT_BASE58_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE,
                            "base58btc text of %zu characters exceeds the cap of %d", n,
                            VT_BASE58_MAX);
    const uint8_t *u = (const uint8_t *)s;
    uint8_t any = 0;
    for (size_t i = 0; i < n; i++)
        any |= u[i] | digit_values[u[i] & 0x7f];
    if (any & 0x80) {
        size_t i = 0;
        while (((u[i] | digit_values[u[i] & 0x7f]) & 0x80) == 0)
            i++;
        if (u[i] >= 0x21 && u[i] < 0x7f)
            return vt_error_set(err, VT_ERR_INVALID,
                                "invalid base58btc character '%c' at offset %zu", u[i], at + i);
        return vt_error_set(err, VT_ERR_INVALID, "invalid base58btc character 0x%02x at offset %zu",
                            u[i], at + i);
    }
    size_t zeros = 0;
    while (zeros < n && s[zeros] == '1')
        zeros++;

    /* Little-endian limbs of the value in base 2^32, fed five digits at a time. No
     * canonical-form check is needed after this: base58btc has no non-canonical forms to
     * reject. The text may encode a secret seed, so the limbs are wiped. */
    uint32_t limbs[LIMBS_MAX];
    size_t len = 0;
    for (size_t i = zeros; i < n;) {
        size_t k = n - i < 5 ? n - i : 5;
        uint64_t carry = 0, mul = 1;
        for (size_t j = 0; j < k; j++) {
            carry = carry * 58 + digit_values[u[i + j] & 0x7f];
            mul *= 58;
        }
        i += k;
        for (size_t j = 0; j < len; j++) {
            uint64_t x = limbs[j] * mul + carry;
            limbs[j] = (uint32_t)x;
            carry = x >> 32;
        }
        if (carry > 0) {
            VT_ASSERT(len < LIMBS_MAX);
            limbs[len++] = (uint32_t)carry;
        }
    }

    size_t top = 0;
    for (uint32_t v = len > 0 ? limbs[len - 1] : 0; v > 0; v >>= 8)
        top++;
    size_t bytes = len > 0 ? 4 * (len - 1) + top : 0;
    enum vt_status st = vt_buf_grow(out, zeros + bytes, err);
    if (st == VT_OK) {
        uint8_t *w = out->data + out->len;
        memset(w, 0, zeros);
        uint8_t *end = w + zeros + bytes;
        for (size_t j = 0; j < len; j++) {
            uint32_t v = limbs[j];
            size_t nb = j + 1 < len ? 4 : top;
            for (size_t b = 0; b < nb; b++) {
                *--end = (uint8_t)v;
                v >>= 8;
            }
        }
        out->len += zeros + bytes;
        out->data[out->len] = '\0';
    }
    sodium_memzero(limbs, len * sizeof(limbs[0]));
    return st;
}

enum vt_status vt_base58_decode(const char *s, size_t n, struct vt_buf *out, struct vt_error *err)
{
    return vt_base58_decode_at(s, n, 0, out, err);
}
