// `smpemu explore WORKLOAD --preemptions C ...`: every schedule with at most C
// preemptions (cli/explore.h), until the first bug. Exit status 0 (no bug in the
// schedules run, complete or not: the text and `complete` say which), 1 (a bug: its
// record is written for `smpemu replay`), 2 (usage error).
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/explore.h"
#include "cli/options.h"
#include "cli/output_file.h"
#include "cli/parallel.h"
#include "cli/text.h"
#include "emu/errors.h"
#include "emu/limits.h"

namespace smpemu {

namespace {

struct ExploreCliOptions {
  std::string workload;
  ConfigOptions config;
  std::uint64_t preemptions = 2, max_schedules = 100000;
  std::string prune = "hbr";
  std::string record;
  bool json = false;
};

int cmd_explore(const ExploreCliOptions& o, const CliMode& mode) {
  ExploreOptions e;
  e.base.workload = o.workload;
  std::string record = o.record;
  try {
    if (o.config.strategy != "time")
      throw ConfigError("--strategy: explore runs every schedule itself and takes no strategy");
    apply_config_options(o.config, e.base);
    double unused_seconds = 0;
    apply_campaign_limits(o.config, e.base, 0, unused_seconds);
    e.preemptions = o.preemptions;
    e.max_schedules = o.max_schedules;
    e.prune = o.prune == "hbr";
    if (record.empty()) record = o.workload + "-explore.rec";
    check_output_file(record, "record");
    validate(e.base);
  } catch (const ConfigError& err) {
    return usage_error(err.what());
  }
  if (mode.validate_only) return kExitOk;
  ProgressLine line;
  if (line.enabled())
    e.progress = [&](std::uint64_t n) {
      if (n % 64 == 0) line.update(fmt::format("explore {}: {} schedules", o.workload, n));
    };
  ExploreResult r;
  try {
    r = run_explore(e);
    line.finish();
    if (r.bug) write_record(record, r.bug->record);
  } catch (const ConfigError& err) {
    line.finish();
    return usage_error(err.what());
  }
  if (o.json)
    std::cout << explore_to_json(r, record).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  else
    std::cout << explore_to_text(e, r, record);
  return r.bug ? kExitBug : kExitOk;
}

}  // namespace

Command add_explore_command(CLI::App& app) {
  auto o = std::make_shared<ExploreCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "explore", "Run every schedule of a small workload with at most C preemptions, until the first bug");
  cmd->add_option("workload", o->workload, "Workload name (see `smpemu list`)")->required();
  cmd->add_option("--preemptions", o->preemptions,
                  "Preemption bound C: departures from time order while a CPU could go on")
      ->transform(count_check(0, limits::kExplorePreemptions))
      ->required();
  cmd->add_option("--max-schedules", o->max_schedules, "Stop after this many schedules (the result is then incomplete)")
      ->transform(count_check(1, limits::kExploreSchedules))
      ->capture_default_str();
  cmd->add_option("--prune", o->prune,
                  "hbr: skip what a run reaches that an earlier run reached with no more preemptions "
                  "(happens-before caching; off with --jitter); none: run every schedule")
      ->check(CLI::IsMember({"hbr", "none"}))
      ->capture_default_str();
  cmd->add_option("--record", o->record, "Where the failing schedule's record goes (default WORKLOAD-explore.rec)");
  add_config_options(cmd, o->config);
  cmd->add_flag("--json", o->json, "Print one JSON object");
  return {cmd, [o](const CliMode& mode) { return cmd_explore(*o, mode); }};
}

}  // namespace smpemu
