/* Philox4x32-10 (Salmon et al., SC'11), Random123 conventions.
 * Written as plain scalar code on arrays so that the compiler vectorizes the
 * per-tile loops; every operation is exact integer arithmetic, so every ISA
 * gives the same words. */
#ifndef WI_PHILOX_H
#define WI_PHILOX_H
#include <stdint.h>

#define WI_PHILOX_M0 0xD2511F53u
#define WI_PHILOX_M1 0xCD9E8D57u
#define WI_PHILOX_W0 0x9E3779B9u
#define WI_PHILOX_W1 0xBB67AE85u

static inline void wi_philox_round(uint32_t *c0, uint32_t *c1, uint32_t *c2,
                                   uint32_t *c3, uint32_t k0, uint32_t k1) {
    uint64_t p0 = (uint64_t)WI_PHILOX_M0 * *c0;
    uint64_t p1 = (uint64_t)WI_PHILOX_M1 * *c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ *c1 ^ k0;
    uint32_t n1 = (uint32_t)p1;
    uint32_t n2 = (uint32_t)(p0 >> 32) ^ *c3 ^ k1;
    uint32_t n3 = (uint32_t)p0;
    *c0 = n0; *c1 = n1; *c2 = n2; *c3 = n3;
}

/* Rounds 0 and 1 of blocks whose counters differ only in word 0 (a run of blocks
 * of one tile): there words 1-3 are the same in every block, so round 0's product
 * of word 2 and round 1's product of word 0 are one scalar product each. With p0 =
 * M0 c0 (hi0, lo0) and p1 = M1 (hi0 ^ x2) (hi1, lo1), the words after round 1 are
 * (hi1 ^ x0, lo1, lo0 ^ x1, w3): the vector paths then run rounds 2-9 only. */
typedef struct { uint32_t x0, x1, x2, w3; } wi_philox_head;

static inline wi_philox_head wi_philox_rounds01(uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
    uint64_t q1 = (uint64_t)WI_PHILOX_M1 * c2;                        /* round 0, word 2 */
    uint32_t w0 = (uint32_t)(q1 >> 32) ^ c1 ^ k0;                     /* word 0 after round 0 */
    uint64_t q0 = (uint64_t)WI_PHILOX_M0 * w0;                        /* round 1, word 0 */
    wi_philox_head h = {(uint32_t)q1 ^ (k0 + WI_PHILOX_W0), (uint32_t)(q0 >> 32) ^ (k1 + WI_PHILOX_W1),
                        c3 ^ k1, (uint32_t)q0};
    return h;
}

/* One Philox4x32-10 block: counter (c0..c3), key (k0, k1) -> four words. */
static inline void wi_philox4x32_10(uint32_t c[4], uint32_t k0, uint32_t k1) {
    uint32_t c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];
    for (int r = 0; r < 10; r++) {
        if (r) { k0 += WI_PHILOX_W0; k1 += WI_PHILOX_W1; }
        wi_philox_round(&c0, &c1, &c2, &c3, k0, k1);
    }
    c[0] = c0; c[1] = c1; c[2] = c2; c[3] = c3;
}
#endif
