// Pooling on NCHW planes. The interface wants, per max-pool output, the flat input index of the
// (first) maximum, which oneDNN's workspace does not give, and NCHW in and out; pooling is a
// memory-bound pass, so these loops (with a vectorised fast path for the common 2×2 window with
// stride 2) beat oneDNN plus the reorders to its blocked layout (see native/README.md). Measured
// again (single thread, batch 64, W-CNN's 16×24×24 maps, a C++ probe): oneDNN's max pooling on
// NCHW takes 172 / 186 µs forward / backward, these loops 58 / 104 µs; on the blocked nChw16c
// layout oneDNN takes 56 / 77 µs, which would only pay if the activations stayed blocked between
// the layers — which conv_pool.cc does for a convolution followed by pooling, with loops of its own
// on the blocked layout. A backward that writes each input of a 2×2 window once (no zeroing pass, no
// scatter) came out 3–15× slower in every branch-free form tried (GCC 12 turns the selects into
// masked scatters or blends over gathers), so the memset + scatter stays.
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels.h"

namespace dn {

namespace {

// Whether every window lies fully inside the plane (no clipping at the bottom/right edge).
inline bool full_windows(const PoolGeom& g) {
  return (g.oh - 1) * g.sh + g.ph <= g.h && (g.ow - 1) * g.sw + g.pw <= g.w;
}

inline bool is_2x2s2(const PoolGeom& g) {
  return g.ph == 2 && g.pw == 2 && g.sh == 2 && g.sw == 2 && full_windows(g);
}

// Planes (image × channel) are independent: big inputs are split into one range of planes per
// thread.
constexpr int64_t kParallelItems = int64_t{1} << 16;

template <class F>
void over_planes(const PoolGeom& g, F fn) {
  parallel_range(g.n * g.c, (kParallelItems + g.h * g.w - 1) / (g.h * g.w > 0 ? g.h * g.w : 1), fn, 1);
}

void max_pool_planes(const PoolGeom& g, int64_t p0, int64_t p1, const float* x, float* y, int32_t* argmax) {
  const int64_t in_plane = g.h * g.w;
  const int64_t out_plane = g.oh * g.ow;
  if (is_2x2s2(g)) {
    for (int64_t p = p0; p < p1; p++) {
      const int64_t base = p * in_plane;
      for (int64_t oy = 0; oy < g.oh; oy++) {
        const int64_t r0i = base + 2 * oy * g.w;
        const float* r0 = x + r0i;
        const float* r1 = r0 + g.w;
        float* yo = y + p * out_plane + oy * g.ow;
        int32_t* ao = argmax + p * out_plane + oy * g.ow;
        const int32_t wi = static_cast<int32_t>(g.w);
        const int32_t r0i32 = static_cast<int32_t>(r0i);
        // first maximum in window order (a, b, c, d), as the reference does
        auto window = [&](int64_t ox) {
          const float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
          float best = a;
          int32_t at = 0;
          if (b > best) { best = b; at = 1; }
          if (c > best) { best = c; at = wi; }
          if (d > best) { best = d; at = wi + 1; }
          yo[ox] = best;
          ao[ox] = r0i32 + 2 * static_cast<int32_t>(ox) + at;
        };
        // short rows (W-CNN: 12 outputs) run faster with 8-lane vectors (measured 73 vs 110 µs
        // for 64×16×24×24), long ones with the widest
        if (g.ow < 16) {
#pragma omp simd simdlen(8)
          for (int64_t ox = 0; ox < g.ow; ox++) window(ox);
        } else {
#pragma omp simd
          for (int64_t ox = 0; ox < g.ow; ox++) window(ox);
        }
      }
    }
    return;
  }
  for (int64_t p = p0; p < p1; p++) {
    const int64_t base = p * in_plane;
    for (int64_t oy = 0; oy < g.oh; oy++) {
      const int64_t y0 = oy * g.sh;
      for (int64_t ox = 0; ox < g.ow; ox++) {
        const int64_t x0 = ox * g.sw;
        float best = -std::numeric_limits<float>::infinity();
        int64_t at = -1;
        for (int64_t i = 0; i < g.ph && y0 + i < g.h; i++) {
          const int64_t row = base + (y0 + i) * g.w;
          for (int64_t j = 0; j < g.pw && x0 + j < g.w; j++) {
            const float v = x[row + x0 + j];
            if (v > best || at < 0) {
              best = v;
              at = row + x0 + j;
            }
          }
        }
        const int64_t o = p * out_plane + oy * g.ow + ox;
        y[o] = best;
        argmax[o] = static_cast<int32_t>(at);
      }
    }
  }
}

// dx = 0 over planes [p0, p1), then each dy added at its argmax (inside the same planes).
void max_pool_backward_planes(const PoolGeom& g, int64_t p0, int64_t p1, const float* dy, const int32_t* argmax,
                              float* dx) {
  const int64_t in_plane = g.h * g.w;
  const int64_t out_plane = g.oh * g.ow;
  std::memset(dx + p0 * in_plane, 0, static_cast<size_t>((p1 - p0) * in_plane) * sizeof(float));
  for (int64_t o = p0 * out_plane; o < p1 * out_plane; o++) dx[argmax[o]] += dy[o];
}

void avg_pool_planes(const PoolGeom& g, int64_t p0, int64_t p1, const float* x, float* y);
void avg_pool_backward_planes(const PoolGeom& g, int64_t p0, int64_t p1, const float* dy, float* dx);

}  // namespace

void max_pool(const PoolGeom& g, const float* x, float* y, int32_t* argmax) {
  over_planes(g, [&](int64_t p0, int64_t p1) { max_pool_planes(g, p0, p1, x, y, argmax); });
}

void max_pool_backward(const PoolGeom& g, const float* dy, const int32_t* argmax, float* dx, int64_t dx_len) {
  const int64_t planes = g.n * g.c;
  const int64_t in_plane = g.h * g.w;
  const int64_t out_plane = g.oh * g.ow;
  // every index must be inside dx; the split over planes also needs each inside its own plane
  // (true for maxPool's argmax); otherwise run as one range
  bool own_plane = true;
  for (int64_t p = 0; p < planes; p++) {
    const int64_t lo = p * in_plane, hi = lo + in_plane;
    int32_t outside = 0;
    const int32_t* ap = argmax + p * out_plane;
#pragma omp simd reduction(| : outside)
    for (int64_t o = 0; o < out_plane; o++) outside |= static_cast<int32_t>(ap[o] < lo || ap[o] >= hi);
    if (!outside) continue;
    own_plane = false;
    for (int64_t o = p * out_plane; o < (p + 1) * out_plane; o++) {
      if (argmax[o] < 0 || argmax[o] >= dx_len) {
        throw std::out_of_range("maxPoolBackward: argmax[" + std::to_string(o) + "] = " + std::to_string(argmax[o]) +
                                " is outside the input gradient (" + std::to_string(dx_len) + " elements)");
      }
    }
  }
  if (!own_plane) {
    max_pool_backward_planes(g, 0, planes, dy, argmax, dx);
    return;
  }
  over_planes(g, [&](int64_t p0, int64_t p1) { max_pool_backward_planes(g, p0, p1, dy, argmax, dx); });
}

void avg_pool(const PoolGeom& g, const float* x, float* y) {
  over_planes(g, [&](int64_t p0, int64_t p1) { avg_pool_planes(g, p0, p1, x, y); });
}

void avg_pool_backward(const PoolGeom& g, const float* dy, float* dx) {
  over_planes(g, [&](int64_t p0, int64_t p1) { avg_pool_backward_planes(g, p0, p1, dy, dx); });
}

namespace {

void avg_pool_planes(const PoolGeom& g, int64_t p0, int64_t p1, const float* x, float* y) {
  const int64_t in_plane = g.h * g.w;
  const int64_t out_plane = g.oh * g.ow;
  const float inv = 1.0f / static_cast<float>(g.ph * g.pw);
  if (is_2x2s2(g)) {
    for (int64_t p = p0; p < p1; p++) {
      for (int64_t oy = 0; oy < g.oh; oy++) {
        const float* r0 = x + p * in_plane + 2 * oy * g.w;
        const float* r1 = r0 + g.w;
        float* yo = y + p * out_plane + oy * g.ow;
#pragma omp simd
        for (int64_t ox = 0; ox < g.ow; ox++) {
          yo[ox] = (((r0[2 * ox] + r0[2 * ox + 1]) + r1[2 * ox]) + r1[2 * ox + 1]) * inv;
        }
      }
    }
    return;
  }
  for (int64_t p = p0; p < p1; p++) {
    const float* xp = x + p * in_plane;
    for (int64_t oy = 0; oy < g.oh; oy++) {
      const int64_t y0 = oy * g.sh;
      for (int64_t ox = 0; ox < g.ow; ox++) {
        const int64_t x0 = ox * g.sw;
        float s = 0.0f;
        for (int64_t i = 0; i < g.ph && y0 + i < g.h; i++) {
          const float* row = xp + (y0 + i) * g.w + x0;
          for (int64_t j = 0; j < g.pw && x0 + j < g.w; j++) s += row[j];
        }
        y[p * out_plane + oy * g.ow + ox] = s * inv;
      }
    }
  }
}

void avg_pool_backward_planes(const PoolGeom& g, int64_t p0, int64_t p1, const float* dy, float* dx) {
  const int64_t in_plane = g.h * g.w;
  const int64_t out_plane = g.oh * g.ow;
  const float inv = 1.0f / static_cast<float>(g.ph * g.pw);
  std::memset(dx + p0 * in_plane, 0, static_cast<size_t>((p1 - p0) * in_plane) * sizeof(float));
  if (is_2x2s2(g)) {
    for (int64_t p = p0; p < p1; p++) {
      for (int64_t oy = 0; oy < g.oh; oy++) {
        float* r0 = dx + p * in_plane + 2 * oy * g.w;
        float* r1 = r0 + g.w;
        const float* d = dy + p * out_plane + oy * g.ow;
#pragma omp simd
        for (int64_t ox = 0; ox < g.ow; ox++) {
          const float v = d[ox] * inv;
          r0[2 * ox] = v;
          r0[2 * ox + 1] = v;
          r1[2 * ox] = v;
          r1[2 * ox + 1] = v;
        }
      }
    }
    return;
  }
  for (int64_t p = p0; p < p1; p++) {
    float* xp = dx + p * in_plane;
    for (int64_t oy = 0; oy < g.oh; oy++) {
      const int64_t y0 = oy * g.sh;
      for (int64_t ox = 0; ox < g.ow; ox++) {
        const int64_t x0 = ox * g.sw;
        const float v = dy[p * out_plane + oy * g.ow + ox] * inv;
        for (int64_t i = 0; i < g.ph && y0 + i < g.h; i++) {
          float* row = xp + (y0 + i) * g.w + x0;
          for (int64_t j = 0; j < g.pw && x0 + j < g.w; j++) row[j] += v;
        }
      }
    }
  }
}

}  // namespace

}  // namespace dn
