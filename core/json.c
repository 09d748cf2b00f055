/*
 * JSON parsing over jansson with I-JSON (RFC 7493) semantics and hard caps
 * (specs/encoding.md §2), plus typed member access.
 */
#include "core/core.h"

#include <string.h>

/*
 * JSON_DECODE_ANY: a JCS input may be any JSON value, so top-level scalars are accepted.
 * JSON_DECODE_INT_AS_REAL: I-JSON numbers are doubles, exactly as JCS reads them.
 * JSON_ALLOW_NUL is deliberately absent: jansson cannot hold U+0000 in member names, and
 * consumers read strings as C strings, where "a\u0000b" would silently compare equal to
 * "a". Rejecting U+0000 keeps what is signed and what is checked the same string.
 */
#define PARSE_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL | JSON_DECODE_ANY)

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
 * jansson only stops at its own compile-time depth limit, after allocating everything
 * above it, so the nesting is measured on the raw bytes first. Brackets inside strings do
 * not count; a backslash in a string hides the next byte. Malformed text is left for
 * jansson to report.
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

static enum vt_status map_error(const json_error_t *je, struct vt_error *err)
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
        /* jansson reports unpaired \uD800-\uDFFF escapes, and only those, this way. */
        if (strncmp(je->text, "invalid Unicode", 15) == 0)
            what = "lone surrogate in JSON string";
        break;
    }
    return vt_error_set(err, st, "%s at line %d, column %d (byte %d): %s", what, je->line,
                        je->column, je->position, je->text);
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
    enum vt_status st = check_depth(text, n, max_depth, err);
    if (st != VT_OK)
        return st;

    json_error_t je;
    json_t *v = json_loadb(text, n, PARSE_FLAGS, &je);
    if (v == NULL)
        return map_error(&je, err);
    *out = v;
    return VT_OK;
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
            vt_error_prefix(err, "cannot parse '%s'", path);
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
