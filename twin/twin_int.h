/*
 * twin internals: handle layouts, the (id, id) hash map and the seeded generator shared by
 * the twin source files. Not installed; other modules include only twin/twin.h.
 */
#ifndef VITAE_TWIN_INT_H
#define VITAE_TWIN_INT_H

#include "twin/twin.h"

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

struct twin_mastery {
    uint32_t max_learners, n_skills, max_items;
    enum twin_multi_skill multi;
    struct twin_bkt_params *params;  /* n_skills */
    struct twin_mastery_item *items; /* max_items, n_skills == 0 when unset */
    struct twin_map map;             /* (learner, skill) → index into states */
    struct twin_skill_state *states;
    size_t n_states, cap_states;
};

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
};

/* Running counts of one learner on one item or skill: attempts and wins. */
struct twin_count {
    uint32_t attempts;
    uint32_t wins;
    uint32_t recent; /* outcomes of the latest attempts, newest in bit 0 */
};

struct twin_features {
    unsigned feats;
    uint32_t max_learners, n_items, n_skills;
    /* column offsets of each block (UINT32_MAX when the block is off) */
    uint32_t off_item, off_skill, off_item_counts, off_skill_counts, off_total, off_pfa,
        off_learner, off_recent;
    uint32_t n_cols;
    struct twin_map item_map;  /* (learner, item) → counts index */
    struct twin_map skill_map; /* (learner, skill) → counts index */
    struct twin_count *counts;
    size_t n_counts, cap_counts;
    struct twin_count *totals; /* per learner, allocated lazily to max seen + 1 */
    size_t n_totals;
};

/* Index in counts of the entry for key in map, created zeroed when absent. */
uint32_t twin_features_count(struct twin_features *f, struct twin_map *map, uint64_t key);

struct twin_risk {
    double mean[TWIN_RISK_NFEAT];
    double sd[TWIN_RISK_NFEAT];
    struct twin_logreg *lr;
};

#endif
