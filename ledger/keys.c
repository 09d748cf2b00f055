/* Payload encryption, per-learner data keys and the key-encryption key (specs/ledger.md §7). */
#include "ledger/ledger_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define KEYS_MAP_SIZE ((size_t)64 << 20)
#define DEK_AD "vitae/dek/v1\n"
#define KEK_ID_DOMAIN "vitae/kek-id/v1\n"
#define KEK_ID_LEN 16
#define DEK_RECORD_LEN LEDGER_DEK_RECORD_LEN
#define DEK_LIVE 1
#define DEK_ERASED 0

static uint8_t cache_hash_key[crypto_shorthash_KEYBYTES];
static pthread_once_t cache_hash_once = PTHREAD_ONCE_INIT;

static void cache_hash_init(void)
{
    vt_random_bytes(cache_hash_key, sizeof(cache_hash_key));
}

/* ---- payload records ------------------------------------------------------------------ */

static void payload_ad(const uint8_t learner[LEDGER_LEARNER_LEN], uint64_t seq,
                       uint8_t ad[LEDGER_LEARNER_LEN + 8])
{
    memcpy(ad, learner, LEDGER_LEARNER_LEN);
    vt_be64_put(ad + LEDGER_LEARNER_LEN, seq);
}

void ledger_commitment(const uint8_t salt[LEDGER_SALT_LEN], const uint8_t *pt, size_t n,
                       uint8_t out[VT_SHA256_LEN])
{
    vt_sha256_two(salt, LEDGER_SALT_LEN, pt, n, out);
}

enum vt_status ledger_payload_seal(const uint8_t dek[LEDGER_DEK_LEN], uint8_t flag,
                                   const uint8_t learner[LEDGER_LEARNER_LEN], uint64_t seq,
                                   const uint8_t salt[LEDGER_SALT_LEN], const uint8_t *pt, size_t n,
                                   const uint8_t *nonce_in, struct vt_buf *record,
                                   struct vt_error *err)
{
    size_t total;
    if (!vt_size_add(n, 1 + LEDGER_NONCE_LEN + LEDGER_SALT_LEN + LEDGER_TAG_LEN, &total))
        return vt_error_set(err, VT_ERR_TOO_LARGE, "payload too large");
    size_t start = record->len;
    enum vt_status st = vt_buf_grow(record, total, err);
    if (st != VT_OK)
        return st;
    uint8_t *p = record->data + start;
    p[0] = flag;
    uint8_t *nonce = p + 1;
    uint8_t *m = nonce + LEDGER_NONCE_LEN;
    if (nonce_in)
        memcpy(nonce, nonce_in, LEDGER_NONCE_LEN);
    else
        vt_random_bytes(nonce, LEDGER_NONCE_LEN);
    memcpy(m, salt, LEDGER_SALT_LEN);
    if (n)
        memcpy(m + LEDGER_SALT_LEN, pt, n);
    uint8_t ad[LEDGER_LEARNER_LEN + 8];
    payload_ad(learner, seq, ad);
    /* In place: the stream cipher XORs m into itself and the tag follows the ciphertext. */
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
        m, m + LEDGER_SALT_LEN + n, NULL, m, LEDGER_SALT_LEN + n, ad, sizeof(ad), NULL, nonce, dek);
    record->len = start + total;
    record->data[record->len] = 0;
    return VT_OK;
}

enum vt_status ledger_payload_open(const uint8_t dek[LEDGER_DEK_LEN],
                                   const uint8_t learner[LEDGER_LEARNER_LEN], uint64_t seq,
                                   const uint8_t *record, size_t n, struct vt_buf *out,
                                   struct vt_error *err)
{
    const size_t overhead = 1 + LEDGER_NONCE_LEN + LEDGER_SALT_LEN + LEDGER_TAG_LEN;
    if (n < overhead)
        return vt_error_set(err, VT_ERR_INVALID, "payload record of %zu bytes is too short", n);
    if (record[0] != LEDGER_PAYLOAD_NATIVE && record[0] != LEDGER_PAYLOAD_IMPORTED)
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "payload record format %u", record[0]);
    size_t mlen = n - overhead + LEDGER_SALT_LEN;
    size_t start = out->len;
    enum vt_status st = vt_buf_grow(out, mlen, err);
    if (st != VT_OK)
        return st;
    uint8_t ad[LEDGER_LEARNER_LEN + 8];
    payload_ad(learner, seq, ad);
    const uint8_t *nonce = record + 1;
    const uint8_t *c = nonce + LEDGER_NONCE_LEN;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            out->data + start, NULL, c, mlen, c + mlen, ad, sizeof(ad), nonce, dek) != 0)
        return vt_error_set(err, VT_ERR_VERIFY, "payload does not decrypt");
    out->len = start + mlen;
    out->data[out->len] = 0;
    return VT_OK;
}

/* ---- data-key wrapping ---------------------------------------------------------------- */

static void dek_ad(const uint8_t learner[LEDGER_LEARNER_LEN],
                   uint8_t ad[sizeof(DEK_AD) - 1 + LEDGER_LEARNER_LEN])
{
    memcpy(ad, DEK_AD, sizeof(DEK_AD) - 1);
    memcpy(ad + sizeof(DEK_AD) - 1, learner, LEDGER_LEARNER_LEN);
}

/* nonce: LEDGER_NONCE_LEN fresh random bytes, or NULL to draw them here. */
static void dek_wrap(const uint8_t kek[LEDGER_KEK_LEN], const uint8_t learner[LEDGER_LEARNER_LEN],
                     const uint8_t dek[LEDGER_DEK_LEN], const uint8_t *nonce,
                     uint8_t rec[DEK_RECORD_LEN])
{
    uint8_t ad[sizeof(DEK_AD) - 1 + LEDGER_LEARNER_LEN];
    dek_ad(learner, ad);
    rec[0] = DEK_LIVE;
    if (nonce)
        memcpy(rec + 1, nonce, LEDGER_NONCE_LEN);
    else
        vt_random_bytes(rec + 1, LEDGER_NONCE_LEN);
    crypto_aead_xchacha20poly1305_ietf_encrypt(rec + 1 + LEDGER_NONCE_LEN, NULL, dek,
                                               LEDGER_DEK_LEN, ad, sizeof(ad), NULL, rec + 1, kek);
}

static enum vt_status dek_unwrap(const uint8_t kek[LEDGER_KEK_LEN],
                                 const uint8_t learner[LEDGER_LEARNER_LEN], const MDB_val *v,
                                 uint8_t dek[LEDGER_DEK_LEN], bool *erased, struct vt_error *err)
{
    const uint8_t *rec = v->mv_data;
    *erased = false;
    if (v->mv_size == 1 && rec[0] == DEK_ERASED) {
        *erased = true;
        return VT_OK;
    }
    if (v->mv_size != DEK_RECORD_LEN || rec[0] != DEK_LIVE)
        return vt_error_set(err, VT_ERR_INVALID, "data key record of %zu bytes is malformed",
                            v->mv_size);
    uint8_t ad[sizeof(DEK_AD) - 1 + LEDGER_LEARNER_LEN];
    dek_ad(learner, ad);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(dek, NULL, NULL, rec + 1 + LEDGER_NONCE_LEN,
                                                   LEDGER_DEK_LEN + LEDGER_TAG_LEN, ad, sizeof(ad),
                                                   rec + 1, kek) != 0)
        return vt_error_set(err, VT_ERR_VERIFY, "data key does not unwrap under the KEK");
    return VT_OK;
}

/* ---- writer-side cache ---------------------------------------------------------------- */

static size_t cache_slot(const struct ledger_dek_cache *c, const uint8_t *learner)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, learner, LEDGER_LEARNER_LEN, cache_hash_key);
    size_t i = (size_t)vt_be64_get(h) & (c->cap - 1);
    while (c->slots[i].state != 0 && memcmp(c->slots[i].learner, learner, LEDGER_LEARNER_LEN) != 0)
        i = (i + 1) & (c->cap - 1);
    return i;
}

static void cache_grow(struct ledger_dek_cache *c)
{
    struct ledger_dek_cache old = *c;
    c->cap = old.cap ? old.cap * 2 : 1024;
    size_t bytes;
    VT_ASSERT(vt_size_mul(c->cap, sizeof(*c->slots), &bytes));
    c->slots = sodium_malloc(bytes);
    VT_ASSERT(c->slots != NULL);
    memset(c->slots, 0, bytes);
    for (size_t i = 0; i < old.cap; i++) {
        if (old.slots[i].state != 0)
            c->slots[cache_slot(c, old.slots[i].learner)] = old.slots[i];
    }
    if (old.slots)
        sodium_free(old.slots); /* wipes */
}

static void cache_put(struct ledger_dek_cache *c, const uint8_t *learner, const uint8_t *dek,
                      uint8_t state)
{
    if ((c->used + 1) * 2 > c->cap)
        cache_grow(c);
    struct ledger_dek_entry *e = &c->slots[cache_slot(c, learner)];
    if (e->state == 0)
        c->used++;
    memcpy(e->learner, learner, LEDGER_LEARNER_LEN);
    if (dek)
        memcpy(e->key, dek, LEDGER_DEK_LEN);
    else
        sodium_memzero(e->key, LEDGER_DEK_LEN);
    e->state = state;
}

void ledger_dek_cache_free(struct ledger_dek_cache *c)
{
    if (c->slots)
        sodium_free(c->slots);
    memset(c, 0, sizeof(*c));
}

bool ledger_dek_cached(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                       uint8_t dek[LEDGER_DEK_LEN], bool *erased)
{
    struct ledger_dek_cache *c = &l->deks;
    *erased = false;
    if (!c->cap)
        return false;
    struct ledger_dek_entry *e = &c->slots[cache_slot(c, learner)];
    if (e->state == 0)
        return false;
    *erased = e->state == 2;
    if (!*erased)
        memcpy(dek, e->key, LEDGER_DEK_LEN);
    return true;
}

enum vt_status ledger_dek_lookup(struct ledger *l, MDB_txn *ktxn,
                                 const uint8_t learner[LEDGER_LEARNER_LEN],
                                 uint8_t dek[LEDGER_DEK_LEN], bool *erased, bool *found,
                                 struct vt_error *err)
{
    *erased = false;
    *found = false;
    MDB_val key = {LEDGER_LEARNER_LEN, (void *)learner}, val;
    int rc = mdb_get(ktxn, l->db_deks, &key, &val);
    if (rc == MDB_NOTFOUND)
        return VT_OK;
    if (rc != 0)
        return ledger_mdb_error(rc, err, "read a data key");
    pthread_rwlock_rdlock(&l->kek_lock);
    enum vt_status st = dek_unwrap(l->kek, learner, &val, dek, erased, err);
    pthread_rwlock_unlock(&l->kek_lock);
    if (st != VT_OK)
        return st;
    *found = true;
    cache_put(&l->deks, learner, *erased ? NULL : dek, *erased ? 2 : 1);
    return VT_OK;
}

enum vt_status ledger_dek_get(struct ledger *l, MDB_txn *ktxn,
                              const uint8_t learner[LEDGER_LEARNER_LEN],
                              uint8_t dek[LEDGER_DEK_LEN], bool *erased, bool *found,
                              struct vt_error *err)
{
    *found = ledger_dek_cached(l, learner, dek, erased);
    if (*found)
        return VT_OK;
    return ledger_dek_lookup(l, ktxn, learner, dek, erased, found, err);
}

void ledger_dek_new(struct ledger *l, const uint8_t *fresh, struct ledger_dek_record *r,
                    uint8_t dek[LEDGER_DEK_LEN])
{
    memcpy(dek, fresh, LEDGER_DEK_LEN);
    pthread_rwlock_rdlock(&l->kek_lock);
    dek_wrap(l->kek, r->learner, dek, fresh + LEDGER_DEK_LEN, r->rec);
    pthread_rwlock_unlock(&l->kek_lock);
}

struct dek_batch {
    const struct ledger_dek_record *recs;
    size_t n;
};

static enum vt_status store_in_txn(struct ledger *l, MDB_txn *txn, const void *arg,
                                   struct vt_error *err)
{
    const struct dek_batch *d = arg;
    for (size_t i = 0; i < d->n; i++) {
        MDB_val key = {LEDGER_LEARNER_LEN, (void *)d->recs[i].learner};
        MDB_val val = {DEK_RECORD_LEN, (void *)d->recs[i].rec};
        int rc = mdb_put(txn, l->db_deks, &key, &val, 0);
        if (rc != 0)
            return ledger_mdb_error(rc, err, "store a data key");
    }
    return VT_OK;
}

void ledger_dek_cache_put(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                          const uint8_t dek[LEDGER_DEK_LEN])
{
    cache_put(&l->deks, learner, dek, 1);
}

enum vt_status ledger_dek_read(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                               uint8_t dek[LEDGER_DEK_LEN], bool *erased, struct vt_error *err)
{
    pthread_rwlock_rdlock(&l->txn_lock);
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->kenv, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        pthread_rwlock_unlock(&l->txn_lock);
        return ledger_mdb_error(rc, err, "begin a key transaction");
    }
    MDB_val key = {LEDGER_LEARNER_LEN, (void *)learner}, val;
    enum vt_status st = VT_OK;
    rc = mdb_get(txn, l->db_deks, &key, &val);
    if (rc == MDB_NOTFOUND) {
        st = vt_error_set(err, VT_ERR_NOT_FOUND, "learner has no data key");
    } else if (rc != 0) {
        st = ledger_mdb_error(rc, err, "read a data key");
    } else {
        pthread_rwlock_rdlock(&l->kek_lock);
        st = dek_unwrap(l->kek, learner, &val, dek, erased, err);
        pthread_rwlock_unlock(&l->kek_lock);
    }
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&l->txn_lock);
    return st;
}

/* Runs fn in a keys-env write transaction, growing the map when it fills. */
static enum vt_status keys_write(struct ledger *l,
                                 enum vt_status (*fn)(struct ledger *, MDB_txn *, const void *,
                                                      struct vt_error *),
                                 const void *arg, struct vt_error *err)
{
    for (;;) {
        MDB_txn *txn;
        int rc = mdb_txn_begin(l->kenv, NULL, 0, &txn);
        if (rc != 0)
            return ledger_mdb_error(rc, err, "begin a key transaction");
        enum vt_status st = fn(l, txn, arg, err);
        if (st != VT_OK) {
            mdb_txn_abort(txn);
            if (st == VT_ERR_FULL) {
                st = ledger_grow_map(l, l->kenv, &l->kmap_size, err);
                if (st == VT_OK)
                    continue;
            }
            return st;
        }
        rc = mdb_txn_commit(txn);
        if (rc == MDB_MAP_FULL) {
            st = ledger_grow_map(l, l->kenv, &l->kmap_size, err);
            if (st == VT_OK)
                continue;
            return st;
        }
        if (rc != 0)
            return ledger_mdb_error(rc, err, "commit the data keys");
        return VT_OK;
    }
}

enum vt_status ledger_dek_store(struct ledger *l, const struct ledger_dek_record *recs, size_t n,
                                struct vt_error *err)
{
    if (n == 0)
        return VT_OK;
    struct dek_batch d = {recs, n};
    return keys_write(l, store_in_txn, &d, err);
}

static enum vt_status destroy_in_txn(struct ledger *l, MDB_txn *txn, const void *arg,
                                     struct vt_error *err)
{
    uint8_t tomb = DEK_ERASED;
    MDB_val key = {LEDGER_LEARNER_LEN, (void *)arg}, val = {1, &tomb};
    int rc = mdb_put(txn, l->db_deks, &key, &val, 0);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "destroy a data key");
    return VT_OK;
}

enum vt_status ledger_dek_destroy(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                                  struct vt_error *err)
{
    enum vt_status st = keys_write(l, destroy_in_txn, learner, err);
    if (st != VT_OK)
        return st;
    l->keys_compact = true;
    if (!l->deks.cap)
        cache_grow(&l->deks);
    cache_put(&l->deks, learner, NULL, 2);
    return VT_OK;
}

/* ---- the key-encryption key ----------------------------------------------------------- */

static void kek_id(const uint8_t kek[LEDGER_KEK_LEN], uint8_t id[KEK_ID_LEN])
{
    uint8_t h[VT_SHA256_LEN];
    struct vt_sha256 *s = vt_sha256_new();
    vt_sha256_update(s, KEK_ID_DOMAIN, sizeof(KEK_ID_DOMAIN) - 1);
    vt_sha256_update(s, kek, LEDGER_KEK_LEN);
    vt_sha256_final(s, h);
    vt_sha256_free(s);
    memcpy(id, h, KEK_ID_LEN);
}

static char *path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name), n;
    VT_ASSERT(vt_size_add(a, b, &n) && vt_size_add(n, 2, &n));
    char *p = vt_malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static enum vt_status fsync_dir(const char *dir, struct vt_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return vt_error_set(err, VT_ERR_IO, "cannot open '%s': %s", dir, strerror(errno));
    int rc = fsync(fd);
    close(fd);
    if (rc != 0)
        return vt_error_set(err, VT_ERR_IO, "cannot sync '%s': %s", dir, strerror(errno));
    return VT_OK;
}

/* Writes the KEK to path durably (temporary file, fsync, rename, fsync dir), mode 0600. */
static enum vt_status kek_write(const char *dir, const char *name,
                                const uint8_t kek[LEDGER_KEK_LEN], struct vt_error *err)
{
    char *path = path_join(dir, name);
    char *tmp = path_join(dir, "kek.tmp");
    enum vt_status st = VT_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        st = vt_error_set(err, VT_ERR_IO, "cannot create '%s': %s", tmp, strerror(errno));
        goto out;
    }
    ssize_t w = write(fd, kek, LEDGER_KEK_LEN);
    int rc = fsync(fd);
    close(fd);
    if (w != LEDGER_KEK_LEN || rc != 0 || rename(tmp, path) != 0) {
        st = vt_error_set(err, VT_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    st = fsync_dir(dir, err);
out:
    free(path);
    free(tmp);
    return st;
}

static enum vt_status kek_read(const char *dir, const char *name, uint8_t kek[LEDGER_KEK_LEN],
                               struct vt_error *err)
{
    char *path = path_join(dir, name);
    enum vt_status st = VT_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        st = vt_error_set(err, errno == ENOENT ? VT_ERR_NOT_FOUND : VT_ERR_IO,
                          "cannot read '%s': %s", path, strerror(errno));
        free(path);
        return st;
    }
    uint8_t extra;
    ssize_t r = read(fd, kek, LEDGER_KEK_LEN);
    ssize_t r2 = read(fd, &extra, 1);
    close(fd);
    if (r != LEDGER_KEK_LEN || r2 != 0)
        st = vt_error_set(err, VT_ERR_INVALID, "key-encryption key '%s' is not %d bytes", path,
                          LEDGER_KEK_LEN);
    free(path);
    return st;
}

static bool file_exists(const char *dir, const char *name)
{
    char *path = path_join(dir, name);
    struct stat sb;
    bool ok = stat(path, &sb) == 0;
    free(path);
    return ok;
}

static enum vt_status stored_kek_id(struct ledger *l, uint8_t id[KEK_ID_LEN], bool *present,
                                    struct vt_error *err)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->kenv, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "begin a key transaction");
    MDB_val key = {6, "kek-id"}, val;
    rc = mdb_get(txn, l->db_kmeta, &key, &val);
    enum vt_status st = VT_OK;
    *present = rc == 0;
    if (rc == 0 && val.mv_size == KEK_ID_LEN)
        memcpy(id, val.mv_data, KEK_ID_LEN);
    else if (rc == 0)
        st = vt_error_set(err, VT_ERR_INVALID, "stored KEK id has %zu bytes", val.mv_size);
    else if (rc != MDB_NOTFOUND)
        st = ledger_mdb_error(rc, err, "read the KEK id");
    mdb_txn_abort(txn);
    return st;
}

static enum vt_status put_kek_id(struct ledger *l, MDB_txn *txn, const void *arg,
                                 struct vt_error *err)
{
    MDB_val key = {6, "kek-id"}, val = {KEK_ID_LEN, (void *)arg};
    int rc = mdb_put(txn, l->db_kmeta, &key, &val, 0);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "record the KEK id");
    return VT_OK;
}

/* Picks the KEK from the files, finishing or undoing an interrupted rotation. */
static enum vt_status kek_from_files(struct ledger *l, const uint8_t *want, bool have_id,
                                     struct vt_error *err)
{
    uint8_t id[KEK_ID_LEN];
    if (file_exists(l->dir, "kek.new")) {
        uint8_t next[LEDGER_KEK_LEN];
        enum vt_status st = kek_read(l->dir, "kek.new", next, err);
        if (st != VT_OK)
            return st;
        kek_id(next, id);
        if (have_id && sodium_memcmp(id, want, KEK_ID_LEN) == 0) {
            char *from = path_join(l->dir, "kek.new"), *to = path_join(l->dir, "kek");
            int rc = rename(from, to);
            free(from);
            free(to);
            memcpy(l->kek, next, LEDGER_KEK_LEN);
            sodium_memzero(next, sizeof(next));
            if (rc != 0)
                return vt_error_set(err, VT_ERR_IO, "cannot finish KEK rotation: %s",
                                    strerror(errno));
            return fsync_dir(l->dir, err);
        }
        sodium_memzero(next, sizeof(next));
        char *p = path_join(l->dir, "kek.new");
        unlink(p);
        free(p);
    }
    enum vt_status st = kek_read(l->dir, "kek", l->kek, err);
    if (st == VT_ERR_NOT_FOUND && !have_id) {
        crypto_aead_xchacha20poly1305_ietf_keygen(l->kek);
        return kek_write(l->dir, "kek", l->kek, err);
    }
    return st;
}

enum vt_status ledger_keys_open(struct ledger *l, const uint8_t *kek, struct vt_error *err)
{
    pthread_once(&cache_hash_once, cache_hash_init);
    char *kdir = path_join(l->dir, "keys");
    enum vt_status st = VT_OK;
    if (mkdir(kdir, 0700) != 0 && errno != EEXIST) {
        st = vt_error_set(err, VT_ERR_IO, "cannot create '%s': %s", kdir, strerror(errno));
        free(kdir);
        return st;
    }
    char *leftover = path_join(kdir, "data.mdb.compact");
    unlink(leftover); /* an interrupted compaction (keys_compact) */
    free(leftover);
    l->kmap_size = KEYS_MAP_SIZE;
    int rc = mdb_env_create(&l->kenv);
    if (rc == 0) {
        mdb_env_set_maxdbs(l->kenv, 4);
        mdb_env_set_maxreaders(l->kenv, 512);
        mdb_env_set_mapsize(l->kenv, l->kmap_size);
        rc = mdb_env_open(l->kenv, kdir, MDB_NOTLS, 0600);
    }
    free(kdir);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "open the key store");
    MDB_envinfo info;
    mdb_env_info(l->kenv, &info);
    if (info.me_mapsize > l->kmap_size)
        l->kmap_size = info.me_mapsize;
    int dead;
    mdb_reader_check(l->kenv, &dead);
    MDB_txn *txn;
    rc = mdb_txn_begin(l->kenv, NULL, 0, &txn);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "begin a key transaction");
    rc = mdb_dbi_open(txn, "deks", MDB_CREATE, &l->db_deks);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &l->db_kmeta);
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "open the key databases");

    uint8_t want[KEK_ID_LEN], have[KEK_ID_LEN];
    bool have_id;
    if ((st = stored_kek_id(l, want, &have_id, err)) != VT_OK)
        return st;
    if (kek) {
        memcpy(l->kek, kek, LEDGER_KEK_LEN);
        l->kek_in_file = false;
    } else {
        l->kek_in_file = true;
        if ((st = kek_from_files(l, want, have_id, err)) != VT_OK)
            return st;
    }
    kek_id(l->kek, have);
    if (!have_id)
        return keys_write(l, put_kek_id, have, err);
    if (sodium_memcmp(have, want, KEK_ID_LEN) != 0)
        return vt_error_set(err, VT_ERR_VERIFY,
                            "cannot open ledger '%s': the key-encryption key does not match",
                            l->dir);
    return VT_OK;
}

/*
 * LMDB is copy-on-write: a destroyed or re-wrapped data key stays in a free page of
 * keys/data.mdb until the page is reused. A compacting copy holds only live pages; it
 * replaces the file by an atomic rename, so a crash leaves either file whole (a leftover
 * data.mdb.compact is removed at the next open). Best effort: on failure the old file
 * stays, and the next erasure or rotation tries again.
 */
static void keys_compact(struct ledger *l)
{
    char *kdir = path_join(l->dir, "keys");
    char *tmp = path_join(kdir, "data.mdb.compact");
    char *dst = path_join(kdir, "data.mdb");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && mdb_env_copyfd2(l->kenv, fd, MDB_CP_COMPACT) == 0 && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    mdb_env_close(l->kenv);
    l->kenv = NULL;
    struct vt_error err;
    if (ok && rename(tmp, dst) == 0)
        (void)fsync_dir(kdir, &err);
    else
        unlink(tmp);
    free(dst);
    free(tmp);
    free(kdir);
}

void ledger_keys_close(struct ledger *l)
{
    ledger_dek_cache_free(&l->deks);
    if (l->kenv && l->keys_compact)
        keys_compact(l);
    if (l->kenv)
        mdb_env_close(l->kenv);
    l->kenv = NULL;
}

struct rewrap {
    const uint8_t *old_kek;
    const uint8_t *new_kek;
};

static enum vt_status rewrap_in_txn(struct ledger *l, MDB_txn *txn, const void *arg,
                                    struct vt_error *err)
{
    const struct rewrap *rw = arg;
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, l->db_deks, &c);
    if (rc != 0)
        return ledger_mdb_error(rc, err, "open the data keys");
    enum vt_status st = VT_OK;
    MDB_val key, val;
    for (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
        if (key.mv_size != LEDGER_LEARNER_LEN) {
            st =
                vt_error_set(err, VT_ERR_INVALID, "data key entry with a %zu-byte id", key.mv_size);
            break;
        }
        uint8_t dek[LEDGER_DEK_LEN], rec[DEK_RECORD_LEN];
        bool erased;
        st = dek_unwrap(rw->old_kek, key.mv_data, &val, dek, &erased, err);
        if (st != VT_OK)
            break;
        if (erased)
            continue;
        dek_wrap(rw->new_kek, key.mv_data, dek, NULL, rec);
        sodium_memzero(dek, sizeof(dek));
        MDB_val nv = {sizeof(rec), rec};
        rc = mdb_cursor_put(c, &key, &nv, MDB_CURRENT);
        if (rc != 0) {
            st = ledger_mdb_error(rc, err, "re-wrap a data key");
            break;
        }
    }
    mdb_cursor_close(c);
    if (st != VT_OK)
        return st;
    if (rc != MDB_NOTFOUND)
        return ledger_mdb_error(rc, err, "walk the data keys");
    uint8_t id[KEK_ID_LEN];
    kek_id(rw->new_kek, id);
    return put_kek_id(l, txn, id, err);
}

enum vt_status ledger_kek_rotate_writer(struct ledger *l, const uint8_t *new_kek,
                                        struct vt_error *err)
{
    uint8_t next[LEDGER_KEK_LEN];
    enum vt_status st = VT_OK;
    if (new_kek) {
        memcpy(next, new_kek, LEDGER_KEK_LEN);
    } else {
        if (!l->kek_in_file)
            return vt_error_set(err, VT_ERR_INVALID,
                                "a new KEK is required when the KEK is not kept in a file");
        crypto_aead_xchacha20poly1305_ietf_keygen(next);
    }
    /* The new key reaches the disk before any data key is wrapped under it. */
    if (l->kek_in_file)
        st = kek_write(l->dir, "kek.new", next, err);
    struct rewrap rw = {l->kek, next};
    if (st == VT_OK)
        st = keys_write(l, rewrap_in_txn, &rw, err);
    if (st == VT_OK)
        l->keys_compact = true;
    if (st == VT_OK && l->kek_in_file) {
        char *from = path_join(l->dir, "kek.new"), *to = path_join(l->dir, "kek");
        if (rename(from, to) != 0)
            st = vt_error_set(err, VT_ERR_IO, "cannot install the new KEK: %s", strerror(errno));
        free(from);
        free(to);
        if (st == VT_OK)
            st = fsync_dir(l->dir, err);
    }
    /* Once the re-wrap committed only the new key unwraps the data keys, whatever else
     * failed, so the stored KEK id decides which key this handle keeps. */
    uint8_t cur[KEK_ID_LEN], stored[KEK_ID_LEN];
    bool present;
    struct vt_error e2;
    if (stored_kek_id(l, stored, &present, &e2) == VT_OK && present) {
        kek_id(next, cur);
        if (sodium_memcmp(cur, stored, KEK_ID_LEN) == 0) {
            pthread_rwlock_wrlock(&l->kek_lock);
            memcpy(l->kek, next, LEDGER_KEK_LEN);
            pthread_rwlock_unlock(&l->kek_lock);
        }
    }
    sodium_memzero(next, sizeof(next));
    return st;
}

/* ---- payload reads -------------------------------------------------------------------- */

/*
 * with_signature: check the event's signature before trusting its envelope. The trusted
 * read skips only that; the data key still has to unwrap, the record to decrypt under it
 * with the learner and seq as associated data, and the plaintext to match the commitment
 * the writer signed.
 */
static enum vt_status payload_read(struct ledger *l, uint64_t index, bool with_signature,
                                   struct vt_buf *out, struct vt_error *err)
{
    MDB_txn *txn;
    enum vt_status st = ledger_read_begin(l, &txn, err);
    if (st != VT_OK)
        return st;
    struct vt_buf rec, pt;
    vt_buf_init(&rec, VT_BUF_DEFAULT_MAX);
    vt_buf_init(&pt, VT_BUF_DEFAULT_MAX);
    struct ledger_event ev;
    MDB_val leaf, val;
    uint8_t k[8];
    vt_be64_put(k, index);
    MDB_val key = {8, k};
    int rc = 0;
    st = ledger_get_leaf(l, txn, index, &leaf, err);
    if (st == VT_OK && with_signature) {
        st = ledger_leaf_open(leaf.mv_data, leaf.mv_size, &ev, NULL, NULL, NULL, err);
    } else if (st == VT_OK) {
        size_t off, len;
        const uint8_t *sig;
        st = ledger_leaf_split(leaf.mv_data, leaf.mv_size, &off, &len, &sig, err);
        if (st == VT_OK)
            st = ledger_event_decode((const uint8_t *)leaf.mv_data + off, len, &ev, err);
    }
    if (st == VT_OK) {
        rc = mdb_get(txn, l->db_payloads, &key, &val);
        if (rc == 0)
            st = vt_buf_append(&rec, val.mv_data, val.mv_size, err);
        else if (rc != MDB_NOTFOUND)
            st = ledger_mdb_error(rc, err, "read a payload");
    }
    ledger_read_end(l, txn);
    if (st != VT_OK || rc == MDB_NOTFOUND)
        goto out; /* no record: the payload was empty */
    if (rec.len == 1 && rec.data[0] == LEDGER_PAYLOAD_ABSENT) {
        st = vt_error_set(err, VT_ERR_NOT_FOUND, "payload of event %llu was not imported",
                          (unsigned long long)index);
        goto out;
    }
    uint8_t dek[LEDGER_DEK_LEN];
    bool erased = false;
    st = ledger_dek_read(l, ev.learner, dek, &erased, err);
    if (st == VT_OK && erased)
        st = vt_error_set(err, VT_ERR_NOT_FOUND, "payload of event %llu was erased",
                          (unsigned long long)index);
    if (st == VT_OK)
        st = ledger_payload_open(dek, ev.learner, ev.seq, rec.data, rec.len, &pt, err);
    sodium_memzero(dek, sizeof(dek));
    if (st != VT_OK)
        goto out;
    uint8_t h[VT_SHA256_LEN];
    vt_sha256(pt.data, pt.len, h);
    if (sodium_memcmp(h, ev.commitment, sizeof(h)) != 0) {
        st = vt_error_set(err, VT_ERR_VERIFY,
                          "payload of event %llu does not match its "
                          "commitment",
                          (unsigned long long)index);
        goto out;
    }
    if (rec.data[0] == LEDGER_PAYLOAD_NATIVE) {
        vt_sha256(rec.data + 1, rec.len - 1, h);
        if (sodium_memcmp(h, ev.payload_hash, sizeof(h)) != 0) {
            st = vt_error_set(err, VT_ERR_VERIFY,
                              "payload of event %llu does not match its "
                              "hash",
                              (unsigned long long)index);
            goto out;
        }
    }
    st = vt_buf_append(out, pt.data + LEDGER_SALT_LEN, pt.len - LEDGER_SALT_LEN, err);
out:
    vt_buf_release(&rec);
    vt_buf_release_secret(&pt);
    return st;
}

enum vt_status ledger_payload_read(struct ledger *l, uint64_t index, struct vt_buf *out,
                                   struct vt_error *err)
{
    return payload_read(l, index, true, out, err);
}

enum vt_status ledger_payload_read_trusted(struct ledger *l, uint64_t index, struct vt_buf *out,
                                           struct vt_error *err)
{
    return payload_read(l, index, false, out, err);
}
