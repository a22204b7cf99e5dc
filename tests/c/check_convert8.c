/* Exhaustive check of the float8 encoders (csrc/convert8.h): every finite float32,
 * both formats, against a reference written independently (a search of the value
 * table for the nearest value, ties to the even code, overflow by the format's rule).
 * Run by tests/test_float8.py::test_encoders_exhaustively (slow, needs a C compiler). */
#include <stdio.h>
#include <math.h>
#include "convert8.h"
static double val(int e4, int c) { return e4 ? (double)wi_e4m3_to_f32((uint8_t)c) : (double)wi_e5m2_to_f32((uint8_t)c); }
int main(void) {
    for (int e4 = 1; e4 >= 0; e4--) {
        double pos[128]; int n = 0;               /* finite non-negative codes 0..max */
        for (int c = 0; c < 128; c++) { double v = val(e4, c); if (isfinite(v)) pos[n++] = v; }
        double top = pos[n - 1], beyond = e4 ? 480.0 : 65536.0, half = (top + beyond) / 2;
        unsigned long long bad = 0;
        for (uint64_t b = 0; b < (1ull << 32); b++) {
            float f = wi_bits_f32((uint32_t)b);
            if (!isfinite(f)) continue;
            double x = fabs((double)f);
            int sign = signbit(f) ? 0x80 : 0, ref;
            if (x > half || (x == half && !e4)) ref = (e4 ? 0x7f : 0x7c) | sign;
            else {
                int lo = 0, hi = n - 1;                     /* largest pos[k] <= x */
                while (lo < hi) { int mid = (lo + hi + 1) / 2; if (pos[mid] <= x) lo = mid; else hi = mid - 1; }
                int k = lo;
                if (k < n - 1) {
                    double d0 = x - pos[k], d1 = pos[k + 1] - x;
                    if (d1 < d0 || (d1 == d0 && (k & 1))) k++;   /* tie: even code */
                } else if (x > top) { /* between top and half: rounds to top */ }
                ref = k | sign;
            }
            int got = e4 ? wi_f32_to_e4m3(f) : wi_f32_to_e5m2(f);
            if (got != ref && bad++ < 5) printf("%s %08llx %g got %02x ref %02x\n", e4 ? "e4m3" : "e5m2", (unsigned long long)b, (double)f, got, ref);
        }
        printf("%s: %llu mismatches over all finite float32\n", e4 ? "e4m3fn" : "e5m2", bad);
    }
    return 0;
}
