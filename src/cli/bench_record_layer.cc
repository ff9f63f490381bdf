#include "cli/bench_record_layer.h"

#include <x86intrin.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "l5p/tls/tls_rx.h"
#include "l5p/tls/tls_tx.h"

namespace autonic::cli {
namespace {

using namespace l5p::tls;

constexpr size_t kStream = 1u << 20;  // content bytes a pass: in the L2 with its copy
constexpr size_t kPiece = 1448, kRecvPieces = 45, kWrite = 256 * 1024, kTcpWrite = 64 * 1024;

TrafficKeys keys() {
  TrafficKeys k;
  k.cipher = Cipher::kAes128Gcm;
  k.key.assign(16, 0x5c);  // never used: the NIC "decrypted" every record, the offload seals none
  return k;
}

// TCP's side of the send path reduced to taking the bytes (the map lends them, as to lwIP).
class CountingWriter final : public l5p::TxMsgMap::Writer {
 public:
  size_t room() override { return 1u << 20; }
  size_t write(const uint8_t*, size_t n, bool) override {
    total += n;
    return n;
  }
  void flush() override {}
  uint64_t total = 0;
};

// The copies the baselines make, through the C library as lwIP's pbuf_copy_partial and
// tcp_write make them (MEMCPY is memcpy): called through a pointer the compiler cannot see
// through, so it does not expand a copy of known bounds inline (with the 1448-byte bound, gcc -O3
// made it `rep movsq`) -- the record layer's own copies are the library's too.
void* (*volatile lib_memcpy)(void*, const void*, size_t) = std::memcpy;

}  // namespace

Bytes offload_records(size_t count, uint32_t record) {
  Bytes s;
  const uint16_t len = uint16_t(record + 1 + kTagLen);
  for (size_t i = 0; i < count; ++i) {
    const uint8_t h[] = {23, 3, 3, uint8_t(len >> 8), uint8_t(len)};
    s.insert(s.end(), h, h + kHeaderLen);
    s.resize(s.size() + record, uint8_t(i));
    s.push_back(uint8_t(ContentType::kApplicationData));
    s.resize(s.size() + kTagLen, 0);
  }
  return s;
}

RecordLayerCycles measure_record_layer(uint32_t record, int rounds) {
  RecordLayerCycles c;
  c.record = record;
  const double records = double(kStream / record);
  const Bytes wire = offload_records(kStream / record, record);  // as the RX NIC leaves them
  Bytes sink(kRecvPieces * kPiece);
  uint64_t got = 0;
  TlsStats st;
  TlsRx rx(keys(), st, [&](ByteSpan d, bool) { got += d.size(); }, [](TcpSeq, bool, uint64_t, TcpSeq) {});
  rx.start(TcpSeq(0));
  TlsTx tx(keys(), TxMode::kOffload, record, 0, 0, st);
  tx.start(TcpSeq(0));
  CountingWriter w;
  const Bytes app(kWrite, 0xa5);
  Bytes tcp_buf(kTcpWrite);
  uint64_t best[4] = {~0ull, ~0ull, ~0ull, ~0ull};
  for (int r = 0; r < rounds; ++r) {
    const uint64_t t0 = __rdtsc();
    for (size_t off = 0; off < wire.size();) {
      for (size_t p = 0; p < kRecvPieces && off < wire.size(); ++p) {
        const size_t n = std::min(kPiece, wire.size() - off);
        if (rx.input(ByteSpan(wire.data() + off, n), true, false, false, /*batch=*/true))
          throw std::runtime_error("bench tls (c): the record layer refused a record");
        off += n;
      }
      rx.flush();
    }
    const uint64_t t1 = __rdtsc();
    for (size_t off = 0; off < wire.size();) {
      size_t at = 0;
      for (size_t p = 0; p < kRecvPieces && off < wire.size(); ++p) {
        const size_t n = std::min(kPiece, wire.size() - off);
        lib_memcpy(sink.data() + at, wire.data() + off, n);
        at += n;
        off += n;
      }
      asm volatile("" : : "r"(sink.data()) : "memory");
    }
    const uint64_t t2 = __rdtsc();
    for (size_t done = 0; done < kStream; done += kWrite) {
      for (size_t off = 0; off < kWrite;) {
        const size_t took = tx.queue(ByteSpan(app).subspan(off));
        // Acknowledged one pump behind: a window stays in flight, so the map is never idle and
        // the arena recycles its chunks, as in a bulk transfer (acknowledging everything at once
        // would free them every time).
        tx.on_acked(TcpSeq(uint32_t(w.total)));
        tx.pump(w);
        if (took == 0) throw std::runtime_error("bench tls (c): the record layer took nothing");
        off += took;
      }
    }
    const uint64_t t3 = __rdtsc();
    for (size_t done = 0; done < kStream; done += kWrite) {
      for (size_t off = 0; off < kWrite; off += kTcpWrite) {
        lib_memcpy(tcp_buf.data(), app.data() + off, kTcpWrite);
        asm volatile("" : : "r"(tcp_buf.data()) : "memory");
      }
    }
    const uint64_t t4 = __rdtsc();
    const uint64_t d[4] = {t1 - t0, t2 - t1, t3 - t2, t4 - t3};
    for (int i = 0; i < 4; ++i) best[i] = std::min(best[i], d[i]);
  }
  if (got != uint64_t(rounds) * (kStream / record) * record || st.rx_tls_msgs_full != st.rx_tls_records)
    throw std::runtime_error("bench tls (c): the record layer lost or re-opened records");
  c.rx_tls = double(best[0]) / records;
  c.rx_copy = double(best[1]) / records;
  c.tx_tls = double(best[2]) / records;
  c.tx_copy = double(best[3]) / records;
  return c;
}

}  // namespace autonic::cli
