/* Role profiles and workforce readiness: specs/twin.md §13. */
#include "twin/twin_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct twin_role_profile *twin_role_profile_new(const char *role, const char *name)
{
    struct twin_role_profile *rp = vt_calloc(1, sizeof(*rp));
    if (role != NULL && strlen(role) < TWIN_ID_MAX)
        memcpy(rp->role, role, strlen(role) + 1);
    if (name != NULL && strlen(name) < TWIN_NAME_MAX)
        memcpy(rp->name, name, strlen(name) + 1);
    return rp;
}

void twin_role_profile_free(struct twin_role_profile *rp)
{
    free(rp);
}

enum vt_status twin_role_profile_from_json(const json_t *obj, struct twin_role_profile **out,
                                           struct vt_error *err)
{
    static const char *const members[] = {"role", "name", "requires", NULL};
    static const char *const req_members[] = {"skill", "level", "weight", NULL};
    *out = NULL;
    struct twin_role_profile *rp = twin_role_profile_new(NULL, NULL);
    enum vt_status st = twin_json_only(obj, members, err);
    if (st == VT_OK)
        st = twin_json_id(obj, "role", true, rp->role, err);
    const json_t *name = json_object_get(obj, "name");
    if (st == VT_OK && name != NULL) {
        if (!json_is_string(name) || json_string_length(name) == 0 ||
            json_string_length(name) >= TWIN_NAME_MAX)
            st = vt_error_set(err, VT_ERR_INVALID, "member 'name' must be 1..%d bytes",
                              TWIN_NAME_MAX - 1);
        else
            memcpy(rp->name, json_string_value(name), json_string_length(name) + 1);
    }
    const json_t *reqs = json_object_get(obj, "requires");
    if (st == VT_OK && (!json_is_array(reqs) || json_array_size(reqs) == 0 ||
                        json_array_size(reqs) > TWIN_ROLE_MAX_REQS))
        st = vt_error_set(err, VT_ERR_INVALID, "member 'requires' must list 1..%d requirements",
                          TWIN_ROLE_MAX_REQS);
    for (size_t i = 0; st == VT_OK && i < json_array_size(reqs); i++) {
        const json_t *r = json_array_get(reqs, i);
        struct twin_role_requirement *q = &rp->req[i];
        q->weight = 1.0;
        st = twin_json_only(r, req_members, err);
        if (st == VT_OK)
            st = twin_json_id(r, "skill", true, q->skill, err);
        if (st == VT_OK)
            st = twin_json_num(r, "level", true, 1e-9, TWIN_LEVELS_MAX, false, &q->level, err);
        if (st == VT_OK)
            st = twin_json_num(r, "weight", false, 1e-9, 1e6, false, &q->weight, err);
        for (size_t j = 0; st == VT_OK && j < i; j++) {
            if (strcmp(rp->req[j].skill, q->skill) == 0)
                st = vt_error_set(err, VT_ERR_INVALID, "skill '%s' required twice", q->skill);
        }
        rp->n = i + 1;
    }
    if (st != VT_OK) {
        twin_role_profile_free(rp);
        return vt_error_prefix(err, st, "invalid role profile");
    }
    *out = rp;
    return VT_OK;
}

static json_t *profile_json(const struct twin_role_profile *rp)
{
    json_t *j = json_object();
    json_object_set_new(j, "role", json_string(rp->role));
    if (rp->name[0] != '\0')
        json_object_set_new(j, "name", json_string(rp->name));
    json_t *a = json_array();
    for (size_t i = 0; i < rp->n && i < TWIN_ROLE_MAX_REQS; i++)
        json_array_append_new(a, json_pack("{s:s,s:f,s:f}", "skill", rp->req[i].skill, "level",
                                           rp->req[i].level, "weight", rp->req[i].weight));
    json_object_set_new(j, "requires", a);
    return j;
}

enum vt_status twin_role_profile_encode(const struct twin_role_profile *rp, struct vt_buf *out,
                                        struct vt_error *err)
{
    json_t *j = profile_json(rp);
    struct twin_role_profile *check;
    enum vt_status st = twin_role_profile_from_json(j, &check, err);
    json_decref(j);
    if (st != VT_OK)
        return st;
    twin_role_profile_free(check);
    cbor_item_t *map = cbor_new_definite_map(rp->name[0] ? 3 : 2);
    vt_cbor_map_put(map, cbor_build_string("role"), cbor_build_string(rp->role));
    if (rp->name[0] != '\0')
        vt_cbor_map_put(map, cbor_build_string("name"), cbor_build_string(rp->name));
    cbor_item_t *a = cbor_new_definite_array(rp->n);
    for (size_t i = 0; i < rp->n; i++) {
        cbor_item_t *m = cbor_new_definite_map(3);
        vt_cbor_map_put(m, cbor_build_string("skill"), cbor_build_string(rp->req[i].skill));
        vt_cbor_map_put(m, cbor_build_string("level"), cbor_build_float8(rp->req[i].level));
        vt_cbor_map_put(m, cbor_build_string("weight"), cbor_build_float8(rp->req[i].weight));
        VT_ASSERT(cbor_array_push(a, cbor_move(m)));
    }
    vt_cbor_map_put(map, cbor_build_string("requires"), a);
    st = vt_cbor_encode(map, out, err);
    cbor_decref(&map);
    return st;
}

enum vt_status twin_role_profile_decode(const uint8_t *p, size_t n, struct twin_role_profile **out,
                                        struct vt_error *err)
{
    *out = NULL;
    json_t *j;
    enum vt_status st = twin_payload_json(p, n, &j, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "invalid role profile");
    struct twin_role_profile *rp;
    st = twin_role_profile_from_json(j, &rp, err);
    json_decref(j);
    if (st != VT_OK)
        return st;
    struct vt_buf again;
    vt_buf_init(&again, n + 1);
    st = twin_role_profile_encode(rp, &again, err);
    if (st != VT_OK || again.len != n || memcmp(again.data, p, n) != 0)
        st = vt_error_set(err, VT_ERR_NONCANONICAL,
                          "invalid role profile: payload is not the canonical encoding of its "
                          "members");
    vt_buf_release(&again);
    if (st != VT_OK) {
        twin_role_profile_free(rp);
        return st;
    }
    *out = rp;
    return VT_OK;
}

/* ---------------------------------------------------------------------------------------
 * Levels
 */

/* Children lists of the parent forest, as CSR arrays (start has n + 1 entries). */
struct children {
    uint32_t *start, *list;
};

static void children_build(const struct twin *t, struct children *c)
{
    size_t n = t->skills.n;
    c->start = vt_calloc(n + 2, sizeof(uint32_t));
    c->list = vt_calloc(n + 1, sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) {
        if (t->sk[i].parent != TWIN_NO_ID)
            c->start[t->sk[i].parent + 1]++;
    }
    for (size_t i = 0; i < n; i++)
        c->start[i + 1] += c->start[i];
    uint32_t *fill = vt_calloc(n + 1, sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) {
        uint32_t p = t->sk[i].parent;
        if (p != TWIN_NO_ID)
            c->list[c->start[p] + fill[p]++] = (uint32_t)i;
    }
    free(fill);
}

static void children_free(struct children *c)
{
    free(c->start);
    free(c->list);
}

static double p_known_of(const struct twin *t, uint32_t learner, uint32_t skill)
{
    struct twin_skill_state s;
    if (learner == TWIN_NO_ID) {
        return t->m->params[skill].prior;
    }
    VT_ASSERT(twin_mastery_get(t->m, learner, skill, &s, NULL) == VT_OK);
    return s.p_known;
}

/* The leaf skills under skill (itself when it has no children), depth-first, up to cap. */
static size_t leaves(const struct children *c, uint32_t skill, uint32_t *out, size_t cap)
{
    size_t n = 0, top = 0;
    uint32_t *stack = vt_calloc(cap + 1, sizeof(uint32_t));
    stack[top++] = skill;
    while (top > 0 && n < cap) {
        uint32_t s = stack[--top];
        if (c->start[s] == c->start[s + 1]) {
            out[n++] = s;
            continue;
        }
        for (uint32_t k = c->start[s + 1]; k > c->start[s] && top < cap; k--)
            stack[top++] = c->list[k - 1];
    }
    free(stack);
    return n;
}

#define LEAVES_MAX 4096

/*
 * Level of a person on a skill with L levels: L × the mean over its leaf skills of
 * min(1, P(L_leaf) / 0.95); and P(level ≥ r): P(at least ⌈(r / L)·n⌉ of the n leaves are
 * known), the leaves independent with P(known) = P(L_leaf) (a Poisson-binomial tail).
 */
static void skill_level(const struct twin *t, const struct children *c, uint32_t learner,
                        uint32_t skill, double required, double *level, double *p_meet)
{
    uint32_t *lv = vt_calloc(LEAVES_MAX, sizeof(uint32_t));
    size_t n = leaves(c, skill, lv, LEAVES_MAX);
    double L = t->sk[skill].levels, share = 0.0;
    double *dp = vt_calloc(n + 2, sizeof(double));
    dp[0] = 1.0;
    for (size_t i = 0; i < n; i++) {
        double p = twin_clamp(p_known_of(t, learner, lv[i]), 0.0, 1.0);
        share += fmin(1.0, p / TWIN_MASTERY_THRESHOLD);
        for (size_t k = i + 1; k > 0; k--)
            dp[k] = dp[k] * (1 - p) + dp[k - 1] * p;
        dp[0] *= 1 - p;
    }
    *level = n ? L * share / n : 0.0;
    size_t need = (size_t)ceil(required / L * n - 1e-9);
    if (need > n)
        need = n;
    double tail = 0.0;
    for (size_t k = need; k <= n; k++)
        tail += dp[k];
    *p_meet = twin_clamp(tail, 0.0, 1.0);
    free(dp);
    free(lv);
}

static int gap_cmp(const void *a, const void *b)
{
    const struct twin_readiness_gap *x = a, *y = b;
    double wx = x->gap * x->weight, wy = y->gap * y->weight;
    if (wx != wy)
        return wx < wy ? 1 : -1;
    return strcmp(x->skill, y->skill);
}

static void readiness_compute(const struct twin *t, const struct children *c, uint32_t learner,
                              uint32_t role, struct twin_readiness *out)
{
    const struct twin_role_def *r = &t->ro[role];
    memset(out, 0, sizeof(*out));
    memcpy(out->role, twin_dict_key(&t->roles, role), t->roles.lens[role] + 1);
    double wsum = 0.0, score = 0.0, p_ready = 1.0;
    for (uint32_t i = 0; i < r->n; i++) {
        const struct twin_role_req *q = &r->req[i];
        double level, p_meet;
        skill_level(t, c, learner, q->skill, q->level, &level, &p_meet);
        wsum += q->weight;
        score += q->weight * fmin(1.0, level / q->level);
        p_ready *= p_meet;
        if (level >= q->level)
            continue;
        struct twin_readiness_gap *g = &out->gaps[out->n_gaps++];
        memcpy(g->skill, twin_dict_key(&t->skills, q->skill), t->skills.lens[q->skill] + 1);
        g->required = q->level;
        g->level = level;
        g->gap = q->level - level;
        g->weight = q->weight;
        if (learner == TWIN_NO_ID)
            continue;
        const struct twin_learner *L = &t->lrn[learner];
        for (uint64_t k = 0; k < TWIN_RING && k < L->ring_n && g->n_evidence < 4; k++) {
            const struct twin_recent *x = &L->ring[(L->ring_n - 1 - k) % TWIN_RING];
            if (x->skill == q->skill)
                g->evidence[g->n_evidence++] = x->index;
        }
    }
    out->score = wsum > 0 ? twin_clamp(score / wsum, 0.0, 1.0) : 0.0;
    out->p_ready = twin_clamp(p_ready, 0.0, 1.0);
    qsort(out->gaps, out->n_gaps, sizeof(out->gaps[0]), gap_cmp);
}

static enum vt_status role_id(const struct twin *t, const char *role, uint32_t *id,
                              struct vt_error *err)
{
    *id = twin_dict_find(&t->roles, role, strlen(role));
    if (*id == TWIN_NO_ID || !t->ro[*id].defined)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown role '%s'", role);
    return VT_OK;
}

enum vt_status twin_readiness_get(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                                  const char *role, struct twin_readiness *out,
                                  struct vt_error *err)
{
    uint32_t r;
    enum vt_status st = role_id(t, role, &r, err);
    if (st != VT_OK)
        return st;
    struct children c;
    children_build(t, &c);
    readiness_compute(t, &c, twin_learner_find(t, learner), r, out);
    children_free(&c);
    return VT_OK;
}

enum vt_status twin_team_readiness_get(const struct twin *t, const char *role,
                                       struct twin_team_readiness *out, struct vt_error *err)
{
    uint32_t r;
    memset(out, 0, sizeof(*out));
    enum vt_status st = role_id(t, role, &r, err);
    if (st != VT_OK)
        return st;
    memcpy(out->role, role, strlen(role) + 1);
    const struct twin_role_def *d = &t->ro[r];
    out->n_reqs = d->n;
    for (uint32_t i = 0; i < d->n; i++)
        memcpy(out->skill[i], twin_dict_key(&t->skills, d->req[i].skill),
               t->skills.lens[d->req[i].skill] + 1);
    struct children c;
    children_build(t, &c);
    struct twin_readiness *one = vt_malloc(sizeof(*one));
    double sum = 0.0;
    for (size_t l = 0; l < t->learners.n; l++) {
        const struct twin_learner *L = &t->lrn[l];
        bool assigned = false;
        for (uint32_t k = 0; k < L->n_roles && !assigned; k++)
            assigned = L->roles[k] == r;
        if (!assigned)
            continue;
        readiness_compute(t, &c, (uint32_t)l, r, one);
        out->people++;
        sum += one->score;
        out->ready += one->score >= 0.95;
        for (uint32_t i = 0; i < d->n; i++) {
            bool gap = false;
            for (uint32_t g = 0; g < one->n_gaps && !gap; g++)
                gap = strcmp(one->gaps[g].skill, out->skill[i]) == 0;
            out->coverage[i] += !gap;
        }
    }
    if (out->people > 0) {
        out->mean_score = sum / out->people;
        for (uint32_t i = 0; i < d->n; i++)
            out->coverage[i] /= out->people;
    }
    free(one);
    children_free(&c);
    return VT_OK;
}
