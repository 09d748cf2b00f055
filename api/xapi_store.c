/*
 * The xAPI statement store: statements are ledger events ("xapi.statement", the statement's
 * RFC 8785 text as payload) of the learner their actor maps to; this file keeps the LMDB
 * indexes that answer statement queries by range scans, the actor → learner map, canonical
 * activity definitions, and the document resources. Layout: specs/xapi.md §6.
 */
#include "api/xapi.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#define XAPI_MAP_SIZE ((size_t)16 << 30) /* sparse; LMDB reserves address space only */
#define FACET_LEN 17                     /* tag byte + 16-byte hash */
#define FACETS_MAX 255
#define REC_HEAD 26 /* stored 8, seq 8, ledger index 8, flags 1, facet count 1 */
#define EVENT_PREFIX "xapi:"

enum {
    FLAG_VOIDED = 1,
    FLAG_VOIDING = 2,
};

/* Facet tags: what a query filter can match. Lower case: the plain filter; upper case: the
 * related_* variant, a superset written for every statement. */
enum {
    TAG_AGENT = 'a',
    TAG_AGENT_REL = 'A',
    TAG_ACTIVITY = 'o',
    TAG_ACTIVITY_REL = 'O',
    TAG_VERB = 'v',
    TAG_REGISTRATION = 'r',
};

struct xapi_store {
    MDB_env *env;
    MDB_dbi stmt, order, idx, actors, activities, persons, docs, voidwait, pending, meta;
    struct ledger *ledger;
    pthread_mutex_t wmu; /* one writer at a time: statements and documents */
    int64_t last_stored;
    uint64_t next_seq;
    _Atomic int64_t consistent;
};

static enum vt_status mdb_status(int rc, const char *what, struct vt_error *err)
{
    if (rc == 0)
        return VT_OK;
    enum vt_status st = rc == MDB_MAP_FULL ? VT_ERR_FULL : VT_ERR_IO;
    return vt_error_set(err, st, "xapi store: cannot %s: %s", what, mdb_strerror(rc));
}

static void facet_hash(uint8_t tag, const char *s, uint8_t out[FACET_LEN])
{
    struct vt_sha256 *h = vt_sha256_new();
    uint8_t d[VT_SHA256_LEN];
    vt_sha256_update(h, &tag, 1);
    vt_sha256_update(h, s, strlen(s));
    vt_sha256_final(h, d);
    vt_sha256_free(h);
    out[0] = tag;
    memcpy(out + 1, d, 16);
}

/* ---------------------------------------------------------------------------------------
 * Open, close, recovery
 */

static uint64_t meta_u64(MDB_txn *txn, MDB_dbi dbi, const char *key)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    if (mdb_get(txn, dbi, &k, &v) != 0 || v.mv_size != 8)
        return 0;
    return vt_be64_get(v.mv_data);
}

static int meta_put(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t val)
{
    uint8_t b[8];
    vt_be64_put(b, val);
    MDB_val k = {strlen(key), (void *)key}, v = {8, b};
    return mdb_put(txn, dbi, &k, &v, 0);
}

static enum vt_status index_statement(struct xapi_store *st, MDB_txn *txn, const json_t *s,
                                      uint64_t ledger_index, struct vt_error *err);

/* Statements whose ledger append was under way when the process stopped: index those the
 * ledger committed, forget the others. */
static enum vt_status recover(struct xapi_store *st, struct vt_error *err)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc != 0)
        return mdb_status(rc, "begin recovery", err);
    MDB_cursor *cur;
    mdb_cursor_open(txn, st->pending, &cur);
    MDB_val k, v;
    enum vt_status s = VT_OK;
    struct vt_buf payload;
    vt_buf_init(&payload, LEDGER_PAYLOAD_DEFAULT_MAX);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && s == VT_OK;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char eid[LEDGER_EVENT_ID_MAX];
        if (k.mv_size != XAPI_UUID_LEN)
            continue;
        memcpy(eid, EVENT_PREFIX, 5);
        memcpy(eid + 5, k.mv_data, XAPI_UUID_LEN);
        struct ledger_append_result res;
        if (ledger_id_lookup(st->ledger, (const uint8_t *)eid, 5 + XAPI_UUID_LEN, &res, NULL) !=
            VT_OK)
            continue;
        MDB_val probe;
        if (mdb_get(txn, st->stmt, &k, &probe) == 0)
            continue;
        vt_buf_reset(&payload);
        json_t *j = NULL;
        if (ledger_payload_read(st->ledger, res.index, &payload, NULL) == VT_OK &&
            vt_json_parse((const char *)payload.data, payload.len, payload.len, 64, &j, NULL) ==
                VT_OK)
            s = index_statement(st, txn, j, res.index, err);
        json_decref(j);
    }
    mdb_cursor_close(cur);
    vt_buf_release(&payload);
    if (s == VT_OK)
        rc = mdb_drop(txn, st->pending, 0);
    if (s != VT_OK || rc != 0) {
        mdb_txn_abort(txn);
        return s != VT_OK ? s : mdb_status(rc, "clear pending statements", err);
    }
    return mdb_status(mdb_txn_commit(txn), "commit recovery", err);
}

enum vt_status xapi_store_open(const char *dir, struct ledger *l, struct xapi_store **out,
                               struct vt_error *err)
{
    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return vt_error_set(err, errno == EACCES ? VT_ERR_PERMISSION : VT_ERR_IO,
                            "cannot create xapi store '%s': %s", dir, strerror(errno));
    struct xapi_store *st = vt_calloc(1, sizeof(*st));
    st->ledger = l;
    pthread_mutex_init(&st->wmu, NULL);
    int rc = mdb_env_create(&st->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(st->env, 16);
    if (rc == 0)
        rc = mdb_env_set_mapsize(st->env, XAPI_MAP_SIZE);
    if (rc == 0)
        rc = mdb_env_open(st->env, dir, MDB_NOTLS, 0600);
    MDB_txn *txn = NULL;
    if (rc == 0)
        rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    const struct {
        const char *name;
        MDB_dbi *dbi;
    } dbs[] = {
        {"stmt", &st->stmt},     {"order", &st->order},           {"idx", &st->idx},
        {"actors", &st->actors}, {"activities", &st->activities}, {"persons", &st->persons},
        {"docs", &st->docs},     {"voidwait", &st->voidwait},     {"pending", &st->pending},
        {"meta", &st->meta},
    };
    for (size_t i = 0; rc == 0 && i < sizeof(dbs) / sizeof(dbs[0]); i++)
        rc = mdb_dbi_open(txn, dbs[i].name, MDB_CREATE, dbs[i].dbi);
    if (rc == 0) {
        st->next_seq = meta_u64(txn, st->meta, "seq");
        st->last_stored = (int64_t)meta_u64(txn, st->meta, "stored");
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (rc != 0) {
        if (txn != NULL)
            mdb_txn_abort(txn);
        enum vt_status s = mdb_status(rc, "open", err);
        vt_error_prefix(err, s, "'%s'", dir);
        xapi_store_close(st);
        return s;
    }
    enum vt_status s = recover(st, err);
    if (s != VT_OK) {
        xapi_store_close(st);
        return s;
    }
    atomic_store(&st->consistent, st->last_stored);
    *out = st;
    return VT_OK;
}

void xapi_store_close(struct xapi_store *st)
{
    if (st == NULL)
        return;
    if (st->env != NULL)
        mdb_env_close(st->env);
    pthread_mutex_destroy(&st->wmu);
    free(st);
}

int64_t xapi_store_consistent_through(struct xapi_store *st)
{
    int64_t c = atomic_load(&st->consistent);
    return c > 0 ? c : vt_time_now_ms();
}

/* ---------------------------------------------------------------------------------------
 * Actors → learners
 */

static void derive_learner(const char *key, uint8_t learner[LEDGER_LEARNER_LEN])
{
    static const char domain[] = "vitae/xapi/learner/v1\n";
    struct vt_sha256 *h = vt_sha256_new();
    uint8_t d[VT_SHA256_LEN];
    vt_sha256_update(h, domain, sizeof(domain) - 1);
    vt_sha256_update(h, key, strlen(key));
    vt_sha256_final(h, d);
    vt_sha256_free(h);
    memcpy(learner, d, LEDGER_LEARNER_LEN);
}

/* Map values: learner (16) ‖ used (1). */
static bool actor_lookup(struct xapi_store *st, MDB_txn *txn, const char *key,
                         uint8_t learner[LEDGER_LEARNER_LEN], bool *used)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    if (mdb_get(txn, st->actors, &k, &v) != 0 || v.mv_size != LEDGER_LEARNER_LEN + 1)
        return false;
    memcpy(learner, v.mv_data, LEDGER_LEARNER_LEN);
    *used = ((const uint8_t *)v.mv_data)[LEDGER_LEARNER_LEN] != 0;
    return true;
}

static int actor_put(struct xapi_store *st, MDB_txn *txn, const char *key,
                     const uint8_t learner[LEDGER_LEARNER_LEN], bool used)
{
    uint8_t b[LEDGER_LEARNER_LEN + 1];
    memcpy(b, learner, LEDGER_LEARNER_LEN);
    b[LEDGER_LEARNER_LEN] = used;
    MDB_val k = {strlen(key), (void *)key}, v = {sizeof(b), b};
    return mdb_put(txn, st->actors, &k, &v, 0);
}

enum vt_status xapi_store_map_actor(struct xapi_store *st, const char *agent_key,
                                    const uint8_t learner[LEDGER_LEARNER_LEN], struct vt_error *err)
{
    size_t n = strlen(agent_key);
    if (n == 0 || n >= XAPI_AGENT_KEY_MAX || n > 511)
        return vt_error_set(err, VT_ERR_INVALID, "invalid actor key");
    pthread_mutex_lock(&st->wmu);
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    enum vt_status s = mdb_status(rc, "begin", err);
    if (s == VT_OK) {
        uint8_t cur[LEDGER_LEARNER_LEN];
        bool used = false;
        bool known = actor_lookup(st, txn, agent_key, cur, &used);
        if (known && used && memcmp(cur, learner, LEDGER_LEARNER_LEN) != 0) {
            s = vt_error_set(err, VT_ERR_CONFLICT,
                             "actor '%.200s' has statements under another learner", agent_key);
            mdb_txn_abort(txn);
        } else {
            rc = actor_put(st, txn, agent_key, learner, used);
            if (rc == 0)
                rc = mdb_txn_commit(txn);
            else
                mdb_txn_abort(txn);
            s = mdb_status(rc, "map actor", err);
        }
    }
    pthread_mutex_unlock(&st->wmu);
    return s;
}

void xapi_store_learner_of(struct xapi_store *st, const char *agent_key,
                           uint8_t learner[LEDGER_LEARNER_LEN], bool *recorded)
{
    MDB_txn *txn;
    bool used;
    *recorded = false;
    if (mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn) == 0) {
        *recorded = actor_lookup(st, txn, agent_key, learner, &used);
        mdb_txn_abort(txn);
    }
    if (!*recorded)
        derive_learner(agent_key, learner);
}

/* ---------------------------------------------------------------------------------------
 * Facets: what a statement can be found by
 */

struct facets {
    size_t n;
    uint8_t f[FACETS_MAX][FACET_LEN];
};

static void facet_add(struct facets *fs, const uint8_t f[FACET_LEN])
{
    for (size_t i = 0; i < fs->n; i++)
        if (memcmp(fs->f[i], f, FACET_LEN) == 0)
            return;
    if (fs->n < FACETS_MAX)
        memcpy(fs->f[fs->n++], f, FACET_LEN);
}

static void facet_str(struct facets *fs, uint8_t tag, const char *s)
{
    if (s == NULL)
        return;
    uint8_t f[FACET_LEN];
    facet_hash(tag, s, f);
    facet_add(fs, f);
}

/* An Agent or Group: its own identity and, for Groups, each member's (Communication
 * §2.1.3: a Group matches the agent filter when a member does). */
static void facet_agent(struct facets *fs, const json_t *a, bool direct)
{
    if (!json_is_object(a))
        return;
    char key[XAPI_AGENT_KEY_MAX];
    if (xapi_agent_key(a, key, NULL) == VT_OK) {
        if (direct)
            facet_str(fs, TAG_AGENT, key);
        facet_str(fs, TAG_AGENT_REL, key);
    }
    const json_t *m = json_object_get(a, "member");
    for (size_t i = 0; i < json_array_size(m); i++)
        facet_agent(fs, json_array_get(m, i), direct);
}

static void facet_context(struct facets *fs, const json_t *ctx)
{
    if (!json_is_object(ctx))
        return;
    facet_agent(fs, json_object_get(ctx, "instructor"), false);
    facet_agent(fs, json_object_get(ctx, "team"), false);
    const json_t *ca = json_object_get(ctx, "contextActivities");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)ca, key, val)
    {
        for (size_t i = 0; i < json_array_size(val); i++)
            facet_str(fs, TAG_ACTIVITY_REL, vt_json_get_str(json_array_get(val, i), "id"));
    }
    const json_t *cag = json_object_get(ctx, "contextAgents");
    for (size_t i = 0; i < json_array_size(cag); i++)
        facet_agent(fs, json_object_get(json_array_get(cag, i), "agent"), false);
    const json_t *cgr = json_object_get(ctx, "contextGroups");
    for (size_t i = 0; i < json_array_size(cgr); i++)
        facet_agent(fs, json_object_get(json_array_get(cgr, i), "group"), false);
}

static void statement_facets(const json_t *s, struct facets *fs)
{
    fs->n = 0;
    facet_agent(fs, json_object_get(s, "actor"), true);
    facet_str(fs, TAG_VERB, vt_json_get_str(vt_json_get_obj(s, "verb"), "id"));
    const json_t *obj = json_object_get(s, "object");
    const char *ot = vt_json_get_str(obj, "objectType");
    if (ot == NULL || strcmp(ot, "Activity") == 0) {
        facet_str(fs, TAG_ACTIVITY, vt_json_get_str(obj, "id"));
        facet_str(fs, TAG_ACTIVITY_REL, vt_json_get_str(obj, "id"));
    } else if (strcmp(ot, "Agent") == 0 || strcmp(ot, "Group") == 0) {
        facet_agent(fs, obj, true);
    } else if (strcmp(ot, "SubStatement") == 0) {
        /* related_*: "any of these properties in a contained SubStatement" */
        facet_agent(fs, json_object_get(obj, "actor"), false);
        const json_t *so = json_object_get(obj, "object");
        const char *sot = vt_json_get_str(so, "objectType");
        if (sot == NULL || strcmp(sot, "Activity") == 0)
            facet_str(fs, TAG_ACTIVITY_REL, vt_json_get_str(so, "id"));
        else if (strcmp(sot, "Agent") == 0 || strcmp(sot, "Group") == 0)
            facet_agent(fs, so, false);
        facet_context(fs, json_object_get(obj, "context"));
    }
    facet_agent(fs, json_object_get(s, "authority"), false);
    const json_t *ctx = json_object_get(s, "context");
    facet_context(fs, ctx);
    const char *reg = vt_json_get_str(ctx, "registration");
    if (reg != NULL && xapi_is_uuid(reg)) {
        char low[XAPI_UUID_LEN + 1];
        xapi_uuid_lower(reg, low);
        facet_str(fs, TAG_REGISTRATION, low);
    }
}

/* ---------------------------------------------------------------------------------------
 * Records
 */

struct rec {
    int64_t stored;
    uint64_t seq;
    uint64_t index;
    uint8_t flags;
    size_t nf;
    const uint8_t *facets;
};

static bool rec_parse(const MDB_val *v, struct rec *r)
{
    if (v->mv_size < REC_HEAD)
        return false;
    const uint8_t *p = v->mv_data;
    r->stored = (int64_t)vt_be64_get(p);
    r->seq = vt_be64_get(p + 8);
    r->index = vt_be64_get(p + 16);
    r->flags = p[24];
    r->nf = p[25];
    r->facets = p + REC_HEAD;
    return v->mv_size == REC_HEAD + r->nf * FACET_LEN;
}

static bool rec_has(const struct rec *r, const uint8_t f[FACET_LEN])
{
    for (size_t i = 0; i < r->nf; i++)
        if (memcmp(r->facets + i * FACET_LEN, f, FACET_LEN) == 0)
            return true;
    return false;
}

static int rec_set_flags(struct xapi_store *st, MDB_txn *txn, const char *id, uint8_t add)
{
    MDB_val k = {XAPI_UUID_LEN, (void *)id}, v;
    int rc = mdb_get(txn, st->stmt, &k, &v);
    if (rc != 0)
        return rc;
    uint8_t *copy = vt_memdup(v.mv_data, v.mv_size);
    copy[24] |= add;
    MDB_val nv = {v.mv_size, copy};
    rc = mdb_put(txn, st->stmt, &k, &nv, 0);
    free(copy);
    return rc;
}

static void idx_key(const uint8_t f[FACET_LEN], int64_t stored, uint64_t seq, uint8_t out[33])
{
    memcpy(out, f, FACET_LEN);
    vt_be64_put(out + 17, (uint64_t)stored);
    vt_be64_put(out + 25, seq);
}

/* Merges an incoming activity definition into the canonical one: language maps per
 * language, everything else replaced (Data §2.4.4.1.s4.b3). */
static int activity_merge(struct xapi_store *st, MDB_txn *txn, const json_t *act)
{
    const char *id = vt_json_get_str(act, "id");
    const json_t *def = vt_json_get_obj(act, "definition");
    if (id == NULL || def == NULL || strlen(id) > 511)
        return 0;
    MDB_val k = {strlen(id), (void *)id}, v;
    json_t *cur = NULL;
    if (mdb_get(txn, st->activities, &k, &v) == 0)
        vt_json_parse(v.mv_data, v.mv_size, v.mv_size, 64, &cur, NULL);
    if (!json_is_object(cur)) {
        json_decref(cur);
        cur = json_object();
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)def, key, val)
    {
        json_t *old = json_object_get(cur, key);
        bool langmap = strcmp(key, "name") == 0 || strcmp(key, "description") == 0;
        if (langmap && json_is_object(old) && json_is_object(val))
            json_object_update(old, val);
        else
            json_object_set(cur, key, val);
    }
    struct vt_buf b;
    vt_buf_init(&b, LEDGER_PAYLOAD_DEFAULT_MAX);
    int rc = 0;
    if (vt_jcs_write(cur, &b, NULL) == VT_OK) {
        MDB_val nv = {b.len, b.data};
        rc = mdb_put(txn, st->activities, &k, &nv, 0);
    }
    vt_buf_release(&b);
    json_decref(cur);
    return rc;
}

static int person_note(struct xapi_store *st, MDB_txn *txn, const json_t *agent)
{
    char key[XAPI_AGENT_KEY_MAX];
    const char *name = vt_json_get_str(agent, "name");
    if (name == NULL || xapi_agent_key(agent, key, NULL) != VT_OK || strlen(key) > 511 ||
        strncmp(key, "group:", 6) == 0)
        return 0;
    MDB_val k = {strlen(key), key}, v;
    json_t *names = NULL;
    if (mdb_get(txn, st->persons, &k, &v) == 0)
        vt_json_parse(v.mv_data, v.mv_size, v.mv_size, 4, &names, NULL);
    if (!json_is_array(names)) {
        json_decref(names);
        names = json_array();
    }
    for (size_t i = 0; i < json_array_size(names); i++)
        if (strcmp(json_string_value(json_array_get(names, i)), name) == 0) {
            json_decref(names);
            return 0;
        }
    int rc = 0;
    if (json_array_size(names) < 16) {
        json_array_append_new(names, json_string(name));
        char *text = json_dumps(names, JSON_COMPACT);
        MDB_val nv = {strlen(text), text};
        rc = mdb_put(txn, st->persons, &k, &nv, 0);
        free(text);
    }
    json_decref(names);
    return rc;
}

static enum vt_status index_statement(struct xapi_store *st, MDB_txn *txn, const json_t *s,
                                      uint64_t ledger_index, struct vt_error *err)
{
    const char *id = vt_json_get_str(s, "id");
    int64_t stored;
    if (id == NULL || strlen(id) != XAPI_UUID_LEN ||
        !xapi_timestamp_parse(vt_json_get_str(s, "stored"), &stored))
        return vt_error_set(err, VT_ERR_INTERNAL, "xapi store: statement without id or stored");
    struct facets *fs = vt_malloc(sizeof(*fs));
    statement_facets(s, fs);
    const json_t *obj = json_object_get(s, "object");
    const char *ot = vt_json_get_str(obj, "objectType");
    bool is_ref = ot != NULL && strcmp(ot, "StatementRef") == 0;
    bool voiding = is_ref && strcmp(vt_json_get_str(vt_json_get_obj(s, "verb"), "id") ?: "",
                                    XAPI_VERB_VOIDED) == 0;
    char target[XAPI_UUID_LEN + 1] = "";
    if (is_ref)
        xapi_uuid_lower(vt_json_get_str(obj, "id"), target);
    int rc = 0;
    MDB_val tk = {XAPI_UUID_LEN, target}, tv;
    struct rec tr;
    bool target_known = is_ref && mdb_get(txn, st->stmt, &tk, &tv) == 0 && rec_parse(&tv, &tr);
    /* Communication §2.1.3: a statement that references another (other than by voiding it)
     * is found by the filters that find its target. */
    if (target_known && !voiding)
        for (size_t i = 0; i < tr.nf; i++)
            facet_add(fs, tr.facets + i * FACET_LEN);
    uint8_t flags = voiding ? FLAG_VOIDING : 0;
    MDB_val k = {XAPI_UUID_LEN, (void *)id}, wv;
    if (!voiding && mdb_get(txn, st->voidwait, &k, &wv) == 0) {
        flags |= FLAG_VOIDED;
        rc = mdb_del(txn, st->voidwait, &k, NULL);
    }
    uint64_t seq = st->next_seq++;
    size_t vlen = REC_HEAD + fs->n * FACET_LEN;
    uint8_t *rec = vt_malloc(vlen);
    vt_be64_put(rec, (uint64_t)stored);
    vt_be64_put(rec + 8, seq);
    vt_be64_put(rec + 16, ledger_index);
    rec[24] = flags;
    rec[25] = (uint8_t)fs->n;
    for (size_t i = 0; i < fs->n; i++)
        memcpy(rec + REC_HEAD + i * FACET_LEN, fs->f[i], FACET_LEN);
    MDB_val v = {vlen, rec};
    if (rc == 0)
        rc = mdb_put(txn, st->stmt, &k, &v, 0);
    uint8_t ok_key[16];
    vt_be64_put(ok_key, (uint64_t)stored);
    vt_be64_put(ok_key + 8, seq);
    MDB_val ok = {16, ok_key};
    if (rc == 0)
        rc = mdb_put(txn, st->order, &ok, &k, 0);
    for (size_t i = 0; rc == 0 && i < fs->n; i++) {
        uint8_t ik[33];
        idx_key(fs->f[i], stored, seq, ik);
        MDB_val ikv = {sizeof(ik), ik};
        rc = mdb_put(txn, st->idx, &ikv, &k, 0);
    }
    /* Data §2.3.2.s2.b3: voided only by a statement that is not itself voiding, and a
     * voiding statement cannot be voided. */
    if (rc == 0 && voiding) {
        if (target_known) {
            if (!(tr.flags & FLAG_VOIDING))
                rc = rec_set_flags(st, txn, target, FLAG_VOIDED);
        } else {
            rc = mdb_put(txn, st->voidwait, &tk, &k, 0);
        }
    }
    if (rc == 0 && (ot == NULL || strcmp(ot, "Activity") == 0))
        rc = activity_merge(st, txn, obj);
    const json_t *ca = vt_json_get_obj(vt_json_get_obj(s, "context"), "contextActivities");
    const char *ckey;
    json_t *cval;
    json_object_foreach((json_t *)ca, ckey, cval)
    {
        for (size_t i = 0; rc == 0 && i < json_array_size(cval); i++)
            rc = activity_merge(st, txn, json_array_get(cval, i));
    }
    if (rc == 0)
        rc = person_note(st, txn, json_object_get(s, "actor"));
    if (rc == 0)
        rc = mdb_del(txn, st->pending, &k, NULL);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (stored > st->last_stored)
        st->last_stored = stored;
    if (rc == 0)
        rc = meta_put(txn, st->meta, "seq", st->next_seq);
    if (rc == 0)
        rc = meta_put(txn, st->meta, "stored", (uint64_t)st->last_stored);
    free(rec);
    free(fs);
    return mdb_status(rc, "index statement", err);
}

/* ---------------------------------------------------------------------------------------
 * Reading statements
 */

static enum vt_status load_statement(struct xapi_store *st, uint64_t index, json_t **out,
                                     struct vt_error *err)
{
    struct vt_buf b;
    vt_buf_init(&b, LEDGER_PAYLOAD_DEFAULT_MAX);
    enum vt_status s = ledger_payload_read(st->ledger, index, &b, err);
    if (s == VT_OK)
        s = vt_json_parse((const char *)b.data, b.len, b.len, 64, out, err);
    vt_buf_release(&b);
    return s;
}

enum vt_status xapi_store_get(struct xapi_store *st, const char *id, bool voided, json_t **out,
                              struct vt_error *err)
{
    *out = NULL;
    if (!xapi_is_uuid(id))
        return vt_error_set(err, VT_ERR_NOT_FOUND, "no statement '%.40s'", id);
    char low[XAPI_UUID_LEN + 1];
    xapi_uuid_lower(id, low);
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return mdb_status(rc, "begin", err);
    MDB_val k = {XAPI_UUID_LEN, low}, v;
    struct rec r;
    bool found = mdb_get(txn, st->stmt, &k, &v) == 0 && rec_parse(&v, &r);
    mdb_txn_abort(txn);
    /* Communication §2.1.3: a voided statement only by voidedStatementId, and only voided
     * statements by it. */
    if (!found || ((r.flags & FLAG_VOIDED) != 0) != voided)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "no %sstatement '%s'", voided ? "voided " : "",
                            low);
    enum vt_status s = load_statement(st, r.index, out, err);
    if (s == VT_ERR_NOT_FOUND)
        vt_error_set(err, VT_ERR_NOT_FOUND, "statement '%s' was erased", low);
    return s;
}

/* ---------------------------------------------------------------------------------------
 * Writing statements
 */

struct pending {
    json_t *stmt;
    char id[XAPI_UUID_LEN + 1];
    bool skip;
    uint8_t learner[LEDGER_LEARNER_LEN];
    char actor_key[XAPI_AGENT_KEY_MAX];
    bool actor_new;
    struct vt_buf text;
    char event_id[5 + XAPI_UUID_LEN];
};

static enum vt_status check_existing(struct xapi_store *st, struct pending *p, size_t n,
                                     size_t *existing, struct vt_error *err)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return mdb_status(rc, "begin", err);
    enum vt_status s = VT_OK;
    for (size_t i = 0; i < n && s == VT_OK; i++) {
        MDB_val k = {XAPI_UUID_LEN, p[i].id}, v;
        struct rec r;
        if (mdb_get(txn, st->stmt, &k, &v) != 0 || !rec_parse(&v, &r))
            continue;
        json_t *old = NULL;
        s = load_statement(st, r.index, &old, err);
        if (s == VT_ERR_NOT_FOUND)
            s = vt_error_set(err, VT_ERR_CONFLICT, "statement '%s' exists (erased)", p[i].id);
        else if (s == VT_OK && !xapi_statement_equivalent(old, p[i].stmt))
            s = vt_error_set(err, VT_ERR_CONFLICT, "statement '%s' exists with different content",
                             p[i].id);
        else if (s == VT_OK)
            p[i].skip = true;
        json_decref(old);
        if (s == VT_OK && p[i].skip && existing != NULL)
            (*existing)++;
    }
    mdb_txn_abort(txn);
    return s;
}

/* Writes the statements about to be appended, so that a restart between the ledger commit
 * and the index commit finds them (recover). Also records first uses of actors. */
static enum vt_status write_pending(struct xapi_store *st, struct pending *p, size_t n,
                                    struct vt_error *err)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (p[i].skip)
            continue;
        MDB_val k = {XAPI_UUID_LEN, p[i].id}, v = {0, ""};
        rc = mdb_put(txn, st->pending, &k, &v, 0);
        if (rc == 0 && p[i].actor_new)
            rc = actor_put(st, txn, p[i].actor_key, p[i].learner, true);
    }
    if (rc == 0)
        return mdb_status(mdb_txn_commit(txn), "commit pending statements", err);
    if (txn != NULL)
        mdb_txn_abort(txn);
    return mdb_status(rc, "record pending statements", err);
}

static enum vt_status prepare(struct xapi_store *st, struct pending *p, const json_t *authority,
                              enum xapi_version v, int64_t now, struct vt_error *err)
{
    xapi_statement_normalize(p->stmt, p->id, now, authority, v);
    enum vt_status s = vt_jcs_write(p->stmt, &p->text, err);
    if (s != VT_OK)
        return s == VT_ERR_TOO_LARGE
                   ? vt_error_set(err, VT_ERR_TOO_LARGE, "statement '%s' is over %zu bytes", p->id,
                                  LEDGER_PAYLOAD_DEFAULT_MAX)
                   : s;
    s = xapi_agent_key(json_object_get(p->stmt, "actor"), p->actor_key, err);
    if (s != VT_OK)
        return s;
    MDB_txn *txn;
    bool used = false, known = false;
    if (mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn) == 0) {
        known = actor_lookup(st, txn, p->actor_key, p->learner, &used);
        mdb_txn_abort(txn);
    }
    if (!known)
        derive_learner(p->actor_key, p->learner);
    p->actor_new = !used && strlen(p->actor_key) <= 511;
    memcpy(p->event_id, EVENT_PREFIX, 5);
    memcpy(p->event_id + 5, p->id, XAPI_UUID_LEN);
    return VT_OK;
}

enum vt_status xapi_store_put(struct xapi_store *st, json_t *const *stmts, size_t n,
                              const json_t *authority, enum xapi_version v,
                              char (*ids_out)[XAPI_UUID_LEN + 1], size_t *existing,
                              struct vt_error *err)
{
    if (existing != NULL)
        *existing = 0;
    if (n == 0)
        return VT_OK;
    if (n > XAPI_BATCH_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "more than %d statements in one request",
                            XAPI_BATCH_MAX);
    struct pending *p = vt_calloc(n, sizeof(*p));
    for (size_t i = 0; i < n; i++) {
        p[i].stmt = stmts[i];
        vt_buf_init(&p[i].text, LEDGER_PAYLOAD_DEFAULT_MAX);
        const char *given = vt_json_get_str(stmts[i], "id");
        if (given != NULL && xapi_is_uuid(given))
            xapi_uuid_lower(given, p[i].id);
        else
            xapi_uuid_new(p[i].id);
    }
    enum vt_status s = VT_OK;
    for (size_t i = 0; i < n && s == VT_OK; i++)
        for (size_t k = 0; k < i && s == VT_OK; k++)
            if (strcmp(p[i].id, p[k].id) == 0)
                s = vt_error_set(err, VT_ERR_INVALID,
                                 "invalid request: statement id '%s' appears twice in the batch "
                                 "(batch.duplicate-id)",
                                 p[i].id);
    pthread_mutex_lock(&st->wmu);
    if (s == VT_OK)
        s = check_existing(st, p, n, existing, err);
    int64_t now = vt_time_now_ms();
    if (now <= st->last_stored)
        now = st->last_stored; /* stored never goes back, so stored order is seq order */
    for (size_t i = 0; i < n && s == VT_OK; i++)
        if (!p[i].skip)
            s = prepare(st, &p[i], authority, v, now, err);
    if (s == VT_OK)
        s = write_pending(st, p, n, err);
    struct ledger_append_req *reqs = vt_calloc(n, sizeof(*reqs));
    struct ledger_append_result *res = vt_calloc(n, sizeof(*res));
    size_t *map = vt_calloc(n, sizeof(size_t));
    size_t m = 0;
    for (size_t i = 0; i < n && s == VT_OK; i++) {
        if (p[i].skip)
            continue;
        memcpy(reqs[m].learner, p[i].learner, LEDGER_LEARNER_LEN);
        reqs[m].type = "xapi.statement";
        reqs[m].payload = p[i].text.data;
        reqs[m].payload_len = p[i].text.len;
        reqs[m].event_id = (const uint8_t *)p[i].event_id;
        reqs[m].event_id_len = sizeof(p[i].event_id);
        map[m++] = i;
    }
    enum vt_status append_st = VT_OK;
    struct vt_error append_err;
    vt_error_clear(&append_err);
    if (s == VT_OK && m > 0)
        append_st = ledger_append_batch(st->ledger, reqs, m, res, &append_err);
    /* Index whatever the ledger committed, even when part of the batch failed: a committed
     * statement is stored and must be findable. */
    if (s == VT_OK && m > 0) {
        MDB_txn *txn;
        int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
        s = mdb_status(rc, "begin index", err);
        uint64_t seq0 = st->next_seq;
        int64_t stored0 = st->last_stored;
        for (size_t j = 0; j < m && s == VT_OK; j++)
            if (res[j].status == VT_OK)
                s = index_statement(st, txn, p[map[j]].stmt, res[j].index, err);
        if (s == VT_OK)
            s = mdb_status(mdb_txn_commit(txn), "commit index", err);
        else if (rc == 0)
            mdb_txn_abort(txn);
        if (s != VT_OK) {
            st->next_seq = seq0;
            st->last_stored = stored0;
        } else {
            atomic_store(&st->consistent, st->last_stored);
        }
    }
    pthread_mutex_unlock(&st->wmu);
    if (s == VT_OK && append_st != VT_OK) {
        s = append_st;
        if (err != NULL)
            *err = append_err;
    }
    for (size_t i = 0; i < n; i++) {
        if (ids_out != NULL)
            memcpy(ids_out[i], p[i].id, XAPI_UUID_LEN + 1);
        vt_buf_release(&p[i].text);
    }
    free(map);
    free(res);
    free(reqs);
    free(p);
    return s;
}

/* ---------------------------------------------------------------------------------------
 * Queries
 */

#define QF_RELATED_ACT 1
#define QF_RELATED_AGENT 2
#define QF_ASC 4
#define QF_SINCE 8
#define QF_UNTIL 16
#define QF_POS 32
#define QFILTERS_MAX 4

/* A query in the form the continuation token carries: filters as facet hashes. */
struct qspec {
    uint8_t flags;
    uint16_t limit;
    int64_t since, until;
    int64_t pos_stored;
    uint64_t pos_seq;
    size_t nfilt;
    uint8_t filt[QFILTERS_MAX][FACET_LEN];
};

#define TOKEN_LEN (1 + 1 + 2 + 8 + 8 + 8 + 8 + 1 + QFILTERS_MAX * FACET_LEN)

static void token_write(const struct qspec *q, char out[XAPI_MORE_MAX])
{
    uint8_t b[TOKEN_LEN];
    memset(b, 0, sizeof(b));
    b[0] = 1; /* token version */
    b[1] = q->flags;
    vt_be16_put(b + 2, q->limit);
    vt_be64_put(b + 4, (uint64_t)q->since);
    vt_be64_put(b + 12, (uint64_t)q->until);
    vt_be64_put(b + 20, (uint64_t)q->pos_stored);
    vt_be64_put(b + 28, q->pos_seq);
    b[36] = (uint8_t)q->nfilt;
    for (size_t i = 0; i < q->nfilt; i++)
        memcpy(b + 37 + i * FACET_LEN, q->filt[i], FACET_LEN);
    struct vt_buf t;
    vt_buf_init(&t, XAPI_MORE_MAX - 1);
    if (vt_base64url_encode(b, 37 + q->nfilt * FACET_LEN, &t, NULL) == VT_OK)
        memcpy(out, t.data, t.len + 1);
    else
        out[0] = '\0';
    vt_buf_release(&t);
}

static bool token_read(const char *s, struct qspec *q)
{
    struct vt_buf b;
    vt_buf_init(&b, TOKEN_LEN);
    bool ok = s != NULL && strlen(s) < XAPI_MORE_MAX &&
              vt_base64url_decode(s, strlen(s), &b, NULL) == VT_OK && b.len >= 37 &&
              b.data[0] == 1 && b.data[36] <= QFILTERS_MAX &&
              b.len == 37 + (size_t)b.data[36] * FACET_LEN;
    if (ok) {
        memset(q, 0, sizeof(*q));
        q->flags = b.data[1];
        q->limit = vt_be16_get(b.data + 2);
        q->since = (int64_t)vt_be64_get(b.data + 4);
        q->until = (int64_t)vt_be64_get(b.data + 12);
        q->pos_stored = (int64_t)vt_be64_get(b.data + 20);
        q->pos_seq = vt_be64_get(b.data + 28);
        q->nfilt = b.data[36];
        for (size_t i = 0; i < q->nfilt; i++)
            memcpy(q->filt[i], b.data + 37 + i * FACET_LEN, FACET_LEN);
        ok = (q->flags & QF_POS) != 0 && q->limit > 0 && q->limit <= XAPI_QUERY_LIMIT_MAX;
    }
    vt_buf_release(&b);
    return ok;
}

/* Which filter drives the range scan: the most selective kind first. */
static size_t driving_filter(const struct qspec *q)
{
    static const uint8_t order[] = {TAG_REGISTRATION, TAG_ACTIVITY,  TAG_ACTIVITY_REL,
                                    TAG_AGENT,        TAG_AGENT_REL, TAG_VERB};
    for (size_t o = 0; o < sizeof(order); o++)
        for (size_t i = 0; i < q->nfilt; i++)
            if (q->filt[i][0] == order[o])
                return i;
    return SIZE_MAX;
}

static enum vt_status run_query(struct xapi_store *st, struct qspec *q, json_t **out,
                                char more_out[XAPI_MORE_MAX], struct vt_error *err)
{
    *out = NULL;
    more_out[0] = '\0';
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return mdb_status(rc, "begin", err);
    size_t drive = driving_filter(q);
    MDB_cursor *cur;
    mdb_cursor_open(txn, drive == SIZE_MAX ? st->order : st->idx, &cur);
    size_t plen = drive == SIZE_MAX ? 0 : FACET_LEN;
    bool asc = (q->flags & QF_ASC) != 0;
    /* Key layout: [prefix][stored 8][seq 8]. Position the cursor at the first key in scan
     * order, then stop when the prefix or the time window is left. */
    uint8_t start[33];
    if (plen)
        memcpy(start, q->filt[drive], FACET_LEN);
    int64_t lo = (q->flags & QF_SINCE) ? q->since : INT64_MIN;
    int64_t hi = (q->flags & QF_UNTIL) ? q->until : INT64_MAX;
    if (q->flags & QF_POS) {
        vt_be64_put(start + plen, (uint64_t)q->pos_stored);
        vt_be64_put(start + plen + 8, q->pos_seq);
    } else if (asc) {
        /* since is exclusive: start after every key at exactly `since`. */
        vt_be64_put(start + plen, (q->flags & QF_SINCE) ? (uint64_t)q->since + 1 : 0);
        vt_be64_put(start + plen + 8, 0);
    } else {
        vt_be64_put(start + plen, (q->flags & QF_UNTIL) ? (uint64_t)q->until : INT64_MAX);
        vt_be64_put(start + plen + 8, UINT64_MAX);
    }
    MDB_val k = {plen + 16, start}, v;
    if (asc) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == 0 && (q->flags & QF_POS) && k.mv_size == plen + 16 &&
            memcmp(k.mv_data, start, plen + 16) == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    } else {
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
        else if (rc == 0 && memcmp(k.mv_data, start, plen + 16) >= 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    }
    json_t *arr = json_array();
    enum vt_status s = VT_OK;
    size_t limit = q->limit;
    for (; rc == 0 && s == VT_OK; rc = mdb_cursor_get(cur, &k, &v, asc ? MDB_NEXT : MDB_PREV)) {
        if (k.mv_size != plen + 16 || (plen && memcmp(k.mv_data, q->filt[drive], plen) != 0))
            break;
        int64_t stored = (int64_t)vt_be64_get((const uint8_t *)k.mv_data + plen);
        uint64_t seq = vt_be64_get((const uint8_t *)k.mv_data + plen + 8);
        if (asc ? stored > hi : stored <= lo)
            break;
        if (stored <= lo || stored > hi)
            continue;
        MDB_val sv;
        struct rec r;
        if (v.mv_size != XAPI_UUID_LEN || mdb_get(txn, st->stmt, &v, &sv) != 0 ||
            !rec_parse(&sv, &r) || (r.flags & FLAG_VOIDED))
            continue;
        bool match = true;
        for (size_t i = 0; i < q->nfilt && match; i++)
            match = i == drive || rec_has(&r, q->filt[i]);
        if (!match)
            continue;
        if (json_array_size(arr) == limit) {
            q->flags |= QF_POS;
            token_write(q, more_out);
            break;
        }
        json_t *j = NULL;
        enum vt_status ls = load_statement(st, r.index, &j, NULL);
        if (ls == VT_OK)
            json_array_append_new(arr, j);
        else if (ls != VT_ERR_NOT_FOUND) /* erased learners' statements are skipped */
            s = vt_error_set(err, ls, "cannot read statement at ledger index %llu",
                             (unsigned long long)r.index);
        q->pos_stored = stored;
        q->pos_seq = seq;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (s != VT_OK) {
        json_decref(arr);
        return s;
    }
    *out = arr;
    return VT_OK;
}

enum vt_status xapi_store_query(struct xapi_store *st, const struct xapi_query *qin, json_t **out,
                                char more_out[XAPI_MORE_MAX], struct vt_error *err)
{
    struct qspec q;
    memset(&q, 0, sizeof(q));
    q.limit = (uint16_t)(qin->limit == 0 || qin->limit > XAPI_QUERY_LIMIT_MAX ? XAPI_QUERY_LIMIT_MAX
                                                                              : qin->limit);
    q.flags = (uint8_t)((qin->ascending ? QF_ASC : 0) | (qin->has_since ? QF_SINCE : 0) |
                        (qin->has_until ? QF_UNTIL : 0));
    q.since = qin->since_ms;
    q.until = qin->until_ms;
    if (qin->agent_key != NULL)
        facet_hash(qin->related_agents ? TAG_AGENT_REL : TAG_AGENT, qin->agent_key,
                   q.filt[q.nfilt++]);
    if (qin->verb != NULL)
        facet_hash(TAG_VERB, qin->verb, q.filt[q.nfilt++]);
    if (qin->activity != NULL)
        facet_hash(qin->related_activities ? TAG_ACTIVITY_REL : TAG_ACTIVITY, qin->activity,
                   q.filt[q.nfilt++]);
    if (qin->registration != NULL) {
        char low[XAPI_UUID_LEN + 1];
        if (!xapi_is_uuid(qin->registration))
            return vt_error_set(err, VT_ERR_INVALID, "registration is not a UUID");
        xapi_uuid_lower(qin->registration, low);
        facet_hash(TAG_REGISTRATION, low, q.filt[q.nfilt++]);
    }
    return run_query(st, &q, out, more_out, err);
}

enum vt_status xapi_store_query_more(struct xapi_store *st, const char *token, json_t **out,
                                     char more_out[XAPI_MORE_MAX], struct vt_error *err)
{
    struct qspec q;
    if (!token_read(token, &q))
        return vt_error_set(err, VT_ERR_INVALID, "invalid 'more' token");
    return run_query(st, &q, out, more_out, err);
}

/* ---------------------------------------------------------------------------------------
 * Activities and agents
 */

json_t *xapi_store_activity(void *store, const char *activity_id)
{
    struct xapi_store *st = store;
    if (activity_id == NULL || strlen(activity_id) > 511)
        return NULL;
    MDB_txn *txn;
    if (mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn) != 0)
        return NULL;
    MDB_val k = {strlen(activity_id), (void *)activity_id}, v;
    json_t *j = NULL;
    if (mdb_get(txn, st->activities, &k, &v) == 0)
        vt_json_parse(v.mv_data, v.mv_size, v.mv_size, 64, &j, NULL);
    mdb_txn_abort(txn);
    return j;
}

json_t *xapi_store_person(struct xapi_store *st, const json_t *agent)
{
    json_t *person = json_object();
    json_object_set_new(person, "objectType", json_string("Person"));
    static const char *const ifis[] = {"mbox", "mbox_sha1sum", "openid", "account"};
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_object_get(agent, ifis[i]);
        if (v != NULL) {
            json_t *arr = json_array();
            json_array_append(arr, v);
            json_object_set_new(person, ifis[i], arr);
        }
    }
    char key[XAPI_AGENT_KEY_MAX];
    json_t *names = NULL;
    MDB_txn *txn;
    if (xapi_agent_key(agent, key, NULL) == VT_OK && strlen(key) <= 511 &&
        mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn) == 0) {
        MDB_val k = {strlen(key), key}, v;
        if (mdb_get(txn, st->persons, &k, &v) == 0)
            vt_json_parse(v.mv_data, v.mv_size, v.mv_size, 4, &names, NULL);
        mdb_txn_abort(txn);
    }
    if (json_is_array(names) && json_array_size(names) > 0)
        json_object_set_new(person, "name", names);
    else
        json_decref(names);
    return person;
}

/* ---------------------------------------------------------------------------------------
 * Documents
 */

#define DOC_KEY_MAX 511 /* LMDB's default key size */
#define PRECOND_MSG "precondition failed"

void xapi_doc_init(struct xapi_doc *d)
{
    memset(d, 0, sizeof(*d));
    vt_buf_init(&d->content, XAPI_DOC_MAX);
}

void xapi_doc_release(struct xapi_doc *d)
{
    if (d != NULL)
        vt_buf_release(&d->content);
}

bool xapi_error_is_precondition(const struct vt_error *err)
{
    return err != NULL && err->status == VT_ERR_CONFLICT &&
           strncmp(err->msg, PRECOND_MSG, strlen(PRECOND_MSG)) == 0;
}

/* [kind] activity \0 agent \0 registration \0 [doc id]: the prefix up to the last NUL lists
 * the documents of one (activity, agent, registration). */
static enum vt_status doc_key(const struct xapi_doc_ref *r, bool with_id, uint8_t *out, size_t *len,
                              struct vt_error *err)
{
    const char *parts[3] = {r->activity_id ?: "", r->agent_key ?: "", r->registration ?: ""};
    size_t n = 0;
    out[n++] = (uint8_t)('0' + r->kind);
    for (size_t i = 0; i < 3; i++) {
        size_t l = strlen(parts[i]);
        if (n + l + 1 > DOC_KEY_MAX)
            return vt_error_set(err, VT_ERR_TOO_LARGE, "document identifiers are too long");
        memcpy(out + n, parts[i], l);
        n += l;
        out[n++] = 0;
    }
    if (with_id) {
        size_t l = strlen(r->doc_id ?: "");
        if (n + l > DOC_KEY_MAX)
            return vt_error_set(err, VT_ERR_TOO_LARGE, "document identifiers are too long");
        memcpy(out + n, r->doc_id ?: "", l);
        n += l;
    }
    *len = n;
    return VT_OK;
}

static void etag_of(const uint8_t *p, size_t n, char out[XAPI_ETAG_MAX])
{
    /* The SHA-1 of the content, as xAPI clients compute it for If-Match. */
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    EVP_Digest(p, n, d, &dl, EVP_sha1(), NULL);
    out[0] = '"';
    for (unsigned i = 0; i < dl && i < 20; i++)
        snprintf(out + 1 + 2 * i, 3, "%02x", d[i]);
    out[41] = '"';
    out[42] = '\0';
}

/* Value: updated (8) ‖ content-type length (1) ‖ content type ‖ content. */
static bool doc_parse(const MDB_val *v, struct xapi_doc *d)
{
    const uint8_t *p = v->mv_data;
    if (v->mv_size < 9 || v->mv_size < 9 + (size_t)p[8])
        return false;
    d->updated_ms = (int64_t)vt_be64_get(p);
    size_t cl = p[8];
    memcpy(d->content_type, p + 9, cl);
    d->content_type[cl] = '\0';
    vt_buf_reset(&d->content);
    if (vt_buf_append(&d->content, p + 9 + cl, v->mv_size - 9 - cl, NULL) != VT_OK)
        return false;
    etag_of(d->content.data, d->content.len, d->etag);
    return true;
}

enum vt_status xapi_doc_get(struct xapi_store *st, const struct xapi_doc_ref *ref,
                            struct xapi_doc *out, struct vt_error *err)
{
    uint8_t key[DOC_KEY_MAX];
    size_t kl;
    enum vt_status s = doc_key(ref, true, key, &kl, err);
    if (s != VT_OK)
        return s;
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return mdb_status(rc, "begin", err);
    MDB_val k = {kl, key}, v;
    rc = mdb_get(txn, st->docs, &k, &v);
    if (rc == 0 && !doc_parse(&v, out))
        s = vt_error_set(err, VT_ERR_INTERNAL, "xapi store: malformed document record");
    else if (rc == MDB_NOTFOUND)
        s = vt_error_set(err, VT_ERR_NOT_FOUND, "no such document");
    else
        s = mdb_status(rc, "read document", err);
    mdb_txn_abort(txn);
    return s;
}

static bool etag_matches(const char *header, const char *etag)
{
    /* A list of entity tags, or "*"; weak tags never match a strong comparison. */
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t'))
            t--;
        if (t == strlen(etag) && memcmp(p, etag, t) == 0)
            return true;
        /* Clients also send the hash without quotes. */
        if (t == strlen(etag) - 2 && memcmp(p, etag + 1, t) == 0)
            return true;
        p += n;
    }
    return false;
}

static enum vt_status precond(const struct xapi_precond *pc, bool exists, const char *etag,
                              struct vt_error *err)
{
    if (pc == NULL)
        return VT_OK;
    if (pc->if_match != NULL && (!exists || !etag_matches(pc->if_match, etag)))
        return vt_error_set(err, VT_ERR_CONFLICT, PRECOND_MSG ": If-Match does not match");
    if (pc->if_none_match != NULL && exists &&
        (strcmp(pc->if_none_match, "*") == 0 || etag_matches(pc->if_none_match, etag)))
        return vt_error_set(err, VT_ERR_CONFLICT, PRECOND_MSG ": If-None-Match matches");
    return VT_OK;
}

/* Documents keep their numbers as sent (integers stay integers), so they are read with
 * jansson directly rather than with vt_json_parse, which reads every number as a double. */
static json_t *doc_json(const uint8_t *p, size_t n)
{
    return json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
}

static bool is_json_ctype(const char *ct)
{
    return ct != NULL && strncasecmp(ct, "application/json", 16) == 0 &&
           (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ');
}

enum vt_status xapi_doc_put(struct xapi_store *st, const struct xapi_doc_ref *ref,
                            const uint8_t *body, size_t n, const char *content_type, bool merge,
                            const struct xapi_precond *pc, bool require_precond,
                            char etag_out[XAPI_ETAG_MAX], struct vt_error *err)
{
    if (n > XAPI_DOC_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "document over %zu bytes", XAPI_DOC_MAX);
    uint8_t key[DOC_KEY_MAX];
    size_t kl;
    enum vt_status s = doc_key(ref, true, key, &kl, err);
    if (s != VT_OK)
        return s;
    const char *ct = content_type && *content_type ? content_type : "application/octet-stream";
    if (strlen(ct) > 127)
        return vt_error_set(err, VT_ERR_INVALID, "content type is too long");
    struct xapi_doc cur;
    xapi_doc_init(&cur);
    char *merged_text = NULL;
    struct vt_buf out;
    vt_buf_init(&out, XAPI_DOC_MAX + 256);
    pthread_mutex_lock(&st->wmu);
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    s = mdb_status(rc, "begin", err);
    MDB_val k = {kl, key}, v;
    bool exists = false;
    if (s == VT_OK) {
        rc = mdb_get(txn, st->docs, &k, &v);
        exists = rc == 0 && doc_parse(&v, &cur);
        if (rc != 0 && rc != MDB_NOTFOUND)
            s = mdb_status(rc, "read document", err);
    }
    if (s == VT_OK)
        s = precond(pc, exists, cur.etag, err);
    if (s == VT_OK && require_precond && exists && !merge &&
        (pc == NULL || (pc->if_match == NULL && pc->if_none_match == NULL)))
        s = vt_error_set(err, VT_ERR_EXISTS,
                         "document exists: send If-Match or If-None-Match to overwrite it");
    const uint8_t *content = body;
    size_t clen = n;
    if (s == VT_OK && merge && exists) {
        /* Communication §1.4: POST merges JSON objects one level deep; otherwise 400. */
        json_t *a = NULL, *b = NULL;
        if (!is_json_ctype(cur.content_type) || !is_json_ctype(ct) ||
            (a = doc_json(cur.content.data, cur.content.len)) == NULL ||
            (b = doc_json(body, n)) == NULL || !json_is_object(a) || !json_is_object(b)) {
            s = vt_error_set(err, VT_ERR_INVALID,
                             "invalid request: POST merges only JSON objects (document.merge)");
        } else {
            json_object_update(a, b);
            merged_text = json_dumps(a, JSON_COMPACT);
            content = (const uint8_t *)merged_text;
            clen = strlen(merged_text);
        }
        json_decref(a);
        json_decref(b);
    } else if (s == VT_OK && merge && is_json_ctype(ct)) {
        json_t *b = NULL;
        if ((b = doc_json(body, n)) == NULL || !json_is_object(b))
            s = vt_error_set(err, VT_ERR_INVALID,
                             "invalid request: POST merges only JSON objects (document.merge)");
        json_decref(b);
    }
    if (s == VT_OK) {
        uint8_t head[9];
        vt_be64_put(head, (uint64_t)vt_time_now_ms());
        head[8] = (uint8_t)strlen(ct);
        vt_buf_reset(&out);
        s = vt_buf_append(&out, head, 9, err);
        if (s == VT_OK)
            s = vt_buf_append(&out, ct, strlen(ct), err);
        if (s == VT_OK)
            s = vt_buf_append(&out, content, clen, err);
    }
    if (s == VT_OK) {
        MDB_val nv = {out.len, out.data};
        rc = mdb_put(txn, st->docs, &k, &nv, 0);
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        txn = NULL;
        s = mdb_status(rc, "write document", err);
        if (s == VT_OK && etag_out != NULL)
            etag_of(content, clen, etag_out);
    }
    if (txn != NULL && s != VT_OK && rc == 0)
        mdb_txn_abort(txn);
    pthread_mutex_unlock(&st->wmu);
    free(merged_text);
    vt_buf_release(&out);
    xapi_doc_release(&cur);
    return s;
}

enum vt_status xapi_doc_delete(struct xapi_store *st, const struct xapi_doc_ref *ref,
                               const struct xapi_precond *pc, struct vt_error *err)
{
    uint8_t key[DOC_KEY_MAX];
    size_t kl;
    bool one = ref->doc_id != NULL;
    enum vt_status s = doc_key(ref, one, key, &kl, err);
    if (s != VT_OK)
        return s;
    struct xapi_doc cur;
    xapi_doc_init(&cur);
    pthread_mutex_lock(&st->wmu);
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    s = mdb_status(rc, "begin", err);
    if (s == VT_OK && one) {
        MDB_val k = {kl, key}, v;
        rc = mdb_get(txn, st->docs, &k, &v);
        bool exists = rc == 0 && doc_parse(&v, &cur);
        s = precond(pc, exists, cur.etag, err);
        if (s == VT_OK && exists) {
            rc = mdb_del(txn, st->docs, &k, NULL);
            s = mdb_status(rc, "delete document", err);
        }
    } else if (s == VT_OK) {
        MDB_cursor *c;
        mdb_cursor_open(txn, st->docs, &c);
        MDB_val k = {kl, key}, v;
        for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
             rc == 0 && k.mv_size >= kl && memcmp(k.mv_data, key, kl) == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            rc = mdb_cursor_del(c, 0);
            if (rc != 0)
                break;
        }
        mdb_cursor_close(c);
        if (rc != 0 && rc != MDB_NOTFOUND)
            s = mdb_status(rc, "delete documents", err);
    }
    if (s == VT_OK) {
        s = mdb_status(mdb_txn_commit(txn), "commit", err);
    } else if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    pthread_mutex_unlock(&st->wmu);
    xapi_doc_release(&cur);
    return s;
}

enum vt_status xapi_doc_ids(struct xapi_store *st, const struct xapi_doc_ref *ref, bool has_since,
                            int64_t since_ms, json_t **out, struct vt_error *err)
{
    *out = NULL;
    uint8_t key[DOC_KEY_MAX];
    size_t kl;
    enum vt_status s = doc_key(ref, false, key, &kl, err);
    if (s != VT_OK)
        return s;
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return mdb_status(rc, "begin", err);
    MDB_cursor *c;
    mdb_cursor_open(txn, st->docs, &c);
    MDB_val k = {kl, key}, v;
    json_t *arr = json_array();
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
         rc == 0 && k.mv_size >= kl && memcmp(k.mv_data, key, kl) == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (v.mv_size < 9 || (has_since && (int64_t)vt_be64_get(v.mv_data) <= since_ms))
            continue;
        json_array_append_new(arr, json_stringn((const char *)k.mv_data + kl, k.mv_size - kl));
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    *out = arr;
    return VT_OK;
}
