/* Logistic-model features (PFA, IRT, best-LR) from each learner's running counts. */
#include "twin/twin_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OFF_NONE UINT32_MAX

/* Reserves a block of width columns when feature bit is on; fails on column overflow. */
static bool block(unsigned feats, unsigned bit, uint64_t width, uint64_t *next, uint32_t *off)
{
    *off = OFF_NONE;
    if (!(feats & bit))
        return true;
    if (*next + width >= UINT32_MAX)
        return false;
    *off = (uint32_t)*next;
    *next += width;
    return true;
}

enum vt_status twin_features_new(unsigned feats, uint32_t max_learners, uint32_t n_items,
                                 uint32_t n_skills, struct twin_features **out,
                                 struct vt_error *err)
{
    *out = NULL;
    const unsigned all = TWIN_FEAT_ITEM | TWIN_FEAT_SKILL | TWIN_FEAT_ITEM_COUNTS |
                         TWIN_FEAT_SKILL_COUNTS | TWIN_FEAT_TOTAL_COUNTS | TWIN_FEAT_PFA |
                         TWIN_FEAT_LEARNER | TWIN_FEAT_RECENT | TWIN_FEAT_ITEM_COUNT |
                         TWIN_FEAT_WINDOWS;
    if (feats == 0 || (feats & ~all) != 0)
        return vt_error_set(err, VT_ERR_INVALID, "invalid feature set 0x%x", feats);
    if (max_learners > TWIN_MAX_LEARNERS || n_items > TWIN_MAX_ITEMS || n_skills > TWIN_MAX_SKILLS)
        return vt_error_set(err, VT_ERR_TOO_LARGE,
                            "too many ids: %u learners, %u items, %u skills (caps %u, %u, %u)",
                            max_learners, n_items, n_skills, TWIN_MAX_LEARNERS, TWIN_MAX_ITEMS,
                            TWIN_MAX_SKILLS);
    struct twin_features *f = vt_calloc(1, sizeof(*f));
    f->feats = feats;
    f->max_learners = max_learners;
    f->n_items = n_items;
    f->n_skills = n_skills;
    uint64_t next = 0;
    bool ok = block(feats, TWIN_FEAT_ITEM, n_items, &next, &f->off_item) &&
              block(feats, TWIN_FEAT_SKILL, n_skills, &next, &f->off_skill) &&
              block(feats, TWIN_FEAT_ITEM_COUNTS, 2ull * n_items, &next, &f->off_item_counts) &&
              block(feats, TWIN_FEAT_SKILL_COUNTS, 2ull * n_skills, &next, &f->off_skill_counts) &&
              block(feats, TWIN_FEAT_TOTAL_COUNTS, 2, &next, &f->off_total) &&
              block(feats, TWIN_FEAT_PFA, 2ull * n_skills, &next, &f->off_pfa) &&
              block(feats, TWIN_FEAT_LEARNER, max_learners, &next, &f->off_learner) &&
              block(feats, TWIN_FEAT_RECENT, 6, &next, &f->off_recent) &&
              block(feats, TWIN_FEAT_ITEM_COUNT, 2, &next, &f->off_item_count);
    /* Windows only widen the count blocks that are on. */
    unsigned win = feats & TWIN_FEAT_WINDOWS ? feats : 0;
    const uint64_t w2 = 2 * TWIN_N_WINDOWS;
    ok = ok && block(win, TWIN_FEAT_ITEM_COUNT, w2, &next, &f->off_win_item) &&
         block(win, TWIN_FEAT_SKILL_COUNTS, w2 * n_skills, &next, &f->off_win_skill) &&
         block(win, TWIN_FEAT_TOTAL_COUNTS, w2, &next, &f->off_win_total);
    if (!ok) {
        free(f);
        return vt_error_set(err, VT_ERR_TOO_LARGE, "too many feature columns");
    }
    f->n_cols = (uint32_t)next;
    twin_map_init(&f->item_map);
    twin_map_init(&f->skill_map);
    *out = f;
    return VT_OK;
}

static void window_release(struct twin_window *w)
{
    free(w->time);
    free(w->wins_before);
}

void twin_features_free(struct twin_features *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; f->win_counts != NULL && i < f->n_counts; i++)
        window_release(&f->win_counts[i]);
    for (size_t i = 0; f->win_totals != NULL && i < f->n_totals; i++)
        window_release(&f->win_totals[i]);
    free(f->win_counts);
    free(f->win_totals);
    twin_map_release(&f->item_map);
    twin_map_release(&f->skill_map);
    free(f->counts);
    free(f->totals);
    free(f);
}

uint32_t twin_features_cols(const struct twin_features *f)
{
    return f->n_cols;
}

uint32_t twin_features_count(struct twin_features *f, struct twin_map *map, uint64_t key)
{
    uint32_t i = twin_map_get(map, key);
    if (i != UINT32_MAX)
        return i;
    VT_ASSERT(f->n_counts < UINT32_MAX - 1);
    if (f->n_counts == f->cap_counts) {
        f->cap_counts = f->cap_counts ? f->cap_counts * 2 : 1024;
        f->counts = vt_realloc(f->counts, f->cap_counts * sizeof(*f->counts));
    }
    twin_map_put(map, key, (uint32_t)f->n_counts);
    f->counts[f->n_counts] = (struct twin_count){0, 0, 0};
    if (f->feats & TWIN_FEAT_WINDOWS) {
        if (f->n_counts == f->cap_win_counts) {
            f->cap_win_counts = f->cap_counts;
            f->win_counts = vt_realloc(f->win_counts, f->cap_win_counts * sizeof(*f->win_counts));
        }
        f->win_counts[f->n_counts] = (struct twin_window){0};
    }
    return (uint32_t)f->n_counts++;
}

static enum vt_status check(const struct twin_features *f, const struct twin_attempt *a,
                            struct vt_error *err)
{
    if (a->learner >= f->max_learners)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown learner %u", a->learner);
    bool needs_item =
        f->off_item != OFF_NONE || f->off_item_counts != OFF_NONE || f->off_item_count != OFF_NONE;
    if (needs_item && a->item >= f->n_items)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown item %u", a->item);
    if (a->n_skills > TWIN_ATTEMPT_MAX_SKILLS)
        return vt_error_set(err, VT_ERR_INVALID, "invalid attempt: %u skills > cap %d", a->n_skills,
                            TWIN_ATTEMPT_MAX_SKILLS);
    for (uint32_t k = 0; k < a->n_skills; k++) {
        if (a->skills[k] >= f->n_skills)
            return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown skill %u", a->skills[k]);
    }
    if (!isfinite(a->score) || a->score < 0.0 || a->score > 1.0)
        return vt_error_set(err, VT_ERR_INVALID, "invalid score %g: not in [0, 1]", a->score);
    return VT_OK;
}

/* Adds (attempts, wins) as log(1 + count) at col and col + 1. */
static void add_log_counts(struct twin_sparse *x, uint32_t col, const struct twin_count *c)
{
    if (c->attempts > 0)
        (void)twin_sparse_add(x, col, log1p(c->attempts), NULL);
    if (c->wins > 0)
        (void)twin_sparse_add(x, col + 1, log1p(c->wins), NULL);
}

/* Last outcome (as correct / wrong indicators) and the success rate of the last five. */
static void add_recent(struct twin_sparse *x, uint32_t col, const struct twin_count *c)
{
    if (c->attempts == 0)
        return;
    (void)twin_sparse_add(x, col + ((c->recent & 1) ? 0 : 1), 1.0, NULL);
    uint32_t k = c->attempts < 5 ? c->attempts : 5;
    uint32_t wins = (uint32_t)__builtin_popcount(c->recent & ((1u << k) - 1));
    (void)twin_sparse_add(x, col + 2, (double)wins / k, NULL);
}

static void count_outcome(struct twin_count *c, uint32_t win)
{
    c->attempts++;
    c->wins += win;
    c->recent = c->recent << 1 | win;
}

static const int64_t window_ms[TWIN_N_WINDOWS] = {
    30LL * 86400000,
    7LL * 86400000,
    86400000,
    3600000,
};

/* Index of the first attempt at or after t (the attempts are in time order). */
static uint32_t window_first(const struct twin_window *w, int64_t t)
{
    uint32_t lo = 0, hi = w->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (w->time[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * log(1 + attempts), log(1 + wins) within each window ending at now, as Gervet et al.'s
 * time-window queues: an attempt counts while now - its time is at most the window.
 */
static void add_window_counts(struct twin_sparse *x, uint32_t col, const struct twin_window *w,
                              int64_t now)
{
    for (unsigned k = 0; k < TWIN_N_WINDOWS; k++) {
        int64_t from = now > INT64_MIN + window_ms[k] ? now - window_ms[k] : INT64_MIN;
        uint32_t first = window_first(w, from);
        uint32_t attempts = w->n - first;
        uint32_t wins = w->n ? w->wins_before[w->n] - w->wins_before[first] : 0;
        if (attempts > 0)
            (void)twin_sparse_add(x, col + 2 * k, log1p(attempts), NULL);
        if (wins > 0)
            (void)twin_sparse_add(x, col + 2 * k + 1, log1p(wins), NULL);
    }
}

static void window_push(struct twin_window *w, int64_t t, uint32_t win)
{
    if (w->n + 1 >= w->cap) {
        w->cap = w->cap ? w->cap * 2 : 8;
        w->time = vt_realloc(w->time, w->cap * sizeof(*w->time));
        w->wins_before = vt_realloc(w->wins_before, (w->cap + 1) * sizeof(*w->wins_before));
        if (w->n == 0)
            w->wins_before[0] = 0;
    }
    w->time[w->n] = t;
    w->wins_before[w->n + 1] = w->wins_before[w->n] + win;
    w->n++;
}

enum vt_status twin_features_encode(struct twin_features *f, const struct twin_attempt *a,
                                    struct twin_sparse *x, struct vt_error *err)
{
    enum vt_status st = check(f, a, err);
    if (st != VT_OK)
        return st;
    if (x->n_cols < f->n_cols)
        return vt_error_set(err, VT_ERR_INVALID, "matrix has %u columns, features need %u",
                            x->n_cols, f->n_cols);
    size_t row_max = 16 + 5 * (size_t)a->n_skills + 2 * TWIN_N_WINDOWS * (2 + (size_t)a->n_skills);
    if (x->nnz + row_max > TWIN_SPARSE_MAX_NNZ)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "sparse matrix too large");

    if (a->learner >= f->n_totals) {
        size_t n = f->n_totals ? f->n_totals : 64;
        while (n <= a->learner)
            n *= 2;
        if (n > f->max_learners)
            n = f->max_learners;
        f->totals = vt_realloc(f->totals, n * sizeof(*f->totals));
        memset(f->totals + f->n_totals, 0, (n - f->n_totals) * sizeof(*f->totals));
        if (f->feats & TWIN_FEAT_WINDOWS) {
            f->win_totals = vt_realloc(f->win_totals, n * sizeof(*f->win_totals));
            memset(f->win_totals + f->n_totals, 0, (n - f->n_totals) * sizeof(*f->win_totals));
        }
        f->n_totals = n;
    }
    struct twin_count *tot = &f->totals[a->learner];
    /* Window counts need each learner's attempts in time order. */
    struct twin_window *wtot = f->win_totals ? &f->win_totals[a->learner] : NULL;
    if (wtot != NULL && wtot->n > 0 && a->time_ms < wtot->time[wtot->n - 1])
        return vt_error_set(err, VT_ERR_CONFLICT, "event out of time order for learner %u",
                            a->learner);
    /* Create every entry first: growing the array would move earlier pointers. */
    uint32_t ic_i = UINT32_MAX, sc_i[TWIN_ATTEMPT_MAX_SKILLS];
    if (f->off_item_counts != OFF_NONE || f->off_item_count != OFF_NONE)
        ic_i = twin_features_count(f, &f->item_map, twin_pair_key(a->learner, a->item));
    for (uint32_t k = 0; k < a->n_skills; k++)
        sc_i[k] = twin_features_count(f, &f->skill_map, twin_pair_key(a->learner, a->skills[k]));
    struct twin_count *ic = ic_i == UINT32_MAX ? NULL : &f->counts[ic_i];
    struct twin_count *sc[TWIN_ATTEMPT_MAX_SKILLS];
    for (uint32_t k = 0; k < a->n_skills; k++)
        sc[k] = &f->counts[sc_i[k]];

    if (f->off_item != OFF_NONE)
        (void)twin_sparse_add(x, f->off_item + a->item, 1.0, NULL);
    if (f->off_learner != OFF_NONE)
        (void)twin_sparse_add(x, f->off_learner + a->learner, 1.0, NULL);
    if (ic != NULL && f->off_item_counts != OFF_NONE)
        add_log_counts(x, f->off_item_counts + 2 * a->item, ic);
    if (ic != NULL && f->off_item_count != OFF_NONE)
        add_log_counts(x, f->off_item_count, ic);
    if (f->off_win_item != OFF_NONE)
        add_window_counts(x, f->off_win_item, &f->win_counts[ic_i], a->time_ms);
    if (f->off_total != OFF_NONE)
        add_log_counts(x, f->off_total, tot);
    if (f->off_win_total != OFF_NONE)
        add_window_counts(x, f->off_win_total, wtot, a->time_ms);
    for (uint32_t k = 0; k < a->n_skills; k++) {
        uint32_t s = a->skills[k];
        if (f->off_skill != OFF_NONE)
            (void)twin_sparse_add(x, f->off_skill + s, 1.0, NULL);
        if (f->off_skill_counts != OFF_NONE)
            add_log_counts(x, f->off_skill_counts + 2 * s, sc[k]);
        if (f->off_win_skill != OFF_NONE)
            add_window_counts(x, f->off_win_skill + 2 * TWIN_N_WINDOWS * s, &f->win_counts[sc_i[k]],
                              a->time_ms);
        if (f->off_pfa != OFF_NONE) {
            if (sc[k]->wins > 0)
                (void)twin_sparse_add(x, f->off_pfa + 2 * s, sc[k]->wins, NULL);
            if (sc[k]->attempts > sc[k]->wins)
                (void)twin_sparse_add(x, f->off_pfa + 2 * s + 1, sc[k]->attempts - sc[k]->wins,
                                      NULL);
        }
    }
    if (f->off_recent != OFF_NONE) {
        add_recent(x, f->off_recent + 3, tot);
        /* Several skills share the columns: the first skill of the item speaks for them. */
        if (a->n_skills > 0)
            add_recent(x, f->off_recent, sc[0]);
    }
    twin_sparse_end_row(x, a->score);

    uint32_t win = a->score >= 0.5;
    count_outcome(tot, win);
    if (ic != NULL)
        count_outcome(ic, win);
    for (uint32_t k = 0; k < a->n_skills; k++)
        count_outcome(sc[k], win);
    if (f->feats & TWIN_FEAT_WINDOWS) {
        window_push(wtot, a->time_ms, win);
        if (ic_i != UINT32_MAX)
            window_push(&f->win_counts[ic_i], a->time_ms, win);
        for (uint32_t k = 0; k < a->n_skills; k++)
            window_push(&f->win_counts[sc_i[k]], a->time_ms, win);
    }
    return VT_OK;
}
