#include "emu/stack_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>

#include "emu/errors.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace smpemu {

namespace {
std::size_t page_size() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

/// Linux's vm.max_map_count (its default if the file cannot be read), read once.
std::size_t host_max_map_count() {
  static const std::size_t count = [] {
    std::ifstream f("/proc/sys/vm/max_map_count");
    std::size_t n = 0;
    return f >> n && n > 0 ? n : std::size_t{65530};
  }();
  return count;
}

/// Mappings left for everything else in the process (libraries, heap arenas, the
/// trace, other pools of other host threads).
constexpr std::size_t kMapReserve = 4096;
}  // namespace

StackPool::StackPool(std::size_t usable_size, std::size_t max_stacks) {
  const std::size_t pg = page_size();
  usable_ = (usable_size + pg - 1) / pg * pg;
#ifdef SMPEMU_STACK_GUARD
  guard_ = pg;
#else
  guard_ = 0;
#endif
  if (max_stacks != 0) {
    max_stacks_ = max_stacks;
  } else if (guard_ != 0) {
    const std::size_t maps = host_max_map_count();
    max_stacks_ = maps > 2 * kMapReserve ? (maps - kMapReserve) / 2 : kMapReserve / 2;
  } else {
    max_stacks_ = std::numeric_limits<std::size_t>::max();
  }
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
    if (mapped_ >= max_stacks_)
      throw ConfigError("too many tasks for this build on this host: " + std::to_string(mapped_) +
                        " fiber stacks are mapped" +
                        (guard_ != 0 ? ", and with guard pages (Debug and sanitizer builds) each takes two of the "
                                       "host's vm.max_map_count mappings (" +
                                           std::to_string(host_max_map_count()) +
                                           "): use a Release build or raise vm.max_map_count"
                                     : std::string(" (the pool's limit)")));
    base = ::mmap(nullptr, usable_ + guard_, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
      throw ConfigError("the host cannot map fiber stack " + std::to_string(mapped_ + 1) + " (" +
                        std::to_string(usable_ + guard_) + " bytes): " + std::strerror(errno));
    if (guard_ != 0 && ::mprotect(base, guard_, PROT_NONE) != 0) {
      const int err = errno;
      ::munmap(base, usable_ + guard_);
      throw ConfigError("the host cannot protect the guard page of fiber stack " + std::to_string(mapped_ + 1) +
                        ": " + std::strerror(err) + " (vm.max_map_count " + std::to_string(host_max_map_count()) +
                        "; use a Release build or raise it)");
    }
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
