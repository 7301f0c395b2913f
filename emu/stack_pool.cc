#include "emu/stack_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace smpemu {

namespace {
std::size_t page_size() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }
}

StackPool::StackPool(std::size_t usable_size) {
  const std::size_t pg = page_size();
  usable_ = (usable_size + pg - 1) / pg * pg;
#ifdef SMPEMU_STACK_GUARD
  guard_ = pg;
#else
  guard_ = 0;
#endif
}

StackPool::~StackPool() {
  for (void* base : free_) ::munmap(base, usable_ + guard_);
}

StackPool::Stack StackPool::allocate() {
  void* base;
  if (!free_.empty()) {
    base = free_.back();
    free_.pop_back();
  } else {
    base = ::mmap(nullptr, usable_ + guard_, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
      std::fprintf(stderr, "smpemu: panic: cannot map a %zu-byte fiber stack\n", usable_ + guard_);
      std::abort();
    }
    if (guard_ != 0) ::mprotect(base, guard_, PROT_NONE);
    ++mapped_;
  }
  return Stack{static_cast<char*>(base) + guard_ + usable_, usable_};
}

void StackPool::deallocate(const Stack& sctx) {
#if defined(__SANITIZE_ADDRESS__)
  // A fiber torn down in mid-call (a fatal bug ends the run) leaves ASan's redzone and
  // scope poison on its frames; the next fiber on this stack must start clean.
  __asan_unpoison_memory_region(static_cast<char*>(sctx.sp) - usable_, usable_);
#endif
  free_.push_back(static_cast<char*>(sctx.sp) - usable_ - guard_);
}

}  // namespace smpemu
