// 2-D convolution through oneDNN primitives.
//
// Creating a primitive costs about as much as running it (0.05–0.6 ms here; the first one in a
// process several ms), so each (direction, geometry, bias) gets its primitive built once per
// thread and kept, together with the reorders between the caller's NCHW/OIHW buffers and the
// blocked layouts (nChw16c, ...) that oneDNN's fastest kernels pick with format `any`, the
// blocked scratch tensors and the primitive's scratchpad. Big convolutions are split by images
// into independent chunks for the helper threads (threads.cc); the weight gradient sums the
// chunks' partial gradients in chunk order, so results do not depend on which thread ran what. Measured here (batch 64, W-CNN layers): the blocked JIT kernels plus
// reorders run 2–5× faster than oneDNN on plain NCHW (its im2col+GEMM path), except the
// backward-data pass of a layer with very few input channels, where the plain path is 4× faster
// than the blocked JIT kernel — that case uses plain formats.
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include <unordered_map>
#include <vector>

#include "conv_prims.h"
#include "onednn.h"
#include "kernels.h"
#include "unary.h"

namespace dn {
namespace convp {

namespace {

using dnnl::algorithm;
using dnnl::engine;
using dnnl::primitive;
using dnnl::reorder;
using dnnl::stream;
using dt = memory::data_type;

// Below this many input channels the backward-data pass uses plain NCHW (see the header).
constexpr int64_t kPlainBwdDataChannels = 4;
// Cache bound: a workload uses a handful of shapes (each layer, full and last partial batch);
// past this many the cache is dropped and rebuilt, so memory stays bounded under shape churn.
constexpr size_t kMaxEntries = 64;

memory::desc plain_desc(const memory::dims& dims, tag t) {
  return memory::desc(dims, dt::f32, t);
}

// FNV-1a over a cache key's numbers.
template <size_t N>
struct ArrayHash {
  size_t operator()(const std::array<int64_t, N>& k) const {
    uint64_t h = 1469598103934665603ull;
    for (int64_t v : k) {
      h ^= static_cast<uint64_t>(v);
      h *= 1099511628211ull;
    }
    return static_cast<size_t>(h);
  }
};

using Key = std::array<int64_t, 18>;
using KeyHash = ArrayHash<18>;

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

dnnl::primitive_attr user_scratchpad(const PostOp& post = {}) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (post.relu) {
    dnnl::post_ops ops;
    // ReLU as clip(z, 0, ∞): +0 for z < 0, as the unary kernel gives (oneDNN's relu gives 0·z = −0)
    if (post.alpha == 0.0f) {
      ops.append_eltwise(1.0f, algorithm::eltwise_clip, 0.0f, std::numeric_limits<float>::infinity());
    } else {
      ops.append_eltwise(1.0f, algorithm::eltwise_relu, post.alpha, 0.0f);
    }
    attr.set_post_ops(ops);
  }
  return attr;
}

dnnl::convolution_forward::primitive_desc forward_pd(const Descs& d, bool bias, bool plain, engine& eng,
                                                     const PostOp& post = {}) {
  const tag act = plain ? tag::nchw : tag::any;
  const tag wt = plain ? tag::oihw : tag::any;
  memory::desc src(d.src, dt::f32, act), wei(d.wei, dt::f32, wt), dst(d.dst, dt::f32, act);
  if (bias) {
    memory::desc b(d.bias, dt::f32, tag::x);
    return {{dnnl::prop_kind::forward_training, algorithm::convolution_direct, src, wei, b, dst, d.strides,
             d.pad_l, d.pad_r},
            user_scratchpad(post), eng};
  }
  return {{dnnl::prop_kind::forward_training, algorithm::convolution_direct, src, wei, dst, d.strides, d.pad_l,
           d.pad_r},
          user_scratchpad(post), eng};
}

// The held layouts of one image of this geometry (the format is the same for any batch size:
// the batch is the outermost dimension of every layout considered).
using TagKey = std::array<int64_t, 12>;
using TagKeyHash = ArrayHash<12>;

tag tag_of(const memory::desc& d, const memory::dims& dims) {
  for (tag t : {tag::nchw, tag::nChw16c, tag::nChw8c}) {
    if (d == plain_desc(dims, t)) return t;
  }
  return tag::undef;
}

}  // namespace

PostOp post_op_of(int op, double param) {
  PostOp p;
  if (op == DN_U_RELU || op == DN_U_LEAKY_RELU) {
    p.relu = true;
    p.alpha = op == DN_U_RELU ? 0.0f : static_cast<float>(param);
  }
  return p;
}

void Port::init(const memory::desc& held, const memory::desc& want, bool input, engine& eng, void* handle,
                bool own_inner) {
  user = memory(held, eng, handle);
  same = held == want;
  if (same) {
    inner = user;
    return;
  }
  bound = !own_inner;
  inner = own_inner ? memory(want, eng) : memory(want, eng, nullptr);
  conv = input ? reorder(user, inner) : reorder(inner, user);
}

void Port::in(const float* p, stream& s) {
  user.set_data_handle(const_cast<float*>(p));
  if (!same) conv.execute(s, user, inner);
}

void Port::out(stream& s) {
  if (!same) conv.execute(s, inner, user);
}

std::pair<tag, tag> held_tags(const ConvGeom& g) {
  thread_local std::unordered_map<TagKey, std::pair<tag, tag>, TagKeyHash> known;
  const TagKey key = {g.c, g.h, g.w, g.k, g.kh, g.kw, g.sh, g.sw, g.pad_top, g.pad_left, g.oh, g.ow};
  auto it = known.find(key);
  if (it != known.end()) return it->second;
  pin_openmp();
  ConvGeom one = g;
  one.n = 1;
  const Descs d = dims_of(one);
  auto pd = forward_pd(d, false, false, onednn().eng);
  const std::pair<tag, tag> tags{tag_of(pd.src_desc(), d.src), tag_of(pd.dst_desc(), d.dst)};
  if (known.size() >= kMaxEntries) known.clear();
  known.emplace(key, tags);
  return tags;
}

Entry& lookup(Dir dir, const ConvGeom& g, bool bias, const PostOp& post, Held held) {
  pin_openmp();  // create and run under one OpenMP thread
  int32_t alpha_bits;
  std::memcpy(&alpha_bits, &post.alpha, sizeof alpha_bits);
  Key key = {dir, g.n, g.c, g.h, g.w, g.k, g.kh, g.kw, g.sh, g.sw, g.pad_top, g.pad_left, g.oh, g.ow,
             bias ? 1 : 0, post.relu ? 1 : 0, alpha_bits, static_cast<int64_t>(held)};
  Cache& c = cache();
  auto it = c.find(key);
  if (it != c.end()) return *it->second;
  if (c.size() >= kMaxEntries) c.clear();

  engine& eng = onednn().eng;
  const Descs d = dims_of(g);
  const memory::desc src_p = plain_desc(d.src, tag::nchw), wei_p = plain_desc(d.wei, tag::oihw),
                     dst_p = plain_desc(d.dst, tag::nchw), bias_p = plain_desc(d.bias, tag::x);
  // the activations' layouts as the caller holds them
  memory::desc src_h = src_p, dst_h = dst_p;
  if (held == Held::Blocked) {
    const auto [st, dt_] = held_tags(g);
    src_h = plain_desc(d.src, st);
    dst_h = plain_desc(d.dst, dt_);
  }
  auto e = std::make_unique<Entry>();
  e->has_bias = bias;
  if (dir == FWD) {
    auto pd = forward_pd(d, bias, false, eng, post);
    e->prim = dnnl::convolution_forward(pd);
    // held blocked: the source reorder lands in the caller's blocked copy of x (kept for bwd filter)
    const bool into_caller = held == Held::Blocked && pd.src_desc() == src_h && src_h != src_p;
    e->a.init(src_p, pd.src_desc(), true, eng, nullptr, !into_caller);
    e->b.init(wei_p, pd.weights_desc(), true, eng, nullptr);
    e->out.init(dst_h, pd.dst_desc(), false, eng, nullptr);
    e->args = {{DNNL_ARG_SRC, e->a.inner}, {DNNL_ARG_WEIGHTS, e->b.inner}, {DNNL_ARG_DST, e->out.inner}};
    if (bias) {
      e->bias = memory(bias_p, eng, nullptr);
      e->args.emplace(DNNL_ARG_BIAS, e->bias);
    }
    e->scratchpad = memory(pd.scratchpad_desc(), eng);
  } else if (dir == BWD_DATA) {
    const bool plain = g.c < kPlainBwdDataChannels;
    auto hint = forward_pd(d, false, plain, eng);
    const tag act = plain ? tag::nchw : tag::any;
    const tag wt = plain ? tag::oihw : tag::any;
    memory::desc src(d.src, dt::f32, act), wei(d.wei, dt::f32, wt), dst(d.dst, dt::f32, act);
    dnnl::convolution_backward_data::primitive_desc pd(
        {algorithm::convolution_direct, src, wei, dst, d.strides, d.pad_l, d.pad_r}, user_scratchpad(), eng, hint);
    e->prim = dnnl::convolution_backward_data(pd);
    e->a.init(dst_h, pd.diff_dst_desc(), true, eng, nullptr);
    e->b.init(wei_p, pd.weights_desc(), true, eng, nullptr);
    e->out.init(src_p, pd.diff_src_desc(), false, eng, nullptr);
    e->args = {{DNNL_ARG_DIFF_DST, e->a.inner}, {DNNL_ARG_WEIGHTS, e->b.inner}, {DNNL_ARG_DIFF_SRC, e->out.inner}};
    e->scratchpad = memory(pd.scratchpad_desc(), eng);
  } else {
    auto hint = forward_pd(d, bias, false, eng);
    memory::desc src(d.src, dt::f32, tag::any), wei(d.wei, dt::f32, tag::any), dst(d.dst, dt::f32, tag::any);
    auto pd = bias ? dnnl::convolution_backward_weights::primitive_desc(
                         {algorithm::convolution_direct, src, wei, bias_p, dst, d.strides, d.pad_l, d.pad_r},
                         user_scratchpad(), eng, hint)
                   : dnnl::convolution_backward_weights::primitive_desc(
                         {algorithm::convolution_direct, src, wei, dst, d.strides, d.pad_l, d.pad_r},
                         user_scratchpad(), eng, hint);
    e->prim = dnnl::convolution_backward_weights(pd);
    e->a.init(src_h, pd.src_desc(), true, eng, nullptr);
    e->b.init(dst_h, pd.diff_dst_desc(), true, eng, nullptr);
    e->dw_tmp.assign(static_cast<size_t>(g.k * g.c * g.kh * g.kw), 0.0f);
    e->out.init(wei_p, pd.diff_weights_desc(), false, eng, e->dw_tmp.data());
    e->args = {{DNNL_ARG_SRC, e->a.inner}, {DNNL_ARG_DIFF_DST, e->b.inner}, {DNNL_ARG_DIFF_WEIGHTS, e->out.inner}};
    if (bias) {
      e->db_tmp.assign(static_cast<size_t>(g.k), 0.0f);
      e->bias = memory(bias_p, eng, e->db_tmp.data());
      e->args.emplace(DNNL_ARG_DIFF_BIAS, e->bias);
    }
    e->scratchpad = memory(pd.scratchpad_desc(), eng);
  }
  e->args.emplace(DNNL_ARG_SCRATCHPAD, e->scratchpad);
  Entry& ref = *e;
  c.emplace(key, std::move(e));
  return ref;
}

std::pair<int, int64_t> image_chunks(const ConvGeom& g) {
  if (g.n < 2 || !worth_parallel(conv_flops(g))) return {1, g.n};
  const int64_t want = std::min<int64_t>(g.n, max_threads());
  const int64_t per = (g.n + want - 1) / want;
  return {static_cast<int>((g.n + per - 1) / per), per};
}

ConvGeom sub_batch(const ConvGeom& g, int64_t n0, int64_t per) {
  ConvGeom s = g;
  s.n = std::min(per, g.n - n0);
  return s;
}

namespace {

void add_into(float* dst, const float* src, size_t n) {
#pragma omp simd
  for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

}  // namespace

FilterParts::FilterParts(const ConvGeom& g, int chunks, bool bias)
    : nw_(static_cast<size_t>(g.k * g.c * g.kh * g.kw)), nb_(bias ? static_cast<size_t>(g.k) : 0),
      parts_(static_cast<size_t>(chunks) * (nw_ + nb_), 0.0f) {}

void FilterParts::add(int chunk, const Entry& e) {
  float* part = parts_.data() + static_cast<size_t>(chunk) * (nw_ + nb_);
  add_into(part, e.dw_tmp.data(), nw_);
  if (nb_) add_into(part + nw_, e.db_tmp.data(), nb_);
}

void FilterParts::sum_into(float* dw, float* db) const {
  for (size_t i = 0; i < parts_.size(); i += nw_ + nb_) {
    add_into(dw, parts_.data() + i, nw_);
    if (nb_) add_into(db, parts_.data() + i + nw_, nb_);
  }
}

}  // namespace convp

namespace {

using namespace convp;
using dnnl::stream;

void forward_chunk(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y, int op,
                   double param) {
  const PostOp post = post_op_of(op, param);
  Entry& e = lookup(FWD, g, bias != nullptr, post);
  stream& s = onednn().strm;
  e.a.in(x, s);
  e.b.in(w, s);
  if (bias) e.bias.set_data_handle(const_cast<float*>(bias));
  e.out.bind_out(y);
  e.prim.execute(s, e.args);
  e.out.out(s);
  s.wait();
}

void backward_data_chunk(const ConvGeom& g, const float* dy, const float* w, float* dx) {
  Entry& e = lookup(BWD_DATA, g, false);
  stream& s = onednn().strm;
  e.a.in(dy, s);
  e.b.in(w, s);
  e.out.bind_out(dx);
  e.prim.execute(s, e.args);
  e.out.out(s);
  s.wait();
}

// Runs the weight gradient of one chunk; the result is in the returned entry's dw_tmp/db_tmp.
Entry& backward_filter_chunk(const ConvGeom& g, const float* x, const float* dy, bool bias) {
  Entry& e = lookup(BWD_FILTER, g, bias);
  stream& s = onednn().strm;
  e.a.in(x, s);
  e.b.in(dy, s);
  e.prim.execute(s, e.args);
  e.out.out(s);
  s.wait();
  return e;
}

}  // namespace

void conv2d_act(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y, int op,
                double param) {
  const SignalBlock no_signals;  // see kernels.h
  const auto [chunks, per] = image_chunks(g);
  if (chunks == 1) {
    forward_chunk(g, x, w, bias, y, op, param);
  } else {
    parallel_for(chunks, [&](int i) {
      const int64_t n0 = i * per;
      forward_chunk(sub_batch(g, n0, per), x + n0 * g.c * g.h * g.w, w, bias, y + n0 * g.k * g.oh * g.ow, op,
                    param);
    });
  }
  // (the unary kernel threads itself, so it runs after the chunks, not inside them)
  if (!post_op_of(op, param).relu && op != DN_U_LINEAR) unary(op, g.n * g.k * g.oh * g.ow, y, y, param);
}

void conv2d_backward_data(const ConvGeom& g, const float* dy, const float* w, float* dx) {
  const SignalBlock no_signals;  // see kernels.h
  const auto [chunks, per] = image_chunks(g);
  if (chunks == 1) return backward_data_chunk(g, dy, w, dx);
  parallel_for(chunks, [&](int i) {
    const int64_t n0 = i * per;
    backward_data_chunk(sub_batch(g, n0, per), dy + n0 * g.k * g.oh * g.ow, w, dx + n0 * g.c * g.h * g.w);
  });
}

void conv2d_backward_filter(const ConvGeom& g, const float* x, const float* dy, float* dw, float* db) {
  const SignalBlock no_signals;  // see kernels.h
  const auto [chunks, per] = image_chunks(g);
  FilterParts parts(g, chunks, db != nullptr);
  auto run = [&](int i) {
    const int64_t n0 = i * per;
    parts.add(i, backward_filter_chunk(sub_batch(g, n0, per), x + n0 * g.c * g.h * g.w, dy + n0 * g.k * g.oh * g.ow,
                                       db != nullptr));
  };
  if (chunks == 1) run(0);
  else parallel_for(chunks, run);
  parts.sum_into(dw, db);
}

int64_t conv_cache_size() {
  return static_cast<int64_t>(convp::cache().size());
}

}  // namespace dn
