#include "nic/tso.h"

#include <algorithm>
#include <cstring>

#include "common/buf_pool.h"
#include "common/inet_csum.h"

namespace autonic::nic {

namespace {
constexpr uint8_t kFin = 0x01, kPsh = 0x08, kCwr = 0x80;
}  // namespace

void tso_segment(const Bytes& frame, const TcpFrameView& v, size_t mss, const std::function<void(Bytes)>& emit) {
  const size_t hdr = v.payload_off;  // Ethernet + IPv4 + TCP (with options)
  const uint8_t flags = v.tcp_flags;
  const uint16_t ip_id = load_be16(&frame[v.ip_off + 4]);
  size_t done = 0, i = 0;
  while (done < v.payload_len) {
    const size_t n = std::min(mss, v.payload_len - done);
    const bool first = done == 0, last = done + n == v.payload_len;
    Bytes f = frame_pool().take();  // (recycled: common/buf_pool.h)
    f.resize(hdr + n);
    std::memcpy(f.data(), frame.data(), hdr);
    std::memcpy(f.data() + hdr, frame.data() + hdr + done, n);
    uint8_t* ip = f.data() + v.ip_off;
    store_be16(ip + 2, uint16_t(hdr - v.ip_off + n));
    store_be16(ip + 4, uint16_t(ip_id + i));  // consecutive IDs, as Linux's TSO emits them
    ipv4_set_header_checksum(ip);
    uint8_t* tcp = f.data() + v.tcp_off;
    store_be32(tcp + 4, uint32_t(v.seq.raw() + done));
    tcp[13] = uint8_t(flags & ~(last ? 0 : (kFin | kPsh)) & ~(first ? 0 : kCwr));
    emit(std::move(f));
    done += n;
    ++i;
  }
}

}  // namespace autonic::nic
