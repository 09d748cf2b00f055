/* vitae jcs: print the RFC 8785 canonical form (no trailing newline, so that the bytes can
 * be hashed as they are). */
#include "wallet-cli/cli.h"

#include <getopt.h>
#include <stdio.h>

int cmd_jcs(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const struct cli_command *cmd = cli_find("jcs");
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_usage(cmd, stdout);
            return EXIT_OK;
        }
        cli_usage(cmd, stderr);
        return EXIT_USAGE;
    }
    if (optind != argc - 1) {
        cli_error("jcs", "exactly one FILE or - expected");
        cli_usage(cmd, stderr);
        return EXIT_USAGE;
    }
    struct vt_buf in, out;
    struct vt_error err;
    json_t *doc = NULL;
    enum vt_status st = cli_read_input(argv[optind], &in, &err);
    if (st == VT_OK)
        st = vt_json_parse((const char *)in.data, in.len, CRED_DOC_MAX, VT_JSON_MAX_DEPTH, &doc,
                           &err);
    vt_buf_release(&in);
    vt_buf_init(&out, (size_t)2 * CRED_DOC_MAX);
    if (st == VT_OK)
        st = vt_jcs_write(doc, &out, &err);
    json_decref(doc);
    int rc = EXIT_OK;
    if (st != VT_OK) {
        cli_error("jcs", "%s", err.msg);
        rc = cli_exit_code(st);
    } else if (!cli_write(out.data, out.len, false)) {
        cli_error("jcs", "cannot write the result: output error");
        rc = EXIT_IOERR;
    }
    vt_buf_release(&out);
    return rc;
}
