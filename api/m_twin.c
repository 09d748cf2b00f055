/*
 * twin.*, framework.* and readiness.*: views of the ledger projection (twin_feed.c), and
 * the two writes that define its vocabulary (frameworks and role profiles), which are
 * ledger events on a service chain like any other. Views: specs/api.md §7.6.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"

#define SKILLS_LIMIT_MAX 1000
#define FLAGS_MAX 64
#define RECOMMEND_MAX 16
#define COURSES_MAX 64
#define FRAMEWORK_PAYLOAD_MAX ((size_t)48 << 10)
#define FRAMEWORK_EVENTS_MAX 4096

static double finite_or(double x, double alt)
{
    return isfinite(x) ? x : alt;
}

static json_t *time_json(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char ts[VT_TIME_MAX];
    vt_time_format(ms, ts);
    return json_string(ts);
}

static json_t *skill_view_json(const struct twin_skill_view *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "skill", json_string(v->skill));
    json_object_set_new(o, "p_known", json_real(v->p_known));
    json_object_set_new(o, "p_correct", json_real(v->p_correct));
    json_object_set_new(o, "attempts", json_integer(v->attempts));
    json_object_set_new(o, "correct", json_integer(v->correct));
    json_object_set_new(o, "mastered", json_boolean(v->mastered));
    /* Infinity (a skill that cannot be learned under its parameters) is JSON null. */
    if (isfinite(v->attempts_to_mastery))
        json_object_set_new(o, "attempts_to_mastery", json_real(v->attempts_to_mastery));
    else
        json_object_set_new(o, "attempts_to_mastery", json_null());
    json_object_set_new(o, "last", time_json(v->last_ms));
    return o;
}

/* Runs fn with the twin locked and caught up. */
#define WITH_TWIN(s, err, body)                                                                    \
    do {                                                                                           \
        enum vt_status lrc_ = api_twin_lock((s), (err));                                           \
        if (lrc_ != VT_OK)                                                                         \
            return lrc_;                                                                           \
        body;                                                                                      \
        api_twin_unlock(s);                                                                        \
    } while (0)

API_METHOD(api_m_twin_get)
{
    uint8_t learner[LEDGER_LEARNER_LEN];
    enum vt_status rc = api_param_learner(params, learner, err);
    if (rc != VT_OK)
        return rc;
    struct twin_learner_summary sum;
    uint64_t cursor = 0;
    WITH_TWIN(call->srv, err, {
        rc = twin_learner_get(call->srv->twin, learner, &sum, err);
        cursor = twin_cursor(call->srv->twin);
    });
    if (rc != VT_OK)
        return rc;
    json_t *o = json_object();
    json_object_set_new(o, "learner",
                        json_string(json_string_value(json_object_get(params, "learner"))));
    json_object_set_new(o, "events", json_integer((json_int_t)sum.events));
    json_object_set_new(o, "attempts", json_integer((json_int_t)sum.attempts));
    json_object_set_new(o, "late", json_integer((json_int_t)sum.late));
    json_object_set_new(o, "rejected", json_integer((json_int_t)sum.rejected));
    json_object_set_new(o, "first", time_json(sum.first_ms));
    json_object_set_new(o, "last", time_json(sum.last_ms));
    json_object_set_new(o, "skills", json_integer(sum.skills));
    json_object_set_new(o, "mastered", json_integer(sum.mastered));
    json_object_set_new(o, "courses", json_integer(sum.courses));
    json_object_set_new(o, "roles", json_integer(sum.roles));
    json_object_set_new(o, "erased", json_boolean(sum.erased));
    json_object_set_new(o, "cursor", json_integer((json_int_t)cursor));
    *result = o;
    return VT_OK;
}

API_METHOD(api_m_twin_skills)
{
    uint8_t learner[LEDGER_LEARNER_LEN];
    uint64_t limit = 100;
    enum vt_status rc = api_param_learner(params, learner, err);
    if (rc == VT_OK)
        rc = api_param_uint(params, "limit", false, &limit, err);
    if (rc != VT_OK)
        return rc;
    if (limit == 0 || limit > SKILLS_LIMIT_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "limit must be 1..%d", SKILLS_LIMIT_MAX);
    struct twin_skill_view *v = vt_calloc((size_t)limit, sizeof(*v));
    size_t n = 0, total = 0;
    WITH_TWIN(call->srv, err, {
        rc = twin_learner_skills(call->srv->twin, learner, v, (size_t)limit, &n, &total, err);
    });
    if (rc == VT_OK) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, skill_view_json(&v[i]));
        *result = json_pack("{s:I,s:o}", "total", (json_int_t)total, "skills", a);
    }
    free(v);
    return rc;
}

/* params.skills as an array of up to TWIN_ATTEMPT_MAX_SKILLS strings (borrowed). */
static enum vt_status skills_param(const json_t *params, const char **skills, size_t *n,
                                   struct vt_error *err)
{
    const json_t *a = json_object_get(params, "skills");
    *n = 0;
    if (!a)
        return VT_OK;
    if (!json_is_array(a) || json_array_size(a) == 0 ||
        json_array_size(a) > TWIN_ATTEMPT_MAX_SKILLS)
        return vt_error_set(err, VT_ERR_INVALID, "skills must hold 1..%d skill ids",
                            TWIN_ATTEMPT_MAX_SKILLS);
    for (size_t i = 0; i < json_array_size(a); i++) {
        skills[i] = json_string_value(json_array_get(a, i));
        if (!skills[i])
            return vt_error_set(err, VT_ERR_INVALID, "skills[%zu] must be a string", i);
    }
    *n = json_array_size(a);
    return VT_OK;
}

API_METHOD(api_m_twin_predictions)
{
    uint8_t learner[LEDGER_LEARNER_LEN];
    const char *item = NULL;
    const char *skills[TWIN_ATTEMPT_MAX_SKILLS];
    size_t n_skills = 0;
    enum vt_status rc = api_param_learner(params, learner, err);
    if (rc == VT_OK)
        rc = api_param_str(params, "item", false, &item, err);
    if (rc == VT_OK)
        rc = skills_param(params, skills, &n_skills, err);
    if (rc != VT_OK)
        return rc;
    if (item && n_skills)
        return vt_error_set(err, VT_ERR_INVALID, "give item or skills, not both");
    struct twin_skill_view *v = vt_calloc(SKILLS_LIMIT_MAX, sizeof(*v));
    struct twin_risk_view *risk = vt_calloc(COURSES_MAX, sizeof(*risk));
    size_t n = 0, total = 0, n_risk = 0;
    double p = 0;
    WITH_TWIN(call->srv, err, {
        struct twin *t = call->srv->twin;
        if (item || n_skills)
            rc = twin_predict(t, learner, item, n_skills ? skills : NULL, n_skills, &p, err);
        if (rc == VT_OK)
            rc = twin_learner_skills(t, learner, v, SKILLS_LIMIT_MAX, &n, &total, err);
        if (rc == VT_OK)
            rc = twin_learner_risk(t, learner, vt_time_now_ms(), risk, COURSES_MAX, &n_risk, err);
    });
    if (rc == VT_OK) {
        json_t *o = json_object();
        if (item || n_skills)
            json_object_set_new(o, "p_correct", json_real(p));
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_pack("{s:s,s:f}", "skill", v[i].skill, "p_correct", v[i].p_correct);
            json_object_set_new(e, "attempts_to_mastery",
                                isfinite(v[i].attempts_to_mastery)
                                    ? json_real(v[i].attempts_to_mastery)
                                    : json_null());
            json_array_append_new(a, e);
        }
        json_object_set_new(o, "skills", a);
        json_t *c = json_array();
        for (size_t i = 0; i < n_risk; i++)
            json_array_append_new(c, json_pack("{s:s,s:f}", "course", risk[i].course, "p_at_risk",
                                               finite_or(risk[i].p_at_risk, 0)));
        json_object_set_new(o, "courses", c);
        *result = o;
    }
    free(v);
    free(risk);
    return rc;
}

static json_t *flag_json(const struct twin_flag *f)
{
    json_t *ev = json_array();
    for (uint32_t i = 0; i < f->n_events; i++)
        json_array_append_new(ev, json_integer((json_int_t)f->events[i]));
    return json_pack("{s:s,s:s,s:o,s:f,s:s}", "flag", twin_flag_name(f->kind), "skill", f->skill,
                     "events", ev, "strength", finite_or(f->strength, 0), "intervention",
                     f->intervention);
}

API_METHOD(api_m_twin_flags)
{
    uint8_t learner[LEDGER_LEARNER_LEN];
    enum vt_status rc = api_param_learner(params, learner, err);
    if (rc != VT_OK)
        return rc;
    struct twin_flag *f = vt_calloc(FLAGS_MAX, sizeof(*f));
    size_t n = 0;
    WITH_TWIN(call->srv, err, {
        rc = twin_learner_flags(call->srv->twin, learner, vt_time_now_ms(), f, FLAGS_MAX, &n, err);
    });
    if (rc == VT_OK) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, flag_json(&f[i]));
        *result = json_pack("{s:o}", "flags", a);
    }
    free(f);
    return rc;
}

static json_t *diagnosis_json(const struct twin_diagnosis *d)
{
    json_t *weak = json_array();
    for (uint32_t i = 0; i < d->n_weak && i < TWIN_DIAG_MAX; i++)
        json_array_append_new(weak, json_pack("{s:s,s:f,s:b,s:i}", "skill", d->weak[i].skill,
                                              "p_known", d->weak[i].p_known, "hard",
                                              d->weak[i].hard, "depth", d->weak[i].depth));
    json_t *path = json_array();
    for (uint32_t i = 0; i < d->n_path && i < TWIN_DIAG_MAX; i++)
        json_array_append_new(path, json_string(d->path[i]));
    return json_pack("{s:s,s:b,s:o,s:o}", "skill", d->skill, "struggling", d->struggling,
                     "weak_prerequisites", weak, "path", path);
}

API_METHOD(api_m_twin_recommendations)
{
    uint8_t learner[LEDGER_LEARNER_LEN];
    enum vt_status rc = api_param_learner(params, learner, err);
    if (rc != VT_OK)
        return rc;
    struct twin_skill_view *v = vt_calloc(SKILLS_LIMIT_MAX, sizeof(*v));
    struct twin_flag *f = vt_calloc(FLAGS_MAX, sizeof(*f));
    struct twin_diagnosis *d = vt_calloc(RECOMMEND_MAX, sizeof(*d));
    size_t n = 0, total = 0, n_flags = 0, n_diag = 0;
    WITH_TWIN(call->srv, err, {
        struct twin *t = call->srv->twin;
        rc = twin_learner_skills(t, learner, v, SKILLS_LIMIT_MAX, &n, &total, err);
        if (rc == VT_OK)
            rc = twin_learner_flags(t, learner, vt_time_now_ms(), f, FLAGS_MAX, &n_flags, err);
        /* The skills furthest from mastery first: diagnose those the learner is working on. */
        for (size_t i = 0; rc == VT_OK && i < n && n_diag < RECOMMEND_MAX; i++) {
            if (v[i].mastered)
                continue;
            rc = twin_diagnose(t, learner, v[i].skill, &d[n_diag], err);
            if (rc == VT_OK && (d[n_diag].struggling || d[n_diag].n_weak > 0))
                n_diag++;
        }
    });
    if (rc == VT_OK) {
        json_t *recs = json_array();
        for (size_t i = 0; i < n_diag; i++)
            json_array_append_new(recs, diagnosis_json(&d[i]));
        json_t *iv = json_array();
        for (size_t i = 0; i < n_flags; i++)
            json_array_append_new(iv, json_pack("{s:s,s:s,s:s}", "flag", twin_flag_name(f[i].kind),
                                                "skill", f[i].skill, "intervention",
                                                f[i].intervention));
        *result = json_pack("{s:o,s:o}", "recommendations", recs, "interventions", iv);
    }
    free(v);
    free(f);
    free(d);
    return rc;
}

API_METHOD(api_m_twin_subscribe)
{
    uint8_t learner[LEDGER_LEARNER_LEN];
    enum vt_status rc = api_param_learner(params, learner, err);
    if (rc != VT_OK)
        return rc;
    struct api_job *job = call->job;
    if (job->n_subs >= API_SUBS_PER_JOB)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "at most %d subscriptions per message",
                            API_SUBS_PER_JOB);
    memcpy(job->subs[job->n_subs++], learner, LEDGER_LEARNER_LEN);
    *result = json_pack("{s:O,s:I}", "learner", json_object_get(params, "learner"), "cursor",
                        (json_int_t)api_twin_cursor(call->srv));
    return VT_OK;
}

/* ---------------------------------------------------------------------------------------
 * Frameworks and role profiles
 */

struct fw_emit {
    struct api_server *s;
    struct ledger_append_req *reqs;
    struct vt_buf *bufs;
    size_t n;
    uint8_t chain[LEDGER_LEARNER_LEN];
};

static enum vt_status fw_collect(void *ctx, const uint8_t *p, size_t n, struct vt_error *err)
{
    struct fw_emit *e = ctx;
    if (e->n >= FRAMEWORK_EVENTS_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "framework needs over %d events",
                            FRAMEWORK_EVENTS_MAX);
    struct vt_buf *b = &e->bufs[e->n];
    vt_buf_init(b, FRAMEWORK_PAYLOAD_MAX + 1024);
    enum vt_status rc = vt_buf_append(b, p, n, err);
    if (rc != VT_OK)
        return rc;
    struct ledger_append_req *r = &e->reqs[e->n++];
    memset(r, 0, sizeof(*r));
    memcpy(r->learner, e->chain, sizeof(r->learner));
    r->type = "framework";
    r->payload = b->data;
    r->payload_len = b->len;
    return VT_OK;
}

static enum vt_status framework_parse(const json_t *params, struct twin_framework **fw,
                                      struct vt_error *err)
{
    const char *format, *id, *name;
    enum vt_status rc = api_param_str(params, "format", true, &format, err);
    if (rc == VT_OK)
        rc = api_param_str(params, "id", false, &id, err);
    if (rc == VT_OK)
        rc = api_param_str(params, "name", false, &name, err);
    if (rc != VT_OK)
        return rc;
    const json_t *data = json_object_get(params, "data");
    if (!data)
        return vt_error_set(err, VT_ERR_INVALID, "missing param 'data'");
    if (!strcmp(format, "csv")) {
        if (!json_is_string(data) || !id)
            return vt_error_set(err, VT_ERR_INVALID, "csv needs 'data' text and an 'id'");
        return twin_framework_from_csv(json_string_value(data), json_string_length(data), id,
                                       name ? name : id, fw, err);
    }
    if (!strcmp(format, "case"))
        return twin_framework_from_case(data, fw, err);
    if (!strcmp(format, "json"))
        return twin_framework_from_json(data, fw, err);
    return vt_error_set(err, VT_ERR_UNSUPPORTED, "unknown format '%s' (csv, case, json)", format);
}

API_METHOD(api_m_framework_import)
{
    struct twin_framework *fw = NULL;
    enum vt_status rc = framework_parse(params, &fw, err);
    if (rc == VT_OK)
        rc = twin_framework_check(fw, err);
    if (rc != VT_OK) {
        twin_framework_free(fw);
        return rc;
    }
    struct fw_emit e;
    memset(&e, 0, sizeof(e));
    e.s = call->srv;
    e.reqs = vt_calloc(FRAMEWORK_EVENTS_MAX, sizeof(*e.reqs));
    e.bufs = vt_calloc(FRAMEWORK_EVENTS_MAX, sizeof(*e.bufs));
    api_service_chain(call->srv, "framework", e.chain);
    rc = twin_framework_payloads(fw, FRAMEWORK_PAYLOAD_MAX, fw_collect, &e, err);
    struct ledger_append_result *res = NULL;
    if (rc == VT_OK && e.n > 0) {
        res = vt_calloc(e.n, sizeof(*res));
        rc = ledger_append_batch(call->srv->ledger, e.reqs, e.n, res, err);
    }
    if (rc == VT_OK) {
        json_t *idx = json_array();
        for (size_t i = 0; i < e.n; i++)
            json_array_append_new(idx, json_integer((json_int_t)res[i].index));
        *result =
            json_pack("{s:I,s:I,s:I,s:o}", "skills", (json_int_t)twin_framework_skill_count(fw),
                      "edges", (json_int_t)twin_framework_edge_count(fw), "items",
                      (json_int_t)twin_framework_item_count(fw), "events", idx);
        api_twin_kick(call->srv);
    }
    for (size_t i = 0; i < e.n; i++)
        vt_buf_release(&e.bufs[i]);
    free(e.bufs);
    free(e.reqs);
    free(res);
    twin_framework_free(fw);
    return rc;
}

static json_t *skill_info_json(const struct twin_skill_info *in, char (*pre)[TWIN_ID_MAX],
                               size_t n_pre)
{
    json_t *p = json_array();
    for (size_t i = 0; i < n_pre; i++)
        json_array_append_new(p, json_string(pre[i]));
    json_t *o = json_pack("{s:s,s:s,s:i,s:o}", "id", in->skill, "name", in->name, "levels",
                          in->levels, "prerequisites", p);
    if (in->parent[0])
        json_object_set_new(o, "parent", json_string(in->parent));
    json_object_set_new(o, "bkt",
                        json_pack("{s:f,s:f,s:f,s:f,s:f}", "prior", in->params.prior, "learn",
                                  in->params.learn, "guess", in->params.guess, "slip",
                                  in->params.slip, "forget", in->params.forget));
    return o;
}

#define PREREQS_SHOWN 64

API_METHOD(api_m_framework_get)
{
    const char *skill;
    uint64_t offset = 0, limit = 100;
    enum vt_status rc = api_param_str(params, "skill", false, &skill, err);
    if (rc == VT_OK)
        rc = api_param_uint(params, "offset", false, &offset, err);
    if (rc == VT_OK)
        rc = api_param_uint(params, "limit", false, &limit, err);
    if (rc != VT_OK)
        return rc;
    if (limit == 0 || limit > SKILLS_LIMIT_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "limit must be 1..%d", SKILLS_LIMIT_MAX);
    char(*pre)[TWIN_ID_MAX] = vt_calloc(PREREQS_SHOWN, TWIN_ID_MAX);
    json_t *arr = json_array();
    size_t total = 0;
    WITH_TWIN(call->srv, err, {
        struct twin *t = call->srv->twin;
        struct twin_skill_info in;
        total = twin_skill_count(t);
        if (skill) {
            rc = twin_skill_get(t, skill, &in, pre, PREREQS_SHOWN, err);
            if (rc == VT_OK)
                json_array_append_new(
                    arr,
                    skill_info_json(&in, pre,
                                    in.n_prereqs < PREREQS_SHOWN ? in.n_prereqs : PREREQS_SHOWN));
        }
        for (uint64_t i = offset; !skill && rc == VT_OK && i < total && i < offset + limit; i++) {
            char id[TWIN_ID_MAX];
            rc = twin_skill_at(t, (size_t)i, id, err);
            if (rc == VT_OK)
                rc = twin_skill_get(t, id, &in, pre, PREREQS_SHOWN, err);
            if (rc == VT_OK)
                json_array_append_new(
                    arr,
                    skill_info_json(&in, pre,
                                    in.n_prereqs < PREREQS_SHOWN ? in.n_prereqs : PREREQS_SHOWN));
        }
    });
    free(pre);
    if (rc != VT_OK) {
        json_decref(arr);
        return rc;
    }
    *result = json_pack("{s:I,s:o}", "total", (json_int_t)total, "skills", arr);
    return VT_OK;
}

API_METHOD(api_m_readiness_role_define)
{
    struct twin_role_profile *rp = NULL;
    enum vt_status rc = twin_role_profile_from_json(params, &rp, err);
    if (rc != VT_OK)
        return rc;
    struct vt_buf pl;
    vt_buf_init(&pl, FRAMEWORK_PAYLOAD_MAX);
    rc = twin_role_profile_encode(rp, &pl, err);
    struct ledger_append_result res;
    if (rc == VT_OK) {
        struct ledger_append_req req;
        memset(&req, 0, sizeof(req));
        api_service_chain(call->srv, "roles", req.learner);
        req.type = "role.profile";
        req.payload = pl.data;
        req.payload_len = pl.len;
        rc = ledger_append(call->srv->ledger, &req, &res, err);
    }
    if (rc == VT_OK) {
        *result = json_pack("{s:s,s:I,s:I}", "role", rp->role, "requirements", (json_int_t)rp->n,
                            "index", (json_int_t)res.index);
        api_twin_kick(call->srv);
    }
    vt_buf_release(&pl);
    twin_role_profile_free(rp);
    return rc;
}

API_METHOD(api_m_readiness_report)
{
    uint8_t learner[LEDGER_LEARNER_LEN];
    const char *role;
    enum vt_status rc = api_param_learner(params, learner, err);
    if (rc == VT_OK)
        rc = api_param_str(params, "role", true, &role, err);
    if (rc != VT_OK)
        return rc;
    struct twin_readiness *r = vt_calloc(1, sizeof(*r));
    WITH_TWIN(call->srv, err, { rc = twin_readiness_get(call->srv->twin, learner, role, r, err); });
    if (rc == VT_OK) {
        json_t *gaps = json_array();
        for (uint32_t i = 0; i < r->n_gaps && i < TWIN_ROLE_MAX_REQS; i++) {
            const struct twin_readiness_gap *g = &r->gaps[i];
            json_t *ev = json_array();
            for (uint32_t k = 0; k < g->n_evidence && k < 4; k++)
                json_array_append_new(ev, json_integer((json_int_t)g->evidence[k]));
            json_array_append_new(gaps, json_pack("{s:s,s:f,s:f,s:f,s:f,s:o}", "skill", g->skill,
                                                  "required", g->required, "level", g->level, "gap",
                                                  g->gap, "weight", g->weight, "evidence", ev));
        }
        *result = json_pack("{s:s,s:f,s:f,s:o}", "role", r->role, "score", finite_or(r->score, 0),
                            "p_ready", finite_or(r->p_ready, 0), "gaps", gaps);
    }
    free(r);
    return rc;
}

API_METHOD(api_m_readiness_team)
{
    const char *role;
    enum vt_status rc = api_param_str(params, "role", true, &role, err);
    if (rc != VT_OK)
        return rc;
    struct twin_team_readiness *r = vt_calloc(1, sizeof(*r));
    WITH_TWIN(call->srv, err, { rc = twin_team_readiness_get(call->srv->twin, role, r, err); });
    if (rc == VT_OK) {
        json_t *cov = json_array();
        for (uint32_t i = 0; i < r->n_reqs && i < TWIN_ROLE_MAX_REQS; i++)
            json_array_append_new(cov, json_pack("{s:s,s:f}", "skill", r->skill[i], "coverage",
                                                 finite_or(r->coverage[i], 0)));
        *result =
            json_pack("{s:s,s:i,s:f,s:i,s:o}", "role", r->role, "people", r->people, "mean_score",
                      finite_or(r->mean_score, 0), "ready", r->ready, "requirements", cov);
    }
    free(r);
    return rc;
}
