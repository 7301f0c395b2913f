#include "cli/hist_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace smpemu {

namespace {

/// `v` cycles in `unit`, truncated.
std::uint64_t convert(std::uint64_t v, double clock_hz, HistUnit unit) {
  std::uint64_t per_second = 0;
  switch (unit) {
    case HistUnit::Cycles: return v;
    case HistUnit::Nsecs: per_second = 1000000000u; break;
    case HistUnit::Usecs: per_second = 1000000u; break;
    case HistUnit::Msecs: per_second = 1000u; break;
  }
  if (clock_hz >= 1 && clock_hz < 9.2e18 && std::floor(clock_hz) == clock_hz) {
    const unsigned __int128 r =
        static_cast<unsigned __int128>(v) * per_second / static_cast<unsigned __int128>(clock_hz);
    return r > std::numeric_limits<std::uint64_t>::max() ? std::numeric_limits<std::uint64_t>::max()
                                                         : static_cast<std::uint64_t>(r);
  }
  const double r = static_cast<double>(v) * static_cast<double>(per_second) / (clock_hz > 0 ? clock_hz : 1e9);
  return r >= 1.8e19 ? std::numeric_limits<std::uint64_t>::max() : static_cast<std::uint64_t>(r);
}

/// bcc's bpf_log2l(): 0 and 1 -> 1, 2..3 -> 2, 4..7 -> 3, ...
std::size_t slot_of(std::uint64_t v) { return v < 2 ? 1 : static_cast<std::size_t>(std::bit_width(v)); }

/// bcc's _stars(): floor(width * val / max) stars (max >= val).
std::string stars(std::uint64_t val, std::uint64_t max, int width) {
  const auto n = max ? static_cast<int>(static_cast<unsigned __int128>(width) * val / max) : 0;
  return std::string(static_cast<std::size_t>(std::min(n, width)), '*');
}

}  // namespace

const char* hist_unit_name(HistUnit u) {
  switch (u) {
    case HistUnit::Cycles: return "cycles";
    case HistUnit::Nsecs: return "nsecs";
    case HistUnit::Usecs: return "usecs";
    case HistUnit::Msecs: return "msecs";
  }
  return "?";
}

std::optional<HistUnit> parse_hist_unit(std::string_view s) {
  if (s == "cycles") return HistUnit::Cycles;
  if (s == "nsecs" || s == "ns") return HistUnit::Nsecs;
  if (s == "usecs" || s == "us") return HistUnit::Usecs;
  if (s == "msecs" || s == "ms") return HistUnit::Msecs;
  return std::nullopt;
}

std::vector<std::uint64_t> log2_slots(const Histogram& h, double clock_hz, HistUnit unit) {
  std::vector<std::uint64_t> slots;
  const auto& buckets = h.buckets();
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    if (buckets[b] == 0) continue;
    const std::size_t s = slot_of(convert(Histogram::bucket_low(b), clock_hz, unit));
    if (slots.size() <= s) slots.resize(s + 1, 0);
    slots[s] += buckets[b];
  }
  return slots;
}

std::string log2_histogram(const std::string& title, const Histogram& h, double clock_hz, HistUnit unit) {
  std::string s;
  if (!title.empty()) s += title + "\n";
  const std::vector<std::uint64_t> slots = log2_slots(h, clock_hz, unit);
  if (slots.size() < 2) return s;
  const std::size_t idx_max = slots.size() - 1;
  std::uint64_t val_max = 0;
  for (std::uint64_t v : slots) val_max = std::max(val_max, v);
  const bool wide = idx_max > 32;
  const int width = wide ? 20 : 40;
  if (wide)
    s += fmt::format("               {:<29} : count     distribution\n", hist_unit_name(unit));
  else
    s += fmt::format("     {:<19} : count     distribution\n", hist_unit_name(unit));
  for (std::size_t i = 1; i <= idx_max; ++i) {
    std::uint64_t low = std::uint64_t{1} << (i - 1);
    const std::uint64_t high = i >= 64 ? std::numeric_limits<std::uint64_t>::max() : (std::uint64_t{1} << i) - 1;
    if (low == high) low -= 1;
    const std::string bar = stars(slots[i], val_max, width);
    if (wide)
      s += fmt::format("{:>20} -> {:<20} : {:<8} |{:<20}|\n", low, high, slots[i], bar);
    else
      s += fmt::format("{:>10} -> {:<10} : {:<8} |{:<40}|\n", low, high, slots[i], bar);
  }
  return s;
}

std::string log2_histograms(const RunResult& r, HistUnit unit) {
  std::string s;
  for (const auto& [name, h] : r.histograms) {
    if (h.count() == 0) continue;
    if (!s.empty()) s += "\n";
    s += log2_histogram(name, h, r.clock_hz, unit);
  }
  return s;
}

}  // namespace smpemu
