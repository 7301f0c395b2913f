#include "cli/parallel.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "cli/runner.h"
#include "cli/text.h"
#include "emu/limits.h"
#include "emu/errors.h"

namespace smpemu {

std::uint64_t parallel_for(std::uint64_t n, const ParallelOptions& opt,
                           const std::function<bool(std::uint64_t, StackPool&)>& body) {
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> stop{n};  // smallest index that asked to stop
  std::atomic<std::uint64_t> done{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mu;  // guards error, running
  std::condition_variable cv;
  unsigned running = 0;

  auto worker = [&] {
    try {
      StackPool pool;
      for (;;) {
        if (failed.load(std::memory_order_relaxed)) break;
        const std::uint64_t i = next.fetch_add(1, std::memory_order_relaxed);
        // i > stop, not >=: the stopping run itself has finished already.
        if (i >= n || i > stop.load(std::memory_order_acquire)) break;
        if (body(i, pool)) {
          std::uint64_t cur = stop.load(std::memory_order_relaxed);
          while (i < cur && !stop.compare_exchange_weak(cur, i, std::memory_order_acq_rel)) {
          }
        }
        done.fetch_add(1, std::memory_order_relaxed);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
      failed.store(true);
    }
    std::lock_guard<std::mutex> lock(mu);
    --running;
    cv.notify_all();
  };

  const unsigned jobs = opt.jobs == 0 ? 1 : opt.jobs;
  std::vector<std::thread> threads;
  threads.reserve(jobs);
  {
    std::lock_guard<std::mutex> lock(mu);
    running = jobs;
  }
  for (unsigned t = 0; t < jobs; ++t) threads.emplace_back(worker);
  {
    std::unique_lock<std::mutex> lock(mu);
    while (running > 0) {
      const auto interval = std::chrono::duration<double>(opt.progress_interval > 0 ? opt.progress_interval : 0.2);
      cv.wait_for(lock, interval, [&] { return running == 0; });
      if (opt.progress && running > 0) {
        const ParallelProgress p{done.load(), n, elapsed()};
        lock.unlock();
        opt.progress(p);
        lock.lock();
      }
    }
  }
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  if (opt.progress) opt.progress(ParallelProgress{done.load(), n, elapsed()});
  return stop.load();
}

unsigned default_jobs() {
  const unsigned h = std::thread::hardware_concurrency();
  return h == 0 ? 1 : static_cast<unsigned>(std::min<std::uint64_t>(h, limits::kJobs));
}

unsigned parse_jobs(const std::string& s) {
  return static_cast<unsigned>(parse_count("--jobs", s, 1, limits::kJobs));
}

ProgressLine::ProgressLine() : enabled_(::isatty(STDERR_FILENO) == 1) {}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(const std::string& text) {
  if (!enabled_) return;
  // "\033[K" clears what a longer previous line left behind.
  std::fprintf(stderr, "\r%s\033[K", text.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void ProgressLine::finish() {
  if (!enabled_ || !shown_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace smpemu
