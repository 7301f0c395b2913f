// Portfolio: a fuzz campaign's mix of scheduling strategies, one per seed.
//
// No single strategy is best everywhere (docs/BUGSUITE.md, docs/MM.md): POS finds the
// small user-space-style races soonest, PCT with the run's own K the mm races that need a
// CPU parked inside a window, `time` the races that happen in the cost model's real
// order with jitter, `random` some short programs fastest. A portfolio runs seed S under
// member (S - 1) mod N of its N members (seeds start at 1, so seed 1 runs the first), so
// a run's schedule still depends on its own seed alone: `--jobs`, `--shard` and replay
// see exactly what a single-strategy campaign would.
//
// Spec: `portfolio` (the default members, kDefaultPortfolio) or `portfolio:S,S,...`
// with any non-portfolio strategy specs as members; a member may repeat, which weighs
// it. Members that want K (`pct:3`) get it from the campaign's pilot run like a plain
// `pct:3` (strategy_with_steps()), so the spec a campaign carries is explicit, e.g.
// `portfolio:pos,pct:3:2064538,time,random`.
//
// Concurrency: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace smpemu {

/// The members of the bare `portfolio`, in seed order (seed 1 runs the first).
inline constexpr const char* kDefaultPortfolio = "pos,pct:3,time,random";

/// True if `spec` names a portfolio (`portfolio` or `portfolio:...`).
bool is_portfolio(const std::string& spec);

/// The member specs of portfolio `spec`, each checked with make_strategy(). Throws
/// std::invalid_argument with a one-line message on a malformed list (empty member,
/// a nested portfolio, more than limits::kPortfolioMembers, or a bad member spec).
std::vector<std::string> portfolio_members(const std::string& spec);

/// The index of the member that runs seed `seed` in a portfolio of `members` (>= 1)
/// strategies: (seed - 1) mod members, seed 0 running the last.
inline std::size_t portfolio_index(std::uint64_t seed, std::size_t members) {
  return static_cast<std::size_t>((seed % members + members - 1) % members);
}

/// The strategy that runs seed `seed` under `spec`: its member (seed - 1) mod N for a
/// portfolio, else `spec` itself. Throws std::invalid_argument as portfolio_members().
std::string portfolio_member(const std::string& spec, std::uint64_t seed);

/// `portfolio:` followed by the members joined with commas: the explicit form of a
/// portfolio spec (`portfolio` becomes `portfolio:pos,pct:3,time,random`).
std::string portfolio_spec(const std::vector<std::string>& members);

}  // namespace smpemu
