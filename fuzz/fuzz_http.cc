// fuzz_http: what a hostile HTTP peer sends the file server's two ends (issue #14). Bytes in
// chunks, as a stream hands them over, to either
//   - the server's connection (apps::http::ServerConn over four files in memory): everything it
//     sends back must be well-formed responses -- a 200 whose body is exactly one of the files,
//     or a 400 / 404 with no body -- and nothing may be sent once it has shut the stream;
//   - a client connection that sent its GETs (apps::http::Client): a GET counts as done only with
//     a body of the file's length, bytes are checked against the file, and a failed connection
//     counts nothing more.
// Input: [mode byte: bit 0 = client side] then repeated [u16 length][bytes].
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "apps/file_source.h"
#include "apps/http.h"
#include "apps/pattern.h"
#include "common/clock.h"
#include "fuzz_util.h"
#include "support/fake_stream.h"

using namespace autonic;

namespace {

using testing::FakeStream;

apps::FileSet files() {
  apps::FileSet fs;
  fs.count = 4;
  fs.size = 4096;
  fs.ns_seed = 99;
  return fs;
}

ByteSpan span(const std::string& s) { return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

// The server's output, response by response.
void check_server_output(const std::string& out, const apps::FileSet& fs) {
  size_t pos = 0;
  while (pos < out.size()) {
    const std::string_view rest(out.data() + pos, out.size() - pos);
    const size_t end = rest.find("\r\n\r\n");
    FUZZ_CHECK(end != std::string_view::npos, "the server sent a response head without its end");
    const std::string_view head = rest.substr(0, end + 4);
    if (head.rfind("HTTP/1.1 200 ", 0) != 0) {
      FUZZ_CHECK(head.rfind("HTTP/1.1 400 ", 0) == 0 || head.rfind("HTTP/1.1 404 ", 0) == 0,
                 "the server sent a status other than 200 / 400 / 404");
      FUZZ_CHECK(head.find("Content-Length: 0\r\n") != std::string_view::npos, "an error response with a body");
      pos += head.size();
      continue;
    }
    size_t used = 0;
    uint64_t len = 0;
    std::string err;
    FUZZ_CHECK(apps::http::parse_response(span(std::string(head)), used, len, err) == apps::http::Parse::kDone,
               "the server's own 200 head does not parse");
    FUZZ_CHECK(len == fs.size && rest.size() >= head.size() + len, "a 200 without the whole file");
    const ByteSpan body(reinterpret_cast<const uint8_t*>(rest.data()) + head.size(), len);
    bool one_of = false;
    for (uint64_t f = 0; f < fs.count && !one_of; ++f) one_of = apps::pattern_mismatches(fs.ns_seed, fs.offset(f), body) == 0;
    FUZZ_CHECK(one_of, "a 200 body that is none of the files");
    pos += head.size() + len;
  }
}

void run_server(const std::vector<Bytes>& in) {
  const apps::FileSet fs = files();
  apps::CachedFiles src(fs);
  FakeStream s;
  apps::http::ServerConn conn(s, src, nullptr);
  s.set_handler(&conn);
  for (const Bytes& c : in) {
    conn.on_data(c);
    conn.on_writable();
  }
  FUZZ_CHECK(s.sent_after_shut == 0, "the server sent after shutting the stream");
  check_server_output(s.out, fs);
}

void run_client(const std::vector<Bytes>& in) {
  const apps::FileSet fs = files();
  VirtualClock clock;
  FakeStream s;
  apps::http::GetBudget b;
  b.conns = 1;
  b.left = 3;
  b.on_all_ready = [&] { b.go = true; };
  apps::http::Client cl(s, fs, b, 7, clock, nullptr);
  s.set_handler(&cl);
  cl.on_writable();
  for (const Bytes& c : in) {
    const bool failed_before = b.failure.has_value();
    const uint64_t done = b.done, bytes = b.body_bytes, wrong = b.wrong_bytes;
    cl.on_data(c);
    cl.on_writable();
    if (failed_before)
      FUZZ_CHECK(b.done == done && b.body_bytes == bytes && b.wrong_bytes == wrong, "a failed client counted more");
  }
  FUZZ_CHECK(b.done <= 3 && b.body_bytes <= (b.done + 1) * fs.size, "the client counted more than it asked for");
  FUZZ_CHECK(b.wrong_bytes <= b.body_bytes, "more wrong bytes than bytes");
  // Each GET it sent is a well-formed request for one of the files.
  size_t pos = 0, gets = 0;
  while (pos < s.out.size()) {
    size_t used = 0;
    uint64_t file = 0;
    std::string err;
    FUZZ_CHECK(apps::http::parse_request(span(s.out.substr(pos)), used, file, err) == apps::http::Parse::kDone &&
                   file < fs.count,
               "the client sent something other than a GET for a file");
    pos += used;
    ++gets;
  }
  FUZZ_CHECK(gets <= 3 && b.done <= gets, "a GET done that was never sent");
}

Bytes input(bool client, const std::vector<std::string>& parts) {
  std::vector<Bytes> b;
  for (const std::string& p : parts) b.emplace_back(p.begin(), p.end());
  return fuzz::join_chunks(uint8_t(client ? 1 : 0), b);
}

std::vector<fuzz::Seed> seeds() {
  const apps::FileSet fs = files();
  Bytes f0(fs.size);
  apps::pattern_fill(fs.ns_seed, fs.offset(splitmix64(7) % fs.count), f0);
  const std::string body(f0.begin(), f0.end()), ok = apps::http::response_head(fs.size);
  const std::string get1 = apps::http::request_head(1), get3 = apps::http::request_head(3);
  return {
      {"server-get", input(false, {get1})},
      {"server-pipelined-split", input(false, {get1 + get3.substr(0, 9), get3.substr(9)})},
      {"server-garbage", input(false, {"GET /files/1 HTTP/1.0\r\n\r\n", get1})},
      {"server-no-file", input(false, {apps::http::request_head(9)})},
      {"client-response", input(true, {ok.substr(0, 30), ok.substr(30) + body})},
      {"client-wrong-length", input(true, {apps::http::response_head(fs.size + 1)})},
      {"client-trailing", input(true, {ok + body + "HTTP/1.1 200 OK\r\n"})},
  };
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  fuzz::maybe_write_seeds(argc, argv, seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::vector<Bytes> in = fuzz::split_chunks(ByteSpan(data + 1, size - 1));
  if (data[0] & 1) run_client(in);
  else run_server(in);
  return 0;
}
