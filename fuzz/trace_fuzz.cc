// Fuzz harness (c): the trace reader of diff (cli/diff_input.h): record detection, the
// record reader behind it, ftrace text split into lines; then the divergence of the
// lines with themselves (none) and with the text cut short, and its report.
#include "cli/diff_input.h"
#include "fuzz/fuzz_support.h"
#include "traces/trace_diff.h"

using namespace smpemu;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  DiffInput in;
  try {
    in = parse_diff_input(text, "trace.txt");
  } catch (const ConfigError& e) {
    fuzz::check_message(e.what());
    return 0;
  }
  if (in.record) return 0;  // replaying it is the engine's business, not the reader's
  fuzz::check(looks_like_record(text) == false);
  fuzz::check(!first_divergence(in.lines, in.lines, 3).has_value());
  const std::vector<std::string> cut = split_lines(text.substr(0, text.size() / 2));
  const auto d = first_divergence(in.lines, cut, 1000);
  if (d) {
    fuzz::check(d->context.size() <= 1000);
    (void)format_divergence(*d, "a", "b");
  }
  return 0;
}
