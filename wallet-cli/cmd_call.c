/* vitae call: any JSON-RPC method as the logged-in principal, for what has no command of
 * its own (administration, issuance, frameworks). */
#include "wallet-cli/session.h"

#include <getopt.h>
#include <string.h>

#define PARAMS_MAX ((size_t)64 << 20)

static void print_call(const json_t *r)
{
    cli_write_json(json_object_get(r, "result"));
}

int cmd_call(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    int c, rc;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if ((rc = cli_common_option(cli, c)) >= 0)
            return rc;
    }
    if (optind != argc - 1 && optind != argc - 2)
        return cli_usage_error(cli, "expected METHOD and optionally PARAMS (JSON or -)");
    const char *method = argv[optind];
    const char *text = optind == argc - 2 ? argv[optind + 1] : NULL;
    struct vt_error err;
    json_t *params = NULL;
    if (text != NULL) {
        struct vt_buf b;
        enum vt_status st;
        if (strcmp(text, "-") == 0) {
            st = cli_read_file("-", PARAMS_MAX, &b, &err);
        } else {
            vt_buf_init(&b, PARAMS_MAX);
            st = vt_buf_append_str(&b, text, &err);
        }
        if (st == VT_OK)
            st = vt_json_parse((const char *)b.data, b.len, PARAMS_MAX, VT_JSON_MAX_DEPTH, &params,
                               &err);
        vt_buf_release(&b);
        if (st == VT_OK && !json_is_object(params))
            st = vt_error_set(&err, VT_ERR_INVALID, "PARAMS must be a JSON object");
        if (st != VT_OK) {
            json_decref(params);
            return cli_fail(cli, EXIT_DATAERR, "PARAMS: %s", err.msg);
        }
    }
    struct session s;
    json_t *result = NULL;
    rc = session_open(cli, &s, NULL);
    if (rc < 0)
        rc = session_call(cli, &s, method, params, &result);
    else
        json_decref(params);
    session_close(&s);
    if (rc >= 0)
        return rc;
    cli_set_result(cli, json_pack("{s:s,s:o}", "method", method, "result", result), print_call);
    return EXIT_OK;
}
