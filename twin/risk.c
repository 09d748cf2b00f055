/* At-risk: engagement features per (learner, course) and a logistic model over them. */
#include "twin/twin_int.h"

#include <math.h>
#include <stdlib.h>

static const char *const feature_names[TWIN_RISK_NFEAT] = {
    "inactive_days", "completion_rate", "log_graded",    "log_activity",
    "mean_score",    "recent_score",    "score_trend30", "log_missed",
};

const char *twin_risk_feature_name(unsigned i)
{
    return i < TWIN_RISK_NFEAT ? feature_names[i] : "";
}

struct graded {
    double day, score;
};

static int by_day(const void *a, const void *b)
{
    double x = ((const struct graded *)a)->day, y = ((const struct graded *)b)->day;
    return (x > y) - (x < y);
}

void twin_risk_features_compute(const struct twin_course_event *ev, size_t n, double cutoff_day,
                                struct twin_risk_features *out)
{
    size_t due = 0, activity = 0, n_graded = 0;
    double last = -INFINITY;
    struct graded *g = vt_calloc(n ? n : 1, sizeof(*g));
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(ev[i].time_day) || ev[i].time_day > cutoff_day)
            continue;
        if (ev[i].kind == TWIN_COURSE_DUE) {
            due++;
            continue;
        }
        activity++;
        if (ev[i].time_day > last)
            last = ev[i].time_day;
        if (ev[i].kind == TWIN_COURSE_GRADED && isfinite(ev[i].score)) {
            g[n_graded].day = ev[i].time_day;
            g[n_graded].score = twin_clamp(ev[i].score, 0.0, 1.0);
            n_graded++;
        }
    }
    qsort(g, n_graded, sizeof(*g), by_day);

    double inactive = isfinite(last) ? cutoff_day - last : cutoff_day;
    double mean = 0.5, recent = 0.5, slope = 0.0;
    if (n_graded > 0) {
        double s = 0.0, md = 0.0;
        for (size_t i = 0; i < n_graded; i++) {
            s += g[i].score;
            md += g[i].day;
        }
        mean = s / n_graded;
        md /= n_graded;
        size_t k = n_graded < 3 ? n_graded : 3;
        double r = 0.0;
        for (size_t i = n_graded - k; i < n_graded; i++)
            r += g[i].score;
        recent = r / k;
        double sxx = 0.0, sxy = 0.0;
        for (size_t i = 0; i < n_graded; i++) {
            sxx += (g[i].day - md) * (g[i].day - md);
            sxy += (g[i].day - md) * (g[i].score - mean);
        }
        if (sxx > 1e-9)
            slope = 30.0 * sxy / sxx;
    }
    free(g);
    out->x[0] = inactive > 0.0 ? inactive : 0.0;
    out->x[1] = due > 0 ? twin_clamp((double)n_graded / due, 0.0, 1.0) : 1.0;
    out->x[2] = log1p((double)n_graded);
    out->x[3] = log1p((double)activity);
    out->x[4] = mean;
    out->x[5] = recent;
    out->x[6] = twin_clamp(slope, -10.0, 10.0);
    out->x[7] = log1p(due > n_graded ? (double)(due - n_graded) : 0.0);
}

/* Standardised row into x, one column per feature. */
static void add_row(struct twin_sparse *x, const struct twin_risk *r,
                    const struct twin_risk_features *f)
{
    for (unsigned j = 0; j < TWIN_RISK_NFEAT; j++) {
        double z = (f->x[j] - r->mean[j]) / r->sd[j];
        (void)twin_sparse_add(x, j, isfinite(z) ? z : 0.0, NULL);
    }
}

enum vt_status twin_risk_fit(const struct twin_risk_features *f, const uint8_t *at_risk, size_t n,
                             double l2, struct twin_risk **out, struct vt_error *err)
{
    *out = NULL;
    if (n == 0)
        return vt_error_set(err, VT_ERR_INVALID, "cannot fit risk model: no learners");
    struct twin_risk *r = vt_calloc(1, sizeof(*r));
    for (unsigned j = 0; j < TWIN_RISK_NFEAT; j++) {
        double s = 0.0, ss = 0.0;
        for (size_t i = 0; i < n; i++)
            s += f[i].x[j];
        double m = s / n;
        for (size_t i = 0; i < n; i++)
            ss += (f[i].x[j] - m) * (f[i].x[j] - m);
        double sd = sqrt(ss / n);
        r->mean[j] = isfinite(m) ? m : 0.0;
        r->sd[j] = sd > 1e-9 && isfinite(sd) ? sd : 1.0;
    }
    struct twin_sparse *x = twin_sparse_new(TWIN_RISK_NFEAT);
    for (size_t i = 0; i < n; i++) {
        add_row(x, r, &f[i]);
        twin_sparse_end_row(x, at_risk[i] ? 1.0 : 0.0);
    }
    struct twin_logreg_opts o;
    twin_logreg_opts_default(&o);
    o.l2 = l2;
    enum vt_status st = twin_logreg_fit(x, &o, &r->lr, err);
    twin_sparse_free(x);
    if (st != VT_OK) {
        free(r);
        return st;
    }
    *out = r;
    return VT_OK;
}

void twin_risk_free(struct twin_risk *r)
{
    if (r == NULL)
        return;
    twin_logreg_free(r->lr);
    free(r);
}

double twin_risk_predict(const struct twin_risk *r, const struct twin_risk_features *f)
{
    double z = twin_logreg_intercept(r->lr);
    for (unsigned j = 0; j < TWIN_RISK_NFEAT; j++) {
        double v = (f->x[j] - r->mean[j]) / r->sd[j];
        if (isfinite(v))
            z += twin_logreg_weight(r->lr, j) * v;
    }
    return z >= 0.0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
}

struct twin_risk *twin_risk_from_coefs(const double *mean, const double *sd, const double *w,
                                       double bias)
{
    struct twin_risk *r = vt_calloc(1, sizeof(*r));
    r->lr = vt_calloc(1, sizeof(*r->lr));
    r->lr->n_cols = TWIN_RISK_NFEAT;
    r->lr->w = vt_calloc(TWIN_RISK_NFEAT, sizeof(double));
    for (unsigned j = 0; j < TWIN_RISK_NFEAT; j++) {
        r->mean[j] = mean[j];
        r->sd[j] = sd[j] > 1e-9 ? sd[j] : 1.0;
        r->lr->w[j] = w[j];
    }
    r->lr->bias = bias;
    return r;
}

/*
 * The built-in model: twin_risk_fit (l2 = 1) on the OULAD 2013B/2013J registrations at day
 * 56 (week 8), as `bench-twin-eval --dump-risk-model` prints it. Reproduction and the
 * ledger analogues of the features: specs/twin.md §11.
 */
static const double default_mean[TWIN_RISK_NFEAT] = {
    24.03490813648294,   0.83920968212306679, 1.0204634740056056,    1.3519410395733285,
    0.72245247027202186, 0.72287241178185779, 0.0063491418073802824, 0.25064257677363355};
static const double default_sd[TWIN_RISK_NFEAT] = {
    39.690326951449414,  0.29031753125264742, 0.47957445485479006, 0.33092243805146715,
    0.15452904729957634, 0.15544335474853618, 0.31375653119376262, 0.41934660797960094};
static const double default_w[TWIN_RISK_NFEAT] = {
    0.19592785499391646,  -2.4560599653901858,  2.4572079051561886,    -1.9794219038962129,
    -0.50320347850814462, -0.47997943213927668, -0.017561453535372119, -1.4642203783116936};
static const double default_bias = -0.19968359318776605;

enum vt_status twin_risk_default(struct twin_risk **out, struct vt_error *err)
{
    (void)err;
    *out = twin_risk_from_coefs(default_mean, default_sd, default_w, default_bias);
    return VT_OK;
}
