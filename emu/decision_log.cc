#include "emu/decision_log.h"

namespace smpemu {

std::uint64_t DecisionLog::digest() const {
  std::uint64_t h = 0x6465636973696f6eULL;  // "decision"
  for (const Decision& d : entries) {
    for (std::uint64_t v : {d.step, static_cast<std::uint64_t>(static_cast<std::uint32_t>(d.cpu))}) {
      v ^= v >> 33;
      v *= 0xff51afd7ed558ccdULL;
      h = (h ^ v) * 0xc4ceb9fe1a85ec53ULL;
      h ^= h >> 29;
    }
  }
  return h;
}

void ReadySet::add(CpuId c, Cycles t) {
  const auto i = static_cast<std::size_t>(c);
  if (i >= time_of_.size()) time_of_.resize(i + 1, 0);
  time_of_[i] = t;
  set_.insert({t, c});
}

bool ReadySet::contains(CpuId c, Cycles* t) const {
  const auto i = static_cast<std::size_t>(c);
  if (c < 0 || i >= time_of_.size() || !set_.count({time_of_[i], c})) return false;
  if (t) *t = time_of_[i];
  return true;
}

void ReadySet::append_members(std::vector<CpuId>& out) const {
  for (const auto& [t, c] : set_) out.push_back(c);
}

CpuId ReadySet::default_choice(CpuId cur, Cycles t) const {
  if (set_.empty()) return cur;
  const auto& [bt, bc] = *set_.begin();
  if (cur == kNoCpu) return bc;
  if (t < bt || (t == bt && cur < bc)) return cur;
  return bc;
}

void ReadySet::apply(CpuId cur, Cycles t, CpuId chosen) {
  if (chosen == cur) return;
  set_.erase({time_of_[static_cast<std::size_t>(chosen)], chosen});
  if (cur != kNoCpu) add(cur, t);
}

void RecordingStrategy::add(CpuId c, Cycles t) {
  ready_.add(c, t);
  inner_->add(c, t);
}

CpuId RecordingStrategy::pick(CpuId cur, Cycles t) {
  const CpuId def = ready_.default_choice(cur, t);
  const CpuId chosen = inner_->pick(cur, t);
  if (chosen != def) out_->entries.push_back({step_, chosen});
  ready_.apply(cur, t, chosen);
  ++step_;
  return chosen;
}

CpuId ReplayStrategy::pick(CpuId cur, Cycles t) {
  CpuId chosen = ready_.default_choice(cur, t);
  const auto& e = log_.entries;
  while (next_ < e.size() && e[next_].step < step_) {
    ++ignored_;  // unordered or duplicate steps in an edited log
    ++next_;
  }
  if (next_ < e.size() && e[next_].step == step_) {
    const CpuId want = e[next_].cpu;
    ++next_;
    if (want == cur || ready_.contains(want)) {
      chosen = want;
      ++applied_;
    } else {
      ++ignored_;
    }
  }
  if (chosen != ready_.default_choice(cur, t)) followed_->entries.push_back({step_, chosen});
  ready_.apply(cur, t, chosen);
  ++step_;
  return chosen;
}

}  // namespace smpemu
