/* the float32 normal_'s output (wi_tiles_scalar, mean 0, std 1) against a float64
 * Box-Muller of the same u1 and angle: max error in ulps over 2^NT tiles */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include "fill_kernels.c"
/* fill.c is not linked: a stub for the truncated normal's far tail, never reached here */
double wi_tn_far_tail(double logp) { return logp; }
static double ulp32(double r) { float f = (float)fabs(r); return (double)(nextafterf(f, INFINITY) - f); }
int main(int argc, char **argv) {
    int nt = argc > 1 ? atoi(argv[1]) : 16;
    static float out[1024 * 64];
    wi_job j; memset(&j, 0, sizeof j);
    j.k0 = 12345; j.k1 = 678; j.s0 = 9; j.s1 = 0; j.dtype = WI_F32; j.dist = WI_NORMAL;
    j.tile_elems = 1024; j.scale = 1.0; j.lo = -3.4e38; j.hi = 3.4e38;
    double emax = 0, zmax = 0; long nz = 0;
    for (long t0 = 0; t0 < (1L << nt); t0 += 64) {
        j.out = out; j.offset = (uint64_t)t0 * 1024; j.n = 1024 * 64;
        wi_tiles_scalar(&j, t0, t0 + 64);
        for (int tt = 0; tt < 64; tt++) for (int b = 0; b < 256; b++) {
            uint64_t blk = (uint64_t)(t0 + tt) * 256 + b;
            uint32_t c[4] = {(uint32_t)blk, (uint32_t)(blk >> 32), j.s0, j.s1};
            wi_philox4x32_10(c, j.k0, j.k1);
            for (int h = 0; h < 4; h += 2) {
                float wf = (float)(c[h] | 1u);
                double u1 = (double)(wf < 0x1.fffffep31f ? wf : 0x1.fffffep31f) * 0x1p-32;
                uint32_t w = c[h + 1];
                double v = ((double)(w >> 30) + (double)(((w >> 7) & 0x7fffffu) * 2u + 1u) * 0x1p-24) / 4.0;
                double r = sqrt(-2.0 * log(u1));
                double ref[2] = {r * cos(2 * M_PI * v), r * sin(2 * M_PI * v)};
                for (int k = 0; k < 2; k++) {
                    float got = out[tt * 1024 + (h + k) * 256 + b];
                    double e = fabs(got - ref[k]) / ulp32(ref[k]);
                    if (e > emax) emax = e;
                    if (fabs(got) > zmax) zmax = fabs(got);
                    if (got == 0.0f) nz++;
                }
            }
        }
    }
    printf("%ld elements: max err %.4f ulp, max |z| %.6f, zeros %ld\n", (1L << nt) * 1024, emax, zmax, nz);
    return 0;
}
