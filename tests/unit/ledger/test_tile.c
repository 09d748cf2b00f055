/*
 * C2SP tiles: contents against independently computed subtree hashes, which tiles exist
 * at a size (the C2SP 70,000 example), reading only what exists at that size, and the
 * path grammar.
 */
#include "ledger/ledger.h"
#include "test_support.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HL LEDGER_HASH_LEN
typedef uint8_t hash_t[HL];

static void ref_node(const uint8_t l[HL], const uint8_t r[HL], uint8_t out[HL])
{
    uint8_t buf[1 + 2 * HL];
    buf[0] = 0x01;
    memcpy(buf + 1, l, HL);
    memcpy(buf + 1 + HL, r, HL);
    vt_sha256(buf, sizeof(buf), out);
}

/* MTH of a power-of-two run of subtree roots (leaf hashes, or tile hashes). */
static void ref_perfect(const hash_t *h, size_t n, uint8_t out[HL])
{
    if (n == 1) {
        memcpy(out, h[0], HL);
        return;
    }
    uint8_t l[HL], r[HL];
    ref_perfect(h, n / 2, l);
    ref_perfect(h + n / 2, n / 2, r);
    ref_node(l, r, out);
}

/* In-memory stored hashes; `limit` makes indexes at or past it missing, to prove a tile
 * read at some size touches only hashes stored by then. */
struct mem_log {
    hash_t *hashes;
    size_t len;
    hash_t *leaves;
    size_t nleaves;
    uint64_t limit;
    unsigned long read_calls;
};

static enum vt_status mem_read(void *ctx, const uint64_t *indexes, size_t count, hash_t *out,
                               struct vt_error *err)
{
    struct mem_log *m = ctx;
    m->read_calls++;
    for (size_t i = 0; i < count; i++) {
        if (indexes[i] >= m->len || indexes[i] >= m->limit)
            return vt_error_set(err, VT_ERR_NOT_FOUND, "no stored hash %" PRIu64, indexes[i]);
        memcpy(out[i], m->hashes[indexes[i]], HL);
    }
    return VT_OK;
}

static void mem_build(struct mem_log *m, size_t n)
{
    memset(m, 0, sizeof(*m));
    m->hashes = malloc(2 * n * HL + HL);
    m->leaves = malloc(n * HL + HL);
    assert_non_null(m->hashes);
    assert_non_null(m->leaves);
    m->limit = UINT64_MAX;
    struct ledger_hash_reader r = {.read = mem_read, .ctx = m};
    for (size_t i = 0; i < n; i++) {
        char data[32];
        int len = snprintf(data, sizeof(data), "entry %zu", i);
        ledger_leaf_hash(data, (size_t)len, m->leaves[i]);
        size_t count;
        assert_int_equal(
            ledger_stored_hashes_for_append(&r, i, m->leaves[i], m->hashes + m->len, &count, NULL),
            VT_OK);
        m->len += count;
        m->nleaves++;
    }
}

static void mem_free(struct mem_log *m)
{
    free(m->hashes);
    free(m->leaves);
}

static enum vt_status read_tile(struct mem_log *m, uint64_t size, unsigned level, uint64_t n,
                                unsigned width, struct vt_buf *out, struct vt_error *err)
{
    struct ledger_hash_reader r = {.read = mem_read, .ctx = m};
    vt_buf_reset(out);
    return ledger_tile_read(&r, size, level, n, width, out, err);
}

/* Hash i of tile (level, n), computed from the leaves. */
static void ref_tile_hash(const struct mem_log *m, unsigned level, uint64_t n, unsigned i,
                          uint8_t out[HL])
{
    size_t span = (size_t)1 << (8 * level);
    size_t first = (size_t)(n * 256 + i) * span;
    ref_perfect(m->leaves + first, span, out);
}

static void expect_tile(struct mem_log *m, uint64_t size, unsigned level, uint64_t n,
                        unsigned width)
{
    struct vt_buf out;
    vt_buf_init(&out, VT_BUF_DEFAULT_MAX);
    struct vt_error err;
    enum vt_status st = read_tile(m, size, level, n, width, &out, &err);
    if (st != VT_OK)
        fail_msg("tile %u/%" PRIu64 " width %u at size %" PRIu64 ": %s", level, n, width, size,
                 err.msg);
    assert_int_equal(out.len, (size_t)width * HL);
    for (unsigned i = 0; i < width; i++) {
        uint8_t want[HL];
        ref_tile_hash(m, level, n, i, want);
        assert_memory_equal(out.data + (size_t)i * HL, want, HL);
    }
    vt_buf_release(&out);
}

static void expect_no_tile(struct mem_log *m, uint64_t size, unsigned level, uint64_t n,
                           unsigned width)
{
    struct vt_buf out;
    vt_buf_init(&out, VT_BUF_DEFAULT_MAX);
    struct vt_error err;
    unsigned long calls = m->read_calls;
    assert_int_equal(read_tile(m, size, level, n, width, &out, &err), VT_ERR_NOT_FOUND);
    assert_int_equal(err.status, VT_ERR_NOT_FOUND);
    assert_int_equal(out.len, 0);
    assert_int_equal(m->read_calls, calls);
    vt_buf_release(&out);
}

/* C2SP tlog-tiles: "a tree of size 70,000 will be represented by 273 full level 0 tiles,
 * one partial level 0 tile of width 112, one full level 1 tile, one partial level 1 tile
 * of width 17, and one partial level 2 tile of width 1." */
static void test_c2sp_70000(void **state)
{
    (void)state;
    struct mem_log m;
    mem_build(&m, 70000);
    const uint64_t size = 70000;

    for (uint64_t n = 0; n < 273; n++)
        expect_tile(&m, size, 0, n, 256);
    expect_no_tile(&m, size, 0, 273, 256);
    expect_tile(&m, size, 0, 273, 112);
    expect_no_tile(&m, size, 0, 273, 113);
    expect_no_tile(&m, size, 0, 274, 1);

    expect_tile(&m, size, 1, 0, 256);
    expect_no_tile(&m, size, 1, 1, 256);
    expect_tile(&m, size, 1, 1, 17);
    expect_no_tile(&m, size, 1, 1, 18);
    expect_no_tile(&m, size, 1, 2, 1);

    expect_no_tile(&m, size, 2, 0, 256);
    expect_tile(&m, size, 2, 0, 1);
    expect_no_tile(&m, size, 2, 0, 2);
    expect_no_tile(&m, size, 2, 1, 1);
    expect_no_tile(&m, size, 3, 0, 1);
    expect_no_tile(&m, size, 7, 0, 1);
    expect_no_tile(&m, size, 8, 0, 1);
    expect_no_tile(&m, size, 63, 0, 1);
    expect_no_tile(&m, size, 0, UINT64_MAX, 256);
    expect_no_tile(&m, size, 0, UINT64_MAX / 256 + 1, 1);

    /* The same count, derived from the C2SP width rule at every level. */
    unsigned full[4] = {0}, partial_width[4] = {0};
    for (unsigned level = 0; level < 4; level++) {
        struct vt_buf out;
        vt_buf_init(&out, VT_BUF_DEFAULT_MAX);
        for (uint64_t n = 0; read_tile(&m, size, level, n, 256, &out, NULL) == VT_OK; n++)
            full[level]++;
        for (unsigned w = 255; w >= 1; w--) {
            if (read_tile(&m, size, level, full[level], w, &out, NULL) == VT_OK) {
                partial_width[level] = w;
                break;
            }
        }
        vt_buf_release(&out);
    }
    assert_int_equal(full[0], 273);
    assert_int_equal(partial_width[0], 112);
    assert_int_equal(full[1], 1);
    assert_int_equal(partial_width[1], 17);
    assert_int_equal(full[2], 0);
    assert_int_equal(partial_width[2], 1);
    assert_int_equal(full[3], 0);
    assert_int_equal(partial_width[3], 0);
    mem_free(&m);
}

/* A full tile's 256 hashes hash up (8 levels) to its entry in the tile above. */
static void test_tiles_chain_up(void **state)
{
    (void)state;
    struct mem_log m;
    mem_build(&m, 70000);
    struct vt_buf lower, upper;
    vt_buf_init(&lower, VT_BUF_DEFAULT_MAX);
    vt_buf_init(&upper, VT_BUF_DEFAULT_MAX);
    assert_int_equal(read_tile(&m, 70000, 1, 0, 256, &upper, NULL), VT_OK);
    for (unsigned n = 0; n < 256; n++) {
        assert_int_equal(read_tile(&m, 70000, 0, n, 256, &lower, NULL), VT_OK);
        uint8_t root[HL];
        ref_perfect((const hash_t *)lower.data, 256, root);
        assert_memory_equal(root, upper.data + (size_t)n * HL, HL);
    }
    uint8_t root[HL];
    ref_perfect((const hash_t *)upper.data, 256, root);
    assert_int_equal(read_tile(&m, 70000, 2, 0, 1, &lower, NULL), VT_OK);
    assert_memory_equal(root, lower.data, HL);
    /* ... and the level-2 hash is the root of the first 65,536 entries. */
    struct ledger_hash_reader r = {.read = mem_read, .ctx = &m};
    uint8_t tree[HL];
    assert_int_equal(ledger_tree_hash(&r, 65536, tree, NULL), VT_OK);
    assert_memory_equal(tree, root, HL);
    vt_buf_release(&lower);
    vt_buf_release(&upper);
    mem_free(&m);
}

/* C2SP: "a tree of size 256 will be represented by a full level 0 tile and a partial
 * level 1 tile of width 1". */
static void test_size_256(void **state)
{
    (void)state;
    struct mem_log m;
    mem_build(&m, 256);
    expect_tile(&m, 256, 0, 0, 256);
    expect_no_tile(&m, 256, 0, 1, 1);
    expect_tile(&m, 256, 1, 0, 1);
    expect_no_tile(&m, 256, 1, 0, 2);
    expect_no_tile(&m, 255, 0, 0, 256);
    expect_tile(&m, 255, 0, 0, 255);
    expect_no_tile(&m, 255, 1, 0, 1);
    expect_no_tile(&m, 0, 0, 0, 1);
    mem_free(&m);
}

/* Growing the tree only extends tiles, and a tile read at size s reads only hashes that
 * were stored by the time the tree had s entries. Partial tiles of earlier sizes stay
 * readable. */
static void test_tiles_at_every_size(void **state)
{
    (void)state;
    struct mem_log m;
    mem_build(&m, 1300);
    struct vt_buf now, later;
    vt_buf_init(&now, VT_BUF_DEFAULT_MAX);
    vt_buf_init(&later, VT_BUF_DEFAULT_MAX);
    unsigned long tiles = 0;
    for (uint64_t size = 1; size <= 1300; size++) {
        m.limit = 2 * size - (uint64_t)__builtin_popcountll(size);
        for (unsigned level = 0; level <= 1; level++) {
            uint64_t count = size >> (8 * level);
            if (count == 0)
                continue;
            /* The rightmost tile at this size, full or partial. */
            uint64_t n = (count - 1) / 256;
            unsigned width = (unsigned)(count - n * 256);
            assert_int_equal(read_tile(&m, size, level, n, width, &now, NULL), VT_OK);
            if (width < 256) {
                struct vt_error err;
                assert_int_equal(read_tile(&m, size, level, n, width + 1, &later, &err),
                                 VT_ERR_NOT_FOUND);
            }
            m.limit = UINT64_MAX;
            assert_int_equal(read_tile(&m, 1300, level, n, width, &later, NULL), VT_OK);
            assert_int_equal(now.len, later.len);
            assert_memory_equal(now.data, later.data, now.len);
            m.limit = 2 * size - (uint64_t)__builtin_popcountll(size);
            tiles++;
        }
    }
    assert_true(tiles > 1300);
    m.limit = UINT64_MAX;
    expect_tile(&m, 1300, 0, 4, 256);
    expect_tile(&m, 1300, 0, 5, 20);
    expect_tile(&m, 1300, 0, 2, 7); /* a partial width of a tile that is now full */
    expect_tile(&m, 1300, 1, 0, 5);
    vt_buf_release(&now);
    vt_buf_release(&later);
    mem_free(&m);
}

static void test_tile_read_errors(void **state)
{
    (void)state;
    struct mem_log m;
    mem_build(&m, 600);
    struct vt_buf out;
    vt_buf_init(&out, VT_BUF_DEFAULT_MAX);
    struct vt_error err;
    assert_int_equal(read_tile(&m, 600, 0, 0, 0, &out, &err), VT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "width"));
    assert_int_equal(read_tile(&m, 600, 0, 0, 257, &out, &err), VT_ERR_INVALID);
    assert_int_equal(read_tile(&m, LEDGER_SIZE_MAX + 1, 0, 0, 1, &out, &err), VT_ERR_INVALID);
    assert_int_equal(read_tile(&m, 600, 0, 3, 1, &out, &err), VT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "tile 0/3"));

    /* Appends after what out holds; on failure out keeps its contents. */
    vt_buf_reset(&out);
    assert_int_equal(vt_buf_append(&out, "prefix", 6, NULL), VT_OK);
    struct ledger_hash_reader r = {.read = mem_read, .ctx = &m};
    assert_int_equal(ledger_tile_read(&r, 600, 0, 1, 256, &out, NULL), VT_OK);
    assert_int_equal(out.len, 6 + 256 * HL);
    assert_memory_equal(out.data, "prefix", 6);
    assert_memory_equal(out.data + 6, m.leaves[256], HL);

    struct vt_buf small;
    vt_buf_init(&small, 100 * HL);
    assert_int_equal(ledger_tile_read(&r, 600, 0, 0, 256, &small, &err), VT_ERR_TOO_LARGE);
    assert_int_equal(small.len, 0);
    assert_int_equal(ledger_tile_read(&r, 600, 0, 0, 100, &small, NULL), VT_OK);
    assert_int_equal(small.len, 100 * HL);

    /* A reader failure comes through unchanged and leaves out as it was. */
    m.limit = 5;
    size_t before = out.len;
    assert_int_equal(ledger_tile_read(&r, 600, 0, 0, 10, &out, &err), VT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "no stored hash"));
    assert_int_equal(out.len, before);
    vt_buf_release(&small);
    vt_buf_release(&out);
    mem_free(&m);
}

static void test_path_format_and_parse(void **state)
{
    (void)state;
    static const struct {
        unsigned level;
        uint64_t n;
        unsigned width;
        const char *path;
    } cases[] = {
        {0, 0, 256, "0/000"},
        {0, 5, 256, "0/005"},
        {0, 999, 255, "0/999.p/255"},
        {1, 1000, 256, "1/x001/000"},
        {1, 1234067, 256, "1/x001/x234/067"},
        {2, 1000, 17, "2/x001/000.p/17"},
        {3, 273, 112, "3/273.p/112"},
        {0, 273, 1, "0/273.p/1"},
        {10, 1000000, 256, "10/x001/x000/000"},
        {63, UINT64_MAX, 1, "63/x018/x446/x744/x073/x709/x551/615.p/1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[LEDGER_TILE_PATH_MAX];
        ledger_tile_path_format(cases[i].level, cases[i].n, cases[i].width, buf);
        assert_string_equal(buf, cases[i].path);
        unsigned level = 99, width = 99;
        uint64_t n = 99;
        struct vt_error err;
        if (ledger_tile_path_parse(cases[i].path, &level, &n, &width, &err) != VT_OK)
            fail_msg("'%s': %s", cases[i].path, err.msg);
        assert_int_equal(level, cases[i].level);
        assert_true(n == cases[i].n);
        assert_int_equal(width, cases[i].width);
    }

    /* Random round trips. */
    uint64_t x = 0x243f6a8885a308d3u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned level = (unsigned)(x % 64);
        uint64_t n = x >> (x % 64);
        unsigned width = 1 + (unsigned)((x >> 20) % 256);
        char buf[LEDGER_TILE_PATH_MAX];
        ledger_tile_path_format(level, n, width, buf);
        unsigned l2, w2;
        uint64_t n2;
        assert_int_equal(ledger_tile_path_parse(buf, &l2, &n2, &w2, NULL), VT_OK);
        assert_int_equal(l2, level);
        assert_true(n2 == n);
        assert_int_equal(w2, width);
    }
}

static void test_path_rejections(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "0",
        "0/",
        "/005",
        "0//005",
        "0/5",
        "0/05",
        "0/0005",
        "0/0a5",
        "00/005",
        "01/005",
        "64/005",
        "100/005",
        "-1/005",
        "+0/005",
        "a/005",
        "0/x000/005", /* leading zero group: 5 is "005" */
        "0/x000/x001/005",
        "0/x001", /* the last group has no 'x' */
        "0/x001/",
        "0/x001/x234",
        "0/001/234", /* all but the last group need an 'x' */
        "0/x01/234",
        "0/x0001/234",
        "0/X001/234",
        "0/x001/234/",
        "0/005/",
        "0/005.p",
        "0/005.p/",
        "0/005.p/0",   /* empty tiles do not exist */
        "0/005.p/256", /* a full tile has no .p */
        "0/005.p/300",
        "0/005.p/012",
        "0/005.p/1/",
        "0/005.p/1x",
        "0/005.q/1",
        "0/005.P/1",
        "0/005p/1",
        " 0/005",
        "0/005 ",
        "0/005\n",
        "0/x018/x446/x744/x073/x709/x551/616", /* 2^64 */
        "0/x999/x999/x999/x999/x999/x999/x999/999",
        "entries/005",
        "0/x001/x001/x001/x001/x001/x001/x001/x001/x001/x001/x001/x001/001",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned level = 7, width = 7;
        uint64_t n = 7;
        struct vt_error err;
        vt_error_clear(&err);
        if (ledger_tile_path_parse(bad[i], &level, &n, &width, &err) != VT_ERR_INVALID)
            fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(err.status, VT_ERR_INVALID);
        assert_non_null(strstr(err.msg, "invalid tile path"));
        assert_int_equal(level, 7);
        assert_true(n == 7);
        assert_int_equal(width, 7);
    }
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c2sp_70000),       cmocka_unit_test(test_tiles_chain_up),
        cmocka_unit_test(test_size_256),         cmocka_unit_test(test_tiles_at_every_size),
        cmocka_unit_test(test_tile_read_errors), cmocka_unit_test(test_path_format_and_parse),
        cmocka_unit_test(test_path_rejections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
