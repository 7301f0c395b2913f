#include "cli/inspect.h"

#include <cstdio>

#include "emu/errors.h"
#include "emu/machine.h"

namespace smpemu {

void add_inspect_options(CLI::App* cmd, InspectOptions& o) {
  cmd->add_option("--until", o.until, "Stop when the CPUs reach this cycle and print the machine state");
  cmd->add_option("--stop-at", o.stop_at,
                  "Stop at an event and print the machine state: " + stop_condition_help());
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
    std::uint64_t v = 0;
    if (!parse_unsigned(o.until, ~0ULL - 1, v) || v == 0)
      throw ConfigError("bad --until '" + o.until + "' (expected a positive cycle count)");
    cfg.params.max_cycles = v;
    until_ = true;
  }
  if (!o.stop_at.empty()) {
    try {
      stop_ = parse_stop_condition(o.stop_at);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(e.what());
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

}  // namespace smpemu
