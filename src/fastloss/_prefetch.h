/* Software prefetch of the bytes a kernel reads next.

   Measured on a 2-core Xeon with AVX-512 (L3 beyond the arrays' reach at 10**7
   float32): binary_cross_entropy_with_logits with 0/1 targets took 35 ms a call
   at 1 thread, 3.5 ns per element, where the same loop on cache-resident data
   takes 2.2 ns; `perf annotate` put a quarter of its samples on the load of x.
   A loop that computes for ~100 cycles per cache line issues its loads too
   slowly for the hardware prefetcher to run far enough ahead, and it does not
   cross 4 KB pages. Asking for the lines a block ahead hides the latency
   (21.7-22.1 ms). The kernels prefetch per block of elements, outside the loop
   that the compiler vectorises: a prefetch inside that loop changed how GCC
   unrolls small bodies, and mse_loss's loop compiled scalar (1.5x slower). */
#ifndef FASTLOSS_PREFETCH_H
#define FASTLOSS_PREFETCH_H

#include <stddef.h>

/* Into L2 (prefetcht1), not L1: as fast for BCE-with-logits, and the cheap
   losses (quantile, huber) gained more (measured, 10**7 float32, avx512). */
#if defined(__GNUC__) || defined(__clang__)
#define FL__PREFETCH_LINE(p) __builtin_prefetch((const void *)(p), 0, 2)
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <xmmintrin.h>
#define FL__PREFETCH_LINE(p) _mm_prefetch((const char *)(p), _MM_HINT_T1)
#else
#define FL__PREFETCH_LINE(p) ((void)(p))
#endif

/* Every 64-byte line of [p, p + bytes). A prefetch never faults, so the span
   may run past the end of an array (into the next block of the same array,
   or nothing). */
static inline void fl_prefetch_span(const void *p, size_t bytes)
{
    const char *c = (const char *)p;
    for (size_t i = 0; i < bytes; i += 64)
        FL__PREFETCH_LINE(c + i);
}

#endif
