#include "cli/lock_stat.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace smpemu {

namespace {

constexpr int kRuleWidth = 40 + 1 + 12 * (14 + 1);  // the kernel's (one column short, as there)

std::int64_t cycles_to_ns(std::uint64_t c, double clock_hz) {
  if (clock_hz >= 1 && clock_hz < 9.2e18 && std::floor(clock_hz) == clock_hz) {
    const auto hz = static_cast<unsigned __int128>(clock_hz);
    return static_cast<std::int64_t>((static_cast<unsigned __int128>(c) * 2000000000u + hz) / (2 * hz));
  }
  return std::llround(static_cast<double>(c) * 1e9 / (clock_hz > 0 ? clock_hz : 1e9));
}

/// The kernel's snprint_time(): nanoseconds as microseconds with 2 decimals, rounded.
std::string usecs(std::int64_t ns) {
  const std::int64_t n = ns + 5;
  return fmt::format("{}.{:02}", n / 1000, (n % 1000) / 10);
}

struct Times {
  std::uint64_t min = 0, max = 0, total = 0, avg = 0;
};

Times times_of(const std::map<std::string, Histogram>& hs, const std::string& name) {
  Times t;
  auto it = hs.find(name);
  if (it == hs.end() || it->second.count() == 0) return t;
  const Histogram& h = it->second;
  t.min = h.min();
  t.max = h.max();
  t.total = h.sum();
  t.avg = h.mean();
  return t;
}

std::string time_columns(const Times& t, double hz) {
  return fmt::format(" {:>14} {:>14} {:>14} {:>14}", usecs(cycles_to_ns(t.min, hz)), usecs(cycles_to_ns(t.max, hz)),
                     usecs(cycles_to_ns(t.total, hz)), usecs(cycles_to_ns(t.avg, hz)));
}

}  // namespace

std::string lock_stat_table(const std::vector<LockClassStats>& locks,
                            const std::map<std::string, Histogram>& histograms, double clock_hz) {
  std::string s = "lock_stat version 0.4\n";
  const std::string rule(kRuleWidth, '-');
  s += rule + "\n";
  s += fmt::format("{:>40} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14}\n",
                   "class name", "con-bounces", "contentions", "waittime-min", "waittime-max", "waittime-total",
                   "waittime-avg", "acq-bounces", "acquisitions", "holdtime-min", "holdtime-max", "holdtime-total",
                   "holdtime-avg");
  s += rule + "\n\n";
  std::vector<const LockClassStats*> order;
  for (const LockClassStats& l : locks)
    if (l.acquisitions > 0) order.push_back(&l);  // the kernel prints classes that were acquired
  std::stable_sort(order.begin(), order.end(),
                   [](const LockClassStats* a, const LockClassStats* b) { return a->contentions > b->contentions; });
  for (const LockClassStats* l : order) {
    const Times wait = times_of(histograms, "lock." + l->name + ".wait");
    const Times hold = times_of(histograms, "lock." + l->name + ".hold");
    s += fmt::format("{:>40}:{:>14} {:>14}", l->name, 0, l->contentions);
    s += time_columns(wait, clock_hz);
    s += fmt::format(" {:>14} {:>14}", 0, l->acquisitions);
    s += time_columns(hold, clock_hz);
    s += "\n";
    if (l->contentions > 0) s += "\n" + std::string(kRuleWidth, '.') + "\n\n";
  }
  return s;
}

std::string lock_stat_table(const RunResult& r) { return lock_stat_table(r.locks, r.histograms, r.clock_hz); }

}  // namespace smpemu
