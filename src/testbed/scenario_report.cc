// ScenarioRun, step 3: the report -- what was delivered and whether every byte matched, the CPU
// cost per byte per domain, the wire's statistics and every layer's counters.
#include <algorithm>
#include <optional>
#include <vector>

#include "common/proc_mem.h"
#include "testbed/peer_hook.h"
#include "testbed/scenario_run.h"
#include "testbed/wire_audit.h"

namespace autonic::testbed {

// Fills the delivery fields (and NVMe's I/O figures); returns the byte count a verified run
// delivers, or nullopt when the workload did not complete.
std::optional<uint64_t> ScenarioRun::report_delivery(Report& r) const {
  bool all_complete = true;
  for (const Flow& f : flows_)
    for (const apps::BulkReceiver* rcv : {f.receiver.get(), f.rreceiver.get()}) {
      if (!rcv) continue;
      r.delivered_wrong_bytes += rcv->wrong_bytes();
      r.bytes_delivered += rcv->received();
      all_complete = all_complete && rcv->complete();
    }
  if (churn_) {
    r.delivered_wrong_bytes += churn_->wrong_bytes();
    all_complete = all_complete && churn_->done();
  }
  uint64_t expected = r.bytes;  // every direction's target
  if (nvme_) {
    r.delivered_wrong_bytes = fio_->wrong_bytes;
    r.bytes_delivered = fio_->bytes_read_ok + fio_->bytes_written;
    all_complete = fio_->done() && !fio_->failure;
    expected = r.bytes_delivered >= cfg_.bytes ? r.bytes_delivered : cfg_.bytes;
    std::vector<double> lat = fio_->latencies_us;
    std::sort(lat.begin(), lat.end());
    double mean = 0;
    for (double v : lat) mean += v;
    r.extra["iops"] = fio_->main_seconds > 0 ? double(fio_->ios) / fio_->main_seconds : 0;
    r.extra["lat_mean_us"] = lat.empty() ? 0 : mean / double(lat.size());
    r.extra["lat_p99_us"] = lat.empty() ? 0 : lat[std::min(lat.size() - 1, size_t(double(lat.size()) * 0.99))];
    if (cfg_.nvme_peer) cfg_.nvme_peer->report(r.extra);
  }
  if (!all_complete) return std::nullopt;
  return expected;
}

void ScenarioRun::report_cpu(Report& r) const {
  // Per byte the application actually received (a run cut short by an error is not diluted).
  const double b = double(std::max<uint64_t>(r.bytes_delivered, 1));
  auto per_byte = [&](CpuDomain d) { return double(meter_.cycles(d)) / b; };
  // Host CPU = app + L5P + TCP + driver; the app's share (pattern generation / checking) is
  // also reported apart, so the stack's own cost can be compared with the paper's.
  r.app_cpb_client = per_byte(CpuDomain::kClientApp);
  r.app_cpb_server = per_byte(CpuDomain::kServerApp);
  r.copy_cpb_client = per_byte(CpuDomain::kClientCopy);
  r.copy_cpb_server = per_byte(CpuDomain::kServerCopy);
  r.digest_cpb_client = per_byte(CpuDomain::kClientDigest);
  r.digest_cpb_server = per_byte(CpuDomain::kServerDigest);
  r.host_cpb_client = per_byte(CpuDomain::kClientHost) + r.app_cpb_client + r.copy_cpb_client + r.digest_cpb_client;
  r.host_cpb_server = per_byte(CpuDomain::kServerHost) + r.app_cpb_server + r.copy_cpb_server + r.digest_cpb_server;
  r.nic_cpb_client = per_byte(CpuDomain::kClientNic);
  r.nic_cpb_server = per_byte(CpuDomain::kServerNic);
  if (!established_seen_) return;
  // The stack's cycles a byte after every connection was open (no handshakes in them).
  auto data = [&](std::initializer_list<CpuDomain> ds) {
    double c = 0;
    for (CpuDomain d : ds) c += double(meter_.cycles(d) - established_cycles_[size_t(d)]);
    return c / b;
  };
  using D = CpuDomain;
  r.extra["data_stack_cpb_client"] = data({D::kClientHost, D::kClientCopy, D::kClientDigest});
  r.extra["data_stack_cpb_server"] = data({D::kServerHost, D::kServerCopy, D::kServerDigest});
  // What came before, the connections' set-up (TLS: the handshakes), in kilocycles a flow.
  auto setup = [&](std::initializer_list<CpuDomain> ds) {
    double c = 0;
    for (CpuDomain d : ds) c += double(established_cycles_[size_t(d)]);
    return c / 1e3 / double(std::max<size_t>(cfg_.flows, 1));
  };
  r.extra["setup_stack_kcycles_client"] = setup({D::kClientHost, D::kClientCopy, D::kClientDigest});
  r.extra["setup_stack_kcycles_server"] = setup({D::kServerHost, D::kServerCopy, D::kServerDigest});
}

void ScenarioRun::report_counters(Report& r) const {
  r.trace_hash = wire_->trace_hash();
  r.wire = wire_->stats();
  client_->export_stats(r.client, cfg_.l5p);
  server_->export_stats(r.server, cfg_.l5p);
  for (const Flow& f : flows_) {
    if (f.client) f.client->export_stats(r.client);
    if (f.server) f.server->export_stats(r.server);
  }
  if (nvme_) {
    host_nst_.export_to(r.client);
    ctrl_nst_.export_to(r.server);
  }
  for (l5p::tls::TlsSession* s : nvme_tls_sessions_) s->export_stats(s->is_client() ? r.client : r.server);
}

Report ScenarioRun::report(const std::string& outcome) {
  Report r;
  r.seed = cfg_.seed;
  r.directions = cfg_.bidirectional && !nvme_ ? 2 : 1;  // --bidir: the server sends --bytes back
  r.bytes = cfg_.bytes * r.directions;
  r.l5p = l5p_name(cfg_.l5p);
  r.offload = cfg_.bare ? "bare" : offload_name(cfg_.offload);
  r.clock = cfg_.real_clock ? "real" : "virtual";
  const std::optional<uint64_t> expected = report_delivery(r);
  r.outcome = outcome.empty() ? "ok" : outcome;
  r.verified = outcome.empty() && expected && r.delivered_wrong_bytes == 0 && r.bytes_delivered == *expected;
  r.sim_seconds = double(clock_.now()) / 1e9;
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
  r.throughput_gbps = r.sim_seconds > 0 ? double(r.bytes_delivered) * 8 / r.sim_seconds / 1e9 : 0;
  report_cpu(r);
  report_counters(r);
  if (client_ && (!client_->msg_logs().empty() || !server_->msg_logs().empty())) {
    std::vector<const l5p::MsgLog*> logs;
    for (const Host* h : {client_.get(), server_.get()})
      for (const l5p::MsgLog& log : h->msg_logs()) logs.push_back(&log);
    const WireAudit a = audit_wire(wire_faults_, logs);
    r.extra["audit_msgs"] = double(a.msgs);
    r.extra["audit_msgs_clean"] = double(a.clean);
    r.extra["audit_msgs_full"] = double(a.full);
    r.extra["audit_msgs_full_clean"] = double(a.full_clean);
  }
  if (churn_) {
    r.extra["churn_connections"] = double(churn_->closed());
    r.extra["churn_rss_first_mib"] = double(churn_->rss_first()) / double(1 << 20);
    r.extra["churn_rss_last_mib"] = double(churn_->rss_last()) / double(1 << 20);
  }
  if (turns_) {
    r.extra["flows"] = double(cfg_.flows);
    r.extra["flows_established"] = double(turns_->established());
    r.extra["turns"] = double(turns_->turns());
    r.extra["burst_packets"] = double(cfg_.burst ? cfg_.burst : kDefaultBurst);
    r.extra["rss_peak_mib"] = double(peak_rss_bytes()) / double(1 << 20);
    if (rss_established_)
      r.extra["rss_established_kib_per_flow"] =
          double(rss_established_ - std::min(rss_established_, rss_before_flows_)) / 1024.0 / double(cfg_.flows);
  }
  return r;
}

}  // namespace autonic::testbed
