#include "cli/text.h"

#include <string_view>

namespace smpemu {

namespace {

void append_escaped(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '\n': out += "\\n"; return;
    case '\t': out += "\\t"; return;
    case '\r': out += "\\r"; return;
    default: break;
  }
  if (c >= 0x20 && c < 0x7f) {
    out += static_cast<char>(c);
    return;
  }
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xf];
}

}  // namespace

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (const char ch : s) {
    if (ch == '\\' || ch == '\'') out += '\\';
    append_escaped(out, static_cast<unsigned char>(ch));
  }
  return out + "'";
}

std::string shell_word(const std::string& s) {
  static constexpr std::string_view kPlain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./+-:@%,=";
  if (!s.empty() && s.find_first_not_of(kPlain) == std::string::npos) return s;
  std::string out = "'";
  for (const char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

std::string escape_nonprintable(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) append_escaped(out, static_cast<unsigned char>(ch));
  return out;
}

}  // namespace smpemu
