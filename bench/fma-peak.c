/*
 * The machine's float32 FMA peak, measured: what W-GEMM's GFLOP/s are a share of.
 *
 * Each thread runs independent chains of fused multiply-adds on registers only (no memory
 * traffic), enough chains to cover the FMA latency on every pipe, for the widest vector ISA the
 * CPU reports (AVX-512 and AVX2+FMA are both measured where available; the faster counts, since
 * some cores run 512-bit FMAs on 256-bit units). Prints one JSON line:
 *   {"isa":"avx512","gflops_1":…, "gflops_2":…}
 * Built and run by bench/peak.ts: gcc -O3 -pthread bench/fma-peak.c -o bench/out/fma-peak
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CHAINS 12
#define ROUNDS 20000000L

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Returns a value that depends on every chain, so the compiler keeps all of them. */
__attribute__((target("avx512f"))) static float chains512(long rounds) {
  __m512 acc[CHAINS];
  const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
  for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_set1_ps((float)c);
  for (long r = 0; r < rounds; r++)
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_fmadd_ps(acc[c], m, a);
  __m512 s = acc[0];
  for (int c = 1; c < CHAINS; c++) s = _mm512_add_ps(s, acc[c]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float chains256(long rounds) {
  __m256 acc[CHAINS];
  const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
  for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_set1_ps((float)c);
  for (long r = 0; r < rounds; r++)
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_fmadd_ps(acc[c], m, a);
  __m256 s = acc[0];
  for (int c = 1; c < CHAINS; c++) s = _mm256_add_ps(s, acc[c]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

typedef struct {
  int wide;
  long rounds;
  volatile float sink;
} Job;

static void *run(void *p) {
  Job *j = (Job *)p;
  j->sink = j->wide ? chains512(j->rounds) : chains256(j->rounds);
  return NULL;
}

/* GFLOP/s of `threads` threads each running `rounds` rounds; the best of 5 tries. */
static double measure(int wide, int threads) {
  const double flopsPerRound = 2.0 * CHAINS * (wide ? 16 : 8);
  double best = 0;
  for (int trial = 0; trial < 5; trial++) {
    pthread_t tid[2];
    Job jobs[2];
    double t0 = now();
    for (int i = 0; i < threads; i++) {
      jobs[i].wide = wide;
      jobs[i].rounds = ROUNDS;
      pthread_create(&tid[i], NULL, run, &jobs[i]);
    }
    for (int i = 0; i < threads; i++) pthread_join(tid[i], NULL);
    double g = threads * flopsPerRound * ROUNDS / (now() - t0) / 1e9;
    if (g > best) best = g;
  }
  return best;
}

int main(void) {
  __builtin_cpu_init();
  int has512 = __builtin_cpu_supports("avx512f"), has256 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (!has256) {
    printf("{\"error\":\"no AVX2+FMA on this CPU\"}\n");
    return 1;
  }
  double g1 = measure(0, 1), g2 = measure(0, 2);
  const char *isa = "avx2";
  if (has512) {
    double w1 = measure(1, 1), w2 = measure(1, 2);
    if (w1 > g1) { g1 = w1; g2 = w2 > g2 ? w2 : g2; isa = "avx512"; }
  }
  printf("{\"isa\":\"%s\",\"gflops_1\":%.1f,\"gflops_2\":%.1f}\n", isa, g1, g2);
  return 0;
}
