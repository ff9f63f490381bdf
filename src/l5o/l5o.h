// The l5o API between L5P software and the NIC driver: the paper's Listing 1 (driver -> L5P
// services) and Listing 2 (L5P upcalls the driver makes), §4.1. Names follow the paper.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>

#include "common/bytes.h"
#include "common/frame.h"
#include "common/tcp_seq.h"
#include "l5o/l5p_registry.h"

namespace autonic::l5o {

// One per line of the registry (l5o/l5p_registry.h).
enum class L5Proto : uint8_t {
#define AUTONIC_L5PROTO_ENUM(ident, E, counter, cli, shape) k##E,
  AUTONIC_L5P_REGISTRY(AUTONIC_L5PROTO_ENUM)
#undef AUTONIC_L5PROTO_ENUM
};
inline constexpr size_t kL5ProtoCount = 0
#define AUTONIC_L5PROTO_COUNT(ident, E, counter, cli, shape) +1
    AUTONIC_L5P_REGISTRY(AUTONIC_L5PROTO_COUNT);
#undef AUTONIC_L5PROTO_COUNT
// The protocol's name in counters (tx_<name>_...).
const char* proto_name(L5Proto p);

enum class Direction : uint8_t { kTx, kRx };

// Static offload state handed to the NIC at create time (keys, digest settings); each protocol
// derives its own. The NIC's plug-in for `proto` knows the concrete type.
struct L5State {
  explicit L5State(L5Proto p) : proto(p) {}
  virtual ~L5State() = default;
  L5Proto proto;
};

// Answer to get_tx_msgstate(tcpsn) (§4.2): the message holding tcpsn and its bytes before tcpsn.
struct TxMsgState {
  enum class Kind : uint8_t {
    kFound,          // msg_start/msg_index/prefix describe the message
    kBeforeOffload,  // tcpsn precedes the offload's first message: send as is
    kNoSyncData,     // the L5P no longer holds this data: the packet must be dropped
  };
  Kind kind = Kind::kNoSyncData;
  TcpSeq msg_start;
  uint64_t msg_index = 0;
  ByteSpan prefix;  // bytes [msg_start, tcpsn) exactly as handed to TCP; valid for the call
  // Composed offloads: where this message's payload begins in the inner L5P's stream.
  TcpSeq payload_pos;
};

// Listing 2: operations the L5P provides to the driver.
class L5pOps {
 public:
  virtual ~L5pOps() = default;
  virtual TxMsgState get_tx_msgstate(TcpSeq tcpsn) = 0;
  // The NIC guesses that a message header starts at tcpsn; answer later via resync_rx_resp.
  virtual void resync_rx_req(TcpSeq tcpsn) = 0;
  // The context for direction `dir` is gone for good (the NIC lost it and refused to take it
  // back). Fail closed: from now on the driver drops every frame bound to it, so TX bytes the
  // L5P handed to TCP for the NIC to transform can never leave; RX simply stops being marked
  // and placed. Called outside TCP's call path (the driver defers it), so the L5P may end the
  // connection from here. Default: nothing (an RX-only user loses only the offload).
  virtual void offload_lost(Direction dir) { (void)dir; }
};

using L5oHandle = uint32_t;
inline constexpr L5oHandle kNoHandle = 0;
using RrStateId = uint32_t;

// Request-response state (§4.1): e.g. an NVMe CID and the buffer its response data belongs in.
struct RrState {
  uint32_t tag = 0;
  MutByteSpan dest;
};

// Answer to del_rr_state. Placement is valid only while the L5P holds the request (§5.1): once
// confirmed, the NIC places nothing more for the mapping -- but it may already have placed bytes
// of packets the L5P has not parsed yet (the NIC runs ahead of the stack). All of them lie before
// `fence` (a position in the context's stream); until the L5P has parsed up to it, it must
// neither hand the buffer back nor reuse the tag (Linux ulp_ddp: teardown completes before the
// request does).
struct RrTeardown {
  bool confirmed = false;        // false: the NIC may still hold the mapping (never reuse it)
  std::optional<TcpSeq> fence;   // nullopt: nothing was ever placed through this context
};

// Listing 1: operations the driver provides to the L5P.
class Offload {
 public:
  virtual ~Offload() = default;
  // `flow` is the 5-tuple of the packets this context handles in direction `dir` (for kRx, as
  // seen on received frames). tcpsn is the first byte of the first message to offload.
  virtual L5oHandle create(const FlowKey& flow, Direction dir, std::shared_ptr<const L5State> state,
                           TcpSeq tcpsn, L5pOps* ops) = 0;
  virtual void destroy(L5oHandle h) = 0;
  // The context's static state changes (TLS KeyUpdate: keys for records from an index on). It
  // travels on the send queue like the data, so every byte the L5P hands TCP after this call
  // is processed with it; the new state must still describe what TCP may retransmit. A NIC
  // that cannot take it loses the context (L5pOps::offload_lost: fail closed).
  virtual void update(L5oHandle h, std::shared_ptr<const L5State> state) = 0;
  virtual RrStateId add_rr_state(L5oHandle h, const RrState& rr) = 0;
  virtual RrTeardown del_rr_state(L5oHandle h, RrStateId id) = 0;
  // The L5P's verdict on a resync request; msg_index is the index of the message at tcpsn
  // (the dynamic state at a message boundary depends only on it, §3.3).
  // payload_pos: for a context carrying an inner L5P, where that message's payload begins in
  // the inner stream (the L5P counts it as it parses).
  virtual void resync_rx_resp(L5oHandle h, TcpSeq tcpsn, bool ok, uint64_t msg_index,
                              TcpSeq payload_pos = TcpSeq()) = 0;
  // Composed offloads (NVMe/TCP over TLS): stacks an inner L5P's offload on `outer`'s context.
  // The inner L5P's byte stream is the payload of the outer's messages; `start` and every
  // position the inner L5P and the NIC exchange (get_tx_msgstate, resync) are in that stream,
  // counted from the outer offload's first payload byte. The returned handle takes destroy,
  // add/del_rr_state and resync_rx_resp like any other.
  virtual L5oHandle create_inner(L5oHandle outer, std::shared_ptr<const L5State> state, TcpSeq start,
                                 L5pOps* ops) = 0;
};

}  // namespace autonic::l5o
