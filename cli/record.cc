#include "cli/record.h"

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/input_file.h"
#include "cli/report.h"
#include "cli/text.h"
#include "emu/errors.h"

namespace smpemu {

namespace {

constexpr const char* kFormat = "smpemu-record";
constexpr int kVersion = 1;

nlohmann::json settings_of(const RunConfig& c) {
  const MachineParams& p = c.params;
  return {{"cpus", std::to_string(p.cpus)},         {"seed", std::to_string(p.seed)},
          {"strategy", p.strategy},                 {"preempt", preempt_name(p.preempt)},
          {"rcu", rcu_flavor_name(p.rcu)},          {"mutex_spin", p.mutex_spin ? "on" : "off"}, {"arch", p.arch},
          {"hz", std::to_string(p.hz)},             {"jitter", std::to_string(p.jitter_pct)},
          {"max_cycles", std::to_string(p.max_cycles)}};
}

EndReason parse_end(const std::string& s) {
  for (EndReason r : {EndReason::Completed, EndReason::TimeLimit, EndReason::Deadlock, EndReason::FatalBug,
                      EndReason::Stopped})
    if (s == end_reason_name(r)) return r;
  throw ConfigError("unknown end reason '" + s + "'");
}

std::uint64_t parse_hex(const std::string& s) {
  if (s.size() != 16 || s.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw ConfigError("bad digest '" + s + "' (expected 16 hex digits)");
  return std::stoull(s, nullptr, 16);
}

void prepare_replay(Machine& m, const DecisionLog& log, DecisionLog* followed, ReplayStrategy** out) {
  auto s = std::make_unique<ReplayStrategy>(log, followed);
  *out = s.get();
  m.set_strategy(std::move(s));
}

}  // namespace

void start_recording(Machine& m, const RunConfig& cfg, Record& rec) {
  rec = Record{};
  m.set_strategy(std::make_unique<RecordingStrategy>(
      make_strategy(cfg.params.strategy, cfg.params.cpus, cfg.params.seed), &rec.decisions));
}

void finish_recording(const RunResult& r, Record& rec) {
  rec.config = r.config;
  rec.config.set = r.knobs.all();  // every knob, so later default changes do not matter
  rec.build = build_identity();
  rec.digest = r.stats.digest;
  rec.end = r.stats.end;
  rec.bugs = r.bugs;
  rec.decisions_digest = rec.decisions.digest();
}

RunResult record_run(const RunConfig& cfg, Record& rec, StackPool* pool) {
  RunResult r = run_once(cfg, pool, [&](Machine& m) { start_recording(m, cfg, rec); });
  finish_recording(r, rec);
  return r;
}

RunResult record_run_to(const RunConfig& cfg, const std::string& path, StackPool* pool) {
  Record rec;
  RunResult r = record_run(cfg, rec, pool);
  write_record(path, rec);
  return r;
}

void write_record(const std::string& path, const Record& rec) {
  using nlohmann::json;
  json j;
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["build"] = rec.build;
  j["workload"] = rec.config.workload;
  j["machine"] = rec.config.machine;
  j["settings"] = settings_of(rec.config);
  j["knobs"] = rec.config.set;
  j["digest"] = hex16(rec.digest);
  j["end"] = end_reason_name(rec.end);
  json bugs = json::array();
  for (const auto& b : rec.bugs)
    bugs.push_back({{"check", b.check}, {"message", b.message}, {"cycle", b.cycle}, {"cpu", b.cpu},
                    {"task", b.task}, {"fatal", b.fatal}, {"signature", bug_signature(b)}});
  j["bugs"] = bugs;
  j["decisions"] = "@DECISIONS@";  // replaced below: one [step, cpu] per line
  j["decisions_digest"] = hex16(rec.decisions_digest);
  if (!rec.stop_at.empty()) j["stop_at"] = rec.stop_at;
  std::ofstream f(path);
  if (!f) throw ConfigError("cannot write record '" + path + "'");
  // One decision per line keeps large logs readable and editable by hand.
  std::string text = j.dump(1);
  std::string d = "[";
  for (std::size_t i = 0; i < rec.decisions.entries.size(); ++i) {
    const Decision& e = rec.decisions.entries[i];
    d += (i ? ",\n  [" : "\n  [") + std::to_string(e.step) + ", " + std::to_string(e.cpu) + "]";
  }
  d += rec.decisions.entries.empty() ? "]" : "\n ]";
  const std::string placeholder = "\"@DECISIONS@\"";
  text.replace(text.find(placeholder), placeholder.size(), d);
  f << text << "\n";
  if (!f) throw ConfigError("cannot write record '" + path + "'");
}

Record read_record(const std::string& path) { return parse_record(read_input_file(path, "record"), path); }

Record parse_record(const std::string& text, const std::string& path) {
  using nlohmann::json;
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw ConfigError("malformed record " + quoted(path) + ": not JSON (" + std::string(e.what()) + ")");
  }
  try {
    if (!j.is_object() || j.value("format", "") != kFormat)
      throw ConfigError("not an smpemu record (format is not '" + std::string(kFormat) + "')");
    if (j.at("version").get<int>() != kVersion)
      throw ConfigError("record version " + j.at("version").dump() + " (this binary reads " +
                        std::to_string(kVersion) + ")");
    Record rec;
    rec.config.workload = j.at("workload").get<std::string>();
    rec.config.machine = j.at("machine").get<std::string>();
    for (const auto& [k, v] : j.at("settings").items()) {
      if (!v.is_string()) throw ConfigError("setting '" + k + "' is not a string");
      if (k == "workload") throw ConfigError("unknown setting 'workload'");
      RunConfig probe;  // settings are engine parameters only: knobs live under "knobs"
      apply_setting(probe, k, v.get<std::string>());
      if (!probe.set.empty()) throw ConfigError("unknown setting '" + k + "'");
      apply_setting(rec.config, k, v.get<std::string>());
    }
    for (const auto& [k, v] : j.at("knobs").items()) {
      if (!v.is_string()) throw ConfigError("knob '" + k + "' is not a string");
      rec.config.set[k] = v.get<std::string>();
    }
    validate(rec.config);
    rec.build = j.value("build", "");
    rec.digest = parse_hex(j.at("digest").get<std::string>());
    rec.end = parse_end(j.at("end").get<std::string>());
    for (const auto& b : j.at("bugs")) {
      BugReport r;
      r.check = b.at("check").get<std::string>();
      r.message = b.at("message").get<std::string>();
      r.cycle = b.value("cycle", Cycles{0});
      r.cpu = b.value("cpu", kNoCpu);
      r.task = b.value("task", "");
      r.fatal = b.value("fatal", false);
      rec.bugs.push_back(r);
    }
    for (const auto& d : j.at("decisions")) {
      if (!d.is_array() || d.size() != 2 || !d[0].is_number_unsigned() || !d[1].is_number_integer())
        throw ConfigError("decision " + d.dump() + " is not [step, cpu]");
      const Decision e{d[0].get<std::uint64_t>(), d[1].get<CpuId>()};
      if (e.cpu < 0 || e.cpu >= rec.config.params.cpus)
        throw ConfigError("decision " + d.dump() + " names a CPU the machine does not have");
      rec.decisions.entries.push_back(e);
    }
    rec.decisions_digest = parse_hex(j.at("decisions_digest").get<std::string>());
    rec.stop_at = j.value("stop_at", "");
    if (!rec.stop_at.empty()) {
      try {
        (void)parse_stop_condition(rec.stop_at);
      } catch (const std::invalid_argument& e) {
        throw ConfigError(e.what());
      }
    }
    return rec;
  } catch (const ConfigError& e) {
    throw ConfigError("malformed record " + quoted(path) + ": " + e.what());
  } catch (const json::exception& e) {
    throw ConfigError("malformed record " + quoted(path) + ": " + std::string(e.what()));
  }
}

ReplayResult replay_record(const Record& rec, StackPool* pool, const std::function<void(Machine&)>& prepare,
                           const std::function<void(Machine&)>& after) {
  ReplayResult out;
  ReplayStrategy* strategy = nullptr;
  out.run = run_once(
      rec.config, pool,
      [&](Machine& m) {
        prepare_replay(m, rec.decisions, &out.followed, &strategy);
        if (!rec.stop_at.empty()) m.set_stop_condition(parse_stop_condition(rec.stop_at));
        if (prepare) prepare(m);
      },
      [&](Machine& m) {
        // The strategy belongs to the machine: read it before the machine is gone.
        out.applied = strategy->applied();
        out.ignored = strategy->ignored();
        if (after) after(m);
      });
  out.edited = rec.decisions.digest() != rec.decisions_digest;
  out.digest_match = out.run.stats.digest == rec.digest;
  return out;
}

std::string bug_signature(const BugReport& b) {
  std::string s = b.check + ": ";
  bool in_number = false;
  const std::string& msg = b.message;
  for (std::size_t i = 0; i < msg.size(); ++i) {
    const char c = msg[i];
    if (!in_number && c == '0' && i + 2 < msg.size() && msg[i + 1] == 'x' &&
        std::isxdigit(static_cast<unsigned char>(msg[i + 2]))) {
      // A hex number (an address) is a number too.
      i += 2;
      while (i + 1 < msg.size() && std::isxdigit(static_cast<unsigned char>(msg[i + 1]))) ++i;
      s += 'N';
      in_number = true;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      if (!in_number) s += 'N';
      in_number = true;
    } else {
      s += c;
      in_number = false;
    }
  }
  return s;
}

}  // namespace smpemu
