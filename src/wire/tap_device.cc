// A Linux TAP device (Documentation/networking/tuntap.rst): IFF_TAP | IFF_NO_PI, so one read or
// write is exactly one Ethernet frame, without the 4-byte packet-information prefix. No
// IFF_VNET_HDR: the kernel then segments and checksums every frame it gives us itself (frames are
// at most MTU + 14 bytes), and checks the checksums of ours -- the NIC model computes them.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "wire/device.h"

namespace autonic::wire {

std::unique_ptr<Device> open_tap(const std::string& ifname) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) throw std::runtime_error("tap: bad interface name '" + ifname + "'");
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error(std::string("tap: cannot open /dev/net/tun: ") + std::strerror(errno) +
                             " (needs root or CAP_NET_ADMIN, and the tun driver)");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    const int e = errno;
    ::close(fd);
    throw std::runtime_error("tap: TUNSETIFF " + ifname + ": " + std::strerror(e) +
                             (e == EBUSY ? " (another process holds it)" : "") +
                             (e == EPERM ? " (needs CAP_NET_ADMIN, or a TAP created for this user)" : ""));
  }
  return std::make_unique<Device>(fd, "tap:" + ifname);
}

}  // namespace autonic::wire
