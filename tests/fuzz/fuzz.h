/*
 * Shared pieces of the fuzz targets (tests/fuzz/README.md): one-time initialization, the
 * fixed keys that sign the seed corpora, scratch directories, and the input layouts of the
 * targets that start with a selector byte.
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput and nothing else that is global. It
 * links either with libFuzzer (VITAE_FUZZ=ON, clang) or with replay_main.c, which feeds it
 * every file of its corpus and regression folders. A target frees everything an input
 * allocated; only the stores behind the bundle, rpc and http targets persist between
 * inputs, and they grow only when an input verifies (a seed, in practice).
 *
 * The keys here are test keys: their secrets are in this source tree on purpose.
 */
#ifndef VITAE_FUZZ_H
#define VITAE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* vt_core_init, once per process; aborts when it fails. */
void fuzz_init(void);

/* Reports a broken invariant of the code under test and aborts, so that the fuzzer keeps
 * the input as a crash. */
__attribute__((noreturn)) void fuzz_fail(const char *fmt, ...) VT_PRINTF(1, 2);

/* A NUL-terminated copy of data (free()). Embedded NULs stay; C-string parsers stop there. */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* A new empty directory under $TMPDIR (or /tmp) whose name contains tag, removed with
 * everything in it when the process exits normally. Aborts on failure. Borrowed. */
const char *fuzz_tmpdir(const char *tag);

/* ---------------------------------------------------------------------------------------
 * Fixed keys and names (the seed generator and the targets agree on them)
 */

enum fuzz_key {
    FUZZ_KEY_ISSUER,    /* signs credentials (did:key) and status lists */
    FUZZ_KEY_LOG,       /* the service key of the ledger that exports bundles; signs notes */
    FUZZ_KEY_HOLDER,    /* signs presentations */
    FUZZ_KEY_RECIPIENT, /* sealed bundles are sealed to its X25519 key */
    FUZZ_KEY_SERVICE,   /* the service key of the ledgers the targets open */
};

/* The Ed25519 key pair `which`; its seed is bytes (which << 5) + 1 .. (which << 5) + 32. */
void fuzz_key(enum fuzz_key which, struct vt_key *key);

/* Signed notes and checkpoints: the log's origin and key name. */
#define FUZZ_NOTE_NAME "fuzz.example/log"
/* "Now" for every verification: 2025-06-01T00:00:00Z. */
#define FUZZ_NOW_MS INT64_C(1748736000000)
/* The time seeds are signed and valid from. */
#define FUZZ_SIGNED_AT "2025-01-01T00:00:00Z"

/* ---------------------------------------------------------------------------------------
 * Selector bytes: the first byte of an input picks the entry point (modulo the count).
 */

/* fuzz_codec: the rest is the text to decode. */
enum fuzz_codec_op {
    FUZZ_CODEC_HEX,
    FUZZ_CODEC_BASE58,
    FUZZ_CODEC_BASE64,
    FUZZ_CODEC_BASE64URL,
    FUZZ_CODEC_MULTIBASE,
    FUZZ_CODEC_MULTIKEY_PUBLIC,
    FUZZ_CODEC_MULTIKEY_SECRET,
    FUZZ_CODEC_MULTICODEC, /* base58btc text whose bytes are unwrapped as each multicodec */
    FUZZ_CODEC_UTF8,
    FUZZ_CODEC_COUNT
};

/* fuzz_time: the rest is the text. */
enum fuzz_time_op {
    FUZZ_TIME_RFC3339,
    FUZZ_TIME_DURATION,
    FUZZ_TIME_XAPI, /* xapi_timestamp_parse, and the xapi_is_* checks on the same text */
    FUZZ_TIME_COUNT
};

/* fuzz_twin_event: payload decoding per ledger type, the JSON form per kind, and xAPI. */
enum fuzz_twin_op {
    FUZZ_TWIN_ATTEMPT,        /* twin_event_decode("attempt", rest) */
    FUZZ_TWIN_PROGRESS,       /* "progress" */
    FUZZ_TWIN_ASSESSMENT,     /* "assessment" */
    FUZZ_TWIN_ENROLLMENT,     /* "enrollment" */
    FUZZ_TWIN_ROLE,           /* "role" */
    FUZZ_TWIN_XAPI_STATEMENT, /* "xapi.statement": the rest is statement JSON */
    FUZZ_TWIN_JSON_ATTEMPT,   /* twin_event_from_json(ATTEMPT, JSON rest) */
    FUZZ_TWIN_JSON_PROGRESS,
    FUZZ_TWIN_JSON_ASSESSMENT,
    FUZZ_TWIN_JSON_ENROLLMENT,
    FUZZ_TWIN_JSON_ROLE,
    FUZZ_TWIN_XAPI, /* twin_event_from_xapi(JSON rest) */
    FUZZ_TWIN_COUNT
};

/* fuzz_framework */
enum fuzz_framework_op {
    FUZZ_FW_CSV,         /* twin_framework_from_csv(rest) */
    FUZZ_FW_CASE,        /* twin_framework_from_case(JSON rest) */
    FUZZ_FW_JSON,        /* twin_framework_from_json(JSON rest) */
    FUZZ_FW_DECODE,      /* twin_framework_decode(CBOR rest) */
    FUZZ_FW_MARBLE,      /* twin_framework_from_marble(rest = JSON [topics, dependencies]) */
    FUZZ_FW_ROLE_DECODE, /* twin_role_profile_decode(CBOR rest) */
    FUZZ_FW_ROLE_JSON,   /* twin_role_profile_from_json(JSON rest) */
    FUZZ_FW_COUNT
};

/*
 * fuzz_proof: after the selector, big-endian u64 index (or old size), u64 size (or new
 * size), a 32-byte leaf hash (or old root), a 32-byte root (or new root), then whole
 * 32-byte proof hashes (a partial last hash is dropped).
 */
enum fuzz_proof_op { FUZZ_PROOF_INCLUSION, FUZZ_PROOF_CONSISTENCY, FUZZ_PROOF_COUNT };
#define FUZZ_PROOF_HEADER (1 + 8 + 8 + 32 + 32)

/*
 * fuzz_http: byte 0 picks the method (bits 0-1: GET, HEAD, POST, other) and the
 * content type (bits 2-3: application/json, application/ld+json, text/plain, none); the
 * path runs to the first '\n' (at most FUZZ_HTTP_PATH_MAX bytes), the body is the rest.
 */
#define FUZZ_HTTP_PATH_MAX 511

#endif
