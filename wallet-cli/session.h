/* A logged-in connection to the wallet's server: unlock, connect, challenge–response login
 * (specs/api.md §7.1), then calls whose errors become exit codes (specs/wallet.md §5). */
#ifndef VITAE_WALLET_SESSION_H
#define VITAE_WALLET_SESSION_H

#include "wallet-cli/net.h"
#include "wallet-cli/wallet.h"

struct session {
    struct net_ws ws;
    struct wallet_key wk;
    json_t *cfg;        /* the wallet configuration */
    json_t *whoami;     /* the login answer */
    const char *server; /* borrowed from cfg */
};

/*
 * Unlocks the wallet key (before anything else), reads the configuration, connects to url
 * (NULL: the remembered server) and logs in. Returns -1 on success, else the exit code
 * after reporting: 77 wrong passphrase or refused login, 78 no server configured,
 * 69 server unavailable.
 */
int session_open(struct cli *cli, struct session *s, const char *url);
void session_close(struct session *s);

/*
 * Calls method; returns -1 with *result (new reference) on success, else the exit code
 * after reporting the server's error as one line with what to do.
 */
int session_call(struct cli *cli, struct session *s, const char *method, json_t *params,
                 json_t **result);

/* The exit code for a JSON-RPC error code. */
int session_exit_for_rpc(int code);

/* The learner id to act on: the option when given, else the logged-in learner's; NULL after
 * reporting (exit code in *rc) when there is none. */
const char *session_learner(struct cli *cli, struct session *s, const char *opt, int *rc);

#endif
