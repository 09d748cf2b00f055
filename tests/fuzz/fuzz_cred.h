/*
 * The credential side of the fuzz fixture: fixed ES256 and RS256 keys (besides the Ed25519
 * keys of fuzz.h), the names seeds use, and verification options under which the seeds
 * verify: a trust store with the did:web keys, a fixed "now", the presentation binding,
 * and a status lookup that serves two signed status lists.
 */
#ifndef VITAE_FUZZ_CRED_H
#define VITAE_FUZZ_CRED_H

#include "credential/credential.h"
#include "fuzz.h"

#define FUZZ_DID_WEB "did:web:fuzz.example"
#define FUZZ_VM_ES256 FUZZ_DID_WEB "#es256"
#define FUZZ_VM_RS256 FUZZ_DID_WEB "#rs256"
#define FUZZ_STATUS_BASE "https://fuzz.example/status"
#define FUZZ_CHALLENGE "fuzz-challenge-1"
#define FUZZ_DOMAIN "fuzz.example"
/* Bits set in the served lists: revocation-0 index 7, suspension-0 index 9. */
#define FUZZ_REVOKED_INDEX 7
#define FUZZ_SUSPENDED_INDEX 9

/* The fixed key of the type, with its secret (Ed25519: FUZZ_KEY_ISSUER); a new reference. */
struct cred_key *fuzz_cred_key(enum cred_key_type type);

/* The signed status list credential FUZZ_STATUS_BASE/<purpose>-0 ("revocation" or
 * "suspension") with its one bit set, signed by FUZZ_KEY_ISSUER; a new reference. */
json_t *fuzz_cred_status_list_doc(const char *purpose);

/* Fills opt as described above. The state behind it is built on the first call and lives
 * until the process exits. */
void fuzz_cred_verify_options(struct cred_verify_options *opt);

/* cred_verify under those options; checks that the result is consistent and serializes. */
void fuzz_cred_verify(const uint8_t *data, size_t size);

#endif
