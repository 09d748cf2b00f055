/*
 * The data directory:
 *
 *   service.key       the service's Ed25519 signing key (Multikey JSON, mode 0600)
 *   principals.json   principals and bearer-token hashes (mode 0600)
 *   admin.key         development administrator key, created with the first principal
 *   admin.token       its bearer token (mode 0600); move both away in production
 *   ledger/           the ledger (LMDB environments and the KEK)
 *   xapi/             the xAPI store: statement indexes and documents (specs/xapi.md §6)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "api/api_int.h"
#include "api/xapi.h"

void api_datadir_path(const struct api_config *c, const char *name, char out[API_PATH_MAX + 64])
{
    snprintf(out, API_PATH_MAX + 64, "%s/%s", c->data_dir, name);
}

static enum vt_status mkdir_p(const char *path, struct vt_error *err)
{
    char tmp[API_PATH_MAX];
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

static enum vt_status write_secret_file(const char *path, const char *text, struct vt_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return vt_error_set(err, VT_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    int rc = (w == (ssize_t)len) ? fsync(fd) : -1;
    close(fd);
    if (rc != 0)
        return vt_error_set(err, VT_ERR_IO, "cannot write '%s'", path);
    return VT_OK;
}

enum vt_status api_datadir_init(const struct api_config *c, bool *created, struct vt_error *err)
{
    char path[API_PATH_MAX + 64];
    *created = false;
    enum vt_status rc = mkdir_p(c->data_dir, err);
    if (rc != VT_OK)
        return rc;

    api_datadir_path(c, "service.key", path);
    if (access(path, F_OK) != 0) {
        struct vt_key key;
        vt_key_generate(&key);
        rc = vt_keyfile_write(path, &key, err);
        vt_key_release(&key);
        if (rc != VT_OK)
            return rc;
        *created = true;
        API_LOG(API_LOG_INFO, "datadir.key_created", "file=service.key");
    }

    api_datadir_path(c, "principals.json", path);
    struct api_store *st;
    rc = api_store_open(path, &st, err);
    if (rc != VT_OK)
        return rc;
    if (api_store_count(st) == 0) {
        /* A fresh service needs one administrator to create everyone else. */
        struct vt_key admin;
        vt_key_generate(&admin);
        char kpath[API_PATH_MAX + 64];
        api_datadir_path(c, "admin.key", kpath);
        unlink(kpath);
        rc = vt_keyfile_write(kpath, &admin, err);
        struct api_principal p;
        memset(&p, 0, sizeof(p));
        vt_didkey_from_public(admin.pk, p.did);
        memcpy(p.pk, admin.pk, sizeof(p.pk));
        vt_key_release(&admin);
        p.roles = API_ROLE_ADMIN;
        snprintf(p.name, sizeof(p.name), "administrator");
        p.created_ms = vt_time_now_ms();
        if (rc == VT_OK)
            rc = api_store_add(st, &p, err);
        char token[API_TOKEN_MAX];
        if (rc == VT_OK)
            rc = api_store_token_new(st, p.did, 0, token, err);
        if (rc == VT_OK) {
            char tpath[API_PATH_MAX + 64];
            char line[API_TOKEN_MAX + 2];
            api_datadir_path(c, "admin.token", tpath);
            unlink(tpath);
            snprintf(line, sizeof(line), "%s\n", token);
            rc = write_secret_file(tpath, line, err);
            memset(token, 0, sizeof(token));
            memset(line, 0, sizeof(line));
        }
        if (rc == VT_OK) {
            *created = true;
            API_LOG(API_LOG_INFO, "datadir.admin_created", "principal=%s", p.did);
        }
    }
    api_store_close(st);
    return rc;
}

void api_did_web(const struct api_config *c, int port, char *out, size_t n)
{
    char host[API_HOST_MAX + 16];
    if (c->did_web_host[0])
        snprintf(host, sizeof(host), "%s", c->did_web_host);
    else
        snprintf(host, sizeof(host), "%s:%d", c->listen_host, port);
    /* did:web percent-encodes the port colon. */
    size_t o = snprintf(out, n, "did:web:");
    for (const char *p = host; *p && o + 4 < n; p++) {
        if (*p == ':') {
            memcpy(out + o, "%3A", 3);
            o += 3;
        } else if (*p == '/') {
            out[o++] = ':';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

enum vt_status api_datadir_open(struct api_server *s, struct vt_error *err)
{
    char path[API_PATH_MAX + 64];
    bool created;
    enum vt_status rc = api_datadir_init(&s->cfg, &created, err);
    if (rc != VT_OK)
        return rc;
    api_datadir_path(&s->cfg, "service.key", path);
    struct stat sb;
    if (stat(path, &sb) == 0 && (sb.st_mode & 077))
        return vt_error_set(err, VT_ERR_PERMISSION, "key file '%s' is readable by others (mode %o)",
                            path, (unsigned)(sb.st_mode & 0777));
    rc = vt_keyfile_read(path, &s->key, err);
    if (rc != VT_OK)
        return rc;
    if (!s->key.has_secret)
        return vt_error_set(err, VT_ERR_INVALID, "key file '%s' has no secret key", path);
    s->cred_key = cred_key_from_vt(&s->key);
    vt_didkey_from_public(s->key.pk, s->did_key);
    vt_didkey_vm_from_public(s->key.pk, s->did_key_vm);

    api_datadir_path(&s->cfg, "principals.json", path);
    rc = api_store_open(path, &s->store, err);
    if (rc != VT_OK)
        return rc;

    struct ledger_options lo;
    ledger_options_init(&lo);
    lo.key = &s->key;
    lo.origin = s->cfg.origin;
    lo.batch_ms = s->cfg.batch_ms;
    api_datadir_path(&s->cfg, "ledger", path);
    rc = ledger_open(path, &lo, &s->ledger, err);
    if (rc != VT_OK)
        return vt_error_prefix(err, rc, "cannot open ledger '%s'", path);

    api_datadir_path(&s->cfg, "xapi", path);
    rc = xapi_store_open(path, s->ledger, &s->xapi, err);
    if (rc != VT_OK)
        return vt_error_prefix(err, rc, "cannot open xapi store '%s'", path);
    for (unsigned i = 0; i < s->cfg.n_xapi_basic && rc == VT_OK; i++) {
        char *entry = s->cfg.xapi_basic[i];
        char *colon = strchr(entry, ':');
        VT_ASSERT(colon != NULL); /* api_config_set checked the form */
        *colon = '\0';
        rc = api_store_basic_provision(s->store, entry, colon + 1, err);
    }
    sodium_memzero(s->cfg.xapi_basic, sizeof(s->cfg.xapi_basic));
    if (rc != VT_OK)
        return rc;

    s->consents = api_consents_new();
    rc = api_consents_load(s->consents, s->ledger, err);
    if (rc != VT_OK)
        return rc;
    s->trust = cred_trust_new();
    return VT_OK;
}

void api_datadir_close(struct api_server *s)
{
    xapi_store_close(s->xapi);
    s->xapi = NULL;
    ledger_close(s->ledger);
    s->ledger = NULL;
    api_store_close(s->store);
    s->store = NULL;
    api_consents_free(s->consents);
    s->consents = NULL;
    cred_trust_free(s->trust);
    s->trust = NULL;
    cred_key_free(s->cred_key);
    s->cred_key = NULL;
    json_decref(s->did_doc);
    s->did_doc = NULL;
    vt_key_release(&s->key);
}
