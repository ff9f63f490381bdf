// Shared by the fuzz targets: invariant checks that stop the run with a message libFuzzer keeps
// next to the stack, and the seed writer -- a FuzzedDataProvider run backwards -- each target uses
// to emit its seed corpus from the same op encoding it decodes (no second copy of the format).
#pragma once
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "common/bytes.h"

namespace autonic::fuzz {

[[noreturn]] inline void violated(const char* what, const char* file, int line) {
  std::fprintf(stderr, "\n==autonic-fuzz== INVARIANT VIOLATED: %s\n    at %s:%d\n", what, file, line);
  std::fflush(stderr);
  std::abort();  // libFuzzer reports a deadly signal and saves the input as a crash artifact
}

// An oracle: `what` says which property of the code under test broke (not what the harness did).
#define FUZZ_CHECK(cond, what)                                          \
  do {                                                                  \
    if (!(cond)) ::autonic::fuzz::violated(what, __FILE__, __LINE__);   \
  } while (0)

// AUTONIC_FUZZ_TRACE=1: a target prints how deep each input got (to check seeds and coverage
// by hand). Read once; it never changes what an input does.
inline bool trace_on() {
  static const bool on = std::getenv("AUTONIC_FUZZ_TRACE") != nullptr;
  return on;
}

// Builds an input that a FuzzedDataProvider reads back as the given sequence of calls: bytes come
// from the front, integers from the back (most significant byte first, as many bytes as the
// range needs) -- the layout of <fuzzer/FuzzedDataProvider.h>.
class SeedWriter {
 public:
  template <typename T>
  void in_range(T min, T max, T v) {
    static_assert(std::is_integral_v<T>);
    const uint64_t range = uint64_t(max) - uint64_t(min);
    const uint64_t x = uint64_t(v) - uint64_t(min);
    size_t n = 0;
    for (size_t off = 0; off < sizeof(T) * 8 && (range >> off) > 0; off += 8) ++n;
    for (size_t i = 0; i < n; ++i) back_.push_back(uint8_t(x >> (8 * (n - 1 - i))));
  }
  template <typename T>
  void integral(T v) {
    in_range(std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), v);
  }
  void boolean(bool b) { integral<uint8_t>(b ? 1 : 0); }
  void bytes(ByteSpan b) { front_.insert(front_.end(), b.begin(), b.end()); }
  // The input: `prefix` (bytes a target reads before its FuzzedDataProvider), then the rest.
  Bytes finish(ByteSpan prefix = {}) const {
    Bytes out(prefix.begin(), prefix.end());
    out.insert(out.end(), front_.begin(), front_.end());
    out.insert(out.end(), back_.rbegin(), back_.rend());
    return out;
  }

 private:
  Bytes front_, back_;  // back_ in the order the provider consumes it (from the input's end)
};

// Op arguments are structs with `template <class V> void visit(V& v)` listing their fields; the
// Decoder fills them from the input, the Encoder writes a seed that decodes to them. Visits
// consume a fixed sequence of calls whatever the harness state, so a seed means the same ops
// however far an earlier op got.
class Decoder {
 public:
  explicit Decoder(FuzzedDataProvider& in) : in_(in) {}
  template <typename T>
  void range(T& x, T lo, T hi) {
    x = in_.ConsumeIntegralInRange<T>(lo, hi);
  }
  template <typename T>
  void operator()(T& x) {
    if constexpr (std::is_same_v<T, bool>) x = in_.ConsumeBool();
    else x = in_.ConsumeIntegral<T>();
  }
  void bytes(Bytes& b, size_t n) { b = in_.ConsumeBytes<uint8_t>(n); }

 private:
  FuzzedDataProvider& in_;
};

class Encoder {
 public:
  explicit Encoder(SeedWriter& s) : s_(s) {}
  template <typename T>
  void range(T& x, T lo, T hi) {
    s_.in_range<T>(lo, hi, x);
  }
  template <typename T>
  void operator()(T& x) {
    if constexpr (std::is_same_v<T, bool>) s_.integral<uint8_t>(x ? 1 : 0);
    else s_.integral<T>(x);
  }
  void bytes(Bytes& b, size_t n) {
    Bytes c = b;
    c.resize(n, 0);
    s_.bytes(c);
  }

 private:
  SeedWriter& s_;
};

// Inputs made of chunks: a mode byte, then repeated [u16 length, big-endian][bytes] (frames off
// a wire, a stream's deliveries). join_chunks writes one; split_chunks reads one back, a short
// last chunk taking what is left.
inline Bytes join_chunks(uint8_t mode, const std::vector<Bytes>& parts) {
  Bytes in{mode};
  for (const Bytes& p : parts) {
    in.push_back(uint8_t(p.size() >> 8));
    in.push_back(uint8_t(p.size()));
    in.insert(in.end(), p.begin(), p.end());
  }
  return in;
}
inline std::vector<Bytes> split_chunks(ByteSpan d) {
  std::vector<Bytes> out;
  size_t i = 0;
  while (i + 2 <= d.size()) {
    const size_t len = std::min<size_t>(size_t(d[i]) << 8 | d[i + 1], d.size() - i - 2);
    out.emplace_back(d.begin() + ptrdiff_t(i + 2), d.begin() + ptrdiff_t(i + 2 + len));
    i += 2 + len;
  }
  return out;
}

struct Seed {
  std::string name;
  Bytes data;
};

// Called from LLVMFuzzerInitialize (which libFuzzer runs before it parses its own flags):
// `fuzz_<t> -write_seeds=DIR` writes the target's seeds to DIR and exits, instead of fuzzing.
template <typename MakeSeeds>
void maybe_write_seeds(int* argc, char*** argv, MakeSeeds make) {
  static constexpr char kFlag[] = "-write_seeds=";
  for (int i = 1; i < *argc; ++i) {
    const char* a = (*argv)[i];
    if (std::strncmp(a, kFlag, sizeof kFlag - 1) != 0) continue;
    const std::string dir = a + sizeof kFlag - 1;
    for (const Seed& s : make()) {
      const std::string path = dir + "/" + s.name;
      std::ofstream f(path, std::ios::binary | std::ios::trunc);
      f.write(reinterpret_cast<const char*>(s.data.data()), std::streamsize(s.data.size()));
      if (!f) {
        std::fprintf(stderr, "cannot write %s\n", path.c_str());
        std::exit(1);
      }
      std::printf("%s (%zu bytes)\n", path.c_str(), s.data.size());
    }
    std::exit(0);
  }
}

}  // namespace autonic::fuzz
