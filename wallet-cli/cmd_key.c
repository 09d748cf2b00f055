/* vitae key rotate | list | export: the wallet key and its history. */
#include "wallet-cli/keyio.h"

#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void print_rotated(const json_t *r)
{
    printf("new key:      %s\n", vt_json_get_str(r, "did"));
    printf("previous key: %s (kept in %s/keys)\n", vt_json_get_str(r, "previous"),
           vt_json_get_str(r, "wallet"));
}

static void print_list(const json_t *r)
{
    size_t i;
    const json_t *k;
    json_array_foreach(json_object_get(r, "keys"), i, k)
    {
        printf("%s  %s  %s\n", json_is_true(json_object_get(k, "current")) ? "*" : " ",
               vt_json_get_str(k, "created"), vt_json_get_str(k, "did"));
    }
}

static void print_key(const json_t *r)
{
    cli_write_json(json_object_get(r, "key"));
}

static int rotate(struct cli *cli)
{
    struct vt_error err;
    struct ks_info info;
    struct wallet_key wk;
    if (wallet_info(cli, &info, &err) != VT_OK)
        return cli_fail_err(cli, &err);
    char *pass = sodium_malloc(CLI_PASSPHRASE_MAX);
    if (pass == NULL)
        abort();
    size_t len = 0;
    char prompt[PATH_MAX + 64];
    snprintf(prompt, sizeof(prompt), "Passphrase for the wallet in %s: ", cli->wallet);
    enum vt_status st = cli_passphrase(cli, prompt, false, pass, &len, &err);
    if (st == VT_OK)
        st = wallet_unlock_with(cli, pass, len, &wk, &err);
    if (st != VT_OK) {
        sodium_free(pass);
        return cli_fail_err(cli, &err);
    }
    /* The new key is sealed under the same passphrase and limits as the old one. */
    struct vt_key fresh;
    uint8_t ks[KS_KEYSTORE_LEN];
    int64_t now = vt_time_now_ms();
    vt_key_generate(&fresh);
    st = ks_keystore_seal(&fresh, now, pass, len, &info.params, ks, &err);
    sodium_free(pass);
    char path[PATH_MAX];
    if (st == VT_OK)
        st = wallet_mkdirs(cli, &err);
    if (st == VT_OK)
        st = wallet_retire_current(cli, &err);
    if (st == VT_OK)
        st = wallet_path(cli, "key", path, &err);
    if (st == VT_OK)
        st = cli_write_file(path, ks, sizeof(ks), 0600, false, &err);
    char did[VT_DIDKEY_MAX];
    vt_didkey_from_public(fresh.pk, did);
    vt_key_release(&fresh);
    json_t *r = json_pack("{s:s,s:s,s:s}", "did", did, "previous", wk.did, "wallet", cli->wallet);
    wallet_lock(&wk);
    if (st != VT_OK) {
        json_decref(r);
        return cli_fail_err(cli, &err);
    }
    json_t *cfg = NULL;
    if (wallet_config_read(cli, &cfg, &err) == VT_OK && json_object_get(cfg, "server") != NULL)
        cli_warn(cli,
                 "%s knows only the previous key; ask its administrator to register %s, "
                 "then run 'vitae connect' again",
                 vt_json_get_str(cfg, "server"), did);
    json_decref(cfg);
    cli_set_result(cli, r, print_rotated);
    return EXIT_OK;
}

static json_t *key_entry(const struct ks_info *info, bool current, const char *file)
{
    char did[VT_DIDKEY_MAX], when[VT_TIME_MAX];
    vt_didkey_from_public(info->pk, did);
    vt_time_format(info->created_ms, when);
    return json_pack("{s:s,s:s,s:b,s:s}", "did", did, "created", when, "current", current, "file",
                     file);
}

static int list(struct cli *cli)
{
    struct vt_error err;
    struct ks_info info;
    json_t *names = NULL;
    if (wallet_info(cli, &info, &err) != VT_OK || wallet_list_dir(cli, "keys", &names, &err))
        return cli_fail_err(cli, &err);
    json_t *keys = json_array();
    json_array_append_new(keys, key_entry(&info, true, "key"));
    /* Newest first: the names start with the creation time. */
    for (size_t i = json_array_size(names); i-- > 0;) {
        char rel[PATH_MAX], path[PATH_MAX];
        struct vt_buf b;
        struct ks_info old;
        snprintf(rel, sizeof(rel), "keys/%s", json_string_value(json_array_get(names, i)));
        if (wallet_path(cli, rel, path, &err) != VT_OK ||
            cli_read_file(path, KS_KEYSTORE_LEN + 1, &b, &err) != VT_OK) {
            cli_warn(cli, "%s", err.msg);
            continue;
        }
        if (ks_keystore_info(b.data, b.len, &old, &err) == VT_OK)
            json_array_append_new(keys, key_entry(&old, false, rel));
        else
            cli_warn(cli, "'%s': %s", path, err.msg);
        vt_buf_release(&b);
    }
    json_decref(names);
    cli_set_result(cli, json_pack("{s:o}", "keys", keys), print_list);
    return EXIT_OK;
}

static int export(struct cli *cli, bool jwk, bool secret)
{
    struct vt_error err;
    json_t *k;
    if (secret) {
        struct wallet_key wk;
        int rc = wallet_unlock_or_fail(cli, &wk);
        if (rc >= 0)
            return rc;
        k = keyio_export(&wk.key, jwk, true);
        wallet_lock(&wk);
        cli_warn(cli, "the output holds the wallet's secret key in the clear");
    } else {
        struct ks_info info;
        struct vt_key pub;
        if (wallet_info(cli, &info, &err) != VT_OK)
            return cli_fail_err(cli, &err);
        vt_key_from_public(&pub, info.pk);
        k = keyio_export(&pub, jwk, false);
    }
    cli_set_result(cli, json_pack("{s:o}", "key", k), print_key);
    return EXIT_OK;
}

int cmd_key(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"jwk", no_argument, NULL, 'j'},
        {"secret", no_argument, NULL, 's'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    bool jwk = false, secret = false;
    int c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((rc = cli_common_option(cli, c)) != -2) {
            if (rc >= 0)
                return rc;
        } else if (c == 'j') {
            jwk = true;
        } else if (c == 's') {
            secret = true;
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(cli, "expected one of rotate, list, export");
    const char *sub = argv[optind];
    if ((jwk || secret) && strcmp(sub, "export") != 0)
        return cli_usage_error(cli, "--jwk and --secret apply to 'key export' only");
    if (strcmp(sub, "rotate") == 0)
        return rotate(cli);
    if (strcmp(sub, "list") == 0)
        return list(cli);
    if (strcmp(sub, "export") == 0)
        return export(cli, jwk, secret);
    return cli_usage_error(cli, "unknown subcommand '%s' (rotate, list, export)", sub);
}
