/*
 * Token buckets per principal (or per anonymous connection). A small chained hash table
 * under one mutex; an idle full bucket is indistinguishable from a new one, so entries are
 * pruned when the table grows large.
 */
#include <string.h>

#include "api/api_int.h"

#define RATE_BUCKETS 1024
#define RATE_PRUNE_AT 100000

struct bucket {
    struct bucket *next;
    double tokens;
    int64_t last_ns;
    char key[VT_DIDKEY_MAX];
};

struct api_rate {
    pthread_mutex_t mu;
    double rate, burst;
    size_t count;
    struct bucket *tab[RATE_BUCKETS];
};

static unsigned hash_key(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h % RATE_BUCKETS;
}

struct api_rate *api_rate_new(double rate, double burst)
{
    struct api_rate *r = vt_calloc(1, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
    r->rate = rate;
    r->burst = burst;
    return r;
}

void api_rate_free(struct api_rate *r)
{
    if (!r)
        return;
    for (unsigned i = 0; i < RATE_BUCKETS; i++) {
        struct bucket *b = r->tab[i];
        while (b) {
            struct bucket *n = b->next;
            free(b);
            b = n;
        }
    }
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static void prune_locked(struct api_rate *r, int64_t now_ns)
{
    for (unsigned i = 0; i < RATE_BUCKETS; i++) {
        struct bucket **pp = &r->tab[i];
        while (*pp) {
            struct bucket *b = *pp;
            double t = b->tokens + (double)(now_ns - b->last_ns) / 1e9 * r->rate;
            if (t >= r->burst) {
                *pp = b->next;
                free(b);
                r->count--;
            } else {
                pp = &b->next;
            }
        }
    }
}

bool api_rate_take(struct api_rate *r, const char *key, int64_t now_ns)
{
    unsigned h = hash_key(key);
    pthread_mutex_lock(&r->mu);
    struct bucket *b = r->tab[h];
    while (b && strcmp(b->key, key))
        b = b->next;
    if (!b) {
        if (r->count >= RATE_PRUNE_AT)
            prune_locked(r, now_ns);
        b = vt_calloc(1, sizeof(*b));
        snprintf(b->key, sizeof(b->key), "%s", key);
        b->tokens = r->burst;
        b->last_ns = now_ns;
        b->next = r->tab[h];
        r->tab[h] = b;
        r->count++;
    }
    double t = b->tokens + (double)(now_ns - b->last_ns) / 1e9 * r->rate;
    if (t > r->burst)
        t = r->burst;
    b->last_ns = now_ns;
    bool ok = t >= 1.0;
    b->tokens = ok ? t - 1.0 : t;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

void api_rate_forget(struct api_rate *r, const char *key)
{
    unsigned h = hash_key(key);
    pthread_mutex_lock(&r->mu);
    for (struct bucket **pp = &r->tab[h]; *pp; pp = &(*pp)->next) {
        if (!strcmp((*pp)->key, key)) {
            struct bucket *b = *pp;
            *pp = b->next;
            free(b);
            r->count--;
            break;
        }
    }
    pthread_mutex_unlock(&r->mu);
}
