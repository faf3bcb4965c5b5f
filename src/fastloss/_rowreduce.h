/* Row maximum and tie count for the softmax losses, as loops the compiler
   vectorises. A maximum carried across a loop is a reduction: without
   -ffast-math GCC keeps it scalar however it is written (a ternary, a bit
   blend, 8 hand-made lanes), and at C = 1000 that scalar pass cost about as
   much as the exp pass. `omp simd reduction(max)` allows the reordering, and
   it is exact: a maximum does not depend on the order (the only freedom is
   which of +0 and -0 wins, and x - m and x == m do not see it). NaN entries
   are skipped (z > m is false for them), as the loss expects; they reach it
   through exp(x - m). Without OpenMP (or -fopenmp-simd) the pragma is ignored
   and the loops run scalar with the same results.

   The sums of a row stay in the kernels' fixed lane order (_rowwise_math: 8
   lanes, 16 for float32 exp sums): an `omp simd` sum would change with the
   vector width of the ISA level. */
#ifndef FASTLOSS_ROWREDUCE_H
#define FASTLOSS_ROWREDUCE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#if defined(_MSC_VER)
#define FL_OMP_SIMD(clauses)   /* MSVC's OpenMP 2.0 has no simd construct */
#else
#define FL_PRAGMA_(text) _Pragma(#text)
#define FL_OMP_SIMD(clauses) FL_PRAGMA_(omp simd clauses)
#endif

#define FL_DEFINE_ROW_MAX(NAME, T)                                            \
    static inline double NAME(const T *x, ptrdiff_t cs, ptrdiff_t n)          \
    {                                                                         \
        T m = -INFINITY;                                                      \
        FL_OMP_SIMD(reduction(max:m))                                       \
        for (ptrdiff_t j = 0; j < n; j++) {                                   \
            T z = x[j * cs];                                                  \
            m = z > m ? z : m;                                                \
        }                                                                     \
        return (double)m;                                                     \
    }

/* How many of x[0], x[cs], ..., x[(n-1)*cs] equal m (for argmax's first-index
   tie rule). */
#define FL_DEFINE_COUNT_EQ(NAME, T)                                           \
    static inline ptrdiff_t NAME(const T *x, ptrdiff_t cs, ptrdiff_t n, double m) \
    {                                                                         \
        T mt = (T)m;                                                          \
        ptrdiff_t c = 0;                                                      \
        FL_OMP_SIMD(reduction(+:c))                                           \
        for (ptrdiff_t j = 0; j < n; j++)                                     \
            c += x[j * cs] == mt;                                             \
        return c;                                                             \
    }

/* The same for 8 rows held in a tile whose lanes are the rows (t[j*8 + k] =
   x_kj, _rowwise_math's blocks of 8 rows; the tile has the data's type): m[k] =
   max_j x_kj, and top1[k] = 1 if y_k is the first j with x_kj = m[k] (argmax's
   tie rule: the target is the maximum and no earlier entry equals it), else 0.
   Each step over j is one vector operation on the 8 lanes; without the pragma
   GCC left both scalar. The first index runs in 32-bit lanes (C <= 256): a
   count of earlier ties in float64 lanes cost 4x the instructions. */
#define FL_DEFINE_TILE8(SUFFIX, T, I)                                             \
    static inline void fl_tile8_max_##SUFFIX(const T *t, ptrdiff_t C, double *m)  \
    {                                                                             \
        T mt[8];                                                                  \
        for (int k = 0; k < 8; k++)                                               \
            mt[k] = -INFINITY;                                                    \
        for (ptrdiff_t j = 0; j < C; j++) {                                       \
            FL_OMP_SIMD(simdlen(8))                                               \
            for (int k = 0; k < 8; k++) {                                         \
                T z = t[j * 8 + k];                                               \
                mt[k] = z > mt[k] ? z : mt[k];                                    \
            }                                                                     \
        }                                                                         \
        for (int k = 0; k < 8; k++)                                               \
            m[k] = (double)mt[k];                                                 \
    }                                                                             \
    static inline void fl_tile8_top1_##SUFFIX(const T *t, ptrdiff_t C, const double *m, \
                                              const ptrdiff_t *y, double *top1)   \
    {                                                                             \
        T mt[8];                                                                  \
        I first[8];                                                               \
        for (int k = 0; k < 8; k++) {                                             \
            mt[k] = (T)m[k];                                                      \
            first[k] = (I)C;                                                      \
        }                                                                         \
        for (ptrdiff_t j = C - 1; j >= 0; j--) {                                  \
            FL_OMP_SIMD(simdlen(8))                                               \
            for (int k = 0; k < 8; k++)                                           \
                first[k] = t[j * 8 + k] == mt[k] ? (I)j : first[k];               \
        }                                                                         \
        for (int k = 0; k < 8; k++)                                               \
            top1[k] = (double)(first[k] == (I)y[k]);                              \
    }

FL_DEFINE_TILE8(f32, float, int32_t)
FL_DEFINE_TILE8(f64, double, int64_t)

FL_DEFINE_ROW_MAX(fl_row_max_f32, float)
FL_DEFINE_ROW_MAX(fl_row_max_f64, double)
FL_DEFINE_COUNT_EQ(fl_count_eq_f32, float)
FL_DEFINE_COUNT_EQ(fl_count_eq_f64, double)

#endif
