/* Allocation that aborts on failure, checked size arithmetic, assertions, randomness. */
#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

static __attribute__((noreturn)) void out_of_memory(size_t size)
{
    fprintf(stderr, "fatal: out of memory, allocating %zu bytes\n", size);
    abort();
}

void vt_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "fatal: assertion failed at %s:%d: %s\n", file, line, expr);
    abort();
}

void *vt_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        out_of_memory(size);
    return p;
}

void *vt_calloc(size_t count, size_t size)
{
    size_t total;
    if (!vt_size_mul(count, size, &total))
        out_of_memory(SIZE_MAX);
    void *p = calloc(total ? total : 1, 1);
    if (p == NULL)
        out_of_memory(total);
    return p;
}

void *vt_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL)
        out_of_memory(size);
    return p;
}

char *vt_strdup(const char *s)
{
    return vt_memdup(s, strlen(s) + 1);
}

void *vt_memdup(const void *p, size_t size)
{
    void *q = vt_malloc(size);
    if (size)
        memcpy(q, p, size);
    return q;
}

bool vt_size_add(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

bool vt_size_mul(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/*
 * libsodium reads the operating system's generator 256 bytes per getrandom call, which made
 * the ledger writer's bulk draws (salts, nonces, data keys for a whole batch) a few hundred
 * system calls each. A larger request takes a 32-byte seed from the operating system and
 * expands it with ChaCha20 (randombytes_buf_deterministic), the construction of
 * arc4random; the seed is wiped at once.
 */
#define RANDOM_DIRECT_MAX 256

void vt_random_bytes(void *buf, size_t len)
{
    if (len <= RANDOM_DIRECT_MAX) {
        randombytes_buf(buf, len);
        return;
    }
    uint8_t seed[randombytes_SEEDBYTES];
    randombytes_buf(seed, sizeof(seed));
    randombytes_buf_deterministic(buf, len, seed);
    sodium_memzero(seed, sizeof(seed));
}
