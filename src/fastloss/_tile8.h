/* Moving 8 float32 or float64 rows into and out of the 8-row tiles of the
   softmax losses (_rowwise_math: t[j*8 + k] = x_kj, the lanes of a vector are 8
   rows).

   Written as plain loops, the move is one scalar load and one scalar store per
   logit: callgrind counted 68 of the 358 instructions per row of
   cross_entropy (65536, 10) float32 at avx2 in the two moves. With AVX2 the
   rows go through 8x8 transposes in registers instead (8 loads, 24 shuffles,
   8 stores per 64 logits); float64 rows through 4x4 transposes (4 loads, 8
   shuffles, 4 stores per 16 logits). Only data moves, so every SIMD level keeps
   the same bits. The rows must be contiguous (class stride 1) and not overlap
   (row stride >= C); other layouts keep the loops in _rowwise_math. */
#ifndef FASTLOSS_TILE8_H
#define FASTLOSS_TILE8_H

#include <stddef.h>

#if defined(__AVX2__)
#include <immintrin.h>

/* Rows r[0..7] of an 8x8 block become its columns. */
static inline void fl__transpose8(__m256 *r)
{
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/* The 4x4 block of doubles at src (row stride ss), transposed, to dst (row
   stride ds): dst[i*ds + k] = src[k*ss + i]. */
static inline void fl__copy4x4t(const double *src, ptrdiff_t ss, double *dst, ptrdiff_t ds)
{
    __m256d r0 = _mm256_loadu_pd(src), r1 = _mm256_loadu_pd(src + ss);
    __m256d r2 = _mm256_loadu_pd(src + 2 * ss), r3 = _mm256_loadu_pd(src + 3 * ss);
    __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
    __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
    _mm256_storeu_pd(dst, _mm256_permute2f128_pd(t0, t2, 0x20));
    _mm256_storeu_pd(dst + ds, _mm256_permute2f128_pd(t1, t3, 0x20));
    _mm256_storeu_pd(dst + 2 * ds, _mm256_permute2f128_pd(t0, t2, 0x31));
    _mm256_storeu_pd(dst + 3 * ds, _mm256_permute2f128_pd(t1, t3, 0x31));
}
#endif

/* t[j*8 + k] = x[k*rs + j] for j < C, k < 8 (rs >= C), float64. */
static inline void fl_tile8_load_f64(const double *x, ptrdiff_t rs, ptrdiff_t C, double *t)
{
    ptrdiff_t jb = 0;
#if defined(__AVX2__)
    for (; jb + 4 <= C; jb += 4) {
        fl__copy4x4t(x + jb, rs, t + jb * 8, 8);
        fl__copy4x4t(x + 4 * rs + jb, rs, t + jb * 8 + 4, 8);
    }
#endif
    for (int k = 0; k < 8; k++)
        for (ptrdiff_t j = jb; j < C; j++)
            t[j * 8 + k] = x[k * rs + j];
}

/* g[k*grs + j] = t[j*8 + k] for j < C, k < 8 (grs >= C), float64. */
static inline void fl_tile8_store_f64(const double *t, ptrdiff_t C, double *g, ptrdiff_t grs)
{
    ptrdiff_t jb = 0;
#if defined(__AVX2__)
    for (; jb + 4 <= C; jb += 4) {
        fl__copy4x4t(t + jb * 8, 8, g + jb, grs);
        fl__copy4x4t(t + jb * 8 + 4, 8, g + 4 * grs + jb, grs);
    }
#endif
    for (int k = 0; k < 8; k++)
        for (ptrdiff_t j = jb; j < C; j++)
            g[k * grs + j] = t[j * 8 + k];
}

/* t[j*8 + k] = x[k*rs + j] for j < C, k < 8 (rs >= C). */
static inline void fl_tile8_load_f32(const float *x, ptrdiff_t rs, ptrdiff_t C, float *t)
{
    ptrdiff_t jb = 0;
#if defined(__AVX2__)
    __m256 r[8];
    int k;
    ptrdiff_t j;
    for (; jb + 8 <= C; jb += 8) {
        for (k = 0; k < 8; k++)
            r[k] = _mm256_loadu_ps(x + k * rs + jb);
        fl__transpose8(r);
        for (j = 0; j < 8; j++)
            _mm256_storeu_ps(t + (jb + j) * 8, r[j]);
    }
    if (jb < C) {
        /* The last C - jb < 8 columns: masked loads read nothing past a row. */
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(C - jb)),
                                          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        for (k = 0; k < 8; k++)
            r[k] = _mm256_maskload_ps(x + k * rs + jb, mask);
        fl__transpose8(r);
        for (j = 0; j < C - jb; j++)
            _mm256_storeu_ps(t + (jb + j) * 8, r[j]);
    }
#else
    for (int k = 0; k < 8; k++)
        for (ptrdiff_t j = jb; j < C; j++)
            t[j * 8 + k] = x[k * rs + j];
#endif
}

/* g[k*grs + j] = t[j*8 + k] for j < C, k < 8 (grs >= C). */
static inline void fl_tile8_store_f32(const float *t, ptrdiff_t C, float *g, ptrdiff_t grs)
{
    ptrdiff_t jb = 0;
#if defined(__AVX2__)
    __m256 r[8];
    int k;
    for (; jb + 8 <= C; jb += 8) {
        for (k = 0; k < 8; k++)
            r[k] = _mm256_loadu_ps(t + (jb + k) * 8);
        fl__transpose8(r);
        for (k = 0; k < 8; k++)
            _mm256_storeu_ps(g + k * grs + jb, r[k]);
    }
    /* The last C - jb < 8 columns as scalars: AVX2's masked store is slow on AMD
       cores, and a full-width store would write into the next row. */
#endif
    for (int k = 0; k < 8; k++)
        for (ptrdiff_t j = jb; j < C; j++)
            g[k * grs + j] = t[j * 8 + k];
}

#endif
