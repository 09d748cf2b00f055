/* Chain verification and the offline store check (specs/ledger.md §8). */
#include "ledger/ledger_int.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Checks the payload record of one event against the envelope; decrypts when dek is set. */
static enum vt_status check_payload(struct ledger *l, MDB_txn *txn, uint64_t index,
                                    const struct ledger_event *ev, const uint8_t *dek,
                                    bool *decrypted, struct vt_error *err)
{
    *decrypted = false;
    uint8_t k[8];
    vt_be64_put(k, index);
    MDB_val key = {8, k}, val;
    int rc = mdb_get(txn, l->db_payloads, &key, &val);
    uint8_t h[VT_SHA256_LEN];
    if (rc == MDB_NOTFOUND) {
        vt_sha256("", 0, h);
        if (sodium_memcmp(h, ev->payload_hash, sizeof(h)) != 0)
            return vt_error_set(err, VT_ERR_VERIFY, "event %llu: its payload is missing",
                                (unsigned long long)index);
        return VT_OK;
    }
    if (rc != 0)
        return ledger_mdb_error(rc, err, "read a payload");
    const uint8_t *rec = val.mv_data;
    if (val.mv_size < 1)
        return vt_error_set(err, VT_ERR_INVALID, "event %llu: empty payload record",
                            (unsigned long long)index);
    if (rec[0] == LEDGER_PAYLOAD_ABSENT)
        return VT_OK;
    if (rec[0] == LEDGER_PAYLOAD_NATIVE) {
        vt_sha256(rec + 1, val.mv_size - 1, h);
        if (sodium_memcmp(h, ev->payload_hash, sizeof(h)) != 0)
            return vt_error_set(err, VT_ERR_VERIFY,
                                "event %llu: payload ciphertext does not match its hash",
                                (unsigned long long)index);
    }
    if (!dek)
        return VT_OK;
    struct vt_buf pt;
    vt_buf_init(&pt, VT_BUF_DEFAULT_MAX);
    enum vt_status st = ledger_payload_open(dek, ev->learner, ev->seq, rec, val.mv_size, &pt, err);
    if (st == VT_OK) {
        uint8_t c[VT_SHA256_LEN];
        vt_sha256(pt.data, pt.len, c);
        if (sodium_memcmp(c, ev->commitment, sizeof(c)) != 0)
            st = vt_error_set(err, VT_ERR_VERIFY,
                              "event %llu: payload does not match its commitment",
                              (unsigned long long)index);
        else
            *decrypted = true;
    } else {
        vt_error_prefix(err, "event %llu", (unsigned long long)index);
    }
    vt_buf_release_secret(&pt);
    return st;
}

static enum vt_status get_u64(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kn, uint64_t *out,
                              const char *what, struct vt_error *err)
{
    MDB_val key = {kn, (void *)k}, val;
    int rc = mdb_get(txn, dbi, &key, &val);
    if (rc == MDB_NOTFOUND)
        return vt_error_set(err, VT_ERR_VERIFY, "%s is missing", what);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "read an index");
    if (val.mv_size != 8)
        return vt_error_set(err, VT_ERR_VERIFY, "%s has %zu bytes", what, val.mv_size);
    *out = vt_be64_get(val.mv_data);
    return VT_OK;
}

/* A signature to check later, in parallel; pointers into the read transaction's map. */
struct sig_job {
    const uint8_t *env;
    size_t env_len;
    const uint8_t *sig;
    uint8_t author[VT_ED25519_PK_LEN];
    uint64_t index;
};

/* Checks the leaf at index as event `seq` of learner after the leaf hash prev; the
 * signature is left in *job for check_signatures. */
static enum vt_status check_link(struct ledger *l, MDB_txn *txn, uint64_t index,
                                 const uint8_t *learner, uint64_t seq, const uint8_t *prev,
                                 struct ledger_event *ev, uint8_t leaf_hash[LEDGER_HASH_LEN],
                                 struct sig_job *job, struct vt_error *err)
{
    MDB_val leaf;
    enum vt_status st = ledger_get_leaf(l, txn, index, &leaf, err);
    if (st != VT_OK)
        return st;
    size_t off, len;
    const uint8_t *sig;
    st = ledger_leaf_split(leaf.mv_data, leaf.mv_size, &off, &len, &sig, err);
    if (st == VT_OK)
        st = ledger_event_decode((const uint8_t *)leaf.mv_data + off, len, ev, err);
    if (st != VT_OK)
        return vt_error_prefix(err, "event %llu", (unsigned long long)index);
    job->env = (const uint8_t *)leaf.mv_data + off;
    job->env_len = len;
    job->sig = sig;
    memcpy(job->author, ev->author, VT_ED25519_PK_LEN);
    job->index = index;
    if (learner && memcmp(ev->learner, learner, LEDGER_LEARNER_LEN) != 0)
        return vt_error_set(err, VT_ERR_VERIFY, "event %llu belongs to another learner",
                            (unsigned long long)index);
    if (ev->seq != seq)
        return vt_error_set(err, VT_ERR_VERIFY, "event %llu has seq %llu, expected %llu",
                            (unsigned long long)index, (unsigned long long)ev->seq,
                            (unsigned long long)seq);
    if (seq > 0 && memcmp(ev->prev, prev, LEDGER_HASH_LEN) != 0)
        return vt_error_set(err, VT_ERR_VERIFY,
                            "event %llu: prev does not match the learner's event %llu",
                            (unsigned long long)index, (unsigned long long)(seq - 1));
    ledger_leaf_hash(leaf.mv_data, leaf.mv_size, leaf_hash);
    return VT_OK;
}

struct sig_range {
    const struct sig_job *jobs;
    size_t from, to;
    size_t bad; /* first failing job, or SIZE_MAX */
};

static void *verify_range(void *p)
{
    struct sig_range *r = p;
    r->bad = SIZE_MAX;
    for (size_t i = r->from; i < r->to; i++) {
        const struct sig_job *j = &r->jobs[i];
        if (!ledger_event_signature_ok(j->env, j->env_len, j->author, j->sig)) {
            r->bad = i;
            break;
        }
    }
    return NULL;
}

/* Signatures are independent of each other, so they are checked on two threads. */
static enum vt_status check_signatures(const struct sig_job *jobs, size_t n, struct vt_error *err)
{
    struct sig_range a = {jobs, 0, n / 2, SIZE_MAX}, b = {jobs, n / 2, n, SIZE_MAX};
    pthread_t t;
    bool threaded = n >= 64 && pthread_create(&t, NULL, verify_range, &b) == 0;
    verify_range(&a);
    if (threaded)
        pthread_join(t, NULL);
    else
        verify_range(&b);
    size_t bad = a.bad != SIZE_MAX ? a.bad : b.bad;
    if (bad != SIZE_MAX)
        return vt_error_set(err, VT_ERR_VERIFY, "event %llu: signature does not verify",
                            (unsigned long long)jobs[bad].index);
    return VT_OK;
}

static enum vt_status prove_head(struct ledger *l, MDB_txn *txn, uint64_t index,
                                 const uint8_t leaf[LEDGER_HASH_LEN], uint64_t *cp_size,
                                 struct vt_error *err)
{
    struct ledger_checkpoint cp;
    enum vt_status st = ledger_latest_checkpoint_txn(l, txn, NULL, &cp, err);
    if (st != VT_OK)
        return st;
    if (index >= cp.size)
        return vt_error_set(err, VT_ERR_VERIFY, "event %llu is not under the newest checkpoint",
                            (unsigned long long)index);
    struct ledger_txn_reader tr;
    ledger_txn_reader_init(&tr, txn, l->db_hashes);
    uint8_t proof[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
    size_t n;
    st = ledger_prove_inclusion(&tr.r, cp.size, index, proof, &n, err);
    if (st != VT_OK)
        return st;
    st = ledger_verify_inclusion(leaf, index, cp.size, (const uint8_t(*)[LEDGER_HASH_LEN])proof, n,
                                 cp.root, err);
    if (st != VT_OK)
        return vt_error_prefix(err, "inclusion of event %llu", (unsigned long long)index);
    *cp_size = cp.size;
    return VT_OK;
}

enum vt_status ledger_verify_learner(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                                     struct ledger_chain_report *rep, struct vt_error *err)
{
    struct ledger_chain_report local;
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof(*rep));
    uint8_t dek[LEDGER_DEK_LEN];
    bool erased = false, have_dek = false;
    struct vt_error kerr;
    enum vt_status st = ledger_dek_read(l, learner, dek, &erased, &kerr);
    if (st == VT_OK)
        have_dek = !erased;
    else if (st != VT_ERR_NOT_FOUND) {
        if (err)
            *err = kerr;
        return st;
    }

    MDB_txn *txn;
    struct sig_job *jobs = NULL;
    if ((st = ledger_read_begin(l, &txn, err)) != VT_OK)
        goto out_key;
    MDB_val key = {LEDGER_LEARNER_LEN, (void *)learner}, val;
    int rc = mdb_get(txn, l->db_heads, &key, &val);
    if (rc == MDB_NOTFOUND) {
        st = vt_error_set(err, VT_ERR_NOT_FOUND, "learner has no events");
        goto out;
    }
    if (rc != 0 || val.mv_size != LEDGER_HEAD_LEN) {
        st = rc ? ledger_mdb_error(rc, err, "read a learner head")
                : vt_error_set(err, VT_ERR_INVALID, "learner head is malformed");
        goto out;
    }
    uint64_t head_seq = vt_be64_get(val.mv_data);
    uint64_t head_index = vt_be64_get((const uint8_t *)val.mv_data + 8);
    uint8_t head_leaf[LEDGER_HASH_LEN], prev[LEDGER_HASH_LEN], cur[LEDGER_HASH_LEN];
    memcpy(head_leaf, (const uint8_t *)val.mv_data + 16, LEDGER_HASH_LEN);
    uint64_t index = 0;
    size_t njobs;
    if (head_seq >= SIZE_MAX / sizeof(struct sig_job) ||
        !vt_size_mul((size_t)head_seq + 1, sizeof(struct sig_job), &njobs)) {
        st = vt_error_set(err, VT_ERR_TOO_LARGE, "learner chain too long to verify");
        goto out;
    }
    jobs = vt_malloc(njobs);
    for (uint64_t seq = 0; seq <= head_seq; seq++) {
        uint8_t k[LEDGER_LEARNER_LEN + 8];
        memcpy(k, learner, LEDGER_LEARNER_LEN);
        vt_be64_put(k + LEDGER_LEARNER_LEN, seq);
        if ((st = get_u64(txn, l->db_lseq, k, sizeof(k), &index, "learner index entry", err)) !=
            VT_OK)
            goto out;
        struct ledger_event ev;
        st = check_link(l, txn, index, learner, seq, prev, &ev, cur, &jobs[seq], err);
        if (st != VT_OK)
            goto out;
        bool decrypted;
        st = check_payload(l, txn, index, &ev, have_dek ? dek : NULL, &decrypted, err);
        if (st != VT_OK)
            goto out;
        rep->payloads_checked += decrypted;
        rep->payloads_erased += erased;
        rep->events++;
        memcpy(prev, cur, LEDGER_HASH_LEN);
    }
    if (index != head_index || memcmp(cur, head_leaf, LEDGER_HASH_LEN) != 0) {
        st = vt_error_set(err, VT_ERR_VERIFY, "learner head does not match the newest event");
        goto out;
    }
    st = check_signatures(jobs, (size_t)head_seq + 1, err);
    if (st == VT_OK)
        st = prove_head(l, txn, head_index, head_leaf, &rep->checkpoint_size, err);
out:
    free(jobs);
    ledger_read_end(l, txn);
out_key:
    sodium_memzero(dek, sizeof(dek));
    return st;
}

/* ---- the whole-store check ------------------------------------------------------------ */

struct chain_state {
    uint8_t learner[LEDGER_LEARNER_LEN];
    bool used;
    uint64_t next_seq;
    uint64_t last_index;
    uint8_t last_leaf[LEDGER_HASH_LEN];
};

struct chain_map {
    struct chain_state *slots;
    size_t cap, used;
};

static struct chain_state *chain_get(struct chain_map *m, const uint8_t *learner)
{
    if ((m->used + 1) * 2 > m->cap) {
        struct chain_map old = *m;
        m->cap = old.cap ? old.cap * 2 : 1024;
        m->slots = vt_calloc(m->cap, sizeof(*m->slots));
        m->used = 0;
        for (size_t i = 0; i < old.cap; i++) {
            if (old.slots[i].used) {
                struct chain_state *s = chain_get(m, old.slots[i].learner);
                *s = old.slots[i];
            }
        }
        free(old.slots);
    }
    size_t i = (size_t)vt_be64_get(learner) & (m->cap - 1);
    while (m->slots[i].used && memcmp(m->slots[i].learner, learner, LEDGER_LEARNER_LEN) != 0)
        i = (i + 1) & (m->cap - 1);
    if (!m->slots[i].used) {
        m->slots[i].used = true;
        memcpy(m->slots[i].learner, learner, LEDGER_LEARNER_LEN);
        m->used++;
    }
    return &m->slots[i];
}

static enum vt_status check_stored_hashes(struct ledger *l, MDB_txn *txn, uint64_t index,
                                          const uint8_t leaf[LEDGER_HASH_LEN], struct vt_error *err)
{
    struct ledger_txn_reader tr;
    ledger_txn_reader_init(&tr, txn, l->db_hashes);
    uint8_t want[LEDGER_PROOF_MAX][LEDGER_HASH_LEN], have[1][LEDGER_HASH_LEN];
    size_t count;
    enum vt_status st = ledger_stored_hashes_for_append(&tr.r, index, leaf, want, &count, err);
    if (st != VT_OK)
        return vt_error_prefix(err, "tree hashes of event %llu", (unsigned long long)index);
    uint64_t first = ledger_stored_hash_index(0, index);
    for (size_t i = 0; i < count; i++) {
        uint64_t at = first + i;
        if ((st = tr.r.read(tr.r.ctx, &at, 1, have, err)) != VT_OK)
            return st;
        if (memcmp(have[0], want[i], LEDGER_HASH_LEN) != 0)
            return vt_error_set(err, VT_ERR_VERIFY,
                                "stored tree hash %llu does not match the leaves",
                                (unsigned long long)at);
    }
    return VT_OK;
}

static enum vt_status check_events(struct ledger *l, MDB_txn *txn, struct chain_map *m,
                                   uint64_t *count, struct vt_error *err)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, l->db_events, &c);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "open the events");
    enum vt_status st = VT_OK;
    uint64_t n = 0;
    MDB_val key, val;
    for (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0 && st == VT_OK;
         rc = mdb_cursor_get(c, &key, &val, MDB_NEXT), n++) {
        if (key.mv_size != 8 || vt_be64_get(key.mv_data) != n) {
            st = vt_error_set(err, VT_ERR_VERIFY, "event index %llu is missing",
                              (unsigned long long)n);
            break;
        }
        struct ledger_event ev;
        st = ledger_leaf_open(val.mv_data, val.mv_size, &ev, NULL, NULL, NULL, err);
        if (st != VT_OK) {
            vt_error_prefix(err, "event %llu", (unsigned long long)n);
            break;
        }
        struct chain_state *s = chain_get(m, ev.learner);
        if (ev.seq != s->next_seq) {
            st = vt_error_set(err, VT_ERR_VERIFY, "event %llu has seq %llu, expected %llu",
                              (unsigned long long)n, (unsigned long long)ev.seq,
                              (unsigned long long)s->next_seq);
            break;
        }
        if (ev.seq > 0 && memcmp(ev.prev, s->last_leaf, LEDGER_HASH_LEN) != 0) {
            st = vt_error_set(err, VT_ERR_VERIFY, "event %llu: prev does not match",
                              (unsigned long long)n);
            break;
        }
        uint8_t lk[LEDGER_LEARNER_LEN + 8];
        memcpy(lk, ev.learner, LEDGER_LEARNER_LEN);
        vt_be64_put(lk + LEDGER_LEARNER_LEN, ev.seq);
        uint64_t at;
        if ((st = get_u64(txn, l->db_lseq, lk, sizeof(lk), &at, "learner index entry", err)) !=
            VT_OK)
            break;
        if (at != n) {
            st = vt_error_set(err, VT_ERR_VERIFY, "learner index points event %llu at %llu",
                              (unsigned long long)n, (unsigned long long)at);
            break;
        }
        if (ev.event_id_len) {
            st = get_u64(txn, l->db_ids, ev.event_id, ev.event_id_len, &at, "event id entry", err);
            if (st == VT_OK && at != n)
                st = vt_error_set(err, VT_ERR_VERIFY, "event id of %llu points at %llu",
                                  (unsigned long long)n, (unsigned long long)at);
            if (st != VT_OK)
                break;
        }
        bool decrypted;
        if ((st = check_payload(l, txn, n, &ev, NULL, &decrypted, err)) != VT_OK)
            break;
        uint8_t lh[LEDGER_HASH_LEN];
        ledger_leaf_hash(val.mv_data, val.mv_size, lh);
        if ((st = check_stored_hashes(l, txn, n, lh, err)) != VT_OK)
            break;
        s->next_seq++;
        s->last_index = n;
        memcpy(s->last_leaf, lh, LEDGER_HASH_LEN);
    }
    mdb_cursor_close(c);
    if (st == VT_OK && rc != MDB_NOTFOUND)
        st = ledger_mdb_error(rc, err, "walk the events");
    *count = n;
    return st;
}

static enum vt_status check_heads(struct ledger *l, MDB_txn *txn, struct chain_map *m,
                                  struct vt_error *err)
{
    MDB_stat ms;
    int rc = mdb_stat(txn, l->db_heads, &ms);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "count the heads");
    if (ms.ms_entries != m->used)
        return vt_error_set(err, VT_ERR_VERIFY, "%zu learner heads for %zu learners",
                            (size_t)ms.ms_entries, m->used);
    for (size_t i = 0; i < m->cap; i++) {
        struct chain_state *s = &m->slots[i];
        if (!s->used)
            continue;
        MDB_val key = {LEDGER_LEARNER_LEN, s->learner}, val;
        rc = mdb_get(txn, l->db_heads, &key, &val);
        uint8_t want[LEDGER_HEAD_LEN];
        ledger_head_pack(want, s->next_seq - 1, s->last_index, s->last_leaf);
        if (rc != 0 || val.mv_size != LEDGER_HEAD_LEN || memcmp(val.mv_data, want, sizeof(want)))
            return vt_error_set(err, VT_ERR_VERIFY, "learner head disagrees with its chain");
    }
    return VT_OK;
}

static enum vt_status check_counts(struct ledger *l, MDB_txn *txn, uint64_t events,
                                   struct ledger_check_report *rep, struct vt_error *err)
{
    MDB_stat ms;
    int rc = mdb_stat(txn, l->db_lseq, &ms);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "count the learner index");
    if (ms.ms_entries != events)
        return vt_error_set(err, VT_ERR_VERIFY, "learner index has %zu entries for %llu events",
                            (size_t)ms.ms_entries, (unsigned long long)events);
    if ((rc = mdb_stat(txn, l->db_hashes, &ms)) != 0)
        return ledger_mdb_error(rc, err, "count the tree hashes");
    uint64_t want = events ? ledger_stored_hash_index(0, events) : 0;
    if (ms.ms_entries != want)
        return vt_error_set(err, VT_ERR_VERIFY, "%zu stored tree hashes, expected %llu",
                            (size_t)ms.ms_entries, (unsigned long long)want);
    rep->stored_hashes = ms.ms_entries;
    if ((rc = mdb_stat(txn, l->db_checkpoints, &ms)) != 0)
        return ledger_mdb_error(rc, err, "count the checkpoints");
    rep->checkpoints = ms.ms_entries;
    if ((rc = mdb_stat(txn, l->db_forks, &ms)) != 0)
        return ledger_mdb_error(rc, err, "count the fork evidence");
    rep->forks = ms.ms_entries;
    if ((rc = mdb_stat(txn, l->db_ids, &ms)) != 0)
        return ledger_mdb_error(rc, err, "count the event ids");
    if (ms.ms_entries > events)
        return vt_error_set(err, VT_ERR_VERIFY, "more event ids than events");
    return VT_OK;
}

static enum vt_status check_root(struct ledger *l, MDB_txn *txn, uint64_t events,
                                 struct vt_error *err)
{
    struct ledger_checkpoint cp;
    enum vt_status st = ledger_latest_checkpoint_txn(l, txn, NULL, &cp, err);
    if (st == VT_ERR_NOT_FOUND && events == 0)
        return VT_OK;
    if (st != VT_OK)
        return st;
    if (cp.size != events)
        return vt_error_set(err, VT_ERR_VERIFY, "newest checkpoint covers %llu of %llu events",
                            (unsigned long long)cp.size, (unsigned long long)events);
    struct ledger_txn_reader tr;
    ledger_txn_reader_init(&tr, txn, l->db_hashes);
    uint8_t root[LEDGER_HASH_LEN];
    if ((st = ledger_tree_hash(&tr.r, events, root, err)) != VT_OK)
        return st;
    if (memcmp(root, cp.root, LEDGER_HASH_LEN) != 0)
        return vt_error_set(err, VT_ERR_VERIFY, "Merkle root does not match the newest checkpoint");
    return VT_OK;
}

enum vt_status ledger_check(struct ledger *l, struct ledger_check_report *rep, struct vt_error *err)
{
    struct ledger_check_report local;
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof(*rep));
    MDB_txn *txn;
    enum vt_status st = ledger_read_begin(l, &txn, err);
    if (st != VT_OK)
        return st;
    struct chain_map m = {0};
    uint64_t events = 0;
    st = check_events(l, txn, &m, &events, err);
    if (st == VT_OK)
        st = check_heads(l, txn, &m, err);
    if (st == VT_OK)
        st = check_counts(l, txn, events, rep, err);
    if (st == VT_OK)
        st = check_root(l, txn, events, err);
    rep->events = events;
    rep->learners = m.used;
    free(m.slots);
    ledger_read_end(l, txn);
    return st;
}
