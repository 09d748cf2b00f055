/*
 * The xAPI LRS over HTTP (xAPI Communication, Part Three; specs/xapi.md §8): the
 * Statement, State, Activity Profile, Agent Profile, Activities, Agents and About
 * resources under /xapi/. Runs on a worker: the service thread has copied the headers and
 * the query arguments into job->x and capped and buffered the body.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "api/api_int.h"
#include "api/xapi.h"

#define ARGS_MAX 32
#define LANGS_MAX 8

/* Attachment payloads live in the document store under an activity id that the document
 * resources refuse, keyed by their SHA-2 digest (specs/xapi.md §8). */
#define ATTACHMENT_SPACE "urn:vitae:xapi:attachments"

struct req {
    struct api_server *s;
    struct api_job *job;
    enum xapi_version v;
    struct api_principal who;
    unsigned n_args;
    const char *name[ARGS_MAX];
    const char *val[ARGS_MAX];
};

/* ---------------------------------------------------------------------------------------
 * Answers
 */

static int out_cb(const char *buf, size_t n, void *data)
{
    return vt_buf_append(data, buf, n, NULL) == VT_OK ? 0 : -1;
}

static void reset_body(struct req *r)
{
    r->job->out.len = API_OUT_PRE;
}

static void answer_json(struct req *r, int status, json_t *doc)
{
    struct api_job *job = r->job;
    reset_body(r);
    job->http_status = status;
    job->out_ctype = "application/json";
    if (json_dump_callback(doc, out_cb, &job->out, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
        reset_body(r);
        job->http_status = 500;
        (void)vt_buf_append_str(&job->out,
                                "{\"error\":\"the answer is over the output cap; lower limit "
                                "(xapi.output-cap)\",\"rule\":\"xapi.output-cap\",\"status\":500}",
                                NULL);
    }
    json_decref(doc);
}

static void answer_empty(struct req *r, int status)
{
    reset_body(r);
    r->job->http_status = status;
    r->job->out_ctype = "application/json";
}

/* Every refusal names the rule it enforces, in the message and on its own. */
static void VT_PRINTF(4, 5) fail(struct req *r, int status, const char *rule, const char *fmt, ...)
{
    char msg[VT_ERROR_MSG_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *o = json_object();
    char full[sizeof(msg) + XAPI_RULE_MAX + 4];
    snprintf(full, sizeof(full), "%s (%s)", msg, rule);
    json_object_set_new(o, "error", json_string(full));
    json_object_set_new(o, "rule", json_string(rule));
    json_object_set_new(o, "status", json_integer(status));
    answer_json(r, status, o);
}

static void fail_problem(struct req *r, const struct xapi_problem *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "error", json_string(p->msg));
    json_object_set_new(o, "rule", json_string(p->rule));
    if (p->path[0])
        json_object_set_new(o, "path", json_string(p->path));
    json_object_set_new(o, "status", json_integer(400));
    answer_json(r, 400, o);
}

/* Store statuses: the rule says which part of the store refused. */
static void fail_status(struct req *r, const struct vt_error *err, const char *rule)
{
    int code = api_status_http_code(err->status);
    if (xapi_error_is_precondition(err))
        code = 412, rule = "document.precondition";
    else if (err->status == VT_ERR_EXISTS)
        rule = "document.concurrency";
    else if (err->status == VT_ERR_TOO_LARGE)
        rule = "xapi.size-cap";
    fail(r, code, rule, "%s", err->msg);
}

static void header(struct req *r, const char *name, const char *value)
{
    api_xreq_header(&r->job->x, name, value);
}

/* ---------------------------------------------------------------------------------------
 * Query arguments
 */

/* Splits the arguments and checks them against the names this resource and method take:
 * unknown names, names in another case and repeated names are refused. */
static bool args_parse(struct req *r, const char *const *allowed)
{
    struct api_http_xreq *x = &r->job->x;
    if (x->args_overflow || x->n_args > ARGS_MAX) {
        fail(r, 400, "xapi.parameters", "too many or too long query parameters");
        return false;
    }
    char *p = x->args;
    for (unsigned i = 0; i < x->n_args; i++) {
        char *eq = strchr(p, '=');
        size_t len = strlen(p);
        r->name[i] = p;
        r->val[i] = eq ? eq + 1 : p + len;
        if (eq)
            *eq = '\0';
        p += len + 1;
    }
    r->n_args = x->n_args;
    for (unsigned i = 0; i < r->n_args; i++) {
        const char *n = r->name[i];
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
            known = !strcmp(*a, n);
        if (!known) {
            for (const char *const *a = allowed; *a; a++) {
                if (!strcasecmp(*a, n)) {
                    fail(r, 400, "xapi.parameter-case", "parameter '%.64s' must be written '%s'", n,
                         *a);
                    return false;
                }
            }
            fail(r, 400, "xapi.parameter-unknown", "unknown parameter '%.64s' for this request", n);
            return false;
        }
        for (unsigned k = 0; k < i; k++) {
            if (!strcmp(r->name[k], n)) {
                fail(r, 400, "xapi.parameter-repeated", "parameter '%.64s' is repeated", n);
                return false;
            }
        }
    }
    return true;
}

static const char *arg(const struct req *r, const char *name)
{
    for (unsigned i = 0; i < r->n_args; i++) {
        if (!strcmp(r->name[i], name))
            return r->val[i];
    }
    return NULL;
}

static bool arg_bool(struct req *r, const char *name, bool *out)
{
    const char *v = arg(r, name);
    *out = false;
    if (!v)
        return true;
    if (!strcmp(v, "true") || !strcmp(v, "false")) {
        *out = v[0] == 't';
        return true;
    }
    fail(r, 400, "xapi.parameter-boolean", "parameter '%s' must be true or false", name);
    return false;
}

static bool arg_time(struct req *r, const char *name, bool *has, int64_t *ms)
{
    const char *v = arg(r, name);
    *has = v != NULL;
    if (v && !xapi_timestamp_parse(v, ms)) {
        fail(r, 400, "xapi.parameter-timestamp", "parameter '%s' is not an ISO 8601 timestamp",
             name);
        return false;
    }
    return true;
}

static bool arg_iri(struct req *r, const char *name, bool required, const char **out)
{
    *out = arg(r, name);
    if (!*out && required) {
        fail(r, 400, "xapi.parameter-required", "parameter '%s' is required", name);
        return false;
    }
    if (*out && !xapi_is_iri(*out)) {
        fail(r, 400, "xapi.parameter-iri", "parameter '%s' is not an absolute IRI", name);
        return false;
    }
    return true;
}

/* The agent parameter: JSON of an Agent or Group, reduced to its identity. */
static bool arg_agent(struct req *r, bool required, char key[XAPI_AGENT_KEY_MAX], json_t **agent)
{
    const char *v = arg(r, "agent");
    if (agent)
        *agent = NULL;
    if (!v) {
        if (required)
            fail(r, 400, "xapi.parameter-required", "parameter 'agent' is required");
        return !required;
    }
    json_t *a = NULL;
    struct xapi_problem p;
    if (vt_json_parse(v, strlen(v), API_ARGS_MAX, 16, &a, NULL) != VT_OK || !json_is_object(a)) {
        json_decref(a);
        fail(r, 400, "xapi.parameter-agent", "parameter 'agent' is not a JSON object");
        return false;
    }
    if (xapi_agent_validate(a, r->v, &p) != VT_OK) {
        json_decref(a);
        fail_problem(r, &p);
        return false;
    }
    struct vt_error err;
    if (xapi_agent_key(a, key, &err) != VT_OK) {
        json_decref(a);
        fail(r, 400, "xapi.parameter-agent", "parameter 'agent': %s", err.msg);
        return false;
    }
    if (agent)
        *agent = a;
    else
        json_decref(a);
    return true;
}

/* ---------------------------------------------------------------------------------------
 * Authentication
 */

static bool basic_split(char *plain, size_t n, const char **user, const char **pass)
{
    char *colon = memchr(plain, ':', n);
    if (!colon || memchr(plain, '\0', n))
        return false;
    *colon = '\0';
    plain[n] = '\0';
    *user = plain;
    *pass = colon + 1;
    return true;
}

static bool authenticate(struct req *r)
{
    struct api_job *job = r->job;
    bool ok = false;
    if (job->has_bearer) {
        ok = api_store_token_check(r->s->store, job->bearer, &r->who);
    } else if (job->x.has_basic) {
        struct vt_buf b;
        vt_buf_init(&b, API_BASIC_USER_MAX + API_BASIC_PASS_MAX + 2);
        const char *user, *pass;
        if (vt_base64_decode(job->x.basic, strlen(job->x.basic), &b, NULL) == VT_OK &&
            vt_buf_append(&b, "", 1, NULL) == VT_OK &&
            basic_split((char *)b.data, b.len - 1, &user, &pass))
            ok = api_store_basic_check(r->s->store, user, pass, &r->who);
        vt_buf_release_secret(&b);
    }
    sodium_memzero(job->x.basic, sizeof(job->x.basic));
    if (!ok) {
        header(r, "www-authenticate", "Basic realm=\"xapi\"");
        fail(r, 401, "xapi.authentication",
             "HTTP Basic credentials or a bearer token of an xAPI client are required");
        return false;
    }
    if (!(r->who.roles & (API_ROLE_SOURCE | API_ROLE_ADMIN))) {
        fail(r, 403, "xapi.authorization", "the principal is not a data source");
        return false;
    }
    return true;
}

/* The Agent the LRS puts in authority: the authenticated principal, as an account of the
 * service's did:key (stable across restarts). */
static json_t *authority_of(const struct req *r)
{
    return json_pack("{s:s,s:s,s:{s:s,s:s}}", "objectType", "Agent", "name", r->who.name, "account",
                     "homePage", r->s->did_key, "name", r->who.did);
}

/* ---------------------------------------------------------------------------------------
 * Statements
 */

static bool ctype_is(const char *ctype, const char *want)
{
    size_t n = strlen(want);
    return !strncasecmp(ctype, want, n) && (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

/* Every attachment of a JSON (not multipart) request must point to its data. */
static bool attachments_have_urls(struct req *r, const json_t *stmt)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(stmt, "attachments"), i, a)
    {
        if (!vt_json_get_str(a, "fileUrl")) {
            fail(r, 400, "attachment.part-missing",
                 "attachment %zu has no fileUrl and the request is not multipart/mixed", i);
            return false;
        }
    }
    return true;
}

static bool store_attachments(struct req *r, const struct xapi_multipart *mp)
{
    for (size_t i = 1; i < mp->n; i++) {
        const struct xapi_part *pt = &mp->parts[i];
        struct xapi_doc_ref ref = {XAPI_DOC_ACTIVITY_PROFILE, ATTACHMENT_SPACE, NULL, NULL,
                                   pt->hash};
        struct xapi_precond pc = {NULL, NULL};
        struct vt_error err;
        if (xapi_doc_put(r->s->xapi, &ref, pt->body, pt->len,
                         pt->content_type[0] ? pt->content_type : "application/octet-stream", false,
                         &pc, false, NULL, &err) != VT_OK) {
            fail_status(r, &err, "attachment.store");
            return false;
        }
    }
    return true;
}

/* The statements of a PUT or POST body (a new reference: object or array), or NULL after
 * answering. Attachment payloads are stored on the way. */
static json_t *statement_body(struct req *r)
{
    struct api_job *job = r->job;
    const char *ct = job->ctype;
    json_t *doc = NULL;
    if (ctype_is(ct, "application/json")) {
        struct vt_error err;
        if (vt_json_parse((const char *)job->in.data, job->in.len, r->s->cfg.max_message,
                          r->s->cfg.max_depth, &doc, &err) != VT_OK) {
            fail(r, err.status == VT_ERR_TOO_LARGE ? 413 : 400, "xapi.json", "%s", err.msg);
            return NULL;
        }
        if (!json_is_object(doc) && !json_is_array(doc)) {
            json_decref(doc);
            fail(r, 400, "type.object", "the body must be a statement or an array of them");
            return NULL;
        }
        return doc;
    }
    if (!ctype_is(ct, "multipart/mixed")) {
        fail(r, 400, "xapi.content-type",
             "statements are sent as application/json or multipart/mixed, not '%.64s'", ct);
        return NULL;
    }
    char boundary[XAPI_BOUNDARY_MAX + 1];
    struct vt_error err;
    struct xapi_problem p;
    if (xapi_multipart_boundary(ct, boundary, &err) != VT_OK) {
        fail(r, 400, "multipart.boundary", "%s", err.msg);
        return NULL;
    }
    struct xapi_multipart *mp = vt_calloc(1, sizeof(*mp));
    if (xapi_multipart_parse(job->in.data, job->in.len, boundary, mp, &err) != VT_OK) {
        fail(r, err.status == VT_ERR_TOO_LARGE ? 413 : 400, "multipart.syntax", "%s", err.msg);
    } else if (xapi_multipart_statements(mp, r->s->cfg.max_depth, &doc, &p) != VT_OK) {
        fail_problem(r, &p);
        doc = NULL;
    }
    free(mp);
    return doc;
}

static bool validate_all(struct req *r, json_t *const *v, size_t n)
{
    struct xapi_problem p;
    for (size_t i = 0; i < n; i++) {
        if (xapi_statement_validate(v[i], r->v, &p) != VT_OK) {
            if (n > 1) {
                char msg[sizeof(p.msg)];
                snprintf(msg, sizeof(msg), "statement %zu: ", i);
                xapi_strlcat(msg, sizeof(msg), p.msg);
                xapi_strlcpy(p.msg, sizeof(p.msg), msg);
            }
            fail_problem(r, &p);
            return false;
        }
    }
    return true;
}

/* Validates, stores the attachments, then the statements; answers refusals. */
static bool statements_store(struct req *r, json_t *const *v, size_t n, bool multipart,
                             char (*ids)[XAPI_UUID_LEN + 1], size_t *existing)
{
    if (!validate_all(r, v, n))
        return false;
    for (size_t i = 0; i < n && !multipart; i++) {
        if (!attachments_have_urls(r, v[i]))
            return false;
    }
    if (multipart) {
        /* Parsed a second time here rather than kept: the parts point into job->in. */
        char boundary[XAPI_BOUNDARY_MAX + 1];
        struct xapi_multipart *mp = vt_calloc(1, sizeof(*mp));
        bool ok =
            xapi_multipart_boundary(r->job->ctype, boundary, NULL) == VT_OK &&
            xapi_multipart_parse(r->job->in.data, r->job->in.len, boundary, mp, NULL) == VT_OK &&
            store_attachments(r, mp);
        free(mp);
        if (!ok)
            return false;
    }
    json_t *auth = authority_of(r);
    struct vt_error err;
    enum vt_status st = xapi_store_put(r->s->xapi, v, n, auth, r->v, ids, existing, &err);
    json_decref(auth);
    if (st != VT_OK) {
        const char *rule = st == VT_ERR_CONFLICT  ? "statement.id-conflict"
                           : st == VT_ERR_INVALID ? "batch.duplicate-id"
                                                  : "statement.store";
        fail_status(r, &err, rule);
        return false;
    }
    return true;
}

static void statements_put(struct req *r)
{
    static const char *const allowed[] = {"statementId", NULL};
    if (!args_parse(r, allowed))
        return;
    const char *id = arg(r, "statementId");
    if (!id) {
        fail(r, 400, "xapi.parameter-required", "PUT needs the parameter 'statementId'");
        return;
    }
    if (!xapi_is_uuid(id)) {
        fail(r, 400, "uuid.form", "statementId is not a UUID");
        return;
    }
    json_t *doc = statement_body(r);
    if (!doc)
        return;
    if (!json_is_object(doc)) {
        json_decref(doc);
        fail(r, 400, "type.object", "PUT takes one statement");
        return;
    }
    char want[XAPI_UUID_LEN + 1];
    xapi_uuid_lower(id, want);
    const char *have = vt_json_get_str(doc, "id");
    if (have) {
        char low[XAPI_UUID_LEN + 1];
        if (!xapi_is_uuid(have)) {
            json_decref(doc);
            fail(r, 400, "uuid.form", "the statement id is not a UUID");
            return;
        }
        xapi_uuid_lower(have, low);
        if (strcmp(low, want)) {
            json_decref(doc);
            fail(r, 400, "statement.id-mismatch",
                 "the statement id differs from the statementId parameter");
            return;
        }
    } else {
        json_object_set_new(doc, "id", json_string(want));
    }
    char ids[1][XAPI_UUID_LEN + 1];
    if (statements_store(r, &doc, 1, ctype_is(r->job->ctype, "multipart/mixed"), ids, NULL))
        answer_empty(r, 204);
    json_decref(doc);
}

static void statements_post(struct req *r)
{
    static const char *const allowed[] = {NULL};
    if (!args_parse(r, allowed))
        return;
    json_t *doc = statement_body(r);
    if (!doc)
        return;
    size_t n = json_is_array(doc) ? json_array_size(doc) : 1;
    if (n > XAPI_BATCH_MAX) {
        json_decref(doc);
        fail(r, 413, "xapi.size-cap", "more than %d statements in one request", XAPI_BATCH_MAX);
        return;
    }
    json_t **v = vt_calloc(n ? n : 1, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        v[i] = json_is_array(doc) ? json_array_get(doc, i) : doc;
        if (!json_is_object(v[i])) {
            fail(r, 400, "type.object", "statement %zu is not a JSON object", i);
            goto out;
        }
    }
    char(*ids)[XAPI_UUID_LEN + 1] = vt_calloc(n ? n : 1, sizeof(*ids));
    if (n == 0 ||
        statements_store(r, v, n, ctype_is(r->job->ctype, "multipart/mixed"), ids, NULL)) {
        json_t *out = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(out, json_string(ids[i]));
        answer_json(r, 200, out);
    }
    free(ids);
out:
    free(v);
    json_decref(doc);
}

/* Accept-Language as a preference list of tags, quality values ignored beyond order. */
static size_t parse_langs(char *hdr, const char *langs[LANGS_MAX + 1])
{
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(hdr, ",", &save); t && n < LANGS_MAX; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        char *semi = strchr(t, ';');
        if (semi)
            *semi = '\0';
        size_t l = strlen(t);
        while (l > 0 && t[l - 1] == ' ')
            t[--l] = '\0';
        if (l > 0 && strcmp(t, "*"))
            langs[n++] = t;
    }
    langs[n] = NULL;
    return n;
}

static json_t *format_one(struct req *r, const json_t *stmt, enum xapi_format f,
                          const char *const *langs)
{
    if (f == XAPI_FORMAT_EXACT)
        return json_incref((json_t *)stmt);
    struct xapi_activity_source src = {xapi_store_activity, r->s->xapi};
    return xapi_statement_format(stmt, f, &src, langs);
}

/* The attachment digests of the statements whose payloads this LRS holds. */
static void collect_hashes(const json_t *stmt, json_t *seen)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(stmt, "attachments"), i, a)
    {
        const char *sha2 = vt_json_get_str(a, "sha2");
        if (sha2 && strlen(sha2) < 129) {
            char low[129];
            size_t k = 0;
            for (; sha2[k]; k++)
                low[k] = (char)((sha2[k] >= 'A' && sha2[k] <= 'F') ? sha2[k] + 32 : sha2[k]);
            low[k] = '\0';
            json_object_set_new(seen, low, json_true());
        }
    }
}

/* attachments=true: multipart/mixed with the JSON first, then one part per payload. */
static void answer_multipart(struct req *r, json_t *doc, const json_t *stmts)
{
    struct api_job *job = r->job;
    json_t *seen = json_object();
    size_t i;
    json_t *s;
    json_array_foreach(stmts, i, s) collect_hashes(s, seen);
    uint8_t rnd[12];
    vt_random_bytes(rnd, sizeof(rnd));
    char boundary[40] = "vitae-";
    for (size_t k = 0; k < sizeof(rnd); k++)
        snprintf(boundary + 6 + 2 * k, 3, "%02x", rnd[k]);
    reset_body(r);
    bool ok = vt_buf_printf(&job->out, NULL, "--%s\r\nContent-Type: application/json\r\n\r\n",
                            boundary) == VT_OK &&
              json_dump_callback(doc, out_cb, &job->out, JSON_COMPACT) == 0;
    const char *hash;
    json_t *unused;
    json_object_foreach(seen, hash, unused)
    {
        struct xapi_doc_ref ref = {XAPI_DOC_ACTIVITY_PROFILE, ATTACHMENT_SPACE, NULL, NULL, hash};
        struct xapi_doc d;
        xapi_doc_init(&d);
        if (ok && xapi_doc_get(r->s->xapi, &ref, &d, NULL) == VT_OK) {
            ok = vt_buf_printf(&job->out, NULL,
                               "\r\n--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: "
                               "binary\r\nX-Experience-API-Hash: %s\r\n\r\n",
                               boundary, d.content_type, hash) == VT_OK &&
                 vt_buf_append(&job->out, d.content.data, d.content.len, NULL) == VT_OK;
        }
        xapi_doc_release(&d);
    }
    ok = ok && vt_buf_printf(&job->out, NULL, "\r\n--%s--\r\n", boundary) == VT_OK;
    json_decref(seen);
    json_decref(doc);
    if (!ok) {
        fail(r, 500, "xapi.output-cap", "the answer is over the output cap; lower limit");
        return;
    }
    job->http_status = 200;
    snprintf(job->x.out_ctype, sizeof(job->x.out_ctype), "multipart/mixed; boundary=%s", boundary);
    job->out_ctype = job->x.out_ctype;
}

static void answer_statements(struct req *r, json_t *result, const json_t *stmts, bool attachments)
{
    if (attachments)
        answer_multipart(r, result, stmts);
    else
        answer_json(r, 200, result);
}

static bool get_format(struct req *r, enum xapi_format *f, bool *attachments)
{
    const char *fs = arg(r, "format");
    *f = XAPI_FORMAT_EXACT;
    if (fs && !xapi_format_parse(fs, f)) {
        fail(r, 400, "xapi.parameter-format", "format must be exact, ids or canonical");
        return false;
    }
    return arg_bool(r, "attachments", attachments);
}

static void statements_get_one(struct req *r, enum xapi_format f, bool attachments,
                               const char *const *langs)
{
    const char *id = arg(r, "statementId");
    const char *vid = arg(r, "voidedStatementId");
    if (id && vid) {
        fail(r, 400, "xapi.parameter-combination",
             "statementId and voidedStatementId exclude each other");
        return;
    }
    for (unsigned i = 0; i < r->n_args; i++) {
        const char *n = r->name[i];
        if (strcmp(n, "statementId") && strcmp(n, "voidedStatementId") && strcmp(n, "format") &&
            strcmp(n, "attachments")) {
            fail(r, 400, "xapi.parameter-combination",
                 "'%.64s' cannot be combined with statementId or voidedStatementId", n);
            return;
        }
    }
    const char *want = id ? id : vid;
    if (!xapi_is_uuid(want)) {
        fail(r, 400, "uuid.form", "%s is not a UUID", id ? "statementId" : "voidedStatementId");
        return;
    }
    json_t *stmt = NULL;
    struct vt_error err;
    if (xapi_store_get(r->s->xapi, want, vid != NULL, &stmt, &err) != VT_OK) {
        fail_status(r, &err, "statement.not-found");
        return;
    }
    json_t *out = format_one(r, stmt, f, langs);
    json_t *list = json_pack("[O]", stmt);
    json_decref(stmt);
    answer_statements(r, out, list, attachments);
    json_decref(list);
}

static void statements_query(struct req *r, enum xapi_format f, bool attachments,
                             const char *const *langs)
{
    struct xapi_query q;
    memset(&q, 0, sizeof(q));
    char key[XAPI_AGENT_KEY_MAX];
    const char *more_in = arg(r, "more");
    json_t *list = NULL;
    char more[XAPI_MORE_MAX];
    struct vt_error err;
    enum vt_status st;
    if (more_in) {
        for (unsigned i = 0; i < r->n_args; i++) {
            const char *n = r->name[i];
            if (strcmp(n, "more") && strcmp(n, "format") && strcmp(n, "attachments")) {
                fail(r, 400, "xapi.parameter-combination", "'%.64s' cannot be combined with more",
                     n);
                return;
            }
        }
        st = xapi_store_query_more(r->s->xapi, more_in, &list, more, &err);
    } else {
        bool has_agent = arg(r, "agent") != NULL;
        if (!arg_agent(r, false, key, NULL) || !arg_iri(r, "verb", false, &q.verb) ||
            !arg_iri(r, "activity", false, &q.activity) ||
            !arg_bool(r, "related_activities", &q.related_activities) ||
            !arg_bool(r, "related_agents", &q.related_agents) ||
            !arg_bool(r, "ascending", &q.ascending) ||
            !arg_time(r, "since", &q.has_since, &q.since_ms) ||
            !arg_time(r, "until", &q.has_until, &q.until_ms))
            return;
        q.agent_key = has_agent ? key : NULL;
        q.registration = arg(r, "registration");
        if (q.registration && !xapi_is_uuid(q.registration)) {
            fail(r, 400, "uuid.form", "registration is not a UUID");
            return;
        }
        const char *limit = arg(r, "limit");
        if (limit) {
            char *end;
            unsigned long long l = strtoull(limit, &end, 10);
            if (!*limit || *end || *limit == '-' || *limit == '+' || l > 1000000000ull) {
                fail(r, 400, "xapi.parameter-limit", "limit must be a non-negative integer");
                return;
            }
            q.limit = (size_t)l;
        }
        st = xapi_store_query(r->s->xapi, &q, &list, more, &err);
    }
    if (st != VT_OK) {
        fail_status(r, &err, "xapi.query");
        return;
    }
    json_t *out = json_array();
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s) json_array_append_new(out, format_one(r, s, f, langs));
    json_t *result = json_object();
    json_object_set_new(result, "statements", out);
    char url[XAPI_MORE_MAX + 96] = "";
    if (more[0]) {
        snprintf(url, sizeof(url), "/xapi/statements?more=%s%s%s%s", more,
                 f == XAPI_FORMAT_IDS         ? "&format=ids"
                 : f == XAPI_FORMAT_CANONICAL ? "&format=canonical"
                                              : "",
                 attachments ? "&attachments=true" : "", "");
    }
    json_object_set_new(result, "more", json_string(url));
    answer_statements(r, result, list, attachments);
    json_decref(list);
}

static void statements_get(struct req *r)
{
    static const char *const allowed[] = {
        "statementId",        "voidedStatementId", "agent", "verb",  "activity", "registration",
        "related_activities", "related_agents",    "since", "until", "limit",    "format",
        "attachments",        "ascending",         "more",  NULL};
    char ts[XAPI_TIME_MAX];
    xapi_timestamp_format(xapi_store_consistent_through(r->s->xapi), ts);
    header(r, "x-experience-api-consistent-through", ts);
    if (!args_parse(r, allowed))
        return;
    enum xapi_format f;
    bool attachments;
    if (!get_format(r, &f, &attachments))
        return;
    char al[sizeof(r->job->x.accept_language)];
    snprintf(al, sizeof(al), "%s", r->job->x.accept_language);
    const char *langs[LANGS_MAX + 1];
    parse_langs(al, langs);
    if (arg(r, "statementId") || arg(r, "voidedStatementId"))
        statements_get_one(r, f, attachments, langs);
    else
        statements_query(r, f, attachments, langs);
}

/* ---------------------------------------------------------------------------------------
 * Documents
 */

struct docreq {
    struct xapi_doc_ref ref;
    char agent_key[XAPI_AGENT_KEY_MAX];
    char registration[XAPI_UUID_LEN + 1];
    bool has_since;
    int64_t since_ms;
};

/* The identifiers of a document request; answers and returns false when one is wrong. */
static bool doc_ref(struct req *r, enum xapi_doc_kind kind, struct docreq *d)
{
    memset(d, 0, sizeof(*d));
    d->ref.kind = kind;
    bool need_activity = kind != XAPI_DOC_AGENT_PROFILE;
    bool need_agent = kind != XAPI_DOC_ACTIVITY_PROFILE;
    if (need_activity) {
        if (!arg_iri(r, "activityId", true, &d->ref.activity_id))
            return false;
        if (!strcmp(d->ref.activity_id, ATTACHMENT_SPACE)) {
            fail(r, 400, "document.reserved", "activityId '%s' is reserved", ATTACHMENT_SPACE);
            return false;
        }
    }
    if (need_agent) {
        if (!arg_agent(r, true, d->agent_key, NULL))
            return false;
        d->ref.agent_key = d->agent_key;
    }
    const char *reg = arg(r, "registration");
    if (reg) {
        if (!xapi_is_uuid(reg)) {
            fail(r, 400, "uuid.form", "registration is not a UUID");
            return false;
        }
        xapi_uuid_lower(reg, d->registration);
        d->ref.registration = d->registration;
    }
    d->ref.doc_id = arg(r, kind == XAPI_DOC_STATE ? "stateId" : "profileId");
    if (!arg_time(r, "since", &d->has_since, &d->since_ms))
        return false;
    if (d->has_since && d->ref.doc_id) {
        fail(r, 400, "xapi.parameter-combination", "since lists documents: it takes no %s",
             kind == XAPI_DOC_STATE ? "stateId" : "profileId");
        return false;
    }
    return true;
}

static void http_date(int64_t ms, char out[64])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 64, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void doc_get(struct req *r, struct docreq *d)
{
    struct vt_error err;
    if (!d->ref.doc_id) {
        json_t *ids = NULL;
        if (xapi_doc_ids(r->s->xapi, &d->ref, d->has_since, d->since_ms, &ids, &err) != VT_OK) {
            fail_status(r, &err, "document.list");
            return;
        }
        answer_json(r, 200, ids);
        return;
    }
    struct xapi_doc doc;
    xapi_doc_init(&doc);
    if (xapi_doc_get(r->s->xapi, &d->ref, &doc, &err) != VT_OK) {
        xapi_doc_release(&doc);
        fail_status(r, &err, "document.not-found");
        return;
    }
    reset_body(r);
    if (vt_buf_append(&r->job->out, doc.content.data, doc.content.len, NULL) != VT_OK) {
        xapi_doc_release(&doc);
        fail(r, 500, "xapi.output-cap", "the document is over the output cap");
        return;
    }
    char date[64];
    http_date(doc.updated_ms, date);
    header(r, "etag", doc.etag);
    header(r, "last-modified", date);
    snprintf(r->job->x.out_ctype, sizeof(r->job->x.out_ctype), "%s", doc.content_type);
    r->job->out_ctype = r->job->x.out_ctype;
    r->job->http_status = 200;
    xapi_doc_release(&doc);
}

static void doc_write(struct req *r, struct docreq *d, bool merge)
{
    const char *what = d->ref.kind == XAPI_DOC_STATE ? "stateId" : "profileId";
    if (!d->ref.doc_id) {
        fail(r, 400, "xapi.parameter-required", "parameter '%s' is required", what);
        return;
    }
    struct api_http_xreq *x = &r->job->x;
    struct xapi_precond pc = {x->has_if_match ? x->if_match : NULL,
                              x->has_if_none_match ? x->if_none_match : NULL};
    char etag[XAPI_ETAG_MAX];
    struct vt_error err;
    const char *ct = r->job->ctype[0] ? r->job->ctype : "application/octet-stream";
    /* State documents predate the concurrency rules; profiles need a precondition. */
    bool require = d->ref.kind != XAPI_DOC_STATE && !merge;
    if (xapi_doc_put(r->s->xapi, &d->ref, r->job->in.data, r->job->in.len, ct, merge, &pc, require,
                     etag, &err) != VT_OK) {
        fail_status(r, &err, merge ? "document.merge" : "document.write");
        return;
    }
    header(r, "etag", etag);
    answer_empty(r, 204);
}

static void doc_delete(struct req *r, struct docreq *d)
{
    if (!d->ref.doc_id && d->ref.kind != XAPI_DOC_STATE) {
        fail(r, 400, "xapi.parameter-required", "parameter 'profileId' is required");
        return;
    }
    struct api_http_xreq *x = &r->job->x;
    struct xapi_precond pc = {x->has_if_match ? x->if_match : NULL,
                              x->has_if_none_match ? x->if_none_match : NULL};
    struct vt_error err;
    if (xapi_doc_delete(r->s->xapi, &d->ref, &pc, &err) != VT_OK) {
        fail_status(r, &err, "document.delete");
        return;
    }
    answer_empty(r, 204);
}

static void documents(struct req *r, enum xapi_doc_kind kind)
{
    static const char *const state_get[] = {"activityId", "agent", "registration",
                                            "stateId",    "since", NULL};
    static const char *const state_set[] = {"activityId", "agent", "registration", "stateId", NULL};
    static const char *const ap_get[] = {"activityId", "profileId", "since", NULL};
    static const char *const ap_set[] = {"activityId", "profileId", NULL};
    static const char *const gp_get[] = {"agent", "profileId", "since", NULL};
    static const char *const gp_set[] = {"agent", "profileId", NULL};
    enum api_http_method m = r->job->method;
    bool get = m == API_HTTP_GET || m == API_HTTP_HEAD;
    const char *const *allowed = kind == XAPI_DOC_STATE              ? (get ? state_get : state_set)
                                 : kind == XAPI_DOC_ACTIVITY_PROFILE ? (get ? ap_get : ap_set)
                                                                     : (get ? gp_get : gp_set);
    if (m == API_HTTP_OTHER) {
        fail(r, 405, "xapi.method", "documents take GET, HEAD, PUT, POST and DELETE");
        return;
    }
    struct docreq d;
    if (!args_parse(r, allowed) || !doc_ref(r, kind, &d))
        return;
    if (get)
        doc_get(r, &d);
    else if (m == API_HTTP_PUT || m == API_HTTP_POST)
        doc_write(r, &d, m == API_HTTP_POST);
    else
        doc_delete(r, &d);
}

/* ---------------------------------------------------------------------------------------
 * Activities, Agents, About
 */

static bool only_get(struct req *r)
{
    if (r->job->method == API_HTTP_GET || r->job->method == API_HTTP_HEAD)
        return true;
    fail(r, 405, "xapi.method", "this resource takes GET and HEAD");
    return false;
}

static void activities(struct req *r)
{
    static const char *const allowed[] = {"activityId", NULL};
    const char *id;
    if (!only_get(r) || !args_parse(r, allowed) || !arg_iri(r, "activityId", true, &id))
        return;
    json_t *o = json_pack("{s:s,s:s}", "objectType", "Activity", "id", id);
    json_t *def = xapi_store_activity(r->s->xapi, id);
    if (def)
        json_object_set_new(o, "definition", def);
    answer_json(r, 200, o);
}

static void agents(struct req *r)
{
    static const char *const allowed[] = {"agent", NULL};
    char key[XAPI_AGENT_KEY_MAX];
    json_t *agent = NULL;
    if (!only_get(r) || !args_parse(r, allowed) || !arg_agent(r, true, key, &agent))
        return;
    json_t *person = xapi_store_person(r->s->xapi, agent);
    json_decref(agent);
    answer_json(r, 200, person);
}

static void about(struct req *r)
{
    static const char *const allowed[] = {NULL};
    if (!only_get(r) || !args_parse(r, allowed))
        return;
    answer_json(r, 200, json_pack("{s:[s,s],s:{}}", "version", "1.0.3", "2.0.0", "extensions"));
}

/* ---------------------------------------------------------------------------------------
 * Dispatch
 */

void api_xapi_http_run(struct api_server *s, struct api_job *job)
{
    struct req *r = vt_calloc(1, sizeof(*r));
    r->s = s;
    r->job = job;
    r->v = XAPI_V2_0;
    const char *path = job->path + strlen("/xapi");
    bool version_ok = job->x.has_version && xapi_version_parse(job->x.version, &r->v);
    header(r, "x-experience-api-version", xapi_version_string(r->v));

    if (job->refuse) {
        sodium_memzero(job->x.basic, sizeof(job->x.basic));
        fail(r, 503, "xapi.shutting-down", "the server is shutting down");
    } else if (!strcmp(path, "/about")) {
        sodium_memzero(job->x.basic, sizeof(job->x.basic));
        about(r);
    } else if (!version_ok) {
        sodium_memzero(job->x.basic, sizeof(job->x.basic));
        if (job->x.has_version)
            fail(r, 400, "xapi.version-header",
                 "X-Experience-API-Version '%.16s' is not supported (1.0.x or 2.0.x)",
                 job->x.version);
        else
            fail(r, 400, "xapi.version-header", "X-Experience-API-Version is required");
    } else if (!authenticate(r)) {
        /* answered */
    } else if (!strcmp(path, "/statements")) {
        enum api_http_method m = job->method;
        if (m == API_HTTP_PUT)
            statements_put(r);
        else if (m == API_HTTP_POST)
            statements_post(r);
        else if (m == API_HTTP_GET || m == API_HTTP_HEAD)
            statements_get(r);
        else
            fail(r, 405, "xapi.method", "statements take GET, HEAD, PUT and POST");
    } else if (!strcmp(path, "/activities/state")) {
        documents(r, XAPI_DOC_STATE);
    } else if (!strcmp(path, "/activities/profile")) {
        documents(r, XAPI_DOC_ACTIVITY_PROFILE);
    } else if (!strcmp(path, "/agents/profile")) {
        documents(r, XAPI_DOC_AGENT_PROFILE);
    } else if (!strcmp(path, "/activities")) {
        activities(r);
    } else if (!strcmp(path, "/agents")) {
        agents(r);
    } else {
        fail(r, 404, "xapi.resource", "no xAPI resource '%.64s'", job->path);
    }
    free(r);
}
