// `smpemu compare WORKLOAD --a "K=V,..." --b "K=V,..."`: two variants side by side over
// many seeds, with significance (cli/compare.h). Exit status 0, or 2 for a usage error;
// bugs found by the runs are counted in the output, not in the exit status.
#include <fmt/format.h>

#include <iostream>
#include <limits>
#include <memory>

#include "cli/compare.h"
#include "cli/options.h"
#include "cli/parallel.h"
#include "cli/text.h"
#include "emu/errors.h"
#include "emu/limits.h"

namespace smpemu {

namespace {

struct CompareCliOptions {
  std::string workload;
  ConfigOptions config;
  std::string a, b, jobs;
  std::uint64_t seeds = 10, seed_base = 1, run_timeout = 60;
  bool json = false;
  bool wait_profile = false;
};

int cmd_compare(const CompareCliOptions& o, const CliMode& mode) {
  CompareOptions c;
  c.base.workload = o.workload;
  c.a = o.a;
  c.b = o.b;
  try {
    apply_config_options(o.config, c.base);
    c.base.wait_profile = o.wait_profile;
    apply_campaign_limits(o.config, c.base, o.run_timeout, c.run_seconds);
    c.seeds = o.seeds;
    c.seed_base = o.seed_base;
    c.jobs = o.jobs.empty() ? default_jobs() : parse_jobs(o.jobs);
    RunConfig a, b;
    compare_configs(c, a, b);  // bad --a/--b before any run
  } catch (const ConfigError& e) {
    return usage_error(e.what());
  }
  if (mode.validate_only) return kExitOk;
  ProgressLine line;
  if (line.enabled())
    c.progress = [&](std::uint64_t done, std::uint64_t total, double secs) {
      line.update(fmt::format("compare {}: {}/{} runs, {:.1f} runs/s", o.workload, done, total,
                              secs > 0 ? static_cast<double>(done) / secs : 0.0));
    };
  CompareResult r;
  try {
    r = run_compare(c);
  } catch (const ConfigError& e) {
    line.finish();
    return usage_error(e.what());
  }
  line.finish();
  if (o.json)
    std::cout << compare_to_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  else
    std::cout << compare_to_text(r);
  return kExitOk;
}

}  // namespace

Command add_compare_command(CLI::App& app) {
  auto o = std::make_shared<CompareCliOptions>();
  CLI::App* cmd = app.add_subcommand("compare", "Run two variants over many seeds: percentiles, metrics, significance");
  cmd->add_option("workload", o->workload, "Workload name (see `smpemu list`)")->required();
  cmd->add_option("--a", o->a, "Variant A settings \"K=V,...\" (engine parameters or knobs)")->required();
  cmd->add_option("--b", o->b, "Variant B settings \"K=V,...\"")->required();
  cmd->add_option("--seeds", o->seeds, "Seeds per variant")
      ->transform(count_check(1, limits::kCompareSeeds))
      ->capture_default_str();
  cmd->add_option("--seed-base", o->seed_base, "First seed")
      ->transform(number_check(*engine_number_spec("seed")))
      ->capture_default_str();
  add_jobs_option(cmd, o->jobs);
  add_config_options(cmd, o->config, /*with_seed=*/false);
  add_run_timeout_option(cmd, o->run_timeout);
  cmd->add_flag("--wait-profile", o->wait_profile,
                "Add the shares of CPU time blocked on and spinning for locks to the metrics (blocked.*, spin.*)");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  return {cmd, [o](const CliMode& mode) { return cmd_compare(*o, mode); }};
}

}  // namespace smpemu
