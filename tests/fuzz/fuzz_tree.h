/*
 * An in-memory Merkle log for the proof and tile targets: FUZZ_TREE_LEAVES leaves, leaf i
 * being ledger_leaf_hash of i as 8 big-endian bytes, stored as the ledger stores them
 * (ledger_stored_hash_index). Any prefix of it is a tree of that size.
 */
#ifndef VITAE_FUZZ_TREE_H
#define VITAE_FUZZ_TREE_H

#include "fuzz.h"
#include "ledger/ledger.h"

#define FUZZ_TREE_LEAVES 65536

/* The reader over the stored hashes, built on the first call. Borrowed, lives forever. */
const struct ledger_hash_reader *fuzz_tree(void);

/* The leaf hash of leaf i (i < FUZZ_TREE_LEAVES). */
void fuzz_tree_leaf(uint64_t i, uint8_t out[LEDGER_HASH_LEN]);

#endif
