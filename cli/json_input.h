// Strict reading of the JSON documents users hand in (records, fuzz shards): every
// message names the key path of the first problem ("settings.cpus missing",
// "decisions[3].cpu 4294967296 out of range 0..7"), every number is range-checked as
// the JSON value it is before it is narrowed to a C++ type, and user text in messages
// goes through quoted().
//
// Values are never dump()ed or compared whole: both recurse, and nesting is bounded
// only by parse() (kMaxJsonDepth).
//
// Concurrency: pure functions.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace smpemu {

/// Deepest nesting of arrays and objects parse_json() accepts (records and shards use 3).
constexpr int kMaxJsonDepth = 32;

/// Parses `text` as one JSON document. Throws ConfigError "not JSON (...)" or "nested
/// deeper than 32 levels" (checked on the text, before any value is built).
nlohmann::json parse_json(const std::string& text);

/// "key" at top level, "path.key" below.
std::string json_path(const std::string& path, const std::string& key);

/// A short description of `v` for messages: a number or boolean as written, a string
/// quoted (cut at 64 bytes), "an array", "an object" or "null".
std::string describe_json(const nlohmann::json& v);

/// Throws "PATH is TYPE (expected an object)" unless `v` is an object.
void require_object(const nlohmann::json& v, const std::string& path);

/// The member `key` of object `obj` (at `path`). Throws "PATH.KEY missing".
const nlohmann::json& json_member(const nlohmann::json& obj, const std::string& path, const std::string& key);

/// Throws "unknown key 'K' in PATH" for the first member of `obj` not in `known`.
void refuse_unknown_keys(const nlohmann::json& obj, const std::string& path,
                         std::initializer_list<std::string_view> known);

/// `v` (at `path`) as a string. Throws "PATH is TYPE (expected a string)".
std::string json_string(const nlohmann::json& v, const std::string& path);

/// `v` as a bool. Throws "PATH is TYPE (expected true or false)".
bool json_bool(const nlohmann::json& v, const std::string& path);

/// `v` as an integer in min..max, checked before any conversion. Throws "PATH V out of
/// range MIN..MAX", "PATH V is not an integer" or "PATH is TYPE (expected an integer)".
std::uint64_t json_unsigned(const nlohmann::json& v, const std::string& path, std::uint64_t min,
                            std::uint64_t max);

/// `v` as a finite number in min..max. Throws ConfigError.
double json_number(const nlohmann::json& v, const std::string& path, double min, double max);

/// `v` as an array of at most `max_size` elements. Throws ConfigError.
const nlohmann::json& json_array(const nlohmann::json& v, const std::string& path, std::uint64_t max_size);

}  // namespace smpemu
