/* Logged-in sessions with vitaed. */
#include "wallet-cli/session.h"

#include <string.h>

int session_exit_for_rpc(int code)
{
    switch (code) {
    case -32700:
    case -32600:
    case -32602:
    case -32004:
    case -32006:
    case -32009:
    case -32011:
        return EXIT_DATAERR;
    case -32601:
        return EXIT_UNAVAILABLE;
    case -32001:
    case -32002:
        return EXIT_NOPERM;
    case -32003:
        return EXIT_NOINPUT;
    case -32005:
    case -32007:
    case -32010:
        return EXIT_TEMPFAIL;
    case -32008:
        return EXIT_NOT_VALID;
    default:
        return EXIT_SOFTWARE;
    }
}

/* What the user can do about a server error, appended to its message. */
static const char *rpc_hint(int code)
{
    switch (code) {
    case -32601:
        return "; this vitaed does not offer it yet";
    case -32001:
        return "; run 'vitae connect URL' again";
    case -32002:
        return "; your role or the learner's consent does not allow it";
    case -32005:
    case -32007:
        return "; try again later";
    default:
        return "";
    }
}

static int transport_fail(struct cli *cli, const struct vt_error *err, const char *server)
{
    if (err->status == VT_ERR_BUSY)
        return cli_fail(cli, EXIT_TEMPFAIL, "%s; try again later", err->msg);
    if (err->status == VT_ERR_IO)
        return cli_fail(cli, EXIT_UNAVAILABLE, "server %s unavailable: %s", server, err->msg);
    if (err->status == VT_ERR_UNSUPPORTED || err->status == VT_ERR_INVALID)
        return cli_fail(cli, EXIT_CONFIG, "%s", err->msg);
    return cli_fail_err(cli, err);
}

int session_call(struct cli *cli, struct session *s, const char *method, json_t *params,
                 json_t **result)
{
    struct net_rpc_error rerr;
    struct vt_error err;
    enum vt_status st = net_rpc_call(&s->ws, method, params, result, &rerr, &err);
    if (st != VT_OK)
        return transport_fail(cli, &err, s->server);
    if (rerr.code != 0)
        return cli_fail(cli, session_exit_for_rpc(rerr.code), "%s: %s (%d)%s", method, rerr.message,
                        rerr.code, rpc_hint(rerr.code));
    return -1;
}

static enum vt_status login_signature(const struct wallet_key *wk, const char *nonce,
                                      const char *server, struct vt_buf *sig, struct vt_error *err)
{
    struct vt_buf msg;
    uint8_t s[VT_ED25519_SIG_LEN];
    vt_buf_init(&msg, 4096);
    enum vt_status st = vt_buf_printf(&msg, err, "vitae/auth/v1\n%s\n%s\n", nonce, server);
    if (st == VT_OK) {
        vt_key_sign(&wk->key, msg.data, msg.len, s);
        st = vt_base64url_encode(s, sizeof(s), sig, err);
    }
    vt_buf_release(&msg);
    return st;
}

int session_open(struct cli *cli, struct session *s, const char *url)
{
    struct vt_error err;
    int rc;
    memset(s, 0, sizeof(*s));
    s->ws.fd = -1;
    if ((rc = wallet_unlock_or_fail(cli, &s->wk)) >= 0)
        return rc;
    if (wallet_config_read(cli, &s->cfg, &err) != VT_OK)
        return cli_fail(cli, EXIT_CONFIG, "%s", err.msg);
    s->server = url != NULL ? url : vt_json_get_str(s->cfg, "server");
    if (s->server == NULL)
        return cli_fail(cli, EXIT_CONFIG,
                        "the wallet is not connected to a server; run 'vitae connect URL' first");
    if (net_ws_connect(&s->ws, s->server, cli, &err) != VT_OK)
        return transport_fail(cli, &err, s->server);
    json_t *ch = NULL;
    if ((rc = session_call(cli, s, "auth.challenge", json_object(), &ch)) >= 0)
        return rc;
    const char *nonce = vt_json_get_str(ch, "nonce");
    const char *server_did = vt_json_get_str(ch, "server");
    if (nonce == NULL || server_did == NULL) {
        json_decref(ch);
        return cli_fail(cli, EXIT_UNAVAILABLE, "server %s sent a malformed challenge", s->server);
    }
    /* A remembered server must still be the same service: the login binds to its key. */
    const char *known = vt_json_get_str(s->cfg, "server_did");
    if (url == NULL && known != NULL && strcmp(known, server_did) != 0) {
        rc = cli_fail(cli, EXIT_NOPERM,
                      "server %s now identifies as %s, not %s as when connected; run 'vitae "
                      "connect' again if that change is expected",
                      s->server, server_did, known);
        json_decref(ch);
        return rc;
    }
    struct vt_buf sig;
    vt_buf_init(&sig, 256);
    enum vt_status st = login_signature(&s->wk, nonce, server_did, &sig, &err);
    json_t *params = json_pack("{s:s,s:s}", "did", s->wk.did, "signature", (const char *)sig.data);
    vt_buf_release(&sig);
    if (st != VT_OK) {
        json_decref(ch);
        json_decref(params);
        return cli_fail_err(cli, &err);
    }
    json_object_set_new(s->cfg, "server_did_seen", json_string(server_did));
    json_decref(ch);
    struct net_rpc_error rerr;
    st = net_rpc_call(&s->ws, "auth.login", params, &s->whoami, &rerr, &err);
    if (st != VT_OK)
        return transport_fail(cli, &err, s->server);
    if (rerr.code == -32001)
        return cli_fail(cli, EXIT_NOPERM,
                        "server %s refused the login of %s: %s; ask its administrator to register "
                        "this DID",
                        s->server, s->wk.did, rerr.message);
    if (rerr.code != 0)
        return cli_fail(cli, session_exit_for_rpc(rerr.code), "auth.login: %s (%d)", rerr.message,
                        rerr.code);
    return -1;
}

void session_close(struct session *s)
{
    net_ws_close(&s->ws);
    wallet_lock(&s->wk);
    json_decref(s->cfg);
    json_decref(s->whoami);
    s->cfg = s->whoami = NULL;
}

const char *session_learner(struct cli *cli, struct session *s, const char *opt, int *rc)
{
    if (opt != NULL)
        return opt;
    const char *l = vt_json_get_str(s->whoami, "learner");
    if (l == NULL)
        *rc = cli_fail(cli, EXIT_USAGE, "%s is not a learner on %s; name one with --learner ID",
                       s->wk.did, s->server);
    return l;
}
