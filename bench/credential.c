/*
 * bench-credential: raw signature limits (libsodium Ed25519, and P-256 / RSA through a
 * minimal COSE_Sign1), then verification of a typical Open Badges credential in each
 * format, durable bulk issuance through the issuer and the ledger, and verification of an
 * issued credential against the issuer's live status lists with and without the status
 * list cache, in one run. Prints one JSON object per line, the load average first and last.
 * --quick keeps the whole run under 30 s.
 */
#define _GNU_SOURCE
#include "credential/credential.h"

#include <ftw.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double seconds_per_figure = 2.0;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void emit(const char *name, double value, const char *unit, double limit)
{
    printf("{\"bench\":\"credential\",\"name\":\"%s\",\"value\":%.6g,\"unit\":\"%s\"", name, value,
           unit);
    if (limit > 0)
        printf(",\"limit\":%.6g,\"ratio\":%.4f", limit, value / limit);
    printf("}\n");
    fflush(stdout);
}

/* The machine is shared: the 1-minute load average goes beside the figures. */
static void emit_load(const char *name)
{
    double load = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f != NULL) {
        if (fscanf(f, "%lf", &load) != 1)
            load = -1;
        fclose(f);
    }
    emit(name, load, "load-1min", 0);
}

static void die(const char *what, const struct vt_error *err)
{
    fprintf(stderr, "bench-credential: %s: %s\n", what, err != NULL ? err->msg : "failed");
    exit(70);
}

/* ---- timed loops, on 1 or more threads -------------------------------------------------- */

struct loop {
    void (*op)(void *ctx);
    void *ctx;
    double seconds;
    uint64_t count;
};

static void *loop_run(void *p)
{
    struct loop *l = p;
    double end = now_s() + l->seconds;
    while (now_s() < end) {
        for (int i = 0; i < 16; i++)
            l->op(l->ctx);
        l->count += 16;
    }
    return NULL;
}

/* Operations per second of op on `threads` threads at once. */
static double rate(void (*op)(void *), void *ctx, unsigned threads)
{
    struct loop loops[8];
    pthread_t tids[8];
    double start = now_s();
    for (unsigned t = 0; t < threads; t++) {
        loops[t] = (struct loop){op, ctx, seconds_per_figure, 0};
        pthread_create(&tids[t], NULL, loop_run, &loops[t]);
    }
    uint64_t total = 0;
    for (unsigned t = 0; t < threads; t++) {
        pthread_join(tids[t], NULL);
        total += loops[t].count;
    }
    return (double)total / (now_s() - start);
}

/*
 * The rates of op and of its raw limit, measured in alternating slices so that a machine
 * whose load changes during the run affects both alike.
 */
static void paired_rate(void (*op)(void *), void *ctx, void (*lim)(void *), void *lim_ctx,
                        unsigned threads, double *op_rate, double *lim_rate)
{
    const int slices = 5;
    double saved = seconds_per_figure, a = 0, b = 0;
    seconds_per_figure = saved / slices;
    for (int i = 0; i < slices; i++) {
        a += rate(op, ctx, threads);
        b += rate(lim, lim_ctx, threads);
    }
    seconds_per_figure = saved;
    *op_rate = a / slices;
    *lim_rate = b / slices;
}

/* ---- raw limits ---------------------------------------------------------------------------- */

struct raw_ed {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    uint8_t msg[64];
    uint8_t sig[crypto_sign_BYTES];
};

static void raw_ed_verify(void *p)
{
    struct raw_ed *r = p;
    if (crypto_sign_verify_detached(r->sig, r->msg, sizeof(r->msg), r->pk) != 0)
        die("raw verify", NULL);
}

static void raw_ed_sign(void *p)
{
    struct raw_ed *r = p;
    uint8_t sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, NULL, r->msg, sizeof(r->msg), r->sk);
}

/* The smallest COSE_Sign1 a key can verify: the signature check plus a few CBOR bytes. */
struct raw_cose {
    struct cred_key *key;
    struct vt_buf msg;
};

static void raw_cose_verify(void *p)
{
    struct raw_cose *r = p;
    const uint8_t *payload;
    size_t n;
    struct vt_error err;
    if (cred_cose_verify1(r->key, r->msg.data, r->msg.len, &payload, &n, &err) != VT_OK)
        die("raw COSE verify", &err);
}

static void raw_cose_init(struct raw_cose *r, struct cred_key *key)
{
    static const uint8_t protected_es[] = {0xa1, 0x01, 0x26};
    static const uint8_t protected_rs[] = {0xa1, 0x01, 0x39, 0x01, 0x00};
    static const uint8_t payload[32] = {1};
    struct vt_error err;
    r->key = key;
    vt_buf_init(&r->msg, 4096);
    bool es = cred_key_type(key) == CRED_KEY_P256;
    if (cred_cose_sign1(key, es ? protected_es : protected_rs,
                        es ? sizeof(protected_es) : sizeof(protected_rs), NULL, 0, payload,
                        sizeof(payload), &r->msg, &err) != VT_OK)
        die("raw COSE sign", &err);
}

/* ---- a typical credential ------------------------------------------------------------------ */

static const struct cred_alignment alignments[] = {
    {"Statics: equilibrium of rigid bodies", "https://frameworks.example.edu/statics/equilibrium",
     "ST-EQ-1", "Engineering Mechanics", "ceasn:Competency"},
};

static json_t *typical_credential(const char *issuer_did)
{
    static const char *const hashes[] = {
        "9f2c4b1e0d8a7c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a493827160f5e4d3",
        "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809",
    };
    static const uint64_t indexes[] = {104233, 104987};
    struct cred_ledger_evidence ev = {hashes, 2,
                                      "https://vitae.example.edu/log/checkpoint?size=105600",
                                      "vitae.example.edu/ledger", indexes};
    json_t *status = json_array();
    json_array_append_new(status, cred_status_entry("https://vitae.example.edu/status/revocation-0",
                                                    91233, "revocation"));
    json_array_append_new(status, cred_status_entry("https://vitae.example.edu/status/suspension-0",
                                                    91233, "suspension"));
    struct cred_award a = {
        .id = "urn:uuid:0b5a1f3c-7d2e-4c8b-9a6f-3e1d2c4b5a69",
        .issuer_id = issuer_did,
        .issuer_name = "Example Institute of Technology",
        .issuer_url = "https://www.example.edu",
        .valid_from = "2024-06-01T09:00:00Z",
        .subject_id = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        .achievement_id = "https://vitae.example.edu/achievements/statics-101",
        .achievement_name = "Statics 101: Equilibrium",
        .achievement_description = "Demonstrates mastery of static equilibrium.",
        .achievement_type = "Competency",
        .criteria_narrative = "Mastery estimate of at least 0.95 on every aligned skill.",
        .alignments = alignments,
        .alignment_count = 1,
        .result_type = "Percent",
        .result_value = "93",
        .evidence = &ev,
        .credential_status = status,
    };
    json_t *doc = NULL;
    struct vt_error err;
    if (cred_openbadge_new(&a, &doc, &err) != VT_OK)
        die("credential", &err);
    json_decref(status);
    return doc;
}

struct verify_ctx {
    const uint8_t *input;
    size_t n;
    const struct cred_verify_options *opt;
};

static void verify_op(void *p)
{
    struct verify_ctx *v = p;
    struct cred_result *r = NULL;
    struct vt_error err;
    if (cred_verify(v->input, v->n, v->opt, &r, &err) != VT_OK || !cred_result_verified(r)) {
        json_t *j = cred_result_to_json(r);
        char *s = json_dumps(j, 0);
        fprintf(stderr, "bench-credential: not verified: %s\n", s);
        exit(70);
    }
    cred_result_free(r);
}

static void bench_verify(const char *name, const void *input, size_t n,
                         const struct cred_verify_options *opt, void (*lim)(void *), void *lim_ctx,
                         unsigned threads)
{
    struct verify_ctx v = {input, n, opt};
    verify_op(&v);
    double value, limit;
    paired_rate(verify_op, &v, lim, lim_ctx, threads, &value, &limit);
    emit(name, value, "verifies/s", limit);
}

/* ---- issuance ------------------------------------------------------------------------------ */

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* An issued credential checked as vitaed checks it: key history and live status lists. */
static void bench_verify_issued(struct cred_issuer *iss, const struct cred_issued *issued,
                                struct raw_ed *raw)
{
    struct cred_verify_options opt;
    cred_verify_options_init(&opt);
    opt.key_lookup = cred_issuer_key_lookup;
    opt.key_lookup_ctx = iss;
    opt.status_fetch = cred_issuer_status_fetch;
    opt.status_fetch_ctx = iss;
    opt.status_cache = cred_issuer_status_cache(iss);
    bench_verify("verify-di-issued-status-cached-1-thread", issued->di, issued->di_len, &opt,
                 raw_ed_verify, raw, 1);
    opt.status_cache = NULL;
    bench_verify("verify-di-issued-status-uncached-1-thread", issued->di, issued->di_len, &opt,
                 raw_ed_verify, raw, 1);
}

static void bench_issue(size_t count, unsigned threads, double sign_limit, struct raw_ed *raw)
{
    char dir[] = "/tmp/vitae-bench-credential-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(74);
    }
    struct vt_key service;
    vt_key_generate(&service);
    struct ledger_options lo;
    ledger_options_init(&lo);
    lo.key = &service;
    lo.origin = "bench.example/ledger";
    lo.sign_threads = threads;
    lo.batch_max = 4096;
    struct ledger *ledger = NULL;
    struct vt_error err;
    if (ledger_open(dir, &lo, &ledger, &err) != VT_OK)
        die("ledger_open", &err);
    struct cred_key *key = NULL;
    if (cred_key_generate(CRED_KEY_ED25519, &key, &err) != VT_OK)
        die("key", &err);
    struct cred_issuer_options io;
    cred_issuer_options_init(&io);
    io.ledger = ledger;
    io.did = "did:web:vitae.example.edu";
    io.name = "Example Institute of Technology";
    io.key = key;
    io.status_base_url = "https://vitae.example.edu/status";
    io.sign_threads = threads;
    struct cred_issuer *iss = NULL;
    if (cred_issuer_open(&io, &iss, &err) != VT_OK)
        die("cred_issuer_open", &err);

    /* Evidence: two events per learner, 1,000 learners. */
    enum { LEARNERS = 1000 };
    struct ledger_append_req *ev = calloc(2 * LEARNERS, sizeof(*ev));
    struct ledger_append_result *evr = calloc(2 * LEARNERS, sizeof(*evr));
    for (size_t i = 0; i < 2 * LEARNERS; i++) {
        vt_be64_put(ev[i].learner, i / 2 + 1);
        ev[i].type = "assessment";
        ev[i].payload = (const uint8_t *)"{\"item\":\"st-eq-17\",\"correct\":true}";
        ev[i].payload_len = strlen((const char *)ev[i].payload);
    }
    if (ledger_append_batch(ledger, ev, 2 * LEARNERS, evr, &err) != VT_OK)
        die("evidence events", &err);

    struct cred_issue_request *reqs = calloc(count, sizeof(*reqs));
    struct cred_issued *out = calloc(count, sizeof(*out));
    uint64_t *evidence = calloc(2 * count, sizeof(*evidence));
    struct cred_award a = {
        .subject_id = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        .achievement_id = "https://vitae.example.edu/achievements/statics-101",
        .achievement_name = "Statics 101: Equilibrium",
        .achievement_description = "Demonstrates mastery of static equilibrium.",
        .achievement_type = "Competency",
        .criteria_narrative = "Mastery estimate of at least 0.95 on every aligned skill.",
        .alignments = alignments,
        .alignment_count = 1,
    };
    for (size_t i = 0; i < count; i++) {
        size_t l = i % LEARNERS;
        memcpy(reqs[i].learner, ev[2 * l].learner, CRED_LEARNER_LEN);
        reqs[i].award = &a;
        evidence[2 * i] = evr[2 * l].index;
        evidence[2 * i + 1] = evr[2 * l + 1].index;
        reqs[i].evidence = &evidence[2 * i];
        reqs[i].evidence_count = 2;
        reqs[i].formats = CRED_FORMAT_DI;
    }
    double t0 = now_s();
    if (cred_issue_achievements(iss, reqs, count, out, &err) != VT_OK)
        die("bulk issuance", &err);
    double dt = now_s() - t0;
    char name[64];
    snprintf(name, sizeof(name), "issue-bulk-%zu-di-durable", count);
    emit(name, (double)count / dt, "credentials/s", sign_limit);
    emit("issue-bulk-seconds", dt, "s", 0);
    bench_verify_issued(iss, &out[0], raw);
    for (size_t i = 0; i < count; i++)
        cred_issued_release(&out[i]);

    /* One at a time: the latency-bound case, one durable commit per credential. */
    size_t singles = 50;
    t0 = now_s();
    for (size_t i = 0; i < singles; i++) {
        if (cred_issue_achievement(iss, &reqs[i], &out[i], &err) != VT_OK)
            die("single issuance", &err);
        cred_issued_release(&out[i]);
    }
    emit("issue-single-di-durable", (double)singles / (now_s() - t0), "credentials/s", 0);

    free(evidence);
    free(out);
    free(reqs);
    free(ev);
    free(evr);
    cred_issuer_close(iss);
    ledger_close(ledger);
    cred_key_free(key);
    vt_key_release(&service);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    if (argc > 1 && !quick) {
        fprintf(stderr, "usage: bench-credential [--quick]\n");
        return 64;
    }
    struct vt_error err;
    if (vt_core_init(&err) != VT_OK)
        die("init", &err);
    seconds_per_figure = quick ? 1.0 : 3.0;
    unsigned cores = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cores >= 2 ? 2 : 1;

    struct raw_ed raw;
    crypto_sign_keypair(raw.pk, raw.sk);
    randombytes_buf(raw.msg, sizeof(raw.msg));
    crypto_sign_detached(raw.sig, NULL, raw.msg, sizeof(raw.msg), raw.sk);
    emit_load("load-average-start");
    double ed_verify = rate(raw_ed_verify, &raw, 1);
    emit("raw-ed25519-verify-1-thread", ed_verify, "verifies/s", 0);
    double ed_verify2 = rate(raw_ed_verify, &raw, threads);
    emit("raw-ed25519-verify-2-threads", ed_verify2, "verifies/s", 0);

    struct cred_key *ed = NULL, *es = NULL, *rs = NULL;
    if (cred_key_generate(CRED_KEY_ED25519, &ed, &err) != VT_OK ||
        cred_key_generate(CRED_KEY_P256, &es, &err) != VT_OK ||
        cred_key_generate(CRED_KEY_RSA, &rs, &err) != VT_OK)
        die("keys", &err);
    struct raw_cose raw_es, raw_rs;
    raw_cose_init(&raw_es, es);
    raw_cose_init(&raw_rs, rs);
    emit("raw-es256-verify-1-thread", rate(raw_cose_verify, &raw_es, 1), "verifies/s", 0);
    emit("raw-rs256-verify-1-thread", rate(raw_cose_verify, &raw_rs, 1), "verifies/s", 0);

    /* The Ed25519 issuer is a did:key so that verification needs no trust store; ES256 and
     * RS256 issuers are URLs verified against a trusted key, as a JWT verifier would. */
    char did[VT_DIDKEY_MAX];
    const char *vm = cred_key_default_vm(ed);
    snprintf(did, sizeof(did), "%.*s", (int)strcspn(vm, "#"), vm);
    json_t *doc = typical_credential(did);
    json_t *doc_url = typical_credential("https://www.example.edu/issuer");
    json_t *di = NULL;
    char *jwt_ed = NULL, *jwt_es = NULL, *jwt_rs = NULL;
    struct vt_buf cose;
    vt_buf_init(&cose, CRED_DOC_MAX);
    if (cred_sign_di(doc, ed, NULL, &di, &err) != VT_OK ||
        cred_sign_jwt(doc, ed, CRED_JWT_VC_JOSE, NULL, &jwt_ed, &err) != VT_OK ||
        cred_sign_jwt(doc_url, es, CRED_JWT_VC_JOSE, NULL, &jwt_es, &err) != VT_OK ||
        cred_sign_jwt(doc_url, rs, CRED_JWT_VC_JOSE, NULL, &jwt_rs, &err) != VT_OK ||
        cred_sign_cose(doc, ed, NULL, &cose, &err) != VT_OK)
        die("signing", &err);
    struct vt_buf di_text;
    vt_buf_init(&di_text, CRED_DOC_MAX);
    if (cred_json_write(di, 0, &di_text, &err) != VT_OK)
        die("serializing", &err);
    emit("credential-size-di", (double)di_text.len, "bytes", 0);

    struct cred_trust *trust_es = cred_trust_new(), *trust_rs = cred_trust_new();
    cred_trust_add_key(trust_es, NULL, es);
    cred_trust_add_key(trust_rs, NULL, rs);
    struct cred_verify_options opt, opt_es, opt_rs;
    cred_verify_options_init(&opt);
    opt_es = opt;
    opt_es.trust = trust_es;
    opt_rs = opt;
    opt_rs.trust = trust_rs;

    bench_verify("verify-di-1-thread", di_text.data, di_text.len, &opt, raw_ed_verify, &raw, 1);
    bench_verify("verify-jwt-eddsa-1-thread", jwt_ed, strlen(jwt_ed), &opt, raw_ed_verify, &raw, 1);
    bench_verify("verify-jwt-es256-1-thread", jwt_es, strlen(jwt_es), &opt_es, raw_cose_verify,
                 &raw_es, 1);
    bench_verify("verify-jwt-rs256-1-thread", jwt_rs, strlen(jwt_rs), &opt_rs, raw_cose_verify,
                 &raw_rs, 1);
    bench_verify("verify-cose-eddsa-1-thread", cose.data, cose.len, &opt, raw_ed_verify, &raw, 1);
    bench_verify("verify-di-2-threads", di_text.data, di_text.len, &opt, raw_ed_verify, &raw,
                 threads);

    /* Two Ed25519 signatures per durable credential (the proof and the ledger event), measured
     * right before the issuance. */
    double ed_sign2 = rate(raw_ed_sign, &raw, threads);
    emit("raw-ed25519-sign-2-threads", ed_sign2, "signs/s", 0);
    bench_issue(quick ? 20000 : 40000, threads, ed_sign2 / 2, &raw);

    vt_buf_release(&raw_es.msg);
    vt_buf_release(&raw_rs.msg);
    cred_trust_free(trust_es);
    cred_trust_free(trust_rs);
    vt_buf_release(&di_text);
    vt_buf_release(&cose);
    free(jwt_ed);
    free(jwt_es);
    free(jwt_rs);
    json_decref(di);
    json_decref(doc);
    json_decref(doc_url);
    cred_key_free(ed);
    cred_key_free(es);
    cred_key_free(rs);
    emit_load("load-average-end");
    return 0;
}
