/*
 * Raw limits for the benchmarks (raw_limits.h). The loops do nothing but the primitive, so
 * a vitae figure divided by its limit says how much of the machine the code around the
 * primitive costs.
 */
#define _GNU_SOURCE
#include "raw_limits.h"

#include <ftw.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define RAW_THREADS_MAX 8
#define RAW_MSG_LEN 300

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_emit(const char *bench, const char *name, double value, const char *unit, double limit)
{
    printf("{\"bench\":\"%s\",\"name\":\"%s\",\"value\":%.6g,\"unit\":\"%s\"", bench, name, value,
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

void bench_rmtree(const char *dir)
{
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

char *bench_tmpdir(const char *what)
{
    char path[256];
    snprintf(path, sizeof(path), "/tmp/vitae-bench-%s-XXXXXX", what);
    if (!mkdtemp(path)) {
        perror("mkdtemp");
        exit(74);
    }
    return strdup(path);
}

struct raw_arg {
    const struct vt_key *key;
    bool verify;
    double seconds;
    uint64_t count;
};

static void *raw_loop(void *p)
{
    struct raw_arg *a = p;
    uint8_t msg[RAW_MSG_LEN], sig[VT_ED25519_SIG_LEN];
    memset(msg, 1, sizeof(msg));
    vt_key_sign(a->key, msg, sizeof(msg), sig);
    double end = bench_now_s() + a->seconds;
    unsigned bad = 0;
    while (bench_now_s() < end) {
        for (int i = 0; i < 64; i++) {
            if (a->verify) {
                bad += !vt_ed25519_verify(a->key->pk, msg, sizeof(msg), sig);
            } else {
                msg[0] = (uint8_t)i;
                vt_key_sign(a->key, msg, sizeof(msg), sig);
            }
        }
        a->count += 64;
    }
    if (bad)
        fprintf(stderr, "bench: %u raw verifications failed\n", bad);
    return NULL;
}

static double raw_run(const struct vt_key *key, bool verify, unsigned threads, double seconds)
{
    pthread_t t[RAW_THREADS_MAX];
    struct raw_arg a[RAW_THREADS_MAX];
    if (threads < 1)
        threads = 1;
    if (threads > RAW_THREADS_MAX)
        threads = RAW_THREADS_MAX;
    double start = bench_now_s();
    for (unsigned i = 0; i < threads; i++) {
        a[i] = (struct raw_arg){key, verify, seconds, 0};
        pthread_create(&t[i], NULL, raw_loop, &a[i]);
    }
    uint64_t total = 0;
    for (unsigned i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        total += a[i].count;
    }
    return (double)total / (bench_now_s() - start);
}

double bench_raw_sign(const struct vt_key *key, unsigned threads, double seconds)
{
    return raw_run(key, false, threads, seconds);
}

double bench_raw_verify(const struct vt_key *key, unsigned threads, double seconds)
{
    return raw_run(key, true, threads, seconds);
}

double bench_raw_lmdb(int batches, int per_batch)
{
    char *dir = bench_tmpdir("lmdb");
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    mdb_env_create(&env);
    mdb_env_set_mapsize(env, (size_t)1 << 30);
    if (mdb_env_open(env, dir, 0, 0600) != 0) {
        fprintf(stderr, "bench: cannot open LMDB in %s\n", dir);
        exit(74);
    }
    mdb_txn_begin(env, NULL, 0, &txn);
    mdb_dbi_open(txn, NULL, 0, &dbi);
    mdb_txn_commit(txn);
    uint8_t val[RAW_MSG_LEN];
    memset(val, 7, sizeof(val));
    uint64_t k = 0;
    double start = bench_now_s();
    for (int b = 0; b < batches; b++) {
        mdb_txn_begin(env, NULL, 0, &txn);
        for (int i = 0; i < per_batch; i++, k++) {
            uint8_t key[8];
            vt_be64_put(key, k);
            MDB_val mk = {8, key}, mv = {sizeof(val), val};
            mdb_put(txn, dbi, &mk, &mv, MDB_APPEND);
        }
        if (mdb_txn_commit(txn) != 0) {
            fprintf(stderr, "bench: LMDB commit failed\n");
            exit(74);
        }
    }
    double rate = (double)k / (bench_now_s() - start);
    mdb_env_close(env);
    bench_rmtree(dir);
    free(dir);
    return rate;
}
