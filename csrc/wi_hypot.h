/* wi_hypot: sqrt(a^2 + b^2) by one fixed sequence of IEEE 754 operations, so that the
 * bits are the same on every platform and C library (glibc's hypot rounds differently
 * on x86-64 and aarch64). Steps: exact scaling of both by the power of two that puts
 * the larger in [0.5, 1); the squares and their sum as a double-double (fma gives each
 * square's rounding error exactly); one square root corrected by its exact residual
 * (fma). Only correctly rounded operations (+ - * / sqrt fma, frexp, ldexp), compiled
 * without contraction (-ffp-contract=off), hence identical everywhere. The result is
 * the correctly rounded hypot except, rarely, within about 2^-100 relative of a
 * halfway case (tests/test_hypot.py counts them), and where it is subnormal (the final
 * ldexp rounds a second time); the same bits everywhere in every case. */
#ifndef WI_HYPOT_H
#define WI_HYPOT_H
#include <math.h>

static inline double wi_hypot(double a, double b) {
    a = fabs(a);
    b = fabs(b);
    if (isinf(a) || isinf(b)) return INFINITY;      /* even with a NaN, as C's hypot */
    if (isnan(a) || isnan(b)) return a + b;
    double x = a >= b ? a : b, y = a >= b ? b : a;
    if (y == 0.0) return x;
    int e;
    double xs = frexp(x, &e);                       /* x = xs 2^e, xs in [0.5, 1): exact */
    double ys = ldexp(y, -e);                       /* exact unless far below 2^-60 */
    if (ys < 0x1p-60) return x;                     /* y^2 / 2x is under 2^-119 x: rounds to x */
    double xx = xs * xs, xe = fma(xs, xs, -xx);     /* xs^2 = xx + xe exactly */
    double yy = ys * ys, ye = fma(ys, ys, -yy);
    double s = xx + yy;                             /* xx >= yy: fast two-sum */
    double lo = ((xx - s) + yy) + (xe + ye);        /* xs^2 + ys^2 = s + lo (to ~2^-104 s) */
    double h = sqrt(s);
    double r = fma(-h, h, s) + lo;                  /* s - h^2 is exact */
    return ldexp(h + r / (2.0 * h), e);
}
#endif
