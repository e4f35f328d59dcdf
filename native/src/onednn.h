// This thread's oneDNN CPU engine and stream: every primitive (convolutions, the packed matmul,
// reorders) is created and run on the calling thread's own, under its one-thread OpenMP team
// (see threads.cc).
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

namespace dn {

struct Onednn {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
};

inline Onednn& onednn() {
  thread_local Onednn c;
  return c;
}

}  // namespace dn
