/* The issuer: options, its ledger chain and replay, key history, key lookup and the DID
 * document (specs/credential.md §11). */
#include "credential/credential_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ISSUER_DOMAIN "vitae/issuer/v1\n"
#define ISSUER_THREADS_MAX 16
/* An issuer chain longer than this is not replayed: it would mean a runaway writer. */
#define ISSUER_CHAIN_MAX UINT64_C(100000000)
/* The issuer's status list cache: every list of a busy issuer stays decoded (16 KiB each at
 * the default size), within a bound fit for a server. */
#define ISSUER_CACHE_ENTRIES 1024
#define ISSUER_CACHE_BYTES ((size_t)32 << 20)

void cred_issuer_options_init(struct cred_issuer_options *o)
{
    memset(o, 0, sizeof(*o));
    o->status_list_entries = CRED_STATUS_MIN_ENTRIES;
    o->sign_threads = 2;
}

void cred_issuer_chain_id(const char *did, uint8_t out[CRED_LEARNER_LEN])
{
    struct vt_sha256 *h = vt_sha256_new();
    uint8_t d[VT_SHA256_LEN];
    vt_sha256_update(h, ISSUER_DOMAIN, strlen(ISSUER_DOMAIN));
    vt_sha256_update(h, did, strlen(did));
    vt_sha256_final(h, d);
    vt_sha256_free(h);
    memcpy(out, d, CRED_LEARNER_LEN);
}

const char *cred_issuer_did(const struct cred_issuer *iss)
{
    return iss->did;
}

/* Ed25519 methods are named by their Multikey, others by their JWK thumbprint, so a
 * method id never names two keys. */
static char *method_id(const char *did, const struct cred_key *key)
{
    char frag[VT_MULTIKEY_MAX > CRED_THUMBPRINT_MAX ? VT_MULTIKEY_MAX : CRED_THUMBPRINT_MAX];
    if (key->type == CRED_KEY_ED25519)
        vt_multikey_encode_public(key->ed.pk, frag);
    else
        cred_key_thumbprint(key, frag);
    size_t n = strlen(did) + 1 + strlen(frag) + 1;
    char *vm = vt_malloc(n);
    snprintf(vm, n, "%s#%s", did, frag);
    return vm;
}

static struct issuer_key *hist_find(const struct cred_issuer *iss, const char *vm)
{
    for (size_t i = 0; i < iss->nhist; i++) {
        if (strcmp(iss->hist[i].vm, vm) == 0)
            return &iss->hist[i];
    }
    return NULL;
}

static struct issuer_key *hist_current(const struct cred_issuer *iss, enum cred_alg alg)
{
    for (size_t i = 0; i < iss->nhist; i++) {
        if (iss->hist[i].alg == alg && iss->hist[i].until_ms == INT64_MAX)
            return &iss->hist[i];
    }
    return NULL;
}

/* Applies a key.rotated event: the new method starts at t, the one it retires ends there. */
static enum vt_status hist_apply(struct cred_issuer *iss, const json_t *p, int64_t t,
                                 struct vt_error *err)
{
    const char *vm = vt_json_get_str(p, "verificationMethod");
    const char *alg_name = vt_json_get_str(p, "algorithm");
    const char *mb = vt_json_get_str(p, "publicKeyMultibase");
    const json_t *jwk = vt_json_get_obj(p, "publicKeyJwk");
    const char *retires = vt_json_get_str(p, "retires");
    enum cred_alg alg;
    if (vm == NULL || alg_name == NULL || (mb == NULL && jwk == NULL))
        return vt_error_set(err, VT_ERR_INVALID, "key.rotated event lacks a member");
    enum vt_status st = cred_alg_parse(alg_name, &alg, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "key.rotated event");
    struct cred_key *key = NULL;
    if (mb != NULL) {
        uint8_t pk[VT_ED25519_PK_LEN];
        st = vt_multikey_decode_public(mb, pk, err);
        if (st != VT_OK)
            return vt_error_prefix(err, st, "key.rotated event");
        struct vt_key vk;
        vt_key_from_public(&vk, pk);
        key = cred_key_from_vt(&vk);
    } else if ((st = cred_key_from_jwk(jwk, &key, err)) != VT_OK) {
        return vt_error_prefix(err, st, "key.rotated event");
    }
    if (cred_key_alg(key) != alg || hist_find(iss, vm) != NULL) {
        cred_key_free(key);
        return vt_error_set(err, VT_ERR_INVALID,
                            "key.rotated event for '%s' repeats a method or mismatches its alg",
                            vm);
    }
    pthread_rwlock_wrlock(&iss->hist_lock);
    if (retires != NULL) {
        struct issuer_key *old = hist_find(iss, retires);
        if (old != NULL && old->until_ms == INT64_MAX) {
            old->until_ms = t;
            old->compromised = json_is_true(json_object_get(p, "compromised"));
        }
    }
    iss->hist = vt_realloc(iss->hist, (iss->nhist + 1) * sizeof(*iss->hist));
    struct issuer_key *k = &iss->hist[iss->nhist++];
    memset(k, 0, sizeof(*k));
    k->vm = vt_strdup(vm);
    k->key = key;
    k->alg = alg;
    k->from_ms = t;
    k->until_ms = INT64_MAX;
    pthread_rwlock_unlock(&iss->hist_lock);
    return VT_OK;
}

enum vt_status cred_issuer_chain_append(struct cred_issuer *iss, const char *type,
                                        const json_t *payload, uint64_t *index, int64_t *time_ms,
                                        struct vt_error *err)
{
    struct vt_buf b;
    vt_buf_init(&b, LEDGER_PAYLOAD_DEFAULT_MAX);
    enum vt_status st = vt_jcs_write(payload, &b, err);
    struct ledger_append_req req;
    memset(&req, 0, sizeof(req));
    memcpy(req.learner, iss->chain, CRED_LEARNER_LEN);
    req.type = type;
    req.payload = b.data;
    req.payload_len = b.len;
    struct ledger_append_result res;
    if (st == VT_OK)
        st = ledger_append(iss->ledger, &req, &res, err);
    vt_buf_release(&b);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "cannot record %s", type);
    if (index != NULL)
        *index = res.index;
    if (time_ms == NULL)
        return VT_OK;
    /* The writer, not our clock, dates the event: read back the time it assigned. */
    struct vt_buf leaf;
    vt_buf_init(&leaf, LEDGER_LEAF_MAX);
    struct ledger_event ev;
    uint8_t sig[VT_ED25519_SIG_LEN];
    st = ledger_event_read(iss->ledger, res.index, &leaf, err);
    if (st == VT_OK)
        st = ledger_leaf_open(leaf.data, leaf.len, &ev, sig, NULL, NULL, err);
    vt_buf_release(&leaf);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "cannot read back %s", type);
    *time_ms = (int64_t)ev.time_ms;
    return VT_OK;
}

/* Replays the issuer chain, oldest first. */
static enum vt_status replay(struct cred_issuer *iss, struct vt_error *err)
{
    uint64_t head;
    enum vt_status st = ledger_head(iss->ledger, iss->chain, &head, NULL, NULL, err);
    if (st == VT_ERR_NOT_FOUND)
        return VT_OK;
    if (st != VT_OK)
        return st;
    if (head >= ISSUER_CHAIN_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "issuer chain of %llu events is too long",
                            (unsigned long long)head + 1);
    struct vt_buf leaf, payload;
    vt_buf_init(&leaf, LEDGER_LEAF_MAX);
    vt_buf_init(&payload, LEDGER_PAYLOAD_DEFAULT_MAX);
    for (uint64_t seq = 0; seq <= head && st == VT_OK; seq++) {
        uint64_t index;
        struct ledger_event ev;
        uint8_t sig[VT_ED25519_SIG_LEN];
        json_t *p = NULL;
        vt_buf_reset(&leaf);
        vt_buf_reset(&payload);
        st = ledger_event_index(iss->ledger, iss->chain, seq, &index, err);
        if (st == VT_OK)
            st = ledger_event_read(iss->ledger, index, &leaf, err);
        if (st == VT_OK)
            st = ledger_leaf_open(leaf.data, leaf.len, &ev, sig, NULL, NULL, err);
        if (st == VT_OK)
            st = ledger_payload_read(iss->ledger, index, &payload, err);
        if (st == VT_OK)
            st = vt_json_parse((const char *)payload.data, payload.len, payload.max, 16, &p, err);
        if (st == VT_OK && !json_is_object(p))
            st = vt_error_set(err, VT_ERR_INVALID, "payload is not an object");
        if (st == VT_OK && strcmp(ev.type, "key.rotated") == 0)
            st = hist_apply(iss, p, (int64_t)ev.time_ms, err);
        else if (st == VT_OK)
            st = cred_issuer_replay_status(iss, ev.type, p, err);
        json_decref(p);
        if (st != VT_OK)
            vt_error_prefix(err, st, "cannot replay issuer chain at seq %llu",
                            (unsigned long long)seq);
    }
    vt_buf_release(&leaf);
    vt_buf_release(&payload);
    return st;
}

static json_t *rotation_payload(const struct cred_issuer *iss, const char *vm,
                                const struct cred_key *key, const char *retires, bool compromised)
{
    json_t *p = json_object();
    json_object_set_new(p, "issuer", json_string(iss->did));
    json_object_set_new(p, "verificationMethod", json_string(vm));
    json_object_set_new(p, "algorithm", json_string(cred_alg_name(cred_key_alg(key))));
    if (key->type == CRED_KEY_ED25519) {
        char mb[VT_MULTIKEY_MAX];
        vt_multikey_encode_public(key->ed.pk, mb);
        json_object_set_new(p, "publicKeyMultibase", json_string(mb));
    } else {
        json_object_set_new(p, "publicKeyJwk", cred_key_public_jwk(key));
    }
    if (retires != NULL) {
        json_object_set_new(p, "retires", json_string(retires));
        json_object_set_new(p, "compromised", json_boolean(compromised));
    }
    return p;
}

/* Makes key the current key of its algorithm, recording a rotation unless the history
 * already names it as current (lock held or not yet shared). */
static enum vt_status make_current(struct cred_issuer *iss, struct cred_key *key, bool compromised,
                                   bool explicit_rotation, struct vt_error *err)
{
    enum cred_alg alg = cred_key_alg(key);
    char *vm = method_id(iss->did, key);
    struct issuer_key *cur = hist_current(iss, alg);
    struct issuer_key *known = hist_find(iss, vm);
    enum vt_status st = VT_OK;
    if (cur != NULL && cur == known && !explicit_rotation) {
        /* Already current. */
    } else if (known != NULL) {
        st = vt_error_set(err, VT_ERR_INVALID,
                          "cannot use key '%s': it was used before and may not return", vm);
    } else if (iss->didkey && alg == CRED_ALG_EDDSA && cur != NULL) {
        st = vt_error_set(err, VT_ERR_UNSUPPORTED,
                          "cannot rotate the key of did:key issuer '%s': the key is the DID",
                          iss->did);
    } else {
        json_t *p = rotation_payload(iss, vm, key, cur != NULL ? cur->vm : NULL, compromised);
        int64_t t = 0;
        st = cred_issuer_chain_append(iss, "key.rotated", p, NULL, &t, err);
        if (st == VT_OK)
            st = hist_apply(iss, p, t, err);
        json_decref(p);
    }
    free(vm);
    if (st != VT_OK)
        return st;
    cur = hist_current(iss, alg);
    cred_key_free(iss->current[alg]);
    iss->current[alg] = cred_key_ref(key);
    iss->current_vm[alg] = cur->vm;
    return VT_OK;
}

static enum vt_status check_options(const struct cred_issuer_options *o, struct vt_error *err)
{
    if (o->ledger == NULL || o->key == NULL || o->status_base_url == NULL)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot open issuer: ledger, key and status base URL are required");
    if (o->key->type != CRED_KEY_ED25519 || !o->key->has_secret)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot open issuer: the key must be Ed25519 with its secret");
    for (size_t i = 0; i < o->extra_key_count; i++) {
        const struct cred_key *k = o->extra_keys[i];
        if (k == NULL || !k->has_secret || k->type == CRED_KEY_ED25519)
            return vt_error_set(err, VT_ERR_INVALID,
                                "cannot open issuer: extra key %zu must be ES256 or RS256 with "
                                "its secret",
                                i);
        for (size_t j = 0; j < i; j++) {
            if (o->extra_keys[j]->type == k->type)
                return vt_error_set(err, VT_ERR_INVALID,
                                    "cannot open issuer: two extra keys of one algorithm");
        }
    }
    const char *b = o->status_base_url;
    size_t n = strlen(b);
    if (!(strncmp(b, "https://", 8) == 0 || strncmp(b, "http://", 7) == 0) || !cred_is_uri(b) ||
        b[n - 1] == '/' || n > 512)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot open issuer: status base URL '%.80s' is not an http(s) URL "
                            "without trailing slash",
                            b);
    if (o->status_list_entries != 0 &&
        (o->status_list_entries < CRED_STATUS_MIN_ENTRIES || o->status_list_entries % 8 != 0 ||
         o->status_list_entries > ((size_t)1 << 26)))
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot open issuer: status lists need a multiple of 8 entries from "
                            "%d to 2^26",
                            CRED_STATUS_MIN_ENTRIES);
    if (o->did != NULL &&
        (strlen(o->did) > 256 || !cred_is_uri(o->did) ||
         !(strncmp(o->did, "did:web:", 8) == 0 || strncmp(o->did, "did:key:", 8) == 0) ||
         strchr(o->did, '#') != NULL))
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot open issuer: '%.80s' is not a did:web or did:key DID", o->did);
    return VT_OK;
}

enum vt_status cred_issuer_open(const struct cred_issuer_options *o, struct cred_issuer **out,
                                struct vt_error *err)
{
    *out = NULL;
    enum vt_status st = check_options(o, err);
    if (st != VT_OK)
        return st;
    char didkey[VT_DIDKEY_MAX];
    vt_didkey_from_public(o->key->ed.pk, didkey);
    const char *did = o->did != NULL ? o->did : didkey;
    if (strncmp(did, "did:key:", 8) == 0 && strcmp(did, didkey) != 0)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot open issuer: '%.80s' is not the did:key of its key", did);
    struct cred_issuer *iss = vt_calloc(1, sizeof(*iss));
    VT_ASSERT(pthread_mutex_init(&iss->lock, NULL) == 0);
    VT_ASSERT(pthread_mutex_init(&iss->pub_lock, NULL) == 0);
    VT_ASSERT(pthread_rwlock_init(&iss->hist_lock, NULL) == 0);
    iss->cache = cred_status_cache_new(ISSUER_CACHE_ENTRIES, ISSUER_CACHE_BYTES);
    iss->ledger = o->ledger;
    iss->did = vt_strdup(did);
    iss->didkey = strncmp(did, "did:key:", 8) == 0;
    iss->name = o->name != NULL ? vt_strdup(o->name) : NULL;
    iss->url = o->url != NULL ? vt_strdup(o->url) : NULL;
    iss->base = vt_strdup(o->status_base_url);
    iss->list_entries =
        o->status_list_entries != 0 ? o->status_list_entries : CRED_STATUS_MIN_ENTRIES;
    iss->threads = o->sign_threads == 0                   ? 2
                   : o->sign_threads > ISSUER_THREADS_MAX ? ISSUER_THREADS_MAX
                                                          : o->sign_threads;
    cred_issuer_chain_id(iss->did, iss->chain);

    st = replay(iss, err);
    if (st == VT_OK)
        st = make_current(iss, o->key, false, false, err);
    for (size_t i = 0; st == VT_OK && i < o->extra_key_count; i++)
        st = make_current(iss, o->extra_keys[i], false, false, err);
    for (size_t n = 0; st == VT_OK && n < iss->nlists; n++)
        st = cred_issuer_sign_lists(iss, n, err);
    if (st != VT_OK) {
        cred_issuer_close(iss);
        return vt_error_prefix(err, st, "cannot open issuer '%.80s'", did);
    }
    *out = iss;
    return VT_OK;
}

void cred_issuer_close(struct cred_issuer *iss)
{
    if (iss == NULL)
        return;
    for (size_t i = 0; i < iss->nhist; i++) {
        free(iss->hist[i].vm);
        cred_key_free(iss->hist[i].key);
    }
    free(iss->hist);
    for (size_t i = 0; i < 3; i++)
        cred_key_free(iss->current[i]);
    cred_issuer_lists_free(iss);
    free(iss->did);
    free(iss->name);
    free(iss->url);
    free(iss->base);
    cred_status_cache_free(iss->cache);
    pthread_rwlock_destroy(&iss->hist_lock);
    pthread_mutex_destroy(&iss->pub_lock);
    pthread_mutex_destroy(&iss->lock);
    free(iss);
}

enum vt_status cred_issuer_rotate_key(struct cred_issuer *iss, struct cred_key *new_key,
                                      bool compromised, struct vt_error *err)
{
    if (!new_key->has_secret)
        return vt_error_set(err, VT_ERR_INVALID, "cannot rotate to a key without its secret");
    pthread_mutex_lock(&iss->lock);
    enum vt_status st = make_current(iss, new_key, compromised, true, err);
    /* The status lists carry a proof by the current Ed25519 key. */
    for (size_t n = 0; st == VT_OK && cred_key_alg(new_key) == CRED_ALG_EDDSA && n < iss->nlists;
         n++)
        st = cred_issuer_sign_lists(iss, n, err);
    pthread_mutex_unlock(&iss->lock);
    return st;
}

enum vt_status cred_issuer_key_lookup(void *ctx, const char *vm, int64_t at_ms,
                                      struct cred_key **key_out, struct vt_error *err)
{
    struct cred_issuer *iss = ctx;
    *key_out = NULL;
    pthread_rwlock_rdlock(&iss->hist_lock);
    const struct issuer_key *k = hist_find(iss, vm);
    enum vt_status st = VT_OK;
    char when[VT_TIME_MAX], from[VT_TIME_MAX], until[VT_TIME_MAX];
    if (k == NULL) {
        st = vt_error_set(err, VT_ERR_NOT_FOUND, "'%s' is not in the key history", vm);
    } else if (at_ms < 0 && k->until_ms != INT64_MAX) {
        vt_time_format(k->until_ms, until);
        st = vt_error_set(err, VT_ERR_PERMISSION,
                          "the key was retired at %s and the proof names no signing time", until);
    } else if (at_ms >= 0 && (at_ms < k->from_ms / 1000 * 1000 || at_ms >= k->until_ms)) {
        /* Proof times are whole seconds, so a key is valid from the second it starts. */
        vt_time_format(at_ms, when);
        vt_time_format(k->from_ms, from);
        if (k->until_ms == INT64_MAX)
            snprintf(until, sizeof(until), "now");
        else
            vt_time_format(k->until_ms, until);
        st = vt_error_set(err, VT_ERR_PERMISSION,
                          "signed at %s, outside the key's validity in the log (%s to %s)%s", when,
                          from, until, k->compromised ? "; the key was compromised" : "");
    } else {
        *key_out = cred_key_ref(k->key);
    }
    pthread_rwlock_unlock(&iss->hist_lock);
    return st;
}

static json_t *method_json(const char *did, const struct issuer_key *k)
{
    json_t *m = json_object();
    json_object_set_new(m, "id", json_string(k->vm));
    json_object_set_new(m, "controller", json_string(did));
    if (k->key->type == CRED_KEY_ED25519) {
        char mb[VT_MULTIKEY_MAX];
        vt_multikey_encode_public(k->key->ed.pk, mb);
        json_object_set_new(m, "type", json_string("Multikey"));
        json_object_set_new(m, "publicKeyMultibase", json_string(mb));
    } else {
        json_object_set_new(m, "type", json_string("JsonWebKey"));
        json_object_set_new(m, "publicKeyJwk", cred_key_public_jwk(k->key));
    }
    return m;
}

enum vt_status cred_issuer_did_document(struct cred_issuer *iss, json_t **doc_out,
                                        struct vt_error *err)
{
    *doc_out = NULL;
    if (iss->didkey)
        return vt_didkey_document(iss->did, doc_out, err);
    json_t *doc = json_object();
    json_t *ctx = json_array();
    json_array_append_new(ctx, json_string("https://www.w3.org/ns/did/v1"));
    json_array_append_new(ctx, json_string("https://w3id.org/security/multikey/v1"));
    json_array_append_new(ctx, json_string("https://w3id.org/security/jwk/v1"));
    json_object_set_new(doc, "@context", ctx);
    json_object_set_new(doc, "id", json_string(iss->did));
    json_t *vms = json_array(), *am = json_array(), *au = json_array();
    pthread_rwlock_rdlock(&iss->hist_lock);
    /* Newest first, so that a resolver taking the first method takes the current one. */
    for (size_t i = iss->nhist; i-- > 0;) {
        const struct issuer_key *k = &iss->hist[i];
        if (k->compromised)
            continue;
        json_array_append_new(vms, method_json(iss->did, k));
        json_array_append_new(am, json_string(k->vm));
        if (k->until_ms == INT64_MAX)
            json_array_append_new(au, json_string(k->vm));
    }
    pthread_rwlock_unlock(&iss->hist_lock);
    json_object_set_new(doc, "verificationMethod", vms);
    json_object_set_new(doc, "assertionMethod", am);
    json_object_set_new(doc, "authentication", au);
    *doc_out = doc;
    return VT_OK;
}
