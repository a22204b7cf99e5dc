/* Haar-distributed unitary matrices: the complex form of Stewart's (1980)
 * Householder product (see householder.h). Unblocked: one reflector at a time,
 * each applied column by column; columns are independent, so threads share
 * them out and every entry is computed by the same operations in the same order
 * whatever the thread count. Complex numbers are (re, im) pairs of doubles with
 * explicit arithmetic (no C complex types: their multiplication may take
 * library slow paths), computed in float64 for complex64 and complex128 alike
 * and rounded once to the output. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "householder.h"
#include "wi_hypot.h"

#define RE(a, k) (a)[2 * (k)]
#define IM(a, k) (a)[2 * (k) + 1]
#define MIN_PAR_WORK 32768   /* entries per reflector below which one thread is faster */

/* x (len complex entries) -> v, tau, phase: H = I - tau v v^H maps x to
 * -phase * ||x|| e_1, with phase = x_0 / |x_0| (1 when x_0 = 0); v overwrites x. */
static void reflector(double *x, int64_t len, double *tau, double *ph_re, double *ph_im) {
    double ss = 0.0;
    for (int64_t i = 0; i < len; i++) ss += RE(x, i) * RE(x, i) + IM(x, i) * IM(x, i);
    double norm = sqrt(ss), a0 = wi_hypot(RE(x, 0), IM(x, 0));
    double pr = a0 > 0 ? RE(x, 0) / a0 : 1.0, pi = a0 > 0 ? IM(x, 0) / a0 : 0.0;
    *ph_re = pr; *ph_im = pi;
    if (norm == 0.0) { *tau = 0.0; return; }
    /* v_0 = x_0 + phase ||x|| = phase (|x_0| + ||x||): no cancellation */
    RE(x, 0) = pr * (a0 + norm);
    IM(x, 0) = pi * (a0 + norm);
    *tau = 1.0 / (norm * (norm + a0));          /* 2 / (v^H v) */
}

/* C[j:, c] -= tau v (v^H C[j:, c]) for one column c of the column-major Q.
 * The dot product keeps 4 partial sums (entry i goes to sum i mod 4), added in
 * a fixed order at the end: the loop vectorizes and the bits stay fixed. */
static void apply_column(const double *v, int64_t len, double tau, double *col) {
    double pr[4] = {0, 0, 0, 0}, pi[4] = {0, 0, 0, 0};
    int64_t body = len & ~(int64_t)3;
    for (int64_t i = 0; i < body; i += 4)        /* w = v^H col */
        for (int k = 0; k < 4; k++) {
            pr[k] += RE(v, i + k) * RE(col, i + k) + IM(v, i + k) * IM(col, i + k);
            pi[k] += RE(v, i + k) * IM(col, i + k) - IM(v, i + k) * RE(col, i + k);
        }
    for (int64_t i = body; i < len; i++) {
        pr[i - body] += RE(v, i) * RE(col, i) + IM(v, i) * IM(col, i);
        pi[i - body] += RE(v, i) * IM(col, i) - IM(v, i) * RE(col, i);
    }
    double wr = ((pr[0] + pr[1]) + (pr[2] + pr[3])) * tau, wi = ((pi[0] + pi[1]) + (pi[2] + pi[3])) * tau;
    for (int64_t i = 0; i < len; i++) {          /* col -= v w */
        double vr = RE(v, i), vi = IM(v, i);
        RE(col, i) -= vr * wr - vi * wi;
        IM(col, i) -= vr * wi + vi * wr;
    }
}

/* The M x N Gaussian sample matrix (column-major, complex entry i of column j at
 * flat j*M + i): parts of the float32 normal stream for complex64 (dtype WI_F32),
 * of the float64 one for complex128, widened to float64. */
static int gaussian(double *g, int64_t M, int64_t N, const wi_orthogonal_request *r, int threads) {
    wi_fill_request fr;
    memset(&fr, 0, sizeof fr);
    fr.n = 2 * (uint64_t)M * (uint64_t)N;
    fr.seed = r->seed; fr.stream = r->stream; fr.dtype = r->dtype; fr.dist = WI_NORMAL;
    fr.params[0] = 0.0; fr.params[1] = 1.0; fr.threads = threads; fr.isa = r->isa;
    if (r->dtype == WI_F64) { fr.out = g; return wi_fill(&fr); }
    float *f = malloc(fr.n * sizeof(float));
    if (!f) return WI_ENOMEM;
    fr.out = f;
    int code = wi_fill(&fr);
    for (uint64_t k = 0; !code && k < fr.n; k++) g[k] = (double)f[k];
    free(f);
    return code;
}

/* Q = H_0 ... H_{N-1} [I; 0] into q (column-major M x N), accumulated from the last
 * reflector (v_j at g + 2 (j M + j), tau_j = tau[3 j]); WI_ECANCELLED if *cancel is
 * set between reflectors. */
static int form_q(const double *g, const double *tau, double *q, int64_t M, int64_t N, int threads,
                  const int *cancel) {
    memset(q, 0, (size_t)M * (size_t)N * 2 * sizeof(double));
    for (int64_t j = 0; j < N; j++) RE(q, j * M + j) = 1.0;
    for (int64_t j = N - 1; j >= 0; j--) {
        if (cancel && __atomic_load_n(cancel, __ATOMIC_RELAXED)) return WI_ECANCELLED;
        const double *v = g + 2 * (j * M + j);
        int64_t len = M - j, ncol = N - j;
        int nt = (double)len * (double)ncol < MIN_PAR_WORK ? 1 : threads;
        (void)nt;
        #pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (int64_t c = j; c < N; c++) apply_column(v, len, tau[3 * j], q + 2 * (c * M + j));
    }
    return WI_OK;
}

/* out = gain Q D (tall: rows >= cols) or its transpose, D = diag(-phase_j) (phase_j =
 * (tau[3 j + 1], tau[3 j + 2])), which makes diag(R) real and positive; rounded once
 * to float32 parts unless wide. */
static void store_q(const double *q, const double *tau, int64_t M, int64_t N, int tall, int wide, double gain,
                    void *out) {
    double *o64 = (double *)out;
    float *o32 = (float *)out;
    for (int64_t c = 0; c < N; c++) {
        double dr = -tau[3 * c + 1] * gain, di = -tau[3 * c + 2] * gain;
        for (int64_t i = 0; i < M; i++) {
            double a = RE(q, c * M + i), b = IM(q, c * M + i);
            double yr = a * dr - b * di, yi = a * di + b * dr;
            int64_t k = tall ? i * N + c : c * M + i;    /* out[i][c], or out = Q^T: out[c][i] */
            if (wide) { o64[2 * k] = yr; o64[2 * k + 1] = yi; }
            else { o32[2 * k] = (float)yr; o32[2 * k + 1] = (float)yi; }
        }
    }
}

int wi_orthogonal_complex(const wi_orthogonal_request *r) {
    if (r->dtype != WI_F32 && r->dtype != WI_F64) return WI_EDTYPE;
    if (!isfinite(r->gain)) return WI_EPARAM;
    if (r->rows == 0 || r->cols == 0) return WI_OK;
    uint64_t rows = r->rows, cols = r->cols;
    if (rows > (uint64_t)INT64_MAX / cols / 32) return WI_ERANGE;
    int64_t M = (int64_t)(rows >= cols ? rows : cols), N = (int64_t)(rows >= cols ? cols : rows);
    int threads = r->threads < 1 ? 1 : r->threads;
    size_t bytes = (size_t)M * (size_t)N * 2 * sizeof(double);
    double *g = malloc(bytes), *q = malloc(bytes);
    double *tau = malloc((size_t)N * 3 * sizeof(double));
    if (!g || !q || !tau) { free(g); free(q); free(tau); return WI_ENOMEM; }
    int code = gaussian(g, M, N, r, threads);
    if (code) { free(g); free(q); free(tau); return code; }
    /* reflectors in place of the lower part of each column of g */
    for (int64_t j = 0; j < N; j++)
        reflector(g + 2 * (j * M + j), M - j, &tau[3 * j], &tau[3 * j + 1], &tau[3 * j + 2]);
    code = form_q(g, tau, q, M, N, threads, r->cancel);   /* out not written if cancelled */
    if (!code) store_q(q, tau, M, N, rows >= cols, r->dtype == WI_F64, r->gain, r->out);
    free(g); free(q); free(tau);
    return code;
}

/* Rows p0..p1-1 of the columns q0..q1-1 of Q, as wi_orthogonal_complex forms them: the
 * columns are independent (each reflector is applied to each column on its own), and
 * reflector j needs only the samples of column j of the Gaussian matrix (flat parts
 * 2 (j M + j) .. 2 (j M + M) - 1, regenerated from the stream). A slab of columns
 * s0..s1-1 is formed full height (M x (s1 - s0) complex workspace) with reflectors
 * s1-1 down to 0, by the same operations as the whole path, then the asked rows are
 * written. */
int wi_orthogonal_complex_block(const wi_orthogonal_request *r, uint64_t r0, uint64_t c0, uint64_t h,
                                uint64_t w) {
    if (r->dtype != WI_F32 && r->dtype != WI_F64) return WI_EDTYPE;
    if (!isfinite(r->gain)) return WI_EPARAM;
    uint64_t rows = r->rows, cols = r->cols;
    if (r0 > rows || h > rows - r0 || c0 > cols || w > cols - c0) return WI_ERANGE;
    if (h == 0 || w == 0) return WI_OK;
    if (rows > (uint64_t)INT64_MAX / cols / 32) return WI_ERANGE;
    const int tall = rows >= cols;
    int64_t M = (int64_t)(tall ? rows : cols);
    int64_t p0 = (int64_t)(tall ? r0 : c0), p1 = p0 + (int64_t)(tall ? h : w);
    int64_t q0 = (int64_t)(tall ? c0 : r0), q1 = q0 + (int64_t)(tall ? w : h);
    int64_t drs = tall ? (int64_t)w : 1, dcs = tall ? 1 : (int64_t)w;   /* Q(i, c) -> out */
    int64_t slab = wi_block_slab(M, p1 - p0, q1 - q0);   /* does not change the bits */
    int threads = r->threads < 1 ? 1 : r->threads;
    double *q = malloc((size_t)M * (size_t)slab * 2 * sizeof(double));
    double *x = malloc((size_t)M * 2 * sizeof(double));
    float *f = r->dtype == WI_F32 ? malloc((size_t)M * 2 * sizeof(float)) : NULL;
    double *ph = malloc((size_t)slab * 2 * sizeof(double));
    if (!q || !x || !ph || (r->dtype == WI_F32 && !f)) { free(q); free(x); free(f); free(ph); return WI_ENOMEM; }
    int code = WI_OK;
    double *o64 = (double *)r->out;
    float *o32 = (float *)r->out;
    const int wide = r->dtype == WI_F64;
    for (int64_t s0 = q0; s0 < q1 && !code; s0 += slab) {
        int64_t s1 = q1 - s0 < slab ? q1 : s0 + slab, sw = s1 - s0;
        memset(q, 0, (size_t)M * (size_t)sw * 2 * sizeof(double));
        for (int64_t c = s0; c < s1; c++) RE(q, (c - s0) * M + c) = 1.0;
        for (int64_t j = s1 - 1; j >= 0 && !code; j--) {
            if (r->cancel && __atomic_load_n(r->cancel, __ATOMIC_RELAXED)) { code = WI_ECANCELLED; break; }
            int64_t len = M - j;
            wi_fill_request fr;
            memset(&fr, 0, sizeof fr);
            fr.n = 2 * (uint64_t)len;
            fr.offset = 2 * ((uint64_t)j * (uint64_t)M + (uint64_t)j);
            fr.seed = r->seed; fr.stream = r->stream; fr.dtype = r->dtype; fr.dist = WI_NORMAL;
            fr.params[0] = 0.0; fr.params[1] = 1.0; fr.threads = 1; fr.isa = r->isa;
            fr.out = wide ? (void *)x : (void *)f;
            code = wi_fill(&fr);
            if (code) break;
            if (!wide)
                for (uint64_t k = 0; k < fr.n; k++) x[k] = (double)f[k];
            double t, pr, pi;
            reflector(x, len, &t, &pr, &pi);
            if (j >= s0) { ph[2 * (j - s0)] = pr; ph[2 * (j - s0) + 1] = pi; }
            int64_t a = j > s0 ? j : s0, ncol = s1 - a;
            int nt = (double)len * (double)ncol < MIN_PAR_WORK ? 1 : threads;
            (void)nt;
            #pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
            for (int64_t c = a; c < s1; c++) apply_column(x, len, t, q + 2 * ((c - s0) * M + j));
        }
        if (code) break;
        for (int64_t c = s0; c < s1; c++) {
            double dr = -ph[2 * (c - s0)] * r->gain, di = -ph[2 * (c - s0) + 1] * r->gain;
            for (int64_t i = p0; i < p1; i++) {
                double a = RE(q, (c - s0) * M + i), b = IM(q, (c - s0) * M + i);
                double yr = a * dr - b * di, yi = a * di + b * dr;
                int64_t k = (i - p0) * drs + (c - q0) * dcs;
                if (wide) { o64[2 * k] = yr; o64[2 * k + 1] = yi; }
                else { o32[2 * k] = (float)yr; o32[2 * k + 1] = (float)yi; }
            }
        }
    }
    free(q); free(x); free(f); free(ph);
    return code;
}

/* a <- the unitary factor of a = QR (rows >= cols) or of a^T = QR (rows < cols, then
 * a <- Q^T), with real positive diag(R) (R_jj = 0 counts as positive): unblocked
 * complex Householder QR in float64, the same reflectors and column application as
 * the Haar path, so the bits do not depend on the thread count. */
int wi_orthogonalize_complex(void *a, uint64_t rows, uint64_t cols, wi_dtype part, int threads) {
    if (part != WI_F32 && part != WI_F64) return WI_EDTYPE;
    if (rows == 0 || cols == 0) return WI_OK;
    if (rows > (uint64_t)INT64_MAX / cols / 32) return WI_ERANGE;
    int64_t M = (int64_t)(rows >= cols ? rows : cols), N = (int64_t)(rows >= cols ? cols : rows);
    if (threads < 1) threads = 1;
    size_t bytes = (size_t)M * (size_t)N * 2 * sizeof(double);
    double *g = malloc(bytes), *q = malloc(bytes);
    double *tau = malloc((size_t)N * 3 * sizeof(double));
    if (!g || !q || !tau) { free(g); free(q); free(tau); return WI_ENOMEM; }
    double *a64 = (double *)a;
    float *a32 = (float *)a;
    const int wide = part == WI_F64;
    /* g = the column-major M x N matrix: a, or a^T when rows < cols */
    for (int64_t c = 0; c < N; c++)
        for (int64_t i = 0; i < M; i++) {
            int64_t k = rows >= cols ? i * N + c : c * M + i;
            RE(g, c * M + i) = wide ? a64[2 * k] : (double)a32[2 * k];
            IM(g, c * M + i) = wide ? a64[2 * k + 1] : (double)a32[2 * k + 1];
        }
    /* R: reflector j from column j as the earlier reflectors left it, applied to the
     * columns right of it (H_j is Hermitian: tau is real) */
    for (int64_t j = 0; j < N; j++) {
        double *v = g + 2 * (j * M + j);
        int64_t len = M - j;
        reflector(v, len, &tau[3 * j], &tau[3 * j + 1], &tau[3 * j + 2]);
        if (tau[3 * j] == 0.0) { tau[3 * j + 1] = -1.0; tau[3 * j + 2] = 0.0; }  /* R_jj = 0: D_jj = 1 */
        int nt = (double)len * (double)(N - j - 1) < MIN_PAR_WORK ? 1 : threads;
        (void)nt;
        #pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (int64_t c = j + 1; c < N; c++) apply_column(v, len, tau[3 * j], g + 2 * (c * M + j));
    }
    form_q(g, tau, q, M, N, threads, NULL);
    store_q(q, tau, M, N, rows >= cols, wide, 1.0, a);   /* R_jj = -phase_j ||x_j||: diag(R D^-1) > 0 */
    free(g); free(q); free(tau);
    return WI_OK;
}
