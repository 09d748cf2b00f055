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

/* Value of column col in row r of x, 0 when absent. */
static double cell(const struct twin_sparse *x, size_t r, uint32_t col)
{
    const uint32_t *cols;
    const float *vals;
    size_t n;
    twin_sparse_row(x, r, &cols, &vals, &n);
    for (size_t k = 0; k < n; k++) {
        if (cols[k] == col)
            return vals[k];
    }
    return 0.0;
}

static void test_shared_item_count(void **state)
{
    (void)state;
    struct twin_features *f;
    assert_int_equal(twin_features_new(TWIN_FEAT_ITEM_COUNT, 1, 2, 1, &f, NULL), VT_OK);
    assert_int_equal(twin_features_cols(f), 2);
    struct twin_sparse *x = twin_sparse_new(twin_features_cols(f));
    struct twin_attempt a = {.learner = 0, .item = 0, .skills = {0}, .n_skills = 1, .score = 1};
    assert_int_equal(twin_features_encode(f, &a, x, NULL), VT_OK);
    a.score = 0;
    assert_int_equal(twin_features_encode(f, &a, x, NULL), VT_OK);
    assert_int_equal(twin_features_encode(f, &a, x, NULL), VT_OK);
    a.item = 1;
    assert_int_equal(twin_features_encode(f, &a, x, NULL), VT_OK);
    /* the same two columns serve every item: counts of the current item only */
    assert_near(cell(x, 0, 0), 0.0, 1e-6);
    assert_near(cell(x, 1, 0), log(2.0), 1e-6);
    assert_near(cell(x, 1, 1), log(2.0), 1e-6);
    assert_near(cell(x, 2, 0), log(3.0), 1e-6);
    assert_near(cell(x, 2, 1), log(2.0), 1e-6);
    assert_near(cell(x, 3, 0), 0.0, 1e-6);
    assert_near(cell(x, 3, 1), 0.0, 1e-6);
    twin_features_free(f);
    twin_sparse_free(x);
}

static void test_time_windows(void **state)
{
    (void)state;
    const int64_t hour = 3600000;
    struct twin_features *f;
    assert_int_equal(
        twin_features_new(TWIN_FEAT_TOTAL_COUNTS | TWIN_FEAT_WINDOWS, 1, 1, 1, &f, NULL), VT_OK);
    /* total (2) + 4 windows × (attempts, wins) */
    assert_int_equal(twin_features_cols(f), 10);
    struct twin_sparse *x = twin_sparse_new(twin_features_cols(f));
    const int64_t at[] = {0, 2 * hour, 2 * hour + hour / 2, 74 * hour + hour / 2};
    const double score[] = {1, 0, 1, 0};
    for (int i = 0; i < 4; i++) {
        struct twin_attempt a = {
            .learner = 0, .skills = {0}, .n_skills = 1, .score = score[i], .time_ms = at[i]};
        assert_int_equal(twin_features_encode(f, &a, x, NULL), VT_OK);
    }
    /* row 2 (t = 2.5 h): 2 attempts / 1 win in total, 30 d, 7 d and 1 d; in the last hour
     * only the wrong answer at 2 h */
    const double want2[10] = {log(3), log(2), log(3), log(2), log(3),
                              log(2), log(3), log(2), log(2), 0};
    /* row 3 (3 days later): 3 attempts / 2 wins in total, 30 d and 7 d; none in 1 d or 1 h */
    const double want3[10] = {log(4), log(3), log(4), log(3), log(4), log(3), 0, 0, 0, 0};
    for (uint32_t c = 0; c < 10; c++) {
        assert_near(cell(x, 2, c), want2[c], 1e-6);
        assert_near(cell(x, 3, c), want3[c], 1e-6);
    }
    /* an attempt before the latest one cannot be placed in the windows: refused, not counted */
    struct vt_error err;
    struct twin_attempt late = {.learner = 0, .skills = {0}, .n_skills = 1, .time_ms = hour};
    assert_int_equal(twin_features_encode(f, &late, x, &err), VT_ERR_CONFLICT);
    assert_int_equal(twin_sparse_rows(x), 4);
    late.time_ms = at[3];
    assert_int_equal(twin_features_encode(f, &late, x, NULL), VT_OK);
    assert_near(cell(x, 4, 0), log(5), 1e-6);
    assert_near(cell(x, 4, 8), log(2), 1e-6);
    twin_features_free(f);
    twin_sparse_free(x);

    /* windows widen only the count blocks that are on */
    assert_int_equal(twin_features_new(TWIN_FEAT_ITEM | TWIN_FEAT_WINDOWS, 1, 3, 1, &f, NULL),
                     VT_OK);
    assert_int_equal(twin_features_cols(f), 3);
    twin_features_free(f);
    assert_int_equal(twin_features_new(TWIN_FEATS_GERVET_BEST_LR, 1, 3, 2, &f, NULL), VT_OK);
    /* item 3 + skill 2 + item count 2 + skill counts 4 + total 2 + windows 8 × (1 + 2 + 1) */
    assert_int_equal(twin_features_cols(f), 45);
    twin_features_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_before_the_attempt),
        cmocka_unit_test(test_shared_item_count),
        cmocka_unit_test(test_time_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
