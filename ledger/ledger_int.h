/*
 * ledger internals shared between ledger's own files; never included outside ledger/.
 * On-disk layouts are specified in specs/ledger.md; the section is named at each item.
 */
#ifndef VITAE_LEDGER_INT_H
#define VITAE_LEDGER_INT_H

#include "ledger/ledger.h"

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>

/* Envelope map keys (specs/ledger.md §2.1). */
enum {
    LEDGER_K_VERSION = 1,
    LEDGER_K_LEARNER = 2,
    LEDGER_K_SEQ = 3,
    LEDGER_K_PREV = 4,
    LEDGER_K_TIME = 5,
    LEDGER_K_TYPE = 6,
    LEDGER_K_AUTHOR = 7,
    LEDGER_K_PAYLOAD_HASH = 8,
    LEDGER_K_COMMITMENT = 9,
    LEDGER_K_ORIGIN = 10,
    LEDGER_K_EVENT_ID = 11,
};

/* The longest envelope: every field present and at its longest (specs/ledger.md §2.1). */
#define LEDGER_ENVELOPE_MAX 448

/* ledger_event_encode into a caller's array: validates ev, writes the envelope to out and
 * its length to *len. The same statuses, except that nothing can be too large. */
enum vt_status ledger_envelope_put(const struct ledger_event *ev, uint8_t out[LEDGER_ENVELOPE_MAX],
                                   size_t *len, struct vt_error *err);

/* Locates envelope and signature in a leaf after checking its canonical CBOR shape. */
enum vt_status ledger_leaf_split(const uint8_t *leaf, size_t n, size_t *env_off, size_t *env_len,
                                 const uint8_t **sig, struct vt_error *err);

/* True when sig is the author's signature of "vitae/event/v1\n" ‖ env. */
bool ledger_event_signature_ok(const uint8_t *env, size_t n, const uint8_t pk[VT_ED25519_PK_LEN],
                               const uint8_t sig[VT_ED25519_SIG_LEN]);

/* Payload records (specs/ledger.md §5.3). */
#define LEDGER_NONCE_LEN 24
#define LEDGER_TAG_LEN 16
#define LEDGER_DEK_LEN 32
#define LEDGER_KEK_LEN 32
enum {
    LEDGER_PAYLOAD_NATIVE = 1,   /* the envelope's payload hash covers this ciphertext */
    LEDGER_PAYLOAD_IMPORTED = 2, /* re-encrypted here; only the commitment binds it */
    LEDGER_PAYLOAD_ABSENT = 3,   /* imported without its payload: the record is this byte */
};

/* Provenance of pre-signed events (specs/ledger.md §10.4): value of the `provenance`
 * database = 01 ‖ service key (32) ‖ note hash (32, zeros: none) ‖ origin (1..127). */
#define LEDGER_PROV_FIXED (1 + VT_ED25519_PK_LEN + VT_SHA256_LEN)
struct ledger_prov {
    const char *origin;
    const uint8_t *key;
    const uint8_t *note; /* the signed checkpoint note, or NULL */
    size_t note_len;
    uint8_t note_hash[VT_SHA256_LEN];
};

/* Checkpoint notes up to this size are remembered once verified (struct ledger). A note
 * is about 250 bytes: origin, size and root, and one signature line. */
#define LEDGER_CP_CACHE_MAX 512

/* Heads value: be64 seq ‖ be64 index ‖ leaf hash (specs/ledger.md §5.2). */
#define LEDGER_HEAD_LEN (8 + 8 + LEDGER_HASH_LEN)

/* One queued call into the writer. Lives on the caller's stack until done. */
enum ledger_job_kind {
    LEDGER_JOB_APPEND,
    LEDGER_JOB_ERASE,
    LEDGER_JOB_ROTATE,
};

struct ledger_job {
    enum ledger_job_kind kind;
    const struct ledger_append_req *reqs;
    size_t n;
    struct ledger_append_result *res;
    bool presigned;
    const struct ledger_prov *prov;      /* pre-signed: where the events came from, or NULL */
    bool preverified;                    /* pre-signed leaves whose signatures were checked */
    uint8_t learner[LEDGER_LEARNER_LEN]; /* erase */
    const uint8_t *new_kek;              /* rotate */
    enum vt_status status;               /* job-level failure (erase, rotate, shutdown) */
    struct vt_error error;
    bool done;
    pthread_cond_t cv;
    struct ledger_job *next;
};

/* Writer-private cache of unwrapped data keys (specs/ledger.md §7). */
struct ledger_dek_entry {
    uint8_t learner[LEDGER_LEARNER_LEN];
    uint8_t key[LEDGER_DEK_LEN];
    uint8_t state; /* 0 empty, 1 live, 2 erased */
};

struct ledger_dek_cache {
    struct ledger_dek_entry *slots;
    size_t cap; /* power of two */
    size_t used;
};

struct batch;          /* a batch of the writer (writer.c) */
struct ledger_signers; /* the pool that signs a batch's learner groups in parallel */

struct ledger {
    char *dir;
    MDB_env *env;
    MDB_dbi db_events, db_hashes, db_heads, db_lseq, db_payloads, db_ids, db_checkpoints, db_meta,
        db_forks, db_prov, db_provnotes;
    MDB_env *kenv;
    MDB_dbi db_deks, db_kmeta;
    size_t map_size, kmap_size;

    /* Readers hold it shared for the life of their transaction; growing the map needs
     * it exclusive because LMDB requires that no transaction be active then. */
    pthread_rwlock_t txn_lock;
    pthread_rwlock_t kek_lock;
    uint8_t kek[LEDGER_KEK_LEN];
    bool kek_in_file;
    bool keys_compact; /* a data key was destroyed or re-wrapped: compact at close */

    struct vt_key key;
    char origin[LEDGER_NOTE_NAME_MAX];
    size_t batch_max;
    unsigned batch_ms;
    size_t payload_max;
    unsigned sign_threads;
    size_t bundle_max;

    pthread_mutex_t mu;
    pthread_cond_t cv_work;
    struct ledger_job *q_head, *q_tail;
    size_t q_events;
    bool closing;
    bool writer_started;
    pthread_t writer;

    /* The pipeline (writer.c): the batch being committed and the committer thread. */
    pthread_mutex_t cmu;
    pthread_cond_t cv_commit;
    struct batch *inflight; /* set and cleared by the writer thread only */
    bool commit_busy, commit_stop;
    bool pipeline_init, committer_started;
    pthread_t committer;

    /* The newest checkpoint note readers have verified, with its parsed body: a note read
     * from the store that equals it byte for byte needs no second signature check. */
    pthread_mutex_t cp_mu;
    uint8_t cp_note[LEDGER_CP_CACHE_MAX];
    size_t cp_note_len; /* 0: nothing cached */
    struct ledger_checkpoint cp_body;

    _Atomic uint64_t size;        /* leaves committed */
    uint64_t last_time;           /* writer only */
    struct ledger_dek_cache deks; /* writer only */
    struct ledger_signers *signers;
    struct ledger_sequencer sequencer; /* submit NULL: local */
    uint64_t seq_batches;              /* batches handed to the sequencer */
};

/* store.c: LMDB status translation, transactions, the stored-hash reader. */
enum vt_status ledger_mdb_error(int rc, struct vt_error *err, const char *what);
enum vt_status ledger_read_begin(struct ledger *l, MDB_txn **txn, struct vt_error *err);
void ledger_read_end(struct ledger *l, MDB_txn *txn);
enum vt_status ledger_grow_map(struct ledger *l, MDB_env *env, size_t *size, struct vt_error *err);

struct ledger_txn_reader {
    struct ledger_hash_reader r;
    MDB_txn *txn;
    MDB_dbi dbi;
};
void ledger_txn_reader_init(struct ledger_txn_reader *tr, MDB_txn *txn, MDB_dbi dbi);

enum vt_status ledger_get_leaf(struct ledger *l, MDB_txn *txn, uint64_t index, MDB_val *leaf,
                               struct vt_error *err);
/* The newest checkpoint in txn: its note appended to note_out and its body parsed into cp
 * (either may be NULL). With reverify the signature is checked whatever was seen before
 * (the verification paths); without, a note equal to the last one verified is taken as
 * verified (the read paths). */
enum vt_status ledger_latest_checkpoint_txn(struct ledger *l, MDB_txn *txn, bool reverify,
                                            struct vt_buf *note_out, struct ledger_checkpoint *cp,
                                            struct vt_error *err);
/* Records note (with its body cp) as verified: by a reader that checked its signature, or
 * by the writer that made it. A note that never reaches the store is never matched. */
void ledger_checkpoint_remember(struct ledger *l, const MDB_val *note,
                                const struct ledger_checkpoint *cp);

/* verify.c: true when ev's author is the service key or the event has a provenance
 * record (its author then is another log's key, specs/ledger.md §10.4). */
enum vt_status ledger_author_check(struct ledger *l, MDB_txn *txn, const struct ledger_event *ev,
                                   uint64_t index, struct vt_error *err);

/* keys.c: KEK, data keys, payload encryption. */
enum vt_status ledger_keys_open(struct ledger *l, const uint8_t *kek, struct vt_error *err);
void ledger_keys_close(struct ledger *l);
/*
 * Data keys on the writer's side. The writer looks a learner's key up in its cache
 * (ledger_dek_cached), then in the keys environment (ledger_dek_lookup, which caches what
 * it finds). A new key is made and wrapped in memory (ledger_dek_new) and stored with the
 * others of its batch in one durable keys transaction (ledger_dek_store) by the committer,
 * before the batch's own commit: a payload is never committed under a key that is not
 * durable. It is cached (ledger_dek_cache_put) only after that. *erased: destroyed key.
 */
#define LEDGER_DEK_RECORD_LEN (1 + LEDGER_NONCE_LEN + LEDGER_DEK_LEN + LEDGER_TAG_LEN)
#define LEDGER_DEK_RANDOM_LEN (LEDGER_DEK_LEN + LEDGER_NONCE_LEN)
struct ledger_dek_record {
    uint8_t learner[LEDGER_LEARNER_LEN];
    uint8_t rec[LEDGER_DEK_RECORD_LEN]; /* the key wrapped under the KEK */
};
bool ledger_dek_cached(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                       uint8_t dek[LEDGER_DEK_LEN], bool *erased);
enum vt_status ledger_dek_lookup(struct ledger *l, MDB_txn *ktxn,
                                 const uint8_t learner[LEDGER_LEARNER_LEN],
                                 uint8_t dek[LEDGER_DEK_LEN], bool *erased, bool *found,
                                 struct vt_error *err);
/* ledger_dek_cached, then ledger_dek_lookup. */
enum vt_status ledger_dek_get(struct ledger *l, MDB_txn *ktxn,
                              const uint8_t learner[LEDGER_LEARNER_LEN],
                              uint8_t dek[LEDGER_DEK_LEN], bool *erased, bool *found,
                              struct vt_error *err);
/* A new key from fresh (LEDGER_DEK_RANDOM_LEN random bytes: the key, then the wrapping
 * nonce) for r->learner, wrapped into r->rec. */
void ledger_dek_new(struct ledger *l, const uint8_t *fresh, struct ledger_dek_record *r,
                    uint8_t dek[LEDGER_DEK_LEN]);
enum vt_status ledger_dek_store(struct ledger *l, const struct ledger_dek_record *recs, size_t n,
                                struct vt_error *err);
void ledger_dek_cache_put(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                          const uint8_t dek[LEDGER_DEK_LEN]);
/* Reader-side lookup (no cache, own transaction). */
enum vt_status ledger_dek_read(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                               uint8_t dek[LEDGER_DEK_LEN], bool *erased, struct vt_error *err);
enum vt_status ledger_dek_destroy(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                                  struct vt_error *err);
enum vt_status ledger_kek_rotate_writer(struct ledger *l, const uint8_t *new_kek,
                                        struct vt_error *err);
void ledger_dek_cache_free(struct ledger_dek_cache *c);

/* record = flag ‖ nonce ‖ AEAD(salt ‖ plaintext), AD = learner ‖ be64 seq. nonce: 24 fresh
 * random bytes, or NULL to draw them here. */
enum vt_status ledger_payload_seal(const uint8_t dek[LEDGER_DEK_LEN], uint8_t flag,
                                   const uint8_t learner[LEDGER_LEARNER_LEN], uint64_t seq,
                                   const uint8_t salt[LEDGER_SALT_LEN], const uint8_t *pt, size_t n,
                                   const uint8_t *nonce, struct vt_buf *record,
                                   struct vt_error *err);
/* Appends salt ‖ plaintext to out (wipe it after use). */
enum vt_status ledger_payload_open(const uint8_t dek[LEDGER_DEK_LEN],
                                   const uint8_t learner[LEDGER_LEARNER_LEN], uint64_t seq,
                                   const uint8_t *record, size_t n, struct vt_buf *out,
                                   struct vt_error *err);
/* SHA-256(salt ‖ plaintext). */
void ledger_commitment(const uint8_t salt[LEDGER_SALT_LEN], const uint8_t *pt, size_t n,
                       uint8_t out[VT_SHA256_LEN]);

/* writer.c */
enum vt_status ledger_writer_start(struct ledger *l, struct vt_error *err);
void ledger_writer_stop(struct ledger *l);
enum vt_status ledger_submit(struct ledger *l, struct ledger_job *job);

/* signers.c */
struct ledger_signers *ledger_signers_new(unsigned threads);
void ledger_signers_free(struct ledger_signers *s);
/* Runs fn(arg, part) for part = 0..parts-1, part 0 on the calling thread. */
void ledger_signers_run(struct ledger_signers *s, unsigned parts, void (*fn)(void *, unsigned),
                        void *arg);

static inline void ledger_head_pack(uint8_t out[LEDGER_HEAD_LEN], uint64_t seq, uint64_t index,
                                    const uint8_t leaf[LEDGER_HASH_LEN])
{
    vt_be64_put(out, seq);
    vt_be64_put(out + 8, index);
    for (size_t i = 0; i < LEDGER_HASH_LEN; i++)
        out[16 + i] = leaf[i];
}

#endif
