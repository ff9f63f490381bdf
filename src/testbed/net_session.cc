// The real-network verbs' sessions. Peers are whatever answers on the wire: our side resolves
// the peer by ARP before it connects, accepts one stream connection when serving (later ones
// are refused with a RST), and checks everything it receives as it would from a simulated peer.
#include "testbed/net_session.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "apps/bulk.h"
#include "apps/fio.h"
#include "apps/stream_sink.h"
#include "l5p/nvme/nvme_ctrl.h"
#include "l5p/nvme/nvme_host.h"
#include "l5p/tls/tls_session.h"
#include "testbed/sessions.h"

namespace autonic::testbed {
namespace {

// --send-file: the whole input, read before the connection (stdin: until EOF).
std::shared_ptr<const Bytes> read_input(const std::string& path) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot read " + path);
  auto data = std::make_shared<Bytes>();
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data->insert(data->end(), buf, buf + n);
  if (f != stdin) std::fclose(f);
  return data;
}

class StreamNetSession final : public NetSession {
 public:
  StreamNetSession(const NetConfig& cfg, Host& host, CpuMeter& meter)
      : cfg_(cfg), host_(host), meter_(meter), resolver_(host, cfg.peer_ip) {
    if (cfg_.sc.l5p == L5pKind::kTls) tls_ = net_tls(cfg_);
    if (cfg_.out_file == "-") out_ = stdout;
    else if (!cfg_.out_file.empty() && !(out_ = std::fopen(cfg_.out_file.c_str(), "wb")))
      throw std::runtime_error("cannot write " + cfg_.out_file);
    if (!cfg_.send_file.empty()) file_data_ = read_input(cfg_.send_file);
    sink_ = std::make_unique<apps::StreamSink>(cfg_.verify ? std::optional<uint64_t>(cfg_.peer_seed) : std::nullopt, out_,
                                               &meter_);
    if (cfg_.verb == NetConfig::Verb::kServe)
      listener_ = std::make_unique<tcpip::TcpListener>(host_.nif(), cfg_.ip, cfg_.port,
                                                       [this](std::unique_ptr<tcpip::TcpConn> c) { attach(std::move(c), false); });
  }
  ~StreamNetSession() override {
    stream_.reset();
    if (out_ && out_ != stdout) std::fclose(out_);
    else if (out_) std::fflush(out_);
  }

  Status poll(Nanos now) override {
    Status s;
    if (!stream_) {
      s.waiting_for_peer = true;
      if (cfg_.verb == NetConfig::Verb::kConnect && resolver_.ready(now))
        attach(tcpip::TcpConn::connect(host_.nif(), cfg_.ip, ephemeral_port(), cfg_.peer_ip, cfg_.port), true);
      return s;
    }
    if (!t0_) t0_ = now;  // the transfer's time starts with the connection (not with our start-up)
    s.progress = sink_->received() + (sender_ ? sender_->sent() : 0);
    if (sender_ && sender_->failure) s.failure = *sender_->failure;
    else if (sink_->failure && !(receive_done() && send_done())) s.failure = *sink_->failure;
    // Latched: after our FIN and the peer's, lwIP lets the connection go and all_acked() with it.
    sent_acked_ = sent_acked_ || (sender_ && send_done());
    if (!done_ && send_done() && receive_done()) {
      done_ = true;
      t1_ = now;
    }
    s.done = done_;
    return s;
  }

  void close() override {
    if (stream_ && !shut_) stream_->shutdown();
    shut_ = true;
  }
  // Our FIN acknowledged and the peer's seen: tearing down now cannot cut the peer's last bytes.
  bool closed() const override { return !stream_ || (stream_->all_acked() && sink_->eof()); }

  bool report(Report& r, CounterMap& m) const override {
    r.bytes = send_total() + std::max(cfg_.recv_bytes, sink_->received());
    r.bytes_delivered = sink_->received() + (sent_acked_ ? send_total() : 0);
    r.delivered_wrong_bytes = sink_->wrong_bytes();
    r.directions = (send_total() > 0) + (cfg_.recv_bytes > 0 || !cfg_.out_file.empty());
    r.extra["bytes_received"] = double(sink_->received());
    if (done_) r.extra["transfer_seconds"] = double(t1_ - t0_) / 1e9;
    r.extra["received_checked"] = cfg_.verify ? 1 : 0;  // compared with the peer's pattern (--verify)
    r.extra["bytes_sent_acked"] = double(sent_acked_ ? send_total() : 0);
    if (stream_) stream_->export_stats(m);
    return done_;
  }

 private:
  void attach(std::unique_ptr<tcpip::TcpConn> c, bool client) {
    if (stream_) return;  // one connection per run: later ones are refused (RST)
    stream_ = make_stream(cfg_.sc, std::move(c), client, host_, tls_);
    if (file_data_)
      sender_ = std::make_unique<apps::BulkSender>(*stream_, file_data_, &meter_);
    else if (cfg_.send_bytes > 0)
      sender_ = std::make_unique<apps::BulkSender>(*stream_, cfg_.sc.seed, cfg_.send_bytes, &meter_);
    duplex_ = std::make_unique<apps::DuplexHandler>(sender_.get(), sink_.get());
    stream_->set_handler(duplex_.get());
    if (!client) duplex_->on_writable();  // accepted: connected already, nothing else will kick the sender
  }
  uint64_t send_total() const { return file_data_ ? file_data_->size() : cfg_.send_bytes; }
  bool send_done() const { return !sender_ || (sender_->done_sending() && stream_->all_acked()); }
  bool receive_done() const {
    if (cfg_.recv_bytes > 0) return sink_->received() >= cfg_.recv_bytes;
    // Nothing to count: a sink (--out, or nothing to send) reads until the peer closes.
    return (cfg_.out_file.empty() && send_total() > 0) || sink_->eof();
  }

  const NetConfig& cfg_;
  Host& host_;
  CpuMeter& meter_;
  PeerResolver resolver_;
  TlsShared tls_;
  std::FILE* out_ = nullptr;
  std::shared_ptr<const Bytes> file_data_;
  std::unique_ptr<apps::StreamSink> sink_;
  std::unique_ptr<tcpip::TcpListener> listener_;
  std::unique_ptr<l5p::Stream> stream_;
  std::unique_ptr<apps::BulkSender> sender_;
  std::unique_ptr<apps::DuplexHandler> duplex_;
  bool shut_ = false, sent_acked_ = false, done_ = false;
  Nanos t0_ = 0, t1_ = 0;  // connected (first seen) .. done
};

}  // namespace

TlsShared net_tls(const NetConfig& cfg) {
  using Verify = l5p::tls::HandshakeConfig::Verify;
  TlsShared t;
  t.creds = cfg.tls_cert.empty() ? std::make_unique<l5p::tls::Credentials>()
                                 : std::make_unique<l5p::tls::Credentials>(cfg.tls_cert, cfg.tls_key);
  if (!cfg.sc.keylog.empty()) t.keylog = std::make_unique<l5p::tls::KeylogSink>(cfg.sc.keylog);
  l5p::tls::HandshakeConfig hs;
  hs.verify = cfg.tls_ca.empty() ? Verify::kNone : Verify::kCaFile;
  hs.ca_file = cfg.tls_ca;
  hs.host = cfg.tls_host;
  hs.tickets = cfg.tls_tickets;
  t.hs = hs;
  return t;
}

uint16_t ephemeral_port() { return uint16_t(49152 + std::random_device{}() % 16384); }

std::unique_ptr<NetSession> make_nvme_net_session(const NetConfig& cfg, Host& host, const Clock& clock, CpuMeter& meter);

std::unique_ptr<NetSession> make_net_session(const NetConfig& cfg, Host& host, const Clock& clock, CpuMeter& meter) {
  if (cfg.verb == NetConfig::Verb::kNvmeConnect || cfg.verb == NetConfig::Verb::kNvmeTarget)
    return make_nvme_net_session(cfg, host, clock, meter);
  return std::make_unique<StreamNetSession>(cfg, host, meter);
}

}  // namespace autonic::testbed
