/* Matrix products whose input rows are reached through pointers.
 *
 * The first layer of a shuffled mini-batch reads rows of X scattered over
 * memory. BLAS needs them gathered into one block first; these kernels take
 * a pointer per row instead, so the rows go straight from X into registers.
 * With a stride instead of pointers they also serve contiguous operands,
 * where on the hidden layers' moderate shapes they beat OpenBLAS (rows_fit
 * in _rows_gemm.pxd says which shapes). Three products, C (m x n):
 *
 *   op FASTNN_NN   C = A @ B, A (m x k): the forward product
 *   op FASTNN_TN   C = A.T @ B, A (k x m): a weight gradient (inputs.T @ deltas)
 *   op FASTNN_NT   C = A @ B.T, A (m x k), B (n x k): deltas @ W.T
 *
 * Row i of A is a[i], or a0 + i * lda when a is NULL. B and C are row-major
 * with leading dimensions ldb and ldc; C is overwritten. With work (for
 * FASTNN_NN; fastnn_rows_work_size elements) the product runs row-outer,
 * B packed whole there (FASTNN_ROWS_OUTER); with work for FASTNN_TN
 * (fastnn_rows_tn_work_size elements) it passes over A's stretches of
 * zeros (FASTNN_ROWS_TN_SKIP). Unless ac is NULL
 * (only for FASTNN_NN and FASTNN_NT), A is also kept: its row i copied to
 * ac + i * ldac, as the rows pass through L1 on their first use. A split
 * first layer keeps its scattered rows so for the batch's weight gradient,
 * which reads them again after the rest of the batch has pushed them out
 * of L2: from the copy it ran about 20% faster than from X's rows (float64
 * Fashion-MNIST, in place), likely because written lines are kept in L3
 * on their way out while X's clean lines come from memory again.
 *
 * The AVX-512 code is compiled for that target alone and chosen at run time
 * (fastnn_rows_available), so the module still loads and runs on any x86-64
 * (the caller then uses BLAS); a plain C loop stands in where there is no
 * AVX-512.
 *
 * Blocking: a panel of two vectors' width of B (of B.T for NT), KC of its
 * rows copied to a contiguous block on the stack (B's rows are often 1 KiB
 * apart, which crowds a few cache sets), stays in L1 while blocks of MR rows
 * of A go through it, MR x 2 vectors of sums in 24 registers. Rows of X come
 * from memory on the first panel: the kernels fetch the next block's ahead.
 */
#ifndef FASTNN_ROWS_GEMM_H
#define FASTNN_ROWS_GEMM_H

#include <stddef.h>
#include <string.h>

/* Sums per block (rows of C), and rows of B per copied block, for A @ B;
 * A.T @ B reads MR elements of a row of A per step: 8 doubles, one cache
 * line, measured faster than 12 there; its shorter blocks keep the rows of
 * A it reads in L1 beside the block of B. */
#define FASTNN_MR 12
#define FASTNN_KC 256
#define FASTNN_MR_TD 8
#define FASTNN_KC_T 128
/* Most columns of A.T @ B's A per pass of the zero-skipping product
 * (FASTNN_ROWS_TN_SKIP), which packs that many columns of KC_T rows. */
#define FASTNN_MC_T 512
/* Most rows of B per block of K in the row-outer product (FASTNN_ROWS_OUTER). */
#define FASTNN_KC_O_S 160
#define FASTNN_KC_O_D 128

#include "_cpu.h"
#ifdef FASTNN_AVX512
#define FASTNN_ROWS_AVX512 1
#endif

/* 1 when this CPU runs the AVX-512 kernels. */
static int fastnn_rows_available(void) { return fastnn_avx512_available(); }

enum { FASTNN_NN = 0, FASTNN_TN = 1, FASTNN_NT = 2 };

/* Elements of the work buffer A @ B takes to run row-outer (B packed whole,
 * 64-byte aligned inside it), for elements of itemsize bytes. */
static ptrdiff_t fastnn_rows_work_size(ptrdiff_t n, ptrdiff_t k, ptrdiff_t itemsize)
{
    ptrdiff_t w = 128 / itemsize;
    return (n + w - 1) / w * w * k + 64 / itemsize;
}

/* Blocks of mr sums in one pass of the zero-skipping A.T @ B
 * (FASTNN_ROWS_TN_SKIP) over A's m columns: the work buffer's layout. */
static ptrdiff_t fastnn_rows_tn_blocks(ptrdiff_t m, ptrdiff_t mr)
{
    const ptrdiff_t cols = FASTNN_MC_T / mr * mr;
    return ((m < cols ? m : cols) + mr - 1) / mr;
}

/* Elements of the work buffer A.T @ B takes to skip A's zeros
 * (FASTNN_ROWS_TN_SKIP), A having m columns, for elements of itemsize
 * bytes: the packed stretches of A (64-byte aligned inside it), then a
 * list of rows and a count per block of sums. */
static ptrdiff_t fastnn_rows_tn_work_size(ptrdiff_t m, ptrdiff_t itemsize)
{
    const ptrdiff_t mr = itemsize == 4 ? FASTNN_MR : FASTNN_MR_TD;
    const ptrdiff_t blocks = fastnn_rows_tn_blocks(m, mr);
    const ptrdiff_t bytes = 64 + blocks * FASTNN_KC_T * (mr * itemsize + 1)
                            + blocks * (ptrdiff_t)sizeof(int);
    return (bytes + itemsize - 1) / itemsize;
}

/* Row i of A: through its pointer, or at its stride from a0. */
#define FASTNN_A_ROW(i) (a != NULL ? a[i] : a0 + (i) * lda)

#ifdef FASTNN_ROWS_AVX512

/* The kernels of one element type: T the element, V its 512-bit vector, W
 * the lanes of V, M the lane mask type, S the intrinsics' suffix (ps, pd).
 * ROW(kk) sets up step kk of the block, after which A_AT(r, kk) is element
 * k0 + kk of sum r's row of A. Addresses advance by pointer increments:
 * with -fwrapv (Python's flags) index products are not strength-reduced. */
#define FASTNN_ROWS_BLOCK(T, V, W, M, S, MR, ROW, A_AT, PREF)                    \
    do {                                                                         \
        FASTNN_ROWS_SUMS(V, S, MR);                                              \
        ptrdiff_t kk;                                                            \
        const T* brow = bp;                                                      \
        for (kk = 0; kk < kc; kk++, brow += 2 * W) {                             \
            V b0 = _mm512_load_##S(brow);                                        \
            V b1 = _mm512_load_##S(brow + W);                                    \
            ROW(kk);                                                             \
            PREF(kk);                                                            \
            FASTNN_ROWS_FMA(V, S, MR, A_AT, kk);                                 \
        }                                                                        \
        FASTNN_ROWS_STORE(T, W, S);                                              \
    } while (0)

/* A block's MR x 2 vectors of sums acc, zeroed (r their index). */
#define FASTNN_ROWS_SUMS(V, S, MR)                                               \
    V acc[MR][2];                                                                \
    int r;                                                                       \
    for (r = 0; r < MR; r++) {                                                   \
        acc[r][0] = _mm512_setzero_##S();                                        \
        acc[r][1] = _mm512_setzero_##S();                                        \
    }

/* One step: sum r adds A_AT(r, kk) times a row of B, in vectors b0 and b1. */
#define FASTNN_ROWS_FMA(V, S, MR, A_AT, kk)                                      \
    do {                                                                         \
        _Pragma("GCC unroll 12")                                                 \
        for (r = 0; r < MR; r++) {                                               \
            V av = _mm512_set1_##S(A_AT(r, kk));                                 \
            acc[r][0] = _mm512_fmadd_##S(av, b0, acc[r][0]);                     \
            acc[r][1] = _mm512_fmadd_##S(av, b1, acc[r][1]);                     \
        }                                                                        \
    } while (0)

/* The first mr sums to C's rows i0 + r, panel n0, added to what the blocks
 * of K before k0 left there. */
#define FASTNN_ROWS_STORE(T, W, S)                                               \
    for (r = 0; r < mr; r++) {                                                   \
        T* crow = c + (i0 + r) * ldc + n0;                                       \
        if (k0 > 0) {                                                            \
            acc[r][0] = _mm512_add_##S(acc[r][0], _mm512_maskz_loadu_##S(m0, crow));\
            acc[r][1] = _mm512_add_##S(acc[r][1],                                \
                                       _mm512_maskz_loadu_##S(m1, crow + W));    \
        }                                                                        \
        _mm512_mask_storeu_##S(crow, m0, acc[r][0]);                             \
        _mm512_mask_storeu_##S(crow + W, m1, acc[r][1]);                         \
    }

/* m0, m1: the lanes of a panel's two vectors that hold its nr columns. */
#define FASTNN_PANEL_MASKS(M, W)                                                 \
    m0 = (M)(nr >= W ? (M)~(M)0 : (M)(((M)1 << nr) - 1));                        \
    m1 = (M)(nr >= 2 * W ? (M)~(M)0 : nr > W ? (M)(((M)1 << (nr - W)) - 1) : (M)0)

/* The panel of B: its rows k0:k0 + kc, columns n0:n0 + nr. */
#define FASTNN_PACK_B(T, W, S)                                                   \
    for (q = 0; q < kc; q++) {                                                   \
        const T* src = b + (k0 + q) * ldb + n0;                                  \
        if (q + 8 < kc) {                                                        \
            _mm_prefetch((const char*)(src + 8 * ldb), _MM_HINT_T0);             \
            _mm_prefetch((const char*)(src + 8 * ldb + W), _MM_HINT_T0);         \
        }                                                                        \
        _mm512_store_##S(bp + q * 2 * W, _mm512_maskz_loadu_##S(m0, src));       \
        _mm512_store_##S(bp + q * 2 * W + W, _mm512_maskz_loadu_##S(m1, src + W));\
    }
/* The panel of B.T: B's rows n0:n0 + nr, columns k0:k0 + kc, each row
 * down a column of the block (zeros past nr), by FASTNN_PACK_T below. */
#define FASTNN_PACK_BT(T, W, S) fastnn_pack_t_##S(b + n0 * ldb + k0, ldb, nr, kc, bp)

/* bp[q * 2W + j] = b[j * ldb + q], j < 2W (0 from nr on), q < kc: squares of
 * W x W read as rows and transposed in registers, by log2(W) rounds that
 * swap the off-diagonal halves of ever smaller blocks (vpermt2*); gathers
 * and plain loops measured slower. IT is an index lane's integer type. */
#define FASTNN_PACK_T(T, V, W, S, IT)                                            \
    __attribute__((target("avx512f")))                                           \
    static void fastnn_pack_t_##S(const T* b, ptrdiff_t ldb, ptrdiff_t nr,       \
                                  ptrdiff_t kc, T* bp)                           \
    {                                                                            \
        IT lo[W] __attribute__((aligned(64))), hi[W] __attribute__((aligned(64)));\
        __m512i sel_lo[4], sel_hi[4];                                            \
        V r[W];                                                                  \
        ptrdiff_t j0, q0, x, h, i, round;                                        \
        /* Round h: lanes x with bit h set come from the partner row. */         \
        for (h = W / 2, round = 0; h >= 1; h /= 2, round++) {                    \
            for (x = 0; x < W; x++) {                                            \
                lo[x] = (IT)((x & h) ? W + x - h : x);                           \
                hi[x] = (IT)((x & h) ? W + x : x + h);                           \
            }                                                                    \
            sel_lo[round] = _mm512_load_si512(lo);                               \
            sel_hi[round] = _mm512_load_si512(hi);                               \
        }                                                                        \
        for (j0 = 0; j0 < 2 * W; j0 += W)                                        \
            for (q0 = 0; q0 < kc; q0 += W) {                                     \
                ptrdiff_t left = kc - q0 < W ? kc - q0 : W;                      \
                __mmask16 mq = (__mmask16)((1u << left) - 1);                    \
                _Pragma("GCC unroll 16")                                         \
                for (i = 0; i < W; i++)                                          \
                    r[i] = j0 + i < nr                                           \
                        ? _mm512_maskz_loadu_##S(mq, b + (j0 + i) * ldb + q0)    \
                        : _mm512_setzero_##S();                                  \
                _Pragma("GCC unroll 4")                                          \
                for (h = W / 2, round = 0; h >= 1; h /= 2, round++) {            \
                    _Pragma("GCC unroll 16")                                     \
                    for (i = 0; i < W; i++)                                      \
                        if (!(i & h)) {                                          \
                            V a = r[i], c = r[i + h];                            \
                            r[i] = _mm512_permutex2var_##S(a, sel_lo[round], c); \
                            r[i + h] = _mm512_permutex2var_##S(a, sel_hi[round], c);\
                        }                                                        \
                }                                                                \
                for (i = 0; i < left; i++)                                       \
                    _mm512_store_##S(bp + (q0 + i) * 2 * W + j0, r[i]);          \
            }                                                                    \
    }

FASTNN_PACK_T(float, __m512, 16, ps, int)
FASTNN_PACK_T(double, __m512d, 8, pd, long long)

/* Loops over panels of columns, blocks of K and blocks of MR sums. A
 * partial block of sums repeats its first row of A and stores only mr: it
 * reads A through A_PART, whole blocks through A_AT (whose offsets the
 * compiler can fold into the loads). */
#define FASTNN_ROWS_LOOPS(T, V, W, M, S, MR, KC, PACK, SETUP, ROW, A_AT, A_PART,  \
                          PREF, KEEP)                                            \
    const ptrdiff_t mr_max = MR;                                                 \
    ptrdiff_t n0, k0, i0, kc, mr, nr, q;                                         \
    M m0, m1;                                                                    \
    T bp[KC * 2 * W] __attribute__((aligned(64)));                               \
    for (n0 = 0; n0 < n; n0 += 2 * W) {                                          \
        nr = n - n0 < 2 * W ? n - n0 : 2 * W;                                    \
        FASTNN_PANEL_MASKS(M, W);                                                \
        for (k0 = 0; k0 < k; k0 += KC) {                                         \
            kc = k - k0 < KC ? k - k0 : KC;                                      \
            /* The panel's rows k0:k0 + kc, contiguous, zeros past nr. */        \
            PACK(T, W, S);                                                       \
            for (i0 = 0; i0 < m; i0 += MR) {                                     \
                mr = m - i0 < MR ? m - i0 : MR;                                  \
                SETUP;                                                           \
                KEEP;                                                            \
                if (mr == MR)                                                    \
                    FASTNN_ROWS_BLOCK(T, V, W, M, S, MR, ROW, A_AT, PREF);       \
                else                                                             \
                    FASTNN_ROWS_BLOCK(T, V, W, M, S, MR, ROW, A_PART, PREF);     \
            }                                                                    \
        }                                                                        \
    }

/* A @ B: sum r's row is a[i0 + r] (the block's first row again past m). */
#define FASTNN_ROWS_NN_SETUP(T)                                                  \
    const T* rows[FASTNN_MR];                                                    \
    {                                                                            \
        int q;                                                                   \
        for (q = 0; q < mr_max; q++)                                             \
            rows[q] = FASTNN_A_ROW(i0 + (q < mr ? q : 0)) + k0;                  \
    }
#define FASTNN_ROWS_NN_ROW(kk) ((void)0)
#define FASTNN_ROWS_NN_AT(r, kk) rows[r][kk]
#define FASTNN_ROWS_NN_PART FASTNN_ROWS_NN_AT
/* On the first panel, where the rows come from memory, step kk fetches
 * ahead part of the next block's rows: row kk % MR, its (kk / MR)-th
 * stretch of 16 elements. */
#define FASTNN_ROWS_NN_PREF(kk)                                                  \
    do {                                                                         \
        if (n0 == 0 && i0 + mr_max + (kk) % mr_max < m) {                        \
            const char* next =                                                   \
                (const char*)(FASTNN_A_ROW(i0 + mr_max + (kk) % mr_max) + k0)    \
                + ((kk) / mr_max) * 16 * sizeof(*c);                             \
            _mm_prefetch(next, _MM_HINT_T0);                                     \
            if (sizeof(*c) == 8)                                                 \
                _mm_prefetch(next + 64, _MM_HINT_T0);                            \
        }                                                                        \
    } while (0)

/* On the first panel each block copies its stretch of A's rows to ac. */
#define FASTNN_ROWS_NN_KEEP                                                      \
    do {                                                                         \
        if (ac != NULL && n0 == 0)                                               \
            for (q = 0; q < mr; q++)                                             \
                memcpy(ac + (i0 + q) * ldac + k0, FASTNN_A_ROW(i0 + q) + k0,     \
                       kc * sizeof(*c));                                         \
    } while (0)

/* A.T @ B: sum r reads column i0 + r of A (column i0 again past m). */
#define FASTNN_ROWS_TN_SETUP(T) ((void)0)
#define FASTNN_ROWS_TN_ROW(kk) const __typeof__(*c)* arow = FASTNN_A_ROW(k0 + (kk)) + i0
#define FASTNN_ROWS_TN_AT(r, kk) arow[r]
#define FASTNN_ROWS_TN_PART(r, kk) arow[(r) < mr ? (r) : 0]
#define FASTNN_ROWS_TN_KEEP ((void)0)
/* Step kk fetches the next block's elements of row kk (each block reads a
 * new stretch of every row, so on every panel). */
#define FASTNN_ROWS_TN_PREF(kk)                                                  \
    do {                                                                         \
        if (i0 + mr_max < m) {                                                   \
            _mm_prefetch((const char*)(arow + mr_max), _MM_HINT_T0);             \
            _mm_prefetch((const char*)(arow + 2 * mr_max) - 1, _MM_HINT_T0);     \
        }                                                                        \
    } while (0)

/* A @ B with B packed whole into work, its panels one after another (each
 * k rows of two vectors), and the blocks of MR rows of A outermost: each
 * block goes through all panels while its rows stay in cache, and fetches
 * the next block's rows into L2 over that time. The panel-outer loops above
 * read the rows from memory all on the first panel, faster than one core's
 * share of memory bandwidth; a shuffled split first layer's product in
 * float64 (256 x 256 x 392 per thread, 2 threads) ran ~8% faster this way
 * in a C benchmark (~830 -> ~760 us), float32 ~2% slower. B is packed on
 * the first block, and K cut into near-equal blocks of at most KC_O (a block
 * of A and a panel's block of B then take about 32 KiB of L1). With ac the
 * block's rows are copied there first and read from the copy. */
#define FASTNN_ROWS_OUTER(NAME, T, V, W, M, S, MR, KC_O)                         \
    __attribute__((target("avx512f")))                                           \
    static void NAME(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const T* const* a,   \
                     const T* a0, ptrdiff_t lda, const T* b, ptrdiff_t ldb, T* c, \
                     ptrdiff_t ldc, T* ac, ptrdiff_t ldac, T* work)              \
    {                                                                            \
        const ptrdiff_t line = 64 / (ptrdiff_t)sizeof(T);                        \
        const ptrdiff_t n_kb = (k + KC_O - 1) / KC_O;                            \
        const ptrdiff_t kcb = ((k + n_kb - 1) / n_kb + line - 1) / line * line;  \
        const ptrdiff_t lines = (k + line - 1) / line;                           \
        const ptrdiff_t n_steps = n_kb * ((n + 2 * W - 1) / (2 * W));            \
        T* packed = (T*)(((size_t)work + 63) & ~(size_t)63);                     \
        ptrdiff_t n0, k0, i0, kc, mr, nr, q, left, per, done, e;                 \
        const T* rows[MR];                                                       \
        M m0, m1;                                                                \
        for (i0 = 0; i0 < m; i0 += MR) {                                         \
            mr = m - i0 < MR ? m - i0 : MR;                                      \
            /* The next block's lines of A, spread over this block's steps. */   \
            left = m - i0 - MR < MR ? m - i0 - MR : MR;                          \
            left = left > 0 ? left * lines : 0;                                  \
            per = (left + n_steps - 1) / n_steps;                                \
            done = 0;                                                            \
            for (q = 0; q < MR; q++) {                                           \
                ptrdiff_t i = i0 + (q < mr ? q : 0);                             \
                if (ac != NULL && q < mr)                                        \
                    memcpy(ac + i * ldac, FASTNN_A_ROW(i), k * sizeof(T));       \
                rows[q] = ac != NULL ? ac + i * ldac : FASTNN_A_ROW(i);          \
            }                                                                    \
            for (k0 = 0; k0 < k; k0 += kcb) {                                    \
                kc = k - k0 < kcb ? k - k0 : kcb;                                \
                for (n0 = 0; n0 < n; n0 += 2 * W) {                              \
                    T* bp = packed + (n0 / (2 * W)) * k * 2 * W + k0 * 2 * W;    \
                    nr = n - n0 < 2 * W ? n - n0 : 2 * W;                        \
                    FASTNN_PANEL_MASKS(M, W);                                    \
                    if (i0 == 0) {                                               \
                        FASTNN_PACK_B(T, W, S);                                  \
                    }                                                            \
                    for (e = 0; e < per && done < left; e++, done++)             \
                        _mm_prefetch((const char*)(FASTNN_A_ROW(i0 + MR + done / lines)\
                                                   + (done % lines) * line),     \
                                     _MM_HINT_T1);                               \
                    FASTNN_ROWS_BLOCK(T, V, W, M, S, MR, FASTNN_ROWS_NN_ROW,     \
                                      FASTNN_ROWS_OUTER_AT,                      \
                                      FASTNN_ROWS_OUTER_PREF);                   \
                }                                                                \
            }                                                                    \
        }                                                                        \
    }
#define FASTNN_ROWS_OUTER_AT(r, kk) rows[r][k0 + (kk)]
/* Step kk fetches the packed row of B 8 steps ahead (two vectors, 128 bytes)
 * from L2: ~3% of the product in the C benchmark above (~811 -> ~783 us). */
#define FASTNN_ROWS_OUTER_PREF(kk)                                               \
    do {                                                                         \
        _mm_prefetch((const char*)brow + 8 * 128, _MM_HINT_T0);                  \
        _mm_prefetch((const char*)brow + 8 * 128 + 64, _MM_HINT_T0);             \
    } while (0)

FASTNN_ROWS_OUTER(fastnn_rows_outer_avx512_s, float, __m512, 16, __mmask16, ps, FASTNN_MR,
                  FASTNN_KC_O_S)
FASTNN_ROWS_OUTER(fastnn_rows_outer_avx512_d, double, __m512d, 8, __mmask8, pd, FASTNN_MR,
                  FASTNN_KC_O_D)

/* A.T @ B passing over A's zeros: for each block of MR sums (MR columns of
 * A), the rows of A whose MR elements are all zero add nothing, and are
 * left out. Each block of KC_T rows of A is scanned first, a pass of MC_T
 * of its columns at a time: each block of sums gets the list of its rows
 * with a non-zero element, and those rows' MR elements packed one after
 * another in work (fastnn_rows_tn_work_size). The panels of B then go
 * through the lists. Fashion-MNIST's pixels are half zeros, and 28% of a
 * row's stretches of 8 (float64's MR) are all zero: a split first layer's
 * weight gradient (392 x 256 x 256 per thread, 2 threads) took ~540 us
 * against ~710 us in a C benchmark. The packed rows are read in sequence,
 * unlike the rows of A: through the lists alone, without packing, it ran
 * no faster than the plain loops.
 *
 * Every sum adds the same products in the same order as the plain loops
 * but for the skipped ones, each an exact zero (0 * b with b finite), so
 * the result is the same to the last bit. A NaN in A counts as non-zero;
 * where B holds an infinity or a NaN, a skipped row's product is taken as
 * 0 rather than NaN. */
#define FASTNN_ROWS_TN_SKIP(NAME, T, V, W, M, S, MR, KC)                         \
    __attribute__((target("avx512f")))                                           \
    static void NAME(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const T* const* a,   \
                     const T* a0, ptrdiff_t lda, const T* b, ptrdiff_t ldb, T* c, \
                     ptrdiff_t ldc, T* work)                                     \
    {                                                                            \
        const ptrdiff_t mc_max = FASTNN_MC_T / MR * MR;                          \
        const ptrdiff_t nblk_max = fastnn_rows_tn_blocks(m, MR);                 \
        T* packed = (T*)(((size_t)work + 63) & ~(size_t)63);                     \
        unsigned char* lists = (unsigned char*)(packed + nblk_max * KC * MR);     \
        int* counts = (int*)(lists + nblk_max * KC);                             \
        const M full = (M)(((M)1 << MR) - 1);                                    \
        const V zero = _mm512_setzero_##S();                                     \
        ptrdiff_t n0, k0, c0, ib, nblk, kc, mc, mr, nr, q, j, kk;                \
        M m0, m1;                                                                \
        T bp[KC * 2 * W] __attribute__((aligned(64)));                           \
        for (k0 = 0; k0 < k; k0 += KC) {                                         \
            kc = k - k0 < KC ? k - k0 : KC;                                      \
            for (c0 = 0; c0 < m; c0 += mc_max) {                                 \
                mc = m - c0 < mc_max ? m - c0 : mc_max;                          \
                nblk = (mc + MR - 1) / MR;                                       \
                /* The lists and packed rows, A's rows read in order. */         \
                for (ib = 0; ib < nblk; ib++)                                    \
                    counts[ib] = 0;                                              \
                for (kk = 0; kk < kc; kk++) {                                    \
                    const T* arow = FASTNN_A_ROW(k0 + kk) + c0;                  \
                    for (ib = 0; ib < nblk; ib++) {                              \
                        const ptrdiff_t left = mc - ib * MR;                     \
                        const M am = left >= MR ? full : (M)(((M)1 << left) - 1);\
                        const V x = _mm512_maskz_loadu_##S(am, arow + ib * MR);  \
                        const int at = counts[ib];                               \
                        _mm512_mask_storeu_##S(packed + (ib * KC + at) * MR, full, x);\
                        lists[ib * KC + at] = (unsigned char)kk;                 \
                        counts[ib] = at + (_mm512_cmp_##S##_mask(x, zero, _CMP_NEQ_UQ) != 0);\
                    }                                                            \
                }                                                                \
                for (n0 = 0; n0 < n; n0 += 2 * W) {                              \
                    nr = n - n0 < 2 * W ? n - n0 : 2 * W;                        \
                    FASTNN_PANEL_MASKS(M, W);                                    \
                    FASTNN_PACK_B(T, W, S);                                      \
                    for (ib = 0; ib < nblk; ib++) {                              \
                        const unsigned char* list = lists + ib * KC;             \
                        const T* arow = packed + ib * KC * MR;                   \
                        const ptrdiff_t i0 = c0 + ib * MR, cnt = counts[ib];     \
                        FASTNN_ROWS_SUMS(V, S, MR);                              \
                        mr = m - i0 < MR ? m - i0 : MR;                          \
                        /* Rows past mr hold zeros: their sums are not stored. */\
                        for (j = 0; j < cnt; j++, arow += MR) {                  \
                            const T* brow = bp + list[j] * 2 * W;                \
                            V b0 = _mm512_load_##S(brow);                        \
                            V b1 = _mm512_load_##S(brow + W);                    \
                            FASTNN_ROWS_FMA(V, S, MR, FASTNN_ROWS_PACKED_AT, j); \
                        }                                                        \
                        FASTNN_ROWS_STORE(T, W, S);                              \
                    }                                                            \
                }                                                                \
            }                                                                    \
        }                                                                        \
    }

#define FASTNN_ROWS_PACKED_AT(r, j) arow[r]

FASTNN_ROWS_TN_SKIP(fastnn_rows_tn_skip_avx512_s, float, __m512, 16, __mmask16, ps, FASTNN_MR,
                    FASTNN_KC_T)
FASTNN_ROWS_TN_SKIP(fastnn_rows_tn_skip_avx512_d, double, __m512d, 8, __mmask8, pd,
                    FASTNN_MR_TD, FASTNN_KC_T)

/* Kernel NAME: A @ B (OP NN, PACK B), A.T @ B (OP TN, PACK B) or A @ B.T
 * (OP NN, PACK BT) over elements T. */
#define FASTNN_ROWS_KERNEL(NAME, T, V, W, M, S, MR, KC, OP, PACK)                \
    __attribute__((target("avx512f")))                                           \
    static void NAME(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const T* const* a,   \
                     const T* a0, ptrdiff_t lda, const T* b, ptrdiff_t ldb, T* c, \
                     ptrdiff_t ldc, T* ac, ptrdiff_t ldac)                       \
    {                                                                            \
        FASTNN_ROWS_LOOPS(T, V, W, M, S, MR, KC, FASTNN_PACK_##PACK,             \
                          FASTNN_ROWS_##OP##_SETUP(T), FASTNN_ROWS_##OP##_ROW,   \
                          FASTNN_ROWS_##OP##_AT, FASTNN_ROWS_##OP##_PART,        \
                          FASTNN_ROWS_##OP##_PREF, FASTNN_ROWS_##OP##_KEEP)      \
    }

/* NAME_s over floats and NAME_d over doubles (MR_D sums per block). */
#define FASTNN_ROWS_KERNELS(NAME, MR_D, KC, OP, PACK)                            \
    FASTNN_ROWS_KERNEL(NAME##_s, float, __m512, 16, __mmask16, ps, FASTNN_MR, KC, \
                       OP, PACK)                                                 \
    FASTNN_ROWS_KERNEL(NAME##_d, double, __m512d, 8, __mmask8, pd, MR_D, KC, OP, \
                       PACK)

FASTNN_ROWS_KERNELS(fastnn_rows_nn_avx512, FASTNN_MR, FASTNN_KC, NN, B)
FASTNN_ROWS_KERNELS(fastnn_rows_tn_avx512, FASTNN_MR_TD, FASTNN_KC_T, TN, B)
FASTNN_ROWS_KERNELS(fastnn_rows_nt_avx512, FASTNN_MR, FASTNN_KC, NN, BT)

#endif /* FASTNN_ROWS_AVX512 */

/* The portable loops. */
#define FASTNN_ROWS_PLAIN(T)                                                     \
    ptrdiff_t i, j, q;                                                           \
    (void)work;                                                                  \
    if (ac != NULL && op != FASTNN_TN)                                           \
        for (i = 0; i < m; i++)                                                  \
            memcpy(ac + i * ldac, FASTNN_A_ROW(i), k * sizeof(T));               \
    for (i = 0; i < m; i++)                                                      \
        for (j = 0; j < n; j++)                                                  \
            c[i * ldc + j] = 0;                                                  \
    for (i = 0; i < m; i++)                                                      \
        for (q = 0; q < k; q++) {                                                \
            T x = op == FASTNN_TN ? FASTNN_A_ROW(q)[i] : FASTNN_A_ROW(i)[q];     \
            for (j = 0; j < n; j++)                                              \
                c[i * ldc + j] += x * (op == FASTNN_NT ? b[j * ldb + q]          \
                                                       : b[q * ldb + j]);        \
        }

/* The parameters every product takes, over elements T. */
#define FASTNN_ROWS_PARAMS(T)                                                    \
    int op, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const T* const* a,            \
        const T* a0, ptrdiff_t lda, const T* b, ptrdiff_t ldb, T* c,             \
        ptrdiff_t ldc, T* ac, ptrdiff_t ldac, T* work

static void fastnn_rows_plain_s(FASTNN_ROWS_PARAMS(float)) { FASTNN_ROWS_PLAIN(float) }
static void fastnn_rows_plain_d(FASTNN_ROWS_PARAMS(double)) { FASTNN_ROWS_PLAIN(double) }

/* Entry points: the AVX-512 kernels where the CPU has them, else the plain
 * loops. */
static int fastnn_rows_cpu = -1;

#ifdef FASTNN_ROWS_AVX512
#define FASTNN_ROWS_DISPATCH(X)                                                  \
    if (k <= 0) {                                                                \
        fastnn_rows_plain_##X(op, m, n, 0, a, a0, lda, b, ldb, c, ldc, NULL, 0,   \
                              NULL);                                             \
        return;                                                                  \
    }                                                                            \
    if (fastnn_rows_cpu < 0)                                                     \
        fastnn_rows_cpu = fastnn_rows_available();                               \
    if (fastnn_rows_cpu) {                                                       \
        if (op == FASTNN_TN && work != NULL)                                     \
            fastnn_rows_tn_skip_avx512_##X(m, n, k, a, a0, lda, b, ldb, c, ldc, work);\
        else if (op == FASTNN_TN)                                                \
            fastnn_rows_tn_avx512_##X(m, n, k, a, a0, lda, b, ldb, c, ldc, NULL, 0);\
        else if (op == FASTNN_NT)                                                \
            fastnn_rows_nt_avx512_##X(m, n, k, a, a0, lda, b, ldb, c, ldc, ac, ldac);\
        else if (work != NULL)                                                   \
            fastnn_rows_outer_avx512_##X(m, n, k, a, a0, lda, b, ldb, c, ldc, ac, ldac,\
                                         work);                                  \
        else                                                                     \
            fastnn_rows_nn_avx512_##X(m, n, k, a, a0, lda, b, ldb, c, ldc, ac, ldac);\
        return;                                                                  \
    }
#else
#define FASTNN_ROWS_DISPATCH(X)
#endif

/* fastnn_rows_gemm_X over elements T. */
#define FASTNN_ROWS_ENTRY(X, T)                                                  \
    static void fastnn_rows_gemm_##X(FASTNN_ROWS_PARAMS(T))                      \
    {                                                                            \
        FASTNN_ROWS_DISPATCH(X)                                                  \
        fastnn_rows_plain_##X(op, m, n, k, a, a0, lda, b, ldb, c, ldc, ac, ldac, work);\
    }

FASTNN_ROWS_ENTRY(s, float)
FASTNN_ROWS_ENTRY(d, double)

#endif /* FASTNN_ROWS_GEMM_H */
