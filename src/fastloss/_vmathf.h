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
   exception is fl_expdiff32, softmax's exp(x_j - max) for hard class targets:
   there every gradient entry is a product of such exps and sums of them
   (p_j, and 1 - p_y summed from the other classes), which keeps their
   relative error; measured 1.44 units of 2^-24 for the exp, 1.8 ulp on
   gradient elements (tests/test_dispatch.py).

   Relative error against float64, in units of 2^-24 (tests/test_vmath.py,
   arguments across every binade): fl_log32 2.07 (float64 range, subnormals
   included), fl_log1p32 3.22 over float32 arguments and float64 ones in
   [0, 1] (2.06 over float32 ones), fl_expdiff32 1.44 for x - m in
   [-708, 0]. NaN, +-inf and +-0 come out as IEEE says. Build with -ffp-contract=off, as the rest, so every ISA gives the
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

/* exp(r) - 1 for |r| <= ln2/2 in float32: Taylor to degree 7 (the first
   omitted term is below 5.2e-9 relative, 0.09 float32 ulp), Estrin's scheme. */
FL_INLINE float fl__expm1f_poly(float r)
{
    float r2 = r * r, r4 = r2 * r2;
    float p01 = 0.5f + 1.66666666666666667e-01f * r;                   /* 1/2!, 1/3! */
    float p23 = 4.16666666666666667e-02f + 8.33333333333333333e-03f * r; /* 1/4!, 1/5! */
    float p45 = 1.38888888888888889e-03f + 1.98412698412698413e-04f * r; /* 1/6!, 1/7! */
    return r + r2 * ((p01 + p23 * r2) + p45 * r4);
}

/* ln2 = FLF_LN2_HI12 + FLF_LN2_LO12; HI12 has 12 significant bits, so n * HI12
   is exact for |n| <= 2^12 (fl_expdiff32 has |n| <= 1022). */
#define FLF_LN2_HI12 6.931152343750000e-01f    /* 0x3f317000 */
#define FLF_LN2_LO12 3.19461849453094e-05f

/* exp(x - m) for float32 x <= m (softmax's exp(x_j - max)), float32-accurate,
   as a float64 that keeps float64's range down to 2^-1021 (x - m >= -708; 0
   below, where it is under every float32 and 1e-300 of the softmax sum).
   Everything runs in float32 lanes (16 per AVX-512 vector) except the final
   scaling by 2^n:
   * d = x - m is rounded, so TwoSum gives its exact error t (x - m = d + t);
     without t, exp(d) would be |d| * 2^-24 off (16 ulp at d = -16);
   * n = round(d / ln2), r = (d - n HI12) - n LO12 + t, |r| <= 0.35;
   * exp(r) by the degree-7 polynomial, then times 2^n in float64.
   exp(0) = 1 exactly (the row maximum's term), -inf gives 0, NaN stays NaN
   (x = m = +inf gives NaN, as x - m does). */
FL_INLINE double fl_expdiff32(float x, float m)
{
    float d = x - m;
    float bb = d - x;
    float t = (x - (d - bb)) - (m + bb);
    int under = d < -708.0f;                                     /* NaN: 0 */
    float dc = fl_blendf(under, -708.0f, d);
    float nf = (dc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;   /* 0x1.8p23 */
    float r = ((dc - nf * FLF_LN2_HI12) - nf * FLF_LN2_LO12) + t;
    float p = 1.0f + fl__expm1f_poly(r);
    uint64_t ki = fl_asu64((double)nf + FL_SHIFT);
    return fl_blend(under, 0.0, (double)p * fl__pow2i(ki));
}

/* log1p of a float64 rounded to float32: the float32 kernels call it on
   float32 data and on exp32 results in [0, 1], where that rounding costs at
   most half a float32 ulp. */
FL_INLINE double fl_log1p32(double v) { return (double)fl_log1pf((float)v); }

/* log cosh with its log1p in float32: that log1p feeds only the value; tanh,
   the gradient, comes from the float64 expm1. */
FL_DEFINE_LOG_COSH_TANH(fl_log_cosh_tanh32, fl__expm1_le1, fl_log1p32)

#endif
