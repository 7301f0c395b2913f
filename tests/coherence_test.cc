// Unit tests of the cache-line coherence model (emu/coherence.h): what each access
// costs, the resulting line states, and per-line occupancy (queueing of transfers).
// All numbers come from the opteron48 profile: hit 4, local_rmw 20, memory 300,
// inval_per_sharer 20, transfers Die 117, Package 197, Hop1 217, Hop2 300.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "arch/profiles.h"
#include "emu/coherence.h"

using namespace smpemu;

namespace {

class CoherenceTest : public ::testing::Test {
 protected:
  explicit CoherenceTest(int ncpus = 48, std::uint32_t jitter_pct = 0)
      : prof_(find_machine_profile("opteron48")),
        topo_(build_topology(prof_, ncpus)),
        costs_(prof_->costs),
        jitter_(1, "jitter"),
        cm_(topo_, costs_, &jitter_, jitter_pct) {}

  Cycles tr(CpuId a, CpuId b) const { return costs_.transfer[static_cast<std::size_t>(topo_.distance(a, b))]; }
  /// The request leg of a transfer of cost `c` (it overlaps with the line's queue).
  Cycles lead(Cycles c) const { return c * costs_.request_leg_pct / 100; }

  const machine_profile* prof_;
  Topology topo_;
  CostTable costs_;
  Rng jitter_;
  CoherenceModel cm_;
};

// CPU pairs on opteron48 used below.
constexpr CpuId kSameDie = 1;     // from CPU 0
constexpr CpuId kSamePkg = 6;     // from CPU 0
constexpr CpuId kHop1 = 12;       // from CPU 0
constexpr CpuId kHop2 = 24;       // from CPU 0

}  // namespace

TEST_F(CoherenceTest, ProfileNumbersAreWhatTheseTestsAssume) {
  EXPECT_EQ(costs_.hit, 4u);
  EXPECT_EQ(costs_.local_rmw, 20u);
  EXPECT_EQ(costs_.memory, 300u);
  EXPECT_EQ(costs_.inval_per_sharer, 20u);
  EXPECT_EQ(tr(0, kSameDie), 117u);
  EXPECT_EQ(tr(0, kSamePkg), 197u);
  EXPECT_EQ(tr(0, kHop1), 217u);
  EXPECT_EQ(tr(0, kHop2), 300u);
}

TEST_F(CoherenceTest, LinesAreDenseAndStartUncached) {
  EXPECT_EQ(cm_.new_line(), 0u);
  EXPECT_EQ(cm_.new_line(), 1u);
  EXPECT_EQ(cm_.new_line(), 2u);
  EXPECT_EQ(cm_.nlines(), 3u);
  const LineState& l = cm_.line(1);
  EXPECT_EQ(l.owner, kNoCpu);
  EXPECT_EQ(l.nsharers, 0u);
  EXPECT_EQ(l.busy_until, 0u);
  EXPECT_FALSE(cm_.holds(1, 0));
}

TEST_F(CoherenceTest, UncachedAccessesCostAMemoryFetch) {
  const LineId a = cm_.new_line(), b = cm_.new_line(), c = cm_.new_line();
  EXPECT_EQ(cm_.access(a, 3, Access::Load, 1000), 1000 + costs_.memory);
  EXPECT_EQ(cm_.line(a).owner, kNoCpu);
  EXPECT_EQ(cm_.line(a).nsharers, 1u);
  EXPECT_TRUE(cm_.holds(a, 3));

  EXPECT_EQ(cm_.access(b, 3, Access::Store, 1000), 1000 + costs_.memory);
  EXPECT_EQ(cm_.line(b).owner, 3);
  EXPECT_EQ(cm_.line(b).nsharers, 0u);

  EXPECT_EQ(cm_.access(c, 3, Access::Rmw, 1000), 1000 + costs_.memory + costs_.local_rmw);
  EXPECT_EQ(cm_.line(c).owner, 3);
  EXPECT_EQ(cm_.line(c).transfers, 1u);
}

TEST_F(CoherenceTest, LoadHitCostsHit) {
  const LineId l = cm_.new_line();
  const Cycles t1 = cm_.access(l, 0, Access::Load, 0);
  EXPECT_EQ(cm_.access(l, 0, Access::Load, t1 + 50), t1 + 50 + costs_.hit);
  // The owner of an exclusive line hits too.
  const LineId m = cm_.new_line();
  const Cycles t2 = cm_.access(m, 5, Access::Store, 0);
  EXPECT_EQ(cm_.access(m, 5, Access::Load, t2), t2 + costs_.hit);
  EXPECT_EQ(cm_.access(m, 5, Access::Store, t2 + 10), t2 + 10 + costs_.hit);
  EXPECT_EQ(cm_.line(m).transfers, 1u) << "hits are not transfers";
}

TEST_F(CoherenceTest, LoadMissFromAnOwnerCostsTheTransferForTheDistance) {
  const CpuId readers[] = {kSameDie, kSamePkg, kHop1, kHop2};
  for (CpuId r : readers) {
    const LineId l = cm_.new_line();
    cm_.access(l, 0, Access::Store, 0);  // CPU 0 owns it, busy until 300
    EXPECT_EQ(cm_.access(l, r, Access::Load, 10000), 10000 + tr(r, 0)) << "reader " << r;
    // The owner is demoted to a sharer; both now hold read copies.
    EXPECT_EQ(cm_.line(l).owner, kNoCpu);
    EXPECT_EQ(cm_.line(l).nsharers, 2u);
    EXPECT_TRUE(cm_.holds(l, 0));
    EXPECT_TRUE(cm_.holds(l, r));
    EXPECT_FALSE(cm_.holds(l, 47));
  }
}

TEST_F(CoherenceTest, LoadMissFromSharersUsesTheNearestOne) {
  const LineId l = cm_.new_line();
  cm_.access(l, 0, Access::Store, 0);
  cm_.access(l, kHop1, Access::Load, 1000);  // sharers {0, 12}
  // CPU 13 is on CPU 12's die (117) and one hop from CPU 0 (217).
  EXPECT_EQ(cm_.access(l, 13, Access::Load, 5000), 5000 + 117);
  // CPU 25 is two hops from CPU 0 (300), one hop from 12 or 13 (217).
  EXPECT_EQ(cm_.access(l, 25, Access::Load, 6000), 6000 + 217);
  EXPECT_EQ(cm_.line(l).nsharers, 4u);
}

TEST_F(CoherenceTest, StoreToASharedLineCostsFarthestTransferPlusInvalidations) {
  // Sharers {0, 6, 12, 24}; CPU 1 (not a sharer) stores: k = 4 other copies.
  const LineId l = cm_.new_line();
  cm_.access(l, 0, Access::Store, 0);
  cm_.access(l, kSamePkg, Access::Load, 1000);
  cm_.access(l, kHop1, Access::Load, 2000);
  cm_.access(l, kHop2, Access::Load, 3000);
  ASSERT_EQ(cm_.line(l).nsharers, 4u);
  const Cycles far = std::max({tr(1, 0), tr(1, kSamePkg), tr(1, kHop1), tr(1, kHop2)});
  ASSERT_EQ(far, 300u);
  EXPECT_EQ(cm_.access(l, 1, Access::Store, 10000), 10000 + far + costs_.inval_per_sharer * 3);
  EXPECT_EQ(cm_.line(l).owner, 1);
  EXPECT_EQ(cm_.line(l).nsharers, 0u);
  for (CpuId c : {0, kSamePkg, kHop1, kHop2}) EXPECT_FALSE(cm_.holds(l, c)) << c;
  EXPECT_TRUE(cm_.holds(l, 1));
}

TEST_F(CoherenceTest, StoreBySharerCountsOnlyTheOtherCopies) {
  // Sharers {0, 6, 12}; CPU 6 upgrades: k = 2 others, farthest is CPU 12 (217).
  const LineId l = cm_.new_line();
  cm_.access(l, 0, Access::Store, 0);
  cm_.access(l, kSamePkg, Access::Load, 1000);
  cm_.access(l, kHop1, Access::Load, 2000);
  EXPECT_EQ(cm_.access(l, kSamePkg, Access::Store, 10000), 10000 + 217 + costs_.inval_per_sharer * 1);
  EXPECT_EQ(cm_.line(l).owner, kSamePkg);

  // A sole sharer upgrades its copy for the cost of a hit.
  const LineId m = cm_.new_line();
  const Cycles t = cm_.access(m, 7, Access::Load, 0);
  EXPECT_EQ(cm_.access(m, 7, Access::Store, t + 1), t + 1 + costs_.hit);
  EXPECT_EQ(cm_.line(m).owner, 7);
}

TEST_F(CoherenceTest, RmwCosts) {
  const LineId l = cm_.new_line();
  const Cycles t = cm_.access(l, 0, Access::Store, 0);
  // Local RMW on an owned line.
  EXPECT_EQ(cm_.access(l, 0, Access::Rmw, t + 100), t + 100 + costs_.local_rmw);
  // Remote RMW: transfer from the owner plus the atomic itself.
  EXPECT_EQ(cm_.access(l, kHop2, Access::Rmw, 5000), 5000 + tr(kHop2, 0) + costs_.local_rmw);
  EXPECT_EQ(cm_.line(l).owner, kHop2);
  // RMW on a shared line invalidates like a store.
  const LineId s = cm_.new_line();
  cm_.access(s, 0, Access::Store, 0);
  cm_.access(s, kSameDie, Access::Load, 1000);  // sharers {0, 1}
  EXPECT_EQ(cm_.access(s, kHop1, Access::Rmw, 5000),
            5000 + std::max(tr(kHop1, 0), tr(kHop1, kSameDie)) + costs_.inval_per_sharer + costs_.local_rmw);
}

TEST_F(CoherenceTest, LocalRmwHoldsTheLineForItsDuration) {
  const LineId l = cm_.new_line();
  cm_.access(l, 0, Access::Store, 0);  // busy until 300
  const Cycles end = cm_.access(l, 0, Access::Rmw, 1000);
  EXPECT_EQ(end, 1020u);
  EXPECT_GE(cm_.line(l).busy_until, end);
  // A transfer requested during the atomic serialises after it; its request leg
  // (travelling to the holder) overlaps with it.
  const Cycles c = tr(kSameDie, 0);
  EXPECT_EQ(cm_.access(l, kSameDie, Access::Load, 1005), std::max(1005 + lead(c), end) + c - lead(c));
}

TEST_F(CoherenceTest, SimultaneousTransfersOnOneLineQueue) {
  const LineId l = cm_.new_line();
  cm_.access(l, 0, Access::Store, 0);  // busy until 300
  const Cycles t = 10000;
  const Cycles first = cm_.access(l, kHop1, Access::Store, t);
  EXPECT_EQ(first, t + tr(kHop1, 0));
  const Cycles second = cm_.access(l, kHop2, Access::Store, t);
  // The second transfer's reply starts when the first completes (line occupancy); its
  // request leg overlapped with the first, so it adds only the rest of its cost.
  EXPECT_EQ(second, first + tr(kHop2, kHop1) - lead(tr(kHop2, kHop1)));
  EXPECT_GT(second, t + tr(kHop2, kHop1)) << "queued behind the first";
  const Cycles third = cm_.access(l, kSameDie, Access::Store, t);
  EXPECT_EQ(third, second + tr(kSameDie, kHop2) - lead(tr(kSameDie, kHop2)));
  EXPECT_EQ(cm_.line(l).busy_until, third);
  EXPECT_EQ(cm_.line(l).transfers, 4u);
  // A request after the line went quiet does not wait.
  EXPECT_EQ(cm_.access(l, 0, Access::Store, third + 1000), third + 1000 + tr(0, kSameDie));
  // Different lines do not queue on each other.
  const LineId other = cm_.new_line();
  EXPECT_EQ(cm_.access(other, 30, Access::Store, t), t + costs_.memory);
}

TEST_F(CoherenceTest, HitsDoNotWaitForABusyLine) {
  const LineId l = cm_.new_line();
  cm_.access(l, 0, Access::Load, 0);            // CPU 0 shares it
  cm_.access(l, kSameDie, Access::Load, 0);     // CPU 1 shares it
  const Cycles busy = cm_.access(l, kHop2, Access::Load, 500);  // a transfer to 24
  ASSERT_GT(cm_.line(l).busy_until, 600u);
  ASSERT_EQ(cm_.line(l).busy_until, busy);
  // CPU 0 still holds a read copy: its load hits at once, line busy or not.
  EXPECT_EQ(cm_.access(l, 0, Access::Load, 501), 501 + costs_.hit);
  EXPECT_EQ(cm_.line(l).busy_until, busy) << "a hit must not occupy the line";

  // Same for an exclusive owner's store hit.
  const LineId m = cm_.new_line();
  cm_.access(m, 5, Access::Store, 0);  // busy until 300
  EXPECT_EQ(cm_.access(m, 5, Access::Store, 10), 10 + costs_.hit);
  EXPECT_EQ(cm_.access(m, 5, Access::Load, 20), 20 + costs_.hit);
  EXPECT_EQ(cm_.line(m).busy_until, 300u);
}

namespace {
class WideCoherenceTest : public CoherenceTest {
 protected:
  WideCoherenceTest() : CoherenceTest(130) {}
};
class JitterCoherenceTest : public CoherenceTest {
 protected:
  JitterCoherenceTest() : CoherenceTest(48, 10) {}
};
}  // namespace

TEST_F(WideCoherenceTest, SharerSetsSpanSeveralWords) {
  // CPUs 5, 64, 65 and 129 hold copies: three different 64-bit sharer words.
  const LineId l = cm_.new_line();
  for (CpuId c : {5, 64, 65, 129}) cm_.access(l, c, Access::Load, 1000);
  EXPECT_EQ(cm_.line(l).nsharers, 4u);
  for (CpuId c : {5, 64, 65, 129}) EXPECT_TRUE(cm_.holds(l, c)) << c;
  EXPECT_FALSE(cm_.holds(l, 63));
  EXPECT_FALSE(cm_.holds(l, 128));
  // CPU 66 (same socket as 64 and 65 in the second copy) stores: 4 others, farthest
  // are CPUs 5 and 129 in other copies (2 hops).
  EXPECT_EQ(tr(66, 5), 300u);
  EXPECT_EQ(cm_.access(l, 66, Access::Store, 100000), 100000 + 300 + costs_.inval_per_sharer * 3);
  for (CpuId c : {5, 64, 65, 129}) EXPECT_FALSE(cm_.holds(l, c)) << c;
  // A load miss picks the nearest sharer across words: 64 and 65 share CPU 66's socket.
  const LineId m = cm_.new_line();
  for (CpuId c : {5, 65, 129}) cm_.access(m, c, Access::Load, 0);
  EXPECT_EQ(cm_.access(m, 64, Access::Load, 100000), 100000 + tr(64, 65));
}

TEST_F(JitterCoherenceTest, JitterAddsAtMostItsPercentage) {
  bool varied = false;
  Cycles prev = 0;
  for (int i = 0; i < 200; ++i) {
    const LineId l = cm_.new_line();
    const Cycles end = cm_.access(l, 0, Access::Load, 0);
    EXPECT_GE(end, costs_.memory);
    EXPECT_LE(end, costs_.memory + costs_.memory / 10);
    if (i > 0 && end != prev) varied = true;
    prev = end;
  }
  EXPECT_TRUE(varied);
  EXPECT_EQ(cm_.jittered(0), 0u);
  for (int i = 0; i < 100; ++i) {
    const Cycles j = cm_.jittered(1000);
    EXPECT_GE(j, 1000u);
    EXPECT_LE(j, 1100u);
  }
}

TEST(CoherenceJitter, JitterIsDeterministicPerSeed) {
  const machine_profile* p = find_machine_profile("opteron48");
  const Topology t = build_topology(p, 4);
  auto run = [&](std::uint64_t seed) {
    Rng r(seed, "jitter");
    CoherenceModel cm(t, p->costs, &r, 5);
    std::vector<Cycles> out;
    const LineId l = cm.new_line();
    Cycles now = 0;
    for (int i = 0; i < 50; ++i) now = cm.access(l, i % 4, Access::Rmw, now);
    out.push_back(now);
    for (int i = 0; i < 20; ++i) out.push_back(cm.jittered(10000));
    return out;
  };
  EXPECT_EQ(run(1), run(1));
  EXPECT_NE(run(1), run(2));
}
