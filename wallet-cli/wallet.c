/* The wallet directory: where it is, what is in it, and unlocking its key. */
/* nftw needs the X/Open extensions. */
#define _GNU_SOURCE
#include "wallet-cli/wallet.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX ((size_t)64 << 10)

enum vt_status wallet_resolve(struct cli *cli, struct vt_error *err)
{
    const char *w = cli->wallet_opt != NULL ? cli->wallet_opt : getenv("VITAE_WALLET");
    int n;
    if (w != NULL && *w != '\0') {
        n = snprintf(cli->wallet, sizeof(cli->wallet), "%s", w);
    } else {
        const char *xdg = getenv("XDG_DATA_HOME");
        const char *home = getenv("HOME");
        /* XDG says a relative XDG_DATA_HOME is invalid and must be ignored. */
        if (xdg != NULL && xdg[0] == '/')
            n = snprintf(cli->wallet, sizeof(cli->wallet), "%s/vitae", xdg);
        else if (home != NULL && home[0] == '/')
            n = snprintf(cli->wallet, sizeof(cli->wallet), "%s/.local/share/vitae", home);
        else
            return vt_error_set(err, VT_ERR_INVALID,
                                "cannot find the wallet: HOME is not set; use --wallet DIR");
    }
    if (n < 0 || (size_t)n >= sizeof(cli->wallet))
        return vt_error_set(err, VT_ERR_TOO_LARGE, "wallet path is too long");
    return VT_OK;
}

enum vt_status wallet_path(const struct cli *cli, const char *name, char out[PATH_MAX],
                           struct vt_error *err)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", cli->wallet, name);
    if (n < 0 || n >= PATH_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "path '%s/%s' is too long", cli->wallet, name);
    return VT_OK;
}

static enum vt_status mkdir_p(const char *path, struct vt_error *err)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return vt_error_set(err, errno == EACCES ? VT_ERR_PERMISSION : VT_ERR_IO,
                                "cannot create '%s': %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return vt_error_set(err, errno == EACCES ? VT_ERR_PERMISSION : VT_ERR_IO,
                            "cannot create '%s': %s", tmp, strerror(errno));
    return VT_OK;
}

enum vt_status wallet_mkdirs(const struct cli *cli, struct vt_error *err)
{
    static const char *const subs[] = {"keys", "credentials"};
    enum vt_status st = mkdir_p(cli->wallet, err);
    for (size_t i = 0; st == VT_OK && i < sizeof(subs) / sizeof(subs[0]); i++) {
        char p[PATH_MAX];
        st = wallet_path(cli, subs[i], p, err);
        if (st == VT_OK)
            st = mkdir_p(p, err);
    }
    return st;
}

static enum vt_status read_keystore(const struct cli *cli, struct vt_buf *b, struct vt_error *err)
{
    char path[PATH_MAX];
    enum vt_status st = wallet_path(cli, "key", path, err);
    if (st != VT_OK)
        return st;
    vt_buf_init(b, KS_KEYSTORE_LEN + 1);
    st = vt_buf_read_file(b, path, err);
    if (st == VT_ERR_NOT_FOUND)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "no wallet in '%s'; run 'vitae init' first",
                            cli->wallet);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "cannot read the keystore");
    return VT_OK;
}

enum vt_status wallet_info(const struct cli *cli, struct ks_info *info, struct vt_error *err)
{
    struct vt_buf b;
    enum vt_status st = read_keystore(cli, &b, err);
    if (st == VT_OK) {
        st = ks_keystore_info(b.data, b.len, info, err);
        if (st != VT_OK)
            vt_error_prefix(err, st, "keystore '%s/key'", cli->wallet);
    }
    vt_buf_release(&b);
    return st;
}

enum vt_status wallet_unlock_with(const struct cli *cli, const char *pass, size_t pass_len,
                                  struct wallet_key *wk, struct vt_error *err)
{
    struct vt_buf b;
    struct ks_info info;
    memset(wk, 0, sizeof(*wk));
    enum vt_status st = read_keystore(cli, &b, err);
    if (st == VT_OK)
        st = ks_keystore_info(b.data, b.len, &info, err);
    if (st == VT_OK)
        st = ks_keystore_open(b.data, b.len, pass, pass_len, &wk->key, wk->x25519_sk, err);
    vt_buf_release(&b);
    if (st == VT_ERR_PERMISSION)
        return vt_error_set(err, st, "wrong passphrase for the wallet in '%s'; try again",
                            cli->wallet);
    if (st != VT_OK)
        return st;
    wk->created_ms = info.created_ms;
    vt_didkey_from_public(wk->key.pk, wk->did);
    vt_didkey_vm_from_public(wk->key.pk, wk->vm);
    return VT_OK;
}

enum vt_status wallet_unlock(struct cli *cli, struct wallet_key *wk, struct vt_error *err)
{
    struct ks_info info;
    memset(wk, 0, sizeof(*wk));
    /* The keystore must exist before we ask for a passphrase nobody can use. */
    enum vt_status st = wallet_info(cli, &info, err);
    if (st != VT_OK)
        return st;
    char *pass = sodium_malloc(CLI_PASSPHRASE_MAX);
    if (pass == NULL)
        abort();
    size_t len = 0;
    char prompt[PATH_MAX + 64];
    snprintf(prompt, sizeof(prompt), "Passphrase for the wallet in %s: ", cli->wallet);
    st = cli_passphrase(cli, prompt, false, pass, &len, err);
    if (st == VT_OK)
        st = wallet_unlock_with(cli, pass, len, wk, err);
    sodium_free(pass);
    return st;
}

void wallet_lock(struct wallet_key *wk)
{
    vt_key_release(&wk->key);
    sodium_memzero(wk, sizeof(*wk));
}

int wallet_unlock_or_fail(struct cli *cli, struct wallet_key *wk)
{
    struct vt_error err;
    enum vt_status st = wallet_unlock(cli, wk, &err);
    if (st != VT_OK) {
        wallet_lock(wk);
        return cli_fail_err(cli, &err);
    }
    return -1;
}

enum vt_status wallet_config_read(const struct cli *cli, json_t **out, struct vt_error *err)
{
    char path[PATH_MAX];
    enum vt_status st = wallet_path(cli, "config.json", path, err);
    if (st != VT_OK)
        return st;
    st = vt_json_read_file(path, CONFIG_MAX, 16, out, err);
    if (st == VT_ERR_NOT_FOUND) {
        *out = json_object();
        return VT_OK;
    }
    if (st == VT_OK && !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        st = vt_error_set(err, VT_ERR_INVALID, "'%s' is not a JSON object", path);
    }
    return st;
}

enum vt_status wallet_config_write(const struct cli *cli, const json_t *cfg, struct vt_error *err)
{
    char path[PATH_MAX];
    struct vt_buf b;
    enum vt_status st = wallet_path(cli, "config.json", path, err);
    if (st != VT_OK)
        return st;
    vt_buf_init(&b, CONFIG_MAX);
    st = cred_json_write(cfg, 2, &b, err);
    if (st == VT_OK)
        st = vt_buf_append_byte(&b, '\n', err);
    if (st == VT_OK)
        st = cli_write_file(path, b.data, b.len, 0600, false, err);
    vt_buf_release(&b);
    return st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

enum vt_status wallet_list_dir(const struct cli *cli, const char *sub, json_t **out,
                               struct vt_error *err)
{
    char path[PATH_MAX];
    enum vt_status st = wallet_path(cli, sub, path, err);
    if (st != VT_OK)
        return st;
    *out = json_array();
    DIR *d = opendir(path);
    if (d == NULL)
        return errno == ENOENT
                   ? VT_OK
                   : vt_error_set(err, VT_ERR_IO, "cannot list '%s': %s", path, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        /* Dot files are temporaries of an interrupted write. */
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = vt_realloc(names, cap * sizeof(*names));
        }
        names[n++] = vt_strdup(e->d_name);
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(*out, json_string(names[i]));
        free(names[i]);
    }
    free(names);
    return VT_OK;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void cli_rmtree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
