/*
 * ECMAScript Number::toString for finite doubles (the JCS number form, RFC 8785 §3.2.2.3).
 *
 * The shortest digits come from the exact free-format algorithm of Steele & White as
 * refined by Burger & Dybvig: the value and the two half-gaps to its neighbours are held
 * as exact integers over a common denominator, and the output is the first prefix of the
 * value's digits (its last digit possibly rounded up) that lies inside the rounding
 * interval. Instead of one big-integer step per digit, a single exact division yields 17
 * digits at once and the per-digit tests run on 64-bit integers. Exact arithmetic is what
 * makes the asymmetric interval below a power of two come out right, where printf-based
 * shortcuts print one digit too many (specs/encoding.md §2).
 */
#include "core/core.h"

#include <math.h>
#include <string.h>

/*
 * After the common powers of two are cancelled, the largest integer involved is below
 * 2^830: the denominator (2^752 for the smallest subnormal, 10 * 5^309 for the largest
 * finite double) normalized to a whole number of limbs, times 10^17.
 */
#define BN_LIMBS 18

#define POW10_17 UINT64_C(100000000000000000)

__extension__ typedef unsigned __int128 bn_wide;

/* Unsigned big integer, little-endian 64-bit limbs; limbs at and above n are garbage. */
struct bn {
    uint64_t w[BN_LIMBS];
    size_t n; /* significant limbs; the top one is nonzero, or n == 0 for zero */
};

static void bn_trim(struct bn *a)
{
    while (a->n > 0 && a->w[a->n - 1] == 0)
        a->n--;
}

static void bn_set_u64(struct bn *a, uint64_t v)
{
    a->w[0] = v;
    a->n = v != 0;
}

static void bn_mul_small(struct bn *a, uint64_t m)
{
    uint64_t carry = 0;
    for (size_t i = 0; i < a->n; i++) {
        bn_wide p = (bn_wide)a->w[i] * m + carry;
        a->w[i] = (uint64_t)p;
        carry = (uint64_t)(p >> 64);
    }
    if (carry != 0) {
        VT_ASSERT(a->n < BN_LIMBS);
        a->w[a->n++] = carry;
    }
}

static void bn_shl(struct bn *a, unsigned bits)
{
    if (a->n == 0 || bits == 0)
        return;
    size_t limbs = bits / 64;
    unsigned rest = bits % 64;
    VT_ASSERT(a->n + limbs + 1 <= BN_LIMBS);
    a->w[a->n] = 0;
    if (rest == 0) {
        memmove(a->w + limbs, a->w, (a->n + 1) * sizeof(a->w[0]));
    } else {
        for (size_t i = a->n + 1; i-- > 1;)
            a->w[i + limbs] = a->w[i] << rest | a->w[i - 1] >> (64 - rest);
        a->w[limbs] = a->w[0] << rest;
    }
    memset(a->w, 0, limbs * sizeof(a->w[0]));
    a->n += limbs + 1;
    bn_trim(a);
}

/* 5^27 is the largest power of five that fits a limb. */
static void bn_mul_pow5(struct bn *a, unsigned k)
{
    uint64_t p = 1;
    for (unsigned i = 0; i < k; i++) {
        if (p > UINT64_MAX / 5) {
            bn_mul_small(a, p);
            p = 1;
        }
        p *= 5;
    }
    if (p > 1)
        bn_mul_small(a, p);
}

static int bn_cmp(const struct bn *a, const struct bn *b)
{
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (size_t i = a->n; i-- > 0;) {
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    }
    return 0;
}

/* Compares a + b with c without modifying anything. */
static int bn_add_cmp(const struct bn *a, const struct bn *b, const struct bn *c)
{
    const struct bn *big = a->n >= b->n ? a : b;
    const struct bn *small = a->n >= b->n ? b : a;
    if (big->n + 1 < c->n)
        return -1;
    if (big->n > c->n)
        return 1;
    struct bn sum;
    uint64_t carry = 0;
    for (size_t i = 0; i < big->n; i++) {
        bn_wide t = (bn_wide)big->w[i] + (i < small->n ? small->w[i] : 0) + carry;
        sum.w[i] = (uint64_t)t;
        carry = (uint64_t)(t >> 64);
    }
    sum.n = big->n;
    if (carry != 0) {
        VT_ASSERT(sum.n < BN_LIMBS);
        sum.w[sum.n++] = carry;
    }
    return bn_cmp(&sum, c);
}

/* a -= q * b; the caller guarantees the result is not negative. */
static void bn_sub_mul(struct bn *a, const struct bn *b, uint64_t q)
{
    uint64_t carry = 0;
    uint64_t borrow = 0;
    for (size_t i = 0; i < a->n; i++) {
        bn_wide p = (i < b->n ? (bn_wide)b->w[i] * q : 0) + carry;
        carry = (uint64_t)(p >> 64);
        uint64_t low = (uint64_t)p;
        uint64_t d = a->w[i] - low - borrow;
        borrow = a->w[i] < low || (a->w[i] == low && borrow != 0);
        a->w[i] = d;
    }
    VT_ASSERT(carry == 0 && borrow == 0);
    bn_trim(a);
}

/*
 * Returns floor(a / b) and leaves a % b in a, for a quotient below 2^63 and b's top limb
 * with its high bit set. The estimate from the top 128 bits of a and the top limb of b is
 * at most two below the truth (Knuth, TAOCP 4.3.1), so at most two corrections follow.
 */
static uint64_t bn_divmod(struct bn *a, const struct bn *b)
{
    size_t n = b->n;
    if (a->n < n)
        return 0;
    VT_ASSERT(a->n <= n + 1);
    bn_wide top = a->n > n ? (bn_wide)a->w[n] << 64 | a->w[n - 1] : a->w[n - 1];
    bn_wide q = top / ((bn_wide)b->w[n - 1] + 1);
    VT_ASSERT(q >> 63 == 0);
    if (q > 0)
        bn_sub_mul(a, b, (uint64_t)q);
    while (bn_cmp(a, b) >= 0) {
        bn_sub_mul(a, b, 1);
        q++;
    }
    return (uint64_t)q;
}

static int bit_length_u64(uint64_t v)
{
    int len = 0;
    while (v != 0) {
        len++;
        v >>= 1;
    }
    return len;
}

static int min_int(int a, int b)
{
    return a < b ? a : b;
}

/*
 * Writes the shortest digits (no leading or trailing zeros) of a finite positive d into
 * digits, and the decimal exponent n such that d ~ 0.d1d2...dk * 10^n. Returns k.
 */
static size_t shortest_digits(double d, char digits[20], int *n_out)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    uint64_t frac = bits & ((UINT64_C(1) << 52) - 1);
    int biased = (int)(bits >> 52 & 0x7ff);
    uint64_t f = biased == 0 ? frac : frac | UINT64_C(1) << 52;
    int e = biased == 0 ? -1074 : biased - 1075;
    /*
     * Round-half-even on input means a decimal exactly on the boundary reads back as d
     * only when d's significand is even. Above a power of two the gap is twice the gap
     * below it, so the low half-gap is half the high one.
     */
    bool inclusive = (f & 1) == 0;
    bool asymmetric = frac == 0 && biased > 1;

    /*
     * log10(2) * (exponent of the top bit), rounded up, is k or k - 1 where 10^k is the
     * least power of ten above the interval; the fix-up below adds the missing one.
     */
    int top_bit = e + bit_length_u64(f) - 1;
    double estimate = top_bit * 0.30102999566398119521 - 1e-10;
    int k = (int)estimate; /* truncation rounds negative estimates up already */
    if (estimate > 0 && (double)k < estimate)
        k++;

    /*
     * With a = 1 (or 2 when asymmetric) so that the half-gaps are integers:
     *   d = r / s, low half-gap = m- / s, high half-gap = m+ / s,
     *   r = f * 2^(e+a) * 10^-k, s = 2^a * 10^k, m- = 2^e * 10^-k, m+ = m- * 2^(a-1),
     * with negative powers of ten moved to the other side. The powers of two common to
     * all three are cancelled before anything is multiplied out.
     */
    int a = asymmetric ? 2 : 1;
    int up = k < 0 ? -k : 0;
    int down = k > 0 ? k : 0;
    int pow2_r = e + a + up;
    int pow2_s = a + down;
    int pow2_m = e + up;
    int common = min_int(pow2_s, pow2_m);

    struct bn r, s, mminus, mplus_own;
    bn_set_u64(&r, f);
    bn_mul_pow5(&r, (unsigned)up);
    bn_shl(&r, (unsigned)(pow2_r - common));
    bn_set_u64(&s, 1);
    bn_mul_pow5(&s, (unsigned)down);
    bn_shl(&s, (unsigned)(pow2_s - common));
    bn_set_u64(&mminus, 1);
    bn_mul_pow5(&mminus, (unsigned)up);
    bn_shl(&mminus, (unsigned)(pow2_m - common));

    const struct bn *mplus = &mminus;
    if (asymmetric) {
        mplus_own = mminus;
        bn_shl(&mplus_own, 1);
        mplus = &mplus_own;
    }
    int above = bn_add_cmp(&r, mplus, &s);
    if (inclusive ? above >= 0 : above > 0) {
        bn_mul_small(&s, 10);
        k++;
    }

    unsigned shift = 0;
    for (uint64_t top = s.w[s.n - 1]; (top >> 63) == 0; top <<= 1)
        shift++;
    bn_shl(&r, shift);
    bn_shl(&s, shift);
    bn_shl(&mminus, shift);
    if (asymmetric)
        bn_shl(&mplus_own, shift);

    /*
     * Seventeen significant digits identify every double, so the answer is a prefix of
     * the first 17 digits of r/s, its last digit possibly rounded up. One exact division
     * gives those digits, r * 10^17 = q * s + rem, and likewise the half-gaps:
     * m- * 10^17 = q_minus * s + rem_minus. Scaled by 10^(17-j), the tests of the
     * digit-by-digit algorithm at digit j become comparisons of (q mod 10^(17-j)) with
     * q_minus and q_plus, with the remainders breaking ties.
     */
    bn_mul_small(&r, POW10_17);
    uint64_t q = bn_divmod(&r, &s);
    bn_mul_small(&mminus, POW10_17);
    uint64_t q_minus = bn_divmod(&mminus, &s);
    uint64_t q_plus = q_minus;
    if (asymmetric) {
        bn_mul_small(&mplus_own, POW10_17);
        q_plus = bn_divmod(&mplus_own, &s);
    }
    const struct bn *rem = &r;
    const struct bn *rem_minus = &mminus;
    const struct bn *rem_plus = mplus;

    /* r_j <= m-_j  <=>  low < q_minus, or low == q_minus and rem <= rem_minus. */
    int low_tie = bn_cmp(rem, rem_minus);
    bool low_tie_ok = inclusive ? low_tie <= 0 : low_tie < 0;
    /* r_j + m+_j >= s  <=>  low + q_plus + carry >= 10^(17-j), where carry and what is
     * left over come from rem + rem_plus against s. */
    int sum = bn_add_cmp(rem, rem_plus, &s);
    uint64_t carry = sum >= 0;
    bool left_over = carry ? sum > 0 : rem->n > 0 || rem_plus->n > 0;

    size_t len = 0;
    uint64_t unit = POW10_17;
    for (int j = 1; j <= 17; j++) {
        unit /= 10;
        uint64_t prefix = q / unit;
        uint64_t low = q % unit;
        bool low_ok = low < q_minus || (low == q_minus && low_tie_ok);
        uint64_t high = low + q_plus + carry;
        bool high_ok = inclusive ? high >= unit : high > unit || (high == unit && left_over);
        if (!low_ok && !high_ok)
            continue;
        if (low_ok && high_ok) {
            /* Both candidates read back as d: take the nearer, the even one on a tie. */
            int half = unit > 1 ? (2 * low > unit) - (2 * low < unit) : 0;
            if (half == 0)
                half = unit > 1 ? rem->n > 0 : bn_add_cmp(rem, rem, &s);
            if (half > 0 || (half == 0 && prefix % 2 == 1))
                prefix++;
        } else if (high_ok) {
            prefix++;
        }
        len = (size_t)j;
        for (size_t i = len; i-- > 0;) {
            digits[i] = (char)('0' + prefix % 10);
            prefix /= 10;
        }
        VT_ASSERT(prefix == 0);
        break;
    }
    VT_ASSERT(len > 0);
    while (len > 1 && digits[len - 1] == '0')
        len--;
    *n_out = k;
    return len;
}

/* Integers up to 2^53 are exact and their own shortest form; this skips the big numbers. */
static size_t integer_digits(uint64_t v, char digits[20], int *n_out)
{
    char tmp[20];
    size_t len = 0;
    do {
        tmp[len++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    *n_out = (int)len;
    for (size_t i = 0; i < len; i++)
        digits[i] = tmp[len - 1 - i];
    while (len > 1 && digits[len - 1] == '0')
        len--;
    return len;
}

static size_t put_exponent(char *p, int x)
{
    size_t len = 0;
    p[len++] = 'e';
    p[len++] = x < 0 ? '-' : '+';
    unsigned u = (unsigned)(x < 0 ? -x : x);
    char tmp[4];
    size_t t = 0;
    do {
        tmp[t++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    while (t > 0)
        p[len++] = tmp[--t];
    return len;
}

size_t vt_json_number(double d, char out[VT_JSON_NUMBER_MAX])
{
    if (!isfinite(d)) {
        out[0] = '\0';
        return 0;
    }
    if (d == 0) {
        out[0] = '0';
        out[1] = '\0';
        return 1;
    }

    size_t len = 0;
    if (d < 0) {
        out[len++] = '-';
        d = -d;
    }
    char digits[20];
    int n;
    size_t k;
    if (d <= 9007199254740992.0 && d == (double)(uint64_t)d)
        k = integer_digits((uint64_t)d, digits, &n);
    else
        k = shortest_digits(d, digits, &n);

    /* The four cases of ECMA-262 Number::toString step 6 onward, in order. */
    if ((int)k <= n && n <= 21) {
        memcpy(out + len, digits, k);
        len += k;
        memset(out + len, '0', (size_t)n - k);
        len += (size_t)n - k;
    } else if (0 < n && n < (int)k) {
        /* ECMA-262 says 0 < n <= 21; after the case above that means n < k (k <= 17). */
        memcpy(out + len, digits, (size_t)n);
        len += (size_t)n;
        out[len++] = '.';
        memcpy(out + len, digits + n, k - (size_t)n);
        len += k - (size_t)n;
    } else if (-6 < n && n <= 0) {
        out[len++] = '0';
        out[len++] = '.';
        memset(out + len, '0', (size_t)-n);
        len += (size_t)-n;
        memcpy(out + len, digits, k);
        len += k;
    } else {
        out[len++] = digits[0];
        if (k > 1) {
            out[len++] = '.';
            memcpy(out + len, digits + 1, k - 1);
            len += k - 1;
        }
        len += put_exponent(out + len, n - 1);
    }
    VT_ASSERT(len < VT_JSON_NUMBER_MAX);
    out[len] = '\0';
    return len;
}
