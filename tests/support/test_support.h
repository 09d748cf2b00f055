/*
 * Helpers shared by the test programs: where shared material lives, reading files,
 * and the skip convention (exit code 77, which CTest reports as skipped).
 */
#ifndef VITAE_TEST_SUPPORT_H
#define VITAE_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define VT_TEST_SKIP 77

/* The shared material folder: $VITAE_SHARED, else ../shared beside the source tree. */
const char *vt_test_shared_dir(void);

/*
 * Returns a malloc'd path "<shared>/<rel>" if that file or folder exists, else NULL after
 * printing why on stderr. Free with free().
 */
char *vt_test_shared_path(const char *rel);

/*
 * For a test program that cannot run at all without shared material: prints
 * "skipped: ..." and exits 77 when <shared>/<rel> is absent.
 */
void vt_test_require_shared(const char *rel);

/* The source tree root (for scripts next to the tests). */
const char *vt_test_source_dir(void);

/* Reads a whole file; returns a malloc'd, NUL-terminated buffer (or NULL) and its size. */
char *vt_test_read_file(const char *path, size_t *len_out);

/* Decodes a hex string (whitespace ignored) into a malloc'd buffer; aborts on bad hex. */
uint8_t *vt_test_unhex(const char *hex, size_t *len_out);

#endif
