/*
 * api internals: the server handle, connections, jobs, principals, consent, metrics and the
 * method table. Not for other modules. Wire formats: specs/api.md.
 *
 * Threads: the service thread owns the lws context, every connection and the connection
 * registry; workers own a job while they run it. Shared state (principal store, consent
 * index, presentation challenges, rate buckets, metrics) carries its own lock or atomics.
 */
#ifndef VITAE_API_INT_H
#define VITAE_API_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "api/api.h"
#include "credential/credential.h"
#include "ledger/ledger.h"
#include "twin/twin.h"

struct xapi_store;

/* ---------------------------------------------------------------------------------------
 * Logging (logfmt on stderr). The level test comes first so that arguments of a
 * suppressed line are never evaluated.
 */

extern enum api_log_level api_log_level_cur;
void api_log_write(enum api_log_level level, const char *event, const char *fmt, ...)
    VT_PRINTF(3, 4);
#define API_LOG(level, event, ...)                                                                 \
    do {                                                                                           \
        if ((level) <= api_log_level_cur)                                                          \
            api_log_write((level), (event), __VA_ARGS__);                                          \
    } while (0)
/* Writes s as a logfmt value (quoted and escaped when needed) into out (size n). */
void api_log_value(const char *s, char *out, size_t n);

int64_t api_mono_ns(void);

/* ---------------------------------------------------------------------------------------
 * Roles, principals and bearer tokens (principals.c). Stored in <data>/principals.json,
 * mode 0600, replaced atomically; tokens only as SHA-256 hashes.
 */

enum api_role {
    API_ROLE_ADMIN = 1u << 0,    /* institution administrator */
    API_ROLE_SOURCE = 1u << 1,   /* data source: LMS, assessment tool */
    API_ROLE_LEARNER = 1u << 2,  /* a learner with a wallet key */
    API_ROLE_VERIFIER = 1u << 3, /* employer or verifier */
    API_ROLE_REVIEWER = 1u << 4, /* peer reviewer */
    API_ROLE_HR = 1u << 5,       /* corporate HR */
};
#define API_ROLE_COUNT 6
#define API_ROLES_ALL ((1u << API_ROLE_COUNT) - 1)

const char *api_role_name(unsigned role_bit);
/* Parses a role name; 0 when unknown. */
unsigned api_role_parse(const char *name);

#define API_NAME_MAX 64
#define API_TOKEN_MAX 64 /* "vt_" + base64url(32 bytes) + NUL fits */

struct api_principal {
    char did[VT_DIDKEY_MAX];
    uint8_t pk[VT_ED25519_PK_LEN];
    unsigned roles;
    char name[API_NAME_MAX];
    bool has_learner;
    uint8_t learner[LEDGER_LEARNER_LEN];
    int64_t created_ms;
};

struct api_store;

enum vt_status api_store_open(const char *path, struct api_store **out, struct vt_error *err);
void api_store_close(struct api_store *st);
size_t api_store_count(struct api_store *st);
/* Copies the principal with this DID into *out. VT_ERR_NOT_FOUND when absent. */
enum vt_status api_store_find(struct api_store *st, const char *did, struct api_principal *out);
/* The learner principal owning this learner id. */
enum vt_status api_store_find_learner(struct api_store *st, const uint8_t learner[16],
                                      struct api_principal *out);
/* Adds a principal and persists. VT_ERR_EXISTS for a known DID or learner id. */
enum vt_status api_store_add(struct api_store *st, const struct api_principal *p,
                             struct vt_error *err);
/* Makes a bearer token for did (expires_ms 0: never), persists its hash, and writes the
 * token (shown once) to token_out. VT_ERR_NOT_FOUND for an unknown principal. */
enum vt_status api_store_token_new(struct api_store *st, const char *did, int64_t expires_ms,
                                   char token_out[API_TOKEN_MAX], struct vt_error *err);
/* Resolves a bearer token to its principal; false when unknown or expired. */
bool api_store_token_check(struct api_store *st, const char *token, struct api_principal *out);
/* The principals as JSON (no secrets); a new reference. */
json_t *api_store_list_json(struct api_store *st);

/* ---------------------------------------------------------------------------------------
 * Consent (consent.c): grants signed by a learner's wallet key, recorded in the ledger as
 * consent.granted / consent.revoked events and indexed in memory (rebuilt from the ledger
 * at start).
 */

enum api_scope {
    API_SCOPE_LEDGER_READ = 1u << 0, /* "ledger.read": events, head, chain verification */
    API_SCOPE_TWIN_READ = 1u << 1,   /* "twin.read" */
    API_SCOPE_EXPORT = 1u << 2,      /* "portable.export" */
};
#define API_CONSENT_DOMAIN "vitae/consent/v1\n"
#define API_CONSENT_ID_LEN 64 /* hex SHA-256 */

struct api_consents;

struct api_consents *api_consents_new(void);
void api_consents_free(struct api_consents *c);
/* Replays every consent event of the ledger into c. */
enum vt_status api_consents_load(struct api_consents *c, struct ledger *l, struct vt_error *err);
/*
 * Checks a grant document {grant, signature} against the learner principal's key and
 * returns the parsed parts. Used before the event is appended.
 */
struct api_consent_grant {
    char id[API_CONSENT_ID_LEN + 1];
    uint8_t learner[LEDGER_LEARNER_LEN];
    char audience[VT_DIDKEY_MAX];
    unsigned scopes;
    int64_t expires_ms;
};
enum vt_status api_consent_parse(const json_t *doc, struct api_consent_grant *g,
                                 struct vt_error *err);
VT_WARN_UNUSED enum vt_status api_consent_verify_sig(const json_t *doc,
                                                     const uint8_t pk[VT_ED25519_PK_LEN],
                                                     struct vt_error *err);
/* Applies a committed consent event payload (granted or revoked) to the index. */
void api_consents_apply(struct api_consents *c, const char *type, const uint8_t *payload,
                        size_t len, int64_t time_ms);
/* True when an unexpired, unrevoked grant by learner to audience covers scope. */
bool api_consents_allow(struct api_consents *c, const uint8_t learner[16], const char *audience,
                        unsigned scope, int64_t now_ms);
/* Looks up a grant; VT_ERR_NOT_FOUND when unknown. */
enum vt_status api_consents_get(struct api_consents *c, const char *id, struct api_consent_grant *g,
                                bool *revoked);
/* The learner's grants as JSON; a new reference. */
json_t *api_consents_list(struct api_consents *c, const uint8_t learner[16], int64_t now_ms);
unsigned api_scope_parse(const char *name);

/* ---------------------------------------------------------------------------------------
 * A connection's authentication state. Copied into each job; a job that changes it
 * (auth.login, auth.challenge) hands the new state back with its result.
 */

#define API_NONCE_LEN 32

struct api_session {
    bool authed;
    struct api_principal who;
    bool has_nonce;
    uint8_t nonce[API_NONCE_LEN];
    int64_t nonce_expires_ms;
};

/* ---------------------------------------------------------------------------------------
 * Methods and authorization (methods.c): the one role × method table.
 */

enum api_method_flags {
    API_M_PUBLIC = 1u << 0,  /* no login needed */
    API_M_LEARNER = 1u << 1, /* params.learner: the learner itself, or consent_scope */
    API_M_CBOR = 1u << 2,    /* in binary frames, reads its params as CBOR (call.cbor_params) */
};

struct api_call;
typedef enum vt_status (*api_method_fn)(struct api_call *call, const json_t *params,
                                        json_t **result, struct vt_error *err);

struct api_method {
    const char *name;
    api_method_fn fn;
    unsigned roles;         /* roles allowed for any subject */
    unsigned flags;         /* API_M_* */
    unsigned consent_roles; /* with API_M_LEARNER: roles allowed under a consent grant */
    unsigned consent_scope; /* API_SCOPE_* the grant must cover */
    const char *summary;
};

extern const struct api_method api_methods[];
extern const size_t api_method_count;
const struct api_method *api_method_find(const char *name, size_t *index);

/* ---------------------------------------------------------------------------------------
 * JSON-RPC error codes (specs/api.md §5) and the one status → code table.
 */

enum api_rpc_code {
    API_RPC_PARSE = -32700,
    API_RPC_INVALID_REQUEST = -32600,
    API_RPC_METHOD_NOT_FOUND = -32601,
    API_RPC_INVALID_PARAMS = -32602,
    API_RPC_INTERNAL = -32603,
    API_RPC_UNAUTHENTICATED = -32001,
    API_RPC_FORBIDDEN = -32002,
    API_RPC_NOT_FOUND = -32003,
    API_RPC_CONFLICT = -32004,
    API_RPC_RATE_LIMITED = -32005,
    API_RPC_TOO_LARGE = -32006,
    API_RPC_SHUTTING_DOWN = -32007,
    API_RPC_VERIFY = -32008,
    API_RPC_UNSUPPORTED = -32009,
    API_RPC_STORAGE = -32010,
    API_RPC_EXISTS = -32011,
};

int api_status_rpc_code(enum vt_status st);
int api_status_http_code(enum vt_status st);

/* ---------------------------------------------------------------------------------------
 * Jobs and workers (work.c)
 */

enum api_job_kind {
    API_JOB_RPC,
    API_JOB_HTTP,
};

enum api_http_method {
    API_HTTP_GET,
    API_HTTP_HEAD,
    API_HTTP_POST,
    API_HTTP_PUT,
    API_HTTP_DELETE,
    API_HTTP_OTHER,
};

#define API_URL_MAX 512
#define API_SUBS_PER_JOB 16
#define API_SUBS_PER_CONN 256
#define API_CTYPE_MAX 128
#define API_ARGS_MAX 8192
#define API_XHDRS_MAX 1024

/*
 * What the xAPI and Caliper routes read from a request beyond the common fields, copied on
 * the service thread because the headers are gone once the job reaches a worker. A value
 * too long for its field is kept as "\x01" so that it can never match (If-Match) or parse.
 */
struct api_http_xreq {
    bool on; /* the path is under /xapi */
    bool has_version, has_if_match, has_if_none_match, has_basic, has_length;
    char version[32];
    char if_match[96];
    char if_none_match[96];
    char accept_language[128];
    char basic[256]; /* base64 of "user:password"; wiped by the route */
    /* query arguments as lws decoded them: n_args NUL-terminated "name=value" strings */
    char args[API_ARGS_MAX];
    unsigned n_args;
    bool args_overflow;
    /* extra response headers, "name: value\n" lines, and an owned content type */
    char out_headers[API_XHDRS_MAX];
    char out_ctype[API_CTYPE_MAX];
};

/* Appends one response header line to x->out_headers (dropped when it does not fit). */
void api_xreq_header(struct api_http_xreq *x, const char *name, const char *value);

struct api_job {
    struct api_job *next;
    enum api_job_kind kind;
    uint64_t conn_id;
    uint64_t id; /* request id in logs */
    int64_t start_ns;
    char peer[64];
    struct api_session sess;
    bool sess_changed;
    /* input: a WebSocket message or an HTTP body */
    bool binary;
    struct vt_buf in;
    enum api_http_method method;
    char path[API_URL_MAX];
    char ctype[API_CTYPE_MAX];
    char bearer[API_TOKEN_MAX];
    bool has_bearer;
    bool refuse; /* received while draining: answer "shutting down" */
    struct api_http_xreq x;
    /* twin.subscribe calls of this message, handed to the connection on completion */
    unsigned n_subs;
    uint8_t subs[API_SUBS_PER_JOB][LEDGER_LEARNER_LEN];
    /* output: a frame or body, after API_OUT_PRE reserved bytes */
    struct vt_buf out;
    bool out_binary;
    int http_status;
    const char *out_ctype;
};

/* Headroom every output buffer reserves for the transport (lws needs LWS_PRE). */
#define API_OUT_PRE 16

struct api_server;
typedef void (*api_job_fn)(struct api_server *s, struct api_job *job);

struct api_workers;
struct api_workers *api_workers_start(struct api_server *s, unsigned n, api_job_fn fn,
                                      void (*wake)(struct api_server *s));
/* Queues a job for a worker; takes ownership. */
void api_workers_submit(struct api_workers *w, struct api_job *job);
/* Detaches every finished job (a list linked by next, in completion order). */
struct api_job *api_workers_done(struct api_workers *w);
/* Jobs queued or running. */
size_t api_workers_pending(struct api_workers *w);
/* Stops after the queued jobs are done and joins the threads. NULL-safe. */
void api_workers_stop(struct api_workers *w);

struct api_job *api_job_new(enum api_job_kind kind, size_t max_in, size_t max_out);
void api_job_free(struct api_job *job);

/* ---------------------------------------------------------------------------------------
 * Metrics (metrics.c): counters and histograms updated with atomics from any thread.
 */

#define API_LAT_BUCKETS 14
#define API_HTTP_ROUTES 16

struct api_metrics;
struct api_metrics *api_metrics_new(size_t methods);
void api_metrics_free(struct api_metrics *m);
/* index: method index, or api_method_count for "unknown". */
void api_metrics_rpc(struct api_metrics *m, size_t index, bool error, int64_t ns);
void api_metrics_http(struct api_metrics *m, unsigned route, int status, int64_t ns);
void api_metrics_conn(struct api_metrics *m, bool websocket, int delta);
void api_metrics_append_batch(struct api_metrics *m, size_t events);
void api_metrics_rejected(struct api_metrics *m, const char *reason);
enum vt_status api_metrics_write(struct api_metrics *m, struct api_server *s, struct vt_buf *out,
                                 struct vt_error *err);
const char *api_http_route_name(unsigned route);

/* ---------------------------------------------------------------------------------------
 * Token buckets (rate.c), keyed by principal DID or by connection for anonymous clients.
 */

struct api_rate;
struct api_rate *api_rate_new(double rate, double burst);
void api_rate_free(struct api_rate *r);
/* Takes one token for key; false when the bucket is empty. */
bool api_rate_take(struct api_rate *r, const char *key, int64_t now_ns);
void api_rate_forget(struct api_rate *r, const char *key);

/* ---------------------------------------------------------------------------------------
 * Presentation challenges (challenge.c): random, single use, expiring.
 */

#define API_CHALLENGE_TTL_MS (10 * 60 * 1000)
#define API_CHALLENGES_MAX 100000

struct api_challenges;
struct api_challenges *api_challenges_new(void);
void api_challenges_free(struct api_challenges *c);
/* A new challenge (base64url of 24 random bytes) into out (size ≥ 40). VT_ERR_FULL when
 * too many are outstanding. */
enum vt_status api_challenge_new(struct api_challenges *c, char out[40], int64_t now_ms,
                                 struct vt_error *err);
/* Consumes a challenge; false when unknown, used or expired. */
bool api_challenge_take(struct api_challenges *c, const char *challenge, int64_t now_ms);

/* ---------------------------------------------------------------------------------------
 * JSON ⇄ CBOR for binary frames (cbor_json.c). CBOR byte strings become base64url text;
 * integral reals become CBOR integers.
 */

enum vt_status api_cbor_to_json(const uint8_t *data, size_t n, size_t max_depth, json_t **out,
                                struct vt_error *err);
/* The same for decoded items; hole (an item inside it, or NULL) becomes an empty object. */
enum vt_status api_cbor_item_to_json(const cbor_item_t *it, const cbor_item_t *hole, json_t **out,
                                     struct vt_error *err);
/* What api_cbor_item_to_json would refuse in it, without converting. */
enum vt_status api_cbor_json_check(const cbor_item_t *it, struct vt_error *err);
enum vt_status api_json_to_cbor(const json_t *v, struct vt_buf *out, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Calls: one JSON-RPC request being executed on a worker (rpc.c)
 */

struct api_call {
    struct api_server *srv;
    struct api_job *job;
    struct api_session *sess;
    const struct api_method *method;
    json_t *error_data; /* optional "data" of the error object (owned) */
    int rpc_code;       /* overrides the status mapping when nonzero */
    /* API_M_CBOR methods called in a binary frame: the params map as decoded (its JSON
     * params are then empty). Borrowed; lives as the call. */
    const cbor_item_t *cbor_params;
};

/* Runs one WebSocket message (single request or batch) and writes the response frame. */
void api_rpc_run(struct api_server *s, struct api_job *job);

/* Param helpers: VT_ERR_INVALID naming the member. */
enum vt_status api_param_str(const json_t *params, const char *key, bool required, const char **out,
                             struct vt_error *err);
enum vt_status api_param_uint(const json_t *params, const char *key, bool required, uint64_t *out,
                              struct vt_error *err);
enum vt_status api_param_learner(const json_t *params, uint8_t learner[16], struct vt_error *err);
enum vt_status api_hex_learner(const char *hex, uint8_t learner[16], struct vt_error *err);
void api_learner_hex(const uint8_t learner[16], char out[33]);
/* base64url text of bytes; a new json string. */
json_t *api_json_b64u(const uint8_t *p, size_t n);
json_t *api_json_hex(const uint8_t *p, size_t n);

/* Authorization for one call: role, then the learner/consent rule (methods.c). */
enum vt_status api_authz_check(struct api_server *s, const struct api_method *m,
                               const struct api_session *sess, const json_t *params,
                               struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * Method handlers (m_*.c)
 */

#define API_METHOD(fn)                                                                             \
    enum vt_status fn(struct api_call *call, const json_t *params, json_t **result,                \
                      struct vt_error *err)

API_METHOD(api_m_auth_challenge);
API_METHOD(api_m_auth_login);
API_METHOD(api_m_auth_whoami);
API_METHOD(api_m_ledger_append);
API_METHOD(api_m_ledger_append_batch);
API_METHOD(api_m_ledger_read);
API_METHOD(api_m_ledger_head);
API_METHOD(api_m_ledger_verify);
API_METHOD(api_m_ledger_proof);
API_METHOD(api_m_ledger_checkpoint);
API_METHOD(api_m_credential_issue);
API_METHOD(api_m_credential_verify);
API_METHOD(api_m_credential_revoke);
API_METHOD(api_m_credential_suspend);
API_METHOD(api_m_credential_unsuspend);
API_METHOD(api_m_credential_status);
API_METHOD(api_m_presentation_challenge);
API_METHOD(api_m_presentation_verify);
API_METHOD(api_m_endorsement_create);
API_METHOD(api_m_twin_get);
API_METHOD(api_m_twin_skills);
API_METHOD(api_m_twin_predictions);
API_METHOD(api_m_twin_recommendations);
API_METHOD(api_m_twin_flags);
API_METHOD(api_m_twin_subscribe);
API_METHOD(api_m_framework_import);
API_METHOD(api_m_framework_get);
API_METHOD(api_m_readiness_role_define);
API_METHOD(api_m_readiness_report);
API_METHOD(api_m_readiness_team);
API_METHOD(api_m_portable_export);
API_METHOD(api_m_portable_import);
API_METHOD(api_m_consent_grant);
API_METHOD(api_m_consent_revoke);
API_METHOD(api_m_consent_list);
API_METHOD(api_m_admin_principal_create);
API_METHOD(api_m_admin_token_create);
API_METHOD(api_m_admin_key_rotate);
API_METHOD(api_m_admin_erase_learner);
API_METHOD(api_m_admin_stats);

/* ---------------------------------------------------------------------------------------
 * Shared pieces used by both the WebSocket methods and the HTTP routes
 */

/* Verifies a credential or presentation (JSON object or string form) into the VC-API
 * result shape; challenge/domain bind a presentation. */
enum vt_status api_verify_document(struct api_server *s, const json_t *doc, const char *challenge,
                                   const char *domain, json_t **result, struct vt_error *err);
/*
 * Issues an Open Badges 3.0 credential through the service's issuer (m_status.c): cred is a
 * VC-API style unsigned credential with credentialSubject.id and .achievement {id, name,
 * description?, achievementType?, criteria.narrative?}; opts {learner?, evidence?,
 * formats?} (specs/api.md §7.4). *result: {id, verifiableCredential, jwt?, cose_b64u?,
 * hash, status, ledger_index}.
 */
enum vt_status api_issue_credential(struct api_server *s, const json_t *cred, const json_t *opts,
                                    json_t **result, struct vt_error *err);
/* Opens s->issuer (the service did:key) once the port is known, when its chain exists. */
enum vt_status api_issuer_open(struct api_server *s, struct vt_error *err);
/* The issuer; opened now when create is set and it is not open yet. NULL with err set
 * (VT_ERR_NOT_FOUND when not created, or the open's failure). Any thread. */
struct cred_issuer *api_issuer(struct api_server *s, bool create, struct vt_error *err);
/* Its status base URL. */
void api_status_base_url(const struct api_server *s, char *out, size_t n);
/* Appends the signed status list credential "revocation-<n>" / "suspension-<n>" to out.
 * VT_ERR_NOT_FOUND for an unknown list. */
enum vt_status api_status_list_text(struct api_server *s, const char *id, struct vt_buf *out,
                                    struct vt_error *err);

/* HTTP routes run on a worker (http.c). */
void api_http_run(struct api_server *s, struct api_job *job);
unsigned api_http_route_of(const char *path);
/* True for paths the xAPI / Caliper handlers own (their requests fill job->x). */
bool api_http_is_xapi(const char *path);

/* The xAPI LRS under /xapi/ (xapi_http.c), run on a worker like every HTTP route; it
 * answers every request itself, with job->x.out_headers. */
void api_xapi_http_run(struct api_server *s, struct api_job *job);

/* ---------------------------------------------------------------------------------------
 * HTTP Basic credentials for xAPI clients (principals.c): user names map to data-source
 * principals; passwords are kept as Argon2id strings (crypto_pwhash_str). Verified
 * credentials are remembered in memory as keyed BLAKE2b tags so that a client's every
 * request does not pay for Argon2.
 */

#define API_BASIC_USER_MAX 64
#define API_BASIC_PASS_MAX 128

/* Makes sure user exists with this password: creates a data-source principal named user
 * with a Basic credential, or replaces the password of an existing one. Persists. */
enum vt_status api_store_basic_provision(struct api_store *st, const char *user,
                                         const char *password, struct vt_error *err);
/* Resolves Basic credentials to their principal; false when unknown or wrong. */
bool api_store_basic_check(struct api_store *st, const char *user, const char *password,
                           struct api_principal *out);

/* ---------------------------------------------------------------------------------------
 * The twin projection (twin_feed.c)
 */

struct api_twin_feed;
/* Opens <data>/twin for s->ledger; api_twin_start starts the feed thread (once the lws
 * context exists); api_twin_close stops it and closes the twin. NULL-safe on a server
 * without a twin. */
enum vt_status api_twin_open(struct api_server *s, struct vt_error *err);
void api_twin_start(struct api_server *s);
void api_twin_close(struct api_server *s);
/* After a job: wakes the feed thread when the ledger grew past what the twin applied. */
void api_twin_kick(struct api_server *s);
/* Locks the twin and catches it up with the ledger (read your writes). On VT_OK the caller
 * reads s->twin and calls api_twin_unlock; on failure the lock is not held. */
enum vt_status api_twin_lock(struct api_server *s, struct vt_error *err);
void api_twin_unlock(struct api_server *s);
/* Service thread: takes the learners changed since the last call (*out malloc'd, sorted by
 * nothing, free it); *all when too many changed to list (notify every subscriber). */
size_t api_twin_changes(struct api_server *s, uint8_t (**out)[LEDGER_LEARNER_LEN], bool *all);
/* The ledger index the twin has applied up to. */
uint64_t api_twin_cursor(struct api_server *s);
/* The learner id of a service chain ("framework", "roles"): global events live there. */
void api_service_chain(const struct api_server *s, const char *what, uint8_t out[16]);
/* Wakes the service thread (lws_cancel_service). Any thread. */
void api_server_wake(struct api_server *s);

/* ---------------------------------------------------------------------------------------
 * The server handle (server.c)
 */

struct api_server {
    struct api_config cfg;
    struct ledger *ledger;
    struct vt_key key; /* service signing key */
    struct cred_key *cred_key;
    char did_key[VT_DIDKEY_MAX];
    char did_key_vm[VT_DIDKEY_MAX];
    char did_web[API_HOST_MAX + 16];
    json_t *did_doc;
    struct cred_trust *trust;
    /* The issuer: opened after the listener (status URLs carry the port), at start when
     * its chain exists, else on first issuance (api_issuer). */
    _Atomic(struct cred_issuer *) issuer;
    pthread_mutex_t issuer_mu;
    struct api_store *store;
    struct xapi_store *xapi; /* <data>/xapi, opened after the ledger */
    struct twin *twin;
    pthread_mutex_t twin_mu;
    struct api_twin_feed *feed;
    struct api_consents *consents;
    struct api_challenges *challenges;
    struct api_rate *rate;
    struct api_metrics *metrics;
    struct api_workers *workers;
    void *lws_ctx;   /* struct lws_context * */
    void *lws_vhost; /* struct lws_vhost * */
    int port;
    int64_t started_ms;
    atomic_bool stop_requested;
    atomic_bool draining;
    atomic_uint_fast64_t next_id;
    /* service-thread state (server.c) */
    void *conns; /* connection registry */
    void *addrs; /* per-address connection counts */
    size_t ws_conns;
    size_t http_conns;
    size_t sub_conns; /* connections with twin subscriptions */
};

/* Opens the data directory pieces (keys, store, ledger) without the listener. Used by the
 * server and by --check. */
enum vt_status api_datadir_open(struct api_server *s, struct vt_error *err);
void api_datadir_close(struct api_server *s);
/* Paths inside the data directory. */
void api_datadir_path(const struct api_config *c, const char *name, char out[API_PATH_MAX + 64]);

/* Derives the did:web DID from the config (host, or the listen address and port). */
void api_did_web(const struct api_config *c, int port, char *out, size_t n);

#endif
