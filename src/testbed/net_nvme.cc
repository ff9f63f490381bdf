// NVMe/TCP on a real network: `autonic nvme connect` (our host and the fio-like workload against
// any NVMe/TCP controller, e.g. Linux's nvmet-tcp) and `autonic nvme target` (our controller for
// any host, e.g. Linux's nvme-tcp). Optionally over TLS (--l5p nvme-tls), as in `autonic run`.
#include <algorithm>

#include "apps/fio.h"
#include "l5p/nvme/nvme_ctrl.h"
#include "l5p/nvme/nvme_host.h"
#include "l5p/tls/tls_session.h"
#include "testbed/net_session.h"
#include "testbed/sessions.h"

namespace autonic::testbed {
namespace {

class NvmeNetBase : public NetSession {
 protected:
  NvmeNetBase(const NetConfig& cfg, Host& host, CpuMeter& meter) : cfg_(cfg), host_(host), meter_(meter) {
    if (cfg_.sc.l5p == L5pKind::kNvmeTls) tls_ = net_tls(cfg_);
  }
  std::unique_ptr<l5p::nvme::Transport> transport(std::unique_ptr<tcpip::TcpConn> c, bool client) {
    return make_nvme_transport(cfg_.sc, std::move(c), client, host_, tls_, tls_sessions_);
  }
  void export_tls(CounterMap& m) const {
    for (l5p::tls::TlsSession* s : tls_sessions_) s->export_stats(m);
  }
  const NetConfig& cfg_;
  Host& host_;
  CpuMeter& meter_;
  TlsShared tls_;
  std::vector<l5p::tls::TlsSession*> tls_sessions_;
  l5p::nvme::NvmeStats nst_;
};

class NvmeConnectSession final : public NvmeNetBase {
 public:
  NvmeConnectSession(const NetConfig& cfg, Host& host, const Clock& clock, CpuMeter& meter)
      : NvmeNetBase(cfg, host, meter), resolver_(host, cfg.peer_ip), port_(ephemeral_port()) {
    apps::FioConfig fc = fio_config(cfg_.sc);
    // A real target's namespace holds someone else's bytes: the workload's region is written
    // once first, so every read is checked against what we wrote.
    fc.region_limit = std::max<uint64_t>(std::min(cfg_.sc.bytes, cfg_.sc.ns_size), cfg_.sc.io_size);
    fc.prefill = true;
    const l5p::nvme::QueueConfig admin = nvme_admin_queue_config(cfg_.sc, host_, &meter_);
    nhost_ = std::make_unique<l5p::nvme::NvmeHost>(
        [this] {
          return transport(tcpip::TcpConn::connect(host_.nif(), cfg_.ip, port_++, cfg_.peer_ip, cfg_.port), true);
        },
        admin, nvme_queue_config(cfg_.sc, host_, &meter_), nst_, [this] { fio_->start(); },
        [this](const std::string& o) {
          if (failure_.empty()) failure_ = o;
        },
        cfg_.sc.io_queues, host_config());
    fio_ = std::make_unique<apps::Fio>(*nhost_, clock, fc, &meter_);
  }
  l5p::nvme::HostConfig host_config() const {
    l5p::nvme::HostConfig hc;
    if (!cfg_.nqn.empty()) hc.subnqn = cfg_.nqn;
    if (!cfg_.hostnqn.empty()) hc.hostnqn = cfg_.hostnqn;
    return hc;
  }
  ~NvmeConnectSession() override {
    fio_.reset();
    nhost_.reset();
  }

  Status poll(Nanos now) override {
    Status s;
    if (!started_) {
      s.waiting_for_peer = true;
      if (resolver_.ready(now)) {
        started_ = true;
        nhost_->start();
      }
      return s;
    }
    s.progress = fio_->bytes_read_ok + fio_->bytes_written + fio_->bytes_prefilled + fio_->ios;
    if (fio_->failure) s.failure = *fio_->failure;
    else if (!failure_.empty()) s.failure = failure_;
    s.done = fio_->done();
    return s;
  }
  void close() override {
    if (!fio_) return;
    result_ = Result{fio_->done() && !fio_->failure, fio_->bytes_read_ok, fio_->bytes_written, fio_->bytes_prefilled,
                     fio_->wrong_bytes, fio_->main_seconds > 0 ? double(fio_->ios) / fio_->main_seconds : 0};
    fio_.reset();    // first: it must not submit to a host being torn down
    nhost_.reset();  // the queues' connections close
  }
  bool closed() const override { return true; }
  bool report(Report& r, CounterMap& m) const override {
    r.bytes = cfg_.sc.bytes;
    r.bytes_delivered = result_.read_ok + result_.written;
    r.delivered_wrong_bytes = result_.wrong;
    r.extra["iops"] = result_.iops;
    r.extra["bytes_prefilled"] = double(result_.prefilled);
    nst_.export_to(m);
    export_tls(m);
    return result_.complete && r.bytes_delivered >= cfg_.sc.bytes;
  }

 private:
  // The workload's figures, taken before the host goes down (close()).
  struct Result {
    bool complete = false;
    uint64_t read_ok = 0, written = 0, prefilled = 0, wrong = 0;
    double iops = 0;
  } result_;
  PeerResolver resolver_;
  uint16_t port_;
  bool started_ = false;
  std::string failure_;
  std::unique_ptr<l5p::nvme::NvmeHost> nhost_;
  std::unique_ptr<apps::Fio> fio_;
};

class NvmeTargetSession final : public NvmeNetBase {
 public:
  NvmeTargetSession(const NetConfig& cfg, Host& host, CpuMeter& meter) : NvmeNetBase(cfg, host, meter) {
    auto ns = make_namespace(cfg_.sc);
    l5p::nvme::CtrlConfig cc;
    if (!cfg_.nqn.empty()) cc.subnqn = cfg_.nqn;
    ctrl_ = std::make_unique<l5p::nvme::NvmeController>(ns, nvme_queue_config(cfg_.sc, host_, &meter_), nst_, cc);
    listener_ = std::make_unique<tcpip::TcpListener>(host_.nif(), cfg_.ip, cfg_.port,
                                                     [this](std::unique_ptr<tcpip::TcpConn> c) {
                                                       ++accepted_;
                                                       ctrl_->accept(transport(std::move(c), false));
                                                     });
  }
  ~NvmeTargetSession() override {
    listener_.reset();
    ctrl_.reset();
  }
  // A target serves until told to stop (Ctrl-C / SIGTERM / --time-limit); it never stalls.
  Status poll(Nanos) override {
    Status s;
    s.waiting_for_peer = true;
    s.progress = accepted_;
    // A host that goes away (RST, FIN) ends its association, not the target; protocol errors
    // (a hostile or broken host) are the target's finding.
    if (ctrl_ && !ctrl_->failure().empty() && ctrl_->failure().rfind("tcp:", 0) != 0)
      s.failure = "controller:" + ctrl_->failure();
    return s;
  }
  void close() override {
    listener_.reset();
    ctrl_.reset();
  }
  bool closed() const override { return true; }
  bool report(Report& r, CounterMap& m) const override {
    r.extra["connections"] = double(accepted_);
    nst_.export_to(m);
    export_tls(m);
    return accepted_ > 0;
  }

 private:
  std::unique_ptr<l5p::nvme::NvmeController> ctrl_;
  std::unique_ptr<tcpip::TcpListener> listener_;
  uint64_t accepted_ = 0;
};

}  // namespace

std::unique_ptr<NetSession> make_nvme_net_session(const NetConfig& cfg, Host& host, const Clock& clock, CpuMeter& meter) {
  if (cfg.verb == NetConfig::Verb::kNvmeTarget) return std::make_unique<NvmeTargetSession>(cfg, host, meter);
  return std::make_unique<NvmeConnectSession>(cfg, host, clock, meter);
}

}  // namespace autonic::testbed
