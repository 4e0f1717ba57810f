/* Adam's update of a slice of the parameters, in one AVX-512 pass.
 *
 * Apart, the epoch's step makes three passes over a slice: the L2 sum of
 * the weights, the gradient's completion (penalty and average), and the
 * update of the weights and both moments (part_finish_step in _mlp.pyx).
 * This pass does all three per vector: on 100,000 float64 parameters it
 * took ~130 us against ~190 us for the three passes (one core, the
 * moments out of cache, as in an epoch).
 *
 * The results are the same to the last bit: each operation is rounded on
 * its own (no fused multiply-add), in the separate passes' order
 * (complete_block, step_block and adam_step):
 *
 *   g = (g + alpha * w) / sw       weights; biases: g / sw
 *                                  (times 1 / sw when sw is a power of two)
 *   w = w * decay                  weights; AdamW's decoupled decay
 *   m = beta_1 * m + (1 - beta_1) * g
 *   v = beta_2 * v + (1 - beta_2) * (g * g)
 *   w = w + (-rate * m) / (sqrt(v) + eps)
 *
 * Only the L2 sum, which goes to the reported loss, is added in another
 * order (and can differ in its last bits).
 */
#ifndef FASTNN_ADAM_STEP_H
#define FASTNN_ADAM_STEP_H

#include <stddef.h>

#include "_cpu.h"

typedef struct {
    double alpha;   /* L2 penalty on the weights */
    double sw;      /* the batch's weight sum, the gradient's divisor */
    double inv;     /* 1 / sw where multiplying by it is exact, else 0 */
    double decay;   /* AdamW's factor on the weights; 1 for Adam */
    double beta_1, beta_2, eps;
    double rate;    /* the bias-corrected step size (adam_rate) */
} fastnn_adam_t;

#ifdef FASTNN_AVX512

#define FASTNN_RN (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

/* fastnn_adam_pass_S: the step of parameters w[:n], gradient sums g[:n]
 * (their first n_w weights, the rest biases), moments m and v; returns
 * sum(w[:n_w] ** 2) before the step. T the element, V its vector of W
 * lanes, M the mask type, S the intrinsics' suffix. The explicit rounding
 * keeps GCC from fusing a product and a sum of plain vector intrinsics. */
#define FASTNN_ADAM_PASS(T, V, W, M, S)                                          \
    __attribute__((target("avx512f")))                                           \
    static double fastnn_adam_pass_##S(T* w, const T* g, T* m, T* v,             \
                                       ptrdiff_t n, ptrdiff_t n_w,               \
                                       const fastnn_adam_t* st)                  \
    {                                                                            \
        const V alpha = _mm512_set1_##S((T)st->alpha);                          \
        const V sw = _mm512_set1_##S((T)st->sw), inv = _mm512_set1_##S((T)st->inv);\
        const V decay = _mm512_set1_##S((T)st->decay);                          \
        const V b1 = _mm512_set1_##S((T)st->beta_1);                             \
        const V b2 = _mm512_set1_##S((T)st->beta_2);                             \
        const V c1 = _mm512_set1_##S((T)(1 - st->beta_1));                       \
        const V c2 = _mm512_set1_##S((T)(1 - st->beta_2));                       \
        const V eps = _mm512_set1_##S((T)st->eps);                               \
        const V neg_rate = _mm512_set1_##S((T)(-st->rate));                      \
        const int exact = st->inv != 0;                                          \
        V l2 = _mm512_setzero_##S();                                             \
        ptrdiff_t i;                                                             \
        for (i = 0; i < n; i += W) {                                             \
            const ptrdiff_t left = n - i < W ? n - i : W;                        \
            const ptrdiff_t wl = n_w - i < 0 ? 0 : n_w - i < W ? n_w - i : W;    \
            const M mask = (M)(left == W ? (M)~(M)0 : (M)(((M)1 << left) - 1));  \
            /* The lanes that hold weights. */                                   \
            const M wmask = (M)(wl == W ? (M)~(M)0 : (M)(((M)1 << wl) - 1));     \
            V wv = _mm512_maskz_loadu_##S(mask, w + i);                          \
            V gv = _mm512_maskz_loadu_##S(mask, g + i), mv, vv;                  \
            const V ww = _mm512_maskz_mov_##S(wmask, wv);                        \
            l2 = _mm512_fmadd_##S(ww, ww, l2);                                   \
            gv = _mm512_mask_add_round_##S(                                      \
                gv, wmask, gv, _mm512_mul_round_##S(alpha, ww, FASTNN_RN), FASTNN_RN);\
            gv = exact ? _mm512_mul_round_##S(gv, inv, FASTNN_RN)                \
                       : _mm512_div_round_##S(gv, sw, FASTNN_RN);                \
            wv = _mm512_mask_mul_round_##S(wv, wmask, wv, decay, FASTNN_RN);     \
            mv = _mm512_add_round_##S(                                           \
                _mm512_mul_round_##S(b1, _mm512_maskz_loadu_##S(mask, m + i), FASTNN_RN),\
                _mm512_mul_round_##S(c1, gv, FASTNN_RN), FASTNN_RN);             \
            vv = _mm512_add_round_##S(                                           \
                _mm512_mul_round_##S(b2, _mm512_maskz_loadu_##S(mask, v + i), FASTNN_RN),\
                _mm512_mul_round_##S(c2, _mm512_mul_round_##S(gv, gv, FASTNN_RN),\
                                     FASTNN_RN), FASTNN_RN);                     \
            wv = _mm512_add_round_##S(                                           \
                wv, _mm512_div_round_##S(                                        \
                    _mm512_mul_round_##S(neg_rate, mv, FASTNN_RN),               \
                    _mm512_add_round_##S(_mm512_sqrt_round_##S(vv, FASTNN_RN), eps,\
                                         FASTNN_RN), FASTNN_RN), FASTNN_RN);     \
            _mm512_mask_storeu_##S(m + i, mask, mv);                             \
            _mm512_mask_storeu_##S(v + i, mask, vv);                             \
            _mm512_mask_storeu_##S(w + i, mask, wv);                             \
        }                                                                        \
        return (double)_mm512_reduce_add_##S(l2);                                \
    }

FASTNN_ADAM_PASS(float, __m512, 16, __mmask16, ps)
FASTNN_ADAM_PASS(double, __m512d, 8, __mmask8, pd)

#endif /* FASTNN_AVX512 */

/* 1 when fastnn_adam_pass_ps/pd can run here. */
static int fastnn_adam_pass_available(void) { return fastnn_avx512_available(); }

#ifndef FASTNN_AVX512
/* Never called (fastnn_adam_pass_available is 0): they keep the module
 * linking on other CPUs. */
static double fastnn_adam_pass_ps(float* w, const float* g, float* m, float* v, ptrdiff_t n,
                                  ptrdiff_t n_w, const fastnn_adam_t* st)
{
    return 0.0;
}
static double fastnn_adam_pass_pd(double* w, const double* g, double* m, double* v,
                                  ptrdiff_t n, ptrdiff_t n_w, const fastnn_adam_t* st)
{
    return 0.0;
}
#endif

#endif /* FASTNN_ADAM_STEP_H */
