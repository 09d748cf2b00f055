/*
 * core: the vocabulary every other vitae module speaks.
 *
 * Status codes and errors, allocation and checked size arithmetic, bounded byte buffers,
 * big-endian integer helpers, deterministic CBOR (RFC 8949 §4.2.1) over libcbor, JSON
 * parsing into jansson values with an RFC 8785 (JCS) canonical writer, base16/base58btc/base64/
 * base64url/multibase/multicodec, SHA-256 (OpenSSL), Ed25519 keys, Multikey key files and
 * did:key (libsodium), and RFC 3339 timestamps.
 *
 * Invariants:
 *   - Fallible functions return enum vt_status (VT_OK == 0) and take struct vt_error *err
 *     last; err may be NULL. On failure err->msg names what is wrong and where.
 *   - Every decoder of outside input checks lengths against caps before allocating and
 *     never reads past the end of its input.
 *   - Allocation failure aborts the process with the size that failed (vt_malloc).
 *
 * Thread-safety: vt_core_init() must be called once before anything else (it is
 * idempotent and thread-safe). After that every function is safe to call from any thread
 * on distinct objects; no function keeps hidden mutable global state.
 *
 * Byte layouts and exact rejection rules: specs/encoding.md.
 */
#ifndef VITAE_CORE_H
#define VITAE_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cbor.h>
#include <jansson.h>

#define VT_WARN_UNUSED __attribute__((warn_unused_result))
#define VT_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---------------------------------------------------------------------------------------
 * Status and errors
 */

enum vt_status {
    VT_OK = 0,
    VT_ERR_INVALID,      /* malformed input: syntax, type, range */
    VT_ERR_NONCANONICAL, /* well-formed but not in the one canonical form we accept */
    VT_ERR_TRUNCATED,    /* input ends before a declared length */
    VT_ERR_TOO_LARGE,    /* a size cap was exceeded */
    VT_ERR_TOO_DEEP,     /* a nesting cap was exceeded */
    VT_ERR_DUPLICATE,    /* duplicate map key / object member */
    VT_ERR_UNSUPPORTED,  /* understood but not supported (algorithm, version, ...) */
    VT_ERR_NOT_FOUND,    /* a named thing does not exist */
    VT_ERR_EXISTS,       /* a thing that must be new exists already */
    VT_ERR_CONFLICT,     /* state does not allow the operation (fork, wrong seq, ...) */
    VT_ERR_VERIFY,       /* a signature, hash or proof did not verify */
    VT_ERR_PERMISSION,   /* not allowed */
    VT_ERR_IO,           /* operating system or storage failure */
    VT_ERR_FULL,         /* storage is full */
    VT_ERR_BUSY,         /* try again later */
    VT_ERR_CRYPTO,       /* a cryptographic library failed (not a bad signature) */
    VT_ERR_INTERNAL,     /* a bug or broken invariant detected at run time */
};

/* Stable lower-case name of a status ("ok", "invalid", ...); never NULL. */
const char *vt_status_name(enum vt_status status);

#define VT_ERROR_MSG_MAX 256

/* A failure report. Fixed size so that the error path never allocates. */
struct vt_error {
    enum vt_status status;
    char msg[VT_ERROR_MSG_MAX];
};

/* Clears err to VT_OK with an empty message. err may be NULL. */
void vt_error_clear(struct vt_error *err);

/*
 * Records status and a printf-style message in err (when err is not NULL) and returns
 * status, so callers can write `return vt_error_set(err, VT_ERR_INVALID, "...")`.
 * Messages read like git's: lower case, failure first, subject quoted.
 * The message is truncated to fit.
 */
enum vt_status vt_error_set(struct vt_error *err, enum vt_status status, const char *fmt, ...)
    VT_PRINTF(3, 4);

/*
 * Prepends "<context>: " to the message already in err and returns status, the failure
 * being passed up (err may be NULL, so the status cannot come from it). Used when passing
 * an error up through a layer that can name the subject.
 */
enum vt_status vt_error_prefix(struct vt_error *err, enum vt_status status, const char *fmt, ...)
    VT_PRINTF(3, 4);

/* ---------------------------------------------------------------------------------------
 * Initialization, assertions, allocation, checked arithmetic
 */

/*
 * Initializes libsodium and the cached OpenSSL digest. Idempotent and thread-safe.
 * Returns VT_ERR_CRYPTO if a library cannot be initialized.
 */
enum vt_status vt_core_init(struct vt_error *err);

/* Aborts with file:line and the expression when a programmer's invariant fails.
 * Stays on in release builds. Never use it for input validation. */
#define VT_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            vt_assert_fail(#cond, __FILE__, __LINE__);                                             \
    } while (0)
__attribute__((noreturn)) void vt_assert_fail(const char *expr, const char *file, int line);

/* Allocation that never returns NULL: on failure it prints the size and aborts.
 * A zero size is allowed and returns a unique pointer. Free with free(). */
void *vt_malloc(size_t size);
void *vt_calloc(size_t count, size_t size);
void *vt_realloc(void *ptr, size_t size);
char *vt_strdup(const char *s);
void *vt_memdup(const void *p, size_t size);

/* Checked size arithmetic: returns false (and leaves *out unspecified) on overflow. */
VT_WARN_UNUSED bool vt_size_add(size_t a, size_t b, size_t *out);
VT_WARN_UNUSED bool vt_size_mul(size_t a, size_t b, size_t *out);

/* Fills buf with len cryptographically secure random bytes (libsodium; a request above
 * 256 bytes expands a fresh 32-byte seed with ChaCha20, so that it costs one system call). */
void vt_random_bytes(void *buf, size_t len);

/* ---------------------------------------------------------------------------------------
 * Big-endian integers for wire and disk formats (never cast structs onto bytes)
 */

static inline void vt_be16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void vt_be32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void vt_be64_put(uint8_t *p, uint64_t v)
{
    vt_be32_put(p, (uint32_t)(v >> 32));
    vt_be32_put(p + 4, (uint32_t)v);
}

static inline uint16_t vt_be16_get(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t vt_be32_get(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t vt_be64_get(const uint8_t *p)
{
    return (uint64_t)vt_be32_get(p) << 32 | vt_be32_get(p + 4);
}

/* ---------------------------------------------------------------------------------------
 * Bounded byte buffer
 *
 * A growable byte string with a hard cap, in the spirit of git's strbuf and curl's dynbuf.
 * data is always NUL-terminated one byte past len (the NUL is not counted), so a buffer
 * holding text can be used as a C string. data is NULL-safe to read only after the first
 * successful append or vt_buf_grow; before that it points at a static empty string.
 */

struct vt_buf {
    uint8_t *data;
    size_t len;
    size_t cap; /* allocated bytes, excluding the terminating NUL */
    size_t max; /* len may never exceed max */
};

/* Default cap for buffers holding outside input: 16 MiB. */
#define VT_BUF_DEFAULT_MAX ((size_t)16 << 20)

/* Initializes an empty buffer that may hold at most max bytes (max > 0). */
void vt_buf_init(struct vt_buf *b, size_t max);

/* Frees the storage and leaves an empty buffer with the same cap. NULL-safe. */
void vt_buf_release(struct vt_buf *b);

/* Like vt_buf_release, but wipes the bytes first (sodium_memzero): for secrets. */
void vt_buf_release_secret(struct vt_buf *b);

/* Sets len to 0, keeping the storage. */
void vt_buf_reset(struct vt_buf *b);

/*
 * Hands the storage over to the caller (who frees it with free()) and leaves b empty.
 * *len_out (when not NULL) receives the length. The returned memory is NUL-terminated.
 */
uint8_t *vt_buf_detach(struct vt_buf *b, size_t *len_out);

/* Ensures room for extra more bytes. VT_ERR_TOO_LARGE if len + extra would exceed max. */
enum vt_status vt_buf_grow(struct vt_buf *b, size_t extra, struct vt_error *err);

/* Appends bytes. VT_ERR_TOO_LARGE (buffer unchanged) if the cap would be exceeded. */
enum vt_status vt_buf_append(struct vt_buf *b, const void *p, size_t n, struct vt_error *err);
enum vt_status vt_buf_append_str(struct vt_buf *b, const char *s, struct vt_error *err);
enum vt_status vt_buf_append_byte(struct vt_buf *b, uint8_t c, struct vt_error *err);
enum vt_status vt_buf_printf(struct vt_buf *b, struct vt_error *err, const char *fmt, ...)
    VT_PRINTF(3, 4);

/*
 * Reads a whole file (path "-" means standard input) into b, appending.
 * VT_ERR_NOT_FOUND if it does not exist, VT_ERR_TOO_LARGE past b->max, VT_ERR_IO otherwise.
 */
enum vt_status vt_buf_read_file(struct vt_buf *b, const char *path, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Text encodings. All encoders append to out; all decoders append decoded bytes to out
 * and fail with VT_ERR_INVALID naming the offset of the first bad character, leaving out
 * as it was. Decoders accept only the canonical form (see specs/encoding.md).
 */

/* Lower-case hex. The decoder accepts upper and lower case, and requires an even length. */
enum vt_status vt_hex_encode(const uint8_t *p, size_t n, struct vt_buf *out, struct vt_error *err);
enum vt_status vt_hex_decode(const char *s, size_t n, struct vt_buf *out, struct vt_error *err);

/* base58btc (Bitcoin alphabet); each leading 0x00 byte is one leading '1'.
 * Conversion is quadratic in the length, which suits keys and signatures but not bulk
 * data, so both directions are capped at VT_BASE58_MAX characters of text: the decoder
 * rejects longer input and the encoder fails rather than produce longer output, both with
 * VT_ERR_TOO_LARGE. */
#define VT_BASE58_MAX 4096
enum vt_status vt_base58_encode(const uint8_t *p, size_t n, struct vt_buf *out,
                                struct vt_error *err);
enum vt_status vt_base58_decode(const char *s, size_t n, struct vt_buf *out, struct vt_error *err);

/* RFC 4648 §4 base64 with '=' padding (used by signed notes). The decoder requires
 * correct padding and zero trailing bits. */
enum vt_status vt_base64_encode(const uint8_t *p, size_t n, struct vt_buf *out,
                                struct vt_error *err);
enum vt_status vt_base64_decode(const char *s, size_t n, struct vt_buf *out, struct vt_error *err);

/* RFC 4648 §5 base64url without padding. The decoder rejects '=' and nonzero trailing
 * bits. */
enum vt_status vt_base64url_encode(const uint8_t *p, size_t n, struct vt_buf *out,
                                   struct vt_error *err);
enum vt_status vt_base64url_decode(const char *s, size_t n, struct vt_buf *out,
                                   struct vt_error *err);

/* Multibase: one prefix character, then the encoding. */
enum vt_multibase {
    VT_MULTIBASE_BASE58BTC = 'z',
    VT_MULTIBASE_BASE64URL = 'u',
};
enum vt_status vt_multibase_encode(enum vt_multibase base, const uint8_t *p, size_t n,
                                   struct vt_buf *out, struct vt_error *err);
/* Decodes a 'z' or 'u' multibase string; VT_ERR_UNSUPPORTED for other prefixes.
 * *base_out (when not NULL) receives the prefix. */
enum vt_status vt_multibase_decode(const char *s, size_t n, enum vt_multibase *base_out,
                                   struct vt_buf *out, struct vt_error *err);

/* Multicodec codes we use; each is written as an unsigned LEB128 varint prefix. */
enum vt_multicodec {
    VT_MULTICODEC_ED25519_PUB = 0xed,   /* bytes ed 01 */
    VT_MULTICODEC_X25519_PUB = 0xec,    /* bytes ec 01 */
    VT_MULTICODEC_ED25519_PRIV = 0x1300 /* bytes 80 26 */
};

/*
 * Splits a multicodec-prefixed value: checks that it starts with the varint of `codec`
 * and that exactly `payload_len` bytes follow. On success *payload points into p.
 * VT_ERR_INVALID names the expected and found prefix or length.
 */
enum vt_status vt_multicodec_unwrap(const uint8_t *p, size_t n, enum vt_multicodec codec,
                                    size_t payload_len, const uint8_t **payload,
                                    struct vt_error *err);
/* Appends the varint prefix of codec and then the payload. */
enum vt_status vt_multicodec_wrap(enum vt_multicodec codec, const uint8_t *payload, size_t n,
                                  struct vt_buf *out, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF)
 */

/* Decodes the sequence at s[0] (n > 0 bytes available) into *cp and returns its length,
 * or 0 if it is malformed or truncated. */
size_t vt_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp);

/* Returns n when s[0..n) is valid UTF-8, else the offset of the first bad sequence. */
size_t vt_utf8_invalid_at(const void *s, size_t n);

/* ---------------------------------------------------------------------------------------
 * SHA-256 (OpenSSL EVP, which uses the SHA extensions of the CPU)
 */

#define VT_SHA256_LEN 32

void vt_sha256(const void *p, size_t n, uint8_t out[VT_SHA256_LEN]);

/* SHA-256 of a ‖ b, without copying the two together and without allocating (like
 * vt_sha256, it reuses a per-thread context). */
void vt_sha256_two(const void *a, size_t na, const void *b, size_t nb, uint8_t out[VT_SHA256_LEN]);

/* Incremental hashing. The context is a handle: _new allocates, _free releases
 * (NULL-safe). A context can be reused after _final by calling _reset. */
struct vt_sha256;
struct vt_sha256 *vt_sha256_new(void);
void vt_sha256_free(struct vt_sha256 *h);
void vt_sha256_reset(struct vt_sha256 *h);
void vt_sha256_update(struct vt_sha256 *h, const void *p, size_t n);
void vt_sha256_final(struct vt_sha256 *h, uint8_t out[VT_SHA256_LEN]);

/* ---------------------------------------------------------------------------------------
 * Ed25519 keys (libsodium), Multikey and did:key
 */

#define VT_ED25519_PK_LEN 32
#define VT_ED25519_SEED_LEN 32
#define VT_ED25519_SIG_LEN 64
#define VT_X25519_LEN 32

/*
 * An Ed25519 key pair or public key. Caller-allocated, no interior pointers.
 * sk is libsodium's 64-byte secret key (seed ‖ pk), valid only when has_secret.
 * Call vt_key_release() to wipe it.
 */
struct vt_key {
    uint8_t pk[VT_ED25519_PK_LEN];
    uint8_t sk[64];
    bool has_secret;
};

/* A fresh random key pair. */
void vt_key_generate(struct vt_key *key);
/* The key pair whose RFC 8032 private key (seed) is seed. */
void vt_key_from_seed(struct vt_key *key, const uint8_t seed[VT_ED25519_SEED_LEN]);
/* A public-only key. */
void vt_key_from_public(struct vt_key *key, const uint8_t pk[VT_ED25519_PK_LEN]);
/* Wipes the secret part. NULL-safe. */
void vt_key_release(struct vt_key *key);
/* The 32-byte seed of a key with a secret. */
void vt_key_seed(const struct vt_key *key, uint8_t seed[VT_ED25519_SEED_LEN]);

/* Signs msg (pure Ed25519, RFC 8032). The key must have a secret (asserted). */
void vt_key_sign(const struct vt_key *key, const void *msg, size_t n,
                 uint8_t sig[VT_ED25519_SIG_LEN]);

/* Verifies a detached signature: true only for a valid signature. libsodium rejects
 * non-canonical S and small-order keys. */
VT_WARN_UNUSED bool vt_ed25519_verify(const uint8_t pk[VT_ED25519_PK_LEN], const void *msg,
                                      size_t n, const uint8_t sig[VT_ED25519_SIG_LEN]);

/* The X25519 keys derived from an Ed25519 key (birational map, as libsodium does).
 * sk_out may be NULL; it is written only when the key has a secret.
 * VT_ERR_INVALID if the public key is not a valid curve point. */
enum vt_status vt_key_x25519(const struct vt_key *key, uint8_t pk_out[VT_X25519_LEN],
                             uint8_t sk_out[VT_X25519_LEN], struct vt_error *err);

/* Multikey encodings: 'z' + base58btc(ed 01 ‖ pk) and 'z' + base58btc(80 26 ‖ seed).
 * Buffers of VT_MULTIKEY_MAX bytes always suffice (NUL included). */
#define VT_MULTIKEY_MAX 64
void vt_multikey_encode_public(const uint8_t pk[VT_ED25519_PK_LEN], char out[VT_MULTIKEY_MAX]);
void vt_multikey_encode_secret(const struct vt_key *key, char out[VT_MULTIKEY_MAX]);
enum vt_status vt_multikey_decode_public(const char *s, uint8_t pk[VT_ED25519_PK_LEN],
                                         struct vt_error *err);
enum vt_status vt_multikey_decode_secret(const char *s, uint8_t seed[VT_ED25519_SEED_LEN],
                                         struct vt_error *err);

/*
 * Multikey key files (JSON): {"type":"Multikey", "id"?, "controller"?,
 * "publicKeyMultibase", "secretKeyMultibase"?}. The reader also accepts the older
 * "privateKeyMultibase" member. When both a secret and a public key are present they must
 * match (VT_ERR_INVALID otherwise). The writer writes mode 0600, atomically (temporary
 * file + rename), and includes controller/id as did:key values.
 */
enum vt_status vt_keyfile_parse(const json_t *doc, struct vt_key *key, struct vt_error *err);
enum vt_status vt_keyfile_read(const char *path, struct vt_key *key, struct vt_error *err);
enum vt_status vt_keyfile_write(const char *path, const struct vt_key *key, struct vt_error *err);

/* did:key for Ed25519: "did:key:" + the public Multikey. VT_DIDKEY_MAX covers the DID
 * URL with its "#<multikey>" fragment. */
#define VT_DIDKEY_MAX 128
void vt_didkey_from_public(const uint8_t pk[VT_ED25519_PK_LEN], char out[VT_DIDKEY_MAX]);
/* The verification method id "did:key:<mb>#<mb>". */
void vt_didkey_vm_from_public(const uint8_t pk[VT_ED25519_PK_LEN], char out[VT_DIDKEY_MAX]);
/*
 * Parses "did:key:z6Mk..." or a DID URL with a fragment; when a fragment is present it
 * must equal the multibase value. Only Ed25519 keys (ed 01) are supported:
 * VT_ERR_UNSUPPORTED for other multicodecs, VT_ERR_INVALID for anything malformed.
 */
enum vt_status vt_didkey_parse(const char *did, size_t n, uint8_t pk[VT_ED25519_PK_LEN],
                               struct vt_error *err);
/*
 * Resolves a did:key to its DID document: @context DID v1 and Multikey, one Multikey
 * verification method "#<mb>", referenced from authentication, assertionMethod,
 * capabilityInvocation and capabilityDelegation, and a keyAgreement X25519 Multikey.
 * *doc_out is a new reference the caller must json_decref.
 */
enum vt_status vt_didkey_document(const char *did, json_t **doc_out, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * JSON: parsing (into jansson values) and the RFC 8785 canonical form
 */

#define VT_JSON_MAX_DEPTH 64

/*
 * Parses one JSON text of exactly n bytes with I-JSON semantics: duplicate member names
 * are rejected (VT_ERR_DUPLICATE), every number is read as an IEEE-754 double (so
 * 9007199254740993 becomes 9007199254740992 and 1e400 is an error; all numbers come back
 * as json_real), strings must be valid UTF-8 without lone surrogates and without U+0000.
 * Any value may be at the top level. Caps: n ≤ max_len (VT_ERR_TOO_LARGE, before anything
 * is read), nesting ≤ max_depth (VT_ERR_TOO_DEEP: nothing deeper is ever built, and the cap
 * is reported in preference to any other error in the text); everything else is
 * VT_ERR_INVALID. Errors name line, column and byte offset, in the words jansson's
 * json_loadb used (specs/encoding.md §2.1). *out is a new reference, NULL on failure.
 * Thread-safe.
 */
enum vt_status vt_json_parse(const char *text, size_t n, size_t max_len, size_t max_depth,
                             json_t **out, struct vt_error *err);

/* Reads and parses a file ("-" is standard input) with the same caps: VT_ERR_NOT_FOUND or
 * VT_ERR_IO from reading, VT_ERR_TOO_LARGE past max_len, and the parse errors prefixed with
 * "cannot parse '<path>': ". */
enum vt_status vt_json_read_file(const char *path, size_t max_len, size_t max_depth, json_t **out,
                                 struct vt_error *err);

/*
 * Appends the RFC 8785 canonical form of v to out: no whitespace, members sorted by the
 * UTF-16 code units of their names, strings escaped as ECMAScript JSON.stringify does,
 * numbers as ECMAScript Number::toString. json_integer values are written as the double
 * nearest to them. VT_ERR_INVALID for NaN/Infinity or invalid UTF-8 in a name or string,
 * VT_ERR_TOO_DEEP past 1000 nested arrays/objects (or a cycle), VT_ERR_TOO_LARGE past
 * out's cap. On failure out is left as it was.
 */
enum vt_status vt_jcs_write(const json_t *v, struct vt_buf *out, struct vt_error *err);

/* Buffer size that holds any number written by vt_json_number (NUL included). */
#define VT_JSON_NUMBER_MAX 32

/*
 * Writes d as ECMAScript Number::toString does (shortest round-trip digits; -0 is "0").
 * Returns the length written (without the NUL), or 0 for NaN and infinities, which JSON
 * cannot represent.
 */
size_t vt_json_number(double d, char out[VT_JSON_NUMBER_MAX]);

/* Typed member access for validators: return NULL when absent or of another type. */
const char *vt_json_get_str(const json_t *obj, const char *key);
const json_t *vt_json_get_obj(const json_t *obj, const char *key);
const json_t *vt_json_get_arr(const json_t *obj, const char *key);

/* ---------------------------------------------------------------------------------------
 * Deterministic CBOR (RFC 8949 §4.2.1 "core deterministic encoding") over libcbor
 *
 * Writer: integers, lengths and tags in their shortest form; floats in the shortest of
 * half/single/double that keeps the value exactly; map entries sorted by the bytewise
 * order of their encoded keys; definite lengths only. libcbor's own encoder keeps declared
 * widths and insertion order, so every byte goes through vt_cbor_encode.
 *
 * Reader: rejects indefinite lengths, non-shortest heads, unsorted or duplicate map keys,
 * nesting deeper than max_depth, declared lengths beyond the input, trailing bytes and
 * non-canonical floats, each with VT_ERR_* and the byte offset. It validates the whole
 * input before libcbor allocates anything, so a hostile length never reaches malloc.
 */

#define VT_CBOR_MAX_DEPTH 32

/*
 * Appends the deterministic encoding of item to out. Indefinite-length items built in
 * libcbor are written with definite lengths (string chunks joined); every NaN is written
 * f97e00; -0.0 and the infinities keep their sign (f98000, f97c00, f9fc00). Arrays, maps
 * and tags nest at most 256 deep. On failure out keeps its previous length.
 * VT_ERR_DUPLICATE: two keys of one map encode identically. VT_ERR_INVALID: invalid
 * UTF-8 in a text string, a reserved simple value (24-31), a missing item in an array,
 * tag or map. VT_ERR_TOO_DEEP: nesting beyond 256. VT_ERR_TOO_LARGE: out's cap.
 */
enum vt_status vt_cbor_encode(const cbor_item_t *item, struct vt_buf *out, struct vt_error *err);

/*
 * Checks that data is exactly one item in deterministic encoding (no allocation).
 * Depth counts arrays, maps and tags (a bare integer has depth 0, [[]] depth 2); a
 * max_depth above 256 is treated as 256. Statuses: VT_ERR_TRUNCATED, VT_ERR_INVALID,
 * VT_ERR_NONCANONICAL, VT_ERR_DUPLICATE, VT_ERR_TOO_DEEP; the exact table is in
 * specs/encoding.md §1.
 */
enum vt_status vt_cbor_check(const uint8_t *data, size_t n, size_t max_depth, struct vt_error *err);

/* vt_cbor_check, then builds the libcbor items (not with cbor_load, which refuses some
 * valid tags and simple values); *out is a new reference (cbor_decref to free), NULL on
 * failure. The decoded item is re-encoded and must equal data byte for byte
 * (VT_ERR_NONCANONICAL otherwise). */
enum vt_status vt_cbor_decode(const uint8_t *data, size_t n, size_t max_depth, cbor_item_t **out,
                              struct vt_error *err);

/* Map lookups by unsigned-integer or text key (linear scan); NULL when absent or when map
 * is not a map. The result is borrowed: valid while the map holds it. */
cbor_item_t *vt_cbor_map_get_uint(const cbor_item_t *map, uint64_t key);
cbor_item_t *vt_cbor_map_get_str(const cbor_item_t *map, const char *key);

/* Reads an unsigned integer of any width. VT_ERR_INVALID if item is not one. */
enum vt_status vt_cbor_get_uint(const cbor_item_t *item, uint64_t *out, struct vt_error *err);

/* Adds key → value to a map built with cbor_new_definite_map, taking over the caller's
 * references to both (they are released). Asserts that the map has room. */
void vt_cbor_map_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value);

/* ---------------------------------------------------------------------------------------
 * Time
 */

/* Milliseconds since the Unix epoch, UTC (CLOCK_REALTIME). */
int64_t vt_time_now_ms(void);

/* Buffer size that holds any timestamp vt_time_format writes (NUL included). */
#define VT_TIME_MAX 40

/* Writes "YYYY-MM-DDTHH:MM:SSZ", with ".mmm" before the Z when ms is not a whole second;
 * years outside 0000-9999 as vt_time_parse reads them (leading '-', more digits), so every
 * value written parses back to the same millisecond. */
void vt_time_format(int64_t ms, char out[VT_TIME_MAX]);

/*
 * Parses an XML Schema 1.1 dateTimeStamp / RFC 3339 date-time (the VC 2.0 pattern:
 * "T" separator, seconds required, fraction optional, "Z" or ±hh:mm offset required; the
 * year is an optional '-' and four digits, or five to nine without a leading zero) into
 * milliseconds since the epoch, UTC. Fractions beyond milliseconds are truncated.
 * VT_ERR_INVALID names the offending character, or says the time is out of int64 range.
 */
enum vt_status vt_time_parse(const char *s, size_t n, int64_t *ms_out, struct vt_error *err);

#endif
