/* Learning event payloads: canonical CBOR, strict JSON members, xAPI mapping. */
#include "twin/twin.h"
#include "twin_test.h"

#include <string.h>

static json_t *parse(const char *s)
{
    json_t *j = NULL;
    struct vt_error err;
    if (vt_json_parse(s, strlen(s), 1 << 20, 16, &j, &err) != VT_OK)
        fail_msg("bad test JSON: %s", err.msg);
    return j;
}

static enum vt_status from_json(enum twin_event_kind kind, const char *s, struct twin_event *ev,
                                struct vt_error *err)
{
    json_t *j = parse(s);
    enum vt_status st = twin_event_from_json(kind, j, ev, err);
    json_decref(j);
    return st;
}

/* encode → decode gives the same event and the same bytes. */
static void roundtrip(const struct twin_event *ev)
{
    struct vt_buf b, c;
    vt_buf_init(&b, 1 << 16);
    vt_buf_init(&c, 1 << 16);
    struct vt_error err;
    assert_int_equal(twin_event_encode(ev, &b, &err), VT_OK);
    struct twin_event back;
    if (twin_event_decode(twin_event_type(ev->kind), b.data, b.len, &back, &err) != VT_OK)
        fail_msg("decode: %s", err.msg);
    assert_int_equal(twin_event_encode(&back, &c, &err), VT_OK);
    assert_int_equal(b.len, c.len);
    assert_memory_equal(b.data, c.data, b.len);
    assert_int_equal(back.kind, ev->kind);
    vt_buf_release(&b);
    vt_buf_release(&c);
}

static void test_attempt(void **state)
{
    (void)state;
    struct twin_event ev;
    struct vt_error err;
    assert_int_equal(from_json(TWIN_EVENT_ATTEMPT,
                               "{\"item\":\"q1\",\"skills\":[\"s1\",\"s2\"],\"correct\":true,"
                               "\"duration\":4200,\"hints\":1,\"attempt\":2,\"course\":\"c\","
                               "\"at\":1700000000000}",
                               &ev, &err),
                     VT_OK);
    assert_string_equal(ev.item, "q1");
    assert_int_equal(ev.n_skills, 2);
    assert_string_equal(ev.skills[1], "s2");
    assert_true(ev.score_is_binary);
    assert_near(ev.score, 1.0, 0);
    assert_int_equal(ev.duration_ms, 4200);
    assert_int_equal(ev.hints, 1);
    assert_int_equal(ev.attempt_no, 2);
    assert_true(ev.has_at);
    assert_int_equal(ev.at_ms, 1700000000000LL);
    roundtrip(&ev);

    assert_int_equal(from_json(TWIN_EVENT_ATTEMPT, "{\"item\":\"q1\",\"score\":0.25}", &ev, &err),
                     VT_OK);
    assert_near(ev.score, 0.25, 0);
    assert_int_equal(ev.attempt_no, 1);
    roundtrip(&ev);
}

static void test_attempt_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"score\":0.5}",                                   /* neither item nor skills */
        "{\"item\":\"q\"}",                                  /* no outcome */
        "{\"item\":\"q\",\"correct\":true,\"score\":1}",     /* both outcomes */
        "{\"item\":\"q\",\"score\":1.5}",                    /* out of range */
        "{\"item\":\"q\",\"score\":0.5,\"hints\":-1}",       /* negative */
        "{\"item\":\"q\",\"score\":0.5,\"hints\":1.5}",      /* not an integer */
        "{\"item\":\"q\",\"score\":0.5,\"attempt\":0}",      /* attempts count from 1 */
        "{\"item\":\"q\",\"score\":0.5,\"colour\":\"red\"}", /* unknown member */
        "{\"item\":\"\",\"score\":0.5}",                     /* empty id */
        "{\"skills\":[\"a\",\"a\"],\"score\":0.5}",          /* duplicate skill */
        "{\"skills\":[],\"score\":0.5}",
        "{\"item\":\"q\",\"correct\":1}", /* not a boolean */
        "{\"item\":\"q\",\"score\":0.5,\"duration\":700000000}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct twin_event ev;
        struct vt_error err;
        if (from_json(TWIN_EVENT_ATTEMPT, bad[i], &ev, &err) != VT_ERR_INVALID)
            fail_msg("accepted %s", bad[i]);
        assert_non_null(strstr(err.msg, "invalid attempt"));
    }
}

static void test_other_kinds(void **state)
{
    (void)state;
    struct twin_event ev;
    struct vt_error err;
    assert_int_equal(from_json(TWIN_EVENT_PROGRESS,
                               "{\"module\":\"m1\",\"course\":\"c\",\"modality\":\"video\","
                               "\"seconds\":300,\"completion\":0.5}",
                               &ev, &err),
                     VT_OK);
    assert_int_equal(ev.modality, TWIN_MODALITY_VIDEO);
    roundtrip(&ev);
    assert_int_equal(
        from_json(TWIN_EVENT_PROGRESS, "{\"module\":\"m1\",\"modality\":\"smell\"}", &ev, &err),
        VT_ERR_INVALID);
    assert_int_equal(from_json(TWIN_EVENT_ASSESSMENT,
                               "{\"assessment\":\"a1\",\"score\":0.8,\"passed\":true,"
                               "\"skills\":[\"s1\"]}",
                               &ev, &err),
                     VT_OK);
    assert_true(ev.has_passed && ev.passed);
    roundtrip(&ev);
    assert_int_equal(
        from_json(TWIN_EVENT_ENROLLMENT, "{\"course\":\"c\",\"status\":\"withdrawn\"}", &ev, &err),
        VT_OK);
    assert_int_equal(ev.status, TWIN_WITHDRAWN);
    roundtrip(&ev);
    assert_int_equal(from_json(TWIN_EVENT_ROLE, "{\"role\":\"r\",\"assigned\":false}", &ev, &err),
                     VT_OK);
    assert_false(ev.assigned);
    roundtrip(&ev);
    assert_int_equal(from_json(TWIN_EVENT_ROLE, "{}", &ev, &err), VT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "missing member 'role'"));
    assert_int_equal(twin_event_kind_of("attempt"), TWIN_EVENT_ATTEMPT);
    assert_int_equal(twin_event_kind_of("credential.issued"), TWIN_EVENT_NONE);
}

static void test_noncanonical(void **state)
{
    (void)state;
    struct twin_event ev;
    struct vt_error err;
    /* {"item":"q","score":1} with score as an unsigned integer and nothing else: decodes as
     * JSON, but its canonical form writes a float and the default members. */
    static const uint8_t short_form[] = {0xa2, 0x64, 'i', 't', 'e', 'm', 0x61, 'q',
                                         0x65, 's',  'c', 'o', 'r', 'e', 0x01};
    assert_int_equal(twin_event_decode("attempt", short_form, sizeof(short_form), &ev, &err),
                     VT_ERR_NONCANONICAL);
    /* Not a map, trailing bytes, unknown type. */
    static const uint8_t arr[] = {0x80};
    assert_int_equal(twin_event_decode("attempt", arr, 1, &ev, &err), VT_ERR_INVALID);
    static const uint8_t trail[] = {0xa0, 0x00};
    assert_true(twin_event_decode("attempt", trail, 2, &ev, &err) != VT_OK);
    assert_int_equal(twin_event_decode("credential.issued", arr, 1, &ev, &err), VT_ERR_UNSUPPORTED);
}

static enum vt_status xapi(const char *s, struct twin_event *ev, struct vt_error *err)
{
    json_t *j = parse(s);
    enum vt_status st = twin_event_from_xapi(j, ev, err);
    json_decref(j);
    return st;
}

static void test_xapi(void **state)
{
    (void)state;
    struct twin_event ev;
    struct vt_error err;
    assert_int_equal(
        xapi(
            "{\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/answered\"},"
            "\"object\":{\"id\":\"https://lms.example/q/7\"},"
            "\"timestamp\":\"2024-03-01T10:00:00Z\","
            "\"context\":{\"extensions\":{\"urn:vitae:xapi:skills\":[\"fractions\"]},"
            "\"contextActivities\":{\"grouping\":[{\"id\":\"https://lms.example/c/1\"}]}},"
            "\"result\":{\"success\":false,\"score\":{\"scaled\":-0.5},\"duration\":\"PT1M2.5S\"}}",
            &ev, &err),
        VT_OK);
    assert_int_equal(ev.kind, TWIN_EVENT_ATTEMPT);
    assert_string_equal(ev.item, "https://lms.example/q/7");
    assert_string_equal(ev.skills[0], "fractions");
    assert_string_equal(ev.course, "https://lms.example/c/1");
    assert_near(ev.score, 0.0, 0); /* scaled wins over success; negatives count as 0 */
    assert_int_equal(ev.duration_ms, 62500);
    assert_true(ev.has_at);
    roundtrip(&ev);

    assert_int_equal(xapi("{\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/answered\"},"
                          "\"object\":{\"id\":\"q\"},\"result\":{\"success\":true}}",
                          &ev, &err),
                     VT_OK);
    assert_true(ev.score_is_binary);
    assert_near(ev.score, 1.0, 0);
    assert_int_equal(xapi("{\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/answered\"},"
                          "\"object\":{\"id\":\"q\"}}",
                          &ev, &err),
                     VT_ERR_INVALID);
    assert_int_equal(xapi("{\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/completed\"},"
                          "\"object\":{\"id\":\"mod\"},\"result\":{\"duration\":\"PT10M\"}}",
                          &ev, &err),
                     VT_OK);
    assert_int_equal(ev.kind, TWIN_EVENT_PROGRESS);
    assert_int_equal(ev.seconds, 600);
    assert_near(ev.completion, 1.0, 0);
    assert_int_equal(xapi("{\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/failed\"},"
                          "\"object\":{\"id\":\"exam\"},\"result\":{\"score\":{\"scaled\":0.4}}}",
                          &ev, &err),
                     VT_OK);
    assert_int_equal(ev.kind, TWIN_EVENT_ASSESSMENT);
    assert_false(ev.passed);
    assert_near(ev.score, 0.4, 1e-12);
    assert_int_equal(xapi("{\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/experienced\"},"
                          "\"object\":{\"id\":\"x\"}}",
                          &ev, &err),
                     VT_OK);
    assert_int_equal(ev.kind, TWIN_EVENT_NONE);

    /* The ledger form of a statement is its JSON text. */
    const char *text = "{\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/passed\"},"
                       "\"object\":{\"id\":\"exam\"}}";
    assert_int_equal(
        twin_event_decode("xapi.statement", (const uint8_t *)text, strlen(text), &ev, &err), VT_OK);
    assert_true(ev.passed);
    assert_near(ev.score, 1.0, 0);
}

static void test_duration(void **state)
{
    (void)state;
    uint32_t ms;
    assert_int_equal(twin_iso_duration_ms("PT0.5S", &ms, NULL), VT_OK);
    assert_int_equal(ms, 500);
    assert_int_equal(twin_iso_duration_ms("P1DT1H", &ms, NULL), VT_OK);
    assert_int_equal(ms, 90000000);
    assert_int_equal(twin_iso_duration_ms("P30D", &ms, NULL), VT_OK);
    assert_int_equal(ms, TWIN_DURATION_MAX_MS);
    static const char *const bad[] = {"", "P", "PT", "1S", "PT1.5M", "P1M", "PT1S2M", "PTS", "P1W"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (twin_iso_duration_ms(bad[i], &ms, NULL) != VT_ERR_INVALID)
            fail_msg("accepted duration '%s'", bad[i]);
    }
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attempt),     cmocka_unit_test(test_attempt_rejects),
        cmocka_unit_test(test_other_kinds), cmocka_unit_test(test_noncanonical),
        cmocka_unit_test(test_xapi),        cmocka_unit_test(test_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
