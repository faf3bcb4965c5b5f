/* A branch-free select. Cython compiles `a if c else b` into an if/else that
   GCC does not if-convert inside the kernels' loops; a C ternary on values
   that are already computed becomes a vector blend -- unless an arm is a
   constant, when GCC may thread it into control flow (seen: quantile_loss ran
   at ~10 ns/element). A select of bits under a mask stays a blend. */
#ifndef FASTLOSS_SELECT_H
#define FASTLOSS_SELECT_H
#include "_vmath.h"
static inline double fl_where(int c, double a, double b) { return fl_blend(c, a, b); }
/* c ? a : b where neither arm is a constant (a loop-invariant variable, an input):
   GCC if-converts that into compare-and-mask at every level; fl_blend's int-to-mask
   widening of a float64 compare stays scalar under plain SSE2 (GCC 12). */
static inline double fl_pick(int c, double a, double b) { return c ? a : b; }
static inline float fl_pickf(int c, float a, float b) { return c ? a : b; }
#endif
