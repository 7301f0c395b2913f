// Files users hand to smpemu (records, fuzz shards, ftrace text): read whole into memory,
// after checking that they are what a reader can take. A directory, a device, a FIFO, a
// file that cannot be read or one larger than limits::kInputFileBytes is a one-line
// ConfigError naming the file, never an exception from the stream library, a read that
// blocks for ever, or an empty document that parses as "nothing".
//
// Concurrency: pure functions of the file system.
#pragma once

#include <cstdint>
#include <string>

namespace smpemu {

/// Reads the regular file `path` whole. `what` names its kind in messages ("record",
/// "fuzz result", "trace"): "cannot read record '/x': No such file or directory",
/// "record '/tmp' is a directory", "record '/dev/zero' is not a regular file",
/// "record 'big' is larger than 1073741824 bytes". `max_bytes` is the bound (tests use a
/// smaller one). Throws ConfigError.
std::string read_input_file(const std::string& path, const std::string& what,
                            std::uint64_t max_bytes = 0 /* limits::kInputFileBytes */);

}  // namespace smpemu
