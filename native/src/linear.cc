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
// and tiny products take the matrix-vector kernel below instead, and from 256 rows the product is
// the matmul primitive (bias only, no post-op) on weights packed once and checked on every call —
// for weights seen to hold still between calls (inference); weights an optimiser changes every
// step stay on sgemm (see Watch).
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "kernels.h"
#include "onednn.h"
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
  // (the lanes summed through memory: gcc 12 warns falsely on every AVX-512 shuffle intrinsic)
  alignas(64) float lanes[16];
  for (int r = 0; r < R; r++) {
    _mm512_store_ps(lanes, _mm512_add_ps(a0[r], a1[r]));
    float t = 0.0f;
    for (int u = 0; u < 16; u++) t += lanes[u];
    s[r] = t;
  }
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
      if (op != DN_U_LINEAR) unary_serial(op, j1 - j0, d + j0, out + i * n + j0, p);
      else if (d != out + i * n) std::copy(d + j0, d + j1, out + i * n + j0);
    }
  };
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (worth_parallel(flops)) parallel_range(n, 0, units, kUnits);
  else units(0, n);
}

// ---- many rows: oneDNN's matmul on weights packed once ----
//
// From this many rows the product runs as oneDNN's matmul primitive (brgemm) on weights reordered
// into its own blocked layout, kept between calls. Measured on the project machine, one thread,
// against dnnl_sgemm, which packs the weights again on every call: 500×256×784 1,994 → 1,815 µs,
// 1000×256×784 4,125 → 3,620 µs, 500×128×256 311 → 292 µs; the reorder costs ~45 µs for 784×256,
// so below a few hundred rows of a weight that changes every step (training) it would not pay.
constexpr int64_t kPackedRows = 256;


// A pack of one weight matrix: the values it was made from (compared on every use, so a weight
// changed by anyone — an optimiser step, setWeights, a write into its array — is packed again and
// never served stale) and the values in the primitive's layout.
struct Pack {
  dnnl::memory::desc layout;
  std::vector<float> source;
  std::vector<char> packed;
};

// Packs by (weights address, units, inputs, layout). Bounded: a network has a few weight
// matrices; past this many packs, or bytes (each pack holds two copies of its weights), the cache
// is dropped and rebuilt (a pack is rebuilt on demand). Bigger weights keep sgemm.
constexpr size_t kMaxPacks = 16;
constexpr size_t kMaxPackBytes = size_t{64} << 20;

// Whether a weight matrix holds still (inference) or changes between calls (training, where a
// pack made on one call is stale by the next and packing would only add a reorder and two copies
// to every product): a copy of its values is compared on a later call, and only weights found
// unchanged get packed. After a change the next copy waits 1, 3, 7 … up to 63 calls, so a weight
// an optimiser updates every step costs a failed comparison (it differs at once) now and then.
struct Watch {
  std::vector<float> copy;
  bool has_copy = false;
  int cooldown = 0;
  int wait = 0;
};
constexpr int kMaxCooldown = 63;

struct PackCache {
  std::mutex mu;
  std::map<std::tuple<const float*, int64_t, int64_t>, std::vector<std::shared_ptr<const Pack>>> packs;
  std::map<std::tuple<const float*, int64_t, int64_t>, Watch> watch;
  size_t count = 0;
  size_t bytes = 0;
};

PackCache& pack_cache() {
  static PackCache* c = new PackCache();  // shared by every thread; never destroyed (helpers may outlive main)
  return *c;
}

struct MatmulCtx {
  // matmul primitives by (rows, units, inputs, bias), per thread (a primitive's scratchpad is its own)
  std::map<std::tuple<int64_t, int64_t, int64_t, bool>, dnnl::matmul::primitive_desc> pds;
  std::map<std::tuple<int64_t, int64_t, int64_t, bool>, dnnl::matmul> prims;
};

MatmulCtx& matmul_ctx() {
  thread_local MatmulCtx c;
  return c;
}

using dnnl::memory;

// The primitive (and its descriptor) for `rows` rows on this thread, created on first use.
std::pair<dnnl::matmul::primitive_desc*, dnnl::matmul*> matmul_for(int64_t rows, int64_t n, int64_t k, bool bias) {
  pin_openmp();
  MatmulCtx& c = matmul_ctx();
  dnnl::engine& eng = onednn().eng;
  const auto key = std::make_tuple(rows, n, k, bias);
  auto it = c.prims.find(key);
  if (it == c.prims.end()) {
    if (c.prims.size() >= 64) {
      c.prims.clear();
      c.pds.clear();
    }
    const memory::desc src({rows, k}, memory::data_type::f32, memory::format_tag::ab);
    const memory::desc wei({k, n}, memory::data_type::f32, memory::format_tag::any);
    const memory::desc dst({rows, n}, memory::data_type::f32, memory::format_tag::ab);
    const memory::desc b({1, n}, memory::data_type::f32, memory::format_tag::ab);
    dnnl::matmul::primitive_desc pd = bias ? dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, b, dst), eng)
                                           : dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), eng);
    c.pds.emplace(key, pd);
    it = c.prims.emplace(key, dnnl::matmul(pd)).first;
  }
  return {&c.pds.at(key), &it->second};
}

// The cached pack of w [n×k] in `layout` made from w's current values, or null.
std::shared_ptr<const Pack> current_pack(const float* w, int64_t n, int64_t k, const memory::desc& layout) {
  PackCache& cache = pack_cache();
  const size_t bytes = static_cast<size_t>(n * k) * sizeof(float);
  std::lock_guard<std::mutex> lock(cache.mu);
  auto it = cache.packs.find({w, n, k});
  if (it != cache.packs.end()) {
    for (const auto& p : it->second) {
      if (p->layout == layout && std::memcmp(p->source.data(), w, bytes) == 0) return p;
    }
  }
  return nullptr;
}

// Whether w [n×k] held still since the copy a previous call took (then it is worth packing);
// takes or schedules the next copy otherwise (see Watch).
bool holds_still(const float* w, int64_t n, int64_t k) {
  PackCache& cache = pack_cache();
  const size_t count = static_cast<size_t>(n * k);
  std::lock_guard<std::mutex> lock(cache.mu);
  if (cache.watch.size() >= 2 * kMaxPacks && !cache.watch.count({w, n, k})) cache.watch.clear();
  Watch& wt = cache.watch[{w, n, k}];
  if (wt.wait > 0) {
    wt.wait--;
    return false;
  }
  if (wt.has_copy && std::memcmp(wt.copy.data(), w, count * sizeof(float)) == 0) return true;
  if (wt.has_copy) {
    // changed since the copy: wait longer before the next one
    wt.has_copy = false;
    wt.cooldown = std::min(2 * wt.cooldown + 1, kMaxCooldown);
    wt.wait = wt.cooldown;
    return false;
  }
  wt.copy.assign(w, w + count);
  wt.has_copy = true;
  return false;
}

// A new pack of w [n×k] in `layout` (replacing a stale one; a thread still using the old one
// keeps it alive).
std::shared_ptr<const Pack> pack_of(const float* w, int64_t n, int64_t k, const memory::desc& layout) {
  PackCache& cache = pack_cache();
  const size_t bytes = static_cast<size_t>(n * k) * sizeof(float);
  auto p = std::make_shared<Pack>();
  p->layout = layout;
  p->source.assign(w, w + n * k);
  p->packed.resize(layout.get_size());
  Onednn& c = onednn();
  // w [n×k] row-major is the [k×n] matrix the primitive multiplies by, with strides (1, k)
  memory plain(memory::desc({k, n}, memory::data_type::f32, memory::format_tag::ba), c.eng, p->source.data());
  memory packed(layout, c.eng, p->packed.data());
  dnnl::reorder(plain, packed).execute(c.strm, plain, packed);
  c.strm.wait();
  std::shared_ptr<const Pack> done = p;
  std::lock_guard<std::mutex> lock(cache.mu);
  auto& list = cache.packs[{w, n, k}];
  for (auto& q : list) {
    if (q->layout == layout) {
      q = done;
      return done;
    }
  }
  const size_t size = bytes + p->packed.size();
  if (cache.count >= kMaxPacks || cache.bytes + size > kMaxPackBytes) {
    cache.packs.clear();
    cache.watch.clear();
    cache.count = 0;
    cache.bytes = 0;
  }
  cache.packs[{w, n, k}].push_back(done);
  cache.count++;
  cache.bytes += size;
  return done;
}

// dst = x·wᵀ (+ b) for m ≥ kPackedRows: blocks of rows (multiples of 16), one per thread as gemm
// splits them, each a matmul on the shared pack. False (nothing computed) when w has no pack of
// its current values and has not been seen to hold still: the caller runs sgemm.
bool packed_product(int64_t m, int64_t n, int64_t k, const float* x, const float* w, const float* b, float* dst) {
  const SignalBlock no_signals;  // see kernels.h
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  int64_t per = m;
  if (worth_parallel(flops)) {
    const int64_t t = max_threads();
    per = ((m + t - 1) / t + 15) / 16 * 16;
  }
  const int chunks = static_cast<int>((m + per - 1) / per);
  // the packs every block needs, checked (or made, for weights that hold still) on the calling thread
  std::vector<std::shared_ptr<const Pack>> packs(static_cast<size_t>(chunks));
  bool still = false, asked = false;
  for (int i = 0; i < chunks; i++) {
    const int64_t rows = std::min(per, m - i * per);
    const memory::desc layout = matmul_for(rows, n, k, b != nullptr).first->weights_desc();
    auto& pack = packs[static_cast<size_t>(i)];
    pack = current_pack(w, n, k, layout);
    if (pack) continue;
    if (!asked) {
      asked = true;
      still = holds_still(w, n, k);
    }
    if (!still) return false;
    pack = pack_of(w, n, k, layout);
  }
  const auto block = [&](int i) {
    const SignalBlock helper_no_signals;
    const int64_t r0 = i * per;
    const int64_t rows = std::min(per, m - r0);
    auto [pd, prim] = matmul_for(rows, n, k, b != nullptr);
    Onednn& c = onednn();
    const Pack& p = *packs[static_cast<size_t>(i)];
    memory src(pd->src_desc(), c.eng, const_cast<float*>(x + r0 * k));
    memory wei(p.layout, c.eng, const_cast<char*>(p.packed.data()));
    memory out(pd->dst_desc(), c.eng, dst + r0 * n);
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, out}};
    if (b) args.emplace(DNNL_ARG_BIAS, memory(memory::desc({1, n}, memory::data_type::f32, memory::format_tag::ab), c.eng, const_cast<float*>(b)));
    prim->execute(c.strm, args);
    c.strm.wait();
  };
  if (chunks == 1) block(0);
  else parallel_for(chunks, block);
  return true;
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
  if (!(m >= kPackedRows && k > 0 && 2 * n * k * sizeof(float) <= kMaxPackBytes / 4 &&
        packed_product(m, n, k, x, w, b, dst))) {
    if (b) {
      for (int64_t i = 0; i < m; i++) std::copy(b, b + n, dst + i * n);
    }
    gemm(false, true, m, n, k, 1.0f, x, w, b ? 1.0f : 0.0f, dst);
  }
  if (op != DN_U_LINEAR) unary(op, m * n, dst, out, p);
  else if (dst != out) std::copy(dst, dst + m * n, out);
}

}  // namespace dn
