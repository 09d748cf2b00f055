/*
 * Merkle tree hashing, stored-hash indexing and proofs, checked against an independent
 * recursive implementation of the RFC 9162 definitions written here (hashing through
 * vt_sha256 directly), against known answers, and by exhaustive tampering.
 */
#include "ledger/ledger.h"
#include "test_support.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HL LEDGER_HASH_LEN
typedef uint8_t hash_t[HL];

/* ---- reference implementation (RFC 9162 §2.1, recursive, no stored hashes) ---- */

static void ref_leaf(const void *data, size_t n, uint8_t out[HL])
{
    uint8_t *buf = malloc(n + 1);
    assert_non_null(buf);
    buf[0] = 0x00;
    memcpy(buf + 1, data, n);
    vt_sha256(buf, n + 1, out);
    free(buf);
}

static void ref_node(const uint8_t l[HL], const uint8_t r[HL], uint8_t out[HL])
{
    uint8_t buf[1 + 2 * HL];
    buf[0] = 0x01;
    memcpy(buf + 1, l, HL);
    memcpy(buf + 1 + HL, r, HL);
    vt_sha256(buf, sizeof(buf), out);
}

static size_t ref_split(size_t n)
{
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

static void ref_mth(const hash_t *lh, size_t n, uint8_t out[HL])
{
    if (n == 0) {
        vt_sha256("", 0, out);
        return;
    }
    if (n == 1) {
        memcpy(out, lh[0], HL);
        return;
    }
    size_t k = ref_split(n);
    uint8_t l[HL], r[HL];
    ref_mth(lh, k, l);
    ref_mth(lh + k, n - k, r);
    ref_node(l, r, out);
}

/* PATH(m, D[n]) */
static void ref_path(size_t m, const hash_t *lh, size_t n, hash_t *out, size_t *len)
{
    if (n == 1)
        return;
    size_t k = ref_split(n);
    if (m < k) {
        ref_path(m, lh, k, out, len);
        ref_mth(lh + k, n - k, out[(*len)++]);
    } else {
        ref_path(m - k, lh + k, n - k, out, len);
        ref_mth(lh, k, out[(*len)++]);
    }
}

/* SUBPROOF(m, D[n], b) */
static void ref_subproof(size_t m, const hash_t *lh, size_t n, bool b, hash_t *out, size_t *len)
{
    if (m == n) {
        if (!b)
            ref_mth(lh, n, out[(*len)++]);
        return;
    }
    size_t k = ref_split(n);
    if (m <= k) {
        ref_subproof(m, lh, k, b, out, len);
        ref_mth(lh + k, n - k, out[(*len)++]);
    } else {
        ref_subproof(m - k, lh + k, n - k, false, out, len);
        ref_mth(lh, k, out[(*len)++]);
    }
}

/* ---- in-memory stored-hash log ---- */

struct mem_log {
    hash_t *hashes;
    size_t len, cap;
    hash_t *leaves;
    size_t nleaves;
    unsigned long read_calls, reads;
};

static enum vt_status mem_read(void *ctx, const uint64_t *indexes, size_t count, hash_t *out,
                               struct vt_error *err)
{
    struct mem_log *m = ctx;
    m->read_calls++;
    for (size_t i = 0; i < count; i++) {
        if (indexes[i] >= m->len)
            return vt_error_set(err, VT_ERR_NOT_FOUND, "no stored hash %" PRIu64, indexes[i]);
        memcpy(out[i], m->hashes[indexes[i]], HL);
        m->reads++;
    }
    return VT_OK;
}

static struct ledger_hash_reader reader_of(struct mem_log *m)
{
    return (struct ledger_hash_reader){.read = mem_read, .ctx = m};
}

static unsigned trailing_ones(uint64_t n)
{
    unsigned c = 0;
    while (n & 1) {
        c++;
        n >>= 1;
    }
    return c;
}

static void mem_append(struct mem_log *m, const uint8_t leaf[HL])
{
    uint64_t n = m->nleaves;
    hash_t out[LEDGER_PROOF_MAX];
    size_t count = 0;
    struct ledger_hash_reader r = reader_of(m);
    struct vt_error err;
    assert_int_equal(ledger_stored_hashes_for_append(&r, n, leaf, out, &count, &err), VT_OK);
    assert_int_equal(count, 1 + trailing_ones(n));
    /* New hashes land at consecutive indexes right after the ones already stored. */
    assert_int_equal(ledger_stored_hash_index(0, n), m->len);
    if (m->len + count > m->cap) {
        m->cap = (m->cap + count) * 2;
        m->hashes = realloc(m->hashes, m->cap * HL);
        assert_non_null(m->hashes);
    }
    memcpy(m->hashes[m->len], out, count * HL);
    m->len += count;
    m->leaves = realloc(m->leaves, (m->nleaves + 1) * HL);
    assert_non_null(m->leaves);
    memcpy(m->leaves[m->nleaves++], leaf, HL);
}

static void leaf_of(size_t i, uint32_t salt, uint8_t out[HL])
{
    char data[64];
    int n = snprintf(data, sizeof(data), "leaf %zu/%" PRIu32, i, salt);
    ref_leaf(data, (size_t)n, out);
}

static void mem_build(struct mem_log *m, size_t n, uint32_t salt)
{
    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < n; i++) {
        uint8_t leaf[HL];
        leaf_of(i, salt, leaf);
        mem_append(m, leaf);
    }
}

static void mem_free(struct mem_log *m)
{
    free(m->hashes);
    free(m->leaves);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void expect_hex(const uint8_t *got, const char *hex)
{
    size_t len;
    uint8_t *want = vt_test_unhex(hex, &len);
    assert_int_equal(len, HL);
    assert_memory_equal(got, want, HL);
    free(want);
}

/* ---- tests ---- */

static void test_leaf_and_node_hash(void **state)
{
    (void)state;
    uint8_t h[HL], want[HL];
    ledger_leaf_hash("", 0, h);
    /* SHA-256(0x00): the RFC 6962 hash of an empty leaf. */
    expect_hex(h, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");

    /* Sizes on both sides of the stack/streaming switch hash the same as the reference. */
    uint8_t big[4096];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7 + 3);
    size_t sizes[] = {1, 31, 511, 512, 513, 1000, 4096};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        ledger_leaf_hash(big, sizes[i], h);
        ref_leaf(big, sizes[i], want);
        assert_memory_equal(h, want, HL);
    }

    uint8_t a[HL], b[HL];
    ledger_leaf_hash("a", 1, a);
    ledger_leaf_hash("b", 1, b);
    ref_node(a, b, want);
    ledger_node_hash(a, b, h);
    assert_memory_equal(h, want, HL);
    assert_memory_not_equal(h, a, HL);
    /* The output may alias either input. */
    uint8_t x[HL];
    memcpy(x, a, HL);
    ledger_node_hash(x, b, x);
    assert_memory_equal(x, want, HL);
    memcpy(x, b, HL);
    ledger_node_hash(a, x, x);
    assert_memory_equal(x, want, HL);
}

/*
 * Roots of the first n of the classic RFC 6962 test leaves, n = 0..8. Computed once with
 * Python's hashlib from the RFC definition (MTH({}) = SHA-256(""), leaf = SHA-256(00 ‖ d),
 * node = SHA-256(01 ‖ l ‖ r)); they equal the values in the certificate-transparency
 * reference implementation's tests.
 */
static void test_known_roots(void **state)
{
    (void)state;
    static const struct {
        const char *data;
        size_t len;
    } leaves[] = {
        {"", 0},
        {"\x00", 1},
        {"\x10", 1},
        {"\x20\x21", 2},
        {"\x30\x31", 2},
        {"\x40\x41\x42\x43", 4},
        {"\x50\x51\x52\x53\x54\x55\x56\x57", 8},
        {"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16},
    };
    static const char *roots[] = {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    };
    struct mem_log m;
    memset(&m, 0, sizeof(m));
    struct ledger_hash_reader r = reader_of(&m);
    for (size_t n = 0; n <= 8; n++) {
        uint8_t root[HL], ref[HL];
        assert_int_equal(ledger_tree_hash(&r, n, root, NULL), VT_OK);
        expect_hex(root, roots[n]);
        ref_mth(m.leaves, n, ref);
        assert_memory_equal(root, ref, HL);
        if (n < 8) {
            uint8_t leaf[HL];
            ledger_leaf_hash(leaves[n].data, leaves[n].len, leaf);
            mem_append(&m, leaf);
        }
    }
    mem_free(&m);
}

/* The worked table of specs/transparency-log.md §3, and the formula against a simulation
 * of the completion order. */
static void test_stored_hash_index(void **state)
{
    (void)state;
    static const struct {
        unsigned level;
        uint64_t n, index;
    } table[] = {
        {0, 0, 0},  {0, 1, 1},  {1, 0, 2},  {0, 2, 3},  {0, 3, 4},  {1, 1, 5},
        {2, 0, 6},  {0, 4, 7},  {0, 5, 8},  {1, 2, 9},  {0, 6, 10}, {0, 7, 11},
        {1, 3, 12}, {2, 1, 13}, {3, 0, 14}, {0, 8, 15},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        assert_int_equal(ledger_stored_hash_index(table[i].level, table[i].n), table[i].index);

    /* Simulate: leaf n completes (0,n) and then (l, n>>l) for each trailing one bit. */
    uint64_t next = 0;
    for (uint64_t n = 0; n < 20000; n++) {
        assert_int_equal(ledger_stored_hash_index(0, n), next++);
        for (unsigned l = 1; l <= trailing_ones(n); l++)
            assert_int_equal(ledger_stored_hash_index(l, n >> l), next++);
    }

    /* The far end: a full tree of 2^63 leaves stores 2^64 − 1 hashes, its root last. */
    assert_true(ledger_stored_hash_index(63, 0) == UINT64_MAX - 1);
    assert_true(ledger_stored_hash_index(0, LEDGER_SIZE_MAX - 1) == UINT64_MAX - 64);
    assert_true(ledger_stored_hash_index(62, 1) == UINT64_MAX - 2);
}

static void test_append_1000(void **state)
{
    (void)state;
    struct mem_log m;
    memset(&m, 0, sizeof(m));
    struct ledger_hash_reader r = reader_of(&m);
    for (size_t n = 0; n < 1000; n++) {
        uint8_t leaf[HL];
        leaf_of(n, 1, leaf);
        size_t before = m.len;
        unsigned long calls = m.read_calls;
        mem_append(&m, leaf);
        /* Even leaves close no subtree and read nothing; odd ones read in one call. */
        assert_int_equal(m.read_calls - calls, (n & 1) ? 1 : 0);
        /* Every stored hash equals the independently computed subtree hash. */
        for (size_t k = 0; before + k < m.len; k++) {
            uint64_t first = (uint64_t)(n >> k) << k;
            uint8_t want[HL];
            ref_mth(m.leaves + first, (size_t)1 << k, want);
            assert_memory_equal(m.hashes[before + k], want, HL);
            assert_int_equal(ledger_stored_hash_index((unsigned)k, n >> k), before + k);
        }
    }
    assert_int_equal(m.len, 2 * 1000 - 6 /* popcount(1000) */);

    for (size_t size = 0; size <= 1000; size++) {
        uint8_t root[HL], want[HL];
        unsigned long reads = m.reads, calls = m.read_calls;
        assert_int_equal(ledger_tree_hash(&r, size, root, NULL), VT_OK);
        ref_mth(m.leaves, size, want);
        assert_memory_equal(root, want, HL);
        /* One stored hash per one bit of the size, in a single read. */
        assert_int_equal(m.reads - reads, (unsigned long)__builtin_popcountll(size));
        assert_int_equal(m.read_calls - calls, size == 0 ? 0 : 1);
    }

    struct vt_error err;
    uint8_t root[HL];
    assert_int_equal(ledger_tree_hash(&r, 1001, root, &err), VT_ERR_NOT_FOUND);
    assert_int_equal(ledger_tree_hash(&r, LEDGER_SIZE_MAX + 1, root, &err), VT_ERR_INVALID);
    mem_free(&m);
}

/* C2SP merkle-tree's 7-leaf example: a..g leaves, h=(a,b) i=(c,d) j=(e,f) k=(h,i)
 * l=(j,g), root=(k,l). */
static void test_c2sp_seven_leaves(void **state)
{
    (void)state;
    struct mem_log m;
    memset(&m, 0, sizeof(m));
    struct ledger_hash_reader r = reader_of(&m);
    hash_t leaf[7];
    for (int i = 0; i < 7; i++) {
        char d[3] = {'d', (char)('0' + i), 0};
        ref_leaf(d, 2, leaf[i]);
        mem_append(&m, leaf[i]);
    }
    const uint8_t *a = leaf[0], *b = leaf[1], *c = leaf[2], *d = leaf[3], *e = leaf[4],
                  *f = leaf[5], *g = leaf[6];
    uint8_t h[HL], i_[HL], j[HL], k[HL], l[HL], root[HL];
    ref_node(a, b, h);
    ref_node(c, d, i_);
    ref_node(e, f, j);
    ref_node(h, i_, k);
    ref_node(j, g, l);
    ref_node(k, l, root);

    uint8_t got_root[HL];
    assert_int_equal(ledger_tree_hash(&r, 7, got_root, NULL), VT_OK);
    assert_memory_equal(got_root, root, HL);

    struct {
        uint64_t index;
        size_t len;
        const uint8_t *want[4];
    } incl[] = {
        {0, 3, {b, i_, l}},
        {3, 3, {c, h, l}},
        {4, 3, {f, g, k}},
        {6, 2, {j, k}},
    };
    for (size_t t = 0; t < 4; t++) {
        hash_t proof[LEDGER_PROOF_MAX];
        size_t len = 99;
        assert_int_equal(ledger_prove_inclusion(&r, 7, incl[t].index, proof, &len, NULL), VT_OK);
        assert_int_equal(len, incl[t].len);
        for (size_t x = 0; x < len; x++)
            assert_memory_equal(proof[x], incl[t].want[x], HL);
        assert_int_equal(ledger_verify_inclusion(leaf[incl[t].index], incl[t].index, 7,
                                                 (const hash_t *)proof, len, root, NULL),
                         VT_OK);
    }

    struct {
        uint64_t old_size;
        size_t len;
        const uint8_t *want[4];
    } cons[] = {
        {3, 4, {c, d, h, l}},
        {4, 1, {l}},
        {6, 3, {j, g, k}},
    };
    for (size_t t = 0; t < 3; t++) {
        hash_t proof[LEDGER_PROOF_MAX];
        size_t len = 99;
        assert_int_equal(ledger_prove_consistency(&r, cons[t].old_size, 7, proof, &len, NULL),
                         VT_OK);
        assert_int_equal(len, cons[t].len);
        for (size_t x = 0; x < len; x++)
            assert_memory_equal(proof[x], cons[t].want[x], HL);
        uint8_t old_root[HL];
        ref_mth(m.leaves, cons[t].old_size, old_root);
        assert_int_equal(ledger_verify_consistency(cons[t].old_size, 7, old_root, root,
                                                   (const hash_t *)proof, len, NULL),
                         VT_OK);
    }
    mem_free(&m);
}

static void flip(uint8_t *p, unsigned bit)
{
    p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

/* Flips every bit (exhaustive) or one random bit of each input; each must fail. */
static void tamper_inclusion(const uint8_t leaf[HL], uint64_t index, uint64_t size, hash_t *proof,
                             size_t len, uint8_t root[HL], bool exhaustive, unsigned long *failures)
{
    uint8_t *targets[LEDGER_PROOF_MAX + 2];
    size_t nt = 0;
    uint8_t leaf_copy[HL];
    memcpy(leaf_copy, leaf, HL);
    targets[nt++] = leaf_copy;
    targets[nt++] = root;
    for (size_t i = 0; i < len; i++)
        targets[nt++] = proof[i];
    for (size_t t = 0; t < nt; t++) {
        for (unsigned bit = 0; bit < 8 * HL; bit++) {
            unsigned b = exhaustive ? bit : (unsigned)(rng() % (8 * HL));
            flip(targets[t], b);
            struct vt_error err;
            enum vt_status st = ledger_verify_inclusion(leaf_copy, index, size,
                                                        (const hash_t *)proof, len, root, &err);
            assert_int_equal(st, VT_ERR_VERIFY);
            assert_true(err.msg[0] != '\0');
            (*failures)++;
            flip(targets[t], b);
            if (!exhaustive)
                break;
        }
    }
    assert_int_equal(
        ledger_verify_inclusion(leaf, index, size, (const hash_t *)proof, len, root, NULL), VT_OK);
}

static void check_inclusion(struct mem_log *m, const hash_t *roots, uint64_t size, uint64_t index,
                            bool exhaustive, unsigned long *failures)
{
    struct ledger_hash_reader r = reader_of(m);
    hash_t proof[LEDGER_PROOF_MAX], ref[LEDGER_PROOF_MAX];
    size_t len = 0, ref_len = 0;
    assert_int_equal(ledger_prove_inclusion(&r, size, index, proof, &len, NULL), VT_OK);
    ref_path((size_t)index, m->leaves, (size_t)size, ref, &ref_len);
    assert_int_equal(len, ref_len);
    assert_memory_equal(proof, ref, len * HL);

    uint8_t root[HL];
    memcpy(root, roots[size], HL);
    const uint8_t *leaf = m->leaves[index];
    assert_int_equal(
        ledger_verify_inclusion(leaf, index, size, (const hash_t *)proof, len, root, NULL), VT_OK);
    tamper_inclusion(leaf, index, size, proof, len, root, exhaustive, failures);

    /* Another position, with the same leaf or with the leaf really there: fails. */
    for (uint64_t other = 0; other < size; other++) {
        if (other == index)
            continue;
        assert_int_equal(
            ledger_verify_inclusion(leaf, other, size, (const hash_t *)proof, len, root, NULL),
            VT_ERR_VERIFY);
        assert_int_equal(ledger_verify_inclusion(m->leaves[other], other, size,
                                                 (const hash_t *)proof, len, root, NULL),
                         VT_ERR_VERIFY);
        *failures += 2;
    }
    /* Another size, checked against that size's true root (as a checkpoint would give
     * it): fails. */
    uint64_t sizes[] = {size - 1, size + 1, size + 2, size * 2, size / 2};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t other = sizes[i];
        if (other <= index || other == size || other >= m->nleaves)
            continue;
        enum vt_status st = ledger_verify_inclusion(leaf, index, other, (const hash_t *)proof, len,
                                                    roots[other], NULL);
        assert_int_equal(st, VT_ERR_VERIFY);
        (*failures)++;
    }
}

static void compute_roots(struct mem_log *m, hash_t *roots, size_t count)
{
    struct ledger_hash_reader r = reader_of(m);
    for (size_t n = 0; n < count; n++)
        assert_int_equal(ledger_tree_hash(&r, n, roots[n], NULL), VT_OK);
}

static void test_inclusion_all_small_trees(void **state)
{
    (void)state;
    struct mem_log m;
    mem_build(&m, 140, 2);
    hash_t *roots = malloc(141 * HL);
    compute_roots(&m, roots, 141);
    unsigned long failures = 0, proofs = 0;
    for (uint64_t size = 1; size <= 130; size++) {
        for (uint64_t index = 0; index < size; index++) {
            check_inclusion(&m, (const hash_t *)roots, size, index, size <= 24, &failures);
            proofs++;
        }
    }
    assert_int_equal(proofs, 130 * 131 / 2);
    assert_true(failures > 1000000);
    free(roots);
    mem_free(&m);
}

static void check_consistency(struct mem_log *m, const hash_t *roots, uint64_t old_size,
                              uint64_t new_size, bool exhaustive, unsigned long *failures)
{
    struct ledger_hash_reader r = reader_of(m);
    hash_t proof[LEDGER_PROOF_MAX], ref[LEDGER_PROOF_MAX];
    size_t len = 0, ref_len = 0;
    assert_int_equal(ledger_prove_consistency(&r, old_size, new_size, proof, &len, NULL), VT_OK);
    if (old_size > 0 && old_size < new_size)
        ref_subproof((size_t)old_size, m->leaves, (size_t)new_size, true, ref, &ref_len);
    assert_int_equal(len, ref_len);
    assert_memory_equal(proof, ref, len * HL);

    uint8_t old_root[HL], new_root[HL];
    memcpy(old_root, roots[old_size], HL);
    memcpy(new_root, roots[new_size], HL);
    assert_int_equal(ledger_verify_consistency(old_size, new_size, old_root, new_root,
                                               (const hash_t *)proof, len, NULL),
                     VT_OK);

    uint8_t *targets[LEDGER_PROOF_MAX + 2];
    size_t nt = 0;
    targets[nt++] = old_root;
    /* Every tree extends the empty one, so with old size 0 the new root is not checked. */
    if (old_size > 0)
        targets[nt++] = new_root;
    for (size_t i = 0; i < len; i++)
        targets[nt++] = proof[i];
    for (size_t t = 0; t < nt; t++) {
        for (unsigned bit = 0; bit < 8 * HL; bit++) {
            unsigned b = exhaustive ? bit : (unsigned)(rng() % (8 * HL));
            flip(targets[t], b);
            struct vt_error err;
            assert_int_equal(ledger_verify_consistency(old_size, new_size, old_root, new_root,
                                                       (const hash_t *)proof, len, &err),
                             VT_ERR_VERIFY);
            assert_true(err.msg[0] != '\0');
            (*failures)++;
            flip(targets[t], b);
            if (!exhaustive)
                break;
        }
    }

    /* Other sizes, each with its true root: fails. */
    if (old_size == 0 || old_size == new_size)
        return;
    const int64_t deltas[][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}, {1, 1}, {-1, -1}, {-1, 1}};
    for (size_t i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++) {
        uint64_t o = old_size + (uint64_t)deltas[i][0], n = new_size + (uint64_t)deltas[i][1];
        if (o > n || n >= m->nleaves)
            continue;
        assert_int_equal(
            ledger_verify_consistency(o, n, roots[o], roots[n], (const hash_t *)proof, len, NULL),
            VT_ERR_VERIFY);
        (*failures)++;
    }
}

static void test_consistency_all_small_trees(void **state)
{
    (void)state;
    struct mem_log m;
    mem_build(&m, 140, 3);
    hash_t *roots = malloc(141 * HL);
    compute_roots(&m, roots, 141);
    unsigned long failures = 0, proofs = 0;
    for (uint64_t n = 1; n <= 130; n++) {
        for (uint64_t old = 0; old <= n; old++) {
            check_consistency(&m, (const hash_t *)roots, old, n, n <= 20, &failures);
            proofs++;
        }
    }
    assert_int_equal(proofs, 130 * 133 / 2);
    assert_true(failures > 300000);
    free(roots);
    mem_free(&m);
}

static void test_random_larger_trees(void **state)
{
    (void)state;
    struct mem_log m;
    mem_build(&m, 5000, 4);
    struct ledger_hash_reader r = reader_of(&m);
    unsigned long failures = 0;
    for (int t = 0; t < 150; t++) {
        uint64_t size = 1 + rng() % 4999;
        uint64_t old = rng() % (size + 1);
        uint64_t index = rng() % size;
        hash_t roots_n[2];
        assert_int_equal(ledger_tree_hash(&r, size, roots_n[0], NULL), VT_OK);
        uint8_t ref_root[HL];
        ref_mth(m.leaves, (size_t)size, ref_root);
        assert_memory_equal(roots_n[0], ref_root, HL);

        hash_t proof[LEDGER_PROOF_MAX], ref[LEDGER_PROOF_MAX];
        size_t len = 0, ref_len = 0;
        assert_int_equal(ledger_prove_inclusion(&r, size, index, proof, &len, NULL), VT_OK);
        ref_path((size_t)index, m.leaves, (size_t)size, ref, &ref_len);
        assert_int_equal(len, ref_len);
        assert_memory_equal(proof, ref, len * HL);
        tamper_inclusion(m.leaves[index], index, size, proof, len, roots_n[0], false, &failures);

        assert_int_equal(ledger_tree_hash(&r, old, roots_n[1], NULL), VT_OK);
        assert_int_equal(ledger_prove_consistency(&r, old, size, proof, &len, NULL), VT_OK);
        ref_len = 0;
        if (old > 0 && old < size)
            ref_subproof((size_t)old, m.leaves, (size_t)size, true, ref, &ref_len);
        assert_int_equal(len, ref_len);
        assert_memory_equal(proof, ref, len * HL);
        assert_int_equal(ledger_verify_consistency(old, size, roots_n[1], roots_n[0],
                                                   (const hash_t *)proof, len, NULL),
                         VT_OK);
        if (len > 0) {
            flip(proof[rng() % len], (unsigned)(rng() % 256));
            assert_int_equal(ledger_verify_consistency(old, size, roots_n[1], roots_n[0],
                                                       (const hash_t *)proof, len, NULL),
                             VT_ERR_VERIFY);
            failures++;
        }
    }
    assert_true(failures > 150);
    mem_free(&m);
}

static void expect_err(enum vt_status got, enum vt_status want, const struct vt_error *err,
                       const char *needle)
{
    assert_int_equal(got, want);
    assert_int_equal(err->status, want);
    if (strstr(err->msg, needle) == NULL)
        fail_msg("error '%s' does not mention '%s'", err->msg, needle);
}

static void test_hostile_verify_inputs(void **state)
{
    (void)state;
    struct mem_log m;
    mem_build(&m, 16, 5);
    struct ledger_hash_reader r = reader_of(&m);
    uint8_t root[HL], root8[HL];
    assert_int_equal(ledger_tree_hash(&r, 11, root, NULL), VT_OK);
    assert_int_equal(ledger_tree_hash(&r, 8, root8, NULL), VT_OK);
    hash_t proof[LEDGER_PROOF_MAX + 2];
    size_t len;
    assert_int_equal(ledger_prove_inclusion(&r, 11, 5, proof, &len, NULL), VT_OK);
    assert_int_equal(len, 4);
    struct vt_error err;
    const hash_t *p = (const hash_t *)proof;
    const uint8_t *leaf = m.leaves[5];

    expect_err(ledger_verify_inclusion(leaf, 11, 11, p, len, root, &err), VT_ERR_INVALID, &err,
               "outside");
    expect_err(ledger_verify_inclusion(leaf, UINT64_MAX, 11, p, len, root, &err), VT_ERR_INVALID,
               &err, "outside");
    expect_err(ledger_verify_inclusion(leaf, 0, 0, p, 0, root, &err), VT_ERR_INVALID, &err,
               "outside");
    expect_err(ledger_verify_inclusion(leaf, 5, UINT64_MAX, p, len, root, &err), VT_ERR_INVALID,
               &err, "maximum");
    expect_err(ledger_verify_inclusion(leaf, 5, 11, p, LEDGER_PROOF_MAX + 1, root, &err),
               VT_ERR_INVALID, &err, "maximum");
    memcpy(proof[len], proof[0], HL);
    expect_err(ledger_verify_inclusion(leaf, 5, 11, p, len + 1, root, &err), VT_ERR_VERIFY, &err,
               "more than");
    expect_err(ledger_verify_inclusion(leaf, 5, 11, p, len - 1, root, &err), VT_ERR_VERIFY, &err,
               "fewer than");
    expect_err(ledger_verify_inclusion(leaf, 5, 11, p, 0, root, &err), VT_ERR_VERIFY, &err,
               "fewer than");
    expect_err(ledger_verify_inclusion(leaf, 5, 11, NULL, 0, root, &err), VT_ERR_VERIFY, &err,
               "fewer than");
    /* Size 1: the leaf is the root and the proof is empty. */
    assert_int_equal(ledger_verify_inclusion(m.leaves[0], 0, 1, NULL, 0, m.leaves[0], NULL), VT_OK);
    expect_err(ledger_verify_inclusion(m.leaves[0], 0, 1, p, 1, m.leaves[0], &err), VT_ERR_VERIFY,
               &err, "more than");

    /* A full-length proof of garbage for the largest tree: no crash, just a failure. */
    hash_t junk[LEDGER_PROOF_MAX];
    for (size_t i = 0; i < LEDGER_PROOF_MAX; i++)
        for (size_t j = 0; j < HL; j++)
            junk[i][j] = (uint8_t)rng();
    const hash_t *jp = (const hash_t *)junk;
    for (size_t n = 0; n <= LEDGER_PROOF_MAX; n++) {
        enum vt_status st =
            ledger_verify_inclusion(leaf, LEDGER_SIZE_MAX - 1, LEDGER_SIZE_MAX, jp, n, root, &err);
        assert_int_equal(st, VT_ERR_VERIFY);
        st = ledger_verify_consistency(LEDGER_SIZE_MAX - 1, LEDGER_SIZE_MAX, root, root, jp, n,
                                       &err);
        assert_int_equal(st, VT_ERR_VERIFY);
        st = ledger_verify_consistency(1, LEDGER_SIZE_MAX, root, root, jp, n, &err);
        assert_int_equal(st, VT_ERR_VERIFY);
    }

    /* Consistency special cases. */
    uint8_t empty[HL];
    vt_sha256("", 0, empty);
    assert_int_equal(ledger_prove_consistency(&r, 8, 11, proof, &len, NULL), VT_OK);
    expect_err(ledger_verify_consistency(11, 8, root, root8, p, len, &err), VT_ERR_INVALID, &err,
               "larger");
    expect_err(ledger_verify_consistency(8, UINT64_MAX, root8, root, p, len, &err), VT_ERR_INVALID,
               &err, "maximum");
    expect_err(ledger_verify_consistency(8, 11, root8, root, p, LEDGER_PROOF_MAX + 1, &err),
               VT_ERR_INVALID, &err, "maximum");
    expect_err(ledger_verify_consistency(8, 11, root8, root, p, 0, &err), VT_ERR_VERIFY, &err,
               "empty proof");
    memcpy(proof[len], proof[0], HL);
    expect_err(ledger_verify_consistency(8, 11, root8, root, p, len + 1, &err), VT_ERR_VERIFY, &err,
               "more than");
    assert_int_equal(ledger_verify_consistency(8, 11, root8, root, p, len, NULL), VT_OK);
    assert_int_equal(ledger_prove_consistency(&r, 5, 11, proof, &len, NULL), VT_OK);
    uint8_t root5[HL];
    assert_int_equal(ledger_tree_hash(&r, 5, root5, NULL), VT_OK);
    assert_int_equal(ledger_verify_consistency(5, 11, root5, root, p, len, NULL), VT_OK);
    expect_err(ledger_verify_consistency(5, 11, root5, root, p, len - 1, &err), VT_ERR_VERIFY, &err,
               "fewer than");
    /* Sizes 0 and equal sizes need empty proofs; size 0's root is SHA-256(""). */
    assert_int_equal(ledger_verify_consistency(0, 11, empty, root, NULL, 0, NULL), VT_OK);
    assert_int_equal(ledger_verify_consistency(0, 0, empty, empty, NULL, 0, NULL), VT_OK);
    expect_err(ledger_verify_consistency(0, 11, root, root, NULL, 0, &err), VT_ERR_VERIFY, &err,
               "size 0");
    expect_err(ledger_verify_consistency(0, 11, empty, root, p, 1, &err), VT_ERR_VERIFY, &err,
               "size 0");
    assert_int_equal(ledger_verify_consistency(11, 11, root, root, NULL, 0, NULL), VT_OK);
    expect_err(ledger_verify_consistency(11, 11, root, root8, NULL, 0, &err), VT_ERR_VERIFY, &err,
               "different roots");
    expect_err(ledger_verify_consistency(11, 11, root, root, p, 1, &err), VT_ERR_VERIFY, &err,
               "empty proof");
    mem_free(&m);
}

static void test_prover_errors(void **state)
{
    (void)state;
    struct mem_log m;
    mem_build(&m, 10, 6);
    struct ledger_hash_reader r = reader_of(&m);
    hash_t proof[LEDGER_PROOF_MAX];
    size_t len = 77;
    struct vt_error err;
    expect_err(ledger_prove_inclusion(&r, 10, 10, proof, &len, &err), VT_ERR_INVALID, &err,
               "leaf 10");
    expect_err(ledger_prove_inclusion(&r, 0, 0, proof, &len, &err), VT_ERR_INVALID, &err, "size 0");
    expect_err(ledger_prove_inclusion(&r, LEDGER_SIZE_MAX + 1, 0, proof, &len, &err),
               VT_ERR_INVALID, &err, "maximum");
    expect_err(ledger_prove_consistency(&r, 11, 10, proof, &len, &err), VT_ERR_INVALID, &err,
               "smaller");
    assert_int_equal(len, 77);
    /* A tree larger than what is stored: the reader's error comes through unchanged. */
    expect_err(ledger_prove_inclusion(&r, 12, 3, proof, &len, &err), VT_ERR_NOT_FOUND, &err,
               "no stored hash");
    expect_err(ledger_prove_consistency(&r, 3, 12, proof, &len, &err), VT_ERR_NOT_FOUND, &err,
               "no stored hash");
    /* Sizes 0 and equal sizes: empty consistency proofs without reading. */
    unsigned long calls = m.read_calls;
    assert_int_equal(ledger_prove_consistency(&r, 0, 10, proof, &len, NULL), VT_OK);
    assert_int_equal(len, 0);
    len = 5;
    assert_int_equal(ledger_prove_consistency(&r, 10, 10, proof, &len, NULL), VT_OK);
    assert_int_equal(len, 0);
    assert_int_equal(m.read_calls, calls);

    uint8_t leaf[HL] = {0};
    size_t count;
    expect_err(ledger_stored_hashes_for_append(&r, LEDGER_SIZE_MAX, leaf, proof, &count, &err),
               VT_ERR_TOO_LARGE, &err, "at most");
    mem_free(&m);
}

/*
 * Trees near the size limit, served without storing them: every leaf is the same, so a
 * stored hash depends only on its level, which the reader recovers by inverting the
 * index formula (the largest leaf count k with 2k − popcount(k) ≤ index stored it).
 */
struct uniform_tree {
    hash_t level_hash[64];
    unsigned long calls;
};

static uint64_t stored_before(uint64_t k)
{
    return 2 * k - (uint64_t)__builtin_popcountll(k);
}

static enum vt_status uniform_read(void *ctx, const uint64_t *indexes, size_t count, hash_t *out,
                                   struct vt_error *err)
{
    (void)err;
    struct uniform_tree *u = ctx;
    u->calls++;
    for (size_t i = 0; i < count; i++) {
        uint64_t lo = 0, hi = LEDGER_SIZE_MAX - 1;
        while (lo < hi) {
            uint64_t mid = lo + (hi - lo + 1) / 2;
            if (stored_before(mid) <= indexes[i])
                lo = mid;
            else
                hi = mid - 1;
        }
        uint64_t level = indexes[i] - stored_before(lo);
        assert_true(level <= trailing_ones(lo));
        memcpy(out[i], u->level_hash[level], HL);
    }
    return VT_OK;
}

static void test_huge_tree_proofs_round_trip(void **state)
{
    (void)state;
    struct uniform_tree u;
    ref_leaf("z", 1, u.level_hash[0]);
    for (int l = 1; l < 64; l++)
        ref_node(u.level_hash[l - 1], u.level_hash[l - 1], u.level_hash[l]);
    struct ledger_hash_reader r = {.read = uniform_read, .ctx = &u};

    uint8_t root[HL];
    assert_int_equal(ledger_tree_hash(&r, LEDGER_SIZE_MAX, root, NULL), VT_OK);
    assert_memory_equal(root, u.level_hash[63], HL);

    uint64_t sizes[] = {LEDGER_SIZE_MAX, LEDGER_SIZE_MAX - 1, (UINT64_C(1) << 62) + 12345};
    for (size_t i = 0; i < 3; i++) {
        uint64_t size = sizes[i];
        assert_int_equal(ledger_tree_hash(&r, size, root, NULL), VT_OK);
        uint64_t indexes[] = {0, size / 3, size - 2, size - 1};
        for (size_t j = 0; j < 4; j++) {
            hash_t proof[LEDGER_PROOF_MAX];
            size_t len;
            u.calls = 0;
            assert_int_equal(ledger_prove_inclusion(&r, size, indexes[j], proof, &len, NULL),
                             VT_OK);
            assert_true(len >= 1 && len <= 63);
            assert_int_equal(u.calls, 1);
            assert_int_equal(ledger_verify_inclusion(u.level_hash[0], indexes[j], size,
                                                     (const hash_t *)proof, len, root, NULL),
                             VT_OK);
            flip(proof[len - 1], 0);
            assert_int_equal(ledger_verify_inclusion(u.level_hash[0], indexes[j], size,
                                                     (const hash_t *)proof, len, root, NULL),
                             VT_ERR_VERIFY);

            uint64_t old = indexes[j] + 1;
            uint8_t old_root[HL];
            assert_int_equal(ledger_tree_hash(&r, old, old_root, NULL), VT_OK);
            u.calls = 0;
            assert_int_equal(ledger_prove_consistency(&r, old, size, proof, &len, NULL), VT_OK);
            assert_true(len <= LEDGER_PROOF_MAX);
            assert_true(u.calls <= 1);
            assert_int_equal(ledger_verify_consistency(old, size, old_root, root,
                                                       (const hash_t *)proof, len, NULL),
                             VT_OK);
        }
    }
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaf_and_node_hash),
        cmocka_unit_test(test_known_roots),
        cmocka_unit_test(test_stored_hash_index),
        cmocka_unit_test(test_append_1000),
        cmocka_unit_test(test_c2sp_seven_leaves),
        cmocka_unit_test(test_inclusion_all_small_trees),
        cmocka_unit_test(test_consistency_all_small_trees),
        cmocka_unit_test(test_random_larger_trees),
        cmocka_unit_test(test_hostile_verify_inputs),
        cmocka_unit_test(test_prover_errors),
        cmocka_unit_test(test_huge_tree_proofs_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
