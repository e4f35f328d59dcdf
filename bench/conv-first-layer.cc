// Kernel choice for a convolution with few input channels (W-CNN's first layer: 1 → 16 channels,
// 5×5, 28×28 → 24×24), measured: oneDNN's JIT kernel on blocked layouts (what native/src/conv.cc
// uses, plus the reorder of its output back to NCHW), oneDNN on plain NCHW (its im2col + GEMM
// path, no reorders), and a direct loop vectorised along the output row. Forward and weight
// gradient (the first layer needs no input gradient), one thread, best of 7 blocks; then oneDNN's
// max pooling on NCHW and on the blocked layout (compare with `node dist/bench/kernels.js`).
//
//   g++ -O3 -march=x86-64-v4 -mtune=generic -fopenmp -std=c++17 bench/conv-first-layer.cc -o bench/out/conv-first-layer -ldnnl
//   OMP_NUM_THREADS=1 bench/out/conv-first-layer [n c hw k]
//
// Defaults: 32 images (one thread's chunk of a batch of 64), c 1, 28×28, 16 filters.
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

using dnnl::algorithm;
using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

double best_us(const std::function<void()>& f, int reps = 30) {
  for (int i = 0; i < 5; i++) f();
  double best = 1e30;
  for (int block = 0; block < 7; block++) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; i++) f();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::micro>(t1 - t0).count() / reps);
  }
  return best;
}

// y[i, f] = b[f] + Σ_u Σ_v w[f, u, v] · x[i, oy + u, ox + v] for one input channel, valid padding:
// per output row, the accumulators of the whole row, one filter tap at a time.
void direct_one_channel(int n, int h, int w, int k, int kh, int kw, const float* x, const float* wt, const float* b,
                        float* y) {
  const int oh = h - kh + 1, ow = w - kw + 1;
  std::vector<float> acc(ow);
  for (int i = 0; i < n; i++) {
    const float* xi = x + static_cast<size_t>(i) * h * w;
    for (int f = 0; f < k; f++) {
      float* yf = y + (static_cast<size_t>(i) * k + f) * oh * ow;
      const float* wf = wt + f * kh * kw;
      for (int oy = 0; oy < oh; oy++) {
        std::fill(acc.begin(), acc.end(), b[f]);
        for (int u = 0; u < kh; u++) {
          const float* row = xi + (oy + u) * w;
          for (int v = 0; v < kw; v++) {
            const float wv = wf[u * kw + v];
            float* a = acc.data();
#pragma omp simd
            for (int ox = 0; ox < ow; ox++) a[ox] += wv * row[ox + v];
          }
        }
        std::copy(acc.begin(), acc.end(), yf + oy * ow);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int n = 32, c = 1, hw = 28, k = 16;
  if (argc == 5) {
    n = std::atoi(argv[1]);
    c = std::atoi(argv[2]);
    hw = std::atoi(argv[3]);
    k = std::atoi(argv[4]);
  }
  const int kh = 5, kw = 5, o = hw - kh + 1;
  const double mflop = 2.0 * n * k * o * o * c * kh * kw / 1e6;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  const memory::dims src{n, c, hw, hw}, wei{k, c, kh, kw}, dst{n, k, o, o}, bia{k}, one{1, 1}, zero{0, 0};
  std::vector<float> x(static_cast<size_t>(n) * c * hw * hw), w(static_cast<size_t>(k) * c * kh * kw), b(k),
      y(static_cast<size_t>(n) * k * o * o);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uni(-1, 1);
  for (auto* v : {&x, &w, &b})
    for (float& e : *v) e = uni(rng);
  const memory::desc src_p(src, dt::f32, tag::nchw), wei_p(wei, dt::f32, tag::oihw), dst_p(dst, dt::f32, tag::nchw),
      bias_p(bia, dt::f32, tag::x);
  memory xm(src_p, eng, x.data()), wm(wei_p, eng, w.data()), bm(bias_p, eng, b.data()), ym(dst_p, eng, y.data());
  std::printf("convolution %d×%d×%d×%d, %d filters %d×%d: %.1f MFLOP per direction\n", n, c, hw, hw, k, kh, kw, mflop);
  for (const bool blocked : {true, false}) {
    const tag t = blocked ? tag::any : tag::nchw;
    const memory::desc s2(src, dt::f32, t), w2(wei, dt::f32, tag::any), d2(dst, dt::f32, t);
    dnnl::convolution_forward::primitive_desc pd(
        {dnnl::prop_kind::forward_training, algorithm::convolution_direct, s2, w2, bias_p, d2, one, zero, zero}, eng);
    memory xi = pd.src_desc() == src_p ? xm : memory(pd.src_desc(), eng);
    memory wi = pd.weights_desc() == wei_p ? wm : memory(pd.weights_desc(), eng);
    memory yi = pd.dst_desc() == dst_p ? ym : memory(pd.dst_desc(), eng);
    if (wi != wm) dnnl::reorder(wm, wi).execute(s, wm, wi);
    dnnl::convolution_forward fwd(pd);
    const double t_fwd = best_us([&] {
      if (xi != xm) dnnl::reorder(xm, xi).execute(s, xm, xi);
      fwd.execute(s, {{DNNL_ARG_SRC, xi}, {DNNL_ARG_WEIGHTS, wi}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, yi}});
      if (yi != ym) dnnl::reorder(yi, ym).execute(s, yi, ym);
      s.wait();
    });
    dnnl::convolution_backward_weights::primitive_desc bpd(
        {algorithm::convolution_direct, s2, w2, bias_p, d2, one, zero, zero}, eng, pd);
    memory dyi = bpd.diff_dst_desc() == dst_p ? ym : memory(bpd.diff_dst_desc(), eng);
    memory xb = bpd.src_desc() == src_p ? xm : memory(bpd.src_desc(), eng);
    memory dw(bpd.diff_weights_desc(), eng), db(bias_p, eng);
    dnnl::convolution_backward_weights bwd(bpd);
    const double t_bwd = best_us([&] {
      if (xb != xm) dnnl::reorder(xm, xb).execute(s, xm, xb);
      if (dyi != ym) dnnl::reorder(ym, dyi).execute(s, ym, dyi);
      bwd.execute(s, {{DNNL_ARG_SRC, xb}, {DNNL_ARG_DIFF_DST, dyi}, {DNNL_ARG_DIFF_WEIGHTS, dw}, {DNNL_ARG_DIFF_BIAS, db}});
      s.wait();
    });
    std::printf("oneDNN %-8s (%s): forward %.0f µs (%.0f GFLOP/s), weight gradient %.0f µs (%.0f GFLOP/s), reorders included\n",
                blocked ? "blocked" : "NCHW", pd.impl_info_str(), t_fwd, mflop * 1e3 / t_fwd, t_bwd, mflop * 1e3 / t_bwd);
  }
  if (c == 1) {
    const double t = best_us([&] { direct_one_channel(n, hw, hw, k, kh, kw, x.data(), w.data(), b.data(), y.data()); });
    std::printf("direct loop (1 channel): forward %.0f µs (%.0f GFLOP/s)\n", t, mflop * 1e3 / t);
  }
  // max pooling 2×2 / 2 over the first layer's output, oneDNN on NCHW and on the blocked layout
  const memory::dims pd_dst{n, k, o / 2, o / 2};
  std::vector<float> py(static_cast<size_t>(n) * k * (o / 2) * (o / 2)), pdx(y.size());
  for (const tag t : {tag::nchw, tag::nChw16c}) {
    const memory::desc sd(dst, dt::f32, t), dd(pd_dst, dt::f32, t);
    dnnl::pooling_forward::primitive_desc fpd(
        {dnnl::prop_kind::forward_training, algorithm::pooling_max, sd, dd, {2, 2}, {2, 2}, {0, 0}, {0, 0}}, eng);
    memory in(sd, eng, y.data()), out(dd, eng, py.data()), ws(fpd.workspace_desc(), eng), din(sd, eng, pdx.data());
    dnnl::pooling_forward pf(fpd);
    const double t_f = best_us([&] {
      pf.execute(s, {{DNNL_ARG_SRC, in}, {DNNL_ARG_DST, out}, {DNNL_ARG_WORKSPACE, ws}});
      s.wait();
    });
    dnnl::pooling_backward::primitive_desc bpd({algorithm::pooling_max, sd, dd, {2, 2}, {2, 2}, {0, 0}, {0, 0}}, eng, fpd);
    dnnl::pooling_backward pb(bpd);
    const double t_b = best_us([&] {
      pb.execute(s, {{DNNL_ARG_DIFF_DST, out}, {DNNL_ARG_DIFF_SRC, din}, {DNNL_ARG_WORKSPACE, ws}});
      s.wait();
    });
    std::printf("oneDNN max pooling 2×2 on %s: forward %.0f µs, backward %.0f µs\n", t == tag::nchw ? "NCHW" : "nChw16c", t_f, t_b);
  }
  return 0;
}
