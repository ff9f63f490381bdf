// Unit tests for common helpers: checksum, sequence arithmetic, CLI value parsing.
#include <gtest/gtest.h>

#include "cli/parse.h"
#include "common/inet_csum.h"
#include "common/rng.h"
#include "common/tcp_seq.h"

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
