/*
 * credential: verifiable credentials for learning records.
 *
 * W3C VC Data Model 2.0 documents (Open Badges 3.0 OpenBadgeCredential/AchievementCredential,
 * CLR 2.0 ClrCredential, EndorsementCredential, BitstringStatusListCredential,
 * VerifiablePresentation), secured by any of: Data Integrity eddsa-jcs-2022 (a document may
 * carry a proof set), compact JWS (application/vc+jwt, or the Open Badges VC-JWT shape with a
 * "vc" claim) and COSE_Sign1 (application/vc+cose). Verification answers in the VC-API shape
 * {"verified","checks","warnings","errors"}.
 *
 * Profile, byte layouts and every check: specs/credential.md.
 *
 * Invariants:
 *   - Every input from outside is capped before it is parsed: document size CRED_DOC_MAX,
 *     JSON depth VT_JSON_MAX_DEPTH, proofs per document CRED_PROOFS_MAX, credentials per
 *     presentation CRED_VP_CREDENTIALS_MAX, endorsement nesting CRED_ENDORSEMENT_DEPTH_MAX.
 *   - A document that fails to verify is a result with reasons (verified == false), never a
 *     status code alone and never an abort.
 *   - Verification knows nothing of the ledger: issuer key history and status lists reach it
 *     through the lookup callbacks in struct cred_verify_options. Only the issuer
 *     (struct cred_issuer) writes to and replays from a ledger, and it provides those
 *     callbacks for its own keys and lists.
 *
 * Thread-safety: no global mutable state. Keys, trust stores and results are not locked:
 * build a trust store on one thread, then share it read-only among concurrent verifiers.
 * Status list caches and issuers lock themselves and may be shared.
 * vt_core_init() must have been called.
 */
#ifndef VITAE_CREDENTIAL_H
#define VITAE_CREDENTIAL_H

#include "core/core.h"
#include "ledger/ledger.h"

/* Largest credential or presentation accepted, in bytes of its serialized form. */
#define CRED_DOC_MAX ((size_t)1 << 20)
/* Proofs in one proof set. */
#define CRED_PROOFS_MAX 8
/* Credentials inside one presentation. */
#define CRED_VP_CREDENTIALS_MAX 64
/* Endorsements nested inside endorsements; deeper ones are an error. */
#define CRED_ENDORSEMENT_DEPTH_MAX 8
/* Endorsements checked per document (all levels together). */
#define CRED_ENDORSEMENTS_MAX 64

#define CRED_CONTEXT_V2 "https://www.w3.org/ns/credentials/v2"
#define CRED_CONTEXT_OB "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
#define CRED_CONTEXT_CLR "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"

/* ---------------------------------------------------------------------------------------
 * Keys: Ed25519 (Multikey or OKP JWK), ECDSA P-256 (EC JWK) and RSA (RSA JWK).
 */

enum cred_key_type {
    CRED_KEY_ED25519,
    CRED_KEY_P256,
    CRED_KEY_RSA,
};

/* JOSE/COSE signature algorithms. */
enum cred_alg {
    CRED_ALG_EDDSA, /* Ed25519; JOSE "EdDSA", COSE -8 */
    CRED_ALG_ES256, /* ECDSA P-256 SHA-256; JOSE "ES256", COSE -7 */
    CRED_ALG_RS256, /* RSASSA-PKCS1-v1_5 SHA-256; JOSE "RS256", COSE -257 */
};

/* A public key or key pair. Opaque handle; _free wipes any secret. */
struct cred_key;

/* "EdDSA", "ES256", "RS256". */
const char *cred_alg_name(enum cred_alg alg);
/* Parses a JOSE algorithm name (case-sensitive). VT_ERR_UNSUPPORTED for "none" and others. */
enum vt_status cred_alg_parse(const char *name, enum cred_alg *out, struct vt_error *err);
/* The algorithm a key signs with. */
enum cred_alg cred_key_alg(const struct cred_key *key);

/* Wraps an Ed25519 vt_key (copied; the caller keeps ownership of its own). */
struct cred_key *cred_key_from_vt(const struct vt_key *key);
/* A fresh random key of the given type (RSA keys are 2048 bits). */
enum vt_status cred_key_generate(enum cred_key_type type, struct cred_key **out,
                                 struct vt_error *err);
/*
 * Reads a key from a parsed key file: Multikey JSON (publicKeyMultibase and optionally
 * secretKeyMultibase or the older privateKeyMultibase) or a JWK (kty OKP/Ed25519, EC/P-256,
 * RSA; with "d" and, for RSA, the CRT members when it holds a secret). A JWK "kid" and a
 * Multikey "id" are kept as the key's verification method (cred_key_id).
 * VT_ERR_INVALID for malformed keys, VT_ERR_UNSUPPORTED for other key types or curves.
 */
enum vt_status cred_key_parse(const json_t *doc, struct cred_key **out, struct vt_error *err);
/* cred_key_parse on a file ("-" is standard input); VT_ERR_NOT_FOUND if absent. */
enum vt_status cred_key_read(const char *path, struct cred_key **out, struct vt_error *err);
/* Adds a reference; the key is freed when the last reference is released. */
struct cred_key *cred_key_ref(struct cred_key *key);
/* Drops a reference, wiping secrets with the last one. NULL-safe. */
void cred_key_free(struct cred_key *key);

enum cred_key_type cred_key_type(const struct cred_key *key);
bool cred_key_has_secret(const struct cred_key *key);
/* The verification method id given in the key file, or NULL. Borrowed, lives as the key. */
const char *cred_key_id(const struct cred_key *key);
/*
 * The verification method to name in proofs made with key: cred_key_id when set, else the
 * did:key method "did:key:<mb>#<mb>" for Ed25519 keys, else NULL. Borrowed, lives as key.
 */
const char *cred_key_default_vm(const struct cred_key *key);
/* The public JWK of key ({"kty",...}); a new reference. */
json_t *cred_key_public_jwk(const struct cred_key *key);
/* True when both keys hold the same public key. */
bool cred_key_equal(const struct cred_key *a, const struct cred_key *b);

/* ---------------------------------------------------------------------------------------
 * Verification results (VC-API shape)
 */

/*
 * Error and warning types. Their "type" strings are URLs (specs/credential.md §6):
 * the W3C Data Integrity and VC Data Model codes where those exist, else vitae's own.
 */
enum cred_problem {
    CRED_P_PARSING,            /* not JSON / JWT / COSE, duplicates, caps exceeded */
    CRED_P_MALFORMED,          /* a member missing, of the wrong type or value */
    CRED_P_CONTEXT,            /* @context rules */
    CRED_P_PROOF_VERIFICATION, /* signature or proof structure does not verify */
    CRED_P_PROOF_MISSING,      /* not secured at all */
    CRED_P_UNSUPPORTED_SUITE,  /* a cryptosuite or algorithm we do not implement */
    CRED_P_KEY_RESOLUTION,     /* the verification method cannot be resolved */
    CRED_P_KEY_VALIDITY,       /* the key was not valid at signing time */
    CRED_P_PURPOSE,            /* proofPurpose not the one expected */
    CRED_P_CHALLENGE,          /* presentation challenge mismatch */
    CRED_P_DOMAIN,             /* presentation domain mismatch */
    CRED_P_NOT_YET_VALID,      /* validFrom in the future */
    CRED_P_EXPIRED,            /* validUntil in the past */
    CRED_P_STATUS_REVOKED,     /* status list says revoked */
    CRED_P_STATUS_SUSPENDED,   /* status list says suspended */
    CRED_P_STATUS,             /* status could not be checked (retrieval, range, length) */
    CRED_P_OPENBADGES,         /* Open Badges / CLR shape and required fields */
    CRED_P_ENDORSEMENT,        /* an endorsement did not verify */
    CRED_P_HOLDER,             /* presentation holder is not the credentials' subject */
    CRED_P_FRESHNESS,          /* presentation proof too old or in the future */
};

/* The URL used as the "type" of a problem. Never NULL. */
const char *cred_problem_type(enum cred_problem p);

/* Outcome of one verification: checks performed, warnings, errors. Opaque handle. */
struct cred_result;

struct cred_result *cred_result_new(void);
void cred_result_free(struct cred_result *r);
/* True when the document verified: at least one check ran and no error was recorded. */
bool cred_result_verified(const struct cred_result *r);
/* Records that a check ran (names are listed once, in first-run order). */
void cred_result_check(struct cred_result *r, const char *name);
/* Records an error or a warning; title is short, detail precise (printf-style). */
void cred_result_error(struct cred_result *r, enum cred_problem p, const char *title,
                       const char *fmt, ...) VT_PRINTF(4, 5);
void cred_result_warning(struct cred_result *r, enum cred_problem p, const char *title,
                         const char *fmt, ...) VT_PRINTF(4, 5);
size_t cred_result_error_count(const struct cred_result *r);
size_t cred_result_warning_count(const struct cred_result *r);
/* True if an error (or, for _has_warning, a warning) of problem p was recorded. */
bool cred_result_has_error(const struct cred_result *r, enum cred_problem p);
bool cred_result_has_warning(const struct cred_result *r, enum cred_problem p);
/* True if check `name` ran. */
bool cred_result_has_check(const struct cred_result *r, const char *name);
/* {"verified":bool,"checks":[names],"warnings":[{type,title,detail}],"errors":[...]};
 * a new reference. */
json_t *cred_result_to_json(const struct cred_result *r);
/*
 * The verified document (a credential or presentation decoded from a JWT or COSE payload,
 * or the parsed JSON), or NULL if it could not be parsed. Borrowed; lives as r.
 */
const json_t *cred_result_document(const struct cred_result *r);

/* ---------------------------------------------------------------------------------------
 * Trust: keys for issuers that cannot be resolved offline, and did:web documents
 */

/* A set of trusted keys and DID documents. Opaque handle. */
struct cred_trust;

struct cred_trust *cred_trust_new(void);
void cred_trust_free(struct cred_trust *t);
/*
 * Trusts key for verification method vm (a DID URL or URL); vm NULL trusts the key for any
 * verification method whose key material matches it or that names no key (JWT without
 * kid). Takes a new reference on key.
 */
void cred_trust_add_key(struct cred_trust *t, const char *vm, struct cred_key *key);
/*
 * Adds a DID document (as served at did:web's did.json): its verificationMethod entries
 * with publicKeyMultibase (Ed25519 Multikey) or publicKeyJwk become resolvable.
 * VT_ERR_INVALID if the document has no id or a method is malformed.
 */
enum vt_status cred_trust_add_did_document(struct cred_trust *t, const json_t *doc,
                                           struct vt_error *err);

/* did:web: the HTTPS URL of the DID document ("did:web:a.b%3A8080:x" →
 * "https://a.b:8080/x/did.json"); a new string. VT_ERR_INVALID if not a did:web DID. */
enum vt_status cred_didweb_url(const char *did, char **url_out, struct vt_error *err);
/* The DID document for a did:web DID whose key is key (Ed25519 as Multikey, others as
 * JsonWebKey), with assertionMethod and authentication; a new reference. */
enum vt_status cred_didweb_document(const char *did, const struct cred_key *key, json_t **doc_out,
                                    struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Verification
 */

/*
 * Key history seam (the ledger plugs in here): finds the key for verification method vm
 * and says whether it was valid at time at_ms (milliseconds since the epoch; -1 when the
 * proof names no time). Set *key_out to a new reference and return VT_OK; return
 * VT_ERR_NOT_FOUND when unknown (resolution then falls back to did:key and the trust
 * store), VT_ERR_PERMISSION when the key was not valid at at_ms (revoked or rotated).
 */
typedef enum vt_status (*cred_key_lookup_fn)(void *ctx, const char *vm, int64_t at_ms,
                                             struct cred_key **key_out, struct vt_error *err);

/*
 * Status list seam: returns the status list credential at url as a parsed document
 * (*doc_out, a new reference), or VT_ERR_NOT_FOUND. The verifier verifies its proofs.
 */
typedef enum vt_status (*cred_status_lookup_fn)(void *ctx, const char *url, json_t **doc_out,
                                                struct vt_error *err);

/*
 * Status list seam for sources that know the bytes of their lists (preferred with a
 * struct cred_status_cache): writes the SHA-256 of the serialized status list credential
 * now at url to digest and, when text is not NULL, appends those bytes to text (digest then
 * describes exactly them). Called first without text; a cache miss calls again with text.
 * VT_ERR_NOT_FOUND when url is unknown.
 */
typedef enum vt_status (*cred_status_fetch_fn)(void *ctx, const char *url,
                                               uint8_t digest[VT_SHA256_LEN], struct vt_buf *text,
                                               struct vt_error *err);

/* A cache of verified, decoded status lists; see "Status list cache" below. */
struct cred_status_cache;

struct cred_verify_options {
    const struct cred_trust *trust; /* may be NULL */
    int64_t now_ms;                 /* "now" for validity; 0 means the current time */
    /* Presentation binding: when set, the presentation proof must carry these. */
    const char *challenge;
    const char *domain;
    /* A presentation proof's created may be at most this old (and not in the future by
     * more than clock_skew_ms); 0 disables the age limit. */
    int64_t max_age_ms;
    int64_t clock_skew_ms;
    cred_key_lookup_fn key_lookup;
    void *key_lookup_ctx;
    cred_status_lookup_fn status_lookup;
    void *status_lookup_ctx;
    /* Used instead of status_lookup when set. */
    cred_status_fetch_fn status_fetch;
    void *status_fetch_ctx;
    /* Optional: status lists that verified before are answered from here (borrowed). */
    struct cred_status_cache *status_cache;
    /* Endorsement nesting allowed (≤ CRED_ENDORSEMENT_DEPTH_MAX). */
    unsigned endorsement_depth;
};

/* Defaults: no trust store, now, max_age 10 minutes, skew 5 minutes, depth 3. */
void cred_verify_options_init(struct cred_verify_options *opt);

/*
 * Verifies a credential or presentation in any supported form: JSON with Data Integrity
 * proofs, a compact JWS (either payload shape), or COSE_Sign1 bytes (also accepted as
 * base64url text). *result_out is always set to a new result (free it).
 * Returns VT_OK when the verification ran to a verdict (read it from the result);
 * VT_ERR_INVALID / VT_ERR_TOO_LARGE / VT_ERR_TOO_DEEP / VT_ERR_DUPLICATE when the input is
 * not a well-formed document at all (the result then says why, verified false).
 */
VT_WARN_UNUSED enum vt_status cred_verify(const uint8_t *input, size_t n,
                                          const struct cred_verify_options *opt,
                                          struct cred_result **result_out, struct vt_error *err);

/* As cred_verify, for an already parsed JSON credential or presentation. */
VT_WARN_UNUSED enum vt_status cred_verify_json(const json_t *doc,
                                               const struct cred_verify_options *opt,
                                               struct cred_result **result_out,
                                               struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Data Integrity eddsa-jcs-2022
 */

struct cred_di_options {
    const char *verification_method; /* NULL: cred_key_default_vm(key) */
    const char *proof_purpose;       /* NULL: "assertionMethod" */
    const char *created;             /* NULL: now, whole seconds */
    const char *expires;             /* optional */
    const char *challenge;           /* optional (presentations) */
    const char *domain;              /* optional (presentations) */
};

/*
 * Adds an eddsa-jcs-2022 proof to doc (which is not modified) and returns the signed copy
 * in *out (a new reference). An existing proof becomes a proof set: every proof signs the
 * document without any proof. The proof carries the document's @context.
 * VT_ERR_INVALID for a document that is not an object or a malformed option,
 * VT_ERR_UNSUPPORTED for a key that is not Ed25519 with a secret, VT_ERR_TOO_LARGE past
 * CRED_PROOFS_MAX.
 */
enum vt_status cred_sign_di(const json_t *doc, const struct cred_key *key,
                            const struct cred_di_options *opt, json_t **out, struct vt_error *err);

/*
 * The hashData of eddsa-jcs-2022 for a document without proof and a proof configuration
 * without proofValue: SHA-256(JCS(proof_config)) ‖ SHA-256(JCS(document)). Exposed for
 * known-answer tests. The canonical forms are appended to canon_doc / canon_proof when
 * they are not NULL.
 */
enum vt_status cred_di_hash_data(const json_t *document, const json_t *proof_config,
                                 uint8_t hash_data[2 * VT_SHA256_LEN], struct vt_buf *canon_doc,
                                 struct vt_buf *canon_proof, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * JOSE: compact JWS
 */

enum cred_jwt_shape {
    CRED_JWT_VC_JOSE,  /* application/vc+jwt: the payload is the credential (VC-JOSE-COSE) */
    CRED_JWT_VC_CLAIM, /* Open Badges 3.0 VC-JWT: {"vc":credential,"iss","nbf","jti","sub"} */
};

/*
 * Signs doc as a compact JWS with the key's algorithm. kid NULL means
 * cred_key_default_vm(key) (omitted when that is NULL too). *jwt_out is a new
 * NUL-terminated string (free()). VT_ERR_UNSUPPORTED for a key without secret.
 */
enum vt_status cred_sign_jwt(const json_t *doc, const struct cred_key *key,
                             enum cred_jwt_shape shape, const char *kid, char **jwt_out,
                             struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * COSE_Sign1 (RFC 9052) and application/vc+cose
 */

/*
 * Low level: COSE_Sign1 (tag 18) over payload with the given encoded protected header
 * map (its bytes are signed as they are) and encoded unprotected map (NULL: empty map).
 * Appends the tagged message to out.
 */
enum vt_status cred_cose_sign1(const struct cred_key *key, const uint8_t *protected_map,
                               size_t protected_len, const uint8_t *unprotected_map,
                               size_t unprotected_len, const uint8_t *payload, size_t payload_len,
                               struct vt_buf *out, struct vt_error *err);

/*
 * Low level: checks a COSE_Sign1 message (tagged or untagged) against key, over the
 * protected bytes as received. On VT_OK, *payload and *payload_len give the payload
 * inside msg.
 * VT_ERR_INVALID for malformed CBOR, VT_ERR_UNSUPPORTED for another alg, VT_ERR_VERIFY for a
 * bad signature.
 */
VT_WARN_UNUSED enum vt_status cred_cose_verify1(const struct cred_key *key, const uint8_t *msg,
                                                size_t n, const uint8_t **payload,
                                                size_t *payload_len, struct vt_error *err);

/*
 * Signs doc as application/vc+cose: protected {1: alg, 3: "application/vc", 4: kid,
 * 16: "application/vc+cose"} (kid NULL: cred_key_default_vm; omitted when that is NULL too),
 * an empty unprotected map, payload the JSON bytes of doc (compact, member order kept).
 * Appends the tagged message to out.
 */
enum vt_status cred_sign_cose(const json_t *doc, const struct cred_key *key, const char *kid,
                              struct vt_buf *out, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Bitstring Status List v1.0
 */

#define CRED_STATUS_MIN_ENTRIES 131072

/* A status list: one bit per entry (statusSize 1), index 0 the MSB of byte 0. Opaque. */
struct cred_status_list;

/* A list of `entries` zero bits (at least CRED_STATUS_MIN_ENTRIES, a multiple of 8). */
enum vt_status cred_status_list_new(size_t entries, struct cred_status_list **out,
                                    struct vt_error *err);
void cred_status_list_free(struct cred_status_list *l);
size_t cred_status_list_size(const struct cred_status_list *l);
/* VT_ERR_INVALID when index is out of range. */
enum vt_status cred_status_list_set(struct cred_status_list *l, size_t index, bool value,
                                    struct vt_error *err);
bool cred_status_list_get(const struct cred_status_list *l, size_t index);
/*
 * A random unused (zero, never handed out) index, marked as used in the list's allocation
 * map. VT_ERR_FULL when every index is taken.
 */
enum vt_status cred_status_list_allocate(struct cred_status_list *l, size_t *index_out,
                                         struct vt_error *err);
/* encodedList: "u" + base64url(GZIP(bits)); appended to out (NUL-terminated text). */
enum vt_status cred_status_list_encode(const struct cred_status_list *l, struct vt_buf *out,
                                       struct vt_error *err);
/*
 * Decodes an encodedList. VT_ERR_INVALID for bad multibase/GZIP, VT_ERR_TOO_LARGE when it
 * inflates past 16 MiB, VT_ERR_INVALID ("STATUS_LIST_LENGTH_ERROR") below the minimum size.
 */
enum vt_status cred_status_list_decode(const char *encoded, struct cred_status_list **out,
                                       struct vt_error *err);

/*
 * An unsigned BitstringStatusListCredential for list: id, issuer, purpose ("revocation" or
 * "suspension"), validFrom = now. Sign it with cred_sign_di. A new reference.
 */
enum vt_status cred_status_list_credential(const struct cred_status_list *l, const char *id,
                                           const char *issuer, const char *purpose, json_t **out,
                                           struct vt_error *err);

/* A BitstringStatusListEntry for index in list_url with purpose; a new reference. */
json_t *cred_status_entry(const char *list_url, size_t index, const char *purpose);

/* ---------------------------------------------------------------------------------------
 * Status list cache (specs/credential.md §7.1)
 *
 * Checking a status entry means fetching the list credential, verifying its proof and
 * inflating its bitstring: several times the cost of the credential's own check. The cache
 * keeps lists that verified, decoded, so that a repeated check costs one bit lookup.
 *
 * Entries are keyed by list URL and remember the SHA-256 of the list credential bytes
 * they were decoded from (cred_status_fetch_fn gives it; with cred_status_lookup_fn it is
 * the hash of the list's canonical form). A check that finds other bytes at the URL (the
 * list was re-signed) drops the entry and decodes the new list, so an entry never answers
 * for a list that changed. A verdict also depends on the trust store, the key lookup and
 * the clock skew it was reached with: an entry answers only checks made with the same
 * ones (compared by address, so a cache must not outlive the trust store and key lookup
 * context it serves). Entries expire CRED_STATUS_CACHE_TTL_MS after their verification
 * (by the verification's clock, cred_verify_options.now_ms), or earlier when the list
 * credential or its proof expires. Bounded in entries and in decoded bytes, least recently
 * used first out. Only lists that verified are kept.
 *
 * Thread-safety: every function may be called from any number of threads at once, except
 * cred_status_cache_free, which must be the last call.
 */

#define CRED_STATUS_CACHE_TTL_MS (5 * 60 * 1000)

/* A cache of at most max_entries lists and max_bytes of decoded bitstrings (both ≥ 1;
 * asserted). */
struct cred_status_cache *cred_status_cache_new(size_t max_entries, size_t max_bytes);
/* NULL-safe. */
void cred_status_cache_free(struct cred_status_cache *c);
/* Drops the entry for url, if any: for a source that knows its list just changed. */
void cred_status_cache_invalidate(struct cred_status_cache *c, const char *url);

struct cred_status_cache_stats {
    uint64_t hits;
    uint64_t misses;        /* no entry, or a stale one */
    uint64_t stale;         /* entries dropped because the bytes at their URL changed */
    uint64_t evictions;     /* entries dropped for room or age */
    uint64_t invalidations; /* entries dropped by cred_status_cache_invalidate */
    size_t entries;
    size_t bytes;
};
/* A snapshot of the counters since the cache was made. */
void cred_status_cache_stats(struct cred_status_cache *c, struct cred_status_cache_stats *out);

/* ---------------------------------------------------------------------------------------
 * Documents: Open Badges 3.0, CLR 2.0, endorsements
 */

/* "sha256$" + hex(SHA-256(identifier ‖ salt)); out holds at least 72 bytes. */
#define CRED_IDENTITY_HASH_MAX 72
void cred_identity_hash(const char *identifier, const char *salt, char out[CRED_IDENTITY_HASH_MAX]);

/* One alignment of an achievement to a competency. */
struct cred_alignment {
    const char *target_name;
    const char *target_url;
    const char *target_code;      /* optional */
    const char *target_framework; /* optional */
    const char *target_type;      /* "CFItem", "ceasn:Competency", ... (optional) */
};

/* Ledger evidence: the event hashes behind the award and the checkpoint covering them. */
struct cred_ledger_evidence {
    const char *const *event_hashes; /* hex SHA-256 of each event */
    size_t event_count;
    const char *checkpoint;        /* the signed checkpoint note text (or its URL) */
    const char *log_origin;        /* the transparency log's origin line */
    const uint64_t *event_indexes; /* optional: each event's index in the log */
};

struct cred_award {
    const char *id; /* credential id (urn:uuid:...) */
    const char *issuer_id;
    const char *issuer_name;
    const char *issuer_url;  /* optional */
    const char *valid_from;  /* NULL: now */
    const char *valid_until; /* optional */
    /* The learner: a DID, or a hashed identifier (identity_type e.g. "emailAddress"). */
    const char *subject_id;
    const char *subject_identifier;
    const char *subject_identity_type;
    const char *subject_salt;
    /* The achievement. */
    const char *achievement_id;
    const char *achievement_name;
    const char *achievement_description;
    const char *achievement_type; /* optional, e.g. "Competency" */
    const char *criteria_narrative;
    const struct cred_alignment *alignments;
    size_t alignment_count;
    /* An optional result with its description (resultType e.g. "Percent"). */
    const char *result_type;
    const char *result_value;
    /* Optional ledger evidence. */
    const struct cred_ledger_evidence *evidence;
    json_t *credential_status; /* optional entry (borrowed; copied in) */
};

/* An unsigned OpenBadgeCredential for award; VT_ERR_INVALID when a required field is
 * missing. A new reference. */
enum vt_status cred_openbadge_new(const struct cred_award *award, json_t **out,
                                  struct vt_error *err);

/* An unsigned EndorsementCredential by issuer about subject_id with comment. */
enum vt_status cred_endorsement_new(const char *id, const char *issuer_id, const char *issuer_name,
                                    const char *subject_id, const char *comment, json_t **out,
                                    struct vt_error *err);

/* An unsigned ClrCredential bundling signed achievement credentials for learner. */
enum vt_status cred_clr_new(const char *id, const char *issuer_id, const char *issuer_name,
                            const char *learner_id, const json_t *const *credentials, size_t count,
                            json_t **out, struct vt_error *err);

/*
 * An unsigned VerifiablePresentation by holder containing credentials (JSON objects are
 * embedded; strings are taken as JWT or base64url COSE and enveloped as data: URLs).
 * Sign it with cred_sign_di and proof_purpose "authentication", challenge and domain.
 */
enum vt_status cred_presentation_new(const char *holder, const json_t *const *credentials,
                                     size_t count, json_t **out, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Output
 */

/*
 * Appends doc as JSON.stringify(doc, null, indent) would (member order kept, numbers and
 * strings as in JCS); indent 0 is compact. No trailing newline.
 */
enum vt_status cred_json_write(const json_t *doc, unsigned indent, struct vt_buf *out,
                               struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Issuer: issuance, status lists and key history backed by the ledger
 * (specs/credential.md §11).
 *
 * An issuer is one DID with its signing keys, its status lists and its own chain in the
 * ledger (the "issuer chain", learner id cred_issuer_chain_id(did)). The issuer chain
 * holds every event the issuer needs to come back after a restart: key.rotated (key
 * history), status.reserved (status list creation and slot reservations),
 * credential.revoked / credential.suspended / credential.unsuspended (status bits).
 * cred_issuer_open replays it; nothing else is persisted. Each issued credential is also
 * recorded as a credential.issued event in the learner's own chain.
 *
 * Status slots: a credential gets one slot (list pair n, index i) with two entries,
 * revocation in <base>/revocation-<n> and suspension in <base>/suspension-<n>. Index i is
 * a keyed pseudorandom permutation of the slot's issue counter, so indexes reveal nothing
 * about issuance order, are never reused, and only the counter needs persisting.
 *
 * Thread-safety: every function taking a struct cred_issuer * may be called from any
 * number of threads at once, except cred_issuer_close, which must be the last call.
 * Issuance signs in parallel; slot allocation and status changes are serialized.
 */

#define CRED_LEARNER_LEN LEDGER_LEARNER_LEN
/* Evidence events cited by one credential. */
#define CRED_EVIDENCE_MAX 64
/* Requests in one cred_issue_achievements call. */
#define CRED_ISSUE_BATCH_MAX 65536
/* Longest credential id (NUL included); ids also serve as the ledger event id (≤ 64). */
#define CRED_ID_MAX 65
/* Longest status list id ("suspension-<n>", NUL included). */
#define CRED_STATUS_LIST_ID_MAX 32

/* Securing forms to produce (bits). */
enum cred_format {
    CRED_FORMAT_DI = 1,   /* eddsa-jcs-2022 */
    CRED_FORMAT_JWT = 2,  /* compact JWS */
    CRED_FORMAT_COSE = 4, /* COSE_Sign1, application/vc+cose */
};

struct cred_issuer;

struct cred_issuer_options {
    struct ledger *ledger; /* required; borrowed, must outlive the issuer */
    /* did:web:... (keys can rotate) or did:key:... (NULL: the did:key of `key`; its one
     * key cannot rotate). */
    const char *did;
    const char *name; /* issuer profile name (optional) */
    const char *url;  /* issuer profile url (optional) */
    /* Required: the current Ed25519 key with its secret. It signs Data Integrity proofs,
     * EdDSA JWT and COSE, and the status list credentials. When it differs from the key
     * the issuer chain names as current, opening records a rotation. */
    struct cred_key *key;
    /* Optional extra current keys with secrets, one per algorithm (ES256, RS256), for JWT
     * and COSE. */
    struct cred_key *const *extra_keys;
    size_t extra_key_count;
    /* Required: status lists are published at <base>/revocation-<n> and
     * <base>/suspension-<n> (an https URL, no trailing slash). */
    const char *status_base_url;
    size_t status_list_entries; /* entries per list (default CRED_STATUS_MIN_ENTRIES) */
    unsigned sign_threads;      /* threads signing a bulk issuance (default 2, at most 16) */
};

void cred_issuer_options_init(struct cred_issuer_options *o);

/* The ledger learner id of an issuer's chain: the first 16 bytes of
 * SHA-256("vitae/issuer/v1\n" ‖ did). */
void cred_issuer_chain_id(const char *did, uint8_t out[CRED_LEARNER_LEN]);

/*
 * Opens the issuer: replays its chain (status lists and key history), records the
 * configured keys as current (a key.rotated event for each key the chain does not name
 * as current), and signs every status list credential. VT_ERR_INVALID for bad options
 * (a key without secret, a did:key that is not the key's, a base URL that is not https
 * or http), VT_ERR_UNSUPPORTED for a did:key issuer whose chain names another key,
 * VT_ERR_VERIFY / VT_ERR_INVALID / VT_ERR_NOT_FOUND when the chain does not replay (an
 * event payload that is erased or malformed), VT_ERR_CONFLICT when its lists have another
 * size than status_list_entries, and the ledger's statuses for reads and appends.
 * Replaying reads the issuer chain only (one reservation event per 4,096 credentials,
 * plus status changes and rotations), never the learners' chains.
 */
enum vt_status cred_issuer_open(const struct cred_issuer_options *opt, struct cred_issuer **out,
                                struct vt_error *err);
/* Frees the issuer (the ledger stays open). NULL-safe. */
void cred_issuer_close(struct cred_issuer *iss);

/* The issuer's DID. Borrowed; lives as iss. */
const char *cred_issuer_did(const struct cred_issuer *iss);

/* One credential to issue. */
struct cred_issue_request {
    uint8_t learner[CRED_LEARNER_LEN]; /* whose chain records the credential.issued event */
    /*
     * The achievement and learner (the subject_* and achievement_* fields, result,
     * alignments, valid_until). The issuer sets issuer_*, valid_from (now), evidence and
     * credential_status itself; id may be NULL (a fresh urn:uuid).
     */
    const struct cred_award *award;
    /* Ledger indexes of the events behind the award; each must belong to the learner. */
    const uint64_t *evidence;
    size_t evidence_count;
    unsigned formats;              /* CRED_FORMAT_* bits; 0 means CRED_FORMAT_DI */
    enum cred_alg jwt_alg;         /* key for the JWT (default EdDSA) */
    enum cred_jwt_shape jwt_shape; /* default CRED_JWT_VC_JOSE */
    enum cred_alg cose_alg;        /* key for COSE (default EdDSA) */
};

/* The outcome of one request. Release with cred_issued_release. */
struct cred_issued {
    enum vt_status status;
    struct vt_error error; /* the reason when status != VT_OK */
    char id[CRED_ID_MAX];
    /* SHA-256 of the JCS form of the unsigned credential (the same for every format). */
    uint8_t hash[VT_SHA256_LEN];
    uint32_t status_list; /* list pair n */
    uint32_t status_index;
    uint64_t event_index; /* the credential.issued event in the log */
    /* The signed credential (CRED_FORMAT_DI) as compact JSON text, NUL-terminated: the
     * canonical (JCS) form of the credential with the proof added last. Text rather than a
     * parsed document: a bulk issuance holds tens of thousands of them at once. */
    char *di;
    size_t di_len;
    char *jwt;     /* the compact JWS (CRED_FORMAT_JWT), NUL-terminated */
    uint8_t *cose; /* the COSE_Sign1 bytes (CRED_FORMAT_COSE) */
    size_t cose_len;
};

/* Frees what r holds and zeroes it. NULL-safe. */
void cred_issued_release(struct cred_issued *r);

/*
 * Issues n (1..CRED_ISSUE_BATCH_MAX) credentials: assigns status slots (reserving them
 * durably in the issuer chain first), builds each Open Badges credential with ledger
 * evidence (each evidence event's leaf hash and index, checked by an inclusion proof
 * under the newest checkpoint, which is cited), signs the requested forms on
 * sign_threads threads, and appends all credential.issued events as one ledger batch.
 * Returns once they are durable. out[i] receives each outcome (a failed request takes a
 * slot that is never reused). Returns VT_OK when every request succeeded, else the first
 * failure's status: VT_ERR_INVALID (award incomplete, evidence of another learner or
 * beyond the log, n out of range), VT_ERR_UNSUPPORTED (no key for a requested alg),
 * VT_ERR_FULL (no more status lists), the ledger's statuses.
 */
enum vt_status cred_issue_achievements(struct cred_issuer *iss,
                                       const struct cred_issue_request *reqs, size_t n,
                                       struct cred_issued *out, struct vt_error *err);
/* cred_issue_achievements for one request. */
enum vt_status cred_issue_achievement(struct cred_issuer *iss, const struct cred_issue_request *req,
                                      struct cred_issued *out, struct vt_error *err);

/* A status slot: list pair and index. */
struct cred_status_ref {
    uint32_t list;
    uint32_t index;
};

/*
 * The slot of a credential this issuer issued, read from its credentialStatus entries.
 * VT_ERR_NOT_FOUND when no entry points at this issuer's lists.
 */
enum vt_status cred_issuer_status_ref(const struct cred_issuer *iss, const json_t *credential,
                                      struct cred_status_ref *ref, struct vt_error *err);

/*
 * Status changes: each appends its event to the issuer chain (credential.revoked,
 * credential.suspended, credential.unsuspended, with credential_id when not NULL), waits
 * until it is durable, then sets the bit and re-signs the list credential. Revocation is
 * final. A change that is already in effect appends nothing and returns VT_OK.
 * VT_ERR_NOT_FOUND for a slot that was never assigned; the ledger's statuses.
 */
enum vt_status cred_issuer_revoke(struct cred_issuer *iss, const struct cred_status_ref *ref,
                                  const char *credential_id, struct vt_error *err);
enum vt_status cred_issuer_suspend(struct cred_issuer *iss, const struct cred_status_ref *ref,
                                   const char *credential_id, struct vt_error *err);
enum vt_status cred_issuer_unsuspend(struct cred_issuer *iss, const struct cred_status_ref *ref,
                                     const char *credential_id, struct vt_error *err);
/* The current bits of a slot. VT_ERR_NOT_FOUND for a slot never assigned. */
enum vt_status cred_issuer_status_get(struct cred_issuer *iss, const struct cred_status_ref *ref,
                                      bool *revoked, bool *suspended, struct vt_error *err);

/*
 * The current signed status list credential with id `id` ("revocation-<n>" or
 * "suspension-<n>", as in GET /status/<id>): compact JSON, a new NUL-terminated string
 * (free()), *len_out its length (may be NULL). VT_ERR_NOT_FOUND for an unknown id.
 */
enum vt_status cred_issuer_status_list(struct cred_issuer *iss, const char *id, char **json_out,
                                       size_t *len_out, struct vt_error *err);

/* A cred_status_lookup_fn over this issuer's lists (ctx is the issuer): URLs under its
 * base URL; VT_ERR_NOT_FOUND for others. */
enum vt_status cred_issuer_status_lookup(void *ctx, const char *url, json_t **doc_out,
                                         struct vt_error *err);
/* The same as a cred_status_fetch_fn: the digest is computed once per signing, so an
 * unchanged list costs a lock and a copy of 32 bytes. A status change publishes the
 * re-signed list before it returns, so every check that starts afterwards sees it. */
enum vt_status cred_issuer_status_fetch(void *ctx, const char *url, uint8_t digest[VT_SHA256_LEN],
                                        struct vt_buf *text, struct vt_error *err);
/*
 * The issuer's status list cache (1,024 lists, 32 MiB), for verifications that use
 * cred_issuer_status_fetch on this issuer: the issuer drops a list's entry whenever it
 * re-signs the list. Borrowed; lives as iss. Thread-safe.
 */
struct cred_status_cache *cred_issuer_status_cache(struct cred_issuer *iss);

/*
 * Rotates the key of new_key's algorithm: appends key.rotated naming the new
 * verification method and retiring the previous one, effective at the event's place in
 * the log. compromised marks the old key as compromised (dropped from the DID document;
 * otherwise it stays listed so that credentials it signed keep verifying elsewhere).
 * VT_ERR_INVALID for a key without secret or one already used, VT_ERR_UNSUPPORTED for a
 * did:key issuer's Ed25519 key; the ledger's statuses.
 */
enum vt_status cred_issuer_rotate_key(struct cred_issuer *iss, struct cred_key *new_key,
                                      bool compromised, struct vt_error *err);

/*
 * A cred_key_lookup_fn over the issuer's key history (ctx is the issuer). A method the
 * history names is valid from the log time of the key.rotated event that introduced it
 * (to the second) until the log time of the one that retired it: at_ms inside that window
 * gives the key; outside it, or at_ms -1 for a retired key, VT_ERR_PERMISSION. Methods
 * the history does not name: VT_ERR_NOT_FOUND.
 */
enum vt_status cred_issuer_key_lookup(void *ctx, const char *vm, int64_t at_ms,
                                      struct cred_key **key_out, struct vt_error *err);

/*
 * The issuer's DID document (for did:web, served at its did.json): every key the history
 * names that was not retired as compromised, in verificationMethod and assertionMethod;
 * the current keys in authentication. A did:key issuer gets its did:key document.
 * A new reference.
 */
enum vt_status cred_issuer_did_document(struct cred_issuer *iss, json_t **doc_out,
                                        struct vt_error *err);

#endif
