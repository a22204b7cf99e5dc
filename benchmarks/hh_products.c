/* The products of one block of orthogonal_'s apply step, timed in C on one
 * thread, and checked bit for bit against the scalar path.
 *
 * For every chunk of CW columns of an L x N matrix Q (as householder_tmpl.h's
 * apply_block does): W1 = V^T Q[:, chunk] (S1), W2 = T W1 (S2), Q[:, chunk] -=
 * V W2 (S3), with V L x 128 and T 128 x 128. Prints the best GFLOP/s of S1, S3
 * and of the whole (6 runs); with a fourth argument 1, also runs the scalar
 * kernels and says whether Q has the same bits.
 *
 * Build (from the repository root) and run:
 *   F="-std=c11 -O3 -ffp-contract=off -fno-math-errno -fno-trapping-math -fno-tree-loop-distribute-patterns -Icsrc"
 *   gcc $F -DWI_ISA_SUFFIX=avx2 -mavx2 -mfma -c csrc/hh_kernels.c -o /tmp/hh_avx2.o
 *   gcc $F -DWI_ISA_SUFFIX=scalar -fno-tree-vectorize -c csrc/hh_kernels.c -o /tmp/hh_scalar.o
 *   gcc -O2 -Icsrc benchmarks/hh_products.c /tmp/hh_avx2.o /tmp/hh_scalar.o -lm -o /tmp/hh_products
 *   flock /tmp/bench.lock /tmp/hh_products 4096 4096 64      # L N CW [check]
 * Q is given transparent huge pages, as numpy gives its large arrays. Times are
 * CPU time of the process (less disturbed by other processes on a shared VM). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "hh_kernels.h"

extern const wi_hh_kernels wi_hh_kernels_avx2, wi_hh_kernels_scalar;

enum { NB = WI_HH_NB };

static void *alloc(size_t bytes, size_t align) {
    return aligned_alloc(align, (bytes + align - 1) / align * align);
}

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* one pass over Q; t[0..2] += time of S1, S2, S3 */
static void apply(const wi_hh_kernels *K, int64_t L, int64_t N, int64_t CW, const float *V, const float *T,
                  float *Q, float *W1, float *W2, float *work, double *t) {
    for (int64_t j0 = 0; j0 < N; j0 += CW) {
        int64_t n = N - j0 < CW ? N - j0 : CW;
        float *C = Q + j0;
        double s = cpu_seconds();
        K->gemm_f32(NB, n, L, V, 1, NB, C, N, 1, W1, n, 1, WI_HH_SET, work);
        double u = cpu_seconds();
        K->gemm_f32(NB, n, NB, T, NB, 1, W1, n, 1, W2, n, 1, WI_HH_SET, work);
        double v = cpu_seconds();
        K->gemm_f32(L, n, NB, V, NB, 1, W2, n, 1, C, N, 1, WI_HH_SUB, work);
        double w = cpu_seconds();
        t[0] += u - s; t[1] += v - u; t[2] += w - v;
    }
}

int main(int argc, char **argv) {
    int64_t L = argc > 1 ? atoll(argv[1]) : 4096, N = argc > 2 ? atoll(argv[2]) : 4096;
    int64_t CW = argc > 3 ? atoll(argv[3]) : 64;
    int check = argc > 4 && atoi(argv[4]);
    if (L < 1 || N < 1 || CW < 1 || CW > 1024) {
        fprintf(stderr, "usage: %s L N CW [check]  (CW <= 1024)\n", argv[0]);
        return 2;
    }
    size_t qbytes = (size_t)(L * N) * sizeof(float);
    float *V = alloc((size_t)(L * NB) * sizeof(float), 64), *T = alloc(NB * NB * sizeof(float), 64);
    float *Q = alloc(qbytes, 1 << 21), *Q0 = malloc(qbytes);
    float *work = alloc((size_t)WI_HH_GEMM_WORK * sizeof(float), 64);
    float *W1 = alloc((size_t)(NB * CW) * sizeof(float), 64), *W2 = alloc((size_t)(NB * CW) * sizeof(float), 64);
    if (!V || !T || !Q || !Q0 || !work || !W1 || !W2) { fprintf(stderr, "out of memory\n"); return 1; }
    madvise(Q, qbytes, MADV_HUGEPAGE);
    srand(1);
    for (int64_t i = 0; i < L * NB; i++) V[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    for (int64_t i = 0; i < L * N; i++) Q[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    for (int64_t i = 0; i < NB * NB; i++) T[i] = ((float)rand() / (float)RAND_MAX - 0.5f) * 0.01f;
    memcpy(Q0, Q, qbytes);
    double best[4] = {1e30, 1e30, 1e30, 1e30};
    for (int rep = 0; rep < (check ? 1 : 6); rep++) {
        double t[3] = {0, 0, 0};
        apply(&wi_hh_kernels_avx2, L, N, CW, V, T, Q, W1, W2, work, t);
        for (int i = 0; i < 3; i++) best[i] = t[i] < best[i] ? t[i] : best[i];
        best[3] = t[0] + t[1] + t[2] < best[3] ? t[0] + t[1] + t[2] : best[3];
    }
    double f = 2.0 * NB * (double)L * (double)N;
    printf("L=%lld N=%lld CW=%lld, avx2, 1 thread, best: S1 V^T C %.1f GFLOP/s, S3 C -= V W %.1f GFLOP/s, "
           "all three %.1f GFLOP/s\n", (long long)L, (long long)N, (long long)CW, f / best[0] / 1e9,
           f / best[2] / 1e9, (2 * f + 2.0 * NB * NB * (double)N) / best[3] / 1e9);
    if (check) {
        double t[3] = {0, 0, 0};
        apply(&wi_hh_kernels_scalar, L, N, CW, V, T, Q0, W1, W2, work, t);
        printf("same bits as the scalar kernels: %s\n", memcmp(Q, Q0, qbytes) == 0 ? "yes" : "NO");
    }
    free(V); free(T); free(Q); free(Q0); free(work); free(W1); free(W2);
    return 0;
}
