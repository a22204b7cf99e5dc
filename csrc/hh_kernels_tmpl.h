/* Body of hh_kernels.c for one real type: included with R (type), SFX, FMA,
 * MR and NR (register tile) defined. */
#define TFN(name) WI_FN(WI_CAT(name, SFX))

#if WI_HH_MC % MR != 0 || WI_HH_NC % NR != 0
#error "WI_HH_MC / WI_HH_NC must be multiples of the register tile"
#endif

/* A (mc x kc) into slivers of MR rows: ap[s][p][r], zero padded */
static void TFN(pack_a)(int64_t mc, int64_t kc, const R *A, int64_t rsa, int64_t csa, R *restrict ap) {
    for (int64_t s = 0; s * MR < mc; s++) {
        int64_t rows = mc - s * MR < MR ? mc - s * MR : MR;
        R *d = ap + s * kc * MR;
        const R *restrict a = A + s * MR * rsa;
        if (rows == MR && csa == 1) {
            for (int r = 0; r < MR; r++)
                for (int64_t p = 0; p < kc; p++) d[p * MR + r] = a[r * rsa + p];
        } else {
            for (int64_t p = 0; p < kc; p++) {
                int r = 0;
                for (; r < rows; r++) d[p * MR + r] = a[r * rsa + p * csa];
                for (; r < MR; r++) d[p * MR + r] = 0;
            }
        }
    }
}

/* B (kc x nc) into slivers of NR columns: bp[s][p][c], zero padded */
static void TFN(pack_b)(int64_t kc, int64_t nc, const R *B, int64_t rsb, int64_t csb, R *restrict bp) {
    for (int64_t s = 0; s * NR < nc; s++) {
        int64_t cols = nc - s * NR < NR ? nc - s * NR : NR;
        R *d = bp + s * kc * NR;
        const R *restrict b = B + s * NR * csb;
        if (cols == NR && csb == 1) {
            for (int64_t p = 0; p < kc; p++)
                for (int c = 0; c < NR; c++) d[p * NR + c] = b[p * rsb + c];
        } else if (cols == NR && rsb == 1) {
            for (int c = 0; c < NR; c++)
                for (int64_t p = 0; p < kc; p++) d[p * NR + c] = b[c * csb + p];
        } else {
            for (int64_t p = 0; p < kc; p++) {
                int c = 0;
                for (; c < cols; c++) d[p * NR + c] = b[p * rsb + c * csb];
                for (; c < NR; c++) d[p * NR + c] = 0;
            }
        }
    }
}

/* acc = sum_p a[p][r] b[p][c], p increasing, fused, from 0; then
 * C = acc (first chunk of SET), C = C + acc (later chunks of SET) or C = C - acc */
static inline void TFN(micro)(int64_t kc, const R *restrict a, const R *restrict b,
                              R *restrict C, int64_t rsc, int64_t csc, int rows, int cols, int how) {
    R acc[MR][NR];
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NR; c++) acc[r][c] = 0;
    for (int64_t p = 0; p < kc; p++) {
        const R *bp = b + p * NR, *ap = a + p * MR;
        for (int c = 0; c < NR; c++) {
            R bc = bp[c];
#pragma GCC unroll 16
            for (int r = 0; r < MR; r++) acc[r][c] = FMA(ap[r], bc, acc[r][c]);
        }
    }
    if (rows == MR && cols == NR && csc == 1) {
        for (int r = 0; r < MR; r++) {
            R *cr = C + r * rsc;
            if (how == 0)      for (int c = 0; c < NR; c++) cr[c] = acc[r][c];
            else if (how == 1) for (int c = 0; c < NR; c++) cr[c] = cr[c] + acc[r][c];
            else               for (int c = 0; c < NR; c++) cr[c] = cr[c] - acc[r][c];
        }
        return;
    }
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            R *x = C + r * rsc + c * csc;
            *x = how == 0 ? acc[r][c] : how == 1 ? *x + acc[r][c] : *x - acc[r][c];
        }
}

void TFN(gemm)(int64_t m, int64_t n, int64_t k,
               const R *A, int64_t rsa, int64_t csa,
               const R *B, int64_t rsb, int64_t csb,
               R *C, int64_t rsc, int64_t csc, int mode, R *work) {
    if (m <= 0 || n <= 0) return;
    if (csc != 1 && rsc == 1) {
        /* column-major C: compute C^T = B^T A^T so that the vector direction is
         * contiguous; each entry sees the same products in the same order */
        const R *t = A; A = B; B = t;
        int64_t x = m; m = n; n = x;
        x = rsa; rsa = csb; csb = x;
        x = csa; csa = rsb; rsb = x;
        x = rsc; rsc = csc; csc = x;
    }
    if (k <= 0) {
        if (mode == WI_HH_SET)
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < n; j++) C[i * rsc + j * csc] = 0;
        return;
    }
    R *ap = work, *bp = work + (int64_t)WI_HH_KC * WI_HH_MC;
    for (int64_t jc = 0; jc < n; jc += WI_HH_NC) {
        int64_t nc = n - jc < WI_HH_NC ? n - jc : WI_HH_NC;
        for (int64_t pc = 0; pc < k; pc += WI_HH_KC) {
            int64_t kc = k - pc < WI_HH_KC ? k - pc : WI_HH_KC;
            int how = mode == WI_HH_SUB ? 2 : pc == 0 ? 0 : 1;
            TFN(pack_b)(kc, nc, B + pc * rsb + jc * csb, rsb, csb, bp);
            for (int64_t ic = 0; ic < m; ic += WI_HH_MC) {
                int64_t mc = m - ic < WI_HH_MC ? m - ic : WI_HH_MC;
                TFN(pack_a)(mc, kc, A + ic * rsa + pc * csa, rsa, csa, ap);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int cols = (int)(nc - jr < NR ? nc - jr : NR);
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        int rows = (int)(mc - ir < MR ? mc - ir : MR);
                        TFN(micro)(kc, ap + ir * kc, bp + jr * kc,
                                   C + (ic + ir) * rsc + (jc + jr) * csc, rsc, csc, rows, cols, how);
                    }
                }
            }
        }
    }
}

void TFN(reflect)(R *P, int64_t L, int64_t ld, int64_t j, int64_t nc, R tau, R *w) {
    int64_t c0 = j + 1, n = nc - c0;
    if (n <= 0 || tau == 0) return;
    R *restrict ww = w;
    const R *pj = P + j * ld + c0;
    for (int64_t c = 0; c < n; c++) ww[c] = pj[c];
    for (int64_t i = j + 1; i < L; i++) {
        const R *pi = P + i * ld + c0;
        R vi = P[i * ld + j];
        for (int64_t c = 0; c < n; c++) ww[c] = FMA(vi, pi[c], ww[c]);
    }
    for (int64_t c = 0; c < n; c++) ww[c] = tau * ww[c];
    R *qj = P + j * ld + c0;
    for (int64_t c = 0; c < n; c++) qj[c] = qj[c] - ww[c];
    for (int64_t i = j + 1; i < L; i++) {
        R *pi = P + i * ld + c0;
        R nvi = -P[i * ld + j];
        for (int64_t c = 0; c < n; c++) pi[c] = FMA(nvi, ww[c], pi[c]);
    }
}

#undef TFN
