/* The mastery store: incremental updates, items with several skills, bad input. */
#include "twin/twin.h"
#include "twin_test.h"

#include <string.h>

static struct twin_mastery *store(void)
{
    struct twin_mastery *m;
    assert_int_equal(twin_mastery_new(10, 3, 5, TWIN_MULTI_CONJUNCTIVE, &m, NULL), VT_OK);
    return m;
}

static struct twin_attempt attempt(uint32_t learner, uint32_t skill, double score, int64_t t)
{
    struct twin_attempt a = {.learner = learner,
                             .item = TWIN_ITEM_NONE,
                             .skills = {skill},
                             .n_skills = 1,
                             .score = score,
                             .time_ms = t};
    return a;
}

static void test_incremental_matches_step(void **state)
{
    (void)state;
    struct twin_mastery *m = store();
    struct twin_skill_state st;
    /* never seen: the prior, zero attempts */
    assert_int_equal(twin_mastery_get(m, 4, 1, &st, NULL), VT_OK);
    assert_near(st.p_known, 0.4, 0.0);
    assert_int_equal(st.attempts, 0);
    struct twin_attempt a = attempt(4, 1, 1.0, 100);
    struct twin_observe_result res;
    assert_int_equal(twin_mastery_observe(m, &a, &res, NULL), VT_OK);
    assert_near(res.p_correct, 0.48, 1e-12);
    assert_near(res.p_known[0], 0.775, 1e-12);
    a = attempt(4, 1, 0.0, 200);
    assert_int_equal(twin_mastery_observe(m, &a, &res, NULL), VT_OK);
    struct twin_bkt_params p;
    twin_bkt_params_default(&p);
    assert_near(res.p_correct, twin_bkt_p_correct(&p, 0.775), 1e-12);
    assert_near(res.p_known[0], twin_bkt_step(&p, 0.775, 0.0), 1e-12);
    assert_int_equal(twin_mastery_get(m, 4, 1, &st, NULL), VT_OK);
    assert_int_equal(st.attempts, 2);
    assert_int_equal(st.correct, 1);
    assert_int_equal(st.last_ms, 200);
    double pc;
    assert_int_equal(twin_mastery_predict(m, &a, &pc, NULL), VT_OK);
    assert_near(pc, twin_bkt_p_correct(&p, st.p_known), 1e-12);
    /* another learner is untouched */
    assert_int_equal(twin_mastery_get(m, 3, 1, &st, NULL), VT_OK);
    assert_near(st.p_known, 0.4, 0.0);
    assert_int_equal(twin_mastery_pairs(m), 1);
    assert_true(twin_mastery_state_bytes() <= 64);
    twin_mastery_free(m);
}

static void test_items_with_several_skills(void **state)
{
    (void)state;
    struct twin_mastery *m = store();
    const uint32_t skills[] = {0, 2};
    assert_int_equal(twin_mastery_set_item(m, 3, skills, 2, NULL), VT_OK);
    struct twin_attempt a = {.learner = 1, .item = 3, .score = 0.0, .time_ms = 5};
    struct twin_observe_result res;
    assert_int_equal(twin_mastery_observe(m, &a, &res, NULL), VT_OK);
    assert_int_equal(res.n_skills, 2);
    assert_near(res.p_correct, 0.48 * 0.48, 1e-12);
    double post = 0.4 * 0.568 / (0.4 * 0.568 + 0.6 * 0.904);
    assert_near(res.p_known[0], post + (1 - post) * 0.1, 1e-12);
    struct twin_skill_state st;
    assert_int_equal(twin_mastery_get(m, 1, 2, &st, NULL), VT_OK);
    assert_near(st.p_known, res.p_known[1], 0.0);
    assert_int_equal(twin_mastery_get(m, 1, 1, &st, NULL), VT_OK);
    assert_int_equal(st.attempts, 0);
    twin_mastery_free(m);
}

static void test_bad_input_changes_nothing(void **state)
{
    (void)state;
    struct twin_mastery *m = store();
    struct vt_error err;
    struct twin_attempt a = attempt(1, 0, 1.0, 1000);
    assert_int_equal(twin_mastery_observe(m, &a, NULL, NULL), VT_OK);
    /* out of time order */
    a = attempt(1, 0, 1.0, 999);
    assert_int_equal(twin_mastery_observe(m, &a, NULL, &err), VT_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "out of time order"));
    struct twin_skill_state st;
    assert_int_equal(twin_mastery_get(m, 1, 0, &st, NULL), VT_OK);
    assert_int_equal(st.attempts, 1);
    /* unknown skill, item, learner */
    a = attempt(1, 7, 1.0, 2000);
    assert_int_equal(twin_mastery_observe(m, &a, NULL, &err), VT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "unknown skill 7"));
    a.item = 4;
    assert_int_equal(twin_mastery_observe(m, &a, NULL, &err), VT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "unknown item 4"));
    a = attempt(10, 0, 1.0, 2000);
    assert_int_equal(twin_mastery_observe(m, &a, NULL, &err), VT_ERR_NOT_FOUND);
    /* bad scores, no skills, duplicate skills */
    a = attempt(1, 0, NAN, 2000);
    assert_int_equal(twin_mastery_observe(m, &a, NULL, &err), VT_ERR_INVALID);
    a = attempt(1, 0, -0.1, 2000);
    assert_int_equal(twin_mastery_observe(m, &a, NULL, &err), VT_ERR_INVALID);
    a = attempt(1, 0, 1.0, 2000);
    a.n_skills = 0;
    assert_int_equal(twin_mastery_observe(m, &a, NULL, &err), VT_ERR_INVALID);
    a.n_skills = 2;
    a.skills[1] = 0;
    assert_int_equal(twin_mastery_observe(m, &a, NULL, &err), VT_ERR_INVALID);
    assert_int_equal(twin_mastery_get(m, 1, 0, &st, NULL), VT_OK);
    assert_int_equal(st.attempts, 1);
    assert_int_equal(twin_mastery_get(m, 1, 9, &st, &err), VT_ERR_NOT_FOUND);
    /* bad parameters */
    struct twin_bkt_params p = {.prior = 2.0};
    assert_int_equal(twin_mastery_set_params(m, 0, &p, &err), VT_ERR_INVALID);
    struct twin_mastery *none;
    assert_int_equal(twin_mastery_new(1, 0, 1, TWIN_MULTI_CONJUNCTIVE, &none, &err) != VT_OK, 1);
    assert_null(none);
    twin_mastery_free(NULL);
    twin_mastery_free(m);
}

static void test_reset_and_rebuild_agree(void **state)
{
    (void)state;
    struct twin_mastery *m = store();
    const double scores[] = {1, 0, 1, 1, 0.5, 1};
    for (int i = 0; i < 6; i++) {
        struct twin_attempt a = attempt(2, (uint32_t)(i % 2), scores[i], i);
        assert_int_equal(twin_mastery_observe(m, &a, NULL, NULL), VT_OK);
    }
    struct twin_skill_state before;
    assert_int_equal(twin_mastery_get(m, 2, 1, &before, NULL), VT_OK);
    twin_mastery_reset(m);
    assert_int_equal(twin_mastery_pairs(m), 0);
    for (int i = 0; i < 6; i++) {
        struct twin_attempt a = attempt(2, (uint32_t)(i % 2), scores[i], i);
        assert_int_equal(twin_mastery_observe(m, &a, NULL, NULL), VT_OK);
    }
    struct twin_skill_state after;
    assert_int_equal(twin_mastery_get(m, 2, 1, &after, NULL), VT_OK);
    assert_near(after.p_known, before.p_known, 0.0);
    twin_mastery_free(m);
}

/* The learner-major layout: many skills arriving in any order stay sorted and independent,
 * mastered_at records the first opportunity at the threshold, reset forgets everything. */
static void test_learner_rows(void **state)
{
    (void)state;
    struct twin_mastery *m;
    assert_int_equal(twin_mastery_new(100, 64, 1, TWIN_MULTI_CONJUNCTIVE, &m, NULL), VT_OK);
    int64_t t = 0;
    for (uint32_t round = 0; round < 3; round++) {
        for (uint32_t k = 0; k < 64; k++) {
            uint32_t skill = (k * 37 + 11) % 64; /* a permutation: insertions everywhere */
            struct twin_attempt a = attempt(7, skill, skill % 2 ? 1.0 : 0.0, t++);
            assert_int_equal(twin_mastery_observe(m, &a, NULL, NULL), VT_OK);
        }
    }
    assert_int_equal(twin_mastery_pairs(m), 64);
    struct twin_bkt_params p;
    twin_bkt_params_default(&p);
    for (uint32_t k = 0; k < 64; k++) {
        double pk = p.prior;
        uint32_t mastered_at = 0;
        for (uint32_t i = 1; i <= 3; i++) {
            pk = twin_bkt_step(&p, pk, k % 2 ? 1.0 : 0.0);
            if (mastered_at == 0 && pk >= TWIN_MASTERY_THRESHOLD)
                mastered_at = i;
        }
        struct twin_skill_state st;
        assert_int_equal(twin_mastery_get(m, 7, k, &st, NULL), VT_OK);
        assert_near(st.p_known, pk, 1e-15);
        assert_int_equal(st.attempts, 3);
        assert_int_equal(st.mastered_at, mastered_at);
    }
    /* Three correct answers from the prior reach the threshold on the third. */
    struct twin_skill_state st;
    assert_int_equal(twin_mastery_get(m, 7, 1, &st, NULL), VT_OK);
    assert_int_equal(st.mastered_at, 3);
    assert_int_equal(twin_mastery_get(m, 7, 0, &st, NULL), VT_OK);
    assert_int_equal(st.mastered_at, 0);
    /* Learners far apart in id space do not disturb each other. */
    struct twin_attempt a = attempt(99, 5, 1.0, 0);
    assert_int_equal(twin_mastery_observe(m, &a, NULL, NULL), VT_OK);
    assert_int_equal(twin_mastery_pairs(m), 65);
    twin_mastery_reset(m);
    assert_int_equal(twin_mastery_pairs(m), 0);
    assert_int_equal(twin_mastery_get(m, 7, 1, &st, NULL), VT_OK);
    assert_int_equal(st.attempts, 0);
    twin_mastery_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incremental_matches_step),
        cmocka_unit_test(test_items_with_several_skills),
        cmocka_unit_test(test_bad_input_changes_nothing),
        cmocka_unit_test(test_reset_and_rebuild_agree),
        cmocka_unit_test(test_learner_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
