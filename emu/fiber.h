// Execution contexts: the fibers emulated tasks run on.
//
// A Fiber is a stack plus the registers saved while it is suspended. On x86-64 Linux
// the switch is our own 14-instruction routine (fiber.cc): it saves the callee-saved
// registers and swaps stack pointers, and unlike Boost's `jump_fcontext` it does not
// save and reload the x87 and SSE control words (fldcw and ldmxcsr are slow, and no
// emulated code changes rounding modes or exception masks). Elsewhere it is
// `jump_fcontext` (the routine under boost::context::fiber), called directly; both
// have the same interface. The engine asks a FiberFactory for one Fiber per task;
// which fiber runs next is the Machine's business, not this layer's (SimGrid's split
// between its context factory and its maestro).
//
// Why a layer of our own rather than boost::context::fiber:
//  - the switch is a handful of instructions around jump_fcontext: no fiber handle is
//    moved, tested and destroyed on each side of every switch (the hottest path of the
//    engine, docs/PERFORMANCE.md);
//  - the sanitizer hooks live here, in one place: ASan's start/finish_switch_fiber and
//    TSan's create/switch_to/destroy_fiber. Boost 1.74's fcontext backend (the only one
//    Debian builds) calls neither, so with it an ASan build warned and a TSan build was
//    impossible;
//  - a finished fiber's stack goes back to its StackPool from the fiber resumed next.
//
// Rules:
//  - One fiber runs per host thread at a time. `from.switch_to(to)` is called by the
//    running fiber `from`; it returns when some fiber switches back to `from`.
//  - The host thread's own context is a Fiber made with the default constructor: it has
//    no stack of its own and is filled in the first time it switches away.
//  - No exception crosses a switch. A fiber's entry function must catch everything and
//    end with `exit_to()`; it must never return (that is a panic).
//  - A Fiber that is suspended in mid-call when destroyed does not unwind: its owner
//    must run it to its end first (Machine's teardown does, with TaskKilled).
//
// Concurrency: not thread safe; a fiber and its factory belong to one host thread.
#pragma once

#include <cstddef>

#include <boost/context/detail/fcontext.hpp>

#include "emu/stack_pool.h"

namespace smpemu {

namespace fiber_detail {
using transfer_t = boost::context::detail::transfer_t;
#if defined(__x86_64__) && defined(__linux__)
#define SMPEMU_OWN_FIBER_SWITCH 1
/// Saves the running context, resumes `to`; returns {the context that resumed us, its
/// data} (fiber.cc).
extern "C" transfer_t smpemu_jump_context(void* to, void* data);
inline transfer_t jump_context(void* to, void* data) { return smpemu_jump_context(to, data); }
#else
inline transfer_t jump_context(void* to, void* data) { return boost::context::detail::jump_fcontext(to, data); }
#endif
/// A context on the stack below `sp` that calls `fn` when first jumped to.
void* make_context(void* sp, std::size_t size, void (*fn)(transfer_t));
}  // namespace fiber_detail

class Fiber {
 public:
  /// Entry function of a new fiber: called with its argument on the first switch to it.
  using Entry = void (*)(void* arg);

  /// The host thread's context (no stack of its own), or a fiber to be made by a factory.
  Fiber() = default;
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;
  /// Returns a stack this fiber still holds (made but never finished) to its pool.
  ~Fiber();

  /// True while suspended (made and not yet run, or switched away from): switch_to()
  /// may resume it.
  bool suspended() const { return ctx_ != nullptr; }

  /// Suspends this fiber, the running one, and resumes `to`. Returns when a fiber
  /// switches back to this one. Inline without sanitizers: it is the engine's hottest
  /// path (one call frame less per switch).
  void switch_to(Fiber& to);
  /// The last switch of this fiber, which has finished its work: resumes `to`, and the
  /// fiber resumed returns this one's stack to the pool. Never returns.
  [[noreturn]] void exit_to(Fiber& to);

 private:
  friend class FiberFactory;
  /// What a switching fiber passes to the one it resumes (on the switcher's stack, which
  /// stays valid until the resumed side has read it).
  struct Transfer {
    Fiber* from;
    Fiber* to;
  };
  static void trampoline(boost::context::detail::transfer_t t);
  /// switch_to() with the sanitizer hooks.
  void switch_to_hooked(Fiber& to);
  /// What a resumed fiber does first, `t` being what the switching fiber passed: closes
  /// the sanitizer switch, then take_over(). `fake_stack`: ASan's saved fake stack of
  /// this fiber.
  static void arrived(boost::context::detail::transfer_t t, void* fake_stack);
  /// Stores the suspended context of the fiber that switched (`t`), or returns its
  /// stack to the pool if it exited (its Transfer lived there: not read after this).
  static void take_over(boost::context::detail::transfer_t t) {
    Fiber* from = static_cast<const Transfer*>(t.data)->from;
    if (from->exited_) [[unlikely]]
      from->release_stack();
    else
      from->ctx_ = t.fctx;
  }
  void release_stack();

  void* ctx_ = nullptr;           // saved context while suspended, else nullptr
  StackPool* pool_ = nullptr;     // where the stack goes back to (nullptr: host thread)
  StackPool::Stack stack_{};      // the stack, while this fiber holds one
  Entry entry_ = nullptr;
  void* arg_ = nullptr;
  bool exited_ = false;           // set by exit_to()
  // Sanitizer state: this fiber's stack bounds as ASan knows them (for the host thread,
  // learned when it first switches away) and TSan's fiber handle.
  const void* asan_lo_ = nullptr;
  std::size_t asan_size_ = 0;
  void* tsan_ = nullptr;
};

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline void Fiber::switch_to(Fiber& to) { switch_to_hooked(to); }
#else
inline void Fiber::switch_to(Fiber& to) {
  Transfer x{this, &to};
  void* target = to.ctx_;
  to.ctx_ = nullptr;  // running from now on
  take_over(fiber_detail::jump_context(target, &x));  // arrived() without the hooks
}
#endif

/// Makes fibers on stacks from one pool.
class FiberFactory {
 public:
  /// `pool` must outlive every fiber made.
  explicit FiberFactory(StackPool* pool) : pool_(pool) {}
  /// Makes `f` (not running, holding no stack) a suspended fiber that calls
  /// `entry(arg)` when first switched to.
  void make(Fiber& f, Fiber::Entry entry, void* arg);

 private:
  StackPool* pool_;
};

}  // namespace smpemu
