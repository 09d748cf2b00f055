/* Evaluation metrics: exact AUC with tied ranks, RMSE, log-loss, calibration. */
#include "twin/twin_int.h"

#include <math.h>
#include <stdlib.h>

struct scored {
    double score;
    uint8_t label;
};

static int by_score(const void *a, const void *b)
{
    double x = ((const struct scored *)a)->score, y = ((const struct scored *)b)->score;
    return (x > y) - (x < y);
}

enum vt_status twin_auc(const double *score, const uint8_t *label, size_t n, double *auc,
                        struct vt_error *err)
{
    *auc = 0.5;
    if (n == 0)
        return vt_error_set(err, VT_ERR_INVALID, "auc undefined: no predictions");
    struct scored *v = vt_calloc(n, sizeof(*v));
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(score[i])) {
            free(v);
            return vt_error_set(err, VT_ERR_INVALID, "auc undefined: score %zu is not finite", i);
        }
        v[i].score = score[i];
        v[i].label = label[i] != 0;
        pos += v[i].label;
    }
    size_t neg = n - pos;
    if (pos == 0 || neg == 0) {
        free(v);
        return vt_error_set(err, VT_ERR_INVALID, "auc undefined: only %s labels",
                            pos == 0 ? "negative" : "positive");
    }
    qsort(v, n, sizeof(*v), by_score);
    /* Mann-Whitney U: sum of positive ranks, each tie group sharing its mean rank. */
    double rank_sum = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        size_t pos_in_group = 0;
        while (j < n && v[j].score == v[i].score) {
            pos_in_group += v[j].label;
            j++;
        }
        double mean_rank = (double)(i + 1 + j) / 2.0; /* ranks i+1 .. j */
        rank_sum += mean_rank * pos_in_group;
        i = j;
    }
    free(v);
    double u = rank_sum - (double)pos * (pos + 1) / 2.0;
    *auc = u / ((double)pos * neg);
    return VT_OK;
}

double twin_rmse(const double *p, const uint8_t *label, size_t n)
{
    if (n == 0)
        return 0.0;
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = p[i] - (label[i] != 0);
        s += d * d;
    }
    return sqrt(s / n);
}

double twin_logloss(const double *p, const uint8_t *label, size_t n)
{
    if (n == 0)
        return 0.0;
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double q = twin_clamp(p[i], 1e-15, 1.0 - 1e-15);
        s -= label[i] ? log(q) : log(1.0 - q);
    }
    return s / n;
}

enum vt_status twin_calibration(const double *p, const uint8_t *label, size_t n, uint32_t n_bins,
                                struct twin_calibration *out, struct vt_error *err)
{
    *out = (struct twin_calibration){0};
    if (n_bins == 0 || n_bins > TWIN_CALIB_MAX_BINS)
        return vt_error_set(err, VT_ERR_INVALID, "invalid bin count %u: must be 1..%d", n_bins,
                            TWIN_CALIB_MAX_BINS);
    out->n_bins = n_bins;
    if (n == 0)
        return VT_OK;
    double sum_p[TWIN_CALIB_MAX_BINS] = {0}, sum_y[TWIN_CALIB_MAX_BINS] = {0};
    double brier = 0.0;
    for (size_t i = 0; i < n; i++) {
        double q = isfinite(p[i]) ? twin_clamp(p[i], 0.0, 1.0) : 0.5;
        uint32_t b = (uint32_t)(q * n_bins);
        if (b >= n_bins)
            b = n_bins - 1;
        double y = label[i] != 0;
        sum_p[b] += q;
        sum_y[b] += y;
        out->bin_count[b]++;
        brier += (q - y) * (q - y);
    }
    out->brier = brier / n;
    for (uint32_t b = 0; b < n_bins; b++) {
        if (out->bin_count[b] == 0)
            continue;
        out->bin_mean_p[b] = sum_p[b] / out->bin_count[b];
        out->bin_rate[b] = sum_y[b] / out->bin_count[b];
        out->ece += (double)out->bin_count[b] / n * fabs(out->bin_mean_p[b] - out->bin_rate[b]);
    }
    return VT_OK;
}
