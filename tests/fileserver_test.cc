// The file server (issue #14): three hosts on a switch, each seeing only its own frames; every
// offload combination serves every byte right; the HTTP parsers refuse what a hostile peer sends;
// the switch forwards by MAC, drops what it cannot deliver and counts it.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "apps/http.h"
#include "apps/pattern.h"
#include "common/event_queue.h"
#include "support/fake_stream.h"
#include "test_util.h"
#include "testbed/fileserver.h"
#include "wire/sim_switch.h"

namespace autonic {
namespace {

using testbed::FileServerConfig;
using testbed::FileServerReport;
using S = FileServerConfig::Source;

FileServerConfig small(S src, bool https, const std::string& offloads) {
  FileServerConfig c;
  c.source = src;
  c.https = https;
  c.file_size = 16384;
  c.files = 16;
  c.conns = 4;
  c.requests = 48;
  testbed::parse_fileserver_offloads(offloads, c);
  return c;
}

std::string replay(const FileServerConfig& c) {
  static const char* kSrc[] = {"cache", "nvme", "nvme-tls"};
  return std::string("replay: autonic fileserver --source ") + kSrc[int(c.source)] + (c.https ? " --https" : "") +
         " --offload " + testbed::fileserver_offloads(c) + " --file-size 16K --files 16 --conns 4 --requests 48";
}

TEST(FileServer, ThreeHostsEachSeeOnlyTheirOwnFrames) {
  const FileServerConfig c = small(S::kNvme, true, "all");
  const FileServerReport r = testbed::run_fileserver_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
  enum { kClient, kWeb, kStorage };
  uint64_t in = 0, out = 0;
  for (size_t i = 0; i < 3; ++i) {
    const auto& s = r.stations[i];
    EXPECT_GT(s.rx_frames, 0u) << s.name << " " << replay(c);
    EXPECT_EQ(s.rx_foreign, 0u) << s.name << " received frames for another MAC; " << replay(c);
    EXPECT_EQ(s.rx_from[i], 0u) << s.name << " received its own frames back; " << replay(c);
    EXPECT_EQ(r.ports[i].drop_unknown_dst + r.ports[i].drop_queue_full, 0u) << replay(c);
    in += s.rx_frames;
    out += s.tx_frames;
  }
  EXPECT_EQ(in, out) << "every frame reaches exactly one station; " << replay(c);
  // Client and storage never talk: the client's frames go to the web server only, and so do the
  // storage's.
  EXPECT_EQ(r.stations[kClient].rx_from[kStorage], 0u) << replay(c);
  EXPECT_EQ(r.stations[kStorage].rx_from[kClient], 0u) << replay(c);
  EXPECT_EQ(r.stations[kClient].rx_from[kWeb], r.stations[kClient].rx_frames) << replay(c);
  EXPECT_EQ(r.stations[kStorage].rx_from[kWeb], r.stations[kStorage].rx_frames) << replay(c);
  EXPECT_GT(r.stations[kWeb].rx_from[kClient], 0u);
  EXPECT_GT(r.stations[kWeb].rx_from[kStorage], 0u);
  EXPECT_EQ(r.nvme_ios, c.requests) << "one NVMe read per GET; " << replay(c);
}

// Every combination the experiments use serves every body byte right, and the offloads it
// names ran (their counters moved).
TEST(FileServer, EveryOffloadCombinationServesTheFiles) {
  struct Case {
    S src;
    bool https;
    const char* off;
    const char* counter;  // a web server counter the offload must move ("" for none)
  } cases[] = {
      {S::kCache, false, "none", ""},
      {S::kCache, true, "none", ""},
      {S::kCache, true, "tls", "tx_tls_encrypted_bytes"},
      {S::kCache, true, "tls+zc", "tx_tls_zc_bytes"},
      {S::kNvme, false, "none", ""},
      {S::kNvme, false, "copy", "rx_nvme_tcp_setup"},
      {S::kNvme, false, "crc", "rx_nvme_tcp_crc_ok_packets"},
      {S::kNvme, true, "all", "rx_nvme_tcp_crc_ok_packets"},
      {S::kNvme, true, "all", "tx_tls_zc_bytes"},
      {S::kNvmeTls, false, "none", ""},
      {S::kNvmeTls, false, "storage-tls", "rx_tls_decrypted_bytes"},
      {S::kNvmeTls, true, "all", "rx_nvme_tcp_setup"},
      {S::kNvmeTls, true, "all", "rx_tls_decrypted_bytes"},
  };
  for (const Case& k : cases) {
    const FileServerConfig c = small(k.src, k.https, k.off);
    const FileServerReport r = testbed::run_fileserver_isolated(c);
    EXPECT_TRUE(r.verified) << r.outcome << " " << replay(c);
    EXPECT_EQ(r.wrong_bytes, 0u) << replay(c);
    EXPECT_EQ(r.body_bytes, uint64_t(c.requests) * c.file_size) << replay(c);
    if (*k.counter) {
      EXPECT_GT(testing::ctr(r.web, k.counter), 0u) << k.counter << " " << replay(c);
    }
    if (std::string(k.off) == "none") {
      EXPECT_EQ(testing::ctr(r.web, "tx_tls_encrypted_bytes"), 0u) << replay(c);
      EXPECT_EQ(testing::ctr(r.web, "rx_tls_decrypted_bytes"), 0u) << replay(c);
      EXPECT_EQ(testing::ctr(r.web, "rx_nvme_tcp_setup"), 0u) << replay(c);
    }
  }
}

TEST(FileServer, SameSeedSameFramesAndLossIsRecovered) {
  FileServerConfig c = small(S::kNvmeTls, true, "all");
  c.link.loss = 0.01;
  const FileServerReport a = testbed::run_fileserver_isolated(c), b = testbed::run_fileserver_isolated(c);
  ASSERT_TRUE(a.verified) << a.outcome << " " << replay(c) << " --loss 1%";
  EXPECT_GT(a.wire.dropped, 0u);
  EXPECT_EQ(a.trace_hash, b.trace_hash) << replay(c) << " --loss 1%";
  EXPECT_EQ(a.body_bytes, b.body_bytes);
}

TEST(FileServer, BadOptionsAreRefused) {
  FileServerConfig c = small(S::kCache, false, "none");
  c.off_copy = true;  // copy offload with files in memory
  EXPECT_THROW(testbed::validate_fileserver(c), std::invalid_argument);
  c = small(S::kCache, false, "none");
  c.off_tls = true;  // TLS offload without https
  EXPECT_THROW(testbed::validate_fileserver(c), std::invalid_argument);
  c = small(S::kNvmeTls, false, "none");
  c.off_copy = true;  // the NVMe engine over TLS needs the TLS context
  EXPECT_THROW(testbed::validate_fileserver(c), std::invalid_argument);
  c = small(S::kNvme, false, "none");
  EXPECT_NO_THROW(testbed::validate_fileserver(c));
  c.file_size = 5000;  // not a multiple of 4K
  EXPECT_THROW(testbed::validate_fileserver(c), std::invalid_argument);
  c.file_size = 4u << 20;  // more than one NVMe read
  EXPECT_THROW(testbed::validate_fileserver(c), std::invalid_argument);
  EXPECT_THROW(testbed::parse_fileserver_offloads("tls+bogus", c), std::invalid_argument);
}

ByteSpan span(const std::string& s) { return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

TEST(Http, RequestParserTakesOnlyWellFormedGets) {
  using apps::http::Parse;
  size_t used = 0;
  uint64_t file = 0;
  std::string err;
  const std::string ok = apps::http::request_head(42);
  EXPECT_EQ(apps::http::parse_request(span(ok), used, file, err), Parse::kDone);
  EXPECT_EQ(used, ok.size());
  EXPECT_EQ(file, 42u);
  EXPECT_EQ(apps::http::parse_request(span(ok.substr(0, ok.size() - 1)), used, file, err), Parse::kMore);
  for (const char* bad : {"POST /files/1 HTTP/1.1\r\n\r\n", "GET /files/ HTTP/1.1\r\n\r\n", "GET /files/-1 HTTP/1.1\r\n\r\n",
                          "GET /files/1x HTTP/1.1\r\n\r\n", "GET /files/99999999999999999999 HTTP/1.1\r\n\r\n",
                          "GET /files/1 HTTP/1.0\r\n\r\n", "GET /etc/passwd HTTP/1.1\r\n\r\n"})
    EXPECT_EQ(apps::http::parse_request(span(bad), used, file, err), Parse::kBad) << bad;
  const std::string endless = "GET /files/1 HTTP/1.1\r\nX: " + std::string(apps::http::kMaxHead, 'a');
  EXPECT_EQ(apps::http::parse_request(span(endless), used, file, err), Parse::kBad);
}

TEST(Http, ResponseParserNeedsStatus200AndOneContentLength) {
  using apps::http::Parse;
  size_t used = 0;
  uint64_t len = 0;
  std::string err;
  const std::string ok = apps::http::response_head(65536);
  EXPECT_EQ(apps::http::parse_response(span(ok), used, len, err), Parse::kDone);
  EXPECT_EQ(len, 65536u);
  EXPECT_EQ(used, ok.size());
  for (const char* bad : {"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1e9\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nContent\rLength: 5\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nContent-Length: 123456789012345678901\r\n\r\n"})
    EXPECT_EQ(apps::http::parse_response(span(bad), used, len, err), Parse::kBad) << bad;
  EXPECT_EQ(apps::http::parse_response(span("HTTP/1.1 200 OK\r\ncontent-length:  7 \r\n\r\n"), used, len, err), Parse::kDone);
  EXPECT_EQ(len, 7u);
}

using testing::FakeStream;

apps::FileSet tiny_files() {
  apps::FileSet fs;
  fs.count = 4;
  fs.size = 4096;
  fs.ns_seed = 77;
  return fs;
}

TEST(Http, ServerAnswersPipelinedGetsAndRefusesGarbage) {
  const apps::FileSet fs = tiny_files();
  apps::CachedFiles files(fs);
  {
    FakeStream s;
    apps::http::ServerConn conn(s, files, nullptr);
    s.set_handler(&conn);
    s.feed(apps::http::request_head(1) + apps::http::request_head(2).substr(0, 10));
    s.feed(apps::http::request_head(2).substr(10));
    EXPECT_EQ(conn.served, 2u);
    const std::string head = apps::http::response_head(fs.size);
    ASSERT_EQ(s.out.size(), 2 * (head.size() + fs.size));
    EXPECT_EQ(s.out.substr(0, head.size()), head);
    Bytes body(fs.size);
    apps::pattern_fill(fs.ns_seed, fs.offset(2), body);
    EXPECT_EQ(s.out.substr(2 * head.size() + fs.size), std::string(body.begin(), body.end()));
    EXPECT_FALSE(conn.failure);
  }
  {
    FakeStream s;
    apps::http::ServerConn conn(s, files, nullptr);
    s.set_handler(&conn);
    s.feed("GET /etc/passwd HTTP/1.1\r\n\r\n");
    EXPECT_EQ(s.out.rfind("HTTP/1.1 400 ", 0), 0u);
    EXPECT_TRUE(s.shut);
    EXPECT_TRUE(conn.failure);
    const size_t sent = s.out.size();
    s.feed(apps::http::request_head(1));  // nothing more once closing
    EXPECT_EQ(s.out.size(), sent);
    EXPECT_EQ(conn.served, 0u);
  }
  {
    FakeStream s;
    apps::http::ServerConn conn(s, files, nullptr);
    s.set_handler(&conn);
    s.feed(apps::http::request_head(9));  // no such file
    EXPECT_EQ(s.out.rfind("HTTP/1.1 404 ", 0), 0u);
    EXPECT_TRUE(conn.failure);
  }
  {
    FakeStream s;
    apps::http::ServerConn conn(s, files, nullptr);
    s.set_handler(&conn);
    s.feed(std::string(3 * apps::http::kMaxHead, 'A'));  // a flood, no head end in it
    EXPECT_TRUE(conn.failure);
    EXPECT_TRUE(s.shut);
  }
}

TEST(Http, ClientChecksWhatTheServerSends) {
  const apps::FileSet fs = tiny_files();
  VirtualClock clock;
  Bytes body(fs.size);
  auto run = [&](const std::function<void(FakeStream&, apps::http::GetBudget&)>& server) {
    FakeStream s;
    apps::http::GetBudget b;
    b.conns = 1;
    b.left = 1;
    b.on_all_ready = [&] { b.go = true; };
    apps::http::Client cl(s, fs, b, 5, clock, nullptr);
    s.set_handler(&cl);
    cl.on_writable();  // ready: the budget goes
    cl.on_writable();  // the GET
    server(s, b);
    return b;
  };
  auto file_of = [&](const std::string& req) {
    const uint64_t f = std::stoull(req.substr(11));
    apps::pattern_fill(fs.ns_seed, fs.offset(f), body);
    return std::string(body.begin(), body.end());
  };
  // A well-formed answer, its head cut in two: one GET done, no wrong byte.
  apps::http::GetBudget b = run([&](FakeStream& s, apps::http::GetBudget&) {
    const std::string r = apps::http::response_head(fs.size) + file_of(s.out);
    s.feed(r.substr(0, 20));
    s.feed(r.substr(20));
  });
  EXPECT_EQ(b.done, 1u);
  EXPECT_EQ(b.wrong_bytes, 0u);
  EXPECT_FALSE(b.failure);
  // A body with one byte changed is counted wrong.
  b = run([&](FakeStream& s, apps::http::GetBudget&) {
    std::string f = file_of(s.out);
    f[100] ^= 1;
    s.feed(apps::http::response_head(fs.size) + f);
  });
  EXPECT_EQ(b.wrong_bytes, 1u);
  // Bytes after the response fail the run and count nothing more.
  b = run([&](FakeStream& s, apps::http::GetBudget&) {
    s.feed(apps::http::response_head(fs.size) + file_of(s.out) + "extra");
    s.feed("more");
  });
  EXPECT_TRUE(b.failure);
  EXPECT_EQ(b.done, 1u);
  // A length that is not the file's, or a status that is not 200, fails.
  b = run([&](FakeStream& s, apps::http::GetBudget&) { s.feed(apps::http::response_head(fs.size + 1)); });
  EXPECT_TRUE(b.failure);
  b = run([&](FakeStream& s, apps::http::GetBudget&) { s.feed("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"); });
  EXPECT_TRUE(b.failure);
  EXPECT_EQ(b.done, 0u);
}

struct Sink : wire::FrameSink {
  std::vector<Bytes> got;
  void deliver(Bytes f) override { got.push_back(std::move(f)); }
};

Bytes frame_to(const wire::Mac& dst, size_t len) {
  Bytes f(len, 0);
  std::copy(dst.begin(), dst.end(), f.begin());
  return f;
}

TEST(SimSwitch, ForwardsByMacDropsUnknownAndOverfullQueues) {
  VirtualClock clock;
  EventQueue ev;
  wire::LinkConfig l;
  l.rate_gbps = 1;
  wire::SimSwitch sw(l, 1, clock, ev, /*queue_bytes=*/16000);
  Sink a, b, c;
  const wire::Mac ma{2, 0, 0, 0, 0, 1}, mb{2, 0, 0, 0, 0, 2}, mc{2, 0, 0, 0, 0, 3};
  const size_t pa = sw.add_port(ma, &a), pb = sw.add_port(mb, &b);
  sw.add_port(mc, &c);
  EXPECT_THROW(sw.add_port(ma, &c), std::invalid_argument);
  sw.uplink(pa).transmit(frame_to(mb, 100));
  sw.uplink(pa).transmit(frame_to(wire::Mac{2, 9, 9, 9, 9, 9}, 100));  // nobody's
  sw.uplink(pb).transmit(frame_to(wire::Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 60));
  while (!ev.empty()) {
    clock.advance_to(ev.next_time());
    ev.run_next();
  }
  ASSERT_EQ(b.got.size(), 1u);
  EXPECT_EQ(a.got.size(), 1u);  // the broadcast
  EXPECT_EQ(c.got.size(), 1u);  // the broadcast only
  EXPECT_EQ(sw.port(pa).drop_unknown_dst, 1u);
  // Two senders into one 1 Gbps port: its queue (16 KB) overflows and drops at the tail.
  for (int i = 0; i < 40; ++i) {
    sw.uplink(pa).transmit(frame_to(mc, 1500));
    sw.uplink(pb).transmit(frame_to(mc, 1500));
  }
  while (!ev.empty()) {
    clock.advance_to(ev.next_time());
    ev.run_next();
  }
  EXPECT_GT(sw.port(2).drop_queue_full, 0u);
  EXPECT_EQ(c.got.size() - 1 + sw.port(2).drop_queue_full, 80u);
}

}  // namespace
}  // namespace autonic
