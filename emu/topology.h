// Topology of the emulated machine and the table of costs the engine charges.
//
// A CPU sits in a hierarchy thread < core < die < socket. The distance between two CPUs
// is the innermost level they share; sockets are further apart by interconnect hops.
// The engine never decides these numbers itself: they come from a machine profile
// (arch/profiles.h), each figure naming its source (docs/COSTS.md).
//
// Invariants: distance(a, a) == Self; distance is symmetric; the cost of a transfer
// between two CPUs depends only on their distance class.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "emu/types.h"

namespace smpemu {

/// How far apart two CPUs are, innermost shared level first.
enum class Distance : std::uint8_t { Self, Smt, Die, Package, Hop1, Hop2 };
inline constexpr int kDistanceClasses = 6;
const char* distance_name(Distance d);

/// Where one logical CPU sits. All ids are machine-global.
struct CpuPlace {
  int thread = 0;  ///< SMT thread index within its core
  int core = 0;    ///< global core id
  int die = 0;     ///< global die id (an L3 / NUMA node on the profiles we model)
  int socket = 0;  ///< global socket id
};

/// Cycle costs of the operations the engine models. One-line docs; sources live with the
/// profile that fills the table.
struct CostTable {
  std::array<Cycles, kDistanceClasses> transfer{};  ///< cache-line transfer by distance
  Cycles memory = 0;            ///< fetch of a line no cache holds
  Cycles hit = 0;               ///< load or store hitting the CPU's own cache
  Cycles local_rmw = 0;         ///< atomic read-modify-write on a line the CPU owns
  Cycles inval_per_sharer = 0;  ///< extra cost per further sharer a write invalidates
  /// Share (%) of a transfer that is the request's trip to the holder: it overlaps with
  /// transfers queued ahead on the line, so only the rest of a transfer serialises.
  Cycles request_leg_pct = 0;
  Cycles ipi_send = 0;          ///< sender-side cost of an inter-processor interrupt
  Cycles ipi_latency = 0;       ///< IPI delivery, on top of the line transfer to the target
  Cycles ctx_switch = 0;        ///< context switch (lmbench lat_ctx)
  Cycles barrier = 0;           ///< full memory barrier (smp_mb)
  std::uint64_t clock_hz = 0;   ///< cycles per second, to show microseconds
};

/// Placement of every logical CPU plus the socket interconnect.
class Topology {
 public:
  Topology() = default;
  /// `places[i]` is CPU i; `socket_hops[a * nsockets + b]` is 1 or 2 for a != b.
  Topology(std::vector<CpuPlace> places, int nsockets, std::vector<std::uint8_t> socket_hops);

  int ncpus() const { return static_cast<int>(places_.size()); }
  int nsockets() const { return nsockets_; }
  const CpuPlace& place(CpuId c) const { return places_[static_cast<std::size_t>(c)]; }
  Distance distance(CpuId a, CpuId b) const;

 private:
  std::vector<CpuPlace> places_;
  int nsockets_ = 0;
  std::vector<std::uint8_t> socket_hops_;
};

}  // namespace smpemu
