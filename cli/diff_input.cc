#include "cli/diff_input.h"

#include <cstdio>

#include "cli/text.h"
#include "emu/errors.h"
#include "emu/machine.h"
#include "traces/ftrace.h"
#include "traces/trace_diff.h"

namespace smpemu {

bool looks_like_record(const std::string& text) {
  const auto i = text.find_first_not_of(" \t\r\n");
  return i != std::string::npos && text[i] == '{';
}

DiffInput parse_diff_input(const std::string& text, const std::string& name) {
  DiffInput in;
  if (looks_like_record(text)) {
    in.record = parse_record(text, name);
    return in;
  }
  // ftrace text opens with the tracer line, as the kernel's `trace` file does.
  if (text.rfind("# tracer:", 0) != 0)
    throw ConfigError("trace " + quoted(name) + " is neither a record nor ftrace text (no '# tracer:' line)");
  in.lines = split_lines(text);
  return in;
}

std::vector<std::string> diff_lines(const DiffInput& in, const std::string& name, std::size_t capacity) {
  if (!in.record) return in.lines;
  const Record& rec = *in.record;
  Trace trace(capacity, true);
  trace.workload = rec.config.workload;
  replay_record(rec, nullptr, [&](Machine& m) { m.set_trace(&trace); });
  if (trace.dropped())
    std::fprintf(stderr, "smpemu: note: %s: the trace kept the last %zu events of %llu (raise --buffer)\n",
                 quoted(name).c_str(), capacity, static_cast<unsigned long long>(trace.written()));
  FtraceOptions fo;
  fo.cycles = true;
  return ftrace_lines(trace, fo);
}

}  // namespace smpemu
