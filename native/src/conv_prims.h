// The oneDNN convolution primitives of conv.cc as conv_pool.cc needs them too: the per-thread
// cache of primitives with their reorders ("ports") between the layout the caller holds and the
// one the primitive runs on, and the split of a batch into image chunks for the helper threads.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kernels.h"

namespace dn {
namespace convp {

using dnnl::memory;
using tag = memory::format_tag;

// A tensor as the caller holds it (data handle set per call) and as the primitive wants it; when
// the layouts differ, a tensor in the primitive's layout (its own scratch, or a buffer the caller
// binds with set_inner) and a reorder.
struct Port {
  memory user;
  memory inner;
  bool same = true;
  bool bound = false;  // the primitive-layout tensor is the caller's (set_inner), not the port's
  dnnl::reorder conv;  // user → inner for inputs, inner → user for outputs

  // `own_inner`: the port allocates the primitive-layout tensor; otherwise the caller binds one
  // per call (set_inner) before in().
  void init(const memory::desc& held, const memory::desc& want, bool input, dnnl::engine& eng, void* handle,
            bool own_inner = true);
  void set_inner(float* p) { inner.set_data_handle(p); }
  // For an input: bind the caller's buffer and bring it into the primitive's layout.
  void in(const float* p, dnnl::stream& s);
  // For an output: bind the caller's buffer before the primitive runs, call out() after.
  void bind_out(float* p) { user.set_data_handle(p); }
  void out(dnnl::stream& s);
};

enum Dir : int64_t { FWD = 0, BWD_DATA = 1, BWD_FILTER = 2 };

// Which layout the caller holds the activations in: plain NCHW, or (conv_pool.cc) the blocked
// layout the forward convolution writes its output in (see held_tags), kept through activation
// and pooling and their gradients so that no reorder runs in between.
enum class Held : int64_t { Plain = 0, Blocked = 1 };

// The activation a forward convolution applies to its output: oneDNN's ReLU post-op with its
// negative slope for relu and leakyRelu, or none (the others run the unary kernel afterwards).
struct PostOp {
  bool relu = false;
  float alpha = 0.0f;
};
PostOp post_op_of(int op, double param);

struct Entry {
  dnnl::primitive prim;
  Port a, b, out;          // fwd: src, weights, dst; bwd data: diff_dst, weights, diff_src;
                           // bwd filter: src, diff_dst, diff_weights
  memory bias;             // fwd: bias (plain); bwd filter: diff bias into db_tmp
  bool has_bias = false;
  std::vector<float> dw_tmp, db_tmp;  // bwd filter results, added into the caller's dw/db
  memory scratchpad;                  // the primitive's own (user-managed: entries never share)
  std::unordered_map<int, memory> args;  // the primitive's arguments (handles set per call)
};

// The format tags of the source and output activations that the forward convolution of this
// geometry picks (format `any`, no bias), for Held::Blocked; tag::undef where it is none of nchw,
// nChw16c, nChw8c.
std::pair<tag, tag> held_tags(const ConvGeom& g);

// The cached primitive of (direction, geometry, bias, post-op, held layout) on this thread.
// Held::Blocked: fwd writes its output and reads its source (unless plain) in held_tags' layouts,
// the source reorder landing in a buffer the caller binds (a.set_inner); bwd data reads diff_dst,
// bwd filter src and diff_dst in those layouts.
Entry& lookup(Dir dir, const ConvGeom& g, bool bias, const PostOp& post = {}, Held held = Held::Plain);

// Image chunks for a convolution: (chunk count, images per chunk), and chunk i's geometry.
std::pair<int, int64_t> image_chunks(const ConvGeom& g);
ConvGeom sub_batch(const ConvGeom& g, int64_t n0, int64_t per);

// The weight (and bias) gradient of a batch run in image chunks on several threads: each chunk's
// bwd filter results (an entry's dw_tmp/db_tmp, possibly of several passes) are added into the
// chunk's own part, and the parts into dw and db in chunk order, so results do not depend on which
// thread ran what.
class FilterParts {
 public:
  FilterParts(const ConvGeom& g, int chunks, bool bias);
  void add(int chunk, const Entry& e);
  void sum_into(float* dw, float* db) const;

 private:
  size_t nw_, nb_;
  std::vector<float> parts_;
};

}  // namespace convp
}  // namespace dn
