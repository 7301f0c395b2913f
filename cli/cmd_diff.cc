// `smpemu diff A B`: the first divergence between two traces.
//
// A and B are records (replayed here with a detailed trace: every sync point, with
// cycle stamps) or ftrace text files written by `--trace FILE`. The first body line
// that differs is printed with a few common lines before it; for records, the lines
// carry exact cycles, so a divergence in timing alone is found too.
// Exit status as diff(1): 0 identical, 1 different, 2 trouble (unreadable input).
#include <iostream>
#include <memory>

#include "cli/diff_input.h"
#include "cli/input_file.h"
#include "cli/options.h"
#include "cli/text.h"
#include "emu/errors.h"
#include "emu/limits.h"
#include "traces/trace_diff.h"

namespace smpemu {

namespace {

struct DiffOptions {
  std::string a, b;
  std::uint64_t context = 3;
  std::uint64_t buffer = 4000000;
};

int cmd_diff(const DiffOptions& o, const CliMode& mode) {
  std::vector<std::string> a, b;
  try {
    // Both sides are read (and checked) before either record is replayed.
    const DiffInput in_a = parse_diff_input(read_input_file(o.a, "trace"), o.a);
    const DiffInput in_b = parse_diff_input(read_input_file(o.b, "trace"), o.b);
    if (mode.validate_only) return kExitOk;
    a = diff_lines(in_a, o.a, o.buffer);
    b = diff_lines(in_b, o.b, o.buffer);
  } catch (const ConfigError& e) {
    return usage_error(e.what());
  }
  const auto d = first_divergence(a, b, o.context);
  if (!d) {
    std::cout << "traces are identical (" << a.size() << " lines)\n";
    return kExitOk;
  }
  std::cout << format_divergence(*d, o.a, o.b);
  return kExitBug;
}

}  // namespace

Command add_diff_command(CLI::App& app) {
  auto o = std::make_shared<DiffOptions>();
  CLI::App* cmd = app.add_subcommand("diff", "Print the first divergence between two traces (records or ftrace text)");
  cmd->add_option("a", o->a, "Record or ftrace text file")->required();
  cmd->add_option("b", o->b, "Record or ftrace text file")->required();
  cmd->add_option("--context", o->context, "Common lines shown before the divergence")
      ->transform(count_check(0, limits::kDiffContext))
      ->capture_default_str();
  cmd->add_option("--buffer", o->buffer, "Trace events kept when replaying a record")
      ->transform(count_check(1, limits::kTraceBuffer))
      ->capture_default_str();
  return {cmd, [o](const CliMode& mode) { return cmd_diff(*o, mode); }};
}

}  // namespace smpemu
