// HTTP/1.1 for the file server experiments (issue #14; the paper's nginx and wrk, §6.3): a client
// that keeps one GET outstanding per connection and checks every body byte, and a server that
// answers GET /files/<n> from a FileSource. Only what RFC 9112 needs for that: a request line,
// header fields ending in an empty line, Content-Length framing. Every peer is hostile: heads are
// bounded (kMaxHead), numbers checked for overflow and range, anything else is a 400 and a close.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/file_source.h"
#include "common/clock.h"
#include "common/cpu_meter.h"
#include "l5p/stream.h"

namespace autonic::apps::http {

inline constexpr size_t kMaxHead = 8192;  // nginx's large_client_header_buffers: 8 KiB a line

enum class Parse : uint8_t { kMore, kDone, kBad };

// A request head at the start of `buf`: on kDone, `consumed` is its length and `file` the number
// in its target "/files/<n>"; on kBad, `err` says what was wrong.
Parse parse_request(ByteSpan buf, size_t& consumed, uint64_t& file, std::string& err);
// A response head: status 200 and a Content-Length (RFC 9112 §6.3) are required.
Parse parse_response(ByteSpan buf, size_t& consumed, uint64_t& content_length, std::string& err);
std::string request_head(uint64_t file);
std::string response_head(uint64_t content_length);

// Requests a run makes, shared by its client connections (wrk's connections take the next one).
// Requests start once every connection is up (wrk opens its connections first), so what a run
// measures from then on -- cycles, latency -- holds no handshake.
struct GetBudget {
  uint32_t conns = 0, ready = 0;
  bool go = false;
  std::function<void()> on_all_ready;  // called once, when the last connection becomes writable
  uint64_t left = 0, done = 0, body_bytes = 0, wrong_bytes = 0;
  Nanos latency_sum = 0;  // GET sent -> last body byte in, virtual time
  std::optional<std::string> failure;
};

// One client connection: GET a file (seeded choice), check its body against the file's content,
// repeat while the budget lasts.
class Client final : public l5p::StreamHandler {
 public:
  Client(l5p::Stream& s, const FileSet& files, GetBudget& budget, uint64_t seed, const Clock& clock,
         CpuMeter* meter);
  void on_data(ByteSpan d) override;
  void on_writable() override;
  void on_failed(const std::string& outcome) override;
  void on_eof() override;
  bool idle() const { return !waiting_; }

 private:
  void next_request();
  void fail(const std::string& why);
  l5p::Stream& s_;
  const FileSet& files_;
  GetBudget& budget_;
  uint64_t seed_, n_ = 0;
  const Clock& clock_;
  CpuMeter* meter_;
  std::string out_;  // request bytes not yet taken by the stream
  Bytes head_;
  bool waiting_ = false, in_body_ = false, counted_ready_ = false;
  bool dead_ = false;  // failed: nothing more is parsed, counted or sent on this connection
  uint64_t file_ = 0, body_off_ = 0, body_len_ = 0;
  Nanos t_sent_ = 0;
};

// One server connection: parse requests, fetch the file, send head and body (zero-copy when the
// stream can: TLS offload's zc mode, as nginx's sendfile).
class ServerConn final : public l5p::StreamHandler {
 public:
  ServerConn(l5p::Stream& s, FileSource& src, CpuMeter* meter);
  ~ServerConn() override;
  void on_data(ByteSpan d) override;
  void on_writable() override;
  void on_failed(const std::string& outcome) override { failure = outcome; }
  std::optional<std::string> failure;
  uint64_t served = 0, bad_requests = 0;

 private:
  void serve_next();
  void push();
  l5p::Stream& s_;
  FileSource& src_;
  CpuMeter* meter_;
  Bytes in_;
  enum class State : uint8_t { kIdle, kFetching, kSending } state_ = State::kIdle;
  bool closing_ = false;  // a 400 or an overrun: the stream is shut, nothing more is sent
  std::string head_;
  size_t head_off_ = 0;
  std::shared_ptr<const Bytes> body_;
  size_t body_off_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // fetches outliving the connection
};

}  // namespace autonic::apps::http
