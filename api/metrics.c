/*
 * Prometheus text exposition (format 0.0.4): request and error counters and latency
 * histograms per JSON-RPC method and per HTTP route, connections, ledger size and the
 * sizes of append batches handed to the ledger's group commit.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"

static const double lat_bounds[API_LAT_BUCKETS - 1] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

#define BATCH_BUCKETS 12
static const unsigned batch_bounds[BATCH_BUCKETS - 1] = {1,   2,    4,    8,     16,   64,
                                                         256, 1024, 4096, 16384, 65536};

static const char *const route_names[API_HTTP_ROUTES] = {"/healthz",
                                                         "/metrics",
                                                         "/.well-known/did.json",
                                                         "/log/checkpoint",
                                                         "/log/tile",
                                                         "/status",
                                                         "/credentials/issue",
                                                         "/credentials/verify",
                                                         "/presentations/verify",
                                                         "/challenges",
                                                         "other",
                                                         "/xapi",
                                                         "/caliper",
                                                         "",
                                                         "",
                                                         ""};

struct hist {
    _Atomic uint64_t b[API_LAT_BUCKETS];
    _Atomic uint64_t sum_us;
    _Atomic uint64_t count;
};

struct api_metrics {
    size_t methods;
    _Atomic uint64_t *rpc_req;
    _Atomic uint64_t *rpc_err;
    struct hist *rpc_lat;
    _Atomic uint64_t http_req[API_HTTP_ROUTES][3]; /* 2xx/3xx, 4xx, 5xx */
    struct hist http_lat[API_HTTP_ROUTES];
    _Atomic int64_t conns[2];
    _Atomic uint64_t conns_total[2];
    _Atomic uint64_t batch[BATCH_BUCKETS];
    _Atomic uint64_t batch_sum, batch_count;
    _Atomic uint64_t rejected[4];
};

static const char *const reject_names[4] = {"conns_per_addr", "rate", "too_large", "draining"};

struct api_metrics *api_metrics_new(size_t methods)
{
    struct api_metrics *m = vt_calloc(1, sizeof(*m));
    m->methods = methods;
    m->rpc_req = vt_calloc(methods + 1, sizeof(*m->rpc_req));
    m->rpc_err = vt_calloc(methods + 1, sizeof(*m->rpc_err));
    m->rpc_lat = vt_calloc(methods + 1, sizeof(*m->rpc_lat));
    return m;
}

void api_metrics_free(struct api_metrics *m)
{
    if (!m)
        return;
    free((void *)m->rpc_req);
    free((void *)m->rpc_err);
    free(m->rpc_lat);
    free(m);
}

static void hist_add(struct hist *h, int64_t ns)
{
    double s = (double)ns / 1e9;
    unsigned i = 0;
    while (i < API_LAT_BUCKETS - 1 && s > lat_bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->b[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, (uint64_t)(ns / 1000), memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void api_metrics_rpc(struct api_metrics *m, size_t index, bool error, int64_t ns)
{
    if (index > m->methods)
        index = m->methods;
    atomic_fetch_add_explicit(&m->rpc_req[index], 1, memory_order_relaxed);
    if (error)
        atomic_fetch_add_explicit(&m->rpc_err[index], 1, memory_order_relaxed);
    hist_add(&m->rpc_lat[index], ns);
}

void api_metrics_http(struct api_metrics *m, unsigned route, int status, int64_t ns)
{
    if (route >= API_HTTP_ROUTES)
        route = 10;
    int cls = status >= 500 ? 2 : status >= 400 ? 1 : 0;
    atomic_fetch_add_explicit(&m->http_req[route][cls], 1, memory_order_relaxed);
    hist_add(&m->http_lat[route], ns);
}

void api_metrics_conn(struct api_metrics *m, bool websocket, int delta)
{
    atomic_fetch_add_explicit(&m->conns[websocket], delta, memory_order_relaxed);
    if (delta > 0)
        atomic_fetch_add_explicit(&m->conns_total[websocket], 1, memory_order_relaxed);
}

void api_metrics_append_batch(struct api_metrics *m, size_t events)
{
    unsigned i = 0;
    while (i < BATCH_BUCKETS - 1 && events > batch_bounds[i])
        i++;
    atomic_fetch_add_explicit(&m->batch[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->batch_sum, events, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->batch_count, 1, memory_order_relaxed);
}

void api_metrics_rejected(struct api_metrics *m, const char *reason)
{
    for (unsigned i = 0; i < 4; i++) {
        if (!strcmp(reason, reject_names[i]))
            atomic_fetch_add_explicit(&m->rejected[i], 1, memory_order_relaxed);
    }
}

const char *api_http_route_name(unsigned route)
{
    return route < API_HTTP_ROUTES ? route_names[route] : "other";
}

#define LD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

static enum vt_status hist_write(struct vt_buf *out, const char *name, const char *label,
                                 const char *value, struct hist *h, struct vt_error *err)
{
    enum vt_status rc = VT_OK;
    unsigned long long cum = 0;
    for (unsigned i = 0; i < API_LAT_BUCKETS && rc == VT_OK; i++) {
        cum += LD(h->b[i]);
        if (i < API_LAT_BUCKETS - 1)
            rc = vt_buf_printf(out, err, "%s_bucket{%s=\"%s\",le=\"%g\"} %llu\n", name, label,
                               value, lat_bounds[i], cum);
        else
            rc = vt_buf_printf(out, err, "%s_bucket{%s=\"%s\",le=\"+Inf\"} %llu\n", name, label,
                               value, cum);
    }
    if (rc == VT_OK)
        rc = vt_buf_printf(out, err, "%s_sum{%s=\"%s\"} %.6f\n%s_count{%s=\"%s\"} %llu\n", name,
                           label, value, (double)LD(h->sum_us) / 1e6, name, label, value,
                           LD(h->count));
    return rc;
}

enum vt_status api_metrics_write(struct api_metrics *m, struct api_server *s, struct vt_buf *out,
                                 struct vt_error *err)
{
    enum vt_status rc =
        vt_buf_printf(out, err,
                      "# HELP vitae_rpc_requests_total JSON-RPC requests by method.\n"
                      "# TYPE vitae_rpc_requests_total counter\n");
    for (size_t i = 0; i <= m->methods && rc == VT_OK; i++) {
        const char *name = i < m->methods ? api_methods[i].name : "unknown";
        rc = vt_buf_printf(out, err, "vitae_rpc_requests_total{method=\"%s\"} %llu\n", name,
                           LD(m->rpc_req[i]));
    }
    if (rc == VT_OK)
        rc = vt_buf_printf(out, err,
                           "# HELP vitae_rpc_errors_total JSON-RPC error responses by method.\n"
                           "# TYPE vitae_rpc_errors_total counter\n");
    for (size_t i = 0; i <= m->methods && rc == VT_OK; i++) {
        const char *name = i < m->methods ? api_methods[i].name : "unknown";
        rc = vt_buf_printf(out, err, "vitae_rpc_errors_total{method=\"%s\"} %llu\n", name,
                           LD(m->rpc_err[i]));
    }
    if (rc == VT_OK)
        rc = vt_buf_printf(out, err,
                           "# HELP vitae_rpc_duration_seconds JSON-RPC latency on the worker.\n"
                           "# TYPE vitae_rpc_duration_seconds histogram\n");
    for (size_t i = 0; i <= m->methods && rc == VT_OK; i++) {
        if (LD(m->rpc_lat[i].count) == 0)
            continue;
        const char *name = i < m->methods ? api_methods[i].name : "unknown";
        rc = hist_write(out, "vitae_rpc_duration_seconds", "method", name, &m->rpc_lat[i], err);
    }
    if (rc == VT_OK)
        rc = vt_buf_printf(out, err,
                           "# HELP vitae_http_requests_total HTTP requests by route and class.\n"
                           "# TYPE vitae_http_requests_total counter\n");
    static const char *const cls[3] = {"2xx", "4xx", "5xx"};
    for (unsigned r = 0; r <= 10 && rc == VT_OK; r++) {
        for (unsigned c = 0; c < 3 && rc == VT_OK; c++)
            rc = vt_buf_printf(out, err,
                               "vitae_http_requests_total{route=\"%s\",code=\"%s\"} %llu\n",
                               route_names[r], cls[c], LD(m->http_req[r][c]));
    }
    if (rc == VT_OK)
        rc = vt_buf_printf(out, err,
                           "# HELP vitae_http_duration_seconds HTTP latency by route.\n"
                           "# TYPE vitae_http_duration_seconds histogram\n");
    for (unsigned r = 0; r <= 10 && rc == VT_OK; r++) {
        if (LD(m->http_lat[r].count) == 0)
            continue;
        rc = hist_write(out, "vitae_http_duration_seconds", "route", route_names[r],
                        &m->http_lat[r], err);
    }
    if (rc == VT_OK)
        rc = vt_buf_printf(
            out, err,
            "# HELP vitae_connections Open WebSocket connections.\n"
            "# TYPE vitae_connections gauge\nvitae_connections{kind=\"websocket\"} %lld\n"
            "# HELP vitae_connections_total Connections accepted (TCP) and upgraded.\n"
            "# TYPE vitae_connections_total counter\n"
            "vitae_connections_total{kind=\"tcp\"} %llu\n"
            "vitae_connections_total{kind=\"websocket\"} %llu\n",
            (long long)atomic_load(&m->conns[1]), LD(m->conns_total[0]), LD(m->conns_total[1]));
    if (rc == VT_OK)
        rc = vt_buf_printf(out, err,
                           "# HELP vitae_rejected_total Requests or connections refused by a "
                           "limit.\n# TYPE vitae_rejected_total counter\n");
    for (unsigned i = 0; i < 4 && rc == VT_OK; i++)
        rc = vt_buf_printf(out, err, "vitae_rejected_total{reason=\"%s\"} %llu\n", reject_names[i],
                           LD(m->rejected[i]));
    if (rc == VT_OK)
        rc = vt_buf_printf(out, err,
                           "# HELP vitae_append_batch_events Events per append request handed to "
                           "the ledger.\n# TYPE vitae_append_batch_events histogram\n");
    unsigned long long cum = 0;
    for (unsigned i = 0; i < BATCH_BUCKETS && rc == VT_OK; i++) {
        cum += LD(m->batch[i]);
        if (i < BATCH_BUCKETS - 1)
            rc = vt_buf_printf(out, err, "vitae_append_batch_events_bucket{le=\"%u\"} %llu\n",
                               batch_bounds[i], cum);
        else
            rc = vt_buf_printf(out, err, "vitae_append_batch_events_bucket{le=\"+Inf\"} %llu\n",
                               cum);
    }
    if (rc == VT_OK)
        rc = vt_buf_printf(out, err,
                           "vitae_append_batch_events_sum %llu\nvitae_append_batch_events_count "
                           "%llu\n",
                           LD(m->batch_sum), LD(m->batch_count));
    if (rc == VT_OK)
        rc = vt_buf_printf(
            out, err,
            "# HELP vitae_ledger_events Events in the ledger (newest checkpoint size).\n"
            "# TYPE vitae_ledger_events gauge\nvitae_ledger_events %llu\n"
            "# HELP vitae_principals Registered principals.\n# TYPE vitae_principals gauge\n"
            "vitae_principals %zu\n"
            "# HELP vitae_workers_pending Jobs queued or running on workers.\n"
            "# TYPE vitae_workers_pending gauge\nvitae_workers_pending %zu\n"
            "# HELP vitae_uptime_seconds Seconds since start.\n# TYPE vitae_uptime_seconds gauge\n"
            "vitae_uptime_seconds %lld\n",
            (unsigned long long)ledger_size(s->ledger), api_store_count(s->store),
            s->workers ? api_workers_pending(s->workers) : 0,
            (long long)((vt_time_now_ms() - s->started_ms) / 1000));
    return rc;
}
