// KeyedHistory (emu/history.h): the bounded "who last did X to K" record behind the
// two-sided bug reports.
#include <gtest/gtest.h>

#include "emu/history.h"

using smpemu::HistoryKey;
using smpemu::KeyedHistory;

TEST(KeyedHistory, KeepsTheLastRecordOfEachKey) {
  KeyedHistory<int, 64> h;
  EXPECT_EQ(h.get({1, 2}), nullptr);  // nothing allocated yet
  h.put({1, 2}, 10);
  h.put({1, 3}, 20);
  h.put({1, 2}, 11);
  ASSERT_NE(h.get({1, 2}), nullptr);
  EXPECT_EQ(*h.get({1, 2}), 11);
  EXPECT_EQ(*h.get({1, 3}), 20);
  EXPECT_EQ(h.get({2, 1}), nullptr);  // the same numbers in the other order are another key
  h.erase({1, 2});
  EXPECT_EQ(h.get({1, 2}), nullptr);
  EXPECT_EQ(*h.get({1, 3}), 20);
}

TEST(KeyedHistory, IsBoundedAndNeverAnswersForAnotherKey) {
  KeyedHistory<std::uint64_t, 64> h;
  for (std::uint64_t k = 0; k < 1000; ++k) h.put({7, k}, k);
  int kept = 0;
  for (std::uint64_t k = 0; k < 1000; ++k)
    if (const std::uint64_t* r = h.get({7, k})) {
      EXPECT_EQ(*r, k);  // a record found is that key's own
      ++kept;
    }
  EXPECT_LE(kept, 64);
  EXPECT_GT(kept, 16);  // the hash spreads neighbouring keys over the slots
  EXPECT_NE(h.get({7, 999}), nullptr);  // the last put always survives
}
