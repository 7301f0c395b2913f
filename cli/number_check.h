// Numbers on the command line, checked by CLI11: a validator built on number_problem()
// (cli/runner.h) that every numeric option of every command attaches, so a bad value is
// refused while the command line is parsed, as one line naming the option.
//
// Why not CLI11's own conversion or CLI::Range on the raw text: CLI11 2.1 converts with
// strtoull in base 0, which reads "010" as octal and "0x10" as hex, wraps "-1" to 2^64-1
// and saturates on overflow. number_check() sees the text first and hands on canonical
// decimal (digits, no leading zeros), which a typed integer option then converts exactly.
//
// Concurrency: pure functions.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>

#include "cli/runner.h"

namespace smpemu {

/// A CLI11 transform that refuses a value number_problem() refuses (the message is the
/// problem; CLI11 puts the option's name in front) and rewrites an accepted one in
/// canonical decimal.
CLI::Validator number_check(const NumberSpec& spec);

/// number_check() of count_spec(min, max): a count bounded by emu/limits.h.
CLI::Validator count_check(std::uint64_t min, std::uint64_t max);

}  // namespace smpemu
