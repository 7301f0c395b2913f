// Hand-made traces for exporter tests: one CPU at 1 GHz, tasks named by id, events
// added in order.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "traces/trace.h"

namespace smpemu {

/// A one-CPU trace at 1 GHz whose tasks are `names` ({id, name}).
inline Trace one_cpu_trace(const std::vector<std::pair<std::uint32_t, std::string>>& names,
                           std::size_t capacity = 64) {
  Trace t(capacity);
  t.ncpus = 1;
  t.clock_hz = 1e9;
  for (const auto& [id, name] : names) t.set_task_name(id, name);
  return t;
}

/// Adds an event of `task` on CPU 0 with no state flags.
inline void add_event(Trace& t, Cycles time, std::uint32_t task, TraceKind k, std::uint64_t a, std::uint64_t b) {
  t.add(TraceEvent{time, a, b, task, 0, k, 0});
}

}  // namespace smpemu
