/* weightinit C core: public interface used by the Cython binding and by the
 * other kernels (householder). No Python objects here. */
#ifndef WEIGHTINIT_H
#define WEIGHTINIT_H
#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { WI_F64 = 0, WI_F32 = 1, WI_F16 = 2, WI_BF16 = 3, WI_F8E4M3 = 4, WI_F8E5M2 = 5 } wi_dtype;
#define WI_DTYPE_LAST WI_F8E5M2
/* bytes of one element */
#define WI_DTYPE_SIZE(d) ((d) == WI_F64 ? 8u : (d) == WI_F32 ? 4u : (d) >= WI_F8E4M3 ? 1u : 2u)
typedef enum { WI_UNIFORM = 0, WI_NORMAL = 1, WI_TRUNC_NORMAL = 2, WI_DISK = 3, WI_DISK_TRUNC_NORMAL = 4 } wi_dist;
#define WI_DIST_LAST WI_DISK_TRUNC_NORMAL
typedef enum { WI_ISA_AUTO = -1, WI_ISA_SCALAR = 0, WI_ISA_AVX2 = 1, WI_ISA_AVX512 = 2 } wi_isa;

enum {
    WI_OK = 0,
    WI_EDTYPE = 1,      /* unknown dtype or distribution code */
    WI_EPARAM = 2,      /* distribution parameters invalid (nan, std <= 0, a >= b, ...) */
    WI_EEMPTY = 3,      /* no value of the output dtype lies in the requested interval */
    WI_ERANGE = 4,      /* offset + n overflows the 64-bit element index */
    WI_EISA = 5,        /* requested SIMD path not compiled in or not supported by this CPU */
};

/* Distribution parameters, all in float64:
 *   WI_UNIFORM       p[0] = low, p[1] = high            -> [low, high)
 *   WI_NORMAL        p[0] = mean, p[1] = std; with p[3] != 0, elements at odd flat
 *                    indices get mean p[2] instead (imaginary parts of a complex mean)
 *   WI_TRUNC_NORMAL  p[0] = mean, p[1] = std, p[2] = a, p[3] = b (absolute bounds)
 * Complex pairs (float32/float64 outputs; elements 2k, 2k+1 are the real and
 * imaginary part of one complex value r e^{i theta}, theta uniform; offset and n even):
 *   WI_DISK               p[0] = R: r = R sqrt(u), uniform on the disk of radius R
 *   WI_DISK_TRUNC_NORMAL  p[0] = S, p[1] = upper: r = S sqrt(-log(1 - (1 - e^-upper^2) u)),
 *                         a circular normal of E|z|^2 = S^2 before |z| is truncated
 *                         to S upper */
typedef struct {
    void *out;          /* n elements of dtype, contiguous */
    uint64_t n;         /* element count */
    uint64_t offset;    /* logical flat index of out[0] */
    uint64_t seed;      /* Philox key */
    uint64_t stream;    /* Philox counter words 2..3 */
    wi_dtype dtype;
    wi_dist dist;
    double params[4];
    int threads;        /* >= 1 */
    int isa;            /* wi_isa */
} wi_fill_request;

int wi_fill(const wi_fill_request *req);
int wi_constant(void *out, uint64_t n, wi_dtype dtype, double value, int threads);

/* Raw Philox4x32-10 block. */
void wi_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* SIMD paths. */
int wi_isa_supported(int isa);      /* compiled in and the CPU has it */
int wi_isa_best(void);
int wi_have_openmp(void);

const char *wi_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif
