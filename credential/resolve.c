/* Verification method resolution: key history callback, did:key, trusted keys and did:web
 * documents from a local trust store (specs/credential.md §5). */
#include "credential/credential_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define TRUST_MAX 1024

struct trust_entry {
    char *vm; /* NULL: trusted for any method */
    struct cred_key *key;
};

struct cred_trust {
    struct trust_entry *entries;
    size_t count;
    size_t cap;
};

struct cred_trust *cred_trust_new(void)
{
    return vt_calloc(1, sizeof(struct cred_trust));
}

void cred_trust_free(struct cred_trust *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->count; i++) {
        free(t->entries[i].vm);
        cred_key_free(t->entries[i].key);
    }
    free(t->entries);
    free(t);
}

void cred_trust_add_key(struct cred_trust *t, const char *vm, struct cred_key *key)
{
    if (t->count == t->cap) {
        t->cap = t->cap == 0 ? 8 : t->cap * 2;
        t->entries = vt_realloc(t->entries, t->cap * sizeof(*t->entries));
    }
    t->entries[t->count].vm = vm != NULL ? vt_strdup(vm) : NULL;
    t->entries[t->count].key = cred_key_ref(key);
    t->count++;
}

enum vt_status cred_trust_add_did_document(struct cred_trust *t, const json_t *doc,
                                           struct vt_error *err)
{
    const char *did = vt_json_get_str(doc, "id");
    if (did == NULL || strncmp(did, "did:", 4) != 0)
        return vt_error_set(err, VT_ERR_INVALID, "invalid DID document: no DID 'id'");
    const json_t *vms = vt_json_get_arr(doc, "verificationMethod");
    if (vms == NULL)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid DID document '%s': no "
                            "verificationMethod array",
                            did);
    size_t i;
    const json_t *m;
    json_array_foreach(vms, i, m)
    {
        if (t->count >= TRUST_MAX)
            return vt_error_set(err, VT_ERR_TOO_LARGE, "trust store full (%d keys)", TRUST_MAX);
        const char *id = vt_json_get_str(m, "id");
        if (id == NULL)
            return vt_error_set(err, VT_ERR_INVALID,
                                "invalid DID document '%s': method %zu "
                                "has no id",
                                did, i);
        char full[512];
        if (id[0] == '#')
            snprintf(full, sizeof(full), "%s%s", did, id);
        else
            snprintf(full, sizeof(full), "%s", id);
        struct cred_key *key = NULL;
        const char *mb = vt_json_get_str(m, "publicKeyMultibase");
        const json_t *jwk = vt_json_get_obj(m, "publicKeyJwk");
        enum vt_status st;
        if (mb != NULL) {
            uint8_t pk[VT_ED25519_PK_LEN];
            st = vt_multikey_decode_public(mb, pk, err);
            if (st == VT_OK) {
                struct vt_key vk;
                vt_key_from_public(&vk, pk);
                key = cred_key_from_vt(&vk);
            }
        } else if (jwk != NULL) {
            st = cred_key_from_jwk(jwk, &key, err);
        } else {
            st = vt_error_set(err, VT_ERR_UNSUPPORTED, "no publicKeyMultibase or publicKeyJwk");
        }
        if (st != VT_OK)
            return vt_error_prefix(err, st, "invalid DID document '%s' method '%s'", did, full);
        cred_trust_add_key(t, full, key);
        cred_key_free(key);
    }
    return VT_OK;
}

struct cred_key *cred_trust_find(const struct cred_trust *t, const char *vm)
{
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < t->count; i++) {
        if (t->entries[i].vm != NULL && strcmp(t->entries[i].vm, vm) == 0)
            return t->entries[i].key;
    }
    /* A key registered under the bare DID or URL serves its fragments too. */
    size_t base = strcspn(vm, "#");
    for (size_t i = 0; i < t->count; i++) {
        const char *e = t->entries[i].vm;
        if (e != NULL && strlen(e) == base && strncmp(e, vm, base) == 0)
            return t->entries[i].key;
    }
    return NULL;
}

struct cred_key *cred_trust_any(const struct cred_trust *t)
{
    struct cred_key *found = NULL;
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < t->count; i++) {
        if (t->entries[i].vm == NULL) {
            if (found != NULL)
                return NULL;
            found = t->entries[i].key;
        }
    }
    return found;
}

/* An anonymous trusted key equal to pk. */
static struct cred_key *trust_match_ed25519(const struct cred_trust *t,
                                            const uint8_t pk[VT_ED25519_PK_LEN])
{
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < t->count; i++) {
        struct cred_key *k = t->entries[i].key;
        if (t->entries[i].vm == NULL && k->type == CRED_KEY_ED25519 &&
            memcmp(k->ed.pk, pk, VT_ED25519_PK_LEN) == 0)
            return k;
    }
    return NULL;
}

bool cred_is_uri(const char *s)
{
    if (s == NULL || !isalpha((unsigned char)s[0]))
        return false;
    size_t i = 1;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    if (s[i] != ':' || s[i + 1] == '\0')
        return false;
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
            return false;
    }
    return true;
}

/* Fragments that look like an Ed25519 Multikey ("z6Mk..."). */
static bool fragment_is_multikey(const char *frag)
{
    return frag != NULL && strncmp(frag, "z6Mk", 4) == 0;
}

bool cred_vm_syntax_ok(struct cred_verifier *v, const char *vm, const char *what)
{
    struct cred_result *r = v->result;
    struct vt_error e;
    vt_error_clear(&e);
    if (!cred_is_uri(vm)) {
        cred_result_error(r, CRED_P_KEY_RESOLUTION, "verification method is not a URL",
                          "%s: verificationMethod '%.80s' has no URL scheme", what, vm);
        return false;
    }
    size_t scheme = strcspn(vm, ":");
    if (strncmp(vm, "did:", 4) == 0) {
        const char *method = vm + 4;
        size_t mlen = strcspn(method, ":");
        if (mlen == 3 && strncmp(method, "key", 3) == 0) {
            uint8_t pk[VT_ED25519_PK_LEN];
            if (vt_didkey_parse(vm, strlen(vm), pk, &e) != VT_OK) {
                cred_result_error(r, CRED_P_KEY_RESOLUTION, "invalid did:key",
                                  "%s: verificationMethod '%.80s': %s", what, vm, e.msg);
                return false;
            }
            return true;
        }
        if (!(mlen == 3 && strncmp(method, "web", 3) == 0)) {
            cred_result_error(r, CRED_P_KEY_RESOLUTION, "unsupported DID method",
                              "%s: DID method '%.*s' of '%.80s' is not supported (did:key, "
                              "did:web)",
                              what, (int)(mlen > 40 ? 40 : mlen), method, vm);
            return false;
        }
    } else if (!((scheme == 5 && strncmp(vm, "https", 5) == 0) ||
                 (scheme == 4 && strncmp(vm, "http", 4) == 0) ||
                 (scheme == 3 && strncmp(vm, "urn", 3) == 0))) {
        cred_result_error(r, CRED_P_KEY_RESOLUTION, "unsupported URL scheme",
                          "%s: verificationMethod '%.80s' uses unsupported scheme '%.*s'", what, vm,
                          (int)(scheme > 20 ? 20 : scheme), vm);
        return false;
    }
    const char *frag = strchr(vm, '#');
    if (frag != NULL && fragment_is_multikey(frag + 1)) {
        uint8_t pk[VT_ED25519_PK_LEN];
        if (vt_multikey_decode_public(frag + 1, pk, &e) != VT_OK) {
            cred_result_error(r, CRED_P_KEY_RESOLUTION, "invalid key in verification method",
                              "%s: fragment of '%.100s' is not an Ed25519 Multikey: %s", what, vm,
                              e.msg);
            return false;
        }
    }
    return true;
}

struct cred_key *cred_resolve_vm(struct cred_verifier *v, const char *vm, int64_t at_ms,
                                 bool allow_any, const char *what)
{
    struct cred_result *r = v->result;
    const struct cred_verify_options *opt = v->opt;
    struct vt_error e;
    vt_error_clear(&e);
    if (opt->key_lookup != NULL) {
        struct cred_key *key = NULL;
        enum vt_status st = opt->key_lookup(opt->key_lookup_ctx, vm, at_ms, &key, &e);
        if (st == VT_OK && key != NULL) {
            cred_result_check(r, "key-validity");
            return key;
        }
        if (st == VT_ERR_PERMISSION) {
            cred_result_check(r, "key-validity");
            cred_result_error(r, CRED_P_KEY_VALIDITY, "key not valid at signing time",
                              "%s: key '%s' was not valid at the proof's time: %s", what, vm,
                              e.msg);
            return NULL;
        }
        if (st != VT_ERR_NOT_FOUND) {
            cred_result_error(r, CRED_P_KEY_RESOLUTION, "key lookup failed", "%s: '%s': %s", what,
                              vm, e.msg);
            return NULL;
        }
    }
    if (strncmp(vm, "did:key:", 8) == 0) {
        uint8_t pk[VT_ED25519_PK_LEN];
        if (vt_didkey_parse(vm, strlen(vm), pk, &e) != VT_OK) {
            cred_result_error(r, CRED_P_KEY_RESOLUTION, "invalid did:key", "%s: '%s': %s", what, vm,
                              e.msg);
            return NULL;
        }
        /* The method already spells the key's did:key URL, its default method: building
         * that from the DID saves encoding the key in base58 again. */
        size_t did_len = strcspn(vm, "#");
        struct cred_key *key = cred_key_alloc(CRED_KEY_ED25519);
        vt_key_from_public(&key->ed, pk);
        key->default_vm = vt_malloc(2 * did_len - 8 + 2);
        memcpy(key->default_vm, vm, did_len);
        key->default_vm[did_len] = '#';
        memcpy(key->default_vm + did_len + 1, vm + 8, did_len - 8);
        key->default_vm[2 * did_len - 8 + 1] = '\0';
        return key;
    }
    struct cred_key *key = cred_trust_find(opt->trust, vm);
    if (key != NULL)
        return cred_key_ref(key);
    const char *frag = strchr(vm, '#');
    if (frag != NULL && fragment_is_multikey(frag + 1)) {
        uint8_t pk[VT_ED25519_PK_LEN];
        if (vt_multikey_decode_public(frag + 1, pk, &e) == VT_OK) {
            key = trust_match_ed25519(opt->trust, pk);
            if (key != NULL)
                return cred_key_ref(key);
        }
    }
    if (allow_any && (key = cred_trust_any(opt->trust)) != NULL)
        return cred_key_ref(key);
    cred_result_error(r, CRED_P_KEY_RESOLUTION, "issuer key not resolvable",
                      "%s: verification method '%s' cannot be resolved offline and no trusted "
                      "key matches it (add one with --key)",
                      what, vm);
    return NULL;
}

/* ---------------------------------------------------------------------------------------
 * did:web
 */

enum vt_status cred_didweb_url(const char *did, char **url_out, struct vt_error *err)
{
    *url_out = NULL;
    if (strncmp(did, "did:web:", 8) != 0 || did[8] == '\0' || strchr(did, '#') != NULL ||
        strchr(did, '/') != NULL)
        return vt_error_set(err, VT_ERR_INVALID, "invalid did:web '%s'", did);
    struct vt_buf b;
    vt_buf_init(&b, 2048);
    enum vt_status st = vt_buf_append_str(&b, "https://", err);
    bool host = true;
    for (const char *p = did + 8; *p && st == VT_OK; p++) {
        if (*p == ':') {
            host = false;
            st = vt_buf_append_byte(&b, '/', err);
        } else if (host && strncmp(p, "%3A", 3) == 0) {
            st = vt_buf_append_byte(&b, ':', err);
            p += 2;
        } else if (isalnum((unsigned char)*p) || strchr("-._~%", *p) != NULL) {
            st = vt_buf_append_byte(&b, (uint8_t)*p, err);
        } else {
            st = vt_error_set(err, VT_ERR_INVALID, "invalid character in did:web '%s'", did);
        }
    }
    if (st == VT_OK)
        st = vt_buf_append_str(&b, host ? "/.well-known/did.json" : "/did.json", err);
    if (st != VT_OK) {
        vt_buf_release(&b);
        return st;
    }
    *url_out = (char *)vt_buf_detach(&b, NULL);
    return VT_OK;
}

enum vt_status cred_didweb_document(const char *did, const struct cred_key *key, json_t **doc_out,
                                    struct vt_error *err)
{
    char *url = NULL;
    enum vt_status st = cred_didweb_url(did, &url, err);
    if (st != VT_OK)
        return st;
    free(url);
    char vm[512];
    json_t *m = json_object();
    if (key->type == CRED_KEY_ED25519) {
        char mb[VT_MULTIKEY_MAX];
        vt_multikey_encode_public(key->ed.pk, mb);
        snprintf(vm, sizeof(vm), "%s#%s", did, mb);
        json_object_set_new(m, "id", json_string(vm));
        json_object_set_new(m, "type", json_string("Multikey"));
        json_object_set_new(m, "controller", json_string(did));
        json_object_set_new(m, "publicKeyMultibase", json_string(mb));
    } else {
        snprintf(vm, sizeof(vm), "%s#key-1", did);
        json_object_set_new(m, "id", json_string(vm));
        json_object_set_new(m, "type", json_string("JsonWebKey"));
        json_object_set_new(m, "controller", json_string(did));
        json_object_set_new(m, "publicKeyJwk", cred_key_public_jwk(key));
    }
    json_t *doc = json_object();
    json_t *ctx = json_array();
    json_array_append_new(ctx, json_string("https://www.w3.org/ns/did/v1"));
    json_array_append_new(ctx, json_string("https://w3id.org/security/multikey/v1"));
    json_object_set_new(doc, "@context", ctx);
    json_object_set_new(doc, "id", json_string(did));
    json_t *vms = json_array();
    json_array_append_new(vms, m);
    json_object_set_new(doc, "verificationMethod", vms);
    json_t *am = json_array();
    json_array_append_new(am, json_string(vm));
    json_object_set_new(doc, "assertionMethod", am);
    json_t *au = json_array();
    json_array_append_new(au, json_string(vm));
    json_object_set_new(doc, "authentication", au);
    *doc_out = doc;
    return VT_OK;
}
