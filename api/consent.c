/*
 * Consent grants (specs/api.md §7.3). A grant is
 *   {"grant": {"type":"VitaeConsent","learner":hex,"audience":did,"scope":[...],
 *              "expires":RFC3339}, "signature": base64url}
 * where the signature is Ed25519 by the learner's wallet key over
 * "vitae/consent/v1\n" ‖ JCS(grant). Grants and revocations are ledger events of the
 * learner; this index is rebuilt from them at start and updated after each commit.
 */
#include <string.h>

#include "api/api_int.h"

struct rec {
    struct api_consent_grant g;
    bool revoked;
    int64_t time_ms;
};

struct api_consents {
    pthread_mutex_t mu;
    struct rec *v;
    size_t n, cap;
};

unsigned api_scope_parse(const char *name)
{
    if (!strcmp(name, "ledger.read"))
        return API_SCOPE_LEDGER_READ;
    if (!strcmp(name, "twin.read"))
        return API_SCOPE_TWIN_READ;
    if (!strcmp(name, "portable.export"))
        return API_SCOPE_EXPORT;
    return 0;
}

static const char *const scope_names[3] = {"ledger.read", "twin.read", "portable.export"};

struct api_consents *api_consents_new(void)
{
    struct api_consents *c = vt_calloc(1, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void api_consents_free(struct api_consents *c)
{
    if (!c)
        return;
    free(c->v);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

enum vt_status api_consent_parse(const json_t *doc, struct api_consent_grant *g,
                                 struct vt_error *err)
{
    memset(g, 0, sizeof(*g));
    const json_t *grant = vt_json_get_obj(doc, "grant");
    if (!grant || !vt_json_get_str(doc, "signature"))
        return vt_error_set(err, VT_ERR_INVALID, "consent needs 'grant' and 'signature'");
    const char *type = vt_json_get_str(grant, "type");
    const char *learner = vt_json_get_str(grant, "learner");
    const char *aud = vt_json_get_str(grant, "audience");
    const char *exp = vt_json_get_str(grant, "expires");
    const json_t *scope = vt_json_get_arr(grant, "scope");
    if (!type || strcmp(type, "VitaeConsent"))
        return vt_error_set(err, VT_ERR_INVALID, "grant.type must be \"VitaeConsent\"");
    if (!learner || api_hex_learner(learner, g->learner, err) != VT_OK)
        return vt_error_set(err, VT_ERR_INVALID, "grant.learner must be 32 hex digits");
    uint8_t pk[VT_ED25519_PK_LEN];
    if (!aud || strlen(aud) >= sizeof(g->audience) ||
        vt_didkey_parse(aud, strlen(aud), pk, NULL) != VT_OK)
        return vt_error_set(err, VT_ERR_INVALID, "grant.audience must be a did:key");
    snprintf(g->audience, sizeof(g->audience), "%s", aud);
    if (!exp || vt_time_parse(exp, strlen(exp), &g->expires_ms, NULL) != VT_OK)
        return vt_error_set(err, VT_ERR_INVALID, "grant.expires must be an RFC 3339 time");
    if (!scope || json_array_size(scope) == 0 || json_array_size(scope) > 8)
        return vt_error_set(err, VT_ERR_INVALID, "grant.scope must list 1..8 scopes");
    size_t i;
    json_t *v;
    json_array_foreach(scope, i, v)
    {
        unsigned s = json_is_string(v) ? api_scope_parse(json_string_value(v)) : 0;
        if (!s)
            return vt_error_set(err, VT_ERR_INVALID, "grant.scope[%zu] is not a known scope", i);
        g->scopes |= s;
    }
    struct vt_buf canon;
    vt_buf_init(&canon, 64 * 1024);
    enum vt_status rc = vt_jcs_write(grant, &canon, err);
    if (rc == VT_OK) {
        uint8_t h[VT_SHA256_LEN];
        vt_sha256(canon.data, canon.len, h);
        api_learner_hex(h, g->id);
        api_learner_hex(h + 16, g->id + 32);
    }
    vt_buf_release(&canon);
    return rc;
}

enum vt_status api_consent_verify_sig(const json_t *doc, const uint8_t pk[VT_ED25519_PK_LEN],
                                      struct vt_error *err)
{
    const json_t *grant = vt_json_get_obj(doc, "grant");
    const char *sig = vt_json_get_str(doc, "signature");
    if (!grant || !sig)
        return vt_error_set(err, VT_ERR_INVALID, "consent needs 'grant' and 'signature'");
    struct vt_buf msg, sb;
    vt_buf_init(&msg, 64 * 1024);
    vt_buf_init(&sb, 128);
    enum vt_status rc = vt_base64url_decode(sig, strlen(sig), &sb, err);
    if (rc == VT_OK && sb.len != VT_ED25519_SIG_LEN)
        rc = vt_error_set(err, VT_ERR_INVALID, "signature must be 64 bytes");
    if (rc == VT_OK)
        rc = vt_buf_append_str(&msg, API_CONSENT_DOMAIN, err);
    if (rc == VT_OK)
        rc = vt_jcs_write(grant, &msg, err);
    if (rc == VT_OK && !vt_ed25519_verify(pk, msg.data, msg.len, sb.data))
        rc = vt_error_set(err, VT_ERR_VERIFY,
                          "consent signature does not verify with the learner's key");
    vt_buf_release(&msg);
    vt_buf_release(&sb);
    return rc;
}

void api_consents_apply(struct api_consents *c, const char *type, const uint8_t *payload,
                        size_t len, int64_t time_ms)
{
    json_t *doc = NULL;
    if (vt_json_parse((const char *)payload, len, len, VT_JSON_MAX_DEPTH, &doc, NULL) != VT_OK)
        return;
    pthread_mutex_lock(&c->mu);
    if (!strcmp(type, "consent.granted")) {
        struct rec r;
        memset(&r, 0, sizeof(r));
        if (api_consent_parse(doc, &r.g, NULL) == VT_OK) {
            r.time_ms = time_ms;
            if (c->n == c->cap) {
                c->cap = c->cap ? c->cap * 2 : 16;
                c->v = vt_realloc(c->v, c->cap * sizeof(*c->v));
            }
            c->v[c->n++] = r;
        }
    } else if (!strcmp(type, "consent.revoked")) {
        const char *id = vt_json_get_str(doc, "id");
        for (size_t i = 0; id && i < c->n; i++) {
            if (!strcmp(c->v[i].g.id, id))
                c->v[i].revoked = true;
        }
    }
    pthread_mutex_unlock(&c->mu);
    json_decref(doc);
}

/* The envelope inside a leaf: specs/ledger.md §2.3 (array of two byte strings). */
static bool leaf_envelope(const uint8_t *leaf, size_t n, size_t *off, size_t *len)
{
    if (n < 2 || leaf[0] != 0x82 || (leaf[1] >> 5) != 2)
        return false;
    uint8_t ai = leaf[1] & 0x1f;
    if (ai < 24) {
        *off = 2, *len = ai;
    } else if (ai == 24 && n >= 3) {
        *off = 3, *len = leaf[2];
    } else if (ai == 25 && n >= 4) {
        *off = 4, *len = vt_be16_get(leaf + 2);
    } else {
        return false;
    }
    return *off + *len <= n;
}

enum vt_status api_consents_load(struct api_consents *c, struct ledger *l, struct vt_error *err)
{
    uint64_t size = ledger_size(l);
    struct vt_buf leaf, pl;
    vt_buf_init(&leaf, LEDGER_LEAF_MAX);
    vt_buf_init(&pl, VT_BUF_DEFAULT_MAX);
    enum vt_status rc = VT_OK;
    size_t loaded = 0;
    for (uint64_t i = 0; i < size; i++) {
        vt_buf_reset(&leaf);
        rc = ledger_event_read(l, i, &leaf, err);
        if (rc != VT_OK)
            break;
        size_t off, len;
        struct ledger_event ev;
        if (!leaf_envelope(leaf.data, leaf.len, &off, &len) ||
            ledger_event_decode(leaf.data + off, len, &ev, NULL) != VT_OK)
            continue;
        if (strncmp(ev.type, "consent.", 8))
            continue;
        vt_buf_reset(&pl);
        if (ledger_payload_read(l, i, &pl, NULL) == VT_OK) {
            api_consents_apply(c, ev.type, pl.data, pl.len, (int64_t)ev.time_ms);
            loaded++;
        }
    }
    vt_buf_release(&leaf);
    vt_buf_release(&pl);
    if (rc == VT_OK && loaded)
        API_LOG(API_LOG_INFO, "consent.loaded", "events=%zu", loaded);
    return rc;
}

bool api_consents_allow(struct api_consents *c, const uint8_t learner[16], const char *audience,
                        unsigned scope, int64_t now_ms)
{
    bool ok = false;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n && !ok; i++) {
        const struct rec *r = &c->v[i];
        ok = !r->revoked && r->g.expires_ms > now_ms && (r->g.scopes & scope) == scope &&
             !memcmp(r->g.learner, learner, 16) && !strcmp(r->g.audience, audience);
    }
    pthread_mutex_unlock(&c->mu);
    return ok;
}

enum vt_status api_consents_get(struct api_consents *c, const char *id, struct api_consent_grant *g,
                                bool *revoked)
{
    enum vt_status rc = VT_ERR_NOT_FOUND;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++) {
        if (!strcmp(c->v[i].g.id, id)) {
            *g = c->v[i].g;
            *revoked = c->v[i].revoked;
            rc = VT_OK;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

json_t *api_consents_list(struct api_consents *c, const uint8_t learner[16], int64_t now_ms)
{
    json_t *a = json_array();
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++) {
        const struct rec *r = &c->v[i];
        if (memcmp(r->g.learner, learner, 16))
            continue;
        json_t *o = json_object();
        json_t *sc = json_array();
        for (unsigned b = 0; b < 3; b++) {
            if (r->g.scopes & (1u << b))
                json_array_append_new(sc, json_string(scope_names[b]));
        }
        char ts[VT_TIME_MAX], gs[VT_TIME_MAX];
        vt_time_format(r->g.expires_ms, ts);
        vt_time_format(r->time_ms, gs);
        json_object_set_new(o, "id", json_string(r->g.id));
        json_object_set_new(o, "audience", json_string(r->g.audience));
        json_object_set_new(o, "scope", sc);
        json_object_set_new(o, "expires", json_string(ts));
        json_object_set_new(o, "granted", json_string(gs));
        json_object_set_new(o, "state",
                            json_string(r->revoked                  ? "revoked"
                                        : r->g.expires_ms <= now_ms ? "expired"
                                                                    : "active"));
        json_array_append_new(a, o);
    }
    pthread_mutex_unlock(&c->mu);
    return a;
}
