/* vitae twin [show] | export | import | verify: my digital twin and its portable bundle. */
#include "wallet-cli/session.h"

#include <getopt.h>
#include <string.h>
#include <unistd.h>

static void print_show(const json_t *r)
{
    const json_t *t = json_object_get(r, "twin");
    printf("learner %s: %.0f events, %.0f attempts, %.0f skills (%.0f mastered)\n",
           vt_json_get_str(t, "learner"), json_number_value(json_object_get(t, "events")),
           json_number_value(json_object_get(t, "attempts")),
           json_number_value(json_object_get(t, "skills")),
           json_number_value(json_object_get(t, "mastered")));
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(json_object_get(r, "skills"), "skills"), i, v)
    {
        printf("  skill %-24s p_known %.2f  %s\n", vt_json_get_str(v, "skill"),
               json_number_value(json_object_get(v, "p_known")),
               json_is_true(json_object_get(v, "mastered")) ? "mastered" : "");
    }
    json_array_foreach(json_object_get(json_object_get(r, "predictions"), "courses"), i, v)
        printf("  course %-23s p_at_risk %.2f\n", vt_json_get_str(v, "course"),
               json_number_value(json_object_get(v, "p_at_risk")));
    json_array_foreach(json_object_get(json_object_get(r, "recommendations"), "recommendations"), i,
                       v)
        printf("  recommend: work on %s%s\n", vt_json_get_str(v, "skill"),
               json_is_true(json_object_get(v, "struggling")) ? " (struggling)" : "");
    json_array_foreach(json_object_get(json_object_get(r, "flags"), "flags"), i, v)
        printf("  flag %s on %s: %s\n", vt_json_get_str(v, "flag"),
               vt_json_get_str(v, "skill") ? vt_json_get_str(v, "skill") : "-",
               vt_json_get_str(v, "intervention") ? vt_json_get_str(v, "intervention") : "");
}

static void print_exported(const json_t *r)
{
    printf("wrote %s: %.0f bytes%s, sha256 %s\n", vt_json_get_str(r, "file"),
           json_number_value(json_object_get(r, "bytes")),
           json_is_true(json_object_get(r, "sealed")) ? " (sealed)" : "",
           vt_json_get_str(r, "sha256"));
}

static void print_imported(const json_t *r)
{
    const json_t *i = json_object_get(r, "import");
    printf("imported learner %s from %s (%s): %.0f new events, %.0f already present\n",
           vt_json_get_str(i, "learner"), vt_json_get_str(i, "origin"),
           vt_json_get_str(i, "service_key"), json_number_value(json_object_get(i, "imported")),
           json_number_value(json_object_get(i, "present")));
}

static int show(struct cli *cli, const char *learner_opt)
{
    static const char *const parts[] = {"twin.get", "twin.skills", "twin.predictions",
                                        "twin.recommendations", "twin.flags"};
    static const char *const keys[] = {"twin", "skills", "predictions", "recommendations", "flags"};
    struct session s;
    int rc;
    if ((rc = session_open(cli, &s, NULL)) >= 0) {
        session_close(&s);
        return rc;
    }
    const char *learner = session_learner(cli, &s, learner_opt, &rc);
    json_t *r = json_object();
    for (size_t i = 0; learner != NULL && i < sizeof(parts) / sizeof(parts[0]); i++) {
        json_t *v = NULL;
        if ((rc = session_call(cli, &s, parts[i], json_pack("{s:s}", "learner", learner), &v)) >= 0)
            break;
        json_object_set_new(r, keys[i], v);
    }
    session_close(&s);
    if (rc >= 0) {
        json_decref(r);
        return rc;
    }
    cli_set_result(cli, r, print_show);
    return EXIT_OK;
}

static int export(struct cli *cli, const char *learner_opt, const char *recipient, const char *file)
{
    if (strcmp(file, "-") == 0 && (isatty(1) || cli->json))
        return cli_usage_error(cli, "a bundle is binary; give a FILE rather than %s",
                               cli->json ? "- with --json" : "a terminal");
    struct session s;
    int rc;
    if ((rc = session_open(cli, &s, NULL)) >= 0) {
        session_close(&s);
        return rc;
    }
    const char *learner = session_learner(cli, &s, learner_opt, &rc);
    json_t *res = NULL;
    if (learner != NULL) {
        json_t *params = json_pack("{s:s}", "learner", learner);
        if (recipient != NULL)
            json_object_set_new(params, "recipient",
                                json_string(strcmp(recipient, "self") == 0 ? s.wk.did : recipient));
        rc = session_call(cli, &s, "portable.export", params, &res);
    }
    session_close(&s);
    if (rc >= 0)
        return rc;
    const char *b64 = vt_json_get_str(res, "bundle");
    const char *sha = vt_json_get_str(res, "sha256");
    struct vt_buf bundle, hex;
    struct vt_error err;
    vt_buf_init(&bundle, LEDGER_BUNDLE_DEFAULT_MAX);
    vt_buf_init(&hex, 2 * VT_SHA256_LEN + 1);
    enum vt_status st = b64 != NULL ? vt_base64url_decode(b64, strlen(b64), &bundle, &err)
                                    : vt_error_set(&err, VT_ERR_INVALID, "no bundle in the answer");
    uint8_t h[VT_SHA256_LEN];
    vt_sha256(bundle.data, bundle.len, h);
    (void)vt_hex_encode(h, sizeof(h), &hex, NULL);
    if (st == VT_OK && (sha == NULL || strcmp(sha, (const char *)hex.data) != 0))
        st = vt_error_set(&err, VT_ERR_VERIFY, "the bundle does not match its sha256");
    if (st == VT_OK && strcmp(file, "-") == 0)
        st = cli_write(bundle.data, bundle.len, false)
                 ? VT_OK
                 : vt_error_set(&err, VT_ERR_IO, "cannot write the bundle: output error");
    else if (st == VT_OK)
        st = cli_write_file(file, bundle.data, bundle.len, 0600, false, &err);
    json_t *r =
        json_pack("{s:s,s:I,s:s,s:O}", "file", file, "bytes", (json_int_t)bundle.len, "sha256",
                  (const char *)hex.data, "sealed",
                  json_object_get(res, "sealed") ? json_object_get(res, "sealed") : json_false());
    json_decref(res);
    vt_buf_release(&bundle);
    vt_buf_release(&hex);
    if (st != VT_OK) {
        json_decref(r);
        return cli_fail(cli, st == VT_ERR_VERIFY ? EXIT_UNAVAILABLE : cli_exit_code(st),
                        "portable.export: %s", err.msg);
    }
    /* stdout carries the bundle itself; the summary would corrupt it. */
    cli_set_result(cli, r, strcmp(file, "-") == 0 ? NULL : print_exported);
    return EXIT_OK;
}

static int import(struct cli *cli, const char *file)
{
    struct session s;
    struct vt_buf bundle, b64;
    struct vt_error err;
    int rc;
    /* Read before unlocking would reorder failures; the wallet comes first. */
    if ((rc = session_open(cli, &s, NULL)) >= 0) {
        session_close(&s);
        return rc;
    }
    enum vt_status st = cli_read_file(file, LEDGER_BUNDLE_DEFAULT_MAX, &bundle, &err);
    vt_buf_init(&b64, LEDGER_BUNDLE_DEFAULT_MAX / 3 * 4 + 16);
    if (st == VT_OK && !cli_is_bundle(bundle.data, bundle.len))
        st = vt_error_set(&err, VT_ERR_INVALID, "'%s' is not a vitae twin bundle", file);
    if (st == VT_OK)
        st = vt_base64url_encode(bundle.data, bundle.len, &b64, &err);
    vt_buf_release(&bundle);
    if (st != VT_OK) {
        vt_buf_release(&b64);
        session_close(&s);
        return cli_fail_err(cli, &err);
    }
    json_t *res = NULL;
    rc = session_call(cli, &s, "portable.import",
                      json_pack("{s:s}", "bundle", (const char *)b64.data), &res);
    vt_buf_release(&b64);
    session_close(&s);
    if (rc >= 0)
        return rc;
    cli_set_result(cli, json_pack("{s:o}", "import", res), print_imported);
    return EXIT_OK;
}

static int verify(struct cli *cli, bool unseal, const char *file)
{
    struct wallet_key wk;
    int rc;
    if (unseal && (rc = wallet_unlock_or_fail(cli, &wk)) >= 0)
        return rc;
    struct vt_buf b;
    struct vt_error err;
    if (cli_read_file(file, LEDGER_BUNDLE_DEFAULT_MAX, &b, &err) != VT_OK) {
        if (unseal)
            wallet_lock(&wk);
        return cli_fail_err(cli, &err);
    }
    if (!cli_is_bundle(b.data, b.len))
        rc = cli_fail(cli, EXIT_DATAERR, "'%s' is not a vitae twin bundle", file);
    else
        rc = cli_verify_bundle(cli, b.data, b.len, unseal ? wk.x25519_sk : NULL);
    vt_buf_release(&b);
    if (unseal)
        wallet_lock(&wk);
    return rc;
}

int cmd_twin(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"learner", required_argument, NULL, 'l'},
        {"recipient", required_argument, NULL, 'r'},
        {"unseal", no_argument, NULL, 'u'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *learner = NULL, *recipient = NULL;
    bool unseal = false;
    int c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((rc = cli_common_option(cli, c)) != -2) {
            if (rc >= 0)
                return rc;
        } else if (c == 'l') {
            learner = optarg;
        } else if (c == 'r') {
            recipient = optarg;
        } else if (c == 'u') {
            unseal = true;
        }
    }
    const char *sub = optind < argc ? argv[optind++] : "show";
    int nargs = argc - optind;
    if (strcmp(sub, "show") == 0 && nargs == 0 && recipient == NULL && !unseal)
        return show(cli, learner);
    if (strcmp(sub, "export") == 0 && nargs == 1 && !unseal)
        return export(cli, learner, recipient, argv[optind]);
    if (strcmp(sub, "import") == 0 && nargs == 1 && !learner && !recipient && !unseal)
        return import(cli, argv[optind]);
    if (strcmp(sub, "verify") == 0 && nargs == 1 && !learner && !recipient)
        return verify(cli, unseal, argv[optind]);
    if (strcmp(sub, "show") != 0 && strcmp(sub, "export") != 0 && strcmp(sub, "import") != 0 &&
        strcmp(sub, "verify") != 0)
        return cli_usage_error(cli, "unknown subcommand '%s' (show, export, import, verify)", sub);
    return cli_usage_error(cli, "wrong arguments for 'twin %s'", sub);
}
