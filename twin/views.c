/* Per-learner and framework views of the projection: specs/twin.md §9.5. */
#include "twin/twin_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static enum vt_status learner_id(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                                 uint32_t *id, struct vt_error *err)
{
    *id = twin_learner_find(t, learner);
    if (*id == TWIN_NO_ID)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown learner: no events in the twin");
    return VT_OK;
}

enum vt_status twin_learner_get(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                                struct twin_learner_summary *out, struct vt_error *err)
{
    uint32_t id;
    memset(out, 0, sizeof(*out));
    enum vt_status st = learner_id(t, learner, &id, err);
    if (st != VT_OK)
        return st;
    const struct twin_learner *L = &t->lrn[id];
    out->events = L->events;
    out->attempts = L->attempts;
    out->late = L->late;
    out->rejected = L->rejected;
    out->first_ms = L->first_ms;
    out->last_ms = L->last_ms;
    out->courses = L->n_courses;
    out->roles = L->n_roles;
    out->erased = L->erased;
    uint32_t n;
    const struct twin_skill_entry *e = twin_mastery_row(t->m, id, &n);
    out->skills = n;
    for (uint32_t i = 0; i < n; i++)
        out->mastered += e[i].p_known >= TWIN_MASTERY_THRESHOLD;
    return VT_OK;
}

/* A seed that depends only on the ids, so a view is the same on every replica. */
static uint64_t view_seed(const struct twin *t, uint32_t learner, uint32_t skill)
{
    uint8_t h[VT_SHA256_LEN];
    struct vt_sha256 *s = vt_sha256_new();
    if (learner != TWIN_NO_ID)
        vt_sha256_update(s, twin_dict_key(&t->learners, learner), LEDGER_LEARNER_LEN);
    vt_sha256_update(s, twin_dict_key(&t->skills, skill), t->skills.lens[skill] + 1);
    vt_sha256_final(s, h);
    vt_sha256_free(s);
    return vt_be64_get(h);
}

static void fill_view(const struct twin *t, uint32_t learner, uint32_t skill,
                      const struct twin_skill_entry *e, struct twin_skill_view *v)
{
    memset(v, 0, sizeof(*v));
    const struct twin_bkt_params *p = &t->m->params[skill];
    memcpy(v->skill, twin_dict_key(&t->skills, skill), t->skills.lens[skill] + 1);
    v->p_known = e ? e->p_known : p->prior;
    v->attempts = e ? e->attempts : 0;
    v->correct = e ? e->correct : 0;
    v->mastered_at = e ? e->mastered_at : 0;
    v->last_ms = e ? e->last_ms : 0;
    v->p_correct = twin_bkt_p_correct(p, v->p_known);
    v->mastered = v->p_known >= TWIN_MASTERY_THRESHOLD;
    if (v->mastered)
        return;
    struct twin_attempts_estimate est;
    if (twin_bkt_attempts_mc(p, v->p_known, TWIN_ATTEMPTS_BELIEF, TWIN_MASTERY_THRESHOLD, 400, 200,
                             view_seed(t, learner, skill), &est, NULL) == VT_OK) {
        v->attempts_to_mastery = est.mean;
        v->censored_rate = est.censored_rate;
    } else {
        /* Parameters are checked when set, so this is only a guard: report the cap. */
        v->attempts_to_mastery = 200;
        v->censored_rate = 1;
    }
}

struct by_id {
    const char *id;
    uint32_t row; /* position in the learner's row */
};

static int by_id_cmp(const void *a, const void *b)
{
    return strcmp(((const struct by_id *)a)->id, ((const struct by_id *)b)->id);
}

enum vt_status twin_learner_skills(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                                   struct twin_skill_view *out, size_t cap, size_t *n,
                                   size_t *total, struct vt_error *err)
{
    uint32_t id;
    *n = 0;
    *total = 0;
    enum vt_status st = learner_id(t, learner, &id, err);
    if (st != VT_OK)
        return st;
    uint32_t count;
    const struct twin_skill_entry *e = twin_mastery_row(t->m, id, &count);
    /* Sort by id first, then simulate only what is returned. */
    struct by_id *order = vt_calloc(count + 1, sizeof(*order));
    for (uint32_t i = 0; i < count; i++)
        order[i] = (struct by_id){twin_dict_key(&t->skills, e[i].skill), i};
    qsort(order, count, sizeof(*order), by_id_cmp);
    for (uint32_t i = 0; i < count && i < cap; i++) {
        const struct twin_skill_entry *x = &e[order[i].row];
        fill_view(t, id, x->skill, x, &out[(*n)++]);
    }
    free(order);
    *total = count;
    return VT_OK;
}

enum vt_status twin_learner_skill(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                                  const char *skill, struct twin_skill_view *out,
                                  struct vt_error *err)
{
    uint32_t id;
    enum vt_status st = learner_id(t, learner, &id, err);
    if (st != VT_OK)
        return st;
    uint32_t s = twin_dict_find(&t->skills, skill, strlen(skill));
    if (s == TWIN_NO_ID)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown skill '%s'", skill);
    uint32_t count;
    const struct twin_skill_entry *e = twin_mastery_row(t->m, id, &count), *found = NULL;
    for (uint32_t i = 0; i < count && found == NULL; i++) {
        if (e[i].skill == s)
            found = &e[i];
    }
    fill_view(t, id, s, found, out);
    return VT_OK;
}

enum vt_status twin_predict(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                            const char *item, const char *const *skills, size_t n_skills,
                            double *p_correct, struct vt_error *err)
{
    *p_correct = 0.5;
    struct twin_attempt a = {.item = TWIN_ITEM_NONE};
    if (item != NULL && skills == NULL) {
        uint32_t i = twin_dict_find(&t->items, item, strlen(item));
        if (i == TWIN_NO_ID || t->it[i].n == 0)
            return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown item '%s'", item);
        memcpy(a.skills, t->it[i].skills, t->it[i].n * sizeof(uint32_t));
        a.n_skills = t->it[i].n;
    } else {
        if (n_skills == 0 || n_skills > TWIN_ATTEMPT_MAX_SKILLS)
            return vt_error_set(err, VT_ERR_INVALID, "predict needs 1..%d skills",
                                TWIN_ATTEMPT_MAX_SKILLS);
        for (size_t k = 0; k < n_skills; k++) {
            a.skills[k] = twin_dict_find(&t->skills, skills[k], strlen(skills[k]));
            if (a.skills[k] == TWIN_NO_ID)
                return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown skill '%s'", skills[k]);
        }
        a.n_skills = (uint32_t)n_skills;
    }
    uint32_t id = twin_learner_find(t, learner);
    /* A learner the twin has not seen predicts like a fresh one: a spare id past the end. */
    a.learner = id != TWIN_NO_ID ? id : (uint32_t)t->learners.n;
    return twin_mastery_predict(t->m, &a, p_correct, err);
}

size_t twin_skill_count(const struct twin *t)
{
    return t->skills.n;
}

enum vt_status twin_skill_at(const struct twin *t, size_t i, char out[TWIN_ID_MAX],
                             struct vt_error *err)
{
    out[0] = '\0';
    if (i >= t->skills.n)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "no skill number %zu", i);
    memcpy(out, twin_dict_key(&t->skills, (uint32_t)i), t->skills.lens[i] + 1);
    return VT_OK;
}

enum vt_status twin_skill_get(const struct twin *t, const char *skill, struct twin_skill_info *info,
                              char (*prereqs)[TWIN_ID_MAX], size_t cap, struct vt_error *err)
{
    uint32_t s = twin_dict_find(&t->skills, skill, strlen(skill));
    memset(info, 0, sizeof(*info));
    if (s == TWIN_NO_ID)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown skill '%s'", skill);
    const struct twin_skill_def *d = &t->sk[s];
    memcpy(info->skill, twin_dict_key(&t->skills, s), t->skills.lens[s] + 1);
    if (d->name != NULL)
        memcpy(info->name, d->name, strlen(d->name) + 1);
    if (d->parent != TWIN_NO_ID)
        memcpy(info->parent, twin_dict_key(&t->skills, d->parent), t->skills.lens[d->parent] + 1);
    info->levels = d->levels;
    info->n_prereqs = d->n_pre;
    info->params = t->m->params[s];
    for (uint32_t k = 0; prereqs != NULL && k < d->n_pre && k < cap; k++)
        memcpy(prereqs[k], twin_dict_key(&t->skills, d->pre[k].skill),
               t->skills.lens[d->pre[k].skill] + 1);
    return VT_OK;
}
