/*
 * COSE_Sign1 (application/vc+cose): cred_verify on raw and base64url-text messages, and the
 * low-level cred_cose_verify1 against each fixed key. A payload that verifies lies inside
 * the message.
 */
#include "fuzz_cred.h"

static struct cred_key *keys[3];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!keys[0]) {
        keys[0] = fuzz_cred_key(CRED_KEY_ED25519);
        keys[1] = fuzz_cred_key(CRED_KEY_P256);
        keys[2] = fuzz_cred_key(CRED_KEY_RSA);
    }
    fuzz_cred_verify(data, size);
    for (size_t i = 0; i < 3; i++) {
        const uint8_t *payload = NULL;
        size_t len = 0;
        struct vt_error err;
        if (cred_cose_verify1(keys[i], data, size, &payload, &len, &err) == VT_OK && len > 0 &&
            (payload < data || len > size || payload + len > data + size))
            fuzz_fail("cose_verify1 gave a payload outside the message");
    }
    return 0;
}
