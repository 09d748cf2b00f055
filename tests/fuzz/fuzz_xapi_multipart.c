/*
 * multipart/mixed statement requests: the Content-Type boundary
 * (xapi_multipart_boundary), the body split (xapi_multipart_parse) and the attachment
 * rules, signed statements included (xapi_multipart_statements). Input: the Content-Type
 * value up to the first '\n', then the body; when the type has no usable boundary the
 * body is split at "B0undary".
 *
 * Invariants: every part lies inside the body and carries the SHA-256 of its bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "api/xapi.h"
#include "fuzz.h"

#define CTYPE_MAX 255

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    const uint8_t *nl = memchr(data, '\n', size < CTYPE_MAX ? size : CTYPE_MAX);
    if (!nl)
        return 0;
    char *ctype = fuzz_cstr(data, (size_t)(nl - data));
    const uint8_t *body = nl + 1;
    size_t n = size - (size_t)(body - data);
    char boundary[XAPI_BOUNDARY_MAX + 1];
    struct vt_error err;
    if (xapi_multipart_boundary(ctype, boundary, &err) != VT_OK)
        strcpy(boundary, "B0undary");
    else if (strlen(boundary) == 0 || strlen(boundary) > XAPI_BOUNDARY_MAX)
        fuzz_fail("boundary of %zu bytes accepted", strlen(boundary));
    free(ctype);

    struct xapi_multipart *mp = vt_calloc(1, sizeof(*mp));
    if (xapi_multipart_parse(body, n, boundary, mp, &err) == VT_OK) {
        if (mp->n > XAPI_PARTS_MAX)
            fuzz_fail("%zu parts", mp->n);
        for (size_t i = 0; i < mp->n; i++) {
            const struct xapi_part *part = &mp->parts[i];
            uint8_t sha[VT_SHA256_LEN];
            if (part->len > 0 &&
                (part->body < body || part->len > n || part->body + part->len > body + n))
                fuzz_fail("part %zu lies outside the body", i);
            vt_sha256(part->body, part->len, sha);
            if (memcmp(sha, part->sha256, sizeof(sha)) != 0)
                fuzz_fail("part %zu carries another SHA-256", i);
        }
        json_t *stmts = NULL;
        struct xapi_problem p;
        if (xapi_multipart_statements(mp, VT_JSON_MAX_DEPTH, &stmts, &p) == VT_OK && !stmts)
            fuzz_fail("multipart statements accepted without statements");
        json_decref(stmts);
    }
    free(mp);
    return 0;
}
