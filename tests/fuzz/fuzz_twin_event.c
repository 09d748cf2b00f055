/*
 * Learning-event payloads as the twin reads them from the ledger and the API (selector
 * byte: enum fuzz_twin_op): twin_event_decode of each type's canonical CBOR and of xAPI
 * statement JSON, twin_event_from_json per kind, and twin_event_from_xapi.
 *
 * Invariants (twin.h: decoding is strict and canonical): a CBOR payload that decodes
 * encodes back to the same bytes; an event taken from JSON or xAPI encodes, and its
 * encoding decodes to an event that encodes identically.
 */
#include <string.h>

#include "fuzz.h"
#include "twin/twin.h"

static const char *const types[] = {"attempt",    "progress", "assessment",
                                    "enrollment", "role",     "xapi.statement"};
static const enum twin_event_kind kinds[] = {TWIN_EVENT_ATTEMPT, TWIN_EVENT_PROGRESS,
                                             TWIN_EVENT_ASSESSMENT, TWIN_EVENT_ENROLLMENT,
                                             TWIN_EVENT_ROLE};

/* Encodes ev, decodes the encoding, encodes again: both encodings must agree. When want is
 * not NULL the first encoding must also equal it. */
static void check_encoding(const struct twin_event *ev, const uint8_t *want, size_t want_len)
{
    if (ev->kind == TWIN_EVENT_NONE)
        return;
    struct vt_buf a, b;
    struct vt_error err;
    vt_buf_init(&a, 1 << 20);
    vt_buf_init(&b, 1 << 20);
    if (twin_event_encode(ev, &a, &err) != VT_OK)
        fuzz_fail("a decoded %s event does not encode: %s", twin_event_type(ev->kind), err.msg);
    if (want && (a.len != want_len || memcmp(a.data, want, want_len) != 0))
        fuzz_fail("a %zu-byte %s payload encodes back to %zu bytes", want_len,
                  twin_event_type(ev->kind), a.len);
    struct twin_event back;
    if (twin_event_decode(twin_event_type(ev->kind), a.data, a.len, &back, &err) != VT_OK)
        fuzz_fail("an encoded %s event does not decode: %s", twin_event_type(ev->kind), err.msg);
    if (twin_event_encode(&back, &b, &err) != VT_OK || a.len != b.len ||
        memcmp(a.data, b.data, a.len) != 0)
        fuzz_fail("a %s event changes on its way through its encoding", twin_event_type(ev->kind));
    json_t *j = twin_event_to_json(ev);
    if (!j)
        fuzz_fail("a %s event has no JSON form", twin_event_type(ev->kind));
    json_decref(j);
    vt_buf_release(&a);
    vt_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    if (size < 1)
        return 0;
    unsigned op = data[0] % FUZZ_TWIN_COUNT;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    struct twin_event ev;
    struct vt_error err;
    if (op <= FUZZ_TWIN_XAPI_STATEMENT) {
        if (twin_event_decode(types[op], p, n, &ev, &err) == VT_OK)
            check_encoding(&ev, op == FUZZ_TWIN_XAPI_STATEMENT ? NULL : p, n);
        return 0;
    }
    json_t *doc = NULL;
    if (vt_json_parse((const char *)p, n, 1 << 20, VT_JSON_MAX_DEPTH, &doc, &err) != VT_OK)
        return 0;
    enum vt_status st;
    if (op == FUZZ_TWIN_XAPI)
        st = twin_event_from_xapi(doc, &ev, &err);
    else
        st = twin_event_from_json(kinds[op - FUZZ_TWIN_JSON_ATTEMPT], doc, &ev, &err);
    if (st == VT_OK)
        check_encoding(&ev, NULL, 0);
    json_decref(doc);
    return 0;
}
