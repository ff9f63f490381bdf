// What the context cache's eviction and fetch do to the model's own memory (§6.5): a NIC
// keeps every context in host memory in its compact form and only the cached ones on the
// NIC. Here an evicted context is frozen into that form (its engine and plug-in objects, key
// schedule included, are destroyed: a few hundred bytes stay instead of ~1 KiB), and thawed
// back on its next fetch. Contexts without an at-rest form (composed pairs, request-response
// mappings, a resyncing RX flow, a traced one, ChaCha20-Poly1305) only drop their working
// state. Behaviour is the same either way: the at-rest form holds every field.
#include <openssl/crypto.h>

#include <cstring>

#include "nic/engine/pack.h"
#include "nic/nic.h"

namespace autonic::nic {

void Nic::park(Context& c) {
  if (c.frozen) return;
  const bool plain = !c.inner && !c.outer && !c.rr;
  const bool can = plain && (c.tx ? c.tx->freezable() : c.rx->freezable());
  if (!can) return c.plugin_flow().park();
  freeze_buf_.assign(4, 0);  // header: length, context_bytes()
  Packer p(freeze_buf_);
  if (c.tx) c.tx->freeze(p);
  else c.rx->freeze(p);
  const uint16_t head[2] = {uint16_t(freeze_buf_.size() - 4), uint16_t(c.bytes())};
  std::memcpy(freeze_buf_.data(), head, 4);
  c.frozen.reset(new uint8_t[freeze_buf_.size()]);
  std::memcpy(c.frozen.get(), freeze_buf_.data(), freeze_buf_.size());
  OPENSSL_cleanse(freeze_buf_.data(), freeze_buf_.size());
  c.tx.reset();
  c.rx.reset();
}

void Nic::Context::WipeFrozen::operator()(uint8_t* p) const {
  uint16_t len;
  std::memcpy(&len, p, 2);  // the header's first word: the form's length after the header
  OPENSSL_cleanse(p, size_t(len) + 4);
  delete[] p;
}

void Nic::thaw(Context& c) {
  if (!c.frozen) return;
  const Plugin& plugin = *plugin_for(c.proto);
  Unpacker u(ByteSpan(c.frozen.get() + 4, c.frozen_word(0)));
  // A frozen context is neither composed nor placing: the work buffer of depth 0, no maps.
  if (c.dir == l5o::Direction::kTx) {
    c.tx = TxOffloadFlow::thaw(plugin, u);
    c.tx->set_scratch(&scratch_[0]);
  } else {
    c.rx = RxOffloadFlow::thaw(plugin, u);
    c.rx->set_scratch(&scratch_[0]);
  }
  c.plugin_flow().attach(nullptr, &ostats_[size_t(c.proto)]);
  c.frozen.reset();
}

}  // namespace autonic::nic
