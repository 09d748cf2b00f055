/* Chain verification and the offline store check (specs/ledger.md §8). */
#include "ledger/ledger_int.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

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

enum vt_status ledger_author_check(struct ledger *l, MDB_txn *txn, const struct ledger_event *ev,
                                   uint64_t index, struct vt_error *err)
{
    if (memcmp(ev->author, l->key.pk, VT_ED25519_PK_LEN) == 0)
        return VT_OK;
    uint8_t k[LEDGER_LEARNER_LEN + 8];
    memcpy(k, ev->learner, LEDGER_LEARNER_LEN);
    vt_be64_put(k + LEDGER_LEARNER_LEN, ev->seq);
    MDB_val key = {sizeof(k), k}, val;
    int rc = mdb_get(txn, l->db_prov, &key, &val);
    if (rc == MDB_NOTFOUND)
        return vt_error_set(err, VT_ERR_VERIFY,
                            "event %llu: its author is not the service key and it has no "
                            "provenance",
                            (unsigned long long)index);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "read a provenance record");
    static const uint8_t none[VT_SHA256_LEN];
    const uint8_t *p = val.mv_data;
    if (val.mv_size <= LEDGER_PROV_FIXED || p[0] != 1)
        return vt_error_set(err, VT_ERR_VERIFY, "event %llu: its provenance record is malformed",
                            (unsigned long long)index);
    /* Without a checkpoint the record vouches for exactly one author. */
    if (memcmp(p + 1 + VT_ED25519_PK_LEN, none, VT_SHA256_LEN) == 0 &&
        memcmp(p + 1, ev->author, VT_ED25519_PK_LEN) != 0)
        return vt_error_set(err, VT_ERR_VERIFY,
                            "event %llu: its author differs from its provenance",
                            (unsigned long long)index);
    return VT_OK;
}

/* One event of a chain or of the store, read in the transaction and checked on a worker
 * thread; pointers are into the read transaction's map. */
struct vjob {
    const uint8_t *leaf;
    size_t leaf_len;
    const uint8_t *rec; /* payload record, or NULL */
    size_t rec_len;
    uint64_t index;
    /* results */
    enum vt_status st;
    bool decrypted;
    struct ledger_event ev;
    uint8_t leaf_hash[LEDGER_HASH_LEN];
};

struct vctx {
    struct vjob *jobs;
    const uint8_t *dek; /* decrypt payloads with it, when set */
    const uint8_t *learner;
    uint64_t first_seq; /* seq of jobs[0] when learner is set */
};

struct vrange {
    struct vctx *c;
    size_t from, to;
    size_t bad; /* first failing job, or SIZE_MAX */
    struct vt_error err;
};

/* Everything about one event that needs no other event and no transaction. */
static enum vt_status vjob_check(const struct vctx *c, size_t i, struct vjob *j,
                                 struct vt_error *err)
{
    struct ledger_event *ev = &j->ev;
    enum vt_status st = ledger_leaf_open(j->leaf, j->leaf_len, ev, NULL, NULL, NULL, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "event %llu", (unsigned long long)j->index);
    if (c->learner) {
        uint64_t seq = c->first_seq + i;
        if (memcmp(ev->learner, c->learner, LEDGER_LEARNER_LEN) != 0)
            return vt_error_set(err, VT_ERR_VERIFY, "event %llu belongs to another learner",
                                (unsigned long long)j->index);
        if (ev->seq != seq)
            return vt_error_set(err, VT_ERR_VERIFY, "event %llu has seq %llu, expected %llu",
                                (unsigned long long)j->index, (unsigned long long)ev->seq,
                                (unsigned long long)seq);
    }
    ledger_leaf_hash(j->leaf, j->leaf_len, j->leaf_hash);
    uint8_t h[VT_SHA256_LEN];
    if (!j->rec) {
        vt_sha256("", 0, h);
        if (sodium_memcmp(h, ev->payload_hash, sizeof(h)) != 0)
            return vt_error_set(err, VT_ERR_VERIFY, "event %llu: its payload is missing",
                                (unsigned long long)j->index);
        return VT_OK;
    }
    if (j->rec_len < 1)
        return vt_error_set(err, VT_ERR_VERIFY, "event %llu: empty payload record",
                            (unsigned long long)j->index);
    if (j->rec[0] == LEDGER_PAYLOAD_ABSENT)
        return VT_OK;
    if (j->rec[0] == LEDGER_PAYLOAD_NATIVE) {
        vt_sha256(j->rec + 1, j->rec_len - 1, h);
        if (sodium_memcmp(h, ev->payload_hash, sizeof(h)) != 0)
            return vt_error_set(err, VT_ERR_VERIFY,
                                "event %llu: payload ciphertext does not match its hash",
                                (unsigned long long)j->index);
    } else if (j->rec[0] != LEDGER_PAYLOAD_IMPORTED) {
        return vt_error_set(err, VT_ERR_VERIFY, "event %llu: payload record of unknown format %u",
                            (unsigned long long)j->index, j->rec[0]);
    }
    if (!c->dek)
        return VT_OK;
    struct vt_buf pt;
    vt_buf_init(&pt, VT_BUF_DEFAULT_MAX);
    st = ledger_payload_open(c->dek, ev->learner, ev->seq, j->rec, j->rec_len, &pt, err);
    if (st == VT_OK) {
        vt_sha256(pt.data, pt.len, h);
        if (sodium_memcmp(h, ev->commitment, sizeof(h)) != 0)
            st = vt_error_set(err, VT_ERR_VERIFY,
                              "event %llu: payload does not match its commitment",
                              (unsigned long long)j->index);
        else
            j->decrypted = true;
    } else {
        vt_error_prefix(err, st, "event %llu", (unsigned long long)j->index);
    }
    vt_buf_release_secret(&pt);
    return st;
}

static void *vrange_run(void *p)
{
    struct vrange *r = p;
    r->bad = SIZE_MAX;
    for (size_t i = r->from; i < r->to; i++) {
        struct vjob *j = &r->c->jobs[i];
        j->st = vjob_check(r->c, i, j, &r->err);
        if (j->st != VT_OK) {
            r->bad = i;
            break;
        }
    }
    return NULL;
}

/* Checks jobs[0..n) on two threads (signatures dominate and are independent); returns the
 * first failing job or SIZE_MAX, with its error in err. */
static size_t vjobs_run(struct vctx *c, size_t n, struct vt_error *err)
{
    struct vrange a = {c, 0, n / 2, SIZE_MAX, {0}}, b = {c, n / 2, n, SIZE_MAX, {0}};
    pthread_t t;
    bool threaded = n >= 64 && pthread_create(&t, NULL, vrange_run, &b) == 0;
    vrange_run(&a);
    if (threaded)
        pthread_join(t, NULL);
    else
        vrange_run(&b);
    struct vrange *r = a.bad != SIZE_MAX ? &a : b.bad != SIZE_MAX ? &b : NULL;
    if (!r)
        return SIZE_MAX;
    if (err)
        *err = r->err;
    return r->bad;
}

static enum vt_status prove_head(struct ledger *l, MDB_txn *txn, uint64_t index,
                                 const uint8_t leaf[LEDGER_HASH_LEN], uint64_t *cp_size,
                                 struct vt_error *err)
{
    struct ledger_checkpoint cp;
    enum vt_status st = ledger_latest_checkpoint_txn(l, txn, true, NULL, &cp, err);
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
        return vt_error_prefix(err, st, "inclusion of event %llu", (unsigned long long)index);
    *cp_size = cp.size;
    return VT_OK;
}

/* The payload record of event index, or rec NULL when there is none. */
static enum vt_status get_record(struct ledger *l, MDB_txn *txn, uint64_t index, struct vjob *j,
                                 struct vt_error *err)
{
    uint8_t k[8];
    vt_be64_put(k, index);
    MDB_val key = {8, k}, val;
    int rc = mdb_get(txn, l->db_payloads, &key, &val);
    j->rec = NULL;
    j->rec_len = 0;
    if (rc == MDB_NOTFOUND)
        return VT_OK;
    if (rc != 0)
        return ledger_mdb_error(rc, err, "read a payload");
    j->rec = val.mv_data;
    j->rec_len = val.mv_size;
    return VT_OK;
}

/* Reads the learner's events into jobs: the serial part, all in the read transaction. */
static enum vt_status collect_chain(struct ledger *l, MDB_txn *txn, const uint8_t *learner,
                                    uint64_t head_seq, struct vjob *jobs, struct vt_error *err)
{
    for (uint64_t seq = 0; seq <= head_seq; seq++) {
        uint8_t k[LEDGER_LEARNER_LEN + 8];
        memcpy(k, learner, LEDGER_LEARNER_LEN);
        vt_be64_put(k + LEDGER_LEARNER_LEN, seq);
        uint64_t index;
        enum vt_status st =
            get_u64(txn, l->db_lseq, k, sizeof(k), &index, "learner index entry", err);
        if (st != VT_OK)
            return vt_error_prefix(err, st, "seq %llu", (unsigned long long)seq);
        MDB_val leaf;
        if ((st = ledger_get_leaf(l, txn, index, &leaf, err)) != VT_OK)
            return st == VT_ERR_NOT_FOUND
                       ? vt_error_set(err, VT_ERR_VERIFY,
                                      "learner index points seq %llu at "
                                      "missing event %llu",
                                      (unsigned long long)seq, (unsigned long long)index)
                       : st;
        jobs[seq].leaf = leaf.mv_data;
        jobs[seq].leaf_len = leaf.mv_size;
        jobs[seq].index = index;
        if ((st = get_record(l, txn, index, &jobs[seq], err)) != VT_OK)
            return st;
    }
    return VT_OK;
}

/* Links and authors in chain order, up to (not including) job `upto`. */
static enum vt_status check_chain_links(struct ledger *l, MDB_txn *txn, const struct vjob *jobs,
                                        size_t upto, struct vt_error *err)
{
    for (size_t i = 0; i < upto; i++) {
        const struct vjob *j = &jobs[i];
        if (i > 0 && memcmp(j->ev.prev, jobs[i - 1].leaf_hash, LEDGER_HASH_LEN) != 0)
            return vt_error_set(err, VT_ERR_VERIFY,
                                "event %llu: prev does not match the learner's event %llu",
                                (unsigned long long)j->index, (unsigned long long)(i - 1));
        enum vt_status st = ledger_author_check(l, txn, &j->ev, j->index, err);
        if (st != VT_OK)
            return st;
    }
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
    struct vjob *jobs = NULL;
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
                : vt_error_set(err, VT_ERR_VERIFY, "learner head is malformed");
        goto out;
    }
    uint64_t head_seq = vt_be64_get(val.mv_data);
    uint64_t head_index = vt_be64_get((const uint8_t *)val.mv_data + 8);
    uint8_t head_leaf[LEDGER_HASH_LEN];
    memcpy(head_leaf, (const uint8_t *)val.mv_data + 16, LEDGER_HASH_LEN);
    size_t njobs;
    if (head_seq >= atomic_load(&l->size) || head_seq >= SIZE_MAX / sizeof(struct vjob) ||
        !vt_size_mul((size_t)head_seq + 1, sizeof(struct vjob), &njobs)) {
        st = vt_error_set(err, VT_ERR_VERIFY, "learner head names seq %llu, beyond the log",
                          (unsigned long long)head_seq);
        goto out;
    }
    jobs = vt_calloc(1, njobs);
    size_t n = (size_t)head_seq + 1;
    if ((st = collect_chain(l, txn, learner, head_seq, jobs, err)) != VT_OK)
        goto out;
    struct vctx c = {jobs, have_dek ? dek : NULL, learner, 0};
    struct vt_error werr;
    size_t bad = vjobs_run(&c, n, &werr);
    /* The earliest problem in chain order wins, whichever pass found it. */
    if ((st = check_chain_links(l, txn, jobs, bad == SIZE_MAX ? n : bad, err)) != VT_OK)
        goto out;
    if (bad != SIZE_MAX) {
        st = jobs[bad].st;
        if (err)
            *err = werr;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        rep->payloads_checked += jobs[i].decrypted;
        rep->payloads_erased += erased;
    }
    rep->events = n;
    if (jobs[n - 1].index != head_index ||
        memcmp(jobs[n - 1].leaf_hash, head_leaf, LEDGER_HASH_LEN) != 0) {
        st = vt_error_set(err, VT_ERR_VERIFY, "learner head does not match the newest event");
        goto out;
    }
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
    /* Learner ids are random in production but often structured in tests and benches:
     * mix all 16 bytes so that probing stays short either way. */
    uint64_t h = (vt_be64_get(learner) ^ (vt_be64_get(learner + 8) * 0x9e3779b97f4a7c15u)) *
                 0xff51afd7ed558ccdu;
    size_t i = (size_t)(h ^ (h >> 32)) & (m->cap - 1);
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
        return vt_error_prefix(err, st, "tree hashes of event %llu", (unsigned long long)index);
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

/* The order-dependent checks of one event whose own checks passed. */
static enum vt_status check_in_order(struct ledger *l, MDB_txn *txn, struct chain_map *m,
                                     const struct vjob *j, struct vt_error *err)
{
    const struct ledger_event *ev = &j->ev;
    unsigned long long n = (unsigned long long)j->index;
    struct chain_state *s = chain_get(m, ev->learner);
    if (ev->seq != s->next_seq)
        return vt_error_set(err, VT_ERR_VERIFY, "event %llu has seq %llu, expected %llu", n,
                            (unsigned long long)ev->seq, (unsigned long long)s->next_seq);
    if (ev->seq > 0 && memcmp(ev->prev, s->last_leaf, LEDGER_HASH_LEN) != 0)
        return vt_error_set(err, VT_ERR_VERIFY, "event %llu: prev does not match", n);
    uint8_t lk[LEDGER_LEARNER_LEN + 8];
    memcpy(lk, ev->learner, LEDGER_LEARNER_LEN);
    vt_be64_put(lk + LEDGER_LEARNER_LEN, ev->seq);
    uint64_t at;
    enum vt_status st = get_u64(txn, l->db_lseq, lk, sizeof(lk), &at, "learner index entry", err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "event %llu", n);
    if (at != j->index)
        return vt_error_set(err, VT_ERR_VERIFY, "learner index points event %llu at %llu", n,
                            (unsigned long long)at);
    if (ev->event_id_len) {
        st = get_u64(txn, l->db_ids, ev->event_id, ev->event_id_len, &at, "event id entry", err);
        if (st != VT_OK)
            return vt_error_prefix(err, st, "event %llu", n);
        if (at != j->index)
            return vt_error_set(err, VT_ERR_VERIFY, "event id of %llu points at %llu", n,
                                (unsigned long long)at);
    }
    if ((st = ledger_author_check(l, txn, ev, j->index, err)) != VT_OK)
        return st;
    if ((st = check_stored_hashes(l, txn, j->index, j->leaf_hash, err)) != VT_OK)
        return st;
    s->next_seq++;
    s->last_index = j->index;
    memcpy(s->last_leaf, j->leaf_hash, LEDGER_HASH_LEN);
    return VT_OK;
}

#define CHECK_CHUNK 4096

/* Checks jobs[0..k): their own checks in parallel, then the rest in log order. */
static enum vt_status check_chunk(struct ledger *l, MDB_txn *txn, struct chain_map *m,
                                  struct vjob *jobs, size_t k, struct vt_error *err)
{
    struct vctx c = {jobs, NULL, NULL, 0};
    struct vt_error werr;
    size_t bad = vjobs_run(&c, k, &werr);
    size_t upto = bad == SIZE_MAX ? k : bad;
    for (size_t i = 0; i < upto; i++) {
        enum vt_status st = check_in_order(l, txn, m, &jobs[i], err);
        if (st != VT_OK)
            return st;
    }
    if (bad == SIZE_MAX)
        return VT_OK;
    if (err)
        *err = werr;
    return jobs[bad].st;
}

static enum vt_status check_events(struct ledger *l, MDB_txn *txn, struct chain_map *m,
                                   uint64_t *count, struct vt_error *err)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, l->db_events, &c);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "open the events");
    struct vjob *jobs = vt_calloc(CHECK_CHUNK, sizeof(*jobs));
    enum vt_status st = VT_OK;
    uint64_t n = 0;
    size_t k = 0;
    MDB_val key, val;
    for (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0 && st == VT_OK;
         rc = mdb_cursor_get(c, &key, &val, MDB_NEXT), n++) {
        if (key.mv_size != 8 || vt_be64_get(key.mv_data) != n) {
            st = vt_error_set(err, VT_ERR_VERIFY, "event index %llu is missing",
                              (unsigned long long)n);
            break;
        }
        memset(&jobs[k], 0, sizeof(jobs[k]));
        jobs[k].leaf = val.mv_data;
        jobs[k].leaf_len = val.mv_size;
        jobs[k].index = n;
        if ((st = get_record(l, txn, n, &jobs[k], err)) != VT_OK)
            break;
        if (++k == CHECK_CHUNK) {
            st = check_chunk(l, txn, m, jobs, k, err);
            k = 0;
        }
    }
    if (st == VT_OK && rc != MDB_NOTFOUND)
        st = ledger_mdb_error(rc, err, "walk the events");
    if (st == VT_OK && k)
        st = check_chunk(l, txn, m, jobs, k, err);
    mdb_cursor_close(c);
    free(jobs);
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
    if ((rc = mdb_stat(txn, l->db_prov, &ms)) != 0)
        return ledger_mdb_error(rc, err, "count the provenance records");
    if (ms.ms_entries > events)
        return vt_error_set(err, VT_ERR_VERIFY, "more provenance records than events");
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
    enum vt_status st = ledger_latest_checkpoint_txn(l, txn, true, NULL, &cp, err);
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
