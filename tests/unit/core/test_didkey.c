/* did:key: the published Ed25519/X25519 vectors, the spec examples, parse errors and the
 * shape of the resolved document. */
#include "core/core.h"
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *unhex_len(const char *hex, size_t want)
{
    size_t n;
    uint8_t *p = vt_test_unhex(hex, &n);
    assert_int_equal(n, want);
    return p;
}

/* Decodes a base58btc or base64url member into out, asserting a 32-byte value. */
static void decode32(const char *text, bool base64url, uint8_t out[32])
{
    assert_non_null(text);
    struct vt_buf b;
    vt_buf_init(&b, 64);
    struct vt_error err;
    enum vt_status st = base64url ? vt_base64url_decode(text, strlen(text), &b, &err)
                                  : vt_base58_decode(text, strlen(text), &b, &err);
    if (st != VT_OK)
        fail_msg("cannot decode '%s': %s", text, err.msg);
    assert_int_equal(b.len, 32);
    memcpy(out, b.data, 32);
    vt_buf_release(&b);
}

static const char *get_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *fragment(const char *id)
{
    assert_non_null(id);
    const char *hash = strchr(id, '#');
    assert_non_null(hash);
    return hash + 1;
}

/* Reads the Ed25519 or X25519 public key (and secret, when asked) of a vector key pair,
 * which is in the legacy base58 form or in JWK form. */
static void vector_keys(const json_t *pair, uint8_t pk[32], uint8_t *sk)
{
    assert_true(json_is_object(pair));
    const json_t *jwk = json_object_get(pair, "publicKeyJwk");
    if (jwk != NULL) {
        decode32(get_str(jwk, "x"), true, pk);
        if (sk != NULL)
            decode32(get_str(json_object_get(pair, "privateKeyJwk"), "d"), true, sk);
        return;
    }
    decode32(get_str(pair, "publicKeyBase58"), false, pk);
    if (sk != NULL)
        decode32(get_str(pair, "privateKeyBase58"), false, sk);
}

static void check_vector_entry(const char *did, const json_t *entry)
{
    uint8_t *seed = unhex_len(get_str(entry, "seed"), 32);
    struct vt_key key;
    vt_key_from_seed(&key, seed);

    char text[VT_DIDKEY_MAX];
    vt_didkey_from_public(key.pk, text);
    assert_string_equal(text, did);

    const json_t *vkp = json_object_get(entry, "verificationKeyPair");
    uint8_t want_pk[32];
    vector_keys(vkp, want_pk, NULL);
    assert_memory_equal(key.pk, want_pk, 32);
    const json_t *jwk_sk = json_object_get(vkp, "privateKeyJwk");
    if (jwk_sk != NULL) {
        uint8_t d[32];
        decode32(get_str(jwk_sk, "d"), true, d);
        assert_memory_equal(d, seed, 32);
    }

    const json_t *kakp = json_object_get(entry, "keyAgreementKeyPair");
    uint8_t want_xpk[32], want_xsk[32], xpk[32], xsk[32];
    vector_keys(kakp, want_xpk, want_xsk);
    assert_int_equal(vt_key_x25519(&key, xpk, xsk, NULL), VT_OK);
    assert_memory_equal(xpk, want_xpk, 32);
    assert_memory_equal(xsk, want_xsk, 32);

    uint8_t pk[32];
    struct vt_error err;
    assert_int_equal(vt_didkey_parse(did, strlen(did), pk, &err), VT_OK);
    assert_memory_equal(pk, key.pk, 32);

    const json_t *want_doc = json_object_get(entry, "didDocument");
    const char *want_vm =
        json_string_value(json_array_get(json_object_get(want_doc, "authentication"), 0));
    assert_non_null(want_vm);
    vt_didkey_vm_from_public(key.pk, text);
    assert_string_equal(text, want_vm);
    memset(pk, 0, sizeof(pk));
    assert_int_equal(vt_didkey_parse(want_vm, strlen(want_vm), pk, &err), VT_OK);
    assert_memory_equal(pk, key.pk, 32);

    json_t *doc = NULL;
    assert_int_equal(vt_didkey_document(did, &doc, &err), VT_OK);
    assert_string_equal(get_str(doc, "id"), did);
    const json_t *vm = json_array_get(json_object_get(doc, "verificationMethod"), 0);
    assert_string_equal(get_str(vm, "id"), want_vm);
    assert_string_equal(get_str(vm, "publicKeyMultibase"), fragment(want_vm));
    const char *relations[] = {"authentication", "assertionMethod", "capabilityInvocation",
                               "capabilityDelegation"};
    for (size_t i = 0; i < 4; i++)
        assert_true(json_equal(json_object_get(doc, relations[i]),
                               json_object_get(want_doc, relations[i])));
    /* The vectors reference the X25519 key by id; we embed it, with the same id. */
    const char *want_ka =
        json_string_value(json_array_get(json_object_get(want_doc, "keyAgreement"), 0));
    const json_t *ka = json_array_get(json_object_get(doc, "keyAgreement"), 0);
    assert_string_equal(get_str(ka, "id"), want_ka);
    assert_string_equal(get_str(ka, "publicKeyMultibase"), fragment(want_ka));
    assert_string_equal(fragment(get_str(kakp, "id")), fragment(want_ka));
    json_decref(doc);

    vt_key_release(&key);
    free(seed);
}

static void test_vector_file(void **state)
{
    (void)state;
    char *path = vt_test_shared_path("vectors/did-key/ed25519-x25519.json");
    if (path == NULL) {
        printf("skipped: needs vectors/did-key/ed25519-x25519.json (set VITAE_SHARED)\n");
        skip();
    }
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        fail_msg("cannot parse '%s': %s", path, jerr.text);
    assert_true(json_is_object(root));
    size_t checked = 0;
    const char *did;
    json_t *entry;
    json_object_foreach(root, did, entry)
    {
        check_vector_entry(did, entry);
        checked++;
    }
    assert_int_equal(checked, 5);
    json_decref(root);
    free(path);
}

struct example {
    const char *did, *pk_hex, *x25519_mb;
};

static const struct example examples[] = {
    {"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
     "2e6fcce36701dc791488e0d0b1745cc1e33a4c1c9fcc41c63bd343dbbe0970e6",
     "z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p"},
    {"did:key:z6Mkf5rGMoatrSj1f4CyvuHBeXJELe9RPdzo2PKGNCKVtZxP",
     "095f9a1a595dde755d82786864ad03dfa5a4fbd68832566364e2b65e13cc9e44", NULL},
    {"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
     "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29",
     "z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW"},
};

static void test_examples(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
        const struct example *e = &examples[i];
        uint8_t *want = unhex_len(e->pk_hex, 32);
        uint8_t pk[32];
        struct vt_error err;
        assert_int_equal(vt_didkey_parse(e->did, strlen(e->did), pk, &err), VT_OK);
        assert_memory_equal(pk, want, 32);
        char text[VT_DIDKEY_MAX];
        vt_didkey_from_public(want, text);
        assert_string_equal(text, e->did);
        if (e->x25519_mb != NULL) {
            json_t *doc = NULL;
            assert_int_equal(vt_didkey_document(e->did, &doc, &err), VT_OK);
            const json_t *ka = json_array_get(json_object_get(doc, "keyAgreement"), 0);
            assert_string_equal(get_str(ka, "publicKeyMultibase"), e->x25519_mb);
            json_decref(doc);
        }
        free(want);
    }

    /* Seed 0 gives the first vector's DID. */
    uint8_t seed[32] = {0};
    struct vt_key key;
    vt_key_from_seed(&key, seed);
    char did[VT_DIDKEY_MAX];
    vt_didkey_from_public(key.pk, did);
    assert_string_equal(did, "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp");
    vt_key_release(&key);
}

static void test_document_shape(void **state)
{
    (void)state;
    static const char want_text[] =
        "{\"@context\": [\"https://www.w3.org/ns/did/v1\", "
        "\"https://w3id.org/security/multikey/v1\"],"
        " \"id\": \"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK\","
        " \"verificationMethod\": [{"
        "  \"id\": \"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
        "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK\","
        "  \"type\": \"Multikey\","
        "  \"controller\": \"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK\","
        "  \"publicKeyMultibase\": \"z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK\"}],"
        " \"authentication\": [\"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
        "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK\"],"
        " \"assertionMethod\": [\"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
        "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK\"],"
        " \"capabilityInvocation\": [\"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
        "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK\"],"
        " \"capabilityDelegation\": [\"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
        "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK\"],"
        " \"keyAgreement\": [{"
        "  \"id\": \"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
        "#z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p\","
        "  \"type\": \"Multikey\","
        "  \"controller\": \"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK\","
        "  \"publicKeyMultibase\": \"z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p\"}]}";
    json_error_t jerr;
    json_t *want = json_loads(want_text, JSON_REJECT_DUPLICATES, &jerr);
    if (want == NULL)
        fail_msg("bad expected document: %s", jerr.text);

    const char *inputs[] = {
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        /* A DID URL resolves to the document of its DID. */
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
        "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    };
    for (size_t i = 0; i < 2; i++) {
        json_t *doc = NULL;
        struct vt_error err;
        assert_int_equal(vt_didkey_document(inputs[i], &doc, &err), VT_OK);
        if (!json_equal(doc, want)) {
            char *got = json_dumps(doc, JSON_INDENT(2));
            fail_msg("unexpected document:\n%s", got);
        }
        assert_int_equal(json_object_size(doc), 8);
        json_decref(doc);
    }
    json_decref(want);
}

static void expect_parse_reject(const char *did, size_t n, enum vt_status want,
                                const char *msg_part)
{
    uint8_t pk[32];
    memset(pk, 0xaa, sizeof(pk));
    struct vt_error err;
    vt_error_clear(&err);
    enum vt_status st = vt_didkey_parse(did, n, pk, &err);
    if (st != want)
        fail_msg("'%.*s': got %s (%s), want %s", (int)n, did, vt_status_name(st), err.msg,
                 vt_status_name(want));
    if (strstr(err.msg, msg_part) == NULL)
        fail_msg("'%.*s': message '%s' does not contain '%s'", (int)n, did, err.msg, msg_part);
    for (size_t i = 0; i < sizeof(pk); i++)
        assert_int_equal(pk[i], 0xaa);
    assert_int_equal(vt_didkey_parse(did, n, pk, NULL), want);

    /* The resolver refuses the same input with the same status, leaving doc alone. */
    if (memchr(did, '\0', n) == NULL && strlen(did) == n) {
        json_t *doc = (json_t *)&err;
        assert_int_equal(vt_didkey_document(did, &doc, NULL), want);
        assert_ptr_equal(doc, (json_t *)&err);
    }
}

static void reject(const char *did, enum vt_status want, const char *msg_part)
{
    expect_parse_reject(did, strlen(did), want, msg_part);
}

/* "did:key:z" + base58btc(prefix ‖ len bytes of 0x42). */
static void did_with(const uint8_t *prefix, size_t prefix_len, size_t len, char *out,
                     size_t out_size)
{
    uint8_t raw[80];
    assert_true(prefix_len + len <= sizeof(raw));
    memcpy(raw, prefix, prefix_len);
    memset(raw + prefix_len, 0x42, len);
    struct vt_buf b;
    vt_buf_init(&b, 256);
    assert_int_equal(vt_buf_append_str(&b, "did:key:", NULL), VT_OK);
    assert_int_equal(vt_multibase_encode(VT_MULTIBASE_BASE58BTC, raw, prefix_len + len, &b, NULL),
                     VT_OK);
    assert_true(b.len < out_size);
    memcpy(out, b.data, b.len + 1);
    vt_buf_release(&b);
}

static void test_parse_errors(void **state)
{
    (void)state;
#define DID "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
#define MB "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    /* Not a did:key at all. */
    reject("did:web:example.com", VT_ERR_INVALID, "does not start with 'did:key:'");
    reject("DID:KEY:" MB, VT_ERR_INVALID, "does not start with 'did:key:'");
    reject(MB, VT_ERR_INVALID, "does not start with 'did:key:'");
    reject("did:key", VT_ERR_INVALID, "does not start with 'did:key:'");
    reject("", VT_ERR_INVALID, "does not start with 'did:key:'");
    reject("did:key:", VT_ERR_INVALID, "empty method-specific identifier");
    reject("did:key:#" MB, VT_ERR_INVALID, "empty method-specific identifier");
    /* The multibase prefix. */
    reject("did:key:6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", VT_ERR_INVALID,
           "expected multibase prefix 'z' at offset 8");
    reject("did:key:u7QEub8zjZwHceRSI4NCxdFzMHjOkwcn8xBxjvTQ9u-CXDm", VT_ERR_INVALID,
           "expected multibase prefix 'z' at offset 8");
    reject("did:key:1:" MB, VT_ERR_INVALID, "expected multibase prefix 'z' at offset 8");
    /* Other key types are understood but not supported. */
    reject("did:key:z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p", VT_ERR_UNSUPPORTED,
           "multicodec 0xec (x25519-pub)");
    char did[VT_DIDKEY_MAX * 2];
    static const uint8_t secp256k1[] = {0xe7, 0x01};
    did_with(secp256k1, 2, 33, did, sizeof(did));
    reject(did, VT_ERR_UNSUPPORTED, "multicodec 0xe7 (secp256k1-pub)");
    static const uint8_t p256[] = {0x80, 0x24};
    did_with(p256, 2, 33, did, sizeof(did));
    reject(did, VT_ERR_UNSUPPORTED, "multicodec 0x1200 (p256-pub)");
    static const uint8_t priv[] = {0x80, 0x26};
    did_with(priv, 2, 32, did, sizeof(did));
    reject(did, VT_ERR_UNSUPPORTED, "multicodec 0x1300 (ed25519-priv)");
    /* Wrong key lengths. */
    static const uint8_t ed[] = {0xed, 0x01};
    did_with(ed, 2, 31, did, sizeof(did));
    reject(did, VT_ERR_INVALID,
           "expected 32 bytes of ed25519-pub after the multicodec prefix, "
           "found 31");
    did_with(ed, 2, 33, did, sizeof(did));
    reject(did, VT_ERR_INVALID, "found 33");
    did_with(ed, 2, 0, did, sizeof(did));
    reject(did, VT_ERR_INVALID, "found 0");
    reject("did:key:z", VT_ERR_INVALID, "no multicodec prefix");
    static const uint8_t cut[] = {0xed};
    did_with(cut, 1, 0, did, sizeof(did));
    reject(did, VT_ERR_INVALID, "no multicodec prefix");
    /* Characters outside base58btc, with their offset in the whole DID. */
    reject("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2d0K", VT_ERR_INVALID,
           "'0' at offset 54");
    reject(DID " ", VT_ERR_INVALID, "0x20 at offset 56");
    reject(DID "/path", VT_ERR_INVALID, "'/' at offset 56");
    reject(DID "?query=1", VT_ERR_INVALID, "'?' at offset 56");
    reject(DID ":extra", VT_ERR_INVALID, "':' at offset 56");
    expect_parse_reject(DID "\0", sizeof(DID), VT_ERR_INVALID, "0x00 at offset 56");
    /* Fragments must name the key itself. */
    reject(DID "#", VT_ERR_INVALID, "fragment at offset 57");
    reject(DID "#z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p", VT_ERR_INVALID,
           "is not the key's own multibase value");
    reject(DID "#" MB "x", VT_ERR_INVALID, "fragment at offset 57");
    reject(DID "#" MB "#", VT_ERR_INVALID, "fragment");
    reject(DID "#key-1", VT_ERR_INVALID, "fragment");
    /* Too long to be any Ed25519 did:key URL. */
    char longer[300];
    memset(longer, 'z', sizeof(longer) - 1);
    memcpy(longer, "did:key:", 8);
    longer[sizeof(longer) - 1] = '\0';
    reject(longer, VT_ERR_INVALID, "longer than any Ed25519 did:key");

    /* n bounds the input: the same DID followed by other bytes in memory parses. */
    uint8_t pk[32];
    const char *with_tail = DID "#" MB "trailing";
    assert_int_equal(vt_didkey_parse(with_tail, strlen(DID), pk, NULL), VT_OK);
    assert_int_equal(vt_didkey_parse(with_tail, strlen(DID) + 1 + strlen(MB), pk, NULL), VT_OK);
#undef DID
#undef MB
}

/* A well-formed did:key whose bytes are not a curve point has no X25519 key to derive. */
static void test_document_bad_point(void **state)
{
    (void)state;
    uint8_t not_a_point[32] = {2};
    char did[VT_DIDKEY_MAX];
    vt_didkey_from_public(not_a_point, did);
    uint8_t pk[32];
    assert_int_equal(vt_didkey_parse(did, strlen(did), pk, NULL), VT_OK);
    json_t *doc = NULL;
    struct vt_error err;
    assert_int_equal(vt_didkey_document(did, &doc, &err), VT_ERR_INVALID);
    assert_null(doc);
    assert_non_null(strstr(err.msg, "cannot resolve did:key"));
}

int main(void)
{
    if (vt_core_init(NULL) != VT_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_file),        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_document_shape),     cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_document_bad_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
