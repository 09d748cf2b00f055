/* BKT parameter fitting: sequences, scaled forward-backward, M-step, random restarts. */
#include "twin/twin_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct twin_bkt_seqs *twin_bkt_seqs_new(void)
{
    struct twin_bkt_seqs *s = vt_calloc(1, sizeof(*s));
    s->cap_seq = 16;
    s->start = vt_calloc(s->cap_seq + 1, sizeof(size_t));
    return s;
}

void twin_bkt_seqs_free(struct twin_bkt_seqs *s)
{
    if (s == NULL)
        return;
    free(s->obs);
    free(s->start);
    free(s);
}

/* Closes the open sequence into start[]; an empty one leaves no trace. */
static void close_open(struct twin_bkt_seqs *s)
{
    if (!s->open)
        return;
    s->open = false;
    if (s->n_obs == s->start[s->n_seq])
        return;
    if (s->n_seq + 1 >= s->cap_seq) {
        s->cap_seq *= 2;
        s->start = vt_realloc(s->start, (s->cap_seq + 1) * sizeof(size_t));
    }
    s->n_seq++;
    s->start[s->n_seq] = s->n_obs;
}

void twin_bkt_seqs_begin(struct twin_bkt_seqs *s)
{
    close_open(s);
    s->open = true;
}

enum vt_status twin_bkt_seqs_add(struct twin_bkt_seqs *s, double score, struct vt_error *err)
{
    if (!isfinite(score) || score < 0.0 || score > 1.0)
        return vt_error_set(err, VT_ERR_INVALID, "invalid score %g: not in [0, 1]", score);
    if (s->n_obs >= TWIN_BKT_MAX_OBS)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "too many observations: cap %zu",
                            TWIN_BKT_MAX_OBS);
    if (!s->open)
        twin_bkt_seqs_begin(s);
    if (s->n_obs == s->cap_obs) {
        s->cap_obs = s->cap_obs ? s->cap_obs * 2 : 256;
        s->obs = vt_realloc(s->obs, s->cap_obs * sizeof(float));
    }
    s->obs[s->n_obs++] = (float)score;
    return VT_OK;
}

void twin_bkt_seqs_drop_short(struct twin_bkt_seqs *s, size_t min_len)
{
    close_open(s);
    size_t w_obs = 0, w_seq = 0;
    for (size_t i = 0; i < s->n_seq; i++) {
        size_t a = s->start[i], len = s->start[i + 1] - a;
        if (len < min_len)
            continue;
        memmove(s->obs + w_obs, s->obs + a, len * sizeof(float));
        s->start[w_seq] = w_obs;
        w_obs += len;
        w_seq++;
    }
    s->start[w_seq] = w_obs;
    s->n_seq = w_seq;
    s->n_obs = w_obs;
}

/* The collection is read as if closed: an open sequence counts once it has outcomes. */
static size_t seq_count(const struct twin_bkt_seqs *s)
{
    return s->n_seq + (s->open && s->n_obs > s->start[s->n_seq] ? 1 : 0);
}

size_t twin_bkt_seqs_count(const struct twin_bkt_seqs *s)
{
    return seq_count(s);
}

size_t twin_bkt_seqs_obs(const struct twin_bkt_seqs *s)
{
    return s->n_obs;
}

static size_t seq_end(const struct twin_bkt_seqs *s, size_t i)
{
    return i < s->n_seq ? s->start[i + 1] : s->n_obs;
}

void twin_bkt_stats_clear(struct twin_bkt_stats *st)
{
    memset(st, 0, sizeof(*st));
}

void twin_bkt_stats_add(struct twin_bkt_stats *acc, const struct twin_bkt_stats *st)
{
    acc->n_seq += st->n_seq;
    acc->first_known += st->first_known;
    acc->trans_ul += st->trans_ul;
    acc->trans_lu += st->trans_lu;
    acc->from_u += st->from_u;
    acc->from_l += st->from_l;
    acc->u_correct += st->u_correct;
    acc->u_total += st->u_total;
    acc->l_wrong += st->l_wrong;
    acc->l_total += st->l_total;
    acc->loglik += st->loglik;
}

/* Scratch for one sequence: scaled α (2 per step) and the scale factors. */
struct em_scratch {
    double *alpha;
    double *scale;
    size_t cap;
};

static void scratch_reserve(struct em_scratch *w, size_t n)
{
    if (n <= w->cap)
        return;
    free(w->alpha);
    free(w->scale);
    w->alpha = vt_malloc(2 * n * sizeof(double));
    w->scale = vt_malloc(n * sizeof(double));
    w->cap = n;
}

/*
 * Forward-backward over one sequence with per-step scaling (Rabiner), so α_t sums to 1
 * and log P(O) = Σ log c_t; state 0 is U (unknown), 1 is L (known).
 */
static void estep_seq(const struct twin_bkt_params *p, const float *o, size_t n,
                      struct em_scratch *w, struct twin_bkt_stats *st)
{
    const double a_uu = 1.0 - p->learn, a_ul = p->learn;
    const double a_lu = p->forget, a_ll = 1.0 - p->forget;
    double *al = w->alpha, *c = w->scale;

    for (size_t t = 0; t < n; t++) {
        double e_u = o[t] * p->guess + (1.0 - o[t]) * (1.0 - p->guess);
        double e_l = o[t] * (1.0 - p->slip) + (1.0 - o[t]) * p->slip;
        double pu, pl;
        if (t == 0) {
            pu = 1.0 - p->prior;
            pl = p->prior;
        } else {
            pu = al[2 * t - 2] * a_uu + al[2 * t - 1] * a_lu;
            pl = al[2 * t - 2] * a_ul + al[2 * t - 1] * a_ll;
        }
        double u = pu * e_u, l = pl * e_l;
        double sum = u + l;
        if (!(sum > 1e-300))
            sum = 1e-300;
        c[t] = sum;
        al[2 * t] = u / sum;
        al[2 * t + 1] = l / sum;
        st->loglik += log(sum);
    }

    double bu = 1.0, bl = 1.0; /* β_n */
    for (size_t t = n; t-- > 0;) {
        double gu = al[2 * t] * bu, gl = al[2 * t + 1] * bl;
        double g = gu + gl;
        if (g > 0.0) {
            gu /= g;
            gl /= g;
        }
        st->u_total += gu;
        st->l_total += gl;
        st->u_correct += gu * o[t];
        st->l_wrong += gl * (1.0 - o[t]);
        if (t == 0) {
            st->first_known += gl;
            break;
        }
        /* ξ_{t-1}(i, j) = α_{t-1}(i) A_ij e_j(o_t) β_t(j) / c_t */
        double e_u = o[t] * p->guess + (1.0 - o[t]) * (1.0 - p->guess);
        double e_l = o[t] * (1.0 - p->slip) + (1.0 - o[t]) * p->slip;
        double ju = e_u * bu / c[t], jl = e_l * bl / c[t];
        double pu = al[2 * t - 2], pl = al[2 * t - 1];
        double x_uu = pu * a_uu * ju, x_ul = pu * a_ul * jl;
        double x_lu = pl * a_lu * ju, x_ll = pl * a_ll * jl;
        double xs = x_uu + x_ul + x_lu + x_ll;
        if (xs > 0.0) {
            st->trans_ul += x_ul / xs;
            st->trans_lu += x_lu / xs;
            st->from_u += (x_uu + x_ul) / xs;
            st->from_l += (x_lu + x_ll) / xs;
        }
        double nbu = a_uu * ju + a_ul * jl;
        double nbl = a_lu * ju + a_ll * jl;
        bu = nbu;
        bl = nbl;
    }
    st->n_seq += 1.0;
}

static void estep_with(const struct twin_bkt_params *p, const struct twin_bkt_seqs *s,
                       struct em_scratch *w, struct twin_bkt_stats *st)
{
    size_t n_seq = seq_count(s);
    for (size_t i = 0; i < n_seq; i++) {
        size_t a = s->start[i], n = seq_end(s, i) - a;
        scratch_reserve(w, n);
        estep_seq(p, s->obs + a, n, w, st);
    }
}

void twin_bkt_estep(const struct twin_bkt_params *p, const struct twin_bkt_seqs *s,
                    struct twin_bkt_stats *st)
{
    struct em_scratch w = {0};
    estep_with(p, s, &w, st);
    free(w.alpha);
    free(w.scale);
}

void twin_bkt_fit_opts_default(struct twin_bkt_fit_opts *o)
{
    o->max_iter = 100;
    o->tol = 0.005;
    o->restarts = 5;
    o->seed = 42;
    o->fit_forget = false;
    o->guess_max = 0.5;
    o->slip_max = 0.5;
}

/* Ratio of expected counts, or the current value when there is no evidence. */
static double ratio_or(double num, double den, double keep)
{
    return den > 1e-12 ? num / den : keep;
}

void twin_bkt_mstep(const struct twin_bkt_stats *st, const struct twin_bkt_fit_opts *o,
                    struct twin_bkt_params *p)
{
    const double lo = TWIN_P_EPS, hi = 1.0 - TWIN_P_EPS;
    p->prior = twin_clamp(ratio_or(st->first_known, st->n_seq, p->prior), lo, hi);
    p->learn = twin_clamp(ratio_or(st->trans_ul, st->from_u, p->learn), lo, hi);
    p->forget =
        o->fit_forget ? twin_clamp(ratio_or(st->trans_lu, st->from_l, p->forget), 0.0, hi) : 0.0;
    p->guess = twin_clamp(ratio_or(st->u_correct, st->u_total, p->guess), lo,
                          twin_clamp(o->guess_max, lo, hi));
    p->slip = twin_clamp(ratio_or(st->l_wrong, st->l_total, p->slip), lo,
                         twin_clamp(o->slip_max, lo, hi));
    /* Keep a correct answer evidence of knowing (G < 1 - S) whatever the bounds allow. */
    if (p->guess + p->slip >= 1.0 - TWIN_P_EPS) {
        double excess = p->guess + p->slip - (1.0 - 2 * TWIN_P_EPS);
        p->guess -= excess / 2;
        p->slip -= excess / 2;
    }
}

static enum vt_status check_opts(const struct twin_bkt_fit_opts *o, struct vt_error *err)
{
    if (o->max_iter == 0 || o->restarts == 0)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid em options: iterations and restarts "
                            "must be positive");
    if (!(o->tol >= 0.0) || !isfinite(o->tol))
        return vt_error_set(err, VT_ERR_INVALID, "invalid em tolerance %g", o->tol);
    if (!(o->guess_max > 0.0 && o->guess_max <= 1.0 && o->slip_max > 0.0 && o->slip_max <= 1.0))
        return vt_error_set(err, VT_ERR_INVALID, "invalid em bounds: guess_max %g, slip_max %g",
                            o->guess_max, o->slip_max);
    return VT_OK;
}

enum vt_status twin_bkt_fit(const struct twin_bkt_seqs *s, const struct twin_bkt_fit_opts *o,
                            struct twin_bkt_params *p, struct twin_bkt_fit_report *report,
                            struct vt_error *err)
{
    enum vt_status status = check_opts(o, err);
    if (status != VT_OK)
        return status;
    if (s->n_obs == 0)
        return vt_error_set(err, VT_ERR_INVALID, "cannot fit bkt: no attempts");

    struct twin_rng rng;
    twin_rng_seed(&rng, o->seed);
    struct em_scratch w = {0};
    struct twin_bkt_params best = *p;
    double best_ll = -INFINITY;
    uint32_t best_iters = 0;
    for (uint32_t r = 0; r < o->restarts; r++) {
        struct twin_bkt_params cur;
        cur.prior = twin_rng_uniform(&rng);
        cur.learn = twin_rng_uniform(&rng) * 0.4;
        cur.guess = twin_rng_uniform(&rng) * 0.4;
        cur.slip = twin_rng_uniform(&rng) * 0.3;
        /* EM never moves a transition that starts at exactly 0, so forgetting starts above. */
        cur.forget = o->fit_forget ? 0.01 + twin_rng_uniform(&rng) * 0.19 : 0.0;
        cur.prior = twin_clamp(cur.prior, TWIN_P_EPS, 1.0 - TWIN_P_EPS);
        cur.learn = twin_clamp(cur.learn, TWIN_P_EPS, 1.0 - TWIN_P_EPS);
        cur.guess = twin_clamp(cur.guess, TWIN_P_EPS, o->guess_max);
        cur.slip = twin_clamp(cur.slip, TWIN_P_EPS, o->slip_max);

        double prev = -INFINITY, ll = -INFINITY;
        uint32_t it;
        for (it = 0; it < o->max_iter; it++) {
            struct twin_bkt_stats st;
            twin_bkt_stats_clear(&st);
            estep_with(&cur, s, &w, &st);
            ll = st.loglik;
            if (it > 0 && fabs(ll - prev) <= o->tol)
                break;
            prev = ll;
            twin_bkt_mstep(&st, o, &cur);
        }
        if (isfinite(ll) && ll > best_ll) {
            best_ll = ll;
            best = cur;
            best_iters = it;
        }
    }
    free(w.alpha);
    free(w.scale);
    *p = best;
    if (report != NULL) {
        report->loglik = isfinite(best_ll) ? best_ll : 0.0;
        report->iters = best_iters;
        report->n_seq = (uint32_t)seq_count(s);
        report->n_obs = s->n_obs;
    }
    return VT_OK;
}
