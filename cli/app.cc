#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/text.h"
#include "emu/log.h"

namespace smpemu {

namespace {

/// What `smpemu` alone and `smpemu --version` print: the version, then every command
/// with its one-line description.
std::string overview(const std::vector<Command>& commands) {
  std::string s = version_text() + "\n\ncommands:\n";
  for (const auto& [cmd, action] : commands) {
    std::string name = cmd->get_name();
    name.resize(std::max<std::size_t>(name.size(), 10), ' ');
    s += "  " + name + " " + cmd->get_description() + "\n";
  }
  return s + "\n`smpemu COMMAND --help` lists a command's options; docs/USAGE.md describes them all.";
}

}  // namespace

int run_cli(int argc, const char* const* argv, const CliMode& mode) {
  CLI::App app{"smpemu: deterministic discrete-event SMP emulator for Linux mm locking experiments"};
  app.require_subcommand(1);
  // Global options (--log-level) may come after the command as well as before it: the
  // commands, created below, inherit this and hand what they do not know to the app.
  app.fallthrough();
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  const std::vector<Command> commands = {add_list_command(app),   add_run_command(app),  add_replay_command(app),
                                        add_shrink_command(app), add_fuzz_command(app), add_explore_command(app),
                                        add_merge_command(app),
                                        add_compare_command(app), add_diff_command(app)};
  app.set_version_flag("--version", [&commands] { return overview(commands); }, "Print the version and the commands");

  if (argc <= 1) {
    std::printf("%s\n", overview(commands).c_str());
    return kExitOk;
  }
  std::string names;
  for (const auto& [cmd, action] : commands) names += (names.empty() ? "" : ", ") + cmd->get_name();
  if (argv[1][0] != '-') {
    bool known = false;
    for (const auto& [cmd, action] : commands) known = known || cmd->get_name() == argv[1];
    if (!known) return usage_error("unknown command " + smpemu::quoted(argv[1]) + " (expected one of: " + names + ")");
  }
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "Diagnostics on stderr")
      ->check(CLI::IsMember(
          std::vector<std::string>{"trace", "debug", "info", "warn", "warning", "error", "err", "critical", "off"}))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  set_log_level(spdlog::level::from_str(log_level));
  for (const auto& [cmd, action] : commands)
    if (cmd->parsed()) return action(mode);
  return usage_error("no command given (expected one of: " + names + ")");
}

}  // namespace smpemu
