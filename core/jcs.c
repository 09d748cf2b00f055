/*
 * RFC 8785 JSON Canonicalization Scheme writer (specs/encoding.md §2).
 *
 * jansson's own encoder cannot be used: it sorts keys by UTF-8 bytes, writes upper-case
 * \u escapes and prints numbers with %.17g.
 */
#include "core/core.h"
#include "core/core_int.h"

#include <stdlib.h>
#include <string.h>

/*
 * Documents from vt_json_parse are at most VT_JSON_MAX_DEPTH deep, but a document built
 * in code can be arbitrarily deep (or even cyclic); this bounds the recursion.
 */
#define JCS_MAX_DEPTH 1000

/* Objects with at most this many members are sorted in place on the stack. */
#define SMALL_OBJECT 32

/*
 * vt_buf_append for the many short pieces of a document: most fit in the room the buffer
 * already has. The terminating NUL is written once, by vt_jcs_write, at the end.
 */
static enum vt_status put(struct vt_buf *out, const void *p, size_t n, struct vt_error *err)
{
    if (n > 0 && out->cap - out->len >= n) {
        memcpy(out->data + out->len, p, n);
        out->len += n;
        return VT_OK;
    }
    return vt_buf_append(out, p, n, err);
}

static enum vt_status put_byte(struct vt_buf *out, uint8_t c, struct vt_error *err)
{
    if (out->len < out->cap) {
        out->data[out->len++] = c;
        return VT_OK;
    }
    return vt_buf_append(out, &c, 1, err);
}

struct member {
    const char *name;
    size_t len;
    const json_t *value;
};

/*
 * Orders code points as their UTF-16 code units order: a supplementary character starts
 * with a high surrogate (D800-DBFF), so it sorts after U+D7FF but before U+E000..U+FFFF.
 * Among themselves supplementary characters keep code point order, as do the rest.
 */
static uint32_t utf16_rank(uint32_t cp)
{
    return cp >= 0xe000 && cp <= 0xffff ? cp + 0x200000 : cp;
}

/* Both names were validated before sorting, so decoding cannot fail here. */
static int member_cmp(const void *pa, const void *pb)
{
    const struct member *a = pa;
    const struct member *b = pb;
    const uint8_t *x = (const uint8_t *)a->name;
    const uint8_t *y = (const uint8_t *)b->name;
    size_t i = 0;
    size_t j = 0;
    while (i < a->len && j < b->len) {
        if (x[i] < 0x80 && y[j] < 0x80) {
            if (x[i] != y[j])
                return x[i] < y[j] ? -1 : 1;
            i++;
            j++;
            continue;
        }
        uint32_t cx = 0;
        uint32_t cy = 0;
        i += vt_utf8_decode(x + i, a->len - i, &cx);
        j += vt_utf8_decode(y + j, b->len - j, &cy);
        uint32_t rx = utf16_rank(cx);
        uint32_t ry = utf16_rank(cy);
        if (rx != ry)
            return rx < ry ? -1 : 1;
    }
    if (i < a->len)
        return 1;
    return j < b->len ? -1 : 0;
}

static enum vt_status check_utf8(const char *s, size_t n, const char *what, struct vt_error *err)
{
    size_t bad = vt_utf8_invalid_at(s, n);
    if (bad < n)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot canonicalize JSON: invalid UTF-8 at byte %zu of %s", bad, what);
    return VT_OK;
}

/* s must be valid UTF-8: only ASCII bytes are escaped, the rest is copied as is. */
static enum vt_status write_string(const char *s, size_t n, struct vt_buf *out,
                                   struct vt_error *err)
{
    const uint8_t *u = (const uint8_t *)s;
    enum vt_status st = put_byte(out, '"', err);
    size_t run = 0;
    while (st == VT_OK) {
        size_t i = vt_json_scan(u, run, n, false);
        st = put(out, s + run, i - run, err);
        if (st != VT_OK || i == n)
            break;
        uint8_t c = u[i];
        run = i + 1;
        switch (c) {
        case '"':
            st = put(out, "\\\"", 2, err);
            break;
        case '\\':
            st = put(out, "\\\\", 2, err);
            break;
        case '\b':
            st = put(out, "\\b", 2, err);
            break;
        case '\t':
            st = put(out, "\\t", 2, err);
            break;
        case '\n':
            st = put(out, "\\n", 2, err);
            break;
        case '\f':
            st = put(out, "\\f", 2, err);
            break;
        case '\r':
            st = put(out, "\\r", 2, err);
            break;
        default: {
            static const char hex[] = "0123456789abcdef";
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            st = put(out, esc, sizeof(esc), err);
            break;
        }
        }
    }
    if (st == VT_OK)
        st = put_byte(out, '"', err);
    return st;
}

static enum vt_status write_number(double d, struct vt_buf *out, struct vt_error *err)
{
    char num[VT_JSON_NUMBER_MAX];
    size_t len = vt_json_number(d, num);
    if (len == 0)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot canonicalize JSON: NaN and infinity have no JSON form");
    return put(out, num, len, err);
}

static enum vt_status write_value(const json_t *v, size_t depth, struct vt_buf *out,
                                  struct vt_error *err);

static enum vt_status write_array(const json_t *v, size_t depth, struct vt_buf *out,
                                  struct vt_error *err)
{
    enum vt_status st = put_byte(out, '[', err);
    size_t count = json_array_size(v);
    for (size_t i = 0; i < count && st == VT_OK; i++) {
        if (i > 0)
            st = put_byte(out, ',', err);
        if (st == VT_OK)
            st = write_value(json_array_get(v, i), depth + 1, out, err);
    }
    if (st == VT_OK)
        st = put_byte(out, ']', err);
    return st;
}

/* Insertion sort: objects are small, and this avoids qsort's allocation and indirect calls. */
static void sort_members(struct member *m, size_t count)
{
    for (size_t i = 1; i < count; i++) {
        struct member x = m[i];
        size_t j = i;
        while (j > 0 && member_cmp(&m[j - 1], &x) > 0) {
            m[j] = m[j - 1];
            j--;
        }
        m[j] = x;
    }
}

static enum vt_status write_object(const json_t *v, size_t depth, struct vt_buf *out,
                                   struct vt_error *err)
{
    size_t count = json_object_size(v);
    struct member small[SMALL_OBJECT];
    struct member *members = small;
    if (count > SMALL_OBJECT) {
        size_t bytes;
        if (!vt_size_mul(count, sizeof(struct member), &bytes))
            return vt_error_set(err, VT_ERR_TOO_LARGE, "cannot canonicalize JSON: %zu members",
                                count);
        members = vt_malloc(bytes);
    }
    size_t got = 0;
    /* jansson's iterator takes a non-const object but does not modify it. */
    for (void *it = json_object_iter((json_t *)v); it != NULL && got < count;
         it = json_object_iter_next((json_t *)v, it)) {
        members[got].name = json_object_iter_key(it);
        members[got].len = json_object_iter_key_len(it);
        members[got].value = json_object_iter_value(it);
        got++;
    }
    VT_ASSERT(got == count);

    enum vt_status st = VT_OK;
    for (size_t i = 0; i < count && st == VT_OK; i++)
        st = check_utf8(members[i].name, members[i].len, "a member name", err);
    if (st == VT_OK) {
        if (count > SMALL_OBJECT)
            qsort(members, count, sizeof(members[0]), member_cmp);
        else
            sort_members(members, count);
        st = put_byte(out, '{', err);
    }
    for (size_t i = 0; i < count && st == VT_OK; i++) {
        if (i > 0)
            st = put_byte(out, ',', err);
        if (st == VT_OK)
            st = write_string(members[i].name, members[i].len, out, err);
        if (st == VT_OK)
            st = put_byte(out, ':', err);
        if (st == VT_OK)
            st = write_value(members[i].value, depth + 1, out, err);
    }
    if (st == VT_OK)
        st = put_byte(out, '}', err);
    if (members != small)
        free(members);
    return st;
}

static enum vt_status write_value(const json_t *v, size_t depth, struct vt_buf *out,
                                  struct vt_error *err)
{
    if (v == NULL)
        return vt_error_set(err, VT_ERR_INVALID, "cannot canonicalize JSON: missing value");
    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_ARRAY:
        if (depth >= JCS_MAX_DEPTH)
            return vt_error_set(err, VT_ERR_TOO_DEEP,
                                "cannot canonicalize JSON: nested deeper than %d levels",
                                JCS_MAX_DEPTH);
        return json_is_object(v) ? write_object(v, depth, out, err)
                                 : write_array(v, depth, out, err);
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        enum vt_status st = check_utf8(s, n, "a string", err);
        return st != VT_OK ? st : write_string(s, n, out, err);
    }
    case JSON_INTEGER:
        /* JCS numbers are doubles; a 64-bit integer is written as its nearest double. */
        return write_number((double)json_integer_value(v), out, err);
    case JSON_REAL:
        return write_number(json_real_value(v), out, err);
    case JSON_TRUE:
        return put(out, "true", 4, err);
    case JSON_FALSE:
        return put(out, "false", 5, err);
    case JSON_NULL:
        return put(out, "null", 4, err);
    }
    return vt_error_set(err, VT_ERR_INTERNAL, "cannot canonicalize JSON: unknown value type");
}

enum vt_status vt_jcs_write(const json_t *v, struct vt_buf *out, struct vt_error *err)
{
    size_t start = out->len;
    enum vt_status st = write_value(v, 0, out, err);
    if (st != VT_OK)
        out->len = start;
    if (out->cap > 0)
        out->data[out->len] = '\0';
    return st;
}
