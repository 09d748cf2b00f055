/* BKT step, multi-skill items, attempts to mastery. */
#include "twin/twin.h"
#include "twin_test.h"

#include <math.h>

static struct twin_bkt_params base(void)
{
    struct twin_bkt_params p = {.prior = 0.4, .learn = 0.1, .guess = 0.2, .slip = 0.1};
    return p;
}

static void test_hand_computed_posteriors(void **state)
{
    (void)state;
    struct twin_bkt_params p = base();
    /* 0.4·0.9 + 0.6·0.2 */
    assert_near(twin_bkt_p_correct(&p, 0.4), 0.48, 1e-12);
    /* correct: 0.36 / 0.48 = 0.75, then 0.75 + 0.25·0.1 */
    assert_near(twin_bkt_posterior(&p, 0.4, 1.0), 0.75, 1e-12);
    assert_near(twin_bkt_step(&p, 0.4, 1.0), 0.775, 1e-12);
    /* wrong: 0.04 / 0.52, then + (1 - that)·0.1 */
    assert_near(twin_bkt_posterior(&p, 0.4, 0.0), 0.04 / 0.52, 1e-12);
    assert_near(twin_bkt_step(&p, 0.4, 0.0), 0.04 / 0.52 + (0.48 / 0.52) * 0.1, 1e-12);
    /* partial credit lies between the two */
    double half = twin_bkt_step(&p, 0.4, 0.5);
    assert_true(half > twin_bkt_step(&p, 0.4, 0.0) && half < 0.775);
}

static void test_forgetting(void **state)
{
    (void)state;
    struct twin_bkt_params p = base();
    p.forget = 0.2;
    /* 0.75·(1 - 0.2) + 0.25·0.1 */
    assert_near(twin_bkt_step(&p, 0.4, 1.0), 0.625, 1e-12);
    /* with forgetting a known skill decays toward T/(T+F) under no evidence */
    double pk = 1.0;
    for (int i = 0; i < 200; i++)
        pk = pk * (1 - p.forget) + (1 - pk) * p.learn;
    assert_near(pk, 0.1 / 0.3, 1e-9);
}

static void test_multi_skill_conjunctive(void **state)
{
    (void)state;
    struct twin_bkt_params a = base(), b = base();
    const struct twin_bkt_params *pp[2] = {&a, &b};
    double pk[2] = {0.4, 0.4};
    assert_near(twin_bkt_p_correct_multi(pp, pk, 2), 0.48 * 0.48, 1e-12);
    twin_bkt_step_multi(pp, pk, 2, 0.0);
    /* P(L|wrong) = 0.4·(1 - 0.9·0.48) / (0.4·0.568 + 0.6·(1 - 0.2·0.48)) */
    double post = 0.4 * 0.568 / (0.4 * 0.568 + 0.6 * 0.904);
    assert_near(pk[0], post + (1 - post) * 0.1, 1e-12);
    assert_near(pk[1], pk[0], 1e-15);
    /* a correct answer is full evidence for each skill: the same as alone */
    double pk2[2] = {0.4, 0.4};
    twin_bkt_step_multi(pp, pk2, 2, 1.0);
    assert_near(pk2[0], 0.775, 1e-12);
    /* a wrong answer blames the skill less likely known more */
    double pk3[2] = {0.9, 0.3};
    twin_bkt_step_multi(pp, pk3, 2, 0.0);
    assert_true(0.9 - pk3[0] > 0.0);
    /* one skill reduces to the single-skill step */
    double one = 0.4;
    twin_bkt_step_multi(pp, &one, 1, 0.0);
    assert_near(one, twin_bkt_step(&a, 0.4, 0.0), 1e-12);
}

static void test_params_check(void **state)
{
    (void)state;
    struct twin_bkt_params p = base();
    assert_int_equal(twin_bkt_params_check(&p, NULL), VT_OK);
    p.guess = NAN;
    struct vt_error err;
    assert_int_equal(twin_bkt_params_check(&p, &err), VT_ERR_INVALID);
    p.guess = 0.6;
    p.slip = 0.5;
    assert_int_equal(twin_bkt_params_check(&p, &err), VT_ERR_INVALID);
}

static void test_attempts_closed_form_vs_monte_carlo(void **state)
{
    (void)state;
    struct twin_bkt_params p = base();
    p.learn = 0.15;
    double closed = twin_bkt_attempts_to_learn(&p, 0.2);
    assert_near(closed, 0.8 / 0.15, 1e-12);
    struct twin_attempts_estimate est;
    assert_int_equal(
        twin_bkt_attempts_mc(&p, 0.2, TWIN_ATTEMPTS_LATENT, 0.95, 40000, 10000, 1, &est, NULL),
        VT_OK);
    assert_near(est.mean, closed, 0.12);
    assert_near(est.censored_rate, 0.0, 0.0);
    /* the belief crosses 0.95 only after evidence: it takes longer, and stays finite */
    assert_int_equal(twin_bkt_attempts_mc(&p, 0.2, TWIN_ATTEMPTS_BELIEF, TWIN_MASTERY_THRESHOLD,
                                          20000, 10000, 2, &est, NULL),
                     VT_OK);
    assert_true(isfinite(est.mean) && est.mean > closed);
    /* deterministic for a seed */
    struct twin_attempts_estimate again;
    assert_int_equal(twin_bkt_attempts_mc(&p, 0.2, TWIN_ATTEMPTS_BELIEF, TWIN_MASTERY_THRESHOLD,
                                          20000, 10000, 2, &again, NULL),
                     VT_OK);
    assert_near(again.mean, est.mean, 0.0);
    /* degenerate: already known, never learning */
    assert_near(twin_bkt_attempts_to_learn(&p, 1.0), 0.0, 0.0);
    p.learn = 0.0;
    assert_true(isinf(twin_bkt_attempts_to_learn(&p, 0.5)));
    assert_int_equal(
        twin_bkt_attempts_mc(&p, 0.5, TWIN_ATTEMPTS_LATENT, 0.95, 100, 50, 3, &est, NULL), VT_OK);
    assert_true(isfinite(est.mean) && est.censored_rate > 0.0);
    assert_int_equal(
        twin_bkt_attempts_mc(&p, 0.5, TWIN_ATTEMPTS_LATENT, 0.95, 0, 50, 3, &est, NULL),
        VT_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed_posteriors),
        cmocka_unit_test(test_forgetting),
        cmocka_unit_test(test_multi_skill_conjunctive),
        cmocka_unit_test(test_params_check),
        cmocka_unit_test(test_attempts_closed_form_vs_monte_carlo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
