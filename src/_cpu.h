/* What the CPU running the module can do.
 *
 * AVX-512 code is compiled for that target alone (a function attribute), so
 * the module still loads and runs on any x86-64; callers choose it at run
 * time with fastnn_avx512_available. */
#ifndef FASTNN_CPU_H
#define FASTNN_CPU_H

#if defined(__GNUC__) && defined(__x86_64__)
#define FASTNN_AVX512 1
#include <immintrin.h>
#endif

/* 1 when this CPU runs AVX-512 (foundation) code. */
static int fastnn_avx512_available(void)
{
#ifdef FASTNN_AVX512
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
#else
    return 0;
#endif
}

#endif /* FASTNN_CPU_H */
