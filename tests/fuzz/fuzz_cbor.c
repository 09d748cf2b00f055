/*
 * Deterministic CBOR reader (vt_cbor_check, vt_cbor_decode): every envelope, leaf, bundle,
 * COSE message and binary RPC frame passes through it first.
 *
 * Invariants: an input that decodes also passes vt_cbor_check, and vt_cbor_encode writes
 * it back byte for byte (core.h: the reader accepts only the canonical form).
 */
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    struct vt_error err;
    enum vt_status checked = vt_cbor_check(data, size, VT_CBOR_MAX_DEPTH, &err);
    cbor_item_t *item = NULL;
    enum vt_status decoded = vt_cbor_decode(data, size, VT_CBOR_MAX_DEPTH, &item, &err);
    if (decoded != VT_OK) {
        if (item)
            fuzz_fail("vt_cbor_decode failed (%s) but returned an item", err.msg);
        return 0;
    }
    if (checked != VT_OK)
        fuzz_fail("vt_cbor_decode accepted what vt_cbor_check refused");
    struct vt_buf out;
    vt_buf_init(&out, size + 1);
    if (vt_cbor_encode(item, &out, &err) != VT_OK)
        fuzz_fail("a decoded item does not encode: %s", err.msg);
    if (out.len != size || memcmp(out.data, data, size) != 0)
        fuzz_fail("re-encoding changed %zu bytes into %zu", size, out.len);
    /* The map helpers every decoder uses. */
    if (cbor_isa_map(item)) {
        (void)vt_cbor_map_get_uint(item, 1);
        (void)vt_cbor_map_get_str(item, "id");
    }
    uint64_t u;
    (void)vt_cbor_get_uint(item, &u, NULL);
    vt_buf_release(&out);
    cbor_decref(&item);
    return 0;
}
