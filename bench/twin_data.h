/*
 * Loaders for the public learning datasets under $VITAE_SHARED/data (formats: each folder's
 * README) and the JSON-lines output shared by bench-twin and bench-twin-eval.
 */
#ifndef VITAE_BENCH_TWIN_DATA_H
#define VITAE_BENCH_TWIN_DATA_H

#include "twin/twin.h"

#include <stdio.h>

/* Caps on outside input. */
#define TWD_MAX_LINE ((size_t)1 << 20)
#define TWD_MAX_ROWS ((size_t)1 << 25)
#define TWD_MAX_FIELDS 64

/* Attempt rows, grouped by learner in time order (the datasets' order). Ids are dense. */
struct twd_rows {
    uint32_t *learner;
    uint32_t *item;
    uint32_t *skill;
    uint8_t *correct;
    size_t n, cap;
    uint32_t n_learners, n_items, n_skills; /* max id + 1 */
    char **skill_names;                     /* only for --csv input (n_skills entries) */
};

void twd_rows_free(struct twd_rows *r);

/* Piech et al. DKT 3-line format; item = skill (the format has no items). */
enum vt_status twd_load_dkt(const char *path, struct twd_rows *r, struct vt_error *err);

/* Gervet et al. TSV: user_id item_id timestamp correct skill_id (header line). */
enum vt_status twd_load_gervet(const char *path, struct twd_rows *r, struct vt_error *err);

/*
 * ASSISTments 2009 skill-builder CSV: a header naming at least order_id, user_id, skill_id,
 * correct (any order, other columns ignored). Rows with an empty skill_id are skipped and
 * counted in *skipped. Ids are mapped to dense ids in order of appearance; skill names are
 * kept. VT_ERR_CONFLICT when a user's order_id goes backwards (rows out of time order).
 */
enum vt_status twd_load_skillbuilder(const char *path, struct twd_rows *r, size_t *skipped,
                                     struct vt_error *err);

/* Splits one CSV line in place (double quotes honoured, CR/LF stripped). Returns the number of
 * fields, at most max. */
size_t twd_split(char *line, char sep, char **fields, size_t max);

/* A line reader with a cap on the line length. */
struct twd_reader {
    FILE *f;
    char *line;
    size_t cap;
    uint64_t lineno;
};
enum vt_status twd_open(struct twd_reader *rd, const char *path, struct vt_error *err);
/* VT_OK with a line, VT_ERR_NOT_FOUND at end of file, VT_ERR_TOO_LARGE for a long line. */
enum vt_status twd_next(struct twd_reader *rd, struct vt_error *err);
void twd_close(struct twd_reader *rd);

/* "<shared>/<rel>" when it exists, else NULL (caller frees). */
char *twd_shared_path(const char *shared, const char *rel);

/* JSON-lines output: {"bench":B,"name":N,"value":V,"unit":U, extra...}. extra is either
 * empty or starts with ',' and holds further members already encoded. */
void twd_emit(const char *bench, const char *name, double value, const char *unit,
              const char *extra);
/* A JSON string literal of s into out (escaped, quoted, truncated to fit). */
void twd_json_str(const char *s, char *out, size_t cap);

double twd_now(void);

/* Rows per learner (count[learner], n_learners entries; caller frees). */
uint32_t *twd_learner_counts(const struct twd_rows *r);

/*
 * Fits one BKT per skill id in [0, n_skills) on the rows of learners with at least
 * min_learner_rows rows, one sequence per (learner, skill) in row order, on n_threads
 * threads. fitted[s] tells whether skill s had data (otherwise params[s] is the default).
 */
enum vt_status twd_fit_bkt(const struct twd_rows *r, uint32_t n_skills, size_t min_learner_rows,
                           const struct twin_bkt_fit_opts *o, unsigned n_threads,
                           struct twin_bkt_params *params, bool *fitted, struct vt_error *err);

/*
 * One-step-ahead BKT predictions through a twin_mastery store, in row order, for learners
 * with at least min_learner_rows rows: pred/label get one entry per such row (arrays of
 * r->n entries), *n_out their count.
 */
enum vt_status twd_predict_bkt(const struct twd_rows *r, uint32_t n_skills, size_t min_learner_rows,
                               const struct twin_bkt_params *params, double *pred, uint8_t *label,
                               size_t *n_out, struct vt_error *err);

/*
 * The pyBKT-examples protocol for the DKT split (utils/nips_data_helper.py): a sequence is a
 * maximal run of rows of one skill within a learner, so a learner coming back to a skill
 * starts a new sequence at the prior. Fits one BKT per skill on those runs; no learner is
 * dropped.
 */
enum vt_status twd_fit_bkt_runs(const struct twd_rows *r, uint32_t n_skills,
                                const struct twin_bkt_fit_opts *o, unsigned n_threads,
                                struct twin_bkt_params *params, bool *fitted, struct vt_error *err);

/* One-step-ahead predictions with P(L) reset to the skill's prior at every run start. */
void twd_predict_bkt_runs(const struct twd_rows *r, uint32_t n_skills,
                          const struct twin_bkt_params *params, double *pred, uint8_t *label,
                          size_t *n_out);

#endif
