/* Multikey key files: JSON shape and atomic, owner-only writing (specs/encoding.md §4). */
#include "core/core.h"
#include "core/core_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

/* A key file is a few hundred bytes; the caps only stop a wrong path from pulling in a
 * large or deeply nested document. */
#define KEYFILE_MAX_LEN ((size_t)64 << 10)
#define KEYFILE_MAX_DEPTH 8
/* Room for the whole JSON text, reserved up front (see vt_keyfile_write). */
#define KEYFILE_TEXT_MAX 1024

static const char multikey_context[] = "https://w3id.org/security/multikey/v1";

/* *out is NULL when the member is absent. */
static enum vt_status get_string(const json_t *doc, const char *name, const char **out,
                                 struct vt_error *err)
{
    const json_t *v = json_object_get(doc, name);
    *out = NULL;
    if (v == NULL)
        return VT_OK;
    if (!json_is_string(v))
        return vt_error_set(err, VT_ERR_INVALID, "member '%s' is not a string", name);
    /* An embedded NUL would let the C string checked below differ from the JSON value. */
    if (strlen(json_string_value(v)) != json_string_length(v))
        return vt_error_set(err, VT_ERR_INVALID, "member '%s' contains a NUL character", name);
    *out = json_string_value(v);
    return VT_OK;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The id and controller may name any DID (a did:web key file, say), but a did:key value
 * is derived from the key itself, so one naming another key is a mix-up worth stopping. */
static enum vt_status check_did_members(const json_t *doc, const uint8_t pk[VT_ED25519_PK_LEN],
                                        struct vt_error *err)
{
    const char *id, *controller;
    enum vt_status st = get_string(doc, "id", &id, err);
    if (st == VT_OK)
        st = get_string(doc, "controller", &controller, err);
    if (st != VT_OK)
        return st;

    char did[VT_DIDKEY_MAX], vm[VT_DIDKEY_MAX];
    vt_didkey_from_public(pk, did);
    vt_didkey_vm_from_public(pk, vm);
    if (controller != NULL && starts_with(controller, "did:key:") && strcmp(controller, did) != 0)
        return vt_error_set(err, VT_ERR_INVALID,
                            "'controller' is a did:key of another key than 'publicKeyMultibase'");
    if (id != NULL && starts_with(id, "did:key:") && strcmp(id, vm) != 0)
        return vt_error_set(err, VT_ERR_INVALID,
                            "'id' is not the did:key verification method of "
                            "'publicKeyMultibase' (expected '%s')",
                            vm);
    return VT_OK;
}

/* Decodes secretKeyMultibase and/or privateKeyMultibase into seed; *found tells whether
 * either was present. */
static enum vt_status get_seed(const json_t *doc, uint8_t seed[VT_ED25519_SEED_LEN], bool *found,
                               struct vt_error *err)
{
    const char *secret, *legacy;
    enum vt_status st = get_string(doc, "secretKeyMultibase", &secret, err);
    if (st == VT_OK)
        st = get_string(doc, "privateKeyMultibase", &legacy, err);
    if (st != VT_OK)
        return st;
    *found = secret != NULL || legacy != NULL;
    if (!*found)
        return VT_OK;

    uint8_t other[VT_ED25519_SEED_LEN];
    st = vt_multikey_decode_secret(secret != NULL ? secret : legacy, seed, err);
    if (st == VT_OK && secret != NULL && legacy != NULL) {
        st = vt_multikey_decode_secret(legacy, other, err);
        if (st != VT_OK && err != NULL)
            vt_error_prefix(err, st, "privateKeyMultibase");
        else if (st == VT_OK && sodium_memcmp(seed, other, sizeof(other)) != 0)
            st = vt_error_set(err, VT_ERR_INVALID,
                              "'secretKeyMultibase' and 'privateKeyMultibase' hold different "
                              "keys");
    }
    sodium_memzero(other, sizeof(other));
    if (st != VT_OK)
        sodium_memzero(seed, VT_ED25519_SEED_LEN);
    return st;
}

enum vt_status vt_keyfile_parse(const json_t *doc, struct vt_key *key, struct vt_error *err)
{
    if (!json_is_object(doc))
        return vt_error_set(err, VT_ERR_INVALID, "key file is not a JSON object");

    const json_t *type = json_object_get(doc, "type");
    if (type != NULL && !json_is_string(type))
        return vt_error_set(err, VT_ERR_INVALID, "member 'type' is not a string");
    if (type != NULL && strcmp(json_string_value(type), "Multikey") != 0)
        return vt_error_set(err, VT_ERR_UNSUPPORTED,
                            "unsupported key type '%.64s' (expected 'Multikey')",
                            json_string_value(type));

    const char *public_mb;
    enum vt_status st = get_string(doc, "publicKeyMultibase", &public_mb, err);
    if (st != VT_OK)
        return st;
    if (public_mb == NULL)
        return vt_error_set(err, VT_ERR_INVALID, "key file has no 'publicKeyMultibase'");
    uint8_t pk[VT_ED25519_PK_LEN];
    st = vt_multikey_decode_public(public_mb, pk, err);
    if (st == VT_OK)
        st = check_did_members(doc, pk, err);
    if (st != VT_OK)
        return st;

    uint8_t seed[VT_ED25519_SEED_LEN];
    bool has_secret = false;
    st = get_seed(doc, seed, &has_secret, err);
    if (st != VT_OK)
        return st;
    if (!has_secret) {
        vt_key_from_public(key, pk);
        return VT_OK;
    }

    struct vt_key k;
    vt_key_from_seed(&k, seed);
    sodium_memzero(seed, sizeof(seed));
    if (sodium_memcmp(k.pk, pk, sizeof(pk)) != 0) {
        vt_key_release(&k);
        return vt_error_set(err, VT_ERR_INVALID,
                            "the secret key does not match 'publicKeyMultibase'");
    }
    *key = k;
    vt_key_release(&k);
    return VT_OK;
}

enum vt_status vt_keyfile_read(const char *path, struct vt_key *key, struct vt_error *err)
{
    /* Reading into a buffer reserved at full size keeps the text in one allocation that is
     * wiped afterwards, rather than leaving copies behind in reallocated blocks. */
    struct vt_buf text;
    vt_buf_init(&text, KEYFILE_MAX_LEN);
    enum vt_status st = vt_buf_grow(&text, KEYFILE_MAX_LEN, err);
    VT_ASSERT(st == VT_OK);
    st = vt_buf_read_file(&text, path, err);
    if (st != VT_OK) {
        vt_buf_release_secret(&text);
        return st;
    }
    json_t *doc = NULL;
    st = vt_json_parse((const char *)text.data, text.len, KEYFILE_MAX_LEN, KEYFILE_MAX_DEPTH, &doc,
                       err);
    vt_buf_release_secret(&text);
    if (st == VT_OK)
        st = vt_keyfile_parse(doc, key, err);
    if (st != VT_OK && err != NULL)
        vt_error_prefix(err, st, "invalid key file '%s'", path);
    if (doc == NULL)
        return st;
    /* jansson frees its strings without wiping them; blank the secret members first. */
    const char *names[] = {"secretKeyMultibase", "privateKeyMultibase"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *v = json_object_get(doc, names[i]);
        if (json_is_string(v))
            sodium_memzero((char *)json_string_value(v), json_string_length(v));
    }
    json_decref(doc);
    return st;
}

static enum vt_status errno_status(int e)
{
    switch (e) {
    case EACCES:
    case EPERM:
    case EROFS:
        return VT_ERR_PERMISSION;
    case ENOSPC:
    case EDQUOT:
        return VT_ERR_FULL;
    case ENOENT:
    case ENOTDIR:
        return VT_ERR_NOT_FOUND;
    default:
        return VT_ERR_IO;
    }
}

static enum vt_status write_all(int fd, const uint8_t *p, size_t n, const char *path,
                                struct vt_error *err)
{
    while (n > 0) {
        ssize_t got = write(fd, p, n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            return vt_error_set(err, errno_status(e), "cannot write key file '%s': %s", path,
                                strerror(e));
        }
        p += got;
        n -= (size_t)got;
    }
    return VT_OK;
}

/* Makes the rename itself durable. Some file systems cannot sync a directory (EINVAL);
 * there is nothing more to do on those. */
static enum vt_status sync_parent(const char *path, struct vt_error *err)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else if ((size_t)(slash - path) < sizeof(dir))
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    else
        return vt_error_set(err, VT_ERR_INVALID, "key file path is too long");

    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return vt_error_set(err, errno_status(e), "cannot open directory '%s': %s", dir,
                            strerror(e));
    }
    enum vt_status st = VT_OK;
    if (fsync(fd) != 0 && errno != EINVAL) {
        int e = errno;
        st = vt_error_set(err, errno_status(e), "cannot sync directory '%s': %s", dir, strerror(e));
    }
    close(fd);
    return st;
}

/* Writes a temporary file beside path, then renames it over path: readers see either the
 * old file or the complete new one, never a torn key. */
static enum vt_status write_atomically(const char *path, const uint8_t *p, size_t n,
                                       struct vt_error *err)
{
    struct vt_buf tmp;
    vt_buf_init(&tmp, 8192);
    uint8_t rnd[8];
    vt_random_bytes(rnd, sizeof(rnd));
    enum vt_status st = vt_buf_printf(&tmp, err, "%s.tmp-", path);
    if (st == VT_OK)
        st = vt_hex_encode(rnd, sizeof(rnd), &tmp, err);
    if (st != VT_OK) {
        vt_buf_release(&tmp);
        if (err != NULL)
            vt_error_prefix(err, st, "key file path is too long");
        return st;
    }
    const char *tmp_path = (const char *)tmp.data;

    /* O_EXCL and O_NOFOLLOW: never write through a file or link someone planted there. */
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        st = vt_error_set(err, errno_status(e), "cannot create key file '%s': %s", path,
                          strerror(e));
        vt_buf_release(&tmp);
        return st;
    }
    /* The umask may have taken the owner's own bits away; the mode must be exactly 0600. */
    if (fchmod(fd, 0600) != 0) {
        int e = errno;
        st = vt_error_set(err, errno_status(e), "cannot set the mode of key file '%s': %s", path,
                          strerror(e));
    }
    if (st == VT_OK)
        st = write_all(fd, p, n, path, err);
    if (st == VT_OK && fsync(fd) != 0) {
        int e = errno;
        st = vt_error_set(err, errno_status(e), "cannot sync key file '%s': %s", path, strerror(e));
    }
    if (close(fd) != 0 && st == VT_OK) {
        int e = errno;
        st =
            vt_error_set(err, errno_status(e), "cannot close key file '%s': %s", path, strerror(e));
    }
    if (st == VT_OK && rename(tmp_path, path) != 0) {
        int e = errno;
        st = vt_error_set(err, errno_status(e), "cannot rename '%s' to '%s': %s", tmp_path, path,
                          strerror(e));
    }
    if (st != VT_OK)
        unlink(tmp_path);
    else
        st = sync_parent(path, err);
    vt_buf_release(&tmp);
    return st;
}

enum vt_status vt_keyfile_write(const char *path, const struct vt_key *key, struct vt_error *err)
{
    char did[VT_DIDKEY_MAX], vm[VT_DIDKEY_MAX], public_mb[VT_MULTIKEY_MAX];
    vt_didkey_from_public(key->pk, did);
    vt_didkey_vm_from_public(key->pk, vm);
    vt_multikey_encode_public(key->pk, public_mb);

    /* Reserving the whole text at once means the buffer is never reallocated, which would
     * leave an unwiped copy of the secret in freed memory. */
    struct vt_buf text;
    vt_buf_init(&text, KEYFILE_TEXT_MAX);
    enum vt_status st = vt_buf_grow(&text, KEYFILE_TEXT_MAX, err);
    VT_ASSERT(st == VT_OK);
    st = vt_buf_printf(&text, err,
                       "{\n"
                       "  \"@context\": \"%s\",\n"
                       "  \"type\": \"Multikey\",\n"
                       "  \"id\": \"%s\",\n"
                       "  \"controller\": \"%s\",\n"
                       "  \"publicKeyMultibase\": \"%s\"",
                       multikey_context, vm, did, public_mb);
    VT_ASSERT(st == VT_OK);
    if (key->has_secret) {
        char secret_mb[VT_MULTIKEY_MAX];
        vt_multikey_encode_secret(key, secret_mb);
        st = vt_buf_printf(&text, err, ",\n  \"secretKeyMultibase\": \"%s\"", secret_mb);
        sodium_memzero(secret_mb, sizeof(secret_mb));
        VT_ASSERT(st == VT_OK);
    }
    st = vt_buf_append_str(&text, "\n}\n", err);
    VT_ASSERT(st == VT_OK);

    st = write_atomically(path, text.data, text.len, err);
    vt_buf_release_secret(&text);
    return st;
}
