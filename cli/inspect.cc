#include "cli/inspect.h"

#include <cstdio>

#include "cli/hist_text.h"
#include "cli/lock_stat.h"
#include "cli/number_check.h"
#include "cli/output_file.h"
#include "cli/text.h"
#include "emu/errors.h"
#include "emu/limits.h"
#include "emu/machine.h"
#include "traces/ftrace.h"
#include "traces/perfetto.h"

namespace smpemu {

namespace {

const NumberSpec& until_spec() {
  static const NumberSpec spec{1, ~0ULL - 1, "a positive cycle count", ""};
  return spec;
}

const NumberSpec& trace_buffer_spec() {
  static const NumberSpec spec = count_spec(1, limits::kTraceBuffer);
  return spec;
}

}  // namespace

void add_inspect_options(CLI::App* cmd, InspectOptions& o) {
  cmd->add_option("--until", o.until, "Stop when the CPUs reach this cycle and print the machine state")
      ->transform(number_check(until_spec()));
  cmd->add_option("--stop-at", o.stop_at,
                  "Stop at an event and print the machine state: " + stop_condition_help());
  cmd->add_option("--trace", o.trace, "Write a trace: Perfetto/Chrome JSON (*.json) or ftrace text (other names)");
  cmd->add_option("--trace-format", o.trace_format, "Trace format (default: from the file name)")
      ->check(CLI::IsMember(std::vector<std::string>{"perfetto", "ftrace"}));
  cmd->add_option("--trace-buffer", o.trace_buffer, "Trace ring buffer: the last N events are kept")
      ->transform(number_check(trace_buffer_spec()))
      ->capture_default_str();
  cmd->add_flag("--trace-detail", o.trace_detail, "Also trace every sync point (loads, stores, atomics)");
  cmd->add_flag("--hist", o.hist, "Print every histogram as a log2 histogram (bcc style)");
  cmd->add_option("--hist-unit", o.hist_unit, "Unit of --hist")
      ->check(CLI::Validator(
          [](std::string& unit) {
            return parse_hist_unit(unit) ? std::string() : smpemu::quoted(unit) + " is not cycles, nsecs, usecs or msecs";
          },
          "cycles|nsecs|usecs|msecs"))
      ->capture_default_str();
  cmd->add_flag("--lock-stat", o.lock_stat, "Print a /proc/lock_stat-style table");
  cmd->add_flag("--lock-contention", o.lock_contention,
                "Print a perf lock contention-style summary: contended acquisitions by caller, by total wait");
  cmd->add_flag("--wait-profile", o.wait_profile,
                "Print a perf report-style profile of CPU time blocked on and spinning for locks, by class and call "
                "path; add it to the metrics (blocked.*, spin.*)");
}

nlohmann::json snapshot_json(const MachineSnapshot& s) {
  using nlohmann::json;
  json cpus = json::array();
  for (const CpuSnapshot& c : s.cpus)
    cpus.push_back({{"cpu", c.id},
                    {"clock", c.clock},
                    {"state", c.state},
                    {"task", c.task},
                    {"preempt_count", c.preempt_count},
                    {"irqs_off", c.irqs_off},
                    {"need_resched", c.need_resched},
                    {"in_irq", c.in_irq},
                    {"runqueue", c.runqueue},
                    {"next_tick", c.next_tick},
                    {"pending_ipis", c.pending_ipis}});
  json tasks = json::array();
  for (const TaskSnapshot& t : s.tasks)
    tasks.push_back({{"id", t.id},
                     {"name", t.name},
                     {"cpu", t.cpu},
                     {"state", t.state},
                     {"preempt_count", t.preempt_count},
                     {"rcu_nesting", t.rcu_nesting},
                     {"held", t.held},
                     {"waiting_for", t.waiting_for}});
  json events = json::array();
  for (const PendingEventSnapshot& e : s.events) events.push_back({{"time", e.time}, {"cpu", e.cpu}, {"what", e.what}});
  return {{"end", s.end}, {"stop_at", s.stop_condition}, {"cpus", cpus}, {"tasks", tasks}, {"pending_events", events}};
}

Inspector::Inspector(const InspectOptions& o, RunConfig& cfg) : o_(o) {
  if (!o.until.empty()) {
    cfg.params.max_cycles = parse_number("--until", o.until, until_spec());
    until_ = true;
  }
  if (!o.trace_format.empty() && o.trace_format != "perfetto" && o.trace_format != "ftrace")
    throw ConfigError("bad --trace-format " + quoted(o.trace_format) + " (expected perfetto or ftrace)");
  if (!o.trace_format.empty() && o.trace.empty()) throw ConfigError("--trace-format needs --trace FILE");
  const std::uint64_t cap = parse_number("--trace-buffer", o.trace_buffer, trace_buffer_spec());
  if (!o.trace.empty()) {
    check_output_file(o.trace, "trace");  // before the run, not after it
    trace_ = std::make_unique<Trace>(static_cast<std::size_t>(cap), o.trace_detail);
    trace_->workload = cfg.workload;
  }
  if (o.lock_stat || o.lock_contention) {
    if (!trace_) trace_ = std::make_unique<Trace>(MachineParams::kHistoryEvents);  // bug reports see what they would
    locks_ = std::make_unique<LockProfile>();
    trace_->set_listener(locks_.get());
  }
  if (o.wait_profile) cfg.wait_profile = true;
  if (!parse_hist_unit(o.hist_unit))
    throw ConfigError("bad --hist-unit " + quoted(o.hist_unit) + " (expected cycles, nsecs, usecs or msecs)");
  if (!o.stop_at.empty()) {
    try {
      stop_ = parse_stop_condition(o.stop_at);
    } catch (const std::invalid_argument& e) {  // the engine's parser echoes the text raw
      throw ConfigError(escape_nonprintable(e.what()));
    }
  }
}

void Inspector::prepare(Machine& m) {
  if (trace_) m.set_trace(trace_.get());
  if (stop_.kind != StopCondition::Kind::None) m.set_stop_condition(stop_);
}

void Inspector::note_unreached() const {
  if (stop_.kind != StopCondition::Kind::None && snapshot_ && snapshot_->stop_condition.empty())
    std::fprintf(stderr, "smpemu: note: --stop-at %s was not reached; the state is at the end of the run\n",
                 stop_.spec.c_str());
}

void Inspector::after(Machine& m) {
  if (stopping()) snapshot_ = m.snapshot();
}

std::string Inspector::finish(const RunResult& r) {
  if (!o_.trace.empty()) {
    const bool json = o_.trace_format == "perfetto" ||
                      (o_.trace_format.empty() && o_.trace.size() >= 5 &&
                       o_.trace.compare(o_.trace.size() - 5, 5, ".json") == 0);
    AtomicOutputFile f(o_.trace, "trace");
    if (json)
      write_perfetto(f.stream(), *trace_);
    else
      write_ftrace(f.stream(), *trace_);
    f.commit();
  }
  std::string out;
  if (o_.hist) out += log2_histograms(r, *parse_hist_unit(o_.hist_unit));
  if (o_.lock_stat) out += lock_stat_table(*locks_, r.clock_hz);
  if (o_.lock_contention) out += lock_contention_table(*locks_, r.clock_hz);
  if (o_.wait_profile && r.waits) out += wait_profile_table(*r.waits);
  return out;
}

}  // namespace smpemu
