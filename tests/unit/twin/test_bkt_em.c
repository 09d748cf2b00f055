/* EM fitting: parameter recovery, bounds, degenerate data, federated sums, DKT synthetic. */
#include "twin/twin.h"
#include "twin_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) * 0x1.0p-53;
}

/* Appends n_learners sequences of len outcomes drawn from p. */
static void simulate(struct twin_bkt_seqs *s, const struct twin_bkt_params *p, int n_learners,
                     int len, uint64_t seed)
{
    rng_state = seed;
    for (int l = 0; l < n_learners; l++) {
        twin_bkt_seqs_begin(s);
        bool known = uniform() < p->prior;
        for (int t = 0; t < len; t++) {
            double pc = known ? 1 - p->slip : p->guess;
            assert_int_equal(twin_bkt_seqs_add(s, uniform() < pc ? 1.0 : 0.0, NULL), VT_OK);
            double u = uniform();
            known = known ? u >= p->forget : u < p->learn;
        }
    }
}

static void test_recovers_known_parameters(void **state)
{
    (void)state;
    const struct twin_bkt_params truth = {.prior = 0.3, .learn = 0.15, .guess = 0.2, .slip = 0.1};
    struct twin_bkt_seqs *s = twin_bkt_seqs_new();
    simulate(s, &truth, 1000, 30, 12345);
    assert_int_equal(twin_bkt_seqs_count(s), 1000);
    assert_int_equal(twin_bkt_seqs_obs(s), 30000);
    struct twin_bkt_fit_opts o;
    twin_bkt_fit_opts_default(&o);
    struct twin_bkt_params p;
    twin_bkt_params_default(&p);
    struct twin_bkt_fit_report rep;
    assert_int_equal(twin_bkt_fit(s, &o, &p, &rep, NULL), VT_OK);
    assert_near(p.prior, truth.prior, 0.05);
    assert_near(p.learn, truth.learn, 0.03);
    assert_near(p.guess, truth.guess, 0.03);
    assert_near(p.slip, truth.slip, 0.03);
    assert_near(p.forget, 0.0, 0.0);
    assert_true(rep.loglik < 0.0 && rep.n_obs == 30000);
    twin_bkt_seqs_free(s);
}

static void test_recovers_forgetting(void **state)
{
    (void)state;
    const struct twin_bkt_params truth = {
        .prior = 0.4, .learn = 0.2, .guess = 0.15, .slip = 0.1, .forget = 0.1};
    struct twin_bkt_seqs *s = twin_bkt_seqs_new();
    simulate(s, &truth, 2000, 30, 777);
    struct twin_bkt_fit_opts o;
    twin_bkt_fit_opts_default(&o);
    o.fit_forget = true;
    struct twin_bkt_params p;
    twin_bkt_params_default(&p);
    assert_int_equal(twin_bkt_fit(s, &o, &p, NULL, NULL), VT_OK);
    assert_near(p.forget, truth.forget, 0.04);
    assert_near(p.learn, truth.learn, 0.05);
    assert_near(p.slip, truth.slip, 0.04);
    twin_bkt_seqs_free(s);
}

static void test_respects_bounds(void **state)
{
    (void)state;
    const struct twin_bkt_params truth = {.prior = 0.2, .learn = 0.1, .guess = 0.45, .slip = 0.25};
    struct twin_bkt_seqs *s = twin_bkt_seqs_new();
    simulate(s, &truth, 300, 20, 99);
    struct twin_bkt_fit_opts o;
    twin_bkt_fit_opts_default(&o);
    o.guess_max = 0.3;
    o.slip_max = 0.1;
    struct twin_bkt_params p;
    twin_bkt_params_default(&p);
    assert_int_equal(twin_bkt_fit(s, &o, &p, NULL, NULL), VT_OK);
    assert_true(p.guess <= 0.3 && p.slip <= 0.1);
    assert_int_equal(twin_bkt_params_check(&p, NULL), VT_OK);
    twin_bkt_seqs_free(s);
}

static void test_degenerate_data(void **state)
{
    (void)state;
    struct twin_bkt_seqs *s = twin_bkt_seqs_new();
    struct twin_bkt_fit_opts o;
    twin_bkt_fit_opts_default(&o);
    struct twin_bkt_params p;
    twin_bkt_params_default(&p);
    struct vt_error err;
    /* no attempts: a clear error, parameters untouched */
    twin_bkt_seqs_begin(s);
    assert_int_equal(twin_bkt_fit(s, &o, &p, NULL, &err), VT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "no attempts"));
    assert_near(p.prior, 0.4, 0.0);
    /* bad scores are refused */
    assert_int_equal(twin_bkt_seqs_add(s, NAN, &err), VT_ERR_INVALID);
    assert_int_equal(twin_bkt_seqs_add(s, 1.5, &err), VT_ERR_INVALID);
    /* all correct: fits, every parameter finite and valid */
    for (int l = 0; l < 50; l++) {
        twin_bkt_seqs_begin(s);
        for (int t = 0; t < 10; t++)
            assert_int_equal(twin_bkt_seqs_add(s, 1.0, NULL), VT_OK);
    }
    struct twin_bkt_fit_report rep;
    assert_int_equal(twin_bkt_fit(s, &o, &p, &rep, NULL), VT_OK);
    assert_int_equal(twin_bkt_params_check(&p, NULL), VT_OK);
    assert_true(isfinite(rep.loglik));
    assert_true(p.prior > 0.9 || p.guess > 0.25);
    /* all wrong too */
    struct twin_bkt_seqs *w = twin_bkt_seqs_new();
    for (int t = 0; t < 10; t++)
        assert_int_equal(twin_bkt_seqs_add(w, 0.0, NULL), VT_OK);
    assert_int_equal(twin_bkt_fit(w, &o, &p, NULL, NULL), VT_OK);
    assert_int_equal(twin_bkt_params_check(&p, NULL), VT_OK);
    twin_bkt_seqs_free(w);
    /* dropping short sequences */
    twin_bkt_seqs_begin(s);
    assert_int_equal(twin_bkt_seqs_add(s, 1.0, NULL), VT_OK);
    assert_int_equal(twin_bkt_seqs_count(s), 51);
    twin_bkt_seqs_drop_short(s, 2);
    assert_int_equal(twin_bkt_seqs_count(s), 50);
    assert_int_equal(twin_bkt_seqs_obs(s), 500);
    twin_bkt_seqs_free(s);
}

/* E-step statistics add up: two halves give the same M-step as the whole (federated EM). */
static void test_statistics_are_additive(void **state)
{
    (void)state;
    const struct twin_bkt_params truth = {.prior = 0.3, .learn = 0.2, .guess = 0.2, .slip = 0.1};
    struct twin_bkt_seqs *a = twin_bkt_seqs_new(), *b = twin_bkt_seqs_new(),
                         *all = twin_bkt_seqs_new();
    simulate(a, &truth, 100, 12, 1);
    simulate(b, &truth, 100, 12, 2);
    simulate(all, &truth, 100, 12, 1);
    simulate(all, &truth, 100, 12, 2);
    struct twin_bkt_params p;
    twin_bkt_params_default(&p);
    struct twin_bkt_stats sa, sb, sall;
    twin_bkt_stats_clear(&sa);
    twin_bkt_stats_clear(&sb);
    twin_bkt_stats_clear(&sall);
    twin_bkt_estep(&p, a, &sa);
    twin_bkt_estep(&p, b, &sb);
    twin_bkt_estep(&p, all, &sall);
    twin_bkt_stats_add(&sa, &sb);
    assert_near(sa.loglik, sall.loglik, 1e-9);
    assert_near(sa.trans_ul, sall.trans_ul, 1e-9);
    assert_near(sa.l_wrong, sall.l_wrong, 1e-9);
    struct twin_bkt_fit_opts o;
    twin_bkt_fit_opts_default(&o);
    struct twin_bkt_params p1 = p, p2 = p;
    twin_bkt_mstep(&sa, &o, &p1);
    twin_bkt_mstep(&sall, &o, &p2);
    assert_near(p1.learn, p2.learn, 1e-12);
    assert_near(p1.guess, p2.guess, 1e-12);
    twin_bkt_seqs_free(a);
    twin_bkt_seqs_free(b);
    twin_bkt_seqs_free(all);
}

/*
 * Piech et al.'s simulated students (2 concepts): BKT per concept, first 2,000 students train,
 * the rest test, must predict better than chance with finite outputs.
 */
static void test_dkt_synthetic(void **state)
{
    (void)state;
    char *csv = vt_test_shared_path("data/dkt_synthetic/naive_c2_q50_s4000_v0.csv");
    char *info = vt_test_shared_path("data/dkt_synthetic/naive_c2_q50_s4000_v0_info.txt");
    if (csv == NULL || info == NULL) {
        free(csv);
        free(info);
        skip();
    }
    int concept[50];
    FILE *f = fopen(info, "r");
    assert_non_null(f);
    for (int q = 0; q < 50; q++) {
        double a, b, d;
        assert_int_equal(fscanf(f, "%lf %lf %d %lf", &a, &b, &concept[q], &d), 4);
        assert_true(concept[q] == 0 || concept[q] == 1);
    }
    fclose(f);
    size_t len;
    char *text = vt_test_read_file(csv, &len);
    assert_non_null(text);
    static uint8_t answers[4000][50];
    char *p = text;
    for (int s = 0; s < 4000; s++) {
        for (int q = 0; q < 50; q++) {
            assert_true(*p == '0' || *p == '1');
            answers[s][q] = (uint8_t)(*p - '0');
            p += 2; /* digit and separator */
        }
    }
    free(text);
    struct twin_bkt_params params[2];
    for (int c = 0; c < 2; c++) {
        struct twin_bkt_seqs *seqs = twin_bkt_seqs_new();
        for (int s = 0; s < 2000; s++) {
            twin_bkt_seqs_begin(seqs);
            for (int q = 0; q < 50; q++) {
                if (concept[q] == c)
                    assert_int_equal(twin_bkt_seqs_add(seqs, answers[s][q], NULL), VT_OK);
            }
        }
        struct twin_bkt_fit_opts o;
        twin_bkt_fit_opts_default(&o);
        o.restarts = 2;
        twin_bkt_params_default(&params[c]);
        assert_int_equal(twin_bkt_fit(seqs, &o, &params[c], NULL, NULL), VT_OK);
        twin_bkt_seqs_free(seqs);
    }
    double *pred = malloc(2000 * 50 * sizeof(double));
    uint8_t *label = malloc(2000 * 50);
    size_t n = 0;
    for (int s = 2000; s < 4000; s++) {
        double pk[2] = {params[0].prior, params[1].prior};
        for (int q = 0; q < 50; q++) {
            int c = concept[q];
            pred[n] = twin_bkt_p_correct(&params[c], pk[c]);
            label[n++] = answers[s][q];
            pk[c] = twin_bkt_step(&params[c], pk[c], answers[s][q]);
        }
    }
    double auc;
    assert_int_equal(twin_auc(pred, label, n, &auc, NULL), VT_OK);
    assert_true(auc > 0.6 && auc < 1.0);
    free(pred);
    free(label);
    free(csv);
    free(info);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovers_known_parameters),
        cmocka_unit_test(test_recovers_forgetting),
        cmocka_unit_test(test_respects_bounds),
        cmocka_unit_test(test_degenerate_data),
        cmocka_unit_test(test_statistics_are_additive),
        cmocka_unit_test(test_dkt_synthetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
