/* vitae init and vitae whoami: create the wallet; say who it is without unlocking it. */
#include "wallet-cli/keyio.h"

#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void print_identity(const json_t *r)
{
    printf("%s\n", vt_json_get_str(r, "did"));
    const char *s;
    if ((s = vt_json_get_str(r, "server")) != NULL)
        printf("server:  %s\n", s);
    if ((s = vt_json_get_str(r, "learner")) != NULL)
        printf("learner: %s\n", s);
    if ((s = vt_json_get_str(r, "wallet")) != NULL)
        printf("wallet:  %s\n", s);
}

static json_t *identity(const uint8_t pk[VT_ED25519_PK_LEN], int64_t created_ms, const char *dir)
{
    char did[VT_DIDKEY_MAX], vm[VT_DIDKEY_MAX], when[VT_TIME_MAX];
    vt_didkey_from_public(pk, did);
    vt_didkey_vm_from_public(pk, vm);
    vt_time_format(created_ms, when);
    return json_pack("{s:s,s:s,s:s,s:s}", "did", did, "verificationMethod", vm, "created", when,
                     "wallet", dir);
}

/* Moves the current keystore into keys/ so that a replaced key stays recoverable. */
enum vt_status wallet_retire_current(const struct cli *cli, struct vt_error *err)
{
    char path[PATH_MAX], dst[PATH_MAX], name[128];
    struct ks_info info;
    struct vt_buf b;
    enum vt_status st = wallet_info(cli, &info, err);
    if (st != VT_OK)
        return st;
    char did[VT_DIDKEY_MAX];
    vt_didkey_from_public(info.pk, did);
    snprintf(name, sizeof(name), "keys/%013lld-%.12s.key", (long long)info.created_ms,
             did + strlen("did:key:z6Mk"));
    st = wallet_path(cli, "key", path, err);
    if (st == VT_OK)
        st = wallet_path(cli, name, dst, err);
    if (st == VT_OK)
        st = cli_read_file(path, KS_KEYSTORE_LEN, &b, err);
    if (st == VT_OK) {
        st = cli_write_file(dst, b.data, b.len, 0600, true, err);
        vt_buf_release(&b);
    }
    return st;
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"kdf", required_argument, NULL, 'k'},
        {"import", required_argument, NULL, 'i'},
        {"force", no_argument, NULL, 'f'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *kdf = "interactive", *import = NULL;
    bool force = false;
    int c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((rc = cli_common_option(cli, c)) != -2) {
            if (rc >= 0)
                return rc;
        } else if (c == 'k') {
            kdf = optarg;
        } else if (c == 'i') {
            import = optarg;
        } else if (c == 'f') {
            force = true;
        }
    }
    if (optind != argc)
        return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
    struct vt_error err;
    struct ks_params params;
    if (ks_params_named(kdf, &params, &err) != VT_OK)
        return cli_usage_error(cli, "%s", err.msg);
    struct ks_info old;
    bool exists = wallet_info(cli, &old, &err) == VT_OK;
    if (exists && !force)
        return cli_fail(cli, EXIT_DATAERR,
                        "a wallet exists already in '%s'; use --force to replace its key (the "
                        "old one is kept in keys/)",
                        cli->wallet);
    struct vt_key key;
    memset(&key, 0, sizeof(key));
    enum vt_status st = VT_OK;
    if (import != NULL)
        st = keyio_import(import, &key, &err);
    else
        vt_key_generate(&key);
    if (st != VT_OK)
        return cli_fail_err(cli, &err);

    char *pass = sodium_malloc(CLI_PASSPHRASE_MAX);
    if (pass == NULL)
        abort();
    size_t pass_len = 0;
    uint8_t ks[KS_KEYSTORE_LEN];
    int64_t now = vt_time_now_ms();
    st = cli_passphrase(cli, "New passphrase for the wallet: ", true, pass, &pass_len, &err);
    if (st == VT_OK)
        st = ks_keystore_seal(&key, now, pass, pass_len, &params, ks, &err);
    sodium_free(pass);
    if (st == VT_OK)
        st = wallet_mkdirs(cli, &err);
    if (st == VT_OK && exists)
        st = wallet_retire_current(cli, &err);
    char path[PATH_MAX];
    if (st == VT_OK)
        st = wallet_path(cli, "key", path, &err);
    if (st == VT_OK)
        st = cli_write_file(path, ks, sizeof(ks), 0600, !exists, &err);
    json_t *r = identity(key.pk, now, cli->wallet);
    vt_key_release(&key);
    if (st != VT_OK) {
        json_decref(r);
        return cli_fail_err(cli, &err);
    }
    cli_set_result(cli, r, print_identity);
    return EXIT_OK;
}

int cmd_whoami(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    int c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((rc = cli_common_option(cli, c)) >= 0)
            return rc;
    }
    if (optind != argc)
        return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
    struct vt_error err;
    struct ks_info info;
    json_t *cfg = NULL;
    if (wallet_info(cli, &info, &err) != VT_OK || wallet_config_read(cli, &cfg, &err) != VT_OK)
        return cli_fail_err(cli, &err);
    json_t *r = identity(info.pk, info.created_ms, cli->wallet);
    struct vt_key pub;
    uint8_t xpk[VT_X25519_LEN];
    vt_key_from_public(&pub, info.pk);
    if (vt_key_x25519(&pub, xpk, NULL, &err) == VT_OK) {
        struct vt_buf mb;
        vt_buf_init(&mb, 128);
        if (vt_multicodec_wrap(VT_MULTICODEC_X25519_PUB, xpk, sizeof(xpk), &mb, &err) == VT_OK) {
            struct vt_buf z;
            vt_buf_init(&z, 128);
            if (vt_multibase_encode(VT_MULTIBASE_BASE58BTC, mb.data, mb.len, &z, &err) == VT_OK)
                json_object_set_new(r, "keyAgreement", json_string((const char *)z.data));
            vt_buf_release(&z);
        }
        vt_buf_release(&mb);
    }
    static const char *const copied[] = {"server", "server_did", "principal", "learner", "roles"};
    for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
        json_t *v = json_object_get(cfg, copied[i]);
        if (v != NULL)
            json_object_set(r, copied[i], v);
    }
    json_decref(cfg);
    cli_set_result(cli, r, print_identity);
    return EXIT_OK;
}
