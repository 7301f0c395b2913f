#include "traces/perfetto.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "traces/spans.h"

namespace smpemu {

namespace {

/// pid 0 and tid 0 mean the kernel's swapper to Perfetto (it renames or merges them), so
/// the CPU lanes are threads of pid 1 (CPU n is tid n + 1, RCU the next) and the tasks
/// threads of pid 2.
constexpr int kCpuPid = 1;
constexpr int kTaskPid = 2;

/// Nanoseconds of `c` cycles, rounded; exact integer arithmetic when clock_hz is an
/// integer (always, for the machine profiles), so the mapping is monotone.
std::int64_t cycles_to_ns(Cycles c, double clock_hz) {
  if (clock_hz >= 1 && clock_hz < 9.2e18 && std::floor(clock_hz) == clock_hz) {
    const auto hz = static_cast<unsigned __int128>(clock_hz);
    return static_cast<std::int64_t>((static_cast<unsigned __int128>(c) * 2000000000u + hz) / (2 * hz));
  }
  return std::llround(static_cast<double>(c) * 1e9 / (clock_hz > 0 ? clock_hz : 1e9));
}

double ns_to_us(std::int64_t ns) { return static_cast<double>(ns) / 1000.0; }

const char* ipi_type(std::uint64_t fn) { return fn ? "function" : "reschedule"; }

/// What an item draws.
enum class Shape : std::uint8_t { Running, Span, AsyncBegin, AsyncEnd, Rcu, Instant };

/// A slice or instant before it becomes JSON: compact, so a large trace sorts cheaply.
struct Item {
  std::int64_t ns0 = 0;
  std::int64_t ns1 = 0;
  Cycles start = 0;
  Cycles end = 0;
  int pid = kCpuPid;
  int tid = 0;
  Shape shape = Shape::Instant;
  bool from_span = false;  ///< `ref` is an index into spans_ (else into the events)
  std::size_t ref = 0;
  std::uint32_t task = 0;  ///< Running: the task that runs
  std::uint64_t cookie = 0;  ///< Async*: the async slice id
};

class Builder {
 public:
  Builder(const Trace& t, const PerfettoOptions& o) : t_(t), o_(o), ev_(t.events()) {
    ncpus_ = std::max(t.ncpus, 0);
    for (const TraceEvent& e : ev_) {
      ncpus_ = std::max(ncpus_, e.cpu + 1);
      end_ = std::max(end_, e.time);
    }
    task_tid0_ = 1000 * ((ncpus_ + 2) / 1000 + 1);
  }

  /// Emits metadata, then every slice and instant in (start, longest first) order.
  void run(const std::function<void(nlohmann::json&&)>& sink) {
    collect();
    metadata(sink);
    std::stable_sort(items_.begin(), items_.end(), [](const Item& a, const Item& b) {
      return std::tie(a.ns0, b.ns1, a.shape) < std::tie(b.ns0, a.ns1, b.shape);
    });
    for (const Item& it : items_) sink(to_json(it));
  }

  nlohmann::json other_data() const {
    return {{"workload", t_.workload},
            {"clock_hz", t_.clock_hz},
            {"cpus", ncpus_},
            {"events_written", t_.written()},
            {"dropped_events", t_.dropped()},
            {"detail", t_.detail()},
            {"generator", "smpemu"},
            {"time_unit", "ts and dur in microseconds; args in cycles"}};
  }

 private:
  int cpu_tid(int cpu) const { return cpu + 1; }
  int rcu_tid() const { return ncpus_ + 1; }
  int task_tid(std::uint32_t task) const { return task_tid0_ + static_cast<int>(task); }
  bool idle(std::uint32_t task) const { return is_idle_task_name(t_.task_name(task)); }

  void item(Shape shape, Cycles start, Cycles end, int pid, int tid, std::size_t ref) {
    Item it;
    it.start = start;
    it.end = std::max(start, end);
    it.ns0 = cycles_to_ns(it.start, t_.clock_hz);
    it.ns1 = cycles_to_ns(it.end, t_.clock_hz);
    it.from_span = shape == Shape::Span || shape == Shape::AsyncBegin || shape == Shape::AsyncEnd;
    // A slice a viewer would see as zero-length becomes an instant.
    if ((shape == Shape::Span || shape == Shape::Rcu) && it.ns1 == it.ns0) shape = Shape::Instant;
    it.shape = shape;
    it.pid = pid;
    it.tid = tid;
    it.ref = ref;
    items_.push_back(it);
  }
  /// An instant of event `i` on the track of `task` (its CPU's lane for an idle task).
  void task_instant(std::size_t i, std::uint32_t task) {
    if (idle(task))
      item(Shape::Instant, ev_[i].time, ev_[i].time, kCpuPid, cpu_tid(ev_[i].cpu), i);
    else
      task_item(Shape::Instant, ev_[i].time, ev_[i].time, task, i);
  }
  void task_item(Shape shape, Cycles start, Cycles end, std::uint32_t task, std::size_t ref) {
    item(shape, start, end, kTaskPid, task_tid(task), ref);
    tasks_.insert(task);
  }

  void collect() {
    for (int cpu = 0; cpu < ncpus_; ++cpu) running_spans(cpu);
    task_spans();
    for (std::size_t i = 0; i < ev_.size(); ++i) {
      const TraceEvent& e = ev_[i];
      switch (e.kind) {
        case TraceKind::RcuGpEnd:
          item(Shape::Rcu, e.time - std::min(e.b, e.time), e.time, kCpuPid, rcu_tid(), i);
          break;
        case TraceKind::RcuGpStart: item(Shape::Instant, e.time, e.time, kCpuPid, rcu_tid(), i); break;
        case TraceKind::Tick:
          if (o_.ticks) item(Shape::Instant, e.time, e.time, kCpuPid, cpu_tid(e.cpu), i);
          break;
        case TraceKind::IpiSend:
        case TraceKind::IpiHandle: item(Shape::Instant, e.time, e.time, kCpuPid, cpu_tid(e.cpu), i); break;
        case TraceKind::Wakeup:
        case TraceKind::TaskStart:
        case TraceKind::TaskExit: task_instant(i, static_cast<std::uint32_t>(e.a)); break;
        case TraceKind::Bug:
        case TraceKind::TlbFlush:
        case TraceKind::PageFault:
        case TraceKind::Mark: task_instant(i, e.task); break;
        default: break;  // spans (task_spans, running_spans), or not drawn (Sync)
      }
    }
  }

  /// The running intervals of the tasks on one CPU, from its context switches: a CPU
  /// runs its first task from the start of the trace (cycle 0, or the oldest event kept
  /// when the ring buffer dropped events) and its last one to the end of the trace.
  void running_spans(int cpu) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < ev_.size(); ++i)
      if (ev_[i].cpu == cpu) order.push_back(i);
    if (order.empty()) return;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ev_[a].time < ev_[b].time; });
    std::uint32_t cur = ev_[order.front()].task;
    for (std::size_t i : order)
      if (ev_[i].kind == TraceKind::CtxSwitch) {
        cur = static_cast<std::uint32_t>(ev_[i].a);
        break;
      }
    Cycles start = t_.dropped() > 0 ? ev_[order.front()].time : 0;
    auto run = [&](Cycles s, Cycles e, std::uint32_t task, std::size_t ref) {
      if (idle(task) || cycles_to_ns(s, t_.clock_hz) == cycles_to_ns(e, t_.clock_hz)) return;  // dropped
      item(Shape::Running, s, e, kCpuPid, cpu_tid(cpu), ref);
      items_.back().task = task;
    };
    for (std::size_t i : order) {
      const TraceEvent& e = ev_[i];
      if (e.kind != TraceKind::CtxSwitch) continue;
      run(start, e.time, cur, i);
      cur = e.next_task();
      start = std::max(start, e.time);
    }
    run(start, end_, cur, Span::kUnknownIndex);
  }

  /// Lock holds and waits, preempt-off and IRQ-off regions and interrupt handlers on the
  /// track of the task they belong to: complete slices where they nest, async slices
  /// where they do not. A span still open at the end of the trace ends there.
  void task_spans() {
    spans_ = collect_spans(ev_);
    if (!o_.lock_waits) std::erase_if(spans_, [](const Span& s) { return s.kind == SpanKind::LockWait; });
    mark_nesting(spans_);
    std::uint64_t cookie = 0;
    for (std::size_t k = 0; k < spans_.size(); ++k) {
      const Span& s = spans_[k];
      const Cycles end = s.open ? std::max(end_, s.start) : s.end;
      if (s.nested) {
        task_item(Shape::Span, s.start, end, s.task, k);
        continue;
      }
      ++cookie;
      task_item(Shape::AsyncBegin, s.start, s.start, s.task, k);
      items_.back().cookie = cookie;
      task_item(Shape::AsyncEnd, end, end, s.task, k);
      items_.back().cookie = cookie;
    }
  }

  void metadata(const std::function<void(nlohmann::json&&)>& sink) const {
    using nlohmann::json;
    auto meta = [&](const char* what, int pid, int tid, json args) {
      sink(json{{"ph", "M"}, {"name", what}, {"pid", pid}, {"tid", tid}, {"args", std::move(args)}});
    };
    meta("process_name", kCpuPid, cpu_tid(0), {{"name", "CPUs"}});
    meta("process_sort_index", kCpuPid, cpu_tid(0), {{"sort_index", 0}});
    for (int cpu = 0; cpu < ncpus_; ++cpu) {
      meta("thread_name", kCpuPid, cpu_tid(cpu), {{"name", "CPU " + std::to_string(cpu)}});
      meta("thread_sort_index", kCpuPid, cpu_tid(cpu), {{"sort_index", cpu}});
    }
    meta("thread_name", kCpuPid, rcu_tid(), {{"name", "RCU"}});
    meta("thread_sort_index", kCpuPid, rcu_tid(), {{"sort_index", ncpus_}});
    if (tasks_.empty()) return;
    const int first = task_tid(*tasks_.begin());
    meta("process_name", kTaskPid, first, {{"name", "Tasks"}});
    meta("process_sort_index", kTaskPid, first, {{"sort_index", 1}});
    for (std::uint32_t task : tasks_) {
      meta("thread_name", kTaskPid, task_tid(task), {{"name", t_.task_name(task)}});
      meta("thread_sort_index", kTaskPid, task_tid(task), {{"sort_index", task}});
    }
  }

  nlohmann::json to_json(const Item& it) const {
    using nlohmann::json;
    json j{{"pid", it.pid}, {"tid", it.tid}, {"ts", ns_to_us(it.ns0)}};
    json args{{"cycles", it.start}};
    std::string name;
    std::string cat;
    switch (it.shape) {
      case Shape::Running:
      case Shape::Span:
      case Shape::Rcu:
        j["ph"] = "X";
        j["dur"] = ns_to_us(it.ns1 - it.ns0);
        args["dur_cycles"] = it.end - it.start;
        break;
      case Shape::AsyncBegin:
      case Shape::AsyncEnd:
        j["ph"] = it.shape == Shape::AsyncBegin ? "b" : "e";
        j["id"] = it.cookie;
        break;
      case Shape::Instant:
        j["ph"] = "i";
        j["s"] = "t";
        break;
    }
    if (it.shape == Shape::Running) {
      name = t_.task_name(it.task);
      cat = "sched";
      args["pid"] = it.task;
      if (it.ref != Span::kUnknownIndex) {
        const std::string state = switch_state_letter(ev_[it.ref].switch_state());
        if (!state.empty()) args["end_state"] = state;
      }
    } else if (it.from_span) {
      span_fields(spans_[it.ref], name, cat, args);
    } else if (ev_[it.ref].kind == TraceKind::RcuGpEnd) {
      const TraceEvent& e = ev_[it.ref];
      name = "grace period";
      cat = "rcu";
      args["gp"] = e.a;
      args["duration_cycles"] = e.b;
    } else {
      instant_fields(ev_[it.ref], name, cat, args);
    }
    j["name"] = std::move(name);
    j["cat"] = std::move(cat);
    j["args"] = std::move(args);
    return j;
  }

  void span_fields(const Span& s, std::string& name, std::string& cat, nlohmann::json& args) const {
    name = span_name(t_, s);
    switch (s.kind) {
      case SpanKind::Lock:
        cat = "lock";
        if (!s.open) args["hold_cycles"] = s.end - s.start;
        if (s.wait != Span::kUnknown) args["wait_cycles"] = s.wait;
        break;
      case SpanKind::LockWait:
        cat = "lock_wait";
        args["wait_cycles"] = s.end - s.start;
        break;
      case SpanKind::PreemptOff: cat = "preemptoff"; break;
      case SpanKind::IrqOff: cat = "irqsoff"; break;
      case SpanKind::Irq:
        cat = "irq";
        args["vector"] = s.what;
        break;
    }
    if (s.open) args["open"] = true;  // not ended within the trace: drawn to its end
    if (!s.nested) args["nested"] = false;
    args["task"] = t_.task_name(s.task);
    args["cpu"] = s.cpu;
  }

  void instant_fields(const TraceEvent& e, std::string& name, std::string& cat, nlohmann::json& args) const {
    args["cpu"] = e.cpu;
    switch (e.kind) {
      case TraceKind::Bug: {
        const std::string& text = t_.str(e.a);
        const auto colon = text.find(": ");
        name = colon == std::string::npos ? text : text.substr(0, colon);
        cat = "bug";
        args["message"] = text;
        args["fatal"] = e.b != 0;
        args["task"] = t_.task_name(e.task);
        return;
      }
      case TraceKind::Wakeup:
        name = "sched_waking";
        cat = "sched";
        args["comm"] = t_.task_name(static_cast<std::uint32_t>(e.a));
        args["pid"] = e.a;
        args["waker"] = t_.task_name(e.task);
        args["target_cpu"] = e.b;
        return;
      case TraceKind::TaskStart:
      case TraceKind::TaskExit:
        name = e.kind == TraceKind::TaskStart ? "task_start" : "task_exit";
        cat = "sched";
        args["comm"] = t_.task_name(static_cast<std::uint32_t>(e.a));
        args["pid"] = e.a;
        return;
      case TraceKind::IpiSend:
        name = "ipi_send";
        cat = "ipi";
        args["target_cpu"] = e.a;
        args["type"] = ipi_type(e.b);
        return;
      case TraceKind::IpiHandle:
        name = "ipi_entry";
        cat = "ipi";
        args["type"] = ipi_type(e.a);
        return;
      case TraceKind::Tick:
        name = "tick";
        cat = "irq";
        args["tick"] = e.a;
        return;
      case TraceKind::RcuGpStart:
        name = "gp start";
        cat = "rcu";
        args["gp"] = e.a;
        return;
      case TraceKind::TlbFlush:
        name = "tlb_flush";
        cat = "mm";
        args["address"] = e.a;
        args["pages"] = e.b;
        return;
      case TraceKind::PageFault:
        name = "page_fault";
        cat = "mm";
        args["address"] = e.a;
        args["write"] = e.b != 0;
        return;
      case TraceKind::Mark:
        name = t_.str(e.a);
        cat = "mark";
        args["value"] = e.b;
        return;
      default:
        name = trace_kind_name(e.kind);
        cat = "other";
        args["a"] = e.a;
        args["b"] = e.b;
        return;
    }
  }

  const Trace& t_;
  const PerfettoOptions& o_;
  std::vector<TraceEvent> ev_;
  int ncpus_ = 0;
  int task_tid0_ = 1000;
  Cycles end_ = 0;
  std::vector<Span> spans_;
  std::vector<Item> items_;
  std::set<std::uint32_t> tasks_;  // tasks with a track
};

}  // namespace

nlohmann::json perfetto_json(const Trace& trace, const PerfettoOptions& options) {
  Builder b(trace, options);
  nlohmann::json events = nlohmann::json::array();
  b.run([&](nlohmann::json&& j) { events.push_back(std::move(j)); });
  return {{"traceEvents", std::move(events)}, {"otherData", b.other_data()}};
}

void write_perfetto(std::ostream& out, const Trace& trace, const PerfettoOptions& options) {
  Builder b(trace, options);
  out << "{\"otherData\":" << b.other_data().dump() << ",\"traceEvents\":[\n";
  bool first = true;
  b.run([&](nlohmann::json&& j) {
    if (!first) out << ",\n";
    first = false;
    out << j.dump();
  });
  out << "\n]}\n";
}

void write_perfetto_file(const std::string& path, const Trace& trace, const PerfettoOptions& options) {
  std::ofstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path + " for writing");
  write_perfetto(f, trace, options);
  f.flush();
  if (!f) throw std::runtime_error("error writing " + path);
}

}  // namespace smpemu
