/*
 * Binary frames carry the JSON-RPC messages as deterministic CBOR (specs/api.md §4.2):
 * maps with text keys, and the JSON data model otherwise; a CBOR byte string stands for
 * the base64url text the JSON form would carry.
 */
#include <math.h>
#include <string.h>

#include "api/api_int.h"

static enum vt_status to_json(const cbor_item_t *it, const cbor_item_t *hole, json_t **out,
                              struct vt_error *err)
{
    if (it == hole) {
        *out = json_object();
        return VT_OK;
    }
    switch (cbor_typeof(it)) {
    case CBOR_TYPE_UINT: {
        uint64_t v = cbor_get_int(it);
        *out = v <= INT64_MAX ? json_integer((json_int_t)v) : json_real((double)v);
        return VT_OK;
    }
    case CBOR_TYPE_NEGINT: {
        uint64_t v = cbor_get_int(it);
        *out = v < INT64_MAX ? json_integer(-1 - (json_int_t)v) : json_real(-1.0 - (double)v);
        return VT_OK;
    }
    case CBOR_TYPE_BYTESTRING:
        *out = api_json_b64u(cbor_bytestring_handle(it), cbor_bytestring_length(it));
        return VT_OK;
    case CBOR_TYPE_STRING: {
        size_t n = cbor_string_length(it);
        const char *p = (const char *)cbor_string_handle(it);
        if (memchr(p, 0, n))
            return vt_error_set(err, VT_ERR_INVALID, "text string contains U+0000");
        *out = json_stringn(p, n);
        if (!*out)
            return vt_error_set(err, VT_ERR_INVALID, "text string is not valid UTF-8");
        return VT_OK;
    }
    case CBOR_TYPE_ARRAY: {
        json_t *a = json_array();
        cbor_item_t **items = cbor_array_handle(it);
        for (size_t i = 0; i < cbor_array_size(it); i++) {
            json_t *v;
            enum vt_status rc = to_json(items[i], hole, &v, err);
            if (rc != VT_OK) {
                json_decref(a);
                return rc;
            }
            json_array_append_new(a, v);
        }
        *out = a;
        return VT_OK;
    }
    case CBOR_TYPE_MAP: {
        json_t *o = json_object();
        struct cbor_pair *pairs = cbor_map_handle(it);
        for (size_t i = 0; i < cbor_map_size(it); i++) {
            if (!cbor_isa_string(pairs[i].key)) {
                json_decref(o);
                return vt_error_set(err, VT_ERR_INVALID, "map key is not a text string");
            }
            size_t kn = cbor_string_length(pairs[i].key);
            char *k = vt_malloc(kn + 1);
            memcpy(k, cbor_string_handle(pairs[i].key), kn);
            k[kn] = '\0';
            json_t *v;
            enum vt_status rc = strlen(k) == kn
                                    ? to_json(pairs[i].value, hole, &v, err)
                                    : vt_error_set(err, VT_ERR_INVALID, "map key contains U+0000");
            if (rc == VT_OK && json_object_set_new(o, k, v) != 0)
                rc = vt_error_set(err, VT_ERR_INVALID, "map key is not valid UTF-8");
            free(k);
            if (rc != VT_OK) {
                json_decref(o);
                return rc;
            }
        }
        *out = o;
        return VT_OK;
    }
    case CBOR_TYPE_FLOAT_CTRL:
        if (cbor_float_ctrl_is_ctrl(it)) {
            uint8_t c = cbor_ctrl_value(it);
            if (c == CBOR_CTRL_TRUE || c == CBOR_CTRL_FALSE) {
                *out = json_boolean(c == CBOR_CTRL_TRUE);
                return VT_OK;
            }
            if (c == CBOR_CTRL_NULL) {
                *out = json_null();
                return VT_OK;
            }
            return vt_error_set(err, VT_ERR_UNSUPPORTED, "simple value %u has no JSON form", c);
        } else {
            double d = cbor_float_get_float(it);
            if (!isfinite(d))
                return vt_error_set(err, VT_ERR_INVALID, "NaN and infinities have no JSON form");
            *out = json_real(d);
            return VT_OK;
        }
    case CBOR_TYPE_TAG:
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "CBOR tags are not used in messages");
    }
    return vt_error_set(err, VT_ERR_INVALID, "unknown CBOR item");
}

enum vt_status api_cbor_to_json(const uint8_t *data, size_t n, size_t max_depth, json_t **out,
                                struct vt_error *err)
{
    cbor_item_t *it = NULL;
    *out = NULL;
    enum vt_status rc = vt_cbor_decode(data, n, max_depth, &it, err);
    if (rc != VT_OK)
        return rc;
    rc = to_json(it, NULL, out, err);
    cbor_decref(&it);
    return rc;
}

enum vt_status api_cbor_item_to_json(const cbor_item_t *it, const cbor_item_t *hole, json_t **out,
                                     struct vt_error *err)
{
    *out = NULL;
    return to_json(it, hole, out, err);
}

static enum vt_status check_text(const uint8_t *p, size_t n, const char *what, struct vt_error *err)
{
    if (memchr(p, 0, n))
        return vt_error_set(err, VT_ERR_INVALID, "%s contains U+0000", what);
    if (vt_utf8_invalid_at(p, n) != n)
        return vt_error_set(err, VT_ERR_INVALID, "%s is not valid UTF-8", what);
    return VT_OK;
}

/* The refusals of to_json, without building anything. */
enum vt_status api_cbor_json_check(const cbor_item_t *it, struct vt_error *err)
{
    switch (cbor_typeof(it)) {
    case CBOR_TYPE_UINT:
    case CBOR_TYPE_NEGINT:
    case CBOR_TYPE_BYTESTRING:
        return VT_OK;
    case CBOR_TYPE_STRING:
        return check_text(cbor_string_handle(it), cbor_string_length(it), "text string", err);
    case CBOR_TYPE_ARRAY: {
        cbor_item_t **items = cbor_array_handle(it);
        for (size_t i = 0; i < cbor_array_size(it); i++) {
            enum vt_status rc = api_cbor_json_check(items[i], err);
            if (rc != VT_OK)
                return rc;
        }
        return VT_OK;
    }
    case CBOR_TYPE_MAP: {
        struct cbor_pair *pairs = cbor_map_handle(it);
        for (size_t i = 0; i < cbor_map_size(it); i++) {
            if (!cbor_isa_string(pairs[i].key))
                return vt_error_set(err, VT_ERR_INVALID, "map key is not a text string");
            enum vt_status rc = check_text(cbor_string_handle(pairs[i].key),
                                           cbor_string_length(pairs[i].key), "map key", err);
            if (rc == VT_OK)
                rc = api_cbor_json_check(pairs[i].value, err);
            if (rc != VT_OK)
                return rc;
        }
        return VT_OK;
    }
    case CBOR_TYPE_FLOAT_CTRL:
        if (cbor_float_ctrl_is_ctrl(it)) {
            uint8_t c = cbor_ctrl_value(it);
            if (c == CBOR_CTRL_TRUE || c == CBOR_CTRL_FALSE || c == CBOR_CTRL_NULL)
                return VT_OK;
            return vt_error_set(err, VT_ERR_UNSUPPORTED, "simple value %u has no JSON form", c);
        }
        if (!isfinite(cbor_float_get_float(it)))
            return vt_error_set(err, VT_ERR_INVALID, "NaN and infinities have no JSON form");
        return VT_OK;
    case CBOR_TYPE_TAG:
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "CBOR tags are not used in messages");
    }
    return vt_error_set(err, VT_ERR_INVALID, "unknown CBOR item");
}

static cbor_item_t *to_cbor(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        cbor_item_t *m = cbor_new_definite_map(json_object_size(v));
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            vt_cbor_map_put(m, cbor_build_string(k), to_cbor(x));
        }
        return m;
    }
    case JSON_ARRAY: {
        cbor_item_t *a = cbor_new_definite_array(json_array_size(v));
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            cbor_item_t *c = to_cbor(x);
            VT_ASSERT(cbor_array_push(a, c));
            cbor_decref(&c);
        }
        return a;
    }
    case JSON_STRING:
        return cbor_build_stringn(json_string_value(v), json_string_length(v));
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        return i >= 0 ? cbor_build_uint64((uint64_t)i) : cbor_build_negint64((uint64_t)(-1 - i));
    }
    case JSON_REAL: {
        double d = json_real_value(v);
        if (d == floor(d) && fabs(d) <= 9007199254740992.0 && !(d == 0 && signbit(d)))
            return d >= 0 ? cbor_build_uint64((uint64_t)d)
                          : cbor_build_negint64((uint64_t)(-1 - (int64_t)d));
        return cbor_build_float8(d);
    }
    case JSON_TRUE:
        return cbor_build_bool(true);
    case JSON_FALSE:
        return cbor_build_bool(false);
    case JSON_NULL:
        return cbor_new_null();
    }
    return cbor_new_null();
}

enum vt_status api_json_to_cbor(const json_t *v, struct vt_buf *out, struct vt_error *err)
{
    cbor_item_t *it = to_cbor(v);
    enum vt_status rc = vt_cbor_encode(it, out, err);
    cbor_decref(&it);
    return rc;
}
