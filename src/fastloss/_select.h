/* A branch-free select. Cython compiles `a if c else b` into an if/else that
   GCC does not if-convert inside the kernels' loops; a C ternary on values
   that are already computed becomes a vector blend. */
#ifndef FASTLOSS_SELECT_H
#define FASTLOSS_SELECT_H
static inline double fl_where(int c, double a, double b) { return c ? a : b; }
#endif
