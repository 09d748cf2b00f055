/* SIGTERM under load: vitaed drains, exits 0, and every acknowledged append is in the
 * ledger after a restart. */
#include "itest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "test_support.h"

#define CLIENTS 4

static struct itest_server srv;
static atomic_int acked_total;

struct client {
    pthread_t t;
    char learner[33];
    long last_seq; /* highest acknowledged seq, -1 for none */
    int errors;
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    int fd = itest_ws_connect(srv.port, "/v1", "vitae.v1", srv.token, NULL);
    c->last_seq = -1;
    if (fd < 0)
        return NULL;
    for (int i = 0; i < 100000; i++) {
        json_t *evs = json_array();
        for (int j = 0; j < 8; j++)
            json_array_append_new(evs, json_pack("{s:s,s:s,s:{s:i}}", "learner", c->learner, "type",
                                                 "attempt", "payload", "n", i * 8 + j));
        json_t *r = itest_rpc(fd, "ledger.append_batch", json_pack("{s:o}", "events", evs));
        int code = itest_rpc_code(r);
        if (code == 0) {
            json_t *res = json_object_get(itest_result(r), "results");
            for (size_t k = 0; k < json_array_size(res); k++) {
                json_t *seq = json_object_get(json_array_get(res, k), "seq");
                if (seq && (long)json_number_value(seq) > c->last_seq)
                    c->last_seq = (long)json_number_value(seq);
            }
            atomic_fetch_add(&acked_total, 8);
        } else if (code != -32007) {
            c->errors += code != -1;
        }
        json_decref(r);
        if (code != 0)
            break;
    }
    itest_ws_close(fd);
    return NULL;
}

static void test_drain(void **state)
{
    (void)state;
    assert_int_equal(vt_core_init(NULL), VT_OK);
    itest_tempdir(srv.dir);
    itest_start(&srv, srv.dir, NULL);
    struct client cl[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        snprintf(cl[i].learner, sizeof(cl[i].learner), "%032x", i + 1);
        cl[i].errors = 0;
        pthread_create(&cl[i].t, NULL, client_main, &cl[i]);
    }
    /* Stop once some appends are acknowledged, while the clients keep writing. */
    while (atomic_load(&acked_total) < 400) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(itest_stop(&srv, 15), 0);
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(cl[i].t, NULL);
        assert_int_equal(cl[i].errors, 0);
    }
    assert_int_equal(itest_check(srv.dir), 0);

    itest_start(&srv, srv.dir, NULL);
    int fd = itest_ws_connect(srv.port, "/v1", "vitae.v1", srv.token, NULL);
    for (int i = 0; i < CLIENTS; i++) {
        if (cl[i].last_seq < 0)
            continue;
        json_t *r = itest_rpc(fd, "ledger.head", json_pack("{s:s}", "learner", cl[i].learner));
        assert_int_equal(itest_rpc_code(r), 0);
        assert_true((long)json_number_value(json_object_get(itest_result(r), "seq")) >=
                    cl[i].last_seq);
        json_decref(r);
    }
    itest_ws_close(fd);
    assert_int_equal(itest_stop(&srv, 2), 0);
    itest_rmrf(srv.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_drain)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
