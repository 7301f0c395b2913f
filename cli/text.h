// Echoing user input in messages: file names, workload and knob names, values and the
// contents of files users hand in (records, fuzz shards) may hold any byte. A message
// stays one line of printable text whatever they hold.
//
// Concurrency: pure functions.
#pragma once

#include <string>

namespace smpemu {

/// `s` between single quotes, with every byte outside printable ASCII escaped: \n, \t,
/// \r as such, others as \xNN; a backslash or a single quote is preceded by a backslash.
/// quoted("ab\nba") is 'ab\nba' (the six characters a, b, \, n, b, a between quotes).
std::string quoted(const std::string& s);

/// `s` as one word of a POSIX shell command line: unchanged if it is made of letters,
/// digits and `_./+-:@%,=` only (and not empty), else between single quotes with each
/// single quote written '\''. For the repro commands users paste into a shell.
std::string shell_word(const std::string& s);

/// `s` with the bytes outside printable ASCII escaped as in quoted(), without quotes:
/// the last line of defence in front of stderr, so no message ever spans two lines.
std::string escape_nonprintable(const std::string& s);

}  // namespace smpemu
