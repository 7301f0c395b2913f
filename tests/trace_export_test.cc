// Exporters of a run's observable record: Perfetto/Chrome JSON and ftrace text of a
// Trace, the first divergence of two traces, the lock_stat table, bcc-style log2
// histograms, and the microseconds of the text/JSON reports.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "cli/hist_text.h"
#include "cli/lock_stat.h"
#include "cli/report.h"
#include "cli/runner.h"
#include "traces/ftrace.h"
#include "traces/perfetto.h"
#include "traces/trace_diff.h"
#include "trace_test_util.h"

namespace smpemu {
namespace {

struct Traced {
  RunResult result;
  std::unique_ptr<Trace> trace;
};

Traced traced_run(const RunConfig& cfg, std::size_t capacity = Trace::kDefaultCapacity, bool detail = false) {
  Traced t;
  t.trace = std::make_unique<Trace>(capacity, detail);
  t.trace->workload = cfg.workload;  // the caller names the run; the Machine does not know it
  Trace* tr = t.trace.get();
  t.result = run_once(cfg, nullptr, [tr](Machine& m) { m.set_trace(tr); });
  return t;
}

RunConfig abba(std::uint64_t seed, const std::string& lock = "mutex") {
  RunConfig cfg;
  cfg.workload = "abba";
  cfg.params.cpus = 4;
  cfg.params.seed = seed;
  cfg.set["lock"] = lock;
  return cfg;
}

RunConfig spin(int cpus, std::uint64_t seed) {
  RunConfig cfg;
  cfg.workload = "spinlock-contention";
  cfg.params.cpus = cpus;
  cfg.params.seed = seed;
  cfg.set["duration"] = "200000";
  return cfg;
}

/// A complete ("X") event: its track, category, name and extent in cycles and in ns.
struct Span {
  int pid, tid;
  std::string cat, name;
  std::uint64_t start, end;
  std::int64_t ns0, ns1;
  nlohmann::json args;
};

std::vector<Span> spans_of(const nlohmann::json& doc) {
  std::vector<Span> out;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] != "X") continue;
    const auto c0 = e["args"]["cycles"].get<std::uint64_t>();
    const auto dc = e["args"]["dur_cycles"].get<std::uint64_t>();
    const auto ns0 = std::llround(e["ts"].get<double>() * 1000.0);
    out.push_back({e["pid"].get<int>(), e["tid"].get<int>(), e["cat"], e["name"], c0, c0 + dc, ns0,
                   ns0 + std::llround(e["dur"].get<double>() * 1000.0), e["args"]});
  }
  return out;
}

/// Every track is a laminar family of intervals (in cycles, and in the ns a viewer sees).
void expect_properly_nested(const std::vector<Span>& spans) {
  std::map<std::pair<int, int>, std::vector<const Span*>> lanes;
  for (const Span& s : spans) lanes[{s.pid, s.tid}].push_back(&s);
  for (auto& [track, v] : lanes) {
    const int tid = track.second;
    for (bool in_ns : {false, true}) {
      auto lo = [&](const Span* s) { return in_ns ? s->ns0 : static_cast<std::int64_t>(s->start); };
      auto hi = [&](const Span* s) { return in_ns ? s->ns1 : static_cast<std::int64_t>(s->end); };
      std::stable_sort(v.begin(), v.end(),
                       [&](const Span* a, const Span* b) { return lo(a) != lo(b) ? lo(a) < lo(b) : hi(a) > hi(b); });
      std::vector<const Span*> stack;
      for (const Span* s : v) {
        ASSERT_LE(lo(s), hi(s)) << s->name;
        while (!stack.empty() && hi(stack.back()) <= lo(s)) stack.pop_back();
        if (!stack.empty()) {
          ASSERT_LE(hi(s), hi(stack.back())) << "lane " << tid << ": " << s->name << " [" << lo(s) << ", " << hi(s)
                                             << "] overlaps " << stack.back()->name << " [" << lo(stack.back()) << ", "
                                             << hi(stack.back()) << "]" << (in_ns ? " (ns)" : " (cycles)");
        }
        stack.push_back(s);
      }
    }
  }
}

// ---- Perfetto ---------------------------------------------------------------------

/// tid -> thread name, and pid -> process name, from the metadata events.
struct Tracks {
  std::map<std::pair<int, int>, std::string> threads;
  std::map<int, std::string> processes;
};

Tracks tracks_of(const nlohmann::json& doc) {
  Tracks t;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] != "M") continue;
    if (e["name"] == "thread_name") t.threads[{e["pid"].get<int>(), e["tid"].get<int>()}] = e["args"]["name"];
    if (e["name"] == "process_name") t.processes[e["pid"].get<int>()] = e["args"]["name"];
  }
  return t;
}

TEST(PerfettoExport, AbbaHasCpuLanesTaskTracksLockSpansOnTheirHolderAndTheBug) {
  const Traced t = traced_run(abba(3));
  const nlohmann::json doc = nlohmann::json::parse(perfetto_json(*t.trace).dump());
  EXPECT_FALSE(doc.contains("displayTimeUnit"));  // older Perfetto misreads it
  EXPECT_EQ(doc["otherData"]["workload"], "abba");
  EXPECT_EQ(doc["otherData"]["dropped_events"], 0);
  const double hz = doc["otherData"]["clock_hz"].get<double>();
  EXPECT_EQ(hz, t.result.clock_hz);

  // Every CPU has a lane in "CPUs" (pid 1); every task with something to show a track in "Tasks" (pid 2).
  const Tracks tracks = tracks_of(doc);
  EXPECT_EQ(tracks.processes, (std::map<int, std::string>{{1, "CPUs"}, {2, "Tasks"}}));
  for (int cpu = 0; cpu < 4; ++cpu) EXPECT_EQ(tracks.threads.at({1, cpu + 1}), "CPU " + std::to_string(cpu));
  EXPECT_EQ(tracks.threads.at({1, 5}), "RCU");
  for (const auto& e : doc["traceEvents"]) {
    EXPECT_TRUE(e["pid"] == 1 || e["pid"] == 2) << e.dump();  // pid 0 is the swapper to Perfetto
    EXPECT_GT(e["tid"].get<int>(), 0);
    if (e["ph"] != "M") EXPECT_TRUE(tracks.threads.count({e["pid"].get<int>(), e["tid"].get<int>()})) << e.dump();
  }

  const std::vector<Span> spans = spans_of(doc);
  expect_properly_nested(spans);
  int locks = 0, running = 0;
  for (const Span& s : spans) {
    EXPECT_LT(s.ns0, s.ns1) << "a zero-length complete event: " << s.name;
    if (s.cat == "sched") {
      ++running;
      EXPECT_EQ(s.pid, 1);
      EXPECT_NE(s.name.rfind("swapper/", 0), 0u);  // idle is not drawn
    }
    if (s.cat != "lock") continue;
    ++locks;
    EXPECT_TRUE(s.name.rfind("abba_A", 0) == 0 || s.name.rfind("abba_B", 0) == 0) << s.name;
    EXPECT_TRUE(s.args.contains("hold_cycles"));
    // On the track of the task holding it, whole (not cut per CPU or per running interval).
    EXPECT_EQ(s.pid, 2);
    EXPECT_EQ(tracks.threads.at({s.pid, s.tid}), s.args["task"]);
    EXPECT_EQ(s.end - s.start, s.args["hold_cycles"].get<std::uint64_t>());
  }
  EXPECT_GT(locks, 4);
  EXPECT_GE(running, 2);  // the two tasks

  bool bug = false;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == "i") {
      EXPECT_EQ(e["s"], "t");
    }
    if (e["ph"] == "X") {
      EXPECT_GT(e["dur"].get<double>(), 0.0) << e.dump();
    }
    if (e["ph"] != "M" && e["ph"] != "b" && e["ph"] != "e") {
      // ts is cycles / clock_hz in microseconds, to the nanosecond.
      const double want = static_cast<double>(e["args"]["cycles"].get<std::uint64_t>()) * 1e6 / hz;
      EXPECT_NEAR(e["ts"].get<double>(), want, 0.0006) << e.dump();
    }
    // value(), not operator[]: a const json's operator[] on a missing key is undefined
    // behaviour (AddressSanitizer caught it on the metadata events, which have no cat)
    if (e.value("cat", "") == "bug" && e.value("name", "") == "lock-order") {
      bug = true;
      EXPECT_EQ(e["ph"], "i");
      EXPECT_EQ(e["pid"], 2);
      EXPECT_NE(e["args"]["message"].get<std::string>().find("circular"), std::string::npos);
      EXPECT_EQ(e["args"]["fatal"], false);
    }
  }
  EXPECT_TRUE(bug);
}

TEST(PerfettoExport, SpinlocksGivePreemptOffRegionsAndTheStreamParses) {
  const Traced t = traced_run(abba(5, "spin"));
  std::ostringstream out;
  write_perfetto(out, *t.trace);
  const nlohmann::json doc = nlohmann::json::parse(out.str());
  EXPECT_EQ(doc, nlohmann::json::parse(perfetto_json(*t.trace).dump()));
  const std::vector<Span> spans = spans_of(doc);
  expect_properly_nested(spans);
  EXPECT_TRUE(std::any_of(spans.begin(), spans.end(), [](const Span& s) { return s.cat == "preemptoff"; }));
  EXPECT_TRUE(std::any_of(spans.begin(), spans.end(), [](const Span& s) { return s.cat == "lock"; }));
}

TEST(PerfettoExport, RcuGracePeriodsAreOnTheirOwnLane) {
  RunConfig cfg;
  cfg.workload = "rcu-readers";
  cfg.params.cpus = 4;
  cfg.set["updates"] = "5";
  const Traced t = traced_run(cfg);
  const std::vector<Span> spans = spans_of(perfetto_json(*t.trace));
  expect_properly_nested(spans);
  int gps = 0;
  for (const Span& s : spans)
    if (s.cat == "rcu") {
      ++gps;
      EXPECT_EQ(s.pid, 1);
      EXPECT_EQ(s.tid, 5);  // after the 4 CPU lanes (tids 1..4)
    }
  EXPECT_GT(gps, 0);
}

/// One CPU; t1 takes a mutex, sleeps holding it while t2 runs, runs again and releases.
Trace sleeping_holder_trace() {
  Trace t = one_cpu_trace({{1, "swapper/0"}, {2, "t1"}, {3, "t2"}});
  const auto lock = t.intern("m#0");
  auto add = [&](Cycles time, std::uint32_t task, TraceKind k, std::uint64_t a, std::uint64_t b) {
    add_event(t, time, task, k, a, b);
  };
  add(0, 1, TraceKind::CtxSwitch, 1, 2);
  add(10, 2, TraceKind::TaskStart, 2, 0);
  add(20, 2, TraceKind::LockAcquire, lock, 5);
  add(30, 2, TraceKind::CtxSwitch, 2, 3);  // t1 sleeps holding m
  add(40, 3, TraceKind::Wakeup, 2, 0);
  add(50, 3, TraceKind::CtxSwitch, 3, 2);  // t2 is preempted
  add(60, 2, TraceKind::LockRelease, lock, 40);
  add(70, 2, TraceKind::CtxSwitch, 2, 3);
  add(80, 3, TraceKind::TaskExit, 3, 0);
  add(80, 3, TraceKind::CtxSwitch, 3, 1);
  return t;
}

TEST(PerfettoExport, ALockHeldAcrossASleepIsOneSliceOnItsHoldersTrack) {
  const nlohmann::json doc = perfetto_json(sleeping_holder_trace());
  const std::vector<Span> spans = spans_of(doc);
  expect_properly_nested(spans);
  const Tracks tracks = tracks_of(doc);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> lock, t1;
  for (const Span& s : spans) {
    if (s.cat == "lock") {
      lock.emplace_back(s.start, s.end);
      EXPECT_EQ(tracks.threads.at({s.pid, s.tid}), "t1");
      EXPECT_EQ(s.args["hold_cycles"], 40);
      EXPECT_EQ(s.args["wait_cycles"], 5);
    }
    if (s.cat == "sched" && s.name == "t1") {
      t1.emplace_back(s.start, s.end);
      EXPECT_EQ(tracks.threads.at({s.pid, s.tid}), "CPU 0");
    }
    EXPECT_NE(s.name, "swapper/0");  // idle is not drawn
  }
  using P = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
  EXPECT_EQ(lock, (P{{20, 60}}));
  EXPECT_EQ(t1, (P{{0, 30}, {50, 70}}));
}

/// One CPU, one task: A taken, B taken, A released, B released (not nested), then a
/// lock taken and released in the same cycle, and C taken and never released.
Trace crossed_locks_trace() {
  Trace t = one_cpu_trace({{0, "swapper/0"}, {1, "t1"}});
  const auto a = t.intern("A"), b = t.intern("B"), c = t.intern("C"), z = t.intern("Z");
  auto add = [&](Cycles time, TraceKind k, std::uint64_t x, std::uint64_t y) { add_event(t, time, 1, k, x, y); };
  add_event(t, 0, 0, TraceKind::CtxSwitch, 0, ctx_switch_payload(1, SwitchState::Runnable));
  add(10, TraceKind::LockAcquire, a, 0);
  add(20, TraceKind::LockAcquire, b, 0);
  add(30, TraceKind::LockRelease, a, 20);
  add(40, TraceKind::LockRelease, b, 20);
  add(45, TraceKind::LockAcquire, z, 0);
  add(45, TraceKind::LockRelease, z, 0);
  add(50, TraceKind::LockAcquire, c, 0);
  add(60, TraceKind::TaskExit, 1, 0);
  return t;
}

TEST(PerfettoExport, CrossedLocksBecomeAsyncSlicesAndNothingIsZeroLength) {
  const nlohmann::json doc = perfetto_json(crossed_locks_trace());
  EXPECT_FALSE(doc.contains("displayTimeUnit"));
  expect_properly_nested(spans_of(doc));
  std::map<std::string, std::vector<std::string>> phases;  // lock -> its events' phases
  for (const auto& e : doc["traceEvents"]) {
    if (e.value("cat", "") != "lock") continue;  // metadata events have no cat
    phases[e["name"]].push_back(e["ph"]);
    EXPECT_EQ(e["pid"], 2);
    EXPECT_EQ(e["tid"], 1001);  // t1's track
    if (e["ph"] == "X") {
      EXPECT_GT(e["dur"].get<double>(), 0.0);
    }
  }
  EXPECT_EQ(phases["A"], (std::vector<std::string>{"X"}));
  EXPECT_EQ(phases["B"], (std::vector<std::string>{"b", "e"}));  // overlaps A without nesting in it
  EXPECT_EQ(phases["Z"], (std::vector<std::string>{"i"}));       // zero-length: an instant
  EXPECT_EQ(phases["C"], (std::vector<std::string>{"X"}));       // open: drawn to the end
  for (const auto& e : doc["traceEvents"])
    if (e["name"] == "C" && e["ph"] == "X") {
      EXPECT_EQ(e["args"]["open"], true);
      EXPECT_EQ(e["args"]["dur_cycles"], 10);
    }
}

// ---- ftrace -----------------------------------------------------------------------

TEST(FtraceExport, HeaderAndLinesHaveTheKernelShape) {
  const Traced t = traced_run(abba(3));
  const std::vector<std::string> all = split_lines(ftrace_text(*t.trace));
  ASSERT_GT(all.size(), 20u);
  EXPECT_EQ(all[0], "# tracer: nop");
  const std::vector<std::string> body = ftrace_lines(*t.trace);
  EXPECT_EQ(all[2], "# entries-in-buffer/entries-written: " + std::to_string(body.size()) + "/" +
                        std::to_string(body.size()) + "   #P:4");
  EXPECT_NE(std::find(all.begin(), all.end(), "#           TASK-PID   CPU#  ||||       TIMESTAMP  FUNCTION"),
            all.end());
  EXPECT_EQ(all.size(), body.size() + 11);

  const std::regex shape(
      R"(^ *[^ ].{0,15}-[0-9]+ +\[[0-9]{3}\] [d.][N.][h.][0-9a-f.] +([0-9]+)\.([0-9]{9}): [a-z_]+: .+$)");
  std::uint64_t last = 0;
  std::map<std::string, int> kinds;
  for (const std::string& l : body) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(l, m, shape)) << l;
    EXPECT_EQ(l[16], '-') << l;
    const std::uint64_t ns = std::stoull(m[1].str()) * 1000000000ULL + std::stoull(m[2].str());
    EXPECT_GE(ns, last) << l;
    last = ns;
    const std::size_t colon = l.find(": ", 30);
    ++kinds[l.substr(colon + 2, l.find(':', colon + 2) - colon - 2)];
  }
  for (const char* k : {"sched_switch", "tracing_mark_write", "task_newtask", "sched_process_exit", "cpu_idle"})
    EXPECT_GT(kinds[k], 0) << k;
  for (const char* k : {"lock_acquired", "lock_release", "bug", "sched_wakeup"}) EXPECT_EQ(kinds[k], 0) << k;
  const auto sw = std::find_if(body.begin(), body.end(),
                               [](const std::string& l) { return l.find("sched_switch:") != std::string::npos; });
  EXPECT_TRUE(std::regex_search(
      *sw,
      std::regex(
          R"(prev_comm=\S+ prev_pid=\d+ prev_prio=120 prev_state=(R\+?|S|D|X) ==> next_comm=\S+ next_pid=\d+ next_prio=120$)")))
      << *sw;
  const auto bug = std::find_if(body.begin(), body.end(), [](const std::string& l) {
    return l.find(": tracing_mark_write: I|") != std::string::npos;
  });
  ASSERT_NE(bug, body.end());
  EXPECT_TRUE(std::regex_search(*bug, std::regex(R"(I\|\d+\|BUG: lock-order: possible circular)"))) << *bug;
  // Mutex contention is the kernel's contention_begin / contention_end with MUTEX.
  RunConfig two = abba(1);
  two.params.cpus = 2;
  const std::vector<std::string> spin_lines = ftrace_lines(*traced_run(two).trace);
  EXPECT_TRUE(std::any_of(spin_lines.begin(), spin_lines.end(), [](const std::string& l) {
    return std::regex_search(l, std::regex(R"(contention_begin: 0x[0-9a-f]{16} \(flags=MUTEX\)$)"));
  }));
  EXPECT_TRUE(std::any_of(spin_lines.begin(), spin_lines.end(), [](const std::string& l) {
    return std::regex_search(l, std::regex(R"(contention_end: 0x[0-9a-f]{16} \(ret=0\)$)"));
  }));
}

TEST(FtraceExport, PrevStateSaysWhatHappenedToTheTaskNext) {
  // The hand-made trace's switches do not say why the task left: it is inferred.
  std::vector<std::string> states;
  const std::vector<std::string> lines = ftrace_lines(sleeping_holder_trace());
  for (const std::string& l : lines) {
    const auto p = l.find("prev_state=");
    if (p != std::string::npos) states.push_back(l.substr(p + 11, l.find(' ', p) - p - 11));
  }
  EXPECT_EQ(states, (std::vector<std::string>{"R", "D", "R+", "D", "X"}));
  auto has = [&](const std::string& want) { return std::find(lines.begin(), lines.end(), want) != lines.end(); };
  EXPECT_TRUE(has("              t1-2     [000] ....     0.000000030: sched_switch: prev_comm=t1 prev_pid=2 "
                  "prev_prio=120 prev_state=D ==> next_comm=t2 next_pid=3 next_prio=120"));
  // The lock held across the sleep: one slice of t1, from its acquisition to its release.
  EXPECT_TRUE(has("              t1-2     [000] ....     0.000000020: tracing_mark_write: B|2|m#0"));
  EXPECT_TRUE(has("              t1-2     [000] ....     0.000000060: tracing_mark_write: E|2"));
  EXPECT_EQ(lines[0], "       swapper/0-0     [000] ....     0.000000000: cpu_idle: state=4294967295 cpu_id=0");
  EXPECT_EQ(lines[1],
            "       swapper/0-0     [000] ....     0.000000000: sched_switch: prev_comm=swapper/0 prev_pid=0 "
            "prev_prio=120 prev_state=R ==> next_comm=t1 next_pid=2 next_prio=120");
  EXPECT_EQ(lines.back(), "       swapper/0-0     [000] ....     0.000000080: cpu_idle: state=1 cpu_id=0");
}

TEST(FtraceExport, SwitchStatesAndRealTimePriosComeFromTheEngine) {
  // truncate-latency: cyclictest tasks are SCHED_FIFO and sleep on a timer (S); the
  // truncating tasks wait for i_mutex and page locks (D).
  RunConfig cfg;
  cfg.workload = "truncate-latency";
  cfg.params.cpus = 2;
  const Traced t = traced_run(cfg);
  std::map<std::string, int> states;
  bool rt_prio = false;
  for (const std::string& l : ftrace_lines(*t.trace)) {
    std::smatch m;
    if (!std::regex_search(l, m, std::regex(R"(prev_comm=(\S+) prev_pid=\d+ prev_prio=(\d+) prev_state=(\S+) )")))
      continue;
    ++states[m[3].str()];
    if (m[1].str().rfind("cyclictest/", 0) == 0) {
      EXPECT_EQ(m[2].str(), "0") << l;  // rt_priority 99: prio = 99 - 99
      rt_prio = true;
      EXPECT_TRUE(m[3].str() == "S" || m[3].str() == "X") << l;  // it only sleeps on its timer, then exits
    } else if (m[1].str().rfind("swapper/", 0) != 0) {
      EXPECT_EQ(m[2].str(), "120") << l;
    }
  }
  EXPECT_TRUE(rt_prio);
  for (const char* s : {"S", "D", "R"}) EXPECT_GT(states[s], 0) << s;
}

TEST(FtraceExport, WakeupAndIpiLinesUseTheKernelLayouts) {
  Trace t(8);
  t.ncpus = 48;
  t.clock_hz = 2e9;
  t.set_task_name(7, "a-long-task-name-here");
  t.add(TraceEvent{3000000001ULL, 7, 33, 7, 1, TraceKind::Wakeup, trace_flags::kIrqsOff | 3});
  t.add(TraceEvent{3000000003ULL, 33, 1, 7, 1, TraceKind::IpiSend, trace_flags::kNeedResched | trace_flags::kHardIrq});
  const std::vector<std::string> l = ftrace_lines(t);
  ASSERT_EQ(l.size(), 2u);
  // comm is cut to 15 characters (TASK_COMM_LEN - 1); 3e9 + 1 cycles at 2 GHz is 1.5 s
  // and half a nanosecond (truncated).
  EXPECT_EQ(l[0],
            " a-long-task-nam-7     [001] d..3     1.500000000: sched_waking: comm=a-long-task-nam pid=7 prio=120 "
            "target_cpu=033");
  EXPECT_EQ(l[1],
            " a-long-task-nam-7     [001] .Nh.     1.500000001: ipi_raise: target_mask=0002,00000000 (Function call "
            "interrupts)");
}

TEST(FtraceExport, DetailAddsSyncLines) {
  const Traced t = traced_run(abba(3), Trace::kDefaultCapacity, true);
  const std::vector<std::string> body = ftrace_lines(*t.trace);
  EXPECT_TRUE(std::any_of(body.begin(), body.end(),
                          [](const std::string& l) { return l.find(": sync: kind=") != std::string::npos; }));
}

// ---- trace diff -------------------------------------------------------------------

TEST(TraceDiff, FindsTheFirstDifferenceOfTwoSeedsAndNoneForOne) {
  const Traced a = traced_run(abba(1));
  const Traced b = traced_run(abba(2));
  const Traced a2 = traced_run(abba(1));
  const std::vector<std::string> ta = split_lines(ftrace_text(*a.trace));
  const std::vector<std::string> tb = split_lines(ftrace_text(*b.trace));
  EXPECT_FALSE(first_divergence(ta, split_lines(ftrace_text(*a2.trace))).has_value());
  const auto d = first_divergence(ta, tb);
  ASSERT_TRUE(d.has_value());
  const std::vector<std::string> ba = ftrace_lines(*a.trace);
  const std::vector<std::string> bb = ftrace_lines(*b.trace);
  for (std::size_t i = 0; i < d->index; ++i) ASSERT_EQ(ba[i], bb[i]);
  EXPECT_EQ(d->a, ba[d->index]);
  EXPECT_EQ(d->b, bb[d->index]);
  EXPECT_EQ(ta[d->a_line - 1], d->a);
  EXPECT_EQ(d->context.size(), std::min<std::size_t>(3, d->index));
  const std::string text = format_divergence(*d, "seed1", "seed2");
  EXPECT_NE(text.find("diverge at event " + std::to_string(d->index + 1)), std::string::npos) << text;
  EXPECT_NE(text.find("- seed1: " + d->a), std::string::npos) << text;
  EXPECT_NE(text.find("+ seed2: " + d->b), std::string::npos) << text;
}

TEST(TraceDiff, CyclePrecisionShowsDifferencesWithinAMicrosecond) {
  const Traced a = traced_run(abba(1));
  const std::vector<std::string> plain = ftrace_lines(*a.trace);
  const std::vector<std::string> exact = ftrace_lines(*a.trace, FtraceOptions{.cycles = true});
  ASSERT_EQ(plain.size(), exact.size());
  for (std::size_t i = 0; i < plain.size(); ++i) {
    ASSERT_EQ(exact[i].substr(0, plain[i].size()), plain[i]);
    if (plain[i].find(": tracing_mark_write: ") != std::string::npos) {
      EXPECT_EQ(exact[i], plain[i]);  // the suffix would join the slice name
      continue;
    }
    EXPECT_TRUE(std::regex_match(exact[i].substr(plain[i].size()), std::regex(" cycles=[0-9]+"))) << exact[i];
  }
  // Two traces equal to the nanosecond but not to the cycle (4 GHz).
  Trace x(4), y(4);
  for (Trace* t : {&x, &y}) {
    t->ncpus = 1;
    t->clock_hz = 4e9;
    t->set_task_name(0, "swapper/0");
  }
  x.add(TraceEvent{100, 0, 0, 0, 0, TraceKind::Tick, 0});
  y.add(TraceEvent{101, 0, 0, 0, 0, TraceKind::Tick, 0});
  EXPECT_FALSE(first_divergence(ftrace_lines(x), ftrace_lines(y)).has_value());
  EXPECT_TRUE(first_divergence(ftrace_lines(x, {.cycles = true}), ftrace_lines(y, {.cycles = true})).has_value());
}

TEST(TraceDiff, HeadersAreIgnoredAndAPrefixEndsFirst) {
  const std::vector<std::string> a = {"# tracer: nop", "# entries: 3", "x", "y", "z"};
  const std::vector<std::string> b = {"# tracer: nop", "# entries: 2", "x", "y"};
  EXPECT_FALSE(first_divergence(a, a).has_value());
  const auto d = first_divergence(a, b, 1);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->index, 2u);
  EXPECT_TRUE(d->b_ended);
  EXPECT_FALSE(d->a_ended);
  EXPECT_EQ(d->a, "z");
  EXPECT_EQ(d->a_line, 5u);
  EXPECT_EQ(d->context, std::vector<std::string>{"y"});
  EXPECT_NE(format_divergence(*d).find("b ends first"), std::string::npos);
  const auto e = first_divergence({"# h", "x", "q"}, {"x", "r"});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->index, 1u);
  EXPECT_EQ(e->b_line, 2u);
  EXPECT_EQ(split_lines("a\nb\n"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(split_lines("a\n\nb"), (std::vector<std::string>{"a", "", "b"}));
}

// ---- the trace itself -------------------------------------------------------------

TEST(TraceRing, KeepsTheLastEventsAndCountsTheDropped) {
  RunConfig cfg = abba(3);
  cfg.set["iterations"] = "30";
  const Traced full = traced_run(cfg);
  const Traced ring = traced_run(cfg, 100);
  const std::vector<TraceEvent> all = full.trace->events();
  ASSERT_GT(all.size(), 100u);
  EXPECT_EQ(full.trace->dropped(), 0u);
  EXPECT_EQ(ring.trace->events().size(), 100u);
  EXPECT_EQ(ring.trace->written(), all.size());
  EXPECT_EQ(ring.trace->dropped(), all.size() - 100);
  EXPECT_EQ(ring.trace->events(), std::vector<TraceEvent>(all.end() - 100, all.end()));
  // The exporters cope with a trace that lost its beginning.
  const nlohmann::json doc = perfetto_json(*ring.trace);
  EXPECT_EQ(doc["otherData"]["dropped_events"], all.size() - 100);
  expect_properly_nested(spans_of(doc));
  const std::string text = ftrace_text(*ring.trace);
  const std::size_t lines = ftrace_lines(*ring.trace).size();
  EXPECT_NE(text.find("# entries-in-buffer/entries-written: " + std::to_string(lines) + "/" +
                      std::to_string(lines + all.size() - 100) + "   #P:4\n"),
            std::string::npos);
}

TEST(TraceRing, SameConfigurationSameTrace) {
  const Traced a = traced_run(abba(9));
  const Traced b = traced_run(abba(9));
  EXPECT_EQ(a.result.stats.digest, b.result.stats.digest);
  EXPECT_EQ(a.trace->events(), b.trace->events());
  EXPECT_EQ(perfetto_json(*a.trace), perfetto_json(*b.trace));
  EXPECT_EQ(ftrace_text(*a.trace), ftrace_text(*b.trace));
}

// ---- lock_stat --------------------------------------------------------------------

TEST(LockStat, TableHasTheKernelHeaderAndARowPerClass) {
  RunConfig cfg = abba(4);
  cfg.set["iterations"] = "50";
  const Traced t = traced_run(cfg);
  const RunResult& r = t.result;
  const std::vector<std::string> lines = split_lines(lock_stat_table(lock_profile_of(*t.trace), r.clock_hz));
  ASSERT_GE(lines.size(), 5u);
  EXPECT_EQ(lines[0], "lock_stat version 0.4");
  EXPECT_EQ(lines[1], std::string(221, '-'));
  EXPECT_EQ(lines[2].substr(0, 41), std::string(30, ' ') + "class name ");
  for (const char* col :
       {"con-bounces", "contentions", "waittime-min", "waittime-max", "waittime-total", "waittime-avg", "acq-bounces",
        "acquisitions", "holdtime-min", "holdtime-max", "holdtime-total", "holdtime-avg"})
    EXPECT_NE(lines[2].find(col), std::string::npos) << col;
  EXPECT_EQ(lines[3], lines[1]);
  int rows = 0;
  for (const LockClassStats& l : r.locks) {
    if (l.acquisitions == 0) continue;
    const auto row = std::find_if(lines.begin(), lines.end(), [&](const std::string& s) {
      return s.size() > 41 && s[40] == ':' && s.substr(0, 40).find_first_not_of(' ') == 40 - l.name.size() &&
             s.substr(40 - l.name.size(), l.name.size()) == l.name;
    });
    ASSERT_NE(row, lines.end()) << l.name;
    ++rows;
    std::istringstream cols(row->substr(41));
    std::vector<std::string> v;
    for (std::string c; cols >> c;) v.push_back(c);
    ASSERT_EQ(v.size(), 12u) << *row;
    EXPECT_LE(std::stoull(v[0]), l.contentions);  // con-bounces: some of the contentions
    EXPECT_EQ(v[1], std::to_string(l.contentions));
    EXPECT_LE(std::stoull(v[6]), l.acquisitions);  // acq-bounces: some of the acquisitions
    EXPECT_EQ(v[7], std::to_string(l.acquisitions));
    for (int i : {2, 3, 4, 5, 8, 9, 10, 11}) EXPECT_TRUE(std::regex_match(v[i], std::regex(R"(\d+\.\d\d)"))) << v[i];
    // holdtime-max is the hold histogram's max, in microseconds.
    const Histogram& hold = r.histograms.at("lock." + l.name + ".hold");
    EXPECT_NEAR(std::stod(v[9]), static_cast<double>(hold.max()) * 1e6 / r.clock_hz, 0.006) << *row;
  }
  EXPECT_GT(rows, 0);
}

// ---- log2 histograms --------------------------------------------------------------

TEST(Log2Histogram, KnownSamplesGiveBccRows) {
  Histogram h;
  for (std::uint64_t v : {0, 1, 2, 3, 4, 5, 6, 7, 100}) h.record(v);
  const std::vector<std::string> l = split_lines(log2_histogram("title", h, 1e9));
  ASSERT_EQ(l.size(), 9u);
  EXPECT_EQ(l[0], "title");
  EXPECT_EQ(l[1], "     cycles              : count     distribution");
  EXPECT_EQ(l[2], "         0 -> 1          : 2        |********************                    |");
  EXPECT_EQ(l[3], "         2 -> 3          : 2        |********************                    |");
  EXPECT_EQ(l[4], "         4 -> 7          : 4        |****************************************|");
  EXPECT_EQ(l[5], "         8 -> 15         : 0        |                                        |");
  EXPECT_EQ(l[8], "        64 -> 127        : 1        |**********                              |");

  Histogram g;  // bcc's own example row: 5 of a maximum of 50
  g.record_n(1, 5);
  g.record_n(3000, 50);  // 3000 cycles at 1 GHz = 3 usecs
  const std::vector<std::string> u = split_lines(log2_histogram("", g, 1e9, HistUnit::Usecs));
  ASSERT_EQ(u.size(), 3u);
  EXPECT_EQ(u[0], "     usecs               : count     distribution");
  EXPECT_EQ(u[1], "         0 -> 1          : 5        |****                                    |");
  EXPECT_EQ(u[2], "         2 -> 3          : 50       |****************************************|");
  EXPECT_EQ(log2_slots(g, 1e9, HistUnit::Cycles).size(), 13u);  // 3000 is in 2048..4095

  Histogram w;  // above 32 slots bcc widens the columns and halves the bars
  w.record(std::uint64_t{1} << 40);
  const std::vector<std::string> wl = split_lines(log2_histogram("", w, 1e9));
  ASSERT_EQ(wl.size(), 42u);
  EXPECT_EQ(wl[0], "               cycles                        : count     distribution");
  EXPECT_EQ(wl[41], "       1099511627776 -> 2199023255551        : 1        |********************|");
  EXPECT_EQ(log2_histogram("empty", Histogram{}, 1e9), "empty\n");
  EXPECT_EQ(parse_hist_unit("us"), HistUnit::Usecs);
  EXPECT_FALSE(parse_hist_unit("fortnights").has_value());
}

TEST(Log2Histogram, EveryHistogramOfARun) {
  const RunResult r = run_once(spin(2, 1));
  const std::string s = log2_histograms(r, HistUnit::Usecs);
  for (const auto& [name, h] : r.histograms)
    if (h.count()) {
      EXPECT_NE(s.find(name + "\n     usecs "), std::string::npos) << name;
    }
}

// ---- reports in microseconds ------------------------------------------------------

TEST(ReportUnits, TextAndJsonShowMicroseconds) {
  const RunResult r = run_once(spin(2, 1));
  const std::string text = to_text(r);
  EXPECT_NE(text.find("(us)"), std::string::npos) << text;
  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j["clock_hz"].get<double>(), r.clock_hz);
  const auto& h = j["histograms"]["lock.ticket.hold"];
  EXPECT_EQ(h["unit"], "cycles");
  EXPECT_NEAR(h["us"]["p50"].get<double>(), h["p50"].get<double>() * 1e6 / r.clock_hz, 0.001);
  EXPECT_NEAR(h["us"]["max"].get<double>(), h["max"].get<double>() * 1e6 / r.clock_hz, 0.001);
}

}  // namespace
}  // namespace smpemu
