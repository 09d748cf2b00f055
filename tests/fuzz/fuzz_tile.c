/*
 * C2SP tile paths, as GET /log/tile/<path> receives them (ledger_tile_path_parse), and
 * tile reads (ledger_tile_read) from the in-memory log of fuzz_tree.h at a tree size the
 * input picks. Input: two big-endian bytes of tree size (0 means FUZZ_TREE_LEAVES), then
 * the path (a C string, as the HTTP route passes it: it ends at the first NUL).
 *
 * Invariants: a path that parses is the canonical path of what it names (formatting gives
 * it back); a tile that reads has width hashes, each the root of its range of leaves.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_tree.h"

static void check_tile(uint64_t size, unsigned level, uint64_t n, unsigned width)
{
    struct vt_buf out;
    struct vt_error err;
    vt_buf_init(&out, LEDGER_TILE_WIDTH * LEDGER_HASH_LEN);
    if (ledger_tile_read(fuzz_tree(), size, level, n, width, &out, &err) == VT_OK) {
        if (out.len != (size_t)width * LEDGER_HASH_LEN)
            fuzz_fail("tile %u/%llu.p/%u has %zu bytes", level, (unsigned long long)n, width,
                      out.len);
        /* Level 0 holds leaf hashes; check the first and the last. */
        if (level == 0) {
            uint8_t leaf[LEDGER_HASH_LEN];
            fuzz_tree_leaf(n * LEDGER_TILE_WIDTH, leaf);
            if (memcmp(out.data, leaf, LEDGER_HASH_LEN) != 0)
                fuzz_fail("tile 0/%llu does not start with its first leaf", (unsigned long long)n);
            fuzz_tree_leaf(n * LEDGER_TILE_WIDTH + width - 1, leaf);
            if (memcmp(out.data + out.len - LEDGER_HASH_LEN, leaf, LEDGER_HASH_LEN) != 0)
                fuzz_fail("tile 0/%llu does not end with its last leaf", (unsigned long long)n);
        }
    }
    vt_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    if (size < 2)
        return 0;
    uint64_t tree = vt_be16_get(data);
    if (tree == 0)
        tree = FUZZ_TREE_LEAVES;
    char *path = fuzz_cstr(data + 2, size - 2);
    unsigned level = 0, width = 0;
    uint64_t n = 0;
    struct vt_error err;
    if (ledger_tile_path_parse(path, &level, &n, &width, &err) == VT_OK) {
        char back[LEDGER_TILE_PATH_MAX];
        if (level > 63 || width < 1 || width > LEDGER_TILE_WIDTH)
            fuzz_fail("path '%s' parsed to level %u width %u", path, level, width);
        ledger_tile_path_format(level, n, width, back);
        if (strcmp(path, back) != 0)
            fuzz_fail("tile path '%s' is written '%s'", path, back);
        check_tile(tree, level, n, width);
    }
    free(path);
    return 0;
}
