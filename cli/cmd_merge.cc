// `smpemu merge FILE...`: combines the `smpemu fuzz --json` results of the shards of one
// campaign (cli/campaign.h, merge_fuzz). Exit status 0 (no bug), 1 (bugs found),
// 2 (unreadable, malformed or incompatible input; one line on stderr).
#include <iostream>
#include <memory>

#include "cli/campaign.h"
#include "cli/options.h"
#include "cli/text.h"
#include "emu/errors.h"

namespace smpemu {

namespace {

struct MergeOptions {
  std::vector<std::string> files;
  bool json = false;
};

int cmd_merge(const MergeOptions& o, const CliMode& mode) {
  FuzzResult m;
  try {
    std::vector<FuzzResult> parts;
    for (const auto& path : o.files) parts.push_back(read_fuzz_result(path));
    m = merge_fuzz(parts, o.files);
  } catch (const ConfigError& e) {
    return usage_error(e.what());
  }
  if (mode.validate_only) return kExitOk;
  if (o.json)
    std::cout << fuzz_to_json(m).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  else
    std::cout << fuzz_to_text(m);
  if (!m.shard.complete())
    std::cerr << "smpemu: note: shards " << m.shard.to_string() << " merged; the campaign is incomplete\n";
  return m.bugs_found ? kExitBug : kExitOk;
}

}  // namespace

Command add_merge_command(CLI::App& app) {
  auto o = std::make_shared<MergeOptions>();
  CLI::App* cmd = app.add_subcommand("merge", "Combine `smpemu fuzz --shard K/N --json` results of one campaign");
  cmd->add_option("files", o->files, "Fuzz results (JSON files)")->required();
  cmd->add_flag("--json", o->json, "Print one JSON object");
  return {cmd, [o](const CliMode& mode) { return cmd_merge(*o, mode); }};
}

}  // namespace smpemu
