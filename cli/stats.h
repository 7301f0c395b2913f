// Small-sample statistics for `smpemu compare`: is variant B different from variant A
// over N seeds?
//
// Mann-Whitney U (Wilcoxon rank-sum) test, two-sided, normal approximation with tie
// and continuity correction. For samples a (size n1) and b (size n2), n = n1 + n2:
//   rank the pooled sample, tied values get the average of their ranks;
//   R1 = sum of the ranks of a;   U1 = R1 - n1 (n1 + 1) / 2;   U2 = n1 n2 - U1;
//   mu = n1 n2 / 2;
//   sigma^2 = n1 n2 / 12 * ((n + 1) - sum_t (t^3 - t) / (n (n - 1)))
//             where t runs over the sizes of the groups of tied values;
//   z = max(0, |U1 - mu| - 1/2) / sigma;   p = 2 (1 - Phi(z)) = erfc(z / sqrt 2).
// If sigma is 0 (every value equal) the samples cannot be told apart: p = 1.
// References: H. B. Mann and D. R. Whitney, "On a test of whether one of two random
// variables is stochastically larger than the other", Ann. Math. Statist. 18 (1947);
// M. Hollander, D. A. Wolfe, E. Chicken, "Nonparametric Statistical Methods", 3rd ed.,
// section 4.1 (large-sample approximation, ties). The result equals R's
// `wilcox.test(a, b, exact = FALSE, correct = TRUE)` and SciPy's
// `mannwhitneyu(a, b, method="asymptotic")`.
//
// Hodges-Lehmann shift estimate: the median of all n1 n2 differences b_j - a_i (the
// location shift consistent with the rank-sum test; Hollander & Wolfe section 4.2).
//
// Holm-Bonferroni correction (S. Holm, "A simple sequentially rejective multiple test
// procedure", Scand. J. Statist. 6 (1979)): of m p-values sorted ascending,
// p(1) <= ... <= p(m), the adjusted p(i) is max over j <= i of min(1, (m - j + 1) p(j)).
// Calling "significant" every test whose adjusted p is below alpha keeps the chance of
// even one false positive among the m tests at most alpha, whatever their dependence;
// it is uniformly more powerful than plain Bonferroni (m p). Equals R's
// `p.adjust(p, method = "holm")`.
//
// With fewer than about 4 values per side the two-sided p-value cannot reach 0.05; the
// callers report p anyway and let the user add seeds.
//
// Concurrency: pure functions.
#pragma once

#include <cstddef>
#include <vector>

namespace smpemu {

struct MannWhitneyResult {
  double u1 = 0;       ///< U statistic of the first sample (number of pairs with a > b, ties 1/2)
  double u2 = 0;       ///< U statistic of the second sample; u1 + u2 = n1 n2
  double z = 0;        ///< standardized statistic after continuity correction (>= 0)
  double p_value = 1;  ///< two-sided
};

/// Mann-Whitney U test of `a` against `b` (see the file comment). Empty input: p = 1.
MannWhitneyResult mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b);

/// Ranks of `v` in ascending order, 1-based, ties averaged.
std::vector<double> average_ranks(const std::vector<double>& v);

/// Arithmetic mean; 0 for an empty sample.
double mean(const std::vector<double>& v);

/// Sample standard deviation (n - 1 in the denominator); 0 for fewer than two values.
double stddev(const std::vector<double>& v);

/// Hodges-Lehmann estimate of the shift from `a` to `b`: median of b_j - a_i. 0 if empty.
double hodges_lehmann_shift(const std::vector<double>& a, const std::vector<double>& b);

/// Holm-Bonferroni adjusted p-values of `p` (see the file comment), in the order of `p`.
std::vector<double> holm_adjust(const std::vector<double>& p);

/// Standard normal upper tail 1 - Phi(z).
double normal_sf(double z);

}  // namespace smpemu
