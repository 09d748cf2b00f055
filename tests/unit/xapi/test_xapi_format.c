/*
 * Statement identity, storage form, comparison (Data §2.3.1) and the exact / ids /
 * canonical formats (Communication §2.1.3).
 */
#include "api/xapi.h"
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

static json_t *js(const char *s)
{
    char *t = strdup(s);
    for (char *q = t; *q; q++)
        if (*q == '\'')
            *q = '"';
    json_t *j = json_loads(t, 0, NULL);
    if (j == NULL)
        fail_msg("bad JSON: %s", t);
    free(t);
    return j;
}

static void test_agent_key(void **state)
{
    (void)state;
    char k[XAPI_AGENT_KEY_MAX];
    json_t *a = js("{'mbox':'mailto:Ann@Example.COM','name':'Ann'}");
    assert_int_equal(xapi_agent_key(a, k, NULL), VT_OK);
    assert_string_equal(k, "mbox:mailto:Ann@example.com");
    json_decref(a);
    a = js("{'mbox_sha1sum':'EBD31E95054C018B10727CCFFD2EF2EC3A016EE9'}");
    assert_int_equal(xapi_agent_key(a, k, NULL), VT_OK);
    assert_string_equal(k, "mbox_sha1sum:ebd31e95054c018b10727ccffd2ef2ec3a016ee9");
    json_decref(a);
    a = js("{'account':{'homePage':'http://x.org','name':'42'}}");
    assert_int_equal(xapi_agent_key(a, k, NULL), VT_OK);
    assert_string_equal(k, "account:http://x.org 42");
    json_decref(a);
    a = js("{'objectType':'Group','member':[{'openid':'http://b/'},{'mbox':'mailto:a@x'}]}");
    assert_int_equal(xapi_agent_key(a, k, NULL), VT_OK);
    assert_string_equal(k, "group:mbox:mailto:a@x|openid:http://b/");
    json_decref(a);
    a = js("{'name':'nobody'}");
    assert_int_equal(xapi_agent_key(a, k, NULL), VT_ERR_INVALID);
    json_decref(a);
}

static void test_normalize(void **state)
{
    (void)state;
    json_t *s = js("{'id':'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA','actor':{'mbox':'mailto:a@x'},"
                   "'verb':{'id':'http://x/v'},'object':{'id':'http://x/a'},'stored':'x',"
                   "'authority':{'mbox':'mailto:evil@x'},'context':{'contextActivities':{"
                   "'parent':{'id':'http://x/p'}}}}");
    json_t *auth = js("{'objectType':'Agent','mbox':'mailto:lrs@x'}");
    xapi_statement_normalize(s, "unused", INT64_C(1368855154804), auth, XAPI_V2_0);
    assert_string_equal(vt_json_get_str(s, "id"), "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa");
    assert_string_equal(vt_json_get_str(s, "stored"), "2013-05-18T05:32:34.804Z");
    assert_string_equal(vt_json_get_str(s, "timestamp"), "2013-05-18T05:32:34.804Z");
    assert_string_equal(vt_json_get_str(s, "version"), "2.0.0");
    assert_string_equal(vt_json_get_str(vt_json_get_obj(s, "authority"), "mbox"), "mailto:lrs@x");
    const json_t *parent = json_object_get(
        vt_json_get_obj(vt_json_get_obj(s, "context"), "contextActivities"), "parent");
    assert_true(json_is_array(parent));
    assert_int_equal(json_array_size(parent), 1);
    json_decref(s);
    s = js("{'actor':{'mbox':'mailto:a@x'},'verb':{'id':'http://x/v'},'object':{'id':'http://x/a'}"
           ",'version':'1.0.3','timestamp':'2013-01-01T00:00:00+01:00'}");
    xapi_statement_normalize(s, "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", 0, auth, XAPI_V1_0_3);
    assert_string_equal(vt_json_get_str(s, "id"), "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb");
    assert_string_equal(vt_json_get_str(s, "version"), "1.0.3");
    assert_string_equal(vt_json_get_str(s, "timestamp"), "2013-01-01T00:00:00+01:00");
    json_decref(s);
    json_decref(auth);
    char u[XAPI_UUID_LEN + 1];
    xapi_uuid_new(u);
    assert_true(xapi_is_uuid(u));
}

static void eq(const char *a, const char *b, bool expect)
{
    json_t *ja = js(a), *jb = js(b);
    if (xapi_statement_equivalent(ja, jb) != expect)
        fail_msg("expected %s:\n%s\n%s", expect ? "equivalent" : "different", a, b);
    json_decref(ja);
    json_decref(jb);
}

#define BASE "'actor':{'mbox':'mailto:a@x'},'verb':{'id':'http://x/v'},'object':{'id':'http://x/a'}"

static void test_equivalence(void **state)
{
    (void)state;
    eq("{" BASE "}", "{" BASE "}", true);
    eq("{" BASE ",'stored':'2013-01-01T00:00:00Z','authority':{'mbox':'mailto:l@x'},"
       "'version':'1.0.0'}",
       "{" BASE "}", true);
    eq("{'id':'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'," BASE "}",
       "{'id':'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA'," BASE "}", true);
    eq("{" BASE ",'timestamp':'2013-01-01T01:00:00+01:00'}",
       "{" BASE ",'timestamp':'2013-01-01T00:00:00.000Z'}", true);
    eq("{" BASE ",'timestamp':'2013-01-01T01:00:00Z'}",
       "{" BASE ",'timestamp':'2013-01-01T00:00:00Z'}", false);
    eq("{'actor':{'mbox':'mailto:a@X'},'verb':{'id':'http://x/v','display':{'en':'v'}},'object':{"
       "'objectType':'Activity','id':'http://x/a','definition':{'name':{'en':'A'}}}}",
       "{" BASE "}", true);
    eq("{'actor':{'mbox':'mailto:A@x'},'verb':{'id':'http://x/v'},'object':{'id':'http://x/a'}}",
       "{" BASE "}", false);
    eq("{'actor':{'objectType':'Group','member':[{'mbox':'mailto:a@x'},{'mbox':'mailto:b@x'}]},"
       "'verb':{'id':'http://x/v'},'object':{'id':'http://x/a'}}",
       "{'actor':{'objectType':'Group','member':[{'mbox':'mailto:b@x'},{'mbox':'mailto:a@x'}]},"
       "'verb':{'id':'http://x/v'},'object':{'id':'http://x/a'}}",
       true);
    eq("{" BASE ",'context':{'contextActivities':{'parent':{'id':'http://x/p'}}}}",
       "{" BASE ",'context':{'contextActivities':{'parent':[{'id':'http://x/p'}]}}}", true);
    eq("{" BASE ",'result':{'duration':'PT60S'}}", "{" BASE ",'result':{'duration':'PT1M'}}",
       false);
    eq("{" BASE ",'result':{'score':{'scaled':0.5}}}",
       "{" BASE ",'result':{'score':{'scaled':0.5}}}", true);
    eq("{" BASE ",'context':{'registration':'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA'}}",
       "{" BASE ",'context':{'registration':'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'}}", true);
    eq("{" BASE ",'context':{'extensions':{'http://x/e':'A'}}}",
       "{" BASE ",'context':{'extensions':{'http://x/e':'a'}}}", false);
}

static void test_formats(void **state)
{
    (void)state;
    json_t *s = js("{'id':'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa','actor':{'objectType':'Agent',"
                   "'name':'Ann','mbox':'mailto:a@x'},'verb':{'id':'http://x/v','display':{'en-"
                   "US':'did','fr':'fait'}},'object':{'objectType':'Activity','id':'http://x/a',"
                   "'definition':{'name':{'en':'A','de':'B'},'description':{'fr':'d'}}},"
                   "'authority':{'objectType':'Group','member':[{'name':'app','account':{"
                   "'homePage':'http://x','name':'k'}},{'name':'u','mbox':'mailto:u@x'}]}}");
    enum xapi_format f;
    assert_true(xapi_format_parse("ids", &f));
    assert_false(xapi_format_parse("IDS", &f));
    assert_false(xapi_format_parse("full", &f));
    json_t *ids = xapi_statement_format(s, XAPI_FORMAT_IDS, NULL, NULL);
    assert_null(json_object_get(vt_json_get_obj(ids, "actor"), "name"));
    assert_string_equal(vt_json_get_str(vt_json_get_obj(ids, "actor"), "mbox"), "mailto:a@x");
    assert_null(json_object_get(vt_json_get_obj(ids, "verb"), "display"));
    assert_null(json_object_get(vt_json_get_obj(ids, "object"), "definition"));
    const json_t *members = json_object_get(vt_json_get_obj(ids, "authority"), "member");
    assert_int_equal(json_array_size(members), 2);
    assert_null(json_object_get(json_array_get(members, 0), "name"));
    json_decref(ids);
    const char *langs[] = {"fr-CA", "en", NULL};
    json_t *canon = xapi_statement_format(s, XAPI_FORMAT_CANONICAL, NULL, langs);
    const json_t *disp = vt_json_get_obj(vt_json_get_obj(canon, "verb"), "display");
    assert_int_equal(json_object_size(disp), 1);
    assert_string_equal(vt_json_get_str(disp, "fr"), "fait");
    const json_t *name =
        vt_json_get_obj(vt_json_get_obj(vt_json_get_obj(canon, "object"), "definition"), "name");
    assert_int_equal(json_object_size(name), 1);
    assert_string_equal(vt_json_get_str(name, "en"), "A");
    assert_string_equal(vt_json_get_str(vt_json_get_obj(canon, "actor"), "name"), "Ann");
    json_decref(canon);
    json_t *exact = xapi_statement_format(s, XAPI_FORMAT_EXACT, NULL, NULL);
    assert_true(json_equal(exact, s));
    json_decref(exact);
    json_decref(s);
}

static json_t *canon_def(void *ctx, const char *id)
{
    (void)ctx;
    return strcmp(id, "http://x/a") == 0 ? json_pack("{s:{s:s}}", "name", "en", "Canonical") : NULL;
}

static void test_canonical_source(void **state)
{
    (void)state;
    json_t *s = js("{" BASE ",'context':{'contextActivities':{'parent':[{'id':'http://x/a'}]}}}");
    struct xapi_activity_source src = {canon_def, NULL};
    json_t *c = xapi_statement_format(s, XAPI_FORMAT_CANONICAL, &src, NULL);
    assert_string_equal(
        vt_json_get_str(
            vt_json_get_obj(vt_json_get_obj(vt_json_get_obj(c, "object"), "definition"), "name"),
            "en"),
        "Canonical");
    json_decref(c);
    json_decref(s);
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent_key),        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_equivalence),      cmocka_unit_test(test_formats),
        cmocka_unit_test(test_canonical_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
