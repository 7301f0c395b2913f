#include "workloads/workload.h"

#include <algorithm>
#include <charconv>

#include "cli/text.h"
#include "emu/errors.h"

namespace smpemu {

namespace {
std::vector<WorkloadSpec>& registry() {
  static std::vector<WorkloadSpec> r;
  return r;
}

bool parse_i64(const std::string& s, std::int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : "|") + x;
  return s;
}
}  // namespace

WorkloadRegistrar::WorkloadRegistrar(WorkloadSpec spec) {
  auto& r = registry();
  auto it = std::lower_bound(r.begin(), r.end(), spec.name,
                             [](const WorkloadSpec& a, const std::string& n) { return a.name < n; });
  r.insert(it, std::move(spec));
}

const std::vector<WorkloadSpec>& workloads() { return registry(); }

const WorkloadSpec* find_workload(const std::string& name) {
  for (const auto& w : registry())
    if (w.name == name) return &w;
  return nullptr;
}

const std::string& Knobs::str(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw ConfigError("workload asked for undeclared knob " + quoted(name));
  return it->second;
}

std::int64_t Knobs::integer(const std::string& name) const {
  std::int64_t v = 0;
  if (!parse_i64(str(name), v)) throw ConfigError("knob " + quoted(name) + " is not an integer");
  return v;
}

Knobs resolve_knobs(const WorkloadSpec& spec, const std::map<std::string, std::string>& set,
                    const std::string& arch) {
  std::map<std::string, std::string> values;
  for (const auto& k : spec.knobs) values[k.name] = k.default_value;
  for (const auto& kv : set) {
    // Not a structured binding: clang 14 (the fuzz preset) cannot capture one in a lambda.
    const std::string& key = kv.first;
    const std::string& value = kv.second;
    auto it = std::find_if(spec.knobs.begin(), spec.knobs.end(), [&](const KnobSpec& k) { return k.name == key; });
    if (it == spec.knobs.end()) {
      std::string known;
      for (const auto& k : spec.knobs) known += (known.empty() ? "" : ", ") + k.name;
      throw ConfigError("unknown knob " + quoted(key) + " for workload " + spec.name + " (knobs: " + known + ")");
    }
    if (!it->choices.empty()) {
      if (std::find(it->choices.begin(), it->choices.end(), value) == it->choices.end())
        throw ConfigError("bad value " + quoted(value) + " for knob " + key + " (expected " + join(it->choices) + ")");
    } else {
      std::int64_t v = 0;
      if (!parse_i64(value, v) || v < it->min || v > it->max)
        throw ConfigError("bad value " + quoted(value) + " for knob " + key + " (expected an integer in " +
                          std::to_string(it->min) + ".." + std::to_string(it->max) + ")");
    }
    values[key] = value;
  }
  return Knobs(std::move(values), arch);
}

}  // namespace smpemu
