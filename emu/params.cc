#include "emu/params.h"

#include <stdexcept>

#include "emu/strategy.h"

namespace smpemu {

const char* preempt_name(PreemptModel m) {
  switch (m) {
    case PreemptModel::None: return "none";
    case PreemptModel::Voluntary: return "voluntary";
    case PreemptModel::Full: return "full";
  }
  return "?";
}

PreemptModel parse_preempt(const std::string& s) {
  if (s == "none") return PreemptModel::None;
  if (s == "voluntary") return PreemptModel::Voluntary;
  if (s == "full") return PreemptModel::Full;
  throw std::invalid_argument("unknown preemption model '" + s + "' (expected none, voluntary or full)");
}

const char* mutex_model_name(MutexModel m) {
  switch (m) {
    case MutexModel::Steal: return "steal";
    case MutexModel::Handoff: return "handoff";
    case MutexModel::Fifo: return "fifo";
  }
  return "?";
}

MutexModel parse_mutex_model(const std::string& s) {
  if (s == "steal") return MutexModel::Steal;
  if (s == "handoff") return MutexModel::Handoff;
  if (s == "fifo") return MutexModel::Fifo;
  throw std::invalid_argument("unknown mutex model '" + s + "' (expected steal, handoff or fifo)");
}

bool parse_on_off(const std::string& what, const std::string& s) {
  if (s == "on") return true;
  if (s == "off") return false;
  throw std::invalid_argument("bad " + what + " '" + s + "' (expected on or off)");
}

std::vector<ParamDoc> MachineParams::docs() {
  const MachineParams d;
  std::string strategies;
  for (const auto& [spec, doc] : strategy_docs()) strategies += (strategies.empty() ? "" : ", ") + spec;
  return {
      {"cpus", std::to_string(d.cpus), "emulated CPUs, 1..1024 (--cpus)"},
      {"seed", std::to_string(d.seed), "root seed of every random stream (--seed)"},
      {"strategy", d.strategy, "scheduling strategy: " + strategies + " (--strategy)"},
      {"preempt", preempt_name(d.preempt), "preemption model: none, voluntary, full (--preempt)"},
      {"hz", std::to_string(d.hz), "timer tick frequency in Hz (--hz)"},
      {"jitter", std::to_string(d.jitter_pct), "cost jitter: line transfers and local work get 0..N % extra, seeded (--jitter)"},
      {"max_cycles", std::to_string(d.max_cycles), "stop CPUs whose clock passes this; 0 = no limit (--max-cycles)"},
      {"livelock_ms", std::to_string(d.livelock_ms),
       "end a run as livelock when a CPU runs this many emulated ms with no progress anywhere: no context "
       "switch, lock acquisition, grace period, task exit or workload event; 0 = off (--livelock-ms)"},
      {"wakeup_preempt", d.wakeup_preempt ? "1" : "0", "a wakeup sets need_resched on the target CPU"},
      {"rcu", rcu_flavor_name(d.rcu),
       "RCU flavour: sched (preempt/IRQ-off regions are read sections) or preempt (--rcu)"},
      {"mutex_spin", d.mutex_spin ? "on" : "off",
       "mutex waiters spin while the owner runs on a CPU (2.6.30+ optimistic spinning): on, off (--mutex-spin)"},
      {"mutex", mutex_model_name(d.mutex),
       "what mutex_unlock() does with waiters: steal (2.6.16-4.9: release, wake the first waiter, which competes "
       "with newcomers and spinners), handoff (4.10+: a woken waiter that lost gets the next unlock), fifo (every "
       "unlock hands over to the first waiter; no mainline kernel) (--mutex)"},
      {"stack_size", std::to_string(d.stack_size), "bytes of stack per emulated task"},
      {"history", d.history ? "on" : "off",
       "keep what two-sided bug reports print: the last 4096 trace events and who last changed each checked "
       "object; on, off (--history); never changes a digest"},
      {"lockdep", d.lockdep ? "on" : "off",
       "the lock-order checker (lock-order reports of possible deadlocks); off keeps held-lock tracking, lock "
       "statistics and the unlock-not-held and exit-holding-lock checks; on, off (--lockdep)"},
      {"coverage", d.coverage ? "on" : "off",
       "count interleaving coverage: pairs of conflicting accesses (same line, different CPUs, one a write) by "
       "code site; on, off (--coverage); never changes a digest"},
  };
}

}  // namespace smpemu
