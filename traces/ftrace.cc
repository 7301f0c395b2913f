#include "traces/ftrace.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <stdexcept>

#include "traces/digest.h"

namespace smpemu {

namespace {

constexpr int kPrio = 120;              // every emulated task is a plain SCHED_OTHER task
constexpr int kLocalTimerVector = 236;  // x86 LOCAL_TIMER_VECTOR

/// Microseconds of `c` cycles, truncated like the kernel's ns -> us display.
std::uint64_t cycles_to_us(Cycles c, double clock_hz) {
  if (clock_hz >= 1 && clock_hz < 9.2e18 && std::floor(clock_hz) == clock_hz)
    return static_cast<std::uint64_t>(static_cast<unsigned __int128>(c) * 1000000u /
                                      static_cast<unsigned __int128>(clock_hz));
  return static_cast<std::uint64_t>(static_cast<double>(c) * 1e6 / (clock_hz > 0 ? clock_hz : 1e9));
}

const char* ev_name(std::uint64_t kind) {
  switch (static_cast<Ev>(kind)) {
    case Ev::Load: return "load";
    case Ev::Store: return "store";
    case Ev::Rmw: return "rmw";
    case Ev::Barrier: return "barrier";
    case Ev::SpinWait: return "spin_wait";
    case Ev::Pick: return "pick";
    case Ev::CtxSwitch: return "ctx_switch";
    case Ev::Wakeup: return "wakeup";
    case Ev::Tick: return "tick";
    case Ev::IpiSend: return "ipi_send";
    case Ev::IpiHandle: return "ipi_handle";
    case Ev::TaskStart: return "task_start";
    case Ev::TaskExit: return "task_exit";
    case Ev::Bug: return "bug";
    case Ev::Workload: return "workload";
  }
  return "?";
}

const char* ipi_reason(std::uint64_t fn) { return fn ? "Function call interrupts" : "Rescheduling interrupts"; }

/// A comm as a field value: Perfetto splits fields on spaces, so spaces become '_'.
std::string comm_field(const std::string& name) {
  std::string s = name.substr(0, 15);
  std::replace(s.begin(), s.end(), ' ', '_');
  return s;
}

/// The kernel's %*pb rendering of a cpumask with one bit set: 32-bit hex chunks, most
/// significant first, the first chunk only as wide as its bits need.
std::string cpumask(std::uint64_t cpu, int ncpus) {
  const int bits = std::max(ncpus, static_cast<int>(cpu) + 1);
  const int chunks = (bits + 31) / 32;
  std::string s;
  for (int c = chunks - 1; c >= 0; --c) {
    const int chunk_bits = c == chunks - 1 ? (bits % 32 ? bits % 32 : 32) : 32;
    const std::uint32_t v = cpu / 32 == static_cast<std::uint64_t>(c) ? 1u << (cpu % 32) : 0u;
    if (!s.empty()) s += ',';
    s += fmt::format("{:0{}x}", v, (chunk_bits + 3) / 4);
  }
  return s;
}

std::string flags_field(std::uint8_t f) {
  std::string s(4, '.');
  if (f & trace_flags::kIrqsOff) s[0] = 'd';
  if (f & trace_flags::kNeedResched) s[1] = 'N';
  if (f & trace_flags::kHardIrq) s[2] = 'h';
  const int depth = f & trace_flags::kPreemptMask;
  if (depth) s[3] = "0123456789abcdef"[depth];
  return s;
}

bool is_idle(const std::string& name) { return name.rfind("swapper/", 0) == 0; }

class Formatter {
 public:
  Formatter(const Trace& t, const FtraceOptions& o) : t_(t), o_(o), ev_(t.events()) {
    order_.resize(ev_.size());
    for (std::size_t i = 0; i < ev_.size(); ++i) order_[i] = i;
    std::stable_sort(order_.begin(), order_.end(),
                     [&](std::size_t a, std::size_t b) { return ev_[a].time < ev_[b].time; });
    infer_prev_states();
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    out.reserve(order_.size());
    for (std::size_t k = 0; k < order_.size(); ++k) out.push_back(line(k));
    return out;
  }

 private:
  /// prev_state of each context switch, from what happens to the task next.
  void infer_prev_states() {
    prev_state_.assign(order_.size(), "D");
    std::map<std::uint32_t, char> next;  // task -> 'W' woken next, 'I' switched in next
    for (std::size_t k = order_.size(); k-- > 0;) {
      const TraceEvent& e = ev_[order_[k]];
      if (e.kind == TraceKind::Wakeup) next[static_cast<std::uint32_t>(e.a)] = 'W';
      if (e.kind != TraceKind::CtxSwitch) continue;
      const auto prev = static_cast<std::uint32_t>(e.a);
      auto it = next.find(prev);
      if (is_idle(t_.task_name(prev)))
        prev_state_[k] = "R";
      else if (it != next.end() && it->second == 'I')
        prev_state_[k] = "R+";
      next[static_cast<std::uint32_t>(e.b)] = 'I';
    }
    std::set<std::uint32_t> exited;
    for (std::size_t k = 0; k < order_.size(); ++k) {
      const TraceEvent& e = ev_[order_[k]];
      if (e.kind == TraceKind::TaskExit) exited.insert(static_cast<std::uint32_t>(e.a));
      if (e.kind == TraceKind::CtxSwitch && exited.count(static_cast<std::uint32_t>(e.a))) prev_state_[k] = "X";
    }
  }

  std::string line(std::size_t k) const {
    const TraceEvent& e = ev_[order_[k]];
    // A switch is logged in the context of the task that leaves the CPU, as the kernel does.
    const auto task_id = e.kind == TraceKind::CtxSwitch ? static_cast<std::uint32_t>(e.a) : e.task;
    const std::string& comm = t_.task_name(task_id);
    const std::uint64_t us = cycles_to_us(e.time, t_.clock_hz);
    std::string s = fmt::format("{:>16}-{:<5} [{:03}] {} {:>5}.{:06}: {}", comm.substr(0, 15), pid(task_id), e.cpu,
                                flags_field(e.flags), us / 1000000, us % 1000000, body(e, k));
    for (char& c : s)
      if (c == '\n' || c == '\r') c = ' ';
    if (o_.cycles) s += fmt::format(" cycles={}", e.time);
    return s;
  }

  std::string task(std::uint64_t id) const { return comm_field(t_.task_name(static_cast<std::uint32_t>(id))); }
  /// The pid printed for a task: its id, or 0 for the idle tasks, as in the kernel.
  std::uint64_t pid(std::uint64_t id) const { return is_idle(t_.task_name(static_cast<std::uint32_t>(id))) ? 0 : id; }

  std::string body(const TraceEvent& e, std::size_t k) const {
    switch (e.kind) {
      case TraceKind::TaskStart: return fmt::format("task_newtask: pid={} comm={}", pid(e.a), task(e.a));
      case TraceKind::TaskExit:
        return fmt::format("sched_process_exit: comm={} pid={} prio={}", task(e.a), pid(e.a), kPrio);
      case TraceKind::CtxSwitch:
        return fmt::format(
            "sched_switch: prev_comm={} prev_pid={} prev_prio={} prev_state={} ==> next_comm={} "
            "next_pid={} next_prio={}",
            task(e.a), pid(e.a), kPrio, prev_state_[k], task(e.b), pid(e.b), kPrio);
      case TraceKind::Wakeup:
        return fmt::format("sched_wakeup: comm={} pid={} prio={} target_cpu={:03}", task(e.a), pid(e.a), kPrio, e.cpu);
      case TraceKind::Tick: return fmt::format("local_timer_entry: vector={}", kLocalTimerVector);
      case TraceKind::IpiSend:
        return fmt::format("ipi_raise: target_mask={} ({})", cpumask(e.a, t_.ncpus), ipi_reason(e.b));
      case TraceKind::IpiHandle: return fmt::format("ipi_entry: ({})", ipi_reason(e.a));
      case TraceKind::LockContend: return fmt::format("lock_contended: {}", t_.str(e.a));
      case TraceKind::LockAcquire: return fmt::format("lock_acquired: {} wait={}", t_.str(e.a), e.b);
      case TraceKind::LockRelease: return fmt::format("lock_release: {} hold={}", t_.str(e.a), e.b);
      case TraceKind::PreemptOff: return fmt::format("preempt_enable: duration={}", e.time - std::min(e.a, e.time));
      case TraceKind::IrqOff: return fmt::format("irq_enable: duration={}", e.time - std::min(e.a, e.time));
      case TraceKind::RcuGpStart: return fmt::format("rcu_grace_period: rcu {} start", e.a);
      case TraceKind::RcuGpEnd: return fmt::format("rcu_grace_period: rcu {} end duration={}", e.a, e.b);
      case TraceKind::TlbFlush:
        if (e.a == ~0ULL) return "tlb_flush: pages:-1 reason:full";
        return fmt::format("tlb_flush: pages:{} addr=0x{:x}", e.b, e.a);
      case TraceKind::PageFault:
        return fmt::format("page_fault_user: address=0x{:x} error_code=0x{:x}", e.a, e.b ? 6 : 4);
      case TraceKind::Mark: return fmt::format("mark: {}={}", t_.str(e.a), e.b);
      case TraceKind::Bug: return fmt::format("bug: {}{}", t_.str(e.a), e.b ? " (fatal)" : "");
      case TraceKind::Sync: return fmt::format("sync: kind={}({}) payload=0x{:x}", ev_name(e.a), e.a, e.b);
    }
    return fmt::format("{}: a={} b={}", trace_kind_name(e.kind), e.a, e.b);
  }

  const Trace& t_;
  const FtraceOptions o_;
  std::vector<TraceEvent> ev_;
  std::vector<std::size_t> order_;       // indices into ev_, by time
  std::vector<std::string> prev_state_;  // by position in order_
};

}  // namespace

std::string ftrace_header(const Trace& t) {
  std::string s = "# tracer: nop\n#\n";
  s += fmt::format("# entries-in-buffer/entries-written: {}/{}   #P:{}\n#\n", t.written() - t.dropped(), t.written(),
                   t.ncpus);
  s += "#                              _-----=> irqs-off\n"
       "#                             / _----=> need-resched\n"
       "#                            | / _---=> hardirq/softirq\n"
       "#                            || / _--=> preempt-depth\n"
       "#                            ||| /     delay\n"
       "#           TASK-PID   CPU#  ||||    TIMESTAMP  FUNCTION\n"
       "#              | |       |   ||||       |         |\n";
  return s;
}

std::vector<std::string> ftrace_lines(const Trace& trace, const FtraceOptions& options) {
  return Formatter(trace, options).lines();
}

void write_ftrace(std::ostream& out, const Trace& trace, const FtraceOptions& options) {
  out << ftrace_header(trace);
  for (const std::string& l : ftrace_lines(trace, options)) out << l << '\n';
}

std::string ftrace_text(const Trace& trace, const FtraceOptions& options) {
  std::string s = ftrace_header(trace);
  for (const std::string& l : ftrace_lines(trace, options)) {
    s += l;
    s += '\n';
  }
  return s;
}

void write_ftrace_file(const std::string& path, const Trace& trace, const FtraceOptions& options) {
  std::ofstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path + " for writing");
  write_ftrace(f, trace, options);
  f.flush();
  if (!f) throw std::runtime_error("error writing " + path);
}

}  // namespace smpemu
