/*
 * vt_json_parse against jansson's json_loadb, which it replaced: the same documents must
 * give the same values, and the same broken documents the same status and message (line,
 * column, byte and jansson's words). The reference below is the jansson-based
 * implementation vt_json_parse had before. Inputs: RFC 8259 / JSONTestSuite-style cases
 * written out here, random documents, and random mutations of them.
 *
 * VITAE_JSON_SEED and VITAE_JSON_ROUNDS (environment) replay or lengthen the random part.
 */
#define _GNU_SOURCE
#include "core/core.h"
#include "test_support.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the reference: depth pre-scan, then jansson ------------------------------------ */

static void ref_locate(const char *text, size_t pos, size_t *line, size_t *column)
{
    *line = 1;
    *column = 0;
    for (size_t i = 0; i <= pos; i++) {
        uint8_t c = (uint8_t)text[i];
        if (c == '\n') {
            (*line)++;
            *column = 0;
        } else if ((c & 0xc0) != 0x80) {
            (*column)++;
        }
    }
}

static enum vt_status ref_depth(const char *text, size_t n, size_t max_depth, struct vt_error *err)
{
    size_t depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) {
                size_t line;
                size_t column;
                ref_locate(text, i, &line, &column);
                return vt_error_set(err, VT_ERR_TOO_DEEP,
                                    "JSON nested deeper than %zu levels at line %zu, column %zu "
                                    "(byte %zu)",
                                    max_depth, line, column, i);
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return VT_OK;
}

static enum vt_status ref_error(const json_error_t *je, struct vt_error *err)
{
    enum vt_status st = VT_ERR_INVALID;
    const char *what = "invalid JSON";
    switch (json_error_code(je)) {
    case json_error_duplicate_key:
        st = VT_ERR_DUPLICATE;
        what = "duplicate member name in JSON";
        break;
    case json_error_numeric_overflow:
        what = "JSON number out of range";
        break;
    case json_error_stack_overflow:
        st = VT_ERR_TOO_DEEP;
        what = "JSON nested too deep";
        break;
    case json_error_invalid_utf8:
        what = "invalid UTF-8 in JSON";
        break;
    case json_error_null_character:
    case json_error_null_byte_in_key:
        what = "U+0000 not allowed in JSON strings";
        break;
    case json_error_premature_end_of_input:
        what = "truncated JSON";
        break;
    case json_error_out_of_memory:
        st = VT_ERR_INTERNAL;
        what = "out of memory parsing JSON";
        break;
    default:
        if (strncmp(je->text, "invalid Unicode", 15) == 0)
            what = "lone surrogate in JSON string";
        break;
    }
    return vt_error_set(err, st, "%s at line %d, column %d (byte %d): %s", what, je->line,
                        je->column, je->position, je->text);
}

static enum vt_status ref_parse(const char *text, size_t n, size_t max_len, size_t max_depth,
                                json_t **out, struct vt_error *err)
{
    *out = NULL;
    if (n > max_len)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "JSON text too large: %zu bytes, cap %zu", n,
                            max_len);
    if (text == NULL)
        text = "";
    enum vt_status st = ref_depth(text, n, max_depth, err);
    if (st != VT_OK)
        return st;
    json_error_t je;
    json_t *v = json_loadb(text, n,
                           JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL | JSON_DECODE_ANY, &je);
    if (v == NULL)
        return ref_error(&je, err);
    *out = v;
    return VT_OK;
}

/* ---- comparison --------------------------------------------------------------------- */

/* Strict equality: same types, member order, bytes of strings and bits of numbers. */
static bool same_tree(json_t *a, json_t *b)
{
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b))
            return false;
        void *ia = json_object_iter(a);
        void *ib = json_object_iter(b);
        while (ia != NULL && ib != NULL) {
            size_t la = json_object_iter_key_len(ia);
            if (la != json_object_iter_key_len(ib) ||
                memcmp(json_object_iter_key(ia), json_object_iter_key(ib), la) != 0 ||
                !same_tree(json_object_iter_value(ia), json_object_iter_value(ib)))
                return false;
            ia = json_object_iter_next(a, ia);
            ib = json_object_iter_next(b, ib);
        }
        return ia == NULL && ib == NULL;
    }
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_tree(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_REAL: {
        double x = json_real_value(a);
        double y = json_real_value(b);
        return memcmp(&x, &y, sizeof(x)) == 0;
    }
    case JSON_INTEGER:
        return json_integer_value(a) == json_integer_value(b);
    default:
        return true;
    }
}

static void show(const char *text, size_t n)
{
    fprintf(stderr, "input (%zu bytes): '", n);
    for (size_t i = 0; i < n && i < 400; i++) {
        uint8_t c = (uint8_t)text[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "%s'\n", n > 400 ? "..." : "");
}

static unsigned long compared, accepted, nul_inputs;

/*
 * One input through both parsers. jansson drops a NUL byte that follows a number or a
 * word (its stream loses a NUL it has to give back), so it accepts "1\0"; vt_json_parse
 * rejects every NUL outside a string. For inputs with a NUL byte only this is required:
 * what vt_json_parse accepts, jansson accepts the same, and what jansson rejects,
 * vt_json_parse rejects.
 */
static void check(const char *text, size_t n, size_t max_len, size_t max_depth)
{
    json_t *mine = NULL;
    json_t *ref = NULL;
    struct vt_error em;
    struct vt_error er;
    vt_error_clear(&em);
    vt_error_clear(&er);
    enum vt_status sm = vt_json_parse(text, n, max_len, max_depth, &mine, &em);
    enum vt_status sr = ref_parse(text, n, max_len, max_depth, &ref, &er);
    compared++;
    bool has_nul = n > 0 && memchr(text, 0, n) != NULL;
    bool ok;
    if (has_nul) {
        nul_inputs++;
        ok = (sm != VT_OK || (sr == VT_OK && same_tree(mine, ref))) && (sr == VT_OK || sm != VT_OK);
    } else {
        ok = sm == sr && strcmp(em.msg, er.msg) == 0 &&
             (sm != VT_OK || (mine != NULL && ref != NULL && same_tree(mine, ref)));
    }
    if (sm == VT_OK)
        accepted++;
    if (!ok) {
        show(text, n);
        fail_msg("max_len %zu, max_depth %zu:\n  mine:    %s %s\n  jansson: %s %s", max_len,
                 max_depth, vt_status_name(sm), em.msg, vt_status_name(sr), er.msg);
    }
    if (sm != VT_OK)
        assert_null(mine);
    json_decref(mine);
    json_decref(ref);
}

static void check_str(const char *text)
{
    check(text, strlen(text), (size_t)1 << 20, VT_JSON_MAX_DEPTH);
}

/* ---- written-out cases -------------------------------------------------------------- */

static const char *const cases[] = {
    /* RFC 8259 values and their spelling */
    "0",
    "-0",
    "1",
    "-1",
    "0.0",
    "-0.0",
    "1e0",
    "1E0",
    "1e+0",
    "1e-0",
    "1.5e+10",
    "1.5E-10",
    "123456789012345678901234567890",
    "0.1",
    "1.7976931348623157e308",
    "4.9e-324",
    "5e-324",
    "2.4703282292062328e-324",
    "2.4703282292062327e-324",
    "1e-400",
    "-1e-400",
    "1e308",
    "1e309",
    "-1e309",
    "1.7976931348623159e308",
    "9007199254740993",
    "9007199254740992",
    "0.30000000000000004",
    "123.456e-789",
    "1E400",
    "-123",
    "100",
    "1000000000000000000000",
    "0.000000000000000000000000000001",
    "12345678901234567890.123456789e-5",
    "2e22",
    "2e23",
    "9007199254740991e22",
    "9007199254740993e-22",
    "1e22",
    "1e-22",
    "4e-23",
    "1.23e45",
    /* numbers that are not */
    "01",
    "-01",
    "00",
    "1.",
    "-",
    "-.5",
    ".5",
    "+1",
    "1e",
    "1e+",
    "1e-",
    "1.e5",
    "0x10",
    "1_000",
    "NaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    "inf",
    "1 2",
    "- 1",
    "--1",
    "1.2.3",
    "1e5e5",
    "0e",
    "2.",
    "[1.]",
    "[1e]",
    "[-]",
    "[-a]",
    "[0a]",
    "[1a]",
    "[1.a]",
    "[1ea]",
    "[1e+a]",
    "tru",
    "truth",
    "nul",
    "nulls",
    "False",
    "TRUE",
    "True",
    "[true false]",
    "[truex]",
    "[t]",
    /* strings */
    "\"\"",
    "\"abc\"",
    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
    "\"\\u0041\\u00e9\\u20AC\\uFFFF\"",
    "\"\\ud83d\\ude02\"",
    "\"\\uD83D\\uDE02\"",
    "\"\\ud800\"",
    "\"\\udc00\"",
    "\"\\ud800x\"",
    "\"\\ud800\\u0041\"",
    "\"\\ude02\\ud83d\"",
    "\"\\ud800\\ud800\"",
    "\"\\ud800\\n\"",
    "\"\\udbff\\udfff\"",
    "\"\\ud800\\udc00\\ud800\"",
    "\"\\u0000\"",
    "\"a\\u0000b\"",
    "\"\\ud800\\u12\"",
    "\"\\ud800\\u12x4\"",
    "\"\\ud800 \\udc00\"",
    "\"\\uD800\\uDBFF\"",
    "\"\\x41\"",
    "\"\\a\"",
    "\"\\'\"",
    "\"\\U0041\"",
    "\"\\u00G0\"",
    "\"\\u004\"",
    "\"\\u\"",
    "\"\\",
    "\"\\u",
    "\"\\u0",
    "\"\\u00",
    "\"\\u004",
    "\"\\u0041",
    "\"abc",
    "\"",
    "\"\\\"",
    "\"tab\there\"",
    "\"line\nbreak\"",
    "\"cr\rx\"",
    "\"\x01\"",
    "\"\x1f\"",
    "\"\x7f\"",
    "\"\xc3\xa9\"",
    "\"\xe2\x82\xac\"",
    "\"\xf0\x9f\x98\x82\"",
    "\"\xef\xbb\xbf\"",
    "\"\xc3\"",
    "\"\xc3x\"",
    "\"\xc0\xaf\"",
    "\"\xc1\xbf\"",
    "\"\xe0\x80\xaf\"",
    "\"\xed\xa0\x80\"",
    "\"\xed\xbf\xbf\"",
    "\"\xf4\x90\x80\x80\"",
    "\"\xf5\x80\x80\x80\"",
    "\"\xff\"",
    "\"\xfe\"",
    "\"\x80\"",
    "\"\xbf\"",
    "\"\xe2\x82\"",
    "\"\xf0\x9f\x98\"",
    "\"\\\xc3\xa9\"",
    "\"\\\xff\"",
    "\"\\u\xc3\xa9\"",
    "\"\\u00\xff\"",
    "\"\\u00\xc3\xa9\"",
    "\"12345678901234567890\\x\"",
    "\"1234567890123456789\\x\"",
    "\"123456789012345678\\x\"",
    "\"123456789012345678901\\ud800\"",
    "\"\\ud800123456789012\"",
    "\"\\ud80012345678901\"",
    "'single'",
    "\"a\" \"b\"",
    "\"\\/\"",
    "\"\\u002F\"",
    "\"\xe2\x80\xa8\xe2\x80\xa9\"",
    /* structure */
    "[]",
    "{}",
    "[[]]",
    "[{}]",
    "{\"a\":[]}",
    "[1,2,3]",
    "[1, 2, 3]",
    "{\"a\":1,\"b\":2}",
    "[",
    "]",
    "{",
    "}",
    "[1",
    "[1,",
    "[1,]",
    "[,1]",
    "[1,,2]",
    "[1 2]",
    "[1:2]",
    "{\"a\"}",
    "{\"a\":}",
    "{\"a\" 1}",
    "{\"a\":1,}",
    "{,\"a\":1}",
    "{\"a\":1 \"b\":2}",
    "{1:2}",
    "{a:1}",
    "{'a':1}",
    "{\"a\":1,\"a\":2}",
    "{\"a\":1,\"\\u0061\":2}",
    "{\"a\":{\"b\":1,\"b\":2}}",
    "{\"\\u0000\":1}",
    "{\"a\\u0000\":1}",
    "{\"\\ud800\":1}",
    "{\"a\":1}x",
    "[1]]",
    "[1]}",
    "{\"a\":1}}",
    "{\"a\":1]",
    "[1}",
    "{\"a\" : 1 , \"b\" : 2 }",
    "[\"a\",]",
    "{\"a\":1,\"b\"}",
    "{\"a\":1,\"b\":}",
    "{\"a\",\"b\"}",
    "{\"a\":1:2}",
    "{\"a\":\"\\u0000\"}",
    "[\"\\u0000\"]",
    "[1 \"\\u0000\"]",
    "{\"a\":1 \"\\ud800\"}",
    "[1 \"\\ud800\"]",
    "[1 \"\xff\"]",
    "{\"\\u0000\" 1}",
    "{\"a\":1,\"a\" 1}",
    "{\"x\":1,\"y\":[true,false,null,{\"z\":\"\\u00e9\"}],\"w\":-0.5e-3}",
    /* whitespace and the edges of the text */
    "",
    " ",
    "\n",
    "\t\r\n 1 \t\r\n",
    " [ 1 , 2 ] ",
    "\n\n[\n1,\n2\n",
    "\n\n  [1, 2 3]",
    "\xef\xbb\xbf[]",
    "\xef\xbb\xbf",
    "\x0c[]",
    "[]\x0c",
    "\xc2\xa0[]",
    "[\xc2\xa0]",
    "[1]\n",
    "[1] x",
    "[1] \xff",
    "\xff",
    "\xc3",
    "\xc3\xa9",
    "[\xc3\xa9]",
    "[1\xc3\xa9]",
    "[1\xff]",
    "[-\xff]",
    "[0\xff]",
    "[1.\xff]",
    "[1e\xff]",
    "[1e+\xff]",
    "[1.5\xff]",
    "[tru\xff]",
    "[true\xff]",
    "[\xe2\x82\xac]",
    "[1,\xf0\x9f\x98\x82]",
    "{\xc3\xa9:1}",
    "{\"a\"\xc3\xa9}",
    "{\"a\":1\xc3\xa9}",
    "[\"\xc3\xa9\" \xc3\xa9]",
    "\xc3\xa9\n\xc3\xa9 x",
    "{\n  \"a\": 1,\n  \"b\": ]\n}",
    "{\n\"x\": 1,\n\"x\": 2}",
    "[\"\xc3\xa9\xc3\xa9\", 1 2]",
    "[\n\n\n  \"\xe2\x82\xac\xe2\x82\xac\", \xc3\xa9]",
    "[1,\n\"tab\there\"]",
    "[\"a\n\"]",
    "[1, 2,\n 3,\n\n 4 5]",
    "[\"\\u00e9\",\n\"\\ud800\"]",
    "x",
    "@",
    "#",
    "/* c */ 1",
    "// c\n1",
    "[1] // c",
    "[1]\x7f",
    "\x7f",
    "[\x01]",
    "\x01",
    "[1,\x02]",
};

static void test_written_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_str(cases[i]);
        /* Inside an array and after a newline the positions and contexts move. */
        size_t n = strlen(cases[i]);
        char *w = malloc(n + 16);
        assert_non_null(w);
        int k = snprintf(w, n + 16, "[\n %s]", cases[i]);
        check(w, (size_t)k, (size_t)1 << 20, VT_JSON_MAX_DEPTH);
        k = snprintf(w, n + 16, "{\"k\": %s}", cases[i]);
        check(w, (size_t)k, (size_t)1 << 20, VT_JSON_MAX_DEPTH);
        /* Every prefix: the text can end anywhere. */
        for (size_t cut = 0; cut < n; cut++)
            check(cases[i], cut, (size_t)1 << 20, VT_JSON_MAX_DEPTH);
        free(w);
    }
}

/* NUL bytes: rejected outside strings, control characters inside them. */
static void test_nul_bytes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t n;
    } nul[] = {
        {"1\0", 2},         {"[1\0]", 4},    {"0\0", 2},      {"true\0", 5},
        {"\0", 1},          {"[\0]", 3},     {"\"a\0b\"", 5}, {"[1,\0 2]", 7},
        {"{\"a\0\":1}", 8}, {"\"\\\0\"", 4}, {"1.\0", 3},
    };
    for (size_t i = 0; i < sizeof(nul) / sizeof(nul[0]); i++) {
        json_t *v = (json_t *)1;
        struct vt_error err;
        assert_int_not_equal(vt_json_parse(nul[i].text, nul[i].n, 100, 8, &v, &err), VT_OK);
        assert_null(v);
        check(nul[i].text, nul[i].n, 100, 8);
    }
    json_t *v;
    struct vt_error err;
    assert_int_equal(vt_json_parse("1\0", 2, 100, 8, &v, &err), VT_ERR_INVALID);
    assert_string_equal(err.msg,
                        "invalid JSON at line 1, column 2 (byte 2): end of file expected near end "
                        "of file");
    assert_int_equal(vt_json_parse("\"a\0b\"", 5, 100, 8, &v, &err), VT_ERR_INVALID);
    assert_string_equal(err.msg,
                        "invalid JSON at line 1, column 2 (byte 2): control character 0x0 near "
                        "'\"a'");
}

/* jansson's own nesting limit of 2048 values, under a larger max_depth. */
static void test_jansson_depth_limit(void **state)
{
    (void)state;
    for (size_t k = 2045; k <= 2050; k++) {
        for (int kind = 0; kind < 4; kind++) {
            char *s = malloc(8 * k + 16);
            assert_non_null(s);
            size_t n = 0;
            for (size_t i = 0; i < k; i++) {
                if (kind == 3 && i % 2 == 1) {
                    memcpy(s + n, "{\"k\":", 5);
                    n += 5;
                } else {
                    s[n++] = '[';
                }
            }
            if (kind == 1)
                s[n++] = '1';
            if (kind == 2)
                s[n++] = ',';
            for (size_t i = k; i > 0; i--)
                s[n++] = kind == 3 && (i - 1) % 2 == 1 ? '}' : ']';
            check(s, n, (size_t)1 << 20, 5000);
            check(s, n, (size_t)1 << 20, k);
            check(s, n, (size_t)1 << 20, k - 1);
            free(s);
        }
    }
}

static void test_caps(void **state)
{
    (void)state;
    check("[1,2,3]", 7, 7, 8);
    check("[1,2,3]", 7, 6, 8);
    check("[[[1]]]", 7, 100, 2);
    check("[[[1,]]]", 8, 100, 2);
    check("[1,x,[[[[]]]]]", 14, 100, 3);
    check("[\"[[[[\"]", 8, 100, 1);
    check("[\"\\\"[[[[\"]", 10, 100, 1);
    check("{\"a\":{\"b\":{\"c\":1}}}", 19, 100, 2);
    check("\"\\", 2, 100, 0);
    check("[", 1, 100, 0);
    check("1", 1, 100, 0);
    check(NULL, 0, 100, 4);
}

/* Numbers are read in the C locale whatever the process locale says. */
static void test_locale(void **state)
{
    (void)state;
    const char *names[] = {"de_DE.UTF-8", "de_DE", "fr_FR.UTF-8", "ru_RU.UTF-8"};
    const char *set = NULL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && set == NULL; i++)
        set = setlocale(LC_NUMERIC, names[i]);
    if (set == NULL) {
        fprintf(stderr, "test_locale: no locale with a decimal comma installed, checking C\n");
    }
    json_t *v;
    struct vt_error err;
    const char *text = "[1.5, 2.25e1, 0.1, 123456789012345678901.5]";
    assert_int_equal(vt_json_parse(text, strlen(text), 100, 4, &v, &err), VT_OK);
    assert_true(json_real_value(json_array_get(v, 0)) == 1.5);
    assert_true(json_real_value(json_array_get(v, 1)) == 22.5);
    assert_true(json_real_value(json_array_get(v, 2)) == 0.1);
    assert_true(json_real_value(json_array_get(v, 3)) == 123456789012345678901.5);
    json_decref(v);
    setlocale(LC_NUMERIC, "C");
}

/* ---- random documents --------------------------------------------------------------- */

struct gen {
    uint64_t s;
    char *buf;
    size_t len;
    size_t cap;
};

static uint64_t next(struct gen *g)
{
    g->s ^= g->s << 13;
    g->s ^= g->s >> 7;
    g->s ^= g->s << 17;
    return g->s;
}

static unsigned below(struct gen *g, unsigned n)
{
    return (unsigned)(next(g) % n);
}

static void put(struct gen *g, const char *s, size_t n)
{
    if (g->len + n + 1 > g->cap) {
        g->cap = (g->len + n + 1) * 2;
        g->buf = realloc(g->buf, g->cap);
        assert_non_null(g->buf);
    }
    memcpy(g->buf + g->len, s, n);
    g->len += n;
}

static void puts_(struct gen *g, const char *s)
{
    put(g, s, strlen(s));
}

static void putc_(struct gen *g, char c)
{
    put(g, &c, 1);
}

static void gen_ws(struct gen *g)
{
    static const char ws[] = " \t\n\r";
    while (below(g, 4) == 0)
        putc_(g, ws[below(g, 4)]);
}

static void put_cp(struct gen *g, uint32_t cp)
{
    char b[4];
    if (cp < 0x80) {
        b[0] = (char)cp;
        put(g, b, 1);
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3f));
        put(g, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        put(g, b, 3);
    } else {
        b[0] = (char)(0xf0 | cp >> 18);
        b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        put(g, b, 4);
    }
}

static void put_u(struct gen *g, unsigned v)
{
    char b[8];
    snprintf(b, sizeof(b), below(g, 2) ? "\\u%04x" : "\\u%04X", v);
    puts_(g, b);
}

static uint32_t random_cp(struct gen *g)
{
    switch (below(g, 4)) {
    case 0:
        return 0x80 + below(g, 0x780);
    case 1:
        return 0x800 + below(g, 0xd800 - 0x800);
    case 2:
        return 0xe000 + below(g, 0x2000);
    default:
        return 0x10000 + below(g, 0x100000);
    }
}

/* rare: how often something invalid goes in (0: never). */
static void gen_string_body(struct gen *g, unsigned rare)
{
    unsigned pieces = below(g, 3) == 0 ? below(g, 40) : below(g, 6);
    for (unsigned i = 0; i < pieces; i++) {
        unsigned k = below(g, 20);
        if (k < 8) {
            static const char plain[] = "abcdefghijklmnopqrstuvwxyz ABC0123456789-_:/.@[]{},";
            putc_(g, plain[below(g, sizeof(plain) - 1)]);
        } else if (k < 10) {
            static const char *const esc[] = {"\\\"", "\\\\", "\\/", "\\b",
                                              "\\f",  "\\n",  "\\r", "\\t"};
            puts_(g, esc[below(g, 8)]);
        } else if (k < 12) {
            uint32_t cp = random_cp(g);
            if (cp >= 0x10000) {
                cp -= 0x10000;
                put_u(g, 0xd800 + (cp >> 10));
                put_u(g, 0xdc00 + (cp & 0x3ff));
            } else {
                put_u(g, below(g, 2) ? cp : below(g, 0x80) + 1);
            }
        } else if (k < 15) {
            put_cp(g, random_cp(g));
        } else if (rare > 0 && below(g, rare) == 0) {
            switch (below(g, 9)) {
            case 0:
                put_u(g, 0xd800 + below(g, 0x800));
                break;
            case 1:
                puts_(g, "\\u0000");
                break;
            case 2:
                putc_(g, (char)below(g, 0x20));
                break;
            case 3:
                putc_(g, (char)(0x80 + below(g, 0x80)));
                break;
            case 4:
                puts_(g, "\\x");
                break;
            case 5:
                put_u(g, 0xd800 + below(g, 0x400));
                put_u(g, below(g, 0x10000));
                break;
            case 6:
                puts_(g, "\\u12");
                break;
            case 7:
                puts_(g, "\xed\xa0\x80");
                break;
            default:
                puts_(g, "\xf4\x90\x80\x80");
                break;
            }
        } else {
            putc_(g, (char)('a' + below(g, 26)));
        }
    }
}

static void gen_string(struct gen *g, unsigned rare)
{
    putc_(g, '"');
    gen_string_body(g, rare);
    putc_(g, '"');
}

static void gen_digits(struct gen *g, unsigned n, bool lead)
{
    for (unsigned i = 0; i < n; i++)
        putc_(g, (char)((lead && i == 0 ? '1' : '0') + below(g, lead && i == 0 ? 9 : 10)));
}

static void gen_number(struct gen *g, unsigned rare)
{
    if (rare > 0 && below(g, rare) == 0) {
        static const char *const bad[] = {"01",  "1.",  ".5",    "+1",     "1e",  "-",
                                          "1e+", "0x1", "1e999", "-1e400", "NaN", "--1"};
        puts_(g, bad[below(g, sizeof(bad) / sizeof(bad[0]))]);
        return;
    }
    if (below(g, 3) == 0)
        putc_(g, '-');
    unsigned shape = below(g, 8);
    if (shape == 0)
        putc_(g, '0');
    else
        gen_digits(g, 1 + (shape < 6 ? below(g, 6) : below(g, 30)), true);
    if (below(g, 2) == 0) {
        putc_(g, '.');
        gen_digits(g, 1 + (below(g, 4) ? below(g, 6) : below(g, 40)), false);
    }
    if (below(g, 3) == 0) {
        putc_(g, below(g, 2) ? 'e' : 'E');
        unsigned sign = below(g, 3);
        if (sign == 1)
            putc_(g, '+');
        else if (sign == 2)
            putc_(g, '-');
        char b[16];
        unsigned e = below(g, 4) ? below(g, 25) : below(g, 2) ? below(g, 330) : below(g, 500);
        snprintf(b, sizeof(b), below(g, 8) ? "%u" : "00%u", e);
        puts_(g, b);
    }
}

static void gen_value(struct gen *g, unsigned depth, unsigned rare)
{
    unsigned k = below(g, depth > 6 ? 6 : 10);
    gen_ws(g);
    if (k < 2) {
        gen_string(g, rare);
    } else if (k < 4) {
        gen_number(g, rare);
    } else if (k == 4) {
        static const char *const lit[] = {"true", "false", "null"};
        puts_(g, lit[below(g, 3)]);
    } else if (k == 5) {
        puts_(g, below(g, 2) ? "[]" : "{}");
    } else if (k < 8) {
        putc_(g, '[');
        unsigned n = below(g, 6);
        for (unsigned i = 0; i < n; i++) {
            if (i > 0)
                putc_(g, ',');
            gen_value(g, depth + 1, rare);
        }
        gen_ws(g);
        putc_(g, ']');
    } else {
        putc_(g, '{');
        unsigned n = below(g, 6);
        for (unsigned i = 0; i < n; i++) {
            if (i > 0)
                putc_(g, ',');
            gen_ws(g);
            /* Names from a small pool repeat now and then: duplicates. */
            static const char *const names[] = {"\"a\"",  "\"b\"",    "\"\\u0061\"",
                                                "\"id\"", "\"type\"", "\"\xc3\xa9\""};
            if (below(g, 3) == 0)
                puts_(g, names[below(g, 6)]);
            else
                gen_string(g, rare);
            gen_ws(g);
            putc_(g, ':');
            gen_value(g, depth + 1, rare);
        }
        gen_ws(g);
        putc_(g, '}');
    }
    gen_ws(g);
}

static void mutate(struct gen *g)
{
    static const char interesting[] = "\"\\{}[],:0-e.+ \nau\x01\x80\xc3\xff\xed";
    unsigned edits = 1 + below(g, 3);
    for (unsigned e = 0; e < edits && g->len > 0; e++) {
        size_t at = below(g, (unsigned)g->len);
        char c = interesting[below(g, sizeof(interesting) - 1)];
        switch (below(g, 5)) {
        case 0:
            g->len = at;
            break;
        case 1:
            memmove(g->buf + at, g->buf + at + 1, g->len - at - 1);
            g->len--;
            break;
        case 2:
            g->buf[at] = c;
            break;
        case 3:
            put(g, "", 1);
            memmove(g->buf + at + 1, g->buf + at, g->len - at - 1);
            g->buf[at] = c;
            break;
        default: {
            size_t from = below(g, (unsigned)g->len);
            size_t n = below(g, 12);
            if (from + n > g->len)
                n = g->len - from;
            char tmp[12];
            memcpy(tmp, g->buf + from, n);
            put(g, tmp, n);
            break;
        }
        }
    }
}

static void test_random(void **state)
{
    (void)state;
    const char *seed_env = getenv("VITAE_JSON_SEED");
    const char *rounds_env = getenv("VITAE_JSON_ROUNDS");
    uint64_t seed = seed_env != NULL ? strtoull(seed_env, NULL, 0) : 20261124;
    unsigned long rounds = rounds_env != NULL ? strtoul(rounds_env, NULL, 0) : 40000;
    struct gen g = {seed * 2 + 1, NULL, 0, 0};
    unsigned long before = compared;
    unsigned long ok_before = accepted;
    for (unsigned long r = 0; r < rounds; r++) {
        g.len = 0;
        unsigned mode = below(&g, 4);
        gen_value(&g, 0, mode == 0 ? 0 : mode == 1 ? 40 : 8);
        if (mode == 3)
            mutate(&g);
        size_t max_depth = below(&g, 10) == 0 ? 1 + below(&g, 4) : VT_JSON_MAX_DEPTH;
        size_t max_len = below(&g, 50) == 0 ? below(&g, (unsigned)g.len + 1) : (size_t)1 << 20;
        check(g.buf, g.len, max_len, max_depth);
    }
    fprintf(stderr, "random: seed %llu, %lu documents, %lu accepted, %lu with NUL bytes\n",
            (unsigned long long)seed, compared - before, accepted - ok_before, nul_inputs);
    free(g.buf);
}

/* Numbers alone, many shapes: the value must be bit for bit what strtod gives. */
static void test_random_numbers(void **state)
{
    (void)state;
    struct gen g = {0x9e3779b97f4a7c15ULL, NULL, 0, 0};
    for (int r = 0; r < 100000; r++) {
        g.len = 0;
        gen_number(&g, 0);
        check(g.buf, g.len, 4096, 4);
    }
    /* Around the fast path's edges: 2^53 and 10^22. */
    static const char *const edges[] = {
        "9007199254740992",
        "9007199254740993",
        "9007199254740994",
        "9007199254740995",
        "18014398509481985",
        "1e22",
        "1e23",
        "9007199254740993e22",
        "9007199254740992e22",
        "1.0000000000000000000001",
        "0.0000000000000000000001e22",
        "123e-22",
        "123e-23",
        "4503599627370497.5",
        "4503599627370496.5",
        "0.1e-22",
        "10000000000000000000e-19",
        "99999999999999999999e-20",
        "1.8446744073709551616e19",
        "18446744073709551615",
        "18446744073709551616",
    };
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        check_str(edges[i]);
        char neg[64];
        snprintf(neg, sizeof(neg), "-%s", edges[i]);
        check_str(neg);
    }
    free(g.buf);
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_written_cases),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_jansson_depth_limit),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_locale),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_random_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
