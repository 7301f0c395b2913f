// Call paths of emulated code: which annotated functions a task is in, and the source
// line of the operation it performs (a lock call, an oracle check, a pte install).
//
// The kernel gets a call path from its stack unwinder; emulated code runs on fibers
// whose frames mean nothing to a kernel developer, so instead a function that wants to
// appear in paths says so at its entry with KFUNC() (kernel/callpath.h). That pushes a
// Where (file, function, line: three words) on the running task's CallStack and pops it
// on return. Lock operations and checks take the caller's Where as a defaulted
// parameter (`Where loc = Where::here()`), so the innermost line is exact even in
// unannotated code.
//
// Where is ours rather than std::source_location because Clang 14 with libstdc++ 12
// (Debian 12) has no std::source_location; the __builtin_FILE/FUNCTION/LINE it is built
// on exist in every supported compiler and, as default arguments, name the call site.
//
// A CallPath is a value: the operation's line plus up to kMaxCallers annotated
// functions around it, innermost first. It is copied into held locks, lockdep edges,
// object histories and bug reports; printed as
//   mm/truncate.cc:92 unmap_mapping_range_vma <- unmap_mapping_range <- vmtruncate
// File names are relative to the source tree (the build maps the prefix away).
//
// Cost: a KFUNC() is a thread-local load, a store and an increment on entry and a
// decrement on return; capture() copies at most 8 pointers. Nothing here is a sync
// point or reaches the digest.
// Concurrency: a CallStack belongs to its task and is written only by code running in
// that task (its own fiber).
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace smpemu {

/// A source position. As a defaulted parameter, `Where loc = Where::here()` is the
/// position of the call.
struct Where {
  const char* file = nullptr;
  const char* func = nullptr;
  unsigned line = 0;

  /// Same position: file and function compare by address (one string literal each).
  bool operator==(const Where&) const = default;

  static constexpr Where here(const char* file = __builtin_FILE(), const char* func = __builtin_FUNCTION(),
                              unsigned line = __builtin_LINE()) {
    return Where{file, func, line};
  }
};

/// A task's annotated frames, outermost first. Frames past kMaxDepth are counted in
/// `depth` but not kept (a deep recursion keeps its outer frames).
struct CallStack {
  static constexpr int kMaxDepth = 32;
  std::array<Where, kMaxDepth> frames{};
  int depth = 0;
};

/// Where something happened: the operation's source line and the annotated functions
/// around it, innermost first.
struct CallPath {
  static constexpr int kMaxCallers = 7;
  Where site{};                             ///< the operation itself
  std::array<Where, kMaxCallers> callers{};  ///< innermost first
  std::uint8_t ncallers = 0;

  bool empty() const { return site.line == 0; }
  bool operator==(const CallPath&) const = default;
  /// "file:line function <- caller <- caller's caller ..." ("?" when empty).
  std::string str() const;
  /// "file:line function": the code site alone (fuzz signatures group by it).
  std::string site_str() const;
  /// The function names, innermost first: "function <- caller <- ...".
  std::string functions() const;
};

/// The path of an operation at `site` by the task owning `stack`; the innermost frame is
/// dropped when it names the function `site` is in (it would repeat it).
CallPath capture_path(const CallStack& stack, Where site);

/// The path from the innermost annotated function of `stack` (its entry line; empty if
/// the task is in none): for reports made away from the emulated code's own call.
CallPath innermost_path(const CallStack& stack);

/// The function name of `loc` ("unmap_mapping_range_vma"; a lambda is "lambda").
std::string function_name(const Where& loc);

/// A frame of the running task's CallStack for the lifetime of this object (KFUNC()).
/// Outside a run (setup code, no Machine on this thread) it does nothing.
class CallFrame {
 public:
  explicit CallFrame(Where loc = Where::here());
  ~CallFrame() {
    if (stack_) --stack_->depth;
  }
  CallFrame(const CallFrame&) = delete;
  CallFrame& operator=(const CallFrame&) = delete;

 private:
  CallStack* stack_ = nullptr;
};

}  // namespace smpemu
