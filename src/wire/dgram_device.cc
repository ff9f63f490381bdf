// QEMU's `-netdev dgram` over Unix datagram sockets (QEMU 7.2+): one Ethernet frame per datagram,
// no FCS, no padding. We bind DIR/host.sock and send to DIR/qemu.sock, QEMU's local address:
//   -netdev dgram,id=n0,local.type=unix,local.path=DIR/qemu.sock,remote.type=unix,remote.path=DIR/host.sock
// QEMU's socket queue holds about 10 datagrams (net.unix.max_dgram_qlen): sends hit EAGAIN in
// bursts, and Device queues the frame until POLLOUT (a plain sendto() loop loses frames). If QEMU
// is not up yet, sends fail with ECONNREFUSED / ENOENT and count as errors: TCP retransmits.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "wire/device.h"

namespace autonic::wire {
namespace {

sockaddr_un unix_addr(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) throw std::runtime_error("qemu: socket path too long: " + path);
  std::memcpy(a.sun_path, path.data(), path.size());
  return a;
}

class DgramDevice final : public Device {
 public:
  DgramDevice(int fd, const std::string& dir) : Device(fd, "qemu:" + dir), peer_(unix_addr(dir + "/qemu.sock")) {}

 protected:
  int write_frame(ByteSpan frame) override {
    const ssize_t n = ::sendto(fd(), frame.data(), frame.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&peer_),
                               sizeof peer_);
    return n < 0 ? errno : 0;
  }

 private:
  sockaddr_un peer_;
};

}  // namespace

std::unique_ptr<Device> open_qemu_dgram(const std::string& dir) {
  const std::string own = dir + "/host.sock";
  const sockaddr_un a = unix_addr(own);
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("qemu: socket: ") + std::strerror(errno));
  ::unlink(own.c_str());  // a stale socket from an earlier run
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0) {
    const int e = errno;
    ::close(fd);
    throw std::runtime_error("qemu: bind " + own + ": " + std::strerror(e));
  }
  return std::make_unique<DgramDevice>(fd, dir);
}

}  // namespace autonic::wire
