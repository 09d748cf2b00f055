/* One-time initialization of the cryptographic libraries. */
#include "core/core.h"
#include "core/core_int.h"

#include <pthread.h>

#include <sodium.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static enum vt_status init_status = VT_OK;
static const char *init_failure;

static void init_libraries(void)
{
    if (sodium_init() < 0) {
        init_status = VT_ERR_CRYPTO;
        init_failure = "cannot initialize libsodium";
        return;
    }
    if (vt_sha256_init_md() != VT_OK) {
        init_status = VT_ERR_CRYPTO;
        init_failure = "cannot fetch SHA-256 from OpenSSL";
    }
}

enum vt_status vt_core_init(struct vt_error *err)
{
    pthread_once(&init_once, init_libraries);
    if (init_status != VT_OK)
        return vt_error_set(err, init_status, "%s", init_failure);
    return VT_OK;
}
