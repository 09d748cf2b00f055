/*
 * Event envelopes and leaves (ledger_event_decode, ledger_leaf_open): what a pre-signed
 * append and every imported bundle event carry.
 *
 * Invariant: an envelope that decodes encodes back to the same bytes (specs/ledger.md §2:
 * one canonical envelope per event).
 */
#include <string.h>

#include "fuzz.h"
#include "ledger/ledger.h"

static void check_round_trip(const uint8_t *env, size_t n, const struct ledger_event *ev)
{
    struct vt_buf out;
    struct vt_error err;
    vt_buf_init(&out, LEDGER_LEAF_MAX);
    if (ledger_event_encode(ev, &out, &err) != VT_OK)
        fuzz_fail("a decoded envelope does not encode: %s", err.msg);
    if (out.len != n || memcmp(out.data, env, n) != 0)
        fuzz_fail("re-encoding changed a %zu-byte envelope into %zu bytes", n, out.len);
    vt_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    struct ledger_event ev;
    struct vt_error err;
    if (ledger_event_decode(data, size, &ev, &err) == VT_OK) {
        check_round_trip(data, size, &ev);
        (void)ledger_type_known(ev.type);
    }

    uint8_t sig[VT_ED25519_SIG_LEN];
    size_t off = 0, len = 0;
    enum vt_status st = ledger_leaf_open(data, size, &ev, sig, &off, &len, &err);
    if (st == VT_OK) {
        if (off > size || len > size - off)
            fuzz_fail("leaf_open located the envelope at %zu+%zu in %zu bytes", off, len, size);
        check_round_trip(data + off, len, &ev);
        uint8_t hash[LEDGER_HASH_LEN];
        ledger_leaf_hash(data, size, hash);
    }
    return 0;
}
