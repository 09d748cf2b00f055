/* Multikey key files: the W3C key pair, member rules, and atomic owner-only writing. */
#include "core/core.h"
#include "test_support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The W3C vc-di-eddsa key pair (TestVectors/keyPair.json). */
static const char vector_seed[] =
    "c96ef9ea10c5e414c471723aff9de72c35fa5b70fae97e8832ecac7d2e2b8ed6";
static const char vector_pk[] = "b00d8d938e7f773d51565aad36a623f5344f7f5d1960f9cf3e8e12620ea2810f";
#define PUB "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
#define SEC "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
/* Another key: RFC 8032 test 1, and seed 0's did:key. */
#define OTHER_PUB "z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw"
#define SEED0_DID "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
#define X25519_PUB "z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p"

static void expect_key(const struct vt_key *key, bool has_secret)
{
    size_t n;
    uint8_t *pk = vt_test_unhex(vector_pk, &n);
    uint8_t *seed = vt_test_unhex(vector_seed, &n);
    assert_memory_equal(key->pk, pk, 32);
    assert_int_equal(key->has_secret, has_secret);
    if (has_secret) {
        uint8_t got[32];
        vt_key_seed(key, got);
        assert_memory_equal(got, seed, 32);
    }
    free(pk);
    free(seed);
}

static void test_vector_file(void **state)
{
    (void)state;
    char *path = vt_test_shared_path("vectors/vc-di-eddsa/keyPair.json");
    if (path == NULL) {
        printf("skipped: needs vectors/vc-di-eddsa/keyPair.json (set VITAE_SHARED)\n");
        skip();
    }
    /* The file uses the older member name. */
    char *text = vt_test_read_file(path, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"privateKeyMultibase\""));
    assert_null(strstr(text, "\"secretKeyMultibase\""));
    free(text);

    struct vt_key key;
    struct vt_error err;
    vt_error_clear(&err);
    if (vt_keyfile_read(path, &key, &err) != VT_OK)
        fail_msg("cannot read '%s': %s", path, err.msg);
    expect_key(&key, true);
    char mb[VT_MULTIKEY_MAX];
    vt_multikey_encode_secret(&key, mb);
    assert_string_equal(mb, SEC);
    vt_key_release(&key);
    free(path);
}

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (doc == NULL)
        fail_msg("bad test JSON '%s': %s", text, jerr.text);
    return doc;
}

static void expect_parse_ok(const char *text, bool has_secret)
{
    json_t *doc = load(text);
    struct vt_key key;
    struct vt_error err;
    vt_error_clear(&err);
    if (vt_keyfile_parse(doc, &key, &err) != VT_OK)
        fail_msg("'%s': %s", text, err.msg);
    expect_key(&key, has_secret);
    vt_key_release(&key);
    json_decref(doc);
}

static void expect_parse_reject_doc(const json_t *doc, enum vt_status want, const char *msg_part)
{
    struct vt_key key;
    memset(&key, 0xaa, sizeof(key));
    struct vt_error err;
    vt_error_clear(&err);
    enum vt_status st = vt_keyfile_parse(doc, &key, &err);
    if (st != want)
        fail_msg("got %s (%s), want %s", vt_status_name(st), err.msg, vt_status_name(want));
    if (strstr(err.msg, msg_part) == NULL)
        fail_msg("message '%s' does not contain '%s'", err.msg, msg_part);
    /* The key is untouched on failure. */
    const uint8_t *p = (const uint8_t *)&key;
    for (size_t i = 0; i < sizeof(key); i++)
        assert_int_equal(p[i], 0xaa);
    assert_int_equal(vt_keyfile_parse(doc, &key, NULL), want);
}

static void expect_parse_reject(const char *text, enum vt_status want, const char *msg_part)
{
    json_t *doc = load(text);
    expect_parse_reject_doc(doc, want, msg_part);
    json_decref(doc);
}

static void test_parse_accepts(void **state)
{
    (void)state;
    expect_parse_ok("{\"publicKeyMultibase\": \"" PUB "\"}", false);
    expect_parse_ok("{\"publicKeyMultibase\": \"" PUB "\", \"secretKeyMultibase\": \"" SEC "\"}",
                    true);
    expect_parse_ok("{\"publicKeyMultibase\": \"" PUB "\", \"privateKeyMultibase\": \"" SEC "\"}",
                    true);
    expect_parse_ok("{\"publicKeyMultibase\": \"" PUB "\", \"privateKeyMultibase\": \"" SEC
                    "\", \"secretKeyMultibase\": \"" SEC "\"}",
                    true);
    /* The full shape the writer produces. */
    expect_parse_ok("{\"@context\": \"https://w3id.org/security/multikey/v1\","
                    " \"type\": \"Multikey\", \"id\": \"did:key:" PUB "#" PUB "\","
                    " \"controller\": \"did:key:" PUB "\", \"publicKeyMultibase\": \"" PUB "\","
                    " \"secretKeyMultibase\": \"" SEC "\"}",
                    true);
    /* A key published under another DID method, or with a relative id. */
    expect_parse_ok("{\"type\": \"Multikey\", \"id\": \"did:web:example.com#key-1\","
                    " \"controller\": \"did:web:example.com\", \"publicKeyMultibase\": \"" PUB
                    "\", \"secretKeyMultibase\": \"" SEC "\"}",
                    true);
    expect_parse_ok("{\"id\": \"#" PUB "\", \"publicKeyMultibase\": \"" PUB "\"}", false);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    /* Not an object. */
    expect_parse_reject("[]", VT_ERR_INVALID, "not a JSON object");
    expect_parse_reject("\"" PUB "\"", VT_ERR_INVALID, "not a JSON object");
    expect_parse_reject("null", VT_ERR_INVALID, "not a JSON object");
    expect_parse_reject("42", VT_ERR_INVALID, "not a JSON object");
    expect_parse_reject_doc(NULL, VT_ERR_INVALID, "not a JSON object");

    /* Missing or mistyped members. */
    expect_parse_reject("{}", VT_ERR_INVALID, "no 'publicKeyMultibase'");
    expect_parse_reject("{\"secretKeyMultibase\": \"" SEC "\"}", VT_ERR_INVALID,
                        "no 'publicKeyMultibase'");
    expect_parse_reject("{\"publicKeyMultibase\": 1}", VT_ERR_INVALID,
                        "'publicKeyMultibase' is not a string");
    expect_parse_reject("{\"publicKeyMultibase\": \"" PUB "\", \"secretKeyMultibase\": null}",
                        VT_ERR_INVALID, "'secretKeyMultibase' is not a string");
    expect_parse_reject("{\"publicKeyMultibase\": \"" PUB "\", \"privateKeyMultibase\": [1]}",
                        VT_ERR_INVALID, "'privateKeyMultibase' is not a string");
    expect_parse_reject("{\"publicKeyMultibase\": \"" PUB "\", \"id\": 7}", VT_ERR_INVALID,
                        "'id' is not a string");
    expect_parse_reject("{\"publicKeyMultibase\": \"" PUB "\", \"controller\": {}}", VT_ERR_INVALID,
                        "'controller' is not a string");
    expect_parse_reject("{\"type\": 1, \"publicKeyMultibase\": \"" PUB "\"}", VT_ERR_INVALID,
                        "'type' is not a string");
    expect_parse_reject("{\"type\": \"JsonWebKey2020\", \"publicKeyMultibase\": \"" PUB "\"}",
                        VT_ERR_UNSUPPORTED, "unsupported key type 'JsonWebKey2020'");

    /* Keys that do not belong together. */
    expect_parse_reject("{\"publicKeyMultibase\": \"" OTHER_PUB "\", \"secretKeyMultibase\": "
                        "\"" SEC "\"}",
                        VT_ERR_INVALID, "secret key does not match 'publicKeyMultibase'");
    expect_parse_reject("{\"publicKeyMultibase\": \"" OTHER_PUB "\", \"privateKeyMultibase\": "
                        "\"" SEC "\"}",
                        VT_ERR_INVALID, "secret key does not match");
    char other_sec[VT_MULTIKEY_MAX];
    uint8_t zero_seed[32] = {0};
    struct vt_key other;
    vt_key_from_seed(&other, zero_seed);
    vt_multikey_encode_secret(&other, other_sec);
    vt_key_release(&other);
    char text[512];
    snprintf(text, sizeof(text),
             "{\"publicKeyMultibase\": \"" PUB "\", \"secretKeyMultibase\": \"" SEC "\","
             " \"privateKeyMultibase\": \"%s\"}",
             other_sec);
    expect_parse_reject(text, VT_ERR_INVALID,
                        "'secretKeyMultibase' and 'privateKeyMultibase' hold different keys");
    expect_parse_reject("{\"controller\": \"" SEED0_DID "\", \"publicKeyMultibase\": \"" PUB "\"}",
                        VT_ERR_INVALID, "'controller' is a did:key of another key");
    expect_parse_reject("{\"id\": \"" SEED0_DID "#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
                        "\", \"publicKeyMultibase\": \"" PUB "\"}",
                        VT_ERR_INVALID, "'id' is not the did:key verification method");

    /* Wrong multicodec in either member, and other encodings. */
    expect_parse_reject("{\"publicKeyMultibase\": \"" SEC "\"}", VT_ERR_INVALID,
                        "invalid publicKeyMultibase: expected multicodec 0xed (ed25519-pub), "
                        "found 0x1300 (ed25519-priv)");
    expect_parse_reject("{\"publicKeyMultibase\": \"" PUB "\", \"secretKeyMultibase\": \"" PUB
                        "\"}",
                        VT_ERR_INVALID,
                        "invalid secretKeyMultibase: expected multicodec 0x1300 (ed25519-priv), "
                        "found 0xed (ed25519-pub)");
    expect_parse_reject("{\"publicKeyMultibase\": \"" X25519_PUB "\"}", VT_ERR_INVALID,
                        "found 0xec (x25519-pub)");
    expect_parse_reject("{\"publicKeyMultibase\": \"u7QGwDY2Tjn93PVFWWq02piP1NE9fXRlg-c8-jhJiDqKBDw"
                        "\"}",
                        VT_ERR_INVALID, "expected multibase prefix 'z'");

    /* A NUL inside the JSON string would hide what follows it from a C string check. */
    json_t *doc = json_object();
    json_object_set_new(doc, "publicKeyMultibase", json_stringn(PUB "\0junk", sizeof(PUB) + 4));
    expect_parse_reject_doc(doc, VT_ERR_INVALID, "contains a NUL character");
    json_decref(doc);
}

struct tmpdir {
    char path[64];
};

static void tmpdir_make(struct tmpdir *d)
{
    snprintf(d->path, sizeof(d->path), "/tmp/vitae-keyfile-XXXXXX");
    assert_non_null(mkdtemp(d->path));
}

static size_t count_entries(const char *dir)
{
    DIR *dp = opendir(dir);
    assert_non_null(dp);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(dp);
    return n;
}

static void tmpdir_remove(struct tmpdir *d)
{
    DIR *dp = opendir(d->path);
    assert_non_null(dp);
    struct dirent *e;
    char file[512];
    while ((e = readdir(dp)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(file, sizeof(file), "%s/%s", d->path, e->d_name);
        unlink(file);
    }
    closedir(dp);
    assert_int_equal(rmdir(d->path), 0);
}

static void expect_mode_0600(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_write_read(void **state)
{
    (void)state;
    struct tmpdir d;
    tmpdir_make(&d);
    char path[128];
    snprintf(path, sizeof(path), "%s/issuer.json", d.path);

    size_t n;
    uint8_t *seed = vt_test_unhex(vector_seed, &n);
    struct vt_key key;
    vt_key_from_seed(&key, seed);
    /* A umask that would strip the owner's write bit: the file must still be 0600. */
    mode_t old_mask = umask(0277);
    struct vt_error err;
    vt_error_clear(&err);
    enum vt_status st = vt_keyfile_write(path, &key, &err);
    umask(old_mask);
    if (st != VT_OK)
        fail_msg("cannot write: %s", err.msg);
    expect_mode_0600(path);
    assert_int_equal(count_entries(d.path), 1);

    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    assert_non_null(doc);
    assert_int_equal(json_object_size(doc), 6);
    assert_string_equal(json_string_value(json_object_get(doc, "@context")),
                        "https://w3id.org/security/multikey/v1");
    assert_string_equal(json_string_value(json_object_get(doc, "type")), "Multikey");
    assert_string_equal(json_string_value(json_object_get(doc, "id")), "did:key:" PUB "#" PUB);
    assert_string_equal(json_string_value(json_object_get(doc, "controller")), "did:key:" PUB);
    assert_string_equal(json_string_value(json_object_get(doc, "publicKeyMultibase")), PUB);
    assert_string_equal(json_string_value(json_object_get(doc, "secretKeyMultibase")), SEC);
    json_decref(doc);

    struct vt_key back;
    assert_int_equal(vt_keyfile_read(path, &back, &err), VT_OK);
    assert_true(back.has_secret);
    assert_memory_equal(back.pk, key.pk, 32);
    assert_memory_equal(back.sk, key.sk, 64);
    vt_key_release(&back);

    /* Replacing a key file keeps the mode and leaves no temporary file behind. */
    struct vt_key fresh;
    vt_key_generate(&fresh);
    assert_int_equal(vt_keyfile_write(path, &fresh, &err), VT_OK);
    expect_mode_0600(path);
    assert_int_equal(count_entries(d.path), 1);
    assert_int_equal(vt_keyfile_read(path, &back, &err), VT_OK);
    assert_memory_equal(back.sk, fresh.sk, 64);
    vt_key_release(&back);
    vt_key_release(&fresh);

    /* A public-only key is written without a secret member and reads back public-only. */
    struct vt_key pub;
    vt_key_from_public(&pub, key.pk);
    snprintf(path, sizeof(path), "%s/public.json", d.path);
    assert_int_equal(vt_keyfile_write(path, &pub, &err), VT_OK);
    expect_mode_0600(path);
    doc = json_load_file(path, 0, &jerr);
    assert_non_null(doc);
    assert_null(json_object_get(doc, "secretKeyMultibase"));
    assert_int_equal(json_object_size(doc), 5);
    json_decref(doc);
    memset(&back, 0xaa, sizeof(back));
    assert_int_equal(vt_keyfile_read(path, &back, &err), VT_OK);
    assert_false(back.has_secret);
    assert_memory_equal(back.pk, key.pk, 32);
    assert_int_equal(count_entries(d.path), 2);

    vt_key_release(&key);
    free(seed);
    tmpdir_remove(&d);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void test_read_errors(void **state)
{
    (void)state;
    struct tmpdir d;
    tmpdir_make(&d);
    char path[128];
    struct vt_key key;
    struct vt_error err;

    snprintf(path, sizeof(path), "%s/absent.json", d.path);
    assert_int_equal(vt_keyfile_read(path, &key, &err), VT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, path));

    snprintf(path, sizeof(path), "%s/broken.json", d.path);
    write_text(path, "{\"publicKeyMultibase\": ");
    vt_error_clear(&err);
    assert_int_not_equal(vt_keyfile_read(path, &key, &err), VT_OK);
    assert_non_null(strstr(err.msg, path));

    snprintf(path, sizeof(path), "%s/mismatch.json", d.path);
    write_text(path,
               "{\"publicKeyMultibase\": \"" OTHER_PUB "\", \"secretKeyMultibase\": \"" SEC "\"}");
    vt_error_clear(&err);
    assert_int_equal(vt_keyfile_read(path, &key, &err), VT_ERR_INVALID);
    char want[256];
    snprintf(want, sizeof(want), "invalid key file '%s': the secret key does not match", path);
    if (strstr(err.msg, want) == NULL)
        fail_msg("message '%s' does not contain '%s'", err.msg, want);
    /* The secret itself never appears in a message. */
    assert_null(strstr(err.msg, SEC));

    snprintf(path, sizeof(path), "%s/array.json", d.path);
    write_text(path, "[\"" PUB "\"]");
    assert_int_equal(vt_keyfile_read(path, &key, &err), VT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "not a JSON object"));

    snprintf(path, sizeof(path), "%s/dup.json", d.path);
    write_text(path, "{\"publicKeyMultibase\": \"" PUB "\", \"publicKeyMultibase\": \"" PUB "\"}");
    assert_int_not_equal(vt_keyfile_read(path, &key, &err), VT_OK);

    /* A missing directory: nothing is created anywhere. */
    snprintf(path, sizeof(path), "%s/no/such/dir/key.json", d.path);
    vt_key_generate(&key);
    size_t before = count_entries(d.path);
    assert_int_equal(vt_keyfile_write(path, &key, &err), VT_ERR_NOT_FOUND);
    assert_int_equal(count_entries(d.path), before);
    vt_key_release(&key);
    tmpdir_remove(&d);
}

int main(void)
{
    if (vt_core_init(NULL) != VT_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_file),   cmocka_unit_test(test_parse_accepts),
        cmocka_unit_test(test_parse_rejects), cmocka_unit_test(test_write_read),
        cmocka_unit_test(test_read_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
