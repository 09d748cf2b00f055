/* vitae consent grant | revoke | list: who may read my record (specs/api.md §7.3). */
#include "wallet-cli/session.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define SCOPES_MAX 8
#define DAYS_MAX 3650

static const char *const known_scopes[] = {"ledger.read", "twin.read", "portable.export"};

static void print_grant(const json_t *r)
{
    printf("%s consent %s (ledger index %.0f)\n",
           json_is_true(json_object_get(r, "revoked")) ? "revoked" : "granted",
           vt_json_get_str(r, "id"), json_number_value(json_object_get(r, "index")));
}

static void print_list(const json_t *r)
{
    size_t i, j;
    const json_t *g, *sc;
    const json_t *grants = json_object_get(r, "grants");
    if (json_array_size(grants) == 0)
        printf("no consent grants\n");
    json_array_foreach(grants, i, g)
    {
        printf("%s  %-8s  until %s  %s  ", vt_json_get_str(g, "id"),
               vt_json_get_str(g, "state") ? vt_json_get_str(g, "state") : "?",
               vt_json_get_str(g, "expires") ? vt_json_get_str(g, "expires") : "?",
               vt_json_get_str(g, "audience") ? vt_json_get_str(g, "audience") : "?");
        json_array_foreach(json_object_get(g, "scope"), j, sc)
            printf("%s%s", j ? "," : "", json_string_value(sc));
        printf("\n");
    }
}

static bool known_scope(const char *s)
{
    for (size_t i = 0; i < sizeof(known_scopes) / sizeof(known_scopes[0]); i++) {
        if (strcmp(s, known_scopes[i]) == 0)
            return true;
    }
    return false;
}

static int parse_scopes(struct cli *cli, const char *list, json_t *out)
{
    char tmp[256];
    if (strlen(list) >= sizeof(tmp))
        return cli_usage_error(cli, "--scope is too long");
    snprintf(tmp, sizeof(tmp), "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(tmp, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        if (!known_scope(t))
            return cli_usage_error(cli,
                                   "unknown scope '%s' (ledger.read, twin.read, "
                                   "portable.export)",
                                   t);
        if (json_array_size(out) == SCOPES_MAX)
            return cli_usage_error(cli, "at most %d scopes", SCOPES_MAX);
        json_array_append_new(out, json_string(t));
    }
    return json_array_size(out) > 0 ? -1 : cli_usage_error(cli, "--scope names no scope");
}

static json_t *signed_grant(const struct wallet_key *wk, json_t *grant, struct vt_error *err)
{
    struct vt_buf msg, sig;
    uint8_t s[VT_ED25519_SIG_LEN];
    vt_buf_init(&msg, 65536);
    vt_buf_init(&sig, 256);
    enum vt_status st = vt_buf_append_str(&msg, "vitae/consent/v1\n", err);
    if (st == VT_OK)
        st = vt_jcs_write(grant, &msg, err);
    if (st == VT_OK) {
        vt_key_sign(&wk->key, msg.data, msg.len, s);
        st = vt_base64url_encode(s, sizeof(s), &sig, err);
    }
    json_t *doc = st == VT_OK
                      ? json_pack("{s:O,s:s}", "grant", grant, "signature", (const char *)sig.data)
                      : NULL;
    vt_buf_release(&msg);
    vt_buf_release(&sig);
    return doc;
}

static int grant(struct cli *cli, json_t *scopes, const char *expires, long days,
                 const char *audience)
{
    struct vt_error err;
    uint8_t pk[VT_ED25519_PK_LEN];
    if (vt_didkey_parse(audience, strlen(audience), pk, &err) != VT_OK)
        return cli_usage_error(cli, "AUDIENCE must be an Ed25519 did:key: %s", err.msg);
    char when[VT_TIME_MAX];
    int64_t ms;
    if (expires != NULL) {
        if (vt_time_parse(expires, strlen(expires), &ms, &err) != VT_OK)
            return cli_usage_error(cli, "--expires: %s", err.msg);
        snprintf(when, sizeof(when), "%s", expires);
    } else {
        vt_time_format(vt_time_now_ms() / 1000 * 1000 + (int64_t)days * 86400000, when);
    }
    struct session s;
    int rc;
    if ((rc = session_open(cli, &s, NULL)) >= 0) {
        session_close(&s);
        return rc;
    }
    const char *learner = session_learner(cli, &s, NULL, &rc);
    json_t *res = NULL;
    if (learner != NULL) {
        json_t *g = json_pack("{s:s,s:s,s:s,s:O,s:s}", "type", "VitaeConsent", "learner", learner,
                              "audience", audience, "scope", scopes, "expires", when);
        json_t *doc = signed_grant(&s.wk, g, &err);
        json_decref(g);
        rc = doc == NULL ? cli_fail_err(cli, &err)
                         : session_call(cli, &s, "consent.grant", doc, &res);
    }
    session_close(&s);
    if (rc >= 0)
        return rc;
    json_object_set_new(res, "audience", json_string(audience));
    json_object_set_new(res, "expires", json_string(when));
    json_object_set(res, "scope", scopes);
    cli_set_result(cli, res, print_grant);
    return EXIT_OK;
}

static int revoke_or_list(struct cli *cli, const char *id)
{
    struct session s;
    int rc;
    if ((rc = session_open(cli, &s, NULL)) >= 0) {
        session_close(&s);
        return rc;
    }
    const char *learner = session_learner(cli, &s, NULL, &rc);
    json_t *res = NULL;
    if (learner != NULL && id != NULL)
        rc = session_call(cli, &s, "consent.revoke",
                          json_pack("{s:s,s:s}", "learner", learner, "id", id), &res);
    else if (learner != NULL)
        rc = session_call(cli, &s, "consent.list", json_pack("{s:s}", "learner", learner), &res);
    session_close(&s);
    if (rc >= 0)
        return rc;
    if (id != NULL)
        json_object_set_new(res, "revoked", json_true());
    cli_set_result(cli, res, id != NULL ? print_grant : print_list);
    return EXIT_OK;
}

int cmd_consent(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"scope", required_argument, NULL, 's'},
        {"expires", required_argument, NULL, 'e'},
        {"days", required_argument, NULL, 'd'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *expires = NULL;
    long days = 0;
    json_t *scopes = json_array();
    int c, rc = -1;
    while (rc < 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((rc = cli_common_option(cli, c)) != -2) {
            continue;
        } else if (c == 's') {
            rc = parse_scopes(cli, optarg, scopes);
        } else if (c == 'e') {
            expires = optarg;
            rc = -1;
        } else if (c == 'd') {
            char *end;
            days = strtol(optarg, &end, 10);
            rc = *end != '\0' || days < 1 || days > DAYS_MAX
                     ? cli_usage_error(cli, "--days takes 1..%d", DAYS_MAX)
                     : -1;
        }
    }
    if (rc < 0 && optind == argc)
        rc = cli_usage_error(cli, "expected one of grant, revoke, list");
    const char *sub = rc < 0 ? argv[optind++] : NULL;
    int nargs = argc - optind;
    bool grant_opts = json_array_size(scopes) > 0 || expires != NULL || days != 0;
    if (rc < 0 && strcmp(sub, "grant") == 0) {
        if (nargs != 1)
            rc = cli_usage_error(cli, "'consent grant' takes one AUDIENCE (a did:key)");
        else if (json_array_size(scopes) == 0)
            rc = cli_usage_error(cli, "--scope is required");
        else if (expires != NULL && days != 0)
            rc = cli_usage_error(cli, "give --expires or --days, not both");
        else
            rc = grant(cli, scopes, expires, days ? days : 30, argv[optind]);
    } else if (rc < 0 && (strcmp(sub, "revoke") == 0 || strcmp(sub, "list") == 0)) {
        bool revoke = sub[0] == 'r';
        if (grant_opts)
            rc = cli_usage_error(cli, "--scope, --expires and --days apply to 'grant' only");
        else if (nargs != (revoke ? 1 : 0))
            rc = cli_usage_error(cli, revoke ? "'consent revoke' takes one ID"
                                             : "'consent list' takes no arguments");
        else
            rc = revoke_or_list(cli, revoke ? argv[optind] : NULL);
    } else if (rc < 0) {
        rc = cli_usage_error(cli, "unknown subcommand '%s' (grant, revoke, list)", sub);
    }
    json_decref(scopes);
    return rc;
}
