/*
 * RFC 9162 proof verification (ledger_verify_inclusion, ledger_verify_consistency) with the
 * claims and proof hashes an outside client sends; input layout in fuzz.h (FUZZ_PROOF_*).
 *
 * Against the in-memory log of fuzz_tree.h, for claims about trees it holds:
 *   - completeness: the proof ledger_prove_* makes for the claim (its index and sizes
 *     reduced into range) verifies;
 *   - soundness: a fuzzed proof that verifies under the true root of a tree proves the
 *     true leaf (inclusion) or the true old root (consistency).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_tree.h"

static void tree_root(uint64_t size, uint8_t root[LEDGER_HASH_LEN])
{
    struct vt_error err;
    if (ledger_tree_hash(fuzz_tree(), size, root, &err) != VT_OK)
        fuzz_fail("no root for size %llu: %s", (unsigned long long)size, err.msg);
}

static void inclusion(uint64_t index, uint64_t size, const uint8_t *leaf, const uint8_t *root,
                      const uint8_t (*proof)[LEDGER_HASH_LEN], size_t n)
{
    struct vt_error err;
    enum vt_status st = ledger_verify_inclusion(leaf, index, size, proof, n, root, &err);
    if (size == 0 || size > FUZZ_TREE_LEAVES)
        return;
    uint8_t true_root[LEDGER_HASH_LEN], true_leaf[LEDGER_HASH_LEN];
    tree_root(size, true_root);
    if (st == VT_OK && !memcmp(root, true_root, LEDGER_HASH_LEN)) {
        fuzz_tree_leaf(index, true_leaf);
        if (memcmp(leaf, true_leaf, LEDGER_HASH_LEN) != 0)
            fuzz_fail("a forged inclusion proof verified (index %llu, size %llu)",
                      (unsigned long long)index, (unsigned long long)size);
    }
    uint64_t i = index % size;
    uint8_t real[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
    size_t real_n = 0;
    if (ledger_prove_inclusion(fuzz_tree(), size, i, real, &real_n, &err) != VT_OK)
        fuzz_fail("cannot prove leaf %llu of %llu: %s", (unsigned long long)i,
                  (unsigned long long)size, err.msg);
    fuzz_tree_leaf(i, true_leaf);
    if (ledger_verify_inclusion(true_leaf, i, size, (const uint8_t(*)[LEDGER_HASH_LEN])real, real_n,
                                true_root, &err) != VT_OK)
        fuzz_fail("a true inclusion proof (%llu of %llu) fails: %s", (unsigned long long)i,
                  (unsigned long long)size, err.msg);
}

static void consistency(uint64_t old_size, uint64_t new_size, const uint8_t *old_root,
                        const uint8_t *new_root, const uint8_t (*proof)[LEDGER_HASH_LEN], size_t n)
{
    struct vt_error err;
    enum vt_status st =
        ledger_verify_consistency(old_size, new_size, old_root, new_root, proof, n, &err);
    if (new_size > FUZZ_TREE_LEAVES)
        return;
    uint8_t true_new[LEDGER_HASH_LEN], true_old[LEDGER_HASH_LEN];
    tree_root(new_size, true_new);
    if (st == VT_OK && old_size <= new_size && !memcmp(new_root, true_new, LEDGER_HASH_LEN)) {
        tree_root(old_size, true_old);
        if (memcmp(old_root, true_old, LEDGER_HASH_LEN) != 0)
            fuzz_fail("a forged consistency proof verified (%llu to %llu)",
                      (unsigned long long)old_size, (unsigned long long)new_size);
    }
    uint64_t old = old_size % (new_size + 1);
    uint8_t real[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
    size_t real_n = 0;
    if (ledger_prove_consistency(fuzz_tree(), old, new_size, real, &real_n, &err) != VT_OK)
        fuzz_fail("cannot prove %llu to %llu: %s", (unsigned long long)old,
                  (unsigned long long)new_size, err.msg);
    tree_root(old, true_old);
    if (ledger_verify_consistency(old, new_size, true_old, true_new,
                                  (const uint8_t(*)[LEDGER_HASH_LEN])real, real_n, &err) != VT_OK)
        fuzz_fail("a true consistency proof (%llu to %llu) fails: %s", (unsigned long long)old,
                  (unsigned long long)new_size, err.msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    if (size < FUZZ_PROOF_HEADER)
        return 0;
    uint64_t a = vt_be64_get(data + 1);
    uint64_t b = vt_be64_get(data + 9);
    const uint8_t *h1 = data + 17;
    const uint8_t *h2 = data + 49;
    size_t n = (size - FUZZ_PROOF_HEADER) / LEDGER_HASH_LEN;
    /* Aligned copies of the proof hashes: the API takes an array of arrays. */
    uint8_t(*proof)[LEDGER_HASH_LEN] = vt_malloc(n * LEDGER_HASH_LEN + 1);
    memcpy(proof, data + FUZZ_PROOF_HEADER, n * LEDGER_HASH_LEN);
    if (data[0] % FUZZ_PROOF_COUNT == FUZZ_PROOF_INCLUSION)
        inclusion(a, b, h1, h2, (const uint8_t(*)[LEDGER_HASH_LEN])proof, n);
    else
        consistency(a, b, h1, h2, (const uint8_t(*)[LEDGER_HASH_LEN])proof, n);
    free(proof);
    return 0;
}
