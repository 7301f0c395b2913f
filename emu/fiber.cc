#include "emu/fiber.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define SMPEMU_FIBER_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <string>

#include "emu/errors.h"
#define SMPEMU_FIBER_TSAN 1
#endif

namespace smpemu {

#ifdef SMPEMU_FIBER_TSAN
namespace {
// ThreadSanitizer gives every fiber one of its thread slots, and a process has 8128
// ("ThreadSanitizer: Thread limit (8128 threads) exceeded. Dying."): past this many live
// fibers in the process (a margin left for host threads), make() refuses with a
// ConfigError, as the stack pool refuses stacks past vm.max_map_count.
constexpr int kTsanMaxFibers = 8000;
std::atomic<int> tsan_live_fibers{0};
}  // namespace
#endif

namespace ctx = boost::context::detail;

#ifdef SMPEMU_OWN_FIBER_SWITCH
// smpemu_jump_context(to, data): push the callee-saved registers of the System V ABI,
// store the stack pointer as this context, load `to` as the stack pointer, pop its
// registers and return into it with {rax: our context, rdx: data}, the two-word struct
// transfer_t returned in registers. It ends in `ret` (Boost's ends in an indirect jump):
// the engine switches from one call site (Machine::switch_fiber) to a fiber suspended
// at that same call site, so the return stack predictor is right; BM_SyncPointSwitch
// measured 13 ns with `ret`, 20 ns with pop and jump. Code that switches between
// different call sites pays a mispredicted return instead. A new context (make_context)
// "returns" into smpemu_fiber_start, which passes that struct to the entry function
// kept in rbx.
asm(R"(
  .text
  .globl smpemu_jump_context
  .type smpemu_jump_context, @function
  .p2align 4
smpemu_jump_context:
  .cfi_startproc
  pushq %rbp
  pushq %rbx
  pushq %r15
  pushq %r14
  pushq %r13
  pushq %r12
  movq %rsp, %rax
  movq %rdi, %rsp
  popq %r12
  popq %r13
  popq %r14
  popq %r15
  popq %rbx
  popq %rbp
  movq %rsi, %rdx
  ret
  .cfi_endproc
  .size smpemu_jump_context, .-smpemu_jump_context

  .globl smpemu_fiber_start
  .type smpemu_fiber_start, @function
  .p2align 4
smpemu_fiber_start:
  .cfi_startproc
  .cfi_undefined rip
  movq %rax, %rdi
  movq %rdx, %rsi
  callq *%rbx
  ud2
  .cfi_endproc
  .size smpemu_fiber_start, .-smpemu_fiber_start
)");
extern "C" void smpemu_fiber_start();
#endif

namespace fiber_detail {

void* make_context(void* sp, std::size_t size, void (*fn)(transfer_t)) {
#ifdef SMPEMU_OWN_FIBER_SWITCH
  (void)size;
  // The frame smpemu_jump_context pops: r12 r13 r14 r15 rbx rbp, then the return
  // address. After the return rsp is ctx + 56, which must be 16-byte aligned when
  // smpemu_fiber_start calls the entry (the ABI's alignment at a call).
  auto top = reinterpret_cast<std::uintptr_t>(sp) & ~std::uintptr_t{15};
  auto* frame = reinterpret_cast<std::uintptr_t*>(top - 72);
  for (int i = 0; i < 4; ++i) frame[i] = 0;                           // r12..r15
  frame[4] = reinterpret_cast<std::uintptr_t>(fn);                    // rbx
  frame[5] = 0;                                                       // rbp
  frame[6] = reinterpret_cast<std::uintptr_t>(&smpemu_fiber_start);   // return address
  frame[7] = 0;
  frame[8] = 0;
  return frame;
#else
  return boost::context::detail::make_fcontext(sp, size, fn);
#endif
}

}  // namespace fiber_detail

namespace {
[[noreturn]] void fiber_panic(const char* what) {
  std::fprintf(stderr, "smpemu: panic: %s\n", what);
  std::abort();
}
}  // namespace

Fiber::~Fiber() {
  if (stack_.sp != nullptr) release_stack();
}

void Fiber::release_stack() {
  pool_->deallocate(stack_);
  stack_ = {};
#ifdef SMPEMU_FIBER_TSAN
  if (tsan_ != nullptr) {
    __tsan_destroy_fiber(tsan_);
    tsan_live_fibers.fetch_sub(1, std::memory_order_relaxed);
  }
  tsan_ = nullptr;
#endif
}

void FiberFactory::make(Fiber& f, Fiber::Entry entry, void* arg) {
  if (f.ctx_ != nullptr || f.stack_.sp != nullptr) fiber_panic("FiberFactory::make on a fiber that is in use");
#ifdef SMPEMU_FIBER_TSAN
  if (tsan_live_fibers.fetch_add(1, std::memory_order_relaxed) >= kTsanMaxFibers) {
    tsan_live_fibers.fetch_sub(1, std::memory_order_relaxed);
    throw ConfigError("too many tasks for a ThreadSanitizer build: each fiber takes one of TSan's 8128 thread slots "
                      "and " + std::to_string(kTsanMaxFibers) + " are live; use another build for more tasks");
  }
#endif
  f.pool_ = pool_;
  f.stack_ = pool_->allocate();
  f.entry_ = entry;
  f.arg_ = arg;
  f.exited_ = false;
  f.asan_lo_ = static_cast<const char*>(f.stack_.sp) - f.stack_.size;
  f.asan_size_ = f.stack_.size;
  f.ctx_ = fiber_detail::make_context(f.stack_.sp, f.stack_.size, &Fiber::trampoline);
#ifdef SMPEMU_FIBER_TSAN
  f.tsan_ = __tsan_create_fiber(0);
#endif
}

void Fiber::arrived(ctx::transfer_t t, void* fake_stack) {
#ifdef SMPEMU_FIBER_ASAN
  Fiber* from = static_cast<const Transfer*>(t.data)->from;
  __sanitizer_finish_switch_fiber(fake_stack, &from->asan_lo_, &from->asan_size_);
#else
  (void)fake_stack;
#endif
  take_over(t);
}

void Fiber::trampoline(ctx::transfer_t t) {
  Fiber* self = static_cast<const Transfer*>(t.data)->to;
  arrived(t, nullptr);
  self->entry_(self->arg_);
  fiber_panic("a fiber's entry function returned instead of calling exit_to()");
}

void Fiber::switch_to_hooked(Fiber& to) {
  Transfer x{this, &to};
  void* fake_stack = nullptr;
#ifdef SMPEMU_FIBER_ASAN
  __sanitizer_start_switch_fiber(&fake_stack, to.asan_lo_, to.asan_size_);
#endif
#ifdef SMPEMU_FIBER_TSAN
  if (tsan_ == nullptr) tsan_ = __tsan_get_current_fiber();  // the host thread
  __tsan_switch_to_fiber(to.tsan_, 0);
#endif
  void* target = to.ctx_;
  to.ctx_ = nullptr;  // running from now on
  arrived(fiber_detail::jump_context(target, &x), fake_stack);
}

void Fiber::exit_to(Fiber& to) {
  Transfer x{this, &to};
  exited_ = true;
#ifdef SMPEMU_FIBER_ASAN
  __sanitizer_start_switch_fiber(nullptr, to.asan_lo_, to.asan_size_);  // this stack dies
#endif
#ifdef SMPEMU_FIBER_TSAN
  __tsan_switch_to_fiber(to.tsan_, 0);
#endif
  void* target = to.ctx_;
  to.ctx_ = nullptr;
  fiber_detail::jump_context(target, &x);
  fiber_panic("an exited fiber was resumed");
}

}  // namespace smpemu
