/*
 * JSON parsing with I-JSON rules (vt_json_parse) and the RFC 8785 canonical writer
 * (vt_jcs_write), as `vitae jcs` and every eddsa-jcs-2022 proof use them.
 *
 * Invariant: the canonical form is a fixed point. It parses, and writing it again gives
 * the same bytes.
 */
#include <string.h>

#include "fuzz.h"

#define DOC_MAX ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    json_t *doc = NULL;
    struct vt_error err;
    if (vt_json_parse((const char *)data, size, DOC_MAX, VT_JSON_MAX_DEPTH, &doc, &err) != VT_OK)
        return 0;
    struct vt_buf once, twice;
    vt_buf_init(&once, 4 * DOC_MAX);
    vt_buf_init(&twice, 4 * DOC_MAX);
    if (vt_jcs_write(doc, &once, &err) == VT_OK) {
        json_t *again = NULL;
        if (vt_json_parse((const char *)once.data, once.len, 4 * DOC_MAX, VT_JSON_MAX_DEPTH, &again,
                          &err) != VT_OK)
            fuzz_fail("the canonical form does not parse: %s", err.msg);
        if (vt_jcs_write(again, &twice, &err) != VT_OK)
            fuzz_fail("the canonical form does not canonicalize: %s", err.msg);
        if (once.len != twice.len || memcmp(once.data, twice.data, once.len) != 0)
            fuzz_fail("canonicalizing twice changed %zu bytes into %zu", once.len, twice.len);
        json_decref(again);
    }
    vt_buf_release(&once);
    vt_buf_release(&twice);
    json_decref(doc);
    return 0;
}
