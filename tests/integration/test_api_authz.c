/* The role × method matrix, exercised over the wire for every method, and the table in
 * specs/api.md compared with the one the server enforces. */
#include "itest.h"

#include <string.h>

#include "api/api_int.h"
#include "test_support.h"

static struct itest_server srv;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(vt_core_init(NULL), VT_OK);
    itest_tempdir(srv.dir);
    itest_start(&srv, srv.dir, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(itest_stop(&srv, 15), 0);
    assert_int_equal(itest_check(srv.dir), 0);
    itest_rmrf(srv.dir);
    return 0;
}

static const char *const role_list[API_ROLE_COUNT] = {"admin",    "source",   "learner",
                                                      "verifier", "reviewer", "hr"};

static void test_matrix(void **state)
{
    (void)state;
    int admin = itest_ws_connect(srv.port, "/v1", "vitae.v1", srv.token, NULL);
    assert_true(admin >= 0);
    int fds[API_ROLE_COUNT + 1];
    char own[33] = "";
    for (unsigned r = 0; r < API_ROLE_COUNT; r++) {
        struct vt_key k;
        vt_key_generate(&k);
        char learner[33];
        itest_principal(admin, &k, role_list[r], learner);
        if (r == 2)
            memcpy(own, learner, sizeof(own));
        fds[r] = itest_connect_as(&srv, &k);
    }
    fds[API_ROLE_COUNT] = itest_ws_connect(srv.port, "/v1", "vitae.v1", NULL, NULL);
    const char *other = "00000000000000000000000000000001";
    unsigned checked = 0;
    for (size_t i = 0; i < api_method_count; i++) {
        const struct api_method *m = &api_methods[i];
        for (unsigned r = 0; r <= API_ROLE_COUNT; r++) {
            for (int self = 0; self < 2; self++) {
                if (self && !(r == 2 && (m->flags & API_M_LEARNER)))
                    continue;
                bool anonymous = r == API_ROLE_COUNT;
                bool allowed =
                    (m->flags & API_M_PUBLIC) || (!anonymous && (m->roles & (1u << r))) || self;
                json_t *resp =
                    itest_rpc(fds[r], m->name, json_pack("{s:s}", "learner", self ? own : other));
                int code = itest_rpc_code(resp);
                json_decref(resp);
                if (allowed)
                    assert_true(code != -32001 && code != -32002);
                else
                    assert_int_equal(code, anonymous ? -32001 : -32002);
                checked++;
            }
        }
    }
    assert_true(checked >= api_method_count * (API_ROLE_COUNT + 1));
    for (unsigned r = 0; r <= API_ROLE_COUNT; r++)
        itest_ws_close(fds[r]);
    itest_ws_close(admin);
}

static void test_spec_table(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/specs/api.md", vt_test_source_dir());
    size_t n;
    char *spec = vt_test_read_file(path, &n);
    assert_non_null(spec);
    struct vt_buf t;
    vt_buf_init(&t, 1 << 20);
    assert_int_equal(api_authz_markdown(&t, NULL), VT_OK);
    if (!strstr(spec, (const char *)t.data))
        fprintf(stderr, "specs/api.md §6 must contain exactly:\n%s", (const char *)t.data);
    assert_non_null(strstr(spec, (const char *)t.data));
    vt_buf_release(&t);
    free(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_spec_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
