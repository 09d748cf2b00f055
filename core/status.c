/* Status names and the fixed-size error record. */
#include "core/core.h"

#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
    [VT_OK] = "ok",
    [VT_ERR_INVALID] = "invalid",
    [VT_ERR_NONCANONICAL] = "noncanonical",
    [VT_ERR_TRUNCATED] = "truncated",
    [VT_ERR_TOO_LARGE] = "too_large",
    [VT_ERR_TOO_DEEP] = "too_deep",
    [VT_ERR_DUPLICATE] = "duplicate",
    [VT_ERR_UNSUPPORTED] = "unsupported",
    [VT_ERR_NOT_FOUND] = "not_found",
    [VT_ERR_EXISTS] = "exists",
    [VT_ERR_CONFLICT] = "conflict",
    [VT_ERR_VERIFY] = "verify",
    [VT_ERR_PERMISSION] = "permission",
    [VT_ERR_IO] = "io",
    [VT_ERR_FULL] = "full",
    [VT_ERR_BUSY] = "busy",
    [VT_ERR_CRYPTO] = "crypto",
    [VT_ERR_INTERNAL] = "internal",
};

const char *vt_status_name(enum vt_status status)
{
    if ((size_t)status < sizeof(status_names) / sizeof(status_names[0]) &&
        status_names[status] != NULL)
        return status_names[status];
    return "unknown";
}

void vt_error_clear(struct vt_error *err)
{
    if (err == NULL)
        return;
    err->status = VT_OK;
    err->msg[0] = '\0';
}

enum vt_status vt_error_set(struct vt_error *err, enum vt_status status, const char *fmt, ...)
{
    if (err == NULL)
        return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    err->status = status;
    return status;
}

enum vt_status vt_error_prefix(struct vt_error *err, enum vt_status status, const char *fmt, ...)
{
    if (err == NULL)
        return status;
    char prefix[VT_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);

    /* Shift the old message right, truncating its tail, and put the prefix in front.
     * The prefix gets at most half the room so the underlying cause always survives. */
    size_t plen = strnlen(prefix, sizeof(err->msg) / 2 - 1);
    size_t shift = plen + 2;
    size_t keep = strnlen(err->msg, sizeof(err->msg) - 1);
    if (keep > sizeof(err->msg) - 1 - shift)
        keep = sizeof(err->msg) - 1 - shift;
    memmove(err->msg + shift, err->msg, keep);
    err->msg[shift + keep] = '\0';
    memcpy(err->msg, prefix, plen);
    err->msg[plen] = ':';
    err->msg[plen + 1] = ' ';
    err->status = status;
    return status;
}
