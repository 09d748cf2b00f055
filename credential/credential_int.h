/*
 * credential internals shared between the module's files; never included outside
 * credential/.
 */
#ifndef VITAE_CREDENTIAL_INT_H
#define VITAE_CREDENTIAL_INT_H

#include "credential/credential.h"

#include <openssl/evp.h>

struct cred_key {
    unsigned refs; /* changed only with __atomic builtins */
    enum cred_key_type type;
    struct vt_key ed; /* CRED_KEY_ED25519 */
    EVP_PKEY *pkey;   /* CRED_KEY_P256, CRED_KEY_RSA */
    bool has_secret;
    char *id;         /* verification method from the key file, or NULL */
    char *default_vm; /* computed lazily is not thread-safe, so computed at creation */
};

/* A key object of the given type with one reference and nothing filled in. */
struct cred_key *cred_key_alloc(enum cred_key_type type);
/* Finishes a key after its material is set: computes default_vm. */
void cred_key_finish(struct cred_key *key);

/*
 * Raw signatures: Ed25519 (64 bytes), ES256 as r ‖ s (64 bytes, as JOSE and COSE use),
 * RS256 PKCS#1 v1.5. sig must hold CRED_SIG_MAX bytes.
 */
#define CRED_SIG_MAX 512
enum vt_status cred_key_sign_raw(const struct cred_key *key, const uint8_t *msg, size_t n,
                                 uint8_t *sig, size_t *sig_len, struct vt_error *err);
/* VT_OK for a valid signature, VT_ERR_VERIFY otherwise (VT_ERR_CRYPTO on library
 * failure). */
VT_WARN_UNUSED enum vt_status cred_key_verify_raw(const struct cred_key *key, enum cred_alg alg,
                                                  const uint8_t *msg, size_t n, const uint8_t *sig,
                                                  size_t sig_len, struct vt_error *err);
/* Parses a public or private JWK object. */
enum vt_status cred_key_from_jwk(const json_t *jwk, struct cred_key **out, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Verification internals
 */

/* The state of one cred_verify call, passed down through the checks. */
struct cred_verifier {
    const struct cred_verify_options *opt;
    int64_t now_ms;
    struct cred_result *result;
    unsigned endorsements_seen;
    /* ids of the documents on the current endorsement path, to detect cycles */
    const char *path_ids[CRED_ENDORSEMENT_DEPTH_MAX + 2];
    unsigned path_len;
};

/*
 * Resolves verification method vm (at time at_ms, -1 unknown) to a key: the key lookup
 * callback, then did:key, then the trust store (by id, then by key material embedded in
 * the vm fragment, then an anonymous trusted key when allow_any). Records errors of type
 * KEY_RESOLUTION / KEY_VALIDITY in the result with `what` naming the proof. Returns a new
 * reference or NULL.
 */
struct cred_key *cred_resolve_vm(struct cred_verifier *v, const char *vm, int64_t at_ms,
                                 bool allow_any, const char *what);

/*
 * Checks the form of a verification method without resolving it: a URL, a DID method we
 * know (key, web), a did:key that decodes, and a Multikey fragment that decodes. Records
 * a KEY_RESOLUTION error and returns false otherwise.
 */
bool cred_vm_syntax_ok(struct cred_verifier *v, const char *vm, const char *what);

/* Looks up a trusted key by verification method id (exact, or DID part when vm has a
 * fragment absent in the store); borrowed or NULL. */
struct cred_key *cred_trust_find(const struct cred_trust *t, const char *vm);
/* The key trusted for any method, if exactly one such key exists; borrowed or NULL. */
struct cred_key *cred_trust_any(const struct cred_trust *t);

/* Checks the Data Integrity proofs of doc (object); purpose is the expected proofPurpose.
 * Returns the number of proofs that verified. */
unsigned cred_di_verify_proofs(struct cred_verifier *v, const json_t *doc, const char *purpose,
                               bool presentation);

/*
 * Checks a VC 2.0 credential's data model and validity period, Open Badges shape,
 * status and endorsements (not proofs). depth is the endorsement depth of doc.
 */
void cred_check_credential(struct cred_verifier *v, const json_t *doc, unsigned depth);

/* VC 2.0 data model rules for credentials (the check "data-model"). */
void cred_check_data_model(struct cred_verifier *v, const json_t *doc);
/* validFrom / validUntil against now. */
void cred_check_validity(struct cred_verifier *v, const json_t *doc);
/* Open Badges 3.0 / CLR 2.0 / Endorsement shape when the types ask for it. */
void cred_check_openbadges(struct cred_verifier *v, const json_t *doc);
/* credentialStatus entries through the status lookup callback. */
void cred_check_status(struct cred_verifier *v, const json_t *doc);
/* endorsement / endorsementJwt members anywhere in doc, recursively. */
void cred_check_endorsements(struct cred_verifier *v, const json_t *doc, unsigned depth);
/* A presentation: proofs (authentication, unless secured is set because a JWT or COSE
 * envelope already verified), challenge, domain, freshness, holder binding, and each
 * embedded credential. */
void cred_check_presentation(struct cred_verifier *v, const json_t *doc, bool secured);

/*
 * Verifies one embedded credential (an object, an EnvelopedVerifiableCredential or a
 * compact JWS string) into a separate result and copies its errors into v's result as
 * problems of type p prefixed with what. endorsed_id is the id of the document an
 * endorsement is embedded in (NULL otherwise).
 */
void cred_verify_nested(struct cred_verifier *v, const json_t *item, unsigned depth,
                        enum cred_problem p, const char *endorsed_id, const char *what);

/* Decodes and verifies an EnvelopedVerifiableCredential's data: URL; a new reference or
 * NULL with errors recorded. */
json_t *cred_unwrap_envelope(struct cred_verifier *v, const json_t *env);

/* Verifies a compact JWS; on success *doc_out is the credential (the payload, or its "vc"
 * claim) as a new reference, else NULL with errors recorded. */
void cred_jwt_verify(struct cred_verifier *v, const char *jwt, size_t n, json_t **doc_out);
/* Verifies a COSE_Sign1 vc+cose message; *doc_out as for cred_jwt_verify. */
void cred_cose_verify(struct cred_verifier *v, const uint8_t *msg, size_t n, json_t **doc_out);

/* What a cached status list verdict depends on besides the list's bytes. */
struct cred_status_context {
    const struct cred_trust *trust;
    cred_key_lookup_fn key_lookup;
    void *key_lookup_ctx;
    int64_t clock_skew_ms;
};

/* A cached list's answer for one status entry. */
struct cred_status_answer {
    bool purpose_ok; /* the list is for the entry's statusPurpose */
    size_t size;     /* entries in the list */
    bool set;        /* the entry's bit (false when index >= size) */
};

/*
 * Answers (purpose, index) from the entry for url when it was decoded from bytes with this
 * digest under the same context and has not expired at now_ms; returns false otherwise,
 * dropping an entry that is stale or expired.
 */
bool cred_status_cache_get(struct cred_status_cache *c, const char *url,
                           const uint8_t digest[VT_SHA256_LEN],
                           const struct cred_status_context *ctx, int64_t now_ms,
                           const char *purpose, size_t index, struct cred_status_answer *ans);
/*
 * Stores a list that verified: bits (taken over; freed when not stored), its purposes (the
 * list subject's statusPurpose, a string or an array of strings), valid until expires_ms.
 */
void cred_status_cache_put(struct cred_status_cache *c, const char *url,
                           const uint8_t digest[VT_SHA256_LEN],
                           const struct cred_status_context *ctx, int64_t expires_ms,
                           const json_t *purposes, struct cred_status_list *bits);
/* Decoded bytes a list holds (what the cache accounts for). */
size_t cred_status_list_bytes(const struct cred_status_list *l);

/* The detail of error i, or NULL; borrowed, lives as r. */
const char *cred_result_error_detail(const struct cred_result *r, size_t i);

/* Hands the verified document (a reference) to the result. */
void cred_result_set_document(struct cred_result *r, json_t *doc);

/* True when v (a string or an array of strings) contains s. */
bool cred_json_has_type(const json_t *v, const char *s);
/* The id of an issuer / holder value (a string, or an object's "id"); borrowed or NULL. */
const char *cred_json_id_of(const json_t *v);

/* True when JCS and JSON.stringify write member name s as it is, between quotes: printable
 * ASCII without '"' or '\\' (whose UTF-16 order is also their byte order). */
bool cred_json_plain_name(const char *s);

/* True if s is an absolute URI (scheme ":" rest), the form VC 2.0 requires of ids. */
bool cred_is_uri(const char *s);

/* ---------------------------------------------------------------------------------------
 * Signing internals
 */

/*
 * cred_sign_di that also reports SHA-256(JCS(doc without proof)) in doc_hash (may be
 * NULL). When take is set and doc has no proof yet, doc (an object nobody else reads) is
 * signed in place and *out is a new reference to it: no copy is made. When text_out is
 * set (doc must have no proof), the signed document is appended to it as compact JSON
 * instead: the canonical form of the document with the proof added last; out may then be
 * NULL and no signed copy is built.
 */
enum vt_status cred_sign_di_hashed(json_t *doc, bool take, const struct cred_key *key,
                                   const struct cred_di_options *opt, json_t **out,
                                   struct vt_buf *text_out, uint8_t doc_hash[VT_SHA256_LEN],
                                   struct vt_error *err);

/* RFC 7638 JWK thumbprint (base64url SHA-256 of the required members, in JCS form);
 * out holds 44 bytes. */
#define CRED_THUMBPRINT_MAX 44
void cred_key_thumbprint(const struct cred_key *key, char out[CRED_THUMBPRINT_MAX]);

/* ---------------------------------------------------------------------------------------
 * Issuer internals (issuer.c: open, replay, keys; issuer_status.c: slots and lists;
 * issue.c: issuance)
 */

#include <pthread.h>

/* One verification method in the key history. */
struct issuer_key {
    char *vm;
    struct cred_key *key; /* public only */
    enum cred_alg alg;
    int64_t from_ms;  /* log time of the key.rotated event that introduced it */
    int64_t until_ms; /* log time of the one that retired it; INT64_MAX while current */
    bool compromised;
};

/* A status list pair: one slot counter, two bitstrings. */
struct issuer_list {
    struct cred_status_list *bits[2]; /* [0] revocation, [1] suspension */
    uint8_t prp_key[16];
    uint64_t counter;  /* slots handed out (in this process, from `reserved` at open) */
    uint64_t reserved; /* slots durably reserved */
    /* Published under pub_lock: the signed list credentials and their SHA-256. */
    char *signed_json[2];
    size_t signed_len[2];
    uint8_t signed_digest[2][VT_SHA256_LEN];
};

/*
 * Locks: `lock` serializes changes (slots, status bits, keys) and may be held across a
 * durable ledger append. Readers that must not wait for one take the narrower locks:
 * `pub_lock` guards lists/nlists and each list's published text (writers hold both),
 * `hist_lock` guards the key history (writers hold `lock` too).
 */
struct cred_issuer {
    pthread_mutex_t lock;
    pthread_mutex_t pub_lock;
    pthread_rwlock_t hist_lock;
    struct cred_status_cache *cache;
    struct ledger *ledger;
    char *did;
    char *name;
    char *url;
    char *base;
    bool didkey;
    uint8_t chain[CRED_LEARNER_LEN];
    size_t list_entries;
    unsigned threads;
    struct issuer_key *hist;
    size_t nhist;
    struct cred_key *current[3]; /* secret keys by enum cred_alg */
    const char *current_vm[3];   /* borrowed from hist */
    struct issuer_list *lists;
    size_t nlists;
};

/* Appends an event with a JSON payload (JCS bytes) to the issuer chain and waits for it;
 * *time_ms (may be NULL) receives the log time the writer gave it. */
enum vt_status cred_issuer_chain_append(struct cred_issuer *iss, const char *type,
                                        const json_t *payload, uint64_t *index, int64_t *time_ms,
                                        struct vt_error *err);

/* Replays one status event (status.reserved, credential.revoked/suspended/unsuspended)
 * of the issuer chain. */
enum vt_status cred_issuer_replay_status(struct cred_issuer *iss, const char *type,
                                         const json_t *payload, struct vt_error *err);
/* Signs list pair n's two list credentials (lock held). */
enum vt_status cred_issuer_sign_lists(struct cred_issuer *iss, size_t n, struct vt_error *err);
/* Hands out `count` slots, reserving more in the issuer chain when needed (lock held).
 * On failure no slot is handed out. */
enum vt_status cred_issuer_allocate(struct cred_issuer *iss, size_t count,
                                    struct cred_status_ref *refs, struct vt_error *err);
/* The URL of list pair n's list for purpose 0 (revocation) or 1 (suspension). */
void cred_issuer_list_url(const struct cred_issuer *iss, size_t n, int purpose, char *out,
                          size_t outlen);
void cred_issuer_lists_free(struct cred_issuer *iss);

#endif
