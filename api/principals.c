/*
 * The principal store: who may call what. Every principal is an Ed25519 key (its did:key)
 * with roles; a learner principal also owns a learner id. Bearer tokens are kept only as
 * SHA-256 hashes. The file is small and rewritten whole (temporary file, fsync, rename).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "api/api_int.h"

#define STORE_MAX_BYTES ((size_t)64 << 20)
#define STORE_PRINCIPALS_MAX 1000000

struct token_rec {
    uint8_t hash[VT_SHA256_LEN];
    char did[VT_DIDKEY_MAX];
    int64_t expires_ms;
};

struct basic_rec {
    char user[API_BASIC_USER_MAX + 1];
    char hash[crypto_pwhash_STRBYTES];
    char did[VT_DIDKEY_MAX];
};

#define BASIC_MAX 1024
#define BASIC_CACHE 64

struct api_store {
    pthread_rwlock_t lock;
    char path[API_PATH_MAX + 64];
    struct api_principal *p;
    size_t n, cap;
    struct token_rec *t;
    size_t tn, tcap;
    struct basic_rec *b;
    size_t bn;
    /* Tags of recently verified Basic credentials (ring), under cache_mu. */
    pthread_mutex_t cache_mu;
    uint8_t cache_key[crypto_generichash_KEYBYTES];
    uint8_t cache[BASIC_CACHE][crypto_generichash_BYTES];
    unsigned cache_next;
};

static const char *const role_names[API_ROLE_COUNT] = {"admin",    "source",   "learner",
                                                       "verifier", "reviewer", "hr"};

const char *api_role_name(unsigned role_bit)
{
    for (unsigned i = 0; i < API_ROLE_COUNT; i++) {
        if (role_bit == 1u << i)
            return role_names[i];
    }
    return "?";
}

unsigned api_role_parse(const char *name)
{
    for (unsigned i = 0; i < API_ROLE_COUNT; i++) {
        if (!strcmp(name, role_names[i]))
            return 1u << i;
    }
    return 0;
}

static json_t *principal_json(const struct api_principal *p)
{
    json_t *o = json_object();
    json_t *roles = json_array();
    for (unsigned i = 0; i < API_ROLE_COUNT; i++) {
        if (p->roles & (1u << i))
            json_array_append_new(roles, json_string(role_names[i]));
    }
    char ts[VT_TIME_MAX];
    vt_time_format(p->created_ms, ts);
    json_object_set_new(o, "id", json_string(p->did));
    json_object_set_new(o, "roles", roles);
    json_object_set_new(o, "name", json_string(p->name));
    if (p->has_learner) {
        char hex[33];
        api_learner_hex(p->learner, hex);
        json_object_set_new(o, "learner", json_string(hex));
    }
    json_object_set_new(o, "created", json_string(ts));
    return o;
}

static enum vt_status save_locked(struct api_store *st, struct vt_error *err)
{
    json_t *doc = json_object();
    json_t *ps = json_array();
    json_t *ts = json_array();
    for (size_t i = 0; i < st->n; i++)
        json_array_append_new(ps, principal_json(&st->p[i]));
    for (size_t i = 0; i < st->tn; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "hash", api_json_hex(st->t[i].hash, VT_SHA256_LEN));
        json_object_set_new(o, "principal", json_string(st->t[i].did));
        json_object_set_new(o, "expires", json_integer(st->t[i].expires_ms));
        json_array_append_new(ts, o);
    }
    json_object_set_new(doc, "version", json_integer(1));
    json_object_set_new(doc, "principals", ps);
    json_object_set_new(doc, "tokens", ts);
    if (st->bn > 0) {
        json_t *bs = json_array();
        for (size_t i = 0; i < st->bn; i++)
            json_array_append_new(bs, json_pack("{s:s,s:s,s:s}", "user", st->b[i].user, "hash",
                                                st->b[i].hash, "principal", st->b[i].did));
        json_object_set_new(doc, "basic", bs);
    }
    char *text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
    json_decref(doc);
    if (!text)
        return vt_error_set(err, VT_ERR_INTERNAL, "cannot serialize the principal store");

    char tmp[API_PATH_MAX + 80];
    snprintf(tmp, sizeof(tmp), "%s.tmp", st->path);
    enum vt_status rc = VT_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = vt_error_set(err, VT_ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
        goto out;
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = vt_error_set(err, VT_ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    if (rc == VT_OK && fsync(fd) != 0)
        rc = vt_error_set(err, VT_ERR_IO, "cannot sync '%s': %s", tmp, strerror(errno));
    close(fd);
    if (rc == VT_OK && rename(tmp, st->path) != 0)
        rc = vt_error_set(err, VT_ERR_IO, "cannot rename '%s': %s", tmp, strerror(errno));
    if (rc == VT_OK) {
        char dir[API_PATH_MAX + 64];
        snprintf(dir, sizeof(dir), "%s", st->path);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                (void)fsync(dfd);
                close(dfd);
            }
        }
    }
out:
    free(text);
    return rc;
}

static enum vt_status load_basic(struct api_store *st, const json_t *bs, struct vt_error *err)
{
    if (!bs)
        return VT_OK;
    if (!json_is_array(bs) || json_array_size(bs) > BASIC_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "malformed basic credentials in '%s'", st->path);
    st->b = vt_calloc(BASIC_MAX, sizeof(*st->b));
    size_t i;
    json_t *v;
    json_array_foreach(bs, i, v)
    {
        const char *user = vt_json_get_str(v, "user");
        const char *hash = vt_json_get_str(v, "hash");
        const char *did = vt_json_get_str(v, "principal");
        struct basic_rec *r = &st->b[st->bn];
        if (!user || !hash || !did || strlen(user) >= sizeof(r->user) ||
            strlen(hash) >= sizeof(r->hash) || strlen(did) >= sizeof(r->did))
            return vt_error_set(err, VT_ERR_INVALID, "malformed basic credential %zu in '%s'", i,
                                st->path);
        snprintf(r->user, sizeof(r->user), "%s", user);
        snprintf(r->hash, sizeof(r->hash), "%s", hash);
        snprintf(r->did, sizeof(r->did), "%s", did);
        st->bn++;
    }
    return VT_OK;
}

static enum vt_status load(struct api_store *st, struct vt_error *err)
{
    json_t *doc = NULL;
    enum vt_status rc = vt_json_read_file(st->path, STORE_MAX_BYTES, 8, &doc, err);
    if (rc == VT_ERR_NOT_FOUND) {
        vt_error_clear(err);
        return VT_OK;
    }
    if (rc != VT_OK)
        return rc;
    const json_t *ps = vt_json_get_arr(doc, "principals");
    const json_t *ts = vt_json_get_arr(doc, "tokens");
    if (!ps || !ts || json_array_size(ps) > STORE_PRINCIPALS_MAX) {
        json_decref(doc);
        return vt_error_set(err, VT_ERR_INVALID, "malformed principal store '%s'", st->path);
    }
    size_t i;
    json_t *v;
    json_array_foreach(ps, i, v)
    {
        struct api_principal p;
        memset(&p, 0, sizeof(p));
        const char *did = vt_json_get_str(v, "id");
        const char *name = vt_json_get_str(v, "name");
        const char *learner = vt_json_get_str(v, "learner");
        const char *created = vt_json_get_str(v, "created");
        const json_t *roles = vt_json_get_arr(v, "roles");
        if (!did || strlen(did) >= sizeof(p.did) || !roles ||
            vt_didkey_parse(did, strlen(did), p.pk, err) != VT_OK) {
            rc = vt_error_set(err, VT_ERR_INVALID, "malformed principal %zu in '%s'", i, st->path);
            break;
        }
        snprintf(p.did, sizeof(p.did), "%s", did);
        snprintf(p.name, sizeof(p.name), "%s", name ? name : "");
        size_t j;
        json_t *r;
        json_array_foreach(roles, j, r)
        {
            if (json_is_string(r))
                p.roles |= api_role_parse(json_string_value(r));
        }
        if (learner) {
            if (api_hex_learner(learner, p.learner, err) != VT_OK) {
                rc = VT_ERR_INVALID;
                break;
            }
            p.has_learner = true;
        }
        if (created)
            (void)vt_time_parse(created, strlen(created), &p.created_ms, NULL);
        if (st->n == st->cap) {
            st->cap = st->cap ? st->cap * 2 : 16;
            st->p = vt_realloc(st->p, st->cap * sizeof(*st->p));
        }
        st->p[st->n++] = p;
    }
    if (rc == VT_OK) {
        json_array_foreach(ts, i, v)
        {
            struct token_rec t;
            memset(&t, 0, sizeof(t));
            const char *hash = vt_json_get_str(v, "hash");
            const char *did = vt_json_get_str(v, "principal");
            const json_t *exp = json_object_get(v, "expires");
            struct vt_buf hb;
            vt_buf_init(&hb, 64);
            if (!hash || !did || strlen(did) >= sizeof(t.did) ||
                vt_hex_decode(hash, strlen(hash), &hb, NULL) != VT_OK || hb.len != 32) {
                vt_buf_release(&hb);
                rc = vt_error_set(err, VT_ERR_INVALID, "malformed token %zu in '%s'", i, st->path);
                break;
            }
            memcpy(t.hash, hb.data, 32);
            vt_buf_release(&hb);
            snprintf(t.did, sizeof(t.did), "%s", did);
            t.expires_ms = json_is_number(exp) ? (int64_t)json_number_value(exp) : 0;
            if (st->tn == st->tcap) {
                st->tcap = st->tcap ? st->tcap * 2 : 16;
                st->t = vt_realloc(st->t, st->tcap * sizeof(*st->t));
            }
            st->t[st->tn++] = t;
        }
    }
    if (rc == VT_OK)
        rc = load_basic(st, json_object_get(doc, "basic"), err);
    json_decref(doc);
    return rc;
}

enum vt_status api_store_open(const char *path, struct api_store **out, struct vt_error *err)
{
    struct api_store *st = vt_calloc(1, sizeof(*st));
    pthread_rwlock_init(&st->lock, NULL);
    pthread_mutex_init(&st->cache_mu, NULL);
    vt_random_bytes(st->cache_key, sizeof(st->cache_key));
    snprintf(st->path, sizeof(st->path), "%s", path);
    enum vt_status rc = load(st, err);
    if (rc != VT_OK) {
        api_store_close(st);
        return rc;
    }
    *out = st;
    return VT_OK;
}

void api_store_close(struct api_store *st)
{
    if (!st)
        return;
    sodium_memzero(st->t, st->tcap * sizeof(*st->t));
    free(st->t);
    free(st->p);
    free(st->b);
    sodium_memzero(st->cache_key, sizeof(st->cache_key));
    pthread_mutex_destroy(&st->cache_mu);
    pthread_rwlock_destroy(&st->lock);
    free(st);
}

size_t api_store_count(struct api_store *st)
{
    pthread_rwlock_rdlock(&st->lock);
    size_t n = st->n;
    pthread_rwlock_unlock(&st->lock);
    return n;
}

static const struct api_principal *find_locked(struct api_store *st, const char *did)
{
    for (size_t i = 0; i < st->n; i++) {
        if (!strcmp(st->p[i].did, did))
            return &st->p[i];
    }
    return NULL;
}

enum vt_status api_store_find(struct api_store *st, const char *did, struct api_principal *out)
{
    pthread_rwlock_rdlock(&st->lock);
    const struct api_principal *p = find_locked(st, did);
    if (p)
        *out = *p;
    pthread_rwlock_unlock(&st->lock);
    return p ? VT_OK : VT_ERR_NOT_FOUND;
}

enum vt_status api_store_find_learner(struct api_store *st, const uint8_t learner[16],
                                      struct api_principal *out)
{
    enum vt_status rc = VT_ERR_NOT_FOUND;
    pthread_rwlock_rdlock(&st->lock);
    for (size_t i = 0; i < st->n; i++) {
        if (st->p[i].has_learner && !memcmp(st->p[i].learner, learner, 16)) {
            *out = st->p[i];
            rc = VT_OK;
            break;
        }
    }
    pthread_rwlock_unlock(&st->lock);
    return rc;
}

enum vt_status api_store_add(struct api_store *st, const struct api_principal *p,
                             struct vt_error *err)
{
    pthread_rwlock_wrlock(&st->lock);
    enum vt_status rc = VT_OK;
    if (find_locked(st, p->did)) {
        rc = vt_error_set(err, VT_ERR_EXISTS, "principal '%s' exists already", p->did);
        goto out;
    }
    for (size_t i = 0; p->has_learner && i < st->n; i++) {
        if (st->p[i].has_learner && !memcmp(st->p[i].learner, p->learner, 16)) {
            rc = vt_error_set(err, VT_ERR_EXISTS, "learner id is taken");
            goto out;
        }
    }
    if (st->n >= STORE_PRINCIPALS_MAX) {
        rc = vt_error_set(err, VT_ERR_FULL, "too many principals");
        goto out;
    }
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 16;
        st->p = vt_realloc(st->p, st->cap * sizeof(*st->p));
    }
    st->p[st->n++] = *p;
    rc = save_locked(st, err);
    if (rc != VT_OK)
        st->n--;
out:
    pthread_rwlock_unlock(&st->lock);
    return rc;
}

enum vt_status api_store_token_new(struct api_store *st, const char *did, int64_t expires_ms,
                                   char token_out[API_TOKEN_MAX], struct vt_error *err)
{
    uint8_t raw[32];
    vt_random_bytes(raw, sizeof(raw));
    struct vt_buf b;
    vt_buf_init(&b, API_TOKEN_MAX);
    enum vt_status rc = vt_buf_append_str(&b, "vt_", err);
    if (rc == VT_OK)
        rc = vt_base64url_encode(raw, sizeof(raw), &b, err);
    sodium_memzero(raw, sizeof(raw));
    if (rc != VT_OK) {
        vt_buf_release_secret(&b);
        return rc;
    }
    struct token_rec t;
    memset(&t, 0, sizeof(t));
    vt_sha256(b.data, b.len, t.hash);
    t.expires_ms = expires_ms;

    pthread_rwlock_wrlock(&st->lock);
    if (!find_locked(st, did)) {
        rc = vt_error_set(err, VT_ERR_NOT_FOUND, "unknown principal '%s'", did);
    } else {
        snprintf(t.did, sizeof(t.did), "%s", did);
        if (st->tn == st->tcap) {
            st->tcap = st->tcap ? st->tcap * 2 : 16;
            st->t = vt_realloc(st->t, st->tcap * sizeof(*st->t));
        }
        st->t[st->tn++] = t;
        rc = save_locked(st, err);
        if (rc != VT_OK)
            st->tn--;
    }
    pthread_rwlock_unlock(&st->lock);
    if (rc == VT_OK)
        memcpy(token_out, b.data, b.len + 1);
    vt_buf_release_secret(&b);
    return rc;
}

bool api_store_token_check(struct api_store *st, const char *token, struct api_principal *out)
{
    size_t len = strnlen(token, API_TOKEN_MAX);
    if (len == 0 || len >= API_TOKEN_MAX)
        return false;
    uint8_t h[VT_SHA256_LEN];
    vt_sha256(token, len, h);
    bool ok = false;
    int64_t now = vt_time_now_ms();
    pthread_rwlock_rdlock(&st->lock);
    for (size_t i = 0; i < st->tn; i++) {
        if (sodium_memcmp(st->t[i].hash, h, sizeof(h)) == 0) {
            if (st->t[i].expires_ms != 0 && st->t[i].expires_ms <= now)
                break;
            const struct api_principal *p = find_locked(st, st->t[i].did);
            if (p) {
                *out = *p;
                ok = true;
            }
            break;
        }
    }
    pthread_rwlock_unlock(&st->lock);
    return ok;
}

json_t *api_store_list_json(struct api_store *st)
{
    json_t *a = json_array();
    pthread_rwlock_rdlock(&st->lock);
    for (size_t i = 0; i < st->n; i++)
        json_array_append_new(a, principal_json(&st->p[i]));
    pthread_rwlock_unlock(&st->lock);
    return a;
}

/* ---------------------------------------------------------------------------------------
 * HTTP Basic credentials
 */

static struct basic_rec *basic_find_locked(struct api_store *st, const char *user)
{
    for (size_t i = 0; i < st->bn; i++) {
        if (!strcmp(st->b[i].user, user))
            return &st->b[i];
    }
    return NULL;
}

/* The cache tag covers the stored hash, so a changed password never hits an old entry. */
static void basic_tag(struct api_store *st, const char *user, const char *password,
                      const char *hash, uint8_t tag[crypto_generichash_BYTES])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, st->cache_key, sizeof(st->cache_key), crypto_generichash_BYTES);
    crypto_generichash_update(&h, (const uint8_t *)user, strlen(user) + 1);
    crypto_generichash_update(&h, (const uint8_t *)password, strlen(password) + 1);
    crypto_generichash_update(&h, (const uint8_t *)hash, strlen(hash));
    crypto_generichash_final(&h, tag, crypto_generichash_BYTES);
}

static bool basic_cached(struct api_store *st, const uint8_t tag[crypto_generichash_BYTES])
{
    bool hit = false;
    pthread_mutex_lock(&st->cache_mu);
    for (unsigned i = 0; i < BASIC_CACHE && !hit; i++)
        hit = sodium_memcmp(st->cache[i], tag, crypto_generichash_BYTES) == 0;
    pthread_mutex_unlock(&st->cache_mu);
    return hit;
}

static void basic_remember(struct api_store *st, const uint8_t tag[crypto_generichash_BYTES])
{
    pthread_mutex_lock(&st->cache_mu);
    memcpy(st->cache[st->cache_next], tag, crypto_generichash_BYTES);
    st->cache_next = (st->cache_next + 1) % BASIC_CACHE;
    pthread_mutex_unlock(&st->cache_mu);
}

bool api_store_basic_check(struct api_store *st, const char *user, const char *password,
                           struct api_principal *out)
{
    if (strlen(user) > API_BASIC_USER_MAX || strlen(password) > API_BASIC_PASS_MAX)
        return false;
    char hash[crypto_pwhash_STRBYTES];
    char did[VT_DIDKEY_MAX];
    pthread_rwlock_rdlock(&st->lock);
    struct basic_rec *r = basic_find_locked(st, user);
    if (r) {
        memcpy(hash, r->hash, sizeof(hash));
        memcpy(did, r->did, sizeof(did));
    }
    pthread_rwlock_unlock(&st->lock);
    if (!r)
        return false;
    uint8_t tag[crypto_generichash_BYTES];
    basic_tag(st, user, password, hash, tag);
    if (!basic_cached(st, tag)) {
        if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0)
            return false;
        basic_remember(st, tag);
    }
    return api_store_find(st, did, out) == VT_OK;
}

enum vt_status api_store_basic_provision(struct api_store *st, const char *user,
                                         const char *password, struct vt_error *err)
{
    if (!*user || strlen(user) > API_BASIC_USER_MAX || !*password ||
        strlen(password) > API_BASIC_PASS_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "invalid basic credential for '%.64s'", user);
    struct api_principal p;
    if (api_store_basic_check(st, user, password, &p))
        return VT_OK;
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return vt_error_set(err, VT_ERR_INTERNAL, "cannot hash the password of '%s'", user);

    /* A Basic client signs nothing: its principal's key exists only to give it a DID. */
    memset(&p, 0, sizeof(p));
    struct vt_key key;
    vt_key_generate(&key);
    vt_didkey_from_public(key.pk, p.did);
    memcpy(p.pk, key.pk, sizeof(p.pk));
    vt_key_release(&key);
    p.roles = API_ROLE_SOURCE;
    snprintf(p.name, sizeof(p.name), "%s", user);
    p.created_ms = vt_time_now_ms();

    enum vt_status rc = VT_OK;
    char did[VT_DIDKEY_MAX];
    snprintf(did, sizeof(did), "%s", p.did);
    pthread_rwlock_wrlock(&st->lock);
    struct basic_rec *r = basic_find_locked(st, user);
    if (r) {
        struct basic_rec old = *r;
        snprintf(did, sizeof(did), "%s", r->did);
        snprintf(r->hash, sizeof(r->hash), "%s", hash);
        rc = save_locked(st, err);
        if (rc != VT_OK)
            *r = old;
    } else if (st->bn >= BASIC_MAX || st->n >= STORE_PRINCIPALS_MAX) {
        rc = vt_error_set(err, VT_ERR_FULL, "too many basic credentials");
    } else {
        if (!st->b)
            st->b = vt_calloc(BASIC_MAX, sizeof(*st->b));
        r = &st->b[st->bn++];
        snprintf(r->user, sizeof(r->user), "%s", user);
        snprintf(r->hash, sizeof(r->hash), "%s", hash);
        snprintf(r->did, sizeof(r->did), "%s", p.did);
        if (st->n == st->cap) {
            st->cap = st->cap ? st->cap * 2 : 16;
            st->p = vt_realloc(st->p, st->cap * sizeof(*st->p));
        }
        st->p[st->n++] = p;
        rc = save_locked(st, err);
        if (rc != VT_OK) {
            st->n--;
            st->bn--;
        }
    }
    pthread_rwlock_unlock(&st->lock);
    sodium_memzero(hash, sizeof(hash));
    if (rc == VT_OK) {
        char v[2 * API_BASIC_USER_MAX + 8];
        api_log_value(user, v, sizeof(v));
        API_LOG(API_LOG_INFO, "xapi.basic_provisioned", "user=%s principal=%s", v, did);
    }
    return rc;
}
