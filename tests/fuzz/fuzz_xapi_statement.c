/*
 * xAPI statement validation (xapi_statement_validate), as the LRS routes run it on every
 * statement a client posts, then what the store does with a valid one: normalization,
 * the actor's identity, the three output formats, and equivalence. Byte 0 picks the
 * version (even: 1.0.3, odd: 2.0); the rest is the statement's JSON.
 *
 * Invariants for a valid statement x: its actor is a valid agent with an identity; and x
 * is equivalent to its stored form (normalized, written as JCS and read back), as
 * re-sending a statement must be accepted as the same one (xAPI Data §2.3.1).
 */
#include <string.h>

#include "api/xapi.h"
#include "fuzz.h"

static const char *const langs[] = {"en-US", "de", NULL};

static void check_valid(const json_t *stmt, enum xapi_version v)
{
    struct xapi_problem p;
    struct vt_error err;
    memset(&p, 0, sizeof(p));
    if (!xapi_statement_equivalent(stmt, stmt))
        fuzz_fail("a valid statement is not equivalent to itself");
    const json_t *actor = json_object_get(stmt, "actor");
    if (xapi_agent_validate(actor, v, &p) != VT_OK)
        fuzz_fail("the actor of a valid statement is not a valid agent: %s", p.msg);
    char key[XAPI_AGENT_KEY_MAX];
    if (xapi_agent_key(actor, key, &err) == VT_ERR_INVALID)
        fuzz_fail("the actor of a valid statement has no identity: %s", err.msg);

    json_t *stored = json_deep_copy(stmt);
    json_t *authority =
        json_pack("{s:s,s:s}", "objectType", "Agent", "mbox", "mailto:lrs@fuzz.example");
    xapi_statement_normalize(stored, "6f2f6a3e-3c3a-4b8e-9a51-0e9c3a6d2b11", FUZZ_NOW_MS, authority,
                             v);
    struct vt_buf text;
    vt_buf_init(&text, VT_BUF_DEFAULT_MAX);
    json_t *back = NULL;
    if (vt_jcs_write(stored, &text, &err) == VT_OK) {
        if (vt_json_parse((const char *)text.data, text.len, text.len, 1000, &back, &err) != VT_OK)
            fuzz_fail("a stored statement does not parse back: %s", err.msg);
        if (!xapi_statement_equivalent(back, stmt))
            fuzz_fail("a statement is not equivalent to its stored form");
    }
    for (int f = XAPI_FORMAT_EXACT; f <= XAPI_FORMAT_CANONICAL; f++)
        json_decref(xapi_statement_format(stored, (enum xapi_format)f, NULL, langs));
    json_decref(back);
    vt_buf_release(&text);
    json_decref(authority);
    json_decref(stored);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    if (size < 1)
        return 0;
    enum xapi_version v = data[0] & 1 ? XAPI_V2_0 : XAPI_V1_0_3;
    json_t *stmt = NULL;
    struct vt_error err;
    if (vt_json_parse((const char *)data + 1, size - 1, 1 << 20, VT_JSON_MAX_DEPTH, &stmt, &err) !=
        VT_OK)
        return 0;
    struct xapi_problem p;
    memset(&p, 0, sizeof(p));
    if (xapi_statement_validate(stmt, v, &p) == VT_OK)
        check_valid(stmt, v);
    else if (!p.rule[0])
        fuzz_fail("a refused statement names no rule");
    json_decref(stmt);
    return 0;
}
