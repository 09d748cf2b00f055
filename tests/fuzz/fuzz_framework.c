/*
 * Competency frameworks and role profiles from outside (selector byte: enum
 * fuzz_framework_op): CSV, 1EdTech CASE 1.0, the JSON form and the Marble taxonomy as
 * framework.import takes them, and the canonical CBOR of "framework" and "role.profile"
 * ledger payloads.
 *
 * Invariants: a framework built from any form splits into payloads that each decode; a
 * role profile that decodes encodes back to the same bytes.
 */
#include <string.h>

#include "fuzz.h"
#include "twin/twin.h"

static enum vt_status decode_payload(void *ctx, const uint8_t *p, size_t n, struct vt_error *err)
{
    (void)ctx;
    struct twin_framework *fw = NULL;
    if (twin_framework_decode(p, n, &fw, err) != VT_OK)
        fuzz_fail("a framework payload of %zu bytes does not decode: %s", n, err->msg);
    twin_framework_free(fw);
    return VT_OK;
}

static void check_framework(struct twin_framework *fw)
{
    struct vt_error err;
    (void)twin_framework_skill_count(fw);
    (void)twin_framework_check(fw, &err);
    if (twin_framework_payloads(fw, 1 << 16, decode_payload, NULL, &err) != VT_OK)
        fuzz_fail("a framework does not split into payloads: %s", err.msg);
    twin_framework_free(fw);
}

static void check_role(struct twin_role_profile *rp, const uint8_t *want, size_t want_len)
{
    struct vt_buf out;
    struct vt_error err;
    vt_buf_init(&out, 1 << 20);
    if (twin_role_profile_encode(rp, &out, &err) != VT_OK)
        fuzz_fail("a role profile does not encode: %s", err.msg);
    if (want && (out.len != want_len || memcmp(out.data, want, want_len) != 0))
        fuzz_fail("a %zu-byte role profile encodes back to %zu bytes", want_len, out.len);
    vt_buf_release(&out);
    twin_role_profile_free(rp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    if (size < 1)
        return 0;
    unsigned op = data[0] % FUZZ_FW_COUNT;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    struct twin_framework *fw = NULL;
    struct twin_role_profile *rp = NULL;
    struct vt_error err;
    if (op == FUZZ_FW_CSV) {
        if (twin_framework_from_csv((const char *)p, n, "fuzz-fw", "Fuzz framework", &fw, &err) ==
            VT_OK)
            check_framework(fw);
        return 0;
    }
    if (op == FUZZ_FW_DECODE) {
        if (twin_framework_decode(p, n, &fw, &err) == VT_OK)
            check_framework(fw);
        return 0;
    }
    if (op == FUZZ_FW_ROLE_DECODE) {
        if (twin_role_profile_decode(p, n, &rp, &err) == VT_OK)
            check_role(rp, p, n);
        return 0;
    }
    json_t *doc = NULL;
    if (vt_json_parse((const char *)p, n, 1 << 20, VT_JSON_MAX_DEPTH, &doc, &err) != VT_OK)
        return 0;
    enum vt_status st = VT_ERR_INVALID;
    switch (op) {
    case FUZZ_FW_CASE:
        st = twin_framework_from_case(doc, &fw, &err);
        break;
    case FUZZ_FW_JSON:
        st = twin_framework_from_json(doc, &fw, &err);
        break;
    case FUZZ_FW_MARBLE:
        if (json_is_array(doc) && json_array_size(doc) == 2)
            st = twin_framework_from_marble(json_array_get(doc, 0), json_array_get(doc, 1), NULL,
                                            &fw, &err);
        break;
    case FUZZ_FW_ROLE_JSON:
        if (twin_role_profile_from_json(doc, &rp, &err) == VT_OK)
            check_role(rp, NULL, 0);
        break;
    }
    if (st == VT_OK)
        check_framework(fw);
    json_decref(doc);
    return 0;
}
