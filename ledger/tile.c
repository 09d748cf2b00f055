/*
 * C2SP tlog-tiles: tiles read from the stored subtree hashes, and tile paths.
 * Layout and path grammar: specs/transparency-log.md §5.
 */
#include "ledger/ledger.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Tile level L holds subtree hashes of height 8·L; above level 7 a hash would cover
 * 2^64 leaves, more than any tree holds. */
#define TILE_LEVEL_HEIGHT 8
#define TILE_LEVEL_MAX_STORED 7
#define TILE_LEVEL_MAX_PATH 63

enum vt_status ledger_tile_read(const struct ledger_hash_reader *r, uint64_t size, unsigned level,
                                uint64_t n, unsigned width, struct vt_buf *out,
                                struct vt_error *err)
{
    if (width < 1 || width > LEDGER_TILE_WIDTH)
        return vt_error_set(err, VT_ERR_INVALID, "invalid tile width %u: not in 1..%d", width,
                            LEDGER_TILE_WIDTH);
    if (size > LEDGER_SIZE_MAX)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid tree size %" PRIu64 ": larger than the maximum of %" PRIu64,
                            size, LEDGER_SIZE_MAX);
    if (level > TILE_LEVEL_MAX_STORED)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "tile %u/%" PRIu64 " does not exist", level, n);

    unsigned height = TILE_LEVEL_HEIGHT * level;
    uint64_t complete = size >> height; /* subtrees of that height the tree holds */
    /* n·256 + width ≤ complete, written so that a huge n cannot overflow. */
    if (n > complete / LEDGER_TILE_WIDTH || n * LEDGER_TILE_WIDTH + width > complete) {
        if (width == LEDGER_TILE_WIDTH)
            return vt_error_set(err, VT_ERR_NOT_FOUND,
                                "tile %u/%" PRIu64 " is not full at tree size %" PRIu64, level, n,
                                size);
        return vt_error_set(err, VT_ERR_NOT_FOUND,
                            "tile %u/%" PRIu64 " has no %u complete hashes at tree size %" PRIu64,
                            level, n, width, size);
    }

    uint64_t indexes[LEDGER_TILE_WIDTH];
    for (unsigned i = 0; i < width; i++)
        indexes[i] = ledger_stored_hash_index(height, n * LEDGER_TILE_WIDTH + i);

    size_t bytes = (size_t)width * LEDGER_HASH_LEN;
    enum vt_status st = vt_buf_grow(out, bytes, err);
    if (st != VT_OK)
        return st;
    VT_ASSERT(r != NULL && r->read != NULL);
    /* The reader fills the buffer's spare room; len moves only on success. */
    st = r->read(r->ctx, indexes, width, (uint8_t(*)[LEDGER_HASH_LEN])(out->data + out->len), err);
    if (st != VT_OK) {
        out->data[out->len] = '\0';
        return st;
    }
    out->len += bytes;
    out->data[out->len] = '\0';
    return VT_OK;
}

/* A decimal number of 1..max_digits digits, without leading zeros unless it is "0". */
static bool parse_decimal(const char *s, size_t max_digits, uint64_t *value, size_t *used)
{
    size_t i = 0;
    uint64_t v = 0;
    while (s[i] >= '0' && s[i] <= '9' && i < max_digits) {
        v = v * 10 + (uint64_t)(s[i] - '0');
        i++;
    }
    if (i == 0 || (s[i] >= '0' && s[i] <= '9') || (s[0] == '0' && i > 1))
        return false;
    *value = v;
    *used = i;
    return true;
}

static bool is_digit3(const char *s)
{
    return s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9';
}

static enum vt_status bad_path(struct vt_error *err, size_t at, const char *why)
{
    return vt_error_set(err, VT_ERR_INVALID, "invalid tile path: %s at offset %zu", why, at);
}

enum vt_status ledger_tile_path_parse(const char *path, unsigned *level, uint64_t *n,
                                      unsigned *width, struct vt_error *err)
{
    if (strnlen(path, LEDGER_TILE_PATH_MAX) >= LEDGER_TILE_PATH_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "invalid tile path: %d bytes or longer",
                            LEDGER_TILE_PATH_MAX);

    uint64_t lv;
    size_t used;
    if (!parse_decimal(path, 2, &lv, &used) || lv > TILE_LEVEL_MAX_PATH)
        return bad_path(err, 0, "level is not a decimal 0..63 without leading zeros");
    size_t at = used;
    if (path[at] != '/')
        return bad_path(err, at, "expected '/' after the level");
    at++;

    /* Index groups: "xDDD/" repeated, then a final "DDD". */
    uint64_t value = 0;
    bool first = true;
    for (;;) {
        bool prefixed = path[at] == 'x';
        size_t digits = at + (prefixed ? 1 : 0);
        if (!is_digit3(path + digits))
            return bad_path(err, digits, "expected a 3-digit index group");
        unsigned group = (unsigned)((path[digits] - '0') * 100 + (path[digits + 1] - '0') * 10 +
                                    (path[digits + 2] - '0'));
        if (value > (UINT64_MAX - group) / 1000)
            return bad_path(err, at, "tile index does not fit in 64 bits");
        value = value * 1000 + group;
        if (prefixed && first && group == 0)
            return bad_path(err, at, "leading zero index group");
        first = false;
        size_t next = digits + 3;
        if (prefixed) {
            if (path[next] != '/')
                return bad_path(err, next, "expected '/' after an 'x' group");
            at = next + 1;
            continue;
        }
        at = next;
        break;
    }
    if (path[at] == '/')
        return bad_path(err, at, "an index group before the last lacks its 'x'");

    unsigned w = LEDGER_TILE_WIDTH;
    if (path[at] == '.') {
        if (path[at + 1] != 'p' || path[at + 2] != '/')
            return bad_path(err, at, "expected \".p/\"");
        at += 3;
        uint64_t wv;
        if (!parse_decimal(path + at, 3, &wv, &used) || wv < 1 || wv >= LEDGER_TILE_WIDTH)
            return bad_path(err, at, "partial width is not a decimal 1..255 without leading zeros");
        w = (unsigned)wv;
        at += used;
    }
    if (path[at] != '\0')
        return bad_path(err, at, "unexpected character");

    *level = (unsigned)lv;
    *n = value;
    *width = w;
    return VT_OK;
}

void ledger_tile_path_format(unsigned level, uint64_t n, unsigned width,
                             char out[LEDGER_TILE_PATH_MAX])
{
    VT_ASSERT(level <= TILE_LEVEL_MAX_PATH && width >= 1 && width <= LEDGER_TILE_WIDTH);
    unsigned groups[7]; /* 2^64 − 1 has 20 digits */
    size_t count = 0;
    do {
        groups[count++] = (unsigned)(n % 1000);
        n /= 1000;
    } while (n > 0);

    size_t at = (size_t)snprintf(out, LEDGER_TILE_PATH_MAX, "%u/", level);
    while (count > 1)
        at += (size_t)snprintf(out + at, LEDGER_TILE_PATH_MAX - at, "x%03u/", groups[--count]);
    at += (size_t)snprintf(out + at, LEDGER_TILE_PATH_MAX - at, "%03u", groups[0]);
    if (width < LEDGER_TILE_WIDTH)
        snprintf(out + at, LEDGER_TILE_PATH_MAX - at, ".p/%u", width);
}
