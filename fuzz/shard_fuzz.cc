// Fuzz harness (b): the fuzz shard reader of merge (cli/campaign.h, parse_fuzz_result)
// and what merge does with a shard it accepts: merging it alone, merging it with itself
// (always refused: a repeated shard), printing the merged result as text and JSON.
#include "cli/campaign.h"
#include "fuzz/fuzz_support.h"

using namespace smpemu;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  FuzzResult r;
  try {
    r = parse_fuzz_result(text, "shard.json");
  } catch (const ConfigError& e) {
    fuzz::check_message(e.what());
    return 0;
  }
  fuzz::check(r.bugs_found <= r.runs && r.runs <= r.campaign_runs);
  fuzz::check(r.first_bug_run.has_value() == (r.bugs_found > 0));
  const FuzzResult m = merge_fuzz({r}, {"shard.json"});
  fuzz::check(m.runs == r.runs && m.bugs_found == r.bugs_found && m.first_bug_run == r.first_bug_run);
  (void)fuzz_to_text(m);
  (void)fuzz_to_json(m).dump(2);
  // Read back what merge would print: it is a valid shard file again.
  const FuzzResult again = parse_fuzz_result(fuzz_to_json(m).dump(), "merged.json");
  fuzz::check(again.runs == m.runs && again.signatures.size() == m.signatures.size());
  try {
    (void)merge_fuzz({r, r}, {"shard.json", "shard.json"});
    fuzz::check(false);  // the same shard twice must be refused
  } catch (const ConfigError& e) {
    fuzz::check_message(e.what());
  }
  return 0;
}
