#include "traces/trace_diff.h"

#include <fmt/format.h>

#include <algorithm>

namespace smpemu {

namespace {

/// Body lines of a trace: (1-based line number, text) of every non-empty line not
/// starting with '#'.
std::vector<std::pair<std::size_t, const std::string*>> body(const std::vector<std::string>& lines) {
  std::vector<std::pair<std::size_t, const std::string*>> out;
  out.reserve(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (!lines[i].empty() && lines[i][0] != '#') out.emplace_back(i + 1, &lines[i]);
  return out;
}

}  // namespace

std::optional<TraceDivergence> first_divergence(const std::vector<std::string>& a_lines,
                                                const std::vector<std::string>& b_lines, std::size_t context) {
  const auto a = body(a_lines);
  const auto b = body(b_lines);
  const std::size_t common = std::min(a.size(), b.size());
  std::size_t i = 0;
  while (i < common && *a[i].second == *b[i].second) ++i;
  if (i == a.size() && i == b.size()) return std::nullopt;
  TraceDivergence d;
  d.index = i;
  d.a_ended = i >= a.size();
  d.b_ended = i >= b.size();
  if (!d.a_ended) {
    d.a_line = a[i].first;
    d.a = *a[i].second;
  }
  if (!d.b_ended) {
    d.b_line = b[i].first;
    d.b = *b[i].second;
  }
  for (std::size_t k = i - std::min(i, context); k < i; ++k) d.context.push_back(*a[k].second);
  return d;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      out.push_back(text.substr(pos));
      break;
    }
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

std::string format_divergence(const TraceDivergence& d, const std::string& a_name, const std::string& b_name) {
  std::string s = fmt::format("traces diverge at event {}", d.index + 1);
  if (!d.a_ended && !d.b_ended)
    s += fmt::format(" ({} line {}, {} line {})\n", a_name, d.a_line, b_name, d.b_line);
  else
    s += fmt::format(": {} ends first\n", d.a_ended ? a_name : b_name);
  for (const std::string& c : d.context) s += "  " + c + "\n";
  const std::size_t w = std::max(a_name.size(), b_name.size());
  s += fmt::format("- {:<{}}: {}\n", a_name, w, d.a_ended ? "(end of trace)" : d.a);
  s += fmt::format("+ {:<{}}: {}\n", b_name, w, d.b_ended ? "(end of trace)" : d.b);
  return s;
}

}  // namespace smpemu
