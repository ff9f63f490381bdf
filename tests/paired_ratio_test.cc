// bench tls (b)'s ratios: the median of per-repetition pairs, never a ratio of two minimums.
#include "cli/paired_ratio.h"

#include <gtest/gtest.h>

using autonic::cli::paired;
using autonic::cli::Runs;

TEST(PairedRatio, MedianOfPairsMadeSideBySide) {
  Runs runs;
  // Repetition 1 ran in a slow spell for both modes: its pair still says 1.1. The minimums
  // (0.10 for tcp from repetition 0, 0.12 for the offload from repetition 2) would say 1.2.
  runs[{"tcp", 16384}] = {{0.10, 0.20}, {0.20, 0.40}, {0.11, 0.22}};
  runs[{"offload", 16384}] = {{0.13, 0.26}, {0.22, 0.44}, {0.12, 0.24}};
  const auto tx = paired(runs, "offload", "tcp", 16384, true);
  EXPECT_NEAR(tx.med, 1.1, 1e-9);
  EXPECT_NEAR(tx.lo, 0.12 / 0.11, 1e-9);
  EXPECT_NEAR(tx.hi, 1.3, 1e-9);
  const auto rx = paired(runs, "offload", "tcp", 16384, false);
  EXPECT_NEAR(rx.med, 1.1, 1e-9);
}

TEST(PairedRatio, EvenCountAveragesTheMiddlePairsAndMissingModesGiveZero) {
  Runs runs;
  runs[{"a", 2048}] = {{1, 1}, {2, 1}, {3, 1}, {4, 1}};
  runs[{"b", 2048}] = {{1, 1}, {1, 1}, {1, 1}, {1, 0}};  // a zero denominator is left out
  const auto p = paired(runs, "a", "b", 2048, true);
  EXPECT_DOUBLE_EQ(p.med, 2.5);
  EXPECT_DOUBLE_EQ(paired(runs, "a", "b", 2048, false).med, 1);  // pairs 1/1, 1/1, 1/1 (1/0 left out)
  EXPECT_DOUBLE_EQ(paired(runs, "a", "c", 2048, true).med, 0);
  EXPECT_DOUBLE_EQ(paired(runs, "a", "b", 4096, true).hi, 0);
}
