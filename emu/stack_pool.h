// Pool of fiber stacks.
//
// Every emulated task (and every CPU's idle task) runs on a boost::context::fiber whose
// stack comes from here. Stacks are mmap'ed, returned to a free list when a fiber ends
// and reused, so a fuzz campaign that builds thousands of Machines does not pay for
// mmap/munmap per task. With SMPEMU_STACK_GUARD (on in Debug and sanitizer builds) the
// lowest page of each stack is PROT_NONE, so an overflow faults instead of corrupting
// a neighbour.
//
// Concurrency: not thread safe. A pool belongs to one Machine or to one host thread.
// Lifetime: the pool must outlive every fiber that uses it.
#pragma once

#include <cstddef>
#include <vector>

#include <boost/context/stack_context.hpp>

namespace smpemu {

class StackPool {
 public:
  /// `usable_size` bytes of stack per fiber (rounded up to whole pages).
  explicit StackPool(std::size_t usable_size = 256 * 1024);
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  boost::context::stack_context allocate();
  void deallocate(boost::context::stack_context& sctx);

  std::size_t usable_size() const { return usable_; }
  /// Number of stacks mapped so far (in use + free).
  std::size_t mapped() const { return mapped_; }

 private:
  std::size_t usable_;
  std::size_t guard_;
  std::size_t mapped_ = 0;
  std::vector<void*> free_;  // base addresses (lowest byte, guard included)
};

/// The StackAllocator concept boost::context::fiber expects, backed by a StackPool.
struct PooledStack {
  StackPool* pool;
  boost::context::stack_context allocate() { return pool->allocate(); }
  void deallocate(boost::context::stack_context& s) noexcept { pool->deallocate(s); }
};

}  // namespace smpemu
