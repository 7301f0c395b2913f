// `smpemu run WORKLOAD ...`: one run, reported as text or as the JSON object of
// shared/DESIGN.md. Exit status 0 (no bug), 1 (bug reports), 2 (usage error).
#include <iostream>
#include <memory>

#include "cli/options.h"
#include "cli/report.h"
#include "emu/errors.h"

namespace smpemu {

namespace {

struct RunOptions {
  std::string workload;
  ConfigOptions config;
  bool json = false;
};

int cmd_run(const RunOptions& o) {
  RunConfig cfg;
  cfg.workload = o.workload;
  RunResult r;
  try {
    apply_config_options(o.config, cfg);
    r = run_once(cfg);
  } catch (const ConfigError& e) {
    return usage_error(e.what());
  }
  if (o.json)
    std::cout << to_json(r).dump(2) << "\n";
  else
    std::cout << to_text(r);
  return r.bugs.empty() ? kExitOk : kExitBug;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Run one workload once and report digest, metrics, histograms, bugs");
  cmd->add_option("workload", o->workload, "Workload name (see `smpemu list`)")->required();
  add_config_options(cmd, o->config);
  cmd->add_flag("--json", o->json, "Print one JSON object");
  return {cmd, [o] { return cmd_run(*o); }};
}

}  // namespace smpemu
