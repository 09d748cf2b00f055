/* Data Integrity proofs with the eddsa-jcs-2022 cryptosuite (specs/credential.md §3). */
#include "credential/credential_int.h"

#include <string.h>

#include <sodium.h>

#define SUITE_JCS "eddsa-jcs-2022"

/* Suites a conforming document may name that this module does not implement. They are
 * reported as unsupported, which a verifier may treat differently from a forgery. */
static const char *const unsupported_suites[] = {
    "eddsa-rdfc-2022", "eddsa-2022", "ecdsa-rdfc-2019", "ecdsa-jcs-2019",
    "ecdsa-sd-2023",   "bbs-2023",   "eddsa-rdf-2022",  "ecdsa-2019",
};
static const char *const unsupported_types[] = {
    "Ed25519Signature2020",        "Ed25519Signature2018", "JsonWebSignature2020",
    "EcdsaSecp256k1Signature2019", "BbsBlsSignature2020",
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, list[i]) == 0)
            return true;
    }
    return false;
}

/* Top-level members canonicalized in place; a document with more is canonicalized from a
 * copy, as any with a name that needs escaping. */
#define TOP_MEMBERS_MAX 64

struct top_member {
    const char *name;
    const json_t *value;
};

static void insert_sorted(struct top_member *m, size_t n, const char *name, const json_t *value)
{
    size_t i = n;
    while (i > 0 && strcmp(m[i - 1].name, name) > 0) {
        m[i] = m[i - 1];
        i--;
    }
    m[i].name = name;
    m[i].value = value;
}

/*
 * Appends JCS(obj) without member `skip` and with "@context" set to ctx (when not NULL),
 * without copying obj: a document is canonicalized as it was parsed. VT_ERR_UNSUPPORTED,
 * with out and err untouched, when a name needs escaping or there are too many members.
 */
static enum vt_status jcs_top(const json_t *obj, const char *skip, const json_t *ctx,
                              struct vt_buf *out, struct vt_error *err)
{
    struct top_member m[TOP_MEMBERS_MAX];
    size_t n = 0;
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)obj, k, val)
    {
        if (strcmp(k, skip) == 0 || (ctx != NULL && strcmp(k, "@context") == 0))
            continue;
        if (n + 1 >= TOP_MEMBERS_MAX || !cred_json_plain_name(k))
            return VT_ERR_UNSUPPORTED;
        insert_sorted(m, n++, k, val);
    }
    if (ctx != NULL)
        insert_sorted(m, n++, "@context", ctx);
    size_t start = out->len;
    enum vt_status st = vt_buf_append_byte(out, '{', err);
    for (size_t i = 0; i < n && st == VT_OK; i++) {
        if (i > 0)
            st = vt_buf_append_byte(out, ',', err);
        if (st == VT_OK)
            st = vt_buf_append_byte(out, '"', err);
        if (st == VT_OK)
            st = vt_buf_append_str(out, m[i].name, err);
        if (st == VT_OK)
            st = vt_buf_append(out, "\":", 2, err);
        if (st == VT_OK)
            st = vt_jcs_write(m[i].value, out, err);
    }
    if (st == VT_OK)
        st = vt_buf_append_byte(out, '}', err);
    if (st != VT_OK)
        out->len = start;
    return st;
}

/* SHA-256 of JCS(obj without `skip`, "@context" set to ctx when not NULL), whose canonical
 * form is appended to buf. */
static enum vt_status hash_top(const json_t *obj, const char *skip, const json_t *ctx,
                               struct vt_buf *buf, uint8_t out[VT_SHA256_LEN], struct vt_error *err)
{
    size_t start = buf->len;
    enum vt_status st = jcs_top(obj, skip, ctx, buf, err);
    if (st == VT_ERR_UNSUPPORTED) {
        json_t *c = json_copy((json_t *)obj);
        json_object_del(c, skip);
        if (ctx != NULL)
            json_object_set(c, "@context", (json_t *)ctx);
        st = vt_jcs_write(c, buf, err);
        json_decref(c);
    }
    if (st == VT_OK)
        vt_sha256(buf->data + start, buf->len - start, out);
    return st;
}

enum vt_status cred_di_hash_data(const json_t *document, const json_t *proof_config,
                                 uint8_t hash_data[2 * VT_SHA256_LEN], struct vt_buf *canon_doc,
                                 struct vt_buf *canon_proof, struct vt_error *err)
{
    struct vt_buf buf;
    vt_buf_init(&buf, CRED_DOC_MAX * 2);
    /* Room for a typical credential up front instead of a chain of reallocations; only the
     * proof configuration when the document goes to the caller's buffer. */
    enum vt_status st = vt_buf_grow(&buf, canon_doc != NULL ? 1024 : 8192, err);
    if (st == VT_OK)
        st = vt_jcs_write(proof_config, &buf, err);
    if (st == VT_OK) {
        vt_sha256(buf.data, buf.len, hash_data);
        if (canon_proof != NULL)
            st = vt_buf_append(canon_proof, buf.data, buf.len, err);
    }
    /* The document goes straight into the caller's buffer when there is one. */
    struct vt_buf *doc_buf = canon_doc != NULL ? canon_doc : &buf;
    size_t start = doc_buf == &buf ? 0 : canon_doc->len;
    vt_buf_reset(&buf);
    if (st == VT_OK)
        st = vt_jcs_write(document, doc_buf, err);
    if (st == VT_OK)
        vt_sha256(doc_buf->data + start, doc_buf->len - start, hash_data + VT_SHA256_LEN);
    vt_buf_release(&buf);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "cannot canonicalize");
    return VT_OK;
}

enum vt_status cred_sign_di(const json_t *doc, const struct cred_key *key,
                            const struct cred_di_options *opt, json_t **out, struct vt_error *err)
{
    return cred_sign_di_hashed((json_t *)doc, false, key, opt, out, NULL, NULL, err);
}

enum vt_status cred_sign_di_hashed(json_t *doc, bool take, const struct cred_key *key,
                                   const struct cred_di_options *opt, json_t **out,
                                   struct vt_buf *text_out, uint8_t doc_hash[VT_SHA256_LEN],
                                   struct vt_error *err)
{
    static const struct cred_di_options defaults;
    if (out != NULL)
        *out = NULL;
    if (opt == NULL)
        opt = &defaults;
    if (!json_is_object(doc))
        return vt_error_set(err, VT_ERR_INVALID, "cannot sign: the document is not an object");
    if (key->type != CRED_KEY_ED25519 || !key->has_secret)
        return vt_error_set(err, VT_ERR_UNSUPPORTED,
                            "cannot sign with eddsa-jcs-2022: needs an Ed25519 key with secret");
    const char *vm =
        opt->verification_method != NULL ? opt->verification_method : cred_key_default_vm(key);
    if (vm == NULL || !cred_is_uri(vm))
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot sign: verification method '%s' is not "
                            "a URL",
                            vm != NULL ? vm : "");
    char now[VT_TIME_MAX];
    const char *created = opt->created;
    if (created == NULL) {
        vt_time_format(vt_time_now_ms() / 1000 * 1000, now);
        created = now;
    }
    int64_t ms;
    enum vt_status st = vt_time_parse(created, strlen(created), &ms, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "cannot sign: invalid created time");
    if (opt->expires != NULL &&
        (st = vt_time_parse(opt->expires, strlen(opt->expires), &ms, err)) != VT_OK)
        return vt_error_prefix(err, st, "cannot sign: invalid expires time");

    const json_t *existing = json_object_get(doc, "proof");
    size_t have = existing == NULL ? 0 : json_is_array(existing) ? json_array_size(existing) : 1;
    if (have >= CRED_PROOFS_MAX)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "cannot sign: already %zu proofs", have);
    /* Signing in place is only possible when no proof has to be left out of the hash. */
    if (existing != NULL)
        take = false;
    if (text_out != NULL && existing != NULL)
        return vt_error_set(err, VT_ERR_INVALID, "cannot sign as text: the document has a proof");

    /* Member order follows the W3C vector so that printed output matches it. */
    json_t *proof = json_object();
    json_object_set_new(proof, "type", json_string("DataIntegrityProof"));
    json_object_set_new(proof, "cryptosuite", json_string(SUITE_JCS));
    json_object_set_new(proof, "created", json_string(created));
    if (opt->expires != NULL)
        json_object_set_new(proof, "expires", json_string(opt->expires));
    json_object_set_new(proof, "verificationMethod", json_string(vm));
    json_object_set_new(
        proof, "proofPurpose",
        json_string(opt->proof_purpose != NULL ? opt->proof_purpose : "assertionMethod"));
    if (opt->challenge != NULL)
        json_object_set_new(proof, "challenge", json_string(opt->challenge));
    if (opt->domain != NULL)
        json_object_set_new(proof, "domain", json_string(opt->domain));
    json_t *ctx = json_object_get(doc, "@context");
    if (ctx != NULL)
        json_object_set_new(proof, "@context", json_deep_copy(ctx));

    /* The document is canonicalized as it stands, leaving out its proofs, rather than
     * copied without them first; with text_out its canonical form is the output. */
    uint8_t hash_data[2 * VT_SHA256_LEN];
    size_t text_start = text_out != NULL ? text_out->len : 0;
    struct vt_buf scratch;
    vt_buf_init(&scratch, CRED_DOC_MAX * 2);
    st = vt_buf_grow(&scratch, text_out != NULL ? 1024 : 8192, err);
    if (st == VT_OK)
        st = hash_top(proof, "proofValue", NULL, &scratch, hash_data, err);
    if (st == VT_OK)
        st = hash_top(doc, "proof", NULL, text_out != NULL ? text_out : &scratch,
                      hash_data + VT_SHA256_LEN, err);
    vt_buf_release(&scratch);
    if (st != VT_OK) {
        json_decref(proof);
        return vt_error_prefix(err, st, "cannot canonicalize");
    }
    if (doc_hash != NULL)
        memcpy(doc_hash, hash_data + VT_SHA256_LEN, VT_SHA256_LEN);
    uint8_t sig[VT_ED25519_SIG_LEN];
    vt_key_sign(&key->ed, hash_data, sizeof(hash_data), sig);
    char pv[128];
    struct vt_buf pvb;
    vt_buf_init(&pvb, 120);
    st = vt_multibase_encode(VT_MULTIBASE_BASE58BTC, sig, sizeof(sig), &pvb, err);
    if (st != VT_OK) {
        vt_buf_release(&pvb);
        json_decref(proof);
        return st;
    }
    memcpy(pv, pvb.data, pvb.len);
    pv[pvb.len] = '\0';
    vt_buf_release(&pvb);
    json_object_set_new(proof, "proofValue", json_string(pv));

    if (text_out != NULL) {
        /* The canonical document is already written: reopen it and add the proof, rather
         * than building and serializing a signed copy. */
        text_out->len--;
        if (text_out->len > text_start + 1)
            st = vt_buf_append_byte(text_out, ',', err);
        if (st == VT_OK)
            st = vt_buf_append_str(text_out, "\"proof\":", err);
        if (st == VT_OK)
            st = cred_json_write(proof, 0, text_out, err);
        if (st == VT_OK)
            st = vt_buf_append_byte(text_out, '}', err);
        json_decref(proof);
        return st;
    }
    if (take) {
        json_object_set_new(doc, "proof", proof);
        *out = json_incref(doc);
        return VT_OK;
    }
    json_t *signed_doc = json_deep_copy(doc);
    if (existing == NULL) {
        json_object_set_new(signed_doc, "proof", proof);
    } else if (json_is_array(existing)) {
        json_array_append_new(json_object_get(signed_doc, "proof"), proof);
    } else {
        json_t *set = json_array();
        json_array_append(set, json_object_get(signed_doc, "proof"));
        json_array_append_new(set, proof);
        json_object_set_new(signed_doc, "proof", set);
    }
    *out = signed_doc;
    return VT_OK;
}

/* ---------------------------------------------------------------------------------------
 * Verification
 */

/* The document's @context must start with the proof's, value by value (DI §4.3 step 3). */
static bool context_prefix(const json_t *doc_ctx, const json_t *proof_ctx)
{
    if (doc_ctx == NULL)
        return false;
    if (!json_is_array(proof_ctx)) {
        const json_t *first = json_is_array(doc_ctx) ? json_array_get(doc_ctx, 0) : doc_ctx;
        return first != NULL && json_equal((json_t *)first, (json_t *)proof_ctx);
    }
    if (!json_is_array(doc_ctx))
        return json_array_size(proof_ctx) == 1 &&
               json_equal((json_t *)doc_ctx, json_array_get(proof_ctx, 0));
    if (json_array_size(proof_ctx) > json_array_size(doc_ctx))
        return false;
    for (size_t i = 0; i < json_array_size(proof_ctx); i++) {
        if (!json_equal(json_array_get(doc_ctx, i), json_array_get(proof_ctx, i)))
            return false;
    }
    return true;
}

static bool domain_matches(const json_t *domain, const char *expected)
{
    if (json_is_string(domain))
        return strcmp(json_string_value(domain), expected) == 0;
    size_t i;
    const json_t *d;
    json_array_foreach(domain, i, d)
    {
        if (json_is_string(d) && strcmp(json_string_value(d), expected) == 0)
            return true;
    }
    return false;
}

/* Checks the controller of the verification method against the issuer or holder. */
static void check_controller(struct cred_verifier *v, const json_t *doc, const char *vm,
                             bool presentation, const char *what)
{
    const char *owner = cred_json_id_of(json_object_get(doc, presentation ? "holder" : "issuer"));
    if (owner == NULL)
        return;
    size_t did_len = strcspn(vm, "#");
    if (strlen(owner) == did_len && strncmp(owner, vm, did_len) == 0)
        return;
    if (strncmp(owner, "did:", 4) == 0) {
        cred_result_error(v->result, CRED_P_KEY_RESOLUTION, "proof signer is not the issuer",
                          "%s: verification method '%s' is not controlled by %s '%s'", what, vm,
                          presentation ? "holder" : "issuer", owner);
    } else {
        /* A URL issuer cannot be tied to a key offline; say so rather than fail. */
        cred_result_warning(v->result, CRED_P_KEY_RESOLUTION, "issuer binding not checked",
                            "%s: issuer '%s' cannot be tied to verification method '%s' "
                            "offline",
                            what, owner, vm);
    }
}

enum proof_outcome { PROOF_OK, PROOF_FAILED, PROOF_UNSUPPORTED };

/* The hash of the document without its proofs, computed once for all the proofs of a set
 * that hash it with the same @context. */
struct doc_hash {
    bool done;
    const json_t *ctx; /* the @context it was computed with; NULL: the document's own */
    enum vt_status st;
    struct vt_error err;
    uint8_t hash[VT_SHA256_LEN];
};

/* hashData of eddsa-jcs-2022 for one proof: H(JCS(proof without proofValue)) ‖
 * H(JCS(document without proof, with the proof's @context)). */
static enum vt_status proof_hash_data(const json_t *doc, const json_t *proof, struct doc_hash *dh,
                                      uint8_t hash_data[2 * VT_SHA256_LEN], struct vt_error *err)
{
    const json_t *pctx = json_object_get(proof, "@context");
    if (pctx != NULL && json_equal((json_t *)pctx, json_object_get(doc, "@context")))
        pctx = NULL; /* putting an equal value in its place changes no byte */
    struct vt_buf buf;
    vt_buf_init(&buf, CRED_DOC_MAX * 2);
    enum vt_status st = vt_buf_grow(&buf, 8192, err);
    if (st == VT_OK)
        st = hash_top(proof, "proofValue", NULL, &buf, hash_data, err);
    if (st == VT_OK && (!dh->done || dh->ctx != pctx)) {
        vt_buf_reset(&buf);
        vt_error_clear(&dh->err);
        dh->st = hash_top(doc, "proof", pctx, &buf, dh->hash, &dh->err);
        dh->ctx = pctx;
        dh->done = true;
    }
    if (st == VT_OK && dh->st != VT_OK) {
        st = dh->st;
        if (err != NULL)
            *err = dh->err;
    }
    if (st == VT_OK)
        memcpy(hash_data + VT_SHA256_LEN, dh->hash, VT_SHA256_LEN);
    vt_buf_release(&buf);
    return st;
}

static enum proof_outcome verify_one(struct cred_verifier *v, const json_t *doc,
                                     struct doc_hash *dh, const json_t *proof, const char *purpose,
                                     bool presentation, const char *what)
{
    struct cred_result *r = v->result;
    if (!json_is_object(proof)) {
        cred_result_error(r, CRED_P_MALFORMED, "malformed proof", "%s is not an object", what);
        return PROOF_FAILED;
    }
    const char *type = vt_json_get_str(proof, "type");
    const char *suite = vt_json_get_str(proof, "cryptosuite");
    if (type == NULL) {
        cred_result_error(r, CRED_P_MALFORMED, "malformed proof", "%s has no string 'type'", what);
        return PROOF_FAILED;
    }
    if (strcmp(type, "DataIntegrityProof") != 0) {
        /* A cryptosuite only exists inside DataIntegrityProof: naming one under another type
         * is a mixed-up proof, not merely one we do not know. */
        if (suite != NULL) {
            cred_result_error(r, CRED_P_PROOF_VERIFICATION, "mixed-up proof",
                              "%s: cryptosuite '%s' under proof type '%s'", what, suite, type);
            return PROOF_FAILED;
        }
        cred_result_warning(
            r, CRED_P_UNSUPPORTED_SUITE, "unsupported proof type",
            "%s: proof type '%s' is not supported%s", what, type,
            in_list(type, unsupported_types, sizeof(unsupported_types) / sizeof(char *))
                ? " (legacy suite)"
                : "");
        return PROOF_UNSUPPORTED;
    }
    if (suite == NULL) {
        cred_result_error(r, CRED_P_MALFORMED, "malformed proof", "%s has no string 'cryptosuite'",
                          what);
        return PROOF_FAILED;
    }
    /* A known suite we cannot compute still gets every structural check, so that a
     * malformed proof is reported for what is wrong with it. */
    bool unsupported = false;
    if (strcmp(suite, SUITE_JCS) != 0) {
        if (!in_list(suite, unsupported_suites, sizeof(unsupported_suites) / sizeof(char *))) {
            cred_result_error(r, CRED_P_PROOF_VERIFICATION, "unknown cryptosuite",
                              "%s: cryptosuite '%s' is unknown", what, suite);
            return PROOF_FAILED;
        }
        unsupported = true;
    }

    const char *vm = vt_json_get_str(proof, "verificationMethod");
    const char *got_purpose = vt_json_get_str(proof, "proofPurpose");
    const char *pv = vt_json_get_str(proof, "proofValue");
    if (vm == NULL || got_purpose == NULL || pv == NULL) {
        cred_result_error(r, CRED_P_PROOF_VERIFICATION, "malformed proof", "%s lacks a string '%s'",
                          what,
                          vm == NULL            ? "verificationMethod"
                          : got_purpose == NULL ? "proofPurpose"
                                                : "proofValue");
        return PROOF_FAILED;
    }
    bool ok = true;
    if (strcmp(got_purpose, purpose) != 0) {
        cred_result_error(r, CRED_P_PURPOSE, "unexpected proof purpose",
                          "%s: proofPurpose is '%s', expected '%s'", what, got_purpose, purpose);
        ok = false;
    }

    struct vt_error e;
    int64_t created_ms = -1;
    const json_t *created = json_object_get(proof, "created");
    if (created != NULL) {
        if (!json_is_string(created) ||
            vt_time_parse(json_string_value(created), json_string_length(created), &created_ms,
                          &e) != VT_OK) {
            cred_result_error(r, CRED_P_MALFORMED, "malformed proof",
                              "%s: 'created' is not a dateTimeStamp", what);
            return PROOF_FAILED;
        }
        if (created_ms > v->now_ms + v->opt->clock_skew_ms) {
            cred_result_error(r, CRED_P_PROOF_VERIFICATION, "proof created in the future",
                              "%s: created '%s' is after now", what, json_string_value(created));
            ok = false;
        }
    }
    const json_t *expires = json_object_get(proof, "expires");
    if (expires != NULL) {
        int64_t exp_ms;
        if (!json_is_string(expires) ||
            vt_time_parse(json_string_value(expires), json_string_length(expires), &exp_ms, &e) !=
                VT_OK) {
            cred_result_error(r, CRED_P_MALFORMED, "malformed proof",
                              "%s: 'expires' is not a dateTimeStamp", what);
            return PROOF_FAILED;
        }
        if (exp_ms < v->now_ms) {
            cred_result_error(r, CRED_P_PROOF_VERIFICATION, "proof expired", "%s: expired at '%s'",
                              what, json_string_value(expires));
            ok = false;
        }
    }
    if (presentation) {
        const json_t *ch = json_object_get(proof, "challenge");
        const json_t *dom = json_object_get(proof, "domain");
        if (v->opt->challenge != NULL) {
            cred_result_check(r, "challenge");
            if (!json_is_string(ch) || strcmp(json_string_value(ch), v->opt->challenge) != 0) {
                cred_result_error(r, CRED_P_CHALLENGE, "challenge mismatch",
                                  "%s: challenge is '%s', expected '%s'", what,
                                  json_is_string(ch) ? json_string_value(ch) : "(none)",
                                  v->opt->challenge);
                ok = false;
            }
        }
        if (v->opt->domain != NULL) {
            cred_result_check(r, "domain");
            if (dom == NULL || !domain_matches(dom, v->opt->domain)) {
                cred_result_error(r, CRED_P_DOMAIN, "domain mismatch",
                                  "%s: domain does not include '%s'", what, v->opt->domain);
                ok = false;
            }
        }
        if (v->opt->max_age_ms > 0) {
            cred_result_check(r, "freshness");
            if (created_ms < 0 || created_ms + v->opt->max_age_ms < v->now_ms) {
                cred_result_error(r, CRED_P_FRESHNESS, "presentation not fresh",
                                  "%s: created %s, older than %lld s", what,
                                  created_ms < 0 ? "absent" : json_string_value(created),
                                  (long long)(v->opt->max_age_ms / 1000));
                ok = false;
            }
        }
    }

    /* proofValue: 'z' + base58btc of exactly 64 bytes; the decoder rejects other forms. */
    struct vt_buf sig;
    vt_buf_init(&sig, 128);
    enum vt_multibase base;
    if (vt_multibase_decode(pv, strlen(pv), &base, &sig, &e) != VT_OK ||
        base != VT_MULTIBASE_BASE58BTC || sig.len != VT_ED25519_SIG_LEN) {
        cred_result_error(r, CRED_P_PROOF_VERIFICATION, "malformed proof value",
                          "%s: proofValue is not 'z' + base58btc of 64 bytes%s%s", what,
                          e.msg[0] ? ": " : "", e.msg);
        vt_buf_release(&sig);
        return PROOF_FAILED;
    }

    const json_t *pctx = json_object_get(proof, "@context");
    if (pctx != NULL && !context_prefix(json_object_get(doc, "@context"), pctx)) {
        cred_result_error(r, CRED_P_PROOF_VERIFICATION, "proof context mismatch",
                          "%s: the document's @context does not start with the proof's", what);
        ok = false;
    }

    cred_result_check(r, "issuer-key");
    struct cred_key *key = NULL;
    if (!cred_vm_syntax_ok(v, vm, what)) {
        ok = false;
    } else if (unsupported) {
        check_controller(v, doc, vm, presentation, what);
    } else if ((key = cred_resolve_vm(v, vm, created_ms, true, what)) == NULL) {
        ok = false;
    } else {
        check_controller(v, doc, vm, presentation, what);
        uint8_t hash_data[2 * VT_SHA256_LEN];
        vt_error_clear(&e);
        if (key->type != CRED_KEY_ED25519) {
            cred_result_error(r, CRED_P_KEY_RESOLUTION, "wrong key type",
                              "%s: verification method '%s' is not an Ed25519 key", what, vm);
            ok = false;
        } else if (proof_hash_data(doc, proof, dh, hash_data, &e) != VT_OK) {
            cred_result_error(r, CRED_P_PROOF_VERIFICATION, "cannot canonicalize", "%s: %s", what,
                              e.msg);
            ok = false;
        } else if (!vt_ed25519_verify(key->ed.pk, hash_data, sizeof(hash_data), sig.data)) {
            cred_result_error(r, CRED_P_PROOF_VERIFICATION, "invalid signature",
                              "%s: the eddsa-jcs-2022 signature does not verify with '%s'", what,
                              vm);
            ok = false;
        }
        cred_key_free(key);
    }
    vt_buf_release(&sig);
    if (ok && unsupported) {
        cred_result_warning(r, CRED_P_UNSUPPORTED_SUITE, "unsupported cryptosuite",
                            "%s: cryptosuite '%s' is not supported (only " SUITE_JCS
                            "); its signature was not checked",
                            what, suite);
        return PROOF_UNSUPPORTED;
    }
    return ok ? PROOF_OK : PROOF_FAILED;
}

unsigned cred_di_verify_proofs(struct cred_verifier *v, const json_t *doc, const char *purpose,
                               bool presentation)
{
    struct cred_result *r = v->result;
    const json_t *proofs = json_object_get(doc, "proof");
    cred_result_check(r, "proof");
    if (proofs == NULL) {
        cred_result_error(r, CRED_P_PROOF_MISSING, "not secured",
                          "the document has no proof and no other securing mechanism");
        return 0;
    }
    size_t count = json_is_array(proofs) ? json_array_size(proofs) : 1;
    if (count == 0 || count > CRED_PROOFS_MAX) {
        cred_result_error(r, CRED_P_MALFORMED, "malformed proof set",
                          "proof set has %zu proofs (1 to %d allowed)", count, CRED_PROOFS_MAX);
        return 0;
    }
    struct doc_hash dh;
    memset(&dh, 0, sizeof(dh));
    unsigned good = 0, unsupported = 0;
    for (size_t i = 0; i < count; i++) {
        char what[32];
        snprintf(what, sizeof(what), count == 1 ? "proof" : "proof[%zu]", i);
        const json_t *p = json_is_array(proofs) ? json_array_get(proofs, i) : proofs;
        if (json_is_object(p) && json_object_get(p, "previousProof") != NULL) {
            /* Chains sign over earlier proofs; only sets are implemented. */
            cred_result_warning(r, CRED_P_UNSUPPORTED_SUITE, "proof chains not supported",
                                "%s names previousProof", what);
            unsupported++;
            continue;
        }
        switch (verify_one(v, doc, &dh, p, purpose, presentation, what)) {
        case PROOF_OK:
            good++;
            break;
        case PROOF_UNSUPPORTED:
            unsupported++;
            break;
        case PROOF_FAILED:
            break;
        }
    }
    if (good == 0 && unsupported > 0 && unsupported == count)
        cred_result_error(r, CRED_P_UNSUPPORTED_SUITE, "unsupported cryptosuite",
                          "no proof uses a supported cryptosuite (" SUITE_JCS "); the document "
                          "could not be checked, which is not evidence of tampering");
    return good;
}
