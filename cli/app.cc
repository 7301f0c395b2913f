#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/text.h"
#include "emu/log.h"

namespace smpemu {

int run_cli(int argc, const char* const* argv, const CliMode& mode) {
  CLI::App app{"smpemu: deterministic discrete-event SMP emulator for Linux mm locking experiments"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  const std::vector<Command> commands = {add_list_command(app),   add_run_command(app),  add_replay_command(app),
                                        add_shrink_command(app), add_fuzz_command(app), add_merge_command(app),
                                        add_compare_command(app), add_diff_command(app)};

  std::string names;
  for (const auto& [cmd, action] : commands) names += (names.empty() ? "" : ", ") + cmd->get_name();
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (const auto& [cmd, action] : commands) known = known || cmd->get_name() == argv[1];
    if (!known) return usage_error("unknown command " + smpemu::quoted(argv[1]) + " (expected one of: " + names + ")");
  }
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "Diagnostics on stderr: trace, debug, info, warn, error, off")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  const auto level = spdlog::level::from_str(log_level);
  if (level == spdlog::level::off && log_level != "off") return usage_error("bad --log-level " + smpemu::quoted(log_level));
  set_log_level(level);
  for (const auto& [cmd, action] : commands)
    if (cmd->parsed()) return action(mode);
  return usage_error("no command given (expected one of: " + names + ")");
}

}  // namespace smpemu
