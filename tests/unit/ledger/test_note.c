/*
 * Signed notes, verifier key strings and checkpoints: the Go sumdb/note known answer,
 * round trips, unknown signatures, tampering, and every rejection rule.
 */
#include "ledger/ledger.h"
#include "test_support.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_DASH "\xe2\x80\x94"

/* From the golang.org/x/mod/sumdb/note package documentation. */
static const char kat_signer_b64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char kat_verifier[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char kat_text[] = "If you think cryptography is the answer to your problem,\n"
                               "then you don't know what your problem is.\n";
static const char kat_sig_block[] =
    "\n" EM_DASH " PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
    "\n";

static void kat_key(struct vt_key *key)
{
    struct vt_buf raw;
    vt_buf_init(&raw, 64);
    assert_int_equal(vt_base64_decode(kat_signer_b64, strlen(kat_signer_b64), &raw, NULL), VT_OK);
    assert_int_equal(raw.len, 33);
    assert_int_equal(raw.data[0], 0x01); /* Ed25519 */
    vt_key_from_seed(key, raw.data + 1);
    vt_buf_release(&raw);
}

static void expect_err(enum vt_status got, enum vt_status want, const struct vt_error *err,
                       const char *needle)
{
    if (got != want)
        fail_msg("status %s, want %s (%s)", vt_status_name(got), vt_status_name(want), err->msg);
    assert_int_equal(err->status, want);
    if (strstr(err->msg, needle) == NULL)
        fail_msg("error '%s' does not mention '%s'", err->msg, needle);
}

static void test_peter_neumann_kat(void **state)
{
    (void)state;
    struct vt_key key;
    kat_key(&key);
    assert_int_equal(ledger_note_key_id("PeterNeumann", key.pk), 0xc74f20a3);

    struct vt_buf out;
    vt_buf_init(&out, 4096);
    assert_int_equal(ledger_note_verifier_format("PeterNeumann", key.pk, &out, NULL), VT_OK);
    assert_string_equal((char *)out.data, kat_verifier);

    vt_buf_reset(&out);
    assert_int_equal(ledger_note_sign(kat_text, strlen(kat_text), "PeterNeumann", &key, &out, NULL),
                     VT_OK);
    assert_string_equal((char *)out.data, kat_sig_block);

    /* Verify with the parsed verifier key string. */
    char name[LEDGER_NOTE_NAME_MAX];
    uint8_t pk[VT_ED25519_PK_LEN];
    assert_int_equal(ledger_note_verifier_parse(kat_verifier, name, pk, NULL), VT_OK);
    assert_string_equal(name, "PeterNeumann");
    assert_memory_equal(pk, key.pk, VT_ED25519_PK_LEN);

    char note[512];
    int n = snprintf(note, sizeof(note), "%s%s", kat_text, kat_sig_block);
    size_t text_len = 0;
    struct vt_error err;
    assert_int_equal(ledger_note_verify(note, (size_t)n, name, pk, &text_len, &err), VT_OK);
    assert_int_equal(text_len, strlen(kat_text));

    /* One changed character of text fails. */
    note[3] ^= 0x20;
    expect_err(ledger_note_verify(note, (size_t)n, name, pk, &text_len, &err), VT_ERR_VERIFY, &err,
               "does not verify");
    vt_buf_release(&out);
    vt_key_release(&key);
}

/* Builds text ‖ signature blocks; returns a malloc'd note. */
static char *make_note(const char *text, const struct vt_key **keys, const char **names,
                       size_t count, size_t *len)
{
    struct vt_buf out;
    vt_buf_init(&out, VT_BUF_DEFAULT_MAX);
    assert_int_equal(vt_buf_append_str(&out, text, NULL), VT_OK);
    for (size_t i = 0; i < count; i++) {
        struct vt_buf sig;
        vt_buf_init(&sig, 4096);
        assert_int_equal(ledger_note_sign(text, strlen(text), names[i], keys[i], &sig, NULL),
                         VT_OK);
        /* Each signature block is "\n— ...\n"; only the first keeps its blank line. */
        size_t skip = i == 0 ? 0 : 1;
        assert_int_equal(vt_buf_append(&out, sig.data + skip, sig.len - skip, NULL), VT_OK);
        vt_buf_release(&sig);
    }
    return (char *)vt_buf_detach(&out, len);
}

static void test_round_trip_and_unknown_signatures(void **state)
{
    (void)state;
    struct vt_key k1, k2, k3;
    vt_key_generate(&k1);
    vt_key_generate(&k2);
    vt_key_generate(&k3);
    const char *text = "vitae.example/log\n42\nline with ünïcödé — and a DEL \x7f\n\nlast\n";

    const struct vt_key *keys[] = {&k2, &k1, &k3, &k3};
    /* k3 also signs as "log.example/a": same name as k1, different key id. */
    const char *names[] = {"witness.example/w1", "log.example/a", "log.example/a",
                           "witness.example/w3"};
    size_t len;
    char *note = make_note(text, keys, names, 4, &len);
    size_t text_len = 0;
    struct vt_error err;
    assert_int_equal(ledger_note_verify(note, len, "log.example/a", k1.pk, &text_len, &err), VT_OK);
    assert_int_equal(text_len, strlen(text));
    assert_memory_equal(note, text, text_len);
    assert_int_equal(ledger_note_verify(note, len, "witness.example/w1", k2.pk, &text_len, NULL),
                     VT_OK);
    assert_int_equal(ledger_note_verify(note, len, "log.example/a", k3.pk, &text_len, NULL), VT_OK);
    assert_int_equal(ledger_note_verify(note, len, "witness.example/w3", k3.pk, &text_len, NULL),
                     VT_OK);

    /* A known key that did not sign, or a known name with another key: no signature. */
    expect_err(ledger_note_verify(note, len, "witness.example/w1", k1.pk, &text_len, &err),
               VT_ERR_VERIFY, &err, "no signature by 'witness.example/w1'");
    expect_err(ledger_note_verify(note, len, "other.example", k1.pk, &text_len, &err),
               VT_ERR_VERIFY, &err, "no signature");
    free(note);

    /* Sixteen signature lines are accepted, seventeen are not. */
    const struct vt_key *many_keys[17];
    const char *many_names[17];
    char name_store[17][32];
    for (int i = 0; i < 17; i++) {
        many_keys[i] = &k2;
        snprintf(name_store[i], sizeof(name_store[i]), "w%d.example", i);
        many_names[i] = name_store[i];
    }
    many_keys[15] = &k1;
    many_names[15] = "log.example/a";
    note = make_note("short\n", many_keys, many_names, 16, &len);
    assert_int_equal(ledger_note_verify(note, len, "log.example/a", k1.pk, &text_len, NULL), VT_OK);
    free(note);
    note = make_note("short\n", many_keys, many_names, 17, &len);
    expect_err(ledger_note_verify(note, len, "log.example/a", k1.pk, &text_len, &err),
               VT_ERR_INVALID, &err, "17 signature lines, more than the 16");
    free(note);
    vt_key_release(&k1);
    vt_key_release(&k2);
    vt_key_release(&k3);
}

static void test_tampering(void **state)
{
    (void)state;
    struct vt_key key, other;
    vt_key_generate(&key);
    vt_key_generate(&other);
    const char *text = "example.com/log\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    const struct vt_key *keys[] = {&other, &key};
    const char *names[] = {"other", "example.com/log"};
    size_t len;
    char *note = make_note(text, keys, names, 2, &len);
    size_t text_len;
    struct vt_error err;
    assert_int_equal(ledger_note_verify(note, len, "example.com/log", key.pk, &text_len, &err),
                     VT_OK);

    /* Every byte of the text changed to another allowed character: fails. */
    size_t tl = strlen(text);
    for (size_t i = 0; i < tl; i++) {
        char saved = note[i];
        note[i] = saved == 'Q' ? 'R' : 'Q';
        assert_int_not_equal(
            ledger_note_verify(note, len, "example.com/log", key.pk, &text_len, NULL), VT_OK);
        note[i] = saved;
    }

    /* Changing any base64 character of our signature, keeping the base64 canonical. */
    char *line = strstr(note, EM_DASH " example.com/log ");
    assert_non_null(line);
    char *b64 = line + strlen(EM_DASH " example.com/log ");
    size_t b64_len = strcspn(b64, "\n");
    assert_int_equal(b64_len, 92);
    unsigned changed = 0;
    for (size_t i = 0; i + 2 < b64_len; i++) { /* the last data char carries pad bits */
        char saved = b64[i];
        b64[i] = saved == 'A' ? 'B' : 'A';
        enum vt_status st =
            ledger_note_verify(note, len, "example.com/log", key.pk, &text_len, &err);
        /* In the key id: no signature by that key; in the signature: a bad one. */
        assert_int_equal(st, VT_ERR_VERIFY);
        if (i >= 8)
            assert_non_null(strstr(err.msg, "does not verify"));
        b64[i] = saved;
        changed++;
    }
    assert_true(changed >= 89);

    /* The other key's line is checked for form only, so damage to its signature bytes is
     * not our business; damage to its form is. */
    char *oline = strstr(note, EM_DASH " other ");
    assert_non_null(oline);
    char *ob64 = oline + strlen(EM_DASH " other ");
    ob64[20] = ob64[20] == 'A' ? 'B' : 'A';
    assert_int_equal(ledger_note_verify(note, len, "example.com/log", key.pk, &text_len, NULL),
                     VT_OK);
    ob64[20] = '!';
    expect_err(ledger_note_verify(note, len, "example.com/log", key.pk, &text_len, &err),
               VT_ERR_INVALID, &err, "signature line 1");
    free(note);

    /* A line by our key with a signature of the wrong length fails as a bad signature. */
    uint8_t raw[4 + 63];
    vt_be32_put(raw, ledger_note_key_id("example.com/log", key.pk));
    memset(raw + 4, 0x5a, 63);
    struct vt_buf buf;
    vt_buf_init(&buf, 4096);
    assert_int_equal(vt_buf_printf(&buf, NULL, "%s\n" EM_DASH " example.com/log ", text), VT_OK);
    assert_int_equal(vt_base64_encode(raw, sizeof(raw), &buf, NULL), VT_OK);
    assert_int_equal(vt_buf_append_str(&buf, "\n", NULL), VT_OK);
    expect_err(
        ledger_note_verify((char *)buf.data, buf.len, "example.com/log", key.pk, &text_len, &err),
        VT_ERR_VERIFY, &err, "does not verify");
    vt_buf_release(&buf);
    vt_key_release(&key);
    vt_key_release(&other);
}

static void test_malformed_notes(void **state)
{
    (void)state;
    struct vt_key key;
    vt_key_generate(&key);
    struct vt_buf sig;
    vt_buf_init(&sig, 4096);
    assert_int_equal(ledger_note_sign("hello\n", 6, "k", &key, &sig, NULL), VT_OK);
    /* sig is "\n— k <base64>\n"; keep the base64 for handcrafted lines. */
    const char *good_b64 = (char *)sig.data + 1 + strlen(EM_DASH " k ");
    char b64[128];
    snprintf(b64, sizeof(b64), "%.*s", (int)strcspn(good_b64, "\n"), good_b64);

    char good[256];
    snprintf(good, sizeof(good), "hello\n\n" EM_DASH " k %s\n", b64);
    size_t text_len = 0;
    assert_int_equal(ledger_note_verify(good, strlen(good), "k", key.pk, &text_len, NULL), VT_OK);
    assert_int_equal(text_len, 6);

    struct {
        const char *tmpl; /* '@' stands for the good base64, '~' for a NUL byte */
        const char *why;
    } cases[] = {
        {"", "does not end in a newline"},
        {"hello\n" EM_DASH " k @\n", "no blank line"},
        {"hello\n\n" EM_DASH " k @", "does not end in a newline"},
        {"hello\n\n", "no signature lines"},
        {"hello\n\n\n", "no signature lines"},
        {"hel\tlo\n\n" EM_DASH " k @\n", "control character 0x09"},
        {"hello\r\n\n" EM_DASH " k @\n", "control character 0x0d"},
        {"he\x01llo\n\n" EM_DASH " k @\n", "control character 0x01"},
        {"hello\n\n" EM_DASH " k @~\n", "control character 0x00"},
        {"h\xffllo\n\n" EM_DASH " k @\n", "bad UTF-8 at offset 1"},
        {"h\xc0\xafllo\n\n" EM_DASH " k @\n", "bad UTF-8"},         /* overlong '/' */
        {"h\xed\xa0\x80llo\n\n" EM_DASH " k @\n", "bad UTF-8"},     /* surrogate */
        {"h\xf4\x90\x80\x80llo\n\n" EM_DASH " k @\n", "bad UTF-8"}, /* > U+10FFFF */
        {"hello\n\n" EM_DASH " k @\n" EM_DASH, "does not end in a newline"},
        {"hello\n\n- k @\n", "em dash"},
        {"hello\n\n" EM_DASH "k @\n", "em dash"},
        {"hello\n\n\xe2\x80\x93 k @\n", "em dash"}, /* en dash */
        {"hello\n\n" EM_DASH " k@\n", "no space after the key name"},
        {"hello\n\n" EM_DASH "  @\n", "invalid key name"},
        {"hello\n\n" EM_DASH " k+1 @\n", "invalid key name"},
        {"hello\n\n" EM_DASH " k\xc2\xa0x @\n", "invalid key name"},     /* NBSP */
        {"hello\n\n" EM_DASH " k\xe3\x80\x80x @\n", "invalid key name"}, /* ideographic sp */
        {"hello\n\n" EM_DASH " k @ \n", "signature line 1"},
        {"hello\n\n" EM_DASH " k !@\n", "signature line 1"},
        {"hello\n\n" EM_DASH " k @=\n", "signature line 1"},
        {"hello\n\n" EM_DASH " k \n", "too short"},
        {"hello\n\n" EM_DASH " k AAAAAA==\n", "too short"},
        {"hello\n\n" EM_DASH " k AAAAAAB=\n", "signature line 1"}, /* non-canonical bits */
        {"hello\n\n" EM_DASH " k @\n\n", "no signature lines"},
        {"hello\n\n" EM_DASH " k @\nplain line\n", "signature line 2"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char note[512];
        size_t n = 0;
        for (const char *t = cases[i].tmpl; *t != '\0'; t++) {
            if (*t == '@') {
                memcpy(note + n, b64, strlen(b64));
                n += strlen(b64);
            } else {
                note[n++] = *t == '~' ? '\0' : *t;
            }
        }
        struct vt_error err;
        vt_error_clear(&err);
        text_len = 12345;
        enum vt_status st = ledger_note_verify(note, n, "k", key.pk, &text_len, &err);
        if (st != VT_ERR_INVALID || strstr(err.msg, cases[i].why) == NULL)
            fail_msg("case %zu: status %s, message '%s', want '%s'", i, vt_status_name(st), err.msg,
                     cases[i].why);
        assert_int_equal(text_len, 12345);
    }

    /* The separator is the last blank line: a blank line among the signatures moves the
     * earlier lines into the text, where they sign nothing. */
    char moved[512];
    snprintf(moved, sizeof(moved), "hello\n\n" EM_DASH " k %s\n\n" EM_DASH " j %s\n", b64, b64);
    struct vt_error err;
    expect_err(ledger_note_verify(moved, strlen(moved), "k", key.pk, &text_len, &err),
               VT_ERR_VERIFY, &err, "no signature");

    /* An invalid name to verify against is the caller's error. */
    expect_err(ledger_note_verify(good, strlen(good), "k k", key.pk, &text_len, &err),
               VT_ERR_INVALID, &err, "invalid key name");
    vt_buf_release(&sig);
    vt_key_release(&key);
}

static void test_sign_rejections(void **state)
{
    (void)state;
    struct vt_key key, pub;
    vt_key_generate(&key);
    vt_key_from_public(&pub, key.pk);
    struct vt_buf out;
    vt_buf_init(&out, 4096);
    assert_int_equal(vt_buf_append_str(&out, "keep", NULL), VT_OK);
    struct vt_error err;

    expect_err(ledger_note_sign("", 0, "k", &key, &out, &err), VT_ERR_INVALID, &err,
               "does not end in a newline");
    expect_err(ledger_note_sign("abc", 3, "k", &key, &out, &err), VT_ERR_INVALID, &err,
               "does not end in a newline");
    expect_err(ledger_note_sign("a\tb\n", 4, "k", &key, &out, &err), VT_ERR_INVALID, &err,
               "control character");
    expect_err(ledger_note_sign("a\xfe\n", 3, "k", &key, &out, &err), VT_ERR_INVALID, &err,
               "bad UTF-8");
    expect_err(ledger_note_sign("a\n", 2, "", &key, &out, &err), VT_ERR_INVALID, &err, "empty");
    expect_err(ledger_note_sign("a\n", 2, "a b", &key, &out, &err), VT_ERR_INVALID, &err, "space");
    expect_err(ledger_note_sign("a\n", 2, "a+b", &key, &out, &err), VT_ERR_INVALID, &err, "'+'");
    expect_err(ledger_note_sign("a\n", 2, "a\x7f", &key, &out, &err), VT_ERR_INVALID, &err,
               "control");
    expect_err(ledger_note_sign("a\n", 2, "a\xc2\x85", &key, &out, &err), VT_ERR_INVALID, &err,
               "control"); /* NEL, a C1 control */
    expect_err(ledger_note_sign("a\n", 2, "a\xe2\x80\x83", &key, &out, &err), VT_ERR_INVALID, &err,
               "space"); /* EM SPACE */
    expect_err(ledger_note_sign("a\n", 2, "k", &pub, &out, &err), VT_ERR_INVALID, &err,
               "no secret");
    assert_string_equal((char *)out.data, "keep");

    struct vt_buf tiny;
    vt_buf_init(&tiny, 50);
    assert_int_equal(vt_buf_append_str(&tiny, "x", NULL), VT_OK);
    expect_err(ledger_note_sign("a\n", 2, "k", &key, &tiny, &err), VT_ERR_TOO_LARGE, &err, "cap");
    assert_int_equal(tiny.len, 1);
    assert_string_equal((char *)tiny.data, "x");

    /* The text may live in the output buffer itself. */
    vt_buf_reset(&out);
    assert_int_equal(vt_buf_append_str(&out, "in place\n", NULL), VT_OK);
    assert_int_equal(ledger_note_sign((char *)out.data, out.len, "k", &key, &out, NULL), VT_OK);
    size_t text_len;
    assert_int_equal(ledger_note_verify((char *)out.data, out.len, "k", key.pk, &text_len, NULL),
                     VT_OK);
    assert_int_equal(text_len, 9);
    vt_buf_release(&tiny);
    vt_buf_release(&out);
    vt_key_release(&key);
}

static void test_verifier_keys(void **state)
{
    (void)state;
    char name[LEDGER_NOTE_NAME_MAX];
    uint8_t pk[VT_ED25519_PK_LEN];
    struct vt_error err;

    struct vt_key key;
    vt_key_generate(&key);
    struct vt_buf out;
    vt_buf_init(&out, 4096);
    assert_int_equal(ledger_note_verifier_format("log.example/v1", key.pk, &out, NULL), VT_OK);
    assert_int_equal(ledger_note_verifier_parse((char *)out.data, name, pk, NULL), VT_OK);
    assert_string_equal(name, "log.example/v1");
    assert_memory_equal(pk, key.pk, VT_ED25519_PK_LEN);

    static const struct {
        const char *s;
        enum vt_status st;
        const char *why;
    } bad[] = {
        {"PeterNeumann", VT_ERR_INVALID, "expected <name>+<id>+<key>"},
        {"+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", VT_ERR_INVALID, "empty"},
        {"Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", VT_ERR_INVALID,
         "space"},
        {"PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", VT_ERR_INVALID,
         "8 hex"},
        {"PeterNeumann+c74f20a3", VT_ERR_INVALID, "8 hex"},
        {"PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", VT_ERR_INVALID,
         "lower-case"},
        {"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", VT_ERR_INVALID,
         "does not match"},
        {"PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", VT_ERR_INVALID,
         "does not match"},
        {"PeterNeumann+c74f20a3+BBpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", VT_ERR_UNSUPPORTED,
         "key type 0x04"},
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10Q=", VT_ERR_INVALID,
         "32 bytes"},
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW+", VT_ERR_INVALID,
         "base64"},
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", VT_ERR_INVALID,
         "base64"},
        {"PeterNeumann+c74f20a3+", VT_ERR_INVALID, "0 bytes"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        strcpy(name, "unchanged");
        vt_error_clear(&err);
        enum vt_status st = ledger_note_verifier_parse(bad[i].s, name, pk, &err);
        if (st != bad[i].st || strstr(err.msg, bad[i].why) == NULL)
            fail_msg("'%s': status %s, message '%s', want '%s'", bad[i].s, vt_status_name(st),
                     err.msg, bad[i].why);
        assert_string_equal(name, "unchanged");
    }

    /* Names up to 127 bytes fit; 128 do not. */
    char long_name[LEDGER_NOTE_NAME_MAX + 1];
    memset(long_name, 'n', LEDGER_NOTE_NAME_MAX - 1);
    long_name[LEDGER_NOTE_NAME_MAX - 1] = '\0';
    vt_buf_reset(&out);
    assert_int_equal(ledger_note_verifier_format(long_name, key.pk, &out, NULL), VT_OK);
    assert_int_equal(ledger_note_verifier_parse((char *)out.data, name, pk, NULL), VT_OK);
    assert_string_equal(name, long_name);
    long_name[LEDGER_NOTE_NAME_MAX - 1] = 'n';
    long_name[LEDGER_NOTE_NAME_MAX] = '\0';
    vt_buf_reset(&out);
    expect_err(ledger_note_verifier_format(long_name, key.pk, &out, &err), VT_ERR_TOO_LARGE, &err,
               "longer than 127");
    char long_key[512];
    snprintf(long_key, sizeof(long_key), "%s+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
             long_name);
    expect_err(ledger_note_verifier_parse(long_key, name, pk, &err), VT_ERR_TOO_LARGE, &err,
               "longer than 127");
    expect_err(ledger_note_verifier_format("a+b", key.pk, &out, &err), VT_ERR_INVALID, &err, "'+'");
    vt_buf_release(&out);
    vt_key_release(&key);
}

static void test_checkpoint_round_trip(void **state)
{
    (void)state;
    /* The C2SP tlog-checkpoint example body. */
    const char *example = "example.com/behind-the-sofa\n20852163\n"
                          "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    struct ledger_checkpoint cp;
    struct vt_error err;
    assert_int_equal(ledger_checkpoint_parse(example, strlen(example), &cp, &err), VT_OK);
    assert_string_equal(cp.origin, "example.com/behind-the-sofa");
    assert_true(cp.size == 20852163);
    assert_int_equal(cp.root[0], 0x0a);
    assert_int_equal(cp.root[31], 0x62);

    struct vt_buf out;
    vt_buf_init(&out, 4096);
    assert_int_equal(ledger_checkpoint_format(&cp, &out, NULL), VT_OK);
    assert_string_equal((char *)out.data, example);

    uint64_t sizes[] = {0, 1, 10, 255, 1000000, UINT64_MAX};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct ledger_checkpoint a, b;
        memset(&a, 0, sizeof(a));
        snprintf(a.origin, sizeof(a.origin), "vitae.example/log-%zu", i);
        a.size = sizes[i];
        for (int j = 0; j < LEDGER_HASH_LEN; j++)
            a.root[j] = (uint8_t)(i * 31 + (size_t)j * 7);
        vt_buf_reset(&out);
        assert_int_equal(ledger_checkpoint_format(&a, &out, NULL), VT_OK);
        assert_int_equal(ledger_checkpoint_parse((char *)out.data, out.len, &b, NULL), VT_OK);
        assert_string_equal(a.origin, b.origin);
        assert_true(a.size == b.size);
        assert_memory_equal(a.root, b.root, LEDGER_HASH_LEN);
    }
    vt_buf_reset(&out);
    cp.size = 0;
    assert_int_equal(ledger_checkpoint_format(&cp, &out, NULL), VT_OK);
    assert_non_null(strstr((char *)out.data, "\n0\n"));

    /* Sign, verify, and parse the verified text: the full checkpoint path. */
    struct vt_key key;
    vt_key_generate(&key);
    vt_buf_reset(&out);
    assert_int_equal(ledger_checkpoint_format(&cp, &out, NULL), VT_OK);
    assert_int_equal(ledger_note_sign((char *)out.data, out.len, cp.origin, &key, &out, NULL),
                     VT_OK);
    size_t text_len;
    assert_int_equal(
        ledger_note_verify((char *)out.data, out.len, cp.origin, key.pk, &text_len, NULL), VT_OK);
    struct ledger_checkpoint back;
    assert_int_equal(ledger_checkpoint_parse((char *)out.data, text_len, &back, NULL), VT_OK);
    assert_memory_equal(&back.root, &cp.root, LEDGER_HASH_LEN);
    assert_string_equal(back.origin, cp.origin);
    /* The whole note is not a checkpoint body: its signature lines are extensions. */
    expect_err(ledger_checkpoint_parse((char *)out.data, out.len, &back, &err), VT_ERR_UNSUPPORTED,
               &err, "extension lines");
    vt_buf_release(&out);
    vt_key_release(&key);
}

static void test_checkpoint_rejections(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum vt_status st;
        const char *why;
    } bad[] = {
        {"", VT_ERR_INVALID, "fewer than three"},
        {"o\n1\n", VT_ERR_INVALID, "fewer than three"},
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", VT_ERR_INVALID, "fewer than three"},
        {"\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", VT_ERR_INVALID, "empty origin"},
        {"o\n\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", VT_ERR_INVALID, "empty tree size"},
        {"o\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", VT_ERR_INVALID, "leading zeros"},
        {"o\n00\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", VT_ERR_INVALID, "leading zeros"},
        {"o\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", VT_ERR_INVALID, "decimal"},
        {"o\n+1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", VT_ERR_INVALID, "decimal"},
        {"o\n1 \nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", VT_ERR_INVALID, "decimal"},
        {"o\n0x10\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", VT_ERR_INVALID, "decimal"},
        {"o\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", VT_ERR_INVALID,
         "64 bits"},
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n", VT_ERR_INVALID, "43 base64"},
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I==\n", VT_ERR_INVALID, "45 base64"},
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2Ia\n", VT_ERR_INVALID,
         "decodes to 33 bytes"},
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n", VT_ERR_INVALID,
         "decodes to 31 bytes"},
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", VT_ERR_INVALID, "root hash"},
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2!=\n", VT_ERR_INVALID, "root hash"},
        {"o\n1\n\n", VT_ERR_INVALID, "0 base64"},
        {"o\r\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", VT_ERR_INVALID,
         "control character"},
        {"o\xff\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", VT_ERR_INVALID, "UTF-8"},
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nextension\n", VT_ERR_UNSUPPORTED,
         "extension lines"},
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n", VT_ERR_UNSUPPORTED,
         "extension lines"},
        {"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nx", VT_ERR_UNSUPPORTED,
         "extension lines"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ledger_checkpoint cp;
        memset(&cp, 0xab, sizeof(cp));
        struct vt_error err;
        vt_error_clear(&err);
        enum vt_status st = ledger_checkpoint_parse(bad[i].text, strlen(bad[i].text), &cp, &err);
        if (st != bad[i].st || strstr(err.msg, bad[i].why) == NULL)
            fail_msg("case %zu: status %s, message '%s', want '%s'", i, vt_status_name(st), err.msg,
                     bad[i].why);
        assert_int_equal(cp.origin[0], (char)0xab); /* untouched on failure */
    }

    /* Origins up to 127 bytes; 128 is too long. */
    char text[512];
    char origin[LEDGER_NOTE_NAME_MAX + 1];
    memset(origin, 'o', sizeof(origin) - 1);
    origin[LEDGER_NOTE_NAME_MAX - 1] = '\0';
    snprintf(text, sizeof(text), "%s\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", origin);
    struct ledger_checkpoint cp;
    assert_int_equal(ledger_checkpoint_parse(text, strlen(text), &cp, NULL), VT_OK);
    assert_int_equal(strlen(cp.origin), LEDGER_NOTE_NAME_MAX - 1);
    origin[LEDGER_NOTE_NAME_MAX - 1] = 'o';
    origin[LEDGER_NOTE_NAME_MAX] = '\0';
    snprintf(text, sizeof(text), "%s\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", origin);
    struct vt_error err;
    expect_err(ledger_checkpoint_parse(text, strlen(text), &cp, &err), VT_ERR_INVALID, &err,
               "longer than 127");
    /* A NUL inside the text is a control character, not an end. */
    const char nul_text[] = "o\0x\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    expect_err(ledger_checkpoint_parse(nul_text, sizeof(nul_text) - 1, &cp, &err), VT_ERR_INVALID,
               &err, "control character 0x00");

    /* The writer refuses what the reader would refuse. */
    struct vt_buf out;
    vt_buf_init(&out, 4096);
    memset(&cp, 0, sizeof(cp));
    expect_err(ledger_checkpoint_format(&cp, &out, &err), VT_ERR_INVALID, &err, "empty origin");
    strcpy(cp.origin, "a\nb");
    expect_err(ledger_checkpoint_format(&cp, &out, &err), VT_ERR_INVALID, &err,
               "control character 0x0a");
    memset(cp.origin, 'o', sizeof(cp.origin)); /* no terminating NUL */
    expect_err(ledger_checkpoint_format(&cp, &out, &err), VT_ERR_INVALID, &err, "longer than 127");
    assert_int_equal(out.len, 0);
    vt_buf_release(&out);
}

int main(void)
{
    assert_int_equal(vt_core_init(NULL), VT_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peter_neumann_kat),
        cmocka_unit_test(test_round_trip_and_unknown_signatures),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_malformed_notes),
        cmocka_unit_test(test_sign_rejections),
        cmocka_unit_test(test_verifier_keys),
        cmocka_unit_test(test_checkpoint_round_trip),
        cmocka_unit_test(test_checkpoint_rejections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
