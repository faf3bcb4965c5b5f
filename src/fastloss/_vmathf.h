/* log / log1p for the float32 kernels: float64 in and out, float32
   polynomials inside. Same structure and IEEE care as _vmath.h (read that
   first); the polynomial has the degree float32 needs (4 terms, not 7).

   The float32 kernels use these only where the result feeds the loss value
   alone (softplus in BCE-with-logits, the logs of BCE, Poisson's log, ...):
   values are float64 sums whose relative error stays ~1e-9, far below the
   1e-6 asked for. Where a transcendental feeds the gradient (sigmoid(x) - y,
   exp(x) - y, tanh), the float64 set stays: the difference cancels, and a
   float32-accurate exp would leave gradient elements 100+ ulp off there
   (measured), where float64 math rounds to within 0.5-1 ulp. The one
   exceptions run in float32 lanes with FMA (below): fl_expdiff32, softmax's
   exp(x_j - max) for hard class targets, where every gradient entry is a
   product of such exps and sums of them (p_j, and 1 - p_y summed from the
   other classes), which keeps their relative error (2 ulp on gradient
   elements, tests/test_dispatch.py); and fl_sigmoid_parts32, whose sigmoids
   are accurate to float64's standard in both tails.

   Relative error against float64, in units of 2^-24 (tests/test_vmath.py,
   arguments across every binade): fl_log32 2.07 (float64 range, subnormals
   included), fl_log1p32 3.22 over float32 arguments and float64 ones in
   [0, 1] (2.06 over float32 ones), fl_expdiff32 1.3 over normal float32
   results. NaN, +-inf and +-0 come out as IEEE says. Build with -ffp-contract=off, as the rest, so every ISA gives the
   same bits. */
#ifndef FASTLOSS_VMATHF_H
#define FASTLOSS_VMATHF_H

#include "_vmath.h"

FL_INLINE uint32_t fl_asu32(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
FL_INLINE float fl_asf32(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }

/* c ? a : b on bits (see fl_blend). */
FL_INLINE float fl_blendf(int c, float a, float b)
{
    uint32_t m = (uint32_t)0 - (uint32_t)(c != 0);
    return fl_asf32((fl_asu32(a) & m) | (fl_asu32(b) & ~m));
}

/* ln2 = FLF_LN2_HI + FLF_LN2_LO; HI has 15 significant bits, so k * HI is
   exact without FMA for every float32 exponent k. */
#define FLF_LN2_HI 6.93145751953125e-01f      /* 0x3f317200 */
#define FLF_LN2_LO 1.428606765330187045e-06f

/* log(1 + f) - f + f^2/2 pieces (fdlibm's form), Taylor coefficients 2/(2k+1):
   |s| <= 0.1716, so the first omitted term is below 1e-9 relative. */
FL_INLINE float fl__logf_tail(float f, float *hfsq_out, float *s_out)
{
    float s = f / (2.0f + f);
    float z = s * s;
    float w = z * z;
    float t1 = w * (4.0e-01f + w * 2.22222222222222222e-01f);
    float t2 = z * (6.66666666666666667e-01f + w * 2.85714285714285714e-01f);
    *hfsq_out = 0.5f * f * f;
    *s_out = s;
    return t1 + t2;
}

/* u = 2^k m with m in [sqrt(2)/2, sqrt(2)), for positive finite normal u. */
FL_INLINE float fl__logf_reduce(float u, float *kd)
{
    uint32_t iu = fl_asu32(u) + (0x3f800000u - 0x3f3504f3u);
    uint32_t e = iu >> 23;                                   /* biased k, < 256 */
    *kd = (fl_asf32(e | 0x4b000000u) - 8388608.0f /* 2^23 */) - 127.0f;
    return fl_asf32((iu & 0x007fffffu) + 0x3f3504f3u);
}

/* log of a float64, float32-accurate, with float64's range: the exponent
   split in float64 (as fl_log), the polynomial on m in [sqrt(2)/2, sqrt(2))
   in float32. m - 1 is exact in float64 and keeps its relative accuracy when
   rounded to float32, so log(v) near v = 1 is accurate too. */
FL_INLINE double fl_log32(double v)
{
    double kd;
    double m = fl__log_split(v, &kd);
    float f = (float)(m - 1.0), hfsq, s;
    float R = fl__logf_tail(f, &hfsq, &s);
    double lm = (double)(f - (hfsq - s * (hfsq + R)));
    double r = kd * FL_LN2_HI + (kd * FL_LN2_LO + lm);
    return fl__log_special(v, r);
}

FL_DEFINE_LOG1P(fl_log1pf, float, fl_blendf, fl__logf_reduce, fl__logf_tail, FLF_LN2_HI, FLF_LN2_LO,
                25.0f, 2.9802322e-08f /* 2^-25 */)

/* ln2 = FLF_LN2_HI12 + FLF_LN2_LO12; HI12 has 12 significant bits, so n * HI12
   is exact for |n| <= 2^12 (the callers below have |n| <= 1022). */
#define FLF_LN2_HI12 6.931152343750000e-01f    /* 0x3f317000 */
#define FLF_LN2_LO12 3.19461849453094e-05f

/* ---- float32 lanes with fused multiply-add ----------------------------------
   fmaf() is one instruction where the SIMD level has FMA (avx2, avx512, and every
   aarch64 CPU), so those levels give the same bits. The x86-64 baseline has no
   FMA: there fmaf is a C library call per element, which keeps the loop scalar,
   and on a CPU without FMA a software routine (glibc: 227 ns per fl_expdiff32
   element, measured with its FMA paths masked). An exact float64 emulation of
   fmaf (round-to-odd) that vectorises was tried: 24 ns per element, still 3.5x
   slower than float64 math (cross_entropy (1024, 100) float32 at baseline: 3740
   us against 1048-1089). So FL_F32_LANES is 0 there, and the functions below
   that use fmaf (fl_expdiff32, fl_sigmoid_parts32 with its fl__log1pf_unit)
   are the same results from the float64 set: the
   baseline's float32 results differ from the FMA levels' by rounding, both
   within the bounds stated for float32 (tests/test_dispatch.py, test_vmath.py). */
#if defined(__FMA__) || defined(__AVX2__) || \
    !(defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86))
#define FL_F32_LANES 1
#else
#define FL_F32_LANES 0
#endif

typedef struct { double sp; double sn; double l1p; } fl_sig32;

#if FL_F32_LANES

/* exp(x - m) for float32 x <= m (softmax's exp(x_j - max)) as a float32, all in
   float32 lanes (8 per AVX2 vector, 16 per AVX-512 one):
   * d = x - m is rounded, so TwoSum gives its exact error t (x - m = d + t);
     without t, exp(d) would be |d| * 2^-24 off (16 ulp at d = -16);
   * n = round(d / ln2), r = fmaf(-n, LO12, fmaf(-n, HI12, d)) + t, |r| <= 0.35;
   * exp(r) by the degree-7 Taylor polynomial (truncation below 0.09 units of
     2^-24), Horner with fmaf;
   * times 2^n as two normal float32 factors, so that results in the subnormal
     range are rounded once; d < -104 gives 0 (below half the smallest
     subnormal).
   Relative error at most 1.3 units of 2^-24 over normal results (measured,
   tests/test_vmath.py); exp(0) = 1 exactly (the row maximum's term), -inf
   gives 0, NaN stays NaN (x = m = +inf gives NaN, as x - m does). */
FL_INLINE float fl_expdiff32(float x, float m)
{
    float d = x - m;
    float bb = d - x;
    float t = (x - (d - bb)) - (m + bb);
    int under = d < -104.0f;                                     /* NaN: 0 */
    float dc = fl_blendf(under, -104.0f, d);
    float nf = (dc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;   /* 0x1.8p23 */
    float r = fmaf(nf, -FLF_LN2_LO12, fmaf(nf, -FLF_LN2_HI12, dc)) + t;
    float p = fmaf(fmaf(fmaf(fmaf(fmaf(1.98412698412698413e-04f, r, 1.38888888888888889e-03f), r,
                                  8.33333333333333333e-03f), r, 4.16666666666666667e-02f), r,
                        1.66666666666666667e-01f), r, 0.5f);
    p = fmaf(fmaf(p, r, 1.0f), r, 1.0f);
    /* 2^n = 2^n1 2^n2, n1 ~ n / 2: both factors normal for n >= -150. */
    float n1 = (nf * 0.5f + 12582912.0f) - 12582912.0f;
    float s1 = fl_asf32((fl_asu32(n1 + 12582912.0f) + 127u) << 23);
    float s2 = fl_asf32((fl_asu32((nf - n1) + 12582912.0f) + 127u) << 23);
    return fl_blendf(under, 0.0f, (p * s1) * s2);
}

/* log1p(z) for float32 z in [0, 1] (softplus's log1p(exp(-|x|))): above
   sqrt(2) - 1, log1p(z) = ln2 + log1p((z - 1) / 2) (exact argument); then
   2 atanh(s), s = f / (2 + f), |s| <= 0.1716, to s^9 (truncation below 2e-9
   relative). One division where fl_log1pf has two and a range reduction: about
   2 units of 2^-24; it feeds loss values only. */
FL_INLINE float fl__log1pf_unit(float z)
{
    int big = z > 0.41421356f;
    float f = fl_blendf(big, (z - 1.0f) * 0.5f, z);
    float s = f / (2.0f + f);
    float s2 = s * s;
    float t = s2 * fmaf(fmaf(fmaf(1.11111111111111111e-01f, s2, 1.42857142857142857e-01f), s2,
                             2.0e-01f), s2, 3.33333333333333333e-01f);
    return fl_blendf(big, 6.93147182e-01f, 0.0f) + 2.0f * fmaf(s, t, s);
}

/* sigmoid(x), sigmoid(-x) and log1p(exp(-|x|)) of a float32 x, in float32 lanes
   with FMA (the two sigmoids returned as float64: a float32 rounding before the
   caller's scaling would be a second one). With a = |x| = n ln2 - r:
   * n = round(a / ln2); t = n HI12 - a is exact (Sterbenz), r = fmaf(n, LO12, t)
     and rl = fmaf(n, LO12, t - r) its rounding error;
   * exp(r) = 1 + r + r^2 P(r) (+ rl), P the degree-5 Taylor tail (Horner,
     fmaf; truncation below 0.09 units of 2^-24), summed into a float-float pair
     hi + lo (|lo| <= ulp(hi) / 2); exp(-a) = 2^-n (hi + lo);
   * R = 1 / (1 + e): r0 = 1 / s for s = 1 + e rounded, then one Newton step on
     the exact residual fmaf(-s, r0, 1) and s's rounding error;
   * E = e / (1 + e) = 2^-n (hi + lo) R: the product hi r0 kept exact by fmaf,
     the scaling by 2^-n in float64 (no float32 underflow: n <= 1021, a clamped
     at 708, where every float32 result is 0 anyway; +inf gives exactly 0).
   Both sigmoids come out within about 0.03 units of 2^-24 in both tails (at the
   points checked), so a gradient that is one of them times a weight rounds to
   float32 within 1 ulp of the correctly rounded result (tests/test_dispatch.py,
   through the losses, across every binade). The log1p feeds the
   loss value only (fl__log1pf_unit; from 2^-n (hi + lo) in float64 where that
   is below float32's normal range). NaN gives NaN in all three. */

FL_INLINE fl_sig32 fl_sigmoid_parts32(float x)
{
    float a = fabsf(x);
    float ac = fl_blendf(a > 708.0f, 708.0f, a);                /* NaN passes */
    float nf = (ac * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float t = nf * FLF_LN2_HI12 - ac;
    float r = fmaf(nf, FLF_LN2_LO12, t);
    float rl = fmaf(nf, FLF_LN2_LO12, t - r);
    float P = fmaf(fmaf(fmaf(fmaf(1.98412698412698413e-04f, r, 1.38888888888888889e-03f), r,
                             8.33333333333333333e-03f), r, 4.16666666666666667e-02f), r,
                   1.66666666666666667e-01f);
    P = fmaf(P, r, 0.5f);
    float h1 = 1.0f + r;
    float l1 = ((1.0f - h1) + r) + fmaf(r * r, P, rl);
    float hi = h1 + l1;                         /* renormalised: |lo| <= ulp(hi) / 2 */
    float lo = (h1 - hi) + l1;
    /* 2^-n: in float32 where it is normal (n <= 126), else 0; in float64 always. */
    uint32_t nb = fl_asu32(12582912.0f - nf);                    /* -n in the low bits */
    float scf = fl_blendf(nf <= 126.0f, fl_asf32((nb + 127u) << 23), 0.0f);
    double scd = fl__pow2i(fl_asu64(FL_SHIFT - (double)nf));
    float ef = hi * scf, efl = lo * scf;
    float s = 1.0f + ef;
    float ds = ((1.0f - s) + ef) + efl;
    float r0 = 1.0f / s;
    float c1 = r0 * fmaf(-ds, r0, fmaf(-s, r0, 1.0f));
    float mh = hi * r0;
    float ml = fmaf(hi, r0, -mh) + fmaf(hi, c1, lo * r0);
    double R = (double)r0 + (double)c1;
    double E = fl_blend(a == (float)INFINITY, 0.0, ((double)mh + (double)ml) * scd);
    fl_sig32 p;
    int pos = x >= 0.0f;
    p.sp = fl_blend(pos, R, E);
    p.sn = fl_blend(pos, E, R);
    /* exp(-a) below 2^-100: log1p(e) = e to float64 precision, and E = e (1 - e) is e. */
    p.l1p = fl_blend(a > 69.0f, E, (double)fl__log1pf_unit(ef + efl));
    return p;
}

#else
/* The x86-64 baseline (no FMA): the same results from the float64 set. x - m
   and |x| of float32 values are exact in float64, and one rounding of the
   float64 exp (1 ulp of float64) to float32 keeps fl_expdiff32 within half a
   float32 ulp; the sigmoids in both tails to ~1 ulp of float64, as above. */
FL_INLINE float fl_expdiff32(float x, float m)
{
    return (float)fl_exp((double)x - (double)m);
}

FL_INLINE fl_sig32 fl_sigmoid_parts32(float x)
{
    double a = fabs((double)x);
    double e = fl_exp(-a);                      /* +inf: 0; NaN: NaN */
    double R = 1.0 / (1.0 + e);
    double E = e * R;
    fl_sig32 p;
    int pos = x >= 0.0f;
    p.sp = fl_blend(pos, R, E);
    p.sn = fl_blend(pos, E, R);
    p.l1p = fl_log1p(e);
    return p;
}
#endif

/* log1p of a float64 rounded to float32: the float32 kernels call it on
   float32 data and on exp32 results in [0, 1], where that rounding costs at
   most half a float32 ulp. */
FL_INLINE double fl_log1p32(double v) { return (double)fl_log1pf((float)v); }

/* log cosh with its log1p in float32: that log1p feeds only the value; tanh,
   the gradient, comes from the float64 expm1. */
FL_DEFINE_LOG_COSH_TANH(fl_log_cosh_tanh32, fl__expm1_le1, fl_log1p32)

#endif
