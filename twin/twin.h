/*
 * twin: each learner's digital twin as a projection of the ledger.
 *
 * The model layer: mastery per (learner, skill) by Bayesian Knowledge Tracing (Corbett &
 * Anderson 1995), updated incrementally; BKT parameters fitted by EM (Baum-Welch); a sparse
 * logistic model (PFA / best-LR features) as a second next-attempt predictor; expected
 * attempts to mastery; an at-risk model from engagement features; and the metrics used to
 * evaluate them (exact AUC, RMSE, calibration). These work on dense integer ids and touch no
 * storage.
 *
 * The projection layer: the payloads of the learning event types (attempt, progress,
 * assessment, enrollment, role, role.profile, framework, xapi.statement), competency
 * frameworks and their imports (CSV, 1EdTech CASE, Marble), and struct twin, which applies
 * committed ledger events in index order to state kept in its own LMDB environment, and
 * answers the per-learner, framework, diagnosis, flag, at-risk, course and readiness views.
 * The model, the event formats, the stored layout and every computation a view makes:
 * specs/twin.md.
 *
 * Invariants:
 *   - Every number this module returns is finite; probabilities are in [0, 1]; degenerate
 *     input gives an error status or the documented neutral value, never NaN.
 *   - Everything struct twin shows is a function of the ledger events [0, cursor): a twin
 *     kept up incrementally and one rebuilt from the ledger hold byte-identical state.
 *   - Results are deterministic: every random choice takes an explicit seed.
 *
 * Thread-safety: functions without a handle are pure. A handle (struct twin_mastery,
 * struct twin, ...) may be used by one thread at a time; distinct handles are independent.
 */
#ifndef VITAE_TWIN_H
#define VITAE_TWIN_H

#include "core/core.h"
#include "ledger/ledger.h"

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

/* The state of one (learner, skill) pair. The store keeps each learner's pairs together,
 * sorted by skill, in 32 bytes each (twin_mastery_state_bytes). */
struct twin_skill_state {
    double p_known;       /* P(L) before the next opportunity */
    int64_t last_ms;      /* time of the last attempt */
    uint32_t attempts;    /* opportunities seen */
    uint32_t correct;     /* of which scored ≥ 0.5 */
    uint32_t mastered_at; /* the opportunity after which P(L) first reached
                             TWIN_MASTERY_THRESHOLD; 0 if it never did */
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

/* (learner, skill) pairs held, and bytes per pair in the store (array slack aside). */
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
/* Row r's entries: *n of them, columns in *cols, values in *vals (borrowed until the next
 * twin_sparse_add or twin_sparse_free). r must be below twin_sparse_rows. */
void twin_sparse_row(const struct twin_sparse *x, size_t r, const uint32_t **cols,
                     const float **vals, size_t *n);

struct twin_logreg;

struct twin_logreg_opts {
    double l2;         /* penalty ½·l2·‖w‖² on weights, not on the intercept (default 1) */
    uint32_t max_iter; /* L-BFGS iterations (default 300) */
    double tol;        /* stop when the relative decrease of the loss is below (1e-7) */
    double gtol;       /* 0 (default), or stop only once max |gradient| / rows ≤ gtol (the
                          gradient of the mean loss, scikit-learn's lbfgs test with tol 1e-4);
                          the relative-decrease test is then skipped */
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
/* L-BFGS iterations the fit ran, and whether it met its stopping test before max_iter. */
uint32_t twin_logreg_iterations(const struct twin_logreg *m);
bool twin_logreg_converged(const struct twin_logreg *m);

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
    TWIN_FEAT_ITEM_COUNT = 1u << 8,   /* log(1+prior attempts), log(1+prior wins) on the
                                         current item, one weight pair for every item */
    TWIN_FEAT_WINDOWS = 1u << 9,      /* with ITEM_COUNT, SKILL_COUNTS, TOTAL_COUNTS: the same
                                         log counts over the attempts of the last 30 d, 7 d,
                                         1 d and 1 h before time_ms */
};

/* PFA (Pavlik et al. 2009; counts log-scaled as in Gervet et al.'s implementation), IRT 1PL,
 * best-LR (Gervet et al. 2020, time windows aside) and ours: best-LR plus recent outcomes. */
#define TWIN_FEATS_PFA (TWIN_FEAT_SKILL | TWIN_FEAT_SKILL_COUNTS)
#define TWIN_FEATS_IRT (TWIN_FEAT_ITEM | TWIN_FEAT_LEARNER)
#define TWIN_FEATS_BEST_LR                                                                         \
    (TWIN_FEAT_ITEM | TWIN_FEAT_SKILL | TWIN_FEAT_ITEM_COUNTS | TWIN_FEAT_SKILL_COUNTS |           \
     TWIN_FEAT_TOTAL_COUNTS)
#define TWIN_FEATS_TWIN (TWIN_FEATS_BEST_LR | TWIN_FEAT_RECENT)

/*
 * The feature sets exactly as Gervet et al.'s encoder (learner-performance-prediction,
 * encode.py, README flags): IRT `-i` (item one-hot only), best-LR `-i -s -ic -sc -tc -w -a
 * -tw` (item count shared by all items, every count also over time windows). Their PFA
 * `-s -sc -w -a` is TWIN_FEATS_PFA.
 */
#define TWIN_FEATS_GERVET_IRT TWIN_FEAT_ITEM
#define TWIN_FEATS_GERVET_BEST_LR                                                                  \
    (TWIN_FEAT_ITEM | TWIN_FEAT_SKILL | TWIN_FEAT_ITEM_COUNT | TWIN_FEAT_SKILL_COUNTS |            \
     TWIN_FEAT_TOTAL_COUNTS | TWIN_FEAT_WINDOWS)

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
 * range; with TWIN_FEAT_WINDOWS, VT_ERR_CONFLICT for an attempt earlier than the learner's
 * latest one. Nothing is written or counted on error.
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

/* ---------------------------------------------------------------------------------------
 * Ledger event vocabulary: the payloads of the learning event types (specs/twin.md §8,
 * registered in specs/ledger.md §3). Each payload is one deterministic-CBOR map with
 * text keys; the same members as a JSON object are accepted from API callers
 * (twin_event_from_json) and xAPI statements are mapped onto them (twin_event_from_xapi).
 * Decoding is strict: unknown or missing members, wrong types, out-of-range values and
 * any encoding other than the canonical one are refused.
 */

/* Id strings (skill, item, course, module, assessment, role, framework): 1..127 bytes of
 * UTF-8 without control characters. Names: up to 255 bytes. */
#define TWIN_ID_MAX 128
#define TWIN_NAME_MAX 256

enum twin_modality {
    TWIN_MODALITY_OTHER,
    TWIN_MODALITY_TEXT,
    TWIN_MODALITY_VIDEO,
    TWIN_MODALITY_VISUAL,
    TWIN_MODALITY_INTERACTIVE,
};
#define TWIN_MODALITY_COUNT 5
/* "other", "text", "video", "visual", "interactive"; "" out of range. */
const char *twin_modality_name(unsigned m);

enum twin_event_kind {
    TWIN_EVENT_NONE,       /* nothing for the twin (an xAPI verb it does not use) */
    TWIN_EVENT_ATTEMPT,    /* ledger type "attempt" */
    TWIN_EVENT_PROGRESS,   /* "progress" */
    TWIN_EVENT_ASSESSMENT, /* "assessment" */
    TWIN_EVENT_ENROLLMENT, /* "enrollment" */
    TWIN_EVENT_ROLE,       /* "role": a person assigned to (or removed from) a role */
};

enum twin_enrollment_status {
    TWIN_ENROLLED,
    TWIN_COMPLETED,
    TWIN_WITHDRAWN,
};

/*
 * One decoded learning event. Caller-allocated, no interior pointers; ids are
 * NUL-terminated, "" when absent. Which members a kind uses: specs/twin.md §8.
 */
struct twin_event {
    enum twin_event_kind kind;
    bool has_at;
    int64_t at_ms; /* when it happened, ms since the epoch (optional; else the ledger time) */
    char course[TWIN_ID_MAX];
    char module[TWIN_ID_MAX];
    /* attempt */
    char item[TWIN_ID_MAX];
    char skills[TWIN_ATTEMPT_MAX_SKILLS][TWIN_ID_MAX]; /* also assessment */
    uint32_t n_skills;
    double score;         /* attempt, assessment: in [0, 1] */
    bool score_is_binary; /* attempt: given as "correct" true/false */
    uint32_t duration_ms;
    uint32_t hints;
    uint32_t attempt_no; /* 1 = first try at the item */
    /* progress */
    enum twin_modality modality;
    uint32_t seconds;
    double completion; /* in [0, 1] */
    /* assessment */
    char assessment[TWIN_ID_MAX];
    bool has_passed;
    bool passed;
    /* enrollment */
    enum twin_enrollment_status status;
    /* role */
    char role[TWIN_ID_MAX];
    bool assigned;
};

/* Caps on the values of one event: seconds and durations up to one week. */
#define TWIN_DURATION_MAX_MS (7u * 24 * 3600 * 1000)
#define TWIN_HINTS_MAX 1000u
#define TWIN_ATTEMPT_NO_MAX 1000000u

/* The event kind a ledger type carries (TWIN_EVENT_NONE for other types). */
enum twin_event_kind twin_event_kind_of(const char *ledger_type);
/* The ledger type of a kind ("attempt", ...); NULL for TWIN_EVENT_NONE. */
const char *twin_event_type(enum twin_event_kind kind);

/* Clears ev to an event of the given kind with every default (attempt_no 1, assigned). */
void twin_event_init(struct twin_event *ev, enum twin_event_kind kind);

/*
 * Validates ev and appends its canonical payload to out. VT_ERR_INVALID naming the member
 * for a value out of range or a missing required member; VT_ERR_TOO_LARGE from out.
 */
enum vt_status twin_event_encode(const struct twin_event *ev, struct vt_buf *out,
                                 struct vt_error *err);

/*
 * Decodes the payload of a ledger event of type ledger_type. For "xapi.statement" the
 * payload is the statement's JSON text and is mapped as twin_event_from_xapi does; other
 * types take the canonical CBOR map. VT_ERR_UNSUPPORTED for a type the twin does not read,
 * VT_ERR_NONCANONICAL for a payload that is not exactly the canonical encoding of its
 * content, VT_ERR_INVALID (naming the member) for everything else that is wrong.
 */
enum vt_status twin_event_decode(const char *ledger_type, const uint8_t *payload, size_t n,
                                 struct twin_event *ev, struct vt_error *err);

/* The same members as a JSON object (numbers as JSON numbers, "at" as milliseconds).
 * Errors as twin_event_decode. */
enum vt_status twin_event_from_json(enum twin_event_kind kind, const json_t *obj,
                                    struct twin_event *ev, struct vt_error *err);

/*
 * Maps an xAPI statement (specs/twin.md §8.7): verb .../answered → attempt, completed →
 * progress (completion 1), passed / failed → assessment; result.success, result.score.scaled
 * (negative values count as 0), result.duration (ISO 8601) and timestamp carry over. Other
 * verbs give kind TWIN_EVENT_NONE and VT_OK. VT_ERR_INVALID for a malformed statement.
 */
enum vt_status twin_event_from_xapi(const json_t *stmt, struct twin_event *ev,
                                    struct vt_error *err);

/* Parses an ISO 8601 duration (PnDTnHnMnS, fractional seconds) into milliseconds, capped
 * at TWIN_DURATION_MAX_MS. VT_ERR_INVALID otherwise. */
enum vt_status twin_iso_duration_ms(const char *s, uint32_t *ms, struct vt_error *err);

/* The JSON form of an event: the members twin_event_encode writes (a new reference), or
 * NULL for TWIN_EVENT_NONE. */
json_t *twin_event_to_json(const struct twin_event *ev);

/* ---------------------------------------------------------------------------------------
 * Competency frameworks: skills (id, name, proficiency levels, parent) and a prerequisite
 * DAG, built in memory, imported from CSV, 1EdTech CASE 1.0 or the Marble taxonomy, and
 * logged as "framework" events (specs/twin.md §8.6) that the projection merges.
 */

struct twin_framework;

#define TWIN_FW_MAX_SKILLS 200000u
#define TWIN_FW_MAX_EDGES 2000000u
#define TWIN_FW_MAX_ITEMS 2000000u
#define TWIN_LEVELS_MAX 100u

/* An empty framework. VT_ERR_INVALID for a bad id or a name over TWIN_NAME_MAX - 1. */
enum vt_status twin_framework_new(const char *id, const char *name, struct twin_framework **out,
                                  struct vt_error *err);
void twin_framework_free(struct twin_framework *fw);

/*
 * Adds a skill with 1..TWIN_LEVELS_MAX proficiency levels and an optional parent (NULL or
 * "": a root). VT_ERR_EXISTS when the id is already in fw; VT_ERR_INVALID for bad values;
 * VT_ERR_TOO_LARGE past TWIN_FW_MAX_SKILLS. Names longer than allowed are cut at a UTF-8
 * boundary.
 */
enum vt_status twin_framework_add_skill(struct twin_framework *fw, const char *id, const char *name,
                                        uint32_t levels, const char *parent, struct vt_error *err);
/* Adds the edge "skill requires prerequisite" (hard or soft). References are checked by
 * twin_framework_check, not here. VT_ERR_INVALID for a self-loop or a bad id. */
enum vt_status twin_framework_add_edge(struct twin_framework *fw, const char *skill,
                                       const char *requires, bool hard, struct vt_error *err);
/* Maps an item to 1..TWIN_ATTEMPT_MAX_SKILLS distinct skills. */
enum vt_status twin_framework_add_item(struct twin_framework *fw, const char *item,
                                       const char *const *skills, size_t n, struct vt_error *err);

/*
 * Checks that fw stands alone: every edge, parent and item names a skill of fw
 * (VT_ERR_NOT_FOUND, "dangling ..."), and neither prerequisites nor parents form a cycle
 * (VT_ERR_CONFLICT naming a skill on or behind the cycle).
 */
enum vt_status twin_framework_check(const struct twin_framework *fw, struct vt_error *err);

size_t twin_framework_skill_count(const struct twin_framework *fw);
size_t twin_framework_edge_count(const struct twin_framework *fw);
size_t twin_framework_item_count(const struct twin_framework *fw);

/*
 * CSV import (RFC 4180 quoting). The header names the columns: id (required), name,
 * levels, parent, prerequisites (ids separated by ';'; a trailing '?' marks a soft edge),
 * in any order. Checked as twin_framework_check. VT_ERR_INVALID names the line.
 */
enum vt_status twin_framework_from_csv(const char *text, size_t n, const char *id, const char *name,
                                       struct twin_framework **out, struct vt_error *err);

/*
 * 1EdTech CASE 1.0 package (CFPackage JSON): CFDocument (identifier, title) gives the
 * framework, each CFItem a skill (identifier; name from abbreviatedStatement, else
 * fullStatement); CFAssociations "isChildOf" set the parent (the first one wins; a
 * parent that is the CFDocument means a root) and "precedes" adds a hard edge
 * destination requires origin. Other association types are ignored.
 */
enum vt_status twin_framework_from_case(const json_t *doc, struct twin_framework **out,
                                        struct vt_error *err);

/*
 * The Marble Skill Taxonomy (topics.json, dependencies.json). subject (NULL: all) keeps
 * one subject's topics; edges with an end outside it are dropped.
 */
enum vt_status twin_framework_from_marble(const json_t *topics, const json_t *deps,
                                          const char *subject, struct twin_framework **out,
                                          struct vt_error *err);

/*
 * Splits fw into "framework" event payloads of at most max_bytes (≥ 4096) each: skills,
 * then edges, then items, in fw's order, each payload a canonical CBOR map. emit is called
 * once per payload, in order; its error stops the split.
 */
enum vt_status twin_framework_payloads(const struct twin_framework *fw, size_t max_bytes,
                                       enum vt_status (*emit)(void *ctx, const uint8_t *p, size_t n,
                                                              struct vt_error *err),
                                       void *ctx, struct vt_error *err);

/* One "framework" payload as a framework (references are not resolved). */
enum vt_status twin_framework_decode(const uint8_t *p, size_t n, struct twin_framework **out,
                                     struct vt_error *err);
/* The same members as a JSON object (specs/twin.md §8.6). */
enum vt_status twin_framework_from_json(const json_t *obj, struct twin_framework **out,
                                        struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * The twin: a projection of the ledger (specs/twin.md §9).
 *
 * struct twin reads committed ledger events in index order from its cursor and keeps the
 * derived state (framework, roles, per-learner mastery, attempts, courses, behaviour) in
 * memory and in its own LMDB environment, written in one transaction with the cursor after
 * every apply. Everything it shows is a function of the events [0, cursor): twin_rebuild
 * recomputes it from scratch and gives the same bytes.
 *
 * Global event types: "framework" and "role.profile" define skills, prerequisites, items
 * and role profiles whatever chain they are on. "erasure" forgets the learner's state.
 * Events that fail validation are skipped and counted ("rejected"), so a bad event never
 * stops the projection and a rebuild makes the same decision.
 *
 * Thread-safety: one thread at a time per handle (the api serialises applies and reads,
 * or runs reads on the same worker). The ledger handle must outlive the twin.
 */

struct twin;

struct twin_options {
    size_t map_size;              /* initial LMDB map size (default 64 MiB); grows by doubling */
    const struct twin_risk *risk; /* at-risk model (borrowed); NULL: the built-in one */
    /* Called after each committed apply, once per learner whose state changed, on the
     * applying thread (for twin.subscribe). NULL: none. */
    void (*on_change)(void *ctx, const uint8_t learner[LEDGER_LEARNER_LEN]);
    void *on_change_ctx;
};
void twin_options_init(struct twin_options *o);

/*
 * Opens (creating, mode 0700) the twin state in dir for ledger l and loads it. A state
 * written for another ledger (origin or key) or by another format is discarded and rebuilt
 * on the next apply (*out reports cursor 0). VT_ERR_IO / VT_ERR_PERMISSION / VT_ERR_FULL
 * for the file system, VT_ERR_INVALID for a corrupt record (run twin_rebuild).
 */
enum vt_status twin_open(struct ledger *l, const char *dir, const struct twin_options *o,
                         struct twin **out, struct vt_error *err);
/* NULL-safe. Unsaved state cannot exist: every apply commits before returning. */
void twin_close(struct twin *t);

struct twin_apply_report {
    uint64_t from, to; /* the ledger indexes applied: [from, to) */
    uint64_t applied;  /* events that changed the twin */
    uint64_t ignored;  /* types the twin does not read, unreadable (erased) payloads, and
                          xAPI verbs it does not use */
    uint64_t rejected; /* invalid for the twin: unknown skill/item/role, cycle, bad payload */
    uint64_t late;     /* applied at the learner's latest time (specs/twin.md §9.3) */
    char last_rejection[VT_ERROR_MSG_MAX]; /* "index N: reason" of the last rejected event */
};

/*
 * Checks a learning event against the twin's current framework and roles, as the
 * projection will: VT_ERR_NOT_FOUND for an unknown skill, an item without a framework
 * mapping when no skills are listed, or an undefined role. For the api to refuse such an
 * event before appending it (the projection would count it as rejected).
 */
enum vt_status twin_event_check(const struct twin *t, const struct twin_event *ev,
                                struct vt_error *err);

/* The next ledger index to apply (events [0, cursor) are in the state). */
uint64_t twin_cursor(const struct twin *t);

/*
 * Applies the events [from, to) and commits the new state and cursor in one transaction.
 * from must equal the cursor (VT_ERR_CONFLICT otherwise); to is capped at ledger_size.
 * Ledger read failures other than erased payloads stop the apply with their status, the
 * state then being that of the last commit. rep may be NULL.
 */
enum vt_status twin_apply(struct twin *t, uint64_t from, uint64_t to, struct twin_apply_report *rep,
                          struct vt_error *err);
/* twin_apply from the cursor to ledger_size, in commits of at most 65,536 events. */
enum vt_status twin_catch_up(struct twin *t, struct twin_apply_report *rep, struct vt_error *err);
/* Forgets everything (memory and LMDB) and applies the whole ledger again. */
enum vt_status twin_rebuild(struct twin *t, struct twin_apply_report *rep, struct vt_error *err);

/*
 * SHA-256 over every record of the stored state (each database in key order, each record
 * as be32(key length) ‖ key ‖ be32(value length) ‖ value): equal digests mean byte-identical
 * state. For checks (incremental == rebuilt) and `vitaed --check`.
 */
enum vt_status twin_state_digest(const struct twin *t, uint8_t out[VT_SHA256_LEN],
                                 struct vt_error *err);

/* Per-learner views. Learners are the 16-byte ledger learner ids. */

struct twin_learner_summary {
    uint64_t events, attempts, late, rejected;
    int64_t first_ms, last_ms; /* effective times; 0 when no events */
    uint32_t skills;           /* skills with evidence */
    uint32_t mastered;         /* of which P(L) ≥ TWIN_MASTERY_THRESHOLD now */
    uint32_t courses;
    uint32_t roles;
    bool erased;
};

/* VT_ERR_NOT_FOUND for a learner without events in [0, cursor). */
enum vt_status twin_learner_get(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                                struct twin_learner_summary *out, struct vt_error *err);

struct twin_skill_view {
    char skill[TWIN_ID_MAX];
    double p_known;   /* P(L) now (the skill's prior without evidence) */
    double p_correct; /* P(correct) on the next attempt */
    uint32_t attempts, correct;
    uint32_t mastered_at;       /* 0: never mastered */
    bool mastered;              /* P(L) ≥ TWIN_MASTERY_THRESHOLD now */
    double attempts_to_mastery; /* expected further opportunities (0 when mastered) */
    double censored_rate;       /* share of simulations that hit the step cap */
    int64_t last_ms;
};

/*
 * The learner's skills with evidence, sorted by skill id, up to cap (*n the number
 * written, *total the number there are). Expected attempts to mastery: twin_bkt_attempts_mc
 * in BELIEF mode, 400 simulations capped at 200 steps, seeded from (learner, skill).
 */
enum vt_status twin_learner_skills(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                                   struct twin_skill_view *out, size_t cap, size_t *n,
                                   size_t *total, struct vt_error *err);
/* One skill (with or without evidence). VT_ERR_NOT_FOUND for an unknown learner or skill. */
enum vt_status twin_learner_skill(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                                  const char *skill, struct twin_skill_view *out,
                                  struct vt_error *err);
/*
 * P(correct) on the learner's next attempt at an item (skills NULL: the item's skills
 * from the framework) or at listed skills (item NULL). An unknown learner reads as a new
 * learner. VT_ERR_NOT_FOUND for an unknown item or skill.
 */
enum vt_status twin_predict(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                            const char *item, const char *const *skills, size_t n_skills,
                            double *p_correct, struct vt_error *err);

/* Framework views (framework.get). */
struct twin_skill_info {
    char skill[TWIN_ID_MAX];
    char name[TWIN_NAME_MAX];
    char parent[TWIN_ID_MAX];
    uint32_t levels;
    uint32_t n_prereqs; /* direct prerequisites */
    struct twin_bkt_params params;
};
size_t twin_skill_count(const struct twin *t);
/* The id of skill number i (0 .. twin_skill_count − 1, in order of first appearance).
 * VT_ERR_NOT_FOUND past the end. */
enum vt_status twin_skill_at(const struct twin *t, size_t i, char out[TWIN_ID_MAX],
                             struct vt_error *err);
/* VT_ERR_NOT_FOUND for an unknown skill. prereqs (may be NULL) receives up to cap direct
 * prerequisite ids, *n_prereqs in info counts them all. */
enum vt_status twin_skill_get(const struct twin *t, const char *skill, struct twin_skill_info *info,
                              char (*prereqs)[TWIN_ID_MAX], size_t cap, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Behaviour flags and prerequisite diagnosis (specs/twin.md §10). Heuristic flags, not
 * diagnoses: each names the ledger events that triggered it and suggests an intervention.
 */

enum twin_flag_kind {
    TWIN_FLAG_WHEEL_SPINNING, /* ≥ 10 first attempts on a skill without mastery */
    TWIN_FLAG_GUESSING,       /* ≥ 3 wrong attempts in a row, each under 5 s */
    TWIN_FLAG_HINT_ABUSE,     /* ≥ 3 attempts with ≥ 3 hints at under 3 s per hint */
    TWIN_FLAG_DISENGAGED,     /* no event for ≥ 7 days before the reference time */
    TWIN_FLAG_OVERLOAD,       /* time per item rising while correctness falls */
};
#define TWIN_FLAG_KINDS 5
/* "wheel-spinning", "guessing", "hint-abuse", "disengaged", "overload". */
const char *twin_flag_name(unsigned kind);

#define TWIN_FLAG_MAX_EVENTS 16
struct twin_flag {
    enum twin_flag_kind kind;
    char skill[TWIN_ID_MAX];               /* the skill concerned, "" when none */
    uint64_t events[TWIN_FLAG_MAX_EVENTS]; /* ledger indexes of the triggering events */
    uint32_t n_events;
    double strength; /* rule-specific measure (attempts, days, slope), documented */
    char intervention[TWIN_NAME_MAX];
};

/*
 * The learner's flags at reference time now_ms (for inactivity; pass the ledger's newest
 * event time or the wall clock), up to cap; *n written. VT_ERR_NOT_FOUND for an unknown
 * learner.
 */
enum vt_status twin_learner_flags(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                                  int64_t now_ms, struct twin_flag *out, size_t cap, size_t *n,
                                  struct vt_error *err);

#define TWIN_DIAG_MAX 32
struct twin_diagnosis {
    char skill[TWIN_ID_MAX];
    bool struggling; /* wheel-spinning on skill, or P(L) gained < 0.02 over its last 5 first
                        attempts (with ≥ 5 of them) */
    /* Ancestors not mastered, lowest P(L) first (hard edges before soft at equal P(L)). */
    uint32_t n_weak;
    struct {
        char skill[TWIN_ID_MAX];
        double p_known;
        bool hard;      /* reached through hard edges only */
        uint32_t depth; /* edges from the skill */
    } weak[TWIN_DIAG_MAX];
    /* Remediation path: the weak prerequisites and the skill itself, in topological order
     * (prerequisites first). */
    uint32_t n_path;
    char path[TWIN_DIAG_MAX][TWIN_ID_MAX];
};

/* VT_ERR_NOT_FOUND for an unknown learner or skill. A learner without evidence on an
 * ancestor reads its prior. */
enum vt_status twin_diagnose(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                             const char *skill, struct twin_diagnosis *out, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * At-risk per (learner, course) from the ledger's engagement features (specs/twin.md §11).
 */

struct twin_risk_view {
    char course[TWIN_ID_MAX];
    double p_at_risk;
    struct twin_risk_features features;
};

/* The default model: logistic weights fitted on OULAD at week 8 (specs/twin.md §11). */
enum vt_status twin_risk_default(struct twin_risk **out, struct vt_error *err);

/* The learner's courses, up to cap (*n written), features as of now_ms. VT_ERR_NOT_FOUND
 * for an unknown learner. */
enum vt_status twin_learner_risk(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                                 int64_t now_ms, struct twin_risk_view *out, size_t cap, size_t *n,
                                 struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Course twin (specs/twin.md §12).
 */

struct twin_course_report {
    char course[TWIN_ID_MAX];
    uint32_t learners; /* with any event in the course */
    uint32_t enrolled, completed, withdrawn;
    uint32_t active_7d;     /* learners with course activity in the 7 days before now */
    double mean_seconds;    /* time on content per learner */
    double mean_activities; /* events per learner */
    /* Funnel: learners who started ≥ 1 module, completed ≥ 1 module, completed the course. */
    uint32_t funnel_started, funnel_completed_one, funnel_completed;
    /* Mastery gain per credited attempt, by the modality studied last before it. */
    double modality_gain[TWIN_MODALITY_COUNT];
    uint32_t modality_n[TWIN_MODALITY_COUNT];
    int best_modality; /* index of the highest mean gain with ≥ 5 credits; -1 none */
};

struct twin_module_report {
    char module[TWIN_ID_MAX];
    uint32_t learners, completed;
    double mean_seconds, mean_completion;
};

struct twin_item_report {
    char item[TWIN_ID_MAX];
    uint32_t learners;     /* with a first attempt */
    double difficulty;     /* CTT p-value: mean first-attempt score */
    double discrimination; /* point-biserial of the first score vs the learner's mean first
                              score on the course's other items; 0 when undefined */
};

/* VT_ERR_NOT_FOUND for an unknown course. modules / items may be NULL; up to cap_* written
 * (*n_* the numbers written). */
enum vt_status twin_course(const struct twin *t, const char *course, int64_t now_ms,
                           struct twin_course_report *out, struct twin_module_report *modules,
                           size_t cap_modules, size_t *n_modules, struct twin_item_report *items,
                           size_t cap_items, size_t *n_items, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Workforce readiness (specs/twin.md §13): role profiles as "role.profile" events and
 * people assigned with "role" events.
 */

#define TWIN_ROLE_MAX_REQS 256

struct twin_role_requirement {
    char skill[TWIN_ID_MAX];
    double level;  /* required proficiency level, in (0, the skill's levels] */
    double weight; /* > 0, default 1 */
};

struct twin_role_profile {
    char role[TWIN_ID_MAX];
    char name[TWIN_NAME_MAX];
    size_t n;
    struct twin_role_requirement req[TWIN_ROLE_MAX_REQS];
};

/* A zeroed profile on the heap (it is large); free with twin_role_profile_free. */
struct twin_role_profile *twin_role_profile_new(const char *role, const char *name);
void twin_role_profile_free(struct twin_role_profile *rp);
/* Validates and appends the canonical "role.profile" payload. */
enum vt_status twin_role_profile_encode(const struct twin_role_profile *rp, struct vt_buf *out,
                                        struct vt_error *err);
enum vt_status twin_role_profile_decode(const uint8_t *p, size_t n, struct twin_role_profile **out,
                                        struct vt_error *err);
/* {"role", "name"?, "requires": [{"skill", "level", "weight"?}]} */
enum vt_status twin_role_profile_from_json(const json_t *obj, struct twin_role_profile **out,
                                           struct vt_error *err);

struct twin_readiness_gap {
    char skill[TWIN_ID_MAX];
    double required, level, gap; /* gap = max(0, required − level) */
    double weight;
    uint64_t evidence[4]; /* ledger indexes of the learner's latest attempts on it */
    uint32_t n_evidence;
};

struct twin_readiness {
    char role[TWIN_ID_MAX];
    double score;   /* Σ w·min(1, level/required) / Σ w, in [0, 1] */
    double p_ready; /* Π over requirements of P(level ≥ required) (specs/twin.md §13) */
    uint32_t n_gaps;
    struct twin_readiness_gap gaps[TWIN_ROLE_MAX_REQS]; /* largest weighted gap first */
};

/* One person against a role. VT_ERR_NOT_FOUND for an unknown role; an unknown person reads
 * as one without evidence. out is large: allocate it. */
enum vt_status twin_readiness_get(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN],
                                  const char *role, struct twin_readiness *out,
                                  struct vt_error *err);

struct twin_team_readiness {
    char role[TWIN_ID_MAX];
    uint32_t people; /* learners assigned to the role */
    double mean_score;
    uint32_t ready; /* people with score ≥ 0.95 */
    /* Per requirement (in the profile's order): share of people at or above the level. */
    uint32_t n_reqs;
    char skill[TWIN_ROLE_MAX_REQS][TWIN_ID_MAX];
    double coverage[TWIN_ROLE_MAX_REQS];
};

/* Aggregates over every learner assigned to the role by "role" events. out is large. */
enum vt_status twin_team_readiness_get(const struct twin *t, const char *role,
                                       struct twin_team_readiness *out, struct vt_error *err);

#endif
