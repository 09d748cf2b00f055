/*
 * bench-api: vitaed under load, next to the raw limits measured in the same run.
 *
 * Starts vitaed on a free loopback port in a temporary directory and drives it with K
 * client threads over WebSocket (a minimal blocking RFC 6455 client, one request in
 * flight per connection):
 *   - durable appends/s: ledger.append_batch in binary (CBOR) frames;
 *   - credential.verify/s: JSON-RPC batches of verify requests in text frames;
 *   - p50/p99 latency of each request message;
 *   - vitaed's resident set idle and with 1,000 idle WebSocket connections.
 * Limits: Ed25519 sign and verify (one core, times the cores), durable LMDB commits of
 * 1,000-record batches. Prints one JSON object per line, the load average first and last;
 * --quick keeps it under a minute.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "raw_limits.h"

#ifndef VITAED_PATH
#error "VITAED_PATH must be defined"
#endif

#define CLIENTS_MAX 64
#define LAT_MAX (1u << 20)
#define IDLE_CONNS 1000
#define RECV_MAX ((size_t)64 << 20)

static int g_port;
static char g_token[128];
static pid_t g_pid;

static void fail(const char *what)
{
    fprintf(stderr, "bench-api: %s: %s\n", what, strerror(errno));
    if (g_pid > 0)
        kill(g_pid, SIGKILL);
    exit(70);
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The machine is shared: the 1-minute load average goes beside the figures. */
static void emit_load(const char *name)
{
    double load = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &load) != 1)
            load = -1;
        fclose(f);
    }
    bench_emit("api", name, load, "load-1min", 0);
}

/* ---------------------------------------------------------------------------------------
 * vitaed
 */

static bool read_small(const char *path, char *out, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t got = fread(out, 1, n - 1, f);
    fclose(f);
    out[got] = '\0';
    while (got > 0 && (out[got - 1] == '\n' || out[got - 1] == '\r'))
        out[--got] = '\0';
    return got > 0;
}

static void server_start(const char *dir)
{
    char data[300], portfile[300], log[300];
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(portfile, sizeof(portfile), "%s/port", dir);
    snprintf(log, sizeof(log), "%s/vitaed.log", dir);
    /* Every connection is from 127.0.0.1 and one principal: lift the per-address and
     * per-principal limits, which are tested elsewhere, so that they do not shape the
     * figures. */
    const char *argv[] = {VITAED_PATH,
                          "--data",
                          data,
                          "--listen",
                          "127.0.0.1:0",
                          "--port-file",
                          portfile,
                          "--log-level",
                          "warn",
                          "--set",
                          "max_conns_per_addr=4096",
                          "--set",
                          "rate=10000000",
                          "--set",
                          "burst=10000000",
                          NULL};
    g_pid = fork();
    if (g_pid < 0)
        fail("fork");
    if (g_pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(VITAED_PATH, (char *const *)argv);
        _exit(127);
    }
    char buf[32];
    for (int i = 0; i < 3000 && g_port <= 0; i++) {
        if (read_small(portfile, buf, sizeof(buf)))
            g_port = atoi(buf);
        else
            sleep_s(0.01);
    }
    if (g_port <= 0)
        fail("vitaed did not start");
    char path[320];
    snprintf(path, sizeof(path), "%s/admin.token", data);
    if (!read_small(path, g_token, sizeof(g_token)))
        fail("no admin token");
    fprintf(stderr, "bench-api: vitaed pid %d port %d\n", (int)g_pid, g_port);
}

static void server_stop(void)
{
    kill(g_pid, SIGTERM);
    int st;
    while (waitpid(g_pid, &st, 0) < 0 && errno == EINTR)
        ;
    g_pid = 0;
}

/* A line of vitaed's /proc status in MiB: "VmRSS:" (everything resident) or "RssAnon:"
 * (heap and stacks, without the LMDB maps, which are the page cache of the data files). */
static double server_status_mb(const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)g_pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    double kb = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, key, n))
            kb = atof(line + n);
    }
    fclose(f);
    return kb / 1024.0;
}

static double server_rss_mb(void)
{
    return server_status_mb("VmRSS:");
}

static double server_anon_mb(void)
{
    return server_status_mb("RssAnon:");
}

/* ---------------------------------------------------------------------------------------
 * A minimal WebSocket client. Frames are masked with a zero key: legal on the wire and
 * free for the client, so the client's cost stays out of the server's figures.
 */

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n > 0) {
        ssize_t r = recv(fd, b, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static int ws_connect(const char *bearer)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)g_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: vitae.v1\r\n"
                     "%s%s%s\r\n",
                     bearer ? "Authorization: Bearer " : "", bearer ? bearer : "",
                     bearer ? "\r\n" : "");
    char head[2048];
    size_t len = 0;
    if (write_all(fd, req, (size_t)n) != 0) {
        close(fd);
        return -1;
    }
    while (len + 1 < sizeof(head)) {
        if (read_all(fd, head + len, 1) != 0) {
            close(fd);
            return -1;
        }
        len++;
        if (len >= 4 && !memcmp(head + len - 4, "\r\n\r\n", 4))
            break;
    }
    head[len] = '\0';
    if (strncmp(head, "HTTP/1.1 101", 12)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int ws_send(int fd, int opcode, const uint8_t *p, size_t len)
{
    uint8_t hdr[14];
    size_t h = 0;
    hdr[h++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        hdr[h++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        hdr[h++] = 0x80 | 126;
        vt_be16_put(hdr + h, (uint16_t)len);
        h += 2;
    } else {
        hdr[h++] = 0x80 | 127;
        vt_be64_put(hdr + h, len);
        h += 8;
    }
    memset(hdr + h, 0, 4);
    h += 4;
    if (write_all(fd, hdr, h) != 0)
        return -1;
    return write_all(fd, p, len);
}

/* One whole message into out; its opcode, or -1. */
static int ws_recv(int fd, struct vt_buf *out)
{
    int msg_op = -1;
    vt_buf_reset(out);
    for (;;) {
        uint8_t h[2], ext[8];
        if (read_all(fd, h, 2) != 0)
            return -1;
        int op = h[0] & 0x0f;
        uint64_t len = h[1] & 0x7f;
        if (len == 126) {
            if (read_all(fd, ext, 2) != 0)
                return -1;
            len = vt_be16_get(ext);
        } else if (len == 127) {
            if (read_all(fd, ext, 8) != 0)
                return -1;
            len = vt_be64_get(ext);
        }
        if (len > RECV_MAX || out->len + len > RECV_MAX)
            return -1;
        if (vt_buf_grow(out, (size_t)len, NULL) != VT_OK ||
            read_all(fd, out->data + out->len, (size_t)len) != 0)
            return -1;
        if (op == 8)
            return -1;
        if (op == 9 || op == 10)
            continue; /* the server does not ping idle bench clients; ignore if it does */
        out->len += (size_t)len;
        if (op != 0)
            msg_op = op;
        if (h[0] & 0x80)
            return msg_op;
    }
}

/* ---------------------------------------------------------------------------------------
 * Load phases
 */

struct client {
    pthread_t t;
    int id;
    int fd;
    double end;
    struct vt_buf req; /* the encoded request message, sent again and again */
    bool binary;
    size_t per_msg; /* operations per message */
    uint64_t ops;
    double *lat;
    size_t lat_n;
    int failed;
};

static bool answer_ok_cbor(const struct vt_buf *b, size_t want)
{
    cbor_item_t *r = NULL;
    if (vt_cbor_decode(b->data, b->len, VT_CBOR_MAX_DEPTH, &r, NULL) != VT_OK)
        return false;
    uint64_t committed = 0;
    bool ok = vt_cbor_get_uint(vt_cbor_map_get_str(vt_cbor_map_get_str(r, "result"), "committed"),
                               &committed, NULL) == VT_OK &&
              committed == want;
    cbor_decref(&r);
    return ok;
}

static bool answer_ok_verify(const struct vt_buf *b, size_t want)
{
    json_t *r = NULL;
    if (vt_json_parse((const char *)b->data, b->len, b->len, 64, &r, NULL) != VT_OK)
        return false;
    bool ok = json_is_array(r) && json_array_size(r) == want;
    for (size_t i = 0; ok && i < want; i++)
        ok = json_is_true(
            json_object_get(json_object_get(json_array_get(r, i), "result"), "verified"));
    json_decref(r);
    return ok;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    struct vt_buf in;
    vt_buf_init(&in, RECV_MAX);
    while (bench_now_s() < c->end) {
        double t0 = bench_now_s();
        if (ws_send(c->fd, c->binary ? 2 : 1, c->req.data, c->req.len) != 0 ||
            ws_recv(c->fd, &in) != (c->binary ? 2 : 1)) {
            c->failed = 1;
            break;
        }
        double dt = bench_now_s() - t0;
        bool ok = c->binary ? answer_ok_cbor(&in, c->per_msg) : answer_ok_verify(&in, c->per_msg);
        if (!ok) {
            fprintf(stderr, "bench-api: client %d: unexpected answer: %.200s\n", c->id,
                    c->binary ? "(cbor)" : (const char *)in.data);
            c->failed = 1;
            break;
        }
        c->ops += c->per_msg;
        if (c->lat_n < LAT_MAX / CLIENTS_MAX)
            c->lat[c->lat_n++] = dt;
    }
    vt_buf_release(&in);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct phase_result {
    double rate, p50_ms, p99_ms;
};

/* Runs k clients for `seconds` (after a warm-up of a fifth of that) and collects. */
static struct phase_result run_phase(struct client *cl, int k, double seconds)
{
    double *all = vt_calloc(LAT_MAX, sizeof(double));
    for (int i = 0; i < k; i++) {
        cl[i].lat = all + (size_t)i * (LAT_MAX / CLIENTS_MAX);
        cl[i].end = bench_now_s() + seconds / 5;
    }
    for (int i = 0; i < k; i++)
        pthread_create(&cl[i].t, NULL, client_main, &cl[i]);
    for (int i = 0; i < k; i++)
        pthread_join(cl[i].t, NULL);
    double start = bench_now_s();
    for (int i = 0; i < k; i++) {
        cl[i].ops = 0;
        cl[i].lat_n = 0;
        cl[i].end = start + seconds;
        if (cl[i].failed)
            fail("a client failed during warm-up");
        pthread_create(&cl[i].t, NULL, client_main, &cl[i]);
    }
    uint64_t ops = 0;
    size_t n = 0;
    for (int i = 0; i < k; i++) {
        pthread_join(cl[i].t, NULL);
        if (cl[i].failed)
            fail("a client failed");
        ops += cl[i].ops;
        memmove(all + n, cl[i].lat, cl[i].lat_n * sizeof(double));
        n += cl[i].lat_n;
    }
    double elapsed = bench_now_s() - start;
    qsort(all, n, sizeof(double), cmp_double);
    struct phase_result r = {(double)ops / elapsed, 0, 0};
    if (n > 0) {
        r.p50_ms = all[n / 2] * 1e3;
        r.p99_ms = all[(size_t)((double)n * 0.99) < n ? (size_t)((double)n * 0.99) : n - 1] * 1e3;
    }
    free(all);
    return r;
}

static void append_request(struct client *c, size_t events)
{
    uint8_t payload[120];
    memset(payload, 0x5a, sizeof(payload));
    cbor_item_t *arr = cbor_new_definite_array(events);
    for (size_t i = 0; i < events; i++) {
        char learner[33];
        /* 64 learners per client, as a class working at once. */
        snprintf(learner, sizeof(learner), "%016x%016x", (unsigned)c->id + 1, (unsigned)(i % 64));
        cbor_item_t *ev = cbor_new_definite_map(3);
        vt_cbor_map_put(ev, cbor_build_string("learner"), cbor_build_string(learner));
        vt_cbor_map_put(ev, cbor_build_string("type"), cbor_build_string("attempt"));
        vt_cbor_map_put(ev, cbor_build_string("payload_b64u"),
                        cbor_build_bytestring(payload, sizeof(payload)));
        (void)cbor_array_push(arr, ev);
        cbor_decref(&ev);
    }
    cbor_item_t *params = cbor_new_definite_map(1);
    vt_cbor_map_put(params, cbor_build_string("events"), arr);
    cbor_item_t *m = cbor_new_definite_map(4);
    vt_cbor_map_put(m, cbor_build_string("jsonrpc"), cbor_build_string("2.0"));
    vt_cbor_map_put(m, cbor_build_string("method"), cbor_build_string("ledger.append_batch"));
    vt_cbor_map_put(m, cbor_build_string("params"), params);
    vt_cbor_map_put(m, cbor_build_string("id"), cbor_build_uint32((uint32_t)c->id));
    vt_buf_init(&c->req, RECV_MAX);
    if (vt_cbor_encode(m, &c->req, NULL) != VT_OK)
        fail("cannot encode the append request");
    cbor_decref(&m);
    c->binary = true;
    c->per_msg = events;
}

static void verify_request(struct client *c, const json_t *vc, size_t per_msg)
{
    json_t *batch = json_array();
    for (size_t i = 0; i < per_msg; i++)
        json_array_append_new(batch, json_pack("{s:s,s:s,s:{s:O},s:I}", "jsonrpc", "2.0", "method",
                                               "credential.verify", "params",
                                               "verifiableCredential", vc, "id", (json_int_t)i));
    char *text = json_dumps(batch, JSON_COMPACT);
    json_decref(batch);
    vt_buf_init(&c->req, RECV_MAX);
    (void)vt_buf_append_str(&c->req, text, NULL);
    free(text);
    c->binary = false;
    c->per_msg = per_msg;
}

/* A credential signed by the service, to verify. */
static json_t *issue_credential(void)
{
    int fd = ws_connect(g_token);
    if (fd < 0)
        fail("connect");
    const char *req =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"credential.issue\",\"params\":{\"credential\":"
        "{\"@context\":[\"https://www.w3.org/ns/credentials/v2\","
        "\"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json\"],\"type\":"
        "[\"VerifiableCredential\",\"OpenBadgeCredential\"],\"credentialSubject\":"
        "{\"id\":\"did:example:learner\",\"achievement\":{\"id\":\"urn:example:fractions\","
        "\"type\":\"Achievement\",\"name\":\"Fractions\",\"description\":\"Adds fractions\","
        "\"criteria\":{\"narrative\":\"Passes the test\"}}}},"
        "\"learner\":\"0123456789abcdef0123456789abcdef\"}}";
    struct vt_buf b;
    vt_buf_init(&b, RECV_MAX);
    json_t *r = NULL;
    if (ws_send(fd, 1, (const uint8_t *)req, strlen(req)) != 0 || ws_recv(fd, &b) != 1 ||
        vt_json_parse((const char *)b.data, b.len, b.len, 64, &r, NULL) != VT_OK)
        fail("credential.issue");
    json_t *vc = json_incref(json_object_get(json_object_get(r, "result"), "verifiableCredential"));
    if (!vc)
        fail("credential.issue gave no credential");
    json_decref(r);
    vt_buf_release(&b);
    close(fd);
    return vc;
}

static void connect_clients(struct client *cl, int k)
{
    for (int i = 0; i < k; i++) {
        memset(&cl[i], 0, sizeof(cl[i]));
        cl[i].id = i;
        cl[i].fd = ws_connect(g_token);
        if (cl[i].fd < 0)
            fail("connect");
    }
}

static void close_clients(struct client *cl, int k)
{
    for (int i = 0; i < k; i++) {
        close(cl[i].fd);
        vt_buf_release(&cl[i].req);
    }
}

static void raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv)
{
    bool quick = false;
    int clients = 8;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            quick = true;
        } else if (!strncmp(argv[i], "--clients=", 10)) {
            clients = atoi(argv[i] + 10);
        } else {
            fprintf(stderr, "usage: bench-api [--quick] [--clients=K]\n");
            return 64;
        }
    }
    if (clients < 1 || clients > CLIENTS_MAX)
        clients = 8;
    if (vt_core_init(NULL) != VT_OK)
        return 70;
    signal(SIGPIPE, SIG_IGN);
    /* The server inherits this: 1,000 idle connections plus the load clients. */
    raise_nofile(IDLE_CONNS * 2 + 256);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    double secs = quick ? 4.0 : 15.0;

    emit_load("load_average_start");
    struct vt_key key;
    vt_key_generate(&key);
    double sign1 = bench_raw_sign(&key, 1, quick ? 0.5 : 2.0);
    bench_emit("api", "raw_ed25519_sign_1core", sign1, "signs/s", 0);
    double verify1 = bench_raw_verify(&key, 1, quick ? 0.5 : 2.0);
    bench_emit("api", "raw_ed25519_verify_1core", verify1, "verifies/s", 0);
    double lmdb = bench_raw_lmdb(quick ? 20 : 100, 1000);
    bench_emit("api", "raw_lmdb_durable_batched_appends", lmdb, "records/s", 0);
    vt_key_release(&key);

    char *dir = bench_tmpdir("api");
    server_start(dir);
    sleep_s(0.5);
    bench_emit("api", "rss_idle", server_rss_mb(), "MiB", 0);
    bench_emit("api", "rss_anon_idle", server_anon_mb(), "MiB", 0);

    /* Idle connections first, on a fresh server: what holding them costs. */
    sleep_s(0.5);
    double anon0 = server_anon_mb();
    int *idle = vt_calloc(IDLE_CONNS, sizeof(int));
    int opened = 0;
    for (; opened < IDLE_CONNS; opened++) {
        idle[opened] = ws_connect(NULL);
        if (idle[opened] < 0)
            break;
    }
    sleep_s(0.5);
    bench_emit("api", "idle_connections", opened, "connections", IDLE_CONNS);
    double anon1 = server_anon_mb();
    bench_emit("api", "rss_1000_idle_connections", server_rss_mb(), "MiB", 0);
    bench_emit("api", "rss_anon_1000_idle_connections", anon1, "MiB", 0);
    bench_emit("api", "rss_anon_per_idle_connection",
               (anon1 - anon0) * 1024.0 / (opened ? opened : 1), "KiB", 0);
    for (int i = 0; i < opened; i++)
        close(idle[i]);
    free(idle);

    struct client cl[CLIENTS_MAX];
    size_t per_batch = 256;
    connect_clients(cl, clients);
    for (int i = 0; i < clients; i++)
        append_request(&cl[i], per_batch);
    struct phase_result ap = run_phase(cl, clients, secs);
    close_clients(cl, clients);
    /* Every event is signed by the service key and committed durably: the smaller of the
     * signing capacity of all cores and the raw durable commit rate bounds the rate. */
    double sign_all = sign1 * (double)cores;
    bench_emit("api", "durable_appends", ap.rate, "events/s", sign_all < lmdb ? sign_all : lmdb);
    bench_emit("api", "append_batch_p50", ap.p50_ms, "ms", 0);
    bench_emit("api", "append_batch_p99", ap.p99_ms, "ms", 0);
    bench_emit("api", "rss_after_appends", server_rss_mb(), "MiB", 0);
    bench_emit("api", "rss_anon_after_appends", server_anon_mb(), "MiB", 0);

    json_t *vc = issue_credential();
    size_t per_msg = 16;
    connect_clients(cl, clients);
    for (int i = 0; i < clients; i++)
        verify_request(&cl[i], vc, per_msg);
    struct phase_result vr = run_phase(cl, clients, secs);
    close_clients(cl, clients);
    bench_emit("api", "credential_verify", vr.rate, "verifies/s", verify1 * (double)cores);
    bench_emit("api", "credential_verify_batch16_p50", vr.p50_ms, "ms", 0);
    bench_emit("api", "credential_verify_batch16_p99", vr.p99_ms, "ms", 0);

    /* Single requests from one client: the latency of one verification when idle. */
    connect_clients(cl, 1);
    verify_request(&cl[0], vc, 1);
    struct phase_result v1 = run_phase(cl, 1, quick ? 1.0 : 3.0);
    close_clients(cl, 1);
    bench_emit("api", "credential_verify_single_p50", v1.p50_ms, "ms", 0);
    bench_emit("api", "credential_verify_single_p99", v1.p99_ms, "ms", 0);
    json_decref(vc);

    server_stop();
    bench_rmtree(dir);
    free(dir);
    emit_load("load_average_end");
    return 0;
}
