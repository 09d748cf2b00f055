/*
 * api: vitaed, the vitae service. One libwebsockets listener serves HTTP/1.1 (VC-API,
 * transparency log, DID document, health and metrics) and WebSocket (JSON-RPC 2.0 at /v1,
 * subprotocol vitae.v1, JSON in text frames and deterministic CBOR in binary frames).
 *
 * Wire contract, method table, error codes and the role × method authorization table:
 * specs/api.md.
 *
 * Invariants:
 *   - One service thread runs libwebsockets and never blocks: every method and every HTTP
 *     handler runs on a worker thread, and the result returns to the service thread through
 *     a completion queue and lws_cancel_service().
 *   - A write is acknowledged only after the ledger reports it durable.
 *   - Every size that comes from a client has a cap (struct api_config).
 *   - Only this module and the wallet CLI touch sockets, signals, logging and exit().
 *
 * Thread-safety: api_config_* functions are not thread-safe (call them before the server
 * starts). An api_server is driven by one thread (api_server_run); api_server_stop may be
 * called from a signal handler or any thread.
 */
#ifndef VITAE_API_H
#define VITAE_API_H

#include <limits.h>

#include "core/core.h"

#define API_VERSION_STRING "0.1.0"
#define API_SUBPROTOCOL "vitae.v1"
#define API_DEFAULT_DATA "./var/vitae"
#define API_DEFAULT_LISTEN "127.0.0.1:8420"

#define API_PATH_MAX 1024
#define API_HOST_MAX 256
#define API_XAPI_BASIC_MAX 16  /* xapi_basic entries */
#define API_XAPI_BASIC_LEN 200 /* "user:password" + NUL */

enum api_log_level {
    API_LOG_ERROR,
    API_LOG_WARN,
    API_LOG_INFO,
    API_LOG_DEBUG,
};

/* Everything vitaed can be told. Caller-allocated, no interior pointers. */
struct api_config {
    char data_dir[API_PATH_MAX];
    char listen_host[API_HOST_MAX];
    int port;                    /* 0: the kernel picks one (tests) */
    char tls_cert[API_PATH_MAX]; /* empty: plain HTTP */
    char tls_key[API_PATH_MAX];
    char did_web_host[API_HOST_MAX]; /* empty: derived from the listen address */
    char origin[128];                /* checkpoint origin, fixed at the first start */
    char port_file[API_PATH_MAX];    /* written with the bound port once listening */
    size_t max_message;              /* WebSocket message / HTTP body cap (1 MiB) */
    unsigned max_depth;              /* JSON/CBOR nesting cap (32) */
    unsigned max_conns_per_addr;     /* WebSocket connections per remote address (256) */
    size_t max_pending_out;          /* queued output per connection before reading stops */
    unsigned max_inflight;           /* requests per connection being worked on (64) */
    double rate;                     /* requests per second per principal (token bucket) */
    double burst;                    /* bucket size */
    unsigned workers;                /* worker threads (8) */
    unsigned drain_seconds;          /* how long a shutdown waits for in-flight work (30) */
    unsigned batch_ms;               /* ledger group-commit window */
    enum api_log_level log_level;
    /* xAPI clients made at start, "user:password" each (key xapi_basic, repeatable).
     * Secrets: the server wipes its copy once they are provisioned. */
    char xapi_basic[API_XAPI_BASIC_MAX][API_XAPI_BASIC_LEN];
    unsigned n_xapi_basic;
};

/* Fills c with the defaults listed above and in specs/api.md §2. */
void api_config_init(struct api_config *c);

/*
 * Applies one configuration key (the names of specs/api.md §2, e.g. "listen",
 * "max_message"). VT_ERR_NOT_FOUND for an unknown key, VT_ERR_INVALID for a bad value.
 */
enum vt_status api_config_set(struct api_config *c, const char *key, const char *value,
                              struct vt_error *err);

/*
 * Reads a configuration file: lines "key = value", '#' comments, blank lines. Errors name
 * the file and line. VT_ERR_NOT_FOUND when the file does not exist.
 */
enum vt_status api_config_load_file(struct api_config *c, const char *path, struct vt_error *err);

/* Applies every VITAED_<KEY> environment variable (upper-case key names). */
enum vt_status api_config_load_env(struct api_config *c, struct vt_error *err);

/* Prints the configuration keys, their defaults and meanings (for --help). */
void api_config_print_keys(void);

/* Logging: one logfmt line per event on stderr. */
void api_log_set_level(enum api_log_level level);

/* ---------------------------------------------------------------------------------------
 * The data directory
 */

/*
 * Creates what is missing in c->data_dir (mode 0700): the service key (service.key, mode
 * 0600), the development administrator key and bearer token (admin.key, admin.token, mode
 * 0600, only when no principal exists yet), and the principal store. *created tells
 * whether anything was created. VT_ERR_IO / VT_ERR_PERMISSION for the file system.
 */
enum vt_status api_datadir_init(const struct api_config *c, bool *created, struct vt_error *err);

/*
 * Writes a self-signed development TLS certificate and key (P-256, mode 0600 for the key)
 * for the listen host to cert_path and key_path.
 */
enum vt_status api_tls_selfsigned(const char *host, const char *cert_path, const char *key_path,
                                  struct vt_error *err);

/*
 * The offline check behind --check: key files and their modes, the principal store, and
 * ledger_check over the whole ledger. Prints a report on stdout. VT_OK when everything
 * verifies.
 */
VT_WARN_UNUSED enum vt_status api_check(const struct api_config *c, struct vt_error *err);

/* ---------------------------------------------------------------------------------------
 * The server
 */

struct api_server;

/*
 * Opens the data directory (creating it on first start), the ledger and the principal
 * store, starts the workers and binds the listener. Prints the identity and URLs on
 * stdout. *out is a handle for api_server_run and api_server_close.
 */
enum vt_status api_server_open(const struct api_config *c, struct api_server **out,
                               struct vt_error *err);

/*
 * Serves until api_server_stop, then drains: new requests are refused, in-flight ones
 * finish (at most drain_seconds) and their answers are written. Returns VT_OK after a
 * clean drain.
 */
enum vt_status api_server_run(struct api_server *s, struct vt_error *err);

/* Asks the service loop to drain and stop. Async-signal-safe. */
void api_server_stop(struct api_server *s);

/* Stops the workers, closes the ledger (every acknowledged write is durable) and frees s.
 * NULL-safe. */
void api_server_close(struct api_server *s);

/* The bound port (useful with port 0). */
int api_server_port(const struct api_server *s);

/* ---------------------------------------------------------------------------------------
 * Introspection (tests and docs)
 */

/* Writes the role × method authorization table as Markdown to out. */
enum vt_status api_authz_markdown(struct vt_buf *out, struct vt_error *err);

#endif
