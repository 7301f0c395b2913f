// A machine with the mm layer set up (physical memory, an MMU model, vm tunables from
// the common mm knobs), for the mm unit tests.
//
// The MMU model is x86 unless the environment variable SMPEMU_TEST_ARCH names another
// (tests/CMakeLists.txt runs the mm tests again with SMPEMU_TEST_ARCH=none): mm/ must
// behave the same behind every model. A test of TLB behaviour itself skips itself under
// another model (require_arch).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "arch/profiles.h"
#include "emu/machine.h"
#include "kernel/kernel.h"
#include "workloads/mm_env.h"

namespace smpemu::testing {

/// The MMU model the mm tests run against (SMPEMU_TEST_ARCH, default x86).
inline std::string test_arch() {
  const char* a = std::getenv("SMPEMU_TEST_ARCH");
  return a && *a ? a : "x86";
}

/// Skips the calling test unless the mm tests run against `arch`.
#define REQUIRE_ARCH(arch)                                                                   \
  do {                                                                                       \
    if (::smpemu::testing::test_arch() != (arch)) GTEST_SKIP() << "needs --arch " << (arch); \
  } while (0)

struct MmBox {
  std::unique_ptr<Machine> m;
  MmEnv env;  // destroyed before the Machine
  /// `arch` empty: test_arch().
  explicit MmBox(int cpus, const std::map<std::string, std::string>& knobs = {}, std::uint64_t seed = 1,
                 PreemptModel preempt = PreemptModel::Voluntary, unsigned long frames = 4096,
                 const std::string& arch = "") {
    MachineParams p;
    p.cpus = cpus;
    p.seed = seed;
    p.preempt = preempt;
    const machine_profile* prof = find_machine_profile("opteron48");
    m = std::make_unique<Machine>(p, build_topology(prof, cpus), prof->costs);
    std::map<std::string, std::string> k;
    for (const KnobSpec& s : mm_knob_specs()) k[s.name] = s.default_value;
    for (const KnobSpec& s : migration_knob_specs()) k[s.name] = s.default_value;
    for (const KnobSpec& s : numa_knob_specs()) k[s.name] = s.default_value;
    for (const KnobSpec& s : numa_balancing_knob_specs()) k[s.name] = s.default_value;
    k["numa_balancing"] = "off";  // a test that wants it says so
    for (const auto& [name, v] : knobs) k[name] = v;
    env.setup(*m, Knobs(k, arch.empty() ? test_arch() : arch), frames);
  }
  int bugs(const std::string& check) const {
    return static_cast<int>(std::count_if(m->bugs().begin(), m->bugs().end(),
                                          [&](const BugReport& b) { return b.check == check; }));
  }
  /// The report text (details) of the first bug of `check`; empty if none.
  std::string details(const std::string& check) const {
    for (const BugReport& b : m->bugs())
      if (b.check == check) return b.details;
    return "";
  }
  std::string all_bugs() const {
    std::string s;
    for (const BugReport& b : m->bugs()) s += "[" + b.check + "] " + b.message + "\n";
    return s;
  }
  std::uint64_t acquisitions(const char* cls) { return m->lockdep().cls(m->lockdep().class_of(cls)).acquisitions; }
};

/// A new mm of `b` with `pages` anonymous pages at 0x100000000, page i holding base + i.
/// Context: a task.
inline mm_struct* anon_test_mm(MmBox& b, unsigned long pages, unsigned long base) {
  constexpr unsigned long kAt = 0x100000000UL;
  mm_struct* mm = b.env.new_mm();
  EXPECT_EQ(do_mmap(mm, kAt, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                    nullptr, 0),
            (long)kAt);
  for (unsigned long i = 0; i < pages; i++) {
    unsigned long v = base + i;
    EXPECT_EQ(user_access(mm, kAt + i * PAGE_SIZE, true, &v, nullptr), 0);
  }
  return mm;
}

/// The page `mm`'s pte at `addr` maps, or nullptr if it is not present (host-side peek).
inline struct page* page_at(mm_struct* mm, unsigned long addr) {
  const pteval_t v = peek_pte(mm, addr);
  if (!pte_present(__pte(v))) return nullptr;
  return pfn_to_page(mm->mem, pte_pfn(__pte(v)));
}

/// Present ptes of `mm` in [start, end) (host-side peek).
inline int present_ptes(mm_struct* mm, unsigned long start, unsigned long end) {
  int n = 0;
  for (unsigned long a = start; a < end; a += PAGE_SIZE)
    if (pte_present(__pte(peek_pte(mm, a)))) ++n;
  return n;
}

/// Touch every page of [start, end): a store if `write`, else a load. Returns the
/// number of accesses that did not complete (SIGBUS/SEGV).
inline int touch_range(mm_struct* mm, unsigned long start, unsigned long end, bool write,
                       unsigned long val = 7) {
  int failed = 0;
  for (unsigned long a = start; a < end; a += PAGE_SIZE) {
    unsigned long v = val;
    if (user_access(mm, a, write, &v, nullptr) != 0) ++failed;
  }
  return failed;
}

}  // namespace smpemu::testing
