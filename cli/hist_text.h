// bcc-style power-of-two histograms for the terminal (bcc's print_log2_hist), from the
// engine's log-linear histograms (emu/histogram.h).
//
// What it models:
//          cycles              : count     distribution
//              0 -> 1          : 5        |****                                    |
//              2 -> 3          : 0        |                                        |
// Slot k >= 1 holds values in [2^(k-1), 2^k - 1], except slot 1 which holds 0 and 1
// (bcc's bpf_log2l()). Rows run from slot 1 to the highest non-empty slot; bars are
// 40 characters wide, scaled to the fullest slot (floor(40 * count / max)). When the
// highest slot is above 32 the layout widens as bcc's does (20-digit ranges, 20-star
// bars).
//
// Rebucketing: every log-linear bucket lies inside one power-of-two range of cycles, so
// in cycles the counts are exact. In time units (nsecs, usecs, msecs) a bucket is
// placed by its lowest value converted through clock_hz and truncated to an integer (as
// bcc divides nanoseconds), so a sample may land one slot low when its bucket straddles
// a power of two of the time unit: an error below the bucket width (1.6%).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/runner.h"
#include "emu/histogram.h"

namespace smpemu {

enum class HistUnit : std::uint8_t { Cycles, Nsecs, Usecs, Msecs };

/// "cycles", "nsecs", "usecs", "msecs" (bcc's val_type words).
const char* hist_unit_name(HistUnit u);
/// The unit named `s` (the names above, also "ns", "us", "ms"); nullopt if unknown.
std::optional<HistUnit> parse_hist_unit(std::string_view s);

/// Counts per log2 slot (index = slot; slot 0 is never used, as in bcc), up to the
/// highest non-empty slot; empty when the histogram is.
std::vector<std::uint64_t> log2_slots(const Histogram& h, double clock_hz, HistUnit unit);

/// The histogram as bcc prints it, preceded by `title` on its own line when it is not
/// empty. An empty histogram prints only the title.
std::string log2_histogram(const std::string& title, const Histogram& h, double clock_hz,
                           HistUnit unit = HistUnit::Cycles);

/// Every non-empty histogram of a run, by name, separated by blank lines.
std::string log2_histograms(const RunResult& r, HistUnit unit = HistUnit::Cycles);

}  // namespace smpemu
