/* The in-memory Merkle log of fuzz_tree.h. */
#include "fuzz_tree.h"

#include <pthread.h>
#include <string.h>

static uint8_t (*stored)[LEDGER_HASH_LEN];
static uint64_t n_stored;
static struct ledger_hash_reader reader;

static enum vt_status read_stored(void *ctx, const uint64_t *indexes, size_t count,
                                  uint8_t (*hashes)[LEDGER_HASH_LEN], struct vt_error *err)
{
    (void)ctx;
    for (size_t i = 0; i < count; i++) {
        if (indexes[i] >= n_stored)
            return vt_error_set(err, VT_ERR_NOT_FOUND, "no stored hash %llu",
                                (unsigned long long)indexes[i]);
        memcpy(hashes[i], stored[indexes[i]], LEDGER_HASH_LEN);
    }
    return VT_OK;
}

void fuzz_tree_leaf(uint64_t i, uint8_t out[LEDGER_HASH_LEN])
{
    uint8_t be[8];
    vt_be64_put(be, i);
    ledger_leaf_hash(be, sizeof(be), out);
}

static void build(void)
{
    fuzz_init();
    reader.read = read_stored;
    reader.ctx = NULL;
    stored = vt_calloc(2 * FUZZ_TREE_LEAVES, LEDGER_HASH_LEN);
    for (uint64_t i = 0; i < FUZZ_TREE_LEAVES; i++) {
        uint8_t leaf[LEDGER_HASH_LEN];
        uint8_t added[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
        size_t count = 0;
        struct vt_error err;
        fuzz_tree_leaf(i, leaf);
        if (ledger_stored_hashes_for_append(&reader, i, leaf, added, &count, &err) != VT_OK)
            fuzz_fail("cannot build the test tree: %s", err.msg);
        if (ledger_stored_hash_index(0, i) != n_stored)
            fuzz_fail("stored hashes of leaf %llu do not start at %llu", (unsigned long long)i,
                      (unsigned long long)n_stored);
        memcpy(stored[n_stored], added, count * LEDGER_HASH_LEN);
        n_stored += count;
    }
}

const struct ledger_hash_reader *fuzz_tree(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build);
    return &reader;
}
