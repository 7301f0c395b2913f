// Bug report text in the shapes kernel developers read: lockdep's, KASAN's and
// might_sleep()'s splats.
//
// A report has two kinds of content: the headline and the sides of the bug (who did
// what, where, when), and the context (locks held, the last events of the tasks
// involved). A side is a Track: task, CPU, cycle and call path, recorded when it
// happened (lockdep edges, held locks, object histories) or now. The helpers here
// only format; the checks that file reports decide what goes in.
//
// Determinism: the text is a function of the run (no host addresses or times).
// Concurrency: called by the running fiber of the Machine that files the report.
#pragma once

#include <string>
#include <vector>

#include "emu/callpath.h"
#include "emu/types.h"

namespace smpemu {

class Machine;
struct Task;
struct HeldLock;

/// One side of a report: who, on which CPU, when and along which path.
struct Track {
  const Task* task = nullptr;  ///< nullptr with a path: setup code, before the run
  CpuId cpu = kNoCpu;
  Cycles cycle = 0;
  CallPath path;
  bool empty() const { return task == nullptr && path.empty(); }
};

/// "name/id", the kernel's comm/pid.
std::string task_label(const Task& t);
/// A rule of `c` as wide as lockdep's banners.
std::string splat_rule(char c = '=');
/// "by task ab/1 on CPU 0 at cycle 1234:\n <path>\n" (the indentation kernel traces use).
std::string track_text(const Track& t);
/// The class of a lock instance name ("abba_B#1" -> "abba_B").
std::string instance_class(const std::string& instance);
/// Lock class names as a report key: sorted, without repeats, space-separated.
std::string class_key(std::vector<std::string> names);
/// " #0: abba_B#1 (abba_B){mutex}, at: <path>" lines under "N locks held by X/id:", or
/// "no locks held by X/id." (lockdep's lockdep_print_held_locks()).
std::string held_locks_text(const Task& t);
/// The last `n` trace events of each task in `tasks` (oldest first), when the machine
/// keeps a trace (always, unless history is off); empty otherwise.
std::string recent_events_text(const Machine& m, const std::vector<const Task*>& tasks, std::size_t n = 8);

}  // namespace smpemu
