/* JSON text output in the layout of ECMAScript JSON.stringify(value, null, indent). */
#include "credential/credential_int.h"

#include <string.h>

bool cred_json_plain_name(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
            return false;
    }
    return true;
}

/* A member name as JSON.stringify writes it; the names of our documents need no escapes,
 * so the general path (a string value for the JCS writer) is the exception. */
static enum vt_status put_name(const char *k, struct vt_buf *out, struct vt_error *err)
{
    if (!cred_json_plain_name(k)) {
        json_t *name = json_string(k);
        enum vt_status st = vt_jcs_write(name, out, err);
        json_decref(name);
        return st;
    }
    size_t n = strlen(k);
    enum vt_status st = vt_buf_grow(out, n + 2, err);
    if (st == VT_OK) {
        out->data[out->len] = '"';
        memcpy(out->data + out->len + 1, k, n);
        out->data[out->len + 1 + n] = '"';
        out->len += n + 2;
        out->data[out->len] = '\0';
    }
    return st;
}

static enum vt_status put_indent(struct vt_buf *out, unsigned indent, unsigned level,
                                 struct vt_error *err)
{
    enum vt_status st = vt_buf_append_byte(out, '\n', err);
    for (unsigned i = 0; st == VT_OK && i < indent * level; i++)
        st = vt_buf_append_byte(out, ' ', err);
    return st;
}

static enum vt_status write_value(const json_t *v, unsigned indent, unsigned level,
                                  struct vt_buf *out, struct vt_error *err)
{
    enum vt_status st = VT_OK;
    if (level > VT_JSON_MAX_DEPTH + 1)
        return vt_error_set(err, VT_ERR_TOO_DEEP, "cannot write JSON nested deeper than %d",
                            VT_JSON_MAX_DEPTH);
    if (json_is_object(v)) {
        if (json_object_size(v) == 0)
            return vt_buf_append_str(out, "{}", err);
        st = vt_buf_append_byte(out, '{', err);
        const char *k;
        const json_t *m;
        bool first = true;
        json_object_foreach((json_t *)v, k, m)
        {
            if (st == VT_OK && !first)
                st = vt_buf_append_byte(out, ',', err);
            first = false;
            if (st == VT_OK && indent > 0)
                st = put_indent(out, indent, level + 1, err);
            if (st == VT_OK)
                st = put_name(k, out, err);
            if (st == VT_OK)
                st = vt_buf_append_str(out, indent > 0 ? ": " : ":", err);
            if (st == VT_OK)
                st = write_value(m, indent, level + 1, out, err);
        }
        if (st == VT_OK && indent > 0)
            st = put_indent(out, indent, level, err);
        if (st == VT_OK)
            st = vt_buf_append_byte(out, '}', err);
        return st;
    }
    if (json_is_array(v)) {
        if (json_array_size(v) == 0)
            return vt_buf_append_str(out, "[]", err);
        st = vt_buf_append_byte(out, '[', err);
        size_t i;
        const json_t *m;
        json_array_foreach(v, i, m)
        {
            if (st == VT_OK && i > 0)
                st = vt_buf_append_byte(out, ',', err);
            if (st == VT_OK && indent > 0)
                st = put_indent(out, indent, level + 1, err);
            if (st == VT_OK)
                st = write_value(m, indent, level + 1, out, err);
        }
        if (st == VT_OK && indent > 0)
            st = put_indent(out, indent, level, err);
        if (st == VT_OK)
            st = vt_buf_append_byte(out, ']', err);
        return st;
    }
    /* Scalars are written exactly as the canonical form writes them. */
    return vt_jcs_write(v, out, err);
}

enum vt_status cred_json_write(const json_t *doc, unsigned indent, struct vt_buf *out,
                               struct vt_error *err)
{
    return write_value(doc, indent, 0, out, err);
}
