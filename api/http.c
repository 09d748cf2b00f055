/*
 * HTTP routes (specs/api.md §3), run on a worker: the service thread has already read the
 * request line, the headers and the (capped) body. VC-API routes share their code and
 * their authorization with the WebSocket methods.
 */
#include <string.h>

#include "api/api_int.h"

enum route {
    R_HEALTHZ,
    R_METRICS,
    R_DID,
    R_CHECKPOINT,
    R_TILE,
    R_STATUS,
    R_ISSUE,
    R_VERIFY_VC,
    R_VERIFY_VP,
    R_CHALLENGES,
    R_OTHER,
    R_XAPI,
};

bool api_http_is_xapi(const char *path)
{
    return !strncmp(path, "/xapi/", 6) || !strcmp(path, "/xapi");
}

unsigned api_http_route_of(const char *path)
{
    if (!strcmp(path, "/healthz"))
        return R_HEALTHZ;
    if (!strcmp(path, "/metrics"))
        return R_METRICS;
    if (!strcmp(path, "/.well-known/did.json"))
        return R_DID;
    if (!strcmp(path, "/log/checkpoint"))
        return R_CHECKPOINT;
    if (!strncmp(path, "/log/tile/", 10))
        return R_TILE;
    if (!strncmp(path, "/status/", 8))
        return R_STATUS;
    if (!strcmp(path, "/credentials/issue"))
        return R_ISSUE;
    if (!strcmp(path, "/credentials/verify"))
        return R_VERIFY_VC;
    if (!strcmp(path, "/presentations/verify"))
        return R_VERIFY_VP;
    if (!strcmp(path, "/challenges"))
        return R_CHALLENGES;
    if (api_http_is_xapi(path))
        return R_XAPI;
    return R_OTHER;
}

static void body_json(struct api_job *job, int status, json_t *doc)
{
    job->http_status = status;
    job->out_ctype = "application/json";
    if (cred_json_write(doc, 0, &job->out, NULL) != VT_OK) {
        job->http_status = 500;
        job->out.len = API_OUT_PRE;
    }
    json_decref(doc);
}

static void body_error(struct api_job *job, int status, const char *msg)
{
    json_t *o = json_object();
    json_object_set_new(o, "error", json_string(msg));
    json_object_set_new(o, "status", json_integer(status));
    body_json(job, status, o);
}

static void body_status(struct api_job *job, const struct vt_error *err)
{
    body_error(job, api_status_http_code(err->status), err->msg);
}

static bool method_is(struct api_job *job, enum api_http_method want)
{
    if (job->method == want || (want == API_HTTP_GET && job->method == API_HTTP_HEAD))
        return true;
    body_error(job, 405, want == API_HTTP_POST ? "use POST" : "use GET");
    return false;
}

/* The JSON body of a POST, or an answer explaining why there is none. */
static json_t *post_body(struct api_server *s, struct api_job *job)
{
    if (strncmp(job->ctype, "application/json", 16) &&
        strncmp(job->ctype, "application/ld+json", 19)) {
        body_error(job, 415, "the body must be application/json");
        return NULL;
    }
    json_t *doc = NULL;
    struct vt_error err;
    if (vt_json_parse((const char *)job->in.data, job->in.len, s->cfg.max_message, s->cfg.max_depth,
                      &doc, &err) != VT_OK) {
        body_error(job, err.status == VT_ERR_TOO_LARGE ? 413 : 400, err.msg);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        body_error(job, 400, "the body must be a JSON object");
        return NULL;
    }
    return doc;
}

static void route_issue(struct api_server *s, struct api_job *job)
{
    json_t *doc = post_body(s, job);
    if (!doc)
        return;
    struct api_session sess;
    memset(&sess, 0, sizeof(sess));
    struct vt_error err;
    vt_error_clear(&err);
    if (!job->has_bearer || !api_store_token_check(s->store, job->bearer, &sess.who)) {
        json_decref(doc);
        body_error(job, 401, "a bearer token is required");
        return;
    }
    sess.authed = true;
    const struct api_method *m = api_method_find("credential.issue", NULL);
    json_t *res = NULL;
    enum vt_status rc = api_authz_check(s, m, &sess, doc, &err);
    const json_t *opts = json_object_get(doc, "options");
    if (rc == VT_OK && opts && !json_is_object(opts))
        rc = vt_error_set(&err, VT_ERR_INVALID, "options must be an object");
    if (rc == VT_OK)
        rc = api_issue_credential(s, json_object_get(doc, "credential"), opts, &res, &err);
    json_decref(doc);
    if (rc != VT_OK) {
        body_status(job, &err);
        return;
    }
    /* VC-API answers with the credential alone; the vitae extras ride along. */
    body_json(job, 201, res);
}

static void route_verify(struct api_server *s, struct api_job *job, bool presentation)
{
    json_t *doc = post_body(s, job);
    if (!doc)
        return;
    const char *key = presentation ? "verifiablePresentation" : "verifiableCredential";
    json_t *target = json_object_get(doc, key);
    json_t *opts = json_object_get(doc, "options");
    const char *challenge = vt_json_get_str(opts, "challenge");
    const char *domain = vt_json_get_str(opts, "domain");
    struct vt_error err;
    json_t *res = NULL;
    if (!target) {
        json_decref(doc);
        char msg[80];
        snprintf(msg, sizeof(msg), "the body needs '%s'", key);
        body_error(job, 400, msg);
        return;
    }
    if (api_verify_document(s, target, presentation ? challenge : NULL,
                            presentation ? domain : NULL, &res, &err) != VT_OK) {
        json_decref(doc);
        body_status(job, &err);
        return;
    }
    if (presentation && challenge &&
        !api_challenge_take(s->challenges, challenge, vt_time_now_ms())) {
        json_t *errors = json_object_get(res, "errors");
        json_t *e = json_object();
        json_object_set_new(e, "type", json_string(cred_problem_type(CRED_P_CHALLENGE)));
        json_object_set_new(e, "title", json_string("unknown challenge"));
        json_object_set_new(e, "detail",
                            json_string("the challenge was not issued here, was "
                                        "used already, or expired"));
        if (json_is_array(errors))
            json_array_append_new(errors, e);
        else
            json_decref(e);
        json_object_set_new(res, "verified", json_false());
    }
    json_decref(doc);
    body_json(job, json_is_true(json_object_get(res, "verified")) ? 200 : 400, res);
}

static void route_tile(struct api_server *s, struct api_job *job)
{
    unsigned level, width;
    uint64_t n;
    struct vt_error err;
    const char *rest = job->path + strlen("/log/tile/");
    if (ledger_tile_path_parse(rest, &level, &n, &width, &err) != VT_OK) {
        body_error(job, 404, err.msg);
        return;
    }
    if (ledger_tile(s->ledger, level, n, width, &job->out, &err) != VT_OK) {
        body_status(job, &err);
        return;
    }
    job->http_status = 200;
    job->out_ctype = "application/octet-stream";
}

void api_http_run(struct api_server *s, struct api_job *job)
{
    int64_t t0 = api_mono_ns();
    static const uint8_t pre[API_OUT_PRE];
    vt_buf_reset(&job->out);
    (void)vt_buf_append(&job->out, pre, sizeof(pre), NULL);
    unsigned route = api_http_route_of(job->path);
    struct vt_error err;
    vt_error_clear(&err);

    if (route == R_XAPI) {
        /* The LRS answers every request itself, refusals included (version header). */
        api_xapi_http_run(s, job);
    } else if (job->refuse) {
        body_error(job, 503, "the server is shutting down");
    } else if (route == R_OTHER) {
        body_error(job, 404, "not found");
    } else if (route == R_STATUS) {
        if (method_is(job, API_HTTP_GET)) {
            if (api_status_list_text(s, job->path + strlen("/status/"), &job->out, &err) == VT_OK) {
                job->http_status = 200;
                job->out_ctype = "application/vc+ld+json";
            } else {
                job->out.len = API_OUT_PRE;
                body_status(job, &err);
            }
        }
    } else if (route == R_HEALTHZ) {
        if (method_is(job, API_HTTP_GET)) {
            json_t *o = json_object();
            json_object_set_new(o, "status", json_string("ok"));
            json_object_set_new(o, "version", json_string(API_VERSION_STRING));
            json_object_set_new(o, "ledger_events",
                                json_integer((json_int_t)ledger_size(s->ledger)));
            body_json(job, 200, o);
        }
    } else if (route == R_METRICS) {
        if (method_is(job, API_HTTP_GET)) {
            if (api_metrics_write(s->metrics, s, &job->out, &err) == VT_OK) {
                job->http_status = 200;
                job->out_ctype = "text/plain; version=0.0.4; charset=utf-8";
            } else {
                job->out.len = API_OUT_PRE;
                body_status(job, &err);
            }
        }
    } else if (route == R_DID) {
        if (method_is(job, API_HTTP_GET))
            body_json(job, 200, json_incref(s->did_doc));
    } else if (route == R_CHECKPOINT) {
        if (method_is(job, API_HTTP_GET)) {
            if (ledger_checkpoint_latest(s->ledger, &job->out, NULL, &err) == VT_OK) {
                job->http_status = 200;
                job->out_ctype = "text/plain; charset=utf-8";
            } else {
                job->out.len = API_OUT_PRE;
                body_status(job, &err);
            }
        }
    } else if (route == R_TILE) {
        if (method_is(job, API_HTTP_GET))
            route_tile(s, job);
    } else if (route == R_CHALLENGES) {
        if (method_is(job, API_HTTP_POST)) {
            char ch[40];
            if (api_challenge_new(s->challenges, ch, vt_time_now_ms(), &err) == VT_OK) {
                json_t *o = json_object();
                json_object_set_new(o, "challenge", json_string(ch));
                body_json(job, 200, o);
            } else {
                body_status(job, &err);
            }
        }
    } else if (route == R_ISSUE) {
        if (method_is(job, API_HTTP_POST))
            route_issue(s, job);
    } else if (route == R_VERIFY_VC || route == R_VERIFY_VP) {
        if (method_is(job, API_HTTP_POST))
            route_verify(s, job, route == R_VERIFY_VP);
    }
    int64_t dt = api_mono_ns() - t0;
    api_metrics_http(s->metrics, route, job->http_status, dt);
    API_LOG(job->http_status >= 500 ? API_LOG_WARN : API_LOG_DEBUG, "http",
            "conn=%llu req=%llu route=%s status=%d bytes=%zu us=%lld",
            (unsigned long long)job->conn_id, (unsigned long long)job->id,
            api_http_route_name(route), job->http_status, job->out.len - API_OUT_PRE,
            (long long)(dt / 1000));
}
