// Elementwise kernels, reductions, softmax and the LSTM cell: plain loops that g++ vectorises
// (compiled with -O3 and the widest -march the build machine supports, see march.cjs), with the
// transcendental functions from unary.h (shared with the WebAssembly kernels). Big ones are split into one range per thread.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels.h"
#include "unary.h"

namespace dn {

namespace {

template <class F>
inline void map1(int64_t n, const float* x, float* out, F f) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) out[i] = f(x[i]);
}

// dx = dy·d(x, y), or dx += dy·d(x, y)
template <class D>
inline void grad_loop(int64_t n, const float* x, const float* y, const float* dy, float* dx,
                      bool accumulate, D d) {
  if (accumulate) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) dx[i] += dy[i] * d(x[i], y[i]);
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * d(x[i], y[i]);
  }
}

// Sizes from which a loop is split over the threads: memory-bound loops need long ranges to pay
// for waking a helper, loops with exp/tanh per element much shorter ones.
constexpr int64_t kParallelItems = int64_t{1} << 17;
constexpr int64_t kParallelTranscendental = int64_t{1} << 13;

void unary_grad_serial(int op, int64_t n, const float* x, const float* y, const float* dy, float* dx,
                       double p, bool acc);

void lstm_cell_rows(int64_t b0, int64_t b1, int64_t H, const float* pre, const float* c_prev, float* gates,
                    float* c, float* h);
void lstm_cell_backward_rows(int64_t b0, int64_t b1, int64_t H, const float* gates, const float* c_prev,
                             const float* c, const float* dh, const float* dc, float* d_pre, float* dc_prev);

bool transcendental(int op) {
#define DN_HEAVY(E, NAME, H, F, D) H,
  static const bool heavy[] = {DN_UNARY_TABLE(DN_HEAVY)};
#undef DN_HEAVY
  return op >= 0 && op < DN_U_COUNT && heavy[op];
}

}  // namespace

// The forward of one row of unary.h's table as a map (one case per row).
void unary_serial(int op, int64_t n, const float* xs, float* out, double p) {
  const float pf = static_cast<float>(p);
#define DN_FORWARD_CASE(E, NAME, H, F, D) \
  case DN_U_##E: return map1(n, xs, out, [=](float x) -> float { (void)pf; return F; });
  switch (op) {
    DN_UNARY_TABLE(DN_FORWARD_CASE)
    default: return;
  }
#undef DN_FORWARD_CASE
}

void unary(int op, int64_t n, const float* x, float* out, double p) {
  parallel_range(n, transcendental(op) ? kParallelTranscendental : kParallelItems,
                 [&](int64_t b, int64_t e) { unary_serial(op, e - b, x + b, out + b, p); });
}

void unary_grad(int op, int64_t n, const float* x, const float* y, const float* dy, float* dx, double p,
                bool acc) {
  parallel_range(n, kParallelItems, [&](int64_t b, int64_t e) {
    unary_grad_serial(op, e - b, x + b, y + b, dy + b, dx + b, p, acc);
  });
}

namespace {

// The derivative of one row of unary.h's table as a gradient loop (one case per row).
void unary_grad_serial(int op, int64_t n, const float* xs, const float* ys, const float* dy, float* dx,
                       double p, bool acc) {
  const float pf = static_cast<float>(p);
#define DN_DERIVATIVE_CASE(E, NAME, H, F, D) \
  case DN_U_##E:                                                                                        \
    return grad_loop(n, xs, ys, dy, dx, acc, [=](float x, float y) -> float { (void)x; (void)y; (void)pf; return D; });
  switch (op) {
    DN_UNARY_TABLE(DN_DERIVATIVE_CASE)
    default: return;
  }
#undef DN_DERIVATIVE_CASE
}

struct OpAdd { static float f(float a, float b) { return a + b; } };
struct OpSub { static float f(float a, float b) { return a - b; } };
struct OpMul { static float f(float a, float b) { return a * b; } };
struct OpDiv { static float f(float a, float b) { return a / b; } };
struct OpMax { static float f(float a, float b) { return a > b ? a : b; } };
struct OpMin { static float f(float a, float b) { return a < b ? a : b; } };

// One row of the innermost dimension, with the stride patterns that matter specialised.
template <class Op>
inline void binary_row(const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t n) {
  if (sa == 1 && sb == 1) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) out[i] = Op::f(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const float bv = b[0];
#pragma omp simd
    for (int64_t i = 0; i < n; i++) out[i] = Op::f(a[i], bv);
  } else if (sa == 0 && sb == 1) {
    const float av = a[0];
#pragma omp simd
    for (int64_t i = 0; i < n; i++) out[i] = Op::f(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; i++) out[i] = Op::f(a[i * sa], b[i * sb]);
  }
}

template <class Op>
void binary_nd(const float* a, const int64_t* as, const float* b, const int64_t* bs, float* out,
               const int64_t* shape, int nd) {
  if (nd == 0) {
    out[0] = Op::f(a[0], b[0]);
    return;
  }
  int64_t total = 1;
  for (int d = 0; d < nd; d++) total *= shape[d];
  if (total == 0) return;
  const int64_t inner = shape[nd - 1];
  const int64_t sa = as[nd - 1];
  const int64_t sb = bs[nd - 1];
  int64_t idx[16] = {0};
  int64_t ai = 0, bi = 0;
  for (int64_t o = 0; o < total; o += inner) {
    binary_row<Op>(a + ai, sa, b + bi, sb, out + o, inner);
    // advance the multi-index over the outer dimensions, last fastest
    for (int d = nd - 2; d >= 0; d--) {
      idx[d]++;
      ai += as[d];
      bi += bs[d];
      if (idx[d] < shape[d]) break;
      ai -= as[d] * shape[d];
      bi -= bs[d] * shape[d];
      idx[d] = 0;
    }
  }
}

}  // namespace

void binary(int op, const float* a, const int64_t* as_in, const float* b, const int64_t* bs_in,
            float* out, const int64_t* shape_in, int nd_in) {
  // Collapse the iteration space: drop size-1 dimensions and merge neighbours that are
  // contiguous for both inputs, so the innermost loop is as long as possible.
  int64_t shape[16], as[16], bs[16];
  int nd = 0;
  for (int d = 0; d < nd_in; d++) {
    if (shape_in[d] == 1) continue;
    if (nd > 0 && as[nd - 1] == as_in[d] * shape_in[d] && bs[nd - 1] == bs_in[d] * shape_in[d]) {
      shape[nd - 1] *= shape_in[d];
      as[nd - 1] = as_in[d];
      bs[nd - 1] = bs_in[d];
      continue;
    }
    shape[nd] = shape_in[d];
    as[nd] = as_in[d];
    bs[nd] = bs_in[d];
    nd++;
  }
  if (nd == 0 && nd_in > 0) {
    // every dimension had size 1: a single element
    shape[0] = 1;
    as[0] = bs[0] = 0;
    nd = 1;
  }
  switch (op) {
    case B_ADD: return binary_nd<OpAdd>(a, as, b, bs, out, shape, nd);
    case B_SUB: return binary_nd<OpSub>(a, as, b, bs, out, shape, nd);
    case B_MUL: return binary_nd<OpMul>(a, as, b, bs, out, shape, nd);
    case B_DIV: return binary_nd<OpDiv>(a, as, b, bs, out, shape, nd);
    case B_MAX: return binary_nd<OpMax>(a, as, b, bs, out, shape, nd);
    case B_MIN: return binary_nd<OpMin>(a, as, b, bs, out, shape, nd);
    default: return;
  }
}

void axpy(int64_t n, float alpha, const float* b, const float* a, float* out) {
  parallel_range(n, kParallelItems, [&](int64_t lo, int64_t hi) {
#pragma omp simd
    for (int64_t i = lo; i < hi; i++) out[i] = a[i] + alpha * b[i];
  });
}

void scale(int64_t n, const float* x, float s, float* out) {
  parallel_range(n, kParallelItems, [&](int64_t lo, int64_t hi) {
#pragma omp simd
    for (int64_t i = lo; i < hi; i++) out[i] = x[i] * s;
  });
}

void fill(int64_t n, float* out, float v) {
  parallel_range(n, kParallelItems, [&](int64_t lo, int64_t hi) {
#pragma omp simd
    for (int64_t i = lo; i < hi; i++) out[i] = v;
  });
}

void sum_axis(const float* x, int64_t outer, int64_t axis, int64_t inner, float* out, bool accumulate) {
  if (inner == 1) {
    // row sums: one reduction per output
    for (int64_t o = 0; o < outer; o++) {
      const float* r = x + o * axis;
      float s = 0.0f;
#pragma omp simd reduction(+ : s)
      for (int64_t a = 0; a < axis; a++) s += r[a];
      out[o] = accumulate ? out[o] + s : s;
    }
    return;
  }
  if (!accumulate) fill(outer * inner, out, 0.0f);
  for (int64_t o = 0; o < outer; o++) {
    float* ob = out + o * inner;
    for (int64_t a = 0; a < axis; a++) {
      const float* xb = x + (o * axis + a) * inner;
#pragma omp simd
      for (int64_t i = 0; i < inner; i++) ob[i] += xb[i];
    }
  }
}

void add_broadcast(const float* x, const float* y, int64_t outer, int64_t axis, int64_t inner, float* out) {
  for (int64_t o = 0; o < outer; o++) {
    const float* yb = y + o * inner;
    for (int64_t a = 0; a < axis; a++) {
      const int64_t base = (o * axis + a) * inner;
      const float* xb = x + base;
      float* ob = out + base;
#pragma omp simd
      for (int64_t i = 0; i < inner; i++) ob[i] = xb[i] + yb[i];
    }
  }
}

namespace {

inline float row_max(const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  bool nan = false;
#pragma omp simd reduction(max : m) reduction(| : nan)
  for (int64_t j = 0; j < n; j++) {
    m = x[j] > m ? x[j] : m;
    nan |= x[j] != x[j];
  }
  return nan ? std::numeric_limits<float>::quiet_NaN() : m;
}

// out[j] = e^(x[j] − max x) over one row; returns Σ out[j] (float64) and the max in *max_out.
inline double exp_shifted_row(const float* x, int64_t n, float* out, float* max_out) {
  const float m = row_max(x, n);
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; j++) {
    const float e = dn_exp(x[j] - m);
    out[j] = e;
    s += static_cast<double>(e);
  }
  *max_out = m;
  return s;
}

}  // namespace

void softmax(const float* x, int64_t rows, int64_t cols, float* out) {
  const int64_t min_rows = cols > 0 ? (kParallelTranscendental + cols - 1) / cols : rows + 1;
  parallel_range(rows, min_rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      float* orow = out + r * cols;
      float m;
      const float inv = static_cast<float>(1.0 / exp_shifted_row(x + r * cols, cols, orow, &m));
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) orow[j] *= inv;
    }
  }, 1);
}

double softmax_cross_entropy(const float* logits, const float* targets, int64_t rows, int64_t cols,
                             float* probs) {
  // per-row losses, summed in row order afterwards: the same total however rows were split
  std::vector<double> row_loss(static_cast<size_t>(rows));
  const int64_t min_rows = cols > 0 ? (kParallelTranscendental + cols - 1) / cols : rows + 1;
  parallel_range(rows, min_rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = logits + r * cols;
      const float* tr = targets + r * cols;
      float* pr = probs + r * cols;
      float m;
      const double s = exp_shifted_row(xr, cols, pr, &m);
      const float inv = static_cast<float>(1.0 / s);
      const double shift = static_cast<double>(m) + std::log(s);  // log p_j = x_j − shift
      double l = 0.0;
#pragma omp simd reduction(+ : l)
      for (int64_t j = 0; j < cols; j++) {
        pr[j] *= inv;
        const double t = static_cast<double>(tr[j]);
        l += t != 0.0 ? t * (static_cast<double>(xr[j]) - shift) : 0.0;
      }
      row_loss[static_cast<size_t>(r)] = l;
    }
  }, 1);
  double loss = 0.0;
  for (int64_t r = 0; r < rows; r++) loss -= row_loss[static_cast<size_t>(r)];
  return loss;
}

double sum(const float* x, int64_t n) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; i++) s += static_cast<double>(x[i]);
  return s;
}

double sum_squares(const float* x, int64_t n) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; i++) {
    const double v = static_cast<double>(x[i]);
    s += v * v;
  }
  return s;
}

bool all_finite(const float* x, int64_t n) {
  // a float is finite when its exponent bits are not all ones; scan in blocks so a NaN early in a
  // big buffer stops the scan soon
  const int64_t block = 4096;
  for (int64_t start = 0; start < n; start += block) {
    const int64_t end = start + block < n ? start + block : n;
    uint32_t bad = 0;
#pragma omp simd reduction(| : bad)
    for (int64_t i = start; i < end; i++) {
      bad |= static_cast<uint32_t>((dn_float_to_bits(x[i]) & 0x7F800000u) == 0x7F800000u);
    }
    if (bad) return false;
  }
  return true;
}

void lstm_cell(int64_t B, int64_t H, const float* pre, const float* c_prev, float* gates, float* c,
               float* h) {
  // rows are split over the threads when there are enough units (5 exp-like functions each)
  parallel_range(B, H > 0 ? (kParallelTranscendental + 5 * H - 1) / (5 * H) : B + 1,
                 [&](int64_t b0, int64_t b1) { lstm_cell_rows(b0, b1, H, pre, c_prev, gates, c, h); }, 1);
}

void lstm_cell_backward(int64_t B, int64_t H, const float* gates, const float* c_prev, const float* c,
                        const float* dh, const float* dc, float* d_pre, float* dc_prev) {
  parallel_range(B, H > 0 ? (kParallelTranscendental + H - 1) / H : B + 1, [&](int64_t b0, int64_t b1) {
    lstm_cell_backward_rows(b0, b1, H, gates, c_prev, c, dh, dc, d_pre, dc_prev);
  }, 1);
}

namespace {

void lstm_cell_rows(int64_t b0, int64_t b1, int64_t H, const float* pre, const float* c_prev, float* gates,
                    float* c, float* h) {
  const int64_t H4 = 4 * H;
  for (int64_t b = b0; b < b1; b++) {
    const float* p = pre + b * H4;
    float* g = gates + b * H4;
    const float* cp = c_prev + b * H;
    float* cb = c + b * H;
    float* hb = h + b * H;
#pragma omp simd
    for (int64_t u = 0; u < H; u++) {
      const float f = dn_sigmoid(p[u]);
      const float i = dn_sigmoid(p[H + u]);
      const float cc = dn_tanh(p[2 * H + u]);
      const float o = dn_sigmoid(p[3 * H + u]);
      g[u] = f;
      g[H + u] = i;
      g[2 * H + u] = cc;
      g[3 * H + u] = o;
      const float cv = f * cp[u] + i * cc;
      cb[u] = cv;
      hb[u] = o * dn_tanh(cv);
    }
  }
}

void lstm_cell_backward_rows(int64_t b0, int64_t b1, int64_t H, const float* gates, const float* c_prev,
                             const float* c, const float* dh, const float* dc, float* d_pre, float* dc_prev) {
  const int64_t H4 = 4 * H;
  for (int64_t b = b0; b < b1; b++) {
    const float* g = gates + b * H4;
    const float* cp = c_prev + b * H;
    const float* cb = c + b * H;
    const float* dhb = dh + b * H;
    const float* dcb = dc + b * H;
    float* dp = d_pre + b * H4;
    float* dcp = dc_prev + b * H;
#pragma omp simd
    for (int64_t u = 0; u < H; u++) {
      const float f = g[u];
      const float i = g[H + u];
      const float cc = g[2 * H + u];
      const float o = g[3 * H + u];
      const float tc = dn_tanh(cb[u]);
      const float dhv = dhb[u];
      // the fork at c_t: gradient from h_t (through tanh) plus the one from c_{t+1}
      const float dcv = dcb[u] + dhv * o * (1.0f - tc * tc);
      dp[u] = dcv * cp[u] * f * (1.0f - f);
      dp[H + u] = dcv * cc * i * (1.0f - i);
      dp[2 * H + u] = dcv * i * (1.0f - cc * cc);
      dp[3 * H + u] = dhv * tc * o * (1.0f - o);
      dcp[u] = dcv * f;
    }
  }
}

}  // namespace

// ---- GRU cell: the elementwise parts around its two GEMMs per step ----
// Rows are independent; each kernel splits them over the threads when there are enough units.

void gru_gates(int64_t B, int64_t H, const float* pre, const float* h, float* gates, float* reset_hidden) {
  parallel_range(B, H > 0 ? (kParallelTranscendental + 2 * H - 1) / (2 * H) : B + 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; b++) {
      const float* p = pre + b * 2 * H;
      float* g = gates + b * 2 * H;
#pragma omp simd
      for (int64_t u = 0; u < 2 * H; u++) g[u] = dn_sigmoid(p[u]);
#pragma omp simd
      for (int64_t u = 0; u < H; u++) reset_hidden[b * H + u] = g[H + u] * h[b * H + u];
    }
  }, 1);
}

void gru_state(int64_t B, int64_t H, const float* gates, const float* h_prev, const float* pre_candidate,
               float* candidate, float* h) {
  parallel_range(B, H > 0 ? (kParallelTranscendental + H - 1) / H : B + 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; b++) {
      const float* z = gates + b * 2 * H;
#pragma omp simd
      for (int64_t u = 0; u < H; u++) {
        const int64_t k = b * H + u;
        const float n = dn_tanh(pre_candidate[k]);
        candidate[k] = n;
        h[k] = z[u] * h_prev[k] + (1.0f - z[u]) * n;
      }
    }
  }, 1);
}

void gru_state_backward(int64_t B, int64_t H, const float* gates, const float* h_prev, const float* candidate,
                        const float* dh, float* dh_prev, float* d_pre_candidate, float* d_pre_gates) {
  parallel_range(B, H > 0 ? (kParallelItems + H - 1) / H : B + 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; b++) {
      const float* z = gates + b * 2 * H;
      float* dz = d_pre_gates + b * 2 * H;
#pragma omp simd
      for (int64_t u = 0; u < H; u++) {
        const int64_t k = b * H + u;
        const float n = candidate[k];
        dh_prev[k] = dh[k] * z[u];
        d_pre_candidate[k] = dh[k] * (1.0f - z[u]) * (1.0f - n * n);
        dz[u] = dh[k] * (h_prev[k] - n) * z[u] * (1.0f - z[u]);
      }
    }
  }, 1);
}

void gru_gates_backward(int64_t B, int64_t H, const float* gates, const float* h, const float* d_reset_hidden,
                        float* d_pre_gates, float* dh) {
  parallel_range(B, H > 0 ? (kParallelItems + H - 1) / H : B + 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; b++) {
      const float* r = gates + b * 2 * H + H;
      float* dr = d_pre_gates + b * 2 * H + H;
#pragma omp simd
      for (int64_t u = 0; u < H; u++) {
        const int64_t k = b * H + u;
        dr[u] = d_reset_hidden[k] * h[k] * r[u] * (1.0f - r[u]);
        dh[k] = d_reset_hidden[k] * r[u];
      }
    }
  }, 1);
}

// ---- rows by index: embedding lookups, masked steps, predictions ----

int64_t gather_rows(const float* src, int64_t rows, int64_t cols, const float* index, int64_t n, float* out) {
  for (int64_t k = 0; k < n; k++) {
    const float v = index[k];
    if (!(v >= 0.0f && v < static_cast<float>(rows) && v == std::floor(v))) return k;
    const int64_t r = static_cast<int64_t>(v);
    std::memcpy(out + k * cols, src + r * cols, sizeof(float) * static_cast<size_t>(cols));
  }
  return -1;
}

void scatter_add_rows(const float* src, int64_t cols, const float* index, int64_t n, float* out) {
  for (int64_t k = 0; k < n; k++) {
    float* o = out + static_cast<int64_t>(index[k]) * cols;
    const float* g = src + k * cols;
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) o[j] += g[j];
  }
}

void argmax_rows(const float* x, int64_t rows, int64_t cols, int32_t* out) {
  for (int64_t r = 0; r < rows; r++) {
    const float* row = x + r * cols;
    int64_t best = 0;
    for (int64_t j = 1; j < cols; j++) if (row[j] > row[best]) best = j;
    out[r] = static_cast<int32_t>(best);
  }
}

int64_t nonzero_indices(const float* x, int64_t n, float* out) {
  int64_t c = 0;
  for (int64_t i = 0; i < n; i++) if (x[i] != 0.0f) out[c++] = static_cast<float>(i);
  return c;
}

}  // namespace dn
