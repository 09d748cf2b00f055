/*
 * DID parsing: did:key (vt_didkey_parse, vt_didkey_document) and did:web URLs
 * (cred_didweb_url), as verification methods name them in proofs, JWT kid and COSE kid.
 *
 * Invariant: a did:key that parses is exactly the DID (or DID URL) written for its key.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_cred.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    char *did = fuzz_cstr(data, size);
    uint8_t pk[VT_ED25519_PK_LEN];
    struct vt_error err;
    if (vt_didkey_parse(did, size, pk, &err) == VT_OK) {
        char plain[VT_DIDKEY_MAX], vm[VT_DIDKEY_MAX];
        vt_didkey_from_public(pk, plain);
        vt_didkey_vm_from_public(pk, vm);
        if (strlen(did) != size || (strcmp(did, plain) != 0 && strcmp(did, vm) != 0))
            fuzz_fail("did:key '%s' parses but is written '%s'", did, plain);
    }
    json_t *doc = NULL;
    if (vt_didkey_document(did, &doc, &err) == VT_OK) {
        if (!json_is_object(doc))
            fuzz_fail("a did:key document is not an object");
        json_decref(doc);
    }
    char *url = NULL;
    if (cred_didweb_url(did, &url, &err) == VT_OK && strncmp(url, "https://", 8) != 0)
        fuzz_fail("did:web '%s' resolves to '%s'", did, url);
    free(url);
    free(did);
    return 0;
}
