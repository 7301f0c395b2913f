#include "emu/callpath.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "emu/machine.h"

namespace smpemu {

std::string function_name(const Where& loc) {
  if (!loc.func || !*loc.func) return "?";
  const std::string_view f = loc.func;
  if (f == "operator()") return "lambda";
  return std::string(f);
}

namespace {
std::string file_line(const Where& loc) {
  return std::string(loc.file ? loc.file : "?") + ":" + std::to_string(loc.line);
}
}  // namespace

CallPath capture_path(const CallStack& stack, Where site) {
  CallPath p;
  p.site = site;
  int i = std::min(stack.depth, CallStack::kMaxDepth) - 1;
  // The innermost frame is the function `site` is in when it was annotated: skip it.
  if (i >= 0 && site.func && stack.frames[static_cast<std::size_t>(i)].func &&
      std::strcmp(stack.frames[static_cast<std::size_t>(i)].func, site.func) == 0)
    --i;
  for (; i >= 0 && p.ncallers < CallPath::kMaxCallers; --i)
    p.callers[p.ncallers++] = stack.frames[static_cast<std::size_t>(i)];
  return p;
}

CallPath innermost_path(const CallStack& stack) {
  if (stack.depth == 0) return CallPath{};
  return capture_path(stack, stack.frames[static_cast<std::size_t>(std::min(stack.depth, CallStack::kMaxDepth) - 1)]);
}

std::string CallPath::site_str() const {
  if (empty()) return "?";
  return file_line(site) + " " + function_name(site);
}

std::string CallPath::functions() const {
  if (empty()) return "?";
  std::string s = function_name(site);
  for (std::uint8_t i = 0; i < ncallers; ++i) s += " <- " + function_name(callers[i]);
  return s;
}

std::string CallPath::str() const {
  if (empty()) return "?";
  return file_line(site) + " " + functions();
}

CallFrame::CallFrame(Where loc) {
  Machine* m = this_machine();
  if (!m) return;
  CallStack& s = m->running()->calls;
  if (s.depth < CallStack::kMaxDepth) s.frames[static_cast<std::size_t>(s.depth)] = loc;
  ++s.depth;
  stack_ = &s;
}

}  // namespace smpemu
