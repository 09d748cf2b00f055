/*
 * Cross-check of vt_json_number against node's JSON.stringify (the definition of a JCS
 * number) on at least a million doubles.
 *
 * Usage: core_crosscheck_jcs_numbers [seed [count]]
 * The seed defaults to one taken from the clock and is printed, so a failure can be
 * replayed. Exits 77 (skipped) when node is not on PATH.
 */
#include "core/core.h"
#include "test_support.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_COUNT 1000000

static bool node_on_path(void)
{
    const char *path = getenv("PATH");
    if (path == NULL)
        return false;
    while (*path != '\0') {
        const char *end = strchr(path, ':');
        size_t len = end != NULL ? (size_t)(end - path) : strlen(path);
        char candidate[4096];
        if (len > 0 && len < sizeof(candidate) - 6) {
            memcpy(candidate, path, len);
            memcpy(candidate + len, "/node", 6);
            if (access(candidate, X_OK) == 0)
                return true;
        }
        if (end == NULL)
            break;
        path = end + 1;
    }
    return false;
}

/* splitmix64: small, fast and good enough to spread bit patterns. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static double from_bits(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

static uint64_t to_bits(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    return bits;
}

/* A few ulps away from d, either way. */
static double wiggle(double d, uint64_t r)
{
    int steps = (int)(r % 9) - 4;
    uint64_t bits = to_bits(d);
    return from_bits(bits + (uint64_t)(int64_t)steps);
}

/*
 * Three draws in ten are values where formatting rules change or where shortest-digit
 * algorithms go wrong; the rest are uniform bit patterns.
 */
static double draw(uint64_t *state)
{
    uint64_t r = next_random(state);
    uint64_t pick = r % 100;
    uint64_t x = next_random(state);
    double sign = (r >> 32) & 1 ? -1.0 : 1.0;
    switch (pick) {
    case 0:
    case 1:
    case 2:
    case 3: /* integers, most of them exact */
        return sign * (double)(x >> (x % 64));
    case 4:
    case 5:
    case 6: /* powers of two and their neighbours */
        return sign * wiggle(ldexp(1.0, (int)(x % 2098) - 1074), x >> 16);
    case 7:
    case 8:
    case 9: /* around 1e21, where the exponent form starts */
        return sign * wiggle(1e21 * (1.0 + (double)(int)(x % 2001 - 1000) * 1e-16), x >> 20);
    case 10:
    case 11:
    case 12: /* around 1e-6 and 1e-7, the other switch of form */
        return sign * wiggle((x & 1 ? 1e-6 : 1e-7) * (1.0 + (double)(int)(x % 2001 - 1000) * 1e-16),
                             x >> 20);
    case 13:
    case 14:
    case 15: { /* powers of ten and their neighbours */
        char text[16];
        snprintf(text, sizeof(text), "1e%d", (int)(x % 617) - 308);
        return sign * wiggle(strtod(text, NULL), x >> 16);
    }
    case 16:
    case 17:
    case 18:
    case 19: { /* short decimals, as people write them */
        char text[64];
        snprintf(text, sizeof(text), "%" PRIu64 "e%d", x % 1000000, (int)((x >> 32) % 60) - 30);
        return sign * strtod(text, NULL);
    }
    case 20:
    case 21: /* subnormals */
        return sign * from_bits(x & ((UINT64_C(1) << 52) - 1));
    case 22:
    case 23:
    case 24: /* doubles near the ends of the exponent range */
        return from_bits((x & UINT64_C(0x800fffffffffffff)) |
                         (uint64_t)(x & 1 ? 0x7fe - (x >> 53) % 8 : 1 + (x >> 53) % 8) << 52);
    case 25:
    case 26:
    case 27:
    case 28:
    case 29: /* uniform in [0, 1000) */
        return sign * (double)(x >> 11) / 9007199254740992.0 * 1000.0;
    default:
        return from_bits(x);
    }
}

int main(int argc, char **argv)
{
    if (!node_on_path()) {
        printf("skipped: node not found; the JSON.stringify cross-check needs node\n");
        return VT_TEST_SKIP;
    }
    if (vt_core_init(NULL) != VT_OK)
        return 1;

    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0)
                             : (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
    long count = argc > 2 ? strtol(argv[2], NULL, 10) : DEFAULT_COUNT;
    if (count <= 0) {
        fprintf(stderr, "usage: %s [seed [count]]\n", argv[0]);
        return 64;
    }
    printf("seed: %" PRIu64 " (replay with: %s %" PRIu64 " %ld)\n", seed, argv[0], seed, count);
    fflush(stdout);

    const char *src = vt_test_source_dir();
    if (strchr(src, '\'') != NULL) {
        fprintf(stderr, "cannot quote source directory '%s'\n", src);
        return 1;
    }
    char command[4200];
    snprintf(command, sizeof(command), "node '%s/tests/unit/core/crosscheck_jcs_numbers.js'", src);

    struct timespec t0;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    FILE *node = popen(command, "w");
    if (node == NULL) {
        fprintf(stderr, "cannot run '%s': %s\n", command, strerror(errno));
        return 1;
    }

    uint64_t state = seed;
    double format_seconds = 0;
    long written = 0;
    while (written < count) {
        double d = draw(&state);
        if (!isfinite(d))
            continue;
        char num[VT_JSON_NUMBER_MAX];
        struct timespec a;
        struct timespec b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        size_t len = vt_json_number(d, num);
        clock_gettime(CLOCK_MONOTONIC, &b);
        format_seconds += (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        if (len == 0) {
            fprintf(stderr, "vt_json_number wrote nothing for %016" PRIx64 "\n", to_bits(d));
            pclose(node);
            return 1;
        }
        if (fprintf(node, "%016" PRIx64 " %s\n", to_bits(d), num) < 0)
            break;
        written++;
    }
    fprintf(node, "end %ld\n", written);
    int status = pclose(node);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double total = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("formatted %ld numbers in %.2f s; whole cross-check %.2f s\n", written, format_seconds,
           total);

    if (status == -1 || !WIFEXITED(status)) {
        fprintf(stderr, "node did not finish normally\n");
        return 1;
    }
    return WEXITSTATUS(status) == 0 && written == count ? 0 : 1;
}
