/*
 * twin internals: handle layouts, the (id, id) hash map and the seeded generator shared by
 * the twin source files. Not installed; other modules include only twin/twin.h.
 */
#ifndef VITAE_TWIN_INT_H
#define VITAE_TWIN_INT_H

#include "twin/twin.h"

#include <lmdb.h>

/* Probabilities are kept this far from 0 and 1 so that logs and ratios stay finite. */
#define TWIN_P_EPS 1e-6

static inline double twin_clamp(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* ---------------------------------------------------------------------------------------
 * xoshiro256** seeded through splitmix64 (Blackman & Vigna): fast, reproducible.
 */
struct twin_rng {
    uint64_t s[4];
};
void twin_rng_seed(struct twin_rng *r, uint64_t seed);
uint64_t twin_rng_next(struct twin_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double twin_rng_uniform(struct twin_rng *r);

/* ---------------------------------------------------------------------------------------
 * Open-addressing hash map from a 64-bit key to a 32-bit slot index into a caller array,
 * linear probing, power-of-two capacity, load ≤ 1/2. Keys are (a << 32 | b) id pairs.
 */
struct twin_map_slot {
    uint64_t key; /* TWIN_MAP_EMPTY when free */
    uint32_t val;
};
struct twin_map {
    struct twin_map_slot *slots; /* key and value side by side: one cache miss per probe */
    size_t cap;                  /* power of two */
    size_t count;
};
#define TWIN_MAP_EMPTY UINT64_MAX

void twin_map_init(struct twin_map *m);
void twin_map_release(struct twin_map *m);
void twin_map_clear(struct twin_map *m);
/* The value for key, or UINT32_MAX when absent. */
uint32_t twin_map_get(const struct twin_map *m, uint64_t key);
/* Inserts key → val (key must be absent and not TWIN_MAP_EMPTY). */
void twin_map_put(struct twin_map *m, uint64_t key, uint32_t val);

static inline uint64_t twin_pair_key(uint32_t a, uint32_t b)
{
    return (uint64_t)a << 32 | b;
}

/* ---------------------------------------------------------------------------------------
 * Handle layouts
 */

struct twin_bkt_seqs {
    float *obs; /* outcomes, all sequences back to back */
    size_t n_obs, cap_obs;
    size_t *start; /* start[i] .. start[i+1] is sequence i; start[n_seq] == n_obs */
    size_t n_seq, cap_seq;
    bool open; /* a sequence has begun and not yet been closed into start[] */
};

/* The skills of one item (n_skills == 0: item not registered). */
struct twin_mastery_item {
    uint32_t skills[TWIN_ATTEMPT_MAX_SKILLS];
    uint32_t n_skills;
};

/*
 * One (learner, skill) state, kept with the learner's other skills: a session's updates
 * then touch one small sorted array instead of one hash slot and one state per update.
 */
struct twin_skill_entry {
    double p_known;
    int64_t last_ms;
    uint32_t skill;
    uint32_t attempts;
    uint32_t correct;
    uint32_t mastered_at; /* opportunity count when P(L) first reached the threshold; 0 never */
};

struct twin_learner_row {
    struct twin_skill_entry *e; /* sorted by skill */
    uint32_t n, cap;
};

struct twin_mastery {
    uint32_t max_learners, n_skills, max_items;
    enum twin_multi_skill multi;
    struct twin_bkt_params *params;  /* n_skills */
    struct twin_mastery_item *items; /* max_items, n_skills == 0 when unset */
    struct twin_learner_row *rows;   /* by learner id, grown to the largest id seen */
    uint32_t n_rows;
    size_t n_pairs;
};

/* Raises the skill count (new skills get the default parameters). */
void twin_mastery_grow_skills(struct twin_mastery *m, uint32_t n_skills);
/* A learner's states sorted by skill (borrowed until the next change), *n of them. */
const struct twin_skill_entry *twin_mastery_row(const struct twin_mastery *m, uint32_t learner,
                                                uint32_t *n);
/* Replaces a learner's states (entries sorted by skill, skills < n_skills). */
void twin_mastery_row_set(struct twin_mastery *m, uint32_t learner,
                          const struct twin_skill_entry *e, uint32_t n);

struct twin_sparse {
    uint32_t n_cols;
    size_t *row_start; /* n_rows + 1 */
    uint32_t *col;
    float *val;
    uint8_t *label;
    size_t n_rows, cap_rows;
    size_t nnz, cap_nnz;
};

struct twin_logreg {
    uint32_t n_cols;
    double *w; /* n_cols weights */
    double bias;
    uint32_t iters;
    bool converged;
};

/* Running counts of one learner on one item or skill: attempts and wins. */
struct twin_count {
    uint32_t attempts;
    uint32_t wins;
    uint32_t recent; /* outcomes of the latest attempts, newest in bit 0 */
};

/* Time windows of TWIN_FEAT_WINDOWS, longest first: 30 d, 7 d, 1 d, 1 h in ms. */
#define TWIN_N_WINDOWS 4

/* One counter's attempts in time order, for counts over a time window by binary search. */
struct twin_window {
    int64_t *time;
    uint32_t *wins_before; /* wins among the attempts before index k; n + 1 entries */
    uint32_t n, cap;
};

struct twin_features {
    unsigned feats;
    uint32_t max_learners, n_items, n_skills;
    /* column offsets of each block (UINT32_MAX when the block is off) */
    uint32_t off_item, off_skill, off_item_counts, off_skill_counts, off_total, off_pfa,
        off_learner, off_recent, off_item_count;
    /* windowed blocks (TWIN_FEAT_WINDOWS): 2 columns per window and counter */
    uint32_t off_win_item, off_win_skill, off_win_total;
    uint32_t n_cols;
    struct twin_map item_map;  /* (learner, item) → counts index */
    struct twin_map skill_map; /* (learner, skill) → counts index */
    struct twin_count *counts;
    size_t n_counts, cap_counts;
    struct twin_count *totals; /* per learner, allocated lazily to max seen + 1 */
    size_t n_totals;
    struct twin_window *win_counts; /* parallel to counts, with TWIN_FEAT_WINDOWS */
    size_t cap_win_counts;
    struct twin_window *win_totals; /* parallel to totals */
};

/* Index in counts of the entry for key in map, created zeroed when absent. */
uint32_t twin_features_count(struct twin_features *f, struct twin_map *map, uint64_t key);

struct twin_risk {
    double mean[TWIN_RISK_NFEAT];
    double sd[TWIN_RISK_NFEAT];
    struct twin_logreg *lr;
};

/* ---------------------------------------------------------------------------------------
 * Payload helpers (event.c), shared by the framework and role payloads.
 */

/* Cap on an xAPI statement's JSON text, and the context extension listing skill ids. */
#define TWIN_XAPI_MAX ((size_t)64 << 10)
#define TWIN_XAPI_SKILLS_EXT "urn:vitae:xapi:skills"

/* VT_ERR_INVALID (naming `what`) unless s[0..n) is a valid id (TWIN_ID_MAX). */
enum vt_status twin_id_check(const char *what, const char *s, size_t n, struct vt_error *err);
/* Member key of obj as an id into out ("" when absent and not required). */
enum vt_status twin_json_id(const json_t *obj, const char *key, bool required,
                            char out[TWIN_ID_MAX], struct vt_error *err);
/* Member key of obj as a number in [lo, hi] (an integer when asked); *out untouched when
 * absent and not required. */
enum vt_status twin_json_num(const json_t *obj, const char *key, bool required, double lo,
                             double hi, bool integer, double *out, struct vt_error *err);
/* VT_ERR_INVALID unless obj is an object whose members are all in the NULL-ended list. */
enum vt_status twin_json_only(const json_t *obj, const char *const *allowed, struct vt_error *err);
/* A canonical CBOR map payload as a JSON object (*out new). */
enum vt_status twin_payload_json(const uint8_t *p, size_t n, json_t **out, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * String dictionary: byte strings ↔ dense ids 0, 1, 2, ... in order of first sight.
 */
struct twin_dict {
    char **keys; /* each NUL-terminated (learner keys are binary: use lens) */
    uint32_t *lens;
    size_t n, cap;
    uint32_t *table; /* open addressing over ids, UINT32_MAX empty */
    size_t tcap;
};
void twin_dict_init(struct twin_dict *d);
void twin_dict_release(struct twin_dict *d);
/* The id of key, or UINT32_MAX. */
uint32_t twin_dict_find(const struct twin_dict *d, const void *key, size_t len);
/* The id of key, added when absent (*added set then; may be NULL). */
uint32_t twin_dict_add(struct twin_dict *d, const void *key, size_t len, bool *added);
static inline const char *twin_dict_key(const struct twin_dict *d, uint32_t id)
{
    return d->keys[id];
}

/*
 * Kahn's algorithm over n nodes and edges from[i] → to[i]: true when acyclic. Otherwise
 * *on_cycle is a node that lies on or behind a cycle (for the message).
 */
bool twin_graph_acyclic(size_t n, const uint32_t *from, const uint32_t *to, size_t n_edges,
                        uint32_t *on_cycle);

/* ---------------------------------------------------------------------------------------
 * Frameworks (framework.c)
 */
struct twin_fw_skill {
    char id[TWIN_ID_MAX];
    char name[TWIN_NAME_MAX];
    char parent[TWIN_ID_MAX]; /* "" for a root */
    uint32_t levels;
};
struct twin_fw_edge {
    char skill[TWIN_ID_MAX];    /* depends on ... */
    char requires[TWIN_ID_MAX]; /* ... this prerequisite */
    bool hard;
};
struct twin_fw_item {
    char item[TWIN_ID_MAX];
    char skills[TWIN_ATTEMPT_MAX_SKILLS][TWIN_ID_MAX];
    uint32_t n_skills;
};
struct twin_framework {
    char id[TWIN_ID_MAX];
    char name[TWIN_NAME_MAX];
    struct twin_fw_skill *skills;
    size_t n_skills, cap_skills;
    struct twin_fw_edge *edges;
    size_t n_edges, cap_edges;
    struct twin_fw_item *items;
    size_t n_items, cap_items;
    struct twin_dict index; /* skill id → position in skills */
};

/* ---------------------------------------------------------------------------------------
 * The projection (projection.c, persist.c, views.c, analysis.c, readiness.c).
 * Record layouts on disk: specs/twin.md §9.4.
 */

#define TWIN_RING 32   /* recent attempts kept per learner (flags and their evidence) */
#define TWIN_GRADES 16 /* latest graded results kept per (learner, course) */
#define TWIN_NO_ID UINT32_MAX
#define TWIN_NO_MODALITY 0xff

struct twin_recent {
    uint64_t index; /* ledger index of the attempt */
    int64_t time_ms;
    double score;
    double gain; /* Σ over the attempt's skills of P(L) after − before (0 for retries) */
    uint32_t duration_ms, hints, item, skill, attempt_no;
};

struct twin_grade {
    int64_t time_ms;
    double score;
};

struct twin_lcourse {
    uint32_t course;
    uint8_t status; /* enum twin_enrollment_status, or 0xff: never enrolled */
    uint8_t last_modality;
    int64_t enrolled_ms, last_ms;
    uint32_t activities, graded, modules_started, modules_completed, attempts;
    uint64_t seconds;
    double score_sum;
    struct twin_grade grades[TWIN_GRADES]; /* ring: graded % TWIN_GRADES is the next slot */
    double mod_gain[TWIN_MODALITY_COUNT];
    uint32_t mod_n[TWIN_MODALITY_COUNT];
};

struct twin_lmodule {
    uint32_t module, course;
    uint8_t modality;
    double completion;
    uint64_t seconds;
    int64_t completed_ms; /* 0: not completed */
};

struct twin_litem {
    uint32_t item, course;
    uint32_t attempts;
    double first_score;
};

struct twin_learner {
    uint64_t events, attempts, late, rejected, ignored;
    int64_t first_ms, last_ms;
    uint64_t last_index; /* ledger index of the latest applied event */
    bool erased;
    uint8_t last_modality;
    struct twin_lcourse *courses;
    uint32_t n_courses, cap_courses;
    struct twin_lmodule *modules;
    uint32_t n_modules, cap_modules;
    struct twin_litem *items;
    uint32_t n_items, cap_items;
    uint32_t *roles;
    uint32_t n_roles, cap_roles;
    struct twin_recent ring[TWIN_RING];
    uint64_t ring_n; /* attempts pushed; ring_n % TWIN_RING is the next slot */
    double mod_gain[TWIN_MODALITY_COUNT];
    uint32_t mod_n[TWIN_MODALITY_COUNT];
    bool dirty;
};

struct twin_prereq {
    uint32_t skill;
    bool hard;
};

struct twin_skill_def {
    char *name;
    uint32_t levels, parent;
    struct twin_prereq *pre;
    uint32_t n_pre, cap_pre;
    bool dirty;
};

struct twin_item_def {
    uint32_t skills[TWIN_ATTEMPT_MAX_SKILLS];
    uint32_t n; /* 0: seen in attempts but not in a framework */
    bool dirty;
};

struct twin_role_req {
    uint32_t skill;
    double level, weight;
};

struct twin_role_def {
    char *name;
    struct twin_role_req *req;
    uint32_t n;
    bool defined, dirty;
};

struct twin {
    struct ledger *l;
    char *dir;
    MDB_env *env;
    MDB_dbi db_meta, db_learners, db_defs;
    size_t map_size;
    const struct twin_risk *risk;
    struct twin_risk *own_risk;
    uint64_t cursor;
    struct twin_dict learners, skills, items, courses, modules, roles;
    struct twin_learner *lrn;
    struct twin_skill_def *sk;
    struct twin_item_def *it;
    struct twin_role_def *ro;
    size_t cap_lrn, cap_sk, cap_it, cap_ro;
    size_t saved_courses, saved_modules; /* entries already on disk (they never change) */
    uint32_t *dirty;
    size_t n_dirty, cap_dirty;
    struct twin_mastery *m;
    void (*on_change)(void *ctx, const uint8_t learner[LEDGER_LEARNER_LEN]);
    void *on_change_ctx;
};

/* projection.c */
uint32_t twin_learner_find(const struct twin *t, const uint8_t learner[LEDGER_LEARNER_LEN]);
void twin_learner_release(struct twin_learner *L);
/* Empties the in-memory state (dictionaries, definitions, learners, mastery). */
void twin_state_clear(struct twin *t);
/* Grows the per-id arrays to cover the dictionaries. */
void twin_state_fit(struct twin *t);

/* risk.c: a model from stored coefficients (z-scored features). */
struct twin_risk *twin_risk_from_coefs(const double *mean, const double *sd, const double *w,
                                       double bias);

/* analysis.c: the modality with the highest mean mastery gain per credit among learners with
 * evidence on skill (TWIN_NO_ID: all learners), with ≥ 5 credits; -1 when none. */
int twin_best_modality(const struct twin *t, uint32_t skill);

/* persist.c */
enum vt_status twin_persist_open(struct twin *t, struct vt_error *err);
void twin_persist_close(struct twin *t);
/* Writes dirty definitions and learners and the cursor in one transaction. */
enum vt_status twin_persist_save(struct twin *t, struct vt_error *err);
/* Loads everything (the in-memory state must be clear). */
enum vt_status twin_persist_load(struct twin *t, struct vt_error *err);
/* Empties every database. */
enum vt_status twin_persist_drop(struct twin *t, struct vt_error *err);

#endif
