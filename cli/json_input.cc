#include "cli/json_input.h"

#include <cmath>

#include "cli/text.h"
#include "emu/errors.h"

namespace smpemu {

namespace {

std::string type_of(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::null: return "null";
    default: return "a number";
  }
}

ConfigError wrong_type(const nlohmann::json& v, const std::string& path, const char* expected) {
  return ConfigError(path + " is " + type_of(v) + " (expected " + expected + ")");
}

/// Nesting depth of the arrays and objects of `text`, outside strings; stops counting
/// once past `limit`.
int nesting_depth(const std::string& text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

nlohmann::json parse_json(const std::string& text) {
  if (nesting_depth(text, kMaxJsonDepth) > kMaxJsonDepth)
    throw ConfigError("nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError("not JSON (" + escape_nonprintable(e.what()) + ")");
  }
}

std::string json_path(const std::string& path, const std::string& key) {
  const std::string k = escape_nonprintable(key);
  return path.empty() ? k : path + "." + k;
}

std::string describe_json(const nlohmann::json& v) {
  if (v.is_number() || v.is_boolean()) return v.dump();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    return s.size() > 64 ? quoted(s.substr(0, 64)) + "..." : quoted(s);
  }
  return type_of(v);
}

void require_object(const nlohmann::json& v, const std::string& path) {
  if (!v.is_object()) throw wrong_type(v, path, "an object");
}

const nlohmann::json& json_member(const nlohmann::json& obj, const std::string& path, const std::string& key) {
  require_object(obj, path.empty() ? "the document" : path);
  const auto it = obj.find(key);
  if (it == obj.end()) throw ConfigError(json_path(path, key) + " missing");
  return *it;
}

void refuse_unknown_keys(const nlohmann::json& obj, const std::string& path,
                         std::initializer_list<std::string_view> known) {
  for (const auto& [k, v] : obj.items()) {
    bool ok = false;
    for (const std::string_view n : known) ok = ok || k == n;
    if (!ok) throw ConfigError("unknown key " + quoted(k) + (path.empty() ? "" : " in " + path));
  }
}

std::string json_string(const nlohmann::json& v, const std::string& path) {
  if (!v.is_string()) throw wrong_type(v, path, "a string");
  return v.get<std::string>();
}

bool json_bool(const nlohmann::json& v, const std::string& path) {
  if (!v.is_boolean()) throw wrong_type(v, path, "true or false");
  return v.get<bool>();
}

std::uint64_t json_unsigned(const nlohmann::json& v, const std::string& path, std::uint64_t min,
                            std::uint64_t max) {
  const std::string range = " out of range " + std::to_string(min) + ".." + std::to_string(max);
  if (v.is_number_unsigned()) {
    const std::uint64_t u = v.get<std::uint64_t>();
    if (u < min || u > max) throw ConfigError(path + " " + std::to_string(u) + range);
    return u;
  }
  if (v.is_number_integer()) throw ConfigError(path + " " + std::to_string(v.get<std::int64_t>()) + range);
  if (v.is_number_float()) throw ConfigError(path + " " + v.dump() + " is not an integer");
  throw wrong_type(v, path, "an integer");
}

double json_number(const nlohmann::json& v, const std::string& path, double min, double max) {
  if (!v.is_number()) throw wrong_type(v, path, "a number");
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < min || d > max)
    throw ConfigError(path + " " + v.dump() + " out of range " + nlohmann::json(min).dump() + ".." +
                      nlohmann::json(max).dump());
  return d;
}

const nlohmann::json& json_array(const nlohmann::json& v, const std::string& path, std::uint64_t max_size) {
  if (!v.is_array()) throw wrong_type(v, path, "an array");
  if (v.size() > max_size)
    throw ConfigError(path + " has " + std::to_string(v.size()) + " entries (at most " + std::to_string(max_size) +
                      ")");
  return v;
}

}  // namespace smpemu
