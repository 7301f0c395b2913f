#include "cli/lock_stat.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <vector>

namespace smpemu {

namespace {

constexpr int kNameWidth = 40;
constexpr int kRuleWidth = kNameWidth + 1 + 12 * (14 + 1);  // the kernel's (one column short, as there)
constexpr std::size_t kPointsShown = 4;

/// `c` cycles as nanoseconds at `clock_hz`, rounded to nearest (exact for integral clocks).
std::int64_t lock_time_ns(std::uint64_t c, double clock_hz) {
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

/// waittime-* or holdtime-*: min, max, total, avg (total / count, in ns as the kernel).
std::string time_columns(const LockTime& t, double hz) {
  const std::int64_t total = lock_time_ns(t.total, hz);
  const std::int64_t avg = t.count ? total / static_cast<std::int64_t>(t.count) : 0;
  return fmt::format(" {:>14} {:>14} {:>14} {:>14}", usecs(lock_time_ns(t.min, hz)), usecs(lock_time_ns(t.max, hz)),
                     usecs(total), usecs(avg));
}

std::string row(const std::string& name, const LockModeStats& m, double hz) {
  return fmt::format("{:>40}:{:>14} {:>14}", name, m.con_bounces, m.wait.count) + time_columns(m.wait, hz) +
         fmt::format(" {:>14} {:>14}", m.acq_bounces, m.acquisitions) + time_columns(m.hold, hz) + "\n";
}

/// The short rule under a class's rows: dashes as long as its name, ending at column 40.
std::string name_rule(const std::string& name) {
  const std::size_t pad = name.size() < kNameWidth ? kNameWidth - name.size() : 0;
  return std::string(pad, ' ') + std::string(name.size(), '-') + "\n";
}

std::string points(const std::string& name, const std::vector<LockPointCount>& v) {
  std::string s = name_rule(name);
  for (const LockPointCount& p : top_points(v, kPointsShown)) {
    const auto space = p.path.find(' ');
    const std::string position = p.path.substr(0, space);
    const std::string functions = space == std::string::npos ? "" : p.path.substr(space + 1);
    s += fmt::format("{:>40} {:>14} {:>29} {}\n", name, p.count, position, functions);
  }
  return s;
}

}  // namespace

std::string lock_stat_table(const LockProfile& p, double clock_hz) {
  std::string s = "lock_stat version 0.4\n";
  const std::string rule(kRuleWidth, '-');
  s += rule + "\n";
  s += fmt::format("{:>40} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14}\n",
                   "class name", "con-bounces", "contentions", "waittime-min", "waittime-max", "waittime-total",
                   "waittime-avg", "acq-bounces", "acquisitions", "holdtime-min", "holdtime-max", "holdtime-total",
                   "holdtime-avg");
  s += rule + "\n\n";
  std::vector<const LockClassProfile*> order;
  for (const LockClassProfile& c : p.classes())
    if (c.write.used() || c.read.used()) order.push_back(&c);
  std::stable_sort(order.begin(), order.end(), [](const LockClassProfile* a, const LockClassProfile* b) {
    return a->contentions() > b->contentions();
  });
  for (const LockClassProfile* c : order) {
    const bool read = c->read.used(), write = c->write.used();
    if (write) s += row(read ? c->name + "-W" : c->name, c->write, clock_hz);
    if (read) s += row(c->name + "-R", c->read, clock_hz);
    if (c->contentions() == 0) continue;
    s += points(c->name, c->contention_points);
    s += points(c->name, c->contending_points);
    s += "\n" + std::string(kRuleWidth, '.') + "\n\n";
  }
  return s;
}

std::string perf_lock_time(std::int64_t ns) {
  if (ns < 1000) return fmt::format("{} ns", ns);
  const double v = static_cast<double>(ns);
  if (ns < 1000000) return fmt::format("{:.2f} us", v / 1e3);
  if (ns < 1000000000) return fmt::format("{:.2f} ms", v / 1e6);
  return fmt::format("{:.2f} s", v / 1e9);
}

std::string lock_contention_table(const LockProfile& p, double clock_hz) {
  std::string s = fmt::format("{:>10} {:>12} {:>12} {:>12} {:>12}   {}\n\n", "contended", "total wait", "max wait",
                              "avg wait", "type", "caller");
  std::vector<const LockContentionRow*> rows;
  for (const LockContentionRow& r : p.contentions()) rows.push_back(&r);
  std::sort(rows.begin(), rows.end(), [](const LockContentionRow* a, const LockContentionRow* b) {
    return std::tie(b->wait.total, b->wait.count, a->caller, a->type, a->cls) <
           std::tie(a->wait.total, a->wait.count, b->caller, b->type, b->cls);
  });
  for (const LockContentionRow* r : rows) {
    const std::int64_t total = lock_time_ns(r->wait.total, clock_hz);
    const std::int64_t avg = r->wait.count ? total / static_cast<std::int64_t>(r->wait.count) : 0;
    s += fmt::format("{:>10} {:>12} {:>12} {:>12} {:>12}   {} [{}]\n", r->wait.count, perf_lock_time(total),
                     perf_lock_time(lock_time_ns(r->wait.max, clock_hz)), perf_lock_time(avg), r->type, r->caller,
                     r->cls);
  }
  return s;
}

namespace {

/// A share of all CPU time as perf report prints an overhead: "12.50%".
std::string overhead(const WaitProfile& w, Cycles c) { return fmt::format("{:.2f}%", w.share(c) * 100); }

/// The type of `c`'s class line: its paths' type if they share one, else their common
/// family ("rwsem" for rwsem:R and rwsem:W), else "mixed".
std::string class_type(const WaitClass& c) {
  const auto family = [](const std::string& type) { return type.substr(0, type.find(':')); };
  std::string type, fam;
  for (const WaitPath& p : c.paths) {
    if (type.empty()) {
      type = p.type;
      fam = family(p.type);
    } else if (p.type != type) {
      type = family(p.type) == fam ? fam : "mixed";
      if (type == "mixed") break;
    }
  }
  return type;
}

}  // namespace

std::string wait_profile_table(const WaitProfile& w) {
  std::string s = fmt::format("# Wait profile: share of all CPU time, {} CPUs x {} cycles = {:.0f} CPU cycles\n",
                              w.ncpus, w.duration, w.cpu_time());
  s += fmt::format("# blocked {}, spin {}\n#\n", overhead(w, w.blocked), overhead(w, w.spin));
  s += fmt::format("# {:>8}  {:<7}  {:<10}  {}\n", "Overhead", "Wait", "Type", "Lock class / call path");
  s += fmt::format("# {}  {}  {}  {}\n#\n", std::string(8, '.'), std::string(7, '.'), std::string(10, '.'),
                   std::string(34, '.'));
  if (w.classes.empty()) s += "# no contended lock acquisition\n";
  for (const WaitClass& c : w.classes) {
    const bool both = c.blocked && c.spin;
    const char* kind = both ? "both" : wait_kind_key(c.spin ? WaitKind::Spin : WaitKind::Blocked);
    s += fmt::format("{:>10}  {:<7}  {:<10}  {}", overhead(w, c.total()), kind, class_type(c), c.name);
    if (both) s += fmt::format("  (blocked {}, spin {})", overhead(w, c.blocked), overhead(w, c.spin));
    s += "\n";
    for (const WaitPath& p : c.paths)
      s += fmt::format("{:>10}  {:<7}  {:<10}    {}\n", overhead(w, p.cycles), wait_kind_key(p.kind), p.type, p.path);
  }
  return s + "\n";
}

}  // namespace smpemu
