// `smpemu run WORKLOAD ...`: one run, reported as text or as the JSON object of
// docs/USAGE.md. Exit status 0 (no bug), 1 (bug reports), 2 (usage error).
// --record FILE writes a record for `smpemu replay`; --until / --stop-at stop the run
// and print the machine state (cli/inspect.h).
#include <iostream>
#include <memory>

#include "cli/inspect.h"
#include "cli/options.h"
#include "cli/output_file.h"
#include "cli/record.h"
#include "cli/report.h"
#include "cli/text.h"
#include "emu/errors.h"
#include "emu/portfolio.h"

namespace smpemu {

namespace {

struct RunOptions {
  std::string workload;
  ConfigOptions config;
  InspectOptions inspect;
  std::string record;
  bool json = false;
};

int cmd_run(const RunOptions& o, const CliMode& mode) {
  RunConfig cfg;
  cfg.workload = o.workload;
  RunResult r;
  Record rec;
  std::unique_ptr<Inspector> inspector;
  std::string extras;
  try {
    apply_config_options(o.config, cfg);
    inspector = std::make_unique<Inspector>(o.inspect, cfg);
    if (!o.record.empty()) {
      check_output_file(o.record, "record");
      if (!o.inspect.trace.empty() && same_file(o.record, o.inspect.trace))
        throw ConfigError("--trace and --record name the same file " + quoted(o.record));
    }
    validate(cfg);
    if (mode.validate_only) return kExitOk;
    // A portfolio runs its seed's member, and the output and record name that member.
    cfg.params.strategy = portfolio_member(resolve_strategy(cfg, cfg.params.seed), cfg.params.seed);
    r = run_once(
        cfg, nullptr,
        [&](Machine& m) {
          if (!o.record.empty()) start_recording(m, cfg, rec);
          inspector->prepare(m);
        },
        [&](Machine& m) { inspector->after(m); });
    extras = inspector->finish(r);
    if (!o.record.empty()) {
      finish_recording(r, rec);
      rec.stop_at = inspector->stop_spec();
      write_record(o.record, rec);
    }
  } catch (const ConfigError& e) {
    return usage_error(e.what());
  }
  inspector->note_unreached();
  note_unmatched_checks(cfg.checks, checks_of(r));
  if (o.json) {
    nlohmann::json j = to_json(r);
    if (inspector->snapshot()) j["state"] = snapshot_json(*inspector->snapshot());
    if (!o.record.empty()) j["record"] = o.record;
    if (!o.inspect.trace.empty()) j["trace"] = {{"file", o.inspect.trace}, {"events", inspector->trace()->written()},
                                                {"dropped", inspector->trace()->dropped()}};
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << to_text(r) << extras;
    if (!o.inspect.trace.empty())
      std::cout << "trace      " << o.inspect.trace << " (" << inspector->trace()->written() << " events, "
                << inspector->trace()->dropped() << " dropped)\n";
    if (inspector->snapshot()) std::cout << format_snapshot(*inspector->snapshot());
    if (!o.record.empty()) std::cout << "record     " << o.record << " (" << rec.decisions.size() << " decisions)\n";
  }
  return r.bugs.empty() ? kExitOk : kExitBug;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Run one workload once and report digest, metrics, histograms, bugs");
  cmd->add_option("workload", o->workload, "Workload name (see `smpemu list`)")->required();
  add_config_options(cmd, o->config);
  add_inspect_options(cmd, o->inspect);
  cmd->add_option("--record", o->record, "Write a record of the run (configuration + decision log) for `replay`");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  return {cmd, [o](const CliMode& mode) { return cmd_run(*o, mode); }};
}

}  // namespace smpemu
