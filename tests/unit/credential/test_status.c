/* Bitstring Status List: the spec example, 1EdTech's testlist (index 23), encode/decode
 * round trips, random allocation, revocation and suspension through the lookup seam, and
 * the status list cache: hits, changes, bounds, concurrent checks. */
#include "credential/credential.h"
#include "test_support.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_EXAMPLE "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"

static void test_spec_example(void **state)
{
    (void)state;
    struct cred_status_list *l = NULL;
    struct vt_error err;
    assert_int_equal(cred_status_list_decode(SPEC_EXAMPLE, &l, &err), VT_OK);
    assert_int_equal(cred_status_list_size(l), 131072);
    for (size_t i = 0; i < 131072; i += 977)
        assert_false(cred_status_list_get(l, i));
    /* zlib at level 6 with an empty GZIP header gives the spec's bytes exactly. */
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    assert_int_equal(cred_status_list_encode(l, &b, &err), VT_OK);
    assert_string_equal((const char *)b.data, SPEC_EXAMPLE);
    vt_buf_release(&b);
    cred_status_list_free(l);
}

static void test_testlist_index_23(void **state)
{
    (void)state;
    char *path = vt_test_shared_path("vectors/bitstring-status-list/testlist");
    if (path == NULL)
        skip();
    json_t *doc = NULL;
    struct vt_error err;
    assert_int_equal(vt_json_read_file(path, CRED_DOC_MAX, 64, &doc, &err), VT_OK);
    const char *enc = vt_json_get_str(json_object_get(doc, "credentialSubject"), "encodedList");
    struct cred_status_list *l = NULL;
    assert_int_equal(cred_status_list_decode(enc, &l, &err), VT_OK);
    assert_int_equal(cred_status_list_size(l), 131072);
    for (size_t i = 0; i < 131072; i++)
        assert_int_equal(cred_status_list_get(l, i), i == 23);
    cred_status_list_free(l);
    json_decref(doc);
    free(path);
}

static void test_decode_rejects(void **state)
{
    (void)state;
    struct cred_status_list *l = NULL;
    struct vt_error err;
    assert_int_not_equal(cred_status_list_decode("zabc", &l, &err), VT_OK);
    assert_int_not_equal(cred_status_list_decode("uAAAA", &l, &err), VT_OK);
    assert_int_not_equal(cred_status_list_decode("", &l, &err), VT_OK);
    /* A valid GZIP of a list that is too short. */
    assert_int_not_equal(cred_status_list_decode("uH4sIAAAAAAAAA2NgAAAAWOoA8gEAAAA", &l, &err),
                         VT_OK);
    assert_null(l);
    /* Truncated GZIP. */
    assert_int_not_equal(
        cred_status_list_decode("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAA", &l, &err), VT_OK);
}

static void test_round_trip_and_allocate(void **state)
{
    (void)state;
    struct cred_status_list *l = NULL, *back = NULL;
    struct vt_error err;
    assert_int_equal(cred_status_list_new(131072, &l, &err), VT_OK);
    assert_int_not_equal(cred_status_list_new(1000, &back, &err), VT_OK);
    size_t seen[64];
    for (size_t i = 0; i < 64; i++) {
        assert_int_equal(cred_status_list_allocate(l, &seen[i], &err), VT_OK);
        for (size_t k = 0; k < i; k++)
            assert_true(seen[k] != seen[i]);
    }
    assert_int_equal(cred_status_list_set(l, seen[3], true, &err), VT_OK);
    assert_int_equal(cred_status_list_set(l, 0, true, &err), VT_OK);
    assert_int_equal(cred_status_list_set(l, 131071, true, &err), VT_OK);
    assert_int_not_equal(cred_status_list_set(l, 131072, true, &err), VT_OK);
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    assert_int_equal(cred_status_list_encode(l, &b, &err), VT_OK);
    assert_int_equal(cred_status_list_decode((const char *)b.data, &back, &err), VT_OK);
    for (size_t i = 0; i < 131072; i++)
        assert_int_equal(cred_status_list_get(back, i), cred_status_list_get(l, i));
    vt_buf_release(&b);
    cred_status_list_free(l);
    cred_status_list_free(back);
}

struct lists {
    json_t *list;
    const char *url;
};

static enum vt_status lookup(void *ctx, const char *url, json_t **out, struct vt_error *err)
{
    struct lists *l = ctx;
    if (strcmp(url, l->url) != 0)
        return vt_error_set(err, VT_ERR_NOT_FOUND, "no list '%s'", url);
    *out = json_incref(l->list);
    return VT_OK;
}

/* Issues a credential with a status entry, signs the list, and flips the bit. */
static void check_purpose(const char *purpose, enum cred_problem problem)
{
    struct vt_key vk;
    vt_key_generate(&vk);
    struct cred_key *key = cred_key_from_vt(&vk);
    char did[VT_DIDKEY_MAX];
    vt_didkey_from_public(vk.pk, did);
    const char *url = "https://issuer.example/status/1";
    struct cred_status_list *l = NULL;
    struct vt_error err;
    assert_int_equal(cred_status_list_new(131072, &l, &err), VT_OK);
    size_t index;
    assert_int_equal(cred_status_list_allocate(l, &index, &err), VT_OK);
    json_t *doc = json_pack("{s:[s],s:s,s:[s],s:s,s:{s:s},s:o}", "@context", CRED_CONTEXT_V2, "id",
                            "urn:uuid:1", "type", "VerifiableCredential", "issuer", did,
                            "credentialSubject", "id", "did:example:l", "credentialStatus",
                            cred_status_entry(url, index, purpose));
    json_t *sdoc = NULL;
    assert_int_equal(cred_sign_di(doc, key, NULL, &sdoc, &err), VT_OK);

    struct lists ctx = {NULL, url};
    struct cred_verify_options opt;
    cred_verify_options_init(&opt);
    opt.status_lookup = lookup;
    opt.status_lookup_ctx = &ctx;
    for (int flip = 0; flip < 3; flip++) {
        /* 0: clear, 1: set, 2: cleared again (only suspension may be). */
        assert_int_equal(cred_status_list_set(l, index, flip == 1, &err), VT_OK);
        json_t *lc = NULL;
        assert_int_equal(cred_status_list_credential(l, url, did, purpose, &lc, &err), VT_OK);
        json_decref(ctx.list);
        assert_int_equal(cred_sign_di(lc, key, NULL, &ctx.list, &err), VT_OK);
        json_decref(lc);
        struct cred_result *r = NULL;
        assert_int_equal(cred_verify_json(sdoc, &opt, &r, &err), VT_OK);
        assert_true(cred_result_has_check(r, "status"));
        if (flip == 1) {
            assert_false(cred_result_verified(r));
            assert_true(cred_result_has_error(r, problem));
        } else if (!cred_result_verified(r)) {
            fail_msg("%s", json_dumps(cred_result_to_json(r), 0));
        }
        cred_result_free(r);
    }
    /* A list whose signature fails cannot clear a credential. */
    json_object_set_new(json_object_get(ctx.list, "credentialSubject"), "id",
                        json_string("https://x.example/other"));
    struct cred_result *r = NULL;
    assert_int_equal(cred_verify_json(sdoc, &opt, &r, &err), VT_OK);
    assert_false(cred_result_verified(r));
    assert_true(cred_result_has_error(r, CRED_P_STATUS));
    cred_result_free(r);
    /* No list at that URL. */
    ctx.url = "https://elsewhere.example/";
    assert_int_equal(cred_verify_json(sdoc, &opt, &r, &err), VT_OK);
    assert_true(cred_result_has_error(r, CRED_P_STATUS));
    cred_result_free(r);

    json_decref(ctx.list);
    json_decref(doc);
    json_decref(sdoc);
    cred_status_list_free(l);
    cred_key_free(key);
    vt_key_release(&vk);
}

static void test_revocation(void **state)
{
    (void)state;
    check_purpose("revocation", CRED_P_STATUS_REVOKED);
}

static void test_suspension(void **state)
{
    (void)state;
    check_purpose("suspension", CRED_P_STATUS_SUSPENDED);
}

/* ---------------------------------------------------------------------------------------
 * The status list cache
 */

/* A fetch source over signed lists kept as text, like an issuer's published lists. */
struct source {
    pthread_mutex_t mu;
    struct vt_key vk;
    struct cred_key *key;
    char did[VT_DIDKEY_MAX];
    struct {
        const char *url;
        const char *purpose;
        struct cred_status_list *bits;
        char *text;
        uint8_t digest[VT_SHA256_LEN];
    } lists[3];
    size_t nlists;
    unsigned text_fetches; /* calls that asked for the bytes: cache misses */
};

static void source_sign(struct source *s, size_t i)
{
    json_t *lc = NULL, *signed_lc = NULL;
    struct vt_error err;
    assert_int_equal(cred_status_list_credential(s->lists[i].bits, s->lists[i].url, s->did,
                                                 s->lists[i].purpose, &lc, &err),
                     VT_OK);
    assert_int_equal(cred_sign_di(lc, s->key, NULL, &signed_lc, &err), VT_OK);
    char *text = json_dumps(signed_lc, JSON_COMPACT);
    pthread_mutex_lock(&s->mu);
    free(s->lists[i].text);
    s->lists[i].text = text;
    vt_sha256(text, strlen(text), s->lists[i].digest);
    pthread_mutex_unlock(&s->mu);
    json_decref(lc);
    json_decref(signed_lc);
}

static void source_init(struct source *s, size_t nlists)
{
    static const char *const urls[] = {"https://issuer.example/status/a",
                                       "https://issuer.example/status/b",
                                       "https://issuer.example/status/c"};
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    vt_key_generate(&s->vk);
    s->key = cred_key_from_vt(&s->vk);
    vt_didkey_from_public(s->vk.pk, s->did);
    s->nlists = nlists;
    for (size_t i = 0; i < nlists; i++) {
        s->lists[i].url = urls[i];
        s->lists[i].purpose = "suspension";
        assert_int_equal(cred_status_list_new(131072, &s->lists[i].bits, NULL), VT_OK);
        source_sign(s, i);
    }
}

static void source_release(struct source *s)
{
    for (size_t i = 0; i < s->nlists; i++) {
        cred_status_list_free(s->lists[i].bits);
        free(s->lists[i].text);
    }
    cred_key_free(s->key);
    vt_key_release(&s->vk);
    pthread_mutex_destroy(&s->mu);
}

/* Sets a bit and re-signs, as an issuer does on a status change. */
static void source_set(struct source *s, size_t i, size_t index, bool value)
{
    assert_int_equal(cred_status_list_set(s->lists[i].bits, index, value, NULL), VT_OK);
    source_sign(s, i);
}

static enum vt_status source_fetch(void *ctx, const char *url, uint8_t digest[VT_SHA256_LEN],
                                   struct vt_buf *text, struct vt_error *err)
{
    struct source *s = ctx;
    enum vt_status st = vt_error_set(err, VT_ERR_NOT_FOUND, "no list '%s'", url);
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nlists; i++) {
        if (strcmp(url, s->lists[i].url) != 0)
            continue;
        memcpy(digest, s->lists[i].digest, VT_SHA256_LEN);
        st = VT_OK;
        if (text != NULL) {
            s->text_fetches++;
            st = vt_buf_append_str(text, s->lists[i].text, err);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return st;
}

static enum vt_status source_lookup(void *ctx, const char *url, json_t **out, struct vt_error *err)
{
    struct vt_buf b;
    uint8_t digest[VT_SHA256_LEN];
    vt_buf_init(&b, CRED_DOC_MAX);
    enum vt_status st = source_fetch(ctx, url, digest, &b, err);
    if (st == VT_OK)
        st = vt_json_parse((const char *)b.data, b.len, CRED_DOC_MAX, 64, out, err);
    vt_buf_release(&b);
    return st;
}

/* A credential of the source's issuer with a suspension entry at index of list i. */
static json_t *source_credential(struct source *s, size_t i, size_t index)
{
    json_t *doc = json_pack("{s:[s],s:s,s:[s],s:s,s:{s:s},s:o}", "@context", CRED_CONTEXT_V2, "id",
                            "urn:uuid:2", "type", "VerifiableCredential", "issuer", s->did,
                            "credentialSubject", "id", "did:example:l", "credentialStatus",
                            cred_status_entry(s->lists[i].url, index, "suspension"));
    json_t *sdoc = NULL;
    assert_int_equal(cred_sign_di(doc, s->key, NULL, &sdoc, NULL), VT_OK);
    json_decref(doc);
    return sdoc;
}

static void options_for(struct cred_verify_options *opt, struct source *s,
                        struct cred_status_cache *cache)
{
    cred_verify_options_init(opt);
    opt->status_fetch = source_fetch;
    opt->status_fetch_ctx = s;
    opt->status_cache = cache;
}

/* 1: verified, 0: suspended, -1: anything else. Asserts nothing, so that other threads
 * may call it. */
static int state_of(const json_t *doc, const struct cred_verify_options *opt)
{
    struct cred_result *r = NULL;
    int state = -1;
    if (cred_verify_json(doc, opt, &r, NULL) == VT_OK && cred_result_has_check(r, "status")) {
        if (cred_result_verified(r))
            state = 1;
        else if (cred_result_has_error(r, CRED_P_STATUS_SUSPENDED) &&
                 cred_result_error_count(r) == 1)
            state = 0;
    }
    if (state < 0)
        fprintf(stderr, "unexpected result: %s\n", json_dumps(cred_result_to_json(r), 0));
    cred_result_free(r);
    return state;
}

/* state_of on the test's own thread, where anything else fails the test. */
static int verify_state(const json_t *doc, const struct cred_verify_options *opt)
{
    int state = state_of(doc, opt);
    assert_true(state >= 0);
    return state;
}

static void test_cache_hit(void **state)
{
    (void)state;
    struct source s;
    source_init(&s, 1);
    struct cred_status_cache *cache = cred_status_cache_new(16, 1 << 20);
    struct cred_verify_options opt;
    options_for(&opt, &s, cache);
    json_t *doc = source_credential(&s, 0, 7);
    for (int i = 0; i < 5; i++)
        assert_int_equal(verify_state(doc, &opt), 1);
    /* The list was read, verified and decoded once; four checks were bit lookups. */
    struct cred_status_cache_stats st;
    cred_status_cache_stats(cache, &st);
    assert_int_equal(s.text_fetches, 1);
    assert_int_equal(st.hits, 4);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.entries, 1);
    assert_true(st.bytes >= 131072 / 8);

    /* A lookup source is cached by the hash of the list's canonical form. */
    opt.status_fetch = NULL;
    opt.status_lookup = source_lookup;
    opt.status_lookup_ctx = &s;
    assert_int_equal(verify_state(doc, &opt), 1);
    assert_int_equal(verify_state(doc, &opt), 1);
    cred_status_cache_stats(cache, &st);
    assert_int_equal(st.hits, 5);

    /* Another trust store is another verdict: it is not answered from this entry. */
    struct cred_trust *trust = cred_trust_new();
    opt.trust = trust;
    assert_int_equal(verify_state(doc, &opt), 1);
    cred_status_cache_stats(cache, &st);
    assert_int_equal(st.hits, 5);
    cred_trust_free(trust);

    /* Without a cache every check reads the list. */
    options_for(&opt, &s, NULL);
    unsigned before = s.text_fetches;
    assert_int_equal(verify_state(doc, &opt), 1);
    assert_int_equal(verify_state(doc, &opt), 1);
    assert_int_equal(s.text_fetches, before + 2);

    json_decref(doc);
    cred_status_cache_free(cache);
    source_release(&s);
}

static void test_cache_follows_changes(void **state)
{
    (void)state;
    struct source s;
    source_init(&s, 1);
    struct cred_status_cache *cache = cred_status_cache_new(16, 1 << 20);
    struct cred_verify_options opt;
    options_for(&opt, &s, cache);
    json_t *doc = source_credential(&s, 0, 99);
    assert_int_equal(verify_state(doc, &opt), 1);
    assert_int_equal(verify_state(doc, &opt), 1);

    /* Suspend, lift, suspend: each re-signed list is seen by the very next check. */
    for (int round = 0; round < 3; round++) {
        bool suspended = round != 1;
        source_set(&s, 0, 99, suspended);
        assert_int_equal(verify_state(doc, &opt), suspended ? 0 : 1);
        assert_int_equal(verify_state(doc, &opt), suspended ? 0 : 1);
    }
    struct cred_status_cache_stats st;
    cred_status_cache_stats(cache, &st);
    assert_int_equal(st.stale, 3);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.hits, 4);

    /* A source that knows its list changed may drop the entry itself. */
    cred_status_cache_invalidate(cache, s.lists[0].url);
    cred_status_cache_invalidate(cache, "https://issuer.example/never-cached");
    cred_status_cache_stats(cache, &st);
    assert_int_equal(st.invalidations, 1);
    assert_int_equal(st.entries, 0);
    unsigned before = s.text_fetches;
    assert_int_equal(verify_state(doc, &opt), 0);
    assert_int_equal(s.text_fetches, before + 1);

    /* A list that does not verify is never cached, and never clears a credential. */
    source_set(&s, 0, 99, false);
    pthread_mutex_lock(&s.mu);
    char *p = strstr(s.lists[0].text, "BitstringStatusList\"");
    assert_non_null(p);
    p[0] = 'b'; /* the subject type changes under the signature */
    vt_sha256(s.lists[0].text, strlen(s.lists[0].text), s.lists[0].digest);
    pthread_mutex_unlock(&s.mu);
    struct cred_result *r = NULL;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(cred_verify_json(doc, &opt, &r, NULL), VT_OK);
        assert_false(cred_result_verified(r));
        assert_true(cred_result_has_error(r, CRED_P_STATUS));
        cred_result_free(r);
    }
    cred_status_cache_stats(cache, &st);
    assert_int_equal(st.entries, 0);

    json_decref(doc);
    cred_status_cache_free(cache);
    source_release(&s);
}

static void test_cache_bounds(void **state)
{
    (void)state;
    struct source s;
    source_init(&s, 3);
    struct cred_status_cache *cache = cred_status_cache_new(2, 1 << 20);
    struct cred_verify_options opt;
    options_for(&opt, &s, cache);
    json_t *docs[3];
    for (size_t i = 0; i < 3; i++)
        docs[i] = source_credential(&s, i, 5);

    /* Two entries at most: a, b, then c pushes out a, the least recently used. */
    assert_int_equal(verify_state(docs[0], &opt), 1);
    assert_int_equal(verify_state(docs[1], &opt), 1);
    assert_int_equal(verify_state(docs[0], &opt), 1); /* a is now newer than b */
    assert_int_equal(verify_state(docs[2], &opt), 1); /* evicts b */
    struct cred_status_cache_stats st;
    cred_status_cache_stats(cache, &st);
    assert_int_equal(st.entries, 2);
    assert_int_equal(st.evictions, 1);
    unsigned before = s.text_fetches;
    assert_int_equal(verify_state(docs[0], &opt), 1);
    assert_int_equal(s.text_fetches, before);
    assert_int_equal(verify_state(docs[1], &opt), 1);
    assert_int_equal(s.text_fetches, before + 1);

    /* Entries age out: a check after the time to live reads the list again. */
    int64_t now = vt_time_now_ms();
    opt.now_ms = now + CRED_STATUS_CACHE_TTL_MS + 60000;
    before = s.text_fetches;
    assert_int_equal(verify_state(docs[1], &opt), 1);
    assert_int_equal(s.text_fetches, before + 1);
    assert_int_equal(verify_state(docs[1], &opt), 1);
    assert_int_equal(s.text_fetches, before + 1);
    opt.now_ms = 0;
    cred_status_cache_free(cache);

    /* A byte bound smaller than one decoded list keeps nothing. */
    cache = cred_status_cache_new(16, 1024);
    opt.status_cache = cache;
    before = s.text_fetches;
    assert_int_equal(verify_state(docs[0], &opt), 1);
    assert_int_equal(verify_state(docs[0], &opt), 1);
    assert_int_equal(s.text_fetches, before + 2);
    cred_status_cache_stats(cache, &st);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.bytes, 0);
    cred_status_cache_free(cache);
    cred_status_cache_free(NULL);

    for (size_t i = 0; i < 3; i++)
        json_decref(docs[i]);
    source_release(&s);
}

struct conc {
    struct source *s;
    const struct cred_verify_options *opt;
    json_t *docs[3];
    int stop; /* __atomic */
    unsigned checks;
    unsigned failures;
};

static void *conc_verify(void *arg)
{
    struct conc *c = arg;
    /* Documents of its own: the shared part under test is the cache. */
    json_t *docs[3];
    for (size_t i = 0; i < 3; i++)
        docs[i] = json_deep_copy(c->docs[i]);
    unsigned n = 0, failures = 0;
    while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE) || n < 50) {
        if (state_of(docs[n % 3], c->opt) < 0)
            failures++;
        n++;
    }
    for (size_t i = 0; i < 3; i++)
        json_decref(docs[i]);
    __atomic_fetch_add(&c->checks, n, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->failures, failures, __ATOMIC_RELAXED);
    return NULL;
}

static void test_cache_concurrent(void **state)
{
    (void)state;
    struct source s;
    source_init(&s, 3);
    struct cred_status_cache *cache = cred_status_cache_new(2, 1 << 20);
    struct cred_verify_options opt;
    options_for(&opt, &s, cache);
    struct conc c = {.s = &s, .opt = &opt};
    for (size_t i = 0; i < 3; i++)
        c.docs[i] = source_credential(&s, i, 11);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, conc_verify, &c), 0);
    /* Meanwhile the lists change; after each change, a check started afterwards sees it
     * even while other threads keep the cache busy (and too small for all three lists). */
    for (int round = 0; round < 20; round++) {
        size_t i = (size_t)round % 3;
        bool suspended = (round / 3) % 2 == 0;
        source_set(&s, i, 11, suspended);
        assert_int_equal(verify_state(c.docs[i], &opt), suspended ? 0 : 1);
    }
    __atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(c.failures, 0);
    for (size_t i = 0; i < 3; i++) {
        source_set(&s, i, 11, false);
        assert_int_equal(verify_state(c.docs[i], &opt), 1);
    }
    struct cred_status_cache_stats st;
    cred_status_cache_stats(cache, &st);
    assert_true(st.entries <= 2);
    assert_true(st.hits + st.misses >= c.checks);
    for (size_t i = 0; i < 3; i++)
        json_decref(c.docs[i]);
    cred_status_cache_free(cache);
    source_release(&s);
}

int main(void)
{
    if (vt_core_init(NULL) != VT_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_example),   cmocka_unit_test(test_testlist_index_23),
        cmocka_unit_test(test_decode_rejects), cmocka_unit_test(test_round_trip_and_allocate),
        cmocka_unit_test(test_revocation),     cmocka_unit_test(test_suspension),
        cmocka_unit_test(test_cache_hit),      cmocka_unit_test(test_cache_follows_changes),
        cmocka_unit_test(test_cache_bounds),   cmocka_unit_test(test_cache_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
