/*
 * Timestamps, durations and the small string checks of documents and statements
 * (selector byte: enum fuzz_time_op): vt_time_parse (validFrom, validUntil, proof
 * created), twin_iso_duration_ms (xAPI result.duration as the twin reads it),
 * xapi_timestamp_parse (the LRS) and the xapi_is_* checks.
 *
 * Invariants: a parsed time formats to a time that parses to the same milliseconds (both
 * parsers); a duration is within its cap.
 */
#include <stdlib.h>
#include <string.h>

#include "api/xapi.h"
#include "fuzz.h"
#include "twin/twin.h"

static void rfc3339(const char *s, size_t n)
{
    int64_t ms = 0, back = 0;
    struct vt_error err;
    if (vt_time_parse(s, n, &ms, &err) != VT_OK)
        return;
    char text[VT_TIME_MAX];
    vt_time_format(ms, text);
    if (vt_time_parse(text, strlen(text), &back, &err) != VT_OK)
        fuzz_fail("'%s' (from %lld ms) does not parse: %s", text, (long long)ms, err.msg);
    if (back != ms)
        fuzz_fail("%lld ms formats as '%s', which parses to %lld", (long long)ms, text,
                  (long long)back);
}

static void xapi(const char *s)
{
    int64_t ms = 0, back = 0;
    if (xapi_timestamp_parse(s, &ms)) {
        char text[XAPI_TIME_MAX];
        xapi_timestamp_format(ms, text);
        if (!xapi_timestamp_parse(text, &back) || back != ms)
            fuzz_fail("xAPI time %lld ms formats as '%s', which does not parse back", (long long)ms,
                      text);
    }
    (void)xapi_is_iri(s);
    (void)xapi_is_mailto(s);
    (void)xapi_is_language_tag(s);
    (void)xapi_is_duration(s);
    (void)xapi_is_sha1_hex(s);
    (void)xapi_is_sha2_hex(s);
    (void)xapi_is_media_type(s);
    if (xapi_is_uuid(s)) {
        char lower[XAPI_UUID_LEN + 1];
        xapi_uuid_lower(s, lower);
        if (!xapi_is_uuid(lower))
            fuzz_fail("UUID '%s' lower-cases to '%s'", s, lower);
    }
    enum xapi_version v;
    (void)xapi_version_parse(s, &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    if (size < 1)
        return 0;
    char *s = fuzz_cstr(data + 1, size - 1);
    unsigned op = data[0] % FUZZ_TIME_COUNT;
    if (op == FUZZ_TIME_RFC3339) {
        rfc3339(s, size - 1);
    } else if (op == FUZZ_TIME_XAPI) {
        xapi(s);
    } else {
        uint32_t ms = 0;
        struct vt_error err;
        if (twin_iso_duration_ms(s, &ms, &err) == VT_OK && ms > TWIN_DURATION_MAX_MS)
            fuzz_fail("duration '%s' is %u ms, above the cap", s, ms);
    }
    free(s);
    return 0;
}
