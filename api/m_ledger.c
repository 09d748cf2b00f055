/*
 * ledger.*: appends (blocking until durable, on this worker), reads of a learner's chain,
 * proofs and checkpoints. Payloads travel as JSON ("payload", stored as its RFC 8785
 * canonical bytes) or as raw bytes ("payload_b64u", a byte string in CBOR frames).
 *
 * In binary frames the appends read their params as CBOR (API_M_CBOR): a payload byte
 * string goes to the ledger straight from the decoded message, neither copied nor turned
 * into base64url text and back.
 */
#include <string.h>

#include "api/api_int.h"

#define READ_LIMIT_MAX 1000
#define APPEND_BATCH_MAX 65536

struct append_in {
    struct ledger_append_req req;
    struct vt_buf payload;
    struct vt_buf id;
};

static enum vt_status append_parse(const json_t *p, struct append_in *in, size_t payload_max,
                                   struct vt_error *err)
{
    memset(&in->req, 0, sizeof(in->req));
    vt_buf_init(&in->payload, payload_max);
    vt_buf_init(&in->id, LEDGER_EVENT_ID_MAX);
    if (!json_is_object(p))
        return vt_error_set(err, VT_ERR_INVALID, "an event must be an object");
    const char *type, *b64, *event_id;
    enum vt_status rc = api_param_learner(p, in->req.learner, err);
    if (rc == VT_OK)
        rc = api_param_str(p, "type", true, &type, err);
    if (rc == VT_OK)
        rc = api_param_str(p, "payload_b64u", false, &b64, err);
    if (rc == VT_OK)
        rc = api_param_str(p, "event_id", false, &event_id, err);
    if (rc != VT_OK)
        return rc;
    json_t *payload = json_object_get(p, "payload");
    if (payload && b64)
        return vt_error_set(err, VT_ERR_INVALID, "give payload or payload_b64u, not both");
    if (payload)
        rc = vt_jcs_write(payload, &in->payload, err);
    else if (b64)
        rc = vt_base64url_decode(b64, strlen(b64), &in->payload, err);
    if (rc != VT_OK)
        return vt_error_prefix(err, rc, "payload");
    if (event_id) {
        size_t n = strlen(event_id);
        if (n == 0 || n > LEDGER_EVENT_ID_MAX)
            return vt_error_set(err, VT_ERR_INVALID, "event_id must be 1..%d bytes",
                                LEDGER_EVENT_ID_MAX);
        (void)vt_buf_append(&in->id, event_id, n, NULL);
        in->req.event_id = in->id.data;
        in->req.event_id_len = in->id.len;
    }
    in->req.type = type;
    in->req.payload = in->payload.data;
    in->req.payload_len = in->payload.len;
    return VT_OK;
}

static void append_release(struct append_in *in)
{
    vt_buf_release(&in->payload);
    vt_buf_release(&in->id);
}

/* ---------------------------------------------------------------------------------------
 * The same params as CBOR items. The checks and messages are those of append_parse, so
 * both frame types refuse the same requests alike.
 */

/* A member of an event map: NULL when absent or null, as for the JSON form. */
static const cbor_item_t *cbor_member(const cbor_item_t *map, const char *key)
{
    const cbor_item_t *v = vt_cbor_map_get_str(map, key);
    if (v && cbor_isa_float_ctrl(v) && cbor_float_ctrl_is_ctrl(v) &&
        cbor_ctrl_value(v) == CBOR_CTRL_NULL)
        return NULL;
    return v;
}

static bool cbor_text(const cbor_item_t *v, const char **p, size_t *n)
{
    if (!cbor_isa_string(v) || !cbor_string_is_definite(v))
        return false;
    *p = (const char *)cbor_string_handle(v);
    *n = cbor_string_length(v);
    return true;
}

/* An event read from CBOR: the ledger takes the type as a C string, so it is copied out. */
struct append_cbor {
    struct append_in in;
    char type[LEDGER_TYPE_MAX + 1];
};

/* Fills a->in.req from an event map. A payload byte string is referenced in place: it lives
 * as the decoded message. */
static enum vt_status append_parse_cbor(const cbor_item_t *ev, struct append_cbor *a,
                                        size_t payload_max, struct vt_error *err)
{
    struct append_in *in = &a->in;
    memset(&in->req, 0, sizeof(in->req));
    vt_buf_init(&in->payload, payload_max);
    vt_buf_init(&in->id, LEDGER_EVENT_ID_MAX);
    if (!cbor_isa_map(ev))
        return vt_error_set(err, VT_ERR_INVALID, "an event must be an object");
    const cbor_item_t *learner = cbor_member(ev, "learner");
    const cbor_item_t *type = cbor_member(ev, "type");
    const cbor_item_t *b64 = cbor_member(ev, "payload_b64u");
    const cbor_item_t *event_id = cbor_member(ev, "event_id");
    /* As in JSON, where a null payload is stored as the JSON text null. */
    const cbor_item_t *payload = vt_cbor_map_get_str(ev, "payload");
    const char *p;
    size_t n;
    if (!learner)
        return vt_error_set(err, VT_ERR_INVALID, "missing param 'learner'");
    if (!cbor_text(learner, &p, &n))
        return vt_error_set(err, VT_ERR_INVALID, "param 'learner' must be a string");
    struct vt_buf lb;
    vt_buf_init(&lb, LEDGER_LEARNER_LEN);
    bool hex_ok = n == 2 * LEDGER_LEARNER_LEN && vt_hex_decode(p, n, &lb, NULL) == VT_OK;
    if (hex_ok)
        memcpy(in->req.learner, lb.data, LEDGER_LEARNER_LEN);
    vt_buf_release(&lb);
    if (!hex_ok)
        return vt_error_set(err, VT_ERR_INVALID, "learner must be 32 hex digits");
    if (!type)
        return vt_error_set(err, VT_ERR_INVALID, "missing param 'type'");
    if (!cbor_text(type, &p, &n))
        return vt_error_set(err, VT_ERR_INVALID, "param 'type' must be a string");
    /* Longer names are refused by the ledger as unknown types, event by event. */
    n = n < LEDGER_TYPE_MAX ? n : LEDGER_TYPE_MAX;
    memcpy(a->type, p, n);
    a->type[n] = '\0';
    if (b64 && !cbor_isa_bytestring(b64) && !cbor_isa_string(b64))
        return vt_error_set(err, VT_ERR_INVALID, "param 'payload_b64u' must be a string");
    if (event_id && !cbor_isa_string(event_id))
        return vt_error_set(err, VT_ERR_INVALID, "param 'event_id' must be a string");
    if (payload && b64)
        return vt_error_set(err, VT_ERR_INVALID, "give payload or payload_b64u, not both");
    enum vt_status rc = VT_OK;
    if (b64 && cbor_isa_bytestring(b64) && cbor_bytestring_is_definite(b64)) {
        if (cbor_bytestring_length(b64) > payload_max)
            rc = vt_error_set(err, VT_ERR_TOO_LARGE, "buffer would exceed its cap of %zu bytes",
                              payload_max);
        in->req.payload = cbor_bytestring_handle(b64);
        in->req.payload_len = cbor_bytestring_length(b64);
    } else if (b64 && cbor_text(b64, &p, &n)) {
        rc = vt_base64url_decode(p, n, &in->payload, err);
        in->req.payload = in->payload.data;
        in->req.payload_len = in->payload.len;
    } else if (b64) {
        rc = vt_error_set(err, VT_ERR_INVALID, "param 'payload_b64u' must be a string");
    } else if (payload) {
        json_t *j = NULL;
        rc = api_cbor_item_to_json(payload, NULL, &j, err);
        if (rc == VT_OK)
            rc = vt_jcs_write(j, &in->payload, err);
        json_decref(j);
        in->req.payload = in->payload.data;
        in->req.payload_len = in->payload.len;
    }
    if (rc != VT_OK)
        return vt_error_prefix(err, rc, "payload");
    if (event_id) {
        if (!cbor_text(event_id, &p, &n) || memchr(p, 0, n) || vt_utf8_invalid_at(p, n) != n)
            return vt_error_set(err, VT_ERR_INVALID, "param 'event_id' must be a string");
        if (n == 0 || n > LEDGER_EVENT_ID_MAX)
            return vt_error_set(err, VT_ERR_INVALID, "event_id must be 1..%d bytes",
                                LEDGER_EVENT_ID_MAX);
        in->req.event_id = (const uint8_t *)p;
        in->req.event_id_len = n;
    }
    in->req.type = a->type;
    return VT_OK;
}

static json_t *append_result_json(const struct ledger_append_result *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer((json_int_t)r->index));
    json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
    json_object_set_new(o, "leaf_hash", api_json_hex(r->leaf_hash, LEDGER_HASH_LEN));
    json_object_set_new(o, "duplicate", json_boolean(r->duplicate));
    return o;
}

API_METHOD(api_m_ledger_append)
{
    struct append_cbor a;
    struct append_in *in = &a.in;
    enum vt_status rc =
        call->cbor_params
            ? append_parse_cbor(call->cbor_params, &a, call->srv->cfg.max_message, err)
            : append_parse(params, in, call->srv->cfg.max_message, err);
    if (rc == VT_OK) {
        struct ledger_append_result res;
        rc = ledger_append(call->srv->ledger, &in->req, &res, err);
        api_metrics_append_batch(call->srv->metrics, 1);
        if (rc == VT_OK)
            *result = append_result_json(&res);
    }
    append_release(in);
    return rc;
}

API_METHOD(api_m_ledger_append_batch)
{
    const cbor_item_t *cevents = NULL;
    const json_t *events = NULL;
    size_t n;
    if (call->cbor_params) {
        cevents = vt_cbor_map_get_str(call->cbor_params, "events");
        if (!cevents || !cbor_isa_array(cevents))
            return vt_error_set(err, VT_ERR_INVALID, "missing param 'events' (an array)");
        n = cbor_array_size(cevents);
    } else {
        events = vt_json_get_arr(params, "events");
        if (!events)
            return vt_error_set(err, VT_ERR_INVALID, "missing param 'events' (an array)");
        n = json_array_size(events);
    }
    if (n == 0 || n > APPEND_BATCH_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "events must hold 1..%d events", APPEND_BATCH_MAX);
    struct append_cbor *in = vt_calloc(n, sizeof(*in));
    struct ledger_append_req *reqs = vt_calloc(n, sizeof(*reqs));
    struct ledger_append_result *res = vt_calloc(n, sizeof(*res));
    enum vt_status rc = VT_OK;
    size_t parsed = 0;
    for (; parsed < n && rc == VT_OK; parsed++) {
        size_t max = call->srv->cfg.max_message;
        rc = cevents ? append_parse_cbor(cbor_array_handle(cevents)[parsed], &in[parsed], max, err)
                     : append_parse(json_array_get(events, parsed), &in[parsed].in, max, err);
        if (rc != VT_OK)
            vt_error_prefix(err, rc, "events[%zu]", parsed);
        reqs[parsed] = in[parsed].in.req;
    }
    if (rc == VT_OK) {
        struct vt_error first;
        (void)ledger_append_batch(call->srv->ledger, reqs, n, res, &first);
        api_metrics_append_batch(call->srv->metrics, n);
        json_t *arr = json_array();
        size_t ok = 0;
        for (size_t i = 0; i < n; i++) {
            if (res[i].status == VT_OK) {
                json_array_append_new(arr, append_result_json(&res[i]));
                ok++;
            } else {
                json_t *e = json_object();
                json_object_set_new(e, "code", json_integer(api_status_rpc_code(res[i].status)));
                json_object_set_new(e, "message", json_string(res[i].error.msg));
                json_t *o = json_object();
                json_object_set_new(o, "error", e);
                json_array_append_new(arr, o);
            }
        }
        json_t *o = json_object();
        json_object_set_new(o, "committed", json_integer((json_int_t)ok));
        json_object_set_new(o, "results", arr);
        *result = o;
    }
    for (size_t i = 0; i < parsed; i++)
        append_release(&in[i].in);
    free(in);
    free(reqs);
    free(res);
    return rc;
}

static json_t *event_json(struct ledger *l, uint64_t index, bool with_payload, struct vt_error *err)
{
    struct vt_buf leaf;
    vt_buf_init(&leaf, LEDGER_LEAF_MAX);
    json_t *o = NULL;
    struct ledger_event ev;
    uint8_t sig[VT_ED25519_SIG_LEN];
    if (ledger_event_read(l, index, &leaf, err) != VT_OK ||
        ledger_leaf_open(leaf.data, leaf.len, &ev, sig, NULL, NULL, err) != VT_OK) {
        vt_buf_release(&leaf);
        return NULL;
    }
    uint8_t h[LEDGER_HASH_LEN];
    ledger_leaf_hash(leaf.data, leaf.len, h);
    char did[VT_DIDKEY_MAX], ts[VT_TIME_MAX];
    vt_didkey_from_public(ev.author, did);
    vt_time_format((int64_t)ev.time_ms, ts);
    o = json_object();
    json_object_set_new(o, "index", json_integer((json_int_t)index));
    json_object_set_new(o, "seq", json_integer((json_int_t)ev.seq));
    json_object_set_new(o, "type", json_string(ev.type));
    json_object_set_new(o, "time", json_string(ts));
    json_object_set_new(o, "author", json_string(did));
    json_object_set_new(o, "origin", json_string(ev.origin));
    json_object_set_new(o, "leaf_hash", api_json_hex(h, sizeof(h)));
    json_object_set_new(o, "leaf", api_json_b64u(leaf.data, leaf.len));
    if (ev.event_id_len)
        json_object_set_new(o, "event_id",
                            json_stringn((const char *)ev.event_id, ev.event_id_len));
    struct ledger_provenance prov;
    if (ledger_provenance_read(l, ev.learner, ev.seq, &prov, NULL, NULL) == VT_OK) {
        /* Written here from elsewhere: name the log that vouched for it. */
        char pdid[VT_DIDKEY_MAX];
        vt_didkey_from_public(prov.service_key, pdid);
        json_t *pj = json_pack("{s:s,s:s}", "origin", prov.origin, "service_key", pdid);
        if (prov.has_checkpoint) {
            json_object_set_new(pj, "checkpoint_size",
                                json_integer((json_int_t)prov.checkpoint_size));
            json_object_set_new(pj, "checkpoint_sha256",
                                api_json_hex(prov.checkpoint_hash, sizeof(prov.checkpoint_hash)));
        }
        json_object_set_new(o, "provenance", pj);
    }
    vt_buf_release(&leaf);
    if (!with_payload)
        return o;
    struct vt_buf pl;
    vt_buf_init(&pl, VT_BUF_DEFAULT_MAX);
    struct vt_error perr;
    enum vt_status rc = ledger_payload_read(l, index, &pl, &perr);
    if (rc == VT_OK) {
        json_t *pj = NULL;
        if (pl.len > 0 && vt_json_parse((const char *)pl.data, pl.len, pl.len, VT_JSON_MAX_DEPTH,
                                        &pj, NULL) == VT_OK)
            json_object_set_new(o, "payload", pj);
        else
            json_object_set_new(o, "payload_b64u", api_json_b64u(pl.data, pl.len));
    } else {
        json_object_set_new(o, "erased", json_boolean(rc == VT_ERR_NOT_FOUND));
    }
    vt_buf_release(&pl);
    return o;
}

API_METHOD(api_m_ledger_read)
{
    uint8_t learner[LEDGER_LEARNER_LEN];
    uint64_t from = 0, limit = 100, head;
    enum vt_status rc = api_param_learner(params, learner, err);
    if (rc == VT_OK)
        rc = api_param_uint(params, "from_seq", false, &from, err);
    if (rc == VT_OK)
        rc = api_param_uint(params, "limit", false, &limit, err);
    if (rc != VT_OK)
        return rc;
    if (limit == 0 || limit > READ_LIMIT_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "limit must be 1..%d", READ_LIMIT_MAX);
    json_t *wp = json_object_get(params, "payloads");
    bool with_payload = !json_is_false(wp);
    rc = ledger_head(call->srv->ledger, learner, &head, NULL, NULL, err);
    if (rc != VT_OK)
        return rc;
    json_t *arr = json_array();
    for (uint64_t seq = from; seq <= head && seq < from + limit; seq++) {
        uint64_t index;
        rc = ledger_event_index(call->srv->ledger, learner, seq, &index, err);
        json_t *e = rc == VT_OK ? event_json(call->srv->ledger, index, with_payload, err) : NULL;
        if (!e) {
            json_decref(arr);
            return err ? err->status : VT_ERR_INTERNAL;
        }
        json_array_append_new(arr, e);
    }
    json_t *o = json_object();
    json_object_set_new(o, "head_seq", json_integer((json_int_t)head));
    json_object_set_new(o, "events", arr);
    *result = o;
    return VT_OK;
}

API_METHOD(api_m_ledger_head)
{
    uint8_t learner[LEDGER_LEARNER_LEN];
    uint64_t seq, index;
    uint8_t h[LEDGER_HASH_LEN];
    enum vt_status rc = api_param_learner(params, learner, err);
    if (rc == VT_OK)
        rc = ledger_head(call->srv->ledger, learner, &seq, &index, h, err);
    if (rc != VT_OK)
        return rc;
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    json_object_set_new(o, "index", json_integer((json_int_t)index));
    json_object_set_new(o, "leaf_hash", api_json_hex(h, sizeof(h)));
    *result = o;
    return VT_OK;
}

API_METHOD(api_m_ledger_verify)
{
    uint8_t learner[LEDGER_LEARNER_LEN];
    enum vt_status rc = api_param_learner(params, learner, err);
    if (rc != VT_OK)
        return rc;
    struct ledger_chain_report rep;
    memset(&rep, 0, sizeof(rep));
    struct vt_error verr;
    vt_error_clear(&verr);
    rc = ledger_verify_learner(call->srv->ledger, learner, &rep, &verr);
    if (rc == VT_ERR_NOT_FOUND)
        return vt_error_set(err, rc, "%s", verr.msg);
    json_t *o = json_object();
    json_object_set_new(o, "verified", json_boolean(rc == VT_OK));
    json_object_set_new(o, "events", json_integer((json_int_t)rep.events));
    json_object_set_new(o, "payloads_checked", json_integer((json_int_t)rep.payloads_checked));
    json_object_set_new(o, "payloads_erased", json_integer((json_int_t)rep.payloads_erased));
    json_object_set_new(o, "checkpoint_size", json_integer((json_int_t)rep.checkpoint_size));
    if (rc != VT_OK)
        json_object_set_new(o, "error", json_string(verr.msg));
    *result = o;
    return VT_OK;
}

static json_t *proof_json(uint8_t (*proof)[LEDGER_HASH_LEN], size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, api_json_hex(proof[i], LEDGER_HASH_LEN));
    return a;
}

API_METHOD(api_m_ledger_proof)
{
    uint64_t index = 0, size = 0, old_size = 0, new_size = 0;
    bool inclusion = json_object_get(params, "index") != NULL;
    bool consistency = json_object_get(params, "old_size") != NULL;
    if (inclusion == consistency)
        return vt_error_set(err, VT_ERR_INVALID,
                            "give index (inclusion) or old_size (consistency), not both");
    uint8_t proof[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
    size_t n = 0;
    enum vt_status rc;
    json_t *o = json_object();
    if (inclusion) {
        rc = api_param_uint(params, "index", true, &index, err);
        if (rc == VT_OK)
            rc = api_param_uint(params, "size", false, &size, err);
        if (rc == VT_OK)
            rc = ledger_inclusion_proof(call->srv->ledger, index, size, proof, &n, err);
        if (rc == VT_OK) {
            struct vt_buf leaf;
            vt_buf_init(&leaf, LEDGER_LEAF_MAX);
            uint8_t h[LEDGER_HASH_LEN];
            rc = ledger_event_read(call->srv->ledger, index, &leaf, err);
            if (rc == VT_OK) {
                ledger_leaf_hash(leaf.data, leaf.len, h);
                json_object_set_new(o, "leaf_hash", api_json_hex(h, sizeof(h)));
            }
            vt_buf_release(&leaf);
            json_object_set_new(o, "index", json_integer((json_int_t)index));
        }
    } else {
        rc = api_param_uint(params, "old_size", true, &old_size, err);
        if (rc == VT_OK)
            rc = api_param_uint(params, "new_size", false, &new_size, err);
        if (rc == VT_OK)
            rc = ledger_consistency_proof(call->srv->ledger, old_size, new_size, proof, &n, err);
        json_object_set_new(o, "old_size", json_integer((json_int_t)old_size));
    }
    if (rc != VT_OK) {
        json_decref(o);
        return rc;
    }
    uint64_t effective = inclusion ? size : new_size;
    if (effective == 0)
        effective = ledger_size(call->srv->ledger);
    json_object_set_new(o, inclusion ? "size" : "new_size", json_integer((json_int_t)effective));
    json_object_set_new(o, "proof", proof_json(proof, n));
    *result = o;
    return VT_OK;
}

API_METHOD(api_m_ledger_checkpoint)
{
    (void)params;
    struct vt_buf note;
    vt_buf_init(&note, 64 * 1024);
    struct ledger_checkpoint cp;
    enum vt_status rc = ledger_checkpoint_latest(call->srv->ledger, &note, &cp, err);
    if (rc == VT_OK) {
        struct vt_buf vk;
        vt_buf_init(&vk, 512);
        (void)ledger_note_verifier_format(cp.origin, ledger_public_key(call->srv->ledger), &vk,
                                          NULL);
        json_t *o = json_object();
        json_object_set_new(o, "note", json_stringn((const char *)note.data, note.len));
        json_object_set_new(o, "origin", json_string(cp.origin));
        json_object_set_new(o, "size", json_integer((json_int_t)cp.size));
        json_object_set_new(o, "root", api_json_hex(cp.root, sizeof(cp.root)));
        json_object_set_new(o, "verifier_key", json_stringn((const char *)vk.data, vk.len));
        vt_buf_release(&vk);
        *result = o;
    }
    vt_buf_release(&note);
    return rc;
}
