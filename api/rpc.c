/*
 * JSON-RPC 2.0 over WebSocket messages (specs/api.md §4): single requests and batches,
 * JSON in text frames and deterministic CBOR in binary frames, answered in the form they
 * came in. Runs on a worker.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"

#define RPC_BATCH_MAX 1024

int api_status_rpc_code(enum vt_status st)
{
    switch (st) {
    case VT_OK:
        return 0;
    case VT_ERR_INVALID:
    case VT_ERR_NONCANONICAL:
    case VT_ERR_TRUNCATED:
    case VT_ERR_TOO_DEEP:
    case VT_ERR_DUPLICATE:
        return API_RPC_INVALID_PARAMS;
    case VT_ERR_TOO_LARGE:
        return API_RPC_TOO_LARGE;
    case VT_ERR_UNSUPPORTED:
        return API_RPC_UNSUPPORTED;
    case VT_ERR_NOT_FOUND:
        return API_RPC_NOT_FOUND;
    case VT_ERR_EXISTS:
        return API_RPC_EXISTS;
    case VT_ERR_CONFLICT:
        return API_RPC_CONFLICT;
    case VT_ERR_VERIFY:
        return API_RPC_VERIFY;
    case VT_ERR_PERMISSION:
        return API_RPC_FORBIDDEN;
    case VT_ERR_IO:
    case VT_ERR_FULL:
        return API_RPC_STORAGE;
    case VT_ERR_BUSY:
        return API_RPC_SHUTTING_DOWN;
    case VT_ERR_CRYPTO:
    case VT_ERR_INTERNAL:
        return API_RPC_INTERNAL;
    }
    return API_RPC_INTERNAL;
}

int api_status_http_code(enum vt_status st)
{
    switch (st) {
    case VT_OK:
        return 200;
    case VT_ERR_INVALID:
    case VT_ERR_NONCANONICAL:
    case VT_ERR_TRUNCATED:
    case VT_ERR_TOO_DEEP:
    case VT_ERR_DUPLICATE:
    case VT_ERR_UNSUPPORTED:
        return 400;
    case VT_ERR_TOO_LARGE:
        return 413;
    case VT_ERR_NOT_FOUND:
        return 404;
    case VT_ERR_EXISTS:
    case VT_ERR_CONFLICT:
        return 409;
    case VT_ERR_VERIFY:
        return 400;
    case VT_ERR_PERMISSION:
        return 403;
    case VT_ERR_BUSY:
        return 503;
    case VT_ERR_IO:
    case VT_ERR_FULL:
    case VT_ERR_CRYPTO:
    case VT_ERR_INTERNAL:
        return 500;
    }
    return 500;
}

static const char *code_message(int code)
{
    switch (code) {
    case API_RPC_PARSE:
        return "parse error";
    case API_RPC_INVALID_REQUEST:
        return "invalid request";
    case API_RPC_METHOD_NOT_FOUND:
        return "method not found";
    case API_RPC_INVALID_PARAMS:
        return "invalid params";
    case API_RPC_UNAUTHENTICATED:
        return "not authenticated";
    case API_RPC_FORBIDDEN:
        return "forbidden";
    case API_RPC_NOT_FOUND:
        return "not found";
    case API_RPC_CONFLICT:
        return "conflict";
    case API_RPC_RATE_LIMITED:
        return "rate limited";
    case API_RPC_TOO_LARGE:
        return "too large";
    case API_RPC_SHUTTING_DOWN:
        return "shutting down";
    case API_RPC_VERIFY:
        return "verification failed";
    case API_RPC_UNSUPPORTED:
        return "unsupported";
    case API_RPC_STORAGE:
        return "storage error";
    case API_RPC_EXISTS:
        return "exists";
    default:
        return "internal error";
    }
}

static json_t *error_response(json_t *id, int code, const char *msg, json_t *data)
{
    json_t *e = json_object();
    json_object_set_new(e, "code", json_integer(code));
    json_object_set_new(e, "message", json_string(msg && *msg ? msg : code_message(code)));
    if (data)
        json_object_set_new(e, "data", data);
    json_t *r = json_object();
    json_object_set_new(r, "jsonrpc", json_string("2.0"));
    json_object_set_new(r, "error", e);
    json_object_set(r, "id", id ? id : json_null());
    return r;
}

static json_t *result_response(json_t *id, json_t *result)
{
    json_t *r = json_object();
    json_object_set_new(r, "jsonrpc", json_string("2.0"));
    json_object_set_new(r, "result", result ? result : json_null());
    json_object_set(r, "id", id);
    return r;
}

/* One request; returns the response, or NULL for a notification. raw: the request's params
 * as CBOR, for an API_M_CBOR method in a binary frame. */
static json_t *run_one(struct api_server *s, struct api_job *job, json_t *req,
                       const cbor_item_t *raw)
{
    int64_t t0 = api_mono_ns();
    if (!json_is_object(req))
        return error_response(NULL, API_RPC_INVALID_REQUEST, "request is not an object", NULL);
    json_t *id = json_object_get(req, "id");
    const char *ver = vt_json_get_str(req, "jsonrpc");
    const char *name = vt_json_get_str(req, "method");
    json_t *params = json_object_get(req, "params");
    if (id && !json_is_string(id) && !json_is_number(id) && !json_is_null(id))
        return error_response(NULL, API_RPC_INVALID_REQUEST, "id must be a string or number", NULL);
    if (!ver || strcmp(ver, "2.0") || !name)
        return error_response(id, API_RPC_INVALID_REQUEST,
                              "request needs \"jsonrpc\":\"2.0\" and a method name", NULL);
    const char *k;
    json_t *x;
    json_object_foreach(req, k, x)
    {
        if (strcmp(k, "jsonrpc") && strcmp(k, "method") && strcmp(k, "params") && strcmp(k, "id"))
            return error_response(id, API_RPC_INVALID_REQUEST, "unknown request member", NULL);
    }

    size_t index = api_method_count;
    const struct api_method *m = api_method_find(name, &index);
    struct vt_error err;
    vt_error_clear(&err);
    json_t *result = NULL;
    int code = 0;
    struct api_call call = {
        .srv = s, .job = job, .sess = &job->sess, .method = m, .cbor_params = raw};

    char rkey[VT_DIDKEY_MAX];
    if (job->sess.authed)
        snprintf(rkey, sizeof(rkey), "%s", job->sess.who.did);
    else
        snprintf(rkey, sizeof(rkey), "conn:%llu", (unsigned long long)job->conn_id);

    if (job->refuse) {
        code = API_RPC_SHUTTING_DOWN;
        snprintf(err.msg, sizeof(err.msg), "the server is shutting down");
    } else if (!m) {
        code = API_RPC_METHOD_NOT_FOUND;
        char shown[64];
        api_log_value(name, shown, sizeof(shown));
        snprintf(err.msg, sizeof(err.msg), "unknown method %s", shown);
    } else if (params && !json_is_object(params)) {
        code = API_RPC_INVALID_PARAMS;
        snprintf(err.msg, sizeof(err.msg), "params must be an object");
    } else if (!api_rate_take(s->rate, rkey, t0)) {
        code = API_RPC_RATE_LIMITED;
        snprintf(err.msg, sizeof(err.msg), "too many requests; slow down");
        api_metrics_rejected(s->metrics, "rate");
    } else if (!(m->flags & API_M_PUBLIC) && !job->sess.authed) {
        code = API_RPC_UNAUTHENTICATED;
        snprintf(err.msg, sizeof(err.msg), "method '%s' needs a login (auth.login)", m->name);
    } else {
        json_t *empty = NULL;
        if (!params)
            params = empty = json_object();
        enum vt_status st = api_authz_check(s, m, &job->sess, params, &err);
        if (st == VT_OK)
            st = m->fn(&call, params, &result, &err);
        json_decref(empty);
        if (st != VT_OK) {
            code = call.rpc_code ? call.rpc_code : api_status_rpc_code(st);
            json_decref(result);
            result = NULL;
        }
    }
    int64_t dt = api_mono_ns() - t0;
    api_metrics_rpc(s->metrics, index, code != 0, dt);
    if (code != 0) {
        API_LOG(API_LOG_INFO, "rpc", "conn=%llu req=%llu method=%s code=%d us=%lld msg=\"%s\"",
                (unsigned long long)job->conn_id, (unsigned long long)job->id,
                m ? m->name : "unknown", code, (long long)(dt / 1000), err.msg);
    } else {
        API_LOG(API_LOG_DEBUG, "rpc", "conn=%llu req=%llu method=%s code=0 us=%lld",
                (unsigned long long)job->conn_id, (unsigned long long)job->id, m->name,
                (long long)(dt / 1000));
    }
    if (!id) {
        json_decref(result);
        json_decref(call.error_data);
        return NULL;
    }
    if (code != 0) {
        json_t *data = call.error_data;
        if (!data && m) {
            data = json_object();
            json_object_set_new(data, "status", json_string(vt_status_name(err.status)));
        }
        return error_response(id, code, err.msg, data);
    }
    return result_response(id, result);
}

static void write_out(struct api_server *s, struct api_job *job, json_t *resp)
{
    struct vt_error err;
    vt_buf_reset(&job->out);
    static const uint8_t pre[API_OUT_PRE];
    (void)vt_buf_append(&job->out, pre, sizeof(pre), NULL);
    job->out_binary = job->binary;
    enum vt_status rc;
    if (job->binary) {
        rc = api_json_to_cbor(resp, &job->out, &err);
    } else {
        rc = cred_json_write(resp, 0, &job->out, &err);
    }
    if (rc != VT_OK) {
        /* The answer does not fit the output cap: say so instead. */
        json_t *id = json_is_object(resp) ? json_object_get(resp, "id") : NULL;
        json_t *e = error_response(id, API_RPC_TOO_LARGE, "response exceeds max_message", NULL);
        vt_buf_reset(&job->out);
        (void)vt_buf_append(&job->out, pre, sizeof(pre), NULL);
        if (job->binary) {
            (void)api_json_to_cbor(e, &job->out, NULL);
        } else {
            (void)cred_json_write(e, 0, &job->out, NULL);
        }
        json_decref(e);
    }
    (void)s;
}

/* The params of a binary request that its method reads as CBOR, or NULL. */
static const cbor_item_t *raw_params(const cbor_item_t *req)
{
    if (!cbor_isa_map(req))
        return NULL;
    const cbor_item_t *name = vt_cbor_map_get_str(req, "method");
    const cbor_item_t *params = vt_cbor_map_get_str(req, "params");
    char buf[64];
    if (!name || !params || !cbor_isa_map(params) || !cbor_isa_string(name) ||
        !cbor_string_is_definite(name) || cbor_string_length(name) >= sizeof(buf))
        return NULL;
    memcpy(buf, cbor_string_handle(name), cbor_string_length(name));
    buf[cbor_string_length(name)] = '\0';
    const struct api_method *m = api_method_find(buf, NULL);
    return m && (m->flags & API_M_CBOR) ? params : NULL;
}

/*
 * A binary message as JSON, except for the params that their methods read as CBOR (bulk
 * appends: converting their byte strings to base64url text and back would cost more than
 * the rest of the request). Those stay in *items; (*raws)[i] points at request i's (or
 * [0] at a single request's), and its JSON params are empty.
 */
static enum vt_status binary_message(struct api_server *s, struct api_job *job, cbor_item_t **items,
                                     json_t **msg, const cbor_item_t ***raws, struct vt_error *err)
{
    enum vt_status rc = vt_cbor_decode(job->in.data, job->in.len, s->cfg.max_depth, items, err);
    if (rc != VT_OK)
        return rc;
    const cbor_item_t *it = *items;
    /* Raw params are refused for what their conversion would refuse, as if converted. */
    if (!cbor_isa_array(it)) {
        *raws = vt_calloc(1, sizeof(**raws));
        (*raws)[0] = raw_params(it);
        if ((*raws)[0] && (rc = api_cbor_json_check((*raws)[0], err)) != VT_OK)
            return rc;
        return api_cbor_item_to_json(it, (*raws)[0], msg, err);
    }
    size_t n = cbor_array_size(it);
    cbor_item_t **reqs = cbor_array_handle(it);
    *raws = vt_calloc(n > 0 ? n : 1, sizeof(**raws));
    json_t *a = json_array();
    for (size_t i = 0; i < n && rc == VT_OK; i++) {
        json_t *r = NULL;
        (*raws)[i] = raw_params(reqs[i]);
        if ((*raws)[i])
            rc = api_cbor_json_check((*raws)[i], err);
        if (rc == VT_OK)
            rc = api_cbor_item_to_json(reqs[i], (*raws)[i], &r, err);
        if (rc == VT_OK)
            json_array_append_new(a, r);
    }
    if (rc != VT_OK) {
        json_decref(a);
        return rc;
    }
    *msg = a;
    return VT_OK;
}

void api_rpc_run(struct api_server *s, struct api_job *job)
{
    json_t *msg = NULL;
    cbor_item_t *items = NULL;
    const cbor_item_t **raws = NULL;
    struct vt_error err;
    vt_error_clear(&err);
    enum vt_status rc;
    if (job->binary)
        rc = binary_message(s, job, &items, &msg, &raws, &err);
    else
        rc = vt_json_parse((const char *)job->in.data, job->in.len, s->cfg.max_message,
                           s->cfg.max_depth, &msg, &err);
    json_t *resp = NULL;
    if (rc != VT_OK) {
        resp = error_response(NULL, API_RPC_PARSE, err.msg, NULL);
        api_metrics_rpc(s->metrics, api_method_count, true, 0);
        API_LOG(API_LOG_INFO, "rpc.parse_error", "conn=%llu req=%llu bytes=%zu msg=\"%s\"",
                (unsigned long long)job->conn_id, (unsigned long long)job->id, job->in.len,
                err.msg);
    } else if (json_is_array(msg)) {
        size_t n = json_array_size(msg);
        if (n == 0 || n > RPC_BATCH_MAX) {
            resp = error_response(NULL, API_RPC_INVALID_REQUEST,
                                  n ? "batch has too many requests" : "empty batch", NULL);
        } else {
            resp = json_array();
            for (size_t i = 0; i < n; i++) {
                json_t *r = run_one(s, job, json_array_get(msg, i), raws ? raws[i] : NULL);
                if (r)
                    json_array_append_new(resp, r);
            }
            if (json_array_size(resp) == 0) {
                json_decref(resp);
                resp = NULL;
            }
        }
    } else {
        resp = run_one(s, job, msg, raws ? raws[0] : NULL);
    }
    json_decref(msg);
    free(raws);
    if (items)
        cbor_decref(&items);
    vt_buf_reset(&job->out);
    if (resp)
        write_out(s, job, resp);
    json_decref(resp);
}

/* ---------------------------------------------------------------------------------------
 * Parameter helpers
 */

enum vt_status api_param_str(const json_t *params, const char *key, bool required, const char **out,
                             struct vt_error *err)
{
    json_t *v = json_object_get(params, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return vt_error_set(err, VT_ERR_INVALID, "missing param '%s'", key);
        return VT_OK;
    }
    if (!json_is_string(v))
        return vt_error_set(err, VT_ERR_INVALID, "param '%s' must be a string", key);
    *out = json_string_value(v);
    return VT_OK;
}

enum vt_status api_param_uint(const json_t *params, const char *key, bool required, uint64_t *out,
                              struct vt_error *err)
{
    json_t *v = json_object_get(params, key);
    if (!v || json_is_null(v)) {
        if (required)
            return vt_error_set(err, VT_ERR_INVALID, "missing param '%s'", key);
        return VT_OK;
    }
    double d = json_is_integer(v) ? (double)json_integer_value(v)
               : json_is_real(v)  ? json_real_value(v)
                                  : -1;
    if (d < 0 || d > 9007199254740992.0 || d != (double)(uint64_t)d)
        return vt_error_set(err, VT_ERR_INVALID, "param '%s' must be a non-negative integer", key);
    *out = (uint64_t)d;
    return VT_OK;
}

enum vt_status api_hex_learner(const char *hex, uint8_t learner[16], struct vt_error *err)
{
    struct vt_buf b;
    vt_buf_init(&b, 16);
    enum vt_status rc = strlen(hex) == 32 ? vt_hex_decode(hex, 32, &b, NULL) : VT_ERR_INVALID;
    if (rc == VT_OK)
        memcpy(learner, b.data, 16);
    vt_buf_release(&b);
    if (rc != VT_OK)
        return vt_error_set(err, VT_ERR_INVALID, "learner must be 32 hex digits");
    return VT_OK;
}

enum vt_status api_param_learner(const json_t *params, uint8_t learner[16], struct vt_error *err)
{
    const char *hex;
    enum vt_status rc = api_param_str(params, "learner", true, &hex, err);
    if (rc != VT_OK)
        return rc;
    return api_hex_learner(hex, learner, err);
}

void api_learner_hex(const uint8_t learner[16], char out[33])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = digits[learner[i] >> 4];
        out[2 * i + 1] = digits[learner[i] & 15];
    }
    out[32] = '\0';
}

json_t *api_json_b64u(const uint8_t *p, size_t n)
{
    struct vt_buf b;
    vt_buf_init(&b, VT_BUF_DEFAULT_MAX * 2);
    json_t *s = NULL;
    if (vt_base64url_encode(p, n, &b, NULL) == VT_OK)
        s = json_stringn((const char *)b.data, b.len);
    vt_buf_release(&b);
    return s ? s : json_null();
}

json_t *api_json_hex(const uint8_t *p, size_t n)
{
    struct vt_buf b;
    vt_buf_init(&b, VT_BUF_DEFAULT_MAX * 2);
    json_t *s = NULL;
    if (vt_hex_encode(p, n, &b, NULL) == VT_OK)
        s = json_stringn((const char *)b.data, b.len);
    vt_buf_release(&b);
    return s ? s : json_null();
}
