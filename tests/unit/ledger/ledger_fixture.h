/* Shared set-up for the ledger store tests: a temporary directory and a fixed key. */
#ifndef VITAE_LEDGER_FIXTURE_H
#define VITAE_LEDGER_FIXTURE_H

#define _GNU_SOURCE
#include "ledger/ledger.h"
#include "test_support.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fixture_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void fixture_rmtree(const char *dir)
{
    nftw(dir, fixture_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static inline char *fixture_tmpdir(void)
{
    char *t = strdup("/tmp/vitae-ledger-XXXXXX");
    assert_non_null(mkdtemp(t));
    return t;
}

static inline void fixture_key(struct vt_key *key, uint8_t fill)
{
    uint8_t seed[VT_ED25519_SEED_LEN];
    memset(seed, fill, sizeof(seed));
    vt_key_from_seed(key, seed);
}

static inline struct ledger *fixture_open(const char *dir, const struct vt_key *key,
                                          size_t map_size)
{
    struct ledger_options o;
    ledger_options_init(&o);
    o.key = key;
    o.origin = "test.example/ledger";
    if (map_size)
        o.map_size = map_size;
    struct ledger *l = NULL;
    struct vt_error err;
    enum vt_status st = ledger_open(dir, &o, &l, &err);
    if (st != VT_OK)
        fail_msg("ledger_open: %s", err.msg);
    return l;
}

static inline void fixture_learner(uint8_t learner[LEDGER_LEARNER_LEN], uint32_t n)
{
    memset(learner, 0x5a, LEDGER_LEARNER_LEN);
    vt_be32_put(learner, n);
}

static inline struct ledger_append_req fixture_req(const uint8_t *learner, const char *type,
                                                   const char *payload)
{
    struct ledger_append_req r;
    memset(&r, 0, sizeof(r));
    memcpy(r.learner, learner, LEDGER_LEARNER_LEN);
    r.type = type;
    r.payload = (const uint8_t *)payload;
    r.payload_len = payload ? strlen(payload) : 0;
    return r;
}

#endif
