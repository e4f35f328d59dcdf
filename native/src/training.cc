// The native backend's training kernels: the shared C rules of wasm/src/training.h (one copy for
// both fast backends), compiled without floating-point contraction so that the results match the
// reference backend's float64 arithmetic bit for bit.
#pragma GCC optimize("fp-contract=off")
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels.h"

#define DN_INDEX int64_t
#define DN_SQRT std::sqrt
#define DN_LOG std::log
#define DN_EXP std::exp
#define DN_LOG1P std::log1p
#include "../../wasm/src/training.h"

namespace dn {

// Elements from which an optimiser step runs on the threads (as axpy, elementwise.cc).
constexpr int64_t kParallelStep = int64_t{1} << 17;

void sgd_update(int64_t n, float* w, const float* g, float* velocity, double lr, double momentum, bool nesterov) {
  dn_sgd_update(n, w, g, velocity, lr, momentum, nesterov ? 1 : 0);
}

void adam_update(int64_t n, float* w, const float* g, float* m, float* v, double lr, double beta1, double beta2,
                 double eps, double c1, double c2, double keep) {
  dn_adam_update(n, w, g, m, v, lr, beta1, beta2, eps, c1, c2, keep);
}

void rmsprop_update(int64_t n, float* w, const float* g, float* ms, float* mg, float* mom, double lr, double rho,
                    double momentum, double eps) {
  dn_rmsprop_update(n, w, g, ms, mg, mom, lr, rho, momentum, eps);
}

void clip_value(int64_t n, float* x, double limit) { dn_clip_value(n, x, limit); }

double optimizer_step(int rule, const double* hyper, const StepParam* params, int64_t count) {
  // every parameter's blocks, each one a parameter of its own for the shared step: they are
  // independent, so big steps run them on the threads (contiguous ranges of blocks); the sums are
  // added in block order afterwards, as the one-thread step adds them
  std::vector<dn_param> blocks;
  int64_t elements = 0;
  for (int64_t k = 0; k < count; k++) {
    const StepParam& p = params[k];
    elements += p.n;
    for (int64_t at = 0; at < p.n; at += DN_STEP_BLOCK) {
      const int64_t nb = p.n - at < DN_STEP_BLOCK ? p.n - at : DN_STEP_BLOCK;
      blocks.push_back(dn_param{nb, p.w + at, p.g + at, p.s0 ? p.s0 + at : nullptr, p.s1 ? p.s1 + at : nullptr,
                                p.s2 ? p.s2 + at : nullptr});
    }
  }
  const int64_t n = static_cast<int64_t>(blocks.size());
  std::vector<double> sums(static_cast<size_t>(n), 0.0);
  // a range stops at its first non-finite block (whose sum the scan below returns first)
  auto run = [&](int64_t lo, int64_t hi) {
    float decayed[DN_STEP_BLOCK];  // only written where the rule decays
    for (int64_t b = lo; b < hi; b++) {
      sums[b] = dn_optimizer_step(rule, hyper, &blocks[b], 1, decayed);
      if (!std::isfinite(sums[b])) break;
    }
  };
  if (elements < kParallelStep) run(0, n);
  else parallel_range(n, 2, run, 1);
  double total = 0;
  for (int64_t b = 0; b < n; b++) {
    if (!std::isfinite(sums[b])) return sums[b];
    total += sums[b];
  }
  return total;
}

int64_t count_matching_rows(const float* a, const float* b, int64_t rows, int64_t cols) {
  return dn_count_matching_rows(a, b, rows, cols);
}

void batch_norm_train(const float* x, const float* gamma, const float* beta, int64_t outer, int64_t C, int64_t inner,
                      double eps, float* y, float* xhat, double* mean, double* variance, double* inv_std) {
  dn_batch_norm_train(x, gamma, beta, outer, C, inner, eps, y, xhat, mean, variance, inv_std);
}

void batch_norm_inference(const float* x, const float* mean, const float* variance, const float* gamma,
                          const float* beta, int64_t outer, int64_t C, int64_t inner, double eps, float* y,
                          float* xhat, double* inv_std) {
  dn_batch_norm_inference(x, mean, variance, gamma, beta, outer, C, inner, eps, y, xhat, inv_std);
}

void batch_norm_backward(bool training, const float* dy, const float* xhat, const double* inv_std, const float* gamma,
                         int64_t outer, int64_t C, int64_t inner, float* dx, float* dgamma, float* dbeta) {
  std::vector<double> sums(2 * static_cast<size_t>(C));
  dn_batch_norm_backward(training ? 1 : 0, dy, xhat, inv_std, gamma, outer, C, inner, dx, dgamma, dbeta, sums.data());
}

void moving_average(int64_t n, float* avg, const double* x, double momentum) { dn_moving_average(n, avg, x, momentum); }

double loss_value(int kind, int64_t n, const float* pred, const float* target) {
  return dn_loss_value(kind, n, pred, target);
}

void loss_grad(int kind, int64_t n, const float* pred, const float* target, double scale, float* dx) {
  dn_loss_grad(kind, n, pred, target, scale, dx);
}

void copy_runs(const float* src, int64_t src_off, const int64_t* src_strides, float* dst, int64_t dst_off,
               const int64_t* dst_strides, const int64_t* counts, int rank, int64_t len) {
  dn_copy_runs(src, src_off, src_strides, dst, dst_off, dst_strides, counts, rank, len);
}

}  // namespace dn
