/*
 * vitaed --check: verify the data directory offline, in the spirit of git fsck. Nothing is
 * created; the ledger is re-read and re-verified whole (ledger_check).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api_int.h"

static enum vt_status check_secret_file(const struct api_config *c, const char *name, bool required,
                                        struct vt_error *err)
{
    char path[API_PATH_MAX + 64];
    api_datadir_path(c, name, path);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (!required)
            return VT_OK;
        return vt_error_set(err, VT_ERR_NOT_FOUND, "missing '%s'", path);
    }
    if (sb.st_mode & 077)
        return vt_error_set(err, VT_ERR_PERMISSION, "'%s' is readable by others (mode %o)", path,
                            (unsigned)(sb.st_mode & 0777));
    printf("ok   %s (mode %o)\n", name, (unsigned)(sb.st_mode & 0777));
    return VT_OK;
}

enum vt_status api_check(const struct api_config *c, struct vt_error *err)
{
    struct stat sb;
    if (stat(c->data_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return vt_error_set(err, VT_ERR_NOT_FOUND, "no data directory '%s'", c->data_dir);
    enum vt_status rc = check_secret_file(c, "service.key", true, err);
    if (rc == VT_OK)
        rc = check_secret_file(c, "admin.key", false, err);
    if (rc == VT_OK)
        rc = check_secret_file(c, "admin.token", false, err);
    if (rc == VT_OK)
        rc = check_secret_file(c, "principals.json", true, err);
    if (rc != VT_OK)
        return rc;

    char path[API_PATH_MAX + 64];
    struct api_store *st;
    api_datadir_path(c, "principals.json", path);
    rc = api_store_open(path, &st, err);
    if (rc != VT_OK)
        return rc;
    printf("ok   principals.json: %zu principals\n", api_store_count(st));
    api_store_close(st);

    struct vt_key key;
    api_datadir_path(c, "service.key", path);
    rc = vt_keyfile_read(path, &key, err);
    if (rc != VT_OK)
        return rc;
    api_datadir_path(c, "ledger", path);
    if (stat(path, &sb) != 0) {
        vt_key_release(&key);
        printf("ok   ledger: not created yet\n");
        return VT_OK;
    }
    struct ledger_options lo;
    ledger_options_init(&lo);
    lo.key = &key;
    lo.origin = c->origin;
    struct ledger *l;
    rc = ledger_open(path, &lo, &l, err);
    vt_key_release(&key);
    if (rc != VT_OK)
        return vt_error_prefix(err, rc, "cannot open ledger '%s'", path);
    struct ledger_check_report rep;
    memset(&rep, 0, sizeof(rep));
    rc = ledger_check(l, &rep, err);
    ledger_close(l);
    if (rc != VT_OK)
        return vt_error_prefix(err, rc, "ledger");
    printf("ok   ledger: %llu events, %llu learners, %llu stored hashes, %llu checkpoints, "
           "%llu forks recorded\n",
           (unsigned long long)rep.events, (unsigned long long)rep.learners,
           (unsigned long long)rep.stored_hashes, (unsigned long long)rep.checkpoints,
           (unsigned long long)rep.forks);
    printf("vitaed: %s verifies\n", c->data_dir);
    return VT_OK;
}
