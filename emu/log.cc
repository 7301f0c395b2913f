#include "emu/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace smpemu {

namespace {
/// Lowers spdlog's default level (info) to warn once, before any logger exists.
void init_default_level() {
  static const bool done = (spdlog::set_level(spdlog::level::warn), true);
  (void)done;
}
}  // namespace

std::shared_ptr<spdlog::logger> logger(const char* name) {
  init_default_level();
  if (auto l = spdlog::get(name)) return l;
  auto l = std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  l->set_level(spdlog::get_level());
  l->set_pattern("smpemu[%n] %l: %v");
  try {
    spdlog::register_logger(l);
  } catch (const spdlog::spdlog_ex&) {
    return spdlog::get(name);  // another host thread registered it first
  }
  return l;
}

void set_log_level(spdlog::level::level_enum level) {
  init_default_level();
  spdlog::set_level(level);
}

}  // namespace smpemu
