// The wait profile (traces/wait_profile.h): blocked and spinning shares of all CPU time
// per lock class and call path, its metrics (blocked.*, spin.*) and its text view
// (--wait-profile, cli/lock_stat.h). On hand-made traces whose answers are known, and on
// runs with known contention, against the LockProfile the same events give.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "cli/lock_stat.h"
#include "cli/runner.h"
#include "test_util.h"
#include "trace_test_util.h"

namespace smpemu {
namespace {

using testing::run_smpemu;

// ---- hand-made traces ---------------------------------------------------------------

/// A contended acquisition as the engine traces it: LockContend (`contend_flags` in b)
/// then LockAcquire with the wait, on CPU `cpu`.
void contended(Trace& t, std::uint32_t name, std::uint32_t point, std::uint32_t flags, std::uint32_t contend_flags,
               Cycles time, Cycles wait, int cpu = 0) {
  const std::uint64_t a = lock_event::pack(name, flags, point);
  t.add(TraceEvent{time - wait, a, std::uint64_t{contend_flags} << 32, 1, static_cast<std::int16_t>(cpu),
                   TraceKind::LockContend, 0});
  t.add(TraceEvent{time, a, wait, 1, static_cast<std::int16_t>(cpu), TraceKind::LockAcquire, 0});
  t.add(TraceEvent{time + 1, a, 1, 1, static_cast<std::int16_t>(cpu), TraceKind::LockRelease, 0});
}

TEST(WaitProfile, SplitsBlockedAndSpinningByClassAndPath) {
  Trace t = one_cpu_trace({{1, "t1"}}, 256);
  using namespace lock_contention;
  const std::uint32_t rmap = t.lock_point({"anon_vma", "mm/rmap.cc:10", "anon_vma_lock_read <- rmap_walk <- migrate"});
  const std::uint32_t unmap =
      t.lock_point({"anon_vma", "mm/rmap.cc:20", "page_lock_anon_vma_read <- try_to_unmap <- migrate"});
  const std::uint32_t zone = t.lock_point({"zone->lock", "mm/page_alloc.cc:5", "free_pages_bulk <- free_pages"});
  const std::uint32_t mtx = t.lock_point({"i_mmap_mutex", "mm/mmap.cc:7", "mutex_lock <- vma_link"});
  const std::uint32_t pg = t.lock_point({"page_lock", "mm/filemap.cc:3", "lock_page"});
  const std::uint32_t a = t.intern("anon_vma#1"), z = t.intern("zone->lock#1"), m = t.intern("i_mmap_mutex#1"),
                      p = t.intern("page_lock#1");
  contended(t, a, rmap, kRead, kRead, 1000, 300);
  contended(t, a, rmap, kRead, kRead, 2000, 100);
  contended(t, a, unmap, kRead, kRead, 3000, 200);
  contended(t, z, zone, kSpin, kSpin, 4000, 50);
  contended(t, m, mtx, kMutex, kMutex | kSpin, 5000, 40);  // won by optimistic spinning
  contended(t, m, mtx, kMutex, kMutex, 6000, 60);          // slept
  contended(t, p, pg, 0, 0, 7000, 80);
  const LockProfile prof = lock_profile_of(t);
  const WaitProfile w = wait_profile_of(prof, 2, 5000);  // 10000 CPU cycles

  EXPECT_EQ(w.cpu_time(), 10000);
  EXPECT_EQ(w.blocked, 300u + 100 + 200 + 60 + 80);
  EXPECT_EQ(w.spin, 50u + 40);
  ASSERT_EQ(w.classes.size(), 4u);
  EXPECT_EQ(w.classes[0].name, "anon_vma");  // largest first
  EXPECT_EQ(w.classes[0].blocked, 600u);
  ASSERT_EQ(w.classes[0].paths.size(), 2u);
  EXPECT_EQ(w.classes[0].paths[0].function, "rmap_walk");
  EXPECT_EQ(w.classes[0].paths[0].cycles, 400u);
  EXPECT_EQ(w.classes[0].paths[0].count, 2u);
  EXPECT_EQ(w.classes[0].paths[1].function, "try_to_unmap");
  EXPECT_EQ(w.classes[1].name, "i_mmap_mutex");
  EXPECT_EQ(w.classes[1].blocked, 60u);
  EXPECT_EQ(w.classes[1].spin, 40u);
  EXPECT_EQ(w.classes[2].name, "page_lock");
  EXPECT_EQ(w.classes[3].name, "zone->lock");
  EXPECT_EQ(w.classes[3].spin, 50u);

  const auto metrics = wait_metrics(w);
  EXPECT_DOUBLE_EQ(metrics.at("blocked"), 0.074);
  EXPECT_DOUBLE_EQ(metrics.at("spin"), 0.009);
  EXPECT_DOUBLE_EQ(metrics.at("blocked.anon_vma"), 0.06);
  EXPECT_DOUBLE_EQ(metrics.at("blocked.anon_vma.rmap_walk"), 0.04);
  EXPECT_DOUBLE_EQ(metrics.at("blocked.anon_vma.try_to_unmap"), 0.02);
  EXPECT_DOUBLE_EQ(metrics.at("spin.zone__lock.free_pages_bulk"), 0.005);
  EXPECT_DOUBLE_EQ(metrics.at("spin.i_mmap_mutex.vma_link"), 0.004);
  EXPECT_DOUBLE_EQ(metrics.at("blocked.i_mmap_mutex.vma_link"), 0.006);
  EXPECT_DOUBLE_EQ(metrics.at("blocked.page_lock.lock_page"), 0.008);  // every function a wrapper: the innermost
  EXPECT_FALSE(metrics.count("spin.anon_vma")) << "zero shares of a class are left out";

  const std::string text = wait_profile_table(w);
  EXPECT_NE(text.find("2 CPUs x 5000 cycles = 10000 CPU cycles"), std::string::npos) << text;
  EXPECT_NE(text.find("     6.00%  blocked  rwsem:R     anon_vma\n"), std::string::npos) << text;
  EXPECT_NE(text.find("     4.00%  blocked  rwsem:R       mm/rmap.cc:10 anon_vma_lock_read <- rmap_walk <- migrate\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("     1.00%  both     mutex       i_mmap_mutex  (blocked 0.60%, spin 0.40%)\n"),
            std::string::npos)
      << text;
}

TEST(WaitProfile, EmptyProfileHasTotalsOnly) {
  const WaitProfile w = wait_profile_of(LockProfile{}, 4, 0);
  const auto metrics = wait_metrics(w);
  EXPECT_EQ(metrics, (std::map<std::string, double>{{"blocked", 0.0}, {"spin", 0.0}}));
  EXPECT_NE(wait_profile_table(w).find("# no contended lock acquisition"), std::string::npos);
}

TEST(WaitProfile, KeyFunctionSkipsLockWrappers) {
  EXPECT_EQ(wait_function("page_lock_anon_vma_read <- rmap_walk <- try_to_unmap"), "rmap_walk");
  EXPECT_EQ(wait_function("anon_vma_lock_read <- page_lock_anon_vma_read <- try_to_unmap <- migrate"),
            "try_to_unmap");
  EXPECT_EQ(wait_function("free_pages"), "free_pages");
  EXPECT_EQ(wait_function("lock_page <- mutex_lock"), "lock_page");
  EXPECT_EQ(wait_function(""), "?");
  EXPECT_EQ(metric_part("i_mmap_lock/1"), "i_mmap_lock_1");
  EXPECT_EQ(metric_part("zone->lock"), "zone__lock");
  EXPECT_EQ(metric_part("a.b c"), "a_b_c");
  EXPECT_EQ(metric_part("?"), "_");
  EXPECT_EQ(metric_part(""), "_");
  EXPECT_TRUE(is_wait_metric("blocked"));
  EXPECT_TRUE(is_wait_metric("spin.zone_lock"));
  EXPECT_FALSE(is_wait_metric("spinners"));
  EXPECT_FALSE(is_wait_metric("blocked_tasks"));
}

// ---- runs ---------------------------------------------------------------------------

/// The key format: blocked|spin, then at most a class and a function, each [A-Za-z0-9_]+.
const std::regex kKey(R"((blocked|spin)(\.[A-Za-z0-9_]+){0,2})");

/// Runs `cfg` with the wait profile and, beside it, a LockProfile of its own.
RunResult run_with_profile(RunConfig cfg, LockProfile& prof) {
  cfg.wait_profile = true;
  return run_once(cfg, nullptr, [&](Machine& m) {
    if (!m.trace()) {
      static thread_local std::unique_ptr<Trace> t;
      t = std::make_unique<Trace>(MachineParams::kHistoryEvents);
      m.set_trace(t.get());
    }
    m.trace()->add_listener(&prof);
  });
}

/// Checks the profile of `r` against `prof` and the metrics' rules.
void check_against(const RunResult& r, const LockProfile& prof) {
  ASSERT_TRUE(r.waits);
  const WaitProfile& w = *r.waits;
  EXPECT_EQ(w.ncpus, r.config.params.cpus);
  EXPECT_EQ(w.duration, r.stats.cycles);
  // Per class: what the LockProfile's rows say, split by their spinning part.
  std::map<std::string, std::pair<Cycles, Cycles>> expect;  // class -> (blocked, spin)
  for (const LockContentionRow& row : prof.contentions()) {
    expect[row.cls].first += row.wait.total - row.spin.total;
    expect[row.cls].second += row.spin.total;
  }
  Cycles blocked = 0, spin = 0;
  for (const WaitClass& c : w.classes) {
    ASSERT_TRUE(expect.count(c.name)) << c.name;
    EXPECT_EQ(c.blocked, expect[c.name].first) << c.name;
    EXPECT_EQ(c.spin, expect[c.name].second) << c.name;
    Cycles paths = 0;
    for (const WaitPath& p : c.paths) paths += p.cycles;
    EXPECT_EQ(paths, c.total()) << c.name;
    blocked += c.blocked;
    spin += c.spin;
    const double b = r.metrics.count("blocked." + metric_part(c.name)) ? r.metrics.at("blocked." + metric_part(c.name)) : 0;
    const double s = r.metrics.count("spin." + metric_part(c.name)) ? r.metrics.at("spin." + metric_part(c.name)) : 0;
    EXPECT_DOUBLE_EQ(b + s, w.share(c.total())) << c.name;
  }
  EXPECT_EQ(blocked, w.blocked);
  EXPECT_EQ(spin, w.spin);
  EXPECT_DOUBLE_EQ(r.metrics.at("blocked"), w.share(w.blocked));
  EXPECT_DOUBLE_EQ(r.metrics.at("spin"), w.share(w.spin));
  for (const auto& [key, v] : r.metrics) {
    if (!is_wait_metric(key)) continue;
    EXPECT_TRUE(std::regex_match(key, kKey)) << key;
    EXPECT_GE(v, 0.0) << key;
    EXPECT_LE(v, 1.0) << key;
  }
}

/// rmap-stress on 4 CPUs: rmap walks against forks and exits, the anon_vma lock contended.
RunConfig rmap_config(const std::string& anon_lock = "spin", bool mutex_spin = false) {
  RunConfig cfg;
  cfg.workload = "rmap-stress";
  cfg.params.cpus = 4;
  cfg.params.mutex_spin = mutex_spin;
  cfg.set["anon_lock"] = anon_lock;
  return cfg;
}

TEST(WaitProfileRun, RmapStressSpinsOnTheAnonVmaLockInRmapWalk) {
  LockProfile prof;
  const RunResult r = run_with_profile(rmap_config(), prof);
  check_against(r, prof);
  EXPECT_GT(r.metrics.at("spin"), 0.0);
  EXPECT_GT(r.metrics.at("spin.anon_vma.rmap_walk"), 0.0);  // anon_vma_lock_write <- page_lock_anon_vma_read <- rmap_walk
  EXPECT_FALSE(r.metrics.count("blocked.anon_vma"));       // a spinlock never blocks
  ASSERT_FALSE(r.waits->classes.empty());
  EXPECT_EQ(r.waits->classes[0].name, "anon_vma");  // the largest
}

TEST(WaitProfileRun, MmapSemReadersBlock) {
  RunConfig cfg;
  cfg.workload = "mmap-munmap";
  cfg.params.cpus = 4;
  cfg.set["threads"] = "on";  // one mm: faults (read) against mmap/munmap (write)
  cfg.set["iterations"] = "10";
  LockProfile prof;
  const RunResult r = run_with_profile(cfg, prof);
  check_against(r, prof);
  EXPECT_GT(r.metrics.at("blocked.mmap_sem.user_access"), 0.0);
  EXPECT_GT(r.metrics.at("blocked.mmap_sem.do_mmap"), 0.0);
  EXPECT_FALSE(r.metrics.count("spin.mmap_sem"));
  // Readers and writers waited: the class line names the family.
  EXPECT_NE(wait_profile_table(*r.waits).find("%  blocked  rwsem       mmap_sem\n"), std::string::npos)
      << wait_profile_table(*r.waits);
}

TEST(WaitProfileRun, MutexWonBySpinningCountsAsSpin) {
  // anon_lock=mutex: with --mutex-spin on, waits that end while the owner still runs
  // are spin and the others blocked; without it every mutex wait sleeps.
  LockProfile prof;
  const RunResult on = run_with_profile(rmap_config("mutex", true), prof);
  check_against(on, prof);
  EXPECT_GT(on.metrics.count("spin.anon_vma") ? on.metrics.at("spin.anon_vma") : 0.0, 0.0);
  LockProfile prof_off;
  const RunResult off = run_with_profile(rmap_config("mutex", false), prof_off);
  check_against(off, prof_off);
  EXPECT_FALSE(off.metrics.count("spin.anon_vma"));
  EXPECT_GT(off.metrics.at("blocked.anon_vma"), 0.0);
}

TEST(WaitProfileRun, SameDigestWithAndWithoutAndDeterministic) {
  for (bool history : {true, false}) {
    RunConfig cfg = rmap_config();
    cfg.params.history = history;
    const RunResult plain = run_once(cfg);
    cfg.wait_profile = true;
    const RunResult a = run_once(cfg), b = run_once(cfg);
    EXPECT_EQ(plain.stats.digest, a.stats.digest) << history;
    EXPECT_EQ(a.stats.digest, b.stats.digest);
    EXPECT_EQ(a.metrics, b.metrics);
    EXPECT_EQ(wait_profile_table(*a.waits), wait_profile_table(*b.waits));
    EXPECT_FALSE(plain.waits);
    EXPECT_FALSE(plain.metrics.count("spin"));
  }
}

// ---- a workload that asks for it ----------------------------------------------------

/// abba with spinlocks (contended once on seed 1), asking for the wait profile.
class WantsWaits final : public Workload {
 public:
  void setup(Machine& m, const Knobs&) override {
    const WorkloadSpec* spec = find_workload("abba");
    inner_ = spec->make();
    inner_->setup(m, resolve_knobs(*spec, {{"lock", "spin"}}));
  }
  void finish(Machine& m, Metrics& out, std::vector<BugReport>& bugs) override { inner_->finish(m, out, bugs); }
  bool wants_wait_profile() const override { return true; }

 private:
  std::unique_ptr<Workload> inner_;
};

const WorkloadRegistrar reg({"test-wants-waits", "abba (spinlocks) asking for the wait profile", {},
                             [] { return std::make_unique<WantsWaits>(); }});

TEST(WaitProfileRun, WorkloadCanAskForItInEveryRun) {
  RunConfig cfg;
  cfg.workload = "test-wants-waits";
  cfg.checks.ignore = {"lock-order"};
  const RunResult r = run_once(cfg);
  ASSERT_TRUE(r.waits);
  EXPECT_TRUE(r.metrics.count("blocked"));
  EXPECT_GT(r.metrics.at("spin"), 0.0);
}

// ---- the command line ---------------------------------------------------------------

TEST(WaitProfileCli, ViewAndMetrics) {
  const std::string args = "run rmap-stress --cpus 4 --wait-profile";
  const auto text = run_smpemu(args);
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("# Wait profile: share of all CPU time, 4 CPUs x "), std::string::npos) << text.out;
  const std::regex cls_line(R"( +\d+\.\d\d%  spin     spinlock    anon_vma)");
  bool found = false;
  std::istringstream in(text.out);
  for (std::string l; std::getline(in, l);) found |= std::regex_match(l, cls_line);
  EXPECT_TRUE(found) << text.out;
  EXPECT_EQ(run_smpemu(args).out.substr(text.out.find("# Wait profile")),
            text.out.substr(text.out.find("# Wait profile")));

  const auto js = run_smpemu(args + " --json");
  ASSERT_EQ(js.status, 0) << js.err;
  const auto j = nlohmann::json::parse(js.out);
  ASSERT_TRUE(j["metrics"].contains("spin")) << js.out;
  EXPECT_GT(j["metrics"]["spin"].get<double>(), 0);
  EXPECT_GT(j["metrics"]["spin.anon_vma.rmap_walk"].get<double>(), 0);
  const auto plain = nlohmann::json::parse(run_smpemu("run rmap-stress --cpus 4 --json").out);
  EXPECT_EQ(plain["digest"], j["digest"]);
  EXPECT_FALSE(plain["metrics"].contains("spin"));
}

TEST(WaitProfileCli, CompareDiffsTheShares) {
  const auto r = run_smpemu(
      "compare rmap-stress --a anon_lock=spin --b anon_lock=mutex --seeds 2 --cpus 4 --wait-profile --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j["metrics"].contains("spin")) << r.out;
  EXPECT_EQ(j["metrics"]["spin"]["a"].size(), 2u);
  EXPECT_EQ(j["metrics"]["blocked"]["b"].size(), 2u);
  // Spinning on the anon_vma spinlock (A) against sleeping on its mutex (B): a key that
  // is zero in a run counts as 0 there, so both sides have every seed.
  ASSERT_TRUE(j["metrics"].contains("blocked.anon_vma")) << r.out;
  EXPECT_EQ(j["metrics"]["blocked.anon_vma"]["a"], nlohmann::json::parse("[0.0, 0.0]"));
  EXPECT_GT(j["metrics"]["blocked.anon_vma"]["b_mean"].get<double>(), 0);
}

TEST(WaitProfileCli, BadUseExitsTwo) {
  testing::expect_usage_error("run abba --wait-profile=maybe", "wait-profile");
  testing::expect_usage_error("compare abba --a lock=spin --b lock=mutex --wait-profile=often", "wait-profile");
}

}  // namespace
}  // namespace smpemu
