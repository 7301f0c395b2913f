#include "traces/wait_profile.h"

#include <algorithm>
#include <tuple>

namespace smpemu {

const char* wait_kind_key(WaitKind k) { return k == WaitKind::Spin ? "spin" : "blocked"; }

double WaitProfile::share(Cycles c) const {
  const double all = cpu_time();
  return all > 0 ? static_cast<double>(c) / all : 0.0;
}

std::string wait_function(const std::string& functions) {
  if (functions.empty()) return "?";
  static const std::string kArrow = " <- ";
  std::string innermost;
  for (std::size_t pos = 0;;) {
    const std::size_t end = std::min(functions.find(kArrow, pos), functions.size());
    const std::string f = functions.substr(pos, end - pos);
    if (pos == 0) innermost = f;
    if (f.find("lock") == std::string::npos) return f;
    if (end == functions.size()) return innermost;
    pos = end + kArrow.size();
  }
}

std::string metric_part(const std::string& s) {
  if (s.empty()) return "_";
  std::string out = s;
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) c = '_';
  }
  return out;
}

bool is_wait_metric(const std::string& key) {
  for (const std::string prefix : {"blocked", "spin"})
    if (key == prefix || key.rfind(prefix + ".", 0) == 0) return true;
  return false;
}

WaitProfile wait_profile_of(const LockProfile& p, int ncpus, Cycles duration) {
  WaitProfile w;
  w.ncpus = ncpus;
  w.duration = duration;
  std::map<std::string, WaitClass> by_name;  // ordered: ties in the final sort go by name
  for (const LockContentionRow& r : p.contentions()) {
    const Cycles spin = r.spin.total, blocked = r.wait.total - r.spin.total;
    const std::uint64_t spun = r.spin.count, slept = r.wait.count - r.spin.count;
    WaitClass& c = by_name[r.cls];
    c.name = r.cls;
    const std::string function = wait_function(r.functions);
    for (const auto& [kind, cycles, count] : {std::tuple{WaitKind::Spin, spin, spun},
                                              std::tuple{WaitKind::Blocked, blocked, slept}}) {
      if (count == 0) continue;
      (kind == WaitKind::Spin ? c.spin : c.blocked) += cycles;
      (kind == WaitKind::Spin ? w.spin : w.blocked) += cycles;
      c.paths.push_back(WaitPath{kind, r.type, r.caller, function, count, cycles});
    }
  }
  for (auto& [name, c] : by_name) {
    std::sort(c.paths.begin(), c.paths.end(), [](const WaitPath& a, const WaitPath& b) {
      return std::tie(b.cycles, a.kind, a.type, a.path) < std::tie(a.cycles, b.kind, b.type, b.path);
    });
    w.classes.push_back(std::move(c));
  }
  std::stable_sort(w.classes.begin(), w.classes.end(),
                   [](const WaitClass& a, const WaitClass& b) { return a.total() > b.total(); });
  return w;
}

std::map<std::string, double> wait_metrics(const WaitProfile& w) {
  std::map<std::string, Cycles> cycles;
  cycles["blocked"] = w.blocked;
  cycles["spin"] = w.spin;
  for (const WaitClass& c : w.classes) {
    const std::string cls = metric_part(c.name);
    if (c.blocked) cycles["blocked." + cls] += c.blocked;
    if (c.spin) cycles["spin." + cls] += c.spin;
    for (const WaitPath& p : c.paths)
      if (p.cycles) cycles[std::string(wait_kind_key(p.kind)) + "." + cls + "." + metric_part(p.function)] += p.cycles;
  }
  std::map<std::string, double> out;
  for (const auto& [key, c] : cycles) out[key] = w.share(c);
  return out;
}

}  // namespace smpemu
