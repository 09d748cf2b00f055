/*
 * JSON-RPC 2.0 in WebSocket text frames (api_rpc_run): parsing with the server's caps,
 * batches, request validation, the authorization table, and the parameter checks of every
 * method a learner-and-verifier principal may call. The answer must be valid JSON.
 */
#include "fuzz_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_api_rpc(data, size, false);
    return 0;
}
