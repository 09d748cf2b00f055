/* Bitstring Status List v1.0: lists, GZIP + multibase encoding, and the status check
 * (specs/credential.md §7). */
#include "credential/credential_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zlib.h>

/* An inflated list may not exceed this (a 16 MiB list holds 134 million entries). */
#define STATUS_INFLATED_MAX ((size_t)16 << 20)
#define STATUS_ENCODED_MAX ((size_t)4 << 20)
#define STATUS_ENTRIES_PER_DOC 8

struct cred_status_list {
    uint8_t *bits;
    /* Indexes handed out by cred_status_list_allocate; made on first use, as most lists
     * (decoded for a status check, or kept by an issuer that allocates by permutation)
     * never need one. */
    uint8_t *used;
    size_t nbytes;
    size_t allocated;
};

static struct cred_status_list *list_alloc(size_t nbytes)
{
    struct cred_status_list *l = vt_calloc(1, sizeof(*l));
    l->bits = vt_calloc(nbytes, 1);
    l->nbytes = nbytes;
    return l;
}

size_t cred_status_list_bytes(const struct cred_status_list *l)
{
    return sizeof(*l) + l->nbytes + (l->used != NULL ? l->nbytes : 0);
}

enum vt_status cred_status_list_new(size_t entries, struct cred_status_list **out,
                                    struct vt_error *err)
{
    *out = NULL;
    if (entries < CRED_STATUS_MIN_ENTRIES || entries % 8 != 0 || entries / 8 > STATUS_INFLATED_MAX)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid status list size %zu: needs a multiple of 8 from %d to %zu",
                            entries, CRED_STATUS_MIN_ENTRIES, STATUS_INFLATED_MAX * 8);
    *out = list_alloc(entries / 8);
    return VT_OK;
}

void cred_status_list_free(struct cred_status_list *l)
{
    if (l == NULL)
        return;
    free(l->bits);
    free(l->used);
    free(l);
}

size_t cred_status_list_size(const struct cred_status_list *l)
{
    return l->nbytes * 8;
}

/* Index 0 is the most significant bit of byte 0 (Bitstring Status List §3.2). */
enum vt_status cred_status_list_set(struct cred_status_list *l, size_t index, bool value,
                                    struct vt_error *err)
{
    if (index >= l->nbytes * 8)
        return vt_error_set(err, VT_ERR_INVALID, "status index %zu out of range (size %zu)", index,
                            l->nbytes * 8);
    uint8_t mask = (uint8_t)(0x80u >> (index % 8));
    if (value)
        l->bits[index / 8] |= mask;
    else
        l->bits[index / 8] &= (uint8_t)~mask;
    return VT_OK;
}

bool cred_status_list_get(const struct cred_status_list *l, size_t index)
{
    if (index >= l->nbytes * 8)
        return false;
    return (l->bits[index / 8] & (0x80u >> (index % 8))) != 0;
}

enum vt_status cred_status_list_allocate(struct cred_status_list *l, size_t *index_out,
                                         struct vt_error *err)
{
    size_t n = l->nbytes * 8;
    if (l->allocated >= n)
        return vt_error_set(err, VT_ERR_FULL, "status list full (%zu entries)", n);
    if (l->used == NULL)
        l->used = vt_calloc(l->nbytes, 1);
    /* Random start so that an index reveals nothing about issuance order or volume;
     * probing forward keeps the worst case bounded. */
    uint64_t r;
    randombytes_buf(&r, sizeof(r));
    size_t i = (size_t)(r % n);
    for (;;) {
        if ((l->used[i / 8] & (0x80u >> (i % 8))) == 0 && !cred_status_list_get(l, i))
            break;
        i = (i + 1) % n;
    }
    l->used[i / 8] |= (uint8_t)(0x80u >> (i % 8));
    l->allocated++;
    *index_out = i;
    return VT_OK;
}

enum vt_status cred_status_list_encode(const struct cred_status_list *l, struct vt_buf *out,
                                       struct vt_error *err)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    /* windowBits 31 = GZIP wrapper; zlib writes mtime 0 and OS 3, like the spec example. */
    if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return vt_error_set(err, VT_ERR_CRYPTO, "cannot start GZIP compression");
    uLong bound = deflateBound(&z, (uLong)l->nbytes) + 32;
    uint8_t *gz = vt_malloc(bound);
    z.next_in = l->bits;
    z.avail_in = (uInt)l->nbytes;
    z.next_out = gz;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    size_t gz_len = bound - z.avail_out;
    deflateEnd(&z);
    enum vt_status st;
    if (rc != Z_STREAM_END)
        st = vt_error_set(err, VT_ERR_INTERNAL, "GZIP compression did not finish");
    else
        st = vt_multibase_encode(VT_MULTIBASE_BASE64URL, gz, gz_len, out, err);
    free(gz);
    return st;
}

enum vt_status cred_status_list_decode(const char *encoded, struct cred_status_list **out,
                                       struct vt_error *err)
{
    *out = NULL;
    size_t n = strlen(encoded);
    if (n > STATUS_ENCODED_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "encodedList of %zu characters is too long", n);
    struct vt_buf gz;
    vt_buf_init(&gz, STATUS_ENCODED_MAX);
    enum vt_multibase base;
    enum vt_status st = vt_multibase_decode(encoded, n, &base, &gz, err);
    if (st == VT_OK && base != VT_MULTIBASE_BASE64URL)
        st = vt_error_set(err, VT_ERR_INVALID, "encodedList must be multibase base64url ('u')");
    if (st != VT_OK) {
        vt_buf_release(&gz);
        return vt_error_prefix(err, st, "invalid encodedList");
    }
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 31) != Z_OK) {
        vt_buf_release(&gz);
        return vt_error_set(err, VT_ERR_CRYPTO, "cannot start GZIP decompression");
    }
    struct vt_buf bits;
    vt_buf_init(&bits, STATUS_INFLATED_MAX);
    uint8_t chunk[16384];
    z.next_in = gz.data;
    z.avail_in = (uInt)gz.len;
    int rc;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof(chunk);
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            st = vt_error_set(err, VT_ERR_INVALID, "invalid encodedList: GZIP data is corrupt");
            break;
        }
        st = vt_buf_append(&bits, chunk, sizeof(chunk) - z.avail_out, err);
        if (st != VT_OK) {
            st = vt_error_set(err, VT_ERR_TOO_LARGE, "invalid encodedList: inflates past %zu bytes",
                              STATUS_INFLATED_MAX);
            break;
        }
        if (rc != Z_STREAM_END && z.avail_in == 0 && z.avail_out != 0) {
            st = vt_error_set(err, VT_ERR_INVALID, "invalid encodedList: GZIP data is truncated");
            break;
        }
    } while (rc != Z_STREAM_END);
    if (st == VT_OK && z.avail_in != 0)
        st = vt_error_set(err, VT_ERR_INVALID, "invalid encodedList: bytes after the GZIP member");
    inflateEnd(&z);
    vt_buf_release(&gz);
    if (st == VT_OK && bits.len * 8 < CRED_STATUS_MIN_ENTRIES)
        st = vt_error_set(err, VT_ERR_INVALID,
                          "STATUS_LIST_LENGTH_ERROR: list has %zu entries, fewer than %d",
                          bits.len * 8, CRED_STATUS_MIN_ENTRIES);
    if (st != VT_OK) {
        vt_buf_release(&bits);
        return st;
    }
    struct cred_status_list *l = vt_calloc(1, sizeof(*l));
    l->nbytes = bits.len;
    l->bits = vt_buf_detach(&bits, NULL);
    *out = l;
    return VT_OK;
}

enum vt_status cred_status_list_credential(const struct cred_status_list *l, const char *id,
                                           const char *issuer, const char *purpose, json_t **out,
                                           struct vt_error *err)
{
    struct vt_buf enc;
    vt_buf_init(&enc, STATUS_ENCODED_MAX);
    enum vt_status st = cred_status_list_encode(l, &enc, err);
    if (st != VT_OK) {
        vt_buf_release(&enc);
        return st;
    }
    char now[VT_TIME_MAX];
    vt_time_format(vt_time_now_ms() / 1000 * 1000, now);
    char subject_id[1024];
    snprintf(subject_id, sizeof(subject_id), "%s#list", id);
    json_t *doc = json_object();
    json_t *ctx = json_array();
    json_array_append_new(ctx, json_string(CRED_CONTEXT_V2));
    json_object_set_new(doc, "@context", ctx);
    json_object_set_new(doc, "id", json_string(id));
    json_t *type = json_array();
    json_array_append_new(type, json_string("VerifiableCredential"));
    json_array_append_new(type, json_string("BitstringStatusListCredential"));
    json_object_set_new(doc, "type", type);
    json_object_set_new(doc, "issuer", json_string(issuer));
    json_object_set_new(doc, "validFrom", json_string(now));
    json_t *s = json_object();
    json_object_set_new(s, "id", json_string(subject_id));
    json_object_set_new(s, "type", json_string("BitstringStatusList"));
    json_object_set_new(s, "statusPurpose", json_string(purpose));
    json_object_set_new(s, "encodedList", json_stringn((const char *)enc.data, enc.len));
    json_object_set_new(doc, "credentialSubject", s);
    vt_buf_release(&enc);
    *out = doc;
    return VT_OK;
}

json_t *cred_status_entry(const char *list_url, size_t index, const char *purpose)
{
    char idx[24], id[1100];
    snprintf(idx, sizeof(idx), "%zu", index);
    snprintf(id, sizeof(id), "%s#%zu", list_url, index);
    json_t *e = json_object();
    json_object_set_new(e, "id", json_string(id));
    json_object_set_new(e, "type", json_string("BitstringStatusListEntry"));
    json_object_set_new(e, "statusPurpose", json_string(purpose));
    json_object_set_new(e, "statusListIndex", json_string(idx));
    json_object_set_new(e, "statusListCredential", json_string(list_url));
    return e;
}

/* ---------------------------------------------------------------------------------------
 * The status check of a credential
 */

static bool parse_index(struct cred_verifier *v, const json_t *idx, size_t *out)
{
    if (json_is_string(idx)) {
        const char *s = json_string_value(idx);
        size_t n = strlen(s);
        if (n == 0 || n > 12 || strspn(s, "0123456789") != n || (n > 1 && s[0] == '0'))
            return false;
        *out = (size_t)strtoull(s, NULL, 10);
        return true;
    }
    if (json_is_number(idx)) {
        double d = json_number_value(idx);
        if (d < 0 || d > 1e12 || d != (double)(size_t)d)
            return false;
        cred_result_warning(v->result, CRED_P_MALFORMED, "status index is a number",
                            "statusListIndex should be a string of digits");
        *out = (size_t)d;
        return true;
    }
    return false;
}

static bool list_has_purpose(const json_t *subject, const char *purpose)
{
    return cred_json_has_type(json_object_get(subject, "statusPurpose"), purpose);
}

/* Verifies the list credential on its own (no status of its own, no presentation rules). */
static bool list_verified(struct cred_verifier *v, const json_t *list, char *why, size_t whylen)
{
    struct cred_verify_options o = *v->opt;
    o.status_lookup = NULL;
    o.status_fetch = NULL;
    o.status_cache = NULL;
    o.challenge = NULL;
    o.domain = NULL;
    struct cred_result *r = NULL;
    struct vt_error e;
    bool ok = false;
    if (cred_verify_json(list, &o, &r, &e) == VT_OK) {
        ok = cred_result_verified(r);
        if (!ok) {
            const char *d = cred_result_error_detail(r, 0);
            snprintf(why, whylen, "%s", d != NULL ? d : "not verified");
        }
    }
    cred_result_free(r);
    return ok;
}

/* Moves *until back to the time in s when that is earlier; a time that does not parse ends
 * the verdict now. */
static void take_earlier(int64_t *until, const char *s, int64_t now_ms)
{
    if (s == NULL)
        return;
    int64_t t;
    struct vt_error e;
    if (vt_time_parse(s, strlen(s), &t, &e) != VT_OK)
        t = now_ms;
    if (t < *until)
        *until = t;
}

/* Until when a list's verdict holds on its own: the list's validUntil or a proof's expires,
 * whichever comes first, and at most the cache's time to live. */
static int64_t list_expiry(const struct cred_verifier *v, const json_t *list)
{
    int64_t until = v->now_ms + CRED_STATUS_CACHE_TTL_MS;
    take_earlier(&until, vt_json_get_str(list, "validUntil"), v->now_ms);
    const json_t *proofs = json_object_get(list, "proof");
    size_t n = json_is_array(proofs) ? json_array_size(proofs) : proofs != NULL ? 1 : 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_is_array(proofs) ? json_array_get(proofs, i) : proofs;
        take_earlier(&until, vt_json_get_str(p, "expires"), v->now_ms);
    }
    return until;
}

static void status_context(const struct cred_verifier *v, struct cred_status_context *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->trust = v->opt->trust;
    ctx->key_lookup = v->opt->key_lookup;
    ctx->key_lookup_ctx = v->opt->key_lookup_ctx;
    ctx->clock_skew_ms = v->opt->clock_skew_ms;
}

/* The identity of a list a lookup callback returned: the hash of its canonical form. */
static bool canonical_digest(const json_t *list, uint8_t digest[VT_SHA256_LEN])
{
    struct vt_buf b;
    vt_buf_init(&b, CRED_DOC_MAX * 2);
    bool ok = vt_jcs_write(list, &b, NULL) == VT_OK;
    if (ok)
        vt_sha256(b.data, b.len, digest);
    vt_buf_release(&b);
    return ok;
}

/* The verdict on one entry once its list is known (trusted: the list verified). */
static void report(struct cred_verifier *v, const char *what, const char *url, const char *purpose,
                   size_t index, const struct cred_status_answer *a, bool trusted, const char *why)
{
    struct cred_result *r = v->result;
    if (!a->purpose_ok) {
        cred_result_error(r, CRED_P_STATUS, "status purpose mismatch",
                          "%s: list '%s' is not for purpose '%s'", what, url, purpose);
    } else if (index >= a->size) {
        cred_result_error(r, CRED_P_STATUS, "status index out of range",
                          "RANGE_ERROR: %s: index %zu beyond list size %zu", what, index, a->size);
    } else if (a->set && strcmp(purpose, "revocation") == 0) {
        /* An unverified list may still condemn a credential, never clear it. */
        cred_result_error(r, CRED_P_STATUS_REVOKED, "revoked",
                          "%s: index %zu of '%s' is set (revoked)%s", what, index, url,
                          trusted ? "" : "; the list itself did not verify");
    } else if (a->set && strcmp(purpose, "suspension") == 0) {
        cred_result_error(r, CRED_P_STATUS_SUSPENDED, "suspended",
                          "%s: index %zu of '%s' is set (suspended)%s", what, index, url,
                          trusted ? "" : "; the list itself did not verify");
    } else if (!trusted) {
        cred_result_error(r, CRED_P_STATUS, "status list not verified",
                          "STATUS_VERIFICATION_ERROR: %s: '%s': %s", what, url, why);
    } else if (a->set) {
        cred_result_warning(r, CRED_P_STATUS, "status set", "%s: '%s' status for index %zu is set",
                            what, purpose, index);
    }
}

/*
 * The list credential at url, parsed, or NULL with the reason in err. With a cache, a list
 * whose bytes are unchanged is answered from it instead: *hit is set and ans filled.
 * *have_digest says whether digest identifies the returned list.
 */
static json_t *retrieve(struct cred_verifier *v, const char *url, const char *purpose, size_t index,
                        uint8_t digest[VT_SHA256_LEN], bool *have_digest, bool *hit,
                        struct cred_status_answer *ans, struct vt_error *err)
{
    const struct cred_verify_options *o = v->opt;
    struct cred_status_context ctx;
    status_context(v, &ctx);
    json_t *list = NULL;
    *hit = false;
    *have_digest = false;
    if (o->status_fetch == NULL) {
        if (o->status_lookup(o->status_lookup_ctx, url, &list, err) != VT_OK || list == NULL) {
            json_decref(list);
            return NULL;
        }
        *have_digest = o->status_cache != NULL && canonical_digest(list, digest);
        if (*have_digest && cred_status_cache_get(o->status_cache, url, digest, &ctx, v->now_ms,
                                                  purpose, index, ans)) {
            json_decref(list);
            *hit = true;
            return NULL;
        }
        return list;
    }
    /* A source with a digest at hand spares copying and parsing the list on a hit. */
    if (o->status_cache != NULL) {
        if (o->status_fetch(o->status_fetch_ctx, url, digest, NULL, err) != VT_OK)
            return NULL;
        if (cred_status_cache_get(o->status_cache, url, digest, &ctx, v->now_ms, purpose, index,
                                  ans)) {
            *hit = true;
            return NULL;
        }
    }
    struct vt_buf text;
    vt_buf_init(&text, CRED_DOC_MAX);
    if (o->status_fetch(o->status_fetch_ctx, url, digest, &text, err) == VT_OK &&
        vt_json_parse((const char *)text.data, text.len, CRED_DOC_MAX, VT_JSON_MAX_DEPTH, &list,
                      err) == VT_OK)
        *have_digest = true;
    vt_buf_release(&text);
    return list;
}

static void check_entry(struct cred_verifier *v, const json_t *e, const char *what)
{
    struct cred_result *r = v->result;
    const char *type = vt_json_get_str(e, "type");
    if (type == NULL || strcmp(type, "BitstringStatusListEntry") != 0) {
        cred_result_warning(r, CRED_P_STATUS, "status type not supported",
                            "%s: type '%s' is not checked", what, type ? type : "?");
        return;
    }
    const char *purpose = vt_json_get_str(e, "statusPurpose");
    const char *url = vt_json_get_str(e, "statusListCredential");
    size_t index;
    if (purpose == NULL || url == NULL || !cred_is_uri(url) ||
        !parse_index(v, json_object_get(e, "statusListIndex"), &index)) {
        cred_result_error(r, CRED_P_MALFORMED, "malformed status entry",
                          "%s needs statusPurpose, statusListIndex (digits) and a "
                          "statusListCredential URL",
                          what);
        return;
    }
    const json_t *size = json_object_get(e, "statusSize");
    if (size != NULL && !(json_is_number(size) && json_number_value(size) == 1)) {
        cred_result_error(r, CRED_P_STATUS, "status size not supported",
                          "%s: only statusSize 1 is supported", what);
        return;
    }
    if (v->opt->status_lookup == NULL && v->opt->status_fetch == NULL) {
        cred_result_warning(r, CRED_P_STATUS, "status not checked",
                            "%s: no status list source configured for '%s'", what, url);
        return;
    }
    cred_result_check(r, "status");
    uint8_t digest[VT_SHA256_LEN];
    bool have_digest, hit;
    struct cred_status_answer ans;
    struct vt_error err;
    vt_error_clear(&err);
    json_t *list = retrieve(v, url, purpose, index, digest, &have_digest, &hit, &ans, &err);
    if (hit) {
        report(v, what, url, purpose, index, &ans, true, NULL);
        return;
    }
    if (list == NULL) {
        cred_result_error(r, CRED_P_STATUS, "status list not retrievable",
                          "STATUS_RETRIEVAL_ERROR: %s: '%s': %s", what, url, err.msg);
        return;
    }
    const json_t *subject = json_object_get(list, "credentialSubject");
    const char *encoded = vt_json_get_str(subject, "encodedList");
    struct cred_status_list *bits = NULL;
    if (!cred_json_has_type(json_object_get(list, "type"), "BitstringStatusListCredential") ||
        encoded == NULL) {
        cred_result_error(r, CRED_P_STATUS, "not a status list",
                          "%s: '%s' is not a BitstringStatusListCredential", what, url);
    } else if (!list_has_purpose(subject, purpose)) {
        cred_result_error(r, CRED_P_STATUS, "status purpose mismatch",
                          "%s: list '%s' is not for purpose '%s'", what, url, purpose);
    } else if (cred_status_list_decode(encoded, &bits, &err) != VT_OK) {
        cred_result_error(r, CRED_P_STATUS, "invalid status list", "%s: '%s': %s", what, url,
                          err.msg);
    } else {
        ans.purpose_ok = true;
        ans.size = cred_status_list_size(bits);
        ans.set = cred_status_list_get(bits, index);
        char why[VT_ERROR_MSG_MAX] = "";
        bool trusted = index < ans.size && list_verified(v, list, why, sizeof(why));
        report(v, what, url, purpose, index, &ans, trusted, why);
        if (trusted && have_digest && v->opt->status_cache != NULL) {
            struct cred_status_context ctx;
            status_context(v, &ctx);
            cred_status_cache_put(v->opt->status_cache, url, digest, &ctx, list_expiry(v, list),
                                  json_object_get(subject, "statusPurpose"), bits);
            bits = NULL;
        }
    }
    cred_status_list_free(bits);
    json_decref(list);
}

void cred_check_status(struct cred_verifier *v, const json_t *doc)
{
    const json_t *status = json_object_get(doc, "credentialStatus");
    if (status == NULL)
        return;
    size_t n = json_is_array(status) ? json_array_size(status) : 1;
    if (n > STATUS_ENTRIES_PER_DOC) {
        cred_result_error(v->result, CRED_P_MALFORMED, "too many status entries",
                          "%zu credentialStatus entries (at most %d)", n, STATUS_ENTRIES_PER_DOC);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char what[40];
        snprintf(what, sizeof(what), n == 1 ? "credentialStatus" : "credentialStatus[%zu]", i);
        const json_t *e = json_is_array(status) ? json_array_get(status, i) : status;
        if (json_is_object(e))
            check_entry(v, e, what);
    }
}
