// The ftrace text export as Perfetto's systrace text importer reads it. Checked against
// google/perfetto src/trace_processor/importers/systrace/systrace_line_tokenizer.cc (the
// line regex, re-expressed here with std::regex), systrace_line_parser.cc (which events
// it reads and which fields it needs) and systrace_parser.h (the tracing_mark_write
// B/E/S/F/I/C grammar): every body line must match, and the slices it builds per
// thread must form proper stacks once the lines are sorted by Perfetto's timestamps.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "cli/runner.h"
#include "traces/ftrace.h"
#include "trace_test_util.h"

namespace smpemu {
namespace {

/// The tokenizer's line regex (a partial match): pid, optional tgid, cpu, optional
/// flags, the timestamp in seconds, the event name.
const std::regex& perfetto_line() {
  static const std::regex re(
      R"(-(\d+)\s+\(?\s*(\d+|-+)?\)?\s?\[(\d+)\]\s*([a-zA-Z.]{3}[0-9a-f.]{1,2}\s*)?(\d+\.\d+):\s+(\S+):)");
  return re;
}

struct Parsed {
  std::uint32_t pid = 0;
  std::uint32_t cpu = 0;
  std::int64_t ts = 0;  ///< as Perfetto computes it: int64(double(seconds) * 1e9)
  std::string event, args;
  std::size_t line = 0;
};

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t");
  const auto b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

/// The space-separated key=value fields, as the line parser splits them.
std::map<std::string, std::string> fields(const std::string& args) {
  std::map<std::string, std::string> out;
  std::istringstream in(args);
  for (std::string tok; in >> tok;) {
    const auto eq = tok.find('=');
    if (eq != std::string::npos) out[tok.substr(0, eq)] = tok.substr(eq + 1);
  }
  return out;
}

bool is_uint(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

/// Whether a tracing_mark_write has `want` '|'-separated fields (a failure if not).
bool check_size(std::size_t got, std::size_t want, const std::string& args) {
  EXPECT_EQ(got, want) << args;
  return got == want;
}

/// Checks every body line of `text` the way Perfetto imports it; returns the counts of events.
std::map<std::string, int> check_as_perfetto(const std::string& text) {
  std::map<std::string, int> kinds;
  std::vector<Parsed> lines;
  std::istringstream in(text);
  std::size_t n = 0;
  for (std::string l; std::getline(in, l);) {
    ++n;
    if (l.empty() || l[0] == '#') continue;
    std::smatch m;
    if (!std::regex_search(l, m, perfetto_line())) {
      ADD_FAILURE() << "line " << n << " does not match Perfetto's systrace line regex: " << l;
      continue;
    }
    Parsed p;
    p.pid = static_cast<std::uint32_t>(std::stoul(m[1].str()));
    p.cpu = static_cast<std::uint32_t>(std::stoul(m[3].str()));
    p.ts = static_cast<std::int64_t>(std::stod(m[5].str()) * 1e9);
    p.event = m[6].str();
    p.args = trim(m.suffix().str());
    p.line = n;
    ++kinds[p.event];
    const auto f = fields(p.args);
    if (p.event == "sched_switch") {
      for (const char* k : {"prev_pid", "prev_prio", "next_pid", "next_prio"})
        EXPECT_TRUE(is_uint(f.count(k) ? f.at(k) : "")) << k << " in " << l;
      static const std::set<std::string> states{"R", "R+", "S", "D", "X"};
      EXPECT_TRUE(states.count(f.count("prev_state") ? f.at("prev_state") : "")) << l;
      EXPECT_NE(p.args.find(" ==> "), std::string::npos) << l;
    } else if (p.event == "sched_waking") {
      EXPECT_TRUE(is_uint(f.count("pid") ? f.at("pid") : "")) << l;
    } else if (p.event == "cpu_idle") {
      EXPECT_TRUE(is_uint(f.at("state")) && is_uint(f.at("cpu_id"))) << l;
    }
    lines.push_back(p);
  }
  // Perfetto sorts by timestamp, keeping the file's order for equal ones.
  std::stable_sort(lines.begin(), lines.end(), [](const Parsed& a, const Parsed& b) { return a.ts < b.ts; });
  std::map<std::uint32_t, std::vector<std::string>> stacks;  // thread -> open B slices
  std::map<std::pair<std::string, std::string>, std::size_t> async;  // (tgid|name, cookie) -> open S
  for (const Parsed& p : lines) {
    if (p.event != "tracing_mark_write") continue;
    std::vector<std::string> part;
    std::stringstream ss(p.args);
    for (std::string x; std::getline(ss, x, '|');) part.push_back(x);
    if (part.size() < 2) {
      ADD_FAILURE() << p.args;
      continue;
    }
    const char ph = part[0].size() == 1 ? part[0][0] : '?';
    ++kinds[std::string("tracing_mark_write:") + ph];
    EXPECT_TRUE(is_uint(part[1])) << "tgid of " << p.args;
    switch (ph) {
      case 'B':
        if (!check_size(part.size(), 3u, p.args)) continue;
        EXPECT_EQ(std::stoul(part[1]), p.pid) << "a slice begins on its own thread: " << p.args;
        EXPECT_NE(p.pid, 0u) << "pid 0 is every idle task: no stack there";
        stacks[p.pid].push_back(part[2]);
        break;
      case 'E':
        if (!check_size(part.size(), 2u, p.args)) continue;
        EXPECT_FALSE(stacks[p.pid].empty()) << "line " << p.line << ": E without an open slice on pid " << p.pid;
        if (!stacks[p.pid].empty()) stacks[p.pid].pop_back();
        break;
      case 'S':
      case 'F': {
        if (!check_size(part.size(), 4u, p.args)) continue;
        EXPECT_TRUE(is_uint(part[3])) << p.args;
        const auto key = std::make_pair(part[1] + "|" + part[2], part[3]);
        if (ph == 'S') {
          EXPECT_EQ(async.count(key), 0u) << "cookie reused while open: " << p.args;
          async[key] = p.line;
        } else {
          EXPECT_EQ(async.erase(key), 1u) << "line " << p.line << ": F without its S: " << p.args;
        }
        break;
      }
      case 'I': if (!check_size(part.size(), 3u, p.args)) continue; break;
      case 'C':
        if (!check_size(part.size(), 4u, p.args)) continue;
        break;
      default: ADD_FAILURE() << "unknown tracing_mark_write phase: " << p.args;
    }
  }
  return kinds;
}

std::string traced_text(const std::string& workload, int cpus, const std::map<std::string, std::string>& set = {}) {
  RunConfig cfg;
  cfg.workload = workload;
  cfg.params.cpus = cpus;
  cfg.params.seed = 1;
  for (const auto& [k, v] : set) cfg.set[k] = v;
  auto trace = std::make_unique<Trace>();
  Trace* tr = trace.get();
  run_once(cfg, nullptr, [tr](Machine& m) { m.set_trace(tr); });
  return ftrace_text(*trace);
}

TEST(PerfettoSystrace, EveryLineOfAbbaMatchesAndSlicesStack) {
  auto kinds = check_as_perfetto(traced_text("abba", 2));
  EXPECT_GT(kinds["sched_switch"], 0);
  EXPECT_GT(kinds["tracing_mark_write:B"], 0);
  EXPECT_GT(kinds["tracing_mark_write:I"], 0);  // the lock-order report
}

TEST(PerfettoSystrace, EveryLineOfTruncateLatencyMatchesAndSlicesStack) {
  auto kinds = check_as_perfetto(traced_text("truncate-latency", 2));
  EXPECT_GT(kinds["sched_switch"], 0);
  EXPECT_GT(kinds["sched_waking"], 0);
  EXPECT_GT(kinds["contention_begin"], 0);
  EXPECT_GT(kinds["tracing_mark_write:B"], 0);
}

TEST(PerfettoSystrace, EveryLineOfRcuReadersMatchesAndSlicesStack) {
  auto kinds = check_as_perfetto(traced_text("rcu-readers", 4, {{"updates", "5"}}));
  EXPECT_GT(kinds["sched_switch"], 0);
  EXPECT_GT(kinds["tracing_mark_write:S"], 0);  // grace periods
}

TEST(PerfettoSystrace, EveryLineOfSpinlockContentionMatchesAndSlicesStack) {
  auto kinds = check_as_perfetto(traced_text("spinlock-contention", 4, {{"duration", "200000"}}));
  // Its spin loop is on a raw line, not a lockdep-tracked lock: scheduling only.
  EXPECT_GT(kinds["sched_switch"], 0);
  EXPECT_GT(kinds["cpu_idle"], 0);
}

TEST(PerfettoSystrace, CrossedLocksBecomeAsyncSlices) {
  // A taken, B taken, A released, B released: B cannot nest in A on the thread's stack.
  Trace t = one_cpu_trace({{0, "swapper/0"}, {1, "t1"}});
  const auto a = t.intern("A"), b = t.intern("B");
  auto add = [&](Cycles time, TraceKind k, std::uint64_t x, std::uint64_t y) { add_event(t, time, 1, k, x, y); };
  add_event(t, 0, 0, TraceKind::CtxSwitch, 0, ctx_switch_payload(1, SwitchState::Runnable));
  add(10, TraceKind::LockAcquire, a, 0);
  add(20, TraceKind::LockAcquire, b, 0);
  add(30, TraceKind::LockRelease, a, 20);
  add(40, TraceKind::LockRelease, b, 20);
  const std::string text = ftrace_text(t);
  check_as_perfetto(text);
  std::vector<std::string> marks;
  for (const std::string& l : ftrace_lines(t)) {
    const auto p = l.find("tracing_mark_write: ");
    if (p != std::string::npos) marks.push_back(l.substr(p + 20));
  }
  EXPECT_EQ(marks, (std::vector<std::string>{"B|1|A", "S|1|B|1", "E|1", "F|1|B|1"}));
}

}  // namespace
}  // namespace smpemu
