// Unit tests of machine profiles and the topology built from them (arch/profiles.h,
// emu/topology.h): placement of CPUs, distance classes, and replication past the
// profile's own CPU count.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "arch/profiles.h"
#include "emu/coherence.h"
#include "emu/topology.h"

using namespace smpemu;

namespace smpemu {
static void PrintTo(Distance d, std::ostream* os) { *os << distance_name(d); }
}  // namespace smpemu

namespace {

const machine_profile* profile(const char* name) {
  const machine_profile* p = find_machine_profile(name);
  EXPECT_NE(p, nullptr) << name;
  return p;
}

}  // namespace

TEST(Profiles, KnownProfilesAndCpuCounts) {
  ASSERT_EQ(machine_profiles().size(), 3u);
  EXPECT_EQ(machine_profile_cpus(profile("opteron48")), 48);
  EXPECT_EQ(machine_profile_cpus(profile("xeon80")), 160);
  EXPECT_EQ(machine_profile_cpus(profile("power7")), 128);
  EXPECT_EQ(find_machine_profile("no-such-machine"), nullptr);
  for (const machine_profile* p : machine_profiles()) {
    EXPECT_EQ(find_machine_profile(p->name), p);
    const CostTable& c = p->costs;
    EXPECT_EQ(c.transfer[static_cast<std::size_t>(Distance::Self)], 0u) << p->name;
    // Farther never costs less.
    for (int d = 1; d + 1 < kDistanceClasses; ++d)
      EXPECT_LE(c.transfer[static_cast<std::size_t>(d)], c.transfer[static_cast<std::size_t>(d + 1)])
          << p->name << " distance " << d;
    EXPECT_GT(c.clock_hz, 0u) << p->name;
  }
}

TEST(Topology, Opteron48DistancesFollowTheModel) {
  // 4 packages on a square, 2 dies of 6 cores per package, no SMT. CPU i is core i,
  // die i/6, socket i/12; opposite packages (0-2, 1-3) are 2 hops apart.
  const machine_profile* p = profile("opteron48");
  const Topology t = build_topology(p, 48);
  ASSERT_EQ(t.ncpus(), 48);
  EXPECT_EQ(t.nsockets(), 4);

  EXPECT_EQ(t.distance(0, 0), Distance::Self);
  EXPECT_EQ(t.distance(0, 5), Distance::Die);       // same die
  EXPECT_EQ(t.distance(0, 6), Distance::Package);   // same package, other die
  EXPECT_EQ(t.distance(0, 11), Distance::Package);
  EXPECT_EQ(t.distance(0, 12), Distance::Hop1);     // adjacent package
  EXPECT_EQ(t.distance(0, 36), Distance::Hop1);     // adjacent package (wraps around)
  EXPECT_EQ(t.distance(0, 24), Distance::Hop2);     // opposite package
  EXPECT_EQ(t.distance(12, 36), Distance::Hop2);
  EXPECT_EQ(t.distance(47, 35), Distance::Hop1);     // packages 3 and 2

  for (CpuId a = 0; a < 48; ++a) {
    const CpuPlace& pl = t.place(a);
    EXPECT_EQ(pl.thread, 0);
    EXPECT_EQ(pl.core, a);
    EXPECT_EQ(pl.die, a / 6);
    EXPECT_EQ(pl.socket, a / 12);
    for (CpuId b = 0; b < 48; ++b) {
      Distance want;
      if (a == b)
        want = Distance::Self;
      else if (a / 6 == b / 6)
        want = Distance::Die;
      else if (a / 12 == b / 12)
        want = Distance::Package;
      else
        want = ((a / 12 - b / 12 + 4) % 4 == 2) ? Distance::Hop2 : Distance::Hop1;
      ASSERT_EQ(t.distance(a, b), want) << a << " " << b;
      ASSERT_EQ(t.distance(a, b), t.distance(b, a));
    }
  }
}

TEST(Topology, Xeon80SmtSiblingsAreIAndIPlus80) {
  const machine_profile* p = profile("xeon80");
  const Topology t = build_topology(p, 160);
  EXPECT_EQ(t.nsockets(), 8);
  for (CpuId i = 0; i < 80; ++i) {
    EXPECT_EQ(t.distance(i, i + 80), Distance::Smt) << i;
    EXPECT_EQ(t.place(i).core, t.place(i + 80).core);
    EXPECT_EQ(t.place(i).thread, 0);
    EXPECT_EQ(t.place(i + 80).thread, 1);
  }
  // The first 80 CPUs are distinct cores: none of them are siblings of each other.
  for (CpuId a = 0; a < 80; ++a)
    for (CpuId b = a + 1; b < 80; ++b) ASSERT_NE(t.distance(a, b), Distance::Smt) << a << " " << b;
  EXPECT_EQ(t.distance(0, 1), Distance::Die);   // one die per socket, 10 cores
  EXPECT_EQ(t.distance(0, 9), Distance::Die);
  EXPECT_EQ(t.distance(0, 10), Distance::Hop1);  // sockets 0 and 1 differ in one bit
  EXPECT_EQ(t.distance(0, 30), Distance::Hop2);  // sockets 0 and 3 differ in two bits
  EXPECT_EQ(t.distance(0, 70), Distance::Hop2);  // 0 and 7
  EXPECT_EQ(t.distance(10, 30), Distance::Hop1); // 1 and 3
  EXPECT_EQ(t.distance(80, 90), Distance::Hop1); // SMT thread 1 of sockets 0 and 1
  EXPECT_EQ(t.distance(1, 80), Distance::Die);   // sibling of CPU 0, same die as CPU 1
}

TEST(Topology, Power7HasFourThreadsPerCoreAndAFullMesh) {
  const machine_profile* p = profile("power7");
  const Topology t = build_topology(p, 128);
  for (CpuId i = 0; i < 32; ++i) {
    EXPECT_EQ(t.distance(i, i + 32), Distance::Smt);
    EXPECT_EQ(t.distance(i, i + 64), Distance::Smt);
    EXPECT_EQ(t.distance(i, i + 96), Distance::Smt);
  }
  for (CpuId a = 0; a < 32; a += 8)
    for (CpuId b = 0; b < 32; b += 8)
      if (a != b) {
        EXPECT_EQ(t.distance(a, b), Distance::Hop1) << a << " " << b;
      }
}

TEST(Topology, ReplicationAddsSocketsTwoHopsAway) {
  const machine_profile* p = profile("opteron48");
  const Topology t = build_topology(p, 100);
  ASSERT_EQ(t.ncpus(), 100);
  EXPECT_EQ(t.nsockets(), 12);  // three copies of 4 sockets
  EXPECT_EQ(t.place(48).socket, 4);
  EXPECT_EQ(t.place(48).core, 48);
  EXPECT_EQ(t.place(48).die, 8);
  EXPECT_EQ(t.place(99).socket, 8);
  EXPECT_EQ(t.distance(0, 48), Distance::Hop2);   // CPU 48 opens a new copy
  EXPECT_EQ(t.distance(47, 48), Distance::Hop2);
  EXPECT_EQ(t.distance(12, 60), Distance::Hop2);  // even "adjacent" sockets across copies
  EXPECT_EQ(t.distance(0, 96), Distance::Hop2);
  // Within a copy, the profile's own model applies.
  EXPECT_EQ(t.distance(48, 53), Distance::Die);
  EXPECT_EQ(t.distance(48, 54), Distance::Package);
  EXPECT_EQ(t.distance(48, 60), Distance::Hop1);
  EXPECT_EQ(t.distance(48, 72), Distance::Hop2);
  EXPECT_EQ(t.distance(48, 84), Distance::Hop1);
  EXPECT_EQ(t.distance(96, 99), Distance::Die);
}

TEST(Topology, SmallMachinesUseTheFirstCpusOfTheProfile) {
  const machine_profile* p = profile("opteron48");
  const Topology one = build_topology(p, 1);
  EXPECT_EQ(one.ncpus(), 1);
  EXPECT_EQ(one.distance(0, 0), Distance::Self);
  const Topology eight = build_topology(p, 8);
  EXPECT_EQ(eight.distance(0, 5), Distance::Die);
  EXPECT_EQ(eight.distance(0, 7), Distance::Package);
}

TEST(Topology, TransferCostDependsOnlyOnTheDistanceClass) {
  const machine_profile* p = profile("opteron48");
  const Topology t = build_topology(p, 48);
  Rng jitter(1, "jitter");
  CoherenceModel cm(t, p->costs, &jitter, 0);
  for (CpuId a = 0; a < 48; a += 5)
    for (CpuId b = 0; b < 48; b += 3)
      EXPECT_EQ(cm.transfer_cost(a, b), p->costs.transfer[static_cast<std::size_t>(t.distance(a, b))]);
  EXPECT_EQ(cm.transfer_cost(0, 24), 300u);
  EXPECT_EQ(cm.transfer_cost(0, 12), 217u);
  EXPECT_EQ(cm.transfer_cost(0, 6), 197u);
  EXPECT_EQ(cm.transfer_cost(0, 1), 117u);
}

TEST(Topology, DistanceNames) {
  EXPECT_STREQ(distance_name(Distance::Self), "self");
  EXPECT_STREQ(distance_name(Distance::Smt), "smt");
  EXPECT_STREQ(distance_name(Distance::Hop2), "hop2");
}
