#include "traces/ftrace.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <stdexcept>

#include "traces/digest.h"
#include "traces/spans.h"

namespace smpemu {

namespace {

constexpr int kNormalPrio = 120;  // a SCHED_OTHER task at nice 0 (and the idle tasks)
/// The rt_priority of the engine's one real-time level (SCHED_FIFO, cyclictest -p99),
/// and the prio the kernel prints for it: MAX_RT_PRIO - 1 - rt_priority.
constexpr int kRtPriority = 99;
constexpr int kRtPrio = 100 - 1 - kRtPriority;
/// cpu_idle's state for "leaves idle" (PWR_EVENT_EXIT, -1 printed as an unsigned int).
constexpr std::uint64_t kPwrEventExit = 4294967295u;
/// x86 TLB flush reasons (include/trace/events/tlb.h).
constexpr int kTlbRemoteShootdown = 1;
constexpr int kTlbLocalMmShootdown = 3;

/// Nanoseconds of `c` cycles, truncated; exact integer arithmetic when clock_hz is an
/// integer (always, for the machine profiles), so the mapping is monotone.
std::uint64_t cycles_to_ns(Cycles c, double clock_hz) {
  if (clock_hz >= 1 && clock_hz < 9.2e18 && static_cast<double>(static_cast<std::uint64_t>(clock_hz)) == clock_hz)
    return static_cast<std::uint64_t>(static_cast<unsigned __int128>(c) * 1000000000u /
                                      static_cast<unsigned __int128>(clock_hz));
  return static_cast<std::uint64_t>(static_cast<double>(c) * 1e9 / (clock_hz > 0 ? clock_hz : 1e9));
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

/// A tracing_mark_write name: '|' separates its fields, so it becomes '/'.
std::string mark_name(std::string s) {
  std::replace(s.begin(), s.end(), '|', '/');
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

/// lock:contention_begin's flags (LCB_F_*), '|'-separated as __print_flags does.
std::string contention_flags(std::uint64_t f) {
  static constexpr std::pair<std::uint32_t, const char*> kNames[] = {{lock_contention::kSpin, "SPIN"},
                                                                     {lock_contention::kRead, "READ"},
                                                                     {lock_contention::kWrite, "WRITE"},
                                                                     {lock_contention::kMutex, "MUTEX"}};
  std::string s;
  for (const auto& [bit, name] : kNames)
    if (f & bit) s += (s.empty() ? "" : "|") + std::string(name);
  return s;
}

/// A stable pseudo-address for lock instance `name_id` (the kernel prints the lock's
/// address; an emulated lock has none): in the x86-64 direct map, 64 bytes apart.
std::uint64_t lock_address(std::uint64_t name_id) { return 0xffff888000000000ULL + 0x40 * (name_id + 1); }

std::string flags_field(std::uint8_t f) {
  std::string s(4, '.');
  if (f & trace_flags::kIrqsOff) s[0] = 'd';
  if (f & trace_flags::kNeedResched) s[1] = 'N';
  if (f & trace_flags::kHardIrq) s[2] = 'h';
  const int depth = f & trace_flags::kPreemptMask;
  if (depth) s[3] = "0123456789abcdef"[depth];
  return s;
}

class Formatter {
 public:
  Formatter(const Trace& t, const FtraceOptions& o) : t_(t), o_(o), ev_(t.events()) {
    std::vector<std::size_t> order(ev_.size());
    for (std::size_t i = 0; i < ev_.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ev_[a].time < ev_[b].time; });
    infer_prev_states(order);
    spans_ = collect_spans(ev_);
    mark_nesting(spans_);
    for (std::size_t i : order) event_lines(i);
    span_lines();
    std::stable_sort(lines_.begin(), lines_.end(), [](const Line& a, const Line& b) { return a.time < b.time; });
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    out.reserve(lines_.size());
    for (const Line& l : lines_) out.push_back(render(l));
    return out;
  }

 private:
  /// One output line before it is rendered: its context and its event text.
  struct Line {
    Cycles time;
    std::uint32_t task;  ///< the comm-pid column
    std::int16_t cpu;
    std::uint8_t flags;
    bool exact;  ///< may carry the " cycles=N" suffix (not tracing_mark_write: it would join the name)
    std::string body;
  };

  void add(Cycles time, std::uint32_t task, std::int16_t cpu, std::uint8_t flags, std::string body, bool exact = true) {
    lines_.push_back(Line{time, task, cpu, flags, exact, std::move(body)});
  }
  void add(const TraceEvent& e, std::string body) { add(e.time, e.task, e.cpu, e.flags, std::move(body)); }

  /// prev_state of switches whose event does not say (traces written without it), from
  /// what happens to the task next: X (exited), R+ (ran again without a wakeup), R for
  /// idle tasks, else D.
  void infer_prev_states(const std::vector<std::size_t>& order) {
    std::map<std::uint32_t, char> next;  // task -> 'W' woken next, 'I' switched in next
    for (std::size_t k = order.size(); k-- > 0;) {
      const TraceEvent& e = ev_[order[k]];
      if (e.kind == TraceKind::Wakeup) next[static_cast<std::uint32_t>(e.a)] = 'W';
      if (e.kind != TraceKind::CtxSwitch) continue;
      const auto prev = static_cast<std::uint32_t>(e.a);
      auto it = next.find(prev);
      if (is_idle_task_name(t_.task_name(prev)))
        inferred_[order[k]] = "R";
      else if (it != next.end() && it->second == 'I')
        inferred_[order[k]] = "R+";
      else
        inferred_[order[k]] = "D";
      next[e.next_task()] = 'I';
    }
    std::set<std::uint32_t> exited;
    for (std::size_t i : order) {
      const TraceEvent& e = ev_[i];
      if (e.kind == TraceKind::TaskExit) exited.insert(static_cast<std::uint32_t>(e.a));
      if (e.kind == TraceKind::CtxSwitch && exited.count(static_cast<std::uint32_t>(e.a))) inferred_[i] = "X";
    }
  }

  std::string task(std::uint64_t id) const { return comm_field(t_.task_name(static_cast<std::uint32_t>(id))); }
  /// The pid printed for a task: its id, or 0 for the idle tasks, as in the kernel.
  std::uint64_t pid(std::uint64_t id) const { return is_idle_task_name(t_.task_name(static_cast<std::uint32_t>(id))) ? 0 : id; }
  int prio(std::uint64_t id) const { return t_.task_rt(static_cast<std::uint32_t>(id)) ? kRtPrio : kNormalPrio; }

  void event_lines(std::size_t i) {
    const TraceEvent& e = ev_[i];
    switch (e.kind) {
      case TraceKind::TaskStart:
        return add(e, fmt::format("task_newtask: pid={} comm={} clone_flags=0 oom_score_adj=0", pid(e.a), task(e.a)));
      case TraceKind::TaskExit:
        return add(e, fmt::format("sched_process_exit: comm={} pid={} prio={}", task(e.a), pid(e.a), prio(e.a)));
      case TraceKind::CtxSwitch: {
        const std::uint32_t prev = static_cast<std::uint32_t>(e.a);
        const std::uint32_t next = e.next_task();
        const bool from_idle = is_idle_task_name(t_.task_name(prev));
        const bool to_idle = is_idle_task_name(t_.task_name(next));
        // cpuidle: the idle task leaves its idle state before it switches away...
        if (from_idle) add(e.time, prev, e.cpu, e.flags, fmt::format("cpu_idle: state={} cpu_id={}", kPwrEventExit, e.cpu));
        const SwitchState why = e.switch_state();
        const std::string state = why == SwitchState::Unknown ? inferred_.at(i) : switch_state_letter(why);
        // A switch is logged in the context of the task that leaves the CPU, as the kernel does.
        add(e.time, prev, e.cpu, e.flags,
            fmt::format("sched_switch: prev_comm={} prev_pid={} prev_prio={} prev_state={} ==> next_comm={} "
                        "next_pid={} next_prio={}",
                        task(prev), pid(prev), prio(prev), state, task(next), pid(next), prio(next)));
        // ... and enters state 1 (C1, the x86 idle loop's hlt) once it runs.
        if (to_idle) add(e.time, next, e.cpu, e.flags, fmt::format("cpu_idle: state=1 cpu_id={}", e.cpu));
        return;
      }
      case TraceKind::Wakeup:
        return add(e, fmt::format("sched_waking: comm={} pid={} prio={} target_cpu={:03}", task(e.a), pid(e.a),
                                  prio(e.a), e.b));
      case TraceKind::Tick: return add(e, fmt::format("local_timer_entry: vector={}", irq_vector::kLocalTimer));
      case TraceKind::IpiHandle:
        return add(e, e.a ? fmt::format("call_function_entry: vector={}", irq_vector::kCallFunction)
                          : fmt::format("reschedule_entry: vector={}", irq_vector::kReschedule));
      case TraceKind::IrqExit: return add(e, fmt::format("{}_exit: vector={}", irq_vector_name(e.a), e.a));
      case TraceKind::IpiSend:
        return add(e, fmt::format("ipi_raise: target_mask={} ({})", cpumask(e.a, t_.ncpus), ipi_reason(e.b)));
      case TraceKind::LockContend: {
        const std::uint64_t flags = e.b >> 32;
        if (flags == 0) return;  // no contention tracepoint in the kernel for this lock (lock_page)
        pending_contention_[e.cpu] = e.lock_name();
        return add(e, fmt::format("contention_begin: 0x{:016x} (flags={})", lock_address(e.lock_name()),
                                  contention_flags(flags)));
      }
      case TraceKind::LockAcquire: {
        auto it = pending_contention_.find(e.cpu);
        if (it == pending_contention_.end() || it->second != e.lock_name()) return;
        pending_contention_.erase(it);
        return add(e, fmt::format("contention_end: 0x{:016x} (ret=0)", lock_address(e.lock_name())));
      }
      case TraceKind::LockRelease:
      case TraceKind::PreemptOff:
      case TraceKind::IrqOff:
        return;  // drawn as spans (span_lines)
      case TraceKind::RcuGpStart: {
        add(e, fmt::format("rcu_grace_period: rcu {} start", e.a));
        gp_start_[e.a] = i;
        return;
      }
      case TraceKind::RcuGpEnd: {
        add(e, fmt::format("rcu_grace_period: rcu {} end", e.a));
        // The grace period as an async slice of the kernel (pid 0), begun where it began.
        const Cycles start = e.time - std::min(e.b, e.time);
        auto s = gp_start_.find(e.a);
        const TraceEvent& b = s != gp_start_.end() && ev_[s->second].time == start ? ev_[s->second] : e;
        const std::uint64_t cookie = next_cookie_++;
        add(start, b.task, b.cpu, b.flags, fmt::format("tracing_mark_write: S|0|rcu grace period|{}", cookie), false);
        add(e.time, e.task, e.cpu, e.flags, fmt::format("tracing_mark_write: F|0|rcu grace period|{}", cookie), false);
        return;
      }
      case TraceKind::TlbFlush: {
        const bool remote = e.flags & trace_flags::kHardIrq;  // flush_tlb_func() from the IPI
        return add(e, fmt::format("tlb_flush: pages:{} reason:{} ({})",
                                  e.a == ~0ULL ? std::int64_t{-1} : static_cast<std::int64_t>(e.b),
                                  remote ? "remote shootdown" : "local mm shootdown",
                                  remote ? kTlbRemoteShootdown : kTlbLocalMmShootdown));
      }
      case TraceKind::PageFault:
        return add(e, fmt::format("page_fault_user: address=0x{:x} ip=0x0 error_code=0x{:x}", e.a, e.b ? 6 : 4));
      case TraceKind::Mark:
        return add(e.time, e.task, e.cpu, e.flags,
                   fmt::format("tracing_mark_write: C|{}|{}|{}", pid(e.task), mark_name(t_.str(e.a)),
                               static_cast<std::int64_t>(e.b)),
                   false);
      case TraceKind::Bug:
        return add(e.time, e.task, e.cpu, e.flags,
                   fmt::format("tracing_mark_write: I|{}|BUG: {}{}", pid(e.task), mark_name(t_.str(e.a)),
                               e.b ? " (fatal)" : ""),
                   false);
      case TraceKind::Sync:
        return add(e, fmt::format("sync: kind={}({}) payload=0x{:x}", ev_name(e.a), e.a, e.b));
    }
    add(e, fmt::format("{}: a={} b={}", trace_kind_name(e.kind), e.a, e.b));
  }

  /// The spans as tracing_mark_write slices of the task holding them: B/E where they
  /// nest on the task's stack, S/F (async, cookie) where they do not and for the idle
  /// tasks (they all print pid 0, so their stacks would mix).
  void span_lines() {
    std::vector<std::uint64_t> cookie(spans_.size(), 0);
    for (const SpanEdge& edge : span_edges(spans_)) {
      const Span& s = spans_[edge.span];
      const std::uint64_t p = pid(s.task);
      // The begin carries the flags of its event when kept, the end those of its event.
      const std::size_t src = edge.begin ? s.begin_ev : s.end_ev;
      const std::uint8_t flags = src != Span::kUnknownIndex ? ev_[src].flags : 0;
      std::string name = mark_name(span_name(t_, s));
      std::string body;
      if (s.nested && p != 0) {
        body = edge.begin ? fmt::format("tracing_mark_write: B|{}|{}", p, name) : fmt::format("tracing_mark_write: E|{}", p);
      } else {
        if (p == 0) name = t_.task_name(s.task) + ": " + name;
        if (edge.begin) cookie[edge.span] = next_cookie_++;
        body = fmt::format("tracing_mark_write: {}|{}|{}|{}", edge.begin ? 'S' : 'F', p, name, cookie[edge.span]);
      }
      add(edge.time, s.task, s.cpu, flags, std::move(body), false);
    }
  }

  std::string render(const Line& l) const {
    const std::string& comm = t_.task_name(l.task);
    const std::uint64_t ns = cycles_to_ns(l.time, t_.clock_hz);
    std::string s = fmt::format("{:>16}-{:<5} [{:03}] {} {:>5}.{:09}: {}", comm.substr(0, 15), pid(l.task), l.cpu,
                                flags_field(l.flags), ns / 1000000000, ns % 1000000000, l.body);
    for (char& c : s)
      if (c == '\n' || c == '\r') c = ' ';
    if (o_.cycles && l.exact) s += fmt::format(" cycles={}", l.time);
    return s;
  }

  const Trace& t_;
  const FtraceOptions o_;
  std::vector<TraceEvent> ev_;
  std::vector<Span> spans_;
  std::vector<Line> lines_;
  std::map<std::size_t, std::string> inferred_;            // event index -> prev_state
  std::map<std::int16_t, std::uint64_t> pending_contention_;  // cpu -> lock of its contention_begin
  std::map<std::uint64_t, std::size_t> gp_start_;           // grace period -> its RcuGpStart
  std::uint64_t next_cookie_ = 1;
};

}  // namespace

namespace {

/// The header, counting `lines` entries in the buffer and the dropped events on top.
std::string header(const Trace& t, std::size_t lines) {
  std::string s = "# tracer: nop\n#\n";
  s += fmt::format("# entries-in-buffer/entries-written: {}/{}   #P:{}\n#\n", lines, lines + t.dropped(), t.ncpus);
  s += "#                              _-----=> irqs-off\n"
       "#                             / _----=> need-resched\n"
       "#                            | / _---=> hardirq/softirq\n"
       "#                            || / _--=> preempt-depth\n"
       "#                            ||| /     delay\n"
       "#           TASK-PID   CPU#  ||||       TIMESTAMP  FUNCTION\n"
       "#              | |       |   ||||          |         |\n";
  return s;
}

}  // namespace

std::string ftrace_header(const Trace& trace) { return header(trace, ftrace_lines(trace).size()); }

std::vector<std::string> ftrace_lines(const Trace& trace, const FtraceOptions& options) {
  return Formatter(trace, options).lines();
}

void write_ftrace(std::ostream& out, const Trace& trace, const FtraceOptions& options) {
  const std::vector<std::string> lines = ftrace_lines(trace, options);
  out << header(trace, lines.size());
  for (const std::string& l : lines) out << l << '\n';
}

std::string ftrace_text(const Trace& trace, const FtraceOptions& options) {
  const std::vector<std::string> lines = ftrace_lines(trace, options);
  std::string s = header(trace, lines.size());
  for (const std::string& l : lines) {
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
