/*
 * The writer: group commit of concurrent appends (specs/ledger.md §6).
 *
 * One thread owns every write transaction. A batch goes through three phases:
 *   A (serial)   validate, deduplicate, assign seq and time, find data keys;
 *   B (parallel) per learner: link prev, encrypt, encode, sign; learners are split over
 *                the signing pool because a learner's events must be signed in order;
 *   C (serial)   hand the leaves to the sequencer, write them in order with the Merkle
 *                hashes and indexes, sign a checkpoint, commit durably, wake the callers.
 */
#include "ledger/ledger_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

/* New data keys whose randomness one draw provides (key_random). */
#define KEY_DRAW 256
/* Batches with fewer live requests store their new data keys before signing (batch_prepare). */
#define KEYS_INLINE_MAX 256

struct item {
    const struct ledger_append_req *req;
    struct ledger_append_result *res;
    bool settled; /* failed, or answered from an earlier commit */
    long dup_of;  /* earlier item in this batch with the same event id, or -1 */
    bool erasure;
    size_t group;
    long next; /* next item of the same learner, or -1 */
    struct ledger_event ev;
    uint8_t salt[LEDGER_SALT_LEN];
    uint8_t nonce[LEDGER_NONCE_LEN];
    struct vt_buf record; /* payload record; empty when there is no payload */
    struct vt_buf leaf;
    uint8_t leaf_hash[LEDGER_HASH_LEN];
    bool fork; /* refused, but kept as fork evidence */
    const struct ledger_prov *prov;
    bool preverified;
    uint64_t index;
};

struct group {
    uint8_t learner[LEDGER_LEARNER_LEN];
    bool has_head;
    uint64_t head_seq;
    uint8_t head_leaf[LEDGER_HASH_LEN];
    uint64_t next_seq;
    uint8_t cur_leaf[LEDGER_HASH_LEN]; /* leaf hash of the newest event so far */
    bool erased;
    bool dek_known, has_dek, dek_created;
    uint8_t dek[LEDGER_DEK_LEN];
    struct ledger_dek_record new_key; /* dek_created: to be stored before the commit */
    long first, last;
    size_t count;
    unsigned part;
    bool touched;
    bool has_final; /* after phase B: the newest event this batch will write */
    uint64_t last_seq;
    uint8_t last_leaf[LEDGER_HASH_LEN];
    uint64_t final_seq, final_index;
    uint8_t final_leaf[LEDGER_HASH_LEN];
};

struct batch {
    struct ledger *l;
    struct ledger_job *jobs;
    struct item *items;
    size_t n;
    struct group *groups;
    size_t ngroups;
    long *gtab, *idtab; /* open addressing over items/groups, -1 empty */
    size_t tab_cap;
    MDB_txn *ktxn; /* phase A: a read transaction of the keys environment, opened on need */
    unsigned parts;
    bool presigned;
    bool erasure_first;
    /* The batch still being committed while this one is prepared: its groups' final heads
     * and its event ids are not in the read snapshot yet. */
    const struct batch *overlay;
    bool used_overlay; /* some group started from the overlay */
    bool need_drain;   /* an event id of this batch is in the overlay */
    uint8_t *rnd;      /* salts and nonces for the items, drawn once */
    uint8_t *krnd;     /* randomness for new data keys (key_random) */
    size_t krnd_used;
    enum vt_status status; /* the commit's outcome */
    struct vt_error error;
    bool keys_stored; /* the data keys this batch created are durable (phase C) */
};

static uint8_t tab_key[crypto_shorthash_KEYBYTES];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void tab_init(void)
{
    vt_random_bytes(tab_key, sizeof(tab_key));
}

static size_t tab_hash(const void *p, size_t n, size_t cap)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, p, n, tab_key);
    return (size_t)vt_be64_get(h) & (cap - 1);
}

static void fail(struct item *it, enum vt_status st, const struct vt_error *e)
{
    it->settled = true;
    it->res->status = st;
    if (e && e->status != VT_OK)
        it->res->error = *e;
    else
        vt_error_set(&it->res->error, st, "append failed: %s", vt_status_name(st));
    it->res->error.status = st;
}

static void fail_msg(struct item *it, enum vt_status st, const char *msg)
{
    struct vt_error e;
    vt_error_set(&e, st, "%s", msg);
    fail(it, st, &e);
}

/* ---- phase A -------------------------------------------------------------------------- */

/* Phase A runs inside a read of the main environment, which holds the ledger's txn_lock,
 * so this read of the keys environment is safe from a map resize as well. */
static enum vt_status ensure_ktxn(struct batch *b, struct vt_error *err)
{
    if (b->ktxn)
        return VT_OK;
    int rc = mdb_txn_begin(b->l->kenv, NULL, MDB_RDONLY, &b->ktxn);
    if (rc != 0) {
        b->ktxn = NULL;
        return ledger_mdb_error(rc, err, "begin a key transaction");
    }
    return VT_OK;
}

/* The overlay's group of learner when that batch writes events for it, else NULL. */
static const struct group *overlay_group(const struct batch *o, const uint8_t *learner)
{
    if (!o)
        return NULL;
    size_t i = tab_hash(learner, LEDGER_LEARNER_LEN, o->tab_cap);
    while (o->gtab[i] >= 0) {
        const struct group *g = &o->groups[o->gtab[i]];
        if (memcmp(g->learner, learner, LEDGER_LEARNER_LEN) == 0)
            return g->has_final ? g : NULL;
        i = (i + 1) & (o->tab_cap - 1);
    }
    return NULL;
}

/* The overlay's group of learner when that batch created the learner's data key. */
static const struct group *overlay_new_key(const struct batch *o, const uint8_t *learner)
{
    if (!o)
        return NULL;
    size_t i = tab_hash(learner, LEDGER_LEARNER_LEN, o->tab_cap);
    while (o->gtab[i] >= 0) {
        const struct group *g = &o->groups[o->gtab[i]];
        if (memcmp(g->learner, learner, LEDGER_LEARNER_LEN) == 0)
            return g->dek_created ? g : NULL;
        i = (i + 1) & (o->tab_cap - 1);
    }
    return NULL;
}

static bool overlay_has_id(const struct batch *o, const uint8_t *id, size_t len)
{
    if (!o)
        return false;
    size_t h = tab_hash(id, len, o->tab_cap);
    while (o->idtab[h] >= 0) {
        const struct item *it = &o->items[o->idtab[h]];
        if (it->ev.event_id_len == len && memcmp(it->ev.event_id, id, len) == 0)
            return true;
        h = (h + 1) & (o->tab_cap - 1);
    }
    return false;
}

static enum vt_status group_find(struct batch *b, MDB_txn *txn, const uint8_t *learner, size_t *out,
                                 struct vt_error *err)
{
    size_t i = tab_hash(learner, LEDGER_LEARNER_LEN, b->tab_cap);
    while (b->gtab[i] >= 0) {
        struct group *g = &b->groups[b->gtab[i]];
        if (memcmp(g->learner, learner, LEDGER_LEARNER_LEN) == 0) {
            *out = (size_t)b->gtab[i];
            return VT_OK;
        }
        i = (i + 1) & (b->tab_cap - 1);
    }
    struct group *g = &b->groups[b->ngroups];
    memset(g, 0, sizeof(*g));
    memcpy(g->learner, learner, LEDGER_LEARNER_LEN);
    g->first = g->last = -1;
    const struct group *og = overlay_group(b->overlay, learner);
    if (og) {
        b->used_overlay = true;
        g->has_head = true;
        g->head_seq = og->last_seq;
        memcpy(g->head_leaf, og->last_leaf, LEDGER_HASH_LEN);
        g->next_seq = g->head_seq + 1;
        memcpy(g->cur_leaf, g->head_leaf, LEDGER_HASH_LEN);
        b->gtab[i] = (long)b->ngroups;
        *out = b->ngroups++;
        return VT_OK;
    }
    MDB_val key = {LEDGER_LEARNER_LEN, (void *)learner}, val;
    int rc = mdb_get(txn, b->l->db_heads, &key, &val);
    if (rc == 0) {
        if (val.mv_size != LEDGER_HEAD_LEN)
            return vt_error_set(err, VT_ERR_INVALID, "learner head has %zu bytes", val.mv_size);
        const uint8_t *p = val.mv_data;
        g->has_head = true;
        g->head_seq = vt_be64_get(p);
        memcpy(g->head_leaf, p + 16, LEDGER_HASH_LEN);
        g->next_seq = g->head_seq + 1;
        memcpy(g->cur_leaf, g->head_leaf, LEDGER_HASH_LEN);
    } else if (rc != MDB_NOTFOUND) {
        return ledger_mdb_error(rc, err, "read a learner head");
    }
    b->gtab[i] = (long)b->ngroups;
    *out = b->ngroups++;
    return VT_OK;
}

/*
 * Randomness for a new data key and its wrapping nonce. Like salts and nonces (take_random)
 * it is drawn in bulk, because a batch of first events creates a key per learner and two
 * getrandom calls per key showed up in the writer's profile. Unused bytes are wiped when
 * the batch is freed.
 */
static const uint8_t *key_random(struct batch *b)
{
    enum { DRAW = KEY_DRAW * LEDGER_DEK_RANDOM_LEN };
    if (!b->krnd) {
        b->krnd = vt_malloc(DRAW);
        b->krnd_used = DRAW;
    }
    if (b->krnd_used == DRAW) {
        vt_random_bytes(b->krnd, DRAW);
        b->krnd_used = 0;
    }
    const uint8_t *p = b->krnd + b->krnd_used;
    b->krnd_used += LEDGER_DEK_RANDOM_LEN;
    return p;
}

/*
 * Resolves the group's data key; creates one when the learner needs it for a payload. A
 * key the batch in flight created is not in the keys environment or the cache yet: it is
 * taken from that batch, which then has to commit for this one to stand (used_overlay).
 */
static enum vt_status group_dek(struct batch *b, struct group *g, bool need, struct vt_error *err)
{
    if (g->dek_known && (g->has_dek || g->erased || !need))
        return VT_OK;
    struct ledger *l = b->l;
    bool found = ledger_dek_cached(l, g->learner, g->dek, &g->erased);
    const struct group *og = found ? NULL : overlay_new_key(b->overlay, g->learner);
    if (og) {
        memcpy(g->dek, og->dek, LEDGER_DEK_LEN);
        b->used_overlay = true;
        found = true;
    }
    enum vt_status st;
    if (!found) {
        if ((st = ensure_ktxn(b, err)) != VT_OK)
            return st;
        if ((st = ledger_dek_lookup(l, b->ktxn, g->learner, g->dek, &g->erased, &found, err)) !=
            VT_OK)
            return st;
    }
    if (!found && need) {
        memcpy(g->new_key.learner, g->learner, LEDGER_LEARNER_LEN);
        ledger_dek_new(l, key_random(b), &g->new_key, g->dek);
        g->dek_created = true;
        found = true;
    }
    g->dek_known = true;
    g->has_dek = found && !g->erased;
    return VT_OK;
}

static void group_link(struct batch *b, size_t gi, size_t ii)
{
    struct group *g = &b->groups[gi];
    b->items[ii].group = gi;
    b->items[ii].next = -1;
    if (g->last >= 0)
        b->items[g->last].next = (long)ii;
    else
        g->first = (long)ii;
    g->last = (long)ii;
    g->count++;
}

/* Answers an event id committed earlier: same learner and type is a retry, else misuse. */
static enum vt_status id_committed(struct batch *b, MDB_txn *txn, struct item *it,
                                   const uint8_t *id, size_t len, bool *hit, struct vt_error *err)
{
    *hit = false;
    MDB_val key = {len, (void *)id}, val, leaf;
    int rc = mdb_get(txn, b->l->db_ids, &key, &val);
    if (rc == MDB_NOTFOUND)
        return VT_OK;
    if (rc != 0)
        return ledger_mdb_error(rc, err, "read the event ids");
    if (val.mv_size != 8)
        return vt_error_set(err, VT_ERR_INVALID, "event id entry has %zu bytes", val.mv_size);
    uint64_t index = vt_be64_get(val.mv_data);
    enum vt_status st = ledger_get_leaf(b->l, txn, index, &leaf, err);
    size_t off, elen;
    const uint8_t *sig;
    struct ledger_event ev;
    if (st == VT_OK)
        st = ledger_leaf_split(leaf.mv_data, leaf.mv_size, &off, &elen, &sig, err);
    if (st == VT_OK)
        st = ledger_event_decode((const uint8_t *)leaf.mv_data + off, elen, &ev, err);
    if (st != VT_OK)
        return st;
    *hit = true;
    if (memcmp(ev.learner, it->ev.learner, LEDGER_LEARNER_LEN) != 0 ||
        strcmp(ev.type, it->ev.type) != 0) {
        fail_msg(it, VT_ERR_CONFLICT, "event id already used by another learner or type");
        return VT_OK;
    }
    it->settled = true;
    it->res->status = VT_OK;
    it->res->duplicate = true;
    it->res->index = index;
    it->res->seq = ev.seq;
    ledger_leaf_hash(leaf.mv_data, leaf.mv_size, it->res->leaf_hash);
    return VT_OK;
}

/* Deduplicates by event id within the batch and against the store. */
static enum vt_status dedup(struct batch *b, MDB_txn *txn, size_t ii, const uint8_t *id, size_t len,
                            struct vt_error *err)
{
    struct item *it = &b->items[ii];
    if (len == 0)
        return VT_OK;
    size_t h = tab_hash(id, len, b->tab_cap);
    while (b->idtab[h] >= 0) {
        struct item *o = &b->items[b->idtab[h]];
        const uint8_t *oid = o->ev.event_id;
        if (o->ev.event_id_len == len && memcmp(oid, id, len) == 0) {
            if (memcmp(o->ev.learner, it->ev.learner, LEDGER_LEARNER_LEN) != 0 ||
                strcmp(o->ev.type, it->ev.type) != 0)
                fail_msg(it, VT_ERR_CONFLICT, "event id already used by another learner or type");
            else
                it->dup_of = b->idtab[h];
            return VT_OK;
        }
        h = (h + 1) & (b->tab_cap - 1);
    }
    if (overlay_has_id(b->overlay, id, len)) {
        /* Its answer comes from a commit still running: prepare again after it. */
        b->need_drain = true;
        return VT_OK;
    }
    bool hit;
    enum vt_status st = id_committed(b, txn, it, id, len, &hit, err);
    if (st == VT_OK && !hit)
        b->idtab[h] = (long)ii;
    return st;
}

/* Salts and nonces come from one draw per batch: a getrandom call per event showed up as
 * a tenth of the writer's time. */
static void take_random(struct batch *b, struct item *it)
{
    enum { PER_ITEM = LEDGER_SALT_LEN + LEDGER_NONCE_LEN };
    if (!b->rnd) {
        b->rnd = vt_malloc(b->n * PER_ITEM);
        vt_random_bytes(b->rnd, b->n * PER_ITEM);
    }
    const uint8_t *p = b->rnd + (size_t)(it - b->items) * PER_ITEM;
    memcpy(it->salt, p, LEDGER_SALT_LEN);
    memcpy(it->nonce, p + LEDGER_SALT_LEN, LEDGER_NONCE_LEN);
}

static void prepare_normal(struct batch *b, MDB_txn *txn, size_t ii, struct vt_error *err)
{
    struct ledger *l = b->l;
    struct item *it = &b->items[ii];
    const struct ledger_append_req *r = it->req;
    struct vt_error e;
    enum vt_status st;
    if (!r->type || strnlen(r->type, LEDGER_TYPE_MAX) >= LEDGER_TYPE_MAX)
        return fail_msg(it, VT_ERR_INVALID, "event type missing or too long");
    if (!ledger_type_known(r->type)) {
        vt_error_set(&e, VT_ERR_UNSUPPORTED, "unknown event type '%s'", r->type);
        return fail(it, VT_ERR_UNSUPPORTED, &e);
    }
    if (strcmp(r->type, "erasure") == 0 && !it->erasure)
        return fail_msg(it, VT_ERR_INVALID, "erasure events are appended by ledger_erase");
    if (r->payload_len > l->payload_max) {
        vt_error_set(&e, VT_ERR_TOO_LARGE, "payload of %zu bytes over the %zu-byte cap",
                     r->payload_len, l->payload_max);
        return fail(it, VT_ERR_TOO_LARGE, &e);
    }
    if (r->payload_len && !r->payload)
        return fail_msg(it, VT_ERR_INVALID, "payload pointer missing");
    if ((r->event_id == NULL) != (r->event_id_len == 0) || r->event_id_len > LEDGER_EVENT_ID_MAX)
        return fail_msg(it, VT_ERR_INVALID, "event id must be absent or 1..64 bytes");

    struct ledger_event *ev = &it->ev;
    ev->version = LEDGER_VERSION;
    memcpy(ev->learner, r->learner, LEDGER_LEARNER_LEN);
    memcpy(ev->type, r->type, strlen(r->type) + 1);
    memcpy(ev->author, l->key.pk, VT_ED25519_PK_LEN);
    memcpy(ev->origin, l->origin, sizeof(ev->origin));
    ev->event_id_len = r->event_id_len;
    if (r->event_id_len)
        memcpy(ev->event_id, r->event_id, r->event_id_len);

    if ((st = dedup(b, txn, ii, r->event_id, r->event_id_len, err)) != VT_OK)
        return fail(it, st, err);
    if (it->settled || it->dup_of >= 0)
        return;
    size_t gi;
    if ((st = group_find(b, txn, r->learner, &gi, err)) != VT_OK)
        return fail(it, st, err);
    struct group *g = &b->groups[gi];
    if ((st = group_dek(b, g, r->payload_len > 0, err)) != VT_OK)
        return fail(it, st, err);
    if (g->erased && !it->erasure)
        return fail_msg(it, VT_ERR_CONFLICT, "learner's data was erased; no further events");
    ev->seq = g->next_seq++;
    ev->has_prev = ev->seq != 0;
    uint64_t now = (uint64_t)vt_time_now_ms();
    if (now < l->last_time)
        now = l->last_time;
    l->last_time = now;
    ev->time_ms = now;
    if (r->payload_len)
        take_random(b, it);
    group_link(b, gi, ii);
}

static void prepare_presigned(struct batch *b, MDB_txn *txn, size_t ii, struct vt_error *err)
{
    struct ledger *l = b->l;
    struct item *it = &b->items[ii];
    const struct ledger_append_req *r = it->req;
    struct ledger_event *ev = &it->ev;
    enum vt_status st;
    if (it->preverified) {
        size_t off, len;
        const uint8_t *sig;
        st = ledger_leaf_split(r->signed_event, r->signed_event_len, &off, &len, &sig, err);
        if (st == VT_OK)
            st = ledger_event_decode(r->signed_event + off, len, ev, err);
    } else {
        st = ledger_leaf_open(r->signed_event, r->signed_event_len, ev, NULL, NULL, NULL, err);
    }
    if (st != VT_OK)
        return fail(it, st, err);
    if (strcmp(ev->type, "erasure") == 0)
        return fail_msg(it, VT_ERR_INVALID, "erasure events cannot be imported");
    if (r->payload_len > l->payload_max)
        return fail_msg(it, VT_ERR_TOO_LARGE, "payload over the cap");
    if ((r->payload_len && !r->payload) || (r->payload_len && !r->salt))
        return fail_msg(it, VT_ERR_INVALID, "pre-signed payload needs its salt");
    if (r->salt) {
        uint8_t c[VT_SHA256_LEN];
        ledger_commitment(r->salt, r->payload, r->payload_len, c);
        if (sodium_memcmp(c, ev->commitment, sizeof(c)) != 0)
            return fail_msg(it, VT_ERR_VERIFY, "payload does not match the event's commitment");
        memcpy(it->salt, r->salt, LEDGER_SALT_LEN);
    }
    vt_buf_reset(&it->leaf);
    if ((st = vt_buf_append(&it->leaf, r->signed_event, r->signed_event_len, err)) != VT_OK)
        return fail(it, st, err);
    ledger_leaf_hash(it->leaf.data, it->leaf.len, it->leaf_hash);

    if ((st = dedup(b, txn, ii, ev->event_id, ev->event_id_len, err)) != VT_OK)
        return fail(it, st, err);
    if (it->settled || it->dup_of >= 0)
        return;
    size_t gi;
    if ((st = group_find(b, txn, ev->learner, &gi, err)) != VT_OK)
        return fail(it, st, err);
    struct group *g = &b->groups[gi];
    if ((st = group_dek(b, g, r->payload_len > 0 || r->salt != NULL, err)) != VT_OK)
        return fail(it, st, err);
    if (g->erased)
        return fail_msg(it, VT_ERR_CONFLICT, "learner's data was erased; no further events");

    if (ev->seq < g->next_seq) {
        /* An event for a seq we already hold: the same leaf is a retry, another is a fork. */
        uint8_t have[LEDGER_HASH_LEN];
        uint64_t index = 0;
        bool in_batch = false;
        for (long j = g->first; j >= 0; j = b->items[j].next) {
            if (b->items[j].ev.seq == ev->seq) {
                memcpy(have, b->items[j].leaf_hash, LEDGER_HASH_LEN);
                in_batch = true;
            }
        }
        if (!in_batch) {
            uint8_t k[LEDGER_LEARNER_LEN + 8];
            memcpy(k, ev->learner, LEDGER_LEARNER_LEN);
            vt_be64_put(k + LEDGER_LEARNER_LEN, ev->seq);
            MDB_val key = {sizeof(k), k}, val, leaf;
            int rc = mdb_get(txn, l->db_lseq, &key, &val);
            if (rc != 0 || val.mv_size != 8)
                return fail_msg(it, VT_ERR_INTERNAL, "learner index misses an event");
            index = vt_be64_get(val.mv_data);
            if ((st = ledger_get_leaf(l, txn, index, &leaf, err)) != VT_OK)
                return fail(it, st, err);
            ledger_leaf_hash(leaf.mv_data, leaf.mv_size, have);
        }
        if (memcmp(have, it->leaf_hash, LEDGER_HASH_LEN) == 0) {
            if (in_batch)
                return fail_msg(it, VT_ERR_INVALID, "the same event twice in one batch");
            it->settled = true;
            it->res->status = VT_OK;
            it->res->duplicate = true;
            it->res->index = index;
            it->res->seq = ev->seq;
            memcpy(it->res->leaf_hash, have, LEDGER_HASH_LEN);
            return;
        }
        it->fork = true;
        struct vt_error e;
        vt_error_set(&e, VT_ERR_CONFLICT,
                     "fork: learner already has another validly signed event at seq %llu",
                     (unsigned long long)ev->seq);
        return fail(it, VT_ERR_CONFLICT, &e);
    }
    if (ev->seq > g->next_seq) {
        struct vt_error e;
        vt_error_set(&e, VT_ERR_CONFLICT, "seq gap: event seq %llu, expected %llu",
                     (unsigned long long)ev->seq, (unsigned long long)g->next_seq);
        return fail(it, VT_ERR_CONFLICT, &e);
    }
    if (ev->seq > 0 && memcmp(ev->prev, g->cur_leaf, LEDGER_HASH_LEN) != 0)
        return fail_msg(it, VT_ERR_CONFLICT, "prev does not match the learner's previous event");
    static const uint8_t zero_salt[LEDGER_SALT_LEN];
    uint8_t empty_hash[VT_SHA256_LEN], empty_commit[VT_SHA256_LEN];
    vt_sha256("", 0, empty_hash);
    ledger_commitment(zero_salt, NULL, 0, empty_commit);
    if (!r->payload_len && memcmp(ev->payload_hash, empty_hash, VT_SHA256_LEN) == 0 &&
        memcmp(ev->commitment, empty_commit, VT_SHA256_LEN) == 0) {
        /* An empty payload is stored as natively: no record at all (§2.1). */
        vt_buf_reset(&it->record);
    } else if (r->payload_len || r->salt) {
        vt_buf_reset(&it->record);
        st = ledger_payload_seal(g->dek, LEDGER_PAYLOAD_IMPORTED, ev->learner, ev->seq, it->salt,
                                 r->payload, r->payload_len, NULL, &it->record, err);
        if (st != VT_OK)
            return fail(it, st, err);
    } else {
        uint8_t absent = LEDGER_PAYLOAD_ABSENT;
        vt_buf_reset(&it->record);
        if ((st = vt_buf_append(&it->record, &absent, 1, err)) != VT_OK)
            return fail(it, st, err);
    }
    g->next_seq++;
    memcpy(g->cur_leaf, it->leaf_hash, LEDGER_HASH_LEN);
    group_link(b, gi, ii);
}

static void batch_reset(struct batch *b)
{
    for (size_t i = 0; i < b->tab_cap; i++)
        b->gtab[i] = b->idtab[i] = -1;
    b->ngroups = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        it->settled = false;
        it->dup_of = -1;
        it->fork = false;
        memset(&it->ev, 0, sizeof(it->ev));
        memset(it->res, 0, sizeof(*it->res));
        vt_buf_reset(&it->record);
        vt_buf_reset(&it->leaf);
    }
}

/* Phase A; returns a batch-wide failure only for storage errors. */
static enum vt_status phase_a(struct batch *b, MDB_txn *txn, bool presigned, struct vt_error *err)
{
    batch_reset(b);
    b->used_overlay = false;
    b->need_drain = false;
    /* Keys stored by an earlier preparation are found again in the keys environment. */
    b->keys_stored = false;
    for (size_t i = 0; i < b->n; i++) {
        struct vt_error e;
        vt_error_clear(&e);
        if (presigned)
            prepare_presigned(b, txn, i, &e);
        else
            prepare_normal(b, txn, i, &e);
        if (b->need_drain)
            break;
    }
    if (b->need_drain)
        return vt_error_set(err, VT_ERR_BUSY, "batch must wait for the commit before it");
    return VT_OK;
}

/* ---- phase B -------------------------------------------------------------------------- */

static void sign_item(struct batch *b, struct group *g, struct item *it)
{
    struct ledger *l = b->l;
    struct ledger_event *ev = &it->ev;
    const struct ledger_append_req *r = it->req;
    struct vt_error e;
    enum vt_status st;
    if (ev->has_prev)
        memcpy(ev->prev, g->cur_leaf, LEDGER_HASH_LEN);
    if (r->payload_len) {
        ledger_commitment(it->salt, r->payload, r->payload_len, ev->commitment);
        st = ledger_payload_seal(g->dek, LEDGER_PAYLOAD_NATIVE, ev->learner, ev->seq, it->salt,
                                 r->payload, r->payload_len, it->nonce, &it->record, &e);
        if (st != VT_OK)
            return fail(it, st, &e);
        vt_sha256(it->record.data + 1, it->record.len - 1, ev->payload_hash);
    } else {
        static const uint8_t zero_salt[LEDGER_SALT_LEN];
        ledger_commitment(zero_salt, NULL, 0, ev->commitment);
        vt_sha256("", 0, ev->payload_hash);
    }
    /* The envelope is written right after the domain prefix, so that the signed message
     * needs no copy and nothing is allocated per event. */
    enum { DOMAIN_LEN = sizeof(LEDGER_DOMAIN) - 1 };
    uint8_t msg[DOMAIN_LEN + LEDGER_ENVELOPE_MAX];
    memcpy(msg, LEDGER_DOMAIN, DOMAIN_LEN);
    size_t env_len;
    st = ledger_envelope_put(ev, msg + DOMAIN_LEN, &env_len, &e);
    if (st != VT_OK)
        return fail(it, st, &e);
    uint8_t sig[VT_ED25519_SIG_LEN];
    vt_key_sign(&l->key, msg, DOMAIN_LEN + env_len, sig);
    st = ledger_leaf_encode(msg + DOMAIN_LEN, env_len, sig, &it->leaf, &e);
    if (st != VT_OK)
        return fail(it, st, &e);
    ledger_leaf_hash(it->leaf.data, it->leaf.len, it->leaf_hash);
    memcpy(g->cur_leaf, it->leaf_hash, LEDGER_HASH_LEN);
}

static void sign_part(void *arg, unsigned part)
{
    struct batch *b = arg;
    for (size_t gi = 0; gi < b->ngroups; gi++) {
        struct group *g = &b->groups[gi];
        if (g->part != part)
            continue;
        bool broken = false;
        for (long i = g->first; i >= 0; i = b->items[i].next) {
            struct item *it = &b->items[i];
            /* A failure breaks the chain for the learner's later events in this batch. */
            if (broken) {
                fail_msg(it, VT_ERR_INTERNAL, "an earlier event of this learner failed");
                continue;
            }
            sign_item(b, g, it);
            broken = it->settled;
        }
    }
}

/* Requests of the batch that will be written: neither failed nor answered already. */
static size_t live_items(const struct batch *b)
{
    size_t live = 0;
    for (size_t i = 0; i < b->n; i++)
        live += !b->items[i].settled && b->items[i].dup_of < 0;
    return live;
}

static void phase_b(struct batch *b)
{
    size_t live = live_items(b);
    unsigned parts = b->l->sign_threads;
    if (live < 32 || b->ngroups < 2)
        parts = 1;
    size_t load[8] = {0};
    for (size_t gi = 0; gi < b->ngroups; gi++) {
        unsigned best = 0;
        for (unsigned p = 1; p < parts; p++) {
            if (load[p] < load[best])
                best = p;
        }
        b->groups[gi].part = best;
        load[best] += b->groups[gi].count;
    }
    ledger_signers_run(b->l->signers, parts, sign_part, b);
    for (size_t gi = 0; gi < b->ngroups; gi++) {
        struct group *g = &b->groups[gi];
        g->has_final = false;
        for (long i = g->first; i >= 0; i = b->items[i].next) {
            if (!b->items[i].settled) {
                g->has_final = true;
                g->last_seq = b->items[i].ev.seq;
                memcpy(g->last_leaf, b->items[i].leaf_hash, LEDGER_HASH_LEN);
            }
        }
    }
}

/* ---- phase C -------------------------------------------------------------------------- */

static enum vt_status put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kn, const void *v,
                          size_t vn, unsigned flags, const char *what, struct vt_error *err)
{
    MDB_val key = {kn, (void *)k}, val = {vn, (void *)v};
    int rc = mdb_put(txn, dbi, &key, &val, flags);
    if (rc != 0)
        return ledger_mdb_error(rc, err, what);
    return VT_OK;
}

static enum vt_status write_item(struct batch *b, MDB_txn *txn, struct item *it, uint64_t index,
                                 struct vt_error *err)
{
    struct ledger *l = b->l;
    uint8_t k[8];
    vt_be64_put(k, index);
    enum vt_status st = put(txn, l->db_events, k, 8, it->leaf.data, it->leaf.len, MDB_APPEND,
                            "append an event", err);
    if (st == VT_OK && it->record.len)
        st = put(txn, l->db_payloads, k, 8, it->record.data, it->record.len, MDB_APPEND,
                 "store a payload", err);
    uint8_t lk[LEDGER_LEARNER_LEN + 8];
    memcpy(lk, it->ev.learner, LEDGER_LEARNER_LEN);
    vt_be64_put(lk + LEDGER_LEARNER_LEN, it->ev.seq);
    if (st == VT_OK)
        st = put(txn, l->db_lseq, lk, sizeof(lk), k, 8, MDB_NOOVERWRITE, "index an event", err);
    if (st == VT_OK && it->ev.event_id_len)
        st = put(txn, l->db_ids, it->ev.event_id, it->ev.event_id_len, k, 8, MDB_NOOVERWRITE,
                 "record an event id", err);
    if (st != VT_OK)
        return st;
    struct ledger_txn_reader tr;
    ledger_txn_reader_init(&tr, txn, l->db_hashes);
    uint8_t hashes[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
    size_t count;
    st = ledger_stored_hashes_for_append(&tr.r, index, it->leaf_hash, hashes, &count, err);
    uint64_t first = ledger_stored_hash_index(0, index);
    for (size_t i = 0; st == VT_OK && i < count; i++) {
        vt_be64_put(k, first + i);
        st = put(txn, l->db_hashes, k, 8, hashes[i], LEDGER_HASH_LEN, MDB_APPEND,
                 "store a tree hash", err);
    }
    return st;
}

static enum vt_status write_checkpoint(struct batch *b, MDB_txn *txn, uint64_t size,
                                       struct vt_error *err)
{
    struct ledger *l = b->l;
    struct ledger_checkpoint cp;
    memset(&cp, 0, sizeof(cp));
    memcpy(cp.origin, l->origin, sizeof(cp.origin));
    cp.size = size;
    struct ledger_txn_reader tr;
    ledger_txn_reader_init(&tr, txn, l->db_hashes);
    enum vt_status st = ledger_tree_hash(&tr.r, size, cp.root, err);
    if (st != VT_OK)
        return st;
    /* The signature line goes after the text in the same buffer: that is the note. */
    struct vt_buf note;
    vt_buf_init(&note, 8192);
    st = ledger_checkpoint_format(&cp, &note, err);
    if (st == VT_OK)
        st = ledger_note_sign((const char *)note.data, note.len, l->origin, &l->key, &note, err);
    uint8_t k[8];
    vt_be64_put(k, size);
    if (st == VT_OK)
        st = put(txn, l->db_checkpoints, k, 8, note.data, note.len, MDB_APPEND,
                 "store a checkpoint", err);
    if (st == VT_OK) {
        /* Signed here, so readers of it need not verify it. */
        MDB_val v = {note.len, note.data};
        ledger_checkpoint_remember(l, &v, &cp);
    }
    vt_buf_release(&note);
    return st;
}

/* Events from elsewhere: the log that vouched for them, or for a bare pre-signed event of
 * a foreign author, that author and the origin it names (specs/ledger.md §10.4). */
static enum vt_status write_provenance(struct batch *b, MDB_txn *txn, const struct item *it,
                                       struct vt_error *err)
{
    struct ledger *l = b->l;
    const struct ledger_prov *p = it->prov;
    const char *origin = p ? p->origin : it->ev.origin;
    const uint8_t *key = p ? p->key : it->ev.author;
    if (!p && memcmp(key, l->key.pk, VT_ED25519_PK_LEN) == 0)
        return VT_OK;
    size_t on = strlen(origin);
    uint8_t v[LEDGER_PROV_FIXED + LEDGER_NOTE_NAME_MAX];
    VT_ASSERT(on > 0 && on < LEDGER_NOTE_NAME_MAX);
    v[0] = 1;
    memcpy(v + 1, key, VT_ED25519_PK_LEN);
    if (p && p->note)
        memcpy(v + 1 + VT_ED25519_PK_LEN, p->note_hash, VT_SHA256_LEN);
    else
        memset(v + 1 + VT_ED25519_PK_LEN, 0, VT_SHA256_LEN);
    memcpy(v + LEDGER_PROV_FIXED, origin, on);
    uint8_t k[LEDGER_LEARNER_LEN + 8];
    memcpy(k, it->ev.learner, LEDGER_LEARNER_LEN);
    vt_be64_put(k + LEDGER_LEARNER_LEN, it->ev.seq);
    return put(txn, l->db_prov, k, sizeof(k), v, LEDGER_PROV_FIXED + on, 0,
               "record an event's provenance", err);
}

static enum vt_status write_fork(struct batch *b, MDB_txn *txn, struct item *it,
                                 struct vt_error *err)
{
    uint8_t k[LEDGER_LEARNER_LEN + 8 + LEDGER_HASH_LEN];
    memcpy(k, it->ev.learner, LEDGER_LEARNER_LEN);
    vt_be64_put(k + LEDGER_LEARNER_LEN, it->ev.seq);
    memcpy(k + LEDGER_LEARNER_LEN + 8, it->leaf_hash, LEDGER_HASH_LEN);
    return put(txn, b->l->db_forks, k, sizeof(k), it->leaf.data, it->leaf.len, 0,
               "keep fork evidence", err);
}

/* Writes everything in one transaction; *size_out is the new tree size. */
static enum vt_status phase_c_once(struct batch *b, uint64_t *size_out, struct vt_error *err)
{
    struct ledger *l = b->l;
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->env, NULL, 0, &txn);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "begin the batch transaction");
    uint64_t size = atomic_load(&l->size), start = size;
    enum vt_status st = VT_OK;
    for (size_t i = 0; st == VT_OK && i < b->n; i++) {
        struct item *it = &b->items[i];
        if (it->fork)
            st = write_fork(b, txn, it, err);
        if (it->settled || it->dup_of >= 0 || st != VT_OK)
            continue;
        it->index = size;
        st = write_item(b, txn, it, size, err);
        if (st == VT_OK && it->req->signed_event)
            st = write_provenance(b, txn, it, err);

        struct group *g = &b->groups[it->group];
        g->touched = true;
        g->final_seq = it->ev.seq;
        g->final_index = size;
        memcpy(g->final_leaf, it->leaf_hash, LEDGER_HASH_LEN);
        size++;
    }
    for (size_t gi = 0; st == VT_OK && gi < b->ngroups; gi++) {
        struct group *g = &b->groups[gi];
        if (!g->touched)
            continue;
        uint8_t head[LEDGER_HEAD_LEN];
        ledger_head_pack(head, g->final_seq, g->final_index, g->final_leaf);
        st = put(txn, l->db_heads, g->learner, LEDGER_LEARNER_LEN, head, sizeof(head), 0,
                 "update a learner head", err);
    }
    const struct ledger_prov *prov = b->n ? b->items[0].prov : NULL;
    if (st == VT_OK && size > start && prov && prov->note)
        st = put(txn, l->db_provnotes, prov->note_hash, VT_SHA256_LEN, prov->note, prov->note_len,
                 0, "store a provenance checkpoint", err);
    if (st == VT_OK && size > start)
        st = write_checkpoint(b, txn, size, err);
    if (st != VT_OK) {
        mdb_txn_abort(txn);
        return st;
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "commit the batch");
    *size_out = size;
    return VT_OK;
}

/* The data keys phase A created, made durable before anything is sealed under them is. */
static enum vt_status store_new_keys(struct batch *b, struct vt_error *err)
{
    size_t n = 0;
    for (size_t g = 0; g < b->ngroups; g++)
        n += b->groups[g].dek_created;
    struct ledger_dek_record *recs = vt_malloc((n ? n : 1) * sizeof(*recs));
    n = 0;
    for (size_t g = 0; g < b->ngroups; g++) {
        if (b->groups[g].dek_created)
            recs[n++] = b->groups[g].new_key;
    }
    enum vt_status st = ledger_dek_store(b->l, recs, n, err);
    free(recs);
    if (st == VT_OK)
        b->keys_stored = true;
    return st;
}

static enum vt_status phase_c(struct batch *b, struct vt_error *err)
{
    struct ledger *l = b->l;
    size_t live = live_items(b);
    const uint8_t **leaves = vt_calloc(live ? live : 1, sizeof(*leaves));
    size_t *lens = vt_calloc(live ? live : 1, sizeof(*lens));
    for (size_t i = 0, j = 0; i < b->n; i++) {
        if (!b->items[i].settled && b->items[i].dup_of < 0) {
            leaves[j] = b->items[i].leaf.data;
            lens[j++] = b->items[i].leaf.len;
        }
    }
    /* Without a sequencer the writer's order is the total order, and the LMDB commit that
     * follows makes it durable. */
    enum vt_status st = VT_OK;
    if (l->sequencer.submit && live)
        st = l->sequencer.submit(l->sequencer.ctx, l->seq_batches++, leaves, lens, live, err);
    free(leaves);
    free(lens);
    if (st == VT_OK && !b->keys_stored)
        st = store_new_keys(b, err);
    if (st != VT_OK)
        return st;
    uint64_t size;
    for (;;) {
        for (size_t gi = 0; gi < b->ngroups; gi++)
            b->groups[gi].touched = false;
        st = phase_c_once(b, &size, err);
        if (st != VT_ERR_FULL)
            break;
        if ((st = ledger_grow_map(l, l->env, &l->map_size, err)) != VT_OK)
            break;
    }
    if (st != VT_OK)
        return st;
    atomic_store(&l->size, size);
    return VT_OK;
}

/* ---- the batch and the thread --------------------------------------------------------- */

static void settle_results(struct batch *b, enum vt_status batch_st,
                           const struct vt_error *batch_err)
{
    for (size_t i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        if (it->settled)
            continue;
        if (batch_st != VT_OK) {
            fail(it, batch_st, batch_err);
            continue;
        }
        if (it->dup_of >= 0)
            continue;
        it->res->status = VT_OK;
        it->res->index = it->index;
        it->res->seq = it->ev.seq;
        memcpy(it->res->leaf_hash, it->leaf_hash, LEDGER_HASH_LEN);
    }
    for (size_t i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        if (it->settled || it->dup_of < 0 || batch_st != VT_OK)
            continue;
        *it->res = *b->items[it->dup_of].res;
        it->res->duplicate = true;
    }
}

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n)
        c *= 2;
    return c;
}

static struct batch *batch_new(struct ledger *l, struct ledger_job *jobs, size_t n, bool presigned,
                               bool erasure_first)
{
    struct batch *b = vt_calloc(1, sizeof(*b));
    b->l = l;
    b->jobs = jobs;
    b->n = n;
    b->presigned = presigned;
    b->erasure_first = erasure_first;
    b->items = vt_calloc(n, sizeof(*b->items));
    b->groups = vt_calloc(n, sizeof(*b->groups));
    b->tab_cap = pow2_at_least(2 * n);
    b->gtab = vt_calloc(b->tab_cap, sizeof(long));
    b->idtab = vt_calloc(b->tab_cap, sizeof(long));
    size_t k = 0;
    for (struct ledger_job *j = jobs; j; j = j->next) {
        for (size_t i = 0; i < j->n; i++, k++) {
            b->items[k].req = &j->reqs[i];
            b->items[k].res = &j->res[i];
            b->items[k].erasure = erasure_first && k == 0;
            b->items[k].prov = j->prov;
            b->items[k].preverified = j->preverified;
            vt_buf_init(&b->items[k].record, VT_BUF_DEFAULT_MAX);
            vt_buf_init(&b->items[k].leaf, LEDGER_LEAF_MAX);
        }
    }
    return b;
}

/*
 * Ends a batch on the writer thread, which owns the data-key cache: the keys the batch
 * stored join the cache now, not before, so that no later batch seals under a key that
 * its commit might have lost.
 */
static void batch_retire(struct batch *b)
{
    if (!b)
        return;
    for (size_t g = 0; b->keys_stored && g < b->ngroups; g++) {
        if (b->groups[g].dek_created)
            ledger_dek_cache_put(b->l, b->groups[g].learner, b->groups[g].dek);
    }
    for (size_t i = 0; i < b->n; i++) {
        vt_buf_release_secret(&b->items[i].record);
        vt_buf_release(&b->items[i].leaf);
        sodium_memzero(b->items[i].salt, sizeof(b->items[i].salt));
    }
    for (size_t g = 0; g < b->ngroups; g++)
        sodium_memzero(b->groups[g].dek, sizeof(b->groups[g].dek));
    if (b->rnd) {
        sodium_memzero(b->rnd, b->n * (LEDGER_SALT_LEN + LEDGER_NONCE_LEN));
        free(b->rnd);
    }
    if (b->krnd) {
        sodium_memzero(b->krnd, KEY_DRAW * LEDGER_DEK_RANDOM_LEN);
        free(b->krnd);
    }
    free(b->items);
    free(b->groups);
    free(b->gtab);
    free(b->idtab);
    free(b);
}

/* Phases A and B against the committed state plus overlay (NULL: none). VT_ERR_BUSY when an
 * event id needs the overlay's commit first. */
static enum vt_status batch_prepare(struct batch *b, const struct batch *overlay,
                                    struct vt_error *err)
{
    struct ledger *l = b->l;
    b->overlay = overlay;
    if (b->rnd) {
        /* A batch prepared again must not reuse a nonce under a data key. */
        sodium_memzero(b->rnd, b->n * (LEDGER_SALT_LEN + LEDGER_NONCE_LEN));
        free(b->rnd);
        b->rnd = NULL;
    }
    MDB_txn *txn;
    enum vt_status st = ledger_read_begin(l, &txn, err);
    if (st == VT_OK) {
        st = phase_a(b, txn, b->presigned, err);
        if (b->ktxn) {
            mdb_txn_abort(b->ktxn);
            b->ktxn = NULL;
        }
        ledger_read_end(l, txn);
    }
    /*
     * Where the batch's new data keys are stored decides what their sync delays. A small
     * batch is bound by commit latency: its keys are stored here, while the committer is
     * likely still committing the batch before, so that the two environments sync in
     * parallel. A large batch is bound by signing: the committer stores its keys before its
     * commit, so that the sync does not hold up the signing here. (Outside a read
     * transaction: storing may have to grow the keys map.)
     */
    if (st == VT_OK && live_items(b) < KEYS_INLINE_MAX)
        st = store_new_keys(b, err);
    b->overlay = NULL;
    if (st == VT_OK && !b->presigned)
        phase_b(b);
    return st;
}

/* Phase C and the results; the callers are not woken yet. */
static void batch_commit(struct batch *b)
{
    vt_error_clear(&b->error);
    b->status = phase_c(b, &b->error);
    settle_results(b, b->status, &b->error);
}

/* One batch from start to finish on the calling thread (nothing may be in flight). */
static void run_append(struct ledger *l, struct ledger_job *jobs, size_t n, bool presigned,
                       bool erasure_first)
{
    struct batch *b = batch_new(l, jobs, n, presigned, erasure_first);
    struct vt_error err;
    vt_error_clear(&err);
    enum vt_status st = batch_prepare(b, NULL, &err);
    if (st == VT_OK)
        batch_commit(b);
    else
        settle_results(b, st, &err);
    batch_retire(b);
}

static void run_erase(struct ledger *l, struct ledger_job *job)
{
    struct vt_error *err = &job->error;
    MDB_txn *txn;
    enum vt_status st = ledger_read_begin(l, &txn, err);
    if (st != VT_OK) {
        job->status = st;
        return;
    }
    MDB_val key = {LEDGER_LEARNER_LEN, job->learner}, val;
    int rc = mdb_get(txn, l->db_heads, &key, &val);
    ledger_read_end(l, txn);
    if (rc == MDB_NOTFOUND) {
        job->status = vt_error_set(err, VT_ERR_NOT_FOUND, "learner has no events to erase");
        return;
    }
    if (rc != 0) {
        job->status = ledger_mdb_error(rc, err, "read a learner head");
        return;
    }
    uint8_t dek[LEDGER_DEK_LEN];
    bool erased = false, found;
    MDB_txn *ktxn;
    rc = mdb_txn_begin(l->kenv, NULL, MDB_RDONLY, &ktxn);
    if (rc != 0) {
        job->status = ledger_mdb_error(rc, err, "begin a key transaction");
        return;
    }
    st = ledger_dek_get(l, ktxn, job->learner, dek, &erased, &found, err);
    mdb_txn_abort(ktxn);
    sodium_memzero(dek, sizeof(dek));
    if (st != VT_OK) {
        job->status = st;
        return;
    }
    if (erased) {
        job->status = vt_error_set(err, VT_ERR_CONFLICT, "learner is already erased");
        return;
    }
    if ((st = ledger_dek_destroy(l, job->learner, err)) != VT_OK) {
        job->status = st;
        return;
    }
    job->next = NULL;
    run_append(l, job, 1, false, true);
    job->status = job->res[0].status;
    if (job->status != VT_OK)
        *err = job->res[0].error;
}

static void finish(struct ledger *l, struct ledger_job *jobs)
{
    pthread_mutex_lock(&l->mu);
    for (struct ledger_job *j = jobs, *next; j; j = next) {
        next = j->next;
        j->done = true;
        pthread_cond_signal(&j->cv);
    }
    pthread_mutex_unlock(&l->mu);
}

static void deadline_after(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Takes the next batch off the queue (mu held): a run of ordinary append jobs up to
 * batch_max events, or one job of another kind alone. */
static struct ledger_job *take_batch(struct ledger *l, size_t *events)
{
    struct ledger_job *first = l->q_head, *last = first;
    size_t n = first->n;
    if (first->kind == LEDGER_JOB_APPEND && !first->presigned) {
        while (last->next && last->next->kind == LEDGER_JOB_APPEND && !last->next->presigned &&
               n + last->next->n <= l->batch_max) {
            last = last->next;
            n += last->n;
        }
    }
    l->q_head = last->next;
    if (!l->q_head)
        l->q_tail = NULL;
    last->next = NULL;
    l->q_events -= n;
    *events = n;
    return first;
}

/* ---- the pipeline ----------------------------------------------------------------------
 *
 * While the committer thread writes and fsyncs batch k, the writer prepares and signs batch
 * k+1 on top of k's heads (the overlay). At most one batch is in flight; the writer frees
 * it when it hands over the next one or drains. Each batch's callers are woken by the
 * committer right after its own commit.
 */

static void *committer_main(void *arg)
{
    struct ledger *l = arg;
    pthread_mutex_lock(&l->cmu);
    for (;;) {
        while (!l->commit_busy && !l->commit_stop)
            pthread_cond_wait(&l->cv_commit, &l->cmu);
        if (!l->commit_busy)
            break;
        struct batch *b = l->inflight;
        pthread_mutex_unlock(&l->cmu);
        batch_commit(b);
        finish(l, b->jobs);
        pthread_mutex_lock(&l->cmu);
        l->commit_busy = false;
        pthread_cond_broadcast(&l->cv_commit);
    }
    pthread_mutex_unlock(&l->cmu);
    return NULL;
}

/* Waits for the batch in flight and returns it (NULL: none); the caller frees it. */
static struct batch *pipeline_wait(struct ledger *l)
{
    pthread_mutex_lock(&l->cmu);
    while (l->commit_busy)
        pthread_cond_wait(&l->cv_commit, &l->cmu);
    struct batch *b = l->inflight;
    l->inflight = NULL;
    pthread_mutex_unlock(&l->cmu);
    return b;
}

static void pipeline_drain(struct ledger *l)
{
    batch_retire(pipeline_wait(l));
}

static void pipeline_append(struct ledger *l, struct ledger_job *jobs, size_t n)
{
    struct batch *b = batch_new(l, jobs, n, false, false);
    struct vt_error err;
    vt_error_clear(&err);
    /* l->inflight is only ever changed by this thread, so reading it here is safe. */
    enum vt_status st = batch_prepare(b, l->inflight, &err);
    if (st == VT_ERR_BUSY) {
        pipeline_drain(l);
        st = batch_prepare(b, NULL, &err);
    }
    struct batch *prev = pipeline_wait(l);
    /* Built on a batch that did not commit: its heads never came to be. */
    if (prev && prev->status != VT_OK && b->used_overlay && st == VT_OK) {
        batch_retire(prev);
        prev = NULL;
        st = batch_prepare(b, NULL, &err);
    }
    batch_retire(prev);
    if (st != VT_OK) {
        settle_results(b, st, &err);
        finish(l, b->jobs);
        batch_retire(b);
        return;
    }
    pthread_mutex_lock(&l->cmu);
    l->inflight = b;
    l->commit_busy = true;
    pthread_cond_broadcast(&l->cv_commit);
    pthread_mutex_unlock(&l->cmu);
}

static void *writer_main(void *arg)
{
    struct ledger *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->q_head && !l->closing)
            pthread_cond_wait(&l->cv_work, &l->mu);
        if (!l->q_head)
            break;
        if (l->batch_ms && l->q_events < l->batch_max && !l->closing) {
            struct timespec ts;
            deadline_after(&ts, l->batch_ms);
            while (l->q_events < l->batch_max && !l->closing) {
                if (pthread_cond_timedwait(&l->cv_work, &l->mu, &ts) == ETIMEDOUT)
                    break;
            }
        }
        size_t events;
        struct ledger_job *jobs = take_batch(l, &events);
        pthread_mutex_unlock(&l->mu);
        if (jobs->kind == LEDGER_JOB_APPEND && !jobs->presigned) {
            pipeline_append(l, jobs, events);
        } else {
            pipeline_drain(l);
            switch (jobs->kind) {
            case LEDGER_JOB_APPEND:
                run_append(l, jobs, events, true, false);
                break;
            case LEDGER_JOB_ERASE:
                run_erase(l, jobs);
                break;
            case LEDGER_JOB_ROTATE:
                jobs->status = ledger_kek_rotate_writer(l, jobs->new_kek, &jobs->error);
                break;
            }
            finish(l, jobs);
        }
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    pipeline_drain(l);
    return NULL;
}

enum vt_status ledger_writer_start(struct ledger *l, struct vt_error *err)
{
    pthread_once(&tab_once, tab_init);
    l->signers = ledger_signers_new(l->sign_threads);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_destroy(&l->cv_work);
    pthread_cond_init(&l->cv_work, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&l->cmu, NULL);
    pthread_cond_init(&l->cv_commit, NULL);
    l->pipeline_init = true;
    if (pthread_create(&l->committer, NULL, committer_main, l) != 0)
        return vt_error_set(err, VT_ERR_INTERNAL, "cannot start the ledger committer: %s",
                            strerror(errno));
    l->committer_started = true;
    if (pthread_create(&l->writer, NULL, writer_main, l) != 0)
        return vt_error_set(err, VT_ERR_INTERNAL, "cannot start the ledger writer: %s",
                            strerror(errno));
    l->writer_started = true;
    return VT_OK;
}

void ledger_writer_stop(struct ledger *l)
{
    if (l->writer_started) {
        pthread_mutex_lock(&l->mu);
        l->closing = true;
        pthread_cond_broadcast(&l->cv_work);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->writer, NULL);
        l->writer_started = false;
    }
    if (l->committer_started) {
        pthread_mutex_lock(&l->cmu);
        l->commit_stop = true;
        pthread_cond_broadcast(&l->cv_commit);
        pthread_mutex_unlock(&l->cmu);
        pthread_join(l->committer, NULL);
        l->committer_started = false;
    }
    if (l->pipeline_init) {
        pthread_cond_destroy(&l->cv_commit);
        pthread_mutex_destroy(&l->cmu);
        l->pipeline_init = false;
    }
    ledger_signers_free(l->signers);
    l->signers = NULL;
}

enum vt_status ledger_submit(struct ledger *l, struct ledger_job *job)
{
    pthread_cond_init(&job->cv, NULL);
    job->done = false;
    job->next = NULL;
    job->status = VT_OK;
    vt_error_clear(&job->error);
    pthread_mutex_lock(&l->mu);
    if (l->closing) {
        pthread_mutex_unlock(&l->mu);
        pthread_cond_destroy(&job->cv);
        return vt_error_set(&job->error, VT_ERR_BUSY, "the ledger is closing");
    }
    if (l->q_tail)
        l->q_tail->next = job;
    else
        l->q_head = job;
    l->q_tail = job;
    l->q_events += job->n;
    pthread_cond_signal(&l->cv_work);
    while (!job->done)
        pthread_cond_wait(&job->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    pthread_cond_destroy(&job->cv);
    return job->status;
}

/* ---- public entry points -------------------------------------------------------------- */

enum vt_status ledger_append_batch(struct ledger *l, const struct ledger_append_req *reqs, size_t n,
                                   struct ledger_append_result *res, struct vt_error *err)
{
    if (!reqs || !res || n == 0 || n > 65536)
        return vt_error_set(err, VT_ERR_INVALID, "append batch must hold 1..65536 requests");
    bool presigned = reqs[0].signed_event != NULL;
    for (size_t i = 0; i < n; i++) {
        if ((reqs[i].signed_event != NULL) != presigned)
            return vt_error_set(err, VT_ERR_INVALID,
                                "append batch mixes pre-signed and ordinary events");
        memset(&res[i], 0, sizeof(res[i]));
    }
    struct ledger_job job;
    memset(&job, 0, sizeof(job));
    job.kind = LEDGER_JOB_APPEND;
    job.reqs = reqs;
    job.n = n;
    job.res = res;
    job.presigned = presigned;
    enum vt_status st = ledger_submit(l, &job);
    if (st != VT_OK) {
        if (err)
            *err = job.error;
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        if (res[i].status != VT_OK) {
            if (err)
                *err = res[i].error;
            return res[i].status;
        }
    }
    return VT_OK;
}

enum vt_status ledger_append(struct ledger *l, const struct ledger_append_req *req,
                             struct ledger_append_result *res, struct vt_error *err)
{
    struct ledger_append_result local;
    return ledger_append_batch(l, req, 1, res ? res : &local, err);
}

enum vt_status ledger_erase(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                            struct ledger_append_result *res, struct vt_error *err)
{
    struct ledger_append_req req;
    memset(&req, 0, sizeof(req));
    memcpy(req.learner, learner, LEDGER_LEARNER_LEN);
    req.type = "erasure";
    struct ledger_append_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof(*res));
    struct ledger_job job;
    memset(&job, 0, sizeof(job));
    job.kind = LEDGER_JOB_ERASE;
    job.reqs = &req;
    job.n = 1;
    job.res = res;
    memcpy(job.learner, learner, LEDGER_LEARNER_LEN);
    enum vt_status st = ledger_submit(l, &job);
    if (st != VT_OK && err)
        *err = job.error;
    return st;
}

enum vt_status ledger_kek_rotate(struct ledger *l, const uint8_t *new_kek, struct vt_error *err)
{
    struct ledger_job job;
    memset(&job, 0, sizeof(job));
    job.kind = LEDGER_JOB_ROTATE;
    job.new_kek = new_kek;
    enum vt_status st = ledger_submit(l, &job);
    if (st != VT_OK && err)
        *err = job.error;
    return st;
}
