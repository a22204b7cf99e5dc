/* accuracy of the float32 normal's pieces against float64 references:
 * radius over every float u1 the normal can use, sin/cos over every angle word
 * (bits 7..31), and the log over the same u1 */
#define _GNU_SOURCE
#include <stdio.h>
#include <math.h>
#include "fill_kernels.c"
static double ulp32(double r) { float f = (float)fabs(r); return (double)(nextafterf(f, INFINITY) - f); }
int main(void) {
    double er = 0, el = 0; float wr = 0, wl = 0;
    /* u1 = fl32(w|1) 2^-32 clamped: every float in [2^-32, 1 - 2^-24] */
    for (float u = 0x1p-32f; u <= 0x1.fffffep-1f; u = nextafterf(u, 2.0f)) {
        float r = __builtin_sqrtf(RADSQ(u));
        double rr = sqrt(-2.0 * log((double)u));
        double e = fabs(r - rr) / ulp32(rr);
        if (e > er) { er = e; wr = u; }
        float l = wi_logf(u); double lr = log((double)u);
        e = fabs(l - lr) / ulp32(lr);
        if (e > el) { el = e; wl = u; }
    }
    printf("radius max err %.4f ulp at u1=%a; log max err %.4f ulp at %a\n", er, wr, el, wl);
    double ec = 0, es = 0;
    for (uint32_t k = 0; k < (1u << 25); k++) {
        uint32_t w = k << 7 | 0x55;
        float c, s; turn_f32(w, &c, &s);
        /* angle 2 pi (quad + f) / 4 in units of turns, exact in double */
        double v = ((double)(w >> 30) + (double)(((w >> 7) & 0x7fffffu) * 2u + 1u) * 0x1p-24) / 4.0;
        double rc = cos(2 * M_PI * v), rs = sin(2 * M_PI * v);
        double e1 = fabs(c - rc) / ulp32(rc), e2 = fabs(s - rs) / ulp32(rs);
        if (e1 > ec) ec = e1;
        if (e2 > es) es = e2;
        if ((c == 0.0f) || (s == 0.0f)) printf("zero at %u\n", w);
    }
    printf("turn max err cos %.4f ulp, sin %.4f ulp\n", ec, es);
    return 0;
}
/* fill.c is not linked: a stub for the truncated normal's far tail, never reached here */
double wi_tn_far_tail(double logp) { return logp; }
