// `autonic nicsim`: the NIC model alone at scale (issue #13, §6.5 / Fig. 19). NIC A holds one TX
// context per flow and encrypts (TLS) or digests (NVMe/TCP) a synthetic in-sequence stream of
// well-formed messages; its link feeds NIC B, which holds the RX contexts and decrypts /
// verifies. Both are the real engine, plug-ins and context cache; no TCP stack. A minimal driver
// creates the contexts as the real one does (kCtxCreate), posts each flow's turn of `burst`
// packets and rings the doorbell once (one NIC batch), drains B's completions (checking marked
// payloads against the plaintext) and answers B's resync requests from the record layout.
#pragma once
#include <cstdint>
#include <string>

#include "cli/nicsim_stream.h"
#include "nic/ctx_cache.h"

namespace autonic::cli::nicsim {

struct Config {
  uint32_t flows = 1024;
  uint32_t burst = 8;              // packets per flow turn (one doorbell)
  uint64_t packets = 0;            // per flow; 0: two turns (2 * burst)
  size_t ctx_cache = 4u << 20;     // each NIC's context cache
  nic::CtxPolicy policy = nic::CtxPolicy::kLru;
  L5 l5 = L5::kTls;
  uint32_t mss = 1448;             // payload bytes per packet
  uint32_t msg_content = 16384;    // TLS record plaintext / NVMe PDU data
  bool random_order = false;       // flow order per round: seeded shuffle (else round-robin)
  uint64_t seed = 1;
  double loss = 0, reorder = 0;    // on the wire between the NICs
};

struct Result {
  uint64_t flows = 0, packets = 0, batches = 0;
  uint64_t rx_marked = 0, rx_unmarked = 0, rx_bad_bytes = 0, wire_lost = 0;
  uint64_t resync_reqs = 0;
  uint64_t create_failed = 0;  // kCtxCreate completions not ok
  // Context caches (TX = NIC A, RX = NIC B).
  nic::CtxCacheStats tx_cache, rx_cache;
  uint64_t tx_cycles = 0, rx_cycles = 0;  // NIC CpuMeter domains
  size_t ctx_bytes_tx = 0, ctx_bytes_rx = 0;  // one context's NIC memory
  double wall_s = 0;
  uint64_t rss_hwm = 0;              // VmHWM, bytes
  uint64_t model_bytes_per_flow = 0; // host heap the model takes per flow (both contexts)
  // Every marked byte right; without loss or reordering every packet marked.
  bool ok(const Config& c) const {
    return create_failed == 0 && rx_bad_bytes == 0 && ((c.loss > 0 || c.reorder > 0) || rx_unmarked == 0);
  }
  double hit_rate() const;           // both caches together
  double dma_per_packet() const;     // fetch + write-back bytes, both NICs, per packet
};

Result run(const Config& c);
std::string summary(const Config& c, const Result& r);
std::string to_json(const Config& c, const Result& r);

// Process memory from /proc/self/status (bytes): "VmHWM" or "VmRSS".
uint64_t proc_status_bytes(const char* field);

}  // namespace autonic::cli::nicsim
