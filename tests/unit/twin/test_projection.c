/*
 * The twin as a projection of the ledger: a simulated stream of thousands of events for
 * many learners, applied incrementally (in uneven slices, with a reopen in the middle),
 * must give byte-identical state to a rebuild from the ledger; and the views built on it.
 */
#include "../ledger/ledger_fixture.h"
#include "twin/twin.h"
#include "twin_test.h"

#include <math.h>

#define N_LEARNERS 150
#define N_SKILLS 12
#define N_ITEMS 40
#define ORG 0
#define WHEEL 1000
#define GUESS 1001
#define HINTS 1002
#define LATE 1003

struct fx {
    char *ldir, *adir, *bdir;
    struct vt_key key;
    struct ledger *l;
    struct twin *a;
    uint64_t seed;
    size_t rejected_expected, late_expected;
    /* Pending appends: payloads live here until the batch is sent. */
    struct ledger_append_req reqs[256];
    struct vt_buf pl[256];
    size_t n;
};

static uint64_t rnd(struct fx *f)
{
    f->seed = f->seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return f->seed >> 33;
}

static double unif(struct fx *f)
{
    return (double)(rnd(f) % 1000000) / 1000000.0;
}

static char *tmpdir(void)
{
    char *t = strdup("/tmp/vitae-twin-XXXXXX");
    assert_non_null(mkdtemp(t));
    return t;
}

static void flush(struct fx *f)
{
    if (f->n == 0)
        return;
    struct ledger_append_result *res = calloc(f->n, sizeof(*res));
    struct vt_error err;
    if (ledger_append_batch(f->l, f->reqs, f->n, res, &err) != VT_OK)
        fail_msg("append: %s", err.msg);
    free(res);
    for (size_t i = 0; i < f->n; i++)
        vt_buf_release(&f->pl[i]);
    f->n = 0;
}

static struct vt_buf *push(struct fx *f, uint32_t learner, const char *type)
{
    if (f->n == 256)
        flush(f);
    struct ledger_append_req *r = &f->reqs[f->n];
    memset(r, 0, sizeof(*r));
    fixture_learner(r->learner, learner);
    r->type = type;
    vt_buf_init(&f->pl[f->n], 1 << 20);
    return &f->pl[f->n++];
}

/* Fixes up the payload pointers once the buffer is final (it may move while written). */
static void seal(struct fx *f)
{
    f->reqs[f->n - 1].payload = f->pl[f->n - 1].data;
    f->reqs[f->n - 1].payload_len = f->pl[f->n - 1].len;
}

static void append_event(struct fx *f, uint32_t learner, const struct twin_event *ev)
{
    struct vt_buf *b = push(f, learner, twin_event_type(ev->kind));
    struct vt_error err;
    if (twin_event_encode(ev, b, &err) != VT_OK)
        fail_msg("encode: %s", err.msg);
    seal(f);
}

static void append_json(struct fx *f, uint32_t learner, const char *type, const char *json)
{
    struct vt_buf *b = push(f, learner, type);
    assert_int_equal(vt_buf_append_str(b, json, NULL), VT_OK);
    seal(f);
}

static const char *skill_id(unsigned i)
{
    static char ids[N_SKILLS + 2][16];
    snprintf(ids[i], sizeof(ids[i]), "sk-%02u", i);
    return ids[i];
}

static enum vt_status fw_emit(void *ctx, const uint8_t *p, size_t n, struct vt_error *err)
{
    struct fx *f = ctx;
    struct vt_buf *b = push(f, ORG, "framework");
    enum vt_status st = vt_buf_append(b, p, n, err);
    seal(f);
    return st;
}

static void append_framework(struct fx *f)
{
    struct twin_framework *fw;
    assert_int_equal(twin_framework_new("test-fw", "Test framework", &fw, NULL), VT_OK);
    assert_int_equal(twin_framework_add_skill(fw, "area-a", "Area A", 3, NULL, NULL), VT_OK);
    assert_int_equal(twin_framework_add_skill(fw, "area-b", "Area B", 3, NULL, NULL), VT_OK);
    for (unsigned i = 0; i < N_SKILLS; i++) {
        assert_int_equal(twin_framework_add_skill(fw, skill_id(i), "skill", 1,
                                                  i < 6 ? "area-a" : "area-b", NULL),
                         VT_OK);
        if (i >= 1)
            assert_int_equal(twin_framework_add_edge(fw, skill_id(i), skill_id(i - 1), true, NULL),
                             VT_OK);
        if (i >= 3)
            assert_int_equal(twin_framework_add_edge(fw, skill_id(i), skill_id(i - 3), false, NULL),
                             VT_OK);
    }
    for (unsigned i = 0; i < N_ITEMS; i++) {
        char item[16], s0[16], s1[16];
        snprintf(item, sizeof(item), "item-%02u", i);
        snprintf(s0, sizeof(s0), "%s", skill_id(i % N_SKILLS));
        snprintf(s1, sizeof(s1), "%s", skill_id((i + 1) % N_SKILLS));
        const char *sk[] = {s0, s1};
        assert_int_equal(twin_framework_add_item(fw, item, sk, i % 5 == 0 ? 2 : 1, NULL), VT_OK);
    }
    assert_int_equal(twin_framework_check(fw, NULL), VT_OK);
    assert_int_equal(twin_framework_payloads(fw, 4096, fw_emit, f, NULL), VT_OK);
    twin_framework_free(fw);

    /* A second framework event that would close a cycle is rejected by the projection. */
    assert_int_equal(twin_framework_new("bad-fw", NULL, &fw, NULL), VT_OK);
    assert_int_equal(twin_framework_add_edge(fw, "sk-00", "sk-05", true, NULL), VT_OK);
    assert_int_equal(twin_framework_payloads(fw, 4096, fw_emit, f, NULL), VT_OK);
    twin_framework_free(fw);
    f->rejected_expected++;

    struct twin_role_profile *rp = twin_role_profile_new("analyst", "Analyst");
    rp->n = 2;
    snprintf(rp->req[0].skill, TWIN_ID_MAX, "area-a");
    rp->req[0].level = 2;
    rp->req[0].weight = 1;
    snprintf(rp->req[1].skill, TWIN_ID_MAX, "sk-05");
    rp->req[1].level = 1;
    rp->req[1].weight = 2;
    struct vt_buf *b = push(f, ORG, "role.profile");
    assert_int_equal(twin_role_profile_encode(rp, b, NULL), VT_OK);
    seal(f);
    twin_role_profile_free(rp);
}

static void attempt(struct fx *f, uint32_t learner, const char *item, double score,
                    uint32_t duration, uint32_t hints, uint32_t attempt_no, const char *course)
{
    struct twin_event ev;
    twin_event_init(&ev, TWIN_EVENT_ATTEMPT);
    snprintf(ev.item, TWIN_ID_MAX, "%s", item);
    ev.score = score;
    ev.score_is_binary = score == 0.0 || score == 1.0;
    ev.duration_ms = duration;
    ev.hints = hints;
    ev.attempt_no = attempt_no;
    if (course != NULL)
        snprintf(ev.course, TWIN_ID_MAX, "%s", course);
    append_event(f, learner, &ev);
}

/* The special learners whose flags the view tests check. */
static void append_specials(struct fx *f)
{
    for (int i = 0; i < 12; i++)
        attempt(f, WHEEL, "item-05", 0.0, 20000, 0, 1, "course-1");
    struct twin_event ev;
    twin_event_init(&ev, TWIN_EVENT_ROLE);
    snprintf(ev.role, TWIN_ID_MAX, "analyst");
    append_event(f, WHEEL, &ev);
    for (uint32_t i = 1; i <= 4; i++)
        attempt(f, GUESS, "item-07", 0.0, 1500, 0, i, "course-1");
    for (int i = 0; i < 3; i++)
        attempt(f, HINTS, "item-03", 1.0, 2000, 4, 1, "course-1");
    twin_event_init(&ev, TWIN_EVENT_ENROLLMENT);
    snprintf(ev.course, TWIN_ID_MAX, "course-2");
    append_event(f, LATE, &ev);
}

static void append_stream(struct fx *f, size_t n_events, size_t every_flush)
{
    static const char *const courses[] = {"course-1", "course-2"};
    static const char *const modalities[] = {"text", "video", "visual", "interactive"};
    for (size_t e = 0; e < n_events; e++) {
        uint32_t learner = 1 + (uint32_t)(rnd(f) % N_LEARNERS);
        const char *course = courses[learner % 2];
        double u = unif(f);
        char json[512];
        if (e % 151 == 150) {
            attempt(f, learner, "ghost-item", 1.0, 1000, 0, 1, course);
            f->rejected_expected++;
        } else if (e % 337 == 336) {
            append_json(f, learner, "role",
                        "\xa2\x64role\x67unknown\x68\x61ssigned\xf5"); /* an undefined role */
            f->rejected_expected++;
        } else if (e % 53 == 0) {
            snprintf(json, sizeof(json),
                     "{\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/answered\"},"
                     "\"object\":{\"id\":\"item-%02u\"},\"result\":{\"success\":%s,"
                     "\"duration\":\"PT%uS\"},\"context\":{\"contextActivities\":"
                     "{\"grouping\":[{\"id\":\"%s\"}]}}}",
                     (unsigned)(rnd(f) % N_ITEMS), u < 0.6 ? "true" : "false",
                     (unsigned)(5 + rnd(f) % 60), course);
            append_json(f, learner, "xapi.statement", json);
        } else if (u < 0.06) {
            struct twin_event ev;
            twin_event_init(&ev, TWIN_EVENT_ENROLLMENT);
            snprintf(ev.course, TWIN_ID_MAX, "%s", course);
            ev.status = unif(f) < 0.1   ? TWIN_WITHDRAWN
                        : unif(f) < 0.2 ? TWIN_COMPLETED
                                        : TWIN_ENROLLED;
            append_event(f, learner, &ev);
        } else if (u < 0.2) {
            struct twin_event ev;
            twin_event_init(&ev, TWIN_EVENT_PROGRESS);
            snprintf(ev.course, TWIN_ID_MAX, "%s", course);
            snprintf(ev.module, TWIN_ID_MAX, "%s/module-%u", course, (unsigned)(rnd(f) % 5));
            ev.modality = (enum twin_modality)(1 + rnd(f) % 4);
            (void)modalities;
            ev.seconds = (uint32_t)(30 + rnd(f) % 900);
            ev.completion = unif(f) < 0.4 ? 1.0 : unif(f);
            append_event(f, learner, &ev);
        } else if (u < 0.25) {
            struct twin_event ev;
            twin_event_init(&ev, TWIN_EVENT_ASSESSMENT);
            snprintf(ev.course, TWIN_ID_MAX, "%s", course);
            snprintf(ev.assessment, TWIN_ID_MAX, "%s/exam-%u", course, (unsigned)(rnd(f) % 3));
            ev.score = unif(f);
            ev.n_skills = 1;
            snprintf(ev.skills[0], TWIN_ID_MAX, "%s", skill_id((unsigned)(rnd(f) % N_SKILLS)));
            if (e % 97 == 0) {
                /* Says it happened long ago: applied late, at the learner's latest time. */
                ev.has_at = true;
                ev.at_ms = 1000;
                f->late_expected++;
                learner = LATE;
            }
            append_event(f, learner, &ev);
        } else if (u < 0.26) {
            struct twin_event ev;
            twin_event_init(&ev, TWIN_EVENT_ROLE);
            snprintf(ev.role, TWIN_ID_MAX, "analyst");
            ev.assigned = unif(f) < 0.8;
            append_event(f, learner, &ev);
        } else {
            char item[16];
            snprintf(item, sizeof(item), "item-%02u", (unsigned)(rnd(f) % N_ITEMS));
            double p = 0.3 + 0.5 * (learner % 7) / 7.0;
            uint32_t tries = 1 + (uint32_t)(rnd(f) % 3 == 0);
            for (uint32_t t = 1; t <= tries; t++)
                attempt(f, learner, item, unif(f) < p ? 1.0 : 0.0,
                        (uint32_t)(2000 + rnd(f) % 60000), (uint32_t)(rnd(f) % 4 == 0), t, course);
        }
        if (f->n >= every_flush)
            flush(f);
    }
    flush(f);
}

static int setup(void **state)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    struct fx *f = calloc(1, sizeof(*f));
    f->ldir = tmpdir();
    f->adir = tmpdir();
    f->bdir = tmpdir();
    fixture_key(&f->key, 9);
    f->l = fixture_open(f->ldir, &f->key, 0);
    f->seed = 42;
    struct vt_error err;
    if (twin_open(f->l, f->adir, NULL, &f->a, &err) != VT_OK)
        fail_msg("twin_open: %s", err.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    twin_close(f->a);
    ledger_close(f->l);
    fixture_rmtree(f->ldir);
    fixture_rmtree(f->adir);
    fixture_rmtree(f->bdir);
    free(f->ldir);
    free(f->adir);
    free(f->bdir);
    free(f);
    return 0;
}

static void digest(struct twin *t, uint8_t out[VT_SHA256_LEN])
{
    struct vt_error err;
    if (twin_state_digest(t, out, &err) != VT_OK)
        fail_msg("digest: %s", err.msg);
}

static void learner_key(uint8_t out[LEDGER_LEARNER_LEN], uint32_t n)
{
    fixture_learner(out, n);
}

/* Everything one learner's views show, as numbers, for value comparisons. */
static void assert_same_views(struct twin *a, struct twin *b, uint32_t learner)
{
    uint8_t k[LEDGER_LEARNER_LEN];
    learner_key(k, learner);
    struct twin_skill_view va[N_SKILLS + 2], vb[N_SKILLS + 2];
    size_t na, nb, ta, tb;
    assert_int_equal(twin_learner_skills(a, k, va, N_SKILLS + 2, &na, &ta, NULL), VT_OK);
    assert_int_equal(twin_learner_skills(b, k, vb, N_SKILLS + 2, &nb, &tb, NULL), VT_OK);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(va[i].skill, vb[i].skill);
        assert_true(va[i].p_known == vb[i].p_known);
        assert_true(va[i].attempts_to_mastery == vb[i].attempts_to_mastery);
        assert_int_equal(va[i].attempts, vb[i].attempts);
        assert_true(isfinite(va[i].p_correct) && va[i].p_correct >= 0 && va[i].p_correct <= 1);
        assert_true(isfinite(va[i].attempts_to_mastery));
    }
}

static void test_incremental_equals_rebuild(void **state)
{
    struct fx *f = *state;
    struct vt_error err;
    struct twin_apply_report rep, total;
    memset(&total, 0, sizeof(total));
    append_framework(f);
    flush(f);
    append_specials(f);
    flush(f);
    for (int round = 0; round < 8; round++) {
        append_stream(f, 450, 97 + 50 * (size_t)round);
        /* Uneven slices: a partial apply, then the rest. */
        uint64_t size = ledger_size(f->l), cur = twin_cursor(f->a);
        uint64_t mid = cur + (size - cur) / 3;
        if (twin_apply(f->a, cur, mid, &rep, &err) != VT_OK)
            fail_msg("apply: %s", err.msg);
        total.rejected += rep.rejected;
        total.late += rep.late;
        if (twin_catch_up(f->a, &rep, &err) != VT_OK)
            fail_msg("catch up: %s", err.msg);
        total.rejected += rep.rejected;
        total.late += rep.late;
        assert_int_equal(twin_cursor(f->a), size);
        if (round == 3) {
            /* Reopen: the state comes back from LMDB. */
            twin_close(f->a);
            assert_int_equal(twin_open(f->l, f->adir, NULL, &f->a, &err), VT_OK);
            assert_int_equal(twin_cursor(f->a), size);
        }
    }
    assert_true(ledger_size(f->l) > 3000);
    assert_int_equal(total.rejected, f->rejected_expected);
    assert_int_equal(total.late, f->late_expected);
    assert_int_equal(twin_apply(f->a, 0, 10, NULL, &err), VT_ERR_CONFLICT);

    struct twin *b;
    assert_int_equal(twin_open(f->l, f->bdir, NULL, &b, &err), VT_OK);
    assert_int_equal(twin_rebuild(b, &rep, &err), VT_OK);
    assert_int_equal(rep.rejected, f->rejected_expected);
    assert_int_equal(rep.to, ledger_size(f->l));
    print_message("%llu events: %llu applied, %llu ignored, %llu rejected, %llu late\n",
                  (unsigned long long)rep.to, (unsigned long long)rep.applied,
                  (unsigned long long)rep.ignored, (unsigned long long)rep.rejected,
                  (unsigned long long)rep.late);
    uint8_t da[VT_SHA256_LEN], db[VT_SHA256_LEN];
    digest(f->a, da);
    digest(b, db);
    assert_memory_equal(da, db, VT_SHA256_LEN);
    for (uint32_t l = 1; l <= N_LEARNERS; l += 7)
        assert_same_views(f->a, b, l);
    assert_same_views(f->a, b, WHEEL);

    /* A rebuild in place gives the same bytes again. */
    assert_int_equal(twin_rebuild(f->a, NULL, &err), VT_OK);
    digest(f->a, da);
    assert_memory_equal(da, db, VT_SHA256_LEN);
    twin_close(b);

    /* Views that do not depend on the comparison. */
    uint8_t k[LEDGER_LEARNER_LEN];
    struct twin_learner_summary sum;
    learner_key(k, 9999);
    assert_int_equal(twin_learner_get(f->a, k, &sum, &err), VT_ERR_NOT_FOUND);
    learner_key(k, 5);
    assert_int_equal(twin_learner_get(f->a, k, &sum, &err), VT_OK);
    assert_true(sum.events > 0 && sum.attempts > 0 && sum.skills > 0);
    double p;
    assert_int_equal(twin_predict(f->a, k, "item-00", NULL, 0, &p, &err), VT_OK);
    assert_true(p > 0 && p < 1);
    assert_int_equal(twin_predict(f->a, k, "ghost-item", NULL, 0, &p, &err), VT_ERR_NOT_FOUND);
    const char *sk[] = {"sk-03"};
    learner_key(k, 12345);
    assert_int_equal(twin_predict(f->a, k, NULL, sk, 1, &p, &err), VT_OK);
    struct twin_skill_info info;
    char pre[4][TWIN_ID_MAX];
    assert_int_equal(twin_skill_get(f->a, "sk-05", &info, pre, 4, &err), VT_OK);
    assert_string_equal(info.parent, "area-a");
    assert_int_equal(info.n_prereqs, 2);
    assert_int_equal(twin_skill_count(f->a), N_SKILLS + 2);

    struct twin_event ev;
    twin_event_init(&ev, TWIN_EVENT_ATTEMPT);
    snprintf(ev.item, TWIN_ID_MAX, "ghost-item");
    assert_int_equal(twin_event_check(f->a, &ev, &err), VT_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "unknown item 'ghost-item'");
    snprintf(ev.item, TWIN_ID_MAX, "item-01");
    assert_int_equal(twin_event_check(f->a, &ev, &err), VT_OK);
    ev.n_skills = 1;
    snprintf(ev.skills[0], TWIN_ID_MAX, "sk-99");
    assert_int_equal(twin_event_check(f->a, &ev, &err), VT_ERR_NOT_FOUND);
    assert_string_equal(err.msg, "unknown skill 'sk-99'");
    twin_event_init(&ev, TWIN_EVENT_ROLE);
    snprintf(ev.role, TWIN_ID_MAX, "analyst");
    assert_int_equal(twin_event_check(f->a, &ev, &err), VT_OK);
    snprintf(ev.role, TWIN_ID_MAX, "pilot");
    assert_int_equal(twin_event_check(f->a, &ev, &err), VT_ERR_NOT_FOUND);
}

static void test_views(void **state)
{
    struct fx *f = *state;
    struct vt_error err;
    append_framework(f);
    flush(f);
    append_specials(f);
    append_stream(f, 600, 200);
    assert_int_equal(twin_catch_up(f->a, NULL, &err), VT_OK);
    uint8_t k[LEDGER_LEARNER_LEN];
    struct twin_learner_summary sum;
    learner_key(k, WHEEL);
    assert_int_equal(twin_learner_get(f->a, k, &sum, &err), VT_OK);
    int64_t now = sum.last_ms + 10LL * 86400000;

    /* Wheel-spinning on sk-05 with its 12 attempts as evidence, and disengagement. */
    struct twin_flag flags[8];
    size_t n;
    assert_int_equal(twin_learner_flags(f->a, k, now, flags, 8, &n, &err), VT_OK);
    bool wheel = false, idle = false;
    for (size_t i = 0; i < n; i++) {
        if (flags[i].kind == TWIN_FLAG_WHEEL_SPINNING && strcmp(flags[i].skill, "sk-05") == 0) {
            wheel = true;
            assert_int_equal(flags[i].n_events, 12);
            assert_near(flags[i].strength, 12, 0);
            assert_non_null(strstr(flags[i].intervention, "prerequisite"));
        }
        idle = idle || flags[i].kind == TWIN_FLAG_DISENGAGED;
    }
    assert_true(wheel && idle);
    assert_int_equal(twin_learner_flags(f->a, k, sum.last_ms, flags, 8, &n, &err), VT_OK);
    for (size_t i = 0; i < n; i++)
        assert_true(flags[i].kind != TWIN_FLAG_DISENGAGED);

    /* Diagnosis: struggling, weak prerequisites, and a path in topological order ending at
     * the skill. */
    struct twin_diagnosis *d = malloc(sizeof(*d));
    assert_int_equal(twin_diagnose(f->a, k, "sk-05", d, &err), VT_OK);
    assert_true(d->struggling);
    assert_int_equal(d->n_weak, 5);
    for (uint32_t i = 1; i < d->n_weak; i++)
        assert_true(d->weak[i - 1].p_known <= d->weak[i].p_known);
    assert_int_equal(d->n_path, 6);
    assert_string_equal(d->path[0], "sk-00");
    assert_string_equal(d->path[5], "sk-05");
    assert_int_equal(twin_diagnose(f->a, k, "nope", d, &err), VT_ERR_NOT_FOUND);
    free(d);

    learner_key(k, GUESS);
    assert_int_equal(twin_learner_flags(f->a, k, sum.last_ms, flags, 8, &n, &err), VT_OK);
    bool guess = false;
    for (size_t i = 0; i < n; i++) {
        if (flags[i].kind == TWIN_FLAG_GUESSING) {
            guess = true;
            assert_int_equal(flags[i].n_events, 4);
        }
    }
    assert_true(guess);
    learner_key(k, HINTS);
    assert_int_equal(twin_learner_flags(f->a, k, sum.last_ms, flags, 8, &n, &err), VT_OK);
    bool hints = false;
    for (size_t i = 0; i < n; i++)
        hints = hints || (flags[i].kind == TWIN_FLAG_HINT_ABUSE && flags[i].n_events == 3);
    assert_true(hints);

    /* Skills: expected attempts to mastery is finite and positive when not mastered. */
    learner_key(k, WHEEL);
    struct twin_skill_view v;
    assert_int_equal(twin_learner_skill(f->a, k, "sk-05", &v, &err), VT_OK);
    assert_false(v.mastered);
    assert_int_equal(v.attempts, 12);
    assert_true(v.attempts_to_mastery > 1 && v.attempts_to_mastery <= 200);

    /* Readiness: the gap on sk-05 cites the learner's attempts. */
    struct twin_readiness *r = malloc(sizeof(*r));
    assert_int_equal(twin_readiness_get(f->a, k, "analyst", r, &err), VT_OK);
    assert_true(r->score >= 0 && r->score < 1 && r->p_ready >= 0 && r->p_ready < 1);
    bool cited = false;
    for (uint32_t i = 0; i < r->n_gaps; i++) {
        if (strcmp(r->gaps[i].skill, "sk-05") == 0)
            cited = r->gaps[i].n_evidence == 4 && r->gaps[i].gap > 0;
    }
    assert_true(cited);
    assert_int_equal(twin_readiness_get(f->a, k, "astronaut", r, &err), VT_ERR_NOT_FOUND);
    free(r);
    struct twin_team_readiness *team = malloc(sizeof(*team));
    assert_int_equal(twin_team_readiness_get(f->a, "analyst", team, &err), VT_OK);
    assert_true(team->people >= 1);
    assert_int_equal(team->n_reqs, 2);
    assert_true(team->mean_score >= 0 && team->mean_score <= 1);
    assert_true(team->coverage[0] >= 0 && team->coverage[0] <= 1);
    free(team);

    /* Course twin: no NaN anywhere, funnel within bounds. */
    struct twin_course_report cr;
    struct twin_module_report mods[8];
    struct twin_item_report items[N_ITEMS + 2];
    size_t nm, ni;
    assert_int_equal(twin_course(f->a, "course-1", sum.last_ms, &cr, mods, 8, &nm, items,
                                 N_ITEMS + 2, &ni, &err),
                     VT_OK);
    assert_true(cr.learners > 10);
    assert_true(cr.funnel_completed_one <= cr.funnel_started && cr.funnel_started <= cr.learners);
    assert_true(nm == 5 && ni >= N_ITEMS / 2);
    for (size_t i = 0; i < ni; i++) {
        assert_true(isfinite(items[i].difficulty) && items[i].difficulty >= 0 &&
                    items[i].difficulty <= 1);
        assert_true(isfinite(items[i].discrimination) && fabs(items[i].discrimination) <= 1);
    }
    for (unsigned m = 0; m < TWIN_MODALITY_COUNT; m++)
        assert_true(isfinite(cr.modality_gain[m]));
    assert_int_equal(twin_course(f->a, "course-9", 0, &cr, NULL, 0, NULL, NULL, 0, NULL, &err),
                     VT_ERR_NOT_FOUND);

    /* At-risk: a finite probability per course. */
    learner_key(k, 3);
    struct twin_risk_view rv[4];
    assert_int_equal(twin_learner_risk(f->a, k, now, rv, 4, &n, &err), VT_OK);
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) {
        assert_true(isfinite(rv[i].p_at_risk) && rv[i].p_at_risk >= 0 && rv[i].p_at_risk <= 1);
        for (unsigned j = 0; j < TWIN_RISK_NFEAT; j++)
            assert_true(isfinite(rv[i].features.x[j]));
    }
}

static void count_change(void *ctx, const uint8_t learner[LEDGER_LEARNER_LEN])
{
    (void)learner;
    (*(size_t *)ctx)++;
}

/* Erasure, change notifications, skill listing, and a state written for another ledger. */
static void test_lifecycle(void **state)
{
    struct fx *f = *state;
    struct vt_error err;
    append_framework(f);
    append_specials(f);
    flush(f);
    size_t changed = 0;
    struct twin_options o;
    twin_options_init(&o);
    o.on_change = count_change;
    o.on_change_ctx = &changed;
    twin_close(f->a);
    assert_int_equal(twin_open(f->l, f->adir, &o, &f->a, &err), VT_OK);
    assert_int_equal(twin_catch_up(f->a, NULL, &err), VT_OK);
    assert_int_equal(changed, 5); /* the organisation and the four special learners */
    char id[TWIN_ID_MAX];
    assert_int_equal(twin_skill_at(f->a, 0, id, &err), VT_OK);
    assert_string_equal(id, "area-a");
    assert_int_equal(twin_skill_at(f->a, N_SKILLS + 2, id, &err), VT_ERR_NOT_FOUND);

    uint8_t k[LEDGER_LEARNER_LEN];
    learner_key(k, WHEEL);
    struct ledger_append_result res;
    assert_int_equal(ledger_erase(f->l, k, &res, &err), VT_OK);
    assert_int_equal(twin_catch_up(f->a, NULL, &err), VT_OK);
    struct twin_learner_summary sum;
    assert_int_equal(twin_learner_get(f->a, k, &sum, &err), VT_OK);
    assert_true(sum.erased);
    assert_int_equal(sum.skills, 0);
    assert_int_equal(sum.attempts, 0);
    size_t n, total;
    struct twin_skill_view v[4];
    assert_int_equal(twin_learner_skills(f->a, k, v, 4, &n, &total, &err), VT_OK);
    assert_int_equal(total, 0);

    /* A rebuild cannot read the erased payloads and reaches the same views. */
    struct twin *b;
    assert_int_equal(twin_open(f->l, f->bdir, NULL, &b, &err), VT_OK);
    assert_int_equal(twin_catch_up(b, NULL, &err), VT_OK);
    assert_int_equal(twin_learner_get(b, k, &sum, &err), VT_OK);
    assert_true(sum.erased && sum.skills == 0);
    assert_same_views(f->a, b, GUESS);
    twin_close(b);

    /* The same directory opened for another ledger starts from scratch. */
    char *other = tmpdir();
    struct vt_key key2;
    fixture_key(&key2, 10);
    struct ledger *l2 = fixture_open(other, &key2, 0);
    twin_close(f->a);
    f->a = NULL;
    assert_int_equal(twin_open(l2, f->adir, NULL, &b, &err), VT_OK);
    assert_int_equal(twin_cursor(b), 0);
    assert_int_equal(twin_skill_count(b), 0);
    twin_close(b);
    ledger_close(l2);
    fixture_rmtree(other);
    free(other);
}

static void small_framework(struct fx *f)
{
    struct twin_framework *fw;
    assert_int_equal(twin_framework_new("tiny", NULL, &fw, NULL), VT_OK);
    assert_int_equal(twin_framework_add_skill(fw, "a", "A", 1, NULL, NULL), VT_OK);
    assert_int_equal(twin_framework_add_skill(fw, "b", "B", 1, NULL, NULL), VT_OK);
    const char *sa[] = {"a"}, *sb[] = {"b"};
    assert_int_equal(twin_framework_add_item(fw, "i1", sa, 1, NULL), VT_OK);
    assert_int_equal(twin_framework_add_item(fw, "i2", sb, 1, NULL), VT_OK);
    assert_int_equal(twin_framework_add_item(fw, "i3", sa, 1, NULL), VT_OK);
    assert_int_equal(twin_framework_payloads(fw, 4096, fw_emit, f, NULL), VT_OK);
    twin_framework_free(fw);
}

/* A stream small enough to compute the course twin by hand (specs/twin.md §12). */
static void test_course_exact(void **state)
{
    struct fx *f = *state;
    struct vt_error err;
    small_framework(f);
    static const enum twin_enrollment_status status[3] = {TWIN_COMPLETED, TWIN_ENROLLED,
                                                          TWIN_WITHDRAWN};
    for (uint32_t l = 0; l < 3; l++) {
        struct twin_event ev;
        twin_event_init(&ev, TWIN_EVENT_ENROLLMENT);
        snprintf(ev.course, TWIN_ID_MAX, "c");
        ev.status = status[l];
        append_event(f, 1 + l, &ev);
    }
    for (uint32_t l = 0; l < 2; l++) {
        struct twin_event ev;
        twin_event_init(&ev, TWIN_EVENT_PROGRESS);
        snprintf(ev.course, TWIN_ID_MAX, "c");
        snprintf(ev.module, TWIN_ID_MAX, "m1");
        ev.modality = l == 0 ? TWIN_MODALITY_VIDEO : TWIN_MODALITY_TEXT;
        ev.seconds = l == 0 ? 100 : 50;
        ev.completion = l == 0 ? 1.0 : 0.5;
        append_event(f, 1 + l, &ev);
    }
    static const double first[3][3] = {{1, 1, 0}, {1, 0, 0}, {0, 0, 0}};
    static const char *const items[3] = {"i1", "i2", "i3"};
    for (uint32_t l = 0; l < 3; l++) {
        for (int i = 0; i < 3; i++)
            attempt(f, 1 + l, items[i], first[l][i], 10000, 0, 1, "c");
    }
    flush(f);
    assert_int_equal(twin_catch_up(f->a, NULL, &err), VT_OK);
    struct twin_course_report cr;
    struct twin_module_report mods[4];
    struct twin_item_report it[4];
    size_t nm, ni;
    assert_int_equal(twin_course(f->a, "c", 0, &cr, mods, 4, &nm, it, 4, &ni, &err), VT_OK);
    assert_int_equal(cr.learners, 3);
    assert_int_equal(cr.enrolled, 3);
    assert_int_equal(cr.completed, 1);
    assert_int_equal(cr.withdrawn, 1);
    assert_int_equal(cr.funnel_started, 2);
    assert_int_equal(cr.funnel_completed_one, 1);
    assert_int_equal(cr.funnel_completed, 1);
    assert_near(cr.mean_seconds, 50, 1e-12);
    assert_near(cr.mean_activities, 11.0 / 3, 1e-12);
    assert_int_equal(cr.modality_n[TWIN_MODALITY_VIDEO], 2); /* learner 1's two gains */
    assert_int_equal(cr.best_modality, -1);                  /* fewer than 5 credits */
    assert_int_equal(nm, 1);
    assert_string_equal(mods[0].module, "m1");
    assert_int_equal(mods[0].learners, 2);
    assert_int_equal(mods[0].completed, 1);
    assert_near(mods[0].mean_seconds, 75, 1e-12);
    assert_near(mods[0].mean_completion, 0.75, 1e-12);
    assert_int_equal(ni, 3);
    assert_string_equal(it[0].item, "i1");
    assert_near(it[0].difficulty, 2.0 / 3, 1e-12);
    assert_near(it[0].discrimination, 0.5, 1e-12);
    assert_near(it[1].difficulty, 1.0 / 3, 1e-12);
    assert_near(it[2].difficulty, 0, 0);
    assert_near(it[2].discrimination, 0, 0); /* no variance: 0, never NaN */

    uint8_t k[LEDGER_LEARNER_LEN];
    learner_key(k, 3);
    struct twin_risk_view rv[2];
    size_t n;
    assert_int_equal(twin_learner_risk(f->a, k, 0, rv, 2, &n, &err), VT_OK);
    assert_int_equal(n, 1);
    assert_near(rv[0].p_at_risk, 1.0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_incremental_equals_rebuild, setup, teardown),
        cmocka_unit_test_setup_teardown(test_views, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_course_exact, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
