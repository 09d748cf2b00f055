/* The cache of verified, decoded status lists (specs/credential.md §7.1): a hash table of
 * URLs over a doubly linked LRU list, under one mutex. A hit holds the mutex for one bit
 * lookup, so one lock serves two workers without measurable contention. */
#include "credential/credential_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* statusPurpose values kept per entry, NUL-separated: more than this is not cached. */
#define PURPOSES_MAX 256

struct cache_entry {
    struct cache_entry *chain; /* next in the bucket */
    struct cache_entry *newer, *older;
    uint64_t hash;
    char *url;
    uint8_t digest[VT_SHA256_LEN];
    struct cred_status_context ctx;
    int64_t expires_ms;
    struct cred_status_list *bits;
    char purposes[PURPOSES_MAX]; /* each NUL-terminated, an empty string ends the list */
    size_t bytes;
};

struct cred_status_cache {
    pthread_mutex_t mu;
    /* URLs come from the credentials being checked: a keyed hash keeps chains short. */
    uint8_t key[crypto_shorthash_KEYBYTES];
    struct cache_entry **buckets;
    size_t mask;
    struct cache_entry *newest, *oldest;
    size_t count, max_entries;
    size_t bytes, max_bytes;
    struct cred_status_cache_stats stats;
};

struct cred_status_cache *cred_status_cache_new(size_t max_entries, size_t max_bytes)
{
    VT_ASSERT(max_entries > 0 && max_bytes > 0);
    struct cred_status_cache *c = vt_calloc(1, sizeof(*c));
    VT_ASSERT(pthread_mutex_init(&c->mu, NULL) == 0);
    crypto_shorthash_keygen(c->key);
    size_t n = 16;
    while (n < max_entries * 2 && n < ((size_t)1 << 20))
        n *= 2;
    c->buckets = vt_calloc(n, sizeof(*c->buckets));
    c->mask = n - 1;
    c->max_entries = max_entries;
    c->max_bytes = max_bytes;
    return c;
}

static void entry_free(struct cache_entry *e)
{
    cred_status_list_free(e->bits);
    free(e->url);
    free(e);
}

void cred_status_cache_free(struct cred_status_cache *c)
{
    if (c == NULL)
        return;
    struct cache_entry *e = c->newest;
    while (e != NULL) {
        struct cache_entry *next = e->older;
        entry_free(e);
        e = next;
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static uint64_t url_hash(const struct cred_status_cache *c, const char *url)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const uint8_t *)url, strlen(url), c->key);
    return vt_be64_get(h);
}

static struct cache_entry *find(const struct cred_status_cache *c, const char *url, uint64_t hash)
{
    for (struct cache_entry *e = c->buckets[hash & c->mask]; e != NULL; e = e->chain) {
        if (e->hash == hash && strcmp(e->url, url) == 0)
            return e;
    }
    return NULL;
}

static void lru_unlink(struct cred_status_cache *c, struct cache_entry *e)
{
    if (e->newer != NULL)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older != NULL)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push(struct cred_status_cache *c, struct cache_entry *e)
{
    e->newer = NULL;
    e->older = c->newest;
    if (c->newest != NULL)
        c->newest->newer = e;
    c->newest = e;
    if (c->oldest == NULL)
        c->oldest = e;
}

/* Unlinks e from its bucket and the LRU list and frees it (lock held). */
static void drop(struct cred_status_cache *c, struct cache_entry *e)
{
    struct cache_entry **p = &c->buckets[e->hash & c->mask];
    while (*p != e)
        p = &(*p)->chain;
    *p = e->chain;
    lru_unlink(c, e);
    c->count--;
    c->bytes -= e->bytes;
    entry_free(e);
}

static bool same_context(const struct cred_status_context *a, const struct cred_status_context *b)
{
    return a->trust == b->trust && a->key_lookup == b->key_lookup &&
           a->key_lookup_ctx == b->key_lookup_ctx && a->clock_skew_ms == b->clock_skew_ms;
}

static bool has_purpose(const char *list, const char *purpose)
{
    for (const char *p = list; *p != '\0'; p += strlen(p) + 1) {
        if (strcmp(p, purpose) == 0)
            return true;
    }
    return false;
}

bool cred_status_cache_get(struct cred_status_cache *c, const char *url,
                           const uint8_t digest[VT_SHA256_LEN],
                           const struct cred_status_context *ctx, int64_t now_ms,
                           const char *purpose, size_t index, struct cred_status_answer *ans)
{
    uint64_t hash = url_hash(c, url);
    pthread_mutex_lock(&c->mu);
    struct cache_entry *e = find(c, url, hash);
    bool hit = false;
    if (e != NULL && memcmp(e->digest, digest, VT_SHA256_LEN) != 0) {
        /* The list was re-signed since: its old verdict and bits must never answer. */
        c->stats.stale++;
        drop(c, e);
    } else if (e != NULL && now_ms >= e->expires_ms) {
        c->stats.evictions++;
        drop(c, e);
    } else if (e != NULL && same_context(&e->ctx, ctx)) {
        ans->purpose_ok = has_purpose(e->purposes, purpose);
        ans->size = cred_status_list_size(e->bits);
        ans->set = cred_status_list_get(e->bits, index);
        lru_unlink(c, e);
        lru_push(c, e);
        hit = true;
    }
    if (hit)
        c->stats.hits++;
    else
        c->stats.misses++;
    pthread_mutex_unlock(&c->mu);
    return hit;
}

/* The purposes as a NUL-separated list; false when they do not fit or are not strings. */
static bool copy_purposes(const json_t *purposes, char out[PURPOSES_MAX])
{
    size_t n = json_is_array(purposes) ? json_array_size(purposes) : 1;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_is_array(purposes) ? json_array_get(purposes, i) : purposes;
        if (!json_is_string(p) || json_string_length(p) == 0)
            return false;
        size_t len = json_string_length(p);
        if (off + len + 2 > PURPOSES_MAX || memchr(json_string_value(p), 0, len) != NULL)
            return false;
        memcpy(out + off, json_string_value(p), len + 1);
        off += len + 1;
    }
    out[off] = '\0';
    return off > 0;
}

void cred_status_cache_put(struct cred_status_cache *c, const char *url,
                           const uint8_t digest[VT_SHA256_LEN],
                           const struct cred_status_context *ctx, int64_t expires_ms,
                           const json_t *purposes, struct cred_status_list *bits)
{
    struct cache_entry *e = vt_calloc(1, sizeof(*e));
    e->bits = bits;
    e->url = vt_strdup(url);
    e->bytes = sizeof(*e) + strlen(url) + 1 + cred_status_list_bytes(bits);
    if (!copy_purposes(purposes, e->purposes) || e->bytes > c->max_bytes) {
        entry_free(e);
        return;
    }
    e->hash = url_hash(c, url);
    memcpy(e->digest, digest, VT_SHA256_LEN);
    e->ctx = *ctx;
    e->expires_ms = expires_ms;
    pthread_mutex_lock(&c->mu);
    /* Two checks that missed at once both decode; the later one replaces the earlier. */
    struct cache_entry *old = find(c, url, e->hash);
    if (old != NULL)
        drop(c, old);
    while (c->oldest != NULL &&
           (c->count + 1 > c->max_entries || c->bytes + e->bytes > c->max_bytes)) {
        c->stats.evictions++;
        drop(c, c->oldest);
    }
    struct cache_entry **b = &c->buckets[e->hash & c->mask];
    e->chain = *b;
    *b = e;
    lru_push(c, e);
    c->count++;
    c->bytes += e->bytes;
    pthread_mutex_unlock(&c->mu);
}

void cred_status_cache_invalidate(struct cred_status_cache *c, const char *url)
{
    uint64_t hash = url_hash(c, url);
    pthread_mutex_lock(&c->mu);
    struct cache_entry *e = find(c, url, hash);
    if (e != NULL) {
        c->stats.invalidations++;
        drop(c, e);
    }
    pthread_mutex_unlock(&c->mu);
}

void cred_status_cache_stats(struct cred_status_cache *c, struct cred_status_cache_stats *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->stats;
    out->entries = c->count;
    out->bytes = c->bytes;
    pthread_mutex_unlock(&c->mu);
}
