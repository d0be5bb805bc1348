/* The core's FMA peak, the ceiling the GEMM's GFLOP/s are read against (docs/performance.md):
 * 12 independent chains of register-only FMAs on ymm (AVX2 + FMA, 16 flops each) and on zmm
 * (AVX-512, 32 flops each), so that nothing but the FMA units limits the loop. One thread.
 *
 *     gcc -O2 benches/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak
 *
 * (The zmm line needs a CPU with AVX-512; on one without, it is skipped.) */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
__attribute__((target("avx2,fma"))) double ymm(long n){
  __m256 a0=_mm256_set1_ps(1),a1=a0,a2=a0,a3=a0,a4=a0,a5=a0,a6=a0,a7=a0,a8=a0,a9=a0,a10=a0,a11=a0;
  __m256 b=_mm256_set1_ps(0.999999f),c=_mm256_set1_ps(1e-7f);
  double t=now();
  for(long i=0;i<n;i++){
    a0=_mm256_fmadd_ps(a0,b,c);a1=_mm256_fmadd_ps(a1,b,c);a2=_mm256_fmadd_ps(a2,b,c);a3=_mm256_fmadd_ps(a3,b,c);
    a4=_mm256_fmadd_ps(a4,b,c);a5=_mm256_fmadd_ps(a5,b,c);a6=_mm256_fmadd_ps(a6,b,c);a7=_mm256_fmadd_ps(a7,b,c);
    a8=_mm256_fmadd_ps(a8,b,c);a9=_mm256_fmadd_ps(a9,b,c);a10=_mm256_fmadd_ps(a10,b,c);a11=_mm256_fmadd_ps(a11,b,c);
    __asm__ volatile("" : "+x"(a0),"+x"(a1),"+x"(a2),"+x"(a3),"+x"(a4),"+x"(a5),"+x"(a6),"+x"(a7),"+x"(a8),"+x"(a9),"+x"(a10),"+x"(a11));
  }
  t=now()-t; __m256 s=_mm256_add_ps(a0,a11); float o[8]; _mm256_storeu_ps(o,s); if(o[0]==42)printf("x");
  return n*12.0*16/t/1e9;
}
__attribute__((target("avx512f"))) double zmm(long n){
  __m512 a0=_mm512_set1_ps(1),a1=a0,a2=a0,a3=a0,a4=a0,a5=a0,a6=a0,a7=a0,a8=a0,a9=a0,a10=a0,a11=a0;
  __m512 b=_mm512_set1_ps(0.999999f),c=_mm512_set1_ps(1e-7f);
  double t=now();
  for(long i=0;i<n;i++){
    a0=_mm512_fmadd_ps(a0,b,c);a1=_mm512_fmadd_ps(a1,b,c);a2=_mm512_fmadd_ps(a2,b,c);a3=_mm512_fmadd_ps(a3,b,c);
    a4=_mm512_fmadd_ps(a4,b,c);a5=_mm512_fmadd_ps(a5,b,c);a6=_mm512_fmadd_ps(a6,b,c);a7=_mm512_fmadd_ps(a7,b,c);
    a8=_mm512_fmadd_ps(a8,b,c);a9=_mm512_fmadd_ps(a9,b,c);a10=_mm512_fmadd_ps(a10,b,c);a11=_mm512_fmadd_ps(a11,b,c);
    __asm__ volatile("" : "+v"(a0),"+v"(a1),"+v"(a2),"+v"(a3),"+v"(a4),"+v"(a5),"+v"(a6),"+v"(a7),"+v"(a8),"+v"(a9),"+v"(a10),"+v"(a11));
  }
  t=now()-t; __m512 s=_mm512_add_ps(a0,a11); float o[16]; _mm512_storeu_ps(o,s); if(o[0]==42)printf("x");
  return n*12.0*32/t/1e9;
}
int main(void) {
  int avx512 = __builtin_cpu_supports("avx512f");
  for (int round = 0; round < 3; round++) {
    printf("ymm (AVX2) %.1f GFLOP/s", ymm(200000000));
    if (avx512) printf("   zmm (AVX-512) %.1f GFLOP/s", zmm(200000000));
    printf("\n");
  }
  return 0;
}
