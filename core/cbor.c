/*
 * Deterministic CBOR (RFC 8949 §4.2.1) over libcbor's item model.
 *
 * libcbor supplies the item model, but its serializer keeps the integer widths an item
 * was built with and the insertion order of maps, and its loader allocates whatever a
 * declared length asks for and refuses some well-formed tags and simple values; so every
 * byte is written and read here. The whole input is validated before any item is built.
 * Profile and rejection table: specs/encoding.md §1.
 */
#include "core/core.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Hard ceiling on nesting for both the writer and the reader, whatever max_depth says:
 * the reader keeps one fixed frame per level on the stack (it must not allocate) and
 * the writer recurses once per level. It also stops a cyclic item graph.
 */
#define CBOR_DEPTH_CEILING 256

enum {
    MT_UINT = 0,
    MT_NEGINT = 1,
    MT_BYTES = 2,
    MT_TEXT = 3,
    MT_ARRAY = 4,
    MT_MAP = 5,
    MT_TAG = 6,
    MT_SIMPLE = 7,
};

/* Additional information values with a fixed meaning (the floats: major type 7 only). */
enum {
    AI_SIMPLE8 = 24,
    AI_HALF = 25,
    AI_SINGLE = 26,
    AI_DOUBLE = 27,
    AI_INDEFINITE = 31,
};

static const char *const major_names[] = {
    "integer", "negative integer", "byte string", "text string", "array", "map",
    "tag",     "simple value",
};

/* ---------------------------------------------------------------------------------------
 * Floats: exact representability, decided on the bits so that no conversion can round
 * or overflow.
 */

#define DBL_MANT_MASK ((UINT64_C(1) << 52) - 1)

struct float_format {
    unsigned mant_bits;
    int emin; /* smallest normal exponent */
    int emax;
};

static const struct float_format half_format = {10, -14, 15};
static const struct float_format single_format = {23, -126, 127};

static uint64_t double_to_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof(b));
    return b;
}

static bool double_bits_are_nan(uint64_t bits)
{
    return (bits >> 52 & 0x7ff) == 0x7ff && (bits & DBL_MANT_MASK) != 0;
}

/* True when the non-NaN double with these bits has exactly the same value in format f. */
static bool double_fits(uint64_t bits, const struct float_format *f)
{
    unsigned exp = (unsigned)(bits >> 52) & 0x7ff;
    uint64_t mant = bits & DBL_MANT_MASK;
    if (exp == 0x7ff)
        return true;
    if (exp == 0)
        return mant == 0; /* double subnormals are far below any smaller format */
    int e = (int)exp - 1023;
    if (e > f->emax)
        return false;
    unsigned drop = 52 - f->mant_bits;
    if (e < f->emin) {
        /* A subnormal in f: the implicit leading bit eats into the stored digits. */
        if (e < f->emin - (int)f->mant_bits)
            return false;
        drop += (unsigned)(f->emin - e);
    }
    return (mant & ((UINT64_C(1) << drop) - 1)) == 0;
}

/* The binary16 bits of a non-NaN double for which double_fits(half_format) holds. */
static uint16_t double_to_half_bits(uint64_t bits)
{
    uint16_t sign = (uint16_t)(bits >> 48) & 0x8000;
    unsigned exp = (unsigned)(bits >> 52) & 0x7ff;
    uint64_t mant = bits & DBL_MANT_MASK;
    if (exp == 0x7ff)
        return sign | 0x7c00;
    if (exp == 0)
        return sign;
    int e = (int)exp - 1023;
    if (e >= half_format.emin)
        return sign | (uint16_t)((unsigned)(e + 15) << 10) | (uint16_t)(mant >> 42);
    return sign | (uint16_t)((mant | UINT64_C(1) << 52) >> (28 - e));
}

/* ---------------------------------------------------------------------------------------
 * Writer
 */

static enum vt_status put_head(struct vt_buf *out, unsigned major, uint64_t arg,
                               struct vt_error *err)
{
    uint8_t h[9];
    size_t len;
    uint8_t mt = (uint8_t)(major << 5);
    if (arg < 24) {
        h[0] = mt | (uint8_t)arg;
        len = 1;
    } else if (arg <= UINT8_MAX) {
        h[0] = mt | 24;
        h[1] = (uint8_t)arg;
        len = 2;
    } else if (arg <= UINT16_MAX) {
        h[0] = mt | 25;
        vt_be16_put(h + 1, (uint16_t)arg);
        len = 3;
    } else if (arg <= UINT32_MAX) {
        h[0] = mt | 26;
        vt_be32_put(h + 1, (uint32_t)arg);
        len = 5;
    } else {
        h[0] = mt | 27;
        vt_be64_put(h + 1, arg);
        len = 9;
    }
    return vt_buf_append(out, h, len, err);
}

static enum vt_status put_float(struct vt_buf *out, double d, struct vt_error *err)
{
    uint8_t h[9];
    size_t len;
    uint64_t bits = double_to_bits(d);
    if (double_bits_are_nan(bits)) {
        /* One NaN for every payload and sign, so equal values encode equally. */
        h[0] = 0xf9;
        vt_be16_put(h + 1, 0x7e00);
        len = 3;
    } else if (double_fits(bits, &half_format)) {
        h[0] = 0xf9;
        vt_be16_put(h + 1, double_to_half_bits(bits));
        len = 3;
    } else if (double_fits(bits, &single_format)) {
        float f = (float)d; /* exact: checked above */
        uint32_t fb;
        memcpy(&fb, &f, sizeof(fb));
        h[0] = 0xfa;
        vt_be32_put(h + 1, fb);
        len = 5;
    } else {
        h[0] = 0xfb;
        vt_be64_put(h + 1, bits);
        len = 9;
    }
    return vt_buf_append(out, h, len, err);
}

static enum vt_status encode_item(const cbor_item_t *item, struct vt_buf *out, size_t depth,
                                  struct vt_error *err);

/* Byte and text strings; libcbor's indefinite (chunked) strings are joined into one. */
static enum vt_status encode_string(const cbor_item_t *item, unsigned major, struct vt_buf *out,
                                    struct vt_error *err)
{
    bool is_text = major == MT_TEXT;
    bool definite = is_text ? cbor_string_is_definite(item) : cbor_bytestring_is_definite(item);
    cbor_item_t *self = (cbor_item_t *)item;
    cbor_item_t *const *chunks = &self;
    size_t count = 1;
    if (!definite) {
        chunks = is_text ? cbor_string_chunks_handle(item) : cbor_bytestring_chunks_handle(item);
        count = is_text ? cbor_string_chunk_count(item) : cbor_bytestring_chunk_count(item);
    }

    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        const cbor_item_t *c = chunks[i];
        bool ok = c != NULL && (is_text ? cbor_isa_string(c) && cbor_string_is_definite(c)
                                        : cbor_isa_bytestring(c) && cbor_bytestring_is_definite(c));
        if (!ok)
            return vt_error_set(err, VT_ERR_INVALID, "cannot encode %s: chunk %zu is not a %s",
                                major_names[major], i, major_names[major]);
        size_t len = is_text ? cbor_string_length(c) : cbor_bytestring_length(c);
        if (!vt_size_add(total, len, &total))
            return vt_error_set(err, VT_ERR_TOO_LARGE, "cannot encode %s: length overflows",
                                major_names[major]);
    }

    enum vt_status st = put_head(out, major, total, err);
    if (st != VT_OK)
        return st;
    size_t start = out->len;
    for (size_t i = 0; i < count; i++) {
        const cbor_item_t *c = chunks[i];
        size_t len = is_text ? cbor_string_length(c) : cbor_bytestring_length(c);
        if (len == 0)
            continue; /* an empty item may have no storage at all */
        const uint8_t *p = is_text ? cbor_string_handle(c) : cbor_bytestring_handle(c);
        if ((st = vt_buf_append(out, p, len, err)) != VT_OK)
            return st;
    }
    if (is_text) {
        /* Checked on the joined bytes: a chunk boundary may split a character. */
        size_t bad = vt_utf8_invalid_at(out->data + start, total);
        if (bad != total)
            return vt_error_set(err, VT_ERR_INVALID,
                                "cannot encode text string: invalid UTF-8 at byte %zu", bad);
    }
    return VT_OK;
}

static enum vt_status encode_array(const cbor_item_t *item, struct vt_buf *out, size_t depth,
                                   struct vt_error *err)
{
    size_t count = cbor_array_size(item);
    cbor_item_t **elems = cbor_array_handle(item);
    enum vt_status st = put_head(out, MT_ARRAY, count, err);
    for (size_t i = 0; i < count && st == VT_OK; i++)
        st = encode_item(elems[i], out, depth + 1, err);
    return st;
}

/* One encoded map entry inside the output buffer. */
struct map_entry {
    size_t start;   /* offset of the key in the output */
    size_t key_len; /* encoded key */
    size_t len;     /* encoded key and value */
    const uint8_t *key;
};

static int key_cmp(const struct map_entry *a, const struct map_entry *b)
{
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c != 0)
        return c;
    return (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

/* The first 16 bytes of a key in hex, for messages. */
static void key_hex(const uint8_t *key, size_t len, char out[2 * 16 + 4])
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *end = key + (len < 16 ? len : 16);
    for (const uint8_t *p = key; p < end; p++) {
        *out++ = digits[*p >> 4];
        *out++ = digits[*p & 15];
    }
    strcpy(out, len > 16 ? "..." : "");
}

static int entry_cmp(const void *a, const void *b)
{
    return key_cmp(a, b);
}

/*
 * Writes every entry in insertion order, then sorts the entries by their encoded keys and
 * rewrites the body in that order: sorting needs the deterministic key bytes anyway.
 */
static enum vt_status encode_map(const cbor_item_t *item, struct vt_buf *out, size_t depth,
                                 struct vt_error *err)
{
    size_t count = cbor_map_size(item);
    const struct cbor_pair *pairs = cbor_map_handle(item);
    enum vt_status st = put_head(out, MT_MAP, count, err);
    if (st != VT_OK || count == 0)
        return st;

    size_t bytes;
    if (!vt_size_mul(count, sizeof(struct map_entry), &bytes))
        return vt_error_set(err, VT_ERR_TOO_LARGE, "cannot encode map of %zu entries", count);
    struct map_entry *entries = vt_malloc(bytes);
    size_t body = out->len;
    for (size_t i = 0; i < count; i++) {
        if (pairs[i].key == NULL || pairs[i].value == NULL) {
            st = vt_error_set(err, VT_ERR_INVALID, "cannot encode map: entry %zu is incomplete", i);
            goto done;
        }
        entries[i].start = out->len;
        if ((st = encode_item(pairs[i].key, out, depth + 1, err)) != VT_OK)
            goto done;
        entries[i].key_len = out->len - entries[i].start;
        if ((st = encode_item(pairs[i].value, out, depth + 1, err)) != VT_OK)
            goto done;
        entries[i].len = out->len - entries[i].start;
    }
    for (size_t i = 0; i < count; i++)
        entries[i].key = out->data + entries[i].start;
    qsort(entries, count, sizeof(*entries), entry_cmp);
    for (size_t i = 1; i < count; i++) {
        if (key_cmp(&entries[i - 1], &entries[i]) == 0) {
            char hex[2 * 16 + 4];
            key_hex(entries[i].key, entries[i].key_len, hex);
            st = vt_error_set(err, VT_ERR_DUPLICATE, "cannot encode map: duplicate key %s", hex);
            goto done;
        }
    }

    size_t body_len = out->len - body;
    uint8_t *copy = vt_memdup(out->data + body, body_len);
    size_t at = body;
    for (size_t i = 0; i < count; i++) {
        memcpy(out->data + at, copy + (entries[i].start - body), entries[i].len);
        at += entries[i].len;
    }
    free(copy);
done:
    free(entries);
    return st;
}

static enum vt_status encode_simple(const cbor_item_t *item, struct vt_buf *out,
                                    struct vt_error *err)
{
    if (cbor_float_get_width(item) != CBOR_FLOAT_0)
        return put_float(out, cbor_float_get_float(item), err);
    uint8_t v = cbor_ctrl_value(item);
    /* 24-31 have no valid encoding: the one-byte form means a float or break, and the
     * two-byte form is reserved for values from 32 up. */
    if (v >= 24 && v < 32)
        return vt_error_set(err, VT_ERR_INVALID, "cannot encode simple value %u: reserved",
                            (unsigned)v);
    if (v < 24)
        return vt_buf_append_byte(out, (uint8_t)(MT_SIMPLE << 5 | v), err);
    uint8_t two[2] = {MT_SIMPLE << 5 | AI_SIMPLE8, v};
    return vt_buf_append(out, two, sizeof(two), err);
}

static enum vt_status encode_item(const cbor_item_t *item, struct vt_buf *out, size_t depth,
                                  struct vt_error *err)
{
    if (item == NULL)
        return vt_error_set(err, VT_ERR_INVALID, "cannot encode a missing item");
    cbor_type type = cbor_typeof(item);
    bool container = type == CBOR_TYPE_ARRAY || type == CBOR_TYPE_MAP || type == CBOR_TYPE_TAG;
    if (container && depth >= CBOR_DEPTH_CEILING)
        return vt_error_set(err, VT_ERR_TOO_DEEP, "cannot encode nesting deeper than %d",
                            CBOR_DEPTH_CEILING);

    switch (type) {
    case CBOR_TYPE_UINT:
        return put_head(out, MT_UINT, cbor_get_int(item), err);
    case CBOR_TYPE_NEGINT:
        return put_head(out, MT_NEGINT, cbor_get_int(item), err);
    case CBOR_TYPE_BYTESTRING:
        return encode_string(item, MT_BYTES, out, err);
    case CBOR_TYPE_STRING:
        return encode_string(item, MT_TEXT, out, err);
    case CBOR_TYPE_ARRAY:
        return encode_array(item, out, depth, err);
    case CBOR_TYPE_MAP:
        return encode_map(item, out, depth, err);
    case CBOR_TYPE_TAG: {
        /* Read the field directly: cbor_tag_item() dereferences a missing item. */
        const cbor_item_t *inner = item->metadata.tag_metadata.tagged_item;
        if (inner == NULL)
            return vt_error_set(err, VT_ERR_INVALID, "cannot encode tag %" PRIu64 ": no item",
                                cbor_tag_value(item));
        enum vt_status st = put_head(out, MT_TAG, cbor_tag_value(item), err);
        return st != VT_OK ? st : encode_item(inner, out, depth + 1, err);
    }
    case CBOR_TYPE_FLOAT_CTRL:
        return encode_simple(item, out, err);
    }
    return vt_error_set(err, VT_ERR_INVALID, "cannot encode item of unknown type %d", (int)type);
}

enum vt_status vt_cbor_encode(const cbor_item_t *item, struct vt_buf *out, struct vt_error *err)
{
    size_t start = out->len;
    enum vt_status st = encode_item(item, out, 0, err);
    if (st != VT_OK && out->len != start) {
        out->len = start;
        out->data[start] = '\0';
    }
    return st;
}

/* ---------------------------------------------------------------------------------------
 * Reader
 */

struct head {
    unsigned major;
    unsigned ai;
    uint64_t arg;
    size_t len; /* bytes of the head itself */
};

/* Reads and checks the head at pos (pos < n). */
static enum vt_status read_head(const uint8_t *d, size_t n, size_t pos, struct head *h,
                                struct vt_error *err)
{
    h->major = d[pos] >> 5;
    h->ai = d[pos] & 0x1f;
    h->len = 1;
    h->arg = h->ai;
    if (h->ai >= 28 && h->ai <= 30)
        return vt_error_set(err, VT_ERR_INVALID, "reserved additional information %u at offset %zu",
                            h->ai, pos);
    if (h->ai == AI_INDEFINITE) {
        if (h->major == MT_SIMPLE)
            return vt_error_set(err, VT_ERR_INVALID,
                                "break stop code outside an indefinite-length item at offset %zu",
                                pos);
        if (h->major == MT_UINT || h->major == MT_NEGINT || h->major == MT_TAG)
            return vt_error_set(err, VT_ERR_INVALID,
                                "additional information 31 is not valid for a %s at offset %zu",
                                major_names[h->major], pos);
        return vt_error_set(err, VT_ERR_NONCANONICAL, "indefinite-length %s at offset %zu",
                            major_names[h->major], pos);
    }
    if (h->ai < 24)
        return VT_OK;

    size_t extra = (size_t)1 << (h->ai - 24);
    if (n - pos - 1 < extra)
        return vt_error_set(err, VT_ERR_TRUNCATED,
                            "input ends inside the %s head at offset %zu (%zu of %zu bytes)",
                            major_names[h->major], pos, n - pos - 1, extra);
    const uint8_t *p = d + pos + 1;
    h->len = 1 + extra;
    switch (extra) {
    case 1:
        h->arg = p[0];
        break;
    case 2:
        h->arg = vt_be16_get(p);
        break;
    case 4:
        h->arg = vt_be32_get(p);
        break;
    default:
        h->arg = vt_be64_get(p);
        break;
    }
    if (h->major == MT_SIMPLE)
        return VT_OK; /* floats and simple values have their own rules */

    static const uint64_t below[] = {24, UINT64_C(1) << 8, UINT64_C(1) << 16, UINT64_C(1) << 32};
    if (h->arg < below[h->ai - 24])
        return vt_error_set(err, VT_ERR_NONCANONICAL, "non-shortest %s head at offset %zu",
                            major_names[h->major], pos);
    return VT_OK;
}

static enum vt_status check_simple(const struct head *h, const uint8_t *d, size_t pos,
                                   struct vt_error *err)
{
    const uint8_t *p = d + pos + 1;
    switch (h->ai) {
    case AI_SIMPLE8:
        if (h->arg < 32)
            return vt_error_set(err, VT_ERR_INVALID,
                                "simple value %" PRIu64 " in two-byte form at offset %zu", h->arg,
                                pos);
        return VT_OK;
    case AI_HALF: {
        uint16_t b = vt_be16_get(p);
        if ((b & 0x7c00) == 0x7c00 && (b & 0x3ff) != 0 && b != 0x7e00)
            return vt_error_set(err, VT_ERR_NONCANONICAL, "NaN other than f97e00 at offset %zu",
                                pos);
        return VT_OK;
    }
    case AI_SINGLE: {
        uint32_t b = vt_be32_get(p);
        if ((b & 0x7f800000) == 0x7f800000 && (b & 0x7fffff) != 0)
            return vt_error_set(err, VT_ERR_NONCANONICAL, "NaN other than f97e00 at offset %zu",
                                pos);
        float f;
        memcpy(&f, &b, sizeof(f));
        if (double_fits(double_to_bits((double)f), &half_format))
            return vt_error_set(err, VT_ERR_NONCANONICAL,
                                "single-precision float with an exact half form at offset %zu",
                                pos);
        return VT_OK;
    }
    case AI_DOUBLE: {
        uint64_t b = vt_be64_get(p);
        if (double_bits_are_nan(b))
            return vt_error_set(err, VT_ERR_NONCANONICAL, "NaN other than f97e00 at offset %zu",
                                pos);
        if (double_fits(b, &single_format))
            return vt_error_set(err, VT_ERR_NONCANONICAL,
                                "double-precision float with an exact shorter form at offset %zu",
                                pos);
        return VT_OK;
    }
    default:
        return VT_OK;
    }
}

/* One open array, map or tag. */
struct frame {
    uint64_t left; /* items still to read; a map counts keys and values */
    size_t key_start;
    size_t prev_start; /* the previous key of a map, when has_prev */
    size_t prev_len;
    bool is_map;
    bool has_prev;
};

/* Called when a map key that started at f->key_start ends at end. */
static enum vt_status check_key_order(const uint8_t *d, struct frame *f, size_t end,
                                      struct vt_error *err)
{
    struct map_entry cur = {.key = d + f->key_start, .key_len = end - f->key_start};
    if (f->has_prev) {
        struct map_entry prev = {.key = d + f->prev_start, .key_len = f->prev_len};
        int c = key_cmp(&prev, &cur);
        if (c == 0)
            return vt_error_set(err, VT_ERR_DUPLICATE, "duplicate map key at offset %zu",
                                f->key_start);
        if (c > 0)
            return vt_error_set(err, VT_ERR_NONCANONICAL,
                                "map key at offset %zu sorts before the previous key",
                                f->key_start);
    }
    f->prev_start = f->key_start;
    f->prev_len = cur.key_len;
    f->has_prev = true;
    return VT_OK;
}

enum vt_status vt_cbor_check(const uint8_t *data, size_t n, size_t max_depth, struct vt_error *err)
{
    struct frame stack[CBOR_DEPTH_CEILING];
    size_t depth = 0;
    size_t limit = max_depth < CBOR_DEPTH_CEILING ? max_depth : CBOR_DEPTH_CEILING;
    size_t pos = 0;

    for (;;) {
        enum vt_status st;
        if (pos >= n)
            return vt_error_set(err, VT_ERR_TRUNCATED,
                                "input ends at offset %zu where an item should start", pos);
        if (depth > 0 && stack[depth - 1].is_map && stack[depth - 1].left % 2 == 0)
            stack[depth - 1].key_start = pos;

        struct head h;
        if ((st = read_head(data, n, pos, &h, err)) != VT_OK)
            return st;
        size_t item = pos;
        size_t rest = n - pos - h.len; /* bytes after the head */
        uint64_t children = 0;

        switch (h.major) {
        case MT_BYTES:
        case MT_TEXT:
            if (h.arg > rest)
                return vt_error_set(err, VT_ERR_TRUNCATED,
                                    "%s of %" PRIu64 " bytes at offset %zu runs past the end "
                                    "of the input (%zu bytes left)",
                                    major_names[h.major], h.arg, item, rest);
            if (h.major == MT_TEXT) {
                size_t bad = vt_utf8_invalid_at(data + pos + h.len, (size_t)h.arg);
                if (bad != (size_t)h.arg)
                    return vt_error_set(err, VT_ERR_INVALID, "invalid UTF-8 at offset %zu",
                                        pos + h.len + bad);
            }
            pos += h.len + (size_t)h.arg;
            break;
        case MT_ARRAY:
        case MT_MAP:
        case MT_TAG:
            /* Every item takes at least one byte, so a count can be bounded by what is left
             * before anything trusts it. */
            children = h.major == MT_TAG ? 1 : h.arg;
            if (h.major != MT_TAG && children > (h.major == MT_MAP ? rest / 2 : rest))
                return vt_error_set(err, VT_ERR_TRUNCATED,
                                    "%s of %" PRIu64 " %s at offset %zu needs more than the %zu "
                                    "bytes left",
                                    major_names[h.major], h.arg,
                                    h.major == MT_MAP ? "entries" : "items", item, rest);
            if (depth >= limit)
                return vt_error_set(err, VT_ERR_TOO_DEEP, "nesting deeper than %zu at offset %zu",
                                    limit, item);
            if (h.major == MT_MAP)
                children *= 2;
            pos += h.len;
            break;
        case MT_SIMPLE:
            if ((st = check_simple(&h, data, pos, err)) != VT_OK)
                return st;
            pos += h.len;
            break;
        default:
            pos += h.len;
            break;
        }

        if (children > 0) {
            stack[depth] = (struct frame){.left = children, .is_map = h.major == MT_MAP};
            depth++;
            continue;
        }
        /* An item ended at pos; close every container it completes. */
        while (depth > 0) {
            struct frame *f = &stack[depth - 1];
            f->left--;
            if (f->is_map && f->left % 2 == 1 && (st = check_key_order(data, f, pos, err)) != VT_OK)
                return st;
            if (f->left > 0)
                break;
            depth--;
        }
        if (depth == 0)
            break;
    }
    if (pos != n)
        return vt_error_set(err, VT_ERR_INVALID, "trailing bytes after the item at offset %zu",
                            pos);
    return VT_OK;
}

/* ---------------------------------------------------------------------------------------
 * Item builder. cbor_load is not used: libcbor 0.8.0 refuses one-byte tag heads 6-20
 * (among them COSE's 16, 17 and 18) and every simple value but false, true, null and
 * undefined, all of which are well-formed and deterministic. The builder runs only on
 * input that vt_cbor_check accepted, so it sees shortest heads and definite lengths.
 */

static cbor_item_t *must(cbor_item_t *item)
{
    if (item == NULL) {
        fprintf(stderr, "fatal: out of memory building a CBOR item\n");
        abort();
    }
    return item;
}

/* binary16 to binary32 bits; every half value (and the one NaN we accept) is exact. */
static uint32_t half_to_single_bits(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    unsigned exp = h >> 10 & 0x1f;
    uint32_t mant = h & 0x3ff;
    if (exp == 0x1f)
        return sign | 0x7f800000 | (mant != 0 ? 0x400000 : 0);
    if (exp == 0) {
        if (mant == 0)
            return sign;
        int e = -14;
        while ((mant & 0x400) == 0) {
            mant <<= 1;
            e--;
        }
        return sign | (uint32_t)(e + 127) << 23 | (mant & 0x3ff) << 13;
    }
    return sign | (uint32_t)(exp - 15 + 127) << 23 | mant << 13;
}

static float single_from_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof(f));
    return f;
}

/* The item for a head that opens no container. */
static cbor_item_t *build_leaf(const uint8_t *d, size_t pos, const struct head *h)
{
    const uint8_t *p = d + pos + h->len;
    bool neg = h->major == MT_NEGINT;
    switch (h->major) {
    case MT_UINT:
    case MT_NEGINT:
        /* The head is shortest, so its width is the natural libcbor width. */
        if (h->len <= 2)
            return neg ? cbor_build_negint8((uint8_t)h->arg) : cbor_build_uint8((uint8_t)h->arg);
        if (h->len == 3)
            return neg ? cbor_build_negint16((uint16_t)h->arg)
                       : cbor_build_uint16((uint16_t)h->arg);
        if (h->len == 5)
            return neg ? cbor_build_negint32((uint32_t)h->arg)
                       : cbor_build_uint32((uint32_t)h->arg);
        return neg ? cbor_build_negint64(h->arg) : cbor_build_uint64(h->arg);
    case MT_BYTES:
        return cbor_build_bytestring(p, (size_t)h->arg);
    case MT_TEXT:
        return cbor_build_stringn((const char *)p, (size_t)h->arg);
    default:
        break;
    }
    switch (h->ai) {
    case AI_HALF:
        return cbor_build_float2(single_from_bits(half_to_single_bits((uint16_t)h->arg)));
    case AI_SINGLE:
        return cbor_build_float4(single_from_bits((uint32_t)h->arg));
    case AI_DOUBLE: {
        double v;
        memcpy(&v, &h->arg, sizeof(v));
        return cbor_build_float8(v);
    }
    default:
        return cbor_build_ctrl((uint8_t)h->arg);
    }
}

struct build_frame {
    cbor_item_t *item;
    cbor_item_t *key; /* a map key waiting for its value */
    uint64_t left;
};

/* Hands child (our reference) to the container on top of the stack. */
static void build_attach(struct build_frame *f, cbor_item_t *child)
{
    bool ok = true;
    switch (cbor_typeof(f->item)) {
    case CBOR_TYPE_ARRAY:
        ok = cbor_array_push(f->item, child);
        cbor_decref(&child);
        break;
    case CBOR_TYPE_MAP:
        if (f->key == NULL) {
            f->key = child;
            return;
        }
        ok = cbor_map_add(f->item, (struct cbor_pair){.key = f->key, .value = child});
        cbor_decref(&f->key);
        f->key = NULL; /* cbor_decref clears the pointer only when it frees */
        cbor_decref(&child);
        break;
    default:
        cbor_tag_set_item(f->item, child);
        cbor_decref(&child);
        break;
    }
    VT_ASSERT(ok); /* containers are created with room for the declared count */
}

static cbor_item_t *build(const uint8_t *d, size_t n)
{
    struct build_frame stack[CBOR_DEPTH_CEILING];
    size_t depth = 0;
    size_t pos = 0;
    for (;;) {
        struct head h;
        enum vt_status st = read_head(d, n, pos, &h, NULL);
        VT_ASSERT(st == VT_OK); /* vt_cbor_check accepted these bytes */
        cbor_item_t *item;
        uint64_t children = 0;
        if (h.major == MT_ARRAY) {
            item = cbor_new_definite_array((size_t)h.arg);
            children = h.arg;
        } else if (h.major == MT_MAP) {
            item = cbor_new_definite_map((size_t)h.arg);
            children = 2 * h.arg;
        } else if (h.major == MT_TAG) {
            item = cbor_new_tag(h.arg);
            children = 1;
        } else {
            item = build_leaf(d, pos, &h);
        }
        must(item);
        pos += h.len;
        if (h.major == MT_BYTES || h.major == MT_TEXT)
            pos += (size_t)h.arg;

        if (children > 0) {
            VT_ASSERT(depth < CBOR_DEPTH_CEILING);
            stack[depth++] = (struct build_frame){.item = item, .left = children};
            continue;
        }
        /* item is complete: hand it up through every container it completes. */
        while (depth > 0) {
            struct build_frame *f = &stack[depth - 1];
            build_attach(f, item);
            if (--f->left > 0)
                break;
            item = f->item;
            depth--;
        }
        if (depth == 0)
            return item;
    }
}

enum vt_status vt_cbor_decode(const uint8_t *data, size_t n, size_t max_depth, cbor_item_t **out,
                              struct vt_error *err)
{
    *out = NULL;
    enum vt_status st = vt_cbor_check(data, n, max_depth, err);
    if (st != VT_OK)
        return st;
    cbor_item_t *item = build(data, n);

    /* Belt and braces: the checker, the builder and the writer must agree on every byte. */
    struct vt_buf again;
    vt_buf_init(&again, n);
    struct vt_error enc_err;
    st = vt_cbor_encode(item, &again, &enc_err);
    if (st == VT_ERR_TOO_LARGE) {
        st = vt_error_set(err, VT_ERR_NONCANONICAL,
                          "re-encoding is longer than the %zu-byte input at offset %zu", n, n);
    } else if (st != VT_OK) {
        st = vt_error_set(err, st, "cannot re-encode decoded item: %s", enc_err.msg);
    } else if (again.len != n || memcmp(again.data, data, n) != 0) {
        size_t i = 0;
        while (i < n && i < again.len && again.data[i] == data[i])
            i++;
        st = vt_error_set(err, VT_ERR_NONCANONICAL,
                          "re-encoding differs from the input at offset %zu", i);
    }
    vt_buf_release(&again);
    if (st != VT_OK) {
        cbor_decref(&item);
        return st;
    }
    *out = item;
    return VT_OK;
}

/* ---------------------------------------------------------------------------------------
 * Helpers
 */

cbor_item_t *vt_cbor_map_get_uint(const cbor_item_t *map, uint64_t key)
{
    if (map == NULL || !cbor_isa_map(map))
        return NULL;
    size_t count = cbor_map_size(map);
    const struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < count; i++) {
        const cbor_item_t *k = pairs[i].key;
        if (k != NULL && cbor_isa_uint(k) && cbor_get_int(k) == key)
            return pairs[i].value;
    }
    return NULL;
}

cbor_item_t *vt_cbor_map_get_str(const cbor_item_t *map, const char *key)
{
    if (map == NULL || !cbor_isa_map(map))
        return NULL;
    size_t len = strlen(key);
    size_t count = cbor_map_size(map);
    const struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < count; i++) {
        const cbor_item_t *k = pairs[i].key;
        if (k == NULL || !cbor_isa_string(k) || !cbor_string_is_definite(k) ||
            cbor_string_length(k) != len)
            continue;
        if (len == 0 || memcmp(cbor_string_handle(k), key, len) == 0)
            return pairs[i].value;
    }
    return NULL;
}

static const char *type_name(const cbor_item_t *item)
{
    cbor_type t = cbor_typeof(item);
    if (t == CBOR_TYPE_FLOAT_CTRL)
        return cbor_float_get_width(item) == CBOR_FLOAT_0 ? "simple value" : "float";
    return major_names[t];
}

enum vt_status vt_cbor_get_uint(const cbor_item_t *item, uint64_t *out, struct vt_error *err)
{
    if (item == NULL)
        return vt_error_set(err, VT_ERR_INVALID, "expected an unsigned integer, found nothing");
    if (!cbor_isa_uint(item))
        return vt_error_set(err, VT_ERR_INVALID, "expected an unsigned integer, found a %s",
                            type_name(item));
    *out = cbor_get_int(item);
    return VT_OK;
}

void vt_cbor_map_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value)
{
    VT_ASSERT(cbor_isa_map(map));
    bool added = cbor_map_add(map, (struct cbor_pair){.key = key, .value = value});
    VT_ASSERT(added);
    cbor_decref(&key);
    cbor_decref(&value);
}
