/* Timestamps: formatting and the XML Schema dateTimeStamp grammar of VC 2.0. */
#include "core/core.h"
#include "test_support.h"

#include <string.h>

static int64_t parse_ok(const char *s)
{
    int64_t ms = 0;
    struct vt_error err;
    enum vt_status st = vt_time_parse(s, strlen(s), &ms, &err);
    if (st != VT_OK)
        fail_msg("'%s' rejected: %s", s, err.msg);
    return ms;
}

static void expect_rejected(const char *s, const char *fragment)
{
    int64_t ms;
    struct vt_error err;
    assert_int_equal(vt_time_parse(s, strlen(s), &ms, &err), VT_ERR_INVALID);
    if (strstr(err.msg, fragment) == NULL)
        fail_msg("'%s': message '%s' lacks '%s'", s, err.msg, fragment);
}

static void test_parse_valid(void **state)
{
    (void)state;
    assert_true(parse_ok("1970-01-01T00:00:00Z") == 0);
    assert_true(parse_ok("2023-02-24T23:36:38Z") == 1677281798000LL);
    assert_true(parse_ok("2023-02-24T23:36:38.5Z") == 1677281798500LL);
    assert_true(parse_ok("2023-02-24T23:36:38.123456Z") == 1677281798123LL);
    assert_true(parse_ok("2023-02-25T00:36:38+01:00") == 1677281798000LL);
    assert_true(parse_ok("2023-02-24T15:36:38-08:00") == 1677281798000LL);
    assert_true(parse_ok("2000-02-29T00:00:00Z") == 951782400000LL);
    assert_true(parse_ok("2023-02-24T24:00:00Z") == parse_ok("2023-02-25T00:00:00Z"));
    assert_true(parse_ok("1969-12-31T23:59:59Z") == -1000);
    assert_true(parse_ok("2010-01-01T00:00:00+14:00") < parse_ok("2010-01-01T00:00:00Z"));
    /* XML Schema years beyond four digits and before year 0000. */
    assert_true(parse_ok("10000-01-01T00:00:00Z") == 253402300800000LL);
    assert_true(parse_ok("-0001-12-31T23:59:59Z") == parse_ok("0000-01-01T00:00:00Z") - 1000);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    expect_rejected("2023-02-24T23:36:38", "offset 19"); /* no time zone */
    expect_rejected("2023-02-24 23:36:38Z", "'T'");      /* space separator */
    expect_rejected("2023-02-24t23:36:38Z", "'T'");      /* lower case */
    expect_rejected("2023-02-29T00:00:00Z", "day");      /* not a leap year */
    expect_rejected("1900-02-29T00:00:00Z", "day");      /* century rule */
    expect_rejected("2023-13-01T00:00:00Z", "month");
    expect_rejected("2023-00-01T00:00:00Z", "month");
    expect_rejected("2023-01-01T25:00:00Z", "hour");
    expect_rejected("2023-01-01T24:00:01Z", "hour 24");
    expect_rejected("2023-01-01T00:60:00Z", "minutes");
    expect_rejected("2023-01-01T00:00:60Z", "seconds");
    expect_rejected("2023-01-01T00:00:00.Z", "fraction");
    expect_rejected("2023-01-01T00:00:00+15:00", "offset");
    expect_rejected("2023-01-01T00:00:00+14:30", "offset");
    expect_rejected("2023-01-01T00:00:00+0100", "':'");
    expect_rejected("2023-01-01T00:00:00Zjunk", "end of timestamp");
    expect_rejected("23-01-01T00:00:00Z", "year");
    expect_rejected("01234-01-01T00:00:00Z", "leading zero");
    expect_rejected("1234567890-01-01T00:00:00Z", "nine digits");
    expect_rejected("999999999-01-01T00:00:00Z", "range");
    expect_rejected("", "year");
}

static void test_format_and_round_trip(void **state)
{
    (void)state;
    char out[VT_TIME_MAX];
    vt_time_format(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
    vt_time_format(1677281798000LL, out);
    assert_string_equal(out, "2023-02-24T23:36:38Z");
    vt_time_format(1677281798007LL, out);
    assert_string_equal(out, "2023-02-24T23:36:38.007Z");
    vt_time_format(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");

    /* Offsets can carry a time past year 9999 or before year 0000; it still round-trips. */
    int64_t edge = parse_ok("9999-12-31T23:59:59-12:00");
    vt_time_format(edge, out);
    assert_string_equal(out, "10000-01-01T11:59:59Z");
    assert_true(parse_ok(out) == edge);
    edge = parse_ok("0000-01-01T00:00:00+14:00");
    vt_time_format(edge, out);
    assert_string_equal(out, "-0001-12-31T10:00:00Z");
    assert_true(parse_ok(out) == edge);

    /* Every 7919 minutes across four centuries survives format -> parse. */
    for (int64_t ms = -2208988800000LL; ms < 10000000000000LL; ms += 7919LL * 60000 + 13) {
        vt_time_format(ms, out);
        assert_true(parse_ok(out) == ms);
    }
}

static void test_now_is_plausible(void **state)
{
    (void)state;
    int64_t now = vt_time_now_ms();
    assert_true(now > 1700000000000LL); /* after 2023-11 */
    assert_true(now < 4102444800000LL); /* before 2100 */
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_format_and_round_trip),
        cmocka_unit_test(test_now_is_plausible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
