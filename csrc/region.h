/* weightinit C core: filling a block of a larger tensor.
 *
 * The block out = global[start[0]:start[0]+shape[0], ..., start[d]:start[d]+shape[d]]
 * of a C-ordered tensor of global_shape, stored C-contiguous in req->out, equals bit
 * for bit the same block of the whole tensor filled at once: it is filled as its
 * contiguous runs (the block's last dimensions merged while they span the whole
 * global extent), each run a wi_fill at its global flat offset. */
#ifndef WEIGHTINIT_REGION_H
#define WEIGHTINIT_REGION_H
#include "weightinit.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WI_REGION_MAX_DIMS 32
#define WI_EREGION 7        /* the block does not fit in global_shape, or ndim out of range */

/* req: out, dtype, dist, params, seed, stream, threads, isa as for wi_fill; req->n and
 * req->offset are ignored (the block's size and place come from the shapes). */
int wi_fill_region(const wi_fill_request *req, int ndim, const uint64_t *global_shape,
                   const uint64_t *start, const uint64_t *shape);

#ifdef __cplusplus
}
#endif
#endif
