// `smpemu replay FILE`: re-runs a record (from `run --record`, `fuzz --record` or
// `shrink`) with its decision log and says whether the digest matches.
//
// Exit status: 3 if the digest differs although the decision log is the recorded one
// (the binary or the model changed); otherwise 1 if the replay reported bugs, else 0;
// 2 for a missing or malformed record. An edited log (its digest differs from the one
// recorded) is replayed as far as it applies; a different run digest is then expected.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/inspect.h"
#include "cli/options.h"
#include "cli/output_file.h"
#include "cli/record.h"
#include "cli/report.h"
#include "cli/text.h"
#include "emu/errors.h"

namespace smpemu {

namespace {

struct ReplayOptions {
  std::string file;
  InspectOptions inspect;
  bool json = false;
};

int cmd_replay(const ReplayOptions& o, const CliMode& mode) {
  Record rec;
  ReplayResult p;
  std::unique_ptr<Inspector> inspector;
  std::string extras;
  try {
    rec = read_record(o.file);
    if (!o.inspect.trace.empty() && same_file(o.file, o.inspect.trace))
      throw ConfigError("--trace names the record being replayed, " + quoted(o.file));
    RunConfig cfg = rec.config;
    inspector = std::make_unique<Inspector>(o.inspect, cfg);
    if (mode.validate_only) return kExitOk;
    const bool changes_run = cfg.params.max_cycles != rec.config.params.max_cycles || !o.inspect.stop_at.empty();
    rec.config = cfg;
    p = replay_record(
        rec, nullptr, [&](Machine& m) { inspector->prepare(m); }, [&](Machine& m) { inspector->after(m); });
    if (changes_run) p.edited = true;
    extras = inspector->finish(p.run);  // stopped elsewhere than recorded: the digest may differ
  } catch (const ConfigError& e) {
    return usage_error(e.what());
  }
  const bool mismatch = !p.digest_match && !p.edited;
  // The record, not its seed, reproduces what was replayed: a shrunk or edited log is
  // another schedule than the one the seed's strategy picks.
  const std::string repro = program_name() + " replay " + shell_word(o.file);
  if (rec.build != build_identity())
    std::fprintf(stderr, "smpemu: warning: recorded by %s, replayed by %s\n", smpemu::quoted(rec.build).c_str(),
                 quoted(build_identity()).c_str());
  inspector->note_unreached();
  if (o.json) {
    nlohmann::json j = to_json(p.run, repro);
    j["replay"] = {{"file", o.file},
                   {"recorded_digest", hex16(rec.digest)},
                   {"digest_match", p.digest_match},
                   {"edited", p.edited},
                   {"decisions", rec.decisions.size()},
                   {"applied", p.applied},
                   {"ignored", p.ignored},
                   {"recorded_build", rec.build}};
    if (inspector->snapshot()) j["state"] = snapshot_json(*inspector->snapshot());
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << to_text(p.run, repro) << extras;
    if (inspector->snapshot()) std::cout << format_snapshot(*inspector->snapshot());
    std::cout << fmt::format("replay     {}: digest {} recorded {} ({}){}\n", o.file, hex16(p.run.stats.digest),
                             hex16(rec.digest), p.digest_match ? "match" : "MISMATCH",
                             p.edited ? fmt::format(", edited log: {} of {} decisions applied", p.applied,
                                                    rec.decisions.size())
                                      : "");
  }
  if (mismatch) return kExitMismatch;
  return p.run.bugs.empty() ? kExitOk : kExitBug;
}

}  // namespace

Command add_replay_command(CLI::App& app) {
  auto o = std::make_shared<ReplayOptions>();
  CLI::App* cmd = app.add_subcommand("replay", "Re-run a record with its decision log and check the digest");
  cmd->add_option("file", o->file, "Record file (from run --record, fuzz --record or shrink)")->required();
  add_inspect_options(cmd, o->inspect);
  cmd->add_flag("--json", o->json, "Print one JSON object (the run's, plus `replay` and `state`)");
  return {cmd, [o](const CliMode& mode) { return cmd_replay(*o, mode); }};
}

}  // namespace smpemu
