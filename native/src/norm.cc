// Row-wise kernels of attention networks: the softmax backward pass and layer normalisation
// (forward and input gradient). Rows are independent; big matrices are split into row ranges
// over the threads. Statistics are accumulated in double precision.
#include <cmath>

#include "kernels.h"

namespace dn {

namespace {

// rows from which a row loop is split over the threads: about 2^16 elements per call
int64_t min_rows(int64_t cols) {
  return cols > 0 ? ((int64_t{1} << 16) + cols - 1) / cols : int64_t{1} << 40;
}

// Runs fn(r) for every row r of a rows × cols matrix (rows are independent), split into row
// ranges over the threads for big matrices.
template <class F>
void for_each_row(int64_t rows, int64_t cols, F fn) {
  parallel_range(rows, min_rows(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) fn(r);
  }, 1);
}

}  // namespace

void permute(const float* x, const int64_t* shape, const int* axes, int nd, float* out) {
  int64_t in_stride[16], out_shape[16], stride[16];
  int64_t total = 1;
  for (int d = nd - 1; d >= 0; d--) {
    in_stride[d] = total;
    total *= shape[d];
  }
  if (total == 0) return;
  for (int d = 0; d < nd; d++) {
    out_shape[d] = shape[axes[d]];
    stride[d] = in_stride[axes[d]];
  }
  const int64_t inner = nd > 0 ? out_shape[nd - 1] : 1;
  const int64_t inner_stride = nd > 0 ? stride[nd - 1] : 1;
  const int64_t runs = total / inner;
  // runs of the innermost output dimension, split over the threads by run index
  parallel_range(runs, (int64_t{1} << 16) / (inner > 0 ? inner : 1) + 1, [&](int64_t r0, int64_t r1) {
    int64_t idx[16];
    int64_t base = 0;
    int64_t rest = r0;
    for (int d = nd - 2; d >= 0; d--) {
      idx[d] = rest % out_shape[d];
      rest /= out_shape[d];
      base += idx[d] * stride[d];
    }
    for (int64_t r = r0; r < r1; r++) {
      float* o = out + r * inner;
      const float* src = x + base;
      if (inner_stride == 1) {
        for (int64_t j = 0; j < inner; j++) o[j] = src[j];
      } else {
        for (int64_t j = 0; j < inner; j++) o[j] = src[j * inner_stride];
      }
      for (int d = nd - 2; d >= 0; d--) {
        base += stride[d];
        if (++idx[d] < out_shape[d]) break;
        base -= stride[d] * out_shape[d];
        idx[d] = 0;
      }
    }
  }, 1);
}

void softmax_backward(const float* y, const float* dy, int64_t rows, int64_t cols, float* dx) {
  for_each_row(rows, cols, [&](int64_t r) {
    const float* yr = y + r * cols;
    const float* gr = dy + r * cols;
    float* dr = dx + r * cols;
    double dot = 0.0;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < cols; j++) dot += static_cast<double>(gr[j]) * yr[j];
    const float d = static_cast<float>(dot);
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) dr[j] = yr[j] * (gr[j] - d);
  });
}

void layer_norm(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t cols, float eps,
                float* y, float* xhat, float* rstd) {
  for_each_row(rows, cols, [&](int64_t r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float* hr = xhat + r * cols;
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < cols; j++) s += xr[j];
    const double mu = s / static_cast<double>(cols);
    double v = 0.0;
#pragma omp simd reduction(+ : v)
    for (int64_t j = 0; j < cols; j++) {
      const double d = xr[j] - mu;
      v += d * d;
    }
    const double rs = 1.0 / std::sqrt(v / static_cast<double>(cols) + static_cast<double>(eps));
    rstd[r] = static_cast<float>(rs);
    const float muf = static_cast<float>(mu);
    const float rsf = static_cast<float>(rs);
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) {
      const float h = (xr[j] - muf) * rsf;
      hr[j] = h;
      yr[j] = (gamma ? gamma[j] * h : h) + (beta ? beta[j] : 0.0f);
    }
  });
}

void layer_norm_backward(const float* dy, const float* xhat, const float* rstd, const float* gamma, int64_t rows,
                         int64_t cols, float* dx) {
  for_each_row(rows, cols, [&](int64_t r) {
    const float* gr = dy + r * cols;
    const float* hr = xhat + r * cols;
    float* dr = dx + r * cols;
    double m1 = 0.0;
    double m2 = 0.0;
#pragma omp simd reduction(+ : m1, m2)
    for (int64_t j = 0; j < cols; j++) {
      const double g = gamma ? static_cast<double>(gr[j]) * gamma[j] : static_cast<double>(gr[j]);
      m1 += g;
      m2 += g * hr[j];
    }
    const float a = static_cast<float>(m1 / static_cast<double>(cols));
    const float b = static_cast<float>(m2 / static_cast<double>(cols));
    const float rs = rstd[r];
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) {
      const float g = gamma ? gr[j] * gamma[j] : gr[j];
      dr[j] = (g - a - hr[j] * b) * rs;
    }
  });
}

}  // namespace dn
