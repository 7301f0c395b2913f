// Basic vocabulary types of the engine.
//
// Virtual time is counted in cycles of the emulated machine. Every CPU has its own
// clock; there is no global "now" except the order in which the engine performs
// visible operations (see machine.h).
#pragma once

#include <cstdint>
#include <limits>

namespace smpemu {

/// Emulated time in CPU cycles.
using Cycles = std::uint64_t;
/// Index of an emulated CPU, 0..ncpus-1.
using CpuId = std::int32_t;
/// Index of a coherence line (one cache line of shared memory), see coherence.h.
using LineId = std::uint32_t;

inline constexpr CpuId kNoCpu = -1;
/// No line: an operation that touches no coherence line.
inline constexpr LineId kNoLine = std::numeric_limits<LineId>::max();
inline constexpr Cycles kNever = std::numeric_limits<Cycles>::max();
inline constexpr int kMaxCpus = 1024;

}  // namespace smpemu
