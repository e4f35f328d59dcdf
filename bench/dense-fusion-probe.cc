// How to fuse a dense layer's bias and activation into its product on the native backend,
// measured (the choice behind native/src/linear.cc). One thread, float32, W-INFER and W-MLP shapes
// (rows × units × inputs, weights [units, inputs] as Dense keeps them), relu:
//   sgemm + 2 passes        dnnl_sgemm, then a bias pass and a relu pass (the composed ops)
//   prefill + sgemm + relu  the bias written into C, sgemm with beta = 1, one relu pass (linear.cc)
//   matmul + post-op        oneDNN's matmul primitive with the bias and an eltwise relu post-op
//   matmul + bias, relu     the same primitive with the bias only, then a relu pass
// Medians of 41 samples, µs per call.
//   g++ -O3 -march=x86-64-v4 -mtune=generic -fopenmp bench/dense-fusion-probe.cc -o bench/out/dense-fusion-probe -ldnnl
//   OMP_NUM_THREADS=1 bench/out/dense-fusion-probe
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <vector>

using namespace dnnl;
using dt = memory::data_type;

static double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <class F>
static double median_us(F f, int per) {
  for (int i = 0; i < 50; i++) f();
  std::vector<double> s;
  for (int j = 0; j < 41; j++) {
    const double t = now();
    for (int i = 0; i < per; i++) f();
    s.push_back((now() - t) / per * 1e6);
  }
  std::sort(s.begin(), s.end());
  return s[s.size() / 2];
}

static void relu(std::vector<float>& c) {
  for (float& v : c) v = v > 0.0f ? v : 0.0f;
}

// A matmul primitive for C[M×N] = X[M×K]·Wᵀ + b (W stored [N, K]), with an optional relu post-op.
struct Matmul {
  matmul prim;
  std::unordered_map<int, memory> args;
  Matmul(engine& eng, int64_t M, int64_t N, int64_t K, bool post_op, float* x, float* w, float* b, float* c) {
    memory::desc src({M, K}, dt::f32, {K, 1}), wei({K, N}, dt::f32, {1, K}), bia({1, N}, dt::f32, {N, 1}),
        dst({M, N}, dt::f32, {N, 1});
    primitive_attr attr;
    attr.set_scratchpad_mode(scratchpad_mode::user);
    if (post_op) {
      post_ops po;
      po.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
      attr.set_post_ops(po);
    }
    matmul::primitive_desc pd(matmul::desc(src, wei, bia, dst), attr, eng);
    prim = matmul(pd);
    args = {{DNNL_ARG_SRC, memory(src, eng, x)}, {DNNL_ARG_WEIGHTS, memory(wei, eng, w)},
            {DNNL_ARG_BIAS, memory(bia, eng, b)}, {DNNL_ARG_DST, memory(dst, eng, c)},
            {DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), eng)}};
  }
};

int main() {
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const int64_t shapes[][3] = {{1, 256, 784},  {1, 128, 256},  {1, 10, 128},      {64, 256, 784},
                               {64, 128, 256}, {64, 10, 128},  {1000, 256, 784}, {1000, 128, 256}};
  for (const auto& s : shapes) {
    const int64_t M = s[0], N = s[1], K = s[2];
    std::vector<float> x(M * K), w(N * K), b(N, 0.1f), c(M * N);
    for (size_t i = 0; i < x.size(); i++) x[i] = static_cast<float>((i * 31) % 100) / 100.0f;
    for (size_t i = 0; i < w.size(); i++) w[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
    const int per = M == 1 ? 2000 : M == 64 ? 100 : 5;
    const double composed = median_us([&] {
      dnnl_sgemm('N', 'T', M, N, K, 1.0f, x.data(), K, w.data(), K, 0.0f, c.data(), N);
      for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) c[i * N + j] += b[j];
      relu(c);
    }, per);
    const double prefill = median_us([&] {
      for (int64_t i = 0; i < M; i++) std::copy(b.begin(), b.end(), c.begin() + i * N);
      dnnl_sgemm('N', 'T', M, N, K, 1.0f, x.data(), K, w.data(), K, 1.0f, c.data(), N);
      relu(c);
    }, per);
    Matmul fused(eng, M, N, K, true, x.data(), w.data(), b.data(), c.data());
    const double post_op = median_us([&] { fused.prim.execute(strm, fused.args); }, per);
    Matmul plain(eng, M, N, K, false, x.data(), w.data(), b.data(), c.data());
    const double bias_only = median_us([&] {
      plain.prim.execute(strm, plain.args);
      relu(c);
    }, per);
    std::printf("%4ld×%3ld×%3ld  sgemm + 2 passes %8.2f  prefill + sgemm + relu %8.2f  matmul + post-op %8.2f  matmul + bias, relu %8.2f\n",
                static_cast<long>(M), static_cast<long>(N), static_cast<long>(K), composed, prefill, post_op, bias_only);
  }
}
