/* Competency frameworks: DAG checks, CSV / CASE / Marble imports, payload split. */
#include "twin/twin.h"
#include "twin_test.h"

#include <stdlib.h>
#include <string.h>

static struct twin_framework *small(void)
{
    struct twin_framework *fw;
    assert_int_equal(twin_framework_new("fw", "Small", &fw, NULL), VT_OK);
    assert_int_equal(twin_framework_add_skill(fw, "count", "Counting", 1, NULL, NULL), VT_OK);
    assert_int_equal(twin_framework_add_skill(fw, "add", "Addition", 3, NULL, NULL), VT_OK);
    assert_int_equal(twin_framework_add_skill(fw, "mul", "Multiplication", 3, NULL, NULL), VT_OK);
    assert_int_equal(twin_framework_add_edge(fw, "add", "count", true, NULL), VT_OK);
    assert_int_equal(twin_framework_add_edge(fw, "mul", "add", false, NULL), VT_OK);
    const char *sk[] = {"add", "mul"};
    assert_int_equal(twin_framework_add_item(fw, "q1", sk, 2, NULL), VT_OK);
    return fw;
}

static void test_checks(void **state)
{
    (void)state;
    struct vt_error err;
    struct twin_framework *fw = small();
    assert_int_equal(twin_framework_check(fw, &err), VT_OK);
    assert_int_equal(twin_framework_add_skill(fw, "add", "", 1, NULL, &err), VT_ERR_EXISTS);
    assert_int_equal(twin_framework_add_edge(fw, "add", "add", true, &err), VT_ERR_INVALID);
    assert_int_equal(twin_framework_add_skill(fw, "x", "", 0, NULL, &err), VT_ERR_INVALID);

    /* A cycle count → mul → add → count is refused, naming a skill on it. */
    assert_int_equal(twin_framework_add_edge(fw, "count", "mul", true, NULL), VT_OK);
    assert_int_equal(twin_framework_check(fw, &err), VT_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "prerequisite cycle"));
    twin_framework_free(fw);

    fw = small();
    assert_int_equal(twin_framework_add_edge(fw, "mul", "division", true, NULL), VT_OK);
    assert_int_equal(twin_framework_check(fw, &err), VT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "dangling edge: unknown skill 'division'"));
    twin_framework_free(fw);

    fw = small();
    assert_int_equal(twin_framework_add_skill(fw, "p", "", 1, "q", NULL), VT_OK);
    assert_int_equal(twin_framework_add_skill(fw, "q", "", 1, "p", NULL), VT_OK);
    assert_int_equal(twin_framework_check(fw, &err), VT_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "parent cycle"));
    twin_framework_free(fw);

    fw = small();
    const char *sk[] = {"nope"};
    assert_int_equal(twin_framework_add_item(fw, "q2", sk, 1, NULL), VT_OK);
    assert_int_equal(twin_framework_check(fw, &err), VT_ERR_NOT_FOUND);
    twin_framework_free(fw);
}

struct parts {
    struct vt_buf all[64];
    size_t n;
};

static enum vt_status collect(void *ctx, const uint8_t *p, size_t n, struct vt_error *err)
{
    struct parts *ps = ctx;
    if (ps->n == 64)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "too many parts");
    vt_buf_init(&ps->all[ps->n], 1 << 20);
    assert_int_equal(vt_buf_append(&ps->all[ps->n++], p, n, NULL), VT_OK);
    return VT_OK;
}

static void parts_free(struct parts *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        vt_buf_release(&ps->all[i]);
}

static void test_payloads(void **state)
{
    (void)state;
    struct twin_framework *fw = small();
    struct parts ps = {0};
    assert_int_equal(twin_framework_payloads(fw, 4096, collect, &ps, NULL), VT_OK);
    assert_int_equal(ps.n, 1);
    struct twin_framework *back;
    struct vt_error err;
    if (twin_framework_decode(ps.all[0].data, ps.all[0].len, &back, &err) != VT_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(twin_framework_skill_count(back), 3);
    assert_int_equal(twin_framework_edge_count(back), 2);
    assert_int_equal(twin_framework_item_count(back), 1);
    assert_int_equal(twin_framework_check(back, NULL), VT_OK);
    twin_framework_free(back);
    /* A flipped byte inside a name keeps it valid CBOR but changes the content; a truncated
     * payload is refused. */
    assert_true(twin_framework_decode(ps.all[0].data, ps.all[0].len - 1, &back, &err) != VT_OK);
    parts_free(&ps);
    twin_framework_free(fw);

    /* Many skills split over parts under the cap, in order. */
    assert_int_equal(twin_framework_new("big", NULL, &fw, NULL), VT_OK);
    char id[32], prev[32];
    for (int i = 0; i < 600; i++) {
        snprintf(id, sizeof(id), "skill-%04d", i);
        assert_int_equal(
            twin_framework_add_skill(fw, id, "A reasonably long skill name here", 1, NULL, NULL),
            VT_OK);
        if (i > 0)
            assert_int_equal(twin_framework_add_edge(fw, id, prev, true, NULL), VT_OK);
        memcpy(prev, id, sizeof(id));
    }
    memset(&ps, 0, sizeof(ps));
    assert_int_equal(twin_framework_payloads(fw, 8192, collect, &ps, NULL), VT_OK);
    assert_true(ps.n > 4);
    size_t skills = 0, edges = 0;
    for (size_t i = 0; i < ps.n; i++) {
        assert_true(ps.all[i].len <= 8192);
        assert_int_equal(twin_framework_decode(ps.all[i].data, ps.all[i].len, &back, &err), VT_OK);
        skills += twin_framework_skill_count(back);
        edges += twin_framework_edge_count(back);
        twin_framework_free(back);
    }
    assert_int_equal(skills, 600);
    assert_int_equal(edges, 599);
    parts_free(&ps);
    twin_framework_free(fw);
}

static void test_csv(void **state)
{
    (void)state;
    const char *csv = "id,name,levels,parent,prerequisites\n"
                      "arith,Arithmetic,1,,\n"
                      "count,Counting,1,arith,\n"
                      "add,\"Addition, whole numbers\",3,arith,count\n"
                      "mul,Multiplication,3,arith,add; count?\n";
    struct twin_framework *fw;
    struct vt_error err;
    if (twin_framework_from_csv(csv, strlen(csv), "csv-fw", "CSV", &fw, &err) != VT_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(twin_framework_skill_count(fw), 4);
    assert_int_equal(twin_framework_edge_count(fw), 3);
    twin_framework_free(fw);

    const char *cyc = "id,prerequisites\na,b\nb,a\n";
    assert_int_equal(twin_framework_from_csv(cyc, strlen(cyc), "x", NULL, &fw, &err),
                     VT_ERR_CONFLICT);
    const char *dangling = "id,prerequisites\na,zzz\n";
    assert_int_equal(twin_framework_from_csv(dangling, strlen(dangling), "x", NULL, &fw, &err),
                     VT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "zzz"));
    const char *nohead = "name\nfoo\n";
    assert_int_equal(twin_framework_from_csv(nohead, strlen(nohead), "x", NULL, &fw, &err),
                     VT_ERR_INVALID);
    const char *quote = "id\n\"open\n";
    assert_int_equal(twin_framework_from_csv(quote, strlen(quote), "x", NULL, &fw, &err),
                     VT_ERR_INVALID);
    const char *dup = "id\na\na\n";
    assert_int_equal(twin_framework_from_csv(dup, strlen(dup), "x", NULL, &fw, &err),
                     VT_ERR_EXISTS);
    assert_non_null(strstr(err.msg, "line 3"));
}

static const char case_pkg[] =
    "{\"CFDocument\":{\"identifier\":\"doc-1\",\"title\":\"Maths\"},"
    "\"CFItems\":["
    "{\"identifier\":\"i-num\",\"fullStatement\":\"Number sense\"},"
    "{\"identifier\":\"i-add\",\"fullStatement\":\"Add within 100\",\"abbreviatedStatement\":"
    "\"Add\"},"
    "{\"identifier\":\"i-sub\",\"fullStatement\":\"Subtract within 100\"}],"
    "\"CFAssociations\":["
    "{\"associationType\":\"isChildOf\",\"originNodeURI\":{\"identifier\":\"i-num\"},"
    "\"destinationNodeURI\":{\"identifier\":\"doc-1\"}},"
    "{\"associationType\":\"isChildOf\",\"originNodeURI\":{\"identifier\":\"i-add\"},"
    "\"destinationNodeURI\":{\"identifier\":\"i-num\"}},"
    "{\"associationType\":\"isChildOf\",\"originNodeURI\":{\"identifier\":\"i-sub\"},"
    "\"destinationNodeURI\":{\"identifier\":\"i-num\"}},"
    "{\"associationType\":\"precedes\",\"originNodeURI\":{\"identifier\":\"i-add\"},"
    "\"destinationNodeURI\":{\"identifier\":\"i-sub\"}},"
    "{\"associationType\":\"isRelatedTo\",\"originNodeURI\":{\"identifier\":\"i-add\"},"
    "\"destinationNodeURI\":{\"identifier\":\"elsewhere\"}}]}";

static void test_case(void **state)
{
    (void)state;
    json_t *doc;
    struct vt_error err;
    assert_int_equal(vt_json_parse(case_pkg, strlen(case_pkg), 1 << 20, 16, &doc, &err), VT_OK);
    struct twin_framework *fw;
    if (twin_framework_from_case(doc, &fw, &err) != VT_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(twin_framework_skill_count(fw), 3);
    assert_int_equal(twin_framework_edge_count(fw), 1);
    twin_framework_free(fw);
    json_decref(doc);

    /* precedes in both directions: a cycle. */
    const char *cyc = "{\"CFDocument\":{\"identifier\":\"d\"},\"CFItems\":["
                      "{\"identifier\":\"a\",\"fullStatement\":\"A\"},"
                      "{\"identifier\":\"b\",\"fullStatement\":\"B\"}],\"CFAssociations\":["
                      "{\"associationType\":\"precedes\",\"originNodeURI\":{\"identifier\":\"a\"},"
                      "\"destinationNodeURI\":{\"identifier\":\"b\"}},"
                      "{\"associationType\":\"precedes\",\"originNodeURI\":{\"identifier\":\"b\"},"
                      "\"destinationNodeURI\":{\"identifier\":\"a\"}}]}";
    assert_int_equal(vt_json_parse(cyc, strlen(cyc), 1 << 20, 16, &doc, &err), VT_OK);
    assert_int_equal(twin_framework_from_case(doc, &fw, &err), VT_ERR_CONFLICT);
    json_decref(doc);
    const char *dangling = "{\"CFDocument\":{\"identifier\":\"d\"},\"CFItems\":["
                           "{\"identifier\":\"a\",\"fullStatement\":\"A\"}],\"CFAssociations\":["
                           "{\"associationType\":\"precedes\",\"originNodeURI\":{\"identifier\":"
                           "\"ghost\"},\"destinationNodeURI\":{\"identifier\":\"a\"}}]}";
    assert_int_equal(vt_json_parse(dangling, strlen(dangling), 1 << 20, 16, &doc, &err), VT_OK);
    assert_int_equal(twin_framework_from_case(doc, &fw, &err), VT_ERR_NOT_FOUND);
    json_decref(doc);
}

static void test_marble(void **state)
{
    (void)state;
    char *tp = vt_test_shared_path("data/marble_prereq_graph/topics.json");
    char *dp = vt_test_shared_path("data/marble_prereq_graph/dependencies.json");
    if (tp == NULL || dp == NULL) {
        free(tp);
        free(dp);
        skip();
    }
    json_t *topics, *deps;
    struct vt_error err;
    assert_int_equal(vt_json_read_file(tp, 8 << 20, 32, &topics, &err), VT_OK);
    assert_int_equal(vt_json_read_file(dp, 8 << 20, 32, &deps, &err), VT_OK);
    struct twin_framework *fw;
    if (twin_framework_from_marble(topics, deps, NULL, &fw, &err) != VT_OK)
        fail_msg("%s", err.msg);
    /* The published counts (manifest.json): 1,590 topics, 3,221 edges. */
    assert_int_equal(twin_framework_skill_count(fw), 1590);
    assert_int_equal(twin_framework_edge_count(fw), 3221);
    struct parts ps = {0};
    assert_int_equal(twin_framework_payloads(fw, 48 << 10, collect, &ps, &err), VT_OK);
    assert_true(ps.n >= 2 && ps.n < 64);
    parts_free(&ps);
    twin_framework_free(fw);
    if (twin_framework_from_marble(topics, deps, "Mathematics", &fw, &err) != VT_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(twin_framework_skill_count(fw), 503);
    assert_int_equal(twin_framework_edge_count(fw), 985);
    twin_framework_free(fw);
    json_decref(topics);
    json_decref(deps);
    free(tp);
    free(dp);
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checks), cmocka_unit_test(test_payloads), cmocka_unit_test(test_csv),
        cmocka_unit_test(test_case),   cmocka_unit_test(test_marble),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
