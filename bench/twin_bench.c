/*
 * bench-twin: throughput of incremental BKT updates, EM fit time on ASSISTments 2009, the
 * state size per (learner, skill), and the projection's full rebuild and incremental rates.
 * One JSON object per line.
 */
#define _GNU_SOURCE
#include "twin_data.h"

#include <ftw.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH "twin"

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static void emit_limit(const char *name, double value, const char *unit, double limit,
                       const char *note)
{
    char extra[512], l[VT_JSON_NUMBER_MAX], r[VT_JSON_NUMBER_MAX], n[256];
    vt_json_number(limit, l);
    vt_json_number(limit > 0 ? value / limit : 0.0, r);
    twd_json_str(note, n, sizeof(n));
    snprintf(extra, sizeof(extra), ",\"limit\":%s,\"ratio\":%s,\"note\":%s", l, r, n);
    twd_emit(BENCH, name, value, unit, extra);
}

/* The same arithmetic as twin_bkt_step, inlined over an array: the per-core ceiling. */
static double plain_loop(double *pk, const uint8_t *obs, size_t n, size_t rounds)
{
    const double s = 0.1, g = 0.2, t = 0.1, f = 0.0;
    double t0 = twd_now();
    for (size_t r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n; i++) {
            double p = pk[i], o = obs[(i + r) & 1023];
            double lk = o * (1 - s) + (1 - o) * s, lu = o * g + (1 - o) * (1 - g);
            double post = p * lk / (p * lk + (1 - p) * lu);
            pk[i] = post * (1 - f) + (1 - post) * t;
        }
    }
    return (double)(n * rounds) / (twd_now() - t0);
}

static void bench_updates(bool quick)
{
    const uint32_t n_learners = quick ? 20000 : 50000, n_skills = 20;
    const size_t n_events = quick ? 3000000 : 10000000;
    struct twin_mastery *m;
    struct vt_error err;
    if (twin_mastery_new(n_learners, n_skills, 1, TWIN_MULTI_CONJUNCTIVE, &m, &err) != VT_OK) {
        fprintf(stderr, "bench-twin: %s\n", err.msg);
        return;
    }
    uint64_t seed = 7;
    uint8_t obs[1024];
    for (size_t i = 0; i < sizeof(obs); i++)
        obs[i] = lcg(&seed) % 3 != 0;
    /*
     * Two pre-drawn (learner, skill) streams, so the timed loops measure the store only:
     * uniformly random pairs (every update a cache miss: the worst case), and sessions, where
     * a learner makes 50 attempts in a row on their own skills, as ledger batches arrive.
     */
    uint32_t *who = vt_malloc(2 * n_events * sizeof(uint32_t));
    for (size_t i = 0; i < n_events; i++)
        who[i] = (uint32_t)(lcg(&seed) % ((uint64_t)n_learners * n_skills));
    for (size_t i = 0; i < n_events; i += 50) {
        uint32_t l = (uint32_t)(lcg(&seed) % n_learners);
        for (size_t k = i; k < i + 50 && k < n_events; k++)
            who[n_events + k] = l * n_skills + (uint32_t)(lcg(&seed) % n_skills);
    }
    struct twin_attempt a = {.item = TWIN_ITEM_NONE, .n_skills = 1};
    int64_t clock = 0;
    /* A warm pass creates every pair; the timed passes update existing states. */
    for (int pass = 0; pass < 3; pass++) {
        const uint32_t *w = pass == 2 ? who + n_events : who;
        double t0 = twd_now();
        for (size_t i = 0; i < n_events; i++) {
            a.learner = w[i] / n_skills;
            a.skills[0] = w[i] % n_skills;
            a.score = obs[i & 1023];
            a.time_ms = clock++;
            if (twin_mastery_observe(m, &a, NULL, &err) != VT_OK) {
                fprintf(stderr, "bench-twin: %s\n", err.msg);
                break;
            }
        }
        double rate = n_events / (twd_now() - t0);
        if (pass == 0)
            continue;
        double *pk = vt_malloc(n_learners * (size_t)n_skills * sizeof(double));
        for (size_t i = 0; i < (size_t)n_learners * n_skills; i++)
            pk[i] = 0.4;
        double limit = plain_loop(pk, obs, (size_t)n_learners * n_skills, quick ? 3 : 10);
        free(pk);
        emit_limit(pass == 1 ? "bkt.store_updates_per_s_random" : "bkt.store_updates_per_s", rate,
                   "updates/s", limit,
                   pass == 1 ? "twin_mastery_observe, uniformly random (learner, skill) pairs "
                               "(cache miss each), 1 core; limit: the same BKT arithmetic in a "
                               "plain loop over an array"
                             : "twin_mastery_observe, sessions of 50 attempts per learner, 1 "
                               "core; limit: the same BKT arithmetic in a plain loop");
        char extra[160];
        snprintf(extra, sizeof(extra), ",\"target\":5000000,\"pairs\":%zu", twin_mastery_pairs(m));
        if (pass == 2)
            twd_emit(BENCH, "bkt.store_updates_per_s_vs_target", rate, "updates/s", extra);
    }
    struct twin_bkt_params p;
    twin_bkt_params_default(&p);
    double pk = 0.4;
    size_t n = quick ? 20000000 : 100000000;
    double t0 = twd_now();
    for (size_t i = 0; i < n; i++)
        pk = twin_bkt_step(&p, pk, obs[i & 1023]);
    double rate = n / (twd_now() - t0);
    char extra[96];
    snprintf(extra, sizeof(extra), ",\"check\":%.6f", pk);
    twd_emit(BENCH, "bkt.step_per_s", rate, "steps/s", extra);

    size_t bytes = twin_mastery_state_bytes();
    snprintf(extra, sizeof(extra), ",\"target\":64,\"state_struct\":%zu",
             sizeof(struct twin_skill_state));
    twd_emit(BENCH, "mastery.state_bytes_per_pair", (double)bytes, "bytes", extra);
    free(who);
    twin_mastery_free(m);
}

static void bench_em(const char *shared, bool quick)
{
    char *path = twd_shared_path(shared, "data/assistments2009_dkt_split/builder_train.csv");
    if (path == NULL) {
        printf("{\"bench\":\"%s\",\"name\":\"em.fit_time_assist09\",\"value\":null,\"unit\":\"s\","
               "\"skipped\":true,\"reason\":\"dataset data/assistments2009_dkt_split absent\"}\n",
               BENCH);
        return;
    }
    struct twd_rows r = {0};
    struct vt_error err;
    if (twd_load_dkt(path, &r, &err) != VT_OK) {
        fprintf(stderr, "bench-twin: %s\n", err.msg);
        twd_rows_free(&r);
        free(path);
        return;
    }
    struct twin_bkt_params *params = vt_calloc(r.n_skills, sizeof(*params));
    bool *fitted = vt_calloc(r.n_skills, sizeof(bool));
    struct twin_bkt_fit_opts o;
    twin_bkt_fit_opts_default(&o);
    for (unsigned threads = 1; threads <= 2; threads++) {
        if (quick && threads == 1)
            continue;
        double t0 = twd_now();
        if (twd_fit_bkt(&r, r.n_skills, 2, &o, threads, params, fitted, &err) != VT_OK) {
            fprintf(stderr, "bench-twin: %s\n", err.msg);
            break;
        }
        double secs = twd_now() - t0;
        char extra[256];
        snprintf(extra, sizeof(extra),
                 ",\"target\":10,\"threads\":%u,\"rows\":%zu,\"skills\":%u,\"restarts\":%u",
                 threads, r.n, r.n_skills, o.restarts);
        twd_emit(BENCH, threads == 1 ? "em.fit_time_assist09_1thread" : "em.fit_time_assist09",
                 secs, "s", extra);
    }
    free(params);
    free(fitted);
    twd_rows_free(&r);
    free(path);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static enum vt_status rebuild_emit_fw(void *ctx, const uint8_t *p, size_t n, struct vt_error *err)
{
    struct ledger *l = ctx;
    struct ledger_append_req r;
    memset(&r, 0, sizeof(r));
    r.type = "framework";
    r.payload = p;
    r.payload_len = n;
    return ledger_append(l, &r, NULL, err);
}

/*
 * Full rebuild of the projection from a ledger of signed events (many learners, sessions of
 * attempts on a 50-skill framework), and the incremental catch-up over the same events.
 * The limit is ledger_payload_read alone over the same events: every payload read re-verifies
 * the event's signature and decrypts it, which bounds any projection.
 */
static void bench_rebuild(bool quick)
{
    const size_t n_events = quick ? 20000 : 100000;
    const uint32_t n_learners = 1000, n_skills = 50;
    char ldir[] = "/tmp/vitae-bench-twin-XXXXXX", tdir[] = "/tmp/vitae-bench-twin-XXXXXX";
    if (mkdtemp(ldir) == NULL || mkdtemp(tdir) == NULL) {
        fprintf(stderr, "bench-twin: cannot create a temporary directory\n");
        return;
    }
    struct vt_key key;
    uint8_t seed[VT_ED25519_SEED_LEN] = {7};
    vt_key_from_seed(&key, seed);
    struct ledger_options o;
    ledger_options_init(&o);
    o.key = &key;
    o.origin = "bench.example/ledger";
    struct ledger *l = NULL;
    struct twin *t = NULL;
    struct vt_error err;
    vt_error_clear(&err);
    bool ok = false;
    struct twin_framework *fw = NULL;
    if (ledger_open(ldir, &o, &l, &err) != VT_OK ||
        twin_framework_new("bench", NULL, &fw, &err) != VT_OK)
        goto out;
    char id[32], prev[32];
    for (uint32_t k = 0; k < n_skills; k++) {
        snprintf(id, sizeof(id), "skill-%02u", k);
        if (twin_framework_add_skill(fw, id, "", 1, NULL, &err) != VT_OK ||
            (k > 0 && twin_framework_add_edge(fw, id, prev, true, &err) != VT_OK))
            goto out;
        memcpy(prev, id, sizeof(id));
    }
    if (twin_framework_payloads(fw, 48 << 10, rebuild_emit_fw, l, &err) != VT_OK)
        goto out;
    uint64_t rs = 11;
    enum { BATCH = 1000 };
    struct ledger_append_req *reqs = vt_calloc(BATCH, sizeof(*reqs));
    struct ledger_append_result *res = vt_calloc(BATCH, sizeof(*res));
    struct vt_buf *pl = vt_calloc(BATCH, sizeof(*pl));
    for (size_t b = 0; b < BATCH; b++)
        vt_buf_init(&pl[b], 4096);
    size_t done = 0;
    while (done < n_events) {
        uint32_t learner = 0;
        for (size_t b = 0; b < BATCH; b++) {
            if (b % 50 == 0)
                learner = (uint32_t)(lcg(&rs) % n_learners);
            struct twin_event ev;
            twin_event_init(&ev, TWIN_EVENT_ATTEMPT);
            ev.n_skills = 1;
            snprintf(ev.skills[0], TWIN_ID_MAX, "skill-%02u", (unsigned)(lcg(&rs) % n_skills));
            ev.score = lcg(&rs) % 3 != 0;
            ev.score_is_binary = true;
            ev.duration_ms = 1000 + (uint32_t)(lcg(&rs) % 60000);
            vt_buf_reset(&pl[b]);
            if (twin_event_encode(&ev, &pl[b], &err) != VT_OK)
                goto out_batch;
            memset(&reqs[b], 0, sizeof(reqs[b]));
            memset(reqs[b].learner, 0x11, LEDGER_LEARNER_LEN);
            vt_be32_put(reqs[b].learner, learner + 1);
            reqs[b].type = "attempt";
            reqs[b].payload = pl[b].data;
            reqs[b].payload_len = pl[b].len;
        }
        if (ledger_append_batch(l, reqs, BATCH, res, &err) != VT_OK)
            goto out_batch;
        done += BATCH;
    }
    uint64_t size = ledger_size(l);
    struct vt_buf b;
    vt_buf_init(&b, VT_BUF_DEFAULT_MAX);
    double t0 = twd_now();
    for (uint64_t i = 0; i < size; i++) {
        vt_buf_reset(&b);
        if (ledger_payload_read(l, i, &b, &err) != VT_OK)
            break;
    }
    double limit = size / (twd_now() - t0);
    vt_buf_release(&b);
    if (twin_open(l, tdir, NULL, &t, &err) != VT_OK)
        goto out_batch;
    /* Incremental: catch up in slices of 1,000 events, one commit each. */
    t0 = twd_now();
    for (uint64_t c = 0; c < size;) {
        uint64_t to = c + 1000 < size ? c + 1000 : size;
        if (twin_apply(t, c, to, NULL, &err) != VT_OK)
            goto out_batch;
        c = to;
    }
    double inc = size / (twd_now() - t0);
    t0 = twd_now();
    if (twin_rebuild(t, NULL, &err) != VT_OK)
        goto out_batch;
    double full = size / (twd_now() - t0);
    char note[200];
    snprintf(note, sizeof(note),
             "twin_rebuild over %llu signed attempt events, %u learners, %u skills, 2 reader "
             "threads; "
             "limit: ledger_payload_read alone, 1 thread",
             (unsigned long long)size, n_learners, n_skills);
    emit_limit("projection.full_rebuild_events_per_s", full, "events/s", limit, note);
    emit_limit("projection.incremental_events_per_s", inc, "events/s", limit,
               "twin_apply in slices of 1,000 events (one LMDB commit each), same events");
    ok = true;
out_batch:
    for (size_t k = 0; k < BATCH; k++)
        vt_buf_release(&pl[k]);
    free(pl);
    free(reqs);
    free(res);
out:
    if (!ok)
        fprintf(stderr, "bench-twin: %s\n", err.msg);
    twin_framework_free(fw);
    twin_close(t);
    ledger_close(l);
    nftw(ldir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    nftw(tdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"quick", no_argument, NULL, 'q'},
        {"shared", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool quick = false;
    const char *shared = getenv("VITAE_SHARED");
    int c;
    while ((c = getopt_long(argc, argv, "qs:h", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            quick = true;
            break;
        case 's':
            shared = optarg;
            break;
        case 'h':
            printf("usage: bench-twin [--quick] [--shared DIR]\n");
            return 0;
        default:
            fprintf(stderr, "usage: bench-twin [--quick] [--shared DIR]\n");
            return 64;
        }
    }
    if (shared == NULL || shared[0] == '\0')
        shared = VITAE_SHARED_DEFAULT;
    bench_updates(quick);
    bench_em(shared, quick);
    bench_rebuild(quick);
    return 0;
}
