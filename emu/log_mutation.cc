#include "emu/log_mutation.h"

#include <algorithm>

namespace smpemu {

namespace {

CpuId draw_cpu(int ncpus, Rng& rng) { return static_cast<CpuId>(rng.below(static_cast<std::uint64_t>(ncpus))); }

}  // namespace

LogEdit mutate_once(DecisionLog& log, std::uint64_t steps, int ncpus, Rng& rng) {
  std::vector<Decision>& e = log.entries;
  // flip 40%, insert 30%, delete 20%, truncate 10%; an empty log can only grow.
  const std::uint64_t roll = e.empty() ? 40 : rng.below(100);
  if (roll < 40 && ncpus > 1) {
    Decision& d = e[rng.below(e.size())];
    // Another CPU: one of the ncpus-1 others, uniformly.
    const auto other = static_cast<CpuId>(rng.below(static_cast<std::uint64_t>(ncpus - 1)));
    d.cpu = other >= d.cpu ? other + 1 : other;
    return LogEdit::Flip;
  }
  if (roll < 70) {  // with one CPU a flip is an insert
    const Decision d{rng.below(std::max<std::uint64_t>(steps, 1)), draw_cpu(ncpus, rng)};
    auto it = std::lower_bound(e.begin(), e.end(), d.step,
                               [](const Decision& x, std::uint64_t step) { return x.step < step; });
    if (it != e.end() && it->step == d.step)
      it->cpu = d.cpu;  // one decision per step: the new one replaces it
    else
      e.insert(it, d);
    return LogEdit::Insert;
  }
  if (roll < 90) {
    e.erase(e.begin() + static_cast<std::ptrdiff_t>(rng.below(e.size())));
    return LogEdit::Delete;
  }
  e.resize(rng.below(e.size()));
  return LogEdit::Truncate;
}

DecisionLog mutate_decisions(const DecisionLog& parent, std::uint64_t steps, int ncpus, Rng& rng,
                             unsigned max_edits) {
  DecisionLog log = parent;
  const std::uint64_t edits = 1 + rng.below(std::max(max_edits, 1u));
  for (std::uint64_t i = 0; i < edits; ++i) mutate_once(log, steps, ncpus, rng);
  return log;
}

}  // namespace smpemu
