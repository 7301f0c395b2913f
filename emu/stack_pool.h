// Pool of fiber stacks.
//
// Every emulated task (and every CPU's idle task) runs on a Fiber (emu/fiber.h) whose
// stack comes from here. Stacks are mmap'ed, returned to a free list when a fiber ends
// and reused, so a fuzz campaign that builds thousands of Machines does not pay for
// mmap/munmap per task. With SMPEMU_STACK_GUARD (on in Debug and sanitizer builds) the
// lowest page of each stack is PROT_NONE, so an overflow faults instead of corrupting
// a neighbour.
//
// Host limits: without guard pages, neighbouring stacks merge into few host mappings.
// With them each stack is two mappings, and Linux refuses mappings past
// vm.max_map_count (65530 by default): the pool reads that limit and refuses the stack
// that would come too close to it, as it refuses one the host cannot map, with a
// ConfigError (a one-line message, exit 2) that says what to change, not an abort.
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

  /// `usable_size` bytes of stack per fiber (rounded up to whole pages). `max_stacks`:
  /// at most that many mapped stacks (0: what the host allows, see above).
  explicit StackPool(std::size_t usable_size = 256 * 1024, std::size_t max_stacks = 0);
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  /// A stack from the free list, or a new mapping. Throws ConfigError past max_stacks()
  /// or when the host refuses the mapping.
  Stack allocate();
  void deallocate(const Stack& s);

  std::size_t usable_size() const { return usable_; }
  /// Number of stacks mapped so far (in use + free).
  std::size_t mapped() const { return mapped_; }
  /// The most stacks this pool maps.
  std::size_t max_stacks() const { return max_stacks_; }

 private:
  std::size_t usable_;
  std::size_t guard_;
  std::size_t mapped_ = 0;
  std::size_t max_stacks_;
  std::vector<void*> free_;  // base addresses (lowest byte, guard included)
};

}  // namespace smpemu
