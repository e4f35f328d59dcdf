// Intra-op parallelism with work stealing.
//
// oneDNN itself runs single-threaded here (its OpenMP team is set to 1). A big op is cut into a
// few independent chunks (GEMM: blocks of rows or columns of C; convolution: groups of images),
// and the calling thread and the helper threads take chunks from a shared counter until none are
// left. The caller never waits for a helper to wake up or be scheduled: if the helpers are busy or
// descheduled, it simply does every chunk itself. Measured on the 2-core project machine with
// another process busy on one core, oneDNN's own OpenMP team of 2 (static partitioning, barriers)
// took 10–50× longer than one thread per GEMM — each call waited for its second thread to get
// the CPU — while this scheme stays at the one-thread time; on an idle machine both reach ~1.7–2×.
// Ops below 0.3 MFLOP run on the calling thread alone (from there two threads pay even on small
// products: W-INFER's 1×784·784×256 GEMV, 0.4 MFLOP, takes the forward pass from ~20 to ~15 µs).
#include <omp.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define DN_PAUSE() _mm_pause()
#else
#define DN_PAUSE() ((void)0)
#endif

#include "kernels.h"

namespace dn {

namespace {

constexpr double kParallelFlops = 3.0e5;
// An idle helper first spins (pause instructions, ~50 µs), then yields its core for a while
// (sched_yield: if it shares a core with the caller, the caller runs), then sleeps. Long enough
// to stay awake across the gaps between the kernels of a training step, short enough not to take
// a core from anyone else.
constexpr int kSpins = 2000;
constexpr int kYields = 200;

// A job is a number of chunks and a function; `state` holds (job id << 32 | next chunk index), so
// claiming a chunk is one compare-and-swap that fails if the job changed in between. A new job is
// first published as "preparing" (index kPreparing, nobody claims), then its fields are written,
// then its index is set to 0. Whoever claims chunk i of job J runs it; J's function stays valid
// until all its chunks are done, which the caller waits for before returning.
struct Pool {
  std::vector<std::thread> helpers;
  std::atomic<uint64_t> state{0};
  std::atomic<const std::function<void(int)>*> fn{nullptr};
  std::atomic<int> chunks{0};
  std::atomic<int> done{0};
  std::atomic<int> sleepers{0};
  std::mutex sleep_mu;
  std::condition_variable wake;
  std::mutex err_mu;
  std::exception_ptr error;
  std::mutex job_mu;  // one job at a time (other callers run inline)

  // index of a job whose fields are being written: nobody may claim yet
  static constexpr uint32_t kPreparing = 0xFFFFFFFFu;
  static uint32_t job_of(uint64_t v) { return static_cast<uint32_t>(v >> 32); }

  void run_chunks(uint32_t job) {
    for (;;) {
      uint64_t v = state.load(std::memory_order_acquire);
      if (job_of(v) != job) return;
      const uint32_t idx = static_cast<uint32_t>(v & 0xFFFFFFFFu);
      if (idx == kPreparing) {
        DN_PAUSE();
        continue;
      }
      const int i = static_cast<int>(idx);
      if (i >= chunks.load(std::memory_order_acquire)) return;
      if (!state.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) continue;
      try {
        (*fn.load(std::memory_order_acquire))(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(err_mu);
        if (!error) error = std::current_exception();
      }
      done.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  void helper_main() {
    // helpers run oneDNN all the time and never need a signal: block them for good (signals
    // for the process go to other threads)
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    omp_set_num_threads(1);
    uint32_t last = job_of(state.load(std::memory_order_acquire));
    for (;;) {
      int spins = 0;
      while (job_of(state.load(std::memory_order_acquire)) == last) {
        ++spins;
        if (spins < kSpins) {
          DN_PAUSE();
          continue;
        }
        if (spins < kSpins + kYields) {
          std::this_thread::yield();
          continue;
        }
        std::unique_lock<std::mutex> lock(sleep_mu);
        sleepers.fetch_add(1, std::memory_order_seq_cst);
        wake.wait(lock, [&] { return job_of(state.load(std::memory_order_seq_cst)) != last; });
        sleepers.fetch_sub(1, std::memory_order_seq_cst);
        spins = 0;
      }
      last = job_of(state.load(std::memory_order_acquire));
      run_chunks(last);
    }
  }

  void ensure_helpers(int n) {
    while (static_cast<int>(helpers.size()) < n) {
      helpers.emplace_back([this] { helper_main(); });
      helpers.back().detach();
    }
  }
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: helpers are detached and live until exit
  return *p;
}

std::atomic<int> g_max{0};  // threads that may work on one op (0: not yet read)

}  // namespace

int max_threads() {
  int m = g_max.load(std::memory_order_relaxed);
  if (m == 0) {
    // OMP_NUM_THREADS (or the processor count) as read by OpenMP at load, before we pin its team
    // to 1 for oneDNN's own calls
    int n = omp_get_max_threads();
    m = n > 0 ? n : 1;
    g_max.store(m, std::memory_order_relaxed);
    omp_set_num_threads(1);
  }
  return m;
}

static_assert(sizeof(sigset_t) <= sizeof(unsigned long) * 16, "sigset_t larger than SignalBlock's storage");

SignalBlock::SignalBlock() {
  sigset_t all;
  sigfillset(&all);
  active_ = pthread_sigmask(SIG_BLOCK, &all, reinterpret_cast<sigset_t*>(old_)) == 0;
}

SignalBlock::~SignalBlock() {
  if (active_) pthread_sigmask(SIG_SETMASK, reinterpret_cast<sigset_t*>(old_), nullptr);
}

void pin_openmp() {
  thread_local bool pinned = false;
  if (!pinned) {
    max_threads();  // reads OpenMP's default team size before the first pin
    omp_set_num_threads(1);
    pinned = true;
  }
}

void set_max_threads(int n) {
  max_threads();  // make sure OpenMP is pinned to 1 first
  g_max.store(n > 0 ? n : 1, std::memory_order_relaxed);
}

bool worth_parallel(double flops) {
  return flops >= kParallelFlops && max_threads() > 1;
}

void parallel_for(int chunks, const std::function<void(int)>& fn) {
  const int threads = max_threads();
  if (chunks <= 1 || threads <= 1) {
    for (int c = 0; c < chunks; c++) fn(c);
    return;
  }
  Pool& p = pool();
  std::unique_lock<std::mutex> exclusive(p.job_mu, std::try_to_lock);
  if (!exclusive.owns_lock()) {
    // another thread (a worker_thread of Node) is using the helpers: run inline
    for (int c = 0; c < chunks; c++) fn(c);
    return;
  }
  p.ensure_helpers(threads - 1);
  const uint32_t job = Pool::job_of(p.state.load(std::memory_order_acquire)) + 1;
  // close the old job to claims before its fields change (a stale claim fails its CAS)
  p.state.store((static_cast<uint64_t>(job) << 32) | Pool::kPreparing, std::memory_order_seq_cst);
  p.error = nullptr;
  p.fn.store(&fn, std::memory_order_release);
  p.chunks.store(chunks, std::memory_order_release);
  p.done.store(0, std::memory_order_release);
  p.state.store(static_cast<uint64_t>(job) << 32, std::memory_order_seq_cst);
  if (p.sleepers.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(p.sleep_mu);
    p.wake.notify_all();
  }
  p.run_chunks(job);
  // chunks a helper took are being run right now; wait for them (yielding, in case the helper
  // waits for this core)
  for (int spins = 0; p.done.load(std::memory_order_acquire) < chunks; spins++) {
    if (spins < kSpins) DN_PAUSE();
    else std::this_thread::yield();
  }
  if (p.error) std::rethrow_exception(p.error);
}

}  // namespace dn
