/* Helpers shared by the twin unit tests. */
#ifndef VITAE_TWIN_TEST_H
#define VITAE_TWIN_TEST_H

#include "test_support.h"

#include <math.h>

/* Fails unless |a - b| ≤ eps, printing both values (cmocka compares floats only). */
static inline void twin_test_near(double a, double b, double eps, const char *file, int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%.17g != %.17g (tolerance %g)\n", a, b, eps);
        _fail(file, line);
    }
}
#define assert_near(a, b, eps) twin_test_near((a), (b), (eps), __FILE__, __LINE__)

#endif
