// `smpemu shrink FILE [-o OUT]`: minimises a failing record's decision log while the
// same check still fails (cli/shrink.h) and writes the smaller record.
// Exit status: 0 a record was written; 2 bad input (missing/malformed record, or a
// record whose replay does not fail).
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/options.h"
#include "cli/output_file.h"
#include "cli/report.h"
#include "cli/shrink.h"
#include "cli/text.h"
#include "emu/errors.h"
#include "emu/limits.h"

namespace smpemu {

namespace {

struct ShrinkCliOptions {
  std::string file;
  std::string out;
  std::uint64_t max_runs = 2000;
  bool json = false;
};

std::string default_output(const std::string& in) {
  const std::string ext = ".rec";
  if (in.size() > ext.size() && in.compare(in.size() - ext.size(), ext.size(), ext) == 0)
    return in.substr(0, in.size() - ext.size()) + ".min.rec";
  return in + ".min.rec";
}

int cmd_shrink(const ShrinkCliOptions& o, const CliMode& mode) {
  ShrinkOptions opts;
  opts.max_runs = o.max_runs;
  const bool tty = ::isatty(2);
  if (tty)
    opts.progress = [](std::uint64_t runs, std::size_t size) {
      std::fprintf(stderr, "\rshrink: %llu replays, %zu decisions   ", static_cast<unsigned long long>(runs), size);
    };
  ShrinkResult r;
  const std::string out = o.out.empty() ? default_output(o.file) : o.out;
  try {
    const Record rec = read_record(o.file);
    check_output_file(out, "record");  // before the replays, not after them
    if (mode.validate_only) return kExitOk;
    r = shrink_record(rec, opts);
    write_record(out, r.record);
  } catch (const ConfigError& e) {
    if (tty) std::fprintf(stderr, "\n");
    return usage_error(e.what());
  }
  if (tty) std::fprintf(stderr, "\n");
  if (o.json) {
    nlohmann::json j = {{"input", o.file},         {"output", out},           {"check", r.check},
                        {"decisions_before", r.before}, {"decisions_after", r.after}, {"runs", r.runs},
                        {"budget_exhausted", r.budget_exhausted}, {"digest", hex16(r.record.digest)}};
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << fmt::format("shrink     {} -> {}: {} decisions -> {} ({} replays{}), still fails {}\n", o.file, out,
                             r.before, r.after, r.runs, r.budget_exhausted ? ", budget exhausted" : "", r.check);
    std::cout << fmt::format("replay     smpemu replay {}\n", out);
  }
  return kExitOk;
}

}  // namespace

Command add_shrink_command(CLI::App& app) {
  auto o = std::make_shared<ShrinkCliOptions>();
  CLI::App* cmd = app.add_subcommand("shrink", "Minimise a failing record's decision log (same check still fails)");
  cmd->add_option("file", o->file, "Record of a failing run")->required();
  cmd->add_option("-o,--output", o->out, "Where to write the smaller record (default: FILE with .min.rec)");
  cmd->add_option("--max-runs", o->max_runs, "Replay budget")
      ->transform(count_check(1, limits::kShrinkRuns))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print one JSON object");
  return {cmd, [o](const CliMode& mode) { return cmd_shrink(*o, mode); }};
}

}  // namespace smpemu
