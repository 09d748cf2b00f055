/*
 * Crash test: a child appends from several threads and reports each acknowledged event
 * through a pipe; the parent kills it with SIGKILL at a random moment, reopens the ledger
 * and requires every acknowledged event to be present with the same leaf hash, every chain
 * to verify and the Merkle root to match the newest checkpoint. VITAE_CRASH_ROUNDS
 * overrides the number of kills (default 30).
 */
#define _GNU_SOURCE
#include "ledger/ledger.h"
#include "test_support.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4
#define LEARNERS 6

/* One acknowledgement, written with a single write() (below PIPE_BUF, so atomic). */
struct ack {
    char id[40];
    uint64_t index;
    uint8_t leaf[LEDGER_HASH_LEN];
};

static struct vt_key service_key;
static int ack_fd;
static int round_no;

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static struct ledger *open_ledger(const char *dir)
{
    struct ledger_options o;
    ledger_options_init(&o);
    o.key = &service_key;
    o.origin = "crash.example/ledger";
    o.map_size = (size_t)1 << 20; /* small, so that growth happens under the knife too */
    struct ledger *l;
    struct vt_error err;
    if (ledger_open(dir, &o, &l, &err) != VT_OK) {
        fprintf(stderr, "crash: cannot open ledger: %s\n", err.msg);
        return NULL;
    }
    return l;
}

struct worker {
    struct ledger *l;
    int t;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    unsigned seed = (unsigned)(w->t * 7919 + round_no * 104729);
    for (int i = 0;; i++) {
        struct ledger_append_req reqs[8];
        struct ledger_append_result res[8];
        char ids[8][40], payload[8][64];
        int n = 1 + (int)(rand_r(&seed) % 8);
        for (int k = 0; k < n; k++) {
            memset(&reqs[k], 0, sizeof(reqs[k]));
            memset(reqs[k].learner, 0x33, LEDGER_LEARNER_LEN);
            reqs[k].learner[0] = (uint8_t)(rand_r(&seed) % LEARNERS);
            reqs[k].type = "attempt";
            snprintf(payload[k], sizeof(payload[k]), "r%d t%d i%d k%d", round_no, w->t, i, k);
            reqs[k].payload = (const uint8_t *)payload[k];
            reqs[k].payload_len = strlen(payload[k]);
            snprintf(ids[k], sizeof(ids[k]), "r%d-t%d-%d-%d", round_no, w->t, i, k);
            reqs[k].event_id = (const uint8_t *)ids[k];
            reqs[k].event_id_len = strlen(ids[k]);
        }
        if (ledger_append_batch(w->l, reqs, (size_t)n, res, NULL) != VT_OK)
            _exit(3);
        for (int k = 0; k < n; k++) {
            struct ack a;
            memset(&a, 0, sizeof(a));
            memcpy(a.id, ids[k], sizeof(a.id));
            a.index = res[k].index;
            memcpy(a.leaf, res[k].leaf_hash, LEDGER_HASH_LEN);
            if (write(ack_fd, &a, sizeof(a)) != (ssize_t)sizeof(a))
                _exit(4);
        }
    }
    return NULL;
}

static void child(const char *dir)
{
    struct ledger *l = open_ledger(dir);
    if (!l)
        _exit(2);
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i].l = l;
        w[i].t = i;
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    for (;;)
        pause();
}

static int check_round(const char *dir, const struct ack *acks, size_t n)
{
    struct ledger *l = open_ledger(dir);
    if (!l)
        return 1;
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++) {
        struct ledger_append_result r;
        struct vt_error err;
        if (ledger_id_lookup(l, (const uint8_t *)acks[i].id, strnlen(acks[i].id, 40), &r, &err) !=
            VT_OK) {
            fprintf(stderr, "crash: acknowledged event '%s' is missing: %s\n", acks[i].id, err.msg);
            bad = 1;
        } else if (r.index != acks[i].index ||
                   memcmp(r.leaf_hash, acks[i].leaf, LEDGER_HASH_LEN) != 0) {
            fprintf(stderr, "crash: acknowledged event '%s' changed\n", acks[i].id);
            bad = 1;
        }
    }
    struct ledger_check_report rep;
    struct vt_error err;
    if (!bad && ledger_check(l, &rep, &err) != VT_OK) {
        fprintf(stderr, "crash: store check failed: %s\n", err.msg);
        bad = 1;
    }
    for (int k = 0; k < LEARNERS && !bad; k++) {
        uint8_t learner[LEDGER_LEARNER_LEN];
        memset(learner, 0x33, sizeof(learner));
        learner[0] = (uint8_t)k;
        struct ledger_chain_report cr;
        enum vt_status st = ledger_verify_learner(l, learner, &cr, &err);
        if (st != VT_OK && st != VT_ERR_NOT_FOUND) {
            fprintf(stderr, "crash: chain of learner %d fails: %s\n", k, err.msg);
            bad = 1;
        }
    }
    ledger_close(l);
    return bad;
}

int main(void)
{
    if (vt_core_init(NULL) != VT_OK)
        return 1;
    uint8_t seed[VT_ED25519_SEED_LEN];
    memset(seed, 0x77, sizeof(seed));
    vt_key_from_seed(&service_key, seed);
    int rounds = 30;
    const char *env = getenv("VITAE_CRASH_ROUNDS");
    if (env && atoi(env) > 0)
        rounds = atoi(env);
    char dir[] = "/tmp/vitae-crash-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    size_t cap = 1 << 16, total = 0;
    struct ack *acks = malloc(cap * sizeof(*acks));
    int failed = 0;
    for (round_no = 0; round_no < rounds && !failed; round_no++) {
        int fds[2];
        if (pipe(fds) != 0)
            return 1;
        pid_t pid = fork();
        if (pid < 0)
            return 1;
        if (pid == 0) {
            close(fds[0]);
            ack_fd = fds[1];
            child(dir);
        }
        close(fds[1]);
        /* Let it run between 5 and 120 ms (sometimes killed while still opening). */
        struct timespec ts = {0, (long)(5 + rand() % 116) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status)) {
            fprintf(stderr, "crash: child exited by itself (status %d)\n", status);
            failed = 1;
        }
        size_t before = total;
        for (;;) {
            if (total == cap) {
                cap *= 2;
                acks = realloc(acks, cap * sizeof(*acks));
            }
            ssize_t r = read(fds[0], &acks[total], sizeof(*acks));
            if (r == 0)
                break;
            if (r < 0 && errno == EINTR)
                continue;
            if (r != (ssize_t)sizeof(*acks)) {
                fprintf(stderr, "crash: short acknowledgement record\n");
                failed = 1;
                break;
            }
            total++;
        }
        close(fds[0]);
        if (!failed)
            failed = check_round(dir, acks, total);
        printf("round %d: %zu acknowledged (%zu in all)\n", round_no, total - before, total);
    }
    if (!failed && total == 0) {
        fprintf(stderr, "crash: no append was ever acknowledged\n");
        failed = 1;
    }
    free(acks);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    printf("%s after %d kills, %zu acknowledged events checked\n", failed ? "FAILED" : "ok",
           round_no, total);
    return failed;
}
