/* BKT fitting over a whole dataset (skills in parallel) and one-step-ahead prediction. */
#include "twin_data.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

uint32_t *twd_learner_counts(const struct twd_rows *r)
{
    uint32_t *c = vt_calloc(r->n_learners ? r->n_learners : 1, sizeof(uint32_t));
    for (size_t i = 0; i < r->n; i++)
        c[r->learner[i]]++;
    return c;
}

struct fit_job {
    struct twin_bkt_seqs **seqs;
    uint32_t n_skills;
    const struct twin_bkt_fit_opts *o;
    struct twin_bkt_params *params;
    bool *fitted;
    atomic_uint next;
};

static void *fit_worker(void *arg)
{
    struct fit_job *j = arg;
    for (;;) {
        uint32_t s = atomic_fetch_add(&j->next, 1);
        if (s >= j->n_skills)
            break;
        twin_bkt_params_default(&j->params[s]);
        j->fitted[s] = false;
        if (twin_bkt_seqs_obs(j->seqs[s]) == 0)
            continue;
        struct twin_bkt_fit_opts o = *j->o;
        o.seed = j->o->seed + s;
        j->fitted[s] = twin_bkt_fit(j->seqs[s], &o, &j->params[s], NULL, NULL) == VT_OK;
    }
    return NULL;
}

static const struct twd_rows *sort_rows;

static int by_skill_learner(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    const struct twd_rows *r = sort_rows;
    if (r->skill[x] != r->skill[y])
        return r->skill[x] < r->skill[y] ? -1 : 1;
    if (r->learner[x] != r->learner[y])
        return r->learner[x] < r->learner[y] ? -1 : 1;
    return (x > y) - (x < y);
}

/* Fits every skill's sequences on n_threads threads, then frees them. */
static void fit_all(struct twin_bkt_seqs **seqs, uint32_t n_skills,
                    const struct twin_bkt_fit_opts *o, unsigned n_threads,
                    struct twin_bkt_params *params, bool *fitted)
{
    struct fit_job job = {seqs, n_skills, o, params, fitted, 0};
    if (n_threads < 1)
        n_threads = 1;
    if (n_threads > 16)
        n_threads = 16;
    pthread_t th[16];
    for (unsigned t = 1; t < n_threads; t++)
        pthread_create(&th[t], NULL, fit_worker, &job);
    fit_worker(&job);
    for (unsigned t = 1; t < n_threads; t++)
        pthread_join(th[t], NULL);
}

static struct twin_bkt_seqs **seqs_new(uint32_t n_skills)
{
    struct twin_bkt_seqs **seqs = vt_calloc(n_skills ? n_skills : 1, sizeof(*seqs));
    for (uint32_t s = 0; s < n_skills; s++)
        seqs[s] = twin_bkt_seqs_new();
    return seqs;
}

static void seqs_free(struct twin_bkt_seqs **seqs, uint32_t n_skills)
{
    for (uint32_t s = 0; s < n_skills; s++)
        twin_bkt_seqs_free(seqs[s]);
    free(seqs);
}

enum vt_status twd_fit_bkt(const struct twd_rows *r, uint32_t n_skills, size_t min_learner_rows,
                           const struct twin_bkt_fit_opts *o, unsigned n_threads,
                           struct twin_bkt_params *params, bool *fitted, struct vt_error *err)
{
    uint32_t *counts = twd_learner_counts(r);
    size_t *idx = vt_malloc((r->n ? r->n : 1) * sizeof(size_t));
    size_t m = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (counts[r->learner[i]] >= min_learner_rows && r->skill[i] < n_skills)
            idx[m++] = i;
    }
    sort_rows = r;
    qsort(idx, m, sizeof(size_t), by_skill_learner);
    struct twin_bkt_seqs **seqs = seqs_new(n_skills);
    enum vt_status st = VT_OK;
    for (size_t k = 0; k < m && st == VT_OK; k++) {
        size_t i = idx[k];
        if (k == 0 || r->skill[idx[k - 1]] != r->skill[i] ||
            r->learner[idx[k - 1]] != r->learner[i])
            twin_bkt_seqs_begin(seqs[r->skill[i]]);
        st = twin_bkt_seqs_add(seqs[r->skill[i]], r->correct[i], err);
    }
    free(idx);
    free(counts);
    if (st == VT_OK)
        fit_all(seqs, n_skills, o, n_threads, params, fitted);
    seqs_free(seqs, n_skills);
    return st;
}

/* Row i opens a run: first row, another learner, or another skill than the row before. */
static bool run_starts(const struct twd_rows *r, size_t i)
{
    return i == 0 || r->learner[i - 1] != r->learner[i] || r->skill[i - 1] != r->skill[i];
}

enum vt_status twd_fit_bkt_runs(const struct twd_rows *r, uint32_t n_skills,
                                const struct twin_bkt_fit_opts *o, unsigned n_threads,
                                struct twin_bkt_params *params, bool *fitted, struct vt_error *err)
{
    struct twin_bkt_seqs **seqs = seqs_new(n_skills);
    enum vt_status st = VT_OK;
    for (size_t i = 0; i < r->n && st == VT_OK; i++) {
        if (r->skill[i] >= n_skills)
            continue;
        if (run_starts(r, i))
            twin_bkt_seqs_begin(seqs[r->skill[i]]);
        st = twin_bkt_seqs_add(seqs[r->skill[i]], r->correct[i], err);
    }
    if (st == VT_OK)
        fit_all(seqs, n_skills, o, n_threads, params, fitted);
    seqs_free(seqs, n_skills);
    return st;
}

void twd_predict_bkt_runs(const struct twd_rows *r, uint32_t n_skills,
                          const struct twin_bkt_params *params, double *pred, uint8_t *label,
                          size_t *n_out)
{
    size_t n = 0;
    double p_known = 0.0;
    for (size_t i = 0; i < r->n; i++) {
        uint32_t s = r->skill[i];
        if (s >= n_skills)
            continue;
        if (run_starts(r, i))
            p_known = params[s].prior;
        pred[n] = twin_bkt_p_correct(&params[s], p_known);
        label[n] = r->correct[i];
        n++;
        p_known = twin_bkt_step(&params[s], p_known, r->correct[i]);
    }
    *n_out = n;
}

enum vt_status twd_predict_bkt(const struct twd_rows *r, uint32_t n_skills, size_t min_learner_rows,
                               const struct twin_bkt_params *params, double *pred, uint8_t *label,
                               size_t *n_out, struct vt_error *err)
{
    *n_out = 0;
    struct twin_mastery *m;
    enum vt_status st =
        twin_mastery_new(r->n_learners, n_skills, 1, TWIN_MULTI_CONJUNCTIVE, &m, err);
    if (st != VT_OK)
        return st;
    for (uint32_t s = 0; s < n_skills && st == VT_OK; s++)
        st = twin_mastery_set_params(m, s, &params[s], err);
    uint32_t *counts = twd_learner_counts(r);
    size_t n = 0;
    for (size_t i = 0; i < r->n && st == VT_OK; i++) {
        if (counts[r->learner[i]] < min_learner_rows)
            continue;
        struct twin_attempt a = {.learner = r->learner[i],
                                 .item = TWIN_ITEM_NONE,
                                 .skills = {r->skill[i]},
                                 .n_skills = 1,
                                 .score = r->correct[i],
                                 .time_ms = (int64_t)i};
        struct twin_observe_result res;
        st = twin_mastery_observe(m, &a, &res, err);
        if (st != VT_OK)
            break;
        pred[n] = res.p_correct;
        label[n] = r->correct[i];
        n++;
    }
    free(counts);
    twin_mastery_free(m);
    *n_out = n;
    return st;
}
