// JSON helpers for tests of campaign results (fuzz, compare, merge). Kept out of
// test_util.h: nlohmann's headers use names (`current`) that the kernel shim defines as
// macros, so tests that include kernel/ headers must not see them.
#pragma once

#include <nlohmann/json.hpp>

namespace smpemu::testing {

/// The JSON of a fuzz or compare result without the keys that depend on the host.
inline nlohmann::json without_timing(nlohmann::json j) {
  for (const char* k : {"host_seconds", "runs_per_second", "jobs"}) j.erase(k);
  return j;
}

}  // namespace smpemu::testing
