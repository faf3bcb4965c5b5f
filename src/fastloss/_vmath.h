/* Branch-free, inlinable double-precision exp / expm1 / log / log1p / tanh,
   written so that GCC, clang and MSVC auto-vectorise loops that call them
   (libm's exp/log/log1p are opaque calls that block vectorisation).

   * No branches and no float->int conversions: the exponent of 2^n is built
     with the "magic number" trick and 64-bit integer shifts/adds, which exist
     in SSE2, AVX2 and AVX-512; special cases are C ternaries on computed
     values (vector blends).
   * IEEE semantics kept without -ffast-math: NaN propagates, +-inf, 0,
     subnormal inputs and subnormal/overflowing results are exact.
   * Accuracy against a correctly rounded result (measured over the whole
     double range in tests/test_vmath.py; see bench/README.md):
       fl_exp 1.0, fl_log 0.74, fl_log1p 2.0, fl_expm1 1.9, fl_tanh 2.5,
       fl_sigmoid 2.4 ulp (max over 4e6 random arguments spanning every binade,
       vs. x87 long double); tests assert <= 3 ulp and the special values.
   * Build with -ffp-contract=off (setup.py does) so results do not depend on
     whether the target ISA has FMA: every ISA build is then bit-identical.

   log/log1p follow musl/fdlibm (s = f/(2+f), 7-term polynomial in s^2).
   exp: n = round(x/ln2), r = x - n ln2 (two-part ln2), degree-13 Taylor
   polynomial on |r| <= ln2/2 (Estrin), scaled by 2^n1 * 2^n2 (n1 + n2 = n) so that
   subnormal results and overflow to inf come out right. */
#ifndef FASTLOSS_VMATH_H
#define FASTLOSS_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(_MSC_VER)
#define FL_INLINE static __forceinline
#else
#define FL_INLINE static inline __attribute__((always_inline))
#endif

FL_INLINE uint64_t fl_asu64(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
FL_INLINE double fl_asf64(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }

/* c ? a : b as a bitwise blend. Compilers turn a ternary whose arm is a
   constant into control flow and thread it through the callers' math (GCC 12
   then fails to if-convert the loop); a blend of bits stays a blend. */
FL_INLINE double fl_blend(int c, double a, double b)
{
    uint64_t m = (uint64_t)0 - (uint64_t)(c != 0);
    return fl_asf64((fl_asu64(a) & m) | (fl_asu64(b) & ~m));
}

FL_INLINE double fl_copysign(double mag, double sgn)
{
    return fl_asf64((fl_asu64(mag) & 0x7fffffffffffffffULL) | (fl_asu64(sgn) & 0x8000000000000000ULL));
}

#define FL_LN2_HI 6.93147180369123816490e-01  /* 0x3fe62e42fee00000 */
#define FL_LN2_LO 1.90821492927058770002e-10  /* 0x3dea39ef35793c76 */
#define FL_INVLN2 1.44269504088896338700e+00
#define FL_SHIFT 6755399441055744.0           /* 0x1.8p52: round to integer */

/* exp(r) - 1 for |r| <= ln2/2: Taylor to degree 13 (truncation < 5e-18),
   evaluated by Estrin's scheme: a dependency chain of ~8 operations instead of
   Horner's 24 (without FMA contraction every Horner step is a mul then an add),
   so the loops are not latency-bound. */
FL_INLINE double fl__expm1_poly(double r)
{
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double p01 = 0.5 + 1.66666666666666667e-01 * r;                   /* 1/2!, 1/3!   */
    double p23 = 4.16666666666666667e-02 + 8.33333333333333333e-03 * r; /* 1/4!, 1/5! */
    double p45 = 1.38888888888888889e-03 + 1.98412698412698413e-04 * r; /* 1/6!, 1/7! */
    double p67 = 2.48015873015873016e-05 + 2.75573192239858907e-06 * r; /* 1/8!, 1/9! */
    double p89 = 2.75573192239858907e-07 + 2.50521083854417188e-08 * r; /* 1/10!, 1/11! */
    double pab = 2.08767569878680990e-09 + 1.6059043836821613e-10 * r;  /* 1/12!, 1/13! */
    double q0 = p01 + p23 * r2;
    double q1 = p45 + p67 * r2;
    double q2 = p89 + pab * r2;
    double p = (q0 + q1 * r4) + q2 * r8;
    return r + r2 * p;
}

/* Splits x = n ln2 + r; returns r and the integer n as a double in *nd and as
   the low bits of *ki (two's complement, valid for |n| < 2^51). */
FL_INLINE double fl__reduce(double x, double *nd, uint64_t *ki)
{
    double kd = x * FL_INVLN2 + FL_SHIFT;
    *ki = fl_asu64(kd);
    *nd = kd - FL_SHIFT;
    return (x - *nd * FL_LN2_HI) - *nd * FL_LN2_LO;
}

/* 2^n for -1022 <= n <= 1023, n in the low bits of ki. */
FL_INLINE double fl__pow2i(uint64_t ki) { return fl_asf64((ki + 1023u) << 52); }

FL_INLINE double fl_exp(double x)
{
    /* Clamp (a NaN passes through both compares unchanged). */
    double xc = fl_blend(x < -746.0, -746.0, x);
    xc = fl_blend(xc > 710.0, 710.0, xc);
    double nd; uint64_t ki;
    double r = fl__reduce(xc, &nd, &ki);
    double p = 1.0 + fl__expm1_poly(r);
    /* n in [-1077, 1025]: 2^n = 2^n1 * 2^n2 with both factors normal. */
    /* n1 = floor(n / 2), again by the magic-number rounding (no 64-bit
       arithmetic shift: AVX2 has none); n2 = n - n1 from the integer bits. */
    uint64_t k1 = fl_asu64((nd * 0.5 - 0.25) + FL_SHIFT);
    uint64_t k2 = ki - k1;
    return (p * fl__pow2i(k1)) * fl__pow2i(k2);
}

/* expm1 for x <= 709 (n <= 1023; fl_expm1 handles the rest), accurate near 0. */
FL_INLINE double fl__expm1_le1(double x)
{
    double xc = fl_blend(x < -60.0, -60.0, x);   /* expm1(-60) == -1 in double */
    double nd; uint64_t ki;
    double r = fl__reduce(xc, &nd, &ki);
    double p = fl__expm1_poly(r);
    double s = fl__pow2i(ki);            /* n in [-87, 1023]: normal */
    /* 2^n (1 + p) - 1 = 2^n p + (2^n - 1); 2^n - 1 is exact here. */
    return s * p + (s - 1.0);
}

FL_INLINE double fl_expm1(double x)
{
    double big = fl_exp(x) - 1.0;        /* x > 1: no cancellation */
    double small = fl__expm1_le1(fl_blend(x > 1.0, 1.0, x));
    small = fl_blend((x < 5.551115123125783e-17) & (x > -5.551115123125783e-17), x, small);  /* keeps -0 */
    return fl_blend(x > 1.0, big, small);        /* NaN: small is NaN */
}

/* log(1 + f) - f + f^2/2 pieces, musl/fdlibm coefficients. */
FL_INLINE double fl__log_tail(double f, double *hfsq_out, double *s_out)
{
    double s = f / (2.0 + f);
    double z = s * s;
    double w = z * z;
    double t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
    double t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01 + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
    *hfsq_out = 0.5 * f * f;
    *s_out = s;
    return t1 + t2;
}

/* Reduces a positive finite u to u = 2^k m, m in [sqrt(2)/2, sqrt(2)); k as a double. */
FL_INLINE double fl__log_reduce(double u, double *kd)
{
    uint64_t iu = fl_asu64(u) + (0x3ff0000000000000ULL - 0x3fe6a09e667f3bcdULL);
    uint64_t e = iu >> 52;                                       /* biased k, < 2048 */
    *kd = (fl_asf64(e | 0x4330000000000000ULL) - 4503599627370496.0 /* 2^52 */) - 1023.0;
    return fl_asf64((iu & 0x000fffffffffffffULL) + 0x3fe6a09e667f3bcdULL);
}

/* x = 2^k m as fl__log_reduce, for every positive finite x: subnormals are
   scaled by 2^54 first. */
FL_INLINE double fl__log_split(double x, double *kd)
{
    int sub = x < 2.2250738585072014e-308;
    double m = fl__log_reduce(fl_blend(sub, x * 18014398509481984.0, x), kd);   /* * 2^54 */
    *kd = fl_blend(sub, *kd - 54.0, *kd);
    return m;
}

/* log's result from its core value r: x == 0 gives -inf; x < 0 (and -inf)
   NaN; +inf and NaN give x. */
FL_INLINE double fl__log_special(double x, double r)
{
    double special = fl_blend(x == 0.0, -(double)INFINITY, fl_blend(x < 0.0, (double)NAN, x));
    return fl_blend((x > 0.0) & (x < (double)INFINITY), r, special);
}

FL_INLINE double fl_log(double x)
{
    double kd;
    double m = fl__log_split(x, &kd);
    double f = m - 1.0, hfsq, s;
    double R = fl__log_tail(f, &hfsq, &s);
    double r = kd * FL_LN2_HI - ((hfsq - (s * (hfsq + R) + kd * FL_LN2_LO)) - f);
    return fl__log_special(x, r);
}

/* log1p's body, shared with the float32 set (_vmathf.h): T is the type,
   BLEND, REDUCE and TAIL its helpers, LN2_HI + LN2_LO its split of ln 2, KBIG
   the exponent from which the correction c is below T's precision, TINY the
   |x| under which log1p(x) == x in T (which keeps -0 and subnormals). */
#define FL_DEFINE_LOG1P(NAME, T, BLEND, REDUCE, TAIL, LN2_HI, LN2_LO, KBIG, TINY)            \
FL_INLINE T NAME(T x)                                                                        \
{                                                                                            \
    T u = (T)1 + x;                                                                          \
    T uc = BLEND((u > (T)0) & (u < (T)INFINITY), u, (T)1);    /* keep the core finite */    \
    T kd;                                                                                    \
    T m = REDUCE(uc, &kd);                                                                   \
    /* Rounding error of 1 + x, divided by u (fdlibm's correction c). */                     \
    T c = BLEND(kd >= (T)(KBIG), (T)0, BLEND(kd > (T)0, (T)1 - (u - x), x - (u - (T)1)));   \
    c = c / uc;                                                                              \
    T f = m - (T)1, hfsq, s;                                                                 \
    T R = TAIL(f, &hfsq, &s);                                                                \
    T r = kd * LN2_HI - ((hfsq - (s * (hfsq + R) + (kd * LN2_LO + c))) - f);                \
    r = BLEND((x < (T)(TINY)) & (x > -(T)(TINY)), x, r);                                     \
    T special = BLEND(x == (T)-1, -(T)INFINITY, BLEND(x < (T)-1, (T)NAN, x));                \
    return BLEND((x > (T)-1) & (x < (T)INFINITY), r, special);                               \
}

FL_DEFINE_LOG1P(fl_log1p, double, fl_blend, fl__log_reduce, fl__log_tail, FL_LN2_HI, FL_LN2_LO,
                54.0, 5.551115123125783e-17 /* 2^-54 */)

/* tanh(x) = -expm1(-2|x|) / (2 + expm1(-2|x|)), with x's sign. */
FL_INLINE double fl_tanh(double x)
{
    double a = fl_copysign(x, 1.0);     /* |x|; NaN stays NaN */
    double em = fl__expm1_le1(-2.0 * a);
    double t = -em / (2.0 + em);
    t = fl_blend(a < 5.551115123125783e-17, a, t);   /* tiny: tanh(x) == x */
    return fl_copysign(t, x);
}

/* Logistic sigmoid 1 / (1 + exp(-z)), accurate in both tails. */
FL_INLINE double fl_sigmoid(double z)
{
    double a = fl_copysign(z, 1.0);
    double e = fl_exp(-a);
    double s = 1.0 / (1.0 + e);
    return fl_blend(z >= 0.0, s, fl_blend(z < 0.0, e * s, z));   /* NaN -> NaN */
}

/* softplus(z) = log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)). */
FL_INLINE double fl_log1pexp(double z)
{
    double a = fl_copysign(z, 1.0);
    return fl_blend(z > 0.0, z, 0.0) + fl_log1p(fl_exp(-a));   /* NaN: a is NaN */
}

/* log(cosh(d)) and tanh(d) from one expm1: with em = expm1(|d|),
   cosh|d| - 1 = em^2 / (2 (1 + em)) and tanh|d| = u / (u + 2), u = em (em + 2).
   No cancellation anywhere (accurate for tiny d, where log cosh d ~ d^2/2);
   for |d| > 20, log cosh = |d| - log 2 and tanh = +-1 to double precision.
   expm1's argument is clamped at FL_LC_CLAMP, not 20, so that fl_sech2 reads
   the same expm1 (the compiler computes it once for both) and (1 + em)^2
   stays finite. */
typedef struct { double log_cosh; double tanh; } fl_lc;
#define FL_LC_CLAMP 354.0

/* The body is shared with the float32 set (_vmathf.h): EXPM1 is expm1 on
   [0, FL_LC_CLAMP], LOG1P is log1p on [0, inf). Beyond 20 LOG1P's result is not
   used; it reads 0 there (the float32 set would round ~e^|d| / 2 to infinity). */
#define FL_DEFINE_LOG_COSH_TANH(NAME, EXPM1, LOG1P)                                          \
FL_INLINE fl_lc NAME(double d)                                                              \
{                                                                                           \
    double a = fl_copysign(d, 1.0);                                                         \
    int big = a > 20.0;                                                                     \
    double em = EXPM1(fl_blend(a > FL_LC_CLAMP, FL_LC_CLAMP, a));                            \
    double u = em * (em + 2.0);                                                             \
    fl_lc r;                                                                                \
    r.log_cosh = fl_blend(big, a - 0.6931471805599453094,                                    \
                          LOG1P(fl_blend(big, 0.0, em * em / (2.0 + 2.0 * em))));             \
    r.tanh = fl_copysign(u / (u + 2.0), d);                                                 \
    return r;                                                                               \
}

FL_DEFINE_LOG_COSH_TANH(fl_log_cosh_tanh, fl__expm1_le1, fl_log1p)

/* sech(d)^2 = 4 / (E + 1/E)^2 = 4 q^2, q = E / (E^2 + 1), E = e^|d| = 1 + em from
   log cosh's own expm1 (not an exp of its own: 1.4x value+grad's time measured
   with one; not 1 - tanh^2, which is 0 for |d| > 19). A few ulp everywhere; 0
   for |d| > FL_LC_CLAMP, where sech^2 < 1.8e-307 (E^2 would overflow). */
FL_INLINE double fl_sech2(double d)
{
    double a = fl_copysign(d, 1.0);
    double e = 1.0 + fl__expm1_le1(fl_blend(a > FL_LC_CLAMP, FL_LC_CLAMP, a));
    double q = e / (e * e + 1.0);
    return fl_blend(a > FL_LC_CLAMP, 0.0, 4.0 * q * q);   /* NaN: e is NaN */
}

#endif
