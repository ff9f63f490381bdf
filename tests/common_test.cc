// Unit tests for common helpers: checksum, sequence arithmetic, CLI value parsing, Fifo.
#include <gtest/gtest.h>

#include "cli/parse.h"
#include "common/fifo.h"
#include "common/inet_csum.h"
#include "common/rng.h"
#include "common/tcp_seq.h"

#include <deque>
#include <memory>

using namespace autonic;

// Reference RFC 1071 sum, 16 bits at a time.
static uint16_t ref_csum(const uint8_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += uint32_t(p[i]) << 8 | p[i + 1];
  if (n & 1) s += uint32_t(p[n - 1]) << 8;
  while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
  return uint16_t(s);
}

TEST(InetCsum, MatchesReferenceForAllLengthsAndAlignments) {
  Rng rng(42, 1);
  uint8_t buf[300];
  for (auto& b : buf) b = uint8_t(rng.next());
  for (size_t off = 0; off < 8; ++off)
    for (size_t n = 0; n < 280; ++n)
      ASSERT_EQ(csum_fold(csum_partial(buf + off, n, 0)), ref_csum(buf + off, n))
          << "offset " << off << " length " << n;
}

TEST(TcpSeq, WrapAwareCompare) {
  const TcpSeq a(0xFFFFFFF0u), b = a + 0x20;
  EXPECT_TRUE(a < b);
  EXPECT_TRUE(b > a);
  EXPECT_EQ(b - a, 0x20);
  EXPECT_EQ(b.raw(), 0x10u);
}

TEST(CliParse, Sizes) {
  EXPECT_EQ(cli::parse_size("64M"), 64ull << 20);
  EXPECT_EQ(cli::parse_size("16K"), 16384u);
  EXPECT_EQ(cli::parse_size("1G"), 1ull << 30);
  EXPECT_EQ(cli::parse_size("100"), 100u);
  EXPECT_FALSE(cli::parse_size("12Q"));
  EXPECT_FALSE(cli::parse_size("-1"));
  EXPECT_FALSE(cli::parse_size(""));
}

TEST(CliParse, UnsignedIntegers) {
  EXPECT_EQ(cli::parse_uint("0"), 0u);
  EXPECT_EQ(cli::parse_uint("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(cli::parse_uint("18446744073709551616"));  // 2^64: no wrap to 0
  EXPECT_FALSE(cli::parse_uint("-1"));                    // strtoull would say 2^64 - 1
  EXPECT_FALSE(cli::parse_uint("+1"));
  EXPECT_FALSE(cli::parse_uint("1e3"));
  EXPECT_FALSE(cli::parse_uint(""));
  EXPECT_FALSE(cli::parse_uint(" 1"));
  EXPECT_EQ(cli::parse_uint("9000", 576, 9000), 9000u);
  EXPECT_FALSE(cli::parse_uint("70000", 576, 9000));  // was accepted and wrapped to 4464 as a u16
  EXPECT_FALSE(cli::parse_uint("575", 576, 9000));
}

TEST(CliParse, Probabilities) {
  EXPECT_DOUBLE_EQ(*cli::parse_prob("2%"), 0.02);
  EXPECT_DOUBLE_EQ(*cli::parse_prob("0.02"), 0.02);
  EXPECT_FALSE(cli::parse_prob("150%"));
  EXPECT_FALSE(cli::parse_prob("x"));
}

// Fifo against std::deque: the same entries in the same order through growth and wrap-around
// (pushes and pops interleaved so the ring's head runs past the end of its array many times),
// and what a popped entry owned is released at the pop.
TEST(Fifo, KeepsOrderThroughGrowthAndWrapAndReleasesAtPop) {
  Fifo<std::shared_ptr<int>> f;
  std::deque<int> ref;
  Rng rng(7, 1);
  int next = 0;
  std::weak_ptr<int> popped;
  for (int step = 0; step < 20000; ++step) {
    if (rng.next() % 3 != 0 || ref.empty()) {
      f.push_back(std::make_shared<int>(next));
      ref.push_back(next++);
    } else {
      popped = f.front();
      f.pop_front();
      ref.pop_front();
      ASSERT_TRUE(popped.expired()) << "step " << step << ": the popped entry is still held";
    }
    ASSERT_EQ(f.size(), ref.size()) << "step " << step;
    if (!ref.empty()) {
      ASSERT_EQ(*f.front(), ref.front()) << "step " << step;
      ASSERT_EQ(*f.back(), ref.back()) << "step " << step;
      const size_t k = size_t(rng.next()) % ref.size();
      ASSERT_EQ(*f[k], ref[k]) << "step " << step << " index " << k;
    }
  }
  while (!ref.empty()) {
    ASSERT_EQ(*f.front(), ref.front());
    f.pop_front();
    ref.pop_front();
  }
  EXPECT_TRUE(f.empty());
  f.release_if_empty();
  f.push_back(std::make_shared<int>(1));  // usable again after letting go of its array
  EXPECT_EQ(*f.front(), 1);
  EXPECT_EQ(f.size(), 1u);
}
