/* Engagement features and the at-risk model. */
#include "twin/twin.h"
#include "twin_test.h"

static void test_features(void **state)
{
    (void)state;
    const struct twin_course_event ev[] = {
        {TWIN_COURSE_DUE, 10, 0},      {TWIN_COURSE_DUE, 20, 0},      {TWIN_COURSE_DUE, 40, 0},
        {TWIN_COURSE_GRADED, 9, 0.8},  {TWIN_COURSE_GRADED, 19, 0.6}, {TWIN_COURSE_ACTIVITY, 22, 0},
        {TWIN_COURSE_GRADED, 35, 0.1},
    };
    struct twin_risk_features f;
    twin_risk_features_compute(ev, 7, 30, &f);
    assert_near(f.x[0], 8, 1e-12);         /* inactive since day 22 */
    assert_near(f.x[1], 1.0, 1e-12);       /* 2 graded of 2 due */
    assert_near(f.x[4], 0.7, 1e-12);       /* mean score, day-35 grade not yet seen */
    assert_near(f.x[6], 30 * -0.02, 1e-9); /* slope -0.2 over 10 days */
    /* nothing at all: neutral values, never NaN */
    twin_risk_features_compute(NULL, 0, 14, &f);
    for (unsigned i = 0; i < TWIN_RISK_NFEAT; i++)
        assert_true(isfinite(f.x[i]));
    assert_near(f.x[1], 1.0, 0.0);
    assert_near(f.x[4], 0.5, 0.0);
}

static void test_model_separates_inactive_learners(void **state)
{
    (void)state;
    struct twin_risk_features f[200];
    uint8_t y[200];
    for (int i = 0; i < 200; i++) {
        y[i] = i % 2;
        struct twin_course_event ev[2] = {{TWIN_COURSE_DUE, 5, 0},
                                          {TWIN_COURSE_GRADED, y[i] ? 1.0 : 20.0, 0.5}};
        twin_risk_features_compute(ev, y[i] ? 1 : 2, 30 + i % 7, &f[i]);
    }
    struct twin_risk *r;
    assert_int_equal(twin_risk_fit(f, y, 200, 1.0, &r, NULL), VT_OK);
    assert_true(twin_risk_predict(r, &f[1]) > 0.8);
    assert_true(twin_risk_predict(r, &f[0]) < 0.2);
    twin_risk_free(r);
    struct vt_error err;
    assert_int_equal(twin_risk_fit(f, y, 0, 1.0, &r, &err), VT_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features),
        cmocka_unit_test(test_model_separates_inactive_learners),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
