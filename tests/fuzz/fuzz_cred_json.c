/*
 * Credential and presentation verification from JSON (cred_verify): Data Integrity
 * eddsa-jcs-2022 proof sets, the VC 2.0 / Open Badges 3.0 / CLR 2.0 checks, enveloped
 * credentials inside presentations, endorsements, and Bitstring Status List entries
 * resolved through the fixture's two signed lists.
 */
#include "fuzz_cred.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_cred_verify(data, size);
    return 0;
}
