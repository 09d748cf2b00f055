/*
 * The wallet's network client: a minimal blocking RFC 6455 WebSocket client (text frames,
 * client masking, ping/pong, close, fragmented messages) and HTTP/1.1 GET, over plain TCP,
 * with JSON-RPC 2.0 on top. Why a client of our own rather than libwebsockets': see
 * specs/wallet.md §7.
 *
 * Transport failures (no route, refused, reset, a bad handshake) are VT_ERR_IO and mean
 * "server unavailable"; a read that times out is VT_ERR_BUSY ("try again").
 */
#ifndef VITAE_WALLET_NET_H
#define VITAE_WALLET_NET_H

#include "wallet-cli/cli.h"

/* Largest WebSocket message accepted (a 64 MiB bundle in base64url plus its envelope). */
#define NET_MESSAGE_MAX ((size_t)96 << 20)
#define NET_HOST_MAX 256
#define NET_PATH_MAX 1024

struct net_url {
    bool tls;
    char host[NET_HOST_MAX];
    char port[8];
    char path[NET_PATH_MAX];
};

/* Parses ws://, wss://, http:// or https:// URLs; an empty path becomes default_path.
 * VT_ERR_INVALID for anything else. */
enum vt_status net_url_parse(const char *url, const char *default_path, struct net_url *u,
                             struct vt_error *err);

/* GET url (http:// only) into out (initialized here, capped at max). VT_ERR_UNSUPPORTED for
 * https; VT_ERR_NOT_FOUND for 404; VT_ERR_IO for other failures. */
enum vt_status net_http_get(const char *url, size_t max, struct vt_buf *out, struct vt_error *err);

struct net_ws {
    int fd;
    uint64_t next_id;
    const struct cli *cli; /* for progress on large messages; may be NULL */
    uint8_t rbuf[16384];
    size_t rpos, rlen;
};

/* Opens a WebSocket to url with subprotocol vitae.v1. */
enum vt_status net_ws_connect(struct net_ws *ws, const char *url, const struct cli *cli,
                              struct vt_error *err);
/* Sends a close frame and closes the socket. NULL-safe; safe on a failed connect. */
void net_ws_close(struct net_ws *ws);

/* A JSON-RPC error answer. */
struct net_rpc_error {
    int code; /* 0 when the call succeeded */
    char message[VT_ERROR_MSG_MAX];
};

/*
 * Calls method with params (stolen; NULL for none) and waits for its answer, skipping
 * notifications. On VT_OK either *result is a new reference (rerr->code 0) or rerr holds
 * the server's error (*result NULL). Transport failures as above.
 */
enum vt_status net_rpc_call(struct net_ws *ws, const char *method, json_t *params, json_t **result,
                            struct net_rpc_error *rerr, struct vt_error *err);

#endif
