/* Behaviour flags, prerequisite diagnosis and at-risk views: specs/twin.md §10–§11. */
#include "twin/twin_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000.0

static const char *const flag_names[TWIN_FLAG_KINDS] = {
    "wheel-spinning", "guessing", "hint-abuse", "disengaged", "overload",
};

const char *twin_flag_name(unsigned kind)
{
    return kind < TWIN_FLAG_KINDS ? flag_names[kind] : "";
}

/* Rule constants (specs/twin.md §10). */
#define WHEEL_ATTEMPTS 10 /* Beck & Gong 2013, ASSISTments */
#define GUESS_RUN 3       /* wrong attempts in a row */
#define GUESS_MS 5000     /* each faster than this */
#define HINT_MIN 3        /* hints in one attempt */
#define HINT_MS_PER 3000  /* under this many ms per hint */
#define HINT_ATTEMPTS 3   /* such attempts among the recent ones */
#define IDLE_DAYS 7.0     /* no event for this long */
#define OVERLOAD_MIN 8    /* recent first attempts needed */
#define OVERLOAD_TIME 1.5 /* later half's mean duration ≥ this × the earlier half's */
#define OVERLOAD_DROP 0.2 /* and its mean score ≥ this much lower */
#define STALL_WINDOW 5    /* first attempts looked at for a stall */
#define STALL_GAIN 0.02   /* P(L) gained over them below this */
#define BEST_MIN_CREDITS 5

int twin_best_modality(const struct twin *t, uint32_t skill)
{
    double gain[TWIN_MODALITY_COUNT] = {0};
    uint32_t n[TWIN_MODALITY_COUNT] = {0};
    for (size_t l = 0; l < t->learners.n; l++) {
        if (skill != TWIN_NO_ID) {
            struct twin_skill_state s;
            if (twin_mastery_get(t->m, (uint32_t)l, skill, &s, NULL) != VT_OK || s.attempts == 0)
                continue;
        }
        for (unsigned m = 0; m < TWIN_MODALITY_COUNT; m++) {
            gain[m] += t->lrn[l].mod_gain[m];
            n[m] += t->lrn[l].mod_n[m];
        }
    }
    int best = -1;
    double best_mean = 0.0;
    for (unsigned m = 0; m < TWIN_MODALITY_COUNT; m++) {
        if (n[m] >= BEST_MIN_CREDITS && gain[m] / n[m] > best_mean) {
            best_mean = gain[m] / n[m];
            best = (int)m;
        }
    }
    return best;
}

/* The ring's entries oldest first. */
static size_t ring_ordered(const struct twin_learner *L, const struct twin_recent **out)
{
    size_t n = L->ring_n < TWIN_RING ? (size_t)L->ring_n : TWIN_RING;
    for (size_t i = 0; i < n; i++)
        out[i] = &L->ring[(L->ring_n - n + i) % TWIN_RING];
    return n;
}

static struct twin_flag *flag_add(struct twin_flag *out, size_t cap, size_t *n,
                                  enum twin_flag_kind kind)
{
    if (*n >= cap)
        return NULL;
    struct twin_flag *f = &out[(*n)++];
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    return f;
}

static void flag_event(struct twin_flag *f, uint64_t index)
{
    if (f->n_events < TWIN_FLAG_MAX_EVENTS) {
        f->events[f->n_events++] = index;
    } else {
        /* Keep the latest: drop the oldest. */
        memmove(f->events, f->events + 1, (TWIN_FLAG_MAX_EVENTS - 1) * sizeof(f->events[0]));
        f->events[TWIN_FLAG_MAX_EVENTS - 1] = index;
    }
}

static void skill_name(const struct twin *t, uint32_t skill, char out[TWIN_ID_MAX])
{
    out[0] = '\0';
    if (skill != TWIN_NO_ID && skill < t->skills.n)
        memcpy(out, twin_dict_key(&t->skills, skill), t->skills.lens[skill] + 1);
}

static void modality_advice(const struct twin *t, uint32_t skill, const char *fallback,
                            char out[TWIN_NAME_MAX])
{
    int best = twin_best_modality(t, skill);
    if (best >= 0)
        snprintf(out, TWIN_NAME_MAX,
                 "switch to %s content: it preceded the largest mastery gains for learners "
                 "working on the same skill",
                 twin_modality_name((unsigned)best));
    else
        snprintf(out, TWIN_NAME_MAX, "%s", fallback);
}

static void wheel_spinning(const struct twin *t, uint32_t id, const struct twin_recent **ring,
                           size_t nr, struct twin_flag *out, size_t cap, size_t *n)
{
    uint32_t count;
    const struct twin_skill_entry *e = twin_mastery_row(t->m, id, &count);
    for (uint32_t i = 0; i < count; i++) {
        if (e[i].attempts < WHEEL_ATTEMPTS || e[i].mastered_at != 0)
            continue;
        struct twin_flag *f = flag_add(out, cap, n, TWIN_FLAG_WHEEL_SPINNING);
        if (f == NULL)
            return;
        skill_name(t, e[i].skill, f->skill);
        f->strength = e[i].attempts;
        for (size_t k = 0; k < nr; k++) {
            if (ring[k]->skill == e[i].skill && ring[k]->attempt_no == 1)
                flag_event(f, ring[k]->index);
        }
        struct twin_diagnosis *d = vt_malloc(sizeof(*d));
        if (twin_diagnose(t, (const uint8_t *)twin_dict_key(&t->learners, id), f->skill, d, NULL) ==
                VT_OK &&
            d->n_weak > 0)
            snprintf(f->intervention, TWIN_NAME_MAX,
                     "practise the prerequisite '%.100s' first (P(known) %.2f), then return",
                     d->weak[0].skill, d->weak[0].p_known);
        else
            modality_advice(t, e[i].skill,
                            "stop practice on this skill; give a worked example or tutoring",
                            f->intervention);
        free(d);
    }
}

static void guessing(const struct twin *t, const struct twin_recent **ring, size_t nr,
                     struct twin_flag *out, size_t cap, size_t *n)
{
    /* The latest run of fast wrong attempts on one item (or skill). */
    size_t best_end = 0, best_len = 0, run = 0;
    for (size_t k = 0; k < nr; k++) {
        const struct twin_recent *r = ring[k];
        bool fast_wrong = r->score < 0.5 && r->duration_ms > 0 && r->duration_ms < GUESS_MS;
        bool same = run > 0 && (r->item != TWIN_NO_ID ? r->item == ring[k - 1]->item
                                                      : r->skill == ring[k - 1]->skill);
        run = fast_wrong ? (same ? run + 1 : 1) : 0;
        if (run >= GUESS_RUN) {
            best_end = k;
            best_len = run;
        }
    }
    if (best_len == 0)
        return;
    struct twin_flag *f = flag_add(out, cap, n, TWIN_FLAG_GUESSING);
    if (f == NULL)
        return;
    skill_name(t, ring[best_end]->skill, f->skill);
    f->strength = (double)best_len;
    for (size_t k = best_end + 1 - best_len; k <= best_end; k++)
        flag_event(f, ring[k]->index);
    snprintf(f->intervention, TWIN_NAME_MAX,
             "slow down: ask for a self-explanation or a worked example before the next try");
}

static void hint_abuse(const struct twin *t, const struct twin_recent **ring, size_t nr,
                       struct twin_flag *out, size_t cap, size_t *n)
{
    struct twin_flag f;
    memset(&f, 0, sizeof(f));
    f.kind = TWIN_FLAG_HINT_ABUSE;
    uint32_t skill = TWIN_NO_ID;
    for (size_t k = 0; k < nr; k++) {
        const struct twin_recent *r = ring[k];
        if (r->hints >= HINT_MIN && (double)r->duration_ms / r->hints < HINT_MS_PER) {
            flag_event(&f, r->index);
            f.strength++;
            skill = r->skill;
        }
    }
    if (f.strength < HINT_ATTEMPTS || *n >= cap)
        return;
    skill_name(t, skill, f.skill);
    snprintf(f.intervention, TWIN_NAME_MAX,
             "limit hints: unlock the next hint only after an attempt or a pause");
    out[(*n)++] = f;
}

static void disengaged(const struct twin_learner *L, int64_t now_ms, struct twin_flag *out,
                       size_t cap, size_t *n)
{
    if (L->first_ms == 0)
        return;
    double days = ((double)now_ms - (double)L->last_ms) / DAY_MS;
    if (!(days >= IDLE_DAYS))
        return;
    struct twin_flag *f = flag_add(out, cap, n, TWIN_FLAG_DISENGAGED);
    if (f == NULL)
        return;
    f->strength = days;
    flag_event(f, L->last_index);
    snprintf(f->intervention, TWIN_NAME_MAX,
             "reach out: no activity for %.0f days; suggest a short, easy next step", days);
}

static void overload(const struct twin *t, const struct twin_recent **ring, size_t nr,
                     struct twin_flag *out, size_t cap, size_t *n)
{
    const struct twin_recent *first[TWIN_RING];
    size_t m = 0;
    for (size_t k = 0; k < nr; k++) {
        if (ring[k]->attempt_no == 1 && ring[k]->duration_ms > 0)
            first[m++] = ring[k];
    }
    if (m < OVERLOAD_MIN)
        return;
    size_t h = m / 2;
    double d0 = 0, d1 = 0, s0 = 0, s1 = 0;
    for (size_t k = 0; k < h; k++) {
        d0 += first[k]->duration_ms;
        s0 += first[k]->score;
    }
    for (size_t k = h; k < m; k++) {
        d1 += first[k]->duration_ms;
        s1 += first[k]->score;
    }
    d0 /= h;
    s0 /= h;
    d1 /= m - h;
    s1 /= m - h;
    if (!(d1 >= OVERLOAD_TIME * d0 && s1 <= s0 - OVERLOAD_DROP))
        return;
    struct twin_flag *f = flag_add(out, cap, n, TWIN_FLAG_OVERLOAD);
    if (f == NULL)
        return;
    skill_name(t, first[m - 1]->skill, f->skill);
    f->strength = d0 > 0 ? d1 / d0 : 0.0;
    for (size_t k = h; k < m; k++)
        flag_event(f, first[k]->index);
    modality_advice(t, first[m - 1]->skill,
                    "reduce load: split the work into smaller steps and review the basics",
                    f->intervention);
}

enum vt_status twin_learner_flags(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                                  int64_t now_ms, struct twin_flag *out, size_t cap, size_t *n,
                                  struct vt_error *err)
{
    *n = 0;
    uint32_t id = twin_learner_find(t, learner);
    if (id == TWIN_NO_ID)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown learner: no events in the twin");
    const struct twin_learner *L = &t->lrn[id];
    const struct twin_recent *ring[TWIN_RING];
    size_t nr = ring_ordered(L, ring);
    wheel_spinning(t, id, ring, nr, out, cap, n);
    guessing(t, ring, nr, out, cap, n);
    hint_abuse(t, ring, nr, out, cap, n);
    disengaged(L, now_ms, out, cap, n);
    overload(t, ring, nr, out, cap, n);
    return VT_OK;
}

/* ---------------------------------------------------------------------------------------
 * Diagnosis
 */

#define ANCESTORS_MAX 4096

struct anc {
    uint32_t skill, depth;
    bool hard;
    double p_known;
};

static int weak_cmp(const void *a, const void *b)
{
    const struct anc *x = a, *y = b;
    if (x->p_known != y->p_known)
        return x->p_known < y->p_known ? -1 : 1;
    if (x->hard != y->hard)
        return x->hard ? -1 : 1;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    return x->skill < y->skill ? -1 : x->skill > y->skill;
}

enum vt_status twin_diagnose(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                             const char *skill, struct twin_diagnosis *out, struct vt_error *err)
{
    memset(out, 0, sizeof(*out));
    uint32_t id = twin_learner_find(t, learner);
    if (id == TWIN_NO_ID)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown learner: no events in the twin");
    uint32_t s = twin_dict_find(&t->skills, skill, strlen(skill));
    if (s == TWIN_NO_ID)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown skill '%s'", skill);
    skill_name(t, s, out->skill);
    struct twin_skill_state st;
    VT_ASSERT(twin_mastery_get(t->m, id, s, &st, NULL) == VT_OK);
    const struct twin_learner *L = &t->lrn[id];
    const struct twin_recent *ring[TWIN_RING];
    size_t nr = ring_ordered(L, ring), seen = 0;
    double gain = 0.0;
    for (size_t k = nr; k > 0 && seen < STALL_WINDOW; k--) {
        if (ring[k - 1]->skill == s && ring[k - 1]->attempt_no == 1) {
            gain += ring[k - 1]->gain;
            seen++;
        }
    }
    out->struggling =
        (st.attempts >= WHEEL_ATTEMPTS && st.mastered_at == 0) ||
        (seen >= STALL_WINDOW && gain < STALL_GAIN && st.p_known < TWIN_MASTERY_THRESHOLD);

    /* Breadth-first over prerequisites: depth = fewest edges; hard = reachable by hard
     * edges alone. */
    struct anc *a = vt_calloc(ANCESTORS_MAX, sizeof(*a));
    int32_t *pos = vt_malloc(t->skills.n * sizeof(int32_t) + 1);
    for (size_t i = 0; i < t->skills.n; i++)
        pos[i] = -1;
    size_t na = 0, head = 0;
    a[na++] = (struct anc){s, 0, true, st.p_known};
    pos[s] = 0;
    while (head < na) {
        struct anc cur = a[head++];
        const struct twin_skill_def *d = &t->sk[cur.skill];
        for (uint32_t k = 0; k < d->n_pre; k++) {
            uint32_t p = d->pre[k].skill;
            bool hard = cur.hard && d->pre[k].hard;
            if (pos[p] >= 0) {
                a[pos[p]].hard = a[pos[p]].hard || hard;
                continue;
            }
            if (na == ANCESTORS_MAX)
                continue;
            pos[p] = (int32_t)na;
            a[na++] = (struct anc){p, cur.depth + 1, hard, 0.0};
        }
    }
    /* A node found through a soft edge first may also be reachable through hard edges
     * only: spread hardness until nothing changes. */
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < na; i++) {
            const struct twin_skill_def *d = &t->sk[a[i].skill];
            for (uint32_t k = 0; a[i].hard && k < d->n_pre; k++) {
                int32_t q = pos[d->pre[k].skill];
                if (q >= 0 && d->pre[k].hard && !a[q].hard) {
                    a[q].hard = true;
                    changed = true;
                }
            }
        }
    }
    for (size_t i = 1; i < na; i++) {
        struct twin_skill_state ps;
        VT_ASSERT(twin_mastery_get(t->m, id, a[i].skill, &ps, NULL) == VT_OK);
        a[i].p_known = ps.p_known;
    }
    struct anc *weak = vt_calloc(na + 1, sizeof(*weak));
    size_t nw = 0;
    for (size_t i = 1; i < na; i++) {
        if (a[i].p_known < TWIN_MASTERY_THRESHOLD)
            weak[nw++] = a[i];
    }
    qsort(weak, nw, sizeof(*weak), weak_cmp);
    for (size_t i = 0; i < nw && out->n_weak < TWIN_DIAG_MAX; i++) {
        skill_name(t, weak[i].skill, out->weak[out->n_weak].skill);
        out->weak[out->n_weak].p_known = weak[i].p_known;
        out->weak[out->n_weak].hard = weak[i].hard;
        out->weak[out->n_weak].depth = weak[i].depth;
        out->n_weak++;
    }
    /* Topological order of the ancestor set (Kahn, prerequisites first); the path keeps the
     * listed weak ones and the skill. */
    uint32_t *indeg = vt_calloc(na + 1, sizeof(uint32_t)),
             *queue = vt_calloc(na + 1, sizeof(uint32_t));
    for (size_t i = 0; i < na; i++) {
        const struct twin_skill_def *d = &t->sk[a[i].skill];
        for (uint32_t k = 0; k < d->n_pre; k++)
            indeg[i] += pos[d->pre[k].skill] >= 0;
    }
    size_t qh = 0, qt = 0;
    for (size_t i = 0; i < na; i++) {
        if (indeg[i] == 0)
            queue[qt++] = (uint32_t)i;
    }
    while (qh < qt) {
        uint32_t u = queue[qh++];
        bool listed = u == 0;
        for (uint32_t w = 0; w < out->n_weak && !listed; w++)
            listed = strcmp(out->weak[w].skill, twin_dict_key(&t->skills, a[u].skill)) == 0;
        if (listed && out->n_path < TWIN_DIAG_MAX)
            skill_name(t, a[u].skill, out->path[out->n_path++]);
        /* Dependants of u inside the set: scan (the set is small). */
        for (size_t i = 0; i < na; i++) {
            const struct twin_skill_def *d = &t->sk[a[i].skill];
            for (uint32_t k = 0; k < d->n_pre; k++) {
                if (d->pre[k].skill == a[u].skill && --indeg[i] == 0)
                    queue[qt++] = (uint32_t)i;
            }
        }
    }
    free(indeg);
    free(queue);
    free(weak);
    free(pos);
    free(a);
    return VT_OK;
}

/* ---------------------------------------------------------------------------------------
 * At-risk views
 */

static void course_features(const struct twin_lcourse *c, int64_t now_ms,
                            struct twin_risk_features *f)
{
    struct twin_course_event ev[TWIN_GRADES + 1];
    size_t n = 0;
    /* Graded results dated in days from the enrolment (the risk model's day axis). */
    int64_t start = c->enrolled_ms ? c->enrolled_ms : c->last_ms;
    uint32_t kept = c->graded < TWIN_GRADES ? c->graded : TWIN_GRADES;
    for (uint32_t k = 0; k < kept; k++) {
        const struct twin_grade *g = &c->grades[(c->graded - kept + k) % TWIN_GRADES];
        ev[n++] = (struct twin_course_event){
            TWIN_COURSE_GRADED, ((double)g->time_ms - (double)start) / DAY_MS, g->score};
    }
    if (c->last_ms != 0)
        ev[n++] = (struct twin_course_event){TWIN_COURSE_ACTIVITY,
                                             ((double)c->last_ms - (double)start) / DAY_MS, 0};
    double cutoff = ((double)now_ms - (double)start) / DAY_MS;
    if (!(cutoff >= 0))
        cutoff = 0;
    twin_risk_features_compute(ev, n, cutoff, f);
    /* Counters the ring cannot hold, and the ledger's analogue of tasks due: modules
     * started but not completed. */
    f->x[1] = c->modules_started ? (double)c->modules_completed / c->modules_started : 1.0;
    f->x[2] = log1p((double)c->graded);
    f->x[3] = log1p((double)c->activities);
    f->x[4] = c->graded ? c->score_sum / c->graded : 0.5;
    f->x[7] = log1p((double)(c->modules_started - c->modules_completed));
    for (unsigned j = 0; j < TWIN_RISK_NFEAT; j++) {
        if (!isfinite(f->x[j]))
            f->x[j] = 0.0;
    }
}

enum vt_status twin_learner_risk(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                                 int64_t now_ms, struct twin_risk_view *out, size_t cap, size_t *n,
                                 struct vt_error *err)
{
    *n = 0;
    uint32_t id = twin_learner_find(t, learner);
    if (id == TWIN_NO_ID)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown learner: no events in the twin");
    const struct twin_learner *L = &t->lrn[id];
    for (uint32_t i = 0; i < L->n_courses && *n < cap; i++) {
        struct twin_risk_view *v = &out[(*n)++];
        memset(v, 0, sizeof(*v));
        const struct twin_lcourse *c = &L->courses[i];
        memcpy(v->course, twin_dict_key(&t->courses, c->course), t->courses.lens[c->course] + 1);
        course_features(c, now_ms, &v->features);
        double p = twin_risk_predict(t->risk, &v->features);
        /* A withdrawal is the outcome the model predicts: report it as certain. */
        v->p_at_risk = c->status == TWIN_WITHDRAWN ? 1.0 : isfinite(p) ? p : 0.5;
    }
    return VT_OK;
}
