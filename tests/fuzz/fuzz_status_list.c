/*
 * Bitstring Status List decoding (cred_status_list_decode): multibase, base64url, GZIP
 * inflation with its 16 MiB cap, and the minimum length. A decoded list has a size that
 * is a multiple of 8 and at least the minimum, and every bit in it can be read.
 */
#include <stdlib.h>

#include "fuzz_cred.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    char *text = fuzz_cstr(data, size);
    struct cred_status_list *l = NULL;
    struct vt_error err;
    if (cred_status_list_decode(text, &l, &err) == VT_OK) {
        size_t n = cred_status_list_size(l);
        if (n < CRED_STATUS_MIN_ENTRIES || n % 8 != 0)
            fuzz_fail("decoded a list of %zu entries", n);
        (void)cred_status_list_get(l, 0);
        (void)cred_status_list_get(l, n - 1);
        (void)cred_status_list_get(l, n / 2 + 3);
        if (cred_status_list_set(l, n, true, &err) == VT_OK)
            fuzz_fail("set bit %zu of a %zu-entry list", n, n);
    }
    cred_status_list_free(l);
    free(text);
    return 0;
}
