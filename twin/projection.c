/*
 * The twin as a projection of the ledger: events in index order → framework, roles and
 * per-learner state. Every rule here is written down in specs/twin.md §9, because the
 * state must be recomputable from the log by anyone who reads it.
 */
#include "twin/twin_int.h"

#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void twin_options_init(struct twin_options *o)
{
    memset(o, 0, sizeof(*o));
    o->map_size = (size_t)64 << 20;
}

static void *grow_array(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t old = *cap, n = old ? old : 16;
    while (n < need)
        n *= 2;
    size_t bytes;
    VT_ASSERT(vt_size_mul(n, size, &bytes));
    p = vt_realloc(p, bytes);
    memset((char *)p + old * size, 0, (n - old) * size);
    *cap = n;
    return p;
}

void twin_state_fit(struct twin *t)
{
    size_t n_lrn = t->learners.n, n_sk = t->skills.n;
    size_t old_sk = t->cap_sk;
    t->lrn = grow_array(t->lrn, &t->cap_lrn, n_lrn, sizeof(*t->lrn));
    t->sk = grow_array(t->sk, &t->cap_sk, n_sk, sizeof(*t->sk));
    t->it = grow_array(t->it, &t->cap_it, t->items.n, sizeof(*t->it));
    t->ro = grow_array(t->ro, &t->cap_ro, t->roles.n, sizeof(*t->ro));
    for (size_t i = old_sk; i < t->cap_sk; i++)
        t->sk[i].parent = TWIN_NO_ID;
    if (n_sk > 0)
        twin_mastery_grow_skills(t->m, (uint32_t)n_sk);
}

void twin_learner_release(struct twin_learner *L)
{
    free(L->courses);
    free(L->modules);
    free(L->items);
    free(L->roles);
    memset(L, 0, sizeof(*L));
    L->last_modality = TWIN_NO_MODALITY;
}

void twin_state_clear(struct twin *t)
{
    for (size_t i = 0; i < t->cap_lrn; i++)
        twin_learner_release(&t->lrn[i]);
    for (size_t i = 0; i < t->cap_sk; i++) {
        free(t->sk[i].name);
        free(t->sk[i].pre);
    }
    for (size_t i = 0; i < t->cap_ro; i++) {
        free(t->ro[i].name);
        free(t->ro[i].req);
    }
    free(t->lrn);
    free(t->sk);
    free(t->it);
    free(t->ro);
    t->lrn = NULL;
    t->sk = NULL;
    t->it = NULL;
    t->ro = NULL;
    t->cap_lrn = t->cap_sk = t->cap_it = t->cap_ro = 0;
    twin_dict_release(&t->learners);
    twin_dict_release(&t->skills);
    twin_dict_release(&t->items);
    twin_dict_release(&t->courses);
    twin_dict_release(&t->modules);
    twin_dict_release(&t->roles);
    t->saved_courses = t->saved_modules = 0;
    t->n_dirty = 0;
    t->cursor = 0;
    twin_mastery_free(t->m);
    struct vt_error err;
    VT_ASSERT(twin_mastery_new(TWIN_MAX_LEARNERS, 1, 0, TWIN_MULTI_CONJUNCTIVE, &t->m, &err) ==
              VT_OK);
}

uint32_t twin_learner_find(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN])
{
    return twin_dict_find(&t->learners, learner, LEDGER_LEARNER_LEN);
}

enum vt_status twin_open(struct ledger *l, const char *dir, const struct twin_options *o,
                         struct twin **out, struct vt_error *err)
{
    *out = NULL;
    struct twin_options def;
    if (o == NULL) {
        twin_options_init(&def);
        o = &def;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return vt_error_set(err, errno == EACCES ? VT_ERR_PERMISSION : VT_ERR_IO,
                            "cannot create twin directory '%s': %s", dir, strerror(errno));
    struct twin *t = vt_calloc(1, sizeof(*t));
    t->l = l;
    t->dir = vt_strdup(dir);
    t->map_size = o->map_size ? o->map_size : (size_t)64 << 20;
    t->risk = o->risk;
    t->on_change = o->on_change;
    t->on_change_ctx = o->on_change_ctx;
    twin_state_clear(t);
    enum vt_status st = twin_persist_open(t, err);
    if (st == VT_OK)
        st = twin_persist_load(t, err);
    if (st == VT_OK && t->risk == NULL)
        st = twin_risk_default(&t->own_risk, err);
    if (st != VT_OK) {
        twin_close(t);
        return st;
    }
    if (t->risk == NULL)
        t->risk = t->own_risk;
    *out = t;
    return VT_OK;
}

void twin_close(struct twin *t)
{
    if (t == NULL)
        return;
    twin_state_clear(t);
    twin_mastery_free(t->m);
    twin_persist_close(t);
    twin_risk_free(t->own_risk);
    free(t->dirty);
    free(t->dir);
    free(t);
}

uint64_t twin_cursor(const struct twin *t)
{
    return t->cursor;
}

/* ---------------------------------------------------------------------------------------
 * Reading the ledger
 */

/* The envelope inside a leaf [bstr envelope, bstr signature] (specs/ledger.md §2.3). The
 * ledger verified the signature when it committed the event; the twin trusts its own log. */
static enum vt_status leaf_envelope(const uint8_t *leaf, size_t n, struct ledger_event *ev,
                                    struct vt_error *err)
{
    if (n < 3 || leaf[0] != 0x82 || (leaf[1] >> 5) != 2)
        return vt_error_set(err, VT_ERR_INVALID, "event is not [envelope, signature]");
    size_t off, len;
    uint8_t ai = leaf[1] & 0x1f;
    if (ai < 24) {
        len = ai;
        off = 2;
    } else if (ai == 24) {
        len = leaf[2];
        off = 3;
    } else if (ai == 25 && n >= 4) {
        len = vt_be16_get(leaf + 2);
        off = 4;
    } else {
        return vt_error_set(err, VT_ERR_INVALID, "event envelope too long");
    }
    if (off + len > n)
        return vt_error_set(err, VT_ERR_INVALID, "event envelope truncated");
    return ledger_event_decode(leaf + off, len, ev, err);
}

/* ---------------------------------------------------------------------------------------
 * Learner state helpers
 */

static void mark_dirty(struct twin *t, uint32_t id)
{
    struct twin_learner *L = &t->lrn[id];
    if (L->dirty)
        return;
    L->dirty = true;
    t->dirty = grow_array(t->dirty, &t->cap_dirty, t->n_dirty + 1, sizeof(*t->dirty));
    t->dirty[t->n_dirty++] = id;
}

static struct twin_lcourse *lcourse(struct twin *t, struct twin_learner *L, const char *course)
{
    if (course[0] == '\0')
        return NULL;
    uint32_t c = twin_dict_add(&t->courses, course, strlen(course), NULL);
    for (uint32_t i = 0; i < L->n_courses; i++) {
        if (L->courses[i].course == c)
            return &L->courses[i];
    }
    size_t cap = L->cap_courses;
    L->courses = grow_array(L->courses, &cap, L->n_courses + 1, sizeof(*L->courses));
    L->cap_courses = (uint32_t)cap;
    struct twin_lcourse *lc = &L->courses[L->n_courses++];
    memset(lc, 0, sizeof(*lc));
    lc->course = c;
    lc->status = 0xff;
    lc->last_modality = TWIN_NO_MODALITY;
    return lc;
}

static struct twin_lmodule *lmodule(struct twin *t, struct twin_learner *L, const char *module,
                                    uint32_t course, bool *created)
{
    uint32_t m = twin_dict_add(&t->modules, module, strlen(module), NULL);
    *created = false;
    for (uint32_t i = 0; i < L->n_modules; i++) {
        if (L->modules[i].module == m)
            return &L->modules[i];
    }
    size_t cap = L->cap_modules;
    L->modules = grow_array(L->modules, &cap, L->n_modules + 1, sizeof(*L->modules));
    L->cap_modules = (uint32_t)cap;
    struct twin_lmodule *lm = &L->modules[L->n_modules++];
    memset(lm, 0, sizeof(*lm));
    lm->module = m;
    lm->course = course;
    lm->modality = TWIN_MODALITY_OTHER;
    *created = true;
    return lm;
}

static struct twin_litem *litem(struct twin_learner *L, uint32_t item, uint32_t course)
{
    for (uint32_t i = 0; i < L->n_items; i++) {
        if (L->items[i].item == item)
            return &L->items[i];
    }
    size_t cap = L->cap_items;
    L->items = grow_array(L->items, &cap, L->n_items + 1, sizeof(*L->items));
    L->cap_items = (uint32_t)cap;
    struct twin_litem *li = &L->items[L->n_items++];
    memset(li, 0, sizeof(*li));
    li->item = item;
    li->course = course;
    return li;
}

/* ---------------------------------------------------------------------------------------
 * Applying one event
 */

struct apply_ctx {
    struct twin *t;
    uint64_t index;
    struct ledger_event env;
    uint32_t learner;
    int64_t time_ms; /* effective time */
    struct twin_apply_report *rep;
};

static enum vt_status resolve_skills(const struct twin *t, const struct twin_event *ev,
                                     uint32_t *skills, size_t *n, uint32_t *item,
                                     struct vt_error *err)
{
    *item = TWIN_NO_ID;
    if (ev->item[0] != '\0') {
        uint32_t i = twin_dict_find(&t->items, ev->item, strlen(ev->item));
        if (ev->n_skills == 0 && (i == TWIN_NO_ID || t->it[i].n == 0))
            return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown item '%s'", ev->item);
        *item = i;
    }
    if (ev->n_skills == 0) {
        memcpy(skills, t->it[*item].skills, t->it[*item].n * sizeof(uint32_t));
        *n = t->it[*item].n;
        return VT_OK;
    }
    for (uint32_t k = 0; k < ev->n_skills; k++) {
        skills[k] = twin_dict_find(&t->skills, ev->skills[k], strlen(ev->skills[k]));
        if (skills[k] == TWIN_NO_ID)
            return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown skill '%s'", ev->skills[k]);
    }
    *n = ev->n_skills;
    return VT_OK;
}

enum vt_status twin_event_check(const struct twin *t, const struct twin_event *ev,
                                struct vt_error *err)
{
    uint32_t skills[TWIN_ATTEMPT_MAX_SKILLS], item;
    size_t n;
    switch (ev->kind) {
    case TWIN_EVENT_ATTEMPT:
        return resolve_skills(t, ev, skills, &n, &item, err);
    case TWIN_EVENT_ASSESSMENT:
        for (uint32_t k = 0; k < ev->n_skills && k < TWIN_ATTEMPT_MAX_SKILLS; k++) {
            if (twin_dict_find(&t->skills, ev->skills[k], strlen(ev->skills[k])) == TWIN_NO_ID)
                return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown skill '%s'", ev->skills[k]);
        }
        return VT_OK;
    case TWIN_EVENT_ROLE: {
        uint32_t r = twin_dict_find(&t->roles, ev->role, strlen(ev->role));
        if (r == TWIN_NO_ID || !t->ro[r].defined)
            return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown role '%s'", ev->role);
        return VT_OK;
    }
    default:
        return VT_OK;
    }
}

/* Credits a mastery gain to the modality the learner last studied (learner-wide and in the
 * attempt's course), so the course twin can say which modality precedes gains. */
static void credit_modality(struct twin_learner *L, struct twin_lcourse *lc, double gain)
{
    if (gain <= 0.0)
        return;
    if (L->last_modality != TWIN_NO_MODALITY) {
        L->mod_gain[L->last_modality] += gain;
        L->mod_n[L->last_modality]++;
    }
    if (lc != NULL && lc->last_modality != TWIN_NO_MODALITY) {
        lc->mod_gain[lc->last_modality] += gain;
        lc->mod_n[lc->last_modality]++;
    }
}

static enum vt_status observe_skills(struct twin *t, uint32_t learner, const uint32_t *skills,
                                     size_t n, double score, int64_t time_ms, double *gain,
                                     struct vt_error *err)
{
    struct twin_attempt a = {.learner = learner,
                             .item = TWIN_ITEM_NONE,
                             .score = score,
                             .time_ms = time_ms,
                             .n_skills = (uint32_t)n};
    memcpy(a.skills, skills, n * sizeof(uint32_t));
    double before = 0.0;
    for (size_t k = 0; k < n; k++) {
        struct twin_skill_state s;
        VT_ASSERT(twin_mastery_get(t->m, learner, skills[k], &s, NULL) == VT_OK);
        before += s.p_known;
    }
    struct twin_observe_result r;
    enum vt_status st = twin_mastery_observe(t->m, &a, &r, err);
    if (st != VT_OK)
        return st;
    double after = 0.0;
    for (size_t k = 0; k < n; k++)
        after += r.p_known[k];
    *gain = after - before;
    return VT_OK;
}

static enum vt_status apply_attempt(struct apply_ctx *c, const struct twin_event *ev,
                                    struct vt_error *err)
{
    struct twin *t = c->t;
    uint32_t skills[TWIN_ATTEMPT_MAX_SKILLS], item;
    size_t n = 0;
    enum vt_status st = resolve_skills(t, ev, skills, &n, &item, err);
    if (st != VT_OK)
        return st;
    if (ev->item[0] != '\0' && item == TWIN_NO_ID) {
        item = twin_dict_add(&t->items, ev->item, strlen(ev->item), NULL);
        twin_state_fit(t);
        t->it[item].dirty = true;
    }
    struct twin_learner *L = &t->lrn[c->learner];
    struct twin_lcourse *lc = lcourse(t, L, ev->course);
    double gain = 0.0;
    /* BKT models first attempts (Corbett & Anderson 1995); retries feed the behaviour
     * flags only. */
    if (ev->attempt_no == 1) {
        st = observe_skills(t, c->learner, skills, n, ev->score, c->time_ms, &gain, err);
        if (st != VT_OK)
            return st;
    }
    credit_modality(L, lc, gain);
    L->attempts++;
    struct twin_recent *r = &L->ring[L->ring_n++ % TWIN_RING];
    r->index = c->index;
    r->time_ms = c->time_ms;
    r->score = ev->score;
    r->gain = gain;
    r->duration_ms = ev->duration_ms;
    r->hints = ev->hints;
    r->item = item;
    r->skill = skills[0];
    r->attempt_no = ev->attempt_no;
    if (item != TWIN_NO_ID) {
        struct twin_litem *li = litem(L, item, lc ? lc->course : TWIN_NO_ID);
        if (li->attempts++ == 0)
            li->first_score = ev->score;
    }
    if (lc != NULL) {
        lc->activities++;
        lc->attempts++;
        lc->last_ms = c->time_ms;
    }
    return VT_OK;
}

static enum vt_status apply_progress(struct apply_ctx *c, const struct twin_event *ev)
{
    struct twin *t = c->t;
    struct twin_learner *L = &t->lrn[c->learner];
    struct twin_lcourse *lc = lcourse(t, L, ev->course);
    bool created;
    struct twin_lmodule *lm = lmodule(t, L, ev->module, lc ? lc->course : TWIN_NO_ID, &created);
    lm->seconds += ev->seconds;
    lm->modality = (uint8_t)ev->modality;
    bool was_complete = lm->completed_ms != 0;
    if (ev->completion > lm->completion)
        lm->completion = ev->completion;
    if (!was_complete && lm->completion >= 1.0)
        lm->completed_ms = c->time_ms;
    L->last_modality = (uint8_t)ev->modality;
    if (lc != NULL) {
        lc->activities++;
        lc->seconds += ev->seconds;
        lc->last_ms = c->time_ms;
        lc->last_modality = (uint8_t)ev->modality;
        lc->modules_started += created;
        lc->modules_completed += !was_complete && lm->completed_ms != 0;
    }
    return VT_OK;
}

static enum vt_status apply_assessment(struct apply_ctx *c, const struct twin_event *ev,
                                       struct vt_error *err)
{
    struct twin *t = c->t;
    uint32_t skills[TWIN_ATTEMPT_MAX_SKILLS];
    for (uint32_t k = 0; k < ev->n_skills; k++) {
        skills[k] = twin_dict_find(&t->skills, ev->skills[k], strlen(ev->skills[k]));
        if (skills[k] == TWIN_NO_ID)
            return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown skill '%s'", ev->skills[k]);
    }
    struct twin_learner *L = &t->lrn[c->learner];
    /* A graded result is evidence on each listed skill separately: the score is not the
     * outcome of a conjunctive item. */
    for (uint32_t k = 0; k < ev->n_skills; k++) {
        double gain;
        enum vt_status st =
            observe_skills(t, c->learner, &skills[k], 1, ev->score, c->time_ms, &gain, err);
        if (st != VT_OK)
            return st;
    }
    struct twin_lcourse *lc = lcourse(t, L, ev->course);
    if (lc != NULL) {
        lc->grades[lc->graded % TWIN_GRADES] = (struct twin_grade){c->time_ms, ev->score};
        lc->graded++;
        lc->score_sum += ev->score;
        lc->activities++;
        lc->last_ms = c->time_ms;
    }
    return VT_OK;
}

static enum vt_status apply_enrollment(struct apply_ctx *c, const struct twin_event *ev)
{
    struct twin_learner *L = &c->t->lrn[c->learner];
    struct twin_lcourse *lc = lcourse(c->t, L, ev->course);
    if (lc->status == 0xff)
        lc->enrolled_ms = c->time_ms;
    lc->status = (uint8_t)ev->status;
    lc->last_ms = c->time_ms;
    return VT_OK;
}

static enum vt_status apply_role(struct apply_ctx *c, const struct twin_event *ev,
                                 struct vt_error *err)
{
    struct twin *t = c->t;
    uint32_t r = twin_dict_find(&t->roles, ev->role, strlen(ev->role));
    if (r == TWIN_NO_ID || !t->ro[r].defined)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown role '%s'", ev->role);
    struct twin_learner *L = &t->lrn[c->learner];
    uint32_t i = 0;
    while (i < L->n_roles && L->roles[i] != r)
        i++;
    if (ev->assigned && i == L->n_roles) {
        size_t cap = L->cap_roles;
        L->roles = grow_array(L->roles, &cap, L->n_roles + 1, sizeof(*L->roles));
        L->cap_roles = (uint32_t)cap;
        L->roles[L->n_roles++] = r;
    } else if (!ev->assigned && i < L->n_roles) {
        memmove(&L->roles[i], &L->roles[i + 1], (L->n_roles - i - 1) * sizeof(*L->roles));
        L->n_roles--;
    }
    return VT_OK;
}

/* ---------------------------------------------------------------------------------------
 * Global events: frameworks and role profiles
 */

static uint32_t skill_lookup(const struct twin *t, const char *id)
{
    return twin_dict_find(&t->skills, id, strlen(id));
}

/* Checks a framework part against the skills already known: references resolve in the
 * part or the twin, and the merged prerequisite and parent graphs stay acyclic. */
static enum vt_status framework_check_merge(const struct twin *t, const struct twin_framework *fw,
                                            struct vt_error *err)
{
    size_t known = t->skills.n, n = known;
    /* New skills get provisional ids after the known ones, in the part's order. */
    uint32_t *fresh = vt_calloc(fw->n_skills + 1, sizeof(uint32_t));
    for (size_t i = 0; i < fw->n_skills; i++) {
        uint32_t id = skill_lookup(t, fw->skills[i].id);
        fresh[i] = id != TWIN_NO_ID ? id : (uint32_t)n++;
    }
    size_t n_pre = 0;
    for (size_t i = 0; i < known; i++)
        n_pre += t->sk[i].n_pre;
    size_t cap = n_pre + fw->n_edges + 1;
    uint32_t *from = vt_calloc(cap, sizeof(uint32_t)), *to = vt_calloc(cap, sizeof(uint32_t));
    uint32_t *pf = vt_calloc(n + 1, sizeof(uint32_t)), *pt = vt_calloc(n + 1, sizeof(uint32_t));
    size_t ne = 0, np = 0;
    enum vt_status st = VT_OK;
    for (size_t i = 0; i < known; i++) {
        for (uint32_t k = 0; k < t->sk[i].n_pre; k++) {
            from[ne] = t->sk[i].pre[k].skill;
            to[ne++] = (uint32_t)i;
        }
    }
#define RESOLVE(id_str, out)                                                                       \
    do {                                                                                           \
        uint32_t r_ = skill_lookup(t, id_str);                                                     \
        if (r_ == TWIN_NO_ID) {                                                                    \
            uint32_t j_ = twin_dict_find(&fw->index, id_str, strlen(id_str));                      \
            r_ = j_ != UINT32_MAX ? fresh[j_] : TWIN_NO_ID;                                        \
        }                                                                                          \
        if (r_ == TWIN_NO_ID && st == VT_OK)                                                       \
            st = vt_error_set(err, VT_ERR_NOT_FOUND, "dangling reference: unknown skill '%s'",     \
                              id_str);                                                             \
        (out) = r_;                                                                                \
    } while (0)
    for (size_t e = 0; e < fw->n_edges && st == VT_OK; e++) {
        RESOLVE(fw->edges[e].requires, from[ne]);
        RESOLVE(fw->edges[e].skill, to[ne]);
        ne++;
    }
    /* Parents: the part's definitions replace the known ones. */
    uint32_t *parent = vt_calloc(n + 1, sizeof(uint32_t));
    for (size_t i = 0; i < known; i++)
        parent[i] = t->sk[i].parent;
    for (size_t i = known; i < n; i++)
        parent[i] = TWIN_NO_ID;
    for (size_t i = 0; i < fw->n_skills && st == VT_OK; i++) {
        uint32_t p = TWIN_NO_ID;
        if (fw->skills[i].parent[0] != '\0')
            RESOLVE(fw->skills[i].parent, p);
        parent[fresh[i]] = p;
    }
    for (size_t i = 0; i < fw->n_items && st == VT_OK; i++) {
        for (uint32_t k = 0; k < fw->items[i].n_skills && st == VT_OK; k++) {
            uint32_t unused;
            RESOLVE(fw->items[i].skills[k], unused);
            (void)unused;
        }
    }
#undef RESOLVE
    for (size_t i = 0; i < n; i++) {
        if (parent[i] != TWIN_NO_ID) {
            pf[np] = parent[i];
            pt[np++] = (uint32_t)i;
        }
    }
    uint32_t bad;
    if (st == VT_OK && !twin_graph_acyclic(n, from, to, ne, &bad))
        st = vt_error_set(err, VT_ERR_CONFLICT, "prerequisite cycle through skill %s",
                          bad < known ? twin_dict_key(&t->skills, bad) : "(new)");
    if (st == VT_OK && !twin_graph_acyclic(n, pf, pt, np, &bad))
        st = vt_error_set(err, VT_ERR_CONFLICT, "parent cycle through skill %s",
                          bad < known ? twin_dict_key(&t->skills, bad) : "(new)");
    free(fresh);
    free(from);
    free(to);
    free(pf);
    free(pt);
    free(parent);
    return st;
}

static enum vt_status apply_framework(struct twin *t, const uint8_t *p, size_t n,
                                      struct vt_error *err)
{
    struct twin_framework *fw;
    enum vt_status st = twin_framework_decode(p, n, &fw, err);
    if (st != VT_OK)
        return st;
    st = framework_check_merge(t, fw, err);
    if (st != VT_OK) {
        twin_framework_free(fw);
        return st;
    }
    for (size_t i = 0; i < fw->n_skills; i++)
        twin_dict_add(&t->skills, fw->skills[i].id, strlen(fw->skills[i].id), NULL);
    twin_state_fit(t);
    for (size_t i = 0; i < fw->n_skills; i++) {
        const struct twin_fw_skill *s = &fw->skills[i];
        struct twin_skill_def *d = &t->sk[twin_dict_find(&t->skills, s->id, strlen(s->id))];
        free(d->name);
        d->name = vt_strdup(s->name);
        d->levels = s->levels;
        d->parent =
            s->parent[0] ? twin_dict_find(&t->skills, s->parent, strlen(s->parent)) : TWIN_NO_ID;
        d->dirty = true;
    }
    for (size_t e = 0; e < fw->n_edges; e++) {
        const struct twin_fw_edge *fe = &fw->edges[e];
        uint32_t s = twin_dict_find(&t->skills, fe->skill, strlen(fe->skill));
        uint32_t r = twin_dict_find(&t->skills, fe->requires, strlen(fe->requires));
        struct twin_skill_def *d = &t->sk[s];
        uint32_t k = 0;
        while (k < d->n_pre && d->pre[k].skill != r)
            k++;
        if (k == d->n_pre) {
            size_t cap = d->cap_pre;
            d->pre = grow_array(d->pre, &cap, d->n_pre + 1, sizeof(*d->pre));
            d->cap_pre = (uint32_t)cap;
            d->n_pre++;
        }
        d->pre[k] = (struct twin_prereq){r, fe->hard};
        d->dirty = true;
    }
    for (size_t i = 0; i < fw->n_items; i++) {
        const struct twin_fw_item *fi = &fw->items[i];
        uint32_t id = twin_dict_add(&t->items, fi->item, strlen(fi->item), NULL);
        twin_state_fit(t);
        struct twin_item_def *d = &t->it[id];
        for (uint32_t k = 0; k < fi->n_skills; k++)
            d->skills[k] = twin_dict_find(&t->skills, fi->skills[k], strlen(fi->skills[k]));
        d->n = fi->n_skills;
        d->dirty = true;
    }
    twin_framework_free(fw);
    return VT_OK;
}

static enum vt_status apply_role_profile(struct twin *t, const uint8_t *p, size_t n,
                                         struct vt_error *err)
{
    struct twin_role_profile *rp = NULL;
    enum vt_status st = twin_role_profile_decode(p, n, &rp, err);
    if (st != VT_OK)
        return st;
    uint32_t skills[TWIN_ROLE_MAX_REQS];
    for (size_t i = 0; i < rp->n && st == VT_OK; i++) {
        skills[i] = twin_dict_find(&t->skills, rp->req[i].skill, strlen(rp->req[i].skill));
        if (skills[i] == TWIN_NO_ID)
            st = vt_error_set(err, VT_ERR_NOT_FOUND, "role '%s': unknown skill '%s'", rp->role,
                              rp->req[i].skill);
        else if (rp->req[i].level > t->sk[skills[i]].levels)
            st = vt_error_set(err, VT_ERR_INVALID,
                              "role '%s': level %g above skill '%s' (%u levels)", rp->role,
                              rp->req[i].level, rp->req[i].skill, t->sk[skills[i]].levels);
    }
    if (st == VT_OK) {
        uint32_t r = twin_dict_add(&t->roles, rp->role, strlen(rp->role), NULL);
        twin_state_fit(t);
        struct twin_role_def *d = &t->ro[r];
        free(d->name);
        free(d->req);
        d->name = vt_strdup(rp->name);
        d->req = vt_calloc(rp->n + 1, sizeof(*d->req));
        for (size_t i = 0; i < rp->n; i++)
            d->req[i] = (struct twin_role_req){skills[i], rp->req[i].level, rp->req[i].weight};
        d->n = (uint32_t)rp->n;
        d->defined = true;
        d->dirty = true;
    }
    twin_role_profile_free(rp);
    return st;
}

/* ---------------------------------------------------------------------------------------
 * The apply loop
 */

static void forget_learner(struct twin *t, uint32_t id)
{
    struct twin_learner *L = &t->lrn[id];
    uint64_t events = L->events;
    bool dirty = L->dirty;
    twin_learner_release(L);
    L->events = events;
    L->erased = true;
    L->dirty = dirty;
    twin_mastery_row_set(t->m, id, NULL, 0);
}

/* Applies one event whose payload is pl: VT_OK (with *ignored for an xAPI verb the twin does
 * not use), or the reason the event is rejected. */
static enum vt_status apply_payload(struct apply_ctx *c, const uint8_t *pl, size_t n, bool *ignored,
                                    struct vt_error *err)
{
    const char *type = c->env.type;
    *ignored = false;
    if (strcmp(type, "framework") == 0)
        return apply_framework(c->t, pl, n, err);
    if (strcmp(type, "role.profile") == 0)
        return apply_role_profile(c->t, pl, n, err);
    struct twin_event ev;
    enum vt_status st = twin_event_decode(type, pl, n, &ev, err);
    if (st != VT_OK)
        return st;
    if (ev.kind == TWIN_EVENT_NONE) {
        *ignored = true;
        return VT_OK;
    }
    struct twin_learner *L = &c->t->lrn[c->learner];
    /* Effective time: when it happened if the payload says so (never after it was logged),
     * and never before the learner's latest event, so each learner's stream is ordered. */
    int64_t when = (int64_t)c->env.time_ms;
    if (ev.has_at && ev.at_ms < when)
        when = ev.at_ms;
    if (L->first_ms != 0 && when < L->last_ms) {
        when = L->last_ms;
        c->rep->late++;
        L->late++;
    }
    c->time_ms = when;
    switch (ev.kind) {
    case TWIN_EVENT_ATTEMPT:
        st = apply_attempt(c, &ev, err);
        break;
    case TWIN_EVENT_PROGRESS:
        st = apply_progress(c, &ev);
        break;
    case TWIN_EVENT_ASSESSMENT:
        st = apply_assessment(c, &ev, err);
        break;
    case TWIN_EVENT_ENROLLMENT:
        st = apply_enrollment(c, &ev);
        break;
    default:
        st = apply_role(c, &ev, err);
        break;
    }
    if (st == VT_OK) {
        if (L->first_ms == 0)
            L->first_ms = when;
        L->last_ms = when;
        L->last_index = c->index;
    }
    return st;
}

static bool twin_reads(const char *type)
{
    return twin_event_kind_of(type) != TWIN_EVENT_NONE || strcmp(type, "xapi.statement") == 0 ||
           strcmp(type, "framework") == 0 || strcmp(type, "role.profile") == 0 ||
           strcmp(type, "erasure") == 0;
}

/*
 * One event as read from the ledger. Reading (signature check and decryption inside
 * ledger_payload_read) dominates the cost of applying, and ledger reads are thread-safe,
 * so a slice of events is read by several threads and then applied in index order.
 */
struct slot {
    struct vt_buf leaf, pl;
    struct ledger_event env;
    enum vt_status st, pst; /* reading the event; reading its payload */
    struct vt_error err, perr;
    bool has_payload;
};

static void fetch(struct twin *t, uint64_t index, struct slot *s)
{
    vt_buf_reset(&s->leaf);
    vt_buf_reset(&s->pl);
    s->has_payload = false;
    s->st = ledger_event_read(t->l, index, &s->leaf, &s->err);
    if (s->st == VT_OK)
        s->st = leaf_envelope(s->leaf.data, s->leaf.len, &s->env, &s->err);
    if (s->st != VT_OK || !twin_reads(s->env.type) || strcmp(s->env.type, "erasure") == 0)
        return;
    s->has_payload = true;
    s->pst = ledger_payload_read(t->l, index, &s->pl, &s->perr);
}

static enum vt_status apply_one(struct twin *t, uint64_t index, struct slot *s,
                                struct twin_apply_report *rep, struct vt_error *err)
{
    if (s->st != VT_OK) {
        if (err != NULL)
            *err = s->err;
        return vt_error_prefix(err, s->st, "ledger event %llu", (unsigned long long)index);
    }
    struct apply_ctx c = {.t = t, .index = index, .env = s->env, .rep = rep};
    bool added;
    c.learner = twin_dict_add(&t->learners, c.env.learner, LEDGER_LEARNER_LEN, &added);
    if (added)
        twin_state_fit(t);
    struct twin_learner *L = &t->lrn[c.learner];
    if (added)
        L->last_modality = TWIN_NO_MODALITY;
    L->events++;
    mark_dirty(t, c.learner);
    if (!twin_reads(c.env.type)) {
        rep->ignored++;
        L->ignored++;
        return VT_OK;
    }
    if (strcmp(c.env.type, "erasure") == 0) {
        forget_learner(t, c.learner);
        rep->applied++;
        return VT_OK;
    }
    if (s->pst == VT_ERR_NOT_FOUND) {
        rep->ignored++;
        L->ignored++;
        return VT_OK;
    }
    if (s->pst != VT_OK) {
        if (err != NULL)
            *err = s->perr;
        return s->pst;
    }
    if (L->erased && strcmp(c.env.type, "framework") != 0 &&
        strcmp(c.env.type, "role.profile") != 0) {
        rep->ignored++;
        L->ignored++;
        return VT_OK;
    }
    bool ignored;
    struct vt_error why;
    enum vt_status st = apply_payload(&c, s->pl.data, s->pl.len, &ignored, &why);
    if (st != VT_OK) {
        rep->rejected++;
        L->rejected++;
        snprintf(rep->last_rejection, sizeof(rep->last_rejection), "index %llu: %.200s",
                 (unsigned long long)index, why.msg);
    } else if (ignored) {
        rep->ignored++;
        L->ignored++;
    } else {
        rep->applied++;
    }
    return VT_OK;
}

#define SLICE 512
#define READERS 2

struct reader {
    struct twin *t;
    struct slot *slots;
    uint64_t first;
    size_t n;
    unsigned part;
};

static void *read_part(void *arg)
{
    struct reader *r = arg;
    for (size_t i = r->part; i < r->n; i += READERS)
        fetch(r->t, r->first + i, &r->slots[i]);
    return NULL;
}

static void read_slice(struct twin *t, struct slot *slots, uint64_t first, size_t n)
{
    struct reader r[READERS];
    pthread_t th[READERS];
    bool started[READERS] = {false};
    for (unsigned k = 0; k < READERS; k++) {
        r[k] = (struct reader){t, slots, first, n, k};
        if (k > 0 && n > k)
            started[k] = pthread_create(&th[k], NULL, read_part, &r[k]) == 0;
    }
    read_part(&r[0]);
    for (unsigned k = 1; k < READERS; k++) {
        if (started[k])
            pthread_join(th[k], NULL);
        else
            read_part(&r[k]);
    }
}

enum vt_status twin_apply(struct twin *t, uint64_t from, uint64_t to, struct twin_apply_report *rep,
                          struct vt_error *err)
{
    struct twin_apply_report local;
    if (rep == NULL)
        rep = &local;
    memset(rep, 0, sizeof(*rep));
    rep->from = rep->to = t->cursor;
    if (from != t->cursor)
        return vt_error_set(err, VT_ERR_CONFLICT,
                            "cannot apply from index %llu: the twin's cursor is %llu",
                            (unsigned long long)from, (unsigned long long)t->cursor);
    uint64_t size = ledger_size(t->l);
    if (to > size)
        to = size;
    struct slot *slots = vt_calloc(SLICE, sizeof(*slots));
    for (size_t k = 0; k < SLICE; k++) {
        vt_buf_init(&slots[k].leaf, LEDGER_LEAF_MAX);
        vt_buf_init(&slots[k].pl, VT_BUF_DEFAULT_MAX);
    }
    enum vt_status st = VT_OK;
    for (uint64_t i = from; i < to && st == VT_OK;) {
        size_t n = to - i < SLICE ? (size_t)(to - i) : SLICE;
        read_slice(t, slots, i, n);
        for (size_t k = 0; k < n && st == VT_OK; k++)
            st = apply_one(t, i + k, &slots[k], rep, err);
        i += n;
    }
    for (size_t k = 0; k < SLICE; k++) {
        vt_buf_release(&slots[k].leaf);
        vt_buf_release_secret(&slots[k].pl);
    }
    free(slots);
    if (st != VT_OK) {
        /* The memory state went past the last commit: go back to it. */
        struct vt_error e2;
        twin_state_clear(t);
        if (twin_persist_load(t, &e2) != VT_OK)
            twin_state_clear(t);
        return st;
    }
    t->cursor = to;
    /* The save clears the dirty list, which is the change notification. */
    size_t n_changed = t->n_dirty;
    uint32_t *changed = t->on_change ? vt_memdup(t->dirty, n_changed * sizeof(uint32_t)) : NULL;
    st = twin_persist_save(t, err);
    if (st != VT_OK) {
        struct vt_error e2;
        free(changed);
        twin_state_clear(t);
        if (twin_persist_load(t, &e2) != VT_OK)
            twin_state_clear(t);
        return st;
    }
    for (size_t k = 0; changed != NULL && k < n_changed; k++)
        t->on_change(t->on_change_ctx, (const uint8_t *)twin_dict_key(&t->learners, changed[k]));
    free(changed);
    rep->to = to;
    return VT_OK;
}

static void report_add(struct twin_apply_report *acc, const struct twin_apply_report *r)
{
    acc->to = r->to;
    acc->applied += r->applied;
    acc->ignored += r->ignored;
    acc->rejected += r->rejected;
    acc->late += r->late;
    if (r->last_rejection[0] != '\0')
        memcpy(acc->last_rejection, r->last_rejection, sizeof(acc->last_rejection));
}

enum vt_status twin_catch_up(struct twin *t, struct twin_apply_report *rep, struct vt_error *err)
{
    struct twin_apply_report acc, one;
    memset(&acc, 0, sizeof(acc));
    acc.from = acc.to = t->cursor;
    uint64_t size = ledger_size(t->l);
    enum vt_status st = VT_OK;
    while (st == VT_OK && t->cursor < size) {
        uint64_t to = size - t->cursor > 65536 ? t->cursor + 65536 : size;
        st = twin_apply(t, t->cursor, to, &one, err);
        if (st == VT_OK)
            report_add(&acc, &one);
    }
    if (rep != NULL)
        *rep = acc;
    return st;
}

enum vt_status twin_rebuild(struct twin *t, struct twin_apply_report *rep, struct vt_error *err)
{
    enum vt_status st = twin_persist_drop(t, err);
    if (st != VT_OK)
        return st;
    twin_state_clear(t);
    return twin_catch_up(t, rep, err);
}
