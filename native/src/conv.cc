// 2-D convolution through oneDNN primitives.
//
// Creating a primitive costs about as much as running it (0.05–0.6 ms here; the first one in a
// process several ms), so each (direction, geometry, bias, team size) gets its primitive built
// once and kept, together with the reorders between the caller's NCHW/OIHW buffers and the
// blocked layouts (nChw16c, ...) that oneDNN's fastest kernels pick with format `any`, and the
// blocked scratch tensors. Measured here (batch 64, W-CNN layers): the blocked JIT kernels plus
// reorders run 2–5× faster than oneDNN on plain NCHW (its im2col+GEMM path), except the
// backward-data pass of a layer with very few input channels, where the plain path is 4× faster
// than the blocked JIT kernel — that case uses plain formats.
#include <oneapi/dnnl/dnnl.hpp>

#include <array>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "kernels.h"

namespace dn {

namespace {

using dnnl::algorithm;
using dnnl::engine;
using dnnl::memory;
using dnnl::primitive;
using dnnl::reorder;
using dnnl::stream;
using tag = memory::format_tag;
using dt = memory::data_type;

// Below this many input channels the backward-data pass uses plain NCHW (see the header).
constexpr int64_t kPlainBwdDataChannels = 4;
// Cache bound: a workload uses a handful of shapes (each layer, full and last partial batch);
// past this many the cache is dropped and rebuilt, so memory stays bounded under shape churn.
constexpr size_t kMaxEntries = 64;

struct Ctx {
  engine eng{engine::kind::cpu, 0};
  stream strm{eng};
};

Ctx& ctx() {
  thread_local Ctx c;
  return c;
}

// A tensor as the caller holds it (plain layout, data handle set per call) and as the primitive
// wants it; when the layouts differ, a scratch tensor in the primitive's layout and a reorder.
struct Port {
  memory user;
  memory inner;
  bool same = true;
  reorder conv;  // user → inner for inputs, inner → user for outputs

  void init(const memory::desc& plain, const memory::desc& want, bool input, engine& eng, void* handle) {
    user = memory(plain, eng, handle);
    same = plain == want;
    if (same) {
      inner = user;
      return;
    }
    inner = memory(want, eng);
    conv = input ? reorder(user, inner) : reorder(inner, user);
  }
  // For an input: bind the caller's buffer and bring it into the primitive's layout.
  void in(const float* p, stream& s) {
    user.set_data_handle(const_cast<float*>(p));
    if (!same) conv.execute(s, user, inner);
  }
  // For an output: bind the caller's buffer before the primitive runs, call out() after.
  void bind_out(float* p) {
    user.set_data_handle(p);
  }
  void out(stream& s) {
    if (!same) conv.execute(s, inner, user);
  }
};

enum Dir : int64_t { FWD = 0, BWD_DATA = 1, BWD_FILTER = 2 };

using Key = std::array<int64_t, 16>;

struct KeyHash {
  size_t operator()(const Key& k) const {
    uint64_t h = 1469598103934665603ull;
    for (int64_t v : k) {
      h ^= static_cast<uint64_t>(v);
      h *= 1099511628211ull;
    }
    return static_cast<size_t>(h);
  }
};

struct Entry {
  primitive prim;
  Port a, b, out;          // fwd: src, weights, dst; bwd data: diff_dst, weights, diff_src;
                           // bwd filter: src, diff_dst, diff_weights
  memory bias;             // fwd: bias (plain); bwd filter: diff bias into db_tmp
  bool has_bias = false;
  std::vector<float> dw_tmp, db_tmp;  // bwd filter results, added into the caller's dw/db
  std::unordered_map<int, memory> args;  // the primitive's arguments (handles set per call)
};

using Cache = std::unordered_map<Key, std::unique_ptr<Entry>, KeyHash>;

Cache& cache() {
  thread_local Cache c;
  return c;
}

struct Descs {
  memory::dims src, wei, dst, bias, strides, pad_l, pad_r;
};

Descs dims_of(const ConvGeom& g) {
  Descs d;
  d.src = {g.n, g.c, g.h, g.w};
  d.wei = {g.k, g.c, g.kh, g.kw};
  d.dst = {g.n, g.k, g.oh, g.ow};
  d.bias = {g.k};
  d.strides = {g.sh, g.sw};
  d.pad_l = {g.pad_top, g.pad_left};
  // the bottom/right padding that makes oneDNN's output size come out as (oh, ow)
  d.pad_r = {(g.oh - 1) * g.sh + g.kh - g.h - g.pad_top, (g.ow - 1) * g.sw + g.kw - g.w - g.pad_left};
  return d;
}

double conv_flops(const ConvGeom& g) {
  return 2.0 * static_cast<double>(g.n) * static_cast<double>(g.k) * static_cast<double>(g.oh * g.ow) *
         static_cast<double>(g.c * g.kh * g.kw);
}

dnnl::convolution_forward::primitive_desc forward_pd(const Descs& d, bool bias, bool plain, engine& eng) {
  const tag act = plain ? tag::nchw : tag::any;
  const tag wt = plain ? tag::oihw : tag::any;
  memory::desc src(d.src, dt::f32, act), wei(d.wei, dt::f32, wt), dst(d.dst, dt::f32, act);
  if (bias) {
    memory::desc b(d.bias, dt::f32, tag::x);
    return {{dnnl::prop_kind::forward_training, algorithm::convolution_direct, src, wei, b, dst, d.strides,
             d.pad_l, d.pad_r},
            eng};
  }
  return {{dnnl::prop_kind::forward_training, algorithm::convolution_direct, src, wei, dst, d.strides, d.pad_l,
           d.pad_r},
          eng};
}

Entry& lookup(Dir dir, const ConvGeom& g, bool bias, int threads) {
  Key key = {dir, g.n, g.c, g.h, g.w, g.k, g.kh, g.kw, g.sh, g.sw, g.pad_top, g.pad_left, g.oh, g.ow,
             bias ? 1 : 0, threads};
  Cache& c = cache();
  auto it = c.find(key);
  if (it != c.end()) return *it->second;
  if (c.size() >= kMaxEntries) c.clear();

  engine& eng = ctx().eng;
  const Descs d = dims_of(g);
  const memory::desc src_p(d.src, dt::f32, tag::nchw), wei_p(d.wei, dt::f32, tag::oihw),
      dst_p(d.dst, dt::f32, tag::nchw), bias_p(d.bias, dt::f32, tag::x);
  auto e = std::make_unique<Entry>();
  e->has_bias = bias;
  if (dir == FWD) {
    auto pd = forward_pd(d, bias, false, eng);
    e->prim = dnnl::convolution_forward(pd);
    e->a.init(src_p, pd.src_desc(), true, eng, nullptr);
    e->b.init(wei_p, pd.weights_desc(), true, eng, nullptr);
    e->out.init(dst_p, pd.dst_desc(), false, eng, nullptr);
    e->args = {{DNNL_ARG_SRC, e->a.inner}, {DNNL_ARG_WEIGHTS, e->b.inner}, {DNNL_ARG_DST, e->out.inner}};
    if (bias) {
      e->bias = memory(bias_p, eng, nullptr);
      e->args.emplace(DNNL_ARG_BIAS, e->bias);
    }
  } else if (dir == BWD_DATA) {
    const bool plain = g.c < kPlainBwdDataChannels;
    auto hint = forward_pd(d, false, plain, eng);
    const tag act = plain ? tag::nchw : tag::any;
    const tag wt = plain ? tag::oihw : tag::any;
    memory::desc src(d.src, dt::f32, act), wei(d.wei, dt::f32, wt), dst(d.dst, dt::f32, act);
    dnnl::convolution_backward_data::primitive_desc pd(
        {algorithm::convolution_direct, src, wei, dst, d.strides, d.pad_l, d.pad_r}, eng, hint);
    e->prim = dnnl::convolution_backward_data(pd);
    e->a.init(dst_p, pd.diff_dst_desc(), true, eng, nullptr);
    e->b.init(wei_p, pd.weights_desc(), true, eng, nullptr);
    e->out.init(src_p, pd.diff_src_desc(), false, eng, nullptr);
    e->args = {{DNNL_ARG_DIFF_DST, e->a.inner}, {DNNL_ARG_WEIGHTS, e->b.inner}, {DNNL_ARG_DIFF_SRC, e->out.inner}};
  } else {
    auto hint = forward_pd(d, bias, false, eng);
    memory::desc src(d.src, dt::f32, tag::any), wei(d.wei, dt::f32, tag::any), dst(d.dst, dt::f32, tag::any);
    auto pd = bias ? dnnl::convolution_backward_weights::primitive_desc(
                         {algorithm::convolution_direct, src, wei, bias_p, dst, d.strides, d.pad_l, d.pad_r},
                         eng, hint)
                   : dnnl::convolution_backward_weights::primitive_desc(
                         {algorithm::convolution_direct, src, wei, dst, d.strides, d.pad_l, d.pad_r}, eng, hint);
    e->prim = dnnl::convolution_backward_weights(pd);
    e->a.init(src_p, pd.src_desc(), true, eng, nullptr);
    e->b.init(dst_p, pd.diff_dst_desc(), true, eng, nullptr);
    e->dw_tmp.assign(static_cast<size_t>(g.k * g.c * g.kh * g.kw), 0.0f);
    e->out.init(wei_p, pd.diff_weights_desc(), false, eng, e->dw_tmp.data());
    e->args = {{DNNL_ARG_SRC, e->a.inner}, {DNNL_ARG_DIFF_DST, e->b.inner}, {DNNL_ARG_DIFF_WEIGHTS, e->out.inner}};
    if (bias) {
      e->db_tmp.assign(static_cast<size_t>(g.k), 0.0f);
      e->bias = memory(bias_p, eng, e->db_tmp.data());
      e->args.emplace(DNNL_ARG_DIFF_BIAS, e->bias);
    }
  }
  Entry& ref = *e;
  c.emplace(key, std::move(e));
  return ref;
}

}  // namespace

void conv2d(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y) {
  const int threads = threads_for(conv_flops(g));
  Entry& e = lookup(FWD, g, bias != nullptr, threads);
  stream& s = ctx().strm;
  e.a.in(x, s);
  e.b.in(w, s);
  if (bias) e.bias.set_data_handle(const_cast<float*>(bias));
  e.out.bind_out(y);
  e.prim.execute(s, e.args);
  e.out.out(s);
  s.wait();
}

void conv2d_backward_data(const ConvGeom& g, const float* dy, const float* w, float* dx) {
  const int threads = threads_for(conv_flops(g));
  Entry& e = lookup(BWD_DATA, g, false, threads);
  stream& s = ctx().strm;
  e.a.in(dy, s);
  e.b.in(w, s);
  e.out.bind_out(dx);
  e.prim.execute(s, e.args);
  e.out.out(s);
  s.wait();
}

void conv2d_backward_filter(const ConvGeom& g, const float* x, const float* dy, float* dw, float* db) {
  const int threads = threads_for(conv_flops(g));
  Entry& e = lookup(BWD_FILTER, g, db != nullptr, threads);
  stream& s = ctx().strm;
  e.a.in(x, s);
  e.b.in(dy, s);
  e.prim.execute(s, e.args);
  e.out.out(s);
  s.wait();
  // oneDNN overwrites its outputs; the interface adds into dw and db
  const int64_t nw = static_cast<int64_t>(e.dw_tmp.size());
  const float* tw = e.dw_tmp.data();
#pragma omp simd
  for (int64_t i = 0; i < nw; i++) dw[i] += tw[i];
  if (db) {
    const float* tb = e.db_tmp.data();
    for (int64_t i = 0; i < g.k; i++) db[i] += tb[i];
  }
}

int64_t conv_cache_size() {
  return static_cast<int64_t>(cache().size());
}

void conv_cache_clear() {
  cache().clear();
}

}  // namespace dn
