// The protocol plug-in interface: the paper's Table 3 preconditions as code (DESIGN.md). The
// generic engine (msg_cursor, tx_offload, rx_offload) owns sequence tracking, message boundaries,
// TX recovery and RX resync; a plug-in supplies only what is protocol-specific.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "common/tcp_seq.h"
#include "l5o/l5o.h"

namespace autonic::nic {

inline constexpr size_t kMaxHeaderLen = 32;

struct OffloadStats;
class Packer;
class Unpacker;
// Request-response state by tag (e.g. NVMe CID -> read buffer), installed with add_rr_state.
// `id` is the registration (its generation): a plug-in that looked a mapping up when a message
// began checks per packet that the very same registration is still there before placing.
// `placed_end`: end of the furthest stream byte placed through it -- the fence its teardown
// reports (l5o::RrTeardown).
struct RrEntry {
  l5o::RrState rr;
  uint32_t id = 0;
  std::optional<TcpSeq> placed_end;
};
using RrMap = std::unordered_map<uint32_t, RrEntry>;
// Bytes a plug-in placed directly in host memory (DDP, §5.1) while processing a packet.
struct Placement {
  const uint8_t* src;  // in the packet's payload
  size_t len;
  uint8_t* dst;
};

// Per-flow, per-direction state: static (keys) plus the constant-size dynamic state of the
// current message, which depends only on the message index and its bytes so far (§3.2).
class PluginFlow {
 public:
  virtual ~PluginFlow() = default;
  // A new message starts: reset dynamic state. header = its header_len() bytes; payload_pos =
  // where its payload begins in the inner stream (composed offloads only, see InnerEngine).
  // msg_start: the message's first byte in the context's stream (tcpsn, or the inner stream's
  // position for an inner context).
  virtual void begin(uint64_t msg_index, TcpSeq msg_start, ByteSpan header, TcpSeq payload_pos) = 0;
  // Bytes [offset, offset + in.size()) of the current message, offset >= header_len(); any
  // split is allowed. TX: out = wire bytes (transform + fill the trailer). RX: out = plain bytes
  // (trailer copied unchanged). in and out may alias.
  virtual void tx(uint32_t offset, ByteSpan in, MutByteSpan out) = 0;
  virtual void rx(uint32_t offset, ByteSpan in, MutByteSpan out) = 0;
  // RX, after the last byte of a message: did its integrity check verify?
  virtual bool rx_verify() = 0;
  // Bytes this flow's state takes in NIC context memory.
  virtual size_t context_bytes() const = 0;
  // The context left the NIC's context cache (§6.5: its state written back to host memory):
  // drop the working state the model builds from it (key schedules, scratch), which the next
  // call rebuilds from the compact state. Behaviour is unchanged either way.
  virtual void park() {}
  // Whether the whole flow can be written back in its at-rest form (freeze) and made again
  // from it (Plugin::thaw_flow), the object itself destroyed meanwhile; not while it is
  // composed with another or holds host pointers beyond its stats.
  virtual bool freezable() const { return false; }
  virtual void freeze(Packer& /*p*/) const {}
  // Optional hooks for plug-ins that place data or keep their own counters.
  virtual void attach(RrMap* /*rr*/, OffloadStats* /*stats*/) {}
  virtual std::vector<Placement>* placements() { return nullptr; }
  // Looks request-response mappings up while it processes packets (DDP): the NIC gives it its
  // tables at creation rather than on the first add_rr_state.
  virtual bool uses_rr() const { return false; }
  // The static state changes (l5o update; TLS KeyUpdate: keys for messages from an index on).
  // False if the plug-in cannot take it (the context is then lost: fail closed).
  virtual bool update(const l5o::L5State& /*state*/) { return false; }
  // Composed offloads: message `msg_index` carries nothing of the inner L5P's stream although
  // its header says it has content (a TLS KeyUpdate record the L5P sent).
  virtual bool outside_payload(uint64_t /*msg_index*/) const { return false; }
  // Composed offloads: hand this flow's message payload to an inner L5P's engine.
  virtual void set_inner(class InnerEngine* /*inner*/) {}
};

// Composed offloads (NVMe/TCP over TLS, issue #4): an inner L5P whose byte stream is the payload
// of the outer L5P's messages. The outer plug-in calls it with every payload byte it processes,
// in stream order, at the inner stream position of that byte: TX before the outer transform
// (NVMe fills its digests in the plaintext, then TLS encrypts), RX after it (TLS decrypts, then
// NVMe checks its digests). The inner engine keeps its own sequence tracking and recovery in
// inner-stream coordinates, exactly like a TCP-level engine does in tcpsn.
class InnerEngine {
 public:
  virtual ~InnerEngine() = default;
  virtual void on_payload(TcpSeq pos, MutByteSpan bytes) = 0;
  // The outer stream's payload no longer maps onto the inner positions (a padded TLS record:
  // the NIC counted the padding as payload): the inner engine stops for good.
  virtual void on_broken() {}
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual l5o::L5Proto proto() const = 0;
  virtual size_t header_len() const = 0;
  // Magic pattern + length (§3.3): total message length if `hdr` (header_len() bytes) looks like
  // a message header, nullopt if not.
  virtual std::optional<uint32_t> probe(ByteSpan hdr) const = 0;
  // Bytes of a message (header `hdr`, already probed) that belong to an inner L5P's stream:
  // 0 unless the protocol can carry another (TLS: the record's content).
  virtual uint32_t payload_len(ByteSpan /*hdr*/) const { return 0; }
  // False if RX leaves every byte as it is (only checks, and may place): the engine then works
  // on the packet in place instead of through a scratch copy.
  virtual bool rx_transforms() const { return true; }
  virtual std::unique_ptr<PluginFlow> make_flow(const l5o::L5State& state, l5o::Direction dir) const = 0;
  // A flow from its at-rest form (PluginFlow::freeze); null if the plug-in has none.
  virtual std::unique_ptr<PluginFlow> thaw_flow(Unpacker& /*u*/) const { return nullptr; }
};

// Each registered L5P's plug-in (l5o/l5p_registry.h), defined in src/nic/plugins/<ident>/.
#define AUTONIC_DECLARE_PLUGIN(ident, E, counter, cli, shape) std::unique_ptr<Plugin> make_##ident##_plugin();
AUTONIC_L5P_REGISTRY(AUTONIC_DECLARE_PLUGIN)
#undef AUTONIC_DECLARE_PLUGIN

}  // namespace autonic::nic
