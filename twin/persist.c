/* The twin's LMDB environment: record layouts in specs/twin.md §9.4. */
#include "twin/twin_int.h"

#include <errno.h>
#include <string.h>

#define TWIN_FORMAT "vitae-twin-1"

static enum vt_status mdb_status(int rc, struct vt_error *err, const char *what)
{
    enum vt_status st = rc == MDB_MAP_FULL ? VT_ERR_FULL
                        : rc == EACCES     ? VT_ERR_PERMISSION
                        : rc == ENOSPC     ? VT_ERR_FULL
                                           : VT_ERR_IO;
    return vt_error_set(err, st, "cannot %s twin state: %s", what, mdb_strerror(rc));
}

enum vt_status twin_persist_open(struct twin *t, struct vt_error *err)
{
    int rc = mdb_env_create(&t->env);
    if (rc != 0)
        return mdb_status(rc, err, "create");
    mdb_env_set_maxdbs(t->env, 4);
    mdb_env_set_mapsize(t->env, t->map_size);
    rc = mdb_env_open(t->env, t->dir, MDB_NOTLS, 0600);
    MDB_txn *txn = NULL;
    if (rc == 0)
        rc = mdb_txn_begin(t->env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &t->db_meta);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "learners", MDB_CREATE, &t->db_learners);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "defs", MDB_CREATE, &t->db_defs);
    if (rc == 0) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn != NULL)
        mdb_txn_abort(txn);
    if (rc != 0) {
        mdb_env_close(t->env);
        t->env = NULL;
        return mdb_status(rc, err, "open");
    }
    MDB_envinfo info;
    mdb_env_info(t->env, &info);
    if (info.me_mapsize > t->map_size)
        t->map_size = info.me_mapsize;
    return VT_OK;
}

void twin_persist_close(struct twin *t)
{
    if (t->env != NULL)
        mdb_env_close(t->env);
    t->env = NULL;
}

/* ---------------------------------------------------------------------------------------
 * Big-endian record writer and reader
 */

static void w_bytes(struct vt_buf *b, const void *p, size_t n)
{
    VT_ASSERT(vt_buf_append(b, p, n, NULL) == VT_OK);
}

static void w_u8(struct vt_buf *b, uint8_t v)
{
    w_bytes(b, &v, 1);
}

static void w_u32(struct vt_buf *b, uint32_t v)
{
    uint8_t x[4];
    vt_be32_put(x, v);
    w_bytes(b, x, 4);
}

static void w_u64(struct vt_buf *b, uint64_t v)
{
    uint8_t x[8];
    vt_be64_put(x, v);
    w_bytes(b, x, 8);
}

static void w_f64(struct vt_buf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    w_u64(b, u);
}

static void w_str(struct vt_buf *b, const char *s, size_t n)
{
    w_u32(b, (uint32_t)n);
    w_bytes(b, s, n);
}

struct rd {
    const uint8_t *p;
    size_t n, pos;
    bool bad;
};

static const uint8_t *r_take(struct rd *r, size_t n)
{
    if (r->bad || n > r->n - r->pos) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

static uint8_t r_u8(struct rd *r)
{
    const uint8_t *p = r_take(r, 1);
    return p ? p[0] : 0;
}

static uint32_t r_u32(struct rd *r)
{
    const uint8_t *p = r_take(r, 4);
    return p ? vt_be32_get(p) : 0;
}

static uint64_t r_u64(struct rd *r)
{
    const uint8_t *p = r_take(r, 8);
    return p ? vt_be64_get(p) : 0;
}

static double r_f64(struct rd *r)
{
    uint64_t u = r_u64(r);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* A string copied out (NUL-terminated, free it), or NULL when the record is short. */
static char *r_str(struct rd *r, size_t *len)
{
    uint32_t n = r_u32(r);
    const uint8_t *p = r_take(r, n);
    if (p == NULL)
        return NULL;
    char *s = vt_malloc((size_t)n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    *len = n;
    return s;
}

/* A count that the rest of the record can hold at min_size bytes per entry. */
static uint32_t r_count(struct rd *r, size_t min_size)
{
    uint32_t n = r_u32(r);
    if (!r->bad && (size_t)n > (r->n - r->pos) / min_size)
        r->bad = true;
    return r->bad ? 0 : n;
}

/* ---------------------------------------------------------------------------------------
 * Learner records
 */

static void learner_write(const struct twin *t, uint32_t id, struct vt_buf *b)
{
    const struct twin_learner *L = &t->lrn[id];
    w_bytes(b, twin_dict_key(&t->learners, id), LEDGER_LEARNER_LEN);
    w_u64(b, L->events);
    w_u64(b, L->attempts);
    w_u64(b, L->late);
    w_u64(b, L->rejected);
    w_u64(b, L->ignored);
    w_u64(b, (uint64_t)L->first_ms);
    w_u64(b, (uint64_t)L->last_ms);
    w_u64(b, L->last_index);
    w_u8(b, L->erased);
    w_u8(b, L->last_modality);
    for (unsigned m = 0; m < TWIN_MODALITY_COUNT; m++) {
        w_f64(b, L->mod_gain[m]);
        w_u32(b, L->mod_n[m]);
    }
    uint32_t n;
    const struct twin_skill_entry *e = twin_mastery_row(t->m, id, &n);
    w_u32(b, n);
    for (uint32_t i = 0; i < n; i++) {
        w_u32(b, e[i].skill);
        w_u32(b, e[i].attempts);
        w_u32(b, e[i].correct);
        w_u32(b, e[i].mastered_at);
        w_f64(b, e[i].p_known);
        w_u64(b, (uint64_t)e[i].last_ms);
    }
    w_u32(b, L->n_courses);
    for (uint32_t i = 0; i < L->n_courses; i++) {
        const struct twin_lcourse *c = &L->courses[i];
        w_u32(b, c->course);
        w_u8(b, c->status);
        w_u8(b, c->last_modality);
        w_u64(b, (uint64_t)c->enrolled_ms);
        w_u64(b, (uint64_t)c->last_ms);
        w_u32(b, c->activities);
        w_u32(b, c->graded);
        w_u32(b, c->modules_started);
        w_u32(b, c->modules_completed);
        w_u32(b, c->attempts);
        w_u64(b, c->seconds);
        w_f64(b, c->score_sum);
        for (unsigned g = 0; g < TWIN_GRADES; g++) {
            w_u64(b, (uint64_t)c->grades[g].time_ms);
            w_f64(b, c->grades[g].score);
        }
        for (unsigned m = 0; m < TWIN_MODALITY_COUNT; m++) {
            w_f64(b, c->mod_gain[m]);
            w_u32(b, c->mod_n[m]);
        }
    }
    w_u32(b, L->n_modules);
    for (uint32_t i = 0; i < L->n_modules; i++) {
        const struct twin_lmodule *m = &L->modules[i];
        w_u32(b, m->module);
        w_u32(b, m->course);
        w_u8(b, m->modality);
        w_f64(b, m->completion);
        w_u64(b, m->seconds);
        w_u64(b, (uint64_t)m->completed_ms);
    }
    w_u32(b, L->n_items);
    for (uint32_t i = 0; i < L->n_items; i++) {
        w_u32(b, L->items[i].item);
        w_u32(b, L->items[i].course);
        w_u32(b, L->items[i].attempts);
        w_f64(b, L->items[i].first_score);
    }
    w_u32(b, L->n_roles);
    for (uint32_t i = 0; i < L->n_roles; i++)
        w_u32(b, L->roles[i]);
    w_u64(b, L->ring_n);
    for (unsigned i = 0; i < TWIN_RING; i++) {
        const struct twin_recent *r = &L->ring[i];
        w_u64(b, r->index);
        w_u64(b, (uint64_t)r->time_ms);
        w_f64(b, r->score);
        w_f64(b, r->gain);
        w_u32(b, r->duration_ms);
        w_u32(b, r->hints);
        w_u32(b, r->item);
        w_u32(b, r->skill);
        w_u32(b, r->attempt_no);
    }
}

static bool learner_read(struct twin *t, uint32_t id, struct rd *r)
{
    struct twin_learner *L = &t->lrn[id];
    L->events = r_u64(r);
    L->attempts = r_u64(r);
    L->late = r_u64(r);
    L->rejected = r_u64(r);
    L->ignored = r_u64(r);
    L->first_ms = (int64_t)r_u64(r);
    L->last_ms = (int64_t)r_u64(r);
    L->last_index = r_u64(r);
    L->erased = r_u8(r) != 0;
    L->last_modality = r_u8(r);
    for (unsigned m = 0; m < TWIN_MODALITY_COUNT; m++) {
        L->mod_gain[m] = r_f64(r);
        L->mod_n[m] = r_u32(r);
    }
    uint32_t n = r_count(r, 32);
    struct twin_skill_entry *e = vt_calloc(n + 1, sizeof(*e));
    for (uint32_t i = 0; i < n; i++) {
        e[i].skill = r_u32(r);
        e[i].attempts = r_u32(r);
        e[i].correct = r_u32(r);
        e[i].mastered_at = r_u32(r);
        e[i].p_known = r_f64(r);
        e[i].last_ms = (int64_t)r_u64(r);
        if (e[i].skill >= t->skills.n || (i > 0 && e[i].skill <= e[i - 1].skill))
            r->bad = true;
    }
    if (!r->bad)
        twin_mastery_row_set(t->m, id, e, n);
    free(e);
    L->n_courses = L->cap_courses = r_count(r, 100);
    L->courses = vt_calloc(L->n_courses + 1, sizeof(*L->courses));
    for (uint32_t i = 0; i < L->n_courses; i++) {
        struct twin_lcourse *c = &L->courses[i];
        c->course = r_u32(r);
        c->status = r_u8(r);
        c->last_modality = r_u8(r);
        c->enrolled_ms = (int64_t)r_u64(r);
        c->last_ms = (int64_t)r_u64(r);
        c->activities = r_u32(r);
        c->graded = r_u32(r);
        c->modules_started = r_u32(r);
        c->modules_completed = r_u32(r);
        c->attempts = r_u32(r);
        c->seconds = r_u64(r);
        c->score_sum = r_f64(r);
        for (unsigned g = 0; g < TWIN_GRADES; g++) {
            c->grades[g].time_ms = (int64_t)r_u64(r);
            c->grades[g].score = r_f64(r);
        }
        for (unsigned m = 0; m < TWIN_MODALITY_COUNT; m++) {
            c->mod_gain[m] = r_f64(r);
            c->mod_n[m] = r_u32(r);
        }
        if (c->course >= t->courses.n)
            r->bad = true;
    }
    L->n_modules = L->cap_modules = r_count(r, 33);
    L->modules = vt_calloc(L->n_modules + 1, sizeof(*L->modules));
    for (uint32_t i = 0; i < L->n_modules; i++) {
        struct twin_lmodule *m = &L->modules[i];
        m->module = r_u32(r);
        m->course = r_u32(r);
        m->modality = r_u8(r);
        m->completion = r_f64(r);
        m->seconds = r_u64(r);
        m->completed_ms = (int64_t)r_u64(r);
        if (m->module >= t->modules.n || m->modality >= TWIN_MODALITY_COUNT)
            r->bad = true;
    }
    L->n_items = L->cap_items = r_count(r, 20);
    L->items = vt_calloc(L->n_items + 1, sizeof(*L->items));
    for (uint32_t i = 0; i < L->n_items; i++) {
        L->items[i].item = r_u32(r);
        L->items[i].course = r_u32(r);
        L->items[i].attempts = r_u32(r);
        L->items[i].first_score = r_f64(r);
        if (L->items[i].item >= t->items.n)
            r->bad = true;
    }
    L->n_roles = L->cap_roles = r_count(r, 4);
    L->roles = vt_calloc(L->n_roles + 1, sizeof(*L->roles));
    for (uint32_t i = 0; i < L->n_roles; i++) {
        L->roles[i] = r_u32(r);
        if (L->roles[i] >= t->roles.n)
            r->bad = true;
    }
    L->ring_n = r_u64(r);
    for (unsigned i = 0; i < TWIN_RING; i++) {
        struct twin_recent *x = &L->ring[i];
        x->index = r_u64(r);
        x->time_ms = (int64_t)r_u64(r);
        x->score = r_f64(r);
        x->gain = r_f64(r);
        x->duration_ms = r_u32(r);
        x->hints = r_u32(r);
        x->item = r_u32(r);
        x->skill = r_u32(r);
        x->attempt_no = r_u32(r);
    }
    return !r->bad && r->pos == r->n;
}

/* ---------------------------------------------------------------------------------------
 * Definitions: key = kind ‖ be32(id)
 */

enum { DEF_COURSE = 'c', DEF_ITEM = 'i', DEF_MODULE = 'm', DEF_ROLE = 'r', DEF_SKILL = 's' };

static void def_write(const struct twin *t, uint8_t kind, uint32_t id, struct vt_buf *b)
{
    const struct twin_dict *d = kind == DEF_COURSE   ? &t->courses
                                : kind == DEF_ITEM   ? &t->items
                                : kind == DEF_MODULE ? &t->modules
                                : kind == DEF_ROLE   ? &t->roles
                                                     : &t->skills;
    w_str(b, d->keys[id], d->lens[id]);
    if (kind == DEF_SKILL) {
        const struct twin_skill_def *s = &t->sk[id];
        w_str(b, s->name ? s->name : "", s->name ? strlen(s->name) : 0);
        w_u32(b, s->levels);
        w_u32(b, s->parent);
        w_u32(b, s->n_pre);
        for (uint32_t k = 0; k < s->n_pre; k++) {
            w_u32(b, s->pre[k].skill);
            w_u8(b, s->pre[k].hard);
        }
    } else if (kind == DEF_ITEM) {
        w_u32(b, t->it[id].n);
        for (uint32_t k = 0; k < t->it[id].n; k++)
            w_u32(b, t->it[id].skills[k]);
    } else if (kind == DEF_ROLE) {
        const struct twin_role_def *r = &t->ro[id];
        w_u8(b, r->defined);
        w_str(b, r->name ? r->name : "", r->name ? strlen(r->name) : 0);
        w_u32(b, r->n);
        for (uint32_t k = 0; k < r->n; k++) {
            w_u32(b, r->req[k].skill);
            w_f64(b, r->req[k].level);
            w_f64(b, r->req[k].weight);
        }
    }
}

static bool def_read(struct twin *t, uint8_t kind, uint32_t id, struct rd *r)
{
    struct twin_dict *d = kind == DEF_COURSE   ? &t->courses
                          : kind == DEF_ITEM   ? &t->items
                          : kind == DEF_MODULE ? &t->modules
                          : kind == DEF_ROLE   ? &t->roles
                          : kind == DEF_SKILL  ? &t->skills
                                               : NULL;
    size_t len;
    char *key = d != NULL ? r_str(r, &len) : NULL;
    if (key == NULL)
        return false;
    bool added;
    uint32_t got = twin_dict_add(d, key, len, &added);
    free(key);
    if (!added || got != id)
        return false;
    twin_state_fit(t);
    if (kind == DEF_SKILL) {
        struct twin_skill_def *s = &t->sk[id];
        s->name = r_str(r, &len);
        s->levels = r_u32(r);
        s->parent = r_u32(r);
        s->n_pre = s->cap_pre = r_count(r, 5);
        s->pre = vt_calloc(s->n_pre + 1, sizeof(*s->pre));
        for (uint32_t k = 0; k < s->n_pre; k++) {
            s->pre[k].skill = r_u32(r);
            s->pre[k].hard = r_u8(r) != 0;
        }
    } else if (kind == DEF_ITEM) {
        t->it[id].n = r_u32(r);
        if (t->it[id].n > TWIN_ATTEMPT_MAX_SKILLS)
            return false;
        for (uint32_t k = 0; k < t->it[id].n; k++)
            t->it[id].skills[k] = r_u32(r);
    } else if (kind == DEF_ROLE) {
        struct twin_role_def *ro = &t->ro[id];
        ro->defined = r_u8(r) != 0;
        ro->name = r_str(r, &len);
        ro->n = r_count(r, 20);
        ro->req = vt_calloc(ro->n + 1, sizeof(*ro->req));
        for (uint32_t k = 0; k < ro->n; k++) {
            ro->req[k].skill = r_u32(r);
            ro->req[k].level = r_f64(r);
            ro->req[k].weight = r_f64(r);
        }
    }
    return !r->bad && r->pos == r->n;
}

/* Skill references in definitions point at skills loaded after them ('s' sorts last). */
static bool defs_consistent(const struct twin *t)
{
    size_t ns = t->skills.n;
    for (size_t i = 0; i < ns; i++) {
        if (t->sk[i].parent != TWIN_NO_ID && t->sk[i].parent >= ns)
            return false;
        for (uint32_t k = 0; k < t->sk[i].n_pre; k++) {
            if (t->sk[i].pre[k].skill >= ns)
                return false;
        }
    }
    for (size_t i = 0; i < t->items.n; i++) {
        for (uint32_t k = 0; k < t->it[i].n; k++) {
            if (t->it[i].skills[k] >= ns)
                return false;
        }
    }
    for (size_t i = 0; i < t->roles.n; i++) {
        for (uint32_t k = 0; k < t->ro[i].n; k++) {
            if (t->ro[i].req[k].skill >= ns)
                return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------------------------------
 * Save, load, drop
 */

static void ledger_id(const struct twin *t, uint8_t out[VT_SHA256_LEN])
{
    struct vt_sha256 *h = vt_sha256_new();
    const char *origin = ledger_origin(t->l);
    vt_sha256_update(h, origin, strlen(origin) + 1);
    vt_sha256_update(h, ledger_public_key(t->l), VT_ED25519_PK_LEN);
    vt_sha256_final(h, out);
    vt_sha256_free(h);
}

static int put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kn, const void *v, size_t vn)
{
    MDB_val key = {kn, (void *)k}, val = {vn, (void *)v};
    return mdb_put(txn, dbi, &key, &val, 0);
}

static int save_def(struct twin *t, MDB_txn *txn, uint8_t kind, uint32_t id, struct vt_buf *b)
{
    uint8_t key[5];
    key[0] = kind;
    vt_be32_put(key + 1, id);
    vt_buf_reset(b);
    def_write(t, kind, id, b);
    return put(txn, t->db_defs, key, 5, b->data, b->len);
}

static int save_txn(struct twin *t, MDB_txn *txn, struct vt_buf *b)
{
    int rc = 0;
    for (size_t i = t->saved_courses; i < t->courses.n && rc == 0; i++)
        rc = save_def(t, txn, DEF_COURSE, (uint32_t)i, b);
    for (size_t i = t->saved_modules; i < t->modules.n && rc == 0; i++)
        rc = save_def(t, txn, DEF_MODULE, (uint32_t)i, b);
    for (size_t i = 0; i < t->skills.n && rc == 0; i++) {
        if (t->sk[i].dirty)
            rc = save_def(t, txn, DEF_SKILL, (uint32_t)i, b);
    }
    for (size_t i = 0; i < t->items.n && rc == 0; i++) {
        if (t->it[i].dirty)
            rc = save_def(t, txn, DEF_ITEM, (uint32_t)i, b);
    }
    for (size_t i = 0; i < t->roles.n && rc == 0; i++) {
        if (t->ro[i].dirty)
            rc = save_def(t, txn, DEF_ROLE, (uint32_t)i, b);
    }
    for (size_t i = 0; i < t->n_dirty && rc == 0; i++) {
        uint8_t key[4];
        vt_be32_put(key, t->dirty[i]);
        vt_buf_reset(b);
        learner_write(t, t->dirty[i], b);
        rc = put(txn, t->db_learners, key, 4, b->data, b->len);
    }
    uint8_t cur[8], lid[VT_SHA256_LEN];
    vt_be64_put(cur, t->cursor);
    ledger_id(t, lid);
    if (rc == 0)
        rc = put(txn, t->db_meta, "cursor", 6, cur, 8);
    if (rc == 0)
        rc = put(txn, t->db_meta, "format", 6, TWIN_FORMAT, strlen(TWIN_FORMAT));
    if (rc == 0)
        rc = put(txn, t->db_meta, "ledger", 6, lid, sizeof(lid));
    return rc;
}

enum vt_status twin_persist_save(struct twin *t, struct vt_error *err)
{
    struct vt_buf b;
    vt_buf_init(&b, (size_t)1 << 30);
    int rc;
    for (;;) {
        MDB_txn *txn;
        rc = mdb_txn_begin(t->env, NULL, 0, &txn);
        if (rc != 0)
            break;
        rc = save_txn(t, txn, &b);
        if (rc == 0) {
            rc = mdb_txn_commit(txn);
        } else {
            mdb_txn_abort(txn);
        }
        if (rc != MDB_MAP_FULL || t->map_size > ((size_t)1 << 40))
            break;
        /* The twin is the only user of its environment, and no transaction is open here. */
        t->map_size *= 2;
        rc = mdb_env_set_mapsize(t->env, t->map_size);
        if (rc != 0)
            break;
    }
    vt_buf_release(&b);
    if (rc != 0)
        return mdb_status(rc, err, "save");
    t->saved_courses = t->courses.n;
    t->saved_modules = t->modules.n;
    for (size_t i = 0; i < t->skills.n; i++)
        t->sk[i].dirty = false;
    for (size_t i = 0; i < t->items.n; i++)
        t->it[i].dirty = false;
    for (size_t i = 0; i < t->roles.n; i++)
        t->ro[i].dirty = false;
    for (size_t i = 0; i < t->n_dirty; i++)
        t->lrn[t->dirty[i]].dirty = false;
    t->n_dirty = 0;
    return VT_OK;
}

static enum vt_status corrupt(struct vt_error *err, const char *what)
{
    return vt_error_set(err, VT_ERR_INVALID, "corrupt twin state: bad %s record (rebuild the twin)",
                        what);
}

enum vt_status twin_persist_load(struct twin *t, struct vt_error *err)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(t->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return mdb_status(rc, err, "read");
    MDB_val k = {6, "format"}, v;
    bool fresh = mdb_get(txn, t->db_meta, &k, &v) != 0 || v.mv_size != strlen(TWIN_FORMAT) ||
                 memcmp(v.mv_data, TWIN_FORMAT, v.mv_size) != 0;
    uint8_t lid[VT_SHA256_LEN];
    ledger_id(t, lid);
    k = (MDB_val){6, "ledger"};
    if (!fresh)
        fresh = mdb_get(txn, t->db_meta, &k, &v) != 0 || v.mv_size != sizeof(lid) ||
                memcmp(v.mv_data, lid, sizeof(lid)) != 0;
    k = (MDB_val){6, "cursor"};
    if (!fresh && (mdb_get(txn, t->db_meta, &k, &v) != 0 || v.mv_size != 8))
        fresh = true;
    if (fresh) {
        mdb_txn_abort(txn);
        return twin_persist_drop(t, err);
    }
    uint64_t cursor = vt_be64_get(v.mv_data);
    enum vt_status st = VT_OK;
    MDB_cursor *cur;
    rc = mdb_cursor_open(txn, t->db_defs, &cur);
    if (rc == 0) {
        for (int op = MDB_FIRST; st == VT_OK; op = MDB_NEXT) {
            rc = mdb_cursor_get(cur, &k, &v, (MDB_cursor_op)op);
            if (rc != 0)
                break;
            struct rd r = {v.mv_data, v.mv_size, 0, false};
            const uint8_t *kb = k.mv_data;
            if (k.mv_size != 5 || !def_read(t, kb[0], vt_be32_get(kb + 1), &r))
                st = corrupt(err, "definition");
        }
        mdb_cursor_close(cur);
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (st == VT_OK && rc == 0 && !defs_consistent(t))
        st = corrupt(err, "definition");
    if (st == VT_OK && rc == 0)
        rc = mdb_cursor_open(txn, t->db_learners, &cur);
    if (st == VT_OK && rc == 0) {
        for (int op = MDB_FIRST; st == VT_OK; op = MDB_NEXT) {
            rc = mdb_cursor_get(cur, &k, &v, (MDB_cursor_op)op);
            if (rc != 0)
                break;
            uint32_t id = k.mv_size == 4 ? vt_be32_get(k.mv_data) : TWIN_NO_ID;
            bool added;
            if (v.mv_size < LEDGER_LEARNER_LEN ||
                twin_dict_add(&t->learners, v.mv_data, LEDGER_LEARNER_LEN, &added) != id ||
                !added) {
                st = corrupt(err, "learner");
                break;
            }
            twin_state_fit(t);
            struct rd r = {v.mv_data, v.mv_size, LEDGER_LEARNER_LEN, false};
            if (!learner_read(t, id, &r))
                st = corrupt(err, "learner");
        }
        mdb_cursor_close(cur);
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    mdb_txn_abort(txn);
    if (st == VT_OK && rc != 0 && rc != MDB_NOTFOUND)
        st = mdb_status(rc, err, "read");
    if (st != VT_OK) {
        twin_state_clear(t);
        return st;
    }
    t->saved_courses = t->courses.n;
    t->saved_modules = t->modules.n;
    t->cursor = cursor;
    return VT_OK;
}

enum vt_status twin_persist_drop(struct twin *t, struct vt_error *err)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(t->env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_drop(txn, t->db_meta, 0);
    if (rc == 0)
        rc = mdb_drop(txn, t->db_learners, 0);
    if (rc == 0)
        rc = mdb_drop(txn, t->db_defs, 0);
    if (rc == 0) {
        rc = mdb_txn_commit(txn);
    } else if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    if (rc != 0)
        return mdb_status(rc, err, "clear");
    return VT_OK;
}

static int digest_db(MDB_txn *txn, MDB_dbi dbi, struct vt_sha256 *h)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    for (int op = MDB_FIRST; (rc = mdb_cursor_get(cur, &k, &v, (MDB_cursor_op)op)) == 0;
         op = MDB_NEXT) {
        uint8_t len[4];
        vt_be32_put(len, (uint32_t)k.mv_size);
        vt_sha256_update(h, len, 4);
        vt_sha256_update(h, k.mv_data, k.mv_size);
        vt_be32_put(len, (uint32_t)v.mv_size);
        vt_sha256_update(h, len, 4);
        vt_sha256_update(h, v.mv_data, v.mv_size);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

enum vt_status twin_state_digest(const struct twin *t, uint8_t out[VT_SHA256_LEN],
                                 struct vt_error *err)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(t->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return mdb_status(rc, err, "read");
    struct vt_sha256 *h = vt_sha256_new();
    rc = digest_db(txn, t->db_meta, h);
    if (rc == 0)
        rc = digest_db(txn, t->db_defs, h);
    if (rc == 0)
        rc = digest_db(txn, t->db_learners, h);
    mdb_txn_abort(txn);
    vt_sha256_final(h, out);
    vt_sha256_free(h);
    return rc == 0 ? VT_OK : mdb_status(rc, err, "read");
}
