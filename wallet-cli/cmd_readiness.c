/* vitae readiness: how ready a learner, or a team, is for a role profile (HR). */
#include "wallet-cli/session.h"

#include <getopt.h>
#include <string.h>

static void print_report(const json_t *r)
{
    if (json_object_get(r, "people") != NULL) {
        printf("role %s: %.0f people, %.0f ready, mean score %.2f\n", vt_json_get_str(r, "role"),
               json_number_value(json_object_get(r, "people")),
               json_number_value(json_object_get(r, "ready")),
               json_number_value(json_object_get(r, "mean_score")));
        size_t i;
        const json_t *q;
        json_array_foreach(json_object_get(r, "requirements"), i, q)
            printf("  %-28s coverage %.2f\n", vt_json_get_str(q, "skill"),
                   json_number_value(json_object_get(q, "coverage")));
        return;
    }
    printf("role %s: score %.2f, p_ready %.2f\n", vt_json_get_str(r, "role"),
           json_number_value(json_object_get(r, "score")),
           json_number_value(json_object_get(r, "p_ready")));
    size_t i;
    const json_t *g;
    json_array_foreach(json_object_get(r, "gaps"), i, g)
        printf("  gap %-24s level %.2f of %.2f\n", vt_json_get_str(g, "skill"),
               json_number_value(json_object_get(g, "level")),
               json_number_value(json_object_get(g, "required")));
}

int cmd_readiness(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"learner", required_argument, NULL, 'l'},
        {"team", no_argument, NULL, 't'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *learner_opt = NULL;
    bool team = false;
    int c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((rc = cli_common_option(cli, c)) != -2) {
            if (rc >= 0)
                return rc;
        } else if (c == 'l') {
            learner_opt = optarg;
        } else if (c == 't') {
            team = true;
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(cli, "exactly one ROLE expected");
    if (team && learner_opt != NULL)
        return cli_usage_error(cli, "--team and --learner exclude each other");
    const char *role = argv[optind];
    struct session s;
    if ((rc = session_open(cli, &s, NULL)) >= 0) {
        session_close(&s);
        return rc;
    }
    json_t *res = NULL;
    if (team) {
        rc = session_call(cli, &s, "readiness.team", json_pack("{s:s}", "role", role), &res);
    } else {
        const char *learner = session_learner(cli, &s, learner_opt, &rc);
        if (learner != NULL)
            rc = session_call(cli, &s, "readiness.report",
                              json_pack("{s:s,s:s}", "learner", learner, "role", role), &res);
    }
    session_close(&s);
    if (rc >= 0)
        return rc;
    cli_set_result(cli, res, print_report);
    return EXIT_OK;
}
