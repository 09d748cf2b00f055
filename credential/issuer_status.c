/* The issuer's status lists: slot allocation through a keyed permutation, durable
 * reservations, status changes and the signed list credentials (specs/credential.md §11). */
#include "credential/credential_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Slots reserved per status.reserved event when a call needs fewer: one ledger event per
 * this many single issuances. */
#define RESERVE_CHUNK 4096
/* List pairs one issuer may have (each holds at least 131,072 credentials). */
#define LISTS_MAX 4096
#define PRP_ROUNDS 4

static const char *const purposes[2] = {"revocation", "suspension"};

/* ---------------------------------------------------------------------------------------
 * The slot permutation: a balanced Feistel network over the smallest even number of bits
 * that covers the list, with SipHash-2-4 as round function, cycle-walked into [0, size).
 * A permutation of [0, size) whose key stays in the issuer chain, so an index reveals
 * nothing about issuance order while the counter alone says which indexes are used.
 */

static unsigned half_bits(size_t size)
{
    unsigned bits = 0;
    while (((size_t)1 << bits) < size)
        bits++;
    return (bits + 1) / 2;
}

static uint64_t prp_round(const uint8_t key[16], unsigned round, uint64_t half)
{
    uint8_t in[9], out[crypto_shorthash_BYTES];
    in[0] = (uint8_t)round;
    vt_be64_put(in + 1, half);
    crypto_shorthash(out, in, sizeof(in), key);
    return vt_be64_get(out);
}

static uint64_t feistel(const uint8_t key[16], unsigned hb, uint64_t x, bool inverse)
{
    uint64_t mask = (UINT64_C(1) << hb) - 1;
    uint64_t l = x >> hb, r = x & mask;
    for (unsigned i = 0; i < PRP_ROUNDS; i++) {
        uint64_t t;
        if (!inverse) {
            t = l ^ (prp_round(key, i, r) & mask);
            l = r;
            r = t;
        } else {
            t = r ^ (prp_round(key, PRP_ROUNDS - 1 - i, l) & mask);
            r = l;
            l = t;
        }
    }
    return l << hb | r;
}

static uint64_t slot_index(const struct issuer_list *l, size_t size, uint64_t counter, bool inverse)
{
    unsigned hb = half_bits(size);
    uint64_t x = counter;
    do
        x = feistel(l->prp_key, hb, x, inverse);
    while (x >= size);
    return x;
}

/* ---------------------------------------------------------------------------------------
 * Lists
 */

void cred_issuer_list_url(const struct cred_issuer *iss, size_t n, int purpose, char *out,
                          size_t outlen)
{
    snprintf(out, outlen, "%s/%s-%zu", iss->base, purposes[purpose], n);
}

/* Only when nothing else can reach the issuer: takes no lock. */
void cred_issuer_lists_free(struct cred_issuer *iss)
{
    for (size_t n = 0; n < iss->nlists; n++) {
        for (int p = 0; p < 2; p++) {
            cred_status_list_free(iss->lists[n].bits[p]);
            free(iss->lists[n].signed_json[p]);
        }
    }
    free(iss->lists);
    iss->lists = NULL;
    iss->nlists = 0;
}

static struct issuer_list *list_add(struct cred_issuer *iss, const uint8_t key[16])
{
    struct issuer_list fresh;
    memset(&fresh, 0, sizeof(fresh));
    memcpy(fresh.prp_key, key, sizeof(fresh.prp_key));
    for (int p = 0; p < 2; p++)
        VT_ASSERT(cred_status_list_new(iss->list_entries, &fresh.bits[p], NULL) == VT_OK);
    pthread_mutex_lock(&iss->pub_lock);
    iss->lists = vt_realloc(iss->lists, (iss->nlists + 1) * sizeof(*iss->lists));
    struct issuer_list *l = &iss->lists[iss->nlists++];
    *l = fresh;
    pthread_mutex_unlock(&iss->pub_lock);
    return l;
}

static void list_drop_last(struct cred_issuer *iss)
{
    pthread_mutex_lock(&iss->pub_lock);
    struct issuer_list *l = &iss->lists[--iss->nlists];
    pthread_mutex_unlock(&iss->pub_lock);
    for (int p = 0; p < 2; p++) {
        char url[640];
        cred_issuer_list_url(iss, iss->nlists, p, url, sizeof(url));
        cred_status_cache_invalidate(iss->cache, url);
        cred_status_list_free(l->bits[p]);
        free(l->signed_json[p]);
    }
}

static enum vt_status sign_list(struct cred_issuer *iss, size_t n, int purpose,
                                struct vt_error *err)
{
    struct issuer_list *l = &iss->lists[n];
    char url[640];
    cred_issuer_list_url(iss, n, purpose, url, sizeof(url));
    json_t *doc = NULL;
    enum vt_status st =
        cred_status_list_credential(l->bits[purpose], url, iss->did, purposes[purpose], &doc, err);
    struct cred_di_options o;
    memset(&o, 0, sizeof(o));
    o.verification_method = iss->current_vm[CRED_ALG_EDDSA];
    struct vt_buf b;
    vt_buf_init(&b, CRED_DOC_MAX);
    if (st == VT_OK)
        st = cred_sign_di_hashed(doc, false, iss->current[CRED_ALG_EDDSA], &o, NULL, &b, NULL, err);
    json_decref(doc);
    if (st != VT_OK) {
        vt_buf_release(&b);
        return vt_error_prefix(err, st, "cannot sign status list '%s'", url);
    }
    uint8_t digest[VT_SHA256_LEN];
    vt_sha256(b.data, b.len, digest);
    size_t len;
    char *text = (char *)vt_buf_detach(&b, &len);
    pthread_mutex_lock(&iss->pub_lock);
    char *old = l->signed_json[purpose];
    l->signed_json[purpose] = text;
    l->signed_len[purpose] = len;
    memcpy(l->signed_digest[purpose], digest, VT_SHA256_LEN);
    pthread_mutex_unlock(&iss->pub_lock);
    free(old);
    /* The digest already keeps the old entry from answering; dropping it frees it now. */
    cred_status_cache_invalidate(iss->cache, url);
    return VT_OK;
}

enum vt_status cred_issuer_sign_lists(struct cred_issuer *iss, size_t n, struct vt_error *err)
{
    enum vt_status st = sign_list(iss, n, 0, err);
    if (st == VT_OK)
        st = sign_list(iss, n, 1, err);
    return st;
}

static json_t *reservation_payload(const struct cred_issuer *iss, size_t n, uint64_t reserved)
{
    const struct issuer_list *l = &iss->lists[n];
    struct vt_buf k;
    vt_buf_init(&k, 64);
    VT_ASSERT(vt_base64url_encode(l->prp_key, sizeof(l->prp_key), &k, NULL) == VT_OK);
    json_t *p = json_object();
    json_object_set_new(p, "issuer", json_string(iss->did));
    json_object_set_new(p, "list", json_integer((json_int_t)n));
    json_object_set_new(p, "size", json_integer((json_int_t)iss->list_entries));
    json_object_set_new(p, "key", json_stringn((const char *)k.data, k.len));
    json_object_set_new(p, "reserved", json_integer((json_int_t)reserved));
    vt_buf_release(&k);
    return p;
}

enum vt_status cred_issuer_allocate(struct cred_issuer *iss, size_t count,
                                    struct cred_status_ref *refs, struct vt_error *err)
{
    enum vt_status st = VT_OK;
    for (size_t i = 0; i < count; i++) {
        bool created = false;
        if (iss->nlists == 0 || iss->lists[iss->nlists - 1].counter >= iss->list_entries) {
            if (iss->nlists >= LISTS_MAX)
                return vt_error_set(err, VT_ERR_FULL, "cannot issue: all %d status lists are full",
                                    LISTS_MAX);
            uint8_t key[16];
            vt_random_bytes(key, sizeof(key));
            list_add(iss, key);
            created = true;
        }
        size_t n = iss->nlists - 1;
        struct issuer_list *l = &iss->lists[n];
        if (l->counter == l->reserved) {
            /* Reserve durably before handing out: after a crash the counter resumes at the
             * reservation, so a slot is never given twice. */
            uint64_t want = count - i > RESERVE_CHUNK ? count - i : RESERVE_CHUNK;
            uint64_t to = l->reserved + want;
            if (to > iss->list_entries)
                to = iss->list_entries;
            json_t *p = reservation_payload(iss, n, to);
            st = cred_issuer_chain_append(iss, "status.reserved", p, NULL, NULL, err);
            json_decref(p);
            if (st == VT_OK && created)
                st = cred_issuer_sign_lists(iss, n, err);
            if (st != VT_OK) {
                if (created)
                    list_drop_last(iss);
                return st;
            }
            l->reserved = to;
        }
        refs[i].list = (uint32_t)n;
        refs[i].index = (uint32_t)slot_index(l, iss->list_entries, l->counter, false);
        l->counter++;
    }
    return VT_OK;
}

/* ---------------------------------------------------------------------------------------
 * Replay
 */

static bool get_uint(const json_t *p, const char *name, uint64_t max, uint64_t *out)
{
    const json_t *v = json_object_get(p, name);
    if (!json_is_number(v))
        return false;
    double d = json_number_value(v);
    if (!(d >= 0 && d <= (double)max) || d != (double)(uint64_t)d)
        return false;
    *out = (uint64_t)d;
    return true;
}

enum vt_status cred_issuer_replay_status(struct cred_issuer *iss, const char *type, const json_t *p,
                                         struct vt_error *err)
{
    uint64_t n, v;
    if (strcmp(type, "status.reserved") == 0) {
        uint64_t size, reserved;
        const char *key = vt_json_get_str(p, "key");
        struct vt_buf k;
        vt_buf_init(&k, 64);
        if (!get_uint(p, "list", LISTS_MAX, &n) || !get_uint(p, "size", SIZE_MAX, &size) ||
            !get_uint(p, "reserved", size, &reserved) || key == NULL ||
            vt_base64url_decode(key, strlen(key), &k, NULL) != VT_OK || k.len != 16) {
            vt_buf_release(&k);
            return vt_error_set(err, VT_ERR_INVALID, "malformed status.reserved event");
        }
        enum vt_status st = VT_OK;
        if (size != iss->list_entries)
            st = vt_error_set(err, VT_ERR_CONFLICT,
                              "status list %llu has %llu entries but the issuer is opened with "
                              "%zu",
                              (unsigned long long)n, (unsigned long long)size, iss->list_entries);
        else if (n > iss->nlists)
            st = vt_error_set(err, VT_ERR_INVALID, "status list %llu reserved before list %zu",
                              (unsigned long long)n, iss->nlists);
        else if (n == iss->nlists)
            list_add(iss, k.data);
        if (st == VT_OK && reserved > iss->lists[n].reserved) {
            iss->lists[n].reserved = reserved;
            iss->lists[n].counter = reserved;
        }
        vt_buf_release(&k);
        return st;
    }
    int purpose;
    bool value;
    if (strcmp(type, "credential.revoked") == 0) {
        purpose = 0;
        value = true;
    } else if (strcmp(type, "credential.suspended") == 0) {
        purpose = 1;
        value = true;
    } else if (strcmp(type, "credential.unsuspended") == 0) {
        purpose = 1;
        value = false;
    } else {
        /* Other types in the issuer chain belong to other readers. */
        return VT_OK;
    }
    if (!get_uint(p, "list", LISTS_MAX, &n) || n >= iss->nlists ||
        !get_uint(p, "index", iss->list_entries - 1, &v))
        return vt_error_set(err, VT_ERR_INVALID, "malformed %s event", type);
    return cred_status_list_set(iss->lists[n].bits[purpose], (size_t)v, value, err);
}

/* ---------------------------------------------------------------------------------------
 * Status changes and reads
 */

/* Checks that ref names a slot handed out (lock held). */
static enum vt_status slot_check(const struct cred_issuer *iss, const struct cred_status_ref *ref,
                                 struct vt_error *err)
{
    if (ref->list >= iss->nlists || ref->index >= iss->list_entries)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "no status slot %u/%u", ref->list, ref->index);
    const struct issuer_list *l = &iss->lists[ref->list];
    if (slot_index(l, iss->list_entries, ref->index, true) >= l->counter)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "status slot %u/%u was never assigned",
                            ref->list, ref->index);
    return VT_OK;
}

static enum vt_status change(struct cred_issuer *iss, const struct cred_status_ref *ref,
                             int purpose, bool value, const char *type, const char *credential_id,
                             struct vt_error *err)
{
    pthread_mutex_lock(&iss->lock);
    enum vt_status st = slot_check(iss, ref, err);
    if (st != VT_OK ||
        cred_status_list_get(iss->lists[ref->list].bits[purpose], ref->index) == value) {
        pthread_mutex_unlock(&iss->lock);
        return st;
    }
    json_t *p = json_object();
    json_object_set_new(p, "issuer", json_string(iss->did));
    json_object_set_new(p, "list", json_integer(ref->list));
    json_object_set_new(p, "index", json_integer(ref->index));
    if (credential_id != NULL)
        json_object_set_new(p, "credential", json_string(credential_id));
    /* The bit changes only once its event is durable, and under the lock, so the order of
     * events in the chain is the order of changes. */
    st = cred_issuer_chain_append(iss, type, p, NULL, NULL, err);
    json_decref(p);
    if (st == VT_OK)
        st = cred_status_list_set(iss->lists[ref->list].bits[purpose], ref->index, value, err);
    if (st == VT_OK)
        st = sign_list(iss, ref->list, purpose, err);
    pthread_mutex_unlock(&iss->lock);
    return st;
}

enum vt_status cred_issuer_revoke(struct cred_issuer *iss, const struct cred_status_ref *ref,
                                  const char *credential_id, struct vt_error *err)
{
    return change(iss, ref, 0, true, "credential.revoked", credential_id, err);
}

enum vt_status cred_issuer_suspend(struct cred_issuer *iss, const struct cred_status_ref *ref,
                                   const char *credential_id, struct vt_error *err)
{
    return change(iss, ref, 1, true, "credential.suspended", credential_id, err);
}

enum vt_status cred_issuer_unsuspend(struct cred_issuer *iss, const struct cred_status_ref *ref,
                                     const char *credential_id, struct vt_error *err)
{
    return change(iss, ref, 1, false, "credential.unsuspended", credential_id, err);
}

enum vt_status cred_issuer_status_get(struct cred_issuer *iss, const struct cred_status_ref *ref,
                                      bool *revoked, bool *suspended, struct vt_error *err)
{
    pthread_mutex_lock(&iss->lock);
    enum vt_status st = slot_check(iss, ref, err);
    if (st == VT_OK) {
        *revoked = cred_status_list_get(iss->lists[ref->list].bits[0], ref->index);
        *suspended = cred_status_list_get(iss->lists[ref->list].bits[1], ref->index);
    }
    pthread_mutex_unlock(&iss->lock);
    return st;
}

/* Parses "<purpose>-<n>"; false when id is not one of ours. */
static bool parse_list_id(const char *id, int *purpose, size_t *n)
{
    for (int p = 0; p < 2; p++) {
        size_t len = strlen(purposes[p]);
        if (strncmp(id, purposes[p], len) != 0 || id[len] != '-')
            continue;
        const char *d = id + len + 1;
        size_t dl = strlen(d);
        if (dl == 0 || dl > 9 || strspn(d, "0123456789") != dl || (dl > 1 && d[0] == '0'))
            return false;
        *purpose = p;
        *n = (size_t)strtoul(d, NULL, 10);
        return true;
    }
    return false;
}

/* Copies out the published list `id`: its digest, and its text when text is not NULL. */
static enum vt_status published(struct cred_issuer *iss, const char *id,
                                uint8_t digest[VT_SHA256_LEN], struct vt_buf *text,
                                struct vt_error *err)
{
    int p;
    size_t n;
    if (!parse_list_id(id, &p, &n))
        return vt_error_set(err, VT_ERR_NOT_FOUND, "no status list '%.80s'", id);
    enum vt_status st = VT_OK;
    pthread_mutex_lock(&iss->pub_lock);
    if (n >= iss->nlists || iss->lists[n].signed_json[p] == NULL) {
        st = vt_error_set(err, VT_ERR_NOT_FOUND, "no status list '%.80s'", id);
    } else {
        const struct issuer_list *l = &iss->lists[n];
        if (digest != NULL)
            memcpy(digest, l->signed_digest[p], VT_SHA256_LEN);
        if (text != NULL)
            st = vt_buf_append(text, l->signed_json[p], l->signed_len[p], err);
    }
    pthread_mutex_unlock(&iss->pub_lock);
    return st;
}

enum vt_status cred_issuer_status_list(struct cred_issuer *iss, const char *id, char **json_out,
                                       size_t *len_out, struct vt_error *err)
{
    *json_out = NULL;
    struct vt_buf b;
    vt_buf_init(&b, CRED_DOC_MAX);
    enum vt_status st = published(iss, id, NULL, &b, err);
    if (st != VT_OK) {
        vt_buf_release(&b);
        return st;
    }
    *json_out = (char *)vt_buf_detach(&b, len_out);
    return VT_OK;
}

/* The list id of a URL under the base URL, or NULL. */
static const char *url_list_id(const struct cred_issuer *iss, const char *url)
{
    size_t b = strlen(iss->base);
    if (strncmp(url, iss->base, b) != 0 || url[b] != '/')
        return NULL;
    return url + b + 1;
}

enum vt_status cred_issuer_status_lookup(void *ctx, const char *url, json_t **doc_out,
                                         struct vt_error *err)
{
    struct cred_issuer *iss = ctx;
    *doc_out = NULL;
    const char *id = url_list_id(iss, url);
    if (id == NULL)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "'%.80s' is not a list of this issuer", url);
    char *text = NULL;
    size_t len = 0;
    enum vt_status st = cred_issuer_status_list(iss, id, &text, &len, err);
    if (st == VT_OK)
        st = vt_json_parse(text, len, CRED_DOC_MAX, VT_JSON_MAX_DEPTH, doc_out, err);
    free(text);
    return st;
}

enum vt_status cred_issuer_status_fetch(void *ctx, const char *url, uint8_t digest[VT_SHA256_LEN],
                                        struct vt_buf *text, struct vt_error *err)
{
    struct cred_issuer *iss = ctx;
    const char *id = url_list_id(iss, url);
    if (id == NULL)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "'%.80s' is not a list of this issuer", url);
    return published(iss, id, digest, text, err);
}

struct cred_status_cache *cred_issuer_status_cache(struct cred_issuer *iss)
{
    return iss->cache;
}

enum vt_status cred_issuer_status_ref(const struct cred_issuer *iss, const json_t *credential,
                                      struct cred_status_ref *ref, struct vt_error *err)
{
    const json_t *status = json_object_get(credential, "credentialStatus");
    size_t count = json_is_array(status) ? json_array_size(status) : status != NULL ? 1 : 0;
    for (size_t i = 0; i < count && i < 8; i++) {
        const json_t *e = json_is_array(status) ? json_array_get(status, i) : status;
        const char *url = vt_json_get_str(e, "statusListCredential");
        const char *idx = vt_json_get_str(e, "statusListIndex");
        const char *id = url != NULL ? url_list_id(iss, url) : NULL;
        int p;
        size_t n;
        if (id == NULL || idx == NULL || !parse_list_id(id, &p, &n) || strlen(idx) > 9 ||
            strlen(idx) == 0 || strspn(idx, "0123456789") != strlen(idx))
            continue;
        ref->list = (uint32_t)n;
        ref->index = (uint32_t)strtoul(idx, NULL, 10);
        return VT_OK;
    }
    return vt_error_set(err, VT_ERR_NOT_FOUND,
                        "the credential has no status entry in this issuer's lists");
}
