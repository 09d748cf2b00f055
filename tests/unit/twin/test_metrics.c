/* AUC with ties, RMSE, log-loss, calibration. */
#include "twin/twin.h"
#include "twin_test.h"

static void test_auc_hand_made(void **state)
{
    (void)state;
    double auc;
    const double s1[] = {0.1, 0.4, 0.35, 0.8};
    const uint8_t y1[] = {0, 0, 1, 1};
    assert_int_equal(twin_auc(s1, y1, 4, &auc, NULL), VT_OK);
    assert_near(auc, 0.75, 1e-15);
    /* all tied: 0.5 */
    const double s2[] = {0.5, 0.5, 0.5, 0.5};
    const uint8_t y2[] = {0, 1, 0, 1};
    assert_int_equal(twin_auc(s2, y2, 4, &auc, NULL), VT_OK);
    assert_near(auc, 0.5, 1e-15);
    /* a tie across classes counts one half: (1 + 0.5 + 2) / 4 */
    const double s3[] = {0.2, 0.5, 0.5, 0.9};
    const uint8_t y3[] = {0, 0, 1, 1};
    assert_int_equal(twin_auc(s3, y3, 4, &auc, NULL), VT_OK);
    assert_near(auc, 0.875, 1e-15);
    /* perfect and reversed */
    const uint8_t y4[] = {1, 1, 0, 0};
    assert_int_equal(twin_auc(s1, y4, 4, &auc, NULL), VT_OK);
    assert_near(auc, 0.25, 1e-15);
}

static void test_auc_degenerate(void **state)
{
    (void)state;
    double auc = -1;
    const double s[] = {0.1, 0.9};
    const uint8_t ones[] = {1, 1};
    struct vt_error err;
    assert_int_equal(twin_auc(s, ones, 2, &auc, &err), VT_ERR_INVALID);
    assert_near(auc, 0.5, 0.0);
    assert_int_equal(twin_auc(s, ones, 0, &auc, &err), VT_ERR_INVALID);
    const double bad[] = {NAN, 0.1};
    const uint8_t y[] = {0, 1};
    assert_int_equal(twin_auc(bad, y, 2, &auc, &err), VT_ERR_INVALID);
    assert_near(auc, 0.5, 0.0);
}

static void test_rmse_logloss_calibration(void **state)
{
    (void)state;
    const double p[] = {0.9, 0.1, 0.8, 0.3};
    const uint8_t y[] = {1, 0, 0, 1};
    assert_near(twin_rmse(p, y, 4), sqrt((0.01 + 0.01 + 0.64 + 0.49) / 4), 1e-15);
    assert_near(twin_logloss(p, y, 4), -(log(0.9) + log(0.9) + log(0.2) + log(0.3)) / 4, 1e-12);
    assert_near(twin_rmse(p, y, 0), 0.0, 0.0);
    struct twin_calibration c;
    assert_int_equal(twin_calibration(p, y, 4, 2, &c, NULL), VT_OK);
    /* bin 0: p 0.1, 0.3 rate 0.5; bin 1: p 0.9, 0.8 rate 0.5 */
    assert_int_equal(c.bin_count[0], 2);
    assert_near(c.bin_mean_p[0], 0.2, 1e-15);
    assert_near(c.bin_rate[1], 0.5, 1e-15);
    assert_near(c.ece, 0.5 * 0.3 + 0.5 * 0.35, 1e-12);
    assert_near(c.brier, (0.01 + 0.01 + 0.64 + 0.49) / 4, 1e-15);
    assert_int_equal(twin_calibration(p, y, 4, 0, &c, NULL), VT_ERR_INVALID);
    assert_int_equal(twin_calibration(p, y, 0, 10, &c, NULL), VT_OK);
    assert_near(c.ece, 0.0, 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auc_hand_made),
        cmocka_unit_test(test_auc_degenerate),
        cmocka_unit_test(test_rmse_logloss_calibration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
