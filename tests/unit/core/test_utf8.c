/* UTF-8 validation: RFC 3629 boundaries, overlong forms, surrogates, truncation. */
#include "core/core.h"
#include "test_support.h"

#include <string.h>

static size_t bad_at(const char *s, size_t n)
{
    return vt_utf8_invalid_at(s, n);
}

static void test_valid_boundaries(void **state)
{
    (void)state;
    const char *valid[] = {
        "",
        "plain ascii",
        "\x7f",
        "\xc2\x80",
        "\xdf\xbf",
        "\xe0\xa0\x80",
        "\xed\x9f\xbf",
        "\xee\x80\x80",
        "\xef\xbf\xbf",
        "\xf0\x90\x80\x80",
        "\xf4\x8f\xbf\xbf",
        "\xc3\xbc\xe6\xb0\xb4\xf0\x90\x85\x91",
    };
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
        assert_int_equal(bad_at(valid[i], strlen(valid[i])), strlen(valid[i]));
}

static void test_invalid_sequences_report_their_offset(void **state)
{
    (void)state;
    struct {
        const char *s;
        size_t offset;
    } cases[] = {
        {"ab\x80", 2},           /* lone continuation byte */
        {"\xc0\x80", 0},         /* overlong NUL */
        {"\xc1\xbf", 0},         /* overlong */
        {"x\xe0\x9f\xbf", 1},    /* overlong three-byte */
        {"\xed\xa0\x80", 0},     /* UTF-16 surrogate U+D800 */
        {"\xed\xbf\xbf", 0},     /* surrogate U+DFFF */
        {"\xf0\x8f\xbf\xbf", 0}, /* overlong four-byte */
        {"\xf4\x90\x80\x80", 0}, /* above U+10FFFF */
        {"\xf5\x80\x80\x80", 0}, /* invalid lead byte */
        {"\xff", 0},             /* invalid lead byte */
        {"ok\xe6\xb0", 2},       /* truncated */
        {"\xc3\x28", 0},         /* bad continuation */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(bad_at(cases[i].s, strlen(cases[i].s)), cases[i].offset);
}

static void test_decode_code_points(void **state)
{
    (void)state;
    uint32_t cp = 0;
    assert_int_equal(vt_utf8_decode((const uint8_t *)"\xf0\x9f\x98\x82", 4, &cp), 4);
    assert_int_equal(cp, 0x1f602);
    assert_int_equal(vt_utf8_decode((const uint8_t *)"\xef\xac\xb3", 3, &cp), 3);
    assert_int_equal(cp, 0xfb33);
    assert_int_equal(vt_utf8_decode((const uint8_t *)"\xf0\x9f\x98", 3, &cp), 0);
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_boundaries),
        cmocka_unit_test(test_invalid_sequences_report_their_offset),
        cmocka_unit_test(test_decode_code_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
