/* Sparse logistic regression on problems with a known answer. */
#include "twin/twin.h"
#include "twin_test.h"

static uint64_t rs = 42;
static double uniform(void)
{
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rs >> 11) * 0x1.0p-53;
}

static void test_separable(void **state)
{
    (void)state;
    struct twin_sparse *x = twin_sparse_new(2);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(twin_sparse_add(x, (uint32_t)(i % 2), 1.0, NULL), VT_OK);
        twin_sparse_end_row(x, i % 2 == 0 ? 1.0 : 0.0);
    }
    struct twin_logreg_opts o;
    twin_logreg_opts_default(&o);
    struct twin_logreg *m;
    assert_int_equal(twin_logreg_fit(x, &o, &m, NULL), VT_OK);
    double p[200];
    twin_logreg_predict(m, x, p);
    assert_true(p[0] > 0.95 && p[1] < 0.05);
    /* the penalty keeps separable weights finite */
    assert_true(isfinite(twin_logreg_weight(m, 0)) && twin_logreg_weight(m, 0) < 20);
    double auc;
    assert_int_equal(twin_auc(p, twin_sparse_labels(x), 200, &auc, NULL), VT_OK);
    assert_near(auc, 1.0, 0.0);
    twin_logreg_free(m);
    twin_sparse_free(x);
}

static void test_recovers_weights(void **state)
{
    (void)state;
    const double w0 = 1.5, w1 = -2.0, w2 = 0.7, b = 0.5;
    struct twin_sparse *x = twin_sparse_new(3);
    for (int i = 0; i < 40000; i++) {
        double x0 = uniform() < 0.5, x1 = uniform() < 0.3, x2 = uniform() * 2 - 1;
        if (x0)
            assert_int_equal(twin_sparse_add(x, 0, 1.0, NULL), VT_OK);
        if (x1)
            assert_int_equal(twin_sparse_add(x, 1, 1.0, NULL), VT_OK);
        assert_int_equal(twin_sparse_add(x, 2, x2, NULL), VT_OK);
        double z = b + w0 * x0 + w1 * x1 + w2 * x2;
        twin_sparse_end_row(x, uniform() < 1 / (1 + exp(-z)) ? 1 : 0);
    }
    struct twin_logreg_opts o;
    twin_logreg_opts_default(&o);
    o.l2 = 0.01;
    struct twin_logreg *m;
    assert_int_equal(twin_logreg_fit(x, &o, &m, NULL), VT_OK);
    assert_near(twin_logreg_weight(m, 0), w0, 0.12);
    assert_near(twin_logreg_weight(m, 1), w1, 0.12);
    assert_near(twin_logreg_weight(m, 2), w2, 0.12);
    assert_near(twin_logreg_intercept(m), b, 0.12);
    assert_near(twin_logreg_weight(m, 99), 0.0, 0.0);
    twin_logreg_free(m);
    twin_sparse_free(x);
}

static void test_degenerate(void **state)
{
    (void)state;
    struct twin_sparse *x = twin_sparse_new(1);
    struct twin_logreg_opts o;
    twin_logreg_opts_default(&o);
    struct twin_logreg *m;
    struct vt_error err;
    assert_int_equal(twin_logreg_fit(x, &o, &m, &err), VT_ERR_INVALID);
    assert_int_equal(twin_sparse_add(x, 1, 1.0, &err), VT_ERR_INVALID);
    assert_int_equal(twin_sparse_add(x, 0, INFINITY, &err), VT_ERR_INVALID);
    /* one class only: finite, high probability */
    for (int i = 0; i < 20; i++) {
        assert_int_equal(twin_sparse_add(x, 0, 1.0, NULL), VT_OK);
        twin_sparse_end_row(x, 1.0);
    }
    assert_int_equal(twin_logreg_fit(x, &o, &m, NULL), VT_OK);
    double p[20];
    twin_logreg_predict(m, x, p);
    assert_true(isfinite(p[0]) && p[0] > 0.9 && p[0] <= 1.0);
    twin_logreg_free(m);
    twin_sparse_free(x);
}

/* With a gradient tolerance the fit runs until the gradient is that small, not until the loss
 * stops moving, and lands where a much longer run does. */
static void test_gradient_stop(void **state)
{
    (void)state;
    struct twin_sparse *x = twin_sparse_new(50);
    for (int i = 0; i < 5000; i++) {
        uint32_t c = (uint32_t)(uniform() * 50);
        assert_int_equal(twin_sparse_add(x, c, 1.0, NULL), VT_OK);
        assert_int_equal(twin_sparse_add(x, (c + 1) % 50, 1.0, NULL), VT_OK);
        double z = (c % 7) * 0.4 - 1.0;
        twin_sparse_end_row(x, uniform() < 1 / (1 + exp(-z)) ? 1 : 0);
    }
    struct twin_logreg_opts o;
    twin_logreg_opts_default(&o);
    o.max_iter = 1000;
    o.gtol = 1e-6;
    struct twin_logreg *m, *ref;
    assert_int_equal(twin_logreg_fit(x, &o, &m, NULL), VT_OK);
    assert_true(twin_logreg_converged(m));
    assert_true(twin_logreg_iterations(m) > 0 && twin_logreg_iterations(m) < 1000);
    o.gtol = 1e-9;
    assert_int_equal(twin_logreg_fit(x, &o, &ref, NULL), VT_OK);
    for (uint32_t j = 0; j < 50; j++)
        assert_near(twin_logreg_weight(m, j), twin_logreg_weight(ref, j), 1e-3);
    twin_logreg_free(m);
    twin_logreg_free(ref);
    o.gtol = -1;
    struct vt_error err;
    assert_int_equal(twin_logreg_fit(x, &o, &m, &err), VT_ERR_INVALID);
    o.gtol = 0;
    o.max_iter = 1;
    assert_int_equal(twin_logreg_fit(x, &o, &m, NULL), VT_OK);
    assert_false(twin_logreg_converged(m));
    twin_logreg_free(m);
    twin_sparse_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradient_stop),
        cmocka_unit_test(test_separable),
        cmocka_unit_test(test_recovers_weights),
        cmocka_unit_test(test_degenerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
