/*
 * Text codecs of core (selector byte: enum fuzz_codec_op): hex, base58btc, base64,
 * base64url, multibase, Multikey public and secret keys, multicodec prefixes and UTF-8.
 *
 * Invariants (core.h: decoders accept only the canonical form): what decodes encodes back
 * to the same text (hex up to letter case); a decoder that fails leaves its output as it
 * was; vt_utf8_invalid_at agrees with decoding sequence by sequence.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

typedef enum vt_status (*decode_fn)(const char *s, size_t n, struct vt_buf *out,
                                    struct vt_error *err);
typedef enum vt_status (*encode_fn)(const uint8_t *p, size_t n, struct vt_buf *out,
                                    struct vt_error *err);

static bool same_text(const char *a, size_t an, const uint8_t *b, size_t bn, bool fold)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++) {
        int x = (unsigned char)a[i], y = b[i];
        if (fold ? tolower(x) != tolower(y) : x != y)
            return false;
    }
    return true;
}

static void round_trip(const char *s, size_t n, decode_fn dec, encode_fn enc, bool fold,
                       const char *what)
{
    struct vt_buf raw, text;
    struct vt_error err;
    vt_buf_init(&raw, VT_BUF_DEFAULT_MAX);
    vt_buf_init(&text, VT_BUF_DEFAULT_MAX);
    static const uint8_t mark[] = "keep";
    (void)vt_buf_append(&raw, mark, 4, NULL);
    if (dec(s, n, &raw, &err) == VT_OK) {
        if (raw.len < 4 || memcmp(raw.data, mark, 4) != 0)
            fuzz_fail("%s decoder overwrote what out held", what);
        if (enc(raw.data + 4, raw.len - 4, &text, &err) != VT_OK)
            fuzz_fail("%s: decoded bytes do not encode: %s", what, err.msg);
        if (!same_text(s, n, text.data, text.len, fold))
            fuzz_fail("%s: %zu characters decode and encode to %zu others", what, n, text.len);
    } else if (raw.len != 4 || memcmp(raw.data, mark, 4) != 0) {
        fuzz_fail("%s decoder failed but changed out", what);
    }
    vt_buf_release(&raw);
    vt_buf_release(&text);
}

static enum vt_status multibase_z(const uint8_t *p, size_t n, struct vt_buf *out,
                                  struct vt_error *err)
{
    return vt_multibase_encode(VT_MULTIBASE_BASE58BTC, p, n, out, err);
}

static enum vt_status multibase_u(const uint8_t *p, size_t n, struct vt_buf *out,
                                  struct vt_error *err)
{
    return vt_multibase_encode(VT_MULTIBASE_BASE64URL, p, n, out, err);
}

static void multibase(const char *s, size_t n)
{
    struct vt_buf raw, text;
    struct vt_error err;
    enum vt_multibase base;
    vt_buf_init(&raw, VT_BUF_DEFAULT_MAX);
    vt_buf_init(&text, VT_BUF_DEFAULT_MAX);
    if (vt_multibase_decode(s, n, &base, &raw, &err) == VT_OK) {
        encode_fn enc = base == VT_MULTIBASE_BASE58BTC ? multibase_z : multibase_u;
        if (base != VT_MULTIBASE_BASE58BTC && base != VT_MULTIBASE_BASE64URL)
            fuzz_fail("multibase decoded with prefix %d", (int)base);
        if (enc(raw.data, raw.len, &text, &err) != VT_OK)
            fuzz_fail("multibase: decoded bytes do not encode: %s", err.msg);
        if (!same_text(s, n, text.data, text.len, false))
            fuzz_fail("multibase: %zu characters decode and encode to %zu others", n, text.len);
    }
    vt_buf_release(&raw);
    vt_buf_release(&text);
}

static void multikey(const char *s, bool secret)
{
    struct vt_error err;
    char back[VT_MULTIKEY_MAX];
    if (!secret) {
        uint8_t pk[VT_ED25519_PK_LEN];
        if (vt_multikey_decode_public(s, pk, &err) != VT_OK)
            return;
        vt_multikey_encode_public(pk, back);
    } else {
        uint8_t seed[VT_ED25519_SEED_LEN];
        if (vt_multikey_decode_secret(s, seed, &err) != VT_OK)
            return;
        struct vt_key key;
        vt_key_from_seed(&key, seed);
        vt_multikey_encode_secret(&key, back);
        vt_key_release(&key);
    }
    if (strcmp(s, back) != 0)
        fuzz_fail("Multikey '%s' decodes and encodes to '%s'", s, back);
}

static void multicodec(const char *s, size_t n)
{
    static const struct {
        enum vt_multicodec codec;
        size_t len;
    } codecs[] = {{VT_MULTICODEC_ED25519_PUB, 32},
                  {VT_MULTICODEC_X25519_PUB, 32},
                  {VT_MULTICODEC_ED25519_PRIV, 32}};
    struct vt_buf raw;
    vt_buf_init(&raw, VT_BUF_DEFAULT_MAX);
    if (vt_base58_decode(s, n, &raw, NULL) == VT_OK) {
        for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
            const uint8_t *payload = NULL;
            if (vt_multicodec_unwrap(raw.data, raw.len, codecs[i].codec, codecs[i].len, &payload,
                                     NULL) != VT_OK)
                continue;
            if (payload < raw.data || payload + codecs[i].len != raw.data + raw.len)
                fuzz_fail("multicodec payload is not the tail of the value");
            struct vt_buf again;
            vt_buf_init(&again, 64);
            if (vt_multicodec_wrap(codecs[i].codec, payload, codecs[i].len, &again, NULL) !=
                    VT_OK ||
                again.len != raw.len || memcmp(again.data, raw.data, raw.len) != 0)
                fuzz_fail("multicodec unwrap and wrap differ");
            vt_buf_release(&again);
        }
    }
    vt_buf_release(&raw);
}

static void utf8(const uint8_t *p, size_t n)
{
    size_t bad = vt_utf8_invalid_at(p, n);
    size_t off = 0;
    while (off < n) {
        uint32_t cp;
        size_t len = vt_utf8_decode(p + off, n - off, &cp);
        if (len == 0)
            break;
        if (len > 4 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            fuzz_fail("utf8 decoded U+%X from %zu bytes", (unsigned)cp, len);
        off += len;
    }
    if (off != bad)
        fuzz_fail("vt_utf8_invalid_at says %zu, decoding stops at %zu", bad, off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    if (size < 1)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    char *cstr = NULL;
    switch (data[0] % FUZZ_CODEC_COUNT) {
    case FUZZ_CODEC_HEX:
        round_trip(s, n, vt_hex_decode, vt_hex_encode, true, "hex");
        break;
    case FUZZ_CODEC_BASE58:
        round_trip(s, n, vt_base58_decode, vt_base58_encode, false, "base58");
        break;
    case FUZZ_CODEC_BASE64:
        round_trip(s, n, vt_base64_decode, vt_base64_encode, false, "base64");
        break;
    case FUZZ_CODEC_BASE64URL:
        round_trip(s, n, vt_base64url_decode, vt_base64url_encode, false, "base64url");
        break;
    case FUZZ_CODEC_MULTIBASE:
        multibase(s, n);
        break;
    case FUZZ_CODEC_MULTIKEY_PUBLIC:
    case FUZZ_CODEC_MULTIKEY_SECRET:
        cstr = fuzz_cstr(data + 1, n);
        multikey(cstr, data[0] % FUZZ_CODEC_COUNT == FUZZ_CODEC_MULTIKEY_SECRET);
        break;
    case FUZZ_CODEC_MULTICODEC:
        multicodec(s, n);
        break;
    case FUZZ_CODEC_UTF8:
        utf8(data + 1, n);
        break;
    }
    free(cstr);
    return 0;
}
