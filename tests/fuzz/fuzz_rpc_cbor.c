/*
 * JSON-RPC 2.0 as deterministic CBOR in WebSocket binary frames (api_cbor_to_json, then
 * api_rpc_run as for text frames). The answer must be deterministic CBOR.
 */
#include "fuzz_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_api_rpc(data, size, true);
    return 0;
}
