/* Body of hh_kernels.c for one real type: included with R (type), SFX, FMA,
 * MR and NR (register tile) defined, and, on the vector paths, VT (a vector of
 * VL elements of R; NR = NV * VL) with VLOAD, VSET1, VFMA, VADD, VSUB, VZERO,
 * VSTORE (unaligned loads and stores). */
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
    int64_t full = nc / NR;
    if (csb == 1 && full > 0) {
        /* row by row: the rows of B are often far apart (a few columns of a
         * big matrix), each in its own page, where the hardware prefetchers do
         * not follow; fetch a few rows ahead */
        for (int64_t p = 0; p < kc; p++) {
            if (p + 8 < kc)
                for (int64_t c = 0; c < full * NR; c += 64 / (int64_t)sizeof(R))
                    __builtin_prefetch(B + (p + 8) * rsb + c);
            const R *restrict b = B + p * rsb;
            for (int64_t s = 0; s < full; s++)
                for (int c = 0; c < NR; c++) bp[(s * kc + p) * NR + c] = b[s * NR + c];
        }
        if (full * NR == nc) return;
        bp += full * kc * NR;
        B += full * NR;
        nc -= full * NR;
    }
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

/* acc[r][c] = sum_p a(r, p) b[p][c], p increasing, fused, from 0, where
 * a(r, p) = a[r * ars + p * aps] (a packed sliver: ars = 1, aps = MR; or A read
 * in place); then C = acc (HOW_SET), C = C + acc (HOW_ADD) or C = C - acc.
 * Always inlined so that the constant strides of each call site fold in. */
static inline __attribute__((always_inline)) void
TFN(micro)(int64_t kc, const R *restrict a, int64_t ars, int64_t aps, const R *restrict b,
           R *restrict C, int64_t rsc, int64_t csc, int rows, int cols, int how) {
#ifdef VT
    /* C's rows are needed only at the end: ask for them now */
    for (int r = 0; r < rows; r++) {
        __builtin_prefetch(C + r * rsc, 1);
        __builtin_prefetch(C + r * rsc + (cols - 1) * csc, 1);
    }
    VT acc[MR][NV];
#pragma GCC unroll 32
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) acc[r][v] = VZERO();
    for (int64_t p = 0; p < kc; p++) {
        VT bv[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) bv[v] = VLOAD(b + p * NR + v * VL);
#pragma GCC unroll 32
        for (int r = 0; r < MR; r++) {
            VT ar = VSET1(a[r * ars + p * aps]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++) acc[r][v] = VFMA(ar, bv[v], acc[r][v]);
        }
    }
    if (rows == MR && cols == NR && csc == 1) {
#pragma GCC unroll 32
        for (int r = 0; r < MR; r++) {
            R *cr = C + r * rsc;
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++) {
                VT x = acc[r][v];
                if (how == HOW_ADD) x = VADD(VLOAD(cr + v * VL), x);
                else if (how == HOW_SUB) x = VSUB(VLOAD(cr + v * VL), x);
                VSTORE(cr + v * VL, x);
            }
        }
        return;
    }
    R t[MR][NR];
#pragma GCC unroll 32
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) VSTORE(&t[r][v * VL], acc[r][v]);
#else
    R t[MR][NR];
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NR; c++) t[r][c] = 0;
    for (int64_t p = 0; p < kc; p++) {
        const R *bp = b + p * NR;
        for (int c = 0; c < NR; c++) {
            R bc = bp[c];
            for (int r = 0; r < MR; r++) t[r][c] = FMA(a[r * ars + p * aps], bc, t[r][c]);
        }
    }
#endif
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            R *x = C + r * rsc + c * csc;
            *x = how == HOW_SET ? t[r][c] : how == HOW_ADD ? *x + t[r][c] : *x - t[r][c];
        }
}

/* The slivers ir = 0, MR, ... of rows of the block of A starting at A (mc x kc,
 * strides rsa, csa) times the packed sliver bs of B, into C. Full slivers of an
 * A whose rows or columns are contiguous are read in place (no packing: the
 * same A block is often reused by many calls); the rest was packed into ap.
 * After each tile, pf asks for a few rows of the next block of B. */
static void TFN(column_of_tiles)(int64_t mc, int64_t kc, const R *A, int64_t rsa, int64_t csa,
                                 int direct, const R *ap, const R *bs,
                                 R *C, int64_t rsc, int64_t csc, int cols, int how, wi_hh_ahead *pf) {
    for (int64_t ir = 0; ir < mc; ir += MR) {
        int rows = (int)(mc - ir < MR ? mc - ir : MR);
        R *Ct = C + ir * rsc;
        if (direct == 1 && rows == MR)
            TFN(micro)(kc, A + ir * rsa, rsa, 1, bs, Ct, rsc, csc, MR, cols, how);
        else if (direct == 2 && rows == MR)
            TFN(micro)(kc, A + ir, 1, csa, bs, Ct, rsc, csc, MR, cols, how);
        else
            TFN(micro)(kc, ap + ir * kc, 1, MR, bs, Ct, rsc, csc, rows, cols, how);
        ahead_step(pf);
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
    /* A read in place: 1 rows contiguous, 2 columns contiguous, 0 packed */
    int direct = csa == 1 ? 1 : rsa == 1 ? 2 : 0;
    R *ap = work, *bp = work + (int64_t)WI_HH_KC * WI_HH_MC;
    for (int64_t jc = 0; jc < n; jc += WI_HH_NC) {
        int64_t nc = n - jc < WI_HH_NC ? n - jc : WI_HH_NC;
        for (int64_t pc = 0; pc < k; pc += WI_HH_KC) {
            int64_t kc = k - pc < WI_HH_KC ? k - pc : WI_HH_KC;
            int how = mode == WI_HH_SUB ? HOW_SUB : pc == 0 ? HOW_SET : HOW_ADD;
            TFN(pack_b)(kc, nc, B + pc * rsb + jc * csb, rsb, csb, bp);
            /* the next block of B (rows pc + KC...), fetched while this one is
             * multiplied: its rows are usually far apart in memory */
            wi_hh_ahead pf = {0};
            if (csb == 1 && pc + WI_HH_KC < k) {
                int64_t tiles = ((m + MR - 1) / MR) * ((nc + NR - 1) / NR);
                pf.next = (const char *)(B + (pc + WI_HH_KC) * rsb + jc);
                pf.stride = rsb * (int64_t)sizeof(R);
                pf.bytes = nc * (int64_t)sizeof(R);
                pf.left = k - pc - WI_HH_KC < WI_HH_KC ? k - pc - WI_HH_KC : WI_HH_KC;
                pf.per_step = (pf.left + tiles - 1) / tiles;
            }
            for (int64_t ic = 0; ic < m; ic += WI_HH_MC) {
                int64_t mc = m - ic < WI_HH_MC ? m - ic : WI_HH_MC;
                const R *Ab = A + ic * rsa + pc * csa;
                if (!direct) TFN(pack_a)(mc, kc, Ab, rsa, csa, ap);
                else if (mc % MR) {
                    /* the last, partial sliver: packed, zero padded */
                    int64_t full = mc - mc % MR;
                    TFN(pack_a)(mc - full, kc, Ab + full * rsa, rsa, csa, ap + full * kc);
                }
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int cols = (int)(nc - jr < NR ? nc - jr : NR);
                    TFN(column_of_tiles)(mc, kc, Ab, rsa, csa, direct, ap, bp + jr * kc,
                                         C + ic * rsc + (jc + jr) * csc, rsc, csc, cols, how, &pf);
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
/* the template's parameters, so that the next instantiation defines its own */
#undef R
#undef SFX
#undef FMA
#undef MR
#undef NR
#undef VT
#undef VL
#undef NV
#undef VLOAD
#undef VSTORE
#undef VSET1
#undef VFMA
#undef VADD
#undef VSUB
#undef VZERO
