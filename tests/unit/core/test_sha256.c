/* SHA-256: FIPS 180-2 examples, incremental and two-part hashing, per-thread contexts. */
#include "core/core.h"
#include "test_support.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void expect_digest(const void *p, size_t n, const char *hex)
{
    size_t len;
    uint8_t *want = vt_test_unhex(hex, &len);
    uint8_t got[VT_SHA256_LEN];
    vt_sha256(p, n, got);
    assert_int_equal(len, VT_SHA256_LEN);
    assert_memory_equal(got, want, VT_SHA256_LEN);
    free(want);
}

static void test_fips_examples(void **state)
{
    (void)state;
    expect_digest("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    expect_digest(two_blocks, strlen(two_blocks),
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_incremental_million_a(void **state)
{
    (void)state;
    struct vt_sha256 *h = vt_sha256_new();
    char chunk[1000];
    memset(chunk, 'a', sizeof(chunk));
    for (int i = 0; i < 1000; i++)
        vt_sha256_update(h, chunk, sizeof(chunk));
    uint8_t got[VT_SHA256_LEN];
    vt_sha256_final(h, got);
    size_t len;
    uint8_t *want =
        vt_test_unhex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", &len);
    assert_memory_equal(got, want, VT_SHA256_LEN);

    /* The context is reusable after reset. */
    vt_sha256_reset(h);
    vt_sha256_update(h, "ab", 2);
    vt_sha256_update(h, "c", 1);
    vt_sha256_final(h, got);
    uint8_t once[VT_SHA256_LEN];
    vt_sha256("abc", 3, once);
    assert_memory_equal(got, once, VT_SHA256_LEN);
    vt_sha256_free(h);
    vt_sha256_free(NULL);
    free(want);
}

/* vt_sha256_two equals vt_sha256 of the concatenation, at every split point. */
static void test_two_parts(void **state)
{
    (void)state;
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    size_t n = strlen(two_blocks);
    uint8_t want[VT_SHA256_LEN];
    vt_sha256(two_blocks, n, want);
    for (size_t cut = 0; cut <= n; cut++) {
        uint8_t got[VT_SHA256_LEN];
        vt_sha256_two(two_blocks, cut, two_blocks + cut, n - cut, got);
        assert_memory_equal(got, want, VT_SHA256_LEN);
    }
    uint8_t empty[VT_SHA256_LEN];
    vt_sha256_two("", 0, "", 0, empty);
    vt_sha256("", 0, want);
    assert_memory_equal(empty, want, VT_SHA256_LEN);
}

static void *hash_in_thread(void *arg)
{
    uint8_t *out = arg;
    for (int i = 0; i < 1000; i++)
        vt_sha256("abc", 3, out);
    return NULL;
}

static void test_threads_get_their_own_context(void **state)
{
    (void)state;
    pthread_t t[4];
    uint8_t out[4][VT_SHA256_LEN];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hash_in_thread, out[i]), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    uint8_t want[VT_SHA256_LEN];
    vt_sha256("abc", 3, want);
    for (int i = 0; i < 4; i++)
        assert_memory_equal(out[i], want, VT_SHA256_LEN);
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips_examples),
        cmocka_unit_test(test_incremental_million_a),
        cmocka_unit_test(test_two_parts),
        cmocka_unit_test(test_threads_get_their_own_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
