/*
 * ledger: each learner's digital twin as an append-only, signed, hash-chained event log
 * in LMDB, under one public RFC 9162 Merkle transparency log with signed checkpoints.
 *
 * Formats: specs/ledger.md.
 *
 * (Module overview, invariants and thread-safety: see the sections below.)
 */
#ifndef VITAE_LEDGER_H
#define VITAE_LEDGER_H

#include "core/core.h"

/* ---------------------------------------------------------------------------------------
 * Transparency log: RFC 9162 Merkle tree hashing, proofs, dense hash storage, C2SP tiles,
 * signed notes and checkpoints. Pure functions over caller-supplied storage; safe from
 * any thread (concurrent calls may share a reader only if its read is thread-safe).
 * Byte-exact rules: specs/transparency-log.md.
 */

#define LEDGER_HASH_LEN 32
/* The largest tree: 2^63 leaves. Every size and index argument is checked against it. */
#define LEDGER_SIZE_MAX (UINT64_C(1) << 63)
/* The longest inclusion or consistency proof for a tree of up to 2^63 leaves, and the
 * most hashes one append stores. */
#define LEDGER_PROOF_MAX 64

/* SHA-256(0x00 ‖ data): the RFC 9162 leaf hash. */
void ledger_leaf_hash(const void *data, size_t n, uint8_t out[LEDGER_HASH_LEN]);
/* SHA-256(0x01 ‖ left ‖ right): the RFC 9162 interior node hash. out may alias an input. */
void ledger_node_hash(const uint8_t left[LEDGER_HASH_LEN], const uint8_t right[LEDGER_HASH_LEN],
                      uint8_t out[LEDGER_HASH_LEN]);

/*
 * Dense storage of every complete subtree hash (level L, index N covers leaves
 * [N·2^L, (N+1)·2^L)), numbered in the order they become complete, so that appending
 * leaf n writes 1 + trailing_ones(n) new hashes at consecutive indexes:
 *     index(L, N) = 2·m − popcount(m) + L, where m = (N+1)·2^L − 1.
 * The subtree must lie within LEDGER_SIZE_MAX leaves (asserted).
 */
uint64_t ledger_stored_hash_index(unsigned level, uint64_t n);

/*
 * Reads stored hashes by index for the functions below: fills hashes[i] with the hash
 * stored at indexes[i] for i < count (count ≤ 2·LEDGER_PROOF_MAX, or 256 for tiles).
 * Returns VT_OK, or an error status with err set (VT_ERR_NOT_FOUND for a missing index);
 * the calling function returns that status unchanged.
 */
struct ledger_hash_reader {
    enum vt_status (*read)(void *ctx, const uint64_t *indexes, size_t count,
                           uint8_t (*hashes)[LEDGER_HASH_LEN], struct vt_error *err);
    void *ctx;
};

/*
 * The stored hashes that appending leaf number n (0-based) with leaf hash `leaf` adds:
 * writes them to out (room for LEDGER_PROOF_MAX) in index order, starting at
 * ledger_stored_hash_index(0, n), and returns their count via *count. Needs the reader
 * for the left siblings already stored (not called when n is even).
 * VT_ERR_TOO_LARGE if n ≥ LEDGER_SIZE_MAX; reader errors.
 */
enum vt_status ledger_stored_hashes_for_append(const struct ledger_hash_reader *r, uint64_t n,
                                               const uint8_t leaf[LEDGER_HASH_LEN],
                                               uint8_t (*out)[LEDGER_HASH_LEN], size_t *count,
                                               struct vt_error *err);

/* The root of the first `size` leaves, from at most 63 stored hashes. Size 0 gives
 * SHA-256 of the empty string (RFC 9162; Go's tlog uses all zeros instead).
 * VT_ERR_INVALID if size > LEDGER_SIZE_MAX; reader errors. */
enum vt_status ledger_tree_hash(const struct ledger_hash_reader *r, uint64_t size,
                                uint8_t root[LEDGER_HASH_LEN], struct vt_error *err);

/* Inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3), written
 * to proof (room for LEDGER_PROOF_MAX), leaf side first. VT_ERR_INVALID if
 * index ≥ size or size > LEDGER_SIZE_MAX; reader errors. */
enum vt_status ledger_prove_inclusion(const struct ledger_hash_reader *r, uint64_t size,
                                      uint64_t index, uint8_t (*proof)[LEDGER_HASH_LEN],
                                      size_t *proof_len, struct vt_error *err);
/*
 * VT_OK if the proof shows that leaf hash `leaf` is at `index` under `root`.
 * VT_ERR_INVALID when the claim cannot be right whatever the hashes (index ≥ size,
 * size > LEDGER_SIZE_MAX, proof_len > LEDGER_PROOF_MAX); VT_ERR_VERIFY when the proof has
 * the wrong length for (index, size) or does not lead to root. err says which.
 */
VT_WARN_UNUSED enum vt_status
ledger_verify_inclusion(const uint8_t leaf[LEDGER_HASH_LEN], uint64_t index, uint64_t size,
                        const uint8_t (*proof)[LEDGER_HASH_LEN], size_t proof_len,
                        const uint8_t root[LEDGER_HASH_LEN], struct vt_error *err);

/* Consistency proof between tree sizes old_size ≤ new_size (RFC 9162 §2.1.4), written to
 * proof (room for LEDGER_PROOF_MAX); empty when old_size is 0 or equals new_size.
 * VT_ERR_INVALID if old_size > new_size or new_size > LEDGER_SIZE_MAX; reader errors. */
enum vt_status ledger_prove_consistency(const struct ledger_hash_reader *r, uint64_t old_size,
                                        uint64_t new_size, uint8_t (*proof)[LEDGER_HASH_LEN],
                                        size_t *proof_len, struct vt_error *err);
/*
 * VT_OK if the proof shows that the tree (old_size, old_root) is a prefix of
 * (new_size, new_root). Equal sizes need an empty proof and equal roots; old size 0 needs
 * an empty proof and old_root = SHA-256(""). VT_ERR_INVALID for old_size > new_size,
 * new_size > LEDGER_SIZE_MAX or proof_len > LEDGER_PROOF_MAX; VT_ERR_VERIFY otherwise.
 */
VT_WARN_UNUSED enum vt_status ledger_verify_consistency(uint64_t old_size, uint64_t new_size,
                                                        const uint8_t old_root[LEDGER_HASH_LEN],
                                                        const uint8_t new_root[LEDGER_HASH_LEN],
                                                        const uint8_t (*proof)[LEDGER_HASH_LEN],
                                                        size_t proof_len, struct vt_error *err);

/* Hashes in a full tile; also the `width` that names a full tile below. */
#define LEDGER_TILE_WIDTH 256
/* Buffer size that holds any tile path (NUL included). */
#define LEDGER_TILE_PATH_MAX 64

/*
 * C2SP tlog-tiles: appends tile (level, n) of a tree of `size` leaves to out as raw
 * 32-byte hashes: hash i (i < width) is the root of leaves [(n·256+i)·256^level,
 * (n·256+i+1)·256^level). width is LEDGER_TILE_WIDTH for a full tile or 1..255 for a
 * partial one. Any width whose hashes are all complete at `size` is served, so partial
 * tiles of earlier checkpoints stay available. VT_ERR_INVALID for a width outside
 * 1..256 or size > LEDGER_SIZE_MAX, VT_ERR_NOT_FOUND if the tile (or width) does not
 * exist at this size, VT_ERR_TOO_LARGE past out's cap (out unchanged); reader errors.
 */
enum vt_status ledger_tile_read(const struct ledger_hash_reader *r, uint64_t size, unsigned level,
                                uint64_t n, unsigned width, struct vt_buf *out,
                                struct vt_error *err);
/*
 * Parses a tile path "<L>/<N>[.p/<W>]" (the part after "tile/") as C2SP defines it:
 * L in 0..63 without leading zeros, N in 3-digit groups with all but the last prefixed
 * 'x' and no leading "x000" group (1234067 is "x001/x234/067", 5 is "005"), W in 1..255
 * without leading zeros. *width is LEDGER_TILE_WIDTH for a full tile. Anything else,
 * including paths of LEDGER_TILE_PATH_MAX bytes or more, is VT_ERR_INVALID.
 */
enum vt_status ledger_tile_path_parse(const char *path, unsigned *level, uint64_t *n,
                                      unsigned *width, struct vt_error *err);
/* Writes the canonical path of tile (level ≤ 63, n, width 1..256) into out. */
void ledger_tile_path_format(unsigned level, uint64_t n, unsigned width,
                             char out[LEDGER_TILE_PATH_MAX]);

/*
 * C2SP signed notes with Ed25519 signatures. Key id = first 4 bytes of
 * SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pk), big-endian. Names we sign with or verify against
 * are non-empty valid UTF-8 with no spaces (any Unicode White_Space), no '+', and no
 * control characters (C0, DEL, C1).
 */
uint32_t ledger_note_key_id(const char *name, const uint8_t pk[VT_ED25519_PK_LEN]);

/*
 * Appends "\n— <name> <base64(key id ‖ signature)>\n" for text (n > 0 bytes of valid
 * UTF-8 ending in '\n', with no control characters other than '\n'): text ‖ that is the
 * signed note. text may point into out. VT_ERR_INVALID for a bad text or name or a key
 * without its secret, VT_ERR_TOO_LARGE past out's cap; out is unchanged on failure.
 */
enum vt_status ledger_note_sign(const char *text, size_t n, const char *name,
                                const struct vt_key *key, struct vt_buf *out, struct vt_error *err);

/* Signature lines beyond this count make a note malformed. */
#define LEDGER_NOTE_SIGS_MAX 16

/*
 * Verifies a signed note against one known key (name, pk): the note must carry a valid
 * signature line by that key (same name and key id); lines by other keys are checked for
 * form and otherwise ignored. On success *text_len is the length of the signed text (up
 * to and including its final newline).
 * VT_ERR_INVALID for a malformed note: not valid UTF-8, a control character other than
 * '\n', no final newline, no blank line before the signatures, no signature line, more
 * than LEDGER_NOTE_SIGS_MAX lines, a line without "— ", with a bad name, bad base64 or
 * fewer than 5 decoded bytes (err names the line); also for an invalid `name`.
 * VT_ERR_VERIFY when no line is by that key, or a line by that key does not verify.
 */
VT_WARN_UNUSED enum vt_status ledger_note_verify(const char *note, size_t n, const char *name,
                                                 const uint8_t pk[VT_ED25519_PK_LEN],
                                                 size_t *text_len, struct vt_error *err);

/* Go sumdb/note verifier key string "<name>+<8 lower-case hex id>+<base64(0x01 ‖ pk)>":
 * parse and format (name must fit in LEDGER_NOTE_NAME_MAX - 1 bytes). The parser checks
 * the id against name and key: VT_ERR_INVALID for any mismatch or malformed part,
 * VT_ERR_UNSUPPORTED for a key type other than 0x01, VT_ERR_TOO_LARGE for a long name. */
#define LEDGER_NOTE_NAME_MAX 128
enum vt_status ledger_note_verifier_parse(const char *s, char name[LEDGER_NOTE_NAME_MAX],
                                          uint8_t pk[VT_ED25519_PK_LEN], struct vt_error *err);
enum vt_status ledger_note_verifier_format(const char *name, const uint8_t pk[VT_ED25519_PK_LEN],
                                           struct vt_buf *out, struct vt_error *err);

/* A C2SP tlog-checkpoint body: "<origin>\n<size>\n<base64 root>\n". */
struct ledger_checkpoint {
    char origin[LEDGER_NOTE_NAME_MAX]; /* NUL-terminated, non-empty */
    uint64_t size;
    uint8_t root[LEDGER_HASH_LEN];
};
/* Appends the body. VT_ERR_INVALID for an empty or unterminated origin, or one with
 * invalid UTF-8 or control characters; VT_ERR_TOO_LARGE past out's cap. */
enum vt_status ledger_checkpoint_format(const struct ledger_checkpoint *cp, struct vt_buf *out,
                                        struct vt_error *err);
/*
 * Parses the body (the signed text of a note, n bytes). VT_ERR_INVALID for an empty or
 * over-long origin, a size with leading zeros, a sign or above 2^64 − 1, a root that is
 * not the canonical base64 of 32 bytes, a missing final newline, invalid UTF-8 or control
 * characters; VT_ERR_UNSUPPORTED for extension lines after the root (vitae neither
 * writes nor accepts them: monitors cannot audit them). *cp is written only on success.
 */
enum vt_status ledger_checkpoint_parse(const char *text, size_t n, struct ledger_checkpoint *cp,
                                       struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Events, store, group commit, privacy, verification, bundles: see below.
 */

/* ---------------------------------------------------------------------------------------
 * Event envelopes (specs/ledger.md §2). Pure functions; safe from any thread.
 *
 * An event is a signed envelope: a deterministic-CBOR map with small integer keys that
 * names the learner, the event's place in the learner's chain (seq, prev), its time and
 * type, the author's Ed25519 key and two commitments to the payload, which is stored
 * apart so that it can be erased. The author signs "vitae/event/v1\n" ‖ envelope. The
 * leaf of the transparency log is the CBOR array [envelope, signature]; prev is the
 * ledger_leaf_hash of the previous leaf of the same learner, so one hash links both the
 * learner's chain and the global log.
 */

#define LEDGER_VERSION 1
#define LEDGER_LEARNER_LEN 16
#define LEDGER_SALT_LEN 32
#define LEDGER_TYPE_MAX 32     /* longest type name + NUL */
#define LEDGER_EVENT_ID_MAX 64 /* client event ids are 1..64 bytes */
#define LEDGER_DOMAIN "vitae/event/v1\n"
/* Caps on a leaf and an envelope: generous, but below the 65,535-byte C2SP entry limit. */
#define LEDGER_LEAF_MAX 1024
#define LEDGER_PAYLOAD_DEFAULT_MAX ((size_t)64 << 10)

/* A decoded envelope. Caller-allocated, no interior pointers. */
struct ledger_event {
    uint64_t version;
    uint8_t learner[LEDGER_LEARNER_LEN];
    uint64_t seq;
    bool has_prev; /* false exactly when seq == 0 */
    uint8_t prev[LEDGER_HASH_LEN];
    uint64_t time_ms;
    char type[LEDGER_TYPE_MAX];
    uint8_t author[VT_ED25519_PK_LEN];
    uint8_t payload_hash[VT_SHA256_LEN]; /* SHA-256 of the payload ciphertext */
    uint8_t commitment[VT_SHA256_LEN];   /* SHA-256(salt ‖ plaintext) */
    char origin[LEDGER_NOTE_NAME_MAX];
    size_t event_id_len; /* 0: no client event id */
    uint8_t event_id[LEDGER_EVENT_ID_MAX];
};

/* True when type is in the registry of specs/ledger.md §3. */
bool ledger_type_known(const char *type);

/*
 * Appends the deterministic-CBOR envelope of ev to out. Validates every field first:
 * VT_ERR_INVALID (bad version, prev presence not matching seq, empty or over-long origin
 * or event id), VT_ERR_UNSUPPORTED (type not in the registry); VT_ERR_TOO_LARGE from out.
 */
enum vt_status ledger_event_encode(const struct ledger_event *ev, struct vt_buf *out,
                                   struct vt_error *err);

/*
 * Decodes an envelope. Rejects non-canonical CBOR (VT_ERR_NONCANONICAL and the other
 * statuses of vt_cbor_decode), unknown or missing keys, wrong field types and lengths
 * (VT_ERR_INVALID), unknown types (VT_ERR_UNSUPPORTED) and versions (VT_ERR_UNSUPPORTED).
 * ev is unspecified on failure.
 */
enum vt_status ledger_event_decode(const uint8_t *env, size_t n, struct ledger_event *ev,
                                   struct vt_error *err);

/* Signs the domain-separated envelope with key (which must have a secret). */
void ledger_event_sign(const uint8_t *env, size_t n, const struct vt_key *key,
                       uint8_t sig[VT_ED25519_SIG_LEN]);

/* Appends the leaf [env, sig] to out (VT_ERR_TOO_LARGE from out). */
enum vt_status ledger_leaf_encode(const uint8_t *env, size_t n,
                                  const uint8_t sig[VT_ED25519_SIG_LEN], struct vt_buf *out,
                                  struct vt_error *err);

/*
 * Splits a leaf into its envelope (decoded into ev) and signature, and verifies the
 * signature against ev->author. *env_off / *env_len (either may be NULL) locate the
 * envelope inside leaf. VT_ERR_TOO_LARGE past LEDGER_LEAF_MAX, the statuses of
 * ledger_event_decode for a bad envelope, VT_ERR_VERIFY for a bad signature.
 */
VT_WARN_UNUSED enum vt_status ledger_leaf_open(const uint8_t *leaf, size_t n,
                                               struct ledger_event *ev,
                                               uint8_t sig[VT_ED25519_SIG_LEN], size_t *env_off,
                                               size_t *env_len, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * The ledger store (specs/ledger.md §4–§8).
 *
 * One directory holds an LMDB environment with the events, the Merkle log, learner heads,
 * indexes and checkpoints, a second environment (keys/) with the wrapped per-learner data
 * keys, and (unless the options pass one) the key-encryption key in the file "kek".
 *
 * Writes go through one writer thread that groups concurrent appends into one LMDB
 * transaction (group commit): it assigns seq, prev and time, encrypts payloads, signs
 * envelopes (different learners in parallel), appends the leaves to the Merkle log, signs
 * a checkpoint for the new tree size and commits with LMDB's durable defaults; only then
 * are the callers woken. A failed request never stops the others in its batch. Commits run
 * on a second thread, so the next batch is signed while the previous one is committed.
 *
 * Thread-safety: every function taking a struct ledger * may be called from any number
 * of threads at once, except ledger_close, which must be the last call. Readers never
 * block the writer. Opening the same directory twice in one process is not allowed.
 */

struct ledger;

/*
 * The seam between ordering and storage (specs/ledger.md §6.1). The writer hands every
 * batch of prepared, signed leaves to the sequencer's submit, in the order it will apply
 * them, and writes the batch to LMDB only after submit returned VT_OK: the sequencer must
 * have put them in one total order and made that order durable (or replicated) by then.
 * A failed submit fails every request of the batch with its status and error, and nothing
 * of the batch is written. The local sequencer keeps the writer's order and relies on the
 * LMDB commit that follows for durability; a replicated log can take its place.
 * submit runs on a ledger thread, never two calls at once, in batch order; leaves and lens
 * are borrowed for the call. batch is a counter starting at 0 for each open.
 */
struct ledger_sequencer {
    enum vt_status (*submit)(void *ctx, uint64_t batch, const uint8_t *const *leaves,
                             const size_t *lens, size_t n, struct vt_error *err);
    void *ctx;
};

struct ledger_options {
    size_t batch_max;         /* N: most events per transaction (default 1024) */
    unsigned batch_ms;        /* T: how long a batch waits to fill (default 1 ms) */
    size_t payload_max;       /* payload cap in bytes (default 64 KiB, at most 16 MiB) */
    size_t map_size;          /* initial LMDB map size (default 256 MiB); grows by doubling */
    const char *origin;       /* checkpoint origin (default "vitae.local/ledger") */
    const struct vt_key *key; /* required: the service signing key (copied) */
    const uint8_t *kek;       /* 32-byte key-encryption key; NULL: the file <dir>/kek */
    unsigned sign_threads;    /* threads that sign a batch (default 2, at most 8) */
    size_t bundle_max;        /* largest twin bundle exported or imported (default 64 MiB) */
    const struct ledger_sequencer *sequencer; /* NULL: the local sequencer (copied) */
};

/* Fills o with the defaults above (key and kek NULL). */
void ledger_options_init(struct ledger_options *o);

/*
 * Opens (creating when absent, mode 0700) the ledger in dir and starts its writer.
 * The first open records the origin and service public key; a later open with another
 * origin or key fails with VT_ERR_CONFLICT, with a KEK that does not unwrap the data keys
 * with VT_ERR_VERIFY. VT_ERR_INVALID for bad options, VT_ERR_IO / VT_ERR_PERMISSION /
 * VT_ERR_FULL for the file system. On success *out is a handle for ledger_close.
 */
enum vt_status ledger_open(const char *dir, const struct ledger_options *opt, struct ledger **out,
                           struct vt_error *err);

/* Finishes pending appends, stops the writer, wipes keys and frees l. NULL-safe. */
void ledger_close(struct ledger *l);

/*
 * One append. The pointers are borrowed until ledger_append(_batch) returns.
 * Normal events: learner, type, payload (may be empty) and optionally a client event id;
 * the service key signs. Pre-signed events (signed_event set, e.g. from an import): the
 * leaf bytes as signed by their author, plus the plaintext payload and its salt when known
 * (checked against the envelope's commitment); type is then ignored and the envelope's
 * seq and prev must extend the learner's chain. A batch mixing pre-signed and normal
 * requests is refused.
 */
struct ledger_append_req {
    uint8_t learner[LEDGER_LEARNER_LEN];
    const char *type;
    const uint8_t *payload;
    size_t payload_len;
    const uint8_t *event_id; /* NULL or 1..LEDGER_EVENT_ID_MAX bytes */
    size_t event_id_len;
    const uint8_t *signed_event; /* NULL for a normal append */
    size_t signed_event_len;
    const uint8_t *salt; /* LEDGER_SALT_LEN bytes with a pre-signed payload */
};

/* The outcome of one request. duplicate: the event id was seen before, and the fields
 * describe the event committed then. */
struct ledger_append_result {
    enum vt_status status;
    struct vt_error error; /* the reason when status != VT_OK */
    uint64_t index;        /* position in the global log */
    uint64_t seq;
    uint8_t leaf_hash[LEDGER_HASH_LEN];
    bool duplicate;
};

/*
 * Appends one event and blocks until it is durable. Returns the request's status:
 * VT_ERR_INVALID (bad learner/type/event id/leaf), VT_ERR_UNSUPPORTED (unknown type),
 * VT_ERR_TOO_LARGE (payload over the cap), VT_ERR_CONFLICT (event id reused for another
 * learner or type, learner erased, or for pre-signed events a seq/prev that does not
 * extend the chain; a validly signed event at an existing seq is kept as fork evidence),
 * VT_ERR_VERIFY (bad signature or commitment), VT_ERR_IO/VT_ERR_FULL (storage),
 * VT_ERR_BUSY (the ledger is closing). res (may be NULL) receives the outcome.
 */
enum vt_status ledger_append(struct ledger *l, const struct ledger_append_req *req,
                             struct ledger_append_result *res, struct vt_error *err);

/*
 * Appends n (1..65536) requests, in order, and blocks until all are settled. Each res[i]
 * holds its own outcome. Returns VT_OK when every request succeeded, otherwise the
 * status of the first failed request (its message in err).
 */
enum vt_status ledger_append_batch(struct ledger *l, const struct ledger_append_req *reqs, size_t n,
                                   struct ledger_append_result *res, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Reads. Each runs in its own short LMDB read transaction and sees one committed state.
 */

/* Number of events committed (the tree size of the newest checkpoint). */
uint64_t ledger_size(struct ledger *l);

/* Appends the leaf (signed event) at index to out. VT_ERR_NOT_FOUND past the end. */
enum vt_status ledger_event_read(struct ledger *l, uint64_t index, struct vt_buf *out,
                                 struct vt_error *err);

/* The global index of a learner's event seq. VT_ERR_NOT_FOUND when absent. */
enum vt_status ledger_event_index(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                                  uint64_t seq, uint64_t *index, struct vt_error *err);

/* The head of a learner's chain: its newest seq, index and leaf hash (any may be NULL).
 * VT_ERR_NOT_FOUND for a learner without events. */
enum vt_status ledger_head(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                           uint64_t *seq, uint64_t *index, uint8_t leaf_hash[LEDGER_HASH_LEN],
                           struct vt_error *err);

/* The committed event with this client event id (res->duplicate is set).
 * VT_ERR_NOT_FOUND when the id was never committed. */
enum vt_status ledger_id_lookup(struct ledger *l, const uint8_t *id, size_t len,
                                struct ledger_append_result *res, struct vt_error *err);

/* Appends the decrypted payload of event index to out. VT_ERR_NOT_FOUND when the event
 * does not exist or its payload was erased, VT_ERR_VERIFY if it fails to decrypt or to
 * match the envelope's commitments. */
enum vt_status ledger_payload_read(struct ledger *l, uint64_t index, struct vt_buf *out,
                                   struct vt_error *err);

/*
 * ledger_payload_read for readers inside this process that read committed events, such as
 * the twin's projection: the same result and statuses, except that the event's signature
 * is not checked again (about 55 µs a read, most of its cost). Everything in the store was
 * signed or verified by the writer before it was committed, and the store is trusted after
 * ledger_open; ledger_check and ledger_verify_learner are what re-verify it. The payload is
 * still authenticated: its data key must unwrap, its record decrypt (AEAD, bound to the
 * learner and seq) and its plaintext match the commitment in the envelope. Not for data
 * that came from outside the store, and not a substitute for verification.
 */
enum vt_status ledger_payload_read_trusted(struct ledger *l, uint64_t index, struct vt_buf *out,
                                           struct vt_error *err);

/* The newest signed checkpoint: the note text to note_out (may be NULL), parsed to cp
 * (may be NULL). VT_ERR_NOT_FOUND while the log is empty. */
enum vt_status ledger_checkpoint_latest(struct ledger *l, struct vt_buf *note_out,
                                        struct ledger_checkpoint *cp, struct vt_error *err);

/* The service's public key and checkpoint origin (borrowed; live as long as l). */
const uint8_t *ledger_public_key(const struct ledger *l);
const char *ledger_origin(const struct ledger *l);

/* Inclusion proof of leaf index in the tree of `size` leaves (0: the newest checkpoint);
 * proof holds LEDGER_PROOF_MAX hashes. VT_ERR_NOT_FOUND for index ≥ size or size beyond
 * the log. */
enum vt_status ledger_inclusion_proof(struct ledger *l, uint64_t index, uint64_t size,
                                      uint8_t (*proof)[LEDGER_HASH_LEN], size_t *proof_len,
                                      struct vt_error *err);

/* Consistency proof between two tree sizes (new_size 0: the newest checkpoint). */
enum vt_status ledger_consistency_proof(struct ledger *l, uint64_t old_size, uint64_t new_size,
                                        uint8_t (*proof)[LEDGER_HASH_LEN], size_t *proof_len,
                                        struct vt_error *err);

/* C2SP tile (level, n, width as in ledger_tile_read) at the newest checkpoint's size. */
enum vt_status ledger_tile(struct ledger *l, unsigned level, uint64_t n, unsigned width,
                           struct vt_buf *out, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Privacy (specs/ledger.md §7)
 */

/*
 * Destroys the learner's data key (durably, before anything else) and appends an
 * "erasure" event; res receives that event. Afterwards the learner's payloads cannot be
 * read, chains and proofs still verify, and appends for the learner fail with
 * VT_ERR_CONFLICT. Erasing an erased learner appends nothing and returns VT_ERR_CONFLICT;
 * VT_ERR_NOT_FOUND for a learner without events.
 */
enum vt_status ledger_erase(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                            struct ledger_append_result *res, struct vt_error *err);

/*
 * Re-wraps every live data key under new_kek (32 bytes), in one transaction. With
 * new_kek NULL a random KEK is made and written to <dir>/kek (only for ledgers whose KEK
 * lives in that file; VT_ERR_INVALID otherwise). Crash-safe: the old or the new KEK opens
 * the ledger afterwards, never neither.
 */
enum vt_status ledger_kek_rotate(struct ledger *l, const uint8_t *new_kek, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Verification (specs/ledger.md §8)
 */

struct ledger_chain_report {
    uint64_t events;           /* events checked */
    uint64_t payloads_checked; /* payloads decrypted and matched against the commitment */
    uint64_t payloads_erased;  /* payloads whose data key is destroyed */
    uint64_t checkpoint_size;  /* size of the checkpoint the head was proven under */
};

/*
 * Verifies one learner's chain: every signature, seq 0.. without gaps, each prev equal to
 * the leaf hash of the event before, the ciphertext hashes and (where the data key still
 * exists) the plaintext commitments, that every author other than the service key has a
 * provenance record, and the head's inclusion under the newest checkpoint, whose signature
 * is checked. Signatures and payloads are checked on two threads. VT_ERR_NOT_FOUND for an
 * unknown learner, VT_ERR_VERIFY / VT_ERR_CONFLICT naming the first bad event in chain
 * order otherwise. rep may be NULL.
 */
VT_WARN_UNUSED enum vt_status ledger_verify_learner(struct ledger *l,
                                                    const uint8_t learner[LEDGER_LEARNER_LEN],
                                                    struct ledger_chain_report *rep,
                                                    struct vt_error *err);

/* Fork evidence: the refused second event for (learner, seq), appended to out.
 * VT_ERR_NOT_FOUND when none was recorded. */
enum vt_status ledger_fork_read(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                                uint64_t seq, struct vt_buf *out, struct vt_error *err);

struct ledger_check_report {
    uint64_t events;
    uint64_t learners;
    uint64_t stored_hashes;
    uint64_t checkpoints;
    uint64_t forks;
};

/*
 * The offline check behind `vitaed --check`: re-reads the whole store in one read
 * transaction and verifies every leaf's signature and chain link, every stored Merkle
 * hash against the leaves, the root against the newest checkpoint and its signature, that
 * the heads, learner/seq and event-id indexes agree with the events, and that every author
 * other than the service key has a provenance record. Signatures are checked on two
 * threads. VT_ERR_VERIFY or VT_ERR_CONFLICT with the first inconsistency in log order.
 * rep may be NULL.
 */
VT_WARN_UNUSED enum vt_status ledger_check(struct ledger *l, struct ledger_check_report *rep,
                                           struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Portable twin bundles (specs/ledger.md §10)
 *
 * One deterministic-CBOR file with a learner's whole chain, its payloads (plaintext, or
 * sealed to a recipient's X25519 key), the exporting log's newest checkpoint, the
 * inclusion proof of the learner's head under it, and the log's public key.
 */

#define LEDGER_BUNDLE_DEFAULT_MAX ((size_t)64 << 20)
#define LEDGER_BUNDLE_EVENTS_MAX 65536
#define LEDGER_BUNDLE_FORMAT "vitae/bundle/v1"

/*
 * Appends the bundle of learner's chain to out. recipient_x25519 (32 bytes, e.g. the
 * X25519 key of the learner's or the receiving institution's did:key, see vt_key_x25519)
 * seals every payload to that key; NULL writes them in the clear.
 * VT_ERR_NOT_FOUND for a learner without events, VT_ERR_CONFLICT for an erased learner,
 * VT_ERR_INVALID for a recipient key of low order, VT_ERR_TOO_LARGE past out's cap, the
 * bundle cap or LEDGER_BUNDLE_EVENTS_MAX events, VT_ERR_VERIFY when a stored payload fails
 * its checks. out is unchanged on failure. Runs in one read transaction.
 */
enum vt_status ledger_bundle_export(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                                    const uint8_t *recipient_x25519, struct vt_buf *out,
                                    struct vt_error *err);

struct ledger_bundle_result {
    uint8_t learner[LEDGER_LEARNER_LEN];
    char origin[LEDGER_NOTE_NAME_MAX];      /* the exporting log */
    uint8_t service_key[VT_ED25519_PK_LEN]; /* its checkpoint key, as the bundle states it */
    uint64_t checkpoint_size;
    uint64_t events;   /* events in the bundle */
    uint64_t imported; /* of those, appended now */
    uint64_t present;  /* of those, already here (identical) */
    uint64_t payloads; /* payloads stored with the appended events */
    uint64_t head_seq;
    uint8_t head_leaf[LEDGER_HASH_LEN];
};

/*
 * Verifies a bundle completely and then appends the learner's events that this ledger
 * does not hold yet, in one batch, each with a provenance record (the bundle's origin,
 * service key and checkpoint). Checked before anything is written: the size cap, the
 * canonical CBOR layout, the checkpoint's signature under the bundle's service key, every
 * event's signature, learner, seq (0, 1, ... in order) and prev link, every payload
 * against its commitment (after opening it with recipient_x25519_sk, 32 bytes, when the
 * bundle is sealed), the head's inclusion proof under the checkpoint, and that the events
 * this ledger already holds for the learner are the bundle's own.
 *
 * Whether the bundle's service key deserves trust is the caller's decision: res names it.
 * Importing the same bundle again appends nothing and returns VT_OK (res->present counts
 * the events); a bundle that extends an earlier import appends only the new events.
 *
 * VT_ERR_TOO_LARGE (over the bundle cap, the event cap or the payload cap), the CBOR
 * statuses (VT_ERR_TRUNCATED, VT_ERR_NONCANONICAL, VT_ERR_INVALID, ...) for a malformed
 * bundle, VT_ERR_INVALID for a sealed bundle without a recipient key, VT_ERR_UNSUPPORTED
 * for another format or an erasure event, VT_ERR_VERIFY for a bad signature, link,
 * commitment, sealed payload or proof, VT_ERR_CONFLICT for a fork against this ledger's
 * chain of the learner (or an erased learner); err names the event. res may be NULL; it
 * is filled on success. A concurrent append to the same learner can make the writer refuse
 * part of the batch (VT_ERR_CONFLICT); importing again finishes it.
 */
VT_WARN_UNUSED enum vt_status ledger_bundle_import(struct ledger *l, const uint8_t *bundle,
                                                   size_t n, const uint8_t *recipient_x25519_sk,
                                                   struct ledger_bundle_result *res,
                                                   struct vt_error *err);

/* Where an event written here from elsewhere came from. */
struct ledger_provenance {
    char origin[LEDGER_NOTE_NAME_MAX];      /* the log that vouched for the event */
    uint8_t service_key[VT_ED25519_PK_LEN]; /* that log's key (the author for direct imports) */
    bool has_checkpoint;                    /* false for a pre-signed append outside a bundle */
    uint8_t checkpoint_hash[VT_SHA256_LEN]; /* SHA-256 of the signed checkpoint note */
    uint64_t checkpoint_size;
};

/*
 * The provenance of learner's event seq; the signed checkpoint note is appended to
 * note_out (may be NULL) when there is one. VT_ERR_NOT_FOUND for an event written by this
 * ledger itself (or no such event).
 */
enum vt_status ledger_provenance_read(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                                      uint64_t seq, struct ledger_provenance *prov,
                                      struct vt_buf *note_out, struct vt_error *err);

#endif
