/*
 * Portable twin bundle import (ledger_bundle_import) into a scratch ledger: the CBOR
 * layout, the checkpoint note, every event and payload, sealed payloads (opened with the
 * fixed recipient key) and the head's inclusion proof are checked before anything is
 * written. Only a bundle that verifies writes, once; importing it again changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ledger/ledger.h"

static struct ledger *ledger;
static uint8_t recipient_sk[VT_X25519_LEN];

static void close_ledger(void)
{
    ledger_close(ledger);
    ledger = NULL;
}

static void setup(void)
{
    fuzz_init();
    const char *dir = fuzz_tmpdir("bundle");
    struct vt_key service, recipient;
    fuzz_key(FUZZ_KEY_SERVICE, &service);
    fuzz_key(FUZZ_KEY_RECIPIENT, &recipient);
    uint8_t pk[VT_X25519_LEN];
    struct vt_error err;
    if (vt_key_x25519(&recipient, pk, recipient_sk, &err) != VT_OK)
        fuzz_fail("cannot derive the recipient key: %s", err.msg);
    struct ledger_options o;
    ledger_options_init(&o);
    o.key = &service;
    o.origin = "fuzz.example/import";
    if (ledger_open(dir, &o, &ledger, &err) != VT_OK)
        fuzz_fail("cannot open the scratch ledger: %s", err.msg);
    vt_key_release(&service);
    vt_key_release(&recipient);
    atexit(close_ledger);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ledger)
        setup();
    struct ledger_bundle_result res;
    struct vt_error err;
    memset(&res, 0, sizeof(res));
    if (ledger_bundle_import(ledger, data, size, recipient_sk, &res, &err) == VT_OK) {
        if (res.imported + res.present != res.events)
            fuzz_fail("import counted %llu imported + %llu present of %llu events",
                      (unsigned long long)res.imported, (unsigned long long)res.present,
                      (unsigned long long)res.events);
        struct ledger_chain_report rep;
        if (ledger_verify_learner(ledger, res.learner, &rep, &err) != VT_OK)
            fuzz_fail("an imported chain does not verify: %s", err.msg);
    }
    return 0;
}
