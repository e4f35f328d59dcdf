// Convolution → activation → pooling with the activations kept in the blocked layout oneDNN's
// convolution writes (nChw16c here: 16 channels of one pixel side by side), so that nothing is
// reordered between the three: the convolution writes a (ReLU/leaky ReLU as its post-op, tanh and
// the logistic by the unary kernel on the chunk while it is in cache), the pooling reads a in that
// layout and writes the pooled output in NCHW (the layout every other op reads), and the backward
// pass turns the pooled gradient into δz = ∂E/∂a ⊙ f′(a) in the blocked layout, where both
// backward convolutions read it. The reorders left are the ones at the boundary: the input
// images into the blocked layout (kept for the weight gradient, so done once per step) and the
// input gradient out of it. Measured on W-CNN (batch 64, 2 threads): see native/README.md.
//
// Semantics are those of pool(conv2d_act(...)) with the plain kernels: max pooling keeps the first
// maximum of a window in row-major window order, average pooling divides by the window area.
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "conv_prims.h"
#include "kernels.h"
#include "onednn.h"
#include "unary.h"

namespace dn {

namespace {

using namespace convp;

struct Shape {
  int64_t block;     // channels per block of the held layout (16 or 8)
  int64_t src_block; // 1 when the source stays plain NCHW
  int64_t cb;        // channel blocks of the output
  int64_t a_image, x_image, idx_image;  // elements per image: a, the blocked x, the indices
};

int64_t block_of(tag t) {
  return t == tag::nChw16c ? 16 : (t == tag::nChw8c ? 8 : (t == tag::nchw ? 1 : 0));
}

Shape shape_of(const ConvGeom& g, const PoolGeom& p) {
  const auto [st, dt] = held_tags(g);
  Shape s{};
  s.block = block_of(dt);
  s.src_block = block_of(st);
  if (s.block < 8 || s.src_block == 0) return Shape{};
  s.cb = (g.k + s.block - 1) / s.block;
  s.a_image = s.cb * s.block * g.oh * g.ow;
  s.x_image = s.src_block == 1 ? 0 : (g.c + s.src_block - 1) / s.src_block * s.src_block * g.h * g.w;
  s.idx_image = s.cb * s.block * p.oh * p.ow;
  return s;
}

// Whether a forward entry writes the held layout directly and (for a blocked source) reorders
// the input into the caller's buffer.
bool fused_entry(const Entry& e, const Shape& s) {
  return e.out.same && (s.src_block == 1 ? e.a.same : e.a.bound);
}

// ---- pooling on the blocked layout, images [n0, n1) ----

// B floats (or int32) of one pixel's channel block, as one vector register where the machine has one.
template <int B>
struct Lanes {
  typedef float f __attribute__((vector_size(B * sizeof(float))));
  typedef int32_t i __attribute__((vector_size(B * sizeof(int32_t))));
};

template <class V>
inline V load(const void* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <int B>
void pool_forward(const ConvGeom& g, const PoolGeom& p, bool max, int64_t n0, int64_t n1, const float* a, float* y,
                  int32_t* idx) {
  using vf = typename Lanes<B>::f;
  using vi = typename Lanes<B>::i;
  const int64_t cbs = (g.k + B - 1) / B;
  const int64_t plane = g.oh * g.ow;
  const int64_t out_plane = p.oh * p.ow;
  const float inv = 1.0f / static_cast<float>(p.ph * p.pw);
  vi lane;
  for (int l = 0; l < B; l++) lane[l] = l;
  for (int64_t n = n0; n < n1; n++) {
    for (int64_t cb = 0; cb < cbs; cb++) {
      const int64_t base = (n * cbs + cb) * plane;
      const float* ap = a + base * B;
      const int64_t lanes = std::min<int64_t>(B, g.k - cb * B);
      float* yc = y + (n * g.k + cb * B) * out_plane;
      int32_t* ic = idx ? idx + (n * cbs + cb) * out_plane * B : nullptr;
      for (int64_t oy = 0; oy < p.oh; oy++) {
        const int64_t y0 = oy * p.sh;
        const int64_t wh = std::min(p.ph, g.oh - y0);
        for (int64_t ox = 0; ox < p.ow; ox++) {
          const int64_t x0 = ox * p.sw;
          const int64_t ww = std::min(p.pw, g.ow - x0);
          const int64_t c0 = y0 * g.ow + x0;
          vf acc = load<vf>(ap + c0 * B);
          const int64_t o = oy * p.ow + ox;
          if (max) {
            vi at = lane + static_cast<int32_t>((base + c0) * B);
            for (int64_t i = 0; i < wh; i++) {
              for (int64_t j = (i == 0 ? 1 : 0); j < ww; j++) {
                const int64_t c = (y0 + i) * g.ow + x0 + j;
                const vf v = load<vf>(ap + c * B);
                const vi gt = v > acc;
                acc = gt ? v : acc;
                at = gt ? lane + static_cast<int32_t>((base + c) * B) : at;
              }
            }
            std::memcpy(ic + o * B, &at, sizeof at);
          } else {
            for (int64_t i = 0; i < wh; i++) {
              for (int64_t j = (i == 0 ? 1 : 0); j < ww; j++) acc += load<vf>(ap + ((y0 + i) * g.ow + x0 + j) * B);
            }
            acc *= inv;
          }
          // each lane into its channel's plane (measured as fast as staging the block and
          // transposing it 16×16 in registers, while the maps are in cache)
          for (int64_t l = 0; l < lanes; l++) yc[l * out_plane + o] = acc[l];
        }
      }
    }
  }
}

// pool_backward when the windows tile the maps (stride = window): every cell belongs to one
// window at most, so each is written once — its window's share times f′(a), or zero — without a
// zeroing pass and a scatter over it (W-CNN's first layer, passes of 5 images: ~55 µs a pass
// against 65–100 µs for zeroing + scatter, on the loaded machine). Cells past
// the last window row or column are zeroed first.
template <int B, class D>
void pool_backward_tiled(const ConvGeom& g, const PoolGeom& p, bool max, D d, int64_t n0, int64_t n1,
                         const float* dy, const float* a, const int32_t* idx, float* dz) {
  const int64_t cbs = (g.k + B - 1) / B;
  const int64_t plane = g.oh * g.ow;
  const int64_t out_plane = p.oh * p.ow;
  if (p.oh * p.ph < g.oh || p.ow * p.pw < g.ow) {
    std::memset(dz + n0 * cbs * plane * B, 0, static_cast<size_t>((n1 - n0) * cbs * plane * B) * sizeof(float));
  }
  const float inv = 1.0f / static_cast<float>(p.ph * p.pw);
  // one (image, channel block) of dy in the blocked layout (a plain pointer: thread-local storage
  // in a shared library costs a call per access)
  thread_local std::vector<float> dy_blocked;
  dy_blocked.resize(static_cast<size_t>(out_plane * B));
  float* const dyb = dy_blocked.data();
  for (int64_t n = n0; n < n1; n++) {
    for (int64_t cb = 0; cb < cbs; cb++) {
      const int64_t lanes = std::min<int64_t>(B, g.k - cb * B);
      const float* dyc = dy + (n * g.k + cb * B) * out_plane;
      for (int64_t o = 0; o < out_plane; o++) {
        for (int64_t l = 0; l < B; l++) dyb[o * B + l] = l < lanes ? dyc[l * out_plane + o] : 0.0f;
      }
      const int64_t base = (n * cbs + cb) * plane;
      const int32_t* ic = max ? idx + (n * cbs + cb) * out_plane * B : nullptr;
      for (int64_t oy = 0; oy < p.oh; oy++) {
        for (int64_t ox = 0; ox < p.ow; ox++) {
          const int64_t o = oy * p.ow + ox;
          const float* dv = dyb + o * B;
          for (int64_t i = 0; i < p.ph; i++) {
            for (int64_t j = 0; j < p.pw; j++) {
              const int64_t cell = (base + (oy * p.ph + i) * g.ow + ox * p.pw + j) * B;
              const float* ac = a + cell;
              float* dc = dz + cell;
              if (max) {
                // (0 + dy: the sign of a zero as the zeroing pass and the scatter give it)
                const int32_t* at = ic + o * B;
                const int32_t c32 = static_cast<int32_t>(cell);
#pragma omp simd
                for (int l = 0; l < B; l++) dc[l] = at[l] == c32 + l ? (0.0f + dv[l]) * d(ac[l]) : 0.0f;
              } else {
#pragma omp simd
                for (int l = 0; l < B; l++) dc[l] = (dv[l] * inv) * d(ac[l]);
              }
            }
          }
        }
      }
    }
  }
}

// δz over images [n0, n1) from the pooled gradient dy (NCHW): zero, then each window's share
// (max: all of it at the saved index; average: dy / area at every cell), times f′(a) = d(a).
template <int B, class D>
void pool_backward(const ConvGeom& g, const PoolGeom& p, bool max, D d, int64_t n0, int64_t n1, const float* dy,
                   const float* a, const int32_t* idx, float* dz) {
  if (p.sh == p.ph && p.sw == p.pw) return pool_backward_tiled<B>(g, p, max, d, n0, n1, dy, a, idx, dz);
  const int64_t cbs = (g.k + B - 1) / B;
  const int64_t plane = g.oh * g.ow;
  const int64_t out_plane = p.oh * p.ow;
  const int64_t begin = n0 * cbs * plane * B, end = n1 * cbs * plane * B;
  std::memset(dz + begin, 0, static_cast<size_t>(end - begin) * sizeof(float));
  const float inv = 1.0f / static_cast<float>(p.ph * p.pw);
  for (int64_t n = n0; n < n1; n++) {
    for (int64_t cb = 0; cb < cbs; cb++) {
      const int64_t lanes = std::min<int64_t>(B, g.k - cb * B);
      const float* dyc = dy + (n * g.k + cb * B) * out_plane;
      const int64_t base = (n * cbs + cb) * plane;
      if (max) {
        const int32_t* ic = idx + (n * cbs + cb) * out_plane * B;
        for (int64_t o = 0; o < out_plane; o++) {
          for (int64_t l = 0; l < lanes; l++) {
            const int32_t i = ic[o * B + l];
            dz[i] += dyc[l * out_plane + o] * d(a[i]);
          }
        }
        continue;
      }
      for (int64_t oy = 0; oy < p.oh; oy++) {
        for (int64_t ox = 0; ox < p.ow; ox++) {
          const int64_t o = oy * p.ow + ox;
          float v[B];
          for (int l = 0; l < B; l++) v[l] = l < lanes ? dyc[l * out_plane + o] * inv : 0.0f;
          const int64_t y0 = oy * p.sh, x0 = ox * p.sw;
          for (int64_t i = 0; i < p.ph && y0 + i < g.oh; i++) {
            for (int64_t j = 0; j < p.pw && x0 + j < g.ow; j++) {
              float* dc = dz + (base + (y0 + i) * g.ow + x0 + j) * B;
#pragma omp simd
              for (int l = 0; l < B; l++) dc[l] += v[l];
            }
          }
        }
      }
    }
  }
  if (max) return;
#pragma omp simd
  for (int64_t i = begin; i < end; i++) dz[i] *= d(a[i]);
}

// pool_backward with ∂a/∂z from the output a alone for the convolution activation `op` (a > 0
// exactly where z > 0 for ReLU and leaky ReLU with α ≥ 0).
template <int B>
void pool_backward_op(const ConvGeom& g, const PoolGeom& p, bool max, int op, float pf, int64_t n0, int64_t n1,
                      const float* dy, const float* a, const int32_t* idx, float* dz) {
  auto run = [&](auto d) { pool_backward<B>(g, p, max, d, n0, n1, dy, a, idx, dz); };
  switch (op) {
    case DN_U_LINEAR: return run([](float) { return 1.0f; });
    case DN_U_RELU: return run([](float y) { return y > 0.0f ? 1.0f : 0.0f; });
    case DN_U_LEAKY_RELU: return run([pf](float y) { return y > 0.0f ? 1.0f : pf; });
    case DN_U_TANH: return run([](float y) { return (1.0f - y) * (1.0f + y); });
    case DN_U_LOGISTIC: return run([](float y) { return y * (1.0f - y); });
    default: throw std::invalid_argument("conv_pool_backward: the activation's derivative does not follow from its output");
  }
}

// Images per pass inside a chunk: as many as keep a pass's activations within this many bytes,
// so that the pooling (and backward, the convolutions) read them from the cache the convolution
// (the pooling) just wrote them into. Measured with a C++ probe (W-CNN's first layer, 64 images,
// 1 thread): the pooling loops took 127–134 µs over maps that had left the cache, 64–67 µs in
// passes of 5 images right after the maps were written.
constexpr int64_t kPassBytes = int64_t{192} << 10;

int64_t pass_images(const Shape& s) {
  return std::max<int64_t>(1, kPassBytes / (s.a_image * static_cast<int64_t>(sizeof(float))));
}

// Runs fn(first image, image count) over the passes of images [n0, n0 + count).
template <class F>
void passes(const Shape& s, int64_t n0, int64_t count, F fn) {
  const int64_t m = pass_images(s);
  for (int64_t b = n0; b < n0 + count; b += m) fn(b, std::min(m, n0 + count - b));
}

}  // namespace

ConvPoolPlan conv_pool_plan(const ConvGeom& g, const PoolGeom& p, bool bias, int op, double param) {
  const SignalBlock no_signals;  // see kernels.h
  const Shape s = shape_of(g, p);
  if (s.block == 0) return ConvPoolPlan{};
  const PostOp post = post_op_of(op, param);
  // a full pass and the last one (the layouts chosen do not depend on the batch size; checked anyway)
  const int64_t m = std::min(pass_images(s), g.n);
  for (int64_t n : {m, g.n % m}) {
    if (n > 0 && !fused_entry(lookup(FWD, sub_batch(g, 0, n), bias, post, Held::Blocked), s)) return ConvPoolPlan{};
  }
  return ConvPoolPlan{s.block, g.n * s.a_image, g.n * s.x_image, g.n * s.idx_image};
}

void conv_pool_forward(const ConvGeom& g, const PoolGeom& p, bool max, const float* x, const float* w,
                       const float* bias, int op, double param, float* y, float* a, int32_t* idx, float* xb) {
  const SignalBlock no_signals;  // see kernels.h
  const Shape s = shape_of(g, p);
  const PostOp post = post_op_of(op, param);
  const bool unary_after = !post.relu && op != DN_U_LINEAR;
  const auto [chunks, per] = image_chunks(g);
  auto run = [&](int i) {
    passes(s, i * per, std::min(per, g.n - i * per), [&](int64_t n0, int64_t cnt) {
      Entry& e = lookup(FWD, sub_batch(g, n0, cnt), bias != nullptr, post, Held::Blocked);
      if (!fused_entry(e, s)) throw std::logic_error("conv_pool_forward: the convolution's layout differs from its plan");
      dnnl::stream& st = onednn().strm;
      if (e.a.bound) e.a.set_inner(xb + n0 * s.x_image);
      e.a.in(x + n0 * g.c * g.h * g.w, st);
      e.b.in(w, st);
      if (bias) e.bias.set_data_handle(const_cast<float*>(bias));
      float* ac = a + n0 * s.a_image;
      e.out.bind_out(ac);
      e.prim.execute(st, e.args);
      st.wait();
      if (unary_after) unary_serial(op, cnt * s.a_image, ac, ac, param);
      if (s.block == 16) pool_forward<16>(g, p, max, n0, n0 + cnt, a, y, idx);
      else pool_forward<8>(g, p, max, n0, n0 + cnt, a, y, idx);
    });
  };
  if (chunks == 1) run(0);
  else parallel_for(chunks, run);
}

void conv_pool_backward(const ConvGeom& g, const PoolGeom& p, bool max, int op, double param, const float* dy,
                        const float* a, const int32_t* idx, const float* xin, const float* w, float* dz, float* dx,
                        float* dw, float* db) {
  const SignalBlock no_signals;  // see kernels.h
  const Shape s = shape_of(g, p);
  const float pf = static_cast<float>(param);
  const auto [chunks, per] = image_chunks(g);
  const int64_t x_image = s.src_block == 1 ? g.c * g.h * g.w : s.x_image;
  // each chunk's filter and bias gradients (its passes added in order), summed in chunk order after
  FilterParts parts(g, dw ? chunks : 0, db != nullptr);
  auto run = [&](int i) {
    passes(s, i * per, std::min(per, g.n - i * per), [&](int64_t n0, int64_t cnt) {
      const ConvGeom sg = sub_batch(g, n0, cnt);
      if (s.block == 16) pool_backward_op<16>(g, p, max, op, pf, n0, n0 + cnt, dy, a, idx, dz);
      else pool_backward_op<8>(g, p, max, op, pf, n0, n0 + cnt, dy, a, idx, dz);
      dnnl::stream& st = onednn().strm;
      if (dx) {
        Entry& e = lookup(BWD_DATA, sg, false, {}, Held::Blocked);
        e.a.in(dz + n0 * s.a_image, st);
        e.b.in(w, st);
        e.out.bind_out(dx + n0 * g.c * g.h * g.w);
        e.prim.execute(st, e.args);
        e.out.out(st);
        st.wait();
      }
      if (dw) {
        Entry& e = lookup(BWD_FILTER, sg, db != nullptr, {}, Held::Blocked);
        e.a.in(xin + n0 * x_image, st);
        e.b.in(dz + n0 * s.a_image, st);
        e.prim.execute(st, e.args);
        e.out.out(st);
        st.wait();
        parts.add(i, e);
      }
    });
  };
  if (chunks == 1) run(0);
  else parallel_for(chunks, run);
  if (dw) {
    parts.sum_into(dw, db);
  } else if (db) {
    // a bias gradient without the filters': Σ δz over images and positions, per channel
    const int64_t plane = g.oh * g.ow;
    for (int64_t n = 0; n < g.n; n++) {
      for (int64_t cb = 0; cb < s.cb; cb++) {
        const float* d = dz + (n * s.cb + cb) * plane * s.block;
        const int64_t lanes = std::min<int64_t>(s.block, g.k - cb * s.block);
        for (int64_t c = 0; c < plane; c++) {
          for (int64_t l = 0; l < lanes; l++) db[cb * s.block + l] += d[c * s.block + l];
        }
      }
    }
  }
}

}  // namespace dn
