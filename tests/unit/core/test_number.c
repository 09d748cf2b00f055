/* ECMAScript Number::toString (JCS numbers). */
#include "core/core.h"
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double from_bits(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

static void check_number(double d, const char *want)
{
    char out[VT_JSON_NUMBER_MAX];
    size_t len = vt_json_number(d, out);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
}

/* Significant digits of a formatted number: no sign, point, exponent or padding zeros. */
static size_t significant_digits(const char *s)
{
    char digits[VT_JSON_NUMBER_MAX];
    size_t n = 0;
    for (const char *p = s; *p != '\0' && *p != 'e'; p++) {
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    }
    size_t first = 0;
    while (first < n && digits[first] == '0')
        first++;
    while (n > first && digits[n - 1] == '0')
        n--;
    return n - first;
}

static bool reads_back(const char *s, double d)
{
    return strtod(s, NULL) == d;
}

/*
 * Checks that no decimal with k - 1 significant digits reads back as d: the only
 * candidates are the two that bracket d, the nearest (from printf, which is exact) and
 * its neighbour one unit away in the last digit. A shorter string that read back would
 * also be a (k - 1)-digit one with zeros appended.
 */
static void check_nothing_shorter(double d, size_t k)
{
    if (k <= 1)
        return;
    char buf[64];
    snprintf(buf, sizeof(buf), "%.*e", (int)k - 2, d);
    char *e = strchr(buf, 'e');
    assert_non_null(e);
    int exp10 = atoi(e + 1) - ((int)k - 2);
    long long mant = 0;
    for (char *p = buf; p < e; p++) {
        if (*p >= '0' && *p <= '9')
            mant = mant * 10 + (*p - '0');
    }
    if (buf[0] == '-')
        mant = -mant;
    for (long long delta = -1; delta <= 1; delta++) {
        snprintf(buf, sizeof(buf), "%llde%d", mant + delta, exp10);
        if (reads_back(buf, d))
            fail_msg("%.17g printed with %zu digits but '%s' also reads back", d, k, buf);
    }
}

/*
 * When the correctly rounded k-digit decimal reads back, it is the closest k-digit
 * candidate, so it must be ours (comparing the values, since the forms differ).
 */
static void check_closest(double d, const char *ours, size_t k)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.*e", (int)k - 1, d);
    if (reads_back(buf, d)) {
        char ours_e[64];
        char their_e[64];
        snprintf(ours_e, sizeof(ours_e), "%.*e", (int)k - 1, strtod(ours, NULL));
        snprintf(their_e, sizeof(their_e), "%.*e", (int)k - 1, strtod(buf, NULL));
        assert_string_equal(ours_e, their_e);
    }
}

static void check_shortest(double d)
{
    char out[VT_JSON_NUMBER_MAX];
    assert_true(vt_json_number(d, out) > 0);
    if (!reads_back(out, d))
        fail_msg("%.17g printed as '%s', which does not read back", d, out);
    size_t k = significant_digits(out);
    assert_true(k >= 1 && k <= 17);
    check_nothing_shorter(d, k);
    check_closest(d, out, k);
}

static void test_rfc8785_appendix_b(void **state)
{
    (void)state;
    static const struct {
        uint64_t bits;
        const char *want;
    } table[] = {
        {0x0000000000000000, "0"},
        {0x8000000000000000, "0"},
        {0x0000000000000001, "5e-324"},
        {0x8000000000000001, "-5e-324"},
        {0x7fefffffffffffff, "1.7976931348623157e+308"},
        {0xffefffffffffffff, "-1.7976931348623157e+308"},
        {0x4340000000000000, "9007199254740992"},
        {0xc340000000000000, "-9007199254740992"},
        {0x4430000000000000, "295147905179352830000"},
        {0x44b52d02c7e14af5, "9.999999999999997e+22"},
        {0x44b52d02c7e14af6, "1e+23"},
        {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
        {0x444b1ae4d6e2ef4e, "999999999999999700000"},
        {0x444b1ae4d6e2ef4f, "999999999999999900000"},
        {0x444b1ae4d6e2ef50, "1e+21"},
        {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
        {0x3eb0c6f7a0b5ed8d, "0.000001"},
        {0x41b3de4355555553, "333333333.3333332"},
        {0x41b3de4355555554, "333333333.33333325"},
        {0x41b3de4355555555, "333333333.3333333"},
        {0x41b3de4355555556, "333333333.3333334"},
        {0x41b3de4355555557, "333333333.33333343"},
        {0xbecbf647612f3696, "-0.0000033333333333333333"},
        {0x43143ff3c1cb0959, "1424953923781206.2"},
        /* Sample lines of cyberphone's es6testfile100m.txt. */
        {0x4340000000000001, "9007199254740994"},
        {0x4340000000000002, "9007199254740996"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        check_number(from_bits(table[i].bits), table[i].want);
}

static void test_es_format_cases(void **state)
{
    (void)state;
    check_number(1, "1");
    check_number(-1, "-1");
    check_number(10, "10");
    check_number(1.5, "1.5");
    check_number(-0.5, "-0.5");
    check_number(0.1, "0.1");
    check_number(56.0, "56");
    check_number(123456789012.5, "123456789012.5");
    check_number(1e20, "100000000000000000000");
    check_number(1e21, "1e+21");
    check_number(1.5e21, "1.5e+21");
    check_number(123e18, "123000000000000000000");
    check_number(0.000001, "0.000001");
    check_number(0.0000012345, "0.0000012345");
    check_number(1e-7, "1e-7");
    check_number(1.25e-7, "1.25e-7");
    check_number(1e30, "1e+30");
    check_number(1e-27, "1e-27");
    check_number(4.5, "4.5");
    check_number(0.002, "0.002");
    check_number(333333333.33333329, "333333333.3333333");
    check_number(2.2250738585072014e-308, "2.2250738585072014e-308");
    check_number(2.225073858507201e-308, "2.225073858507201e-308");
    check_number(9007199254740993.0, "9007199254740992");
    check_number(18014398509481984.0, "18014398509481984");
    check_number(-1e-323, "-1e-323");
}

static void test_powers_of_two(void **state)
{
    (void)state;
    size_t count = 0;
    for (int e = -1074; e <= 1023; e++) {
        check_shortest(ldexp(1.0, e));
        count++;
    }
    assert_int_equal(count, 2098);
    /* Each of these sits below a binade boundary, where printf loops add a digit. */
    check_number(ldexp(1.0, -1017), "7.120236347223045e-307");
    check_number(ldexp(1.0, -1007), "7.291122019556398e-304");
    check_number(ldexp(1.0, -957), "8.209073602596753e-289");
    check_number(ldexp(1.0, -1074), "5e-324");
    check_number(ldexp(1.0, 1023), "8.98846567431158e+307");
    check_number(ldexp(1.0, 69), "590295810358705700000");
    check_number(ldexp(1.0, 70), "1.1805916207174113e+21");
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static void test_random_doubles_are_shortest_and_closest(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15u;
    size_t checked = 0;
    while (checked < 100000) {
        double d = from_bits(xorshift(&seed));
        if (!isfinite(d))
            continue;
        check_shortest(d);
        checked++;
    }
    /* Values of ordinary magnitude, where JSON numbers usually live. */
    for (size_t i = 0; i < 50000; i++) {
        double d = (double)(xorshift(&seed) >> 11) / 9007199254740992.0;
        check_shortest(d * 1000);
        check_shortest(d * 1e-5);
        check_shortest((double)(int64_t)(xorshift(&seed) >> 8) / 1000);
    }
}

static void test_subnormals_and_extremes(void **state)
{
    (void)state;
    for (uint64_t bits = 1; bits < 5000; bits++)
        check_shortest(from_bits(bits));
    for (uint64_t bits = 0x7fefffffffffffff; bits > 0x7fefffffffffffff - 5000; bits--)
        check_shortest(from_bits(bits));
    for (uint64_t bits = 0x000fffffffffffff - 2000; bits < 0x0010000000000000 + 2000; bits++)
        check_shortest(from_bits(bits));
}

static void test_non_finite_writes_nothing(void **state)
{
    (void)state;
    char out[VT_JSON_NUMBER_MAX];
    memset(out, 'x', sizeof(out));
    assert_int_equal(vt_json_number(NAN, out), 0);
    assert_string_equal(out, "");
    assert_int_equal(vt_json_number(INFINITY, out), 0);
    assert_int_equal(vt_json_number(-INFINITY, out), 0);
    assert_int_equal(vt_json_number(from_bits(0x7fffffffffffffff), out), 0);
}

static void test_longest_output_fits(void **state)
{
    (void)state;
    check_number(-1.2345678901234568e-300, "-1.2345678901234568e-300");
    check_number(-0.0000012345678901234567, "-0.0000012345678901234567");
    check_number(-123456789012345680000.0, "-123456789012345680000");
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8785_appendix_b),
        cmocka_unit_test(test_es_format_cases),
        cmocka_unit_test(test_powers_of_two),
        cmocka_unit_test(test_random_doubles_are_shortest_and_closest),
        cmocka_unit_test(test_subnormals_and_extremes),
        cmocka_unit_test(test_non_finite_writes_nothing),
        cmocka_unit_test(test_longest_output_fits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
