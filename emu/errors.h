// Error types that cross the engine/CLI border.
//
// ConfigError: the user asked for something that does not exist or is out of range
// (unknown workload, knob or value, impossible CPU count). The CLI prints its message on
// one line and exits with status 2. Emulator bugs panic instead; bugs in emulated code
// become BugReports (machine.h).
#pragma once

#include <stdexcept>
#include <string>

namespace smpemu {

class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace smpemu
