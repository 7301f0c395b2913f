// Lock statistics with the kernel's lock_stat meaning (traces/lock_profile.h) and their
// two printouts, --lock-stat (cli/lock_stat.h) and --lock-contention
// (cli/lock_contention.h): on hand-made traces whose answers are known, and on runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <sstream>

#include "cli/lock_stat.h"
#include "cli/runner.h"
#include "test_util.h"
#include "trace_test_util.h"
#include "traces/trace_diff.h"

namespace smpemu {
namespace {

using testing::run_smpemu;

/// A lock_stat row: its name (with -W/-R) and its 12 columns.
struct Row {
  std::string name;
  std::vector<std::string> cols;
  std::uint64_t num(int i) const { return std::stoull(cols[static_cast<std::size_t>(i)]); }
};

/// The class rows of a lock_stat table ("NAME:" in column 40), by name.
std::map<std::string, Row> rows_of(const std::string& table) {
  std::map<std::string, Row> out;
  for (const std::string& l : split_lines(table)) {
    if (l.size() < 42 || l[40] != ':' || l[0] != ' ') continue;
    Row r;
    r.name = l.substr(l.find_first_not_of(' '), 40 - l.find_first_not_of(' '));
    std::istringstream cols(l.substr(41));
    for (std::string c; cols >> c;) r.cols.push_back(c);
    if (r.cols.size() == 12) out[r.name] = r;
  }
  return out;
}

/// A trace of two CPUs at 1 GHz with tasks t1 and t2 (t1 runs on CPU 0, t2 on CPU 1).
Trace two_cpu_trace() {
  Trace t = one_cpu_trace({{1, "t1"}, {2, "t2"}}, 256);
  t.ncpus = 2;
  return t;
}

/// Adds lock events as the engine does, on CPU `cpu` (task cpu + 1).
struct LockEvents {
  Trace& t;
  std::uint32_t name;

  void ev(TraceKind k, Cycles time, int cpu, std::uint32_t flags, std::uint32_t point, std::uint64_t b) {
    t.add(TraceEvent{time, lock_event::pack(name, flags, point), b, static_cast<std::uint32_t>(cpu + 1),
                     static_cast<std::int16_t>(cpu), k, 0});
  }
  /// An acquisition at `time` (contended when `wait` > 0, requested `wait` earlier),
  /// released `hold` later.
  void take(Cycles time, int cpu, std::uint32_t point, Cycles wait, Cycles hold,
            std::uint32_t flags = lock_contention::kSpin) {
    if (wait > 0) ev(TraceKind::LockContend, time - wait, cpu, flags, point, std::uint64_t{flags} << 32);
    ev(TraceKind::LockAcquire, time, cpu, flags, point, wait);
    ev(TraceKind::LockRelease, time + hold, cpu, flags, point, hold);
  }
};

// ---- hand-made traces: the answers are known ----------------------------------------

TEST(LockProfile, BouncesCountAcquisitionsAndContentionsAfterAnotherCpu) {
  Trace t = two_cpu_trace();
  const std::uint32_t p = t.lock_point(LockPoint{"L", "x.cc:1", "f"});
  LockEvents l{t, t.intern("L#1")};
  l.take(100, 0, p, 0, 10);   // first acquisition: no bounce
  l.take(200, 0, p, 0, 10);   // same CPU
  l.take(300, 1, p, 0, 10);   // acq-bounce 1
  l.take(400, 0, p, 30, 10);  // contended after CPU 1's acquisition: con-bounce 1, acq-bounce 2
  l.take(500, 0, p, 20, 10);  // contended, last acquirer CPU 0: no bounce
  l.take(600, 1, p, 0, 10);   // acq-bounce 3
  const LockProfile prof = lock_profile_of(t);
  ASSERT_EQ(prof.classes().size(), 1u);
  const LockModeStats& w = prof.classes()[0].write;
  EXPECT_EQ(w.acquisitions, 6u);
  EXPECT_EQ(w.acq_bounces, 3u);
  EXPECT_EQ(w.con_bounces, 1u);
  EXPECT_EQ(w.wait.count, 2u);
  EXPECT_EQ(w.wait.total, 50u);
  EXPECT_EQ(w.wait.min, 20u);
  EXPECT_EQ(w.wait.max, 30u);
  EXPECT_EQ(w.hold.count, 6u);
  EXPECT_FALSE(prof.classes()[0].read.used());

  const auto rows = rows_of(lock_stat_table(prof, 1e9));
  ASSERT_TRUE(rows.count("L")) << lock_stat_table(prof, 1e9);
  const Row& r = rows.at("L");
  EXPECT_EQ(r.num(0), 1u);  // con-bounces
  EXPECT_EQ(r.num(1), 2u);  // contentions
  EXPECT_EQ(r.cols[2], "0.02");  // waittime-min: 20 ns
  EXPECT_EQ(r.cols[4], "0.05");  // waittime-total: 50 ns
  EXPECT_EQ(r.num(6), 3u);  // acq-bounces
  EXPECT_EQ(r.num(7), 6u);  // acquisitions
}

TEST(LockProfile, BouncesAreCountedPerLockInstance) {
  Trace t = two_cpu_trace();
  const std::uint32_t p = t.lock_point(LockPoint{"L", "x.cc:1", "f"});
  LockEvents a{t, t.intern("L#1")}, b{t, t.intern("L#2")};
  a.take(100, 0, p, 0, 10);
  b.take(200, 1, p, 0, 10);  // another instance of the class: its first acquisition
  a.take(300, 0, p, 0, 10);  // L#1 was last taken on CPU 0: no bounce
  b.take(400, 0, p, 0, 10);  // L#2 was last taken on CPU 1: a bounce
  EXPECT_EQ(lock_profile_of(t).classes()[0].write.acq_bounces, 1u);
}

TEST(LockProfile, ReadAndWriteRowsAndZeroWaitWithoutContention) {
  Trace t = two_cpu_trace();
  const std::uint32_t pr = t.lock_point(LockPoint{"sem", "m.cc:10", "reader"});
  const std::uint32_t pw = t.lock_point(LockPoint{"sem", "m.cc:20", "writer"});
  LockEvents l{t, t.intern("sem#1")};
  l.take(100, 0, pr, 0, 40, lock_contention::kRead);
  l.take(110, 1, pr, 0, 40, lock_contention::kRead);
  l.take(300, 0, pw, 50, 5, lock_contention::kWrite);
  const std::string table = lock_stat_table(lock_profile_of(t), 1e9);
  const auto rows = rows_of(table);
  ASSERT_TRUE(rows.count("sem-W")) << table;
  ASSERT_TRUE(rows.count("sem-R")) << table;
  EXPECT_FALSE(rows.count("sem"));
  EXPECT_EQ(rows.at("sem-R").num(7), 2u);
  EXPECT_EQ(rows.at("sem-R").num(1), 0u);
  for (int i : {2, 3, 4, 5}) EXPECT_EQ(rows.at("sem-R").cols[static_cast<std::size_t>(i)], "0.00") << i;
  EXPECT_EQ(rows.at("sem-W").num(7), 1u);
  EXPECT_EQ(rows.at("sem-W").num(1), 1u);
  EXPECT_EQ(rows.at("sem-W").cols[3], "0.05");
  // The -W row comes first, as in the kernel's table.
  EXPECT_LT(table.find("sem-W:"), table.find("sem-R:"));
}

TEST(LockStat, ContentionPointsAreTheFourMostFrequentWithTheirHolders) {
  Trace t = two_cpu_trace();
  std::vector<std::uint32_t> p;
  for (int i = 0; i < 5; ++i)
    p.push_back(t.lock_point(LockPoint{"L", "s.cc:" + std::to_string(10 + i), "site" + std::to_string(i)}));
  LockEvents l{t, t.intern("L#1")};
  // Contended acquisitions per site: site0 x3, site1 x1, site2 x4, site3 x1, site4 x2.
  // Each is preceded by an uncontended acquisition at site4 on the other CPU (the holder).
  const int counts[5] = {3, 1, 4, 1, 2};
  Cycles now = 1000;
  for (int i = 0; i < 5; ++i)
    for (int n = 0; n < counts[i]; ++n) {
      l.take(now, 1, p[4], 0, 5);
      l.take(now + 100, 0, p[static_cast<std::size_t>(i)], 50, 5);
      now += 1000;
    }
  const std::vector<std::string> lines = split_lines(lock_stat_table(lock_profile_of(t), 1e9));
  const auto rule = std::find(lines.begin(), lines.end(), std::string(39, ' ') + "-");
  ASSERT_NE(rule, lines.end());
  ASSERT_GE(lines.end() - rule, 7);
  const std::regex point(R"( +L +(\d+) +(s\.cc:\d+) (site\d))");
  std::vector<std::pair<int, std::string>> got;
  for (auto it = rule + 1; it != rule + 5; ++it) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(*it, m, point)) << *it;
    got.emplace_back(std::stoi(m[1]), m[3]);
  }
  const std::vector<std::pair<int, std::string>> want = {{4, "site2"}, {3, "site0"}, {2, "site4"}, {1, "site1"}};
  EXPECT_EQ(got, want);
  // The contending points: every contended acquisition waited for the holder from site4.
  EXPECT_EQ(rule[5], rule[0]);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(rule[6], m, point)) << rule[6];
  EXPECT_EQ(m[1], "11");
  EXPECT_EQ(m[2], "s.cc:14");
}

TEST(LockContention, RowsSortedByTotalWait) {
  Trace t = two_cpu_trace();
  const std::uint32_t a = t.lock_point(LockPoint{"A", "a.cc:1", "fa"});
  const std::uint32_t b = t.lock_point(LockPoint{"B", "b.cc:2", "fb"});
  const std::uint32_t c = t.lock_point(LockPoint{"C", "c.cc:3", "fc"});
  LockEvents la{t, t.intern("A#1")}, lb{t, t.intern("B#1")}, lc{t, t.intern("C#1")};
  la.take(1000, 0, a, 500, 10, lock_contention::kMutex);        // A: 1 x 500 ns
  lb.take(2000, 1, b, 100, 10, lock_contention::kRead);         // B: 3 x 100 ns = 300 ns
  lb.take(3000, 0, b, 100, 10, lock_contention::kRead);
  lb.take(4000, 1, b, 100, 10, lock_contention::kRead);
  lc.take(5000, 0, c, 2500000, 10);                            // C: 2.5 ms
  lc.take(9000000, 0, c, 0, 10);                               // uncontended: not counted
  const std::vector<std::string> want = {
      " contended   total wait     max wait     avg wait         type   caller",
      "",
      "         1      2.50 ms      2.50 ms      2.50 ms     spinlock   c.cc:3 fc [C]",
      "         1       500 ns       500 ns       500 ns        mutex   a.cc:1 fa [A]",
      "         3       300 ns       100 ns       100 ns      rwsem:R   b.cc:2 fb [B]",
  };
  EXPECT_EQ(split_lines(lock_contention_table(lock_profile_of(t), 1e9)), want);
  EXPECT_EQ(perf_lock_time(1500), "1.50 us");
  EXPECT_EQ(perf_lock_time(2000000000), "2.00 s");
}

// ---- runs -----------------------------------------------------------------------------

TEST(LockStatCli, AbbaClassesWithoutContentionShowNoWait) {
  for (const char* lock : {"mutex", "spin"}) {
    const auto r = run_smpemu(std::string("run abba --lock-stat --set lock=") + lock);
    ASSERT_EQ(r.status, 1) << r.err;  // abba's lock-order report
    const auto rows = rows_of(r.out);
    ASSERT_TRUE(rows.count("abba_A") && rows.count("abba_B")) << r.out;
    int quiet = 0;
    for (const auto& [name, row] : rows) {
      EXPECT_EQ(row.num(7), 20u) << name;  // 2 tasks x 10 iterations
      if (row.num(1) != 0) {
        EXPECT_NE(row.cols[4], "0.00") << name << ": contended, so it waited";
        continue;
      }
      ++quiet;
      EXPECT_EQ(row.num(0), 0u) << name;
      for (int i : {2, 3, 4, 5}) EXPECT_EQ(row.cols[static_cast<std::size_t>(i)], "0.00") << name << " column " << i;
    }
    EXPECT_GE(quiet, 1) << r.out;  // seed 1: abba_A is never contended
  }
}

TEST(LockStatCli, RwsemWorkloadHasWriteAndReadRows) {
  RunConfig cfg;
  cfg.workload = "mmap-munmap";
  cfg.params.cpus = 4;
  cfg.set["threads"] = "on";  // one mm: the faults (read) and mmap/munmap (write) share mmap_sem
  cfg.set["iterations"] = "10";
  Trace trace(Trace::kDefaultCapacity);
  LockProfile prof;
  trace.set_listener(&prof);
  const RunResult r = run_once(cfg, nullptr, [&](Machine& m) { m.set_trace(&trace); });
  const auto rows = rows_of(lock_stat_table(prof, r.clock_hz));
  ASSERT_TRUE(rows.count("mmap_sem-W")) << lock_stat_table(prof, r.clock_hz);
  ASSERT_TRUE(rows.count("mmap_sem-R"));
  const auto cls = std::find_if(r.locks.begin(), r.locks.end(), [](const LockClassStats& l) { return l.name == "mmap_sem"; });
  ASSERT_NE(cls, r.locks.end());
  // The two rows split the class's acquisitions and contentions as the engine counted them.
  EXPECT_EQ(rows.at("mmap_sem-W").num(7) + rows.at("mmap_sem-R").num(7), cls->acquisitions);
  EXPECT_EQ(rows.at("mmap_sem-W").num(1) + rows.at("mmap_sem-R").num(1), cls->contentions);
  EXPECT_GT(rows.at("mmap_sem-W").num(7), 0u);
  EXPECT_GT(rows.at("mmap_sem-R").num(7), 0u);
  // Every class: the profile counts what lockdep counted.
  for (const LockClassStats& l : r.locks) {
    if (l.acquisitions == 0) continue;
    const auto it = std::find_if(prof.classes().begin(), prof.classes().end(),
                                 [&](const LockClassProfile& c) { return c.name == l.name; });
    ASSERT_NE(it, prof.classes().end()) << l.name;
    EXPECT_EQ(it->write.acquisitions + it->read.acquisitions, l.acquisitions) << l.name;
    EXPECT_EQ(it->contentions(), l.contentions) << l.name;
  }
  // The same rows from the command line.
  const auto cli = run_smpemu("run mmap-munmap --cpus 4 --set threads=on --set iterations=10 --lock-stat");
  ASSERT_EQ(cli.status, 0) << cli.err;
  EXPECT_NE(cli.out.find("mmap_sem-W:"), std::string::npos);
  EXPECT_NE(cli.out.find("mmap_sem-R:"), std::string::npos);
}

TEST(LockStatCli, ContentionPointsNameTheLockCallSite) {
  const auto r = run_smpemu("run abba --lock-stat");  // seed 1: abba_B is contended once
  ASSERT_EQ(r.status, 1) << r.err;
  const std::vector<std::string> lines = split_lines(r.out);
  const auto row = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.rfind(std::string(34, ' ') + "abba_B:", 0) == 0;
  });
  ASSERT_NE(row, lines.end()) << r.out;
  ASSERT_GE(lines.end() - row, 5);
  EXPECT_EQ(row[1], std::string(34, ' ') + "------");
  // "abba_B  COUNT  workloads/abba.cc:LINE take <- body": the source line of the lock
  // call, then the annotated functions around it.
  const std::regex point(R"( +abba_B +1 +workloads/abba\.cc:\d+ take <- body)");
  EXPECT_TRUE(std::regex_match(row[2], point)) << row[2];
  EXPECT_EQ(row[3], row[1]);
  EXPECT_TRUE(std::regex_match(row[4], point)) << row[4];  // the holder took it at the same line
}

TEST(LockStatCli, LockContentionRowsSortedByTotalWait) {
  const auto r = run_smpemu("run truncate-latency --cpus 4 --set truncates=2 --lock-contention");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto head = r.out.find(" contended   total wait     max wait     avg wait         type   caller\n\n");
  ASSERT_NE(head, std::string::npos) << r.out;
  const std::regex row(R"( +(\d+) +([\d.]+) (ns|us|ms|s) +[\d.]+ (?:ns|us|ms|s) +[\d.]+ (?:ns|us|ms|s) +(\S+)   (\S+:\d+ .*) \[.+\])");
  const std::map<std::string, double> unit = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
  std::vector<double> totals;
  std::istringstream in(r.out.substr(head));
  std::string l;
  std::getline(in, l);
  std::getline(in, l);
  while (std::getline(in, l)) {
    std::smatch m;
    if (!std::regex_match(l, m, row)) break;
    totals.push_back(std::stod(m[2]) * unit.at(m[3]));
  }
  ASSERT_GE(totals.size(), 2u) << r.out;
  EXPECT_TRUE(std::is_sorted(totals.rbegin(), totals.rend())) << r.out;
}

TEST(LockStatCli, LockOptionsLeaveTheDigestAlone) {
  auto digest = [](const std::string& args) {
    const auto r = run_smpemu("run " + args + " --json");
    EXPECT_NE(r.status, 2) << r.err;
    const auto at = r.out.find("\"digest\": \"");
    return at == std::string::npos ? std::string() : r.out.substr(at, 30);
  };
  for (const char* w : {"abba --seed 3", "mmap-munmap --cpus 4 --set threads=on --set iterations=5"}) {
    const std::string plain = digest(w);
    ASSERT_FALSE(plain.empty()) << w;
    EXPECT_EQ(digest(std::string(w) + " --lock-stat --lock-contention"), plain) << w;
    EXPECT_EQ(digest(std::string(w) + " --lock-stat --trace-buffer 4 --trace /dev/null"), plain) << w;
  }
}

TEST(LockStatCli, BadLockOptionsExitTwo) {
  for (const char* bad : {"--lock-contention=maybe", "--lock-stat=often", "--lock-contention 5"}) {
    const auto r = run_smpemu(std::string("run abba ") + bad);
    EXPECT_EQ(r.status, 2) << bad << "\n" << r.out;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << bad << ": " << r.err;
  }
}

}  // namespace
}  // namespace smpemu
