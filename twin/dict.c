/* Byte strings ↔ dense ids, and the acyclicity check of the prerequisite graphs. */
#include "twin/twin_int.h"

#include <stdlib.h>
#include <string.h>

void twin_dict_init(struct twin_dict *d)
{
    memset(d, 0, sizeof(*d));
}

void twin_dict_release(struct twin_dict *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->keys[i]);
    free(d->keys);
    free(d->lens);
    free(d->table);
    twin_dict_init(d);
}

static uint64_t hash_bytes(const void *key, size_t len)
{
    /* FNV-1a, then a multiplicative finish so the low bits mix too. */
    const uint8_t *p = key;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return (h ^ (h >> 32)) * 0x9e3779b97f4a7c15ULL;
}

uint32_t twin_dict_find(const struct twin_dict *d, const void *key, size_t len)
{
    if (d->tcap == 0)
        return UINT32_MAX;
    for (size_t i = (size_t)(hash_bytes(key, len) >> 20) & (d->tcap - 1);;
         i = (i + 1) & (d->tcap - 1)) {
        uint32_t id = d->table[i];
        if (id == UINT32_MAX)
            return UINT32_MAX;
        if (d->lens[id] == len && memcmp(d->keys[id], key, len) == 0)
            return id;
    }
}

static void table_put(struct twin_dict *d, uint32_t id)
{
    size_t i = (size_t)(hash_bytes(d->keys[id], d->lens[id]) >> 20) & (d->tcap - 1);
    while (d->table[i] != UINT32_MAX)
        i = (i + 1) & (d->tcap - 1);
    d->table[i] = id;
}

uint32_t twin_dict_add(struct twin_dict *d, const void *key, size_t len, bool *added)
{
    uint32_t id = twin_dict_find(d, key, len);
    if (added != NULL)
        *added = id == UINT32_MAX;
    if (id != UINT32_MAX)
        return id;
    VT_ASSERT(d->n < UINT32_MAX - 1 && len < UINT32_MAX);
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->keys = vt_realloc(d->keys, d->cap * sizeof(*d->keys));
        d->lens = vt_realloc(d->lens, d->cap * sizeof(*d->lens));
    }
    if ((d->n + 1) * 2 > d->tcap) {
        free(d->table);
        d->tcap = d->tcap ? d->tcap * 2 : 32;
        d->table = vt_malloc(d->tcap * sizeof(*d->table));
        memset(d->table, 0xff, d->tcap * sizeof(*d->table));
        for (size_t i = 0; i < d->n; i++)
            table_put(d, (uint32_t)i);
    }
    char *k = vt_malloc(len + 1);
    memcpy(k, key, len);
    k[len] = '\0';
    id = (uint32_t)d->n++;
    d->keys[id] = k;
    d->lens[id] = (uint32_t)len;
    table_put(d, id);
    return id;
}

bool twin_graph_acyclic(size_t n, const uint32_t *from, const uint32_t *to, size_t n_edges,
                        uint32_t *on_cycle)
{
    uint32_t *indeg = vt_calloc(n + 1, sizeof(uint32_t));
    uint32_t *start = vt_calloc(n + 2, sizeof(uint32_t));
    uint32_t *adj = vt_calloc(n_edges + 1, sizeof(uint32_t));
    uint32_t *queue = vt_calloc(n + 1, sizeof(uint32_t));
    for (size_t e = 0; e < n_edges; e++) {
        indeg[to[e]]++;
        start[from[e] + 1]++;
    }
    for (size_t i = 0; i < n; i++)
        start[i + 1] += start[i];
    uint32_t *fill = vt_calloc(n + 1, sizeof(uint32_t));
    for (size_t e = 0; e < n_edges; e++)
        adj[start[from[e]] + fill[from[e]]++] = to[e];
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < n; i++) {
        if (indeg[i] == 0)
            queue[tail++] = (uint32_t)i;
    }
    while (head < tail) {
        uint32_t u = queue[head++];
        for (uint32_t k = start[u]; k < start[u + 1]; k++) {
            if (--indeg[adj[k]] == 0)
                queue[tail++] = adj[k];
        }
    }
    bool ok = tail == n;
    if (!ok && on_cycle != NULL) {
        for (size_t i = 0; i < n; i++) {
            if (indeg[i] != 0) {
                *on_cycle = (uint32_t)i;
                break;
            }
        }
    }
    free(indeg);
    free(start);
    free(adj);
    free(queue);
    free(fill);
    return ok;
}
