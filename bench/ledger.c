/*
 * bench-ledger: raw limits (Ed25519 signing, durable batched LMDB appends) and the ledger's
 * durable signed append rate, latency, space and chain verification, measured in one run.
 * Prints one JSON object per line. --quick keeps the whole run short.
 */
#define _GNU_SOURCE
#include "ledger/ledger.h"

#include <ftw.h>
#include <lmdb.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void emit(const char *name, double value, const char *unit, double limit)
{
    printf("{\"bench\":\"ledger\",\"name\":\"%s\",\"value\":%.6g,\"unit\":\"%s\"", name, value,
           unit);
    if (limit > 0)
        printf(",\"limit\":%.6g,\"ratio\":%.4f", limit, value / limit);
    printf("}\n");
    fflush(stdout);
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rmtree(const char *dir)
{
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static char *tmpdir(void)
{
    char *t = strdup("/tmp/vitae-bench-ledger-XXXXXX");
    if (!mkdtemp(t)) {
        perror("mkdtemp");
        exit(74);
    }
    return t;
}

/* ---- raw Ed25519 signing ---------------------------------------------------------------- */

struct sign_arg {
    const struct vt_key *key;
    double seconds;
    uint64_t count;
};

static void *sign_loop(void *p)
{
    struct sign_arg *a = p;
    uint8_t msg[300], sig[64];
    memset(msg, 1, sizeof(msg));
    double end = now_s() + a->seconds;
    while (now_s() < end) {
        for (int i = 0; i < 64; i++) {
            msg[0] = (uint8_t)i;
            vt_key_sign(a->key, msg, sizeof(msg), sig);
        }
        a->count += 64;
    }
    return NULL;
}

static double raw_sign(const struct vt_key *key, unsigned threads, double seconds)
{
    pthread_t t[8];
    struct sign_arg a[8];
    double start = now_s();
    for (unsigned i = 0; i < threads; i++) {
        a[i] = (struct sign_arg){key, seconds, 0};
        pthread_create(&t[i], NULL, sign_loop, &a[i]);
    }
    uint64_t total = 0;
    for (unsigned i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        total += a[i].count;
    }
    return (double)total / (now_s() - start);
}

/* ---- raw LMDB durable batched appends --------------------------------------------------- */

static double raw_lmdb(int batches, int per_batch)
{
    char *dir = tmpdir();
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    mdb_env_create(&env);
    mdb_env_set_mapsize(env, (size_t)1 << 30);
    if (mdb_env_open(env, dir, 0, 0600) != 0) {
        fprintf(stderr, "bench-ledger: cannot open LMDB in %s\n", dir);
        exit(74);
    }
    mdb_txn_begin(env, NULL, 0, &txn);
    mdb_dbi_open(txn, NULL, 0, &dbi);
    mdb_txn_commit(txn);
    uint8_t val[300];
    memset(val, 7, sizeof(val));
    uint64_t k = 0;
    double start = now_s();
    for (int b = 0; b < batches; b++) {
        mdb_txn_begin(env, NULL, 0, &txn);
        for (int i = 0; i < per_batch; i++, k++) {
            uint8_t key[8];
            vt_be64_put(key, k);
            MDB_val mk = {8, key}, mv = {sizeof(val), val};
            mdb_put(txn, dbi, &mk, &mv, MDB_APPEND);
        }
        if (mdb_txn_commit(txn) != 0) {
            fprintf(stderr, "bench-ledger: LMDB commit failed\n");
            exit(74);
        }
    }
    double rate = (double)k / (now_s() - start);
    mdb_env_close(env);
    rmtree(dir);
    free(dir);
    return rate;
}

/* ---- the ledger ------------------------------------------------------------------------- */

struct producer {
    struct ledger *l;
    int id;
    int batch;
    double end;
    uint64_t count;
    double *lat;
    size_t lat_n, lat_cap;
    int failed;
};

static void *produce(void *p)
{
    struct producer *pr = p;
    char payload[200];
    memset(payload, 'x', sizeof(payload));
    struct ledger_append_req reqs[64];
    struct ledger_append_result res[64];
    uint64_t i = 0;
    while (now_s() < pr->end) {
        for (int k = 0; k < pr->batch; k++, i++) {
            memset(&reqs[k], 0, sizeof(reqs[k]));
            /* Many learners, as in a school: 1,024 per producer. */
            vt_be32_put(reqs[k].learner, (uint32_t)pr->id);
            vt_be32_put(reqs[k].learner + 4, (uint32_t)(i % 1024));
            reqs[k].type = "attempt";
            reqs[k].payload = (const uint8_t *)payload;
            reqs[k].payload_len = sizeof(payload);
        }
        double t0 = now_s();
        struct vt_error err;
        if (ledger_append_batch(pr->l, reqs, (size_t)pr->batch, res, &err) != VT_OK) {
            fprintf(stderr, "bench-ledger: append failed: %s\n", err.msg);
            pr->failed = 1;
            return NULL;
        }
        double dt = now_s() - t0;
        if (pr->lat_n == pr->lat_cap) {
            pr->lat_cap = pr->lat_cap ? pr->lat_cap * 2 : 4096;
            pr->lat = realloc(pr->lat, pr->lat_cap * sizeof(double));
        }
        pr->lat[pr->lat_n++] = dt;
    }
    pr->count = i;
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static struct ledger *open_ledger(const char *dir, const struct vt_key *key)
{
    struct ledger_options o;
    ledger_options_init(&o);
    o.key = key;
    o.origin = "bench.example/ledger";
    o.map_size = (size_t)1 << 30;
    struct ledger *l;
    struct vt_error err;
    if (ledger_open(dir, &o, &l, &err) != VT_OK) {
        fprintf(stderr, "bench-ledger: %s\n", err.msg);
        exit(74);
    }
    return l;
}

static void run_producers(const struct vt_key *key, int n, int batch, double seconds, double limit)
{
    char *dir = tmpdir();
    struct ledger *l = open_ledger(dir, key);
    struct producer *ps = calloc((size_t)n, sizeof(*ps));
    pthread_t *t = calloc((size_t)n, sizeof(*t));
    double start = now_s();
    for (int i = 0; i < n; i++) {
        ps[i].l = l;
        ps[i].id = i;
        ps[i].batch = batch;
        ps[i].end = start + seconds;
        pthread_create(&t[i], NULL, produce, &ps[i]);
    }
    uint64_t total = 0;
    size_t nlat = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        if (ps[i].failed)
            exit(1);
        total += ps[i].count;
        nlat += ps[i].lat_n;
    }
    double elapsed = now_s() - start;
    double *lat = malloc((nlat ? nlat : 1) * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        memcpy(lat + k, ps[i].lat, ps[i].lat_n * sizeof(double));
        k += ps[i].lat_n;
        free(ps[i].lat);
    }
    qsort(lat, nlat, sizeof(double), cmp_double);
    char name[64], sfx[32];
    if (batch > 1)
        snprintf(sfx, sizeof(sfx), "%dp_batch%d", n, batch);
    else
        snprintf(sfx, sizeof(sfx), "%dp", n);
    snprintf(name, sizeof(name), "durable_signed_appends_%s", sfx);
    emit(name, (double)total / elapsed, "events/s", limit);
    snprintf(name, sizeof(name), "append_ack_p50_%s", sfx);
    emit(name, nlat ? lat[nlat / 2] * 1e3 : 0, "ms", 0);
    snprintf(name, sizeof(name), "append_ack_p99_%s", sfx);
    emit(name, nlat ? lat[(size_t)((double)nlat * 0.99)] * 1e3 : 0, "ms", 0);
    if (n == 64 && batch == 1) {
        struct ledger_check_report rep;
        struct vt_error err;
        if (ledger_check(l, &rep, &err) != VT_OK) {
            fprintf(stderr, "bench-ledger: check failed: %s\n", err.msg);
            exit(1);
        }
        char path[4096];
        snprintf(path, sizeof(path), "%s/data.mdb", dir);
        struct stat sb;
        stat(path, &sb);
        emit("bytes_on_disk_per_event", (double)sb.st_blocks * 512.0 / (double)total, "bytes", 0);
    }
    free(lat);
    free(ps);
    free(t);
    ledger_close(l);
    rmtree(dir);
    free(dir);
}

static void chain_verify(const struct vt_key *key)
{
    char *dir = tmpdir();
    struct ledger *l = open_ledger(dir, key);
    enum { N = 10000, B = 1000 };
    struct ledger_append_req *reqs = calloc(B, sizeof(*reqs));
    struct ledger_append_result *res = calloc(B, sizeof(*res));
    uint8_t learner[LEDGER_LEARNER_LEN];
    memset(learner, 0x42, sizeof(learner));
    char payload[200];
    memset(payload, 'y', sizeof(payload));
    for (int i = 0; i < B; i++) {
        memcpy(reqs[i].learner, learner, sizeof(learner));
        reqs[i].type = "progress";
        reqs[i].payload = (const uint8_t *)payload;
        reqs[i].payload_len = sizeof(payload);
    }
    struct vt_error err;
    for (int i = 0; i < N; i += B) {
        if (ledger_append_batch(l, reqs, B, res, &err) != VT_OK) {
            fprintf(stderr, "bench-ledger: %s\n", err.msg);
            exit(1);
        }
    }
    double t0 = now_s();
    struct ledger_chain_report rep;
    if (ledger_verify_learner(l, learner, &rep, &err) != VT_OK || rep.events != N) {
        fprintf(stderr, "bench-ledger: chain verification failed: %s\n", err.msg);
        exit(1);
    }
    emit("verify_chain_10000", now_s() - t0, "s", 0);
    free(reqs);
    free(res);
    ledger_close(l);
    rmtree(dir);
    free(dir);
}

int main(int argc, char **argv)
{
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: bench-ledger [--quick]\n");
            return 0;
        } else {
            fprintf(stderr, "usage: bench-ledger [--quick]\n");
            return 64;
        }
    }
    if (vt_core_init(NULL) != VT_OK)
        return 70;
    struct vt_key key;
    vt_key_generate(&key);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cpus >= 2 ? 2 : 1;
    double sign1 = raw_sign(&key, 1, quick ? 0.3 : 1.0);
    emit("raw_ed25519_sign_1thread", sign1, "signs/s", 0);
    double sign = raw_sign(&key, threads, quick ? 0.3 : 1.0);
    emit("raw_ed25519_sign", sign, "signs/s", 0);
    double lmdb = raw_lmdb(quick ? 30 : 100, 1000);
    emit("raw_lmdb_durable_batched_appends", lmdb, "records/s", 0);
    double limit = sign < lmdb ? sign : lmdb;
    double secs = quick ? 2.0 : 5.0;
    run_producers(&key, 1, 1, quick ? 1.0 : 3.0, limit);
    run_producers(&key, 8, 1, secs, limit);
    run_producers(&key, 64, 1, secs, limit);
    /* Callers that submit their events in batches: what group commit can reach. */
    run_producers(&key, 64, 64, secs, limit);
    /* As many single-event callers as a busy server has open requests. */
    run_producers(&key, 1000, 1, secs, limit);
    chain_verify(&key);
    vt_key_release(&key);
    return 0;
}
