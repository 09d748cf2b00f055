/* Feature rows come from earlier attempts only. */
#include "twin/twin.h"
#include "twin_test.h"

static void test_counts_before_the_attempt(void **state)
{
    (void)state;
    struct twin_features *f;
    assert_int_equal(twin_features_new(TWIN_FEATS_TWIN, 2, 3, 2, &f, NULL), VT_OK);
    /* item 3 + skill 2 + item counts 6 + skill counts 4 + total 2 + recent 6 */
    assert_int_equal(twin_features_cols(f), 23);
    struct twin_sparse *x = twin_sparse_new(twin_features_cols(f));
    struct twin_attempt a = {.learner = 1, .item = 2, .skills = {1}, .n_skills = 1, .score = 1};
    assert_int_equal(twin_features_encode(f, &a, x, NULL), VT_OK);
    a.score = 0;
    assert_int_equal(twin_features_encode(f, &a, x, NULL), VT_OK);
    struct twin_logreg_opts o;
    twin_logreg_opts_default(&o);
    struct twin_logreg *m;
    assert_int_equal(twin_logreg_fit(x, &o, &m, NULL), VT_OK);
    double p[2];
    twin_logreg_predict(m, x, p);
    /* the first row has no history, the second one success: they must differ */
    assert_true(p[0] != p[1]);
    const uint8_t *y = twin_sparse_labels(x);
    assert_int_equal(y[0], 1);
    assert_int_equal(y[1], 0);
    struct vt_error err;
    a.item = 3;
    assert_int_equal(twin_features_encode(f, &a, x, &err), VT_ERR_NOT_FOUND);
    a.item = 0;
    a.skills[0] = 2;
    assert_int_equal(twin_features_encode(f, &a, x, &err), VT_ERR_NOT_FOUND);
    assert_int_equal(twin_sparse_rows(x), 2);
    struct twin_features *none;
    assert_int_equal(twin_features_new(0, 1, 1, 1, &none, &err), VT_ERR_INVALID);
    assert_null(none);
    twin_features_free(f);
    twin_logreg_free(m);
    twin_sparse_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_before_the_attempt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
