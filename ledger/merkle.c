/*
 * RFC 9162 Merkle tree hashing, the dense stored-hash numbering, tree hashes and
 * inclusion/consistency proofs computed from stored hashes only.
 * Byte-level rules and the derivation of the index formula: specs/transparency-log.md §2-§4.
 */
#include "ledger/ledger.h"

#include <inttypes.h>
#include <string.h>

/* One batched read covers this many stored hashes (see hash_ranges). */
#define READ_BATCH ((size_t)2 * LEDGER_PROOF_MAX)

/* The prefix is hashed as a part of its own: no copy of the leaf, no allocation. */
void ledger_leaf_hash(const void *data, size_t n, uint8_t out[LEDGER_HASH_LEN])
{
    static const uint8_t prefix = 0x00;
    vt_sha256_two(&prefix, 1, data, n, out);
}

void ledger_node_hash(const uint8_t left[LEDGER_HASH_LEN], const uint8_t right[LEDGER_HASH_LEN],
                      uint8_t out[LEDGER_HASH_LEN])
{
    /* Copying both children first lets out alias either of them. */
    uint8_t buf[1 + 2 * LEDGER_HASH_LEN];
    buf[0] = 0x01;
    memcpy(buf + 1, left, LEDGER_HASH_LEN);
    memcpy(buf + 1 + LEDGER_HASH_LEN, right, LEDGER_HASH_LEN);
    vt_sha256(buf, sizeof(buf), out);
}

uint64_t ledger_stored_hash_index(unsigned level, uint64_t n)
{
    VT_ASSERT(level < 64 && n < (LEDGER_SIZE_MAX >> level));
    /*
     * The subtree completes when its last leaf, last = (n+1)·2^level − 1, is appended.
     * Before that append 2·last − popcount(last) hashes were stored (every leaf m adds
     * 1 + trailing_ones(m)); the append then stores the leaf and one hash per level up to
     * this one, so ours comes `level` places after the leaf.
     */
    uint64_t last = ((n + 1) << level) - 1;
    return 2 * last - (uint64_t)__builtin_popcountll(last) + level;
}

static enum vt_status read_stored(const struct ledger_hash_reader *r, const uint64_t *indexes,
                                  size_t count, uint8_t (*hashes)[LEDGER_HASH_LEN],
                                  struct vt_error *err)
{
    if (count == 0)
        return VT_OK;
    VT_ASSERT(r != NULL && r->read != NULL);
    enum vt_status st = r->read(r->ctx, indexes, count, hashes, err);
    if (st != VT_OK && err != NULL && err->status == VT_OK)
        vt_error_set(err, st, "cannot read stored hashes: %s", vt_status_name(st));
    return st;
}

enum vt_status ledger_stored_hashes_for_append(const struct ledger_hash_reader *r, uint64_t n,
                                               const uint8_t leaf[LEDGER_HASH_LEN],
                                               uint8_t (*out)[LEDGER_HASH_LEN], size_t *count,
                                               struct vt_error *err)
{
    if (n >= LEDGER_SIZE_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE,
                            "cannot append leaf %" PRIu64 ": the log holds at most %" PRIu64
                            " leaves",
                            n, LEDGER_SIZE_MAX);

    /* Each trailing one bit of n is a level at which the new leaf closes a subtree whose
     * left half is already stored. n < 2^63, so ~n has a zero bit to find. */
    unsigned closes = (unsigned)__builtin_ctzll(~n);
    uint64_t indexes[LEDGER_PROOF_MAX];
    uint8_t left[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
    for (unsigned level = 0; level < closes; level++)
        indexes[level] = ledger_stored_hash_index(level, (n >> level) - 1);
    enum vt_status st = read_stored(r, indexes, closes, left, err);
    if (st != VT_OK)
        return st;

    memcpy(out[0], leaf, LEDGER_HASH_LEN);
    for (unsigned level = 0; level < closes; level++)
        ledger_node_hash(left[level], out[level], out[level + 1]);
    *count = (size_t)closes + 1;
    return VT_OK;
}

/* A leaf range [lo, hi) that occurs in the RFC 9162 recursion: lo is a multiple of every
 * power of two ≤ hi − lo, so its binary decomposition is a run of stored subtrees. */
struct range {
    uint64_t lo, hi;
};

static unsigned floor_log2(uint64_t x)
{
    return 63u - (unsigned)__builtin_clzll(x);
}

/* The k of RFC 9162 §2.1.1: the largest power of two strictly below n (n ≥ 2). */
static uint64_t split_point(uint64_t n)
{
    return (uint64_t)1 << floor_log2(n - 1);
}

static size_t range_pieces(struct range rg, uint64_t *indexes)
{
    size_t count = 0;
    for (uint64_t lo = rg.lo; lo < rg.hi;) {
        unsigned level = floor_log2(rg.hi - lo);
        uint64_t width = (uint64_t)1 << level;
        VT_ASSERT((lo & (width - 1)) == 0);
        indexes[count++] = ledger_stored_hash_index(level, lo >> level);
        lo += width;
    }
    return count;
}

/*
 * MTH of each range: one reader call per batch of READ_BATCH stored hashes. For a proof
 * one batch always suffices (only the range touching the right edge of the tree is not a
 * single subtree), but the code does not depend on that argument.
 */
static enum vt_status hash_ranges(const struct ledger_hash_reader *r, const struct range *ranges,
                                  size_t count, uint8_t (*out)[LEDGER_HASH_LEN],
                                  struct vt_error *err)
{
    uint64_t indexes[READ_BATCH];
    uint8_t pieces[READ_BATCH][LEDGER_HASH_LEN];
    size_t npieces[LEDGER_PROOF_MAX];
    VT_ASSERT(count <= LEDGER_PROOF_MAX);

    size_t first = 0, used = 0;
    for (size_t i = 0; i <= count; i++) {
        size_t need = i < count ? (size_t)__builtin_popcountll(ranges[i].hi - ranges[i].lo) : 0;
        VT_ASSERT(need <= LEDGER_PROOF_MAX);
        if (i == count || used + need > READ_BATCH) {
            enum vt_status st = read_stored(r, indexes, used, pieces, err);
            if (st != VT_OK)
                return st;
            /* Fold right to left: MTH(a ‖ rest) = H(a, MTH(rest)) with a the largest
             * piece, exactly the RFC split at the largest power of two. */
            size_t at = 0;
            for (size_t j = first; j < i; j++) {
                size_t last = at + npieces[j] - 1;
                memcpy(out[j], pieces[last], LEDGER_HASH_LEN);
                for (size_t k = last; k-- > at;)
                    ledger_node_hash(pieces[k], out[j], out[j]);
                at += npieces[j];
            }
            first = i;
            used = 0;
        }
        if (i < count) {
            npieces[i] = range_pieces(ranges[i], indexes + used);
            used += npieces[i];
        }
    }
    return VT_OK;
}

static const uint8_t *empty_tree_hash(void)
{
    /* SHA-256 of the empty string: MTH({}) in RFC 9162 §2.1.1. */
    static const uint8_t h[LEDGER_HASH_LEN] = {
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
        0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
        0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
    };
    return h;
}

static enum vt_status check_size(uint64_t size, const char *what, struct vt_error *err)
{
    if (size > LEDGER_SIZE_MAX)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid %s %" PRIu64 ": larger than the maximum of %" PRIu64, what,
                            size, LEDGER_SIZE_MAX);
    return VT_OK;
}

enum vt_status ledger_tree_hash(const struct ledger_hash_reader *r, uint64_t size,
                                uint8_t root[LEDGER_HASH_LEN], struct vt_error *err)
{
    enum vt_status st = check_size(size, "tree size", err);
    if (st != VT_OK)
        return st;
    if (size == 0) {
        memcpy(root, empty_tree_hash(), LEDGER_HASH_LEN);
        return VT_OK;
    }
    struct range all = {0, size};
    return hash_ranges(r, &all, 1, (uint8_t(*)[LEDGER_HASH_LEN])root, err);
}

static void reverse_ranges(struct range *ranges, size_t count)
{
    for (size_t i = 0; i < count / 2; i++) {
        struct range t = ranges[i];
        ranges[i] = ranges[count - 1 - i];
        ranges[count - 1 - i] = t;
    }
}

enum vt_status ledger_prove_inclusion(const struct ledger_hash_reader *r, uint64_t size,
                                      uint64_t index, uint8_t (*proof)[LEDGER_HASH_LEN],
                                      size_t *proof_len, struct vt_error *err)
{
    enum vt_status st = check_size(size, "tree size", err);
    if (st != VT_OK)
        return st;
    if (index >= size)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot prove inclusion of leaf %" PRIu64 " in a tree of size %" PRIu64,
                            index, size);

    /* Walk PATH(m, D[lo:hi]) from the root down; the RFC lists siblings leaf first. */
    struct range ranges[LEDGER_PROOF_MAX];
    size_t count = 0;
    uint64_t lo = 0, hi = size;
    while (hi - lo > 1) {
        uint64_t mid = lo + split_point(hi - lo);
        if (index < mid) {
            ranges[count++] = (struct range){mid, hi};
            hi = mid;
        } else {
            ranges[count++] = (struct range){lo, mid};
            lo = mid;
        }
    }
    reverse_ranges(ranges, count);
    st = hash_ranges(r, ranges, count, proof, err);
    if (st != VT_OK)
        return st;
    *proof_len = count;
    return VT_OK;
}

enum vt_status ledger_prove_consistency(const struct ledger_hash_reader *r, uint64_t old_size,
                                        uint64_t new_size, uint8_t (*proof)[LEDGER_HASH_LEN],
                                        size_t *proof_len, struct vt_error *err)
{
    enum vt_status st = check_size(new_size, "tree size", err);
    if (st != VT_OK)
        return st;
    if (old_size > new_size)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot prove consistency from size %" PRIu64
                            " to the smaller size %" PRIu64,
                            old_size, new_size);
    *proof_len = 0;
    if (old_size == 0 || old_size == new_size)
        return VT_OK;

    /* SUBPROOF(m, D[lo:hi], complete) from the root down; `complete` turns false once the
     * old tree's root is no longer a node the verifier already holds. */
    struct range ranges[LEDGER_PROOF_MAX];
    size_t count = 0;
    uint64_t lo = 0, hi = new_size, m = old_size;
    bool complete = true;
    for (;;) {
        uint64_t n = hi - lo;
        if (m == n) {
            if (!complete)
                ranges[count++] = (struct range){lo, hi};
            break;
        }
        uint64_t k = split_point(n);
        if (m <= k) {
            ranges[count++] = (struct range){lo + k, hi};
            hi = lo + k;
        } else {
            ranges[count++] = (struct range){lo, lo + k};
            lo += k;
            m -= k;
            complete = false;
        }
    }
    reverse_ranges(ranges, count);
    st = hash_ranges(r, ranges, count, proof, err);
    if (st != VT_OK)
        return st;
    *proof_len = count;
    return VT_OK;
}

enum vt_status ledger_verify_inclusion(const uint8_t leaf[LEDGER_HASH_LEN], uint64_t index,
                                       uint64_t size, const uint8_t (*proof)[LEDGER_HASH_LEN],
                                       size_t proof_len, const uint8_t root[LEDGER_HASH_LEN],
                                       struct vt_error *err)
{
    enum vt_status st = check_size(size, "tree size", err);
    if (st != VT_OK)
        return st;
    if (index >= size)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid inclusion proof: leaf index %" PRIu64
                            " is outside a tree of size %" PRIu64,
                            index, size);
    if (proof_len > LEDGER_PROOF_MAX)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid inclusion proof: %zu hashes, more than the maximum of %d",
                            proof_len, LEDGER_PROOF_MAX);

    /* RFC 9162 §2.1.3.2. fn walks the leaf's position up the tree, sn the last leaf's;
     * when they meet on the right edge, levels without a right sibling are skipped. */
    uint64_t fn = index, sn = size - 1;
    uint8_t h[LEDGER_HASH_LEN];
    memcpy(h, leaf, LEDGER_HASH_LEN);
    for (size_t i = 0; i < proof_len; i++) {
        if (sn == 0)
            return vt_error_set(err, VT_ERR_VERIFY,
                                "inclusion proof does not verify: %zu hashes, more than a "
                                "tree of size %" PRIu64 " needs for leaf %" PRIu64,
                                proof_len, size, index);
        if ((fn & 1) || fn == sn) {
            ledger_node_hash(proof[i], h, h);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            ledger_node_hash(h, proof[i], h);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return vt_error_set(err, VT_ERR_VERIFY,
                            "inclusion proof does not verify: %zu hashes, fewer than a tree "
                            "of size %" PRIu64 " needs for leaf %" PRIu64,
                            proof_len, size, index);
    if (memcmp(h, root, LEDGER_HASH_LEN) != 0)
        return vt_error_set(err, VT_ERR_VERIFY,
                            "inclusion proof does not verify: leaf %" PRIu64
                            " does not lead to the root of the tree of size %" PRIu64,
                            index, size);
    return VT_OK;
}

enum vt_status ledger_verify_consistency(uint64_t old_size, uint64_t new_size,
                                         const uint8_t old_root[LEDGER_HASH_LEN],
                                         const uint8_t new_root[LEDGER_HASH_LEN],
                                         const uint8_t (*proof)[LEDGER_HASH_LEN], size_t proof_len,
                                         struct vt_error *err)
{
    enum vt_status st = check_size(new_size, "tree size", err);
    if (st != VT_OK)
        return st;
    if (old_size > new_size)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid consistency proof: old size %" PRIu64
                            " is larger than new size %" PRIu64,
                            old_size, new_size);
    if (proof_len > LEDGER_PROOF_MAX)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid consistency proof: %zu hashes, more than the maximum of %d",
                            proof_len, LEDGER_PROOF_MAX);

    if (old_size == new_size) {
        if (proof_len != 0)
            return vt_error_set(err, VT_ERR_VERIFY,
                                "consistency proof does not verify: equal sizes need an empty "
                                "proof, got %zu hashes",
                                proof_len);
        if (memcmp(old_root, new_root, LEDGER_HASH_LEN) != 0)
            return vt_error_set(err, VT_ERR_VERIFY,
                                "consistency proof does not verify: two different roots for "
                                "size %" PRIu64,
                                old_size);
        return VT_OK;
    }
    if (old_size == 0) {
        if (proof_len != 0)
            return vt_error_set(err, VT_ERR_VERIFY,
                                "consistency proof does not verify: size 0 needs an empty "
                                "proof, got %zu hashes",
                                proof_len);
        if (memcmp(old_root, empty_tree_hash(), LEDGER_HASH_LEN) != 0)
            return vt_error_set(err, VT_ERR_VERIFY,
                                "consistency proof does not verify: the root of size 0 is not "
                                "SHA-256 of the empty string");
        return VT_OK;
    }
    if (proof_len == 0)
        return vt_error_set(err, VT_ERR_VERIFY,
                            "consistency proof does not verify: empty proof from size %" PRIu64
                            " to %" PRIu64,
                            old_size, new_size);

    /* RFC 9162 §2.1.4.2. When the old tree is a complete subtree its root is the first
     * path element; the proof omits it because the verifier already holds it. */
    bool old_is_subtree = (old_size & (old_size - 1)) == 0;
    size_t total = proof_len + (old_is_subtree ? 1 : 0);
    uint64_t fn = old_size - 1, sn = new_size - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[LEDGER_HASH_LEN], sr[LEDGER_HASH_LEN];
    const uint8_t *first = old_is_subtree ? old_root : proof[0];
    memcpy(fr, first, LEDGER_HASH_LEN);
    memcpy(sr, first, LEDGER_HASH_LEN);
    for (size_t i = 1; i < total; i++) {
        const uint8_t *c = proof[old_is_subtree ? i - 1 : i];
        if (sn == 0)
            return vt_error_set(err, VT_ERR_VERIFY,
                                "consistency proof does not verify: %zu hashes, more than "
                                "sizes %" PRIu64 " to %" PRIu64 " need",
                                proof_len, old_size, new_size);
        if ((fn & 1) || fn == sn) {
            ledger_node_hash(c, fr, fr);
            ledger_node_hash(c, sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            ledger_node_hash(sr, c, sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return vt_error_set(err, VT_ERR_VERIFY,
                            "consistency proof does not verify: %zu hashes, fewer than sizes "
                            "%" PRIu64 " to %" PRIu64 " need",
                            proof_len, old_size, new_size);
    if (memcmp(fr, old_root, LEDGER_HASH_LEN) != 0)
        return vt_error_set(err, VT_ERR_VERIFY,
                            "consistency proof does not verify: it does not lead to the old "
                            "root of size %" PRIu64,
                            old_size);
    if (memcmp(sr, new_root, LEDGER_HASH_LEN) != 0)
        return vt_error_set(err, VT_ERR_VERIFY,
                            "consistency proof does not verify: it does not lead to the new "
                            "root of size %" PRIu64,
                            new_size);
    return VT_OK;
}
