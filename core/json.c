/*
 * JSON parsing with I-JSON (RFC 7493) semantics and hard caps (specs/encoding.md §2),
 * plus typed member access.
 *
 * The parser is our own and builds jansson values directly. jansson's json_loadb reads its
 * input through a byte-at-a-time stream with a saved-text buffer, which made parsing the
 * largest cost of verifying a credential after the signature itself. This parser accepts
 * the same documents as json_loadb with JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL |
 * JSON_DECODE_ANY and reports the same first error at the same line, column and byte, in
 * jansson's words (specs/encoding.md §2.1 lists the one deliberate difference, NUL bytes).
 * tests/unit/core/test_json_jansson.c checks both claims against jansson itself.
 */
#define _GNU_SOURCE /* strtod_l */
#include "core/core.h"
#include "core/core_int.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jansson's own nesting limit (JSON_PARSER_MAX_DEPTH): a value more deeply nested than
 * this fails even when the caller's max_depth would allow it. */
#define JANSSON_DEPTH 2048
/* jansson's JSON_ERROR_TEXT_LENGTH: its messages are cut to one byte less. */
#define JANSSON_TEXT_MAX 160
/* jansson shows the token it stopped in only when the token is this short. */
#define CONTEXT_MAX 20

/* 1-based line and character column of byte offset pos, counted the way jansson does. */
static void locate(const char *text, size_t pos, size_t *line, size_t *column)
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

/*
 * The nesting cap is measured on the raw bytes, so that it applies before anything is
 * allocated and whatever else is wrong with the text. Brackets inside strings do not count;
 * a backslash in a string hides the next byte. The parser below enforces the same cap as it
 * goes and calls this only after a failure, to report the cap in preference to the syntax.
 */
static enum vt_status check_depth(const char *text, size_t n, size_t max_depth,
                                  struct vt_error *err)
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
        switch (c) {
        case '"':
            in_string = true;
            break;
        case '[':
        case '{':
            if (++depth > max_depth) {
                size_t line;
                size_t column;
                locate(text, i, &line, &column);
                return vt_error_set(err, VT_ERR_TOO_DEEP,
                                    "JSON nested deeper than %zu levels at line %zu, column %zu "
                                    "(byte %zu)",
                                    max_depth, line, column, i);
            }
            break;
        case ']':
        case '}':
            if (depth > 0)
                depth--;
            break;
        default:
            break;
        }
    }
    return VT_OK;
}

/* ---- numbers ------------------------------------------------------------------------ */

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    VT_ASSERT(c_locale != (locale_t)0);
}

/* Exact powers of ten: every one up to 10^22 is a double. */
static const double pow10_exact[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/*
 * Clinger's fast path: when the digits form an integer m ≤ 2^53 and the decimal exponent
 * e has |e| ≤ 22, both m and 10^|e| are exact doubles and one IEEE multiplication or
 * division rounds m·10^e correctly. Returns false when that does not apply. s is a
 * well-formed JSON number.
 */
static bool number_fast(const uint8_t *s, size_t n, double *out)
{
    size_t i = 0;
    bool neg = s[0] == '-';
    if (neg)
        i++;
    uint64_t m = 0;
    int digits = 0; /* significant digits taken into m */
    long e = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (m == 0 && s[i] == '0')
            continue;
        if (++digits > 19)
            return false;
        m = m * 10 + (uint64_t)(s[i] - '0');
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            e--;
            if (m == 0 && s[i] == '0')
                continue;
            if (++digits > 19)
                return false;
            m = m * 10 + (uint64_t)(s[i] - '0');
        }
    }
    if (i < n) { /* 'e' or 'E' */
        i++;
        bool eneg = s[i] == '-';
        if (s[i] == '+' || s[i] == '-')
            i++;
        long x = 0;
        for (; i < n; i++) {
            if (x > 100000)
                return false;
            x = x * 10 + (s[i] - '0');
        }
        e += eneg ? -x : x;
    }
    if (m > ((uint64_t)1 << 53))
        return false;
    double d = (double)m;
    if (m != 0) {
        if (e < -22 || e > 22)
            return false;
        d = e < 0 ? d / pow10_exact[-e] : d * pow10_exact[e];
    }
    *out = neg ? -d : d;
    return true;
}

/* Reads a well-formed JSON number as the nearest double (round to nearest, ties to even),
 * independent of the process locale. Returns false when it is out of range. */
static bool number_value(const uint8_t *s, size_t n, double *out)
{
    if (number_fast(s, n, out))
        return true;
    pthread_once(&c_locale_once, c_locale_init);
    char small[64];
    char *z = n < sizeof(small) ? small : vt_malloc(n + 1);
    memcpy(z, s, n);
    z[n] = '\0';
    double d = strtod_l(z, NULL, c_locale);
    if (z != small)
        free(z);
    *out = d;
    /* Underflow to zero or a subnormal is not an error, as in ECMAScript. */
    return !isinf(d);
}

/* ---- the parser --------------------------------------------------------------------- */

/* Token kinds: punctuation is its own character. */
enum {
    T_EOF = 0,
    T_INVALID = 256,
    T_STRING,
    T_REAL,
    T_TRUE,
    T_FALSE,
    T_NULL,
};

/* jansson's error classes: they decide the status and the leading words of a message. */
enum fault {
    F_SYNTAX,
    F_END_EXPECTED,
    F_PREMATURE,
    F_UTF8,
    F_OVERFLOW,
    F_DEPTH,
    F_DUPLICATE,
    F_NUL,
    F_MEMORY,
};

struct frame {
    json_t *v;
    bool object;
};

struct parser {
    const uint8_t *t;
    size_t n;
    /* Bytes consumed, exactly as jansson's stream counts them (it gives a character back
     * after looking at it to end a number or a word); errors are located here. */
    size_t pos;
    size_t start; /* first byte of the current token: jansson's saved text is [start, pos) */
    int tok;
    const char *str; /* T_STRING: the decoded value, in the text or in buf */
    size_t str_len;
    bool str_nul;   /* the value contains U+0000 (from \u0000) */
    bool str_owned; /* the value lives in buf */
    double real;
    struct vt_buf buf;   /* decoded strings with escapes */
    struct vt_buf spare; /* swapped with buf to keep a member name while its value is read */
    size_t max_depth;
    bool failed;
    bool too_deep; /* stopped at the nesting cap: check_depth words the error */
    struct vt_error error;
};

/*
 * Records the first failure the way jansson words it: its text, then " near '<saved>'"
 * when the saved text of the current token is 1..20 bytes, " near end of file" when it is
 * empty (which also makes a syntax error a truncation), and nothing more after a UTF-8
 * error with nothing saved. jansson prints the saved text with %s, so a NUL byte ends it.
 */
static void VT_PRINTF(3, 4) fault(struct parser *ps, enum fault f, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = true;
    char text[JANSSON_TEXT_MAX];
    char full[2 * JANSSON_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    const char *saved = (const char *)ps->t + ps->start;
    size_t saved_len = ps->pos - ps->start;
    size_t shown = strnlen(saved, saved_len);
    const char *result = text;
    if (shown > 0) {
        if (saved_len <= CONTEXT_MAX) {
            snprintf(full, sizeof(full), "%s near '%.*s'", text, (int)shown, saved);
            result = full;
        }
    } else {
        if (f == F_SYNTAX)
            f = F_PREMATURE;
        if (f != F_UTF8) {
            snprintf(full, sizeof(full), "%s near end of file", text);
            result = full;
        }
    }
    /* jansson's message buffer is this long; its messages are cut to it. */
    full[JANSSON_TEXT_MAX - 1] = '\0';

    enum vt_status st = VT_ERR_INVALID;
    const char *what = "invalid JSON";
    switch (f) {
    case F_DUPLICATE:
        st = VT_ERR_DUPLICATE;
        what = "duplicate member name in JSON";
        break;
    case F_OVERFLOW:
        what = "JSON number out of range";
        break;
    case F_DEPTH:
        st = VT_ERR_TOO_DEEP;
        what = "JSON nested too deep";
        break;
    case F_UTF8:
        what = "invalid UTF-8 in JSON";
        break;
    case F_NUL:
        what = "U+0000 not allowed in JSON strings";
        break;
    case F_PREMATURE:
        what = "truncated JSON";
        break;
    case F_MEMORY:
        st = VT_ERR_INTERNAL;
        what = "out of memory parsing JSON";
        break;
    case F_SYNTAX:
    case F_END_EXPECTED:
        /* Unpaired \uD800-\uDFFF escapes, and only those, are worded this way. */
        if (strncmp(result, "invalid Unicode", 15) == 0)
            what = "lone surrogate in JSON string";
        break;
    }

    /* jansson's line and column: newlines and the first bytes of characters consumed. */
    size_t line = 1;
    size_t column = 0;
    for (size_t i = 0; i < ps->pos; i++) {
        uint8_t c = ps->t[i];
        if (c == '\n') {
            line++;
            column = 0;
        } else if ((c & 0xc0) != 0x80) {
            column++;
        }
    }
    vt_error_set(&ps->error, st, "%s at line %zu, column %zu (byte %zu): %s", what, line, column,
                 ps->pos, result);
}

static void fault_memory(struct parser *ps)
{
    fault(ps, F_MEMORY, "out of memory");
}

/* The length of the valid UTF-8 sequence at t[i], or 0; i < n. */
static size_t utf8_at(const struct parser *ps, size_t i)
{
    uint32_t cp;
    return vt_utf8_decode(ps->t + i, ps->n - i, &cp);
}

/*
 * jansson reads one character past a number or a word to find its end, and its stream
 * decodes a whole UTF-8 character at a time: a malformed one there is an error that names
 * its first byte. Returns false (with the fault recorded) in that case.
 */
static bool peek_ok(struct parser *ps, size_t i)
{
    if (i >= ps->n || ps->t[i] < 0x80 || utf8_at(ps, i) != 0)
        return true;
    ps->pos = i;
    fault(ps, F_UTF8, "unable to decode byte 0x%x", ps->t[i]);
    return false;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * A byte is flagged when it is below 0x20 or equals '"' or '\\' (the usual zero-byte test on
 * the word xor'ed with the character), or when asked, when its high bit is set. Each test
 * flags its lowest hit exactly and may add false hits only above it, so the lowest flag of
 * all is the first special byte.
 */
size_t vt_json_scan(const uint8_t *p, size_t i, size_t n, bool high)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101u;
    const uint64_t top = 0x8080808080808080u;
    const uint64_t mask = high ? top : 0;
    while (i + 8 <= n) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        uint64_t q = x ^ (ones * '"');
        uint64_t b = x ^ (ones * '\\');
        uint64_t flags =
            ((x & mask) | ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & top;
        if (flags != 0)
            return i + (size_t)__builtin_ctzll(flags) / 8;
        i += 8;
    }
#endif
    for (; i < n; i++) {
        uint8_t c = p[i];
        if (c < 0x20 || c == '"' || c == '\\' || (high && c >= 0x80))
            return i;
    }
    return n;
}

static int lex_number(struct parser *ps)
{
    const uint8_t *t = ps->t;
    size_t n = ps->n;
    size_t i = ps->start;
    if (t[i] == '-')
        i++;
    if (!peek_ok(ps, i))
        return T_INVALID;
    if (i < n && t[i] == '0') {
        i++;
        if (!peek_ok(ps, i))
            return T_INVALID;
        if (i < n && is_digit(t[i])) {
            ps->pos = i;
            return T_INVALID;
        }
    } else if (i < n && is_digit(t[i])) {
        while (i < n && is_digit(t[i]))
            i++;
        if (!peek_ok(ps, i))
            return T_INVALID;
    } else {
        ps->pos = i;
        return T_INVALID;
    }
    if (i < n && t[i] == '.') {
        i++;
        if (!peek_ok(ps, i))
            return T_INVALID;
        if (i >= n || !is_digit(t[i])) {
            ps->pos = i;
            return T_INVALID;
        }
        while (i < n && is_digit(t[i]))
            i++;
        if (!peek_ok(ps, i))
            return T_INVALID;
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (!peek_ok(ps, i))
            return T_INVALID;
        if (i < n && (t[i] == '+' || t[i] == '-')) {
            i++;
            if (!peek_ok(ps, i))
                return T_INVALID;
        }
        if (i >= n || !is_digit(t[i])) {
            ps->pos = i;
            return T_INVALID;
        }
        while (i < n && is_digit(t[i]))
            i++;
        if (!peek_ok(ps, i))
            return T_INVALID;
    }
    ps->pos = i;
    if (!number_value(t + ps->start, i - ps->start, &ps->real)) {
        fault(ps, F_OVERFLOW, "real number overflow");
        return T_INVALID;
    }
    return T_REAL;
}

static int lex_word(struct parser *ps)
{
    size_t i = ps->start;
    while (i < ps->n && is_alpha(ps->t[i]))
        i++;
    if (!peek_ok(ps, i))
        return T_INVALID;
    ps->pos = i;
    const char *w = (const char *)ps->t + ps->start;
    size_t len = i - ps->start;
    if (len == 4 && memcmp(w, "true", 4) == 0)
        return T_TRUE;
    if (len == 5 && memcmp(w, "false", 5) == 0)
        return T_FALSE;
    if (len == 4 && memcmp(w, "null", 4) == 0)
        return T_NULL;
    return T_INVALID;
}

static int hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool put_utf8(struct parser *ps, uint32_t cp)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return vt_buf_append(&ps->buf, b, n, NULL) == VT_OK;
}

/*
 * The escape at t[j] (a backslash). jansson checks escapes while it scans and pairs
 * surrogates in a second pass over the finished string, so a malformed escape anywhere in
 * the string is reported before a surrogate problem; the first surrogate problem is kept
 * in bad for the end (bad[0] = 0: none). *hi holds a high surrogate whose pair, a \u
 * escape, comes right after it.
 * Returns the index after the escape, or 0 after recording a fault.
 */
static size_t lex_escape(struct parser *ps, size_t j, uint32_t *hi, uint32_t bad[3])
{
    const uint8_t *t = ps->t;
    size_t n = ps->n;
    j++;
    if (j >= n) {
        ps->pos = n;
        fault(ps, F_SYNTAX, "invalid escape");
        return 0;
    }
    uint8_t c = t[j];
    if (c != 'u') {
        static const char simple_in[] = "\"\\/bfnrt";
        static const char simple_out[] = "\"\\/\b\f\n\r\t";
        const char *hit = c != '\0' ? strchr(simple_in, c) : NULL;
        if (hit != NULL) {
            uint8_t out = (uint8_t)simple_out[hit - simple_in];
            if (bad[0] == 0 && vt_buf_append(&ps->buf, &out, 1, NULL) != VT_OK) {
                fault_memory(ps);
                return 0;
            }
            return j + 1;
        }
        if (c >= 0x80 && utf8_at(ps, j) == 0) {
            ps->pos = j;
            fault(ps, F_UTF8, "unable to decode byte 0x%x", c);
            return 0;
        }
        ps->pos = j + 1;
        fault(ps, F_SYNTAX, "invalid escape");
        return 0;
    }
    uint32_t v = 0;
    for (size_t k = 1; k <= 4; k++) {
        size_t q = j + k;
        if (q >= n) {
            ps->pos = n;
            fault(ps, F_SYNTAX, "invalid escape");
            return 0;
        }
        if (t[q] >= 0x80 && utf8_at(ps, q) == 0) {
            ps->pos = q;
            fault(ps, F_UTF8, "unable to decode byte 0x%x", t[q]);
            return 0;
        }
        int d = hex_digit(t[q]);
        if (d < 0) {
            ps->pos = q + 1;
            fault(ps, F_SYNTAX, "invalid escape");
            return 0;
        }
        v = v << 4 | (uint32_t)d;
    }
    j += 5;
    if (bad[0] != 0)
        return j;
    uint32_t cp = v;
    if (*hi != 0) {
        if (v < 0xdc00 || v > 0xdfff) {
            bad[0] = 2;
            bad[1] = *hi;
            bad[2] = v;
            *hi = 0;
            return j;
        }
        cp = 0x10000 + ((*hi - 0xd800) << 10) + (v - 0xdc00);
        *hi = 0;
    } else if (v >= 0xd800 && v <= 0xdbff) {
        /* jansson pairs it only with a \u escape written right after it. */
        if (j + 1 < n && t[j] == '\\' && t[j + 1] == 'u') {
            *hi = v;
            return j;
        }
        bad[0] = 1;
        bad[1] = v;
        return j;
    } else if (v >= 0xdc00 && v <= 0xdfff) {
        bad[0] = 1;
        bad[1] = v;
        return j;
    }
    if (cp == 0)
        ps->str_nul = true;
    if (!put_utf8(ps, cp)) {
        fault_memory(ps);
        return 0;
    }
    return j;
}

static int lex_string(struct parser *ps)
{
    const uint8_t *t = ps->t;
    size_t n = ps->n;
    size_t j = ps->start + 1;
    size_t run = j;        /* start of the bytes not yet copied to buf */
    bool escaped = false;  /* the value is being built in buf */
    uint32_t hi = 0;       /* pending high surrogate */
    uint32_t bad[3] = {0}; /* first surrogate problem */
    ps->str_nul = false;
    for (;;) {
        j = vt_json_scan(t, j, n, true);
        if (j >= n) {
            ps->pos = n;
            fault(ps, F_PREMATURE, "premature end of input");
            return T_INVALID;
        }
        uint8_t c = t[j];
        if (c == '"')
            break;
        if (c < 0x20) {
            ps->pos = j;
            if (c == '\n')
                fault(ps, F_SYNTAX, "unexpected newline");
            else
                fault(ps, F_SYNTAX, "control character 0x%x", c);
            return T_INVALID;
        }
        if (c >= 0x80) {
            size_t k = utf8_at(ps, j);
            if (k == 0) {
                ps->pos = j;
                fault(ps, F_UTF8, "unable to decode byte 0x%x", c);
                return T_INVALID;
            }
            j += k;
            continue;
        }
        /* A backslash: the value needs building. */
        if (!escaped) {
            escaped = true;
            vt_buf_reset(&ps->buf);
        }
        if (bad[0] == 0 && vt_buf_append(&ps->buf, t + run, j - run, NULL) != VT_OK) {
            fault_memory(ps);
            return T_INVALID;
        }
        j = lex_escape(ps, j, &hi, bad);
        if (j == 0)
            return T_INVALID;
        run = j;
    }
    ps->pos = j + 1;
    if (bad[0] == 1) {
        fault(ps, F_SYNTAX, "invalid Unicode '\\u%04X'", (unsigned)bad[1]);
        return T_INVALID;
    }
    if (bad[0] == 2) {
        fault(ps, F_SYNTAX, "invalid Unicode '\\u%04X\\u%04X'", (unsigned)bad[1], (unsigned)bad[2]);
        return T_INVALID;
    }
    if (!escaped) {
        ps->str = (const char *)t + ps->start + 1;
        ps->str_len = j - ps->start - 1;
        ps->str_owned = false;
        return T_STRING;
    }
    if (vt_buf_append(&ps->buf, t + run, j - run, NULL) != VT_OK) {
        fault_memory(ps);
        return T_INVALID;
    }
    ps->str = (const char *)ps->buf.data;
    ps->str_len = ps->buf.len;
    ps->str_owned = true;
    return T_STRING;
}

/* Reads the next token as jansson's lex_scan does; after a fault the result is T_INVALID
 * and ps->failed is set. */
static int lex(struct parser *ps)
{
    const uint8_t *t = ps->t;
    size_t n = ps->n;
    size_t i = ps->pos;
    while (i < n && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t'))
        i++;
    ps->start = i;
    ps->pos = i;
    if (i >= n)
        return ps->tok = T_EOF;
    uint8_t c = t[i];
    switch (c) {
    case '{':
    case '}':
    case '[':
    case ']':
    case ':':
    case ',':
        ps->pos = i + 1;
        return ps->tok = c;
    case '"':
        return ps->tok = lex_string(ps);
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        return ps->tok = lex_number(ps);
    default:
        break;
    }
    if (is_alpha(c))
        return ps->tok = lex_word(ps);
    if (c >= 0x80) {
        size_t k = utf8_at(ps, i);
        if (k == 0) {
            fault(ps, F_UTF8, "unable to decode byte 0x%x", c);
            return ps->tok = T_INVALID;
        }
        ps->pos = i + k;
        return ps->tok = T_INVALID;
    }
    /* Any other byte, NUL included, is a token of its own that nothing accepts. */
    ps->pos = i + 1;
    return ps->tok = T_INVALID;
}

/* Keeps the current string token (a member name) while the value after it is read. */
static void keep_name(struct parser *ps, const char **name, size_t *len)
{
    *name = ps->str;
    *len = ps->str_len;
    if (ps->str_owned) {
        struct vt_buf tmp = ps->buf;
        ps->buf = ps->spare;
        ps->spare = tmp;
    }
}

/* Creates the scalar or empty container for the current token, or records the fault that
 * jansson's parse_value reports for it. depth counts the containers around the value. */
static json_t *make_value(struct parser *ps, size_t depth)
{
    if (depth + 1 > JANSSON_DEPTH) {
        fault(ps, F_DEPTH, "maximum parsing depth reached");
        return NULL;
    }
    json_t *v = NULL;
    switch (ps->tok) {
    case T_STRING:
        if (ps->str_nul) {
            fault(ps, F_NUL, "\\u0000 is not allowed without JSON_ALLOW_NUL");
            return NULL;
        }
        v = json_stringn_nocheck(ps->str, ps->str_len);
        break;
    case T_REAL:
        v = json_real(ps->real);
        break;
    case T_TRUE:
        return json_true();
    case T_FALSE:
        return json_false();
    case T_NULL:
        return json_null();
    case '{':
    case '[':
        if (depth + 1 > ps->max_depth) {
            ps->too_deep = true;
            ps->failed = true;
            return NULL;
        }
        v = ps->tok == '{' ? json_object() : json_array();
        break;
    case T_INVALID:
        fault(ps, F_SYNTAX, "invalid token");
        return NULL;
    default:
        fault(ps, F_SYNTAX, "unexpected token");
        return NULL;
    }
    if (v == NULL)
        fault_memory(ps);
    return v;
}

/*
 * The grammar of jansson's parse_json/parse_value/parse_object/parse_array, with an
 * explicit stack instead of recursion. Containers are attached to their parent as soon as
 * they are created, so a failure anywhere frees everything through the root.
 */
static json_t *parse(struct parser *ps)
{
    struct frame small[32];
    struct frame *stack = small;
    size_t cap = sizeof(small) / sizeof(small[0]);
    size_t depth = 0;
    json_t *root = NULL;
    const char *name = NULL;
    size_t name_len = 0;

    lex(ps);
    if (ps->failed)
        goto fail;
    for (;;) {
        /* The current token starts a value inside `depth` containers. */
        json_t *v = make_value(ps, depth);
        if (v == NULL)
            goto fail;
        if (depth == 0) {
            root = v;
        } else if (stack[depth - 1].object) {
            if (json_object_setn_new_nocheck(stack[depth - 1].v, name, name_len, v) != 0) {
                fault_memory(ps);
                goto fail;
            }
        } else if (json_array_append_new(stack[depth - 1].v, v) != 0) {
            fault_memory(ps);
            goto fail;
        }

        bool opened = json_is_object(v) || json_is_array(v);
        if (opened) {
            if (depth == cap) {
                size_t bigger = cap * 2;
                struct frame *s = vt_malloc(bigger * sizeof(*s));
                memcpy(s, stack, depth * sizeof(*s));
                if (stack != small)
                    free(stack);
                stack = s;
                cap = bigger;
            }
            stack[depth].v = v;
            stack[depth].object = json_is_object(v);
            depth++;
        }

        /* Moves on to the next value, closing every container that ends first. */
        bool first = opened;
        for (;;) {
            if (depth == 0) {
                lex(ps);
                if (ps->failed)
                    goto fail;
                if (ps->tok != T_EOF) {
                    fault(ps, F_END_EXPECTED, "end of file expected");
                    goto fail;
                }
                if (stack != small)
                    free(stack);
                return root;
            }
            struct frame *top = &stack[depth - 1];
            lex(ps);
            if (ps->failed)
                goto fail;
            if (top->object) {
                if (first && ps->tok == '}') {
                    depth--;
                    first = false;
                    continue;
                }
                if (!first) {
                    if (ps->tok == '}') {
                        depth--;
                        continue;
                    }
                    if (ps->tok != ',') {
                        fault(ps, F_SYNTAX, "'}' expected");
                        goto fail;
                    }
                    lex(ps);
                    if (ps->failed)
                        goto fail;
                }
                if (ps->tok != T_STRING) {
                    fault(ps, F_SYNTAX, "string or '}' expected");
                    goto fail;
                }
                if (ps->str_nul) {
                    fault(ps, F_NUL, "NUL byte in object key not supported");
                    goto fail;
                }
                if (json_object_getn(top->v, ps->str, ps->str_len) != NULL) {
                    fault(ps, F_DUPLICATE, "duplicate object key");
                    goto fail;
                }
                keep_name(ps, &name, &name_len);
                lex(ps);
                if (ps->failed)
                    goto fail;
                if (ps->tok != ':') {
                    fault(ps, F_SYNTAX, "':' expected");
                    goto fail;
                }
                lex(ps);
                if (ps->failed)
                    goto fail;
                break;
            }
            if (first) {
                if (ps->tok == ']') {
                    depth--;
                    first = false;
                    continue;
                }
                if (ps->tok == T_EOF) {
                    fault(ps, F_SYNTAX, "']' expected");
                    goto fail;
                }
                break;
            }
            if (ps->tok == ']') {
                depth--;
                continue;
            }
            if (ps->tok != ',') {
                fault(ps, F_SYNTAX, "']' expected");
                goto fail;
            }
            lex(ps);
            if (ps->failed)
                goto fail;
            if (ps->tok == T_EOF) {
                fault(ps, F_SYNTAX, "']' expected");
                goto fail;
            }
            break;
        }
    }

fail:
    if (stack != small)
        free(stack);
    json_decref(root);
    return NULL;
}

enum vt_status vt_json_parse(const char *text, size_t n, size_t max_len, size_t max_depth,
                             json_t **out, struct vt_error *err)
{
    VT_ASSERT(text != NULL || n == 0);
    *out = NULL;
    if (n > max_len)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "JSON text too large: %zu bytes, cap %zu", n,
                            max_len);
    if (text == NULL)
        text = "";

    struct parser ps;
    memset(&ps, 0, sizeof(ps));
    ps.t = (const uint8_t *)text;
    ps.n = n;
    ps.max_depth = max_depth;
    vt_buf_init(&ps.buf, n > 0 ? n : 1);
    vt_buf_init(&ps.spare, n > 0 ? n : 1);
    json_t *v = parse(&ps);
    vt_buf_release(&ps.buf);
    vt_buf_release(&ps.spare);
    if (v != NULL) {
        *out = v;
        return VT_OK;
    }
    /* The nesting cap takes precedence over any other fault, wherever it lies. */
    enum vt_status st = check_depth(text, n, max_depth, err);
    if (st != VT_OK)
        return st;
    if (ps.too_deep)
        return vt_error_set(err, VT_ERR_TOO_DEEP, "JSON nested deeper than %zu levels", max_depth);
    if (err != NULL)
        *err = ps.error;
    return ps.error.status;
}

enum vt_status vt_json_read_file(const char *path, size_t max_len, size_t max_depth, json_t **out,
                                 struct vt_error *err)
{
    *out = NULL;
    struct vt_buf b;
    vt_buf_init(&b, max_len > 0 ? max_len : 1);
    enum vt_status st = vt_buf_read_file(&b, path, err);
    if (st == VT_OK) {
        st = vt_json_parse((const char *)b.data, b.len, max_len, max_depth, out, err);
        if (st != VT_OK)
            vt_error_prefix(err, st, "cannot parse '%s'", path);
    }
    vt_buf_release(&b);
    return st;
}

const char *vt_json_get_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

const json_t *vt_json_get_obj(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_object(v) ? v : NULL;
}

const json_t *vt_json_get_arr(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_array(v) ? v : NULL;
}
