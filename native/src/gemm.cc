// GEMM through oneDNN's dnnl_sgemm (row-major, all four transpositions). Measured on the project
// machine against the matmul and inner-product primitives on the W-MLP shapes: sgemm is the
// fastest of the three and needs no primitive creation or cache (see native/README.md). Big
// products are split into independent blocks for the helper threads (threads.cc).
#include <oneapi/dnnl/dnnl.h>

#include <stdexcept>
#include <string>

#include "kernels.h"

namespace dn {

namespace {

void sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (st != dnnl_success) {
    throw std::runtime_error("dnnl_sgemm failed with status " + std::to_string(static_cast<int>(st)) +
                             " for m=" + std::to_string(m) + " n=" + std::to_string(n) +
                             " k=" + std::to_string(k));
  }
}

}  // namespace

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    // C = beta·C (beta = 0 ignores C's old contents, even NaN)
    if (beta == 0.0f) fill(m * n, c, 0.0f);
    else if (beta != 1.0f) scale(m * n, c, beta, c);
    return;
  }
  const SignalBlock no_signals;  // see kernels.h
  const int64_t lda = ta ? m : k;
  const int64_t ldb = tb ? k : n;
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  // Big products: one block of rows of C (when m ≥ n) or of columns per thread, each an
  // independent single-threaded sgemm. (Measured: splitting the larger dimension costs least —
  // each block re-packs the other operand — and more than one block per thread costs up to 30%
  // of the single-thread time in packing, more than a late helper would.)
  const bool split_m = m >= n;
  const int64_t dim = split_m ? m : n;
  int64_t per = 0;
  int chunks = 1;
  if (worth_parallel(flops)) {
    const int64_t want = max_threads();
    per = ((dim + want - 1) / want + 15) / 16 * 16;
    chunks = static_cast<int>((dim + per - 1) / per);
  }
  if (chunks <= 1) {
    sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
    return;
  }
  parallel_for(chunks, [&](int i) {
    const int64_t d0 = i * per;
    const int64_t len = (d0 + per <= dim ? per : dim - d0);
    if (split_m) {
      // rows d0… of op(A) and of C
      const float* ap = ta ? a + d0 : a + d0 * k;
      sgemm(ta, tb, len, n, k, alpha, ap, lda, b, ldb, beta, c + d0 * n, n);
    } else {
      // columns d0… of op(B) and of C (C keeps its row stride n)
      const float* bp = tb ? b + d0 * k : b + d0;
      sgemm(ta, tb, m, len, k, alpha, a, lda, bp, ldb, beta, c + d0, n);
    }
  });
}

void gemm_batched(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                  const int32_t* a_off, const float* b, const int32_t* b_off, float beta, float* c,
                  const int32_t* c_off, int64_t count) {
  if (count == 0) return;
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const int64_t t = max_threads();
  if (count < t || k == 0 || m == 0 || n == 0 || !worth_parallel(flops * static_cast<double>(count))) {
    for (int64_t i = 0; i < count; i++) gemm(ta, tb, m, n, k, alpha, a + a_off[i], b + b_off[i], beta, c + c_off[i]);
    return;
  }
  // one contiguous run of products per thread, each product a single-threaded sgemm
  const int64_t per = (count + t - 1) / t;
  const int chunks = static_cast<int>((count + per - 1) / per);
  const int64_t lda = ta ? m : k;
  const int64_t ldb = tb ? k : n;
  parallel_for(chunks, [&](int ci) {
    const SignalBlock no_signals;  // see kernels.h
    const int64_t e = (ci + 1) * per < count ? (ci + 1) * per : count;
    for (int64_t i = ci * per; i < e; i++) {
      sgemm(ta, tb, m, n, k, alpha, a + a_off[i], lda, b + b_off[i], ldb, beta, c + c_off[i], n);
    }
  });
}

}  // namespace dn
