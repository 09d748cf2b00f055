/*
 * The service thread: one libwebsockets context, one listener for HTTP/1.1 and WebSocket.
 *
 * Every request is handed to a worker (work.c); the service thread only moves bytes,
 * enforces caps and writes answers from WRITEABLE callbacks, one lws_write per callback.
 * Workers report back through a completion list and lws_cancel_service(), which arrives
 * here as LWS_CALLBACK_EVENT_WAIT_CANCELLED. Connections are found again by id, never by
 * pointer, because a connection may close while its request is on a worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "api/api_int.h"

_Static_assert(API_OUT_PRE >= LWS_PRE, "output headroom must cover LWS_PRE");

#define REG_BUCKETS 4096
#define ADDR_BUCKETS 1024
#define WS_PATH "/v1"

struct msg {
    struct msg *next;
    bool binary;
    size_t len;   /* payload bytes after API_OUT_PRE */
    uint8_t *buf; /* API_OUT_PRE + len bytes */
};

struct conn {
    uint64_t id;
    struct lws *wsi;
    struct conn *hnext;
    bool registered;
    bool websocket;
    char peer[64];
    /* WebSocket */
    struct api_session sess;
    struct vt_buf rx;
    bool rx_init, rx_active, rx_binary, rx_discard;
    struct msg *q_head, *q_tail;
    size_t q_bytes;
    unsigned inflight;
    bool paused;
    bool counted_addr;
    /* twin.subscribe: learners this connection follows */
    uint8_t (*subs)[LEDGER_LEARNER_LEN];
    unsigned n_subs;
    bool sub_binary;
    /* HTTP */
    struct api_job *req;  /* being received */
    struct api_job *resp; /* answer ready to write */
    bool busy;            /* a job is on a worker */
    int resp_phase;
    bool body_too_large;
};

struct registry {
    struct conn *b[REG_BUCKETS];
};

struct addr_count {
    struct addr_count *next;
    unsigned count;
    char addr[64];
};

struct addr_table {
    struct addr_count *b[ADDR_BUCKETS];
};

static struct api_server *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* ---------------------------------------------------------------------------------------
 * Connection registry and per-address counts (service thread only)
 */

static void reg_add(struct api_server *s, struct conn *c, struct lws *wsi, bool websocket)
{
    if (c->registered)
        return;
    struct registry *r = s->conns;
    c->id = atomic_fetch_add(&s->next_id, 1);
    c->wsi = wsi;
    c->websocket = websocket;
    c->hnext = r->b[c->id % REG_BUCKETS];
    r->b[c->id % REG_BUCKETS] = c;
    c->registered = true;
    lws_get_peer_simple(wsi, c->peer, sizeof(c->peer));
}

static void reg_del(struct api_server *s, struct conn *c)
{
    if (!c->registered)
        return;
    struct registry *r = s->conns;
    for (struct conn **pp = &r->b[c->id % REG_BUCKETS]; *pp; pp = &(*pp)->hnext) {
        if (*pp == c) {
            *pp = c->hnext;
            break;
        }
    }
    c->registered = false;
}

static struct conn *reg_find(struct api_server *s, uint64_t id)
{
    struct registry *r = s->conns;
    for (struct conn *c = r->b[id % REG_BUCKETS]; c; c = c->hnext) {
        if (c->id == id)
            return c;
    }
    return NULL;
}

static unsigned addr_hash(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h % ADDR_BUCKETS;
}

static struct addr_count *addr_get(struct api_server *s, const char *addr, bool create)
{
    struct addr_table *t = s->addrs;
    unsigned h = addr_hash(addr);
    for (struct addr_count *a = t->b[h]; a; a = a->next) {
        if (!strcmp(a->addr, addr))
            return a;
    }
    if (!create)
        return NULL;
    struct addr_count *a = vt_calloc(1, sizeof(*a));
    snprintf(a->addr, sizeof(a->addr), "%s", addr);
    a->next = t->b[h];
    t->b[h] = a;
    return a;
}

static void addr_release(struct api_server *s, const char *addr)
{
    struct addr_table *t = s->addrs;
    unsigned h = addr_hash(addr);
    for (struct addr_count **pp = &t->b[h]; *pp; pp = &(*pp)->next) {
        if (!strcmp((*pp)->addr, addr)) {
            if (--(*pp)->count == 0) {
                struct addr_count *a = *pp;
                *pp = a->next;
                free(a);
            }
            return;
        }
    }
}

/* ---------------------------------------------------------------------------------------
 * WebSocket output queue
 */

static void queue_push(struct conn *c, uint8_t *buf, size_t total, bool binary)
{
    struct msg *m = vt_calloc(1, sizeof(*m));
    m->buf = buf;
    m->len = total - API_OUT_PRE;
    m->binary = binary;
    if (c->q_tail)
        c->q_tail->next = m;
    else
        c->q_head = m;
    c->q_tail = m;
    c->q_bytes += m->len;
    lws_callback_on_writable(c->wsi);
}

static void queue_free(struct conn *c)
{
    struct msg *m = c->q_head;
    while (m) {
        struct msg *n = m->next;
        free(m->buf);
        free(m);
        m = n;
    }
    c->q_head = c->q_tail = NULL;
    c->q_bytes = 0;
}

static void flow_update(struct api_server *s, struct conn *c)
{
    bool over = c->inflight >= s->cfg.max_inflight || c->q_bytes >= s->cfg.max_pending_out;
    if (over && !c->paused) {
        c->paused = true;
        lws_rx_flow_control(c->wsi, 0);
        API_LOG(API_LOG_DEBUG, "ws.paused", "conn=%llu inflight=%u queued=%zu",
                (unsigned long long)c->id, c->inflight, c->q_bytes);
    } else if (!over && c->paused) {
        c->paused = false;
        lws_rx_flow_control(c->wsi, 1);
    }
}

/* A small error answer made on the service thread, for messages that never reach a worker. */
static void queue_error(struct conn *c, bool binary, int code, const char *msg)
{
    json_t *e = json_pack("{s:s, s:{s:i, s:s}, s:n}", "jsonrpc", "2.0", "error", "code", code,
                          "message", msg, "id");
    struct vt_buf b;
    vt_buf_init(&b, 4096);
    static const uint8_t pre[API_OUT_PRE];
    (void)vt_buf_append(&b, pre, sizeof(pre), NULL);
    if (binary) {
        (void)api_json_to_cbor(e, &b, NULL);
    } else {
        (void)cred_json_write(e, 0, &b, NULL);
    }
    json_decref(e);
    size_t len;
    uint8_t *buf = vt_buf_detach(&b, &len);
    queue_push(c, buf, len, binary);
}

static void queue_json(struct conn *c, bool binary, const json_t *doc)
{
    struct vt_buf b;
    vt_buf_init(&b, (size_t)1 << 20);
    static const uint8_t pre[API_OUT_PRE];
    (void)vt_buf_append(&b, pre, sizeof(pre), NULL);
    enum vt_status rc =
        binary ? api_json_to_cbor(doc, &b, NULL) : cred_json_write(doc, 0, &b, NULL);
    if (rc != VT_OK) {
        vt_buf_release(&b);
        return;
    }
    size_t len;
    uint8_t *buf = vt_buf_detach(&b, &len);
    queue_push(c, buf, len, binary);
}

/* ---------------------------------------------------------------------------------------
 * twin.subscribe and twin.changed
 */

static void subs_add(struct api_server *s, struct conn *c, const struct api_job *job)
{
    for (unsigned i = 0; i < job->n_subs; i++) {
        bool have = false;
        for (unsigned k = 0; k < c->n_subs && !have; k++)
            have = !memcmp(c->subs[k], job->subs[i], LEDGER_LEARNER_LEN);
        if (have || c->n_subs >= API_SUBS_PER_CONN)
            continue;
        if (!c->subs)
            c->subs = vt_calloc(API_SUBS_PER_CONN, LEDGER_LEARNER_LEN);
        if (c->n_subs == 0)
            s->sub_conns++;
        memcpy(c->subs[c->n_subs++], job->subs[i], LEDGER_LEARNER_LEN);
    }
    c->sub_binary = job->binary;
}

static void subs_free(struct api_server *s, struct conn *c)
{
    if (c->n_subs > 0)
        s->sub_conns--;
    free(c->subs);
    c->subs = NULL;
    c->n_subs = 0;
}

static int cmp_learner(const void *a, const void *b)
{
    return memcmp(a, b, LEDGER_LEARNER_LEN);
}

static void notify(struct api_server *s, struct conn *c, const uint8_t learner[16], uint64_t cursor)
{
    /* A client that does not read its notifications loses them, not its connection: the
     * notification says what changed, and twin.get reads the rest. */
    if (c->q_bytes >= s->cfg.max_pending_out) {
        api_metrics_rejected(s->metrics, "notify_dropped");
        return;
    }
    char hex[33];
    api_learner_hex(learner, hex);
    json_t *n = json_pack("{s:s,s:s,s:{s:s,s:I}}", "jsonrpc", "2.0", "method", "twin.changed",
                          "params", "learner", hex, "cursor", (json_int_t)cursor);
    queue_json(c, c->sub_binary, n);
    json_decref(n);
}

static void drain_changes(struct api_server *s)
{
    uint8_t(*changed)[LEDGER_LEARNER_LEN] = NULL;
    bool all = false;
    size_t n = api_twin_changes(s, &changed, &all);
    if ((n == 0 && !all) || s->sub_conns == 0) {
        free(changed);
        return;
    }
    qsort(changed, n, LEDGER_LEARNER_LEN, cmp_learner);
    uint64_t cursor = api_twin_cursor(s);
    struct registry *r = s->conns;
    for (unsigned b = 0; b < REG_BUCKETS; b++) {
        for (struct conn *c = r->b[b]; c; c = c->hnext) {
            for (unsigned k = 0; c->websocket && k < c->n_subs; k++) {
                if (all || bsearch(c->subs[k], changed, n, LEDGER_LEARNER_LEN, cmp_learner))
                    notify(s, c, c->subs[k], cursor);
            }
            if (c->websocket && c->n_subs)
                flow_update(s, c);
        }
    }
    free(changed);
}

/* ---------------------------------------------------------------------------------------
 * Completions
 */

static void complete(struct api_server *s, struct api_job *job)
{
    struct conn *c = reg_find(s, job->conn_id);
    if (!c) {
        api_job_free(job);
        return;
    }
    if (job->kind == API_JOB_RPC) {
        c->inflight--;
        if (job->sess_changed)
            c->sess = job->sess;
        if (job->n_subs)
            subs_add(s, c, job);
        if (job->out.len > API_OUT_PRE) {
            size_t len;
            bool binary = job->out_binary;
            uint8_t *buf = vt_buf_detach(&job->out, &len);
            queue_push(c, buf, len, binary);
        }
        api_job_free(job);
        flow_update(s, c);
    } else {
        c->busy = false;
        c->resp = job;
        c->resp_phase = 0;
        lws_callback_on_writable(c->wsi);
    }
}

static void drain_completions(struct api_server *s)
{
    struct api_job *j = api_workers_done(s->workers);
    while (j) {
        struct api_job *next = j->next;
        complete(s, j);
        j = next;
    }
}

static void job_dispatch(struct api_server *s, struct api_job *job)
{
    if (job->kind == API_JOB_RPC)
        api_rpc_run(s, job);
    else
        api_http_run(s, job);
    api_twin_kick(s);
}

void api_server_wake(struct api_server *s)
{
    if (s->lws_ctx)
        lws_cancel_service(s->lws_ctx);
}

static void wake(struct api_server *s)
{
    api_server_wake(s);
}

/* ---------------------------------------------------------------------------------------
 * HTTP
 */

static int http_answer_now(struct lws *wsi, struct conn *c, int status, const char *msg, bool xapi)
{
    struct api_server *s = server_of(wsi);
    struct api_job *job = api_job_new(API_JOB_HTTP, 0, 4096);
    static const uint8_t pre[API_OUT_PRE];
    (void)vt_buf_append(&job->out, pre, sizeof(pre), NULL);
    job->http_status = status;
    job->out_ctype = "application/json";
    /* xAPI answers carry the version header and name their rule even when refused before
     * routing (specs/xapi.md §8). */
    if (xapi) {
        const char *rule = status == 411   ? "xapi.content-length"
                           : status == 413 ? "xapi.size-cap"
                           : status == 414 ? "xapi.uri-length"
                                           : "xapi.method";
        (void)vt_buf_printf(&job->out, NULL, "{\"error\":\"%s\",\"rule\":\"%s\",\"status\":%d}",
                            msg, rule, status);
        api_xreq_header(&job->x, "x-experience-api-version", "2.0.0");
    } else {
        (void)vt_buf_printf(&job->out, NULL, "{\"error\":\"%s\",\"status\":%d}", msg, status);
    }
    reg_add(s, c, wsi, false);
    job->conn_id = c->id;
    api_job_free(c->resp);
    c->resp = job;
    c->resp_phase = 0;
    lws_callback_on_writable(wsi);
    return 0;
}

void api_xreq_header(struct api_http_xreq *x, const char *name, const char *value)
{
    size_t used = strlen(x->out_headers);
    size_t need = strlen(name) + 2 + strlen(value) + 1;
    if (used + need >= sizeof(x->out_headers) || strchr(value, '\n') || strchr(value, '\r'))
        return;
    snprintf(x->out_headers + used, sizeof(x->out_headers) - used, "%s: %s\n", name, value);
}

/* Copies a header into dst; a value that does not fit becomes "\x01" (never matches). */
static bool copy_hdr(struct lws *wsi, enum lws_token_indexes t, char *dst, size_t n)
{
    int len = lws_hdr_total_length(wsi, t);
    if (len <= 0)
        return false;
    if ((size_t)len >= n || lws_hdr_copy(wsi, dst, (int)n, t) < 0)
        snprintf(dst, n, "\x01");
    return true;
}

static void xreq_read(struct lws *wsi, struct api_job *job)
{
    struct api_http_xreq *x = &job->x;
    x->on = true;
    static const char vname[] = "x-experience-api-version:";
    int vl = lws_hdr_custom_length(wsi, vname, (int)strlen(vname));
    if (vl >= 0) {
        x->has_version = true;
        if ((size_t)vl >= sizeof(x->version) ||
            lws_hdr_custom_copy(wsi, x->version, (int)sizeof(x->version), vname,
                                (int)strlen(vname)) < 0)
            snprintf(x->version, sizeof(x->version), "\x01");
    }
    x->has_if_match = copy_hdr(wsi, WSI_TOKEN_HTTP_IF_MATCH, x->if_match, sizeof(x->if_match));
    x->has_if_none_match =
        copy_hdr(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH, x->if_none_match, sizeof(x->if_none_match));
    (void)copy_hdr(wsi, WSI_TOKEN_HTTP_ACCEPT_LANGUAGE, x->accept_language,
                   sizeof(x->accept_language));
    x->has_length = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
    char auth[320];
    if (lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) > 6 &&
        !strncasecmp(auth, "Basic ", 6) && strlen(auth + 6) < sizeof(x->basic)) {
        memcpy(x->basic, auth + 6, strlen(auth + 6) + 1);
        x->has_basic = true;
    }
    memset(auth, 0, sizeof(auth));
    /* Every argument, so that unknown or repeated names can be refused. */
    size_t off = 0;
    for (int i = 0; i < 256; i++) {
        int fl = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (fl <= 0)
            break;
        if (off + (size_t)fl + 1 > sizeof(x->args) ||
            lws_hdr_copy_fragment(wsi, x->args + off, (int)(sizeof(x->args) - off),
                                  WSI_TOKEN_HTTP_URI_ARGS, i) < 0) {
            x->args_overflow = true;
            break;
        }
        off += (size_t)fl + 1;
        x->n_args++;
    }
}

static int http_start(struct lws *wsi, struct conn *c, const char *uri)
{
    struct api_server *s = server_of(wsi);
    enum api_http_method method = API_HTTP_OTHER;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
        method = API_HTTP_GET;
    else if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI))
        method = API_HTTP_POST;
    else if (lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI))
        method = API_HTTP_HEAD;
    else if (lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI))
        method = API_HTTP_PUT;
    else if (lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI))
        method = API_HTTP_DELETE;
    bool xapi = api_http_is_xapi(uri);

    reg_add(s, c, wsi, false);
    if (c->busy || c->req)
        return -1; /* pipelined request while one is open: not supported */
    if (strlen(uri) >= API_URL_MAX)
        return http_answer_now(wsi, c, 414, "uri too long", xapi);
    if (method == API_HTTP_OTHER) {
        /* PATCH and friends may carry a body lws would wait for: answer and close. */
        c->body_too_large = true;
        return http_answer_now(wsi, c, 405, "method not allowed", xapi);
    }

    struct api_job *job = api_job_new(API_JOB_HTTP, s->cfg.max_message, s->cfg.max_message * 4);
    job->conn_id = c->id;
    job->id = atomic_fetch_add(&s->next_id, 1);
    job->method = method;
    job->refuse = atomic_load(&s->draining);
    job->start_ns = api_mono_ns();
    snprintf(job->path, sizeof(job->path), "%s", uri);
    snprintf(job->peer, sizeof(job->peer), "%s", c->peer);
    if (lws_hdr_copy(wsi, job->ctype, sizeof(job->ctype), WSI_TOKEN_HTTP_CONTENT_TYPE) < 0)
        job->ctype[0] = '\0';
    char auth[API_TOKEN_MAX + 16];
    if (lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) > 7 &&
        !strncasecmp(auth, "Bearer ", 7) && strlen(auth + 7) < sizeof(job->bearer)) {
        memcpy(job->bearer, auth + 7, strlen(auth + 7) + 1);
        job->has_bearer = true;
    }
    memset(auth, 0, sizeof(auth));
    if (xapi)
        xreq_read(wsi, job);

    /* lws gives a PUT with an empty body no body callbacks: it is submitted below. */
    if (method != API_HTTP_POST && method != API_HTTP_PUT) {
        c->busy = true;
        api_workers_submit(s->workers, job);
        return 0;
    }
    char cl[32];
    if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
        api_job_free(job);
        /* lws would take whatever follows as the body: answer and close. */
        c->body_too_large = true;
        return http_answer_now(wsi, c, 411,
                               xapi ? "Content-Length is required (xapi.content-length)"
                                    : "content-length required",
                               xapi);
    }
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    if (*end || n > s->cfg.max_message) {
        api_job_free(job);
        api_metrics_rejected(s->metrics, "too_large");
        /* The body would still arrive: answer and close rather than read it. */
        http_answer_now(wsi, c, 413, "body too large", xapi);
        c->body_too_large = true;
        return 0;
    }
    c->req = job;
    if (n == 0) {
        c->req = NULL;
        c->busy = true;
        api_workers_submit(s->workers, job);
    }
    return 0;
}

/* The "name: value\n" lines a route asked for. */
static int add_extra_headers(struct lws *wsi, const char *lines, uint8_t **p, uint8_t *end)
{
    while (*lines) {
        const char *colon = strchr(lines, ':');
        const char *nl = strchr(lines, '\n');
        if (!colon || !nl || colon > nl)
            return 0;
        char name[64];
        size_t nlen = (size_t)(colon - lines) + 1;
        if (nlen >= sizeof(name))
            return -1;
        memcpy(name, lines, nlen);
        name[nlen] = '\0';
        const char *v = colon + 2;
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)v,
                                        (int)(nl - v), p, end))
            return -1;
        lines = nl + 1;
    }
    return 0;
}

static int http_writeable(struct lws *wsi, struct conn *c)
{
    struct api_job *job = c->resp;
    if (!job)
        return 0;
    size_t body_len = job->out.len > API_OUT_PRE ? job->out.len - API_OUT_PRE : 0;
    bool head = job->method == API_HTTP_HEAD;
    if (c->resp_phase == 0) {
        uint8_t hb[LWS_PRE + 1024 + API_XHDRS_MAX];
        uint8_t *start = hb + LWS_PRE, *p = start, *end = hb + sizeof(hb) - 1;
        if (lws_add_http_common_headers(wsi, (unsigned)job->http_status,
                                        job->out_ctype ? job->out_ctype : "application/json",
                                        body_len, &p, end))
            return -1;
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                        (const unsigned char *)"no-store", 8, &p, end))
            return -1;
        if (add_extra_headers(wsi, job->x.out_headers, &p, end))
            return -1;
        if (c->body_too_large &&
            lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close",
                                         5, &p, end))
            return -1;
        if (lws_finalize_write_http_header(wsi, start, &p, end))
            return -1;
        c->resp_phase = 1;
        if (body_len > 0 && !head) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else {
        if (lws_write(wsi, job->out.data + API_OUT_PRE, body_len, LWS_WRITE_HTTP_FINAL) !=
            (int)body_len)
            return -1;
    }
    bool close = c->body_too_large;
    api_job_free(job);
    c->resp = NULL;
    c->resp_phase = 0;
    /* Idle keep-alive connections stay out of the registry: lws may free their state
     * without a callback once the protocol is unbound. */
    reg_del(server_of(wsi), c);
    c->body_too_large = false;
    if (close)
        return -1;
    if (lws_http_transaction_completed(wsi))
        return -1;
    return 0;
}

static void conn_release_http(struct api_server *s, struct conn *c)
{
    reg_del(s, c);
    api_job_free(c->req);
    c->req = NULL;
    api_job_free(c->resp);
    c->resp = NULL;
}

static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct conn *c = user;
    struct api_server *s;
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        s = lws_context_user(lws_get_context(wsi));
        if (s && s->workers)
            drain_completions(s);
        if (s)
            drain_changes(s);
        return 0;
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        s = lws_context_user(lws_get_context(wsi));
        if (atomic_load(&s->draining)) {
            api_metrics_rejected(s->metrics, "draining");
            return 1;
        }
        api_metrics_conn(s->metrics, false, 1);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* An upgrade without the vitae.v1 subprotocol lands here: refuse it. */
        return 1;
    case LWS_CALLBACK_HTTP:
        return http_start(wsi, c, in ? (const char *)in : "/");
    case LWS_CALLBACK_HTTP_BODY:
        if (c->req && !c->body_too_large) {
            if (vt_buf_append(&c->req->in, in, len, NULL) != VT_OK) {
                bool xapi = c->req->x.on;
                api_job_free(c->req);
                c->req = NULL;
                c->body_too_large = true;
                return http_answer_now(wsi, c, 413, "body too large", xapi);
            }
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (c->req) {
            struct api_job *job = c->req;
            c->req = NULL;
            c->busy = true;
            api_workers_submit(server_of(wsi)->workers, job);
        }
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_writeable(wsi, c);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (c)
            conn_release_http(server_of(wsi), c);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---------------------------------------------------------------------------------------
 * WebSocket
 */

static int ws_filter(struct lws *wsi, struct conn *c)
{
    struct api_server *s = server_of(wsi);
    char uri[64];
    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, WS_PATH))
        return 1;
    if (atomic_load(&s->draining)) {
        api_metrics_rejected(s->metrics, "draining");
        return 1;
    }
    char peer[64];
    lws_get_peer_simple(wsi, peer, sizeof(peer));
    struct addr_count *a = addr_get(s, peer, false);
    if (a && a->count >= s->cfg.max_conns_per_addr) {
        api_metrics_rejected(s->metrics, "conns_per_addr");
        API_LOG(API_LOG_WARN, "ws.refused", "addr=%s reason=conns_per_addr limit=%u", peer,
                s->cfg.max_conns_per_addr);
        return 1;
    }
    if (!c)
        return 1;
    memset(c, 0, sizeof(*c));
    /* Headers are gone after ESTABLISHED: resolve a bearer token now. */
    char auth[API_TOKEN_MAX + 16];
    if (lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) > 7 &&
        !strncasecmp(auth, "Bearer ", 7)) {
        if (!api_store_token_check(s->store, auth + 7, &c->sess.who)) {
            memset(auth, 0, sizeof(auth));
            return 1;
        }
        c->sess.authed = true;
    }
    memset(auth, 0, sizeof(auth));
    return 0;
}

static void ws_receive(struct lws *wsi, struct conn *c, const void *in, size_t len)
{
    struct api_server *s = server_of(wsi);
    if (!c->rx_init) {
        vt_buf_init(&c->rx, s->cfg.max_message);
        c->rx_init = true;
    }
    if (!c->rx_active) {
        c->rx_active = true;
        c->rx_binary = lws_frame_is_binary(wsi);
        c->rx_discard = false;
        vt_buf_reset(&c->rx);
    }
    if (!c->rx_discard && vt_buf_append(&c->rx, in, len, NULL) != VT_OK) {
        c->rx_discard = true;
        vt_buf_release(&c->rx);
        vt_buf_init(&c->rx, s->cfg.max_message);
    }
    if (!lws_is_final_fragment(wsi))
        return;
    c->rx_active = false;
    if (c->rx_discard) {
        api_metrics_rejected(s->metrics, "too_large");
        API_LOG(API_LOG_INFO, "ws.too_large", "conn=%llu limit=%zu", (unsigned long long)c->id,
                s->cfg.max_message);
        queue_error(c, c->rx_binary, API_RPC_TOO_LARGE, "message exceeds max_message");
        flow_update(s, c);
        return;
    }
    struct api_job *job = api_job_new(API_JOB_RPC, 0, s->cfg.max_message * 4);
    job->in = c->rx;
    vt_buf_init(&c->rx, s->cfg.max_message);
    job->conn_id = c->id;
    job->id = atomic_fetch_add(&s->next_id, 1);
    job->binary = c->rx_binary;
    job->sess = c->sess;
    job->refuse = atomic_load(&s->draining);
    job->start_ns = api_mono_ns();
    snprintf(job->peer, sizeof(job->peer), "%s", c->peer);
    c->inflight++;
    api_workers_submit(s->workers, job);
    flow_update(s, c);
}

static int ws_writeable(struct lws *wsi, struct conn *c)
{
    struct api_server *s = server_of(wsi);
    struct msg *m = c->q_head;
    if (!m)
        return 0;
    int n =
        lws_write(wsi, m->buf + API_OUT_PRE, m->len, m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    if (n < (int)m->len)
        return -1;
    c->q_head = m->next;
    if (!c->q_head)
        c->q_tail = NULL;
    c->q_bytes -= m->len;
    free(m->buf);
    free(m);
    if (c->q_head)
        lws_callback_on_writable(wsi);
    flow_update(s, c);
    return 0;
}

static int cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    struct conn *c = user;
    struct api_server *s;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return ws_filter(wsi, c);
    case LWS_CALLBACK_ESTABLISHED:
        s = server_of(wsi);
        reg_add(s, c, wsi, true);
        addr_get(s, c->peer, true)->count++;
        c->counted_addr = true;
        s->ws_conns++;
        api_metrics_conn(s->metrics, true, 1);
        API_LOG(API_LOG_INFO, "ws.open", "conn=%llu addr=%s principal=%s",
                (unsigned long long)c->id, c->peer, c->sess.authed ? c->sess.who.did : "-");
        return 0;
    case LWS_CALLBACK_RECEIVE:
        ws_receive(wsi, c, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return ws_writeable(wsi, c);
    case LWS_CALLBACK_CLOSED:
        s = server_of(wsi);
        if (c->registered) {
            API_LOG(API_LOG_INFO, "ws.close", "conn=%llu addr=%s inflight=%u",
                    (unsigned long long)c->id, c->peer, c->inflight);
            char key[32];
            snprintf(key, sizeof(key), "conn:%llu", (unsigned long long)c->id);
            api_rate_forget(s->rate, key);
            s->ws_conns--;
            api_metrics_conn(s->metrics, true, -1);
        }
        if (c->counted_addr)
            addr_release(s, c->peer);
        c->counted_addr = false;
        reg_del(s, c);
        queue_free(c);
        subs_free(s, c);
        if (c->rx_init)
            vt_buf_release(&c->rx);
        c->rx_init = false;
        return 0;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"http", cb_http, sizeof(struct conn), 0, 0, NULL, 0},
    {API_SUBPROTOCOL, cb_ws, sizeof(struct conn), 64 * 1024, 1, NULL, 64 * 1024},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---------------------------------------------------------------------------------------
 * Lifecycle
 */

static void lws_log_emit(int level, const char *line)
{
    char v[512];
    char trimmed[480];
    snprintf(trimmed, sizeof(trimmed), "%s", line);
    size_t n = strlen(trimmed);
    while (n > 0 && (trimmed[n - 1] == '\n' || trimmed[n - 1] == '\r'))
        trimmed[--n] = '\0';
    api_log_value(trimmed, v, sizeof(v));
    API_LOG(level == LLL_ERR ? API_LOG_ERROR : API_LOG_WARN, "lws", "msg=%s", v);
}

static enum vt_status write_port_file(const char *path, int port, struct vt_error *err)
{
    char tmp[API_PATH_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return vt_error_set(err, VT_ERR_IO, "cannot write '%s'", tmp);
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return vt_error_set(err, VT_ERR_IO, "cannot write '%s'", path);
    return VT_OK;
}

static void print_banner(struct api_server *s)
{
    const char *scheme = s->cfg.tls_cert[0] ? "https" : "http";
    const char *wscheme = s->cfg.tls_cert[0] ? "wss" : "ws";
    const char *h = s->cfg.listen_host;
    bool v6 = strchr(h, ':') != NULL;
    char host[API_HOST_MAX + 16];
    snprintf(host, sizeof(host), v6 ? "[%s]:%d" : "%s:%d", h, s->port);
    printf("vitaed %s\n", API_VERSION_STRING);
    printf("  data        %s\n", s->cfg.data_dir);
    printf("  did:key     %s\n", s->did_key);
    printf("  did:web     %s\n", s->did_web);
    printf("  log origin  %s\n", ledger_origin(s->ledger));
    printf("  health      %s://%s/healthz\n", scheme, host);
    printf("  metrics     %s://%s/metrics\n", scheme, host);
    printf("  did doc     %s://%s/.well-known/did.json\n", scheme, host);
    printf("  checkpoint  %s://%s/log/checkpoint\n", scheme, host);
    printf("  vc-api      %s://%s/credentials/verify (POST)\n", scheme, host);
    printf("  websocket   %s://%s/v1 (subprotocol %s, JSON-RPC 2.0)\n", wscheme, host,
           API_SUBPROTOCOL);
    printf("  admin       token in %s/admin.token, key in %s/admin.key\n", s->cfg.data_dir,
           s->cfg.data_dir);
    fflush(stdout);
}

enum vt_status api_server_open(const struct api_config *cfg, struct api_server **out,
                               struct vt_error *err)
{
    struct api_server *s = vt_calloc(1, sizeof(*s));
    s->cfg = *cfg;
    s->started_ms = vt_time_now_ms();
    atomic_init(&s->next_id, 1);
    atomic_init(&s->issuer, NULL);
    pthread_mutex_init(&s->issuer_mu, NULL);
    s->conns = vt_calloc(1, sizeof(struct registry));
    s->addrs = vt_calloc(1, sizeof(struct addr_table));
    api_log_set_level(cfg->log_level);
    enum vt_status rc = vt_core_init(err);
    if (rc == VT_OK)
        rc = api_datadir_open(s, err);
    if (rc == VT_OK)
        rc = api_twin_open(s, err);
    if (rc != VT_OK) {
        api_server_close(s);
        return rc;
    }
    s->metrics = api_metrics_new(api_method_count);
    s->rate = api_rate_new(cfg->rate, cfg->burst);
    s->challenges = api_challenges_new();

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = cfg->port;
    info.iface = cfg->listen_host;
    info.protocols = protocols;
    info.user = s;
    info.vhost_name = "default";
    info.server_string = "vitaed";
    info.alpn = "http/1.1";
    info.max_http_header_data = 8192;
    info.timeout_secs = 30;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6 * !strchr(cfg->listen_host, ':');
    if (cfg->tls_cert[0] || cfg->tls_key[0]) {
        if (!cfg->tls_cert[0] || !cfg->tls_key[0]) {
            api_server_close(s);
            return vt_error_set(err, VT_ERR_INVALID, "tls_cert and tls_key go together");
        }
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cfg->tls_cert;
        info.ssl_private_key_filepath = cfg->tls_key;
    }
    /* Workers exist before the context so that no callback can see them missing. */
    s->workers = api_workers_start(s, cfg->workers, job_dispatch, wake);
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        api_server_close(s);
        return vt_error_set(err, VT_ERR_IO, "cannot listen on %s:%d", cfg->listen_host, cfg->port);
    }
    s->lws_ctx = ctx;
    s->lws_vhost = lws_get_vhost_by_name(ctx, "default");
    s->port = s->lws_vhost ? lws_get_vhost_listen_port(s->lws_vhost) : cfg->port;
    if (s->port <= 0) {
        api_server_close(s);
        return vt_error_set(err, VT_ERR_IO, "cannot listen on %s:%d", cfg->listen_host, cfg->port);
    }
    api_did_web(&s->cfg, s->port, s->did_web, sizeof(s->did_web));
    rc = cred_didweb_document(s->did_web, s->cred_key, &s->did_doc, err);
    if (rc == VT_OK) {
        json_object_set_new(s->did_doc, "alsoKnownAs", json_pack("[s]", s->did_key));
        (void)cred_trust_add_did_document(s->trust, s->did_doc, NULL);
    }
    if (rc == VT_OK)
        rc = api_issuer_open(s, err);
    if (rc == VT_OK)
        api_twin_start(s);
    if (rc == VT_OK && cfg->port_file[0])
        rc = write_port_file(cfg->port_file, s->port, err);
    if (rc != VT_OK) {
        api_server_close(s);
        return rc;
    }
    print_banner(s);
    API_LOG(API_LOG_INFO, "listening", "addr=%s port=%d tls=%s workers=%u did=%s", cfg->listen_host,
            s->port, cfg->tls_cert[0] ? "on" : "off", cfg->workers, s->did_key);
    *out = s;
    return VT_OK;
}

int api_server_port(const struct api_server *s)
{
    return s->port;
}

void api_server_stop(struct api_server *s)
{
    atomic_store(&s->stop_requested, true);
    if (s->lws_ctx)
        lws_cancel_service(s->lws_ctx);
}

static bool drained(struct api_server *s)
{
    if (api_workers_pending(s->workers) > 0)
        return false;
    struct registry *r = s->conns;
    for (unsigned i = 0; i < REG_BUCKETS; i++) {
        for (struct conn *c = r->b[i]; c; c = c->hnext) {
            if (c->q_head || c->inflight || c->busy || c->resp)
                return false;
        }
    }
    return true;
}

static void tick(lws_sorted_usec_list_t *sul)
{
    (void)sul;
}

enum vt_status api_server_run(struct api_server *s, struct vt_error *err)
{
    struct lws_context *ctx = s->lws_ctx;
    lws_sorted_usec_list_t sul;
    memset(&sul, 0, sizeof(sul));
    int64_t deadline = 0;
    for (;;) {
        if (atomic_load(&s->stop_requested) && !atomic_load(&s->draining)) {
            atomic_store(&s->draining, true);
            deadline = api_mono_ns() + (int64_t)s->cfg.drain_seconds * 1000000000;
            API_LOG(API_LOG_INFO, "shutdown.drain", "pending=%zu timeout_s=%u",
                    api_workers_pending(s->workers), s->cfg.drain_seconds);
        }
        if (atomic_load(&s->draining)) {
            drain_completions(s);
            if (drained(s))
                break;
            if (api_mono_ns() >= deadline) {
                API_LOG(API_LOG_WARN, "shutdown.timeout", "pending=%zu",
                        api_workers_pending(s->workers));
                break;
            }
            /* Wake up now and then to notice the deadline. */
            lws_sul_schedule(ctx, 0, &sul, tick, 50000);
        }
        if (lws_service(ctx, 0) < 0)
            return vt_error_set(err, VT_ERR_IO, "the service loop failed");
    }
    lws_sul_cancel(&sul);
    API_LOG(API_LOG_INFO, "shutdown.drained", "ledger_events=%llu",
            (unsigned long long)ledger_size(s->ledger));
    return VT_OK;
}

void api_server_close(struct api_server *s)
{
    if (!s)
        return;
    /* Workers first: every job they hold finishes (and any append becomes durable). */
    api_workers_stop(s->workers);
    s->workers = NULL;
    /* The feed thread wakes the service loop: it stops before the loop goes away. */
    api_twin_close(s);
    if (s->lws_ctx)
        lws_context_destroy(s->lws_ctx);
    s->lws_ctx = NULL;
    cred_issuer_close(atomic_load(&s->issuer));
    atomic_store(&s->issuer, NULL);
    api_datadir_close(s);
    api_metrics_free(s->metrics);
    api_rate_free(s->rate);
    api_challenges_free(s->challenges);
    struct addr_table *t = s->addrs;
    for (unsigned i = 0; t && i < ADDR_BUCKETS; i++) {
        struct addr_count *a = t->b[i];
        while (a) {
            struct addr_count *n = a->next;
            free(a);
            a = n;
        }
    }
    free(s->addrs);
    free(s->conns);
    pthread_mutex_destroy(&s->issuer_mu);
    free(s);
}
