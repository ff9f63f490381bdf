#include "wire/device.h"

#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace autonic::wire {

std::unique_ptr<Device> open_tap(const std::string& ifname);
std::unique_ptr<Device> open_qemu_dgram(const std::string& dir);

Device::Device(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

Device::~Device() {
  if (fd_ >= 0) ::close(fd_);
}

bool Device::recv(Bytes& frame) {
  for (;;) {
    frame.resize(kMaxFrame);
    const ssize_t n = ::read(fd_, frame.data(), frame.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;  // EAGAIN, or an error poll() will keep reporting: nothing to hand up
    }
    if (size_t(n) < 14) {
      ++st_.rx_runts;
      continue;
    }
    frame.resize(size_t(n));
    ++st_.rx_frames;
    st_.rx_bytes += size_t(n);
    return true;
  }
}

int Device::write_frame(ByteSpan frame) {
  const ssize_t n = ::write(fd_, frame.data(), frame.size());
  return n < 0 ? errno : 0;
}

void Device::send(Bytes frame) {
  if (!txq_.empty()) {  // keep frame order: behind what already waits
    if (txq_.size() >= kTxQueueFrames) {
      ++st_.tx_queue_drops;
      return;
    }
    txq_.push_back(std::move(frame));
    return;
  }
  const int err = write_frame(frame);
  if (err == 0) {
    ++st_.tx_frames;
    st_.tx_bytes += frame.size();
  } else if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
    ++st_.tx_eagain;
    txq_.push_back(std::move(frame));
  } else {
    ++st_.tx_errors;
  }
}

void Device::flush() {
  while (!txq_.empty()) {
    const int err = write_frame(txq_.front());
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) return;
    if (err == 0) {
      ++st_.tx_frames;
      st_.tx_bytes += txq_.front().size();
    } else {
      ++st_.tx_errors;
    }
    txq_.pop_front();
  }
}

void Device::export_stats(CounterMap& m) const {
  add_counter(m, "dev_rx_frames", st_.rx_frames);
  add_counter(m, "dev_rx_bytes", st_.rx_bytes);
  add_counter(m, "dev_rx_runts", st_.rx_runts);
  add_counter(m, "dev_tx_frames", st_.tx_frames);
  add_counter(m, "dev_tx_bytes", st_.tx_bytes);
  add_counter(m, "dev_tx_eagain", st_.tx_eagain);
  add_counter(m, "dev_tx_queue_drops", st_.tx_queue_drops);
  add_counter(m, "dev_tx_errors", st_.tx_errors);
}

std::unique_ptr<Device> open_device(const std::string& spec) {
  if (spec.rfind("tap:", 0) == 0 && spec.size() > 4) return open_tap(spec.substr(4));
  if (spec.rfind("qemu:", 0) == 0 && spec.size() > 5) return open_qemu_dgram(spec.substr(5));
  throw std::runtime_error("--wire must be sim, tap:IFNAME or qemu:DIR (got '" + spec + "')");
}

}  // namespace autonic::wire
