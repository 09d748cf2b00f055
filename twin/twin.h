/*
 * twin: the learner model behind each digital twin.
 *
 * Mastery per (learner, skill) by Bayesian Knowledge Tracing (Corbett & Anderson 1995),
 * updated incrementally from a stream of attempt observations; BKT parameters fitted by
 * EM (Baum-Welch) over all learners; a sparse logistic model (PFA / best-LR features) as
 * a second next-attempt predictor; expected attempts to mastery; an at-risk model from
 * engagement features; and the metrics used to evaluate all of them (exact AUC, RMSE,
 * calibration). The model, its equations and the evaluation protocols: specs/twin.md.
 *
 * The seam with the ledger is struct twin_attempt: the ledger projection turns each
 * committed attempt event into one, in time order per learner, and feeds it to
 * twin_mastery_observe() and twin_features_encode(). Nothing here touches storage.
 *
 * Invariants:
 *   - Every probability this module returns is finite and in [0, 1]; degenerate input
 *     (no attempts, one class only) gives an error status or the documented neutral
 *     value, never NaN.
 *   - Learner, skill and item ids are dense small integers chosen by the caller (the
 *     projection maps DIDs and IRIs to them); each handle has caps on them, given at _new.
 *   - Results are deterministic: every random choice takes an explicit seed.
 *
 * Thread-safety: functions without a handle are pure. A handle may be used by one thread
 * at a time; distinct handles are independent.
 */
#ifndef VITAE_TWIN_H
#define VITAE_TWIN_H

#include "core/core.h"

/* ---------------------------------------------------------------------------------------
 * Attempt observations: the input stream
 */

/* The most skills one item may exercise. */
#define TWIN_ATTEMPT_MAX_SKILLS 8
/* item value meaning "no item: the skills are listed in the attempt". */
#define TWIN_ITEM_NONE UINT32_MAX

/*
 * One first attempt at an item (or step). score is the outcome in [0, 1]: 1 correct,
 * 0 wrong, fractions are partial credit and enter BKT as soft evidence. time_ms orders the
 * stream; attempts of one learner must arrive with non-decreasing time_ms.
 * duration_ms and hints are carried for the engagement and behaviour models.
 */
struct twin_attempt {
    uint32_t learner;
    uint32_t item;
    uint32_t skills[TWIN_ATTEMPT_MAX_SKILLS];
    uint32_t n_skills; /* used only when item == TWIN_ITEM_NONE */
    double score;
    int64_t time_ms;
    uint32_t duration_ms;
    uint32_t hints;
};

/* ---------------------------------------------------------------------------------------
 * Bayesian Knowledge Tracing: one skill's parameters and the per-observation step.
 * Pure functions; p_known is P(L_t), the probability the skill is known before the
 * observation.
 */

#define TWIN_MASTERY_THRESHOLD 0.95

struct twin_bkt_params {
    double prior;  /* L0 = P(known before the first opportunity) */
    double learn;  /* T  = P(unknown -> known) after each opportunity */
    double guess;  /* G  = P(correct | unknown) */
    double slip;   /* S  = P(wrong | known) */
    double forget; /* F  = P(known -> unknown) after each opportunity; 0 in classic BKT */
};

/* Neutral starting values: prior 0.4, learn 0.1, guess 0.2, slip 0.1, forget 0. */
void twin_bkt_params_default(struct twin_bkt_params *p);

/*
 * VT_ERR_INVALID (naming the parameter) unless every parameter is finite and in [0, 1]
 * and guess + slip < 1 (otherwise a correct answer would not be evidence of knowing).
 */
enum vt_status twin_bkt_params_check(const struct twin_bkt_params *p, struct vt_error *err);

/* P(correct) for the next attempt: p_known(1 - S) + (1 - p_known) G. */
double twin_bkt_p_correct(const struct twin_bkt_params *p, double p_known);

/* The Bayes step alone: P(L_t | score). Partial scores mix the two likelihoods linearly. */
double twin_bkt_posterior(const struct twin_bkt_params *p, double p_known, double score);

/* The full step: P(L_{t+1}) = P(L_t|obs)(1 - F) + (1 - P(L_t|obs)) T. */
double twin_bkt_step(const struct twin_bkt_params *p, double p_known, double score);

/*
 * Items with several skills (conjunctive model): the attempt is correct when every skill
 * "fires", skill k firing with its own p_correct. n ≤ TWIN_ATTEMPT_MAX_SKILLS.
 * twin_bkt_p_correct_multi returns the product; twin_bkt_step_multi updates p_known[k]
 * in place with the exact marginal posterior of skill k given the joint outcome (a wrong
 * answer blames most the skills least likely known), then applies each skill's learning
 * step. For n == 1 both reduce to the single-skill functions.
 */
double twin_bkt_p_correct_multi(const struct twin_bkt_params *const *p, const double *p_known,
                                size_t n);
void twin_bkt_step_multi(const struct twin_bkt_params *const *p, double *p_known, size_t n,
                         double score);

/*
 * Expected opportunities until the skill is learned (latent state), closed form with
 * forget = 0: (1 - p_known) / T. Returns +infinity when T == 0 and p_known < 1; 0 when
 * p_known == 1.
 */
double twin_bkt_attempts_to_learn(const struct twin_bkt_params *p, double p_known);

enum twin_attempts_mode {
    TWIN_ATTEMPTS_LATENT, /* until the simulated latent state becomes known */
    TWIN_ATTEMPTS_BELIEF, /* until the tracked P(L) reaches the threshold */
};

struct twin_attempts_estimate {
    double mean;          /* mean opportunities over simulations (censored ones count max_steps) */
    double censored_rate; /* share of simulations that hit max_steps */
};

/*
 * Monte Carlo over the BKT chain from p_known: draws the latent state, then per
 * opportunity an observation from the emission and a transition. In BELIEF mode it also
 * runs twin_bkt_step on the drawn observations and stops when P(L) ≥ threshold (the
 * Cognitive Tutor convention, TWIN_MASTERY_THRESHOLD). Deterministic for a given seed.
 * VT_ERR_INVALID for bad parameters, n_sims == 0 or max_steps == 0.
 */
enum vt_status twin_bkt_attempts_mc(const struct twin_bkt_params *p, double p_known,
                                    enum twin_attempts_mode mode, double threshold, uint32_t n_sims,
                                    uint32_t max_steps, uint64_t seed,
                                    struct twin_attempts_estimate *out, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * BKT parameter fitting by EM (Baum-Welch), one skill at a time.
 *
 * The sequences of one skill (one per learner, outcomes in time order) are collected in
 * a struct twin_bkt_seqs. The E-step produces additive sufficient statistics, so several
 * institutions can each run twin_bkt_estep on their own learners and the sums give the
 * exact centralised M-step (federated EM).
 */

struct twin_bkt_seqs;

/* A new empty collection. Caps: TWIN_BKT_MAX_OBS observations in total. */
#define TWIN_BKT_MAX_OBS ((size_t)1 << 28)
struct twin_bkt_seqs *twin_bkt_seqs_new(void);
void twin_bkt_seqs_free(struct twin_bkt_seqs *s);

/* Starts a new sequence (a new learner); empty sequences are dropped. */
void twin_bkt_seqs_begin(struct twin_bkt_seqs *s);
/* Appends an outcome in [0, 1] to the current sequence. VT_ERR_INVALID for a score that is
 * not finite or out of range, VT_ERR_TOO_LARGE past the cap. */
enum vt_status twin_bkt_seqs_add(struct twin_bkt_seqs *s, double score, struct vt_error *err);
/* Drops sequences shorter than min_len (e.g. 2: learners with a single attempt). */
void twin_bkt_seqs_drop_short(struct twin_bkt_seqs *s, size_t min_len);
size_t twin_bkt_seqs_count(const struct twin_bkt_seqs *s);
size_t twin_bkt_seqs_obs(const struct twin_bkt_seqs *s);

/* Expected counts from one E-step (see specs/twin.md §EM). Add them up across data sets. */
struct twin_bkt_stats {
    double n_seq;       /* sequences */
    double first_known; /* Σ γ_1(L) */
    double trans_ul;    /* Σ_{t<n} ξ_t(U, L) */
    double trans_lu;    /* Σ_{t<n} ξ_t(L, U) */
    double from_u;      /* Σ_{t<n} γ_t(U) */
    double from_l;      /* Σ_{t<n} γ_t(L) */
    double u_correct;   /* Σ_t γ_t(U) · score_t */
    double u_total;     /* Σ_t γ_t(U) */
    double l_wrong;     /* Σ_t γ_t(L) · (1 - score_t) */
    double l_total;     /* Σ_t γ_t(L) */
    double loglik;      /* Σ log P(O) */
};

void twin_bkt_stats_clear(struct twin_bkt_stats *st);
void twin_bkt_stats_add(struct twin_bkt_stats *acc, const struct twin_bkt_stats *st);

/* Runs forward-backward (scaled) over every sequence and adds the expected counts to st. */
void twin_bkt_estep(const struct twin_bkt_params *p, const struct twin_bkt_seqs *s,
                    struct twin_bkt_stats *st);

struct twin_bkt_fit_opts {
    uint32_t max_iter; /* EM iterations per start (default 100, as pyBKT) */
    double tol;        /* stop when |Δ log-likelihood| ≤ tol (default 0.005, as pyBKT) */
    uint32_t restarts; /* random starts; the best log-likelihood wins (default 5) */
    uint64_t seed;     /* for the random starts */
    bool fit_forget;   /* estimate F too (otherwise F = 0) */
    double guess_max;  /* bounds applied after every M-step (default 0.5 / 0.5: above them
                          the model is degenerate, Baker, Corbett & Aleven 2008) */
    double slip_max;
};

/* pyBKT-like defaults listed above. */
void twin_bkt_fit_opts_default(struct twin_bkt_fit_opts *o);

/* The M-step: parameters maximising the expected log-likelihood, within the bounds. */
void twin_bkt_mstep(const struct twin_bkt_stats *st, const struct twin_bkt_fit_opts *o,
                    struct twin_bkt_params *p);

struct twin_bkt_fit_report {
    double loglik;  /* of the chosen fit */
    uint32_t iters; /* EM iterations of the chosen start */
    uint32_t n_seq; /* sequences used */
    uint64_t n_obs; /* observations used */
};

/*
 * Fits one skill. Random starts draw prior ~ U(0,1), learn ~ U(0,0.4), guess ~ U(0,0.4),
 * slip ~ U(0,0.3) (pyBKT's), clipped to the bounds. report may be NULL.
 * VT_ERR_INVALID when the collection has no observations (p is then left unchanged) or the
 * options are out of range. Data with a single outcome (all correct) fits without error:
 * the bounds keep every parameter finite.
 */
enum vt_status twin_bkt_fit(const struct twin_bkt_seqs *s, const struct twin_bkt_fit_opts *o,
                            struct twin_bkt_params *p, struct twin_bkt_fit_report *report,
                            struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Mastery store: P(mastered) per (learner, skill), updated on every attempt.
 */

struct twin_mastery;

/* The state kept per (learner, skill): TWIN_STATE_BYTES bytes in the store. */
struct twin_skill_state {
    double p_known;    /* P(L) before the next opportunity */
    int64_t last_ms;   /* time of the last attempt */
    uint32_t attempts; /* opportunities seen */
    uint32_t correct;  /* of which scored ≥ 0.5 */
};

enum twin_multi_skill {
    TWIN_MULTI_CONJUNCTIVE, /* twin_bkt_step_multi: P(correct) is the product */
    TWIN_MULTI_INDEPENDENT, /* each skill updated as if the attempt were its own */
};

/*
 * A store for learners [0, max_learners), skills [0, n_skills) and items [0, max_items),
 * every skill starting with twin_bkt_params_default. VT_ERR_TOO_LARGE past the caps
 * TWIN_MAX_LEARNERS, TWIN_MAX_SKILLS, TWIN_MAX_ITEMS or for n_skills == 0.
 */
#define TWIN_MAX_LEARNERS ((uint32_t)1 << 26)
#define TWIN_MAX_SKILLS ((uint32_t)1 << 20)
#define TWIN_MAX_ITEMS ((uint32_t)1 << 24)
enum vt_status twin_mastery_new(uint32_t max_learners, uint32_t n_skills, uint32_t max_items,
                                enum twin_multi_skill multi, struct twin_mastery **out,
                                struct vt_error *err);
void twin_mastery_free(struct twin_mastery *m);

/* Sets one skill's parameters (twin_bkt_params_check applies). Existing states are kept. */
enum vt_status twin_mastery_set_params(struct twin_mastery *m, uint32_t skill,
                                       const struct twin_bkt_params *p, struct vt_error *err);
/* Reads one skill's parameters. VT_ERR_NOT_FOUND for an unknown skill. */
enum vt_status twin_mastery_get_params(const struct twin_mastery *m, uint32_t skill,
                                       struct twin_bkt_params *p, struct vt_error *err);

/* Maps an item to its skills (1..TWIN_ATTEMPT_MAX_SKILLS distinct known skills). */
enum vt_status twin_mastery_set_item(struct twin_mastery *m, uint32_t item, const uint32_t *skills,
                                     size_t n, struct vt_error *err);

/* What one observation did. */
struct twin_observe_result {
    double p_correct;                        /* predicted before the update */
    uint32_t n_skills;                       /* skills touched */
    double p_known[TWIN_ATTEMPT_MAX_SKILLS]; /* P(L) after the update, per skill */
};

/*
 * Applies one attempt. Checks first and changes nothing on error:
 *   VT_ERR_NOT_FOUND  learner beyond the cap, unknown item or skill, item without skills;
 *   VT_ERR_INVALID    score not finite or outside [0, 1], no skills, duplicate skill;
 *   VT_ERR_CONFLICT   time_ms earlier than the learner's previous attempt on one of the
 *                     skills (events out of time order: rebuild from the ledger instead).
 * result may be NULL.
 */
enum vt_status twin_mastery_observe(struct twin_mastery *m, const struct twin_attempt *a,
                                    struct twin_observe_result *result, struct vt_error *err);

/*
 * The state of (learner, skill). A pair never observed reads as the skill's prior with zero
 * attempts (the documented neutral value). VT_ERR_NOT_FOUND for an unknown skill or a
 * learner beyond the cap.
 */
enum vt_status twin_mastery_get(const struct twin_mastery *m, uint32_t learner, uint32_t skill,
                                struct twin_skill_state *out, struct vt_error *err);

/* P(correct) on the learner's next attempt at item (or at the skills in a, when a->item is
 * TWIN_ITEM_NONE); the same errors as twin_mastery_observe except the time check. */
enum vt_status twin_mastery_predict(const struct twin_mastery *m, const struct twin_attempt *a,
                                    double *p_correct, struct vt_error *err);

/* (learner, skill) pairs held, and bytes used per pair in the hash table. */
size_t twin_mastery_pairs(const struct twin_mastery *m);
size_t twin_mastery_state_bytes(void);

/* Forgets all learner states, keeping parameters and items (before a rebuild). */
void twin_mastery_reset(struct twin_mastery *m);

/* ---------------------------------------------------------------------------------------
 * Sparse logistic regression, L2-regularised, fitted by L-BFGS.
 */

struct twin_sparse;

/* A row-major sparse matrix with one 0/1 label per row. Caps: TWIN_SPARSE_MAX_NNZ. */
#define TWIN_SPARSE_MAX_NNZ ((size_t)1 << 30)
struct twin_sparse *twin_sparse_new(uint32_t n_cols);
void twin_sparse_free(struct twin_sparse *x);
/* Adds x[row][col] = v to the row being built. VT_ERR_INVALID for col ≥ n_cols or a value
 * that is not finite, VT_ERR_TOO_LARGE past the cap. */
enum vt_status twin_sparse_add(struct twin_sparse *x, uint32_t col, double v, struct vt_error *err);
/* Ends the row with its label (0 or 1; scores ≥ 0.5 count as 1). */
void twin_sparse_end_row(struct twin_sparse *x, double label);
size_t twin_sparse_rows(const struct twin_sparse *x);
uint32_t twin_sparse_cols(const struct twin_sparse *x);
/* Labels of the rows, borrowed until the next change to x. */
const uint8_t *twin_sparse_labels(const struct twin_sparse *x);

struct twin_logreg;

struct twin_logreg_opts {
    double l2;         /* penalty ½·l2·‖w‖² on weights, not on the intercept (default 1) */
    uint32_t max_iter; /* L-BFGS iterations (default 300) */
    double tol;        /* stop when the relative decrease of the loss is below (1e-7) */
};
void twin_logreg_opts_default(struct twin_logreg_opts *o);

/*
 * Minimises Σ logloss + ½·l2·‖w‖² over the rows of x. *out is new (twin_logreg_free).
 * VT_ERR_INVALID for a matrix without rows. One-class data is fine (the intercept and
 * the penalty keep weights finite).
 */
enum vt_status twin_logreg_fit(const struct twin_sparse *x, const struct twin_logreg_opts *o,
                               struct twin_logreg **out, struct vt_error *err);
void twin_logreg_free(struct twin_logreg *m);

/* P(label = 1) for every row of x, written to p (rows of x entries). Columns beyond the
 * model's count weigh 0. */
void twin_logreg_predict(const struct twin_logreg *m, const struct twin_sparse *x, double *p);
/* Weight of a column (0 beyond the model), and the intercept. */
double twin_logreg_weight(const struct twin_logreg *m, uint32_t col);
double twin_logreg_intercept(const struct twin_logreg *m);

/* ---------------------------------------------------------------------------------------
 * Logistic-model features from the attempt stream (PFA, IRT, best-LR).
 */

enum twin_feature {
    TWIN_FEAT_ITEM = 1u << 0,         /* one-hot item (difficulty) */
    TWIN_FEAT_SKILL = 1u << 1,        /* one-hot skills of the item (easiness β_k) */
    TWIN_FEAT_ITEM_COUNTS = 1u << 2,  /* log(1+prior attempts), log(1+prior wins) on item */
    TWIN_FEAT_SKILL_COUNTS = 1u << 3, /* the same per skill of the item */
    TWIN_FEAT_TOTAL_COUNTS = 1u << 4, /* the same over all the learner's attempts */
    TWIN_FEAT_PFA = 1u << 5,          /* raw prior successes s_k and failures f_k per skill */
    TWIN_FEAT_LEARNER = 1u << 6,      /* one-hot learner (ability θ, IRT) */
    TWIN_FEAT_RECENT = 1u << 7,       /* last outcome and rate of the last 5, on the item's
                                         skills and over all the learner's attempts */
};

/* PFA (Pavlik et al. 2009; counts log-scaled as in Gervet et al.'s implementation), IRT 1PL,
 * best-LR (Gervet et al. 2020, time windows aside) and ours: best-LR plus recent outcomes. */
#define TWIN_FEATS_PFA (TWIN_FEAT_SKILL | TWIN_FEAT_SKILL_COUNTS)
#define TWIN_FEATS_IRT (TWIN_FEAT_ITEM | TWIN_FEAT_LEARNER)
#define TWIN_FEATS_BEST_LR                                                                         \
    (TWIN_FEAT_ITEM | TWIN_FEAT_SKILL | TWIN_FEAT_ITEM_COUNTS | TWIN_FEAT_SKILL_COUNTS |           \
     TWIN_FEAT_TOTAL_COUNTS)
#define TWIN_FEATS_TWIN (TWIN_FEATS_BEST_LR | TWIN_FEAT_RECENT)

struct twin_features;

/*
 * An encoder for learners [0, max_learners), items [0, n_items), skills [0, n_skills) that
 * keeps each learner's running counts. VT_ERR_TOO_LARGE past the caps, VT_ERR_INVALID for
 * an empty feature set.
 */
enum vt_status twin_features_new(unsigned feats, uint32_t max_learners, uint32_t n_items,
                                 uint32_t n_skills, struct twin_features **out,
                                 struct vt_error *err);
void twin_features_free(struct twin_features *f);
/* Columns of the design matrix this encoder writes. */
uint32_t twin_features_cols(const struct twin_features *f);

/*
 * Writes the row for attempt a (features from the learner's attempts BEFORE a) into x,
 * labelled with a->score, then counts a. The item's skills are a->skills (a->item must be
 * a known item when TWIN_FEAT_ITEM or item counts are on). VT_ERR_NOT_FOUND for ids out of
 * range; nothing is written or counted on error.
 */
enum vt_status twin_features_encode(struct twin_features *f, const struct twin_attempt *a,
                                    struct twin_sparse *x, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Metrics
 */

/*
 * Area under the ROC curve, exact: sort, ranks with ties averaged (Mann-Whitney U).
 * Labels are 0/1 (≥ 0.5 counts as 1). VT_ERR_INVALID, with *auc = 0.5, when there are no
 * rows, a score is not finite, or only one class is present.
 */
enum vt_status twin_auc(const double *score, const uint8_t *label, size_t n, double *auc,
                        struct vt_error *err);

/* Root mean squared error and mean log-loss (probabilities clipped to [1e-15, 1-1e-15]).
 * Both 0 for n == 0. */
double twin_rmse(const double *p, const uint8_t *label, size_t n);
double twin_logloss(const double *p, const uint8_t *label, size_t n);

#define TWIN_CALIB_MAX_BINS 100
struct twin_calibration {
    uint32_t n_bins;
    double brier; /* mean squared error */
    double ece;   /* Σ_b (n_b/n)·|mean p_b - rate_b| */
    double bin_mean_p[TWIN_CALIB_MAX_BINS];
    double bin_rate[TWIN_CALIB_MAX_BINS];
    uint64_t bin_count[TWIN_CALIB_MAX_BINS];
};

/* Reliability over n_bins equal-width bins of p. VT_ERR_INVALID for n_bins outside
 * [1, TWIN_CALIB_MAX_BINS]. Empty bins report 0, n == 0 gives all zeros. */
enum vt_status twin_calibration(const double *p, const uint8_t *label, size_t n, uint32_t n_bins,
                                struct twin_calibration *out, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * At-risk: engagement features per (learner, course) and a logistic model over them.
 */

/* A course event as the risk model sees it: activity, a due task, or a graded attempt. */
enum twin_course_event_kind {
    TWIN_COURSE_ACTIVITY, /* any learning activity (click, attempt, submission) */
    TWIN_COURSE_DUE,      /* a task fell due at time_day (counted for completion) */
    TWIN_COURSE_GRADED,   /* a graded submission; score in [0, 1]; also activity */
};

struct twin_course_event {
    enum twin_course_event_kind kind;
    double time_day; /* days since the course start (negative: before it) */
    double score;    /* TWIN_COURSE_GRADED only */
};

#define TWIN_RISK_NFEAT 8
/*
 * The engagement features at a cutoff day: days since the last activity (inactivity), the
 * completion rate of tasks due so far, log(1+graded attempts), log(1+activities), mean
 * score, the mean of the last three scores (recent correctness), the least-squares slope of
 * scores per 30 days (its trend), and whether any task due is unsubmitted. Neutral values
 * when there is no evidence: completion 1 with nothing due, scores 0.5 and slope 0
 * without grades, inactivity = days since the course start when nothing happened.
 */
struct twin_risk_features {
    double x[TWIN_RISK_NFEAT];
};

/* Names of the TWIN_RISK_NFEAT features, for reports. */
const char *twin_risk_feature_name(unsigned i);

/* Features from the events dated ≤ cutoff_day (later ones are ignored). */
void twin_risk_features_compute(const struct twin_course_event *ev, size_t n, double cutoff_day,
                                struct twin_risk_features *out);

struct twin_risk;

/*
 * Fits P(at risk) = σ(w·z + b) on standardised features (z-scores of the training rows)
 * by L2 logistic regression (twin_logreg). VT_ERR_INVALID for n == 0.
 */
enum vt_status twin_risk_fit(const struct twin_risk_features *f, const uint8_t *at_risk, size_t n,
                             double l2, struct twin_risk **out, struct vt_error *err);
void twin_risk_free(struct twin_risk *r);
/* P(at risk) for one learner. */
double twin_risk_predict(const struct twin_risk *r, const struct twin_risk_features *f);

#endif
