/*
 * Integration-test harness: start vitaed on a free loopback port in a temporary data
 * directory, and talk to it over HTTP/1.1 and WebSocket with a small blocking client.
 */
#ifndef VITAE_ITEST_H
#define VITAE_ITEST_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/core.h"

struct itest_server {
    pid_t pid;
    char dir[256];
    int port;
    char token[128]; /* the administrator's bearer token */
    struct vt_key admin;
};

/* Makes a fresh data directory (under $TMPDIR) for a server. */
void itest_tempdir(char out[256]);

/* Starts vitaed on dir (made with itest_tempdir) with extra "--set key=value" arguments
 * (NULL-terminated; may be NULL) and waits until it listens. Aborts the test on failure. */
void itest_start(struct itest_server *s, const char *dir, const char *const *extra);
/* Sends sig and waits for the exit; returns the exit status (or 128 + signal). */
int itest_stop(struct itest_server *s, int sig);
/* Runs `vitaed --check --data dir`; returns its exit status. */
int itest_check(const char *dir);
/* Removes the directory tree. */
void itest_rmrf(const char *dir);

/* One HTTP/1.1 request on a fresh connection. headers: extra "Name: value\r\n" lines or
 * NULL. Returns the status code (-1 on transport failure); the body goes to body_out. */
int itest_http(int port, const char *method, const char *path, const char *headers,
               const char *body, size_t body_len, struct vt_buf *body_out);

/* WebSocket. Returns a connected socket, or -1 (with *status the HTTP answer). */
int itest_ws_connect(int port, const char *path, const char *subprotocol, const char *bearer,
                     int *status);
/* As itest_ws_connect to /v1 with vitae.v1, with the socket's receive buffer set to
 * rcvbuf bytes before connecting (a client that reads slowly or never). */
int itest_ws_connect_rcvbuf(int port, const char *bearer, int rcvbuf, int *status);
/* Writes raw bytes to a socket (frames built by hand). 0 or -1. */
int itest_write_raw(int fd, const void *p, size_t n);
/* Sends one message as a single frame (opcode 1 text, 2 binary) or fragmented into chunks
 * of `frag` bytes when frag > 0. */
int itest_ws_send(int fd, int opcode, const void *data, size_t len, size_t frag);
/* Receives one whole message; returns its opcode (1/2), or -1 on close/failure. */
int itest_ws_recv(int fd, struct vt_buf *out);
void itest_ws_close(int fd);

/* A JSON-RPC call in a text frame; returns the response object (new reference). */
json_t *itest_rpc(int fd, const char *method, json_t *params /* stolen, may be NULL */);
/* The error code of a response, or 0 when it has a result. */
int itest_rpc_code(const json_t *resp);
/* The result member (borrowed). */
json_t *itest_result(const json_t *resp);

/* Logs in on fd with the challenge-response flow; returns the response. */
json_t *itest_login_key(int fd, const struct vt_key *key);
/* Connects and logs in with key; asserts success. */
int itest_connect_as(const struct itest_server *s, const struct vt_key *key);
/* Creates a principal with roles (comma-separated) through an admin connection; returns
 * the learner id (hex, when a learner) in learner_out (33 bytes) if not NULL. */
void itest_principal(int admin_fd, const struct vt_key *key, const char *roles, char *learner_out);

/* Signs a consent grant for learner (hex) to audience with scopes (JSON array text) and
 * expiry (RFC 3339); returns {"grant":..., "signature":...}. */
json_t *itest_consent(const struct vt_key *learner_key, const char *learner, const char *audience,
                      const char *scope_json, const char *expires);

/* An unsigned Open Badges credential for subject (a DID) with achievement id achievement
 * (new reference), as credential.issue and POST /credentials/issue take it. */
json_t *itest_badge(const char *subject, const char *achievement);

#endif
