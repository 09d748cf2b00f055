/* L2-regularised logistic regression on sparse rows, fitted by L-BFGS (Nocedal 1980). */
#include "twin/twin_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LBFGS_M 10

void twin_logreg_opts_default(struct twin_logreg_opts *o)
{
    o->l2 = 1.0;
    o->max_iter = 300;
    o->tol = 1e-7;
    o->gtol = 0.0;
}

/* log(1 + e^z) without overflow. */
static double softplus(double z)
{
    return z > 0.0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

static double sigmoid(double z)
{
    if (z >= 0.0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

static double row_logit(const struct twin_sparse *x, size_t r, const double *w, uint32_t n_w,
                        double bias)
{
    double z = bias;
    for (size_t k = x->row_start[r]; k < x->row_start[r + 1]; k++) {
        if (x->col[k] < n_w)
            z += w[x->col[k]] * x->val[k];
    }
    return z;
}

/* Objective and gradient; v holds n_cols weights then the intercept. */
static double objective(const struct twin_sparse *x, double l2, const double *v, double *g)
{
    uint32_t nc = x->n_cols;
    double f = 0.0;
    memset(g, 0, (nc + 1) * sizeof(double));
    for (size_t r = 0; r < x->n_rows; r++) {
        double z = row_logit(x, r, v, nc, v[nc]);
        double y = x->label[r];
        f += softplus(z) - y * z;
        double d = sigmoid(z) - y;
        for (size_t k = x->row_start[r]; k < x->row_start[r + 1]; k++)
            g[x->col[k]] += d * x->val[k];
        g[nc] += d;
    }
    for (uint32_t j = 0; j < nc; j++) {
        f += 0.5 * l2 * v[j] * v[j];
        g[j] += l2 * v[j];
    }
    return f;
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double max_abs(const double *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

enum vt_status twin_logreg_fit(const struct twin_sparse *x, const struct twin_logreg_opts *o,
                               struct twin_logreg **out, struct vt_error *err)
{
    *out = NULL;
    if (x->n_rows == 0)
        return vt_error_set(err, VT_ERR_INVALID, "cannot fit logistic model: no rows");
    if (!(o->l2 >= 0.0) || !isfinite(o->l2) || o->max_iter == 0 || !(o->gtol >= 0.0) ||
        !isfinite(o->gtol))
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid logistic options: l2 %g, %u iterations, gtol %g", o->l2,
                            o->max_iter, o->gtol);
    size_t n = (size_t)x->n_cols + 1;
    double *v = vt_calloc(n, sizeof(double));
    double *g = vt_calloc(n, sizeof(double));
    double *d = vt_calloc(n, sizeof(double));
    double *vn = vt_calloc(n, sizeof(double));
    double *gn = vt_calloc(n, sizeof(double));
    double *s_hist = vt_calloc(LBFGS_M * n, sizeof(double));
    double *y_hist = vt_calloc(LBFGS_M * n, sizeof(double));
    double rho[LBFGS_M], alpha[LBFGS_M];
    size_t hist = 0, head = 0;

    /* Start the intercept at the base rate so the first steps fit the items, not the mean. */
    size_t pos = 0;
    for (size_t r = 0; r < x->n_rows; r++)
        pos += x->label[r];
    double rate = twin_clamp((pos + 0.5) / (x->n_rows + 1.0), 1e-6, 1 - 1e-6);
    v[n - 1] = log(rate / (1.0 - rate));

    double f = objective(x, o->l2, v, g);
    uint32_t it;
    bool converged = false;
    for (it = 0; it < o->max_iter; it++) {
        /* On the mean loss, as scikit-learn's lbfgs, so the test does not tighten with n. */
        if (o->gtol > 0.0 && max_abs(g, n) <= o->gtol * (double)x->n_rows) {
            converged = true;
            break;
        }
        /* Two-loop recursion: d = -H g. */
        for (size_t i = 0; i < n; i++)
            d[i] = -g[i];
        for (size_t h = 0; h < hist; h++) {
            size_t k = (head + LBFGS_M - 1 - h) % LBFGS_M;
            alpha[k] = rho[k] * dot(s_hist + k * n, d, n);
            for (size_t i = 0; i < n; i++)
                d[i] -= alpha[k] * y_hist[k * n + i];
        }
        if (hist > 0) {
            size_t k = (head + LBFGS_M - 1) % LBFGS_M;
            double gamma =
                dot(s_hist + k * n, y_hist + k * n, n) / dot(y_hist + k * n, y_hist + k * n, n);
            for (size_t i = 0; i < n; i++)
                d[i] *= gamma;
        } else {
            double gn2 = sqrt(dot(g, g, n));
            for (size_t i = 0; i < n; i++)
                d[i] /= gn2 > 1.0 ? gn2 : 1.0;
        }
        for (size_t h = hist; h-- > 0;) {
            size_t k = (head + LBFGS_M - 1 - h) % LBFGS_M;
            double beta = rho[k] * dot(y_hist + k * n, d, n);
            for (size_t i = 0; i < n; i++)
                d[i] += s_hist[k * n + i] * (alpha[k] - beta);
        }
        double slope = dot(g, d, n);
        if (!(slope < 0.0)) {
            /* Not a descent direction: restart from steepest descent. */
            for (size_t i = 0; i < n; i++)
                d[i] = -g[i];
            slope = -dot(g, g, n);
            hist = 0;
        }
        if (slope > -1e-20) {
            converged = true;
            break;
        }

        /* Backtracking line search with the Armijo condition. */
        double step = 1.0, fn = f;
        bool ok = false;
        for (int ls = 0; ls < 40; ls++) {
            for (size_t i = 0; i < n; i++)
                vn[i] = v[i] + step * d[i];
            fn = objective(x, o->l2, vn, gn);
            if (isfinite(fn) && fn <= f + 1e-4 * step * slope) {
                ok = true;
                break;
            }
            step *= 0.5;
        }
        if (!ok)
            break;
        size_t k = head;
        double sy = 0.0;
        for (size_t i = 0; i < n; i++) {
            s_hist[k * n + i] = vn[i] - v[i];
            y_hist[k * n + i] = gn[i] - g[i];
            sy += s_hist[k * n + i] * y_hist[k * n + i];
        }
        if (sy > 1e-12) {
            rho[k] = 1.0 / sy;
            head = (head + 1) % LBFGS_M;
            if (hist < LBFGS_M)
                hist++;
        }
        double rel = (f - fn) / (fabs(f) > 1.0 ? fabs(f) : 1.0);
        memcpy(v, vn, n * sizeof(double));
        memcpy(g, gn, n * sizeof(double));
        f = fn;
        if (o->gtol == 0.0 && rel < o->tol) {
            converged = true;
            it++;
            break;
        }
    }

    struct twin_logreg *m = vt_calloc(1, sizeof(*m));
    m->n_cols = x->n_cols;
    m->w = vt_malloc(x->n_cols * sizeof(double) + 1);
    memcpy(m->w, v, x->n_cols * sizeof(double));
    m->bias = v[n - 1];
    m->iters = it;
    m->converged = converged;
    free(v);
    free(g);
    free(d);
    free(vn);
    free(gn);
    free(s_hist);
    free(y_hist);
    *out = m;
    return VT_OK;
}

void twin_logreg_free(struct twin_logreg *m)
{
    if (m == NULL)
        return;
    free(m->w);
    free(m);
}

void twin_logreg_predict(const struct twin_logreg *m, const struct twin_sparse *x, double *p)
{
    for (size_t r = 0; r < x->n_rows; r++)
        p[r] = sigmoid(row_logit(x, r, m->w, m->n_cols, m->bias));
}

double twin_logreg_weight(const struct twin_logreg *m, uint32_t col)
{
    return col < m->n_cols ? m->w[col] : 0.0;
}

double twin_logreg_intercept(const struct twin_logreg *m)
{
    return m->bias;
}

uint32_t twin_logreg_iterations(const struct twin_logreg *m)
{
    return m->iters;
}

bool twin_logreg_converged(const struct twin_logreg *m)
{
    return m->converged;
}
