/* The LMDB store: open/close, read paths, map growth (specs/ledger.md §5). */
#include "ledger/ledger_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#define DEFAULT_ORIGIN "vitae.local/ledger"
#define DEFAULT_MAP_SIZE ((size_t)256 << 20)
#define MAX_READERS 512

void ledger_options_init(struct ledger_options *o)
{
    memset(o, 0, sizeof(*o));
    o->batch_max = 1024;
    o->batch_ms = 1;
    o->payload_max = LEDGER_PAYLOAD_DEFAULT_MAX;
    o->map_size = DEFAULT_MAP_SIZE;
    o->origin = DEFAULT_ORIGIN;
    o->sign_threads = 2;
    o->bundle_max = LEDGER_BUNDLE_DEFAULT_MAX;
}

enum vt_status ledger_mdb_error(int rc, struct vt_error *err, const char *what)
{
    enum vt_status st;
    switch (rc) {
    case MDB_NOTFOUND:
        st = VT_ERR_NOT_FOUND;
        break;
    case MDB_KEYEXIST:
        st = VT_ERR_EXISTS;
        break;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
    case ENOSPC:
        st = VT_ERR_FULL;
        break;
    case MDB_READERS_FULL:
        st = VT_ERR_BUSY;
        break;
    case EACCES:
    case EPERM:
        st = VT_ERR_PERMISSION;
        break;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_VERSION_MISMATCH:
    case MDB_INVALID:
        st = VT_ERR_INVALID;
        break;
    default:
        st = VT_ERR_IO;
        break;
    }
    return vt_error_set(err, st, "cannot %s: %s", what, mdb_strerror(rc));
}

enum vt_status ledger_read_begin(struct ledger *l, MDB_txn **txn, struct vt_error *err)
{
    pthread_rwlock_rdlock(&l->txn_lock);
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, txn);
    if (rc != 0) {
        pthread_rwlock_unlock(&l->txn_lock);
        return ledger_mdb_error(rc, err, "begin read transaction");
    }
    return VT_OK;
}

void ledger_read_end(struct ledger *l, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&l->txn_lock);
}

enum vt_status ledger_grow_map(struct ledger *l, MDB_env *env, size_t *size, struct vt_error *err)
{
    size_t next;
    if (!vt_size_mul(*size, 2, &next))
        return vt_error_set(err, VT_ERR_FULL, "ledger map size cannot grow past %zu", *size);
    pthread_rwlock_wrlock(&l->txn_lock);
    int rc = mdb_env_set_mapsize(env, next);
    pthread_rwlock_unlock(&l->txn_lock);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "grow the ledger map");
    *size = next;
    return VT_OK;
}

static enum vt_status txn_read_hashes(void *ctx, const uint64_t *indexes, size_t count,
                                      uint8_t (*hashes)[LEDGER_HASH_LEN], struct vt_error *err)
{
    struct ledger_txn_reader *tr = ctx;
    for (size_t i = 0; i < count; i++) {
        uint8_t k[8];
        vt_be64_put(k, indexes[i]);
        MDB_val key = {sizeof(k), k}, val;
        int rc = mdb_get(tr->txn, tr->dbi, &key, &val);
        if (rc == MDB_NOTFOUND)
            return vt_error_set(err, VT_ERR_NOT_FOUND, "stored hash %llu is missing",
                                (unsigned long long)indexes[i]);
        if (rc != 0)
            return ledger_mdb_error(rc, err, "read a stored hash");
        if (val.mv_size != LEDGER_HASH_LEN)
            return vt_error_set(err, VT_ERR_INVALID, "stored hash %llu has %zu bytes",
                                (unsigned long long)indexes[i], val.mv_size);
        memcpy(hashes[i], val.mv_data, LEDGER_HASH_LEN);
    }
    return VT_OK;
}

void ledger_txn_reader_init(struct ledger_txn_reader *tr, MDB_txn *txn, MDB_dbi dbi)
{
    tr->r.read = txn_read_hashes;
    tr->r.ctx = tr;
    tr->txn = txn;
    tr->dbi = dbi;
}

enum vt_status ledger_get_leaf(struct ledger *l, MDB_txn *txn, uint64_t index, MDB_val *leaf,
                               struct vt_error *err)
{
    uint8_t k[8];
    vt_be64_put(k, index);
    MDB_val key = {sizeof(k), k};
    int rc = mdb_get(txn, l->db_events, &key, leaf);
    if (rc == MDB_NOTFOUND)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "no event at index %llu",
                            (unsigned long long)index);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "read an event");
    return VT_OK;
}

/* True (with *cp filled) when note is the one verified last. */
static bool checkpoint_cached(struct ledger *l, const MDB_val *note, struct ledger_checkpoint *cp)
{
    pthread_mutex_lock(&l->cp_mu);
    bool hit = l->cp_note_len != 0 && note->mv_size == l->cp_note_len &&
               memcmp(note->mv_data, l->cp_note, l->cp_note_len) == 0;
    if (hit)
        *cp = l->cp_body;
    pthread_mutex_unlock(&l->cp_mu);
    return hit;
}

void ledger_checkpoint_remember(struct ledger *l, const MDB_val *note,
                                const struct ledger_checkpoint *cp)
{
    if (note->mv_size > LEDGER_CP_CACHE_MAX)
        return;
    pthread_mutex_lock(&l->cp_mu);
    memcpy(l->cp_note, note->mv_data, note->mv_size);
    l->cp_note_len = note->mv_size;
    l->cp_body = *cp;
    pthread_mutex_unlock(&l->cp_mu);
}

enum vt_status ledger_latest_checkpoint_txn(struct ledger *l, MDB_txn *txn, bool reverify,
                                            struct vt_buf *note_out, struct ledger_checkpoint *cp,
                                            struct vt_error *err)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, l->db_checkpoints, &c);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "open the checkpoints");
    MDB_val key, val;
    rc = mdb_cursor_get(c, &key, &val, MDB_LAST);
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "the log has no checkpoint yet");
    if (rc != 0)
        return ledger_mdb_error(rc, err, "read the newest checkpoint");
    struct ledger_checkpoint tmp;
    if (!cp)
        cp = &tmp;
    /* Every proof and tile request names the newest checkpoint; verifying its signature
     * each time cost as much as the request. The handle's key and origin never change, so
     * the same bytes verify the same way. */
    if (reverify || !checkpoint_cached(l, &val, cp)) {
        size_t text_len;
        enum vt_status st =
            ledger_note_verify(val.mv_data, val.mv_size, l->origin, l->key.pk, &text_len, err);
        if (st != VT_OK)
            return vt_error_prefix(err, st, "newest checkpoint");
        st = ledger_checkpoint_parse(val.mv_data, text_len, cp, err);
        if (st != VT_OK)
            return vt_error_prefix(err, st, "newest checkpoint");
        ledger_checkpoint_remember(l, &val, cp);
    }
    if (note_out)
        return vt_buf_append(note_out, val.mv_data, val.mv_size, err);
    return VT_OK;
}

static enum vt_status make_dir(const char *path, struct vt_error *err)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return vt_error_set(err, errno == EACCES ? VT_ERR_PERMISSION : VT_ERR_IO,
                            "cannot create '%s': %s", path, strerror(errno));
    return VT_OK;
}

static enum vt_status open_db(MDB_txn *txn, const char *name, MDB_dbi *dbi, struct vt_error *err)
{
    int rc = mdb_dbi_open(txn, name, MDB_CREATE, dbi);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "open the ledger database");
    return VT_OK;
}

/* The first open records origin and key; later opens must agree (specs/ledger.md §5.1). */
static enum vt_status check_meta(struct ledger *l, MDB_txn *txn, struct vt_error *err)
{
    struct {
        const char *name;
        const void *value;
        size_t len;
    } items[] = {
        {"format", "vitae-ledger-1", 14},
        {"origin", l->origin, strlen(l->origin)},
        {"pk", l->key.pk, VT_ED25519_PK_LEN},
    };
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        MDB_val key = {strlen(items[i].name), (void *)items[i].name}, val;
        int rc = mdb_get(txn, l->db_meta, &key, &val);
        if (rc == MDB_NOTFOUND) {
            val.mv_size = items[i].len;
            val.mv_data = (void *)items[i].value;
            rc = mdb_put(txn, l->db_meta, &key, &val, 0);
            if (rc != 0)
                return ledger_mdb_error(rc, err, "record the ledger metadata");
            continue;
        }
        if (rc != 0)
            return ledger_mdb_error(rc, err, "read the ledger metadata");
        if (val.mv_size != items[i].len || memcmp(val.mv_data, items[i].value, val.mv_size))
            return vt_error_set(err, VT_ERR_CONFLICT,
                                "cannot open ledger '%s': its %s differs from the options", l->dir,
                                items[i].name);
    }
    return VT_OK;
}

static enum vt_status open_env(struct ledger *l, struct vt_error *err)
{
    int rc = mdb_env_create(&l->env);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "create the ledger environment");
    mdb_env_set_maxdbs(l->env, 16);
    mdb_env_set_maxreaders(l->env, MAX_READERS);
    mdb_env_set_mapsize(l->env, l->map_size);
    rc = mdb_env_open(l->env, l->dir, MDB_NOTLS, 0600);
    if (rc != 0) {
        enum vt_status st = ledger_mdb_error(rc, err, "open ledger");
        vt_error_prefix(err, st, "'%s'", l->dir);
        return st;
    }
    /* A larger map recorded by an earlier run wins over the option. */
    MDB_envinfo info;
    mdb_env_info(l->env, &info);
    if (info.me_mapsize > l->map_size)
        l->map_size = info.me_mapsize;
    int dead;
    mdb_reader_check(l->env, &dead);

    MDB_txn *txn;
    rc = mdb_txn_begin(l->env, NULL, 0, &txn);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "begin the opening transaction");
    enum vt_status st = VT_OK;
    struct {
        const char *name;
        MDB_dbi *dbi;
    } dbs[] = {
        {"events", &l->db_events},
        {"hashes", &l->db_hashes},
        {"heads", &l->db_heads},
        {"lseq", &l->db_lseq},
        {"payloads", &l->db_payloads},
        {"ids", &l->db_ids},
        {"checkpoints", &l->db_checkpoints},
        {"meta", &l->db_meta},
        {"forks", &l->db_forks},
        {"provenance", &l->db_prov},
        {"provnotes", &l->db_provnotes},
    };
    for (size_t i = 0; st == VT_OK && i < sizeof(dbs) / sizeof(dbs[0]); i++)
        st = open_db(txn, dbs[i].name, dbs[i].dbi, err);
    if (st == VT_OK)
        st = check_meta(l, txn, err);
    MDB_stat ms;
    if (st == VT_OK && (rc = mdb_stat(txn, l->db_events, &ms)) != 0)
        st = ledger_mdb_error(rc, err, "count the events");
    if (st != VT_OK) {
        mdb_txn_abort(txn);
        return st;
    }
    atomic_store(&l->size, (uint64_t)ms.ms_entries);
    rc = mdb_txn_commit(txn);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "commit the opening transaction");
    return VT_OK;
}

static enum vt_status options_check(const struct ledger_options *o, struct vt_error *err)
{
    if (!o->key || !o->key->has_secret)
        return vt_error_set(err, VT_ERR_INVALID, "ledger options need a service signing key");
    if (o->batch_max == 0 || o->batch_max > 65536)
        return vt_error_set(err, VT_ERR_INVALID, "ledger batch size %zu not in 1..65536",
                            o->batch_max);
    if (o->batch_ms > 10000)
        return vt_error_set(err, VT_ERR_INVALID, "ledger batch time %u ms over 10 s", o->batch_ms);
    if (o->payload_max > VT_BUF_DEFAULT_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "ledger payload cap %zu over 16 MiB",
                            o->payload_max);
    if (o->map_size < ((size_t)1 << 20))
        return vt_error_set(err, VT_ERR_INVALID, "ledger map size %zu under 1 MiB", o->map_size);
    if (o->sign_threads == 0 || o->sign_threads > 8)
        return vt_error_set(err, VT_ERR_INVALID, "ledger sign threads %u not in 1..8",
                            o->sign_threads);
    if (o->bundle_max < ((size_t)1 << 10) || o->bundle_max > ((size_t)1 << 30))
        return vt_error_set(err, VT_ERR_INVALID, "ledger bundle cap %zu not in 1 KiB..1 GiB",
                            o->bundle_max);
    if (o->sequencer && !o->sequencer->submit)
        return vt_error_set(err, VT_ERR_INVALID, "ledger sequencer has no submit function");
    const char *org = o->origin ? o->origin : DEFAULT_ORIGIN;
    size_t n = strlen(org);
    if (n == 0 || n >= LEDGER_NOTE_NAME_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "ledger origin length %zu invalid", n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)org[i];
        if (c <= 0x20 || c >= 0x7f || c == '+')
            return vt_error_set(err, VT_ERR_INVALID, "ledger origin '%s' has a bad character", org);
    }
    return VT_OK;
}

enum vt_status ledger_open(const char *dir, const struct ledger_options *opt, struct ledger **out,
                           struct vt_error *err)
{
    *out = NULL;
    enum vt_status st = vt_core_init(err);
    if (st != VT_OK)
        return st;
    struct ledger_options defaults;
    if (!opt) {
        ledger_options_init(&defaults);
        opt = &defaults;
    }
    if ((st = options_check(opt, err)) != VT_OK)
        return st;
    if ((st = make_dir(dir, err)) != VT_OK)
        return st;

    struct ledger *l = vt_calloc(1, sizeof(*l));
    l->dir = vt_strdup(dir);
    l->key = *opt->key;
    snprintf(l->origin, sizeof(l->origin), "%s", opt->origin ? opt->origin : DEFAULT_ORIGIN);
    l->batch_max = opt->batch_max;
    l->batch_ms = opt->batch_ms;
    l->payload_max = opt->payload_max;
    l->map_size = opt->map_size;
    l->sign_threads = opt->sign_threads;
    l->bundle_max = opt->bundle_max;
    if (opt->sequencer)
        l->sequencer = *opt->sequencer;
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    /* A resize must not starve behind a steady stream of readers. */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&l->txn_lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_rwlock_init(&l->kek_lock, NULL);
    pthread_mutex_init(&l->mu, NULL);
    pthread_mutex_init(&l->cp_mu, NULL);
    pthread_cond_init(&l->cv_work, NULL);

    st = open_env(l, err);
    if (st == VT_OK)
        st = ledger_keys_open(l, opt->kek, err);
    if (st == VT_OK)
        st = ledger_writer_start(l, err);
    if (st != VT_OK) {
        ledger_close(l);
        return st;
    }
    *out = l;
    return VT_OK;
}

void ledger_close(struct ledger *l)
{
    if (!l)
        return;
    ledger_writer_stop(l);
    ledger_keys_close(l);
    if (l->env)
        mdb_env_close(l->env);
    pthread_cond_destroy(&l->cv_work);
    pthread_mutex_destroy(&l->mu);
    pthread_mutex_destroy(&l->cp_mu);
    pthread_rwlock_destroy(&l->kek_lock);
    pthread_rwlock_destroy(&l->txn_lock);
    vt_key_release(&l->key);
    sodium_memzero(l->kek, sizeof(l->kek));
    free(l->dir);
    free(l);
}

uint64_t ledger_size(struct ledger *l)
{
    return atomic_load(&l->size);
}

const uint8_t *ledger_public_key(const struct ledger *l)
{
    return l->key.pk;
}

const char *ledger_origin(const struct ledger *l)
{
    return l->origin;
}

enum vt_status ledger_event_read(struct ledger *l, uint64_t index, struct vt_buf *out,
                                 struct vt_error *err)
{
    MDB_txn *txn;
    enum vt_status st = ledger_read_begin(l, &txn, err);
    if (st != VT_OK)
        return st;
    MDB_val leaf;
    st = ledger_get_leaf(l, txn, index, &leaf, err);
    if (st == VT_OK)
        st = vt_buf_append(out, leaf.mv_data, leaf.mv_size, err);
    ledger_read_end(l, txn);
    return st;
}

enum vt_status ledger_event_index(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                                  uint64_t seq, uint64_t *index, struct vt_error *err)
{
    MDB_txn *txn;
    enum vt_status st = ledger_read_begin(l, &txn, err);
    if (st != VT_OK)
        return st;
    uint8_t k[LEDGER_LEARNER_LEN + 8];
    memcpy(k, learner, LEDGER_LEARNER_LEN);
    vt_be64_put(k + LEDGER_LEARNER_LEN, seq);
    MDB_val key = {sizeof(k), k}, val;
    int rc = mdb_get(txn, l->db_lseq, &key, &val);
    if (rc == MDB_NOTFOUND)
        st = vt_error_set(err, VT_ERR_NOT_FOUND, "learner has no event %llu",
                          (unsigned long long)seq);
    else if (rc != 0)
        st = ledger_mdb_error(rc, err, "read the learner index");
    else if (val.mv_size != 8)
        st = vt_error_set(err, VT_ERR_INVALID, "learner index entry has %zu bytes", val.mv_size);
    else
        *index = vt_be64_get(val.mv_data);
    ledger_read_end(l, txn);
    return st;
}

enum vt_status ledger_head(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                           uint64_t *seq, uint64_t *index, uint8_t leaf_hash[LEDGER_HASH_LEN],
                           struct vt_error *err)
{
    MDB_txn *txn;
    enum vt_status st = ledger_read_begin(l, &txn, err);
    if (st != VT_OK)
        return st;
    MDB_val key = {LEDGER_LEARNER_LEN, (void *)learner}, val;
    int rc = mdb_get(txn, l->db_heads, &key, &val);
    if (rc == MDB_NOTFOUND) {
        st = vt_error_set(err, VT_ERR_NOT_FOUND, "learner has no events");
    } else if (rc != 0) {
        st = ledger_mdb_error(rc, err, "read a learner head");
    } else if (val.mv_size != LEDGER_HEAD_LEN) {
        st = vt_error_set(err, VT_ERR_INVALID, "learner head has %zu bytes", val.mv_size);
    } else {
        const uint8_t *p = val.mv_data;
        if (seq)
            *seq = vt_be64_get(p);
        if (index)
            *index = vt_be64_get(p + 8);
        if (leaf_hash)
            memcpy(leaf_hash, p + 16, LEDGER_HASH_LEN);
    }
    ledger_read_end(l, txn);
    return st;
}

enum vt_status ledger_id_lookup(struct ledger *l, const uint8_t *id, size_t len,
                                struct ledger_append_result *res, struct vt_error *err)
{
    if (!id || len == 0 || len > LEDGER_EVENT_ID_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "event id must have 1..%d bytes",
                            LEDGER_EVENT_ID_MAX);
    MDB_txn *txn;
    enum vt_status st = ledger_read_begin(l, &txn, err);
    if (st != VT_OK)
        return st;
    MDB_val key = {len, (void *)id}, val, leaf;
    int rc = mdb_get(txn, l->db_ids, &key, &val);
    if (rc == MDB_NOTFOUND) {
        st = vt_error_set(err, VT_ERR_NOT_FOUND, "no event with that id");
    } else if (rc != 0) {
        st = ledger_mdb_error(rc, err, "read the event ids");
    } else if (val.mv_size != 8) {
        st = vt_error_set(err, VT_ERR_INVALID, "event id entry has %zu bytes", val.mv_size);
    } else {
        memset(res, 0, sizeof(*res));
        res->index = vt_be64_get(val.mv_data);
        res->duplicate = true;
        st = ledger_get_leaf(l, txn, res->index, &leaf, err);
        struct ledger_event ev;
        size_t off, elen;
        const uint8_t *sig;
        if (st == VT_OK)
            st = ledger_leaf_split(leaf.mv_data, leaf.mv_size, &off, &elen, &sig, err);
        if (st == VT_OK)
            st = ledger_event_decode((const uint8_t *)leaf.mv_data + off, elen, &ev, err);
        if (st == VT_OK) {
            res->seq = ev.seq;
            ledger_leaf_hash(leaf.mv_data, leaf.mv_size, res->leaf_hash);
        }
    }
    ledger_read_end(l, txn);
    return st;
}

enum vt_status ledger_checkpoint_latest(struct ledger *l, struct vt_buf *note_out,
                                        struct ledger_checkpoint *cp, struct vt_error *err)
{
    MDB_txn *txn;
    enum vt_status st = ledger_read_begin(l, &txn, err);
    if (st != VT_OK)
        return st;
    st = ledger_latest_checkpoint_txn(l, txn, false, note_out, cp, err);
    ledger_read_end(l, txn);
    return st;
}

/* Tree sizes a proof may name: only sizes that a checkpoint was signed for or below. */
static enum vt_status resolve_size(struct ledger *l, MDB_txn *txn, uint64_t *size,
                                   struct vt_error *err)
{
    struct ledger_checkpoint cp;
    enum vt_status st = ledger_latest_checkpoint_txn(l, txn, false, NULL, &cp, err);
    if (st != VT_OK)
        return st;
    if (*size == 0)
        *size = cp.size;
    if (*size > cp.size)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "tree size %llu beyond the log's %llu",
                            (unsigned long long)*size, (unsigned long long)cp.size);
    return VT_OK;
}

enum vt_status ledger_inclusion_proof(struct ledger *l, uint64_t index, uint64_t size,
                                      uint8_t (*proof)[LEDGER_HASH_LEN], size_t *proof_len,
                                      struct vt_error *err)
{
    MDB_txn *txn;
    enum vt_status st = ledger_read_begin(l, &txn, err);
    if (st != VT_OK)
        return st;
    st = resolve_size(l, txn, &size, err);
    if (st == VT_OK && index >= size)
        st = vt_error_set(err, VT_ERR_NOT_FOUND, "leaf %llu not in a tree of %llu",
                          (unsigned long long)index, (unsigned long long)size);
    if (st == VT_OK) {
        struct ledger_txn_reader tr;
        ledger_txn_reader_init(&tr, txn, l->db_hashes);
        st = ledger_prove_inclusion(&tr.r, size, index, proof, proof_len, err);
    }
    ledger_read_end(l, txn);
    return st;
}

enum vt_status ledger_consistency_proof(struct ledger *l, uint64_t old_size, uint64_t new_size,
                                        uint8_t (*proof)[LEDGER_HASH_LEN], size_t *proof_len,
                                        struct vt_error *err)
{
    MDB_txn *txn;
    enum vt_status st = ledger_read_begin(l, &txn, err);
    if (st != VT_OK)
        return st;
    st = resolve_size(l, txn, &new_size, err);
    if (st == VT_OK && old_size > new_size)
        st = vt_error_set(err, VT_ERR_INVALID, "old tree size %llu above new size %llu",
                          (unsigned long long)old_size, (unsigned long long)new_size);
    if (st == VT_OK) {
        struct ledger_txn_reader tr;
        ledger_txn_reader_init(&tr, txn, l->db_hashes);
        st = ledger_prove_consistency(&tr.r, old_size, new_size, proof, proof_len, err);
    }
    ledger_read_end(l, txn);
    return st;
}

enum vt_status ledger_tile(struct ledger *l, unsigned level, uint64_t n, unsigned width,
                           struct vt_buf *out, struct vt_error *err)
{
    MDB_txn *txn;
    enum vt_status st = ledger_read_begin(l, &txn, err);
    if (st != VT_OK)
        return st;
    uint64_t size = 0;
    st = resolve_size(l, txn, &size, err);
    if (st == VT_OK) {
        struct ledger_txn_reader tr;
        ledger_txn_reader_init(&tr, txn, l->db_hashes);
        st = ledger_tile_read(&tr.r, size, level, n, width, out, err);
    }
    ledger_read_end(l, txn);
    return st;
}

enum vt_status ledger_fork_read(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                                uint64_t seq, struct vt_buf *out, struct vt_error *err)
{
    MDB_txn *txn;
    enum vt_status st = ledger_read_begin(l, &txn, err);
    if (st != VT_OK)
        return st;
    uint8_t k[LEDGER_LEARNER_LEN + 8];
    memcpy(k, learner, LEDGER_LEARNER_LEN);
    vt_be64_put(k + LEDGER_LEARNER_LEN, seq);
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, l->db_forks, &c);
    if (rc != 0) {
        st = ledger_mdb_error(rc, err, "open the fork evidence");
    } else {
        MDB_val key = {sizeof(k), k}, val;
        rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
        if (rc == 0 && (key.mv_size < sizeof(k) || memcmp(key.mv_data, k, sizeof(k)) != 0))
            rc = MDB_NOTFOUND;
        if (rc == MDB_NOTFOUND)
            st = vt_error_set(err, VT_ERR_NOT_FOUND, "no fork evidence for seq %llu",
                              (unsigned long long)seq);
        else if (rc != 0)
            st = ledger_mdb_error(rc, err, "read the fork evidence");
        else
            st = vt_buf_append(out, val.mv_data, val.mv_size, err);
        mdb_cursor_close(c);
    }
    ledger_read_end(l, txn);
    return st;
}

enum vt_status ledger_provenance_read(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                                      uint64_t seq, struct ledger_provenance *prov,
                                      struct vt_buf *note_out, struct vt_error *err)
{
    MDB_txn *txn;
    enum vt_status st = ledger_read_begin(l, &txn, err);
    if (st != VT_OK)
        return st;
    uint8_t k[LEDGER_LEARNER_LEN + 8];
    memcpy(k, learner, LEDGER_LEARNER_LEN);
    vt_be64_put(k + LEDGER_LEARNER_LEN, seq);
    MDB_val key = {sizeof(k), k}, val, note;
    int rc = mdb_get(txn, l->db_prov, &key, &val);
    const uint8_t *p = rc == 0 ? val.mv_data : NULL;
    static const uint8_t none[VT_SHA256_LEN];
    if (rc == MDB_NOTFOUND) {
        st = vt_error_set(err, VT_ERR_NOT_FOUND, "event %llu of the learner has no provenance",
                          (unsigned long long)seq);
        goto out;
    }
    if (rc != 0) {
        st = ledger_mdb_error(rc, err, "read a provenance record");
        goto out;
    }
    if (val.mv_size <= LEDGER_PROV_FIXED ||
        val.mv_size >= LEDGER_PROV_FIXED + LEDGER_NOTE_NAME_MAX || p[0] != 1) {
        st = vt_error_set(err, VT_ERR_INVALID, "provenance record of seq %llu is malformed",
                          (unsigned long long)seq);
        goto out;
    }
    memset(prov, 0, sizeof(*prov));
    memcpy(prov->service_key, p + 1, VT_ED25519_PK_LEN);
    memcpy(prov->checkpoint_hash, p + 1 + VT_ED25519_PK_LEN, VT_SHA256_LEN);
    memcpy(prov->origin, p + LEDGER_PROV_FIXED, val.mv_size - LEDGER_PROV_FIXED);
    prov->has_checkpoint = memcmp(prov->checkpoint_hash, none, VT_SHA256_LEN) != 0;
    if (!prov->has_checkpoint)
        goto out;
    key.mv_size = VT_SHA256_LEN;
    key.mv_data = prov->checkpoint_hash;
    rc = mdb_get(txn, l->db_provnotes, &key, &note);
    if (rc != 0) {
        st = rc == MDB_NOTFOUND
                 ? vt_error_set(err, VT_ERR_VERIFY, "provenance checkpoint of seq %llu is missing",
                                (unsigned long long)seq)
                 : ledger_mdb_error(rc, err, "read a provenance checkpoint");
        goto out;
    }
    size_t text_len;
    struct ledger_checkpoint cp;
    st = ledger_note_verify(note.mv_data, note.mv_size, prov->origin, prov->service_key, &text_len,
                            err);
    if (st == VT_OK)
        st = ledger_checkpoint_parse(note.mv_data, text_len, &cp, err);
    if (st != VT_OK) {
        vt_error_prefix(err, st, "provenance checkpoint of seq %llu", (unsigned long long)seq);
        goto out;
    }
    prov->checkpoint_size = cp.size;
    if (note_out)
        st = vt_buf_append(note_out, note.mv_data, note.mv_size, err);
out:
    ledger_read_end(l, txn);
    return st;
}
