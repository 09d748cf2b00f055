/* vitae backup | restore: the whole wallet in one file sealed under its passphrase
 * (specs/wallet.md §3). */
#include "wallet-cli/keyio.h"

#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define BACKUP_FORMAT "vitae/wallet-backup/v1"
#define BACKUP_MAX ((size_t)64 << 20)
#define BACKUP_FILES_MAX 100000

static const char backup_magic[KS_MAGIC_LEN] = {'v', 'i', 't', 'a', 'e', '-', 'b', 'k'};

static void print_backup(const json_t *r)
{
    printf("%s %lld files of the wallet of %s\n",
           json_is_true(json_object_get(r, "restored")) ? "restored" : "backed up",
           (long long)json_integer_value(json_object_get(r, "files")), vt_json_get_str(r, "did"));
}

/* A name a backup may carry: "key", "config.json", or keys/ or credentials/ plus a plain file
 * name. Anything else could write outside the wallet. */
static bool safe_name(const char *n)
{
    if (strcmp(n, "key") == 0 || strcmp(n, "config.json") == 0)
        return true;
    const char *base = strncmp(n, "keys/", 5) == 0           ? n + 5
                       : strncmp(n, "credentials/", 12) == 0 ? n + 12
                                                             : NULL;
    if (base == NULL || *base == '\0' || *base == '.' || strlen(base) > 128)
        return false;
    for (const char *p = base; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    }
    return true;
}

static enum vt_status add_file(const struct cli *cli, json_t *files, const char *name,
                               struct vt_error *err)
{
    char path[PATH_MAX];
    struct vt_buf b, e;
    enum vt_status st = wallet_path(cli, name, path, err);
    if (st != VT_OK)
        return st;
    st = cli_read_file(path, CRED_DOC_MAX * 4, &b, err);
    if (st == VT_ERR_NOT_FOUND && strcmp(name, "config.json") == 0) {
        vt_buf_release(&b);
        return VT_OK;
    }
    vt_buf_init(&e, CRED_DOC_MAX * 6);
    if (st == VT_OK)
        st = vt_base64url_encode(b.data, b.len, &e, err);
    if (st == VT_OK)
        json_array_append_new(files,
                              json_pack("{s:s,s:s}", "name", name, "data", (const char *)e.data));
    vt_buf_release(&b);
    vt_buf_release(&e);
    return st;
}

static enum vt_status collect(const struct cli *cli, json_t *files, struct vt_error *err)
{
    enum vt_status st = add_file(cli, files, "key", err);
    if (st == VT_OK)
        st = add_file(cli, files, "config.json", err);
    static const char *const subs[] = {"keys", "credentials"};
    for (size_t s = 0; st == VT_OK && s < sizeof(subs) / sizeof(subs[0]); s++) {
        json_t *names = NULL;
        st = wallet_list_dir(cli, subs[s], &names, err);
        for (size_t i = 0; st == VT_OK && i < json_array_size(names); i++) {
            char rel[PATH_MAX];
            snprintf(rel, sizeof(rel), "%s/%s", subs[s],
                     json_string_value(json_array_get(names, i)));
            if (safe_name(rel))
                st = add_file(cli, files, rel, err);
        }
        json_decref(names);
    }
    return st;
}

static char *read_pass(struct cli *cli, size_t *len, struct vt_error *err)
{
    char *pass = sodium_malloc(CLI_PASSPHRASE_MAX);
    if (pass == NULL)
        abort();
    char prompt[PATH_MAX + 64];
    snprintf(prompt, sizeof(prompt), "Passphrase for the wallet in %s: ", cli->wallet);
    if (cli_passphrase(cli, prompt, false, pass, len, err) != VT_OK) {
        sodium_free(pass);
        return NULL;
    }
    return pass;
}

int cmd_backup(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    int c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((rc = cli_common_option(cli, c)) >= 0)
            return rc;
    }
    if (optind != argc - 1)
        return cli_usage_error(cli, "exactly one FILE expected");
    const char *out = argv[optind];
    struct vt_error err;
    struct ks_info info;
    struct wallet_key wk;
    size_t len = 0;
    if (wallet_info(cli, &info, &err) != VT_OK)
        return cli_fail_err(cli, &err);
    char *pass = read_pass(cli, &len, &err);
    if (pass == NULL)
        return cli_fail_err(cli, &err);
    /* A backup sealed under a passphrase that does not open the wallet would be useless. */
    enum vt_status st = wallet_unlock_with(cli, pass, len, &wk, &err);
    json_t *files = json_array();
    if (st == VT_OK)
        st = collect(cli, files, &err);
    struct vt_buf plain, sealed;
    vt_buf_init(&plain, BACKUP_MAX);
    vt_buf_init(&sealed, BACKUP_MAX + 256);
    char when[VT_TIME_MAX];
    vt_time_format(vt_time_now_ms(), when);
    json_t *doc = json_pack("{s:s,s:s,s:s,s:O}", "format", BACKUP_FORMAT, "created", when, "did",
                            wk.did, "files", files);
    if (st == VT_OK)
        st = vt_jcs_write(doc, &plain, &err);
    if (st == VT_OK)
        st = ks_blob_seal(backup_magic, plain.data, plain.len, pass, len, &info.params, &sealed,
                          &err);
    sodium_free(pass);
    vt_buf_release_secret(&plain);
    json_decref(doc);
    if (st == VT_OK)
        st = cli_write_file(out, sealed.data, sealed.len, 0600, true, &err);
    vt_buf_release(&sealed);
    json_t *r = json_pack("{s:s,s:s,s:I,s:b}", "file", out, "did", wk.did, "files",
                          (json_int_t)json_array_size(files), "restored", 0);
    json_decref(files);
    wallet_lock(&wk);
    if (st != VT_OK) {
        json_decref(r);
        if (st == VT_ERR_EXISTS)
            return cli_fail(cli, EXIT_DATAERR, "'%s' exists already; choose another file", out);
        return cli_fail_err(cli, &err);
    }
    cli_set_result(cli, r, print_backup);
    return EXIT_OK;
}

/* Checks every entry before anything is written, so a bad backup changes nothing. */
static enum vt_status check_backup(const json_t *doc, const char *pass, size_t len,
                                   char did[VT_DIDKEY_MAX], struct vt_error *err)
{
    const char *fmt = vt_json_get_str(doc, "format");
    const json_t *files = vt_json_get_arr(doc, "files");
    if (fmt == NULL || strcmp(fmt, BACKUP_FORMAT) != 0 || files == NULL ||
        json_array_size(files) > BACKUP_FILES_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "not a %s document", BACKUP_FORMAT);
    bool have_key = false;
    size_t i;
    const json_t *f;
    json_array_foreach(files, i, f)
    {
        const char *name = vt_json_get_str(f, "name");
        const char *data = vt_json_get_str(f, "data");
        if (name == NULL || data == NULL || !safe_name(name))
            return vt_error_set(err, VT_ERR_INVALID, "backup entry %zu has a bad name", i);
        if (strcmp(name, "key") != 0)
            continue;
        struct vt_buf ks;
        struct vt_key key;
        uint8_t xsk[VT_X25519_LEN];
        vt_buf_init(&ks, KS_KEYSTORE_LEN);
        enum vt_status st = vt_base64url_decode(data, strlen(data), &ks, err);
        if (st == VT_OK)
            st = ks_keystore_open(ks.data, ks.len, pass, len, &key, xsk, err);
        vt_buf_release(&ks);
        if (st != VT_OK)
            return vt_error_prefix(err, st, "backup keystore");
        vt_didkey_from_public(key.pk, did);
        vt_key_release(&key);
        sodium_memzero(xsk, sizeof(xsk));
        have_key = true;
    }
    if (!have_key)
        return vt_error_set(err, VT_ERR_INVALID, "backup holds no keystore");
    return VT_OK;
}

static enum vt_status restore_files(const struct cli *cli, const json_t *files,
                                    struct vt_error *err)
{
    enum vt_status st = wallet_mkdirs(cli, err);
    size_t i;
    const json_t *f;
    json_array_foreach(files, i, f)
    {
        if (st != VT_OK)
            break;
        const char *data = vt_json_get_str(f, "data");
        char path[PATH_MAX];
        struct vt_buf b;
        vt_buf_init(&b, CRED_DOC_MAX * 4);
        st = wallet_path(cli, vt_json_get_str(f, "name"), path, err);
        if (st == VT_OK)
            st = vt_base64url_decode(data, strlen(data), &b, err);
        if (st == VT_OK)
            st = cli_write_file(path, b.data, b.len, 0600, false, err);
        vt_buf_release(&b);
    }
    return st;
}

int cmd_restore(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    bool force = false;
    int c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((rc = cli_common_option(cli, c)) != -2) {
            if (rc >= 0)
                return rc;
        } else if (c == 'f') {
            force = true;
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(cli, "exactly one FILE expected");
    const char *in = argv[optind];
    struct vt_error err;
    struct ks_info info;
    if (!force && wallet_info(cli, &info, &err) == VT_OK)
        return cli_fail(cli, EXIT_DATAERR,
                        "a wallet exists already in '%s'; use --force to overwrite it, or "
                        "--wallet DIR to restore elsewhere",
                        cli->wallet);
    struct vt_buf sealed, plain;
    if (cli_read_file(in, BACKUP_MAX + 256, &sealed, &err) != VT_OK)
        return cli_fail_err(cli, &err);
    size_t len = 0;
    char *pass = read_pass(cli, &len, &err);
    if (pass == NULL) {
        vt_buf_release(&sealed);
        return cli_fail_err(cli, &err);
    }
    vt_buf_init(&plain, BACKUP_MAX);
    json_t *doc = NULL;
    char did[VT_DIDKEY_MAX] = "";
    enum vt_status st =
        ks_blob_open(backup_magic, sealed.data, sealed.len, pass, len, &plain, &err);
    if (st == VT_ERR_PERMISSION)
        st = vt_error_set(&err, st, "wrong passphrase for backup '%s'", in);
    else if (st != VT_OK)
        vt_error_prefix(&err, st, "'%s'", in);
    vt_buf_release(&sealed);
    if (st == VT_OK)
        st = vt_json_parse((const char *)plain.data, plain.len, BACKUP_MAX, 8, &doc, &err);
    vt_buf_release_secret(&plain);
    if (st == VT_OK)
        st = check_backup(doc, pass, len, did, &err);
    sodium_free(pass);
    if (st == VT_OK)
        st = restore_files(cli, json_object_get(doc, "files"), &err);
    json_t *r =
        json_pack("{s:s,s:s,s:I,s:b}", "file", in, "did", did, "files",
                  (json_int_t)json_array_size(json_object_get(doc, "files")), "restored", 1);
    json_decref(doc);
    if (st != VT_OK) {
        json_decref(r);
        return cli_fail_err(cli, &err);
    }
    cli_set_result(cli, r, print_backup);
    return EXIT_OK;
}
