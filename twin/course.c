/* The course twin: engagement, funnel, items, modules, modalities. specs/twin.md §12. */
#include "twin/twin_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WEEK_MS (7 * 86400000LL)
#define BEST_MIN_CREDITS 5

struct item_acc {
    uint32_t n;
    double sx, sy, sxx, syy, sxy, sum;
    uint32_t ny; /* learners with another item (for the correlation) */
};

struct module_acc {
    uint32_t learners, completed;
    double seconds, completion;
};

static double corr(const struct item_acc *a)
{
    if (a->ny < 3)
        return 0.0;
    double n = a->ny;
    double cov = a->sxy / n - (a->sx / n) * (a->sy / n);
    double vx = a->sxx / n - (a->sx / n) * (a->sx / n);
    double vy = a->syy / n - (a->sy / n) * (a->sy / n);
    if (!(vx > 1e-12 && vy > 1e-12))
        return 0.0;
    double r = cov / sqrt(vx * vy);
    return isfinite(r) ? twin_clamp(r, -1.0, 1.0) : 0.0;
}

enum vt_status twin_course(const struct twin *t, const char *course, int64_t now_ms,
                           struct twin_course_report *out, struct twin_module_report *modules,
                           size_t cap_modules, size_t *n_modules, struct twin_item_report *items,
                           size_t cap_items, size_t *n_items, struct vt_error *err)
{
    memset(out, 0, sizeof(*out));
    if (n_modules != NULL)
        *n_modules = 0;
    if (n_items != NULL)
        *n_items = 0;
    uint32_t c = twin_dict_find(&t->courses, course, strlen(course));
    if (c == TWIN_NO_ID)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown course '%s'", course);
    memcpy(out->course, course, strlen(course) + 1);
    struct item_acc *ia = vt_calloc(t->items.n + 1, sizeof(*ia));
    struct module_acc *ma = vt_calloc(t->modules.n + 1, sizeof(*ma));
    double seconds = 0, activities = 0;
    for (size_t l = 0; l < t->learners.n; l++) {
        const struct twin_learner *L = &t->lrn[l];
        const struct twin_lcourse *lc = NULL;
        for (uint32_t i = 0; i < L->n_courses && lc == NULL; i++) {
            if (L->courses[i].course == c)
                lc = &L->courses[i];
        }
        if (lc == NULL)
            continue;
        out->learners++;
        out->enrolled += lc->status != 0xff;
        out->completed += lc->status == TWIN_COMPLETED;
        out->withdrawn += lc->status == TWIN_WITHDRAWN;
        out->active_7d += lc->last_ms != 0 && now_ms - lc->last_ms <= WEEK_MS;
        seconds += (double)lc->seconds;
        activities += lc->activities;
        out->funnel_started += lc->modules_started > 0;
        out->funnel_completed_one += lc->modules_completed > 0;
        out->funnel_completed += lc->status == TWIN_COMPLETED;
        for (unsigned m = 0; m < TWIN_MODALITY_COUNT; m++) {
            out->modality_gain[m] += lc->mod_gain[m];
            out->modality_n[m] += lc->mod_n[m];
        }
        for (uint32_t i = 0; i < L->n_modules; i++) {
            const struct twin_lmodule *lm = &L->modules[i];
            if (lm->course != c)
                continue;
            struct module_acc *a = &ma[lm->module];
            a->learners++;
            a->completed += lm->completed_ms != 0;
            a->seconds += (double)lm->seconds;
            a->completion += lm->completion;
        }
        /* Rest score: the learner's mean first score on the course's other items. */
        double sum = 0;
        uint32_t cnt = 0;
        for (uint32_t i = 0; i < L->n_items; i++) {
            if (L->items[i].course == c) {
                sum += L->items[i].first_score;
                cnt++;
            }
        }
        for (uint32_t i = 0; i < L->n_items; i++) {
            const struct twin_litem *li = &L->items[i];
            if (li->course != c)
                continue;
            struct item_acc *a = &ia[li->item];
            double x = li->first_score;
            a->n++;
            a->sum += x;
            if (cnt >= 2) {
                double y = (sum - x) / (cnt - 1);
                a->ny++;
                a->sx += x;
                a->sy += y;
                a->sxx += x * x;
                a->syy += y * y;
                a->sxy += x * y;
            }
        }
    }
    if (out->learners > 0) {
        out->mean_seconds = seconds / out->learners;
        out->mean_activities = activities / out->learners;
    }
    out->best_modality = -1;
    double best = 0.0;
    for (unsigned m = 0; m < TWIN_MODALITY_COUNT; m++) {
        if (out->modality_n[m] == 0)
            continue;
        out->modality_gain[m] /= out->modality_n[m];
        if (out->modality_n[m] >= BEST_MIN_CREDITS && out->modality_gain[m] > best) {
            best = out->modality_gain[m];
            out->best_modality = (int)m;
        }
    }
    for (size_t m = 0; modules != NULL && m < t->modules.n && *n_modules < cap_modules; m++) {
        if (ma[m].learners == 0)
            continue;
        struct twin_module_report *r = &modules[(*n_modules)++];
        memset(r, 0, sizeof(*r));
        memcpy(r->module, twin_dict_key(&t->modules, (uint32_t)m), t->modules.lens[m] + 1);
        r->learners = ma[m].learners;
        r->completed = ma[m].completed;
        r->mean_seconds = ma[m].seconds / ma[m].learners;
        r->mean_completion = ma[m].completion / ma[m].learners;
    }
    for (size_t i = 0; items != NULL && i < t->items.n && *n_items < cap_items; i++) {
        if (ia[i].n == 0)
            continue;
        struct twin_item_report *r = &items[(*n_items)++];
        memset(r, 0, sizeof(*r));
        memcpy(r->item, twin_dict_key(&t->items, (uint32_t)i), t->items.lens[i] + 1);
        r->learners = ia[i].n;
        r->difficulty = ia[i].sum / ia[i].n;
        r->discrimination = corr(&ia[i]);
    }
    free(ia);
    free(ma);
    return VT_OK;
}
