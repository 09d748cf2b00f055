/*
 * The statement store over a real ledger: storage form, conflicts, batches, voiding,
 * queries with paging, the actor map, and the document resources (specs/xapi.md §4, §6).
 */
#include "../ledger/ledger_fixture.h"
#include "api/xapi.h"

struct fx {
    char *dir;
    struct vt_key key;
    struct ledger *l;
    struct xapi_store *st;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_int_equal(vt_core_init(NULL), VT_OK);
    f->dir = fixture_tmpdir();
    fixture_key(&f->key, 7);
    char path[512];
    snprintf(path, sizeof(path), "%s/ledger", f->dir);
    f->l = fixture_open(path, &f->key, 0);
    snprintf(path, sizeof(path), "%s/xapi", f->dir);
    struct vt_error err;
    if (xapi_store_open(path, f->l, &f->st, &err) != VT_OK)
        fail_msg("%s", err.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    xapi_store_close(f->st);
    ledger_close(f->l);
    fixture_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static json_t *js(const char *s)
{
    char *t = strdup(s);
    for (char *q = t; *q; q++)
        if (*q == '\'')
            *q = '"';
    json_error_t je;
    json_t *j = json_loads(t, 0, &je);
    if (j == NULL)
        fail_msg("bad JSON %s: %s", je.text, t);
    free(t);
    return j;
}

static const char *auth_json = "{'objectType':'Agent','account':{'homePage':'http://lrs.example',"
                               "'name':'lms'}}";

static enum vt_status put1(struct fx *f, const char *text, char id[XAPI_UUID_LEN + 1],
                           size_t *existing, struct vt_error *err)
{
    json_t *s = js(text);
    struct xapi_problem p;
    if (xapi_statement_validate(s, XAPI_V1_0_3, &p) != VT_OK)
        fail_msg("test statement invalid: %s", p.msg);
    json_t *auth = js(auth_json);
    char ids[1][XAPI_UUID_LEN + 1];
    enum vt_status st = xapi_store_put(f->st, &s, 1, auth, XAPI_V1_0_3, ids, existing, err);
    if (id != NULL)
        memcpy(id, ids[0], sizeof(ids[0]));
    json_decref(auth);
    json_decref(s);
    return st;
}

#define S1                                                                                         \
    "{'id':'11111111-1111-4111-8111-111111111111','actor':{'mbox':'mailto:ann@x.org',"             \
    "'name':'Ann'},'verb':{'id':'http://adlnet.gov/expapi/verbs/answered'},"                       \
    "'object':{'id':'http://x.org/item/1','definition':{'name':{'en':'Item one'}}},"               \
    "'result':{'success':true}}"

static void test_put_get(void **state)
{
    struct fx *f = *state;
    struct vt_error err;
    char id[XAPI_UUID_LEN + 1];
    size_t existing = 9;
    assert_int_equal(put1(f, S1, id, &existing, &err), VT_OK);
    assert_int_equal(existing, 0);
    assert_string_equal(id, "11111111-1111-4111-8111-111111111111");
    json_t *got;
    assert_int_equal(
        xapi_store_get(f->st, "11111111-1111-4111-8111-111111111111", false, &got, &err), VT_OK);
    /* stored, timestamp, authority and version are set by the LRS */
    assert_non_null(vt_json_get_str(got, "stored"));
    assert_string_equal(vt_json_get_str(got, "timestamp"), vt_json_get_str(got, "stored"));
    assert_string_equal(vt_json_get_str(got, "version"), "1.0.0");
    assert_string_equal(vt_json_get_str(vt_json_get_obj(got, "authority"), "objectType"), "Agent");
    json_decref(got);
    /* upper-case lookups find it: UUIDs are case-insensitive */
    assert_int_equal(
        xapi_store_get(f->st, "11111111-1111-4111-8111-111111111111", true, &got, &err),
        VT_ERR_NOT_FOUND);
    /* an id is assigned when missing */
    assert_int_equal(put1(f,
                          "{'actor':{'mbox':'mailto:ann@x.org'},'verb':{'id':'http://x.org/v'},"
                          "'object':{'id':'http://x.org/a'},'stored':'2001-01-01T00:00:00Z'}",
                          id, NULL, &err),
                     VT_OK);
    assert_true(xapi_is_uuid(id));
    assert_int_equal(xapi_store_get(f->st, id, false, &got, &err), VT_OK);
    assert_string_not_equal(vt_json_get_str(got, "stored"), "2001-01-01T00:00:00Z");
    json_decref(got);
    /* the ledger holds each statement as an xapi.statement event of the actor's learner */
    assert_int_equal(ledger_size(f->l), 2);
    struct vt_buf leaf;
    vt_buf_init(&leaf, 4096);
    assert_int_equal(ledger_event_read(f->l, 0, &leaf, &err), VT_OK);
    struct ledger_event ev;
    uint8_t sig[64];
    assert_int_equal(ledger_leaf_open(leaf.data, leaf.len, &ev, sig, NULL, NULL, &err), VT_OK);
    assert_string_equal(ev.type, "xapi.statement");
    uint8_t learner[16];
    bool recorded;
    xapi_store_learner_of(f->st, "mbox:mailto:ann@x.org", learner, &recorded);
    assert_true(recorded);
    assert_memory_equal(ev.learner, learner, 16);
    vt_buf_release(&leaf);
    struct vt_buf pl;
    vt_buf_init(&pl, 1 << 16);
    assert_int_equal(ledger_payload_read(f->l, 0, &pl, &err), VT_OK);
    json_t *pj = json_loadb((const char *)pl.data, pl.len, 0, NULL);
    assert_string_equal(vt_json_get_str(pj, "id"), "11111111-1111-4111-8111-111111111111");
    json_decref(pj);
    vt_buf_release(&pl);
}

static void test_conflicts(void **state)
{
    struct fx *f = *state;
    struct vt_error err;
    size_t existing;
    assert_int_equal(put1(f, S1, NULL, &existing, &err), VT_OK);
    /* identical again (different key order, upper-case id, no display change): nothing new */
    assert_int_equal(put1(f,
                          "{'result':{'success':true},'id':'11111111-1111-4111-8111-"
                          "111111111111','actor':{'name':'Ann','mbox':'mailto:ann@X.ORG'},"
                          "'verb':{'id':'http://adlnet.gov/expapi/verbs/answered','display':{"
                          "'en':'answered'}},'object':{'id':'http://x.org/item/1'}}",
                          NULL, &existing, &err),
                     VT_OK);
    assert_int_equal(existing, 1);
    assert_int_equal(ledger_size(f->l), 1);
    /* different content under the same id: refused, nothing changes */
    assert_int_equal(put1(f,
                          "{'id':'11111111-1111-4111-8111-111111111111','actor':{'mbox':"
                          "'mailto:ann@x.org'},'verb':{'id':'http://adlnet.gov/expapi/verbs/"
                          "answered'},'object':{'id':'http://x.org/item/1'},'result':{'success':"
                          "false}}",
                          NULL, &existing, &err),
                     VT_ERR_CONFLICT);
    assert_int_equal(ledger_size(f->l), 1);
    json_t *got;
    assert_int_equal(
        xapi_store_get(f->st, "11111111-1111-4111-8111-111111111111", false, &got, &err), VT_OK);
    assert_true(json_is_true(json_object_get(vt_json_get_obj(got, "result"), "success")));
    json_decref(got);
}

static void test_batches(void **state)
{
    struct fx *f = *state;
    struct vt_error err;
    json_t *auth = js(auth_json);
    json_t *b[2] = {js("{'id':'22222222-2222-4222-8222-222222222222','actor':{'mbox':'mailto:b@x."
                       "org'},'verb':{'id':'http://x.org/v'},'object':{'id':'http://x.org/a'}}"),
                    js("{'id':'22222222-2222-4222-8222-222222222222','actor':{'mbox':'mailto:b@x."
                       "org'},'verb':{'id':'http://x.org/v'},'object':{'id':'http://x.org/a'}}")};
    assert_int_equal(xapi_store_put(f->st, b, 2, auth, XAPI_V1_0_3, NULL, NULL, &err),
                     VT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "batch.duplicate-id"));
    assert_int_equal(ledger_size(f->l), 0);
    json_decref(b[0]);
    json_decref(b[1]);
    /* one conflicting statement refuses the whole batch */
    assert_int_equal(put1(f, S1, NULL, NULL, &err), VT_OK);
    b[0] = js("{'id':'33333333-3333-4333-8333-333333333333','actor':{'mbox':'mailto:b@x.org'},"
              "'verb':{'id':'http://x.org/v'},'object':{'id':'http://x.org/a'}}");
    b[1] = js("{'id':'11111111-1111-4111-8111-111111111111','actor':{'mbox':'mailto:b@x.org'},"
              "'verb':{'id':'http://x.org/v'},'object':{'id':'http://x.org/a'}}");
    assert_int_equal(xapi_store_put(f->st, b, 2, auth, XAPI_V1_0_3, NULL, NULL, &err),
                     VT_ERR_CONFLICT);
    json_t *got = NULL;
    assert_int_equal(
        xapi_store_get(f->st, "33333333-3333-4333-8333-333333333333", false, &got, &err),
        VT_ERR_NOT_FOUND);
    assert_int_equal(ledger_size(f->l), 1);
    json_decref(b[0]);
    json_decref(b[1]);
    /* too many */
    assert_int_equal(
        xapi_store_put(f->st, b, XAPI_BATCH_MAX + 1, auth, XAPI_V1_0_3, NULL, NULL, &err),
        VT_ERR_TOO_LARGE);
    json_decref(auth);
}

#define VOID_OF(vid, target)                                                                       \
    "{'id':'" vid "','actor':{'mbox':'mailto:admin@x.org'},'verb':{'id':'http://adlnet.gov/"       \
    "expapi/verbs/voided'},'object':{'objectType':'StatementRef','id':'" target "'}}"

static void test_voiding(void **state)
{
    struct fx *f = *state;
    struct vt_error err;
    json_t *got;
    assert_int_equal(put1(f, S1, NULL, NULL, &err), VT_OK);
    assert_int_equal(put1(f,
                          VOID_OF("44444444-4444-4444-8444-444444444444",
                                  "11111111-1111-4111-8111-111111111111"),
                          NULL, NULL, &err),
                     VT_OK);
    assert_int_equal(
        xapi_store_get(f->st, "11111111-1111-4111-8111-111111111111", false, &got, &err),
        VT_ERR_NOT_FOUND);
    assert_int_equal(
        xapi_store_get(f->st, "11111111-1111-4111-8111-111111111111", true, &got, &err), VT_OK);
    json_decref(got);
    /* voiding a voiding statement has no effect */
    assert_int_equal(put1(f,
                          VOID_OF("55555555-5555-4555-8555-555555555555",
                                  "44444444-4444-4444-8444-444444444444"),
                          NULL, NULL, &err),
                     VT_OK);
    assert_int_equal(
        xapi_store_get(f->st, "44444444-4444-4444-8444-444444444444", false, &got, &err), VT_OK);
    json_decref(got);
    /* the target need not exist yet; it is voided when it arrives */
    assert_int_equal(put1(f,
                          VOID_OF("66666666-6666-4666-8666-666666666666",
                                  "77777777-7777-4777-8777-777777777777"),
                          NULL, NULL, &err),
                     VT_OK);
    assert_int_equal(put1(f,
                          "{'id':'77777777-7777-4777-8777-777777777777','actor':{'mbox':"
                          "'mailto:c@x.org'},'verb':{'id':'http://x.org/v'},'object':{'id':"
                          "'http://x.org/a'}}",
                          NULL, NULL, &err),
                     VT_OK);
    assert_int_equal(
        xapi_store_get(f->st, "77777777-7777-4777-8777-777777777777", false, &got, &err),
        VT_ERR_NOT_FOUND);
    /* queries leave voided statements out */
    struct xapi_query q = {.verb = "http://adlnet.gov/expapi/verbs/answered"};
    json_t *arr;
    char more[XAPI_MORE_MAX];
    assert_int_equal(xapi_store_query(f->st, &q, &arr, more, &err), VT_OK);
    assert_int_equal(json_array_size(arr), 0);
    json_decref(arr);
}

static void add_n(struct fx *f, int n)
{
    struct vt_error err;
    for (int i = 0; i < n; i++) {
        char text[1024];
        snprintf(text, sizeof(text),
                 "{'id':'%08x-0000-4000-8000-000000000000','actor':{'mbox':'mailto:%s@x.org'},"
                 "'verb':{'id':'http://x.org/verb/%d'},'object':{'id':'http://x.org/act/%d'},"
                 "'context':{'registration':'%s','instructor':{'mbox':'mailto:teach@x.org'},"
                 "'contextActivities':{'parent':{'id':'http://x.org/course/%d'}}}}",
                 i + 1, i % 2 ? "odd" : "even", i % 3, i % 4,
                 i % 5 == 0 ? "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
                            : "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb",
                 i % 2);
        assert_int_equal(put1(f, text, NULL, NULL, &err), VT_OK);
    }
}

static size_t count_query(struct fx *f, struct xapi_query *q, size_t *pages, bool check_order)
{
    struct vt_error err;
    json_t *arr;
    char more[XAPI_MORE_MAX];
    assert_int_equal(xapi_store_query(f->st, q, &arr, more, &err), VT_OK);
    size_t total = 0;
    *pages = 0;
    char last[XAPI_TIME_MAX + XAPI_UUID_LEN + 2] = "";
    for (;;) {
        (*pages)++;
        for (size_t i = 0; i < json_array_size(arr); i++) {
            const json_t *s = json_array_get(arr, i);
            char cur[sizeof(last)];
            snprintf(cur, sizeof(cur), "%s", vt_json_get_str(s, "stored"));
            if (check_order && last[0] != '\0')
                assert_true(q->ascending ? strcmp(last, cur) <= 0 : strcmp(last, cur) >= 0);
            snprintf(last, sizeof(last), "%s", cur);
        }
        total += json_array_size(arr);
        json_decref(arr);
        if (more[0] == '\0')
            break;
        char tok[XAPI_MORE_MAX];
        memcpy(tok, more, sizeof(tok));
        assert_int_equal(xapi_store_query_more(f->st, tok, &arr, more, &err), VT_OK);
    }
    return total;
}

static void test_queries(void **state)
{
    struct fx *f = *state;
    add_n(f, 60);
    size_t pages;
    struct xapi_query q = {0};
    assert_int_equal(count_query(f, &q, &pages, true), 60);
    assert_int_equal(pages, 1);
    q.limit = 7;
    assert_int_equal(count_query(f, &q, &pages, true), 60);
    assert_int_equal(pages, 9);
    q.ascending = true;
    assert_int_equal(count_query(f, &q, &pages, true), 60);
    q = (struct xapi_query){.agent_key = "mbox:mailto:odd@x.org", .limit = 4};
    assert_int_equal(count_query(f, &q, &pages, true), 30);
    q = (struct xapi_query){.verb = "http://x.org/verb/0"};
    assert_int_equal(count_query(f, &q, &pages, false), 20);
    q = (struct xapi_query){.activity = "http://x.org/act/1"};
    assert_int_equal(count_query(f, &q, &pages, false), 15);
    q = (struct xapi_query){.activity = "http://x.org/course/1"};
    assert_int_equal(count_query(f, &q, &pages, false), 0);
    q.related_activities = true;
    assert_int_equal(count_query(f, &q, &pages, false), 30);
    q = (struct xapi_query){.agent_key = "mbox:mailto:teach@x.org"};
    assert_int_equal(count_query(f, &q, &pages, false), 0);
    q.related_agents = true;
    assert_int_equal(count_query(f, &q, &pages, false), 60);
    q = (struct xapi_query){.registration = "AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA"};
    assert_int_equal(count_query(f, &q, &pages, false), 12);
    q = (struct xapi_query){
        .verb = "http://x.org/verb/0", .agent_key = "mbox:mailto:even@x.org", .limit = 3};
    assert_int_equal(count_query(f, &q, &pages, false), 10);
    /* since is exclusive, until inclusive */
    json_t *all;
    char more[XAPI_MORE_MAX];
    struct vt_error err;
    q = (struct xapi_query){.ascending = true};
    assert_int_equal(xapi_store_query(f->st, &q, &all, more, &err), VT_OK);
    int64_t first, last;
    assert_true(xapi_timestamp_parse(vt_json_get_str(json_array_get(all, 0), "stored"), &first));
    assert_true(xapi_timestamp_parse(vt_json_get_str(json_array_get(all, 59), "stored"), &last));
    json_decref(all);
    q = (struct xapi_query){.has_since = true, .since_ms = last};
    assert_int_equal(count_query(f, &q, &pages, false), 0);
    q = (struct xapi_query){.has_until = true, .until_ms = last};
    assert_int_equal(count_query(f, &q, &pages, false), 60);
    q = (struct xapi_query){.has_until = true, .until_ms = first - 1};
    assert_int_equal(count_query(f, &q, &pages, false), 0);
    q = (struct xapi_query){.has_since = true, .since_ms = first - 1, .ascending = true};
    assert_int_equal(count_query(f, &q, &pages, false), 60);
    /* a malformed continuation */
    assert_int_equal(xapi_store_query_more(f->st, "garbage!", &all, more, &err), VT_ERR_INVALID);
}

static void test_statement_ref_found(void **state)
{
    struct fx *f = *state;
    struct vt_error err;
    assert_int_equal(put1(f, S1, NULL, NULL, &err), VT_OK);
    /* a comment on S1 by someone else is found by S1's agent and activity */
    assert_int_equal(put1(f,
                          "{'id':'88888888-8888-4888-8888-888888888888','actor':{'mbox':"
                          "'mailto:t@x.org'},'verb':{'id':'http://x.org/commented'},'object':{"
                          "'objectType':'StatementRef','id':'11111111-1111-4111-8111-"
                          "111111111111'}}",
                          NULL, NULL, &err),
                     VT_OK);
    size_t pages;
    struct xapi_query q = {.activity = "http://x.org/item/1"};
    assert_int_equal(count_query(f, &q, &pages, false), 2);
    q = (struct xapi_query){.agent_key = "mbox:mailto:ann@x.org"};
    assert_int_equal(count_query(f, &q, &pages, false), 2);
    /* canonical definition and Person object */
    json_t *def = xapi_store_activity(f->st, "http://x.org/item/1");
    assert_non_null(def);
    assert_string_equal(vt_json_get_str(vt_json_get_obj(def, "name"), "en"), "Item one");
    json_decref(def);
    json_t *agent = js("{'mbox':'mailto:ann@x.org'}");
    json_t *person = xapi_store_person(f->st, agent);
    assert_string_equal(vt_json_get_str(person, "objectType"), "Person");
    assert_string_equal(json_string_value(json_array_get(json_object_get(person, "name"), 0)),
                        "Ann");
    json_decref(person);
    json_decref(agent);
}

static void test_actor_map(void **state)
{
    struct fx *f = *state;
    struct vt_error err;
    uint8_t learner[16], got[16];
    memset(learner, 0x42, 16);
    assert_int_equal(xapi_store_map_actor(f->st, "mbox:mailto:ann@x.org", learner, &err), VT_OK);
    assert_int_equal(put1(f, S1, NULL, NULL, &err), VT_OK);
    bool recorded;
    xapi_store_learner_of(f->st, "mbox:mailto:ann@x.org", got, &recorded);
    assert_true(recorded);
    assert_memory_equal(got, learner, 16);
    uint64_t seq;
    assert_int_equal(ledger_head(f->l, learner, &seq, NULL, NULL, &err), VT_OK);
    /* remapping an actor with statements would split its history */
    uint8_t other[16];
    memset(other, 0x43, 16);
    assert_int_equal(xapi_store_map_actor(f->st, "mbox:mailto:ann@x.org", other, &err),
                     VT_ERR_CONFLICT);
    assert_int_equal(xapi_store_map_actor(f->st, "mbox:mailto:ann@x.org", learner, &err), VT_OK);
}

static void test_reopen(void **state)
{
    struct fx *f = *state;
    add_n(f, 5);
    xapi_store_close(f->st);
    char path[512];
    snprintf(path, sizeof(path), "%s/xapi", f->dir);
    struct vt_error err;
    assert_int_equal(xapi_store_open(path, f->l, &f->st, &err), VT_OK);
    size_t pages;
    struct xapi_query q = {0};
    assert_int_equal(count_query(f, &q, &pages, true), 5);
    add_n(f, 0);
    assert_int_equal(put1(f, S1, NULL, NULL, &err), VT_OK);
    assert_int_equal(count_query(f, &q, &pages, true), 6);
}

static void test_documents(void **state)
{
    struct fx *f = *state;
    struct vt_error err;
    struct xapi_doc_ref r = {.kind = XAPI_DOC_STATE,
                             .activity_id = "http://x.org/act",
                             .agent_key = "mbox:mailto:ann@x.org",
                             .doc_id = "bookmark"};
    char etag[XAPI_ETAG_MAX];
    const char *body = "{\"page\":1}";
    assert_int_equal(xapi_doc_put(f->st, &r, (const uint8_t *)body, strlen(body),
                                  "application/json", false, NULL, false, etag, &err),
                     VT_OK);
    struct xapi_doc d;
    xapi_doc_init(&d);
    assert_int_equal(xapi_doc_get(f->st, &r, &d, &err), VT_OK);
    assert_string_equal(d.etag, etag);
    /* SHA-1 of {"page":1} */
    assert_string_equal(etag, "\"219e426073c3a5ba0ef51b628c63cce6eb05669f\"");
    assert_int_equal(d.content.len, strlen(body));
    xapi_doc_release(&d);
    /* POST merges one level deep */
    const char *more = "{\"score\":3,\"page\":2}";
    assert_int_equal(xapi_doc_put(f->st, &r, (const uint8_t *)more, strlen(more),
                                  "application/json", true, NULL, false, etag, &err),
                     VT_OK);
    xapi_doc_init(&d);
    assert_int_equal(xapi_doc_get(f->st, &r, &d, &err), VT_OK);
    json_t *j = json_loadb((const char *)d.content.data, d.content.len, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "page")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "score")), 3);
    json_decref(j);
    xapi_doc_release(&d);
    /* merging into or with a non-JSON document is refused */
    assert_int_equal(xapi_doc_put(f->st, &r, (const uint8_t *)"abc", 3, "text/plain", true, NULL,
                                  false, NULL, &err),
                     VT_ERR_INVALID);
    /* preconditions */
    struct xapi_precond pc = {.if_match = "\"0000\""};
    assert_int_equal(xapi_doc_put(f->st, &r, (const uint8_t *)"{}", 2, "application/json", false,
                                  &pc, false, NULL, &err),
                     VT_ERR_CONFLICT);
    assert_true(xapi_error_is_precondition(&err));
    pc = (struct xapi_precond){.if_none_match = "*"};
    assert_int_equal(xapi_doc_put(f->st, &r, (const uint8_t *)"{}", 2, "application/json", false,
                                  &pc, false, NULL, &err),
                     VT_ERR_CONFLICT);
    pc = (struct xapi_precond){.if_match = etag};
    assert_int_equal(xapi_doc_put(f->st, &r, (const uint8_t *)"{}", 2, "application/json", false,
                                  &pc, true, NULL, &err),
                     VT_OK);
    /* profiles: PUT over an existing document without a precondition is 409 */
    assert_int_equal(xapi_doc_put(f->st, &r, (const uint8_t *)"{}", 2, "application/json", false,
                                  NULL, true, NULL, &err),
                     VT_ERR_EXISTS);
    /* list and delete */
    struct xapi_doc_ref r2 = r;
    r2.doc_id = "other";
    assert_int_equal(xapi_doc_put(f->st, &r2, (const uint8_t *)"x", 1, "text/plain", false, NULL,
                                  false, NULL, &err),
                     VT_OK);
    json_t *ids;
    assert_int_equal(xapi_doc_ids(f->st, &r, false, 0, &ids, &err), VT_OK);
    assert_int_equal(json_array_size(ids), 2);
    json_decref(ids);
    assert_int_equal(xapi_doc_ids(f->st, &r, true, vt_time_now_ms() + 1000, &ids, &err), VT_OK);
    assert_int_equal(json_array_size(ids), 0);
    json_decref(ids);
    pc = (struct xapi_precond){.if_match = "\"nope\""};
    assert_int_equal(xapi_doc_delete(f->st, &r2, &pc, &err), VT_ERR_CONFLICT);
    assert_int_equal(xapi_doc_delete(f->st, &r2, NULL, &err), VT_OK);
    xapi_doc_init(&d);
    assert_int_equal(xapi_doc_get(f->st, &r2, &d, &err), VT_ERR_NOT_FOUND);
    struct xapi_doc_ref all = r;
    all.doc_id = NULL;
    assert_int_equal(xapi_doc_delete(f->st, &all, NULL, &err), VT_OK);
    assert_int_equal(xapi_doc_get(f->st, &r, &d, &err), VT_ERR_NOT_FOUND);
    xapi_doc_release(&d);
    /* documents of another registration are apart */
    struct xapi_doc_ref reg = r;
    reg.registration = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
    assert_int_equal(xapi_doc_put(f->st, &reg, (const uint8_t *)"1", 1, "text/plain", false, NULL,
                                  false, NULL, &err),
                     VT_OK);
    assert_int_equal(xapi_doc_ids(f->st, &r, false, 0, &ids, &err), VT_OK);
    assert_int_equal(json_array_size(ids), 0);
    json_decref(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_voiding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement_ref_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_actor_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_documents, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
