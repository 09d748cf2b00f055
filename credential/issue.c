/* Issuance: Open Badges credentials with ledger evidence and status slots, signed in the
 * requested forms and recorded as credential.issued events (specs/credential.md §11). */
#include "credential/credential_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Requests a thread takes at a time: large enough to keep the shared counter cold. */
#define ISSUE_CHUNK 32
/* Below this many requests the caller's thread signs alone. */
#define ISSUE_INLINE_MAX 16

/* What every request of one call shares. */
struct issue_job {
    struct cred_issuer *iss;
    const struct cred_issue_request *reqs;
    struct cred_issued *out;
    const struct cred_status_ref *refs;
    struct vt_buf *payloads; /* credential.issued payload of each request */
    const char *checkpoint;  /* signed note text, NULL when no request cites evidence */
    const struct ledger_checkpoint *cp;
    struct cred_key *keys[3];
    const char *vms[3];
    /* Credential ids are derived from this key and the request's position, so that a bulk
     * issuance asks the kernel for randomness once rather than once per credential. */
    uint8_t id_key[crypto_generichash_KEYBYTES];
    size_t n;
    size_t next; /* changed only with __atomic builtins */
};

/* Buffers a signing thread reuses from one credential to the next: each output is then
 * allocated once, at its final size. */
struct scratch {
    struct vt_buf text;
    struct vt_buf payload;
};

void cred_issued_release(struct cred_issued *r)
{
    if (r == NULL)
        return;
    free(r->di);
    free(r->jwt);
    free(r->cose);
    memset(r, 0, sizeof(*r));
}

/* Drops the signed forms of a request that failed: nothing unrecorded leaves the issuer. */
static void release_forms(struct cred_issued *r)
{
    free(r->di);
    r->di = NULL;
    r->di_len = 0;
    free(r->jwt);
    r->jwt = NULL;
    free(r->cose);
    r->cose = NULL;
    r->cose_len = 0;
}

/* A version 4 UUID whose 122 random bits are BLAKE2b(key, i): as unpredictable as fresh
 * randomness for anyone without the key, which never leaves the call. */
static void new_urn_uuid(const uint8_t key[crypto_generichash_KEYBYTES], uint64_t i,
                         char out[CRED_ID_MAX])
{
    uint8_t u[16], in[8];
    vt_be64_put(in, i);
    crypto_generichash(u, sizeof(u), in, sizeof(in), key, crypto_generichash_KEYBYTES);
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char digits[] = "0123456789abcdef";
    char *o = out + 9;
    memcpy(out, "urn:uuid:", 9);
    for (int k = 0; k < 16; k++) {
        if (k == 4 || k == 6 || k == 8 || k == 10)
            *o++ = '-';
        *o++ = digits[u[k] >> 4];
        *o++ = digits[u[k] & 15];
    }
    *o = '\0';
}

static void hex32(const uint8_t *p, char out[2 * VT_SHA256_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < VT_SHA256_LEN; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * VT_SHA256_LEN] = '\0';
}

/* The envelope inside a leaf [bstr env, bstr sig] (specs/ledger.md §2.3), without checking
 * the signature: the store checked it on append and ledger_check re-checks it. */
static bool leaf_envelope(const uint8_t *leaf, size_t n, const uint8_t **env, size_t *env_len)
{
    size_t off, len;
    if (n < 3 || leaf[0] != 0x82)
        return false;
    if (leaf[1] >= 0x40 && leaf[1] < 0x58) {
        len = leaf[1] - 0x40u;
        off = 2;
    } else if (leaf[1] == 0x58) {
        len = leaf[2];
        off = 3;
    } else if (leaf[1] == 0x59 && n >= 4) {
        len = vt_be16_get(leaf + 2);
        off = 4;
    } else {
        return false;
    }
    if (off + len + 2 + VT_ED25519_SIG_LEN != n)
        return false;
    *env = leaf + off;
    *env_len = len;
    return true;
}

/*
 * Reads one evidence event, checks that it is the learner's and that the cited checkpoint
 * covers it, and gives its leaf hash. The checkpoint covers every index below its size by
 * the ledger's own invariant (checked by ledger_check), so no inclusion proof is computed
 * here: a verifier derives one from the index and the log's tiles.
 */
static enum vt_status evidence_event(struct issue_job *job, const uint8_t *learner, uint64_t index,
                                     uint8_t leaf_hash[LEDGER_HASH_LEN], struct vt_error *err)
{
    if (index >= job->cp->size)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot cite evidence event %llu: it is beyond the log",
                            (unsigned long long)index);
    struct vt_buf leaf;
    vt_buf_init(&leaf, LEDGER_LEAF_MAX);
    enum vt_status st = ledger_event_read(job->iss->ledger, index, &leaf, err);
    const uint8_t *env = NULL;
    size_t env_len = 0;
    if (st == VT_OK && !leaf_envelope(leaf.data, leaf.len, &env, &env_len))
        st = vt_error_set(err, VT_ERR_INVALID, "malformed leaf");
    /* A version 1 envelope starts "map(9..11) 01 01 02 50" and the learner follows
     * (specs/ledger.md §2.1): read it in place rather than decode the whole envelope. */
    static const uint8_t head[4] = {0x01, 0x01, 0x02, 0x50};
    const uint8_t *who = NULL;
    struct ledger_event ev;
    if (st == VT_OK && env_len > 5 + CRED_LEARNER_LEN && env[0] >= 0xa9 && env[0] <= 0xab &&
        memcmp(env + 1, head, sizeof(head)) == 0) {
        who = env + 5;
    } else if (st == VT_OK) {
        st = ledger_event_decode(env, env_len, &ev, err);
        who = ev.learner;
    }
    if (st == VT_OK && memcmp(who, learner, CRED_LEARNER_LEN) != 0)
        st = vt_error_set(err, VT_ERR_INVALID, "it belongs to another learner");
    if (st == VT_OK)
        ledger_leaf_hash(leaf.data, leaf.len, leaf_hash);
    vt_buf_release(&leaf);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "cannot cite evidence event %llu",
                               (unsigned long long)index);
    return VT_OK;
}

static json_t *status_entries(const struct cred_issuer *iss, const struct cred_status_ref *ref)
{
    json_t *a = json_array();
    static const char *const purpose[2] = {"revocation", "suspension"};
    for (int p = 0; p < 2; p++) {
        char url[640];
        cred_issuer_list_url(iss, ref->list, p, url, sizeof(url));
        json_array_append_new(a, cred_status_entry(url, ref->index, purpose[p]));
    }
    return a;
}

static json_t *issued_payload(const struct cred_issuer *iss, const struct cred_issue_request *req,
                              const struct cred_issued *out, unsigned formats)
{
    char hex[2 * VT_SHA256_LEN + 1];
    hex32(out->hash, hex);
    json_t *p = json_object();
    json_object_set_new(p, "issuer", json_string(iss->did));
    json_object_set_new(p, "credential", json_string(out->id));
    json_object_set_new(p, "hash", json_string(hex));
    json_object_set_new(p, "achievement", json_string(req->award->achievement_id));
    json_t *st = json_object();
    json_object_set_new(st, "list", json_integer(out->status_list));
    json_object_set_new(st, "index", json_integer(out->status_index));
    json_object_set_new(p, "status", st);
    json_t *f = json_array();
    if (formats & CRED_FORMAT_DI)
        json_array_append_new(f, json_string("di"));
    if (formats & CRED_FORMAT_JWT)
        json_array_append_new(f, json_string("jwt"));
    if (formats & CRED_FORMAT_COSE)
        json_array_append_new(f, json_string("cose"));
    json_object_set_new(p, "formats", f);
    json_t *ev = json_array();
    for (size_t i = 0; i < req->evidence_count; i++)
        json_array_append_new(ev, json_integer((json_int_t)req->evidence[i]));
    json_object_set_new(p, "evidence", ev);
    return p;
}

static enum vt_status sign_forms(struct issue_job *job, struct scratch *sc, json_t *doc,
                                 unsigned formats, const struct cred_issue_request *req,
                                 struct cred_issued *out, struct vt_error *err)
{
    enum vt_status st = VT_OK;
    if (formats & CRED_FORMAT_JWT)
        st = cred_sign_jwt(doc, job->keys[req->jwt_alg], req->jwt_shape, job->vms[req->jwt_alg],
                           &out->jwt, err);
    if (st == VT_OK && (formats & CRED_FORMAT_COSE)) {
        struct vt_buf b;
        vt_buf_init(&b, CRED_DOC_MAX * 2);
        st = cred_sign_cose(doc, job->keys[req->cose_alg], job->vms[req->cose_alg], &b, err);
        if (st == VT_OK)
            out->cose = vt_buf_detach(&b, &out->cose_len);
        vt_buf_release(&b);
    }
    if (st != VT_OK)
        return st;
    if (formats & CRED_FORMAT_DI) {
        struct cred_di_options o;
        memset(&o, 0, sizeof(o));
        o.verification_method = job->vms[CRED_ALG_EDDSA];
        /* The document hash of eddsa-jcs-2022 is the credential hash we record, and its
         * canonical text becomes the output. */
        vt_buf_reset(&sc->text);
        st = cred_sign_di_hashed(doc, false, job->keys[CRED_ALG_EDDSA], &o, NULL, &sc->text,
                                 out->hash, err);
        if (st == VT_OK) {
            /* A bulk issuance keeps every text until it returns: each gets its exact size. */
            out->di = vt_memdup(sc->text.data, sc->text.len + 1);
            out->di_len = sc->text.len;
        }
        return st;
    }
    vt_buf_reset(&sc->text);
    st = vt_jcs_write(doc, &sc->text, err);
    if (st == VT_OK)
        vt_sha256(sc->text.data, sc->text.len, out->hash);
    return st;
}

static enum vt_status issue_one(struct issue_job *job, struct scratch *sc, size_t i,
                                struct vt_error *err)
{
    const struct cred_issue_request *req = &job->reqs[i];
    struct cred_issued *out = &job->out[i];
    unsigned formats = req->formats != 0 ? req->formats : CRED_FORMAT_DI;
    if (req->award == NULL || req->evidence_count > CRED_EVIDENCE_MAX ||
        (formats & ~(unsigned)(CRED_FORMAT_DI | CRED_FORMAT_JWT | CRED_FORMAT_COSE)) != 0 ||
        (unsigned)req->jwt_alg > CRED_ALG_RS256 || (unsigned)req->cose_alg > CRED_ALG_RS256)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot issue: an award, at most %d evidence events and known formats "
                            "are required",
                            CRED_EVIDENCE_MAX);
    if (((formats & CRED_FORMAT_JWT) && job->keys[req->jwt_alg] == NULL) ||
        ((formats & CRED_FORMAT_COSE) && job->keys[req->cose_alg] == NULL))
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "cannot issue: the issuer has no %s key",
                            cred_alg_name((formats & CRED_FORMAT_JWT) && !job->keys[req->jwt_alg]
                                              ? req->jwt_alg
                                              : req->cose_alg));
    if (req->award->id != NULL) {
        if (strlen(req->award->id) >= CRED_ID_MAX || !cred_is_uri(req->award->id))
            return vt_error_set(err, VT_ERR_INVALID,
                                "cannot issue: the credential id must be a URI of at most %d "
                                "bytes",
                                CRED_ID_MAX - 1);
        snprintf(out->id, sizeof(out->id), "%s", req->award->id);
    } else {
        new_urn_uuid(job->id_key, i, out->id);
    }
    out->status_list = job->refs[i].list;
    out->status_index = job->refs[i].index;

    char hexes[CRED_EVIDENCE_MAX][2 * VT_SHA256_LEN + 1];
    const char *hex_ptrs[CRED_EVIDENCE_MAX];
    enum vt_status st = VT_OK;
    for (size_t e = 0; e < req->evidence_count && st == VT_OK; e++) {
        uint8_t h[LEDGER_HASH_LEN];
        st = evidence_event(job, req->learner, req->evidence[e], h, err);
        hex32(h, hexes[e]);
        hex_ptrs[e] = hexes[e];
    }
    if (st != VT_OK)
        return st;
    struct cred_ledger_evidence ev = {
        .event_hashes = hex_ptrs,
        .event_count = req->evidence_count,
        .event_indexes = req->evidence,
        .checkpoint = job->checkpoint,
        .log_origin = job->cp->origin,
    };
    struct cred_award award = *req->award;
    award.id = out->id;
    award.issuer_id = job->iss->did;
    award.issuer_name = job->iss->name;
    award.issuer_url = job->iss->url;
    award.valid_from = NULL;
    award.evidence = req->evidence_count > 0 ? &ev : NULL;
    award.credential_status = NULL;
    json_t *doc = NULL;
    st = cred_openbadge_new(&award, &doc, err);
    /* credentialStatus is the document's last member: added here, the fresh entries are
     * taken over instead of copied in. */
    if (st == VT_OK)
        json_object_set_new(doc, "credentialStatus", status_entries(job->iss, &job->refs[i]));
    if (st == VT_OK)
        st = sign_forms(job, sc, doc, formats, req, out, err);
    json_decref(doc);
    if (st == VT_OK) {
        json_t *p = issued_payload(job->iss, req, out, formats);
        vt_buf_reset(&sc->payload);
        st = vt_jcs_write(p, &sc->payload, err);
        if (st == VT_OK) {
            /* Capped at its own length, the buffer is allocated at exactly that size. */
            vt_buf_init(&job->payloads[i], sc->payload.len);
            st = vt_buf_append(&job->payloads[i], sc->payload.data, sc->payload.len, err);
        }
        json_decref(p);
    }
    return st;
}

static void *issue_worker(void *arg)
{
    struct issue_job *job = arg;
    struct scratch sc;
    vt_buf_init(&sc.text, CRED_DOC_MAX * 2);
    vt_buf_init(&sc.payload, LEDGER_PAYLOAD_DEFAULT_MAX);
    for (;;) {
        size_t start = __atomic_fetch_add(&job->next, ISSUE_CHUNK, __ATOMIC_RELAXED);
        if (start >= job->n)
            break;
        size_t end = start + ISSUE_CHUNK < job->n ? start + ISSUE_CHUNK : job->n;
        for (size_t i = start; i < end; i++) {
            struct cred_issued *out = &job->out[i];
            out->status = issue_one(job, &sc, i, &out->error);
            if (out->status != VT_OK)
                release_forms(out);
        }
    }
    vt_buf_release(&sc.text);
    vt_buf_release(&sc.payload);
    return NULL;
}

static void run_workers(struct issue_job *job, unsigned threads)
{
    if (job->n <= ISSUE_INLINE_MAX || threads <= 1) {
        issue_worker(job);
        return;
    }
    pthread_t tids[16];
    unsigned started = 0;
    /* The caller's thread works too, so threads - 1 helpers. */
    for (unsigned t = 0; t + 1 < threads && t < 16; t++) {
        if (pthread_create(&tids[started], NULL, issue_worker, job) == 0)
            started++;
    }
    issue_worker(job);
    for (unsigned t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
}

/* Appends the credential.issued events of the requests that were signed. */
static void record(struct issue_job *job)
{
    size_t m = 0;
    struct ledger_append_req *lr = vt_calloc(job->n, sizeof(*lr));
    size_t *which = vt_calloc(job->n, sizeof(*which));
    for (size_t i = 0; i < job->n; i++) {
        if (job->out[i].status != VT_OK)
            continue;
        struct ledger_append_req *r = &lr[m];
        memcpy(r->learner, job->reqs[i].learner, CRED_LEARNER_LEN);
        r->type = "credential.issued";
        r->payload = job->payloads[i].data;
        r->payload_len = job->payloads[i].len;
        /* The credential id doubles as the event id: one record per credential, and a
         * retried request cannot record a credential twice. */
        r->event_id = (const uint8_t *)job->out[i].id;
        r->event_id_len = strlen(job->out[i].id);
        which[m++] = i;
    }
    if (m > 0) {
        struct ledger_append_result *res = vt_calloc(m, sizeof(*res));
        struct vt_error e;
        /* Each result carries its own outcome; the summary status adds nothing. */
        (void)ledger_append_batch(job->iss->ledger, lr, m, res, &e);
        for (size_t k = 0; k < m; k++) {
            struct cred_issued *out = &job->out[which[k]];
            if (res[k].status == VT_OK && res[k].duplicate) {
                out->status =
                    vt_error_set(&out->error, VT_ERR_EXISTS,
                                 "cannot issue: credential '%s' was issued before", out->id);
            } else if (res[k].status != VT_OK) {
                out->status = res[k].status;
                out->error = res[k].error;
                vt_error_prefix(&out->error, out->status, "cannot record credential '%s'", out->id);
            } else {
                out->event_index = res[k].index;
            }
            if (out->status != VT_OK)
                release_forms(out);
        }
        free(res);
    }
    free(lr);
    free(which);
}

enum vt_status cred_issue_achievements(struct cred_issuer *iss,
                                       const struct cred_issue_request *reqs, size_t n,
                                       struct cred_issued *out, struct vt_error *err)
{
    if (n == 0 || n > CRED_ISSUE_BATCH_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "cannot issue %zu credentials at once (1 to %d)",
                            n, CRED_ISSUE_BATCH_MAX);
    memset(out, 0, n * sizeof(*out));
    struct issue_job job;
    memset(&job, 0, sizeof(job));
    job.iss = iss;
    job.reqs = reqs;
    job.out = out;
    job.n = n;
    crypto_generichash_keygen(job.id_key);
    struct cred_status_ref *refs = vt_calloc(n, sizeof(*refs));
    job.refs = refs;

    struct vt_error e;
    vt_error_clear(&e);
    pthread_mutex_lock(&iss->lock);
    enum vt_status st = cred_issuer_allocate(iss, n, refs, &e);
    for (int a = 0; a < 3; a++) {
        job.keys[a] = iss->current[a] != NULL ? cred_key_ref(iss->current[a]) : NULL;
        job.vms[a] = iss->current_vm[a];
    }
    pthread_mutex_unlock(&iss->lock);
    /* The key history never frees a method while the issuer is open, so the borrowed
     * method ids stay valid after the lock is released. */

    struct vt_buf note;
    struct ledger_checkpoint cp;
    memset(&cp, 0, sizeof(cp));
    vt_buf_init(&note, 64 << 10);
    if (st == VT_OK)
        st = ledger_checkpoint_latest(iss->ledger, &note, &cp, &e);
    job.checkpoint = (const char *)note.data;
    job.cp = &cp;
    if (st == VT_OK) {
        job.payloads = vt_calloc(n, sizeof(*job.payloads));
        for (size_t i = 0; i < n; i++)
            vt_buf_init(&job.payloads[i], LEDGER_PAYLOAD_DEFAULT_MAX);
        run_workers(&job, iss->threads);
        record(&job);
        for (size_t i = 0; i < n; i++)
            vt_buf_release(&job.payloads[i]);
        free(job.payloads);
    }
    vt_buf_release(&note);
    sodium_memzero(job.id_key, sizeof(job.id_key));
    for (int a = 0; a < 3; a++)
        cred_key_free(job.keys[a]);
    free(refs);
    if (st != VT_OK) {
        for (size_t i = 0; i < n; i++) {
            out[i].status = st;
            out[i].error = e;
        }
        if (err != NULL)
            *err = e;
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        if (out[i].status != VT_OK) {
            if (err != NULL)
                *err = out[i].error;
            return out[i].status;
        }
    }
    return VT_OK;
}

enum vt_status cred_issue_achievement(struct cred_issuer *iss, const struct cred_issue_request *req,
                                      struct cred_issued *out, struct vt_error *err)
{
    return cred_issue_achievements(iss, req, 1, out, err);
}
