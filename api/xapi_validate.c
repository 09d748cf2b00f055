/*
 * xAPI statement validation: every statement-structure MUST of xAPI 1.0.3 Part Two and
 * xAPI 2.0 (IEEE 9274.1.1) that an LRS enforces. Rule names: specs/xapi.md §3.
 */
#include "api/xapi.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Statements nest at most one SubStatement, so paths stay short; the cap only guards the
 * message buffer. */
struct vctx {
    enum xapi_version v;
    struct xapi_problem *p;
    char path[XAPI_PATH_MAX];
    size_t len;
    bool failed;
};

static size_t path_push(struct vctx *c, const char *key)
{
    size_t old = c->len;
    int w = snprintf(c->path + c->len, sizeof(c->path) - c->len, "%s%s", c->len ? "." : "", key);
    if (w > 0)
        c->len += (size_t)w < sizeof(c->path) - c->len ? (size_t)w : sizeof(c->path) - c->len - 1;
    return old;
}

static size_t path_index(struct vctx *c, size_t i)
{
    size_t old = c->len;
    int w = snprintf(c->path + c->len, sizeof(c->path) - c->len, "[%zu]", i);
    if (w > 0)
        c->len += (size_t)w < sizeof(c->path) - c->len ? (size_t)w : sizeof(c->path) - c->len - 1;
    return old;
}

static void path_pop(struct vctx *c, size_t old)
{
    c->len = old;
    c->path[old] = '\0';
}

static bool fail(struct vctx *c, const char *rule, const char *fmt, ...) VT_PRINTF(3, 4);

static bool fail(struct vctx *c, const char *rule, const char *fmt, ...)
{
    if (c->failed)
        return false;
    c->failed = true;
    if (c->p == NULL)
        return false;
    xapi_strlcpy(c->p->rule, sizeof(c->p->rule), rule);
    xapi_strlcpy(c->p->path, sizeof(c->p->path), c->len ? c->path : "statement");
    char detail[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    char *m = c->p->msg;
    size_t cap = sizeof(c->p->msg);
    xapi_strlcpy(m, cap, "invalid statement: ");
    xapi_strlcat(m, cap, detail);
    xapi_strlcat(m, cap, " at '");
    xapi_strlcat(m, cap, c->p->path);
    xapi_strlcat(m, cap, "' (");
    xapi_strlcat(m, cap, rule);
    xapi_strlcat(m, cap, ")");
    return false;
}

void xapi_strlcpy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void xapi_strlcat(char *dst, size_t cap, const char *src)
{
    size_t used = strlen(dst);
    if (used + 1 < cap)
        xapi_strlcpy(dst + used, cap - used, src);
}

enum vt_status xapi_problem_error(const struct xapi_problem *p, struct vt_error *err)
{
    return vt_error_set(err, VT_ERR_INVALID, "%s", p->msg);
}

bool xapi_version_parse(const char *s, enum xapi_version *v)
{
    if (s == NULL)
        return false;
    enum xapi_version r;
    if (strncmp(s, "1.0", 3) == 0)
        r = XAPI_V1_0_3;
    else if (strncmp(s, "2.0", 3) == 0)
        r = XAPI_V2_0;
    else
        return false;
    const char *t = s + 3;
    if (*t == '.') {
        t++;
        size_t d = 0;
        while (t[d] >= '0' && t[d] <= '9')
            d++;
        if (d == 0 || d > 4 || (d > 1 && t[0] == '0'))
            return false;
        t += d;
    }
    if (*t != '\0')
        return false;
    *v = r;
    return true;
}

const char *xapi_version_string(enum xapi_version v)
{
    return v == XAPI_V2_0 ? "2.0.0" : "1.0.3";
}

/* ---------------------------------------------------------------------------------------
 * Formats of single values
 */

static bool is_alpha(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_hex(int ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

bool xapi_is_iri(const char *s)
{
    /* RFC 3987: scheme ":" ihier-part. Full IRI grammar checks are allowed to be best
     * effort (Data §2.2.s4.b6); what must be caught is a missing scheme and characters
     * that can never appear in an IRI. */
    if (s == NULL || !is_alpha((unsigned char)s[0]))
        return false;
    size_t i = 1;
    while (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) || s[i] == '+' ||
           s[i] == '-' || s[i] == '.')
        i++;
    if (s[i] != ':' || s[i + 1] == '\0')
        return false;
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if (*q <= 0x20 || *q == 0x7f || strchr("<>\"{}|\\^`", *q) != NULL)
            return false;
        if (*q == '%' && !(is_hex(q[1]) && is_hex(q[2])))
            return false;
    }
    return true;
}

bool xapi_is_mailto(const char *s)
{
    if (s == NULL || strncmp(s, "mailto:", 7) != 0 || !xapi_is_iri(s))
        return false;
    const char *addr = s + 7;
    const char *at = strchr(addr, '@');
    return at != NULL && at != addr && at[1] != '\0' && strchr(at + 1, '@') == NULL;
}

bool xapi_is_uuid(const char *s)
{
    if (s == NULL || strlen(s) != XAPI_UUID_LEN)
        return false;
    for (size_t i = 0; i < XAPI_UUID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex((unsigned char)s[i]))
            return false;
    }
    /* Data §2.4.1: "all versions of variant 2 in RFC 4122 are valid": the variant bits
     * are 10x (8, 9, a, b) and the version is one that variant defines (RFC 9562: 1-8). */
    char ver = s[14], var = (char)tolower((unsigned char)s[19]);
    return ver >= '1' && ver <= '8' && (var == '8' || var == '9' || var == 'a' || var == 'b');
}

static bool hex_len(const char *s, size_t n)
{
    if (s == NULL || strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_hex((unsigned char)s[i]))
            return false;
    return true;
}

bool xapi_is_sha1_hex(const char *s)
{
    return hex_len(s, 40);
}

bool xapi_is_sha2_hex(const char *s)
{
    /* SHA-224, SHA-256, SHA-384 and SHA-512 digests. */
    return hex_len(s, 56) || hex_len(s, 64) || hex_len(s, 96) || hex_len(s, 128);
}

static bool is_tchar(int ch)
{
    return is_alpha(ch) || is_digit(ch) || (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

bool xapi_is_media_type(const char *s)
{
    /* RFC 2045/7231: type "/" subtype *( OWS ";" OWS parameter ). Parameters are checked
     * only for being present after the subtype; their syntax varies too much in practice. */
    if (s == NULL)
        return false;
    size_t i = 0;
    while (is_tchar((unsigned char)s[i]))
        i++;
    if (i == 0 || s[i] != '/')
        return false;
    size_t j = ++i;
    while (is_tchar((unsigned char)s[i]))
        i++;
    if (i == j)
        return false;
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    return s[i] == '\0' || s[i] == ';';
}

/* RFC 5646 §2.1: the length sequence of subtags. Irregular and regular grandfathered tags
 * come first, since they do not follow the grammar. */
static const char *const grandfathered[] = {
    "en-GB-oed", "i-ami",     "i-bnn",     "i-default",  "i-enochian",  "i-hak",  "i-klingon",
    "i-lux",     "i-mingo",   "i-navajo",  "i-pwn",      "i-tao",       "i-tay",  "i-tsu",
    "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE", "art-lojban", "cel-gaulish", "no-bok", "no-nyn",
    "zh-guoyu",  "zh-hakka",  "zh-min",    "zh-min-nan", "zh-xiang",
};

#define LANG_SUBTAGS_MAX 32

struct subtag {
    const char *p;
    size_t n;
    bool alpha, digit;
};

static bool all_alnum(const struct subtag *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (!is_alpha((unsigned char)t->p[i]) && !is_digit((unsigned char)t->p[i]))
            return false;
    return true;
}

static bool privateuse_from(const struct subtag *t, size_t i, size_t n)
{
    if (i + 1 >= n)
        return false;
    for (i++; i < n; i++)
        if (t[i].n < 1 || t[i].n > 8 || !all_alnum(&t[i]))
            return false;
    return true;
}

bool xapi_is_language_tag(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 128)
        return false;
    for (size_t g = 0; g < sizeof(grandfathered) / sizeof(grandfathered[0]); g++)
        if (strcasecmp(s, grandfathered[g]) == 0)
            return true;
    struct subtag t[LANG_SUBTAGS_MAX];
    size_t n = 0;
    const char *p = s;
    for (;;) {
        const char *e = strchr(p, '-');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0 || n == LANG_SUBTAGS_MAX)
            return false;
        t[n] = (struct subtag){p, len, true, true};
        for (size_t i = 0; i < len; i++) {
            t[n].alpha &= is_alpha((unsigned char)p[i]);
            t[n].digit &= is_digit((unsigned char)p[i]);
        }
        if (!all_alnum(&t[n]))
            return false;
        n++;
        if (e == NULL)
            break;
        p = e + 1;
    }
    size_t i = 0;
    if (t[0].n == 1 && (t[0].p[0] == 'x' || t[0].p[0] == 'X'))
        return privateuse_from(t, 0, n);
    /* language: 2-3 ALPHA [-extlang] / 4 ALPHA / 5-8 ALPHA */
    if (!t[0].alpha || t[0].n < 2 || t[0].n > 8)
        return false;
    i = 1;
    if (t[0].n <= 3) {
        for (size_t k = 0; k < 3 && i < n && t[i].n == 3 && t[i].alpha; k++)
            i++;
    }
    if (i < n && t[i].n == 4 && t[i].alpha)
        i++; /* script */
    if (i < n && ((t[i].n == 2 && t[i].alpha) || (t[i].n == 3 && t[i].digit)))
        i++; /* region */
    while (i < n &&
           ((t[i].n >= 5 && t[i].n <= 8) || (t[i].n == 4 && is_digit((unsigned char)t[i].p[0]))))
        i++; /* variants */
    char seen[36] = {0};
    while (i < n && t[i].n == 1 && !(t[i].p[0] == 'x' || t[i].p[0] == 'X')) {
        int sc = tolower((unsigned char)t[i].p[0]);
        int slot = is_digit(sc) ? sc - '0' : 10 + sc - 'a';
        if (seen[slot])
            return false; /* RFC 5646 §2.2.6: each singleton once */
        seen[slot] = 1;
        size_t k = i + 1;
        while (k < n && t[k].n >= 2 && t[k].n <= 8)
            k++;
        if (k == i + 1)
            return false;
        i = k;
    }
    if (i < n && t[i].n == 1)
        return privateuse_from(t, i, n);
    return i == n;
}

bool xapi_is_duration(const char *s)
{
    /* ISO 8601:2004 §4.4.3.2: PnYnMnDTnHnMnS or PnW; a decimal fraction only on the last
     * component written. The alternative format (§4.4.3.3, PYYYY-MM-DD...) is refused. */
    if (s == NULL || s[0] != 'P' || s[1] == '\0' || strlen(s) > 64)
        return false;
    static const char date_units[] = "YMD", time_units[] = "HMS";
    const char *p = s + 1;
    bool in_time = false, any = false, fraction = false, week = false;
    size_t next = 0;
    while (*p) {
        if (*p == 'T') {
            if (in_time || p[1] == '\0' || week)
                return false;
            in_time = true;
            next = 0;
            p++;
            continue;
        }
        if (fraction)
            return false; /* something after the fractional component */
        size_t digits = 0;
        while (is_digit((unsigned char)p[digits]))
            digits++;
        if (digits == 0)
            return false;
        p += digits;
        if (*p == '.' || *p == ',') {
            size_t f = 1;
            while (is_digit((unsigned char)p[f]))
                f++;
            if (f == 1)
                return false;
            p += f;
            fraction = true;
        }
        if (*p == 'W' && !in_time) {
            if (any)
                return false;
            week = true;
            any = true;
            p++;
            if (*p != '\0')
                return false; /* "P4W1D" is not valid (Data §4.6 examples) */
            continue;
        }
        const char *units = in_time ? time_units : date_units;
        const char *u = *p ? strchr(units + next, *p) : NULL;
        if (u == NULL)
            return false;
        next = (size_t)(u - units) + 1;
        any = true;
        p++;
    }
    /* "PT" alone was refused above; "P" + "T..." with nothing after T likewise. */
    return any;
}

static bool two_digits(const char *s, int *out)
{
    if (!is_digit((unsigned char)s[0]) || !is_digit((unsigned char)s[1]))
        return false;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's algorithm: days since 1970-01-01 of a proleptic Gregorian date. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z in milliseconds since 1970. */
#define XAPI_TIME_MIN_MS (-62167219200000LL)
#define XAPI_TIME_MAX_MS 253402300799999LL

bool xapi_timestamp_parse(const char *s, int64_t *ms_out)
{
    if (s == NULL || strlen(s) < 19 || strlen(s) > 64)
        return false;
    for (int i = 0; i < 4; i++)
        if (!is_digit((unsigned char)s[i]))
            return false;
    int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int mon, day, hh, mm, ss;
    if (s[4] != '-' || !two_digits(s + 5, &mon) || s[7] != '-' || !two_digits(s + 8, &day) ||
        s[10] != 'T' || !two_digits(s + 11, &hh) || s[13] != ':' || !two_digits(s + 14, &mm) ||
        s[16] != ':' || !two_digits(s + 17, &ss))
        return false;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] + (mon == 2 && leap))
        return false;
    if (hh > 23 || mm > 59 || ss > 60)
        return false;
    const char *p = s + 19;
    int64_t frac_ms = 0;
    if (*p == '.') {
        p++;
        size_t d = 0;
        int scale = 100;
        while (is_digit((unsigned char)p[d])) {
            if (d < 3) {
                frac_ms += (p[d] - '0') * scale;
                scale /= 10;
            }
            d++;
        }
        if (d == 0)
            return false;
        p += d;
    }
    int64_t offset_min = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om = 0;
        bool neg = *p == '-';
        if (!two_digits(p + 1, &oh))
            return false;
        p += 3;
        if (*p == ':') {
            if (!two_digits(p + 1, &om))
                return false;
            p += 3;
        } else if (is_digit((unsigned char)*p)) {
            if (!two_digits(p, &om))
                return false;
            p += 2;
        }
        if (oh > 23 || om > 59)
            return false;
        /* RFC 3339 §4.3: "-00:00" states that the offset is unknown, which is not a time
         * zone; the conformance suite expects a refusal. */
        if (neg && oh == 0 && om == 0)
            return false;
        offset_min = (neg ? -1 : 1) * (oh * 60 + om);
    }
    if (*p != '\0')
        return false;
    int64_t days = days_from_civil(year, (unsigned)mon, (unsigned)day);
    int64_t secs = days * 86400 + hh * 3600 + mm * 60 + (ss == 60 ? 59 : ss) - offset_min * 60;
    int64_t ms = secs * 1000 + frac_ms;
    /* An offset can move a local time across 0000 or 9999; such an instant has no
     * four-digit UTC form to store or return, so it is refused. */
    if (ms < XAPI_TIME_MIN_MS || ms > XAPI_TIME_MAX_MS)
        return false;
    *ms_out = ms;
    return true;
}

void xapi_timestamp_format(int64_t ms, char out[XAPI_TIME_MAX])
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int msec = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t rem = secs - days * 86400;
    /* civil_from_days (Hinnant) */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    char tmp[96];
    snprintf(tmp, sizeof(tmp), "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
             (int)(rem / 3600), (int)(rem % 3600 / 60), (int)(rem % 60), msec);
    xapi_strlcpy(out, XAPI_TIME_MAX, tmp);
}

/* ---------------------------------------------------------------------------------------
 * Objects: allowed keys, nulls, key case
 */

/* Checks the keys of obj against the allowed list: a null value, a key that differs from
 * an allowed one only in case, and an unknown key are each refused with their own rule. */
static bool check_keys(struct vctx *c, const json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        bool known = false, other_case = false;
        for (size_t i = 0; allowed[i] != NULL; i++) {
            if (strcmp(key, allowed[i]) == 0)
                known = true;
            else if (strcasecmp(key, allowed[i]) == 0)
                other_case = true;
        }
        size_t old = path_push(c, key);
        if (!known)
            return other_case ? fail(c, "key.case", "key '%.40s' has the wrong case", key)
                              : fail(c, "key.unknown", "property '%.40s' is not allowed", key);
        if (json_is_null(val))
            return fail(c, "value.null", "null is allowed only inside extensions");
        path_pop(c, old);
    }
    return true;
}

static bool want_object(struct vctx *c, const json_t *v, const char *what)
{
    if (!json_is_object(v))
        return fail(c, "type.object", "%s must be a JSON object", what);
    return true;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* A member that must be a string when present; *out is NULL when absent. */
static bool member_str(struct vctx *c, const json_t *obj, const char *key, bool required,
                       const char **out)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    size_t old = path_push(c, key);
    if (v == NULL) {
        if (required)
            return fail(c, "property.required", "'%s' is required", key);
    } else if (!json_is_string(v)) {
        return fail(c, "type.string", "'%s' must be a string, not %s", key, type_name(v));
    } else {
        *out = json_string_value(v);
    }
    path_pop(c, old);
    return true;
}

static bool member_iri(struct vctx *c, const json_t *obj, const char *key, bool required,
                       const char *rule)
{
    const char *s;
    if (!member_str(c, obj, key, required, &s))
        return false;
    if (s != NULL && !xapi_is_iri(s)) {
        size_t old = path_push(c, key);
        fail(c, rule, "'%.60s' is not an absolute IRI with a scheme", s);
        path_pop(c, old);
        return false;
    }
    return true;
}

static bool lang_map(struct vctx *c, const json_t *obj, const char *key)
{
    const json_t *m = json_object_get(obj, key);
    if (m == NULL)
        return true;
    size_t old = path_push(c, key);
    if (!want_object(c, m, "a language map"))
        return false;
    const char *tag;
    json_t *val;
    json_object_foreach((json_t *)m, tag, val)
    {
        size_t o2 = path_push(c, tag);
        if (!xapi_is_language_tag(tag))
            return fail(c, "langmap.tag", "'%.40s' is not an RFC 5646 language tag", tag);
        if (json_is_null(val))
            return fail(c, "value.null", "null is allowed only inside extensions");
        if (!json_is_string(val))
            return fail(c, "langmap.value", "a language map value must be a string");
        path_pop(c, o2);
    }
    path_pop(c, old);
    return true;
}

static bool extensions(struct vctx *c, const json_t *obj)
{
    const json_t *m = json_object_get(obj, "extensions");
    if (m == NULL)
        return true;
    size_t old = path_push(c, "extensions");
    if (!want_object(c, m, "extensions"))
        return false;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)m, key, val)
    {
        (void)val; /* Data §4.1.s3.b2: values are never a reason to refuse */
        if (!xapi_is_iri(key)) {
            path_push(c, key);
            return fail(c, "extensions.key-iri", "an extension key must be an IRI");
        }
    }
    path_pop(c, old);
    return true;
}

/* Checks an objectType member against the allowed values; a value that matches one of
 * them only case-insensitively is refused as an enumeration in the wrong case. */
static bool object_type(struct vctx *c, const json_t *obj, const char *const *allowed,
                        bool required, const char **out)
{
    const char *s;
    if (!member_str(c, obj, "objectType", required, &s))
        return false;
    *out = s;
    if (s == NULL)
        return true;
    size_t old = path_push(c, "objectType");
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(s, allowed[i]) == 0) {
            path_pop(c, old);
            return true;
        }
    for (size_t i = 0; allowed[i]; i++)
        if (strcasecmp(s, allowed[i]) == 0)
            return fail(c, "enum.case", "objectType '%.30s' must be written '%s'", s, allowed[i]);
    return fail(c, "objecttype.value", "objectType '%.30s' is not allowed here", s);
}

/* ---------------------------------------------------------------------------------------
 * Agents and Groups
 */

static bool account(struct vctx *c, const json_t *acc)
{
    static const char *const keys[] = {"homePage", "name", NULL};
    size_t old = path_push(c, "account");
    if (!want_object(c, acc, "account") || !check_keys(c, acc, keys))
        return false;
    const char *name;
    if (!member_iri(c, acc, "homePage", true, "account.homepage-iri") ||
        !member_str(c, acc, "name", true, &name))
        return false;
    path_pop(c, old);
    return true;
}

/* Counts and checks the inverse functional identifiers of an Agent or Group. */
static bool ifis(struct vctx *c, const json_t *a, int *count)
{
    *count = 0;
    const char *s;
    if (!member_str(c, a, "mbox", false, &s))
        return false;
    if (s != NULL) {
        (*count)++;
        if (!xapi_is_mailto(s)) {
            path_push(c, "mbox");
            return fail(c, "agent.mbox-mailto", "mbox must be a mailto: IRI");
        }
    }
    if (!member_str(c, a, "mbox_sha1sum", false, &s))
        return false;
    if (s != NULL) {
        (*count)++;
        if (!xapi_is_sha1_hex(s)) {
            path_push(c, "mbox_sha1sum");
            return fail(c, "agent.sha1sum-hex", "mbox_sha1sum must be 40 hex digits");
        }
    }
    if (!member_iri(c, a, "openid", false, "agent.openid-uri"))
        return false;
    if (json_object_get(a, "openid") != NULL)
        (*count)++;
    const json_t *acc = json_object_get(a, "account");
    if (acc != NULL) {
        (*count)++;
        if (!account(c, acc))
            return false;
    }
    return true;
}

static bool agent_only(struct vctx *c, const json_t *a, bool type_required)
{
    static const char *const keys[] = {"objectType", "name",    "mbox", "mbox_sha1sum",
                                       "openid",     "account", NULL};
    static const char *const types[] = {"Agent", NULL};
    const char *ot, *name;
    if (!want_object(c, a, "an Agent") || !check_keys(c, a, keys) ||
        !object_type(c, a, types, type_required, &ot) || !member_str(c, a, "name", false, &name))
        return false;
    int n;
    if (!ifis(c, a, &n))
        return false;
    if (n != 1)
        return fail(c, "agent.ifi-count",
                    "an Agent needs exactly one of mbox, mbox_sha1sum, openid, account (has %d)",
                    n);
    return true;
}

static bool group(struct vctx *c, const json_t *g, int *ifi_count)
{
    static const char *const keys[] = {"objectType",   "name",   "member",  "mbox",
                                       "mbox_sha1sum", "openid", "account", NULL};
    const char *name;
    if (!check_keys(c, g, keys) || !member_str(c, g, "name", false, &name) ||
        !ifis(c, g, ifi_count))
        return false;
    if (*ifi_count > 1)
        return fail(c, "group.ifi-count", "an identified Group needs exactly one identifier");
    const json_t *m = json_object_get(g, "member");
    if (m == NULL) {
        if (*ifi_count == 0)
            return fail(c, "group.anonymous-member", "an anonymous Group must list its members");
        return true;
    }
    size_t old = path_push(c, "member");
    if (!json_is_array(m))
        return fail(c, "type.array", "member must be an array of Agents");
    if (*ifi_count == 0 && json_array_size(m) == 0)
        return fail(c, "group.anonymous-member", "an anonymous Group must list its members");
    for (size_t i = 0; i < json_array_size(m); i++) {
        const json_t *a = json_array_get(m, i);
        size_t o2 = path_index(c, i);
        if (json_is_object(a) && json_is_string(json_object_get(a, "objectType")) &&
            strcmp(json_string_value(json_object_get(a, "objectType")), "Group") == 0)
            return fail(c, "group.member-group", "a Group must not contain Groups");
        if (!agent_only(c, a, false))
            return false;
        path_pop(c, o2);
    }
    path_pop(c, old);
    return true;
}

/* An Agent or Group (actor, instructor, authority, an object, a query parameter). */
static bool actor(struct vctx *c, const json_t *a, bool type_required, int *members_out)
{
    if (!want_object(c, a, "an Agent or Group"))
        return false;
    static const char *const types[] = {"Agent", "Group", NULL};
    const char *ot;
    if (!object_type(c, a, types, type_required, &ot))
        return false;
    if (ot != NULL && strcmp(ot, "Group") == 0) {
        int n;
        if (!group(c, a, &n))
            return false;
        if (members_out)
            *members_out = 1 + (int)json_array_size(json_object_get(a, "member"));
        return true;
    }
    if (members_out)
        *members_out = 0;
    return agent_only(c, a, type_required);
}

enum vt_status xapi_agent_validate(const json_t *agent, enum xapi_version v, struct xapi_problem *p)
{
    struct vctx c = {.v = v, .p = p};
    snprintf(c.path, sizeof(c.path), "agent");
    c.len = strlen(c.path);
    return actor(&c, agent, false, NULL) ? VT_OK : VT_ERR_INVALID;
}

/* ---------------------------------------------------------------------------------------
 * Verb, Activity, StatementRef
 */

static bool verb(struct vctx *c, const json_t *vb)
{
    static const char *const keys[] = {"id", "display", NULL};
    size_t old = path_push(c, "verb");
    if (!want_object(c, vb, "verb") || !check_keys(c, vb, keys) ||
        !member_iri(c, vb, "id", true, "verb.id-iri") || !lang_map(c, vb, "display"))
        return false;
    path_pop(c, old);
    return true;
}

static const char *const interaction_types[] = {
    "true-false", "choice", "fill-in", "long-fill-in", "matching", "performance",
    "sequencing", "likert", "numeric", "other",        NULL,
};

/* Which component lists each interaction type supports (Data §2.4.4.1.s15). */
static bool component_list_allowed(const char *itype, const char *list)
{
    if (strcmp(list, "choices") == 0)
        return strcmp(itype, "choice") == 0 || strcmp(itype, "sequencing") == 0;
    if (strcmp(list, "scale") == 0)
        return strcmp(itype, "likert") == 0;
    if (strcmp(list, "source") == 0 || strcmp(list, "target") == 0)
        return strcmp(itype, "matching") == 0;
    return strcmp(itype, "performance") == 0; /* steps */
}

static bool components(struct vctx *c, const json_t *def, const char *list, const char *itype)
{
    const json_t *arr = json_object_get(def, list);
    if (arr == NULL)
        return true;
    size_t old = path_push(c, list);
    if (itype == NULL)
        return fail(c, "activity.interaction-without-type",
                    "interaction components need an interactionType");
    if (!component_list_allowed(itype, list))
        return fail(c, "activity.components-type",
                    "'%s' is not a component list of interactionType '%s'", list, itype);
    if (!json_is_array(arr))
        return fail(c, "type.array", "'%s' must be an array", list);
    static const char *const keys[] = {"id", "description", NULL};
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *comp = json_array_get(arr, i);
        size_t o2 = path_index(c, i);
        const char *id;
        if (!want_object(c, comp, "an interaction component") || !check_keys(c, comp, keys) ||
            !member_str(c, comp, "id", true, &id) || !lang_map(c, comp, "description"))
            return false;
        for (size_t k = 0; k < i; k++)
            if (strcmp(id, json_string_value(json_object_get(json_array_get(arr, k), "id"))) == 0)
                return fail(c, "activity.component-id-distinct",
                            "interaction component ids must be distinct");
        path_pop(c, o2);
    }
    path_pop(c, old);
    return true;
}

static bool definition(struct vctx *c, const json_t *def)
{
    static const char *const keys[] = {
        "name",
        "description",
        "type",
        "moreInfo",
        "extensions",
        "interactionType",
        "correctResponsesPattern",
        "choices",
        "scale",
        "source",
        "target",
        "steps",
        NULL,
    };
    size_t old = path_push(c, "definition");
    if (!want_object(c, def, "definition") || !check_keys(c, def, keys) ||
        !lang_map(c, def, "name") || !lang_map(c, def, "description") ||
        !member_iri(c, def, "type", false, "activity.type-iri") ||
        !member_iri(c, def, "moreInfo", false, "activity.moreinfo-iri") || !extensions(c, def))
        return false;
    const char *itype;
    if (!member_str(c, def, "interactionType", false, &itype))
        return false;
    if (itype != NULL) {
        size_t o2 = path_push(c, "interactionType");
        bool ok = false;
        for (size_t i = 0; interaction_types[i]; i++)
            ok |= strcmp(itype, interaction_types[i]) == 0;
        if (!ok) {
            for (size_t i = 0; interaction_types[i]; i++)
                if (strcasecmp(itype, interaction_types[i]) == 0)
                    return fail(c, "enum.case", "interactionType '%.30s' must be written '%s'",
                                itype, interaction_types[i]);
            return fail(c, "activity.interaction-type", "'%.30s' is not an interactionType", itype);
        }
        path_pop(c, o2);
    }
    const json_t *crp = json_object_get(def, "correctResponsesPattern");
    if (crp != NULL) {
        size_t o2 = path_push(c, "correctResponsesPattern");
        if (itype == NULL)
            return fail(c, "activity.interaction-without-type",
                        "correctResponsesPattern needs an interactionType");
        if (!json_is_array(crp))
            return fail(c, "type.array", "correctResponsesPattern must be an array of strings");
        for (size_t i = 0; i < json_array_size(crp); i++)
            if (!json_is_string(json_array_get(crp, i))) {
                path_index(c, i);
                return fail(c, "type.string", "a response pattern must be a string");
            }
        path_pop(c, o2);
    }
    static const char *const lists[] = {"choices", "scale", "source", "target", "steps"};
    for (size_t i = 0; i < 5; i++)
        if (!components(c, def, lists[i], itype))
            return false;
    path_pop(c, old);
    return true;
}

static bool activity(struct vctx *c, const json_t *a)
{
    static const char *const keys[] = {"objectType", "id", "definition", NULL};
    static const char *const types[] = {"Activity", NULL};
    const char *ot;
    if (!want_object(c, a, "an Activity") || !check_keys(c, a, keys) ||
        !object_type(c, a, types, false, &ot) || !member_iri(c, a, "id", true, "activity.id-iri"))
        return false;
    const json_t *def = json_object_get(a, "definition");
    return def == NULL || definition(c, def);
}

static bool uuid_member(struct vctx *c, const json_t *obj, const char *key, bool required,
                        const char *rule)
{
    const char *s;
    if (!member_str(c, obj, key, required, &s))
        return false;
    if (s != NULL && !xapi_is_uuid(s)) {
        path_push(c, key);
        return fail(c, rule, "'%.40s' is not a UUID in standard form (RFC 4122 variant)", s);
    }
    return true;
}

static bool statement_ref(struct vctx *c, const json_t *r)
{
    static const char *const keys[] = {"objectType", "id", NULL};
    static const char *const types[] = {"StatementRef", NULL};
    const char *ot;
    if (!want_object(c, r, "a StatementRef") || !check_keys(c, r, keys) ||
        !object_type(c, r, types, true, &ot) || !uuid_member(c, r, "id", true, "uuid.form"))
        return false;
    return true;
}

/* ---------------------------------------------------------------------------------------
 * Result, Context, Attachments
 */

static bool number_member(struct vctx *c, const json_t *obj, const char *key, double *out,
                          bool *present)
{
    const json_t *v = json_object_get(obj, key);
    *present = v != NULL;
    if (v == NULL)
        return true;
    if (!json_is_number(v)) {
        path_push(c, key);
        return fail(c, "type.number", "'%s' must be a number, not %s", key, type_name(v));
    }
    *out = json_number_value(v);
    return true;
}

static bool bool_member(struct vctx *c, const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (v != NULL && !json_is_boolean(v)) {
        path_push(c, key);
        return fail(c, "type.boolean", "'%s' must be a boolean, not %s", key, type_name(v));
    }
    return true;
}

static bool score(struct vctx *c, const json_t *s)
{
    static const char *const keys[] = {"scaled", "raw", "min", "max", NULL};
    size_t old = path_push(c, "score");
    if (!want_object(c, s, "score") || !check_keys(c, s, keys))
        return false;
    double scaled = 0, raw = 0, min = 0, max = 0;
    bool has_scaled, has_raw, has_min, has_max;
    if (!number_member(c, s, "scaled", &scaled, &has_scaled) ||
        !number_member(c, s, "raw", &raw, &has_raw) ||
        !number_member(c, s, "min", &min, &has_min) || !number_member(c, s, "max", &max, &has_max))
        return false;
    if (has_scaled && !(scaled >= -1.0 && scaled <= 1.0))
        return fail(c, "score.scaled-range", "scaled %g is outside [-1, 1]", scaled);
    if (has_min && has_max && !(min < max))
        return fail(c, "score.min-max", "min %g must be less than max %g", min, max);
    if (has_raw && has_min && raw < min)
        return fail(c, "score.raw-range", "raw %g is below min %g", raw, min);
    if (has_raw && has_max && raw > max)
        return fail(c, "score.raw-range", "raw %g is above max %g", raw, max);
    path_pop(c, old);
    return true;
}

static bool result(struct vctx *c, const json_t *r)
{
    static const char *const keys[] = {"score",    "success",    "completion", "response",
                                       "duration", "extensions", NULL};
    size_t old = path_push(c, "result");
    if (!want_object(c, r, "result") || !check_keys(c, r, keys))
        return false;
    const json_t *s = json_object_get(r, "score");
    const char *resp, *dur;
    if ((s != NULL && !score(c, s)) || !bool_member(c, r, "success") ||
        !bool_member(c, r, "completion") || !member_str(c, r, "response", false, &resp) ||
        !member_str(c, r, "duration", false, &dur) || !extensions(c, r))
        return false;
    if (dur != NULL && !xapi_is_duration(dur)) {
        path_push(c, "duration");
        return fail(c, "result.duration-iso8601", "'%.40s' is not an ISO 8601 duration", dur);
    }
    path_pop(c, old);
    return true;
}

static bool context_activities(struct vctx *c, const json_t *ca)
{
    static const char *const keys[] = {"parent", "grouping", "category", "other", NULL};
    size_t old = path_push(c, "contextActivities");
    if (!want_object(c, ca, "contextActivities") || !check_keys(c, ca, keys))
        return false;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)ca, key, val)
    {
        size_t o2 = path_push(c, key);
        if (json_is_array(val)) {
            for (size_t i = 0; i < json_array_size(val); i++) {
                size_t o3 = path_index(c, i);
                if (!activity(c, json_array_get(val, i)))
                    return false;
                path_pop(c, o3);
            }
        } else if (!json_is_object(val)) {
            return fail(c, "context.activities-form",
                        "a contextActivities value is an Activity or an array of them");
        } else if (!activity(c, val)) {
            return false;
        }
        path_pop(c, o2);
    }
    path_pop(c, old);
    return true;
}

static bool relevant_types(struct vctx *c, const json_t *o)
{
    const json_t *rt = json_object_get(o, "relevantTypes");
    if (rt == NULL)
        return true;
    size_t old = path_push(c, "relevantTypes");
    if (!json_is_array(rt) || json_array_size(rt) == 0)
        return fail(c, "context.relevant-types", "relevantTypes must be a non-empty array");
    for (size_t i = 0; i < json_array_size(rt); i++) {
        const json_t *t = json_array_get(rt, i);
        if (!json_is_string(t) || !xapi_is_iri(json_string_value(t))) {
            path_index(c, i);
            return fail(c, "context.relevant-types", "a relevant type must be an IRI");
        }
    }
    path_pop(c, old);
    return true;
}

/* xAPI 2.0 contextAgents / contextGroups (IEEE 9274.1.1 §2.4.6). */
static bool context_agents(struct vctx *c, const json_t *ctx, bool groups)
{
    const char *list = groups ? "contextGroups" : "contextAgents";
    const json_t *arr = json_object_get(ctx, list);
    if (arr == NULL)
        return true;
    size_t old = path_push(c, list);
    if (!json_is_array(arr))
        return fail(c, "type.array", "%s must be an array", list);
    const char *const keys[] = {"objectType", groups ? "group" : "agent", "relevantTypes", NULL};
    const char *const types[] = {groups ? "contextGroup" : "contextAgent", NULL};
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *o = json_array_get(arr, i);
        size_t o2 = path_index(c, i);
        const char *ot;
        if (!want_object(c, o, list) || !check_keys(c, o, keys) ||
            !object_type(c, o, types, true, &ot) || !relevant_types(c, o))
            return false;
        const json_t *who = json_object_get(o, keys[1]);
        size_t o3 = path_push(c, keys[1]);
        if (who == NULL)
            return fail(c, "property.required", "'%s' is required", keys[1]);
        if (groups) {
            const char *gt = json_is_object(who) ? vt_json_get_str(who, "objectType") : NULL;
            if (gt == NULL || strcmp(gt, "Group") != 0)
                return fail(c, "context.group", "a context group must be a Group");
        }
        if (!actor(c, who, groups, NULL))
            return false;
        path_pop(c, o3);
        path_pop(c, o2);
    }
    path_pop(c, old);
    return true;
}

static bool context(struct vctx *c, const json_t *ctx, bool object_is_activity)
{
    static const char *const keys10[] = {
        "registration", "instructor", "team",      "contextActivities", "revision",
        "platform",     "language",   "statement", "extensions",        NULL};
    static const char *const keys20[] = {"registration",      "instructor",    "team",
                                         "contextActivities", "revision",      "platform",
                                         "language",          "statement",     "extensions",
                                         "contextAgents",     "contextGroups", NULL};
    size_t old = path_push(c, "context");
    if (!want_object(c, ctx, "context") ||
        !check_keys(c, ctx, c->v == XAPI_V2_0 ? keys20 : keys10) ||
        !uuid_member(c, ctx, "registration", false, "uuid.form"))
        return false;
    const json_t *ins = json_object_get(ctx, "instructor");
    if (ins != NULL) {
        size_t o2 = path_push(c, "instructor");
        if (!actor(c, ins, false, NULL))
            return false;
        path_pop(c, o2);
    }
    const json_t *team = json_object_get(ctx, "team");
    if (team != NULL) {
        size_t o2 = path_push(c, "team");
        const char *tt = json_is_object(team) ? vt_json_get_str(team, "objectType") : NULL;
        if (tt == NULL || strcmp(tt, "Group") != 0) {
            if (tt != NULL && strcasecmp(tt, "Group") == 0)
                return fail(c, "enum.case", "objectType must be written 'Group'");
            return fail(c, "context.team-group", "team must be a Group with objectType Group");
        }
        if (!actor(c, team, true, NULL))
            return false;
        path_pop(c, o2);
    }
    const json_t *ca = json_object_get(ctx, "contextActivities");
    if (ca != NULL && !context_activities(c, ca))
        return false;
    const char *revision, *platform, *language;
    if (!member_str(c, ctx, "revision", false, &revision) ||
        !member_str(c, ctx, "platform", false, &platform) ||
        !member_str(c, ctx, "language", false, &language))
        return false;
    if (revision != NULL && !object_is_activity) {
        path_push(c, "revision");
        return fail(c, "context.revision-activity",
                    "revision is allowed only when the object is an Activity");
    }
    if (platform != NULL && !object_is_activity) {
        path_push(c, "platform");
        return fail(c, "context.platform-activity",
                    "platform is allowed only when the object is an Activity");
    }
    if (language != NULL && !xapi_is_language_tag(language)) {
        path_push(c, "language");
        return fail(c, "context.language-tag", "'%.40s' is not an RFC 5646 language tag", language);
    }
    const json_t *ref = json_object_get(ctx, "statement");
    if (ref != NULL) {
        size_t o2 = path_push(c, "statement");
        if (!statement_ref(c, ref))
            return false;
        path_pop(c, o2);
    }
    if (!extensions(c, ctx) || !context_agents(c, ctx, false) || !context_agents(c, ctx, true))
        return false;
    path_pop(c, old);
    return true;
}

static bool attachments(struct vctx *c, const json_t *arr)
{
    static const char *const keys[] = {"usageType", "display", "description", "contentType",
                                       "length",    "sha2",    "fileUrl",     NULL};
    size_t old = path_push(c, "attachments");
    if (!json_is_array(arr))
        return fail(c, "type.array", "attachments must be an array");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *a = json_array_get(arr, i);
        size_t o2 = path_index(c, i);
        const char *ct, *sha2;
        if (!want_object(c, a, "an Attachment") || !check_keys(c, a, keys) ||
            !member_iri(c, a, "usageType", true, "attachment.usagetype-iri") ||
            !member_iri(c, a, "fileUrl", false, "attachment.fileurl-iri") ||
            !member_str(c, a, "contentType", true, &ct) || !member_str(c, a, "sha2", true, &sha2))
            return false;
        if (json_object_get(a, "display") == NULL) {
            path_push(c, "display");
            return fail(c, "property.required", "'display' is required");
        }
        if (!lang_map(c, a, "display") || !lang_map(c, a, "description"))
            return false;
        if (!xapi_is_media_type(ct)) {
            path_push(c, "contentType");
            return fail(c, "attachment.content-type", "'%.40s' is not an Internet media type", ct);
        }
        if (!xapi_is_sha2_hex(sha2)) {
            path_push(c, "sha2");
            return fail(c, "attachment.sha2-hex", "sha2 must be the hex SHA-2 of the data");
        }
        const json_t *len = json_object_get(a, "length");
        path_push(c, "length");
        if (len == NULL)
            return fail(c, "property.required", "'length' is required");
        double d = json_is_number(len) ? json_number_value(len) : -1;
        if (!json_is_number(len) || d < 0 || d != floor(d) || d > 9007199254740991.0)
            return fail(c, "attachment.length-integer", "length must be a non-negative integer");
        path_pop(c, o2);
    }
    path_pop(c, old);
    return true;
}

/* ---------------------------------------------------------------------------------------
 * Statement and SubStatement
 */

static bool statement_object(struct vctx *c, const json_t *obj, bool sub, bool *is_activity)
{
    size_t old = path_push(c, "object");
    if (!want_object(c, obj, "object"))
        return false;
    static const char *const all[] = {"Activity",     "Agent",        "Group",
                                      "SubStatement", "StatementRef", NULL};
    const char *ot;
    if (!object_type(c, obj, all, false, &ot))
        return false;
    *is_activity = ot == NULL || strcmp(ot, "Activity") == 0;
    bool ok;
    if (*is_activity) {
        ok = activity(c, obj);
    } else if (strcmp(ot, "Agent") == 0 || strcmp(ot, "Group") == 0) {
        ok = actor(c, obj, true, NULL);
    } else if (strcmp(ot, "StatementRef") == 0) {
        ok = statement_ref(c, obj);
    } else if (sub) {
        ok = fail(c, "substatement.nested", "a SubStatement must not contain a SubStatement");
    } else {
        ok = true; /* validated by the caller as a statement of its own */
    }
    if (!ok)
        return false;
    path_pop(c, old);
    return true;
}

static bool statement_body(struct vctx *c, const json_t *s, bool sub);

static bool substatement(struct vctx *c, const json_t *s)
{
    static const char *const keys[] = {"objectType", "actor",     "verb",        "object", "result",
                                       "context",    "timestamp", "attachments", NULL};
    static const char *const forbidden[] = {"id", "stored", "version", "authority"};
    size_t old = path_push(c, "object");
    for (size_t i = 0; i < 4; i++)
        if (json_object_get(s, forbidden[i]) != NULL) {
            path_push(c, forbidden[i]);
            return fail(c, "substatement.forbidden", "a SubStatement must not have '%s'",
                        forbidden[i]);
        }
    if (!check_keys(c, s, keys) || !statement_body(c, s, true))
        return false;
    path_pop(c, old);
    return true;
}

static bool statement_body(struct vctx *c, const json_t *s, bool sub)
{
    static const char *const required[] = {"actor", "verb", "object"};
    for (size_t i = 0; i < 3; i++)
        if (json_object_get(s, required[i]) == NULL) {
            size_t old = path_push(c, required[i]);
            fail(c, "property.required", "'%s' is required", required[i]);
            path_pop(c, old);
            return false;
        }
    size_t old = path_push(c, "actor");
    if (!actor(c, json_object_get(s, "actor"), false, NULL))
        return false;
    path_pop(c, old);
    const json_t *vb = json_object_get(s, "verb");
    const json_t *obj = json_object_get(s, "object");
    bool is_activity;
    if (!verb(c, vb) || !statement_object(c, obj, sub, &is_activity))
        return false;
    const char *ot = vt_json_get_str(obj, "objectType");
    if (!sub && ot != NULL && strcmp(ot, "SubStatement") == 0 && !substatement(c, obj))
        return false;
    const char *vid = vt_json_get_str(vb, "id");
    if (vid != NULL && strcmp(vid, XAPI_VERB_VOIDED) == 0 &&
        (ot == NULL || strcmp(ot, "StatementRef") != 0)) {
        path_push(c, "object");
        return fail(c, "voiding.object-statementref",
                    "a voiding statement's object must be a StatementRef");
    }
    const json_t *r = json_object_get(s, "result");
    if (r != NULL && !result(c, r))
        return false;
    const json_t *ctx = json_object_get(s, "context");
    if (ctx != NULL && !context(c, ctx, is_activity))
        return false;
    const char *ts;
    if (!member_str(c, s, "timestamp", false, &ts))
        return false;
    int64_t ms;
    if (ts != NULL && !xapi_timestamp_parse(ts, &ms)) {
        path_push(c, "timestamp");
        return fail(c, "timestamp.iso8601", "'%.40s' is not an ISO 8601 timestamp", ts);
    }
    const json_t *att = json_object_get(s, "attachments");
    return att == NULL || attachments(c, att);
}

static bool version_ok(enum xapi_version v, const char *s)
{
    enum xapi_version sv;
    if (!xapi_version_parse(s, &sv))
        return false;
    /* 1.0.3 §2.4.10: only "1.0." statements; 2.0 accepts both data models. */
    return v == XAPI_V2_0 || sv == XAPI_V1_0_3;
}

enum vt_status xapi_statement_validate(const json_t *stmt, enum xapi_version v,
                                       struct xapi_problem *p)
{
    static const char *const keys[] = {"id",        "actor",   "verb",        "object",
                                       "result",    "context", "timestamp",   "stored",
                                       "authority", "version", "attachments", NULL};
    struct vctx c = {.v = v, .p = p};
    if (p != NULL)
        memset(p, 0, sizeof(*p));
    if (!json_is_object(stmt)) {
        fail(&c, "type.object", "a statement must be a JSON object");
        return VT_ERR_INVALID;
    }
    if (!check_keys(&c, stmt, keys) || !uuid_member(&c, stmt, "id", false, "uuid.form") ||
        !statement_body(&c, stmt, false))
        return VT_ERR_INVALID;
    const char *stored, *version;
    if (!member_str(&c, stmt, "stored", false, &stored) ||
        !member_str(&c, stmt, "version", false, &version))
        return VT_ERR_INVALID;
    int64_t ms;
    if (stored != NULL && !xapi_timestamp_parse(stored, &ms)) {
        path_push(&c, "stored");
        fail(&c, "timestamp.iso8601", "'%.40s' is not an ISO 8601 timestamp", stored);
        return VT_ERR_INVALID;
    }
    if (version != NULL && !version_ok(v, version)) {
        path_push(&c, "version");
        fail(&c, "statement.version", "version '%.20s' is not accepted (%s)", version,
             v == XAPI_V2_0 ? "1.0.x or 2.0.x" : "1.0.x");
        return VT_ERR_INVALID;
    }
    const json_t *auth = json_object_get(stmt, "authority");
    if (auth != NULL) {
        path_push(&c, "authority");
        int members;
        if (!actor(&c, auth, false, &members))
            return VT_ERR_INVALID;
        /* Data §2.4.9.s3.b1: an Agent, or (3-legged OAuth) a Group of exactly two. actor()
         * reports 0 for an Agent and 1 + the member count for a Group. */
        if (members != 0 && members != 3) {
            fail(&c, "authority.form", "authority must be an Agent or a Group of two Agents");
            return VT_ERR_INVALID;
        }
        path_pop(&c, 0);
    }
    return VT_OK;
}
