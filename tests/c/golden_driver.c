/* Golden values of the C core, for running the core on other architectures (under
 * qemu-user) and comparing with x86: writes each case's output bytes to a file.
 *
 *   golden_driver OUTDIR SEED STREAM OFFSET N
 *
 * Cases: uniform(-0.5, 2), normal(0.1, 0.02), trunc_normal(0, 1, -2, 2) in float64,
 * float32, float16 and bfloat16, each with 1 and 3 threads (the same bits by the
 * stream contract), and Haar orthogonal 70x50 in float64 and float32 (seed SEED + 1,
 * stream 0); then normal in float32 and bfloat16 on LARGE elements, 3 threads: over
 * 1 MiB, where the kernels write with non-temporal stores; then the complex disks
 * (uniform of radius 0.1, truncated normal 0.1 at 2 std) as float64 and float32
 * parts (complex128, complex64), 1 and 3 threads, on the even part of OFFSET and N;
 * then truncated normals far out in one tail (std 1 on [40, inf): the far lanes'
 * refinement; on [5000, inf): the deep-tail form) in float64 and float32, 1 thread.
 * Exit status 1 on any error. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "householder.h"
#include "weightinit.h"

static const char *DTYPE_NAMES[] = {"float64", "float32", "float16", "bfloat16"};
static const size_t ITEM[] = {8, 4, 2, 2};
static const char *DIST_NAMES[] = {"uniform", "normal", "trunc_normal", "disk", "disk_trunc"};

static int write_file(const char *dir, const char *name, const void *data, size_t nbytes)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, nbytes, f) != nbytes) {
        fprintf(stderr, "cannot write %s\n", path);
        if (f)
            fclose(f);
        return 1;
    }
    return fclose(f) != 0;
}

static const double PARAMS[5][4] = {{-0.5, 2.0, 0, 0}, {0.1, 0.02, 0, 0}, {0.0, 1.0, -2.0, 2.0},
                                    {0.1, 0, 0, 0}, {0.1, 2.0, 0, 0}};

/* one fill into buf, written to DIR/NAME.bin; nonzero on any error */
static int fill_case(const char *dir, const char *name, void *buf, uint64_t n, uint64_t offset, uint64_t seed,
                     uint64_t stream, int dt, int dist, const double *params, int threads)
{
    wi_fill_request req;
    memset(&req, 0, sizeof req);
    req.out = buf;
    req.n = n;
    req.offset = offset;
    req.seed = seed;
    req.stream = stream;
    req.dtype = (wi_dtype)dt;
    req.dist = (wi_dist)dist;
    memcpy(req.params, params, sizeof req.params);
    req.threads = threads;
    req.isa = WI_ISA_AUTO;
    int rc = wi_fill(&req);
    if (rc != WI_OK) {
        fprintf(stderr, "%s: %s\n", name, wi_strerror(rc));
        return 1;
    }
    return write_file(dir, name, buf, n * ITEM[dt]);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s OUTDIR SEED STREAM OFFSET N\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    uint64_t seed = strtoull(argv[2], NULL, 10), stream = strtoull(argv[3], NULL, 10);
    uint64_t offset = strtoull(argv[4], NULL, 10), n = strtoull(argv[5], NULL, 10);
    const uint64_t large = (1u << 19) + 123;   /* 2 MiB of float32 */
    size_t cap = (size_t)(n > large ? n : large) * 8;
    void *buf = malloc(cap);
    if (!buf)
        return 1;
    int failed = 0;
    char name[64];
    for (int dist = 0; dist < 3; dist++)
        for (int dt = 0; dt < 4; dt++)
            for (int threads = 1; threads <= 3; threads += 2) {
                snprintf(name, sizeof name, "%s-%s-t%d", DIST_NAMES[dist], DTYPE_NAMES[dt], threads);
                failed |= fill_case(dir, name, buf, n, offset, seed, stream, dt, WI_UNIFORM + dist, PARAMS[dist], threads);
            }
    for (int dt = 0; dt < 2; dt++) {
        wi_orthogonal_request o;
        memset(&o, 0, sizeof o);
        o.out = buf;
        o.rows = 70;
        o.cols = 50;
        o.dtype = (wi_dtype)dt;
        o.gain = 1.0;
        o.seed = seed + 1;
        o.stream = 0;
        o.threads = 2;
        o.isa = WI_ISA_AUTO;
        int rc = wi_orthogonal(&o);
        if (rc != WI_OK) {
            fprintf(stderr, "orthogonal %s: error %d\n", DTYPE_NAMES[dt], rc);
            failed = 1;
            continue;
        }
        snprintf(name, sizeof name, "orthogonal-%s", DTYPE_NAMES[dt]);
        failed |= write_file(dir, name, buf, 70 * 50 * ITEM[dt]);
    }
    for (int dt = WI_F32; dt <= WI_BF16; dt += 2) {   /* float32, bfloat16 */
        snprintf(name, sizeof name, "large-normal-%s", DTYPE_NAMES[dt]);
        failed |= fill_case(dir, name, buf, large, offset, seed, stream, dt, WI_NORMAL, PARAMS[WI_NORMAL], 3);
    }
    for (int dist = WI_DISK; dist <= WI_DISK_TRUNC_NORMAL; dist++)   /* pairs: even offset and length */
        for (int dt = WI_F64; dt <= WI_F32; dt++)
            for (int threads = 1; threads <= 3; threads += 2) {
                snprintf(name, sizeof name, "%s-%s-t%d", DIST_NAMES[dist], DTYPE_NAMES[dt], threads);
                failed |= fill_case(dir, name, buf, n & ~1ull, offset & ~1ull, seed, stream, dt, dist, PARAMS[dist], threads);
            }
    static const struct { const char *name; double params[4]; } TAILS[] = {
        {"trunc_far", {0.0, 1.0, 40.0, INFINITY}}, {"trunc_deep", {0.0, 1.0, 5000.0, INFINITY}}};
    for (int c = 0; c < 2; c++)
        for (int dt = WI_F64; dt <= WI_F32; dt++) {
            snprintf(name, sizeof name, "%s-%s-t1", TAILS[c].name, DTYPE_NAMES[dt]);
            failed |= fill_case(dir, name, buf, n, offset, seed, stream, dt, WI_TRUNC_NORMAL, TAILS[c].params, 1);
        }
    free(buf);
    printf("isa %d\n", wi_isa_best());
    return failed;
}
