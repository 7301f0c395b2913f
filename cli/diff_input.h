// What `smpemu diff A B` reads: each side is a record (replayed with a detailed trace
// stamped with exact cycles) or ftrace text written by `--trace FILE`. A side whose
// first non-blank byte is '{' is a record; text that opens with the "# tracer:" line is
// ftrace text, split into lines (traces/trace_diff.h); anything else is refused. Reading and telling the two apart is separate from
// replaying, so the reader can be tested and fuzzed on in-memory text.
//
// Concurrency: pure functions; diff_lines() builds its own Machine.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/record.h"

namespace smpemu {

/// One side of a diff, read.
struct DiffInput {
  std::optional<Record> record;    ///< set when the side is a record
  std::vector<std::string> lines;  ///< the ftrace text's lines otherwise
};

/// True when `text` looks like a record (first non-blank byte is '{').
bool looks_like_record(const std::string& text);

/// Reads one side from its text; `name` (the file name) is named in messages. Throws
/// ConfigError for a malformed record or text that is not ftrace text.
DiffInput parse_diff_input(const std::string& text, const std::string& name);

/// The ftrace lines of one side: the text's lines, or the record replayed with a trace
/// of `capacity` events (a note on stderr if events were dropped). Throws ConfigError.
std::vector<std::string> diff_lines(const DiffInput& in, const std::string& name, std::size_t capacity);

}  // namespace smpemu
