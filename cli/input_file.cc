#include "cli/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli/text.h"
#include "emu/errors.h"
#include "emu/limits.h"

namespace smpemu {

namespace {

/// Closes a descriptor on every way out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string read_input_file(const std::string& path, const std::string& what, std::uint64_t max_bytes) {
  if (max_bytes == 0) max_bytes = limits::kInputFileBytes;
  const std::string name = what + " " + quoted(path);
  const auto cannot = [&](int err) { return ConfigError("cannot read " + name + ": " + std::strerror(err)); };
  if (path.empty()) throw ConfigError("empty " + what + " file name");
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below anyway.
  const Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
  if (f.fd < 0) throw cannot(errno);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw cannot(errno);
  if (S_ISDIR(st.st_mode)) throw ConfigError(name + " is a directory");
  if (!S_ISREG(st.st_mode)) throw ConfigError(name + " is not a regular file");
  const std::string too_large = name + " is larger than " + std::to_string(max_bytes) + " bytes";
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) throw ConfigError(too_large);
  // Files in /proc and /sys say 0 bytes and have more: read until the end, bounded.
  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw cannot(errno);
    if (n == 0) break;
    if (text.size() + static_cast<std::uint64_t>(n) > max_bytes) throw ConfigError(too_large);
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

}  // namespace smpemu
