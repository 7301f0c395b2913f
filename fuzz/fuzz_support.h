// What the parser fuzz harnesses (fuzz/*_fuzz.cc) share: the libFuzzer entry point's
// signature, and the rule that a reader's refusal of bad input (ConfigError) is the
// expected outcome. Anything else that escapes a harness (another exception, an abort,
// a sanitizer report, a crash) is a finding: libFuzzer stops on it, and so does the
// standalone driver (fuzz/standalone_main.cc) that ctest runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "emu/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace smpemu::fuzz {

/// An invariant of the code under test: aborts (a finding) when it does not hold.
inline void check(bool ok) {
  if (!ok) std::abort();
}

/// A message a reader produced: it must be one line of printable text.
inline void check_message(const std::string& what) {
  for (const char c : what) check(c >= 0x20 && c < 0x7f);
}

}  // namespace smpemu::fuzz
