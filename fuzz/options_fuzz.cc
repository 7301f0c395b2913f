// Fuzz harness (d): the option parser. The input is split at NUL bytes (or, if it has
// none, at newlines) into arguments after "smpemu", which go through the same parse and
// validation path as main() (cli/app.h, run_cli) in CliMode::validate_only: every
// command checks its options and reads its input files, then returns before it runs a
// workload or writes a file. Only ConfigError may escape run_cli (main() would print it
// as one line); any other exception means a check that was not made where the bad value
// came in, and is a finding. The exit status must be 0..3.
#include <exception>
#include <vector>

#include "cli/app.h"
#include "fuzz/fuzz_support.h"

using namespace smpemu;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // argv of a user, not a document
  const std::string text(reinterpret_cast<const char*>(data), size);
  const char sep = text.find('\0') != std::string::npos ? '\0' : '\n';
  std::vector<std::string> args = {"smpemu"};
  std::size_t pos = 0;
  while (pos <= text.size() && args.size() < 64) {
    std::size_t end = text.find(sep, pos);
    if (end == std::string::npos) end = text.size();
    args.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  CliMode mode;
  mode.validate_only = true;
  int status = 0;
  try {
    status = run_cli(static_cast<int>(args.size()), argv.data(), mode);
  } catch (const ConfigError& e) {
    fuzz::check_message(e.what());
    status = kExitUsage;
  }
  fuzz::check(status >= 0 && status <= kExitMismatch);
  return 0;
}
