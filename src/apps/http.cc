#include "apps/http.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

#include "apps/pattern.h"
#include "common/rng.h"

namespace autonic::apps::http {
namespace {

// The head ends at the first empty line (RFC 9112 §2.1); kMore until it is in, kBad if it
// would exceed kMaxHead.
Parse find_head(ByteSpan buf, size_t& head_len, std::string& err) {
  const std::string_view v(reinterpret_cast<const char*>(buf.data()), std::min(buf.size(), kMaxHead));
  const size_t end = v.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (buf.size() >= kMaxHead) {
      err = "head longer than 8 KiB";
      return Parse::kBad;
    }
    return Parse::kMore;
  }
  head_len = end + 4;
  return Parse::kDone;
}

// A decimal number of at most 19 digits (no sign, no spaces): RFC 9110 §8.6 Content-Length.
bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Field names compare case-insensitively (RFC 9110 §5.1): letters folded, nothing else.
char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c + ('a' - 'A')) : c; }
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}
// A field name is a token (RFC 9110 §5.1, §5.6.2): no controls, spaces or separators.
bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return c > 0x20 && c < 0x7f && std::string_view("\"(),/:;<=>?@[\\]{}").find(c) == std::string_view::npos;
  });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Parse parse_request(ByteSpan buf, size_t& consumed, uint64_t& file, std::string& err) {
  size_t len = 0;
  const Parse p = find_head(buf, len, err);
  if (p != Parse::kDone) return p;
  const std::string_view head(reinterpret_cast<const char*>(buf.data()), len);
  const std::string_view line = head.substr(0, head.find("\r\n"));
  constexpr std::string_view kPrefix = "GET /files/", kSuffix = " HTTP/1.1";
  if (line.size() <= kPrefix.size() + kSuffix.size() || line.substr(0, kPrefix.size()) != kPrefix ||
      line.substr(line.size() - kSuffix.size()) != kSuffix ||
      !parse_u64(line.substr(kPrefix.size(), line.size() - kPrefix.size() - kSuffix.size()), file)) {
    err = "bad request line";
    return Parse::kBad;
  }
  consumed = len;
  return Parse::kDone;
}

Parse parse_response(ByteSpan buf, size_t& consumed, uint64_t& content_length, std::string& err) {
  size_t len = 0;
  const Parse p = find_head(buf, len, err);
  if (p != Parse::kDone) return p;
  std::string_view head(reinterpret_cast<const char*>(buf.data()), len - 2);
  size_t eol = head.find("\r\n");
  if (head.substr(0, eol).substr(0, 13) != "HTTP/1.1 200 ") {
    err = "status not 200: " + std::string(head.substr(0, std::min<size_t>(eol, 40)));
    return Parse::kBad;
  }
  bool have_len = false;
  while (eol + 2 < head.size()) {
    head.remove_prefix(eol + 2);
    eol = head.find("\r\n");
    const std::string_view field = head.substr(0, eol);
    const size_t colon = field.find(':');
    if (colon == std::string_view::npos || !is_token(field.substr(0, colon))) {
      err = "malformed header field";
      return Parse::kBad;
    }
    if (!iequals(field.substr(0, colon), "content-length")) continue;
    uint64_t v = 0;
    if (!parse_u64(trim(field.substr(colon + 1)), v) || (have_len && v != content_length)) {
      err = "bad Content-Length";  // RFC 9112 §6.3: invalid or conflicting -> unrecoverable
      return Parse::kBad;
    }
    content_length = v;
    have_len = true;
  }
  if (!have_len) {
    err = "no Content-Length";
    return Parse::kBad;
  }
  consumed = len;
  return Parse::kDone;
}

std::string request_head(uint64_t file) {
  return "GET /files/" + std::to_string(file) + " HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent: autonic\r\n\r\n";
}

std::string response_head(uint64_t content_length) {
  return "HTTP/1.1 200 OK\r\nServer: autonic\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
         std::to_string(content_length) + "\r\n\r\n";
}

// ---- client ----

Client::Client(l5p::Stream& s, const FileSet& files, GetBudget& budget, uint64_t seed, const Clock& clock,
               CpuMeter* meter)
    : s_(s), files_(files), budget_(budget), seed_(seed), clock_(clock), meter_(meter) {}

void Client::fail(const std::string& why) {
  if (!budget_.failure) budget_.failure = why;
  dead_ = true;  // no further requests, and nothing more counted, on this connection
}

void Client::next_request() {
  if (dead_ || waiting_ || budget_.left == 0 || budget_.failure) return;
  --budget_.left;
  file_ = splitmix64(seed_ + n_++) % files_.count;
  out_ = request_head(file_);
  waiting_ = true;
  in_body_ = false;
  head_.clear();
  t_sent_ = clock_.now();
  on_writable();
}

void Client::on_writable() {
  if (!counted_ready_) {
    counted_ready_ = true;
    if (++budget_.ready == budget_.conns && budget_.on_all_ready) budget_.on_all_ready();
  }
  if (!budget_.go || dead_) return;
  if (!waiting_ && out_.empty()) return next_request();
  if (out_.empty()) return;
  const size_t n = s_.send(ByteSpan(reinterpret_cast<const uint8_t*>(out_.data()), out_.size()));
  out_.erase(0, n);
}

// The application's own work -- parsing, checking bodies -- is charged to the application;
// sending (the stack's) is not: on_writable runs outside these scopes.
void Client::on_data(ByteSpan d) {
  if (dead_) return;
  if (!waiting_) return fail("http: bytes from the server with no request outstanding");
  while (!d.empty() && waiting_ && !dead_) {
    if (!in_body_) {
      const size_t take = std::min(d.size(), kMaxHead - head_.size());
      head_.insert(head_.end(), d.begin(), d.begin() + take);
      size_t consumed = 0;
      std::string err;
      Parse p;
      {
        AppScope app(meter_);
        p = parse_response(head_, consumed, body_len_, err);
      }
      if (p == Parse::kBad) return fail("http: " + err);
      if (p == Parse::kMore) {
        d = d.subspan(take);
        if (!d.empty()) return fail("http: head longer than 8 KiB");
        return;
      }
      if (body_len_ != files_.size) return fail("http: Content-Length is not the file's size");
      d = d.subspan(take - (head_.size() - consumed));  // the rest of this chunk is body
      in_body_ = true;
      body_off_ = 0;
    }
    const size_t n = size_t(std::min<uint64_t>(d.size(), body_len_ - body_off_));
    {
      AppScope app(meter_);
      budget_.wrong_bytes += pattern_mismatches(files_.ns_seed, files_.offset(file_) + body_off_, d.first(n));
    }
    body_off_ += n;
    budget_.body_bytes += n;
    d = d.subspan(n);
    if (body_off_ == body_len_) {
      ++budget_.done;
      budget_.latency_sum += clock_.now() - t_sent_;
      waiting_ = false;
      if (!d.empty()) return fail("http: bytes after the response");
      next_request();
    }
  }
}

void Client::on_failed(const std::string& outcome) { fail(outcome); }

void Client::on_eof() {
  if (waiting_) fail("http: connection closed with a request outstanding");
}

// ---- server ----

ServerConn::ServerConn(l5p::Stream& s, FileSource& src, CpuMeter* meter) : s_(s), src_(src), meter_(meter) {}

ServerConn::~ServerConn() { *alive_ = false; }

void ServerConn::on_data(ByteSpan d) {
  if (closing_) return;
  if (in_.size() + d.size() > 2 * kMaxHead) {  // a client that does not wait for its answers
    ++bad_requests;
    failure = "http: client sent more than 16 KiB ahead";
    closing_ = true;
    s_.shutdown();
    return;
  }
  in_.insert(in_.end(), d.begin(), d.end());
  serve_next();
}

void ServerConn::serve_next() {
  if (state_ != State::kIdle || in_.empty() || failure) return;
  size_t consumed = 0;
  uint64_t file = 0;
  std::string err;
  Parse p;
  {
    AppScope app(meter_);
    p = parse_request(in_, consumed, file, err);
  }
  if (p == Parse::kMore) return;
  if (p == Parse::kBad) {
    ++bad_requests;
    failure = "http: " + err;
    head_ = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    head_off_ = 0;
    body_.reset();
    state_ = State::kSending;
    push();
    closing_ = true;  // after what the stream took of the 400 (RFC 9112 §9.6: close after it)
    s_.shutdown();
    return;
  }
  in_.erase(in_.begin(), in_.begin() + ptrdiff_t(consumed));
  state_ = State::kFetching;
  src_.fetch(file, [this, alive = alive_](std::shared_ptr<const Bytes> data, const std::string& ferr) {
    if (!*alive) return;  // the connection went while the file was read
    if (!data) {
      failure = "http: " + ferr;
      head_ = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    } else {
      head_ = response_head(data->size());
    }
    head_off_ = body_off_ = 0;
    body_ = std::move(data);
    state_ = State::kSending;
    push();
  });
}

// Head, then body: by reference when the stream sends zero-copy (the file's buffer is kept
// until acknowledged), else copied in by the stream.
void ServerConn::push() {
  // The head goes as its own write (more = false: a TLS record layer would otherwise hold a head
  // shorter than a record back for bytes to follow in the same call), as nginx writes its
  // header before sendfile.
  while (head_off_ < head_.size()) {
    const size_t n = s_.send(ByteSpan(reinterpret_cast<const uint8_t*>(head_.data()) + head_off_, head_.size() - head_off_));
    if (n == 0) return;
    head_off_ += n;
  }
  while (body_ && body_off_ < body_->size()) {
    const size_t len = body_->size() - body_off_;
    const size_t n = s_.supports_zc() ? s_.send_zc(body_, body_off_, len) : s_.send(ByteSpan(body_->data() + body_off_, len));
    if (n == 0) return;
    body_off_ += n;
  }
  state_ = State::kIdle;
  if (body_) ++served;
  body_.reset();
  serve_next();
}

void ServerConn::on_writable() {
  if (state_ == State::kSending && !closing_) push();
}

}  // namespace autonic::apps::http
