/* The credential store: credentials/<local id>.json, each an entry with every form. */
#include "wallet-cli/store.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define ENTRY_MAX (CRED_DOC_MAX * 4)

static bool is_jwt(const uint8_t *p, size_t n)
{
    size_t dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.')
            dots++;
        else if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
                   (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '_'))
            return false;
    }
    return dots == 2;
}

static size_t trim(const uint8_t *p, size_t n)
{
    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' '))
        n--;
    return n;
}

/* The decoded document of a JWT or COSE form; the verdict does not matter here. */
static json_t *decode_secured(const char *text)
{
    struct cred_verify_options opt;
    struct cred_result *r = NULL;
    cred_verify_options_init(&opt);
    json_t *doc = NULL;
    if (cred_verify((const uint8_t *)text, strlen(text), &opt, &r, NULL) == VT_OK &&
        cred_result_document(r) != NULL)
        doc = json_deep_copy(cred_result_document(r));
    cred_result_free(r);
    /* The Open Badges JWT shape wraps the credential in a "vc" claim. */
    if (doc != NULL && json_is_object(json_object_get(doc, "vc"))) {
        json_t *vc = json_incref(json_object_get(doc, "vc"));
        json_decref(doc);
        doc = vc;
    }
    return doc;
}

json_t *store_document(const json_t *entry)
{
    const json_t *j = json_object_get(entry, "json");
    if (json_is_object(j))
        return json_deep_copy(j);
    const char *s = vt_json_get_str(entry, "jwt");
    if (s == NULL)
        s = vt_json_get_str(entry, "cose_b64u");
    return s != NULL ? decode_secured(s) : NULL;
}

static bool has_type(const json_t *doc, const char *type)
{
    const json_t *t = json_object_get(doc, "type");
    if (json_is_string(t))
        return strcmp(json_string_value(t), type) == 0;
    size_t i;
    const json_t *v;
    json_array_foreach(t, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), type) == 0)
            return true;
    }
    return false;
}

static enum vt_status finish_entry(json_t *entry, const uint8_t *raw, size_t n,
                                   struct vt_error *err)
{
    json_t *doc = store_document(entry);
    if (doc == NULL)
        return vt_error_set(err, VT_ERR_INVALID, "cannot decode the credential");
    if (!has_type(doc, "VerifiableCredential")) {
        json_decref(doc);
        return vt_error_set(err, VT_ERR_INVALID,
                            "not a credential (its type lacks VerifiableCredential)");
    }
    const char *id = vt_json_get_str(doc, "id");
    uint8_t h[VT_SHA256_LEN];
    if (id != NULL)
        vt_sha256(id, strlen(id), h);
    else
        vt_sha256(raw, n, h);
    struct vt_buf hex;
    vt_buf_init(&hex, 2 * VT_SHA256_LEN + 1);
    (void)vt_hex_encode(h, STORE_ID_LEN / 2, &hex, NULL);
    char when[VT_TIME_MAX];
    vt_time_format(vt_time_now_ms(), when);
    json_object_set_new(entry, "local", json_string((const char *)hex.data));
    json_object_set_new(entry, "id", id != NULL ? json_string(id) : json_null());
    json_object_set_new(entry, "added", json_string(when));
    vt_buf_release(&hex);
    json_decref(doc);
    return VT_OK;
}

enum vt_status store_parse(const uint8_t *p, size_t n, json_t **entry_out, struct vt_error *err)
{
    *entry_out = NULL;
    size_t len = trim(p, n);
    json_t *entry = json_object();
    enum vt_status st = VT_OK;
    if (len > 0 && p[0] == '{') {
        json_t *doc = NULL;
        st = vt_json_parse((const char *)p, len, CRED_DOC_MAX, VT_JSON_MAX_DEPTH, &doc, err);
        if (st == VT_OK && json_is_object(json_object_get(doc, "verifiableCredential"))) {
            json_object_set(entry, "json", json_object_get(doc, "verifiableCredential"));
            const char *jwt = vt_json_get_str(doc, "jwt");
            const char *cose = vt_json_get_str(doc, "cose_b64u");
            if (jwt != NULL)
                json_object_set_new(entry, "jwt", json_string(jwt));
            if (cose != NULL)
                json_object_set_new(entry, "cose_b64u", json_string(cose));
        } else if (st == VT_OK) {
            json_object_set(entry, "json", doc);
        }
        json_decref(doc);
    } else if (is_jwt(p, len) && len > 0 && p[0] == 'e') {
        json_object_set_new(entry, "jwt", json_stringn((const char *)p, len));
    } else if (len > 0 && p[0] == 0xd2) {
        struct vt_buf b;
        vt_buf_init(&b, CRED_DOC_MAX * 2);
        st = vt_base64url_encode(p, n, &b, err);
        if (st == VT_OK)
            json_object_set_new(entry, "cose_b64u", json_string((const char *)b.data));
        vt_buf_release(&b);
    } else if (is_jwt(p, len) && len > 0) {
        json_object_set_new(entry, "cose_b64u", json_stringn((const char *)p, len));
    } else {
        st = vt_error_set(err, VT_ERR_INVALID,
                          "not a credential: expected JSON, a JWT or COSE_Sign1");
    }
    if (st == VT_OK)
        st = finish_entry(entry, p, len, err);
    if (st != VT_OK) {
        json_decref(entry);
        return st;
    }
    *entry_out = entry;
    return VT_OK;
}

static enum vt_status entry_path(const struct cli *cli, const char *local, char out[PATH_MAX],
                                 struct vt_error *err)
{
    char rel[64];
    snprintf(rel, sizeof(rel), "credentials/%.16s.json", local);
    return wallet_path(cli, rel, out, err);
}

static enum vt_status read_entry(const char *path, json_t **out, struct vt_error *err)
{
    enum vt_status st = vt_json_read_file(path, ENTRY_MAX, VT_JSON_MAX_DEPTH, out, err);
    if (st == VT_OK && !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        st = vt_error_set(err, VT_ERR_INVALID, "'%s' is not a credential entry", path);
    }
    return st;
}

enum vt_status store_put(const struct cli *cli, json_t *entry, bool *merged, struct vt_error *err)
{
    char path[PATH_MAX];
    json_t *old = NULL;
    enum vt_status st = wallet_mkdirs(cli, err);
    if (st == VT_OK)
        st = entry_path(cli, vt_json_get_str(entry, "local"), path, err);
    if (st != VT_OK)
        return st;
    *merged = read_entry(path, &old, NULL) == VT_OK;
    if (*merged) {
        /* Keep what was there first: its added time and any form the new input lacks. */
        static const char *const forms[] = {"json", "jwt", "cose_b64u", "added"};
        for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
            json_t *v = json_object_get(old, forms[i]);
            if (v != NULL && (json_object_get(entry, forms[i]) == NULL || i == 3))
                json_object_set(entry, forms[i], v);
        }
        json_decref(old);
    }
    struct vt_buf b;
    vt_buf_init(&b, ENTRY_MAX);
    st = cred_json_write(entry, 2, &b, err);
    if (st == VT_OK)
        st = vt_buf_append_byte(&b, '\n', err);
    if (st == VT_OK)
        st = cli_write_file(path, b.data, b.len, 0600, false, err);
    vt_buf_release(&b);
    return st;
}

enum vt_status store_all(const struct cli *cli, json_t **out, struct vt_error *err)
{
    json_t *names = NULL;
    enum vt_status st = wallet_list_dir(cli, "credentials", &names, err);
    *out = json_array();
    for (size_t i = 0; st == VT_OK && i < json_array_size(names); i++) {
        const char *n = json_string_value(json_array_get(names, i));
        char rel[PATH_MAX], path[PATH_MAX];
        json_t *e = NULL;
        snprintf(rel, sizeof(rel), "credentials/%s", n);
        st = wallet_path(cli, rel, path, err);
        if (st == VT_OK)
            st = read_entry(path, &e, err);
        if (st == VT_OK)
            json_array_append_new(*out, e);
    }
    json_decref(names);
    if (st != VT_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return st;
}

enum vt_status store_find(const struct cli *cli, const char *id, json_t **entry_out,
                          struct vt_error *err)
{
    json_t *all = NULL;
    *entry_out = NULL;
    enum vt_status st = store_all(cli, &all, err);
    if (st != VT_OK)
        return st;
    size_t len = strlen(id), i, hits = 0;
    json_t *e;
    json_array_foreach(all, i, e)
    {
        const char *local = vt_json_get_str(e, "local");
        const char *cid = vt_json_get_str(e, "id");
        bool hit = (cid != NULL && strcmp(cid, id) == 0) ||
                   (len >= 4 && local != NULL && strncmp(local, id, len) == 0);
        if (hit && hits++ == 0)
            *entry_out = json_incref(e);
    }
    json_decref(all);
    if (hits == 1)
        return VT_OK;
    json_decref(*entry_out);
    *entry_out = NULL;
    if (hits == 0)
        return vt_error_set(err, VT_ERR_NOT_FOUND,
                            "no credential '%s' in the wallet; see 'vitae credentials list'", id);
    return vt_error_set(err, VT_ERR_CONFLICT, "'%s' matches %zu credentials; give more digits", id,
                        hits);
}

enum vt_status store_remove(const struct cli *cli, const char *local, struct vt_error *err)
{
    char path[PATH_MAX];
    enum vt_status st = entry_path(cli, local, path, err);
    if (st == VT_OK && unlink(path) != 0)
        st = vt_error_set(err, VT_ERR_IO, "cannot remove '%s': %s", path, strerror(errno));
    return st;
}
