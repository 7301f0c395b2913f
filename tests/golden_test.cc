// Golden digests: each configuration in tests/golden/configs.txt must give the digest
// recorded in tests/golden/digests.txt, in every build type (CI also runs the Debug
// binary through scripts/check_debug_release.sh). A deliberate model change updates the
// file with `scripts/check_debug_release.sh --update`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.h"

using smpemu::testing::run_smpemu;
using smpemu::testing::slurp;

TEST(Golden, DigestsMatchTheRecordedOnes) {
  std::istringstream golden(slurp(std::string(SMPEMU_SOURCE_DIR) + "/tests/golden/digests.txt"));
  std::string line;
  int checked = 0;
  while (std::getline(golden, line)) {
    if (line.empty()) continue;
    const std::string want = line.substr(0, 16);
    const std::string args = line.substr(17);
    const auto e = run_smpemu("run " + args + " --json");
    // Some configurations report bugs (exit 1): their digest covers the reports too.
    ASSERT_TRUE(e.status == 0 || e.status == 1) << args << ": exit " << e.status << ": " << e.err;
    EXPECT_EQ(nlohmann::json::parse(e.out)["digest"], want) << args;
    ++checked;
  }
  EXPECT_GE(checked, 10);
}
