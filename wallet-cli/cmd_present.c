/* vitae present: a verifiable presentation of chosen wallet credentials, bound to a
 * verifier's challenge and domain and signed with the wallet key (authentication). */
#include "wallet-cli/store.h"

#include <getopt.h>
#include <string.h>

#define MAX_CHOSEN CRED_VP_CREDENTIALS_MAX

static void print_presentation(const json_t *r)
{
    cli_write_json(json_object_get(r, "presentation"));
}

/* The form a presentation embeds: the JSON credential, else its JWT, else its COSE. */
static json_t *embeddable(const json_t *entry)
{
    static const char *const forms[] = {"json", "jwt", "cose_b64u"};
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(entry, forms[i]);
        if (v != NULL)
            return json_incref(v);
    }
    return NULL;
}

static enum vt_status choose(struct cli *cli, const char *const *ids, size_t nids, json_t *out,
                             struct vt_error *err)
{
    if (nids == 0) {
        json_t *all = NULL;
        enum vt_status st = store_all(cli, &all, err);
        if (st != VT_OK)
            return st;
        if (json_array_size(all) > MAX_CHOSEN) {
            json_decref(all);
            return vt_error_set(err, VT_ERR_TOO_LARGE,
                                "the wallet holds more than %d credentials; choose with "
                                "--credential ID",
                                MAX_CHOSEN);
        }
        size_t i;
        json_t *e;
        json_array_foreach(all, i, e) json_array_append_new(out, embeddable(e));
        json_decref(all);
        if (json_array_size(out) == 0)
            return vt_error_set(err, VT_ERR_NOT_FOUND,
                                "no credentials in the wallet; add one with 'vitae credentials "
                                "import FILE'");
        return VT_OK;
    }
    for (size_t i = 0; i < nids; i++) {
        json_t *e = NULL;
        enum vt_status st = store_find(cli, ids[i], &e, err);
        if (st != VT_OK)
            return st;
        json_array_append_new(out, embeddable(e));
        json_decref(e);
    }
    return VT_OK;
}

int cmd_present(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"challenge", required_argument, NULL, 'C'},
        {"domain", required_argument, NULL, 'D'},
        {"credential", required_argument, NULL, 'c'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *challenge = NULL, *domain = NULL;
    const char *ids[MAX_CHOSEN];
    size_t nids = 0;
    int c, rc;
    while ((c = getopt_long(argc, argv, "hc:", opts, NULL)) != -1) {
        if ((rc = cli_common_option(cli, c)) != -2) {
            if (rc >= 0)
                return rc;
        } else if (c == 'C') {
            challenge = optarg;
        } else if (c == 'D') {
            domain = optarg;
        } else if (c == 'c') {
            if (nids == MAX_CHOSEN)
                return cli_usage_error(cli, "at most %d credentials in one presentation",
                                       MAX_CHOSEN);
            ids[nids++] = optarg;
        }
    }
    if (optind != argc)
        return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
    if (challenge == NULL || domain == NULL)
        return cli_usage_error(cli, "--challenge and --domain are required: the verifier gives "
                                    "them so that this presentation cannot be replayed elsewhere");

    struct wallet_key wk;
    if ((rc = wallet_unlock_or_fail(cli, &wk)) >= 0)
        return rc;
    struct vt_error err;
    json_t *chosen = json_array();
    json_t *vp = NULL, *out = NULL;
    struct cred_key *key = cred_key_from_vt(&wk.key);
    enum vt_status st = choose(cli, ids, nids, chosen, &err);
    const json_t *items[MAX_CHOSEN];
    for (size_t i = 0; i < json_array_size(chosen); i++)
        items[i] = json_array_get(chosen, i);
    if (st == VT_OK)
        st = cred_presentation_new(wk.did, items, json_array_size(chosen), &vp, &err);
    /* Only Data Integrity: its proof carries challenge and domain, which every verifier
     * checks; a JWT presentation's nonce and aud would depend on the verifier. */
    if (st == VT_OK) {
        struct cred_di_options di = {.verification_method = wk.vm,
                                     .proof_purpose = "authentication",
                                     .challenge = challenge,
                                     .domain = domain};
        st = cred_sign_di(vp, key, &di, &out, &err);
    }
    cred_key_free(key);
    wallet_lock(&wk);
    size_t count = json_array_size(chosen);
    json_decref(chosen);
    json_decref(vp);
    if (st != VT_OK)
        return cli_fail_err(cli, &err);
    cli_set_result(cli,
                   json_pack("{s:I,s:o}", "credentials", (json_int_t)count, "presentation", out),
                   print_presentation);
    return EXIT_OK;
}
