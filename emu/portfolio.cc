#include "emu/portfolio.h"

#include <stdexcept>

#include "emu/limits.h"
#include "emu/strategy.h"

namespace smpemu {

namespace {

constexpr std::string_view kName = "portfolio";

std::vector<std::string> split_members(const std::string& list) {
  std::vector<std::string> out;
  for (std::size_t pos = 0;;) {
    const std::size_t comma = list.find(',', pos);
    out.push_back(list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) return out;
    pos = comma + 1;
  }
}

}  // namespace

bool is_portfolio(const std::string& spec) {
  return spec.compare(0, kName.size(), kName) == 0 && (spec.size() == kName.size() || spec[kName.size()] == ':');
}

std::vector<std::string> portfolio_members(const std::string& spec) {
  if (!is_portfolio(spec)) throw std::invalid_argument("'" + spec + "' is not a portfolio");
  const std::string list = spec.size() == kName.size() ? kDefaultPortfolio : spec.substr(kName.size() + 1);
  const std::string bad = "bad strategy '" + spec + "': expected portfolio[:S,S,...] with 1 to " +
                          std::to_string(limits::kPortfolioMembers) + " strategies other than portfolio";
  std::vector<std::string> members = split_members(list);
  if (members.size() > limits::kPortfolioMembers) throw std::invalid_argument(bad);
  for (const std::string& m : members) {
    if (m.empty() || is_portfolio(m)) throw std::invalid_argument(bad);
    try {
      (void)make_strategy(m, 1, 1);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("bad portfolio member '" + m + "' in '" + spec + "': " + e.what());
    }
  }
  return members;
}

std::string portfolio_member(const std::string& spec, std::uint64_t seed) {
  if (!is_portfolio(spec)) return spec;
  const std::vector<std::string> members = portfolio_members(spec);
  return members[portfolio_index(seed, members.size())];
}

std::string portfolio_spec(const std::vector<std::string>& members) {
  std::string s(kName);
  for (std::size_t i = 0; i < members.size(); ++i) s += (i == 0 ? ":" : ",") + members[i];
  return s;
}

}  // namespace smpemu
