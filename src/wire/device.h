// A real Ethernet device under one autonic host (issue #10), modelled on smoltcp's phy::Device:
// frames in, frames out, and a file descriptor the host's event loop polls. Backends: a Linux TAP
// (tap_device.cc) and QEMU's dgram netdev (dgram_device.cc). Writes never block: a frame the
// kernel refuses for now (EAGAIN) waits in a bounded queue until the fd is writable again.
#pragma once
#include <deque>
#include <memory>
#include <string>

#include "common/bytes.h"
#include "common/counters.h"

namespace autonic::wire {

struct DeviceStats {
  uint64_t rx_frames = 0, rx_bytes = 0, rx_runts = 0, tx_frames = 0, tx_bytes = 0;
  uint64_t tx_eagain = 0;       // writes the kernel refused for now: queued, sent on POLLOUT
  uint64_t tx_queue_drops = 0;  // the queue was full: dropped (TCP retransmits)
  uint64_t tx_errors = 0;       // other write errors (interface down, peer socket gone)
};

class Device {
 public:
  // Frames shorter than an Ethernet header are counted as runts and never handed up; frames are
  // at most this long (9000-byte MTU + header).
  static constexpr size_t kMaxFrame = 9014 + 4;
  static constexpr size_t kTxQueueFrames = 4096;

  explicit Device(int fd, std::string name);
  virtual ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  // Reads one frame if one is waiting; false when none is (the fd would block).
  bool recv(Bytes& frame);
  // Sends one frame, or queues it while the kernel pushes back.
  void send(Bytes frame);
  // The fd became writable: sends what is queued, as far as the kernel takes it.
  void flush();
  bool tx_pending() const { return !txq_.empty(); }
  const DeviceStats& stats() const { return st_; }
  void export_stats(CounterMap& m) const;

 protected:
  // One datagram / frame out. Returns 0 on success, else the errno (EAGAIN: try again later).
  virtual int write_frame(ByteSpan frame);

 private:
  int fd_;
  std::string name_;
  std::deque<Bytes> txq_;
  DeviceStats st_;
};

// Opens the device a --wire spec names: "tap:IFNAME" or "qemu:DIR". Throws std::runtime_error
// with the reason (and what to do) when it cannot.
std::unique_ptr<Device> open_device(const std::string& spec);

}  // namespace autonic::wire
