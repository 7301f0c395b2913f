// Pool of fiber stacks.
//
// Every emulated task (and every CPU's idle task) runs on a Fiber (emu/fiber.h) whose
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

namespace smpemu {

class StackPool {
 public:
  /// One stack: `size` usable bytes below `sp` (stacks grow down).
  struct Stack {
    void* sp = nullptr;
    std::size_t size = 0;
  };

  /// `usable_size` bytes of stack per fiber (rounded up to whole pages).
  explicit StackPool(std::size_t usable_size = 256 * 1024);
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  Stack allocate();
  void deallocate(const Stack& s);

  std::size_t usable_size() const { return usable_; }
  /// Number of stacks mapped so far (in use + free).
  std::size_t mapped() const { return mapped_; }

 private:
  std::size_t usable_;
  std::size_t guard_;
  std::size_t mapped_ = 0;
  std::vector<void*> free_;  // base addresses (lowest byte, guard included)
};

}  // namespace smpemu
