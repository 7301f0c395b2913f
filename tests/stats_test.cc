// Statistics for `smpemu compare` (cli/stats.h) against values computed by hand from the
// textbook formulas (Hollander & Wolfe, section 4.1) and, for the first case, against
// R: wilcox.test(1:5, 6:10, exact = FALSE) prints "W = 0, p-value = 0.01219".
#include <gtest/gtest.h>

#include <cmath>

#include "cli/stats.h"

using namespace smpemu;

TEST(Stats, AverageRanksShareTies) {
  EXPECT_EQ(average_ranks({10, 30, 20}), (std::vector<double>{1, 3, 2}));
  // 1 2 2 2 3 3 4 5: the three 2s share ranks 2..4 -> 3, the two 3s share 5..6 -> 5.5.
  EXPECT_EQ(average_ranks({3, 2, 5, 2, 1, 4, 3, 2}), (std::vector<double>{5.5, 3, 8, 3, 1, 7, 5.5, 3}));
  EXPECT_TRUE(average_ranks({}).empty());
}

TEST(Stats, MannWhitneyCompletelySeparatedSamples) {
  // U1 = 0, U2 = 25, mu = 12.5, sigma^2 = 25 * 11 / 12 = 22.9167, z = (12.5 - 0.5) / 4.7871.
  const MannWhitneyResult r = mann_whitney_u({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
  EXPECT_DOUBLE_EQ(r.u1, 0);
  EXPECT_DOUBLE_EQ(r.u2, 25);
  EXPECT_NEAR(r.z, 2.506718, 1e-6);
  EXPECT_NEAR(r.p_value, 0.012186, 1e-6);
  // Two-sided: swapping the samples swaps U, not p.
  const MannWhitneyResult s = mann_whitney_u({6, 7, 8, 9, 10}, {1, 2, 3, 4, 5});
  EXPECT_DOUBLE_EQ(s.u1, 25);
  EXPECT_DOUBLE_EQ(s.p_value, r.p_value);
}

TEST(Stats, MannWhitneyWithTies) {
  // a = {1,2,2,3}, b = {2,3,4,5}: ranks of a 1 + 3 + 3 + 5.5 = 12.5, U1 = 12.5 - 10 = 2.5;
  // ties: one group of 3 and one of 2, sum t^3 - t = 24 + 6 = 30;
  // sigma^2 = 16/12 * (9 - 30/56) = 11.2857; z = (|2.5 - 8| - 0.5) / 3.35942 = 1.48835.
  const MannWhitneyResult r = mann_whitney_u({1, 2, 2, 3}, {2, 3, 4, 5});
  EXPECT_DOUBLE_EQ(r.u1, 2.5);
  EXPECT_DOUBLE_EQ(r.u2, 13.5);
  EXPECT_NEAR(r.z, 1.488351, 1e-6);
  EXPECT_NEAR(r.p_value, 0.136658, 1e-6);

  // a = {3,4,2,6,2,5}, b = {9,7,5,10,6,8}: U1 = 2 (ties at 5 and 6 count 1/2 each),
  // sum t^3 - t = 6 * 3 = 18, sigma^2 = 36/12 * (13 - 18/132) = 38.591, z = 2.49511.
  const MannWhitneyResult t = mann_whitney_u({3, 4, 2, 6, 2, 5}, {9, 7, 5, 10, 6, 8});
  EXPECT_DOUBLE_EQ(t.u1, 2);
  EXPECT_NEAR(t.z, 2.495107, 1e-6);
  EXPECT_NEAR(t.p_value, 0.012592, 1e-6);

  // Unequal sizes, no ties: a = {19,22,16,29,24}, b = {20,11,17,12}: U1 = 17, z = 1.59217.
  const MannWhitneyResult u = mann_whitney_u({19, 22, 16, 29, 24}, {20, 11, 17, 12});
  EXPECT_DOUBLE_EQ(u.u1, 17);
  EXPECT_DOUBLE_EQ(u.u2, 3);
  EXPECT_NEAR(u.p_value, 0.111347, 1e-6);
}

TEST(Stats, MannWhitneyDegenerateCases) {
  EXPECT_DOUBLE_EQ(mann_whitney_u({}, {1, 2}).p_value, 1.0);
  EXPECT_DOUBLE_EQ(mann_whitney_u({4, 4, 4}, {4, 4}).p_value, 1.0);  // sigma = 0
  EXPECT_DOUBLE_EQ(mann_whitney_u({1, 2, 3}, {1, 2, 3}).p_value, 1.0);  // |U - mu| = 0
  // Three against three can never reach p < 0.05 with the normal approximation.
  EXPECT_GT(mann_whitney_u({1, 2, 3}, {4, 5, 6}).p_value, 0.05);
}

TEST(Stats, HolmBonferroniAsR) {
  // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") is 0.03 0.06 0.06 0.02: sorted,
  // 4 x 0.005, 3 x 0.01, 2 x 0.03, then 1 x 0.04 raised to the running maximum 0.06.
  const std::vector<double> adj = holm_adjust({0.01, 0.04, 0.03, 0.005});
  ASSERT_EQ(adj.size(), 4u);
  EXPECT_NEAR(adj[0], 0.03, 1e-12);
  EXPECT_NEAR(adj[1], 0.06, 1e-12);
  EXPECT_NEAR(adj[2], 0.06, 1e-12);
  EXPECT_NEAR(adj[3], 0.02, 1e-12);
  EXPECT_EQ(holm_adjust({0.5, 0.9}), (std::vector<double>{1.0, 1.0}));  // capped at 1
  EXPECT_EQ(holm_adjust({0.02}), (std::vector<double>{0.02}));        // one test: unchanged
  EXPECT_TRUE(holm_adjust({}).empty());
}

TEST(Stats, MeanStddevHodgesLehmann) {
  EXPECT_DOUBLE_EQ(mean({2, 4, 4, 4, 5, 5, 7, 9}), 5);
  EXPECT_NEAR(stddev({2, 4, 4, 4, 5, 5, 7, 9}), std::sqrt(32.0 / 7), 1e-12);
  EXPECT_DOUBLE_EQ(stddev({3}), 0);
  EXPECT_DOUBLE_EQ(mean({}), 0);
  // b - a over all pairs: 3 2 1 5 4 3 -> sorted 1 2 3 3 4 5, median 3.
  EXPECT_DOUBLE_EQ(hodges_lehmann_shift({1, 2, 3}, {4, 6}), 3);
  EXPECT_DOUBLE_EQ(hodges_lehmann_shift({0}, {1, 2, 10}), 2);
  EXPECT_NEAR(normal_sf(1.959964), 0.025, 1e-6);
}
