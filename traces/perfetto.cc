#include "traces/perfetto.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <ostream>
#include <set>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace smpemu {

namespace {

constexpr std::uint32_t kNoOwner = ~0u;
/// pid 0 and tid 0 mean the kernel's swapper to Perfetto (it renames or merges them), so
/// the lanes live in pid 1 and lane L (CPU L, then RCU) is tid L + 1.
constexpr int kPid = 1;
int tid_of(int lane) { return lane + 1; }

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

enum class Level : std::uint8_t { Task, IrqOff, PreemptOff, LockWait, Lock, Rcu, Instant };

/// A span or instant before it becomes JSON: compact, so a large trace sorts cheaply.
struct Item {
  Cycles start = 0;
  Cycles end = 0;
  int tid = 0;  ///< lane: CPU number, or ncpus for the RCU lane
  Level level = Level::Instant;
  std::uint32_t owner = kNoOwner;  ///< task whose running time clips the span
  std::size_t ev = 0;              ///< index of the source event
  std::uint64_t extra = ~0ULL;     ///< lock spans: wait cycles (~0 when unknown); task spans: task id
  bool split = false;
};

bool is_idle_name(const std::string& name) { return name.rfind("swapper/", 0) == 0; }

const char* ipi_type(std::uint64_t fn) { return fn ? "function" : "reschedule"; }

class Builder {
 public:
  Builder(const Trace& t, const PerfettoOptions& o) : t_(t), o_(o), ev_(t.events()) {
    ncpus_ = std::max(t.ncpus, 0);
    for (const TraceEvent& e : ev_) {
      ncpus_ = std::max(ncpus_, e.cpu + 1);
      end_ = std::max(end_, e.time);
    }
  }

  /// Emits metadata, then every span and instant in (start, longest first) order.
  void run(const std::function<void(nlohmann::json&&)>& sink) {
    collect();
    metadata(sink);
    std::stable_sort(items_.begin(), items_.end(), [](const Item& a, const Item& b) {
      return std::tie(a.start, b.end, a.level, a.tid) < std::tie(b.start, a.end, b.level, b.tid);
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
  int rcu_tid() const { return ncpus_; }

  void collect() {
    std::vector<std::vector<Item>> spans(static_cast<std::size_t>(ncpus_) + 1);  // + the RCU lane
    std::vector<std::vector<std::size_t>> lane_events(static_cast<std::size_t>(ncpus_));
    std::map<std::pair<std::uint32_t, std::uint64_t>, std::vector<std::uint64_t>> waits;  // (task, lock) -> waits
    for (std::size_t i = 0; i < ev_.size(); ++i) {
      const TraceEvent& e = ev_[i];
      if (e.cpu < 0) continue;
      auto& lane = spans[static_cast<std::size_t>(e.cpu)];
      lane_events[static_cast<std::size_t>(e.cpu)].push_back(i);
      switch (e.kind) {
        case TraceKind::LockAcquire: {
          waits[{e.task, e.a}].push_back(e.b);
          const bool contended =
              i > 0 && ev_[i - 1].kind == TraceKind::LockContend && ev_[i - 1].a == e.a && ev_[i - 1].cpu == e.cpu;
          if (contended && o_.lock_waits)
            lane.push_back(span(e.time - std::min(e.b, e.time), e.time, e.cpu, Level::LockWait, e.task, i, e.b));
          break;
        }
        case TraceKind::LockRelease: {
          std::uint64_t wait = ~0ULL;
          auto w = waits.find({e.task, e.a});
          if (w != waits.end() && !w->second.empty()) {
            wait = w->second.back();
            w->second.pop_back();
          }
          lane.push_back(span(e.time - std::min(e.b, e.time), e.time, e.cpu, Level::Lock, e.task, i, wait));
          break;
        }
        case TraceKind::PreemptOff:
          lane.push_back(span(std::min(e.a, e.time), e.time, e.cpu, Level::PreemptOff, e.task, i, 0));
          break;
        case TraceKind::IrqOff:
          lane.push_back(span(std::min(e.a, e.time), e.time, e.cpu, Level::IrqOff, e.task, i, 0));
          break;
        case TraceKind::RcuGpEnd:
          spans.back().push_back(span(e.time - std::min(e.b, e.time), e.time, rcu_tid(), Level::Rcu, kNoOwner, i, 0));
          break;
        case TraceKind::RcuGpStart: instant(e.time, rcu_tid(), i); break;
        case TraceKind::Tick:
          if (o_.ticks) instant(e.time, e.cpu, i);
          break;
        case TraceKind::LockContend:  // drawn as the wait span
        case TraceKind::Sync:
        case TraceKind::CtxSwitch:  // drawn as task spans
          break;
        default: instant(e.time, e.cpu, i); break;
      }
    }
    for (int cpu = 0; cpu < ncpus_; ++cpu) {
      auto& lane = spans[static_cast<std::size_t>(cpu)];
      std::vector<Item> tasks = task_spans(cpu, lane_events[static_cast<std::size_t>(cpu)], lane);
      nest(tasks, lane);
    }
    nest({}, spans.back());
  }

  Item span(Cycles s, Cycles e, int tid, Level l, std::uint32_t owner, std::size_t ev, std::uint64_t extra) const {
    Item it;
    it.start = s;
    it.end = std::max(s, e);
    it.tid = tid;
    it.level = l;
    it.owner = owner;
    it.ev = ev;
    it.extra = extra;
    return it;
  }

  void instant(Cycles time, int tid, std::size_t ev) {
    items_.push_back(span(time, time, tid, Level::Instant, kNoOwner, ev, 0));
  }

  /// Running intervals of the tasks on one CPU, from its context switches.
  std::vector<Item> task_spans(int cpu, const std::vector<std::size_t>& idx, const std::vector<Item>& lane) const {
    std::vector<Item> out;
    if (idx.empty()) return out;
    std::vector<std::size_t> order = idx;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return ev_[a].time < ev_[b].time; });
    std::uint32_t cur = ev_[order.front()].task;
    for (std::size_t i : order)
      if (ev_[i].kind == TraceKind::CtxSwitch) {
        cur = static_cast<std::uint32_t>(ev_[i].a);
        break;
      }
    Cycles start = 0;
    if (t_.dropped() > 0) {  // the lane starts with the oldest thing we know of
      start = ev_[order.front()].time;
      for (const Item& s : lane) start = std::min(start, s.start);
    }
    for (std::size_t i : order) {
      const TraceEvent& e = ev_[i];
      if (e.kind != TraceKind::CtxSwitch) continue;
      out.push_back(span(start, e.time, cpu, Level::Task, cur, i, cur));
      cur = static_cast<std::uint32_t>(e.b);
      start = std::max(start, e.time);
    }
    out.push_back(span(start, end_, cpu, Level::Task, cur, order.back(), cur));
    return out;
  }

  /// Places task spans, then the other spans of the lane outermost first, cutting each
  /// at the boundaries of spans already placed that fall inside it (so the lane stays
  /// properly nested) and dropping pieces outside their owner's running time.
  void nest(const std::vector<Item>& tasks, std::vector<Item>& others) {
    std::set<Cycles> points;
    for (const Item& t : tasks) {
      points.insert(t.start);
      points.insert(t.end);
      if (!is_idle_name(t_.task_name(t.owner))) items_.push_back(t);
    }
    std::stable_sort(others.begin(), others.end(), [](const Item& a, const Item& b) {
      return std::tie(a.start, b.end, a.level) < std::tie(b.start, a.end, b.level);
    });
    std::vector<Item> pieces;
    for (const Item& s : others) {
      pieces.clear();
      Cycles from = s.start;
      for (auto p = points.upper_bound(s.start); p != points.end() && *p < s.end; ++p) {
        pieces.push_back(s);
        pieces.back().start = from;
        pieces.back().end = *p;
        from = *p;
      }
      pieces.push_back(s);
      pieces.back().start = from;
      const std::size_t cut = pieces.size();
      std::erase_if(pieces, [&](const Item& p) { return s.owner != kNoOwner && !owner_runs(tasks, p); });
      for (Item& p : pieces) {
        p.split = cut > 1;
        points.insert(p.start);
        points.insert(p.end);
        items_.push_back(p);
      }
    }
  }

  static bool owner_runs(const std::vector<Item>& tasks, const Item& p) {
    auto it =
        std::upper_bound(tasks.begin(), tasks.end(), p.start, [](Cycles v, const Item& t) { return v < t.start; });
    while (it != tasks.begin()) {
      --it;
      if (it->end < p.start) break;
      if (it->end >= p.end && it->owner == p.owner) return true;
    }
    return false;
  }

  void metadata(const std::function<void(nlohmann::json&&)>& sink) const {
    using nlohmann::json;
    sink(json{{"ph", "M"}, {"name", "process_name"}, {"pid", kPid}, {"tid", tid_of(0)}, {"args", {{"name", "CPUs"}}}});
    sink(json{
        {"ph", "M"}, {"name", "process_sort_index"}, {"pid", kPid}, {"tid", tid_of(0)}, {"args", {{"sort_index", 0}}}});
    for (int lane = 0; lane <= ncpus_; ++lane) {
      const std::string name = lane == ncpus_ ? "RCU" : "CPU " + std::to_string(lane);
      sink(
          json{{"ph", "M"}, {"name", "thread_name"}, {"pid", kPid}, {"tid", tid_of(lane)}, {"args", {{"name", name}}}});
      sink(json{{"ph", "M"},
                {"name", "thread_sort_index"},
                {"pid", kPid},
                {"tid", tid_of(lane)},
                {"args", {{"sort_index", lane}}}});
    }
  }

  nlohmann::json to_json(const Item& it) const {
    using nlohmann::json;
    const TraceEvent& e = ev_[it.ev];
    const std::int64_t ns0 = cycles_to_ns(it.start, t_.clock_hz);
    json j{{"pid", kPid}, {"tid", tid_of(it.tid)}, {"ts", ns_to_us(ns0)}};
    json args{{"cycles", it.start}};
    std::string name;
    std::string cat;
    if (it.level != Level::Instant) {
      j["ph"] = "X";
      j["dur"] = ns_to_us(cycles_to_ns(it.end, t_.clock_hz) - ns0);
      args["dur_cycles"] = it.end - it.start;
      if (it.split) args["split"] = true;
    } else {
      j["ph"] = "i";
      j["s"] = "t";
    }
    switch (it.level) {
      case Level::Task:
        name = t_.task_name(it.owner);
        cat = "task";
        args["pid"] = it.owner;
        break;
      case Level::IrqOff:
      case Level::PreemptOff:
        name = it.level == Level::IrqOff ? "irqs off" : "preempt off";
        cat = it.level == Level::IrqOff ? "irqsoff" : "preemptoff";
        args["region_cycles"] = e.time - std::min(e.a, e.time);
        args["task"] = t_.task_name(e.task);
        break;
      case Level::LockWait:
        name = "wait " + t_.str(e.a);
        cat = "lock_wait";
        args["wait_cycles"] = e.b;
        args["task"] = t_.task_name(e.task);
        break;
      case Level::Lock:
        name = t_.str(e.a);
        cat = "lock";
        args["hold_cycles"] = e.b;
        if (it.extra != ~0ULL) args["wait_cycles"] = it.extra;
        args["task"] = t_.task_name(e.task);
        break;
      case Level::Rcu:
        name = "grace period";
        cat = "rcu";
        args["gp"] = e.a;
        args["duration_cycles"] = e.b;
        break;
      case Level::Instant: instant_fields(e, name, cat, args); break;
    }
    j["name"] = std::move(name);
    j["cat"] = std::move(cat);
    j["args"] = std::move(args);
    return j;
  }

  void instant_fields(const TraceEvent& e, std::string& name, std::string& cat, nlohmann::json& args) const {
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
        name = "sched_wakeup";
        cat = "sched";
        args["comm"] = t_.task_name(static_cast<std::uint32_t>(e.a));
        args["pid"] = e.a;
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
  Cycles end_ = 0;
  std::vector<Item> items_;
};

}  // namespace

nlohmann::json perfetto_json(const Trace& trace, const PerfettoOptions& options) {
  Builder b(trace, options);
  nlohmann::json events = nlohmann::json::array();
  b.run([&](nlohmann::json&& j) { events.push_back(std::move(j)); });
  return {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ns"}, {"otherData", b.other_data()}};
}

void write_perfetto(std::ostream& out, const Trace& trace, const PerfettoOptions& options) {
  Builder b(trace, options);
  out << "{\"displayTimeUnit\":\"ns\",\"otherData\":" << b.other_data().dump() << ",\"traceEvents\":[\n";
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
