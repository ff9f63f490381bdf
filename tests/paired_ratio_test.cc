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

using autonic::cli::judge;
using autonic::cli::median_interval;
using autonic::cli::Paired;
using autonic::cli::Verdict;

// The sign-test interval: the k-th pairs from each end, k the largest with P(Binomial(n, 1/2)
// <= k-1) <= 2.5 %, coverage 1 - 2 P(X <= k-1). Values worked by hand from the binomial table.
TEST(PairedRatio, MedianIntervalIsTheSignTestInterval) {
  EXPECT_EQ(median_interval(12).k, 3u);  // P(X <= 2) = 79/4096 = 1.9 %, P(X <= 3) = 299/4096 = 7.3 %
  EXPECT_NEAR(median_interval(12).coverage, 1 - 2 * 79.0 / 4096, 1e-12);
  EXPECT_EQ(median_interval(9).k, 2u);  // P(X <= 1) = 10/512 = 2.0 %
  EXPECT_NEAR(median_interval(9).coverage, 1 - 2 * 10.0 / 512, 1e-12);
  EXPECT_EQ(median_interval(7).k, 1u);  // P(X <= 1) = 8/128 = 6.3 %: only the extremes
  EXPECT_NEAR(median_interval(7).coverage, 1 - 2 / 128.0, 1e-12);
  EXPECT_EQ(median_interval(5).k, 1u);  // no 95 % interval from 5 pairs: the extremes, 93.75 %
  EXPECT_NEAR(median_interval(5).coverage, 0.9375, 1e-12);
  EXPECT_NEAR(median_interval(1).coverage, 0, 1e-12);
  EXPECT_NEAR(median_interval(0).coverage, 0, 1e-12);
  // Large n (bench --reps up to 1000): k near n/2 - 1.96 sqrt(n)/2, coverage just above 95 %.
  const auto big = median_interval(1000);
  EXPECT_GE(big.k, 468u);
  EXPECT_LE(big.k, 470u);
  EXPECT_GE(big.coverage, 0.95);
  EXPECT_LT(big.coverage, 0.96);
}

TEST(PairedRatio, IntervalComesFromTheSortedPairsAndJudgesGoals) {
  Runs runs;
  for (int i = 0; i < 12; ++i) {
    runs[{"tcp", 16384}].push_back({1.0, 1.0});
    runs[{"offload", 16384}].push_back({1.0 + 0.01 * (11 - i), 2.0});  // pairs 1.00 .. 1.11, given in reverse
  }
  const Paired tx = paired(runs, "offload", "tcp", 16384, true);
  EXPECT_EQ(tx.n, 12u);
  EXPECT_NEAR(tx.ci_lo, 1.02, 1e-9);  // the 3rd lowest
  EXPECT_NEAR(tx.ci_hi, 1.09, 1e-9);  // the 3rd highest
  EXPECT_NEAR(tx.med, 1.055, 1e-9);
  EXPECT_EQ(judge(tx, 1.10, true), Verdict::kMet);     // all of 1.02-1.09 at most 1.10
  EXPECT_EQ(judge(tx, 1.05, true), Verdict::kOpen);    // straddles
  EXPECT_EQ(judge(tx, 1.01, true), Verdict::kNotMet);  // all above
  EXPECT_EQ(judge(tx, 1.00, false), Verdict::kMet);    // at least 1.00
  EXPECT_EQ(judge(tx, 1.05, false), Verdict::kOpen);
  EXPECT_EQ(judge(tx, 1.10, false), Verdict::kNotMet);
  const Paired rx = paired(runs, "offload", "tcp", 16384, false);
  EXPECT_NEAR(rx.ci_lo, 2.0, 1e-9);
  EXPECT_NEAR(rx.ci_hi, 2.0, 1e-9);
  EXPECT_EQ(judge(paired(runs, "offload", "none", 16384, true), 1.10, true), Verdict::kOpen);  // no pairs
  // Five pairs, all far below the limit: their interval covers the median only 93.75 % of the time.
  Runs few;
  for (int i = 0; i < 5; ++i) {
    few[{"tcp", 2048}].push_back({1.0, 1.0});
    few[{"offload", 2048}].push_back({0.5, 0.5});
  }
  EXPECT_EQ(judge(paired(few, "offload", "tcp", 2048, true), 1.15, true), Verdict::kOpen);
  few[{"tcp", 2048}].push_back({1.0, 1.0});  // a sixth: 96.9 %
  few[{"offload", 2048}].push_back({0.5, 0.5});
  EXPECT_EQ(judge(paired(few, "offload", "tcp", 2048, true), 1.15, true), Verdict::kMet);
}
