// Engine parameters: the knobs of the emulated machine that are not workload knobs.
//
// Every field has a default and a one-line doc in MachineParams::docs(); `smpemu list`
// prints that table, so the documentation and the defaults cannot drift apart.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "emu/rcu.h"
#include "emu/types.h"

namespace smpemu {

/// Where need_resched is honoured (docs/KERNEL.md, "Preemption models").
enum class PreemptModel : std::uint8_t { None, Voluntary, Full };
const char* preempt_name(PreemptModel m);
/// Parses none|voluntary|full; throws std::invalid_argument otherwise.
PreemptModel parse_preempt(const std::string& s);
/// What mutex_unlock() does with queued waiters (docs/KERNEL.md, "Mutexes by kernel
/// version"): steal, 2.6.16-4.9: release and wake the first waiter, which competes for
/// the mutex with newcomers and optimistic spinners; handoff, 4.10+: as steal, but a
/// woken waiter that loses sets a hand-off flag and the next unlock gives it the mutex;
/// fifo: every unlock hands the mutex to the first waiter (no mainline kernel; this
/// emulator's model before the knob existed, kept for comparison and old records).
enum class MutexModel : std::uint8_t { Steal, Handoff, Fifo };
const char* mutex_model_name(MutexModel m);
/// Parses steal|handoff|fifo; throws std::invalid_argument otherwise.
MutexModel parse_mutex_model(const std::string& s);
/// Parses on|off for option `what`; throws std::invalid_argument otherwise.
bool parse_on_off(const std::string& what, const std::string& s);

struct ParamDoc {
  std::string name;
  std::string default_value;
  std::string doc;
};

struct MachineParams {
  int cpus = 8;                       ///< emulated CPUs, 1..1024
  std::uint64_t seed = 1;             ///< root seed of every random stream
  std::string strategy = "time";      ///< scheduling strategy (strategy.h)
  PreemptModel preempt = PreemptModel::Voluntary;  ///< preemption model
  std::uint32_t hz = 250;             ///< timer tick frequency (docs/COSTS.md: 100, 250, 1000)
  std::uint32_t jitter_pct = 0;       ///< random extra 0..jitter_pct % on line transfers and compute()
  Cycles max_cycles = 0;              ///< stop CPUs whose clock passes this (0: no limit)
  std::uint32_t livelock_ms = 1000;   ///< end the run as `livelock` after this much emulated time without progress (0: off)
  bool wakeup_preempt = true;         ///< a wakeup sets need_resched on the target CPU
  RcuFlavor rcu = RcuFlavor::Sched;   ///< RCU flavour: sched (preempt-off regions hold off GPs) or preempt
  bool mutex_spin = false;            ///< mutex waiters spin while the owner runs (CONFIG_MUTEX_SPIN_ON_OWNER)
  MutexModel mutex = MutexModel::Steal;  ///< what mutex_unlock() does with waiters (the seeds' kernels: steal)
  std::size_t stack_size = 256 * 1024;///< bytes of stack per emulated task
  /// Keep the histories two-sided reports print: the last kHistoryEvents trace events
  /// and who last changed each checked object. Costs speed, never changes a digest.
  bool history = true;
  /// The lock-order checker (lockdep's dependency graph: lock-order reports). Off, held
  /// locks, lock statistics and the unlock-not-held / exit-holding-lock checks stay.
  bool lockdep = true;
  /// Collect interleaving coverage (emu/coverage.h): pairs of conflicting accesses by
  /// code site. Costs speed, never changes a schedule or a digest.
  bool coverage = false;
  static constexpr std::size_t kHistoryEvents = 4096;

  /// Name, default and one-line doc of every field, in declaration order.
  static std::vector<ParamDoc> docs();
};

}  // namespace smpemu
