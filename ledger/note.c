/*
 * C2SP signed notes (Ed25519), Go sumdb verifier key strings, and C2SP tlog-checkpoint
 * bodies. Grammar and rejection rules: specs/transparency-log.md §6-§8.
 */
#include "ledger/ledger.h"

#include <inttypes.h>
#include <string.h>

#define NOTE_SIG_TYPE_ED25519 0x01
#define KEY_ID_LEN 4
#define ED25519_NOTE_SIG_LEN (KEY_ID_LEN + VT_ED25519_SIG_LEN)

/* U+2014 EM DASH and a space open every signature line. */
static const char sig_line_prefix[] = "\xe2\x80\x94 ";
#define SIG_LINE_PREFIX_LEN (sizeof(sig_line_prefix) - 1)

/* Post-quantum signatures run to nearly 5 kB; this leaves room for them while keeping
 * the decoding buffer of a hostile note bounded. */
#define SIG_DECODED_MAX 8192
#define SIG_BASE64_MAX (SIG_DECODED_MAX / 3 * 4 + 4)

/* Longest verifier key string: name, id, and base64 of 33 bytes, with separators. */
#define VERIFIER_MAX (LEDGER_NOTE_NAME_MAX + 1 + 8 + 1 + 44)

/*
 * Decodes the UTF-8 sequence at s (n > 0 bytes available): returns its length and the
 * code point, or 0 for anything RFC 3629 forbids (stray continuation bytes, overlong
 * forms, surrogates, code points above U+10FFFF, truncation).
 */
static size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint8_t b = s[0];
    size_t len;
    uint32_t min, c;
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
        len = 2, min = 0x80, c = b & 0x1fu;
    } else if (b >= 0xe0 && b <= 0xef) {
        len = 3, min = 0x800, c = b & 0x0fu;
    } else if (b >= 0xf0 && b <= 0xf4) {
        len = 4, min = 0x10000, c = b & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3fu);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* Unicode White_Space, the set Go's unicode.IsSpace and C2SP's "Unicode spaces" mean. */
static bool is_unicode_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

/* Valid UTF-8 with no C0 control character except, when allowed, '\n': the signed-note
 * rule for whole notes (C2SP leaves DEL and C1 controls alone, and so do we). */
static enum vt_status check_text(const char *s, size_t n, bool newlines, const char *what,
                                 struct vt_error *err)
{
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t len = utf8_decode(p + i, n - i, &c);
        if (len == 0)
            return vt_error_set(err, VT_ERR_INVALID, "%s: bad UTF-8 at offset %zu", what, i);
        if (c < 0x20 && !(newlines && c == '\n'))
            return vt_error_set(err, VT_ERR_INVALID, "%s: control character 0x%02x at offset %zu",
                                what, (unsigned)c, i);
        i += len;
    }
    return VT_OK;
}

/* C2SP's rule for key names on signature lines: non-empty, no Unicode space, no '+'.
 * The caller has already checked UTF-8 and C0 controls. */
static bool line_name_valid(const char *s, size_t n)
{
    if (n == 0)
        return false;
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t len = utf8_decode(p + i, n - i, &c);
        if (len == 0 || c == '+' || is_unicode_space(c))
            return false;
        i += len;
    }
    return true;
}

/* Names we sign with or trust: also printable, so none of them can hide a DEL or C1
 * control character in a log line or a configuration file. */
static enum vt_status check_own_name(const char *name, size_t n, struct vt_error *err)
{
    if (n == 0)
        return vt_error_set(err, VT_ERR_INVALID, "invalid key name: empty");
    const uint8_t *p = (const uint8_t *)name;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t len = utf8_decode(p + i, n - i, &c);
        if (len == 0)
            return vt_error_set(err, VT_ERR_INVALID, "invalid key name: bad UTF-8 at offset %zu",
                                i);
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f))
            return vt_error_set(err, VT_ERR_INVALID,
                                "invalid key name: control character U+%04X at offset %zu",
                                (unsigned)c, i);
        if (is_unicode_space(c))
            return vt_error_set(err, VT_ERR_INVALID, "invalid key name: space U+%04X at offset %zu",
                                (unsigned)c, i);
        if (c == '+')
            return vt_error_set(err, VT_ERR_INVALID, "invalid key name: '+' at offset %zu", i);
        i += len;
    }
    return VT_OK;
}

static uint32_t key_id(const char *name, size_t n, const uint8_t pk[VT_ED25519_PK_LEN])
{
    struct vt_sha256 *h = vt_sha256_new();
    static const uint8_t sep_type[2] = {'\n', NOTE_SIG_TYPE_ED25519};
    vt_sha256_update(h, name, n);
    vt_sha256_update(h, sep_type, sizeof(sep_type));
    vt_sha256_update(h, pk, VT_ED25519_PK_LEN);
    uint8_t digest[VT_SHA256_LEN];
    vt_sha256_final(h, digest);
    vt_sha256_free(h);
    return vt_be32_get(digest);
}

uint32_t ledger_note_key_id(const char *name, const uint8_t pk[VT_ED25519_PK_LEN])
{
    return key_id(name, strlen(name), pk);
}

/* Keeps a message from a lower layer but reports it under this layer's status. */
static enum vt_status restatus(struct vt_error *err, enum vt_status st)
{
    if (err != NULL)
        err->status = st;
    return st;
}

static void buf_truncate(struct vt_buf *b, size_t len)
{
    b->len = len;
    if (b->cap > 0)
        b->data[len] = '\0';
}

enum vt_status ledger_note_sign(const char *text, size_t n, const char *name,
                                const struct vt_key *key, struct vt_buf *out, struct vt_error *err)
{
    size_t name_len = strlen(name);
    enum vt_status st = check_own_name(name, name_len, err);
    if (st != VT_OK)
        return st;
    if (!key->has_secret)
        return vt_error_set(err, VT_ERR_INVALID, "cannot sign note as '%s': key has no secret",
                            name);
    if (n == 0 || text[n - 1] != '\n')
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot sign note: text is empty or does not end in a newline");
    st = check_text(text, n, true, "cannot sign note", err);
    if (st != VT_OK)
        return st;

    /* Sign before appending: text may live in out, and appending can move it. */
    uint8_t sig[ED25519_NOTE_SIG_LEN];
    vt_be32_put(sig, key_id(name, name_len, key->pk));
    vt_key_sign(key, text, n, sig + KEY_ID_LEN);

    size_t start = out->len;
    if ((st = vt_buf_append(out, "\n", 1, err)) != VT_OK ||
        (st = vt_buf_append(out, sig_line_prefix, SIG_LINE_PREFIX_LEN, err)) != VT_OK ||
        (st = vt_buf_append(out, name, name_len, err)) != VT_OK ||
        (st = vt_buf_append(out, " ", 1, err)) != VT_OK ||
        (st = vt_base64_encode(sig, sizeof(sig), out, err)) != VT_OK ||
        (st = vt_buf_append(out, "\n", 1, err)) != VT_OK) {
        buf_truncate(out, start);
        return st;
    }
    return VT_OK;
}

/* Where the signature block starts: just after the last "\n\n" (the blank line). */
static bool find_signatures(const char *note, size_t n, size_t *text_len)
{
    for (size_t i = n - 1; i > 0; i--) {
        if (note[i] == '\n' && note[i - 1] == '\n') {
            *text_len = i;
            return true;
        }
    }
    return false;
}

struct sig_line {
    const char *name;
    size_t name_len;
    const char *b64;
    size_t b64_len;
};

static enum vt_status split_sig_line(const char *line, size_t len, unsigned lineno,
                                     struct sig_line *out, struct vt_error *err)
{
    if (len < SIG_LINE_PREFIX_LEN || memcmp(line, sig_line_prefix, SIG_LINE_PREFIX_LEN) != 0)
        return vt_error_set(err, VT_ERR_INVALID,
                            "malformed note: signature line %u does not start with an em dash "
                            "and a space",
                            lineno);
    const char *name = line + SIG_LINE_PREFIX_LEN;
    const char *end = line + len;
    const char *space = memchr(name, ' ', (size_t)(end - name));
    if (space == NULL)
        return vt_error_set(err, VT_ERR_INVALID,
                            "malformed note: signature line %u has no space after the key name",
                            lineno);
    out->name = name;
    out->name_len = (size_t)(space - name);
    out->b64 = space + 1;
    out->b64_len = (size_t)(end - out->b64);
    if (!line_name_valid(out->name, out->name_len))
        return vt_error_set(err, VT_ERR_INVALID,
                            "malformed note: signature line %u has an invalid key name", lineno);
    if (out->b64_len > SIG_BASE64_MAX)
        return vt_error_set(err, VT_ERR_INVALID,
                            "malformed note: signature line %u: signature longer than %d bytes",
                            lineno, SIG_DECODED_MAX);
    return VT_OK;
}

enum vt_status ledger_note_verify(const char *note, size_t n, const char *name,
                                  const uint8_t pk[VT_ED25519_PK_LEN], size_t *text_len,
                                  struct vt_error *err)
{
    size_t name_len = strlen(name);
    enum vt_status st = check_own_name(name, name_len, err);
    if (st != VT_OK)
        return st;
    st = check_text(note, n, true, "malformed note", err);
    if (st != VT_OK)
        return st;
    if (n == 0 || note[n - 1] != '\n')
        return vt_error_set(err, VT_ERR_INVALID, "malformed note: does not end in a newline");
    size_t tlen;
    if (!find_signatures(note, n, &tlen))
        return vt_error_set(err, VT_ERR_INVALID,
                            "malformed note: no blank line before the signatures");
    size_t sig_start = tlen + 1;
    if (sig_start == n)
        return vt_error_set(err, VT_ERR_INVALID, "malformed note: no signature lines");

    /* Count first, so a note with thousands of lines costs no decoding. */
    size_t lines = 0;
    for (size_t i = sig_start; i < n; i++)
        lines += note[i] == '\n';
    if (lines > LEDGER_NOTE_SIGS_MAX)
        return vt_error_set(err, VT_ERR_INVALID,
                            "malformed note: %zu signature lines, more than the %d accepted", lines,
                            LEDGER_NOTE_SIGS_MAX);

    uint32_t want_id = key_id(name, name_len, pk);
    unsigned matched = 0, bad_line = 0;
    struct vt_buf raw;
    vt_buf_init(&raw, SIG_DECODED_MAX);
    unsigned lineno = 0;
    for (size_t at = sig_start; at < n;) {
        const char *nl = memchr(note + at, '\n', n - at);
        size_t len = (size_t)(nl - (note + at));
        struct sig_line sl = {0};
        lineno++;
        st = split_sig_line(note + at, len, lineno, &sl, err);
        if (st != VT_OK)
            goto done;
        vt_buf_reset(&raw);
        st = vt_base64_decode(sl.b64, sl.b64_len, &raw, err);
        if (st != VT_OK) {
            vt_error_prefix(err, st, "malformed note: signature line %u", lineno);
            st = restatus(err, VT_ERR_INVALID);
            goto done;
        }
        if (raw.len <= KEY_ID_LEN) {
            st = vt_error_set(err, VT_ERR_INVALID,
                              "malformed note: signature line %u has %zu bytes, too short for a "
                              "key id and a signature",
                              lineno, raw.len);
            goto done;
        }
        /* A known key is the pair (name, id); a match on one alone is someone else. */
        if (sl.name_len == name_len && memcmp(sl.name, name, name_len) == 0 &&
            vt_be32_get(raw.data) == want_id) {
            matched++;
            bool ok = raw.len == ED25519_NOTE_SIG_LEN &&
                      vt_ed25519_verify(pk, note, tlen, raw.data + KEY_ID_LEN);
            if (!ok && bad_line == 0)
                bad_line = lineno;
        }
        at += len + 1;
    }

    st = VT_OK;
    if (bad_line != 0)
        st = vt_error_set(err, VT_ERR_VERIFY,
                          "note signature by '%s' does not verify (signature line %u)", name,
                          bad_line);
    else if (matched == 0)
        st = vt_error_set(err, VT_ERR_VERIFY,
                          "note has no signature by '%s' (key id %08" PRIx32 ")", name, want_id);
    else
        *text_len = tlen;
done:
    vt_buf_release(&raw);
    return st;
}

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

enum vt_status ledger_note_verifier_parse(const char *s, char name[LEDGER_NOTE_NAME_MAX],
                                          uint8_t pk[VT_ED25519_PK_LEN], struct vt_error *err)
{
    size_t n = strnlen(s, VERIFIER_MAX + 1);
    if (n > VERIFIER_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "invalid verifier key: longer than %d bytes",
                            VERIFIER_MAX);
    const char *plus = memchr(s, '+', n);
    if (plus == NULL)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid verifier key: expected <name>+<id>+<key>");
    size_t name_len = (size_t)(plus - s);
    if (name_len >= LEDGER_NOTE_NAME_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE,
                            "invalid verifier key: name longer than %d bytes",
                            LEDGER_NOTE_NAME_MAX - 1);
    enum vt_status st = check_own_name(s, name_len, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "invalid verifier key");

    const char *hex = plus + 1;
    size_t rest = n - name_len - 1;
    if (rest < 9 || hex[8] != '+')
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid verifier key: key id is not 8 hex digits followed by '+'");
    uint32_t id = 0;
    for (size_t i = 0; i < 8; i++) {
        if (!is_lower_hex(hex[i]))
            return vt_error_set(err, VT_ERR_INVALID,
                                "invalid verifier key: key id is not 8 lower-case hex digits");
        id = id << 4 | (uint32_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
    }

    struct vt_buf raw;
    vt_buf_init(&raw, 64);
    const char *b64 = hex + 9;
    st = vt_base64_decode(b64, rest - 9, &raw, err);
    if (st != VT_OK) {
        vt_buf_release(&raw);
        vt_error_prefix(err, st, "invalid verifier key");
        return restatus(err, VT_ERR_INVALID);
    }
    if (raw.len >= 1 && raw.data[0] != NOTE_SIG_TYPE_ED25519) {
        uint8_t type = raw.data[0];
        vt_buf_release(&raw);
        return vt_error_set(err, VT_ERR_UNSUPPORTED,
                            "unsupported verifier key: key type 0x%02x (only Ed25519, 0x01)", type);
    }
    if (raw.len != 1 + VT_ED25519_PK_LEN) {
        size_t got = raw.len;
        vt_buf_release(&raw);
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid verifier key: key is %zu bytes, expected 33 (0x01 and a "
                            "32-byte Ed25519 key)",
                            got);
    }
    uint32_t want = key_id(s, name_len, raw.data + 1);
    if (id != want) {
        vt_buf_release(&raw);
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid verifier key: key id %08" PRIx32
                            " does not match the name and key (%08" PRIx32 ")",
                            id, want);
    }
    memcpy(pk, raw.data + 1, VT_ED25519_PK_LEN);
    memcpy(name, s, name_len);
    name[name_len] = '\0';
    vt_buf_release(&raw);
    return VT_OK;
}

enum vt_status ledger_note_verifier_format(const char *name, const uint8_t pk[VT_ED25519_PK_LEN],
                                           struct vt_buf *out, struct vt_error *err)
{
    size_t name_len = strnlen(name, LEDGER_NOTE_NAME_MAX);
    if (name_len >= LEDGER_NOTE_NAME_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "invalid key name: longer than %d bytes",
                            LEDGER_NOTE_NAME_MAX - 1);
    enum vt_status st = check_own_name(name, name_len, err);
    if (st != VT_OK)
        return st;
    uint8_t typed[1 + VT_ED25519_PK_LEN];
    typed[0] = NOTE_SIG_TYPE_ED25519;
    memcpy(typed + 1, pk, VT_ED25519_PK_LEN);
    size_t start = out->len;
    if ((st = vt_buf_printf(out, err, "%s+%08" PRIx32 "+", name, key_id(name, name_len, pk))) !=
            VT_OK ||
        (st = vt_base64_encode(typed, sizeof(typed), out, err)) != VT_OK) {
        buf_truncate(out, start);
        return st;
    }
    return VT_OK;
}

static enum vt_status check_origin(const char *origin, size_t n, struct vt_error *err)
{
    if (n == 0)
        return vt_error_set(err, VT_ERR_INVALID, "invalid checkpoint: empty origin");
    if (n >= LEDGER_NOTE_NAME_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "invalid checkpoint: origin longer than %d bytes",
                            LEDGER_NOTE_NAME_MAX - 1);
    return check_text(origin, n, false, "invalid checkpoint origin", err);
}

enum vt_status ledger_checkpoint_format(const struct ledger_checkpoint *cp, struct vt_buf *out,
                                        struct vt_error *err)
{
    size_t origin_len = strnlen(cp->origin, LEDGER_NOTE_NAME_MAX);
    enum vt_status st = check_origin(cp->origin, origin_len, err);
    if (st != VT_OK)
        return st;
    size_t start = out->len;
    if ((st = vt_buf_printf(out, err, "%s\n%" PRIu64 "\n", cp->origin, cp->size)) != VT_OK ||
        (st = vt_base64_encode(cp->root, LEDGER_HASH_LEN, out, err)) != VT_OK ||
        (st = vt_buf_append(out, "\n", 1, err)) != VT_OK) {
        buf_truncate(out, start);
        return st;
    }
    return VT_OK;
}

/* The line starting at *at, without its '\n'; false when no newline ends it. */
static bool next_line(const char *text, size_t n, size_t *at, const char **line, size_t *len)
{
    if (*at >= n)
        return false;
    const char *nl = memchr(text + *at, '\n', n - *at);
    if (nl == NULL)
        return false;
    *line = text + *at;
    *len = (size_t)(nl - *line);
    *at += *len + 1;
    return true;
}

static enum vt_status parse_size(const char *s, size_t n, uint64_t *out, struct vt_error *err)
{
    if (n == 0)
        return vt_error_set(err, VT_ERR_INVALID, "invalid checkpoint: empty tree size line");
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return vt_error_set(err, VT_ERR_INVALID,
                                "invalid checkpoint: tree size is not a decimal number");
    if (n > 1 && s[0] == '0')
        return vt_error_set(err, VT_ERR_INVALID, "invalid checkpoint: tree size has leading zeros");
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return vt_error_set(err, VT_ERR_INVALID,
                                "invalid checkpoint: tree size does not fit in 64 bits");
        v = v * 10 + d;
    }
    *out = v;
    return VT_OK;
}

enum vt_status ledger_checkpoint_parse(const char *text, size_t n, struct ledger_checkpoint *cp,
                                       struct vt_error *err)
{
    enum vt_status st = check_text(text, n, true, "invalid checkpoint", err);
    if (st != VT_OK)
        return st;

    size_t at = 0;
    const char *origin, *size_line, *root_line;
    size_t origin_len, size_len, root_len;
    if (!next_line(text, n, &at, &origin, &origin_len) ||
        !next_line(text, n, &at, &size_line, &size_len) ||
        !next_line(text, n, &at, &root_line, &root_len))
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid checkpoint: fewer than three newline-terminated lines");
    if ((st = check_origin(origin, origin_len, err)) != VT_OK)
        return st;

    struct ledger_checkpoint parsed;
    if ((st = parse_size(size_line, size_len, &parsed.size, err)) != VT_OK)
        return st;

    /* Canonical base64 of 32 bytes is always 44 characters; checking that first bounds
     * the decoding. */
    if (root_len != 44)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid checkpoint: root hash is %zu base64 characters, expected 44",
                            root_len);
    struct vt_buf raw;
    vt_buf_init(&raw, LEDGER_HASH_LEN + 2);
    st = vt_base64_decode(root_line, root_len, &raw, err);
    if (st != VT_OK) {
        vt_buf_release(&raw);
        vt_error_prefix(err, st, "invalid checkpoint: root hash");
        return restatus(err, VT_ERR_INVALID);
    }
    if (raw.len != LEDGER_HASH_LEN) {
        size_t got = raw.len;
        vt_buf_release(&raw);
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid checkpoint: root hash decodes to %zu bytes, expected %d", got,
                            LEDGER_HASH_LEN);
    }
    memcpy(parsed.root, raw.data, LEDGER_HASH_LEN);
    vt_buf_release(&raw);

    if (at != n)
        return vt_error_set(err, VT_ERR_UNSUPPORTED,
                            "unsupported checkpoint: extension lines after the root hash");

    memcpy(parsed.origin, origin, origin_len);
    parsed.origin[origin_len] = '\0';
    *cp = parsed;
    return VT_OK;
}
