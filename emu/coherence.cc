#include "emu/coherence.h"

#include <algorithm>

namespace smpemu {

CoherenceModel::CoherenceModel(const Topology& topo, const CostTable& costs, Rng* jitter,
                               std::uint32_t jitter_pct)
    : costs_(costs),
      ncpus_(static_cast<std::size_t>(topo.ncpus())),
      words_((ncpus_ + 63) / 64),
      dist_(ncpus_ * ncpus_),
      jitter_(jitter),
      jitter_pct_(jitter_pct) {
  std::vector<std::uint64_t> mask(kDistanceClasses * words_);
  mask_start_.push_back(0);
  for (std::size_t a = 0; a < ncpus_; ++a) {
    std::fill(mask.begin(), mask.end(), 0);
    for (std::size_t b = 0; b < ncpus_; ++b) {
      const auto d = static_cast<std::uint8_t>(topo.distance(static_cast<CpuId>(a), static_cast<CpuId>(b)));
      dist_[a * ncpus_ + b] = d;
      if (a != b) mask[d * words_ + b / 64] |= std::uint64_t{1} << (b % 64);
    }
    for (std::size_t k = 0; k < kDistanceClasses; ++k) {
      for (std::size_t i = 0; i < words_; ++i)
        if (mask[k * words_ + i]) mask_words_.push_back({i, mask[k * words_ + i]});
      mask_start_.push_back(mask_words_.size());
    }
  }
  for (std::size_t k = 0; k < kDistanceClasses; ++k) by_cost_[k] = static_cast<std::uint8_t>(k);
  std::stable_sort(by_cost_.begin(), by_cost_.end(),
                   [this](std::uint8_t a, std::uint8_t b) { return costs_.transfer[a] < costs_.transfer[b]; });
}

Cycles CoherenceModel::sharer_cost(const std::uint64_t* w, CpuId cpu, bool nearest) {
  // Every other CPU is in exactly one of cpu's class masks, and a transfer costs what its
  // class costs: the nearest (farthest) sharer's cost is that of the cheapest (dearest)
  // class whose mask meets the sharers.
  const std::size_t base = static_cast<std::size_t>(cpu) * kDistanceClasses;
  for (std::size_t j = 0; j < kDistanceClasses; ++j) {
    const std::size_t k = by_cost_[nearest ? j : kDistanceClasses - 1 - j];
    for (std::size_t m = mask_start_[base + k]; m != mask_start_[base + k + 1]; ++m) {
      ++scan_words_;
      if (w[mask_words_[m].index] & mask_words_[m].bits) return costs_.transfer[k];
    }
  }
  return kNever;
}

LineId CoherenceModel::new_line() {
  lines_.emplace_back();
  sharers_.resize(sharers_.size() + words_, 0);
  return static_cast<LineId>(lines_.size() - 1);
}

bool CoherenceModel::holds(LineId id, CpuId cpu) const {
  const LineState& l = lines_[id];
  if (l.owner == cpu) return true;
  const auto c = static_cast<std::size_t>(cpu);
  return (sharer_words(id)[c / 64] >> (c % 64)) & 1;
}

Cycles CoherenceModel::jitter_slow(Cycles c) {
  if (c == 0) return c;
  return c + jitter_->below(c * jitter_pct_ / 100 + 1);
}

Cycles CoherenceModel::access(LineId id, CpuId cpu, Access kind, Cycles t) {
  LineState& l = lines_[id];
  std::uint64_t* w = sharer_words(id);
  const auto c = static_cast<std::size_t>(cpu);
  const std::uint64_t mybit = std::uint64_t{1} << (c % 64);
  const bool sharer = (w[c / 64] & mybit) != 0;
  Cycles cost;
  Cycles xfer = 0;  // the transfer itself (nearest, owner's or farthest holder's, or memory)

  if (kind == Access::Load) {
    t = std::max(t, l.written_at);
    l.read_at = std::max(l.read_at, t);
    if (l.owner == cpu || sharer) return t + costs_.hit;
    if (l.owner != kNoCpu) {
      cost = xfer = transfer_cost(cpu, l.owner);
      const auto o = static_cast<std::size_t>(l.owner);
      w[o / 64] |= std::uint64_t{1} << (o % 64);
      ++l.nsharers;
      l.owner = kNoCpu;
    } else if (l.nsharers > 0) {
      cost = xfer = sharer_cost(w, cpu, true);
    } else {
      cost = xfer = costs_.memory;
    }
    w[c / 64] |= mybit;
    ++l.nsharers;
  } else {
    t = std::max(t, std::max(l.written_at, l.read_at));
    l.written_at = t;
    l.read_at = t;
    if (l.owner == cpu) {
      // Exclusive hit: no transfer. An atomic holds the line for its duration.
      const Cycles end = t + (kind == Access::Rmw ? costs_.local_rmw : costs_.hit);
      if (kind == Access::Rmw) l.busy_until = std::max(l.busy_until, end);
      return end;
    }
    if (l.owner != kNoCpu) {
      cost = xfer = transfer_cost(cpu, l.owner);
    } else if (l.nsharers > 0) {
      const std::uint32_t others = l.nsharers - (sharer ? 1 : 0);
      if (others == 0) {
        cost = costs_.hit;  // sole sharer upgrades its copy
      } else {
        xfer = sharer_cost(w, cpu, false);
        cost = xfer + costs_.inval_per_sharer * (others - 1);
      }
      std::fill(w, w + words_, 0);
      l.nsharers = 0;
    } else {
      cost = xfer = costs_.memory;
    }
    l.owner = cpu;
    if (kind == Access::Rmw) cost += costs_.local_rmw;
  }
  // The request's trip to the holder (`lead`) overlaps with the transfers queued ahead
  // of it; only the rest (the holder's reply, the invalidations' acks, the atomic)
  // occupies the line. Alone on the line, the access still costs the whole transfer.
  const Cycles lead = xfer * costs_.request_leg_pct / 100;
  cost = jittered(cost);
  const Cycles start = std::max(t + lead, l.busy_until);
  const Cycles end = start + (cost - lead);
  l.busy_until = end;
  ++l.transfers;
  return end;
}

}  // namespace smpemu
