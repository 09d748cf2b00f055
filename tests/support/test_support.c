#include "test_support.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *vt_test_shared_dir(void)
{
    const char *env = getenv("VITAE_SHARED");
    return env != NULL && env[0] != '\0' ? env : VITAE_SHARED_DEFAULT;
}

const char *vt_test_source_dir(void)
{
    return VITAE_SOURCE_DIR;
}

char *vt_test_shared_path(const char *rel)
{
    const char *dir = vt_test_shared_dir();
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *path = malloc(n);
    if (path == NULL)
        abort();
    snprintf(path, n, "%s/%s", dir, rel);
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "shared material '%s' not found (set VITAE_SHARED)\n", path);
        free(path);
        return NULL;
    }
    return path;
}

void vt_test_require_shared(const char *rel)
{
    char *path = vt_test_shared_path(rel);
    if (path == NULL) {
        printf("skipped: needs shared material '%s' under '%s' (set VITAE_SHARED)\n", rel,
               vt_test_shared_dir());
        exit(VT_TEST_SKIP);
    }
    free(path);
}

char *vt_test_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL)
        abort();
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            if (buf == NULL)
                abort();
        }
    }
    fclose(f);
    buf[len] = '\0';
    if (len_out != NULL)
        *len_out = len;
    return buf;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

uint8_t *vt_test_unhex(const char *hex, size_t *len_out)
{
    size_t n = strlen(hex);
    uint8_t *out = malloc(n / 2 + 1);
    if (out == NULL)
        abort();
    size_t len = 0;
    int hi = -1;
    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)hex[i]))
            continue;
        int v = hex_value((unsigned char)hex[i]);
        if (v < 0) {
            fprintf(stderr, "bad hex in test data at %zu\n", i);
            abort();
        }
        if (hi < 0) {
            hi = v;
        } else {
            out[len++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        fprintf(stderr, "odd-length hex in test data\n");
        abort();
    }
    *len_out = len;
    return out;
}
