// A test's stand-in for one side of an NVMe/TCP run: a scripted (hostile) controller, or a host
// that is only a byte script. The testbed still builds both hosts, the wire and the connections
// (plain or TLS, as the run says) and hands each stream on the hook's side over; the
// implementations live with the tests (tests/support/), not in the testbed.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "l5p/stream.h"

namespace autonic::testbed {

class NvmePeerHook {
 public:
  enum class Side : uint8_t {
    kController,  // the host talks to the hook instead of our controller
    kHost,        // the hook's connections talk to our controller; the host stays idle
  };
  struct NamespaceInfo {
    uint32_t lba_size;
    uint64_t bytes;
    uint64_t pattern_seed;  // the namespace's content: apps::pattern_fill(pattern_seed, offset, ...)
  };
  virtual ~NvmePeerHook() = default;
  virtual Side side() const = 0;
  // Before any connection: the namespace the run's workload checks its reads against.
  virtual void on_namespace(const NamespaceInfo&) {}
  // A host hook: the connections the testbed opens for it, one after the other (the first is the
  // admin queue, the next ones I/O queues).
  virtual unsigned connections() const { return 1; }
  // A stream on the hook's side (a controller hook: each accepted connection, admin first; a host
  // hook: each of its connections, in order). The testbed owns the stream and tears it down
  // before the hosts; the returned handler, owned by the hook, gets the stream's events.
  virtual l5p::StreamHandler* attach(l5p::Stream& s) = 0;
  // After the run: the hook's findings, into the report's `extra` (so they survive run_isolated).
  virtual void report(std::map<std::string, double>&) const {}
};

}  // namespace autonic::testbed
