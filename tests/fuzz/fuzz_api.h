/*
 * The vitaed fixture of the rpc and http targets: a server handle with its data directory,
 * ledger, principal store, twin and issuer open, but no listener and no workers; requests
 * run on the calling thread. The ledger holds a few events of FUZZ_API_LEARNER and one
 * issued credential, so that read methods find something.
 */
#ifndef VITAE_FUZZ_API_H
#define VITAE_FUZZ_API_H

#include "api/api_int.h"
#include "fuzz.h"

/* The learner with events, and the principal the rpc target's session belongs to. */
#define FUZZ_API_LEARNER_HEX "11111111111111111111111111111111"
#define FUZZ_API_ORIGIN "fuzz.example/api"

/* The server, built on the first call; closed when the process exits. */
struct api_server *fuzz_api_server(void);

/* The session of a logged-in principal with the learner and verifier roles, owning
 * FUZZ_API_LEARNER (read methods only: it may not append or administer). */
void fuzz_api_session(struct api_session *sess);

/* Runs one WebSocket message (a text frame, or a binary one when binary is set) through
 * api_rpc_run under fuzz_api_session, checks that the answer is well formed, and forgets
 * the state the message left behind. */
void fuzz_api_rpc(const uint8_t *data, size_t size, bool binary);

/* Forgets the presentation challenges handed out so far (state that inputs add to). */
void fuzz_api_reset(struct api_server *s);

#endif
