/*
 * bench-xapi: the xAPI LRS of vitaed under load, next to the raw limits measured in the
 * same run.
 *
 * Starts vitaed on a free loopback port in a temporary directory with one Basic client and
 * drives /xapi/statements over HTTP/1.1 (one request per connection):
 *   - durable statements/s through batch POSTs from K client threads;
 *   - after N statements are stored (spread over 1,000 actors and 5 verbs), the p50/p99
 *     latency of GET with agent + verb + since and limit=100.
 * Limit: durable LMDB commits of 300-byte records in batches of the POST size. Prints one
 * JSON object per line; --quick keeps it under a minute (and stores fewer statements).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "raw_limits.h"

#ifndef VITAED_PATH
#error "VITAED_PATH must be defined"
#endif

#define CLIENTS 4
#define BATCH 500
#define ACTORS 1000
#define VERBS 5
#define AUTH "Authorization: Basic YmVuY2g6YmVuY2gtc2VjcmV0\r\n" /* bench:bench-secret */

static int g_port;
static pid_t g_pid;

static void fail(const char *what)
{
    fprintf(stderr, "bench-xapi: %s: %s\n", what, strerror(errno));
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

static void server_start(const char *dir)
{
    char data[300], portfile[300], log[300];
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(portfile, sizeof(portfile), "%s/port", dir);
    snprintf(log, sizeof(log), "%s/vitaed.log", dir);
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
                          "xapi_basic=bench:bench-secret",
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
    for (int i = 0; i < 3000 && g_port <= 0; i++) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            if (fscanf(f, "%d", &g_port) != 1)
                g_port = 0;
            fclose(f);
        }
        if (g_port <= 0)
            sleep_s(0.01);
    }
    if (g_port <= 0)
        fail("vitaed did not start");
}

static void server_stop(void)
{
    kill(g_pid, SIGTERM);
    int st;
    while (waitpid(g_pid, &st, 0) < 0 && errno == EINTR)
        ;
    g_pid = 0;
}

/* One request on a fresh connection; returns the status, the body in *out (may be NULL). */
static int http(const char *method, const char *path, const char *body, size_t len,
                struct vt_buf *out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)g_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        fail("connect");
    char head[1024];
    int n = snprintf(head, sizeof(head),
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Experience-API-Version: 2.0.0\r\n" AUTH
                     "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: "
                     "close\r\n\r\n",
                     method, path, len);
    if (write(fd, head, (size_t)n) != n)
        fail("write");
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, body + off, len - off);
        if (w <= 0)
            fail("write");
        off += (size_t)w;
    }
    struct vt_buf all;
    vt_buf_init(&all, (size_t)256 << 20);
    char tmp[65536];
    ssize_t r;
    while ((r = read(fd, tmp, sizeof(tmp))) > 0)
        (void)vt_buf_append(&all, tmp, (size_t)r, NULL);
    close(fd);
    int status = all.len > 12 ? atoi((const char *)all.data + 9) : -1;
    if (out) {
        const char *sep = NULL;
        for (size_t i = 0; i + 4 <= all.len && !sep; i++)
            if (!memcmp(all.data + i, "\r\n\r\n", 4))
                sep = (const char *)all.data + i + 4;
        if (sep)
            (void)vt_buf_append(out, sep, all.len - (size_t)(sep - (const char *)all.data), NULL);
    }
    vt_buf_release(&all);
    return status;
}

static const char *const verbs[VERBS] = {
    "http://adlnet.gov/expapi/verbs/answered", "http://adlnet.gov/expapi/verbs/completed",
    "http://adlnet.gov/expapi/verbs/experienced", "http://adlnet.gov/expapi/verbs/attempted",
    "http://adlnet.gov/expapi/verbs/passed"};

/* A batch of attempt-like statements; seq makes each one distinct. */
static void make_batch(struct vt_buf *b, uint64_t seq)
{
    vt_buf_reset(b);
    (void)vt_buf_append_str(b, "[", NULL);
    for (int i = 0; i < BATCH; i++) {
        uint64_t k = seq * BATCH + (uint64_t)i;
        unsigned actor = (unsigned)((k * 2654435761u) % ACTORS);
        (void)vt_buf_printf(b, NULL,
                            "%s{\"actor\":{\"mbox\":\"mailto:learner%u@example.org\"},\"verb\":{"
                            "\"id\":\"%s\"},\"object\":{\"id\":\"http://example.org/items/%llu\"},"
                            "\"result\":{\"success\":%s,\"duration\":\"PT%uS\"}}",
                            i ? "," : "", actor, verbs[k % VERBS], (unsigned long long)(k % 5000),
                            k % 3 ? "true" : "false", (unsigned)(k % 90) + 5);
    }
    (void)vt_buf_append_str(b, "]", NULL);
}

struct poster {
    pthread_t th;
    uint64_t first, count; /* batches */
    double until;          /* stop time (0: run count batches) */
    uint64_t done;
};

static atomic_uint_fast64_t g_seq;

static void *poster_main(void *arg)
{
    struct poster *p = arg;
    struct vt_buf b;
    vt_buf_init(&b, (size_t)8 << 20);
    for (;;) {
        if (p->until > 0 ? bench_now_s() >= p->until : p->done >= p->count)
            break;
        make_batch(&b, atomic_fetch_add(&g_seq, 1));
        if (http("POST", "/xapi/statements", (const char *)b.data, b.len, NULL) != 200)
            fail("POST /xapi/statements refused");
        p->done++;
    }
    vt_buf_release(&b);
    return NULL;
}

/* Statements per second over `seconds` (or until `batches` are posted when seconds is 0). */
static double post_phase(double seconds, uint64_t batches)
{
    struct poster p[CLIENTS];
    memset(p, 0, sizeof(p));
    double t0 = bench_now_s();
    for (int i = 0; i < CLIENTS; i++) {
        p[i].until = seconds > 0 ? t0 + seconds : 0;
        p[i].count = batches / CLIENTS + ((uint64_t)i < batches % CLIENTS);
        if (pthread_create(&p[i].th, NULL, poster_main, &p[i]) != 0)
            fail("pthread_create");
    }
    uint64_t total = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(p[i].th, NULL);
        total += p[i].done;
    }
    return (double)(total * BATCH) / (bench_now_s() - t0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && !strcmp(argv[1], "--quick");
    if (vt_core_init(NULL) != VT_OK)
        return 70;
    signal(SIGPIPE, SIG_IGN);
    char *dir = bench_tmpdir("xapi");
    server_start(dir);

    double secs = quick ? 5 : 30;
    double rate = post_phase(secs, 0);
    double lmdb = bench_raw_lmdb(quick ? 40 : 200, BATCH);
    bench_emit("xapi", "post_statements_per_s", rate, "statements/s", lmdb);

    /* Fill to N statements for the query figure. */
    uint64_t want = quick ? 40000 : 1000000;
    uint64_t have = atomic_load(&g_seq) * BATCH;
    if (have < want)
        (void)post_phase(0, (want - have + BATCH - 1) / BATCH);
    uint64_t stored = atomic_load(&g_seq) * BATCH;
    bench_emit("xapi", "stored_statements", (double)stored, "statements", 0);

    int reqs = quick ? 400 : 2000;
    double *lat = calloc((size_t)reqs, sizeof(double));
    struct vt_buf out;
    vt_buf_init(&out, (size_t)64 << 20);
    size_t returned = 0;
    for (int i = 0; i < reqs; i++) {
        char path[512];
        snprintf(path, sizeof(path),
                 "/xapi/statements?agent=%%7B%%22mbox%%22%%3A%%22mailto%%3Alearner%d%%40example."
                 "org%%22%%7D&verb=%s&since=2000-01-01T00:00:00Z&limit=100",
                 (i * 7919) % ACTORS, verbs[i % VERBS]);
        vt_buf_reset(&out);
        double t0 = bench_now_s();
        if (http("GET", path, NULL, 0, &out) != 200)
            fail("GET /xapi/statements refused");
        lat[i] = (bench_now_s() - t0) * 1000.0;
        json_t *doc = NULL;
        if (vt_json_parse((const char *)out.data, out.len, out.len + 1, 64, &doc, NULL) == VT_OK)
            returned += json_array_size(json_object_get(doc, "statements"));
        json_decref(doc);
    }
    qsort(lat, (size_t)reqs, sizeof(double), cmp_double);
    bench_emit("xapi", "get_agent_verb_since_p50_ms", lat[reqs / 2], "ms", 0);
    bench_emit("xapi", "get_agent_verb_since_p99_ms", lat[reqs * 99 / 100], "ms", 0);
    bench_emit("xapi", "get_statements_per_answer", (double)returned / reqs, "statements", 0);
    free(lat);
    vt_buf_release(&out);

    server_stop();
    bench_rmtree(dir);
    free(dir);
    return 0;
}
