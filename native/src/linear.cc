// A dense layer's forward pass in one call: out = φ(x·wᵀ + b) (and z = x·wᵀ + b when asked for).
//
// The bias is written into the destination rows first and the product added onto it by the
// threaded sgemm of gemm.cc (beta = 1), then the activation row of unary.h runs over the result:
// one N-API call instead of three, and no separate pass (nor buffer) for the bias. Measured on the
// project machine against oneDNN's matmul primitive with the bias and an eltwise post-op (a small
// C++ probe, one thread, shapes of W-INFER and W-MLP): for one row the primitive is 2–3× slower
// (0.7 µs more per call even at 1×10×128, and a slower matrix-vector kernel at 1×256×784); at 64
// and 1,000 rows it was 0–15% faster, within the noise of the shared machine; and its post-ops
// differ from unary.h's rows at the edges (−0 from relu, NaN, oneDNN's own tanh/logistic), so
// results would depend on the batch size. Hence sgemm + this epilogue; one row (a single example)
// and tiny products take the matrix-vector kernel below instead.
#include <algorithm>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "kernels.h"
#include "unary.h"

namespace dn {

namespace {

// Below this many multiply-adds (the last layer of a small network on one example, 1×10×128) a
// call into oneDNN costs more than the arithmetic: its dispatch, and the signal block every entry
// into it needs (kernels.h; ~0.4 µs here). Measured for one row: 1×10×128 0.11 µs as dot products
// against 0.2 µs in sgemm plus the block; at 1×128×256 sgemm is already ahead of plain dot products.
constexpr int64_t kSmallProduct = 16384;

// Output units per block of the matrix-vector kernel: a block's dot products share every load of x.
constexpr int64_t kUnits = 4;

// s[r] = x · w_r for the R rows of w starting at w (row stride k). With AVX-512: two 16-wide
// partial sums per row (eight independent FMA chains for R = 4), x loaded once per step for all R
// rows, the tail of k through masked loads. Otherwise the same partial sums as plain loops for the
// compiler to vectorise.
template <int R>
inline void dot_rows(int64_t k, const float* x, const float* w, float* s) {
#ifdef __AVX512F__
  __m512 a0[R], a1[R];
  for (int r = 0; r < R; r++) a0[r] = a1[r] = _mm512_setzero_ps();
  int64_t q = 0;
  for (; q + 32 <= k; q += 32) {
    const __m512 x0 = _mm512_loadu_ps(x + q), x1 = _mm512_loadu_ps(x + q + 16);
    for (int r = 0; r < R; r++) {
      a0[r] = _mm512_fmadd_ps(_mm512_loadu_ps(w + r * k + q), x0, a0[r]);
      a1[r] = _mm512_fmadd_ps(_mm512_loadu_ps(w + r * k + q + 16), x1, a1[r]);
    }
  }
  for (; q < k; q += 16) {
    const __mmask16 mk = k - q >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (k - q)) - 1);
    const __m512 x0 = _mm512_maskz_loadu_ps(mk, x + q);
    for (int r = 0; r < R; r++) a0[r] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, w + r * k + q), x0, a0[r]);
  }
  for (int r = 0; r < R; r++) s[r] = _mm512_reduce_add_ps(_mm512_add_ps(a0[r], a1[r]));
#else
  constexpr int64_t L = 16;
  const int64_t kv = k / L * L;
  for (int r = 0; r < R; r++) {
    const float* wr = w + r * k;
    float acc[L] = {};
    for (int64_t q = 0; q < kv; q += L) {
      for (int64_t u = 0; u < L; u++) acc[u] += wr[q + u] * x[q + u];
    }
    float t = 0.0f;
    for (int64_t u = 0; u < L; u++) t += acc[u];
    for (int64_t q = kv; q < k; q++) t += wr[q] * x[q];
    s[r] = t;
  }
#endif
}

// dst[j] = x · w_j (+ b_j) for units j in [j0, j1): blocks of kUnits rows of w, then single rows.
void dot_units(int64_t j0, int64_t j1, int64_t k, const float* x, const float* w, const float* b, float* dst) {
  int64_t j = j0;
  for (; j + kUnits <= j1; j += kUnits) dot_rows<kUnits>(k, x, w + j * k, dst + j);
  for (; j < j1; j++) dot_rows<1>(k, x, w + j * k, dst + j);
  if (b) {
    for (j = j0; j < j1; j++) dst[j] += b[j];
  }
}

// One row of x (a single example) or a tiny product: a matrix-vector product that reads w once
// per row of x, with the bias and φ applied per block of units. One example's first layer of
// W-INFER (1×256×784, 0.4 MFLOP) is split over the threads by units: each reads its own half of
// w. Measured (1 thread) against sgemm on one row: the same time at 1×256×784 (both bound by
// reading w), 1×128×256 and 1×10×128 a little faster; and no oneDNN call, so no signal block.
// From two rows on sgemm is faster (2×256×784: 10 against 20 µs), so it keeps those.
void matrix_vector(int64_t m, int64_t n, int64_t k, const float* x, const float* w, const float* b, int op, double p,
                   float* out, float* z) {
  float* dst = z ? z : out;
  const auto units = [&](int64_t j0, int64_t j1) {
    for (int64_t i = 0; i < m; i++) {
      float* d = dst + i * n;
      dot_units(j0, j1, k, x + i * k, w, b, d);
      if (op != DN_U_LINEAR) unary(op, j1 - j0, d + j0, out + i * n + j0, p);
      else if (d != out + i * n) std::copy(d + j0, d + j1, out + i * n + j0);
    }
  };
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (worth_parallel(flops)) parallel_range(n, 0, units, kUnits);
  else units(0, n);
}

}  // namespace

void affine_act(int64_t m, int64_t n, int64_t k, const float* x, const float* w, const float* b, int op, double p,
                float* out, float* z) {
  if (m == 0 || n == 0) return;
  if (m == 1 || m * n * k <= kSmallProduct) {
    matrix_vector(m, n, k, x, w, b, op, p, out, z);
    return;
  }
  float* dst = z ? z : out;
  if (b) {
    for (int64_t i = 0; i < m; i++) std::copy(b, b + n, dst + i * n);
  }
  gemm(false, true, m, n, k, 1.0f, x, w, b ? 1.0f : 0.0f, dst);
  if (op != DN_U_LINEAR) unary(op, m * n, dst, out, p);
  else if (dst != out) std::copy(dst, dst + m * n, out);
}

}  // namespace dn
