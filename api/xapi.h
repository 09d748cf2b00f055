/*
 * xAPI Learning Record Store internals (api module): statement validation and output
 * formats, the multipart/mixed reader, and the statement and document store.
 *
 * Rules enforced, with the test that covers each: specs/xapi.md.
 *
 * Invariants:
 *   - Every accepted statement is one ledger event "xapi.statement" of the learner its
 *     actor maps to; the store's LMDB indexes are a projection of those events plus the
 *     document resources, which are mutable and live only in the store.
 *   - A stored statement is never changed: a second write with the same id is either
 *     equivalent (nothing happens) or refused (VT_ERR_CONFLICT).
 *   - Every size that comes from a client is capped before anything is allocated for it.
 *
 * Thread-safety: the validator, the formats and the multipart reader are pure functions,
 * safe from any thread. A struct xapi_store may be used from any number of threads; writes
 * are serialised inside it.
 */
#ifndef VITAE_API_XAPI_H
#define VITAE_API_XAPI_H

#include "core/core.h"
#include "ledger/ledger.h"

/* ---------------------------------------------------------------------------------------
 * Versions and problems
 */

enum xapi_version {
    XAPI_V1_0_3, /* "1.0.x" in X-Experience-API-Version */
    XAPI_V2_0,   /* "2.0.x" (IEEE 9274.1.1) */
};

/* Parses an X-Experience-API-Version value: "1.0", "1.0.<n>" → XAPI_V1_0_3, "2.0",
 * "2.0.<n>" → XAPI_V2_0. false for anything else (the caller answers 400). */
bool xapi_version_parse(const char *s, enum xapi_version *v);

/* The version string answered in X-Experience-API-Version. */
const char *xapi_version_string(enum xapi_version v);

#define XAPI_RULE_MAX 48
#define XAPI_PATH_MAX 192

/*
 * Why something was refused: rule is a stable short name from specs/xapi.md
 * ("agent.ifi-count"), path the JSON path of the offending member ("actor.member[1]"),
 * msg a sentence naming both. Caller-allocated, no interior pointers.
 */
struct xapi_problem {
    char rule[XAPI_RULE_MAX];
    char path[XAPI_PATH_MAX];
    char msg[VT_ERROR_MSG_MAX];
};

/* Copies src into dst (cap bytes), cutting it short when it does not fit. */
void xapi_strlcpy(char *dst, size_t cap, const char *src);
/* Appends src to the string in dst (cap bytes), cutting it short when it does not fit. */
void xapi_strlcat(char *dst, size_t cap, const char *src);

/* Copies a problem into a vt_error (status VT_ERR_INVALID). */
enum vt_status xapi_problem_error(const struct xapi_problem *p, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Statement validation (xapi_validate.c)
 */

/*
 * Checks one statement as received (before normalisation) against every statement
 * structure rule of the given version. VT_OK, or VT_ERR_INVALID with *p (may be NULL)
 * naming the first broken rule and where. The tree is not modified.
 */
enum vt_status xapi_statement_validate(const json_t *stmt, enum xapi_version v,
                                       struct xapi_problem *p);

/* The single checks, also used for query parameters and document resources. Each returns
 * true when s (NUL-terminated) is well formed. */
bool xapi_is_iri(const char *s);
bool xapi_is_mailto(const char *s);
bool xapi_is_uuid(const char *s);
bool xapi_is_language_tag(const char *s);
bool xapi_is_duration(const char *s);
bool xapi_is_sha1_hex(const char *s);
bool xapi_is_sha2_hex(const char *s);
bool xapi_is_media_type(const char *s);

/*
 * Parses an ISO 8601 date-time in the extended format: "YYYY-MM-DDThh:mm:ss", optional
 * fraction, and "Z", "±hh:mm", "±hhmm" or "±hh" (absent: UTC; "-00:00" is refused as an
 * unknown offset). *ms_out is milliseconds since the epoch, UTC, with any further digits
 * truncated. false when malformed or out of range.
 */
bool xapi_timestamp_parse(const char *s, int64_t *ms_out);

/* Writes ms as "YYYY-MM-DDThh:mm:ss.mmmZ" (always with milliseconds). */
#define XAPI_TIME_MAX 32
void xapi_timestamp_format(int64_t ms, char out[XAPI_TIME_MAX]);

/*
 * Validates an Agent or Group given as a query or document parameter (already parsed from
 * JSON): the same rules as an actor. VT_ERR_INVALID with *p.
 */
enum vt_status xapi_agent_validate(const json_t *agent, enum xapi_version v,
                                   struct xapi_problem *p);

/* ---------------------------------------------------------------------------------------
 * Identity of agents, normalisation, comparison and formats (xapi_format.c)
 */

#define XAPI_UUID_LEN 36
#define XAPI_AGENT_KEY_MAX 1024

/*
 * The identity of an Agent or identified Group: "mbox:<mailto IRI, domain lower-cased>",
 * "mbox_sha1sum:<lower hex>", "openid:<uri>" or "account:<homePage> <name>", written to out
 * (NUL-terminated). For an anonymous Group: "group:" followed by the sorted keys of its
 * members joined by '|'. VT_ERR_INVALID without an identifier, VT_ERR_TOO_LARGE past
 * XAPI_AGENT_KEY_MAX.
 */
enum vt_status xapi_agent_key(const json_t *agent, char out[XAPI_AGENT_KEY_MAX],
                              struct vt_error *err);

/* Lower-cases a well-formed UUID into out (XAPI_UUID_LEN + 1 bytes). */
void xapi_uuid_lower(const char *uuid, char out[XAPI_UUID_LEN + 1]);

/* A fresh random (version 4) UUID in lower case. */
void xapi_uuid_new(char out[XAPI_UUID_LEN + 1]);

/*
 * Turns a validated statement into its stored form, in place: id (lower-cased, or the
 * given new_id when absent), stored (stored_ms, overwriting any value), timestamp
 * (defaults to stored), authority (replaced by the given Agent, a borrowed reference that
 * is copied), version (kept, or "1.0.0" / "2.0.0" after the request version when absent),
 * and every contextActivities value as an array.
 */
void xapi_statement_normalize(json_t *stmt, const char *new_id, int64_t stored_ms,
                              const json_t *authority, enum xapi_version v);

/*
 * Statement comparison (xAPI Data §2.3.1): true when a and b describe the same statement,
 * ignoring what the immutability exceptions allow to differ: id when one lacks it,
 * authority, stored, version, timestamp serialisation (compared as instants when both have
 * one), verb display, activity definitions, attachments' order and the order of Group
 * members, a single context activity against a one-element array, and the case of UUIDs.
 */
bool xapi_statement_equivalent(const json_t *a, const json_t *b);

enum xapi_format {
    XAPI_FORMAT_EXACT,
    XAPI_FORMAT_IDS,
    XAPI_FORMAT_CANONICAL,
};

/* Parses the "format" parameter (case-sensitive). */
bool xapi_format_parse(const char *s, enum xapi_format *f);

/*
 * Supplies the canonical definition of an activity for the canonical format: a new
 * reference, or NULL when none is known. May be NULL itself.
 */
struct xapi_activity_source {
    json_t *(*definition)(void *ctx, const char *activity_id);
    void *ctx;
};

/*
 * Returns a new statement tree in the requested format. exact: a copy. ids: Agents and
 * identified Groups reduced to objectType and identifier, anonymous Groups to their
 * members' identifiers, Activities to objectType and id, Verbs to id. canonical: Activity
 * definitions replaced by the canonical definition when src knows one, and every language
 * map reduced to the one entry that best matches langs (a NULL-terminated list of tags in
 * preference order, may be NULL: the first entry is kept).
 */
json_t *xapi_statement_format(const json_t *stmt, enum xapi_format f,
                              const struct xapi_activity_source *src, const char *const *langs);

/* ---------------------------------------------------------------------------------------
 * multipart/mixed requests (xapi_multipart.c), RFC 2046 §5.1
 */

#define XAPI_PARTS_MAX 64
#define XAPI_BOUNDARY_MAX 70

struct xapi_part {
    const uint8_t *body; /* points into the request body */
    size_t len;
    char content_type[128];
    char hash[129];     /* X-Experience-API-Hash, lower-cased; empty when absent */
    bool binary_cte;    /* Content-Transfer-Encoding: binary */
    bool has_cte;       /* any Content-Transfer-Encoding header */
    uint8_t sha256[32]; /* of body */
};

struct xapi_multipart {
    size_t n;
    struct xapi_part parts[XAPI_PARTS_MAX];
};

/*
 * Extracts the boundary parameter from a Content-Type value "multipart/mixed; boundary=..."
 * (quoted or not, parameter name case-insensitive). VT_ERR_INVALID when the type is not
 * multipart/mixed or the boundary is missing, empty or longer than XAPI_BOUNDARY_MAX.
 */
enum vt_status xapi_multipart_boundary(const char *content_type, char out[XAPI_BOUNDARY_MAX + 1],
                                       struct vt_error *err);

/*
 * Splits body into at most XAPI_PARTS_MAX parts. Tolerates a preamble, a missing CRLF
 * after the closing delimiter, header lines with or without a space after the colon, and
 * transport padding after a delimiter. Parts keep pointers into body, which must outlive mp.
 * VT_ERR_INVALID (no opening delimiter, no closing delimiter, a header line without a
 * colon, an empty body), VT_ERR_TOO_LARGE (more than XAPI_PARTS_MAX parts or a header
 * block over 8 KiB).
 */
enum vt_status xapi_multipart_parse(const uint8_t *body, size_t n, const char *boundary,
                                    struct xapi_multipart *mp, struct vt_error *err);

/*
 * The attachment rules of a statement request with a multipart body: the first part is
 * application/json and holds the statement(s) (parsed into *stmts, a new reference); every
 * further part carries Content-Transfer-Encoding: binary and an X-Experience-API-Hash equal
 * to its SHA-256 and to the sha2 of an attachment of the statements; every attachment
 * without fileUrl has a part; no part is left over; a signature attachment is a valid JWS
 * for its statement (xapi_signature_check). VT_ERR_INVALID with *p.
 */
enum vt_status xapi_multipart_statements(const struct xapi_multipart *mp, size_t max_depth,
                                         json_t **stmts, struct xapi_problem *p);

/*
 * Checks a signed statement (xAPI Data §2.6): the part is a JWS in compact serialisation
 * whose header has alg RS256, RS384 or RS512 and whose payload is JSON equivalent to the
 * statement without its attachments. When the header has x5c, the signature is verified
 * with the first certificate's key. VT_ERR_INVALID with *p.
 */
enum vt_status xapi_signature_check(const json_t *stmt, const uint8_t *jws, size_t n,
                                    struct xapi_problem *p);

#define XAPI_SIGNATURE_USAGE "http://adlnet.gov/expapi/attachments/signature"
#define XAPI_VERB_VOIDED "http://adlnet.gov/expapi/verbs/voided"

/* ---------------------------------------------------------------------------------------
 * The store (xapi_store.c): statements over the ledger, indexes and documents in LMDB
 */

struct xapi_store;

/*
 * Opens (creating, mode 0700) the store in dir for ledger l (borrowed; must outlive the
 * store). Recovers statements appended to the ledger but not yet indexed when the last run
 * stopped. VT_ERR_IO / VT_ERR_PERMISSION for the file system.
 */
enum vt_status xapi_store_open(const char *dir, struct ledger *l, struct xapi_store **out,
                               struct vt_error *err);
void xapi_store_close(struct xapi_store *st);

/*
 * Maps an actor identity (xapi_agent_key form) to a learner. VT_ERR_CONFLICT when the key
 * is mapped to another learner and has statements already. Without a mapping, a statement's
 * learner is derived from the key (SHA-256 of "vitae/xapi/learner/v1\n" ‖ key, first 16
 * bytes) and recorded at the first statement.
 */
enum vt_status xapi_store_map_actor(struct xapi_store *st, const char *agent_key,
                                    const uint8_t learner[LEDGER_LEARNER_LEN],
                                    struct vt_error *err);
/* The learner an actor key maps to (recorded or derived); *recorded tells which. */
void xapi_store_learner_of(struct xapi_store *st, const char *agent_key,
                           uint8_t learner[LEDGER_LEARNER_LEN], bool *recorded);

#define XAPI_BATCH_MAX 1000

/*
 * Stores a batch of validated statements (all-or-nothing). Each is normalised
 * (xapi_statement_normalize with authority and v) and its id written to ids_out
 * (n × (XAPI_UUID_LEN + 1) bytes). The batch is refused as a whole with VT_ERR_INVALID for
 * a repeated id within it, VT_ERR_CONFLICT when an id is stored already with a statement
 * that is not equivalent, VT_ERR_TOO_LARGE for a statement over the ledger payload cap or
 * n > XAPI_BATCH_MAX. A statement equivalent to one stored already is skipped and counted
 * in *existing (may be NULL). Voiding statements mark their target voided unless it is a
 * voiding statement itself. Ledger statuses pass through. The statements in stmts are
 * modified (normalised).
 */
enum vt_status xapi_store_put(struct xapi_store *st, json_t *const *stmts, size_t n,
                              const json_t *authority, enum xapi_version v,
                              char (*ids_out)[XAPI_UUID_LEN + 1], size_t *existing,
                              struct vt_error *err);

/*
 * Reads a statement by id (any case). voided selects between statementId (voided
 * statements are VT_ERR_NOT_FOUND) and voidedStatementId (only voided statements).
 * *out is a new reference. VT_ERR_NOT_FOUND also when the learner was erased.
 */
enum vt_status xapi_store_get(struct xapi_store *st, const char *id, bool voided, json_t **out,
                              struct vt_error *err);

/* A statement query. Strings are borrowed for the call. */
struct xapi_query {
    const char *agent_key; /* xapi_agent_key of the agent parameter, or NULL */
    const char *verb;
    const char *activity;
    const char *registration;
    bool related_activities;
    bool related_agents;
    bool has_since, has_until;
    int64_t since_ms, until_ms; /* stored > since, stored <= until */
    size_t limit;               /* 0: the server's maximum */
    bool ascending;
};

#define XAPI_QUERY_LIMIT_MAX 500
#define XAPI_MORE_MAX 512

/*
 * Runs a query from an index range scan: *out is a new JSON array of stored statements
 * (exact), at most limit (capped at XAPI_QUERY_LIMIT_MAX), voided ones left out. When
 * more remain, more_out receives an opaque continuation token (empty otherwise), valid
 * for as long as the store exists, to pass to xapi_store_query_more.
 */
enum vt_status xapi_store_query(struct xapi_store *st, const struct xapi_query *q, json_t **out,
                                char more_out[XAPI_MORE_MAX], struct vt_error *err);
/* Continues a query. VT_ERR_INVALID for a malformed or foreign token. */
enum vt_status xapi_store_query_more(struct xapi_store *st, const char *token, json_t **out,
                                     char more_out[XAPI_MORE_MAX], struct vt_error *err);

/* The stored time up to which every accepted statement is visible to queries. */
int64_t xapi_store_consistent_through(struct xapi_store *st);

/* The canonical definition of an activity (merged from the statements received), a new
 * reference, or NULL. Matches struct xapi_activity_source. */
json_t *xapi_store_activity(void *store, const char *activity_id);

/* The Person object of an agent key: {"objectType":"Person", "name":[...], "mbox":[...],
 * ...}, a new reference (only the key's own identifier when no statement named it). */
json_t *xapi_store_person(struct xapi_store *st, const json_t *agent);

/* ---------------------------------------------------------------------------------------
 * Documents: State, Activity Profile, Agent Profile
 */

enum xapi_doc_kind {
    XAPI_DOC_STATE,
    XAPI_DOC_ACTIVITY_PROFILE,
    XAPI_DOC_AGENT_PROFILE,
};

/* Which document: activity_id for state and activity profiles, agent_key for state and
 * agent profiles, registration (lower-case UUID or NULL) for state, doc_id the stateId or
 * profileId (NULL on a list or multi-delete). Borrowed. */
struct xapi_doc_ref {
    enum xapi_doc_kind kind;
    const char *activity_id;
    const char *agent_key;
    const char *registration;
    const char *doc_id;
};

#define XAPI_DOC_MAX ((size_t)1 << 20)
#define XAPI_ETAG_MAX 48

struct xapi_doc {
    struct vt_buf content;
    char content_type[128];
    char etag[XAPI_ETAG_MAX]; /* quoted lower-case hex SHA-1 of the content */
    int64_t updated_ms;
};

void xapi_doc_init(struct xapi_doc *d);
void xapi_doc_release(struct xapi_doc *d);

/* Preconditions of a write: If-Match and If-None-Match values as received (NULL when
 * absent). */
struct xapi_precond {
    const char *if_match;
    const char *if_none_match;
};

/* Reads one document. VT_ERR_NOT_FOUND when absent. */
enum vt_status xapi_doc_get(struct xapi_store *st, const struct xapi_doc_ref *ref,
                            struct xapi_doc *out, struct vt_error *err);

/*
 * Writes one document. merge false (PUT): replaces it. merge true (POST): when both the
 * stored and the new document are JSON objects, the new top-level members replace the old
 * ones; when either is not a JSON object and a document exists, VT_ERR_INVALID; when none
 * exists the document is stored as sent. Preconditions: If-Match must equal the current
 * ETag ("*" any existing document), If-None-Match "*" requires no document; failure is
 * VT_ERR_CONFLICT with the message "precondition failed" (HTTP 412). require_precond: a PUT
 * on an existing document without either header is VT_ERR_EXISTS (HTTP 409).
 * *etag_out (may be NULL) receives the new ETag.
 */
enum vt_status xapi_doc_put(struct xapi_store *st, const struct xapi_doc_ref *ref,
                            const uint8_t *body, size_t n, const char *content_type, bool merge,
                            const struct xapi_precond *pc, bool require_precond,
                            char etag_out[XAPI_ETAG_MAX], struct vt_error *err);

/* Deletes one document (ref->doc_id set) or, for State without a stateId, every document
 * of (activity, agent, registration). Preconditions as for xapi_doc_put. Deleting what does
 * not exist is VT_OK. */
enum vt_status xapi_doc_delete(struct xapi_store *st, const struct xapi_doc_ref *ref,
                               const struct xapi_precond *pc, struct vt_error *err);

/* The ids of the documents of ref (doc_id ignored) updated after since_ms (when has_since),
 * as a new JSON array of strings. */
enum vt_status xapi_doc_ids(struct xapi_store *st, const struct xapi_doc_ref *ref, bool has_since,
                            int64_t since_ms, json_t **out, struct vt_error *err);

/* True when a precondition failure error came from xapi_doc_put/_delete. */
bool xapi_error_is_precondition(const struct vt_error *err);

#endif
