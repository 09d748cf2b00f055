/* The mastery store: BKT state per (learner, skill), updated on every attempt. */
#include "twin/twin_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum vt_status twin_mastery_new(uint32_t max_learners, uint32_t n_skills, uint32_t max_items,
                                enum twin_multi_skill multi, struct twin_mastery **out,
                                struct vt_error *err)
{
    *out = NULL;
    if (n_skills == 0 || n_skills > TWIN_MAX_SKILLS)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "invalid skill count %u: must be 1..%u",
                            n_skills, TWIN_MAX_SKILLS);
    if (max_learners > TWIN_MAX_LEARNERS)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "too many learners: %u > cap %u", max_learners,
                            TWIN_MAX_LEARNERS);
    if (max_items > TWIN_MAX_ITEMS)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "too many items: %u > cap %u", max_items,
                            TWIN_MAX_ITEMS);
    struct twin_mastery *m = vt_calloc(1, sizeof(*m));
    m->max_learners = max_learners;
    m->n_skills = n_skills;
    m->max_items = max_items;
    m->multi = multi;
    m->params = vt_calloc(n_skills, sizeof(*m->params));
    for (uint32_t k = 0; k < n_skills; k++)
        twin_bkt_params_default(&m->params[k]);
    m->items = vt_calloc(max_items, sizeof(*m->items));
    *out = m;
    return VT_OK;
}

void twin_mastery_free(struct twin_mastery *m)
{
    if (m == NULL)
        return;
    free(m->params);
    free(m->items);
    for (uint32_t i = 0; i < m->n_rows; i++)
        free(m->rows[i].e);
    free(m->rows);
    free(m);
}

void twin_mastery_reset(struct twin_mastery *m)
{
    for (uint32_t i = 0; i < m->n_rows; i++) {
        free(m->rows[i].e);
        m->rows[i].e = NULL;
        m->rows[i].n = m->rows[i].cap = 0;
    }
    m->n_pairs = 0;
}

size_t twin_mastery_pairs(const struct twin_mastery *m)
{
    return m->n_pairs;
}

size_t twin_mastery_state_bytes(void)
{
    return sizeof(struct twin_skill_entry);
}

void twin_mastery_grow_skills(struct twin_mastery *m, uint32_t n_skills)
{
    VT_ASSERT(n_skills <= TWIN_MAX_SKILLS);
    if (n_skills <= m->n_skills)
        return;
    m->params = vt_realloc(m->params, (size_t)n_skills * sizeof(*m->params));
    for (uint32_t k = m->n_skills; k < n_skills; k++)
        twin_bkt_params_default(&m->params[k]);
    m->n_skills = n_skills;
}

const struct twin_skill_entry *twin_mastery_row(const struct twin_mastery *m, uint32_t learner,
                                                uint32_t *n)
{
    if (learner >= m->n_rows) {
        *n = 0;
        return NULL;
    }
    *n = m->rows[learner].n;
    return m->rows[learner].e;
}

/* The learner's row, allocating rows up to it. */
static struct twin_learner_row *row_of(struct twin_mastery *m, uint32_t learner)
{
    if (learner >= m->n_rows) {
        uint32_t n = m->n_rows ? m->n_rows : 64;
        while (n <= learner)
            n = n > UINT32_MAX / 2 ? UINT32_MAX : n * 2;
        m->rows = vt_realloc(m->rows, (size_t)n * sizeof(*m->rows));
        memset(m->rows + m->n_rows, 0, (size_t)(n - m->n_rows) * sizeof(*m->rows));
        m->n_rows = n;
    }
    return &m->rows[learner];
}

void twin_mastery_row_set(struct twin_mastery *m, uint32_t learner,
                          const struct twin_skill_entry *e, uint32_t n)
{
    struct twin_learner_row *r = row_of(m, learner);
    m->n_pairs -= r->n;
    free(r->e);
    r->e = n ? vt_memdup(e, (size_t)n * sizeof(*e)) : NULL;
    r->n = r->cap = n;
    m->n_pairs += n;
}

enum vt_status twin_mastery_set_params(struct twin_mastery *m, uint32_t skill,
                                       const struct twin_bkt_params *p, struct vt_error *err)
{
    if (skill >= m->n_skills)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown skill %u", skill);
    enum vt_status st = twin_bkt_params_check(p, err);
    if (st != VT_OK)
        return st;
    m->params[skill] = *p;
    return VT_OK;
}

enum vt_status twin_mastery_get_params(const struct twin_mastery *m, uint32_t skill,
                                       struct twin_bkt_params *p, struct vt_error *err)
{
    if (skill >= m->n_skills)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown skill %u", skill);
    *p = m->params[skill];
    return VT_OK;
}

static enum vt_status check_skills(const struct twin_mastery *m, const uint32_t *skills, size_t n,
                                   struct vt_error *err)
{
    if (n == 0)
        return vt_error_set(err, VT_ERR_INVALID, "invalid attempt: no skills");
    if (n > TWIN_ATTEMPT_MAX_SKILLS)
        return vt_error_set(err, VT_ERR_INVALID, "invalid attempt: %zu skills > cap %d", n,
                            TWIN_ATTEMPT_MAX_SKILLS);
    for (size_t i = 0; i < n; i++) {
        if (skills[i] >= m->n_skills)
            return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown skill %u", skills[i]);
        for (size_t j = 0; j < i; j++) {
            if (skills[j] == skills[i])
                return vt_error_set(err, VT_ERR_INVALID, "invalid attempt: skill %u twice",
                                    skills[i]);
        }
    }
    return VT_OK;
}

enum vt_status twin_mastery_set_item(struct twin_mastery *m, uint32_t item, const uint32_t *skills,
                                     size_t n, struct vt_error *err)
{
    if (item >= m->max_items)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown item %u: cap %u", item, m->max_items);
    enum vt_status st = check_skills(m, skills, n, err);
    if (st != VT_OK)
        return st;
    memcpy(m->items[item].skills, skills, n * sizeof(uint32_t));
    m->items[item].n_skills = (uint32_t)n;
    return VT_OK;
}

/* Resolves the attempt's skills (from its item, or listed) after validating it. */
static enum vt_status resolve(const struct twin_mastery *m, const struct twin_attempt *a,
                              const uint32_t **skills, size_t *n, struct vt_error *err)
{
    if (a->learner >= m->max_learners)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown learner %u: cap %u", a->learner,
                            m->max_learners);
    if (!isfinite(a->score) || a->score < 0.0 || a->score > 1.0)
        return vt_error_set(err, VT_ERR_INVALID, "invalid score %g: not in [0, 1]", a->score);
    if (a->item != TWIN_ITEM_NONE) {
        if (a->item >= m->max_items || m->items[a->item].n_skills == 0)
            return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown item %u", a->item);
        *skills = m->items[a->item].skills;
        *n = m->items[a->item].n_skills;
        return VT_OK;
    }
    *skills = a->skills;
    *n = a->n_skills;
    return check_skills(m, a->skills, a->n_skills, err);
}

/* Position of skill in the row, or of where it would go (binary search). */
static uint32_t row_search(const struct twin_learner_row *r, uint32_t skill, bool *found)
{
    uint32_t lo = 0, hi = r->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (r->e[mid].skill < skill)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < r->n && r->e[lo].skill == skill;
    return lo;
}

/* The state of a pair, or NULL when never observed. */
static const struct twin_skill_entry *find(const struct twin_mastery *m, uint32_t learner,
                                           uint32_t skill)
{
    if (learner >= m->n_rows)
        return NULL;
    bool found;
    uint32_t i = row_search(&m->rows[learner], skill, &found);
    return found ? &m->rows[learner].e[i] : NULL;
}

/* Inserts the pair at its place in the row, starting at the skill's prior. */
static void add_state(struct twin_mastery *m, struct twin_learner_row *r, uint32_t at,
                      uint32_t skill)
{
    if (r->n == r->cap) {
        VT_ASSERT(r->cap < UINT32_MAX / 2);
        r->cap = r->cap ? r->cap * 2 : 4;
        r->e = vt_realloc(r->e, (size_t)r->cap * sizeof(*r->e));
    }
    memmove(&r->e[at + 1], &r->e[at], (size_t)(r->n - at) * sizeof(*r->e));
    struct twin_skill_entry *s = &r->e[at];
    s->p_known = m->params[skill].prior;
    s->last_ms = INT64_MIN;
    s->skill = skill;
    s->attempts = 0;
    s->correct = 0;
    s->mastered_at = 0;
    r->n++;
    m->n_pairs++;
}

static double current_p_known(const struct twin_mastery *m, uint32_t learner, uint32_t skill)
{
    const struct twin_skill_entry *s = find(m, learner, skill);
    return s != NULL ? s->p_known : m->params[skill].prior;
}

static double predict_resolved(const struct twin_mastery *m, uint32_t learner,
                               const uint32_t *skills, size_t n)
{
    const struct twin_bkt_params *pp[TWIN_ATTEMPT_MAX_SKILLS];
    double pk[TWIN_ATTEMPT_MAX_SKILLS];
    for (size_t k = 0; k < n; k++) {
        pp[k] = &m->params[skills[k]];
        pk[k] = current_p_known(m, learner, skills[k]);
    }
    if (m->multi == TWIN_MULTI_CONJUNCTIVE || n == 1)
        return twin_bkt_p_correct_multi(pp, pk, n);
    /* Independent skills: the mean of the per-skill predictions. */
    double sum = 0.0;
    for (size_t k = 0; k < n; k++)
        sum += twin_bkt_p_correct(pp[k], pk[k]);
    return sum / n;
}

enum vt_status twin_mastery_predict(const struct twin_mastery *m, const struct twin_attempt *a,
                                    double *p_correct, struct vt_error *err)
{
    const uint32_t *skills;
    size_t n;
    *p_correct = 0.5;
    enum vt_status st = resolve(m, a, &skills, &n, err);
    if (st != VT_OK)
        return st;
    *p_correct = predict_resolved(m, a->learner, skills, n);
    return VT_OK;
}

enum vt_status twin_mastery_observe(struct twin_mastery *m, const struct twin_attempt *a,
                                    struct twin_observe_result *result, struct vt_error *err)
{
    const uint32_t *skills;
    size_t n;
    enum vt_status st = resolve(m, a, &skills, &n, err);
    if (st != VT_OK)
        return st;
    /* Existing pairs are checked before any is created, so an error changes nothing. */
    const struct twin_learner_row *cr = a->learner < m->n_rows ? &m->rows[a->learner] : NULL;
    for (size_t k = 0; k < n && cr != NULL; k++) {
        bool found;
        uint32_t i = row_search(cr, skills[k], &found);
        if (found && a->time_ms < cr->e[i].last_ms)
            return vt_error_set(err, VT_ERR_CONFLICT,
                                "event out of time order: learner %u skill %u at %lld ms "
                                "before %lld ms",
                                a->learner, skills[k], (long long)a->time_ms,
                                (long long)cr->e[i].last_ms);
    }
    struct twin_learner_row *r = row_of(m, a->learner);
    /* Positions, not pointers: an insertion moves the entries after it. */
    uint32_t idx[TWIN_ATTEMPT_MAX_SKILLS];
    for (size_t k = 0; k < n; k++) {
        bool found;
        uint32_t i = row_search(r, skills[k], &found);
        if (!found)
            add_state(m, r, i, skills[k]);
    }
    for (size_t k = 0; k < n; k++) {
        bool found;
        idx[k] = row_search(r, skills[k], &found);
    }
    struct twin_skill_entry *states[TWIN_ATTEMPT_MAX_SKILLS];
    const struct twin_bkt_params *pp[TWIN_ATTEMPT_MAX_SKILLS];
    double pk[TWIN_ATTEMPT_MAX_SKILLS];
    for (size_t k = 0; k < n; k++) {
        states[k] = &r->e[idx[k]];
        pp[k] = &m->params[skills[k]];
        pk[k] = states[k]->p_known;
    }
    double pc;
    if (m->multi == TWIN_MULTI_CONJUNCTIVE || n == 1) {
        pc = twin_bkt_p_correct_multi(pp, pk, n);
    } else {
        pc = 0.0;
        for (size_t k = 0; k < n; k++)
            pc += twin_bkt_p_correct(pp[k], pk[k]) / n;
    }
    if (m->multi == TWIN_MULTI_CONJUNCTIVE) {
        twin_bkt_step_multi(pp, pk, n, a->score);
    } else {
        for (size_t k = 0; k < n; k++)
            pk[k] = twin_bkt_step(pp[k], pk[k], a->score);
    }
    for (size_t k = 0; k < n; k++) {
        states[k]->p_known = pk[k];
        states[k]->last_ms = a->time_ms;
        states[k]->attempts++;
        states[k]->correct += a->score >= 0.5;
        if (states[k]->mastered_at == 0 && pk[k] >= TWIN_MASTERY_THRESHOLD)
            states[k]->mastered_at = states[k]->attempts;
    }
    if (result != NULL) {
        result->p_correct = pc;
        result->n_skills = (uint32_t)n;
        for (size_t k = 0; k < n; k++)
            result->p_known[k] = pk[k];
    }
    return VT_OK;
}

enum vt_status twin_mastery_get(const struct twin_mastery *m, uint32_t learner, uint32_t skill,
                                struct twin_skill_state *out, struct vt_error *err)
{
    if (skill >= m->n_skills)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown skill %u", skill);
    if (learner >= m->max_learners)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown learner %u: cap %u", learner,
                            m->max_learners);
    const struct twin_skill_entry *s = find(m, learner, skill);
    if (s != NULL) {
        out->p_known = s->p_known;
        out->last_ms = s->last_ms;
        out->attempts = s->attempts;
        out->correct = s->correct;
        out->mastered_at = s->mastered_at;
    } else {
        out->p_known = m->params[skill].prior;
        out->last_ms = INT64_MIN;
        out->attempts = 0;
        out->correct = 0;
        out->mastered_at = 0;
    }
    return VT_OK;
}
