// `smpemu fuzz WORKLOAD ...`: a fuzz campaign over seeds (cli/campaign.h), on --jobs host
// threads, optionally one deterministic shard of a bigger campaign (--shard K/N, then
// `smpemu merge`). Exit status 0 (no bug), 1 (bugs found), 2 (usage error).
#include <fmt/format.h>

#include <iostream>
#include <limits>
#include <memory>

#include "cli/campaign.h"
#include "cli/guided.h"
#include "cli/options.h"
#include "cli/output_file.h"
#include "cli/parallel.h"
#include "cli/report.h"
#include "cli/text.h"
#include "emu/errors.h"
#include "emu/limits.h"

namespace smpemu {

namespace {

struct FuzzCliOptions {
  std::string workload;
  ConfigOptions config;
  std::uint64_t runs = 1000, seed_base = 1, run_timeout = 60;
  std::string jobs, shard = "1/1", record_dir;
  bool stop_on_first = false;
  bool json = false;
};

int cmd_fuzz(const FuzzCliOptions& o, const CliMode& mode) {
  FuzzOptions f;
  f.base.workload = o.workload;
  try {
    apply_config_options(o.config, f.base);
    apply_campaign_limits(o.config, f.base, o.run_timeout, f.run_seconds);
    f.runs = o.runs;
    f.seed_base = o.seed_base;
    f.jobs = o.jobs.empty() ? default_jobs() : parse_jobs(o.jobs);
    f.shard = parse_shard(o.shard);
    if (f.shard.count > limits::kFuzzRuns)
      throw ConfigError("--shard " + f.shard.to_string() + ": the shard count is past its bound " +
                        std::to_string(limits::kFuzzRuns) + " (see `smpemu list`)");
    f.stop_on_first = o.stop_on_first;
    if (!o.record_dir.empty()) check_output_dir(o.record_dir, "record directory");
    RunConfig checked = f.base;  // a bad workload or knob is a usage error before any run
    if (is_guided(f.base.params.strategy)) {
      checked.params.strategy = guided_base(f.base.params.strategy);
      if (o.record_dir.empty())
        throw ConfigError("--strategy " + f.base.params.strategy +
                          " needs --record DIR: the runs it finds replay only from their records");
      if (o.config.coverage_given && o.config.coverage == "off")
        throw ConfigError("--coverage off: --strategy " + f.base.params.strategy +
                          " steers by interleaving coverage and turns it on itself");
    }
    (void)settings_map(checked);
  } catch (const ConfigError& e) {
    return usage_error(e.what());
  }
  if (mode.validate_only) return kExitOk;
  ProgressLine line;
  if (line.enabled())
    f.progress = [&](std::uint64_t done, std::uint64_t total, std::uint64_t bugs, double secs, std::uint64_t pairs) {
      line.update(fmt::format("fuzz {}: {}/{} runs, {} with bugs, {:.0f} runs/s{}", o.workload, done, total, bugs,
                              secs > 0 ? static_cast<double>(done) / secs : 0.0,
                              f.base.params.coverage ? fmt::format(", {} pairs", pairs) : std::string()));
    };
  FuzzResult r;
  try {
    r = run_fuzz(f);
    line.finish();
    if (r.guided)
      record_guided_signatures(r, f.base, o.record_dir);
    else if (!o.record_dir.empty())
      record_signatures(r, f.base, o.record_dir);
  } catch (const ConfigError& e) {
    line.finish();
    return usage_error(e.what());
  }
  note_unmatched_checks(f.base.checks, r.checks_seen);
  if (o.json)
    std::cout << fuzz_to_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  else
    std::cout << fuzz_to_text(r);
  return r.bugs_found ? kExitBug : kExitOk;
}

}  // namespace

Command add_fuzz_command(CLI::App& app) {
  auto o = std::make_shared<FuzzCliOptions>();
  // A campaign that needs no theory: a mix of strategies, one per seed (emu/portfolio.h).
  o->config.strategy = "portfolio";
  CLI::App* cmd = app.add_subcommand("fuzz", "Run a workload over many seeds and group the bugs found by signature");
  cmd->add_option("workload", o->workload, "Workload name (see `smpemu list`)")->required();
  cmd->add_option("--runs", o->runs, "Seeds in the campaign (before sharding)")
      ->transform(count_check(1, limits::kFuzzRuns))
      ->capture_default_str();
  add_jobs_option(cmd, o->jobs);
  cmd->add_option("--seed-base", o->seed_base, "First seed")
      ->transform(number_check(*engine_number_spec("seed")))
      ->capture_default_str();
  cmd->add_option("--shard", o->shard, "Run only shard K/N: seed offsets i with i % N == K-1")->capture_default_str();
  cmd->add_flag("--stop-on-first", o->stop_on_first, "Stop at the smallest failing seed");
  cmd->add_option("--record", o->record_dir, "Record the first seed of every signature into DIR/<workload>-seed<S>.rec");
  add_config_options(cmd, o->config, /*with_seed=*/false);
  add_run_timeout_option(cmd, o->run_timeout);
  cmd->add_flag("--json", o->json, "Print one JSON object");
  return {cmd, [o](const CliMode& mode) { return cmd_fuzz(*o, mode); }};
}

}  // namespace smpemu
