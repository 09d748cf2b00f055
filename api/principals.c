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

struct api_store {
    pthread_rwlock_t lock;
    char path[API_PATH_MAX + 64];
    struct api_principal *p;
    size_t n, cap;
    struct token_rec *t;
    size_t tn, tcap;
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
    json_decref(doc);
    return rc;
}

enum vt_status api_store_open(const char *path, struct api_store **out, struct vt_error *err)
{
    struct api_store *st = vt_calloc(1, sizeof(*st));
    pthread_rwlock_init(&st->lock, NULL);
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
