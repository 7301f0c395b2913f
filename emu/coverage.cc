#include "emu/coverage.h"

#include <algorithm>
#include <cstring>

namespace smpemu {

namespace {

std::uint64_t fnv1a(std::uint64_t h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ULL;
  return h;
}

}  // namespace

std::uint64_t InterleavingCoverage::site_key(Where site, bool is_write) {
  // The cache is keyed by the file's address (one literal per file in a binary); the
  // key itself by its text, so that it does not depend on where the binary is loaded.
  const std::uint64_t cache = reinterpret_cast<std::uintptr_t>(site.file) * 31 + site.line * 2 + is_write;
  auto [it, fresh] = sites_.try_emplace(cache, 0);
  if (fresh) {
    std::uint64_t h = 0xCBF29CE484222325ULL;
    if (site.file) h = fnv1a(h, site.file, std::strlen(site.file));
    const unsigned line = site.line;
    h = fnv1a(h, &line, sizeof line);
    const unsigned char w = is_write;
    h = fnv1a(h, &w, 1);
    it->second = h | 1;  // never 0, the "none yet" key
  }
  return it->second;
}

void InterleavingCoverage::access(LineId line, CpuId cpu, bool is_write, Where site) {
  const auto i = static_cast<std::size_t>(line);
  if (i >= lines_.size()) lines_.resize(std::max(i + 1, lines_.size() * 2));
  LineLast& l = lines_[i];
  const std::uint64_t key = site_key(site, is_write);
  if (l.write.site && l.write.cpu != cpu) pair(l.write.site, key);
  if (is_write) {
    if (l.read.site && l.read.cpu != cpu) pair(l.read.site, key);
    l.write = {key, cpu};
    l.read = {};
  } else if (l.write.cpu != cpu) {
    l.read = {key, cpu};
  }
}

std::vector<std::uint64_t> InterleavingCoverage::pairs() const {
  std::vector<std::uint64_t> v(pairs_.begin(), pairs_.end());
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace smpemu
