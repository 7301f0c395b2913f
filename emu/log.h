// Logging: one named spdlog logger per subsystem ("emu", "sched", "cli", ...).
//
// Logs are diagnostics for developers of smpemu, never part of the observable record:
// nothing logged feeds the digest or the trace. Hot paths log through
// SPDLOG_LOGGER_DEBUG/TRACE, which compile to nothing below SPDLOG_ACTIVE_LEVEL (INFO in
// every build), so they cost nothing unless a build lowers that level. Loggers write to
// stderr and are thread safe (fuzz campaigns run many Machines on host threads).
#pragma once

#include <memory>
#include <spdlog/spdlog.h>

namespace smpemu {

/// The logger of subsystem `name`, created on first use.
std::shared_ptr<spdlog::logger> logger(const char* name);

/// Sets the level of every logger, existing and future ("warn" by default).
void set_log_level(spdlog::level::level_enum level);

}  // namespace smpemu
