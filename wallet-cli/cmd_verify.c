/* vitae verify: verify a credential or presentation (JSON with Data Integrity proofs, JWT or
 * COSE) and report in the VC-API shape. */
#include "wallet-cli/net.h"
#include "wallet-cli/wallet.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define MAX_FILES 32

struct verify_args {
    bool json;
    const char *keys[MAX_FILES];
    size_t nkeys;
    const char *dids[MAX_FILES];
    size_t ndids;
    const char *lists[MAX_FILES];
    size_t nlists;
    const char *challenge;
    const char *domain;
    const char *now;
    bool offline;
    bool unseal;
    const char *input;
};

/* Status list credentials given with --status-list, found by their id. */
struct local_lists {
    json_t *docs[MAX_FILES];
    char *urls[MAX_FILES]; /* from URL=FILE, else NULL: matched by the list's own id */
    size_t count;
    bool offline;
};

/* Largest status list credential fetched from its URL. */
#define STATUS_LIST_MAX ((size_t)4 << 20)

static enum vt_status lookup_list(void *ctx, const char *url, json_t **doc_out,
                                  struct vt_error *err)
{
    struct local_lists *l = ctx;
    for (size_t i = 0; i < l->count; i++) {
        const char *id = l->urls[i] != NULL ? l->urls[i] : vt_json_get_str(l->docs[i], "id");
        if (id != NULL && strcmp(id, url) == 0) {
            *doc_out = json_incref(l->docs[i]);
            return VT_OK;
        }
    }
    if (l->offline)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "offline, and no --status-list file has id '%s'",
                            url);
    /* Fetched lists are not trusted for being fetched: the verifier checks their proofs. */
    struct vt_buf b;
    enum vt_status st = net_http_get(url, STATUS_LIST_MAX, &b, err);
    if (st == VT_OK)
        st = vt_json_parse((const char *)b.data, b.len, STATUS_LIST_MAX, VT_JSON_MAX_DEPTH, doc_out,
                           err);
    vt_buf_release(&b);
    if (st != VT_OK)
        return vt_error_prefix(err, st,
                               "cannot fetch the status list (use --status-list URL=FILE "
                               "or --offline)");
    return VT_OK;
}

/* The one JSON document --json prints when verification could not even start. */
static void print_failure_json(const char *title, const char *detail)
{
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(1));
    json_object_set_new(o, "verified", json_false());
    json_object_set_new(o, "checks", json_array());
    json_object_set_new(o, "warnings", json_array());
    json_t *e = json_object();
    json_object_set_new(e, "type", json_string(cred_problem_type(CRED_P_PARSING)));
    json_object_set_new(e, "title", json_string(title));
    json_object_set_new(e, "detail", json_string(detail));
    json_t *errs = json_array();
    json_array_append_new(errs, e);
    json_object_set_new(o, "errors", errs);
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    if (cred_json_write(o, 2, &b, NULL) == VT_OK)
        cli_write(b.data, b.len, true);
    vt_buf_release(&b);
    json_decref(o);
}

static int fail(const struct verify_args *a, int rc, const char *title, const char *detail)
{
    cli_error("verify", "%s", detail);
    if (a->json)
        print_failure_json(title, detail);
    return rc;
}

static int parse_args(struct cli *cli, int argc, char **argv, struct verify_args *a)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"key", required_argument, NULL, 'k'},
        {"did-document", required_argument, NULL, 'd'},
        {"status-list", required_argument, NULL, 's'},
        {"challenge", required_argument, NULL, 'C'},
        {"domain", required_argument, NULL, 'D'},
        {"now", required_argument, NULL, 'n'},
        {"offline", no_argument, NULL, 'o'},
        {"unseal", no_argument, NULL, 'u'},
        {"wallet", required_argument, NULL, CLI_OPT_WALLET},
        {"passphrase-file", required_argument, NULL, CLI_OPT_PASSPHRASE_FILE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const struct cli_command *cmd = cli_find("verify");
    int c;
    bool bad = false;
    while ((c = getopt_long(argc, argv, "hk:", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            a->json = true;
            break;
        case 'k':
        case 'd':
        case 's': {
            const char **list = c == 'k' ? a->keys : c == 'd' ? a->dids : a->lists;
            size_t *n = c == 'k' ? &a->nkeys : c == 'd' ? &a->ndids : &a->nlists;
            if (*n == MAX_FILES) {
                cli_error("verify", "too many files for one option (at most %d)", MAX_FILES);
                bad = true;
            } else {
                list[(*n)++] = optarg;
            }
            break;
        }
        case 'C':
            a->challenge = optarg;
            break;
        case 'D':
            a->domain = optarg;
            break;
        case 'n':
            a->now = optarg;
            break;
        case 'o':
            a->offline = true;
            break;
        case 'u':
            a->unseal = true;
            break;
        case CLI_OPT_WALLET:
        case CLI_OPT_PASSPHRASE_FILE:
            (void)cli_common_option(cli, c);
            break;
        case 'h':
            cli_usage(cmd, stdout);
            return EXIT_OK;
        default:
            bad = true;
            break;
        }
    }
    if (!bad && optind != argc - 1) {
        cli_error("verify", "exactly one FILE or - expected");
        bad = true;
    }
    if (bad) {
        cli_usage(cmd, stderr);
        if (a->json)
            print_failure_json("usage", "invalid command line");
        return EXIT_USAGE;
    }
    a->input = argv[optind];
    return -1;
}

static void print_problems(const json_t *list, const char *label)
{
    size_t i;
    const json_t *p;
    json_array_foreach(list, i, p)
    {
        printf("%s: %s: %s\n", label, vt_json_get_str(p, "title"), vt_json_get_str(p, "detail"));
    }
}

static int report(const struct verify_args *a, const struct cred_result *r)
{
    json_t *j = cred_result_to_json(r);
    bool ok = cred_result_verified(r);
    if (a->json) {
        json_t *o = json_object();
        json_object_set_new(o, "version", json_integer(1));
        json_object_update(o, j);
        struct vt_buf b;
        vt_buf_init(&b, (size_t)4 << 20);
        if (cred_json_write(o, 2, &b, NULL) == VT_OK)
            cli_write(b.data, b.len, true);
        vt_buf_release(&b);
        json_decref(o);
    } else {
        printf("verified: %s\n", ok ? "yes" : "no");
        printf("checks:");
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(j, "checks"), i, c)
            printf("%s %s", i == 0 ? "" : ",", json_string_value(c));
        printf("\n");
        print_problems(json_object_get(j, "warnings"), "warning");
        print_problems(json_object_get(j, "errors"), "error");
        fflush(stdout);
    }
    json_decref(j);
    return ok ? EXIT_OK : EXIT_NOT_VALID;
}

static int load_trust(const struct verify_args *a, struct cred_trust *trust,
                      struct local_lists *lists)
{
    struct vt_error err;
    char detail[VT_ERROR_MSG_MAX + 32];
    for (size_t i = 0; i < a->nkeys; i++) {
        struct cred_key *key = NULL;
        enum vt_status st = cred_key_read(a->keys[i], &key, &err);
        if (st != VT_OK)
            return fail(a, cli_exit_code(st), "cannot read key", err.msg);
        cred_trust_add_key(trust, cred_key_id(key), key);
        cred_key_free(key);
    }
    for (size_t i = 0; i < a->ndids; i++) {
        json_t *doc = NULL;
        enum vt_status st = vt_json_read_file(a->dids[i], 1 << 20, VT_JSON_MAX_DEPTH, &doc, &err);
        if (st == VT_OK)
            st = cred_trust_add_did_document(trust, doc, &err);
        json_decref(doc);
        if (st != VT_OK) {
            snprintf(detail, sizeof(detail), "'%s': %s", a->dids[i], err.msg);
            return fail(a, cli_exit_code(st), "cannot read DID document", detail);
        }
    }
    for (size_t i = 0; i < a->nlists; i++) {
        json_t *doc = NULL;
        const char *path = a->lists[i];
        const char *eq = strchr(path, '=');
        char *url = NULL;
        /* URL=FILE serves FILE for URL; a bare FILE serves its own id. */
        if (eq != NULL && (strncmp(path, "https:", 6) == 0 || strncmp(path, "http:", 5) == 0)) {
            url = vt_memdup(path, (size_t)(eq - path) + 1);
            url[eq - path] = '\0';
            path = eq + 1;
        }
        enum vt_status st = vt_json_read_file(path, CRED_DOC_MAX, VT_JSON_MAX_DEPTH, &doc, &err);
        if (st != VT_OK) {
            free(url);
            snprintf(detail, sizeof(detail), "'%s': %s", path, err.msg);
            return fail(a, cli_exit_code(st), "cannot read status list", detail);
        }
        lists->urls[lists->count] = url;
        lists->docs[lists->count++] = doc;
    }
    return -1;
}

/* Bundles take the offline ledger path; its result is printed here because verify prints
 * its own output. */
static int verify_bundle(struct cli *cli, const struct verify_args *a, const struct vt_buf *in)
{
    uint8_t *xsk = NULL;
    struct wallet_key wk;
    int rc;
    if (a->unseal) {
        if ((rc = wallet_unlock_or_fail(cli, &wk)) >= 0)
            return a->json ? (print_failure_json("cannot unlock the wallet", cli->fail_msg), rc)
                           : rc;
        xsk = wk.x25519_sk;
    }
    rc = cli_verify_bundle(cli, in->data, in->len, xsk);
    if (a->unseal)
        wallet_lock(&wk);
    if (cli->result == NULL) {
        if (a->json)
            print_failure_json("cannot verify the bundle", cli->fail_msg);
    } else if (a->json) {
        json_t *o = json_object();
        json_object_set_new(o, "version", json_integer(1));
        json_object_update(o, cli->result);
        cli_write_json(o);
        json_decref(o);
    } else {
        cli->print(cli->result);
    }
    return rc;
}

int cmd_verify(struct cli *cli, int argc, char **argv)
{
    struct verify_args a = {0};
    a.json = cli->json;
    int rc = parse_args(cli, argc, argv, &a);
    if (rc >= 0)
        return rc;
    struct cred_trust *trust = cred_trust_new();
    struct local_lists lists = {0};
    struct cred_verify_options opt;
    cred_verify_options_init(&opt);
    opt.trust = trust;
    opt.challenge = a.challenge;
    opt.domain = a.domain;
    opt.status_lookup = lookup_list;
    opt.status_lookup_ctx = &lists;
    lists.offline = a.offline;
    struct vt_error err;
    struct vt_buf in;
    vt_buf_init(&in, CRED_DOC_MAX);
    rc = load_trust(&a, trust, &lists);
    if (rc < 0 && a.now != NULL &&
        vt_time_parse(a.now, strlen(a.now), &opt.now_ms, &err) != VT_OK) {
        cli_error("verify", "--now: %s", err.msg);
        rc = a.json ? (print_failure_json("usage", err.msg), EXIT_USAGE) : EXIT_USAGE;
    }
    if (rc < 0) {
        vt_buf_release(&in);
        enum vt_status st = cli_read_file(a.input, LEDGER_BUNDLE_DEFAULT_MAX, &in, &err);
        if (st == VT_OK && !cli_is_bundle(in.data, in.len) && in.len > CRED_DOC_MAX)
            st = vt_error_set(&err, VT_ERR_TOO_LARGE, "'%s' is over the %zu KiB credential cap",
                              a.input, CRED_DOC_MAX >> 10);
        if (st != VT_OK) {
            rc = fail(&a, cli_exit_code(st), "cannot read input", err.msg);
        } else if (cli_is_bundle(in.data, in.len)) {
            rc = verify_bundle(cli, &a, &in);
        } else {
            struct cred_result *r = NULL;
            st = cred_verify(in.data, in.len, &opt, &r, &err);
            rc = report(&a, r);
            if (st != VT_OK) {
                cli_error("verify", "%s", err.msg);
                rc = cli_exit_code(st);
            }
            cred_result_free(r);
        }
    }
    vt_buf_release(&in);
    for (size_t i = 0; i < lists.count; i++) {
        json_decref(lists.docs[i]);
        free(lists.urls[i]);
    }
    cred_trust_free(trust);
    return rc;
}
