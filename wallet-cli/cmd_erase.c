/* vitae erase: erase a learner's record on the server (crypto-shredding of the payloads,
 * specs/ledger.md), after an explicit confirmation. */
#include "wallet-cli/session.h"

#include <getopt.h>
#include <string.h>

static void print_erased(const json_t *r)
{
    printf("erased learner %s (erasure event at ledger index %.0f)\n",
           vt_json_get_str(r, "learner"), json_number_value(json_object_get(r, "index")));
}

int cmd_erase(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"yes", no_argument, NULL, 'y'},
        {"learner", required_argument, NULL, 'l'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    bool yes = false;
    const char *learner_opt = NULL;
    int c, rc;
    while ((c = getopt_long(argc, argv, "hy", opts, NULL)) != -1) {
        if ((rc = cli_common_option(cli, c)) != -2) {
            if (rc >= 0)
                return rc;
        } else if (c == 'y') {
            yes = true;
        } else if (c == 'l') {
            learner_opt = optarg;
        }
    }
    if (optind != argc)
        return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
    struct session s;
    if ((rc = session_open(cli, &s, NULL)) >= 0) {
        session_close(&s);
        return rc;
    }
    const char *learner = session_learner(cli, &s, learner_opt, &rc);
    bool admin = false;
    size_t i;
    const json_t *role;
    json_array_foreach(json_object_get(s.whoami, "roles"), i, role) admin =
        admin || strcmp(json_string_value(role), "admin") == 0;
    /* specs/api.md has no learner-side erasure request yet: only an administrator erases. */
    if (learner != NULL && !admin)
        rc = cli_fail(cli, EXIT_NOPERM,
                      "%s lets only its administrator erase a record; ask the institution to run "
                      "'vitae erase --learner %s'",
                      s.server, learner);
    if (learner != NULL && rc < 0 && !yes) {
        char q[512], answer[128];
        snprintf(q, sizeof(q),
                 "This erases the record of learner %s on %s for good.\n"
                 "Type the learner id to confirm: ",
                 learner, s.server);
        if (!cli_ask(q, answer, sizeof(answer)))
            rc = cli_usage_error(cli, "refusing to erase without confirmation: no terminal to "
                                      "ask on; pass --yes");
        else if (strcmp(answer, learner) != 0)
            rc = cli_fail(cli, EXIT_USAGE, "not confirmed; nothing was erased");
    }
    json_t *res = NULL;
    if (learner != NULL && rc < 0)
        rc = session_call(cli, &s, "admin.erase_learner", json_pack("{s:s}", "learner", learner),
                          &res);
    if (rc < 0)
        json_object_set_new(res, "learner", json_string(learner));
    session_close(&s);
    if (rc >= 0)
        return rc;
    cli_set_result(cli, res, print_erased);
    return EXIT_OK;
}
