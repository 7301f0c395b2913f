#include "cli/record.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string_view>
#include <nlohmann/json.hpp>

#include "cli/input_file.h"
#include "cli/json_input.h"
#include "cli/output_file.h"
#include "cli/report.h"
#include "cli/text.h"
#include "emu/errors.h"
#include "emu/limits.h"

namespace smpemu {

namespace {

constexpr const char* kFormat = "smpemu-record";
constexpr int kVersion = 1;

nlohmann::json settings_of(const RunConfig& c) {
  const MachineParams& p = c.params;
  nlohmann::json s = {{"cpus", std::to_string(p.cpus)},         {"seed", std::to_string(p.seed)},
          {"strategy", p.strategy},                 {"preempt", preempt_name(p.preempt)},
          {"rcu", rcu_flavor_name(p.rcu)},          {"mutex_spin", p.mutex_spin ? "on" : "off"},
          {"mutex", mutex_model_name(p.mutex)},     {"arch", c.arch},
          {"hz", std::to_string(p.hz)},             {"jitter", std::to_string(p.jitter_pct)},
          {"max_cycles", std::to_string(p.max_cycles)}, {"livelock_ms", std::to_string(p.livelock_ms)},
          {"lockdep", p.lockdep ? "on" : "off"}};
  if (!c.checks.only.empty()) s["check"] = check_list(c.checks.only);
  if (!c.checks.ignore.empty()) s["ignore_check"] = check_list(c.checks.ignore);
  return s;
}

/// Settings a record may lack: `lockdep` came later, and records written before it ran
/// with the checker on, the value its absence means; `mutex` too, and records without
/// it ran with the FIFO hand-off that was the only mutex model then.
/// `check` and `ignore_check` (the CheckFilter) are written only when not empty.
const std::initializer_list<std::string_view> kLaterSettingKeys = {"lockdep", "mutex", "check", "ignore_check"};
/// The keys of "settings": every engine parameter but the machine (a top-level key).
const std::initializer_list<std::string_view> kAllSettingKeys = {
    "cpus", "seed", "strategy", "preempt", "rcu", "mutex_spin", "mutex", "arch", "hz", "jitter", "max_cycles", "livelock_ms",
    "lockdep", "check", "ignore_check"};

EndReason parse_end(const std::string& s) {
  for (EndReason r : {EndReason::Completed, EndReason::TimeLimit, EndReason::Deadlock, EndReason::FatalBug,
                      EndReason::Stopped, EndReason::Livelock, EndReason::HostLimit})
    if (s == end_reason_name(r)) return r;
  throw ConfigError("unknown end reason " + quoted(s));
}

std::uint64_t parse_hex(const std::string& s, const std::string& key) {
  if (s.size() != 16 || s.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw ConfigError("bad " + key + " " + quoted(s) + " (expected 16 hex digits)");
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
                    {"task", b.task}, {"fatal", b.fatal}, {"signature", bug_signature(b)},
                    {"key", b.key}, {"details", b.details}});
  j["bugs"] = bugs;
  j["decisions"] = "@DECISIONS@";  // replaced below: one [step, cpu] per line
  j["decisions_digest"] = hex16(rec.decisions_digest);
  if (!rec.stop_at.empty()) j["stop_at"] = rec.stop_at;
  // One decision per line keeps large logs readable and editable by hand.
  std::string text = j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string d = "[";
  for (std::size_t i = 0; i < rec.decisions.entries.size(); ++i) {
    const Decision& e = rec.decisions.entries[i];
    d += (i ? ",\n  [" : "\n  [") + std::to_string(e.step) + ", " + std::to_string(e.cpu) + "]";
  }
  d += rec.decisions.entries.empty() ? "]" : "\n ]";
  const std::string placeholder = "\"@DECISIONS@\"";
  text.replace(text.find(placeholder), placeholder.size(), d);
  write_file_atomically(path, text + "\n", "record");
}

Record read_record(const std::string& path) { return parse_record(read_input_file(path, "record"), path); }

Record parse_record(const std::string& text, const std::string& name) {
  using nlohmann::json;
  try {
    const json j = parse_json(text);
    if (!j.is_object() || !j.contains("format") || !j["format"].is_string() || j["format"] != kFormat)
      throw ConfigError("not an smpemu record (format is not '" + std::string(kFormat) + "')");
    refuse_unknown_keys(j, "", {"format", "version", "build", "workload", "machine", "settings", "knobs", "digest",
                                "end", "bugs", "decisions", "decisions_digest", "stop_at"});
    const auto at = [&](const char* key) -> const json& { return json_member(j, "", key); };
    const json& version = at("version");
    if (!version.is_number_integer() || version.get<std::int64_t>() != kVersion)
      throw ConfigError("record version " + describe_json(version) + " (this binary reads " +
                        std::to_string(kVersion) + ")");
    Record rec;
    rec.build = json_string(at("build"), "build");
    rec.config.workload = json_string(at("workload"), "workload");
    rec.config.machine = json_string(at("machine"), "machine");

    // Every engine setting is required: a default standing in for a missing one would
    // replay another run, and the mismatch would be blamed on the binary.
    const json& settings = at("settings");
    require_object(settings, "settings");
    refuse_unknown_keys(settings, "settings", kAllSettingKeys);
    for (const std::string_view key : kAllSettingKeys) {
      const std::string k(key), path = "settings." + k;
      const bool later = std::find(kLaterSettingKeys.begin(), kLaterSettingKeys.end(), key) != kLaterSettingKeys.end();
      if (later && !settings.contains(k)) {
        if (k == "mutex") rec.config.params.mutex = MutexModel::Fifo;
        continue;
      }
      const std::string value = json_string(json_member(settings, "settings", k), path);
      try {
        apply_setting(rec.config, k, value);
      } catch (const ConfigError& e) {
        throw ConfigError(path + ": " + e.what());
      }
    }
    const json& knobs = at("knobs");
    require_object(knobs, "knobs");
    for (const auto& [k, v] : knobs.items()) rec.config.set[k] = json_string(v, json_path("knobs", k));
    validate(rec.config);

    rec.digest = parse_hex(json_string(at("digest"), "digest"), "digest");
    rec.end = parse_end(json_string(at("end"), "end"));
    const json& bugs = json_array(at("bugs"), "bugs", limits::kDecisions);
    const std::uint64_t cpus = static_cast<std::uint64_t>(rec.config.params.cpus);
    for (std::size_t i = 0; i < bugs.size(); ++i) {
      const json& b = bugs[i];
      const std::string path = "bugs[" + std::to_string(i) + "]";
      require_object(b, path);
      refuse_unknown_keys(b, path, {"check", "message", "cycle", "cpu", "task", "fatal", "signature", "key", "details"});
      const auto field = [&](const char* key) -> const json& { return json_member(b, path, key); };
      BugReport r;
      r.check = json_string(field("check"), path + ".check");
      r.message = json_string(field("message"), path + ".message");
      r.cycle = json_unsigned(field("cycle"), path + ".cycle", 0, ~Cycles{0});
      // kNoCpu (-1) is a report no CPU made (a check at the end of the run).
      const json& cpu = field("cpu");
      r.cpu = cpu.is_number_integer() && cpu.get<std::int64_t>() == kNoCpu
                  ? kNoCpu
                  : static_cast<CpuId>(json_unsigned(cpu, path + ".cpu", 0, cpus - 1));
      r.task = json_string(field("task"), path + ".task");
      r.fatal = json_bool(field("fatal"), path + ".fatal");
      if (b.contains("signature")) (void)json_string(b["signature"], path + ".signature");
      if (b.contains("key")) r.key = json_string(b["key"], path + ".key");
      if (b.contains("details")) r.details = json_string(b["details"], path + ".details");
      rec.bugs.push_back(r);
    }
    const json& decisions = json_array(at("decisions"), "decisions", limits::kDecisions);
    rec.decisions.entries.reserve(decisions.size());
    for (std::size_t i = 0; i < decisions.size(); ++i) {
      const json& d = decisions[i];
      const std::string path = "decisions[" + std::to_string(i) + "]";
      if (!d.is_array() || d.size() != 2) throw ConfigError(path + " " + describe_json(d) + " is not [step, cpu]");
      const std::uint64_t step = json_unsigned(d[0], path + ".step", 0, ~std::uint64_t{0});
      const std::uint64_t cpu = json_unsigned(d[1], path + ".cpu", 0, cpus - 1);
      rec.decisions.entries.push_back({step, static_cast<CpuId>(cpu)});
    }
    rec.decisions_digest = parse_hex(json_string(at("decisions_digest"), "decisions_digest"), "decisions_digest");
    if (j.contains("stop_at")) {
      rec.stop_at = json_string(j["stop_at"], "stop_at");
      try {
        (void)parse_stop_condition(rec.stop_at);
      } catch (const std::invalid_argument& e) {
        throw ConfigError("stop_at: " + escape_nonprintable(e.what()));
      }
    }
    return rec;
  } catch (const ConfigError& e) {
    throw ConfigError("malformed record " + quoted(name) + ": " + escape_nonprintable(e.what()));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError("malformed record " + quoted(name) + ": " + escape_nonprintable(e.what()));
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
  // What a developer calls one bug: the same check on the same lock classes or at the
  // same code site, whichever task or side detected it.
  if (!b.key.empty()) return b.check + ": " + b.key;
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
