#include "traces/spans.h"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

namespace smpemu {

namespace {

Cycles end_key(const Span& s) { return s.open ? std::numeric_limits<Cycles>::max() : s.end; }

bool span_before(const Span& a, const Span& b) {
  const auto ka = std::make_tuple(a.task, a.start, end_key(b), a.kind, a.begin_ev, a.end_ev);
  const auto kb = std::make_tuple(b.task, b.start, end_key(a), b.kind, b.begin_ev, b.end_ev);
  return ka < kb;
}

/// The interrupt vector an entry event opens (Tick, IpiHandle), or 0.
std::uint64_t entry_vector(const TraceEvent& e) {
  if (e.kind == TraceKind::Tick) return irq_vector::kLocalTimer;
  if (e.kind == TraceKind::IpiHandle) return e.a ? irq_vector::kCallFunction : irq_vector::kReschedule;
  return 0;
}

}  // namespace

std::vector<Span> collect_spans(const std::vector<TraceEvent>& ev) {
  std::vector<Span> out;
  // Acquisitions not yet claimed by a release: (task, lock, time) -> event index.
  std::multimap<std::tuple<std::uint32_t, std::uint64_t, Cycles>, std::size_t> acquires;
  for (std::size_t i = 0; i < ev.size(); ++i)
    if (ev[i].kind == TraceKind::LockAcquire)
      acquires.emplace(std::make_tuple(ev[i].task, ev[i].lock_name(), ev[i].time), i);
  std::map<std::int16_t, std::size_t> irq_entry;  // cpu -> index of the interrupt entry in progress

  auto add = [&](Cycles start, const TraceEvent& e, SpanKind kind, std::size_t begin_ev, std::size_t end_ev) -> Span& {
    Span s;
    s.start = std::min(start, e.time);
    s.end = e.time;
    s.kind = kind;
    s.task = e.task;
    s.cpu = e.cpu;
    s.begin_ev = begin_ev;
    s.end_ev = end_ev;
    out.push_back(s);
    return out.back();
  };

  for (std::size_t i = 0; i < ev.size(); ++i) {
    const TraceEvent& e = ev[i];
    switch (e.kind) {
      case TraceKind::LockRelease: {
        const Cycles start = e.time - std::min(e.b, e.time);
        std::size_t begin = Span::kUnknownIndex;
        if (auto it = acquires.find(std::make_tuple(e.task, e.lock_name(), start)); it != acquires.end()) {
          begin = it->second;
          acquires.erase(it);
        }
        Span& s = add(start, e, SpanKind::Lock, begin, i);
        s.what = e.lock_name();
        if (begin != Span::kUnknownIndex) s.wait = ev[begin].b;
        break;
      }
      case TraceKind::LockContend:
        // Recorded at the acquisition, right before its LockAcquire, stamped with the request time.
        if (i + 1 < ev.size() && ev[i + 1].kind == TraceKind::LockAcquire && ev[i + 1].lock_name() == e.lock_name() &&
            ev[i + 1].cpu == e.cpu) {
          Span& s = add(e.time, ev[i + 1], SpanKind::LockWait, i, i + 1);
          s.what = e.lock_name();
        }
        break;
      case TraceKind::PreemptOff: add(e.a, e, SpanKind::PreemptOff, Span::kUnknownIndex, i); break;
      case TraceKind::IrqOff: add(e.a, e, SpanKind::IrqOff, Span::kUnknownIndex, i); break;
      case TraceKind::Tick:
      case TraceKind::IpiHandle: irq_entry[e.cpu] = i; break;
      case TraceKind::IrqExit: {
        auto it = irq_entry.find(e.cpu);
        if (it != irq_entry.end() && entry_vector(ev[it->second]) == e.a) {
          Span& s = add(ev[it->second].time, ev[it->second], SpanKind::Irq, it->second, i);
          s.end = std::max(s.start, e.time);
          s.what = e.a;
        }
        if (it != irq_entry.end()) irq_entry.erase(it);
        break;
      }
      default: break;
    }
  }
  // Acquisitions never released within the trace.
  for (const auto& [key, i] : acquires) {
    Span& s = add(ev[i].time, ev[i], SpanKind::Lock, i, Span::kUnknownIndex);
    s.open = true;
    s.what = ev[i].lock_name();
    s.wait = ev[i].b;
  }
  std::sort(out.begin(), out.end(), span_before);
  return out;
}

void mark_nesting(std::vector<Span>& spans) {
  std::vector<const Span*> stack;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    Span& s = spans[i];
    if (i == 0 || spans[i - 1].task != s.task) stack.clear();
    while (!stack.empty() && end_key(*stack.back()) <= s.start) stack.pop_back();
    s.nested = stack.empty() || end_key(*stack.back()) >= end_key(s);
    if (s.nested) stack.push_back(&s);
  }
}

std::vector<SpanEdge> span_edges(const std::vector<Span>& spans) {
  std::vector<SpanEdge> out;
  out.reserve(2 * spans.size());
  std::vector<SpanEdge> task_edges;
  std::vector<SpanEdge> async;
  std::vector<std::size_t> stack;
  auto by_time = [](const SpanEdge& a, const SpanEdge& b) { return a.time < b.time; };
  for (std::size_t i = 0; i < spans.size();) {
    const std::uint32_t task = spans[i].task;
    task_edges.clear();
    async.clear();
    stack.clear();
    auto pop_until = [&](Cycles t, bool all) {
      while (!stack.empty() && (all || end_key(spans[stack.back()]) <= t)) {
        const Span& top = spans[stack.back()];
        if (!top.open) task_edges.push_back({top.end, stack.back(), false});
        stack.pop_back();
      }
    };
    for (; i < spans.size() && spans[i].task == task; ++i) {
      const Span& s = spans[i];
      if (!s.nested) {
        async.push_back({s.start, i, true});
        if (!s.open) async.push_back({s.end, i, false});
        continue;
      }
      pop_until(s.start, false);
      task_edges.push_back({s.start, i, true});
      stack.push_back(i);
    }
    pop_until(0, true);
    // The stack edges are in time order already; the async ones join them by time.
    std::stable_sort(async.begin(), async.end(), by_time);
    const std::size_t mid = out.size();
    out.insert(out.end(), task_edges.begin(), task_edges.end());
    out.insert(out.end(), async.begin(), async.end());
    std::inplace_merge(out.begin() + static_cast<std::ptrdiff_t>(mid),
                       out.begin() + static_cast<std::ptrdiff_t>(mid + task_edges.size()), out.end(), by_time);
  }
  std::stable_sort(out.begin(), out.end(), by_time);
  return out;
}

const char* irq_vector_name(std::uint64_t vector) {
  switch (vector) {
    case irq_vector::kLocalTimer: return "local_timer";
    case irq_vector::kCallFunction: return "call_function";
    case irq_vector::kReschedule: return "reschedule";
  }
  return "irq";
}

std::string span_name(const Trace& trace, const Span& s) {
  switch (s.kind) {
    case SpanKind::Lock: return trace.str(s.what);
    case SpanKind::LockWait: return "wait " + trace.str(s.what);
    case SpanKind::PreemptOff: return "preempt off";
    case SpanKind::IrqOff: return "irqs off";
    case SpanKind::Irq: return std::string("irq: ") + irq_vector_name(s.what);
  }
  return "?";
}

}  // namespace smpemu
