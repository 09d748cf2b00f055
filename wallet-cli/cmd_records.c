/* vitae records: my ledger events, a page at a time or all of them. */
#include "wallet-cli/session.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_MAX 1000
/* --all stops here: a learner's chain in a bundle is capped the same way. */
#define ALL_MAX LEDGER_BUNDLE_EVENTS_MAX

static void print_records(const json_t *r)
{
    const json_t *events = json_object_get(r, "events");
    size_t i;
    const json_t *e;
    json_array_foreach(events, i, e)
    {
        const json_t *payload = json_object_get(e, "payload");
        char summary[81] = "";
        if (json_is_true(json_object_get(e, "erased"))) {
            snprintf(summary, sizeof(summary), "(erased)");
        } else if (payload != NULL) {
            struct vt_buf b;
            vt_buf_init(&b, CRED_DOC_MAX);
            if (cred_json_write(payload, 0, &b, NULL) == VT_OK)
                snprintf(summary, sizeof(summary), "%.77s%s", (const char *)b.data,
                         b.len > 77 ? "..." : "");
            vt_buf_release(&b);
        }
        printf("%6.0f  %-24s  %-22s  %s\n", json_number_value(json_object_get(e, "seq")),
               vt_json_get_str(e, "time") ? vt_json_get_str(e, "time") : "",
               vt_json_get_str(e, "type") ? vt_json_get_str(e, "type") : "", summary);
    }
    const json_t *next = json_object_get(r, "next_from");
    if (next != NULL)
        printf("more: vitae records --from %.0f\n", json_number_value(next));
}

static bool parse_count(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

int cmd_records(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"learner", required_argument, NULL, 'l'},
        {"from", required_argument, NULL, 'f'},
        {"limit", required_argument, NULL, 'n'},
        {"all", no_argument, NULL, 'a'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *learner_opt = NULL;
    unsigned long long from = 0, limit = 20;
    bool all = false;
    int c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((rc = cli_common_option(cli, c)) != -2) {
            if (rc >= 0)
                return rc;
        } else if (c == 'l') {
            learner_opt = optarg;
        } else if (c == 'f' && !parse_count(optarg, UINT64_MAX, &from)) {
            return cli_usage_error(cli, "--from takes a sequence number");
        } else if (c == 'n' && (!parse_count(optarg, PAGE_MAX, &limit) || limit == 0)) {
            return cli_usage_error(cli, "--limit takes 1..%d", PAGE_MAX);
        } else if (c == 'a') {
            all = true;
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
    json_t *events = json_array();
    double head = -1;
    bool more = false;
    while (learner != NULL) {
        json_t *page = NULL;
        json_t *params =
            json_pack("{s:s,s:f,s:I,s:b}", "learner", learner, "from_seq", (double)from, "limit",
                      (json_int_t)(all ? PAGE_MAX : limit), "payloads", 1);
        if ((rc = session_call(cli, &s, "ledger.read", params, &page)) >= 0)
            break;
        const json_t *got = json_object_get(page, "events");
        head = json_number_value(json_object_get(page, "head_seq"));
        json_array_extend(events, (json_t *)got);
        size_t n = json_array_size(got);
        if (n > 0)
            from = (unsigned long long)json_number_value(
                       json_object_get(json_array_get(got, n - 1), "seq")) +
                   1;
        json_decref(page);
        more = n > 0 && (double)from <= head;
        if (!all || !more || json_array_size(events) >= ALL_MAX)
            break;
        if (cli_progress_enabled(cli))
            cli_progress(cli, "reading", from, (uint64_t)head + 1);
    }
    cli_progress_end(cli);
    if (rc >= 0 || learner == NULL) {
        json_decref(events);
        session_close(&s);
        return rc;
    }
    json_t *r = json_pack("{s:s,s:f,s:o}", "learner", learner, "head_seq", head, "events", events);
    if (more)
        json_object_set_new(r, "next_from", json_real((double)from));
    session_close(&s);
    cli_set_result(cli, r, print_records);
    return EXIT_OK;
}
