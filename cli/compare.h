// Comparing two variants of one workload over many seeds (`smpemu compare`).
//
// Variant A and variant B are the base configuration with their own "K=V,..." settings
// applied (apply_settings_list: engine parameters or workload knobs). Each runs on the
// seeds seed_base .. seed_base+seeds-1. Per histogram the comparison reports the
// per-seed p50/p99/max and the histogram merged over all seeds of a variant
// (p50/p90/p99/p99.9/max, exact merge), the B/A ratios of the merged p99 and max, and
// Mann-Whitney U p-values (cli/stats.h) of the per-seed p99 and max values. Per metric it
// reports the mean and sample standard deviation over seeds, B/A ratio of the means, the
// Hodges-Lehmann shift and the Mann-Whitney p-value of the per-seed values. With
// RunConfig::wait_profile (--wait-profile) the runs add the blocked.* and spin.* metrics
// of traces/wait_profile.h; such a key absent from a run that has the profile was zero
// there and counts as 0.
//
// Many tests at once: a comparison makes one test per metric and two per histogram
// (p99, max), often dozens, so at p < 0.05 some would come out "significant" by chance
// alone. Every p-value of a comparison is therefore also adjusted with Holm-Bonferroni
// over all its tests (cli/stats.h), and `significant` means adjusted p < 0.05 (for a
// histogram: of its p99 or of its max). The unadjusted p-values are reported as well.
//
// Invariants: the result depends only on (binary, configurations, seeds, seed_base);
// runs land in a slot per (variant, seed) and are folded in seed order, so `jobs` and
// completion order change nothing but host_seconds. A histogram missing from a seed's
// run counts as empty there (p50 = p99 = max = 0); a histogram missing from every run of
// a variant is absent on that side (no ratio, no p-value). Ratios with a zero
// denominator are absent (JSON null).
//
// Concurrency: run_compare() runs on `jobs` host threads (cli/parallel.h), each with its
// own StackPool; the progress callback runs on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/runner.h"
#include "cli/stats.h"

namespace smpemu {

/// p-values below this are reported as significant.
constexpr double kSignificance = 0.05;

struct CompareOptions {
  RunConfig base;         ///< workload and shared options; seed is ignored
  std::string a, b;       ///< "K=V,..." settings of the two variants
  std::uint64_t seeds = 10;
  std::uint64_t seed_base = 1;
  unsigned jobs = 1;
  double run_seconds = 60;  ///< host-time limit per run (0: none); see kCampaignRunSeconds
  /// Progress (calling thread): runs done, runs in total, seconds.
  std::function<void(std::uint64_t, std::uint64_t, double)> progress;
};

/// One variant's view of one histogram.
struct HistogramSide {
  bool present = false;               ///< recorded a sample in at least one seed
  Histogram merged;                   ///< every seed's samples
  std::vector<double> p50, p99, max;  ///< per seed, in seed order
};

struct HistogramComparison {
  HistogramSide a, b;
  std::optional<double> ratio_p99, ratio_max;  ///< merged B / merged A
  std::optional<MannWhitneyResult> test_p99, test_max;  ///< per-seed values, both sides present
  std::optional<double> holm_p99, holm_max;  ///< Holm-adjusted p-values (set with the tests)
  bool significant = false;
};

struct MetricComparison {
  std::vector<double> a, b;  ///< per seed (seeds that reported the metric), in seed order
  double a_mean = 0, b_mean = 0, a_stddev = 0, b_stddev = 0;
  std::optional<double> ratio;  ///< b_mean / a_mean
  double shift_hl = 0;          ///< Hodges-Lehmann estimate of B - A
  std::optional<MannWhitneyResult> test;
  std::optional<double> holm;  ///< Holm-adjusted p-value (set with the test)
  bool significant = false;
};

struct CompareResult {
  std::string workload;
  std::string a_settings, b_settings;
  RunConfig a, b;  ///< the variants' configurations (seed = seed_base)
  std::uint64_t seeds = 0, seed_base = 0;
  unsigned jobs = 1;
  std::map<std::string, HistogramComparison> histograms;
  std::map<std::string, MetricComparison> metrics;
  std::uint64_t bugs_a = 0, bugs_b = 0;  ///< runs with at least one bug report
  /// Runs that reached --max-cycles, and runs stopped by the host-time limit (left out
  /// of every statistic: where they stopped depends on the host).
  std::uint64_t time_limited_a = 0, time_limited_b = 0, host_limited_a = 0, host_limited_b = 0;
  double host_seconds = 0;
  std::size_t tests = 0;  ///< p-values in the Holm-Bonferroni family

  double runs_per_second() const {
    return host_seconds > 0 ? static_cast<double>(2 * seeds) / host_seconds : 0.0;
  }
};

/// Builds both variants' configurations and checks them. Throws ConfigError, also for a
/// variant that sets `seed` (compare runs both on the same seeds) or a key twice.
void compare_configs(const CompareOptions& opt, RunConfig& a, RunConfig& b);

/// Runs both variants over the seeds and compares them. Throws ConfigError.
CompareResult run_compare(const CompareOptions& opt);

/// Sets every `holm*` field, `tests` and `significant` of `r` from its tests (the p-values
/// of every metric and histogram that has them, as one family). run_compare() calls it.
void adjust_for_multiple_tests(CompareResult& r);

/// The `--json` object (docs/USAGE.md, "Comparing variants").
nlohmann::json compare_to_json(const CompareResult& r);

/// Side-by-side text table.
std::string compare_to_text(const CompareResult& r);

}  // namespace smpemu
