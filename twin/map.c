/* (id, id) → index hash map used by the mastery store and the feature encoder. */
#include "twin/twin_int.h"

#include <stdlib.h>
#include <string.h>

void twin_map_init(struct twin_map *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
}

void twin_map_release(struct twin_map *m)
{
    free(m->slots);
    twin_map_init(m);
}

void twin_map_clear(struct twin_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        m->slots[i].key = TWIN_MAP_EMPTY;
    m->count = 0;
}

static size_t slot_of(uint64_t key, size_t cap)
{
    /* Fibonacci hashing spreads the dense sequential ids that callers use. */
    uint64_t h = (key ^ (key >> 29)) * 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 17) & (cap - 1);
}

uint32_t twin_map_get(const struct twin_map *m, uint64_t key)
{
    if (m->cap == 0)
        return UINT32_MAX;
    for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].key == key)
            return m->slots[i].val;
        if (m->slots[i].key == TWIN_MAP_EMPTY)
            return UINT32_MAX;
    }
}

static void insert(struct twin_map *m, uint64_t key, uint32_t val)
{
    size_t i = slot_of(key, m->cap);
    while (m->slots[i].key != TWIN_MAP_EMPTY)
        i = (i + 1) & (m->cap - 1);
    m->slots[i].key = key;
    m->slots[i].val = val;
}

void twin_map_put(struct twin_map *m, uint64_t key, uint32_t val)
{
    VT_ASSERT(key != TWIN_MAP_EMPTY);
    if ((m->count + 1) * 2 > m->cap) {
        struct twin_map old = *m;
        size_t cap = old.cap ? old.cap * 2 : 64;
        size_t bytes;
        VT_ASSERT(vt_size_mul(cap, sizeof(struct twin_map_slot), &bytes));
        m->slots = vt_malloc(bytes);
        m->cap = cap;
        for (size_t i = 0; i < cap; i++)
            m->slots[i].key = TWIN_MAP_EMPTY;
        for (size_t i = 0; i < old.cap; i++) {
            if (old.slots[i].key != TWIN_MAP_EMPTY)
                insert(m, old.slots[i].key, old.slots[i].val);
        }
        free(old.slots);
    }
    insert(m, key, val);
    m->count++;
}
