// Fig. 16-18: TLS under loss and reordering, software TLS and the offload beside plain TCP. The
// runs use `--record-align none` (records cut where the application's writes fall, as Linux
// kTLS does) and GRO on; TSO stays off so that a lost packet costs one MSS, as on the paper's
// wire. One flow: the paper ran 64 connections (at 0 % loss its NIC then missed contexts).
#include <cmath>

#include "cli/experiment_defs.h"

namespace autonic::cli {

namespace {

struct Mode {
  const char* name;
  const char* args;
};
constexpr Mode kModes[] = {{"tcp", "--l5p tcp"},
                           {"sw_tls", "--l5p tls --offload off --record-align none"},
                           {"offload", "--l5p tls --offload on --record-align none"},
                           // the receivers' sweeps also run a NIC that marks whole packets, as the
                           // paper's does: what issue #15's marks inside a packet change, measured
                           {"offload_pkt", "--l5p tls --offload on --record-align none --nic-marks packet"}};

uint64_t ctr(const CounterMap& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

// One sweep: every mode at every fault level. rx: the receiver's cost (server), else the sender's.
ExpTable sweep(const ExpContext& c, const char* fault, const std::vector<double>& levels, bool rx) {
  ExpTable t;
  t.columns = {std::string(fault) + "_pct", "mode", "gbps_one_core", "stack_cycles_per_byte", "records_full_pct",
               "records_partial_pct", "records_none_pct", "loss_limit_pct", "recovery_dma_pcie_pct", "verified",
               "command"};
  const char* bytes = c.quick ? "16M" : "128M";
  for (double lv : levels)
    for (const Mode& m : kModes) {
      if (!rx && std::string(m.name) == "offload_pkt") continue;  // marks are the receiver's
      const std::string cmd = std::string(m.args) + " --bytes " + bytes + " --gro on --seed 1 --" + fault + " " +
                              ExpTable::num(lv, 1) + "%";
      const testbed::Report r = c.run(cmd);
      const double cpb = rx ? r.stack_cpb_server() : r.stack_cpb_client();
      std::vector<std::string> row = {ExpTable::num(lv, 1), m.name, ExpTable::num(c.gbps_one_core(cpb)),
                                      ExpTable::num(cpb, 3)};
      const uint64_t full = ctr(r.server, "rx_tls_msgs_full"), part = ctr(r.server, "rx_tls_msgs_partial"),
                     none = ctr(r.server, "rx_tls_msgs_none"), recs = full + part + none;
      // The offload's own columns (empty for tcp and software TLS).
      const bool off = std::string(m.name).rfind("offload", 0) == 0;
      auto pct = [&](uint64_t n) { return off && recs > 0 ? ExpTable::num(100.0 * double(n) / double(recs), 1) : std::string(); };
      row.push_back(pct(full));
      row.push_back(pct(part));
      row.push_back(pct(none));
      auto a = r.extra.find("audit_msgs"), cl = r.extra.find("audit_msgs_clean");
      row.push_back(off && a != r.extra.end() && a->second > 0 ? ExpTable::num(100.0 * cl->second / a->second, 1)
                    : off && lv == 0                          ? "100.0"
                                                              : "");
      // Context recovery on TX (§4.2): the record prefixes the NIC re-reads, as a share of a
      // PCIe gen3 x16 link (126 Gbps a direction) at the run's data rate.
      const double dump = double(ctr(r.client, "tx_tls_dump_bytes"));
      row.push_back(off && r.sim_seconds > 0
                        ? ExpTable::num(100.0 * dump * 8 / r.sim_seconds / 126e9, 3)
                        : "");
      row.push_back(r.verified ? "yes" : "NO: " + r.outcome);
      row.push_back("autonic run " + cmd);
      t.rows.push_back(std::move(row));
    }
  return t;
}

// The series of one mode: x = fault level, y = a column.
nlohmann::json series(const ExpTable& t, const std::string& mode, const std::string& ycol, const std::string& label,
                      const char* color) {
  nlohmann::json s{{"label", label}, {"kind", "ours"}, {"color", color}, {"x", nlohmann::json::array()},
                   {"y", nlohmann::json::array()}};
  for (size_t i = 0; i < t.rows.size(); ++i) {
    if (t.rows[i][t.col("mode")] != mode) continue;
    const auto y = t.value(i, ycol);
    if (!y) continue;
    s["x"].push_back(*t.value(i, t.columns[0]));
    s["y"].push_back(*y);
  }
  return s;
}

// An experiment's table (the sweep) and its plot's title and caption.
ExpResult begin(const ExpContext& c, const char* fault, const std::vector<double>& quick, const std::vector<double>& full,
                bool rx, const char* title) {
  ExpResult res;
  res.table = sweep(c, fault, c.quick ? quick : full, rx);
  res.plot = {{"title", title},
              {"caption", c.caption(std::string(rx ? "receiver" : "sender") + " stack cycles; one flow, records unaligned, GRO on")}};
  return res;
}

// The first panel of each: Gbps at one core of the three modes over the fault level.
nlohmann::json gbps_panel(const ExpTable& t, const char* xlabel, const char* who) {
  return {{"xlabel", xlabel}, {"ylabel", std::string("Gbps at one busy core (") + who + " stack)"}, {"ymin", 0},
          {"series", {series(t, "tcp", "gbps_one_core", "tcp", "tab:blue"),
                      series(t, "sw_tls", "gbps_one_core", "software TLS", "tab:orange"),
                      series(t, "offload", "gbps_one_core", "offload", "tab:green")}}};
}

nlohmann::json paper_series(const nlohmann::json& fig, const std::string& ycol, const std::string& label,
                            const char* color) {
  nlohmann::json s{{"label", label}, {"kind", "paper"}, {"color", color}, {"x", nlohmann::json::array()},
                   {"y", nlohmann::json::array()}};
  const auto& cols = fig.at("columns");
  size_t yi = 0;
  for (size_t i = 0; i < cols.size(); ++i)
    if (cols[i] == ycol) yi = i;
  for (const auto& r : fig.at("rows")) {
    s["x"].push_back(r[0]);
    s["y"].push_back(r[yi]);
  }
  return s;
}

// Our value of `col` for `mode` at fault level `lv` (NaN when not run).
double at(const ExpTable& t, const std::string& mode, double lv, const std::string& col) {
  return t.at(ExpTable::num(lv, 1), mode, col);
}

std::string f1(double v) { return std::isnan(v) ? "-" : ExpTable::num(v, 1); }
std::string f2(double v) { return std::isnan(v) ? "-" : ExpTable::num(v, 2); }

}  // namespace

ExpResult fig17(const ExpContext& c) {
  ExpResult res = begin(c, "loss", {0, 1, 2, 5}, {0, 0.5, 1, 2, 3, 4, 5}, true,
                        "Fig. 17: TLS receiver under random loss (16 KiB records)");
  const ExpTable& t = res.table;
  const nlohmann::json& p = c.paper.at("fig17");
  res.plot["panels"] = {
      {{"xlabel", "loss (%)"}, {"ylabel", "Gbps at one busy core (receiver stack)"}, {"ymin", 0},
       {"series", {series(t, "tcp", "gbps_one_core", "tcp", "tab:blue"), series(t, "sw_tls", "gbps_one_core", "software TLS", "tab:orange"),
                   series(t, "offload", "gbps_one_core", "offload", "tab:green"),
                   paper_series(p, "tcp_gbps", "paper tcp", "tab:blue"), paper_series(p, "sw_tls_gbps", "paper software TLS", "tab:orange"),
                   paper_series(p, "offload_gbps", "paper offload", "tab:green")}}},
      {{"xlabel", "loss (%)"}, {"ylabel", "records (%)"}, {"ymin", 0},
       {"series", {series(t, "offload", "records_full_pct", "fully offloaded", "tab:green"),
                   series(t, "offload_pkt", "records_full_pct", "fully offloaded, whole-packet marks", "tab:olive"),
                   series(t, "offload", "loss_limit_pct", "untouched by a lost frame (limit)", "tab:gray"),
                   series(t, "offload", "records_none_pct", "not offloaded", "tab:red"),
                   paper_series(p, "full_pct", "paper fully offloaded", "tab:green"),
                   paper_series(p, "none_pct", "paper not offloaded", "tab:red")}}}};
  std::string o = "Receiver of one TLS 1.3 flow (AES-128-GCM, 16 KiB records cut where the writes fall) under "
                  "random frame loss: throughput at one busy core from the receiver's stack cycles, and how its "
                  "records were handled.\n\n| loss % | ours full % | paper full % | ours offload / sw TLS | paper offload / sw TLS | ours offload / tcp | paper offload / tcp |\n|---|---|---|---|---|---|---|\n";
  for (const auto& r : p.at("rows")) {
    const double lv = r[0];
    const double of = at(t, "offload", lv, "gbps_one_core"), sw = at(t, "sw_tls", lv, "gbps_one_core"),
                 tc = at(t, "tcp", lv, "gbps_one_core");
    if (std::isnan(of)) continue;
    o += "| " + f1(lv) + " | " + f1(at(t, "offload", lv, "records_full_pct")) + " | " + f1(r[4]) + " | " + f2(of / sw) +
         " | " + f2(double(r[3]) / double(r[2])) + " | " + f2(of / tc) + " | " + f2(double(r[3]) / double(r[1])) + " |\n";
  }
  const double full5 = at(t, "offload", 5, "records_full_pct"), lim5 = at(t, "offload", 5, "loss_limit_pct");
  const double pkt5 = at(t, "offload_pkt", 5, "records_full_pct");
  const double tc0 = at(t, "tcp", 0, "gbps_one_core");
  o += "\nWhat differs and why (measured in this run):\n\n"
       "- **Records fully offloaded** stay at the loss limit (the share of records no lost frame touched, "
       "counted per run by the wire audit): at 5 % loss " + f1(full5) + " % full against a limit of " + f1(lim5) +
       " %. The paper's NIC marks whole packets, so the packet holding the next record's header went up "
       "unmarked and a loss cost two records (43.2 % at 5 %); ours offloads from a header inside a packet "
       "(issue #15). The same run with our NIC marking whole packets only (`--nic-marks packet`): " + f1(pkt5) +
       " % full at 5 %. At 0 % the paper's 64 connections missed NIC contexts (84.1 %); our one flow does not.\n"
       "- **Absolute Gbps** differ by more than 2x (plain TCP at 0 %: ours " + f1(tc0) + ", the paper's 16.45): "
       "ours count the receiving stack's cycles only -- the driver, lwIP's input with GRO and one copy into the "
       "application's buffer, measured at " + f2(at(t, "tcp", 0, "stack_cycles_per_byte")) + " cycles a byte -- "
       "while the paper's one core also ran Linux's interrupt path, socket layer, system calls and the "
       "application (the paper's figure is the whole core). The ratios between modes are the comparable figures.\n";
  res.report = o;
  return res;
}

ExpResult fig18(const ExpContext& c) {
  ExpResult res = begin(c, "reorder", {0, 2, 5}, {0, 1, 2, 3, 4, 5}, true,
                        "Fig. 18: TLS receiver under reordering (16 KiB records)");
  const ExpTable& t = res.table;
  const nlohmann::json& p = c.paper.at("fig18");
  res.plot["panels"] = {
      gbps_panel(t, "reordered frames (%)", "receiver"),
      {{"xlabel", "reordered frames (%)"}, {"ylabel", "records fully offloaded (%)"}, {"ymin", 0},
       {"series", {series(t, "offload", "records_full_pct", "ours", "tab:green"),
                   series(t, "offload_pkt", "records_full_pct", "ours, whole-packet marks", "tab:olive"),
                   paper_series(p, "full_pct", "paper (text: 24 % at 2 %, <= 2 % at 5 %)", "tab:green")}}}};
  const double f2p = at(t, "offload", 2, "records_full_pct"), f5p = at(t, "offload", 5, "records_full_pct");
  const double k2p = at(t, "offload_pkt", 2, "records_full_pct"), k5p = at(t, "offload_pkt", 5, "records_full_pct");
  const double gain2 = at(t, "offload", 2, "gbps_one_core") / at(t, "sw_tls", 2, "gbps_one_core");
  res.report = "Receiver of one TLS flow under reordering (frames held back so that later ones overtake them).\n\n"
               "| reorder % | ours full % | ours, whole-packet marks % | paper full % |\n|---|---|---|---|\n| 2 | " + f1(f2p) +
               " | " + f1(k2p) + " | 24 |\n| 5 | " + f1(f5p) + " | " + f1(k5p) +
               " | <= 2 |\n\nWhat differs and why (measured in this run): a reordered frame is a hole the NIC jumps over "
               "(Fig. 8b) and then a late packet it passes up unmarked; only the record it belongs to is lost to the "
               "offload, since the NIC offloads the next record from its header inside a packet (issue #15). The same "
               "runs with our NIC marking whole packets only (`--nic-marks packet`, as the paper's) lose the next record "
               "too: the column beside ours. What remains between that column and the paper's is how frames are reordered: "
               "ours holds a frame back for a few frame times, so later frames overtake it; netem's reorder (the paper's "
               "tool) sends the chosen frames at once while every other frame waits out the configured delay, so each "
               "reordered frame arrives ahead of all the frames sent before it within that delay, and the NIC leaves its "
               "position for it -- a different pattern, not modelled here. Offload over software TLS at 2 %: " + f2(gain2) + "x (paper: +9 % throughput).\n";
  return res;
}

ExpResult fig16(const ExpContext& c) {
  ExpResult res = begin(c, "loss", {0, 1, 5}, {0, 0.5, 1, 2, 3, 4, 5}, false,
                        "Fig. 16: TLS transmitter under random loss (16 KiB records)");
  const ExpTable& t = res.table;
  const nlohmann::json& p = c.paper.at("fig16");
  res.plot["panels"] = {
      gbps_panel(t, "loss (%)", "sender"),
      {{"xlabel", "loss (%)"}, {"ylabel", "context recovery DMA (% of PCIe gen3 x16)"}, {"ymin", 0},
       {"series", {series(t, "offload", "recovery_dma_pcie_pct", "ours", "tab:green"),
                   {{"label", "paper: at most 2.5 %"}, {"kind", "paper"}, {"color", "tab:gray"},
                    {"x", {0, 5}}, {"y", {double(p.at("recovery_pcie_share_max_pct")), double(p.at("recovery_pcie_share_max_pct"))}}}}}}};
  const double of5 = at(t, "offload", 5, "gbps_one_core"), sw5 = at(t, "sw_tls", 5, "gbps_one_core"),
               tc0 = at(t, "tcp", 0, "gbps_one_core"), of0 = at(t, "offload", 0, "gbps_one_core");
  res.report = "Sender of one TLS flow under random loss: retransmissions make the NIC rebuild its context from the "
               "L5P's message map (§4.2), re-reading the record's prefix over PCIe.\n\n"
               "| figure | ours | paper |\n|---|---|---|\n| offload / tcp at 0 % | " + f2(of0 / tc0) + " | >= " +
               f2(double(p.at("offload_of_tcp_min"))) + " |\n| offload / software TLS at 5 % | " + f2(of5 / sw5) + " | >= " +
               f2(double(p.at("offload_of_sw_tls_at_5pct_min"))) + " |\n| recovery DMA at 5 % (% of PCIe gen3 x16) | " +
               ExpTable::num(at(t, "offload", 5, "recovery_dma_pcie_pct"), 3) + " | <= 2.5 |\n\n"
               "What differs and why: our TLS offload sender still costs more host cycles than plain TCP (issue #12: "
               "the record layer's per-record work and its plaintext copy; `autonic bench tls`). Recovery DMA is the "
               "record prefix re-read per out-of-sequence packet, at the run's data rate on the simulated 100 Gbps wire.\n";
  return res;
}

}  // namespace autonic::cli
