/* BKT parameters, the per-observation step, multi-skill items, attempts to mastery. */
#include "twin/twin_int.h"

#include <math.h>

void twin_bkt_params_default(struct twin_bkt_params *p)
{
    p->prior = 0.4;
    p->learn = 0.1;
    p->guess = 0.2;
    p->slip = 0.1;
    p->forget = 0.0;
}

static bool is_prob(double v)
{
    return isfinite(v) && v >= 0.0 && v <= 1.0;
}

enum vt_status twin_bkt_params_check(const struct twin_bkt_params *p, struct vt_error *err)
{
    static const char *names[] = {"prior", "learn", "guess", "slip", "forget"};
    const double v[] = {p->prior, p->learn, p->guess, p->slip, p->forget};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        if (!is_prob(v[i]))
            return vt_error_set(err, VT_ERR_INVALID, "invalid bkt parameter '%s': %g not in [0, 1]",
                                names[i], v[i]);
    }
    if (p->guess + p->slip >= 1.0)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid bkt parameters: guess %g + slip %g must be below 1", p->guess,
                            p->slip);
    return VT_OK;
}

double twin_bkt_p_correct(const struct twin_bkt_params *p, double p_known)
{
    return p_known * (1.0 - p->slip) + (1.0 - p_known) * p->guess;
}

/* Bayes rule with likelihoods lik_known and lik_unknown; no evidence if both vanish. */
static double bayes(double p_known, double lik_known, double lik_unknown)
{
    double num = p_known * lik_known;
    double den = num + (1.0 - p_known) * lik_unknown;
    if (!(den > 0.0))
        return p_known;
    return twin_clamp(num / den, 0.0, 1.0);
}

double twin_bkt_posterior(const struct twin_bkt_params *p, double p_known, double score)
{
    double lk = score * (1.0 - p->slip) + (1.0 - score) * p->slip;
    double lu = score * p->guess + (1.0 - score) * (1.0 - p->guess);
    return bayes(p_known, lk, lu);
}

static double learn_step(const struct twin_bkt_params *p, double post)
{
    return twin_clamp(post * (1.0 - p->forget) + (1.0 - post) * p->learn, 0.0, 1.0);
}

double twin_bkt_step(const struct twin_bkt_params *p, double p_known, double score)
{
    return learn_step(p, twin_bkt_posterior(p, p_known, score));
}

double twin_bkt_p_correct_multi(const struct twin_bkt_params *const *p, const double *p_known,
                                size_t n)
{
    double prod = 1.0;
    for (size_t k = 0; k < n; k++)
        prod *= twin_bkt_p_correct(p[k], p_known[k]);
    return prod;
}

void twin_bkt_step_multi(const struct twin_bkt_params *const *p, double *p_known, size_t n,
                         double score)
{
    VT_ASSERT(n <= TWIN_ATTEMPT_MAX_SKILLS);
    double fire[TWIN_ATTEMPT_MAX_SKILLS];
    for (size_t k = 0; k < n; k++)
        fire[k] = twin_bkt_p_correct(p[k], p_known[k]);
    double post[TWIN_ATTEMPT_MAX_SKILLS];
    for (size_t k = 0; k < n; k++) {
        /* The other skills' chance of firing scales both hypotheses about skill k. */
        double others = 1.0;
        for (size_t j = 0; j < n; j++) {
            if (j != k)
                others *= fire[j];
        }
        double ck = (1.0 - p[k]->slip) * others;
        double cu = p[k]->guess * others;
        double lk = score * ck + (1.0 - score) * (1.0 - ck);
        double lu = score * cu + (1.0 - score) * (1.0 - cu);
        post[k] = bayes(p_known[k], lk, lu);
    }
    for (size_t k = 0; k < n; k++)
        p_known[k] = learn_step(p[k], post[k]);
}

double twin_bkt_attempts_to_learn(const struct twin_bkt_params *p, double p_known)
{
    if (p_known >= 1.0)
        return 0.0;
    if (p->learn <= 0.0)
        return INFINITY;
    return (1.0 - p_known) / p->learn;
}

enum vt_status twin_bkt_attempts_mc(const struct twin_bkt_params *p, double p_known,
                                    enum twin_attempts_mode mode, double threshold, uint32_t n_sims,
                                    uint32_t max_steps, uint64_t seed,
                                    struct twin_attempts_estimate *out, struct vt_error *err)
{
    out->mean = 0.0;
    out->censored_rate = 0.0;
    enum vt_status st = twin_bkt_params_check(p, err);
    if (st != VT_OK)
        return st;
    if (!is_prob(p_known) || !is_prob(threshold))
        return vt_error_set(err, VT_ERR_INVALID, "invalid probability for attempts to mastery");
    if (n_sims == 0 || max_steps == 0)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid simulation size: %u runs of at most %u steps", n_sims,
                            max_steps);
    struct twin_rng rng;
    twin_rng_seed(&rng, seed);
    double total = 0.0;
    uint32_t censored = 0;
    for (uint32_t i = 0; i < n_sims; i++) {
        bool known = twin_rng_uniform(&rng) < p_known;
        double belief = p_known;
        uint32_t steps = 0;
        for (;;) {
            if (mode == TWIN_ATTEMPTS_LATENT ? known : belief >= threshold)
                break;
            if (steps == max_steps) {
                censored++;
                break;
            }
            steps++;
            double pc = known ? 1.0 - p->slip : p->guess;
            double obs = twin_rng_uniform(&rng) < pc ? 1.0 : 0.0;
            belief = twin_bkt_step(p, belief, obs);
            double u = twin_rng_uniform(&rng);
            known = known ? u >= p->forget : u < p->learn;
        }
        total += steps;
    }
    out->mean = total / n_sims;
    out->censored_rate = (double)censored / n_sims;
    return VT_OK;
}
