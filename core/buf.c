/* Bounded, NUL-terminated byte buffer. */
#include "core/core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Points every empty buffer at a shared "" so data is always a valid C string. */
static uint8_t empty_data[1];

void vt_buf_init(struct vt_buf *b, size_t max)
{
    VT_ASSERT(max > 0);
    b->data = empty_data;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void vt_buf_release(struct vt_buf *b)
{
    if (b == NULL)
        return;
    if (b->cap > 0)
        free(b->data);
    b->data = empty_data;
    b->len = 0;
    b->cap = 0;
}

void vt_buf_release_secret(struct vt_buf *b)
{
    if (b == NULL)
        return;
    if (b->cap > 0)
        sodium_memzero(b->data, b->cap);
    vt_buf_release(b);
}

void vt_buf_reset(struct vt_buf *b)
{
    b->len = 0;
    if (b->cap > 0)
        b->data[0] = '\0';
}

uint8_t *vt_buf_detach(struct vt_buf *b, size_t *len_out)
{
    uint8_t *p = b->cap > 0 ? b->data : vt_calloc(1, 1);
    if (len_out != NULL)
        *len_out = b->len;
    b->data = empty_data;
    b->len = 0;
    b->cap = 0;
    return p;
}

enum vt_status vt_buf_grow(struct vt_buf *b, size_t extra, struct vt_error *err)
{
    size_t need;
    if (!vt_size_add(b->len, extra, &need) || need > b->max)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "buffer would exceed its cap of %zu bytes",
                            b->max);
    if (need <= b->cap)
        return VT_OK;

    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need)
        cap = cap > b->max / 2 ? b->max : cap * 2;
    if (cap > b->max)
        cap = b->max;
    uint8_t *old = b->cap > 0 ? b->data : NULL;
    b->data = vt_realloc(old, cap + 1);
    b->data[b->len] = '\0';
    b->cap = cap;
    return VT_OK;
}

enum vt_status vt_buf_append(struct vt_buf *b, const void *p, size_t n, struct vt_error *err)
{
    if (n == 0)
        return VT_OK;
    enum vt_status st = vt_buf_grow(b, n, err);
    if (st != VT_OK)
        return st;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return VT_OK;
}

enum vt_status vt_buf_append_str(struct vt_buf *b, const char *s, struct vt_error *err)
{
    return vt_buf_append(b, s, strlen(s), err);
}

enum vt_status vt_buf_append_byte(struct vt_buf *b, uint8_t c, struct vt_error *err)
{
    return vt_buf_append(b, &c, 1, err);
}

enum vt_status vt_buf_printf(struct vt_buf *b, struct vt_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return vt_error_set(err, VT_ERR_INVALID, "cannot format '%s'", fmt);

    enum vt_status st = vt_buf_grow(b, (size_t)n, err);
    if (st != VT_OK)
        return st;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return VT_OK;
}

enum vt_status vt_buf_read_file(struct vt_buf *b, const char *path, struct vt_error *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        return vt_error_set(err, e == ENOENT ? VT_ERR_NOT_FOUND : VT_ERR_IO, "cannot open '%s': %s",
                            path, strerror(e));
    }

    size_t start = b->len;
    enum vt_status st = VT_OK;
    uint8_t chunk[16384];
    for (;;) {
        size_t got = fread(chunk, 1, sizeof(chunk), f);
        if (got > 0 && (st = vt_buf_append(b, chunk, got, err)) != VT_OK) {
            vt_error_prefix(err, st, "cannot read '%s'", path);
            break;
        }
        if (got < sizeof(chunk)) {
            if (ferror(f))
                st = vt_error_set(err, VT_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
            break;
        }
    }
    if (!is_stdin)
        fclose(f);
    if (st != VT_OK) {
        b->len = start;
        if (b->cap > 0)
            b->data[start] = '\0';
    }
    return st;
}
