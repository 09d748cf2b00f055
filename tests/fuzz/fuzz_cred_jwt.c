/*
 * Credential verification of compact JWS (cred_verify): header and payload base64url and
 * JSON, both payload shapes (application/vc+jwt and the Open Badges "vc" claim), EdDSA
 * under did:key, ES256 and RS256 under trusted did:web methods, and the JWT claims.
 */
#include "fuzz_cred.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_cred_verify(data, size);
    return 0;
}
