/*
 * Corpus replay: runs every file of the folders (or files) named on the command line
 * through LLVMFuzzerTestOneInput, so that the fuzz corpora and regressions run as plain
 * tests with any compiler. Usage:
 *
 *     fuzz-replay-<name> [-v] PATH... [--optional PATH...] [--shared REL...]
 *
 * PATHs must exist; those after --optional may be missing (regression folders); those
 * after --shared are relative to the shared material ($VITAE_SHARED, else the configured
 * default) and are skipped with a note when absent. Folders are read one level deep, in
 * name order, skipping names that start with '.'. Exits 0 when every input ran, 1 on a
 * missing required path or an unreadable file, 77 (skipped) when there was no input at
 * all; a failing input aborts, as under libFuzzer.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SKIPPED 77

static bool verbose;
static size_t inputs;

/* Reads a whole file into an exactly sized allocation (so over-reads are caught). */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open '%s': %s\n", path, strerror(errno));
        return 1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    bool bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: cannot read '%s'\n", path);
        free(buf);
        return 1;
    }
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact)
        abort();
    memcpy(exact, buf, len);
    free(buf);
    if (verbose)
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    inputs++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open '%s': %s\n", dir, strerror(errno));
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof(*names));
            if (!names)
                abort();
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), cmp_names);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && run_file(path) != 0)
            rc = 1;
        free(names[i]);
    }
    free(names);
    return rc;
}

static int run_path(const char *path, bool optional)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (optional)
            return 0;
        fprintf(stderr, "replay: '%s' does not exist\n", path);
        return 1;
    }
    return S_ISDIR(st.st_mode) ? run_dir(path) : run_file(path);
}

static const char *shared_dir(void)
{
    const char *env = getenv("VITAE_SHARED");
    return env && *env ? env : VITAE_SHARED_DEFAULT;
}

int main(int argc, char **argv)
{
    enum { REQUIRED, OPTIONAL, SHARED } mode = REQUIRED;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-v")) {
            verbose = true;
        } else if (!strcmp(a, "--optional")) {
            mode = OPTIONAL;
        } else if (!strcmp(a, "--shared")) {
            mode = SHARED;
        } else if (mode == SHARED) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", shared_dir(), a);
            struct stat st;
            if (stat(path, &st) != 0)
                printf("replay: shared seeds '%s' absent (set VITAE_SHARED); skipping them\n",
                       path);
            else if (run_path(path, false) != 0)
                rc = 1;
        } else if (run_path(a, mode == OPTIONAL) != 0) {
            rc = 1;
        }
    }
    printf("replay: %zu inputs\n", inputs);
    if (rc == 0 && inputs == 0)
        return SKIPPED;
    return rc;
}
