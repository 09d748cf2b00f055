/*
 * C2SP signed notes and checkpoints: ledger_note_verify against the fixed log key,
 * ledger_checkpoint_parse of the note text (or of the whole input), and
 * ledger_note_verifier_parse of the input as a verifier key string.
 *
 * Invariants: a verified note's text is a prefix of it ending in '\n'; a checkpoint or
 * verifier key that parses formats back to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ledger/ledger.h"

static void checkpoint(const char *text, size_t n)
{
    struct ledger_checkpoint cp;
    struct vt_error err;
    if (ledger_checkpoint_parse(text, n, &cp, &err) != VT_OK)
        return;
    struct vt_buf out;
    vt_buf_init(&out, 4096);
    if (ledger_checkpoint_format(&cp, &out, &err) != VT_OK)
        fuzz_fail("a parsed checkpoint does not format: %s", err.msg);
    if (out.len != n || memcmp(out.data, text, n) != 0)
        fuzz_fail("a %zu-byte checkpoint formats to %zu bytes", n, out.len);
    vt_buf_release(&out);
}

static void verifier(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    char name[LEDGER_NOTE_NAME_MAX];
    uint8_t pk[VT_ED25519_PK_LEN];
    struct vt_error err;
    if (ledger_note_verifier_parse(s, name, pk, &err) == VT_OK) {
        struct vt_buf out;
        vt_buf_init(&out, 4096);
        if (ledger_note_verifier_format(name, pk, &out, &err) != VT_OK)
            fuzz_fail("a parsed verifier key does not format: %s", err.msg);
        if (strcmp(s, (const char *)out.data) != 0)
            fuzz_fail("verifier key '%s' formats as '%s'", s, (const char *)out.data);
        vt_buf_release(&out);
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vt_key key;
    if (!key.has_secret) {
        fuzz_init();
        fuzz_key(FUZZ_KEY_LOG, &key);
    }
    const char *note = (const char *)data;
    size_t text_len = 0;
    struct vt_error err;
    enum vt_status st = ledger_note_verify(note, size, FUZZ_NOTE_NAME, key.pk, &text_len, &err);
    if (st == VT_OK) {
        if (text_len == 0 || text_len > size || note[text_len - 1] != '\n')
            fuzz_fail("a verified note has a text of %zu bytes in %zu", text_len, size);
        checkpoint(note, text_len);
    } else {
        checkpoint(note, size);
    }
    verifier(data, size);
    return 0;
}
