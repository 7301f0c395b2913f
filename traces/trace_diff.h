// First divergence of two traces in ftrace text form (traces/ftrace.h): where two runs
// that should agree (same seed on two builds, two seeds, before/after a change) first
// do something different.
//
// What it models: a line-by-line comparison of the trace bodies. Header lines (those
// starting with '#') and empty lines are skipped on both sides, so traces whose headers
// differ (entry counts, CPU count) still compare by their events. The first body index
// where the lines differ, or where one body ends before the other, is the divergence;
// the few body lines before it, common to both, are its context.
//
// Invariant: first_divergence(a, a) is empty for any a; otherwise index <= both body
// sizes and context holds the min(context, index) lines just before index.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace smpemu {

struct TraceDivergence {
  std::size_t index = 0;             ///< 0-based index in the bodies (header lines not counted)
  std::size_t a_line = 0;            ///< 1-based line number in `a` (header included); 0 if `a` ended
  std::size_t b_line = 0;            ///< same for `b`
  std::string a;                     ///< the line of `a` at index ("" when a_ended)
  std::string b;                     ///< the line of `b` at index ("" when b_ended)
  bool a_ended = false;              ///< `a` has no line at index (it is a prefix of `b`)
  bool b_ended = false;              ///< `b` has no line at index
  std::vector<std::string> context;  ///< common body lines just before index, oldest first
};

/// The first body line where `a_lines` and `b_lines` differ, with up to `context`
/// common lines before it; nullopt when the bodies are identical.
std::optional<TraceDivergence> first_divergence(const std::vector<std::string>& a_lines,
                                                const std::vector<std::string>& b_lines, std::size_t context = 3);

/// Splits text into lines (without the '\n'; a final line without '\n' counts).
std::vector<std::string> split_lines(const std::string& text);

/// A terminal report: where, the context lines, then "- " and "+ " lines for the two
/// sides, labelled with `a_name` / `b_name` (file names, seeds).
std::string format_divergence(const TraceDivergence& d, const std::string& a_name = "a",
                              const std::string& b_name = "b");

}  // namespace smpemu
