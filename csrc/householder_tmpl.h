/* Body of householder.c for one compute type: included with R, SFX, WDT (the
 * wi_dtype of R), GEMM and REFLECT (kernel table members) defined. */
#define HCAT2(a, b) a##_##b
#define HCAT(a, b) HCAT2(a, b)
#define HFN(name) HCAT(name, SFX)
#define NB WI_HH_NB

typedef struct {
    const wi_hh_kernels *K;
    R *V;               /* panel of reflectors, M x NB row-major, explicit 1 and 0 */
    R *G, *S;           /* NB x NB */
    R *scratch;         /* per thread: gemm work, two NB x CHUNK_COLS blocks, column */
    int64_t stride;
    int nt;
    const int *cancel;  /* NULL or the caller's cancel flag */
} HFN(ws);

static int HFN(stop)(const HFN(ws) *w) { return w->cancel && __atomic_load_n(w->cancel, __ATOMIC_RELAXED); }

static R *HFN(tbuf)(const HFN(ws) *w) { return w->scratch + (int64_t)thread_id() * w->stride; }

static void HFN(ws_free)(HFN(ws) *w) {
    free(w->V); free(w->G); free(w->S); free(w->scratch);
}

static int HFN(ws_alloc)(HFN(ws) *w, const wi_hh_kernels *K, int64_t M, int nt) {
    memset(w, 0, sizeof *w);
    w->K = K;
    w->nt = nt;
    w->stride = (WI_HH_GEMM_WORK + 2 * NB * CHUNK_COLS + M + NB + 15) & ~(int64_t)15;
    w->V = alloc64((size_t)M * NB * sizeof(R));
    w->G = alloc64((size_t)NB * NB * sizeof(R));
    w->S = alloc64((size_t)NB * NB * sizeof(R));
    w->scratch = alloc64((size_t)w->stride * (size_t)nt * sizeof(R));
    if (!w->V || !w->G || !w->S || !w->scratch) { HFN(ws_free)(w); return WI_ENOMEM; }
    return WI_OK;
}

/* Householder vector of x (len >= 1, x[i * st]), LAPACK xLARFG conventions:
 * H x = beta e_1 with H = I - tau v v^T, v_0 = 1; x[i * st] <- v_i for i >= 1.
 * Computed in float64. Returns the sign of beta (+1 for beta = 0). */
static int HFN(reflector)(R *x, int64_t len, int64_t st, R *tau) {
    double alpha = (double)x[0], amax = 0.0;
    for (int64_t i = 1; i < len; i++) {
        double a = fabs((double)x[i * st]);
        amax = a > amax ? a : amax;
    }
    if (amax == 0.0) { *tau = 0; return alpha >= 0 ? 1 : -1; }
    double sc = (amax > 0x1p500 || amax < 0x1p-500) ? amax : 1.0, ss = 0.0;
    for (int64_t i = 1; i < len; i++) {
        double t = (double)x[i * st] / sc;
        ss += t * t;
    }
    double xn = sc * sqrt(ss);
    double beta = -copysign(wi_hypot(alpha, xn), alpha);
    *tau = (R)((beta - alpha) / beta);
    double f = 1.0 / (alpha - beta);
    for (int64_t i = 1; i < len; i++) x[i * st] = (R)((double)x[i * st] * f);
    return beta >= 0 ? 1 : -1;
}

/* T (upper triangular, ld NB) of H_0 ... H_{kb-1} = I - V T V^T (xLARFT, forward,
 * columnwise), with G = V^T V from the product kernel. */
static void HFN(build_T)(HFN(ws) *w, int64_t L, int64_t kb, const R *tau, R *T) {
    R *G = w->G;
    const R *V = w->V;
    const wi_hh_kernels *K = w->K;
    int nt = useful_threads(w->nt, 2.0 * (double)L * (double)kb * (double)kb);
    int64_t nch = (kb + 31) / 32;     /* column chunks of G: same bits for any split */
    (void)nt;
    #pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
    for (int64_t ch = 0; ch < nch; ch++) {
        int64_t c0 = ch * 32, n = kb - c0 < 32 ? kb - c0 : 32;
        K->GEMM(kb, n, L, V, 1, NB, V + c0, NB, 1, G + c0, NB, 1, WI_HH_SET, HFN(tbuf)(w));
    }
    for (int64_t i = 0; i < kb; i++) {
        for (int64_t r = 0; r < i; r++) {
            double s = 0.0;
            for (int64_t q = r; q < i; q++) s += (double)T[r * NB + q] * (double)G[q * NB + i];
            T[r * NB + i] = (R)(-(double)tau[i] * s);
        }
        T[i * NB + i] = tau[i];
        for (int64_t r = i + 1; r < kb; r++) T[r * NB + i] = 0;
    }
}

/* C (L x ncols, strides rsc, csc) <- (I - V op(T) V^T) C, op(T) = T or T^T */
static void HFN(apply_block)(HFN(ws) *w, int64_t L, int64_t kb, const R *T, int trans,
                             R *C, int64_t rsc, int64_t csc, int64_t ncols) {
    if (ncols <= 0) return;
    int nt = useful_threads(w->nt, 4.0 * (double)L * (double)kb * (double)ncols);
    int64_t cw = CHUNK_COLS;
    if (ncols < (int64_t)nt * CHUNK_COLS) {
        cw = (ncols + nt - 1) / nt;
        cw = (cw + 15) & ~(int64_t)15;
    }
    int64_t nch = (ncols + cw - 1) / cw;
    const R *V = w->V;
    const wi_hh_kernels *K = w->K;
    (void)nt;
    #pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
    for (int64_t ch = 0; ch < nch; ch++) {
        if (HFN(stop)(w)) continue;
        int64_t j0 = ch * cw, n = ncols - j0 < cw ? ncols - j0 : cw;
        R *gw = HFN(tbuf)(w), *W1 = gw + WI_HH_GEMM_WORK, *W2 = W1 + NB * CHUNK_COLS;
        R *Cc = C + j0 * csc;
        K->GEMM(kb, n, L, V, 1, NB, Cc, rsc, csc, W1, n, 1, WI_HH_SET, gw);
        K->GEMM(kb, n, kb, T, trans ? 1 : NB, trans ? NB : 1, W1, n, 1, W2, n, 1, WI_HH_SET, gw);
        K->GEMM(L, n, kb, V, NB, 1, W2, n, 1, Cc, rsc, csc, WI_HH_SUB, gw);
    }
}

/* Columns ca..cb-1 of the block (Q[:, k+ca:k+cb]) <- ([I; 0] - V T V1^T) D, zero above
 * row k. P is the address of column k+ca, row 0 (strides rs, cs). Each column is
 * computed by the same operations whichever columns are asked for (the products
 * sum every entry in a fixed order), so a subset equals those columns of the whole. */
static void HFN(form_cols)(HFN(ws) *w, R *P, int64_t rs, int64_t cs, int64_t k, int64_t kb,
                           int64_t L, const R *T, const signed char *d, int64_t ca, int64_t cb) {
    R *S = w->S + ca;
    int64_t n = cb - ca;
    if (n <= 0) return;
    w->K->GEMM(kb, n, kb, T, NB, 1, w->V + ca * NB, 1, NB, S, NB, 1, WI_HH_SET, w->scratch);
    for (int64_t c = 0; c < n; c++)
        if (d[ca + c] < 0)
            for (int64_t r = 0; r < kb; r++) S[r * NB + c] = -S[r * NB + c];
    int nt = useful_threads(w->nt, 2.0 * (double)(L + k) * (double)kb * (double)n);
    int64_t nch = (L + k + CHUNK_ROWS - 1) / CHUNK_ROWS;
    const R *V = w->V;
    const wi_hh_kernels *K = w->K;
    (void)nt;
    #pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
    for (int64_t ch = 0; ch < nch; ch++) {
        if (HFN(stop)(w)) continue;
        /* rows g0..g1 of Q (global), the panel starts at row k */
        int64_t g0 = ch * CHUNK_ROWS, g1 = g0 + CHUNK_ROWS < L + k ? g0 + CHUNK_ROWS : L + k;
        if (cs == 1) {
            for (int64_t g = g0; g < g1; g++)
                for (int64_t c = 0; c < n; c++)
                    P[g * rs + c] = g == k + ca + c ? (R)d[ca + c] : (R)0;
        } else {
            for (int64_t c = 0; c < n; c++)
                for (int64_t g = g0; g < g1; g++)
                    P[g * rs + c * cs] = g == k + ca + c ? (R)d[ca + c] : (R)0;
        }
        int64_t a0 = g0 > k ? g0 : k;     /* rows of the panel in this chunk */
        if (g1 > a0)
            K->GEMM(g1 - a0, n, kb, V + (a0 - k) * NB, NB, 1, S, NB, 1, P + a0 * rs, rs, cs,
                    WI_HH_SUB, HFN(tbuf)(w));
    }
}

/* Q[k:, k:k+kb] <- ([I; 0] - V T V1^T) D, Q[:k, k:k+kb] <- 0 */
static void HFN(form_panel)(HFN(ws) *w, R *Q, int64_t rs, int64_t cs, int64_t k, int64_t kb,
                            int64_t L, const R *T, const signed char *d) {
    HFN(form_cols)(w, Q + k * cs, rs, cs, k, kb, L, T, d, 0, kb);
}

static void HFN(scale)(R *Q, int64_t n, double gain, int threads) {
    if (gain == 1.0) return;
    int nt = useful_threads(threads, (double)n);
    (void)nt;
    #pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int64_t i = 0; i < n; i++) Q[i] = (R)((double)Q[i] * gain);
}

/* The reflectors k..k+kb-1 (one panel) from the stream: w->V (explicit 1 and 0),
 * tau, d = sign(beta). */
static int HFN(gen_panel)(HFN(ws) *w, int64_t M, int64_t k, int64_t kb, uint64_t seed,
                          uint64_t stream, int isa, R *tau, signed char *d) {
    int64_t L = M - k;
    int code = WI_OK;
    int gnt = useful_threads(w->nt, 30.0 * (double)L * (double)kb);
    (void)gnt;
    #pragma omp parallel for schedule(dynamic, 1) num_threads(gnt) if (gnt > 1)
    for (int64_t jj = 0; jj < kb; jj++) {
        R *x = HFN(tbuf)(w) + WI_HH_GEMM_WORK + 2 * NB * CHUNK_COLS;
        int64_t j = k + jj, len = M - j;
        wi_fill_request fr;
        memset(&fr, 0, sizeof fr);
        fr.out = x; fr.n = (uint64_t)len; fr.offset = (uint64_t)j * (uint64_t)M + (uint64_t)j;
        fr.seed = seed; fr.stream = stream; fr.dtype = WDT; fr.dist = WI_NORMAL;
        fr.params[0] = 0.0; fr.params[1] = 1.0; fr.threads = 1; fr.isa = isa;
        int c = wi_fill(&fr);
        if (c) {
            #pragma omp atomic write
            code = c;
        }
        d[jj] = (signed char)HFN(reflector)(x, len, 1, &tau[jj]);
        R *v = w->V + jj;
        for (int64_t i = 0; i < jj; i++) v[i * NB] = 0;
        v[jj * NB] = 1;
        for (int64_t i = jj + 1; i < L; i++) v[i * NB] = x[i - jj];
    }
    return code;
}

/* Q (M x N, strides rs, cs) <- Haar sample times gain */
static int HFN(haar)(const wi_hh_kernels *K, R *Q, int64_t M, int64_t N, int64_t rs, int64_t cs,
                     double gain, uint64_t seed, uint64_t stream, int threads, int isa, const int *cancel) {
    HFN(ws) w;
    int nt = useful_threads(threads, 2.0 * (double)M * (double)N * (double)N);
    int code = HFN(ws_alloc)(&w, K, M, nt);
    if (code) return code;
    w.cancel = cancel;
    R *T = alloc64((size_t)NB * NB * sizeof(R)), tau[NB];
    signed char d[NB];
    if (!T) { HFN(ws_free)(&w); return WI_ENOMEM; }
    int64_t nblocks = (N + NB - 1) / NB;
    for (int64_t b = nblocks - 1; b >= 0 && !code; b--) {
        int64_t k = b * NB, kb = N - k < NB ? N - k : NB, L = M - k;
        code = HFN(gen_panel)(&w, M, k, kb, seed, stream, isa, tau, d);
        if (code) break;
        HFN(build_T)(&w, L, kb, tau, T);
        HFN(apply_block)(&w, L, kb, T, 0, Q + k * rs + (k + kb) * cs, rs, cs, N - k - kb);
        HFN(form_panel)(&w, Q, rs, cs, k, kb, L, T, d);
        if (HFN(stop)(&w)) code = WI_ECANCELLED;
    }
    if (!code) HFN(scale)(Q, M * N, gain, nt);
    free(T);
    HFN(ws_free)(&w);
    return code;
}

/* Rows p0..p1-1 of the columns q0..q1-1 of the Haar Q (M x N) of haar(), times gain
 * as there, into dst: Q(i, j) goes to dst[(i - p0) * drs + (j - q0) * dcs].
 * Columns of Q are independent under the reflectors applied from the left, and
 * column j needs only the panels 0..j / NB: a slab of columns s0..s1-1 is formed
 * full height by exactly the operations haar() does on those columns (its panels
 * regenerated from the stream, last first), then the asked rows are kept. Slabs of
 * `slab` columns bound the memory; a block of whole columns in one slab is formed in
 * dst itself (no workspace). */
static int HFN(haar_block)(const wi_hh_kernels *K, R *dst, int64_t drs, int64_t dcs, int64_t M,
                           int64_t N, int64_t p0, int64_t p1, int64_t q0, int64_t q1, int64_t slab,
                           double gain, uint64_t seed, uint64_t stream, int threads, int isa,
                           const int *cancel) {
    HFN(ws) w;
    int64_t nq = q1 - q0;
    int nt = useful_threads(threads, 2.0 * (double)M * (double)(q1 < NB ? NB : q1) * (double)nq);
    int code = HFN(ws_alloc)(&w, K, M, nt);
    if (code) return code;
    w.cancel = cancel;
    if (slab > nq) slab = nq;
    const int direct = p0 == 0 && p1 == M && slab == nq;
    R *T = alloc64((size_t)NB * NB * sizeof(R)), tau[NB];
    R *W = direct ? dst : alloc64((size_t)M * (size_t)slab * sizeof(R));
    signed char d[NB];
    if (!T || !W) { free(T); if (!direct) free(W); HFN(ws_free)(&w); return WI_ENOMEM; }
    for (int64_t s0 = q0; s0 < q1 && !code; s0 += slab) {
        int64_t s1 = q1 - s0 < slab ? q1 : s0 + slab, sw = s1 - s0;
        int64_t wrs = direct ? drs : sw, wcs = direct ? dcs : 1;     /* W(i, j - s0) */
        for (int64_t b = (s1 - 1) / NB; b >= 0; b--) {
            int64_t k = b * NB, kb = N - k < NB ? N - k : NB, L = M - k;
            code = HFN(gen_panel)(&w, M, k, kb, seed, stream, isa, tau, d);
            if (code) break;
            HFN(build_T)(&w, L, kb, tau, T);
            int64_t a = s0 > k + kb ? s0 : k + kb;      /* formed columns right of the panel */
            if (a < s1) HFN(apply_block)(&w, L, kb, T, 0, W + k * wrs + (a - s0) * wcs, wrs, wcs, s1 - a);
            int64_t ca = (s0 > k ? s0 : k) - k, cb = (s1 < k + kb ? s1 : k + kb) - k;
            if (ca < cb) HFN(form_cols)(&w, W + (k + ca - s0) * wcs, wrs, wcs, k, kb, L, T, d, ca, cb);
            if (HFN(stop)(&w)) { code = WI_ECANCELLED; break; }
        }
        if (code) break;
        if (direct) {           /* one slab: dst is the whole contiguous M x nq block */
            HFN(scale)(dst, M * nq, gain, threads);
            continue;
        }
        for (int64_t i = p0; i < p1; i++) {
            const R *wr = W + i * sw;
            R *o = dst + (i - p0) * drs + (s0 - q0) * dcs;
            if (gain == 1.0) for (int64_t j = 0; j < sw; j++) o[j * dcs] = wr[j];
            else for (int64_t j = 0; j < sw; j++) o[j * dcs] = (R)((double)wr[j] * gain);
        }
    }
    free(T);
    if (!direct) free(W);
    HFN(ws_free)(&w);
    return code;
}

/* A (M x N, strides rs, cs) <- Q of A = QR, diag(R) >= 0 */
static int HFN(qr)(const wi_hh_kernels *K, R *A, int64_t M, int64_t N, int64_t rs, int64_t cs, int threads) {
    HFN(ws) w;
    int nt = useful_threads(threads, 4.0 * (double)M * (double)N * (double)N);
    int code = HFN(ws_alloc)(&w, K, M, nt);
    if (code) return code;
    int64_t nblocks = (N + NB - 1) / NB;
    R *Tall = alloc64((size_t)nblocks * NB * NB * sizeof(R));
    R *tau = alloc64((size_t)N * sizeof(R));
    signed char *d = alloc64((size_t)N);
    if (!Tall || !tau || !d) { free(Tall); free(tau); free(d); HFN(ws_free)(&w); return WI_ENOMEM; }
    R *V = w.V;
    for (int64_t b = 0; b < nblocks; b++) {
        int64_t k = b * NB, kb = N - k < NB ? N - k : NB, L = M - k;
        R *Ab = A + k * rs + k * cs;
        for (int64_t i = 0; i < L; i++)
            for (int64_t c = 0; c < kb; c++) V[i * NB + c] = Ab[i * rs + c * cs];
        for (int64_t jj = 0; jj < kb; jj++) {
            d[k + jj] = (signed char)HFN(reflector)(V + jj * NB + jj, L - jj, NB, &tau[k + jj]);
            K->REFLECT(V, L, NB, jj, kb, tau[k + jj], w.scratch);
        }
        for (int64_t jj = 0; jj < kb; jj++) {
            for (int64_t i = jj + 1; i < L; i++) Ab[i * rs + jj * cs] = V[i * NB + jj];
            for (int64_t i = 0; i < jj; i++) V[i * NB + jj] = 0;
            V[jj * NB + jj] = 1;
        }
        R *T = Tall + b * NB * NB;
        HFN(build_T)(&w, L, kb, tau + k, T);
        HFN(apply_block)(&w, L, kb, T, 1, Ab + kb * cs, rs, cs, N - k - kb);
    }
    for (int64_t b = nblocks - 1; b >= 0; b--) {
        int64_t k = b * NB, kb = N - k < NB ? N - k : NB, L = M - k;
        R *Ab = A + k * rs + k * cs;
        for (int64_t i = 0; i < L; i++)
            for (int64_t c = 0; c < kb; c++)
                V[i * NB + c] = i < c ? (R)0 : i == c ? (R)1 : Ab[i * rs + c * cs];
        R *T = Tall + b * NB * NB;
        HFN(apply_block)(&w, L, kb, T, 0, Ab + kb * cs, rs, cs, N - k - kb);
        HFN(form_panel)(&w, A, rs, cs, k, kb, L, T, d + k);
    }
    free(Tall); free(tau); free(d);
    HFN(ws_free)(&w);
    return code;
}

#undef HCAT2
#undef HCAT
#undef HFN
#undef NB
