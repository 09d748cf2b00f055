/* vitae connect: log in to a server by challenge–response and remember it. */
#include "wallet-cli/session.h"

#include <getopt.h>
#include <string.h>

static void print_connected(const json_t *r)
{
    printf("connected to %s as %s\n", vt_json_get_str(r, "server"), vt_json_get_str(r, "did"));
    printf("server:  %s\n", vt_json_get_str(r, "server_did"));
    if (vt_json_get_str(r, "learner") != NULL)
        printf("learner: %s\n", vt_json_get_str(r, "learner"));
    const json_t *roles = json_object_get(r, "roles");
    size_t i;
    const json_t *v;
    json_array_foreach(roles, i, v)
        printf("%s%s", i == 0 ? "roles:   " : ", ", json_string_value(v));
    if (json_array_size(roles) > 0)
        printf("\n");
}

int cmd_connect(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    int c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((rc = cli_common_option(cli, c)) >= 0)
            return rc;
    }
    if (optind != argc - 1)
        return cli_usage_error(cli, "exactly one URL expected (ws://HOST:PORT)");
    const char *url = argv[optind];
    struct vt_error err;
    struct net_url u;
    if (net_url_parse(url, "/v1", &u, &err) != VT_OK)
        return cli_usage_error(cli, "%s", err.msg);
    struct session s;
    rc = session_open(cli, &s, url);
    if (rc >= 0) {
        session_close(&s);
        return rc;
    }
    char when[VT_TIME_MAX];
    vt_time_format(vt_time_now_ms(), when);
    json_t *cfg = s.cfg;
    json_object_set_new(cfg, "version", json_integer(1));
    json_object_set_new(cfg, "server", json_string(url));
    json_object_set(cfg, "server_did", json_object_get(cfg, "server_did_seen"));
    json_object_del(cfg, "server_did_seen");
    json_object_set_new(cfg, "did", json_string(s.wk.did));
    json_object_set_new(cfg, "connected", json_string(when));
    static const char *const copied[] = {"principal", "learner", "roles"};
    for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
        json_t *v = json_object_get(s.whoami, copied[i]);
        if (v != NULL)
            json_object_set(cfg, copied[i], v);
        else
            json_object_del(cfg, copied[i]);
    }
    enum vt_status st = wallet_config_write(cli, cfg, &err);
    json_t *r = json_deep_copy(cfg);
    session_close(&s);
    if (st != VT_OK) {
        json_decref(r);
        return cli_fail_err(cli, &err);
    }
    cli_set_result(cli, r, print_connected);
    return EXIT_OK;
}
