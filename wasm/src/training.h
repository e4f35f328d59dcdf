// The training kernels (optimiser rules, clipping, batch normalisation, running averages, losses)
// in plain C, shared by the WebAssembly backend (wasm/src/training.c) and the native backend
// (native/src/training.cc), so that there is one copy of each rule beside the reference in
// src/backend/js-training.ts. The arithmetic is that of the reference, step for step: float64
// (JavaScript's numbers), rounded to float32 only where a float32 buffer is written, and never
// contracted into fused multiply-adds, so all three backends produce the same bits (the
// transcendental functions excepted: they come from the includer as DN_LOG, DN_EXP, DN_LOG1P).
// The includer defines DN_SQRT, DN_LOG, DN_EXP, DN_LOG1P and DN_INDEX (the index type).
#ifndef DN_TRAINING_H
#define DN_TRAINING_H

#define DN_LOSS_EPS 1e-7

static inline double dn_max(double a, double b) { return a > b || a != a ? a : b; }
static inline double dn_min(double a, double b) { return a < b || a != a ? a : b; }
static inline double dn_clamp_p(double p) { return dn_min(dn_max(p, DN_LOSS_EPS), 1 - DN_LOSS_EPS); }

static void dn_sgd_update(DN_INDEX n, float* w, const float* g, float* vel, double lr, double mu, int nesterov) {
  for (DN_INDEX i = 0; i < n; i++) {
    if (!vel) {
      w[i] = (float)((double)w[i] - lr * (double)g[i]);
      continue;
    }
    vel[i] = (float)(mu * (double)vel[i] + (double)g[i]);
    const double step = nesterov ? (double)g[i] + mu * (double)vel[i] : (double)vel[i];
    w[i] = (float)((double)w[i] - lr * step);
  }
}

static void dn_adam_update(DN_INDEX n, float* w, const float* g, float* m, float* v, double lr, double b1, double b2,
                           double eps, double c1, double c2, double keep) {
  for (DN_INDEX i = 0; i < n; i++) {
    const double gi = g[i];
    const double mi = b1 * (double)m[i] + (1 - b1) * gi;
    const double vi = b2 * (double)v[i] + (1 - b2) * gi * gi;
    m[i] = (float)mi;
    v[i] = (float)vi;
    const double kept = (float)((double)w[i] * keep);
    w[i] = (float)(kept - (lr * (mi / c1)) / (DN_SQRT(vi / c2) + eps));
  }
}

static void dn_rmsprop_update(DN_INDEX n, float* w, const float* g, float* ms, float* mg, float* mom, double lr,
                              double rho, double mu, double eps) {
  for (DN_INDEX i = 0; i < n; i++) {
    const double gi = g[i];
    const double s = rho * (double)ms[i] + (1 - rho) * gi * gi;
    ms[i] = (float)s;
    double denom = s;
    if (mg) {
      const double a = rho * (double)mg[i] + (1 - rho) * gi;
      mg[i] = (float)a;
      denom = s - a * a;
    }
    const double step = (lr * gi) / DN_SQRT((denom > 0 ? denom : 0) + eps);
    if (mom) {
      const double u = mu * (double)mom[i] + step;
      mom[i] = (float)u;
      w[i] = (float)((double)w[i] - u);
    } else {
      w[i] = (float)((double)w[i] - step);
    }
  }
}

// The fused optimiser step: every parameter of a model in one call (src/backend/backend.ts,
// optimizerStep). Each gradient is taken in blocks of DN_STEP_BLOCK elements, and the block's Σg²
// (float64, sixteen running sums, element i into sum i mod 16, then added in order: a fixed order
// the reference repeats, and one the compilers vectorise) is taken in the same pass as other work
// on the block. A rule with state checks the sum before it touches the block, so a NaN or Inf
// gradient never reaches a weight or a state; plain SGD (no state) updates the block in the pass
// that sums it, then checks (the block's weights may then be non-finite: the caller restores
// them). At a non-finite block the step stops and returns its sum; otherwise Σg² over all gradients
// (before decay).
#define DN_STEP_BLOCK 4096
enum { DN_RULE_SGD = 0, DN_RULE_ADAM = 1, DN_RULE_RMSPROP = 2 };

// One parameter of a fused step: n elements of w and g, and the rule's state buffers (null when
// unused): SGD velocity; Adam m, v; RMSProp ms, mg, mom. The layout is the wasm backend's table of
// six 32-bit words per parameter.
typedef struct {
  DN_INDEX n;
  float* w;
  const float* g;
  float* s0;
  float* s1;
  float* s2;
} dn_param;

// The body of a function that passes once over a block of n gradients g, runs BODY(i) for every
// element and returns the block's Σg² in the order described above.
#define DN_SUMMING_PASS(n, g, BODY)                                                       \
  double acc[16] = {0};                                                                   \
  DN_INDEX i = 0;                                                                         \
  for (; i + 16 <= (n); i += 16) {                                                        \
    for (int j = 0; j < 16; j++) {                                                        \
      const float gk = (g)[i + j];                                                        \
      acc[j] += (double)gk * (double)gk;                                                  \
      BODY(i + j, gk);                                                                    \
    }                                                                                     \
  }                                                                                       \
  for (int j = 0; i < (n); i++, j++) {                                                    \
    const float gk = (g)[i];                                                              \
    acc[j] += (double)gk * (double)gk;                                                    \
    BODY(i, gk);                                                                          \
  }                                                                                       \
  double s = 0;                                                                           \
  for (int j = 0; j < 16; j++) s += acc[j];                                               \
  return s;

#define DN_NOTHING(k, gk)
static double dn_block_sum_squares(const float* g, DN_INDEX n) { DN_SUMMING_PASS(n, g, DN_NOTHING) }

// g' = g + λ·w (float32) into `out`, summing g
#define DN_DECAY(k, gk) out[k] = gk + wd * w[k]
static double dn_block_decay(const float* __restrict g, const float* __restrict w, float wd, float* __restrict out,
                             DN_INDEX n) {
  DN_SUMMING_PASS(n, g, DN_DECAY)
}

// plain SGD in float32 (as axpy), w ← w − α·g, summing g
#define DN_SGD(k, gk) w[k] = w[k] - lr * gk
static double dn_block_sgd(const float* __restrict g, float* __restrict w, float lr, DN_INDEX n) {
  DN_SUMMING_PASS(n, g, DN_SGD)
}

// SGD with momentum in float32: v ← μ·v + g, then w ← w − α·v, or Nesterov's w ← w − α·(g + μ·v).
static void dn_sgd_momentum32(DN_INDEX n, float* w, const float* g, float* vel, float lr, float mu, int nesterov) {
  if (nesterov) {
    for (DN_INDEX i = 0; i < n; i++) {
      const float v = mu * vel[i] + g[i];
      vel[i] = v;
      w[i] = w[i] - lr * (g[i] + mu * v);
    }
  } else {
    for (DN_INDEX i = 0; i < n; i++) {
      const float v = mu * vel[i] + g[i];
      vel[i] = v;
      w[i] = w[i] - lr * v;
    }
  }
}

// hyper: SGD [α, μ, nesterov, λ]; Adam [α, β1, β2, ε, c1, c2, keep, λ]; RMSProp [α, ρ, μ, ε, λ], λ the
// coupled L2 decay (g ← g + λ·w in float32 before the rule). `decayed`: DN_STEP_BLOCK floats of scratch.
static double dn_optimizer_step(int rule, const double* h, const dn_param* params, DN_INDEX count, float* decayed) {
  const double wd = h[rule == DN_RULE_SGD ? 3 : rule == DN_RULE_ADAM ? 7 : 4];
  const float lr32 = (float)h[0];
  double total = 0;
  for (DN_INDEX k = 0; k < count; k++) {
    const dn_param p = params[k];
    const int stateless = rule == DN_RULE_SGD && !p.s0;
    for (DN_INDEX at = 0; at < p.n; at += DN_STEP_BLOCK) {
      const DN_INDEX nb = p.n - at < DN_STEP_BLOCK ? p.n - at : DN_STEP_BLOCK;
      const float* g = p.g + at;
      float* w = p.w + at;
      double s;
      if (wd != 0) {
        s = dn_block_decay(g, w, (float)wd, decayed, nb);
      } else if (stateless) {
        s = dn_block_sgd(g, w, lr32, nb);
        if (!(s - s == 0)) return s;
        total += s;
        continue;
      } else {
        s = dn_block_sum_squares(g, nb);
      }
      if (!(s - s == 0) && !stateless) return s;
      const float* step = wd != 0 ? decayed : g;
      if (stateless) dn_block_sgd(step, w, lr32, nb);  // (the sum of the decayed gradient is not wanted)
      else if (rule == DN_RULE_SGD) dn_sgd_momentum32(nb, w, step, p.s0 + at, lr32, (float)h[1], h[2] != 0);
      else if (rule == DN_RULE_ADAM) dn_adam_update(nb, w, step, p.s0 + at, p.s1 + at, h[0], h[1], h[2], h[3], h[4], h[5], h[6]);
      else dn_rmsprop_update(nb, w, step, p.s0 + at, p.s1 ? p.s1 + at : 0, p.s2 ? p.s2 + at : 0, h[0], h[1], h[2], h[3]);
      if (!(s - s == 0)) return s;
      total += s;
    }
  }
  return total;
}

// Rows of two [rows, cols] score matrices whose arg-max (first maximum) agree; one column: both
// ≥ 0.5 or both below (a logistic output against a 0/1 target).
static DN_INDEX dn_count_matching_rows(const float* a, const float* b, DN_INDEX rows, DN_INDEX cols) {
  DN_INDEX same = 0;
  for (DN_INDEX r = 0; r < rows; r++) {
    const float* x = a + r * cols;
    const float* y = b + r * cols;
    if (cols == 1) {
      same += (x[0] >= 0.5f) == (y[0] >= 0.5f);
      continue;
    }
    DN_INDEX ia = 0, ib = 0;
    for (DN_INDEX j = 1; j < cols; j++) {
      if (x[j] > x[ia]) ia = j;
      if (y[j] > y[ib]) ib = j;
    }
    same += ia == ib;
  }
  return same;
}

static void dn_clip_value(DN_INDEX n, float* x, double limit) {
  for (DN_INDEX i = 0; i < n; i++) {
    const double v = x[i];
    x[i] = (float)(v > limit ? limit : v < -limit ? -limit : v);
  }
}

static void dn_batch_norm_train(const float* x, const float* gamma, const float* beta, DN_INDEX outer, DN_INDEX C,
                                DN_INDEX inner, double eps, float* y, float* xhat, double* mean, double* variance,
                                double* inv_std) {
  const double M = (double)(outer * inner);
  for (DN_INDEX c = 0; c < C; c++) mean[c] = variance[c] = 0;
  for (DN_INDEX o = 0; o < outer; o++) {
    for (DN_INDEX c = 0; c < C; c++) {
      const float* xb = x + (o * C + c) * inner;
      double s = 0;
      for (DN_INDEX i = 0; i < inner; i++) s += xb[i];
      mean[c] += s;
    }
  }
  for (DN_INDEX c = 0; c < C; c++) mean[c] /= M;
  for (DN_INDEX o = 0; o < outer; o++) {
    for (DN_INDEX c = 0; c < C; c++) {
      const float* xb = x + (o * C + c) * inner;
      const double m = mean[c];
      double s = 0;
      for (DN_INDEX i = 0; i < inner; i++) s += ((double)xb[i] - m) * ((double)xb[i] - m);
      variance[c] += s;
    }
  }
  for (DN_INDEX c = 0; c < C; c++) {
    variance[c] /= M;
    inv_std[c] = 1 / DN_SQRT(variance[c] + eps);
  }
  for (DN_INDEX o = 0; o < outer; o++) {
    for (DN_INDEX c = 0; c < C; c++) {
      const DN_INDEX base = (o * C + c) * inner;
      const double gc = gamma ? (double)gamma[c] : 1, bc = beta ? (double)beta[c] : 0;
      for (DN_INDEX i = 0; i < inner; i++) {
        const double h = ((double)x[base + i] - mean[c]) * inv_std[c];
        xhat[base + i] = (float)h;
        y[base + i] = (float)(gc * h + bc);
      }
    }
  }
}

static void dn_batch_norm_inference(const float* x, const float* mean, const float* variance, const float* gamma,
                                    const float* beta, DN_INDEX outer, DN_INDEX C, DN_INDEX inner, double eps,
                                    float* y, float* xhat, double* inv_std) {
  for (DN_INDEX c = 0; c < C; c++) inv_std[c] = 1 / DN_SQRT((double)variance[c] + eps);
  for (DN_INDEX o = 0; o < outer; o++) {
    for (DN_INDEX c = 0; c < C; c++) {
      const DN_INDEX base = (o * C + c) * inner;
      const double k = (gamma ? (double)gamma[c] : 1) * inv_std[c], bc = beta ? (double)beta[c] : 0;
      for (DN_INDEX i = 0; i < inner; i++) {
        const double h = (double)x[base + i] - (double)mean[c];
        y[base + i] = (float)(k * h + bc);
        if (xhat) xhat[base + i] = (float)(h * inv_std[c]);
      }
    }
  }
}

// sums: 2·C doubles of scratch (Σdy, then Σdy·x̂, per channel)
static void dn_batch_norm_backward(int training, const float* dy, const float* xhat, const double* inv_std,
                                   const float* gamma, DN_INDEX outer, DN_INDEX C, DN_INDEX inner, float* dx,
                                   float* dgamma, float* dbeta, double* sums) {
  double* sum_g = sums;
  double* sum_gx = sums + C;
  const double M = (double)(outer * inner);
  for (DN_INDEX c = 0; c < C; c++) sum_g[c] = sum_gx[c] = 0;
  for (DN_INDEX o = 0; o < outer; o++) {
    for (DN_INDEX c = 0; c < C; c++) {
      const DN_INDEX base = (o * C + c) * inner;
      double a = 0, b = 0;
      for (DN_INDEX i = 0; i < inner; i++) {
        a += dy[base + i];
        b += (double)dy[base + i] * (xhat ? (double)xhat[base + i] : 0);
      }
      sum_g[c] += a;
      sum_gx[c] += b;
    }
  }
  for (DN_INDEX c = 0; c < C; c++) {
    if (dgamma) dgamma[c] = (float)sum_gx[c];
    if (dbeta) dbeta[c] = (float)sum_g[c];
  }
  if (!dx) return;
  for (DN_INDEX o = 0; o < outer; o++) {
    for (DN_INDEX c = 0; c < C; c++) {
      const DN_INDEX base = (o * C + c) * inner;
      const double gc = gamma ? (double)gamma[c] : 1;
      if (training) {
        const double k = gc * inv_std[c] / M;
        for (DN_INDEX i = 0; i < inner; i++) {
          dx[base + i] = (float)(k * (M * (double)dy[base + i] - sum_g[c] - (double)xhat[base + i] * sum_gx[c]));
        }
      } else {
        const double k = gc * inv_std[c];
        for (DN_INDEX i = 0; i < inner; i++) dx[base + i] = (float)(k * (double)dy[base + i]);
      }
    }
  }
}

static void dn_moving_average(DN_INDEX n, float* avg, const double* x, double mu) {
  for (DN_INDEX i = 0; i < n; i++) avg[i] = (float)(mu * (double)avg[i] + (1 - mu) * x[i]);
}

// Loss kinds: the order of LossKind's codes in src/backend/native.ts and wasm.ts.
enum { DN_LOSS_SQUARED = 0, DN_LOSS_CROSS_ENTROPY = 1, DN_LOSS_BINARY_CROSS_ENTROPY = 2, DN_LOSS_SIGMOID_CROSS_ENTROPY = 3 };

static double dn_loss_value(int kind, DN_INDEX n, const float* pred, const float* target) {
  double s = 0;
  for (DN_INDEX i = 0; i < n; i++) {
    const double p = pred[i], t = target[i];
    switch (kind) {
      case DN_LOSS_SQUARED: s += (t - p) * (t - p); break;
      case DN_LOSS_CROSS_ENTROPY: s += t == 0 ? 0 : -(t * DN_LOG(dn_max(p, DN_LOSS_EPS))); break;
      case DN_LOSS_BINARY_CROSS_ENTROPY: {
        const double c = dn_clamp_p(p);
        s += -(t * DN_LOG(c) + (1 - t) * DN_LOG(1 - c));
        break;
      }
      default: s += dn_max(p, 0) - p * t + DN_LOG1P(DN_EXP(-(p < 0 ? -p : p))); break;
    }
  }
  return s;
}

static void dn_loss_grad(int kind, DN_INDEX n, const float* pred, const float* target, double scale, float* dx) {
  for (DN_INDEX i = 0; i < n; i++) {
    const double p = pred[i], t = target[i];
    double d;
    switch (kind) {
      case DN_LOSS_SQUARED: d = p - t; break;
      case DN_LOSS_CROSS_ENTROPY: d = t == 0 ? 0 : -t / dn_max(p, DN_LOSS_EPS); break;
      case DN_LOSS_BINARY_CROSS_ENTROPY: {
        const double c = dn_clamp_p(p);
        d = (c - t) / (c * (1 - c));
        break;
      }
      default: d = 1 / (1 + DN_EXP(-p)) - t; break;
    }
    dx[i] = (float)(scale * d);
  }
}

// dst[dst_off + Σ i·dst_strides + j] = src[src_off + Σ i·src_strides + j] for every index below
// counts (rank ≤ 4) and j < len; the caller has checked that every run lies inside its buffer.
static void dn_copy_runs(const float* src, int64_t src_off, const int64_t* src_strides, float* dst, int64_t dst_off,
                         const int64_t* dst_strides, const int64_t* counts, int rank, int64_t len) {
  int64_t runs = 1;
  for (int d = 0; d < rank; d++) runs *= counts[d];
  for (int64_t r = 0; r < runs; r++) {
    int64_t from = src_off, to = dst_off, rest = r;
    for (int d = rank - 1; d >= 0; d--) {
      const int64_t i = rest % counts[d];
      rest /= counts[d];
      from += i * src_strides[d];
      to += i * dst_strides[d];
    }
    for (int64_t j = 0; j < len; j++) dst[to + j] = src[from + j];
  }
}

#endif
