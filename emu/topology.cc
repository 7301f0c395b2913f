#include "emu/topology.h"

namespace smpemu {

const char* distance_name(Distance d) {
  switch (d) {
    case Distance::Self: return "self";
    case Distance::Smt: return "smt";
    case Distance::Die: return "die";
    case Distance::Package: return "package";
    case Distance::Hop1: return "hop1";
    case Distance::Hop2: return "hop2";
  }
  return "?";
}

Topology::Topology(std::vector<CpuPlace> places, int nsockets, std::vector<std::uint8_t> socket_hops)
    : places_(std::move(places)), nsockets_(nsockets), socket_hops_(std::move(socket_hops)) {}

Distance Topology::distance(CpuId a, CpuId b) const {
  if (a == b) return Distance::Self;
  const CpuPlace& pa = place(a);
  const CpuPlace& pb = place(b);
  if (pa.core == pb.core) return Distance::Smt;
  if (pa.die == pb.die) return Distance::Die;
  if (pa.socket == pb.socket) return Distance::Package;
  const auto hops = socket_hops_[static_cast<std::size_t>(pa.socket * nsockets_ + pb.socket)];
  return hops <= 1 ? Distance::Hop1 : Distance::Hop2;
}

}  // namespace smpemu
