/* The pieces of fuzz.h that need only core. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void init_once(void)
{
    struct vt_error err;
    if (vt_core_init(&err) != VT_OK) {
        fprintf(stderr, "fuzz: vt_core_init failed: %s\n", err.msg);
        abort();
    }
}

void fuzz_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
}

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz: invariant broken: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = vt_malloc(size + 1);
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#define TMPDIRS_MAX 8

static char *tmpdirs[TMPDIRS_MAX];
static size_t n_tmpdirs;

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tmpdirs(void)
{
    for (size_t i = 0; i < n_tmpdirs; i++) {
        nftw(tmpdirs[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(tmpdirs[i]);
    }
    n_tmpdirs = 0;
}

const char *fuzz_tmpdir(const char *tag)
{
    if (n_tmpdirs == TMPDIRS_MAX)
        fuzz_fail("more than %d scratch directories", TMPDIRS_MAX);
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    char path[4096];
    snprintf(path, sizeof(path), "%s/vitae-fuzz-%s-XXXXXX", base, tag);
    if (!mkdtemp(path)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    if (n_tmpdirs == 0)
        atexit(remove_tmpdirs);
    tmpdirs[n_tmpdirs] = vt_strdup(path);
    return tmpdirs[n_tmpdirs++];
}

void fuzz_key(enum fuzz_key which, struct vt_key *key)
{
    uint8_t seed[VT_ED25519_SEED_LEN];
    for (unsigned i = 0; i < sizeof(seed); i++)
        seed[i] = (uint8_t)(((unsigned)which << 5) + i + 1);
    vt_key_from_seed(key, seed);
}
