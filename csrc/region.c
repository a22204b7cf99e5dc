/* weightinit C core: filling a block of a larger tensor (see region.h). */
#include "region.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

int wi_fill_region(const wi_fill_request *req, int ndim, const uint64_t *global_shape,
                   const uint64_t *start, const uint64_t *shape) {
    if (ndim < 1 || ndim > WI_REGION_MAX_DIMS) return WI_EREGION;
    if ((unsigned)req->dtype > WI_DTYPE_LAST) return WI_EDTYPE;
    uint64_t gstride[WI_REGION_MAX_DIMS], total = 1, count = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        if (start[d] > global_shape[d] || shape[d] > global_shape[d] - start[d]) return WI_EREGION;
        gstride[d] = total;
        if (global_shape[d] && total > UINT64_MAX / global_shape[d]) return WI_ERANGE;
        total *= global_shape[d];
        count *= shape[d];
    }
    wi_fill_request r = *req;
    if (count == 0) {               /* nothing to write; still check the parameters */
        r.n = 0;
        r.offset = 0;
        return wi_fill(&r);
    }
    /* runs: the last dimension, merged with the ones before it while it spans them */
    int m = ndim - 1;
    uint64_t run = shape[m];
    while (m > 0 && shape[m] == global_shape[m]) {
        m--;
        run *= shape[m];
    }
    uint64_t nruns = count / run, base = 0;
    for (int d = m; d < ndim; d++) base += start[d] * gstride[d];
    size_t item = WI_DTYPE_SIZE(req->dtype);
    int threads = req->threads < 1 ? 1 : req->threads;
    /* many runs: threads take whole runs; few long runs: each run uses every thread */
    int outer = nruns >= (uint64_t)threads * 4 ? threads : 1;
    int inner = outer > 1 ? 1 : threads;
    int err = WI_OK;
#ifdef _OPENMP
    #pragma omp parallel for schedule(static) num_threads(outer) if (outer > 1)
#endif
    for (int64_t k = 0; k < (int64_t)nruns; k++) {
        /* the run's index in the block's leading dimensions [0, m) gives its global offset */
        uint64_t rest = (uint64_t)k, off = base;
        for (int d = m - 1; d >= 0; d--) {
            off += (start[d] + rest % shape[d]) * gstride[d];
            rest /= shape[d];
        }
        wi_fill_request one = r;
        one.out = (char *)req->out + (size_t)k * run * item;
        one.n = run;
        one.offset = off;
        one.threads = inner;
        int code = wi_fill(&one);
        if (code != WI_OK) {
#ifdef _OPENMP
            #pragma omp critical(wi_region_error)
#endif
            if (err == WI_OK) err = code;
        }
    }
    return err;
}
