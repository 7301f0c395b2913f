// The smpemu command line as a function: parsing argv with CLI11 into one of the
// commands (cli/cmd_<name>.cc), the unknown-command and --log-level checks, and the
// dispatch. main() (cli/main.cc) adds the last line of defence around it (every
// exception is one line and exit 2; stdout is checked); the option parser's fuzz harness
// calls it with CliMode::validate_only.
//
// Concurrency: builds its own CLI::App each call; sets the process-wide log level.
#pragma once

#include "cli/options.h"

namespace smpemu {

/// Runs `smpemu ARGV...` (argv[0] is the program name) and returns its exit status.
/// Usage errors are printed on stderr (one line) and return kExitUsage. May throw what
/// a command throws; main() catches it.
int run_cli(int argc, const char* const* argv, const CliMode& mode = {});

}  // namespace smpemu
