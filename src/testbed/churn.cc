#include "testbed/churn.h"

#include "common/proc_mem.h"
#include "common/rng.h"

namespace autonic::testbed {

// One churned connection: the client's stream and sender, the server's stream and receiver.
struct Churn::Slot : l5p::StreamHandler {
  Churn* owner = nullptr;
  uint32_t index = 0, k = 0;  // slot, connection number
  uint16_t port = 0;
  std::unique_ptr<l5p::Stream> client, server;
  std::unique_ptr<apps::BulkSender> sender;
  std::unique_ptr<apps::BulkReceiver> receiver;
  bool closing = false;
  // The client side's handler: feeds the sender, reports failures.
  struct ClientSide : l5p::StreamHandler {
    Slot* s = nullptr;
    void on_data(ByteSpan) override {}
    void on_writable() override { s->sender->on_writable(); }
    void on_failed(const std::string& outcome) override { s->on_failed(outcome); }
  } client_side;
  // The server side's handler: data in, checked; the client side's is the sender itself.
  void on_data(ByteSpan d) override {
    receiver->on_data(d);
    owner->delivered_ += d.size();
    if (receiver->complete() && !closing) {
      closing = true;
      owner->hooks_.defer([o = owner, i = index] { o->close(i); });
    }
  }
  void on_writable() override {}
  void on_failed(const std::string& outcome) override {
    if (owner->failure_.empty()) owner->failure_ = "churn:" + outcome;
  }
};

Churn::Churn(uint32_t total, uint64_t bytes, uint64_t seed, Hooks hooks)
    : total_(total), bytes_(bytes), seed_(seed), hooks_(std::move(hooks)), slot_of_port_(kPorts, -1) {}

Churn::~Churn() = default;

void Churn::start() {
  for (uint32_t i = 0; i < kWindow && next_ < total_; ++i) {
    slots_.push_back(std::make_unique<Slot>());
    open(i);
  }
}

void Churn::open(uint32_t i) {
  Slot& s = *slots_[i];
  s.owner = this;
  s.index = i;
  s.k = next_++;
  s.port = uint16_t(kPortBase + s.k % kPorts);
  s.closing = false;
  const uint64_t fseed = splitmix64(seed_ ^ (0xC4u + uint64_t(s.k) * 0x9E37ull));
  slot_of_port_[s.port - kPortBase] = int32_t(i);
  s.receiver = std::make_unique<apps::BulkReceiver>(fseed, bytes_);
  s.client = hooks_.connect(s.k, s.port);
  s.sender = std::make_unique<apps::BulkSender>(*s.client, fseed, bytes_);
  s.client_side.s = &s;
  s.client->set_handler(&s.client_side);
}

void Churn::accept(uint16_t client_port, std::unique_ptr<l5p::Stream> server) {
  if (client_port < kPortBase || client_port >= kPortBase + kPorts) return;
  const int32_t i = slot_of_port_[client_port - kPortBase];
  if (i < 0 || slots_[size_t(i)]->server) return;  // not one we opened: dropped (aborted)
  Slot& s = *slots_[size_t(i)];
  s.server = std::move(server);
  s.server->set_handler(&s);
}

// Both ends go (client first: its RST is the close); the slot opens the next connection.
void Churn::close(uint32_t i) {
  Slot& s = *slots_[i];
  wrong_ += s.receiver->wrong_bytes();
  slot_of_port_[s.port - kPortBase] = -1;
  s.sender.reset();
  s.client.reset();
  s.server.reset();
  s.receiver.reset();
  ++closed_;
  if (closed_ == kRound || (closed_ == total_ && !rss_first_)) rss_first_ = rss_bytes();
  if (closed_ == total_) rss_last_ = rss_bytes();
  if (next_ < total_) open(i);
}

}  // namespace autonic::testbed
